//! 12345 hotline (民意速办): tickets from intake to archive, dispatch, deadlines on the working
//! calendar, callbacks, supervision, the knowledge base and reply templates.
//!
//! Layers: `domain` (the ticket state machine and rules, pure) → `store` (SQL on `hotline_*`)
//! → `service` (`HotlineService`: authorization, one transaction per change with its timeline
//! event and audit record) → `http` (JSON API). `intel` adds classification served from the
//! database, routing rules, dispatch suggestions and automatic dispatch.

pub mod attachments;
pub mod domain;
pub mod export;
pub mod http;
pub mod import;
pub mod intel;
pub mod notify;
pub mod open311;
pub mod pages;
pub mod pages_b;
pub mod report;
pub mod service;
pub mod store;

pub use service::HotlineService;

/// Migrations this module needs, with those of the modules it stands on, in order.
pub fn migrations() -> Vec<kernel::migrate::Migration> {
    let mut m = org::migrations();
    m.push(kernel::migration!("hotline", 1, "0001_hotline"));
    m.push(kernel::migration!("hotline", 2, "0002_import"));
    m.push(kernel::migration!("hotline", 3, "0003_notify"));
    m.push(kernel::migration!("hotline", 5, "0005_attachments"));
    m.push(kernel::migration!("hotline", 6, "0006_intel_dispatch"));
    m
}
