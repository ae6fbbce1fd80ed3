//! Limits on guesses, kept in the database so that every instance of the server counts the
//! same hits: a script spreading its guesses over the instances (or over the endpoints that
//! answer the same question) meets one limit.

use crate::db::Db;
use crate::error::{Error, Result};

/// At most `max` hits per key in each window of `window_ms` milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: i64,
    pub window_ms: i64,
}

/// Counts one hit of `key` (a client's address) in `bucket` at the database's time; refused
/// with [`Error::RateLimited`] beyond the limit. The count is one atomic upsert, so concurrent
/// hits on several instances never both slip under the limit.
pub async fn hit(db: &Db, bucket: &str, key: &str, limit: Limit) -> Result<()> {
    let now = db.now();
    let window_start = now - now.rem_euclid(limit.window_ms);
    let mut tx = db.begin().await?;
    // Windows before the current one count no more.
    sqlx::query("DELETE FROM kernel_throttle WHERE window_start < $1")
        .bind(window_start)
        .execute(&mut *tx)
        .await?;
    let hits: i64 = sqlx::query_scalar(
        "INSERT INTO kernel_throttle (bucket, key, window_start, hits) VALUES ($1, $2, $3, 1)
         ON CONFLICT (bucket, key, window_start) DO UPDATE SET hits = kernel_throttle.hits + 1
         RETURNING hits",
    )
    .bind(bucket)
    .bind(key)
    .bind(window_start)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    if hits > limit.max {
        let wait_secs = ((window_start + limit.window_ms - now) / 1000).max(1) as u64;
        return Err(Error::RateLimited {
            detail: format!(
                "查询过于频繁，请 {} 分钟后再试。紧急情况请直接拨打 12345。",
                wait_secs.div_ceil(60)
            ),
            retry_after_secs: wait_secs,
        });
    }
    Ok(())
}
