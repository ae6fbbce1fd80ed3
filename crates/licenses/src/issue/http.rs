//! JSON API of licenses: issuance, the holder's view, the credential, the life cycle.

use super::domain::*;
use super::service::*;
use crate::http::{svc, J};
use crate::usage::Usage;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use webcore::{ApiActor, ApiResult, AppCtx, Json, Path, Query};

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/licenses", get(search).post(issue))
        .route("/api/v1/licenses/mine", get(mine))
        .route("/api/v1/licenses/mine/usage", get(usage))
        .route("/api/v1/licenses/{id}", get(one))
        .route("/api/v1/licenses/{id}/credential", get(credential))
        .route("/api/v1/licenses/{id}/amend", post(amend))
        .route("/api/v1/licenses/{id}/revoke", post(revoke))
        .route("/api/v1/licenses/{id}/suspend", post(suspend))
        .route("/api/v1/licenses/{id}/reinstate", post(reinstate))
        .route("/api/v1/licenses/{id}/cancel", post(cancel))
        .route("/api/v1/licenses/{id}/report-lost", post(report_lost))
}

/// Issues a license (the issuing department's staff).
#[utoipa::path(post, path = "/api/v1/licenses", tag = "licenses", request_body = NewLicense,
    responses((status = 201, body = License), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn issue(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(n): Json<NewLicense>,
) -> ApiResult<(StatusCode, axum::Json<License>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).issue(&a, n).await?),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchQuery {
    type_id: Option<i64>,
    holder_id_no: Option<String>,
    status: Option<String>,
}

/// 证照查询: licenses in the reader's data scope, personal data masked unless the role needs it.
#[utoipa::path(get, path = "/api/v1/licenses", tag = "licenses", params(SearchQuery), responses((status = 200, body = Vec<License>)))]
pub(crate) async fn search(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<SearchQuery>,
) -> J<Vec<License>> {
    Ok(axum::Json(
        svc(&ctx)
            .search(
                &a,
                q.type_id,
                q.holder_id_no.as_deref(),
                q.status.as_deref(),
            )
            .await?,
    ))
}

/// 我的证照: the logged-in holder's licenses.
#[utoipa::path(get, path = "/api/v1/licenses/mine", tag = "licenses", responses((status = 200, body = Vec<License>)))]
pub(crate) async fn mine(State(ctx): State<AppCtx>, ApiActor(a): ApiActor) -> J<Vec<License>> {
    Ok(axum::Json(svc(&ctx).mine(&a).await?))
}

/// 用证记录: who used the holder's licenses.
#[utoipa::path(get, path = "/api/v1/licenses/mine/usage", tag = "licenses", responses((status = 200, body = Vec<Usage>)))]
pub(crate) async fn usage(State(ctx): State<AppCtx>, ApiActor(a): ApiActor) -> J<Vec<Usage>> {
    Ok(axum::Json(svc(&ctx).my_usage(&a).await?))
}

/// One license (its holder, or staff in scope).
#[utoipa::path(get, path = "/api/v1/licenses/{id}", tag = "licenses", params(("id" = i64, Path)), responses((status = 200, body = License)))]
pub(crate) async fn one(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> J<License> {
    Ok(axum::Json(svc(&ctx).license(&a, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct PurposeQuery {
    /// Why it is read (kept in the holder's usage log).
    purpose: Option<String>,
}

/// The license as a W3C Verifiable Credential (`application/vc` when asked for, else JSON):
/// for its holder, its issuing department, or an API client granted `licenses:read`.
#[utoipa::path(get, path = "/api/v1/licenses/{id}/credential", tag = "licenses", params(("id" = i64, Path), PurposeQuery),
    responses((status = 200, body = Object, content_type = "application/vc"), (status = 403, body = webcore::error::Problem)))]
pub(crate) async fn credential(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Query(q): Query<PurposeQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let purpose: String = q.purpose.unwrap_or_default().chars().take(200).collect();
    let vc = svc(&ctx).credential(&a, id, &purpose).await?;
    let wants_vc = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/vc"));
    let mime = if wants_vc {
        "application/vc"
    } else {
        "application/json"
    };
    Ok(([(header::CONTENT_TYPE, mime)], vc.to_string()).into_response())
}

/// 变更: a new version with changed fields; the old one is superseded.
#[utoipa::path(post, path = "/api/v1/licenses/{id}/amend", tag = "licenses", params(("id" = i64, Path)), request_body = Amendment,
    responses((status = 201, body = License), (status = 409, body = webcore::error::Problem)))]
pub(crate) async fn amend(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(m): Json<Amendment>,
) -> ApiResult<(StatusCode, axum::Json<License>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).amend(&a, id, m).await?),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    pub reason: String,
}

async fn act(
    ctx: &AppCtx,
    a: &kernel::Actor,
    id: i64,
    action: StatusAction,
    r: &Reason,
) -> J<License> {
    Ok(axum::Json(
        svc(ctx).change_status(a, id, action, &r.reason).await?,
    ))
}

/// 吊销 (issuing department, with a reason); shows in the revocation list at once.
#[utoipa::path(post, path = "/api/v1/licenses/{id}/revoke", tag = "licenses", params(("id" = i64, Path)), request_body = Reason,
    responses((status = 200, body = License), (status = 409, body = webcore::error::Problem), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn revoke(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(r): Json<Reason>,
) -> J<License> {
    act(&ctx, &a, id, StatusAction::Revoke, &r).await
}

/// Suspends (暂停); shows in the suspension list at once.
#[utoipa::path(post, path = "/api/v1/licenses/{id}/suspend", tag = "licenses", params(("id" = i64, Path)), request_body = Reason,
    responses((status = 200, body = License), (status = 409, body = webcore::error::Problem)))]
pub(crate) async fn suspend(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(r): Json<Reason>,
) -> J<License> {
    act(&ctx, &a, id, StatusAction::Suspend, &r).await
}

/// Reinstates a suspended license.
#[utoipa::path(post, path = "/api/v1/licenses/{id}/reinstate", tag = "licenses", params(("id" = i64, Path)), request_body = Reason,
    responses((status = 200, body = License), (status = 409, body = webcore::error::Problem)))]
pub(crate) async fn reinstate(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(r): Json<Reason>,
) -> J<License> {
    act(&ctx, &a, id, StatusAction::Reinstate, &r).await
}

/// 注销.
#[utoipa::path(post, path = "/api/v1/licenses/{id}/cancel", tag = "licenses", params(("id" = i64, Path)), request_body = Reason,
    responses((status = 200, body = License), (status = 409, body = webcore::error::Problem)))]
pub(crate) async fn cancel(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(r): Json<Reason>,
) -> J<License> {
    act(&ctx, &a, id, StatusAction::Cancel, &r).await
}

/// 挂失.
#[utoipa::path(post, path = "/api/v1/licenses/{id}/report-lost", tag = "licenses", params(("id" = i64, Path)), request_body = Reason,
    responses((status = 200, body = License), (status = 409, body = webcore::error::Problem)))]
pub(crate) async fn report_lost(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(r): Json<Reason>,
) -> J<License> {
    act(&ctx, &a, id, StatusAction::ReportLost, &r).await
}
