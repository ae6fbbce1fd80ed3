//! 市民端: the public portal. A citizen leaves a request (留言) and gets its number, tracks it by
//! number and phone, rates the reply once, and reads the public board of replied requests with
//! personal data masked. No login: abuse is held off by a size limit on every field, a honeypot
//! field that people never see, and a per-address rate limit on every form.

use super::{cut, minute, RateLimiter};
use crate::domain::*;
use crate::http::svc;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use kernel::auth::Via;
use kernel::error::Checks;
use kernel::page::PageQuery;
use kernel::{Actor, Error, FieldError, Role, Scope};
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use webcore::extract::ClientIp;
use webcore::layout::{error_summary, field_error, notice, pager, public_page_nav, text_field};
use webcore::{AppCtx, FormData};

const LINKS: &[(&str, &str)] = &[
    ("首页", "/portal"),
    ("我要留言", "/portal/new"),
    ("办理查询", "/portal/track"),
    ("答复公开", "/portal/replies"),
];

/// Kinds a citizen may pick, in the order of the form.
const KINDS: [TicketKind; 6] = [
    TicketKind::Consult,
    TicketKind::Help,
    TicketKind::Complaint,
    TicketKind::Report,
    TicketKind::Suggestion,
    TicketKind::Praise,
];

#[derive(Clone)]
struct Limits {
    /// Leaving requests: 10 submissions per address in 10 minutes.
    submit: Arc<RateLimiter>,
}

pub fn routes() -> Router<AppCtx> {
    let limits = Limits {
        submit: RateLimiter::new(10, Duration::from_secs(600)),
    };
    Router::new()
        .route("/portal", get(home))
        .route("/portal/new", get(new_form).post(new_submit))
        .route("/portal/submitted", get(submitted))
        .route("/portal/track", get(track_form).post(track_submit))
        .route("/portal/rate", axum::routing::post(rate_submit))
        .route("/portal/replies", get(replies))
        .layer(Extension(limits))
}

fn shell(ctx: &AppCtx, title: &str, current: &str, content: Markup) -> Markup {
    let bureau = format!("{} 12345 市民服务", ctx.config.city.name);
    public_page_nav(&bureau, title, LINKS, current, content)
}

fn limited(ctx: &AppCtx, wait: u64) -> Response {
    let body = shell(
        ctx,
        "操作过于频繁",
        "",
        html! {
            h1 { "操作过于频繁" }
            div.alert role="alert" { "您提交得太频繁了，请 " (wait.div_ceil(60)) " 分钟后再试。紧急情况请直接拨打 12345。" }
        },
    );
    let mut r = (StatusCode::TOO_MANY_REQUESTS, body).into_response();
    if let Ok(v) = wait.to_string().parse() {
        r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
    }
    r
}

/// Department names are public; the system actor only reads them.
async fn dept_name(ctx: &AppCtx, id: Option<i64>) -> Option<String> {
    let org = org::OrgService::new(ctx.db.clone(), ctx.config.auth.clone());
    org.department(&Actor::system(), id?)
        .await
        .ok()
        .map(|d| d.name)
}

async fn home(State(ctx): State<AppCtx>) -> Result<Markup, webcore::PageError> {
    let recent = svc(&ctx)
        .public_replies(
            None,
            &PageQuery {
                page: Some(1),
                per_page: Some(5),
            },
        )
        .await?;
    Ok(shell(
        &ctx,
        "12345 市民服务",
        "/portal",
        html! {
            h1 { (ctx.config.city.name) " 12345 政务服务便民热线 · 网上留言" }
            p { "有困难、有意见、有建议，都可以在这里留言。留言由 12345 话务员受理后派至承办单位办理，办理结果会按您留下的电话答复。" }
            div.grid {
                a.card href="/portal/new" style="text-decoration:none;color:inherit" {
                    div style="font-size:1.15em;font-weight:600" { "我要留言" }
                    div.muted { "反映问题、咨询政策、提出建议" }
                }
                a.card href="/portal/track" style="text-decoration:none;color:inherit" {
                    div style="font-size:1.15em;font-weight:600" { "办理查询" }
                    div.muted { "凭工单编号和手机号查询进度、评价答复" }
                }
                a.card href="/portal/replies" style="text-decoration:none;color:inherit" {
                    div style="font-size:1.15em;font-weight:600" { "答复公开" }
                    div.muted { "已答复的留言（个人信息已隐去）" }
                }
            }
            h2 { "最新答复" }
            @if recent.items.is_empty() { p.muted { "暂无公开的答复。" } }
            @for t in &recent.items { (reply_item(&ctx, t, true).await) }
            p.muted { "紧急情况请拨打 110、119、120；12345 热线 24 小时服务。" }
        },
    ))
}

// ---- leaving a request ----

/// What the form sent, to show back after an error.
#[derive(Default)]
struct Draft {
    v: HashMap<String, String>,
}

impl Draft {
    fn get(&self, k: &str) -> &str {
        self.v.get(k).map(String::as_str).unwrap_or("")
    }
}

/// Regions in tree order: (code, name, depth 0–2, "A1区 · 青河街道 · 东河社区").
async fn region_options(ctx: &AppCtx) -> Vec<(String, String, usize, String)> {
    let org = org::OrgService::new(ctx.db.clone(), ctx.config.auth.clone());
    let mut regions = org
        .regions(&Actor::system(), None, None)
        .await
        .unwrap_or_default();
    regions.sort_by(|a, b| a.code.cmp(&b.code));
    regions
        .into_iter()
        .filter(|r| {
            matches!(
                r.level,
                kernel::codes::RegionLevel::County
                    | kernel::codes::RegionLevel::Town
                    | kernel::codes::RegionLevel::Village
            )
        })
        .map(|r| {
            let depth = match r.level {
                kernel::codes::RegionLevel::County => 0,
                kernel::codes::RegionLevel::Town => 1,
                _ => 2,
            };
            (r.code, r.name, depth)
        })
        .scan(Vec::<String>::new(), |path, (code, name, depth)| {
            path.truncate(depth);
            path.push(name.clone());
            Some((code, name, depth, path.join(" · ")))
        })
        .collect()
}

async fn form_page(ctx: &AppCtx, d: &Draft, errors: &[FieldError]) -> Result<Markup, Error> {
    let cats: Vec<Category> = svc(ctx)
        .categories()
        .await?
        .into_iter()
        .filter(|c| c.active)
        .collect();
    let regions = region_options(ctx).await;
    let invalid = |n: &str| errors.iter().any(|e| e.field == n).then_some("true");
    let wants_reply = d.v.is_empty() || !d.get("wants_reply").is_empty();
    Ok(shell(
        ctx,
        "我要留言",
        "/portal/new",
        html! {
            h1 { "我要留言" }
            (error_summary(errors))
            p.muted { "带 * 的为必填项。请如实填写，一次留言只反映一件事。" }
            form method="post" action="/portal/new" novalidate {
                div.field {
                    label for="kind" { "留言类型 *" }
                    select #kind name="kind" aria-invalid=[invalid("kind")] {
                        @for k in KINDS {
                            option value=(k.code()) selected[d.get("kind") == k.code()] { (k.label()) }
                        }
                    }
                    (field_error(errors, "kind"))
                }
                div.field {
                    label for="category_id" { "问题分类" }
                    select #category_id name="category_id" aria-invalid=[invalid("category_id")] {
                        option value="" { "不确定（由话务员分类）" }
                        @for c in &cats {
                            option value=(c.id) selected[d.get("category_id") == c.id.to_string()] {
                                ("　".repeat((c.level - 1).max(0) as usize)) (c.name)
                            }
                        }
                    }
                    (field_error(errors, "category_id"))
                }
                div.field {
                    label for="region_code" { "问题发生地（区、街道、社区）" }
                    select #region_code name="region_code" data-region-picker="1" aria-invalid=[invalid("region_code")] aria-describedby="region-hint" {
                        option value="" { "请选择" }
                        @for (code, name, depth, path) in &regions {
                            option value=(code) data-depth=(depth) data-name=(name) data-path=(path) selected[d.get("region_code") == code.as_str()] {
                                ("　".repeat(*depth)) (name)
                            }
                        }
                    }
                    span.muted #region-hint { "尽量选到社区，可更快派到负责的单位。" }
                    (field_error(errors, "region_code"))
                }
                (text_field("详细地址", "address", d.get("address"), errors, r#"maxlength="300" autocomplete="street-address""#))
                (text_field("标题 *", "title", d.get("title"), errors, r#"maxlength="200" required"#))
                div.field {
                    label for="content" { "留言内容 *" }
                    textarea #content name="content" maxlength="4000" required aria-invalid=[invalid("content")] aria-describedby="content-hint" { (d.get("content")) }
                    span.muted #content-hint { "请写清时间、地点、经过和您的诉求，不超过 4000 字。" }
                    (field_error(errors, "content"))
                }
                (text_field("姓名", "caller_name", d.get("caller_name"), errors, r#"maxlength="50" autocomplete="name""#))
                (text_field("手机号 *", "caller_phone", d.get("caller_phone"), errors, r#"inputmode="numeric" maxlength="11" autocomplete="tel" required"#))
                div.field {
                    label { input type="checkbox" name="wants_reply" value="1" checked[wants_reply]; " 需要电话答复" }
                }
                // Hidden from people (and from assistive technology); scripts fill it in.
                div.hp aria-hidden="true" {
                    label for="website" { "请勿填写此项" }
                    input #website name="website" type="text" tabindex="-1" autocomplete="off";
                }
                details.card open {
                    summary { strong { "个人信息保护说明" } }
                    p { "您填写的姓名和手机号仅用于办理和答复本次留言，只有受理、办理和督办的工作人员可见。留言和答复可能在“答复公开”中公布：公布时隐去姓名、电话和证件号，不公布详细地址；举报类留言不公开。请不要在标题和内容中写入他人的个人信息。" }
                }
                div.field {
                    label { input type="checkbox" #privacy name="privacy" value="1" checked[!d.get("privacy").is_empty()] aria-invalid=[invalid("privacy")]; " 我已阅读并同意个人信息保护说明 *" }
                    (field_error(errors, "privacy"))
                }
                button type="submit" { "提交留言" }
            }
        },
    ))
}

async fn new_form(State(ctx): State<AppCtx>) -> Result<Markup, webcore::PageError> {
    Ok(form_page(&ctx, &Draft::default(), &[]).await?)
}

/// The portal's own checks, before the ticket's: a phone that can be called back, consent,
/// nothing in the honeypot.
fn portal_checks(f: &FormData) -> (NewTicket, Vec<FieldError>) {
    let mut c = Checks::new();
    let kind = TicketKind::parse(f.get("kind"));
    c.check(kind.is_some(), "kind", "invalid_enum", "请选择留言类型");
    let category_id = match f.opt("category_id") {
        None => None,
        Some(s) => match s.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                c.add("category_id", "invalid_value", "所选分类不存在");
                None
            }
        },
    };
    let phone = f.get("caller_phone").trim().to_owned();
    if phone.is_empty() {
        c.add(
            "caller_phone",
            "required",
            "请填写手机号，用于答复和查询办理进度",
        );
    } else if let Err(m) = kernel::codes::check_mobile(&phone) {
        c.add("caller_phone", "invalid_phone", m);
    }
    c.check(
        !f.get("privacy").is_empty(),
        "privacy",
        "required",
        "请阅读并同意个人信息保护说明",
    );
    let t = NewTicket {
        channel: Channel::Web,
        kind: kind.unwrap_or(TicketKind::Consult),
        urgency: Urgency::Normal,
        caller_name: f.opt("caller_name"),
        caller_phone: Some(phone).filter(|p| !p.is_empty()),
        wants_reply: !f.get("wants_reply").is_empty(),
        anonymous: false,
        address: f.opt("address"),
        region_code: f.opt("region_code"),
        lng: None,
        lat: None,
        title: f.get("title").to_owned(),
        content: f.get("content").to_owned(),
        category_id,
        answers: Default::default(),
        accept: false,
    };
    let mut errors = match c.finish() {
        Err(Error::Validation(v)) => v,
        _ => vec![],
    };
    if let Err(Error::Validation(v)) = t.validate() {
        for e in v {
            if !errors.iter().any(|x| x.field == e.field) {
                errors.push(e);
            }
        }
    }
    (t, errors)
}

/// The citizen as an actor: no account, seen in the audit chain by masked phone.
fn citizen(phone: &str) -> Actor {
    Actor {
        user_id: None,
        username: format!("citizen:{}", kernel::mask::phone(phone)),
        display_name: "市民（网上留言）".into(),
        dept_id: None,
        region_code: None,
        roles: vec![Role::Citizen],
        scope: Scope::Own,
        token_scopes: None,
        // A person at the portal, recorded under their own name (not as the system).
        via: Via::Session,
    }
}

async fn new_submit(
    State(ctx): State<AppCtx>,
    Extension(limits): Extension<Limits>,
    ClientIp(ip): ClientIp,
    f: FormData,
) -> Result<Response, webcore::PageError> {
    if let Err(wait) = limits.submit.hit(&ip, Instant::now()) {
        return Ok(limited(&ctx, wait));
    }
    let draft = Draft {
        v: f.0
            .iter()
            .filter(|(k, _)| k != "website")
            .map(|(k, v)| (k.clone(), cut(v, 4000)))
            .collect(),
    };
    if !f.get("website").is_empty() {
        // A filled honeypot is a script: refuse without saying which field gave it away.
        let errors = vec![FieldError::new(
            "title",
            "rejected",
            "提交未通过校验，请刷新页面后重新填写",
        )];
        let page = form_page(&ctx, &draft, &errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let (ticket, errors) = portal_checks(&f);
    let errors = if errors.is_empty() {
        let phone = ticket.caller_phone.clone().unwrap_or_default();
        match svc(&ctx).create(&citizen(&phone), ticket).await {
            Ok(v) => {
                let n: String =
                    form_urlencoded::byte_serialize(v.ticket.number.as_bytes()).collect();
                return Ok(Redirect::to(&format!("/portal/submitted?number={n}")).into_response());
            }
            Err(Error::Validation(v)) => v,
            Err(e) => return Err(e.into()),
        }
    } else {
        errors
    };
    let page = form_page(&ctx, &draft, &errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

#[derive(Deserialize)]
struct NumberQuery {
    #[serde(default)]
    number: String,
}

async fn submitted(State(ctx): State<AppCtx>, Query(q): Query<NumberQuery>) -> Response {
    // The number only echoes the redirect; anything that is not a number shape is not shown.
    let ok = !q.number.is_empty()
        && q.number.chars().count() <= 60
        && q.number.chars().all(|c| c.is_alphanumeric() || c == '-');
    if !ok {
        return Redirect::to("/portal/new").into_response();
    }
    shell(
        &ctx,
        "留言已提交",
        "",
        html! {
            h1 { "留言已提交" }
            (notice("我们已收到您的留言，话务员受理后将派至承办单位办理。"))
            div.card {
                p { "您的工单编号：" }
                p.ticket-number #ticket-number { (q.number) }
                p.muted { "请记下工单编号。凭工单编号和留言时的手机号，可随时查询办理进度、评价答复。" }
            }
            p.actions {
                a.button href="/portal/track" { "查询办理进度" }
                a href="/portal" { "返回首页" }
            }
        },
    )
    .into_response()
}

// ---- tracking and rating ----

fn track_form_markup(number: &str, errors: &[FieldError]) -> Markup {
    html! {
        form method="post" action="/portal/track" novalidate {
            (text_field("工单编号", "number", number, errors, r#"required autocomplete="off" maxlength="60""#))
            (text_field("留言时的手机号", "phone", "", errors, r#"required inputmode="numeric" maxlength="11" autocomplete="tel""#))
            button type="submit" { "查询" }
        }
    }
}

async fn track_form(State(ctx): State<AppCtx>) -> Markup {
    shell(
        &ctx,
        "办理查询",
        "/portal/track",
        html! {
            h1 { "办理查询" }
            p { "请输入工单编号和留言（或来电）时留下的手机号。" }
            (track_form_markup("", &[]))
        },
    )
}

/// What a citizen sees of a step: the action in plain words, the department at most.
fn step_text(action: &str, to: &str, dept: Option<&str>) -> Option<String> {
    let dept = dept.unwrap_or("承办单位");
    Some(match action {
        "create" | "import" => "留言已提交".into(),
        "accept" => "12345 已受理".into(),
        "answer_now" => "12345 已直接解答".into(),
        "submit_for_dispatch" => "等待派单".into(),
        "dispatch" => format!("已派至{dept}办理"),
        "acknowledge" => format!("{dept}已签收"),
        "start" => format!("{dept}正在办理"),
        "return" | "recall" => "重新派单中".into(),
        "decide_extension" => "办理期限已调整".into(),
        "pause" => "等待补充材料".into(),
        "resume" => "继续办理".into(),
        "reply" => format!("{dept}已答复"),
        "callback" => "已回访".into(),
        "rate" => "已收到您的评价".into(),
        "reopen" => "重新办理".into(),
        "close" | "close_split" => "已办结".into(),
        "archive" => "已归档".into(),
        "merge" | "follow_parent" => "与相同诉求合并办理".into(),
        // Cards, supervision, extension requests and reclassification are internal.
        "card" | "supervise" | "request_extension" | "reclassify" | "split" => return None,
        _ => Status::parse(to)?.label().to_owned(),
    })
}

struct Tracked {
    view: crate::service::TicketView,
    steps: Vec<(i64, String)>,
    dept: Option<String>,
}

async fn load_tracked(ctx: &AppCtx, number: &str, phone: &str) -> Result<Tracked, Error> {
    let (view, events) = svc(ctx).track(number, phone).await?;
    let mut names: HashMap<i64, Option<String>> = HashMap::new();
    let mut steps = Vec::new();
    for e in &events {
        let d = match e.dept_id {
            Some(id) => match names.get(&id) {
                Some(n) => n.clone(),
                None => {
                    let n = dept_name(ctx, Some(id)).await;
                    names.insert(id, n.clone());
                    n
                }
            },
            None => None,
        };
        if let Some(s) = step_text(&e.action, &e.to_status, d.as_deref()) {
            steps.push((e.at, s));
        }
    }
    let dept = dept_name(ctx, view.ticket.main_dept_id).await;
    Ok(Tracked { view, steps, dept })
}

fn can_rate(t: &Ticket) -> bool {
    t.status == Status::Replied
        || (t.status == Status::Closed
            && matches!(t.satisfaction, None | Some(CallbackResult::Unreached)))
}

fn tracked_markup(tr: &Tracked, phone: &str, errors: &[FieldError], note: &str) -> Markup {
    let t = &tr.view.ticket;
    html! {
        section.card aria-labelledby="tracked-title" {
            h2 #tracked-title { (t.title) }
            p { "工单编号：" span.mono #tracked-number { (t.number) } }
            p { "当前状态：" strong #tracked-status { (tr.view.status_label) } }
            p.muted { "提交时间：" (minute(t.created_at)) }
            @if let Some(d) = &tr.dept { p { "承办单位：" (d) } }
        }
        section aria-labelledby="steps-title" {
            h2 #steps-title { "办理过程" }
            ol.steps {
                @for (at, s) in &tr.steps { li { span.muted { (minute(*at)) } " " (s) } }
            }
        }
        @if let Some(r) = &t.reply {
            section.card aria-labelledby="reply-title" {
                h2 #reply-title { "答复内容" }
                p.pre #reply-text { (r) }
                @if let Some(at) = t.replied_at { p.muted { "答复时间：" (minute(at)) } }
            }
        }
        @if let Some(s) = t.satisfaction.filter(|s| *s != CallbackResult::Unreached) {
            p #my-rating { "评价结果：" strong { (s.label()) } }
        }
        @if can_rate(t) {
            section.card aria-labelledby="rate-title" {
                h2 #rate-title { "评价答复" }
                (error_summary(errors))
                form method="post" action="/portal/rate" novalidate {
                    input type="hidden" name="number" value=(t.number);
                    input type="hidden" name="phone" value=(phone);
                    fieldset.field {
                        legend { "您对答复满意吗？" }
                        div.choice #result {
                            @for r in [CallbackResult::Satisfied, CallbackResult::BasicallySatisfied, CallbackResult::Unsatisfied] {
                                label { input type="radio" name="result" value=(r.code()); " " (r.label()) }
                            }
                        }
                        (field_error(errors, "result"))
                    }
                    div.field {
                        label for="note" { "意见（选填，不超过 500 字）" }
                        textarea #note name="note" maxlength="500" { (note) }
                        (field_error(errors, "note"))
                    }
                    button type="submit" { "提交评价" }
                }
            }
        }
    }
}

/// Tracking is a lookup, not a change: the answer is rendered straight from the POST so the
/// phone number never lands in a URL, a log line or the browser history.
async fn track_submit(
    State(ctx): State<AppCtx>,
    _: webcore::extract::PublicLookup,
    f: FormData,
) -> Result<Response, webcore::PageError> {
    let number = cut(f.get("number").trim(), 60);
    let phone = f.get("phone").trim().to_owned();
    let mut errors = Vec::new();
    if number.is_empty() {
        errors.push(FieldError::new("number", "required", "请填写工单编号"));
    }
    if phone.is_empty() {
        errors.push(FieldError::new("phone", "required", "请填写手机号"));
    }
    let found = if errors.is_empty() {
        match load_tracked(&ctx, &number, &phone).await {
            Ok(t) => Some(t),
            Err(Error::NotFound { detail, .. }) => {
                // One message for a wrong number and a wrong phone: nothing to probe.
                errors.push(FieldError::new("number", "not_found", detail));
                None
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };
    let Some(tr) = found else {
        let page = shell(
            &ctx,
            "办理查询",
            "/portal/track",
            html! {
                h1 { "办理查询" }
                (error_summary(&errors))
                (track_form_markup(&number, &errors))
            },
        );
        let status = if errors.iter().any(|e| e.code == "not_found") {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return Ok((status, page).into_response());
    };
    Ok(shell(
        &ctx,
        "办理查询",
        "/portal/track",
        html! {
            h1 { "办理查询" }
            (tracked_markup(&tr, &phone, &[], ""))
            p { a href="/portal/track" { "查询其他工单" } }
        },
    )
    .into_response())
}

async fn rate_submit(
    State(ctx): State<AppCtx>,
    _: webcore::extract::PublicLookup,
    f: FormData,
) -> Result<Response, webcore::PageError> {
    let number = cut(f.get("number").trim(), 60);
    let phone = f.get("phone").trim().to_owned();
    let note = f.get("note").trim().to_owned();
    let result = CallbackResult::parse(f.get("result")).filter(|r| *r != CallbackResult::Unreached);
    let mut errors = Vec::new();
    if result.is_none() {
        errors.push(FieldError::new(
            "result",
            "required",
            "请选择满意、基本满意或不满意",
        ));
    }
    if note.chars().count() > 500 {
        errors.push(FieldError::new("note", "too_long", "意见不能超过 500 字"));
    }
    let outcome = match result {
        Some(r) if errors.is_empty() => {
            Some(svc(&ctx).rate_by_citizen(&number, &phone, r, &note).await)
        }
        _ => None,
    };
    let message = match outcome {
        Some(Ok(_)) => Some("感谢您的评价！".to_owned()),
        Some(Err(Error::IllegalTransition { detail })) => {
            errors.push(FieldError::new("result", "illegal_transition", detail));
            None
        }
        Some(Err(Error::Validation(v))) => {
            errors.extend(v);
            None
        }
        Some(Err(e)) => return Err(e.into()),
        None => None,
    };
    let tr = load_tracked(&ctx, &number, &phone).await?;
    let status = if message.is_some() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = shell(
        &ctx,
        "办理查询",
        "/portal/track",
        html! {
            h1 { "办理查询" }
            @if let Some(m) = &message { (notice(m)) }
            (tracked_markup(&tr, &phone, &errors, &cut(&note, 500)))
            p { a href="/portal/track" { "查询其他工单" } }
        },
    );
    Ok((status, page).into_response())
}

// ---- the public board ----

async fn reply_item(ctx: &AppCtx, t: &Ticket, short: bool) -> Markup {
    let dept = dept_name(ctx, t.main_dept_id).await;
    let cat = match t.category_id {
        Some(id) => svc(ctx).category(id).await.ok().map(|c| c.path),
        None => None,
    };
    html! {
        article.reply-item {
            h2 { (t.title) }
            p.muted {
                (minute(t.created_at)) " · " (t.kind.label())
                @if let Some(c) = &cat { " · " (c) }
            }
            @if !short { p.pre { (cut(&t.content, 600)) } }
            @if let Some(r) = &t.reply {
                div.reply {
                    strong { (dept.as_deref().unwrap_or("承办单位")) " 答复" }
                    @if let Some(at) = t.replied_at { span.muted { "（" (minute(at)) "）" } }
                    "\n" (if short { cut(r, 120) } else { r.clone() })
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct BoardQuery {
    #[serde(default)]
    q: String,
    page: Option<String>,
}

async fn replies(
    State(ctx): State<AppCtx>,
    Query(bq): Query<BoardQuery>,
) -> Result<Markup, webcore::PageError> {
    let q = cut(bq.q.trim(), 50);
    let page = PageQuery {
        page: bq.page.as_deref().and_then(|p| p.parse().ok()),
        per_page: Some(10),
    };
    let list = svc(&ctx)
        .public_replies(Some(q.as_str()).filter(|s| !s.is_empty()), &page)
        .await?;
    let mut items = Vec::new();
    for t in &list.items {
        items.push(reply_item(&ctx, t, false).await);
    }
    let base = if q.is_empty() {
        "/portal/replies".to_owned()
    } else {
        format!(
            "/portal/replies?q={}",
            form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        )
    };
    Ok(shell(
        &ctx,
        "答复公开",
        "/portal/replies",
        html! {
            h1 { "答复公开" }
            p.muted { "已答复的留言，个人信息已隐去。" }
            form.filters method="get" action="/portal/replies" role="search" {
                div.field {
                    label for="q" { "搜索留言" }
                    input #q type="search" name="q" value=(q) maxlength="50" placeholder="如：噪音、物业、公交";
                }
                button type="submit" { "搜索" }
            }
            @if list.items.is_empty() { p { "没有找到相关的答复。" } }
            div #replies { @for m in items { (m) } }
            (pager(&base, list.page, list.pages(), list.total))
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormData {
        FormData::of(pairs)
    }

    #[test]
    fn portal_checks_name_every_bad_field_in_chinese() {
        let (_, errors) = portal_checks(&form(&[("kind", "nonsense"), ("caller_phone", "123")]));
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for f in ["kind", "caller_phone", "privacy", "title", "content"] {
            assert!(fields.contains(&f), "{f} missing in {fields:?}");
        }
        assert!(errors.iter().all(|e| !e.detail.is_ascii()));
    }

    #[test]
    fn a_good_form_makes_a_web_ticket_waiting_for_acceptance() {
        let (t, errors) = portal_checks(&form(&[
            ("kind", "complaint"),
            ("title", "夜间施工噪音"),
            ("content", "每晚十一点后仍在施工。"),
            ("caller_phone", "13912345678"),
            ("wants_reply", "1"),
            ("privacy", "1"),
        ]));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(t.channel, Channel::Web);
        assert_eq!(t.kind, TicketKind::Complaint);
        assert!(!t.accept && t.wants_reply);
    }

    #[test]
    fn internal_steps_are_not_shown_to_citizens() {
        assert_eq!(step_text("supervise", "in_progress", None), None);
        assert_eq!(step_text("card", "dispatched", None), None);
        assert_eq!(
            step_text("dispatch", "dispatched", Some("A市住建局")).as_deref(),
            Some("已派至A市住建局办理")
        );
    }
}
