//! The audit chain over HTTP: verification and an entity's history, for admins.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use kernel::audit::{self, AuditRecord, Verification};
use kernel::{Actor, Role};
use maud::html;
use serde::Deserialize;
use utoipa::OpenApi;
use webcore::layout::page;
use webcore::{ApiActor, ApiResult, AppCtx, NavItem, PageCtx, PageError, Query};

/// The kernel's tables (audit chain, calendar) and the audit pages and API over them.
pub fn module() -> webcore::Module {
    webcore::Module::new("kernel")
        .migrations(kernel::migrate::kernel_migrations())
        .routes(routes())
        .nav(nav())
        .openapi(AuditApi::openapi())
}

fn nav() -> Vec<NavItem> {
    vec![NavItem {
        section: "审计管理",
        label: "审计日志",
        href: "/admin/audit",
        roles: &[Role::AuditAdmin],
    }]
}

fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/audit/verify", get(api_verify))
        .route("/api/v1/audit/records", get(api_records))
        .route("/admin/audit", get(audit_page))
        .route("/admin/audit.xlsx", get(audit_xlsx))
}

#[derive(OpenApi)]
#[openapi(paths(api_verify, api_records), tags((name = "audit", description = "审计链（SM3 哈希链）")))]
pub struct AuditApi;

kernel::permission!(
    /// Reads, searches, verifies and exports the audit log: the 审计管理员's alone (三员分立).
    pub ReadAudit = [AuditAdmin], "audit:read"
);

fn require(actor: &Actor) -> kernel::Result<()> {
    actor.authorize::<ReadAudit>().map(|_| ())
}

/// Recomputes the whole SM3 chain and names the first broken record, if any.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", responses((status = 200, description = "verification result")))]
async fn api_verify(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> ApiResult<axum::Json<Verification>> {
    require(&a)?;
    Ok(axum::Json(audit::verify(&ctx.db).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct RecordsQuery {
    /// e.g. `user`, `department`.
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// Newest records when no entity is given (default 100). Clamped, not refused: a value
    /// above 1000 is taken as 1000, one below 1 as 1.
    pub limit: Option<i64>,
}

/// An entity's history (oldest first), or the newest records.
#[utoipa::path(get, path = "/api/v1/audit/records", tag = "audit", params(RecordsQuery), responses((status = 200, description = "records")))]
async fn api_records(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<RecordsQuery>,
) -> ApiResult<axum::Json<Vec<AuditRecord>>> {
    require(&a)?;
    let rows = match (q.entity, q.entity_id) {
        (Some(e), Some(id)) => audit::history(&ctx.db, &e, &id).await?,
        _ => audit::recent(&ctx.db, q.limit.unwrap_or(100).clamp(1, 1000)).await?,
    };
    Ok(axum::Json(rows))
}

/// Words every module shares; a module's own come from its [`webcore::Module`].
const COMMON_ACTIONS: &[(&str, &str)] = &[
    ("create", "新建"),
    ("update", "修改"),
    ("delete", "删除"),
    ("publish", "发布"),
    ("submit", "提交"),
    ("approve", "同意"),
    ("reject", "驳回"),
    ("revoke", "撤销"),
    ("import", "导入"),
    ("export", "导出"),
    ("set", "设置"),
    ("register", "登记"),
    ("accept", "受理"),
    ("close", "办结"),
];

/// The audit log's own words and every module's, gathered once.
fn words() -> &'static webcore::module::AuditWords {
    static WORDS: std::sync::OnceLock<webcore::module::AuditWords> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| {
        let common = webcore::module::AuditWords {
            entities: vec![
                ("demo", "演示城市", None),
                ("calendar_year", "工作日历", None),
                ("audit", "审计日志", Some("/admin/audit")),
            ],
            actions: COMMON_ACTIONS.to_vec(),
        };
        let modules: Vec<_> = crate::modules().into_iter().map(|m| m.audit).collect();
        webcore::module::AuditWords::merged(std::iter::once(&common).chain(modules.iter()))
    })
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    /// 操作人: a username.
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub entity: String,
    #[serde(default)]
    pub entity_id: String,
    #[serde(default)]
    pub action: String,
    /// `YYYY-MM-DD`, both ends included.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    pub page: Option<i64>,
}

fn day_start(s: &str, field: &str) -> kernel::Result<Option<i64>> {
    use chrono::TimeZone;
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| kernel::Error::field(field, "invalid_date", "日期格式应为 YYYY-MM-DD"))?;
    Ok(kernel::clock::china()
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map(|t| t.timestamp_millis()))
}

/// The query as the chain's filter; an unknown username finds nothing rather than everything.
async fn filter_of(ctx: &AppCtx, q: &AuditQuery) -> kernel::Result<kernel::audit::AuditFilter> {
    let from = day_start(&q.from, "from")?;
    let until = day_start(&q.to, "to")?.map(|t| t + 86_400_000);
    if let (Some(a), Some(b)) = (from, until) {
        if a >= b {
            return Err(kernel::Error::field(
                "to",
                "before_from",
                "结束日期不能早于开始日期",
            ));
        }
    }
    let actor = match q.user.trim() {
        "" => None,
        "系统" => Some("system".to_owned()),
        "命令行" => Some("cli".to_owned()),
        u => Some(
            match org::OrgService::new(ctx.db.clone(), Default::default())
                .user_by_username(u)
                .await?
            {
                Some(user) => format!("user:{}", user.id),
                None => format!("unknown:{u}"),
            },
        ),
    };
    Ok(kernel::audit::AuditFilter {
        actor,
        entity: Some(q.entity.clone()),
        entity_id: Some(q.entity_id.clone()),
        action: Some(q.action.clone()),
        from,
        until,
    })
}

/// Who a record names, in words: a user by name and account, the rest by what they are.
async fn actor_names(
    ctx: &AppCtx,
    rows: &[AuditRecord],
) -> std::collections::HashMap<String, String> {
    let org = org::OrgService::new(ctx.db.clone(), Default::default());
    let mut out = std::collections::HashMap::new();
    for r in rows {
        if out.contains_key(&r.actor) {
            continue;
        }
        let (kind, rest) = r.actor.split_once(':').unwrap_or((r.actor.as_str(), ""));
        let name = match kind {
            "user" => match rest.parse::<i64>() {
                Ok(id) => match org.user(&Actor::system(), id).await {
                    Ok(u) => format!("{}（{}）", u.display_name, u.username),
                    Err(_) => format!("已删除的用户 {rest}"),
                },
                Err(_) => r.actor.clone(),
            },
            "token" => format!("接口令牌 {rest}"),
            "cli" => "命令行".to_owned(),
            "system" => "系统".to_owned(),
            "public" | "anonymous" => "公众（未登录）".to_owned(),
            _ if kind.starts_with("anonymous@") => {
                format!("未登录（{}）", kind.trim_start_matches("anonymous@"))
            }
            "citizen" => format!("市民 {}", kernel::mask::phone(rest)),
            _ => r.actor.clone(),
        };
        out.insert(r.actor.clone(), name);
    }
    out
}

/// Payload keys the modules use most, in words; any other key is shown as it is.
const KEYS: &[(&str, &str)] = &[
    ("ip", "地址"),
    ("username", "用户名"),
    ("display_name", "姓名"),
    ("name", "名称"),
    ("title", "标题"),
    ("roles", "角色"),
    ("dept_id", "单位"),
    ("dept_ids", "单位"),
    ("region_code", "区划代码"),
    ("region_id", "区划编号"),
    ("region_name", "区划"),
    ("short_name", "简称"),
    ("credit_code", "统一社会信用代码"),
    ("active", "启用"),
    ("reason", "原因"),
    ("note", "说明"),
    ("number", "编号"),
    ("identifier", "证照标识"),
    ("type", "类型"),
    ("version", "版本"),
    ("status", "状态"),
    ("from", "原状态"),
    ("to", "新状态"),
    ("rows", "行数"),
    ("query", "条件"),
    ("code", "代码"),
    ("source", "来源"),
    ("phone", "电话"),
    ("id_card", "身份证号"),
    ("minutes", "分钟"),
    ("level", "等级"),
    ("text", "内容"),
    ("kid", "密钥"),
    ("client_id", "客户端标识"),
    ("user_id", "用户"),
    ("scopes", "授权范围"),
    ("consent_given", "本次同意"),
    ("grants_revoked", "撤销授权数"),
    ("redirect_uris", "回调地址"),
    ("launch_url", "入口地址"),
    ("enabled", "启用"),
    ("alg", "算法"),
    ("public_jwk", "公钥"),
    ("id", "编号"),
];

/// A payload for reading: `名称：…；单位：…`, personal values masked by their shape, cut at
/// 120 characters (the whole record is in the export and the API).
fn summary(v: &serde_json::Value) -> String {
    use serde_json::Value;
    fn value(v: &Value) -> Option<String> {
        Some(match v {
            Value::Null => return None,
            Value::Bool(b) => if *b { "是" } else { "否" }.to_owned(),
            Value::Number(n) => n.to_string(),
            Value::String(s) if s.is_empty() => return None,
            Value::String(s) => match kernel::mask::kind_of_value(s) {
                Some(k) => kernel::mask::as_kind(k, s),
                // A role by its name (角色 lists are the commonest codes in the log).
                None => Role::parse(s).map_or_else(|| s.clone(), |r| r.label().to_owned()),
            },
            Value::Array(a) => a.iter().filter_map(value).collect::<Vec<_>>().join("、"),
            Value::Object(o) => o
                .iter()
                .filter_map(|(k, v)| value(v).map(|v| format!("{}={v}", key(k))))
                .collect::<Vec<_>>()
                .join("，"),
        })
    }
    fn key(k: &str) -> &str {
        KEYS.iter().find(|(c, _)| *c == k).map_or(k, |(_, l)| l)
    }
    let text = match v {
        Value::Object(o) => o
            .iter()
            .filter_map(|(k, v)| value(v).map(|v| format!("{}：{v}", key(k))))
            .collect::<Vec<_>>()
            .join("；"),
        other => value(other).unwrap_or_default(),
    };
    match text.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}

fn entity_label(code: &str) -> String {
    words()
        .entity(code)
        .map_or_else(|| code.to_owned(), |(l, _)| l.to_owned())
}

fn action_label(entity: &str, code: &str) -> String {
    words()
        .action(entity, code)
        .map_or_else(|| code.to_owned(), str::to_owned)
}

fn query_string(q: &AuditQuery) -> String {
    let mut parts = vec![];
    for (k, v) in [
        ("user", &q.user),
        ("entity", &q.entity),
        ("entity_id", &q.entity_id),
        ("action", &q.action),
        ("from", &q.from),
        ("to", &q.to),
    ] {
        if !v.trim().is_empty() {
            parts.push(format!("{k}={}", webcore::query_value(v.trim())));
        }
    }
    parts.join("&")
}

async fn audit_page(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Query(q): Query<AuditQuery>,
) -> Result<axum::response::Response, PageError> {
    use axum::response::IntoResponse;
    require(&p.actor)?;
    let v = audit::verify(&ctx.db).await?;
    let (rows, errors) = match filter_of(&ctx, &q).await {
        Ok(f) => (
            Some(
                kernel::audit::search(
                    &ctx.db,
                    &f,
                    &kernel::page::PageQuery {
                        page: q.page,
                        per_page: Some(50),
                    },
                )
                .await?,
            ),
            vec![],
        ),
        Err(kernel::Error::Validation(e)) => (None, e),
        Err(e) => return Err(e.into()),
    };
    let names = actor_names(&ctx, rows.as_ref().map_or(&[][..], |r| &r.items[..])).await;
    let w = words();
    let mut entities: Vec<(&str, &str)> = w.entities.iter().map(|(c, l, _)| (*c, *l)).collect();
    entities.sort_by_key(|(_, l)| *l);
    entities.dedup_by_key(|(c, _)| *c);
    let qs = query_string(&q);
    let base = if qs.is_empty() {
        "/admin/audit".to_owned()
    } else {
        format!("/admin/audit?{qs}")
    };
    let body = html! {
        @match &v.first_broken {
            None => div.notice #chain role="status" { "审计链完整：共 " (v.records) " 条记录，逐条 SM3 校验通过。链头哈希 " code { (&v.head_hash[..16]) "…" } }
            Some(b) => div.alert #chain role="alert" { "审计链在第 " (b.seq) " 条记录处断裂：" (b.reason) }
        }
        (webcore::layout::error_summary(&errors))
        form #audit-filter.filters method="get" action="/admin/audit" {
            (webcore::layout::text_field("操作人（用户名）", "user", &q.user, &errors, ""))
            div.field {
                label for="entity" { "对象类型" }
                select #entity name="entity" {
                    option value="" { "全部" }
                    @for (c, l) in &entities { option value=(c) selected[q.entity == *c] { (l) } }
                }
            }
            (webcore::layout::text_field("对象编号", "entity_id", &q.entity_id, &errors, "size=\"8\""))
            (webcore::layout::text_field("开始日期", "from", &q.from, &errors, "type=\"date\""))
            (webcore::layout::text_field("结束日期", "to", &q.to, &errors, "type=\"date\""))
            button type="submit" { "查询" }
            a.button.secondary #export href=(format!("/admin/audit.xlsx{}", if qs.is_empty() { String::new() } else { format!("?{qs}") })) { "导出 Excel" }
        }
        @if let Some(rows) = &rows {
            table #records {
                thead { tr { th { "序号" } th { "时间" } th { "操作人" } th { "动作" } th { "对象" } th { "内容" } th { "哈希" } } }
                tbody {
                    @for r in &rows.items {
                        tr {
                            td { (r.seq) }
                            td.nowrap { (kernel::clock::format_minute(r.at)) }
                            td {
                                @let name = names.get(&r.actor).cloned().unwrap_or_else(|| r.actor.clone());
                                @match name.strip_suffix('）').and_then(|n| n.rsplit_once('（')).filter(|_| r.actor.starts_with("user:")) {
                                    Some((_, username)) => a href=(format!("/admin/audit?user={}", webcore::query_value(username))) title="此人的全部操作" { (name) },
                                    None => { (name) }
                                }
                            }
                            td { (action_label(&r.entity, &r.action)) }
                            td.nowrap {
                                @let label = entity_label(&r.entity);
                                @match w.entity(&r.entity).and_then(|(_, l)| l) {
                                    Some(link) => a href=(link.replace("{id}", &r.entity_id)) { (label) " " (r.entity_id) },
                                    None => { (label) " " (r.entity_id) }
                                }
                                " "
                                a.small href=(format!("/admin/audit?entity={}&entity_id={}", webcore::query_value(&r.entity), webcore::query_value(&r.entity_id))) title="此对象的全部记录" { "历史" }
                            }
                            td.small { (summary(&r.payload)) }
                            td.mono { (&r.hash[..12]) "…" }
                        }
                    }
                }
            }
            @if rows.items.is_empty() { p.muted { "没有符合条件的记录。" } }
            (webcore::layout::pager(&base, rows.page, rows.pages(), rows.total))
        }
    };
    let status = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, page(&p, "审计日志", body)).into_response())
}

/// The filtered records as a workbook (at most 10,000, newest first); the export itself is a
/// security event and goes into the chain.
async fn audit_xlsx(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Query(q): Query<AuditQuery>,
) -> Result<axum::response::Response, PageError> {
    use axum::response::IntoResponse;
    require(&p.actor)?;
    let f = filter_of(&ctx, &q).await?;
    let rows = kernel::audit::search(
        &ctx.db,
        &f,
        &kernel::page::PageQuery {
            page: Some(1),
            per_page: Some(kernel::page::MAX_PER_PAGE),
        },
    )
    .await?;
    let mut all = rows.items;
    let mut page = 1;
    while (all.len() as i64) < rows.total.min(10_000) {
        page += 1;
        let more = kernel::audit::search(
            &ctx.db,
            &f,
            &kernel::page::PageQuery {
                page: Some(page),
                per_page: Some(kernel::page::MAX_PER_PAGE),
            },
        )
        .await?;
        if more.items.is_empty() {
            break;
        }
        all.extend(more.items);
    }
    all.truncate(10_000);
    let names = actor_names(&ctx, &all).await;
    let headers: Vec<String> = [
        "序号",
        "时间",
        "操作人",
        "动作",
        "对象类型",
        "对象编号",
        "内容",
        "哈希",
    ]
    .map(str::to_owned)
    .to_vec();
    let data: Vec<Vec<tabular::Cell>> = all
        .iter()
        .map(|r| {
            vec![
                r.seq.into(),
                kernel::clock::format_minute(r.at).into(),
                names
                    .get(&r.actor)
                    .cloned()
                    .unwrap_or_else(|| r.actor.clone())
                    .into(),
                action_label(&r.entity, &r.action).into(),
                entity_label(&r.entity).into(),
                r.entity_id.clone().into(),
                summary(&r.payload).into(),
                r.hash.clone().into(),
            ]
        })
        .collect();
    let bytes =
        tabular::write_xlsx(&[("审计日志", &headers, &data)]).map_err(kernel::Error::internal)?;
    let mut tx = ctx.db.begin().await?;
    audit::record(
        &mut tx,
        ctx.db.now(),
        &p.actor.audit_actor(),
        "audit",
        "log",
        "export",
        serde_json::json!({"rows": data.len(), "query": query_string(&q)}),
    )
    .await?;
    tx.commit().await.map_err(kernel::Error::from)?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit.xlsx\"",
            ),
        ],
        bytes,
    )
        .into_response())
}
