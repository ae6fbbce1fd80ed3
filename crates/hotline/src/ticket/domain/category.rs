//! The complaint taxonomy (一级/二级/三级分类), its extra questions (附加问题) and reply templates.

use kernel::error::{Checks, Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Category {
    pub id: i64,
    pub parent_id: Option<i64>,
    /// 1, 2 or 3.
    pub level: i64,
    pub name: String,
    /// `城乡建设/住房保障/保障性住房` — unique.
    pub path: String,
    pub questions: Vec<Question>,
    pub active: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    Text,
    Number,
    Date,
    Single,
    Multiple,
}

/// An extra question a category asks (e.g. 小区名称, 涉及户数, 发生日期).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Stable code, used as the key in answers and as Open311 attribute code.
    pub code: String,
    pub label: String,
    pub kind: QuestionKind,
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub required: bool,
}

pub fn validate_questions(qs: &[Question]) -> Result<()> {
    let mut c = Checks::new();
    let mut seen = std::collections::HashSet::new();
    for (i, q) in qs.iter().enumerate() {
        let f = format!("questions[{i}]");
        let code_ok = !q.code.is_empty()
            && q.code.len() <= 40
            && q.code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        c.check(
            code_ok,
            &format!("{f}.code"),
            "invalid_code",
            "问题代码为小写字母、数字或下划线，最长 40 位",
        );
        c.check(
            seen.insert(q.code.clone()),
            &format!("{f}.code"),
            "duplicate",
            format!("问题代码“{}”重复", q.code),
        );
        c.text(&format!("{f}.label"), "问题名称", &q.label, 100);
        let choice = matches!(q.kind, QuestionKind::Single | QuestionKind::Multiple);
        c.check(
            !choice || !q.options.is_empty(),
            &format!("{f}.options"),
            "required",
            "选择题须至少有一个选项",
        );
        c.check(
            choice || q.options.is_empty(),
            &format!("{f}.options"),
            "not_allowed",
            "只有选择题才有选项",
        );
    }
    c.finish()
}

/// Checks answers against the questions and returns them normalized (numbers as numbers,
/// dates as `YYYY-MM-DD`, multiple choice as arrays). Unknown codes are refused.
pub fn check_answers(qs: &[Question], answers: &Map<String, Value>) -> Result<Map<String, Value>> {
    let mut c = Checks::new();
    let mut out = Map::new();
    for code in answers.keys() {
        if !qs.iter().any(|q| &q.code == code) {
            c.add(
                &format!("answers.{code}"),
                "unknown_question",
                format!("该分类没有附加问题“{code}”"),
            );
        }
    }
    for q in qs {
        let f = format!("answers.{}", q.code);
        let v = answers
            .get(&q.code)
            .filter(|v| !v.is_null() && v.as_str() != Some(""));
        let Some(v) = v else {
            if q.required {
                c.add(&f, "required", format!("请回答“{}”", q.label));
            }
            continue;
        };
        let text = |v: &Value| match v {
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        match q.kind {
            QuestionKind::Text => match text(v) {
                Some(s) if s.chars().count() <= 500 => {
                    out.insert(q.code.clone(), Value::String(s));
                }
                _ => c.add(
                    &f,
                    "invalid_value",
                    format!("“{}”应为不超过 500 字的文字", q.label),
                ),
            },
            QuestionKind::Number => match text(v)
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|x| x.is_finite())
            {
                Some(x) => {
                    out.insert(q.code.clone(), serde_json::json!(x));
                }
                None => c.add(&f, "invalid_value", format!("“{}”应为数字", q.label)),
            },
            QuestionKind::Date => {
                match text(v).and_then(|s| chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()) {
                    Some(d) => {
                        out.insert(
                            q.code.clone(),
                            Value::String(d.format("%Y-%m-%d").to_string()),
                        );
                    }
                    None => c.add(
                        &f,
                        "invalid_value",
                        format!("“{}”应为日期，格式如 2025-03-14", q.label),
                    ),
                }
            }
            QuestionKind::Single => match text(v) {
                Some(s) if q.options.contains(&s) => {
                    out.insert(q.code.clone(), Value::String(s));
                }
                _ => c.add(
                    &f,
                    "invalid_option",
                    format!("“{}”只能选：{}", q.label, q.options.join("、")),
                ),
            },
            QuestionKind::Multiple => {
                let picked: Option<Vec<String>> = match v {
                    Value::Array(a) => a.iter().map(text).collect(),
                    Value::String(s) => Some(
                        s.split([',', '，', '、'])
                            .map(|x| x.trim().to_owned())
                            .filter(|x| !x.is_empty())
                            .collect(),
                    ),
                    _ => None,
                };
                match picked {
                    Some(p) if !p.is_empty() && p.iter().all(|x| q.options.contains(x)) => {
                        out.insert(
                            q.code.clone(),
                            Value::Array(p.into_iter().map(Value::String).collect()),
                        );
                    }
                    _ => c.add(
                        &f,
                        "invalid_option",
                        format!("“{}”只能从这些选项中选：{}", q.label, q.options.join("、")),
                    ),
                }
            }
        }
    }
    c.finish()?;
    Ok(out)
}

/// A parsed taxonomy row: up to three level names.
pub fn taxonomy_paths(rows: &[(String, String, String)]) -> Result<Vec<Vec<String>>> {
    let mut out = Vec::new();
    for (i, (a, b, c)) in rows.iter().enumerate() {
        let parts: Vec<String> = [a, b, c]
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        if parts.is_empty() {
            continue;
        }
        if a.trim().is_empty() || (!c.trim().is_empty() && b.trim().is_empty()) {
            return Err(Error::field(
                format!("row {}", i + 2),
                "invalid_taxonomy",
                "分类层级不连续",
            ));
        }
        out.push(parts);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn qs() -> Vec<Question> {
        vec![
            Question {
                code: "estate".into(),
                label: "小区名称".into(),
                kind: QuestionKind::Text,
                options: vec![],
                required: true,
            },
            Question {
                code: "households".into(),
                label: "涉及户数".into(),
                kind: QuestionKind::Number,
                options: vec![],
                required: false,
            },
            Question {
                code: "since".into(),
                label: "发生日期".into(),
                kind: QuestionKind::Date,
                options: vec![],
                required: false,
            },
            Question {
                code: "kind".into(),
                label: "问题类型".into(),
                kind: QuestionKind::Single,
                options: vec!["停水".into(), "水压低".into()],
                required: true,
            },
            Question {
                code: "times".into(),
                label: "时段".into(),
                kind: QuestionKind::Multiple,
                options: vec!["白天".into(), "夜间".into()],
                required: false,
            },
        ]
    }

    #[test]
    fn answers_are_checked_and_normalized() {
        let a = json!({"estate": " 幸福小区 ", "households": "12", "since": "2025-03-14", "kind": "停水", "times": "白天、夜间"});
        let out = check_answers(&qs(), a.as_object().unwrap()).unwrap();
        assert_eq!(out["estate"], "幸福小区");
        assert_eq!(out["households"], 12.0);
        assert_eq!(out["times"], json!(["白天", "夜间"]));
        let bad = json!({"households": "很多", "since": "3月14日", "kind": "停电", "x": 1});
        let e = check_answers(&qs(), bad.as_object().unwrap()).unwrap_err();
        let fields: Vec<&str> = e.field_errors().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "answers.x",
                "answers.estate",
                "answers.households",
                "answers.since",
                "answers.kind"
            ]
        );
    }
}
