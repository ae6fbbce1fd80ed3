//! Masking of personal data for lists, exports, logs and the data gateway.

/// `13812345678` → `138****5678`.
pub fn phone(p: &str) -> String {
    let c: Vec<char> = p.chars().collect();
    if c.len() >= 7 {
        let n = c.len();
        format!(
            "{}****{}",
            c[..3].iter().collect::<String>(),
            c[n - 4..].iter().collect::<String>()
        )
    } else if c.is_empty() {
        String::new()
    } else {
        "****".into()
    }
}

/// `11010519491231002X` → `110105********002X`.
pub fn id_card(id: &str) -> String {
    let c: Vec<char> = id.chars().collect();
    if c.len() == 18 {
        format!(
            "{}{}{}",
            c[..6].iter().collect::<String>(),
            "*".repeat(8),
            c[14..].iter().collect::<String>()
        )
    } else {
        "*".repeat(c.len())
    }
}

/// `张三` → `张*`, `欧阳娜娜` → `欧***`; `A0001` style board user ids are kept.
pub fn name(n: &str) -> String {
    let c: Vec<char> = n.chars().collect();
    match c.len() {
        0 => String::new(),
        1 => "*".into(),
        l => format!("{}{}", c[0], "*".repeat(l - 1)),
    }
}

/// Keeps the address up to the first street-level marker and hides the rest.
pub fn address(a: &str) -> String {
    for marker in ["街道", "镇", "乡", "路", "街"] {
        if let Some(i) = a.find(marker) {
            let end = i + marker.len();
            if end < a.len() {
                return format!("{}****", &a[..end]);
            }
        }
    }
    let c: Vec<char> = a.chars().collect();
    let keep = c.len().min(6);
    format!("{}****", c[..keep].iter().collect::<String>())
}

/// Kinds of personal data, whatever the field that holds them is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    IdCard,
    Phone,
    Name,
    Address,
}

/// `value` masked as its `kind`.
pub fn as_kind(kind: Kind, value: &str) -> String {
    match kind {
        Kind::IdCard => id_card(value),
        Kind::Phone => phone(value),
        Kind::Name => name(value),
        Kind::Address => address(value),
    }
}

/// The kind of personal data a free-text value is by its shape — a valid 身份证号 or a
/// mobile number — so that one typed into a field declared as text is masked too.
pub fn kind_of_value(value: &str) -> Option<Kind> {
    let v = value.trim();
    if crate::codes::check_id_card(v).is_ok() {
        Some(Kind::IdCard)
    } else if v.len() == 11 && crate::codes::check_mobile(v).is_ok() {
        Some(Kind::Phone)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_are_recognised_by_their_shape() {
        use super::{kind_of_value, Kind};
        let id = crate::codes::id_card_with_check("11010119900307001");
        assert_eq!(kind_of_value(&id), Some(Kind::IdCard));
        assert_eq!(kind_of_value("13800138000"), Some(Kind::Phone));
        assert_eq!(kind_of_value("张三"), None);
        assert_eq!(kind_of_value("2026-03-01"), None);
        assert_eq!(super::as_kind(Kind::IdCard, &id), super::id_card(&id));
    }

    #[test]
    fn masks() {
        assert_eq!(super::phone("13812345678"), "138****5678");
        assert_eq!(super::id_card("11010519491231002X"), "110105********002X");
        assert_eq!(super::name("张三"), "张*");
        assert_eq!(super::name("欧阳娜娜"), "欧***");
        assert_eq!(
            super::address("A1区东湖街道幸福路12号3栋"),
            "A1区东湖街道****"
        );
    }
}
