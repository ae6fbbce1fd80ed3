//! The gateway's use cases: what a consuming system may read, one page of a resource served
//! under its grant, the call log (append, verify, read by providers).

use super::domain::*;
use super::store;
use crate::grants::domain::{Condition, FilterOp, Grant, Refusal};
use crate::mount::domain::typed;
use crate::service::*;
use kernel::error::{Error, Result};
use kernel::{Actor, Authorized};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

pub const MAX_PAGE_SIZE: i64 = 1000;
pub const DEFAULT_PAGE_SIZE: i64 = 100;

/// A refused call: HTTP status, stable code and the zh-CN reason (problem+json).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub status: u16,
    pub code: &'static str,
    pub detail: String,
    pub retry_after: Option<u64>,
    /// The call-log seq of the refusal, when it was logged.
    pub call_id: Option<i64>,
    pub grant_id: Option<i64>,
}

impl Refused {
    fn new(status: u16, code: &'static str, detail: impl Into<String>) -> Self {
        Refused {
            status,
            code,
            detail: detail.into(),
            retry_after: None,
            call_id: None,
            grant_id: None,
        }
    }
}

impl From<Error> for Refused {
    fn from(e: Error) -> Self {
        let status = match &e {
            Error::Validation(_) => 422,
            Error::BadRequest { .. } => 400,
            Error::Unauthorized(_) => 401,
            Error::Forbidden(_) => 403,
            Error::NotFound { .. } => 404,
            Error::RateLimited { .. } => 429,
            Error::Conflict { .. } | Error::IllegalTransition { .. } => 409,
            _ => 500,
        };
        let code: &'static str = match status {
            422 => "invalid_query",
            400 => "bad_request",
            401 => "unauthorized",
            403 => "forbidden",
            404 => "not_found",
            _ => "internal_error",
        };
        Refused::new(status, code, e.detail())
    }
}

/// A call as received.
#[derive(Debug, Clone, Default)]
pub struct GatewayQuery {
    pub page: i64,
    pub page_size: i64,
    /// `field=value` filters (equality), in the order given.
    pub filters: Vec<(String, String)>,
    /// The request line hashed into the log (method, path and query).
    pub request_line: String,
}

/// A page served.
#[derive(Debug, Clone)]
pub struct Served {
    pub grant_id: i64,
    pub call_id: i64,
    pub body: Vec<u8>,
}

/// A resource a consuming system may read, as the gateway lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GrantedResource {
    pub resource_code: String,
    pub name: String,
    pub grant_id: i64,
    pub fields: Vec<crate::grants::domain::GrantField>,
    pub expires_at: i64,
    pub rate_per_minute: i64,
}

/// The body of a served page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageBody {
    pub resource_code: String,
    pub grant_id: i64,
    pub page: i64,
    pub page_size: i64,
    pub total: i64,
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<Map<String, Value>>,
}

impl SharingService {
    /// The consuming system a gateway token is bound to, checked against the token's owner.
    async fn caller_system(
        &self,
        actor: &Actor,
        token: &str,
    ) -> std::result::Result<(i64, String), Refused> {
        Authorized::client(actor, GATEWAY_SCOPE).map_err(|_| {
            Refused::new(
                403,
                "not_a_gateway_token",
                "该 API 令牌没有共享网关权限（gateway:read）",
            )
        })?;
        match self.system_of_token(token).await? {
            Some((dept, name)) if Some(dept) == actor.dept_id => Ok((dept, name)),
            _ => Err(Refused::new(
                403,
                "unbound_token",
                "该 API 令牌未绑定到本部门的使用系统，请由数据专员在“授权”页登记系统并领取令牌",
            )),
        }
    }

    /// What the caller's grants cover: active, unexpired grants of its system.
    pub async fn granted_resources(
        &self,
        actor: &Actor,
        token: &str,
    ) -> std::result::Result<Vec<GrantedResource>, Refused> {
        let (dept, system) = self.caller_system(actor, token).await?;
        let now = self.db.now();
        let mut out = Vec::new();
        for g in self.grants_of_system(dept, &system, None).await? {
            if g.usable(now, 0).is_err() {
                continue;
            }
            let r = self.resource_by_id(g.resource_id).await?;
            out.push(GrantedResource {
                resource_code: r.resource.code,
                name: r.resource.name,
                grant_id: g.id,
                fields: g.fields,
                expires_at: g.expires_at,
                rate_per_minute: g.rate_per_minute,
            });
        }
        Ok(out)
    }

    /// Serves one page of `code` to the caller under its grant, and logs the call; a refusal
    /// is logged too (with the refusal's code as result), then returned.
    pub async fn serve(
        &self,
        actor: &Actor,
        token: &str,
        code: &str,
        q: GatewayQuery,
    ) -> std::result::Result<Served, Refused> {
        let (dept, system) = self.caller_system(actor, token).await?;
        let now = self.db.now();
        let mut call = Call {
            seq: 0,
            month: month_of(now),
            at: now,
            caller: actor.audit_actor().0,
            consumer_dept_id: Some(dept),
            system: system.clone(),
            grant_id: None,
            resource_id: None,
            resource_code: code.chars().take(64).collect(),
            fields: Vec::new(),
            row_count: 0,
            request_hash: sm3_hex(q.request_line.as_bytes()),
            response_hash: String::new(),
            result: String::new(),
            prev_hash: String::new(),
            hash: String::new(),
        };
        match self
            .serve_inner(dept, &system, code, &q, now, &mut call)
            .await
        {
            Ok(body) => {
                call.response_hash = sm3_hex(&body);
                call.result = "ok".into();
                let id = self.log_call(actor, &mut call).await?;
                Ok(Served {
                    grant_id: call.grant_id.unwrap_or_default(),
                    call_id: id,
                    body,
                })
            }
            Err(mut r) if r.status != 500 => {
                call.response_hash = sm3_hex(format!("{}:{}", r.code, r.detail).as_bytes());
                call.result = r.code.to_owned();
                call.row_count = 0;
                call.fields.clear();
                r.call_id = Some(self.log_call(actor, &mut call).await?);
                r.grant_id = call.grant_id;
                Err(r)
            }
            Err(r) => Err(r),
        }
    }

    async fn log_call(&self, actor: &Actor, call: &mut Call) -> Result<i64> {
        let by = Authorized::client(actor, GATEWAY_SCOPE)?;
        let mut tx = self.db.begin().await?;
        let id = store::append(&mut tx, by, call).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn serve_inner(
        &self,
        dept: i64,
        system: &str,
        code: &str,
        q: &GatewayQuery,
        now: i64,
        call: &mut Call,
    ) -> std::result::Result<Vec<u8>, Refused> {
        if q.page < 1 {
            return Err(Refused::new(
                422,
                "invalid_page",
                "page 须为不小于 1 的整数",
            ));
        }
        if !(1..=MAX_PAGE_SIZE).contains(&q.page_size) {
            return Err(Refused::new(
                422,
                "invalid_page_size",
                format!("page_size 须在 1–{MAX_PAGE_SIZE} 之间"),
            ));
        }
        let Some(res) = self.raw_resource(code).await? else {
            return Err(Refused::new(
                404,
                "unknown_resource",
                format!("资源“{code}”不存在"),
            ));
        };
        call.resource_id = Some(res.id);
        let grants = self.grants_of_system(dept, system, Some(res.id)).await?;
        if grants.is_empty() {
            return Err(Refused::new(
                403,
                "no_grant",
                "本部门的该使用系统没有此资源的授权",
            ));
        }
        // The usable grant if any; else the newest names why.
        let mut chosen: Option<Grant> = None;
        let mut why = None;
        for g in grants {
            let recent = store::calls_since(&mut *self.conn().await?, g.id, now - 60_000).await?;
            match g.usable(now, recent) {
                Ok(()) => {
                    chosen = Some(g);
                    break;
                }
                Err(r) => {
                    if why.is_none() {
                        call.grant_id = Some(g.id);
                        why = Some((r, g));
                    }
                }
            }
        }
        let Some(g) = chosen else {
            let (r, g) = why.expect("at least one grant");
            return Err(match r {
                Refusal::Revoked => Refused::new(
                    403,
                    "grant_revoked",
                    format!("授权 {} 已被撤销：{}", g.id, g.revoke_reason),
                ),
                Refusal::Expired => Refused::new(
                    403,
                    "grant_expired",
                    format!(
                        "授权 {} 已于 {} 到期",
                        g.id,
                        kernel::clock::format_minute(g.expires_at)
                    ),
                ),
                Refusal::RateLimited => Refused {
                    retry_after: Some(60),
                    ..Refused::new(
                        429,
                        "rate_limited",
                        format!(
                            "超过授权 {} 的调用频率上限（每分钟 {} 次）",
                            g.id, g.rate_per_minute
                        ),
                    )
                },
            });
        };
        call.grant_id = Some(g.id);
        // Granted fields the resource still has and that are not secret, in the resource's order.
        let served: Vec<(&crate::catalog::domain::Item, crate::grants::domain::Mask)> = res
            .fields
            .iter()
            .filter(|it| !it.secret)
            .filter_map(|it| g.mask_of(&it.field).map(|m| (it, m)))
            .collect();
        let mut conds: Vec<Condition> = g.row_filter.clone();
        for (f, v) in &q.filters {
            if !served.iter().any(|(it, _)| &it.field == f) {
                return Err(Refused::new(
                    422,
                    "unknown_filter",
                    format!("“{f}”不是授权的信息项，不能按它筛选"),
                ));
            }
            conds.push(Condition {
                field: f.clone(),
                op: FilterOp::Eq,
                values: vec![v.clone()],
            });
        }
        let (rows, total) = store::rows(
            &mut *self.conn().await?,
            self.db.backend(),
            res.id,
            &conds,
            (q.page - 1) * q.page_size,
            q.page_size,
        )
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for text in rows {
            let stored: Map<String, Value> = serde_json::from_str(&text)
                .map_err(|e| Error::internal(format!("sharing_rows: {e}")))?;
            let mut row = Map::new();
            for (it, mask) in &served {
                let v = stored.get(&it.field).and_then(Value::as_str);
                let shown = match (mask.apply(v), mask.keeps_type()) {
                    (None, _) => Value::Null,
                    (Some(s), true) => typed(it, &s),
                    (Some(s), false) => Value::String(s),
                };
                row.insert(it.field.clone(), shown);
            }
            out.push(row);
        }
        call.fields = served.iter().map(|(it, _)| it.field.clone()).collect();
        call.row_count = out.len() as i64;
        let body = PageBody {
            resource_code: res.code.clone(),
            grant_id: g.id,
            page: q.page,
            page_size: q.page_size,
            total,
            rows: out,
        };
        serde_json::to_vec(&body).map_err(|e| Error::internal(e).into())
    }

    /// Walks the call log in the table from the archive boundary (the first call after the
    /// archived months, linking to the last archived hash; seq 1 and GENESIS when nothing was
    /// archived) and recomputes every hash; names the first broken call. Streams: batches of
    /// calls by seq are read ahead by one task while this one hashes, and at most a few
    /// batches are held at once, however long the log.
    pub async fn verify_calls(&self) -> Result<CallVerification> {
        let (last, archived) = store::boundary(&mut *self.conn().await?).await?;
        let (from_seq, prev) = match &last {
            Some(a) => (a.last_seq + 1, a.last_hash.clone()),
            None => (1, GENESIS.to_owned()),
        };
        let mut walk = ChainWalk::new(from_seq, prev);
        let result = |walk: &ChainWalk, broken: Option<BrokenCall>| CallVerification {
            calls: walk.expected - from_seq,
            from_seq,
            archived,
            head_hash: walk.prev.clone(),
            first_broken: broken,
        };
        let mut batches = self.call_batches(from_seq);
        while let Some(batch) = batches.recv().await {
            for call in batch? {
                let month = (call.seq == walk.expected).then_some(call.month);
                if let Err(reason) = walk.step(&call) {
                    let seq = walk.expected;
                    return Ok(result(&walk, Some(BrokenCall { seq, month, reason })));
                }
            }
        }
        let (head_seq, head_hash) = store::head(&mut *self.conn().await?).await?;
        let count = walk.expected - 1;
        if head_seq != count || head_hash != walk.prev {
            let reason =
                format!("链尾调用记录缺失：链头记为第 {head_seq} 条，实际只到第 {count} 条");
            return Ok(result(
                &walk,
                Some(BrokenCall {
                    seq: count + 1,
                    month: None,
                    reason,
                }),
            ));
        }
        Ok(result(&walk, None))
    }

    /// Calls from `from` on in batches, read ahead by a task of their own; the channel holds
    /// two batches, so memory stays bounded. Stops when the receiver is dropped.
    fn call_batches(&self, from: i64) -> tokio::sync::mpsc::Receiver<Result<Vec<Call>>> {
        const BATCH: i64 = 10_000;
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        let db = self.db.clone();
        tokio::spawn(async move {
            let mut c = match db.pool().acquire().await {
                Ok(c) => c,
                Err(e) => {
                    let _ = tx.send(Err(e.into())).await;
                    return;
                }
            };
            let mut next = from;
            loop {
                match store::calls_from(&mut c, next, BATCH).await {
                    Ok(b) if b.is_empty() => break,
                    Ok(b) => {
                        next = b[b.len() - 1].seq + 1;
                        if tx.send(Ok(b)).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        break;
                    }
                }
            }
        });
        rx
    }

    /// The calls the actor may read: on its department's resources (who used my data) and by
    /// its department; everything for the bureau. Newest first, optionally one month.
    pub async fn calls(&self, actor: &Actor, month: Option<i64>, limit: i64) -> Result<Vec<Call>> {
        actor.authorize::<ReadSharing>()?;
        let limit = limit.clamp(1, 1000);
        let mut c = self.conn().await?;
        if self.is_bureau(actor).await? {
            return store::calls(&mut c, None, None, month, limit).await;
        }
        let dept = Self::own_dept(actor)?;
        drop(c);
        let mine: Vec<i64> = self
            .resources(None)
            .await?
            .into_iter()
            .filter(|r| r.provider_dept_id == dept)
            .map(|r| r.resource.id)
            .collect();
        c = self.conn().await?;
        store::calls(&mut c, Some(&mine), Some(dept), month, limit).await
    }
}

impl SharingService {
    /// Calls in [from, to) by (consumer department, resource): calls, served, rows served.
    pub(crate) async fn period_calls(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<(Option<i64>, Option<i64>, i64, i64, i64)>> {
        store::period_calls(&mut *self.conn().await?, from, to).await
    }
}
