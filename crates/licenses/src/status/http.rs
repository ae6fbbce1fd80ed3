//! Public: the status list credentials.

use crate::http::{svc, J};
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use webcore::{AppCtx, Path};

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new().route("/api/v1/licenses/status/{id}/{purpose}", get(status_list))
}

/// Public: a Bitstring Status List credential (`revocation` or `suspension`), signed by the
/// issuing department, made from the licenses' statuses at the moment of the request.
#[utoipa::path(get, path = "/api/v1/licenses/status/{id}/{purpose}", tag = "licenses",
    params(("id" = i64, Path), ("purpose" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = webcore::error::Problem)))]
pub(crate) async fn status_list(
    State(ctx): State<AppCtx>,
    Path((id, purpose)): Path<(i64, String)>,
) -> J<Value> {
    Ok(axum::Json(
        svc(&ctx).status_list_credential(id, &purpose).await?,
    ))
}
