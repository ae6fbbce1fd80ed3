//! Tickets from intake to archive: the state machine, categories and their questions, deadline
//! policies on the working calendar (`domain`), their SQL (`store`), the use cases (`service`)
//! and the JSON API (`http`). The ticket core imports none of the features that react to its
//! changes: they are [`service::TicketChange`] observers wired in `lib.rs`.

pub mod domain;
pub mod http;
pub mod service;
pub(crate) mod store;

pub use service::{FollowUp, Prepared, TicketChange};
