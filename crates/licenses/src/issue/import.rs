//! 存量证照入库: existing paper licenses from a .xlsx/.csv sheet. Every row is signed and
//! audited like any issuance; rows are checked first, so a bad row is reported by line and
//! column and skipped while the good ones are kept; the good ones are written
//! [`BATCH`] to a transaction (one durable commit per batch, not per license: 六安's 37.9 M
//! licenses are a matter of hours, not days). The paper 证照编号 is the row's source key, so
//! importing the same sheet again adds nothing.

use super::service::{Checked, Holder, NewLicense};
use crate::service::*;
use kernel::error::{Error, Result};
use kernel::Actor;
use serde::Serialize;
use tabular::Sheet;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct ImportError {
    /// The line as the user sees it in the file.
    pub line: usize,
    /// The column's header.
    pub column: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Default)]
pub struct ImportReport {
    pub rows: usize,
    pub imported: usize,
    /// Rows imported before (same 证照编号).
    pub already: usize,
    pub errors: Vec<ImportError>,
}

/// Licenses per transaction in an import: large enough that the commit is a small part of
/// each license's cost, small enough that the writer lock is held for well under a second.
const BATCH: usize = 500;

const NUMBER: &[&str] = &["证照编号", "原证照编号", "证号", "number"];
const ID_NO: &[&str] = &[
    "持证人证件号码",
    "证件号码",
    "身份证号",
    "统一社会信用代码",
    "id_no",
];
const NAME: &[&str] = &["持证人", "持证人名称", "姓名", "名称", "holder"];
const FROM: &[&str] = &["发证日期", "有效期起", "valid_from"];

impl LicensesService {
    pub async fn import(
        &self,
        actor: &Actor,
        type_code: &str,
        dept_id: Option<i64>,
        sheet: &Sheet,
    ) -> Result<ImportReport> {
        let g = actor.authorize::<Issue>()?;
        let by = kernel::Authorized::from(g);
        let view = self
            .license_type_by_code(type_code)
            .await?
            .ok_or_else(|| Error::field("type_code", "unknown_type", "证照类型不存在"))?;
        let content = view
            .published()
            .ok_or_else(|| Error::field("type_code", "not_published", "该证照类型尚未发布"))?
            .content
            .clone();
        let dept_id = dept_id
            .or(by.actor().dept_id)
            .ok_or_else(|| Error::field("dept_id", "required", "请指定颁发部门"))?;
        if !by.actor().can_see(Some(dept_id), None) {
            return Err(Error::forbidden("只能以本部门名义签发证照"));
        }
        let ctx = self.issue_context(type_code, dept_id).await?;
        let missing =
            |what: &str| Error::field("file", "missing_column", format!("表格缺少“{what}”列"));
        let number = sheet.column(NUMBER).ok_or_else(|| missing(NUMBER[0]))?;
        let id_no = sheet.column(ID_NO).ok_or_else(|| missing(ID_NO[0]))?;
        let name = sheet.column(NAME).ok_or_else(|| missing(NAME[0]))?;
        let from = sheet.column(FROM);
        // A field's column: its label (照面项名称) or its key.
        let field_cols: Vec<(String, String, Option<usize>)> = content
            .fields
            .iter()
            .map(|f| {
                (
                    f.key.clone(),
                    f.label.clone(),
                    sheet.column(&[f.label.as_str(), f.key.as_str()]),
                )
            })
            .collect();
        let header = |i: Option<usize>, fallback: &str| {
            i.and_then(|i| sheet.headers.get(i).cloned())
                .unwrap_or_else(|| fallback.to_owned())
        };
        let mut report = ImportReport {
            rows: sheet.rows.len(),
            ..Default::default()
        };
        let mut seen = std::collections::HashSet::new();
        for rows in sheet.rows.chunks(BATCH) {
            let now = self.db.now();
            let mut good: Vec<(String, Checked)> = Vec::with_capacity(rows.len());
            for row in rows {
                let paper = row.get(Some(number)).trim().to_owned();
                if paper.is_empty() {
                    report.errors.push(ImportError {
                        line: row.line,
                        column: header(Some(number), NUMBER[0]),
                        detail: "请填写证照编号".into(),
                    });
                    continue;
                }
                let source = format!("import:{}:{paper}", view.license_type.code);
                if !seen.insert(source.clone()) {
                    report.errors.push(ImportError {
                        line: row.line,
                        column: header(Some(number), NUMBER[0]),
                        detail: format!("证照编号 {paper} 在表格中重复"),
                    });
                    continue;
                }
                let mut fields = serde_json::Map::new();
                for (key, _, col) in &field_cols {
                    let v = row.get(*col).trim();
                    if !v.is_empty() {
                        fields.insert(key.clone(), serde_json::Value::String(v.to_owned()));
                    }
                }
                let input = NewLicense {
                    type_code: view.license_type.code.clone(),
                    dept_id: Some(dept_id),
                    holder: Holder {
                        id_no: row.get(Some(id_no)).to_owned(),
                        name: row.get(Some(name)).to_owned(),
                    },
                    fields,
                    valid_from: from
                        .map(|c| row.get(Some(c)).to_owned())
                        .filter(|s| !s.trim().is_empty()),
                    source: None,
                };
                match ctx.check(&input, now) {
                    Ok(c) => good.push((source, c)),
                    Err(Error::Validation(errs)) => {
                        for e in errs {
                            let column = match e.field.as_str() {
                                "holder.id_no" => header(Some(id_no), ID_NO[0]),
                                "holder.name" => header(Some(name), NAME[0]),
                                "valid_from" => header(from, FROM[0]),
                                f => match f.strip_prefix("fields.") {
                                    Some(k) => field_cols
                                        .iter()
                                        .find(|(key, _, _)| key == k)
                                        .map(|(_, label, col)| header(*col, label))
                                        .unwrap_or_else(|| k.to_owned()),
                                    None => f.to_owned(),
                                },
                            };
                            report.errors.push(ImportError {
                                line: row.line,
                                column,
                                detail: e.detail,
                            });
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            if good.is_empty() {
                continue;
            }
            let mut tx = self.db.begin().await?;
            let signer = self.signing_key(&mut tx, by, dept_id, now).await?;
            // The batch's reads and reservations at once: which keys are in already, the
            // 流水号 and the status slots of the rest; then one audit write for all.
            let existing = {
                let keys: Vec<&str> = good.iter().map(|(s, _)| s.as_str()).collect();
                super::store::existing_sources(&mut tx, &keys).await?
            };
            let batch = good.len();
            let fresh: Vec<(String, Checked)> = good
                .into_iter()
                .filter(|(s, _)| !existing.contains(s))
                .collect();
            report.already += batch - fresh.len();
            if fresh.is_empty() {
                tx.commit().await?;
                continue;
            }
            let first = super::store::reserve_serials(
                &mut tx,
                view.license_type.id,
                dept_id,
                fresh.len() as i64,
            )
            .await?;
            let slots = self
                .allocate_statuses(&mut tx, dept_id, fresh.len(), now)
                .await?;
            let mut entries = Vec::with_capacity(fresh.len());
            for (k, ((source, checked), slot)) in fresh.into_iter().zip(slots).enumerate() {
                let license = self
                    .insert_prepared(
                        &mut tx,
                        by,
                        &ctx,
                        &signer,
                        checked,
                        None,
                        Some(&source),
                        now,
                        (first + k as i64, Some(slot)),
                    )
                    .await?;
                entries.push(super::service::issue_audit(&license, Some(&source)));
                report.imported += 1;
            }
            kernel::audit::record_many(&mut tx, now, &by.actor().audit_actor(), &entries).await?;
            tx.commit().await?;
        }
        Ok(report)
    }
}
