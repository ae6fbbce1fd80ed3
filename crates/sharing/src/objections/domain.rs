//! 数据异议, pure: its states, the checks of a new one and of an answer.

use crate::catalog::domain::{check_value, Item, Semantic};
use kernel::error::{Checks, Result};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Working days the source department has to answer.
pub const ANSWER_WORKING_DAYS: u32 = 5;

crate::catalog::domain::code_enum!(
    /// Where an objection stands.
    ObjectionStatus {
        Open = "open" / "待核实",
        Confirmed = "confirmed" / "核实无误",
        Corrected = "corrected" / "已更正",
    }
);

/// A 数据异议 as sent: which record (资源代码 and the primary key's value), which 信息项, the
/// value the raising department holds, and why.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewObjection {
    pub resource_code: String,
    pub row_key: String,
    pub field: String,
    pub claimed_value: String,
    pub reason: String,
}

/// The source department's answer: `confirmed` (the registry is right) or `corrected` (the
/// registry takes `corrected_value`, by default the claimed one).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionAnswer {
    pub outcome: ObjectionStatus,
    pub answer: String,
    #[serde(default)]
    pub corrected_value: Option<String>,
}

/// A stored objection.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Objection {
    pub id: i64,
    pub resource_id: i64,
    pub row_key: String,
    pub field: String,
    pub registry_value: String,
    pub claimed_value: String,
    pub reason: String,
    pub raised_by_dept: i64,
    pub raised_by: String,
    pub source_dept: i64,
    pub status: ObjectionStatus,
    pub answer: String,
    pub corrected_value: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<i64>,
    pub deadline_at: i64,
    pub created_at: i64,
}

/// Checks a new objection's own fields; returns the claimed value in its canonical form.
pub fn check_new(n: &NewObjection, item: Option<&Item>) -> Result<String> {
    let mut c = Checks::new();
    if n.resource_code.trim().is_empty() {
        c.add("resource_code", "required", "请填写资源代码");
    }
    if n.row_key.trim().is_empty() {
        c.add("row_key", "required", "请填写记录的主键值（如身份证号）");
    }
    let reason = n.reason.trim().chars().count();
    if reason < 4 {
        c.add("reason", "required", "请说明异议的依据（至少 4 个字）");
    } else if reason > 500 {
        c.add("reason", "too_long", "异议说明不能超过 500 个字");
    }
    let mut canonical = String::new();
    match item {
        None => c.add("field", "unknown_field", "该资源没有这个信息项"),
        Some(it) if it.secret => c.add("field", "secret_field", "涉密信息项不能提出异议"),
        Some(it) if it.primary_key => c.add(
            "field",
            "primary_key",
            "主键不能更正；如主键有误，请对其他信息项提出异议或联系提供部门",
        ),
        Some(it) => match check_value(it, n.claimed_value.trim()) {
            Ok(Some(v)) => canonical = v,
            Ok(None) => c.add("claimed_value", "required", "请填写本部门掌握的值"),
            Err(m) => c.add("claimed_value", "invalid", m),
        },
    }
    c.finish()?;
    Ok(canonical)
}

/// Whether a value of this 信息项 is personal (shown masked to those outside the two
/// departments).
pub fn personal(item: Option<&Item>, value: &str) -> Option<kernel::mask::Kind> {
    use kernel::mask::Kind;
    match item.map(|i| i.semantic) {
        Some(Semantic::IdCard) => Some(Kind::IdCard),
        Some(Semantic::Mobile) => Some(Kind::Phone),
        Some(Semantic::Name) => Some(Kind::Name),
        Some(Semantic::Address) => Some(Kind::Address),
        _ => kernel::mask::kind_of_value(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::domain::DataType;

    fn item(field: &str, semantic: Semantic, pk: bool) -> Item {
        Item {
            name: field.to_uppercase(),
            field: field.into(),
            data_type: DataType::Char,
            length: 18,
            scale: 0,
            sensitive: false,
            secret: false,
            primary_key: pk,
            element: String::new(),
            semantic,
            required: false,
            source_dept_id: None,
        }
    }

    fn new(field: &str, value: &str, reason: &str) -> NewObjection {
        NewObjection {
            resource_code: "A1-1".into(),
            row_key: "k".into(),
            field: field.into(),
            claimed_value: value.into(),
            reason: reason.into(),
        }
    }

    #[test]
    fn each_bad_part_is_named() {
        let id = item("id_no", Semantic::IdCard, false);
        let err = check_new(&new("id_no", "123", "不"), Some(&id)).unwrap_err();
        let fields: Vec<_> = match err {
            kernel::Error::Validation(f) => f.into_iter().map(|f| f.field).collect(),
            e => panic!("{e:?}"),
        };
        assert_eq!(fields, ["reason", "claimed_value"]);
        let pk = item("id_no", Semantic::IdCard, true);
        assert!(check_new(&new("id_no", "x", "户籍系统记录不同"), Some(&pk)).is_err());
        assert!(check_new(&new("x", "x", "户籍系统记录不同"), None).is_err());
        let good = kernel::codes::id_card_with_check("11010519900307123");
        assert_eq!(
            check_new(&new("id_no", &good, "户籍系统记录不同"), Some(&id)).unwrap(),
            good
        );
    }
}
