//! Cases from application to delivery: submit, read, list, act (the state machine with 秒批),
//! and the applicant's tracking. `record` writes a case's timeline event (`services_events`)
//! and its audit record in the caller's transaction.

use super::store::{self, CaseFilter};
use crate::domain::*;
use crate::service::*;
use kernel::audit;
use kernel::calendar::Calendar;
use kernel::error::{Checks, Error, Result};
use kernel::page::{Page, PageQuery};
use kernel::{mask, Actor, Authorized, Role, Tx};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

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

/// A case as a reader may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseView {
    #[serde(flatten)]
    pub case: Case,
    pub status_label: String,
    /// True when the applicant's phone and ID number are shown in full.
    pub personal_data_visible: bool,
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
    /// Matches the number, the applicant's phone or name, or the item's name.
    pub q: Option<String>,
    /// `newest` (default), `oldest` or `due` (earliest promised date first).
    pub sort: Option<String>,
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

/// Masks the form values of a sensitive kind in place: 身份证号 and 手机号 fields by their
/// declared kind, any other text by its shape ([`mask::kind_of_value`]).
fn mask_form(form: &mut Map<String, Value>, fields: &[FormField]) {
    for (key, value) in form.iter_mut() {
        let Value::String(s) = value else { continue };
        let declared = match fields.iter().find(|f| &f.key == key).map(|f| f.kind) {
            Some(FieldKind::IdCard) => Some(mask::Kind::IdCard),
            Some(FieldKind::Mobile) => Some(mask::Kind::Phone),
            _ => None,
        };
        if let Some(kind) = declared.or_else(|| mask::kind_of_value(s)) {
            *s = mask::as_kind(kind, s);
        }
    }
}

impl ServicesService {
    pub(crate) fn is_applicant(actor: &Actor, c: &Case) -> bool {
        actor.has_role(Role::Citizen)
            && actor.user_id.is_some()
            && c.applicant.user_id == actor.user_id
    }

    /// Whether the actor may read this case.
    pub(crate) fn can_see(actor: &Actor, c: &Case) -> bool {
        Self::is_applicant(actor, c)
            || actor.has_any_role(roles::<FrontDesk>())
            || (actor.roles.iter().any(|r| *r != Role::Citizen)
                && actor.scope.can_see(&[c.dept_id], Some(&c.region_code)))
    }

    /// Whether the actor reads this case's personal data whole: its applicant, and the staff
    /// who work cases; everyone else (supervisors, analysts, the public tracking answer) reads
    /// it masked.
    fn sees_personal_data(actor: &Actor, c: &Case) -> bool {
        Self::is_applicant(actor, c) || actor.has_any_role(roles::<WorkCases>())
    }

    /// The cases as `actor` may read them, personal data masked by its kind wherever it is —
    /// the applicant and every form value of a sensitive kind, by the form definition of the
    /// item version each case was filed under, and any value shaped like an ID or a mobile.
    pub(crate) async fn views(&self, actor: &Actor, cases: Vec<Case>) -> Result<Vec<CaseView>> {
        let mut forms: std::collections::HashMap<(i64, i64), Vec<FormField>> = Default::default();
        let mut out = Vec::with_capacity(cases.len());
        for c in cases {
            let key = (c.item_id, c.item_version);
            if !Self::sees_personal_data(actor, &c) && !forms.contains_key(&key) {
                let fields =
                    crate::items::store::item_version(&mut *self.conn().await?, key.0, key.1)
                        .await?
                        .map(|i| i.content.fields)
                        .unwrap_or_default();
                forms.insert(key, fields);
            }
            let fields = forms.get(&key).map(Vec::as_slice);
            out.push(Self::view_with(actor, c, fields.unwrap_or(&[])));
        }
        Ok(out)
    }

    pub(crate) async fn view(&self, actor: &Actor, c: Case) -> Result<CaseView> {
        let mut v = self.views(actor, vec![c]).await?;
        v.pop().ok_or_else(|| Error::internal("case view vanished"))
    }

    fn view_with(actor: &Actor, mut c: Case, fields: &[FormField]) -> CaseView {
        let full = Self::sees_personal_data(actor, &c);
        if !full {
            c.applicant.phone = mask::phone(&c.applicant.phone);
            c.applicant.id_no = mask::id_card(&c.applicant.id_no);
            mask_form(&mut c.form, fields);
        }
        CaseView {
            status_label: c.status.label().into(),
            case: c,
            personal_data_visible: full,
        }
    }

    pub(crate) async fn record(
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
        // Observers (the applicant's status notices) write in this same transaction.
        self.observers
            .emit(
                tx,
                &crate::service::CaseChange {
                    case: c.clone(),
                    event: e.clone(),
                    now,
                },
            )
            .await
    }

    // ---- cases ----

    /// Where an application comes from, with the proof that the actor may file it there.
    pub(crate) fn channel_for(actor: &Actor) -> Result<(Channel, Authorized<'_>)> {
        if actor.has_any_role(roles::<Receive>()) {
            Ok((Channel::Window, actor.authorize::<Receive>()?.into()))
        } else if actor.has_role(Role::Citizen) {
            Ok((Channel::Online, actor.authorize::<Apply>()?.into()))
        } else {
            Err(Error::forbidden("只有申请人或综合窗口人员可以提交申请"))
        }
    }

    pub(crate) fn check_form(fields: &[FormField], form: &Map<String, Value>) -> Result<()> {
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
    pub(crate) async fn new_case(
        &self,
        tx: &mut Tx,
        by: Authorized<'_>,
        item: &ServiceItem,
        scenario: Option<String>,
        applicant: &Applicant,
        form: Map<String, Value>,
        submitted: &[String],
        exempt: &crate::service::Exemptions,
        channel: Channel,
        bundle_case_id: Option<i64>,
        waiting: bool,
        now: i64,
    ) -> Result<Case> {
        let list = item.content.materials_for(scenario.as_deref())?;
        let day = kernel::clock::to_china(now).date_naive();
        let seq = crate::store::next_seq(tx, "case", &day.format("%Y%m%d").to_string()).await?;
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
            materials: case_materials(
                &list,
                submitted,
                &exempt
                    .iter()
                    .filter(|((i, _), _)| *i == item.id)
                    .map(|((_, k), r)| (k.clone(), r.clone()))
                    .collect(),
            ),
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
                .then_some(by.actor().user_id)
                .flatten(),
            card: Card::None,
            created_at: now,
            closed_at: None,
            delivered_at: None,
            updated_at: now,
        };
        c.id = store::insert_case(tx, by, &c).await?;
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
        self.record(tx, by.actor(), &c, &e, now).await?;
        Ok(c)
    }

    /// 秒批 on a freshly submitted case, when its item has a rule.
    pub(crate) async fn try_auto(
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
        let system = Actor::system();
        store::update_case(tx, Authorized::system(&system)?, &next, 1).await?;
        self.record(tx, &system, &next, &e, now).await?;
        Ok(next)
    }

    pub(crate) fn applicant_for(
        actor: &Actor,
        a: &Applicant,
        channel: Channel,
    ) -> Result<Applicant> {
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
        let (channel, by) = Self::channel_for(actor)?;
        let applicant = Self::applicant_for(actor, &input.applicant, channel)?;
        let item = self
            .published_item(input.item_id)
            .await
            .map_err(|_| Error::field("item_id", "unknown_item", "事项不存在或尚未发布"))?;
        let mut input = input;
        fill_from_applicant(&item.content.fields, &mut input.form, &applicant)?;
        Self::check_form(&item.content.fields, &input.form)?;
        let cal = self.calendar().await?;
        let exempt = self.exemptions(&[&item], &applicant).await?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let c = self
            .new_case(
                &mut tx,
                by,
                &item,
                input.scenario.clone(),
                &applicant,
                input.form,
                &input.materials,
                &exempt,
                channel,
                None,
                false,
                now,
            )
            .await?;
        let c = self.try_auto(&mut tx, c, &item, &cal, now).await?;
        tx.commit().await?;
        self.view(actor, c).await
    }

    pub(crate) async fn load(&self, c: &mut sqlx::AnyConnection, id: i64) -> Result<(Case, i64)> {
        store::case(c, id)
            .await?
            .ok_or_else(|| Error::not_found("case", "办件不存在"))
    }

    pub async fn get(&self, actor: &Actor, id: i64) -> Result<CaseView> {
        let (c, _) = self.load(&mut *self.conn().await?, id).await?;
        if !Self::can_see(actor, &c) {
            return Err(Error::forbidden("无权查看该办件"));
        }
        self.view(actor, c).await
    }

    pub async fn get_by_number(&self, actor: &Actor, number: &str) -> Result<CaseView> {
        let (c, _) = store::case_by_number(&mut *self.conn().await?, number)
            .await?
            .ok_or_else(|| Error::not_found("case", "办件不存在"))?;
        if !Self::can_see(actor, &c) {
            return Err(Error::forbidden("无权查看该办件"));
        }
        self.view(actor, c).await
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
            text: q
                .q
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            order: match q.sort.as_deref().unwrap_or("") {
                "" | "newest" => store::CaseOrder::Newest,
                "oldest" => store::CaseOrder::Oldest,
                "due" => store::CaseOrder::Due,
                _ => {
                    return Err(Error::field(
                        "sort",
                        "invalid_enum",
                        "排序只能是 newest、oldest 或 due",
                    ))
                }
            },
            ..Default::default()
        };
        if actor.has_role(Role::Citizen) && actor.roles.len() == 1 {
            f.applicant_user_id = Some(actor.user_id.unwrap_or(-1));
        } else if !actor.has_any_role(roles::<FrontDesk>()) {
            // Every case has its department's region, so unplaced records do not arise.
            let scope = actor.scope.filter();
            f.dept_ids = scope.dept_ids;
            f.region_prefix = scope.region_prefix;
            if scope.nothing {
                f.applicant_user_id = Some(actor.user_id.unwrap_or(-1));
            }
        }
        let (items, total) =
            store::cases(&mut *self.conn().await?, &f, page.per_page(), page.offset()).await?;
        Ok(Page::new(self.views(actor, items).await?, total, page))
    }

    /// Who may take `action` on `c`: the proof that [`store::update_case`] takes.
    pub(crate) fn authorize<'a>(
        actor: &'a Actor,
        c: &Case,
        action: &Action,
    ) -> Result<Authorized<'a>> {
        let in_dept = || actor.scope.can_see(&[c.dept_id], Some(&c.region_code));
        if action.by_applicant() {
            if Self::is_applicant(actor, c) {
                return Ok(actor.authorize::<Apply>()?.into());
            }
            if actor.has_any_role(roles::<Receive>()) {
                return Ok(actor.authorize::<Receive>()?.into());
            }
            // Departments may also record a withdrawal they received in writing.
            if matches!(action, Action::Withdraw { .. })
                && actor.has_any_role(roles::<RecordWithdrawal>())
                && in_dept()
            {
                return Ok(actor.authorize::<RecordWithdrawal>()?.into());
            }
            return Err(Error::forbidden("只有申请人或综合窗口可以办理此操作"));
        }
        if let Action::Deliver { .. } = action {
            // 综合窗口出件, or the department itself.
            if actor.has_any_role(roles::<FrontDesk>()) {
                return Ok(actor.authorize::<FrontDesk>()?.into());
            }
            if actor.has_any_role(roles::<WorkCases>()) && in_dept() {
                return Ok(actor.authorize::<WorkCases>()?.into());
            }
            return Err(Error::forbidden("只有综合窗口或承办部门可以出件"));
        }
        let by: Authorized = if matches!(action, Action::Decide { .. }) {
            actor.authorize::<Decide>()?.into()
        } else {
            actor.authorize::<WorkCases>()?.into()
        };
        if !in_dept() {
            return Err(Error::forbidden("该办件不属于本部门"));
        }
        Ok(by)
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
        let (action, paper_result) = self.result_license(actor, id, action, &cal, now).await?;
        let mut tx = self.db.begin().await?;
        let (c, version) = self.load(&mut tx, id).await?;
        if !Self::can_see(actor, &c) {
            return Err(Error::forbidden("无权查看该办件"));
        }
        let by = Self::authorize(actor, &c, &action)?;
        let staff = if actor.has_role(Role::Citizen) && actor.roles.len() == 1 {
            None
        } else {
            actor.user_id
        };
        let (next, e) = c.apply(&action, staff, now, &cal)?;
        store::update_case(&mut tx, by, &next, version).await?;
        self.record(&mut tx, actor, &next, &e, now).await?;
        // In a sequential bundle the next sub-case opens when this one is done.
        if next.status.is_done() && !c.status.is_done() {
            if let Some(b) = next.bundle_case_id {
                let siblings = store::cases_of_bundle(&mut tx, b).await?;
                if let Some((w, v)) = siblings
                    .into_iter()
                    .find(|(k, _)| k.status == CaseStatus::Waiting)
                {
                    // The next step of a sequential bundle opens on its own.
                    let (opened, e2) = w.open(now)?;
                    let system = Actor::system();
                    store::update_case(&mut tx, Authorized::system(&system)?, &opened, v).await?;
                    self.record(&mut tx, &system, &opened, &e2, now).await?;
                }
            }
        }
        tx.commit().await?;
        self.note_paper_results(by, paper_result.into_iter().collect())
            .await;
        self.view(actor, next).await
    }

    /// Tells the license library of results delivered on paper, for 签发率. Only a count: the
    /// delivery stands even if the library cannot record it.
    pub(crate) async fn note_paper_results(
        &self,
        by: Authorized<'_>,
        results: Vec<licenses::issue::case::CaseResult>,
    ) {
        let Some(l) = &self.licenses else { return };
        for r in results {
            if let Err(e) = l.note_paper_result(by, &r).await {
                tracing::warn!(case = %r.case_ref, error = %e, "出件 result not recorded in the license library");
            }
        }
    }

    /// 出件 of a case whose item's result is a license type: as 电子证照, the license is issued
    /// first (idempotent by the case number, so a retried delivery finds it) and the delivery
    /// names it; on paper, the case is returned to be recorded for 签发率 after the commit.
    pub(crate) async fn result_license(
        &self,
        actor: &Actor,
        id: i64,
        action: Action,
        cal: &Calendar,
        now: i64,
    ) -> Result<(Action, Option<licenses::issue::case::CaseResult>)> {
        let Action::Deliver { method, .. } = &action else {
            return Ok((action, None));
        };
        let method = *method;
        let Some(l) = &self.licenses else {
            return Ok((action, None));
        };
        let mut conn = self.conn().await?;
        let (c, _) = self.load(&mut conn, id).await?;
        if !Self::can_see(actor, &c) {
            return Err(Error::forbidden("无权查看该办件"));
        }
        let by = Self::authorize(actor, &c, &action)?;
        // Only a delivery the state machine accepts may issue a license.
        c.apply(&action, actor.user_id, now, cal)?;
        let item = crate::items::store::item_version(&mut conn, c.item_id, c.item_version)
            .await?
            .ok_or_else(|| Error::internal("case without its item version"))?;
        drop(conn);
        let Some(type_ref) = item.content.result_license.clone() else {
            return Ok((action, None));
        };
        let result = licenses::issue::case::CaseResult {
            type_ref,
            dept_id: c.dept_id,
            case_ref: format!("case:{}", c.number),
            holder: licenses::issue::service::Holder {
                id_no: c.applicant.id_no.clone(),
                name: c.applicant.name.clone(),
            },
            holder_user_id: c.applicant.user_id,
            form: c.form.clone(),
            decision_no: c
                .decision
                .as_ref()
                .map(|d| d.document_no.clone())
                .filter(|d| !d.is_empty()),
            at: now,
        };
        if method != crate::items::domain::DeliveryMethod::License {
            return Ok((action, Some(result)));
        }
        let license = l.issue_for_case(by, result).await?;
        Ok((
            Action::Deliver {
                method,
                detail: format!("电子证照 {}", license.identifier),
            },
            None,
        ))
    }

    // ---- the applicant without an account: number + phone ----

    pub(crate) async fn by_number_and_phone(
        &self,
        number: &str,
        phone: &str,
    ) -> Result<(String, Vec<Case>, Option<BundleCaseRow>)> {
        let mut c = self.conn().await?;
        let not_found = || Error::not_found("case", "未找到该编号的办件，或手机号不匹配");
        let number = number.trim();
        if let Some(row) = crate::bundles::store::bundle_case_by(&mut c, "number", number).await? {
            if row.applicant.phone != phone.trim() {
                return Err(not_found());
            }
            let cases = store::cases_of_bundle(&mut c, row.id)
                .await?
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            let b = crate::bundles::store::bundle(&mut c, row.bundle_id)
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

    pub(crate) async fn tracking(
        &self,
        number: &str,
        title: String,
        cases: Vec<Case>,
    ) -> Result<Tracking> {
        let mut conn = self.conn().await?;
        let ids: Vec<i64> = cases.iter().map(|c| c.id).collect();
        let timeline = store::events(&mut conn, &ids).await?;
        let evaluations = crate::evaluation::store::evaluations_of(&mut conn, number).await?;
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
            cases: self.views(&viewer, cases).await?,
            timeline,
            evaluations,
            can_evaluate,
        })
    }

    /// The applicant's own tracking page when signed in.
    pub async fn track_own(&self, actor: &Actor, number: &str) -> Result<Tracking> {
        let mut conn = self.conn().await?;
        let (title, cases) = if let Some(row) =
            crate::bundles::store::bundle_case_by(&mut conn, "number", number.trim()).await?
        {
            let b = crate::bundles::store::bundle(&mut conn, row.bundle_id)
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
}
