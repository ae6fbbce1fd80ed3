//! Service-hall use cases. Each checks the actor (role, token scope, data scope), applies the
//! domain rule and writes the change, its timeline event and its audit record in one
//! transaction. Other modules use the service hall only through `ServicesService`.

use crate::domain::*;
use crate::store::{self, BundleCaseRow, CaseFilter, TimelineEntry};
use kernel::audit;
use kernel::calendar::{self, Calendar};
use kernel::error::{Checks, Error, Result};
use kernel::page::{Page, PageQuery};
use kernel::{mask, Actor, Db, Role, Scope, Tx};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

#[derive(Clone, Debug)]
pub struct ServicesService {
    db: Db,
}

/// Who maintains items: the department's approvers and admins.
const ITEMS: &[Role] = &[Role::Approver, Role::Admin];
/// Who works cases in a department.
const DEPT: &[Role] = &[Role::Approver, Role::Clerk, Role::Admin];
/// Who may decide.
const DECIDE: &[Role] = &[Role::Approver, Role::Admin];
/// The 综合窗口: receives for every department and hands results out.
const FRONT_DESK: &[Role] = &[Role::Clerk, Role::Admin];
const SUPERVISE: &[Role] = &[Role::Supervisor, Role::Admin];
const REPORTS: &[Role] = &[Role::Supervisor, Role::Analyst, Role::Admin];

/// An application for one item.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    pub item_id: i64,
    #[serde(default)]
    pub scenario: Option<String>,
    pub applicant: Applicant,
    #[serde(default)]
    pub form: Map<String, Value>,
    /// Keys of the materials handed in.
    #[serde(default)]
    pub materials: Vec<String>,
}

/// An application for a bundle: one form, one material list.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBundleCase {
    pub applicant: Applicant,
    #[serde(default)]
    pub form: Map<String, Value>,
    #[serde(default)]
    pub materials: Vec<String>,
}

/// A case as a reader may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseView {
    #[serde(flatten)]
    pub case: Case,
    pub status_label: String,
    /// True when the applicant's phone and ID number are shown in full.
    pub personal_data_visible: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BundleView {
    pub bundle: Bundle,
    pub items: Vec<ServiceItem>,
    pub merged: MergedForm,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BundleCaseView {
    pub id: i64,
    pub number: String,
    pub bundle_id: i64,
    pub bundle_name: String,
    /// One status for the citizen.
    pub status: BundleStatus,
    pub status_label: String,
    pub applicant: Applicant,
    pub channel: Channel,
    pub cases: Vec<CaseView>,
    pub created_at: i64,
}

/// What the applicant sees when tracking by number and phone.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Tracking {
    pub number: String,
    pub title: String,
    pub status_label: String,
    pub done: bool,
    pub cases: Vec<CaseView>,
    pub timeline: Vec<TimelineEntry>,
    pub evaluations: Vec<Evaluation>,
    /// Whether a (new) evaluation is possible now.
    pub can_evaluate: bool,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct CaseQuery {
    /// Comma-separated statuses.
    pub status: Option<String>,
    pub item_id: Option<i64>,
    pub card: Option<Card>,
    /// Only cases open past their deadline.
    #[serde(default)]
    pub overdue: bool,
}

/// One change of an item as the audit chain recorded it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemChange {
    pub version: i64,
    /// `create`, `edit` or `publish`.
    pub action: String,
    pub at: i64,
    pub actor_name: String,
}

/// Reply of a department to a rectification, or a supervisor's review.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationReply {
    pub reply: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationReview {
    pub approve: bool,
    pub note: String,
}

fn parse_statuses(s: &str) -> Result<Vec<CaseStatus>> {
    s.split(',')
        .filter(|x| !x.trim().is_empty())
        .map(|x| {
            CaseStatus::parse(x).ok_or_else(|| {
                Error::field("status", "unknown_status", format!("未知的办件状态“{x}”"))
            })
        })
        .collect()
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
    pub fn new(db: Db) -> Self {
        ServicesService { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.db.pool().acquire().await?)
    }

    async fn calendar(&self) -> Result<Calendar> {
        calendar::load(&self.db).await
    }

    fn org(&self) -> org::OrgService {
        org::OrgService::new(self.db.clone(), Default::default())
    }

    async fn department(&self, id: i64) -> Result<org::Department> {
        self.org()
            .department(&Actor::system(), id)
            .await
            .map_err(|e| match e {
                Error::NotFound { .. } => {
                    Error::field("dept_id", "unknown_department", "实施部门不存在")
                }
                e => e,
            })
    }

    fn in_dept_scope(actor: &Actor, dept_id: i64, region: &str) -> bool {
        match &actor.scope {
            Scope::All => true,
            Scope::Departments { ids } => ids.contains(&dept_id),
            Scope::Region { prefix } => region.starts_with(prefix.as_str()),
            Scope::Own => false,
        }
    }

    fn dept_filter(actor: &Actor) -> Option<Vec<i64>> {
        match &actor.scope {
            Scope::Departments { ids } => Some(ids.clone()),
            _ => None,
        }
    }

    fn is_applicant(actor: &Actor, c: &Case) -> bool {
        actor.has_role(Role::Citizen)
            && actor.user_id.is_some()
            && c.applicant.user_id == actor.user_id
    }

    /// Whether the actor may read this case.
    fn can_see(actor: &Actor, c: &Case) -> bool {
        Self::is_applicant(actor, c)
            || actor.has_any_role(FRONT_DESK)
            || (actor.roles.iter().any(|r| *r != Role::Citizen)
                && Self::in_dept_scope(actor, c.dept_id, &c.region_code))
    }

    fn view(actor: &Actor, mut c: Case) -> CaseView {
        let full = Self::is_applicant(actor, &c)
            || actor.has_any_role(&[Role::Clerk, Role::Approver, Role::Admin]);
        if !full {
            c.applicant.phone = mask::phone(&c.applicant.phone);
            c.applicant.id_no = mask::id_card(&c.applicant.id_no);
        }
        CaseView {
            status_label: c.status.label().into(),
            case: c,
            personal_data_visible: full,
        }
    }

    async fn record(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        c: &Case,
        e: &Event,
        now: i64,
    ) -> Result<()> {
        let who = actor.audit_actor();
        store::insert_event(&mut *tx, c.id, now, &who.0, &actor.display_name, e).await?;
        audit::record(
            tx,
            now,
            &who,
            "case",
            c.id,
            e.action,
            json!({"number": c.number, "from": e.from.code(), "to": e.to.code(), "note": e.note, "data": e.data}),
        )
        .await?;
        // The applicant's status notifications go into the outbox in this same transaction.
        crate::notices::enqueue(tx, c, e, now).await?;
        Ok(())
    }

    // ---- items ----

    fn require_item_rights(actor: &Actor, dept: &org::Department) -> Result<()> {
        actor.require_any_role(ITEMS)?;
        actor.require_scope("services:write")?;
        if !Self::in_dept_scope(actor, dept.id, &dept.region_code) {
            return Err(Error::forbidden("只能维护本部门的事项"));
        }
        Ok(())
    }

    /// Creates an item as draft version 1.
    pub async fn create_item(&self, actor: &Actor, input: ItemInput) -> Result<ServiceItem> {
        actor.require_any_role(ITEMS)?;
        input.validate()?;
        let dept = self.department(input.dept_id).await?;
        Self::require_item_rights(actor, &dept)?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let id = store::insert_item(
            &mut tx,
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
        actor.require_any_role(ITEMS)?;
        input.validate()?;
        let dept = self.department(input.dept_id).await?;
        Self::require_item_rights(actor, &dept)?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let (latest, _) = store::item_versions_of(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("service_item", "事项不存在"))?;
        let cur = store::item_version(&mut tx, id, latest)
            .await?
            .ok_or_else(|| Error::internal("item version missing"))?;
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
            if !store::update_draft(&mut tx, id, latest, &input, &search, now).await? {
                return Err(Error::conflict(
                    "stale_item",
                    None,
                    "事项已被他人发布，请刷新后重试",
                ));
            }
            latest
        } else {
            store::insert_version(&mut tx, id, latest + 1, &input, &search, now).await?;
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
        actor.require_any_role(ITEMS)?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let (latest, _) = store::item_versions_of(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("service_item", "事项不存在"))?;
        let cur = store::item_version(&mut tx, id, latest)
            .await?
            .ok_or_else(|| Error::internal("item version missing"))?;
        let dept = self.department(cur.content.dept_id).await?;
        Self::require_item_rights(actor, &dept)?;
        if cur.status != ItemStatus::Draft {
            return Err(Error::IllegalTransition {
                detail: "该事项没有待发布的草稿".into(),
            });
        }
        store::publish(&mut tx, id, latest, now).await?;
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

    /// Every version of an item (staff).
    pub async fn item_versions(&self, actor: &Actor, id: i64) -> Result<Vec<ServiceItem>> {
        Self::require_staff(actor)?;
        let v = store::all_versions(&mut *self.conn().await?, id).await?;
        if v.is_empty() {
            return Err(Error::not_found("service_item", "事项不存在"));
        }
        Ok(v)
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
        if i.status == ItemStatus::Draft
            && !actor.is_some_and(|a| a.roles.iter().any(|r| *r != Role::Citizen))
        {
            return Err(Error::not_found("service_item", "事项版本不存在"));
        }
        Ok(i)
    }

    /// Public search over published items, ranked (`crate::search`: Chinese words, colloquial
    /// wording, each term must match); an empty query lists every published item by name.
    pub async fn search_items(&self, q: &str) -> Result<Vec<ServiceItem>> {
        if q.trim().is_empty() {
            return store::published_items(&mut *self.conn().await?, &[], None).await;
        }
        let ids = crate::search::search(&self.db, q).await?;
        store::published_by_ids(&mut *self.conn().await?, &ids).await
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
            Self::dept_filter(actor).as_deref(),
        )
        .await
    }

    /// Who created, edited and published each version of an item, from the audit chain
    /// (the item tables keep only times), oldest first (staff).
    pub async fn item_history(&self, actor: &Actor, id: i64) -> Result<Vec<ItemChange>> {
        Self::require_staff(actor)?;
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
            out.push(ItemChange {
                version: r.payload["version"].as_i64().unwrap_or(0),
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
        actor.require_any_role(ITEMS)?;
        let dept = self.department(dept_id).await?;
        Self::require_item_rights(actor, &dept)
    }

    fn require_staff(actor: &Actor) -> Result<()> {
        if actor.roles.iter().any(|r| *r != Role::Citizen) {
            Ok(())
        } else {
            Err(Error::forbidden("仅工作人员可以查看"))
        }
    }

    // ---- bundles ----

    pub async fn create_bundle(&self, actor: &Actor, input: BundleInput) -> Result<BundleView> {
        actor.require_any_role(&[Role::Admin])?;
        actor.require_scope("services:write")?;
        input.validate()?;
        for (i, id) in input.item_ids.iter().enumerate() {
            self.published_item(*id).await.map_err(|_| {
                Error::field(
                    format!("item_ids[{i}]"),
                    "unknown_item",
                    format!("事项 {id} 不存在或尚未发布"),
                )
            })?;
        }
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let id = store::insert_bundle(&mut tx, &input, now).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "bundle",
            id,
            "create",
            json!({"code": input.code, "name": input.name, "items": input.item_ids}),
        )
        .await?;
        tx.commit().await?;
        self.bundle(id).await
    }

    /// A bundle with its items' published versions and the merged form.
    pub async fn bundle(&self, id: i64) -> Result<BundleView> {
        let b = store::bundle(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| Error::not_found("bundle", "一件事不存在"))?;
        let mut items = Vec::new();
        for i in &b.content.item_ids {
            items.push(self.published_item(*i).await?);
        }
        let refs: Vec<&ItemInput> = items.iter().map(|i| &i.content).collect();
        let merged = merge(&b.content, &refs);
        Ok(BundleView {
            bundle: b,
            items,
            merged,
        })
    }

    pub async fn bundles(&self) -> Result<Vec<Bundle>> {
        store::bundles(&mut *self.conn().await?).await
    }

    // ---- cases ----

    fn channel_for(actor: &Actor) -> Result<Channel> {
        if actor.has_any_role(FRONT_DESK) {
            Ok(Channel::Window)
        } else if actor.has_role(Role::Citizen) {
            Ok(Channel::Online)
        } else {
            Err(Error::forbidden("只有申请人或综合窗口人员可以提交申请"))
        }
    }

    fn check_form(fields: &[FormField], form: &Map<String, Value>) -> Result<()> {
        let mut c = Checks::new();
        for f in fields {
            let v = form
                .get(&f.key)
                .and_then(Value::as_str)
                .map(str::trim)
                .unwrap_or("");
            let name = format!("form.{}", f.key);
            if v.is_empty() {
                c.check(!f.required, &name, "required", format!("请填写{}", f.label));
                continue;
            }
            let ok = match f.kind {
                FieldKind::Text => v.chars().count() <= 500,
                FieldKind::IdCard => kernel::codes::check_id_card(v).is_ok(),
                FieldKind::CreditCode => kernel::codes::check_credit_code(v).is_ok(),
                FieldKind::Mobile => kernel::codes::check_mobile(v).is_ok(),
                FieldKind::Date => chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok(),
                FieldKind::Number => v.parse::<f64>().is_ok(),
            };
            c.check(
                ok,
                &name,
                "invalid",
                format!("{}格式不正确（{}）", f.label, f.kind.label()),
            );
        }
        for k in form.keys() {
            c.check(
                fields.iter().any(|f| &f.key == k),
                &format!("form.{k}"),
                "unknown_field",
                format!("表单没有字段“{k}”"),
            );
        }
        c.finish()
    }

    #[allow(clippy::too_many_arguments)]
    async fn new_case(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        item: &ServiceItem,
        scenario: Option<String>,
        applicant: &Applicant,
        form: Map<String, Value>,
        submitted: &[String],
        channel: Channel,
        bundle_case_id: Option<i64>,
        waiting: bool,
        now: i64,
    ) -> Result<Case> {
        let list = item.content.materials_for(scenario.as_deref())?;
        let day = kernel::clock::to_china(now).date_naive();
        let seq = store::next_seq(tx, "case", &day.format("%Y%m%d").to_string()).await?;
        let mut c = Case {
            id: 0,
            number: case_number(day, seq),
            item_id: item.id,
            item_version: item.version,
            item_name: item.content.name.clone(),
            dept_id: item.content.dept_id,
            region_code: item.region_code.clone(),
            bundle_case_id,
            applicant: applicant.clone(),
            channel,
            scenario,
            form,
            materials: case_materials(&list, submitted),
            status: if waiting {
                CaseStatus::Waiting
            } else {
                CaseStatus::Submitted
            },
            immediate: item.content.handling == HandlingKind::Immediate,
            legal_days: item.content.legal_days,
            promised_days: item.content.promised_days,
            time_unit: item.content.time_unit,
            delivery_options: item.content.delivery.clone(),
            prechecked: None,
            accepted_at: None,
            due_at: None,
            paused_since: None,
            paused_minutes: 0,
            special: None,
            tolerated: None,
            supplement: None,
            decision: None,
            rejection: None,
            delivery: None,
            withdrawn_reason: None,
            handlers: vec![],
            received_by: (channel == Channel::Window)
                .then_some(actor.user_id)
                .flatten(),
            card: Card::None,
            created_at: now,
            closed_at: None,
            delivered_at: None,
            updated_at: now,
        };
        c.id = store::insert_case(tx, &c).await?;
        let e = Event {
            action: "submit",
            label: if channel == Channel::Window {
                "综合窗口收件"
            } else {
                "网上申请"
            },
            from: c.status,
            to: c.status,
            note: None,
            data: json!({"item_version": c.item_version, "materials": submitted}),
        };
        self.record(tx, actor, &c, &e, now).await?;
        Ok(c)
    }

    /// 秒批 on a freshly submitted case, when its item has a rule.
    async fn try_auto(
        &self,
        tx: &mut Tx,
        c: Case,
        item: &ServiceItem,
        cal: &Calendar,
        now: i64,
    ) -> Result<Case> {
        let Some(rule) = &item.content.auto_rule else {
            return Ok(c);
        };
        if c.status != CaseStatus::Submitted {
            return Ok(c);
        }
        let missing: Vec<String> = c.missing().iter().map(|m| m.name.clone()).collect();
        let today = kernel::clock::to_china(now).date_naive();
        let d = rule.decide(&item.content, &c.form, &missing, today);
        let (next, e) = c.auto_decide(&d, now, cal)?;
        store::update_case(tx, &next, 1).await?;
        self.record(tx, &Actor::system(), &next, &e, now).await?;
        Ok(next)
    }

    fn applicant_for(actor: &Actor, a: &Applicant, channel: Channel) -> Result<Applicant> {
        a.validate()?;
        let mut a = a.clone();
        a.name = a.name.trim().into();
        a.id_no = a.id_no.trim().to_uppercase();
        a.phone = a.phone.trim().into();
        // Online, the account is the applicant; at the window the clerk names them.
        a.user_id = if channel == Channel::Online {
            actor.user_id
        } else {
            a.user_id
        };
        Ok(a)
    }

    /// Files an application: online by the applicant, or at the 综合窗口 by a clerk.
    pub async fn submit(&self, actor: &Actor, input: NewCase) -> Result<CaseView> {
        let channel = Self::channel_for(actor)?;
        actor.require_scope("services:apply")?;
        let applicant = Self::applicant_for(actor, &input.applicant, channel)?;
        let item = self
            .published_item(input.item_id)
            .await
            .map_err(|_| Error::field("item_id", "unknown_item", "事项不存在或尚未发布"))?;
        let mut input = input;
        fill_from_applicant(&item.content.fields, &mut input.form, &applicant)?;
        Self::check_form(&item.content.fields, &input.form)?;
        let cal = self.calendar().await?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let c = self
            .new_case(
                &mut tx,
                actor,
                &item,
                input.scenario.clone(),
                &applicant,
                input.form,
                &input.materials,
                channel,
                None,
                false,
                now,
            )
            .await?;
        let c = self.try_auto(&mut tx, c, &item, &cal, now).await?;
        tx.commit().await?;
        Ok(Self::view(actor, c))
    }

    /// Applies for a bundle: one form and one material list; a sub-case opens in each
    /// department, all at once (parallel) or the first only (sequential).
    pub async fn submit_bundle(
        &self,
        actor: &Actor,
        bundle_id: i64,
        input: NewBundleCase,
    ) -> Result<BundleCaseView> {
        let channel = Self::channel_for(actor)?;
        actor.require_scope("services:apply")?;
        let applicant = Self::applicant_for(actor, &input.applicant, channel)?;
        let view = self.bundle(bundle_id).await?;
        let mut input = input;
        fill_from_applicant(&view.merged.fields, &mut input.form, &applicant)?;
        Self::check_form(&view.merged.fields, &input.form)?;
        let cal = self.calendar().await?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let day = kernel::clock::to_china(now).date_naive();
        let seq = store::next_seq(&mut tx, "bundle", &day.format("%Y%m%d").to_string()).await?;
        let mut row = BundleCaseRow {
            id: 0,
            number: format!("YJS{}{:05}", day.format("%Y%m%d"), seq),
            bundle_id,
            applicant: applicant.clone(),
            channel,
            form: input.form.clone(),
            created_at: now,
        };
        row.id = store::insert_bundle_case(&mut tx, &row).await?;
        for (i, item) in view.items.iter().enumerate() {
            // Each department gets the fields of its own item, filled once on the merged form.
            let form: Map<String, Value> = input
                .form
                .iter()
                .filter(|(k, _)| item.content.fields.iter().any(|f| &f.key == *k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let waiting = view.bundle.content.order == BundleOrder::Sequential && i > 0;
            let c = self
                .new_case(
                    &mut tx,
                    actor,
                    item,
                    None,
                    &applicant,
                    form,
                    &input.materials,
                    channel,
                    Some(row.id),
                    waiting,
                    now,
                )
                .await?;
            self.try_auto(&mut tx, c, item, &cal, now).await?;
        }
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "bundle_case",
            row.id,
            "submit",
            json!({"number": row.number, "bundle_id": bundle_id}),
        )
        .await?;
        tx.commit().await?;
        self.bundle_case_view(actor, row).await
    }

    async fn bundle_case_view(&self, actor: &Actor, row: BundleCaseRow) -> Result<BundleCaseView> {
        let mut c = self.conn().await?;
        let b = store::bundle(&mut c, row.bundle_id)
            .await?
            .ok_or_else(|| Error::internal("bundle vanished"))?;
        let cases: Vec<Case> = store::cases_of_bundle(&mut c, row.id)
            .await?
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let status = bundle_status(&cases);
        Ok(BundleCaseView {
            id: row.id,
            number: row.number,
            bundle_id: row.bundle_id,
            bundle_name: b.content.name,
            status,
            status_label: status.label().into(),
            applicant: row.applicant,
            channel: row.channel,
            cases: cases.into_iter().map(|k| Self::view(actor, k)).collect(),
            created_at: row.created_at,
        })
    }

    /// A bundle application by number (the applicant, the front desk, or staff of a department
    /// that holds one of its sub-cases).
    pub async fn bundle_case(&self, actor: &Actor, number: &str) -> Result<BundleCaseView> {
        let row = store::bundle_case_by(&mut *self.conn().await?, "number", number)
            .await?
            .ok_or_else(|| Error::not_found("bundle_case", "一件事申请不存在"))?;
        let v = self.bundle_case_view(actor, row).await?;
        if !v.cases.iter().any(|c| Self::can_see(actor, &c.case)) {
            return Err(Error::forbidden("无权查看该申请"));
        }
        Ok(v)
    }

    async fn load(&self, c: &mut sqlx::AnyConnection, id: i64) -> Result<(Case, i64)> {
        store::case(c, id)
            .await?
            .ok_or_else(|| Error::not_found("case", "办件不存在"))
    }

    pub async fn get(&self, actor: &Actor, id: i64) -> Result<CaseView> {
        let (c, _) = self.load(&mut *self.conn().await?, id).await?;
        if !Self::can_see(actor, &c) {
            return Err(Error::forbidden("无权查看该办件"));
        }
        Ok(Self::view(actor, c))
    }

    pub async fn get_by_number(&self, actor: &Actor, number: &str) -> Result<CaseView> {
        let (c, _) = store::case_by_number(&mut *self.conn().await?, number)
            .await?
            .ok_or_else(|| Error::not_found("case", "办件不存在"))?;
        if !Self::can_see(actor, &c) {
            return Err(Error::forbidden("无权查看该办件"));
        }
        Ok(Self::view(actor, c))
    }

    pub async fn timeline(&self, actor: &Actor, id: i64) -> Result<Vec<TimelineEntry>> {
        let mut conn = self.conn().await?;
        let (c, _) = self.load(&mut conn, id).await?;
        if !Self::can_see(actor, &c) {
            return Err(Error::forbidden("无权查看该办件"));
        }
        store::events(&mut conn, &[id]).await
    }

    /// Cases in the actor's scope: the department inbox, the applicant's own, overdue lists.
    pub async fn list(
        &self,
        actor: &Actor,
        q: &CaseQuery,
        page: &PageQuery,
    ) -> Result<Page<CaseView>> {
        let mut f = CaseFilter {
            statuses: q
                .status
                .as_deref()
                .map(parse_statuses)
                .transpose()?
                .unwrap_or_default(),
            item_id: q.item_id,
            card: q.card,
            overdue_at: q.overdue.then(|| self.db.now()),
            ..Default::default()
        };
        if actor.has_role(Role::Citizen) && actor.roles.len() == 1 {
            f.applicant_user_id = Some(actor.user_id.unwrap_or(-1));
        } else if !actor.has_any_role(FRONT_DESK) {
            match &actor.scope {
                Scope::All => {}
                Scope::Departments { ids } => f.dept_ids = Some(ids.clone()),
                Scope::Region { prefix } => f.region_prefix = Some(prefix.clone()),
                Scope::Own => f.applicant_user_id = Some(actor.user_id.unwrap_or(-1)),
            }
        }
        let (items, total) =
            store::cases(&mut *self.conn().await?, &f, page.per_page(), page.offset()).await?;
        Ok(Page::new(
            items.into_iter().map(|c| Self::view(actor, c)).collect(),
            total,
            page,
        ))
    }

    /// Who may take `action` on `c`.
    fn authorize(actor: &Actor, c: &Case, action: &Action) -> Result<()> {
        if action.by_applicant() {
            if Self::is_applicant(actor, c) || actor.has_any_role(FRONT_DESK) {
                return Ok(());
            }
            // Departments may also record a withdrawal they received in writing.
            if !(matches!(action, Action::Withdraw { .. })
                && actor.has_any_role(DEPT)
                && Self::in_dept_scope(actor, c.dept_id, &c.region_code))
            {
                return Err(Error::forbidden("只有申请人或综合窗口可以办理此操作"));
            }
            return Ok(());
        }
        if let Action::Deliver { .. } = action {
            // 综合窗口出件, or the department itself.
            if actor.has_any_role(FRONT_DESK)
                || (actor.has_any_role(DEPT)
                    && Self::in_dept_scope(actor, c.dept_id, &c.region_code))
            {
                return Ok(());
            }
            return Err(Error::forbidden("只有综合窗口或承办部门可以出件"));
        }
        let roles = if matches!(action, Action::Decide { .. }) {
            DECIDE
        } else {
            DEPT
        };
        actor.require_any_role(roles)?;
        if !Self::in_dept_scope(actor, c.dept_id, &c.region_code) {
            return Err(Error::forbidden("该办件不属于本部门"));
        }
        Ok(())
    }

    /// Which of `actions` the actor may take on `c` now: the permission check and the state
    /// machine run on a copy, so a page offers only what would be accepted. Bad input (a field
    /// error on the sample action) still counts as allowed: the form is there to fill it in.
    pub async fn permitted(
        &self,
        actor: &Actor,
        c: &Case,
        actions: &[Action],
    ) -> Result<Vec<bool>> {
        let cal = self.calendar().await?;
        let now = self.db.now();
        Ok(actions
            .iter()
            .map(|a| {
                let scope = if a.by_applicant() {
                    "services:apply"
                } else {
                    "services:write"
                };
                actor.require_scope(scope).is_ok()
                    && Self::authorize(actor, c, a).is_ok()
                    && !matches!(
                        c.apply(a, actor.user_id, now, &cal),
                        Err(Error::IllegalTransition { .. })
                    )
            })
            .collect())
    }

    /// The working calendar and the current time, for pages that show time left.
    pub async fn calendar_now(&self) -> Result<(Calendar, i64)> {
        Ok((self.calendar().await?, self.db.now()))
    }

    /// Applies an action to a case. Illegal transitions are refused with nothing written.
    pub async fn act(&self, actor: &Actor, id: i64, action: Action) -> Result<CaseView> {
        actor.require_scope(if action.by_applicant() {
            "services:apply"
        } else {
            "services:write"
        })?;
        let cal = self.calendar().await?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let (c, version) = self.load(&mut tx, id).await?;
        if !Self::can_see(actor, &c) {
            return Err(Error::forbidden("无权查看该办件"));
        }
        Self::authorize(actor, &c, &action)?;
        let staff = if actor.has_role(Role::Citizen) && actor.roles.len() == 1 {
            None
        } else {
            actor.user_id
        };
        let (next, e) = c.apply(&action, staff, now, &cal)?;
        store::update_case(&mut tx, &next, version).await?;
        self.record(&mut tx, actor, &next, &e, now).await?;
        // In a sequential bundle the next sub-case opens when this one is done.
        if next.status.is_done() && !c.status.is_done() {
            if let Some(b) = next.bundle_case_id {
                let siblings = store::cases_of_bundle(&mut tx, b).await?;
                if let Some((w, v)) = siblings
                    .into_iter()
                    .find(|(k, _)| k.status == CaseStatus::Waiting)
                {
                    let (opened, e2) = w.open(now)?;
                    store::update_case(&mut tx, &opened, v).await?;
                    self.record(&mut tx, &Actor::system(), &opened, &e2, now)
                        .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(Self::view(actor, next))
    }

    /// 一件事一次出件: every sub-case of a finished bundle application is delivered together.
    pub async fn deliver_bundle(
        &self,
        actor: &Actor,
        number: &str,
        method: DeliveryMethod,
        detail: &str,
    ) -> Result<BundleCaseView> {
        actor.require_any_role(FRONT_DESK)?;
        actor.require_scope("services:write")?;
        let cal = self.calendar().await?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let row = store::bundle_case_by(&mut tx, "number", number)
            .await?
            .ok_or_else(|| Error::not_found("bundle_case", "一件事申请不存在"))?;
        let cases = store::cases_of_bundle(&mut tx, row.id).await?;
        let list: Vec<Case> = cases.iter().map(|(k, _)| k.clone()).collect();
        if bundle_status(&list) != BundleStatus::Done {
            return Err(Error::IllegalTransition {
                detail: "一件事尚未全部办结，不能出件".into(),
            });
        }
        for (c, v) in cases {
            let (next, e) = c.apply(
                &Action::Deliver {
                    method,
                    detail: detail.into(),
                },
                actor.user_id,
                now,
                &cal,
            )?;
            store::update_case(&mut tx, &next, v).await?;
            self.record(&mut tx, actor, &next, &e, now).await?;
        }
        tx.commit().await?;
        self.bundle_case(actor, number).await
    }

    // ---- the applicant without an account: number + phone ----

    async fn by_number_and_phone(
        &self,
        number: &str,
        phone: &str,
    ) -> Result<(String, Vec<Case>, Option<BundleCaseRow>)> {
        let mut c = self.conn().await?;
        let not_found = || Error::not_found("case", "未找到该编号的办件，或手机号不匹配");
        let number = number.trim();
        if let Some(row) = store::bundle_case_by(&mut c, "number", number).await? {
            if row.applicant.phone != phone.trim() {
                return Err(not_found());
            }
            let cases = store::cases_of_bundle(&mut c, row.id)
                .await?
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            let b = store::bundle(&mut c, row.bundle_id)
                .await?
                .ok_or_else(not_found)?;
            return Ok((b.content.name, cases, Some(row)));
        }
        let (k, _) = store::case_by_number(&mut c, number)
            .await?
            .ok_or_else(not_found)?;
        if k.applicant.phone != phone.trim() {
            return Err(not_found());
        }
        Ok((k.item_name.clone(), vec![k], None))
    }

    /// What an applicant sees by number (a case's or a bundle application's) and phone.
    pub async fn track(&self, number: &str, phone: &str) -> Result<Tracking> {
        let (title, cases, _) = self.by_number_and_phone(number, phone).await?;
        self.tracking(number.trim(), title, cases).await
    }

    async fn tracking(&self, number: &str, title: String, cases: Vec<Case>) -> Result<Tracking> {
        let mut conn = self.conn().await?;
        let ids: Vec<i64> = cases.iter().map(|c| c.id).collect();
        let timeline = store::events(&mut conn, &ids).await?;
        let evaluations = store::evaluations_of(&mut conn, number).await?;
        let (label, done) = if cases.len() == 1 && cases[0].bundle_case_id.is_none() {
            (
                cases[0].status.label().to_owned(),
                cases[0].status.is_done(),
            )
        } else {
            let s = bundle_status(&cases);
            (
                s.label().to_owned(),
                matches!(s, BundleStatus::Done | BundleStatus::Delivered),
            )
        };
        let can_evaluate = done && self.next_round(&mut conn, &evaluations).await?.is_some();
        // The applicant sees their own data; masked anyway, as the page may be shared.
        let viewer = Actor {
            roles: vec![Role::Citizen],
            ..Actor::system()
        };
        Ok(Tracking {
            number: number.into(),
            title,
            status_label: label,
            done,
            cases: cases.into_iter().map(|c| Self::view(&viewer, c)).collect(),
            timeline,
            evaluations,
            can_evaluate,
        })
    }

    /// The applicant's own tracking page when signed in.
    pub async fn track_own(&self, actor: &Actor, number: &str) -> Result<Tracking> {
        let mut conn = self.conn().await?;
        let (title, cases) =
            if let Some(row) = store::bundle_case_by(&mut conn, "number", number.trim()).await? {
                let b = store::bundle(&mut conn, row.bundle_id)
                    .await?
                    .ok_or_else(|| Error::internal("bundle vanished"))?;
                (
                    b.content.name,
                    store::cases_of_bundle(&mut conn, row.id)
                        .await?
                        .into_iter()
                        .map(|(k, _)| k)
                        .collect::<Vec<_>>(),
                )
            } else {
                let (k, _) = store::case_by_number(&mut conn, number.trim())
                    .await?
                    .ok_or_else(|| Error::not_found("case", "办件不存在"))?;
                (k.item_name.clone(), vec![k])
            };
        drop(conn);
        if !cases.iter().any(|c| Self::can_see(actor, c)) {
            return Err(Error::forbidden("无权查看该办件"));
        }
        self.tracking(number.trim(), title, cases).await
    }

    // ---- 好差评 ----

    /// The round a new evaluation would be, or None when the applicant has rated and no
    /// rectification has been completed since.
    async fn next_round(
        &self,
        c: &mut sqlx::AnyConnection,
        evals: &[Evaluation],
    ) -> Result<Option<i64>> {
        let Some(last) = evals.iter().max_by_key(|e| e.round) else {
            return Ok(Some(1));
        };
        match store::rectification_of(c, last.id).await? {
            Some(r) if r.status == RectificationStatus::Done => Ok(Some(last.round + 1)),
            _ => Ok(None),
        }
    }

    async fn evaluate_cases(
        &self,
        actor: &Actor,
        number: &str,
        cases: Vec<Case>,
        input: NewEvaluation,
        channel: EvalChannel,
    ) -> Result<Evaluation> {
        input.validate()?;
        let lead = cases
            .first()
            .ok_or_else(|| Error::not_found("case", "办件不存在"))?
            .clone();
        let done = if lead.bundle_case_id.is_some() {
            matches!(
                bundle_status(&cases),
                BundleStatus::Done | BundleStatus::Delivered
            )
        } else {
            lead.status.is_done()
        };
        if !done {
            return Err(Error::IllegalTransition {
                detail: "办结后才能评价".into(),
            });
        }
        let cal = self.calendar().await?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let evals = store::evaluations_of(&mut tx, number).await?;
        let round = self.next_round(&mut tx, &evals).await?.ok_or_else(|| {
            Error::conflict(
                "already_evaluated",
                Some("case_number"),
                "该办件已评价；差评整改完成后才可再次评价",
            )
        })?;
        let mut staff: Vec<i64> = Vec::new();
        for c in &cases {
            for h in &c.handlers {
                if !staff.contains(h) {
                    staff.push(*h);
                }
            }
        }
        let mut e = Evaluation {
            id: 0,
            case_id: if lead.bundle_case_id.is_some() {
                0
            } else {
                lead.id
            },
            case_number: number.into(),
            dept_id: lead.dept_id,
            item_id: lead.item_id,
            applicant_id_no: lead.applicant.id_no.clone(),
            round,
            level: input.level,
            tags: input
                .tags
                .iter()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect(),
            text: input.text.trim().into(),
            channel,
            staff,
            created_at: now,
        };
        e.id = store::insert_evaluation(&mut tx, &e).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "evaluation",
            e.id,
            "evaluate",
            json!({"case_number": number, "level": e.level.code(), "round": round}),
        )
        .await?;
        if e.level.is_bad() {
            // 差评: the department has five working days to put it right and answer.
            let r = Rectification {
                id: 0,
                evaluation_id: e.id,
                case_number: number.into(),
                dept_id: e.dept_id,
                status: RectificationStatus::Open,
                due_at: cal.add_working_days(now, 5),
                reply: None,
                replied_at: None,
                review_note: None,
                reviewed_at: None,
                created_at: now,
            };
            let rid = store::insert_rectification(&mut tx, &r).await?;
            audit::record(
                &mut tx,
                now,
                &Actor::system().audit_actor(),
                "rectification",
                rid,
                "open",
                json!({"case_number": number, "evaluation_id": e.id}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(e)
    }

    /// The signed-in applicant rates their case (or bundle application) online; a clerk
    /// records the rating given at the window's evaluator.
    pub async fn evaluate(
        &self,
        actor: &Actor,
        number: &str,
        input: NewEvaluation,
    ) -> Result<Evaluation> {
        let mut conn = self.conn().await?;
        let cases: Vec<Case> =
            if let Some(row) = store::bundle_case_by(&mut conn, "number", number.trim()).await? {
                store::cases_of_bundle(&mut conn, row.id)
                    .await?
                    .into_iter()
                    .map(|(k, _)| k)
                    .collect()
            } else {
                store::case_by_number(&mut conn, number.trim())
                    .await?
                    .map(|(k, _)| vec![k])
                    .unwrap_or_default()
            };
        drop(conn);
        let Some(first) = cases.first() else {
            return Err(Error::not_found("case", "办件不存在"));
        };
        let channel = if Self::is_applicant(actor, first) {
            EvalChannel::Web
        } else if actor.has_any_role(FRONT_DESK) {
            EvalChannel::Window
        } else {
            return Err(Error::forbidden("只有申请人本人可以评价"));
        };
        self.evaluate_cases(actor, number.trim(), cases, input, channel)
            .await
    }

    /// Rating with number and phone (the applicant without an account).
    pub async fn evaluate_public(
        &self,
        number: &str,
        phone: &str,
        input: NewEvaluation,
    ) -> Result<Evaluation> {
        let (_, cases, _) = self.by_number_and_phone(number, phone).await?;
        let actor = Actor {
            username: "applicant".into(),
            display_name: "申请人".into(),
            ..Actor::system()
        };
        self.evaluate_cases(&actor, number.trim(), cases, input, EvalChannel::Web)
            .await
    }

    pub async fn rectifications(&self, actor: &Actor) -> Result<Vec<Rectification>> {
        if !actor.has_any_role(SUPERVISE) {
            actor.require_any_role(DEPT)?;
        }
        let f = if actor.has_any_role(SUPERVISE) {
            None
        } else {
            Self::dept_filter(actor)
        };
        store::rectifications(&mut *self.conn().await?, f.as_deref()).await
    }

    /// The department answers the citizen and says what it changed.
    pub async fn reply_rectification(
        &self,
        actor: &Actor,
        id: i64,
        input: RectificationReply,
    ) -> Result<Rectification> {
        actor.require_any_role(DEPT)?;
        let reply = input.reply.trim().to_owned();
        let mut c = Checks::new();
        c.text("reply", "整改答复", &reply, 4000);
        c.finish()?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let mut r = store::rectification(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("rectification", "整改任务不存在"))?;
        let dept = self.department(r.dept_id).await?;
        if !Self::in_dept_scope(actor, dept.id, &dept.region_code) {
            return Err(Error::forbidden("该整改任务不属于本部门"));
        }
        if r.status != RectificationStatus::Open {
            return Err(Error::IllegalTransition {
                detail: format!("整改任务当前为“{}”，不能答复", r.status.label()),
            });
        }
        r.status = RectificationStatus::Replied;
        r.reply = Some(reply.clone());
        r.replied_at = Some(now);
        store::save_rectification(&mut tx, &r, RectificationStatus::Open).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "rectification",
            id,
            "reply",
            json!({"reply": reply, "late": now > r.due_at}),
        )
        .await?;
        tx.commit().await?;
        Ok(r)
    }

    /// A supervisor accepts the rectification (done; the applicant may rate again) or sends it
    /// back to the department.
    pub async fn review_rectification(
        &self,
        actor: &Actor,
        id: i64,
        input: RectificationReview,
    ) -> Result<Rectification> {
        actor.require_any_role(SUPERVISE)?;
        let note = input.note.trim().to_owned();
        let mut c = Checks::new();
        c.text("note", "审核意见", &note, 2000);
        c.finish()?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let mut r = store::rectification(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("rectification", "整改任务不存在"))?;
        if r.status != RectificationStatus::Replied {
            return Err(Error::IllegalTransition {
                detail: format!("整改任务当前为“{}”，不能审核", r.status.label()),
            });
        }
        r.status = if input.approve {
            RectificationStatus::Done
        } else {
            RectificationStatus::Open
        };
        r.review_note = Some(note.clone());
        r.reviewed_at = Some(now);
        store::save_rectification(&mut tx, &r, RectificationStatus::Replied).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "rectification",
            id,
            "review",
            json!({"approve": input.approve, "note": note}),
        )
        .await?;
        tx.commit().await?;
        Ok(r)
    }

    // ---- 办不成事反映 ----

    /// Anyone may say they could not get something done; it goes to the supervisors.
    pub async fn submit_feedback(&self, input: NewFeedback) -> Result<Feedback> {
        input.validate()?;
        let dept_id = match input.item_id {
            Some(i) => Some(
                self.published_item(i)
                    .await
                    .map_err(|_| Error::field("item_id", "unknown_item", "事项不存在"))?
                    .content
                    .dept_id,
            ),
            None => None,
        };
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let day = kernel::clock::to_china(now).date_naive();
        let seq = store::next_seq(&mut tx, "feedback", &day.format("%Y%m%d").to_string()).await?;
        let mut f = Feedback {
            id: 0,
            number: format!("BCS{}{:04}", day.format("%Y%m%d"), seq),
            name: input.name.trim().into(),
            phone: input.phone.trim().into(),
            item_id: input.item_id,
            dept_id,
            text: input.text.trim().into(),
            status: FeedbackStatus::Open,
            answer: None,
            answered_by: None,
            created_at: now,
            answered_at: None,
        };
        f.id = store::insert_feedback(&mut tx, &f).await?;
        audit::record(
            &mut tx,
            now,
            &kernel::audit::AuditActor("public".into()),
            "feedback",
            f.id,
            "submit",
            json!({"number": f.number, "item_id": f.item_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(f)
    }

    pub async fn feedback_list(&self, actor: &Actor) -> Result<Vec<Feedback>> {
        actor.require_any_role(SUPERVISE)?;
        let mut list = store::feedback_list(&mut *self.conn().await?).await?;
        if !actor.has_role(Role::Admin) {
            for f in &mut list {
                f.phone = mask::phone(&f.phone);
            }
        }
        Ok(list)
    }

    pub async fn answer_feedback(&self, actor: &Actor, id: i64, answer: &str) -> Result<Feedback> {
        actor.require_any_role(SUPERVISE)?;
        let mut c = Checks::new();
        c.text("answer", "答复", answer, 4000);
        c.finish()?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        store::feedback(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("feedback", "反映不存在"))?;
        if !store::answer_feedback(&mut tx, id, answer.trim(), actor.user_id, now).await? {
            return Err(Error::IllegalTransition {
                detail: "该反映已答复".into(),
            });
        }
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "feedback",
            id,
            "answer",
            json!({"answer": answer.trim()}),
        )
        .await?;
        let f = store::feedback(&mut tx, id)
            .await?
            .ok_or_else(|| Error::internal("feedback vanished"))?;
        tx.commit().await?;
        Ok(f)
    }

    // ---- upkeep ----

    /// Raises yellow and red cards on running cases. Compare-and-set per case, so several
    /// instances may sweep at once and each change happens once. Returns the changes made.
    pub async fn sweep_cards(&self) -> Result<usize> {
        let cal = self.calendar().await?;
        let now = self.db.now();
        let running = store::running_cases(&mut *self.conn().await?).await?;
        let mut changed = 0;
        for (c, v) in running {
            let card = c.card_at(now, &cal);
            if card == c.card {
                continue;
            }
            let mut next = c.clone();
            next.card = card;
            let mut tx = self.db.begin().await?;
            if store::compare_and_set_card(&mut tx, &next, v).await? {
                let e = Event {
                    action: "card",
                    label: if card == Card::Red {
                        "超期亮红牌"
                    } else if card == Card::Yellow {
                        "临期亮黄牌"
                    } else {
                        "撤销亮牌"
                    },
                    from: c.status,
                    to: c.status,
                    note: None,
                    data: json!({"card": card.code(), "due_at": c.due_at}),
                };
                self.record(&mut tx, &Actor::system(), &next, &e, now)
                    .await?;
                tx.commit().await?;
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// For reports: cases and evaluations touching [from, to).
    pub(crate) async fn report_data(
        &self,
        actor: &Actor,
        from: i64,
        to: i64,
    ) -> Result<(Vec<Case>, Vec<Evaluation>, std::collections::HashSet<i64>)> {
        actor.require_any_role(REPORTS)?;
        let mut c = self.conn().await?;
        let mut cases = store::cases_in(&mut c, from, to).await?;
        let mut evals = store::evaluations_in(&mut c, from, to).await?;
        if let Scope::Region { prefix } = &actor.scope {
            cases.retain(|k| k.region_code.starts_with(prefix.as_str()));
            let ids: std::collections::HashSet<i64> = cases.iter().map(|k| k.dept_id).collect();
            evals.retain(|e| ids.contains(&e.dept_id));
        }
        let ids: Vec<i64> = cases.iter().map(|k| k.id).collect();
        let evaluated = store::evaluated_cases(&mut c, &ids).await?;
        Ok((cases, evals, evaluated))
    }

    /// Rectifications and feedback for the report period.
    pub(crate) async fn report_extras(
        &self,
        from: i64,
        to: i64,
    ) -> Result<(Vec<Rectification>, Vec<Feedback>)> {
        let mut c = self.conn().await?;
        let r = store::rectifications(&mut c, None)
            .await?
            .into_iter()
            .filter(|r| r.created_at >= from && r.created_at < to)
            .collect();
        let f = store::feedback_list(&mut c)
            .await?
            .into_iter()
            .filter(|f| f.created_at >= from && f.created_at < to)
            .collect();
        Ok((r, f))
    }
}
