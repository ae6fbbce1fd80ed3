//! Hotline types and rules. Pure: no database, no HTTP; time comes in as arguments.

pub mod category;
pub mod kb;
pub mod ticket;

pub use category::*;
pub use kb::*;
pub use ticket::*;
