//! Service-hall figures per period and per department, region or item: 受理量, 办结量, 办结率,
//! 网办率, 即办件占比, 承诺时限压缩率, average handling time, overdue count and the 好差评
//! figures; exported to .xlsx and the monthly report to .docx.
//!
//! Definitions (the ones the bureau's work reports use):
//! - 受理量: cases accepted in the period; 办结量: cases closed with a result in the period.
//! - 办结率 = 办结量 / 受理量; 网办率 = accepted online / 受理量; 即办件占比 = accepted
//!   immediate items / 受理量.
//! - 承诺时限压缩率 = 1 − Σ promised days / Σ legal days over the accepted cases.
//! - 平均办理时长: from acceptance to 办结, measured as the case's time limit runs
//!   (`kernel::deadline`: office time for working days and hours, wall time for calendar days),
//!   minus the time paused for 补正 and 特别程序 — the time the department had the case — in days
//!   of that measure (a 7-hour office day, or 24 hours).
//! - 超期件: closed in the period after the deadline, plus running past the deadline at the end.
//! - 评价覆盖度 = closed cases of the period that have been rated (on their own number or their
//!   bundle application's, at any time up to the report) / 办结量 — cases, not ratings.
//! - 好评率 = 好评 / ratings received in the period, 好评 being 非常满意, 满意 and 基本满意 and
//!   差评 不满意 and 非常不满意: the bureau's reports give 好评 + 差评 = 评价数 (e.g. "收到评价
//!   56547条；收到好评56542条，好评率99.99%；收到差评5条"), so 基本满意 counts as 好评.
//! - 差评整改率 = 差评 of the period whose rectification is done / 差评 of the period.

use crate::domain::*;
use crate::service::ServicesService;
use kernel::calendar::{self, Calendar};
use kernel::deadline;
use kernel::error::{Error, Result};
use kernel::Actor;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    #[default]
    Dept,
    Region,
    Item,
    Total,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct ReportRow {
    pub key: String,
    pub label: String,
    pub accepted: i64,
    pub closed: i64,
    pub closed_rate: f64,
    pub online_rate: f64,
    pub immediate_share: f64,
    pub compression: f64,
    pub avg_handling_days: f64,
    pub overdue: i64,
    pub evaluations: i64,
    pub good_rate: f64,
    pub coverage: f64,
    pub bad: i64,
    pub rectified: i64,
    pub rectified_rate: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    pub from: i64,
    pub to: i64,
    pub period: String,
    pub group_by: GroupBy,
    pub rows: Vec<ReportRow>,
    pub total: ReportRow,
    pub feedback: i64,
    pub feedback_answered: i64,
}

fn ratio(a: i64, b: i64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

#[derive(Default)]
struct Acc {
    label: String,
    accepted: i64,
    closed: i64,
    online: i64,
    immediate: i64,
    promised: i64,
    legal: i64,
    /// Σ days each closed case ran (pauses excluded), in its own unit's days.
    handling_days: f64,
    overdue: i64,
    evaluations: i64,
    /// Closed cases of the period that have been rated.
    closed_rated: i64,
    good: i64,
    bad: i64,
    rectified: i64,
}

impl Acc {
    fn row(&self, key: String) -> ReportRow {
        ReportRow {
            key,
            label: self.label.clone(),
            accepted: self.accepted,
            closed: self.closed,
            closed_rate: ratio(self.closed, self.accepted),
            online_rate: ratio(self.online, self.accepted),
            immediate_share: ratio(self.immediate, self.accepted),
            compression: if self.legal == 0 {
                0.0
            } else {
                1.0 - ratio(self.promised, self.legal)
            },
            avg_handling_days: if self.closed == 0 {
                0.0
            } else {
                self.handling_days / self.closed as f64
            },
            overdue: self.overdue,
            evaluations: self.evaluations,
            good_rate: ratio(self.good, self.evaluations),
            coverage: ratio(self.closed_rated, self.closed),
            bad: self.bad,
            rectified: self.rectified,
            rectified_rate: ratio(self.rectified, self.bad),
        }
    }
}

/// Days a closed case ran between acceptance and 办结 without the time it stood paused (补正,
/// 特别程序), in the measure its time limit counts in.
fn handling_days(cal: &Calendar, c: &Case) -> f64 {
    let (Some(start), Some(end)) = (c.accepted_at, c.closed_at) else {
        return 0.0;
    };
    let mut paused = c.paused_minutes;
    if let Some(since) = c.paused_since {
        // Closed while paused (not reachable through `Case::apply` today): that pause too.
        paused += deadline::elapsed_minutes(cal, c.time_unit, since, end);
    }
    let ran = (deadline::elapsed_minutes(cal, c.time_unit, start, end) - paused).max(0);
    ran as f64 / deadline::minutes_per_day(cal, c.time_unit) as f64
}

/// Parses `2026-03` (a month) or `2026` (a year) into China-time [from, to).
pub fn period(s: &str) -> Result<(i64, i64)> {
    let bad = || {
        Error::field(
            "period",
            "invalid_period",
            "统计周期应为 2026-03（月）或 2026（年）",
        )
    };
    let start = |y: i32, m: u32| -> Result<i64> {
        let d = chrono::NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(bad)?;
        Ok(d.and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_local_timezone(kernel::clock::china())
            .single()
            .expect("fixed")
            .timestamp_millis())
    };
    let s = s.trim();
    if let Some((y, m)) = s.split_once('-') {
        let y: i32 = y.parse().map_err(|_| bad())?;
        let m: u32 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&m) {
            return Err(bad());
        }
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        Ok((start(y, m)?, start(ny, nm)?))
    } else {
        let y: i32 = s.parse().map_err(|_| bad())?;
        Ok((start(y, 1)?, start(y + 1, 1)?))
    }
}

/// A custom period from one day to another, both included (`2026-03-01`, `2026-03-15`), as
/// China-time [from, to) and its label.
pub fn custom_period(from: &str, to: &str) -> Result<(i64, i64, String)> {
    let day = |field: &'static str, label: &str, s: &str| {
        chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
            Error::field(
                field,
                "invalid_date",
                format!("{label}应为日期，如 2026-03-01"),
            )
        })
    };
    let a = day("from", "起始日期", from)?;
    let b = day("to", "截止日期", to)?;
    if b < a {
        return Err(Error::field(
            "to",
            "before_start",
            "截止日期不能早于起始日期",
        ));
    }
    if (b - a).num_days() > 366 {
        return Err(Error::field("to", "too_long", "统计周期最长一年"));
    }
    let ms = |d: chrono::NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_local_timezone(kernel::clock::china())
            .single()
            .expect("fixed")
            .timestamp_millis()
    };
    let end = b
        .succ_opt()
        .ok_or_else(|| Error::field("to", "invalid_date", "截止日期超出范围"))?;
    Ok((ms(a), ms(end), format!("{a} 至 {b}")))
}

impl ServicesService {
    /// The figures for a month (`2026-03`) or a year (`2026`), grouped.
    pub async fn report(
        &self,
        actor: &Actor,
        period_label: &str,
        group_by: GroupBy,
    ) -> Result<Report> {
        let (from, to) = period(period_label)?;
        self.report_between(actor, from, to, period_label, group_by)
            .await
    }

    /// The figures for [from, to), grouped; `period_label` names the period in the output.
    pub async fn report_between(
        &self,
        actor: &Actor,
        from: i64,
        to: i64,
        period_label: &str,
        group_by: GroupBy,
    ) -> Result<Report> {
        let (cases, evals, rated) = self.report_data(actor, from, to).await?;
        let (rects, feedback) = self.report_extras(from, to).await?;
        let cal: Calendar = calendar::load(self.db()).await?;
        let org = org::OrgService::new(self.db().clone(), Default::default());
        let mut dept_names: BTreeMap<i64, String> = BTreeMap::new();
        let mut dept_region: BTreeMap<i64, String> = BTreeMap::new();
        for c in &cases {
            dept_region.insert(c.dept_id, c.region_code.clone());
        }
        let mut ids: Vec<i64> = cases
            .iter()
            .map(|c| c.dept_id)
            .chain(evals.iter().map(|e| e.dept_id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut region_names: BTreeMap<String, String> = BTreeMap::new();
        for id in ids {
            if let Ok(d) = org.department(&Actor::system(), id).await {
                dept_region.insert(id, d.region_code.clone());
                region_names.insert(d.region_code.clone(), d.region_name.clone());
                dept_names.insert(id, d.name);
            }
        }
        let key_of = |dept: i64, item: i64, item_name: &str| -> (String, String) {
            match group_by {
                GroupBy::Dept => (
                    dept.to_string(),
                    dept_names
                        .get(&dept)
                        .cloned()
                        .unwrap_or_else(|| format!("部门 {dept}")),
                ),
                GroupBy::Region => {
                    let r = dept_region.get(&dept).cloned().unwrap_or_default();
                    (r.clone(), region_names.get(&r).cloned().unwrap_or(r))
                }
                GroupBy::Item => (item.to_string(), item_name.to_owned()),
                GroupBy::Total => ("total".into(), "合计".into()),
            }
        };
        let mut groups: BTreeMap<String, Acc> = BTreeMap::new();
        let mut total = Acc {
            label: "合计".into(),
            ..Default::default()
        };
        let mut item_names: BTreeMap<i64, String> = BTreeMap::new();
        for c in &cases {
            item_names.insert(c.item_id, c.item_name.clone());
        }
        let within = |t: Option<i64>| t.is_some_and(|t| t >= from && t < to);
        let as_of = to.min(self.db().now());
        for c in &cases {
            let (k, label) = key_of(c.dept_id, c.item_id, &c.item_name);
            for a in [groups.entry(k).or_default(), &mut total] {
                if a.label.is_empty() {
                    a.label = label.clone();
                }
                if within(c.accepted_at) {
                    a.accepted += 1;
                    a.online += i64::from(c.channel == Channel::Online);
                    a.immediate += i64::from(c.immediate);
                    a.promised += i64::from(c.promised_days);
                    a.legal += i64::from(c.legal_days);
                }
                let closed = within(c.closed_at) && c.decision.is_some();
                if closed {
                    a.closed += 1;
                    a.closed_rated += i64::from(rated.contains(&c.id));
                    a.handling_days += handling_days(&cal, c);
                }
                // Open past its deadline at the period's end — or now, for a running period,
                // whose end is still to come. A case paused now (补正, 特别程序) is not late.
                let open_at_end = c.accepted_at.is_some_and(|a| a < as_of)
                    && match c.closed_at {
                        Some(at) => at >= as_of,
                        None => c.status.is_open() && c.paused_since.is_none(),
                    };
                if (closed && c.overdue_at(to))
                    || (open_at_end && c.due_at.is_some_and(|d| d < as_of))
                {
                    a.overdue += 1;
                }
            }
        }
        for e in &evals {
            let name = item_names
                .get(&e.item_id)
                .cloned()
                .unwrap_or_else(|| format!("事项 {}", e.item_id));
            let (k, label) = key_of(e.dept_id, e.item_id, &name);
            let done = rects
                .iter()
                .any(|r| r.evaluation_id == e.id && r.status == RectificationStatus::Done);
            for a in [groups.entry(k).or_default(), &mut total] {
                if a.label.is_empty() {
                    a.label = label.clone();
                }
                a.evaluations += 1;
                a.good += i64::from(e.level.is_good());
                if e.level.is_bad() {
                    a.bad += 1;
                    a.rectified += i64::from(done);
                }
            }
        }
        let rows = if group_by == GroupBy::Total {
            vec![]
        } else {
            groups.iter().map(|(k, a)| a.row(k.clone())).collect()
        };
        Ok(Report {
            from,
            to,
            period: period_label.trim().into(),
            group_by,
            rows,
            total: total.row("total".into()),
            feedback: feedback.len() as i64,
            feedback_answered: feedback
                .iter()
                .filter(|f| f.status == FeedbackStatus::Answered)
                .count() as i64,
        })
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

const HEADERS: [&str; 14] = [
    "统计对象",
    "受理量",
    "办结量",
    "办结率",
    "网办率",
    "即办件占比",
    "承诺时限压缩率",
    "平均办理时长（天，不含补正和特别程序）",
    "超期件",
    "评价数",
    "好评率",
    "评价覆盖度",
    "差评数",
    "差评整改率",
];

fn cells(r: &ReportRow) -> Vec<tabular::Cell> {
    use tabular::Cell;
    vec![
        Cell::from(r.label.clone()),
        Cell::Int(r.accepted),
        Cell::Int(r.closed),
        Cell::from(pct(r.closed_rate)),
        Cell::from(pct(r.online_rate)),
        Cell::from(pct(r.immediate_share)),
        Cell::from(pct(r.compression)),
        Cell::Float((r.avg_handling_days * 10.0).round() / 10.0),
        Cell::Int(r.overdue),
        Cell::Int(r.evaluations),
        Cell::from(pct(r.good_rate)),
        Cell::from(pct(r.coverage)),
        Cell::Int(r.bad),
        Cell::from(pct(r.rectified_rate)),
    ]
}

/// The report as a workbook: one row per group and the total.
pub fn to_xlsx(r: &Report) -> Result<Vec<u8>> {
    let headers: Vec<String> = HEADERS.iter().map(|s| s.to_string()).collect();
    let mut rows: Vec<Vec<tabular::Cell>> = r.rows.iter().map(cells).collect();
    rows.push(cells(&r.total));
    tabular::write_xlsx(&[(&format!("{} 政务服务", r.period), &headers, &rows)])
        .map_err(Error::internal)
}

/// The monthly 政务服务运行情况 report for leaders.
pub fn to_docx(r: &Report, city: &str) -> Result<Vec<u8>> {
    let t = &r.total;
    let mut d = tabular::Doc::new(format!("{city}{}政务服务运行情况", r.period));
    d.heading(1, format!("{city}{}政务服务运行情况", r.period));
    d.heading(2, "一、总体情况");
    d.paragraph(format!(
        "本期共受理办件 {} 件，办结 {} 件，办结率 {}；网上办理占 {}，即办件占 {}；承诺时限较法定时限压缩 {}，平均办理时长 {:.1} 天（按各事项的计时方式，不含补正和特别程序时间）；超期 {} 件。",
        t.accepted, t.closed, pct(t.closed_rate), pct(t.online_rate), pct(t.immediate_share), pct(t.compression), t.avg_handling_days, t.overdue
    ));
    d.heading(2, "二、好差评");
    d.paragraph(format!(
        "收到评价 {} 条，评价覆盖度 {}，好评率 {}；差评 {} 条，已整改 {} 条，差评整改率 {}。",
        t.evaluations,
        pct(t.coverage),
        pct(t.good_rate),
        t.bad,
        t.rectified,
        pct(t.rectified_rate)
    ));
    d.heading(2, "三、办不成事反映");
    d.paragraph(format!(
        "收到“办不成事”反映 {} 件，已答复 {} 件。",
        r.feedback, r.feedback_answered
    ));
    if !r.rows.is_empty() {
        d.heading(2, "四、分部门情况");
        let rows: Vec<Vec<String>> = r
            .rows
            .iter()
            .map(|x| {
                vec![
                    x.label.clone(),
                    x.accepted.to_string(),
                    x.closed.to_string(),
                    pct(x.closed_rate),
                    pct(x.online_rate),
                    x.overdue.to_string(),
                    pct(x.good_rate),
                ]
            })
            .collect();
        d.table(
            &[
                "单位",
                "受理量",
                "办结量",
                "办结率",
                "网办率",
                "超期件",
                "好评率",
            ],
            &rows,
        );
    }
    d.to_bytes().map_err(Error::internal)
}
