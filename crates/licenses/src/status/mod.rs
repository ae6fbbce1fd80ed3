//! W3C Bitstring Status Lists: one series per issuing department, revocation and suspension.
pub mod domain;
pub(crate) mod http;
pub mod service;
mod store;
