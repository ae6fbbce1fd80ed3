//! 统一身份认证: yiwang as an OpenID Connect provider for the bureau's other systems —
//! discovery, JWKS, the authorization code flow with PKCE, consent remembered per user and
//! client, ID tokens (ES256) and userinfo with department, region and role claims, refresh
//! tokens rotated in families, RP-initiated logout — client systems registered by an
//! administrator, and the 统一门户 that opens them after one login.
//!
//! Layers: `domain` (clients, requests, PKCE, OAuth errors; pure), `jose` (ID tokens and keys;
//! pure), `store` (SQL on `sso_*`, private), `service` (use cases, audit), `http` (protocol
//! endpoints and the JSON API), `pages` (门户, consent, logout, 接入系统). Org only through
//! `OrgService` and `org::directory`.

pub mod domain;
pub mod http;
pub mod jose;
pub mod pages;
pub mod service;
mod store;

pub use service::SsoService;

/// This module's own migrations.
pub fn own_migrations() -> Vec<kernel::migrate::Migration> {
    vec![kernel::migration!("sso", 1, "0001_sso")]
}

/// Migrations this module needs, with those of the modules it stands on, in order.
pub fn migrations() -> Vec<kernel::migrate::Migration> {
    let mut m = org::migrations();
    m.extend(own_migrations());
    m
}

/// The module as the server sees it ([`webcore::Module`]).
pub fn module() -> webcore::Module {
    use utoipa::OpenApi;
    webcore::Module::new("sso")
        .depends_on(&["org"])
        .audit_entity("sso_client", "接入系统", None)
        .audit_entity("sso_grant", "登录授权", None)
        .audit_entity("sso_session", "登录会话", None)
        .audit_entity("sso_key", "签名密钥", None)
        .audit_actions(&[
            ("sso_client.login", "单点登录"),
            ("sso_client.login_refused", "拒绝登录"),
            ("sso_client.disable", "停用"),
            ("sso_client.enable", "启用"),
            ("sso_client.new_secret", "重置密钥"),
            ("sso_key.rotate", "轮换"),
        ])
        .migrations(own_migrations())
        .routes(http::routes())
        .routes(pages::routes())
        .nav(http::nav())
        .openapi(http::SsoApi::openapi())
        .job(webcore::Job::new(
            "expired sign-on codes and tokens",
            std::time::Duration::from_secs(3600),
            |ctx| async move { http::svc(&ctx).sweep().await.map(|_| ()) },
        ))
}
