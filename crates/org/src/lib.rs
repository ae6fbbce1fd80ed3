//! 组织机构与统一身份: the region tree (GB/T 2260), departments, users and their roles, login
//! sessions and API tokens, and the data scope every other module filters by.
//!
//! Layers: `domain` (types and rules, no I/O) → `store` (this module's SQL, tables `org_*`)
//! → `service` (use cases, authorization, audit, one transaction each) → `http` (thin handlers).

pub mod directory;
pub mod domain;
pub mod http;
pub mod password;
mod security_pages;
pub mod service;
mod store;
pub mod totp;
pub mod two_factor;

pub use domain::*;
pub use service::OrgService;

/// This module's own migrations.
pub fn own_migrations() -> Vec<kernel::migrate::Migration> {
    vec![
        kernel::migration!("org", 1, "0001_org"),
        kernel::migration!("org", 2, "0002_password_history"),
        kernel::migration!("org", 3, "0003_user_id_card_index"),
        kernel::migration!("org", 4, "0004_sessions_seen"),
        kernel::migration!("org", 5, "0005_two_factor"),
        kernel::migration!("org", 6, "0006_three_admins"),
        kernel::migration!("org", 7, "0007_sealed_personal_data"),
    ]
}

/// The columns of personal data org keeps sealed at rest (`kernel::sealed`).
pub fn sealed_columns() -> Vec<kernel::sealed::Column> {
    use kernel::sealed::Column;
    vec![
        Column {
            table: "org_users",
            key: "id",
            column: "phone",
            index: Some("phone_idx"),
        },
        Column {
            table: "org_users",
            key: "id",
            column: "id_card",
            index: Some("id_card_idx"),
        },
    ]
}

/// Migrations this module needs, with those of the modules it stands on, in order (for tests
/// and tools that use the module alone).
pub fn migrations() -> Vec<kernel::migrate::Migration> {
    let mut m = kernel::migrate::kernel_migrations();
    m.extend(own_migrations());
    m
}

/// The module as the server sees it ([`webcore::Module`]).
pub fn module() -> webcore::Module {
    use utoipa::OpenApi;
    webcore::Module::new("org")
        .depends_on(&["kernel"])
        .sealed(&sealed_columns())
        .audit_entity("user", "用户", Some("/admin/users/{id}"))
        .audit_entity("department", "单位", None)
        .audit_entity("region", "行政区划", None)
        .audit_entity("session", "会话", None)
        .audit_entity("api_token", "接口令牌", None)
        .audit_actions(&[
            ("login", "登录"),
            ("login_failed", "登录失败"),
            ("logout", "退出登录"),
            ("end_session", "结束会话"),
            ("lockout", "账号锁定"),
            ("change_password", "修改密码"),
            ("rename", "重命名"),
            ("two_factor_enable", "启用双因素认证"),
            ("two_factor_disable", "停用双因素认证"),
            ("two_factor_failed", "动态验证码错误"),
            ("two_factor_reset", "重置双因素认证"),
            ("recovery_code_used", "使用恢复码登录"),
            ("recovery_codes_regenerate", "重新生成恢复码"),
        ])
        .migrations(own_migrations())
        .routes(http::routes())
        .nav(http::nav())
        .openapi(http::OrgApi::openapi())
        .job(webcore::Job::new(
            "expired sessions",
            std::time::Duration::from_secs(3600),
            |ctx| async move {
                OrgService::new(ctx.db.clone(), ctx.config.auth.clone())
                    .sweep()
                    .await
                    .map(|_| ())
            },
        ))
}
