//! What every module's `http` layer shares, so handlers stay thin and alike: the application
//! context, the authenticated actor, problem+json errors, strict JSON/query extractors, the
//! page layout and navigation, and the embedded assets.
//!
//! Architecture invariant: `webcore` knows no module. Modules depend on it; `web` composes them.

pub mod assets;
pub mod charts;
pub mod download;
pub mod error;
pub mod extract;
pub mod layout;
pub mod lookup;
pub mod module;
pub mod redirect;

use kernel::config::Config;
use kernel::{Actor, Db, Role};
use std::sync::Arc;

pub use error::{ApiError, ApiResult};
pub use extract::{ApiActor, FormData, Json, PageCtx, Path, Query};
pub use layout::PageError;
pub use module::{Job, LookupFn, LookupFuture, LookupHit, Module};

/// Shared state of every route: the database and the configuration. Services are cheap handles
/// built from it per request.
#[derive(Clone)]
pub struct AppCtx {
    pub db: Db,
    pub config: Arc<Config>,
    pub nav: Arc<Vec<NavItem>>,
}

/// Who made the request; put into request extensions by the server's auth middleware.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub actor: Actor,
    /// The session's CSRF token; `None` for API tokens (no cookie, so no CSRF risk).
    pub csrf: Option<String>,
}

/// One entry of the role-based navigation. Modules declare theirs; `web` collects them.
#[derive(Clone, Debug)]
pub struct NavItem {
    pub section: &'static str,
    pub label: &'static str,
    pub href: &'static str,
    /// Roles that see the entry.
    pub roles: &'static [Role],
}

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "yiwang_session";
/// Header a cookie-authenticated API call must carry on state changes.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Name of the hidden form field with the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";

/// A value for a URL's query string, percent-encoded (`application/x-www-form-urlencoded`).
pub fn query_value(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
