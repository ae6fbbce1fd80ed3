//! The fingerprint of the published set the index is built from.

use kernel::error::Result;
use kernel::Db;
use sqlx::Row;

/// Which published versions the index holds: count, sum of published versions, last change.
pub(crate) type Fingerprint = (i64, i64, i64);

pub(crate) async fn fingerprint(db: &Db) -> Result<Fingerprint> {
    let r = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(published_version), 0) AS BIGINT) AS s,
                CAST(COALESCE(MAX(updated_at), 0) AS BIGINT) AS m
         FROM services_items WHERE published_version IS NOT NULL",
    )
    .fetch_one(db.pool())
    .await?;
    Ok((r.get("n"), r.get("s"), r.get("m")))
}
