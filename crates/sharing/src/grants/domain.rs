//! 申请用数 and grants, pure: the approval chain each 共享属性 asks for, the masks, the row
//! filter, and what a grant allows at a moment.

use crate::catalog::domain::{is_field_name, ShareKind};
use kernel::error::{Checks, Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sm3::{Digest, Sm3};
use utoipa::ToSchema;

crate::catalog::domain::code_enum!(
    /// A level of the approval chain.
    #[schema(as = SharingLevel)]
    Level {
        /// 提供方数据专员.
        ProviderOfficer = "provider_officer" / "提供部门数据专员",
        /// 提供方首席数据官.
        ChiefOfficer = "chief_officer" / "提供部门首席数据官",
        /// 数据局.
        Bureau = "bureau" / "数据局",
    }
);

crate::catalog::domain::code_enum!(
    RequestStatus {
        Pending = "pending" / "审批中",
        Approved = "approved" / "已批准",
        Refused = "refused" / "未通过",
    }
);

crate::catalog::domain::code_enum!(
    StepStatus {
        Waiting = "waiting" / "未开始",
        Pending = "pending" / "待审批",
        Approved = "approved" / "同意",
        Refused = "refused" / "不同意",
    }
);

crate::catalog::domain::code_enum!(
    GrantStatus {
        Active = "active" / "有效",
        Revoked = "revoked" / "已撤销",
    }
);

/// The levels a request passes through: 无条件 the provider's data officer only; 有条件 the data
/// officer, the 首席数据官, then the bureau; 不予共享 none (refused at once with its 依据).
pub fn chain(kind: ShareKind) -> &'static [Level] {
    match kind {
        ShareKind::Unconditional => &[Level::ProviderOfficer],
        ShareKind::Conditional => &[Level::ProviderOfficer, Level::ChiefOfficer, Level::Bureau],
        ShareKind::NotShared => &[],
    }
}

/// Working days each level has to decide.
pub const STEP_WORKING_DAYS: u32 = 5;

crate::catalog::domain::code_enum!(
    /// How a granted field is served. The Apache Ranger types, and the kinds of `kernel::mask`.
    Mask {
        /// As stored.
        None = "NONE" / "不脱敏",
        /// Letters to `x` (capitals `X`), digits to `n`, other characters kept.
        Mask = "MASK" / "遮盖",
        /// The last four characters shown, letters and digits before them `x`.
        ShowLast4 = "MASK_SHOW_LAST_4" / "仅显示后四位",
        /// The first four characters shown, letters and digits after them `x`.
        ShowFirst4 = "MASK_SHOW_FIRST_4" / "仅显示前四位",
        /// SM3 of the value in hex, so that two holders can join on it.
        Hash = "MASK_HASH" / "SM3 哈希",
        /// Always null.
        Null = "MASK_NULL" / "置空",
        /// A date's year, as the first of January of it.
        DateShowYear = "MASK_DATE_SHOW_YEAR" / "仅显示年份",
        /// 身份证号: the first six and last four.
        IdCard = "MASK_ID_CARD" / "身份证号脱敏",
        /// 手机号: the first three and last four.
        Phone = "MASK_PHONE" / "手机号脱敏",
        /// 姓名: the first character.
        Name = "MASK_NAME" / "姓名脱敏",
        /// 地址: up to the street.
        Address = "MASK_ADDRESS" / "地址脱敏",
    }
);

fn redact(c: char) -> char {
    if c.is_numeric() {
        'n'
    } else if c.is_uppercase() {
        'X'
    } else if c.is_alphabetic() {
        'x'
    } else {
        c
    }
}

fn hide(c: char) -> char {
    if c.is_alphanumeric() {
        'x'
    } else {
        c
    }
}

impl Mask {
    /// The value served for `v` (a stored canonical string, or null). Null stays null, and an
    /// empty string stays empty (there is nothing to hide), except that `MASK_NULL` always
    /// gives null and `MASK_HASH` hashes the empty string like any other value. Values of four
    /// characters or fewer are shown whole by the SHOW_4 masks, as Ranger does.
    pub fn apply(self, v: Option<&str>) -> Option<String> {
        if self == Mask::Null {
            return None;
        }
        let v = v?;
        if v.is_empty() && self != Mask::Hash {
            return Some(String::new());
        }
        Some(match self {
            Mask::None => v.to_owned(),
            Mask::Mask => v.chars().map(redact).collect(),
            Mask::ShowLast4 => {
                let n = v.chars().count();
                v.chars()
                    .enumerate()
                    .map(|(i, c)| if i + 4 < n { hide(c) } else { c })
                    .collect()
            }
            Mask::ShowFirst4 => v
                .chars()
                .enumerate()
                .map(|(i, c)| if i < 4 { c } else { hide(c) })
                .collect(),
            Mask::Hash => hex::encode(Sm3::digest(v.as_bytes())),
            Mask::Null => unreachable!("handled above"),
            Mask::DateShowYear => {
                let year: String = v.chars().take(4).collect();
                if year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()) {
                    if v.len() > 10 {
                        format!("{year}-01-01 00:00:00")
                    } else {
                        format!("{year}-01-01")
                    }
                } else {
                    // Not a date: nothing of it can be shown as a year.
                    return None;
                }
            }
            Mask::IdCard => kernel::mask::id_card(v),
            Mask::Phone => kernel::mask::phone(v),
            Mask::Name => kernel::mask::name(v),
            Mask::Address => kernel::mask::address(v),
        })
    }

    /// Whether the served value keeps the stored type (int, bool): only unmasked values do.
    pub fn keeps_type(self) -> bool {
        self == Mask::None
    }
}

/// One granted field and how it is served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantField {
    pub field: String,
    #[serde(default = "no_mask")]
    pub mask: Mask,
}

fn no_mask() -> Mask {
    Mask::None
}

crate::catalog::domain::code_enum!(
    FilterOp {
        Eq = "eq" / "等于",
        In = "in" / "属于",
        Prefix = "prefix" / "以…开头",
    }
);

/// One condition of a row filter; a row is served when every condition holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SharingCondition)]
pub struct Condition {
    pub field: String,
    pub op: FilterOp,
    pub values: Vec<String>,
}

pub fn check_conditions(
    prefix: &str,
    conds: &[Condition],
    known: &dyn Fn(&str) -> bool,
) -> Result<()> {
    let mut c = Checks::new();
    for (i, x) in conds.iter().enumerate() {
        if !is_field_name(&x.field) || !known(&x.field) {
            c.add(
                &format!("{prefix}[{i}].field"),
                "unknown_field",
                format!("“{}”不是该资源的信息项", x.field),
            );
        }
        let n = x.values.len();
        let ok = match x.op {
            FilterOp::Eq | FilterOp::Prefix => n == 1,
            FilterOp::In => (1..=100).contains(&n),
        };
        if !ok {
            c.add(
                &format!("{prefix}[{i}].values"),
                "invalid_values",
                "等于/以…开头须给一个值，属于须给 1–100 个值",
            );
        }
    }
    c.finish()
}

/// A request as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// 资源代码 of the resources asked for (one request each, sent together).
    pub resources: Vec<String>,
    /// 用途.
    pub purpose: String,
    /// 依据 (法律法规、政策文件).
    pub legal_basis: String,
    /// 信息项 (英文字段名) needed, per resource in the same order; empty for all shared ones.
    #[serde(default)]
    pub fields: Vec<Vec<String>>,
    /// 使用系统: the consuming system, as registered by the department.
    pub system: String,
    /// 使用期限 `YYYY-MM-DD`, inclusive.
    pub period_from: String,
    pub period_until: String,
}

impl NewRequest {
    pub fn validate(&self) -> Result<()> {
        let mut c = Checks::new();
        if self.resources.is_empty() || self.resources.len() > 20 {
            c.add("resources", "required", "请选择 1–20 个资源");
        }
        c.text("purpose", "用途", &self.purpose, 500);
        c.text("legal_basis", "依据", &self.legal_basis, 500);
        c.text("system", "使用系统", &self.system, 60);
        if !self.fields.is_empty() && self.fields.len() != self.resources.len() {
            c.add("fields", "mismatch", "信息项须与资源一一对应");
        }
        c.finish()
    }
}

/// The terms the last approver sets; the defaults come from the 信息项 (sensitive identifiers
/// masked by kind).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantTerms {
    /// Fields and masks; when given, only fields of the request.
    #[serde(default)]
    pub fields: Option<Vec<GrantField>>,
    #[serde(default)]
    pub row_filter: Vec<Condition>,
    /// Calls per minute; default 60.
    #[serde(default)]
    pub rate_per_minute: Option<i64>,
    /// `YYYY-MM-DD`; default and latest the request's period end.
    #[serde(default)]
    pub expires_on: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Request {
    pub id: i64,
    pub batch: String,
    pub resource_id: i64,
    pub provider_dept_id: i64,
    pub consumer_dept_id: i64,
    pub requester: String,
    pub system: String,
    pub purpose: String,
    pub legal_basis: String,
    pub fields: Vec<String>,
    pub period_from: i64,
    pub period_until: i64,
    pub share_kind: ShareKind,
    pub status: RequestStatus,
    pub reason: String,
    pub created_at: i64,
    pub decided_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Step {
    pub id: i64,
    pub request_id: i64,
    pub seq: i64,
    pub level: Level,
    pub status: StepStatus,
    pub due_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Grant {
    pub id: i64,
    pub request_id: i64,
    pub resource_id: i64,
    pub provider_dept_id: i64,
    pub consumer_dept_id: i64,
    pub system: String,
    pub fields: Vec<GrantField>,
    pub row_filter: Vec<Condition>,
    pub rate_per_minute: i64,
    pub expires_at: i64,
    pub approved_until: i64,
    pub status: GrantStatus,
    pub revoke_reason: String,
    pub created_at: i64,
}

/// Why a grant cannot serve now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Revoked,
    Expired,
    RateLimited,
}

impl Grant {
    pub fn usable(&self, now: i64, calls_last_minute: i64) -> std::result::Result<(), Refusal> {
        if self.status == GrantStatus::Revoked {
            Err(Refusal::Revoked)
        } else if self.expires_at <= now {
            Err(Refusal::Expired)
        } else if calls_last_minute >= self.rate_per_minute {
            Err(Refusal::RateLimited)
        } else {
            Ok(())
        }
    }

    pub fn mask_of(&self, field: &str) -> Option<Mask> {
        self.fields
            .iter()
            .find(|f| f.field == field)
            .map(|f| f.mask)
    }
}

/// A change to a grant by its provider.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, tag = "action", rename_all = "snake_case")]
pub enum GrantChange {
    /// Moves the expiry, never beyond the approved period.
    Renew {
        expires_on: String,
    },
    /// Removes fields, strengthens masks or adds conditions: never widens.
    Narrow {
        #[serde(default)]
        fields: Option<Vec<GrantField>>,
        #[serde(default)]
        add_conditions: Vec<Condition>,
        #[serde(default)]
        rate_per_minute: Option<i64>,
    },
    Revoke {
        reason: String,
    },
}

/// Whether `new` is no wider than `old`: the same or fewer fields, each unmasked only if it
/// was unmasked before.
pub fn is_narrower(old: &[GrantField], new: &[GrantField]) -> bool {
    new.iter().all(|n| {
        old.iter()
            .find(|o| o.field == n.field)
            .is_some_and(|o| o.mask == n.mask || n.mask != Mask::None)
    })
}

/// The default mask of a field: identifiers and personal data by kind when sensitive.
pub fn default_mask(item: &crate::catalog::domain::Item) -> Mask {
    use crate::catalog::domain::Semantic::*;
    if !item.sensitive {
        return Mask::None;
    }
    match item.semantic {
        IdCard => Mask::IdCard,
        Mobile => Mask::Phone,
        Name => Mask::Name,
        Address => Mask::Address,
        CreditCode | Plain => Mask::Mask,
    }
}

/// A period's end day as the last millisecond of it, China time.
pub fn end_of_day(day: chrono::NaiveDate) -> i64 {
    day_start(day.succ_opt().unwrap_or(day)) - 1
}

/// Midnight China time that starts `day`.
pub fn day_start(day: chrono::NaiveDate) -> i64 {
    use chrono::TimeZone;
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    kernel::clock::china()
        .from_local_datetime(&midnight)
        .single()
        .map_or(0, |t| t.timestamp_millis())
}

pub fn parse_day(s: &str, field: &str) -> Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Error::field(field, "invalid_date", "日期格式须为 YYYY-MM-DD"))
}

/// A JSON cell text for the hash of a request (stable order of the query).
pub fn value_text(v: &Value) -> String {
    let mut s = String::new();
    kernel::audit::canonical_json(v, &mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_follow_the_share_kind() {
        assert_eq!(chain(ShareKind::Unconditional), &[Level::ProviderOfficer]);
        assert_eq!(
            chain(ShareKind::Conditional),
            &[Level::ProviderOfficer, Level::ChiefOfficer, Level::Bureau]
        );
        assert!(chain(ShareKind::NotShared).is_empty());
    }

    #[test]
    fn masks_are_exact_per_type() {
        let m = |k: Mask, v: &str| k.apply(Some(v));
        let s = |v: &str| Some(v.to_owned());
        // MASK
        assert_eq!(m(Mask::Mask, "Ab3-张"), s("Xxn-x"));
        assert_eq!(m(Mask::Mask, "ab"), s("xx"));
        assert_eq!(m(Mask::Mask, ""), s(""));
        // SHOW_LAST_4 / SHOW_FIRST_4, longer and ≤ 4 characters
        assert_eq!(m(Mask::ShowLast4, "13812345678"), s("xxxxxxx5678"));
        assert_eq!(m(Mask::ShowLast4, "AB-12345"), s("xx-x2345"));
        assert_eq!(m(Mask::ShowLast4, "1234"), s("1234"));
        assert_eq!(m(Mask::ShowLast4, "12"), s("12"));
        assert_eq!(m(Mask::ShowFirst4, "13812345678"), s("1381xxxxxxx"));
        assert_eq!(m(Mask::ShowFirst4, "abc"), s("abc"));
        assert_eq!(m(Mask::ShowFirst4, ""), s(""));
        // HASH: SM3 hex, the empty string hashed too (GB/T 32905 "abc" vector)
        assert_eq!(
            m(Mask::Hash, "abc"),
            s("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
        );
        assert_eq!(m(Mask::Hash, "").unwrap().len(), 64);
        // NULL
        assert_eq!(m(Mask::Null, "x"), None);
        assert_eq!(m(Mask::Null, ""), None);
        // DATE_SHOW_YEAR
        assert_eq!(m(Mask::DateShowYear, "1990-03-07"), s("1990-01-01"));
        assert_eq!(
            m(Mask::DateShowYear, "1990-03-07 12:30:00"),
            s("1990-01-01 00:00:00")
        );
        assert_eq!(m(Mask::DateShowYear, "199"), None);
        assert_eq!(m(Mask::DateShowYear, ""), s(""));
        // kernel::mask kinds
        assert_eq!(
            m(Mask::IdCard, "11010519491231002X"),
            s("110105********002X")
        );
        assert_eq!(m(Mask::IdCard, "123"), s("***"));
        assert_eq!(m(Mask::Phone, "13812345678"), s("138****5678"));
        assert_eq!(m(Mask::Phone, "1234"), s("****"));
        assert_eq!(m(Mask::Name, "张三"), s("张*"));
        assert_eq!(m(Mask::Name, "张"), s("*"));
        assert_eq!(
            m(Mask::Address, "A1区东湖街道幸福路12号"),
            s("A1区东湖街道****")
        );
        assert_eq!(m(Mask::Address, ""), s(""));
        // null stays null for every mask
        for k in Mask::ALL {
            assert_eq!(k.apply(None), None, "{k:?}");
        }
        assert_eq!(m(Mask::None, "原样"), s("原样"));
    }

    #[test]
    fn grants_refuse_with_their_reason() {
        let g = Grant {
            id: 1,
            request_id: 1,
            resource_id: 1,
            provider_dept_id: 1,
            consumer_dept_id: 2,
            system: "s".into(),
            fields: vec![],
            row_filter: vec![],
            rate_per_minute: 2,
            expires_at: 100,
            approved_until: 100,
            status: GrantStatus::Active,
            revoke_reason: String::new(),
            created_at: 0,
        };
        assert_eq!(g.usable(50, 1), Ok(()));
        assert_eq!(g.usable(50, 2), Err(Refusal::RateLimited));
        assert_eq!(g.usable(100, 0), Err(Refusal::Expired));
        let r = Grant {
            status: GrantStatus::Revoked,
            ..g
        };
        assert_eq!(r.usable(50, 0), Err(Refusal::Revoked));
    }

    #[test]
    fn narrowing_never_widens() {
        let f = |x: &str, m: Mask| GrantField {
            field: x.into(),
            mask: m,
        };
        let old = vec![f("a", Mask::None), f("b", Mask::Name)];
        assert!(is_narrower(&old, &[f("a", Mask::Hash)]));
        assert!(is_narrower(&old, &[f("b", Mask::Null)]));
        assert!(!is_narrower(&old, &[f("b", Mask::None)]));
        assert!(!is_narrower(&old, &[f("c", Mask::None)]));
    }
}
