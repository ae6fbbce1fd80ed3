//! SQL on `licenses_usage`.

use super::service::Usage;
use kernel::error::Result;
use sqlx::{AnyConnection, Row};

pub(crate) async fn insert(
    c: &mut AnyConnection,
    license_id: i64,
    at: i64,
    kind: &str,
    actor: &str,
    purpose: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO licenses_usage (license_id, at, kind, actor, purpose) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(license_id)
    .bind(at)
    .bind(kind)
    .bind(actor)
    .bind(purpose)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub(crate) async fn of_licenses(
    c: &mut AnyConnection,
    ids: &[i64],
    limit: i64,
) -> Result<Vec<Usage>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ps: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT license_id, at, kind, actor, purpose FROM licenses_usage WHERE license_id IN ({})
         ORDER BY at DESC, id DESC LIMIT {}",
        ps.join(", "),
        limit.clamp(1, 1000)
    );
    let mut q = sqlx::query(&sql);
    for i in ids {
        q = q.bind(*i);
    }
    Ok(q.fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| Usage {
            license_id: r.get("license_id"),
            at: r.get("at"),
            kind: r.get("kind"),
            actor: r.get("actor"),
            purpose: r.get("purpose"),
        })
        .collect())
}
