//! The ticket page (`/hotline/tickets/{id}`): every field the reader may see (personal data
//! masked unless their role needs it), extra answers, attachments, the timeline, and a form for
//! each action the reader may take now — only those.

use super::widgets::{self, *};
use super::{action_from, back_to, done_message};
use crate::domain::*;
use crate::http::svc;
use crate::service::{HotlineService, SplitPart};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kernel::{Error, FieldError};
use maud::{html, Markup};
use webcore::layout::{self, csrf_input, page};
use webcore::{AppCtx, FormData, PageCtx, PageError, Path};

/// A form that was sent back with errors: which one, the messages, what was typed.
pub struct Sent {
    pub form: String,
    pub errors: Vec<FieldError>,
    pub data: FormData,
}

impl Default for Sent {
    fn default() -> Self {
        Sent {
            form: String::new(),
            errors: vec![],
            data: FormData(vec![]),
        }
    }
}

impl Sent {
    fn errors_for(&self, form: &str) -> &[FieldError] {
        if self.form == form {
            &self.errors
        } else {
            &[]
        }
    }
    fn value(&self, form: &str, name: &str) -> String {
        if self.form == form {
            self.data.get(name).to_owned()
        } else {
            String::new()
        }
    }
}

#[derive(serde::Deserialize, Default)]
pub struct ShowQuery {
    done: Option<String>,
}

pub async fn show(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<ShowQuery>,
) -> Result<Markup, PageError> {
    render(
        &ctx,
        &p,
        id,
        &Sent::default(),
        q.done.as_deref().and_then(done_message),
    )
    .await
}

pub async fn render(
    ctx: &AppCtx,
    p: &PageCtx,
    id: i64,
    sent: &Sent,
    flash: Option<String>,
) -> Result<Markup, PageError> {
    let s = svc(ctx);
    let v = s.get(&p.actor, id).await?;
    let t = &v.ticket;
    let timeline = s.timeline(&p.actor, id).await?;
    let cats = s.categories().await?;
    let names = dept_names(ctx, &p.actor).await;
    let files = crate::attachments::list(&s, &p.actor, id)
        .await
        .unwrap_or_default();
    let region = match t.location.region_code.as_deref() {
        Some(code) => org::OrgService::new(ctx.db.clone(), ctx.config.auth.clone())
            .place_name(code)
            .await?
            .unwrap_or_else(|| format!("区划代码 {code}")),
        None => "—".into(),
    };
    let cal = kernel::calendar::load(&ctx.db).await?;
    let policy = s.policy(t.kind, t.urgency).await?;
    let now = ctx.db.now();
    let may = |a: &Action| HotlineService::permitted(&p.actor, t, a, &cal, policy, now);
    let questions = t
        .category_id
        .and_then(|c| cats.iter().find(|x| x.id == c))
        .map(|c| c.questions.clone())
        .unwrap_or_default();
    let parent = match t.parent_id.or(t.split_from_id) {
        Some(pid) => s.get(&p.actor, pid).await.ok(),
        None => None,
    };

    let cited = match t.kb_article_id {
        Some(a) => s.article(&p.actor, a).await.ok().map(|(a, _)| a.question),
        None => None,
    };
    let actions = actions(ctx, p, &v, sent, &may).await?;
    let title = format!("工单 {}", t.number);
    Ok(page(
        p,
        &title,
        html! {
            (widgets::assets())
            @if let Some(f) = &flash { (layout::notice(f)) }
            @if !sent.errors.is_empty() { (layout::alert("操作未完成，请按提示修改后重试。")) }
            div.ticket-head {
                (status_badge(t.status)) " " (card_badge(t.card))
                span.badge { (t.kind.label()) }
                @if t.urgency == Urgency::Urgent { span.badge.urgent { "紧急" } }
                @if t.supervised { span.badge.supervised { "督办" } }
                span.muted { "来源：" (t.channel.label()) }
            }
            div.ticket-grid {
                section.card aria-labelledby="h-facts" {
                    h2 #h-facts { (t.title) }
                    p.content { (t.content) }
                    dl.facts {
                        dt { "分类" } dd { (category_path(&cats, t.category_id)) }
                        dt { "区划" } dd { (region) }
                        dt { "地址" } dd { (t.location.address.clone().unwrap_or_else(|| "—".into())) }
                        dt { "来电人" } dd {
                            (caller(&v))
                            @if !v.personal_data_visible || t.caller.anonymous { " " span.muted { "（个人信息已脱敏）" } }
                        }
                        dt { "需要答复" } dd { @if t.caller.wants_reply { "是" } @else { "否" } }
                        dt { "承办单位" } dd { (dept_name(&names, t.main_dept_id)) }
                        @if !t.co_dept_ids.is_empty() {
                            dt { "协办单位" } dd { (t.co_dept_ids.iter().map(|d| dept_name(&names, Some(*d))).collect::<Vec<_>>().join("、")) }
                        }
                        dt { "期限" } dd { (deadline(t)) }
                        dt { "登记" } dd { (time(Some(t.created_at))) }
                        @if t.dispatched_at.is_some() { dt { "派单" } dd { (time(t.dispatched_at)) } }
                        @if t.acknowledged_at.is_some() { dt { "签收" } dd { (time(t.acknowledged_at)) } }
                        @if t.closed_at.is_some() { dt { "办结" } dd { (time(t.closed_at)) } }
                        @if let Some(sat) = t.satisfaction { dt { "回访结果" } dd { (sat.label()) } }
                        @if t.callback_attempts > 0 { dt { "回访次数" } dd { (t.callback_attempts) } }
                        @if t.reopen_count > 0 { dt { "重办次数" } dd { (t.reopen_count) } }
                        @if t.return_count > 0 { dt { "退单次数" } dd { (t.return_count) } }
                        @if let Some(x) = &t.pending_extension {
                            dt { "延期申请" } dd { (x.days) " 个工作日：" (x.reason) " " span.muted { "（" (time(Some(x.requested_at))) "，待审批）" } }
                        }
                        @if let Some(pv) = &parent {
                            dt { @if t.parent_id.is_some() { "已合并到" } @else { "拆分自" } }
                            dd { a href=(format!("/hotline/tickets/{}", pv.ticket.id)) { (pv.ticket.number) } }
                        }
                    }
                    @if !questions.is_empty() || t.answers.as_object().is_some_and(|m| !m.is_empty()) {
                        h3 { "附加问题" }
                        dl.facts {
                            @for (code, ans) in t.answers.as_object().into_iter().flatten() {
                                dt { (questions.iter().find(|q| &q.code == code).map(|q| q.label.clone()).unwrap_or_else(|| code.clone())) }
                                dd { (answer_text(ans)) }
                            }
                        }
                    }
                    @if let Some(r) = &t.reply {
                        h3 { "答复" @if let Some(at) = t.replied_at { span.muted { "（" (time(Some(at))) "）" } } }
                        p.reply { (r) }
                        @if let Some(q) = &cited { p.muted { "引用知识条目：" (q) } }
                    }
                    @if !files.is_empty() {
                        h3 { "附件" }
                        ul.files {
                            @for f in &files {
                                li { a href=(format!("/api/v1/hotline/attachments/{}", f.id)) { (f.name) } " " span.muted { (f.mime) "，" (f.size / 1024 + 1) " KB" } }
                            }
                        }
                    }
                }
                section.card aria-labelledby="h-actions" {
                    h2 #h-actions { "可办理的操作" }
                    (actions)
                }
            }
            section.card aria-labelledby="h-timeline" {
                h2 #h-timeline { "办理过程" }
                ol.timeline {
                    @for e in &timeline {
                        li {
                            span.when { (time(Some(e.at))) }
                            strong { (super::action_label(&e.action)) }
                            " " span.muted { (e.actor_name) }
                            @if e.from_status != e.to_status {
                                " " span.muted { (Status::parse(&e.from_status).map(|s| s.label()).unwrap_or("")) " → " (Status::parse(&e.to_status).map(|s| s.label()).unwrap_or("")) }
                            }
                            @if let Some(d) = e.dept_id { " " span { (dept_name(&names, Some(d))) } }
                            @if let Some(n) = &e.note { p.note { (n) } }
                        }
                    }
                }
            }
        },
    ))
}

fn answer_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect::<Vec<_>>()
            .join("、"),
        other => other.to_string(),
    }
}

/// One small form per action the reader may take now.
async fn actions(
    ctx: &AppCtx,
    p: &PageCtx,
    v: &crate::service::TicketView,
    sent: &Sent,
    may: &(dyn Fn(&Action) -> bool + Sync),
) -> Result<Markup, PageError> {
    let t = &v.ticket;
    let id = t.id;
    let act_url = format!("/hotline/tickets/{id}/act");
    let back = format!("/hotline/tickets/{id}");
    let empty = String::new;
    let simple = |code: &str, label: &str, cls: &str| {
        html! {
            form.inline method="post" action=(act_url) {
                (csrf_input(p))
                input type="hidden" name="action" value=(code);
                input type="hidden" name="back" value=(back);
                button class=(cls) type="submit" { (label) }
            }
        }
    };
    let mut any = false;
    let mut out = Vec::new();
    for (a, label) in [
        (Action::Accept, "受理"),
        (Action::SubmitForDispatch, "转派单"),
        (Action::Acknowledge, "签收"),
        (Action::Start, "开始办理"),
        (Action::Resume, "恢复办理"),
        (Action::Archive, "归档"),
    ] {
        if may(&a) {
            any = true;
            out.push(simple(a.code(), label, ""));
        }
    }
    let needs_depts = may(&Action::Dispatch {
        main_dept_id: 0,
        co_dept_ids: vec![],
    }) || may(&Action::Reopen {
        dept_id: None,
        reason: String::new(),
    });
    let depts = if needs_depts {
        departments(ctx, &p.actor).await
    } else {
        vec![]
    };
    let s = svc(ctx);

    // Dispatch: confirm or correct the department, with co-handlers; split; merge.
    if may(&Action::Dispatch {
        main_dept_id: 0,
        co_dept_ids: vec![],
    }) {
        any = true;
        let e = sent.errors_for("dispatch");
        let main: Option<i64> = sent.value("dispatch", "main_dept_id").parse().ok();
        let co = if sent.form == "dispatch" {
            sent.data
                .all("co_dept_ids")
                .iter()
                .filter_map(|x| x.parse().ok())
                .collect()
        } else {
            Vec::<i64>::new()
        };
        out.push(html! {
            form.action-form #dispatch-form method="post" action=(act_url) data-suggest-ticket=(id) {
                h3 { "派单" }
                div.suggestion hidden data-suggestion-for=(id) {}
                (csrf_input(p))
                input type="hidden" name="action" value="dispatch";
                input type="hidden" name="back" value=(back);
                (field("主办单位", "dispatch-main", "main_dept_id", e, dept_select("dispatch-main", "main_dept_id", &depts, main, "请选择主办单位")))
                (field("协办单位（可多选，按住 Ctrl）", "dispatch-co", "co_dept_ids", e, html! {
                    select #dispatch-co name="co_dept_ids" multiple size="5" {
                        @for d in &depts { option value=(d.id) selected[co.contains(&d.id)] { (d.name) } }
                    }
                }))
                (error_for("dispatch-main", "dept_id", e))
                button type="submit" { "确认派单" }
            }
        });
        let se = sent.errors_for("split");
        out.push(html! {
            details.action-form open[sent.form == "split"] {
                summary { "拆分给多个单位" }
                form method="post" action=(format!("/hotline/tickets/{id}/split")) {
                    (csrf_input(p))
                    @for i in 0..3 {
                        div.row {
                            (field(&format!("第 {} 部分承办单位", i + 1), &format!("split-dept-{i}"), &format!("parts[{i}].dept_id"), se,
                                dept_select(&format!("split-dept-{i}"), "split_dept", &depts, sent.data.all("split_dept").get(i).and_then(|x| x.parse().ok()).filter(|_| sent.form == "split"), "（不拆给此项）")))
                            (input("说明", &format!("split-note-{i}"), "split_note", sent.data.all("split_note").get(i).copied().filter(|_| sent.form == "split").unwrap_or(""), &[], r#"maxlength="500""#))
                        }
                    }
                    (error_for("split", "parts", se))
                    (error_for("split", "dept_id", se))
                    button.secondary type="submit" { "拆分并派单" }
                }
            }
        });
        let me = sent.errors_for("merge");
        out.push(html! {
            details.action-form open[sent.form == "merge"] {
                summary { "合并重复工单到本工单" }
                form method="post" action=(format!("/hotline/tickets/{id}/merge")) {
                    (csrf_input(p))
                    (input("重复工单编号（多个用逗号分隔）", "merge-numbers", "child_numbers", &sent.value("merge", "child_numbers"), me, r#"maxlength="500""#))
                    (error_for("merge-numbers", "child_ids", me))
                    (error_for("merge-numbers", "parent_id", me))
                    button.secondary type="submit" { "合并" }
                }
            }
        });
    }

    // Answer at once from the knowledge base (a ticket still in intake).
    if may(&Action::AnswerNow {
        answer: String::new(),
        kb_article_id: None,
    }) {
        any = true;
        let e = sent.errors_for("answer_now");
        let arts = super::intake::published_articles(&s, &p.actor, t.category_id).await;
        out.push(html! {
            form.action-form method="post" action=(act_url) {
                h3 { "即时解答并办结" }
                (csrf_input(p))
                input type="hidden" name="action" value="answer_now";
                input type="hidden" name="back" value=(back);
                (field("引用知识条目", "answer-kb", "kb_article_id", e, html! {
                    select #answer-kb name="kb_article_id" {
                        option value="" { "（不引用）" }
                        @for a in &arts { option value=(a.id) { (a.question) } }
                    }
                }))
                (textarea("解答内容", "answer-text", "answer", &sent.value("answer_now", "answer"), e, 3))
                button type="submit" { "解答并办结" }
            }
        });
    }

    // The holding department: reply (with templates), extension, pause, return.
    if may(&Action::Reply {
        text: String::new(),
    }) {
        any = true;
        let e = sent.errors_for("reply");
        let templates = crate::http::rendered_templates(ctx, &p.actor, t)
            .await
            .unwrap_or_default();
        let chosen: Option<i64> = sent.data.get("template_id").parse().ok();
        let text = if sent.form == "template" {
            chosen
                .and_then(|c| templates.iter().find(|x| x.id == c))
                .map(|x| x.text.clone())
                .unwrap_or_default()
        } else {
            sent.value("reply", "text")
        };
        out.push(html! {
            form.action-form #reply-form method="post" action=(act_url) {
                h3 { "答复" }
                (csrf_input(p))
                input type="hidden" name="action" value="reply";
                input type="hidden" name="back" value=(back);
                @if !templates.is_empty() {
                    div.field {
                        label for="reply-template" { "答复模板（占位符已按本工单填好）" }
                        div.row.tight {
                            select #reply-template name="template_id" data-fill="reply-text" {
                                option value="" { "（不用模板）" }
                                @for x in &templates { option value=(x.id) data-text=(x.text) selected[chosen == Some(x.id)] { (x.title) } }
                            }
                            button.secondary.nojs type="submit" name="op" value="template" formnovalidate { "套用模板" }
                        }
                    }
                }
                (textarea("答复内容", "reply-text", "text", &text, e, 6))
                button type="submit" name="op" value="reply" { "提交答复" }
            }
        });
    }
    if may(&Action::RequestExtension {
        days: 1,
        reason: String::new(),
    }) {
        any = true;
        let e = sent.errors_for("request_extension");
        out.push(html! {
            details.action-form open[sent.form == "request_extension"] {
                summary { "申请延期" }
                form method="post" action=(act_url) {
                    (csrf_input(p))
                    input type="hidden" name="action" value="request_extension";
                    input type="hidden" name="back" value=(back);
                    (input("延期工作日数（1–30）", "ext-days", "days", &sent.value("request_extension", "days"), e, r#"inputmode="numeric" size="4""#))
                    (textarea("延期理由", "ext-reason", "reason", &sent.value("request_extension", "reason"), e, 2))
                    button.secondary type="submit" { "提交延期申请" }
                }
            }
        });
    }
    if may(&Action::Pause {
        reason: String::new(),
    }) {
        any = true;
        out.push(text_action_form(
            p,
            &act_url,
            sent,
            TextAction {
                action: "pause",
                summary: "挂起（等待市民补充材料）",
                label: "挂起理由",
                field: "reason",
                button: "挂起",
                back: &back,
                confirm: None,
            },
        ));
    }
    if may(&Action::Recall {
        reason: String::new(),
    }) {
        any = true;
        out.push(text_action_form(
            p,
            &act_url,
            sent,
            TextAction {
                action: "recall",
                summary: "撤回派单（承办单位尚未签收）",
                label: "撤回理由",
                field: "reason",
                button: "撤回派单",
                back: &back,
                confirm: Some("确定撤回这次派单？工单将回到待派单。"),
            },
        ));
    }
    if may(&Action::Return {
        reason: String::new(),
    }) {
        any = true;
        out.push(text_action_form(
            p,
            &act_url,
            sent,
            TextAction {
                action: "return",
                summary: "退单（不属于本单位职责）",
                label: "退单理由",
                field: "reason",
                button: "退单",
                // Once returned, the department no longer sees the ticket: back to its inbox.
                back: "/hotline/inbox",
                confirm: Some("确定退回派单员？"),
            },
        ));
    }

    // Callback, supervision, extension decisions, reopen, close.
    if may(&Action::Callback {
        result: CallbackResult::Satisfied,
        note: String::new(),
        reopen: false,
    }) {
        any = true;
        out.push(callback_form(p, id, &back, sent));
    }
    if t.pending_extension.is_some()
        && may(&Action::DecideExtension {
            approve: true,
            note: String::new(),
        })
    {
        any = true;
        out.push(extension_form(p, id, &back, sent, "ticket"));
    }
    if may(&Action::Reopen {
        dept_id: None,
        reason: String::new(),
    }) || may(&Action::Reopen {
        dept_id: Some(0),
        reason: String::new(),
    }) {
        any = true;
        out.push(reopen_form(p, id, &back, sent, &depts, "ticket"));
    }
    if may(&Action::Supervise {
        note: String::new(),
    }) {
        any = true;
        out.push(text_action_form(
            p,
            &act_url,
            sent,
            TextAction {
                action: "supervise",
                summary: "督办",
                label: "督办意见",
                field: "note",
                button: "发出督办",
                back: &back,
                confirm: None,
            },
        ));
    }
    if may(&Action::Close {
        note: String::new(),
    }) {
        any = true;
        out.push(html! {
            form.inline method="post" action=(act_url) {
                (csrf_input(p))
                input type="hidden" name="action" value="close";
                input type="hidden" name="back" value=(back);
                input type="hidden" name="note" value=(empty());
                button.secondary type="submit" { "直接办结（不回访）" }
            }
        });
    }
    Ok(html! {
        @if any { @for m in &out { (m) } }
        @else { p.muted { "当前没有您可以办理的操作。" } }
    })
}

/// Callback entry: 满意 / 基本满意 / 不满意 / 未接通, with an optional reopen.
/// An action that takes one text (挂起理由, 退单理由, 督办意见), folded until opened. An action
/// with `confirm` asks first and is drawn as dangerous.
struct TextAction<'a> {
    action: &'a str,
    summary: &'a str,
    label: &'a str,
    field: &'a str,
    button: &'a str,
    back: &'a str,
    confirm: Option<&'a str>,
}

fn text_action_form(p: &PageCtx, act_url: &str, sent: &Sent, a: TextAction) -> Markup {
    let e = sent.errors_for(a.action);
    html! {
        details.action-form open[sent.form == a.action] {
            summary { (a.summary) }
            form method="post" action=(act_url) data-confirm=[a.confirm] {
                (csrf_input(p))
                input type="hidden" name="action" value=(a.action);
                input type="hidden" name="back" value=(a.back);
                (textarea(a.label, &format!("{}-{}", a.action, a.field), a.field, &sent.value(a.action, a.field), e, 2))
                @if a.confirm.is_some() {
                    button.danger type="submit" { (a.button) }
                } @else {
                    button.secondary type="submit" { (a.button) }
                }
            }
        }
    }
}

pub fn callback_form(p: &PageCtx, id: i64, back: &str, sent: &Sent) -> Markup {
    let key = format!("callback-{id}");
    let e = if sent.form == "callback" || sent.form == key {
        &sent.errors[..]
    } else {
        &[]
    };
    html! {
        form.action-form.callback method="post" action=(format!("/hotline/tickets/{id}/act")) {
            (csrf_input(p))
            input type="hidden" name="action" value="callback";
            input type="hidden" name="back" value=(back);
            fieldset {
                legend { "回访结果" }
                div.choices {
                    @for r in CallbackResult::ALL {
                        label { input type="radio" name="result" value=(r.code()) id=(format!("cb-{id}-{}", r.code())); " " (r.label()) }
                    }
                }
                (error_for(&format!("cb-{id}-result"), "result", e))
            }
            (input("回访记录", &format!("cb-{id}-note"), "note", "", e, r#"maxlength="500""#))
            label.check { input type="checkbox" name="reopen" value="1" id=(format!("cb-{id}-reopen")); " 不满意时直接退回原单位重办" }
            button type="submit" { "记录回访" }
        }
    }
}

/// An extension decision (supervisors).
pub fn extension_form(p: &PageCtx, id: i64, back: &str, sent: &Sent, key: &str) -> Markup {
    let e = sent.errors_for("decide_extension");
    html! {
        form.action-form method="post" action=(format!("/hotline/tickets/{id}/act")) {
            (csrf_input(p))
            input type="hidden" name="action" value="decide_extension";
            input type="hidden" name="back" value=(back);
            (input("审批意见", &format!("ext-{key}-{id}-note"), "note", "", e, r#"maxlength="500""#))
            div.row.tight {
                button type="submit" name="approve" value="1" { "批准延期" }
                button.danger type="submit" name="approve" value="0" { "驳回延期" }
            }
        }
    }
}

/// Reopen (重办), with the reason and optionally another department.
pub fn reopen_form(
    p: &PageCtx,
    id: i64,
    back: &str,
    sent: &Sent,
    depts: &[org::Department],
    key: &str,
) -> Markup {
    let e = sent.errors_for("reopen");
    html! {
        form.action-form method="post" action=(format!("/hotline/tickets/{id}/act")) {
            h3 { "重办" }
            (csrf_input(p))
            input type="hidden" name="action" value="reopen";
            input type="hidden" name="back" value=(back);
            (textarea("重办理由", &format!("reopen-{key}-{id}-reason"), "reason", &sent.value("reopen", "reason"), e, 2))
            @if !depts.is_empty() {
                (field("改派单位（默认原承办单位）", &format!("reopen-{key}-{id}-dept"), "dept_id", e,
                    dept_select(&format!("reopen-{key}-{id}-dept"), "dept_id", depts, None, "原承办单位")))
            }
            button type="submit" { "退回重办" }
        }
    }
}

/// POST `/hotline/tickets/{id}/act`: applies the form's action and goes back; a refused form
/// comes back on the ticket page with the messages beside its fields.
pub async fn act_submit(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    p.check_csrf(form.get(webcore::CSRF_FIELD))?;
    if form.get("op") == "template" {
        let sent = Sent {
            form: "template".into(),
            errors: vec![],
            data: form,
        };
        return Ok(render(&ctx, &p, id, &sent, None).await?.into_response());
    }
    let code = form.get("action").to_owned();
    let result = match action_from(&form) {
        Ok(a) => svc(&ctx).act(&p.actor, id, a).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(back_to(&form, &format!("/hotline/tickets/{id}"), &code)),
        Err(e) => refused(&ctx, &p, id, &code, form, e).await,
    }
}

/// A refused form: field errors beside the fields (422), anything else as an error page.
async fn refused(
    ctx: &AppCtx,
    p: &PageCtx,
    id: i64,
    form_key: &str,
    form: FormData,
    e: Error,
) -> Result<Response, PageError> {
    let errors = match e {
        Error::Validation(f) => f,
        Error::BadRequest {
            field: Some(f),
            detail,
            code,
        } => vec![FieldError {
            field: f,
            code: code.into(),
            detail,
        }],
        other => return Err(other.into()),
    };
    let sent = Sent {
        form: form_key.into(),
        errors,
        data: form,
    };
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        render(ctx, p, id, &sent, None).await?,
    )
        .into_response())
}

/// POST `/hotline/tickets/{id}/merge`: merges the tickets with the given numbers into this one.
pub async fn merge_submit(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    p.check_csrf(form.get(webcore::CSRF_FIELD))?;
    let s = svc(&ctx);
    let result = async {
        let mut ids = Vec::new();
        for n in form
            .get("child_numbers")
            .split([',', '，', ' ', '\n', '、'])
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            let v = s.get_by_number(&p.actor, n).await.map_err(|_| {
                Error::field("child_numbers", "not_found", format!("找不到工单 {n}"))
            })?;
            ids.push(v.ticket.id);
        }
        if ids.is_empty() {
            return Err(Error::field(
                "child_numbers",
                "required",
                "请填写要合并进来的重复工单编号",
            ));
        }
        s.merge(&p.actor, id, &ids).await.map(|_| ())
    }
    .await;
    match result {
        Ok(()) => Ok(back_to(&form, &format!("/hotline/tickets/{id}"), "merge")),
        Err(e) => refused(&ctx, &p, id, "merge", form, e).await,
    }
}

/// POST `/hotline/tickets/{id}/split`: one part per chosen department.
pub async fn split_submit(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    p.check_csrf(form.get(webcore::CSRF_FIELD))?;
    let result = async {
        let depts = form.all("split_dept");
        let notes = form.all("split_note");
        let mut parts = Vec::new();
        for (i, d) in depts.iter().enumerate() {
            if d.trim().is_empty() {
                continue;
            }
            let dept_id = d.trim().parse().map_err(|_| {
                Error::field(
                    format!("parts[{i}].dept_id"),
                    "invalid_type",
                    "请选择有效的单位",
                )
            })?;
            parts.push(SplitPart {
                dept_id,
                note: notes
                    .get(i)
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty()),
            });
        }
        svc(&ctx).split(&p.actor, id, &parts).await.map(|_| ())
    }
    .await;
    match result {
        Ok(()) => Ok(back_to(&form, &format!("/hotline/tickets/{id}"), "split")),
        Err(e) => refused(&ctx, &p, id, "split", form, e).await,
    }
}
