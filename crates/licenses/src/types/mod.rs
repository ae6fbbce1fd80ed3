//! 证照类型: GB/T 36904 type codes, typed fields, validity rules, face layouts, versions.
pub mod domain;
pub(crate) mod http;
pub mod service;
mod store;
