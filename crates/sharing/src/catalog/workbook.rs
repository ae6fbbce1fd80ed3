//! The catalog as a workbook a 数据专员 fills in, pure: sheet 目录 (one row per entry, keyed by
//! 序号) and sheet 信息项 (one row per 信息项, naming its entry's 序号), plus 填写说明. The same
//! layout is exported and imported, so an exported catalog is a template.

use super::domain::*;
use kernel::error::Error;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use tabular::{Cell, Sheet};
use utoipa::ToSchema;

pub const ENTRY_SHEET: &str = "目录";
pub const ITEM_SHEET: &str = "信息项";
pub const HELP_SHEET: &str = "填写说明";

pub const ENTRY_HEADERS: &[&str] = &[
    "序号",
    "资源代码",
    "资源分类",
    "分类代码",
    "信息资源名称",
    "摘要",
    "格式",
    "提供方",
    "共享属性",
    "共享条件或依据",
    "共享方式",
    "开放属性",
    "开放条件",
    "更新周期",
    "关联资源代码",
    "发布日期",
];
pub const ITEM_HEADERS: &[&str] = &[
    "序号",
    "信息项名称",
    "英文字段名",
    "数据类型",
    "长度",
    "小数位",
    "主键",
    "必填",
    "敏感",
    "涉密",
    "类别",
    "数据元/代码集",
    "来源部门",
];

/// One bad cell (or row) of an imported workbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ImportError {
    pub sheet: String,
    /// The row number Excel shows.
    pub line: usize,
    /// The column's header ("" for the whole row).
    pub column: String,
    pub reason: String,
}

/// An entry read from the workbook: the 目录 row's line, its 信息项 rows' lines, the entry.
#[derive(Debug, Clone)]
pub struct ParsedEntry {
    pub line: usize,
    pub item_lines: Vec<usize>,
    pub entry: NewEntry,
}

/// A 信息项 row: its line, and the item or (its errors reported) nothing.
type ItemRow = (usize, Result<Item, ()>);

/// One exported entry: what the catalog says of it.
pub struct ExportEntry<'a> {
    pub code: &'a str,
    pub class_code: &'a str,
    pub provider: &'a str,
    pub published_at: Option<String>,
    pub content: &'a EntryContent,
}

fn yes(b: bool) -> Cell {
    Cell::Text(if b { "是" } else { "" }.into())
}

/// 分类码 without its letter, cut into levels of at most three characters: any cut gives the
/// same 分类码 back on import (the levels are stored joined).
fn class_levels(class_code: &str) -> String {
    let body: Vec<char> = class_code.chars().skip(1).collect();
    body.chunks(3)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(".")
}

/// The rows of the two sheets.
pub fn export_rows(
    entries: &[ExportEntry<'_>],
    dept_name: &dyn Fn(i64) -> String,
) -> (Vec<Vec<Cell>>, Vec<Vec<Cell>>) {
    let mut es = Vec::new();
    let mut is = Vec::new();
    for (n, e) in entries.iter().enumerate() {
        let no = n as i64 + 1;
        let c = e.content;
        let category = match e.class_code.chars().next() {
            Some('A') => Category::Basic,
            Some('B') => Category::Theme,
            _ => Category::Department,
        };
        es.push(vec![
            Cell::Int(no),
            Cell::Text(e.code.into()),
            Cell::Text(category.label().into()),
            Cell::Text(class_levels(e.class_code)),
            Cell::Text(c.name.clone()),
            Cell::Text(c.summary.clone()),
            Cell::Text(c.format.clone()),
            Cell::Text(e.provider.into()),
            Cell::Text(c.share_kind.label().into()),
            Cell::Text(c.share_condition.clone()),
            Cell::Text(c.share_mode.clone()),
            Cell::Text(c.open_kind.label().into()),
            Cell::Text(c.open_condition.clone()),
            Cell::Text(c.update_cycle.label().into()),
            Cell::Text(c.related.join("、")),
            Cell::from(e.published_at.clone()),
        ]);
        for it in &c.items {
            is.push(vec![
                Cell::Int(no),
                Cell::Text(it.name.clone()),
                Cell::Text(it.field.clone()),
                Cell::Text(it.data_type.label().into()),
                if it.length > 0 {
                    Cell::Int(it.length.into())
                } else {
                    Cell::Empty
                },
                if it.scale > 0 {
                    Cell::Int(it.scale.into())
                } else {
                    Cell::Empty
                },
                yes(it.primary_key),
                yes(it.required),
                yes(it.sensitive),
                yes(it.secret),
                Cell::Text(if it.semantic == Semantic::Plain {
                    String::new()
                } else {
                    it.semantic.label().into()
                }),
                Cell::Text(it.element.clone()),
                Cell::Text(it.source_dept_id.map(dept_name).unwrap_or_default()),
            ]);
        }
    }
    (es, is)
}

/// The 填写说明 sheet: one line per column.
pub fn help_rows() -> Vec<Vec<Cell>> {
    let labels = |all: Vec<&str>| all.join("、");
    [
        (
            "目录",
            "序号",
            "必填，正整数，每条目录一个；信息项表用它指明所属目录",
        ),
        (
            "目录",
            "资源代码",
            "导出时填写；导入时不读，新目录由系统编号",
        ),
        (
            "目录",
            "资源分类",
            &labels(Category::ALL.iter().map(|c| c.label()).collect()),
        ),
        (
            "目录",
            "分类代码",
            "类.项.目.细目，每级 1–3 位数字或大写字母，如 1.01.001",
        ),
        ("目录", "信息资源名称、摘要、格式", "必填"),
        (
            "目录",
            "提供方",
            "导出时填写；导入的目录一律作为导入人所在部门的草稿",
        ),
        (
            "目录",
            "共享属性",
            &labels(ShareKind::ALL.iter().map(|c| c.label()).collect()),
        ),
        (
            "目录",
            "共享条件或依据",
            "有条件共享写明条件，不予共享写明依据",
        ),
        (
            "目录",
            "开放属性",
            &labels(OpenKind::ALL.iter().map(|c| c.label()).collect()),
        ),
        (
            "目录",
            "更新周期",
            &labels(UpdateCycle::ALL.iter().map(|c| c.label()).collect()),
        ),
        ("目录", "关联资源代码", "多个用“、”分隔"),
        ("信息项", "序号", "所属目录的序号"),
        (
            "信息项",
            "数据类型",
            &labels(DataType::ALL.iter().map(|c| c.label()).collect()),
        ),
        (
            "信息项",
            "长度、小数位",
            "字符型必填长度；数值型可填总位数和小数位",
        ),
        ("信息项", "主键、必填、敏感、涉密", "填“是”或留空"),
        (
            "信息项",
            "类别",
            &labels(Semantic::ALL.iter().map(|c| c.label()).collect()),
        ),
        (
            "信息项",
            "来源部门",
            "仅基础信息资源可填（一数一源），留空即提供方",
        ),
    ]
    .iter()
    .map(|(s, c, n)| {
        vec![
            Cell::Text((*s).into()),
            Cell::Text((*c).into()),
            Cell::Text((*n).into()),
        ]
    })
    .collect()
}

fn parse_flag(v: &str) -> Option<bool> {
    match v.trim() {
        "" | "否" | "0" | "N" | "n" | "FALSE" | "false" => Some(false),
        "是" | "1" | "Y" | "y" | "TRUE" | "true" | "√" => Some(true),
        _ => None,
    }
}

fn parse_kind<T>(v: &str, parse: impl Fn(&str) -> Option<T>, short: &[(&str, T)]) -> Option<T>
where
    T: Copy,
{
    let v = v.trim();
    parse(v).or_else(|| short.iter().find(|(s, _)| *s == v).map(|(_, t)| *t))
}

/// Reads the two sheets into entries; every bad cell is an [`ImportError`] and its entry is
/// left out whole. `dept_id` finds a 来源部门 by name.
pub fn parse(
    entries: &Sheet,
    items: &Sheet,
    dept_id: &dyn Fn(&str) -> Option<i64>,
) -> Result<(Vec<ParsedEntry>, Vec<ImportError>), Error> {
    let mut errors = Vec::new();
    let need = |s: &Sheet, sheet: &str, cols: &[&str]| -> Result<(), Error> {
        for c in cols {
            if s.column(&[c]).is_none() {
                return Err(Error::field(
                    "file",
                    "missing_column",
                    format!("工作表“{sheet}”缺少“{c}”列，请使用导出的模板填写"),
                ));
            }
        }
        Ok(())
    };
    need(
        entries,
        ENTRY_SHEET,
        &[
            "序号",
            "资源分类",
            "分类代码",
            "信息资源名称",
            "共享属性",
            "开放属性",
            "更新周期",
        ],
    )?;
    need(
        items,
        ITEM_SHEET,
        &["序号", "信息项名称", "英文字段名", "数据类型"],
    )?;
    let col = |s: &Sheet, c: &str| s.column(&[c]);
    let err =
        |errors: &mut Vec<ImportError>, sheet: &str, line: usize, column: &str, reason: String| {
            errors.push(ImportError {
                sheet: sheet.into(),
                line,
                column: column.into(),
                reason,
            })
        };

    // 信息项 rows by their entry's 序号; a row naming no entry is bad on its own.
    let mut by_no: BTreeMap<i64, Vec<ItemRow>> = BTreeMap::new();
    for r in &items.rows {
        let g = |c: &str| r.get(col(items, c)).trim().to_owned();
        let mut bad =
            |column: &str, reason: String| err(&mut errors, ITEM_SHEET, r.line, column, reason);
        let Ok(no) = g("序号").parse::<i64>() else {
            bad("序号", format!("“{}”不是所属目录的序号", g("序号")));
            continue;
        };
        let before = errors.len();
        let mut bad =
            |column: &str, reason: String| err(&mut errors, ITEM_SHEET, r.line, column, reason);
        let data_type = DataType::parse(&g("数据类型"));
        if data_type.is_none() {
            bad(
                "数据类型",
                format!(
                    "“{}”不是数据类型，须为{}",
                    g("数据类型"),
                    DataType::ALL
                        .iter()
                        .map(|d| d.label())
                        .collect::<Vec<_>>()
                        .join("、")
                ),
            );
        }
        let mut num = |c: &str| -> u32 {
            let v = g(c);
            if v.is_empty() {
                return 0;
            }
            v.parse().unwrap_or_else(|_| {
                bad(c, format!("“{v}”不是非负整数"));
                0
            })
        };
        let (length, scale) = (num("长度"), num("小数位"));
        let mut bad =
            |column: &str, reason: String| err(&mut errors, ITEM_SHEET, r.line, column, reason);
        let mut flag = |c: &str| -> bool {
            parse_flag(&g(c)).unwrap_or_else(|| {
                bad(c, format!("“{}”须填“是”或留空", g(c)));
                false
            })
        };
        let (primary_key, required, sensitive, secret) =
            (flag("主键"), flag("必填"), flag("敏感"), flag("涉密"));
        let mut bad =
            |column: &str, reason: String| err(&mut errors, ITEM_SHEET, r.line, column, reason);
        let semantic = match g("类别").as_str() {
            "" => Semantic::Plain,
            v => Semantic::parse(v).unwrap_or_else(|| {
                bad("类别", format!("“{v}”不是信息项类别"));
                Semantic::Plain
            }),
        };
        let source_dept_id = match g("来源部门").as_str() {
            "" => None,
            v => dept_id(v).or_else(|| {
                bad("来源部门", format!("没有名为“{v}”的部门"));
                None
            }),
        };
        let item = match data_type {
            Some(data_type) if errors.len() == before => Ok(Item {
                name: g("信息项名称"),
                field: g("英文字段名"),
                data_type,
                length,
                scale,
                sensitive,
                secret,
                primary_key,
                element: g("数据元/代码集"),
                semantic,
                required,
                source_dept_id,
            }),
            _ => Err(()),
        };
        by_no.entry(no).or_default().push((r.line, item));
    }

    let mut out = Vec::new();
    let mut seen: HashMap<i64, usize> = HashMap::new();
    for r in &entries.rows {
        let g = |c: &str| r.get(col(entries, c)).trim().to_owned();
        let line = r.line;
        let before = errors.len();
        let mut bad =
            |column: &str, reason: String| err(&mut errors, ENTRY_SHEET, line, column, reason);
        let no = match g("序号").parse::<i64>() {
            Ok(n) if n > 0 => n,
            _ => {
                bad("序号", format!("“{}”不是正整数", g("序号")));
                0
            }
        };
        if no > 0 {
            if let Some(first) = seen.insert(no, line) {
                bad("序号", format!("序号 {no} 与第 {first} 行重复"));
            }
        }
        let category = parse_kind(
            &g("资源分类"),
            Category::parse,
            &[
                ("基础", Category::Basic),
                ("主题", Category::Theme),
                ("部门", Category::Department),
            ],
        );
        if category.is_none() {
            bad(
                "资源分类",
                format!(
                    "“{}”不是资源分类，须为基础、主题或部门信息资源",
                    g("资源分类")
                ),
            );
        }
        let share_kind = parse_kind(
            &g("共享属性"),
            ShareKind::parse,
            &[
                ("无条件", ShareKind::Unconditional),
                ("有条件", ShareKind::Conditional),
            ],
        );
        if share_kind.is_none() {
            bad(
                "共享属性",
                format!(
                    "“{}”不是共享属性，须为无条件共享、有条件共享或不予共享",
                    g("共享属性")
                ),
            );
        }
        let open_kind = parse_kind(
            &g("开放属性"),
            OpenKind::parse,
            &[
                ("无条件", OpenKind::Open),
                ("有条件", OpenKind::Conditional),
                ("不开放", OpenKind::NotOpen),
            ],
        );
        if open_kind.is_none() {
            bad(
                "开放属性",
                format!(
                    "“{}”不是开放属性，须为无条件开放、有条件开放或不予开放",
                    g("开放属性")
                ),
            );
        }
        let update_cycle = UpdateCycle::parse(&g("更新周期"));
        if update_cycle.is_none() {
            bad(
                "更新周期",
                format!(
                    "“{}”不是更新周期，须为{}",
                    g("更新周期"),
                    UpdateCycle::ALL
                        .iter()
                        .map(|u| u.label())
                        .collect::<Vec<_>>()
                        .join("、")
                ),
            );
        }
        let rows = if no > 0 {
            by_no.remove(&no).unwrap_or_default()
        } else {
            vec![]
        };
        let item_lines: Vec<usize> = rows.iter().map(|(l, _)| *l).collect();
        if rows.iter().any(|(_, i)| i.is_err()) {
            bad(
                "",
                format!(
                    "信息项表第 {} 行有误，本条目录未导入",
                    rows.iter()
                        .filter(|(_, i)| i.is_err())
                        .map(|(l, _)| l.to_string())
                        .collect::<Vec<_>>()
                        .join("、")
                ),
            );
        }
        let (Some(category), Some(share_kind), Some(open_kind), Some(update_cycle)) =
            (category, share_kind, open_kind, update_cycle)
        else {
            continue;
        };
        if errors.len() != before {
            continue;
        }
        let related = g("关联资源代码")
            .split(['、', ',', '，', ';', '；', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let class = g("分类代码")
            .split(['.', '．', '-'])
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        let entry = NewEntry {
            category,
            class,
            provider_dept_id: None,
            content: EntryContent {
                name: g("信息资源名称"),
                summary: g("摘要"),
                format: g("格式"),
                items: rows.into_iter().filter_map(|(_, i)| i.ok()).collect(),
                share_kind,
                share_condition: g("共享条件或依据"),
                share_mode: g("共享方式"),
                open_kind,
                open_condition: g("开放条件"),
                update_cycle,
                related,
            },
        };
        let p = ParsedEntry {
            line,
            item_lines,
            entry,
        };
        match p.entry.validate() {
            Ok(()) => out.push(p),
            Err(e) => {
                for f in e.field_errors() {
                    let (sheet, line, column) = place(&p, &f.field);
                    err(&mut errors, sheet, line, column, f.detail.clone());
                }
            }
        }
    }
    for (no, rows) in by_no {
        for (line, _) in rows {
            err(
                &mut errors,
                ITEM_SHEET,
                line,
                "序号",
                format!("目录表中没有序号为 {no} 的目录"),
            );
        }
    }
    errors.sort_by_key(|e| (e.sheet != ENTRY_SHEET, e.line));
    Ok((out, errors))
}

/// Where a validation error of a parsed entry shows in the workbook.
pub fn place(p: &ParsedEntry, field: &str) -> (&'static str, usize, &'static str) {
    let field = field.strip_prefix("content.").unwrap_or(field);
    if let Some(rest) = field.strip_prefix("items[") {
        if let Some((i, f)) = rest.split_once("].") {
            let line = i
                .parse::<usize>()
                .ok()
                .and_then(|i| p.item_lines.get(i).copied())
                .unwrap_or(p.line);
            let column = match f {
                "name" => "信息项名称",
                "field" => "英文字段名",
                "length" => "长度",
                "scale" => "小数位",
                "semantic" => "类别",
                "element" => "数据元/代码集",
                "source_dept_id" => "来源部门",
                _ => "",
            };
            return (ITEM_SHEET, line, column);
        }
    }
    let column = match field.split('[').next().unwrap_or(field) {
        "class" => "分类代码",
        "name" => "信息资源名称",
        "summary" => "摘要",
        "format" => "格式",
        "items" => "",
        "share_condition" => "共享条件或依据",
        "open_condition" => "开放条件",
        "related" => "关联资源代码",
        "open_kind" => "开放属性",
        _ => "",
    };
    (ENTRY_SHEET, p.line, column)
}
