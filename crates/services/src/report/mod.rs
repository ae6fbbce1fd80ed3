//! Service-hall figures per period; see [`domain`] for the definitions.

pub mod domain;
pub mod export;
pub(crate) mod http;
pub(crate) mod service;
pub(crate) mod store;

pub use domain::*;
pub use export::{to_docx, to_xlsx};
