//! The public 办事指南 (searchable in Chinese), tracking and rating by number and phone, and
//! the public 办不成事反映 form.

use super::*;
use crate::domain::*;
use crate::service::Tracking;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use kernel::error::{Error, FieldError};
use maud::{html, Markup};
use serde::Deserialize;
use webcore::layout::{error_summary, notice, public_page_nav, text_field};
use webcore::{AppCtx, FormData, Path, Query};

pub(super) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/guide", get(guide))
        .route("/guide/items/{id}", get(guide_item))
        .route("/guide/bundles/{id}", get(guide_bundle))
        .route("/guide/track", get(track_form).post(track_post))
        .route("/guide/feedback", get(feedback_form).post(feedback_post))
}

// ---- public 办事指南 ----

#[derive(Deserialize)]
struct GuideQuery {
    #[serde(default)]
    q: String,
    page: Option<i64>,
}

/// Items per page of the public guide.
const GUIDE_PER_PAGE: usize = 30;

async fn guide(State(ctx): State<AppCtx>, Query(q): Query<GuideQuery>) -> PageResult {
    let s = svc(&ctx);
    let items = s.search_items(&q.q).await?;
    let total = items.len();
    let pages = total.div_ceil(GUIDE_PER_PAGE).max(1);
    let at = (q.page.unwrap_or(1).max(1) as usize).min(pages);
    let items: Vec<_> = items
        .into_iter()
        .skip((at - 1) * GUIDE_PER_PAGE)
        .take(GUIDE_PER_PAGE)
        .collect();
    let here: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("q", &q.q)
        .finish();
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
        h2 { "事项（" (total) "）" }
        @if items.is_empty() { p { "没有找到相关事项，可换个说法再试，或" a href="/guide/feedback" { "反映办不成的事" } "。" } }
        table.stack {
            thead { tr { th { "事项名称" } th { "类型" } th { "办件类型" } th { "承诺时限" } th { "办理深度" } } }
            tbody {
                @for i in &items {
                    tr {
                        td data-label="事项名称" { a href=(format!("/guide/items/{}", i.id)) { (i.content.name) } }
                        td data-label="类型" { (i.content.item_type.label()) }
                        td data-label="办件类型" { (i.content.handling.label()) }
                        td data-label="承诺时限" { (i.content.promised_days) " " (i.content.time_unit.label()) }
                        td data-label="办理深度" { (i.content.depth.label()) }
                    }
                }
            }
        }
        @if pages > 1 { (webcore::layout::pager(&format!("/guide?{here}"), at as i64, pages as i64, total as i64)) }
        p { a href="/guide/track" { "办件查询与评价" } " · " a href="/guide/feedback" { "办不成事反映" } }
    };
    Ok(guide_shell(&ctx, "办事指南", body).into_response())
}

/// The citizen's pages of the service hall: as wide as the screen allows, with their own links.
fn guide_shell(ctx: &AppCtx, title: &str, body: Markup) -> Markup {
    const LINKS: &[(&str, &str)] = &[
        ("办事指南", "/guide"),
        ("办件查询与评价", "/guide/track"),
        ("办不成事反映", "/guide/feedback"),
    ];
    let current = match title {
        "办件查询" => "/guide/track",
        "办不成事反映" => "/guide/feedback",
        _ => "/guide",
    };
    public_page_nav(&bureau(ctx), title, LINKS, current, body)
}

fn materials_table(ms: &[Material]) -> Markup {
    html! {
        table.stack {
            thead { tr { th { "材料名称" } th { "形式" } th { "份数" } th { "必要性" } th { "免提交" } } }
            tbody {
                @for m in ms {
                    tr {
                        td data-label="材料名称" { (m.name) }
                        td data-label="形式" { (m.form.label()) }
                        td data-label="份数" { (m.copies) }
                        td data-label="必要性" { @if m.required { "必需" } @else { "容缺/视情形：" (m.condition.clone().unwrap_or_default()) } }
                        td data-label="免提交" {
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
        p { a.button #apply href=(format!("/services/apply/item/{id}")) { "在线申请（需登录）" } }
    };
    Ok(guide_shell(&ctx, &c.name, body).into_response())
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
    Ok(guide_shell(&ctx, &v.bundle.content.name, body).into_response())
}

/// What the citizen may withdraw on their own page, and the errors of a withdrawal that came
/// back (case id, errors).

#[derive(Deserialize)]
struct TrackQuery {
    #[serde(default)]
    number: String,
}

async fn track_form(State(ctx): State<AppCtx>, Query(q): Query<TrackQuery>) -> PageResult {
    Ok(guide_shell(&ctx, "办件查询", track_body(&q.number, "", &[], None)).into_response())
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

async fn track_post(
    State(ctx): State<AppCtx>,
    _: webcore::extract::PublicLookup,
    FormData(f): FormData,
) -> PageResult {
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
                return Ok(guide_shell(
                    &ctx,
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
    Ok(guide_shell(&ctx, "办件查询", body).into_response())
}

async fn feedback_form(State(ctx): State<AppCtx>) -> PageResult {
    Ok(guide_shell(
        &ctx,
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
    Ok(guide_shell(&ctx, "办不成事反映", body).into_response())
}
