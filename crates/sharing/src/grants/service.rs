//! 申请用数 use cases: a consuming department's data officer asks; each level of the chain its
//! 共享属性 asks for decides within its deadline, with a reason; the last approval makes the
//! grant, which its provider may renew (within the approved period), narrow or revoke.

use super::domain::*;
use super::notices;
use super::store;
use crate::catalog::domain::ShareKind;
use crate::service::*;
use kernel::audit;
use kernel::calendar::Calendar;
use kernel::error::{Error, Result};
use kernel::{Actor, Authorized, Role};
use serde::Serialize;
use serde_json::json;
use sm3::{Digest, Sm3};
use utoipa::ToSchema;

/// A request with its steps and, once approved, its grant.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestView {
    #[serde(flatten)]
    pub request: Request,
    pub resource_code: String,
    pub resource_name: String,
    pub steps: Vec<Step>,
    pub grant_id: Option<i64>,
}

impl RequestView {
    /// The step waiting for a decision.
    pub fn current(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.status == StepStatus::Pending)
    }
}

/// A consuming system with the token bound to it (shown once).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SystemToken {
    pub dept_id: i64,
    pub system: String,
    pub token: String,
}

/// The default rate limit of a grant.
pub const DEFAULT_RATE: i64 = 60;

pub(crate) fn sm3_hex(s: &str) -> String {
    hex::encode(Sm3::digest(s.as_bytes()))
}

impl SharingService {
    /// Sends a request per resource (one batch). A 不予共享 resource's request is refused at
    /// once with the catalog's 依据.
    pub async fn submit_request(
        &self,
        actor: &Actor,
        input: NewRequest,
    ) -> Result<Vec<RequestView>> {
        let g = actor.authorize::<RequestData>()?;
        input.validate()?;
        let consumer = Self::own_dept(actor)?;
        let from = parse_day(&input.period_from, "period_from")?;
        let until = parse_day(&input.period_until, "period_until")?;
        if until < from {
            return Err(Error::field(
                "period_until",
                "invalid_period",
                "使用期限的结束日不能早于开始日",
            ));
        }
        if (until - from).num_days() > 3 * 366 {
            return Err(Error::field(
                "period_until",
                "invalid_period",
                "使用期限至多三年",
            ));
        }
        let now = self.db.now();
        if end_of_day(until) <= now {
            return Err(Error::field(
                "period_until",
                "invalid_period",
                "使用期限已过",
            ));
        }
        // Resolve and check every resource before writing anything.
        let mut lines = Vec::new();
        for (i, code) in input.resources.iter().enumerate() {
            let res = self.resource(code).await.map_err(|e| match e {
                Error::NotFound { .. } => Error::field(
                    format!("resources[{i}]"),
                    "unknown_resource",
                    format!("资源“{code}”不存在"),
                ),
                e => e,
            })?;
            let shareable: Vec<&str> = res
                .resource
                .fields
                .iter()
                .filter(|f| !f.secret)
                .map(|f| f.field.as_str())
                .collect();
            let wanted: Vec<String> = match input.fields.get(i) {
                Some(f) if !f.is_empty() => f.clone(),
                _ => shareable.iter().map(|s| s.to_string()).collect(),
            };
            for (j, f) in wanted.iter().enumerate() {
                if !shareable.contains(&f.as_str()) {
                    return Err(Error::field(
                        format!("fields[{i}][{j}]"),
                        "unknown_field",
                        format!("“{f}”不是资源“{code}”可共享的信息项"),
                    ));
                }
            }
            let share_condition = self
                .entry(res.resource.entry_id)
                .await?
                .published()
                .map(|v| v.content.share_condition.clone())
                .unwrap_or_default();
            lines.push((res, wanted, share_condition));
        }
        let batch = format!("{}-{}", consumer, now);
        let cal = Calendar::builtin();
        let bureau = self.bureau().await?;
        let consumer_name = self
            .dept_names()
            .await?
            .remove(&consumer)
            .unwrap_or_default();
        let outbox = notify::Outbox::of(&self.db);
        let mut tx = self.db.begin().await?;
        let mut ids = Vec::new();
        for (res, fields, condition) in &lines {
            let refused = res.share_kind == ShareKind::NotShared;
            let r = Request {
                id: 0,
                batch: batch.clone(),
                resource_id: res.resource.id,
                provider_dept_id: res.provider_dept_id,
                consumer_dept_id: consumer,
                requester: actor.audit_actor().0,
                system: input.system.trim().to_owned(),
                purpose: input.purpose.trim().to_owned(),
                legal_basis: input.legal_basis.trim().to_owned(),
                fields: fields.clone(),
                period_from: day_start(from),
                period_until: end_of_day(until),
                share_kind: res.share_kind,
                status: if refused {
                    RequestStatus::Refused
                } else {
                    RequestStatus::Pending
                },
                reason: if refused {
                    format!("不予共享，依据：{condition}")
                } else {
                    String::new()
                },
                created_at: now,
                decided_at: refused.then_some(now),
            };
            let by = Authorized::from(g);
            let id = store::insert_request(&mut tx, by, &r).await?;
            let r = Request { id, ..r };
            let first_due = cal.add_working_days(now, STEP_WORKING_DAYS);
            let notice = match chain(res.share_kind).first() {
                Some(level) if !refused => notices::pending(
                    &r,
                    &res.resource.name,
                    &consumer_name,
                    *level,
                    first_due,
                    bureau,
                ),
                _ => notices::refused(&r, &res.resource.name, "目录共享属性", &r.reason),
            };
            outbox.enqueue(&mut tx, &notice, now).await?;
            for (k, level) in chain(res.share_kind).iter().enumerate() {
                let (status, due) = if k == 0 {
                    (StepStatus::Pending, first_due)
                } else {
                    (StepStatus::Waiting, 0)
                };
                store::insert_step(&mut tx, by, id, k as i64 + 1, *level, status, due).await?;
            }
            audit::record(
                &mut tx,
                now,
                &actor.audit_actor(),
                "sharing_request",
                id,
                "submit",
                json!({"resource": res.resource.code, "fields": fields, "system": r.system,
                       "purpose": r.purpose, "status": r.status.code()}),
            )
            .await?;
            ids.push(id);
        }
        tx.commit().await?;
        let mut out = Vec::new();
        for id in ids {
            out.push(self.request(actor, id).await?);
        }
        Ok(out)
    }

    /// Whether `actor` may decide at `level` for a request to `provider`.
    async fn may_decide(&self, actor: &Actor, level: Level, provider: i64) -> Result<bool> {
        let own = actor.dept_id.is_some() && actor.scope.can_see(&[provider], None);
        Ok(match level {
            Level::ProviderOfficer => {
                actor.has_role(Role::SysAdmin) || (own && actor.has_role(Role::DataOfficer))
            }
            Level::ChiefOfficer => {
                actor.has_role(Role::SysAdmin) || (own && actor.has_role(Role::ChiefDataOfficer))
            }
            Level::Bureau => self.is_bureau(actor).await?,
        })
    }

    /// Decides the pending step: approve (the last approval makes the grant on `terms`) or
    /// refuse with a reason (the request ends refused).
    pub async fn decide(
        &self,
        actor: &Actor,
        request_id: i64,
        approve: bool,
        reason: &str,
        terms: Option<GrantTerms>,
    ) -> Result<RequestView> {
        let g = actor.authorize::<Approve>()?;
        let view = self.request_raw(request_id).await?;
        let Some(step) = view.current().cloned() else {
            return Err(Error::IllegalTransition {
                detail: format!("该申请{}，没有待审批的环节", view.request.status.label()),
            });
        };
        if !self
            .may_decide(actor, step.level, view.request.provider_dept_id)
            .await?
        {
            return Err(Error::forbidden(format!(
                "此环节须由{}审批",
                step.level.label()
            )));
        }
        let reason = reason.trim();
        if !approve && reason.is_empty() {
            return Err(Error::field("reason", "required", "不同意须写明理由"));
        }
        if reason.chars().count() > 500 {
            return Err(Error::field("reason", "too_long", "理由不能超过 500 个字"));
        }
        let last = !view.steps.iter().any(|s| s.seq > step.seq);
        let now = self.db.now();
        let grant = if approve && last {
            Some(
                self.grant_from(&view, terms.unwrap_or_default(), now)
                    .await?,
            )
        } else {
            None
        };
        let by = Authorized::from(g);
        let bureau = self.bureau().await?;
        let names = self.dept_names().await?;
        let name = |d: i64| names.get(&d).cloned().unwrap_or_default();
        let outbox = notify::Outbox::of(&self.db);
        let mut tx = self.db.begin().await?;
        let to = if approve {
            StepStatus::Approved
        } else {
            StepStatus::Refused
        };
        if !store::decide_step(
            &mut tx,
            by,
            step.id,
            to,
            &actor.audit_actor().0,
            reason,
            now,
        )
        .await?
        {
            return Err(Error::IllegalTransition {
                detail: "该环节已被他人处理，请刷新后查看".into(),
            });
        }
        let mut grant_id = None;
        let (r, resource) = (&view.request, view.resource_name.as_str());
        if !approve {
            store::close_request(&mut tx, by, request_id, RequestStatus::Refused, reason, now)
                .await?;
            let m = notices::refused(r, resource, step.level.label(), reason);
            outbox.enqueue(&mut tx, &m, now).await?;
        } else if let Some(gr) = &grant {
            grant_id = Some(store::insert_grant(&mut tx, by, gr).await?);
            store::close_request(
                &mut tx,
                by,
                request_id,
                RequestStatus::Approved,
                reason,
                now,
            )
            .await?;
            let m = notices::approved(r, resource, &name(r.provider_dept_id), gr.expires_at);
            outbox.enqueue(&mut tx, &m, now).await?;
        } else if let Some(next) = view.steps.iter().find(|s| s.seq == step.seq + 1) {
            let due = Calendar::builtin().add_working_days(now, STEP_WORKING_DAYS);
            store::open_step(&mut tx, by, next.id, due).await?;
            let m = notices::pending(
                r,
                resource,
                &name(r.consumer_dept_id),
                next.level,
                due,
                bureau,
            );
            outbox.enqueue(&mut tx, &m, now).await?;
        }
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "sharing_request",
            request_id,
            if approve { "approve" } else { "refuse" },
            json!({"level": step.level.code(), "reason": reason, "overdue": now > step.due_at, "grant_id": grant_id}),
        )
        .await?;
        if let (Some(id), Some(gr)) = (grant_id, &grant) {
            audit::record(
                &mut tx,
                now,
                &actor.audit_actor(),
                "sharing_grant",
                id,
                "create",
                json!({"fields": gr.fields, "row_filter": gr.row_filter, "rate_per_minute": gr.rate_per_minute,
                       "expires_at": gr.expires_at, "approved_until": gr.approved_until}),
            )
            .await?;
        }
        tx.commit().await?;
        self.request(actor, request_id).await
    }

    /// The grant the last approval makes: the terms checked against the request — fields of
    /// the request only, expiry within the approved period.
    async fn grant_from(&self, view: &RequestView, terms: GrantTerms, now: i64) -> Result<Grant> {
        let res = self.resource_by_id(view.request.resource_id).await?;
        let r = &view.request;
        let fields = match terms.fields {
            Some(f) => {
                for (i, x) in f.iter().enumerate() {
                    if !r.fields.contains(&x.field) {
                        return Err(Error::field(
                            format!("fields[{i}].field"),
                            "not_requested",
                            format!("“{}”不在申请的信息项中", x.field),
                        ));
                    }
                }
                if f.is_empty() {
                    return Err(Error::field("fields", "required", "请至少授权一个信息项"));
                }
                f
            }
            None => r
                .fields
                .iter()
                .filter_map(|f| res.resource.field(f))
                .map(|it| GrantField {
                    field: it.field.clone(),
                    mask: default_mask(it),
                })
                .collect(),
        };
        check_conditions("row_filter", &terms.row_filter, &|f| {
            res.resource.field(f).is_some()
        })?;
        let rate = terms.rate_per_minute.unwrap_or(DEFAULT_RATE);
        if !(1..=100_000).contains(&rate) {
            return Err(Error::field(
                "rate_per_minute",
                "invalid_rate",
                "调用频率上限须在 1–100000 次/分钟之间",
            ));
        }
        let expires_at = match &terms.expires_on {
            Some(d) => end_of_day(parse_day(d, "expires_on")?),
            None => r.period_until,
        };
        if expires_at > r.period_until {
            return Err(Error::field(
                "expires_on",
                "beyond_approval",
                "授权期限不能超过申请批准的使用期限",
            ));
        }
        if expires_at <= now {
            return Err(Error::field("expires_on", "in_the_past", "授权期限已过"));
        }
        Ok(Grant {
            id: 0,
            request_id: r.id,
            resource_id: r.resource_id,
            provider_dept_id: r.provider_dept_id,
            consumer_dept_id: r.consumer_dept_id,
            system: r.system.clone(),
            fields,
            row_filter: terms.row_filter,
            rate_per_minute: rate,
            expires_at,
            approved_until: r.period_until,
            status: GrantStatus::Active,
            revoke_reason: String::new(),
            created_at: now,
        })
    }

    /// Renews (never beyond the approved period), narrows or revokes a grant: its provider's
    /// data staff or the bureau.
    pub async fn change_grant(
        &self,
        actor: &Actor,
        grant_id: i64,
        change: GrantChange,
    ) -> Result<Grant> {
        let g = actor.authorize::<Approve>()?;
        let mut gr = self.grant(grant_id).await?;
        if !(actor.scope.can_see(&[gr.provider_dept_id], None) || self.is_bureau(actor).await?) {
            return Err(Error::forbidden("只有提供部门或数据局可以变更授权"));
        }
        if gr.status == GrantStatus::Revoked {
            return Err(Error::IllegalTransition {
                detail: "授权已撤销，不能再变更".into(),
            });
        }
        let before = json!({"fields": gr.fields, "row_filter": gr.row_filter, "rate_per_minute": gr.rate_per_minute, "expires_at": gr.expires_at});
        let now = self.db.now();
        let word = match change {
            GrantChange::Renew { expires_on } => {
                let at = end_of_day(parse_day(&expires_on, "expires_on")?);
                if at > gr.approved_until {
                    return Err(Error::field(
                        "expires_on",
                        "beyond_approval",
                        "续期不能超过申请批准的使用期限；如需更长，请重新申请",
                    ));
                }
                if at <= now {
                    return Err(Error::field("expires_on", "in_the_past", "授权期限已过"));
                }
                gr.expires_at = at;
                "renew"
            }
            GrantChange::Narrow {
                fields,
                add_conditions,
                rate_per_minute,
            } => {
                if let Some(f) = fields {
                    if f.is_empty() || !is_narrower(&gr.fields, &f) {
                        return Err(Error::field(
                            "fields",
                            "widens",
                            "收窄只能减少信息项或加强脱敏，不能扩大授权",
                        ));
                    }
                    gr.fields = f;
                }
                let res = self.resource_by_id(gr.resource_id).await?;
                check_conditions("add_conditions", &add_conditions, &|f| {
                    res.resource.field(f).is_some()
                })?;
                gr.row_filter.extend(add_conditions);
                if let Some(r) = rate_per_minute {
                    if !(1..=gr.rate_per_minute).contains(&r) {
                        return Err(Error::field(
                            "rate_per_minute",
                            "widens",
                            "收窄只能降低调用频率上限",
                        ));
                    }
                    gr.rate_per_minute = r;
                }
                "narrow"
            }
            GrantChange::Revoke { reason } => {
                let reason = reason.trim();
                if reason.is_empty() || reason.chars().count() > 500 {
                    return Err(Error::field(
                        "reason",
                        "required",
                        "撤销须写明理由（至多 500 字）",
                    ));
                }
                gr.status = GrantStatus::Revoked;
                gr.revoke_reason = reason.to_owned();
                "revoke"
            }
        };
        let resource_name = self.resource_by_id(gr.resource_id).await?.resource.name;
        let mut tx = self.db.begin().await?;
        store::update_grant(&mut tx, Authorized::from(g), &gr, now).await?;
        if gr.status == GrantStatus::Revoked {
            notify::Outbox::of(&self.db)
                .enqueue(&mut tx, &notices::revoked(&gr, &resource_name), now)
                .await?;
        }
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "sharing_grant",
            gr.id,
            word,
            json!({"before": before, "after": {"fields": gr.fields, "row_filter": gr.row_filter,
                   "rate_per_minute": gr.rate_per_minute, "expires_at": gr.expires_at,
                   "status": gr.status.code(), "reason": gr.revoke_reason}}),
        )
        .await?;
        tx.commit().await?;
        Ok(gr)
    }

    pub async fn grant(&self, id: i64) -> Result<Grant> {
        store::grant(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| Error::not_found("sharing_grant", "授权不存在"))
    }

    /// The grants the actor's department gives or holds; all for the bureau.
    pub async fn grants(&self, actor: &Actor) -> Result<Vec<Grant>> {
        actor.authorize::<ReadSharing>()?;
        let dept = self.list_dept(actor).await?;
        store::grants(&mut *self.conn().await?, dept).await
    }

    /// `None` (everything) for the bureau, else the actor's department.
    async fn list_dept(&self, actor: &Actor) -> Result<Option<i64>> {
        if self.is_bureau(actor).await? {
            Ok(None)
        } else {
            Ok(Some(Self::own_dept(actor)?))
        }
    }

    async fn request_raw(&self, id: i64) -> Result<RequestView> {
        let mut c = self.conn().await?;
        let request = store::request(&mut c, id)
            .await?
            .ok_or_else(|| Error::not_found("sharing_request", "申请不存在"))?;
        let steps = store::steps(&mut c, id).await?;
        let grant_id = store::grants(&mut c, Some(request.consumer_dept_id))
            .await?
            .into_iter()
            .find(|g| g.request_id == id)
            .map(|g| g.id);
        drop(c);
        let res = self.resource_by_id(request.resource_id).await?;
        Ok(RequestView {
            resource_code: res.resource.code,
            resource_name: res.resource.name,
            request,
            steps,
            grant_id,
        })
    }

    /// A request, seen by its consumer, its provider or the bureau.
    pub async fn request(&self, actor: &Actor, id: i64) -> Result<RequestView> {
        let v = self.request_raw(id).await?;
        let r = &v.request;
        if !(actor
            .scope
            .can_see(&[r.consumer_dept_id, r.provider_dept_id], None)
            || self.is_bureau(actor).await?)
        {
            return Err(Error::forbidden("无权查看其他部门的申请"));
        }
        Ok(v)
    }

    /// The requests of the actor's department (sent or received); all for the bureau.
    pub async fn requests(&self, actor: &Actor) -> Result<Vec<RequestView>> {
        actor.authorize::<ReadSharing>()?;
        let dept = self.list_dept(actor).await?;
        let ids: Vec<i64> = store::requests(&mut *self.conn().await?, dept)
            .await?
            .iter()
            .map(|r| r.id)
            .collect();
        let mut out = Vec::new();
        for id in ids {
            out.push(self.request_raw(id).await?);
        }
        Ok(out)
    }

    /// The requests waiting for the actor's decision, oldest deadline first.
    pub async fn approval_queue(&self, actor: &Actor) -> Result<Vec<RequestView>> {
        actor.authorize::<Approve>()?;
        let mut out = Vec::new();
        for level in Level::ALL {
            let ids = store::pending(&mut *self.conn().await?, *level).await?;
            for id in ids {
                let v = self.request_raw(id).await?;
                if self
                    .may_decide(actor, *level, v.request.provider_dept_id)
                    .await?
                {
                    out.push(v);
                }
            }
        }
        Ok(out)
    }

    /// Registers a consuming system of the actor's department and binds a new API token with
    /// the gateway scope to it. The token is made by org in its own transaction first: should
    /// the binding fail, the token exists unbound and the gateway refuses it.
    pub async fn register_system(&self, actor: &Actor, name: &str) -> Result<SystemToken> {
        let g = actor.authorize::<RequestData>()?;
        let dept = Self::own_dept(actor)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(Error::field(
                "system",
                "required",
                "请填写使用系统名称（至多 60 字）",
            ));
        }
        let (token, _) = self
            .org()
            .create_token(
                actor,
                org::NewApiToken {
                    name: format!("共享网关：{name}"),
                    scopes: vec![GATEWAY_SCOPE.to_owned()],
                    expires_in_days: None,
                },
            )
            .await?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let id = store::insert_system(
            &mut tx,
            Authorized::from(g),
            dept,
            name,
            &sm3_hex(&token),
            now,
        )
        .await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "sharing_system",
            id,
            "bind_token",
            json!({"dept_id": dept, "system": name}),
        )
        .await?;
        tx.commit().await?;
        Ok(SystemToken {
            dept_id: dept,
            system: name.to_owned(),
            token,
        })
    }

    /// The consuming systems of the actor's department: (id, name, registered at).
    pub async fn systems(&self, actor: &Actor) -> Result<Vec<(i64, String, i64)>> {
        actor.authorize::<ReadSharing>()?;
        store::systems(&mut *self.conn().await?, Self::own_dept(actor)?).await
    }

    pub(crate) async fn system_of_token(&self, token: &str) -> Result<Option<(i64, String)>> {
        store::system_of_token(&mut *self.conn().await?, &sm3_hex(token)).await
    }

    pub(crate) async fn grants_of_system(
        &self,
        dept: i64,
        system: &str,
        resource: Option<i64>,
    ) -> Result<Vec<Grant>> {
        store::grants_of_system(&mut *self.conn().await?, dept, system, resource).await
    }
}

impl SharingService {
    /// Every request and grant, for the figures (which filter by period and scope themselves).
    pub(crate) async fn all_requests_and_grants(&self) -> Result<(Vec<Request>, Vec<Grant>)> {
        let mut c = self.conn().await?;
        let requests = store::requests(&mut c, None).await?;
        let grants = store::grants(&mut c, None).await?;
        Ok((requests, grants))
    }
}

impl SharingService {
    /// Tells the consuming departments of active grants that expire within
    /// [`notices::EXPIRY_NOTICE_DAYS`] days, once per expiry (a renewal is announced again).
    /// The module's job runs it; returns how many were told.
    pub async fn notify_expiring_grants(&self) -> Result<usize> {
        let system = Actor::system();
        let by = Authorized::system(&system)?;
        let now = self.db.now();
        let until = now + notices::EXPIRY_NOTICE_DAYS * 86_400_000;
        let due = store::expiring_unnotified(&mut *self.conn().await?, now, until).await?;
        let outbox = notify::Outbox::of(&self.db);
        let mut told = 0;
        for gr in due {
            let resource = self.resource_by_id(gr.resource_id).await?.resource.name;
            let mut tx = self.db.begin().await?;
            if store::mark_expiry_notified(&mut tx, by, gr.id, now).await? {
                outbox
                    .enqueue(&mut tx, &notices::expiring(&gr, &resource, now), now)
                    .await?;
                told += 1;
            }
            tx.commit().await?;
        }
        Ok(told)
    }
}
