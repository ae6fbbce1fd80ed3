//! One case for staff, with the actions its status allows.

use super::*;
use crate::domain::*;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use kernel::clock::format_minute;
use kernel::error::{Error, FieldError};
use maud::html;
use webcore::layout::{alert, csrf_input, error_summary, field_error, page};
use webcore::{AppCtx, FormData, PageCtx, Path, Query};

pub(super) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/services/cases/{id}", get(case_page))
        .route("/services/cases/{id}/act", post(case_act))
        .route("/services/cases/{id}/receipt", get(receipt_page))
        .route("/services/cases/{id}/notice", get(notice_page))
}

async fn case_page(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    Query(m): Query<MsgQuery>,
) -> PageResult {
    case_view(&ctx, &p, id, &m.msg, None).await
}

/// 特别程序 a case may enter; their days are set per case.
pub const SPECIAL_PROCEDURES: &[&str] = &[
    "听证",
    "检验检测",
    "检疫",
    "专家评审",
    "鉴定",
    "公示",
    "招标拍卖",
    "现场勘验",
];

/// A form that came back: its action, the errors and what was typed.
struct Failed<'a> {
    action: &'a str,
    errors: &'a [FieldError],
    form: &'a FormData,
}

/// Time left on the promised limit, in the item's unit.
fn time_left(c: &Case, cal: &kernel::calendar::Calendar, now: i64) -> Option<String> {
    // A finished case has nothing left to run; its result is the status and the timeline.
    if !c.status.is_open() {
        return None;
    }
    let m = c.remaining_minutes(now, cal)?;
    let (per, unit) = match c.time_unit {
        kernel::deadline::TimeUnit::WorkingDays => {
            (cal.office_hours().minutes_per_day(), "个工作日")
        }
        kernel::deadline::TimeUnit::CalendarDays => (24 * 60, "天"),
        kernel::deadline::TimeUnit::WorkingHours => (60, "个工作小时"),
    };
    let v = m.abs() as f64 / per as f64;
    Some(if m >= 0 {
        format!("剩余 {v:.1} {unit}")
    } else {
        format!("已超期 {v:.1} {unit}")
    })
}

async fn case_view(
    ctx: &AppCtx,
    p: &PageCtx,
    id: i64,
    msg: &str,
    failed: Option<Failed<'_>>,
) -> PageResult {
    let s = svc(ctx);
    let v = s.get(&p.actor, id).await?;
    let t = s.timeline(&p.actor, id).await?;
    let (cal, now) = s.calendar_now().await?;
    let c = &v.case;
    // The form's labels from the item version the case was filed under, in its order.
    let fields = s
        .item_version(Some(&p.actor), c.item_id, c.item_version)
        .await
        .map(|i| i.content.fields)
        .unwrap_or_default();
    let form_rows: Vec<(String, String)> = fields
        .iter()
        .filter_map(|f| c.form.get(&f.key).map(|v| (f.label.clone(), v)))
        .chain(
            c.form
                .iter()
                .filter(|(k, _)| !fields.iter().any(|f| &f.key == *k))
                .map(|(k, v)| (k.clone(), v)),
        )
        .map(|(label, v)| {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (label, text)
        })
        .collect();
    let act = format!("/services/cases/{id}/act");
    let missing: Vec<&CaseMaterial> = c.missing();
    // Offer only what the reader may take now: permission and the state machine on a copy.
    let probes = [
        Action::Accept {
            tolerated: vec![],
            tolerated_days: None,
        },
        Action::Reject {
            reason: "-".into(),
            legal_basis: "-".into(),
        },
        Action::RequestSupplement {
            materials: vec![],
            note: "-".into(),
        },
        Action::Decide {
            approve: false,
            document_no: "-".into(),
            text: "-".into(),
        },
        Action::Close,
        Action::SupplyTolerated,
        Action::StartSpecial {
            name: SPECIAL_PROCEDURES[0].into(),
            days: 1,
        },
        Action::EndSpecial { note: "-".into() },
        Action::Withdraw { reason: "-".into() },
        Action::Deliver {
            method: c
                .delivery_options
                .first()
                .copied()
                .unwrap_or(DeliveryMethod::Window),
            detail: "-".into(),
        },
    ];
    let ok = s.permitted(&p.actor, c, &probes).await?;
    let may = |code: &str| probes.iter().zip(&ok).any(|(a, k)| *k && a.code() == code);
    let any_action = probes
        .iter()
        .zip(&ok)
        .any(|(a, k)| *k && (a.code() != "deliver" || c.bundle_case_id.is_none()));
    let none: &[FieldError] = &[];
    let errs = |action: &str| match &failed {
        Some(f) if f.action == action => f.errors,
        _ => none,
    };
    let typed = |action: &str, name: &str| match &failed {
        Some(f) if f.action == action => f.form.get(name).to_owned(),
        _ => String::new(),
    };
    let invalid = |action: &str, name: &str| {
        errs(action)
            .iter()
            .any(|e| e.field == name)
            .then_some("true")
    };
    let name_of = |k: &String| {
        c.materials
            .iter()
            .find(|m| &m.key == k)
            .map_or(k.clone(), |m| m.name.clone())
    };
    let left = time_left(c, &cal, now);
    let late = left.as_deref().is_some_and(|l| l.starts_with("已超期"));
    let notice = notice_kind(c);
    let body = html! {
        @if !msg.is_empty() { (alert(msg)) }
        @if let Some(f) = &failed { (error_summary(f.errors)) }
        div.case-head #case-head {
            span.status #case-status { (v.status_label) }
            span { (c.item_name) }
            @if c.immediate { span.clock { "即办件" } }
            @else if let Some(l) = &left { span.clock.late[late] { (l) } }
            @else if c.accepted_at.is_none() && c.status.is_open() { span.clock { "受理后开始计时" } }
            span.docs {
                a #receipt-link href=(format!("/services/cases/{id}/receipt")) {
                    (if c.accepted_at.is_some() { "打印受理回执" } else { "打印收件回执" })
                }
                @if let Some((title, _)) = notice {
                    a #notice-link href=(format!("/services/cases/{id}/notice")) { "打印" (title) }
                }
            }
        }
        div.case-file {
        div.record {
        h2 { "基本信息" }
        dl.facts {
            dt { "办件编号" } dd { (c.number) }
            dt { "事项" } dd { (c.item_name) "（第 " (c.item_version) " 版）" }
            dt { "申请人" } dd { (c.applicant.name) " " (c.applicant.phone) }
            dt { "渠道" } dd { (c.channel.label()) }
            dt { "承诺时限" } dd #case-promised {
                @if c.immediate { "即办件（当场办结）" }
                @else { (c.promised_days) " " (c.time_unit.label()) "（法定 " (c.legal_days) "）" }
            }
            dt { "承诺办结" } dd #case-due { (c.due_at.map(format_minute).unwrap_or_else(|| "受理后起算".into())) }
            @if let Some(left) = &left {
                dt { "剩余时间" } dd #case-left { (left) }
            }
            @if let Some(since) = c.paused_since {
                dt { "计时" } dd #case-clock {
                    strong { "计时暂停" } "（自 " (format_minute(since)) " 起；"
                    (if c.status == CaseStatus::Special { "特别程序" } else { "补正" })
                    "期间不计入承诺时限，恢复后办结期限相应顺延）"
                }
            }
            @if let Some(sp) = &c.special {
                dt { "特别程序" } dd #case-special { (sp.name) "，" (sp.days) " 天，" (format_minute(sp.started_at)) " 起，预计 " (format_minute(sp.due_at)) " 结束" }
            }
            @if let Some(tol) = &c.tolerated {
                dt { "容缺材料" } dd #case-tolerated { (tol.materials.iter().map(name_of).collect::<Vec<_>>().join("、")) "，须于 " (format_minute(tol.due_at)) " 前补齐" @if now > tol.due_at { strong { "（已逾期）" } } }
            }
            @if let Some(d) = &c.delivery {
                dt { "出件" } dd #case-delivery { (d.method.label()) @if !d.detail.is_empty() { "：" (d.detail) } "（" (format_minute(d.at)) "）" }
            }
            @if c.paused_minutes > 0 {
                dt { "累计暂停" } dd { (format!("{:.1}", c.paused_minutes as f64 / cal.office_hours().minutes_per_day() as f64)) " 个工作日" }
            }
        }
        @if !c.form.is_empty() {
            h2 { "申请信息" }
            dl.facts #case-form { @for (label, val) in &form_rows { dt { (label) } dd { (val) } } }
        }
        h2 { "材料" }
        table #materials {
            thead { tr { th { "材料" } th { "来源" } th { "说明" } } }
            tbody {
                @for x in &c.materials {
                    tr {
                        td { (x.name) @if x.required { "" } @else { "（非必需）" } }
                        td { (x.source.label()) }
                        td { (x.note.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
        h2 { "办理过程" }
        ol.timeline #case-timeline { @for e in &t { li { time { (format_minute(e.at)) } " " strong { (e.label) } " " (e.actor_name) @if let Some(n) = &e.note { " — " (n) } } } }
        }
        aside #case-actions aria-label="当前可办" {
        h2 { "当前可办" }
        @if !any_action {
            p.muted #no-action { "您对这件办件当前没有可办的操作。" }
        }
            @if may("accept") {
                form #accept method="post" action=(act) {
                    (csrf_input(p)) input type="hidden" name="action" value="accept";
                    @if !missing.is_empty() {
                        p { "缺少材料，可对次要材料容缺受理：" }
                        @for x in &missing { label.check { input type="checkbox" name="tolerated" value=(x.key); " " (x.name) } }
                        (field_error(errs("accept"), "tolerated"))
                        label for="tolerated_days" { "容缺补齐期限（工作日）" }
                        input #tolerated_days name="tolerated_days" inputmode="numeric" value=(typed("accept", "tolerated_days")) aria-invalid=[invalid("accept", "tolerated_days")];
                        (field_error(errs("accept"), "tolerated_days"))
                    }
                    button type="submit" { "受理" }
                }
            }
            @if may("reject") {
                form #reject method="post" action=(act) {
                    (csrf_input(p)) input type="hidden" name="action" value="reject";
                    label for="reason" { "不予受理理由" } input #reason name="reason" value=(typed("reject", "reason"));
                    (field_error(errs("reject"), "reason"))
                    label for="legal_basis" { "法律依据" } input #legal_basis name="legal_basis" value=(typed("reject", "legal_basis"));
                    (field_error(errs("reject"), "legal_basis"))
                    button type="submit" { "不予受理" }
                }
            }
            @if may("request_supplement") {
                form #supplement method="post" action=(act) {
                    (csrf_input(p)) input type="hidden" name="action" value="request_supplement";
                    fieldset { legend { "一次性告知补正" }
                        @for x in &c.materials { label.check { input type="checkbox" name="materials" value=(x.key); " " (x.name) } }
                    }
                    (field_error(errs("request_supplement"), "materials"))
                    label for="note" { "补正说明" } input #note name="note" value=(typed("request_supplement", "note"));
                    (field_error(errs("request_supplement"), "note"))
                    button type="submit" { "要求补正" }
                }
            }
            @if may("supply_tolerated") {
                form #supply-tolerated method="post" action=(act) {
                    (csrf_input(p)) input type="hidden" name="action" value="supply_tolerated";
                    p { "容缺材料已收到：" (c.tolerated.as_ref().map(|t| t.materials.iter().map(name_of).collect::<Vec<_>>().join("、")).unwrap_or_default()) }
                    button type="submit" { "补齐容缺" }
                }
            }
            @if may("start_special") {
                form #special method="post" action=(act) {
                    (csrf_input(p)) input type="hidden" name="action" value="start_special";
                    div.field {
                        label for="special_name" { "特别程序" }
                        select #special_name name="name" aria-invalid=[invalid("start_special", "name")] {
                            @for n in SPECIAL_PROCEDURES { option value=(n) selected[typed("start_special", "name") == *n] { (n) } }
                        }
                        (field_error(errs("start_special"), "name"))
                    }
                    div.field {
                        label for="special_days" { "期限（天，不计入承诺时限）" }
                        input #special_days name="days" inputmode="numeric" value=(typed("start_special", "days"))
                            aria-invalid=[invalid("start_special", "days")]
                            aria-describedby=[invalid("start_special", "days").map(|_| "days-error")];
                        (field_error(errs("start_special"), "days"))
                    }
                    button type="submit" { "进入特别程序" }
                }
            }
            @if may("end_special") {
                form #end-special method="post" action=(act) {
                    (csrf_input(p)) input type="hidden" name="action" value="end_special";
                    div.field {
                        label for="end_note" { "特别程序结论" }
                        input #end_note name="note" value=(typed("end_special", "note")) aria-invalid=[invalid("end_special", "note")];
                        (field_error(errs("end_special"), "note"))
                    }
                    button type="submit" { "结束特别程序" }
                }
            }
            @if may("decide") {
                form #decide method="post" action=(act) {
                    (csrf_input(p)) input type="hidden" name="action" value="decide";
                    label.check { input type="radio" name="approve" value="true" checked; " 准予" }
                    label.check { input type="radio" name="approve" value="false"; " 不予" }
                    label for="document_no" { "决定文书编号" } input #document_no name="document_no" value=(typed("decide", "document_no"));
                    (field_error(errs("decide"), "document_no"))
                    label for="text" { "决定内容" } input #text name="text" value=(typed("decide", "text"));
                    (field_error(errs("decide"), "text"))
                    button type="submit" { "作出决定" }
                }
            }
            @if may("close") {
                form #close method="post" action=(act) {
                    (csrf_input(p)) input type="hidden" name="action" value="close";
                    button type="submit" { "办结" }
                }
            }
            // A 一件事's cases are delivered together at the 综合窗口.
            @if may("deliver") && c.bundle_case_id.is_none() {
                form #deliver method="post" action=(act) {
                    (csrf_input(p)) input type="hidden" name="action" value="deliver";
                    div.field {
                        label for="method" { "出件方式" }
                        select #method name="method" {
                            @for d in &c.delivery_options { option value=(d.code()) { (d.label()) } }
                        }
                        (field_error(errs("deliver"), "method"))
                    }
                    div.field {
                        label for="detail" { "说明（窗口号或邮寄单号和地址；以电子证照出件时自动签发证照）" }
                        input #detail name="detail" value=(typed("deliver", "detail")) aria-invalid=[invalid("deliver", "detail")];
                        (field_error(errs("deliver"), "detail"))
                    }
                    button type="submit" { "出件" }
                }
            }
            @if may("withdraw") {
                form #withdraw method="post" action=(act) {
                    (csrf_input(p)) input type="hidden" name="action" value="withdraw";
                    div.field {
                        label for="withdraw_reason" { "代申请人撤回：撤回理由（以申请人书面申请为准）" }
                        input #withdraw_reason name="reason" value=(typed("withdraw", "reason")) aria-invalid=[invalid("withdraw", "reason")];
                        (field_error(errs("withdraw"), "reason"))
                    }
                    button.danger type="submit" { "撤回申请" }
                }
            }
        }
        }
    };
    let code = if failed.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    Ok((code, page(p, &format!("办件 {}", c.number), body)).into_response())
}

/// The 告知书 a case calls for: 不予受理 (with the reason and its legal basis) or 一次性补正.
fn notice_kind(c: &Case) -> Option<(&'static str, &'static str)> {
    if c.rejection.is_some() {
        Some(("不予受理告知书", "rejection"))
    } else if c.supplement.is_some() {
        Some(("补正材料告知书", "supplement"))
    } else {
        None
    }
}

/// Where the applicant follows the case: the configured public address, else this request's
/// host (the clerk's printout is scanned on the bureau's own network).
fn track_url(ctx: &AppCtx, headers: &axum::http::HeaderMap, number: &str) -> String {
    let base = ctx
        .config
        .server
        .public_url
        .clone()
        .or_else(|| {
            headers
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .filter(|h| {
                    h.chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".:-[]".contains(c))
                })
                .map(|h| format!("http://{h}"))
        })
        .unwrap_or_default();
    format!("{}/guide/track?number={number}", base.trim_end_matches('/'))
}

fn qr_svg(text: &str) -> Markup {
    match qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => maud::PreEscaped(
            code.render::<qrcode::render::svg::Color>()
                .min_dimensions(160, 160)
                .build(),
        ),
        Err(_) => html! {},
    }
}

/// `GET /services/cases/{id}/receipt`: the 收件回执 (before acceptance) or 受理回执 handed to
/// the applicant — number, item, materials received, the promised date, and a QR to track it.
async fn receipt_page(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    headers: axum::http::HeaderMap,
) -> PageResult {
    let s = svc(&ctx);
    let v = s.get(&p.actor, id).await?;
    let c = &v.case;
    let dept = s
        .department(c.dept_id)
        .await
        .map(|d| d.name)
        .unwrap_or_default();
    let accepted = c.accepted_at.is_some();
    let title = if accepted {
        "受理回执"
    } else {
        "收件回执"
    };
    let url = track_url(&ctx, &headers, &c.number);
    let received: Vec<&CaseMaterial> = c.materials.iter().filter(|m| m.present()).collect();
    let missing: Vec<&CaseMaterial> = c.materials.iter().filter(|m| !m.present()).collect();
    let body = html! {
        div.qr #receipt-qr { (qr_svg(&url)) div { "扫码查询办理进度" } }
        p.body-text {
            (c.applicant.name) "：您申请的“" (c.item_name) "”"
            @if accepted { "已于 " (c.accepted_at.map(format_minute).unwrap_or_default()) " 受理。" }
            @else { "材料已于 " (format_minute(c.created_at)) " 收到，正在审核是否受理。" }
        }
        table #receipt-facts {
            tr { th { "办件编号" } td { (c.number) } }
            tr { th { "申请事项" } td { (c.item_name) } }
            tr { th { "受理部门" } td { (dept) } }
            tr { th { "申请人" } td { (c.applicant.name) " " (c.applicant.phone) } }
            tr { th { "申请渠道" } td { (c.channel.label()) } }
            tr { th { "承诺时限" } td {
                @if c.immediate { "即办件（当场办结）" }
                @else { (c.promised_days) " " (c.time_unit.label()) "（法定时限 " (c.legal_days) " " (c.time_unit.label()) "）" }
            } }
            tr { th { "承诺办结日期" } td #receipt-due {
                @match c.due_at { Some(d) => (format_minute(d)), None => "自受理之日起计算" }
            } }
        }
        h2 { "已收材料" }
        table.list #receipt-materials {
            tr { th { "序号" } th { "材料名称" } th { "来源" } }
            @for (i, m) in received.iter().enumerate() {
                tr { td { (i + 1) } td { (m.name) } td { (m.source.label()) } }
            }
        }
        @if !missing.is_empty() {
            p { "尚缺材料：" (missing.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join("、")) }
        }
        p { "凭办件编号和申请时登记的手机号，可在办事指南“办件查询与评价”中查询进度、评价服务：" br; code { (url) } }
        div.sign { (dept) br; (format_minute(ctx.db.now())) }
    };
    let title = format!("{title} {}", c.number);
    Ok(
        webcore::layout::print_page(&p.bureau, &title, &format!("/services/cases/{id}"), body)
            .into_response(),
    )
}

/// `GET /services/cases/{id}/notice`: the 不予受理告知书 or 补正材料告知书 of a case.
async fn notice_page(State(ctx): State<AppCtx>, p: PageCtx, Path(id): Path<i64>) -> PageResult {
    let s = svc(&ctx);
    let v = s.get(&p.actor, id).await?;
    let c = &v.case;
    let Some((title, kind)) = notice_kind(c) else {
        return Err(
            Error::not_found("notice", "该办件没有告知书：未作出不予受理或补正决定").into(),
        );
    };
    let dept = s
        .department(c.dept_id)
        .await
        .map(|d| d.name)
        .unwrap_or_default();
    let name_of = |k: &String| {
        c.materials
            .iter()
            .find(|m| &m.key == k)
            .map_or(k.clone(), |m| m.name.clone())
    };
    let body = html! {
        p { "编号：" (c.number) }
        p { (c.applicant.name) "：" }
        @if kind == "rejection" {
            @let r = c.rejection.as_ref().expect("checked");
            p.body-text #notice-text {
                "您于 " (format_minute(c.created_at)) " 提出的“" (c.item_name) "”申请，经审查，"
                (r.reason.trim_end_matches('。')) "。依据" (r.legal_basis.trim_end_matches('。')) "，决定不予受理。"
            }
            p.body-text {
                "如对本决定不服，可以自收到本告知书之日起六十日内依法申请行政复议，或者六个月内依法向人民法院提起行政诉讼。"
            }
        } @else {
            @let r = c.supplement.as_ref().expect("checked");
            p.body-text #notice-text {
                "您于 " (format_minute(c.created_at)) " 提出的“" (c.item_name) "”申请，材料不齐全或者不符合法定形式，请补正以下材料（一次性告知）："
            }
            table.list #notice-materials {
                tr { th { "序号" } th { "需补正的材料" } }
                @for (i, m) in r.materials.iter().enumerate() { tr { td { (i + 1) } td { (name_of(m)) } } }
            }
            @if !r.note.trim().is_empty() { p.body-text { "补正说明：" (r.note) } }
            p.body-text { "补正期间不计入承诺办结时限。补齐材料后，可在网上申请页面或综合窗口提交。" }
        }
        div.sign { (dept) br; (format_minute(ctx.db.now())) }
    };
    Ok(
        webcore::layout::print_page(&p.bureau, title, &format!("/services/cases/{id}"), body)
            .into_response(),
    )
}

fn action_from(f: &FormData) -> Result<Action, Error> {
    let list = |k: &str| f.all(k).into_iter().map(str::to_owned).collect::<Vec<_>>();
    Ok(match f.get("action") {
        "accept" => Action::Accept {
            tolerated: list("tolerated"),
            tolerated_days: match f.get("tolerated_days").trim() {
                "" => None,
                d => Some(d.parse().map_err(|_| {
                    Error::field(
                        "tolerated_days",
                        "invalid_number",
                        "容缺补齐期限应为正整数（工作日）",
                    )
                })?),
            },
        },
        "reject" => Action::Reject {
            reason: f.get("reason").into(),
            legal_basis: f.get("legal_basis").into(),
        },
        "request_supplement" => Action::RequestSupplement {
            materials: list("materials"),
            note: f.get("note").into(),
        },
        "supply" => Action::Supply {
            materials: list("materials"),
        },
        "supply_tolerated" => Action::SupplyTolerated,
        "start_special" => {
            let name = f.get("name").trim();
            if !SPECIAL_PROCEDURES.contains(&name) {
                return Err(Error::field(
                    "name",
                    "unknown_procedure",
                    "请从列表中选择特别程序",
                ));
            }
            Action::StartSpecial {
                name: name.into(),
                days: f.get("days").trim().parse().map_err(|_| {
                    Error::field("days", "invalid_number", "特别程序期限应为正整数（天）")
                })?,
            }
        }
        "end_special" => Action::EndSpecial {
            note: f.get("note").into(),
        },
        "decide" => Action::Decide {
            approve: f.get("approve") != "false",
            document_no: f.get("document_no").into(),
            text: f.get("text").into(),
        },
        "close" => Action::Close,
        "deliver" => Action::Deliver {
            method: DeliveryMethod::parse(f.get("method"))
                .ok_or_else(|| Error::field("method", "invalid_enum", "请选择出件方式"))?,
            detail: f.get("detail").into(),
        },
        "withdraw" => Action::Withdraw {
            reason: f.get("reason").into(),
        },
        other => {
            return Err(Error::field(
                "action",
                "unknown_action",
                format!("未知操作“{other}”"),
            ))
        }
    })
}

async fn case_act(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let here = format!("/services/cases/{id}");
    let next = webcore::redirect::local_path(f.get("next"), &here).to_owned();
    let r = match action_from(&f) {
        Ok(a) => svc(&ctx).act(&p.actor, id, a).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => Ok(see_other(&next)),
        // Bad input goes back beside its field, on the page the form came from; nothing written.
        Err(e @ Error::Validation(_)) => {
            let errors = errors_of(&e);
            match next.strip_prefix("/services/mine/") {
                Some(number) => {
                    super::mine::mine_page(&ctx, &p, number, "", Some((id, &errors))).await
                }
                None => {
                    let failed = Failed {
                        action: f.get("action"),
                        errors: &errors,
                        form: &f,
                    };
                    case_view(&ctx, &p, id, "", Some(failed)).await
                }
            }
        }
        Err(e @ (Error::IllegalTransition { .. } | Error::Conflict { .. })) => {
            Ok(see_other(&format!("{next}?msg={}", esc(&e.detail()))))
        }
        Err(e) => Err(e.into()),
    }
}
