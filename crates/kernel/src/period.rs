//! Reporting periods in China time: a month (`2025-03`), an ISO week (`2025-W11`) or a range of
//! days (`2025-03-01..2025-03-15`), with their bounds as UTC milliseconds, the period before,
//! and their zh-CN labels. Shared by every module that reports by period.

use crate::clock::Millis;
use crate::error::{Error, Result};
use chrono::{Datelike, Days, Months, NaiveDate, Weekday};

/// Longest day range a report may cover.
const MAX_DAYS: i64 = 366;

/// A reporting period in China time: a month (`2025-03`), an ISO week (`2025-W11`) or a range of
/// days, both ends included (`2025-03-01..2025-03-15`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Month { year: i32, month: u32 },
    Week { year: i32, week: u32 },
    Days { from: NaiveDate, to: NaiveDate },
}

fn bad_period() -> Error {
    Error::field(
        "period",
        "invalid_period",
        "统计期应为月份（如 2025-03）、ISO 周（如 2025-W11）或日期区间（如 2025-03-01..2025-03-15）",
    )
}

fn china_midnight(d: NaiveDate) -> Millis {
    d.and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_local_timezone(crate::clock::china())
        .single()
        .expect("fixed offset")
        .timestamp_millis()
}

/// `3月10日`, or `2024年12月30日` when the year must be said.
pub fn month_day(d: NaiveDate, with_year: bool) -> String {
    if with_year {
        format!("{}年{}月{}日", d.year(), d.month(), d.day())
    } else {
        format!("{}月{}日", d.month(), d.day())
    }
}

/// `3月10日至3月16日`; the years are said when they differ (and the first when `year_first`).
pub fn span(from: NaiveDate, to: NaiveDate, year_first: bool) -> String {
    let other_year = from.year() != to.year();
    format!(
        "{}至{}",
        month_day(from, year_first || other_year),
        month_day(to, other_year)
    )
}

impl Period {
    /// Parses `2025-03`, `2025-W11`, `2025-03-01..2025-03-15` or a single day `2025-03-01`.
    pub fn parse(s: &str) -> Result<Period> {
        let s = s.trim();
        // Years far outside the data only produce empty reports or date overflow.
        let date = |x: &str| {
            NaiveDate::parse_from_str(x.trim(), "%Y-%m-%d")
                .ok()
                .filter(|d| (2000..=2100).contains(&d.year()))
        };
        if let Some((a, b)) = s.split_once("..") {
            let (Some(from), Some(to)) = (date(a), date(b)) else {
                return Err(bad_period());
            };
            if to < from {
                return Err(Error::field(
                    "period",
                    "invalid_period",
                    "日期区间的结束日期不能早于开始日期",
                ));
            }
            if (to - from).num_days() >= MAX_DAYS {
                return Err(Error::field(
                    "period",
                    "period_too_long",
                    format!("日期区间最长 {MAX_DAYS} 天"),
                ));
            }
            return Ok(Period::Days { from, to });
        }
        if let Some(d) = date(s) {
            return Ok(Period::Days { from: d, to: d });
        }
        let upper = s.to_ascii_uppercase();
        if let Some((y, w)) = upper.split_once("-W") {
            let (Ok(year), Ok(week)) = (y.parse::<i32>(), w.parse::<u32>()) else {
                return Err(bad_period());
            };
            if !(2000..=2100).contains(&year)
                || NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).is_none()
            {
                return Err(bad_period());
            }
            return Ok(Period::Week { year, week });
        }
        let d = date(&format!("{s}-01")).ok_or_else(bad_period)?;
        Ok(Period::Month {
            year: d.year(),
            month: d.month(),
        })
    }

    pub fn first_day(&self) -> NaiveDate {
        match *self {
            Period::Month { year, month } => {
                NaiveDate::from_ymd_opt(year, month, 1).expect("valid month")
            }
            Period::Week { year, week } => {
                NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).expect("valid week")
            }
            Period::Days { from, .. } => from,
        }
    }

    /// The last day, included.
    pub fn last_day(&self) -> NaiveDate {
        match *self {
            Period::Month { .. } => self.first_day() + Months::new(1) - Days::new(1),
            Period::Week { .. } => self.first_day() + Days::new(6),
            Period::Days { to, .. } => to,
        }
    }

    /// Start, UTC milliseconds (midnight China time of the first day).
    pub fn start(&self) -> Millis {
        china_midnight(self.first_day())
    }

    /// End, excluded: midnight China time after the last day.
    pub fn end(&self) -> Millis {
        china_midnight(self.last_day() + Days::new(1))
    }

    /// The period of the same length just before: the previous month, the previous week, or
    /// as many days before a range.
    pub fn previous(&self) -> Period {
        match *self {
            Period::Month { .. } => {
                let d = self.first_day() - Months::new(1);
                Period::Month {
                    year: d.year(),
                    month: d.month(),
                }
            }
            Period::Week { .. } => {
                let w = (self.first_day() - Days::new(7)).iso_week();
                Period::Week {
                    year: w.year(),
                    week: w.week(),
                }
            }
            Period::Days { from, to } => {
                let n = (to - from).num_days() as u64 + 1;
                Period::Days {
                    from: from - Days::new(n),
                    to: from - Days::new(1),
                }
            }
        }
    }

    /// The form it is written in: `2025-03`, `2025-W11`, `2025-03-01..2025-03-15`.
    pub fn code(&self) -> String {
        match *self {
            Period::Month { year, month } => format!("{year}-{month:02}"),
            Period::Week { year, week } => format!("{year}-W{week:02}"),
            Period::Days { from, to } => format!("{from}..{to}"),
        }
    }

    /// `2025年3月`, `2025年第11周（3月10日至3月16日）`, `2025年3月1日至3月15日`.
    pub fn label(&self) -> String {
        match *self {
            Period::Month { year, month } => format!("{year}年{month}月"),
            Period::Week { year, week } => format!(
                "{year}年第{week}周（{}）",
                span(self.first_day(), self.last_day(), false)
            ),
            Period::Days { from, to } if from == to => month_day(from, true),
            Period::Days { from, to } => span(from, to, true),
        }
    }

    /// The label inside a document title's brackets: no brackets within brackets.
    pub fn title_label(&self) -> String {
        match *self {
            Period::Week { year, week } => format!(
                "{year}年第{week}周，{}",
                span(self.first_day(), self.last_day(), false)
            ),
            _ => self.label(),
        }
    }

    /// 月, 周 or 期: for "本月", "上周", "本期".
    pub fn unit(&self) -> &'static str {
        match self {
            Period::Month { .. } => "月",
            Period::Week { .. } => "周",
            Period::Days { .. } => "期",
        }
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.code())
    }
}

impl std::str::FromStr for Period {
    type Err = Error;
    fn from_str(s: &str) -> Result<Period> {
        Period::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_and_step_back() {
        let m = Period::parse("2025-03").unwrap();
        assert_eq!(m.first_day().to_string(), "2025-03-01");
        assert_eq!(m.last_day().to_string(), "2025-03-31");
        assert_eq!(m.previous().code(), "2025-02");
        assert_eq!(
            Period::parse("2025-01").unwrap().previous().code(),
            "2024-12"
        );
        assert_eq!(m.label(), "2025年3月");
        // 2025-03-01 00:00 +08:00 is 2025-02-28 16:00 UTC.
        assert_eq!(m.start(), 1_740_758_400_000);
        assert_eq!(m.end() - m.start(), 31 * 86_400_000);

        let w = Period::parse("2025-W11").unwrap();
        assert_eq!(w.first_day().to_string(), "2025-03-10");
        assert_eq!(w.last_day().to_string(), "2025-03-16");
        assert_eq!(w.label(), "2025年第11周（3月10日至3月16日）");
        assert_eq!(w.previous().code(), "2025-W10");
        assert_eq!(
            Period::parse("2025-w01").unwrap().first_day().to_string(),
            "2024-12-30"
        );
        assert_eq!(
            Period::parse("2025-W01").unwrap().previous().code(),
            "2024-W52"
        );

        let d = Period::parse("2025-03-01..2025-03-15").unwrap();
        assert_eq!(d.previous().code(), "2025-02-14..2025-02-28");
        assert_eq!(d.label(), "2025年3月1日至3月15日");
        assert_eq!(
            Period::parse("2025-03-01").unwrap().code(),
            "2025-03-01..2025-03-01"
        );

        for bad in [
            "2025-13",
            "2025-W54",
            "2025-03-15..2025-03-01",
            "March",
            "",
            "2025-01-01..2026-06-01",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }
}
