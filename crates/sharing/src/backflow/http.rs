//! JSON API of 回流.

use super::domain::*;
use super::service::BackflowView;
use crate::http::{svc, J};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use utoipa::ToSchema;
use webcore::{ApiActor, ApiResult, AppCtx, Json, Path};

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/sharing/backflows", get(list).post(create))
        .route("/api/v1/sharing/backflows/{id}", get(one).post(change))
        .route("/api/v1/sharing/backflows/{id}/runs", get(runs).post(run))
}

/// Configures a 回流 task (system administrator).
#[utoipa::path(post, path = "/api/v1/sharing/backflows", tag = "sharing", request_body = NewBackflow,
    responses((status = 201, body = BackflowView), (status = 403, body = webcore::error::Problem), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn create(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(n): Json<NewBackflow>,
) -> ApiResult<(StatusCode, axum::Json<BackflowView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).create_backflow(&a, n).await?),
    ))
}

/// 回流 tasks the caller may see, each with its latest run.
#[utoipa::path(get, path = "/api/v1/sharing/backflows", tag = "sharing", responses((status = 200, body = Vec<BackflowView>)))]
pub(crate) async fn list(State(ctx): State<AppCtx>, ApiActor(a): ApiActor) -> J<Vec<BackflowView>> {
    Ok(axum::Json(svc(&ctx).backflows(&a).await?))
}

#[utoipa::path(get, path = "/api/v1/sharing/backflows/{id}", tag = "sharing", params(("id" = i64, Path)),
    responses((status = 200, body = BackflowView), (status = 404, body = webcore::error::Problem)))]
pub(crate) async fn one(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> J<BackflowView> {
    Ok(axum::Json(svc(&ctx).backflow(&a, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BackflowChange {
    /// Pause (`false`) or resume (`true`) the schedule.
    pub enabled: bool,
}

/// Pauses or resumes a task's schedule.
#[utoipa::path(post, path = "/api/v1/sharing/backflows/{id}", tag = "sharing", params(("id" = i64, Path)), request_body = BackflowChange,
    responses((status = 200, body = BackflowView), (status = 403, body = webcore::error::Problem)))]
pub(crate) async fn change(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(c): Json<BackflowChange>,
) -> J<BackflowView> {
    Ok(axum::Json(
        svc(&ctx).set_backflow_enabled(&a, id, c.enabled).await?,
    ))
}

/// A task's runs, newest first (up to 50).
#[utoipa::path(get, path = "/api/v1/sharing/backflows/{id}/runs", tag = "sharing", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<BackflowRun>)))]
pub(crate) async fn runs(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> J<Vec<BackflowRun>> {
    Ok(axum::Json(svc(&ctx).backflow_runs(&a, id, 50).await?))
}

/// Runs a task now; answers with the run (its status says whether the source could be read).
#[utoipa::path(post, path = "/api/v1/sharing/backflows/{id}/runs", tag = "sharing", params(("id" = i64, Path)),
    responses((status = 201, body = BackflowRun), (status = 403, body = webcore::error::Problem)))]
pub(crate) async fn run(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<(StatusCode, axum::Json<BackflowRun>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).run_backflow(&a, id).await?),
    ))
}
