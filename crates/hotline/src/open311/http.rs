//! The GeoReport v2 routes under `/open311/v2`: discovery, services and their definitions,
//! posting a request (and the token flow), reading requests.

use super::domain::*;
use super::format::*;
use crate::domain::*;
use crate::service::{HotlineService, Open311Query};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, MethodRouter};
use axum::Router;
use kernel::{mask, Actor};
use std::collections::HashMap;
use webcore::AppCtx;

const SPEC: &str = "http://wiki.open311.org/GeoReport_v2";

/// When this interface last changed (discovery `changeset`).
const CHANGESET: &str = "2026-11-21T00:00:00+08:00";

const MAX_REQUESTS: i64 = 1000;

pub fn routes() -> Router<AppCtx> {
    let mut r = Router::new();
    for f in [Format::Json, Format::Xml] {
        let ext = f.ext();
        r = r
            .route(
                &format!("/open311/v2/discovery.{ext}"),
                only(get(move |s, q, h| discovery(s, q, h, f)), f),
            )
            .route(
                &format!("/open311/v2/services.{ext}"),
                only(get(move |s, q| services(s, q, f)), f),
            )
            .route(
                &format!("/open311/v2/requests.{ext}"),
                only(
                    get(move |s, q| list_requests(s, q, f))
                        .post(move |s, q, h, b| post_request(s, q, h, b, f)),
                    f,
                ),
            );
    }
    r.route(
        "/open311/v2/services/{file}",
        get(service_definition).fallback(not_allowed_any),
    )
    .route(
        "/open311/v2/requests/{file}",
        get(one_request).fallback(not_allowed_any),
    )
    .route(
        "/open311/v2/tokens/{file}",
        get(token).fallback(not_allowed_any),
    )
    .route("/open311/v2/{*rest}", axum::routing::any(unknown))
}

/// Other methods get the spec's error document rather than a bare 405.
fn only(m: MethodRouter<AppCtx>, f: Format) -> MethodRouter<AppCtx> {
    m.fallback(move || async move { fail(f, Fail::new(405, "该地址不支持此请求方法")) })
}

async fn not_allowed_any(Path(file): Path<String>) -> Response {
    let f = Format::split(&file).map_or(Format::Json, |(_, f)| f);
    fail(f, Fail::new(405, "该地址不支持此请求方法"))
}

async fn unknown(Path(rest): Path<String>) -> Response {
    let f = Format::split(&rest).map_or(Format::Json, |(_, f)| f);
    fail(
        f,
        Fail::not_found("没有这个 Open311 接口；地址须以 .json 或 .xml 结尾"),
    )
}

fn query(raw: Option<String>) -> Result<Params, Fail> {
    Params::parse(raw.as_deref().unwrap_or(""))
}

fn check_jurisdiction(ctx: &AppCtx, p: &Params) -> Result<(), Fail> {
    let city = ctx.config.city.name.trim();
    match p.get("jurisdiction_id") {
        Some(j) if j != city => Err(Fail::not_found(format!(
            "jurisdiction_id“{j}”不存在，本平台的 jurisdiction_id 为“{city}”"
        ))),
        _ => Ok(()),
    }
}

fn svc(ctx: &AppCtx) -> HotlineService {
    crate::http::svc(ctx)
}

/// This endpoint's address: the configured public URL, else the request's Host.
fn base_url(ctx: &AppCtx, h: &HeaderMap) -> String {
    if let Some(u) = ctx
        .config
        .server
        .public_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        return format!("{}/open311/v2", u.trim_end_matches('/'));
    }
    // Only a plain host[:port] is echoed, never arbitrary header text.
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or(ctx.config.server.listen.as_str());
    let https = ctx.config.server.trust_forwarded_proto
        && h.get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    format!(
        "{}://{host}/open311/v2",
        if https { "https" } else { "http" }
    )
}

async fn discovery(
    State(ctx): State<AppCtx>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
    f: Format,
) -> Response {
    let r = (|| {
        check_jurisdiction(&ctx, &query(q)?)?;
        let bureau = &ctx.config.city.bureau;
        Ok(V::Obj(vec![
            ("changeset", s(CHANGESET)),
            (
                "contact",
                s(format!("{bureau}，政务服务便民热线 12345")),
            ),
            (
                "key_service",
                s(format!(
                    "提交诉求须提供 api_key：一网平台的 API 令牌，须具有 hotline:write 权限，请向{bureau}申请；放在表单字段或 X-Api-Key 请求头中，不能放在网址中；查询无需 api_key"
                )),
            ),
            (
                "endpoints",
                V::List(
                    "endpoint",
                    vec![V::Obj(vec![
                        ("specification", s(SPEC)),
                        ("url", s(base_url(&ctx, &h))),
                        ("changeset", s(CHANGESET)),
                        ("type", s("production")),
                        (
                            "formats",
                            V::List(
                                "format",
                                vec![s("application/json"), s("text/xml")],
                            ),
                        ),
                    ])],
                ),
            ),
        ]))
    })();
    public(answer(f, "discovery", r))
}

fn service_v(c: &Category, cats: &[Category]) -> V {
    V::Obj(vec![
        ("service_code", s(c.id.to_string())),
        ("service_name", s(c.name.clone())),
        ("description", s(c.path.clone())),
        ("metadata", V::Bool(!c.questions.is_empty())),
        ("type", s("realtime")),
        (
            "keywords",
            s(c.path.split('/').collect::<Vec<_>>().join(", ")),
        ),
        ("group", s(root_name(c, cats))),
    ])
}

fn attribute_v(i: usize, q: &Question) -> V {
    let (dt, dd) = datatype(q.kind);
    let mut fields = vec![
        ("variable", V::Bool(true)),
        ("code", s(q.code.clone())),
        ("datatype", s(dt)),
        ("required", V::Bool(q.required)),
        ("datatype_description", opt(dd.map(str::to_owned))),
        ("order", V::Int(i as i64 + 1)),
        ("description", s(q.label.clone())),
    ];
    if matches!(q.kind, QuestionKind::Single | QuestionKind::Multiple) {
        // The option text is the key: it is what the ticket's answer holds.
        let values = q
            .options
            .iter()
            .map(|o| V::Obj(vec![("key", s(o.clone())), ("name", s(o.clone()))]))
            .collect();
        fields.push(("values", V::List("value", values)));
    }
    V::Obj(fields)
}

async fn services(State(ctx): State<AppCtx>, RawQuery(q): RawQuery, f: Format) -> Response {
    let r = async {
        check_jurisdiction(&ctx, &query(q)?)?;
        let cats = svc(&ctx).categories().await?;
        Ok(V::List(
            "service",
            leaves(&cats)
                .into_iter()
                .map(|c| service_v(c, &cats))
                .collect(),
        ))
    }
    .await;
    public(answer(f, "services", r))
}

/// The leaf category a service code names, or 404.
async fn service_of(ctx: &AppCtx, code: &str) -> Result<Category, Fail> {
    let missing = || Fail::not_found(format!("service_code“{code}”不存在"));
    let id: i64 = code.trim().parse().map_err(|_| missing())?;
    let cats = svc(ctx).categories().await?;
    leaves(&cats)
        .into_iter()
        .find(|c| c.id == id)
        .cloned()
        .ok_or_else(missing)
}

async fn service_definition(
    State(ctx): State<AppCtx>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((code, f)) = Format::split(&file) else {
        return unknown(Path(file)).await;
    };
    let r = async {
        check_jurisdiction(&ctx, &query(q)?)?;
        let c = service_of(&ctx, code).await?;
        Ok(V::Obj(vec![
            ("service_code", s(c.id.to_string())),
            (
                "attributes",
                V::List(
                    "attribute",
                    c.questions
                        .iter()
                        .enumerate()
                        .map(|(i, q)| attribute_v(i, q))
                        .collect(),
                ),
            ),
        ]))
    }
    .await;
    public(answer(f, "service_definition", r))
}

async fn post_request(
    State(ctx): State<AppCtx>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    f: Format,
) -> Response {
    let r = create(&ctx, q, &h, body).await;
    answer(f, "service_requests", r)
}

async fn create(
    ctx: &AppCtx,
    q: Option<String>,
    h: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<V, Fail> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Fail::new(413, "请求内容超过服务器允许的大小")
        } else {
            Fail::bad("无法读取请求内容")
        }
    })?;
    let ct = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !body.is_empty() && !ct.is_empty() && !ct.starts_with("application/x-www-form-urlencoded") {
        return Err(Fail::bad(
            "请以 application/x-www-form-urlencoded 格式提交（Open311 GeoReport v2）",
        ));
    }
    let mut p = query(q)?;
    // A key in the address ends up in proxy and server logs and browser histories.
    if p.get("api_key").is_some() {
        return Err(Fail::bad(
            "api_key 不能放在网址中：请放在请求内容（表单字段）或 X-Api-Key 请求头中",
        ));
    }
    let text = std::str::from_utf8(&body).map_err(|_| Fail::bad("请求内容须为 UTF-8 编码"))?;
    p.extend(Params::parse(text)?);

    // Who: the key first, so nothing is said about the input to a caller without one.
    let header_key = h
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty());
    let key = p
        .get("api_key")
        .or(header_key)
        .ok_or_else(|| Fail::forbidden("缺少 api_key：提交诉求须提供一网平台的 API 令牌"))?;
    let org = org::OrgService::new(ctx.db.clone(), ctx.config.auth.clone());
    let actor: Actor = org
        .resolve_token(key)
        .await?
        .ok_or_else(|| Fail::forbidden("api_key 无效、已过期或已被吊销"))?;
    actor.require_scope("hotline:write")?;
    check_jurisdiction(ctx, &p)?;

    let code = p
        .get("service_code")
        .ok_or_else(|| Fail::bad("缺少 service_code：请先从 services 列表中选择服务"))?;
    let cat = service_of(ctx, code).await?;
    let input = new_ticket(&p, &cat)?;
    let wants_reply = input.wants_reply;
    let t = svc(ctx).create(&actor, input).await?.ticket;
    let mut notice = format!(
        "诉求已提交，工单编号 {}。话务员受理后将派至承办单位办理",
        t.number
    );
    if wants_reply {
        notice.push_str("，办理结果将通过您留下的电话答复。");
    } else if p.get("email").is_some() {
        notice.push_str("。本热线通过电话答复，未保存电子邮箱；请凭工单编号查询进度。");
    } else {
        notice.push_str("；请凭工单编号查询进度。");
    }
    Ok(V::List(
        "request",
        vec![V::Obj(vec![
            ("service_request_id", s(t.number)),
            ("service_notice", s(notice)),
            ("account_id", V::Null),
        ])],
    ))
}

/// Names and notices looked up once per answer.
struct Lookup {
    cats: HashMap<i64, Category>,
    depts: HashMap<i64, Option<String>>,
    notices: HashMap<(TicketKind, Urgency), String>,
}

impl Lookup {
    async fn new(ctx: &AppCtx) -> Result<Lookup, Fail> {
        let cats = svc(ctx).categories().await?;
        Ok(Lookup {
            cats: cats.into_iter().map(|c| (c.id, c)).collect(),
            depts: HashMap::new(),
            notices: HashMap::new(),
        })
    }

    async fn dept(&mut self, ctx: &AppCtx, id: i64) -> Option<String> {
        if let Some(name) = self.depts.get(&id) {
            return name.clone();
        }
        // Department names are public; the system actor only reads them.
        let org = org::OrgService::new(ctx.db.clone(), ctx.config.auth.clone());
        let name = org
            .department(&Actor::system(), id)
            .await
            .ok()
            .map(|d| d.name);
        self.depts.insert(id, name.clone());
        name
    }

    async fn notice(&mut self, ctx: &AppCtx, t: &Ticket) -> Result<String, Fail> {
        let k = (t.kind, t.urgency);
        if let Some(n) = self.notices.get(&k) {
            return Ok(n.clone());
        }
        let p = svc(ctx).policy(t.kind, t.urgency).await?;
        let n = format!(
            "{}诉求：承办单位须在派单后 {} 个工作日内答复",
            t.kind.label(),
            p.reply_days
        );
        self.notices.insert(k, n.clone());
        Ok(n)
    }
}

fn round3(x: Option<f64>) -> V {
    x.map_or(V::Null, |x| V::Num((x * 1000.0).round() / 1000.0))
}

async fn request_v(ctx: &AppCtx, t: &Ticket, l: &mut Lookup) -> Result<V, Fail> {
    let rfc = kernel::clock::rfc3339;
    let service_name = t
        .category_id
        .and_then(|c| l.cats.get(&c))
        .map(|c| c.name.clone());
    let (description, media) = description_and_media(t);
    let status_notes = match t.reply.as_deref().filter(|r| !r.trim().is_empty()) {
        Some(r) => scrub(r, &t.caller),
        None => t.status.label().to_owned(),
    };
    let agency = match t.main_dept_id {
        Some(d) => l.dept(ctx, d).await,
        None => None,
    };
    Ok(V::Obj(vec![
        ("service_request_id", s(t.number.clone())),
        (
            "status",
            s(if t.status.is_open() { "open" } else { "closed" }),
        ),
        ("status_notes", s(status_notes)),
        ("service_name", opt(service_name)),
        ("service_code", opt(t.category_id.map(|c| c.to_string()))),
        (
            "description",
            opt(description.map(|d| scrub(&d, &t.caller))),
        ),
        ("agency_responsible", opt(agency)),
        ("service_notice", s(l.notice(ctx, t).await?)),
        ("requested_datetime", s(rfc(t.created_at))),
        ("updated_datetime", s(rfc(t.updated_at))),
        ("expected_datetime", opt(t.reply_due.map(rfc))),
        (
            "address",
            opt(t.location.address.as_deref().map(mask::address)),
        ),
        ("address_id", opt(t.location.region_code.clone())),
        ("zipcode", V::Null),
        ("lat", round3(t.location.lat)),
        ("long", round3(t.location.lng)),
        ("media_url", opt(media)),
    ]))
}

async fn requests_v(ctx: &AppCtx, tickets: &[Ticket]) -> Result<V, Fail> {
    let mut l = Lookup::new(ctx).await?;
    let mut items = Vec::with_capacity(tickets.len());
    for t in tickets {
        items.push(request_v(ctx, t, &mut l).await?);
    }
    Ok(V::List("request", items))
}

async fn list_requests(State(ctx): State<AppCtx>, RawQuery(q): RawQuery, f: Format) -> Response {
    let r = async {
        let p = query(q)?;
        check_jurisdiction(&ctx, &p)?;
        let numbers: Vec<String> = p.list("service_request_id");
        let mut oq = Open311Query {
            limit: MAX_REQUESTS,
            ..Default::default()
        };
        if numbers.is_empty() {
            for c in p.list("service_code") {
                oq.category_ids
                    .push(c.parse().map_err(|_| {
                        Fail::bad(format!("service_code：“{c}”不是有效的服务代码"))
                    })?);
            }
            let mut open = false;
            let mut closed = false;
            for st in p.list("status") {
                match st.to_ascii_lowercase().as_str() {
                    "open" => open = true,
                    "closed" => closed = true,
                    _ => {
                        return Err(Fail::bad(format!(
                            "status：“{st}”无效，只能是 open 或 closed"
                        )))
                    }
                }
            }
            oq.open = (open != closed).then_some(open);
            oq.window = Some(window(&p, ctx.db.now())?);
        } else {
            oq.numbers = numbers.into_iter().take(MAX_REQUESTS as usize).collect();
        }
        let tickets = svc(&ctx).open311_tickets(&oq).await?;
        requests_v(&ctx, &tickets).await
    }
    .await;
    public(answer(f, "service_requests", r))
}

async fn ticket_by_number(ctx: &AppCtx, number: &str) -> Result<Ticket, Fail> {
    let q = Open311Query {
        numbers: vec![number.trim().to_owned()],
        limit: 1,
        ..Default::default()
    };
    svc(ctx)
        .open311_tickets(&q)
        .await?
        .pop()
        .ok_or_else(|| Fail::not_found(format!("service_request_id“{number}”不存在")))
}

async fn one_request(
    State(ctx): State<AppCtx>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((id, f)) = Format::split(&file) else {
        return unknown(Path(file)).await;
    };
    let r = async {
        check_jurisdiction(&ctx, &query(q)?)?;
        let t = ticket_by_number(&ctx, id).await?;
        requests_v(&ctx, std::slice::from_ref(&t)).await
    }
    .await;
    public(answer(f, "service_requests", r))
}

/// The token flow: requests are created at once, so the token is the request id.
async fn token(
    State(ctx): State<AppCtx>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((tok, f)) = Format::split(&file) else {
        return unknown(Path(file)).await;
    };
    let r = async {
        check_jurisdiction(&ctx, &query(q)?)?;
        let t = ticket_by_number(&ctx, tok)
            .await
            .map_err(|_| Fail::not_found(format!("token“{tok}”不存在")))?;
        Ok(V::List(
            "request",
            vec![V::Obj(vec![
                ("service_request_id", s(t.number.clone())),
                ("token", s(t.number)),
            ])],
        ))
    }
    .await;
    public(answer(f, "service_requests", r))
}
