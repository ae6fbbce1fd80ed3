//! SQL on `sharing_backflows`, `sharing_backflow_runs` and `sharing_backflow_files`.

use super::domain::*;
use kernel::error::{Error, Result};
use kernel::Authorized;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

const COLS: &str = "id, resource_id, name, source_kind, source, interval_minutes, enabled, next_run_at, last_run_at, created_by, created_at";
const RUN_COLS: &str = "id, backflow_id, run_trigger, started_at, finished_at, status, fetched, accepted, added, rejected, skipped_files, errors, message";

fn backflow(r: &AnyRow) -> Result<Backflow> {
    let kind: String = r.get("source_kind");
    Ok(Backflow {
        id: r.get("id"),
        resource_id: r.get("resource_id"),
        name: r.get("name"),
        source_kind: SourceKind::parse(&kind)
            .ok_or_else(|| Error::internal("sharing_backflows.source_kind: unknown code"))?,
        source: r.get("source"),
        interval_minutes: r.get("interval_minutes"),
        enabled: r.get::<i64, _>("enabled") != 0,
        next_run_at: r.get("next_run_at"),
        last_run_at: r.get("last_run_at"),
        created_by: r.get("created_by"),
        created_at: r.get("created_at"),
    })
}

fn run(r: &AnyRow) -> Result<BackflowRun> {
    let status: String = r.get("status");
    let errors: String = r.get("errors");
    Ok(BackflowRun {
        id: r.get("id"),
        backflow_id: r.get("backflow_id"),
        trigger: r.get("run_trigger"),
        started_at: r.get("started_at"),
        finished_at: r.get("finished_at"),
        status: RunStatus::parse(&status)
            .ok_or_else(|| Error::internal("sharing_backflow_runs.status: unknown code"))?,
        fetched: r.get("fetched"),
        accepted: r.get("accepted"),
        added: r.get("added"),
        rejected: r.get("rejected"),
        skipped_files: r.get("skipped_files"),
        errors: serde_json::from_str(&errors).unwrap_or_default(),
        message: r.get("message"),
    })
}

pub(crate) async fn insert(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    b: &Backflow,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO sharing_backflows (resource_id, name, source_kind, source, interval_minutes, enabled,
            next_run_at, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(b.resource_id)
    .bind(&b.name)
    .bind(b.source_kind.code())
    .bind(&b.source)
    .bind(b.interval_minutes)
    .bind(b.enabled as i64)
    .bind(b.next_run_at)
    .bind(&b.created_by)
    .bind(b.created_at)
    .fetch_one(c)
    .await?)
}

pub(crate) async fn set_enabled(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    id: i64,
    enabled: bool,
) -> Result<bool> {
    Ok(
        sqlx::query("UPDATE sharing_backflows SET enabled = $1 WHERE id = $2")
            .bind(enabled as i64)
            .bind(id)
            .execute(c)
            .await?
            .rows_affected()
            == 1,
    )
}

pub(crate) async fn by_id(c: &mut AnyConnection, id: i64) -> Result<Option<Backflow>> {
    sqlx::query(&format!(
        "SELECT {COLS} FROM sharing_backflows WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await?
    .as_ref()
    .map(backflow)
    .transpose()
}

pub(crate) async fn all(c: &mut AnyConnection) -> Result<Vec<Backflow>> {
    sqlx::query(&format!("SELECT {COLS} FROM sharing_backflows ORDER BY id"))
        .fetch_all(c)
        .await?
        .iter()
        .map(backflow)
        .collect()
}

pub(crate) async fn due(c: &mut AnyConnection, now: i64) -> Result<Vec<Backflow>> {
    sqlx::query(&format!(
        "SELECT {COLS} FROM sharing_backflows WHERE enabled = 1 AND next_run_at <= $1 ORDER BY next_run_at, id"
    ))
    .bind(now)
    .fetch_all(c)
    .await?
    .iter()
    .map(backflow)
    .collect()
}

/// Claims a due task for one run: moves its next run on; `false` when another instance
/// claimed it first.
pub(crate) async fn claim(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    id: i64,
    seen_next: i64,
    next: i64,
    now: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE sharing_backflows SET next_run_at = $1, last_run_at = $2 WHERE id = $3 AND next_run_at = $4",
    )
    .bind(next)
    .bind(now)
    .bind(id)
    .bind(seen_next)
    .execute(c)
    .await?
    .rows_affected()
        == 1)
}

pub(crate) async fn insert_run(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    r: &BackflowRun,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO sharing_backflow_runs (backflow_id, run_trigger, started_at, finished_at, status, fetched,
            accepted, added, rejected, skipped_files, errors, message)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(r.backflow_id)
    .bind(&r.trigger)
    .bind(r.started_at)
    .bind(r.finished_at)
    .bind(r.status.code())
    .bind(r.fetched)
    .bind(r.accepted)
    .bind(r.added)
    .bind(r.rejected)
    .bind(r.skipped_files)
    .bind(serde_json::to_string(&r.errors)?)
    .bind(&r.message)
    .fetch_one(c)
    .await?)
}

/// The newest runs of a task first.
pub(crate) async fn runs(
    c: &mut AnyConnection,
    backflow_id: i64,
    limit: i64,
) -> Result<Vec<BackflowRun>> {
    sqlx::query(&format!(
        "SELECT {RUN_COLS} FROM sharing_backflow_runs WHERE backflow_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2"
    ))
    .bind(backflow_id)
    .bind(limit)
    .fetch_all(c)
    .await?
    .iter()
    .map(run)
    .collect()
}

pub(crate) async fn file_seen(c: &mut AnyConnection, backflow_id: i64, sha: &str) -> Result<bool> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM sharing_backflow_files WHERE backflow_id = $1 AND sha = $2",
    )
    .bind(backflow_id)
    .bind(sha)
    .fetch_one(c)
    .await?
        > 0)
}

pub(crate) async fn file_loaded(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    backflow_id: i64,
    sha: &str,
    name: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sharing_backflow_files (backflow_id, sha, name, loaded_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (backflow_id, sha) DO NOTHING",
    )
    .bind(backflow_id)
    .bind(sha)
    .bind(name)
    .bind(now)
    .execute(c)
    .await?;
    Ok(())
}
