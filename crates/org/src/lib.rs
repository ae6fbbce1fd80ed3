//! 组织机构与统一身份: the region tree (GB/T 2260), departments, users and their roles, login
//! sessions and API tokens, and the data scope every other module filters by.
//!
//! Layers: `domain` (types and rules, no I/O) → `store` (this module's SQL, tables `org_*`)
//! → `service` (use cases, authorization, audit, one transaction each) → `http` (thin handlers).

pub mod domain;
pub mod http;
pub mod password;
pub mod service;
mod store;

pub use domain::*;
pub use service::OrgService;

/// Migrations this module needs, with those of the modules it stands on, in order.
pub fn migrations() -> Vec<kernel::migrate::Migration> {
    let mut m = kernel::migrate::kernel_migrations();
    m.push(kernel::migration!("org", 1, "0001_org"));
    m
}
