//! 研判告警 (weak-signal alerts): a community, street or category whose weekly volume rises well
//! above its own baseline, or a new cluster of tickets growing fast. The job (hourly in the
//! server, `yiwang hotline signals` by hand) runs `nlp::signal` over recent tickets and stores
//! each alert with its evidence; an alert already raised for the same subject and an overlapping
//! window is refreshed, never raised twice. Supervisors and analysts list and acknowledge them.
//!
//! Inside: `domain` (the analysis and the visibility rule, pure), `store` (the SQL of
//! `hotline_alerts` and the tickets it reads), `service` (the run and `AlertService`) and `http`.

mod domain;
mod http;
mod service;
mod store;

pub use domain::{RunSummary, StoredAlert};
pub use http::{routes, AckRequest, AlertApi, AlertQuery};
pub use service::{run, AlertService};
