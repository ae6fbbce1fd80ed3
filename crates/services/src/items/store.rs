//! SQL on `services_items` and `services_item_versions`.

use crate::domain::*;
use crate::service::MaintainItems;
use crate::store::bad;
use kernel::error::{Error, Result};
use kernel::Granted;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

pub(crate) fn item_row(r: &AnyRow) -> Result<ServiceItem> {
    let content: ItemInput = serde_json::from_str(&r.get::<String, _>("content"))
        .map_err(bad("services_item_versions"))?;
    Ok(ServiceItem {
        id: r.get("item_id"),
        version: r.get("version"),
        status: ItemStatus::parse(&r.get::<String, _>("status"))
            .ok_or_else(|| Error::internal("services_item_versions.status"))?,
        region_code: r.get("region_code"),
        content,
        created_at: r.get("created_at"),
        published_at: r.get("published_at"),
    })
}

pub(crate) const ITEM_COLS: &str =
    "v.item_id, v.version, v.status, v.content, v.created_at, v.published_at, i.region_code";

pub(crate) async fn insert_item(
    c: &mut AnyConnection,
    by: Granted<'_, MaintainItems>,
    input: &ItemInput,
    region_code: &str,
    search: &str,
    now: i64,
) -> Result<i64> {
    let id: i64 = sqlx::query(
        "INSERT INTO services_items (impl_code, dept_id, region_code, latest_version, created_at, updated_at)
         VALUES ($1, $2, $3, 1, $4, $4) RETURNING id",
    )
    .bind(input.impl_code.trim())
    .bind(input.dept_id)
    .bind(region_code)
    .bind(now)
    .fetch_one(&mut *c)
    .await
    .map_err(|e| Error::from_db(e, "impl_code", "实施编码已存在"))?
    .get(0);
    insert_version(c, by, id, 1, input, search, now).await?;
    Ok(id)
}

pub(crate) async fn insert_version(
    c: &mut AnyConnection,
    _by: Granted<'_, MaintainItems>,
    id: i64,
    version: i64,
    input: &ItemInput,
    search: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO services_item_versions (item_id, version, status, name, search_text, content, created_at)
         VALUES ($1, $2, 'draft', $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(version)
    .bind(input.name.trim())
    .bind(search)
    .bind(serde_json::to_string(input)?)
    .bind(now)
    .execute(&mut *c)
    .await?;
    sqlx::query("UPDATE services_items SET latest_version = $1, dept_id = $2, updated_at = $3 WHERE id = $4")
        .bind(version)
        .bind(input.dept_id)
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Rewrites a draft. Published versions are never touched: the WHERE says so.
pub(crate) async fn update_draft(
    c: &mut AnyConnection,
    _by: Granted<'_, MaintainItems>,
    id: i64,
    version: i64,
    input: &ItemInput,
    search: &str,
    now: i64,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE services_item_versions SET name = $1, search_text = $2, content = $3
         WHERE item_id = $4 AND version = $5 AND status = 'draft'",
    )
    .bind(input.name.trim())
    .bind(search)
    .bind(serde_json::to_string(input)?)
    .bind(id)
    .bind(version)
    .execute(&mut *c)
    .await?
    .rows_affected();
    sqlx::query("UPDATE services_items SET dept_id = $1, updated_at = $2 WHERE id = $3")
        .bind(input.dept_id)
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(n == 1)
}

pub(crate) async fn publish(
    c: &mut AnyConnection,
    _by: Granted<'_, MaintainItems>,
    id: i64,
    version: i64,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE services_item_versions SET status = 'superseded' WHERE item_id = $1 AND status = 'published'",
    )
    .bind(id)
    .execute(&mut *c)
    .await?;
    sqlx::query(
        "UPDATE services_item_versions SET status = 'published', published_at = $1 WHERE item_id = $2 AND version = $3 AND status = 'draft'",
    )
    .bind(now)
    .bind(id)
    .bind(version)
    .execute(&mut *c)
    .await?;
    sqlx::query("UPDATE services_items SET published_version = $1, updated_at = $2 WHERE id = $3")
        .bind(version)
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// (latest version, published version) of an item.
pub(crate) async fn item_versions_of(
    c: &mut AnyConnection,
    id: i64,
) -> Result<Option<(i64, Option<i64>)>> {
    Ok(
        sqlx::query("SELECT latest_version, published_version FROM services_items WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *c)
            .await?
            .map(|r| (r.get(0), r.get(1))),
    )
}

pub(crate) async fn item_version(
    c: &mut AnyConnection,
    id: i64,
    version: i64,
) -> Result<Option<ServiceItem>> {
    sqlx::query(&format!(
        "SELECT {ITEM_COLS} FROM services_item_versions v JOIN services_items i ON i.id = v.item_id
         WHERE v.item_id = $1 AND v.version = $2"
    ))
    .bind(id)
    .bind(version)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| item_row(&r))
    .transpose()
}

pub(crate) async fn all_versions(c: &mut AnyConnection, id: i64) -> Result<Vec<ServiceItem>> {
    sqlx::query(&format!(
        "SELECT {ITEM_COLS} FROM services_item_versions v JOIN services_items i ON i.id = v.item_id
         WHERE v.item_id = $1 ORDER BY v.version"
    ))
    .bind(id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(item_row)
    .collect()
}

pub(crate) async fn item_id_by_impl_code(c: &mut AnyConnection, code: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query("SELECT id FROM services_items WHERE impl_code = $1")
            .bind(code)
            .fetch_optional(&mut *c)
            .await?
            .map(|r| r.get(0)),
    )
}

/// Published versions whose search text holds every term; `dept_ids` limits to departments.
pub(crate) async fn published_items(
    c: &mut AnyConnection,
    terms: &[String],
    dept_ids: Option<&[i64]>,
) -> Result<Vec<ServiceItem>> {
    let mut sql = format!(
        "SELECT {ITEM_COLS} FROM services_item_versions v JOIN services_items i ON i.id = v.item_id
         WHERE v.status = 'published'"
    );
    let mut n = 0;
    for _ in terms {
        n += 1;
        sql.push_str(&format!(" AND v.search_text LIKE ${n}"));
    }
    if let Some(ids) = dept_ids {
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        sql.push_str(&format!(
            " AND i.dept_id IN ({})",
            if list.is_empty() {
                "0".into()
            } else {
                list.join(",")
            }
        ));
    }
    sql.push_str(" ORDER BY v.name, v.item_id");
    let mut q = sqlx::query(&sql);
    for t in terms {
        q = q.bind(format!("%{t}%"));
    }
    q.fetch_all(&mut *c).await?.iter().map(item_row).collect()
}

/// The published versions of these items, in the order of `ids` (ids without one are left out).
pub(crate) async fn published_by_ids(
    c: &mut AnyConnection,
    ids: &[i64],
) -> Result<Vec<ServiceItem>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    let mut found: std::collections::HashMap<i64, ServiceItem> = sqlx::query(&format!(
        "SELECT {ITEM_COLS} FROM services_item_versions v JOIN services_items i ON i.id = v.item_id
         WHERE v.status = 'published' AND v.item_id IN ({})",
        list.join(",")
    ))
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| item_row(r).map(|i| (i.id, i)))
    .collect::<Result<_>>()?;
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

/// Latest versions (draft or not) for staff lists.
pub(crate) async fn latest_items(
    c: &mut AnyConnection,
    dept_ids: Option<&[i64]>,
) -> Result<Vec<ServiceItem>> {
    let mut sql = format!(
        "SELECT {ITEM_COLS} FROM services_item_versions v JOIN services_items i ON i.id = v.item_id
         WHERE v.version = i.latest_version"
    );
    if let Some(ids) = dept_ids {
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        sql.push_str(&format!(
            " AND i.dept_id IN ({})",
            if list.is_empty() {
                "0".into()
            } else {
                list.join(",")
            }
        ));
    }
    sql.push_str(" ORDER BY v.name, v.item_id");
    sqlx::query(&sql)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(item_row)
        .collect()
}
