//! 秒批: rules for simple items, kept as data on the item. A case that meets every condition is
//! approved without a person, and the decision says which conditions were checked and how.

use crate::domain::code_enum;
use crate::items::domain::ItemInput;
use kernel::error::{Checks, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

code_enum!(
    /// What a condition checks on one form field.
    Test {
        Present => "present", "已填写",
        IdCard => "id_card", "身份证号有效",
        CreditCode => "credit_code", "统一社会信用代码有效",
        AgeAtLeast => "age_at_least", "年满",
        OneOf => "one_of", "属于",
    }
);

/// One condition of a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The form field checked.
    pub field: String,
    pub test: Test,
    /// For `age_at_least`: the age in years; for `one_of`: the allowed values.
    #[serde(default)]
    pub value: Option<Value>,
}

/// 秒批 rule: approve automatically when every required material is there and every condition
/// holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoRule {
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

/// An automatic decision and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AutoDecision {
    pub approved: bool,
    /// One line per check, in order: what was checked and its outcome.
    pub explanation: Vec<String>,
}

impl AutoRule {
    pub fn validate(&self, item: &ItemInput) -> Result<()> {
        let mut c = Checks::new();
        for (i, cond) in self.conditions.iter().enumerate() {
            c.check(
                item.fields.iter().any(|f| f.key == cond.field),
                &format!("auto_rule.conditions[{i}].field"),
                "unknown_field",
                format!("秒批条件引用的字段“{}”不在表单中", cond.field),
            );
            let ok = match cond.test {
                Test::AgeAtLeast => cond.value.as_ref().and_then(Value::as_u64).is_some(),
                Test::OneOf => cond
                    .value
                    .as_ref()
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty()),
                _ => true,
            };
            c.check(
                ok,
                &format!("auto_rule.conditions[{i}].value"),
                "invalid",
                "“年满”需要年龄数字，“属于”需要非空的取值列表",
            );
        }
        c.finish()
    }

    /// Decides on `form` with the materials `missing` (names of required materials not there),
    /// as of `today` (for ages).
    pub fn decide(
        &self,
        item: &ItemInput,
        form: &Map<String, Value>,
        missing: &[String],
        today: chrono::NaiveDate,
    ) -> AutoDecision {
        let mut ok = true;
        let mut lines = Vec::new();
        if missing.is_empty() {
            lines.push("申请材料齐全".to_owned());
        } else {
            ok = false;
            lines.push(format!("缺少材料：{}", missing.join("、")));
        }
        for cond in &self.conditions {
            let label = item
                .fields
                .iter()
                .find(|f| f.key == cond.field)
                .map_or(cond.field.as_str(), |f| f.label.as_str());
            let v = form
                .get(&cond.field)
                .and_then(Value::as_str)
                .map(str::trim)
                .unwrap_or("");
            let (pass, what) = match cond.test {
                Test::Present => (!v.is_empty(), format!("{label}已填写")),
                Test::IdCard => (
                    kernel::codes::check_id_card(v).is_ok(),
                    format!("{label}为有效身份证号"),
                ),
                Test::CreditCode => (
                    kernel::codes::check_credit_code(v).is_ok(),
                    format!("{label}为有效统一社会信用代码"),
                ),
                Test::AgeAtLeast => {
                    let years = cond.value.as_ref().and_then(Value::as_u64).unwrap_or(0);
                    (
                        age_from_id(v, today).is_some_and(|a| a >= years),
                        format!("按{label}计算年满 {years} 周岁"),
                    )
                }
                Test::OneOf => {
                    let allowed: Vec<&str> = cond
                        .value
                        .as_ref()
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    (
                        allowed.contains(&v),
                        format!("{label}属于 {}", allowed.join("/")),
                    )
                }
            };
            ok &= pass;
            lines.push(format!("{what}：{}", if pass { "符合" } else { "不符合" }));
        }
        lines.push(if ok {
            "全部条件符合，系统自动准予办理（秒批）".to_owned()
        } else {
            "有条件不符合，转人工审查".to_owned()
        });
        AutoDecision {
            approved: ok,
            explanation: lines,
        }
    }
}

/// Whole years of age on `today` from an 18-digit 身份证号 (birth date in digits 7–14).
pub fn age_from_id(id: &str, today: chrono::NaiveDate) -> Option<u64> {
    use chrono::Datelike;
    kernel::codes::check_id_card(id).ok()?;
    let birth = chrono::NaiveDate::parse_from_str(&id[6..14], "%Y%m%d").ok()?;
    let mut age = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    u64::try_from(age).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{FieldKind, FormField};
    use crate::items::domain::tests::sample;
    use serde_json::json;

    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 3, 16).unwrap()
    }

    #[test]
    fn a_rule_approves_only_when_everything_holds_and_says_why() {
        let mut item = sample();
        item.fields.push(FormField {
            key: "id_no".into(),
            label: "身份证号".into(),
            kind: FieldKind::IdCard,
            required: true,
        });
        item.fields.push(FormField {
            key: "district".into(),
            label: "经营区域".into(),
            kind: FieldKind::Text,
            required: true,
        });
        let rule = AutoRule {
            conditions: vec![
                Condition {
                    field: "id_no".into(),
                    test: Test::AgeAtLeast,
                    value: Some(json!(18)),
                },
                Condition {
                    field: "district".into(),
                    test: Test::OneOf,
                    value: Some(json!(["A1区", "A2区"])),
                },
            ],
        };
        assert!(rule.validate(&item).is_ok());
        let adult = kernel::codes::id_card_with_check("11010119900307001");
        let child = kernel::codes::id_card_with_check("11010120150307001");
        let form = |id: &str, d: &str| {
            json!({"id_no": id, "district": d})
                .as_object()
                .unwrap()
                .clone()
        };
        let yes = rule.decide(&item, &form(&adult, "A1区"), &[], today());
        assert!(yes.approved, "{:?}", yes.explanation);
        assert_eq!(yes.explanation.len(), 4);
        assert!(yes.explanation[1].contains("年满 18 周岁：符合"));
        let minor = rule.decide(&item, &form(&child, "A1区"), &[], today());
        assert!(!minor.approved);
        assert!(minor.explanation[1].ends_with("不符合"));
        let elsewhere = rule.decide(&item, &form(&adult, "A9区"), &[], today());
        assert!(!elsewhere.approved);
        let missing = rule.decide(&item, &form(&adult, "A1区"), &["健康证明".into()], today());
        assert!(!missing.approved);
        assert_eq!(missing.explanation[0], "缺少材料：健康证明");
        // A rule that names a field the form lacks is refused.
        let bad = AutoRule {
            conditions: vec![Condition {
                field: "nope".into(),
                test: Test::Present,
                value: None,
            }],
        };
        assert_eq!(bad.validate(&item).unwrap_err().code(), "unknown_field");
    }

    #[test]
    fn age_counts_whole_years() {
        let id = kernel::codes::id_card_with_check("11010120080317001");
        assert_eq!(age_from_id(&id, today()), Some(17));
        let id = kernel::codes::id_card_with_check("11010120080316001");
        assert_eq!(age_from_id(&id, today()), Some(18));
        assert_eq!(age_from_id("123", today()), None);
    }
}
