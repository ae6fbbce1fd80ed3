//! One error type for every service. It carries a stable machine `code`, a zh-CN message for
//! people, and the offending field where there is one; `webcore` turns it into problem+json.

use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Path of the field in the request, e.g. `region_code` or `materials[2].name`.
    pub field: String,
    /// Stable machine code, e.g. `invalid_region_code`.
    pub code: String,
    /// zh-CN message for people.
    pub detail: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            code: code.into(),
            detail: detail.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request was understood but its content is invalid (HTTP 422).
    #[error("validation failed: {0:?}")]
    Validation(Vec<FieldError>),
    /// The request could not be parsed at all (HTTP 400).
    #[error("bad request: {detail}")]
    BadRequest {
        code: &'static str,
        detail: String,
        field: Option<String>,
    },
    #[error("not authenticated: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {entity}")]
    NotFound {
        entity: &'static str,
        detail: String,
    },
    /// The record exists already or was changed concurrently (HTTP 409).
    #[error("conflict: {detail}")]
    Conflict {
        code: &'static str,
        detail: String,
        field: Option<String>,
    },
    /// A state machine refused the action (HTTP 409).
    #[error("illegal transition: {detail}")]
    IllegalTransition { detail: String },
    #[error("too many requests: {detail}")]
    RateLimited {
        detail: String,
        retry_after_secs: u64,
    },
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    /// Anything else. Logged in full, never shown to clients.
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    pub fn field(
        field: impl Into<String>,
        code: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Error::Validation(vec![FieldError::new(field, code, detail)])
    }

    pub fn not_found(entity: &'static str, detail: impl Into<String>) -> Self {
        Error::NotFound {
            entity,
            detail: detail.into(),
        }
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Error::Forbidden(detail.into())
    }

    pub fn conflict(code: &'static str, field: Option<&str>, detail: impl Into<String>) -> Self {
        Error::Conflict {
            code,
            detail: detail.into(),
            field: field.map(str::to_owned),
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        Error::Internal(e.to_string())
    }

    /// Stable machine code, part of the public API.
    pub fn code(&self) -> &str {
        match self {
            Error::Validation(f) if f.len() == 1 => &f[0].code,
            Error::Validation(_) => "validation_failed",
            Error::BadRequest { code, .. } => code,
            Error::Unauthorized(_) => "unauthorized",
            Error::Forbidden(_) => "forbidden",
            Error::NotFound { .. } => "not_found",
            Error::Conflict { code, .. } => code,
            Error::IllegalTransition { .. } => "illegal_transition",
            Error::RateLimited { .. } => "rate_limited",
            Error::PayloadTooLarge { .. } => "payload_too_large",
            Error::Internal(_) => "internal_error",
        }
    }

    /// zh-CN text for people. Internal errors say nothing of their cause.
    pub fn detail(&self) -> String {
        match self {
            Error::Validation(f) if f.len() == 1 => f[0].detail.clone(),
            Error::Validation(f) => format!("有 {} 处输入不正确，请检查标出的字段", f.len()),
            Error::BadRequest { detail, .. } => detail.clone(),
            Error::Unauthorized(d) | Error::Forbidden(d) => d.clone(),
            Error::NotFound { detail, .. } => detail.clone(),
            Error::Conflict { detail, .. } => detail.clone(),
            Error::IllegalTransition { detail } => detail.clone(),
            Error::RateLimited { detail, .. } => detail.clone(),
            Error::PayloadTooLarge { limit: 0 } => "请求内容超过服务器允许的大小".into(),
            Error::PayloadTooLarge { limit } => format!("请求内容过大，上限为 {} KB", limit / 1024),
            Error::Internal(_) => "服务器内部错误，请稍后重试；如持续出现请联系管理员".into(),
        }
    }

    /// The field the error is about, when there is exactly one.
    pub fn field_name(&self) -> Option<&str> {
        match self {
            Error::Validation(f) if f.len() == 1 => Some(&f[0].field),
            Error::BadRequest { field, .. } | Error::Conflict { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Error::Validation(f) => f,
            _ => &[],
        }
    }

    /// Maps a database error, turning a unique violation into a conflict on `unique_field`.
    pub fn from_db(e: sqlx::Error, unique_field: &str, detail: &str) -> Self {
        if let sqlx::Error::Database(d) = &e {
            if d.is_unique_violation() {
                return Error::conflict("already_exists", Some(unique_field), detail);
            }
        }
        Error::from(e)
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(d) = &e {
            if d.is_unique_violation() {
                return Error::conflict("already_exists", None, "记录已存在");
            }
            if d.is_foreign_key_violation() {
                return Error::conflict(
                    "referenced_record_missing",
                    None,
                    "引用的记录不存在或仍被引用",
                );
            }
        }
        Error::Internal(format!("database: {e}"))
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Internal(format!("json: {e}"))
    }
}

/// Collects field errors so a form can report all of them at once.
#[derive(Debug, Default)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, field: &str, code: &str, detail: impl Into<String>) {
        self.0.push(FieldError::new(field, code, detail));
    }
    pub fn check(&mut self, ok: bool, field: &str, code: &str, detail: impl Into<String>) {
        if !ok {
            self.add(field, code, detail);
        }
    }
    /// A required text: present, not blank, and at most `max` characters.
    pub fn text(&mut self, field: &str, label: &str, value: &str, max: usize) {
        let t = value.trim();
        if t.is_empty() {
            self.add(field, "required", format!("请填写{label}"));
        } else if t.chars().count() > max {
            self.add(field, "too_long", format!("{label}不能超过 {max} 个字"));
        }
    }
    pub fn merge(&mut self, r: Result<()>) {
        if let Err(Error::Validation(f)) = r {
            self.0.extend(f);
        }
    }
    pub fn finish(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.0))
        }
    }
}
