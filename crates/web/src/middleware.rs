//! Middleware: authentication, metrics and tracing, problem+json for bare errors, panics.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kernel::Error;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;
use webcore::extract::cookie;
use webcore::{ApiError, AppCtx, Authenticated};

/// Puts the caller into the request: a session cookie, else `Authorization: Bearer <token>`.
/// A bearer token that is unknown, revoked or expired is refused here, plainly.
pub async fn authenticate(State(ctx): State<AppCtx>, mut req: Request, next: Next) -> Response {
    let org = org::OrgService::new(ctx.db.clone(), ctx.config.auth.clone());
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").map(str::trim).map(str::to_owned));
    if let Some(token) = bearer {
        match org.resolve_token(&token).await {
            Ok(Some(actor)) => {
                req.extensions_mut()
                    .insert(Authenticated { actor, csrf: None });
            }
            Ok(None) => {
                return ApiError(Error::Unauthorized("API 令牌无效、已过期或已被吊销".into()))
                    .into_response()
            }
            Err(e) => return ApiError(e).into_response(),
        }
    } else if let Some(token) =
        cookie(req.headers(), webcore::SESSION_COOKIE).filter(|t| !t.is_empty())
    {
        match org.resolve_session(&token).await {
            Ok(Some(info)) => {
                req.extensions_mut().insert(Authenticated {
                    actor: info.actor,
                    csrf: Some(info.csrf),
                });
            }
            Ok(None) => {}
            Err(e) => return ApiError(e).into_response(),
        }
    }
    next.run(req).await
}

fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        PrometheusBuilder::new()
            .install_recorder()
            .unwrap_or_else(|_| {
                // Another recorder is installed (several servers in one test process): keep a local one.
                PrometheusBuilder::new().build_recorder().handle()
            })
    })
}

pub async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        recorder().render(),
    )
}

/// Counts and times every request by route pattern (not raw path, to bound cardinality), and
/// logs it with its request id. Runs after routing, so the matched route is known.
pub async fn metrics_and_trace(req: Request, next: Next) -> Response {
    recorder();
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let path = req.uri().path().to_owned();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let span = tracing::info_span!("request", %request_id, %method, %path);
    let res = tracing::Instrument::instrument(next.run(req), span.clone()).await;
    let status = res.status().as_u16();
    let secs = start.elapsed().as_secs_f64();
    metrics::counter!("yiwang_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status.to_string()).increment(1);
    metrics::histogram!("yiwang_http_request_duration_seconds", "method" => method, "route" => route).record(secs);
    let _g = span.enter();
    if status >= 500 {
        tracing::error!(status, ms = secs * 1000.0, "served");
    } else {
        tracing::info!(status, ms = secs * 1000.0, "served");
    }
    res
}

/// Answers errors that no handler shaped (unknown method, body too large, timeouts) as
/// problem+json on the API, so API clients always get the same error format.
pub async fn problem_for_bare_errors(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    let status = res.status();
    let shaped = res.headers().get(header::CONTENT_TYPE).is_some();
    if is_api && status.as_u16() >= 400 && !shaped {
        let err = match status {
            StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge { limit: 0 },
            StatusCode::METHOD_NOT_ALLOWED => Error::BadRequest {
                code: "method_not_allowed",
                detail: "该地址不支持此请求方法".into(),
                field: None,
            },
            StatusCode::REQUEST_TIMEOUT => Error::BadRequest {
                code: "timeout",
                detail: "请求处理超时，请稍后重试".into(),
                field: None,
            },
            StatusCode::NOT_FOUND => Error::not_found("route", "没有这个接口"),
            _ => return res,
        };
        return ApiError(err).with_status(status);
    }
    res
}

pub async fn not_found(req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        ApiError(Error::not_found("route", "没有这个接口")).into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            webcore::layout::error_page("一网", 404, "页面不存在"),
        )
            .into_response()
    }
}

pub fn panic_response(_err: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    tracing::error!("handler panicked");
    let mut res = ApiError(Error::Internal("panic".into())).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
