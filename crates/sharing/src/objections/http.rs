//! JSON API of 数据异议.

use super::domain::*;
use super::service::ObjectionView;
use crate::http::{svc, J};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use kernel::page::{Page, PageQuery};
use serde::Deserialize;
use webcore::{ApiActor, ApiResult, AppCtx, Json, Path, Query};

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/sharing/objections", get(list).post(raise))
        .route("/api/v1/sharing/objections/{id}", get(one))
        .route("/api/v1/sharing/objections/{id}/answer", post(answer))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ObjectionQuery {
    /// `open`, `confirmed` or `corrected`.
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The status named by a query or form, if any; an unknown one is refused.
pub fn parse_status(s: Option<&str>) -> kernel::Result<Option<ObjectionStatus>> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => ObjectionStatus::parse(s).map(Some).ok_or_else(|| {
            kernel::Error::field("status", "invalid", "状态须为 open、confirmed 或 corrected")
        }),
    }
}

/// Raises a 数据异议 on a base registry's value.
#[utoipa::path(post, path = "/api/v1/sharing/objections", tag = "sharing", request_body = NewObjection,
    responses((status = 201, body = ObjectionView), (status = 403, body = webcore::error::Problem),
              (status = 409, body = webcore::error::Problem), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn raise(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(n): Json<NewObjection>,
) -> ApiResult<(StatusCode, axum::Json<ObjectionView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).raise_objection(&a, n).await?),
    ))
}

/// Objections the caller's department raised or must answer (all for the bureau), open
/// ones first by deadline.
#[utoipa::path(get, path = "/api/v1/sharing/objections", tag = "sharing", params(ObjectionQuery),
    responses((status = 200, body = Page<ObjectionView>)))]
pub(crate) async fn list(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<ObjectionQuery>,
) -> J<Page<ObjectionView>> {
    let status = parse_status(q.status.as_deref())?;
    let page = PageQuery {
        page: q.page,
        per_page: q.per_page,
    };
    Ok(axum::Json(svc(&ctx).objections(&a, status, &page).await?))
}

/// One objection.
#[utoipa::path(get, path = "/api/v1/sharing/objections/{id}", tag = "sharing", params(("id" = i64, Path)),
    responses((status = 200, body = ObjectionView), (status = 404, body = webcore::error::Problem)))]
pub(crate) async fn one(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> J<ObjectionView> {
    Ok(axum::Json(svc(&ctx).objection(&a, id).await?))
}

/// The source department's answer (核实): `confirmed`, or `corrected` with the registry changed.
#[utoipa::path(post, path = "/api/v1/sharing/objections/{id}/answer", tag = "sharing", params(("id" = i64, Path)),
    request_body = ObjectionAnswer,
    responses((status = 200, body = ObjectionView), (status = 403, body = webcore::error::Problem),
              (status = 409, body = webcore::error::Problem), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn answer(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(b): Json<ObjectionAnswer>,
) -> J<ObjectionView> {
    Ok(axum::Json(svc(&ctx).answer_objection(&a, id, b).await?))
}
