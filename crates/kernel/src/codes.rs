//! Chinese codes with their standard checks: GB/T 2260 region codes (6 digits for 省/市/县区,
//! extended to 12 for 镇街/村社区 as in the statistical division codes), the 18-character
//! 统一社会信用代码 (GB 32100-2015) and the 18-digit 公民身份号码 (GB 11643-1999).

use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    Province,
    City,
    County,
    Town,
    Village,
}

impl RegionLevel {
    pub const ALL: [RegionLevel; 5] = [
        RegionLevel::Province,
        RegionLevel::City,
        RegionLevel::County,
        RegionLevel::Town,
        RegionLevel::Village,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RegionLevel::Province => "province",
            RegionLevel::City => "city",
            RegionLevel::County => "county",
            RegionLevel::Town => "town",
            RegionLevel::Village => "village",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            RegionLevel::Province => "省",
            RegionLevel::City => "市",
            RegionLevel::County => "县区",
            RegionLevel::Town => "镇街",
            RegionLevel::Village => "村社区",
        }
    }

    /// How many leading digits of the code are significant at this level.
    pub fn significant_digits(self) -> usize {
        match self {
            RegionLevel::Province => 2,
            RegionLevel::City => 4,
            RegionLevel::County => 6,
            RegionLevel::Town => 9,
            RegionLevel::Village => 12,
        }
    }

    pub fn parent(self) -> Option<RegionLevel> {
        match self {
            RegionLevel::Province => None,
            RegionLevel::City => Some(RegionLevel::Province),
            RegionLevel::County => Some(RegionLevel::City),
            RegionLevel::Town => Some(RegionLevel::County),
            RegionLevel::Village => Some(RegionLevel::Town),
        }
    }
}

/// Why a region code is not valid, in zh-CN.
pub fn check_region_code(code: &str) -> Result<RegionLevel, String> {
    if !code.bytes().all(|b| b.is_ascii_digit()) || !(code.len() == 6 || code.len() == 12) {
        return Err(
            "行政区划代码应为 6 位（省/市/县区，GB/T 2260）或 12 位（镇街/村社区）数字".into(),
        );
    }
    let province: u32 = code[0..2].parse().unwrap_or(0);
    if !(11..=82).contains(&province) {
        return Err("行政区划代码的前两位（省级）应在 11–82 之间".into());
    }
    let city = &code[2..4];
    let county = &code[4..6];
    let level = if code.len() == 6 {
        match (city, county) {
            ("00", "00") => RegionLevel::Province,
            (_, "00") => RegionLevel::City,
            ("00", _) => return Err("县级代码不能挂在“00”市级代码之下".into()),
            _ => RegionLevel::County,
        }
    } else {
        let town = &code[6..9];
        let village = &code[9..12];
        if city == "00" || county == "00" {
            return Err("12 位代码的前 6 位应为县级行政区划代码".into());
        }
        match (town, village) {
            ("000", _) => return Err("12 位代码的第 7–9 位（镇街）不能为 000".into()),
            (_, "000") => RegionLevel::Town,
            _ => RegionLevel::Village,
        }
    };
    Ok(level)
}

/// The significant prefix of a code, used for "this region and everything under it".
pub fn region_prefix(code: &str) -> Option<String> {
    check_region_code(code)
        .ok()
        .map(|l| code[..l.significant_digits()].to_owned())
}

/// The code of the parent region implied by a code, or `None` for a province.
pub fn implied_parent(code: &str) -> Option<String> {
    let level = check_region_code(code).ok()?;
    let pad = |s: &str, n: usize| format!("{s:0<n$}");
    match level {
        RegionLevel::Province => None,
        RegionLevel::City => Some(pad(&code[..2], 6)),
        RegionLevel::County => Some(pad(&code[..4], 6)),
        RegionLevel::Town => Some(code[..6].to_owned()),
        RegionLevel::Village => Some(pad(&code[..9], 12)),
    }
}

const USCC_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Checks a 统一社会信用代码: 18 characters from the standard alphabet with a valid check character.
pub fn check_credit_code(code: &str) -> Result<(), String> {
    let chars: Vec<char> = code.chars().collect();
    if chars.len() != 18 {
        return Err("统一社会信用代码应为 18 位".into());
    }
    let mut sum = 0u32;
    for (i, c) in chars.iter().enumerate() {
        let Some(v) = USCC_CHARS.find(*c) else {
            return Err(format!(
                "统一社会信用代码第 {} 位“{c}”不是允许的字符",
                i + 1
            ));
        };
        if i < 17 {
            sum += v as u32 * USCC_WEIGHTS[i];
        }
    }
    let check = (31 - sum % 31) % 31;
    let expected = USCC_CHARS.as_bytes()[check as usize] as char;
    if chars[17] != expected {
        return Err("统一社会信用代码校验位不正确".into());
    }
    Ok(())
}

/// Builds a valid 统一社会信用代码 from its first 17 characters (for generated demo data).
pub fn credit_code_with_check(first17: &str) -> String {
    let sum: u32 = first17
        .chars()
        .enumerate()
        .map(|(i, c)| USCC_CHARS.find(c).unwrap_or(0) as u32 * USCC_WEIGHTS[i])
        .sum();
    let check = (31 - sum % 31) % 31;
    format!("{first17}{}", USCC_CHARS.as_bytes()[check as usize] as char)
}

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// Checks an 18-digit 公民身份号码: digits, a real birth date, and the ISO 7064 MOD 11-2 check.
pub fn check_id_card(id: &str) -> Result<(), String> {
    let b = id.as_bytes();
    if b.len() != 18
        || !b[..17].iter().all(u8::is_ascii_digit)
        || !(b[17].is_ascii_digit() || b[17] == b'X' || b[17] == b'x')
    {
        return Err("身份证号应为 18 位，前 17 位为数字，末位为数字或 X".into());
    }
    let birth = &id[6..14];
    if chrono::NaiveDate::parse_from_str(birth, "%Y%m%d").is_err() || &birth[..2] < "18" {
        return Err("身份证号中的出生日期无效".into());
    }
    let sum: u32 = b[..17]
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(d, w)| (d - b'0') as u32 * w)
        .sum();
    if ID_CHECK[(sum % 11) as usize] != b[17].to_ascii_uppercase() {
        return Err("身份证号校验位不正确".into());
    }
    Ok(())
}

pub fn id_card_with_check(first17: &str) -> String {
    let sum: u32 = first17
        .bytes()
        .zip(ID_WEIGHTS)
        .map(|(d, w)| (d - b'0') as u32 * w)
        .sum();
    format!("{first17}{}", ID_CHECK[(sum % 11) as usize] as char)
}

/// A mainland mobile number: 11 digits starting with 1[3-9].
pub fn check_mobile(phone: &str) -> Result<(), String> {
    let b = phone.as_bytes();
    if b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit)
    {
        Ok(())
    } else {
        Err("手机号应为 11 位数字，以 13–19 开头".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn region_levels_follow_the_code() {
        assert_eq!(check_region_code("690000"), Ok(RegionLevel::Province));
        assert_eq!(check_region_code("690100"), Ok(RegionLevel::City));
        assert_eq!(check_region_code("690102"), Ok(RegionLevel::County));
        assert_eq!(check_region_code("690102001000"), Ok(RegionLevel::Town));
        assert_eq!(check_region_code("690102001002"), Ok(RegionLevel::Village));
        for bad in [
            "69010",
            "6901020",
            "abcdef",
            "990000",
            "690002",
            "690102000001",
            "",
            "６９０１００",
        ] {
            assert!(check_region_code(bad).is_err(), "{bad} should be refused");
        }
        assert_eq!(
            implied_parent("690102001002").as_deref(),
            Some("690102001000")
        );
        assert_eq!(implied_parent("690102001000").as_deref(), Some("690102"));
        assert_eq!(implied_parent("690102").as_deref(), Some("690100"));
        assert_eq!(implied_parent("690100").as_deref(), Some("690000"));
        assert_eq!(region_prefix("690100").as_deref(), Some("6901"));
    }

    #[test]
    fn credit_codes_are_checked() {
        // A published real-world example code (国家市场监督管理总局's own code).
        assert!(check_credit_code("11100000000013127D").is_ok());
        assert!(check_credit_code("11100000000013127E").is_err());
        assert!(check_credit_code("91350100M000100Y43").is_ok());
        assert!(check_credit_code("91350100M000100Y4I").is_err());
        assert!(check_credit_code("short").is_err());
    }

    #[test]
    fn id_cards_are_checked() {
        // The example from GB 11643-1999.
        assert!(check_id_card("11010519491231002X").is_ok());
        assert!(check_id_card("110105194912310021").is_err());
        assert!(check_id_card("110105194913310029").is_err(), "month 13");
        assert!(check_mobile("13812345678").is_ok());
        assert!(check_mobile("12812345678").is_err());
    }

    proptest! {
        #[test]
        fn generated_codes_always_pass(body in "[0-9A-HJ-NP-RTUW-Y]{17}", digits in "[1-6][0-9]{5}(19[5-9][0-9]|200[0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}") {
            prop_assert!(check_credit_code(&credit_code_with_check(&body)).is_ok());
            prop_assert!(check_id_card(&id_card_with_check(&digits)).is_ok());
        }

        #[test]
        fn region_check_never_panics(s in "\\PC{0,14}") {
            let _ = check_region_code(&s);
            let _ = check_credit_code(&s);
            let _ = check_id_card(&s);
        }
    }
}
