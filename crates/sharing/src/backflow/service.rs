//! 回流 use cases: configure a task (the system administrator), run it by hand or on its
//! schedule, read its runs.

use super::domain::*;
use super::store;
use crate::mount::domain::{LoadReport, Resource, RowError};
use crate::service::*;
use kernel::audit;
use kernel::error::{Error, Result};
use kernel::{Actor, Authorized, Role};
use serde::Serialize;
use serde_json::json;
use sm3::{Digest, Sm3};
use utoipa::ToSchema;

/// A task with the resource it fills and its latest run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BackflowView {
    #[serde(flatten)]
    pub backflow: Backflow,
    pub resource_code: String,
    pub resource_name: String,
    pub provider_dept_id: i64,
    pub provider_name: String,
    pub last_run: Option<BackflowRun>,
}

/// What one run gathered before it is stored.
#[derive(Default)]
struct Totals {
    fetched: i64,
    accepted: i64,
    rejected: i64,
    skipped_files: i64,
    errors: Vec<RowError>,
}

impl Totals {
    fn add(&mut self, r: LoadReport, prefix: &str) {
        self.accepted += r.accepted as i64;
        self.rejected += r.rejected as i64;
        for mut e in r.errors {
            if self.errors.len() >= KEPT_ERRORS {
                break;
            }
            if !prefix.is_empty() {
                e.column = format!("{prefix} · {}", e.column);
            }
            self.errors.push(e);
        }
    }
}

impl SharingService {
    /// Configures a 回流 task into a mounted table of a 基础信息资源 entry.
    pub async fn create_backflow(&self, actor: &Actor, n: NewBackflow) -> Result<BackflowView> {
        let g = actor.authorize::<ManageBackflow>()?;
        check_new(&n)?;
        let Some(res) = self.raw_resource(n.resource_code.trim()).await? else {
            return Err(Error::field(
                "resource_code",
                "unknown_resource",
                format!("没有资源代码为 {} 的资源", n.resource_code.trim()),
            ));
        };
        let entry = self.entry(res.entry_id).await?;
        if res.kind != "table" || entry.entry.category() != crate::catalog::domain::Category::Basic
        {
            return Err(Error::field(
                "resource_code",
                "not_a_registry",
                "回流只能写入基础信息资源（基础库）中保存的数据表",
            ));
        }
        let now = self.db.now();
        let b = Backflow {
            id: 0,
            resource_id: res.id,
            name: n.name.trim().to_owned(),
            source_kind: n.source_kind,
            source: n.source.trim().to_owned(),
            interval_minutes: n.interval_minutes,
            enabled: true,
            next_run_at: now + n.interval_minutes * 60_000,
            last_run_at: None,
            created_by: actor.audit_actor().0,
            created_at: now,
        };
        let mut tx = self.db.begin().await?;
        let id = store::insert(&mut tx, Authorized::from(g), &b).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "sharing_backflow",
            id,
            "create",
            json!({"name": b.name, "code": res.code, "source": b.source}),
        )
        .await?;
        tx.commit().await?;
        self.backflow(actor, id).await
    }

    /// Pauses or resumes a task's schedule.
    pub async fn set_backflow_enabled(
        &self,
        actor: &Actor,
        id: i64,
        enabled: bool,
    ) -> Result<BackflowView> {
        let g = actor.authorize::<ManageBackflow>()?;
        let mut tx = self.db.begin().await?;
        if !store::set_enabled(&mut tx, Authorized::from(g), id, enabled).await? {
            return Err(Error::not_found("backflow", "没有这个回流任务"));
        }
        audit::record(
            &mut tx,
            self.db.now(),
            &actor.audit_actor(),
            "sharing_backflow",
            id,
            if enabled { "enable" } else { "disable" },
            json!({}),
        )
        .await?;
        tx.commit().await?;
        self.backflow(actor, id).await
    }

    /// Every task (the bureau, administrators, and the departments whose tables they fill).
    pub async fn backflows(&self, actor: &Actor) -> Result<Vec<BackflowView>> {
        actor.authorize::<ReadSharing>()?;
        let all = store::all(&mut *self.conn().await?).await?;
        let bureau = self.is_bureau(actor).await?;
        let mut out = Vec::new();
        for b in all {
            let v = self.view_backflow(b).await?;
            if bureau || actor.scope.can_see(&[v.provider_dept_id], None) {
                out.push(v);
            }
        }
        Ok(out)
    }

    pub async fn backflow(&self, actor: &Actor, id: i64) -> Result<BackflowView> {
        actor.authorize::<ReadSharing>()?;
        let b = self.raw_backflow(id).await?;
        let v = self.view_backflow(b).await?;
        if !(self.is_bureau(actor).await? || actor.scope.can_see(&[v.provider_dept_id], None)) {
            return Err(Error::not_found("backflow", "没有这个回流任务"));
        }
        Ok(v)
    }

    /// A task's runs, newest first.
    pub async fn backflow_runs(
        &self,
        actor: &Actor,
        id: i64,
        limit: i64,
    ) -> Result<Vec<BackflowRun>> {
        self.backflow(actor, id).await?;
        store::runs(&mut *self.conn().await?, id, limit.clamp(1, 200)).await
    }

    /// Runs a task now, by hand: the administrator, or the data officer of the department
    /// whose table it fills.
    pub async fn run_backflow(&self, actor: &Actor, id: i64) -> Result<BackflowRun> {
        let v = self.backflow(actor, id).await?;
        let may = actor.has_role(Role::SysAdmin)
            || (actor.authorize::<Mount>().is_ok() && actor.dept_id == Some(v.provider_dept_id));
        if !may {
            return Err(Error::forbidden(
                "只有系统管理员或该资源所属部门的数据专员可以手动运行回流",
            ));
        }
        let now = self.db.now();
        let system = Actor::system();
        {
            let mut c = self.db.begin().await?;
            store::claim(
                &mut c,
                Authorized::system(&system)?,
                id,
                v.backflow.next_run_at,
                now + v.backflow.interval_minutes * 60_000,
                now,
            )
            .await?;
            c.commit().await?;
        }
        self.execute(&v.backflow, "manual", actor).await
    }

    /// Runs every enabled task that is due (the scheduler's job); each claimed first, so two
    /// instances never run the same one. Returns the runs made.
    pub async fn run_due_backflows(&self) -> Result<Vec<BackflowRun>> {
        let now = self.db.now();
        let due = store::due(&mut *self.conn().await?, now).await?;
        let system = Actor::system();
        let mut out = Vec::new();
        for b in due {
            let claimed = {
                let mut tx = self.db.begin().await?;
                let ok = store::claim(
                    &mut tx,
                    Authorized::system(&system)?,
                    b.id,
                    b.next_run_at,
                    now + b.interval_minutes * 60_000,
                    now,
                )
                .await?;
                tx.commit().await?;
                ok
            };
            if claimed {
                out.push(self.execute(&b, "schedule", &Actor::system()).await?);
            }
        }
        Ok(out)
    }

    async fn raw_backflow(&self, id: i64) -> Result<Backflow> {
        store::by_id(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| Error::not_found("backflow", "没有这个回流任务"))
    }

    async fn view_backflow(&self, b: Backflow) -> Result<BackflowView> {
        let r = self.resource_by_id(b.resource_id).await?;
        let last_run = store::runs(&mut *self.conn().await?, b.id, 1).await?.pop();
        Ok(BackflowView {
            resource_code: r.resource.code.clone(),
            resource_name: r.resource.name.clone(),
            provider_dept_id: r.provider_dept_id,
            provider_name: r.provider_name.clone(),
            last_run,
            backflow: b,
        })
    }

    /// One run: read the source, load what it gives, keep the run. A source that cannot be
    /// read ends the run as failed (or partial, after some pages), never as an error of the
    /// caller.
    async fn execute(&self, b: &Backflow, trigger: &str, by: &Actor) -> Result<BackflowRun> {
        let system = Actor::system();
        let auth = Authorized::system(&system)?;
        let res = self.resource_by_id(b.resource_id).await?.resource;
        let before = res.row_count;
        let started = self.db.now();
        let mut t = Totals::default();
        let outcome = match b.source_kind {
            SourceKind::Http => self.pull_http(&system, auth, &res, &b.source, &mut t).await,
            SourceKind::Folder => self.pull_folder(&system, auth, &res, b, &mut t).await,
        };
        let after = self.resource_by_id(b.resource_id).await?.resource.row_count;
        let (status, message) = match &outcome {
            Err(m) if t.accepted > 0 => (RunStatus::Partial, m.clone()),
            Err(m) => (RunStatus::Failed, m.clone()),
            Ok(()) if t.rejected > 0 => {
                (RunStatus::Partial, format!("{} 行未通过校验", t.rejected))
            }
            Ok(()) => (RunStatus::Ok, String::new()),
        };
        let run = BackflowRun {
            id: 0,
            backflow_id: b.id,
            trigger: trigger.to_owned(),
            started_at: started,
            finished_at: self.db.now(),
            status,
            fetched: t.fetched,
            accepted: t.accepted,
            added: after - before,
            rejected: t.rejected,
            skipped_files: t.skipped_files,
            errors: t.errors,
            message,
        };
        let mut tx = self.db.begin().await?;
        let id = store::insert_run(&mut tx, auth, &run).await?;
        audit::record(
            &mut tx,
            run.finished_at,
            &by.audit_actor(),
            "sharing_backflow",
            b.id,
            "run",
            json!({"status": status.label(), "rows": run.accepted, "rejected": run.rejected}),
        )
        .await?;
        tx.commit().await?;
        Ok(BackflowRun { id, ..run })
    }

    async fn pull_http(
        &self,
        actor: &Actor,
        by: Authorized<'_>,
        res: &Resource,
        url: &str,
        t: &mut Totals,
    ) -> std::result::Result<(), String> {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| format!("无法建立连接：{e}"))?;
        for page in 1..=MAX_PAGES {
            let mut page_url = url::Url::parse(url).map_err(|e| format!("接口地址无效：{e}"))?;
            page_url
                .query_pairs_mut()
                .append_pair("page", &page.to_string())
                .append_pair("page_size", &PAGE_SIZE.to_string());
            let answer = client
                .get(page_url)
                .send()
                .await
                .map_err(|e| format!("第 {page} 页读取失败：{e}"))?;
            if !answer.status().is_success() {
                return Err(format!(
                    "第 {page} 页读取失败：接口应答 {}",
                    answer.status().as_u16()
                ));
            }
            let body: serde_json::Value = answer
                .json()
                .await
                .map_err(|e| format!("第 {page} 页不是 JSON：{e}"))?;
            let rows = page_rows(body).map_err(|m| format!("第 {page} 页：{m}"))?;
            let n = rows.len();
            if n == 0 {
                return Ok(());
            }
            t.fetched += n as i64;
            let report = self
                .load_json(actor, by, res, rows, &format!("backflow:{url}"))
                .await
                .map_err(|e| format!("第 {page} 页写入失败：{}", e.detail()))?;
            t.add(report, &format!("第 {page} 页"));
            if n < PAGE_SIZE {
                return Ok(());
            }
        }
        Err(format!("已读 {MAX_PAGES} 页仍未结束，本次停止"))
    }

    async fn pull_folder(
        &self,
        actor: &Actor,
        by: Authorized<'_>,
        res: &Resource,
        b: &Backflow,
        t: &mut Totals,
    ) -> std::result::Result<(), String> {
        let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&b.source)
            .map_err(|e| format!("无法读取目录 {}：{e}", b.source))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.extension().and_then(|x| x.to_str()).is_some_and(|x| {
                        matches!(x.to_ascii_lowercase().as_str(), "csv" | "xlsx" | "json")
                    })
            })
            .collect();
        files.sort();
        for path in files {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            let bytes = std::fs::read(&path).map_err(|e| format!("无法读取文件 {name}：{e}"))?;
            let sha = hex::encode(Sm3::digest(&bytes));
            let seen =
                store::file_seen(&mut *self.conn().await.map_err(|e| e.detail())?, b.id, &sha)
                    .await
                    .map_err(|e| e.detail())?;
            if seen {
                t.skipped_files += 1;
                continue;
            }
            let source = format!("backflow:{name}");
            let report = if name.to_ascii_lowercase().ends_with(".json") {
                match serde_json::from_slice(&bytes)
                    .map_err(|e| e.to_string())
                    .and_then(page_rows)
                {
                    Ok(rows) => {
                        t.fetched += rows.len() as i64;
                        self.load_json(actor, by, res, rows, &source).await
                    }
                    Err(m) => {
                        t.errors.push(RowError {
                            line: 0,
                            column: name.clone(),
                            message: m,
                        });
                        t.rejected += 1;
                        continue;
                    }
                }
            } else {
                let loaded = self
                    .load_sheet(actor, by, res, &name, &bytes, &source)
                    .await;
                if let Ok(r) = &loaded {
                    t.fetched += (r.accepted + r.rejected) as i64;
                }
                loaded
            };
            match report {
                Ok(r) => t.add(r, &name),
                Err(e) => {
                    t.errors.push(RowError {
                        line: 0,
                        column: name.clone(),
                        message: e.detail(),
                    });
                    t.rejected += 1;
                    continue;
                }
            }
            let mut tx = self.db.begin().await.map_err(|e| e.detail())?;
            store::file_loaded(&mut tx, by, b.id, &sha, &name, self.db.now())
                .await
                .map_err(|e| e.detail())?;
            tx.commit().await.map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}
