//! Licenses: issuance (API, case, import), the GB/T 36904 identifier, 变更/注销/吊销/挂失,
//! suspension and reinstatement, the holder's view.
pub mod case;
pub mod domain;
pub(crate) mod http;
pub mod import;
pub mod reminders;
pub mod service;
mod store;
