//! What every store of the crate shares: reading stored JSON and the day counters that number
//! cases, bundle applications and 办不成事 reports. Private to the crate, like every store.

use kernel::error::{Error, Result};
use sqlx::{AnyConnection, Row};

pub(crate) fn bad(table: &str) -> impl Fn(serde_json::Error) -> Error + '_ {
    move |e| Error::internal(format!("{table}: stored JSON unreadable: {e}"))
}

/// The next number of `kind` for `day`, atomically (the UPDATE locks the row).
pub(crate) async fn next_seq(c: &mut AnyConnection, kind: &str, day: &str) -> Result<i64> {
    sqlx::query(
        "INSERT INTO services_day_counters (kind, day, last) VALUES ($1, $2, 0) ON CONFLICT (kind, day) DO NOTHING",
    )
    .bind(kind)
    .bind(day)
    .execute(&mut *c)
    .await?;
    let r = sqlx::query(
        "UPDATE services_day_counters SET last = last + 1 WHERE kind = $1 AND day = $2 RETURNING last",
    )
    .bind(kind)
    .bind(day)
    .fetch_one(&mut *c)
    .await?;
    Ok(r.get(0))
}
