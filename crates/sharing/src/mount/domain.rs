//! 挂接: resources of published entries and the checking of their rows, pure.
//!
//! A mounted table's rows are held generically, one row per record with a JSON object of
//! canonical strings (`sharing_rows.data`), not as a table created per resource: the 信息项
//! differ per entry and change with its versions, and DDL made at run time would live outside
//! the migration runner and be written twice (SQLite and PostgreSQL). Every value is checked
//! against its 信息项 on the way in (`catalog::domain::check_value`), so the gateway serves
//! typed values from text it knows is canonical; row filters compare those strings in SQL.

use crate::catalog::domain::{check_value, DataType, Item, UpdateCycle};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sm3::{Digest, Sm3};
use std::collections::HashSet;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Resource {
    pub id: i64,
    /// 资源代码 of the resource: the entry's code and a number (`A101-000001.1`).
    pub code: String,
    pub entry_id: i64,
    pub kind: String,
    pub name: String,
    /// The 信息项 of the entry version it was mounted from.
    pub fields: Vec<Item>,
    pub entry_version: i64,
    /// `full` or `metadata` (see the call log).
    pub log_mode: String,
    pub row_count: i64,
    pub last_update_at: Option<i64>,
    pub created_at: i64,
}

impl Resource {
    pub fn field(&self, f: &str) -> Option<&Item> {
        self.fields.iter().find(|i| i.field == f)
    }

    /// Whether the last update is later than the 更新周期 allows (更新率). A resource never
    /// loaded is overdue from the day it was mounted.
    pub fn overdue(&self, cycle: UpdateCycle, now: i64) -> bool {
        match cycle.allowed_ms() {
            None => false,
            Some(ms) => now - self.last_update_at.unwrap_or(self.created_at) > ms,
        }
    }
}

/// One refused cell or row: the line the user sees (the file's line, or the position in a
/// pushed array from 1), the column (header as written, or field name) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = SharingRowError)]
pub struct RowError {
    pub line: usize,
    pub column: String,
    pub message: String,
}

/// What a load did.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LoadReport {
    pub resource_code: String,
    pub accepted: usize,
    pub rejected: usize,
    pub errors: Vec<RowError>,
}

/// A checked row: its key (the primary key's value, else the SM3 of the row, so the same row
/// loaded twice is stored once) and its canonical values.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedRow {
    pub key: String,
    pub data: Map<String, Value>,
}

/// One row as it came in: its line and (column label, field, raw text) cells.
pub struct RawRow<'a> {
    pub line: usize,
    pub cells: Vec<(&'a str, &'a Item, String)>,
}

/// Checks rows against the 信息项; good rows are kept, each bad one is named by line and
/// column (every bad cell of the row). A primary key seen twice refuses the later row.
pub fn check_rows(items: &[Item], rows: Vec<RawRow<'_>>) -> (Vec<CheckedRow>, Vec<RowError>) {
    let mut good = Vec::new();
    let mut errors = Vec::new();
    let mut keys = HashSet::new();
    for row in rows {
        let mut data = Map::new();
        let mut bad = Vec::new();
        let mut present = HashSet::new();
        for (label, item, raw) in &row.cells {
            present.insert(item.field.as_str());
            match check_value(item, raw) {
                Ok(Some(v)) => {
                    data.insert(item.field.clone(), Value::String(v));
                }
                Ok(None) => {}
                Err(m) => bad.push(RowError {
                    line: row.line,
                    column: (*label).to_owned(),
                    message: m,
                }),
            }
        }
        for it in items {
            if (it.required || it.primary_key) && !present.contains(it.field.as_str()) {
                bad.push(RowError {
                    line: row.line,
                    column: it.name.clone(),
                    message: "缺少该信息项".into(),
                });
            }
        }
        if !bad.is_empty() {
            errors.extend(bad);
            continue;
        }
        let key = match items.iter().find(|i| i.primary_key) {
            Some(pk) => data
                .get(&pk.field)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            None => row_hash(&data),
        };
        if !keys.insert(key.clone()) {
            let pk = items.iter().find(|i| i.primary_key);
            errors.push(RowError {
                line: row.line,
                column: pk.map_or_else(|| "(整行)".to_owned(), |p| p.name.clone()),
                message: "与前面的行重复".into(),
            });
            continue;
        }
        good.push(CheckedRow { key, data });
    }
    (good, errors)
}

fn row_hash(data: &Map<String, Value>) -> String {
    let mut s = String::new();
    kernel::audit::canonical_json(&Value::Object(data.clone()), &mut s);
    hex::encode(Sm3::digest(s.as_bytes()))
}

/// The text of a pushed JSON value (numbers and bools as written; null as empty), or why not.
pub fn json_cell(v: &Value) -> Result<String, String> {
    match v {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err("须为字符串、数值、布尔值或 null".into()),
    }
}

/// A stored canonical string as the gateway serves it: ints and bools typed, the rest text
/// (decimals keep their written precision as text).
pub fn typed(item: &Item, v: &str) -> Value {
    match item.data_type {
        DataType::Int => v
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(v.to_owned())),
        DataType::Bool => Value::Bool(v == "true"),
        _ => Value::String(v.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::domain::Semantic;

    fn items() -> Vec<Item> {
        let mk = |f: &str, t: DataType, len: u32, s: Semantic, pk: bool| Item {
            name: f.to_uppercase(),
            field: f.into(),
            data_type: t,
            length: len,
            scale: 0,
            sensitive: false,
            secret: false,
            primary_key: pk,
            element: String::new(),
            semantic: s,
            required: false,
            source_dept_id: None,
        };
        vec![
            mk("id_no", DataType::Char, 18, Semantic::IdCard, true),
            mk("age", DataType::Int, 3, Semantic::Plain, false),
        ]
    }

    #[test]
    fn bad_rows_are_named_and_good_rows_kept() {
        let it = items();
        let good_id = kernel::codes::id_card_with_check("11010519900307123");
        let rows = vec![
            RawRow {
                line: 2,
                cells: vec![
                    ("身份证", &it[0], good_id.clone()),
                    ("年龄", &it[1], "30".into()),
                ],
            },
            RawRow {
                line: 3,
                cells: vec![
                    ("身份证", &it[0], "123".into()),
                    ("年龄", &it[1], "abc".into()),
                ],
            },
            RawRow {
                line: 4,
                cells: vec![
                    ("身份证", &it[0], good_id.clone()),
                    ("年龄", &it[1], "".into()),
                ],
            },
        ];
        let (good, bad) = check_rows(&it, rows);
        assert_eq!(good.len(), 1);
        assert_eq!(good[0].key, good_id);
        assert_eq!(
            bad.iter()
                .map(|e| (e.line, e.column.as_str()))
                .collect::<Vec<_>>(),
            vec![(3, "身份证"), (3, "年龄"), (4, "ID_NO")]
        );
    }
}
