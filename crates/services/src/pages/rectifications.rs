//! 差评整改: the department's reply and the supervisor's review.

use super::*;
use crate::domain::*;
use crate::evaluation::service::RectificationFilter;
use crate::service::{RectificationReply, RectificationReview};
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use kernel::clock::format_minute;
use maud::html;
use serde::Deserialize;
use webcore::layout::{csrf_input, notice, page};
use webcore::{AppCtx, FormData, PageCtx, Path, Query};

pub(super) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/services/rectifications", get(rect_page))
        .route("/services/rectifications/{id}", post(rect_post))
}

// ---- 差评整改 ----

#[derive(Deserialize, Default)]
struct RectQuery {
    #[serde(default)]
    msg: String,
    /// `open` (default), `replied`, `done` or `all`.
    #[serde(default)]
    status: String,
    #[serde(default)]
    dept_id: Option<i64>,
    #[serde(default)]
    q: String,
    #[serde(default)]
    overdue: bool,
    page: Option<i64>,
}

/// The worklist: one row a task — the case and item linked, the department, the rating and
/// what the citizen said, the deadline (overdue marked), the state — and, on the row, what
/// the reader may do now (the department replies, the supervisor reviews).
async fn rect_page(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Query(m): Query<RectQuery>,
) -> PageResult {
    let s = svc(&ctx);
    let supervisor = p
        .actor
        .has_any_role(<crate::service::Supervise as kernel::auth::Permission>::ROLES);
    let status = match m.status.as_str() {
        "all" => None,
        "" => Some(if supervisor {
            RectificationStatus::Replied
        } else {
            RectificationStatus::Open
        }),
        x => RectificationStatus::parse(x),
    };
    let f = RectificationFilter {
        status,
        dept_id: m.dept_id,
        number: Some(m.q.clone()),
        overdue: m.overdue,
    };
    let list = s
        .rectification_list(
            &p.actor,
            &f,
            &kernel::page::PageQuery {
                page: m.page,
                per_page: Some(30),
            },
        )
        .await?;
    let depts = if supervisor {
        s.org()
            .departments(
                &p.actor,
                &Default::default(),
                &kernel::page::PageQuery {
                    page: None,
                    per_page: Some(kernel::page::MAX_PER_PAGE),
                },
            )
            .await
            .map(|d| {
                d.items
                    .into_iter()
                    .map(|d| (d.id, d.name))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    } else {
        vec![]
    };
    let status_code = status.map_or("all", |s| s.code());
    let mut query = format!("status={status_code}");
    if let Some(d) = m.dept_id {
        query.push_str(&format!("&dept_id={d}"));
    }
    if !m.q.trim().is_empty() {
        query.push_str(&format!("&q={}", esc(m.q.trim())));
    }
    if m.overdue {
        query.push_str("&overdue=true");
    }
    let body = html! {
        @if !m.msg.is_empty() { (notice(&m.msg)) }
        form #rect-filter.filters method="get" action="/services/rectifications" {
            div.field {
                label for="status" { "状态" }
                select #status name="status" {
                    @for st in RectificationStatus::ALL { option value=(st.code()) selected[status == Some(*st)] { (st.label()) } }
                    option value="all" selected[status.is_none()] { "全部" }
                }
            }
            @if supervisor {
                div.field {
                    label for="dept_id" { "部门" }
                    select #dept_id name="dept_id" {
                        option value="" { "全部部门" }
                        @for (id, name) in &depts { option value=(id) selected[m.dept_id == Some(*id)] { (name) } }
                    }
                }
            }
            div.field {
                label for="q" { "办件编号" }
                input #q name="q" value=(m.q) size="16";
            }
            div.field.check { label { input type="checkbox" name="overdue" value="true" checked[m.overdue]; " 只看逾期" } }
            button type="submit" { "查询" }
        }
        @if list.items.is_empty() {
            p.muted #rect-empty { "没有符合条件的整改任务。" }
        } @else {
            table #rectifications {
                thead { tr { th { "办件" } th { "事项" } th { "部门" } th { "评价" } th { "整改期限" } th { "状态" } th { "处理" } } }
                tbody {
                    @for row in &list.items {
                        @let r = &row.rectification;
                        tr id=(format!("rect-{}", r.id)) {
                            td.nowrap {
                                @match row.case_id {
                                    Some(id) => a href=(format!("/services/cases/{id}")) { (r.case_number) },
                                    None => { (r.case_number) }
                                }
                            }
                            td { (row.item_name) }
                            td { (row.dept_name) }
                            td {
                                span.tag.off { (row.level_label) }
                                @for t in &row.tags { span.tag { (t) } }
                                @if !row.text.is_empty() { div.small { (row.text) } }
                            }
                            td.nowrap {
                                (format_minute(r.due_at))
                                @if row.overdue { br; span.tag.off.overdue { "已逾期" } }
                            }
                            td.nowrap.status { (r.status.label()) }
                            td {
                                @if let Some(x) = &r.reply { div.small { "答复：" (x) } }
                                @if let Some(x) = &r.review_note { div.small { "审核：" (x) } }
                                @if r.status == RectificationStatus::Open && !supervisor {
                                    form.reply method="post" action=(format!("/services/rectifications/{}", r.id)) {
                                        (csrf_input(&p)) input type="hidden" name="do" value="reply";
                                        label.small for=(format!("reply-{}", r.id)) { "答复群众并说明整改措施" }
                                        textarea id=(format!("reply-{}", r.id)) name="reply" rows="2" required {}
                                        button type="submit" { "提交整改答复" }
                                    }
                                }
                                @if r.status == RectificationStatus::Replied && supervisor {
                                    form.review method="post" action=(format!("/services/rectifications/{}", r.id)) {
                                        (csrf_input(&p)) input type="hidden" name="do" value="review";
                                        div {
                                            label { input type="radio" name="approve" value="true" checked; " 整改到位" }
                                            " "
                                            label { input type="radio" name="approve" value="false"; " 退回重改" }
                                        }
                                        label.small for=(format!("note-{}", r.id)) { "审核意见" }
                                        input id=(format!("note-{}", r.id)) name="note" required;
                                        button type="submit" { "提交审核" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        (webcore::layout::pager(&format!("/services/rectifications?{query}"), list.page, list.pages(), list.total))
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
