//! Small text helpers shared by the readers and writers.

/// How many columns of a monospace grid `s` takes: East Asian wide and full-width characters
/// count 2, everything else 1. Excel and Word size columns in roughly these units, so this is
/// what makes "联系电话" get a column twice as wide as "Tel.".
pub(crate) fn display_width(s: &str) -> usize {
    s.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum()
}

/// The widest line of a possibly multi-line text.
pub(crate) fn widest_line(s: &str) -> usize {
    s.lines().map(display_width).max().unwrap_or(0)
}

fn is_wide(c: char) -> bool {
    // The East Asian Wide/Fullwidth blocks that occur in Chinese office text; exactness for rare
    // scripts does not matter for column widths.
    matches!(c as u32,
        0x1100..=0x115F       // Hangul Jamo
        | 0x2E80..=0x303E     // CJK radicals, punctuation (、。「」…)
        | 0x3041..=0x33FF     // kana, bopomofo, CJK compatibility
        | 0x3400..=0x4DBF     // CJK extension A
        | 0x4E00..=0x9FFF     // CJK unified ideographs
        | 0xA000..=0xA4CF     // Yi
        | 0xAC00..=0xD7A3     // Hangul syllables
        | 0xF900..=0xFAFF     // CJK compatibility ideographs
        | 0xFE30..=0xFE4F     // CJK compatibility forms
        | 0xFF00..=0xFF60     // full-width forms (，：（）)
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD) // CJK extensions B and later
}

/// The key a header is compared by: no BOM, no whitespace of any kind (also the ideographic
/// space U+3000), full-width ASCII folded to half-width, lower case. So "  ID ", "ｉｄ" and
/// "\u{feff}id" all match the alias "id", and "联系 电话（手机）" matches "联系电话(手机)".
pub(crate) fn header_key(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '\u{feff}' && !c.is_whitespace())
        .map(|c| match c as u32 {
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Removes characters that XML 1.0 cannot carry (C0 controls other than tab, LF, CR, and the
/// non-characters U+FFFE/U+FFFF). Text pasted from old systems sometimes holds them, and a single
/// one makes Word refuse the whole document.
pub(crate) fn xml_safe(s: &str) -> String {
    s.chars()
        .filter(|&c| {
            !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}')
                && c != '\u{fffe}'
                && c != '\u{ffff}'
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_counts_double() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("联系电话"), 8);
        assert_eq!(display_width("A市，A1区"), 9, "3 narrow + 3 wide");
        assert_eq!(widest_line("甲\nabcde"), 5);
    }

    #[test]
    fn header_keys_fold() {
        assert_eq!(header_key("\u{feff} 留言 编号 "), "留言编号");
        assert_eq!(header_key("ＩＤ"), "id");
        assert_eq!(header_key("联系电话（手机）"), "联系电话(手机)");
        assert_eq!(header_key("Reply_Time"), "reply_time");
        assert_eq!(header_key("姓\u{3000}名"), "姓名");
    }

    #[test]
    fn xml_safe_drops_controls() {
        assert_eq!(xml_safe("a\u{1}b\tc\nd\u{ffff}"), "ab\tc\nd");
    }
}
