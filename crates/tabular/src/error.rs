//! The one error type of the crate.

use std::path::PathBuf;

/// Why a file could not be read or written.
///
/// The `Display` text is a complete zh-CN sentence meant for the person who uploaded the file
/// (modules put it into a validation error as is); it never contains the file's content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TabularError {
    /// The file could not be read from disk.
    #[error("无法读取文件“{}”：{source}", path.display())]
    Unreadable {
        /// The path that was asked for.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },

    /// The file name has an extension this crate does not read.
    #[error("不支持的文件类型“{0}”，请上传 .xlsx、.xls 或 .csv 文件")]
    UnknownExtension(String),

    /// The bytes are not a spreadsheet of the expected kind.
    #[error("文件不是有效的表格（{0}），请用 Excel 或 WPS 另存为 .xlsx 或 .csv 后再上传")]
    NotASpreadsheet(String),

    /// The bytes look like a workbook of this kind but its parser could not read them.
    ///
    /// `detail` is the parser's own (English) reason, for logs; it is not part of the message.
    #[error("文件已损坏或不是有效的 {kind} 工作簿，请用 Excel 或 WPS 打开后另存为 .xlsx 再上传")]
    Corrupt {
        /// The format that was tried, e.g. "Excel (.xlsx)".
        kind: &'static str,
        /// The parser's reason.
        detail: String,
    },

    /// The workbook is protected by an opening password, so its cells cannot be read.
    #[error("工作簿设有打开密码，请取消密码后再上传")]
    Encrypted,

    /// There is no header row: the file, or the chosen worksheet, has no non-blank row.
    #[error("文件是空的：没有找到表头行")]
    Empty,

    /// The asked-for worksheet does not exist.
    #[error("找不到工作表“{name}”，工作簿中有：{available}")]
    SheetNotFound {
        /// The name that was asked for.
        name: String,
        /// The worksheet names that do exist, joined with "、".
        available: String,
    },

    /// A required column is not in the header row (see [`crate::Sheet::require`]).
    #[error("缺少“{0}”列，请检查表头")]
    MissingColumn(String),

    /// Building an XLSX or DOCX file failed, or the data does not fit the format's limits.
    #[error("生成文件失败：{0}")]
    Write(String),
}
