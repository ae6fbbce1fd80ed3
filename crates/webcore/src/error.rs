//! Errors as `application/problem+json` (RFC 9457) with a stable `code`, a zh-CN `detail` and
//! the offending `field`. 5xx causes are logged, never sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use kernel::Error;
use serde::Serialize;

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

/// The problem document, as described in the OpenAPI.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `/problems/<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// Stable machine code, e.g. `invalid_region_code`.
    pub code: String,
    /// zh-CN explanation for people.
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<kernel::FieldError>,
}

pub fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
        Error::BadRequest { .. } => StatusCode::BAD_REQUEST,
        Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        Error::Forbidden(_) => StatusCode::FORBIDDEN,
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::Conflict { .. } | Error::IllegalTransition { .. } => StatusCode::CONFLICT,
        Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub fn title_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "请求格式错误",
        401 => "未登录或登录已过期",
        403 => "没有权限",
        404 => "未找到",
        405 => "不支持的请求方法",
        408 => "请求超时",
        409 => "与当前状态冲突",
        413 => "请求内容过大",
        415 => "不支持的内容类型",
        422 => "输入有误",
        429 => "请求过于频繁",
        _ => "服务器错误",
    }
}

pub fn problem(e: &Error) -> Problem {
    let status = status_of(e);
    Problem {
        kind: format!("/problems/{}", e.code()),
        title: title_of(status).into(),
        status: status.as_u16(),
        code: e.code().into(),
        detail: e.detail(),
        field: e.field_name().map(str::to_owned),
        errors: e.field_errors().to_vec(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(&self.0);
        self.with_status(status)
    }
}

impl ApiError {
    /// The problem response with a status of the caller's choosing (for statuses the error
    /// type has no variant for, such as 405 and 408).
    pub fn with_status(self, status: StatusCode) -> Response {
        if status.is_server_error() {
            tracing::error!(error = %self.0, "request failed");
        }
        let mut p = problem(&self.0);
        p.status = status.as_u16();
        p.title = title_of(status).into();
        let body = serde_json::to_vec(&p).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Error::RateLimited {
            retry_after_secs, ..
        } = &self.0
        {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}
