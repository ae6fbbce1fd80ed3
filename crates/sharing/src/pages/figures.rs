//! 统计: the sharing figures for a period — cards, the table by department, bar charts of
//! 共享率/开放率 and of calls by consumer, the sections other modules contribute (开放数据) —
//! with the .xlsx and the monthly report (.docx).

use super::PageResult;
use crate::figures::contrib::Section;
use crate::figures::http::PeriodQuery;
use crate::figures::service::{CatalogFigures, Figures};
use crate::http::svc;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use kernel::period::Period;
use kernel::Error;
use maud::{html, Markup};
use webcore::layout::{alert, page, text_field};
use webcore::{AppCtx, PageCtx, PageError, Query};

pub(super) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/sharing/figures", get(figures))
        .route("/sharing/figures.xlsx", get(figures_xlsx))
        .route("/sharing/figures.docx", get(figures_docx))
}

/// A rate in words: `45.0%`, or "—" when its denominator is empty.
fn pct(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_owned(), |x| format!("{:.1}%", x * 100.0))
}

fn days(d: Option<f64>) -> String {
    d.map_or_else(|| "—".to_owned(), |x| format!("{x:.1} 天"))
}

async fn load(ctx: &AppCtx, p: &PageCtx, period: &Period) -> Result<Figures, PageError> {
    Ok(svc(ctx)
        .figures_between(&p.actor, period.start(), period.end())
        .await?)
}

/// Summary cards: (label, value, note).
fn cards(f: &Figures) -> Vec<(&'static str, String, String)> {
    let t = &f.total;
    vec![
        (
            "目录数",
            t.entries.to_string(),
            format!("挂接资源 {} 个", t.resources),
        ),
        (
            "挂接率",
            pct(t.mount_rate),
            format!("已挂接目录 {} 个", t.mounted_entries),
        ),
        ("共享率", pct(t.share_rate), String::new()),
        ("开放率", pct(t.open_rate), String::new()),
        ("更新率", pct(t.update_rate), String::new()),
        (
            "用数申请",
            f.requests.to_string(),
            format!(
                "批准 {}，未通过 {}，审批中 {}",
                f.requests_approved, f.requests_refused, f.requests_pending
            ),
        ),
        (
            "审批用时（中位）",
            days(f.approval_days_median),
            format!("最长 {}", days(f.approval_days_max)),
        ),
        (
            "有效授权",
            f.grants_active.to_string(),
            format!("30 天内到期 {}", f.grants_expiring_30d),
        ),
        (
            "接口调用",
            f.calls.to_string(),
            format!("成功 {}，提供 {} 行", f.calls_served, f.rows_served),
        ),
        (
            "数据异议",
            f.objections.raised.to_string(),
            format!(
                "答复 {}，超时 {}",
                f.objections.answered, f.objections.overdue
            ),
        ),
    ]
}

const DEPT_HEADERS: [&str; 13] = [
    "部门",
    "目录数",
    "挂接资源数",
    "挂接率",
    "共享率",
    "开放率",
    "更新率",
    "收到申请",
    "批准",
    "未通过",
    "发起申请",
    "被调用次数",
    "提供行数",
];

fn dept_cells(d: &CatalogFigures) -> Vec<String> {
    vec![
        d.dept_name.clone(),
        d.entries.to_string(),
        d.resources.to_string(),
        pct(d.mount_rate),
        pct(d.share_rate),
        pct(d.open_rate),
        pct(d.update_rate),
        d.requests_received.to_string(),
        d.requests_approved.to_string(),
        d.requests_refused.to_string(),
        d.requests_made.to_string(),
        d.calls.to_string(),
        d.rows_served.to_string(),
    ]
}

fn section_html(s: &Section) -> Markup {
    html! {
        section.card id=(format!("section-{}", s.key)) aria-labelledby=(format!("section-{}-title", s.key)) {
            h2 id=(format!("section-{}-title", s.key)) { (s.title) }
            @if !s.summary.is_empty() { p { (s.summary) } }
            div.kpis role="list" {
                @for r in &s.rows {
                    div.card role="listitem" { div.muted { (r.label) } div.stat { (r.value) } }
                }
            }
            @if let Some(t) = &s.by_department {
                @if !t.rows.is_empty() {
                    table {
                        thead { tr { @for h in &t.headers { th { (h) } } } }
                        tbody { @for row in &t.rows { tr { @for (i, c) in row.iter().enumerate() {
                            @if i == 0 { td { (c) } } @else { td.num { (c) } }
                        } } } }
                    }
                }
            }
        }
    }
}

async fn figures(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Query(q): Query<PeriodQuery>,
) -> PageResult {
    let period = match q.period_or_this_month(ctx.db.now()) {
        Ok(x) => x,
        Err(e @ Error::Validation(_)) => {
            let body =
                html! { (alert(&e.detail())) p { a href="/sharing/figures" { "返回本月统计" } } };
            return Ok(
                (StatusCode::UNPROCESSABLE_ENTITY, page(&p, "共享统计", body)).into_response(),
            );
        }
        Err(e) => return Err(e.into()),
    };
    let f = load(&ctx, &p, &period).await?;
    let (from, to) = (
        period.first_day().to_string(),
        period.last_day().to_string(),
    );
    let month = period.first_day().format("%Y-%m").to_string();
    let month_label = period.first_day().format("%Y年%-m月").to_string();
    let with_entries: Vec<&CatalogFigures> =
        f.by_department.iter().filter(|d| d.entries > 0).collect();
    let share_bars: Vec<(String, f64)> = with_entries
        .iter()
        .map(|d| (d.dept_name.clone(), d.share_rate.unwrap_or(0.0) * 100.0))
        .collect();
    let open_bars: Vec<(String, f64)> = with_entries
        .iter()
        .map(|d| (d.dept_name.clone(), d.open_rate.unwrap_or(0.0) * 100.0))
        .collect();
    let call_bars: Vec<(String, f64)> = f
        .top_consumers
        .iter()
        .map(|c| (c.dept_name.clone(), c.calls as f64))
        .collect();
    let body = html! {
        form.filters method="get" action="/sharing/figures" {
            div.row {
                (text_field("开始日期", "from", &from, &[], "type=\"date\""))
                (text_field("结束日期", "to", &to, &[], "type=\"date\""))
            }
            div.actions {
                button type="submit" { "统计" }
                " "
                a href=(format!("/sharing/figures.xlsx?from={from}&to={to}")) { "下载表格（.xlsx）" }
                " "
                a href=(format!("/sharing/figures.docx?month={month}")) { "下载" (month_label) "报告（Word）" }
            }
        }
        h2 #period-title { (period.label()) }
        p.hint { "目录数、挂接率、共享率、开放率、更新率为期末存量；申请、调用、异议为期内发生。比率的分母为 0 时显示“—”。" }
        div.kpis role="list" #kpis {
            @for (label, v, note) in cards(&f) {
                div.card role="listitem" { div.muted { (label) } div.stat { (v) } @if !note.is_empty() { div.muted { (note) } } }
            }
        }
        h2 { "各部门情况" }
        @if f.by_department.is_empty() { p #no-figures { "所选期间没有数据。" } }
        @else {
            table #figures {
                thead { tr { @for h in DEPT_HEADERS { th { (h) } } } }
                tbody {
                    @for d in &f.by_department { tr { @for (i, c) in dept_cells(d).into_iter().enumerate() {
                        @if i == 0 { td { (c) } } @else { td.num { (c) } }
                    } } }
                }
                tfoot { tr { @for (i, c) in dept_cells(&f.total).into_iter().enumerate() {
                    @if i == 0 { th scope="row" { (c) } } @else { td.num { strong { (c) } } }
                } } }
            }
        }
        div.row {
            section aria-labelledby="share-title" {
                h2 #share-title { "共享率（%）" }
                (webcore::charts::bar_chart("share-chart", "各部门共享率（%）", &share_bars, 12))
            }
            section aria-labelledby="open-title" {
                h2 #open-title { "开放率（%）" }
                (webcore::charts::bar_chart("open-chart", "各部门开放率（%）", &open_bars, 12))
            }
        }
        section aria-labelledby="consumers-title" {
            h2 #consumers-title { "调用最多的使用部门" }
            (webcore::charts::bar_chart("consumers-chart", "使用部门调用次数", &call_bars, 10))
            @if !f.top_consumers.is_empty() {
                table #consumers {
                    thead { tr { th { "使用部门" } th { "调用次数" } th { "成功" } th { "获得行数" } } }
                    tbody { @for c in &f.top_consumers { tr {
                        td { (c.dept_name) } td.num { (c.calls) } td.num { (c.calls_served) } td.num { (c.rows_served) }
                    } } }
                }
            }
        }
        section aria-labelledby="objections-title" {
            h2 #objections-title { "数据异议" }
            p #objection-figures {
                "期内提出 " (f.objections.raised) " 件，答复 " (f.objections.answered) " 件（其中更正 "
                (f.objections.corrected) " 件），超过核实时限 " (f.objections.overdue) " 件；期末待核实 " (f.objections.open) " 件。"
            }
        }
        @for s in &f.sections { (section_html(s)) }
    };
    Ok(page(&p, "共享统计", body).into_response())
}

async fn figures_xlsx(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Query(q): Query<PeriodQuery>,
) -> PageResult {
    let period = q.period_or_this_month(ctx.db.now())?;
    let f = load(&ctx, &p, &period).await?;
    use tabular::Cell;
    let text = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect::<Vec<String>>();
    let summary_headers = text(vec!["指标", "数值", "说明"]);
    let mut summary: Vec<Vec<Cell>> = vec![vec![
        Cell::Text("统计期间".into()),
        Cell::Text(period.label()),
        Cell::Text(String::new()),
    ]];
    for (label, v, note) in cards(&f) {
        summary.push(vec![
            Cell::Text(label.into()),
            Cell::Text(v),
            Cell::Text(note),
        ]);
    }
    let dept_headers = text(DEPT_HEADERS.to_vec());
    let ratio = |r: Option<f64>| r.map_or_else(|| Cell::Text("—".into()), Cell::Float);
    let dept_row = |d: &CatalogFigures| {
        vec![
            Cell::Text(d.dept_name.clone()),
            Cell::Int(d.entries),
            Cell::Int(d.resources),
            ratio(d.mount_rate),
            ratio(d.share_rate),
            ratio(d.open_rate),
            ratio(d.update_rate),
            Cell::Int(d.requests_received),
            Cell::Int(d.requests_approved),
            Cell::Int(d.requests_refused),
            Cell::Int(d.requests_made),
            Cell::Int(d.calls),
            Cell::Int(d.rows_served),
        ]
    };
    let mut depts: Vec<Vec<Cell>> = f.by_department.iter().map(dept_row).collect();
    depts.push(dept_row(&f.total));
    let consumer_headers = text(vec!["使用部门", "调用次数", "成功", "获得行数"]);
    let consumers: Vec<Vec<Cell>> = f
        .top_consumers
        .iter()
        .map(|c| {
            vec![
                Cell::Text(c.dept_name.clone()),
                Cell::Int(c.calls),
                Cell::Int(c.calls_served),
                Cell::Int(c.rows_served),
            ]
        })
        .collect();
    // One sheet per contributed section: its figures, then its table by department.
    let section_sheets: Vec<(String, Vec<String>, Vec<Vec<Cell>>)> = f
        .sections
        .iter()
        .map(|s| {
            let mut rows: Vec<Vec<Cell>> = s
                .rows
                .iter()
                .map(|r| vec![Cell::Text(r.label.clone()), Cell::Text(r.value.clone())])
                .collect();
            if let Some(t) = &s.by_department {
                rows.push(Vec::new());
                rows.push(t.headers.iter().map(|h| Cell::Text(h.clone())).collect());
                for r in &t.rows {
                    rows.push(r.iter().map(|c| Cell::Text(c.clone())).collect());
                }
            }
            (
                s.title.chars().take(31).collect(),
                text(vec!["指标", "数值"]),
                rows,
            )
        })
        .collect();
    let mut sheets: Vec<tabular::SheetSpec<'_>> = vec![
        ("总体情况", &summary_headers, &summary),
        ("各部门", &dept_headers, &depts),
        ("使用部门", &consumer_headers, &consumers),
    ];
    for (name, h, rows) in &section_sheets {
        sheets.push((name.as_str(), h, rows));
    }
    let bytes = tabular::write_xlsx(&sheets).map_err(Error::internal)?;
    Ok(webcore::download::attachment(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "sharing-figures.xlsx",
        &format!("一网共享统计_{}.xlsx", period.code().replace("..", "_")),
    ))
}

const NUMERALS: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];

/// The month's report: 一、总体情况 in sentences, 二、各部门情况, 三、用数申请与调用, 四、数据异议,
/// then one chapter per contributed section (五、开放数据).
async fn figures_docx(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Query(q): Query<PeriodQuery>,
) -> PageResult {
    let period = q.period_or_this_month(ctx.db.now())?;
    let f = load(&ctx, &p, &period).await?;
    let t = &f.total;
    let label = period.title_label();
    let mut d = tabular::Doc::new(format!("{}一网共享运行情况（{label}）", p.city));
    d.heading(1, format!("{}一网共享运行情况", p.city));
    d.paragraph(format!("统计期间：{}。", period.label()));
    d.heading(2, "一、总体情况");
    d.paragraph(format!(
        "截至期末，全市已发布政务信息资源目录 {} 个，挂接资源 {} 个，挂接率 {}；目录共享率 {}，开放率 {}，资源更新率 {}。",
        t.entries,
        t.resources,
        pct(t.mount_rate),
        pct(t.share_rate),
        pct(t.open_rate),
        pct(t.update_rate)
    ));
    d.paragraph(format!(
        "期内受理用数申请 {} 件，批准 {} 件、未通过 {} 件、审批中 {} 件；期内办结的申请从提出到决定用时中位数 {}，最长 {}。期末有效授权 {} 项，其中 30 天内到期 {} 项。",
        f.requests,
        f.requests_approved,
        f.requests_refused,
        f.requests_pending,
        days(f.approval_days_median),
        days(f.approval_days_max),
        f.grants_active,
        f.grants_expiring_30d
    ));
    d.paragraph(format!(
        "期内共享接口被调用 {} 次，成功 {} 次，提供数据 {} 行；提出数据异议 {} 件，答复 {} 件。",
        f.calls, f.calls_served, f.rows_served, f.objections.raised, f.objections.answered
    ));
    d.heading(2, "二、各部门情况");
    let mut rows: Vec<Vec<String>> = f.by_department.iter().map(dept_cells).collect();
    rows.push(dept_cells(t));
    d.table(&DEPT_HEADERS, &rows);
    d.heading(2, "三、用数申请与调用");
    d.paragraph(format!(
        "期内用数申请 {} 件，批准率 {}。",
        f.requests,
        pct(crate::figures::service::rate(
            f.requests_approved,
            f.requests_approved + f.requests_refused
        ))
    ));
    if f.top_consumers.is_empty() {
        d.paragraph("期内没有部门通过共享接口调用数据。");
    } else {
        let top = &f.top_consumers[0];
        d.paragraph(format!(
            "调用最多的是{}，调用 {} 次，获得数据 {} 行。",
            top.dept_name, top.calls, top.rows_served
        ));
        let rows: Vec<Vec<String>> = f
            .top_consumers
            .iter()
            .map(|c| {
                vec![
                    c.dept_name.clone(),
                    c.calls.to_string(),
                    c.calls_served.to_string(),
                    c.rows_served.to_string(),
                ]
            })
            .collect();
        d.table(&["使用部门", "调用次数", "成功", "获得行数"], &rows);
    }
    d.heading(2, "四、数据异议");
    d.paragraph(format!(
        "期内提出数据异议 {} 件，答复 {} 件，其中更正基础库 {} 件；超过核实时限 {} 件；期末待核实 {} 件。",
        f.objections.raised,
        f.objections.answered,
        f.objections.corrected,
        f.objections.overdue,
        f.objections.open
    ));
    for (i, s) in f.sections.iter().enumerate() {
        d.heading(
            2,
            format!("{}、{}", NUMERALS.get(4 + i).unwrap_or(&"十"), s.title),
        );
        if !s.summary.is_empty() {
            d.paragraph(s.summary.clone());
        }
        let rows: Vec<Vec<String>> = s
            .rows
            .iter()
            .map(|r| vec![r.label.clone(), r.value.clone()])
            .collect();
        d.table(&["指标", "数值"], &rows);
        if let Some(tb) = &s.by_department {
            if !tb.rows.is_empty() {
                d.table(&tb.headers, &tb.rows);
            }
        }
    }
    let bytes = d.to_bytes().map_err(Error::internal)?;
    Ok(webcore::download::attachment(
        bytes,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "sharing-report.docx",
        &format!("一网共享运行情况_{}.docx", period.code().replace("..", "_")),
    ))
}
