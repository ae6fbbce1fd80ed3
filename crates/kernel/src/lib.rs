//! The ground every yiwang module stands on.
//!
//! Architecture invariant: `kernel` knows nothing of HTTP and nothing of any module. It holds what
//! every module needs in the same shape: the error type, the database handle and migration runner,
//! the audit chain, the clock, the actor that services authorize, Chinese code checks and masking.

pub mod audit;
pub mod auth;
pub mod calendar;
pub mod clock;
pub mod codes;
pub mod config;
pub mod db;
pub mod deadline;
pub mod error;
pub mod events;
pub mod mask;
pub mod migrate;
pub mod page;
pub mod period;
pub mod sealed;
pub mod throttle;

pub use auth::{Actor, Authorized, Granted, Permission, Role, Scope, ScopeFilter};
pub use db::{Backend, Db, Tx};
pub use error::{Error, FieldError, Result};
