//! SQL of the intelligence tables (`hotline_models`, `hotline_routing_rules`,
//! `hotline_suggestions`, `hotline_dispatch_feedback`) and the reads of tickets and events they
//! learn from.

use super::routing::{Conditions, RoutingRule};
use super::{EditRules, ManageModels};
use kernel::db::flag;
use kernel::error::{Error, Result};
use kernel::Granted;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

// ---- models ----

pub struct ModelRow {
    pub version: i64,
    pub created_at: i64,
    pub created_by: String,
    pub n_labeled: i64,
    pub n_unlabeled: i64,
    pub n_seeds: i64,
    pub n_holdout: i64,
    pub metrics: String,
    pub decision: String,
    pub active: bool,
    pub size: i64,
}

const MODEL_COLS: &str = "version, created_at, created_by, n_labeled, n_unlabeled, n_seeds, n_holdout, metrics, decision, active, CAST(LENGTH(bytes) AS BIGINT) AS size";

fn model_row(r: &AnyRow) -> ModelRow {
    ModelRow {
        version: r.get("version"),
        created_at: r.get("created_at"),
        created_by: r.get("created_by"),
        n_labeled: r.get("n_labeled"),
        n_unlabeled: r.get("n_unlabeled"),
        n_seeds: r.get("n_seeds"),
        n_holdout: r.get("n_holdout"),
        metrics: r.get("metrics"),
        decision: r.get("decision"),
        active: flag(r.get("active")),
        size: r.get("size"),
    }
}

pub async fn models(c: &mut AnyConnection) -> Result<Vec<ModelRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {MODEL_COLS} FROM hotline_models ORDER BY version DESC"
    ))
    .fetch_all(c)
    .await?;
    Ok(rows.iter().map(model_row).collect())
}

pub async fn model(c: &mut AnyConnection, version: i64) -> Result<Option<ModelRow>> {
    let r = sqlx::query(&format!(
        "SELECT {MODEL_COLS} FROM hotline_models WHERE version = $1"
    ))
    .bind(version)
    .fetch_optional(c)
    .await?;
    Ok(r.as_ref().map(model_row))
}

/// The active version: the cheap check serving does before using its cached model.
pub async fn active_version(c: &mut AnyConnection) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT version FROM hotline_models WHERE active = 1")
            .fetch_optional(c)
            .await?,
    )
}

pub async fn model_bytes(c: &mut AnyConnection, version: i64) -> Result<Option<Vec<u8>>> {
    Ok(
        sqlx::query_scalar("SELECT bytes FROM hotline_models WHERE version = $1")
            .bind(version)
            .fetch_optional(c)
            .await?,
    )
}

pub struct NewModel<'a> {
    pub created_at: i64,
    pub created_by: &'a str,
    pub n_labeled: i64,
    pub n_unlabeled: i64,
    pub n_seeds: i64,
    pub n_holdout: i64,
    pub metrics: &'a str,
    pub decision: &'a str,
    pub bytes: &'a [u8],
}

/// Stores a model under the next version number (inactive).
pub async fn insert_model(
    c: &mut AnyConnection,
    _granted: Granted<'_, ManageModels>,
    m: NewModel<'_>,
) -> Result<i64> {
    let next: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(version), 0) + 1 AS BIGINT) FROM hotline_models",
    )
    .fetch_one(&mut *c)
    .await?;
    sqlx::query("INSERT INTO hotline_models (version, created_at, created_by, n_labeled, n_unlabeled, n_seeds, n_holdout, metrics, decision, bytes, active) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0)")
        .bind(next)
        .bind(m.created_at)
        .bind(m.created_by)
        .bind(m.n_labeled)
        .bind(m.n_unlabeled)
        .bind(m.n_seeds)
        .bind(m.n_holdout)
        .bind(m.metrics)
        .bind(m.decision)
        .bind(m.bytes)
        .execute(&mut *c)
        .await?;
    Ok(next)
}

pub async fn set_active(
    c: &mut AnyConnection,
    _granted: Granted<'_, ManageModels>,
    version: i64,
) -> Result<()> {
    sqlx::query("UPDATE hotline_models SET active = CASE WHEN version = $1 THEN 1 ELSE 0 END")
        .bind(version)
        .execute(c)
        .await?;
    Ok(())
}

// ---- training data ----

/// `(ticket id, title, content, category path)` of tickets with a final category: replied,
/// closed or archived ones, and any whose category a person corrected. The current category is
/// the one a reclassification left, so corrections win.
pub async fn labeled_tickets(c: &mut AnyConnection) -> Result<Vec<(i64, String, String, String)>> {
    let rows = sqlx::query(
        "SELECT t.id, t.title, t.content, c.path FROM hotline_tickets t
         JOIN hotline_categories c ON c.id = t.category_id
         WHERE t.status IN ('replied', 'closed', 'archived')
            OR t.id IN (SELECT ticket_id FROM hotline_dispatch_feedback WHERE kind = 'category')
         ORDER BY t.id",
    )
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get("id"), r.get("title"), r.get("content"), r.get("path")))
        .collect())
}

/// Texts of the most recent tickets without a final category (semi-supervised training).
pub async fn unlabeled_tickets(c: &mut AnyConnection, limit: i64) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT title, content FROM hotline_tickets
         WHERE category_id IS NULL OR status NOT IN ('replied', 'closed', 'archived')
         ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get("title"), r.get("content")))
        .collect())
}

/// Region, street, community and department names: the segmenter's user dictionary.
pub async fn org_words(c: &mut AnyConnection) -> Result<Vec<String>> {
    // Read through org's directory, not its tables.
    let mut words: Vec<String> = org::directory::regions(&mut *c)
        .await?
        .into_iter()
        .map(|r| r.name)
        .collect();
    for d in org::directory::departments(&mut *c).await? {
        words.push(d.name);
        words.push(d.short_name);
    }
    words.retain(|w| w.chars().count() >= 2);
    words.sort();
    words.dedup();
    Ok(words)
}

// ---- routing rules ----

const RULE_COLS: &str = "id, position, name, enabled, conditions, main_dept_id, co_dept_ids, valid_from, valid_until, created_at, updated_at";

fn rule_row(r: &AnyRow) -> Result<RoutingRule> {
    let conditions: Conditions = serde_json::from_str(&r.get::<String, _>("conditions"))
        .map_err(|e| Error::internal(format!("hotline_routing_rules.conditions: {e}")))?;
    Ok(RoutingRule {
        id: r.get("id"),
        position: r.get("position"),
        name: r.get("name"),
        enabled: flag(r.get("enabled")),
        conditions,
        main_dept_id: r.get("main_dept_id"),
        co_dept_ids: serde_json::from_str(&r.get::<String, _>("co_dept_ids")).unwrap_or_default(),
        valid_from: r.get("valid_from"),
        valid_until: r.get("valid_until"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    })
}

pub async fn rules(c: &mut AnyConnection) -> Result<Vec<RoutingRule>> {
    let rows = sqlx::query(&format!(
        "SELECT {RULE_COLS} FROM hotline_routing_rules ORDER BY position, id"
    ))
    .fetch_all(c)
    .await?;
    rows.iter().map(rule_row).collect()
}

pub async fn rule(c: &mut AnyConnection, id: i64) -> Result<Option<RoutingRule>> {
    let r = sqlx::query(&format!(
        "SELECT {RULE_COLS} FROM hotline_routing_rules WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await?;
    r.as_ref().map(rule_row).transpose()
}

fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

pub async fn insert_rule(
    c: &mut AnyConnection,
    _granted: Granted<'_, EditRules>,
    r: &RoutingRule,
) -> Result<i64> {
    let id: i64 = sqlx::query_scalar("INSERT INTO hotline_routing_rules (position, name, enabled, conditions, main_dept_id, co_dept_ids, valid_from, valid_until, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
        .bind(r.position)
        .bind(&r.name)
        .bind(r.enabled as i64)
        .bind(json(&r.conditions))
        .bind(r.main_dept_id)
        .bind(json(&r.co_dept_ids))
        .bind(&r.valid_from)
        .bind(&r.valid_until)
        .bind(r.created_at)
        .bind(r.updated_at)
        .fetch_one(c)
        .await?;
    Ok(id)
}

pub async fn update_rule(
    c: &mut AnyConnection,
    _granted: Granted<'_, EditRules>,
    r: &RoutingRule,
) -> Result<()> {
    sqlx::query("UPDATE hotline_routing_rules SET position = $1, name = $2, enabled = $3, conditions = $4, main_dept_id = $5, co_dept_ids = $6, valid_from = $7, valid_until = $8, updated_at = $9 WHERE id = $10")
        .bind(r.position)
        .bind(&r.name)
        .bind(r.enabled as i64)
        .bind(json(&r.conditions))
        .bind(r.main_dept_id)
        .bind(json(&r.co_dept_ids))
        .bind(&r.valid_from)
        .bind(&r.valid_until)
        .bind(r.updated_at)
        .bind(r.id)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn delete_rule(
    c: &mut AnyConnection,
    _granted: Granted<'_, EditRules>,
    id: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM hotline_routing_rules WHERE id = $1")
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn set_position(
    c: &mut AnyConnection,
    _granted: Granted<'_, EditRules>,
    id: i64,
    position: i64,
) -> Result<()> {
    sqlx::query("UPDATE hotline_routing_rules SET position = $1 WHERE id = $2")
        .bind(position)
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

// ---- reference data ----

/// Active departments: id → name.
pub async fn department_names(
    c: &mut AnyConnection,
) -> Result<std::collections::HashMap<i64, String>> {
    org::directory::active_department_names(c).await
}

pub async fn region_codes(c: &mut AnyConnection) -> Result<std::collections::HashSet<String>> {
    org::directory::region_codes(c).await
}

// ---- suggestions ----

pub struct StoredSuggestion {
    pub fingerprint: String,
    pub body: String,
}

pub async fn suggestion(c: &mut AnyConnection, ticket_id: i64) -> Result<Option<StoredSuggestion>> {
    let r = sqlx::query("SELECT fingerprint, body FROM hotline_suggestions WHERE ticket_id = $1")
        .bind(ticket_id)
        .fetch_optional(c)
        .await?;
    Ok(r.map(|r| StoredSuggestion {
        fingerprint: r.get("fingerprint"),
        body: r.get("body"),
    }))
}

pub struct SuggestionRow<'a> {
    pub ticket_id: i64,
    pub computed_at: i64,
    pub fingerprint: &'a str,
    pub model_version: Option<i64>,
    pub dept_id: Option<i64>,
    pub source: Option<&'a str>,
    pub confidence: f64,
    pub body: &'a str,
}

pub async fn save_suggestion(c: &mut AnyConnection, s: SuggestionRow<'_>) -> Result<()> {
    sqlx::query("DELETE FROM hotline_suggestions WHERE ticket_id = $1")
        .bind(s.ticket_id)
        .execute(&mut *c)
        .await?;
    sqlx::query("INSERT INTO hotline_suggestions (ticket_id, computed_at, fingerprint, model_version, dept_id, source, confidence, body, auto_dispatched) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0)")
        .bind(s.ticket_id)
        .bind(s.computed_at)
        .bind(s.fingerprint)
        .bind(s.model_version)
        .bind(s.dept_id)
        .bind(s.source)
        .bind(s.confidence)
        .bind(s.body)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn delete_suggestion(c: &mut AnyConnection, ticket_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM hotline_suggestions WHERE ticket_id = $1")
        .bind(ticket_id)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn mark_auto_dispatched(c: &mut AnyConnection, ticket_id: i64) -> Result<()> {
    sqlx::query("UPDATE hotline_suggestions SET auto_dispatched = 1 WHERE ticket_id = $1")
        .bind(ticket_id)
        .execute(c)
        .await?;
    Ok(())
}

/// The department suggested for a ticket, if any.
pub async fn suggested_dept(c: &mut AnyConnection, ticket_id: i64) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar::<_, Option<i64>>(
        "SELECT dept_id FROM hotline_suggestions WHERE ticket_id = $1",
    )
    .bind(ticket_id)
    .fetch_optional(c)
    .await?
    .flatten())
}

// ---- feedback ----

pub async fn insert_feedback(
    c: &mut AnyConnection,
    ticket_id: i64,
    at: i64,
    kind: &str,
    before: Option<i64>,
    after: Option<i64>,
    actor: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO hotline_dispatch_feedback (ticket_id, at, kind, before_id, after_id, actor) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(ticket_id)
        .bind(at)
        .bind(kind)
        .bind(before)
        .bind(after)
        .bind(actor)
        .execute(c)
        .await?;
    Ok(())
}

// ---- history ----

/// One dispatch or return of a past ticket in a category subtree.
pub struct HistoryEvent {
    pub ticket_id: i64,
    pub is_return: bool,
    pub dept_id: i64,
    pub region_code: Option<String>,
}

/// Dispatches made by people and every return, of tickets whose category is `path` or under
/// it, newest first (at most `limit`).
pub async fn history(
    c: &mut AnyConnection,
    path: &str,
    exclude_ticket: i64,
    limit: i64,
) -> Result<Vec<HistoryEvent>> {
    let rows = sqlx::query(
        "SELECT e.ticket_id, e.action, e.dept_id, t.region_code FROM hotline_events e
         JOIN hotline_tickets t ON t.id = e.ticket_id
         JOIN hotline_categories c ON c.id = t.category_id
         WHERE ((e.action = 'dispatch' AND e.actor <> 'system') OR e.action = 'return')
           AND e.dept_id IS NOT NULL AND e.ticket_id <> $3
           AND (c.path = $1 OR c.path LIKE $2)
         ORDER BY e.id DESC LIMIT $4",
    )
    .bind(path)
    .bind(format!("{path}/%"))
    .bind(exclude_ticket)
    .bind(limit)
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| HistoryEvent {
            ticket_id: r.get("ticket_id"),
            is_return: r.get::<String, _>("action") == "return",
            dept_id: r.get("dept_id"),
            region_code: r.get("region_code"),
        })
        .collect())
}

/// Dispatch and return events at or after `from` (dispatches before `to`), for the report.
pub struct DispatchEvent {
    pub ticket_id: i64,
    pub at: i64,
    pub is_return: bool,
    pub automatic: bool,
    pub dept_id: Option<i64>,
    pub region_code: Option<String>,
}

pub async fn dispatch_events(
    c: &mut AnyConnection,
    from: i64,
    to: i64,
) -> Result<Vec<DispatchEvent>> {
    let rows = sqlx::query(
        "SELECT e.ticket_id, e.at, e.action, e.actor, e.dept_id, t.region_code FROM hotline_events e
         JOIN hotline_tickets t ON t.id = e.ticket_id
         WHERE e.action IN ('dispatch', 'return') AND e.ticket_id IN (
             SELECT ticket_id FROM hotline_events WHERE action = 'dispatch' AND at >= $1 AND at < $2)
         ORDER BY e.ticket_id, e.id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| DispatchEvent {
            ticket_id: r.get("ticket_id"),
            at: r.get("at"),
            is_return: r.get::<String, _>("action") == "return",
            automatic: r.get::<String, _>("actor") == "system",
            dept_id: r.get("dept_id"),
            region_code: r.get("region_code"),
        })
        .collect())
}

/// Suggested department of each of these tickets.
pub async fn suggested_depts(
    c: &mut AnyConnection,
    from: i64,
    to: i64,
) -> Result<std::collections::HashMap<i64, i64>> {
    let rows = sqlx::query(
        "SELECT s.ticket_id, s.dept_id FROM hotline_suggestions s
         WHERE s.dept_id IS NOT NULL AND s.ticket_id IN (
             SELECT ticket_id FROM hotline_events WHERE action = 'dispatch' AND at >= $1 AND at < $2)",
    )
    .bind(from)
    .bind(to)
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get("ticket_id"), r.get("dept_id")))
        .collect())
}
