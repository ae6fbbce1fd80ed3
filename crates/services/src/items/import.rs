//! The 实施清单 to and from .xlsx: one row per item, Chinese headers (English aliases accepted).
//! Import checks every row and reports bad ones by line; good rows are kept. A row whose 实施编码
//! exists already edits that item (a new draft version if it was published).

use crate::domain::*;
use crate::service::ServicesService;
use kernel::deadline::TimeUnit;
use kernel::error::{Error, Result};
use kernel::Actor;
use serde::Serialize;
use tabular::{Cell, Sheet};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct RowError {
    pub line: usize,
    /// The column the problem is in, by its Chinese header (e.g. `承诺时限`); empty when it
    /// concerns the whole row.
    pub field: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema, Default)]
pub struct ImportReport {
    pub total_rows: usize,
    pub created: usize,
    pub updated: usize,
    pub published: usize,
    /// The rows written, in order.
    pub imported: Vec<ImportedRow>,
    pub errors: Vec<RowError>,
}

/// One row that created or edited an item.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct ImportedRow {
    pub line: usize,
    pub item_id: i64,
    pub impl_code: String,
    pub name: String,
    /// The version the row wrote (a new draft when the item was published).
    pub version: i64,
    pub created: bool,
    pub published: bool,
}

const COLUMNS: [(&str, &str); 19] = [
    ("基本编码", "basic_code"),
    ("实施编码", "impl_code"),
    ("事项名称", "name"),
    ("事项类型", "item_type"),
    ("行使层级", "level"),
    ("实施部门", "department"),
    ("审批方式", "mode"),
    ("办件类型", "handling"),
    ("法定时限", "legal_days"),
    ("承诺时限", "promised_days"),
    ("计时单位", "time_unit"),
    ("办理深度", "depth"),
    ("出件方式", "delivery"),
    ("设定依据", "legal_basis"),
    ("受理条件", "conditions"),
    ("申请材料", "materials"),
    ("收费", "fees"),
    ("办理窗口", "windows"),
    ("办理时间", "hours"),
];

fn split_list(s: &str) -> Vec<String> {
    s.split(['；', ';', '、', '\n'])
        .map(|x| x.trim().to_owned())
        .filter(|x| !x.is_empty())
        .collect()
}

/// The column header of a field named in a validation error (`materials[0].name` → 申请材料).
fn column_of(field: &str) -> String {
    let base = field.split(['[', '.']).next().unwrap_or(field);
    let base = if base == "dept_id" {
        "department"
    } else {
        base
    };
    COLUMNS
        .iter()
        .find(|(_, en)| *en == base)
        .map(|(zh, _)| (*zh).to_owned())
        .unwrap_or_default()
}

/// Materials as `代码:名称[:复印件][:可免提交证照名]`, separated by `；`.
pub(crate) fn parse_materials(s: &str) -> std::result::Result<Vec<Material>, String> {
    s.split(['；', ';', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|part| {
            let bits: Vec<&str> = part.split([':', '：']).map(str::trim).collect();
            if bits.len() < 2 || bits[0].is_empty() || bits[1].is_empty() {
                return Err(format!("申请材料“{part}”应写成 代码:名称"));
            }
            let form = match bits.get(2) {
                Some(f) if !f.is_empty() => MaterialForm::parse(f)
                    .ok_or_else(|| format!("材料形式“{f}”应为 原件/复印件/电子材料"))?,
                _ => MaterialForm::Original,
            };
            Ok(Material {
                key: bits[0].into(),
                name: bits[1].into(),
                form,
                copies: 1,
                required: true,
                condition: None,
                blank_form: false,
                sample: false,
                from_license: bits.get(3).filter(|x| !x.is_empty()).map(|x| x.to_string()),
                from_shared_data: false,
            })
        })
        .collect()
}

pub(crate) fn materials_text(ms: &[Material]) -> String {
    ms.iter()
        .map(|m| {
            let mut s = format!("{}:{}:{}", m.key, m.name, m.form.label());
            if let Some(l) = &m.from_license {
                s.push(':');
                s.push_str(l);
            }
            s
        })
        .collect::<Vec<_>>()
        .join("；")
}

fn enum_cell<T>(
    v: &str,
    label: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> std::result::Result<T, String> {
    parse(v).ok_or_else(|| format!("{label}“{v}”无法识别"))
}

/// The sheet has no columns for form fields, 情形, 特别程序, 跨域通办, 秒批 rules, notes or the
/// finer material flags: an edit by import keeps them from the item's latest version instead of
/// wiping them, so exporting and importing again changes nothing.
fn keep_what_the_sheet_lacks(input: &mut ItemInput, old: &ItemInput) {
    input.fields = old.fields.clone();
    input.scenarios = old.scenarios.clone();
    input.cross_region = old.cross_region.clone();
    input.special_procedures = old.special_procedures.clone();
    input.auto_rule = old.auto_rule.clone();
    input.notes = old.notes.clone();
    for m in &mut input.materials {
        if let Some(o) = old.materials.iter().find(|o| o.key == m.key) {
            m.copies = o.copies;
            m.required = o.required;
            m.condition = o.condition.clone();
            m.blank_form = o.blank_form;
            m.sample = o.sample;
            m.from_shared_data = o.from_shared_data;
        }
    }
}

/// Imports the rows of `sheet`; `publish` publishes every created or edited item.
pub async fn import_items(
    svc: &ServicesService,
    actor: &Actor,
    sheet: &Sheet,
    publish: bool,
) -> Result<ImportReport> {
    let col = |i: usize| sheet.column(&[COLUMNS[i].0, COLUMNS[i].1]);
    for i in [1usize, 2, 3, 5, 7, 8, 9] {
        if col(i).is_none() {
            return Err(Error::field(
                "file",
                "missing_column",
                format!("缺少“{}”列", COLUMNS[i].0),
            ));
        }
    }
    let org = org::OrgService::new(svc.db().clone(), Default::default());
    let mut rep = ImportReport {
        total_rows: sheet.rows.len(),
        ..Default::default()
    };
    // Every row is read and every department checked before anything is written, so a file
    // the actor may not import is refused whole.
    let mut parsed: Vec<(usize, std::result::Result<ItemInput, RowError>)> = Vec::new();
    for row in &sheet.rows {
        let g = |i: usize| row.get(col(i)).trim().to_owned();
        let err = |i: usize, reason: String| RowError {
            line: row.line,
            field: COLUMNS[i].0.to_owned(),
            reason,
        };
        let r: std::result::Result<ItemInput, RowError> = async {
            let dept_name = g(5);
            let dept = org
                .department_by_name(&dept_name)
                .await
                .map_err(|e| err(5, e.detail()))?
                .ok_or_else(|| err(5, format!("实施部门“{dept_name}”不存在")))?;
            let days = |i: usize| -> std::result::Result<u32, RowError> {
                let v = g(i);
                v.trim_end_matches(['天', '日'])
                    .trim()
                    .parse::<u32>()
                    .map_err(|_| err(i, format!("{}“{v}”应为天数", COLUMNS[i].0)))
            };
            let e = |i: usize| move |m: String| err(i, m);
            Ok(ItemInput {
                basic_code: g(0),
                impl_code: g(1),
                name: g(2),
                item_type: enum_cell(&g(3), "事项类型", ItemType::parse).map_err(e(3))?,
                level: if g(4).is_empty() {
                    ExerciseLevel::County
                } else {
                    enum_cell(&g(4), "行使层级", ExerciseLevel::parse).map_err(e(4))?
                },
                dept_id: dept.id,
                mode: if g(6).is_empty() {
                    ApprovalMode::Approval
                } else {
                    enum_cell(&g(6), "审批方式", ApprovalMode::parse).map_err(e(6))?
                },
                handling: enum_cell(&g(7), "办件类型", HandlingKind::parse).map_err(e(7))?,
                legal_basis: g(13),
                conditions: g(14),
                materials: parse_materials(&g(15)).map_err(e(15))?,
                fields: vec![],
                scenarios: vec![],
                legal_days: days(8)?,
                promised_days: days(9)?,
                time_unit: if g(10).is_empty() {
                    TimeUnit::WorkingDays
                } else {
                    enum_cell(&g(10), "计时单位", TimeUnit::parse).map_err(e(10))?
                },
                fees: g(16),
                depth: if g(11).is_empty() {
                    Depth::AtMostOnce
                } else {
                    enum_cell(&g(11), "办理深度", Depth::parse).map_err(e(11))?
                },
                delivery: if g(12).is_empty() {
                    vec![DeliveryMethod::Window]
                } else {
                    split_list(&g(12))
                        .iter()
                        .map(|d| enum_cell(d, "出件方式", DeliveryMethod::parse))
                        .collect::<std::result::Result<_, _>>()
                        .map_err(e(12))?
                },
                windows: g(17),
                hours: g(18),
                cross_region: vec![],
                result_license: None,
                special_procedures: vec![],
                auto_rule: None,
                notes: String::new(),
            })
        }
        .await;
        parsed.push((row.line, r));
    }
    let mut checked = std::collections::HashSet::new();
    for (_, r) in &parsed {
        if let Ok(i) = r {
            if checked.insert(i.dept_id) {
                svc.require_item_rights_for(actor, i.dept_id).await?;
            }
        }
    }
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    for (line, r) in parsed {
        let input = match r {
            Ok(i) => i,
            Err(e) => {
                rep.errors.push(e);
                continue;
            }
        };
        if let Some(first) = seen.get(&input.impl_code) {
            rep.errors.push(RowError {
                line,
                field: COLUMNS[1].0.to_owned(),
                reason: format!("实施编码与第 {first} 行重复"),
            });
            continue;
        }
        seen.insert(input.impl_code.clone(), line);
        let existing = svc.item_id_by_impl_code(&input.impl_code).await?;
        let r = match existing {
            Some(id) => match svc.item_versions(actor, id).await {
                Ok(versions) => {
                    let mut input = input;
                    if let Some(latest) = versions.last() {
                        keep_what_the_sheet_lacks(&mut input, &latest.content);
                    }
                    svc.update_item(actor, id, input).await.map(|i| (i, false))
                }
                Err(e) => Err(e),
            },
            None => svc.create_item(actor, input).await.map(|i| (i, true)),
        };
        match r {
            Ok((item, created)) => {
                if created {
                    rep.created += 1;
                } else {
                    rep.updated += 1;
                }
                if publish {
                    svc.publish_item(actor, item.id).await?;
                    rep.published += 1;
                }
                rep.imported.push(ImportedRow {
                    line,
                    item_id: item.id,
                    impl_code: item.content.impl_code.clone(),
                    name: item.content.name.clone(),
                    version: item.version,
                    created,
                    published: publish,
                });
            }
            Err(e @ Error::Internal(_)) => return Err(e),
            // One line per field, each under its column.
            Err(e) if !e.field_errors().is_empty() => {
                for f in e.field_errors() {
                    rep.errors.push(RowError {
                        line,
                        field: column_of(&f.field),
                        reason: f.detail.clone(),
                    });
                }
            }
            // e.g. an existing item of another department: this row only, the rest stands.
            Err(e) => rep.errors.push(RowError {
                line,
                field: e.field_name().map(column_of).unwrap_or_default(),
                reason: e.detail(),
            }),
        }
    }
    Ok(rep)
}

/// The published 实施清单 as a workbook, in the import's columns (so it can be edited and
/// imported again).
pub async fn export_items(svc: &ServicesService) -> Result<Vec<u8>> {
    let items = svc.search_items("").await?;
    let org = org::OrgService::new(svc.db().clone(), Default::default());
    let headers: Vec<String> = COLUMNS.iter().map(|(h, _)| h.to_string()).collect();
    let mut rows = Vec::new();
    for i in items {
        let c = &i.content;
        let dept = org
            .department(&Actor::system(), c.dept_id)
            .await
            .map(|d| d.name)
            .unwrap_or_default();
        rows.push(vec![
            Cell::from(c.basic_code.clone()),
            Cell::from(c.impl_code.clone()),
            Cell::from(c.name.clone()),
            Cell::from(c.item_type.label()),
            Cell::from(c.level.label()),
            Cell::from(dept),
            Cell::from(c.mode.label()),
            Cell::from(c.handling.label()),
            Cell::Int(c.legal_days.into()),
            Cell::Int(c.promised_days.into()),
            Cell::from(c.time_unit.label()),
            Cell::from(c.depth.label()),
            Cell::from(
                c.delivery
                    .iter()
                    .map(|d| d.label())
                    .collect::<Vec<_>>()
                    .join("、"),
            ),
            Cell::from(c.legal_basis.clone()),
            Cell::from(c.conditions.clone()),
            Cell::from(materials_text(&c.materials)),
            Cell::from(c.fees.clone()),
            Cell::from(c.windows.clone()),
            Cell::from(c.hours.clone()),
        ]);
    }
    tabular::write_xlsx(&[("实施清单", &headers, &rows)]).map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn materials_read_and_write_the_same_way() {
        let ms = parse_materials("id:身份证:原件:居民身份证；photo:照片:复印件").unwrap();
        assert_eq!(ms.len(), 2);
        assert_eq!(ms[0].from_license.as_deref(), Some("居民身份证"));
        assert_eq!(ms[1].form, MaterialForm::Copy);
        assert_eq!(parse_materials(&materials_text(&ms)).unwrap(), ms);
        assert!(parse_materials("只有名称").is_err());
    }

    #[test]
    fn validation_errors_name_their_column() {
        assert_eq!(column_of("impl_code"), "实施编码");
        assert_eq!(column_of("materials[1].name"), "申请材料");
        assert_eq!(column_of("dept_id"), "实施部门");
        assert_eq!(column_of("scenarios"), "");
    }
}
