//! 12345 hotline (民意速办): tickets from intake to archive, dispatch, deadlines on the working
//! calendar, callbacks, supervision, the knowledge base and reply templates.
//!
//! Sub-domains, each `domain` (pure) → `store` (its SQL, private) → `service` (`impl
//! HotlineService`: authorization, one transaction per change with its timeline event and audit
//! record) → `http`: `ticket` (tickets, categories, deadlines), `kb` (knowledge base, reply
//! templates), `intel` (classification, routing rules, dispatch suggestions, automatic dispatch)
//! and `search`. The ticket core emits a [`ticket::TicketChange`] for every change; what reacts
//! to it (notification outbox, dispatch feedback) is wired here, in [`service`], with the
//! intake's [`ticket::FollowUp`] (duplicate look and dispatch suggestion, worked out before the
//! intake's transaction and stored in it; automatic dispatch after it).

pub mod alerts;
pub mod attachments;
mod follow_up;
pub mod http;
pub mod intel;
pub mod kb;
pub mod notices;
mod notify_observer;
pub mod open311;
pub mod pages;
pub mod report;
pub mod search;
pub mod service;
pub mod ticket;
pub mod transfer;

pub use service::HotlineService;

/// The hotline's types from every sub-domain, for other crates and tests.
pub mod domain {
    pub use crate::kb::domain::*;
    pub use crate::ticket::domain::*;
}

/// What reacts to ticket changes, in this order, inside the change's transaction: the
/// notification outbox, dispatch feedback and category corrections for the models.
pub fn ticket_observers(db: &kernel::Db) -> kernel::events::Observers<ticket::TicketChange> {
    kernel::events::Observers::new()
        .with(notify_observer::OutboxObserver::new(db))
        .with(intel::FeedbackObserver)
}

/// The hotline service with its default observers and follow-up (suggestions and automatic
/// dispatch after intake) — what the server, tools and tests use.
pub fn service(
    db: kernel::Db,
    city: impl Into<String>,
    auto_dispatch_threshold: f64,
) -> HotlineService {
    let observers = ticket_observers(&db);
    let follow_up = std::sync::Arc::new(follow_up::IntakeFollowUp::new(&db));
    HotlineService::with_observers(db, city, observers, Some(follow_up))
        .with_auto_dispatch_threshold(auto_dispatch_threshold)
}

/// This module's own migrations.
pub fn own_migrations() -> Vec<kernel::migrate::Migration> {
    vec![
        kernel::migration!("hotline", 1, "0001_hotline"),
        kernel::migration!("hotline", 2, "0002_import"),
        kernel::migration!("hotline", 3, "0003_notify"),
        kernel::migration!("hotline", 5, "0005_attachments"),
        kernel::migration!("hotline", 6, "0006_intel_dispatch"),
        kernel::migration!("hotline", 7, "0007_intel_search", dialects),
        kernel::migration!("hotline", 8, "0008_notify_moved", dialects),
        kernel::migration!("hotline", 9, "0009_sealed_caller_phone"),
    ]
}

/// The columns of personal data hotline keeps sealed at rest (`kernel::sealed`).
pub fn sealed_columns() -> Vec<kernel::sealed::Column> {
    vec![kernel::sealed::Column {
        table: "hotline_tickets",
        key: "id",
        column: "caller_phone",
        index: Some("caller_phone_idx"),
    }]
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
        .sealed(&sealed_columns())
        .audit_entity("ticket", "工单", Some("/hotline/tickets/{id}"))
        .audit_entity("kb_article", "知识库文章", Some("/hotline/kb/{id}"))
        .audit_entity("category", "诉求分类", None)
        .audit_entity("taxonomy", "分类体系", None)
        .audit_entity("routing_rule", "派单规则", None)
        .audit_entity("reply_template", "答复模板", None)
        .audit_entity("deadline_policy", "办理时限规则", None)
        .audit_entity("hotline_alert", "热点预警", None)
        .audit_entity("hotline_model", "分类模型", None)
        .audit_actions(&[
            ("answer_now", "即时解答"),
            ("submit_for_dispatch", "转派单"),
            ("dispatch", "派单"),
            ("recall", "撤回派单"),
            ("acknowledge", "签收"),
            ("start", "开始办理"),
            ("return", "退单"),
            ("request_extension", "申请延期"),
            ("decide_extension", "审批延期"),
            ("pause", "挂起"),
            ("resume", "恢复办理"),
            ("reply", "答复"),
            ("callback", "回访"),
            ("reopen", "重办"),
            ("supervise", "督办"),
            ("archive", "归档"),
            ("merge", "合并"),
            ("follow_parent", "随主工单答复"),
            ("split", "拆分"),
            ("card", "亮牌"),
            ("raise", "发出预警"),
            ("reviewed", "审核"),
            ("published", "发布"),
            ("set_questions", "设置追问"),
            ("reorder", "调整顺序"),
            ("activate", "启用"),
            ("train", "训练"),
        ])
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
        .lookup(ticket::http::lookup)
        .openapi(http::HotlineApi::openapi())
        .openapi(http::KbApi::openapi())
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
