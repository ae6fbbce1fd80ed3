//! SQL on `licenses_keys`.

use super::domain::IssuerKey;
use kernel::error::{Error, Result};
use kernel::Authorized;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// A key row with its sealed private part (never leaves the crate).
pub(crate) struct KeyRow {
    pub key: IssuerKey,
    pub sealed: Option<String>,
}

const COLS: &str = "kid, dept_id, public_key, private_sealed, active, created_at, retired_at";

fn row(r: &AnyRow) -> KeyRow {
    KeyRow {
        key: IssuerKey {
            kid: r.get("kid"),
            dept_id: r.get("dept_id"),
            public_key: r.get("public_key"),
            active: kernel::db::flag(r.get("active")),
            created_at: r.get("created_at"),
            retired_at: r.get("retired_at"),
        },
        sealed: r.get("private_sealed"),
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_key(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    kid: &str,
    dept_id: i64,
    public_key_hex: &str,
    sealed: Option<&str>,
    active: bool,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO licenses_keys (kid, dept_id, public_key, private_sealed, active, created_at, retired_at)
         VALUES ($1, $2, $3, $4, $5, $6, NULL)",
    )
    .bind(kid)
    .bind(dept_id)
    .bind(public_key_hex)
    .bind(sealed)
    .bind(active as i64)
    .bind(now)
    .execute(&mut *c)
    .await
    .map_err(|e| Error::from_db(e, "kid", "密钥编号冲突，请重试"))?;
    Ok(())
}

/// Retires the department's signing key(s): they verify what they signed, and sign no more.
pub(crate) async fn retire_active(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    dept_id: i64,
    now: i64,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE licenses_keys SET active = 0, retired_at = $1 WHERE dept_id = $2 AND active = 1",
    )
    .bind(now)
    .bind(dept_id)
    .execute(&mut *c)
    .await?
    .rows_affected())
}

pub(crate) async fn active_key(c: &mut AnyConnection, dept_id: i64) -> Result<Option<KeyRow>> {
    Ok(sqlx::query(&format!(
        "SELECT {COLS} FROM licenses_keys WHERE dept_id = $1 AND active = 1 ORDER BY id DESC"
    ))
    .bind(dept_id)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| row(&r)))
}

pub(crate) async fn key(c: &mut AnyConnection, kid: &str) -> Result<Option<KeyRow>> {
    Ok(
        sqlx::query(&format!("SELECT {COLS} FROM licenses_keys WHERE kid = $1"))
            .bind(kid)
            .fetch_optional(&mut *c)
            .await?
            .map(|r| row(&r)),
    )
}

pub(crate) async fn keys(c: &mut AnyConnection) -> Result<Vec<IssuerKey>> {
    Ok(sqlx::query(&format!(
        "SELECT {COLS} FROM licenses_keys ORDER BY dept_id, id"
    ))
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| row(r).key)
    .collect())
}

pub(crate) async fn count_for(c: &mut AnyConnection, dept_id: i64) -> Result<i64> {
    Ok(
        sqlx::query("SELECT COUNT(*) FROM licenses_keys WHERE dept_id = $1")
            .bind(dept_id)
            .fetch_one(&mut *c)
            .await?
            .get(0),
    )
}
