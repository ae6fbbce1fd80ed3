//! The citizen's online application (one item, or a 一件事) and their own cases, with rating.

use super::*;
use crate::domain::*;
use crate::service::{CaseQuery, NewBundleCase, NewCase};
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use kernel::clock::format_minute;
use kernel::error::{Error, FieldError};
use kernel::page::PageQuery;
use maud::html;
use webcore::layout::{csrf_input, error_summary, notice, page};
use webcore::{AppCtx, FormData, PageCtx, Path, Query};

pub(super) fn routes() -> Router<AppCtx> {
    Router::new()
        .route(
            "/services/apply/bundle/{id}",
            get(apply_form).post(apply_post),
        )
        .route(
            "/services/apply/item/{id}",
            get(item_apply_form).post(item_apply_post),
        )
        .route("/services/mine", get(mine))
        .route("/services/mine/{number}", get(mine_one))
        .route("/services/mine/{number}/evaluate", post(mine_evaluate))
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
    let s = svc(ctx);
    let v = s.bundle(id).await?;
    let f = &with_account(ctx, p, f).await;
    let found = s
        .exemption_preview(&v.merged.materials, f.get("applicant.id_no"))
        .await?;
    let body = html! {
        p { "一次填写、一次提交，" (v.items.len()) " 个部门同时办理。" }
        (error_summary(errors))
        form #apply-form method="post" action=(format!("/services/apply/bundle/{id}")) {
            (csrf_input(p))
            (applicant_fields(f, errors))
            (form_fields(&v.merged.fields, f, errors))
            (material_boxes(&v.merged.materials, f, &found))
            button type="submit" { "提交申请" }
        }
    };
    Ok(page(p, &format!("在线申请：{}", v.bundle.content.name), body).into_response())
}

/// The form as the account fills it on first view: an applicant applying online is who they
/// logged in as (their name, 身份证号 and phone from their account); what they typed wins.
async fn with_account(ctx: &AppCtx, p: &PageCtx, f: &FormData) -> FormData {
    let mut f = f.clone();
    if !f.get("applicant.name").is_empty() || !f.get("_csrf").is_empty() {
        return f;
    }
    let Some(uid) = p.actor.user_id else {
        return f;
    };
    let Ok(u) = svc(ctx).org().user(&p.actor, uid).await else {
        return f;
    };
    f.0.push(("applicant.name".into(), u.display_name.clone()));
    if let Some(i) = u.id_card {
        f.0.push(("applicant.id_no".into(), i));
    }
    if let Some(ph) = u.phone {
        f.0.push(("applicant.phone".into(), ph));
    }
    f
}

#[derive(Deserialize, Default)]
struct ScenarioQuery {
    #[serde(default)]
    scenario: String,
}

async fn item_apply_form(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    Query(q): Query<ScenarioQuery>,
) -> PageResult {
    let f = FormData(vec![("scenario".into(), q.scenario)]);
    item_apply_page(&ctx, &p, id, &f, &[]).await
}

/// One item applied for online: 情形 first (it decides the materials), then the applicant
/// (from the account), the item's form, and the materials — those taken from the applicant's
/// 电子证照 say so before anything is submitted.
async fn item_apply_page(
    ctx: &AppCtx,
    p: &PageCtx,
    id: i64,
    f: &FormData,
    errors: &[FieldError],
) -> PageResult {
    let s = svc(ctx);
    let item = s.published_item(id).await?;
    let c = &item.content;
    let scenario = f.get("scenario").trim().to_owned();
    let materials = c
        .materials_for(Some(&scenario))
        .unwrap_or_else(|_| c.materials.clone());
    let f = &with_account(ctx, p, f).await;
    let found = s
        .exemption_preview(&materials, f.get("applicant.id_no"))
        .await?;
    let body = html! {
        p { a href=(format!("/guide/items/{id}")) { "← 办事指南" } " · 承诺时限 " (c.promised_days) " " (c.time_unit.label()) " · " (c.depth.label()) }
        @if !c.scenarios.is_empty() {
            form #scenario-form.filters method="get" action=(format!("/services/apply/item/{id}")) {
                div.field {
                    label for="scenario" { "办理情形" }
                    select #scenario name="scenario" {
                        option value="" selected[scenario.is_empty()] { "一般情形" }
                        @for sc in &c.scenarios { option value=(sc.code) selected[scenario == sc.code] { (sc.name) } }
                    }
                }
                button.secondary type="submit" { "按此情形列出材料" }
            }
        }
        (error_summary(errors))
        form #apply-form method="post" action=(format!("/services/apply/item/{id}")) {
            (csrf_input(p))
            input type="hidden" name="scenario" value=(scenario);
            (applicant_fields(f, errors))
            (form_fields(&c.fields, f, errors))
            (material_boxes(&materials, f, &found))
            button type="submit" { "提交申请" }
        }
    };
    let code = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((code, page(p, &format!("在线申请：{}", c.name), body)).into_response())
}

async fn item_apply_post(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let s = svc(&ctx);
    let item = s.published_item(id).await?;
    let scenario = f.get("scenario").trim();
    let input = NewCase {
        item_id: id,
        scenario: (!scenario.is_empty()).then(|| scenario.to_owned()),
        applicant: read_applicant(&f),
        form: read_form(&item.content.fields, &f),
        materials: f.all("materials").into_iter().map(str::to_owned).collect(),
    };
    match s.submit(&p.actor, input).await {
        Ok(c) => Ok(see_other(&format!(
            "/services/mine/{}",
            esc(&c.case.number)
        ))),
        Err(e @ Error::Validation(_)) => item_apply_page(&ctx, &p, id, &f, &errors_of(&e)).await,
        Err(e) => Err(e.into()),
    }
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
pub(super) async fn mine_page(
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
