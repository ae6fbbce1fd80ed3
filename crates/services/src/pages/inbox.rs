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
