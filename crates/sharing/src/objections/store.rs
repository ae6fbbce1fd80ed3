//! SQL on `sharing_objections`, and the one row of `sharing_rows` an objection is about.

use super::domain::*;
use kernel::error::{Error, Result};
use kernel::Authorized;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

const COLS: &str = "id, resource_id, row_key, field, registry_value, claimed_value, reason, raised_by_dept, raised_by, source_dept, status, answer, corrected_value, answered_by, answered_at, deadline_at, created_at";

fn objection(r: &AnyRow) -> Result<Objection> {
    let status: String = r.get("status");
    Ok(Objection {
        id: r.get("id"),
        resource_id: r.get("resource_id"),
        row_key: r.get("row_key"),
        field: r.get("field"),
        registry_value: r.get("registry_value"),
        claimed_value: r.get("claimed_value"),
        reason: r.get("reason"),
        raised_by_dept: r.get("raised_by_dept"),
        raised_by: r.get("raised_by"),
        source_dept: r.get("source_dept"),
        status: ObjectionStatus::parse(&status)
            .ok_or_else(|| Error::internal("sharing_objections.status: unknown code"))?,
        answer: r.get("answer"),
        corrected_value: r.get("corrected_value"),
        answered_by: r.get("answered_by"),
        answered_at: r.get("answered_at"),
        deadline_at: r.get("deadline_at"),
        created_at: r.get("created_at"),
    })
}

/// A mounted table's row by its key: (row id, its JSON text).
pub(crate) async fn row(
    c: &mut AnyConnection,
    resource_id: i64,
    key: &str,
) -> Result<Option<(i64, String)>> {
    Ok(
        sqlx::query("SELECT id, data FROM sharing_rows WHERE resource_id = $1 AND row_key = $2")
            .bind(resource_id)
            .bind(key)
            .fetch_optional(c)
            .await?
            .map(|r| (r.get::<i64, _>(0), r.get::<String, _>(1))),
    )
}

/// Writes a corrected row and the resource's last update.
pub(crate) async fn correct_row(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    resource_id: i64,
    row_id: i64,
    data: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE sharing_rows SET data = $1, updated_at = $2 WHERE id = $3")
        .bind(data)
        .bind(now)
        .bind(row_id)
        .execute(&mut *c)
        .await?;
    sqlx::query("UPDATE sharing_resources SET last_update_at = $1 WHERE id = $2")
        .bind(now)
        .bind(resource_id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub(crate) async fn insert(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    o: &Objection,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO sharing_objections (resource_id, row_key, field, registry_value, claimed_value, reason,
            raised_by_dept, raised_by, source_dept, status, deadline_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(o.resource_id)
    .bind(&o.row_key)
    .bind(&o.field)
    .bind(&o.registry_value)
    .bind(&o.claimed_value)
    .bind(&o.reason)
    .bind(o.raised_by_dept)
    .bind(&o.raised_by)
    .bind(o.source_dept)
    .bind(o.status.code())
    .bind(o.deadline_at)
    .bind(o.created_at)
    .fetch_one(c)
    .await?)
}

/// Records the answer of an open objection; `false` if it was answered meanwhile.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn answer(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    id: i64,
    status: ObjectionStatus,
    answer: &str,
    corrected_value: Option<&str>,
    answered_by: &str,
    now: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE sharing_objections SET status = $1, answer = $2, corrected_value = $3, answered_by = $4,
            answered_at = $5 WHERE id = $6 AND status = 'open'",
    )
    .bind(status.code())
    .bind(answer)
    .bind(corrected_value)
    .bind(answered_by)
    .bind(now)
    .bind(id)
    .execute(c)
    .await?
    .rows_affected()
        == 1)
}

pub(crate) async fn by_id(c: &mut AnyConnection, id: i64) -> Result<Option<Objection>> {
    sqlx::query(&format!(
        "SELECT {COLS} FROM sharing_objections WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await?
    .as_ref()
    .map(objection)
    .transpose()
}

/// Objections raised by or routed to `dept` (every one when `None`), open ones first by
/// deadline, then the answered newest first; a page of them and the total.
pub(crate) async fn page(
    c: &mut AnyConnection,
    dept: Option<i64>,
    status: Option<ObjectionStatus>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Objection>, i64)> {
    // One statement for every case: -1 and '' stand for "any".
    let filter =
        "WHERE ($1 = -1 OR raised_by_dept = $1 OR source_dept = $1) AND ($2 = '' OR status = $2)";
    let dept = dept.unwrap_or(-1);
    let status = status.map_or("", |s| s.code());
    let total: i64 =
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM sharing_objections {filter}"))
            .bind(dept)
            .bind(status)
            .fetch_one(&mut *c)
            .await?;
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM sharing_objections {filter}
         ORDER BY CASE WHEN status = 'open' THEN 0 ELSE 1 END,
                  CASE WHEN status = 'open' THEN deadline_at ELSE -created_at END, id DESC
         LIMIT $3 OFFSET $4"
    ))
    .bind(dept)
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *c)
    .await?;
    Ok((rows.iter().map(objection).collect::<Result<_>>()?, total))
}
