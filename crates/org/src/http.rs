//! Org over HTTP: the JSON API under `/api/v1/org` and `/api/v1/auth`, the login page and the
//! admin pages for regions, departments, users and API tokens. Thin: parse, call the service,
//! render.

use crate::domain::*;
use crate::service::{DepartmentQuery, ManageOrg, ManageSecurity, OrgService, UserQuery};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use kernel::auth::Permission;
use kernel::page::{Page, PageQuery};
use kernel::{Actor, Error, Role};
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use webcore::extract::{cookie, is_https, session_cookie, ClientIp};
use webcore::layout::{self, alert, csrf_input, field_error, notice, page, pager, text_field};
use webcore::{
    ApiActor, ApiResult, AppCtx, FormData, Json, NavItem, PageCtx, PageError, Path, Query,
};

pub(crate) fn svc(ctx: &AppCtx) -> OrgService {
    // The TOTP secrets are sealed under the deployment's one master key (`licenses.master_key`,
    // which also seals the 电子证照 and OIDC signing keys): the only key the configuration holds.
    OrgService::new(ctx.db.clone(), ctx.config.auth.clone())
        .with_master_key(&ctx.config.licenses.master_key)
}

pub fn nav() -> Vec<NavItem> {
    const ADMIN: &[Role] = ManageOrg::ROLES;
    vec![
        NavItem {
            section: "系统管理",
            label: "行政区划",
            href: "/admin/regions",
            roles: ADMIN,
        },
        NavItem {
            section: "系统管理",
            label: "单位",
            href: "/admin/departments",
            roles: ADMIN,
        },
        NavItem {
            section: "系统管理",
            label: "用户",
            href: "/admin/users",
            roles: ADMIN,
        },
        NavItem {
            section: "安全管理",
            label: "角色分配",
            href: "/admin/roles",
            roles: ManageSecurity::ROLES,
        },
        NavItem {
            section: "我的",
            label: "登录会话",
            href: "/account/sessions",
            roles: &Role::STAFF,
        },
        NavItem {
            section: "我的",
            label: "双因素认证",
            href: "/account/two-factor",
            roles: &Role::STAFF,
        },
        NavItem {
            section: "我的",
            label: "API 令牌",
            href: "/account/tokens",
            // A staff word: citizens use the portal, not the API.
            roles: &Role::STAFF,
        },
    ]
}

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/auth/login", post(api_login))
        .route("/api/v1/auth/logout", post(api_logout))
        .route("/api/v1/me", get(api_me))
        .route("/api/v1/me/sessions", get(api_my_sessions))
        .route(
            "/api/v1/org/regions",
            get(api_regions).post(api_create_region),
        )
        .route(
            "/api/v1/org/departments",
            get(api_departments).post(api_create_department),
        )
        .route(
            "/api/v1/org/departments/{id}",
            get(api_department).patch(api_update_department),
        )
        .route("/api/v1/org/users", get(api_users).post(api_create_user))
        .route(
            "/api/v1/org/users/{id}",
            get(api_user).patch(api_update_user),
        )
        .route("/api/v1/org/users/{id}/password", post(api_set_password))
        .route("/api/v1/org/tokens", get(api_tokens).post(api_create_token))
        .route(
            "/api/v1/org/tokens/{id}",
            axum::routing::delete(api_revoke_token),
        )
        .route("/login", get(login_page).post(login_submit))
        .route("/register", get(register_page).post(register_submit))
        .route("/api/v1/auth/register", post(api_register))
        .route("/login/two-factor", post(login_second_submit))
        .route(
            "/account/two-factor",
            get(two_factor_page).post(two_factor_submit),
        )
        .route("/logout", post(logout_submit))
        .route("/admin/regions", get(regions_page).post(regions_submit))
        .route(
            "/admin/departments",
            get(departments_page).post(departments_submit),
        )
        .route(
            "/admin/departments/{id}",
            get(department_page).post(department_submit),
        )
        .route("/admin/users", get(users_page).post(users_submit))
        .route("/admin/users/{id}", get(user_page).post(user_submit))
        .route("/admin/roles", get(crate::security_pages::roles_page))
        .route(
            "/admin/roles/{id}",
            get(crate::security_pages::user_roles_page)
                .post(crate::security_pages::user_roles_submit),
        )
        .route("/account/tokens", get(tokens_page).post(tokens_submit))
        .route(
            "/account/sessions",
            get(sessions_page).post(sessions_submit),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(api_login, api_register, api_logout, api_me, api_regions, api_create_region, api_departments, api_create_department,
          api_department, api_update_department, api_users, api_create_user, api_user, api_update_user,
          api_set_password, api_tokens, api_create_token, api_revoke_token, api_my_sessions),
    components(schemas(LoginRequest, LoginResponse, Registration, Me, Region, NewRegion, Department, NewDepartment, DepartmentChanges,
                       User, NewUser, UserChanges, PasswordChange, ApiToken, NewApiToken, CreatedToken,
                       crate::service::MySession,
                       Page<Department>, Page<User>, kernel::codes::RegionLevel, Role)),
    tags((name = "org", description = "组织机构与统一身份"), (name = "auth", description = "登录与会话"))
)]
pub struct OrgApi;

// ---------- JSON API ----------

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// The 6-digit code of the authenticator app, for users who enrolled a second factor.
    #[serde(default)]
    pub totp: Option<String>,
    /// Instead of `totp`: one of the user's one-time recovery codes (spent by this login).
    #[serde(default)]
    pub recovery_code: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    pub me: Me,
    /// Send this as `X-CSRF-Token` on state-changing calls made with the session cookie.
    pub csrf_token: String,
    pub expires_at: i64,
    /// The policy requires a second factor this user has not enrolled: until they enrol at
    /// `/account/two-factor` (in a browser) every API call with this session is refused (403).
    pub two_factor_enrolment_required: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user_id: Option<i64>,
    pub username: String,
    pub display_name: String,
    pub dept_id: Option<i64>,
    pub roles: Vec<Role>,
    /// Data scope: `all`, `region`, `departments` or `own`.
    pub scope: String,
}

impl From<&Actor> for Me {
    fn from(a: &Actor) -> Self {
        Me {
            user_id: a.user_id,
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            dept_id: a.dept_id,
            roles: a.roles.clone(),
            scope: match a.scope {
                kernel::Scope::All => "all",
                kernel::Scope::Region { .. } => "region",
                kernel::Scope::Departments { .. } => "departments",
                kernel::Scope::Own => "own",
            }
            .into(),
        }
    }
}

/// Logs in with a password (and, for a user with two-factor login, `totp` or `recovery_code`)
/// and sets the session cookie. A missing or wrong second factor is a 422 naming the field.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = webcore::error::Problem),
              (status = 422, body = webcore::error::Problem), (status = 429, body = webcore::error::Problem)))]
async fn api_login(
    State(ctx): State<AppCtx>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Response> {
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let factor = match (req.totp.as_deref(), req.recovery_code.as_deref()) {
        (_, Some(r)) if !r.trim().is_empty() => crate::service::SecondFactor::Recovery(r),
        (Some(t), _) => crate::service::SecondFactor::Totp(t),
        (None, Some(r)) => crate::service::SecondFactor::Recovery(r),
        (None, None) => crate::service::SecondFactor::None,
    };
    let s = svc(&ctx)
        .login_with(&req.username, &req.password, factor, &ip, ua)
        .await?;
    let cookie = session_cookie(
        &s.token,
        ctx.config.auth.session_hours * 3600,
        is_https(&headers, &ctx.config),
    );
    let body = LoginResponse {
        me: Me::from(&s.actor),
        csrf_token: s.csrf,
        expires_at: s.expires_at,
        two_factor_enrolment_required: s.enrol_only,
    };
    Ok(([(header::SET_COOKIE, cookie)], axum::Json(body)).into_response())
}

/// 自助注册: a resident opens their own 市民 account (real name, 身份证号, 手机号). The answer is
/// the account; log in with `/api/v1/auth/login` next. 403 when the platform does not allow it,
/// 429 after too many from one address.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = Registration,
    responses((status = 201, body = User), (status = 403, body = webcore::error::Problem),
              (status = 422, body = webcore::error::Problem), (status = 429, body = webcore::error::Problem)))]
async fn api_register(
    State(ctx): State<AppCtx>,
    ClientIp(ip): ClientIp,
    Json(r): Json<Registration>,
) -> ApiResult<(StatusCode, axum::Json<User>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).register_resident(r, &ip).await?),
    ))
}

/// Ends the current session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
async fn api_logout(
    State(ctx): State<AppCtx>,
    ApiActor(_a): ApiActor,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if let Some(t) = cookie(&headers, webcore::SESSION_COOKIE) {
        svc(&ctx).logout(&t).await?;
    }
    Ok((
        [(header::SET_COOKIE, session_cookie("", 0, false))],
        StatusCode::NO_CONTENT,
    )
        .into_response())
}

/// Who am I: the current user, roles and data scope.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = webcore::error::Problem)))]
async fn api_me(ApiActor(a): ApiActor) -> axum::Json<Me> {
    axum::Json(Me::from(&a))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct RegionQuery {
    pub parent_id: Option<i64>,
    /// Only regions whose code starts with this prefix.
    pub prefix: Option<String>,
}

/// Lists regions (the tree, filtered by parent or code prefix).
#[utoipa::path(get, path = "/api/v1/org/regions", tag = "org", params(RegionQuery), responses((status = 200, body = Vec<Region>)))]
async fn api_regions(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<RegionQuery>,
) -> ApiResult<axum::Json<Vec<Region>>> {
    Ok(axum::Json(
        svc(&ctx)
            .regions(&a, q.parent_id, q.prefix.as_deref())
            .await?,
    ))
}

/// Adds a region; its parent is implied by the code and must exist.
#[utoipa::path(post, path = "/api/v1/org/regions", tag = "org", request_body = NewRegion,
    responses((status = 201, body = Region), (status = 422, body = webcore::error::Problem)))]
async fn api_create_region(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(r): Json<NewRegion>,
) -> ApiResult<(StatusCode, axum::Json<Region>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).create_region(&a, r).await?),
    ))
}

/// Lists departments in the caller's data scope.
#[utoipa::path(get, path = "/api/v1/org/departments", tag = "org", params(DepartmentQuery, PageQuery),
    responses((status = 200, body = Page<Department>)))]
async fn api_departments(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<DepartmentQuery>,
    Query(p): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<Department>>> {
    Ok(axum::Json(svc(&ctx).departments(&a, &q, &p).await?))
}

/// Adds a department.
#[utoipa::path(post, path = "/api/v1/org/departments", tag = "org", request_body = NewDepartment,
    responses((status = 201, body = Department), (status = 422, body = webcore::error::Problem), (status = 409, body = webcore::error::Problem)))]
async fn api_create_department(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(d): Json<NewDepartment>,
) -> ApiResult<(StatusCode, axum::Json<Department>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).create_department(&a, d).await?),
    ))
}

/// One department (403 outside the caller's scope).
#[utoipa::path(get, path = "/api/v1/org/departments/{id}", tag = "org", params(("id" = i64, Path)),
    responses((status = 200, body = Department), (status = 403, body = webcore::error::Problem), (status = 404, body = webcore::error::Problem)))]
async fn api_department(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Department>> {
    Ok(axum::Json(svc(&ctx).department(&a, id).await?))
}

/// Changes a department.
#[utoipa::path(patch, path = "/api/v1/org/departments/{id}", tag = "org", params(("id" = i64, Path)), request_body = DepartmentChanges,
    responses((status = 200, body = Department), (status = 422, body = webcore::error::Problem)))]
async fn api_update_department(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(ch): Json<DepartmentChanges>,
) -> ApiResult<axum::Json<Department>> {
    Ok(axum::Json(svc(&ctx).update_department(&a, id, ch).await?))
}

/// Lists users in the caller's data scope; personal data masked unless the caller may see it.
#[utoipa::path(get, path = "/api/v1/org/users", tag = "org", params(UserQuery, PageQuery), responses((status = 200, body = Page<User>)))]
async fn api_users(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<UserQuery>,
    Query(p): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<User>>> {
    Ok(axum::Json(svc(&ctx).users(&a, &q, &p).await?))
}

/// Adds a user.
#[utoipa::path(post, path = "/api/v1/org/users", tag = "org", request_body = NewUser,
    responses((status = 201, body = User), (status = 422, body = webcore::error::Problem), (status = 409, body = webcore::error::Problem)))]
async fn api_create_user(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(u): Json<NewUser>,
) -> ApiResult<(StatusCode, axum::Json<User>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).create_user(&a, u).await?),
    ))
}

/// One user (403 outside the caller's scope).
#[utoipa::path(get, path = "/api/v1/org/users/{id}", tag = "org", params(("id" = i64, Path)),
    responses((status = 200, body = User), (status = 403, body = webcore::error::Problem)))]
async fn api_user(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<User>> {
    Ok(axum::Json(svc(&ctx).user(&a, id).await?))
}

/// Changes a user's name, department, roles, contact or active flag.
#[utoipa::path(patch, path = "/api/v1/org/users/{id}", tag = "org", params(("id" = i64, Path)), request_body = UserChanges,
    responses((status = 200, body = User), (status = 422, body = webcore::error::Problem)))]
async fn api_update_user(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(ch): Json<UserChanges>,
) -> ApiResult<axum::Json<User>> {
    Ok(axum::Json(svc(&ctx).update_user(&a, id, ch).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub password: String,
    /// Required when users change their own password.
    #[serde(default)]
    pub current_password: Option<String>,
}

/// Sets a user's password (admins, or the user themself); ends their sessions.
#[utoipa::path(post, path = "/api/v1/org/users/{id}/password", tag = "org", params(("id" = i64, Path)), request_body = PasswordChange,
    responses((status = 204), (status = 422, body = webcore::error::Problem)))]
async fn api_set_password(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(p): Json<PasswordChange>,
) -> ApiResult<StatusCode> {
    svc(&ctx)
        .set_password(&a, id, p.current_password.as_deref(), &p.password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's API tokens.
#[utoipa::path(get, path = "/api/v1/org/tokens", tag = "org", responses((status = 200, body = Vec<ApiToken>)))]
async fn api_tokens(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> ApiResult<axum::Json<Vec<ApiToken>>> {
    Ok(axum::Json(svc(&ctx).tokens(&a).await?))
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    /// The token itself, shown only this once. Send it as `Authorization: Bearer <token>`.
    pub token: String,
    pub info: ApiToken,
}

/// Creates an API token for machine clients.
#[utoipa::path(post, path = "/api/v1/org/tokens", tag = "org", request_body = NewApiToken,
    responses((status = 201, body = CreatedToken), (status = 422, body = webcore::error::Problem)))]
async fn api_create_token(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(t): Json<NewApiToken>,
) -> ApiResult<(StatusCode, axum::Json<CreatedToken>)> {
    let (token, info) = svc(&ctx).create_token(&a, t).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedToken { token, info }),
    ))
}

/// The signed-in user's live sessions (browser sign-ins only; an API token is refused).
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "auth", responses((status = 200, body = Vec<crate::service::MySession>), (status = 403, body = webcore::error::Problem)))]
async fn api_my_sessions(
    State(ctx): State<AppCtx>,
    auth: Option<axum::Extension<webcore::Authenticated>>,
    ApiActor(a): ApiActor,
) -> ApiResult<axum::Json<Vec<crate::service::MySession>>> {
    let csrf = auth.and_then(|e| e.0.csrf).unwrap_or_default();
    Ok(axum::Json(svc(&ctx).my_sessions(&a, &csrf).await?))
}

/// Revokes a token.
#[utoipa::path(delete, path = "/api/v1/org/tokens/{id}", tag = "org", params(("id" = i64, Path)), responses((status = 204)))]
async fn api_revoke_token(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    svc(&ctx).revoke_token(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------- pages ----------

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

fn safe_next(next: Option<&str>) -> String {
    // Only local paths: an open redirect would let a phishing link pass through our login.
    webcore::redirect::local_path(next.unwrap_or(""), "/").to_owned()
}

/// The password policy in words, beside every field that sets a password.
const PASSWORD_RULE: &str =
    "至少 10 位，包含大写字母、小写字母、数字、符号中的三类；不能包含用户名，不能是常见密码或最近用过的密码。";

/// The login form's own CSRF token (login CSRF: a form posted from another site must not log
/// the visitor into an account of the attacker's), kept in a cookie of the login page only.
const LOGIN_CSRF_COOKIE: &str = "yiwang_login_csrf";

fn login_csrf_cookie(token: &str, secure: bool) -> String {
    format!(
        "{LOGIN_CSRF_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The login form with a fresh CSRF token and the cookie that holds it.
fn login_answer(
    ctx: &AppCtx,
    headers: &HeaderMap,
    status: StatusCode,
    next: &str,
    username: &str,
    error: Option<&str>,
) -> Response {
    let token = crate::service::random_token(24);
    let cookie = login_csrf_cookie(&token, is_https(headers, &ctx.config));
    (
        status,
        [(header::SET_COOKIE, cookie)],
        login_form(ctx, &token, next, username, error),
    )
        .into_response()
}

fn login_form(ctx: &AppCtx, csrf: &str, next: &str, username: &str, error: Option<&str>) -> Markup {
    layout::public_page(
        &ctx.config.city.bureau,
        "登录",
        html! {
            h1 { "登录" }
            p.muted { (ctx.config.city.bureau) " · 一网统一身份" }
            @if let Some(e) = error { (alert(e)) }
            form method="post" action="/login" {
                input type="hidden" name=(webcore::CSRF_FIELD) value=(csrf);
                input type="hidden" name="next" value=(next);
                (text_field("用户名", "username", username, &[], r#"autocomplete="username" required autofocus"#))
                div.field {
                    label for="password" { "密码" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                }
                button type="submit" { "登录" }
            }
            @if ctx.config.auth.self_registration {
                p { "还没有账号？" a href=(format!("/register?next={}", webcore::query_value(next))) { "注册市民账号" } }
            }
        },
    )
}

/// The registration form's CSRF token, in a cookie of that page only (as for login).
const REGISTER_CSRF_COOKIE: &str = "yiwang_register_csrf";

fn register_form(
    ctx: &AppCtx,
    csrf: &str,
    next: &str,
    r: &Registration,
    errors: &[kernel::FieldError],
    message: Option<&str>,
) -> Markup {
    layout::public_page(
        &ctx.config.city.bureau,
        "注册市民账号",
        html! {
            h1 { "注册市民账号" }
            p.muted { "注册后可在线申办事项、申请开放数据、查看您的电子证照和诉求办理情况。请使用本人真实信息，一个身份证号只能注册一个账号。" }
            @if let Some(m) = message { (alert(m)) }
            (layout::error_summary(errors))
            form #register method="post" action="/register" {
                input type="hidden" name=(webcore::CSRF_FIELD) value=(csrf);
                input type="hidden" name="next" value=(next);
                (text_field("用户名", "username", &r.username, errors,
                    r#"autocomplete="username" required autofocus maxlength="32" placeholder="小写字母开头，3–32 位""#))
                (text_field("姓名", "display_name", &r.display_name, errors, r#"autocomplete="name" required maxlength="30""#))
                (text_field("身份证号", "id_card", &r.id_card, errors, r#"required maxlength="18" inputmode="text" autocomplete="off""#))
                (text_field("手机号", "phone", &r.phone, errors, r#"required maxlength="11" inputmode="tel" autocomplete="tel""#))
                (password_field("密码", "password", errors, "new-password"))
                p.muted { (PASSWORD_RULE) }
                (password_field("确认密码", "password_again", errors, "new-password"))
                button type="submit" { "注册并登录" }
            }
            p { "已有账号？" a href=(format!("/login?next={}", webcore::query_value(next))) { "登录" } }
        },
    )
}

fn password_field(
    label: &str,
    name: &str,
    errors: &[kernel::FieldError],
    autocomplete: &str,
) -> Markup {
    text_field(
        label,
        name,
        "",
        errors,
        &format!(r#"type="password" autocomplete="{autocomplete}" required"#),
    )
}

fn register_answer(
    ctx: &AppCtx,
    headers: &HeaderMap,
    status: StatusCode,
    next: &str,
    r: &Registration,
    errors: &[kernel::FieldError],
    message: Option<&str>,
) -> Response {
    let token = crate::service::random_token(24);
    let cookie =
        format!(
        "{REGISTER_CSRF_COOKIE}={token}; Path=/register; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        if is_https(headers, &ctx.config) { "; Secure" } else { "" }
    );
    let r = Registration {
        password: String::new(),
        password_again: None,
        ..r.clone()
    };
    (
        status,
        [(header::SET_COOKIE, cookie)],
        register_form(ctx, &token, next, &r, errors, message),
    )
        .into_response()
}

async fn register_page(
    State(ctx): State<AppCtx>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<NextQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    if !ctx.config.auth.self_registration {
        return login_answer(
            &ctx,
            &headers,
            StatusCode::FORBIDDEN,
            &next,
            "",
            Some("本平台未开放自助注册，请到政务服务大厅或联系管理员开通账号"),
        );
    }
    register_answer(
        &ctx,
        &headers,
        StatusCode::OK,
        &next,
        &Registration::default(),
        &[],
        None,
    )
}

async fn register_submit(
    State(ctx): State<AppCtx>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    let next = safe_next(Some(form.get("next")));
    let r = Registration {
        username: form.get("username").trim().to_owned(),
        display_name: form.get("display_name").trim().to_owned(),
        id_card: form.get("id_card").trim().to_owned(),
        phone: form.get("phone").trim().to_owned(),
        password: form.get("password").to_owned(),
        password_again: Some(form.get("password_again").to_owned()),
    };
    let expected = cookie(&headers, REGISTER_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || form.get(webcore::CSRF_FIELD) != expected {
        return register_answer(
            &ctx,
            &headers,
            StatusCode::FORBIDDEN,
            &next,
            &r,
            &[],
            Some("注册表单已过期或来源不明，请重新填写"),
        );
    }
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let s = svc(&ctx);
    if let Err(e) = s.register_resident(r.clone(), &ip).await {
        let status = webcore::error::status_of(&e);
        let (errors, message) = match e.field_errors() {
            [] => (Vec::new(), Some(e.detail())),
            f => (f.to_vec(), None),
        };
        return register_answer(
            &ctx,
            &headers,
            status,
            &next,
            &r,
            &errors,
            message.as_deref(),
        );
    }
    match s.login_start(&r.username, &r.password, &ip, &ua).await {
        Ok(crate::service::LoginStep::Session(sess)) => signed_in(&ctx, &headers, *sess, &next),
        _ => Redirect::to("/login").into_response(),
    }
}

async fn login_page(
    State(ctx): State<AppCtx>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<NextQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    login_answer(&ctx, &headers, StatusCode::OK, &next, "", None)
}

async fn login_submit(
    State(ctx): State<AppCtx>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    let next = safe_next(Some(form.get("next")));
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || form.get(webcore::CSRF_FIELD) != expected {
        return login_answer(
            &ctx,
            &headers,
            StatusCode::FORBIDDEN,
            &next,
            form.get("username"),
            Some("登录表单已过期或来源不明，请重新输入用户名和密码"),
        );
    }
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match svc(&ctx)
        .login_start(form.get("username"), form.get("password"), &ip, ua)
        .await
    {
        Ok(crate::service::LoginStep::Session(s)) => signed_in(&ctx, &headers, *s, &next),
        Ok(crate::service::LoginStep::SecondFactor { challenge }) => {
            second_step_form(&ctx, &challenge, &expected, &next, &[]).into_response()
        }
        Err(e) => {
            let status = webcore::error::status_of(&e);
            login_answer(
                &ctx,
                &headers,
                status,
                &next,
                form.get("username"),
                Some(&e.detail()),
            )
        }
    }
}

/// The session cookie of a finished login, and on to where the user was going (or to the
/// enrolment page, when that is all the session may reach).
fn signed_in(
    ctx: &AppCtx,
    headers: &HeaderMap,
    s: crate::service::NewSession,
    next: &str,
) -> Response {
    let cookie = session_cookie(
        &s.token,
        ctx.config.auth.session_hours * 3600,
        is_https(headers, &ctx.config),
    );
    let to = if s.enrol_only {
        "/account/two-factor"
    } else {
        next
    };
    ([(header::SET_COOKIE, cookie)], Redirect::to(to)).into_response()
}

/// The login's second step: the authenticator's code, or a recovery code.
fn second_step_form(
    ctx: &AppCtx,
    challenge: &str,
    csrf: &str,
    next: &str,
    errors: &[kernel::FieldError],
) -> Markup {
    let recovery_error = errors.iter().any(|e| e.field == "recovery_code");
    layout::public_page(
        &ctx.config.city.bureau,
        "双因素认证",
        html! {
            h1 { "双因素认证" }
            p.muted { "密码正确。请打开手机上的认证器应用，输入“一网”账号当前显示的 6 位动态验证码。" }
            (layout::error_summary(errors))
            form #second-step method="post" action="/login/two-factor" {
                input type="hidden" name=(webcore::CSRF_FIELD) value=(csrf);
                input type="hidden" name="challenge" value=(challenge);
                input type="hidden" name="next" value=(next);
                (text_field("动态验证码", "totp", "", errors,
                    r#"inputmode="numeric" autocomplete="one-time-code" maxlength="7" pattern="[0-9 ]*" autofocus"#))
                details #use-recovery open[recovery_error] style="margin:.2em 0 1.2em" {
                    summary { "手机不在身边？使用恢复码" }
                    (text_field("恢复码", "recovery_code", "", errors,
                        r#"autocomplete="off" maxlength="11" placeholder="形如 abcde-fghjk""#))
                    p.muted { "每个恢复码只能使用一次。填写了恢复码时，以恢复码登录。" }
                }
                button type="submit" { "验证并登录" }
            }
            p { a href="/login" { "返回重新登录" } }
        },
    )
}

async fn login_second_submit(
    State(ctx): State<AppCtx>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    let next = safe_next(Some(form.get("next")));
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || form.get(webcore::CSRF_FIELD) != expected {
        return login_answer(
            &ctx,
            &headers,
            StatusCode::FORBIDDEN,
            &next,
            "",
            Some("登录表单已过期或来源不明，请重新输入用户名和密码"),
        );
    }
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let recovery = form.get("recovery_code");
    let factor = if recovery.trim().is_empty() {
        crate::service::SecondFactor::Totp(form.get("totp"))
    } else {
        crate::service::SecondFactor::Recovery(recovery)
    };
    let challenge = form.get("challenge");
    match svc(&ctx).login_finish(challenge, factor, &ip, ua).await {
        Ok(s) => signed_in(&ctx, &headers, s, &next),
        Err(Error::Validation(f)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            second_step_form(&ctx, challenge, &expected, &next, &f),
        )
            .into_response(),
        Err(e) => {
            let status = webcore::error::status_of(&e);
            login_answer(&ctx, &headers, status, &next, "", Some(&e.detail()))
        }
    }
}

async fn logout_submit(State(ctx): State<AppCtx>, headers: HeaderMap, form: FormData) -> Response {
    if let Some(t) = cookie(&headers, webcore::SESSION_COOKIE) {
        // Only with the session's own CSRF token: a cross-site form must not log people out.
        if let Ok(Some(info)) = svc(&ctx).resolve_session(&t).await {
            if info.csrf == form.get(webcore::CSRF_FIELD) {
                let _ = svc(&ctx).logout(&t).await;
            }
        }
    }
    (
        [(header::SET_COOKIE, session_cookie("", 0, false))],
        Redirect::to("/login"),
    )
        .into_response()
}

fn level_label(l: kernel::codes::RegionLevel) -> &'static str {
    l.label()
}

async fn regions_page(State(ctx): State<AppCtx>, p: PageCtx) -> Result<Markup, PageError> {
    p.actor.authorize::<ManageOrg>()?;
    render_regions(&ctx, &p, &[], None, "", "").await
}

async fn render_regions(
    ctx: &AppCtx,
    p: &PageCtx,
    errors: &[kernel::FieldError],
    flash: Option<&str>,
    code: &str,
    name: &str,
) -> Result<Markup, PageError> {
    let regions = svc(ctx).regions(&p.actor, None, None).await?;
    Ok(page(
        p,
        "行政区划",
        html! {
            @if let Some(f) = flash { (notice(f)) }
            (layout::error_summary(errors))
            div.card {
                h2 { "新增区划" }
                p.muted { "省/市/县区用 6 位 GB/T 2260 代码，镇街/村社区用 12 位代码；上级区划由代码确定，须已存在。" }
                form.filters method="post" action="/admin/regions" {
                    (csrf_input(p))
                    (text_field("区划代码", "code", code, errors, r#"required inputmode="numeric" maxlength="12""#))
                    (text_field("名称", "name", name, errors, r#"required maxlength="40""#))
                    button type="submit" { "新增" }
                }
            }
            table {
                thead { tr { th { "代码" } th { "名称" } th { "层级" } } }
                tbody {
                    @for r in &regions {
                        @let depth = match r.level { kernel::codes::RegionLevel::Province => 0, kernel::codes::RegionLevel::City => 1,
                            kernel::codes::RegionLevel::County => 2, kernel::codes::RegionLevel::Town => 3, kernel::codes::RegionLevel::Village => 4 };
                        tr {
                            td.mono { (r.code) }
                            td style=(format!("padding-left:{}em", 0.7 + depth as f32 * 1.2)) { (r.name) }
                            td { (level_label(r.level)) }
                        }
                    }
                }
            }
        },
    ))
}

async fn regions_submit(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    form: FormData,
) -> Result<Response, PageError> {
    p.actor.authorize::<ManageOrg>()?;
    p.check_csrf(form.get(webcore::CSRF_FIELD))?;
    let input = NewRegion {
        code: form.get("code").trim().into(),
        name: form.get("name").into(),
    };
    match svc(&ctx).create_region(&p.actor, input).await {
        Ok(r) => Ok(render_regions(
            &ctx,
            &p,
            &[],
            Some(&format!("已新增 {} {}", r.code, r.name)),
            "",
            "",
        )
        .await?
        .into_response()),
        Err(Error::Validation(f)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_regions(&ctx, &p, &f, None, form.get("code"), form.get("name")).await?,
        )
            .into_response()),
        Err(Error::Conflict { detail, field, .. }) => {
            let f = vec![kernel::FieldError::new(
                field.unwrap_or_else(|| "code".into()),
                "already_exists",
                detail,
            )];
            Ok((
                StatusCode::CONFLICT,
                render_regions(&ctx, &p, &f, None, form.get("code"), form.get("name")).await?,
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    pub(crate) q: Option<String>,
    pub(crate) page: Option<i64>,
    pub(crate) dept_id: Option<i64>,
    pub(crate) role: Option<String>,
}

async fn departments_page(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
) -> Result<Markup, PageError> {
    p.actor.authorize::<ManageOrg>()?;
    render_departments(&ctx, &p, &q, &[], None, &FormData(vec![])).await
}

async fn render_departments(
    ctx: &AppCtx,
    p: &PageCtx,
    q: &ListQuery,
    errors: &[kernel::FieldError],
    flash: Option<&str>,
    form: &FormData,
) -> Result<Markup, PageError> {
    let s = svc(ctx);
    let pq = PageQuery {
        page: q.page,
        per_page: Some(50),
    };
    let list = s
        .departments(
            &p.actor,
            &DepartmentQuery {
                q: q.q.clone(),
                ..Default::default()
            },
            &pq,
        )
        .await?;
    let all = s
        .departments(
            &p.actor,
            &DepartmentQuery::default(),
            &PageQuery {
                page: Some(1),
                per_page: Some(200),
            },
        )
        .await?;
    let regions = s.regions(&p.actor, None, None).await?;
    let qs = format!("/admin/departments?q={}", q.q.clone().unwrap_or_default());
    Ok(page(
        p,
        "单位",
        html! {
            @if let Some(f) = flash { (notice(f)) }
            (layout::error_summary(errors))
            form.filters method="get" action="/admin/departments" role="search" {
                div.field { label for="q" { "查找单位" } input #q type="search" name="q" value=(q.q.clone().unwrap_or_default()) placeholder="名称或简称（按 / 聚焦）"; }
                button.secondary type="submit" { "查找" }
            }
            table {
                thead { tr { th { "名称" } th { "简称" } th { "所属区划" } th { "统一社会信用代码" } th { "状态" } } }
                tbody {
                    @for d in &list.items {
                        tr {
                            td { a href=(format!("/admin/departments/{}", d.id)) { (d.name) } }
                            td { (d.short_name) }
                            td { (d.region_name) }
                            td.mono { (d.credit_code.clone().unwrap_or_default()) }
                            td { @if d.active { span.tag { "启用" } } @else { span.tag.off { "停用" } } }
                        }
                    }
                }
            }
            (pager(&qs, list.page, list.pages(), list.total))
            div.card #new {
                h2 { "新增单位" }
                form method="post" action="/admin/departments" {
                    (csrf_input(p))
                    div.row {
                        (text_field("单位名称", "name", form.get("name"), errors, r#"required maxlength="60""#))
                        (text_field("简称", "short_name", form.get("short_name"), errors, r#"maxlength="20""#))
                    }
                    div.row {
                        div.field {
                            label for="region_code" { "所属区划" }
                            select #region_code name="region_code" required {
                                @for r in regions.iter().filter(|r| r.level <= kernel::codes::RegionLevel::Town) {
                                    option value=(r.code) selected[form.get("region_code") == r.code] { (r.code) " " (r.name) }
                                }
                            }
                            (field_error(errors, "region_code"))
                        }
                        div.field {
                            label for="parent_id" { "上级单位" }
                            select #parent_id name="parent_id" {
                                option value="" { "（无）" }
                                @for d in &all.items { option value=(d.id) selected[form.get("parent_id") == d.id.to_string()] { (d.name) } }
                            }
                            (field_error(errors, "parent_id"))
                        }
                    }
                    div.row {
                        (text_field("统一社会信用代码", "credit_code", form.get("credit_code"), errors, r#"maxlength="18""#))
                        (text_field("联系电话", "phone", form.get("phone"), errors, r#"maxlength="20""#))
                    }
                    (field_error(errors, "(form)"))
                    button type="submit" { "新增单位" }
                }
            }
        },
    ))
}

fn opt_i64(form: &FormData, name: &str) -> Result<Option<i64>, kernel::Error> {
    match form.opt(name) {
        None => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| Error::field(name, "invalid_type", "请选择有效的选项")),
    }
}

fn conflict_to_field(e: Error, default_field: &str) -> Error {
    match e {
        Error::Conflict { detail, field, .. } => Error::field(
            field.unwrap_or_else(|| default_field.into()),
            "already_exists",
            detail,
        ),
        other => other,
    }
}

async fn departments_submit(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    form: FormData,
) -> Result<Response, PageError> {
    p.actor.authorize::<ManageOrg>()?;
    p.check_csrf(form.get(webcore::CSRF_FIELD))?;
    let result = async {
        let input = NewDepartment {
            name: form.get("name").into(),
            short_name: form.opt("short_name"),
            region_code: form.get("region_code").into(),
            parent_id: opt_i64(&form, "parent_id")?,
            credit_code: form.opt("credit_code"),
            phone: form.opt("phone"),
        };
        svc(&ctx)
            .create_department(&p.actor, input)
            .await
            .map_err(|e| conflict_to_field(e, "name"))
    }
    .await;
    match result {
        Ok(d) => {
            Ok(Redirect::to(&format!("/admin/departments/{}?created=1", d.id)).into_response())
        }
        Err(Error::Validation(f)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_departments(&ctx, &p, &ListQuery::default(), &f, None, &form).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(crate) struct FlashQuery {
    created: Option<String>,
    saved: Option<String>,
}

impl FlashQuery {
    /// The line shown above a record just created (`created`) or saved.
    pub(crate) fn message(&self, created: &'static str) -> Option<&'static str> {
        if self.created.is_some() {
            Some(created)
        } else if self.saved.is_some() {
            Some("已保存")
        } else {
            None
        }
    }
}

async fn department_page(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    axum::extract::Query(fq): axum::extract::Query<FlashQuery>,
) -> Result<Markup, PageError> {
    p.actor.authorize::<ManageOrg>()?;
    let flash = fq.message("单位已新增");
    render_department(&ctx, &p, id, &[], flash).await
}

async fn render_department(
    ctx: &AppCtx,
    p: &PageCtx,
    id: i64,
    errors: &[kernel::FieldError],
    flash: Option<&str>,
) -> Result<Markup, PageError> {
    let s = svc(ctx);
    let d = s.department(&p.actor, id).await?;
    let users = s
        .users(
            &p.actor,
            &UserQuery {
                dept_id: Some(id),
                ..Default::default()
            },
            &PageQuery {
                page: Some(1),
                per_page: Some(200),
            },
        )
        .await?;
    Ok(page(
        p,
        &d.name,
        html! {
            @if let Some(f) = flash { (notice(f)) }
            (layout::error_summary(errors))
            div.card {
                form method="post" action=(format!("/admin/departments/{id}")) {
                    (csrf_input(p))
                    div.row {
                        (text_field("单位名称", "name", &d.name, errors, r#"required maxlength="60""#))
                        (text_field("简称", "short_name", &d.short_name, errors, r#"maxlength="20""#))
                    }
                    div.row {
                        (text_field("统一社会信用代码", "credit_code", d.credit_code.as_deref().unwrap_or(""), errors, r#"maxlength="18""#))
                        (text_field("联系电话", "phone", d.phone.as_deref().unwrap_or(""), errors, r#"maxlength="20""#))
                    }
                    p { "所属区划：" (d.region_name) " (" span.mono { (d.region_code) } ")" }
                    div.field {
                        label { input type="checkbox" name="active" value="1" checked[d.active]; " 启用" }
                    }
                    button type="submit" { "保存" }
                }
            }
            h2 { "本单位用户（" (users.total) "）" }
            table {
                thead { tr { th { "用户名" } th { "姓名" } th { "角色" } } }
                tbody {
                    @for u in &users.items {
                        tr {
                            td { a href=(format!("/admin/users/{}", u.id)) { (u.username) } }
                            td { (u.display_name) }
                            td { @for r in &u.roles { span.tag { (r.label()) } } }
                        }
                    }
                }
            }
            p { a href=(format!("/admin/users?dept_id={id}#new")) { "为本单位新增用户" } }
        },
    ))
}

async fn department_submit(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    p.actor.authorize::<ManageOrg>()?;
    p.check_csrf(form.get(webcore::CSRF_FIELD))?;
    let ch = DepartmentChanges {
        name: Some(form.get("name").into()),
        short_name: Some(form.get("short_name").into()),
        parent_id: None,
        credit_code: Some(form.get("credit_code").into()),
        phone: Some(form.get("phone").into()),
        active: Some(form.get("active") == "1"),
    };
    match svc(&ctx)
        .update_department(&p.actor, id, ch)
        .await
        .map_err(|e| conflict_to_field(e, "name"))
    {
        Ok(_) => Ok(Redirect::to(&format!("/admin/departments/{id}?saved=1")).into_response()),
        Err(Error::Validation(f)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_department(&ctx, &p, id, &f, None).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

async fn users_page(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
) -> Result<Markup, PageError> {
    p.actor.authorize::<ManageOrg>()?;
    let preset = FormData(
        q.dept_id
            .map(|d| vec![("dept_id".to_owned(), d.to_string())])
            .unwrap_or_default(),
    );
    render_users(&ctx, &p, &q, &[], None, &preset).await
}

/// The roles the actor may give as checkboxes; a role it may not give is shown, not offered,
/// and kept as it is (三员分立: the system administrator does not give the 三员's roles).
pub(crate) fn role_checkboxes(
    actor: &Actor,
    selected: &[&str],
    errors: &[kernel::FieldError],
) -> Markup {
    html! {
        fieldset.field {
            legend { "角色" }
            div.row style="flex-wrap:wrap" {
                @for r in Role::ALL {
                    @if actor.may_grant(r) {
                        label style="flex:0 0 auto" { input type="checkbox" name="roles" value=(r.code()) checked[selected.contains(&r.code())]; " " (r.label()) }
                    } @else if selected.contains(&r.code()) {
                        input type="hidden" name="roles" value=(r.code());
                        span.tag style="flex:0 0 auto" { (r.label()) }
                    }
                }
            }
            (field_error(errors, "roles"))
        }
    }
}

async fn render_users(
    ctx: &AppCtx,
    p: &PageCtx,
    q: &ListQuery,
    errors: &[kernel::FieldError],
    flash: Option<&str>,
    form: &FormData,
) -> Result<Markup, PageError> {
    let s = svc(ctx);
    let role = q.role.as_deref().and_then(Role::parse);
    let list = s
        .users(
            &p.actor,
            &UserQuery {
                dept_id: q.dept_id,
                role,
                q: q.q.clone(),
            },
            &PageQuery {
                page: q.page,
                per_page: Some(50),
            },
        )
        .await?;
    let depts = s
        .departments(
            &p.actor,
            &DepartmentQuery::default(),
            &PageQuery {
                page: Some(1),
                per_page: Some(200),
            },
        )
        .await?;
    let qs = format!(
        "/admin/users?q={}&role={}",
        q.q.clone().unwrap_or_default(),
        q.role.clone().unwrap_or_default()
    );
    Ok(page(
        p,
        "用户",
        html! {
            @if let Some(f) = flash { (notice(f)) }
            (layout::error_summary(errors))
            form.filters method="get" action="/admin/users" role="search" {
                div.field { label for="q" { "查找用户" } input #q type="search" name="q" value=(q.q.clone().unwrap_or_default()) placeholder="用户名或姓名"; }
                div.field {
                    label for="role" { "角色" }
                    select #role name="role" {
                        option value="" { "全部" }
                        @for r in Role::ALL { option value=(r.code()) selected[q.role.as_deref() == Some(r.code())] { (r.label()) } }
                    }
                }
                button.secondary type="submit" { "查找" }
            }
            table {
                thead { tr { th { "用户名" } th { "姓名" } th { "单位" } th { "角色" } th { "手机" } th { "状态" } } }
                tbody {
                    @for u in &list.items {
                        tr {
                            td { a href=(format!("/admin/users/{}", u.id)) { (u.username) } }
                            td { (u.display_name) }
                            td { (u.dept_name.clone().unwrap_or_default()) }
                            td { @for r in &u.roles { span.tag { (r.label()) } } }
                            td.mono { (u.phone.clone().unwrap_or_default()) }
                            td { @if u.active { span.tag { "启用" } } @else { span.tag.off { "停用" } } }
                        }
                    }
                }
            }
            (pager(&qs, list.page, list.pages(), list.total))
            div.card #new {
                h2 { "新增用户" }
                form method="post" action="/admin/users" {
                    (csrf_input(p))
                    div.row {
                        (text_field("用户名", "username", form.get("username"), errors, r#"required maxlength="32" autocomplete="off""#))
                        (text_field("姓名", "display_name", form.get("display_name"), errors, r#"required maxlength="30""#))
                        div.field {
                            label for="new-password" { "初始密码" }
                            input #new-password type="password" name="password" required autocomplete="new-password"
                                aria-describedby="new-password-hint"
                                aria-invalid=[errors.iter().any(|e| e.field == "password").then_some("true")];
                            small.muted #new-password-hint { (PASSWORD_RULE) }
                            (field_error(errors, "password"))
                        }
                    }
                    div.row {
                        div.field {
                            label for="dept_id" { "所属单位" }
                            select #dept_id name="dept_id" {
                                option value="" { "（无，仅限市民/企业账号）" }
                                @for d in &depts.items { option value=(d.id) selected[form.get("dept_id") == d.id.to_string()] { (d.name) } }
                            }
                            (field_error(errors, "dept_id"))
                        }
                        (text_field("手机号", "phone", form.get("phone"), errors, r#"inputmode="numeric" maxlength="11""#))
                        (text_field("身份证号", "id_card", form.get("id_card"), errors, r#"maxlength="18""#))
                    }
                    (role_checkboxes(&p.actor, &form.all("roles"), errors))
                    button type="submit" { "新增用户" }
                }
            }
        },
    ))
}

pub(crate) fn roles_from(form: &FormData) -> Result<Vec<Role>, Error> {
    form.all("roles")
        .into_iter()
        .map(|r| {
            Role::parse(r)
                .ok_or_else(|| Error::field("roles", "invalid_enum", format!("未知的角色“{r}”")))
        })
        .collect()
}

async fn users_submit(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    form: FormData,
) -> Result<Response, PageError> {
    p.actor.authorize::<ManageOrg>()?;
    p.check_csrf(form.get(webcore::CSRF_FIELD))?;
    let result = async {
        let input = NewUser {
            username: form.get("username").trim().into(),
            display_name: form.get("display_name").into(),
            password: form.get("password").into(),
            dept_id: opt_i64(&form, "dept_id")?,
            roles: roles_from(&form)?,
            phone: form.opt("phone"),
            id_card: form.opt("id_card"),
        };
        svc(&ctx)
            .create_user(&p.actor, input)
            .await
            .map_err(|e| conflict_to_field(e, "username"))
    }
    .await;
    match result {
        Ok(u) => Ok(Redirect::to(&format!("/admin/users/{}?created=1", u.id)).into_response()),
        Err(Error::Validation(f)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_users(&ctx, &p, &ListQuery::default(), &f, None, &form).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

async fn user_page(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    axum::extract::Query(fq): axum::extract::Query<FlashQuery>,
) -> Result<Markup, PageError> {
    p.actor.authorize::<ManageOrg>()?;
    let flash = fq.message("用户已新增");
    render_user(&ctx, &p, id, &[], flash).await
}

async fn render_user(
    ctx: &AppCtx,
    p: &PageCtx,
    id: i64,
    errors: &[kernel::FieldError],
    flash: Option<&str>,
) -> Result<Markup, PageError> {
    let s = svc(ctx);
    let u = s.user(&p.actor, id).await?;
    let depts = s
        .departments(
            &p.actor,
            &DepartmentQuery::default(),
            &PageQuery {
                page: Some(1),
                per_page: Some(200),
            },
        )
        .await?;
    let selected: Vec<&str> = u.roles.iter().map(|r| r.code()).collect();
    let two_factor = s.user_two_factor_enabled(&p.actor, id).await?;
    Ok(page(
        p,
        &format!("用户：{}", u.display_name),
        html! {
            @if let Some(f) = flash { (notice(f)) }
            (layout::error_summary(errors))
            div.card {
                form method="post" action=(format!("/admin/users/{id}")) {
                    (csrf_input(p))
                    input type="hidden" name="action" value="save";
                    p { "用户名：" span.mono { (u.username) } }
                    div.row {
                        (text_field("姓名", "display_name", &u.display_name, errors, r#"required maxlength="30""#))
                        div.field {
                            label for="dept_id" { "所属单位" }
                            select #dept_id name="dept_id" {
                                @for d in &depts.items { option value=(d.id) selected[u.dept_id == Some(d.id)] { (d.name) } }
                            }
                            (field_error(errors, "dept_id"))
                        }
                        (text_field("手机号", "phone", u.phone.as_deref().unwrap_or(""), errors, r#"maxlength="11""#))
                    }
                    (role_checkboxes(&p.actor, &selected, errors))
                    div.field { label { input type="checkbox" name="active" value="1" checked[u.active]; " 启用" } (field_error(errors, "active")) }
                    button type="submit" { "保存" }
                }
            }
            div.card {
                h2 { "重置密码" }
                form method="post" action=(format!("/admin/users/{id}")) data-confirm="确定重置该用户的密码？其已登录的会话和 API 令牌将失效，登录锁定将解除。" {
                    (csrf_input(p))
                    input type="hidden" name="action" value="password";
                    // One's own password is changed with the current one, not reset.
                    @if p.actor.user_id == Some(id) {
                        div.field {
                            label for="current-password" { "当前密码" }
                            input #current-password type="password" name="current_password" autocomplete="current-password" required;
                            (field_error(errors, "current_password"))
                        }
                    }
                    div.field {
                        label for="reset-password" { "新密码" }
                        input #reset-password type="password" name="password" autocomplete="new-password" required
                            aria-describedby="reset-password-hint";
                        small.muted #reset-password-hint { (PASSWORD_RULE) }
                        (field_error(errors, "password"))
                    }
                    button.danger type="submit" { "重置密码" }
                }
            }
            div.card #user-two-factor {
                h2 { "双因素认证" }
                @if two_factor {
                    p { span.tag { "已启用" } " 用户丢失手机时，由安全管理员在“角色分配”中重置。" }
                } @else {
                    p { span.tag.off { "未启用" } }
                }
            }
        },
    ))
}

async fn user_submit(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    p.actor.authorize::<ManageOrg>()?;
    p.check_csrf(form.get(webcore::CSRF_FIELD))?;
    let s = svc(&ctx);
    let result = async {
        if form.get("action") == "password" {
            s.set_password(
                &p.actor,
                id,
                form.opt("current_password").as_deref(),
                form.get("password"),
            )
            .await?;
        } else {
            let phone = form.get("phone").to_owned();
            let ch = UserChanges {
                display_name: Some(form.get("display_name").into()),
                dept_id: opt_i64(&form, "dept_id")?,
                roles: Some(roles_from(&form)?),
                // A masked number shown back unchanged is not a new number.
                phone: if phone.contains('*') {
                    None
                } else {
                    Some(phone)
                },
                id_card: None,
                active: Some(form.get("active") == "1"),
            };
            s.update_user(&p.actor, id, ch).await?;
        }
        Ok::<_, Error>(())
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/admin/users/{id}?saved=1")).into_response()),
        Err(Error::Validation(f)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_user(&ctx, &p, id, &f, None).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

async fn sessions_page(State(ctx): State<AppCtx>, p: PageCtx) -> Result<Markup, PageError> {
    render_sessions(&ctx, &p, false).await
}

async fn render_sessions(ctx: &AppCtx, p: &PageCtx, ended: bool) -> Result<Markup, PageError> {
    let s = svc(ctx);
    let sessions = s.my_sessions(&p.actor, &p.csrf).await?;
    let previous = s.previous_login(&p.actor).await?;
    let idle = ctx.config.auth.idle_minutes;
    Ok(page(
        p,
        "登录会话",
        html! {
            @if ended { (notice("已结束该登录会话，那里的浏览器需要重新登录。")) }
            p #previous-login {
                @match &previous {
                    Some((at, ip)) => { "上次登录：" (kernel::clock::format_minute(*at)) "，来自 " span.mono { (ip) } "。如果不是您本人，请立即修改密码并结束其他会话。" }
                    None => { "这是您第一次登录。" }
                }
            }
            p.muted {
                "以下是您账号当前有效的登录。"
                @if idle > 0 { "超过 " (idle) " 分钟无操作的会话自动结束；" }
                "每次登录最长保持 " (ctx.config.auth.session_hours) " 小时。"
            }
            table #sessions {
                thead { tr { th { "浏览器" } th { "地址" } th { "登录时间" } th { "最近活动" } th { "到期" } th {} } }
                tbody {
                    @for x in &sessions {
                        tr {
                            td { (x.browser) @if x.current { " " span.tag { "当前" } } }
                            td.mono { (x.ip) }
                            td { (kernel::clock::format_minute(x.created_at)) }
                            td { (kernel::clock::format_minute(x.last_seen_at)) }
                            td { (kernel::clock::format_minute(x.expires_at)) }
                            td {
                                @if !x.current {
                                    form method="post" action="/account/sessions" data-confirm="确定结束这个登录会话？" {
                                        (csrf_input(p))
                                        input type="hidden" name="id" value=(x.id);
                                        button.secondary type="submit" { "结束" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

async fn sessions_submit(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    form: FormData,
) -> Result<Response, PageError> {
    p.check_csrf(form.get(webcore::CSRF_FIELD))?;
    svc(&ctx).end_my_session(&p.actor, form.get("id")).await?;
    Ok(render_sessions(&ctx, &p, true).await?.into_response())
}

async fn tokens_page(State(ctx): State<AppCtx>, p: PageCtx) -> Result<Markup, PageError> {
    render_tokens(&ctx, &p, &[], None).await
}

async fn render_tokens(
    ctx: &AppCtx,
    p: &PageCtx,
    errors: &[kernel::FieldError],
    created: Option<&str>,
) -> Result<Markup, PageError> {
    let tokens = svc(ctx).tokens(&p.actor).await?;
    Ok(page(
        p,
        "API 令牌",
        html! {
            (layout::error_summary(errors))
            p.muted { "供其他系统调用 /api/v1 时使用：请求头 Authorization: Bearer <令牌>。令牌只显示一次，系统只保存其哈希。" }
            @if let Some(t) = created {
                div.notice role="status" { "新令牌（请立即复制保存）：" code #new-token { (t) } }
            }
            div.card {
                h2 { "创建令牌" }
                form.filters method="post" action="/account/tokens" {
                    (csrf_input(p))
                    input type="hidden" name="action" value="create";
                    (text_field("名称", "name", "", errors, r#"required maxlength="60" placeholder="如：区网格系统""#))
                    (text_field("权限范围", "scopes", "org:read", errors, r#"required placeholder="空格分隔，如 org:read org:write""#))
                    (text_field("有效天数", "expires_in_days", "365", errors, r#"inputmode="numeric""#))
                    button type="submit" { "创建" }
                }
            }
            table {
                thead { tr { th { "名称" } th { "前缀" } th { "权限范围" } th { "创建" } th { "最近使用" } th { "状态" } th {} } }
                tbody {
                    @for t in &tokens {
                        tr {
                            td { (t.name) }
                            td.mono { (t.prefix) "…" }
                            td { @for s in &t.scopes { span.tag { (s) } } }
                            td { (kernel::clock::format_minute(t.created_at)) }
                            td { (t.last_used_at.map(kernel::clock::format_minute).unwrap_or_else(|| "从未".into())) }
                            td { @if t.revoked_at.is_some() { span.tag.off { "已吊销" } } @else { span.tag { "有效" } } }
                            td {
                                @if t.revoked_at.is_none() {
                                    form method="post" action="/account/tokens" data-confirm="确定吊销这个令牌？使用它的系统将立即无法访问。" {
                                        (csrf_input(p))
                                        input type="hidden" name="action" value="revoke";
                                        input type="hidden" name="id" value=(t.id);
                                        button.secondary type="submit" { "吊销" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

async fn tokens_submit(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    form: FormData,
) -> Result<Response, PageError> {
    p.check_csrf(form.get(webcore::CSRF_FIELD))?;
    let s = svc(&ctx);
    if form.get("action") == "revoke" {
        let id =
            opt_i64(&form, "id")?.ok_or_else(|| Error::field("id", "required", "缺少令牌编号"))?;
        s.revoke_token(&p.actor, id).await?;
        return Ok(Redirect::to("/account/tokens").into_response());
    }
    let days = form.opt("expires_in_days").map(|d| {
        d.parse::<i64>()
            .map_err(|_| Error::field("expires_in_days", "invalid_type", "有效天数应为整数"))
    });
    let result = match days.transpose() {
        Err(e) => Err(e),
        Ok(expires_in_days) => {
            let input = NewApiToken {
                name: form.get("name").into(),
                scopes: form
                    .get("scopes")
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect(),
                expires_in_days,
            };
            s.create_token(&p.actor, input).await
        }
    };
    match result {
        Ok((plain, _)) => Ok(render_tokens(&ctx, &p, &[], Some(&plain))
            .await?
            .into_response()),
        Err(Error::Validation(f)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_tokens(&ctx, &p, &f, None).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

// ---------- two-factor login ----------

async fn two_factor_page(State(ctx): State<AppCtx>, p: PageCtx) -> Result<Markup, PageError> {
    render_two_factor(&ctx, &p, &[], None, None).await
}

async fn render_two_factor(
    ctx: &AppCtx,
    p: &PageCtx,
    errors: &[kernel::FieldError],
    recovery_codes: Option<&[String]>,
    flash: Option<&str>,
) -> Result<Markup, PageError> {
    let s = svc(ctx);
    let st = s.two_factor_status(&p.actor).await?;
    let field = |name: &str, label: &str, id: &str, attrs: &str| {
        let bad = errors.iter().any(|e| e.field == name);
        html! {
            div.field {
                label for=(id) { (label) }
                @if name == "password" {
                    input #(id) type="password" name=(name) autocomplete="current-password"
                        aria-invalid=[bad.then_some("true")];
                } @else {
                    input #(id) type="text" name=(name) inputmode="numeric" autocomplete="one-time-code"
                        maxlength="7" aria-invalid=[bad.then_some("true")] placeholder=(attrs);
                }
                (field_error(errors, name))
            }
        }
    };
    let enrolment = if !st.enabled && st.available && recovery_codes.is_none() {
        Some(s.begin_enrolment(&p.actor).await?)
    } else {
        None
    };
    Ok(page(
        p,
        "双因素认证",
        html! {
            @if let Some(f) = flash { (notice(f)) }
            (layout::error_summary(errors))
            @if let Some(codes) = recovery_codes {
                div.card #recovery {
                    h2 { "恢复码" }
                    (notice("双因素认证已启用。以下 10 个恢复码只显示这一次，请立即抄写或打印，妥善保存。"))
                    p.muted { "手机丢失或无法使用认证器时，可在登录的第二步用一个恢复码代替动态验证码；每个恢复码只能使用一次。" }
                    ol #recovery-codes {
                        @for c in codes { li { code { (c) } } }
                    }
                    p { a href="/" { "已保存，继续使用系统" } }
                }
            } @else if st.enabled {
                div.card {
                    h2 { "当前状态" }
                    p #two-factor-status { span.tag { "已启用" } " 登录时需要输入认证器应用中的动态验证码。剩余可用恢复码 " strong { (st.recovery_codes_left) } " 个。" }
                }
                div.card {
                    h2 { "重新生成恢复码" }
                    p.muted { "生成后，原有的恢复码全部失效。" }
                    form #regenerate method="post" action="/account/two-factor" {
                        (csrf_input(p))
                        input type="hidden" name="action" value="regenerate";
                        (field("code", "动态验证码", "regenerate-code", "6 位数字"))
                        button type="submit" { "重新生成" }
                    }
                }
                div.card {
                    h2 { "停用双因素认证" }
                    p.muted {
                        "输入当前的动态验证码，或输入登录密码。"
                        @if st.required { "按本系统安全策略，您的账号须使用双因素认证：停用后须立即重新绑定才能继续使用系统（例如更换手机时）。" }
                    }
                    form #disable method="post" action="/account/two-factor" data-confirm="确定停用双因素认证？" {
                        (csrf_input(p))
                        input type="hidden" name="action" value="disable";
                        div.row {
                            (field("code", "动态验证码", "disable-code", "6 位数字"))
                            (field("password", "或登录密码", "disable-password", ""))
                        }
                        button.danger type="submit" { "停用" }
                    }
                }
            } @else if !st.available {
                (alert("系统未配置主密钥（licenses.master_key），暂时无法启用双因素认证，请联系系统管理员。"))
            } @else if let Some(e) = &enrolment {
                @if st.required {
                    div.alert role="alert" #enrol-required { "按本系统安全策略，您的账号须启用双因素认证后才能使用其他功能。" }
                }
                div.card #enrol {
                    h2 { "绑定认证器" }
                    ol {
                        li { "在手机上安装支持基于时间的动态验证码的认证器应用。" }
                        li { "在应用中选择“扫描二维码”，扫描下方二维码；无法扫描时，选择“手动输入密钥”，输入二维码旁的密钥（账号填写您的用户名，类型选“基于时间”）。" }
                        li { "输入应用中“一网”账号当前显示的 6 位数字，完成绑定。" }
                    }
                    div style="display:flex;flex-wrap:wrap;gap:1.5em 2.5em;align-items:flex-start" {
                        div.qr #totp-qr aria-label="绑定用二维码" { (maud::PreEscaped(&e.qr_svg)) }
                        div style="flex:1;min-width:16em" {
                            p { "密钥：" code #totp-secret { (crate::totp::grouped(&e.secret)) } }
                            p.muted { "在手机浏览器中打开本页时，可 " a #totp-uri href=(e.uri) { "直接在认证器应用中添加" } "。" }
                            form #enrol-form method="post" action="/account/two-factor" {
                                (csrf_input(p))
                                input type="hidden" name="action" value="enable";
                                (field("code", "动态验证码", "enrol-code", "6 位数字"))
                                button type="submit" { "验证并启用" }
                            }
                        }
                    }
                }
            }
        },
    ))
}

async fn two_factor_submit(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    form: FormData,
) -> Result<Response, PageError> {
    p.check_csrf(form.get(webcore::CSRF_FIELD))?;
    let s = svc(&ctx);
    let result = match form.get("action") {
        "enable" => s
            .confirm_enrolment(&p.actor, form.get("code"))
            .await
            .map(|codes| (Some(codes), None)),
        "regenerate" => s
            .regenerate_recovery_codes(&p.actor, form.get("code"))
            .await
            .map(|codes| (Some(codes), None)),
        "disable" => s
            .disable_two_factor(&p.actor, Some(form.get("code")), Some(form.get("password")))
            .await
            .map(|()| (None, Some("双因素认证已停用。"))),
        _ => Err(Error::field("action", "invalid_enum", "未知的操作")),
    };
    match result {
        Ok((codes, flash)) => Ok(render_two_factor(&ctx, &p, &[], codes.as_deref(), flash)
            .await?
            .into_response()),
        Err(Error::Validation(f)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render_two_factor(&ctx, &p, &f, None, None).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}
