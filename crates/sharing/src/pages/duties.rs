//! 共享责任清单 / 开放责任清单: per department, the entries it provides and what it owes on
//! each (mount, timely updates), with totals, paging and the .xlsx.

use super::{day, PageResult};
use crate::duties::domain::{DutyKind, DutyLine};
use crate::http::svc;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use kernel::clock::format_minute;
use kernel::page::PageQuery;
use kernel::Error;
use maud::html;
use serde::Deserialize;
use webcore::layout::{page, pager};
use webcore::{AppCtx, PageCtx, Query};

pub(super) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/sharing/duties", get(list))
        .route("/sharing/duties.xlsx", get(xlsx))
}

#[derive(Debug, Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    kind: String,
    /// A department id, or empty for the reader's own (the bureau: every department).
    #[serde(default)]
    dept: String,
    page: Option<i64>,
}

const PER_PAGE: i64 = 30;

impl ListQuery {
    fn kind(&self) -> Result<DutyKind, Error> {
        crate::duties::domain::DutyQuery {
            kind: Some(self.kind.clone()),
            dept: None,
        }
        .kind()
    }
    fn dept(&self) -> Result<Option<i64>, Error> {
        match self.dept.trim() {
            "" => Ok(None),
            d => d
                .parse()
                .map(Some)
                .map_err(|_| Error::field("dept", "invalid_department", "部门须为部门编号")),
        }
    }
    fn query(&self, kind: DutyKind, dept: Option<i64>) -> String {
        let mut s = format!("kind={}", kind.code());
        if let Some(d) = dept {
            s.push_str(&format!("&dept={d}"));
        }
        s
    }
}

fn last_update(l: &DutyLine) -> String {
    l.last_update_at.map(format_minute).unwrap_or_else(|| {
        if l.mounted {
            "从未更新".into()
        } else {
            "—".into()
        }
    })
}

async fn list(State(ctx): State<AppCtx>, p: PageCtx, Query(q): Query<ListQuery>) -> PageResult {
    let s = svc(&ctx);
    let kind = q.kind()?;
    let pq = PageQuery {
        page: q.page,
        per_page: Some(PER_PAGE),
    };
    let list = s.duty_list(&p.actor, kind, q.dept()?, &pq).await?;
    let bureau = s.is_bureau(&p.actor).await?;
    let mut depts: Vec<(i64, String)> = if bureau {
        s.dept_names().await?.into_iter().collect()
    } else {
        vec![]
    };
    depts.sort_by(|a, b| a.1.cmp(&b.1));
    let t = &list.totals;
    let qs = q.query(kind, list.dept_id);
    let body = html! {
        nav.tabs #kinds {
            @for k in DutyKind::ALL {
                @let href = format!("/sharing/duties?{}", q.query(*k, list.dept_id));
                @if *k == kind { strong { (k.label()) } } @else { a href=(href) { (k.label()) } }
                " "
            }
        }
        @if bureau {
            form #dept-form method="get" action="/sharing/duties" {
                input type="hidden" name="kind" value=(kind.code());
                label for="dept" { "部门" }
                select #dept name="dept" {
                    option value="" selected[list.dept_id.is_none()] { "全部部门" }
                    @for (id, name) in &depts { option value=(id) selected[list.dept_id == Some(*id)] { (name) } }
                }
                button type="submit" { "查看" }
            }
        }
        p #duty-summary {
            (list.dept_name) "：共 " strong { (t.entries) } " 条目录，"
            @if kind == DutyKind::Share { "可共享 " (t.shared) " 条，" } @else { "向社会开放 " (t.open) " 条，" }
            "已挂接 " (t.mounted) " 条，更新逾期 " strong { (t.overdue) } " 条，有效授权 " (t.active_grants) " 个。"
            " " a href=(format!("/sharing/duties.xlsx?{qs}")) { "下载表格（.xlsx）" }
        }
        @if list.page.items.is_empty() {
            p.muted { "没有已发布的目录。目录经数据局审核发布后列入责任清单。" }
        } @else {
            table #duties {
                thead { tr {
                    @if list.dept_id.is_none() { th { "提供部门" } }
                    th { "资源代码" } th { "名称" } th { "共享属性" } th { "开放属性" } th { "更新周期" }
                    th { "挂接资源" } th { "最近更新" } th { "有效授权" } th { "状态" }
                } }
                tbody { @for l in &list.page.items {
                    tr {
                        @if list.dept_id.is_none() { td { (l.provider_name) } }
                        td { code { (l.code) } }
                        td { a href=(format!("/sharing/catalog/{}", l.entry_id)) { (l.name) } }
                        td { (l.share_label) }
                        td { (l.open_label) }
                        td { (l.update_cycle_label) }
                        td { (l.resources) }
                        td.nowrap { (last_update(l)) }
                        td { (l.active_grants) }
                        td { @if l.status() == "正常" { span.tag.ok { "正常" } } @else { strong.overdue { (l.status()) } } }
                    }
                } }
            }
            (pager(&format!("/sharing/duties?{qs}"), list.page.page, list.page.pages(), list.page.total))
        }
    };
    Ok(page(&p, kind.label(), body).into_response())
}

async fn xlsx(State(ctx): State<AppCtx>, p: PageCtx, Query(q): Query<ListQuery>) -> PageResult {
    use tabular::Cell;
    let s = svc(&ctx);
    let kind = q.kind()?;
    let (dept, lines) = s.duty_lines(&p.actor, kind, q.dept()?).await?;
    let headers: Vec<String> = [
        "提供部门",
        "资源代码",
        "名称",
        "共享属性",
        "开放属性",
        "更新周期",
        "发布日期",
        "挂接资源数",
        "最近更新",
        "更新逾期",
        "有效授权数",
        "状态",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows: Vec<Vec<Cell>> = lines
        .iter()
        .map(|l| {
            vec![
                Cell::Text(l.provider_name.clone()),
                Cell::Text(l.code.clone()),
                Cell::Text(l.name.clone()),
                Cell::Text(l.share_label.clone()),
                Cell::Text(l.open_label.clone()),
                Cell::Text(l.update_cycle_label.clone()),
                Cell::Text(l.published_at.map(day).unwrap_or_default()),
                Cell::Int(l.resources),
                Cell::Text(last_update(l)),
                Cell::Text(if l.overdue { "是" } else { "否" }.into()),
                Cell::Int(l.active_grants),
                Cell::Text(l.status().into()),
            ]
        })
        .collect();
    let bytes = tabular::write_xlsx(&[(kind.label(), &headers, &rows)]).map_err(Error::internal)?;
    let who = match dept {
        Some(d) => s.dept_names().await?.remove(&d).unwrap_or_default(),
        None => "全部部门".into(),
    };
    Ok(webcore::download::attachment(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &format!("sharing-duties-{}.xlsx", kind.code()),
        &format!("{}_{}.xlsx", kind.label(), who),
    ))
}
