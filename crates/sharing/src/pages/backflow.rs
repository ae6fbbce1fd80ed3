//! 数据回流 pages: the tasks with their latest run (run now, pause, resume), the form to add
//! one (system administrator), and one task's run history with the errors of each run.

use super::{back, errors_of, flash, Msg, PageResult};
use crate::backflow::domain::{BackflowRun, NewBackflow, RunStatus, SourceKind};
use crate::http::svc;
use crate::service::ManageBackflow;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use kernel::clock::format_minute;
use kernel::{Error, FieldError};
use maud::{html, Markup};
use webcore::layout::{error_summary, field_error, page, text_field};
use webcore::{AppCtx, FormData, PageCtx, Path, Query};

pub(super) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/sharing/backflows", get(list).post(create))
        .route("/sharing/backflows/{id}", get(one).post(act))
}

fn status_tag(r: &BackflowRun) -> Markup {
    html! {
        span.tag.nowrap.(if r.status == RunStatus::Ok { "" } else { "off" }) { (r.status.label()) }
    }
}

/// `每天`, `每 6 小时`, `每 90 分钟`.
fn every(minutes: i64) -> String {
    match minutes {
        1440 => "每天".to_owned(),
        m if m % 1440 == 0 => format!("每 {} 天", m / 1440),
        60 => "每小时".to_owned(),
        m if m % 60 == 0 => format!("每 {} 小时", m / 60),
        m => format!("每 {m} 分钟"),
    }
}

fn counts(r: &BackflowRun) -> String {
    let mut s = format!("读取 {}，写入 {}，新增 {}", r.fetched, r.accepted, r.added);
    if r.rejected > 0 {
        s.push_str(&format!("，未通过 {}", r.rejected));
    }
    if r.skipped_files > 0 {
        s.push_str(&format!("，跳过已导入文件 {}", r.skipped_files));
    }
    s
}

async fn list(State(ctx): State<AppCtx>, p: PageCtx, Query(m): Query<Msg>) -> PageResult {
    render_list(&ctx, &p, &m, &FormData::default(), &[]).await
}

async fn render_list(
    ctx: &AppCtx,
    p: &PageCtx,
    m: &Msg,
    f: &FormData,
    errors: &[FieldError],
) -> PageResult {
    let s = svc(ctx);
    let list = s.backflows(&p.actor).await?;
    let manage = p.actor.authorize::<ManageBackflow>().is_ok();
    let registries = if manage {
        s.registry_resources().await?
    } else {
        Vec::new()
    };
    let body = html! {
        (flash(m))
        p.muted { "数据回流：按计划从省级接口（分页拉取）或交换目录（.csv、.xlsx、.json 文件）取回数据，写入基础库。按主键更新，重复运行不会重复写入；同一文件只导入一次。" }
        @if list.is_empty() { p #no-backflows { "还没有回流任务。" } }
        @else {
            table #backflows {
                thead { tr { th { "任务" } th { "写入资源" } th { "来源" } th { "间隔" } th { "上次运行" } th { "下次运行" } th { "操作" } } }
                tbody { @for v in &list {
                    @let b = &v.backflow;
                    tr {
                        td { a href=(format!("/sharing/backflows/{}", b.id)) { (b.name) } }
                        td { code { (v.resource_code) } " " (v.resource_name) }
                        td { (b.source_kind.label()) br; span.mono { (b.source) } }
                        td.nowrap { (every(b.interval_minutes)) }
                        td { @match &v.last_run {
                            Some(r) => { (status_tag(r)) " " (format_minute(r.started_at)) br; span.muted { (counts(r)) } }
                            None => { "尚未运行" }
                        } }
                        td.nowrap { @if b.enabled { (format_minute(b.next_run_at)) } @else { span.tag.off { "已暂停" } } }
                        td {
                            form.actions method="post" action=(format!("/sharing/backflows/{}", b.id)) {
                                input type="hidden" name="_csrf" value=(p.csrf);
                                button type="submit" name="action" value="run" { "立即运行" }
                                @if manage {
                                    @if b.enabled { button.secondary type="submit" name="action" value="pause" { "暂停" } }
                                    @else { button.secondary type="submit" name="action" value="resume" { "恢复" } }
                                }
                            }
                        }
                    }
                } }
            }
        }
        @if manage && !registries.is_empty() {
            div.card #new-backflow {
                h2 { "新建回流任务" }
                (error_summary(errors))
                form method="post" action="/sharing/backflows" {
                    input type="hidden" name="_csrf" value=(p.csrf);
                    (text_field("任务名称", "name", f.get("name"), errors, "required maxlength=\"60\" placeholder=\"如：省人口库回流\""))
                    div.field {
                        label for="resource_code" { "写入的基础库资源" }
                        select #resource_code name="resource_code" required {
                            option value="" { "请选择" }
                            @for r in &registries {
                                option value=(r.resource.code) selected[f.get("resource_code") == r.resource.code] {
                                    (r.resource.code) " " (r.resource.name) "（" (r.provider_name) "）"
                                }
                            }
                        }
                        (field_error(errors, "resource_code"))
                    }
                    div.field {
                        label for="source_kind" { "来源方式" }
                        select #source_kind name="source_kind" {
                            @for k in SourceKind::ALL {
                                option value=(k.code()) selected[f.get("source_kind") == k.code()] { (k.label()) }
                            }
                        }
                    }
                    (text_field("来源地址（接口 URL，或服务器上的目录绝对路径）", "source", f.get("source"), errors, "required maxlength=\"500\""))
                    (text_field("运行间隔（分钟）", "interval_minutes", if f.get("interval_minutes").is_empty() { "1440" } else { f.get("interval_minutes") }, errors, "required inputmode=\"numeric\""))
                    button type="submit" { "新建" }
                }
            }
        }
    };
    Ok(page(p, "数据回流", body).into_response())
}

async fn create(State(ctx): State<AppCtx>, p: PageCtx, f: FormData) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let minutes = f.get("interval_minutes").trim().parse::<i64>();
    let result = match (minutes, SourceKind::parse(f.get("source_kind"))) {
        (Err(_), _) => Err(Error::field(
            "interval_minutes",
            "invalid_type",
            "运行间隔须为整数分钟",
        )),
        (_, None) => Err(Error::field("source_kind", "invalid", "请选择来源方式")),
        (Ok(interval_minutes), Some(source_kind)) => {
            let n = NewBackflow {
                resource_code: f.get("resource_code").to_owned(),
                name: f.get("name").to_owned(),
                source_kind,
                source: f.get("source").to_owned(),
                interval_minutes,
            };
            svc(&ctx).create_backflow(&p.actor, n).await
        }
    };
    match result {
        Ok(v) => Ok(back(
            "/sharing/backflows",
            &format!("已新建回流任务“{}”", v.backflow.name),
        )),
        Err(e @ (Error::Validation(_) | Error::Forbidden(_))) => {
            let resp = render_list(&ctx, &p, &Msg::default(), &f, &errors_of(&e)).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, resp).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn act(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let s = svc(&ctx);
    let msg = match f.get("action") {
        "run" => {
            let r = s.run_backflow(&p.actor, id).await?;
            let mut m = format!("运行{}：{}", r.status.label(), counts(&r));
            if !r.message.is_empty() {
                m.push_str(&format!("。{}", r.message));
            }
            m
        }
        "pause" => {
            s.set_backflow_enabled(&p.actor, id, false).await?;
            "已暂停".to_owned()
        }
        "resume" => {
            s.set_backflow_enabled(&p.actor, id, true).await?;
            "已恢复".to_owned()
        }
        _ => return Err(Error::field("action", "invalid", "未知的操作").into()),
    };
    let to = if f.get("from") == "task" {
        format!("/sharing/backflows/{id}")
    } else {
        "/sharing/backflows".to_owned()
    };
    Ok(back(&to, &msg))
}

async fn one(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    Query(m): Query<Msg>,
) -> PageResult {
    let s = svc(&ctx);
    let v = s.backflow(&p.actor, id).await?;
    let runs = s.backflow_runs(&p.actor, id, 50).await?;
    let b = &v.backflow;
    let body = html! {
        (flash(&m))
        p { a href="/sharing/backflows" { "← 数据回流" } }
        dl.facts #backflow {
            dt { "写入资源" } dd { code { (v.resource_code) } " " (v.resource_name) "（" (v.provider_name) "）" }
            dt { "来源" } dd { (b.source_kind.label()) "：" span.mono { (b.source) } }
            dt { "运行间隔" } dd { (every(b.interval_minutes)) }
            dt { "下次运行" } dd { @if b.enabled { (format_minute(b.next_run_at)) } @else { "已暂停" } }
        }
        form.actions method="post" action=(format!("/sharing/backflows/{id}")) {
            input type="hidden" name="_csrf" value=(p.csrf);
            input type="hidden" name="from" value="task";
            button type="submit" name="action" value="run" { "立即运行" }
        }
        h2 { "运行记录" }
        @if runs.is_empty() { p { "尚未运行。" } }
        @else {
            table #runs {
                thead { tr { th { "开始" } th { "方式" } th { "结果" } th { "数量" } th { "说明" } } }
                tbody { @for r in &runs {
                    tr {
                        td.nowrap { (format_minute(r.started_at)) }
                        td.nowrap { @if r.trigger == "manual" { "手动" } @else { "定时" } }
                        td { (status_tag(r)) }
                        td { (counts(r)) }
                        td {
                            (r.message)
                            @if !r.errors.is_empty() {
                                details {
                                    summary { "未通过的行（" (r.errors.len()) "）" }
                                    ul { @for e in &r.errors { li { @if e.line > 0 { "第 " (e.line) " 行 · " } (e.column) "：" (e.message) } } }
                                }
                            }
                        }
                    }
                } }
            }
        }
    };
    Ok(page(&p, &format!("回流任务：{}", b.name), body).into_response())
}
