//! The reports as documents: the KPI workbook, the monthly 运行情况 (.docx/.xlsx) and the weekly
//! 典型案例专报 (.docx), written with the `tabular` crate.

use super::domain::{ratio, Case, KpiRow, KpiTable, Kpis, Period, Replay, View};
use crate::domain::{CallbackResult, Status};
use crate::ticket::domain::TimelineEntry;
use kernel::clock::format_minute;
use kernel::error::{Error, Result};
use kernel::mask;
use kernel::period::{month_day, span};
use serde_json::Value;

/// The KPI table as an XLSX workbook: this period, the previous one, and the definitions.
pub fn kpis_xlsx(t: &KpiTable) -> Result<Vec<u8>> {
    let head = kpi_headers(&group_label(&t.by));
    let cur: Vec<Vec<tabular::Cell>> = t
        .rows
        .iter()
        .chain([&t.total])
        .map(|r| kpi_cells(&r.name, &r.kpis))
        .collect();
    let prev: Vec<Vec<tabular::Cell>> = t
        .rows
        .iter()
        .chain([&t.total])
        .map(|r| kpi_cells(&r.name, &r.previous))
        .collect();
    let (dh, dr) = definitions_sheet();
    let cur_name = format!("本期 {}", t.period);
    let prev_name = format!("上期 {}", t.previous_period);
    tabular::write_xlsx(&[
        (cur_name.as_str(), head.as_slice(), cur.as_slice()),
        (prev_name.as_str(), head.as_slice(), prev.as_slice()),
        ("指标口径", dh.as_slice(), dr.as_slice()),
    ])
    .map_err(Error::internal)
}

pub(super) fn group_label(by: &str) -> String {
    match by {
        "department" => "承办单位",
        "region" => "地区",
        "category" => "诉求分类",
        _ => "范围",
    }
    .into()
}

// ---------------------------------------------------------------------------------------------
// Text helpers
// ---------------------------------------------------------------------------------------------

pub(super) fn pct(r: Option<f64>) -> String {
    r.map_or("—".into(), |r| format!("{:.2}%", r * 100.0))
}

pub(super) fn hours(h: Option<f64>) -> String {
    h.map_or("—".into(), |h| format!("{h:.1}"))
}

/// 环比 of a count: `上升12.5%`, `下降3.0%`, `持平`, or `上期为0`.
pub(super) fn trend_count(cur: i64, prev: i64) -> String {
    if prev == 0 {
        return if cur == 0 { "持平" } else { "上期为0" }.into();
    }
    let r = (cur - prev) as f64 / prev as f64 * 100.0;
    if cur > prev {
        format!("上升{r:.1}%")
    } else if cur < prev {
        format!("下降{:.1}%", -r)
    } else {
        "持平".into()
    }
}

/// 环比 of a rate, in percentage points.
pub(super) fn trend_rate(cur: Option<f64>, prev: Option<f64>) -> String {
    match (cur, prev) {
        (Some(c), Some(p)) => {
            let d = ((c - p) * 10_000.0).round() / 100.0;
            if d > 0.0 {
                format!("提高{d:.2}个百分点")
            } else if d < 0.0 {
                format!("降低{:.2}个百分点", -d)
            } else {
                "持平".into()
            }
        }
        _ => "—".into(),
    }
}

/// `（环比提高1.00个百分点）`, or nothing when there is no trend to tell.
pub(super) fn in_brackets(trend: String) -> String {
    if trend == "—" {
        String::new()
    } else {
        format!("（环比{trend}）")
    }
}

pub(super) fn trend_hours(cur: Option<f64>, prev: Option<f64>) -> String {
    match (cur, prev) {
        (Some(c), Some(p)) if c > p => format!("增加{:.1}小时", c - p),
        (Some(c), Some(p)) if c < p => format!("减少{:.1}小时", p - c),
        (Some(_), Some(_)) => "持平".into(),
        _ => "—".into(),
    }
}

/// How a report's first sentence names what was received: the whole city's calls, or a
/// department's share of them.
pub(super) fn received_phrase(department: bool, city: &str) -> String {
    if department {
        "本单位相关的12345热线诉求共".into()
    } else {
        // "A市" → "全市", "B县" → "全县".
        let unit = city.chars().last().map_or("市".into(), |c| c.to_string());
        format!("全{unit}12345热线共受理群众诉求")
    }
}

pub(super) fn status_label(s: &str) -> String {
    Status::parse(s).map_or_else(|| s.to_owned(), |s| s.label().to_owned())
}

pub(super) fn overdue_text(minutes: i64, per_day: i64) -> String {
    if minutes >= per_day && per_day > 0 {
        format!("{:.1}个工作日", minutes as f64 / per_day as f64)
    } else if minutes >= 60 {
        format!("{:.1}个工作小时", minutes as f64 / 60.0)
    } else {
        // Past the deadline after office hours: overdue, but not yet by a working hour.
        "不足1个工作小时".into()
    }
}

pub(super) fn clip(s: &str, n: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}……", s.chars().take(n).collect::<String>())
    }
}

pub(super) fn cn_number(n: usize) -> String {
    const D: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => D[n].into(),
        10 => "十".into(),
        11..=19 => format!("十{}", D[n - 10]),
        20..=99 => match n % 10 {
            0 => format!("{}十", D[n / 10]),
            ones => format!("{}十{}", D[n / 10], D[ones]),
        },
        _ => n.to_string(),
    }
}

pub(super) const KPI_DEFINITIONS: &[(&str, &str)] = &[
    ("受理量", "统计期内登记的工单数（导入的历史工单按原登记时间计入；拆分产生的子工单不重复计入）。"),
    ("即时解答率", "统计期内即时解答的工单数 ÷ 统计期内受理的工单数。"),
    ("派单准确率", "1 − 统计期内退单次数 ÷ 统计期内派单次数（重办不计为派单），最低为 0。"),
    ("按时签收率", "统计期内在签收时限内签收的次数 ÷ 统计期内签收次数；签收时限为派单或重办时确定的时限。"),
    ("按时办结率", "统计期内在答复时限内答复的次数 ÷ 统计期内答复次数；答复时限以答复时有效的时限为准（含已批准的延期和等待市民补充材料的挂起时间）。"),
    ("回复率", "答复时限（答复时或统计期末有效的时限）落在统计期内的办理中，截至统计期末已答复的比例；已退单或被合并的不计入。"),
    ("回访满意率", "统计期内回访及市民评价结果为满意、基本满意的次数 ÷ 有结果（满意、基本满意、不满意）的次数，未接通不计入。"),
    ("重办率", "统计期内的答复中，在期末前被重办的 ÷ 统计期内答复次数（不超过 100%）；重办计入原答复单位，重办件次另列。"),
    ("平均办理时长", "统计期内各次答复自派单（或重办）起至答复止的工作时长平均值，按法定工作日和办公时间计算，单位为工作小时。"),
    ("超期未办结", "统计期末尚未答复、且答复时限已过的办理数（不论超期多久）。"),
    ("期末在办", "统计期末尚未办结、归档、合并或拆分的工单数。"),
    ("分组口径", "按承办单位：事件发生时持有工单的单位（受理、即时解答等尚未派单的事件计入工单的主办单位，无主办单位的计为“未派单”）；按地区：工单所在地行政区划；按分类：工单的一级分类。"),
    ("环比", "与上一个同样长度的统计期比较：月比上月，周比上周，日期区间比紧邻其前的同样天数。"),
];

pub(super) fn definitions_sheet() -> (Vec<String>, Vec<Vec<tabular::Cell>>) {
    (
        vec!["指标".into(), "口径".into()],
        KPI_DEFINITIONS
            .iter()
            .map(|(k, v)| vec![(*k).into(), (*v).into()])
            .collect(),
    )
}

pub(super) fn kpi_headers(first: &str) -> Vec<String> {
    [
        first,
        "受理量",
        "已受理",
        "即时解答",
        "即时解答率(%)",
        "派单",
        "退单",
        "派单准确率(%)",
        "签收",
        "按时签收",
        "按时签收率(%)",
        "答复",
        "按时答复",
        "按时办结率(%)",
        "应答复",
        "已答复",
        "回复率(%)",
        "满意",
        "基本满意",
        "不满意",
        "未接通",
        "回访满意率(%)",
        "重办",
        "重办率(%)",
        "平均办理时长(工作小时)",
        "督办",
        "超期未办结",
        "期末在办",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

pub(super) fn kpi_cells(name: &str, k: &Kpis) -> Vec<tabular::Cell> {
    use tabular::Cell;
    // Percentages as numbers so that Excel can sort and chart them.
    let p = |r: Option<f64>| r.map_or(Cell::Empty, |r| Cell::Float((r * 10_000.0).round() / 100.0));
    vec![
        name.into(),
        k.received.into(),
        k.accepted.into(),
        k.answered_now.into(),
        p(k.answered_now_rate),
        k.dispatched.into(),
        k.returned.into(),
        p(k.dispatch_accuracy),
        k.acknowledged.into(),
        k.acknowledged_on_time.into(),
        p(k.ack_on_time_rate),
        k.replied.into(),
        k.replied_on_time.into(),
        p(k.on_time_rate),
        k.due.into(),
        k.due_replied.into(),
        p(k.reply_rate),
        k.satisfied.into(),
        k.basically_satisfied.into(),
        k.unsatisfied.into(),
        k.unreached.into(),
        p(k.satisfaction_rate),
        k.reopened.into(),
        p(k.reopen_rate),
        k.avg_handling_hours.into(),
        k.supervised.into(),
        k.overdue_open.into(),
        k.open_at_end.into(),
    ]
}

// ---------------------------------------------------------------------------------------------
// The monthly 运行情况 report
// ---------------------------------------------------------------------------------------------

pub(super) struct Monthly {
    pub(super) city: String,
    pub(super) period: Period,
    pub(super) scope: String,
    pub(super) total: KpiRow,
    pub(super) by_dept: KpiTable,
    pub(super) by_category: KpiTable,
    pub(super) by_region: KpiTable,
    pub(super) overdue: Vec<ListRow>,
    pub(super) reopened: Vec<ListRow>,
    /// 热点问题 of the period (see `crate::search::hotspots`).
    pub(super) hotspots: Vec<crate::search::hotspots::DbHotspot>,
    /// 智能派单 figures (city or region views only).
    pub(super) dispatch: Option<DispatchFigures>,
}

/// Automatic dispatch and agreement with suggestions in the period (see `intel::dispatch`).
pub(super) struct DispatchFigures {
    pub(super) dispatched: i64,
    pub(super) auto: i64,
    pub(super) auto_returned: i64,
    pub(super) with_suggestion: i64,
    pub(super) agreed: i64,
}

impl DispatchFigures {
    pub(super) fn rows(&self) -> Vec<Vec<String>> {
        vec![
            vec!["首次派单（件）".into(), self.dispatched.to_string()],
            vec!["自动派单（件）".into(), self.auto.to_string()],
            vec!["自动派单率".into(), pct(ratio(self.auto, self.dispatched))],
            vec![
                "自动派单被退回（件）".into(),
                self.auto_returned.to_string(),
            ],
            vec![
                "自动派单准确率（未被退回）".into(),
                pct(ratio(self.auto - self.auto_returned, self.auto)),
            ],
            vec![
                "人工派单采纳建议率".into(),
                pct(ratio(self.agreed, self.with_suggestion)),
            ],
        ]
    }
}

/// A ticket line of the overdue and reopened lists, ready to print.
pub(super) struct ListRow {
    pub(super) number: String,
    pub(super) title: String,
    pub(super) dept: String,
    pub(super) a: String,
    pub(super) b: String,
    pub(super) c: String,
}

/// Lists in the Word report stop here; the workbook has them all.
pub(super) const DOCX_LIST_LIMIT: usize = 100;

impl Monthly {
    pub(super) fn headline(&self) -> Vec<Vec<String>> {
        let (k, p) = (&self.total.kpis, &self.total.previous);
        let count = |name: &str, c: i64, q: i64| {
            vec![name.into(), c.to_string(), q.to_string(), trend_count(c, q)]
        };
        let rate = |name: &str, c: Option<f64>, q: Option<f64>| {
            vec![name.into(), pct(c), pct(q), trend_rate(c, q)]
        };
        vec![
            count("受理量（件）", k.received, p.received),
            count("即时解答（件）", k.answered_now, p.answered_now),
            rate("即时解答率", k.answered_now_rate, p.answered_now_rate),
            count("派单（件次）", k.dispatched, p.dispatched),
            count("退单（件次）", k.returned, p.returned),
            rate("派单准确率", k.dispatch_accuracy, p.dispatch_accuracy),
            rate("按时签收率", k.ack_on_time_rate, p.ack_on_time_rate),
            count("答复（件次）", k.replied, p.replied),
            rate("按时办结率", k.on_time_rate, p.on_time_rate),
            rate("回复率", k.reply_rate, p.reply_rate),
            count("回访有效结果（件次）", k.rated(), p.rated()),
            rate("回访满意率", k.satisfaction_rate, p.satisfaction_rate),
            count("重办（件次）", k.reopened, p.reopened),
            rate("重办率", k.reopen_rate, p.reopen_rate),
            vec![
                "平均办理时长（工作小时）".into(),
                hours(k.avg_handling_hours),
                hours(p.avg_handling_hours),
                trend_hours(k.avg_handling_hours, p.avg_handling_hours),
            ],
            count("期末超期未办结（件）", k.overdue_open, p.overdue_open),
            count("期末在办（件）", k.open_at_end, p.open_at_end),
        ]
    }

    pub(super) fn summary(&self) -> String {
        let (k, p) = (&self.total.kpis, &self.total.previous);
        let u = self.period.unit();
        format!(
            "{label}，{whole}{received}件，环比{t_received}。其中即时解答{answered}件，即时解答率{answered_rate}；派单{dispatched}件次，退单{returned}件次，派单准确率{accuracy}；承办单位签收{ack}件次，按时签收率{ack_rate}；答复{replied}件次，按时办结率{on_time}{t_on_time}，回复率{reply_rate}；回访取得有效结果{rated}件次（另有未接通{unreached}件次），回访满意率{sat}{t_sat}；重办{reopened}件次，重办率{reopen_rate}；平均办理时长{avg}个工作小时。截至{end}，超期未办结{overdue}件，在办{open}件。上{u}（{prev}）受理{p_received}件。",
            label = self.period.label(),
            whole = received_phrase(self.scope == "本单位", &self.city),
            received = k.received,
            t_received = trend_count(k.received, p.received),
            answered = k.answered_now,
            answered_rate = pct(k.answered_now_rate),
            dispatched = k.dispatched,
            returned = k.returned,
            accuracy = pct(k.dispatch_accuracy),
            ack = k.acknowledged,
            ack_rate = pct(k.ack_on_time_rate),
            replied = k.replied,
            on_time = pct(k.on_time_rate),
            t_on_time = in_brackets(trend_rate(k.on_time_rate, p.on_time_rate)),
            reply_rate = pct(k.reply_rate),
            rated = k.rated(),
            unreached = k.unreached,
            sat = pct(k.satisfaction_rate),
            t_sat = in_brackets(trend_rate(k.satisfaction_rate, p.satisfaction_rate)),
            reopened = k.reopened,
            reopen_rate = pct(k.reopen_rate),
            avg = hours(k.avg_handling_hours),
            end = month_day(self.period.last_day(), false),
            overdue = k.overdue_open,
            open = k.open_at_end,
            prev = self.period.previous().label(),
            p_received = p.received,
        )
    }

    /// The department rows (and the total) through `f`.
    pub(super) fn dept_rows(&self, f: impl Fn(&KpiRow) -> Vec<String>) -> Vec<Vec<String>> {
        // The tickets never dispatched have nothing to show in these tables: left out.
        self.by_dept
            .rows
            .iter()
            .filter(|r| r.key != "none")
            .chain([&self.by_dept.total])
            .map(f)
            .collect()
    }

    pub(super) fn share_rows(&self, t: &KpiTable) -> Vec<Vec<String>> {
        let all = self.total.kpis.received;
        t.rows
            .iter()
            .filter(|r| r.kpis.received > 0 || r.previous.received > 0 || r.kpis.replied > 0)
            .chain([&t.total])
            .map(|r| {
                let k = &r.kpis;
                vec![
                    r.name.clone(),
                    k.received.to_string(),
                    pct(ratio(k.received, all)),
                    trend_count(k.received, r.previous.received),
                    pct(k.on_time_rate),
                    pct(k.satisfaction_rate),
                    k.overdue_open.to_string(),
                ]
            })
            .collect()
    }

    pub(super) fn list(rows: &[ListRow], limit: usize) -> Vec<Vec<String>> {
        rows.iter()
            .take(limit)
            .enumerate()
            .map(|(i, r)| {
                vec![
                    (i + 1).to_string(),
                    r.number.clone(),
                    clip(&r.title, 40),
                    r.dept.clone(),
                    r.a.clone(),
                    r.b.clone(),
                    r.c.clone(),
                ]
            })
            .collect()
    }

    pub(super) fn title(&self) -> String {
        format!(
            "{}12345政务服务便民热线运行情况\n（{}）",
            self.city,
            self.period.title_label()
        )
    }

    pub(super) fn docx(&self) -> Result<Vec<u8>> {
        let u = self.period.unit();
        let prev = self.period.previous();
        let mut doc = tabular::Doc::new(self.title());
        doc.cover(
            format!("{}12345政务服务便民热线", self.city),
            format!("统计期：{}", self.period.title_label()),
        );
        doc.paragraph(format!(
            "统计范围：{}（北京时间），{}工单；环比为与上{}（{}）比较。数据取自工单办理记录，跨期工单按各环节实际发生时间分别计入所在统计期。",
            span(self.period.first_day(), self.period.last_day(), true),
            if self.scope == "本单位" { "本单位承办的" } else { "全部" },
            u,
            prev.label()
        ));
        doc.heading(1, "一、总体情况")
            .paragraph(self.summary())
            .caption("主要指标")
            .table(
                &["指标", &format!("本{u}"), &format!("上{u}"), "环比"],
                &self.headline(),
            );

        doc.heading(1, "二、各承办单位办理情况");
        if self.by_dept.rows.is_empty() {
            doc.paragraph(format!("本{u}无派单及办理记录。"));
        } else {
            doc.paragraph(
                "按办理事件发生时持有工单的单位统计；合计含热线直接办理、尚未派单的工单。",
            )
            .caption("各承办单位办理量")
            .table(
                // Line breaks keep the headers as narrow as the figures below them.
                &[
                    "承办单位",
                    "派单",
                    "退单",
                    "签收",
                    "答复",
                    "重办",
                    "督办",
                    "超期\n未办结",
                    "平均办理时长\n（工作小时）",
                ],
                &self.dept_rows(|r| {
                    let k = &r.kpis;
                    vec![
                        r.name.clone(),
                        k.dispatched.to_string(),
                        k.returned.to_string(),
                        k.acknowledged.to_string(),
                        k.replied.to_string(),
                        k.reopened.to_string(),
                        k.supervised.to_string(),
                        k.overdue_open.to_string(),
                        hours(k.avg_handling_hours),
                    ]
                }),
            )
            .caption("各承办单位办理质量")
            .table(
                &[
                    "承办单位",
                    "派单\n准确率",
                    "按时\n签收率",
                    "按时\n办结率",
                    "回复率",
                    "回访\n满意率",
                    "重办率",
                ],
                &self.dept_rows(|r| {
                    let k = &r.kpis;
                    vec![
                        r.name.clone(),
                        pct(k.dispatch_accuracy),
                        pct(k.ack_on_time_rate),
                        pct(k.on_time_rate),
                        pct(k.reply_rate),
                        pct(k.satisfaction_rate),
                        pct(k.reopen_rate),
                    ]
                }),
            );
        }

        let share_head = [
            "",
            "受理量",
            "占比",
            "环比",
            "按时\n办结率",
            "回访\n满意率",
            "超期\n未办结",
        ];
        doc.heading(1, "三、诉求分类情况");
        let mut head = share_head;
        head[0] = "一级分类";
        doc.caption("诉求分类")
            .table(&head, &self.share_rows(&self.by_category));
        doc.heading(1, "四、各地区诉求情况");
        head[0] = "县（市、区）";
        doc.caption("各地区诉求")
            .table(&head, &self.share_rows(&self.by_region));

        doc.heading(1, "五、超期未办结工单");
        if self.overdue.is_empty() {
            doc.paragraph(format!(
                "截至{}，无超期未办结工单。",
                month_day(self.period.last_day(), false)
            ));
        } else {
            doc.paragraph(format!(
                "截至{}，超期未办结工单{}件，请相关承办单位抓紧办理并说明超期原因：{}",
                month_day(self.period.last_day(), false),
                self.overdue.len(),
                if self.overdue.len() > DOCX_LIST_LIMIT {
                    format!("（以下列出超期最久的{DOCX_LIST_LIMIT}件，完整清单见 .xlsx 表格）")
                } else {
                    String::new()
                }
            ))
            .table(
                &[
                    "序号",
                    "工单编号",
                    "诉求标题",
                    "承办单位",
                    "答复时限",
                    "已超期",
                    "期末\n状态",
                ],
                &Self::list(&self.overdue, DOCX_LIST_LIMIT),
            );
        }

        doc.heading(1, "六、重办工单");
        if self.reopened.is_empty() {
            doc.paragraph(format!("本{u}无重办工单。"));
        } else {
            doc.paragraph(format!(
                "本{u}重办工单{}件，共重办{}次：",
                self.reopened.len(),
                self.total.kpis.reopened
            ))
            .table(
                &[
                    "序号",
                    "工单编号",
                    "诉求标题",
                    "原答复\n单位",
                    "重办\n次数",
                    "重办原因",
                    "期末\n状态",
                ],
                &Self::list(&self.reopened, DOCX_LIST_LIMIT),
            );
        }
        self.hotspot_section(&mut doc);
        if let Some(f) = &self.dispatch {
            doc.heading(1, "八、智能派单");
            doc.paragraph(format!(
                "本{u}首次派单{}件，其中按派单建议自动派单{}件，被承办单位退回{}件；人工派单中有派单建议的{}件，采纳建议{}件。",
                f.dispatched, f.auto, f.auto_returned, f.with_suggestion, f.agreed
            ))
            .table(&["指标", &format!("本{u}")], &f.rows());
        }
        doc.heading(1, "附：指标口径");
        for (k, v) in KPI_DEFINITIONS {
            doc.bullet(format!("{k}：{v}"));
        }
        doc.to_bytes().map_err(Error::internal)
    }

    /// 七、热点问题: the period's hot issues by heat (same-issue tickets clustered by topic
    /// and place; heat from callers, volume, recency and growth).
    pub(super) fn hotspot_section(&self, doc: &mut tabular::Doc) {
        let u = self.period.unit();
        doc.heading(1, "七、热点问题");
        if self.hotspots.is_empty() {
            doc.paragraph(format!("本{u}未发现多人反映的热点问题。"));
            return;
        }
        doc.paragraph(format!(
            "按诉求内容与发生地点聚类，热度综合来电人数、工单量、时间远近与增长情况。本{u}热度最高的{}个问题：",
            self.hotspots.len()
        ))
        .table(
            &["序号", "热点问题", "地点", "工单数", "来电人数", "时间范围", "热度"],
            &self
                .hotspots
                .iter()
                .map(|h| {
                    vec![
                        h.rank.to_string(),
                        clip(&h.title, 40),
                        if h.place.is_empty() { "—".into() } else { h.place.clone() },
                        h.ticket_ids.len().to_string(),
                        h.callers.to_string(),
                        format!(
                            "{}至{}",
                            h.time_from.get(5..10).unwrap_or(&h.time_from),
                            h.time_to.get(5..10).unwrap_or(&h.time_to)
                        ),
                        format!("{:.1}", h.heat),
                    ]
                })
                .collect::<Vec<_>>(),
        );
    }

    pub(super) fn xlsx(&self) -> Result<Vec<u8>> {
        use tabular::Cell;
        let u = self.period.unit();
        let text = |rows: Vec<Vec<String>>| -> Vec<Vec<Cell>> {
            rows.into_iter()
                .map(|r| r.into_iter().map(Cell::from).collect())
                .collect()
        };
        let head_h: Vec<String> = ["指标", &format!("本{u}"), &format!("上{u}"), "环比"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let headline = text(self.headline());
        let table = |t: &KpiTable| -> Vec<Vec<Cell>> {
            t.rows
                .iter()
                .chain([&t.total])
                .map(|r| kpi_cells(&r.name, &r.kpis))
                .collect()
        };
        let (hd, hc, hr) = (
            kpi_headers("承办单位"),
            kpi_headers("一级分类"),
            kpi_headers("县（市、区）"),
        );
        let (d, c, r) = (
            table(&self.by_dept),
            table(&self.by_category),
            table(&self.by_region),
        );
        let list_head = |a: &str, b: &str, c: &str| -> Vec<String> {
            ["序号", "工单编号", "诉求标题", "承办单位", a, b, c]
                .iter()
                .map(|s| s.to_string())
                .collect()
        };
        let ho = list_head("答复时限", "已超期", "期末状态");
        let hre = list_head("重办次数", "重办原因", "期末状态");
        let o = text(Self::list(&self.overdue, usize::MAX));
        let re = text(Self::list(&self.reopened, usize::MAX));
        let (dh, dr) = definitions_sheet();
        let hdisp: Vec<String> = vec!["指标".into(), format!("本{u}")];
        let disp = text(self.dispatch.as_ref().map(|f| f.rows()).unwrap_or_default());
        tabular::write_xlsx(&[
            ("总体情况", head_h.as_slice(), headline.as_slice()),
            ("按承办单位", hd.as_slice(), d.as_slice()),
            ("按分类", hc.as_slice(), c.as_slice()),
            ("按地区", hr.as_slice(), r.as_slice()),
            ("超期未办结", ho.as_slice(), o.as_slice()),
            ("重办工单", hre.as_slice(), re.as_slice()),
            ("智能派单", hdisp.as_slice(), disp.as_slice()),
            ("指标口径", dh.as_slice(), dr.as_slice()),
        ])
        .map_err(Error::internal)
    }
}

pub(super) fn action_label(e: &TimelineEntry) -> String {
    let result = || {
        e.data
            .get("result")
            .and_then(Value::as_str)
            .and_then(CallbackResult::parse)
            .map_or(String::new(), |r| format!("（{}）", r.label()))
    };
    match e.action.as_str() {
        "create" => "登记".into(),
        "accept" => "受理".into(),
        "answer_now" => "即时解答".into(),
        "submit_for_dispatch" => "转派单".into(),
        "dispatch" => "派单".into(),
        "recall" => "撤回派单".into(),
        "acknowledge" => "签收".into(),
        "start" => "开始办理".into(),
        "return" => "退单".into(),
        "request_extension" => "申请延期".into(),
        "decide_extension" if e.data.get("approve").and_then(Value::as_bool) == Some(true) => {
            "批准延期".into()
        }
        "decide_extension" => "驳回延期".into(),
        "pause" => "挂起（等待市民）".into(),
        "resume" => "恢复办理".into(),
        "reply" => "答复".into(),
        "callback" if e.to_status == "dispatched" => format!("回访{}，重办", result()),
        "callback" => format!("回访{}", result()),
        "rate" => format!("市民评价{}", result()),
        "reopen" => "重办".into(),
        "supervise" => "督办".into(),
        "close" => "办结".into(),
        "archive" => "归档".into(),
        "merge" => "合并".into(),
        "follow_parent" => "随主工单答复".into(),
        "split" => "拆分".into(),
        "close_split" => "拆分件全部办结".into(),
        "card" => match e.data.get("card").and_then(Value::as_str) {
            Some("red") => "亮红牌".into(),
            Some("yellow") => "亮黄牌".into(),
            _ => "撤销亮牌".into(),
        },
        "reclassify" => "修改分类或地点".into(),
        other => other.to_owned(),
    }
}

/// What a timeline row says: the note, and the deadline a dispatch or extension set.
pub(super) fn timeline_note(e: &TimelineEntry) -> String {
    let mut parts = Vec::new();
    if let Some(n) = e.note.as_deref().filter(|n| !n.trim().is_empty()) {
        parts.push(clip(n, 120));
    }
    let due = e.data.get("reply_due").and_then(Value::as_i64);
    match (e.action.as_str(), due) {
        ("dispatch", Some(d)) => parts.push(format!("答复时限 {}", format_minute(d))),
        ("decide_extension", Some(d))
            if e.data.get("approve").and_then(Value::as_bool) == Some(true) =>
        {
            parts.push(format!("延期至 {}", format_minute(d)))
        }
        _ => {}
    }
    parts.join("；")
}

pub(super) fn typical_document(
    ctx: &Replay,
    period: &Period,
    city: &str,
    total: &KpiRow,
    cases: &[Case<'_>],
    timelines: &[Vec<TimelineEntry>],
) -> Result<Vec<u8>> {
    let u = period.unit();
    let k = &total.kpis;
    let whole = received_phrase(matches!(ctx.view, View::Departments(_)), city);
    let mut doc = tabular::Doc::new(format!(
        "{city}12345政务服务便民热线典型案例专报\n（{}）",
        period.title_label()
    ));
    doc.paragraph(format!(
        "{}，{whole}{}件，派单{}件次，承办单位答复{}件次，按时办结率{}，回访满意率{}，重办{}件次；截至{}，超期未办结{}件。{}",
        period.label(),
        k.received,
        k.dispatched,
        k.replied,
        pct(k.on_time_rate),
        pct(k.satisfaction_rate),
        k.reopened,
        month_day(period.last_day(), false),
        k.overdue_open,
        if cases.is_empty() {
            format!("本{u}未发现重办、超期、督办、多人反映或回访不满意的工单。")
        } else {
            format!("现将本{u}重办、超期、督办、多人反映及回访不满意等典型案例{}件报告如下。", cases.len())
        }
    ));
    if cases.is_empty() {
        return doc.to_bytes().map_err(Error::internal);
    }
    let end = period.end();
    doc.heading(1, "一、案例概览").table(
        &["序号", "工单编号", "诉求标题", "承办单位", "入选原因"],
        &cases
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let holder = c.h.state_at(end).and_then(|s| s.2).or(c.h.t.main_dept_id);
                vec![
                    (i + 1).to_string(),
                    c.h.t.number.clone(),
                    clip(&c.h.t.title, 40),
                    ctx.dept_name(holder),
                    c.reasons.join("、"),
                ]
            })
            .collect::<Vec<_>>(),
    );
    doc.heading(1, "二、案例详情");
    for (i, (c, tl)) in cases.iter().zip(timelines).enumerate() {
        let t = &c.h.t;
        let state = c.h.state_at(end);
        let holder = state.and_then(|s| s.2).or(t.main_dept_id);
        doc.heading(2, format!("（{}）{}", cn_number(i + 1), clip(&t.title, 40)));
        // Personal data stays masked: the report circulates beyond the handling department.
        let caller = t
            .caller_name
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .map_or("匿名或未留姓名".into(), mask::name);
        doc.paragraph(format!(
            "工单编号：{}；诉求类型：{}；分类：{}；来电人：{}；发生地点：{}；登记时间：{}；承办单位：{}；截至{}状态：{}。",
            t.number,
            t.kind.label(),
            ctx.category_path(t.category_id),
            caller,
            t.address.as_deref().unwrap_or("未填写"),
            format_minute(t.created_at),
            ctx.dept_name(holder),
            month_day(period.last_day(), false),
            state.map_or("—".into(), |s| status_label(&s.1)),
        ));
        doc.paragraph(format!("入选原因：{}。", c.reasons.join("、")));
        doc.paragraph(format!("诉求内容：{}", clip(&t.content, 400)));
        // As things stood at the period's end: later events belong to later reports.
        let tl: Vec<&TimelineEntry> = tl.iter().filter(|e| e.at < end).collect();
        let rows: Vec<Vec<String>> = tl
            .iter()
            .filter(|e| e.action != "card")
            .map(|e| {
                vec![
                    format_minute(e.at),
                    action_label(e),
                    e.dept_id.map_or(String::new(), |d| ctx.dept_name(Some(d))),
                    timeline_note(e),
                ]
            })
            .collect();
        doc.paragraph("办理经过：")
            .table(&["时间", "环节", "单位", "情况说明"], &rows);
        let last_reply = tl
            .iter()
            .rev()
            .find(|e| matches!(e.action.as_str(), "reply" | "answer_now" | "follow_parent"))
            .and_then(|e| e.note.as_deref())
            .filter(|n| !n.trim().is_empty());
        if let Some(r) = last_reply {
            doc.paragraph(format!("最近答复：{}", clip(r, 300)));
        }
        let last_result = tl
            .iter()
            .rev()
            .filter(|e| matches!(e.action.as_str(), "callback" | "rate"))
            .find_map(|e| e.data.get("result").and_then(Value::as_str))
            .and_then(CallbackResult::parse);
        if let Some(r) = last_result {
            doc.paragraph(format!("最近回访结果：{}。", r.label()));
        }
    }
    doc.heading(1, "三、工作建议");
    let all: Vec<&String> = cases.iter().flat_map(|c| &c.reasons).collect();
    let has = |w: &str| all.iter().any(|r| r.contains(w));
    if has("重办") || has("不满意") {
        doc.bullet("对重办和回访不满意的工单，请承办单位主要负责同志过问，逐件核实诉求、联系市民，答复须有具体措施和办理结果，避免简单重复原答复。");
    }
    if has("超期") {
        doc.bullet(
            "对超期工单，请承办单位说明超期原因并限期办结；确需延期的，应在时限内申请延期。",
        );
    }
    if has("多人反映") {
        doc.bullet(
            "对多人反映的问题，请属地和行业主管部门研究共性原因，从源头解决，必要时开展专项整治。",
        );
    }
    if has("督办") || has("退单") {
        doc.bullet(
            "对督办和多次退单的工单，请热线管理机构会同有关单位厘清职责，明确承办主体，防止推诿。",
        );
    }
    doc.to_bytes().map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trends_read_like_a_report() {
        assert_eq!(trend_count(110, 100), "上升10.0%");
        assert_eq!(trend_count(90, 100), "下降10.0%");
        assert_eq!(trend_count(5, 0), "上期为0");
        assert_eq!(trend_rate(Some(0.9719), Some(0.95)), "提高2.19个百分点");
        assert_eq!(trend_rate(Some(0.5), None), "—");
        assert_eq!(pct(Some(0.9719)), "97.19%");
        assert_eq!(cn_number(12), "十二");
        assert_eq!(ratio(2, 3), Some(0.6667));
    }
}
