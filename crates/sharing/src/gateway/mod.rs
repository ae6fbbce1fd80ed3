//! The gateway (`/gateway/v1`): granted fields only, masked per grant, row filter, paging, rate
//! limit — and every call, served or refused, in the SM3-chained call log.

pub mod archive;
pub mod domain;
pub mod http;
pub mod service;
pub(crate) mod store;
