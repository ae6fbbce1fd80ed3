//! `/api/v1/hotline/alerts`: list and acknowledge.

use super::domain::StoredAlert;
use super::service::AlertService;
use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};
use webcore::{ApiActor, ApiResult, AppCtx, Json, Path, Query};

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct AlertQuery {
    /// `open` or `acknowledged`; all when absent.
    pub status: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AckRequest {
    pub note: String,
}

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/hotline/alerts", get(list))
        .route("/api/v1/hotline/alerts/{id}/acknowledge", post(acknowledge))
}

#[derive(OpenApi)]
#[openapi(
    paths(list, acknowledge),
    components(schemas(StoredAlert, AckRequest)),
    tags((name = "hotline-intel", description = "12345 热线智能：知识检索、智能问答、重复工单、热点问题、研判告警"))
)]
pub struct AlertApi;

/// 研判告警, newest first.
#[utoipa::path(get, path = "/api/v1/hotline/alerts", tag = "hotline-intel", params(AlertQuery),
    responses((status = 200, body = Vec<StoredAlert>), (status = 403, body = webcore::error::Problem)))]
async fn list(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<AlertQuery>,
) -> ApiResult<axum::Json<Vec<StoredAlert>>> {
    Ok(axum::Json(
        AlertService::new(ctx.db.clone())
            .list(&a, q.status.as_deref())
            .await?,
    ))
}

/// Acknowledges an alert with a note (supervisors, analysts).
#[utoipa::path(post, path = "/api/v1/hotline/alerts/{id}/acknowledge", tag = "hotline-intel", params(("id" = i64, Path)),
    request_body = AckRequest,
    responses((status = 200, body = StoredAlert), (status = 409, body = webcore::error::Problem), (status = 422, body = webcore::error::Problem)))]
async fn acknowledge(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(r): Json<AckRequest>,
) -> ApiResult<axum::Json<StoredAlert>> {
    Ok(axum::Json(
        AlertService::new(ctx.db.clone())
            .acknowledge(&a, id, &r.note)
            .await?,
    ))
}
