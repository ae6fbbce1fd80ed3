//! Items and their versions: create, edit (a new draft when the latest is published),
//! publish, read; the rights to maintain a department's items.

use super::store;
use crate::domain::*;
use crate::service::*;
use kernel::audit;
use kernel::error::{Error, Result};
use kernel::{Actor, Granted, Role};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

/// One change of an item as the audit chain recorded it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemChange {
    pub version: i64,
    /// `create`, `edit` or `publish`.
    pub action: String,
    pub at: i64,
    pub actor_name: String,
}

/// The text the public search looks in.
fn search_text(i: &ItemInput, dept_name: &str) -> String {
    let mut s = format!(
        "{} {} {} {} {} {} {}",
        i.name,
        i.basic_code,
        i.impl_code,
        dept_name,
        i.conditions,
        i.legal_basis,
        i.item_type.label()
    );
    for m in &i.materials {
        s.push(' ');
        s.push_str(&m.name);
    }
    for sc in &i.scenarios {
        s.push(' ');
        s.push_str(&sc.name);
    }
    s
}

impl ServicesService {
    /// The right to maintain this department's items: the permission, and the department in
    /// the actor's scope.
    pub(crate) fn require_item_rights<'a>(
        actor: &'a Actor,
        dept: &org::Department,
    ) -> Result<Granted<'a, MaintainItems>> {
        let granted = actor.authorize::<MaintainItems>()?;
        if !actor.scope.can_see(&[dept.id], Some(&dept.region_code)) {
            return Err(Error::forbidden("只能维护本部门的事项"));
        }
        Ok(granted)
    }

    /// An item whose result is a license type: the type must be in the library, published,
    /// and the application form must carry every field the license needs.
    async fn check_result_license(&self, input: &ItemInput) -> Result<()> {
        let (Some(l), Some(r)) = (&self.licenses, input.result_license.as_deref()) else {
            return Ok(());
        };
        let keys: Vec<&str> = input.fields.iter().map(|f| f.key.trim()).collect();
        let gaps = l.result_type_gaps(r.trim(), &keys).await?;
        if gaps.is_empty() {
            Ok(())
        } else {
            Err(Error::field(
                "result_license",
                "fields_missing",
                format!(
                    "申请表缺少结果证照需要的字段：{}（字段代码须与证照字段一致）",
                    gaps.join("、")
                ),
            ))
        }
    }

    /// Creates an item as draft version 1.
    pub async fn create_item(&self, actor: &Actor, input: ItemInput) -> Result<ServiceItem> {
        actor.authorize::<MaintainItems>()?;
        input.validate()?;
        self.check_result_license(&input).await?;
        let dept = self.department(input.dept_id).await?;
        let granted = Self::require_item_rights(actor, &dept)?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let id = store::insert_item(
            &mut tx,
            granted,
            &input,
            &dept.region_code,
            &search_text(&input, &dept.name),
            now,
        )
        .await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "service_item",
            id,
            "create",
            json!({"impl_code": input.impl_code, "name": input.name, "version": 1}),
        )
        .await?;
        let item = store::item_version(&mut tx, id, 1)
            .await?
            .ok_or_else(|| Error::internal("item vanished"))?;
        tx.commit().await?;
        Ok(item)
    }

    /// Edits an item: a draft is rewritten; a published version stays as it is and the edit
    /// becomes a new draft version.
    pub async fn update_item(
        &self,
        actor: &Actor,
        id: i64,
        input: ItemInput,
    ) -> Result<ServiceItem> {
        actor.authorize::<MaintainItems>()?;
        input.validate()?;
        self.check_result_license(&input).await?;
        let dept = self.department(input.dept_id).await?;
        let granted = Self::require_item_rights(actor, &dept)?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let (latest, cur) = latest_version(&mut tx, id).await?;
        let old_dept = self.department(cur.content.dept_id).await?;
        Self::require_item_rights(actor, &old_dept)?;
        if cur.content.impl_code.trim() != input.impl_code.trim() {
            return Err(Error::field(
                "impl_code",
                "immutable",
                "实施编码不能修改；新的实施编码请新建事项",
            ));
        }
        let search = search_text(&input, &dept.name);
        let version = if cur.status == ItemStatus::Draft {
            if !store::update_draft(&mut tx, granted, id, latest, &input, &search, now).await? {
                return Err(Error::conflict(
                    "stale_item",
                    None,
                    "事项已被他人发布，请刷新后重试",
                ));
            }
            latest
        } else {
            store::insert_version(&mut tx, granted, id, latest + 1, &input, &search, now).await?;
            latest + 1
        };
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "service_item",
            id,
            "edit",
            json!({"version": version, "name": input.name}),
        )
        .await?;
        let item = store::item_version(&mut tx, id, version)
            .await?
            .ok_or_else(|| Error::internal("item vanished"))?;
        tx.commit().await?;
        Ok(item)
    }

    /// Publishes the latest draft; the version published before is superseded (cases filed
    /// under it keep it).
    pub async fn publish_item(&self, actor: &Actor, id: i64) -> Result<ServiceItem> {
        actor.authorize::<MaintainItems>()?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let (latest, cur) = latest_version(&mut tx, id).await?;
        let dept = self.department(cur.content.dept_id).await?;
        let granted = Self::require_item_rights(actor, &dept)?;
        if cur.status != ItemStatus::Draft {
            return Err(Error::IllegalTransition {
                detail: "该事项没有待发布的草稿".into(),
            });
        }
        store::publish(&mut tx, granted, id, latest, now).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "service_item",
            id,
            "publish",
            json!({"version": latest}),
        )
        .await?;
        let item = store::item_version(&mut tx, id, latest)
            .await?
            .ok_or_else(|| Error::internal("item vanished"))?;
        tx.commit().await?;
        Ok(item)
    }

    /// The published version of an item (anyone; the public 办事指南).
    pub async fn published_item(&self, id: i64) -> Result<ServiceItem> {
        let mut c = self.conn().await?;
        let (_, published) = store::item_versions_of(&mut c, id)
            .await?
            .ok_or_else(|| Error::not_found("service_item", "事项不存在"))?;
        let v = published.ok_or_else(|| Error::not_found("service_item", "事项尚未发布"))?;
        store::item_version(&mut c, id, v)
            .await?
            .ok_or_else(|| Error::not_found("service_item", "事项不存在"))
    }

    /// Every version of an item (staff); drafts only to staff who see the item's department.
    pub async fn item_versions(&self, actor: &Actor, id: i64) -> Result<Vec<ServiceItem>> {
        Self::require_staff(actor)?;
        let mut v = store::all_versions(&mut *self.conn().await?, id).await?;
        if v.is_empty() {
            return Err(Error::not_found("service_item", "事项不存在"));
        }
        v.retain(|i| i.status != ItemStatus::Draft || Self::sees_drafts_of(actor, i));
        Ok(v)
    }

    /// Whether `actor` may read the unpublished drafts of `item`'s department: its own staff
    /// and region-wide staff over it ([`kernel::Scope::can_see`]), not other departments'.
    fn sees_drafts_of(actor: &Actor, item: &ServiceItem) -> bool {
        actor.roles.iter().any(|r| *r != Role::Citizen)
            && actor
                .scope
                .can_see(&[item.content.dept_id], Some(&item.region_code))
    }

    /// One version of an item (staff, or anyone when published/superseded).
    pub async fn item_version(
        &self,
        actor: Option<&Actor>,
        id: i64,
        version: i64,
    ) -> Result<ServiceItem> {
        let i = store::item_version(&mut *self.conn().await?, id, version)
            .await?
            .ok_or_else(|| Error::not_found("service_item", "事项版本不存在"))?;
        if i.status == ItemStatus::Draft && !actor.is_some_and(|a| Self::sees_drafts_of(a, &i)) {
            return Err(Error::not_found("service_item", "事项版本不存在"));
        }
        Ok(i)
    }

    /// The item with this 实施编码, if any (imports).
    pub async fn item_id_by_impl_code(&self, code: &str) -> Result<Option<i64>> {
        store::item_id_by_impl_code(&mut *self.conn().await?, code.trim()).await
    }

    /// Latest versions for staff, limited to their departments.
    pub async fn staff_items(&self, actor: &Actor) -> Result<Vec<ServiceItem>> {
        Self::require_staff(actor)?;
        store::latest_items(
            &mut *self.conn().await?,
            actor.scope.filter().dept_ids.as_deref(),
        )
        .await
    }

    /// Who created, edited and published each version of an item, from the audit chain
    /// (the item tables keep only times), oldest first (staff).
    pub async fn item_history(&self, actor: &Actor, id: i64) -> Result<Vec<ItemChange>> {
        Self::require_staff(actor)?;
        // Who edits a draft is the department's business until it is published.
        let hidden: Vec<i64> = store::all_versions(&mut *self.conn().await?, id)
            .await?
            .iter()
            .filter(|i| i.status == ItemStatus::Draft && !Self::sees_drafts_of(actor, i))
            .map(|i| i.version)
            .collect();
        let org = self.org();
        let mut names: std::collections::HashMap<String, String> = Default::default();
        let mut out = Vec::new();
        for r in audit::history(&self.db, "service_item", &id.to_string()).await? {
            let who = match names.get(&r.actor) {
                Some(n) => n.clone(),
                None => {
                    let n = match r.actor.strip_prefix("user:").map(str::parse::<i64>) {
                        Some(Ok(uid)) => org
                            .user(&Actor::system(), uid)
                            .await
                            .map(|u| u.display_name)
                            .unwrap_or_else(|_| r.actor.clone()),
                        _ if r.actor == "cli" => "命令行".to_owned(),
                        _ if r.actor == "system" => "系统".to_owned(),
                        _ => r.actor.clone(),
                    };
                    names.insert(r.actor.clone(), n.clone());
                    n
                }
            };
            let version = r.payload["version"].as_i64().unwrap_or(0);
            if hidden.contains(&version) {
                continue;
            }
            out.push(ItemChange {
                version,
                action: r.action,
                at: r.at,
                actor_name: who,
            });
        }
        Ok(out)
    }

    /// Refuses unless the actor may maintain the items of this department (pages and imports
    /// check a whole form or file before writing any of it).
    pub async fn require_item_rights_for(&self, actor: &Actor, dept_id: i64) -> Result<()> {
        actor.authorize::<MaintainItems>()?;
        let dept = self.department(dept_id).await?;
        Self::require_item_rights(actor, &dept).map(|_| ())
    }
}

/// An item's latest version number and that version (404 for an unknown item).
async fn latest_version(tx: &mut kernel::Tx, id: i64) -> Result<(i64, ServiceItem)> {
    let (latest, _) = store::item_versions_of(tx, id)
        .await?
        .ok_or_else(|| Error::not_found("service_item", "事项不存在"))?;
    let cur = store::item_version(tx, id, latest)
        .await?
        .ok_or_else(|| Error::internal("item version missing"))?;
    Ok((latest, cur))
}
