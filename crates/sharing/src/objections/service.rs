//! 数据异议 use cases: raise, answer (核实: confirm or correct the registry), list.

use super::domain::*;
use super::store;
use crate::catalog::domain::Category;
use crate::service::*;
use kernel::audit;
use kernel::calendar::Calendar;
use kernel::error::{Error, Result};
use kernel::page::{Page, PageQuery};
use kernel::{Actor, Authorized, Role};
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

/// An objection as a reader sees it: names instead of numbers, the values masked unless the
/// reader's department is one of the two that hold them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ObjectionView {
    #[serde(flatten)]
    pub objection: Objection,
    pub resource_code: String,
    pub resource_name: String,
    /// The 信息项's name (`户籍地址`).
    pub field_name: String,
    pub raised_by_dept_name: String,
    pub source_dept_name: String,
    pub status_label: String,
    /// Open past its deadline.
    pub overdue: bool,
    /// The reader may answer it (the source department's data officer, while open).
    pub can_answer: bool,
}

impl SharingService {
    /// Raises a 数据异议: the raising department holds `claimed_value` for a base registry's
    /// record and 信息项; it goes to the registry's source department with a deadline.
    pub async fn raise_objection(&self, actor: &Actor, n: NewObjection) -> Result<ObjectionView> {
        let g = actor.authorize::<RaiseObjection>()?;
        let dept = Self::own_dept(actor)?;
        let resource = match self.raw_resource(n.resource_code.trim()).await? {
            Some(r) => Some(r),
            None if n.resource_code.trim().is_empty() => None,
            None => {
                return Err(Error::field(
                    "resource_code",
                    "unknown_resource",
                    format!("没有资源代码为 {} 的资源", n.resource_code.trim()),
                ))
            }
        };
        let item = resource.as_ref().and_then(|r| r.field(&n.field)).cloned();
        let claimed = check_new(&n, item.as_ref())?;
        let (resource, item) = (resource.expect("checked"), item.expect("checked"));
        let entry = self.entry(resource.entry_id).await?;
        let basic = entry.published().is_some() && entry.entry.category() == Category::Basic;
        if !basic || resource.kind != "table" {
            return Err(Error::field(
                "resource_code",
                "not_a_registry",
                "数据异议只针对基础信息资源（人口、法人等基础库）中保存的数据",
            ));
        }
        // 一数一源: the 信息项's own source department, else the entry's provider.
        let source = entry.source_of(&item.field);
        if source == dept {
            return Err(Error::forbidden(
                "本部门就是该数据的来源部门，请直接更正数据，无需提出异议",
            ));
        }
        let key = n.row_key.trim();
        let mut c = self.conn().await?;
        let Some((_, data)) = store::row(&mut c, resource.id, key).await? else {
            return Err(Error::field(
                "row_key",
                "unknown_row",
                format!("资源中没有主键为“{key}”的记录"),
            ));
        };
        drop(c);
        let data: Map<String, Value> = serde_json::from_str(&data)?;
        let registry_value = data
            .get(&item.field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if registry_value == claimed {
            return Err(Error::field(
                "claimed_value",
                "same_value",
                "与基础库中的值相同，无需提出异议",
            ));
        }
        let now = self.db.now();
        let o = Objection {
            id: 0,
            resource_id: resource.id,
            row_key: key.to_owned(),
            field: item.field.clone(),
            registry_value,
            claimed_value: claimed,
            reason: n.reason.trim().to_owned(),
            raised_by_dept: dept,
            raised_by: actor.audit_actor().0,
            source_dept: source,
            status: ObjectionStatus::Open,
            answer: String::new(),
            corrected_value: None,
            answered_by: None,
            answered_at: None,
            deadline_at: Calendar::builtin().add_working_days(now, ANSWER_WORKING_DAYS),
            created_at: now,
        };
        let mut tx = self.db.begin().await?;
        let (open, _) =
            store::page(&mut tx, Some(dept), Some(ObjectionStatus::Open), 1000, 0).await?;
        if open
            .iter()
            .any(|x| x.resource_id == o.resource_id && x.row_key == o.row_key && x.field == o.field)
        {
            return Err(Error::conflict(
                "objection_open",
                Some("field"),
                "本部门对这条记录的这个信息项已有待核实的异议",
            ));
        }
        let id = store::insert(&mut tx, Authorized::from(g), &o).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "sharing_objection",
            id,
            "raise",
            json!({"code": resource.code, "field": item.name, "deadline_at": o.deadline_at}),
        )
        .await?;
        tx.commit().await?;
        self.objection(actor, id).await
    }

    /// The source department's answer: the registry confirmed, or corrected to the claimed
    /// value (or another one it gives). A correction changes the registry's row.
    pub async fn answer_objection(
        &self,
        actor: &Actor,
        id: i64,
        a: ObjectionAnswer,
    ) -> Result<ObjectionView> {
        let g = actor.authorize::<AnswerObjection>()?;
        let o = self.raw_objection(id).await?;
        if !(actor.dept_id == Some(o.source_dept) || actor.has_role(Role::SysAdmin)) {
            return Err(Error::forbidden("只有该数据的来源部门可以核实此异议"));
        }
        if o.status != ObjectionStatus::Open {
            return Err(Error::conflict(
                "objection_answered",
                None,
                "该异议已经答复",
            ));
        }
        let resource = self.raw_resource_by_id(o.resource_id).await?;
        let item = resource.field(&o.field).cloned();
        let mut checks = kernel::error::Checks::new();
        let answer = a.answer.trim();
        if answer.chars().count() < 2 {
            checks.add("answer", "required", "请填写核实意见");
        } else if answer.chars().count() > 500 {
            checks.add("answer", "too_long", "核实意见不能超过 500 个字");
        }
        let mut corrected = None;
        match a.outcome {
            ObjectionStatus::Open => {
                checks.add("outcome", "invalid", "核实结果须为“核实无误”或“已更正”")
            }
            ObjectionStatus::Confirmed => {}
            ObjectionStatus::Corrected => {
                let raw = a
                    .corrected_value
                    .as_deref()
                    .map(str::trim)
                    .filter(|v| !v.is_empty());
                let raw = raw.unwrap_or(&o.claimed_value);
                match item
                    .as_ref()
                    .map(|i| crate::catalog::domain::check_value(i, raw))
                {
                    Some(Ok(Some(v))) => corrected = Some(v),
                    Some(Ok(None)) => checks.add("corrected_value", "required", "请填写更正后的值"),
                    Some(Err(m)) => checks.add("corrected_value", "invalid", m),
                    None => checks.add(
                        "corrected_value",
                        "invalid",
                        "该信息项已不在资源中，无法更正",
                    ),
                }
            }
        }
        checks.finish()?;
        let now = self.db.now();
        let by = Authorized::from(g);
        let mut tx = self.db.begin().await?;
        if !store::answer(
            &mut tx,
            by,
            id,
            a.outcome,
            answer,
            corrected.as_deref(),
            &actor.audit_actor().0,
            now,
        )
        .await?
        {
            return Err(Error::conflict(
                "objection_answered",
                None,
                "该异议已经答复",
            ));
        }
        if let Some(v) = &corrected {
            let Some((row_id, data)) = store::row(&mut tx, o.resource_id, &o.row_key).await? else {
                return Err(Error::conflict(
                    "row_gone",
                    None,
                    "这条记录已不在资源中，无法更正",
                ));
            };
            let mut data: Map<String, Value> = serde_json::from_str(&data)?;
            data.insert(o.field.clone(), Value::String(v.clone()));
            store::correct_row(
                &mut tx,
                by,
                o.resource_id,
                row_id,
                &serde_json::to_string(&data)?,
                now,
            )
            .await?;
        }
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "sharing_objection",
            id,
            "answer",
            json!({"status": a.outcome.label(), "code": resource.code, "field": o.field}),
        )
        .await?;
        tx.commit().await?;
        self.objection(actor, id).await
    }

    /// One objection, if the reader's department raised it or is its source (the bureau
    /// reads all).
    pub async fn objection(&self, actor: &Actor, id: i64) -> Result<ObjectionView> {
        actor.authorize::<ReadSharing>()?;
        let o = self.raw_objection(id).await?;
        let bureau = self.is_bureau(actor).await?;
        let mine = actor
            .dept_id
            .is_some_and(|d| d == o.raised_by_dept || d == o.source_dept);
        if !bureau && !mine {
            return Err(Error::not_found("objection", "没有这个数据异议"));
        }
        let names = self.dept_names().await?;
        self.view(actor, o, &names).await
    }

    /// Objections the reader's department raised or must answer (all for the bureau), open
    /// ones first by deadline.
    pub async fn objections(
        &self,
        actor: &Actor,
        status: Option<ObjectionStatus>,
        q: &PageQuery,
    ) -> Result<Page<ObjectionView>> {
        actor.authorize::<ReadSharing>()?;
        let dept = if self.is_bureau(actor).await? {
            None
        } else {
            Some(Self::own_dept(actor)?)
        };
        let (rows, total) = store::page(
            &mut *self.conn().await?,
            dept,
            status,
            q.per_page(),
            q.offset(),
        )
        .await?;
        let names = self.dept_names().await?;
        let mut items = Vec::with_capacity(rows.len());
        for o in rows {
            items.push(self.view(actor, o, &names).await?);
        }
        Ok(Page::new(items, total, q))
    }

    async fn raw_objection(&self, id: i64) -> Result<Objection> {
        store::by_id(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| Error::not_found("objection", "没有这个数据异议"))
    }

    async fn raw_resource_by_id(&self, id: i64) -> Result<crate::mount::domain::Resource> {
        Ok(self.resource_by_id(id).await?.resource)
    }

    async fn view(
        &self,
        actor: &Actor,
        mut o: Objection,
        names: &std::collections::HashMap<i64, String>,
    ) -> Result<ObjectionView> {
        let resource = self.raw_resource_by_id(o.resource_id).await?;
        let item = resource.field(&o.field);
        let holder = actor
            .dept_id
            .is_some_and(|d| d == o.raised_by_dept || d == o.source_dept);
        if !holder {
            let key_item = resource.fields.iter().find(|i| i.primary_key);
            let hide = |it: Option<&crate::catalog::domain::Item>, v: &mut String| {
                if let Some(k) = personal(it, v) {
                    *v = kernel::mask::as_kind(k, v);
                }
            };
            hide(key_item, &mut o.row_key);
            hide(item, &mut o.registry_value);
            hide(item, &mut o.claimed_value);
            if let Some(v) = o.corrected_value.as_mut() {
                hide(item, v);
            }
        }
        let now = self.db.now();
        Ok(ObjectionView {
            resource_code: resource.code.clone(),
            resource_name: resource.name.clone(),
            field_name: item.map_or_else(|| o.field.clone(), |i| i.name.clone()),
            raised_by_dept_name: names.get(&o.raised_by_dept).cloned().unwrap_or_default(),
            source_dept_name: names.get(&o.source_dept).cloned().unwrap_or_default(),
            status_label: o.status.label().to_owned(),
            overdue: o.status == ObjectionStatus::Open && o.deadline_at < now,
            can_answer: o.status == ObjectionStatus::Open
                && actor.authorize::<AnswerObjection>().is_ok()
                && (actor.dept_id == Some(o.source_dept) || actor.has_role(Role::SysAdmin)),
            objection: o,
        })
    }
}

impl SharingService {
    /// Mounted tables of published 基础信息资源 entries: the base registries objections are
    /// raised on.
    pub async fn registry_resources(&self) -> Result<Vec<crate::mount::service::ResourceView>> {
        let mut out = Vec::new();
        for r in self.resources(None).await? {
            let e = self.entry(r.resource.entry_id).await?;
            if r.resource.kind == "table"
                && e.published().is_some()
                && e.entry.category() == Category::Basic
            {
                out.push(r);
            }
        }
        Ok(out)
    }
}

impl SharingService {
    /// Every objection, for the figures (which filter by period and scope themselves).
    pub(crate) async fn all_objections(&self) -> Result<Vec<Objection>> {
        Ok(
            store::page(&mut *self.conn().await?, None, None, i64::MAX / 2, 0)
                .await?
                .0,
        )
    }
}
