//! `/gateway/v1`: the consuming systems' API, and the call log's JSON for people.

use super::domain::{Call, CallVerification};
use super::service::*;
use crate::http::{svc, J};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use kernel::Error;
use serde::Deserialize;
use utoipa::IntoParams;
use webcore::{ApiActor, ApiError, AppCtx, Authenticated, Query};

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/gateway/v1/resources", get(list))
        .route("/gateway/v1/resources/{code}", get(serve))
        .route("/api/v1/sharing/calls", get(calls))
        .route("/api/v1/sharing/calls/verify", get(verify))
}

fn refused(r: Refused) -> Response {
    let body = serde_json::json!({
        "type": format!("/problems/{}", r.code),
        "title": webcore::error::title_of(StatusCode::from_u16(r.status).unwrap_or(StatusCode::FORBIDDEN)),
        "status": r.status,
        "code": r.code,
        "detail": r.detail,
    });
    let mut resp = (
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::FORBIDDEN),
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response();
    let h = resp.headers_mut();
    if let Some(s) = r.retry_after {
        h.insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    if let Some(id) = r.call_id {
        h.insert("x-call-id", HeaderValue::from(id));
    }
    if let Some(id) = r.grant_id {
        h.insert("x-grant-id", HeaderValue::from(id));
    }
    resp
}

/// The caller (resolved from its bearer token by the server) and that token.
fn caller(headers: &HeaderMap, auth: Option<&Authenticated>) -> Option<(kernel::Actor, String)> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())?;
    Some((auth?.actor.clone(), token.to_owned()))
}

fn no_token() -> Response {
    ApiError(Error::Unauthorized(
        "共享网关须在 Authorization 头中提供 Bearer API 令牌".into(),
    ))
    .into_response()
}

/// The resources the caller's grants cover (code, name, fields with masks, expiry).
#[utoipa::path(get, path = "/gateway/v1/resources", tag = "gateway",
    responses((status = 200, body = Vec<GrantedResource>), (status = 401, body = webcore::error::Problem), (status = 403, body = webcore::error::Problem)))]
pub(crate) async fn list(State(ctx): State<AppCtx>, req: Request) -> Response {
    let Some((actor, token)) = caller(req.headers(), req.extensions().get::<Authenticated>())
    else {
        return no_token();
    };
    match svc(&ctx).granted_resources(&actor, &token).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(r) => refused(r),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[allow(dead_code)]
pub(crate) struct GatewayParams {
    /// From 1.
    page: Option<i64>,
    /// At most 1000; default 100.
    page_size: Option<i64>,
}

/// One page of a resource: the granted fields only, masked per grant, under the grant's row
/// filter; any other query parameter `field=value` filters by a granted field. Headers
/// `X-Grant-Id` and `X-Call-Id` name the grant and the call-log entry. Refusals (expired,
/// revoked, over rate, no grant) are problem+json naming why, and are logged too.
#[utoipa::path(get, path = "/gateway/v1/resources/{code}", tag = "gateway",
    params(("code" = String, Path), GatewayParams),
    responses((status = 200, body = PageBody), (status = 403, body = webcore::error::Problem), (status = 429, body = webcore::error::Problem)))]
pub(crate) async fn serve(
    State(ctx): State<AppCtx>,
    axum::extract::Path(code): axum::extract::Path<String>,
    req: Request,
) -> Response {
    let Some((actor, token)) = caller(req.headers(), req.extensions().get::<Authenticated>())
    else {
        return no_token();
    };
    let mut q = GatewayQuery {
        page: 1,
        page_size: DEFAULT_PAGE_SIZE,
        filters: Vec::new(),
        request_line: format!("GET {}", req.uri()),
    };
    let query = req.uri().query().unwrap_or("");
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let num = |name: &'static str| {
            v.trim().parse::<i64>().map_err(|_| Refused {
                status: 400,
                code: "invalid_query",
                detail: format!("查询参数 {name} 须为整数"),
                retry_after: None,
                call_id: None,
                grant_id: None,
            })
        };
        match k.as_ref() {
            "page" => match num("page") {
                Ok(n) => q.page = n,
                Err(r) => return refused(r),
            },
            "page_size" => match num("page_size") {
                Ok(n) => q.page_size = n,
                Err(r) => return refused(r),
            },
            _ => q.filters.push((k.into_owned(), v.into_owned())),
        }
    }
    match svc(&ctx).serve(&actor, &token, &code, q).await {
        Ok(s) => {
            let mut resp = (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                s.body,
            )
                .into_response();
            resp.headers_mut()
                .insert("x-grant-id", HeaderValue::from(s.grant_id));
            resp.headers_mut()
                .insert("x-call-id", HeaderValue::from(s.call_id));
            resp
        }
        Err(r) => refused(r),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct CallsQuery {
    /// YYYYMM.
    month: Option<i64>,
    /// At most 1000; default 200.
    limit: Option<i64>,
}

/// Calls on the caller's department's resources and by it (all for the bureau), newest first.
#[utoipa::path(get, path = "/api/v1/sharing/calls", tag = "sharing", params(CallsQuery), responses((status = 200, body = Vec<Call>)))]
pub(crate) async fn calls(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<CallsQuery>,
) -> J<Vec<Call>> {
    Ok(axum::Json(
        svc(&ctx).calls(&a, q.month, q.limit.unwrap_or(200)).await?,
    ))
}

/// Verifies the call log's chain (administrators), naming the first tampered call.
#[utoipa::path(get, path = "/api/v1/sharing/calls/verify", tag = "sharing", responses((status = 200, body = CallVerification)))]
pub(crate) async fn verify(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> J<CallVerification> {
    a.require_any_role(&[kernel::Role::SysAdmin])?;
    Ok(axum::Json(svc(&ctx).verify_calls().await?))
}
