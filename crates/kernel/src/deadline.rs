//! Time limits on the working calendar, shared by every module that has them (hotline tickets,
//! service-hall cases): when a limit falls due, how a pause moves it, and the card (亮牌) a
//! record earns as the limit approaches. Pure: it takes the calendar and times, never the clock.

use crate::calendar::Calendar;
use crate::clock::Millis;
use serde::{Deserialize, Serialize};

/// The unit a time limit counts in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    /// 工作日: the close of office on the n-th working day after the start.
    #[default]
    WorkingDays,
    /// 自然日: the end of the n-th calendar day after the start.
    CalendarDays,
    /// 工作小时: n hours of office time.
    WorkingHours,
}

impl TimeUnit {
    pub const ALL: &'static [TimeUnit] = &[
        TimeUnit::WorkingDays,
        TimeUnit::CalendarDays,
        TimeUnit::WorkingHours,
    ];
    pub fn code(self) -> &'static str {
        match self {
            TimeUnit::WorkingDays => "working_days",
            TimeUnit::CalendarDays => "calendar_days",
            TimeUnit::WorkingHours => "working_hours",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            TimeUnit::WorkingDays => "工作日",
            TimeUnit::CalendarDays => "自然日",
            TimeUnit::WorkingHours => "工作小时",
        }
    }
    pub fn parse(s: &str) -> Option<TimeUnit> {
        Self::ALL
            .iter()
            .copied()
            .find(|u| u.code() == s || u.label() == s)
    }
}

/// When a limit of `amount` units started at `start` falls due.
pub fn due(cal: &Calendar, start: Millis, unit: TimeUnit, amount: u32) -> Millis {
    match unit {
        TimeUnit::WorkingDays => cal.add_working_days(start, amount),
        TimeUnit::CalendarDays => cal.add_calendar_days(start, amount),
        TimeUnit::WorkingHours => cal.add_working_minutes(start, i64::from(amount) * 60),
    }
}

/// The deadline `due` moved by a pause from `since` to `until`: the time paused does not count,
/// measured the way the unit counts (office time for working units, wall time for calendar days).
/// Returns the new deadline and the paused amount in minutes of that measure.
pub fn extend_for_pause(
    cal: &Calendar,
    due: Millis,
    unit: TimeUnit,
    since: Millis,
    until: Millis,
) -> (Millis, i64) {
    match unit {
        TimeUnit::CalendarDays => {
            let ms = (until - since).max(0);
            (due + ms, ms / 60_000)
        }
        TimeUnit::WorkingDays | TimeUnit::WorkingHours => {
            let waited = cal.working_minutes_between(since, until);
            if waited > 0 {
                (cal.add_working_minutes(due, waited), waited)
            } else {
                (due, 0)
            }
        }
    }
}

/// Time from `start` to `end` in the measure `unit` counts in — office minutes for working
/// units, wall minutes for calendar days — the same measure [`extend_for_pause`] gives pauses
/// in, so `elapsed − paused` is the time a limit actually ran.
pub fn elapsed_minutes(cal: &Calendar, unit: TimeUnit, start: Millis, end: Millis) -> i64 {
    match unit {
        TimeUnit::CalendarDays => (end - start).max(0) / 60_000,
        TimeUnit::WorkingDays | TimeUnit::WorkingHours => cal.working_minutes_between(start, end),
    }
}

/// Minutes of one day in that measure: an office day for working units, 24 hours for calendar
/// days.
pub fn minutes_per_day(cal: &Calendar, unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::CalendarDays => 24 * 60,
        TimeUnit::WorkingDays | TimeUnit::WorkingHours => cal.office_hours().minutes_per_day(),
    }
}

/// How close a record is to its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grade {
    /// Time enough.
    Fine,
    /// Within the warning window: 黄牌.
    Yellow,
    /// Past the limit: 红牌.
    Red,
}

/// Red past `due`; yellow within `warn_minutes` of office time before it.
pub fn grade(cal: &Calendar, now: Millis, due: Millis, warn_minutes: i64) -> Grade {
    if now > due {
        Grade::Red
    } else if cal.working_minutes_between(now, due) <= warn_minutes {
        Grade::Yellow
    } else {
        Grade::Fine
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> Millis {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
            .and_local_timezone(crate::clock::china())
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn each_unit_counts_its_own_way() {
        let cal = Calendar::builtin();
        // Thursday 2026-09-24 10:00; 2026-09-25..27 is the Mid-Autumn holiday.
        let start = at(2026, 9, 24, 10, 0);
        assert_eq!(
            due(&cal, start, TimeUnit::WorkingDays, 3),
            at(2026, 9, 30, 17, 30)
        );
        assert_eq!(
            due(&cal, start, TimeUnit::CalendarDays, 3),
            at(2026, 9, 28, 0, 0) - 1
        );
        // Two hours before lunch, two after.
        assert_eq!(
            due(&cal, start, TimeUnit::WorkingHours, 4),
            at(2026, 9, 24, 15, 30)
        );
        assert_eq!(TimeUnit::parse("工作日"), Some(TimeUnit::WorkingDays));
    }

    #[test]
    fn a_pause_moves_the_deadline_by_the_time_paused() {
        let cal = Calendar::weekends_only();
        // Monday 2026-03-16 09:00 to Wednesday 09:00: two working days of office time paused.
        let (since, until) = (at(2026, 3, 16, 9, 0), at(2026, 3, 18, 9, 0));
        let d = at(2026, 3, 20, 17, 0);
        let (moved, waited) = extend_for_pause(&cal, d, TimeUnit::WorkingDays, since, until);
        assert_eq!(waited, 2 * cal.office_hours().minutes_per_day());
        assert!(moved > at(2026, 3, 24, 0, 0) && moved < at(2026, 3, 25, 0, 0));
        let (moved, _) = extend_for_pause(&cal, d, TimeUnit::CalendarDays, since, until);
        assert_eq!(moved, d + 2 * 86_400_000);
        assert_eq!(
            extend_for_pause(&cal, d, TimeUnit::WorkingDays, until, since),
            (d, 0)
        );
    }

    #[test]
    fn elapsed_time_is_measured_like_pauses() {
        let cal = Calendar::weekends_only();
        let (since, until) = (at(2026, 3, 16, 9, 0), at(2026, 3, 18, 9, 0));
        let (_, paused) = extend_for_pause(&cal, until, TimeUnit::WorkingDays, since, until);
        assert_eq!(
            elapsed_minutes(&cal, TimeUnit::WorkingDays, since, until),
            paused
        );
        assert_eq!(
            elapsed_minutes(&cal, TimeUnit::CalendarDays, since, until),
            2 * 24 * 60
        );
        assert_eq!(minutes_per_day(&cal, TimeUnit::CalendarDays), 1440);
        assert_eq!(
            minutes_per_day(&cal, TimeUnit::WorkingHours),
            cal.office_hours().minutes_per_day()
        );
    }

    #[test]
    fn grades_follow_the_warning_window() {
        let cal = Calendar::weekends_only();
        let d = at(2026, 3, 18, 17, 0);
        assert_eq!(grade(&cal, at(2026, 3, 16, 9, 0), d, 60), Grade::Fine);
        assert_eq!(grade(&cal, at(2026, 3, 18, 16, 30), d, 60), Grade::Yellow);
        assert_eq!(grade(&cal, at(2026, 3, 18, 17, 1), d, 60), Grade::Red);
    }
}
