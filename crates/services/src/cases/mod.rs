//! 办件: cases from application to delivery, their state machine, the 秒批 rules and the card
//! sweep.

pub(crate) mod cards;
pub mod domain;
pub(crate) mod http;
pub mod rules;
pub mod service;
pub(crate) mod store;
