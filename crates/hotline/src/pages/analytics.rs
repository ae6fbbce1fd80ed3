//! 数据研判: the KPIs of a period (month, ISO week or chosen days) by department, region or
//! category in a sortable table; the daily (or weekly) volume and the breakdowns as SVG charts
//! drawn on the server; the period's hot issues; downloads of the monthly report and the lists.
//! Figures come from `report::ReportService::kpis` (replayed from the timeline), tickets from `HotlineService`.

use super::charts::{bar_chart, line_chart, Series};
use super::{cut, minute};
use crate::http::svc;
use crate::report::{self, GroupBy, KpiRow, KpiTable, Kpis, Period};
use crate::service::TicketQuery;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{Datelike, NaiveDate};
use kernel::page::PageQuery;
use kernel::{Actor, Error, FieldError, Role};
use maud::{html, Markup};
use nlp::hotspot::{HotspotOptions, Message};
use serde::Deserialize;
use webcore::layout::{error_summary, field_error, page, text_field};
use webcore::{AppCtx, PageCtx, PageError, Query};

/// Who sees the page: the report's readers (analysts, supervisors, admins see their region;
/// department staff only their departments' figures).
pub const READERS: &[Role] = &[
    Role::Analyst,
    Role::Supervisor,
    Role::SysAdmin,
    Role::Handler,
];

/// Tickets loaded for the trend and hot issues; a longer period is cut (and says so).
const MAX_TICKETS: usize = 20_000;

pub fn routes() -> Router<AppCtx> {
    Router::new().route("/hotline/analytics", get(show)).route(
        "/hotline/analytics/alerts/{id}/acknowledge",
        axum::routing::post(acknowledge_alert),
    )
}

/// Who may acknowledge a 研判告警 on this page (the alerts service checks it again).
const ALERT_ACK: &[Role] = &[Role::Supervisor, Role::Analyst, Role::SysAdmin];
/// Who sees the alerts at all (department staff do not).
const ALERT_READERS: &[Role] = &[
    Role::Supervisor,
    Role::Analyst,
    Role::Dispatcher,
    Role::SysAdmin,
];

/// What the acknowledge form left behind after its redirect (post/redirect/get).
#[derive(Deserialize, Default)]
struct AlertFlash {
    acked: Option<i64>,
    ack_error: Option<i64>,
}

async fn acknowledge_alert(
    p: PageCtx,
    State(ctx): State<AppCtx>,
    webcore::Path(id): webcore::Path<i64>,
    f: webcore::FormData,
) -> Result<Response, PageError> {
    p.check_csrf(f.get(webcore::CSRF_FIELD))?;
    let alerts = crate::alerts::AlertService::new(ctx.db.clone());
    match alerts.acknowledge(&p.actor, id, f.get("note")).await {
        Ok(_) => Ok(
            axum::response::Redirect::to(&format!("/hotline/analytics?acked={id}#alerts"))
                .into_response(),
        ),
        // The only field is the note: show the problem beside it, keep the page a GET.
        Err(Error::Validation(_)) => Ok(axum::response::Redirect::to(&format!(
            "/hotline/analytics?ack_error={id}#alert-{id}"
        ))
        .into_response()),
        Err(e) => Err(e.into()),
    }
}

/// The signal library names a subject by its internal key (`region:690102001000`, a cluster's
/// first ticket id); readers get the subject's words instead.
fn readable(statement: &str, a: &crate::alerts::StoredAlert) -> String {
    let label = format!("「{}」", a.subject_label);
    statement
        .replace(&format!("「{}:{}」", a.dimension, a.subject), &label)
        .replace(&format!("「{}」", a.subject), &label)
}

/// The open alerts with their evidence, and an acknowledge form for those allowed.
async fn alerts_section(
    ctx: &AppCtx,
    p: &PageCtx,
    flash: &AlertFlash,
) -> Result<Markup, PageError> {
    if !p.actor.has_any_role(ALERT_READERS) {
        return Ok(html! {});
    }
    let open = crate::alerts::AlertService::new(ctx.db.clone())
        .list(&p.actor, Some("open"))
        .await?;
    let may_ack = p.actor.has_any_role(ALERT_ACK);
    Ok(html! {
        section aria-labelledby="alerts-title" #alerts {
            h2 #alerts-title { "研判告警" }
            @if let Some(id) = flash.acked { div.notice role="status" { "告警 " (id) " 已确认。" } }
            @if open.is_empty() {
                p.muted { "当前没有待处理的研判告警。" }
            } @else {
                ul.alerts style="list-style:none;padding-left:0" {
                    @for a in &open {
                        li.card #(format!("alert-{}", a.id)) {
                            h3 {
                                (if a.kind == "volume_spike" { "量能异常" } else { "新增聚集" }) "：" (a.subject_label)
                            }
                            p.muted {
                                (a.window_from) " 至 " (a.window_to) "，实际 " (a.observed) " 件，预期 " (format!("{:.1}", a.expected)) " 件，关联工单 " (a.ticket_ids.len()) " 件"
                            }
                            ul.evidence {
                                @for st in a.evidence["statements"].as_array().into_iter().flatten().filter_map(|v| v.as_str()).take(4) {
                                    li { (readable(st, a)) }
                                }
                            }
                            @if may_ack {
                                @let fid = format!("ack-note-{}", a.id);
                                @let bad = flash.ack_error == Some(a.id);
                                form method="post" action=(format!("/hotline/analytics/alerts/{}/acknowledge", a.id)) {
                                    (webcore::layout::csrf_input(p))
                                    div.field {
                                        label for=(fid) { "处理意见" }
                                        input id=(fid) name="note" maxlength="1000"
                                            aria-invalid=[bad.then_some("true")] aria-describedby=[bad.then(|| format!("{fid}-error"))];
                                        @if bad { p.field-error id=(format!("{fid}-error")) role="alert" { "请填写处理意见（不超过 1000 字）。" } }
                                    }
                                    button type="submit" { "确认告警" }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}

#[derive(Deserialize, Default)]
struct AnalyticsQuery {
    /// `month` (default), `week` or `days`.
    #[serde(default)]
    kind: String,
    #[serde(default)]
    month: String,
    #[serde(default)]
    week: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// `department` (default), `region` or `category`.
    #[serde(default)]
    by: String,
    /// For regions: `district`, `street` or `community`.
    #[serde(default)]
    level: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    dir: String,
}

/// The table's columns: key, header, value.
type Col = (&'static str, &'static str, fn(&Kpis) -> Option<f64>);

const COLS: &[Col] = &[
    ("received", "受理量", |k| Some(k.received as f64)),
    ("dispatched", "派单", |k| Some(k.dispatched as f64)),
    ("replied", "答复", |k| Some(k.replied as f64)),
    ("on_time_rate", "按时办结率", |k| k.on_time_rate),
    ("reply_rate", "回复率", |k| k.reply_rate),
    ("satisfaction_rate", "满意率", |k| k.satisfaction_rate),
    ("reopen_rate", "重办率", |k| k.reopen_rate),
    ("overdue_open", "超期未办结", |k| {
        Some(k.overdue_open as f64)
    }),
    ("avg_handling_hours", "平均办理(工时)", |k| {
        k.avg_handling_hours
    }),
];

fn is_rate(key: &str) -> bool {
    key.ends_with("_rate")
}

fn fmt_value(key: &str, v: Option<f64>) -> String {
    match v {
        None => "—".into(),
        Some(x) if is_rate(key) => format!("{:.1}%", x * 100.0),
        Some(x) if key == "avg_handling_hours" => format!("{x:.1}"),
        Some(x) => format!("{}", x.round() as i64),
    }
}

/// The period the form asks for; errors name the field to fix.
fn period_of(q: &AnalyticsQuery, today: NaiveDate) -> Result<(Period, &'static str), Error> {
    match q.kind.as_str() {
        "" | "month" => {
            let m = if q.month.trim().is_empty() {
                format!("{:04}-{:02}", today.year(), today.month())
            } else {
                q.month.trim().to_owned()
            };
            match Period::parse(&m) {
                Ok(p @ Period::Month { .. }) => Ok((p, "month")),
                _ => Err(Error::field(
                    "month",
                    "invalid_period",
                    "月份应写作 2025-03",
                )),
            }
        }
        "week" => {
            let w = if q.week.trim().is_empty() {
                let iw = today.iso_week();
                format!("{}-W{:02}", iw.year(), iw.week())
            } else {
                q.week.trim().to_owned()
            };
            report::parse_week(&w)
                .map(|p| (p, "week"))
                .map_err(|_| Error::field("week", "invalid_week", "周应写作 ISO 周，如 2025-W11"))
        }
        "days" => {
            let from = q.from.trim();
            let to = q.to.trim();
            let mut errors = Vec::new();
            let parse = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
            if parse(from).is_none() {
                errors.push(FieldError::new(
                    "from",
                    "invalid_date",
                    "开始日期格式应为 2025-03-01",
                ));
            }
            if parse(to).is_none() {
                errors.push(FieldError::new(
                    "to",
                    "invalid_date",
                    "结束日期格式应为 2025-03-31",
                ));
            }
            if !errors.is_empty() {
                return Err(Error::Validation(errors));
            }
            Period::parse(&format!("{from}..{to}"))
                .map(|p| (p, "days"))
                .map_err(|e| Error::field("to", "invalid_period", e.detail()))
        }
        _ => Err(Error::field(
            "kind",
            "invalid_enum",
            "统计期只能按月、按周或自选日期",
        )),
    }
}

fn group_of(q: &AnalyticsQuery) -> Result<GroupBy, Error> {
    match q.by.as_str() {
        "" | "department" => Ok(GroupBy::Department),
        "category" => Ok(GroupBy::Category),
        "region" => GroupBy::parse(
            "region",
            Some(if q.level.is_empty() {
                "district"
            } else {
                &q.level
            }),
        )
        .map_err(|_| Error::field("level", "invalid_enum", "地区层级只能是区县、街道或社区")),
        _ => Err(Error::field(
            "by",
            "invalid_enum",
            "分组只能是承办单位、地区或分类",
        )),
    }
}

/// The period's tickets in the reader's scope, through the service (its masking included).
async fn period_tickets(
    ctx: &AppCtx,
    actor: &Actor,
    period: &Period,
) -> Result<(Vec<crate::domain::Ticket>, i64), Error> {
    let s = svc(ctx);
    let q = TicketQuery {
        from: Some(period.first_day().to_string()),
        to: Some(period.last_day().to_string()),
        sort: Some("oldest".into()),
        ..TicketQuery::default()
    };
    let mut out = Vec::new();
    let mut total = 0;
    let mut page = 1;
    loop {
        let p = s
            .list(
                actor,
                &q,
                &PageQuery {
                    page: Some(page),
                    per_page: Some(kernel::page::MAX_PER_PAGE),
                },
            )
            .await?;
        total = total.max(p.total);
        let n = p.items.len();
        out.extend(p.items.into_iter().map(|v| v.ticket));
        if n < kernel::page::MAX_PER_PAGE as usize || out.len() >= MAX_TICKETS {
            break;
        }
        page += 1;
    }
    out.truncate(MAX_TICKETS);
    Ok((out, total))
}

/// Volume per day, or per ISO week when the period is longer than two months.
fn trend(
    period: &Period,
    today: NaiveDate,
    tickets: &[crate::domain::Ticket],
) -> (Vec<String>, Vec<f64>, &'static str) {
    let first = period.first_day();
    // The days still to come of a running period would only draw a flat tail.
    let last = period.last_day().min(today).max(first);
    let days = (last - first).num_days() + 1;
    let day_of = |ms: i64| kernel::clock::to_china(ms).date_naive();
    if days <= 62 {
        let mut v = vec![0.0; days as usize];
        for t in tickets {
            let i = (day_of(t.created_at) - first).num_days();
            if (0..days).contains(&i) {
                v[i as usize] += 1.0;
            }
        }
        let labels = (0..days)
            .map(|i| {
                let d = first + chrono::Duration::days(i);
                format!("{}/{}", d.month(), d.day())
            })
            .collect();
        (labels, v, "日")
    } else {
        let weeks = (days as usize).div_ceil(7);
        let mut v = vec![0.0; weeks];
        for t in tickets {
            let i = (day_of(t.created_at) - first).num_days();
            if (0..days).contains(&i) {
                v[i as usize / 7] += 1.0;
            }
        }
        let labels = (0..weeks)
            .map(|w| {
                let d = first + chrono::Duration::days(7 * w as i64);
                format!("{}/{}起", d.month(), d.day())
            })
            .collect();
        (labels, v, "周")
    }
}

fn link(q: &AnalyticsQuery, sort: &str, dir: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "/hotline/analytics?kind={}&month={}&week={}&from={}&to={}&by={}&level={}&sort={}&dir={}",
        enc(&q.kind),
        enc(&q.month),
        enc(&q.week),
        enc(&q.from),
        enc(&q.to),
        enc(&q.by),
        enc(&q.level),
        enc(sort),
        enc(dir)
    )
}

/// Whether a rise is good news (receiving more is neither: shown neutral).
fn rise_is_good(key: &str) -> Option<bool> {
    match key {
        "received" | "dispatched" => None,
        "reopen_rate" | "overdue_open" | "avg_handling_hours" => Some(false),
        _ => Some(true),
    }
}

fn change(now: Option<f64>, before: Option<f64>, key: &str) -> Markup {
    match (now, before) {
        (Some(a), Some(b)) if (a - b).abs() > 1e-9 => {
            let text = if is_rate(key) {
                format!("{:+.1} 个百分点", (a - b) * 100.0)
            } else if b > 0.0 {
                format!("{:+.1}%", (a - b) / b * 100.0)
            } else {
                format!("{:+}", (a - b).round() as i64)
            };
            let class = match rise_is_good(key) {
                Some(good) if (a > b) == good => "up",
                Some(_) => "down",
                None => "muted",
            };
            html! { span.(class) { "环比 " (text) } }
        }
        (Some(_), Some(_)) => html! { span.muted { "环比持平" } },
        _ => html! {},
    }
}

fn sorted_rows<'a>(t: &'a KpiTable, sort: &str, desc: bool) -> Vec<&'a KpiRow> {
    let mut rows: Vec<&KpiRow> = t.rows.iter().collect();
    if let Some((_, _, f)) = COLS.iter().find(|c| c.0 == sort) {
        rows.sort_by(|a, b| {
            let (x, y) = (f(&a.kpis), f(&b.kpis));
            // Rows without a value go last either way.
            let o = match (x, y) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => return std::cmp::Ordering::Less,
                (None, Some(_)) => return std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            };
            if desc {
                o.reverse()
            } else {
                o
            }
        });
    } else if sort == "name" {
        rows.sort_by(|a, b| {
            if desc {
                b.name.cmp(&a.name)
            } else {
                a.name.cmp(&b.name)
            }
        });
    }
    rows
}

/// Tickets per level-1 category, most first; tickets not yet classified count as 未分类.
fn category_bars(
    tickets: &[crate::domain::Ticket],
    cats: &[crate::domain::Category],
) -> Vec<(String, f64)> {
    let by_id: std::collections::HashMap<i64, &crate::domain::Category> =
        cats.iter().map(|c| (c.id, c)).collect();
    let root = |mut id: i64| {
        // At most three levels; the bound guards against a cycle in bad data.
        for _ in 0..4 {
            match by_id.get(&id) {
                Some(c) => match c.parent_id {
                    Some(p) => id = p,
                    None => return c.name.clone(),
                },
                None => break,
            }
        }
        "未分类".to_owned()
    };
    let mut counts: std::collections::BTreeMap<String, f64> = Default::default();
    for t in tickets {
        let name = t.category_id.map(root).unwrap_or_else(|| "未分类".into());
        *counts.entry(name).or_default() += 1.0;
    }
    let mut v: Vec<(String, f64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

fn bars_of(t: &KpiTable, f: fn(&Kpis) -> i64) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = t
        .rows
        .iter()
        .map(|r| (r.name.clone(), f(&r.kpis) as f64))
        .filter(|(_, x)| *x > 0.0)
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

async fn show(
    p: PageCtx,
    State(ctx): State<AppCtx>,
    Query(q): Query<AnalyticsQuery>,
    axum::extract::Query(flash): axum::extract::Query<AlertFlash>,
) -> Result<Response, PageError> {
    let today = kernel::clock::to_china(ctx.db.now()).date_naive();
    let chosen = period_of(&q, today).and_then(|pk| Ok((pk, group_of(&q)?)));
    let ((period, kind), by) = match chosen {
        Ok(x) => x,
        Err(Error::Validation(errors)) => {
            let body = page(
                &p,
                "数据研判",
                html! { (error_summary(&errors)) (period_form(&q, today, &errors)) },
            );
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    // One replay of the timeline for the table; the breakdown charts count the period's
    // tickets, which are loaded anyway for the trend and the hot issues.
    let hotline = svc(&ctx);
    let reports = report::ReportService::new(ctx.db.clone(), ctx.config.city.name.clone());
    let (table, loaded, cats) = tokio::join!(
        reports.kpis(&p.actor, &period, by),
        period_tickets(&ctx, &p.actor, &period),
        hotline.categories()
    );
    let (table, (tickets, matched), cats) = (table?, loaded?, cats?);
    let by_category = category_bars(&tickets, &cats);
    let (group_title, group_bars) = match by {
        GroupBy::Department => ("承办单位（答复量）", bars_of(&table, |k| k.replied)),
        _ => ("分组（受理量）", bars_of(&table, |k| k.received)),
    };
    let (labels, volume, unit) = trend(&period, today, &tickets);
    let messages: Vec<Message> = tickets
        .iter()
        .map(|t| Message {
            id: t.number.clone(),
            text: format!("{}\n{}", t.title, t.content),
            at_ms: t.created_at,
            user: t.caller.phone.clone(),
            likes: 0,
        })
        .collect();
    let hot = nlp::hotspot::hotspots(
        &messages,
        &HotspotOptions {
            top: 10,
            ..HotspotOptions::default()
        },
    );
    let total = &table.total;
    let sort = if q.sort.is_empty() {
        "received"
    } else {
        q.sort.as_str()
    };
    let desc = q.dir != "asc";
    let rows = sorted_rows(&table, sort, desc);
    let code = period.code();
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let level = match by {
        GroupBy::Region(l) => Some(match l {
            kernel::codes::RegionLevel::Town => "street",
            kernel::codes::RegionLevel::Village => "community",
            _ => "district",
        }),
        _ => None,
    };
    let kpi_xlsx = format!(
        "/api/v1/hotline/reports/kpis.xlsx?period={}&by={}{}",
        enc(&code),
        by.code(),
        level.map(|l| format!("&level={l}")).unwrap_or_default()
    );
    let cards: [Col; 6] = [
        ("received", "受理量", |k| Some(k.received as f64)),
        ("on_time_rate", "按时办结率", |k| k.on_time_rate),
        ("reply_rate", "回复率", |k| k.reply_rate),
        ("satisfaction_rate", "满意率", |k| k.satisfaction_rate),
        ("reopen_rate", "重办率", |k| k.reopen_rate),
        ("overdue_open", "超期未办结", |k| {
            Some(k.overdue_open as f64)
        }),
    ];
    let alerts = alerts_section(&ctx, &p, &flash).await?;
    let body = html! {
        (period_form(&q, today, &[]))
        h2 #period-title { (table.period_label) " · " (table.scope) }
        div.kpis role="list" {
            @for (key, label, f) in cards {
                div.card role="listitem" {
                    div.muted { (label) }
                    div.stat { (fmt_value(key, f(&total.kpis))) }
                    div { (change(f(&total.kpis), f(&total.previous), key)) }
                }
            }
        }
        p.muted { "上期（" (table.previous_label) "）为环比基准。口径见月报附表“指标口径”。" }
        section aria-labelledby="trend-title" {
            h2 #trend-title { "受理量趋势（按" (unit) "）" }
            (line_chart("trend", &format!("{} 受理量（按{unit}）", table.period_label), &labels, &[Series { name: "受理量".into(), values: volume }]))
            @if (matched as usize) > tickets.len() { p.muted { "工单较多，趋势与热点只计前 " (tickets.len()) " 件。" } }
        }
        div.row {
            section aria-labelledby="cat-title" {
                h2 #cat-title { "分类分布（受理量）" }
                (bar_chart("by-category", "按一级分类的受理量", &by_category, 12))
            }
            section aria-labelledby="group-title" {
                h2 #group-title { (group_title.replace("分组", report_group_label(by))) }
                (bar_chart("by-group", &format!("按{}", report_group_label(by)), &group_bars, 12))
            }
        }
        section aria-labelledby="table-title" {
            h2 #table-title { "指标明细（按" (report_group_label(by)) "）" }
            div.actions {
                span { "分组：" }
                a href=(link(&AnalyticsQuery { by: "department".into(), level: String::new(), ..clone_q(&q) }, sort, &q.dir)) aria-current=[(by == GroupBy::Department).then_some("true")] { "承办单位" }
                a href=(link(&AnalyticsQuery { by: "region".into(), level: "district".into(), ..clone_q(&q) }, sort, &q.dir)) aria-current=[(level == Some("district")).then_some("true")] { "区县" }
                a href=(link(&AnalyticsQuery { by: "region".into(), level: "street".into(), ..clone_q(&q) }, sort, &q.dir)) aria-current=[(level == Some("street")).then_some("true")] { "街道" }
                a href=(link(&AnalyticsQuery { by: "region".into(), level: "community".into(), ..clone_q(&q) }, sort, &q.dir)) aria-current=[(level == Some("community")).then_some("true")] { "社区" }
                a href=(link(&AnalyticsQuery { by: "category".into(), level: String::new(), ..clone_q(&q) }, sort, &q.dir)) aria-current=[(by == GroupBy::Category).then_some("true")] { "分类" }
                a.button href=(kpi_xlsx) #download-kpis download { "导出本表 .xlsx" }
            }
            table #kpi-table {
                thead {
                    tr {
                        (sort_header(&q, "name", report_group_label(by), sort, desc))
                        @for (key, label, _) in COLS { (sort_header(&q, key, label, sort, desc)) }
                    }
                }
                tbody {
                    @for r in &rows {
                        tr {
                            th scope="row" { (r.name) }
                            @for (key, _, f) in COLS { td { (fmt_value(key, f(&r.kpis))) } }
                        }
                    }
                    tr {
                        th scope="row" { "合计" }
                        @for (key, _, f) in COLS { td { strong { (fmt_value(key, f(&total.kpis))) } } }
                    }
                }
            }
        }
        section aria-labelledby="hot-title" #hot-issues {
            h2 #hot-title { "热点问题" }
            @if hot.is_empty() {
                p.muted { "本期没有形成热点的诉求（同一问题至少 2 件）。" }
            } @else {
                table {
                    thead { tr { th scope="col" { "排名" } th scope="col" { "热度" } th scope="col" { "问题" } th scope="col" { "地点" } th scope="col" { "时间" } th scope="col" { "工单" } } }
                    tbody {
                        @for h in &hot {
                            tr {
                                td { (h.rank) }
                                td { (format!("{:.1}", h.heat)) }
                                td { (h.title) }
                                td { (h.place) }
                                td { (minute(h.from_ms)) " 至 " (minute(h.to_ms)) }
                                td { (h.ticket_ids.len()) " 件：" span.mono { (cut(&h.ticket_ids.iter().take(3).cloned().collect::<Vec<_>>().join("、"), 120)) @if h.ticket_ids.len() > 3 { " 等" } } }
                            }
                        }
                    }
                }
            }
        }
        (alerts)
        section aria-labelledby="dl-title" {
            h2 #dl-title { "下载" }
            ul #downloads {
                li { a #download-monthly-docx href=(format!("/api/v1/hotline/reports/monthly.docx?period={}", enc(&code))) download { (table.period_label) " 运行情况报告（.docx）" } }
                li { a #download-monthly-xlsx href=(format!("/api/v1/hotline/reports/monthly.xlsx?period={}", enc(&code))) download { (table.period_label) " 运行情况附表（.xlsx）" } }
                li { a href=(kpi_xlsx) download { "本页指标明细（.xlsx）" } }
                li { a #download-tickets href=(format!("/api/v1/hotline/tickets.xlsx?from={}&to={}", period.first_day(), period.last_day())) download { "本期工单清单（.xlsx，按权限脱敏）" } }
            }
        }
        p.muted { "统计期类型：" (match kind { "week" => "按周", "days" => "自选日期", _ => "按月" }) "。点击表头排序。" }
    };
    Ok(page(&p, "数据研判", body).into_response())
}

fn report_group_label(by: GroupBy) -> &'static str {
    match by {
        GroupBy::Region(kernel::codes::RegionLevel::Town) => "街道",
        GroupBy::Region(kernel::codes::RegionLevel::Village) => "社区",
        GroupBy::Region(_) => "区县",
        other => other.label(),
    }
}

fn clone_q(q: &AnalyticsQuery) -> AnalyticsQuery {
    AnalyticsQuery {
        kind: q.kind.clone(),
        month: q.month.clone(),
        week: q.week.clone(),
        from: q.from.clone(),
        to: q.to.clone(),
        by: q.by.clone(),
        level: q.level.clone(),
        sort: q.sort.clone(),
        dir: q.dir.clone(),
    }
}

fn sort_header(q: &AnalyticsQuery, key: &str, label: &str, sort: &str, desc: bool) -> Markup {
    let active = key == sort;
    let next = if active && desc { "asc" } else { "desc" };
    let aria = active.then_some(if desc { "descending" } else { "ascending" });
    html! {
        th scope="col" aria-sort=[aria] {
            a href=(link(q, key, next)) { (label) @if active { (if desc { " ▼" } else { " ▲" }) } }
        }
    }
}

fn period_form(q: &AnalyticsQuery, today: NaiveDate, errors: &[FieldError]) -> Markup {
    let kind = if q.kind.is_empty() {
        "month"
    } else {
        q.kind.as_str()
    };
    let month = if q.month.is_empty() {
        format!("{:04}-{:02}", today.year(), today.month())
    } else {
        q.month.clone()
    };
    let invalid = |n: &str| errors.iter().any(|e| e.field == n).then_some("true");
    html! {
        form.filters.card method="get" action="/hotline/analytics" aria-label="统计期" {
            input type="hidden" name="by" value=(q.by);
            input type="hidden" name="level" value=(q.level);
            div.field {
                label for="kind" { "统计期" }
                select #kind name="kind" aria-invalid=[invalid("kind")] {
                    option value="month" selected[kind == "month"] { "按月" }
                    option value="week" selected[kind == "week"] { "按周" }
                    option value="days" selected[kind == "days"] { "自选日期" }
                }
                (field_error(errors, "kind"))
            }
            (text_field("月份", "month", &month, errors, r#"type="month""#))
            (text_field("周（如 2025-W11）", "week", &q.week, errors, r#"type="week""#))
            (text_field("开始日期", "from", &q.from, errors, r#"type="date""#))
            (text_field("结束日期", "to", &q.to, errors, r#"type="date""#))
            button type="submit" { "统计" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_period_defaults_to_this_month_and_bad_input_names_its_field() {
        let today = day("2025-03-14");
        let (p, k) = period_of(&AnalyticsQuery::default(), today).unwrap();
        assert_eq!((p.code().as_str(), k), ("2025-03", "month"));
        let q = AnalyticsQuery {
            kind: "week".into(),
            ..AnalyticsQuery::default()
        };
        assert_eq!(period_of(&q, today).unwrap().0.code(), "2025-W11");
        let q = AnalyticsQuery {
            kind: "days".into(),
            from: "2025-03-10".into(),
            to: "2025-03-01".into(),
            ..AnalyticsQuery::default()
        };
        match period_of(&q, today) {
            Err(Error::Validation(v)) => assert_eq!(v[0].field, "to"),
            other => panic!("{other:?}"),
        }
        let q = AnalyticsQuery {
            month: "2025-13".into(),
            ..AnalyticsQuery::default()
        };
        match period_of(&q, today) {
            Err(Error::Validation(v)) => assert_eq!(v[0].field, "month"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn values_are_formatted_as_the_report_does() {
        assert_eq!(fmt_value("on_time_rate", Some(0.9719)), "97.2%");
        assert_eq!(fmt_value("received", Some(12.0)), "12");
        assert_eq!(fmt_value("reply_rate", None), "—");
    }
}
