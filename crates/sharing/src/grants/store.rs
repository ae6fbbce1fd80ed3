//! SQL on `sharing_requests`, `sharing_request_steps`, `sharing_grants` and `sharing_systems`.

use super::domain::*;
use crate::catalog::domain::ShareKind;
use crate::store::bad;
use kernel::error::{Error, Result};
use kernel::Authorized;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

const REQ_COLS: &str = "id, batch, resource_id, provider_dept_id, consumer_dept_id, requester, system, purpose, legal_basis, fields, period_from, period_until, share_kind, status, reason, created_at, decided_at";
const STEP_COLS: &str =
    "id, request_id, seq, level, status, due_at, decided_by, decided_at, reason";
const GRANT_COLS: &str = "id, request_id, resource_id, provider_dept_id, consumer_dept_id, system, fields, row_filter, rate_per_minute, expires_at, approved_until, status, revoke_reason, created_at";

fn unknown(t: &str) -> Error {
    Error::internal(format!("{t}: unknown code"))
}

fn request_row(r: &AnyRow) -> Result<Request> {
    Ok(Request {
        id: r.get("id"),
        batch: r.get("batch"),
        resource_id: r.get("resource_id"),
        provider_dept_id: r.get("provider_dept_id"),
        consumer_dept_id: r.get("consumer_dept_id"),
        requester: r.get("requester"),
        system: r.get("system"),
        purpose: r.get("purpose"),
        legal_basis: r.get("legal_basis"),
        fields: serde_json::from_str(&r.get::<String, _>("fields"))
            .map_err(bad("sharing_requests"))?,
        period_from: r.get("period_from"),
        period_until: r.get("period_until"),
        share_kind: ShareKind::parse(&r.get::<String, _>("share_kind"))
            .ok_or_else(|| unknown("sharing_requests"))?,
        status: RequestStatus::parse(&r.get::<String, _>("status"))
            .ok_or_else(|| unknown("sharing_requests"))?,
        reason: r.get("reason"),
        created_at: r.get("created_at"),
        decided_at: r.get("decided_at"),
    })
}

fn step_row(r: &AnyRow) -> Result<Step> {
    Ok(Step {
        id: r.get("id"),
        request_id: r.get("request_id"),
        seq: r.get("seq"),
        level: Level::parse(&r.get::<String, _>("level"))
            .ok_or_else(|| unknown("sharing_request_steps"))?,
        status: StepStatus::parse(&r.get::<String, _>("status"))
            .ok_or_else(|| unknown("sharing_request_steps"))?,
        due_at: r.get("due_at"),
        decided_by: r.get("decided_by"),
        decided_at: r.get("decided_at"),
        reason: r.get("reason"),
    })
}

fn grant_row(r: &AnyRow) -> Result<Grant> {
    Ok(Grant {
        id: r.get("id"),
        request_id: r.get("request_id"),
        resource_id: r.get("resource_id"),
        provider_dept_id: r.get("provider_dept_id"),
        consumer_dept_id: r.get("consumer_dept_id"),
        system: r.get("system"),
        fields: serde_json::from_str(&r.get::<String, _>("fields"))
            .map_err(bad("sharing_grants"))?,
        row_filter: serde_json::from_str(&r.get::<String, _>("row_filter"))
            .map_err(bad("sharing_grants"))?,
        rate_per_minute: r.get("rate_per_minute"),
        expires_at: r.get("expires_at"),
        approved_until: r.get("approved_until"),
        status: GrantStatus::parse(&r.get::<String, _>("status"))
            .ok_or_else(|| unknown("sharing_grants"))?,
        revoke_reason: r.get("revoke_reason"),
        created_at: r.get("created_at"),
    })
}

pub(crate) async fn insert_request(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    r: &Request,
) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO sharing_requests (batch, resource_id, provider_dept_id, consumer_dept_id, requester, system,
             purpose, legal_basis, fields, period_from, period_until, share_kind, status, reason, created_at, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
    )
    .bind(&r.batch)
    .bind(r.resource_id)
    .bind(r.provider_dept_id)
    .bind(r.consumer_dept_id)
    .bind(&r.requester)
    .bind(&r.system)
    .bind(&r.purpose)
    .bind(&r.legal_basis)
    .bind(serde_json::to_string(&r.fields)?)
    .bind(r.period_from)
    .bind(r.period_until)
    .bind(r.share_kind.code())
    .bind(r.status.code())
    .bind(&r.reason)
    .bind(r.created_at)
    .bind(r.decided_at)
    .fetch_one(&mut *c)
    .await?
    .get(0))
}

pub(crate) async fn insert_step(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    request_id: i64,
    seq: i64,
    level: Level,
    status: StepStatus,
    due_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sharing_request_steps (request_id, seq, level, status, due_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(request_id)
    .bind(seq)
    .bind(level.code())
    .bind(status.code())
    .bind(due_at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Decides a pending step (compare-and-set); false when it was decided meanwhile.
pub(crate) async fn decide_step(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    step_id: i64,
    to: StepStatus,
    who: &str,
    reason: &str,
    now: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE sharing_request_steps SET status = $1, decided_by = $2, decided_at = $3, reason = $4
         WHERE id = $5 AND status = 'pending'",
    )
    .bind(to.code())
    .bind(who)
    .bind(now)
    .bind(reason)
    .bind(step_id)
    .execute(&mut *c)
    .await?
    .rows_affected()
        == 1)
}

pub(crate) async fn open_step(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    step_id: i64,
    due_at: i64,
) -> Result<()> {
    sqlx::query("UPDATE sharing_request_steps SET status = 'pending', due_at = $1 WHERE id = $2 AND status = 'waiting'")
        .bind(due_at)
        .bind(step_id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub(crate) async fn close_request(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    id: i64,
    status: RequestStatus,
    reason: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE sharing_requests SET status = $1, reason = $2, decided_at = $3 WHERE id = $4",
    )
    .bind(status.code())
    .bind(reason)
    .bind(now)
    .bind(id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub(crate) async fn request(c: &mut AnyConnection, id: i64) -> Result<Option<Request>> {
    sqlx::query(&format!(
        "SELECT {REQ_COLS} FROM sharing_requests WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| request_row(&r))
    .transpose()
}

/// Requests of a department as consumer or provider (both `None`: all), newest first.
pub(crate) async fn requests(c: &mut AnyConnection, dept: Option<i64>) -> Result<Vec<Request>> {
    sqlx::query(&format!(
        "SELECT {REQ_COLS} FROM sharing_requests
         WHERE ($1 IS NULL OR consumer_dept_id = $1 OR provider_dept_id = $1) ORDER BY id DESC"
    ))
    .bind(dept)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(request_row)
    .collect()
}

pub(crate) async fn steps(c: &mut AnyConnection, request_id: i64) -> Result<Vec<Step>> {
    sqlx::query(&format!(
        "SELECT {STEP_COLS} FROM sharing_request_steps WHERE request_id = $1 ORDER BY seq"
    ))
    .bind(request_id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(step_row)
    .collect()
}

/// Pending steps of one level with their requests, oldest deadline first.
pub(crate) async fn pending(c: &mut AnyConnection, level: Level) -> Result<Vec<i64>> {
    Ok(sqlx::query(
        "SELECT request_id FROM sharing_request_steps WHERE status = 'pending' AND level = $1 ORDER BY due_at, id",
    )
    .bind(level.code())
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect())
}

pub(crate) async fn insert_grant(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    g: &Grant,
) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO sharing_grants (request_id, resource_id, provider_dept_id, consumer_dept_id, system, fields,
             row_filter, rate_per_minute, expires_at, approved_until, status, revoke_reason, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, '', $12, $12) RETURNING id",
    )
    .bind(g.request_id)
    .bind(g.resource_id)
    .bind(g.provider_dept_id)
    .bind(g.consumer_dept_id)
    .bind(&g.system)
    .bind(serde_json::to_string(&g.fields)?)
    .bind(serde_json::to_string(&g.row_filter)?)
    .bind(g.rate_per_minute)
    .bind(g.expires_at)
    .bind(g.approved_until)
    .bind(g.status.code())
    .bind(g.created_at)
    .fetch_one(&mut *c)
    .await
    .map_err(|e| Error::from_db(e, "request_id", "该申请已有授权"))?
    .get(0))
}

/// Writes a grant's changeable terms.
pub(crate) async fn update_grant(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    g: &Grant,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE sharing_grants SET fields = $1, row_filter = $2, rate_per_minute = $3, expires_at = $4,
                status = $5, revoke_reason = $6, updated_at = $7,
                expiry_notified_at = CASE WHEN expires_at = $4 THEN expiry_notified_at ELSE NULL END
         WHERE id = $8",
    )
    .bind(serde_json::to_string(&g.fields)?)
    .bind(serde_json::to_string(&g.row_filter)?)
    .bind(g.rate_per_minute)
    .bind(g.expires_at)
    .bind(g.status.code())
    .bind(&g.revoke_reason)
    .bind(now)
    .bind(g.id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub(crate) async fn grant(c: &mut AnyConnection, id: i64) -> Result<Option<Grant>> {
    sqlx::query(&format!(
        "SELECT {GRANT_COLS} FROM sharing_grants WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| grant_row(&r))
    .transpose()
}

/// Grants of a department as consumer or provider (`None`: all), newest first.
pub(crate) async fn grants(c: &mut AnyConnection, dept: Option<i64>) -> Result<Vec<Grant>> {
    sqlx::query(&format!(
        "SELECT {GRANT_COLS} FROM sharing_grants
         WHERE ($1 IS NULL OR consumer_dept_id = $1 OR provider_dept_id = $1) ORDER BY id DESC"
    ))
    .bind(dept)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(grant_row)
    .collect()
}

/// Grants of one consuming system (every resource when `resource` is `None`), newest first.
pub(crate) async fn grants_of_system(
    c: &mut AnyConnection,
    dept: i64,
    system: &str,
    resource: Option<i64>,
) -> Result<Vec<Grant>> {
    sqlx::query(&format!(
        "SELECT {GRANT_COLS} FROM sharing_grants
         WHERE consumer_dept_id = $1 AND system = $2 AND ($3 IS NULL OR resource_id = $3) ORDER BY id DESC"
    ))
    .bind(dept)
    .bind(system)
    .bind(resource)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(grant_row)
    .collect()
}

pub(crate) async fn insert_system(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    dept: i64,
    name: &str,
    token_hash: &str,
    now: i64,
) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO sharing_systems (dept_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (dept_id, name) DO UPDATE SET token_hash = excluded.token_hash RETURNING id",
    )
    .bind(dept)
    .bind(name)
    .bind(token_hash)
    .bind(now)
    .fetch_one(&mut *c)
    .await?
    .get(0))
}

/// (department, system name) a token is bound to.
pub(crate) async fn system_of_token(
    c: &mut AnyConnection,
    token_hash: &str,
) -> Result<Option<(i64, String)>> {
    Ok(
        sqlx::query("SELECT dept_id, name FROM sharing_systems WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&mut *c)
            .await?
            .map(|r| (r.get(0), r.get(1))),
    )
}

pub(crate) async fn systems(c: &mut AnyConnection, dept: i64) -> Result<Vec<(i64, String, i64)>> {
    Ok(sqlx::query(
        "SELECT id, name, created_at FROM sharing_systems WHERE dept_id = $1 ORDER BY name",
    )
    .bind(dept)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect())
}

/// Active grants expiring in `(now, until]` whose consumer has not been told yet.
pub(crate) async fn expiring_unnotified(
    c: &mut AnyConnection,
    now: i64,
    until: i64,
) -> Result<Vec<Grant>> {
    sqlx::query(&format!(
        "SELECT {GRANT_COLS} FROM sharing_grants
         WHERE status = 'active' AND expires_at > $1 AND expires_at <= $2 AND expiry_notified_at IS NULL
         ORDER BY expires_at, id"
    ))
    .bind(now)
    .bind(until)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(grant_row)
    .collect()
}

/// Claims the expiry notice of a grant (compare-and-set: two instances never both send it).
pub(crate) async fn mark_expiry_notified(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    id: i64,
    now: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE sharing_grants SET expiry_notified_at = $1 WHERE id = $2 AND expiry_notified_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *c)
    .await?
    .rows_affected()
        == 1)
}
