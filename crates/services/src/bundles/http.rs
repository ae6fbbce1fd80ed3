//! JSON API of 一件事.

use crate::domain::*;
use crate::http::{svc, J};
use crate::service::*;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use utoipa::ToSchema;
use webcore::{ApiActor, ApiResult, AppCtx, Json, Path};

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/services/bundles", get(bundles).post(create_bundle))
        .route("/api/v1/services/bundles/{id}", get(bundle))
        .route("/api/v1/services/bundles/{id}/apply", post(apply_bundle))
        .route("/api/v1/services/bundle-cases/{number}", get(bundle_case))
        .route(
            "/api/v1/services/bundle-cases/{number}/deliver",
            post(deliver_bundle),
        )
}

/// 一件事 bundles.
#[utoipa::path(get, path = "/api/v1/services/bundles", tag = "services", responses((status = 200, body = Vec<Bundle>)))]
pub(crate) async fn bundles(State(ctx): State<AppCtx>) -> J<Vec<Bundle>> {
    Ok(axum::Json(svc(&ctx).bundles().await?))
}

/// Creates a bundle of published items (admins).
#[utoipa::path(post, path = "/api/v1/services/bundles", tag = "services", request_body = BundleInput,
    responses((status = 201, body = BundleView), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn create_bundle(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(b): Json<BundleInput>,
) -> ApiResult<(StatusCode, axum::Json<BundleView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).create_bundle(&a, b).await?),
    ))
}

/// A bundle with its merged form, materials and what it saves.
#[utoipa::path(get, path = "/api/v1/services/bundles/{id}", tag = "services", params(("id" = i64, Path)), responses((status = 200, body = BundleView)))]
pub(crate) async fn bundle(State(ctx): State<AppCtx>, Path(id): Path<i64>) -> J<BundleView> {
    Ok(axum::Json(svc(&ctx).bundle(id).await?))
}

/// Applies for a bundle: one submission opens a sub-case in each department.
#[utoipa::path(post, path = "/api/v1/services/bundles/{id}/apply", tag = "services", params(("id" = i64, Path)), request_body = NewBundleCase,
    responses((status = 201, body = BundleCaseView), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn apply_bundle(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(b): Json<NewBundleCase>,
) -> ApiResult<(StatusCode, axum::Json<BundleCaseView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).submit_bundle(&a, id, b).await?),
    ))
}

/// A bundle application with one status and its sub-cases.
#[utoipa::path(get, path = "/api/v1/services/bundle-cases/{number}", tag = "services", params(("number" = String, Path)), responses((status = 200, body = BundleCaseView)))]
pub(crate) async fn bundle_case(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(n): Path<String>,
) -> J<BundleCaseView> {
    Ok(axum::Json(svc(&ctx).bundle_case(&a, &n).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliverRequest {
    pub method: DeliveryMethod,
    #[serde(default)]
    pub detail: String,
}

/// 综合窗口出件: one result for the whole bundle.
#[utoipa::path(post, path = "/api/v1/services/bundle-cases/{number}/deliver", tag = "services", params(("number" = String, Path)), request_body = DeliverRequest,
    responses((status = 200, body = BundleCaseView), (status = 409, body = webcore::error::Problem)))]
pub(crate) async fn deliver_bundle(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(n): Path<String>,
    Json(d): Json<DeliverRequest>,
) -> J<BundleCaseView> {
    Ok(axum::Json(
        svc(&ctx)
            .deliver_bundle(&a, &n, d.method, &d.detail)
            .await?,
    ))
}
