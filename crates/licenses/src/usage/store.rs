//! SQL on `licenses_usage`.

use super::service::{QueuedUsage, Usage};
use kernel::error::Result;
use sqlx::{AnyConnection, Row};

/// Writes queued rows, a hundred to a statement.
pub(crate) async fn insert_many(c: &mut AnyConnection, rows: &[QueuedUsage]) -> Result<()> {
    for chunk in rows.chunks(100) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let b = i * 5;
                format!(
                    "(${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO licenses_usage (license_id, at, kind, actor, purpose) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(r.license_id)
                .bind(r.at)
                .bind(r.kind)
                .bind(r.actor.as_str())
                .bind(r.purpose.as_str());
        }
        q.execute(&mut *c).await?;
    }
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
