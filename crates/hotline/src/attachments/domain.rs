//! What an attachment is and which files are accepted: the type is checked from the file's
//! content, not its name, and must agree with the name's extension.

use kernel::error::{Error, Result};
use serde::Serialize;
use utoipa::ToSchema;

pub const MAX_BYTES: usize = 10 * 1024 * 1024;
pub const MAX_PER_TICKET: i64 = 20;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Attachment {
    pub id: i64,
    pub ticket_id: i64,
    pub name: String,
    pub mime: String,
    pub size: i64,
    /// SM3 of the content, hex.
    pub sm3: String,
    pub created_at: i64,
}

/// An accepted kind: (extensions, MIME type, content check).
type Kind = (&'static [&'static str], &'static str, fn(&[u8]) -> bool);

const KINDS: &[Kind] = &[
    (&["jpg", "jpeg"], "image/jpeg", |b| {
        b.starts_with(&[0xFF, 0xD8, 0xFF])
    }),
    (&["png"], "image/png", |b| {
        b.starts_with(b"\x89PNG\r\n\x1a\n")
    }),
    (&["gif"], "image/gif", |b| {
        b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a")
    }),
    (&["pdf"], "application/pdf", |b| b.starts_with(b"%PDF-")),
    (
        &["docx"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        |b| b.starts_with(b"PK\x03\x04"),
    ),
    (
        &["xlsx"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        |b| b.starts_with(b"PK\x03\x04"),
    ),
    (&["mp3"], "audio/mpeg", |b| {
        b.starts_with(b"ID3") || (b.len() > 1 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0)
    }),
    (&["wav"], "audio/wav", |b| {
        b.len() > 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WAVE"
    }),
    (&["amr"], "audio/amr", |b| b.starts_with(b"#!AMR")),
    (&["mp4"], "video/mp4", |b| {
        b.len() > 8 && &b[4..8] == b"ftyp"
    }),
];

/// Checks name, size and content; returns the MIME type.
pub fn check_file(name: &str, bytes: &[u8]) -> Result<&'static str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 || name.contains(['/', '\\', '\0']) {
        return Err(Error::field(
            "name",
            "invalid_name",
            "文件名不能为空，不超过 120 个字，且不能含有 / \\",
        ));
    }
    if bytes.is_empty() {
        return Err(Error::field("file", "empty", "文件是空的"));
    }
    if bytes.len() > MAX_BYTES {
        return Err(Error::field(
            "file",
            "too_large",
            format!("附件不能超过 {} MB", MAX_BYTES / 1024 / 1024),
        ));
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let allowed: Vec<&str> = KINDS.iter().flat_map(|k| k.0.iter().copied()).collect();
    let Some((_, mime, check)) = KINDS.iter().find(|k| k.0.contains(&ext.as_str())) else {
        return Err(Error::field(
            "name",
            "unsupported_type",
            format!("不支持的附件类型“{ext}”，可上传：{}", allowed.join("、")),
        ));
    };
    if !check(bytes) {
        return Err(Error::field(
            "file",
            "content_mismatch",
            format!("文件内容不是 .{ext} 格式（扩展名与内容不符）"),
        ));
    }
    Ok(mime)
}

#[cfg(test)]
mod tests {
    #[test]
    fn files_are_checked_by_content_and_name() {
        let png = b"\x89PNG\r\n\x1a\n0000";
        assert_eq!(super::check_file("现场.png", png).unwrap(), "image/png");
        assert_eq!(
            super::check_file("现场.jpg", png).unwrap_err().code(),
            "content_mismatch"
        );
        assert_eq!(
            super::check_file("病毒.exe", b"MZ").unwrap_err().code(),
            "unsupported_type"
        );
        assert_eq!(
            super::check_file("a/b.png", png).unwrap_err().code(),
            "invalid_name"
        );
        assert_eq!(
            super::check_file("空.png", b"").unwrap_err().code(),
            "empty"
        );
        assert_eq!(
            super::check_file("大.pdf", &vec![b'%'; super::MAX_BYTES + 1])
                .unwrap_err()
                .code(),
            "too_large"
        );
    }
}
