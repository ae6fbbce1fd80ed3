//! 政务信息资源目录: entries, versions, 编目 → 审核 → 发布, and the Chinese search.

pub mod domain;
pub mod http;
pub mod search;
pub mod service;
pub(crate) mod store;
pub mod workbook;
