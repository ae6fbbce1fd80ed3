//! The department inbox (承办单位, `/hotline/inbox`): tabs for to-acknowledge, in progress,
//! sent back for redoing (重办) and overdue, with counts and deadline colours. Acknowledging is
//! one click here; replying (with templates), extensions and returns are on the ticket page.

use super::widgets::*;
use super::{done_message, HANDLE_ROLES};
use crate::domain::*;
use crate::http::svc;
use crate::service::TicketQuery;
use axum::extract::State;
use maud::{html, Markup};
use webcore::layout::{self, csrf_input, page, pager};
use webcore::{AppCtx, PageCtx, PageError};

const TABS: &[(&str, &str)] = &[
    ("ack", "待签收"),
    ("doing", "办理中"),
    ("reopened", "被退回重办"),
    ("overdue", "已超期"),
];

fn base(tab: &str) -> TicketQuery {
    let mut q = TicketQuery {
        sort: Some("due".into()),
        ..Default::default()
    };
    match tab {
        "ack" => q.status = Some("dispatched".into()),
        "doing" => q.status = Some("acknowledged,in_progress".into()),
        "reopened" => {
            q.status = Some("dispatched,acknowledged,in_progress".into());
            q.reopened = true;
        }
        _ => {
            q.status = Some("dispatched,acknowledged,in_progress".into());
            q.card = Some(Card::Red);
        }
    }
    q
}

pub async fn show(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    axum::extract::Query(q): axum::extract::Query<ListParams>,
) -> Result<Markup, PageError> {
    p.actor.require_any_role(HANDLE_ROLES)?;
    let s = svc(&ctx);
    let (tab, counts) = tabs_with_counts(&s, &p.actor, TABS, q.tab.clone(), "ack", base).await;
    let listed = list(&s, &p.actor, &q.query(base(&tab)), q.page, 30).await;
    let names = dept_names(&ctx, &p.actor).await;
    let fixed = vec![("tab", tab.clone())];
    let qs = q.qs(&fixed);
    let bq = base(&tab);
    let export = format!(
        "status={}{}{}&{}",
        bq.status.clone().unwrap_or_default(),
        if bq.reopened { "&reopened=true" } else { "" },
        if bq.card.is_some() { "&card=red" } else { "" },
        q.qs(&[])
    );
    let back = format!("/hotline/inbox?tab={tab}");
    Ok(page(
        &p,
        "承办工单",
        html! {
            (assets())
            @if let Some(m) = q.done.as_deref().and_then(done_message) { (layout::notice(&m)) }
            (tabs("/hotline/inbox", &tab, &counts))
            (filter_bar("/hotline/inbox", &q, &fixed, &export))
            p.legend.muted { span.due.card-yellow { "黄牌" } " 临近期限　" span.due.card-red { "红牌" } " 已超期" }
            @match &listed {
                Err(e) => (layout::alert(&e.detail())),
                Ok(list) => {
                    (ticket_table(&list.items, Columns { select: false, caller: true, department: true, deadline: true }, &names, "操作", |v| {
                        let t = &v.ticket;
                        html! {
                            @if t.status == Status::Dispatched {
                                form.inline method="post" action=(format!("/hotline/tickets/{}/act", t.id)) {
                                    (csrf_input(&p))
                                    input type="hidden" name="action" value="acknowledge";
                                    input type="hidden" name="back" value=(back);
                                    button type="submit" id=(format!("ack-{}", t.id)) { "签收" }
                                }
                                " "
                            }
                            a.button.secondary href=(format!("/hotline/tickets/{}#reply-form", t.id)) {
                                @if t.status == Status::Dispatched { "查看" } @else { "答复·延期·退单" }
                            }
                        }
                    }))
                    (pager(&format!("/hotline/inbox?{qs}"), list.page, list.pages(), list.total))
                }
            }
            (shortcuts(&[("/", "聚焦搜索框")]))
        },
    ))
}
