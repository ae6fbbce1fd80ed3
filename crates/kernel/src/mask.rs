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

#[cfg(test)]
mod tests {
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
