//! The report's rules, pure: the grouping, the KPI definitions and the replay of each ticket's
//! timeline into facts and handlings attributed to departments.

use crate::domain::{CallbackResult, Category, DeadlinePolicy, TicketKind, Urgency};
use kernel::calendar::Calendar;
use kernel::clock::Millis;
use kernel::codes::RegionLevel;
use kernel::error::{Error, Result};
pub use kernel::period::Period;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

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
    /// Replies of the period that were reopened before the period's end.
    pub replied_reopened: i64,
    /// 重办率 = replied_reopened / replied: a cohort rate, so it never passes 100% (a reopen
    /// of a reply made before the period counts in `reopened`, not here).
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
    pub(super) handled: i64,
    #[serde(skip)]
    pub(super) handling_minutes: i64,
}

pub(super) fn ratio(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| (n as f64 / d as f64 * 10_000.0).round() / 10_000.0)
}

impl Kpis {
    pub(super) fn finish(&mut self) {
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
        self.reopen_rate = ratio(self.replied_reopened, self.replied);
        self.avg_handling_hours = (self.handled > 0).then(|| {
            (self.handling_minutes as f64 / self.handled as f64 / 60.0 * 10.0).round() / 10.0
        });
    }

    /// Callbacks with a result (未接通 excluded).
    pub fn rated(&self) -> i64 {
        self.satisfied + self.basically_satisfied + self.unsatisfied
    }

    pub(super) fn is_empty(&self) -> bool {
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

#[derive(Debug, Clone)]
pub(super) enum View {
    All,
    Region(String),
    Departments(Vec<i64>),
}

impl View {
    pub(super) fn keeps(&self, dept: Option<i64>) -> bool {
        match self {
            View::Departments(ids) => dept.is_some_and(|d| ids.contains(&d)),
            _ => true,
        }
    }

    pub(super) fn label(&self) -> &'static str {
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
pub(super) struct Tk {
    pub(super) id: i64,
    pub(super) number: String,
    pub(super) title: String,
    pub(super) content: String,
    pub(super) kind: TicketKind,
    pub(super) urgency: Urgency,
    pub(super) caller_name: Option<String>,
    pub(super) address: Option<String>,
    pub(super) region_code: Option<String>,
    pub(super) category_id: Option<i64>,
    pub(super) main_dept_id: Option<i64>,
    pub(super) split_from_id: Option<i64>,
    pub(super) created_at: Millis,
}

#[derive(Debug, Clone)]
pub(super) struct Ev {
    pub(super) ticket_id: i64,
    pub(super) at: Millis,
    pub(super) action: String,
    pub(super) from: String,
    pub(super) to: String,
    pub(super) dept_id: Option<i64>,
    pub(super) note: Option<String>,
    pub(super) data: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum FactKind {
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
pub(super) struct Fact {
    pub(super) at: Millis,
    pub(super) dept: Option<i64>,
    pub(super) kind: FactKind,
}

/// One handling by a department: from a dispatch or reopen to the reply (or a return or merge).
#[derive(Debug, Clone)]
pub(super) struct Handling {
    pub(super) dept: Option<i64>,
    pub(super) start: Millis,
    pub(super) ack_due: Option<Millis>,
    /// Reply deadlines as they were set: (when, deadline).
    pub(super) deadlines: Vec<(Millis, Millis)>,
    /// Pauses waiting for the citizen: (from, until).
    pub(super) pauses: Vec<(Millis, Option<Millis>)>,
    /// When it ended, and whether by a reply.
    pub(super) end: Option<(Millis, bool)>,
}

impl Handling {
    /// The reply deadline in force at `t`. While paused, the clock stands still: the deadline
    /// moves by the working time paused so far, as `resume` will make it.
    pub(super) fn due_at(&self, t: Millis, cal: &Calendar) -> Option<Millis> {
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
pub(super) struct History {
    pub(super) t: Tk,
    pub(super) facts: Vec<Fact>,
    pub(super) handlings: Vec<Handling>,
    /// After each event: (when, status, department holding the ticket).
    pub(super) states: Vec<(Millis, String, Option<i64>)>,
}

pub(super) fn is_open_status(s: &str) -> bool {
    !matches!(s, "closed" | "archived" | "merged" | "split")
}

pub(super) fn num(data: &Value, key: &str) -> Option<i64> {
    data.get(key).and_then(Value::as_i64)
}

impl History {
    pub(super) fn state_at(&self, t: Millis) -> Option<&(Millis, String, Option<i64>)> {
        let i = self.states.partition_point(|(at, _, _)| *at < t);
        i.checked_sub(1).map(|i| &self.states[i])
    }

    pub(super) fn fact(&mut self, at: Millis, dept: Option<i64>, kind: FactKind) {
        self.facts.push(Fact { at, dept, kind });
    }

    pub(super) fn end_handling(&mut self, open: &mut Option<usize>, at: Millis, replied: bool) {
        if let Some(i) = open.take() {
            self.handlings[i].end = Some((at, replied));
        }
    }

    pub(super) fn replay(
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
                "recall" => {
                    // A dispatch taken back before anyone signed for it never reached the
                    // department: it counts neither as dispatched to it nor as a return.
                    if let Some(i) = open.take() {
                        h.handlings.remove(i);
                    }
                    if let Some(i) = h
                        .facts
                        .iter()
                        .rposition(|f| matches!(f.kind, FactKind::Dispatched))
                    {
                        h.facts.remove(i);
                    }
                    holder = None;
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
    pub(super) fn reopen(
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
pub(super) enum Key {
    Total,
    Dept(Option<i64>),
    Region(Option<String>),
    Category(Option<i64>),
}

/// Everything a report needs, loaded once: every ticket's replayed history and the names.
pub(super) struct Replay {
    /// The moment the figures are taken (a running period counts what is late by now).
    pub(super) now: Millis,
    pub(super) view: View,
    pub(super) cal: Calendar,
    pub(super) hists: Vec<History>,
    pub(super) categories: HashMap<i64, Category>,
    pub(super) depts: HashMap<i64, String>,
    /// Tickets merged into each ticket (duplicates: more callers).
    pub(super) merged: HashMap<i64, i64>,
}

impl Replay {
    /// The level-1 category of a category.
    pub(super) fn level1(&self, mut id: i64) -> i64 {
        // The taxonomy has three levels; the bound only guards against a cycle in bad data.
        for _ in 0..8 {
            match self.categories.get(&id).and_then(|c| c.parent_id) {
                Some(p) => id = p,
                None => break,
            }
        }
        id
    }

    pub(super) fn key(&self, by: GroupBy, h: &History, dept: Option<i64>) -> Key {
        match by {
            GroupBy::Total => Key::Total,
            GroupBy::Department => Key::Dept(dept),
            GroupBy::Region(level) => {
                Key::Region(h.t.region_code.as_deref().map(|c| region_key(c, level)))
            }
            GroupBy::Category => Key::Category(h.t.category_id.map(|c| self.level1(c))),
        }
    }

    pub(super) fn dept_name(&self, d: Option<i64>) -> String {
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
    pub(super) fn tally(&self, from: Millis, to: Millis, by: GroupBy) -> BTreeMap<Key, Kpis> {
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
                        // Reopened before the period ends: the department's next fact of the
                        // ticket, reply or reopen, is a reopen within the period.
                        let next = h.facts.iter().find(|g| {
                            g.at > f.at
                                && g.dept == f.dept
                                && matches!(
                                    g.kind,
                                    FactKind::Replied { .. } | FactKind::Reopened { .. }
                                )
                        });
                        if next.is_some_and(|g| {
                            g.at < to && matches!(g.kind, FactKind::Reopened { .. })
                        }) {
                            k.replied_reopened += 1;
                        }
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
                        let as_of = to.min(self.now);
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

    /// Handlings not replied at `to` whose deadline had passed.
    pub(super) fn overdue_at(&self, to: Millis) -> Vec<OverdueItem<'_>> {
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
    pub(super) fn reopened_in(&self, from: Millis, to: Millis) -> Vec<ReopenItem<'_>> {
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

/// The code of the region containing `code` at `level`, padded back to a full code.
pub(super) fn region_key(code: &str, level: RegionLevel) -> String {
    let digits = level.significant_digits();
    if code.len() <= digits || !code.is_ascii() {
        return code.to_owned();
    }
    let width = if digits <= 6 { 6 } else { 12 };
    format!("{:0<width$}", &code[..digits])
}

pub(super) struct OverdueItem<'a> {
    pub(super) h: &'a History,
    pub(super) dept: Option<i64>,
    pub(super) due: Millis,
    /// Working minutes past the deadline at the period's end.
    pub(super) minutes: i64,
}

pub(super) struct ReopenItem<'a> {
    pub(super) h: &'a History,
    pub(super) dept: Option<i64>,
    pub(super) times: i64,
    pub(super) reason: String,
    pub(super) status: String,
}

// ---------------------------------------------------------------------------------------------
// The weekly 典型案例专报
// ---------------------------------------------------------------------------------------------

/// At most this many cases a report.
pub(super) const MAX_CASES: usize = 10;

pub(super) struct Case<'a> {
    pub(super) h: &'a History,
    pub(super) reasons: Vec<String>,
    pub(super) score: i64,
    pub(super) callers: i64,
}

impl Replay {
    /// Tickets worth a leader's attention in `[from, to)`: reopened, replied late or overdue,
    /// supervised, unsatisfied callers, several callers (merged duplicates), repeated returns.
    /// Ranked by how serious, at most [`MAX_CASES`].
    pub(super) fn cases(&self, from: Millis, to: Millis) -> Vec<Case<'_>> {
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

    pub(super) fn category_path(&self, id: Option<i64>) -> String {
        id.and_then(|c| self.categories.get(&c))
            .map_or("未分类".into(), |c| c.path.clone())
    }
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
    fn only_an_iso_week_is_a_week() {
        assert!(parse_week("2025-03").is_err());
        assert!(parse_week("2025-W11").is_ok());
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
}
