//! Issuing departments' SM2 key pairs: generation, sealing under the master key, rotation.
pub mod domain;
pub(crate) mod http;
pub mod service;
mod store;
