//! The window's 好差评 evaluator (窗口评价器): after 出件 the clerk looks up the case or the
//! 一件事 application by number and turns the screen to the applicant, who rates it on the five
//! levels with tags. Stored through `ServicesService::evaluate` with channel 窗口评价器, under
//! the same one-rating-per-case-and-applicant rule as the web.

use super::{errors_of, esc, see_other, svc};
use crate::domain::*;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use kernel::error::{Error, FieldError};
use maud::html;
use serde::Deserialize;
use webcore::layout::{alert, csrf_input, error_summary, field_error, notice, page};
use webcore::{AppCtx, FormData, PageCtx, PageError, Query};

type PageResult = Result<Response, PageError>;

/// Tags offered for good and for bad ratings (free text stays possible).
const GOOD_TAGS: &[&str] = &[
    "一次办成",
    "办事效率高",
    "服务态度好",
    "材料精简",
    "指引清楚",
];
const BAD_TAGS: &[&str] = &[
    "等候时间长",
    "多次跑动",
    "材料重复提交",
    "告知不清楚",
    "服务态度差",
    "超时未办结",
];

pub(super) fn routes() -> Router<AppCtx> {
    Router::new().route(
        "/services/desk/evaluate",
        get(evaluator).post(evaluator_post),
    )
}

#[derive(Deserialize)]
struct EvaluatorQuery {
    #[serde(default)]
    number: String,
    #[serde(default)]
    msg: String,
}

async fn evaluator(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Query(q): Query<EvaluatorQuery>,
) -> PageResult {
    evaluator_page(&ctx, &p, q.number.trim(), &FormData(vec![]), &[], &q.msg).await
}

async fn evaluator_page(
    ctx: &AppCtx,
    p: &PageCtx,
    number: &str,
    f: &FormData,
    errors: &[FieldError],
    msg: &str,
) -> PageResult {
    p.actor
        .require_any_role(<crate::service::FrontDesk as kernel::auth::Permission>::ROLES)?;
    let svc = svc(ctx);
    let tracking = if number.is_empty() {
        None
    } else {
        match svc.track_own(&p.actor, number).await {
            Ok(t) => Some(Ok(t)),
            Err(e @ (Error::NotFound { .. } | Error::Forbidden(_))) => Some(Err(e)),
            Err(e) => return Err(e.into()),
        }
    };
    let chosen = f.get("level");
    let tags = f.all("tags");
    let body = html! {
        @if !msg.is_empty() { (notice(msg)) }
        p { "出件后请申请人对本次服务评价。输入办件编号或一件事申请编号，然后把屏幕转向申请人。" }
        form.search #lookup method="get" action="/services/desk/evaluate" {
            label for="number" { "办件编号" }
            input #number name="number" value=(number) required placeholder="如：BJ… 或 YJS…";
            button type="submit" { "查找" }
        }
        @match &tracking {
            None => {}
            Some(Err(e)) => { (alert(&format!("未找到可评价的办件：{}", e.detail()))) }
            Some(Ok(t)) => {
                h2 #case-title { (t.title) }
                p #status { "编号 " strong { (t.number) } "，当前状态：" strong { (t.status_label) } }
                @for e in &t.evaluations {
                    p.evaluation { "第 " (e.round) " 次评价（" (e.channel.label()) "）：" strong { (e.level.label()) } " " (e.text) }
                }
                @if !t.done {
                    (alert("办结后才能评价。"))
                } @else if !t.can_evaluate {
                    p #no-evaluation { "该办件已评价；差评整改完成后可再评价一次。" }
                } @else {
                    (error_summary(errors))
                    form #window-evaluate .evaluator method="post" action="/services/desk/evaluate" {
                        (csrf_input(p))
                        input type="hidden" name="number" value=(t.number);
                        fieldset #level {
                            legend { "您对本次服务满意吗？" }
                            @for l in Level::ALL {
                                label.level {
                                    input type="radio" name="level" value=(l.code()) required checked[chosen == l.code()];
                                    " " (l.label())
                                }
                            }
                            (field_error(errors, "level"))
                        }
                        fieldset #tags {
                            legend { "评价标签（可多选）" }
                            @for tag in GOOD_TAGS.iter().chain(BAD_TAGS) {
                                label { input type="checkbox" name="tags" value=(tag) checked[tags.contains(tag)]; " " (tag) }
                            }
                        }
                        div.field {
                            label for="text" { "意见和建议（差评请说明原因）" }
                            textarea #text name="text" rows="3" aria-invalid=[errors.iter().any(|e| e.field == "text").then_some("true")] { (f.get("text")) }
                            (field_error(errors, "text"))
                        }
                        button type="submit" { "提交评价" }
                    }
                }
            }
        }
    };
    Ok(page(p, "窗口评价", body).into_response())
}

async fn evaluator_post(State(ctx): State<AppCtx>, p: PageCtx, f: FormData) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    p.actor
        .require_any_role(<crate::service::FrontDesk as kernel::auth::Permission>::ROLES)?;
    let number = f.get("number").trim().to_owned();
    let Some(level) = Level::parse(f.get("level")) else {
        let e = [FieldError::new("level", "required", "请选择评价等级")];
        return evaluator_page(&ctx, &p, &number, &f, &e, "").await;
    };
    let input = NewEvaluation {
        level,
        tags: f.all("tags").into_iter().map(str::to_owned).collect(),
        text: f.get("text").trim().to_owned(),
    };
    let svc = svc(&ctx);
    match svc.evaluate(&p.actor, &number, input).await {
        Ok(e) => {
            let msg = format!("已记录 {number} 的窗口评价：{}", e.level.label());
            let to = format!(
                "/services/desk/evaluate?number={}&msg={}",
                esc(&number),
                esc(&msg)
            );
            Ok(see_other(&to))
        }
        Err(e @ Error::Validation(_)) => {
            evaluator_page(&ctx, &p, &number, &f, &errors_of(&e), "").await
        }
        // Rated already (a second rating only after a rectification): say so on the page.
        Err(e @ (Error::Conflict { .. } | Error::IllegalTransition { .. })) => {
            let to = format!(
                "/services/desk/evaluate?number={}&msg={}",
                esc(&number),
                esc(&format!("未能记录评价：{}", e.detail()))
            );
            Ok(see_other(&to))
        }
        Err(e) => Err(e.into()),
    }
}
