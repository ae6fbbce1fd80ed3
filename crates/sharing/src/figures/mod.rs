//! Figures of the sharing work: 目录数, 挂接率, 共享率, 开放率, 更新率, requests, grants, calls —
//! for the whole city and per providing department.

pub mod http;
pub mod service;
