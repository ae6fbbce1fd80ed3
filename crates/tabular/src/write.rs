//! Writing typed rows to an XLSX workbook.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use rust_xlsxwriter::{Color, Format, FormatBorder, Workbook, Worksheet, XlsxError};

use crate::text::{display_width, widest_line};
use crate::TabularError;

/// One value to write. Text stays text in Excel (a 身份证号 or a leading-zero code is never turned
/// into a number); numbers and dates are real Excel numbers and dates, so users can sum and sort.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text, written as an Excel string (never a formula, whatever it starts with).
    Text(String),
    /// An integer. Beyond ±2^53, which Excel's doubles cannot hold exactly, it is written as text.
    Int(i64),
    /// A floating-point number. NaN and infinities, which Excel cannot store, are written as text.
    Float(f64),
    /// A date, shown as `yyyy-mm-dd`.
    Date(NaiveDate),
    /// A date and time, shown as `yyyy-mm-dd hh:mm:ss`.
    DateTime(NaiveDateTime),
    /// Nothing.
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}
impl From<i64> for Cell {
    fn from(i: i64) -> Self {
        Cell::Int(i)
    }
}
impl From<i32> for Cell {
    fn from(i: i32) -> Self {
        Cell::Int(i.into())
    }
}
impl From<f64> for Cell {
    fn from(f: f64) -> Self {
        Cell::Float(f)
    }
}
impl From<NaiveDate> for Cell {
    fn from(d: NaiveDate) -> Self {
        Cell::Date(d)
    }
}
impl From<NaiveDateTime> for Cell {
    fn from(dt: NaiveDateTime) -> Self {
        Cell::DateTime(dt)
    }
}
impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Self {
        v.map_or(Cell::Empty, Into::into)
    }
}

// Excel's own limits (specification and limits, Excel 2007 and later).
const MAX_ROWS: usize = 1_048_576;
const MAX_COLS: usize = 16_384;
const MAX_CELL_CHARS: usize = 32_767;
const MAX_EXACT_INT: i64 = 1 << 53;
// Column widths in Excel's units (about one Latin character; a Chinese character takes two).
const MIN_WIDTH: usize = 6;
const MAX_WIDTH: usize = 50;

/// One worksheet to write: its name, the header row and the data rows.
pub type SheetSpec<'a> = (&'a str, &'a [String], &'a [Vec<Cell>]);

/// Builds an XLSX workbook with one worksheet per `(name, headers, rows)`.
///
/// Each worksheet gets a bold, shaded header row that stays frozen while scrolling, an
/// autofilter over the header, and column widths fitted to the content (Chinese characters count
/// double, capped so long texts wrap instead of making a column screen-wide).
///
/// Sheet names are made valid for Excel rather than rejected: the characters `[]:*?/\` become
/// "_", names are cut to 31 characters, a blank name becomes "Sheet1"…, and a repeated name gets
/// "(2)", "(3)"…. An empty `sheets` gives a workbook with one empty sheet.
///
/// Fails with [`TabularError::Write`] when data exceeds Excel's limits (1,048,576 rows, 16,384
/// columns, 32,767 characters in a cell), naming the place.
pub fn write_xlsx(sheets: &[SheetSpec<'_>]) -> Result<Vec<u8>, TabularError> {
    let mut workbook = Workbook::new();
    let styles = Styles::new();
    let mut used_names: Vec<String> = Vec::new();
    for (index, (name, headers, rows)) in sheets.iter().enumerate() {
        let name = sheet_name(name, index, &used_names);
        used_names.push(name.clone());
        let worksheet = workbook.add_worksheet();
        worksheet.set_name(&name).map_err(xlsx_error)?;
        write_sheet(worksheet, &name, headers, rows, &styles)?;
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}

struct Styles {
    header: Format,
    wrap: Format,
    date: Format,
    datetime: Format,
}

impl Styles {
    fn new() -> Self {
        Styles {
            header: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0xD9E1F2))
                .set_border_bottom(FormatBorder::Thin),
            wrap: Format::new().set_text_wrap(),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
        }
    }
}

fn write_sheet(
    ws: &mut Worksheet,
    name: &str,
    headers: &[String],
    rows: &[Vec<Cell>],
    styles: &Styles,
) -> Result<(), TabularError> {
    if rows.len() + 1 > MAX_ROWS {
        return Err(TabularError::Write(format!(
            "工作表“{name}”有 {} 行数据，超过 Excel 每表 {} 行的上限，请分表导出",
            rows.len(),
            MAX_ROWS - 1
        )));
    }
    let columns = rows
        .iter()
        .map(Vec::len)
        .chain([headers.len()])
        .max()
        .unwrap_or(0);
    if columns > MAX_COLS {
        return Err(TabularError::Write(format!(
            "工作表“{name}”有 {columns} 列，超过 Excel {MAX_COLS} 列的上限"
        )));
    }
    let mut widths = vec![0usize; columns];

    for (col, header) in headers.iter().enumerate() {
        check_length(name, 1, col, header)?;
        ws.write_string_with_format(0, col as u16, header, &styles.header)
            .map_err(xlsx_error)?;
        // Room for the autofilter's drop-down button.
        widths[col] = widths[col].max(widest_line(header) + 3);
    }
    for (r, row) in rows.iter().enumerate() {
        let xr = (r + 1) as u32;
        for (col, cell) in row.iter().enumerate() {
            let xc = col as u16;
            let width = match cell {
                Cell::Empty => 0,
                Cell::Text(s) => {
                    check_length(name, r + 2, col, s)?;
                    let w = widest_line(s);
                    if s.contains('\n') || w > MAX_WIDTH {
                        ws.write_string_with_format(xr, xc, s, &styles.wrap)
                    } else {
                        ws.write_string(xr, xc, s)
                    }
                    .map_err(xlsx_error)?;
                    w
                }
                Cell::Int(i) => {
                    if i.unsigned_abs() <= MAX_EXACT_INT as u64 {
                        ws.write_number(xr, xc, *i as f64)
                    } else {
                        ws.write_string(xr, xc, i.to_string())
                    }
                    .map_err(xlsx_error)?;
                    i.to_string().len()
                }
                Cell::Float(f) => {
                    if f.is_finite() {
                        ws.write_number(xr, xc, *f)
                    } else {
                        ws.write_string(xr, xc, f.to_string())
                    }
                    .map_err(xlsx_error)?;
                    // General format shows at most about 11 characters.
                    display_width(&f.to_string()).min(12)
                }
                // Excel has no dates before 1900: those are written as text in the same form.
                Cell::Date(d) if d.year() < 1900 || d.year() > 9999 => {
                    let s = d.format("%Y-%m-%d").to_string();
                    ws.write_string(xr, xc, &s).map_err(xlsx_error)?;
                    s.len()
                }
                Cell::Date(d) => {
                    ws.write_datetime_with_format(xr, xc, d, &styles.date)
                        .map_err(xlsx_error)?;
                    10
                }
                Cell::DateTime(dt) if dt.year() < 1900 || dt.year() > 9999 => {
                    let s = dt.format("%Y-%m-%d %H:%M:%S").to_string();
                    ws.write_string(xr, xc, &s).map_err(xlsx_error)?;
                    s.len()
                }
                Cell::DateTime(dt) => {
                    ws.write_datetime_with_format(xr, xc, dt, &styles.datetime)
                        .map_err(xlsx_error)?;
                    19
                }
            };
            widths[col] = widths[col].max(width);
        }
    }

    for (col, width) in widths.iter().enumerate() {
        let width = (*width + 2).clamp(MIN_WIDTH, MAX_WIDTH + 2);
        ws.set_column_width(col as u16, width as f64)
            .map_err(xlsx_error)?;
    }
    if !headers.is_empty() {
        ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        ws.autofilter(0, 0, rows.len() as u32, (columns.max(1) - 1) as u16)
            .map_err(xlsx_error)?;
    }
    Ok(())
}

fn check_length(sheet: &str, line: usize, col: usize, s: &str) -> Result<(), TabularError> {
    let chars = s.chars().count();
    if chars > MAX_CELL_CHARS {
        return Err(TabularError::Write(format!(
            "工作表“{sheet}”第 {line} 行第 {} 列的文本有 {chars} 个字符，超过 Excel 单元格 {MAX_CELL_CHARS} 个字符的上限",
            col + 1
        )));
    }
    Ok(())
}

/// A valid, unique Excel sheet name derived from `wanted`.
fn sheet_name(wanted: &str, index: usize, used: &[String]) -> String {
    let cleaned: String = wanted
        .trim()
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .collect();
    let cleaned = cleaned.trim_matches('\'').trim();
    let mut base = truncate_utf16(cleaned, 31);
    // "History" is reserved by Excel for its change-tracking sheet.
    if base.is_empty() || base.eq_ignore_ascii_case("history") {
        base = format!("Sheet{}", index + 1);
    }
    let taken = |n: &str| used.iter().any(|u| u.to_lowercase() == n.to_lowercase());
    if !taken(&base) {
        return base;
    }
    (2..)
        .map(|k| {
            let suffix = format!("({k})");
            format!("{}{suffix}", truncate_utf16(&base, 31 - suffix.len()))
        })
        .find(|n| !taken(n))
        .unwrap_or(base)
}

fn truncate_utf16(s: &str, max: usize) -> String {
    let mut len = 0;
    s.chars()
        .take_while(|c| {
            len += c.len_utf16();
            len <= max
        })
        .collect()
}

fn xlsx_error(e: XlsxError) -> TabularError {
    TabularError::Write(format!("XLSX：{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_made_valid_and_unique() {
        let used = vec!["汇总".to_string(), "Sheet2".to_string()];
        assert_eq!(sheet_name("a/b:c", 0, &[]), "a_b_c");
        assert_eq!(sheet_name("  ", 1, &[]), "Sheet2");
        assert_eq!(sheet_name("汇总", 2, &used), "汇总(2)");
        assert_eq!(sheet_name("'引号'", 0, &[]), "引号");
        let long = "很".repeat(40);
        assert_eq!(sheet_name(&long, 0, &[]).chars().count(), 31);
        let again = sheet_name(&long, 0, &[sheet_name(&long, 0, &[])]);
        assert!(
            again.ends_with("(2)") && again.chars().count() == 31,
            "{again}"
        );
    }
}
