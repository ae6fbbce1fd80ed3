//! JSON of the figures.

use super::service::Figures;
use crate::http::{svc, J};
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use webcore::{ApiActor, AppCtx};

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new().route("/api/v1/sharing/figures", get(figures))
}

/// 目录数, 挂接率, 共享率, 开放率, 更新率 (city and per department), requests, grants, calls.
#[utoipa::path(get, path = "/api/v1/sharing/figures", tag = "sharing", responses((status = 200, body = Figures)))]
pub(crate) async fn figures(State(ctx): State<AppCtx>, ApiActor(a): ApiActor) -> J<Figures> {
    Ok(axum::Json(svc(&ctx).figures(&a).await?))
}
