//! OpenID Connect over HTTP: discovery, JWKS, the authorization endpoint (with the consent
//! step), token, userinfo and RP-initiated logout; and the JSON API that registers client
//! systems under `/api/v1/sso`. Thin: parse, call the service, answer.

use crate::domain::*;
use crate::pages;
use crate::service::*;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use kernel::auth::Permission;
use kernel::{Error, Role};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::{OpenApi, ToSchema};
use webcore::extract::{cookie, is_https, session_cookie};
use webcore::{ApiActor, ApiResult, AppCtx, FormData, Json, NavItem, Path};

pub fn svc(ctx: &AppCtx) -> SsoService {
    SsoService::from_config(ctx.db.clone(), &ctx.config)
}

fn org(ctx: &AppCtx) -> org::OrgService {
    org::OrgService::new(ctx.db.clone(), ctx.config.auth.clone())
}

pub fn nav() -> Vec<NavItem> {
    vec![
        NavItem {
            section: "我的",
            label: "统一门户",
            href: "/apps",
            roles: &Role::STAFF,
        },
        NavItem {
            section: "系统管理",
            label: "统一身份认证",
            href: "/sso/clients",
            roles: ManageClients::ROLES,
        },
    ]
}

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/oidc/jwks", get(jwks))
        .route("/oidc/authorize", get(authorize).post(authorize_post))
        .route("/oidc/consent", post(consent))
        .route("/oidc/token", post(token))
        .route("/oidc/userinfo", get(userinfo).post(userinfo))
        .route("/oidc/logout", get(logout).post(logout_post))
        .route(
            "/api/v1/sso/clients",
            get(api_clients).post(api_create_client),
        )
        .route(
            "/api/v1/sso/clients/{id}",
            get(api_client).put(api_update_client),
        )
        .route("/api/v1/sso/clients/{id}/secret", post(api_new_secret))
        .route("/api/v1/sso/keys", get(api_keys))
        .route("/api/v1/sso/keys/rotate", post(api_rotate_key))
        .route("/api/v1/sso/portal", get(api_portal))
}

#[derive(OpenApi)]
#[openapi(
    paths(api_clients, api_create_client, api_client, api_update_client, api_new_secret, api_keys,
          api_rotate_key, api_portal),
    components(schemas(Client, ClientInput, CreatedClient, NewSecret, SigningKey)),
    tags((name = "sso", description = "统一身份认证：接入系统登记（OpenID Connect 协议端点见 /.well-known/openid-configuration）"))
)]
pub struct SsoApi;

/// The issuer: the configured public URL, else this request's host (a plain host[:port]).
pub fn issuer(ctx: &AppCtx, h: &HeaderMap) -> String {
    if let Some(u) = ctx
        .config
        .server
        .public_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        return u.trim_end_matches('/').to_owned();
    }
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or(ctx.config.server.listen.as_str());
    let scheme = if is_https(h, &ctx.config) {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

fn cached_json(v: Value) -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        axum::Json(v),
    )
        .into_response()
}

/// OpenID Connect Discovery 1.0 §3.
async fn discovery(State(ctx): State<AppCtx>, h: HeaderMap) -> Response {
    let iss = issuer(&ctx, &h);
    let claims: Vec<&str> = vec![
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "sid",
        "name",
        "preferred_username",
        "dept_id",
        "dept_code",
        "dept_name",
        "region_code",
        "roles",
    ];
    let scopes: Vec<&str> = SCOPES.iter().map(|(s, _)| *s).collect();
    cached_json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/oidc/authorize"),
        "token_endpoint": format!("{iss}/oidc/token"),
        "userinfo_endpoint": format!("{iss}/oidc/userinfo"),
        "jwks_uri": format!("{iss}/oidc/jwks"),
        "end_session_endpoint": format!("{iss}/oidc/logout"),
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [crate::jose::ALG],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_supported": claims,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
        "ui_locales_supported": ["zh-CN"],
    }))
}

async fn jwks(State(ctx): State<AppCtx>) -> Response {
    match svc(&ctx).jwks().await {
        Ok(v) => cached_json(v),
        Err(e) => webcore::ApiError(e).into_response(),
    }
}

// ---------- the authorization endpoint ----------

/// The signed-in person of this request, from the session cookie.
pub(crate) async fn current_login(ctx: &AppCtx, h: &HeaderMap) -> Option<(Login, String, String)> {
    let token = cookie(h, webcore::SESSION_COOKIE).filter(|t| !t.is_empty())?;
    let info = org(ctx).resolve_session(&token).await.ok()??;
    Some((
        Login {
            actor: info.actor,
            sid: sid_of(&token),
            auth_time: info.started_at,
        },
        info.csrf,
        token,
    ))
}

/// Request parameters by name; a parameter given twice is refused (RFC 6749 §3.1).
pub(crate) fn params_of(pairs: &[(String, String)]) -> Result<AuthorizeParams, &'static str> {
    let mut seen: Vec<&str> = Vec::new();
    let mut p = AuthorizeParams::default();
    for (k, v) in pairs {
        let slot = match k.as_str() {
            "response_type" => &mut p.response_type,
            "client_id" => &mut p.client_id,
            "redirect_uri" => &mut p.redirect_uri,
            "scope" => &mut p.scope,
            "state" => &mut p.state,
            "nonce" => &mut p.nonce,
            "code_challenge" => &mut p.code_challenge,
            "code_challenge_method" => &mut p.code_challenge_method,
            "prompt" => &mut p.prompt,
            "max_age" => &mut p.max_age,
            "response_mode" => &mut p.response_mode,
            _ => continue,
        };
        if seen.contains(&k.as_str()) {
            return Err("parameter_repeated");
        }
        seen.push(k.as_str());
        *slot = Some(v.clone());
    }
    Ok(p)
}

fn pairs_of(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// Sends the user-agent to the client: a 302, or — right after a form of ours (login,
/// consent) — a page that moves on by itself, since browsers hold a form's redirects to the
/// page's `form-action 'self'`.
fn to_client(ctx: &AppCtx, url: &str, client: &str, after_form: bool) -> Response {
    if after_form {
        return pages::returning(&ctx.config.city.bureau, url, client).into_response();
    }
    match HeaderValue::from_str(url) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        Err(_) => pages::returning(&ctx.config.city.bureau, url, client).into_response(),
    }
}

/// An error sent back to the registered redirect URI (RFC 6749 §4.1.2.1).
fn error_to_client(
    ctx: &AppCtx,
    iss: &str,
    redirect_uri: &str,
    e: &OAuthError,
    state: Option<&str>,
    client: &str,
    after_form: bool,
) -> Response {
    let mut q = vec![("error", e.error), ("error_description", e.description)];
    if let Some(s) = state {
        q.push(("state", s));
    }
    q.push(("iss", iss));
    to_client(ctx, &with_query(redirect_uri, &q), client, after_form)
}

fn error_page(ctx: &AppCtx, status: StatusCode, message: &str) -> Response {
    (status, pages::sso_error(&ctx.config.city.bureau, message)).into_response()
}

/// What the authorization endpoint settled before the person: the client and its redirect URI.
struct Settled {
    client: Client,
    redirect_uri: String,
    req: AuthRequest,
}

/// Checks the client and redirect URI (errors on a page: nothing goes to an address that is not
/// registered), then the rest (errors to the redirect URI).
async fn settle(
    ctx: &AppCtx,
    iss: &str,
    pairs: &[(String, String)],
    after_form: bool,
) -> Result<Settled, Response> {
    let p = match params_of(pairs) {
        Ok(p) => p,
        Err(_) => {
            return Err(error_page(
                ctx,
                StatusCode::BAD_REQUEST,
                "登录请求中有参数重复出现，请从接入系统重新发起登录",
            ))
        }
    };
    let Some(client_id) = p.client_id.as_deref().filter(|s| !s.is_empty()) else {
        return Err(error_page(
            ctx,
            StatusCode::BAD_REQUEST,
            "登录请求缺少参数 client_id，请从接入系统重新发起登录",
        ));
    };
    let client = match svc(ctx).client_by_client_id(client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Err(error_page(
                ctx,
                StatusCode::BAD_REQUEST,
                "发起登录的系统未在一网登记（client_id 无效）",
            ))
        }
        Err(e) => return Err(webcore::PageError(e).into_response()),
    };
    let Some(redirect_uri) = p.redirect_uri.clone().filter(|s| !s.is_empty()) else {
        return Err(error_page(
            ctx,
            StatusCode::BAD_REQUEST,
            "登录请求缺少参数 redirect_uri（回调地址）",
        ));
    };
    if !client.redirect_uris.contains(&redirect_uri) {
        return Err(error_page(
            ctx,
            StatusCode::BAD_REQUEST,
            &format!(
                "回调地址（redirect_uri）与「{}」登记的不一致，登录已停止",
                client.name
            ),
        ));
    }
    if !client.enabled {
        return Err(error_page(
            ctx,
            StatusCode::FORBIDDEN,
            &format!("「{}」已停用，暂时不能通过一网登录", client.name),
        ));
    }
    match check_request(&p, &client) {
        Ok(req) => Ok(Settled {
            client,
            redirect_uri,
            req,
        }),
        Err(e) => Err(error_to_client(
            ctx,
            iss,
            &redirect_uri,
            &e,
            p.state.as_deref(),
            &client.name,
            after_form,
        )),
    }
}

async fn authorize(State(ctx): State<AppCtx>, h: HeaderMap, RawQuery(q): RawQuery) -> Response {
    authorize_with(&ctx, &h, pairs_of(q.as_deref())).await
}

async fn authorize_post(State(ctx): State<AppCtx>, h: HeaderMap, form: FormData) -> Response {
    authorize_with(&ctx, &h, form.0).await
}

/// The marker our login's `next` carries: the request comes back from the login form.
const RESUME: &str = "yw_resume";

async fn authorize_with(ctx: &AppCtx, h: &HeaderMap, pairs: Vec<(String, String)>) -> Response {
    let iss = issuer(ctx, h);
    let resumed = pairs.iter().any(|(k, _)| k == RESUME);
    let s = match settle(ctx, &iss, &pairs, resumed).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let state = s.req.state.clone();
    let fail = |e: OAuthError| {
        error_to_client(
            ctx,
            &iss,
            &s.redirect_uri,
            &e,
            state.as_deref(),
            &s.client.name,
            resumed,
        )
    };
    let login = current_login(ctx, h).await;
    let now = ctx.db.now();
    let need_login = match &login {
        None => true,
        Some((l, _, _)) => {
            (s.req.prompt_login && !resumed)
                || s.req.max_age_ms.is_some_and(|m| now - l.auth_time > m)
        }
    };
    if need_login {
        if s.req.prompt_none {
            return fail(OAuthError::new(
                "login_required",
                "the user is not logged in",
                None,
                "用户尚未登录",
            ));
        }
        // Back here after the login form, without `prompt=login` (it is being honoured now).
        let mut back: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| k != RESUME)
            .map(|(k, v)| {
                if k == "prompt" {
                    (
                        k.clone(),
                        v.split(' ')
                            .filter(|x| *x != "login")
                            .collect::<Vec<_>>()
                            .join(" "),
                    )
                } else {
                    (k.clone(), v.clone())
                }
            })
            .collect();
        back.push((RESUME.into(), "1".into()));
        let query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(back.iter())
            .finish();
        let next = format!("/oidc/authorize?{query}");
        let to = format!(
            "/login?next={}",
            form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        );
        return Redirect::to(&to).into_response();
    }
    let (login, csrf, _) = login.expect("checked above");
    let svc = svc(ctx);
    match svc.may_use(&login.actor, &s.client).await {
        Ok(true) => {}
        Ok(false) => {
            let _ = svc
                .record_refusal(&login.actor, &s.client, "department")
                .await;
            if s.req.prompt_none {
                return fail(OAuthError::new(
                    "access_denied",
                    "the user's department may not use this client",
                    None,
                    "用户所在单位未被授权使用该系统",
                ));
            }
            return error_page(
                ctx,
                StatusCode::FORBIDDEN,
                &format!(
                    "您所在的单位未被授权使用「{}」。如需使用，请联系系统管理员在统一身份认证中为该系统添加您的单位。",
                    s.client.name
                ),
            );
        }
        Err(e) => return webcore::PageError(e).into_response(),
    }
    let user_id = login.actor.user_id.unwrap_or_default();
    let remembered = match svc.consented(user_id, &s.client, &s.req.scopes).await {
        Ok(r) => r,
        Err(e) => return webcore::PageError(e).into_response(),
    };
    if !remembered || s.req.prompt_consent {
        if s.req.prompt_none {
            return fail(OAuthError::new(
                "consent_required",
                "the user has not consented to this client",
                None,
                "用户尚未同意向该系统提供信息",
            ));
        }
        let hidden: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| k != RESUME && k != "prompt" && k != webcore::CSRF_FIELD)
            .cloned()
            .collect();
        return pages::consent(
            &ctx.config.city.bureau,
            &login.actor,
            &s.client,
            &s.req.scopes,
            &hidden,
            &csrf,
        )
        .into_response();
    }
    match svc
        .issue_code(&login, &s.client, &s.redirect_uri, &s.req, false)
        .await
    {
        Ok(code) => code_to_client(ctx, &iss, &s, &code, resumed),
        Err(e) => webcore::PageError(e).into_response(),
    }
}

fn code_to_client(ctx: &AppCtx, iss: &str, s: &Settled, code: &str, after_form: bool) -> Response {
    let mut q = vec![("code", code)];
    if let Some(st) = s.req.state.as_deref() {
        q.push(("state", st));
    }
    q.push(("iss", iss));
    to_client(
        ctx,
        &with_query(&s.redirect_uri, &q),
        &s.client.name,
        after_form,
    )
}

/// The consent form's answer: 同意 remembers the consent and sends the code; 拒绝 sends
/// `access_denied`.
async fn consent(State(ctx): State<AppCtx>, h: HeaderMap, form: FormData) -> Response {
    let iss = issuer(&ctx, &h);
    let Some((login, csrf, _)) = current_login(&ctx, &h).await else {
        return error_page(
            &ctx,
            StatusCode::UNAUTHORIZED,
            "登录已过期，请回到接入系统重新登录",
        );
    };
    if form.get(webcore::CSRF_FIELD).is_empty() || form.get(webcore::CSRF_FIELD) != csrf {
        return error_page(
            &ctx,
            StatusCode::FORBIDDEN,
            "表单已过期或来源不明（CSRF 校验失败），请回到接入系统重新登录",
        );
    }
    let pairs: Vec<(String, String)> = form
        .0
        .iter()
        .filter(|(k, _)| k != webcore::CSRF_FIELD && k != "decision")
        .cloned()
        .collect();
    let s = match settle(&ctx, &iss, &pairs, true).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let svc = svc(&ctx);
    match svc.may_use(&login.actor, &s.client).await {
        Ok(true) => {}
        Ok(false) => {
            return error_page(
                &ctx,
                StatusCode::FORBIDDEN,
                &format!("您所在的单位未被授权使用「{}」", s.client.name),
            )
        }
        Err(e) => return webcore::PageError(e).into_response(),
    }
    if form.get("decision") != "allow" {
        let _ = svc
            .record_refusal(&login.actor, &s.client, "user_denied")
            .await;
        let e = OAuthError::new(
            "access_denied",
            "the user denied the request",
            None,
            "用户拒绝授权",
        );
        return error_to_client(
            &ctx,
            &iss,
            &s.redirect_uri,
            &e,
            s.req.state.as_deref(),
            &s.client.name,
            true,
        );
    }
    match svc
        .issue_code(&login, &s.client, &s.redirect_uri, &s.req, true)
        .await
    {
        Ok(code) => code_to_client(&ctx, &iss, &s, &code, true),
        Err(e) => webcore::PageError(e).into_response(),
    }
}

// ---------- token and userinfo ----------

#[derive(Serialize)]
struct OAuthBody<'a> {
    error: &'a str,
    error_description: &'a str,
    /// zh-CN, for people reading the client's logs.
    detail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

/// An OAuth error answer (RFC 6749 §5.2): 401 with a challenge for client authentication,
/// else 400; never cached.
fn oauth_error(e: &OAuthError, www_authenticate: Option<&str>) -> Response {
    let status = match e.error {
        "invalid_client" | "invalid_token" => StatusCode::UNAUTHORIZED,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = OAuthBody {
        error: e.error,
        error_description: e.description,
        detail: &e.detail,
        field: e.field,
    };
    let mut r = (status, axum::Json(body)).into_response();
    let hs = r.headers_mut();
    hs.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    hs.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(w) = www_authenticate.filter(|_| status == StatusCode::UNAUTHORIZED) {
        if let Ok(v) = HeaderValue::from_str(w) {
            hs.insert(header::WWW_AUTHENTICATE, v);
        }
    }
    r
}

fn refusal(r: Refusal, challenge: &str) -> Response {
    match r {
        Refusal::OAuth(e) => oauth_error(&e, Some(challenge)),
        Refusal::Failed(e) => webcore::ApiError(e).into_response(),
    }
}

/// Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1: each part form-encoded).
fn basic_credentials(h: &HeaderMap) -> Option<Result<(String, String), ()>> {
    let v = h.get(header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = v
        .strip_prefix("Basic ")
        .or_else(|| v.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok();
    let text = decoded.and_then(|d| String::from_utf8(d).ok());
    let Some((id, secret)) = text.as_deref().and_then(|t| t.split_once(':')) else {
        return Some(Err(()));
    };
    let dec = |s: &str| -> String {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some(Ok((dec(id), dec(secret))))
}

async fn token(State(ctx): State<AppCtx>, h: HeaderMap, form: FormData) -> Response {
    const BASIC: &str = "Basic realm=\"yiwang\"";
    let mut seen: Vec<&str> = Vec::new();
    for (k, _) in &form.0 {
        if seen.contains(&k.as_str()) {
            let e = OAuthError::invalid_request(
                "(body)",
                "repeated parameter",
                format!("参数 {k} 重复出现"),
            );
            return oauth_error(&e, None);
        }
        seen.push(k.as_str());
    }
    let body_id = form.opt("client_id");
    let body_secret = form.opt("client_secret");
    let (client_id, secret) = match basic_credentials(&h) {
        Some(Ok((id, secret))) => {
            if body_secret.is_some() {
                let e = OAuthError::invalid_request(
                    "client_secret",
                    "more than one client authentication method",
                    "只能使用一种客户端认证方式（Basic 头或表单中的 client_secret）",
                );
                return oauth_error(&e, None);
            }
            if body_id.as_deref().is_some_and(|b| b != id) {
                let e = OAuthError::invalid_client(
                    "client_id does not match",
                    "表单中的 client_id 与 Basic 头不一致",
                );
                return oauth_error(&e, Some(BASIC));
            }
            (id, Some(secret))
        }
        Some(Err(())) => {
            let e = OAuthError::invalid_client(
                "malformed Basic credentials",
                "Authorization: Basic 头格式不正确",
            );
            return oauth_error(&e, Some(BASIC));
        }
        None => match body_id {
            Some(id) => (id, body_secret),
            None => {
                let e = OAuthError::invalid_client(
                    "client authentication required",
                    "缺少 client_id 与客户端认证",
                );
                return oauth_error(&e, Some(BASIC));
            }
        },
    };
    let svc = svc(&ctx);
    let client = match svc.authenticate_client(&client_id, secret.as_deref()).await {
        Ok(c) => c,
        Err(r) => return refusal(r, BASIC),
    };
    let iss = issuer(&ctx, &h);
    let answer = match form.get("grant_type") {
        "authorization_code" => {
            let Some(code) = form.opt("code") else {
                let e = OAuthError::invalid_request("code", "code is required", "缺少参数 code");
                return oauth_error(&e, None);
            };
            svc.exchange_code(
                &iss,
                &client,
                &code,
                form.opt("redirect_uri").as_deref(),
                form.opt("code_verifier").as_deref(),
            )
            .await
        }
        "refresh_token" => {
            let Some(rt) = form.opt("refresh_token") else {
                let e = OAuthError::invalid_request(
                    "refresh_token",
                    "refresh_token is required",
                    "缺少参数 refresh_token",
                );
                return oauth_error(&e, None);
            };
            svc.refresh(&iss, &client, &rt).await
        }
        "" => Err(OAuthError::invalid_request(
            "grant_type",
            "grant_type is required",
            "缺少参数 grant_type",
        )
        .into()),
        _ => Err(OAuthError::new(
            "unsupported_grant_type",
            "only authorization_code and refresh_token are supported",
            Some("grant_type"),
            "只支持 grant_type=authorization_code 或 refresh_token",
        )
        .into()),
    };
    match answer {
        Ok(t) => (
            [
                (header::PRAGMA, "no-cache"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            axum::Json(t),
        )
            .into_response(),
        Err(r) => refusal(r, BASIC),
    }
}

async fn userinfo(State(ctx): State<AppCtx>, h: HeaderMap) -> Response {
    let token = h
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        let e = OAuthError::invalid_request(
            "Authorization",
            "a bearer access token is required",
            "缺少访问令牌（Authorization: Bearer …）",
        );
        let mut r = oauth_error(&e, None);
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"yiwang\""),
        );
        return r;
    };
    match svc(&ctx).userinfo(token).await {
        Ok(v) => ([(header::CACHE_CONTROL, "no-store")], axum::Json(v)).into_response(),
        Err(r) => refusal(r, "Bearer realm=\"yiwang\", error=\"invalid_token\""),
    }
}

// ---------- RP-initiated logout ----------

async fn logout(State(ctx): State<AppCtx>, h: HeaderMap, RawQuery(q): RawQuery) -> Response {
    logout_with(&ctx, &h, pairs_of(q.as_deref()), false).await
}

async fn logout_post(State(ctx): State<AppCtx>, h: HeaderMap, form: FormData) -> Response {
    logout_with(&ctx, &h, form.0, true).await
}

/// OpenID Connect RP-Initiated Logout 1.0: ends the yiwang session (and what it gave the
/// clients) and returns to a registered `post_logout_redirect_uri`. Without a valid
/// `id_token_hint` of the signed-in user, the user confirms first.
async fn logout_with(
    ctx: &AppCtx,
    h: &HeaderMap,
    pairs: Vec<(String, String)>,
    posted: bool,
) -> Response {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let iss = issuer(ctx, h);
    let svc = svc(ctx);
    let hint = match get("id_token_hint") {
        Some(t) => match svc.check_id_token_hint(&iss, &t).await {
            Ok(x) => Some(x),
            Err(e) => return error_page(ctx, StatusCode::BAD_REQUEST, &e.detail()),
        },
        None => None,
    };
    let client_id = match (get("client_id"), hint.as_ref().map(|(aud, _)| aud.clone())) {
        (Some(a), Some(b)) if a != b => {
            return error_page(
                ctx,
                StatusCode::BAD_REQUEST,
                "client_id 与 id_token_hint 的接收方不一致",
            )
        }
        (a, b) => a.or(b),
    };
    let client = match &client_id {
        Some(id) => match svc.client_by_client_id(id).await {
            Ok(Some(c)) => Some(c),
            Ok(None) => {
                return error_page(
                    ctx,
                    StatusCode::BAD_REQUEST,
                    "client_id 无效：该系统未在一网登记",
                )
            }
            Err(e) => return webcore::PageError(e).into_response(),
        },
        None => None,
    };
    let back = match get("post_logout_redirect_uri") {
        Some(u) => match &client {
            Some(c) if c.post_logout_redirect_uris.contains(&u) => Some((u, c.name.clone())),
            Some(c) => {
                return error_page(
                    ctx,
                    StatusCode::BAD_REQUEST,
                    &format!(
                        "退出后返回地址（post_logout_redirect_uri）与「{}」登记的不一致",
                        c.name
                    ),
                )
            }
            None => {
                return error_page(
                    ctx,
                    StatusCode::BAD_REQUEST,
                    "给出退出后返回地址时须同时给出 id_token_hint 或 client_id",
                )
            }
        },
        None => None,
    };
    let login = current_login(ctx, h).await;
    if let Some((l, csrf, token)) = &login {
        let by_hint = hint.as_ref().is_some_and(|(_, sub)| {
            Some(sub.as_str()) == l.actor.user_id.map(|u| u.to_string()).as_deref()
        });
        let confirmed = posted
            && !csrf.is_empty()
            && get(webcore::CSRF_FIELD).as_deref() == Some(csrf.as_str());
        if !by_hint && !confirmed {
            let hidden: Vec<(String, String)> = pairs
                .iter()
                .filter(|(k, _)| k != webcore::CSRF_FIELD)
                .cloned()
                .collect();
            return pages::confirm_logout(
                &ctx.config.city.bureau,
                &l.actor,
                client.as_ref(),
                &hidden,
                csrf,
            )
            .into_response();
        }
        if let Err(e) = svc.end_session(&l.sid, &l.actor).await {
            return webcore::PageError(e).into_response();
        }
        if let Err(e) = org(ctx).logout(token).await {
            return webcore::PageError(e).into_response();
        }
    }
    let clear = session_cookie("", 0, false);
    let mut r = match back {
        Some((url, name)) => {
            let mut q = vec![];
            let state = get("state");
            if let Some(s) = state.as_deref() {
                q.push(("state", s));
            }
            to_client(ctx, &with_query(&url, &q), &name, posted)
        }
        None => pages::logged_out(&ctx.config.city.bureau).into_response(),
    };
    if let Ok(v) = HeaderValue::from_str(&clear) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

// ---------- the JSON API of client registration ----------

#[derive(Serialize, ToSchema)]
#[schema(as = SsoCreatedClient)]
pub struct CreatedClient {
    pub client: Client,
    /// The secret of a confidential client, shown only this once (kept as an SM3 hash).
    pub client_secret: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = SsoClientSecret)]
pub struct NewSecret {
    /// Shown only this once; the old secret stops working.
    pub client_secret: String,
}

/// The registered client systems.
#[utoipa::path(get, path = "/api/v1/sso/clients", tag = "sso", responses((status = 200, body = Vec<Client>), (status = 403, body = webcore::error::Problem)))]
async fn api_clients(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> ApiResult<axum::Json<Vec<Client>>> {
    Ok(axum::Json(svc(&ctx).clients(&a).await?))
}

/// Registers a client system; a confidential client's secret is in the answer, once.
#[utoipa::path(post, path = "/api/v1/sso/clients", tag = "sso", request_body = ClientInput,
    responses((status = 201, body = CreatedClient), (status = 422, body = webcore::error::Problem), (status = 403, body = webcore::error::Problem)))]
async fn api_create_client(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(input): Json<ClientInput>,
) -> ApiResult<(StatusCode, axum::Json<CreatedClient>)> {
    let (client, client_secret) = svc(&ctx).create_client(&a, input).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedClient {
            client,
            client_secret,
        }),
    ))
}

/// One client system.
#[utoipa::path(get, path = "/api/v1/sso/clients/{id}", tag = "sso", params(("id" = i64, Path)),
    responses((status = 200, body = Client), (status = 404, body = webcore::error::Problem)))]
async fn api_client(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Client>> {
    Ok(axum::Json(svc(&ctx).client(&a, id).await?))
}

/// Replaces a client system's settings (`enabled: false` disables it).
#[utoipa::path(put, path = "/api/v1/sso/clients/{id}", tag = "sso", params(("id" = i64, Path)), request_body = ClientInput,
    responses((status = 200, body = Client), (status = 422, body = webcore::error::Problem), (status = 404, body = webcore::error::Problem)))]
async fn api_update_client(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(input): Json<ClientInput>,
) -> ApiResult<axum::Json<Client>> {
    Ok(axum::Json(svc(&ctx).update_client(&a, id, input).await?))
}

/// A new secret for a confidential client, shown once.
#[utoipa::path(post, path = "/api/v1/sso/clients/{id}/secret", tag = "sso", params(("id" = i64, Path)),
    responses((status = 200, body = NewSecret), (status = 409, body = webcore::error::Problem), (status = 404, body = webcore::error::Problem)))]
async fn api_new_secret(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<NewSecret>> {
    Ok(axum::Json(NewSecret {
        client_secret: svc(&ctx).new_secret(&a, id).await?,
    }))
}

/// The ID-token signing keys (public facts only).
#[utoipa::path(get, path = "/api/v1/sso/keys", tag = "sso", responses((status = 200, body = Vec<SigningKey>)))]
async fn api_keys(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> ApiResult<axum::Json<Vec<SigningKey>>> {
    Ok(axum::Json(svc(&ctx).signing_keys(&a).await?))
}

/// Rotates the signing key; retired keys stay in the JWKS.
#[utoipa::path(post, path = "/api/v1/sso/keys/rotate", tag = "sso", responses((status = 200, body = SigningKey)))]
async fn api_rotate_key(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> ApiResult<axum::Json<SigningKey>> {
    Ok(axum::Json(svc(&ctx).rotate_key(&a).await?))
}

/// The systems the caller may open from the 统一门户.
#[utoipa::path(get, path = "/api/v1/sso/portal", tag = "sso", responses((status = 200, body = Vec<Client>)))]
async fn api_portal(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> ApiResult<axum::Json<Vec<Client>>> {
    Ok(axum::Json(svc(&ctx).portal(&a).await?))
}

pub(crate) fn err(e: Error) -> webcore::PageError {
    webcore::PageError(e)
}
