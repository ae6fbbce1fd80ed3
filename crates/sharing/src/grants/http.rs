//! JSON API of 申请用数, approvals, grants and consuming systems.

use super::domain::*;
use super::service::{RequestView, SystemToken};
use crate::http::{svc, J};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use utoipa::ToSchema;
use webcore::{ApiActor, ApiResult, AppCtx, Json, Path};

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/sharing/requests", get(list).post(submit))
        .route("/api/v1/sharing/requests/queue", get(queue))
        .route("/api/v1/sharing/requests/{id}", get(one))
        .route("/api/v1/sharing/requests/{id}/decision", post(decide))
        .route("/api/v1/sharing/grants", get(grants))
        .route("/api/v1/sharing/grants/{id}", get(grant).post(change))
        .route("/api/v1/sharing/systems", post(register_system))
}

/// Sends a request per resource (申请用数).
#[utoipa::path(post, path = "/api/v1/sharing/requests", tag = "sharing", request_body = NewRequest,
    responses((status = 201, body = Vec<RequestView>), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn submit(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(r): Json<NewRequest>,
) -> ApiResult<(StatusCode, axum::Json<Vec<RequestView>>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).submit_request(&a, r).await?),
    ))
}

/// Requests the caller's department sent or received (all for the bureau).
#[utoipa::path(get, path = "/api/v1/sharing/requests", tag = "sharing", responses((status = 200, body = Vec<RequestView>)))]
pub(crate) async fn list(State(ctx): State<AppCtx>, ApiActor(a): ApiActor) -> J<Vec<RequestView>> {
    Ok(axum::Json(svc(&ctx).requests(&a).await?))
}

/// Requests waiting for the caller's decision.
#[utoipa::path(get, path = "/api/v1/sharing/requests/queue", tag = "sharing", responses((status = 200, body = Vec<RequestView>)))]
pub(crate) async fn queue(State(ctx): State<AppCtx>, ApiActor(a): ApiActor) -> J<Vec<RequestView>> {
    Ok(axum::Json(svc(&ctx).approval_queue(&a).await?))
}

/// One request with its steps.
#[utoipa::path(get, path = "/api/v1/sharing/requests/{id}", tag = "sharing", params(("id" = i64, Path)), responses((status = 200, body = RequestView)))]
pub(crate) async fn one(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> J<RequestView> {
    Ok(axum::Json(svc(&ctx).request(&a, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SharingDecision)]
pub struct Decision {
    pub approve: bool,
    /// Required to refuse.
    #[serde(default)]
    pub reason: String,
    /// The grant's terms, read at the last approval.
    #[serde(default)]
    pub terms: Option<GrantTerms>,
}

/// Decides the pending step of a request.
#[utoipa::path(post, path = "/api/v1/sharing/requests/{id}/decision", tag = "sharing", params(("id" = i64, Path)), request_body = Decision,
    responses((status = 200, body = RequestView), (status = 403, body = webcore::error::Problem), (status = 409, body = webcore::error::Problem)))]
pub(crate) async fn decide(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(d): Json<Decision>,
) -> J<RequestView> {
    Ok(axum::Json(
        svc(&ctx)
            .decide(&a, id, d.approve, &d.reason, d.terms)
            .await?,
    ))
}

/// Grants the caller's department gives or holds.
#[utoipa::path(get, path = "/api/v1/sharing/grants", tag = "sharing", responses((status = 200, body = Vec<Grant>)))]
pub(crate) async fn grants(State(ctx): State<AppCtx>, ApiActor(a): ApiActor) -> J<Vec<Grant>> {
    Ok(axum::Json(svc(&ctx).grants(&a).await?))
}

/// One grant.
#[utoipa::path(get, path = "/api/v1/sharing/grants/{id}", tag = "sharing", params(("id" = i64, Path)), responses((status = 200, body = Grant)))]
pub(crate) async fn grant(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> J<Grant> {
    let s = svc(&ctx);
    let g = s.grant(id).await?;
    if !(a
        .scope
        .can_see(&[g.consumer_dept_id, g.provider_dept_id], None)
        || s.is_bureau(&a).await?)
    {
        return Err(kernel::Error::forbidden("无权查看其他部门的授权").into());
    }
    Ok(axum::Json(g))
}

/// Renews (within the approved period), narrows or revokes a grant.
#[utoipa::path(post, path = "/api/v1/sharing/grants/{id}", tag = "sharing", params(("id" = i64, Path)), request_body = GrantChange,
    responses((status = 200, body = Grant), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn change(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(c): Json<GrantChange>,
) -> J<Grant> {
    Ok(axum::Json(svc(&ctx).change_grant(&a, id, c).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SystemInput {
    pub name: String,
}

/// Registers a consuming system of the caller's department and returns its gateway token (once).
#[utoipa::path(post, path = "/api/v1/sharing/systems", tag = "sharing", request_body = SystemInput,
    responses((status = 201, body = SystemToken), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn register_system(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(s): Json<SystemInput>,
) -> ApiResult<(StatusCode, axum::Json<SystemToken>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).register_system(&a, &s.name).await?),
    ))
}
