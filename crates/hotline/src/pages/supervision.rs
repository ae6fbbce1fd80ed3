//! Supervision (督办, `/hotline/supervision`): overdue tickets, reopened ones, callbacks that
//! ended 不满意 (to reopen), and extension requests to approve or refuse; supervision notes.

use super::ticket::{extension_form, reopen_form, Sent};
use super::widgets::*;
use super::{done_message, SUPERVISE_ROLES};
use crate::domain::*;
use crate::http::svc;
use crate::service::TicketQuery;
use axum::extract::State;
use maud::{html, Markup};
use webcore::layout::{self, csrf_input, page, pager};
use webcore::{AppCtx, PageCtx, PageError};

const TABS: &[(&str, &str)] = &[
    ("overdue", "超期"),
    ("unsatisfied", "不满意待重办"),
    ("reopened", "重办中"),
    ("extensions", "延期审批"),
];

fn base(tab: &str) -> TicketQuery {
    let mut q = TicketQuery {
        sort: Some("due".into()),
        ..Default::default()
    };
    match tab {
        "unsatisfied" => {
            q.status = Some("closed".into());
            q.satisfaction = Some(CallbackResult::Unsatisfied);
            q.sort = Some("newest".into());
        }
        "reopened" => {
            q.status = Some("dispatched,acknowledged,in_progress".into());
            q.reopened = true;
        }
        "extensions" => q.pending_extension = true,
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
    p.actor.require_any_role(SUPERVISE_ROLES)?;
    let s = svc(&ctx);
    let (tab, counts) = tabs_with_counts(&s, &p.actor, TABS, q.tab.clone(), "overdue", base).await;
    let listed = list(&s, &p.actor, &q.query(base(&tab)), q.page, 20).await;
    let depts = departments(&ctx, &p.actor).await;
    let names = depts.iter().map(|d| (d.id, d.name.clone())).collect();
    let fixed = vec![("tab", tab.clone())];
    let qs = q.qs(&fixed);
    let bq = base(&tab);
    let export = format!(
        "status={}{}{}{}{}&{}",
        bq.status.clone().unwrap_or_default(),
        if bq.reopened { "&reopened=true" } else { "" },
        if bq.card.is_some() { "&card=red" } else { "" },
        if bq.pending_extension {
            "&pending_extension=true"
        } else {
            ""
        },
        if bq.satisfaction.is_some() {
            "&satisfaction=unsatisfied"
        } else {
            ""
        },
        q.qs(&[])
    );
    let back = format!("/hotline/supervision?tab={tab}");
    let sent = Sent::default();
    Ok(page(
        &p,
        "督办",
        html! {
            (assets())
            @if let Some(m) = q.done.as_deref().and_then(done_message) { (layout::notice(&m)) }
            (tabs("/hotline/supervision", &tab, &counts))
            (filter_bar("/hotline/supervision", &q, &fixed, &export))
            @match &listed {
                Err(e) => (layout::alert(&e.detail())),
                Ok(list) => {
                    (ticket_table(&list.items, Columns { select: false, caller: false, department: true, deadline: true }, &names, "督办", |v| {
                        let t = &v.ticket;
                        html! {
                            @if tab == "extensions" {
                                @if let Some(x) = &t.pending_extension {
                                    p.small { "申请延期 " (x.days) " 个工作日：" (x.reason) }
                                }
                                (extension_form(&p, t.id, &back, &sent, "list"))
                            } @else if tab == "unsatisfied" {
                                (reopen_form(&p, t.id, &back, &sent, &[], "list"))
                            } @else {
                                details {
                                    summary { "督办意见" }
                                    form.action-form method="post" action=(format!("/hotline/tickets/{}/act", t.id)) {
                                        (csrf_input(&p))
                                        input type="hidden" name="action" value="supervise";
                                        input type="hidden" name="back" value=(back);
                                        (textarea("督办意见", &format!("sv-{}-note", t.id), "note", "", &[], 2))
                                        button type="submit" { "发出督办" }
                                    }
                                }
                            }
                        }
                    }))
                    (pager(&format!("/hotline/supervision?{qs}"), list.page, list.pages(), list.total))
                }
            }
            (shortcuts(&[("/", "聚焦搜索框")]))
        },
    ))
}
