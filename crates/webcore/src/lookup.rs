//! 按编号查找: the number as people type it, made comparable. Each module that numbers records
//! (hotline tickets, service-hall cases) rebuilds its own canonical form from what
//! [`normalize`] leaves, through its [`crate::module::LookupFn`]; `web` asks every module.

use kernel::Error;

/// The longest input the lookup accepts, in characters.
pub const MAX_CHARS: usize = 64;

/// The number as typed, made comparable: trimmed; full-width digits, letters and dashes
/// (`２０２６`, `ＢＪ`, `－`) and the ideographic space made half-width; upper-case; every
/// space and dash (`-`, `－`, `–`, `—`, `‐`, `−`) and `_` removed. Numbers that contain dashes
/// (tickets: `A市12345-20260316-000001`) put them back themselves, so `a市12345 20260316 000001`
/// and `A市1234520260316000001` find the same ticket. Chinese characters (the city's name in a
/// ticket number) are kept as they are.
///
/// Empty input and input over [`MAX_CHARS`] are a validation error on the field `number`.
pub fn normalize(raw: &str) -> Result<String, Error> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(Error::field("number", "required", "请输入工单或办件编号"));
    }
    if raw.chars().count() > MAX_CHARS {
        return Err(Error::field(
            "number",
            "too_long",
            format!("编号过长：最多 {MAX_CHARS} 个字符"),
        ));
    }
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        let c = match c {
            // Full-width ASCII forms (！ to ～) are their ASCII character + 0xFEE0.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            c => c,
        };
        if c.is_whitespace() || c == '-' || c == '_' {
            continue;
        }
        out.extend(c.to_uppercase());
    }
    if out.is_empty() {
        return Err(Error::field("number", "required", "请输入工单或办件编号"));
    }
    Ok(out)
}

/// `prefix` as [`normalize`] would leave it (for a module's fixed or configured prefix).
pub fn normalize_prefix(prefix: &str) -> String {
    normalize(prefix).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_width_spaces_and_dashes_do_not_matter() {
        for typed in [
            "A市12345-20260316-000001",
            "  a市12345-20260316-000001 ",
            "A市１２３４５－２０２６０３１６－０００００１",
            "A市12345 20260316 000001",
            "A市12345—20260316–000001",
            "ａ市12345\u{3000}20260316000001",
        ] {
            assert_eq!(
                normalize(typed).unwrap(),
                "A市1234520260316000001",
                "{typed}"
            );
        }
        assert_eq!(
            normalize("bj２０２６０３１６０００１２").unwrap(),
            "BJ2026031600012"
        );
    }

    #[test]
    fn empty_or_long_input_is_a_message_on_the_field() {
        for bad in ["", "   ", "\u{3000}", " - "] {
            let e = normalize(bad).unwrap_err();
            assert_eq!(e.code(), "required", "{bad:?}");
            assert!(e.detail().contains("请输入"), "{}", e.detail());
        }
        let e = normalize(&"1".repeat(MAX_CHARS + 1)).unwrap_err();
        assert!(e.detail().contains("过长"), "{}", e.detail());
        assert!(normalize(&"1".repeat(MAX_CHARS)).is_ok());
    }
}
