//! 事项 and their versions, and the 实施清单 import/export.

pub mod domain;
pub(crate) mod http;
pub mod import;
pub mod service;
pub(crate) mod store;
