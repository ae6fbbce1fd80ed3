//! The citizen's online application for a 一件事 and their own cases, with rating.

use super::*;
use crate::domain::*;
use crate::service::{CaseQuery, NewBundleCase};
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
