//! 差评整改: the department's reply and the supervisor's review.

use super::*;
use crate::domain::*;
use crate::service::{RectificationReply, RectificationReview};
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use kernel::clock::format_minute;
use maud::html;
use webcore::layout::{csrf_input, notice, page};
use webcore::{AppCtx, FormData, PageCtx, Path, Query};

pub(super) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/services/rectifications", get(rect_page))
        .route("/services/rectifications/{id}", post(rect_post))
}

// ---- 差评整改 ----

async fn rect_page(State(ctx): State<AppCtx>, p: PageCtx, Query(m): Query<MsgQuery>) -> PageResult {
    let list = svc(&ctx).rectifications(&p.actor).await?;
    let supervisor = p
        .actor
        .has_any_role(<crate::service::Supervise as kernel::auth::Permission>::ROLES);
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
