//! What every store of the crate shares, and the settings row. Private to the crate.

use kernel::error::{Error, Result};
use kernel::Authorized;
use sqlx::{AnyConnection, Row};

pub(crate) fn bad(table: &str) -> impl Fn(serde_json::Error) -> Error + '_ {
    move |e| Error::internal(format!("{table}: stored JSON unreadable: {e}"))
}

pub(crate) async fn bureau(c: &mut AnyConnection) -> Result<Option<i64>> {
    Ok(
        sqlx::query("SELECT bureau_dept_id FROM sharing_settings WHERE id = 1")
            .fetch_optional(&mut *c)
            .await?
            .and_then(|r| r.get::<Option<i64>, _>(0)),
    )
}

pub(crate) async fn set_bureau(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    dept: i64,
) -> Result<()> {
    sqlx::query("UPDATE sharing_settings SET bureau_dept_id = $1 WHERE id = 1")
        .bind(dept)
        .execute(&mut *c)
        .await?;
    Ok(())
}
