//! SQL on `licenses_types` and `licenses_type_versions`.

use super::domain::*;
use crate::store::bad;
use kernel::error::{Error, Result};
use kernel::Authorized;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

const TYPE_COLS: &str = "id, code, name, holder_kind, published_version, created_at";

fn type_row(r: &AnyRow) -> Result<LicenseType> {
    Ok(LicenseType {
        id: r.get("id"),
        code: r.get("code"),
        name: r.get("name"),
        holder_kind: HolderKind::parse(&r.get::<String, _>("holder_kind"))
            .ok_or_else(|| Error::internal("licenses_types: unknown holder_kind"))?,
        published_version: r.get("published_version"),
        created_at: r.get("created_at"),
    })
}

fn version_row(r: &AnyRow) -> Result<TypeVersion> {
    Ok(TypeVersion {
        type_id: r.get("type_id"),
        version: r.get("version"),
        content: serde_json::from_str(&r.get::<String, _>("content"))
            .map_err(bad("licenses_type_versions"))?,
        published_at: r.get("published_at"),
    })
}

pub(crate) async fn insert_type(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    t: &NewType,
    now: i64,
) -> Result<i64> {
    let id: i64 = sqlx::query(
        "INSERT INTO licenses_types (code, name, holder_kind, published_version, created_at, updated_at)
         VALUES ($1, $2, $3, 0, $4, $4) RETURNING id",
    )
    .bind(t.code.trim())
    .bind(t.name.trim())
    .bind(t.holder_kind.code())
    .bind(now)
    .fetch_one(&mut *c)
    .await
    .map_err(|e| Error::from_db(e, "code", "该证照类型代码已存在"))?
    .get(0);
    sqlx::query(
        "INSERT INTO licenses_type_versions (type_id, version, content, published_at, created_at)
         VALUES ($1, 1, $2, NULL, $3)",
    )
    .bind(id)
    .bind(serde_json::to_string(&t.content)?)
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(id)
}

pub(crate) async fn insert_version(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    type_id: i64,
    version: i64,
    content: &TypeContent,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO licenses_type_versions (type_id, version, content, published_at, created_at)
         VALUES ($1, $2, $3, NULL, $4)",
    )
    .bind(type_id)
    .bind(version)
    .bind(serde_json::to_string(content)?)
    .bind(now)
    .execute(&mut *c)
    .await
    .map_err(|e| Error::from_db(e, "version", "该版本已存在"))?;
    Ok(())
}

/// Changes a draft; the `published_at IS NULL` guard keeps a published version as it is even
/// under a concurrent publish.
pub(crate) async fn update_draft(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    type_id: i64,
    version: i64,
    content: &TypeContent,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE licenses_type_versions SET content = $1
         WHERE type_id = $2 AND version = $3 AND published_at IS NULL",
    )
    .bind(serde_json::to_string(content)?)
    .bind(type_id)
    .bind(version)
    .execute(&mut *c)
    .await?
    .rows_affected()
        == 1)
}

pub(crate) async fn publish(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    type_id: i64,
    version: i64,
    now: i64,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE licenses_type_versions SET published_at = $1
         WHERE type_id = $2 AND version = $3 AND published_at IS NULL",
    )
    .bind(now)
    .bind(type_id)
    .bind(version)
    .execute(&mut *c)
    .await?
    .rows_affected();
    if n == 1 {
        sqlx::query(
            "UPDATE licenses_types SET published_version = $1, updated_at = $2 WHERE id = $3",
        )
        .bind(version)
        .bind(now)
        .bind(type_id)
        .execute(&mut *c)
        .await?;
    }
    Ok(n == 1)
}

pub(crate) async fn type_by_id(c: &mut AnyConnection, id: i64) -> Result<Option<LicenseType>> {
    sqlx::query(&format!(
        "SELECT {TYPE_COLS} FROM licenses_types WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| type_row(&r))
    .transpose()
}

pub(crate) async fn type_by_code(c: &mut AnyConnection, code: &str) -> Result<Option<LicenseType>> {
    sqlx::query(&format!(
        "SELECT {TYPE_COLS} FROM licenses_types WHERE code = $1"
    ))
    .bind(code)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| type_row(&r))
    .transpose()
}

pub(crate) async fn types(c: &mut AnyConnection) -> Result<Vec<LicenseType>> {
    sqlx::query(&format!(
        "SELECT {TYPE_COLS} FROM licenses_types ORDER BY id"
    ))
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(type_row)
    .collect()
}

pub(crate) async fn version(
    c: &mut AnyConnection,
    type_id: i64,
    version: i64,
) -> Result<Option<TypeVersion>> {
    sqlx::query(
        "SELECT type_id, version, content, published_at FROM licenses_type_versions
         WHERE type_id = $1 AND version = $2",
    )
    .bind(type_id)
    .bind(version)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| version_row(&r))
    .transpose()
}

pub(crate) async fn versions(c: &mut AnyConnection, type_id: i64) -> Result<Vec<TypeVersion>> {
    sqlx::query(
        "SELECT type_id, version, content, published_at FROM licenses_type_versions
         WHERE type_id = $1 ORDER BY version",
    )
    .bind(type_id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(version_row)
    .collect()
}

pub(crate) async fn type_by_name(c: &mut AnyConnection, name: &str) -> Result<Option<LicenseType>> {
    sqlx::query(&format!(
        "SELECT {TYPE_COLS} FROM licenses_types WHERE name = $1 ORDER BY id LIMIT 1"
    ))
    .bind(name)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| type_row(&r))
    .transpose()
}
