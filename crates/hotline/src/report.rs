//! 热线统计报表: KPIs per period and group, the monthly 运行情况 report and the weekly 典型案例专报.
//!
//! Every figure comes from the timeline (`hotline_events`), replayed ticket by ticket, so a ticket
//! that spans periods counts in the period where each thing happened to it: created in March and
//! replied in April, it is received in March and replied in April. Deadlines are those in force at
//! the moment (the dispatch's, moved by approved extensions and by pauses), never today's values.
//! [`Kpis`] documents each definition; [`kpis`] is the entry point, the routes and the command
//! line build on it.
//!
//! The SQL here only reads `hotline_tickets` and `hotline_events`; names of departments, regions
//! and categories come through the org and hotline services.

use crate::domain::{CallbackResult, Category, DeadlinePolicy, Status, TicketKind, Urgency};
use crate::service::HotlineService;
use crate::ticket::store;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use kernel::calendar::{self, Calendar};
use kernel::clock::{format_minute, Millis};
use kernel::codes::RegionLevel;
use kernel::error::{Error, Result};
use kernel::{mask, Actor, Db, Role, Scope};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};
use utoipa::{IntoParams, OpenApi, ToSchema};
use webcore::{ApiActor, ApiResult, AppCtx, Query};

// ---------------------------------------------------------------------------------------------
// Periods
// ---------------------------------------------------------------------------------------------

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
        .and_local_timezone(kernel::clock::china())
        .single()
        .expect("fixed offset")
        .timestamp_millis()
}

/// `3月10日`, or `2024年12月30日` when the year must be said.
fn month_day(d: NaiveDate, with_year: bool) -> String {
    if with_year {
        format!("{}年{}月{}日", d.year(), d.month(), d.day())
    } else {
        format!("{}月{}日", d.month(), d.day())
    }
}

fn span(from: NaiveDate, to: NaiveDate, year_first: bool) -> String {
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

// ---------------------------------------------------------------------------------------------
// Grouping and the figures
// ---------------------------------------------------------------------------------------------

/// How rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// One row: the whole scope.
    Total,
    /// The department that held the ticket when each thing happened.
    Department,
    /// The ticket's region code cut to a level (district = the first 6 digits).
    Region(RegionLevel),
    /// The level-1 category of the ticket.
    Category,
}

impl GroupBy {
    /// `by` is `total`, `department`, `region` or `category`; `level` (regions only) is
    /// `province`, `city`, `district` (default), `street` or `community`, or the kernel's
    /// `county`, `town`, `village`.
    pub fn parse(by: &str, level: Option<&str>) -> Result<GroupBy> {
        Ok(match by.trim() {
            "" | "total" => GroupBy::Total,
            "department" | "dept" => GroupBy::Department,
            "category" => GroupBy::Category,
            "region" => GroupBy::Region(match level.map(str::trim).unwrap_or("") {
                "" | "district" | "county" => RegionLevel::County,
                "province" => RegionLevel::Province,
                "city" => RegionLevel::City,
                "street" | "town" => RegionLevel::Town,
                "community" | "village" => RegionLevel::Village,
                _ => {
                    return Err(Error::field(
                        "level",
                        "invalid_enum",
                        "地区层级只能是 province、city、district、street 或 community",
                    ))
                }
            }),
            _ => {
                return Err(Error::field(
                    "by",
                    "invalid_enum",
                    "分组只能是 total、department、region 或 category",
                ))
            }
        })
    }

    pub fn code(&self) -> &'static str {
        match self {
            GroupBy::Total => "total",
            GroupBy::Department => "department",
            GroupBy::Region(_) => "region",
            GroupBy::Category => "category",
        }
    }

    /// The header of the name column.
    pub fn label(&self) -> &'static str {
        match self {
            GroupBy::Total => "范围",
            GroupBy::Department => "承办单位",
            GroupBy::Region(_) => "地区",
            GroupBy::Category => "诉求分类",
        }
    }
}

/// The figures of one group in one period. Counts are of events that happened in the period
/// (China time, `[start, end)`), attributed as [`GroupBy`] says; rates are fractions (0.9719 is
/// 97.19%), rounded to four places, `null` when their denominator is zero.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Kpis {
    /// 受理量: tickets created in the period (imported history at the time it was written; parts
    /// of a split ticket are not counted again).
    pub received: i64,
    /// Tickets accepted (受理) in the period: at intake, by an `accept`, or when an operator
    /// answered or forwarded a ticket still waiting for acceptance.
    pub accepted: i64,
    /// Tickets answered at once (即时解答) by the hotline in the period.
    pub answered_now: i64,
    /// 即时解答率 = answered_now / accepted.
    pub answered_now_rate: Option<f64>,
    /// Dispatches (派单) to a department in the period (reopens are not dispatches).
    pub dispatched: i64,
    /// Returns (退单) by a department in the period.
    pub returned: i64,
    /// 派单准确率 = 1 − returned / dispatched (not below 0).
    pub dispatch_accuracy: Option<f64>,
    /// Acknowledgements (签收) in the period.
    pub acknowledged: i64,
    /// … of them no later than the acknowledge deadline set at dispatch or reopen.
    pub acknowledged_on_time: i64,
    /// 按时签收率 = acknowledged_on_time / acknowledged.
    pub ack_on_time_rate: Option<f64>,
    /// Department replies (答复) in the period.
    pub replied: i64,
    /// … of them no later than the reply deadline in force at reply time (the dispatch's or
    /// reopen's, moved by approved extensions and by the time paused waiting for the citizen).
    pub replied_on_time: i64,
    /// 按时办结率 = replied_on_time / replied.
    pub on_time_rate: Option<f64>,
    /// Handlings (from a dispatch or reopen) that had to be replied in the period: their reply
    /// deadline in force (at reply time, or at the period's end if not replied by then) falls in
    /// the period. Handlings ended by a return or a merge are not counted.
    pub due: i64,
    /// … of them replied by the period's end.
    pub due_replied: i64,
    /// 回复率 = due_replied / due.
    pub reply_rate: Option<f64>,
    /// Callbacks and citizens' ratings in the period, by result.
    pub satisfied: i64,
    pub basically_satisfied: i64,
    pub unsatisfied: i64,
    pub unreached: i64,
    /// 回访满意率 = (satisfied + basically_satisfied) / (satisfied + basically_satisfied +
    /// unsatisfied): 未接通 is not a result.
    pub satisfaction_rate: Option<f64>,
    /// Reopens (重办) in the period, by a supervisor or on an unsatisfied callback; counted
    /// against the department whose reply was reopened.
    pub reopened: i64,
    /// 重办率 = reopened / replied.
    pub reopen_rate: Option<f64>,
    /// Average working hours (kernel working calendar) from dispatch or reopen to the reply, over
    /// the replies in the period; one decimal.
    pub avg_handling_hours: Option<f64>,
    /// 超期未办结: handlings not replied at the period's end whose reply deadline in force had
    /// passed by then (however long ago).
    pub overdue_open: i64,
    /// Tickets open at the period's end (not closed, archived, merged or split).
    pub open_at_end: i64,
    /// Supervisions (督办) in the period.
    pub supervised: i64,
    #[serde(skip)]
    handled: i64,
    #[serde(skip)]
    handling_minutes: i64,
}

fn ratio(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| (n as f64 / d as f64 * 10_000.0).round() / 10_000.0)
}

impl Kpis {
    fn finish(&mut self) {
        self.answered_now_rate = ratio(self.answered_now, self.accepted);
        self.dispatch_accuracy = (self.dispatched > 0)
            .then(|| ratio(self.dispatched - self.returned, self.dispatched))
            .flatten()
            .map(|r| r.max(0.0));
        self.ack_on_time_rate = ratio(self.acknowledged_on_time, self.acknowledged);
        self.on_time_rate = ratio(self.replied_on_time, self.replied);
        self.reply_rate = ratio(self.due_replied, self.due);
        let good = self.satisfied + self.basically_satisfied;
        self.satisfaction_rate = ratio(good, good + self.unsatisfied);
        self.reopen_rate = ratio(self.reopened, self.replied);
        self.avg_handling_hours = (self.handled > 0).then(|| {
            (self.handling_minutes as f64 / self.handled as f64 / 60.0 * 10.0).round() / 10.0
        });
    }

    /// Callbacks with a result (未接通 excluded).
    pub fn rated(&self) -> i64 {
        self.satisfied + self.basically_satisfied + self.unsatisfied
    }

    fn is_empty(&self) -> bool {
        self.received == 0
            && self.accepted == 0
            && self.dispatched == 0
            && self.returned == 0
            && self.acknowledged == 0
            && self.replied == 0
            && self.due == 0
            && self.rated() + self.unreached == 0
            && self.reopened == 0
            && self.overdue_open == 0
            && self.open_at_end == 0
            && self.supervised == 0
    }
}

/// One group: its figures this period and the period before.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KpiRow {
    /// Department id, region code or category id; `total`, or `none` for the group of tickets
    /// without one (never dispatched, no region, no category).
    pub key: String,
    pub name: String,
    pub kpis: Kpis,
    /// The same figures in the previous period, for the trend (环比).
    pub previous: Kpis,
}

/// KPIs of a period by group, with the previous period for the trend.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KpiTable {
    /// `2025-03`, `2025-W11` or `2025-03-01..2025-03-15`.
    pub period: String,
    pub period_label: String,
    /// Start, included, RFC 3339 China time.
    pub start: String,
    /// End, excluded, RFC 3339 China time.
    pub end: String,
    pub previous_period: String,
    pub previous_label: String,
    /// `total`, `department`, `region` or `category`.
    pub by: String,
    /// Region level for `by=region`: `province`, `city`, `county`, `town` or `village`.
    pub level: Option<String>,
    /// 全部 (region-wide readers) or 本单位 (department users: only their departments' rows
    /// and figures).
    pub scope: String,
    pub rows: Vec<KpiRow>,
    pub total: KpiRow,
}

// ---------------------------------------------------------------------------------------------
// Who may read what
// ---------------------------------------------------------------------------------------------

const READERS: &[Role] = &[Role::Analyst, Role::Supervisor, Role::Admin];
const DEPARTMENT_ROLES: &[Role] = &[
    Role::Handler,
    Role::Clerk,
    Role::Approver,
    Role::DataOfficer,
];

#[derive(Debug, Clone)]
enum View {
    All,
    Region(String),
    Departments(Vec<i64>),
}

fn view_of(actor: &Actor) -> Result<View> {
    actor.require_scope("hotline:read")?;
    let scoped = |s: &Scope| match s {
        Scope::All => Some(View::All),
        Scope::Region { prefix } => Some(View::Region(prefix.clone())),
        Scope::Departments { ids } => Some(View::Departments(ids.clone())),
        Scope::Own => None,
    };
    let view = if actor.has_any_role(READERS) {
        scoped(&actor.scope)
    } else if actor.has_any_role(DEPARTMENT_ROLES) {
        // A department's staff see their own departments' figures, never the whole city's.
        match &actor.scope {
            Scope::Departments { ids } => Some(View::Departments(ids.clone())),
            _ => None,
        }
    } else {
        None
    };
    view.ok_or_else(|| {
        Error::forbidden("热线统计报表仅限分析员、督办员、管理员和承办单位工作人员查看")
    })
}

impl View {
    fn keeps(&self, dept: Option<i64>) -> bool {
        match self {
            View::Departments(ids) => dept.is_some_and(|d| ids.contains(&d)),
            _ => true,
        }
    }

    fn label(&self) -> &'static str {
        match self {
            View::Departments(_) => "本单位",
            _ => "全部",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Replaying the timeline
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Tk {
    id: i64,
    number: String,
    title: String,
    content: String,
    kind: TicketKind,
    urgency: Urgency,
    caller_name: Option<String>,
    address: Option<String>,
    region_code: Option<String>,
    category_id: Option<i64>,
    main_dept_id: Option<i64>,
    split_from_id: Option<i64>,
    created_at: Millis,
}

#[derive(Debug, Clone)]
struct Ev {
    ticket_id: i64,
    at: Millis,
    action: String,
    from: String,
    to: String,
    dept_id: Option<i64>,
    note: Option<String>,
    data: Value,
}

#[derive(Debug, Clone, PartialEq)]
enum FactKind {
    Received,
    Accepted,
    AnsweredNow,
    Dispatched,
    Returned,
    Acknowledged { on_time: bool },
    Replied { on_time: bool, minutes: Option<i64> },
    Rated(CallbackResult),
    Reopened { reason: Option<String> },
    Supervised,
}

/// Something that happened to a ticket, attributed to a department.
#[derive(Debug, Clone)]
struct Fact {
    at: Millis,
    dept: Option<i64>,
    kind: FactKind,
}

/// One handling by a department: from a dispatch or reopen to the reply (or a return or merge).
#[derive(Debug, Clone)]
struct Handling {
    dept: Option<i64>,
    start: Millis,
    ack_due: Option<Millis>,
    /// Reply deadlines as they were set: (when, deadline).
    deadlines: Vec<(Millis, Millis)>,
    /// Pauses waiting for the citizen: (from, until).
    pauses: Vec<(Millis, Option<Millis>)>,
    /// When it ended, and whether by a reply.
    end: Option<(Millis, bool)>,
}

impl Handling {
    /// The reply deadline in force at `t`. While paused, the clock stands still: the deadline
    /// moves by the working time paused so far, as `resume` will make it.
    fn due_at(&self, t: Millis, cal: &Calendar) -> Option<Millis> {
        let (_, due) = self.deadlines.iter().rev().find(|(set, _)| *set <= t)?;
        let paused: i64 = self
            .pauses
            .iter()
            .filter(|(from, until)| *from <= t && until.is_none_or(|u| u > t))
            .map(|(from, _)| cal.working_minutes_between(*from, t))
            .sum();
        Some(cal.add_working_minutes(*due, paused))
    }
}

#[derive(Debug, Clone)]
struct History {
    t: Tk,
    facts: Vec<Fact>,
    handlings: Vec<Handling>,
    /// After each event: (when, status, department holding the ticket).
    states: Vec<(Millis, String, Option<i64>)>,
}

fn is_open_status(s: &str) -> bool {
    !matches!(s, "closed" | "archived" | "merged" | "split")
}

fn num(data: &Value, key: &str) -> Option<i64> {
    data.get(key).and_then(Value::as_i64)
}

impl History {
    fn state_at(&self, t: Millis) -> Option<&(Millis, String, Option<i64>)> {
        let i = self.states.partition_point(|(at, _, _)| *at < t);
        i.checked_sub(1).map(|i| &self.states[i])
    }

    fn fact(&mut self, at: Millis, dept: Option<i64>, kind: FactKind) {
        self.facts.push(Fact { at, dept, kind });
    }

    fn end_handling(&mut self, open: &mut Option<usize>, at: Millis, replied: bool) {
        if let Some(i) = open.take() {
            self.handlings[i].end = Some((at, replied));
        }
    }

    fn replay(
        t: Tk,
        events: &[Ev],
        cal: &Calendar,
        policies: &HashMap<(TicketKind, Urgency), DeadlinePolicy>,
    ) -> History {
        let main = t.main_dept_id;
        let policy = policies
            .get(&(t.kind, t.urgency))
            .copied()
            .unwrap_or_else(|| DeadlinePolicy::default_for(t.kind, t.urgency));
        let mut h = History {
            t,
            facts: Vec::new(),
            handlings: Vec::new(),
            states: Vec::with_capacity(events.len()),
        };
        // The department holding the ticket, and the handling in progress.
        let mut holder: Option<i64> = None;
        let mut open: Option<usize> = None;
        for e in events {
            let at = e.at;
            match e.action.as_str() {
                // The parts of a split ticket were received and accepted as their parent.
                "create" if h.t.split_from_id.is_none() => {
                    h.fact(at, holder.or(main), FactKind::Received);
                    if e.to == "accepted" {
                        h.fact(at, holder.or(main), FactKind::Accepted);
                    }
                }
                "accept" => h.fact(at, holder.or(main), FactKind::Accepted),
                "submit_for_dispatch" if e.from == "created" => {
                    h.fact(at, holder.or(main), FactKind::Accepted)
                }
                "answer_now" => {
                    if e.from == "created" {
                        h.fact(at, holder.or(main), FactKind::Accepted);
                    }
                    h.fact(at, holder.or(main), FactKind::AnsweredNow);
                }
                "dispatch" => {
                    h.end_handling(&mut open, at, false);
                    let dept = e.dept_id.or(num(&e.data, "main_dept_id"));
                    h.fact(at, dept, FactKind::Dispatched);
                    holder = dept;
                    h.handlings.push(Handling {
                        dept,
                        start: at,
                        ack_due: num(&e.data, "ack_due"),
                        deadlines: num(&e.data, "reply_due")
                            .map(|d| vec![(at, d)])
                            .unwrap_or_default(),
                        pauses: Vec::new(),
                        end: None,
                    });
                    open = Some(h.handlings.len() - 1);
                }
                "acknowledge" => {
                    // No known deadline (e.g. imported history): nothing was missed.
                    let on_time = open
                        .and_then(|i| h.handlings[i].ack_due)
                        .is_none_or(|d| at <= d);
                    h.fact(at, e.dept_id.or(holder), FactKind::Acknowledged { on_time });
                }
                "return" => {
                    h.fact(at, e.dept_id.or(holder), FactKind::Returned);
                    h.end_handling(&mut open, at, false);
                    holder = None;
                }
                "decide_extension" => {
                    let approved = e.data.get("approve").and_then(Value::as_bool) == Some(true);
                    if let (true, Some(i), Some(due)) = (approved, open, num(&e.data, "reply_due"))
                    {
                        h.handlings[i].deadlines.push((at, due));
                    }
                }
                "pause" => {
                    if let Some(i) = open {
                        h.handlings[i].pauses.push((at, None));
                    }
                }
                "resume" => {
                    if let Some(i) = open {
                        let hd = &mut h.handlings[i];
                        if let Some(p) = hd.pauses.iter_mut().rev().find(|p| p.1.is_none()) {
                            p.1 = Some(at);
                        }
                        if let Some(due) = num(&e.data, "reply_due") {
                            hd.deadlines.push((at, due));
                        }
                    }
                }
                "reply" => {
                    let (on_time, minutes) = match open {
                        Some(i) => {
                            let hd = &h.handlings[i];
                            let due = hd.due_at(at, cal);
                            (
                                due.is_none_or(|d| at <= d),
                                Some(cal.working_minutes_between(hd.start, at)),
                            )
                        }
                        None => (true, None),
                    };
                    h.fact(
                        at,
                        e.dept_id.or(holder),
                        FactKind::Replied { on_time, minutes },
                    );
                    h.end_handling(&mut open, at, true);
                }
                "callback" | "rate" => {
                    let result = e
                        .data
                        .get("result")
                        .and_then(Value::as_str)
                        .and_then(CallbackResult::parse);
                    if let Some(r) = result {
                        h.fact(at, holder.or(main), FactKind::Rated(r));
                    }
                    if e.action == "callback" && e.to == "dispatched" {
                        Self::reopen(&mut h, e, cal, policy, &mut holder, &mut open);
                    }
                }
                "reopen" => Self::reopen(&mut h, e, cal, policy, &mut holder, &mut open),
                "merge" | "split" => h.end_handling(&mut open, at, false),
                "supervise" => h.fact(at, holder.or(main), FactKind::Supervised),
                _ => {}
            }
            h.states.push((at, e.to.clone(), holder));
        }
        // Imported history (留言板 and older systems) has no `create` event, only an `import`
        // at import time: it was received and accepted when it was written.
        let created = events.iter().any(|e| e.action == "create");
        if !created && h.t.split_from_id.is_none() {
            h.fact(h.t.created_at, main, FactKind::Received);
            h.fact(h.t.created_at, main, FactKind::Accepted);
        }
        h
    }

    /// A reopen counts against the department whose reply failed and starts a new handling,
    /// with the deadlines `reopen` sets (recomputed when the event does not carry them).
    fn reopen(
        h: &mut History,
        e: &Ev,
        cal: &Calendar,
        policy: DeadlinePolicy,
        holder: &mut Option<i64>,
        open: &mut Option<usize>,
    ) {
        let main = h.t.main_dept_id;
        h.fact(
            e.at,
            holder.or(e.dept_id).or(main),
            FactKind::Reopened {
                reason: e.note.clone(),
            },
        );
        h.end_handling(open, e.at, false);
        let dept = e.dept_id.or(*holder).or(main);
        let ack_due = num(&e.data, "ack_due")
            .unwrap_or_else(|| cal.add_working_minutes(e.at, policy.ack_minutes));
        let reply_due = num(&e.data, "reply_due")
            .unwrap_or_else(|| cal.add_working_days(e.at, policy.reply_days));
        h.handlings.push(Handling {
            dept,
            start: e.at,
            ack_due: Some(ack_due),
            deadlines: vec![(e.at, reply_due)],
            pauses: Vec::new(),
            end: None,
        });
        *open = Some(h.handlings.len() - 1);
        *holder = dept;
    }
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Key {
    Total,
    Dept(Option<i64>),
    Region(Option<String>),
    Category(Option<i64>),
}

/// Everything a report needs, loaded once.
struct Ctx {
    db: Db,
    view: View,
    cal: Calendar,
    hists: Vec<History>,
    categories: HashMap<i64, Category>,
    depts: HashMap<i64, String>,
    /// Tickets merged into each ticket (duplicates: more callers).
    merged: HashMap<i64, i64>,
}

/// The WHERE clause choosing the tickets that matter for `[from, to)`: created before `to`, and
/// either still open or changed since `from` (a ticket closed before `from` and untouched since
/// contributes nothing). `$1` is `to`, `$2` is `from`, `$3` the region prefix.
fn ticket_filter(view: &View) -> String {
    let mut w = "t.created_at < $1 AND (t.status NOT IN ('closed', 'archived', 'merged', 'split')
        OR EXISTS (SELECT 1 FROM hotline_events x WHERE x.ticket_id = t.id AND x.at >= $2))"
        .to_owned();
    match view {
        View::All => {}
        // As in the ticket lists: a ticket without a region is visible region-wide.
        View::Region(_) => w.push_str(" AND (t.region_code IS NULL OR t.region_code LIKE $3)"),
        View::Departments(ids) => {
            let list = if ids.is_empty() {
                "NULL".to_owned()
            } else {
                ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            };
            w.push_str(&format!(
                " AND (t.main_dept_id IN ({list}) OR EXISTS (SELECT 1 FROM hotline_events d
                    WHERE d.ticket_id = t.id AND d.dept_id IN ({list})))"
            ));
        }
    }
    w
}

impl Ctx {
    async fn load(db: &Db, view: View, from: Millis, to: Millis, city: &str) -> Result<Ctx> {
        let cal = calendar::load(db).await?;
        let svc = HotlineService::new(db.clone(), city);
        let mut policies = HashMap::new();
        for k in TicketKind::ALL {
            for u in Urgency::ALL {
                policies.insert((*k, *u), svc.policy(*k, *u).await?);
            }
        }
        let filter = ticket_filter(&view);
        let prefix = match &view {
            View::Region(p) => Some(format!("{p}%")),
            _ => None,
        };
        let mut c = db.pool().acquire().await?;
        let sql = format!(
            "SELECT t.id, t.number, t.title, t.content, t.kind, t.urgency, t.caller_name,
                t.address, t.region_code, t.category_id, t.main_dept_id, t.split_from_id, t.created_at
             FROM hotline_tickets t WHERE {filter} ORDER BY t.id"
        );
        let mut q = sqlx::query(&sql).bind(to).bind(from);
        if let Some(p) = &prefix {
            q = q.bind(p.clone());
        }
        let mut tickets = Vec::new();
        for r in q.fetch_all(&mut *c).await? {
            let kind: String = r.get("kind");
            let urgency: String = r.get("urgency");
            tickets.push(Tk {
                id: r.get("id"),
                number: r.get("number"),
                title: r.get("title"),
                content: r.get("content"),
                kind: TicketKind::parse(&kind).unwrap_or(TicketKind::Help),
                urgency: Urgency::parse(&urgency).unwrap_or(Urgency::Normal),
                caller_name: r.get("caller_name"),
                address: r.get("address"),
                region_code: r.get("region_code"),
                category_id: r.get("category_id"),
                main_dept_id: r.get("main_dept_id"),
                split_from_id: r.get("split_from_id"),
                created_at: r.get("created_at"),
            });
        }
        let sql = format!(
            "SELECT e.ticket_id, e.at, e.action, e.from_status, e.to_status, e.dept_id, e.note, e.data
             FROM hotline_events e
             WHERE e.at < $1 AND e.ticket_id IN (SELECT t.id FROM hotline_tickets t WHERE {filter})
             ORDER BY e.ticket_id, e.id"
        );
        let mut q = sqlx::query(&sql).bind(to).bind(from);
        if let Some(p) = &prefix {
            q = q.bind(p.clone());
        }
        let mut events: HashMap<i64, Vec<Ev>> = HashMap::new();
        for r in q.fetch_all(&mut *c).await? {
            let e = Ev {
                ticket_id: r.get("ticket_id"),
                at: r.get("at"),
                action: r.get("action"),
                from: r.get("from_status"),
                to: r.get("to_status"),
                dept_id: r.get("dept_id"),
                note: r.get("note"),
                data: serde_json::from_str(&r.get::<String, _>("data")).unwrap_or(Value::Null),
            };
            events.entry(e.ticket_id).or_default().push(e);
        }
        let merged_rows = sqlx::query(
            "SELECT parent_id, COUNT(*) AS n FROM hotline_tickets WHERE parent_id IS NOT NULL
             AND status IN ('merged', 'closed', 'archived') GROUP BY parent_id",
        )
        .fetch_all(&mut *c)
        .await?;
        drop(c);
        let merged = merged_rows
            .iter()
            .map(|r| (r.get::<i64, _>("parent_id"), r.get::<i64, _>("n")))
            .collect();
        let hists = tickets
            .into_iter()
            .map(|t| {
                let evs = events.remove(&t.id).unwrap_or_default();
                History::replay(t, &evs, &cal, &policies)
            })
            .collect();
        let categories = svc
            .categories()
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        Ok(Ctx {
            db: db.clone(),
            view,
            cal,
            hists,
            categories,
            depts: department_names(db).await?,
            merged,
        })
    }

    /// The level-1 category of a category.
    fn level1(&self, mut id: i64) -> i64 {
        // The taxonomy has three levels; the bound only guards against a cycle in bad data.
        for _ in 0..8 {
            match self.categories.get(&id).and_then(|c| c.parent_id) {
                Some(p) => id = p,
                None => break,
            }
        }
        id
    }

    fn key(&self, by: GroupBy, h: &History, dept: Option<i64>) -> Key {
        match by {
            GroupBy::Total => Key::Total,
            GroupBy::Department => Key::Dept(dept),
            GroupBy::Region(level) => {
                Key::Region(h.t.region_code.as_deref().map(|c| region_key(c, level)))
            }
            GroupBy::Category => Key::Category(h.t.category_id.map(|c| self.level1(c))),
        }
    }

    fn dept_name(&self, d: Option<i64>) -> String {
        match d {
            None => "未派单".into(),
            Some(id) => self
                .depts
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("单位{id}")),
        }
    }

    /// The figures of `[from, to)` by group.
    fn tally(&self, from: Millis, to: Millis, by: GroupBy) -> BTreeMap<Key, Kpis> {
        let mut out: BTreeMap<Key, Kpis> = BTreeMap::new();
        let cal = &self.cal;
        for h in &self.hists {
            for f in h.facts.iter().filter(|f| f.at >= from && f.at < to) {
                if !self.view.keeps(f.dept) {
                    continue;
                }
                let k = out.entry(self.key(by, h, f.dept)).or_default();
                match &f.kind {
                    FactKind::Received => k.received += 1,
                    FactKind::Accepted => k.accepted += 1,
                    FactKind::AnsweredNow => k.answered_now += 1,
                    FactKind::Dispatched => k.dispatched += 1,
                    FactKind::Returned => k.returned += 1,
                    FactKind::Acknowledged { on_time } => {
                        k.acknowledged += 1;
                        k.acknowledged_on_time += i64::from(*on_time);
                    }
                    FactKind::Replied { on_time, minutes } => {
                        k.replied += 1;
                        k.replied_on_time += i64::from(*on_time);
                        if let Some(m) = minutes {
                            k.handled += 1;
                            k.handling_minutes += m;
                        }
                    }
                    FactKind::Rated(r) => match r {
                        CallbackResult::Satisfied => k.satisfied += 1,
                        CallbackResult::BasicallySatisfied => k.basically_satisfied += 1,
                        CallbackResult::Unsatisfied => k.unsatisfied += 1,
                        CallbackResult::Unreached => k.unreached += 1,
                    },
                    FactKind::Reopened { .. } => k.reopened += 1,
                    FactKind::Supervised => k.supervised += 1,
                }
            }
            for hd in &h.handlings {
                if hd.start >= to || !self.view.keeps(hd.dept) {
                    continue;
                }
                let (due, replied, overdue) = match hd.end {
                    Some((at, replied)) if at < to => {
                        if !replied {
                            continue;
                        }
                        (hd.due_at(at, cal), true, false)
                    }
                    // Still open: late at the period's end — or now, in a running period
                    // whose end is still to come.
                    _ => {
                        let as_of = to.min(self.db.now());
                        let due = hd.due_at(as_of - 1, cal);
                        (due, false, due.is_some_and(|d| d < as_of))
                    }
                };
                let in_period = due.is_some_and(|d| d >= from && d < to);
                if in_period || overdue {
                    let k = out.entry(self.key(by, h, hd.dept)).or_default();
                    if in_period {
                        k.due += 1;
                        k.due_replied += i64::from(replied);
                    }
                    k.overdue_open += i64::from(overdue);
                }
            }
            if let Some((_, status, holder)) = h.state_at(to) {
                let dept = holder.or(h.t.main_dept_id);
                if is_open_status(status) && self.view.keeps(dept) {
                    out.entry(self.key(by, h, dept)).or_default().open_at_end += 1;
                }
            }
        }
        for k in out.values_mut() {
            k.finish();
        }
        out
    }

    async fn table(&self, period: &Period, by: GroupBy) -> Result<KpiTable> {
        let prev = period.previous();
        let mut cur = self.tally(period.start(), period.end(), by);
        let mut before = self.tally(prev.start(), prev.end(), by);
        let mut total = self.tally(period.start(), period.end(), GroupBy::Total);
        let mut total_before = self.tally(prev.start(), prev.end(), GroupBy::Total);
        let mut keys: Vec<Key> = cur.keys().chain(before.keys()).cloned().collect();
        keys.sort();
        keys.dedup();
        let mut rows = Vec::new();
        for key in keys {
            let kpis = cur.remove(&key).unwrap_or_default();
            let previous = before.remove(&key).unwrap_or_default();
            if kpis.is_empty() && previous.is_empty() {
                continue;
            }
            let (key_text, name) = self.key_name(&key).await?;
            rows.push(KpiRow {
                key: key_text,
                name,
                kpis,
                previous,
            });
        }
        // Biggest first; the group without a department, region or category last.
        match by {
            GroupBy::Region(_) => rows.sort_by(|a, b| {
                (a.key == "none")
                    .cmp(&(b.key == "none"))
                    .then(a.key.cmp(&b.key))
            }),
            _ => rows.sort_by(|a, b| {
                (a.key == "none")
                    .cmp(&(b.key == "none"))
                    .then(b.kpis.received.cmp(&a.kpis.received))
                    .then(b.kpis.dispatched.cmp(&a.kpis.dispatched))
                    .then(b.kpis.replied.cmp(&a.kpis.replied))
                    .then(a.name.cmp(&b.name))
            }),
        }
        let rfc = |ms| kernel::clock::rfc3339(ms);
        Ok(KpiTable {
            period: period.code(),
            period_label: period.label(),
            start: rfc(period.start()),
            end: rfc(period.end()),
            previous_period: prev.code(),
            previous_label: prev.label(),
            by: by.code().into(),
            level: match by {
                GroupBy::Region(l) => Some(l.code().into()),
                _ => None,
            },
            scope: self.view.label().into(),
            rows,
            total: KpiRow {
                key: "total".into(),
                name: "合计".into(),
                kpis: total.remove(&Key::Total).unwrap_or_default(),
                previous: total_before.remove(&Key::Total).unwrap_or_default(),
            },
        })
    }

    async fn key_name(&self, key: &Key) -> Result<(String, String)> {
        Ok(match key {
            Key::Total => ("total".into(), "合计".into()),
            Key::Dept(None) => ("none".into(), "未派单".into()),
            Key::Dept(Some(d)) => (d.to_string(), self.dept_name(Some(*d))),
            Key::Region(None) => ("none".into(), "未填写地区".into()),
            Key::Region(Some(code)) => {
                let org = org::OrgService::new(self.db.clone(), Default::default());
                let name = org
                    .region_by_code(code)
                    .await?
                    .map(|r| r.name)
                    .unwrap_or_else(|| code.clone());
                (code.clone(), name)
            }
            Key::Category(None) => ("none".into(), "未分类".into()),
            Key::Category(Some(c)) => (
                c.to_string(),
                self.categories
                    .get(c)
                    .map(|c| c.name.clone())
                    .unwrap_or_else(|| format!("分类{c}")),
            ),
        })
    }

    /// Handlings not replied at `to` whose deadline had passed.
    fn overdue_at(&self, to: Millis) -> Vec<OverdueItem<'_>> {
        let mut out = Vec::new();
        for h in &self.hists {
            for hd in &h.handlings {
                if hd.start >= to
                    || hd.end.is_some_and(|(at, _)| at < to)
                    || !self.view.keeps(hd.dept)
                {
                    continue;
                }
                if let Some(due) = hd.due_at(to - 1, &self.cal).filter(|d| *d < to) {
                    out.push(OverdueItem {
                        h,
                        dept: hd.dept,
                        due,
                        minutes: self.cal.working_minutes_between(due, to),
                    });
                }
            }
        }
        out.sort_by(|a, b| a.due.cmp(&b.due).then(a.h.t.id.cmp(&b.h.t.id)));
        out
    }

    /// Tickets reopened in `[from, to)`, with their count and last reason.
    fn reopened_in(&self, from: Millis, to: Millis) -> Vec<ReopenItem<'_>> {
        let mut out = Vec::new();
        for h in &self.hists {
            let reopens: Vec<&Fact> = h
                .facts
                .iter()
                .filter(|f| f.at >= from && f.at < to && self.view.keeps(f.dept))
                .filter(|f| matches!(f.kind, FactKind::Reopened { .. }))
                .collect();
            let Some(last) = reopens.last() else { continue };
            let reason = match &last.kind {
                FactKind::Reopened { reason } => reason.clone().unwrap_or_default(),
                _ => String::new(),
            };
            out.push(ReopenItem {
                h,
                dept: last.dept,
                times: reopens.len() as i64,
                reason,
                status: h.state_at(to).map(|s| s.1.clone()).unwrap_or_default(),
            });
        }
        out
    }
}

/// Every department's name, through the org service (names are not scoped data).
async fn department_names(db: &Db) -> Result<HashMap<i64, String>> {
    let org = org::OrgService::new(db.clone(), Default::default());
    let mut out = HashMap::new();
    for page in 1.. {
        let p = org
            .departments(
                &Actor::system(),
                &org::service::DepartmentQuery::default(),
                &kernel::page::PageQuery {
                    page: Some(page),
                    per_page: Some(kernel::page::MAX_PER_PAGE),
                },
            )
            .await?;
        let n = p.items.len() as i64;
        out.extend(p.items.into_iter().map(|d| (d.id, d.name)));
        if n < kernel::page::MAX_PER_PAGE || page * kernel::page::MAX_PER_PAGE >= p.total {
            break;
        }
    }
    Ok(out)
}

/// The code of the region containing `code` at `level`, padded back to a full code.
fn region_key(code: &str, level: RegionLevel) -> String {
    let digits = level.significant_digits();
    if code.len() <= digits || !code.is_ascii() {
        return code.to_owned();
    }
    let width = if digits <= 6 { 6 } else { 12 };
    format!("{:0<width$}", &code[..digits])
}

struct OverdueItem<'a> {
    h: &'a History,
    dept: Option<i64>,
    due: Millis,
    /// Working minutes past the deadline at the period's end.
    minutes: i64,
}

struct ReopenItem<'a> {
    h: &'a History,
    dept: Option<i64>,
    times: i64,
    reason: String,
    status: String,
}

// ---------------------------------------------------------------------------------------------
// The public entry points
// ---------------------------------------------------------------------------------------------

/// KPIs of `period` grouped `by`, with the previous period for the trend. Analysts, supervisors
/// and admins see everything in their region; a department's staff only their departments.
pub async fn kpis(db: &Db, actor: &Actor, period: &Period, by: GroupBy) -> Result<KpiTable> {
    let view = view_of(actor)?;
    let ctx = Ctx::load(db, view, period.previous().start(), period.end(), "").await?;
    ctx.table(period, by).await
}

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

fn group_label(by: &str) -> String {
    match by {
        "department" => "承办单位",
        "region" => "地区",
        "category" => "诉求分类",
        _ => "范围",
    }
    .into()
}

/// The monthly (or any period's) 运行情况 report as `.docx`.
pub async fn monthly_docx(db: &Db, actor: &Actor, period: &Period, city: &str) -> Result<Vec<u8>> {
    let m = Monthly::build(db, actor, period, city).await?;
    m.docx()
}

/// The same report as an `.xlsx` workbook, one sheet per table.
pub async fn monthly_xlsx(db: &Db, actor: &Actor, period: &Period, city: &str) -> Result<Vec<u8>> {
    let m = Monthly::build(db, actor, period, city).await?;
    m.xlsx()
}

/// The 典型案例专报 of a period (normally an ISO week) as `.docx`.
pub async fn typical_docx(db: &Db, actor: &Actor, period: &Period, city: &str) -> Result<Vec<u8>> {
    let view = view_of(actor)?;
    let ctx = Ctx::load(db, view, period.previous().start(), period.end(), city).await?;
    let total = ctx.table(period, GroupBy::Total).await?.total;
    let cases = ctx.cases(period.start(), period.end());
    let mut c = db.pool().acquire().await?;
    let mut timelines = Vec::new();
    for case in &cases {
        timelines.push(store::events(&mut c, case.h.t.id).await?);
    }
    drop(c);
    typical_document(&ctx, period, city, &total, &cases, &timelines)
}

// ---------------------------------------------------------------------------------------------
// Text helpers
// ---------------------------------------------------------------------------------------------

fn pct(r: Option<f64>) -> String {
    r.map_or("—".into(), |r| format!("{:.2}%", r * 100.0))
}

fn hours(h: Option<f64>) -> String {
    h.map_or("—".into(), |h| format!("{h:.1}"))
}

/// 环比 of a count: `上升12.5%`, `下降3.0%`, `持平`, or `上期为0`.
fn trend_count(cur: i64, prev: i64) -> String {
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
fn trend_rate(cur: Option<f64>, prev: Option<f64>) -> String {
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
fn in_brackets(trend: String) -> String {
    if trend == "—" {
        String::new()
    } else {
        format!("（环比{trend}）")
    }
}

fn trend_hours(cur: Option<f64>, prev: Option<f64>) -> String {
    match (cur, prev) {
        (Some(c), Some(p)) if c > p => format!("增加{:.1}小时", c - p),
        (Some(c), Some(p)) if c < p => format!("减少{:.1}小时", p - c),
        (Some(_), Some(_)) => "持平".into(),
        _ => "—".into(),
    }
}

/// How a report's first sentence names what was received: the whole city's calls, or a
/// department's share of them.
fn received_phrase(department: bool, city: &str) -> String {
    if department {
        "本单位相关的12345热线诉求共".into()
    } else {
        // "A市" → "全市", "B县" → "全县".
        let unit = city.chars().last().map_or("市".into(), |c| c.to_string());
        format!("全{unit}12345热线共受理群众诉求")
    }
}

fn status_label(s: &str) -> String {
    Status::parse(s).map_or_else(|| s.to_owned(), |s| s.label().to_owned())
}

fn overdue_text(minutes: i64, per_day: i64) -> String {
    if minutes >= per_day && per_day > 0 {
        format!("{:.1}个工作日", minutes as f64 / per_day as f64)
    } else if minutes >= 60 {
        format!("{:.1}个工作小时", minutes as f64 / 60.0)
    } else {
        // Past the deadline after office hours: overdue, but not yet by a working hour.
        "不足1个工作小时".into()
    }
}

fn clip(s: &str, n: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}……", s.chars().take(n).collect::<String>())
    }
}

fn cn_number(n: usize) -> String {
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

const KPI_DEFINITIONS: &[(&str, &str)] = &[
    ("受理量", "统计期内登记的工单数（导入的历史工单按原登记时间计入；拆分产生的子工单不重复计入）。"),
    ("即时解答率", "统计期内即时解答的工单数 ÷ 统计期内受理的工单数。"),
    ("派单准确率", "1 − 统计期内退单次数 ÷ 统计期内派单次数（重办不计为派单），最低为 0。"),
    ("按时签收率", "统计期内在签收时限内签收的次数 ÷ 统计期内签收次数；签收时限为派单或重办时确定的时限。"),
    ("按时办结率", "统计期内在答复时限内答复的次数 ÷ 统计期内答复次数；答复时限以答复时有效的时限为准（含已批准的延期和等待市民补充材料的挂起时间）。"),
    ("回复率", "答复时限（答复时或统计期末有效的时限）落在统计期内的办理中，截至统计期末已答复的比例；已退单或被合并的不计入。"),
    ("回访满意率", "统计期内回访及市民评价结果为满意、基本满意的次数 ÷ 有结果（满意、基本满意、不满意）的次数，未接通不计入。"),
    ("重办率", "统计期内重办次数 ÷ 统计期内答复次数；重办计入原答复单位。"),
    ("平均办理时长", "统计期内各次答复自派单（或重办）起至答复止的工作时长平均值，按法定工作日和办公时间计算，单位为工作小时。"),
    ("超期未办结", "统计期末尚未答复、且答复时限已过的办理数（不论超期多久）。"),
    ("期末在办", "统计期末尚未办结、归档、合并或拆分的工单数。"),
    ("分组口径", "按承办单位：事件发生时持有工单的单位（受理、即时解答等尚未派单的事件计入工单的主办单位，无主办单位的计为“未派单”）；按地区：工单所在地行政区划；按分类：工单的一级分类。"),
    ("环比", "与上一个同样长度的统计期比较：月比上月，周比上周，日期区间比紧邻其前的同样天数。"),
];

fn definitions_sheet() -> (Vec<String>, Vec<Vec<tabular::Cell>>) {
    (
        vec!["指标".into(), "口径".into()],
        KPI_DEFINITIONS
            .iter()
            .map(|(k, v)| vec![(*k).into(), (*v).into()])
            .collect(),
    )
}

fn kpi_headers(first: &str) -> Vec<String> {
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

fn kpi_cells(name: &str, k: &Kpis) -> Vec<tabular::Cell> {
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

struct Monthly {
    city: String,
    period: Period,
    scope: String,
    total: KpiRow,
    by_dept: KpiTable,
    by_category: KpiTable,
    by_region: KpiTable,
    overdue: Vec<ListRow>,
    reopened: Vec<ListRow>,
    /// 热点问题 of the period (see `crate::search::hotspots`).
    hotspots: Vec<crate::search::hotspots::DbHotspot>,
    /// 智能派单 figures (city or region views only).
    dispatch: Option<DispatchFigures>,
}

/// Automatic dispatch and agreement with suggestions in the period (see `intel::dispatch`).
struct DispatchFigures {
    dispatched: i64,
    auto: i64,
    auto_returned: i64,
    with_suggestion: i64,
    agreed: i64,
}

impl DispatchFigures {
    fn rows(&self) -> Vec<Vec<String>> {
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
struct ListRow {
    number: String,
    title: String,
    dept: String,
    a: String,
    b: String,
    c: String,
}

/// Lists in the Word report stop here; the workbook has them all.
const DOCX_LIST_LIMIT: usize = 100;

impl Monthly {
    async fn build(db: &Db, actor: &Actor, period: &Period, city: &str) -> Result<Monthly> {
        let view = view_of(actor)?;
        let ctx = Ctx::load(db, view, period.previous().start(), period.end(), city).await?;
        let by_dept = ctx.table(period, GroupBy::Department).await?;
        let by_category = ctx.table(period, GroupBy::Category).await?;
        let by_region = ctx
            .table(period, GroupBy::Region(RegionLevel::County))
            .await?;
        let per_day = ctx.cal.office_hours().minutes_per_day();
        let overdue = ctx
            .overdue_at(period.end().min(db.now()))
            .into_iter()
            .map(|o| ListRow {
                number: o.h.t.number.clone(),
                title: o.h.t.title.clone(),
                dept: ctx.dept_name(o.dept),
                a: format_minute(o.due),
                b: overdue_text(o.minutes, per_day),
                c: status_label(
                    &o.h.state_at(period.end())
                        .map(|s| s.1.clone())
                        .unwrap_or_default(),
                ),
            })
            .collect();
        let reopened = ctx
            .reopened_in(period.start(), period.end())
            .into_iter()
            .map(|r| ListRow {
                number: r.h.t.number.clone(),
                title: r.h.t.title.clone(),
                dept: ctx.dept_name(r.dept),
                a: r.times.to_string(),
                b: clip(&r.reason, 60),
                c: status_label(&r.status),
            })
            .collect();
        let hotspots = crate::search::hotspots::from_db(
            db,
            Some(actor),
            period.start(),
            period.end(),
            10,
            None,
        )
        .await?;
        let dispatch = match &ctx.view {
            View::All | View::Region(_) => {
                let prefix = match &ctx.view {
                    View::Region(p) => Some(p.as_str()),
                    _ => None,
                };
                let (dispatched, auto, auto_returned, with_suggestion, agreed) =
                    crate::intel::dispatch::dispatch_figures(
                        db,
                        prefix,
                        period.start(),
                        period.end(),
                    )
                    .await?;
                Some(DispatchFigures {
                    dispatched,
                    auto,
                    auto_returned,
                    with_suggestion,
                    agreed,
                })
            }
            View::Departments(_) => None,
        };
        Ok(Monthly {
            dispatch,
            hotspots,
            city: city.to_owned(),
            period: *period,
            scope: ctx.view.label().into(),
            total: by_dept.total.clone(),
            by_dept,
            by_category,
            by_region,
            overdue,
            reopened,
        })
    }

    /// The headline figures: 指标, this period, the previous, the trend.
    fn headline(&self) -> Vec<Vec<String>> {
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

    fn summary(&self) -> String {
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
    fn dept_rows(&self, f: impl Fn(&KpiRow) -> Vec<String>) -> Vec<Vec<String>> {
        // The tickets never dispatched have nothing to show in these tables: left out.
        self.by_dept
            .rows
            .iter()
            .filter(|r| r.key != "none")
            .chain([&self.by_dept.total])
            .map(f)
            .collect()
    }

    fn share_rows(&self, t: &KpiTable) -> Vec<Vec<String>> {
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

    fn list(rows: &[ListRow], limit: usize) -> Vec<Vec<String>> {
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

    fn title(&self) -> String {
        format!(
            "{}12345政务服务便民热线运行情况\n（{}）",
            self.city,
            self.period.title_label()
        )
    }

    fn docx(&self) -> Result<Vec<u8>> {
        let u = self.period.unit();
        let prev = self.period.previous();
        let mut doc = tabular::Doc::new(self.title());
        doc.paragraph(format!(
            "统计范围：{}（北京时间），{}工单；环比为与上{}（{}）比较。数据取自工单办理记录，跨期工单按各环节实际发生时间分别计入所在统计期。",
            span(self.period.first_day(), self.period.last_day(), true),
            if self.scope == "本单位" { "本单位承办的" } else { "全部" },
            u,
            prev.label()
        ));
        doc.heading(1, "一、总体情况")
            .paragraph(self.summary())
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
            .paragraph("表1  办理量")
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
            .paragraph("表2  办理质量")
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
        doc.table(&head, &self.share_rows(&self.by_category));
        doc.heading(1, "四、各地区诉求情况");
        head[0] = "县（市、区）";
        doc.table(&head, &self.share_rows(&self.by_region));

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
                    format!("（以下列出超期最久的{DOCX_LIST_LIMIT}件，完整清单见 Excel 版）")
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
    fn hotspot_section(&self, doc: &mut tabular::Doc) {
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

    fn xlsx(&self) -> Result<Vec<u8>> {
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

// ---------------------------------------------------------------------------------------------
// The weekly 典型案例专报
// ---------------------------------------------------------------------------------------------

/// At most this many cases a report.
const MAX_CASES: usize = 10;

struct Case<'a> {
    h: &'a History,
    reasons: Vec<String>,
    score: i64,
    callers: i64,
}

impl Ctx {
    /// Tickets worth a leader's attention in `[from, to)`: reopened, replied late or overdue,
    /// supervised, unsatisfied callers, several callers (merged duplicates), repeated returns.
    /// Ranked by how serious, at most [`MAX_CASES`].
    fn cases(&self, from: Millis, to: Millis) -> Vec<Case<'_>> {
        let mut out = Vec::new();
        for h in &self.hists {
            let facts: Vec<&Fact> = h
                .facts
                .iter()
                .filter(|f| f.at >= from && f.at < to && self.view.keeps(f.dept))
                .collect();
            let count =
                |p: &dyn Fn(&FactKind) -> bool| facts.iter().filter(|f| p(&f.kind)).count() as i64;
            let reopened = count(&|k| matches!(k, FactKind::Reopened { .. }));
            let unsatisfied = count(&|k| matches!(k, FactKind::Rated(CallbackResult::Unsatisfied)));
            let supervised = count(&|k| matches!(k, FactKind::Supervised));
            let late = count(&|k| matches!(k, FactKind::Replied { on_time: false, .. }));
            let returned = count(&|k| matches!(k, FactKind::Returned));
            let overdue = h.handlings.iter().any(|hd| {
                hd.start < to
                    && hd.end.is_none_or(|(at, _)| at >= to)
                    && self.view.keeps(hd.dept)
                    && hd.due_at(to - 1, &self.cal).is_some_and(|d| d < to)
            });
            let state = h.state_at(to);
            let active = !facts.is_empty() || state.is_some_and(|s| is_open_status(&s.1));
            let holder = state.and_then(|s| s.2).or(h.t.main_dept_id);
            let callers = 1 + self.merged.get(&h.t.id).copied().unwrap_or(0);
            let many = callers >= 3 && active && self.view.keeps(holder);

            let mut reasons = Vec::new();
            let mut score = 0;
            if reopened > 0 {
                reasons.push(if reopened > 1 {
                    format!("重办{reopened}次")
                } else {
                    "重办".into()
                });
                score += 4 * reopened;
            }
            if unsatisfied > 0 {
                reasons.push("回访不满意".into());
                score += 3;
            }
            if supervised > 0 {
                reasons.push("督办".into());
                score += 3;
            }
            if overdue {
                reasons.push("超期未办结".into());
                score += 3;
            } else if late > 0 {
                reasons.push("超期答复".into());
                score += 2;
            }
            if many {
                reasons.push(format!("多人反映（{callers}人次）"));
                score += callers.min(10);
            }
            if returned >= 2 {
                reasons.push(format!("退单{returned}次"));
                score += 2;
            }
            if score > 0 {
                out.push(Case {
                    h,
                    reasons,
                    score,
                    callers,
                });
            }
        }
        out.sort_by(|a, b| {
            b.score
                .cmp(&a.score)
                .then(b.callers.cmp(&a.callers))
                .then(a.h.t.id.cmp(&b.h.t.id))
        });
        out.truncate(MAX_CASES);
        out
    }

    fn category_path(&self, id: Option<i64>) -> String {
        id.and_then(|c| self.categories.get(&c))
            .map_or("未分类".into(), |c| c.path.clone())
    }
}

fn action_label(e: &store::TimelineEntry) -> String {
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
fn timeline_note(e: &store::TimelineEntry) -> String {
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

fn typical_document(
    ctx: &Ctx,
    period: &Period,
    city: &str,
    total: &KpiRow,
    cases: &[Case<'_>],
    timelines: &[Vec<store::TimelineEntry>],
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
        let tl: Vec<&store::TimelineEntry> = tl.iter().filter(|e| e.at < end).collect();
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

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/hotline/reports/kpis", get(kpis_json))
        .route("/api/v1/hotline/reports/kpis.xlsx", get(kpis_file))
        .route("/api/v1/hotline/reports/monthly.docx", get(monthly_file))
        .route("/api/v1/hotline/reports/monthly.xlsx", get(monthly_book))
        .route("/api/v1/hotline/reports/typical.docx", get(typical_file))
}

#[derive(OpenApi)]
#[openapi(
    paths(kpis_json, kpis_file, monthly_file, monthly_book, typical_file),
    components(schemas(KpiTable, KpiRow, Kpis)),
    tags((name = "hotline-reports", description = "12345 热线统计报表"))
)]
pub struct ReportApi;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct KpiQuery {
    /// `2025-03` (month), `2025-W11` (ISO week) or `2025-03-01..2025-03-15` (days, China time).
    pub period: String,
    /// `total` (default), `department`, `region` or `category`.
    pub by: Option<String>,
    /// For `by=region`: `province`, `city`, `district` (default), `street` or `community`.
    pub level: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    /// `2025-03` (month), `2025-W11` (ISO week) or `2025-03-01..2025-03-15`.
    pub period: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WeekQuery {
    /// ISO week, e.g. `2025-W11`.
    pub week: String,
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// Percent-encodes a file name for `filename*` (RFC 5987), so Chinese names survive.
fn attachment(bytes: Vec<u8>, mime: &'static str, ascii: &str, name: &str) -> Response {
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
            ),
        ],
        bytes,
    )
        .into_response()
}

fn city(ctx: &AppCtx) -> String {
    ctx.config.city.name.clone()
}

/// KPIs of a period by group, with the previous period's for the trend.
#[utoipa::path(get, path = "/api/v1/hotline/reports/kpis", tag = "hotline-reports", params(KpiQuery),
    responses((status = 200, body = KpiTable), (status = 403, body = webcore::error::Problem),
              (status = 422, body = webcore::error::Problem)))]
async fn kpis_json(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<KpiQuery>,
) -> ApiResult<axum::Json<KpiTable>> {
    let period = Period::parse(&q.period)?;
    let by = GroupBy::parse(q.by.as_deref().unwrap_or(""), q.level.as_deref())?;
    Ok(axum::Json(kpis(&ctx.db, &a, &period, by).await?))
}

/// The same KPIs as an Excel workbook (this period, the previous one, the definitions).
#[utoipa::path(get, path = "/api/v1/hotline/reports/kpis.xlsx", tag = "hotline-reports", params(KpiQuery),
    responses((status = 200, description = "XLSX", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = [u8]),
              (status = 403, body = webcore::error::Problem), (status = 422, body = webcore::error::Problem)))]
async fn kpis_file(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<KpiQuery>,
) -> ApiResult<Response> {
    let period = Period::parse(&q.period)?;
    let by = GroupBy::parse(q.by.as_deref().unwrap_or(""), q.level.as_deref())?;
    let t = kpis(&ctx.db, &a, &period, by).await?;
    let bytes = kpis_xlsx(&t)?;
    Ok(attachment(
        bytes,
        XLSX,
        &format!("hotline-kpis-{}-{}.xlsx", period.code(), by.code()),
        &format!("热线指标_{}_{}.xlsx", period.code(), group_label(by.code())),
    ))
}

/// The 运行情况 report of a period (normally a month) as a Word document.
#[utoipa::path(get, path = "/api/v1/hotline/reports/monthly.docx", tag = "hotline-reports", params(PeriodQuery),
    responses((status = 200, description = "DOCX", content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document", body = [u8]),
              (status = 403, body = webcore::error::Problem), (status = 422, body = webcore::error::Problem)))]
async fn monthly_file(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<Response> {
    let period = Period::parse(&q.period)?;
    let bytes = monthly_docx(&ctx.db, &a, &period, &city(&ctx)).await?;
    Ok(attachment(
        bytes,
        DOCX,
        &format!("hotline-monthly-{}.docx", period.code()),
        &format!("{}12345热线运行情况_{}.docx", city(&ctx), period.code()),
    ))
}

/// The 运行情况 report's tables as an Excel workbook.
#[utoipa::path(get, path = "/api/v1/hotline/reports/monthly.xlsx", tag = "hotline-reports", params(PeriodQuery),
    responses((status = 200, description = "XLSX", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = [u8]),
              (status = 403, body = webcore::error::Problem), (status = 422, body = webcore::error::Problem)))]
async fn monthly_book(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<Response> {
    let period = Period::parse(&q.period)?;
    let bytes = monthly_xlsx(&ctx.db, &a, &period, &city(&ctx)).await?;
    Ok(attachment(
        bytes,
        XLSX,
        &format!("hotline-monthly-{}.xlsx", period.code()),
        &format!("{}12345热线运行情况_{}.xlsx", city(&ctx), period.code()),
    ))
}

/// The weekly 典型案例专报 as a Word document.
#[utoipa::path(get, path = "/api/v1/hotline/reports/typical.docx", tag = "hotline-reports", params(WeekQuery),
    responses((status = 200, description = "DOCX", content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document", body = [u8]),
              (status = 403, body = webcore::error::Problem), (status = 422, body = webcore::error::Problem)))]
async fn typical_file(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<WeekQuery>,
) -> ApiResult<Response> {
    let period = parse_week(&q.week)?;
    let bytes = typical_docx(&ctx.db, &a, &period, &city(&ctx)).await?;
    Ok(attachment(
        bytes,
        DOCX,
        &format!("hotline-typical-{}.docx", period.code()),
        &format!("{}12345热线典型案例专报_{}.docx", city(&ctx), period.code()),
    ))
}

/// An ISO week such as `2025-W11`, and nothing else.
pub fn parse_week(s: &str) -> Result<Period> {
    match Period::parse(s) {
        Ok(p @ Period::Week { .. }) => Ok(p),
        _ => Err(Error::field(
            "week",
            "invalid_week",
            "周应写作 ISO 周，如 2025-W11",
        )),
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
        assert!(parse_week("2025-03").is_err());
    }

    #[test]
    fn groupings_and_region_keys() {
        assert_eq!(GroupBy::parse("", None).unwrap(), GroupBy::Total);
        assert_eq!(
            GroupBy::parse("region", None).unwrap(),
            GroupBy::Region(RegionLevel::County)
        );
        assert!(GroupBy::parse("region", Some("galaxy")).is_err());
        assert!(GroupBy::parse("weather", None).is_err());
        assert_eq!(region_key("690102003004", RegionLevel::County), "690102");
        assert_eq!(region_key("690102003004", RegionLevel::City), "690100");
        assert_eq!(
            region_key("690102003004", RegionLevel::Town),
            "690102003000"
        );
        assert_eq!(region_key("690102", RegionLevel::Town), "690102");
    }

    #[test]
    fn the_api_is_described() {
        let doc = ReportApi::openapi();
        for p in [
            "/api/v1/hotline/reports/kpis",
            "/api/v1/hotline/reports/kpis.xlsx",
            "/api/v1/hotline/reports/monthly.docx",
            "/api/v1/hotline/reports/monthly.xlsx",
            "/api/v1/hotline/reports/typical.docx",
        ] {
            assert!(doc.paths.paths.contains_key(p), "{p}");
        }
        let json = doc.to_json().unwrap();
        assert!(json.contains("KpiTable") && json.contains("spreadsheetml"));
    }

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
