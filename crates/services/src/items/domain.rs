//! 事项 and its 实施清单 entry, with the codes of GB/T 39046-2020 (政务服务平台基础数据规范).
//! A published version never changes: an edit makes a new version, and a case keeps the version
//! it was filed under.

use crate::cases::rules::AutoRule;
use crate::domain::code_enum;
use kernel::deadline::TimeUnit;
use kernel::error::{Checks, Result};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

code_enum!(
    /// 事项类型 (GB/T 39046-2020): the ten kinds of administrative power, and public services.
    ItemType {
        Licensing => "01", "行政许可",
        Penalty => "02", "行政处罚",
        Enforcement => "03", "行政强制",
        Levy => "04", "行政征收",
        Payment => "05", "行政给付",
        Inspection => "06", "行政检查",
        Confirmation => "07", "行政确认",
        Reward => "08", "行政奖励",
        Adjudication => "09", "行政裁决",
        OtherPower => "10", "其他行政权力",
        PublicService => "20", "公共服务",
    }
);

code_enum!(
    /// 行使层级.
    ExerciseLevel {
        National => "1", "国家级",
        Provincial => "2", "省级",
        City => "3", "市级",
        County => "4", "县级",
        Town => "5", "镇（乡、街道）级",
        Village => "6", "村（社区）级",
        Graded => "7", "分级管理",
    }
);

code_enum!(
    /// 办件类型.
    HandlingKind {
        Immediate => "1", "即办件",
        Promised => "2", "承诺件",
    }
);

code_enum!(
    /// 审批制 and 告知承诺制 variants are separate items; this says which one an item is.
    ApprovalMode {
        Approval => "approval", "审批制",
        Commitment => "commitment", "告知承诺制",
    }
);

code_enum!(
    /// 办理深度.
    Depth {
        OnlinePossible => "online_possible", "网上可办",
        FullyOnline => "fully_online", "全程网办",
        AtMostOnce => "at_most_once", "最多跑一次",
        ZeroVisit => "zero_visit", "零跑动",
    }
);

code_enum!(
    /// 出件方式.
    DeliveryMethod {
        Window => "window", "窗口领取",
        Post => "post", "邮寄送达",
        License => "license", "电子证照",
    }
);

code_enum!(
    /// 材料形式.
    MaterialForm {
        Original => "original", "原件",
        Copy => "copy", "复印件",
        Electronic => "electronic", "电子材料",
    }
);

code_enum!(
    /// 表单字段类型: how a value is checked.
    FieldKind {
        Text => "text", "文本",
        IdCard => "id_card", "身份证号",
        CreditCode => "credit_code", "统一社会信用代码",
        Mobile => "mobile", "手机号",
        Date => "date", "日期",
        Number => "number", "数字",
    }
);

code_enum!(
    ItemStatus {
        Draft => "draft", "草稿",
        Published => "published", "已发布",
        Superseded => "superseded", "已被新版本替代",
    }
);

/// One material (申请材料).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Material {
    /// Stable key: the same key in two items of a bundle is one material (asked once).
    pub key: String,
    pub name: String,
    #[serde(default = "original")]
    pub form: MaterialForm,
    #[serde(default = "one")]
    pub copies: u32,
    /// Required for everyone; otherwise only when `condition` applies.
    #[serde(default = "yes")]
    pub required: bool,
    #[serde(default)]
    pub condition: Option<String>,
    #[serde(default)]
    pub blank_form: bool,
    #[serde(default)]
    pub sample: bool,
    /// The electronic license it can be taken from instead (免提交).
    #[serde(default)]
    pub from_license: Option<String>,
    /// Taken from shared data instead of being submitted.
    #[serde(default)]
    pub from_shared_data: bool,
}

fn original() -> MaterialForm {
    MaterialForm::Original
}
fn one() -> u32 {
    1
}
fn yes() -> bool {
    true
}

impl Material {
    /// The applicant has to hand it in (not taken from a license or shared data).
    pub fn must_submit(&self) -> bool {
        self.from_license.is_none() && !self.from_shared_data
    }
}

/// One field of the application form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormField {
    /// Stable key: the same key in two items of a bundle is one field (一数一源).
    pub key: String,
    pub label: String,
    #[serde(default = "text_kind")]
    pub kind: FieldKind,
    #[serde(default = "yes")]
    pub required: bool,
}

fn text_kind() -> FieldKind {
    FieldKind::Text
}

/// 情形: a scenario of an item that changes its materials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub code: String,
    pub name: String,
    /// Materials this scenario adds.
    #[serde(default)]
    pub extra_materials: Vec<Material>,
    /// Keys of the item's materials this scenario does not need.
    #[serde(default)]
    pub waived: Vec<String>,
}

/// A special procedure (特别程序) the item may need, with its own days; they do not count
/// against the promised time limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecialProcedure {
    pub name: String,
    pub days: u32,
}

/// Everything an 实施清单 entry says; one version of an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    /// 基本编码, up to 10 characters.
    pub basic_code: String,
    /// 实施编码, up to 24 characters; unique.
    pub impl_code: String,
    pub name: String,
    pub item_type: ItemType,
    pub level: ExerciseLevel,
    pub dept_id: i64,
    #[serde(default = "approval")]
    pub mode: ApprovalMode,
    pub handling: HandlingKind,
    /// 设定依据.
    #[serde(default)]
    pub legal_basis: String,
    /// 受理条件.
    #[serde(default)]
    pub conditions: String,
    #[serde(default)]
    pub materials: Vec<Material>,
    #[serde(default)]
    pub fields: Vec<FormField>,
    #[serde(default)]
    pub scenarios: Vec<Scenario>,
    /// 法定时限.
    pub legal_days: u32,
    /// 承诺时限, at most the legal one; 0 for 即办件.
    pub promised_days: u32,
    #[serde(default)]
    pub time_unit: TimeUnit,
    /// 收费: empty when free.
    #[serde(default)]
    pub fees: String,
    pub depth: Depth,
    #[serde(default = "window_only")]
    pub delivery: Vec<DeliveryMethod>,
    /// 结果证照: the license type (GB/T 36904 code or name) the result is issued as. 出件 as
    /// 电子证照 issues it from the case's form (fields of the same key) in the applicant's name.
    #[serde(default)]
    pub result_license: Option<String>,
    /// 办理窗口 and opening hours.
    #[serde(default)]
    pub windows: String,
    #[serde(default)]
    pub hours: String,
    /// 跨域通办: region codes of partner regions where it can also be done.
    #[serde(default)]
    pub cross_region: Vec<String>,
    #[serde(default)]
    pub special_procedures: Vec<SpecialProcedure>,
    /// 秒批 rule: when set and met, the case is approved automatically.
    #[serde(default)]
    pub auto_rule: Option<AutoRule>,
    /// 特别程序 and 满意度 notes of the standard, free text.
    #[serde(default)]
    pub notes: String,
}

fn approval() -> ApprovalMode {
    ApprovalMode::Approval
}
fn window_only() -> Vec<DeliveryMethod> {
    vec![DeliveryMethod::Window]
}

fn code_chars(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

impl ItemInput {
    pub fn validate(&self) -> Result<()> {
        let mut c = Checks::new();
        let bc = self.basic_code.trim();
        if bc.is_empty() {
            c.add("basic_code", "required", "请填写基本编码");
        } else {
            c.check(
                bc.len() <= 10 && code_chars(bc),
                "basic_code",
                "invalid_basic_code",
                "基本编码应为不超过 10 位的字母或数字",
            );
        }
        let ic = self.impl_code.trim();
        if ic.is_empty() {
            c.add("impl_code", "required", "请填写实施编码");
        } else {
            c.check(
                ic.len() <= 24 && code_chars(ic),
                "impl_code",
                "invalid_impl_code",
                "实施编码应为不超过 24 位的字母或数字",
            );
        }
        c.text("name", "事项名称", &self.name, 200);
        c.check(self.dept_id > 0, "dept_id", "required", "请选择实施部门");
        c.check(
            self.promised_days <= self.legal_days,
            "promised_days",
            "promised_exceeds_legal",
            "承诺时限不能超过法定时限",
        );
        match self.handling {
            HandlingKind::Immediate => c.check(
                self.promised_days == 0,
                "promised_days",
                "immediate_has_no_days",
                "即办件的承诺时限应为 0（受理即办结）",
            ),
            HandlingKind::Promised => c.check(
                self.promised_days > 0,
                "promised_days",
                "required",
                "承诺件应有大于 0 的承诺时限",
            ),
        }
        c.check(
            !self.delivery.is_empty(),
            "delivery",
            "required",
            "请至少选择一种出件方式",
        );
        // Without a result type, 电子证照 delivery records the method only (a license kept by
        // another authority's library), as before result types existed.
        if let Some(r) = self
            .result_license
            .as_deref()
            .filter(|r| !r.trim().is_empty())
        {
            c.text("result_license", "结果证照类型", r, 100);
        }
        let mut keys = std::collections::HashSet::new();
        for (i, m) in self.materials.iter().enumerate() {
            c.text(&format!("materials[{i}].key"), "材料代码", &m.key, 64);
            c.text(&format!("materials[{i}].name"), "材料名称", &m.name, 200);
            c.check(
                keys.insert(m.key.trim().to_owned()),
                &format!("materials[{i}].key"),
                "duplicate",
                format!("材料代码“{}”重复", m.key),
            );
            c.check(
                m.copies >= 1,
                &format!("materials[{i}].copies"),
                "invalid",
                "份数至少为 1",
            );
        }
        let mut fkeys = std::collections::HashSet::new();
        for (i, f) in self.fields.iter().enumerate() {
            c.text(&format!("fields[{i}].key"), "字段代码", &f.key, 64);
            c.text(&format!("fields[{i}].label"), "字段名称", &f.label, 100);
            c.check(
                fkeys.insert(f.key.trim().to_owned()),
                &format!("fields[{i}].key"),
                "duplicate",
                format!("字段代码“{}”重复", f.key),
            );
        }
        for (i, s) in self.scenarios.iter().enumerate() {
            c.text(&format!("scenarios[{i}].code"), "情形代码", &s.code, 64);
            c.text(&format!("scenarios[{i}].name"), "情形名称", &s.name, 200);
            for w in &s.waived {
                c.check(
                    keys.contains(w.trim()),
                    &format!("scenarios[{i}].waived"),
                    "unknown_material",
                    format!("情形免交的材料“{w}”不在材料清单中"),
                );
            }
        }
        for (i, r) in self.cross_region.iter().enumerate() {
            c.check(
                kernel::codes::check_region_code(r).is_ok(),
                &format!("cross_region[{i}]"),
                "invalid_region_code",
                format!("“{r}”不是有效的行政区划代码"),
            );
        }
        for (i, p) in self.special_procedures.iter().enumerate() {
            c.text(
                &format!("special_procedures[{i}].name"),
                "特别程序名称",
                &p.name,
                100,
            );
        }
        if let Some(rule) = &self.auto_rule {
            c.check(
                self.mode == ApprovalMode::Commitment
                    || self.handling == HandlingKind::Immediate
                    || self.item_type != ItemType::Licensing,
                "auto_rule",
                "auto_rule_not_allowed",
                "秒批只适用于即办件、告知承诺制或非许可类的简单事项",
            );
            c.merge(rule.validate(self));
        }
        c.finish()
    }

    /// The materials an applicant of `scenario` has to consider, in order.
    pub fn materials_for(&self, scenario: Option<&str>) -> Result<Vec<Material>> {
        let Some(code) = scenario.filter(|s| !s.trim().is_empty()) else {
            return Ok(self.materials.clone());
        };
        let s = self
            .scenarios
            .iter()
            .find(|s| s.code == code.trim())
            .ok_or_else(|| {
                kernel::Error::field("scenario", "unknown_scenario", format!("没有情形“{code}”"))
            })?;
        let mut out: Vec<Material> = self
            .materials
            .iter()
            .filter(|m| !s.waived.contains(&m.key))
            .cloned()
            .collect();
        out.extend(s.extra_materials.iter().cloned());
        Ok(out)
    }

    /// 承诺时限压缩率: how much shorter the promise is than the law, 0..=1.
    pub fn compression(&self) -> f64 {
        if self.legal_days == 0 {
            0.0
        } else {
            1.0 - f64::from(self.promised_days) / f64::from(self.legal_days)
        }
    }
}

/// One version of an item as stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceItem {
    pub id: i64,
    pub version: i64,
    pub status: ItemStatus,
    pub region_code: String,
    #[serde(flatten)]
    pub content: ItemInput,
    pub created_at: i64,
    pub published_at: Option<i64>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn sample() -> ItemInput {
        ItemInput {
            basic_code: "000107001".into(),
            impl_code: "11690100MB0000001X0001".into(),
            name: "食品小摊贩备案".into(),
            item_type: ItemType::Confirmation,
            level: ExerciseLevel::County,
            dept_id: 1,
            mode: ApprovalMode::Approval,
            handling: HandlingKind::Promised,
            legal_basis: "《西地省食品小作坊小餐饮和食品摊贩管理条例》".into(),
            conditions: "在划定区域和时段经营的食品摊贩".into(),
            materials: vec![
                Material {
                    key: "id_card".into(),
                    name: "身份证".into(),
                    form: MaterialForm::Original,
                    copies: 1,
                    required: true,
                    condition: None,
                    blank_form: false,
                    sample: false,
                    from_license: Some("居民身份证".into()),
                    from_shared_data: false,
                },
                Material {
                    key: "health_cert".into(),
                    name: "健康证明".into(),
                    form: MaterialForm::Copy,
                    copies: 1,
                    required: true,
                    condition: None,
                    blank_form: false,
                    sample: false,
                    from_license: None,
                    from_shared_data: false,
                },
            ],
            fields: vec![FormField {
                key: "applicant_name".into(),
                label: "申请人姓名".into(),
                kind: FieldKind::Text,
                required: true,
            }],
            scenarios: vec![Scenario {
                code: "renew".into(),
                name: "延续备案".into(),
                extra_materials: vec![],
                waived: vec!["health_cert".into()],
            }],
            legal_days: 20,
            promised_days: 5,
            time_unit: TimeUnit::WorkingDays,
            fees: String::new(),
            depth: Depth::ZeroVisit,
            delivery: vec![DeliveryMethod::Window, DeliveryMethod::License],
            windows: "政务服务中心一楼综合窗口".into(),
            hours: "工作日 9:00-12:00, 13:30-17:30".into(),
            cross_region: vec!["690200".into()],
            result_license: None,
            special_procedures: vec![],
            auto_rule: None,
            notes: String::new(),
        }
    }

    #[test]
    fn codes_round_trip_and_follow_the_standard() {
        assert_eq!(ItemType::parse("01"), Some(ItemType::Licensing));
        assert_eq!(ItemType::parse("公共服务").map(|t| t.code()), Some("20"));
        assert_eq!(ExerciseLevel::parse("7"), Some(ExerciseLevel::Graded));
        assert_eq!(HandlingKind::parse("即办件"), Some(HandlingKind::Immediate));
        assert_eq!(ItemType::ALL.len(), 11);
    }

    #[test]
    fn an_item_is_checked_field_by_field() {
        assert!(sample().validate().is_ok());
        let mut bad = sample();
        bad.basic_code = "12345678901".into();
        bad.impl_code = "有中文".into();
        bad.promised_days = 30;
        bad.cross_region = vec!["12".into()];
        bad.scenarios[0].waived = vec!["nope".into()];
        let e = bad.validate().unwrap_err();
        let fields: Vec<&str> = e.field_errors().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "basic_code",
                "impl_code",
                "promised_days",
                "scenarios[0].waived",
                "cross_region[0]"
            ]
        );
        let mut imm = sample();
        imm.handling = HandlingKind::Immediate;
        assert_eq!(imm.validate().unwrap_err().code(), "immediate_has_no_days");
        imm.promised_days = 0;
        assert!(imm.validate().is_ok());
    }

    #[test]
    fn scenarios_change_the_materials() {
        let i = sample();
        let keys = |s| {
            i.materials_for(s)
                .unwrap()
                .into_iter()
                .map(|m| m.key)
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(None), ["id_card", "health_cert"]);
        assert_eq!(keys(Some("renew")), ["id_card"]);
        assert_eq!(
            i.materials_for(Some("x")).unwrap_err().code(),
            "unknown_scenario"
        );
        assert!((i.compression() - 0.75).abs() < 1e-9);
    }
}
