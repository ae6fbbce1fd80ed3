//! 证照类型 use cases: create with a first draft, change a draft, publish, new version.

use super::domain::*;
use super::store;
use crate::service::*;
use kernel::audit;
use kernel::error::{Error, Result};
use kernel::{Actor, Authorized};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

/// A type with its versions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TypeView {
    #[serde(flatten)]
    pub license_type: LicenseType,
    pub versions: Vec<TypeVersion>,
}

impl TypeView {
    /// The published version in force, if any.
    pub fn published(&self) -> Option<&TypeVersion> {
        self.versions
            .iter()
            .find(|v| v.version == self.license_type.published_version)
    }
}

impl LicensesService {
    async fn check_depts(&self, content: &TypeContent) -> Result<()> {
        for (i, d) in content.dept_ids.iter().enumerate() {
            if self.issuer(*d).await.is_err() {
                return Err(Error::field(
                    format!("content.dept_ids[{i}]"),
                    "unknown_department",
                    format!("部门 {d} 不存在"),
                ));
            }
        }
        Ok(())
    }

    pub async fn create_type(&self, actor: &Actor, input: NewType) -> Result<TypeView> {
        let g = actor.authorize::<ManageTypes>()?;
        input.validate()?;
        self.check_depts(&input.content).await?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let id = store::insert_type(&mut tx, Authorized::from(g), &input, now).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "license_type",
            id,
            "create",
            json!({"code": input.code.trim(), "name": input.name.trim(), "content": input.content}),
        )
        .await?;
        tx.commit().await?;
        self.license_type(id).await
    }

    /// Changes a draft version; a published one is refused (make a new version).
    pub async fn update_draft(
        &self,
        actor: &Actor,
        type_id: i64,
        version: i64,
        content: TypeContent,
    ) -> Result<TypeView> {
        let g = actor.authorize::<ManageTypes>()?;
        content.validate()?;
        self.check_depts(&content).await?;
        let v = self.type_version(type_id, version).await?;
        ensure_draft(&v)?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        if !store::update_draft(&mut tx, Authorized::from(g), type_id, version, &content).await? {
            return Err(Error::IllegalTransition {
                detail: format!("第 {version} 版已发布，不能修改"),
            });
        }
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "license_type",
            type_id,
            "update_draft",
            json!({"version": version, "before": v.content, "after": content}),
        )
        .await?;
        tx.commit().await?;
        self.license_type(type_id).await
    }

    /// A new draft version copied from the latest one.
    pub async fn new_version(&self, actor: &Actor, type_id: i64) -> Result<TypeView> {
        let g = actor.authorize::<ManageTypes>()?;
        let view = self.license_type(type_id).await?;
        let last = view
            .versions
            .last()
            .ok_or_else(|| Error::internal("type without versions"))?;
        if last.published_at.is_none() {
            return Err(Error::conflict(
                "draft_exists",
                Some("version"),
                format!("第 {} 版仍是草稿，请先发布或修改它", last.version),
            ));
        }
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        store::insert_version(
            &mut tx,
            Authorized::from(g),
            type_id,
            last.version + 1,
            &last.content,
            now,
        )
        .await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "license_type",
            type_id,
            "new_version",
            json!({"version": last.version + 1}),
        )
        .await?;
        tx.commit().await?;
        self.license_type(type_id).await
    }

    pub async fn publish_type(
        &self,
        actor: &Actor,
        type_id: i64,
        version: i64,
    ) -> Result<TypeView> {
        let g = actor.authorize::<ManageTypes>()?;
        let v = self.type_version(type_id, version).await?;
        ensure_draft(&v)?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        if !store::publish(&mut tx, Authorized::from(g), type_id, version, now).await? {
            return Err(Error::IllegalTransition {
                detail: format!("第 {version} 版已发布"),
            });
        }
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "license_type",
            type_id,
            "publish",
            json!({"version": version}),
        )
        .await?;
        tx.commit().await?;
        self.license_type(type_id).await
    }

    pub async fn license_type(&self, id: i64) -> Result<TypeView> {
        let mut c = self.conn().await?;
        let t = store::type_by_id(&mut c, id)
            .await?
            .ok_or_else(|| Error::not_found("license_type", "证照类型不存在"))?;
        let versions = store::versions(&mut c, id).await?;
        Ok(TypeView {
            license_type: t,
            versions,
        })
    }

    pub async fn license_type_by_code(&self, code: &str) -> Result<Option<TypeView>> {
        let t = store::type_by_code(&mut *self.conn().await?, code.trim()).await?;
        match t {
            Some(t) => Ok(Some(self.license_type(t.id).await?)),
            None => Ok(None),
        }
    }

    /// A type by its code, or else by its name (the service hall's materials name it either way).
    pub async fn license_type_by_ref(&self, r: &str) -> Result<Option<LicenseType>> {
        let mut c = self.conn().await?;
        match store::type_by_code(&mut c, r.trim()).await? {
            Some(t) => Ok(Some(t)),
            None => store::type_by_name(&mut c, r.trim()).await,
        }
    }

    pub async fn license_types(&self) -> Result<Vec<LicenseType>> {
        store::types(&mut *self.conn().await?).await
    }

    pub async fn type_version(&self, type_id: i64, version: i64) -> Result<TypeVersion> {
        store::version(&mut *self.conn().await?, type_id, version)
            .await?
            .ok_or_else(|| Error::not_found("license_type_version", "证照类型版本不存在"))
    }
}
