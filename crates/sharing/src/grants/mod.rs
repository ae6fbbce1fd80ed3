//! 申请用数, the approval chain, grants (renew, narrow, revoke) and consuming systems.

pub mod domain;
pub mod http;
pub mod notices;
pub mod service;
pub(crate) mod store;
