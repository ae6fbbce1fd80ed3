//! License types and their versions, pure.

use kernel::error::{Checks, Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// Who holds a license of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HolderKind {
    /// 自然人, identified by 身份证号.
    Person,
    /// 法人, identified by 统一社会信用代码.
    Org,
}

impl HolderKind {
    pub fn code(self) -> &'static str {
        match self {
            HolderKind::Person => "person",
            HolderKind::Org => "org",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "person" => Some(HolderKind::Person),
            "org" => Some(HolderKind::Org),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            HolderKind::Person => "自然人",
            HolderKind::Org => "法人",
        }
    }
    /// Checks the holder's identifier (身份证号 or 统一社会信用代码) with its check character.
    pub fn check_id(self, id: &str) -> std::result::Result<(), String> {
        match self {
            HolderKind::Person => kernel::codes::check_id_card(id),
            HolderKind::Org => kernel::codes::check_credit_code(id),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = LicenseFieldKind)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FieldKind {
    Text,
    /// `YYYY-MM-DD`.
    Date,
    Number,
    /// One of the listed values (代码表).
    Code {
        options: Vec<String>,
    },
    /// A `data:image/png|jpeg;base64,…` URL, at most 64 KiB.
    Image,
}

/// One typed field of a license (照面项). (`flatten` rules out `deny_unknown_fields` here.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldDef {
    /// English key in the credential (`business_scope`).
    pub key: String,
    /// Chinese label on the face (`经营范围`).
    pub label: String,
    #[serde(flatten)]
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
}

/// What a version of a type says. A published version never changes; licenses keep theirs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TypeContent {
    /// Departments that may issue it.
    pub dept_ids: Vec<i64>,
    pub fields: Vec<FieldDef>,
    /// Years from issuance; `None` is 长期有效.
    #[serde(default)]
    pub validity_years: Option<u32>,
    /// 照面: field keys in the order the face shows them (all fields when empty).
    #[serde(default)]
    pub face: Vec<String>,
    /// Holders are reminded this many days before expiry (none when `None`).
    #[serde(default)]
    pub remind_days: Option<u32>,
}

/// A new type with its first (draft) version.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewType {
    /// GB/T 36904 类型代码: the defining authority's 统一社会信用代码 + 3 digits.
    pub code: String,
    pub name: String,
    pub holder_kind: HolderKind,
    pub content: TypeContent,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct LicenseType {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub holder_kind: HolderKind,
    /// 0 until a version is published.
    pub published_version: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct TypeVersion {
    pub type_id: i64,
    pub version: i64,
    pub content: TypeContent,
    pub published_at: Option<i64>,
}

/// Checks a GB/T 36904 type code: 18-character 统一社会信用代码 (with its check character)
/// followed by a 3-digit sequence.
pub fn check_type_code(code: &str) -> std::result::Result<(), String> {
    let chars: Vec<char> = code.chars().collect();
    if chars.len() != 21 {
        return Err("证照类型代码应为 21 位：18 位统一社会信用代码加 3 位顺序号".into());
    }
    let (uscc, seq): (String, String) =
        (chars[..18].iter().collect(), chars[18..].iter().collect());
    kernel::codes::check_credit_code(&uscc)
        .map_err(|e| format!("证照类型代码的前 18 位不是有效的统一社会信用代码：{e}"))?;
    if !seq.chars().all(|c| c.is_ascii_digit()) {
        return Err("证照类型代码的后 3 位应为数字".into());
    }
    Ok(())
}

impl NewType {
    pub fn validate(&self) -> Result<()> {
        let mut c = Checks::new();
        if let Err(e) = check_type_code(self.code.trim()) {
            c.add("code", "invalid_type_code", e);
        }
        c.text("name", "证照名称", &self.name, 60);
        c.merge(self.content.validate());
        c.finish()
    }
}

impl TypeContent {
    pub fn validate(&self) -> Result<()> {
        let mut c = Checks::new();
        c.check(
            !self.dept_ids.is_empty(),
            "content.dept_ids",
            "required",
            "请至少指定一个颁发部门",
        );
        c.check(
            !self.fields.is_empty(),
            "content.fields",
            "required",
            "请至少定义一个照面项",
        );
        let mut seen = std::collections::HashSet::new();
        for (i, f) in self.fields.iter().enumerate() {
            let at = format!("content.fields[{i}]");
            let key_ok = !f.key.is_empty()
                && f.key.len() <= 40
                && f.key.starts_with(|ch: char| ch.is_ascii_lowercase())
                && f.key
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
            c.check(
                key_ok,
                &format!("{at}.key"),
                "invalid_key",
                "照面项代码应为小写字母开头的字母、数字或下划线，至多 40 位",
            );
            c.check(
                seen.insert(f.key.as_str()),
                &format!("{at}.key"),
                "duplicate",
                format!("照面项代码“{}”重复", f.key),
            );
            c.text(&format!("{at}.label"), "照面项名称", &f.label, 40);
            if let FieldKind::Code { options } = &f.kind {
                c.check(
                    !options.is_empty(),
                    &format!("{at}.options"),
                    "required",
                    "代码表至少要有一个取值",
                );
            }
        }
        for (i, k) in self.face.iter().enumerate() {
            c.check(
                self.fields.iter().any(|f| &f.key == k),
                &format!("content.face[{i}]"),
                "unknown_field",
                format!("照面布局中的“{k}”不是本类型的照面项"),
            );
        }
        if let Some(y) = self.validity_years {
            c.check(
                (1..=100).contains(&y),
                "content.validity_years",
                "out_of_range",
                "有效期年数应在 1 到 100 之间（长期有效请留空）",
            );
        }
        c.finish()
    }

    /// Checks a license's field values against the type and returns them cleaned (trimmed,
    /// numbers as numbers); errors name `fields.<key>`.
    pub fn check_values(&self, values: &Map<String, Value>) -> Result<Map<String, Value>> {
        let mut c = Checks::new();
        let mut out = Map::new();
        for k in values.keys() {
            if !self.fields.iter().any(|f| &f.key == k) {
                c.add(
                    &format!("fields.{k}"),
                    "unknown_field",
                    format!("“{k}”不是该证照类型的照面项"),
                );
            }
        }
        for f in &self.fields {
            let at = format!("fields.{}", f.key);
            let raw = match values.get(&f.key) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if s.trim().is_empty() => None,
                Some(v) => Some(v),
            };
            let Some(raw) = raw else {
                if f.required {
                    c.add(&at, "required", format!("请填写“{}”", f.label));
                }
                continue;
            };
            let text = match raw {
                Value::String(s) => s.trim().to_owned(),
                Value::Number(n) => n.to_string(),
                _ => {
                    c.add(&at, "invalid", format!("“{}”应为文字或数字", f.label));
                    continue;
                }
            };
            let v = match &f.kind {
                FieldKind::Text => {
                    if text.chars().count() > 500 {
                        c.add(&at, "too_long", format!("“{}”至多 500 字", f.label));
                    }
                    Value::String(text)
                }
                FieldKind::Date => {
                    if chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").is_err() {
                        c.add(
                            &at,
                            "invalid_date",
                            format!("“{}”应为日期，例如 2026-01-31", f.label),
                        );
                    }
                    Value::String(text)
                }
                FieldKind::Number => match text.parse::<f64>() {
                    Ok(n) if n.is_finite() => serde_json::Number::from_f64(n)
                        .map(|n| {
                            // Whole numbers stay integers in the credential.
                            if n.as_f64()
                                .is_some_and(|x| x.fract() == 0.0 && x.abs() < 9e15)
                            {
                                Value::from(n.as_f64().unwrap_or_default() as i64)
                            } else {
                                Value::Number(n)
                            }
                        })
                        .unwrap_or(Value::Null),
                    _ => {
                        c.add(&at, "invalid_number", format!("“{}”应为数字", f.label));
                        Value::Null
                    }
                },
                FieldKind::Code { options } => {
                    if !options.contains(&text) {
                        c.add(
                            &at,
                            "not_in_list",
                            format!("“{}”应为以下之一：{}", f.label, options.join("、")),
                        );
                    }
                    Value::String(text)
                }
                FieldKind::Image => {
                    let ok = (text.starts_with("data:image/png;base64,")
                        || text.starts_with("data:image/jpeg;base64,"))
                        && text.len() <= 64 * 1024;
                    if !ok {
                        c.add(
                            &at,
                            "invalid_image",
                            format!("“{}”应为 PNG 或 JPEG 的 data URL，至多 64 KiB", f.label),
                        );
                    }
                    Value::String(text)
                }
            };
            out.insert(f.key.clone(), v);
        }
        c.finish()?;
        Ok(out)
    }

    /// The fields in face order.
    pub fn face_fields(&self) -> Vec<&FieldDef> {
        if self.face.is_empty() {
            self.fields.iter().collect()
        } else {
            self.face
                .iter()
                .filter_map(|k| self.fields.iter().find(|f| &f.key == k))
                .collect()
        }
    }
}

/// Refuses a change to a published version.
pub fn ensure_draft(v: &TypeVersion) -> Result<()> {
    if v.published_at.is_some() {
        return Err(Error::IllegalTransition {
            detail: format!("第 {} 版已发布，不能修改；请新建版本", v.version),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn content() -> TypeContent {
        serde_json::from_value(json!({
            "dept_ids": [1],
            "fields": [
                {"key": "name", "label": "姓名", "kind": "text", "required": true},
                {"key": "issued_on", "label": "发证日期", "kind": "date"},
                {"key": "capital", "label": "注册资本", "kind": "number"},
                {"key": "category", "label": "类别", "kind": "code", "options": ["食品", "餐饮"]}
            ],
            "validity_years": 5
        }))
        .unwrap()
    }

    #[test]
    fn type_codes_carry_a_valid_credit_code_and_three_digits() {
        let uscc = kernel::codes::credit_code_with_check("11100000000013338");
        assert!(check_type_code(&format!("{uscc}032")).is_ok());
        assert!(check_type_code(&format!("{uscc}03")).is_err());
        assert!(check_type_code(&format!("{uscc}03A")).is_err());
        let mut bad = uscc.clone();
        let last = if bad.ends_with('0') { '1' } else { '0' };
        bad.pop();
        bad.push(last);
        assert!(
            check_type_code(&format!("{bad}032")).is_err(),
            "wrong check char"
        );
    }

    #[test]
    fn values_are_checked_by_kind_and_named_by_field() {
        let c = content();
        let ok = c
            .check_values(
                &serde_json::from_value(
                    json!({"name": " 张三 ", "capital": "100", "category": "餐饮"}),
                )
                .unwrap(),
            )
            .unwrap();
        assert_eq!(ok["name"], "张三");
        assert_eq!(ok["capital"], 100);
        let Err(Error::Validation(errs)) = c.check_values(
            &serde_json::from_value(
                json!({"issued_on": "2026-13-01", "capital": "x", "category": "其他", "zzz": 1}),
            )
            .unwrap(),
        ) else {
            panic!("should fail")
        };
        let names: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "fields.name",
            "fields.issued_on",
            "fields.capital",
            "fields.category",
            "fields.zzz",
        ] {
            assert!(names.contains(&f), "{f} not named: {names:?}");
        }
    }

    #[test]
    fn published_versions_are_immutable() {
        let v = TypeVersion {
            type_id: 1,
            version: 1,
            content: content(),
            published_at: Some(1),
        };
        assert!(ensure_draft(&v).is_err());
        assert!(ensure_draft(&TypeVersion {
            published_at: None,
            ..v
        })
        .is_ok());
    }
}
