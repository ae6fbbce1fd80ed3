//! 回流: provincial data pulled back into base-registry tables on a schedule — from an HTTP
//! endpoint page by page, or from files dropped into a folder — idempotent (rows replace by
//! primary key, a file loads once), each run kept with its counts and errors.

pub mod domain;
pub mod http;
pub mod service;
pub(crate) mod store;
