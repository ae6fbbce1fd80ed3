//! 一网共享: the 政务信息资源目录 (entries, versions, 编目 → 审核 → 发布, Chinese search), 挂接
//! (tables held in yiwang, loaded from .csv/.xlsx or pushed by API, rows checked against the
//! 信息项), 申请用数 with an approval chain per 共享属性 and expiring grants, and the gateway
//! that serves granted fields only, masked per grant, with an SM3-chained call log.
//!
//! Sub-domains, each with `domain` (pure), `store` (its SQL, private), `service` (its use cases
//! as an `impl` block of [`SharingService`]) and `http`: `catalog`, `mount`, `grants`,
//! `gateway`; `figures` computes over them; `pages` renders them.

pub mod backflow;
pub mod catalog;
pub mod duties;
pub mod figures;
pub mod gateway;
pub mod grants;
pub mod http;
pub mod mount;
pub mod objections;
pub mod open;
pub mod pages;
pub mod service;
mod store;

pub use service::SharingService;

/// This module's own migrations.
pub fn own_migrations() -> Vec<kernel::migrate::Migration> {
    vec![
        kernel::migration!("sharing", 1, "0001_sharing"),
        kernel::migration!("sharing", 2, "0002_objections"),
        kernel::migration!("sharing", 3, "0003_backflow"),
        kernel::migration!("sharing", 4, "0004_catalog_generation", dialects),
        kernel::migration!("sharing", 5, "0005_rows_page"),
        kernel::migration!("sharing", 6, "0006_notify"),
        kernel::migration!("sharing", 7, "0007_call_archives"),
    ]
}

/// Migrations this module needs, with those of the modules it stands on, in order.
pub fn migrations() -> Vec<kernel::migrate::Migration> {
    let mut m = org::migrations();
    m.extend(notify::own_migrations());
    m.extend(own_migrations());
    m
}

/// The module as the server sees it ([`webcore::Module`]).
pub fn module() -> webcore::Module {
    use utoipa::OpenApi;
    webcore::Module::new("sharing")
        .depends_on(&["org", "notify"])
        .audit_entity("sharing_entry", "共享目录", Some("/sharing/catalog/{id}"))
        .audit_entity("sharing_resource", "挂接资源", None)
        .audit_entity(
            "sharing_request",
            "用数申请",
            Some("/sharing/approvals/{id}"),
        )
        .audit_entity("sharing_grant", "用数授权", Some("/sharing/grants/{id}"))
        .audit_entity("sharing_system", "应用系统", None)
        .audit_entity("sharing_settings", "共享设置", None)
        .audit_entity(
            "sharing_backflow",
            "回流任务",
            Some("/sharing/backflows/{id}"),
        )
        .audit_entity(
            "sharing_objection",
            "数据异议",
            Some("/sharing/objections/{id}"),
        )
        .audit_actions(&[
            ("mount", "挂接"),
            ("refuse", "不同意"),
            ("load", "装载数据"),
            ("bind_token", "绑定令牌"),
            ("set_bureau", "设置主管部门"),
            ("sharing_objection.raise", "提出异议"),
            ("sharing_backflow.run", "运行回流"),
            ("enable", "启用"),
            ("disable", "停用"),
            ("sharing_objection.answer", "核实答复"),
        ])
        .migrations(own_migrations())
        .routes(http::routes())
        .routes(pages::routes())
        .nav(http::nav())
        .openapi(http::SharingApi::openapi())
        .job(webcore::Job::new(
            "回流 tasks that are due",
            std::time::Duration::from_secs(60),
            |ctx| async move { http::svc(&ctx).run_due_backflows().await.map(|_| ()) },
        ))
        .job(webcore::Job::new(
            "用数授权到期提醒",
            std::time::Duration::from_secs(3600),
            |ctx| async move { http::svc(&ctx).notify_expiring_grants().await.map(|_| ()) },
        ))
}
