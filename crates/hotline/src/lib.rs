//! 12345 hotline (民意速办): tickets from intake to archive, dispatch, deadlines on the working
//! calendar, callbacks, supervision, the knowledge base and reply templates.
//!
//! Layers: `domain` (the ticket state machine and rules, pure) → `store` (SQL on `hotline_*`)
//! → `service` (`HotlineService`: authorization, one transaction per change with its timeline
//! event and audit record) → `http` (JSON API). `intel` adds classification served from the
//! database, routing rules, dispatch suggestions and automatic dispatch.

pub mod alerts;
pub mod attachments;
pub mod domain;
pub mod http;
pub mod intel;
pub mod notices;
pub mod open311;
pub mod pages;
pub mod report;
pub mod search;
pub mod service;
pub mod store;
pub mod transfer;

pub use service::HotlineService;

/// This module's own migrations.
pub fn own_migrations() -> Vec<kernel::migrate::Migration> {
    vec![
        kernel::migration!("hotline", 1, "0001_hotline"),
        kernel::migration!("hotline", 2, "0002_import"),
        kernel::migration!("hotline", 3, "0003_notify"),
        kernel::migration!("hotline", 5, "0005_attachments"),
        kernel::migration!("hotline", 6, "0006_intel_dispatch"),
        kernel::migration!("hotline", 7, "0007_intel_search"),
        kernel::migration!("hotline", 8, "0008_notify_moved"),
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
    use std::time::Duration;
    use utoipa::OpenApi;
    use webcore::Job;
    webcore::Module::new("hotline")
        .depends_on(&["org", "notify"])
        .migrations(own_migrations())
        .routes(
            axum::Router::new()
                .merge(http::routes())
                .merge(pages::routes())
                .merge(open311::routes())
                .merge(transfer::routes())
                .merge(report::routes())
                .merge(intel::http::routes())
                .merge(attachments::routes())
                .merge(search::routes())
                .merge(alerts::routes()),
        )
        .nav(http::nav())
        .nav(pages::nav())
        .openapi(http::HotlineApi::openapi())
        .openapi(attachments::AttachmentApi::openapi())
        .openapi(transfer::ImportApi::openapi())
        .openapi(transfer::ExportApi::openapi())
        .openapi(report::ReportApi::openapi())
        .openapi(intel::http::IntelApi::openapi())
        .openapi(search::SearchApi::openapi())
        .openapi(alerts::AlertApi::openapi())
        // Yellow and red cards; a compare-and-set per ticket keeps several instances honest.
        .job(Job::new(
            "ticket cards",
            Duration::from_secs(60),
            |ctx| async move { http::svc(&ctx).sweep_cards().await.map(|_| ()) },
        ))
        // 研判告警: an alert already raised is refreshed, not raised again.
        .job(Job::new(
            "weak-signal alerts",
            Duration::from_secs(3600),
            |ctx| async move { alerts::run(&ctx.db, ctx.db.now()).await.map(|_| ()) },
        ))
}
