//! Spreadsheets and reports in and out, for every yiwang module.
//!
//! Staff and clerks exchange lists with the bureau as Excel or CSV files — saved by Excel, WPS or
//! an older system, often in GBK — and leaders read reports as Word documents. This crate is the
//! one place that knows those formats, so each module only maps columns to its own domain types:
//!
//! - **Reading** ([`read_path`], [`read_named`], [`read_csv`], [`read_xlsx`],
//!   [`read_xlsx_sheet`]) gives a [`Sheet`]: trimmed text cells, a header row found by aliases
//!   ([`Sheet::column`]) and, for every row, the line number the user sees in Excel or in a text
//!   editor, so import errors can say "第 12 行".
//! - **Writing** ([`write_xlsx`]) builds a workbook from typed [`Cell`]s with a bold, frozen,
//!   filterable header row and column widths that fit Chinese text.
//! - **Reports** ([`Doc`]) builds a `.docx` with headings, paragraphs, bullets and tables in
//!   Chinese fonts (宋体 body, 黑体 headings), which opens cleanly in Word and WPS.
//!
//! The crate is pure: no database, no network, no global state. Errors are [`TabularError`]s whose
//! messages are zh-CN sentences fit to show to the person who uploaded the file.

mod docx;
mod error;
mod read;
mod text;
mod write;

pub use docx::Doc;
pub use error::TabularError;
pub use read::{read_csv, read_named, read_path, read_xlsx, read_xlsx_sheet, Row, Sheet};
pub use write::{write_xlsx, Cell, SheetSpec};
