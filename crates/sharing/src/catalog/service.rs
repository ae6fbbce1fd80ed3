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

    pub async fn create_entry(&self, actor: &Actor, input: NewEntry) -> Result<EntryView> {
        let g = actor.authorize::<Catalogue>()?;
        input.validate()?;
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
        let provider_name = self
            .dept_names()
            .await?
            .remove(&entry.provider_dept_id)
            .unwrap_or_default();
        Ok(EntryView {
            entry,
            provider_name,
            versions,
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
