//! SQL on `services_bundles` and `services_bundle_cases`.

use crate::domain::*;
use crate::store::bad;
use kernel::error::{Error, Result};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

pub(crate) fn bundle_row(r: &AnyRow) -> Result<Bundle> {
    Ok(Bundle {
        id: r.get("id"),
        content: serde_json::from_str(&r.get::<String, _>("content"))
            .map_err(bad("services_bundles"))?,
        created_at: r.get("created_at"),
    })
}

pub(crate) async fn insert_bundle(c: &mut AnyConnection, b: &BundleInput, now: i64) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO services_bundles (code, name, content, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(b.code.trim())
    .bind(b.name.trim())
    .bind(serde_json::to_string(b)?)
    .bind(now)
    .fetch_one(&mut *c)
    .await
    .map_err(|e| Error::from_db(e, "code", "一件事编码已存在"))?
    .get(0))
}

pub(crate) async fn bundle(c: &mut AnyConnection, id: i64) -> Result<Option<Bundle>> {
    sqlx::query("SELECT id, content, created_at FROM services_bundles WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .map(|r| bundle_row(&r))
        .transpose()
}

pub(crate) async fn bundles(c: &mut AnyConnection) -> Result<Vec<Bundle>> {
    sqlx::query("SELECT id, content, created_at FROM services_bundles ORDER BY id")
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(bundle_row)
        .collect()
}

pub(crate) async fn insert_bundle_case(c: &mut AnyConnection, b: &BundleCaseRow) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO services_bundle_cases (number, bundle_id, applicant_user_id, applicant_id_no, applicant_phone, data, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(&b.number)
    .bind(b.bundle_id)
    .bind(b.applicant.user_id)
    .bind(&b.applicant.id_no)
    .bind(&b.applicant.phone)
    .bind(serde_json::to_string(b)?)
    .bind(b.created_at)
    .fetch_one(&mut *c)
    .await?
    .get(0))
}

pub(crate) async fn bundle_case_by(
    c: &mut AnyConnection,
    col: &str,
    v: &str,
) -> Result<Option<BundleCaseRow>> {
    let sql = if col == "id" {
        "SELECT id, data FROM services_bundle_cases WHERE id = CAST($1 AS BIGINT)"
    } else {
        "SELECT id, data FROM services_bundle_cases WHERE number = $1"
    };
    let Some(r) = sqlx::query(sql).bind(v).fetch_optional(&mut *c).await? else {
        return Ok(None);
    };
    let mut b: BundleCaseRow =
        serde_json::from_str(&r.get::<String, _>("data")).map_err(bad("services_bundle_cases"))?;
    b.id = r.get("id");
    Ok(Some(b))
}
