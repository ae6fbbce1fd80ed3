//! 好差评 with 差评整改, and 办不成事反映.

pub mod domain;
pub(crate) mod feedback;
pub(crate) mod http;
pub mod service;
pub(crate) mod store;
