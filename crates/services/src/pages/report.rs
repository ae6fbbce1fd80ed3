//! 政务服务统计 (`/services/reports`): a month or a custom period, grouped by department, region
//! or item; the KPIs of `report.rs` as a table sortable by any column (links, no script) with
//! its totals, bar charts drawn by `webcore::charts`, download links to the .xlsx and the
//! monthly .docx, and the cases open past their deadline or on a yellow card, per department.

use super::esc;
use crate::domain::{Card, CaseStatus};
use crate::report::http::ReportQuery;
use crate::report::{GroupBy, Report, ReportRow};
use crate::service::{CaseQuery, CaseView, ServicesService};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Datelike;
use kernel::clock::format_minute;
use kernel::page::PageQuery;
use kernel::{Actor, Error, FieldError, Role};
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::BTreeMap;
use webcore::charts::bar_chart;
use webcore::layout::{error_summary, field_error, page, text_field};
use webcore::{AppCtx, PageCtx, PageError, Query};

/// Who reads the figures (the service enforces the same).
pub const READERS: &[Role] = <crate::service::ReadReports as kernel::auth::Permission>::ROLES;

pub(super) fn routes() -> Router<AppCtx> {
    Router::new().route("/services/reports", get(show))
}

#[derive(Deserialize, Default, Clone)]
struct PageQ {
    /// `month` (default) or `days`.
    #[serde(default)]
    kind: String,
    #[serde(default)]
    month: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// `dept` (default), `region` or `item`.
    #[serde(default)]
    by: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    dir: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Fmt {
    Int,
    Pct,
    Days,
}

/// The table's columns: key, header, value, format.
type Col = (
    &'static str,
    &'static str,
    fn(&ReportRow) -> Option<f64>,
    Fmt,
);

const COLS: &[Col] = &[
    ("accepted", "受理量", |r| Some(r.accepted as f64), Fmt::Int),
    (
        "carried_over",
        "期初在办",
        |r| Some(r.carried_over as f64),
        Fmt::Int,
    ),
    ("closed", "办结量", |r| Some(r.closed as f64), Fmt::Int),
    ("closed_rate", "办结率", |r| r.closed_rate, Fmt::Pct),
    ("online_rate", "网办率", |r| r.online_rate, Fmt::Pct),
    (
        "immediate_share",
        "即办件占比",
        |r| r.immediate_share,
        Fmt::Pct,
    ),
    ("compression", "承诺时限压缩率", |r| r.compression, Fmt::Pct),
    (
        "avg_handling_days",
        "平均办理时长（工作日）",
        |r| (r.closed > 0).then_some(r.avg_handling_days),
        Fmt::Days,
    ),
    ("overdue", "超期件", |r| Some(r.overdue as f64), Fmt::Int),
    (
        "evaluations",
        "评价数",
        |r| Some(r.evaluations as f64),
        Fmt::Int,
    ),
    ("good_rate", "好评率", |r| r.good_rate, Fmt::Pct),
    ("coverage", "评价覆盖度", |r| r.coverage, Fmt::Pct),
    ("bad", "差评数", |r| Some(r.bad as f64), Fmt::Int),
    (
        "rectified_rate",
        "差评整改率",
        |r| r.rectified_rate,
        Fmt::Pct,
    ),
];

/// A value as the table shows it; "—" where the figure has no denominator.
fn fmt(f: Fmt, v: Option<f64>) -> String {
    let Some(v) = v else {
        return "—".into();
    };
    match f {
        Fmt::Int => format!("{}", v.round() as i64),
        Fmt::Pct => format!("{:.1}%", v * 100.0),
        Fmt::Days => format!("{v:.1}"),
    }
}

fn group_of(by: &str) -> Result<GroupBy, Error> {
    match by {
        "" | "dept" => Ok(GroupBy::Dept),
        "region" => Ok(GroupBy::Region),
        "item" => Ok(GroupBy::Item),
        _ => Err(Error::field(
            "by",
            "invalid_enum",
            "分组只能是部门、地区或事项",
        )),
    }
}

fn group_label(g: GroupBy) -> &'static str {
    match g {
        GroupBy::Dept => "部门",
        GroupBy::Region => "地区",
        GroupBy::Item => "事项",
        GroupBy::Total => "合计",
    }
}

fn group_code(g: GroupBy) -> &'static str {
    match g {
        GroupBy::Dept | GroupBy::Total => "dept",
        GroupBy::Region => "region",
        GroupBy::Item => "item",
    }
}

/// The period the form asks for, as the API's query (so downloads ask for the same).
fn api_query(q: &PageQ, today: chrono::NaiveDate) -> Result<ReportQuery, Error> {
    let custom = q.kind == "days";
    if !matches!(q.kind.as_str(), "" | "month" | "days") {
        return Err(Error::field(
            "kind",
            "invalid_enum",
            "统计期只能按月或自选日期",
        ));
    }
    let month = if q.month.trim().is_empty() {
        format!("{:04}-{:02}", today.year(), today.month())
    } else {
        q.month.trim().to_owned()
    };
    let r = ReportQuery {
        period: (!custom).then_some(month),
        from: custom.then(|| q.from.trim().to_owned()),
        to: custom.then(|| q.to.trim().to_owned()),
        group_by: group_of(&q.by)?,
    };
    // A month the report cannot read is the month field's fault, not the API's `period`.
    r.resolve().map_err(|e| match (custom, e) {
        (false, Error::Validation(_)) => {
            Error::field("month", "invalid_period", "月份应写作 2026-03")
        }
        (_, e) => e,
    })?;
    Ok(r)
}

fn period_params(r: &ReportQuery) -> String {
    match &r.period {
        Some(p) => format!("period={}", esc(p)),
        None => format!(
            "from={}&to={}",
            esc(r.from.as_deref().unwrap_or("")),
            esc(r.to.as_deref().unwrap_or(""))
        ),
    }
}

fn link(q: &PageQ, by: &str, sort: &str, dir: &str) -> String {
    format!(
        "/services/reports?kind={}&month={}&from={}&to={}&by={}&sort={}&dir={}",
        esc(&q.kind),
        esc(&q.month),
        esc(&q.from),
        esc(&q.to),
        esc(by),
        esc(sort),
        esc(dir)
    )
}

fn sorted<'a>(r: &'a Report, sort: &str, desc: bool) -> Vec<&'a ReportRow> {
    let mut rows: Vec<&ReportRow> = r.rows.iter().collect();
    let dir = |o: std::cmp::Ordering| if desc { o.reverse() } else { o };
    if let Some((_, _, f, _)) = COLS.iter().find(|c| c.0 == sort) {
        // Ties keep the names in order either way.
        // A row without the figure ("—") sorts below every number either way.
        rows.sort_by(|a, b| {
            match (f(a), f(b)) {
                (Some(x), Some(y)) => dir(x.total_cmp(&y)),
                (x, y) => y.is_some().cmp(&x.is_some()),
            }
            .then_with(|| a.label.cmp(&b.label))
        });
    } else {
        rows.sort_by(|a, b| dir(a.label.cmp(&b.label)));
    }
    rows
}

fn sort_header(q: &PageQ, by: &str, key: &str, label: &str, sort: &str, desc: bool) -> Markup {
    let active = key == sort;
    let next = if active && desc { "asc" } else { "desc" };
    let aria = active.then_some(if desc { "descending" } else { "ascending" });
    html! {
        th scope="col" aria-sort=[aria] {
            a href=(link(q, by, key, next)) { (label) @if active { (if desc { " ▼" } else { " ▲" }) } }
        }
    }
}

fn period_form(q: &PageQ, today: chrono::NaiveDate, errors: &[FieldError]) -> Markup {
    let custom = q.kind == "days";
    let month = if q.month.is_empty() {
        format!("{:04}-{:02}", today.year(), today.month())
    } else {
        q.month.clone()
    };
    let invalid = |n: &str| errors.iter().any(|e| e.field == n).then_some("true");
    html! {
        form.filters.card #period-form method="get" action="/services/reports" aria-label="统计期与分组" {
            div.field {
                label for="kind" { "统计期" }
                select #kind name="kind" {
                    option value="month" selected[!custom] { "按月" }
                    option value="days" selected[custom] { "自选日期" }
                }
                (field_error(errors, "kind"))
            }
            (text_field("月份", "month", &month, errors, r#"type="month""#))
            (text_field("开始日期", "from", &q.from, errors, r#"type="date""#))
            (text_field("结束日期", "to", &q.to, errors, r#"type="date""#))
            div.field {
                label for="by" { "分组" }
                select #by name="by" aria-invalid=[invalid("by")] {
                    @for g in [GroupBy::Dept, GroupBy::Region, GroupBy::Item] {
                        option value=(group_code(g)) selected[group_code(g) == q.by || (q.by.is_empty() && g == GroupBy::Dept)] { (group_label(g)) }
                    }
                }
                (field_error(errors, "by"))
            }
            button type="submit" { "统计" }
        }
    }
}

/// Every case in the reader's scope matching `q`, page by page.
async fn all_cases(
    s: &ServicesService,
    actor: &Actor,
    q: &CaseQuery,
) -> Result<Vec<CaseView>, Error> {
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let p = s
            .list(
                actor,
                q,
                &PageQuery {
                    page: Some(page),
                    per_page: Some(kernel::page::MAX_PER_PAGE),
                },
            )
            .await?;
        let n = p.items.len();
        out.extend(p.items);
        if n < kernel::page::MAX_PER_PAGE as usize || out.len() >= 2000 {
            return Ok(out);
        }
        page += 1;
    }
}

/// Cases open past their deadline (red) or on a yellow card now, per department.
async fn overdue_by_dept(
    s: &ServicesService,
    actor: &Actor,
    now: i64,
) -> Result<Vec<(String, Vec<(CaseView, Card)>)>, Error> {
    let mut cases = all_cases(
        s,
        actor,
        &CaseQuery {
            overdue: true,
            ..Default::default()
        },
    )
    .await?;
    for c in all_cases(
        s,
        actor,
        &CaseQuery {
            card: Some(Card::Yellow),
            ..Default::default()
        },
    )
    .await?
    {
        if !cases.iter().any(|x| x.case.id == c.case.id) {
            cases.push(c);
        }
    }
    let org = org::OrgService::new(s.db().clone(), Default::default());
    let mut groups: BTreeMap<i64, (String, Vec<(CaseView, Card)>)> = BTreeMap::new();
    for c in cases {
        let card = if c.case.overdue_at(now) {
            Card::Red
        } else {
            c.case.card
        };
        let dept = c.case.dept_id;
        if let std::collections::btree_map::Entry::Vacant(e) = groups.entry(dept) {
            let name = org
                .department(&Actor::system(), dept)
                .await
                .map(|d| d.name)
                .unwrap_or_else(|_| format!("部门 {dept}"));
            e.insert((name, vec![]));
        }
        groups.get_mut(&dept).expect("inserted").1.push((c, card));
    }
    let mut out: Vec<(String, Vec<(CaseView, Card)>)> = groups.into_values().collect();
    for (_, v) in &mut out {
        v.sort_by_key(|(c, _)| c.case.due_at);
    }
    out.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
    Ok(out)
}

async fn show(
    p: PageCtx,
    State(ctx): State<AppCtx>,
    Query(q): Query<PageQ>,
) -> Result<Response, PageError> {
    p.actor.require_any_role(READERS)?;
    let s = ServicesService::new(ctx.db.clone());
    let now = ctx.db.now();
    let today = kernel::clock::to_china(now).date_naive();
    let rq = match api_query(&q, today) {
        Ok(r) => r,
        Err(Error::Validation(errors)) => {
            let body = page(
                &p,
                "政务服务统计",
                html! { (error_summary(&errors)) (period_form(&q, today, &errors)) },
            );
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    let by = rq.group_by;
    let report = crate::report::http::report_for(&s, &p.actor, &rq, by).await?;
    let overdue = overdue_by_dept(&s, &p.actor, now).await?;
    let t = &report.total;
    let sort = if q.sort.is_empty() {
        "accepted"
    } else {
        q.sort.as_str()
    };
    let desc = q.dir != "asc";
    let rows = sorted(&report, sort, desc);
    let by_code = group_code(by);
    let params = period_params(&rq);
    let mut accepted_bars: Vec<(String, f64)> = report
        .rows
        .iter()
        .map(|r| (r.label.clone(), r.accepted as f64))
        .filter(|b| b.1 > 0.0)
        .collect();
    accepted_bars.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut rate_bars: Vec<(String, f64)> = report
        .rows
        .iter()
        .filter_map(|r| Some((r.label.clone(), (r.closed_rate? * 1000.0).round() / 10.0)))
        .collect();
    rate_bars.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let cards: [(&str, String, String); 7] = [
        (
            "受理量",
            t.accepted.to_string(),
            format!("期初在办 {}", t.carried_over),
        ),
        ("办结量", t.closed.to_string(), String::new()),
        ("办结率", fmt(Fmt::Pct, t.closed_rate), String::new()),
        ("网办率", fmt(Fmt::Pct, t.online_rate), String::new()),
        (
            "好评率",
            fmt(Fmt::Pct, t.good_rate),
            format!("评价 {} 条", t.evaluations),
        ),
        ("超期件", t.overdue.to_string(), String::new()),
        (
            "办不成事反映",
            report.feedback.to_string(),
            format!("已答复 {}", report.feedback_answered),
        ),
    ];
    let body = html! {
        (period_form(&q, today, &[]))
        h2 #period-title { (report.period) " · 按" (group_label(by)) }
        div.kpis role="list" #kpis {
            @for (label, v, note) in &cards {
                div.card role="listitem" { div.muted { (label) } div.stat { (v) } @if !note.is_empty() { div.muted { (note) } } }
            }
        }
        div.row {
            section aria-labelledby="accepted-title" {
                h2 #accepted-title { "受理量（按" (group_label(by)) "）" }
                (bar_chart("by-accepted", &format!("{} 按{}的受理量", report.period, group_label(by)), &accepted_bars, 12))
            }
            section aria-labelledby="rate-title" {
                h2 #rate-title { "办结率 %（按" (group_label(by)) "）" }
                (bar_chart("by-closed-rate", &format!("{} 按{}的办结率（%）", report.period, group_label(by)), &rate_bars, 12))
            }
        }
        section aria-labelledby="table-title" {
            h2 #table-title { "指标明细" }
            div.actions {
                span { "分组：" }
                @for g in [GroupBy::Dept, GroupBy::Region, GroupBy::Item] {
                    a href=(link(&q, group_code(g), sort, &q.dir)) aria-current=[(g == by).then_some("true")] { (group_label(g)) }
                }
            }
            // Zero width with a full minimum: the table scrolls in its box instead of widening
            // the page's grid column.
            div style="width:0;min-width:100%;overflow-x:auto" {
                table #report-table {
                    thead {
                        tr {
                            (sort_header(&q, by_code, "label", group_label(by), sort, desc))
                            @for (key, label, _, _) in COLS { (sort_header(&q, by_code, key, label, sort, desc)) }
                        }
                    }
                    tbody {
                        @if rows.is_empty() { tr { td colspan=(COLS.len() + 1) { "本期没有办件。" } } }
                        @for r in &rows {
                            tr {
                                th scope="row" { (r.label) }
                                @for (_, _, f, k) in COLS { td { (fmt(*k, f(r))) } }
                            }
                        }
                    }
                    tfoot {
                        tr #report-total {
                            th scope="row" { "合计" }
                            @for (_, _, f, k) in COLS { td { strong { (fmt(*k, f(t))) } } }
                        }
                    }
                }
            }
            p.muted { "口径：受理量为本期受理的办件，期初在办为本期开始时已受理尚未办结的办件，办结量为本期作出决定并办结的办件；办结率 = 办结量 ÷（期初在办 + 受理量），不会超过 100%；分母为零的比率显示为“—”；平均办理时长自受理起按各事项的计时单位计（工作日按每日 7 个工作小时），不含补正和特别程序的暂停时间；超期件为本期逾期办结的办件和统计期末（当期为此刻）仍超期未办结的办件。点击表头排序。" }
        }
        section aria-labelledby="dl-title" {
            h2 #dl-title { "下载" }
            ul #downloads {
                li { a #download-xlsx href=(format!("/api/v1/services/reports.xlsx?{params}&group_by={by_code}")) download { (report.period) " 统计表（.xlsx，按" (group_label(by)) "）" } }
                li { a #download-docx href=(format!("/api/v1/services/reports/monthly.docx?{params}")) download { (report.period) " 政务服务运行情况（.docx）" } }
            }
        }
        section aria-labelledby="overdue-title" #overdue {
            h2 #overdue-title { "超期与临期办件（截至 " (format_minute(now)) "）" }
            @if overdue.is_empty() {
                p.muted { "当前没有超期或亮黄牌的办件。" }
            }
            @for (dept, list) in &overdue {
                h3 { (dept) "（" (list.len()) " 件）" }
                table.overdue-list {
                    thead { tr { th scope="col" { "办件编号" } th scope="col" { "事项" } th scope="col" { "状态" } th scope="col" { "承诺办结" } th scope="col" { "亮牌" } } }
                    tbody {
                        @for (c, card) in list {
                            tr {
                                td { a href=(format!("/services/cases/{}", c.case.id)) { (c.case.number) } }
                                td { (c.case.item_name) }
                                td { (c.status_label) }
                                td { (c.case.due_at.map(format_minute).unwrap_or_else(|| "—".into())) }
                                td { span.tag.(card.code()) { (card.label()) } @if c.case.status == CaseStatus::Accepted && *card == Card::Red { " 已超期" } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&p, "政务服务统计", body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> chrono::NaiveDate {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_period_defaults_to_this_month_and_bad_input_names_its_field() {
        let today = day("2026-03-14");
        let r = api_query(&PageQ::default(), today).unwrap();
        assert_eq!(r.period.as_deref(), Some("2026-03"));
        assert_eq!(period_params(&r), "period=2026-03");
        let bad_month = PageQ {
            month: "2026-13".into(),
            ..PageQ::default()
        };
        assert_eq!(
            api_query(&bad_month, today).unwrap_err().field_name(),
            Some("month")
        );
        let backwards = PageQ {
            kind: "days".into(),
            from: "2026-03-10".into(),
            to: "2026-03-01".into(),
            ..PageQ::default()
        };
        assert_eq!(
            api_query(&backwards, today).unwrap_err().field_name(),
            Some("to")
        );
        let custom = PageQ {
            kind: "days".into(),
            from: "2026-03-01".into(),
            to: "2026-03-15".into(),
            by: "item".into(),
            ..PageQ::default()
        };
        let r = api_query(&custom, today).unwrap();
        assert_eq!(period_params(&r), "from=2026-03-01&to=2026-03-15");
        assert_eq!(r.group_by, GroupBy::Item);
        let by = PageQ {
            by: "street".into(),
            ..PageQ::default()
        };
        assert_eq!(api_query(&by, today).unwrap_err().field_name(), Some("by"));
    }

    #[test]
    fn rows_sort_by_the_chosen_column_either_way() {
        let row = |l: &str, a: i64, rate: Option<f64>| ReportRow {
            label: l.into(),
            accepted: a,
            closed_rate: rate,
            ..ReportRow::default()
        };
        let r = Report {
            from: 0,
            to: 1,
            period: "2026-03".into(),
            group_by: GroupBy::Dept,
            rows: vec![
                row("甲", 3, Some(0.5)),
                row("乙", 1, Some(1.0)),
                row("丙", 2, Some(0.0)),
                row("丁", 0, None),
            ],
            total: row("合计", 6, Some(0.5)),
            feedback: 0,
            feedback_answered: 0,
        };
        let labels = |v: Vec<&ReportRow>| v.iter().map(|r| r.label.clone()).collect::<Vec<_>>();
        assert_eq!(
            labels(sorted(&r, "accepted", true)),
            ["甲", "丙", "乙", "丁"]
        );
        assert_eq!(
            labels(sorted(&r, "closed_rate", false)),
            ["丙", "甲", "乙", "丁"]
        );
        // A row without the figure stays below the numbers in either direction.
        assert_eq!(
            labels(sorted(&r, "closed_rate", true)),
            ["乙", "甲", "丙", "丁"]
        );
        assert_eq!(fmt(Fmt::Pct, Some(0.5)), "50.0%");
        assert_eq!(fmt(Fmt::Pct, None), "—");
        assert_eq!(fmt(Fmt::Days, Some(2.0)), "2.0");
    }
}
