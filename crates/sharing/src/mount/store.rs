//! SQL on `sharing_resources`, `sharing_rows` and `sharing_loads`.

use super::domain::*;
use crate::store::bad;
use kernel::error::{Error, Result};
use kernel::Authorized;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

const COLS: &str = "id, code, entry_id, kind, name, fields, entry_version, log_mode, row_count, last_update_at, created_at";

fn resource_row(r: &AnyRow) -> Result<Resource> {
    Ok(Resource {
        id: r.get("id"),
        code: r.get("code"),
        entry_id: r.get("entry_id"),
        kind: r.get("kind"),
        name: r.get("name"),
        fields: serde_json::from_str(&r.get::<String, _>("fields"))
            .map_err(bad("sharing_resources"))?,
        entry_version: r.get("entry_version"),
        log_mode: r.get("log_mode"),
        row_count: r.get("row_count"),
        last_update_at: r.get("last_update_at"),
        created_at: r.get("created_at"),
    })
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_resource(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    entry_id: i64,
    entry_code: &str,
    name: &str,
    fields: &[crate::catalog::domain::Item],
    entry_version: i64,
    log_mode: &str,
    now: i64,
) -> Result<i64> {
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM sharing_resources WHERE entry_id = $1")
        .bind(entry_id)
        .fetch_one(&mut *c)
        .await?
        .get(0);
    Ok(sqlx::query(
        "INSERT INTO sharing_resources (code, entry_id, kind, name, fields, entry_version, log_mode, row_count, created_at)
         VALUES ($1, $2, 'table', $3, $4, $5, $6, 0, $7) RETURNING id",
    )
    .bind(format!("{entry_code}.{}", n + 1))
    .bind(entry_id)
    .bind(name)
    .bind(serde_json::to_string(fields)?)
    .bind(entry_version)
    .bind(log_mode)
    .bind(now)
    .fetch_one(&mut *c)
    .await
    .map_err(|e| Error::from_db(e, "entry_id", "资源代码冲突，请重试"))?
    .get(0))
}

pub(crate) async fn by_code(c: &mut AnyConnection, code: &str) -> Result<Option<Resource>> {
    sqlx::query(&format!(
        "SELECT {COLS} FROM sharing_resources WHERE code = $1"
    ))
    .bind(code)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| resource_row(&r))
    .transpose()
}

pub(crate) async fn by_id(c: &mut AnyConnection, id: i64) -> Result<Option<Resource>> {
    sqlx::query(&format!(
        "SELECT {COLS} FROM sharing_resources WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| resource_row(&r))
    .transpose()
}

pub(crate) async fn all(c: &mut AnyConnection, entry_id: Option<i64>) -> Result<Vec<Resource>> {
    sqlx::query(&format!(
        "SELECT {COLS} FROM sharing_resources WHERE ($1 IS NULL OR entry_id = $1) ORDER BY code"
    ))
    .bind(entry_id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(resource_row)
    .collect()
}

/// Inserts or replaces rows by key, then refreshes the count and the last update.
pub(crate) async fn upsert_rows(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    resource_id: i64,
    rows: &[CheckedRow],
    now: i64,
) -> Result<()> {
    for r in rows {
        sqlx::query(
            "INSERT INTO sharing_rows (resource_id, row_key, data, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (resource_id, row_key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
        )
        .bind(resource_id)
        .bind(&r.key)
        .bind(serde_json::to_string(&r.data)?)
        .bind(now)
        .execute(&mut *c)
        .await?;
    }
    sqlx::query(
        "UPDATE sharing_resources SET row_count = (SELECT COUNT(*) FROM sharing_rows WHERE resource_id = $1),
                last_update_at = $2 WHERE id = $1",
    )
    .bind(resource_id)
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub(crate) async fn insert_load(
    c: &mut AnyConnection,
    resource_id: i64,
    source: &str,
    actor: &str,
    report: &LoadReport,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sharing_loads (resource_id, source, actor, accepted, rejected, errors, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(resource_id)
    .bind(source)
    .bind(actor)
    .bind(report.accepted as i64)
    .bind(report.rejected as i64)
    .bind(serde_json::to_string(&report.errors)?)
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Up to `limit` rows of a resource after the row id `after` (keyset paging, so a long
/// download reads each row once), as (id, stored JSON text).
/// The change counter of the catalog (entries, versions, resources), bumped by triggers.
pub(crate) async fn catalog_generation(c: &mut AnyConnection) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT generation FROM sharing_catalog_generation WHERE id = 1")
            .fetch_one(c)
            .await?,
    )
}

/// Up to `limit` rows after `after` as one text, a stored JSON row per line, and the last id:
/// one result row per page instead of one per table row (a per-row hand-off is what a
/// million-row download would otherwise spend its time on). Stored rows are compact JSON, so
/// a row never holds a line break.
pub(crate) async fn rows_after_joined(
    c: &mut AnyConnection,
    backend: kernel::Backend,
    resource_id: i64,
    after: i64,
    limit: i64,
) -> Result<Option<(i64, String)>> {
    let sql = match backend {
        kernel::Backend::Sqlite => {
            "SELECT MAX(id), group_concat(data, char(10)) FROM (SELECT id, data FROM sharing_rows
             WHERE resource_id = $1 AND id > $2 ORDER BY id LIMIT $3)"
        }
        kernel::Backend::Postgres => {
            "SELECT MAX(id), string_agg(data, E'\\n' ORDER BY id) FROM (SELECT id, data FROM sharing_rows
             WHERE resource_id = $1 AND id > $2 ORDER BY id LIMIT $3) AS page"
        }
    };
    let r = sqlx::query(sql)
        .bind(resource_id)
        .bind(after)
        .bind(limit)
        .fetch_one(&mut *c)
        .await?;
    let last: Option<i64> = r.get(0);
    Ok(last.map(|l| (l, r.get::<Option<String>, _>(1).unwrap_or_default())))
}

pub(crate) async fn rows_after(
    c: &mut AnyConnection,
    resource_id: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query(
        "SELECT id, data FROM sharing_rows WHERE resource_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(resource_id)
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| (r.get::<i64, _>(0), r.get::<String, _>(1)))
    .collect())
}
