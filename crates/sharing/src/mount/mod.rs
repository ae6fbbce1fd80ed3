//! 挂接: tables held in yiwang for published entries, loaded by upload or pushed by API.

pub mod domain;
pub mod http;
pub mod service;
pub(crate) mod store;
