//! The SQL of `hotline_alerts`, and the recent tickets and the taxonomy the analysis reads.

use super::domain::{kind_code, Candidate, Row1, StoredAlert};
use kernel::error::Result;
use nlp::hotspot::format_china_time;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

/// Tickets created in `[since, at]`, split parts left out, oldest first.
pub(super) async fn tickets(c: &mut AnyConnection, since: i64, at_ms: i64) -> Result<Vec<Row1>> {
    let rows = sqlx::query(
        "SELECT id, created_at, region_code, category_id, caller_phone_idx, title, content
         FROM hotline_tickets WHERE created_at >= $1 AND created_at <= $2 AND split_from_id IS NULL
         ORDER BY created_at, id",
    )
    .bind(since)
    .bind(at_ms)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Row1 {
            id: r.get("id"),
            at: r.get("created_at"),
            region: r.get("region_code"),
            category: r.get("category_id"),
            // The keyed index stands for the caller: only told apart, never read.
            phone: r.get("caller_phone_idx"),
            text: format!(
                "{}\n{}",
                r.get::<String, _>("title"),
                r.get::<String, _>("content")
            ),
        })
        .collect())
}

/// Every category: its parent and path.
pub(super) async fn categories(
    c: &mut AnyConnection,
) -> Result<HashMap<i64, (Option<i64>, String)>> {
    Ok(
        sqlx::query("SELECT id, parent_id, path FROM hotline_categories")
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(|r| (r.get("id"), (r.get("parent_id"), r.get("path"))))
            .collect(),
    )
}

/// The alert already raised for the same subject and an overlapping window: its id, window end
/// and observed count.
pub(super) async fn overlapping(
    c: &mut AnyConnection,
    a: &Candidate,
) -> Result<Option<(i64, i64, i64)>> {
    let r = sqlx::query(
        "SELECT id, window_to, observed FROM hotline_alerts
         WHERE kind = $1 AND dimension = $2 AND subject = $3 AND window_from <= $4 AND window_to >= $5
         ORDER BY id LIMIT 1",
    )
    .bind(kind_code(a.kind))
    .bind(a.dimension)
    .bind(&a.subject)
    .bind(a.to_ms)
    .bind(a.from_ms)
    .fetch_optional(&mut *c)
    .await?;
    Ok(r.map(|r| (r.get("id"), r.get("window_to"), r.get("observed"))))
}

/// Refreshes alert `id` with the candidate's figures.
pub(super) async fn refresh(
    c: &mut AnyConnection,
    id: i64,
    a: &Candidate,
    to: i64,
    observed: i64,
    now: i64,
) -> Result<()> {
    let ids = serde_json::to_string(&a.ticket_ids)?;
    sqlx::query(
        "UPDATE hotline_alerts SET window_to = $1, observed = $2, expected = $3, score = $4,
         evidence = $5, ticket_ids = $6, updated_at = $7 WHERE id = $8",
    )
    .bind(to)
    .bind(observed)
    .bind(a.expected)
    .bind(a.score)
    .bind(a.evidence.to_string())
    .bind(&ids)
    .bind(now)
    .bind(id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Inserts a new open alert; `None` when another instance raised the same one at the same
/// moment (the unique key decides).
pub(super) async fn insert(c: &mut AnyConnection, a: &Candidate, now: i64) -> Result<Option<i64>> {
    let ids = serde_json::to_string(&a.ticket_ids)?;
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
    .fetch_optional(&mut *c)
    .await?;
    Ok(id)
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

/// Newest first, at most 500, of one status or all (`""`).
pub(super) async fn list(c: &mut AnyConnection, status: &str) -> Result<Vec<StoredAlert>> {
    let rows = sqlx::query(
        "SELECT * FROM hotline_alerts WHERE ($1 = '' OR status = $1)
         ORDER BY created_at DESC, id DESC LIMIT 500",
    )
    .bind(status)
    .fetch_all(&mut *c)
    .await?;
    rows.iter().map(alert_row).collect()
}

pub(super) async fn get(c: &mut AnyConnection, id: i64) -> Result<Option<StoredAlert>> {
    sqlx::query("SELECT * FROM hotline_alerts WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .as_ref()
        .map(alert_row)
        .transpose()
}

/// Marks an open alert acknowledged; false when it was not open.
pub(super) async fn acknowledge(
    c: &mut AnyConnection,
    id: i64,
    by: &str,
    note: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE hotline_alerts SET status = 'acknowledged', acknowledged_at = $1, acknowledged_by = $2,
         ack_note = $3, updated_at = $1 WHERE id = $4 AND status = 'open'",
    )
    .bind(now)
    .bind(by)
    .bind(note)
    .bind(id)
    .execute(&mut *c)
    .await?
    .rows_affected();
    Ok(done > 0)
}
