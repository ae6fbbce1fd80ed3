//! SQL on `sharing_entries` and `sharing_entry_versions`.

use super::domain::*;
use crate::store::bad;
use kernel::error::{Error, Result};
use kernel::Authorized;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

const ENTRY_COLS: &str =
    "id, code, class_code, provider_dept_id, published_version, published_at, created_at";
const VERSION_COLS: &str =
    "entry_id, version, status, content, return_reason, submitted_at, reviewed_at";

fn entry_row(r: &AnyRow) -> Entry {
    Entry {
        id: r.get("id"),
        code: r.get("code"),
        class_code: r.get("class_code"),
        provider_dept_id: r.get("provider_dept_id"),
        published_version: r.get("published_version"),
        published_at: r.get("published_at"),
        created_at: r.get("created_at"),
    }
}

fn version_row(r: &AnyRow) -> Result<EntryVersion> {
    Ok(EntryVersion {
        entry_id: r.get("entry_id"),
        version: r.get("version"),
        status: VersionStatus::parse(&r.get::<String, _>("status"))
            .ok_or_else(|| Error::internal("sharing_entry_versions: unknown status"))?,
        content: serde_json::from_str(&r.get::<String, _>("content"))
            .map_err(bad("sharing_entry_versions"))?,
        return_reason: r.get("return_reason"),
        submitted_at: r.get("submitted_at"),
        reviewed_at: r.get("reviewed_at"),
    })
}

/// Inserts an entry with the next 顺序码 of its class and its first draft.
pub(crate) async fn insert_entry(
    c: &mut AnyConnection,
    by: Authorized<'_>,
    class_code: &str,
    provider: i64,
    content: &EntryContent,
    now: i64,
) -> Result<(i64, String)> {
    let seq: i64 =
        sqlx::query("SELECT COALESCE(MAX(seq), 0) + 1 FROM sharing_entries WHERE class_code = $1")
            .bind(class_code)
            .fetch_one(&mut *c)
            .await?
            .get(0);
    let code = entry_code(class_code, seq);
    let id: i64 = sqlx::query(
        "INSERT INTO sharing_entries (code, class_code, seq, provider_dept_id, published_version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 0, $5, $5) RETURNING id",
    )
    .bind(&code)
    .bind(class_code)
    .bind(seq)
    .bind(provider)
    .bind(now)
    .fetch_one(&mut *c)
    .await
    .map_err(|e| Error::from_db(e, "class", "资源代码冲突，请重试"))?
    .get(0);
    insert_version(c, by, id, 1, content, now).await?;
    Ok((id, code))
}

pub(crate) async fn insert_version(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    entry_id: i64,
    version: i64,
    content: &EntryContent,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sharing_entry_versions (entry_id, version, status, content, created_at)
         VALUES ($1, $2, 'draft', $3, $4)",
    )
    .bind(entry_id)
    .bind(version)
    .bind(serde_json::to_string(content)?)
    .bind(now)
    .execute(&mut *c)
    .await
    .map_err(|e| Error::from_db(e, "version", "该版本已存在"))?;
    Ok(())
}

/// Changes a draft or returned version; false when it is no longer one (a concurrent submit).
pub(crate) async fn update_content(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    entry_id: i64,
    version: i64,
    content: &EntryContent,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE sharing_entry_versions SET content = $1, status = 'draft'
         WHERE entry_id = $2 AND version = $3 AND status IN ('draft', 'returned')",
    )
    .bind(serde_json::to_string(content)?)
    .bind(entry_id)
    .bind(version)
    .execute(&mut *c)
    .await?
    .rows_affected()
        == 1)
}

/// Moves a version from `from` to `to` (compare-and-set), with the review's reason and times.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn move_version(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    entry_id: i64,
    version: i64,
    from: VersionStatus,
    to: VersionStatus,
    reason: &str,
    now: i64,
) -> Result<bool> {
    let (submitted, reviewed) = match to {
        VersionStatus::Submitted => (Some(now), None),
        _ => (None, Some(now)),
    };
    let n = sqlx::query(
        "UPDATE sharing_entry_versions SET status = $1, return_reason = $2,
                submitted_at = COALESCE($3, submitted_at), reviewed_at = COALESCE($4, reviewed_at)
         WHERE entry_id = $5 AND version = $6 AND status = $7",
    )
    .bind(to.code())
    .bind(reason)
    .bind(submitted)
    .bind(reviewed)
    .bind(entry_id)
    .bind(version)
    .bind(from.code())
    .execute(&mut *c)
    .await?
    .rows_affected();
    if n == 1 && to == VersionStatus::Published {
        sqlx::query(
            "UPDATE sharing_entry_versions SET status = 'superseded'
             WHERE entry_id = $1 AND version <> $2 AND status = 'published'",
        )
        .bind(entry_id)
        .bind(version)
        .execute(&mut *c)
        .await?;
        sqlx::query(
            "UPDATE sharing_entries SET published_version = $1, published_at = $2, updated_at = $2
             WHERE id = $3",
        )
        .bind(version)
        .bind(now)
        .bind(entry_id)
        .execute(&mut *c)
        .await?;
    }
    Ok(n == 1)
}

pub(crate) async fn entry_by_id(c: &mut AnyConnection, id: i64) -> Result<Option<Entry>> {
    Ok(sqlx::query(&format!(
        "SELECT {ENTRY_COLS} FROM sharing_entries WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| entry_row(&r)))
}

pub(crate) async fn entry_by_code(c: &mut AnyConnection, code: &str) -> Result<Option<Entry>> {
    Ok(sqlx::query(&format!(
        "SELECT {ENTRY_COLS} FROM sharing_entries WHERE code = $1"
    ))
    .bind(code)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| entry_row(&r)))
}

pub(crate) async fn versions(c: &mut AnyConnection, entry_id: i64) -> Result<Vec<EntryVersion>> {
    sqlx::query(&format!(
        "SELECT {VERSION_COLS} FROM sharing_entry_versions WHERE entry_id = $1 ORDER BY version"
    ))
    .bind(entry_id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(version_row)
    .collect()
}

/// Entries, optionally of one provider, with their newest version.
pub(crate) async fn entries(
    c: &mut AnyConnection,
    provider: Option<i64>,
    status: Option<VersionStatus>,
) -> Result<Vec<(Entry, EntryVersion)>> {
    let rows = sqlx::query(
        "SELECT e.id, e.code, e.class_code, e.provider_dept_id, e.published_version, e.published_at,
                e.created_at, v.entry_id, v.version, v.status, v.content, v.return_reason,
                v.submitted_at, v.reviewed_at
         FROM sharing_entries e
         JOIN sharing_entry_versions v ON v.entry_id = e.id
          AND v.version = (SELECT MAX(version) FROM sharing_entry_versions WHERE entry_id = e.id)
         WHERE ($1 IS NULL OR e.provider_dept_id = $1) AND ($2 IS NULL OR v.status = $2)
         ORDER BY e.code",
    )
    .bind(provider)
    .bind(status.map(|s| s.code()))
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| Ok((entry_row(r), version_row(r)?)))
        .collect()
}

/// Every published entry with the version in force.
pub(crate) async fn published(c: &mut AnyConnection) -> Result<Vec<(Entry, EntryVersion)>> {
    let rows = sqlx::query(
        "SELECT e.id, e.code, e.class_code, e.provider_dept_id, e.published_version, e.published_at,
                e.created_at, v.entry_id, v.version, v.status, v.content, v.return_reason,
                v.submitted_at, v.reviewed_at
         FROM sharing_entries e
         JOIN sharing_entry_versions v ON v.entry_id = e.id AND v.version = e.published_version
         ORDER BY e.code",
    )
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| Ok((entry_row(r), version_row(r)?)))
        .collect()
}

/// What the search index is rebuilt on: the count and the last publication.
pub(crate) async fn fingerprint(c: &mut AnyConnection) -> Result<(i64, i64, i64)> {
    let r = sqlx::query(
        "SELECT COUNT(*), CAST(COALESCE(SUM(published_version), 0) AS BIGINT), COALESCE(MAX(published_at), 0)
         FROM sharing_entries WHERE published_version > 0",
    )
    .fetch_one(&mut *c)
    .await?;
    Ok((r.get(0), r.get(1), r.get(2)))
}
