//! Figures per license type and issuing department over a period: 签发量, 存量, 使用量 and
//! 免证办 uses (the 签发率 that needs the service hall's cases is not here yet).
pub(crate) mod http;
pub mod service;
mod store;
