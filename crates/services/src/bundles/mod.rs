//! 一件事: bundles of items applied for once.

pub mod domain;
pub(crate) mod http;
pub mod service;
pub(crate) mod store;
