//! The knowledge base (versioned articles, reviewed and published) and reply templates:
//! `domain`, SQL (`store`), use cases (`service`) and JSON API (`http`).

pub mod domain;
pub mod http;
pub mod service;
pub(crate) mod store;
