//! Callbacks (回访, `/hotline/callback`): replied tickets waiting for the caller's verdict,
//! oldest first; each row records 满意 / 基本满意 / 不满意 / 未接通, optionally reopening.

use super::ticket::{callback_form, Sent};
use super::widgets::*;
use super::{done_message, CALLBACK_ROLES};
use crate::http::svc;
use crate::service::TicketQuery;
use axum::extract::State;
use maud::{html, Markup};
use webcore::layout::{self, page, pager};
use webcore::{AppCtx, PageCtx, PageError};

pub async fn show(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    axum::extract::Query(q): axum::extract::Query<ListParams>,
) -> Result<Markup, PageError> {
    p.actor.require_any_role(CALLBACK_ROLES)?;
    let s = svc(&ctx);
    let base = TicketQuery {
        status: Some("replied".into()),
        sort: Some("oldest".into()),
        ..Default::default()
    };
    let listed = list(&s, &p.actor, &q.query(base), q.page, 20).await;
    let names = dept_names(&ctx, &p.actor).await;
    let fixed: Vec<(&str, String)> = vec![];
    let qs = q.qs(&fixed);
    let export = format!("status=replied&{}", q.qs(&[]));
    let sent = Sent::default();
    Ok(page(
        &p,
        "回访",
        html! {
            (assets())
            @if let Some(m) = q.done.as_deref().and_then(done_message) { (layout::notice(&m)) }
            (filter_bar("/hotline/callback", &q, &fixed, &export))
            @match &listed {
                Err(e) => (layout::alert(&e.detail())),
                Ok(list) => {
                    @if list.items.is_empty() { p.muted { "没有待回访的工单。" } }
                    @for v in &list.items {
                        @let t = &v.ticket;
                        article.card.callback-item id=(format!("cb-{}", t.id)) {
                            div.row {
                                div {
                                    h2 { a href=(format!("/hotline/tickets/{}", t.id)) { (t.number) } " " (t.title) }
                                    p.muted { "来电人：" (caller(v)) "　承办单位：" (dept_name(&names, t.main_dept_id)) "　答复于 " (time(t.replied_at)) }
                                    @if let Some(r) = &t.reply { p.reply { (r) } }
                                    @if t.callback_attempts > 0 { p.muted { "已回访 " (t.callback_attempts) " 次未接通" } }
                                }
                                (callback_form(&p, t.id, "/hotline/callback", &sent))
                            }
                        }
                    }
                    (pager(&format!("/hotline/callback?{qs}"), list.page, list.pages(), list.total))
                }
            }
        },
    ))
}
