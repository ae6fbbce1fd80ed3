//! 办不成事反映 for supervisors (`/services/feedback`): the reports with a status filter and
//! counts, each with its text, the contact (phone masked by `ServicesService::feedback_list` for
//! all but admins), the item and department when given, and an answer form (post → redirect;
//! an empty answer is shown beside its field and nothing is written).

use crate::domain::{Feedback, FeedbackStatus};
use crate::ServicesService;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use kernel::clock::format_minute;
use kernel::{Actor, Error, FieldError};
use maud::html;
use serde::Deserialize;
use std::collections::HashMap;
use webcore::layout::{csrf_input, error_summary, field_error, notice, page};
use webcore::{AppCtx, FormData, PageCtx, PageError, Path, Query};

pub(super) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/services/feedback", get(list))
        .route("/services/feedback/{id}/answer", post(answer))
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    msg: String,
}

async fn list(
    p: PageCtx,
    State(ctx): State<AppCtx>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    render(&ctx, &p, &q.status, &q.msg, None, &[]).await
}

/// Names of the items and departments the reports mention.
async fn names(
    s: &ServicesService,
    list: &[Feedback],
) -> (HashMap<i64, String>, HashMap<i64, String>) {
    let org = org::OrgService::new(s.db().clone(), Default::default());
    let (mut items, mut depts) = (HashMap::new(), HashMap::new());
    for f in list {
        if let Some(i) = f.item_id {
            if let std::collections::hash_map::Entry::Vacant(e) = items.entry(i) {
                if let Ok(x) = s.published_item(i).await {
                    e.insert(x.content.name);
                }
            }
        }
        if let Some(d) = f.dept_id {
            if let std::collections::hash_map::Entry::Vacant(e) = depts.entry(d) {
                if let Ok(x) = org.department(&Actor::system(), d).await {
                    e.insert(x.name);
                }
            }
        }
    }
    (items, depts)
}

/// The page; `failed` is the report whose answer form came back with `errors` (and its text).
async fn render(
    ctx: &AppCtx,
    p: &PageCtx,
    status: &str,
    msg: &str,
    failed: Option<(i64, &str)>,
    errors: &[FieldError],
) -> Result<Response, PageError> {
    let s = ServicesService::new(ctx.db.clone());
    let all = s.feedback_list(&p.actor).await?;
    let filter = FeedbackStatus::parse(status);
    let count = |st: FeedbackStatus| all.iter().filter(|f| f.status == st).count();
    let shown: Vec<&Feedback> = all
        .iter()
        .filter(|f| filter.is_none_or(|st| f.status == st))
        .collect();
    let (items, depts) = names(&s, &all).await;
    let body = html! {
        @if !msg.is_empty() { (notice(msg)) }
        // The summary links to the one answer box that came back.
        (error_summary(&failed.map(|(id, _)| errors.iter().map(|e| FieldError { field: format!("answer-{id}"), ..e.clone() }).collect::<Vec<_>>()).unwrap_or_default()))
        nav.actions #feedback-filter aria-label="按状态筛选" {
            a href="/services/feedback" aria-current=[filter.is_none().then_some("true")] { "全部（" (all.len()) "）" }
            @for st in FeedbackStatus::ALL {
                a href=(format!("/services/feedback?status={}", st.code())) aria-current=[(filter == Some(*st)).then_some("true")] {
                    (st.label()) "（" span.count id=(format!("count-{}", st.code())) { (count(*st)) } "）"
                }
            }
        }
        @if shown.is_empty() { p.muted { "没有符合条件的反映。" } }
        @for f in &shown {
            @let fid = format!("answer-{}", f.id);
            @let errs: &[FieldError] = if failed.is_some_and(|(id, _)| id == f.id) { errors } else { &[] };
            section.card.feedback id=(format!("fb-{}", f.id)) {
                h2 { "反映 " (f.number) " · " span.status { (f.status.label()) } }
                p.muted {
                    (format_minute(f.created_at)) " · 反映人：" (f.name) " " span.phone { (f.phone) }
                    @if let Some(i) = f.item_id { " · 事项：" (items.get(&i).cloned().unwrap_or_else(|| format!("事项 {i}"))) }
                    @if let Some(d) = f.dept_id { " · 部门：" (depts.get(&d).cloned().unwrap_or_else(|| format!("部门 {d}"))) }
                }
                p.pre.text { (f.text) }
                @if let Some(a) = &f.answer {
                    p.answer { strong { "答复：" } (a) @if let Some(t) = f.answered_at { span.muted { "（" (format_minute(t)) "）" } } }
                }
                @if f.status == FeedbackStatus::Open {
                    form.answer method="post" action=(format!("/services/feedback/{}/answer", f.id)) {
                        (csrf_input(p))
                        input type="hidden" name="status" value=(status);
                        div.field {
                            label for=(fid) { "答复反映人" }
                            textarea id=(fid) name="answer" rows="3" maxlength="4000"
                                aria-invalid=[(!errs.is_empty()).then_some("true")]
                                aria-describedby=[(!errs.is_empty()).then(|| "answer-error")] {
                                (failed.filter(|(id, _)| *id == f.id).map(|(_, t)| t).unwrap_or(""))
                            }
                            (field_error(errs, "answer"))
                        }
                        button type="submit" { "提交答复" }
                    }
                }
            }
        }
    };
    let code = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((code, page(p, "办不成事反映", body)).into_response())
}

async fn answer(
    p: PageCtx,
    State(ctx): State<AppCtx>,
    Path(id): Path<i64>,
    f: FormData,
) -> Result<Response, PageError> {
    p.check_csrf(f.get(webcore::CSRF_FIELD))?;
    let s = ServicesService::new(ctx.db.clone());
    let status = f.get("status").to_owned();
    let back = |msg: &str| {
        format!(
            "/services/feedback?status={}&msg={}#fb-{id}",
            super::esc(&status),
            super::esc(msg)
        )
    };
    match s.answer_feedback(&p.actor, id, f.get("answer")).await {
        Ok(x) => Ok(Redirect::to(&back(&format!("反映 {} 已答复", x.number))).into_response()),
        Err(e @ Error::Validation(_)) => {
            render(
                &ctx,
                &p,
                &status,
                "",
                Some((id, f.get("answer"))),
                e.field_errors(),
            )
            .await
        }
        Err(e @ Error::IllegalTransition { .. }) => {
            Ok(Redirect::to(&back(&e.detail())).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
