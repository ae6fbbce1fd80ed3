//! Server-rendered pages: the public 办事指南 (searchable in Chinese), tracking and rating,
//! 办不成事反映; the citizen's online application and own cases; the clerk's 综合窗口 intake
//! and 出件; the department's case inbox with its actions; rectification reply and review.
//! Forms post back and redirect; no JavaScript needed.
pub mod case;
pub mod desk;
pub mod feedback;
pub mod guide;
pub mod inbox;
pub mod items;
pub mod mine;
pub mod rectifications;
pub mod report;
pub mod window;

use crate::domain::*;
use crate::service::{ServicesService, Tracking};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use kernel::clock::format_minute;
use kernel::error::{Error, FieldError};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use webcore::layout::{field_error, text_field};
use webcore::{AppCtx, FormData, PageError};

type PageResult = Result<Response, PageError>;

pub(crate) fn svc(ctx: &AppCtx) -> ServicesService {
    // With the 电子证照 library, so that applications get 免证办.
    ServicesService::new(ctx.db.clone()).with_licenses(licenses::LicensesService::from_config(
        ctx.db.clone(),
        &ctx.config,
    ))
}

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .merge(guide::routes())
        .merge(mine::routes())
        .merge(desk::routes())
        .merge(inbox::routes())
        .merge(case::routes())
        .merge(rectifications::routes())
        .merge(window::routes())
        .merge(items::routes())
        .merge(report::routes())
        .merge(feedback::routes())
}

fn bureau(ctx: &AppCtx) -> String {
    ctx.config.city.bureau.clone()
}

/// A refused form's errors, one per field (or one for the whole form).
pub(crate) fn errors_of(e: &Error) -> Vec<FieldError> {
    if e.field_errors().is_empty() {
        vec![FieldError::new(
            e.field_name().unwrap_or("form"),
            e.code(),
            e.detail(),
        )]
    } else {
        e.field_errors().to_vec()
    }
}

pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Percent-encodes a query value.
pub(crate) fn esc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[derive(Default)]
struct Withdrawals<'a> {
    cases: Vec<i64>,
    failed: Option<(i64, &'a [FieldError])>,
}

fn tracking_view(
    t: &Tracking,
    evaluate_action: &str,
    csrf: Option<&str>,
    phone: Option<&str>,
    withdraw: &Withdrawals,
) -> Markup {
    html! {
        h2 { (t.title) }
        p #status { "编号 " strong { (t.number) } "，当前状态：" strong { (t.status_label) } }
        @if t.cases.len() > 1 {
            table {
                thead { tr { th { "事项" } th { "办件编号" } th { "状态" } th { "承诺办结" } } }
                tbody { @for c in &t.cases { tr { td { (c.case.item_name) } td { (c.case.number) } td { (c.status_label) } td { (c.case.due_at.map(format_minute).unwrap_or_else(|| "—".into())) } } } }
            }
        }
        @for c in &t.cases {
            @if let Some(s) = &c.case.supplement { @if c.case.status == CaseStatus::Supplement {
                div.alert role="alert" {
                    p { (c.case.item_name) " 需要补正：" (s.materials.iter().map(|k| c.case.materials.iter().find(|m| &m.key == k).map_or(k.clone(), |m| m.name.clone())).collect::<Vec<_>>().join("、")) "。" (s.note) }
                    @if let Some(tok) = csrf {
                        form method="post" action=(format!("/services/cases/{}/act", c.case.id)) {
                            input type="hidden" name="_csrf" value=(tok);
                            input type="hidden" name="action" value="supply";
                            input type="hidden" name="next" value=(format!("/services/mine/{}", t.number));
                            @for k in &s.materials {
                                label { input type="checkbox" name="materials" value=(k) checked; " 已上传：" (c.case.materials.iter().find(|m| &m.key == k).map_or(k.as_str(), |m| m.name.as_str())) }
                            }
                            button.supply type="submit" { "提交补正材料" }
                        }
                    }
                }
            } }
            @if let (Some(tok), true) = (csrf, withdraw.cases.contains(&c.case.id)) {
                @let rid = format!("withdraw-reason-{}", c.case.id);
                @let errs: &[FieldError] = match withdraw.failed { Some((id, e)) if id == c.case.id => e, _ => &[] };
                form.withdraw id=(format!("withdraw-{}", c.case.id)) method="post" action=(format!("/services/cases/{}/act", c.case.id)) {
                    input type="hidden" name="_csrf" value=(tok);
                    input type="hidden" name="action" value="withdraw";
                    input type="hidden" name="next" value=(format!("/services/mine/{}", t.number));
                    div.field {
                        label for=(rid) { "撤回“" (c.case.item_name) "”的理由" }
                        input id=(rid) name="reason" maxlength="1000"
                            aria-invalid=[(!errs.is_empty()).then_some("true")]
                            aria-describedby=[(!errs.is_empty()).then_some("reason-error")];
                        (field_error(errs, "reason"))
                    }
                    button.danger type="submit" { "撤回申请" }
                }
            }
            @if let Some(d) = &c.case.decision {
                p.result { (c.case.item_name) "：" (if d.approve { "准予办理" } else { "不予办理" }) "（" (d.document_no) "）" @if d.automatic { " · 秒批" } }
            }
        }
        h3 { "办理过程" }
        ol.timeline #timeline {
            @for e in &t.timeline {
                li { time { (format_minute(e.at)) } " " strong { (e.label) } @if let Some(n) = &e.note { " — " (n) } }
            }
        }
        @for e in &t.evaluations {
            p.evaluation { "第 " (e.round) " 次评价：" strong { (e.level.label()) } " " (e.text) }
        }
        @if t.can_evaluate {
            form #evaluate method="post" action=(evaluate_action) {
                @if let Some(tok) = csrf { input type="hidden" name="_csrf" value=(tok); }
                @if let Some(p) = phone { input type="hidden" name="number" value=(t.number); input type="hidden" name="phone" value=(p); }
                fieldset {
                    legend { "对本次服务评价（好差评）" }
                    @for l in Level::ALL {
                        label { input type="radio" name="level" value=(l.code()) required; " " (l.label()) }
                    }
                }
                div.field { label for="text" { "意见" } textarea #text name="text" rows="3" {} }
                button type="submit" { "提交评价" }
            }
        }
    }
}

// ---- applying online, and the citizen's own cases ----

fn applicant_fields(f: &FormData, errors: &[FieldError]) -> Markup {
    html! {
        fieldset {
            legend { "申请人" }
            div.field {
                label for="applicant.kind" { "申请人类型" }
                select #"applicant.kind" name="applicant.kind" {
                    @for k in ApplicantKind::ALL { option value=(k.code()) selected[f.get("applicant.kind") == k.code()] { (k.label()) } }
                }
            }
            (text_field("姓名/名称", "applicant.name", f.get("applicant.name"), errors, "required"))
            (text_field("身份证号/统一社会信用代码", "applicant.id_no", f.get("applicant.id_no"), errors, "required"))
            (text_field("手机号", "applicant.phone", f.get("applicant.phone"), errors, "required inputmode=\"numeric\""))
        }
    }
}

/// The form's own fields. Those repeating the applicant block (name, ID number, phone) are not
/// asked again (一数一源): the service fills them from the applicant, and the page says so.
fn form_fields(fields: &[FormField], f: &FormData, errors: &[FieldError]) -> Markup {
    let kind = ApplicantKind::parse(f.get("applicant.kind")).unwrap_or(ApplicantKind::Person);
    let (from_applicant, asked): (Vec<&FormField>, Vec<&FormField>) = fields
        .iter()
        .partition(|x| applicant_part(x, kind).is_some());
    html! {
        fieldset {
            legend { "申请信息（共用信息只填一次）" }
            @if !from_applicant.is_empty() {
                p.muted #prefilled {
                    @for (i, x) in from_applicant.iter().enumerate() { @if i > 0 { "、" } (x.label) }
                    "取自申请人信息，无需重复填写。"
                }
            }
            @for x in asked {
                (text_field(&x.label, &format!("form.{}", x.key), f.get(&format!("form.{}", x.key)), errors, if x.required { "required" } else { "" }))
            }
            @for x in &from_applicant {
                (webcore::layout::field_error(errors, &format!("form.{}", x.key)))
            }
        }
    }
}

/// The material checkboxes; `found` is what the library holds for each license reference
/// (from [`ServicesService::exemption_preview`]): the applicant sees before submitting whether
/// their license will be taken or the paper is needed after all.
fn material_boxes(
    ms: &[Material],
    f: &FormData,
    found: &std::collections::HashMap<String, std::result::Result<String, String>>,
) -> Markup {
    let chosen = f.all("materials");
    html! {
        fieldset #materials {
            legend { "上传材料（勾选已上传的材料）" }
            @for m in ms {
                @if let Some(l) = &m.from_license {
                    // Taken from the license when it can be; if not (none, expired, revoked),
                    // the paper is handed in after all, so it can still be ticked.
                    div.check.from-license {
                        @match found.get(l) {
                            Some(Ok(msg)) => {
                                p { strong { (m.name) } "：调取" (l) "电子证照，免提交" }
                                p.notice.license-found { (msg) }
                            }
                            Some(Err(why)) => {
                                p { strong { (m.name) } "：电子证照无法调取，须提交纸质材料" @if m.required { "（必需）" } }
                                p.warning.license-missing { (why) }
                            }
                            None => p { strong { (m.name) } "：调取" (l) "电子证照，免提交" },
                        }
                        label.small { input type="checkbox" name="materials" value=(m.key) checked[chosen.contains(&m.key.as_str())]; " 无法调取时，已提交纸质" (m.name) }
                    }
                } @else {
                    div.check { label { input type="checkbox" name="materials" value=(m.key) checked[chosen.contains(&m.key.as_str())]; " " (m.name) @if m.required { "（必需）" } } }
                }
            }
        }
    }
}

fn read_applicant(f: &FormData) -> Applicant {
    Applicant {
        kind: ApplicantKind::parse(f.get("applicant.kind")).unwrap_or(ApplicantKind::Person),
        name: f.get("applicant.name").into(),
        id_no: f.get("applicant.id_no").into(),
        phone: f.get("applicant.phone").into(),
        user_id: None,
    }
}

fn read_form(fields: &[FormField], f: &FormData) -> Map<String, Value> {
    fields
        .iter()
        .filter_map(|x| {
            let v = f.get(&format!("form.{}", x.key)).trim().to_owned();
            (!v.is_empty()).then(|| (x.key.clone(), json!(v)))
        })
        .collect()
}

#[derive(Deserialize)]
struct MsgQuery {
    #[serde(default)]
    msg: String,
}
