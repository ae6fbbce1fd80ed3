//! 用证记录: every presentation, verification, 免证办 use and API read of a license.
pub(crate) mod service;
mod store;
pub use service::{Usage, UsageKind};
