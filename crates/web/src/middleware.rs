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
use webcore::extract::{cookie, ClientIp};
use webcore::{ApiError, AppCtx, Authenticated};

/// Puts the caller into the request: a session cookie, else `Authorization: Bearer <token>`.
/// An API token that is unknown, revoked or expired is refused here, plainly; a bearer token
/// that is not shaped as an API token (an OpenID Connect access token at userinfo) is left to
/// the route that takes it.
pub async fn authenticate(State(ctx): State<AppCtx>, mut req: Request, next: Next) -> Response {
    let org = org::OrgService::new(ctx.db.clone(), ctx.config.auth.clone());
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").map(str::trim).map(str::to_owned))
        .filter(|t| t.starts_with(org::API_TOKEN_PREFIX));
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
            Ok(Some(info))
                if info.enrol_only
                    && !org::OrgService::allowed_while_enrolling(req.uri().path()) =>
            {
                // The policy requires a second factor this user has not enrolled yet: the
                // session reaches the enrolment page and nothing else.
                return if req.uri().path().starts_with("/api/") {
                    ApiError(Error::forbidden(org::OrgService::ENROL_FIRST)).into_response()
                } else {
                    axum::response::Redirect::to("/account/two-factor").into_response()
                };
            }
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

/// The Prometheus metrics, only for the configured addresses (`server.metrics_allow`) or
/// with the configured token (`server.metrics_token`): route names and counts tell an
/// attacker what is used and how.
pub async fn metrics(
    State(cfg): State<std::sync::Arc<kernel::config::Config>>,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
) -> Response {
    let token = &cfg.server.metrics_token;
    let by_token = !token.is_empty()
        && headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| constant_time_eq(t.trim().as_bytes(), token.as_bytes()));
    let by_address = cfg.server.metrics_allow.iter().any(|a| a == &ip);
    if !(by_token || by_address) {
        return ApiError(Error::forbidden(
            "指标接口只对配置的地址（server.metrics_allow）或持指标令牌的请求开放",
        ))
        .into_response();
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        recorder().render(),
    )
        .into_response()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The content security policy of every answer: scripts only from this site's files (no
/// inline script, no `on*=` attribute, no `eval`), never framed, forms post only here.
/// Inline `style=` attributes stay allowed: they cannot run code.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// Security headers on every answer; `Cache-Control: no-store` on every answer that did not
/// choose its own (pages and API answers carry personal data; the static assets say
/// `immutable` themselves).
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
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
