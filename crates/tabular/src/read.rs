//! Reading CSV and Excel files into a [`Sheet`] of trimmed text cells.

use std::borrow::Cow;
use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use calamine::{
    open_workbook_from_rs, Data, ExcelDateTime, Ods, Reader, SheetType, SheetVisible, Sheets, Xls,
    XlsError, Xlsb, Xlsx,
};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};

use crate::text::header_key;
use crate::TabularError;

/// A table as read from a file: the header row and the data rows below it.
///
/// Every cell is text, trimmed of surrounding whitespace. Blank rows (every cell empty) are left
/// out wherever they are, but the remaining rows keep the line numbers the user sees.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sheet {
    /// The first non-blank row, trimmed, with any byte-order mark removed.
    pub headers: Vec<String>,
    /// The non-blank rows after the header row, in file order.
    pub rows: Vec<Row>,
}

/// One data row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    /// 1-based line to name in messages: for CSV the physical line where the record starts (the
    /// header is line 1 when the file starts with it; a quoted field with line breaks makes the
    /// next record start further down); for Excel the row number Excel shows.
    pub line: usize,
    /// The cells, padded with "" to at least the number of headers. A row with more cells than
    /// headers keeps the extra ones, so nothing the user typed is silently lost.
    pub cells: Vec<String>,
}

impl Sheet {
    /// The index of the first header that matches one of `aliases`, trying the aliases in order.
    ///
    /// Matching ignores case, every kind of whitespace, a byte-order mark, and full-width versus
    /// half-width ASCII, so `sheet.column(&["留言编号", "id"])` finds "留言 编号", " ID" or "ＩＤ".
    pub fn column(&self, aliases: &[&str]) -> Option<usize> {
        let keys: Vec<String> = self.headers.iter().map(|h| header_key(h)).collect();
        aliases.iter().find_map(|alias| {
            let want = header_key(alias);
            keys.iter().position(|k| !k.is_empty() && *k == want)
        })
    }

    /// Like [`Sheet::column`], but a missing column is an error naming the first alias, ready to
    /// show to the uploader.
    pub fn require(&self, aliases: &[&str]) -> Result<usize, TabularError> {
        self.column(aliases).ok_or_else(|| {
            TabularError::MissingColumn(aliases.first().copied().unwrap_or_default().to_string())
        })
    }
}

impl Row {
    /// The cell at `idx`, or "" when the column is absent (`None`, typically from
    /// [`Sheet::column`]) or the row is shorter.
    pub fn get(&self, idx: Option<usize>) -> &str {
        idx.and_then(|i| self.cells.get(i))
            .map_or("", String::as_str)
    }
}

/// Reads a CSV or Excel file, choosing the reader by the file's extension (.csv, .txt, .tsv,
/// .xlsx, .xlsm, .xls, .xlsb, .ods). See [`read_named`] for how mislabelled files are handled.
pub fn read_path(path: &Path) -> Result<Sheet, TabularError> {
    let bytes = std::fs::read(path).map_err(|source| TabularError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    read_named(&name, &bytes)
}

/// Reads an uploaded file given its original file name (only the extension is used) and bytes.
///
/// The extension says what the user meant; the content decides where it is unambiguous, because
/// files are routinely mislabelled: an Excel workbook renamed to .csv is read as a workbook, and a
/// ".xls" that is really tab- or comma-separated text (as some older systems export) is read as
/// text.
pub fn read_named(file_name: &str, bytes: &[u8]) -> Result<Sheet, TabularError> {
    let ext = Path::new(file_name)
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "csv" | "txt" | "tsv" => {
            if is_workbook(bytes) {
                read_xlsx(bytes)
            } else {
                read_csv(bytes)
            }
        }
        "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => {
            if is_workbook(bytes) || bytes.is_empty() {
                read_xlsx(bytes)
            } else {
                read_csv(bytes)
            }
        }
        "" => Err(TabularError::UnknownExtension("无扩展名".into())),
        other => Err(TabularError::UnknownExtension(format!(".{other}"))),
    }
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

fn is_workbook(bytes: &[u8]) -> bool {
    bytes.starts_with(ZIP_MAGIC) || bytes.starts_with(OLE_MAGIC)
}

// ---------------------------------------------------------------------------------------------
// CSV

/// Reads CSV text: RFC 4180 quoting (line breaks inside quoted fields included), UTF-8 with or
/// without a byte-order mark, UTF-16 with a byte-order mark, or GB18030/GBK as saved by Chinese
/// Excel and WPS. A first line with tabs and no commas is read as tab-separated.
///
/// Rows may have fewer or more cells than the header; they are padded or kept, never rejected.
pub fn read_csv(bytes: &[u8]) -> Result<Sheet, TabularError> {
    if is_workbook(bytes) {
        return Err(TabularError::NotASpreadsheet(
            "这是 Excel 工作簿，不是 CSV 文本".into(),
        ));
    }
    let text = decode_text(bytes)?;
    if text.contains('\0') {
        return Err(TabularError::NotASpreadsheet(
            "含有二进制内容，不是文本表格".into(),
        ));
    }
    if looks_like_markup(&text) {
        return Err(TabularError::NotASpreadsheet(
            "内容是网页（HTML/XML），不是表格".into(),
        ));
    }

    let first_line = text.lines().next().unwrap_or("");
    let delimiter = if !first_line.contains(',') && first_line.contains('\t') {
        b'\t'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());

    let mut lines = LineCounter::new(text.as_bytes());
    let mut records = Vec::new();
    for record in reader.records() {
        // The input is already valid UTF-8 in memory, so the csv crate has nothing left to fail on;
        // still, a failure becomes an error rather than a panic.
        let record = record.map_err(|_| {
            TabularError::NotASpreadsheet(format!("第 {} 行无法按 CSV 解析", lines.line))
        })?;
        let line = lines.line_at(record.position().map_or(0, |p| p.byte() as usize));
        // Excel writes CRLF inside quoted fields on Windows; a cell's line break is LF.
        let cells = record
            .iter()
            .map(|c| {
                c.replace("\r\n", "\n")
                    .replace('\r', "\n")
                    .trim()
                    .to_string()
            })
            .collect();
        records.push((line, cells));
    }
    build_sheet(records)
}

/// Turns the csv crate's record offsets into 1-based line numbers.
///
/// The crate's own `Position::line` falls behind on CRLF files (it counts the LF of a CRLF
/// terminator as the start of the next record), and Excel on Windows writes CRLF; so lines are
/// counted here, treating CRLF, LF and a lone CR each as one line break.
struct LineCounter<'a> {
    text: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a [u8]) -> Self {
        LineCounter {
            text,
            pos: 0,
            line: 1,
        }
    }

    /// The line of the record whose reported start is `offset`; offsets must not decrease.
    fn line_at(&mut self, offset: usize) -> usize {
        // The reported start may still point at the previous terminator; a record itself never
        // starts with CR or LF, as those would end an (ignored) empty line.
        let mut start = offset.min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        while self.pos < start {
            match self.text[self.pos] {
                b'\n' => self.line += 1,
                b'\r' if self.text.get(self.pos + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
            self.pos += 1;
        }
        self.line
    }
}

/// Turns file bytes into text. A byte-order mark decides; otherwise valid UTF-8 is UTF-8, and
/// anything else is GB18030 (a superset of GBK and GB2312), the encoding Excel and WPS use for
/// "CSV" on Chinese Windows.
fn decode_text(bytes: &[u8]) -> Result<Cow<'_, str>, TabularError> {
    if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _had_errors) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return Ok(text);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(text));
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(TabularError::NotASpreadsheet(
            "文字编码无法识别，请另存为 UTF-8 编码的 CSV".into(),
        ));
    }
    Ok(text)
}

fn looks_like_markup(text: &str) -> bool {
    let head = text.trim_start().get(..64).unwrap_or(text.trim_start());
    let lower = head.to_ascii_lowercase();
    lower.starts_with("<!doctype") || lower.starts_with("<html") || lower.starts_with("<?xml")
}

// ---------------------------------------------------------------------------------------------
// Excel

/// Reads the first worksheet of an Excel workbook (.xlsx, .xlsm, .xls, .xlsb, or .ods; the format
/// is recognised from the content). "First" means the first visible worksheet, because templates
/// often keep their drop-down lists on a hidden sheet.
///
/// Numbers lose a spurious ".0" (`12` not `12.0`) and are shown to 15 significant digits as Excel
/// does; dates become `YYYY-MM-DD`, date-times `YYYY-MM-DD HH:MM:SS`, times `HH:MM:SS`;
/// booleans `TRUE`/`FALSE`; error cells their Excel code such as `#N/A`.
pub fn read_xlsx(bytes: &[u8]) -> Result<Sheet, TabularError> {
    read_workbook(bytes, None)
}

/// Reads the worksheet called `name` (exact name, as on the tab) of an Excel workbook.
pub fn read_xlsx_sheet(bytes: &[u8], name: &str) -> Result<Sheet, TabularError> {
    read_workbook(bytes, Some(name))
}

type Workbook<'a> = Sheets<Cursor<&'a [u8]>>;

fn read_workbook(bytes: &[u8], name: Option<&str>) -> Result<Sheet, TabularError> {
    if bytes.is_empty() {
        return Err(TabularError::Empty);
    }
    // The parsers run on files uploaded by anyone; a bug that panics on a crafted file must come
    // back as "this file is broken", not take the request (or a batch job) down.
    catch_unwind(AssertUnwindSafe(|| {
        let mut workbook = open_workbook(bytes)?;
        let sheet_name = match name {
            Some(name) => {
                if !workbook.sheet_names().iter().any(|n| n == name) {
                    return Err(TabularError::SheetNotFound {
                        name: name.to_string(),
                        available: workbook.sheet_names().join("、"),
                    });
                }
                name.to_string()
            }
            None => first_sheet(&workbook).ok_or(TabularError::Empty)?,
        };
        let range = workbook
            .worksheet_range(&sheet_name)
            .map_err(calamine_error)?;
        let Some((first_row, _)) = range.start() else {
            return Err(TabularError::Empty);
        };
        let records = range
            .rows()
            .enumerate()
            .map(|(i, cells)| {
                let line = first_row as usize + i + 1;
                (line, cells.iter().map(cell_text).collect())
            })
            .collect();
        build_sheet(records)
    }))
    .unwrap_or_else(|_| {
        Err(TabularError::Corrupt {
            kind: "Excel",
            detail: "the workbook parser panicked".into(),
        })
    })
}

fn open_workbook(bytes: &[u8]) -> Result<Workbook<'_>, TabularError> {
    let cursor = Cursor::new(bytes);
    if bytes.starts_with(ZIP_MAGIC) {
        // .xlsx, .xlsm, .xlsb and .ods are all zip packages; xlsx is by far the most common, so
        // its error is the one reported when none of them fits.
        match open_workbook_from_rs::<Xlsx<_>, _>(cursor.clone()) {
            Ok(wb) => Ok(Sheets::Xlsx(wb)),
            Err(xlsx_err) => {
                if let Ok(wb) = open_workbook_from_rs::<Xlsb<_>, _>(cursor.clone()) {
                    Ok(Sheets::Xlsb(wb))
                } else if let Ok(wb) = open_workbook_from_rs::<Ods<_>, _>(cursor) {
                    Ok(Sheets::Ods(wb))
                } else {
                    Err(TabularError::Corrupt {
                        kind: "Excel (.xlsx)",
                        detail: xlsx_err.to_string(),
                    })
                }
            }
        }
    } else if bytes.starts_with(OLE_MAGIC) {
        // A password-protected .xlsx is an OLE container holding an "EncryptedPackage" stream.
        if contains_utf16le(bytes, "EncryptedPackage") {
            return Err(TabularError::Encrypted);
        }
        match open_workbook_from_rs::<Xls<_>, _>(cursor) {
            Ok(wb) => Ok(Sheets::Xls(wb)),
            Err(XlsError::Password) => Err(TabularError::Encrypted),
            Err(e) => Err(TabularError::Corrupt {
                kind: "Excel 97-2003 (.xls)",
                detail: e.to_string(),
            }),
        }
    } else {
        Err(TabularError::NotASpreadsheet(
            "内容不是 Excel 工作簿".into(),
        ))
    }
}

fn contains_utf16le(haystack: &[u8], needle: &str) -> bool {
    let needle: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn calamine_error(e: calamine::Error) -> TabularError {
    match e {
        calamine::Error::Xls(XlsError::Password) => TabularError::Encrypted,
        other => TabularError::Corrupt {
            kind: "Excel",
            detail: other.to_string(),
        },
    }
}

fn first_sheet(workbook: &Workbook<'_>) -> Option<String> {
    let sheets = workbook.sheets_metadata();
    let is_worksheet = |s: &&calamine::Sheet| s.typ == SheetType::WorkSheet;
    sheets
        .iter()
        .filter(is_worksheet)
        .find(|s| s.visible == SheetVisible::Visible)
        .or_else(|| sheets.iter().find(is_worksheet))
        .or_else(|| sheets.first())
        .map(|s| s.name.clone())
}

/// The text a cell shows, in the crate's fixed formats.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(dt) => datetime_text(dt),
        Data::DateTimeIso(s) => s.trim().replacen('T', " ", 1),
        Data::DurationIso(s) => s.trim().to_string(),
        Data::Error(e) => e.to_string(),
    }
}

/// A number as Excel's General format would show it: integers without ".0" and at most 15
/// significant digits, so `0.1 + 0.2` computed by a formula reads back as "0.3".
fn number_text(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return format!("{}", f as i64);
    }
    let rounded: f64 = format!("{f:.14e}").parse().unwrap_or(f);
    format!("{rounded}")
}

fn datetime_text(dt: &ExcelDateTime) -> String {
    let serial = dt.as_f64();
    if dt.is_duration() {
        // [h]:mm:ss — hours may exceed 24.
        let secs = (serial * 86_400.0).round() as i64;
        let sign = if secs < 0 { "-" } else { "" };
        let secs = secs.abs();
        return format!(
            "{sign}{}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
    }
    let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
    let time = NaiveTime::from_hms_opt(h.into(), mi.into(), s.into());
    let date = NaiveDate::from_ymd_opt(y.into(), mo.into(), d.into());
    let (Some(date), Some(time)) = (date, time) else {
        // Excel's phantom 1900-02-29 and similar: show the serial number rather than guess.
        return number_text(serial);
    };
    // Round to the second: a stored 12:09:37.9996 is the 12:09:38 the user typed.
    let mut at = NaiveDateTime::new(date, time);
    if ms >= 500 {
        at += TimeDelta::seconds(1);
    }
    if (0.0..1.0).contains(&serial) && serial > 0.0 {
        at.format("%H:%M:%S").to_string()
    } else if at.time() == NaiveTime::MIN {
        at.format("%Y-%m-%d").to_string()
    } else {
        at.format("%Y-%m-%d %H:%M:%S").to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// Shared

/// Finds the header row (the first non-blank record) and pads the rows after it.
fn build_sheet(records: Vec<(usize, Vec<String>)>) -> Result<Sheet, TabularError> {
    let mut records = records
        .into_iter()
        .filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()));
    let (_, headers) = records.next().ok_or(TabularError::Empty)?;
    let headers: Vec<String> = headers
        .into_iter()
        .map(|h| h.replace('\u{feff}', "").trim().to_string())
        .collect();
    let width = headers.len();
    let rows = records
        .map(|(line, mut cells)| {
            if cells.len() < width {
                cells.resize(width, String::new());
            }
            Row { line, cells }
        })
        .collect();
    Ok(Sheet { headers, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_excel_shows_them() {
        assert_eq!(number_text(12.0), "12");
        assert_eq!(number_text(-3.0), "-3");
        assert_eq!(number_text(13_800_138_000.0), "13800138000");
        assert_eq!(number_text(0.1 + 0.2), "0.3");
        assert_eq!(number_text(3.25), "3.25");
        assert_eq!(number_text(1e20), "100000000000000000000");
    }

    #[test]
    fn excel_dates_and_times() {
        use calamine::ExcelDateTimeType::{DateTime, TimeDelta as Delta};
        let dt = |v| datetime_text(&ExcelDateTime::new(v, DateTime, false));
        assert_eq!(dt(43831.0), "2020-01-01");
        assert_eq!(dt(43831.5), "2020-01-01 12:00:00");
        // 2020-01-06 12:09:38 as Excel stores it, a hair below the exact second.
        assert_eq!(dt(43836.506689814814), "2020-01-06 12:09:38");
        assert_eq!(dt(0.75), "18:00:00");
        let dur = datetime_text(&ExcelDateTime::new(1.5, Delta, false));
        assert_eq!(dur, "36:00:00");
    }

    #[test]
    fn csv_tab_separated_and_utf16() {
        let tsv = "姓名\t电话\n张三\t123\n";
        let sheet = read_csv(tsv.as_bytes()).unwrap();
        assert_eq!(sheet.headers, ["姓名", "电话"]);
        assert_eq!(sheet.rows[0].cells, ["张三", "123"]);

        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(tsv.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(read_csv(&utf16).unwrap(), sheet);
    }

    #[test]
    fn html_disguised_as_xls_is_refused() {
        let err = read_named(
            "export.xls",
            b"<html><table><tr><td>1</td></tr></table></html>",
        )
        .unwrap_err();
        assert!(matches!(err, TabularError::NotASpreadsheet(_)), "{err:?}");
    }
}
