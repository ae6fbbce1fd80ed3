//! The department's case inbox.

use super::*;
use crate::domain::*;
use crate::service::CaseQuery;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use kernel::clock::format_minute;
use kernel::page::PageQuery;
use maud::html;
use serde::Deserialize;
use webcore::layout::page;
use webcore::{AppCtx, PageCtx, Query};

pub(super) fn routes() -> Router<AppCtx> {
    Router::new().route("/services/inbox", get(inbox))
}

// ---- the department inbox ----

#[derive(Deserialize, Default)]
struct InboxQuery {
    status: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    page: Option<i64>,
}

const SORTS: [(&str, &str); 3] = [
    ("newest", "最新申请在前"),
    ("oldest", "最早申请在前"),
    ("due", "承诺办结最早在前"),
];

async fn inbox(State(ctx): State<AppCtx>, p: PageCtx, Query(q): Query<InboxQuery>) -> PageResult {
    let status = q.status.clone().filter(|s| !s.is_empty());
    let text = q.q.clone().unwrap_or_default();
    let sort = q
        .sort
        .clone()
        .filter(|s| SORTS.iter().any(|(k, _)| k == s))
        .unwrap_or_else(|| "newest".into());
    let list = svc(&ctx)
        .list(
            &p.actor,
            &CaseQuery {
                status: status.clone(),
                q: Some(text.clone()),
                sort: Some(sort.clone()),
                ..Default::default()
            },
            &PageQuery {
                page: q.page,
                per_page: Some(50),
            },
        )
        .await?;
    // The pager keeps the filters.
    let here = {
        let mut u = form_urlencoded::Serializer::new(String::new());
        if let Some(s) = &status {
            u.append_pair("status", s);
        }
        if !text.trim().is_empty() {
            u.append_pair("q", text.trim());
        }
        u.append_pair("sort", &sort);
        format!("/services/inbox?{}", u.finish())
    };
    let body = html! {
        form.filters method="get" action="/services/inbox" {
            div.field {
                label for="q" { "查找" }
                input #q name="q" type="search" value=(text) placeholder="办件编号、申请人、电话或事项名称";
            }
            div.field {
                label for="status" { "状态" }
                select #status name="status" {
                    option value="" { "全部" }
                    @for s in CaseStatus::ALL { option value=(s.code()) selected[status.as_deref() == Some(s.code())] { (s.label()) } }
                }
            }
            div.field {
                label for="sort" { "排序" }
                select #sort name="sort" {
                    @for (k, label) in SORTS { option value=(k) selected[sort == k] { (label) } }
                }
            }
            div.field { button type="submit" { "筛选" } }
        }
        table #cases {
            thead { tr { th { "办件编号" } th { "事项" } th { "申请人" } th { "渠道" } th { "状态" } th { "承诺办结" } th { "亮牌" } } }
            tbody {
                @if list.items.is_empty() { tr { td colspan="7" { "没有符合条件的办件。" } } }
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
        (webcore::layout::pager(&here, list.page, list.pages(), list.total))
    };
    Ok(page(&p, "部门办件", body).into_response())
}
