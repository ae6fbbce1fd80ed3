//! Figures of the sharing work for a period: 目录数, 挂接率, 共享率, 开放率, 更新率 (stock at the
//! period's end), requests and approval time, grants, calls and top consumers, 数据异议 — for
//! the whole city and per department — plus the sections other modules contribute
//! ([`contrib`]).

pub mod contrib;
pub mod http;
pub mod service;
