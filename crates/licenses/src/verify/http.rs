//! Public: 查证 by API.

use super::domain::Verification;
use crate::http::{svc, J};
use axum::extract::State;
use axum::routing::post;
use axum::{Extension, Router};
use serde_json::Value;
use webcore::{AppCtx, Authenticated, Json};

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/licenses/verify", post(verify))
        .route("/api/v1/licenses/trust", axum::routing::get(trust))
}

/// Public: every issuing key and signed status list, for offline verifiers
/// (`yiwang licenses sync-trust --from URL`).
#[utoipa::path(get, path = "/api/v1/licenses/trust", tag = "licenses", responses((status = 200, body = Object)))]
pub(crate) async fn trust(State(ctx): State<AppCtx>) -> J<Value> {
    let b = svc(&ctx).trust_bundle().await?;
    Ok(axum::Json(
        serde_json::to_value(b).map_err(kernel::Error::from)?,
    ))
}

/// Public: verifies a credential, or the QR text of a 亮证 (a JSON string or `{"text": …}`) — each check (signature, issuer key, status, validity dates,
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
    let s = svc(&ctx);
    // The QR text of a 亮证, as a JSON string or {"text": …}; anything else is a credential.
    let text = match &doc {
        Value::String(t) => Some(t.as_str()),
        Value::Object(m) if m.len() == 1 => m.get("text").and_then(Value::as_str),
        _ => None,
    };
    Ok(axum::Json(match text {
        Some(t) => s.verify_presentation(actor, t).await?,
        None => s.verify(actor, &doc).await?,
    }))
}
