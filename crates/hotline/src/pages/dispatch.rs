//! The dispatch queue (派单, `/hotline/dispatch`): tickets waiting for a department, oldest
//! first, each with a department choice; tick several and confirm them at once. The script
//! fills each row's choice from `GET /api/v1/hotline/tickets/{id}/suggestion` when that exists;
//! without it the dispatcher chooses. Correcting with co-handlers, splitting and merging are on
//! the ticket page.

use super::widgets::*;
use super::{back_with, done_message, DISPATCH_ROLES};
use crate::domain::*;
use crate::http::svc;
use crate::service::TicketQuery;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kernel::{Error, FieldError};
use maud::{html, Markup};
use webcore::layout::{self, csrf_input, page, pager};
use webcore::{AppCtx, FormData, PageCtx, PageError};

fn base() -> TicketQuery {
    TicketQuery {
        status: Some("pending_dispatch".into()),
        sort: Some("oldest".into()),
        ..Default::default()
    }
}

pub async fn show(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    axum::extract::Query(q): axum::extract::Query<ListParams>,
) -> Result<Markup, PageError> {
    render(&ctx, &p, &q, &FormData(vec![]), &[]).await
}

async fn render(
    ctx: &AppCtx,
    p: &PageCtx,
    q: &ListParams,
    form: &FormData,
    errors: &[FieldError],
) -> Result<Markup, PageError> {
    p.actor.require_any_role(DISPATCH_ROLES)?;
    let s = svc(ctx);
    let query = q.query(base());
    let listed = list(&s, &p.actor, &query, q.page, 30).await;
    let depts = departments(ctx, &p.actor).await;
    let names = depts.iter().map(|d| (d.id, d.name.clone())).collect();
    let cats = s.categories().await?;
    let hints = match &listed {
        Ok(list) => row_hints(ctx, p, &list.items).await,
        Err(_) => Default::default(),
    };
    let fixed: Vec<(&str, String)> = vec![];
    let qs = q.qs(&fixed);
    let export = format!("status=pending_dispatch&{}", q.qs(&[]));
    Ok(page(
        p,
        "派单",
        html! {
            (assets())
            @if let Some(m) = q.sent.as_deref().and_then(|x| sent_message(x, &names)) {
                (layout::notice(&m))
            } @else if let Some(m) = q.done.as_deref().and_then(done_message) {
                (layout::notice(&m))
            }
            (layout::error_summary(errors))
            (filter_bar("/hotline/dispatch", q, &fixed, &export))
            @match &listed {
                Err(e) => (layout::alert(&e.detail())),
                Ok(list) => {
                    form #bulk method="post" action="/hotline/dispatch" {
                        (csrf_input(p))
                        (ticket_table(&list.items, Columns { select: true, caller: false, department: false, deadline: false }, &names, "分类 · 建议 · 派往", |v| {
                            let t = &v.ticket;
                            let name = format!("dept_{}", t.id);
                            let hint = hints.get(&t.id);
                            let suggested = hint.and_then(|h| h.dept.as_ref());
                            // What was sent wins; otherwise the stored suggestion is preselected.
                            let chosen: Option<i64> = if form.0.is_empty() {
                                suggested.map(|d| d.department_id)
                            } else {
                                form.get(&name).parse().ok()
                            };
                            let bad = invalid(errors, &name);
                            html! {
                                div.muted.small { (category_path(&cats, t.category_id)) }
                                @if let Some(d) = suggested {
                                    div.suggestion #(format!("suggest-{}", t.id)) {
                                        "建议：" strong { (d.name) } " "
                                        span.confidence { "置信度 " (format!("{:.0}%", d.confidence * 100.0)) }
                                        br; span.small.muted { (d.reason) }
                                    }
                                } @else {
                                    div.suggestion hidden data-suggestion-for=(t.id) {}
                                }
                                @if let Some((dup_id, number, sim)) = hint.and_then(|h| h.duplicate.as_ref()) {
                                    div.small.dup-hint #(format!("dup-{}", t.id)) {
                                        "可能重复：" a href=(format!("/hotline/tickets/{dup_id}")) { (number) }
                                        " （相似度 " (format!("{:.0}%", sim * 100.0)) "）"
                                    }
                                }
                                label.sr for=(format!("dept-{}", t.id)) { "派往单位" }
                                select id=(format!("dept-{}", t.id)) name=(name) data-suggest-target=(t.id)
                                    aria-invalid=[bad.then_some("true")] aria-describedby=[bad.then(|| format!("dept-{}-error", t.id))] {
                                    option value="" { "请选择单位" }
                                    @for d in &depts { option value=(d.id) selected[chosen == Some(d.id)] { (d.name) } }
                                }
                                (error_for(&format!("dept-{}", t.id), &name, errors))
                                " " a.small href=(format!("/hotline/tickets/{}", t.id)) { "协办·拆分·合并" }
                            }
                        }))
                        @if !list.items.is_empty() {
                            div.actions {
                                button #bulk-confirm type="submit" { "确认派单（勾选的工单）" }
                                span.muted { " 先勾选工单，每件派往所选单位。" }
                            }
                        }
                    }
                    (pager(&format!("/hotline/dispatch?{qs}"), list.page, list.pages(), list.total))
                }
            }
            (shortcuts(&[("/", "聚焦搜索框"), ("Alt+A", "勾选全部有建议的工单")]))
        },
    ))
}

/// What the server knows about a queued ticket before the dispatcher chooses.
#[derive(Default)]
struct RowHint {
    dept: Option<crate::intel::dispatch::DeptSuggestion>,
    /// The open ticket stored at intake as its likely duplicate: id, number, similarity.
    duplicate: Option<(i64, String, f64)>,
}

/// Each row's stored department suggestion and duplicate hint, so the queue works without the
/// script. One row at a time (a page holds at most 30); a row without either shows none.
async fn row_hints(
    ctx: &AppCtx,
    p: &PageCtx,
    items: &[crate::service::TicketView],
) -> std::collections::HashMap<i64, RowHint> {
    let s = svc(ctx);
    let mut out = std::collections::HashMap::new();
    for v in items {
        let id = v.ticket.id;
        let dept = s
            .ticket_suggestion(&p.actor, id)
            .await
            .ok()
            .and_then(|x| x.department);
        let stored = s.stored_duplicate(&p.actor, id).await.ok().flatten();
        let duplicate = match stored {
            Some((cid, sim)) => s
                .get(&p.actor, cid)
                .await
                .ok()
                .filter(|d| d.ticket.status.is_open())
                .map(|d| (cid, d.ticket.number, sim)),
            None => None,
        };
        out.insert(id, RowHint { dept, duplicate });
    }
    out
}

/// POST `/hotline/dispatch`: dispatches every ticked ticket to its row's department. All rows
/// are checked first, so a missing choice sends nothing.
pub async fn bulk_submit(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    form: FormData,
) -> Result<Response, PageError> {
    p.actor.require_any_role(DISPATCH_ROLES)?;
    p.check_csrf(form.get(webcore::CSRF_FIELD))?;
    let mut c = kernel::error::Checks::new();
    let mut todo = Vec::new();
    let ids = form.all("ids");
    if ids.is_empty() {
        c.add("ids", "required", "请先勾选要派单的工单");
    }
    for id in ids {
        let Ok(id) = id.parse::<i64>() else {
            c.add("ids", "invalid_type", "勾选的工单编号无效");
            continue;
        };
        let name = format!("dept_{id}");
        match form.get(&name).parse::<i64>() {
            Ok(d) => todo.push((id, d)),
            Err(_) => c.add(&name, "required", "请为这件工单选择派往单位"),
        }
    }
    let s = svc(&ctx);
    // Departments in the order first sent to, with how many went to each.
    let mut sent: Vec<(i64, usize)> = Vec::new();
    let result = match c.finish() {
        Err(e) => Err(e),
        Ok(()) => {
            let mut r = Ok(());
            for (id, d) in todo {
                if let Err(e) = s
                    .act(
                        &p.actor,
                        id,
                        Action::Dispatch {
                            main_dept_id: d,
                            co_dept_ids: vec![],
                        },
                    )
                    .await
                {
                    // Earlier rows are dispatched (each is its own change); say which one failed.
                    r = Err(match e {
                        Error::Validation(_) | Error::IllegalTransition { .. } => {
                            Error::field(format!("dept_{id}"), "dispatch_failed", e.detail())
                        }
                        other => other,
                    });
                    break;
                }
                match sent.iter_mut().find(|(x, _)| *x == d) {
                    Some((_, n)) => *n += 1,
                    None => sent.push((d, 1)),
                }
            }
            r
        }
    };
    match result {
        Ok(()) => {
            let list: Vec<String> = sent.iter().map(|(d, n)| format!("{d}:{n}")).collect();
            Ok(back_with(
                &form,
                "/hotline/dispatch",
                &format!("done=bulk_dispatch&sent={}", list.join(",")),
            ))
        }
        Err(Error::Validation(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&ctx, &p, &ListParams::default(), &form, &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

/// "已派单 5 件：住建局 3 件、城管局 2 件" from `dept_id:count,…`; None when unreadable.
fn sent_message(sent: &str, names: &std::collections::HashMap<i64, String>) -> Option<String> {
    let mut parts = Vec::new();
    let mut total = 0;
    for pair in sent.split(',').filter(|x| !x.is_empty()) {
        let (d, n) = pair.split_once(':')?;
        let (d, n): (i64, usize) = (d.parse().ok()?, n.parse().ok()?);
        total += n;
        let name = names.get(&d).cloned().unwrap_or_else(|| "其他单位".into());
        parts.push(format!("{name} {n} 件"));
    }
    (total > 0).then(|| format!("已派单 {total} 件：{}", parts.join("、")))
}
