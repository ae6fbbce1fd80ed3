//! Server-rendered pages: the public 办事指南 (searchable in Chinese), tracking and rating,
//! 办不成事反映; the citizen's online application and own cases; the clerk's 综合窗口 intake
//! and 出件; the department's case inbox with its actions; rectification reply and review.
//! Forms post back and redirect; no JavaScript needed.

use crate::domain::*;
use crate::service::{
    CaseQuery, NewBundleCase, NewCase, RectificationReply, RectificationReview, ServicesService,
    Tracking,
};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use kernel::clock::format_minute;
use kernel::error::{Error, FieldError};
use kernel::page::PageQuery;
use kernel::Role;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use webcore::layout::{
    alert, csrf_input, error_summary, field_error, notice, page, public_page, text_field,
};
use webcore::{AppCtx, FormData, PageCtx, PageError, Path, Query};

type PageResult = Result<Response, PageError>;

pub(crate) fn svc(ctx: &AppCtx) -> ServicesService {
    ServicesService::new(ctx.db.clone())
}

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/guide", get(guide))
        .route("/guide/items/{id}", get(guide_item))
        .route("/guide/bundles/{id}", get(guide_bundle))
        .route("/guide/track", get(track_form).post(track_post))
        .route("/guide/feedback", get(feedback_form).post(feedback_post))
        .route(
            "/services/apply/bundle/{id}",
            get(apply_form).post(apply_post),
        )
        .route("/services/mine", get(mine))
        .route("/services/mine/{number}", get(mine_one))
        .route("/services/mine/{number}/evaluate", post(mine_evaluate))
        .route("/services/desk", get(desk).post(desk_post))
        .route("/services/desk/deliver", post(desk_deliver))
        .route("/services/inbox", get(inbox))
        .route("/services/cases/{id}", get(case_page))
        .route("/services/cases/{id}/act", post(case_act))
        .route("/services/rectifications", get(rect_page))
        .route("/services/rectifications/{id}", post(rect_post))
}

fn bureau(ctx: &AppCtx) -> String {
    ctx.config.city.bureau.clone()
}

/// A refused form's errors, one per field (or one for the whole form).
pub(crate) fn errors_of(e: &Error) -> Vec<FieldError> {
    if e.field_errors().is_empty() {
        vec![FieldError::new(
            e.field_name().unwrap_or("form"),
            e.code(),
            e.detail(),
        )]
    } else {
        e.field_errors().to_vec()
    }
}

pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Percent-encodes a query value.
pub(crate) fn esc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

// ---- public 办事指南 ----

#[derive(Deserialize)]
struct GuideQuery {
    #[serde(default)]
    q: String,
}

async fn guide(State(ctx): State<AppCtx>, Query(q): Query<GuideQuery>) -> PageResult {
    let s = svc(&ctx);
    let items = s.search_items(&q.q).await?;
    let bundles = s.bundles().await?;
    let body = html! {
        h1 { "办事指南" }
        form.search method="get" action="/guide" role="search" {
            label for="q" { "搜索事项" }
            input #q name="q" value=(q.q) placeholder="如：健康证、摆摊、营业执照";
            button type="submit" { "搜索" }
        }
        @if q.q.trim().is_empty() {
            h2 { "一件事一次办" }
            ul.cards {
                @for b in &bundles {
                    li { a href=(format!("/guide/bundles/{}", b.id)) { (b.content.name) } " — " (b.content.description) }
                }
            }
        }
        h2 { "事项（" (items.len()) "）" }
        @if items.is_empty() { p { "没有找到相关事项，可换个说法再试，或" a href="/guide/feedback" { "反映办不成的事" } "。" } }
        table {
            thead { tr { th { "事项名称" } th { "类型" } th { "办件类型" } th { "承诺时限" } th { "办理深度" } } }
            tbody {
                @for i in &items {
                    tr {
                        td { a href=(format!("/guide/items/{}", i.id)) { (i.content.name) } }
                        td { (i.content.item_type.label()) }
                        td { (i.content.handling.label()) }
                        td { (i.content.promised_days) " " (i.content.time_unit.label()) }
                        td { (i.content.depth.label()) }
                    }
                }
            }
        }
        p { a href="/guide/track" { "办件查询与评价" } " · " a href="/guide/feedback" { "办不成事反映" } }
    };
    Ok(public_page(&bureau(&ctx), "办事指南", body).into_response())
}

fn materials_table(ms: &[Material]) -> Markup {
    html! {
        table {
            thead { tr { th { "材料名称" } th { "形式" } th { "份数" } th { "必要性" } th { "免提交" } } }
            tbody {
                @for m in ms {
                    tr {
                        td { (m.name) }
                        td { (m.form.label()) }
                        td { (m.copies) }
                        td { @if m.required { "必需" } @else { "容缺/视情形：" (m.condition.clone().unwrap_or_default()) } }
                        td {
                            @if let Some(l) = &m.from_license { "可调取电子证照：" (l) }
                            @else if m.from_shared_data { "共享数据调取" }
                            @else { "—" }
                        }
                    }
                }
            }
        }
    }
}

async fn guide_item(State(ctx): State<AppCtx>, Path(id): Path<i64>) -> PageResult {
    let i = svc(&ctx).published_item(id).await?;
    let c = &i.content;
    let body = html! {
        p { a href="/guide" { "← 办事指南" } }
        h1 { (c.name) }
        dl.facts {
            dt { "基本编码" } dd { (c.basic_code) }
            dt { "实施编码" } dd { (c.impl_code) }
            dt { "事项类型" } dd { (c.item_type.label()) }
            dt { "行使层级" } dd { (c.level.label()) }
            dt { "审批方式" } dd { (c.mode.label()) }
            dt { "办件类型" } dd { (c.handling.label()) }
            dt { "法定时限" } dd { (c.legal_days) " " (c.time_unit.label()) }
            dt { "承诺时限" } dd { (c.promised_days) " " (c.time_unit.label()) }
            dt { "办理深度" } dd { (c.depth.label()) }
            dt { "收费" } dd { @if c.fees.is_empty() { "不收费" } @else { (c.fees) } }
            dt { "出件方式" } dd { (c.delivery.iter().map(|d| d.label()).collect::<Vec<_>>().join("、")) }
            dt { "办理窗口" } dd { (c.windows) }
            dt { "办理时间" } dd { (c.hours) }
            dt { "设定依据" } dd { (c.legal_basis) }
            dt { "受理条件" } dd { (c.conditions) }
            dt { "版本" } dd { "第 " (i.version) " 版" }
        }
        h2 { "申请材料" }
        (materials_table(&c.materials))
        @for s in &c.scenarios {
            h3 { "情形：" (s.name) }
            p {
                @if !s.waived.is_empty() { "无需提交：" (s.waived.iter().map(|k| c.materials.iter().find(|m| &m.key == k).map_or(k.as_str(), |m| m.name.as_str())).collect::<Vec<_>>().join("、")) "。" }
                @if !s.extra_materials.is_empty() { "另需：" (s.extra_materials.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join("、")) "。" }
            }
        }
        @if !c.special_procedures.is_empty() {
            h2 { "特别程序（不计入承诺时限）" }
            ul { @for p in &c.special_procedures { li { (p.name) "：" (p.days) " 天" } } }
        }
        @if c.auto_rule.is_some() { p.notice { "本事项支持秒批：材料齐全且符合条件的，提交后系统自动办结。" } }
    };
    Ok(public_page(&bureau(&ctx), &c.name, body).into_response())
}

async fn guide_bundle(State(ctx): State<AppCtx>, Path(id): Path<i64>) -> PageResult {
    let v = svc(&ctx).bundle(id).await?;
    let s = &v.merged.savings;
    let body = html! {
        p { a href="/guide" { "← 办事指南" } }
        h1 { (v.bundle.content.name) }
        p { (v.bundle.content.description) }
        h2 { "包含事项（" (v.bundle.content.order.label()) "）" }
        ol { @for i in &v.items { li { a href=(format!("/guide/items/{}", i.id)) { (i.content.name) } } } }
        h2 { "一次办省了什么" }
        table #savings {
            thead { tr { th { "" } th { "分别办理" } th { "一件事办理" } } }
            tbody {
                tr { td { "提交材料" } td { (s.materials_separately) " 份" } td { (s.materials_bundled) " 份" } }
                tr { td { "填写字段" } td { (s.fields_separately) " 项" } td { (s.fields_bundled) " 项" } }
                tr { td { "申请次数" } td { (s.steps_separately) " 次" } td { (s.steps_bundled) " 次" } }
                tr { td { "跑动次数" } td { (s.visits_separately) " 次" } td { (s.visits_bundled) " 次" } }
                tr { td { "承诺时限" } td { (s.days_separately) " 个工作日" } td { (s.days_bundled) " 个工作日" } }
            }
        }
        h2 { "一次提交的材料" }
        (materials_table(&v.merged.materials))
        p { a.button #apply href=(format!("/services/apply/bundle/{id}")) { "在线申请（需登录）" } }
    };
    Ok(public_page(&bureau(&ctx), &v.bundle.content.name, body).into_response())
}

/// What the citizen may withdraw on their own page, and the errors of a withdrawal that came
/// back (case id, errors).
#[derive(Default)]
struct Withdrawals<'a> {
    cases: Vec<i64>,
    failed: Option<(i64, &'a [FieldError])>,
}

fn tracking_view(
    t: &Tracking,
    evaluate_action: &str,
    csrf: Option<&str>,
    phone: Option<&str>,
    withdraw: &Withdrawals,
) -> Markup {
    html! {
        h2 { (t.title) }
        p #status { "编号 " strong { (t.number) } "，当前状态：" strong { (t.status_label) } }
        @if t.cases.len() > 1 {
            table {
                thead { tr { th { "事项" } th { "办件编号" } th { "状态" } th { "承诺办结" } } }
                tbody { @for c in &t.cases { tr { td { (c.case.item_name) } td { (c.case.number) } td { (c.status_label) } td { (c.case.due_at.map(format_minute).unwrap_or_else(|| "—".into())) } } } }
            }
        }
        @for c in &t.cases {
            @if let Some(s) = &c.case.supplement { @if c.case.status == CaseStatus::Supplement {
                div.alert role="alert" {
                    p { (c.case.item_name) " 需要补正：" (s.materials.iter().map(|k| c.case.materials.iter().find(|m| &m.key == k).map_or(k.clone(), |m| m.name.clone())).collect::<Vec<_>>().join("、")) "。" (s.note) }
                    @if let Some(tok) = csrf {
                        form method="post" action=(format!("/services/cases/{}/act", c.case.id)) {
                            input type="hidden" name="_csrf" value=(tok);
                            input type="hidden" name="action" value="supply";
                            input type="hidden" name="next" value=(format!("/services/mine/{}", t.number));
                            @for k in &s.materials {
                                label { input type="checkbox" name="materials" value=(k) checked; " 已上传：" (c.case.materials.iter().find(|m| &m.key == k).map_or(k.as_str(), |m| m.name.as_str())) }
                            }
                            button.supply type="submit" { "提交补正材料" }
                        }
                    }
                }
            } }
            @if let (Some(tok), true) = (csrf, withdraw.cases.contains(&c.case.id)) {
                @let rid = format!("withdraw-reason-{}", c.case.id);
                @let errs: &[FieldError] = match withdraw.failed { Some((id, e)) if id == c.case.id => e, _ => &[] };
                form.withdraw id=(format!("withdraw-{}", c.case.id)) method="post" action=(format!("/services/cases/{}/act", c.case.id)) {
                    input type="hidden" name="_csrf" value=(tok);
                    input type="hidden" name="action" value="withdraw";
                    input type="hidden" name="next" value=(format!("/services/mine/{}", t.number));
                    div.field {
                        label for=(rid) { "撤回“" (c.case.item_name) "”的理由" }
                        input id=(rid) name="reason" maxlength="1000"
                            aria-invalid=[(!errs.is_empty()).then_some("true")]
                            aria-describedby=[(!errs.is_empty()).then_some("reason-error")];
                        (field_error(errs, "reason"))
                    }
                    button.danger type="submit" { "撤回申请" }
                }
            }
            @if let Some(d) = &c.case.decision {
                p.result { (c.case.item_name) "：" (if d.approve { "准予办理" } else { "不予办理" }) "（" (d.document_no) "）" @if d.automatic { " · 秒批" } }
            }
        }
        h3 { "办理过程" }
        ol.timeline #timeline {
            @for e in &t.timeline {
                li { time { (format_minute(e.at)) } " " strong { (e.label) } @if let Some(n) = &e.note { " — " (n) } }
            }
        }
        @for e in &t.evaluations {
            p.evaluation { "第 " (e.round) " 次评价：" strong { (e.level.label()) } " " (e.text) }
        }
        @if t.can_evaluate {
            form #evaluate method="post" action=(evaluate_action) {
                @if let Some(tok) = csrf { input type="hidden" name="_csrf" value=(tok); }
                @if let Some(p) = phone { input type="hidden" name="number" value=(t.number); input type="hidden" name="phone" value=(p); }
                fieldset {
                    legend { "对本次服务评价（好差评）" }
                    @for l in Level::ALL {
                        label { input type="radio" name="level" value=(l.code()) required; " " (l.label()) }
                    }
                }
                div.field { label for="text" { "意见" } textarea #text name="text" rows="3" {} }
                button type="submit" { "提交评价" }
            }
        }
    }
}

#[derive(Deserialize)]
struct TrackQuery {
    #[serde(default)]
    number: String,
}

async fn track_form(State(ctx): State<AppCtx>, Query(q): Query<TrackQuery>) -> PageResult {
    Ok(public_page(
        &bureau(&ctx),
        "办件查询",
        track_body(&q.number, "", &[], None),
    )
    .into_response())
}

fn track_body(number: &str, phone: &str, errors: &[FieldError], t: Option<&Tracking>) -> Markup {
    html! {
        h1 { "办件查询与评价" }
        (error_summary(errors))
        form method="post" action="/guide/track" {
            (text_field("办件编号", "number", number, errors, "required"))
            (text_field("申请时填写的手机号", "phone", phone, errors, "required inputmode=\"numeric\""))
            input type="hidden" name="do" value="track";
            button type="submit" { "查询" }
        }
        @if let Some(t) = t { (tracking_view(t, "/guide/track", None, Some(phone), &Withdrawals::default())) }
    }
}

async fn track_post(State(ctx): State<AppCtx>, FormData(f): FormData) -> PageResult {
    let form = FormData(f);
    let (number, phone) = (
        form.get("number").trim().to_owned(),
        form.get("phone").trim().to_owned(),
    );
    let s = svc(&ctx);
    let mut msg = None;
    if let Some(level) = form.opt("level") {
        let level = Level::parse(&level)
            .ok_or_else(|| Error::field("level", "invalid", "请选择评价等级"))?;
        match s
            .evaluate_public(
                &number,
                &phone,
                NewEvaluation {
                    level,
                    tags: vec![],
                    text: form.get("text").into(),
                },
            )
            .await
        {
            Ok(_) => msg = Some("感谢评价！".to_owned()),
            Err(e) => {
                let t = s.track(&number, &phone).await.ok();
                return Ok(public_page(
                    &bureau(&ctx),
                    "办件查询",
                    track_body(&number, &phone, &errors_of(&e), t.as_ref()),
                )
                .into_response());
            }
        }
    }
    let body = match s.track(&number, &phone).await {
        Ok(t) => {
            html! { @if let Some(m) = &msg { (notice(m)) } (track_body(&number, &phone, &[], Some(&t))) }
        }
        Err(e) => track_body(
            &number,
            &phone,
            &[FieldError::new("number", e.code(), e.detail())],
            None,
        ),
    };
    Ok(public_page(&bureau(&ctx), "办件查询", body).into_response())
}

async fn feedback_form(State(ctx): State<AppCtx>) -> PageResult {
    Ok(public_page(
        &bureau(&ctx),
        "办不成事反映",
        feedback_body(&FormData(vec![]), &[], None),
    )
    .into_response())
}

fn feedback_body(f: &FormData, errors: &[FieldError], done: Option<&str>) -> Markup {
    html! {
        h1 { "办不成事反映" }
        p { "在办事过程中遇到“办不成、办不了、办不好”的情况，请告诉我们，督查人员会跟进处理并答复。" }
        @if let Some(n) = done { (notice(&format!("已收到您的反映，编号 {n}，我们会尽快答复。"))) }
        (error_summary(errors))
        form method="post" action="/guide/feedback" {
            (text_field("姓名", "name", f.get("name"), errors, "required"))
            (text_field("手机号", "phone", f.get("phone"), errors, "required inputmode=\"numeric\""))
            div.field {
                label for="text" { "遇到的问题" }
                textarea #text name="text" rows="5" required { (f.get("text")) }
                (webcore::layout::field_error(errors, "text"))
            }
            button type="submit" { "提交" }
        }
    }
}

async fn feedback_post(State(ctx): State<AppCtx>, f: FormData) -> PageResult {
    let r = svc(&ctx)
        .submit_feedback(NewFeedback {
            name: f.get("name").into(),
            phone: f.get("phone").into(),
            item_id: None,
            text: f.get("text").into(),
        })
        .await;
    let body = match r {
        Ok(x) => feedback_body(&FormData(vec![]), &[], Some(&x.number)),
        Err(e) => feedback_body(&f, &errors_of(&e), None),
    };
    Ok(public_page(&bureau(&ctx), "办不成事反映", body).into_response())
}

// ---- applying online, and the citizen's own cases ----

fn applicant_fields(f: &FormData, errors: &[FieldError]) -> Markup {
    html! {
        fieldset {
            legend { "申请人" }
            div.field {
                label for="applicant.kind" { "申请人类型" }
                select #"applicant.kind" name="applicant.kind" {
                    @for k in ApplicantKind::ALL { option value=(k.code()) selected[f.get("applicant.kind") == k.code()] { (k.label()) } }
                }
            }
            (text_field("姓名/名称", "applicant.name", f.get("applicant.name"), errors, "required"))
            (text_field("身份证号/统一社会信用代码", "applicant.id_no", f.get("applicant.id_no"), errors, "required"))
            (text_field("手机号", "applicant.phone", f.get("applicant.phone"), errors, "required inputmode=\"numeric\""))
        }
    }
}

/// The form's own fields. Those repeating the applicant block (name, ID number, phone) are not
/// asked again (一数一源): the service fills them from the applicant, and the page says so.
fn form_fields(fields: &[FormField], f: &FormData, errors: &[FieldError]) -> Markup {
    let kind = ApplicantKind::parse(f.get("applicant.kind")).unwrap_or(ApplicantKind::Person);
    let (from_applicant, asked): (Vec<&FormField>, Vec<&FormField>) = fields
        .iter()
        .partition(|x| applicant_part(x, kind).is_some());
    html! {
        fieldset {
            legend { "申请信息（共用信息只填一次）" }
            @if !from_applicant.is_empty() {
                p.muted #prefilled {
                    @for (i, x) in from_applicant.iter().enumerate() { @if i > 0 { "、" } (x.label) }
                    "取自申请人信息，无需重复填写。"
                }
            }
            @for x in asked {
                (text_field(&x.label, &format!("form.{}", x.key), f.get(&format!("form.{}", x.key)), errors, if x.required { "required" } else { "" }))
            }
            @for x in &from_applicant {
                (webcore::layout::field_error(errors, &format!("form.{}", x.key)))
            }
        }
    }
}

fn material_boxes(ms: &[Material], f: &FormData) -> Markup {
    let chosen = f.all("materials");
    html! {
        fieldset {
            legend { "上传材料（勾选已上传的材料）" }
            @for m in ms {
                @if let Some(l) = &m.from_license {
                    p.check { (m.name) "：调取" (l) "电子证照，免提交" }
                } @else {
                    div.check { label { input type="checkbox" name="materials" value=(m.key) checked[chosen.contains(&m.key.as_str())]; " " (m.name) @if m.required { "（必需）" } } }
                }
            }
        }
    }
}

fn read_applicant(f: &FormData) -> Applicant {
    Applicant {
        kind: ApplicantKind::parse(f.get("applicant.kind")).unwrap_or(ApplicantKind::Person),
        name: f.get("applicant.name").into(),
        id_no: f.get("applicant.id_no").into(),
        phone: f.get("applicant.phone").into(),
        user_id: None,
    }
}

fn read_form(fields: &[FormField], f: &FormData) -> Map<String, Value> {
    fields
        .iter()
        .filter_map(|x| {
            let v = f.get(&format!("form.{}", x.key)).trim().to_owned();
            (!v.is_empty()).then(|| (x.key.clone(), json!(v)))
        })
        .collect()
}

async fn apply_form(State(ctx): State<AppCtx>, p: PageCtx, Path(id): Path<i64>) -> PageResult {
    apply_page(&ctx, &p, id, &FormData(vec![]), &[]).await
}

async fn apply_page(
    ctx: &AppCtx,
    p: &PageCtx,
    id: i64,
    f: &FormData,
    errors: &[FieldError],
) -> PageResult {
    let v = svc(ctx).bundle(id).await?;
    let body = html! {
        p { "一次填写、一次提交，" (v.items.len()) " 个部门同时办理。" }
        (error_summary(errors))
        form #apply-form method="post" action=(format!("/services/apply/bundle/{id}")) {
            (csrf_input(p))
            (applicant_fields(f, errors))
            (form_fields(&v.merged.fields, f, errors))
            (material_boxes(&v.merged.materials, f))
            button type="submit" { "提交申请" }
        }
    };
    Ok(page(p, &format!("在线申请：{}", v.bundle.content.name), body).into_response())
}

async fn apply_post(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let s = svc(&ctx);
    let v = s.bundle(id).await?;
    let input = NewBundleCase {
        applicant: read_applicant(&f),
        form: read_form(&v.merged.fields, &f),
        materials: f.all("materials").into_iter().map(str::to_owned).collect(),
    };
    match s.submit_bundle(&p.actor, id, input).await {
        Ok(b) => Ok(see_other(&format!("/services/mine/{}", esc(&b.number)))),
        Err(e @ Error::Validation(_)) => apply_page(&ctx, &p, id, &f, &errors_of(&e)).await,
        Err(e) => Err(e.into()),
    }
}

async fn mine(State(ctx): State<AppCtx>, p: PageCtx) -> PageResult {
    let list = svc(&ctx)
        .list(
            &p.actor,
            &CaseQuery::default(),
            &PageQuery {
                page: None,
                per_page: Some(100),
            },
        )
        .await?;
    let body = html! {
        table {
            thead { tr { th { "办件编号" } th { "事项" } th { "状态" } th { "申请时间" } } }
            tbody {
                @for c in &list.items {
                    tr {
                        td { a href=(format!("/services/mine/{}", c.case.number)) { (c.case.number) } }
                        td { (c.case.item_name) }
                        td { (c.status_label) }
                        td { (format_minute(c.case.created_at)) }
                    }
                }
            }
        }
    };
    Ok(page(&p, "我的办件", body).into_response())
}

#[derive(Deserialize)]
struct MsgQuery {
    #[serde(default)]
    msg: String,
}

async fn mine_one(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(number): Path<String>,
    Query(m): Query<MsgQuery>,
) -> PageResult {
    mine_page(&ctx, &p, &number, &m.msg, None).await
}

/// The applicant's own case or application; `failed` is a withdrawal that came back with
/// errors, shown beside its field.
async fn mine_page(
    ctx: &AppCtx,
    p: &PageCtx,
    number: &str,
    msg: &str,
    failed: Option<(i64, &[FieldError])>,
) -> PageResult {
    let s = svc(ctx);
    let t = s.track_own(&p.actor, number).await?;
    // 撤回 is offered while the state machine would take it: before a decision.
    let probe = [Action::Withdraw { reason: "-".into() }];
    let mut cases = vec![];
    for c in &t.cases {
        if s.permitted(&p.actor, &c.case, &probe).await?[0] {
            cases.push(c.case.id);
        }
    }
    let w = Withdrawals { cases, failed };
    let body = html! {
        @if !msg.is_empty() { (notice(msg)) }
        // The summary links to the reason box of the case that came back.
        @if let Some((id, e)) = failed {
            (error_summary(&e.iter().map(|x| FieldError { field: if x.field == "reason" { format!("withdraw-reason-{id}") } else { x.field.clone() }, ..x.clone() }).collect::<Vec<_>>()))
        }
        (tracking_view(&t, &format!("/services/mine/{}/evaluate", t.number), Some(&p.csrf), None, &w))
    };
    let code = if failed.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    Ok((code, page(p, "办件进度", body)).into_response())
}

async fn mine_evaluate(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(number): Path<String>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let level = Level::parse(f.get("level"))
        .ok_or_else(|| Error::field("level", "invalid", "请选择评价等级"))?;
    svc(&ctx)
        .evaluate(
            &p.actor,
            &number,
            NewEvaluation {
                level,
                tags: vec![],
                text: f.get("text").into(),
            },
        )
        .await?;
    Ok(see_other(&format!(
        "/services/mine/{}?msg={}",
        esc(&number),
        esc("感谢评价！")
    )))
}

// ---- 综合窗口 ----

#[derive(Deserialize)]
struct DeskQuery {
    item_id: Option<i64>,
    bundle_id: Option<i64>,
    #[serde(default)]
    msg: String,
}

/// What the clerk is receiving: one item, or a 一件事 bundle on its merged form.
#[derive(Clone, Copy, PartialEq)]
enum DeskTarget {
    None,
    Item(i64),
    Bundle(i64),
}

async fn desk(State(ctx): State<AppCtx>, p: PageCtx, Query(q): Query<DeskQuery>) -> PageResult {
    let target = match (q.bundle_id, q.item_id) {
        (Some(b), _) => DeskTarget::Bundle(b),
        (None, Some(i)) => DeskTarget::Item(i),
        (None, None) => DeskTarget::None,
    };
    desk_page(&ctx, &p, target, &FormData(vec![]), &[], &q.msg).await
}

async fn desk_page(
    ctx: &AppCtx,
    p: &PageCtx,
    target: DeskTarget,
    f: &FormData,
    errors: &[FieldError],
    msg: &str,
) -> PageResult {
    p.actor.require_any_role(&[Role::Clerk, Role::Admin])?;
    let s = svc(ctx);
    let items = s.search_items("").await?;
    let bundles = s.bundles().await?;
    // The form to fill: its title, hidden target, fields and materials.
    let chosen = match target {
        DeskTarget::None => None,
        DeskTarget::Item(i) => {
            let it = s.published_item(i).await?;
            Some((
                it.content.name.clone(),
                ("item_id", i),
                it.content.fields,
                it.content.materials,
            ))
        }
        DeskTarget::Bundle(b) => {
            let v = s.bundle(b).await?;
            Some((
                format!("{}（一件事，一表申请）", v.bundle.content.name),
                ("bundle_id", b),
                v.merged.fields,
                v.merged.materials,
            ))
        }
    };
    let item_id = match target {
        DeskTarget::Item(i) => Some(i),
        _ => None,
    };
    let bundle_id = match target {
        DeskTarget::Bundle(b) => Some(b),
        _ => None,
    };
    let body = html! {
        @if !msg.is_empty() { (notice(msg)) }
        h2 { "收件" }
        form method="get" action="/services/desk" {
            div.field {
                label for="item_id" { "办理事项" }
                select #item_id name="item_id" {
                    @for i in &items { option value=(i.id) selected[item_id == Some(i.id)] { (i.content.name) "（" (i.content.handling.label()) "）" } }
                }
            }
            button #choose type="submit" { "选择" }
        }
        @if !bundles.is_empty() {
            form method="get" action="/services/desk" {
                div.field {
                    label for="bundle_id" { "或办理一件事" }
                    select #bundle_id name="bundle_id" {
                        @for b in &bundles { option value=(b.id) selected[bundle_id == Some(b.id)] { (b.content.name) } }
                    }
                }
                button #choose-bundle type="submit" { "选择" }
            }
        }
        @if let Some((title, (key, id), fields, materials)) = &chosen {
            h3 #desk-target { (title) }
            (error_summary(errors))
            form #desk-form method="post" action="/services/desk" {
                (csrf_input(p))
                input type="hidden" name=(key) value=(id);
                (applicant_fields(f, errors))
                (form_fields(fields, f, errors))
                (material_boxes(materials, f))
                button type="submit" { "收件并转部门" }
            }
        }
        h2 { "一件事出件" }
        form #deliver-form method="post" action="/services/desk/deliver" {
            (csrf_input(p))
            (text_field("申请编号", "number", "", &[], "required"))
            div.field {
                label for="method" { "出件方式" }
                select #method name="method" { @for d in DeliveryMethod::ALL { option value=(d.code()) { (d.label()) } } }
            }
            (text_field("说明（窗口号或邮寄单号）", "detail", "", &[], ""))
            button type="submit" { "出件" }
        }
    };
    Ok(page(p, "综合窗口", body).into_response())
}

async fn desk_post(State(ctx): State<AppCtx>, p: PageCtx, f: FormData) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let s = svc(&ctx);
    let materials: Vec<String> = f.all("materials").into_iter().map(str::to_owned).collect();
    if let Ok(bundle_id) = f.get("bundle_id").parse::<i64>() {
        let v = s.bundle(bundle_id).await?;
        let input = NewBundleCase {
            applicant: read_applicant(&f),
            form: read_form(&v.merged.fields, &f),
            materials,
        };
        return match s.submit_bundle(&p.actor, bundle_id, input).await {
            Ok(b) => Ok(see_other(&format!(
                "/services/desk?msg={}",
                esc(&format!(
                    "已收件，一件事申请编号 {}，共 {} 个部门办件",
                    b.number,
                    b.cases.len()
                ))
            ))),
            Err(e @ Error::Validation(_)) => {
                desk_page(
                    &ctx,
                    &p,
                    DeskTarget::Bundle(bundle_id),
                    &f,
                    &errors_of(&e),
                    "",
                )
                .await
            }
            Err(e) => Err(e.into()),
        };
    }
    let item_id: i64 = f
        .get("item_id")
        .parse()
        .map_err(|_| Error::field("item_id", "required", "请选择事项"))?;
    let item = s.published_item(item_id).await?;
    let input = NewCase {
        item_id,
        scenario: None,
        applicant: read_applicant(&f),
        form: read_form(&item.content.fields, &f),
        materials,
    };
    match s.submit(&p.actor, input).await {
        Ok(c) => Ok(see_other(&format!(
            "/services/desk?msg={}",
            esc(&format!(
                "已收件，办件编号 {}，已转{}",
                c.case.number, c.status_label
            ))
        ))),
        Err(e @ Error::Validation(_)) => {
            desk_page(&ctx, &p, DeskTarget::Item(item_id), &f, &errors_of(&e), "").await
        }
        Err(e) => Err(e.into()),
    }
}

async fn desk_deliver(State(ctx): State<AppCtx>, p: PageCtx, f: FormData) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let method = DeliveryMethod::parse(f.get("method"))
        .ok_or_else(|| Error::field("method", "invalid", "请选择出件方式"))?;
    let r = svc(&ctx)
        .deliver_bundle(&p.actor, f.get("number").trim(), method, f.get("detail"))
        .await;
    let msg = match r {
        Ok(b) => format!("{} 已出件（{}）", b.number, method.label()),
        Err(e) => format!("未能出件：{}", e.detail()),
    };
    Ok(see_other(&format!("/services/desk?msg={}", esc(&msg))))
}

// ---- the department inbox ----

#[derive(Deserialize)]
struct InboxQuery {
    status: Option<String>,
}

async fn inbox(State(ctx): State<AppCtx>, p: PageCtx, Query(q): Query<InboxQuery>) -> PageResult {
    let status = q.status.clone().filter(|s| !s.is_empty());
    let list = svc(&ctx)
        .list(
            &p.actor,
            &CaseQuery {
                status: status.clone(),
                ..Default::default()
            },
            &PageQuery {
                page: None,
                per_page: Some(100),
            },
        )
        .await?;
    let body = html! {
        form method="get" action="/services/inbox" {
            label for="status" { "状态" }
            select #status name="status" {
                option value="" { "全部" }
                @for s in CaseStatus::ALL { option value=(s.code()) selected[status.as_deref() == Some(s.code())] { (s.label()) } }
            }
            button type="submit" { "筛选" }
        }
        table #cases {
            thead { tr { th { "办件编号" } th { "事项" } th { "申请人" } th { "渠道" } th { "状态" } th { "承诺办结" } th { "亮牌" } } }
            tbody {
                @for c in &list.items {
                    tr {
                        td { a href=(format!("/services/cases/{}", c.case.id)) { (c.case.number) } }
                        td { (c.case.item_name) }
                        td { (c.case.applicant.name) }
                        td { (c.case.channel.label()) }
                        td { (c.status_label) }
                        td { (c.case.due_at.map(format_minute).unwrap_or_else(|| "—".into())) }
                        td { (c.case.card.label()) }
                    }
                }
            }
        }
    };
    Ok(page(&p, "部门办件", body).into_response())
}

async fn case_page(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    Query(m): Query<MsgQuery>,
) -> PageResult {
    case_view(&ctx, &p, id, &m.msg, None).await
}

/// 特别程序 a case may enter; their days are set per case.
pub const SPECIAL_PROCEDURES: &[&str] = &[
    "听证",
    "检验检测",
    "检疫",
    "专家评审",
    "鉴定",
    "公示",
    "招标拍卖",
    "现场勘验",
];

/// A form that came back: its action, the errors and what was typed.
struct Failed<'a> {
    action: &'a str,
    errors: &'a [FieldError],
    form: &'a FormData,
}

/// Time left on the promised limit, in the item's unit.
fn time_left(c: &Case, cal: &kernel::calendar::Calendar, now: i64) -> Option<String> {
    let m = c.remaining_minutes(now, cal)?;
    let (per, unit) = match c.time_unit {
        kernel::deadline::TimeUnit::WorkingDays => {
            (cal.office_hours().minutes_per_day(), "个工作日")
        }
        kernel::deadline::TimeUnit::CalendarDays => (24 * 60, "天"),
        kernel::deadline::TimeUnit::WorkingHours => (60, "个工作小时"),
    };
    let v = m.abs() as f64 / per as f64;
    Some(if m >= 0 {
        format!("剩余 {v:.1} {unit}")
    } else {
        format!("已超期 {v:.1} {unit}")
    })
}

async fn case_view(
    ctx: &AppCtx,
    p: &PageCtx,
    id: i64,
    msg: &str,
    failed: Option<Failed<'_>>,
) -> PageResult {
    let s = svc(ctx);
    let v = s.get(&p.actor, id).await?;
    let t = s.timeline(&p.actor, id).await?;
    let (cal, now) = s.calendar_now().await?;
    let c = &v.case;
    let act = format!("/services/cases/{id}/act");
    let missing: Vec<&CaseMaterial> = c.missing();
    // Offer only what the reader may take now: permission and the state machine on a copy.
    let probes = [
        Action::Accept {
            tolerated: vec![],
            tolerated_days: None,
        },
        Action::Reject {
            reason: "-".into(),
            legal_basis: "-".into(),
        },
        Action::RequestSupplement {
            materials: vec![],
            note: "-".into(),
        },
        Action::Decide {
            approve: false,
            document_no: "-".into(),
            text: "-".into(),
        },
        Action::Close,
        Action::SupplyTolerated,
        Action::StartSpecial {
            name: SPECIAL_PROCEDURES[0].into(),
            days: 1,
        },
        Action::EndSpecial { note: "-".into() },
        Action::Withdraw { reason: "-".into() },
    ];
    let ok = s.permitted(&p.actor, c, &probes).await?;
    let may = |code: &str| probes.iter().zip(&ok).any(|(a, k)| *k && a.code() == code);
    let none: &[FieldError] = &[];
    let errs = |action: &str| match &failed {
        Some(f) if f.action == action => f.errors,
        _ => none,
    };
    let typed = |action: &str, name: &str| match &failed {
        Some(f) if f.action == action => f.form.get(name).to_owned(),
        _ => String::new(),
    };
    let invalid = |action: &str, name: &str| {
        errs(action)
            .iter()
            .any(|e| e.field == name)
            .then_some("true")
    };
    let name_of = |k: &String| {
        c.materials
            .iter()
            .find(|m| &m.key == k)
            .map_or(k.clone(), |m| m.name.clone())
    };
    let body = html! {
        @if !msg.is_empty() { (alert(msg)) }
        @if let Some(f) = &failed { (error_summary(f.errors)) }
        dl.facts {
            dt { "办件编号" } dd { (c.number) }
            dt { "事项" } dd { (c.item_name) "（第 " (c.item_version) " 版）" }
            dt { "状态" } dd #case-status { (v.status_label) }
            dt { "申请人" } dd { (c.applicant.name) " " (c.applicant.phone) }
            dt { "渠道" } dd { (c.channel.label()) }
            dt { "承诺时限" } dd { (c.promised_days) " " (c.time_unit.label()) "（法定 " (c.legal_days) "）" }
            dt { "承诺办结" } dd #case-due { (c.due_at.map(format_minute).unwrap_or_else(|| "受理后起算".into())) }
            @if let Some(left) = time_left(c, &cal, now) {
                dt { "剩余时间" } dd #case-left { (left) }
            }
            @if let Some(since) = c.paused_since {
                dt { "计时" } dd #case-clock {
                    strong { "计时暂停" } "（自 " (format_minute(since)) " 起；"
                    (if c.status == CaseStatus::Special { "特别程序" } else { "补正" })
                    "期间不计入承诺时限，恢复后办结期限相应顺延）"
                }
            }
            @if let Some(sp) = &c.special {
                dt { "特别程序" } dd #case-special { (sp.name) "，" (sp.days) " 天，" (format_minute(sp.started_at)) " 起，预计 " (format_minute(sp.due_at)) " 结束" }
            }
            @if let Some(tol) = &c.tolerated {
                dt { "容缺材料" } dd #case-tolerated { (tol.materials.iter().map(name_of).collect::<Vec<_>>().join("、")) "，须于 " (format_minute(tol.due_at)) " 前补齐" @if now > tol.due_at { strong { "（已逾期）" } } }
            }
            @if c.paused_minutes > 0 {
                dt { "累计暂停" } dd { (format!("{:.1}", c.paused_minutes as f64 / cal.office_hours().minutes_per_day() as f64)) " 个工作日" }
            }
        }
        h2 { "材料" }
        ul { @for x in &c.materials { li { (x.name) "：" (x.source.label()) } } }
        @if !c.form.is_empty() {
            h2 { "申请信息" }
            ul { @for (k, val) in &c.form { li { (k) "：" (val.as_str().unwrap_or_default()) } } }
        }
        h2 { "办理" }
        div.actions {
            @if may("accept") {
                form #accept method="post" action=(act) {
                    (csrf_input(p)) input type="hidden" name="action" value="accept";
                    @if !missing.is_empty() {
                        p { "缺少材料，可对次要材料容缺受理：" }
                        @for x in &missing { label { input type="checkbox" name="tolerated" value=(x.key); " " (x.name) } }
                        (field_error(errs("accept"), "tolerated"))
                        label for="tolerated_days" { "容缺补齐期限（工作日）" }
                        input #tolerated_days name="tolerated_days" inputmode="numeric" value=(typed("accept", "tolerated_days")) aria-invalid=[invalid("accept", "tolerated_days")];
                        (field_error(errs("accept"), "tolerated_days"))
                    }
                    button type="submit" { "受理" }
                }
            }
            @if may("reject") {
                form #reject method="post" action=(act) {
                    (csrf_input(p)) input type="hidden" name="action" value="reject";
                    label for="reason" { "不予受理理由" } input #reason name="reason" value=(typed("reject", "reason"));
                    (field_error(errs("reject"), "reason"))
                    label for="legal_basis" { "法律依据" } input #legal_basis name="legal_basis" value=(typed("reject", "legal_basis"));
                    (field_error(errs("reject"), "legal_basis"))
                    button type="submit" { "不予受理" }
                }
            }
            @if may("request_supplement") {
                form #supplement method="post" action=(act) {
                    (csrf_input(p)) input type="hidden" name="action" value="request_supplement";
                    fieldset { legend { "一次性告知补正" }
                        @for x in &c.materials { label { input type="checkbox" name="materials" value=(x.key); " " (x.name) } }
                    }
                    (field_error(errs("request_supplement"), "materials"))
                    label for="note" { "补正说明" } input #note name="note" value=(typed("request_supplement", "note"));
                    (field_error(errs("request_supplement"), "note"))
                    button type="submit" { "要求补正" }
                }
            }
            @if may("supply_tolerated") {
                form #supply-tolerated method="post" action=(act) {
                    (csrf_input(p)) input type="hidden" name="action" value="supply_tolerated";
                    p { "容缺材料已收到：" (c.tolerated.as_ref().map(|t| t.materials.iter().map(name_of).collect::<Vec<_>>().join("、")).unwrap_or_default()) }
                    button type="submit" { "补齐容缺" }
                }
            }
            @if may("start_special") {
                form #special method="post" action=(act) {
                    (csrf_input(p)) input type="hidden" name="action" value="start_special";
                    div.field {
                        label for="special_name" { "特别程序" }
                        select #special_name name="name" aria-invalid=[invalid("start_special", "name")] {
                            @for n in SPECIAL_PROCEDURES { option value=(n) selected[typed("start_special", "name") == *n] { (n) } }
                        }
                        (field_error(errs("start_special"), "name"))
                    }
                    div.field {
                        label for="special_days" { "期限（天，不计入承诺时限）" }
                        input #special_days name="days" inputmode="numeric" value=(typed("start_special", "days"))
                            aria-invalid=[invalid("start_special", "days")]
                            aria-describedby=[invalid("start_special", "days").map(|_| "days-error")];
                        (field_error(errs("start_special"), "days"))
                    }
                    button type="submit" { "进入特别程序" }
                }
            }
            @if may("end_special") {
                form #end-special method="post" action=(act) {
                    (csrf_input(p)) input type="hidden" name="action" value="end_special";
                    div.field {
                        label for="end_note" { "特别程序结论" }
                        input #end_note name="note" value=(typed("end_special", "note")) aria-invalid=[invalid("end_special", "note")];
                        (field_error(errs("end_special"), "note"))
                    }
                    button type="submit" { "结束特别程序" }
                }
            }
            @if may("decide") {
                form #decide method="post" action=(act) {
                    (csrf_input(p)) input type="hidden" name="action" value="decide";
                    label { input type="radio" name="approve" value="true" checked; " 准予" }
                    label { input type="radio" name="approve" value="false"; " 不予" }
                    label for="document_no" { "决定文书编号" } input #document_no name="document_no" value=(typed("decide", "document_no"));
                    (field_error(errs("decide"), "document_no"))
                    label for="text" { "决定内容" } input #text name="text" value=(typed("decide", "text"));
                    (field_error(errs("decide"), "text"))
                    button type="submit" { "作出决定" }
                }
            }
            @if may("close") {
                form #close method="post" action=(act) {
                    (csrf_input(p)) input type="hidden" name="action" value="close";
                    button type="submit" { "办结" }
                }
            }
            @if may("withdraw") {
                form #withdraw method="post" action=(act) {
                    (csrf_input(p)) input type="hidden" name="action" value="withdraw";
                    div.field {
                        label for="withdraw_reason" { "代申请人撤回：撤回理由（以申请人书面申请为准）" }
                        input #withdraw_reason name="reason" value=(typed("withdraw", "reason")) aria-invalid=[invalid("withdraw", "reason")];
                        (field_error(errs("withdraw"), "reason"))
                    }
                    button.danger type="submit" { "撤回申请" }
                }
            }
        }
        h2 { "办理过程" }
        ol.timeline #case-timeline { @for e in &t { li { time { (format_minute(e.at)) } " " strong { (e.label) } " " (e.actor_name) @if let Some(n) = &e.note { " — " (n) } } } }
    };
    let code = if failed.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    Ok((code, page(p, &format!("办件 {}", c.number), body)).into_response())
}

fn action_from(f: &FormData) -> Result<Action, Error> {
    let list = |k: &str| f.all(k).into_iter().map(str::to_owned).collect::<Vec<_>>();
    Ok(match f.get("action") {
        "accept" => Action::Accept {
            tolerated: list("tolerated"),
            tolerated_days: match f.get("tolerated_days").trim() {
                "" => None,
                d => Some(d.parse().map_err(|_| {
                    Error::field(
                        "tolerated_days",
                        "invalid_number",
                        "容缺补齐期限应为正整数（工作日）",
                    )
                })?),
            },
        },
        "reject" => Action::Reject {
            reason: f.get("reason").into(),
            legal_basis: f.get("legal_basis").into(),
        },
        "request_supplement" => Action::RequestSupplement {
            materials: list("materials"),
            note: f.get("note").into(),
        },
        "supply" => Action::Supply {
            materials: list("materials"),
        },
        "supply_tolerated" => Action::SupplyTolerated,
        "start_special" => {
            let name = f.get("name").trim();
            if !SPECIAL_PROCEDURES.contains(&name) {
                return Err(Error::field(
                    "name",
                    "unknown_procedure",
                    "请从列表中选择特别程序",
                ));
            }
            Action::StartSpecial {
                name: name.into(),
                days: f.get("days").trim().parse().map_err(|_| {
                    Error::field("days", "invalid_number", "特别程序期限应为正整数（天）")
                })?,
            }
        }
        "end_special" => Action::EndSpecial {
            note: f.get("note").into(),
        },
        "decide" => Action::Decide {
            approve: f.get("approve") != "false",
            document_no: f.get("document_no").into(),
            text: f.get("text").into(),
        },
        "close" => Action::Close,
        "withdraw" => Action::Withdraw {
            reason: f.get("reason").into(),
        },
        other => {
            return Err(Error::field(
                "action",
                "unknown_action",
                format!("未知操作“{other}”"),
            ))
        }
    })
}

async fn case_act(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let next = f
        .opt("next")
        .filter(|n| n.starts_with('/') && !n.starts_with("//"))
        .unwrap_or_else(|| format!("/services/cases/{id}"));
    let r = match action_from(&f) {
        Ok(a) => svc(&ctx).act(&p.actor, id, a).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => Ok(see_other(&next)),
        // Bad input goes back beside its field, on the page the form came from; nothing written.
        Err(e @ Error::Validation(_)) => {
            let errors = errors_of(&e);
            match next.strip_prefix("/services/mine/") {
                Some(number) => mine_page(&ctx, &p, number, "", Some((id, &errors))).await,
                None => {
                    let failed = Failed {
                        action: f.get("action"),
                        errors: &errors,
                        form: &f,
                    };
                    case_view(&ctx, &p, id, "", Some(failed)).await
                }
            }
        }
        Err(e @ (Error::IllegalTransition { .. } | Error::Conflict { .. })) => {
            Ok(see_other(&format!("{next}?msg={}", esc(&e.detail()))))
        }
        Err(e) => Err(e.into()),
    }
}

// ---- 差评整改 ----

async fn rect_page(State(ctx): State<AppCtx>, p: PageCtx, Query(m): Query<MsgQuery>) -> PageResult {
    let list = svc(&ctx).rectifications(&p.actor).await?;
    let supervisor = p.actor.has_any_role(&[Role::Supervisor, Role::Admin]);
    let body = html! {
        @if !m.msg.is_empty() { (notice(&m.msg)) }
        @if list.is_empty() { p { "暂无整改任务。" } }
        @for r in &list {
            section.rect id=(format!("rect-{}", r.id)) {
                h2 { "办件 " (r.case_number) " · " span.status { (r.status.label()) } }
                p { "整改期限：" (format_minute(r.due_at)) }
                @if let Some(x) = &r.reply { p { "部门答复：" (x) } }
                @if let Some(x) = &r.review_note { p { "审核意见：" (x) } }
                @if r.status == RectificationStatus::Open && !supervisor {
                    form.reply method="post" action=(format!("/services/rectifications/{}", r.id)) {
                        (csrf_input(&p)) input type="hidden" name="do" value="reply";
                        label for=(format!("reply-{}", r.id)) { "答复群众并说明整改措施" }
                        textarea id=(format!("reply-{}", r.id)) name="reply" rows="3" required {}
                        button type="submit" { "提交整改答复" }
                    }
                }
                @if r.status == RectificationStatus::Replied && supervisor {
                    form.review method="post" action=(format!("/services/rectifications/{}", r.id)) {
                        (csrf_input(&p)) input type="hidden" name="do" value="review";
                        label { input type="radio" name="approve" value="true" checked; " 整改到位" }
                        label { input type="radio" name="approve" value="false"; " 退回重改" }
                        label for=(format!("note-{}", r.id)) { "审核意见" }
                        input id=(format!("note-{}", r.id)) name="note" required;
                        button type="submit" { "提交审核" }
                    }
                }
            }
        }
    };
    Ok(page(&p, "差评整改", body).into_response())
}

async fn rect_post(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let s = svc(&ctx);
    let r = if f.get("do") == "review" {
        s.review_rectification(
            &p.actor,
            id,
            RectificationReview {
                approve: f.get("approve") != "false",
                note: f.get("note").into(),
            },
        )
        .await
    } else {
        s.reply_rectification(
            &p.actor,
            id,
            RectificationReply {
                reply: f.get("reply").into(),
            },
        )
        .await
    };
    let msg = match r {
        Ok(x) => format!("整改任务 {} 已更新为“{}”", x.case_number, x.status.label()),
        Err(e) => e.detail(),
    };
    Ok(see_other(&format!(
        "/services/rectifications?msg={}",
        esc(&msg)
    )))
}
