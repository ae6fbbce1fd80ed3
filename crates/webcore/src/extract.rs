//! Extractors that turn every bad request into a clear problem: which field, what was wrong.

use crate::error::ApiError;
use crate::{AppCtx, Authenticated, NavItem};
use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::response::{IntoResponse, Redirect, Response};
use kernel::{Actor, Error};
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// JSON body, parsed strictly: the error names the field and says what was expected, in zh-CN.
pub struct Json<T>(pub T);

fn type_word(expected: &str) -> &'static str {
    if expected.contains("i64")
        || expected.contains("i32")
        || expected.contains("u32")
        || expected.contains("u64")
        || expected.contains("integer")
    {
        "整数"
    } else if expected.contains("f64") || expected.contains("float") {
        "数字"
    } else if expected.contains("bool") {
        "true 或 false"
    } else if expected.contains("sequence") {
        "数组"
    } else if expected.contains("string") || expected.contains("str") {
        "字符串"
    } else if expected.contains("struct") || expected.contains("map") {
        "对象"
    } else {
        "正确类型的值"
    }
}

/// Explains a serde data error for a field path, in zh-CN.
pub fn explain(path: &str, msg: &str) -> Error {
    let between = |s: &str| s.split('`').nth(1).unwrap_or("").to_owned();
    let field_at = |name: &str| {
        if path.is_empty() || path == "." {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    if msg.starts_with("missing field") {
        let name = between(msg);
        let f = field_at(&name);
        return Error::field(f.clone(), "required", format!("缺少必填字段 {f}"));
    }
    if msg.starts_with("unknown field") {
        // The path already ends at the unknown field.
        let name = between(msg);
        let f = if path.is_empty() || path == "." {
            name
        } else {
            path.to_owned()
        };
        return Error::field(f.clone(), "unknown_field", format!("不认识的字段 {f}"));
    }
    let field = if path.is_empty() || path == "." {
        "(body)".to_owned()
    } else {
        path.to_owned()
    };
    if msg.starts_with("unknown variant") {
        let got = between(msg);
        let options = msg.split("expected ").nth(1).unwrap_or("").replace('`', "");
        return Error::field(
            field.clone(),
            "invalid_enum",
            format!("字段 {field} 的取值“{got}”无效，可选：{options}"),
        );
    }
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        let expected = rest.split("expected ").nth(1).unwrap_or("");
        return Error::field(
            field.clone(),
            "invalid_type",
            format!("字段 {field} 的类型不正确，应为{}", type_word(expected)),
        );
    }
    if msg.starts_with("invalid value") || msg.starts_with("invalid length") {
        return Error::field(
            field.clone(),
            "invalid_value",
            format!("字段 {field} 的值无效"),
        );
    }
    Error::field(
        field.clone(),
        "invalid_value",
        format!("字段 {field} 的值无效：{msg}"),
    )
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            match inner.classify() {
                serde_json::error::Category::Data => {
                    let msg = inner.to_string();
                    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
                    Err(explain(&path, &msg))
                }
                _ => Err(Error::BadRequest {
                    code: "malformed_json",
                    detail: format!(
                        "请求体不是合法的 JSON（第 {} 行第 {} 列）",
                        inner.line(),
                        inner.column()
                    ),
                    field: None,
                }),
            }
        }
    }
}

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !(ct.starts_with("application/json") || ct.contains("+json")) {
            return Err(ApiError(Error::BadRequest {
                code: "unsupported_media_type",
                detail: "请求的 Content-Type 应为 application/json".into(),
                field: None,
            }));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            let status = e.status();
            if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError(Error::PayloadTooLarge { limit: 0 })
            } else {
                ApiError(Error::BadRequest {
                    code: "unreadable_body",
                    detail: "无法读取请求体".into(),
                    field: None,
                })
            }
        })?;
        Ok(Json(parse_json(&bytes)?))
    }
}

/// Query string, with the field named on error.
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|e| {
                let path = e.path().to_string();
                let msg = e.into_inner().to_string();
                let mut err = explain(&path, &msg);
                if let Error::Validation(f) = &mut err {
                    for fe in f.iter_mut() {
                        if fe.field == "(body)" {
                            fe.field = "(query)".into();
                        }
                        fe.detail = fe.detail.replace("字段", "查询参数");
                    }
                }
                ApiError(match err {
                    Error::Validation(f) => Error::BadRequest {
                        code: "invalid_query",
                        detail: f[0].detail.clone(),
                        field: Some(f[0].field.clone()),
                    },
                    other => other,
                })
            })
    }
}

/// The authenticated actor of an API call; 401 problem when there is none. State-changing
/// calls made with the session cookie must carry the CSRF header.
pub struct ApiActor(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for ApiActor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(auth) = parts.extensions.get::<Authenticated>().cloned() else {
            return Err(ApiError(Error::Unauthorized(
                "请先登录，或在 Authorization 头中提供 Bearer API 令牌".into(),
            )));
        };
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if let Some(area) = api_area(parts.uri.path()) {
            auth.actor.require_area(area, !safe).map_err(ApiError)?;
        }
        if let (Some(expected), false) = (&auth.csrf, safe) {
            let sent = parts
                .headers
                .get(crate::CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if sent != expected {
                return Err(ApiError(Error::forbidden(
                    "缺少或错误的 CSRF 令牌（X-CSRF-Token 头）",
                )));
            }
        }
        Ok(ApiActor(auth.actor))
    }
}

/// The API area of a path (`/api/v1/services/cases` → `services`), whose token scope every
/// call needs ([`Actor::require_area`]); none for who-am-I and logging out, which any token
/// may do.
pub fn api_area(path: &str) -> Option<&str> {
    let area = path.strip_prefix("/api/v1/")?.split(['/', '.']).next()?;
    (!area.is_empty() && !matches!(area, "me" | "auth")).then_some(area)
}

/// Everything a page needs: the actor, the CSRF token for its forms, the navigation.
/// Without a session the visitor is sent to the login page.
#[derive(Clone)]
pub struct PageCtx {
    pub actor: Actor,
    pub csrf: String,
    pub nav: Arc<Vec<NavItem>>,
    pub path: String,
    pub city: String,
    pub bureau: String,
}

pub struct LoginRedirect(String);

impl IntoResponse for LoginRedirect {
    fn into_response(self) -> Response {
        Redirect::to(&format!(
            "/login?next={}",
            form_urlencoded::byte_serialize(self.0.as_bytes()).collect::<String>()
        ))
        .into_response()
    }
}

impl<S> FromRequestParts<S> for PageCtx
where
    S: Send + Sync,
    AppCtx: FromRef<S>,
{
    type Rejection = LoginRedirect;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = AppCtx::from_ref(state);
        let path = parts.uri.path().to_owned();
        match parts.extensions.get::<Authenticated>() {
            Some(Authenticated {
                actor,
                csrf: Some(csrf),
            }) => Ok(PageCtx {
                actor: actor.clone(),
                csrf: csrf.clone(),
                nav: app.nav.clone(),
                path,
                city: app.config.city.name.clone(),
                bureau: app.config.city.bureau.clone(),
            }),
            _ => Err(LoginRedirect(
                parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or(path),
            )),
        }
    }
}

impl PageCtx {
    /// Refuses a form whose CSRF field does not match the session's token.
    pub fn check_csrf(&self, sent: &str) -> Result<(), Error> {
        if !sent.is_empty() && sent == self.csrf {
            Ok(())
        } else {
            Err(Error::forbidden(
                "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试",
            ))
        }
    }
}

/// A path parameter; a malformed one is a 400 problem naming it.
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(_) => Err(ApiError(Error::BadRequest {
                code: "invalid_path",
                detail: "路径中的编号格式不正确".into(),
                field: Some("(path)".into()),
            })),
        }
    }
}

/// An HTML form body (`application/x-www-form-urlencoded`) as name/value pairs, so repeated
/// fields (checkboxes) survive and a malformed form never fails the request.
#[derive(Debug, Clone, Default)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// A form as a page would post it (tests of the form parsers).
    pub fn of(pairs: &[(&str, &str)]) -> Self {
        FormData(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name).trim().to_owned()).filter(|s| !s.is_empty())
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = crate::layout::PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| crate::layout::PageError(Error::PayloadTooLarge { limit: 0 }))?;
        Ok(FormData(
            form_urlencoded::parse(&bytes).into_owned().collect(),
        ))
    }
}

/// The client's address (from the connection; `unknown` when served without one, as in tests).
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(ClientIp(ip))
    }
}

/// The one limit on the public lookups by number and phone (a ticket's or a case's
/// progress, rating and evaluation by number): per client address, counted in the database
/// ([`kernel::throttle`]) so that every lookup endpoint and every instance share it.
pub const PUBLIC_LOOKUPS: kernel::throttle::Limit = kernel::throttle::Limit {
    max: 30,
    window_ms: 10 * 60 * 1000,
};

/// Taken by every public lookup handler: passes while the caller's address is under
/// [`PUBLIC_LOOKUPS`], else answers 429 (problem+json on the API, a page elsewhere).
pub struct PublicLookup;

impl<S> FromRequestParts<S> for PublicLookup
where
    S: Send + Sync,
    AppCtx: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = AppCtx::from_ref(state);
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, state).await;
        match kernel::throttle::hit(&app.db, "public_lookup", &ip, PUBLIC_LOOKUPS).await {
            Ok(()) => Ok(PublicLookup),
            Err(e) if parts.uri.path().starts_with("/api/") => Err(ApiError(e).into_response()),
            Err(e) => Err(crate::layout::PageError(e).into_response()),
        }
    }
}

/// Whether the request came over TLS (directly configured, or via a trusted proxy header).
pub fn is_https(parts_headers: &axum::http::HeaderMap, config: &kernel::config::Config) -> bool {
    config.secure_cookies()
        || (config.server.trust_forwarded_proto
            && parts_headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                == Some("https"))
}

/// The `Set-Cookie` value for a session (HttpOnly, SameSite=Lax, Secure behind TLS).
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}",
        crate::SESSION_COOKIE,
        if secure { "; Secure" } else { "" }
    )
}

/// Reads one cookie from the request headers.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
}
