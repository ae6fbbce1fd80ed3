//! Dispatch suggestions (派单建议): the predicted category, the routing rules and what
//! dispatchers did with similar past tickets, combined into one department with a confidence;
//! automatic dispatch at intake above the configured confidence; the dispatch report.

use super::routing::{self, Facts, RoutingRule};
use super::store;
use crate::ticket::domain::*;
use crate::HotlineService;
use kernel::error::{Error, Result};
use kernel::{Actor, Role};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use utoipa::ToSchema;

/// Who may ask for suggestions.
pub const SUGGEST: &[Role] = &[
    Role::Operator,
    Role::Dispatcher,
    Role::Supervisor,
    Role::SysAdmin,
];

/// Confidence of a matched routing rule: people wrote it for exactly this case.
const RULE_CONFIDENCE: f64 = 0.95;
/// Past dispatches counted for the history-based suggestion.
const HISTORY_LIMIT: i64 = 5_000;

/// A second or third category guess below this probability is not shown (it would read as 0–4%).
const MIN_SHOWN_PROBABILITY: f64 = 0.05;

/// What the intake form knows so far.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestInput {
    pub title: Option<String>,
    pub content: String,
    pub region_code: Option<String>,
    /// Ticket kind code (`complaint`) or label (`投诉`).
    pub kind: Option<String>,
    /// `normal` / `urgent` (or 普通 / 紧急).
    pub urgency: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// The category the operator chose, if any; otherwise the predicted one is used.
    pub category_id: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub answers: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CategoryGuess {
    pub category_id: i64,
    /// `城乡建设 / 物业管理`.
    pub path: String,
    pub probability: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeptRef {
    pub department_id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeptSuggestion {
    pub department_id: i64,
    pub name: String,
    pub co_handlers: Vec<DeptRef>,
    /// 0–1.
    pub confidence: f64,
    /// `rule` (a routing rule matched), `model` (a rule matched on the predicted category),
    /// `history` (what dispatchers did with tickets of this category).
    pub source: String,
    pub rule_id: Option<i64>,
    /// Why, in zh-CN.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Suggestion {
    /// The model version that predicted the categories; null before any model is trained.
    pub model_version: Option<i64>,
    /// Up to three level-1 categories, most likely first (the first goes as deep as the model
    /// predicts).
    pub categories: Vec<CategoryGuess>,
    /// The words that weighed most for the first category.
    pub explanation: Vec<String>,
    pub department: Option<DeptSuggestion>,
    /// True when automatic dispatch is on and the confidence reaches its threshold.
    pub auto_dispatch: bool,
}

/// Everything a suggestion is computed from.
#[derive(Debug, Clone, Default)]
pub struct SuggestFacts {
    pub ticket_id: i64,
    pub title: String,
    pub content: String,
    pub category_id: Option<i64>,
    pub region_code: Option<String>,
    /// `(lon, lat)`.
    pub point: Option<(f64, f64)>,
    pub kind: Option<TicketKind>,
    pub urgency: Option<Urgency>,
    pub answers: Map<String, Value>,
    pub at: i64,
}

impl SuggestFacts {
    pub fn of_ticket(t: &Ticket) -> Self {
        SuggestFacts {
            ticket_id: t.id,
            title: t.title.clone(),
            content: t.content.clone(),
            category_id: t.category_id,
            region_code: t.location.region_code.clone(),
            point: t.location.lng.zip(t.location.lat),
            kind: Some(t.kind),
            urgency: Some(t.urgency),
            answers: t.answers.as_object().cloned().unwrap_or_default(),
            at: t.created_at,
        }
    }

    /// The inputs a stored suggestion depends on; a different fingerprint means recompute.
    pub fn fingerprint(&self) -> String {
        json!({
            "category_id": self.category_id,
            "region_code": self.region_code,
            "point": self.point,
            "kind": self.kind.map(|k| k.code()),
            "urgency": self.urgency.map(|u| u.code()),
            "answers": self.answers,
        })
        .to_string()
    }
}

impl SuggestInput {
    fn facts(&self, now: i64) -> Result<SuggestFacts> {
        let mut c = kernel::error::Checks::new();
        c.text("content", "内容", &self.content, 4000);
        if let Some(t) = &self.title {
            c.check(
                t.chars().count() <= 200,
                "title",
                "too_long",
                "标题不能超过 200 个字",
            );
        }
        let kind = match self.kind.as_deref().filter(|s| !s.is_empty()) {
            Some(k) => {
                let v = TicketKind::parse(k);
                c.check(
                    v.is_some(),
                    "kind",
                    "invalid_enum",
                    format!("未知的工单类型“{k}”"),
                );
                v
            }
            None => None,
        };
        let urgency = match self.urgency.as_deref().filter(|s| !s.is_empty()) {
            Some(u) => {
                let v = Urgency::parse(u);
                c.check(
                    v.is_some(),
                    "urgency",
                    "invalid_enum",
                    format!("未知的紧急程度“{u}”"),
                );
                v
            }
            None => None,
        };
        if let Some(code) = self.region_code.as_deref().filter(|s| !s.is_empty()) {
            if let Err(m) = kernel::codes::check_region_code(code) {
                c.add("region_code", "invalid_region_code", m);
            }
        }
        match (self.lon, self.lat) {
            (Some(x), Some(y)) => {
                c.check(
                    x.is_finite() && (-180.0..=180.0).contains(&x),
                    "lon",
                    "out_of_range",
                    "经度应在 -180 到 180 之间",
                );
                c.check(
                    y.is_finite() && (-90.0..=90.0).contains(&y),
                    "lat",
                    "out_of_range",
                    "纬度应在 -90 到 90 之间",
                );
            }
            (None, None) => {}
            (None, _) => c.add("lon", "required", "经纬度须同时填写"),
            (_, None) => c.add("lat", "required", "经纬度须同时填写"),
        }
        c.finish()?;
        Ok(SuggestFacts {
            ticket_id: 0,
            title: self.title.clone().unwrap_or_default(),
            content: self.content.clone(),
            category_id: self.category_id,
            region_code: self.region_code.clone().filter(|s| !s.is_empty()),
            point: self.lon.zip(self.lat),
            kind,
            urgency,
            answers: self.answers.clone().unwrap_or_default(),
            at: now,
        })
    }
}

fn display_path(path: &str) -> String {
    path.replace('/', " / ")
}

/// Net evidence per department from past dispatches: a dispatch that stuck counts, a return
/// counts against the department that returned it (negative evidence). Tickets in the same
/// district count double.
fn history_scores(
    events: &[store::HistoryEvent],
    region: Option<&str>,
) -> (HashMap<i64, (f64, i64, i64)>, i64) {
    let district = region.filter(|r| r.len() >= 6).map(|r| &r[..6]);
    let mut score: HashMap<i64, (f64, i64, i64)> = HashMap::new();
    let mut tickets = std::collections::HashSet::new();
    for e in events {
        let w = match (district, e.region_code.as_deref()) {
            (Some(d), Some(r)) if r.starts_with(d) => 2.0,
            _ => 1.0,
        };
        let s = score.entry(e.dept_id).or_insert((0.0, 0, 0));
        if e.is_return {
            s.0 -= 2.0 * w;
            s.2 += 1;
        } else {
            s.0 += w;
            s.1 += 1;
            tickets.insert(e.ticket_id);
        }
    }
    (score, tickets.len() as i64)
}

impl HotlineService {
    /// A suggestion for what an operator is typing (not stored).
    pub async fn suggest(&self, actor: &Actor, input: &SuggestInput) -> Result<Suggestion> {
        actor.require_any_role(SUGGEST)?;
        actor.require_scope("hotline:read")?;
        let facts = input.facts(self.db().now())?;
        if let Some(id) = facts.category_id {
            let mut c = self.db().pool().acquire().await?;
            crate::ticket::store::category(&mut c, id)
                .await?
                .ok_or_else(|| Error::field("category_id", "not_found", "所选分类不存在"))?;
        }
        self.compute_suggestion(&facts).await
    }

    /// The suggestion of an existing ticket: the stored one, recomputed (and stored again) when
    /// the ticket's category, location, kind, urgency or answers changed since.
    pub async fn ticket_suggestion(&self, actor: &Actor, id: i64) -> Result<Suggestion> {
        actor.require_any_role(SUGGEST)?;
        let view = self.get(actor, id).await?;
        let facts = SuggestFacts::of_ticket(&view.ticket);
        let stored = {
            let mut c = self.db().pool().acquire().await?;
            store::suggestion(&mut c, id).await?
        };
        if let Some(s) = stored.filter(|s| s.fingerprint == facts.fingerprint()) {
            if let Ok(v) = serde_json::from_str::<Suggestion>(&s.body) {
                return Ok(v);
            }
        }
        self.refresh_suggestion(&view.ticket, false).await
    }

    /// Computes and stores a ticket's suggestion; `fresh` for a ticket just taken in (it has
    /// none stored yet).
    pub async fn refresh_suggestion(&self, t: &Ticket, fresh: bool) -> Result<Suggestion> {
        let facts = SuggestFacts::of_ticket(t);
        let s = self.compute_suggestion(&facts).await?;
        if s.department.is_none() && s.model_version.is_none() {
            // Nothing to show (no model, no rule, no history): recomputed when asked, which
            // keeps intake to one write when the intelligence is not set up. A stale one goes.
            if fresh {
                return Ok(s);
            }
            let mut c = self.db().pool().acquire().await?;
            if store::suggestion(&mut c, t.id).await?.is_some() {
                drop(c);
                let mut tx = self.db().begin().await?;
                store::delete_suggestion(&mut tx, t.id).await?;
                tx.commit().await?;
            }
            return Ok(s);
        }
        // Writes go through the write pool (on SQLite its single connection), never `pool()`.
        let mut tx = self.db().begin().await?;
        save_suggestion(&mut tx, t.id, &s, &facts.fingerprint(), self.db().now()).await?;
        tx.commit().await?;
        Ok(s)
    }

    /// The suggestion for a ticket about to be registered (no id yet), worked out before its
    /// transaction, with the fingerprint it is stored under; `None` when there is nothing to go
    /// on (then nothing is stored, and it is recomputed when asked).
    pub(crate) async fn suggest_before_intake(
        &self,
        t: &Ticket,
    ) -> Result<Option<(Suggestion, String)>> {
        let facts = SuggestFacts::of_ticket(t);
        let s = self.compute_suggestion(&facts).await?;
        if s.department.is_none() && s.model_version.is_none() {
            return Ok(None);
        }
        Ok(Some((s, facts.fingerprint())))
    }

    pub(crate) async fn compute_suggestion(&self, f: &SuggestFacts) -> Result<Suggestion> {
        let model = self.active_model().await?;
        let rules = {
            let mut c = self.db().pool().acquire().await?;
            store::rules(&mut c).await?
        };
        // Without a model, a rule or a category there is nothing to go on (history needs a
        // category): the intelligence is not set up, and intake pays nothing for it.
        if model.is_none() && rules.is_empty() && f.category_id.is_none() {
            return Ok(Suggestion {
                model_version: None,
                categories: vec![],
                explanation: vec![],
                department: None,
                auto_dispatch: false,
            });
        }
        // Loaded before taking a connection: one connection per suggestion at a time.
        let cal = kernel::calendar::load(self.db()).await?;
        let mut c = self.db().pool().acquire().await?;
        let cats = crate::ticket::store::categories(&mut c).await?;
        let by_path: HashMap<&str, i64> = cats.iter().map(|c| (c.path.as_str(), c.id)).collect();
        let path_of: HashMap<i64, &str> = cats.iter().map(|c| (c.id, c.path.as_str())).collect();

        // 1. What the model says it is about.
        let mut categories = Vec::new();
        let mut explanation = Vec::new();
        let mut predicted: Option<(i64, String, f64)> = None;
        if let Some((_, m)) = &model {
            let text = nlp::model::message_text(&f.title, &f.content);
            let m = m.clone();
            let p = tokio::task::spawn_blocking(move || m.predict(&text))
                .await
                .map_err(Error::internal)?;
            // The deepest predicted level that exists in the taxonomy, with the product of the
            // probabilities along the path.
            let mut prob = 1.0f64;
            for (label, lp) in &p.path {
                prob *= *lp as f64;
                if let Some(&id) = by_path.get(label.as_str()) {
                    predicted = Some((id, label.clone(), prob));
                }
            }
            for (i, (label, lp)) in p.top3.iter().enumerate() {
                let guess = match (&predicted, i) {
                    (Some((id, path, pr)), 0) if routing::path_under(path, label) => {
                        Some((*id, path.clone(), *pr))
                    }
                    _ => by_path
                        .get(label.as_str())
                        .map(|&id| (id, label.clone(), *lp as f64)),
                };
                if let Some((id, path, pr)) = guess {
                    // Beyond the best guess, only categories worth a dispatcher's look.
                    if i > 0 && pr < MIN_SHOWN_PROBABILITY {
                        continue;
                    }
                    categories.push(CategoryGuess {
                        category_id: id,
                        path: display_path(&path),
                        probability: (pr * 10_000.0).round() / 10_000.0,
                    });
                }
            }
            explanation = p.explanation.into_iter().map(|(w, _)| w).collect();
        }

        // 2. The category rules and history look at: the operator's, else the predicted one.
        let (cat_path, cat_prob, from_model) = match f.category_id {
            Some(id) => (path_of.get(&id).map(|p| p.to_string()), 1.0, false),
            None => match &predicted {
                Some((_, p, pr)) => (Some(p.clone()), *pr, true),
                None => (None, 1.0, false),
            },
        };
        let names = store::department_names(&mut c).await?;
        let mut facts = Facts {
            category_path: cat_path.clone(),
            region_code: f.region_code.clone(),
            point: f.point,
            kind: f.kind,
            urgency: f.urgency,
            answers: f.answers.clone(),
            ..Facts::default()
        };
        facts.at(f.at, &cal);
        let dept = |id: i64| DeptRef {
            department_id: id,
            name: names
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("单位 {id}")),
        };
        let mut department = None;
        for r in &rules {
            let paths: Vec<String> = r
                .conditions
                .category_ids
                .iter()
                .filter_map(|id| path_of.get(id).map(|p| p.to_string()))
                .collect();
            // A rule whose department was closed since cannot be followed.
            if !names.contains_key(&r.main_dept_id) || !routing::matches(r, &paths, &facts) {
                continue;
            }
            department = Some(rule_suggestion(
                r,
                &dept,
                from_model && !r.conditions.category_ids.is_empty(),
                cat_path.as_deref().unwrap_or(""),
                cat_prob,
            ));
            // A co-handler closed since the rule was written is left out.
            if let Some(d) = department.as_mut() {
                d.co_handlers
                    .retain(|c| names.contains_key(&c.department_id));
            }
            break;
        }

        // 3. Otherwise what dispatchers did with tickets of this category.
        if department.is_none() {
            if let Some(path) = cat_path.as_deref() {
                let level1 = nlp::model::level_prefix(path, 1);
                let mut tried = vec![path.to_string()];
                if level1 != path {
                    tried.push(level1);
                }
                for p in tried {
                    let events = store::history(&mut c, &p, f.ticket_id, HISTORY_LIMIT).await?;
                    let (scores, n) = history_scores(&events, f.region_code.as_deref());
                    let best = scores
                        .iter()
                        .filter(|(d, s)| s.0 > 0.0 && names.contains_key(d))
                        .max_by(|a, b| a.1 .0.total_cmp(&b.1 .0).then(b.0.cmp(a.0)));
                    let Some((&d, &(s, k, returns))) = best else {
                        continue;
                    };
                    let positive: f64 = scores.values().map(|v| v.0.max(0.0)).sum();
                    let share = s / positive;
                    // The share said in the reason, smoothed by one prior ticket each way
                    // (Laplace): 7 of 7 reads as 89%, 1 of 1 as 67%, 3 of 5 as 57% — a figure
                    // that agrees with its reason, and less sure when few tickets speak.
                    let confidence =
                        ((share * n as f64 + 1.0) / (n as f64 + 2.0) * cat_prob).clamp(0.0, 1.0);
                    let r = dept(d);
                    let returned = if returns > 0 {
                        format!("，其中被退回 {returns} 次")
                    } else {
                        String::new()
                    };
                    let basis = if from_model {
                        format!("（分类为模型预测，概率 {:.0}%）", cat_prob * 100.0)
                    } else {
                        String::new()
                    };
                    department = Some(DeptSuggestion {
                        department_id: d,
                        name: r.name.clone(),
                        co_handlers: vec![],
                        confidence: round4(confidence),
                        source: "history".into(),
                        rule_id: None,
                        reason: format!(
                            "同类工单（{}）近 {n} 件中有 {k} 次派给{}{returned}{basis}",
                            display_path(&p),
                            r.name
                        ),
                    });
                    break;
                }
            }
        }
        let threshold = self.auto_dispatch_threshold();
        let auto_dispatch = threshold > 0.0
            && department
                .as_ref()
                .is_some_and(|d| d.confidence + 1e-9 >= threshold);
        Ok(Suggestion {
            model_version: model.map(|(v, _)| v),
            categories,
            explanation,
            department,
            auto_dispatch,
        })
    }

    /// After intake, with the suggestion stored in its transaction: when it is sure enough,
    /// dispatches automatically (as 自动派单). Never fails the intake: problems are logged and
    /// the ticket waits for a dispatcher.
    pub(crate) async fn dispatch_if_sure(&self, t: Ticket, s: &Suggestion) -> Ticket {
        // Tickets still waiting to be accepted (web forms, API) are looked at by a person first.
        if !s.auto_dispatch || t.status != Status::Accepted {
            return t;
        }
        let Some(d) = &s.department else {
            return t;
        };
        match self.auto_dispatch(t.id, d).await {
            Ok(done) => done,
            Err(e) => {
                tracing::warn!(ticket = t.id, error = %e, "automatic dispatch failed");
                t
            }
        }
    }

    async fn auto_dispatch(&self, id: i64, d: &DeptSuggestion) -> Result<Ticket> {
        let actor = Actor {
            display_name: "自动派单".into(),
            ..Actor::system()
        };
        let cal = kernel::calendar::load(self.db()).await?;
        let mut tx = self.db().begin().await?;
        let actions = [
            Action::SubmitForDispatch,
            Action::Dispatch {
                main_dept_id: d.department_id,
                co_dept_ids: d.co_handlers.iter().map(|c| c.department_id).collect(),
            },
        ];
        let t = self
            .apply_as_system(&mut tx, &cal, &actor, id, &actions, |a, e| {
                if matches!(a, Action::Dispatch { .. }) {
                    e.note = Some(format!(
                        "自动派单（置信度 {:.0}%）：{}",
                        d.confidence * 100.0,
                        d.reason
                    ));
                    if let Value::Object(m) = &mut e.data {
                        m.insert("automatic".into(), json!(true));
                        m.insert("confidence".into(), json!(d.confidence));
                        m.insert("source".into(), json!(d.source));
                        m.insert("rule_id".into(), json!(d.rule_id));
                    }
                }
            })
            .await?;
        store::mark_auto_dispatched(&mut tx, id).await?;
        tx.commit().await?;
        Ok(t)
    }
}

/// Stores a ticket's suggestion (replacing the one before).
pub(crate) async fn save_suggestion(
    tx: &mut kernel::Tx,
    ticket_id: i64,
    s: &Suggestion,
    fingerprint: &str,
    now: i64,
) -> Result<()> {
    let body = serde_json::to_string(s).map_err(Error::internal)?;
    store::save_suggestion(
        tx,
        store::SuggestionRow {
            ticket_id,
            computed_at: now,
            fingerprint,
            model_version: s.model_version,
            dept_id: s.department.as_ref().map(|d| d.department_id),
            source: s.department.as_ref().map(|d| d.source.as_str()),
            confidence: s.department.as_ref().map_or(0.0, |d| d.confidence),
            body: &body,
        },
    )
    .await
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn rule_suggestion(
    r: &RoutingRule,
    dept: &dyn Fn(i64) -> DeptRef,
    on_prediction: bool,
    cat_path: &str,
    cat_prob: f64,
) -> DeptSuggestion {
    let main = dept(r.main_dept_id);
    let (confidence, source, reason) = if on_prediction {
        (
            RULE_CONFIDENCE * cat_prob,
            "model",
            format!(
                "模型预测分类为“{}”（概率 {:.0}%），命中派单规则“{}”",
                display_path(cat_path),
                cat_prob * 100.0,
                r.name
            ),
        )
    } else {
        (RULE_CONFIDENCE, "rule", format!("命中派单规则“{}”", r.name))
    };
    DeptSuggestion {
        department_id: main.department_id,
        name: main.name,
        co_handlers: r.co_dept_ids.iter().map(|&d| dept(d)).collect(),
        confidence: round4(confidence),
        source: source.into(),
        rule_id: Some(r.id),
        reason,
    }
}

// ---- report ----

/// Automatic dispatch and dispatcher agreement over a period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DispatchReport {
    /// `YYYY-MM-DD`, inclusive, China time.
    pub from: String,
    pub to: String,
    /// Tickets dispatched for the first time in the period.
    pub dispatched: i64,
    /// Of those, dispatched automatically.
    pub auto_dispatched: i64,
    /// auto_dispatched / dispatched.
    pub auto_rate: Option<f64>,
    /// Automatically dispatched tickets the department returned (退单).
    pub auto_returned: i64,
    /// (auto_dispatched − auto_returned) / auto_dispatched.
    pub auto_accuracy: Option<f64>,
    /// Tickets a dispatcher dispatched that had a suggested department.
    pub manual_with_suggestion: i64,
    /// Of those, sent to the suggested department.
    pub agreed: i64,
    /// agreed / manual_with_suggestion.
    pub agreement: Option<f64>,
}

fn ratio(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| round4(n as f64 / d as f64))
}

fn china_day(s: &str, field: &str) -> Result<(chrono::NaiveDate, i64)> {
    let d = routing::parse_date(s)
        .ok_or_else(|| Error::field(field, "invalid_date", "日期格式应为 2026-03-14"))?;
    let ms = d
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_local_timezone(kernel::clock::china())
        .single()
        .expect("fixed offset")
        .timestamp_millis();
    Ok((d, ms))
}

/// The dispatch figures of `[from, to)` (milliseconds), in the actor's region.
pub async fn dispatch_figures(
    db: &kernel::Db,
    region_prefix: Option<&str>,
    from: i64,
    to: i64,
) -> Result<(i64, i64, i64, i64, i64)> {
    let mut c = db.pool().acquire().await?;
    let events = store::dispatch_events(&mut c, from, to).await?;
    let suggested = store::suggested_depts(&mut c, from, to).await?;
    let (mut dispatched, mut auto, mut auto_returned, mut with_s, mut agreed) = (0, 0, 0, 0, 0);
    let mut i = 0;
    while i < events.len() {
        let id = events[i].ticket_id;
        let j = events[i..]
            .iter()
            .position(|e| e.ticket_id != id)
            .map_or(events.len(), |k| i + k);
        let evs = &events[i..j];
        i = j;
        let visible = match (region_prefix, evs[0].region_code.as_deref()) {
            (Some(p), Some(r)) => r.starts_with(p),
            _ => true,
        };
        // The ticket's first dispatch decides whether it counts in this period.
        let Some(first) = evs.iter().find(|e| !e.is_return) else {
            continue;
        };
        if !visible || first.at < from || first.at >= to {
            continue;
        }
        dispatched += 1;
        if first.automatic {
            auto += 1;
            if evs
                .iter()
                .any(|e| e.is_return && e.at >= first.at && e.dept_id == first.dept_id)
            {
                auto_returned += 1;
            }
        } else if let Some(s) = suggested.get(&id) {
            with_s += 1;
            if first.dept_id == Some(*s) {
                agreed += 1;
            }
        }
    }
    Ok((dispatched, auto, auto_returned, with_s, agreed))
}

impl HotlineService {
    /// `GET /reports/dispatch`: dispatchers, supervisors, analysts and admins.
    pub async fn dispatch_report(
        &self,
        actor: &Actor,
        from: &str,
        to: &str,
    ) -> Result<DispatchReport> {
        actor.require_any_role(&[
            Role::Dispatcher,
            Role::Supervisor,
            Role::Analyst,
            Role::SysAdmin,
        ])?;
        actor.require_scope("hotline:read")?;
        if from.is_empty() {
            return Err(Error::field("from", "required", "请填写开始日期"));
        }
        if to.is_empty() {
            return Err(Error::field("to", "required", "请填写结束日期"));
        }
        let (fd, f) = china_day(from, "from")?;
        let (td, t) = china_day(to, "to")?;
        if td < fd {
            return Err(Error::field(
                "to",
                "invalid_range",
                "结束日期不能早于开始日期",
            ));
        }
        let prefix = match &actor.scope {
            kernel::Scope::Region { prefix } => Some(prefix.as_str()),
            kernel::Scope::All => None,
            _ => return Err(Error::forbidden("仅限全市或本辖区的工作人员查看")),
        };
        let (dispatched, auto, auto_returned, with_s, agreed) =
            dispatch_figures(self.db(), prefix, f, t + 86_400_000).await?;
        Ok(DispatchReport {
            from: fd.to_string(),
            to: td.to_string(),
            dispatched,
            auto_dispatched: auto,
            auto_rate: ratio(auto, dispatched),
            auto_returned,
            auto_accuracy: ratio(auto - auto_returned, auto),
            manual_with_suggestion: with_s,
            agreed,
            agreement: ratio(agreed, with_s),
        })
    }
}
