//! 回流, pure: sources, runs and the checks of a new task.

use crate::mount::domain::RowError;
use kernel::error::{Checks, Result};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Rows asked for per page from an HTTP source.
pub const PAGE_SIZE: usize = 500;
/// Pages one run reads at most (a source that never ends stops here).
pub const MAX_PAGES: usize = 2_000;
/// Errors kept per run (the counts are always whole).
pub const KEPT_ERRORS: usize = 200;

crate::catalog::domain::code_enum!(
    /// Where a 回流 task reads.
    SourceKind {
        Http = "http" / "接口拉取",
        Folder = "folder" / "目录文件",
    }
);

crate::catalog::domain::code_enum!(
    /// How a run ended.
    RunStatus {
        Ok = "ok" / "成功",
        Partial = "partial" / "部分成功",
        Failed = "failed" / "失败",
    }
);

/// A 回流 task as configured.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBackflow {
    /// 资源代码 of the base-registry table it fills.
    pub resource_code: String,
    pub name: String,
    pub source_kind: SourceKind,
    /// The endpoint's URL (`http`: asked with `page` and `page_size`, answering a JSON array
    /// or an object with `rows`, `data` or `items`), or an absolute folder path (`folder`:
    /// .csv, .xlsx and .json files).
    pub source: String,
    /// Minutes between scheduled runs (5 to 43,200).
    pub interval_minutes: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Backflow {
    pub id: i64,
    pub resource_id: i64,
    pub name: String,
    pub source_kind: SourceKind,
    pub source: String,
    pub interval_minutes: i64,
    pub enabled: bool,
    pub next_run_at: i64,
    pub last_run_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BackflowRun {
    pub id: i64,
    pub backflow_id: i64,
    /// `schedule` or `manual`.
    pub trigger: String,
    pub started_at: i64,
    pub finished_at: i64,
    pub status: RunStatus,
    /// Rows read from the source.
    pub fetched: i64,
    /// Rows that passed the 信息项 checks and were stored (new or replaced).
    pub accepted: i64,
    /// Rows the table did not hold before.
    pub added: i64,
    pub rejected: i64,
    /// Folder files already loaded in an earlier run, left alone.
    pub skipped_files: i64,
    pub errors: Vec<RowError>,
    pub message: String,
}

/// Checks a new task's own fields.
pub fn check_new(n: &NewBackflow) -> Result<()> {
    let mut c = Checks::new();
    if n.resource_code.trim().is_empty() {
        c.add("resource_code", "required", "请选择回流到的基础库资源");
    }
    let name = n.name.trim().chars().count();
    if name == 0 {
        c.add("name", "required", "请填写任务名称");
    } else if name > 60 {
        c.add("name", "too_long", "任务名称不能超过 60 个字");
    }
    let src = n.source.trim();
    match n.source_kind {
        SourceKind::Http => match url::Url::parse(src) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => c.add(
                "source",
                "invalid_url",
                "接口地址须为 http:// 或 https:// 开头的完整地址",
            ),
        },
        SourceKind::Folder => {
            if !std::path::Path::new(src).is_absolute() {
                c.add(
                    "source",
                    "invalid_path",
                    "目录须为服务器上的绝对路径，如 /data/huiliu/renkou",
                );
            }
        }
    }
    if !(5..=43_200).contains(&n.interval_minutes) {
        c.add(
            "interval_minutes",
            "out_of_range",
            "运行间隔须在 5 分钟到 30 天（43200 分钟）之间",
        );
    }
    c.finish()
}

/// The rows of one page of an HTTP source: a JSON array, or an object holding one under
/// `rows`, `data` or `items`.
pub fn page_rows(
    v: serde_json::Value,
) -> std::result::Result<Vec<serde_json::Map<String, serde_json::Value>>, String> {
    use serde_json::Value;
    let arr = match v {
        Value::Array(a) => a,
        Value::Object(mut o) => match ["rows", "data", "items"].iter().find_map(|k| o.remove(*k)) {
            Some(Value::Array(a)) => a,
            _ => {
                return Err(
                    "应答中没有数据行（应为数组，或含 rows、data、items 数组的对象）".into(),
                )
            }
        },
        _ => return Err("应答不是 JSON 数组或对象".into()),
    };
    arr.into_iter()
        .enumerate()
        .map(|(i, r)| match r {
            Value::Object(o) => Ok(o),
            _ => Err(format!("第 {} 行不是 JSON 对象", i + 1)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_come_as_arrays_or_wrapped() {
        assert_eq!(page_rows(json!([{"a": 1}])).unwrap().len(), 1);
        assert_eq!(
            page_rows(json!({"data": [{"a": 1}, {"a": 2}]}))
                .unwrap()
                .len(),
            2
        );
        assert!(page_rows(json!({"total": 3})).is_err());
        assert!(page_rows(json!([1])).is_err());
    }

    #[test]
    fn a_task_names_each_bad_field() {
        let n = NewBackflow {
            resource_code: String::new(),
            name: String::new(),
            source_kind: SourceKind::Http,
            source: "ftp://x".into(),
            interval_minutes: 1,
        };
        let kernel::Error::Validation(f) = check_new(&n).unwrap_err() else {
            panic!()
        };
        let fields: Vec<_> = f.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["resource_code", "name", "source", "interval_minutes"]
        );
    }
}
