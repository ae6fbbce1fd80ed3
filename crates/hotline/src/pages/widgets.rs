//! Pieces every workbench page shares: badges, deadline colours, the caller as the reader may
//! see them, the ticket list with filters, sorting, paging and export, and form fields whose
//! errors sit beside them.

use crate::domain::*;
use crate::service::{HotlineService, TicketQuery, TicketView};
use kernel::page::{Page, PageQuery};
use kernel::{Actor, FieldError};
use maud::{html, Markup};
use std::collections::HashMap;
use webcore::AppCtx;

/// China time to the minute, or a dash.
pub fn time(ms: Option<i64>) -> String {
    ms.map(kernel::clock::format_minute)
        .unwrap_or_else(|| "—".into())
}

pub fn status_badge(s: Status) -> Markup {
    html! { span class=(format!("badge st-{}", s.code())) { (s.label()) } }
}

pub fn card_badge(c: Card) -> Markup {
    html! {
        @match c {
            Card::None => {},
            _ => span class=(format!("badge card-{}", c.code())) title=(format!("亮牌：{}", c.label())) { (c.label()) },
        }
    }
}

/// The deadline that matters now (acknowledge, then reply), coloured by the ticket's card;
/// none once the department has replied.
pub fn deadline(t: &Ticket) -> Markup {
    let due = if !t.status.with_department() {
        None
    } else if t.status == Status::Dispatched {
        t.ack_due.map(|d| ("签收", d))
    } else {
        None
    }
    .or(t
        .reply_due
        .filter(|_| t.status.with_department())
        .map(|d| ("答复", d)));
    html! {
        @if let Some((what, d)) = due {
            span class=(format!("due card-{}", t.card.code())) { (what) "期限 " (time(Some(d))) }
            @if t.paused_since.is_some() { " " span.badge { "已挂起" } }
        } @else { span.muted { "—" } }
    }
}

/// The caller as this reader may see them (the service has masked what they may not).
pub fn caller(v: &TicketView) -> Markup {
    let c = &v.ticket.caller;
    html! {
        @if c.anonymous { span.muted { "匿名" } " " }
        (c.name.clone().unwrap_or_else(|| "—".into()))
        @if let Some(p) = &c.phone { " " span.mono { (p) } }
    }
}

/// Department names by id, as far as the reader may list departments.
pub async fn dept_names(ctx: &AppCtx, actor: &Actor) -> HashMap<i64, String> {
    departments(ctx, actor)
        .await
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect()
}

/// Active departments the reader may list (for dispatch choices), by name.
pub async fn departments(ctx: &AppCtx, actor: &Actor) -> Vec<org::Department> {
    let org = org::OrgService::new(ctx.db.clone(), ctx.config.auth.clone());
    let mut out = Vec::new();
    for page in 1..=5 {
        let Ok(p) = org
            .departments(
                actor,
                &org::service::DepartmentQuery::default(),
                &PageQuery {
                    page: Some(page),
                    per_page: Some(200),
                },
            )
            .await
        else {
            break;
        };
        let done = p.items.len() < 200;
        out.extend(p.items.into_iter().filter(|d| d.active));
        if done {
            break;
        }
    }
    out
}

pub fn dept_name(names: &HashMap<i64, String>, id: Option<i64>) -> String {
    match id {
        Some(d) => names
            .get(&d)
            .cloned()
            .unwrap_or_else(|| format!("单位 #{d}")),
        None => "—".into(),
    }
}

/// Category path by id.
pub fn category_path(cats: &[Category], id: Option<i64>) -> String {
    id.and_then(|i| cats.iter().find(|c| c.id == i))
        .map(|c| c.path.replace('/', " › "))
        .unwrap_or_else(|| "未分类".into())
}

/// A `<select>` of departments.
pub fn dept_select(
    id: &str,
    name: &str,
    depts: &[org::Department],
    selected: Option<i64>,
    empty: &str,
) -> Markup {
    html! {
        select id=(id) name=(name) {
            option value="" { (empty) }
            @for d in depts { option value=(d.id) selected[selected == Some(d.id)] { (d.name) } }
        }
    }
}

/// The category picker: level-1 groups, level-2 and level-3 choices (works without script).
pub fn category_select(
    id: &str,
    cats: &[Category],
    selected: Option<i64>,
    invalid: bool,
) -> Markup {
    html! {
        select id=(id) name="category_id" aria-invalid=[invalid.then_some("true")] aria-describedby=[invalid.then(|| format!("{id}-error"))] {
            option value="" { "（未分类，由派单员判断）" }
            @for top in cats.iter().filter(|c| c.level == 1 && c.active) {
                optgroup label=(top.name) {
                    option value=(top.id) selected[selected == Some(top.id)] { (top.name) "（一级）" }
                    @for c in cats.iter().filter(|c| c.level > 1 && c.active && c.path.starts_with(&format!("{}/", top.path))) {
                        option value=(c.id) selected[selected == Some(c.id)] {
                            @if c.level == 3 { "　　" } @else { "　" }
                            (c.path.split('/').skip(1).collect::<Vec<_>>().join(" › "))
                        }
                    }
                }
            }
        }
    }
}

/// A labelled control with its error beside it. `id` is unique on the page; `name` is the
/// form field (and the error's field).
pub fn field(label: &str, id: &str, name: &str, errors: &[FieldError], control: Markup) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            (control)
            (error_for(id, name, errors))
        }
    }
}

pub fn error_for(id: &str, name: &str, errors: &[FieldError]) -> Markup {
    html! {
        @for e in errors.iter().filter(|e| e.field == name) {
            p.field-error id=(format!("{id}-error")) role="alert" { (e.detail) }
        }
    }
}

pub fn invalid(errors: &[FieldError], name: &str) -> bool {
    errors.iter().any(|e| e.field == name)
}

/// A text input with its error.
pub fn input(
    label: &str,
    id: &str,
    name: &str,
    value: &str,
    errors: &[FieldError],
    attrs: &str,
) -> Markup {
    let bad = invalid(errors, name);
    let attrs = maud::PreEscaped(format!(
        r#"<input id="{id}" name="{name}" value="{v}" {attrs}{inv}>"#,
        v = html! { (value) }.into_string(),
        inv = if bad {
            format!(r#" aria-invalid="true" aria-describedby="{id}-error""#)
        } else {
            String::new()
        }
    ));
    field(label, id, name, errors, attrs)
}

/// A textarea with its error.
pub fn textarea(
    label: &str,
    id: &str,
    name: &str,
    value: &str,
    errors: &[FieldError],
    rows: u32,
) -> Markup {
    let bad = invalid(errors, name);
    field(
        label,
        id,
        name,
        errors,
        html! {
            textarea id=(id) name=(name) rows=(rows) aria-invalid=[bad.then_some("true")]
                aria-describedby=[bad.then(|| format!("{id}-error"))] { (value) }
        },
    )
}

/// Filters of a ticket list, as they come in the page's query string. Strings, so a bad value
/// is reported on the page instead of refusing the request.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ListParams {
    pub tab: Option<String>,
    pub q: Option<String>,
    pub kind: Option<String>,
    pub card: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub done: Option<String>,
    pub saved: Option<i64>,
    /// After a bulk dispatch: `dept_id:count,…`, said back in words.
    pub sent: Option<String>,
}

impl ListParams {
    /// The service query: the page's fixed filter plus what the reader chose.
    pub fn query(&self, mut base: TicketQuery) -> TicketQuery {
        let s = |o: &Option<String>| o.clone().filter(|s| !s.trim().is_empty());
        base.q = s(&self.q);
        base.kind = s(&self.kind).and_then(|k| TicketKind::parse(&k));
        if base.card.is_none() {
            base.card = s(&self.card).and_then(|c| Card::parse(&c));
        }
        base.from = s(&self.from);
        base.to = s(&self.to);
        if let Some(x) = s(&self.sort) {
            base.sort = Some(x);
        }
        base
    }

    /// The query string for this list (without the page), to link pages and the export.
    pub fn qs(&self, fixed: &[(&str, String)]) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in fixed {
            s.append_pair(k, v);
        }
        for (k, v) in [
            ("q", &self.q),
            ("kind", &self.kind),
            ("card", &self.card),
            ("from", &self.from),
            ("to", &self.to),
            ("sort", &self.sort),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                s.append_pair(k, v);
            }
        }
        s.finish()
    }
}

/// A tabbed ticket list's tabs: the one asked for (`default` when none or an unknown one is
/// asked) and how many tickets each tab holds for the actor.
pub async fn tabs_with_counts(
    svc: &HotlineService,
    actor: &Actor,
    tabs: &[(&'static str, &'static str)],
    asked: Option<String>,
    default: &str,
    base: impl Fn(&str) -> TicketQuery,
) -> (String, Vec<(&'static str, &'static str, i64)>) {
    let mut counts = Vec::new();
    for (k, label) in tabs {
        let n = list(svc, actor, &base(k), Some(1), 1)
            .await
            .map(|p| p.total)
            .unwrap_or(0);
        counts.push((*k, *label, n));
    }
    // Unasked, the page opens on the first tab with work in it (not an empty 待签收).
    let tab = asked
        .filter(|t| tabs.iter().any(|(k, _)| k == t))
        .or_else(|| counts.iter().find(|c| c.2 > 0).map(|c| c.0.to_owned()))
        .unwrap_or_else(|| default.into());
    (tab, counts)
}

/// A list page of tickets, or the error message its filters earned.
pub async fn list(
    svc: &HotlineService,
    actor: &Actor,
    q: &TicketQuery,
    page: Option<i64>,
    per_page: i64,
) -> Result<Page<TicketView>, kernel::Error> {
    svc.list(
        actor,
        q,
        &PageQuery {
            page,
            per_page: Some(per_page),
        },
    )
    .await
}

/// The filter bar: search, type, card, dates, sort, and the export link with the same filters.
pub fn filter_bar(
    path: &str,
    p: &ListParams,
    fixed: &[(&str, String)],
    export_query: &str,
) -> Markup {
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    html! {
        form.filters method="get" action=(path) role="search" aria-label="筛选" {
            @for (k, val) in fixed { input type="hidden" name=(k) value=(val); }
            div.field { label for="f-q" { "查找" } input #f-q type="search" name="q" value=(v(&p.q)) placeholder="编号、标题、内容或地址（/）"; }
            div.field {
                label for="f-kind" { "类型" }
                select #f-kind name="kind" {
                    option value="" { "全部" }
                    @for k in TicketKind::ALL { option value=(k.code()) selected[p.kind.as_deref() == Some(k.code())] { (k.label()) } }
                }
            }
            div.field {
                label for="f-card" { "亮牌" }
                select #f-card name="card" {
                    option value="" { "全部" }
                    @for c in Card::ALL { option value=(c.code()) selected[p.card.as_deref() == Some(c.code())] { (c.label()) } }
                }
            }
            div.field { label for="f-from" { "登记自" } input #f-from type="date" name="from" value=(v(&p.from)); }
            div.field { label for="f-to" { "至" } input #f-to type="date" name="to" value=(v(&p.to)); }
            div.field {
                label for="f-sort" { "排序" }
                select #f-sort name="sort" {
                    @for (code, label) in [("", "默认"), ("newest", "最新登记"), ("oldest", "最早登记"), ("due", "期限最近")] {
                        option value=(code) selected[p.sort.as_deref().unwrap_or("") == code] { (label) }
                    }
                }
            }
            button.secondary type="submit" { "筛选" }
            a.button.secondary href=(format!("/api/v1/hotline/tickets.xlsx?{export_query}")) download { "导出表格（.xlsx）" }
        }
    }
}

/// Columns a ticket table can show beyond the fixed ones.
#[derive(Default, Clone, Copy)]
pub struct Columns {
    pub select: bool,
    pub department: bool,
    pub deadline: bool,
    pub caller: bool,
}

/// The ticket table; `extra` renders a last cell per row (the row's actions).
pub fn ticket_table(
    items: &[TicketView],
    cols: Columns,
    names: &HashMap<i64, String>,
    extra_head: &str,
    extra: impl Fn(&TicketView) -> Markup,
) -> Markup {
    html! {
        @if items.is_empty() {
            p.empty.muted { "没有符合条件的工单。" }
        } @else {
            div.table-wrap {
                table.tickets {
                    thead { tr {
                        @if cols.select { th { span.sr { "选择" } } }
                        th { "编号" } th { "标题" } th { "类型" } th { "状态" }
                        @if cols.caller { th { "来电人" } }
                        @if cols.department { th { "承办单位" } }
                        @if cols.deadline { th { "期限" } }
                        th { "登记时间" }
                        @if !extra_head.is_empty() { th { (extra_head) } }
                    } }
                    tbody {
                        @for v in items {
                            @let t = &v.ticket;
                            tr class=(format!("card-row-{}", t.card.code())) {
                                @if cols.select {
                                    td { input type="checkbox" name="ids" value=(t.id) id=(format!("sel-{}", t.id)) aria-label=(format!("选择 {}", t.number)); }
                                }
                                td.mono.nowrap { a href=(format!("/hotline/tickets/{}", t.id)) { (t.number) } }
                                td {
                                    (t.title)
                                    @if t.urgency == Urgency::Urgent { " " span.badge.urgent { "紧急" } }
                                    @if t.reopen_count > 0 { " " span.badge { "重办" (t.reopen_count) } }
                                    @if t.supervised { " " span.badge.supervised { "督办" } }
                                }
                                td.nowrap { (t.kind.label()) }
                                td.nowrap { (status_badge(t.status)) " " (card_badge(t.card)) }
                                @if cols.caller { td { (caller(v)) } }
                                @if cols.department { td { (dept_name(names, t.main_dept_id)) } }
                                @if cols.deadline { td.nowrap { (deadline(t)) } }
                                td.nowrap { (time(Some(t.created_at))) }
                                @if !extra_head.is_empty() { td { (extra(v)) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Tabs as links, with counts; the current one marked.
pub fn tabs(path: &str, current: &str, tabs: &[(&str, &str, i64)]) -> Markup {
    html! {
        nav.tabs aria-label="分类" {
            @for (key, label, n) in tabs {
                a href=(format!("{path}?tab={key}")) aria-current=[(current == *key).then_some("page")] {
                    (label) " " span.count { (n) }
                }
            }
        }
    }
}

/// The page's own stylesheet and script (embedded, served by this module).
pub fn assets() -> Markup {
    html! {
        link rel="stylesheet" href=(super::CSS_PATH);
        script src=(super::JS_PATH) defer {}
    }
}

/// Keyboard shortcuts of a page, listed for everyone to see.
pub fn shortcuts(keys: &[(&str, &str)]) -> Markup {
    html! {
        details.shortcuts {
            summary { "键盘快捷键" }
            dl { @for (k, what) in keys { dt { kbd { (k) } } dd { (what) } } }
        }
    }
}
