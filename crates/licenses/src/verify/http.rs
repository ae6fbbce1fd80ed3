//! Public: 查证 by API.

use super::domain::Verification;
use crate::http::{svc, J};
use axum::extract::State;
use axum::routing::post;
use axum::{Extension, Router};
use serde_json::Value;
use webcore::{AppCtx, Authenticated, Json};

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new().route("/api/v1/licenses/verify", post(verify))
}

/// Public: verifies a credential — each check (signature, issuer key, status, validity dates,
/// tampering) with its result and a zh-CN message. A request body that is not a credential is
/// a 422 naming the field.
#[utoipa::path(post, path = "/api/v1/licenses/verify", tag = "licenses", request_body = Object,
    responses((status = 200, body = Verification), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn verify(
    State(ctx): State<AppCtx>,
    auth: Option<Extension<Authenticated>>,
    Json(doc): Json<Value>,
) -> J<Verification> {
    let actor = auth.as_ref().map(|a| &a.0.actor);
    Ok(axum::Json(svc(&ctx).verify(actor, &doc).await?))
}
