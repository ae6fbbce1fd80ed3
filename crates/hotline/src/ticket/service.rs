//! Ticket use cases. Each checks the actor, applies the domain rule, stores the ticket, its
//! timeline event and the audit record in one transaction, and hands the change to the
//! observers the service was given ([`TicketChange`]). Other modules use the hotline only
//! through `HotlineService`.

use super::domain::*;
use super::store;
use crate::HotlineService;
use kernel::audit;
use kernel::auth::Permission;
use kernel::calendar::Calendar;
use kernel::error::{Error, Result};
use kernel::page::{Page, PageQuery};
use kernel::{mask, Actor, Authorized, Role, Scope, Tx};
use serde::Serialize;
use serde_json::json;

kernel::permission!(
    /// Takes tickets in, answers at once, submits for dispatch, reclassifies.
    pub Intake = [Operator, Dispatcher, SysAdmin], "hotline:write"
);
kernel::permission!(
    /// Reports a problem through the citizen portal.
    pub Report = [Citizen], "hotline:write"
);
kernel::permission!(
    /// Dispatches, merges and splits.
    pub Dispatch = [Dispatcher, SysAdmin], "hotline:write"
);
kernel::permission!(
    /// Works a ticket as the department that holds it.
    pub Handle = [Handler, SysAdmin], "hotline:write"
);
kernel::permission!(
    /// Decides extensions, reopens, supervises, closes and archives.
    pub Supervise = [Supervisor, SysAdmin], "hotline:write"
);
kernel::permission!(
    /// Calls the citizen back.
    pub Callback = [Operator, Supervisor, SysAdmin], "hotline:write"
);
kernel::permission!(
    /// Deadline policies, the taxonomy and its questions, imports.
    pub Administer = [SysAdmin], "hotline:write"
);

/// One change of a ticket, as its observers see it inside the change's transaction.
#[derive(Debug, Clone)]
pub struct TicketChange {
    pub actor: Actor,
    /// The ticket before the change; `None` for a new ticket (intake, split part, import).
    pub before: Option<Ticket>,
    pub after: Ticket,
    pub event: Event,
    /// The action applied, when the change is one (`None` for intake, reclassification,
    /// cards, imports, closing a split parent).
    pub action: Option<Action>,
    pub now: i64,
}

impl TicketChange {
    /// A ticket taken in through [`HotlineService::create`] (not a split part, not an import).
    pub fn is_intake(&self) -> bool {
        self.before.is_none() && self.event.action == "create" && self.after.split_from_id.is_none()
    }
}

/// What other parts of the hotline add to an intake and a reclassification without the core
/// knowing them (the duplicate look, the dispatch suggestion, automatic dispatch). Intake work
/// is split in three so that the single writer is held only for writing: worked out before the
/// transaction, stored inside it, acted on after the commit.
#[async_trait::async_trait]
pub trait FollowUp: Send + Sync {
    /// Before the transaction, from the ticket as it will be stored (no id or number yet).
    /// Never fails the intake: a problem is logged and nothing is prepared.
    async fn prepare_intake(&self, svc: &HotlineService, t: &Ticket, now: i64) -> Prepared;
    /// Inside the intake's transaction, with the ticket as stored; an error rolls it back.
    async fn record_intake(&self, tx: &mut Tx, t: &Ticket, p: &Prepared, now: i64) -> Result<()>;
    /// After the commit. Returns the ticket as it is afterwards (e.g. dispatched automatically).
    async fn after_intake(&self, svc: &HotlineService, t: Ticket, p: Prepared) -> Ticket;
    async fn after_reclassify(&self, svc: &HotlineService, t: &Ticket);
}

/// What a [`FollowUp`] worked out before an intake's transaction; only it reads the inside.
pub struct Prepared(pub Option<Box<dyn std::any::Any + Send + Sync>>);

/// A ticket as a reader may see it: personal data masked unless the reader needs it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub status_label: String,
    pub kind_label: String,
    /// True when caller name and phone are shown in full.
    pub personal_data_visible: bool,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct TicketQuery {
    /// Comma-separated statuses, e.g. `dispatched,acknowledged`.
    pub status: Option<String>,
    pub main_dept_id: Option<i64>,
    pub kind: Option<TicketKind>,
    pub card: Option<Card>,
    pub category_id: Option<i64>,
    pub caller_phone: Option<String>,
    /// Matches number, title, content or address.
    pub q: Option<String>,
    /// `YYYY-MM-DD`, inclusive, China time.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, inclusive, China time.
    pub to: Option<String>,
    /// Only tickets with an extension waiting for a decision.
    #[serde(default)]
    pub pending_extension: bool,
    /// Only tickets reopened at least once.
    #[serde(default)]
    pub reopened: bool,
    /// Only tickets with this callback result (e.g. `unsatisfied` for the supervisor).
    pub satisfaction: Option<CallbackResult>,
    /// `newest` (default), `oldest`, `due` (soonest reply deadline first).
    pub sort: Option<String>,
}

fn day_start(s: &str, field: &str) -> Result<i64> {
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| Error::field(field, "invalid_date", "日期格式应为 2025-03-14"))?;
    let dt = d.and_hms_opt(0, 0, 0).expect("midnight");
    Ok(dt
        .and_local_timezone(kernel::clock::china())
        .single()
        .expect("fixed offset")
        .timestamp_millis())
}

impl HotlineService {
    /// Whether the actor may see this ticket at all: [`Scope::can_see`] on its main and
    /// co-handling departments and its region (the rule every list query agrees with).
    pub(crate) fn can_see(actor: &Actor, t: &Ticket) -> bool {
        let depts: Vec<i64> = t
            .main_dept_id
            .into_iter()
            .chain(t.co_dept_ids.iter().copied())
            .collect();
        actor
            .scope
            .can_see(&depts, t.location.region_code.as_deref())
    }

    /// Whether the actor's department holds the ticket as main department.
    fn holds(actor: &Actor, t: &Ticket) -> bool {
        match &actor.scope {
            Scope::All => true,
            Scope::Departments { ids } => t.main_dept_id.is_some_and(|d| ids.contains(&d)),
            Scope::Region { .. } => actor.has_role(Role::SysAdmin),
            Scope::Own => false,
        }
    }

    fn view(actor: &Actor, mut t: Ticket) -> TicketView {
        // Operators, dispatchers, supervisors and the handling department need the caller to
        // call back; everyone else (analysts, co-handlers) sees masked data.
        let full = actor.has_any_role(&[
            Role::Operator,
            Role::Dispatcher,
            Role::Supervisor,
            Role::SysAdmin,
        ]) || Self::holds(actor, &t);
        if !full || t.caller.anonymous {
            t.caller.phone = t.caller.phone.as_deref().map(mask::phone);
            t.caller.name = t.caller.name.as_deref().map(mask::name);
        }
        TicketView {
            status_label: t.status.label().into(),
            kind_label: t.kind.label().into(),
            ticket: t,
            personal_data_visible: full,
        }
    }

    /// Stores a change's timeline event and audit record and hands it to the observers.
    pub(crate) async fn record(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        t: &Ticket,
        e: &Event,
        now: i64,
    ) -> Result<()> {
        self.record_change(
            tx,
            TicketChange {
                actor: actor.clone(),
                before: None,
                after: t.clone(),
                event: e.clone(),
                action: None,
                now,
            },
        )
        .await
    }

    pub(crate) async fn record_change(&self, tx: &mut Tx, c: TicketChange) -> Result<()> {
        let (actor, t, e, now) = (&c.actor, &c.after, &c.event, c.now);
        let who = actor.audit_actor();
        store::insert_event(
            &mut *tx,
            store::NewEvent {
                ticket_id: t.id,
                at: now,
                actor: &who.0,
                actor_name: &actor.display_name,
                event: e,
            },
        )
        .await?;
        audit::record(
            tx,
            now,
            &who,
            "ticket",
            t.id,
            e.action,
            json!({"number": t.number, "from": e.from.code(), "to": e.to.code(), "note": e.note, "dept_id": e.dept_id, "data": e.data}),
        )
        .await?;
        // Notifications, suggestions, feedback: in this same transaction.
        self.observers.emit(tx, &c).await
    }

    // ---- intake ----

    /// Takes a new ticket (operator intake, web, Open311 or import).
    pub async fn create(&self, actor: &Actor, input: NewTicket) -> Result<TicketView> {
        let by: Authorized = if actor.via == kernel::auth::Via::Token {
            Authorized::client(actor, "hotline:write")?
        } else if actor.has_any_role(Intake::ROLES) {
            actor.authorize::<Intake>()?.into()
        } else if actor.has_role(Role::Citizen) {
            actor.authorize::<Report>()?.into()
        } else {
            return Err(Error::forbidden(
                "只有话务员、派单员或接口调用方可以登记工单",
            ));
        };
        input.validate()?;
        let now = self.db.now();
        // Everything that only reads comes before the write transaction: on SQLite its one
        // connection serialises every change in the city.
        let answers = {
            let mut c = self.conn().await?;
            self.checked_answers(&mut c, input.category_id, &input.answers)
                .await?
        };
        let accept = input.accept && actor.has_any_role(Intake::ROLES);
        let mut t = draft(&input, answers, now, accept, None);
        let prepared = match &self.follow_up {
            Some(f) => f.prepare_intake(self, &t, now).await,
            None => Prepared(None),
        };
        let mut tx = self.db.begin().await?;
        self.insert_draft(&mut tx, by, &mut t, None).await?;
        let e = Event {
            action: "create",
            from: Status::Created,
            to: t.status,
            note: None,
            dept_id: None,
            data: json!({"channel": t.channel.code()}),
        };
        self.record(&mut tx, actor, &t, &e, now).await?;
        if let Some(f) = &self.follow_up {
            f.record_intake(&mut tx, &t, &prepared, now).await?;
        }
        tx.commit().await?;
        // Automatic dispatch comes after the commit: the ticket exists whatever happens there.
        let t = match &self.follow_up {
            Some(f) => f.after_intake(self, t, prepared).await,
            None => t,
        };
        Ok(Self::view(actor, t))
    }

    async fn checked_answers(
        &self,
        c: &mut sqlx::AnyConnection,
        category_id: Option<i64>,
        answers: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<serde_json::Value> {
        match category_id {
            None if answers.is_empty() => Ok(json!({})),
            None => Err(Error::field(
                "answers",
                "no_category",
                "未选择分类时不能填写附加问题",
            )),
            Some(id) => {
                let cat = store::category(c, id)
                    .await?
                    .ok_or_else(|| Error::field("category_id", "not_found", "所选分类不存在"))?;
                Ok(serde_json::Value::Object(check_answers(
                    &cat.questions,
                    answers,
                )?))
            }
        }
    }

    /// Numbers and inserts a drafted ticket (its number is the day's next).
    async fn insert_draft(
        &self,
        tx: &mut Tx,
        by: Authorized<'_>,
        t: &mut Ticket,
        external_id: Option<&str>,
    ) -> Result<()> {
        let day = kernel::clock::to_china(t.created_at).date_naive();
        let seq = store::next_day_seq(&mut *tx, &day.to_string()).await?;
        t.number = ticket_number(&self.city, day, seq);
        t.id = store::insert_ticket(&mut *tx, self.db.sealer(), by, t, external_id, None).await?;
        Ok(())
    }

    // ---- reading ----

    pub async fn get(&self, actor: &Actor, id: i64) -> Result<TicketView> {
        actor.require_scope("hotline:read")?;
        let (t, _) = store::ticket(&mut *self.conn().await?, self.db.sealer(), id)
            .await?
            .ok_or_else(|| Error::not_found("ticket", "工单不存在"))?;
        if !Self::can_see(actor, &t) {
            return Err(Error::forbidden("无权查看其他单位的工单"));
        }
        Ok(Self::view(actor, t))
    }

    pub async fn get_by_number(&self, actor: &Actor, number: &str) -> Result<TicketView> {
        let (t, _) = store::ticket_by_number(&mut *self.conn().await?, self.db.sealer(), number)
            .await?
            .ok_or_else(|| Error::not_found("ticket", "工单不存在"))?;
        self.get(actor, t.id).await
    }

    pub async fn timeline(&self, actor: &Actor, id: i64) -> Result<Vec<TimelineEntry>> {
        self.get(actor, id).await?;
        store::events(&mut *self.conn().await?, id).await
    }

    fn filter_for(actor: &Actor, q: &TicketQuery) -> Result<TicketFilter> {
        let mut status = Vec::new();
        for s in q
            .status
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            status.push(Status::parse(s).ok_or_else(|| {
                Error::field("status", "invalid_enum", format!("未知的工单状态“{s}”"))
            })?);
        }
        let order = match q.sort.as_deref() {
            None | Some("") | Some("newest") => "t.id DESC",
            Some("oldest") => "t.id ASC",
            Some("due") => "t.reply_due IS NULL, t.reply_due ASC, t.id ASC",
            Some(_) => {
                return Err(Error::field(
                    "sort",
                    "invalid_enum",
                    "排序只能是 newest、oldest 或 due",
                ))
            }
        };
        Ok(TicketFilter {
            scope: actor.scope.filter(),
            status,
            main_dept_id: q.main_dept_id,
            kind: q.kind,
            card: q.card,
            category_id: q.category_id,
            caller_phone: q.caller_phone.clone().filter(|s| !s.is_empty()),
            q: q.q.clone(),
            created_from: q
                .from
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| day_start(s, "from"))
                .transpose()?,
            created_to: q
                .to
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| day_start(s, "to").map(|x| x + 86_400_000))
                .transpose()?,
            due_before: None,
            has_pending_extension: q.pending_extension,
            reopened: q.reopened,
            public_board: false,
            satisfaction: q.satisfaction,
            order,
        })
    }

    pub async fn list(
        &self,
        actor: &Actor,
        q: &TicketQuery,
        page: &PageQuery,
    ) -> Result<Page<TicketView>> {
        actor.require_scope("hotline:read")?;
        if !Self::is_staff(actor) {
            return Err(Error::forbidden("仅限工作人员访问"));
        }
        let f = Self::filter_for(actor, q)?;
        let (items, total) = store::tickets(
            &mut *self.conn().await?,
            self.db.sealer(),
            &f,
            page.per_page(),
            page.offset(),
        )
        .await?;
        Ok(Page::new(
            items.into_iter().map(|t| Self::view(actor, t)).collect(),
            total,
            page,
        ))
    }

    // ---- actions ----

    /// The permission check of an action: role (and token scope), holder and data scope. Its
    /// proof is what [`store::update_ticket`] takes.
    fn check_permission<'a>(
        actor: &'a Actor,
        t: &Ticket,
        action: &Action,
    ) -> Result<Authorized<'a>> {
        let (by, handling): (Authorized, bool) = match action {
            Action::Accept | Action::AnswerNow { .. } | Action::SubmitForDispatch => {
                (actor.authorize::<Intake>()?.into(), false)
            }
            Action::Dispatch { .. }
            | Action::Recall { .. }
            | Action::MergeInto { .. }
            | Action::MarkSplit => (actor.authorize::<Dispatch>()?.into(), false),
            Action::Acknowledge
            | Action::Start
            | Action::Return { .. }
            | Action::RequestExtension { .. }
            | Action::Pause { .. }
            | Action::Resume
            | Action::Reply { .. } => (actor.authorize::<Handle>()?.into(), true),
            Action::DecideExtension { .. }
            | Action::Reopen { .. }
            | Action::Supervise { .. }
            | Action::Close { .. }
            | Action::Archive => (actor.authorize::<Supervise>()?.into(), false),
            Action::Callback { .. } => (actor.authorize::<Callback>()?.into(), false),
            Action::FollowParent { .. } => {
                return Err(Error::forbidden("该动作由系统在主工单答复时自动完成"))
            }
        };
        if handling && !Self::holds(actor, t) {
            return Err(Error::forbidden("只有承办单位可以办理该工单"));
        }
        if !Self::can_see(actor, t) {
            return Err(Error::forbidden("无权操作其他单位的工单"));
        }
        Ok(by)
    }

    /// Whether the actor may apply this kind of action to the ticket now: the role and data
    /// scope rule of [`Self::act`] and the state machine's, without writing anything. Missing or
    /// bad text in the action does not count against it (pages ask for the text in the form).
    pub fn permitted(
        actor: &Actor,
        t: &Ticket,
        action: &Action,
        cal: &Calendar,
        policy: DeadlinePolicy,
        now: i64,
    ) -> bool {
        if Self::check_permission(actor, t, action).is_err() {
            return false;
        }
        !matches!(
            t.clone().apply(action, now, cal, policy),
            Err(Error::IllegalTransition { .. })
        )
    }

    /// Applies one action to a ticket.
    pub async fn act(&self, actor: &Actor, id: i64, action: Action) -> Result<TicketView> {
        actor.require_scope("hotline:write")?;
        let cal = self.calendar().await?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let (mut t, version) = store::ticket(&mut tx, self.db.sealer(), id)
            .await?
            .ok_or_else(|| Error::not_found("ticket", "工单不存在"))?;
        let by = Self::check_permission(actor, &t, &action)?;
        match &action {
            Action::Dispatch {
                main_dept_id,
                co_dept_ids,
            } => {
                self.check_departments(
                    &mut tx,
                    std::iter::once(*main_dept_id).chain(co_dept_ids.iter().copied()),
                )
                .await?
            }
            Action::Reopen {
                dept_id: Some(d), ..
            } => self.check_departments(&mut tx, std::iter::once(*d)).await?,
            Action::AnswerNow {
                kb_article_id: Some(a),
                ..
            } => {
                let art = crate::kb::store::article(&mut tx, *a)
                    .await?
                    .ok_or_else(|| {
                        Error::field("kb_article_id", "not_found", "引用的知识条目不存在")
                    })?;
                let today = kernel::clock::to_china(now).date_naive().to_string();
                if !art.is_live(&today) {
                    return Err(Error::field(
                        "kb_article_id",
                        "not_published",
                        "引用的知识条目未发布或已失效",
                    ));
                }
            }
            Action::MergeInto { parent_id } => {
                let (p, _) = store::ticket(&mut tx, self.db.sealer(), *parent_id)
                    .await?
                    .ok_or_else(|| Error::field("parent_id", "not_found", "主工单不存在"))?;
                if !p.status.is_open() || p.status == Status::Replied || p.parent_id.is_some() {
                    return Err(Error::field(
                        "parent_id",
                        "parent_closed",
                        "主工单已答复、已办结或本身已被合并",
                    ));
                }
            }
            _ => {}
        }
        let policy = store::policy(&mut tx, t.kind, t.urgency).await?;
        let before = t.clone();
        let e = t.apply(&action, now, &cal, policy)?;
        store::update_ticket(&mut tx, by, &t, version).await?;
        self.record_change(
            &mut tx,
            TicketChange {
                actor: actor.clone(),
                before: Some(before),
                after: t.clone(),
                event: e,
                action: Some(action.clone()),
                now,
            },
        )
        .await?;
        // Merged tickets follow their parent's reply.
        if matches!(
            action,
            Action::Reply { .. } | Action::Callback { .. } | Action::Close { .. }
        ) && t.reply.is_some()
        {
            self.children_follow(&mut tx, by, &t, now, &cal).await?;
        }
        if t.status == Status::Closed {
            if let Some(parent) = t.split_from_id {
                self.maybe_close_split_parent(&mut tx, by, parent, now, &cal)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(Self::view(actor, t))
    }

    /// Applies actions one after the other inside the caller's transaction, as a system actor
    /// without the role checks (automatic dispatch), each with its timeline event, audit record
    /// and observers; `annotate` may add to each event before it is stored.
    pub(crate) async fn apply_as_system(
        &self,
        tx: &mut Tx,
        cal: &Calendar,
        actor: &Actor,
        id: i64,
        actions: &[Action],
        annotate: impl Fn(&Action, &mut Event),
    ) -> Result<Ticket> {
        let by = Authorized::system(actor)?;
        let now = self.db.now();
        let (mut t, _) = store::ticket(&mut *tx, self.db.sealer(), id)
            .await?
            .ok_or_else(|| Error::not_found("ticket", "工单不存在"))?;
        let policy = store::policy(&mut *tx, t.kind, t.urgency).await?;
        for a in actions {
            let (_, version) = store::ticket(&mut *tx, self.db.sealer(), id)
                .await?
                .ok_or_else(|| Error::not_found("ticket", "工单不存在"))?;
            let mut e = t.apply(a, now, cal, policy)?;
            annotate(a, &mut e);
            store::update_ticket(&mut *tx, by, &t, version).await?;
            self.record(tx, actor, &t, &e, now).await?;
        }
        Ok(t)
    }

    async fn check_departments(
        &self,
        c: &mut sqlx::AnyConnection,
        ids: impl Iterator<Item = i64>,
    ) -> Result<()> {
        for d in ids {
            if !org::directory::department_is_active(&mut *c, d).await? {
                return Err(Error::field(
                    "dept_id",
                    "department_not_found",
                    format!("单位 {d} 不存在或已停用"),
                ));
            }
        }
        Ok(())
    }

    /// Merged tickets take their parent's reply: part of the change `by` authorized.
    async fn children_follow(
        &self,
        tx: &mut Tx,
        by: Authorized<'_>,
        parent: &Ticket,
        now: i64,
        cal: &Calendar,
    ) -> Result<()> {
        let Some(reply) = parent.reply.clone() else {
            return Ok(());
        };
        for (mut child, v) in store::children(&mut *tx, self.db.sealer(), parent.id).await? {
            if child.status != Status::Merged {
                continue;
            }
            let policy = DeadlinePolicy::default_for(child.kind, child.urgency);
            let e = child.apply(
                &Action::FollowParent {
                    reply: reply.clone(),
                    closed: parent.status == Status::Closed,
                },
                now,
                cal,
                policy,
            )?;
            store::update_ticket(&mut *tx, by, &child, v).await?;
            self.record(tx, by.actor(), &child, &e, now).await?;
        }
        Ok(())
    }

    /// A split ticket closes with its last part: part of the change `by` authorized.
    async fn maybe_close_split_parent(
        &self,
        tx: &mut Tx,
        by: Authorized<'_>,
        parent_id: i64,
        now: i64,
        _cal: &Calendar,
    ) -> Result<()> {
        let parts = store::split_parts(&mut *tx, self.db.sealer(), parent_id).await?;
        if parts
            .iter()
            .any(|(p, _)| p.status != Status::Closed && p.status != Status::Archived)
        {
            return Ok(());
        }
        let Some((mut parent, v)) = store::ticket(&mut *tx, self.db.sealer(), parent_id).await?
        else {
            return Ok(());
        };
        if parent.status != Status::Split {
            return Ok(());
        }
        let summary: Vec<String> = parts
            .iter()
            .map(|(p, _)| format!("【{}】{}", p.number, p.reply.clone().unwrap_or_default()))
            .collect();
        let from = parent.status;
        parent.status = Status::Closed;
        parent.reply = Some(summary.join("\n"));
        parent.replied_at = Some(now);
        parent.resolution = Some(Resolution::Replied);
        parent.closed_at = Some(now);
        parent.updated_at = now;
        store::update_ticket(&mut *tx, by, &parent, v).await?;
        let e = Event {
            action: "close_split",
            from,
            to: Status::Closed,
            note: None,
            dept_id: None,
            data: json!({"parts": parts.len()}),
        };
        self.record(tx, by.actor(), &parent, &e, now).await
    }

    /// Merges duplicates into a parent ticket: the children follow the parent's reply.
    pub async fn merge(
        &self,
        actor: &Actor,
        parent_id: i64,
        child_ids: &[i64],
    ) -> Result<Vec<TicketView>> {
        actor.authorize::<Dispatch>()?;
        self.get(actor, parent_id).await?;
        if child_ids.is_empty() {
            return Err(Error::field(
                "child_ids",
                "required",
                "请选择要合并进来的重复工单",
            ));
        }
        if child_ids.contains(&parent_id) {
            return Err(Error::field(
                "child_ids",
                "self_merge",
                "不能把工单合并到它自己",
            ));
        }
        let mut out = Vec::new();
        for c in child_ids {
            out.push(self.act(actor, *c, Action::MergeInto { parent_id }).await?);
        }
        Ok(out)
    }

    /// Splits a ticket waiting for dispatch into sub-tickets, one per department, each
    /// dispatched at once. The parent closes when every part has closed.
    pub async fn split(
        &self,
        actor: &Actor,
        id: i64,
        parts: &[SplitPart],
    ) -> Result<Vec<TicketView>> {
        actor.require_scope("hotline:write")?;
        if parts.len() < 2 {
            return Err(Error::field("parts", "too_few", "拆分至少需要两个承办单位"));
        }
        let cal = self.calendar().await?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let (mut t, version) = store::ticket(&mut tx, self.db.sealer(), id)
            .await?
            .ok_or_else(|| Error::not_found("ticket", "工单不存在"))?;
        let by = Self::check_permission(actor, &t, &Action::MarkSplit)?;
        self.check_departments(&mut tx, parts.iter().map(|p| p.dept_id))
            .await?;
        let policy = store::policy(&mut tx, t.kind, t.urgency).await?;
        let e = t.apply(&Action::MarkSplit, now, &cal, policy)?;
        store::update_ticket(&mut tx, by, &t, version).await?;
        self.record(&mut tx, actor, &t, &e, now).await?;
        let mut out = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            let input = NewTicket {
                channel: t.channel,
                kind: t.kind,
                urgency: t.urgency,
                caller_name: t.caller.name.clone(),
                caller_phone: t.caller.phone.clone(),
                wants_reply: t.caller.wants_reply,
                anonymous: t.caller.anonymous,
                address: t.location.address.clone(),
                region_code: t.location.region_code.clone(),
                lng: t.location.lng,
                lat: t.location.lat,
                title: format!("{}（拆分{}）", t.title, i + 1),
                content: match p.note.as_deref().filter(|n| !n.trim().is_empty()) {
                    Some(n) => format!("{}\n\n【拆分说明】{}", t.content, n.trim()),
                    None => t.content.clone(),
                },
                category_id: t.category_id,
                answers: serde_json::Map::new(),
                accept: true,
            };
            let mut child = draft(&input, t.answers.clone(), now, true, Some(t.id));
            self.insert_draft(&mut tx, by, &mut child, None).await?;
            let created = Event {
                action: "create",
                from: Status::Created,
                to: Status::Accepted,
                note: None,
                dept_id: None,
                data: json!({"split_from": t.id}),
            };
            self.record(&mut tx, actor, &child, &created, now).await?;
            for a in [
                Action::SubmitForDispatch,
                Action::Dispatch {
                    main_dept_id: p.dept_id,
                    co_dept_ids: vec![],
                },
            ] {
                let (_, v) = store::ticket(&mut tx, self.db.sealer(), child.id)
                    .await?
                    .ok_or_else(|| Error::internal("split part vanished"))?;
                let e = child.apply(&a, now, &cal, policy)?;
                store::update_ticket(&mut tx, by, &child, v).await?;
                self.record(&mut tx, actor, &child, &e, now).await?;
            }
            out.push(Self::view(actor, child));
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Changes what a ticket is about or where (operators and dispatchers, before a department
    /// holds it). The intelligence issue's suggestions run again after this.
    pub async fn reclassify(&self, actor: &Actor, id: i64, ch: Reclassify) -> Result<TicketView> {
        let by: Authorized = actor.authorize::<Intake>()?.into();
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let (mut t, version) = store::ticket(&mut tx, self.db.sealer(), id)
            .await?
            .ok_or_else(|| Error::not_found("ticket", "工单不存在"))?;
        if !Self::can_see(actor, &t) {
            return Err(Error::forbidden("无权操作其他单位的工单"));
        }
        if !matches!(
            t.status,
            Status::Created | Status::Accepted | Status::PendingDispatch
        ) {
            return Err(Error::IllegalTransition {
                detail: format!("工单当前状态为“{}”，不能再修改分类和地点", t.status.label()),
            });
        }
        if let Some(code) = ch.region_code.as_deref().filter(|s| !s.is_empty()) {
            kernel::codes::check_region_code(code)
                .map_err(|m| Error::field("region_code", "invalid_region_code", m))?;
        }
        let old = t.clone();
        let before = json!({"category_id": t.category_id, "kind": t.kind.code(), "region_code": t.location.region_code, "address": t.location.address});
        if let Some(k) = ch.kind {
            t.kind = k;
        }
        if let Some(u) = ch.urgency {
            t.urgency = u;
        }
        if ch.category_id.is_some() || ch.answers.is_some() {
            let cat = ch.category_id.or(t.category_id);
            let answers = ch
                .answers
                .clone()
                .unwrap_or_else(|| t.answers.as_object().cloned().unwrap_or_default());
            t.answers = self.checked_answers(&mut tx, cat, &answers).await?;
            t.category_id = cat;
        }
        if let Some(r) = ch.region_code {
            t.location.region_code = Some(r).filter(|s| !s.is_empty());
        }
        if let Some(a) = ch.address {
            t.location.address = Some(a).filter(|s| !s.is_empty());
        }
        t.updated_at = now;
        store::update_ticket(&mut tx, by, &t, version).await?;
        let after = json!({"category_id": t.category_id, "kind": t.kind.code(), "region_code": t.location.region_code, "address": t.location.address});
        let e = Event {
            action: "reclassify",
            from: t.status,
            to: t.status,
            note: None,
            dept_id: None,
            data: json!({"before": before, "after": after}),
        };
        self.record_change(
            &mut tx,
            TicketChange {
                actor: actor.clone(),
                before: Some(old),
                after: t.clone(),
                event: e,
                action: None,
                now,
            },
        )
        .await?;
        tx.commit().await?;
        // Rules run again on the new category and location; a failure keeps the change.
        if let Some(f) = &self.follow_up {
            f.after_reclassify(self, &t).await;
        }
        Ok(Self::view(actor, t))
    }

    /// A citizen rates the reply with the ticket number and the phone number they gave.
    pub async fn rate_by_citizen(
        &self,
        number: &str,
        phone: &str,
        result: CallbackResult,
        note: &str,
    ) -> Result<TicketView> {
        let cal = self.calendar().await?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let found = store::ticket_by_number(&mut tx, self.db.sealer(), number.trim()).await?;
        // The same answer for a wrong number and a wrong phone: no probing for numbers.
        let Some((mut t, v)) =
            found.filter(|(t, _)| t.caller.phone.as_deref() == Some(phone.trim()))
        else {
            return Err(Error::not_found("ticket", "工单编号或手机号不正确"));
        };
        if result == CallbackResult::Unreached {
            return Err(Error::field(
                "result",
                "invalid_enum",
                "评价只能是满意、基本满意或不满意",
            ));
        }
        let actor = Actor {
            username: format!("citizen:{}", mask::phone(phone)),
            display_name: "市民".into(),
            ..Actor::system()
        };
        let policy = store::policy(&mut tx, t.kind, t.urgency).await?;
        let e = match t.status {
            Status::Replied => t.apply(
                &Action::Callback {
                    result,
                    note: note.into(),
                    reopen: false,
                },
                now,
                &cal,
                policy,
            )?,
            Status::Closed
                if t.satisfaction.is_none()
                    || t.satisfaction == Some(CallbackResult::Unreached) =>
            {
                t.satisfaction = Some(result);
                t.updated_at = now;
                Event {
                    action: "rate",
                    from: t.status,
                    to: t.status,
                    note: Some(note.trim().to_owned()).filter(|s| !s.is_empty()),
                    dept_id: None,
                    data: json!({"result": result.code()}),
                }
            }
            _ => {
                return Err(Error::IllegalTransition {
                    detail: "该工单尚未答复，或已经评价过".into(),
                })
            }
        };
        // The citizen proved the ticket theirs by its number and phone; the system writes.
        store::update_ticket(&mut tx, Authorized::system(&actor)?, &t, v).await?;
        let audit_actor = kernel::audit::AuditActor(actor.username.clone());
        store::insert_event(
            &mut tx,
            store::NewEvent {
                ticket_id: t.id,
                at: now,
                actor: &audit_actor.0,
                actor_name: "市民",
                event: &e,
            },
        )
        .await?;
        audit::record(
            &mut tx,
            now,
            &audit_actor,
            "ticket",
            t.id,
            e.action,
            json!({"number": t.number, "result": result.code()}),
        )
        .await?;
        tx.commit().await?;
        Ok(Self::view(&Actor::system(), t))
    }

    /// What a citizen may see of their ticket, by number and phone.
    pub async fn track(
        &self,
        number: &str,
        phone: &str,
    ) -> Result<(TicketView, Vec<TimelineEntry>)> {
        let mut c = self.conn().await?;
        let Some((t, _)) = store::ticket_by_number(&mut c, self.db.sealer(), number.trim())
            .await?
            .filter(|(t, _)| t.caller.phone.as_deref() == Some(phone.trim()))
        else {
            return Err(Error::not_found("ticket", "工单编号或手机号不正确"));
        };
        let events = store::events(&mut c, t.id).await?;
        Ok((Self::view(&Actor::system(), t), events))
    }

    // ---- deadlines ----

    pub async fn policy(&self, kind: TicketKind, urgency: Urgency) -> Result<DeadlinePolicy> {
        store::policy(&mut *self.conn().await?, kind, urgency).await
    }

    pub async fn set_policy(
        &self,
        actor: &Actor,
        kind: TicketKind,
        urgency: Urgency,
        p: DeadlinePolicy,
    ) -> Result<()> {
        actor.authorize::<Administer>()?;
        let mut c = kernel::error::Checks::new();
        c.check(
            (1..=10_000).contains(&p.ack_minutes),
            "ack_minutes",
            "out_of_range",
            "签收时限应为 1–10000 个工作分钟",
        );
        c.check(
            (1..=60).contains(&p.reply_days),
            "reply_days",
            "out_of_range",
            "答复时限应为 1–60 个工作日",
        );
        c.check(
            (0..=10_000).contains(&p.yellow_minutes),
            "yellow_minutes",
            "out_of_range",
            "黄牌提前量应为 0–10000 个工作分钟",
        );
        c.finish()?;
        let mut tx = self.db.begin().await?;
        store::set_policy(&mut tx, kind, urgency, &p).await?;
        audit::record(
            &mut tx,
            self.db.now(),
            &actor.audit_actor(),
            "deadline_policy",
            format!("{}:{}", kind.code(), urgency.code()),
            "set",
            serde_json::to_value(p)?,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Recomputes yellow and red cards of every ticket a department holds. Safe to run on several
    /// instances at once: each change is a compare-and-set, so exactly one instance makes it.
    /// Returns the tickets whose card changed here.
    pub async fn sweep_cards(&self) -> Result<Vec<(i64, Card)>> {
        let system = Actor::system();
        let by = Authorized::system(&system)?;
        let cal = self.calendar().await?;
        let now = self.db.now();
        let mut changed = Vec::new();
        let mut after = 0;
        loop {
            let batch =
                store::open_with_department(&mut *self.conn().await?, self.db.sealer(), after, 500)
                    .await?;
            let Some((last, _)) = batch.last() else { break };
            after = last.id;
            for (t, _) in batch {
                let policy = self.policy(t.kind, t.urgency).await?;
                let card = t.card_at(now, &cal, policy);
                if card != t.card {
                    let mut tx = self.db.begin().await?;
                    if store::compare_and_set_card(&mut tx, by, t.id, t.card, card).await? {
                        let e = Event {
                            action: "card",
                            from: t.status,
                            to: t.status,
                            note: None,
                            dept_id: t.main_dept_id,
                            data: json!({"card": card.code()}),
                        };
                        self.record(&mut tx, &Actor::system(), &t, &e, now).await?;
                        changed.push((t.id, card));
                    }
                    tx.commit().await?;
                }
            }
        }
        Ok(changed)
    }

    // ---- categories ----

    pub async fn categories(&self) -> Result<Vec<Category>> {
        store::categories(&mut *self.conn().await?).await
    }

    pub async fn category(&self, id: i64) -> Result<Category> {
        store::category(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| Error::not_found("category", "分类不存在"))
    }

    /// Imports a taxonomy (rows of level-1/2/3 names); existing paths are kept. Returns the
    /// number of categories added.
    pub async fn import_taxonomy(
        &self,
        actor: &Actor,
        rows: &[(String, String, String)],
    ) -> Result<usize> {
        actor.authorize::<Administer>()?;
        let paths = taxonomy_paths(rows)?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let mut added = 0;
        for parts in paths {
            let mut parent: Option<i64> = None;
            for depth in 1..=parts.len() {
                let path = parts[..depth].join("/");
                let id = match store::category_by_path(&mut tx, &path).await? {
                    Some(c) => c.id,
                    None => {
                        added += 1;
                        store::insert_category(
                            &mut tx,
                            parent,
                            depth as i64,
                            &parts[depth - 1],
                            &path,
                            now,
                        )
                        .await?
                    }
                };
                parent = Some(id);
            }
        }
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "category",
            "taxonomy",
            "import",
            json!({"added": added, "rows": rows.len()}),
        )
        .await?;
        tx.commit().await?;
        Ok(added)
    }

    pub async fn set_questions(
        &self,
        actor: &Actor,
        id: i64,
        qs: Vec<Question>,
    ) -> Result<Category> {
        actor.authorize::<Administer>()?;
        validate_questions(&qs)?;
        let mut tx = self.db.begin().await?;
        store::category(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("category", "分类不存在"))?;
        store::set_questions(&mut tx, id, &qs).await?;
        audit::record(
            &mut tx,
            self.db.now(),
            &actor.audit_actor(),
            "category",
            id,
            "set_questions",
            serde_json::to_value(&qs)?,
        )
        .await?;
        let c = store::category(&mut tx, id)
            .await?
            .ok_or_else(|| Error::internal("category vanished"))?;
        tx.commit().await?;
        Ok(c)
    }
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitPart {
    pub dept_id: i64,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reclassify {
    pub kind: Option<TicketKind>,
    pub urgency: Option<Urgency>,
    pub category_id: Option<i64>,
    #[schema(value_type = Object)]
    pub answers: Option<serde_json::Map<String, serde_json::Value>>,
    pub region_code: Option<String>,
    pub address: Option<String>,
}

// ---- import ----
// Historical tickets from spreadsheets (`crate::import` parses the files; the rules of writing
// them live here, beside the other use cases) and spreadsheet exports (`crate::export`).

/// One message of an import file, already checked and mapped by `crate::import`.
#[derive(Debug, Clone)]
pub struct ImportRow {
    /// The line in the file, kept in the timeline and the audit.
    pub line: usize,
    /// The source's message id, e.g. `board:24`.
    pub external_id: String,
    pub kind: TicketKind,
    pub title: String,
    pub content: String,
    /// 留言时间.
    pub created_at: i64,
    pub category_id: Option<i64>,
    /// 答复意见 and 答复时间.
    pub reply: Option<(String, i64)>,
    /// Columns without a ticket field.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// What importing one row did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    Imported,
    /// The message was there already and got what it lacked (the names of what was filled in).
    Updated(Vec<String>),
    /// The message was there already with everything this row has.
    Unchanged,
    /// The external id belongs to a different message (other title or time): nothing written.
    /// Carries that ticket's number.
    Conflict(String),
}

/// Most rows one export may hold; past it the caller should narrow the filters.
pub const EXPORT_MAX_ROWS: usize = 50_000;

impl HotlineService {
    /// Writes a batch of imported messages in one transaction, each with its timeline event
    /// (`import`) and audit record. A message already imported (same external id, title and
    /// time) only gets what it lacks — category, reply, extra columns — so importing a file
    /// twice, or the same message from several files, never duplicates a ticket.
    pub async fn import_batch(
        &self,
        actor: &Actor,
        source: &str,
        rows: &[ImportRow],
    ) -> Result<Vec<ImportOutcome>> {
        let by: Authorized = actor.authorize::<Administer>()?.into();
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let ids: Vec<String> = rows.iter().map(|r| r.external_id.clone()).collect();
        let mut found = store::tickets_by_external_ids(&mut tx, self.db.sealer(), &ids).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let data = |filled: &[String]| json!({"source": source, "line": row.line, "external_id": row.external_id, "filled": filled});
            let Some(known) = found.remove(&row.external_id) else {
                let t = self.insert_imported(&mut tx, by, row, now).await?;
                let e = Event {
                    action: "import",
                    from: Status::Created,
                    to: t.status,
                    note: None,
                    dept_id: None,
                    data: data(&[]),
                };
                self.record(&mut tx, actor, &t, &e, now).await?;
                found.insert(
                    row.external_id.clone(),
                    store::ImportedTicket {
                        ticket: t,
                        version: 1,
                        extra: row.extra.clone(),
                    },
                );
                out.push(ImportOutcome::Imported);
                continue;
            };
            let mut t = known.ticket.clone();
            if t.created_at != row.created_at || t.title != row.title {
                out.push(ImportOutcome::Conflict(t.number.clone()));
                found.insert(row.external_id.clone(), known);
                continue;
            }
            let from = t.status;
            let mut filled = Vec::new();
            if t.category_id.is_none() && row.category_id.is_some() {
                t.category_id = row.category_id;
                filled.push("category".to_owned());
            }
            // Only a ticket still as imported takes a reply: one that staff has since
            // dispatched or answered has a history of its own.
            if let (Some((text, at)), None, Status::Accepted) = (&row.reply, &t.reply, t.status) {
                t.reply = Some(text.clone());
                t.replied_at = Some(*at);
                t.resolution = Some(Resolution::Replied);
                t.status = Status::Closed;
                t.closed_at = Some(*at);
                filled.push("reply".to_owned());
            }
            let mut extra = known.extra.clone();
            let mut extra_changed = false;
            for (k, v) in &row.extra {
                if !extra.contains_key(k) {
                    extra.insert(k.clone(), v.clone());
                    filled.push(k.clone());
                    extra_changed = true;
                }
            }
            if filled.is_empty() {
                out.push(ImportOutcome::Unchanged);
                found.insert(row.external_id.clone(), known);
                continue;
            }
            t.updated_at = now;
            store::update_ticket(&mut tx, by, &t, known.version).await?;
            if extra_changed {
                store::set_ticket_extra(&mut tx, by, t.id, &extra).await?;
            }
            let e = Event {
                action: "import",
                from,
                to: t.status,
                note: None,
                dept_id: None,
                data: data(&filled),
            };
            self.record(&mut tx, actor, &t, &e, now).await?;
            found.insert(
                row.external_id.clone(),
                store::ImportedTicket {
                    ticket: t,
                    version: known.version + 1,
                    extra,
                },
            );
            out.push(ImportOutcome::Updated(filled));
        }
        tx.commit().await?;
        Ok(out)
    }

    /// A new ticket from an imported message: numbered on the day it was written (the same
    /// per-day counter as intake), accepted, or closed with its reply.
    async fn insert_imported(
        &self,
        tx: &mut Tx,
        by: Authorized<'_>,
        row: &ImportRow,
        now: i64,
    ) -> Result<Ticket> {
        let day = kernel::clock::to_china(row.created_at).date_naive();
        let seq = store::next_day_seq(&mut *tx, &day.to_string()).await?;
        let replied = row.reply.as_ref().map(|(_, at)| *at);
        let mut t = Ticket {
            id: 0,
            number: ticket_number(&self.city, day, seq),
            channel: Channel::Web,
            kind: row.kind,
            urgency: Urgency::Normal,
            status: if replied.is_some() {
                Status::Closed
            } else {
                Status::Accepted
            },
            // Board messages carry a pseudonymous user id (kept in `extra`), no name or phone:
            // nobody to call back.
            caller: Caller {
                name: None,
                phone: None,
                wants_reply: false,
                anonymous: false,
            },
            location: Location {
                address: None,
                region_code: None,
                lng: None,
                lat: None,
            },
            title: row.title.clone(),
            content: row.content.clone(),
            category_id: row.category_id,
            answers: json!({}),
            main_dept_id: None,
            co_dept_ids: vec![],
            ack_due: None,
            reply_due: None,
            paused_since: None,
            card: Card::None,
            reply: row.reply.as_ref().map(|(text, _)| text.clone()),
            replied_at: replied,
            resolution: replied.map(|_| Resolution::Replied),
            kb_article_id: None,
            satisfaction: None,
            callback_attempts: 0,
            reopen_count: 0,
            return_count: 0,
            pending_extension: None,
            supervised: false,
            parent_id: None,
            split_from_id: None,
            created_at: row.created_at,
            accepted_at: Some(row.created_at),
            dispatched_at: None,
            acknowledged_at: None,
            closed_at: replied,
            archived_at: None,
            updated_at: now,
        };
        t.id = store::insert_imported_ticket(
            &mut *tx,
            self.db.sealer(),
            by,
            &t,
            &row.external_id,
            &row.extra,
        )
        .await?;
        Ok(t)
    }

    /// The columns an imported ticket brought without a ticket field (点赞数, 留言用户…), for
    /// whoever may see the ticket; `{}` for tickets not imported.
    pub async fn ticket_extra(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<serde_json::Map<String, serde_json::Value>> {
        self.get(actor, id).await?;
        store::ticket_extra(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| Error::not_found("ticket", "工单不存在"))
    }

    /// The tickets of a spreadsheet export: the list's filters, data scope and masking, at most
    /// `limit` rows, newest first unless sorted otherwise. Returns them with the number that
    /// matched. Taking personal data out in bulk is recorded in the audit chain.
    pub async fn export_list(
        &self,
        actor: &Actor,
        q: &TicketQuery,
        limit: usize,
    ) -> Result<(Vec<TicketView>, i64)> {
        let per_page = kernel::page::MAX_PER_PAGE;
        let mut items: Vec<TicketView> = Vec::new();
        // Tickets taken in while paging shift the pages; an id seen twice is kept once.
        let mut seen = std::collections::HashSet::new();
        let mut total = 0;
        let mut page = 1;
        while items.len() < limit {
            let p = self
                .list(
                    actor,
                    q,
                    &PageQuery {
                        page: Some(page),
                        per_page: Some(per_page),
                    },
                )
                .await?;
            if page == 1 {
                total = p.total;
            }
            let n = p.items.len() as i64;
            for v in p.items {
                if items.len() < limit && seen.insert(v.ticket.id) {
                    items.push(v);
                }
            }
            if n < per_page {
                break;
            }
            page += 1;
        }
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "ticket",
            "export",
            "export",
            json!({
                "rows": items.len(),
                "matched": total,
                "filters": {
                    "status": q.status, "main_dept_id": q.main_dept_id, "kind": q.kind.map(TicketKind::code),
                    "card": q.card.map(Card::code), "category_id": q.category_id,
                    "caller_phone": q.caller_phone.as_deref().map(mask::phone), "q": q.q, "from": q.from,
                    "to": q.to, "pending_extension": q.pending_extension, "reopened": q.reopened, "sort": q.sort,
                },
            }),
        )
        .await?;
        tx.commit().await?;
        Ok((items, total))
    }
}

// ---- the public board of replies (portal) ----

impl HotlineService {
    /// Replied requests as the public may read them (留言板): no reports (举报), personal data
    /// scrubbed from title, content and reply, no caller. Newest first; `q` searches the text.
    pub async fn public_replies(&self, q: Option<&str>, page: &PageQuery) -> Result<Page<Ticket>> {
        let f = TicketFilter {
            status: vec![Status::Replied, Status::Closed, Status::Archived],
            q: q.map(str::to_owned),
            public_board: true,
            order: "t.replied_at IS NULL, t.replied_at DESC, t.id DESC",
            ..TicketFilter::default()
        };
        let (items, total) = store::tickets(
            &mut *self.conn().await?,
            self.db.sealer(),
            &f,
            page.per_page(),
            page.offset(),
        )
        .await?;
        let items = items
            .into_iter()
            .map(|mut t| {
                t.title = crate::open311::scrub(&t.title, &t.caller);
                t.content = crate::open311::scrub(&t.content, &t.caller);
                t.reply = t
                    .reply
                    .as_deref()
                    .map(|r| crate::open311::scrub(r, &t.caller));
                t.caller = Caller {
                    name: None,
                    phone: None,
                    wants_reply: t.caller.wants_reply,
                    anonymous: true,
                };
                t.location.address = t.location.address.as_deref().map(mask::address);
                t.location.lng = None;
                t.location.lat = None;
                t
            })
            .collect();
        Ok(Page::new(items, total, page))
    }
}

// ---- Open311 ----

/// What the public Open311 listing asks for; empty lists mean "any".
#[derive(Debug, Clone, Default)]
pub struct Open311Query {
    /// Ticket numbers; when given, every other filter is ignored (as the spec says).
    pub numbers: Vec<String>,
    pub category_ids: Vec<i64>,
    /// `Some(true)`: open tickets only; `Some(false)`: closed only.
    pub open: Option<bool>,
    /// Creation window `[from, to)`, UTC milliseconds.
    pub window: Option<(i64, i64)>,
    /// At most this many, newest first (1–1000).
    pub limit: i64,
}

impl HotlineService {
    /// Tickets for the public Open311 interface, which needs no login. They come whole: the
    /// caller (`open311`) drops the caller's personal data before showing anything.
    pub async fn open311_tickets(&self, q: &Open311Query) -> Result<Vec<Ticket>> {
        let limit = q.limit.clamp(1, 1000);
        let mut c = self.conn().await?;
        if !q.numbers.is_empty() {
            return store::open311_tickets(
                &mut c,
                self.db.sealer(),
                &q.numbers,
                &[],
                &[],
                None,
                limit,
            )
            .await;
        }
        let statuses: Vec<Status> = match q.open {
            None => vec![],
            Some(open) => Status::ALL
                .iter()
                .copied()
                .filter(|s| s.is_open() == open)
                .collect(),
        };
        store::open311_tickets(
            &mut c,
            self.db.sealer(),
            &[],
            &q.category_ids,
            &statuses,
            q.window,
            limit,
        )
        .await
    }
}

/// A new ticket as typed in, before it has an id or a number.
fn draft(
    input: &NewTicket,
    answers: serde_json::Value,
    now: i64,
    accept: bool,
    split_from: Option<i64>,
) -> Ticket {
    Ticket {
        id: 0,
        number: String::new(),
        channel: input.channel,
        kind: input.kind,
        urgency: input.urgency,
        status: if accept {
            Status::Accepted
        } else {
            Status::Created
        },
        caller: Caller {
            name: input.caller_name.clone().filter(|s| !s.trim().is_empty()),
            phone: input.caller_phone.clone().filter(|s| !s.trim().is_empty()),
            wants_reply: input.wants_reply,
            anonymous: input.anonymous,
        },
        location: Location {
            address: input.address.clone().filter(|s| !s.trim().is_empty()),
            region_code: input.region_code.clone().filter(|s| !s.trim().is_empty()),
            lng: input.lng,
            lat: input.lat,
        },
        title: input.title.trim().into(),
        content: input.content.trim().into(),
        category_id: input.category_id,
        answers,
        main_dept_id: None,
        co_dept_ids: vec![],
        ack_due: None,
        reply_due: None,
        paused_since: None,
        card: Card::None,
        reply: None,
        replied_at: None,
        resolution: None,
        kb_article_id: None,
        satisfaction: None,
        callback_attempts: 0,
        reopen_count: 0,
        return_count: 0,
        pending_extension: None,
        supervised: false,
        parent_id: None,
        split_from_id: split_from,
        created_at: now,
        accepted_at: accept.then_some(now),
        dispatched_at: None,
        acknowledged_at: None,
        closed_at: None,
        archived_at: None,
        updated_at: now,
    }
}
