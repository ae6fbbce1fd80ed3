//! SQL on `opendata_usage`, `opendata_applications` and `opendata_demands`. Private.

use crate::domain::*;
use kernel::error::{Error, Result};
use kernel::Authorized;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

pub(crate) async fn record_usage(
    c: &mut AnyConnection,
    kind: &str,
    entry_code: &str,
    detail: &str,
    provider: Option<i64>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO opendata_usage (kind, entry_code, detail, provider_dept_id, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(kind)
    .bind(entry_code)
    .bind(detail)
    .bind(provider)
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Counts by (entry code, kind) since `since`.
/// Views, downloads and API calls per dataset and kind within [since, until).
pub(crate) async fn usage_counts(
    c: &mut AnyConnection,
    since: i64,
    until: i64,
) -> Result<Vec<(String, String, i64)>> {
    Ok(sqlx::query(
        "SELECT entry_code, kind, COUNT(*) FROM opendata_usage WHERE at >= $1 AND at < $2 GROUP BY entry_code, kind",
    )
    .bind(since)
    .bind(until)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect())
}

const APP_COLS: &str = "id, entry_code, provider_dept_id, user_id, applicant, purpose, status, reason, decided_by, created_at, decided_at";

fn app_row(r: &AnyRow) -> Result<Application> {
    Ok(Application {
        id: r.get("id"),
        entry_code: r.get("entry_code"),
        provider_dept_id: r.get("provider_dept_id"),
        user_id: r.get("user_id"),
        applicant: r.get("applicant"),
        purpose: r.get("purpose"),
        status: ApplicationStatus::parse(&r.get::<String, _>("status"))
            .ok_or_else(|| Error::internal("opendata_applications: unknown status"))?,
        reason: r.get("reason"),
        decided_by: r.get("decided_by"),
        created_at: r.get("created_at"),
        decided_at: r.get("decided_at"),
    })
}

pub(crate) async fn insert_application(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    entry_code: &str,
    provider: i64,
    user_id: i64,
    applicant: &str,
    purpose: &str,
    now: i64,
) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO opendata_applications (entry_code, provider_dept_id, user_id, applicant, purpose, status, created_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6) RETURNING id",
    )
    .bind(entry_code)
    .bind(provider)
    .bind(user_id)
    .bind(applicant)
    .bind(purpose)
    .bind(now)
    .fetch_one(&mut *c)
    .await?
    .get(0))
}

pub(crate) async fn application(c: &mut AnyConnection, id: i64) -> Result<Option<Application>> {
    sqlx::query(&format!(
        "SELECT {APP_COLS} FROM opendata_applications WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| app_row(&r))
    .transpose()
}

/// Applications of one user, or of the providers in `providers` (all when `None`), newest first.
pub(crate) async fn applications(
    c: &mut AnyConnection,
    user_id: Option<i64>,
    providers: Option<&[i64]>,
    limit: i64,
) -> Result<Vec<Application>> {
    let mut sql = format!("SELECT {APP_COLS} FROM opendata_applications WHERE 1 = 1");
    if user_id.is_some() {
        sql.push_str(" AND user_id = $1");
    }
    if let Some(p) = providers {
        let ids: Vec<String> = p.iter().map(|i| i.to_string()).collect();
        // Ids are integers from the actor's scope, never text from a request.
        sql.push_str(&format!(
            " AND provider_dept_id IN ({})",
            if ids.is_empty() {
                "-1".into()
            } else {
                ids.join(",")
            }
        ));
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", limit.clamp(1, 1000)));
    let mut q = sqlx::query(&sql);
    if let Some(u) = user_id {
        q = q.bind(u);
    }
    q.fetch_all(&mut *c).await?.iter().map(app_row).collect()
}

/// Whether the user holds an approved application for the entry.
pub(crate) async fn approved(
    c: &mut AnyConnection,
    user_id: i64,
    entry_code: &str,
) -> Result<bool> {
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) FROM opendata_applications WHERE user_id = $1 AND entry_code = $2 AND status = 'approved'",
    )
    .bind(user_id)
    .bind(entry_code)
    .fetch_one(&mut *c)
    .await?
    .get(0);
    Ok(n > 0)
}

/// Decides a pending application; false when it was no longer pending.
pub(crate) async fn decide_application(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    id: i64,
    status: ApplicationStatus,
    reason: &str,
    decided_by: &str,
    now: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE opendata_applications SET status = $1, reason = $2, decided_by = $3, decided_at = $4
         WHERE id = $5 AND status = 'pending'",
    )
    .bind(status.code())
    .bind(reason)
    .bind(decided_by)
    .bind(now)
    .bind(id)
    .execute(&mut *c)
    .await?
    .rows_affected()
        == 1)
}

/// Applications by status.
/// Applications made within [since, until), by their status now.
pub(crate) async fn application_counts(
    c: &mut AnyConnection,
    since: i64,
    until: i64,
) -> Result<Vec<(String, i64)>> {
    Ok(
        sqlx::query("SELECT status, COUNT(*) FROM opendata_applications WHERE created_at >= $1 AND created_at < $2 GROUP BY status")
            .bind(since)
            .bind(until)
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect(),
    )
}

pub(crate) async fn insert_demand(
    c: &mut AnyConnection,
    title: &str,
    description: &str,
    contact: &str,
    now: i64,
) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO opendata_demands (title, description, contact, status, created_at)
         VALUES ($1, $2, $3, 'open', $4) RETURNING id",
    )
    .bind(title)
    .bind(description)
    .bind(contact)
    .bind(now)
    .fetch_one(&mut *c)
    .await?
    .get(0))
}

/// 开放需求 submitted within [since, until).
pub(crate) async fn demand_count(c: &mut AnyConnection, since: i64, until: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM opendata_demands WHERE created_at >= $1 AND created_at < $2",
    )
    .bind(since)
    .bind(until)
    .fetch_one(c)
    .await?)
}

pub(crate) async fn demands(c: &mut AnyConnection, limit: i64) -> Result<Vec<Demand>> {
    Ok(sqlx::query(
        "SELECT id, title, description, contact, status, answer, created_at FROM opendata_demands ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| Demand {
        id: r.get(0),
        title: r.get(1),
        description: r.get(2),
        contact: r.get(3),
        status: r.get(4),
        answer: r.get(5),
        created_at: r.get(6),
    })
    .collect())
}

pub(crate) async fn answer_demand(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    id: i64,
    answer: &str,
    now: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE opendata_demands SET status = 'answered', answer = $1, answered_at = $2 WHERE id = $3",
    )
    .bind(answer)
    .bind(now)
    .bind(id)
    .execute(&mut *c)
    .await?
    .rows_affected()
        == 1)
}
