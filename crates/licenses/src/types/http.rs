//! JSON API of 证照类型.

use super::domain::*;
use super::service::TypeView;
use crate::http::{svc, J};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::Router;
use webcore::{ApiActor, ApiResult, AppCtx, Json, Path};

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/licenses/types", get(list_types).post(create_type))
        .route("/api/v1/licenses/types/{id}", get(one_type))
        .route("/api/v1/licenses/types/{id}/versions", post(new_version))
        .route(
            "/api/v1/licenses/types/{id}/versions/{v}",
            put(update_draft),
        )
        .route(
            "/api/v1/licenses/types/{id}/versions/{v}/publish",
            post(publish),
        )
}

/// License types.
#[utoipa::path(get, path = "/api/v1/licenses/types", tag = "licenses", responses((status = 200, body = Vec<LicenseType>)))]
pub(crate) async fn list_types(State(ctx): State<AppCtx>) -> J<Vec<LicenseType>> {
    Ok(axum::Json(svc(&ctx).license_types().await?))
}

/// Creates a type with its first draft version.
#[utoipa::path(post, path = "/api/v1/licenses/types", tag = "licenses", request_body = NewType,
    responses((status = 201, body = TypeView), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn create_type(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(t): Json<NewType>,
) -> ApiResult<(StatusCode, axum::Json<TypeView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).create_type(&a, t).await?),
    ))
}

/// A type with its versions.
#[utoipa::path(get, path = "/api/v1/licenses/types/{id}", tag = "licenses", params(("id" = i64, Path)), responses((status = 200, body = TypeView)))]
pub(crate) async fn one_type(State(ctx): State<AppCtx>, Path(id): Path<i64>) -> J<TypeView> {
    Ok(axum::Json(svc(&ctx).license_type(id).await?))
}

/// Changes a draft version (a published one is refused with 409).
#[utoipa::path(put, path = "/api/v1/licenses/types/{id}/versions/{v}", tag = "licenses", params(("id" = i64, Path), ("v" = i64, Path)),
    request_body = TypeContent, responses((status = 200, body = TypeView), (status = 409, body = webcore::error::Problem)))]
pub(crate) async fn update_draft(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path((id, v)): Path<(i64, i64)>,
    Json(c): Json<TypeContent>,
) -> J<TypeView> {
    Ok(axum::Json(svc(&ctx).update_draft(&a, id, v, c).await?))
}

/// Publishes a draft version; licenses issued from now on carry it.
#[utoipa::path(post, path = "/api/v1/licenses/types/{id}/versions/{v}/publish", tag = "licenses", params(("id" = i64, Path), ("v" = i64, Path)),
    responses((status = 200, body = TypeView), (status = 409, body = webcore::error::Problem)))]
pub(crate) async fn publish(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path((id, v)): Path<(i64, i64)>,
) -> J<TypeView> {
    Ok(axum::Json(svc(&ctx).publish_type(&a, id, v).await?))
}

/// A new draft version, copied from the latest published one.
#[utoipa::path(post, path = "/api/v1/licenses/types/{id}/versions", tag = "licenses", params(("id" = i64, Path)),
    responses((status = 201, body = TypeView), (status = 409, body = webcore::error::Problem)))]
pub(crate) async fn new_version(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<(StatusCode, axum::Json<TypeView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).new_version(&a, id).await?),
    ))
}
