//! 一网通办: service items (事项) and their 实施清单, 一件事 bundles, cases (办件) from
//! application to delivery, 好差评 with 差评整改, 办不成事反映, and the service-hall reports.
//!
//! One folder per sub-domain, each with the same inner shape — `domain` (pure types and rules),
//! `store` (its SQL, private to the crate), `service` (its use cases, as an `impl` block of
//! [`ServicesService`]: authorization, one transaction per change with its timeline event and
//! audit record) and `http` (its JSON API): `items` (事项, versions, the 实施清单 import/export),
//! `bundles` (一件事), `cases` (办件, the state machine, 秒批 rules, the card sweep), `evaluation`
//! (好差评, 差评整改, 办不成事反映), `report` (the figures) and `search` (the 办事指南 index).
//! `domain` re-exports every sub-domain's types; `service` holds the facade and the permissions;
//! `pages` the server-rendered pages, one file per page group, calling only the service.

pub mod bundles;
pub mod cases;
pub mod domain;
pub mod evaluation;
pub mod http;
pub mod items;
pub mod notices;
pub mod pages;
pub mod report;
pub mod search;
pub mod service;
mod store;

pub use items::import;
pub use service::ServicesService;

/// This module's own migrations.
pub fn own_migrations() -> Vec<kernel::migrate::Migration> {
    vec![
        kernel::migration!("services", 1, "0001_services"),
        kernel::migration!("services", 2, "0002_notices"),
    ]
}

/// Migrations this module needs, with those of the modules it stands on, in order (for tests
/// and tools that use the module alone).
pub fn migrations() -> Vec<kernel::migrate::Migration> {
    let mut m = notify::migrations();
    m.extend(own_migrations());
    m
}

/// The module as the server sees it ([`webcore::Module`]).
pub fn module() -> webcore::Module {
    use utoipa::OpenApi;
    webcore::Module::new("services")
        .depends_on(&["org", "notify", "licenses"])
        .audit_entity("case", "办件", Some("/services/cases/{id}"))
        .audit_entity("bundle_case", "一件事申请", None)
        .audit_entity("service_item", "服务事项", Some("/guide/items/{id}"))
        .audit_entity("bundle", "一件事", Some("/guide/bundles/{id}"))
        .audit_entity("evaluation", "好差评", None)
        .audit_entity("feedback", "意见建议", None)
        .audit_entity("rectification", "差评整改", None)
        .audit_actions(&[
            ("precheck", "预审"),
            ("accept", "受理"),
            ("reject", "不予受理"),
            ("request_supplement", "一次性告知补正"),
            ("supply", "补正材料"),
            ("supply_tolerated", "补齐容缺材料"),
            ("start_special", "进入特别程序"),
            ("end_special", "特别程序结束"),
            ("decide", "作出决定"),
            ("close", "办结"),
            ("deliver", "出件"),
            ("withdraw", "撤回申请"),
            ("evaluate", "评价"),
            ("answer", "答复"),
            ("open", "立项"),
            ("review", "复核"),
            ("edit", "编辑"),
        ])
        .migrations(own_migrations())
        .routes(
            axum::Router::new()
                .merge(http::routes())
                .merge(pages::routes()),
        )
        .nav(http::nav())
        .lookup(cases::http::lookup)
        .openapi(http::ServicesApi::openapi())
        // Cards on cases, compare-and-set per case like the hotline's.
        .job(webcore::Job::new(
            "case cards",
            std::time::Duration::from_secs(60),
            |ctx| async move { http::svc(&ctx).sweep_cards().await.map(|_| ()) },
        ))
}
