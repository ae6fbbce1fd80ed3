//! (being written)

use axum::Router;
use webcore::AppCtx;

pub fn routes() -> Router<AppCtx> {
    Router::new()
}
