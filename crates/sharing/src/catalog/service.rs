//! 编目 and 审核: a department's data officer drafts and submits, the bureau publishes or
//! returns with a reason; a published version never changes (a new version is drafted).

use super::domain::*;
use super::store;
use crate::service::*;
use kernel::audit;
use kernel::error::{Error, Result};
use kernel::{Actor, Authorized};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

/// An entry with its versions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EntryView {
    #[serde(flatten)]
    pub entry: Entry,
    pub provider_name: String,
    pub versions: Vec<EntryVersion>,
    /// 一数一源: each 信息项 of the version in force (or the newest) with its source
    /// department — the one named on the item, else the provider.
    pub item_sources: Vec<ItemSource>,
}

/// A 信息项's authoritative source department.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemSource {
    pub field: String,
    pub source_dept_id: i64,
    pub source_dept_name: String,
}

impl EntryView {
    /// The published version in force, if any.
    pub fn published(&self) -> Option<&EntryVersion> {
        self.versions
            .iter()
            .find(|v| v.version == self.entry.published_version)
    }
    pub fn latest(&self) -> &EntryVersion {
        self.versions.last().expect("an entry has a version")
    }
    /// The source department of `field` in the version in force: the item's own, else the
    /// provider.
    pub fn source_of(&self, field: &str) -> i64 {
        self.published()
            .and_then(|v| v.content.item(field))
            .and_then(|i| i.source_dept_id)
            .unwrap_or(self.entry.provider_dept_id)
    }
}

/// A line of a catalog list: an entry and one of its versions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EntryLine {
    #[serde(flatten)]
    pub entry: Entry,
    pub provider_name: String,
    pub version: EntryVersion,
}

impl SharingService {
    /// Refuses a data officer working on another department's entry; the bureau and
    /// administrators may act on any.
    fn require_provider(actor: &Actor, provider: i64) -> Result<()> {
        if actor.scope.can_see(&[provider], None) {
            Ok(())
        } else {
            Err(Error::forbidden("只能为本部门编目"))
        }
    }

    /// 一数一源: a source department may be named on the 信息项 of a base registry only, and
    /// must be an active department.
    async fn check_sources(
        &self,
        category: Category,
        content: &EntryContent,
        prefix: &str,
    ) -> Result<()> {
        if content.items.iter().all(|i| i.source_dept_id.is_none()) {
            return Ok(());
        }
        let names = self.dept_names().await?;
        let mut c = kernel::error::Checks::new();
        for (i, it) in content.items.iter().enumerate() {
            let Some(d) = it.source_dept_id else { continue };
            let f = format!("{prefix}items[{i}].source_dept_id");
            if category != Category::Basic {
                c.add(
                    &f,
                    "not_a_registry",
                    "只有基础信息资源的信息项可以指定来源部门（一数一源）",
                );
            } else if !names.contains_key(&d) {
                c.add(
                    &f,
                    "unknown_department",
                    format!("信息项“{}”的来源部门 {d} 不存在或已停用", it.name),
                );
            }
        }
        c.finish()
    }

    pub async fn create_entry(&self, actor: &Actor, input: NewEntry) -> Result<EntryView> {
        let g = actor.authorize::<Catalogue>()?;
        input.validate()?;
        self.check_sources(input.category, &input.content, "content.")
            .await?;
        let provider = match input.provider_dept_id {
            Some(d) => d,
            None => Self::own_dept(actor)?,
        };
        self.department(provider).await?;
        Self::require_provider(actor, provider)?;
        let class_code = input.class_code();
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let (id, code) = store::insert_entry(
            &mut tx,
            Authorized::from(g),
            &class_code,
            provider,
            &input.content,
            now,
        )
        .await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "sharing_entry",
            id,
            "create",
            json!({"code": code, "provider_dept_id": provider, "content": input.content}),
        )
        .await?;
        tx.commit().await?;
        self.entry(id).await
    }

    /// Changes a draft (or returned) version.
    pub async fn update_entry(
        &self,
        actor: &Actor,
        entry_id: i64,
        version: i64,
        content: EntryContent,
    ) -> Result<EntryView> {
        let g = actor.authorize::<Catalogue>()?;
        content.validate()?;
        let view = self.entry(entry_id).await?;
        Self::require_provider(actor, view.entry.provider_dept_id)?;
        self.check_sources(view.entry.category(), &content, "")
            .await?;
        let v = Self::version_of(&view, version)?;
        v.status.apply(ReviewAction::Edit)?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        if !store::update_content(&mut tx, Authorized::from(g), entry_id, version, &content).await?
        {
            return Err(Error::IllegalTransition {
                detail: "该版本已提交或已发布，不能修改".into(),
            });
        }
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "sharing_entry",
            entry_id,
            "update",
            json!({"version": version, "before": v.content, "after": content}),
        )
        .await?;
        tx.commit().await?;
        self.entry(entry_id).await
    }

    fn version_of(view: &EntryView, version: i64) -> Result<&EntryVersion> {
        view.versions
            .iter()
            .find(|v| v.version == version)
            .ok_or_else(|| Error::not_found("sharing_entry_version", "目录版本不存在"))
    }

    /// Submits a draft for the bureau's review.
    pub async fn submit_entry(
        &self,
        actor: &Actor,
        entry_id: i64,
        version: i64,
    ) -> Result<EntryView> {
        let g = actor.authorize::<Catalogue>()?;
        let view = self.entry(entry_id).await?;
        Self::require_provider(actor, view.entry.provider_dept_id)?;
        let v = Self::version_of(&view, version)?;
        let to = v.status.apply(ReviewAction::Submit)?;
        v.content.check_open()?;
        self.move_version(
            actor,
            Authorized::from(g),
            entry_id,
            version,
            v.status,
            to,
            "",
            "submit",
        )
        .await
    }

    /// The bureau publishes a submitted version, or returns it with a reason.
    pub async fn review_entry(
        &self,
        actor: &Actor,
        entry_id: i64,
        version: i64,
        publish: bool,
        reason: &str,
    ) -> Result<EntryView> {
        let g = actor.authorize::<Review>()?;
        self.require_bureau(actor).await?;
        let reason = reason.trim();
        if !publish && reason.is_empty() {
            return Err(Error::field("reason", "required", "退回须写明理由"));
        }
        if reason.chars().count() > 500 {
            return Err(Error::field("reason", "too_long", "理由不能超过 500 个字"));
        }
        let view = self.entry(entry_id).await?;
        let v = Self::version_of(&view, version)?;
        let (action, word) = if publish {
            (ReviewAction::Publish, "publish")
        } else {
            (ReviewAction::Return, "return")
        };
        let to = v.status.apply(action)?;
        if publish {
            v.content.check_open()?;
        }
        self.move_version(
            actor,
            Authorized::from(g),
            entry_id,
            version,
            v.status,
            to,
            reason,
            word,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn move_version(
        &self,
        actor: &Actor,
        by: Authorized<'_>,
        entry_id: i64,
        version: i64,
        from: VersionStatus,
        to: VersionStatus,
        reason: &str,
        word: &str,
    ) -> Result<EntryView> {
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        if !store::move_version(&mut tx, by, entry_id, version, from, to, reason, now).await? {
            return Err(Error::IllegalTransition {
                detail: "目录版本的状态已被他人改变，请刷新后重试".into(),
            });
        }
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "sharing_entry",
            entry_id,
            word,
            json!({"version": version, "from": from.code(), "to": to.code(), "reason": reason}),
        )
        .await?;
        tx.commit().await?;
        self.entry(entry_id).await
    }

    /// A new draft copied from the version in force.
    pub async fn new_entry_version(&self, actor: &Actor, entry_id: i64) -> Result<EntryView> {
        let g = actor.authorize::<Catalogue>()?;
        let view = self.entry(entry_id).await?;
        Self::require_provider(actor, view.entry.provider_dept_id)?;
        let last = view.latest();
        if !matches!(
            last.status,
            VersionStatus::Published | VersionStatus::Superseded
        ) {
            return Err(Error::conflict(
                "draft_exists",
                Some("version"),
                format!("第 {} 版尚未发布，请先处理它", last.version),
            ));
        }
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        store::insert_version(
            &mut tx,
            Authorized::from(g),
            entry_id,
            last.version + 1,
            &last.content,
            now,
        )
        .await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "sharing_entry",
            entry_id,
            "new_version",
            json!({"version": last.version + 1}),
        )
        .await?;
        tx.commit().await?;
        self.entry(entry_id).await
    }

    pub async fn entry(&self, id: i64) -> Result<EntryView> {
        let mut c = self.conn().await?;
        let entry = store::entry_by_id(&mut c, id)
            .await?
            .ok_or_else(|| Error::not_found("sharing_entry", "目录不存在"))?;
        let versions = store::versions(&mut c, id).await?;
        drop(c);
        let names = self.dept_names().await?;
        let name = |d: i64| names.get(&d).cloned().unwrap_or_default();
        let shown = versions
            .iter()
            .find(|v| v.version == entry.published_version)
            .or(versions.last());
        let item_sources = shown
            .map(|v| {
                v.content
                    .items
                    .iter()
                    .map(|i| {
                        let d = i.source_dept_id.unwrap_or(entry.provider_dept_id);
                        ItemSource {
                            field: i.field.clone(),
                            source_dept_id: d,
                            source_dept_name: name(d),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(EntryView {
            provider_name: name(entry.provider_dept_id),
            entry,
            versions,
            item_sources,
        })
    }

    pub async fn entry_by_code(&self, code: &str) -> Result<EntryView> {
        let e = store::entry_by_code(&mut *self.conn().await?, code.trim())
            .await?
            .ok_or_else(|| Error::not_found("sharing_entry", "目录不存在"))?;
        self.entry(e.id).await
    }

    /// The published catalog, with the versions in force.
    pub async fn published_entries(&self) -> Result<Vec<EntryLine>> {
        let rows = store::published(&mut *self.conn().await?).await?;
        self.lines(rows).await
    }

    /// Entries with their newest version: one provider's (编目), or those waiting for review.
    pub async fn entries(
        &self,
        provider: Option<i64>,
        status: Option<VersionStatus>,
    ) -> Result<Vec<EntryLine>> {
        let rows = store::entries(&mut *self.conn().await?, provider, status).await?;
        self.lines(rows).await
    }

    async fn lines(&self, rows: Vec<(Entry, EntryVersion)>) -> Result<Vec<EntryLine>> {
        let names = self.dept_names().await?;
        Ok(rows
            .into_iter()
            .map(|(entry, version)| EntryLine {
                provider_name: names
                    .get(&entry.provider_dept_id)
                    .cloned()
                    .unwrap_or_default(),
                entry,
                version,
            })
            .collect())
    }

    /// Published entries matching `q` (Chinese full text), best first.
    pub async fn search_entries(&self, q: &str) -> Result<Vec<EntryLine>> {
        let ids = super::search::search(self, q).await?;
        let mut all: std::collections::HashMap<i64, EntryLine> = self
            .published_entries()
            .await?
            .into_iter()
            .map(|l| (l.entry.id, l))
            .collect();
        Ok(ids.into_iter().filter_map(|id| all.remove(&id)).collect())
    }
}

/// An entry made by an import.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportedEntry {
    /// Its row in sheet 目录.
    pub line: usize,
    pub id: i64,
    pub code: String,
    pub name: String,
}

/// What an import did: the drafts made, and every bad row by sheet, line and column (an entry
/// with any bad cell, in its row or its 信息项, is left out whole).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CatalogImport {
    pub created: Vec<ImportedEntry>,
    pub errors: Vec<super::workbook::ImportError>,
}

impl SharingService {
    /// The catalog as a workbook (sheets 目录, 信息项, 填写说明): the published entries, and for
    /// a department's data staff their own department's entries not yet published (their
    /// newest version). With `template`, no entries: a blank form to fill in.
    pub async fn export_catalog(&self, actor: &Actor, template: bool) -> Result<Vec<u8>> {
        use super::workbook::*;
        actor.authorize::<ReadSharing>()?;
        let mut lines = if template {
            vec![]
        } else {
            self.published_entries().await?
        };
        if let (false, Some(d)) = (template, actor.dept_id) {
            let mine = self.entries(Some(d), None).await?;
            lines.extend(mine.into_iter().filter(|l| l.entry.published_version == 0));
        }
        let names = self.dept_names().await?;
        let name = |d: i64| names.get(&d).cloned().unwrap_or_default();
        let export: Vec<ExportEntry<'_>> = lines
            .iter()
            .map(|l| ExportEntry {
                code: &l.entry.code,
                class_code: &l.entry.class_code,
                provider: &l.provider_name,
                published_at: l
                    .entry
                    .published_at
                    .map(|t| kernel::clock::to_china(t).format("%Y-%m-%d").to_string()),
                content: &l.version.content,
            })
            .collect();
        let (entries, items) = export_rows(&export, &name);
        let head = |h: &[&str]| h.iter().map(|s| s.to_string()).collect::<Vec<String>>();
        let (eh, ih, hh) = (
            head(ENTRY_HEADERS),
            head(ITEM_HEADERS),
            head(&["工作表", "列", "填写要求"]),
        );
        let help = help_rows();
        tabular::write_xlsx(&[
            (ENTRY_SHEET, &eh, &entries),
            (ITEM_SHEET, &ih, &items),
            (HELP_SHEET, &hh, &help),
        ])
        .map_err(Error::internal)
    }

    /// Imports a filled workbook as drafts of the importer's department: good entries are
    /// created (together, in one transaction), every bad one is reported and left out whole.
    /// A file that is not such a workbook is refused as a whole, naming `file`.
    pub async fn import_catalog(
        &self,
        actor: &Actor,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> Result<CatalogImport> {
        use super::workbook::*;
        let g = actor.authorize::<Catalogue>()?;
        let dept = Self::own_dept(actor)?;
        let lower = file_name.to_lowercase();
        if !(lower.ends_with(".xlsx") || lower.ends_with(".xls") || lower.ends_with(".xlsm")) {
            return Err(Error::field(
                "file",
                "not_a_workbook",
                "请上传 .xlsx 工作簿，可先下载模板填写",
            ));
        }
        let sheets = tokio::task::spawn_blocking(move || {
            let e = tabular::read_xlsx_sheet(&bytes, ENTRY_SHEET)?;
            let i = tabular::read_xlsx_sheet(&bytes, ITEM_SHEET)?;
            Ok::<_, tabular::TabularError>((e, i))
        })
        .await
        .map_err(Error::internal)?;
        let (es, is) = sheets.map_err(|e| Error::field("file", "unreadable", e.to_string()))?;
        let names = self.dept_names().await?;
        let by_name: std::collections::HashMap<&str, i64> =
            names.iter().map(|(id, n)| (n.as_str(), *id)).collect();
        let (parsed, mut errors) = parse(&es, &is, &|n| by_name.get(n).copied())?;
        let mut good = Vec::new();
        for p in parsed {
            match self
                .check_sources(p.entry.category, &p.entry.content, "content.")
                .await
            {
                Ok(()) => good.push(p),
                Err(e) => {
                    for f in e.field_errors() {
                        let (sheet, line, column) = place(&p, &f.field);
                        errors.push(ImportError {
                            sheet: sheet.into(),
                            line,
                            column: column.into(),
                            reason: f.detail.clone(),
                        });
                    }
                }
            }
        }
        let now = self.db.now();
        let mut created = Vec::new();
        if !good.is_empty() {
            let mut tx = self.db.begin().await?;
            for p in &good {
                let (id, code) = store::insert_entry(
                    &mut tx,
                    Authorized::from(g),
                    &p.entry.class_code(),
                    dept,
                    &p.entry.content,
                    now,
                )
                .await?;
                audit::record(
                    &mut tx,
                    now,
                    &actor.audit_actor(),
                    "sharing_entry",
                    id,
                    "create",
                    json!({"code": code, "provider_dept_id": dept, "content": p.entry.content,
                           "import": file_name}),
                )
                .await?;
                created.push(ImportedEntry {
                    line: p.line,
                    id,
                    code,
                    name: p.entry.content.name.clone(),
                });
            }
            tx.commit().await?;
        }
        Ok(CatalogImport { created, errors })
    }
}
