//! 共享责任清单 and 开放责任清单: per department, the published entries it provides with their
//! 共享/开放属性, whether mounted, last update against the 更新周期, and grants — the list a
//! 数据专员 is held to.

pub mod domain;
pub mod http;
pub mod service;
