//! 挂接 use cases: mount a table for a published entry, load it from a .csv/.xlsx upload or
//! from JSON pushed by the provider's system; list resources with their 更新 state.

use super::domain::*;
use super::store;
use crate::catalog::domain::Item;
use crate::service::*;
use kernel::audit;
use kernel::error::{Error, Result};
use kernel::{Actor, Authorized};
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

/// Rows one load may carry.
pub const MAX_LOAD_ROWS: usize = 200_000;

/// A resource with what the catalog says of it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResourceView {
    #[serde(flatten)]
    pub resource: Resource,
    pub entry_code: String,
    pub entry_name: String,
    pub provider_dept_id: i64,
    pub provider_name: String,
    pub update_cycle: crate::catalog::domain::UpdateCycle,
    pub share_kind: crate::catalog::domain::ShareKind,
    /// The last update is later than the 更新周期 allows.
    pub overdue: bool,
}

impl SharingService {
    /// Mounts a table for a published entry, with the 信息项 of the version in force.
    pub async fn mount_table(
        &self,
        actor: &Actor,
        entry_id: i64,
        name: &str,
        log_mode: &str,
    ) -> Result<ResourceView> {
        let g = actor.authorize::<Mount>()?;
        let view = self.entry(entry_id).await?;
        if !actor.scope.can_see(&[view.entry.provider_dept_id], None) {
            return Err(Error::forbidden("只能为本部门的目录挂接资源"));
        }
        let Some(v) = view.published() else {
            return Err(Error::IllegalTransition {
                detail: "目录尚未发布，不能挂接资源".into(),
            });
        };
        if !matches!(log_mode, "full" | "metadata") {
            return Err(Error::field(
                "log_mode",
                "invalid_log_mode",
                "日志模式须为 full 或 metadata",
            ));
        }
        let name = if name.trim().is_empty() {
            v.content.name.clone()
        } else {
            name.trim().to_owned()
        };
        if name.chars().count() > 100 {
            return Err(Error::field(
                "name",
                "too_long",
                "资源名称不能超过 100 个字",
            ));
        }
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let id = store::insert_resource(
            &mut tx,
            Authorized::from(g),
            entry_id,
            &view.entry.code,
            &name,
            &v.content.items,
            v.version,
            log_mode,
            now,
        )
        .await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "sharing_resource",
            id,
            "mount",
            json!({"entry_id": entry_id, "version": v.version, "name": name}),
        )
        .await?;
        tx.commit().await?;
        self.resource_by_id(id).await
    }

    pub async fn resource_by_id(&self, id: i64) -> Result<ResourceView> {
        let r = store::by_id(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| Error::not_found("sharing_resource", "资源不存在"))?;
        self.view_of(r).await
    }

    pub async fn resource(&self, code: &str) -> Result<ResourceView> {
        let r = store::by_code(&mut *self.conn().await?, code.trim())
            .await?
            .ok_or_else(|| Error::not_found("sharing_resource", "资源不存在"))?;
        self.view_of(r).await
    }

    pub(crate) async fn raw_resource(&self, code: &str) -> Result<Option<Resource>> {
        store::by_code(&mut *self.conn().await?, code).await
    }

    async fn view_of(&self, r: Resource) -> Result<ResourceView> {
        let e = self.entry(r.entry_id).await?;
        let v = e.published().unwrap_or_else(|| e.latest());
        let now = self.db.now();
        Ok(ResourceView {
            overdue: r.overdue(v.content.update_cycle, now),
            entry_code: e.entry.code.clone(),
            entry_name: v.content.name.clone(),
            provider_dept_id: e.entry.provider_dept_id,
            provider_name: e.provider_name.clone(),
            update_cycle: v.content.update_cycle,
            share_kind: v.content.share_kind,
            resource: r,
        })
    }

    /// Every resource (of one entry).
    pub async fn resources(&self, entry_id: Option<i64>) -> Result<Vec<ResourceView>> {
        let all = store::all(&mut *self.conn().await?, entry_id).await?;
        let mut out = Vec::with_capacity(all.len());
        for r in all {
            out.push(self.view_of(r).await?);
        }
        Ok(out)
    }

    /// Loads an uploaded .csv/.xlsx: columns found by 英文字段名 or 信息项名称; bad rows named
    /// by line and column, good rows kept (inserted, or replaced by primary key).
    pub async fn load_file(
        &self,
        actor: &Actor,
        code: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<LoadReport> {
        let g = actor.authorize::<Mount>()?;
        let res = self.writable(actor, code).await?;
        self.load_sheet(
            actor,
            Authorized::from(g),
            &res.resource,
            file_name,
            bytes,
            &format!("file:{file_name}"),
        )
        .await
    }

    /// Loads a .csv/.xlsx into a resource for whoever `by` proves may write it.
    pub(crate) async fn load_sheet(
        &self,
        actor: &Actor,
        by: Authorized<'_>,
        res: &Resource,
        file_name: &str,
        bytes: &[u8],
        source: &str,
    ) -> Result<LoadReport> {
        let sheet = tabular::read_named(file_name, bytes)
            .map_err(|e| Error::field("file", "unreadable_file", e.to_string()))?;
        if sheet.rows.len() > MAX_LOAD_ROWS {
            return Err(Error::field(
                "file",
                "too_many_rows",
                format!("一次至多导入 {MAX_LOAD_ROWS} 行"),
            ));
        }
        let mut cols: Vec<(usize, &Item)> = Vec::new();
        for it in &res.fields {
            if let Some(i) = sheet.column(&[it.field.as_str(), it.name.as_str()]) {
                cols.push((i, it));
            }
        }
        if cols.is_empty() {
            return Err(Error::field(
                "file",
                "no_columns",
                "文件表头中没有任何信息项（按英文字段名或信息项名称匹配）",
            ));
        }
        let rows: Vec<RawRow<'_>> = sheet
            .rows
            .iter()
            .map(|r| RawRow {
                line: r.line,
                cells: cols
                    .iter()
                    .map(|(i, it)| (sheet.headers[*i].as_str(), *it, r.get(Some(*i)).to_owned()))
                    .collect(),
            })
            .collect();
        self.store_rows(actor, by, res, rows, source).await
    }

    /// Rows pushed by the provider's system: an array of objects keyed by 英文字段名; the line
    /// of an error is the row's position from 1. Unknown keys are refused, naming them.
    pub async fn push_rows(
        &self,
        actor: &Actor,
        code: &str,
        rows: Vec<Map<String, Value>>,
    ) -> Result<LoadReport> {
        let g = actor.authorize::<Mount>()?;
        let res = self.writable(actor, code).await?;
        self.load_json(actor, Authorized::from(g), &res.resource, rows, "api")
            .await
    }

    /// Loads JSON rows keyed by 英文字段名 into a resource for whoever `by` proves may write it.
    pub(crate) async fn load_json(
        &self,
        actor: &Actor,
        by: Authorized<'_>,
        res: &Resource,
        rows: Vec<Map<String, Value>>,
        source: &str,
    ) -> Result<LoadReport> {
        if rows.len() > MAX_LOAD_ROWS {
            return Err(Error::field(
                "rows",
                "too_many_rows",
                format!("一次至多推送 {MAX_LOAD_ROWS} 行"),
            ));
        }
        let mut pre_errors = Vec::new();
        let mut raw = Vec::new();
        for (n, obj) in rows.iter().enumerate() {
            let line = n + 1;
            let mut cells = Vec::new();
            let mut ok = true;
            for (k, v) in obj {
                let Some(it) = res.field(k) else {
                    pre_errors.push(RowError {
                        line,
                        column: k.clone(),
                        message: "不是该资源的信息项".into(),
                    });
                    ok = false;
                    continue;
                };
                match json_cell(v) {
                    Ok(s) => cells.push((it.field.as_str(), it, s)),
                    Err(m) => {
                        pre_errors.push(RowError {
                            line,
                            column: k.clone(),
                            message: m,
                        });
                        ok = false;
                    }
                }
            }
            if ok {
                raw.push(RawRow { line, cells });
            }
        }
        let mut report = self.store_rows(actor, by, res, raw, source).await?;
        if !pre_errors.is_empty() {
            let lines: std::collections::HashSet<usize> =
                pre_errors.iter().map(|e| e.line).collect();
            report.rejected += lines.len();
            report.errors.extend(pre_errors);
            report.errors.sort_by_key(|e| e.line);
        }
        Ok(report)
    }

    async fn writable(&self, actor: &Actor, code: &str) -> Result<ResourceView> {
        let res = self.resource(code).await?;
        if !actor.scope.can_see(&[res.provider_dept_id], None) {
            return Err(Error::forbidden("只能更新本部门的资源"));
        }
        Ok(res)
    }

    async fn store_rows(
        &self,
        actor: &Actor,
        by: Authorized<'_>,
        res: &Resource,
        rows: Vec<RawRow<'_>>,
        source: &str,
    ) -> Result<LoadReport> {
        let (good, errors) = check_rows(&res.fields, rows);
        let bad_lines: std::collections::HashSet<usize> = errors.iter().map(|e| e.line).collect();
        let report = LoadReport {
            resource_code: res.code.clone(),
            accepted: good.len(),
            rejected: bad_lines.len(),
            errors,
        };
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        store::upsert_rows(&mut tx, by, res.id, &good, now).await?;
        store::insert_load(
            &mut tx,
            res.id,
            source,
            &actor.audit_actor().0,
            &report,
            now,
        )
        .await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "sharing_resource",
            res.id,
            "load",
            json!({"source": source, "accepted": report.accepted, "rejected": report.rejected}),
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }
}
