//! The working-day calendar: China's public holidays (法定节假日) and the weekend days made
//! working days to pay for them (调休), office hours, and deadline arithmetic on China time.
//!
//! Each year's schedule is a TOML file in `calendar/`, embedded in the binary; an admin can store
//! a year in the database (`store_year`), which replaces that year's built-in days entirely, so a
//! newly published schedule needs no release. Days not listed follow the weekday rule.
//! The arithmetic is pure: it takes UTC milliseconds and a `Calendar`, never the clock.

use crate::audit::{self, AuditActor};
use crate::clock::Millis;
use crate::db::Db;
use crate::error::{Error, Result};
use chrono::{Datelike, Days, NaiveDate, NaiveTime, Timelike, Weekday};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use std::collections::BTreeMap;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
/// China has had no daylight saving time since 1991, so a fixed offset is exact.
const CHINA_OFFSET_MS: i64 = 8 * 3_600_000;
/// `NaiveDate::num_days_from_ce` of 1970-01-01.
const EPOCH_CE_DAYS: i64 = 719_163;

const BUILTIN: [&str; 3] = [
    include_str!("../calendar/2025.toml"),
    include_str!("../calendar/2026.toml"),
    include_str!("../calendar/2027.toml"),
];

/// What a day is for the office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    Workday,
    Weekend,
    Holiday,
    /// 调休上班: a Saturday or Sunday worked in exchange for a longer holiday.
    AdjustedWorkday,
}

impl DayKind {
    pub fn is_working(self) -> bool {
        matches!(self, DayKind::Workday | DayKind::AdjustedWorkday)
    }

    /// zh-CN label for pages.
    pub fn label(self) -> &'static str {
        match self {
            DayKind::Workday => "工作日",
            DayKind::Weekend => "周末",
            DayKind::Holiday => "节假日",
            DayKind::AdjustedWorkday => "调休上班",
        }
    }

    /// Stable code, stored in `kernel_calendar_days.kind`.
    pub fn code(self) -> &'static str {
        match self {
            DayKind::Workday => "workday",
            DayKind::Weekend => "weekend",
            DayKind::Holiday => "holiday",
            DayKind::AdjustedWorkday => "adjusted_workday",
        }
    }

    pub fn from_code(code: &str) -> Option<DayKind> {
        [
            DayKind::Workday,
            DayKind::Weekend,
            DayKind::Holiday,
            DayKind::AdjustedWorkday,
        ]
        .into_iter()
        .find(|k| k.code() == code)
    }
}

/// Office hours on a working day, China time: ordered, non-overlapping periods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeHours {
    periods: Vec<(NaiveTime, NaiveTime)>,
}

impl Default for OfficeHours {
    /// 09:00–12:00 and 13:30–17:30: seven hours.
    fn default() -> Self {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).expect("valid time");
        OfficeHours {
            periods: vec![(t(9, 0), t(12, 0)), (t(13, 30), t(17, 30))],
        }
    }
}

impl OfficeHours {
    pub fn new(periods: Vec<(NaiveTime, NaiveTime)>) -> Result<Self, String> {
        if periods.is_empty() {
            return Err("至少需要一个办公时段".into());
        }
        for (i, &(start, end)) in periods.iter().enumerate() {
            if start >= end {
                return Err(format!(
                    "办公时段 {}–{} 的开始时间应早于结束时间",
                    start.format("%H:%M"),
                    end.format("%H:%M")
                ));
            }
            if i > 0 && periods[i - 1].1 > start {
                return Err(format!(
                    "办公时段应按时间先后排列且互不重叠：{} 开始的时段与前一时段重叠",
                    start.format("%H:%M")
                ));
            }
        }
        Ok(OfficeHours { periods })
    }

    pub fn periods(&self) -> &[(NaiveTime, NaiveTime)] {
        &self.periods
    }

    pub fn opening(&self) -> NaiveTime {
        self.periods[0].0
    }

    /// The close of office, when a day-based deadline ends.
    pub fn closing(&self) -> NaiveTime {
        self.periods[self.periods.len() - 1].1
    }

    pub fn minutes_per_day(&self) -> i64 {
        self.day_ms() / MINUTE_MS
    }

    fn day_ms(&self) -> i64 {
        self.spans().map(|(s, e)| e - s).sum()
    }

    /// The periods as milliseconds since midnight.
    fn spans(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        self.periods.iter().map(|&(s, e)| (time_ms(s), time_ms(e)))
    }
}

/// Public holidays, 调休 days and office hours; build with `builtin` or `load`.
#[derive(Debug, Clone)]
pub struct Calendar {
    days: BTreeMap<NaiveDate, (DayKind, String)>,
    /// Covered years and whether each is provisional.
    years: BTreeMap<i32, bool>,
    hours: OfficeHours,
}

impl Calendar {
    /// The embedded years with the default office hours.
    pub fn builtin() -> Calendar {
        builtin_years()
            .into_iter()
            .fold(Calendar::weekends_only(), Calendar::with_year)
    }

    /// No holidays at all: Monday to Friday work.
    pub fn weekends_only() -> Calendar {
        Calendar {
            days: BTreeMap::new(),
            years: BTreeMap::new(),
            hours: OfficeHours::default(),
        }
    }

    pub fn with_office_hours(mut self, hours: OfficeHours) -> Calendar {
        self.hours = hours;
        self
    }

    pub fn office_hours(&self) -> &OfficeHours {
        &self.hours
    }

    /// Overlays single days (e.g. a local day off), replacing what those days were.
    pub fn with_days(
        mut self,
        days: impl IntoIterator<Item = (NaiveDate, DayKind, String)>,
    ) -> Calendar {
        for (date, kind, name) in days {
            self.days.insert(date, (kind, name));
        }
        self
    }

    /// Replaces every listed day of `data.year` with `data`'s days.
    pub fn with_year(mut self, data: YearData) -> Calendar {
        self.days.retain(|d, _| d.year() != data.year);
        self.years.insert(data.year, data.provisional);
        self.with_days(data.days)
    }

    /// Whether the calendar has a schedule for `year` (otherwise only weekends are off).
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    pub fn years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
    }

    /// Whether `year`'s schedule is not yet the published one; `false` for a year not covered.
    pub fn is_provisional(&self, year: i32) -> bool {
        self.years.get(&year).copied().unwrap_or(false)
    }

    pub fn kind(&self, date: NaiveDate) -> DayKind {
        match self.days.get(&date) {
            Some((kind, _)) => *kind,
            None if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) => DayKind::Weekend,
            None => DayKind::Workday,
        }
    }

    pub fn is_workday(&self, date: NaiveDate) -> bool {
        self.kind(date).is_working()
    }

    /// The holiday a listed day belongs to, e.g. 春节 for its days off and its 调休 days.
    pub fn day_name(&self, date: NaiveDate) -> Option<&str> {
        self.days
            .get(&date)
            .map(|(_, name)| name.as_str())
            .filter(|n| !n.is_empty())
    }

    /// The first working day after `date`.
    pub fn next_working_day(&self, date: NaiveDate) -> NaiveDate {
        let mut d = date;
        while let Some(next) = d.succ_opt() {
            d = next;
            if self.is_workday(d) {
                break;
            }
        }
        d
    }

    /// `from` plus `minutes` of office time on working days. Starting outside office hours
    /// counts from the next office period; a deadline landing on a period's end stays there.
    /// `minutes <= 0` returns `from`.
    pub fn add_working_minutes(&self, from: Millis, minutes: i64) -> Millis {
        if minutes <= 0 {
            return from;
        }
        let mut left = minutes.saturating_mul(MINUTE_MS);
        let (start, mut tod) = split(from);
        let mut date = start;
        let week_ms = 5 * self.hours.day_ms();
        loop {
            // Past the last listed day every week has five working days: skip whole weeks.
            if date > start && date.weekday() == Weekday::Mon && self.is_regular(date) {
                let weeks = (left - 1) / week_ms;
                if weeks > 0 {
                    match date.checked_add_days(Days::new(7 * weeks as u64)) {
                        Some(d) => date = d,
                        None => return Millis::MAX,
                    }
                    left -= weeks * week_ms;
                }
            }
            if self.is_workday(date) {
                for (s, e) in self.hours.spans() {
                    let begin = s.max(tod);
                    if begin >= e {
                        continue;
                    }
                    if left <= e - begin {
                        return day_start(date) + begin + left;
                    }
                    left -= e - begin;
                }
            }
            match date.succ_opt() {
                Some(d) => date = d,
                None => return Millis::MAX,
            }
            tod = 0;
        }
    }

    /// The close of office on the `days`-th working day after the day of `from` (the day itself
    /// does not count, whatever the hour). `days == 0` is the close of the day of `from`, or of
    /// the next working day when that day is not one.
    pub fn add_working_days(&self, from: Millis, days: u32) -> Millis {
        let (mut date, _) = split(from);
        if days == 0 {
            if !self.is_workday(date) {
                date = self.next_working_day(date);
            }
        } else {
            for _ in 0..days {
                date = self.next_working_day(date);
            }
        }
        day_start(date) + time_ms(self.hours.closing())
    }

    /// 23:59:59.999 China time on the `days`-th calendar day after the day of `from`.
    pub fn add_calendar_days(&self, from: Millis, days: u32) -> Millis {
        let (date, _) = split(from);
        match date.checked_add_days(Days::new(u64::from(days) + 1)) {
            Some(next) => day_start(next) - 1,
            None => Millis::MAX,
        }
    }

    /// Whole minutes of office time on working days in `[a, b)`; 0 when `b <= a`.
    pub fn working_minutes_between(&self, a: Millis, b: Millis) -> i64 {
        if b <= a {
            return 0;
        }
        let (first, first_tod) = split(a);
        let (last, last_tod) = split(b);
        let week_ms = 5 * self.hours.day_ms();
        let mut total = 0i64;
        let mut date = first;
        while date <= last {
            if date > first && date.weekday() == Weekday::Mon && self.is_regular(date) {
                let weeks = (last - date).num_days() / 7;
                if weeks > 0 {
                    total += weeks * week_ms;
                    date = date + Days::new(7 * weeks as u64);
                    continue;
                }
            }
            if self.is_workday(date) {
                let lo = if date == first { first_tod } else { 0 };
                let hi = if date == last { last_tod } else { DAY_MS };
                for (s, e) in self.hours.spans() {
                    total += (e.min(hi) - s.max(lo)).max(0);
                }
            }
            match date.succ_opt() {
                Some(d) => date = d,
                None => break,
            }
        }
        total / MINUTE_MS
    }

    /// Whether `date` is past every listed day, where only the weekday rule applies.
    fn is_regular(&self, date: NaiveDate) -> bool {
        self.days
            .last_key_value()
            .is_none_or(|(last, _)| date > *last)
    }
}

/// The China date and the milliseconds since its midnight.
fn split(ms: Millis) -> (NaiveDate, i64) {
    let local = ms.saturating_add(CHINA_OFFSET_MS);
    let days = local.div_euclid(DAY_MS) + EPOCH_CE_DAYS;
    let date = i32::try_from(days)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or(if days < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        });
    (date, local.rem_euclid(DAY_MS))
}

/// Midnight China time of `date`, in UTC milliseconds.
fn day_start(date: NaiveDate) -> Millis {
    (i64::from(date.num_days_from_ce()) - EPOCH_CE_DAYS) * DAY_MS - CHINA_OFFSET_MS
}

fn time_ms(t: NaiveTime) -> i64 {
    i64::from(t.num_seconds_from_midnight()) * 1000
        + i64::from(t.nanosecond().min(999_999_999)) / 1_000_000
}

/// One year's schedule: its days off and its 调休 workdays, each with its holiday's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearData {
    pub year: i32,
    /// Not yet the State Council's published schedule.
    pub provisional: bool,
    /// `Holiday` and `AdjustedWorkday` days only, sorted by date.
    pub days: Vec<(NaiveDate, DayKind, String)>,
}

impl YearData {
    /// Reads the TOML format of `calendar/*.toml`; every problem is reported, in zh-CN.
    pub fn parse_toml(text: &str) -> Result<YearData, String> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            match line {
                Some(n) => format!("第 {n} 行不是合法的 TOML：{}", e.message()),
                None => format!("不是合法的 TOML：{}", e.message()),
            }
        })?;
        let mut errs: Vec<String> = Vec::new();
        for key in table.keys() {
            if !["year", "provisional", "holiday"].contains(&key.as_str()) {
                errs.push(format!(
                    "未知的字段 {key}（只允许 year、provisional 和 [[holiday]]）"
                ));
            }
        }
        let year = match table.get("year") {
            None => {
                errs.push("缺少年份 year，如 year = 2026".into());
                None
            }
            Some(toml::Value::Integer(y)) => i32::try_from(*y).ok().or_else(|| {
                errs.push(format!("年份 year = {y} 不正确"));
                None
            }),
            Some(_) => {
                errs.push("年份 year 应为整数，如 year = 2026".into());
                None
            }
        };
        let provisional = match table.get("provisional") {
            Some(toml::Value::Boolean(b)) => *b,
            None => {
                errs.push("缺少 provisional：正式发布的安排写 false，暂定的写 true".into());
                false
            }
            Some(_) => {
                errs.push("provisional 应为 true 或 false".into());
                false
            }
        };
        let mut days = Vec::new();
        match table.get("holiday") {
            None => errs.push("没有任何节日：每个节日写一段 [[holiday]]".into()),
            Some(toml::Value::Array(list)) => {
                for (i, h) in list.iter().enumerate() {
                    parse_holiday(i + 1, h, &mut days, &mut errs);
                }
            }
            Some(_) => errs.push("holiday 应写成 [[holiday]] 段".into()),
        }
        let Some(year) = year.filter(|_| errs.is_empty()) else {
            return Err(errs.join("；"));
        };
        days.sort_by_key(|(d, _, _)| *d);
        let data = YearData {
            year,
            provisional,
            days,
        };
        data.validate()?;
        Ok(data)
    }

    /// Checks what `parse_toml` cannot see in the structure: dates inside the year, no day
    /// listed twice, 调休 workdays on weekends only.
    pub fn validate(&self) -> Result<(), String> {
        let mut errs = Vec::new();
        if !(2000..=2100).contains(&self.year) {
            errs.push(format!(
                "年份 {} 超出范围（应在 2000 到 2100 之间）",
                self.year
            ));
        }
        if !self.days.iter().any(|(_, k, _)| *k == DayKind::Holiday) {
            errs.push("没有任何放假日".into());
        }
        let mut seen: BTreeMap<NaiveDate, (DayKind, &str)> = BTreeMap::new();
        for (date, kind, name) in &self.days {
            let day = date.format("%Y-%m-%d");
            if name.trim().is_empty() {
                errs.push(format!("{day} 缺少节日名称"));
            } else if name.chars().count() > 20 {
                errs.push(format!("节日名称“{name}”不能超过 20 个字"));
            }
            if date.year() != self.year {
                errs.push(format!("{day}（{name}）不在 {} 年内", self.year));
            }
            match kind {
                DayKind::Holiday => {}
                DayKind::AdjustedWorkday => {
                    if !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
                        errs.push(format!(
                            "调休上班日 {day}（{name}）是{}，调休上班日只能是周六或周日",
                            weekday_zh(date.weekday())
                        ));
                    }
                }
                other => errs.push(format!(
                    "{day}（{name}）只能是放假日或调休上班日，不能是{}",
                    other.label()
                )),
            }
            if let Some((before, before_name)) = seen.insert(*date, (*kind, name)) {
                if before == *kind {
                    errs.push(format!("{day} 重复出现（{before_name}、{name}）"));
                } else {
                    errs.push(format!(
                        "{day} 既是放假日又是调休上班日（{before_name}、{name}）"
                    ));
                }
            }
        }
        // A bad name would otherwise be reported once per day of its holiday.
        let mut reported = std::collections::HashSet::new();
        errs.retain(|e| reported.insert(e.clone()));
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("；"))
        }
    }

    /// The TOML form `parse_toml` reads, e.g. to let an admin edit a stored year.
    pub fn to_toml(&self) -> String {
        let mut out = format!("year = {}\nprovisional = {}\n", self.year, self.provisional);
        let mut names: Vec<&str> = Vec::new();
        for (_, _, name) in &self.days {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
        let list = |name: &str, kind: DayKind| -> Vec<String> {
            self.days
                .iter()
                .filter(|(_, k, n)| *k == kind && n == name)
                .map(|(d, _, _)| format!("\"{}\"", d.format("%Y-%m-%d")))
                .collect()
        };
        for name in names {
            out.push_str(&format!(
                "\n[[holiday]]\nname = {}\n",
                toml::Value::String(name.to_owned())
            ));
            let days = list(name, DayKind::Holiday);
            out.push_str(&format!("days = [{}]\n", days.join(", ")));
            let workdays = list(name, DayKind::AdjustedWorkday);
            if !workdays.is_empty() {
                out.push_str(&format!("workdays = [{}]\n", workdays.join(", ")));
            }
        }
        out
    }
}

fn parse_holiday(
    n: usize,
    value: &toml::Value,
    days: &mut Vec<(NaiveDate, DayKind, String)>,
    errs: &mut Vec<String>,
) {
    let Some(h) = value.as_table() else {
        errs.push(format!("第 {n} 个 holiday 应为 [[holiday]] 段"));
        return;
    };
    let name = match h.get("name") {
        Some(toml::Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
        Some(toml::Value::String(_)) | None => {
            errs.push(format!("第 {n} 个节日缺少名称 name"));
            format!("第 {n} 个节日")
        }
        Some(_) => {
            errs.push(format!("第 {n} 个节日的 name 应为文字"));
            format!("第 {n} 个节日")
        }
    };
    for key in h.keys() {
        if !["name", "days", "workdays"].contains(&key.as_str()) {
            errs.push(format!(
                "节日“{name}”中有未知的字段 {key}（只允许 name、days、workdays）"
            ));
        }
    }
    for (key, kind, required) in [
        ("days", DayKind::Holiday, true),
        ("workdays", DayKind::AdjustedWorkday, false),
    ] {
        let list = match h.get(key) {
            None if required => {
                errs.push(format!("节日“{name}”缺少放假日期 days"));
                continue;
            }
            None => continue,
            Some(toml::Value::Array(list)) => list,
            Some(_) => {
                errs.push(format!(
                    "节日“{name}”的 {key} 应为日期列表，如 [\"2026-10-01\"]"
                ));
                continue;
            }
        };
        if required && list.is_empty() {
            errs.push(format!("节日“{name}”没有放假日期"));
        }
        for v in list {
            match toml_date(v) {
                Some(d) => days.push((d, kind, name.clone())),
                None => errs.push(format!(
                    "节日“{name}”的 {key} 中 {v} 不是有效日期（应为 YYYY-MM-DD）"
                )),
            }
        }
    }
}

/// A `"2026-10-01"` string or a bare TOML date.
fn toml_date(v: &toml::Value) -> Option<NaiveDate> {
    match v {
        toml::Value::String(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok(),
        toml::Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => {
            let d = dt.date?;
            NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
        }
        _ => None,
    }
}

fn weekday_zh(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "星期一",
        Weekday::Tue => "星期二",
        Weekday::Wed => "星期三",
        Weekday::Thu => "星期四",
        Weekday::Fri => "星期五",
        Weekday::Sat => "星期六",
        Weekday::Sun => "星期日",
    }
}

/// The embedded years (`calendar/*.toml`).
pub fn builtin_years() -> Vec<YearData> {
    BUILTIN
        .iter()
        .map(|t| YearData::parse_toml(t).expect("embedded calendar is valid"))
        .collect()
}

/// The meta key counting writes of the stored calendar, so a server can keep the calendar it
/// built until somebody (this process or another, e.g. `yiwang calendar import`) stores a year.
const GENERATION_KEY: &str = "calendar_generation";

async fn generation(db: &Db) -> Result<String> {
    Ok(sqlx::query("SELECT value FROM kernel_meta WHERE key = $1")
        .bind(GENERATION_KEY)
        .fetch_optional(db.pool())
        .await?
        .map(|r| r.get::<String, _>(0))
        .unwrap_or_default())
}

/// The calendar last built for a database and the generation it was built at.
#[derive(Default)]
struct Cached(std::sync::Mutex<Option<(String, Calendar)>>);

/// The built-in calendar with every year stored in the database replacing its built-in days.
/// Every deadline needs it, so it is built once per stored generation and kept with the `Db`.
pub async fn load(db: &Db) -> Result<Calendar> {
    let g = generation(db).await?;
    let cache = db.state::<Cached>();
    if let Some((have, cal)) = cache.0.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        if *have == g {
            return Ok(cal.clone());
        }
    }
    let cal = stored_years(db)
        .await?
        .into_iter()
        .fold(Calendar::builtin(), Calendar::with_year);
    *cache.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((g, cal.clone()));
    Ok(cal)
}

/// The years admins have stored, oldest first.
pub async fn stored_years(db: &Db) -> Result<Vec<YearData>> {
    let mut years: BTreeMap<i64, YearData> = BTreeMap::new();
    for r in sqlx::query("SELECT year, provisional FROM kernel_calendar_years")
        .fetch_all(db.pool())
        .await?
    {
        let year: i64 = r.get(0);
        let data = YearData {
            year: i32::try_from(year).map_err(Error::internal)?,
            provisional: crate::db::flag(r.get(1)),
            days: Vec::new(),
        };
        years.insert(year, data);
    }
    for r in sqlx::query("SELECT day, year, kind, name FROM kernel_calendar_days ORDER BY day")
        .fetch_all(db.pool())
        .await?
    {
        let (day, year, kind, name): (String, i64, String, String) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        let date = NaiveDate::parse_from_str(&day, "%Y-%m-%d")
            .map_err(|e| Error::internal(format!("kernel_calendar_days.day {day}: {e}")))?;
        let kind = DayKind::from_code(&kind)
            .ok_or_else(|| Error::internal(format!("kernel_calendar_days.kind {kind}")))?;
        let data = years
            .get_mut(&year)
            .ok_or_else(|| Error::internal(format!("calendar day {day} of unknown year")))?;
        data.days.push((date, kind, name));
    }
    Ok(years.into_values().collect())
}

/// Replaces the stored schedule of `data.year` in one transaction, with its audit record.
pub async fn store_year(db: &Db, actor: &AuditActor, data: &YearData) -> Result<()> {
    data.validate()
        .map_err(|m| Error::field("calendar", "invalid_calendar", m))?;
    let now = db.now();
    let year = i64::from(data.year);
    let mut tx = db.begin().await?;
    // The upsert comes first: its row lock makes a concurrent store of the same year wait.
    sqlx::query(
        "INSERT INTO kernel_calendar_years (year, provisional, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (year) DO UPDATE SET provisional = excluded.provisional, updated_at = excluded.updated_at",
    )
    .bind(year)
    .bind(i64::from(data.provisional))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let generation: i64 = sqlx::query("SELECT value FROM kernel_meta WHERE key = $1")
        .bind(GENERATION_KEY)
        .fetch_optional(&mut *tx)
        .await?
        .and_then(|r| r.get::<String, _>(0).parse().ok())
        .unwrap_or(0);
    crate::migrate::set_meta(&mut tx, GENERATION_KEY, &(generation + 1).to_string()).await?;
    let before: i64 = sqlx::query("SELECT COUNT(*) FROM kernel_calendar_days WHERE year = $1")
        .bind(year)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
    sqlx::query("DELETE FROM kernel_calendar_days WHERE year = $1")
        .bind(year)
        .execute(&mut *tx)
        .await?;
    let mut days = Vec::with_capacity(data.days.len());
    for (date, kind, name) in &data.days {
        let day = date.format("%Y-%m-%d").to_string();
        sqlx::query(
            "INSERT INTO kernel_calendar_days (day, year, kind, name) VALUES ($1, $2, $3, $4)",
        )
        .bind(&day)
        .bind(year)
        .bind(kind.code())
        .bind(name)
        .execute(&mut *tx)
        .await?;
        days.push(json!({"day": day, "kind": kind.code(), "name": name}));
    }
    audit::record(
        &mut tx,
        now,
        actor,
        "calendar_year",
        data.year,
        if before == 0 { "create" } else { "replace" },
        json!({"year": data.year, "provisional": data.provisional, "days": days}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// `"2026-02-13 10:00"` China time as UTC milliseconds.
    fn at(s: &str) -> Millis {
        let (d, t) = s.split_once(' ').unwrap();
        day_start(date(d)) + time_ms(NaiveTime::parse_from_str(t, "%H:%M").unwrap())
    }

    fn show(ms: Millis) -> String {
        crate::clock::format_minute(ms)
    }

    #[test]
    fn china_time_conversion_round_trips() {
        // 2026-02-13 10:00 China is 02:00 UTC.
        assert_eq!(at("2026-02-13 10:00"), 1_770_948_000_000);
        assert_eq!(
            split(at("2026-02-13 10:00")),
            (date("2026-02-13"), 10 * 3_600_000)
        );
        assert_eq!(split(at("2026-02-13 00:00")).0, date("2026-02-13"));
        assert_eq!(split(at("2026-02-13 00:00") - 1).0, date("2026-02-12"));
    }

    #[test]
    fn builtin_years_parse_and_are_covered() {
        let cal = Calendar::builtin();
        assert_eq!(cal.years(), vec![2025, 2026, 2027]);
        assert!(cal.covers(2026) && !cal.covers(2028));
        assert!(!cal.is_provisional(2026));
        assert!(cal.is_provisional(2027));
        for y in builtin_years() {
            assert_eq!(
                YearData::parse_toml(&y.to_toml()),
                Ok(y.clone()),
                "{}",
                y.year
            );
        }
        // No 调休 workdays invented for the provisional year.
        assert!(builtin_years()[2]
            .days
            .iter()
            .all(|(_, k, _)| *k == DayKind::Holiday));
    }

    #[test]
    fn spring_festival_2026_with_adjusted_workdays() {
        let cal = Calendar::builtin();
        assert_eq!(cal.kind(date("2026-02-14")), DayKind::AdjustedWorkday);
        assert!(
            cal.is_workday(date("2026-02-14")),
            "调休 Saturday is worked"
        );
        assert_eq!(cal.day_name(date("2026-02-14")), Some("春节"));
        for d in 15..=23 {
            let day = NaiveDate::from_ymd_opt(2026, 2, d).unwrap();
            assert_eq!(cal.kind(day), DayKind::Holiday, "{day}");
        }
        assert_eq!(cal.kind(date("2026-02-24")), DayKind::Workday);
        assert_eq!(cal.kind(date("2026-02-28")), DayKind::AdjustedWorkday);
        assert_eq!(cal.kind(date("2026-03-01")), DayKind::Weekend);
        assert_eq!(cal.day_name(date("2026-03-02")), None);
        assert_eq!(cal.next_working_day(date("2026-02-13")), date("2026-02-14"));
        assert_eq!(cal.next_working_day(date("2026-02-14")), date("2026-02-24"));

        // A complaint received on Friday with 5 working days: 2/14 is the first, then 2/24–2/27.
        let due = cal.add_working_days(at("2026-02-13 10:00"), 5);
        assert_eq!(show(due), "2026-02-27 17:30");
        // Office time runs on the 调休 Saturday and not through the holiday.
        assert_eq!(
            show(cal.add_working_minutes(at("2026-02-13 17:00"), 60)),
            "2026-02-14 09:30"
        );
        assert_eq!(
            show(cal.add_working_minutes(at("2026-02-14 17:00"), 60)),
            "2026-02-24 09:30"
        );
        assert_eq!(
            cal.working_minutes_between(at("2026-02-13 17:00"), at("2026-02-24 09:30")),
            30 + 7 * 60 + 30
        );
    }

    #[test]
    fn national_day_2026_with_adjusted_workdays() {
        let cal = Calendar::builtin();
        assert_eq!(cal.kind(date("2026-09-20")), DayKind::AdjustedWorkday);
        assert_eq!(cal.kind(date("2026-10-10")), DayKind::AdjustedWorkday);
        assert_eq!(cal.day_name(date("2026-10-10")), Some("国庆节"));
        assert_eq!(cal.day_name(date("2026-09-25")), Some("中秋节"));
        // Friday 9/18: Sunday 9/20 is the first working day, then 9/21, 9/22.
        assert_eq!(
            show(cal.add_working_days(at("2026-09-18 16:00"), 3)),
            "2026-09-22 17:30"
        );
        // 9/30: the week off, then Thursday 10/8, Friday 10/9, Saturday 10/10.
        assert_eq!(
            show(cal.add_working_days(at("2026-09-30 09:00"), 2)),
            "2026-10-09 17:30"
        );
        assert_eq!(
            show(cal.add_working_days(at("2026-09-30 09:00"), 3)),
            "2026-10-10 17:30"
        );
        assert_eq!(
            show(cal.add_working_minutes(at("2026-09-30 17:00"), 60)),
            "2026-10-08 09:30"
        );
    }

    #[test]
    fn national_day_2025_is_an_eight_day_break() {
        let cal = Calendar::builtin();
        let off: Vec<_> = (1..=11)
            .map(|d| cal.kind(NaiveDate::from_ymd_opt(2025, 10, d).unwrap()))
            .collect();
        assert_eq!(&off[..8], &[DayKind::Holiday; 8]);
        assert_eq!(off[8], DayKind::Workday);
        assert_eq!(off[10], DayKind::AdjustedWorkday);
        assert_eq!(cal.kind(date("2025-09-28")), DayKind::AdjustedWorkday);
        assert_eq!(cal.day_name(date("2025-10-05")), Some("国庆节、中秋节"));
        assert_eq!(
            show(cal.add_working_minutes(at("2025-09-30 17:00"), 60)),
            "2025-10-09 09:30"
        );
        assert_eq!(
            show(cal.add_working_days(at("2025-09-30 09:00"), 3)),
            "2025-10-11 17:30"
        );
    }

    #[test]
    fn working_minutes_skip_lunch_and_nights() {
        let cal = Calendar::builtin();
        // Monday 2026-03-02: 11:00 + 2h = 12:00, lunch, 13:30–14:30.
        let a = at("2026-03-02 11:00");
        assert_eq!(show(cal.add_working_minutes(a, 120)), "2026-03-02 14:30");
        assert_eq!(cal.working_minutes_between(a, at("2026-03-02 14:30")), 120);
        // Ending exactly at noon stays at noon.
        assert_eq!(show(cal.add_working_minutes(a, 60)), "2026-03-02 12:00");
        // Starting at lunch, at night or before opening counts from the next period.
        assert_eq!(
            show(cal.add_working_minutes(at("2026-03-02 12:30"), 30)),
            "2026-03-02 14:00"
        );
        assert_eq!(
            show(cal.add_working_minutes(at("2026-03-02 20:00"), 30)),
            "2026-03-03 09:30"
        );
        assert_eq!(
            show(cal.add_working_minutes(at("2026-03-03 06:00"), 30)),
            "2026-03-03 09:30"
        );
        // Over a weekend.
        assert_eq!(
            show(cal.add_working_minutes(at("2026-03-06 17:00"), 60)),
            "2026-03-09 09:30"
        );
        assert_eq!(cal.office_hours().minutes_per_day(), 420);
        assert_eq!(
            show(cal.add_working_minutes(at("2026-03-02 09:00"), 420)),
            "2026-03-02 17:30"
        );
        assert_eq!(cal.working_minutes_between(a, a), 0);
        assert_eq!(cal.working_minutes_between(a, a - 1), 0);
        assert_eq!(cal.add_working_minutes(a, 0), a);
    }

    #[test]
    fn day_deadlines_and_calendar_days() {
        let cal = Calendar::builtin();
        // Same-day deadline; on a holiday it moves to the next working day.
        assert_eq!(
            show(cal.add_working_days(at("2026-03-02 20:00"), 0)),
            "2026-03-02 17:30"
        );
        assert_eq!(
            show(cal.add_working_days(at("2026-10-01 10:00"), 0)),
            "2026-10-08 17:30"
        );
        // The day of `from` does not count, even when received after hours.
        assert_eq!(
            show(cal.add_working_days(at("2026-03-02 23:00"), 1)),
            "2026-03-03 17:30"
        );
        // Calendar days count the China date: 07:00 China is still the previous UTC day.
        let end = cal.add_calendar_days(at("2026-02-13 07:00"), 7);
        assert_eq!(end, at("2026-02-21 00:00") - 1);
        assert_eq!(
            crate::clock::rfc3339(end),
            "2026-02-20T23:59:59+08:00".to_string()
        );
        assert_eq!(
            cal.add_calendar_days(at("2026-02-13 23:30"), 0),
            at("2026-02-14 00:00") - 1
        );
    }

    #[test]
    fn overlays_and_replaced_years() {
        let local = (date("2026-03-03"), DayKind::Holiday, "本地假日".to_owned());
        let cal = Calendar::builtin().with_days([local]);
        assert!(!cal.is_workday(date("2026-03-03")));
        assert_eq!(cal.day_name(date("2026-03-03")), Some("本地假日"));

        let replaced = cal.with_year(YearData {
            year: 2026,
            provisional: true,
            days: vec![(date("2026-01-01"), DayKind::Holiday, "元旦".into())],
        });
        assert!(replaced.is_provisional(2026));
        assert_eq!(replaced.kind(date("2026-02-16")), DayKind::Workday);
        assert_eq!(replaced.kind(date("2026-02-14")), DayKind::Weekend);
        assert_eq!(replaced.kind(date("2026-03-03")), DayKind::Workday);
        // Other years keep their days.
        assert_eq!(replaced.kind(date("2025-10-08")), DayKind::Holiday);

        let beyond = Calendar::builtin();
        assert!(!beyond.covers(2030));
        assert_eq!(beyond.kind(date("2030-01-01")), DayKind::Workday);
    }

    #[test]
    fn custom_office_hours() {
        let t = |s| NaiveTime::parse_from_str(s, "%H:%M").unwrap();
        let hours =
            OfficeHours::new(vec![(t("08:30"), t("12:00")), (t("14:00"), t("18:00"))]).unwrap();
        assert_eq!(hours.minutes_per_day(), 450);
        let cal = Calendar::builtin().with_office_hours(hours);
        assert_eq!(
            show(cal.add_working_days(at("2026-03-02 10:00"), 1)),
            "2026-03-03 18:00"
        );
        assert_eq!(
            show(cal.add_working_minutes(at("2026-03-02 11:30"), 60)),
            "2026-03-02 14:30"
        );
        let e = OfficeHours::new(vec![(t("12:00"), t("09:00"))]).unwrap_err();
        assert!(e.contains("开始时间应早于结束时间"), "{e}");
        let e =
            OfficeHours::new(vec![(t("09:00"), t("12:00")), (t("11:00"), t("17:00"))]).unwrap_err();
        assert!(e.contains("重叠"), "{e}");
        assert!(OfficeHours::new(vec![]).is_err());
    }

    #[test]
    fn long_spans_skip_weeks_consistently() {
        // Far past the listed days the week-skipping path is taken; it must agree with the
        // day-by-day count.
        let cal = Calendar::builtin();
        let a = at("2030-01-07 10:00");
        let m = 420 * 5 * 30 + 17;
        let b = cal.add_working_minutes(a, m);
        assert_eq!(cal.working_minutes_between(a, b), m);
        let slow = Calendar::weekends_only().with_days([(
            date("2040-01-01"),
            DayKind::Holiday,
            "x".to_owned(),
        )]);
        assert_eq!(slow.add_working_minutes(a, m), b);
    }

    #[test]
    fn bad_files_are_refused_in_chinese() {
        let err = |text: &str| YearData::parse_toml(text).unwrap_err();
        let e = err("year = 2026\nprovisional = false\n[[holiday]\n");
        assert!(e.contains("第 3 行不是合法的 TOML"), "{e}");
        let e = err("provisional = false\n[[holiday]]\nname = \"元旦\"\ndays = [\"2026-01-01\"]");
        assert!(e.contains("缺少年份 year"), "{e}");
        let e = err("year = 2026\n[[holiday]]\nname = \"元旦\"\ndays = [\"2026-01-01\"]");
        assert!(e.contains("缺少 provisional"), "{e}");
        let e = err("year = 2026\nprovisional = false\nholidays = 1");
        assert!(
            e.contains("未知的字段 holidays") && e.contains("没有任何节日"),
            "{e}"
        );

        let file = |days: &str, workdays: &str| {
            format!("year = 2026\nprovisional = false\n[[holiday]]\nname = \"春节\"\ndays = [{days}]\nworkdays = [{workdays}]\n")
        };
        let e = err(&file("\"2026-02-30\"", ""));
        assert!(e.contains("\"2026-02-30\" 不是有效日期"), "{e}");
        let e = err(&file("\"2025-12-31\"", ""));
        assert!(e.contains("2025-12-31（春节）不在 2026 年内"), "{e}");
        let e = err(&file("\"2026-02-14\"", "\"2026-02-14\""));
        assert!(e.contains("2026-02-14 既是放假日又是调休上班日"), "{e}");
        let e = err(&file("\"2026-02-15\"", "\"2026-02-16\""));
        assert!(
            e.contains("调休上班日 2026-02-16（春节）是星期一，调休上班日只能是周六或周日"),
            "{e}"
        );
        let e = err(&file("\"2026-02-15\", \"2026-02-15\"", ""));
        assert!(e.contains("2026-02-15 重复出现"), "{e}");
        let long = "很长的节日名称".repeat(4);
        let e = err(&format!(
            "year = 2026\nprovisional = false\n[[holiday]]\nname = \"{long}\"\ndays = [\"2026-01-01\", \"2026-01-02\"]"
        ));
        assert_eq!(e.matches("不能超过 20 个字").count(), 1, "{e}");
        let e = err(&file("", ""));
        assert!(e.contains("没有放假日期"), "{e}");
        // Several problems are reported together.
        let e = err(&file("\"2025-12-31\"", "\"2026-02-16\""));
        assert!(e.contains("不在 2026 年内") && e.contains("星期一"), "{e}");

        // Bare TOML dates are accepted as well as strings.
        let ok = YearData::parse_toml(
            "year = 2026\nprovisional = true\n[[holiday]]\nname = \"元旦\"\ndays = [2026-01-01]\n",
        )
        .unwrap();
        assert_eq!(
            ok.days,
            vec![(date("2026-01-01"), DayKind::Holiday, "元旦".into())]
        );
    }

    #[test]
    fn day_kinds_have_codes_and_labels() {
        for k in [
            DayKind::Workday,
            DayKind::Weekend,
            DayKind::Holiday,
            DayKind::AdjustedWorkday,
        ] {
            assert_eq!(DayKind::from_code(k.code()), Some(k));
        }
        assert_eq!(DayKind::AdjustedWorkday.label(), "调休上班");
        assert!(DayKind::AdjustedWorkday.is_working() && !DayKind::Holiday.is_working());
    }

    /// Whether `ms` is inside (or at the end of) an office period on a working day.
    fn in_office(cal: &Calendar, ms: Millis) -> bool {
        let (d, tod) = split(ms);
        cal.is_workday(d) && cal.office_hours().spans().any(|(s, e)| s < tod && tod <= e)
    }

    const FROM: Millis = 1_735_660_800_000; // 2025-01-01 00:00 China
    const TO: Millis = 1_830_268_800_000; // 2028-01-01 00:00 China

    proptest! {
        #[test]
        fn working_minutes_are_consistent(a in FROM..TO, m in 0i64..30_000, extra in 0i64..3_000) {
            let cal = Calendar::builtin();
            let end = cal.add_working_minutes(a, m);
            prop_assert!(end >= a);
            prop_assert!(cal.add_working_minutes(a, m + extra) >= end);
            if m >= 1 {
                prop_assert_eq!(cal.working_minutes_between(a, end), m);
                prop_assert!(in_office(&cal, end), "{} is outside office hours", show(end));
            }
        }

        #[test]
        fn day_deadlines_close_a_working_day(a in FROM..TO, days in 0u32..60) {
            let cal = Calendar::builtin();
            let due = cal.add_working_days(a, days);
            let (d, tod) = split(due);
            prop_assert!(cal.is_workday(d));
            prop_assert_eq!(tod, time_ms(cal.office_hours().closing()));
            prop_assert!(in_office(&cal, due));
            if days >= 1 {
                prop_assert!(d > split(a).0);
                prop_assert!(cal.add_working_days(a, days + 1) > due);
            }
        }
    }
}
