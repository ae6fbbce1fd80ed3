//! Server-rendered pages (zh-CN, forms without JavaScript). Pages call only the service.

use axum::Router;
use webcore::AppCtx;

pub fn routes() -> Router<AppCtx> {
    Router::new()
}
