//! Tickets in and out of spreadsheets: `import` brings historical tickets (留言) and the
//! taxonomy in from CSV and Excel files, `export` writes ticket lists as Excel workbooks, `http`
//! serves both. Neither reads a table: the rules of writing and the lists live in
//! `HotlineService`.

pub mod export;
mod http;
pub mod import;

pub use http::{content_disposition, routes, ExportApi, ImportApi, ImportParams, XLSX_TYPE};
