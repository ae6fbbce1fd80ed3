//! 热线统计报表: KPIs per period and group, the monthly 运行情况 report and the weekly 典型案例专报.
//!
//! Every figure comes from the timeline (`hotline_events`), replayed ticket by ticket, so a ticket
//! that spans periods counts in the period where each thing happened to it: created in March and
//! replied in April, it is received in March and replied in April. Deadlines are those in force at
//! the moment (the dispatch's, moved by approved extensions and by pauses), never today's values.
//! [`Kpis`] documents each definition; [`kpis`] is the entry point, the routes and the command
//! line build on it.
//!
//! Inside: `domain` (the grouping, the KPI definitions and the replay, pure), `store` (the SQL,
//! which only reads `hotline_tickets` and `hotline_events`), `service` (who may read what; building the
//! figures, with the names of departments, regions and categories from the org and hotline
//! services), `render` (the documents) and `http` (the routes).

mod domain;
mod http;
mod render;
mod service;
mod store;

pub use domain::{parse_week, GroupBy, KpiRow, KpiTable, Kpis, Period};
pub use http::{routes, KpiQuery, PeriodQuery, ReportApi, WeekQuery};
pub use render::kpis_xlsx;
pub use service::{kpis, monthly_docx, monthly_xlsx, typical_docx, ReportService};
