//! The public 办事指南 search.

pub(crate) mod index;
pub(crate) mod service;
pub(crate) mod store;

pub use index::MAX_RESULTS;
