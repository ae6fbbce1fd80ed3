//! Service-hall figures per period and per department, region or item: 受理量, 办结量, 办结率,
//! 网办率, 即办件占比, 承诺时限压缩率, average handling time, overdue count and the 好差评
//! figures; exported to .xlsx and the monthly report to .docx.
//!
//! Definitions (the ones the bureau's work reports use):
//! - 受理量: cases accepted in the period; 期初在办: accepted before it and still open at its
//!   start; 办结量: cases closed with a result in the period (each one is either).
//! - 办结率 = 办结量 / (期初在办 + 受理量), so it never passes 100% however many cases carry
//!   over; 网办率 = accepted online / 受理量; 即办件占比 = accepted immediate items / 受理量.
//! - A rate whose denominator is empty is `None` (shown as "—"), never 0%.
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
use kernel::calendar::Calendar;
use kernel::deadline;
use kernel::error::{Error, Result};
use serde::{Deserialize, Serialize};
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
    /// 期初在办: accepted before the period and open at its start.
    pub carried_over: i64,
    pub closed: i64,
    pub closed_rate: Option<f64>,
    pub online_rate: Option<f64>,
    pub immediate_share: Option<f64>,
    pub compression: Option<f64>,
    pub avg_handling_days: f64,
    pub overdue: i64,
    pub evaluations: i64,
    pub good_rate: Option<f64>,
    pub coverage: Option<f64>,
    pub bad: i64,
    pub rectified: i64,
    pub rectified_rate: Option<f64>,
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

/// `a / b`, or `None` when there is nothing to divide by.
pub(crate) fn ratio(a: i64, b: i64) -> Option<f64> {
    (b != 0).then(|| a as f64 / b as f64)
}

#[derive(Default)]
pub(crate) struct Acc {
    pub(crate) label: String,
    pub(crate) accepted: i64,
    pub(crate) carried_over: i64,
    pub(crate) closed: i64,
    pub(crate) online: i64,
    pub(crate) immediate: i64,
    pub(crate) promised: i64,
    pub(crate) legal: i64,
    /// Σ days each closed case ran (pauses excluded), in its own unit's days.
    pub(crate) handling_days: f64,
    pub(crate) overdue: i64,
    pub(crate) evaluations: i64,
    /// Closed cases of the period that have been rated.
    pub(crate) closed_rated: i64,
    pub(crate) good: i64,
    pub(crate) bad: i64,
    pub(crate) rectified: i64,
}

impl Acc {
    pub(crate) fn row(&self, key: String) -> ReportRow {
        ReportRow {
            key,
            label: self.label.clone(),
            accepted: self.accepted,
            carried_over: self.carried_over,
            closed: self.closed,
            closed_rate: ratio(self.closed, self.carried_over + self.accepted),
            online_rate: ratio(self.online, self.accepted),
            immediate_share: ratio(self.immediate, self.accepted),
            compression: ratio(self.promised, self.legal).map(|r| 1.0 - r),
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
pub(crate) fn handling_days(cal: &Calendar, c: &Case) -> f64 {
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
