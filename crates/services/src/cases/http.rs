//! JSON API of cases and the public tracking.

use crate::domain::*;
use crate::http::{svc, J};
use crate::service::*;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use kernel::page::{Page, PageQuery};
use serde::Deserialize;
use utoipa::ToSchema;
use webcore::{ApiActor, ApiResult, AppCtx, Json, Path, Query};

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/services/cases", get(list).post(submit))
        .route("/api/v1/services/cases/{id}", get(one))
        .route("/api/v1/services/cases/{id}/timeline", get(timeline))
        .route("/api/v1/services/cases/{id}/actions", post(act))
        .route("/api/v1/services/public/track", post(track))
}

/// Cases in the caller's scope: the department inbox, the applicant's own, overdue lists.
#[utoipa::path(get, path = "/api/v1/services/cases", tag = "services", params(CaseQuery, PageQuery), responses((status = 200, body = Page<CaseView>)))]
pub(crate) async fn list(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<CaseQuery>,
    Query(p): Query<PageQuery>,
) -> J<Page<CaseView>> {
    Ok(axum::Json(svc(&ctx).list(&a, &q, &p).await?))
}

/// Files an application (online by the applicant, at the window by a clerk).
#[utoipa::path(post, path = "/api/v1/services/cases", tag = "services", request_body = NewCase,
    responses((status = 201, body = CaseView), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn submit(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(c): Json<NewCase>,
) -> ApiResult<(StatusCode, axum::Json<CaseView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).submit(&a, c).await?),
    ))
}

/// One case.
#[utoipa::path(get, path = "/api/v1/services/cases/{id}", tag = "services", params(("id" = i64, Path)), responses((status = 200, body = CaseView)))]
pub(crate) async fn one(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> J<CaseView> {
    Ok(axum::Json(svc(&ctx).get(&a, id).await?))
}

/// The case's timeline, oldest first.
#[utoipa::path(get, path = "/api/v1/services/cases/{id}/timeline", tag = "services", params(("id" = i64, Path)), responses((status = 200, body = Vec<TimelineEntry>)))]
pub(crate) async fn timeline(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> J<Vec<TimelineEntry>> {
    Ok(axum::Json(svc(&ctx).timeline(&a, id).await?))
}

/// Applies an action: precheck, accept (容缺 with tolerated materials and days), reject,
/// request_supplement, supply, supply_tolerated, start_special, end_special, decide, close,
/// deliver, withdraw. Illegal transitions answer 409 `illegal_transition`.
#[utoipa::path(post, path = "/api/v1/services/cases/{id}/actions", tag = "services", params(("id" = i64, Path)), request_body = Action,
    responses((status = 200, body = CaseView), (status = 409, body = webcore::error::Problem), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn act(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(x): Json<Action>,
) -> J<CaseView> {
    Ok(axum::Json(svc(&ctx).act(&a, id, x).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackRequest {
    pub number: String,
    pub phone: String,
}

/// Tracking by number and phone, no account needed.
#[utoipa::path(post, path = "/api/v1/services/public/track", tag = "services", request_body = TrackRequest,
    responses((status = 200, body = Tracking), (status = 404, body = webcore::error::Problem)))]
pub(crate) async fn track(
    State(ctx): State<AppCtx>,
    _: webcore::extract::PublicLookup,
    Json(r): Json<TrackRequest>,
) -> J<Tracking> {
    Ok(axum::Json(svc(&ctx).track(&r.number, &r.phone).await?))
}

/// 按编号查找 for the top bar ([`webcore::LookupFn`]): the case of that number if the actor
/// may open its page — the page's own rule, the service's `can_see` — and `None` both for an
/// unknown number and for a case the actor may not see.
pub fn lookup<'a>(
    ctx: &'a AppCtx,
    actor: &'a kernel::Actor,
    typed: &'a str,
) -> webcore::LookupFuture<'a> {
    Box::pin(async move {
        let Some(number) = case_number_typed(typed) else {
            return Ok(None);
        };
        match svc(ctx).get_by_number(actor, &number).await {
            Ok(v) => Ok(Some(webcore::LookupHit {
                kind: "case".into(),
                label: format!("办件 {}：{}", v.case.number, v.case.item_name),
                url: format!("/services/cases/{}", v.case.id),
            })),
            Err(kernel::Error::NotFound { .. } | kernel::Error::Forbidden(_)) => Ok(None),
            Err(e) => Err(e),
        }
    })
}
