//! 电子证照: license types (GB/T 36904 type codes, typed fields, versions), issuance with SM2
//! signatures as W3C Verifiable Credentials, Bitstring Status Lists, 查证 and the usage log.
//!
//! Sub-domains, each with `domain` (pure), `store` (its SQL, private), `service` (its use cases
//! as an `impl` block of [`LicensesService`]) and `http`: `types` (证照类型), `keys` (issuing
//! key pairs sealed under the master key), `issue` (licenses and their life cycle), `status`
//! (status lists), `verify` (the checks), `usage` (用证记录). `proof` is the `sm2-jcs-2026`
//! cryptosuite (docs/licenses-cryptosuite.md), pure.

pub mod figures;
pub mod http;
pub mod issue;
pub mod keys;
pub mod pages;
pub mod present;
pub mod proof;
pub mod service;
pub mod status;
mod store;
pub mod types;
pub mod usage;
pub mod verify;

pub use service::LicensesService;

/// This module's own migrations.
pub fn own_migrations() -> Vec<kernel::migrate::Migration> {
    vec![
        kernel::migration!("licenses", 1, "0001_licenses"),
        kernel::migration!("licenses", 2, "0002_case_results"),
        kernel::migration!("licenses", 3, "0003_status_slots"),
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
    webcore::Module::new("licenses")
        .depends_on(&["org", "notify"])
        .audit_entity("license", "电子证照", Some("/licenses/{id}"))
        .audit_entity("license_type", "证照类型", Some("/licenses/types/{id}"))
        .audit_entity("license_key", "签发密钥", None)
        .audit_entity("expiry_reminder", "到期提醒", None)
        .audit_actions(&[
            ("issue", "签发"),
            ("amend", "变更"),
            ("license.suspend", "暂停"),
            ("license.reinstate", "恢复"),
            ("license.revoke", "吊销"),
            ("license.cancel", "注销"),
            ("license.report_lost", "挂失"),
            ("new_version", "新建版本"),
            ("update_draft", "修改草稿"),
        ])
        .migrations(own_migrations())
        .routes(http::routes())
        .routes(pages::routes())
        .nav(http::nav())
        .openapi(http::LicensesApi::openapi())
        // 到期提醒: hourly is enough for reminders counted in days.
        .job(webcore::Job::new(
            "license expiry reminders",
            std::time::Duration::from_secs(3600),
            |ctx| async move {
                http::svc(&ctx)
                    .send_expiry_reminders(ctx.db.now())
                    .await
                    .map(|_| ())
            },
        ))
}
