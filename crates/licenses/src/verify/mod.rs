//! 查证: the checks of a credential, pure ([`domain::evaluate`]) over facts gathered online
//! (the service) or from the offline trust cache (the CLI).
pub mod domain;
pub(crate) mod http;
pub mod service;
