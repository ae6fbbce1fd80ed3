//! 研判告警 (weak-signal alerts): a community, street or category whose weekly volume rises well
//! above its own baseline, or a new cluster of tickets growing fast. The job (hourly in the
//! server, `yiwang hotline signals` by hand) runs `nlp::signal` over recent tickets and stores
//! each alert with its evidence; an alert already raised for the same subject and an overlapping
//! window is refreshed, never raised twice. Supervisors and analysts list and acknowledge them.

use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use kernel::audit;
use kernel::error::{Checks, Error, Result};
use kernel::{Actor, Db, Role, Scope};
use nlp::hotspot::{format_china_time, HotspotOptions, Message};
use nlp::signal::{AlertKind, ClusterActivity, Event, GrowthOptions, SignalOptions};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};
use utoipa::{IntoParams, OpenApi, ToSchema};
use webcore::{ApiActor, ApiResult, AppCtx, Json, Path, Query};

const DAY_MS: i64 = 86_400_000;
const WEEK_MS: i64 = 7 * DAY_MS;
/// Weeks of history a week is judged against.
const BASELINE_WEEKS: i64 = 8;
/// Each run judges the current week and the one before (a burst seen late is still raised).
const JUDGED_DAYS: i64 = 14;
/// New clusters: tickets of this many days are clustered.
const CLUSTER_DAYS: i64 = 28;

const READERS: &[Role] = &[
    Role::Supervisor,
    Role::Analyst,
    Role::Dispatcher,
    Role::Admin,
];
const ACK: &[Role] = &[Role::Supervisor, Role::Analyst, Role::Admin];

/// A stored alert.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct StoredAlert {
    pub id: i64,
    /// `volume_spike` (量能异常) or `new_cluster` (新增聚集).
    pub kind: String,
    /// `region`, `category` or `cluster`.
    pub dimension: String,
    pub subject: String,
    /// What the alert is about, in words ("桂花社区", "城乡建设/物业管理").
    pub subject_label: String,
    pub window_from: String,
    pub window_to: String,
    pub score: f64,
    pub observed: i64,
    pub expected: f64,
    /// Statements, counts per week (or day), baseline and ratio.
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
    pub ticket_ids: Vec<i64>,
    pub region_code: Option<String>,
    /// `open` or `acknowledged`.
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<String>,
    pub ack_note: Option<String>,
}

/// What one run did.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct RunSummary {
    pub tickets: usize,
    pub raised: Vec<i64>,
    pub refreshed: Vec<i64>,
}

struct Candidate {
    kind: AlertKind,
    dimension: &'static str,
    subject: String,
    label: String,
    region_code: Option<String>,
    from_ms: i64,
    to_ms: i64,
    score: f64,
    observed: i64,
    expected: f64,
    evidence: serde_json::Value,
    ticket_ids: Vec<i64>,
}

struct Row1 {
    id: i64,
    at: i64,
    region: Option<String>,
    category: Option<i64>,
    phone: Option<String>,
    text: String,
}

/// Monday 00:00 China time of the week holding `ms`.
fn week_start(ms: i64) -> i64 {
    let day = (ms + 8 * 3_600_000).div_euclid(DAY_MS);
    let monday = (day + 3).div_euclid(7) * 7 - 3;
    monday * DAY_MS - 8 * 3_600_000
}

fn kind_code(k: AlertKind) -> &'static str {
    match k {
        AlertKind::VolumeSpike => "volume_spike",
        AlertKind::NewCluster => "new_cluster",
    }
}

/// Runs the weak-signal analysis as of `at_ms` and stores new alerts.
pub async fn run(db: &Db, at_ms: i64) -> Result<RunSummary> {
    let since = week_start(at_ms) - (BASELINE_WEEKS + 3) * WEEK_MS;
    let mut c = db.pool().acquire().await?;
    let rows = sqlx::query(
        "SELECT id, created_at, region_code, category_id, caller_phone, title, content
         FROM hotline_tickets WHERE created_at >= $1 AND created_at <= $2 AND split_from_id IS NULL
         ORDER BY created_at, id",
    )
    .bind(since)
    .bind(at_ms)
    .fetch_all(&mut *c)
    .await?;
    let tickets: Vec<Row1> = rows
        .iter()
        .map(|r| Row1 {
            id: r.get("id"),
            at: r.get("created_at"),
            region: r.get("region_code"),
            category: r.get("category_id"),
            phone: r.get("caller_phone"),
            text: format!(
                "{}\n{}",
                r.get::<String, _>("title"),
                r.get::<String, _>("content")
            ),
        })
        .collect();
    let cats: HashMap<i64, (Option<i64>, String)> =
        sqlx::query("SELECT id, parent_id, path FROM hotline_categories")
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(|r| (r.get("id"), (r.get("parent_id"), r.get("path"))))
            .collect();
    let regions: HashMap<String, String> = sqlx::query("SELECT code, name FROM org_regions")
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| (r.get("code"), r.get("name")))
        .collect();
    drop(c);
    let n = tickets.len();
    let candidates = tokio::task::spawn_blocking(move || analyse(&tickets, &cats, &regions, at_ms))
        .await
        .map_err(Error::internal)?;
    let mut summary = RunSummary {
        tickets: n,
        ..RunSummary::default()
    };
    for cand in candidates {
        match store_alert(db, &cand).await? {
            Stored::Raised(id) => summary.raised.push(id),
            Stored::Refreshed(id) => summary.refreshed.push(id),
            Stored::Unchanged => {}
        }
    }
    Ok(summary)
}

/// The subjects a ticket counts for: its region and street, its category and the top level.
fn keys(t: &Row1, cats: &HashMap<i64, (Option<i64>, String)>) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(rc) = t.region.as_deref().filter(|s| !s.is_empty()) {
        out.push(("region", rc.to_owned()));
        // A community (12 digits) also counts for its street (街道: the first 9 digits).
        if rc.len() == 12 && !rc.ends_with("000") {
            out.push(("region", format!("{}000", &rc[..9])));
        }
    }
    if let Some(mut id) = t.category {
        out.push(("category", id.to_string()));
        let mut guard = 0;
        while let Some((Some(p), _)) = cats.get(&id) {
            id = *p;
            guard += 1;
            if guard > 5 {
                break;
            }
        }
        if Some(id) != t.category {
            out.push(("category", id.to_string()));
        }
    }
    out
}

fn analyse(
    tickets: &[Row1],
    cats: &HashMap<i64, (Option<i64>, String)>,
    regions: &HashMap<String, String>,
    at_ms: i64,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    // ---- volume against each subject's own baseline, weekly ----
    let mut events = Vec::new();
    let mut members: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
    for t in tickets {
        for (dim, subject) in keys(t, cats) {
            let key = format!("{dim}:{subject}");
            events.push(Event {
                key: key.clone(),
                at_ms: t.at,
            });
            members.entry(key).or_default().push((t.id, t.at));
        }
    }
    let opts = SignalOptions {
        bucket_days: 7,
        baseline_days: BASELINE_WEEKS * 7,
        min_history_days: 28,
        min_count: 5,
        from_ms: Some(at_ms - JUDGED_DAYS * DAY_MS),
        to_ms: Some(at_ms),
        ..SignalOptions::default()
    };
    // The series starts at the earliest loaded ticket; a fixed start keeps the baseline honest
    // for subjects that were silent.
    let first = week_start(at_ms) - (BASELINE_WEEKS + 3) * WEEK_MS;
    events.push(Event {
        key: "\u{0}start".into(),
        at_ms: first,
    });
    for a in nlp::signal::volume_alerts(&events, &opts) {
        if a.key.starts_with('\u{0}') {
            continue;
        }
        let (dim, subject) = a.key.split_once(':').unwrap_or(("region", &a.key));
        let dim: &'static str = if dim == "category" {
            "category"
        } else {
            "region"
        };
        let label = if dim == "category" {
            subject
                .parse::<i64>()
                .ok()
                .and_then(|id| cats.get(&id))
                .map(|c| c.1.clone())
                .unwrap_or_else(|| subject.to_owned())
        } else {
            regions
                .get(subject)
                .cloned()
                .unwrap_or_else(|| subject.to_owned())
        };
        let all = members.get(&a.key).cloned().unwrap_or_default();
        let ids: Vec<i64> = all
            .iter()
            .filter(|(_, at)| *at >= a.from_ms && *at <= a.to_ms)
            .map(|(id, _)| *id)
            .collect();
        // Weekly counts from the baseline's start to the alert's end, for the evidence.
        let mut weeks: BTreeMap<i64, i64> = BTreeMap::new();
        let mut w = week_start(a.from_ms) - BASELINE_WEEKS * WEEK_MS;
        while w <= a.to_ms {
            weeks.insert(w, 0);
            w += WEEK_MS;
        }
        for (_, at) in &all {
            if let Some(n) = weeks.get_mut(&week_start(*at)) {
                *n += 1;
            }
        }
        let ratio = if a.expected > 0.0 {
            a.observed as f64 / a.expected
        } else {
            a.observed as f64
        };
        let mut statements = vec![format!(
            "{label}：{} 至 {} 共 {} 件，按此前 {BASELINE_WEEKS} 周基线应约 {:.1} 件",
            format_china_time(a.from_ms),
            format_china_time(a.to_ms),
            a.observed,
            a.expected
        )];
        statements.extend(a.evidence.iter().cloned());
        out.push(Candidate {
            kind: a.kind,
            dimension: dim,
            subject: subject.to_owned(),
            region_code: (dim == "region").then(|| subject.to_owned()),
            label,
            from_ms: a.from_ms,
            to_ms: a.to_ms,
            score: (a.score * 100.0).round() / 100.0,
            observed: a.observed,
            expected: a.expected,
            evidence: json!({
                "statements": statements,
                "bucket": "week",
                "counts": weeks.iter().map(|(w, n)| json!({"from": format_china_time(*w), "count": n})).collect::<Vec<_>>(),
                "baseline": a.expected,
                "ratio": (ratio * 100.0).round() / 100.0,
            }),
            ticket_ids: ids,
        });
    }
    // ---- new clusters growing fast ----
    let recent: Vec<&Row1> = tickets
        .iter()
        .filter(|t| t.at >= at_ms - CLUSTER_DAYS * DAY_MS)
        .collect();
    let msgs: Vec<Message> = recent
        .iter()
        .map(|t| Message {
            id: t.id.to_string(),
            text: t.text.clone(),
            at_ms: t.at,
            user: t.phone.clone().filter(|p| !p.is_empty()),
            likes: 0,
        })
        .collect();
    let clusters = nlp::hotspot::cluster(
        &msgs,
        &HotspotOptions {
            now_ms: Some(at_ms),
            ..HotspotOptions::default()
        },
    );
    let acts: Vec<ClusterActivity> = clusters
        .iter()
        .filter(|c| c.members.len() >= 3)
        .map(|c| ClusterActivity {
            // The first member's id is stable from run to run, the title is not.
            key: msgs[c.members[0]].id.clone(),
            tickets: c
                .members
                .iter()
                .map(|&i| (msgs[i].at_ms, msgs[i].user.clone()))
                .collect(),
        })
        .collect();
    let growth = GrowthOptions::default();
    for a in nlp::signal::growth_alerts(&acts, at_ms, &growth) {
        let Some(c) = clusters
            .iter()
            .find(|c| c.members.first().is_some_and(|&i| msgs[i].id == a.key))
        else {
            continue;
        };
        let ids: Vec<i64> = c
            .members
            .iter()
            .filter_map(|&i| msgs[i].id.parse().ok())
            .collect();
        let title: String = msgs[c.members[0]]
            .text
            .split('\n')
            .next()
            .unwrap_or("")
            .chars()
            .take(40)
            .collect();
        // The region most members name, for data scope.
        let mut by_region: HashMap<&str, usize> = HashMap::new();
        for &i in &c.members {
            if let Some(r) = recent[i].region.as_deref() {
                *by_region.entry(r).or_default() += 1;
            }
        }
        let region = by_region
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
            .map(|r| r.0.to_owned());
        let mut days: BTreeMap<i64, i64> = BTreeMap::new();
        for &i in &c.members {
            let d = (msgs[i].at_ms + 8 * 3_600_000).div_euclid(DAY_MS) * DAY_MS - 8 * 3_600_000;
            *days.entry(d).or_default() += 1;
        }
        out.push(Candidate {
            kind: a.kind,
            dimension: "cluster",
            subject: a.key.clone(),
            label: title,
            region_code: region,
            from_ms: a.from_ms,
            to_ms: a.to_ms,
            score: a.score,
            observed: a.observed,
            expected: a.expected,
            evidence: json!({
                "statements": a.evidence,
                "bucket": "day",
                "counts": days.iter().map(|(d, n)| json!({"from": format_china_time(*d), "count": n})).collect::<Vec<_>>(),
                "baseline": a.expected,
                "ratio": if a.expected > 0.0 { ((a.observed as f64 / a.expected) * 100.0).round() / 100.0 } else { a.observed as f64 },
            }),
            ticket_ids: ids,
        });
    }
    out
}

enum Stored {
    Raised(i64),
    Refreshed(i64),
    Unchanged,
}

/// Inserts a new alert, or refreshes the one already raised for the same subject and an
/// overlapping window (a burst that goes on is one alert, not one per run).
async fn store_alert(db: &Db, a: &Candidate) -> Result<Stored> {
    let now = db.now();
    let mut tx = db.begin().await?;
    let existing = sqlx::query(
        "SELECT id, window_to, observed FROM hotline_alerts
         WHERE kind = $1 AND dimension = $2 AND subject = $3 AND window_from <= $4 AND window_to >= $5
         ORDER BY id LIMIT 1",
    )
    .bind(kind_code(a.kind))
    .bind(a.dimension)
    .bind(&a.subject)
    .bind(a.to_ms)
    .bind(a.from_ms)
    .fetch_optional(&mut *tx)
    .await?;
    let ids = serde_json::to_string(&a.ticket_ids)?;
    if let Some(r) = existing {
        let id: i64 = r.get("id");
        let (to, obs): (i64, i64) = (r.get("window_to"), r.get("observed"));
        if to >= a.to_ms && obs >= a.observed {
            return Ok(Stored::Unchanged);
        }
        sqlx::query(
            "UPDATE hotline_alerts SET window_to = $1, observed = $2, expected = $3, score = $4,
             evidence = $5, ticket_ids = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(to.max(a.to_ms))
        .bind(obs.max(a.observed))
        .bind(a.expected)
        .bind(a.score)
        .bind(a.evidence.to_string())
        .bind(&ids)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        return Ok(Stored::Refreshed(id));
    }
    // Another instance may raise the same alert at the same moment: the unique key decides.
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO hotline_alerts (kind, dimension, subject, subject_label, window_from, window_to, score,
            observed, expected, evidence, ticket_ids, region_code, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'open', $13, $13)
         ON CONFLICT (kind, dimension, subject, window_from) DO NOTHING RETURNING id",
    )
    .bind(kind_code(a.kind))
    .bind(a.dimension)
    .bind(&a.subject)
    .bind(&a.label)
    .bind(a.from_ms)
    .bind(a.to_ms)
    .bind(a.score)
    .bind(a.observed)
    .bind(a.expected)
    .bind(a.evidence.to_string())
    .bind(&ids)
    .bind(&a.region_code)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else {
        return Ok(Stored::Unchanged);
    };
    audit::record(
        &mut tx,
        now,
        &Actor::system().audit_actor(),
        "hotline_alert",
        id,
        "raise",
        json!({"kind": kind_code(a.kind), "dimension": a.dimension, "subject": a.subject, "observed": a.observed}),
    )
    .await?;
    tx.commit().await?;
    Ok(Stored::Raised(id))
}

fn alert_row(r: &sqlx::any::AnyRow) -> Result<StoredAlert> {
    Ok(StoredAlert {
        id: r.get("id"),
        kind: r.get("kind"),
        dimension: r.get("dimension"),
        subject: r.get("subject"),
        subject_label: r.get("subject_label"),
        window_from: format_china_time(r.get("window_from")),
        window_to: format_china_time(r.get("window_to")),
        score: r.get("score"),
        observed: r.get("observed"),
        expected: r.get("expected"),
        evidence: serde_json::from_str(&r.get::<String, _>("evidence"))?,
        ticket_ids: serde_json::from_str(&r.get::<String, _>("ticket_ids"))?,
        region_code: r.get("region_code"),
        status: r.get("status"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
        acknowledged_at: r.get("acknowledged_at"),
        acknowledged_by: r.get("acknowledged_by"),
        ack_note: r.get("ack_note"),
    })
}

fn visible(actor: &Actor, a: &StoredAlert) -> bool {
    match &actor.scope {
        Scope::All => true,
        Scope::Region { prefix } => a
            .region_code
            .as_deref()
            .is_none_or(|c| c.starts_with(prefix.as_str())),
        _ => false,
    }
}

/// Alerts service: list and acknowledge, with the actor checked.
#[derive(Clone, Debug)]
pub struct AlertService {
    db: Db,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct AlertQuery {
    /// `open` or `acknowledged`; all when absent.
    pub status: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AckRequest {
    pub note: String,
}

impl AlertService {
    pub fn new(db: Db) -> Self {
        AlertService { db }
    }

    /// Newest first, at most 500; region-scoped readers see their region's and city-wide ones.
    pub async fn list(&self, actor: &Actor, status: Option<&str>) -> Result<Vec<StoredAlert>> {
        actor.require_any_role(READERS)?;
        actor.require_scope("hotline:read")?;
        let status = status.map(str::trim).filter(|s| !s.is_empty());
        if let Some(s) = status {
            if s != "open" && s != "acknowledged" {
                return Err(Error::field(
                    "status",
                    "invalid",
                    "status 只能是 open 或 acknowledged",
                ));
            }
        }
        let rows = sqlx::query(
            "SELECT * FROM hotline_alerts WHERE ($1 = '' OR status = $1)
             ORDER BY created_at DESC, id DESC LIMIT 500",
        )
        .bind(status.unwrap_or(""))
        .fetch_all(self.db.pool())
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let a = alert_row(r)?;
            if visible(actor, &a) {
                out.push(a);
            }
        }
        Ok(out)
    }

    /// Marks an open alert as seen, with what was done about it. Audited.
    pub async fn acknowledge(&self, actor: &Actor, id: i64, note: &str) -> Result<StoredAlert> {
        actor.require_any_role(ACK)?;
        actor.require_scope("hotline:write")?;
        let mut c = Checks::new();
        c.text("note", "处理意见", note, 1000);
        c.finish()?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let r = sqlx::query("SELECT * FROM hotline_alerts WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| Error::not_found("hotline_alert", "告警不存在"))?;
        let a = alert_row(&r)?;
        if !visible(actor, &a) {
            return Err(Error::forbidden("无权处理其他辖区的告警"));
        }
        let who = actor.audit_actor();
        let done = sqlx::query(
            "UPDATE hotline_alerts SET status = 'acknowledged', acknowledged_at = $1, acknowledged_by = $2,
             ack_note = $3, updated_at = $1 WHERE id = $4 AND status = 'open'",
        )
        .bind(now)
        .bind(&actor.username)
        .bind(note.trim())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Err(Error::IllegalTransition {
                detail: "该告警已确认，不能重复确认".into(),
            });
        }
        audit::record(
            &mut tx,
            now,
            &who,
            "hotline_alert",
            id,
            "acknowledge",
            json!({"note": note.trim()}),
        )
        .await?;
        let r = sqlx::query("SELECT * FROM hotline_alerts WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let a = alert_row(&r)?;
        tx.commit().await?;
        Ok(a)
    }
}

// ---- HTTP ----

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/hotline/alerts", get(list))
        .route("/api/v1/hotline/alerts/{id}/acknowledge", post(acknowledge))
}

#[derive(OpenApi)]
#[openapi(
    paths(list, acknowledge),
    components(schemas(StoredAlert, AckRequest)),
    tags((name = "hotline-intel", description = "12345 热线智能：知识检索、智能问答、重复工单、热点问题、研判告警"))
)]
pub struct AlertApi;

/// 研判告警, newest first.
#[utoipa::path(get, path = "/api/v1/hotline/alerts", tag = "hotline-intel", params(AlertQuery),
    responses((status = 200, body = Vec<StoredAlert>), (status = 403, body = webcore::error::Problem)))]
async fn list(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<AlertQuery>,
) -> ApiResult<axum::Json<Vec<StoredAlert>>> {
    Ok(axum::Json(
        AlertService::new(ctx.db.clone())
            .list(&a, q.status.as_deref())
            .await?,
    ))
}

/// Acknowledges an alert with a note (supervisors, analysts).
#[utoipa::path(post, path = "/api/v1/hotline/alerts/{id}/acknowledge", tag = "hotline-intel", params(("id" = i64, Path)),
    request_body = AckRequest,
    responses((status = 200, body = StoredAlert), (status = 409, body = webcore::error::Problem), (status = 422, body = webcore::error::Problem)))]
async fn acknowledge(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(r): Json<AckRequest>,
) -> ApiResult<axum::Json<StoredAlert>> {
    Ok(axum::Json(
        AlertService::new(ctx.db.clone())
            .acknowledge(&a, id, &r.note)
            .await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_china_time() {
        // 2025-03-12 (a Wednesday) 10:00 China time → Monday 2025-03-10 00:00.
        let wed = nlp::hotspot::parse_china_time("2025-03-12 10:00:00").unwrap();
        assert_eq!(format_china_time(week_start(wed)), "2025-03-10 00:00:00");
        let mon = nlp::hotspot::parse_china_time("2025-03-10 00:00:00").unwrap();
        assert_eq!(week_start(mon), mon);
    }
}
