//! Routing rules (派单规则) as data: conditions on what a ticket is about, where, when and how
//! urgent, and the department they send it to. Pure: evaluation and the save-time analysis
//! (rules that can never match, rules shadowed by an earlier one, conflicts) need no database;
//! the service passes in what it looked up.

use crate::ticket::domain::{TicketKind, Urgency};
use chrono::{NaiveDate, NaiveTime, Timelike};
use kernel::error::{Checks, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;
use utoipa::ToSchema;

/// Working or non-working day, by the bureau's calendar (法定节假日 and 调休 included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayKindCondition {
    Working,
    NonWorking,
}

/// A condition on the answer to one of the category's extra questions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerCondition {
    /// The question's code.
    pub code: String,
    /// `equals` (one value) or `one_of` (any of the values).
    pub op: AnswerOp,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnswerOp {
    Equals,
    OneOf,
}

/// What a ticket must look like for the rule to match. Every condition given must hold; an
/// empty list or absent value places no condition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Conditions {
    /// Categories (any level); a category matches itself and everything under it.
    pub category_ids: Vec<i64>,
    /// GB/T 2260 codes (district, street or community); a code matches itself and everything
    /// under it.
    pub region_codes: Vec<String>,
    /// A drawn area (网格): polygon of `[lon, lat]` points; only tickets with coordinates
    /// inside it match.
    #[schema(value_type = Option<Vec<Vec<f64>>>)]
    pub area: Option<Vec<[f64; 2]>>,
    pub kinds: Vec<TicketKind>,
    pub urgencies: Vec<Urgency>,
    /// `HH:MM`, China time; with `time_to` a window that may wrap midnight (22:00–06:00).
    pub time_from: Option<String>,
    pub time_to: Option<String>,
    pub day_kind: Option<DayKindCondition>,
    pub answers: Vec<AnswerCondition>,
}

/// A stored rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RoutingRule {
    pub id: i64,
    /// 1 is evaluated first.
    pub position: i64,
    pub name: String,
    pub enabled: bool,
    pub conditions: Conditions,
    pub main_dept_id: i64,
    pub co_dept_ids: Vec<i64>,
    /// `YYYY-MM-DD`, inclusive.
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a client sends to create or replace a rule.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub conditions: Conditions,
    pub main_dept_id: i64,
    #[serde(default)]
    pub co_dept_ids: Vec<i64>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
}

fn yes() -> bool {
    true
}

/// A problem found in the rule set when it was saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RuleWarning {
    pub rule_id: i64,
    /// `shadowed` (an earlier rule always matches first), `conflict` (same conditions as an
    /// earlier rule, another department), `expired` (valid_until has passed).
    pub code: String,
    pub message: String,
    /// The earlier rule that shadows or conflicts with it.
    pub other_rule_id: Option<i64>,
}

/// Category id → its path (`城乡建设/物业管理`) and the codes (with options) of the extra
/// questions asked by it and by every category under it.
pub type CategoryQuestions = HashMap<i64, (String, Vec<(String, Vec<String>)>)>;

/// What the database knows that a rule refers to, looked up by the service.
pub struct Reference<'a> {
    pub categories: &'a CategoryQuestions,
    /// Region codes of the bureau's region tree.
    pub region_exists: &'a dyn Fn(&str) -> bool,
    /// Active department ids.
    pub department_exists: &'a dyn Fn(i64) -> bool,
}

pub(crate) fn parse_time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").ok()
}

pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

impl RuleInput {
    /// Refuses rules that are malformed or can never match (422, the field named): a time window
    /// of zero length, valid_until before valid_from, a region outside the bureau's region tree,
    /// a category or department that does not exist, an area that is not a polygon, an answer
    /// condition on a question the rule's categories do not ask or with an impossible value.
    pub fn validate(&self, r: &Reference<'_>) -> Result<()> {
        let mut c = Checks::new();
        c.text("name", "规则名称", &self.name, 60);
        c.check(
            (r.department_exists)(self.main_dept_id),
            "main_dept_id",
            "department_not_found",
            format!("承办单位 {} 不存在或已停用", self.main_dept_id),
        );
        for (i, d) in self.co_dept_ids.iter().enumerate() {
            c.check(
                (r.department_exists)(*d),
                &format!("co_dept_ids[{i}]"),
                "department_not_found",
                format!("协办单位 {d} 不存在或已停用"),
            );
        }
        let from = self.valid_from.as_deref().filter(|s| !s.is_empty());
        let until = self.valid_until.as_deref().filter(|s| !s.is_empty());
        let from_d = from.map(parse_date);
        let until_d = until.map(parse_date);
        c.check(
            !matches!(from_d, Some(None)),
            "valid_from",
            "invalid_date",
            "日期格式应为 2026-01-31",
        );
        c.check(
            !matches!(until_d, Some(None)),
            "valid_until",
            "invalid_date",
            "日期格式应为 2026-01-31",
        );
        if let (Some(Some(a)), Some(Some(b))) = (from_d, until_d) {
            c.check(
                b >= a,
                "valid_until",
                "never_matches",
                "有效期截止日早于起始日，规则永远不会生效",
            );
        }
        let k = &self.conditions;
        for (i, id) in k.category_ids.iter().enumerate() {
            c.check(
                r.categories.contains_key(id),
                &format!("conditions.category_ids[{i}]"),
                "category_not_found",
                format!("分类 {id} 不存在"),
            );
        }
        for (i, code) in k.region_codes.iter().enumerate() {
            let f = format!("conditions.region_codes[{i}]");
            if let Err(m) = kernel::codes::check_region_code(code) {
                c.add(&f, "invalid_region_code", m);
            } else {
                c.check(
                    (r.region_exists)(code),
                    &f,
                    "region_not_in_city",
                    format!("区划 {code} 不在本市的行政区划中，规则永远不会匹配"),
                );
            }
        }
        if let Some(area) = &k.area {
            let ok_points = area.iter().all(|[lon, lat]| {
                lon.is_finite()
                    && lat.is_finite()
                    && (-180.0..=180.0).contains(lon)
                    && (-90.0..=90.0).contains(lat)
            });
            c.check(
                ok_points,
                "conditions.area",
                "out_of_range",
                "网格顶点的经度应在 -180–180、纬度在 -90–90 之间",
            );
            c.check(
                area.len() >= 3 && polygon_area(area).abs() > 1e-12,
                "conditions.area",
                "not_a_polygon",
                "网格须至少有 3 个不共线的顶点",
            );
        }
        let tf = k.time_from.as_deref().map(parse_time);
        let tt = k.time_to.as_deref().map(parse_time);
        c.check(
            !matches!(tf, Some(None)),
            "conditions.time_from",
            "invalid_time",
            "时间格式应为 08:30",
        );
        c.check(
            !matches!(tt, Some(None)),
            "conditions.time_to",
            "invalid_time",
            "时间格式应为 17:30",
        );
        match (tf, tt) {
            (Some(Some(a)), Some(Some(b))) => c.check(
                a != b,
                "conditions.time_to",
                "never_matches",
                "时段起止相同，规则永远不会匹配",
            ),
            (Some(_), None) => c.add("conditions.time_to", "required", "时段须同时填写起止时间"),
            (None, Some(_)) => c.add("conditions.time_from", "required", "时段须同时填写起止时间"),
            _ => {}
        }
        if !k.answers.is_empty() && k.category_ids.is_empty() {
            c.add(
                "conditions.answers",
                "no_category",
                "附加问题条件须同时指定分类",
            );
        }
        for (i, a) in k.answers.iter().enumerate() {
            let f = format!("conditions.answers[{i}]");
            let asked: Vec<&(String, Vec<String>)> = k
                .category_ids
                .iter()
                .filter_map(|id| r.categories.get(id))
                .flat_map(|(_, qs)| qs.iter())
                .filter(|(code, _)| *code == a.code)
                .collect();
            if !k.category_ids.is_empty() && asked.is_empty() {
                c.add(
                    &format!("{f}.code"),
                    "question_not_found",
                    format!("所选分类没有代码为“{}”的附加问题", a.code),
                );
            }
            let n_ok = match a.op {
                AnswerOp::Equals => a.values.len() == 1,
                AnswerOp::OneOf => !a.values.is_empty(),
            };
            c.check(
                n_ok,
                &format!("{f}.values"),
                "invalid_values",
                "“等于”须给出一个值，“属于其一”须至少给出一个值",
            );
            // A choice question can only be answered with one of its options.
            let options: Vec<&String> = asked.iter().flat_map(|(_, o)| o.iter()).collect();
            if !options.is_empty() && !a.values.iter().any(|v| options.contains(&v)) {
                c.add(
                    &format!("{f}.values"),
                    "never_matches",
                    "所填值都不是该问题的选项，规则永远不会匹配",
                );
            }
        }
        c.finish()
    }
}

/// What is known about a ticket when rules run.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Path of the ticket's (or the predicted) category.
    pub category_path: Option<String>,
    pub region_code: Option<String>,
    /// `(lon, lat)`.
    pub point: Option<(f64, f64)>,
    pub kind: Option<TicketKind>,
    pub urgency: Option<Urgency>,
    /// Minutes since midnight, China time.
    pub minute_of_day: u32,
    pub date: Option<NaiveDate>,
    pub working_day: bool,
    pub answers: Map<String, Value>,
}

impl Facts {
    pub fn at(&mut self, millis: i64, cal: &kernel::calendar::Calendar) {
        let t = kernel::clock::to_china(millis);
        self.minute_of_day = t.hour() * 60 + t.minute();
        let d = t.date_naive();
        self.date = Some(d);
        self.working_day = cal.is_workday(d);
    }
}

/// `paths` of the rule's categories, resolved by the caller.
pub fn matches(rule: &RoutingRule, paths: &[String], f: &Facts) -> bool {
    if !rule.enabled {
        return false;
    }
    if let Some(d) = f.date {
        if rule
            .valid_from
            .as_deref()
            .and_then(parse_date)
            .is_some_and(|a| d < a)
            || rule
                .valid_until
                .as_deref()
                .and_then(parse_date)
                .is_some_and(|b| d > b)
        {
            return false;
        }
    }
    let k = &rule.conditions;
    if !k.category_ids.is_empty() {
        let Some(p) = f.category_path.as_deref() else {
            return false;
        };
        if !paths.iter().any(|rp| path_under(p, rp)) {
            return false;
        }
    }
    if !k.region_codes.is_empty() {
        let Some(code) = f.region_code.as_deref() else {
            return false;
        };
        if !k.region_codes.iter().any(|rc| region_under(code, rc)) {
            return false;
        }
    }
    if let Some(area) = &k.area {
        match f.point {
            Some((x, y)) if point_in_polygon(x, y, area) => {}
            _ => return false,
        }
    }
    if !k.kinds.is_empty() && !f.kind.is_some_and(|x| k.kinds.contains(&x)) {
        return false;
    }
    if !k.urgencies.is_empty() && !f.urgency.is_some_and(|x| k.urgencies.contains(&x)) {
        return false;
    }
    if let Some(w) = window(k) {
        if !w.contains(f.minute_of_day) {
            return false;
        }
    }
    match k.day_kind {
        Some(DayKindCondition::Working) if !f.working_day => return false,
        Some(DayKindCondition::NonWorking) if f.working_day => return false,
        _ => {}
    }
    for a in &k.answers {
        let given = f.answers.get(&a.code);
        let hit = match given {
            Some(Value::String(s)) => a.values.iter().any(|v| v == s),
            Some(Value::Number(n)) => a.values.iter().any(|v| *v == n.to_string()),
            Some(Value::Bool(b)) => a.values.iter().any(|v| *v == b.to_string()),
            // A multiple-choice answer matches when one of its choices is among the values.
            Some(Value::Array(xs)) => xs
                .iter()
                .any(|x| x.as_str().is_some_and(|s| a.values.iter().any(|v| v == s))),
            _ => false,
        };
        if !hit {
            return false;
        }
    }
    true
}

/// A category path is under another when equal or a descendant.
pub fn path_under(path: &str, ancestor: &str) -> bool {
    path == ancestor
        || (path.len() > ancestor.len()
            && path.starts_with(ancestor)
            && path[ancestor.len()..].starts_with('/'))
}

/// GB/T 2260 prefix semantics: `440305` covers `440305001000` and `440305001002`.
pub fn region_under(code: &str, ancestor: &str) -> bool {
    match kernel::codes::region_prefix(ancestor) {
        Some(p) => code.starts_with(&p),
        None => code == ancestor,
    }
}

/// Ray casting; points on an edge count as inside only by the ray's convention, which is fine
/// for areas drawn by hand.
pub fn point_in_polygon(x: f64, y: f64, poly: &[[f64; 2]]) -> bool {
    let n = poly.len();
    if n < 3 {
        return false;
    }
    let mut inside = false;
    let mut j = n - 1;
    for i in 0..n {
        let [xi, yi] = poly[i];
        let [xj, yj] = poly[j];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

fn polygon_area(poly: &[[f64; 2]]) -> f64 {
    let n = poly.len();
    (0..n)
        .map(|i| {
            let [x1, y1] = poly[i];
            let [x2, y2] = poly[(i + 1) % n];
            x1 * y2 - x2 * y1
        })
        .sum::<f64>()
        / 2.0
}

/// A time-of-day window in minutes, `[from, to)`, wrapping midnight when `to < from`.
#[derive(Debug, Clone, Copy)]
struct Window {
    from: u32,
    to: u32,
}

impl Window {
    fn contains(&self, m: u32) -> bool {
        if self.from < self.to {
            (self.from..self.to).contains(&m)
        } else {
            m >= self.from || m < self.to
        }
    }
    fn covers(&self, o: &Window) -> bool {
        (0..1440).all(|m| !o.contains(m) || self.contains(m))
    }
}

fn window(k: &Conditions) -> Option<Window> {
    let a = parse_time(k.time_from.as_deref()?)?;
    let b = parse_time(k.time_to.as_deref()?)?;
    Some(Window {
        from: a.hour() * 60 + a.minute(),
        to: b.hour() * 60 + b.minute(),
    })
}

/// Whether every ticket `later` matches is also matched by `earlier` (so `later` never gets a
/// ticket). Conservative: when in doubt, it says no. `paths` resolves category ids.
pub fn covers(earlier: &RoutingRule, later: &RoutingRule, paths: &dyn Fn(i64) -> String) -> bool {
    let (e, l) = (&earlier.conditions, &later.conditions);
    if !earlier.enabled {
        return false;
    }
    let sub = |ei: &[String], li: &[String], under: &dyn Fn(&str, &str) -> bool| {
        ei.is_empty() || (!li.is_empty() && li.iter().all(|x| ei.iter().any(|y| under(x, y))))
    };
    let ecat: Vec<String> = e.category_ids.iter().map(|&i| paths(i)).collect();
    let lcat: Vec<String> = l.category_ids.iter().map(|&i| paths(i)).collect();
    if !sub(&ecat, &lcat, &path_under) || !sub(&e.region_codes, &l.region_codes, &region_under) {
        return false;
    }
    if e.area.is_some() && e.area != l.area {
        return false;
    }
    let set = |ev: bool, lv: bool, inside: bool| ev || (lv && inside);
    if !set(
        e.kinds.is_empty(),
        !l.kinds.is_empty(),
        l.kinds.iter().all(|k| e.kinds.contains(k)),
    ) || !set(
        e.urgencies.is_empty(),
        !l.urgencies.is_empty(),
        l.urgencies.iter().all(|k| e.urgencies.contains(k)),
    ) {
        return false;
    }
    match (window(e), window(l)) {
        (None, _) => {}
        (Some(_), None) => return false,
        (Some(a), Some(b)) => {
            if !a.covers(&b) {
                return false;
            }
        }
    }
    if e.day_kind.is_some() && e.day_kind != l.day_kind {
        return false;
    }
    for ea in &e.answers {
        let implied = l
            .answers
            .iter()
            .any(|la| la.code == ea.code && la.values.iter().all(|v| ea.values.contains(v)));
        if !implied {
            return false;
        }
    }
    let date = |s: &Option<String>| s.as_deref().and_then(parse_date);
    let from_ok = match (date(&earlier.valid_from), date(&later.valid_from)) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) => a <= b,
    };
    let until_ok = match (date(&earlier.valid_until), date(&later.valid_until)) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) => a >= b,
    };
    from_ok && until_ok
}

fn same_outcome(a: &RoutingRule, b: &RoutingRule) -> bool {
    let mut x = a.co_dept_ids.clone();
    let mut y = b.co_dept_ids.clone();
    x.sort_unstable();
    y.sort_unstable();
    a.main_dept_id == b.main_dept_id && x == y
}

/// Problems of a rule set in evaluation order: a rule an earlier enabled rule always beats
/// (`shadowed`), the same conditions as an earlier rule with another outcome (`conflict`),
/// a validity that ended before `today` (`expired`).
pub fn analyze(
    rules: &[RoutingRule],
    paths: &dyn Fn(i64) -> String,
    today: NaiveDate,
    dept_name: &dyn Fn(i64) -> String,
) -> Vec<RuleWarning> {
    let mut out = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        if !r.enabled {
            continue;
        }
        if r.valid_until
            .as_deref()
            .and_then(parse_date)
            .is_some_and(|u| u < today)
        {
            out.push(RuleWarning {
                rule_id: r.id,
                code: "expired".into(),
                message: format!("规则“{}”的有效期已过，不会再匹配", r.name),
                other_rule_id: None,
            });
        }
        for e in &rules[..i] {
            if !e.enabled {
                continue;
            }
            let identical = e.conditions == r.conditions
                && e.valid_from == r.valid_from
                && e.valid_until == r.valid_until;
            if identical && !same_outcome(e, r) {
                out.push(RuleWarning {
                    rule_id: r.id,
                    code: "conflict".into(),
                    message: format!(
                        "规则“{}”与排在前面的规则“{}”条件相同，却派给不同单位（{} / {}）；只有前者会生效",
                        r.name,
                        e.name,
                        dept_name(r.main_dept_id),
                        dept_name(e.main_dept_id)
                    ),
                    other_rule_id: Some(e.id),
                });
                break;
            }
            if covers(e, r, paths) {
                out.push(RuleWarning {
                    rule_id: r.id,
                    code: "shadowed".into(),
                    message: format!(
                        "规则“{}”的条件完全包含在排在前面的规则“{}”之内，永远不会匹配",
                        r.name, e.name
                    ),
                    other_rule_id: Some(e.id),
                });
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_wrap_midnight() {
        let w = Window {
            from: 22 * 60,
            to: 6 * 60,
        };
        assert!(w.contains(23 * 60));
        assert!(w.contains(60));
        assert!(!w.contains(12 * 60));
        let inner = Window {
            from: 23 * 60,
            to: 5 * 60,
        };
        assert!(w.covers(&inner));
        assert!(!inner.covers(&w));
    }

    #[test]
    fn polygon_contains_its_inside_only() {
        let sq = [[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]];
        assert!(point_in_polygon(1.0, 1.0, &sq));
        assert!(!point_in_polygon(3.0, 1.0, &sq));
        assert!(!point_in_polygon(1.0, -0.5, &sq));
    }

    #[test]
    fn paths_and_regions_nest() {
        assert!(path_under("城乡建设/物业管理", "城乡建设"));
        assert!(!path_under("城乡建设二/物业", "城乡建设"));
        assert!(region_under("690102001000", "690102"));
        assert!(region_under("690102001002", "690102001000"));
        assert!(!region_under("690103001000", "690102"));
    }
}
