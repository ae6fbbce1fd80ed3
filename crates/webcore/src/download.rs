//! Files handed to the browser: the content types of the office formats and the
//! `Content-Disposition` that keeps a Chinese file name (RFC 5987 `filename*` with an ASCII
//! fallback for old clients).

use axum::http::header;
use axum::response::{IntoResponse, Response};

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// `attachment` with an ASCII fallback name and the real one as RFC 5987 `filename*`.
pub fn content_disposition(file_name: &str, ascii_fallback: &str) -> String {
    let mut enc = String::new();
    for b in file_name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            enc.push(b as char);
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii_fallback}\"; filename*=UTF-8''{enc}")
}

/// A download: the bytes with their type and file name.
pub fn attachment(bytes: Vec<u8>, mime: &str, ascii_fallback: &str, file_name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                content_disposition(file_name, ascii_fallback),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_rfc5987() {
        assert_eq!(
            content_disposition("工单-20250314.xlsx", "tickets-20250314.xlsx"),
            "attachment; filename=\"tickets-20250314.xlsx\"; filename*=UTF-8''%E5%B7%A5%E5%8D%95-20250314.xlsx"
        );
        assert_eq!(
            content_disposition("a b.pdf", "attachment"),
            "attachment; filename=\"attachment\"; filename*=UTF-8''a%20b.pdf"
        );
    }
}
