//! The license identifier and life cycle, pure.

use kernel::error::{Error, Result};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The arc every GB/T 36904 license identifier starts with.
pub const OID_PREFIX: &str = "1.2.156.3005.2";

const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// ISO 7064 MOD 37,36 (hybrid) check character over `s` (0-9A-Z): p = 36; for each
/// character p = (p + v) mod 36, 36 if 0, then p = 2p mod 37; check = (37 − p) mod 36.
/// `None` when `s` has a character outside the alphabet.
pub fn mod37_36(s: &str) -> Option<char> {
    let mut p: u32 = 36;
    for ch in s.chars() {
        let v = ALPHABET.iter().position(|a| *a as char == ch)? as u32;
        p = (p + v) % 36;
        if p == 0 {
            p = 36;
        }
        p = (2 * p) % 37;
    }
    Some(ALPHABET[((37 - p) % 36) as usize] as char)
}

/// The parts of a license identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identifier {
    pub type_code: String,
    pub issuer_code: String,
    pub serial: u64,
    pub version: u32,
}

impl Identifier {
    /// 流水号 as written: ten digits, so identifiers sort and have one length.
    pub fn serial_text(&self) -> String {
        format!("{:010}", self.serial)
    }

    pub fn check_char(&self) -> char {
        mod37_36(&format!(
            "{}{}{}{:03}",
            self.type_code,
            self.issuer_code,
            self.serial_text(),
            self.version
        ))
        .unwrap_or('?')
    }

    /// `1.2.156.3005.2.{类型代码}.{颁发机构代码}.{流水号}.{3位版本号}.{校验位}`.
    pub fn render(&self) -> String {
        format!(
            "{OID_PREFIX}.{}.{}.{}.{:03}.{}",
            self.type_code,
            self.issuer_code,
            self.serial_text(),
            self.version,
            self.check_char()
        )
    }

    /// Parses and checks an identifier, the check character included.
    pub fn parse(s: &str) -> std::result::Result<Identifier, String> {
        let rest = s
            .strip_prefix(OID_PREFIX)
            .and_then(|r| r.strip_prefix('.'))
            .ok_or_else(|| format!("证照标识应以 {OID_PREFIX}. 开头"))?;
        let parts: Vec<&str> = rest.split('.').collect();
        let [t, i, n, v, c] = parts.as_slice() else {
            return Err("证照标识应有类型代码、颁发机构代码、流水号、版本号和校验位五段".into());
        };
        crate::types::domain::check_type_code(t)?;
        kernel::codes::check_credit_code(i).map_err(|e| format!("颁发机构代码无效：{e}"))?;
        let serial = (n.len() == 10 && n.chars().all(|c| c.is_ascii_digit()))
            .then(|| n.parse::<u64>().ok())
            .flatten()
            .ok_or("流水号应为 10 位数字")?;
        let version = (v.len() == 3 && v.chars().all(|c| c.is_ascii_digit()))
            .then(|| v.parse::<u32>().ok())
            .flatten()
            .ok_or("版本号应为 3 位数字")?;
        let id = Identifier {
            type_code: (*t).to_owned(),
            issuer_code: (*i).to_owned(),
            serial,
            version,
        };
        if c.len() != 1 || !c.starts_with(id.check_char()) {
            return Err(format!(
                "证照标识校验位错误：应为 {}，实为 {c}",
                id.check_char()
            ));
        }
        Ok(id)
    }
}

/// Where a license stands. Expiry is not a status: it follows from `valid_until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LicenseStatus {
    /// 有效.
    Valid,
    /// 暂停 (suspended; may be reinstated).
    Suspended,
    /// 吊销 (revoked by the issuer as a sanction).
    Revoked,
    /// 注销 (cancelled, e.g. at the holder's request).
    Cancelled,
    /// 挂失 (reported lost).
    Lost,
    /// 已变更: replaced by a newer version.
    Superseded,
}

impl LicenseStatus {
    pub fn code(self) -> &'static str {
        match self {
            LicenseStatus::Valid => "valid",
            LicenseStatus::Suspended => "suspended",
            LicenseStatus::Revoked => "revoked",
            LicenseStatus::Cancelled => "cancelled",
            LicenseStatus::Lost => "lost",
            LicenseStatus::Superseded => "superseded",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            LicenseStatus::Valid,
            LicenseStatus::Suspended,
            LicenseStatus::Revoked,
            LicenseStatus::Cancelled,
            LicenseStatus::Lost,
            LicenseStatus::Superseded,
        ]
        .into_iter()
        .find(|x| x.code() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            LicenseStatus::Valid => "有效",
            LicenseStatus::Suspended => "已暂停",
            LicenseStatus::Revoked => "已吊销",
            LicenseStatus::Cancelled => "已注销",
            LicenseStatus::Lost => "已挂失",
            LicenseStatus::Superseded => "已变更（被新版本取代）",
        }
    }
    /// Set in the revocation list: the end of the license, for good.
    pub fn is_revoked_bit(self) -> bool {
        matches!(
            self,
            LicenseStatus::Revoked
                | LicenseStatus::Cancelled
                | LicenseStatus::Lost
                | LicenseStatus::Superseded
        )
    }
}

/// What the issuing department does to a license.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusAction {
    Suspend,
    Reinstate,
    /// 吊销.
    Revoke,
    /// 注销.
    Cancel,
    /// 挂失.
    ReportLost,
}

impl StatusAction {
    pub fn code(self) -> &'static str {
        match self {
            StatusAction::Suspend => "suspend",
            StatusAction::Reinstate => "reinstate",
            StatusAction::Revoke => "revoke",
            StatusAction::Cancel => "cancel",
            StatusAction::ReportLost => "report_lost",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            StatusAction::Suspend => "暂停",
            StatusAction::Reinstate => "恢复",
            StatusAction::Revoke => "吊销",
            StatusAction::Cancel => "注销",
            StatusAction::ReportLost => "挂失",
        }
    }
}

/// The status after `action`, or why it is refused.
pub fn transition(from: LicenseStatus, action: StatusAction) -> Result<LicenseStatus> {
    use LicenseStatus::*;
    use StatusAction::*;
    let to = match (from, action) {
        (Valid, Suspend) => Suspended,
        (Suspended, Reinstate) => Valid,
        (Valid | Suspended, Revoke) => Revoked,
        (Valid | Suspended, Cancel) => Cancelled,
        (Valid | Suspended, ReportLost) => Lost,
        _ => {
            return Err(Error::IllegalTransition {
                detail: format!("证照{}，不能{}", from.label(), action.label()),
            })
        }
    };
    Ok(to)
}

/// `valid_until` for a license issued on `from` with a validity of `years` (None: 长期有效):
/// the day before the same date `years` later, at the end of that day, China time.
pub fn valid_until(from_ms: i64, years: Option<u32>) -> Option<i64> {
    use chrono::{Datelike, TimeZone};
    let years = years?;
    let d = kernel::clock::to_china(from_ms).date_naive();
    let target = d.with_year(d.year() + years as i32).or_else(|| {
        d.pred_opt()
            .and_then(|p| p.with_year(p.year() + years as i32))
    })?;
    let end = target.and_hms_opt(0, 0, 0)?;
    Some(
        kernel::clock::china()
            .from_local_datetime(&end)
            .single()?
            .timestamp_millis()
            - 1,
    )
}

/// A license as stored (the credential is kept beside it, see [`License::credential`]).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct License {
    pub id: i64,
    /// GB/T 36904 identifier.
    pub identifier: String,
    pub type_id: i64,
    pub type_code: String,
    pub type_name: String,
    pub type_version: i64,
    pub dept_id: i64,
    pub serial: i64,
    pub version: i64,
    pub holder_kind: crate::types::domain::HolderKind,
    /// 身份证号 or 统一社会信用代码; masked for readers whose role does not need it.
    pub holder_id_no: String,
    pub holder_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder_user_id: Option<i64>,
    pub fields: serde_json::Map<String, serde_json::Value>,
    pub valid_from: i64,
    /// `None`: 长期有效.
    pub valid_until: Option<i64>,
    pub status: LicenseStatus,
    pub status_label: String,
    pub status_reason: String,
    pub status_at: i64,
    pub list_id: i64,
    pub list_index: i64,
    pub kid: String,
    pub previous_id: Option<i64>,
    pub issued_at: i64,
}

impl License {
    pub fn is_expired(&self, now: i64) -> bool {
        self.valid_until.is_some_and(|u| u < now)
    }
    /// Usable as proof now: valid status and within its dates.
    pub fn usable(&self, now: i64) -> bool {
        self.status == LicenseStatus::Valid && !self.is_expired(now) && self.valid_from <= now
    }
    /// Why it cannot be used now, in zh-CN (`None` when usable).
    pub fn why_unusable(&self, now: i64) -> Option<String> {
        if self.status != LicenseStatus::Valid {
            let reason = if self.status_reason.is_empty() {
                String::new()
            } else {
                format!("（原因：{}）", self.status_reason)
            };
            return Some(format!("{}{}{reason}", self.type_name, self.status.label()));
        }
        if self.is_expired(now) {
            return Some(format!(
                "{}已于 {} 过期",
                self.type_name,
                kernel::clock::to_china(self.valid_until.unwrap_or_default()).format("%Y-%m-%d")
            ));
        }
        if self.valid_from > now {
            return Some(format!("{}尚未生效", self.type_name));
        }
        None
    }
}

/// What a credential says, before it is signed.
pub struct CredentialParts<'a> {
    pub identifier: &'a str,
    pub issuer_url: &'a str,
    pub issuer_name: &'a str,
    pub type_code: &'a str,
    pub type_name: &'a str,
    pub type_version: i64,
    pub holder_kind: crate::types::domain::HolderKind,
    pub holder_id_no: &'a str,
    pub holder_name: &'a str,
    pub fields: &'a serde_json::Map<String, serde_json::Value>,
    pub valid_from: i64,
    pub valid_until: Option<i64>,
    /// (purpose, statusListCredential URL) for each purpose, all at `list_index`.
    pub status_lists: Vec<(&'a str, String)>,
    pub list_index: i64,
}

/// The unsigned W3C VC 2.0 of a license.
pub fn credential(p: &CredentialParts) -> serde_json::Value {
    use serde_json::json;
    let status: Vec<serde_json::Value> = p
        .status_lists
        .iter()
        .map(|(purpose, url)| {
            json!({
                "id": format!("{url}#{}", p.list_index),
                "type": "BitstringStatusListEntry",
                "statusPurpose": purpose,
                "statusListIndex": p.list_index.to_string(),
                "statusListCredential": url,
            })
        })
        .collect();
    let mut vc = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": format!("urn:oid:{}", p.identifier),
        "type": ["VerifiableCredential", "ElectronicLicense"],
        "issuer": {"id": p.issuer_url, "name": p.issuer_name},
        "validFrom": kernel::clock::rfc3339(p.valid_from),
        "credentialSubject": {
            "type": if p.holder_kind == crate::types::domain::HolderKind::Person { "NaturalPerson" } else { "LegalPerson" },
            "name": p.holder_name,
            "identifier": p.holder_id_no,
            "license": {
                "identifier": p.identifier,
                "typeCode": p.type_code,
                "typeName": p.type_name,
                "typeVersion": p.type_version,
                "fields": p.fields,
            },
        },
        "credentialStatus": status,
    });
    if let Some(u) = p.valid_until {
        vc["validUntil"] = serde_json::Value::String(kernel::clock::rfc3339(u));
    }
    vc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uscc(first17: &str) -> String {
        kernel::codes::credit_code_with_check(first17)
    }

    #[test]
    fn mod37_36_follows_the_hybrid_rule() {
        // By hand: "0": p=36 → (36+0)%36=0 → 36 → 72%37=35; check=(37-35)%36=2.
        assert_eq!(mod37_36("0"), Some('2'));
        // "A" (10): (36+10)%36=10 → 20; check=17 → 'H'.
        assert_eq!(mod37_36("A"), Some('H'));
        assert_eq!(mod37_36("a"), None);
        // Any single-character change changes the check character.
        let base = "11100000000013338W0321234";
        let c = mod37_36(base).unwrap();
        for i in 0..base.len() {
            let mut s: Vec<char> = base.chars().collect();
            s[i] = if s[i] == '1' { '2' } else { '1' };
            let t: String = s.into_iter().collect();
            assert_ne!(mod37_36(&t), Some(c), "change at {i} not caught");
        }
    }

    #[test]
    fn identifiers_render_parse_and_reject_a_wrong_check_char() {
        let id = Identifier {
            type_code: format!("{}032", uscc("11100000000013338")),
            issuer_code: uscc("11690100MB0000001"),
            serial: 42,
            version: 1,
        };
        let s = id.render();
        assert!(s.starts_with("1.2.156.3005.2."));
        assert!(s.contains(".0000000042.001."));
        assert_eq!(Identifier::parse(&s).unwrap(), id);
        let last = s.chars().last().unwrap();
        let wrong = if last == 'A' { 'B' } else { 'A' };
        let bad = format!("{}{}", &s[..s.len() - 1], wrong);
        assert!(Identifier::parse(&bad).unwrap_err().contains("校验位"));
        assert!(Identifier::parse("1.2.156.3005.2.x").is_err());
        assert!(Identifier::parse(&s.replace(".001.", ".1.")).is_err());
    }

    #[test]
    fn the_life_cycle_allows_only_what_makes_sense() {
        use LicenseStatus::*;
        use StatusAction::*;
        assert_eq!(transition(Valid, Suspend).unwrap(), Suspended);
        assert_eq!(transition(Suspended, Reinstate).unwrap(), Valid);
        assert_eq!(transition(Suspended, Revoke).unwrap(), Revoked);
        assert!(transition(Valid, Reinstate).is_err());
        assert!(transition(Revoked, Reinstate).is_err());
        assert!(transition(Superseded, Suspend).is_err());
        assert!(transition(Lost, Revoke).is_err());
    }

    #[test]
    fn validity_ends_the_day_before_the_anniversary() {
        // 2026-03-01 10:00 China time, 3 years → 2029-02-28 23:59:59.999.
        let from = kernel::clock::china()
            .with_ymd_and_hms(2026, 3, 1, 10, 0, 0)
            .unwrap()
            .timestamp_millis();
        let until = valid_until(from, Some(3)).unwrap();
        assert_eq!(
            kernel::clock::to_china(until)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            "2029-02-28 23:59:59"
        );
        assert_eq!(valid_until(from, None), None);
    }
    use chrono::TimeZone;
}
