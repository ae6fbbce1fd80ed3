//! 数据异议 pages: the list (open first by deadline, by state, paged) with the form to raise
//! one, and one objection with the source department's answer form.

use super::{back, errors_of, flash, Msg, PageResult};
use crate::http::svc;
use crate::objections::domain::{NewObjection, ObjectionAnswer, ObjectionStatus};
use crate::objections::service::ObjectionView;
use crate::service::RaiseObjection;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use kernel::clock::format_minute;
use kernel::page::PageQuery;
use kernel::{Error, FieldError};
use maud::{html, Markup};
use serde::Deserialize;
use webcore::layout::{error_summary, field_error, page, pager};
use webcore::{AppCtx, FormData, PageCtx, Path, Query};

pub(super) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/sharing/objections", get(list).post(raise))
        .route("/sharing/objections/{id}", get(one))
        .route("/sharing/objections/{id}/answer", post(answer))
}

#[derive(Debug, Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    status: String,
    page: Option<i64>,
    #[serde(default)]
    msg: String,
}

const PER_PAGE: i64 = 30;

fn state_tag(o: &ObjectionView) -> Markup {
    html! {
        span.tag.nowrap.(if o.objection.status == ObjectionStatus::Open { "" } else { "off" }) { (o.status_label) }
        @if o.overdue { " " strong.overdue { "已超时" } }
    }
}

async fn list(State(ctx): State<AppCtx>, p: PageCtx, Query(q): Query<ListQuery>) -> PageResult {
    render_list(&ctx, &p, &q, &FormData::default(), &[]).await
}

async fn render_list(
    ctx: &AppCtx,
    p: &PageCtx,
    q: &ListQuery,
    f: &FormData,
    errors: &[FieldError],
) -> PageResult {
    let s = svc(ctx);
    let status = crate::objections::http::parse_status(Some(&q.status)).unwrap_or(None);
    let pq = PageQuery {
        page: q.page,
        per_page: Some(PER_PAGE),
    };
    let list = s.objections(&p.actor, status, &pq).await?;
    let may_raise = p.actor.authorize::<RaiseObjection>().is_ok() && p.actor.dept_id.is_some();
    let registries = if may_raise {
        // Not one's own: the source department corrects its data directly.
        let own = p.actor.dept_id;
        s.registry_resources()
            .await?
            .into_iter()
            .filter(|r| Some(r.provider_dept_id) != own)
            .collect()
    } else {
        Vec::new()
    };
    let tabs: [(&str, &str); 4] = [
        ("", "全部"),
        ("open", "待核实"),
        ("confirmed", "核实无误"),
        ("corrected", "已更正"),
    ];
    let chosen = status.map_or("", |s| s.code());
    let pick = format!("{}|{}", f.get("resource_code"), f.get("field"));
    let body = html! {
        (flash(&Msg { msg: q.msg.clone(), ..Msg::default() }))
        p.muted {
            "一数一源：基础库的每个信息项由其来源部门负责。本部门掌握的数据与基础库不一致时，在此提出异议，"
            "由来源部门在 " (crate::objections::domain::ANSWER_WORKING_DAYS) " 个工作日内核实：核实无误，或更正基础库。"
        }
        nav.actions #objection-tabs aria-label="按状态筛选" {
            @for (code, label) in tabs {
                a href=(if code.is_empty() { "/sharing/objections".to_owned() } else { format!("/sharing/objections?status={code}") })
                  aria-current=[(code == chosen).then_some("true")] { (label) }
            }
        }
        @if list.items.is_empty() { p #no-objections { "没有数据异议。" } }
        @else {
            table #objections {
                thead { tr { th { "编号" } th { "基础库资源" } th { "记录" } th { "信息项" } th { "提出时基础库的值" } th { "提出部门掌握的值" } th { "提出部门" } th { "来源部门" } th { "状态" } th { "核实时限" } } }
                tbody { @for o in &list.items {
                    tr {
                        td { a href=(format!("/sharing/objections/{}", o.objection.id)) { (o.objection.id) } }
                        td { code { (o.resource_code) } " " (o.resource_name) }
                        td.mono { (o.objection.row_key) }
                        td { (o.field_name) }
                        td { (o.objection.registry_value) }
                        td { (o.objection.claimed_value) }
                        td { (o.raised_by_dept_name) }
                        td { (o.source_dept_name) }
                        td { (state_tag(o)) }
                        td { (format_minute(o.objection.deadline_at)) }
                    }
                } }
            }
            (pager(&if chosen.is_empty() { "/sharing/objections".to_owned() } else { format!("/sharing/objections?status={chosen}") },
                   list.page, list.pages(), list.total))
        }
        @if !registries.is_empty() {
            div.card #raise {
                h2 { "提出数据异议" }
                (error_summary(errors))
                form method="post" action="/sharing/objections" {
                    input type="hidden" name="_csrf" value=(p.csrf);
                    div.field {
                        label for="resource_field" { "基础库资源与信息项" }
                        select #resource_field name="resource_field" required {
                            option value="" { "请选择" }
                            @for r in &registries {
                                optgroup label=(format!("{} {}（{}）", r.resource.code, r.resource.name, r.provider_name)) {
                                    @for it in r.resource.fields.iter().filter(|i| !i.secret && !i.primary_key) {
                                        @let v = format!("{}|{}", r.resource.code, it.field);
                                        option value=(v) selected[v == pick] { (it.name) }
                                    }
                                }
                            }
                        }
                        (field_error(errors, "resource_code"))
                        (field_error(errors, "field"))
                    }
                    (webcore::layout::text_field("记录的主键值（如身份证号、统一社会信用代码）", "row_key", f.get("row_key"), errors, "required maxlength=\"64\""))
                    (webcore::layout::text_field("本部门掌握的值", "claimed_value", f.get("claimed_value"), errors, "required maxlength=\"200\""))
                    div.field {
                        label for="reason" { "异议依据（数据来源、时间、证明材料）" }
                        textarea #reason name="reason" rows="3" maxlength="500" required { (f.get("reason")) }
                        (field_error(errors, "reason"))
                    }
                    button type="submit" { "提出异议" }
                }
            }
        }
    };
    Ok(page(p, "数据异议", body).into_response())
}

async fn raise(State(ctx): State<AppCtx>, p: PageCtx, f: FormData) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let (code, field) = f.get("resource_field").split_once('|').unwrap_or(("", ""));
    let n = NewObjection {
        resource_code: code.to_owned(),
        row_key: f.get("row_key").to_owned(),
        field: field.to_owned(),
        claimed_value: f.get("claimed_value").to_owned(),
        reason: f.get("reason").to_owned(),
    };
    match svc(&ctx).raise_objection(&p.actor, n).await {
        Ok(o) => Ok(back(
            &format!("/sharing/objections/{}", o.objection.id),
            &format!("已提出异议，转{}核实", o.source_dept_name),
        )),
        Err(e @ (Error::Validation(_) | Error::Conflict { .. } | Error::Forbidden(_))) => {
            let mut form = f.clone();
            form.0.push(("resource_code".into(), code.to_owned()));
            form.0.push(("field".into(), field.to_owned()));
            let resp = render_list(&ctx, &p, &ListQuery::default(), &form, &errors_of(&e)).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, resp).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn one(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    Query(m): Query<Msg>,
) -> PageResult {
    render_one(&ctx, &p, id, &m, &FormData::default(), &[]).await
}

async fn render_one(
    ctx: &AppCtx,
    p: &PageCtx,
    id: i64,
    m: &Msg,
    f: &FormData,
    errors: &[FieldError],
) -> PageResult {
    let o = svc(ctx).objection(&p.actor, id).await?;
    let x = &o.objection;
    let body = html! {
        (flash(m))
        p { a href="/sharing/objections" { "← 数据异议" } }
        dl.facts #objection {
            dt { "状态" } dd { (state_tag(&o)) }
            dt { "基础库资源" } dd { code { (o.resource_code) } " " (o.resource_name) }
            dt { "记录" } dd.mono { (x.row_key) }
            dt { "信息项" } dd { (o.field_name) }
            dt { "提出时基础库中的值" } dd #registry-value { (x.registry_value) }
            dt { "提出部门掌握的值" } dd { (x.claimed_value) }
            dt { "异议依据" } dd { (x.reason) }
            dt { "提出" } dd { (o.raised_by_dept_name) "，" (format_minute(x.created_at)) }
            dt { "来源部门" } dd { (o.source_dept_name) "，须于 " (format_minute(x.deadline_at)) " 前核实" }
            @if let Some(at) = x.answered_at {
                dt { "核实意见" } dd #answer { (x.answer) }
                @if let Some(v) = &x.corrected_value { dt { "更正为" } dd { (v) } }
                dt { "答复时间" } dd { (format_minute(at)) }
            }
        }
        @if o.can_answer {
            div.card #answer-form {
                h2 { "核实答复" }
                (error_summary(errors))
                form method="post" action=(format!("/sharing/objections/{id}/answer")) {
                    input type="hidden" name="_csrf" value=(p.csrf);
                    fieldset {
                        legend { "核实结果" }
                        label { input type="radio" name="outcome" value="confirmed" checked[f.get("outcome") == "confirmed"]; " 核实无误（基础库的值正确）" }
                        label { input type="radio" name="outcome" value="corrected" checked[f.get("outcome") == "corrected"]; " 更正基础库" }
                        (field_error(errors, "outcome"))
                    }
                    (webcore::layout::text_field("更正后的值（不填则采用提出部门的值）", "corrected_value", f.get("corrected_value"), errors, "maxlength=\"200\""))
                    div.field {
                        label for="answer" { "核实意见" }
                        textarea #answer-text name="answer" rows="3" maxlength="500" required { (f.get("answer")) }
                        (field_error(errors, "answer"))
                    }
                    button type="submit" { "提交核实结果" }
                }
            }
        }
    };
    Ok(page(p, &format!("数据异议 {id}"), body).into_response())
}

async fn answer(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let outcome = ObjectionStatus::parse(f.get("outcome"));
    let result = match outcome {
        None => Err(Error::field("outcome", "required", "请选择核实结果")),
        Some(outcome) => {
            let a = ObjectionAnswer {
                outcome,
                answer: f.get("answer").to_owned(),
                corrected_value: f.opt("corrected_value"),
            };
            svc(&ctx).answer_objection(&p.actor, id, a).await
        }
    };
    match result {
        Ok(o) => Ok(back(
            &format!("/sharing/objections/{id}"),
            &format!("已答复：{}", o.status_label),
        )),
        Err(e @ (Error::Validation(_) | Error::Conflict { .. } | Error::Forbidden(_))) => {
            let resp = render_one(&ctx, &p, id, &Msg::default(), &f, &errors_of(&e)).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, resp).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
