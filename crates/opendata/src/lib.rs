//! 开放数据: the public open-data portal over the catalog's open entries (开放属性 无条件开放 /
//! 有条件开放, read through sharing's public service): the CKAN Action API, DCAT-AP 3 in
//! Turtle, RDF/XML and JSON-LD, downloads (CSV and JSON streamed, XLSX), view/download/API
//! counts, 有条件开放 applications decided by the providing department, 开放需求 that reach
//! the bureau, the figures, and the portal's pages.
//!
//! Flat files for a small module: `domain` (pure), `store` (its SQL, private), `service`,
//! `ckan` and `dcat` (the two open interfaces), `http` (files and documents), `pages`.

pub mod ckan;
pub mod dcat;
pub mod domain;
pub mod figures_section;
pub mod http;
pub mod pages;
pub mod service;
mod store;

pub use service::OpendataService;

/// This module's own migrations.
pub fn own_migrations() -> Vec<kernel::migrate::Migration> {
    vec![
        kernel::migration!("opendata", 1, "0001_opendata"),
        kernel::migration!("opendata", 2, "0002_demand_notify"),
    ]
}

/// Migrations this module needs, with those of the modules it stands on, in order.
pub fn migrations() -> Vec<kernel::migrate::Migration> {
    // sharing's include notify's (its 申请用数 notifications).
    let mut m = sharing::migrations();
    m.extend(own_migrations());
    m
}

pub fn nav() -> Vec<webcore::NavItem> {
    use kernel::auth::Permission;
    vec![
        webcore::NavItem {
            section: "开放数据",
            label: "开放数据门户",
            href: "/opendata",
            roles: &kernel::Role::STAFF,
        },
        webcore::NavItem {
            section: "开放数据",
            label: "数据申请审核",
            href: "/opendata/applications",
            roles: service::Decide::ROLES,
        },
        webcore::NavItem {
            section: "开放数据",
            label: "开放需求",
            href: "/opendata/demands",
            roles: service::Demands::ROLES,
        },
    ]
}

/// The module as the server sees it ([`webcore::Module`]).
pub fn module() -> webcore::Module {
    use utoipa::OpenApi;
    // Sharing stands below this module, so it shows our figures through its extension point.
    sharing::figures::contrib::register("opendata", figures_section::contributor);
    webcore::Module::new("opendata")
        .depends_on(&["sharing", "notify"])
        .migrations(own_migrations())
        .routes(ckan::routes())
        .routes(http::routes())
        .routes(pages::routes())
        .nav(nav())
        .openapi(http::OpendataApi::openapi())
}
