//! What every store of the crate shares. Private to the crate, like every store.

use kernel::error::Error;

pub(crate) fn bad(table: &str) -> impl Fn(serde_json::Error) -> Error + '_ {
    move |e| Error::internal(format!("{table}: stored JSON unreadable: {e}"))
}
