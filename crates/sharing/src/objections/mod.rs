//! 数据异议 (一数一源): a department that holds a base-registry value differently raises it; the
//! registry's source department checks it before a deadline and confirms or corrects the value.

pub mod domain;
pub mod http;
pub mod service;
pub(crate) mod store;
