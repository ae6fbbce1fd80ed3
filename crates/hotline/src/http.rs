//! The hotline's JSON API under `/api/v1/hotline`: the routes of its sub-domains, and the
//! service every handler and page uses.

use crate::HotlineService;
use axum::Router;
use webcore::{AppCtx, NavItem};

pub use crate::kb::http::{rendered_templates, KbApi, RenderedTemplate};
pub use crate::ticket::http::HotlineApi;

/// The hotline service as the server runs it (city, automatic dispatch threshold, the
/// default observers of ticket changes).
pub fn svc(ctx: &AppCtx) -> HotlineService {
    crate::service(
        ctx.db.clone(),
        ctx.config.city.name.clone(),
        ctx.config.hotline.auto_dispatch_threshold,
    )
}

pub fn nav() -> Vec<NavItem> {
    vec![]
}

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .merge(crate::ticket::http::routes())
        .merge(crate::kb::http::routes())
}
