//! Operator intake (话务员受理, `/hotline/intake`): one screen while on the phone. The form
//! works without script (looking up the caller and showing a category's extra questions are
//! form submits that save nothing); the script adds the live panel (suggested category and
//! department, knowledge-base answers, possible duplicates) and the shortcuts.

use super::widgets::*;
use super::{opt_i64, INTAKE_ROLES};
use crate::domain::*;
use crate::http::svc;
use crate::service::{HotlineService, TicketQuery};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kernel::codes::RegionLevel;
use kernel::page::PageQuery;
use kernel::{Actor, Error, FieldError, Role};
use maud::{html, Markup};
use webcore::layout::{self, csrf_input, page};
use webcore::{AppCtx, FormData, PageCtx, PageError};

#[derive(serde::Deserialize, Default)]
pub struct IntakeQuery {
    saved: Option<i64>,
    answered: Option<String>,
}

pub async fn show(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    axum::extract::Query(q): axum::extract::Query<IntakeQuery>,
) -> Result<Markup, PageError> {
    p.actor.require_any_role(INTAKE_ROLES)?;
    let flash = match q.saved {
        Some(id) => svc(&ctx).get(&p.actor, id).await.ok().map(|v| {
            let t = v.ticket;
            let what = if q.answered.is_some() {
                "已即时解答并办结"
            } else {
                "已登记并转派单"
            };
            html! {
                div.notice.saved role="status" {
                    (what) "：工单 " a #saved-number href=(format!("/hotline/tickets/{}", t.id)) { (t.number) }
                }
            }
        }),
        None => None,
    };
    render(&ctx, &p, &FormData(vec![]), &[], flash).await
}

/// Published articles live today, those of the ticket's category first.
pub async fn published_articles(
    s: &HotlineService,
    actor: &Actor,
    category_id: Option<i64>,
) -> Vec<Article> {
    let today = kernel::clock::to_china(s.db().now())
        .date_naive()
        .to_string();
    let mut arts: Vec<Article> = s
        .articles(
            actor,
            Some(ArticleStatus::Published),
            None,
            None,
            &PageQuery {
                page: Some(1),
                per_page: Some(200),
            },
        )
        .await
        .map(|p| p.items)
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a.is_live(&today))
        .collect();
    arts.sort_by_key(|a| (a.category_id != category_id || category_id.is_none(), a.id));
    arts
}

fn region_select(regions: &[org::Region], selected: &str, bad: bool) -> Markup {
    html! {
        select #region_code name="region_code" aria-invalid=[bad.then_some("true")] aria-describedby=[bad.then_some("region_code-error")] {
            option value="" { "（未选择）" }
            @for d in regions.iter().filter(|r| r.level == RegionLevel::County) {
                optgroup label=(d.name) {
                    option value=(d.code) selected[selected == d.code] { (d.name) "（全区）" }
                    @for t in regions.iter().filter(|r| r.level == RegionLevel::Town && r.parent_id == Some(d.id)) {
                        option value=(t.code) selected[selected == t.code] { "　" (t.name) }
                        @for v in regions.iter().filter(|r| r.level == RegionLevel::Village && r.parent_id == Some(t.id)) {
                            option value=(v.code) selected[selected == v.code] { "　　" (v.name) }
                        }
                    }
                }
            }
        }
    }
}

fn question_fields(c: &Category, form: &FormData, errors: &[FieldError], shown: bool) -> Markup {
    html! {
        fieldset.questions data-category=(c.id) hidden[!shown] disabled[!shown] {
            legend { "附加问题：" (c.name) }
            @for q in &c.questions {
                // Only the chosen category's fieldset is enabled, so one name per code is enough.
                @let id = format!("q_{}_{}", c.id, q.code);
                @let name = format!("answers.{}", q.code);
                @let errs: &[FieldError] = if shown { errors } else { &[] };
                @let label = format!("{}{}", q.label, if q.required { "（必答）" } else { "" });
                @match q.kind {
                    QuestionKind::Single => {
                        (field(&label, &id, &name, errs, html! {
                            select id=(id) name=(name) {
                                option value="" { "（请选择）" }
                                @for o in &q.options { option value=(o) selected[form.get(&name) == o] { (o) } }
                            }
                        }))
                    }
                    QuestionKind::Multiple => {
                        fieldset.choices {
                            legend { (label) }
                            @for (i, o) in q.options.iter().enumerate() {
                                label { input type="checkbox" name=(name) value=(o) id=(format!("{id}-{i}")) checked[form.all(&name).contains(&o.as_str())]; " " (o) }
                            }
                            (error_for(&id, &name, errs))
                        }
                    }
                    QuestionKind::Number => { (input(&label, &id, &name, form.get(&name), errs, r#"inputmode="decimal""#)) }
                    QuestionKind::Date => { (input(&label, &id, &name, form.get(&name), errs, r#"type="date""#)) }
                    QuestionKind::Text => { (input(&label, &id, &name, form.get(&name), errs, r#"maxlength="200""#)) }
                }
            }
        }
    }
}

/// The answers to the chosen category's extra questions, as the service takes them.
fn answers_from(
    form: &FormData,
    cat: Option<&Category>,
) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
    let mut out = serde_json::Map::new();
    let Some(c) = cat else { return Ok(out) };
    for q in &c.questions {
        let name = format!("answers.{}", q.code);
        let v = match q.kind {
            QuestionKind::Multiple => {
                let all: Vec<serde_json::Value> = form
                    .all(&name)
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .map(|s| s.into())
                    .collect();
                if all.is_empty() {
                    continue;
                }
                serde_json::Value::Array(all)
            }
            QuestionKind::Number => match form.opt(&name) {
                None => continue,
                Some(s) => match s.parse::<f64>() {
                    Ok(x) => serde_json::json!(x),
                    Err(_) => {
                        return Err(Error::field(
                            format!("answers.{}", q.code),
                            "invalid_type",
                            format!("“{}”应为数字", q.label),
                        ))
                    }
                },
            },
            _ => match form.opt(&name) {
                None => continue,
                Some(s) => s.into(),
            },
        };
        out.insert(q.code.clone(), v);
    }
    Ok(out)
}

/// The ticket the form describes, with every problem of the form reported at once.
fn new_ticket(form: &FormData, cats: &[Category]) -> Result<NewTicket, Error> {
    let mut errors = Vec::new();
    let kind = TicketKind::parse(form.get("kind"));
    if kind.is_none() {
        errors.push(FieldError {
            field: "kind".into(),
            code: "required".into(),
            detail: "请选择工单类型".into(),
        });
    }
    let category_id = opt_i64(form, "category_id", "分类")?;
    let cat = category_id.and_then(|id| cats.iter().find(|x| x.id == id));
    if category_id.is_some() && cat.is_none() {
        return Err(Error::field("category_id", "not_found", "所选分类不存在"));
    }
    let t = NewTicket {
        channel: Channel::parse(form.get("channel")).unwrap_or(Channel::Phone),
        kind: kind.unwrap_or(TicketKind::Consult),
        urgency: Urgency::parse(form.get("urgency")).unwrap_or(Urgency::Normal),
        caller_name: form.opt("caller_name"),
        caller_phone: form.opt("caller_phone"),
        wants_reply: form.get("wants_reply") == "1",
        anonymous: form.get("anonymous") == "1",
        address: form.opt("address"),
        region_code: form.opt("region_code"),
        lng: None,
        lat: None,
        title: form.get("title").into(),
        content: form.get("content").into(),
        category_id,
        answers: answers_from(form, cat)?,
        accept: true,
    };
    match t.validate() {
        Err(Error::Validation(more)) => errors.extend(more),
        Err(e) => return Err(e),
        Ok(()) => {}
    }
    if errors.is_empty() {
        Ok(t)
    } else {
        Err(Error::Validation(errors))
    }
}

/// POST `/hotline/intake`: save (and send to dispatch), answer at once from the knowledge base,
/// or only look up the caller / show the category's questions (`op=lookup`), which saves nothing.
pub async fn submit(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    form: FormData,
) -> Result<Response, PageError> {
    p.actor.require_any_role(INTAKE_ROLES)?;
    p.check_csrf(form.get(webcore::CSRF_FIELD))?;
    let s = svc(&ctx);
    let op = form.get("op").to_owned();
    if op == "lookup" {
        return Ok(render(&ctx, &p, &form, &[], None).await?.into_response());
    }
    let cats = s.categories().await?;
    let result: Result<(i64, bool), Error> = async {
        let input = new_ticket(&form, &cats)?;
        if op == "answer" {
            // Everything is checked before the ticket is written, so a refused answer leaves
            // no half-done ticket behind.
            let kb = opt_i64(&form, "kb_article_id", "知识条目")?;
            let mut answer = form.get("answer").trim().to_owned();
            if let Some(a) = kb {
                let (art, _) = s.article(&p.actor, a).await.map_err(|_| {
                    Error::field("kb_article_id", "not_found", "引用的知识条目不存在")
                })?;
                let today = kernel::clock::to_china(ctx.db.now())
                    .date_naive()
                    .to_string();
                if !art.is_live(&today) {
                    return Err(Error::field(
                        "kb_article_id",
                        "not_published",
                        "引用的知识条目未发布或已失效",
                    ));
                }
                if answer.is_empty() {
                    answer = art.answer;
                }
            }
            if answer.is_empty() {
                return Err(Error::field(
                    "answer",
                    "required",
                    "请填写解答内容，或选择一条知识条目",
                ));
            }
            let v = s.create(&p.actor, input).await?;
            s.act(
                &p.actor,
                v.ticket.id,
                Action::AnswerNow {
                    answer,
                    kb_article_id: kb,
                },
            )
            .await?;
            Ok((v.ticket.id, true))
        } else {
            let merge_into = opt_i64(&form, "merge_into", "重复工单")?;
            let v = s.create(&p.actor, input).await?;
            s.act(&p.actor, v.ticket.id, Action::SubmitForDispatch)
                .await?;
            // A dispatcher taking the call may merge it into the open ticket it duplicates.
            if let Some(parent) = merge_into {
                s.merge(&p.actor, parent, &[v.ticket.id]).await?;
            }
            Ok((v.ticket.id, false))
        }
    }
    .await;
    match result {
        Ok((id, answered)) => Ok(Redirect::to(&format!(
            "/hotline/intake?saved={id}{}",
            if answered { "&answered=1" } else { "" }
        ))
        .into_response()),
        Err(Error::Validation(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&ctx, &p, &form, &errors, None).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

async fn render(
    ctx: &AppCtx,
    p: &PageCtx,
    form: &FormData,
    errors: &[FieldError],
    flash: Option<Markup>,
) -> Result<Markup, PageError> {
    let s = svc(ctx);
    let cats = s.categories().await?;
    let regions = org::OrgService::new(ctx.db.clone(), ctx.config.auth.clone())
        .regions(&p.actor, None, None)
        .await?;
    let fresh = form.get("sent") != "1";
    let category_id: Option<i64> = form.get("category_id").parse().ok();
    let arts = published_articles(&s, &p.actor, category_id).await;
    let phone = form.get("caller_phone").trim().to_owned();
    let history = if phone.is_empty() {
        None
    } else {
        s.list(
            &p.actor,
            &TicketQuery {
                caller_phone: Some(phone.clone()),
                ..Default::default()
            },
            &PageQuery {
                page: Some(1),
                per_page: Some(10),
            },
        )
        .await
        .ok()
    };
    // Requests left on the portal (and other self-service channels) wait here for an operator
    // to accept them; without this queue nobody on the workbench would ever see them.
    let waiting = s
        .list(
            &p.actor,
            &TicketQuery {
                status: Some(Status::Created.code().to_owned()),
                sort: Some("oldest".into()),
                ..Default::default()
            },
            &PageQuery {
                page: Some(1),
                per_page: Some(20),
            },
        )
        .await
        .ok();
    let can_merge = p.actor.has_any_role(&[Role::Dispatcher, Role::SysAdmin]);
    let kind = form.get("kind");
    let urgency = if fresh { "normal" } else { form.get("urgency") };
    let wants_reply = fresh || form.get("wants_reply") == "1";
    let v = |n: &str| form.get(n).to_owned();
    let bad = |n: &str| invalid(errors, n);
    Ok(page(
        p,
        "话务受理",
        html! {
            (assets())
            @if let Some(f) = flash { (f) }
            (layout::error_summary(errors))
            div.intake data-can-merge=(if can_merge { "1" } else { "0" }) {
                form #intake-form method="post" action="/hotline/intake" {
                    (csrf_input(p))
                    input type="hidden" name="sent" value="1";
                    section.card aria-labelledby="h-caller" {
                        h2 #h-caller { "来电人" }
                        div.row {
                            div.field {
                                label for="caller_phone" { "来电号码" }
                                div.row.tight {
                                    input #caller_phone name="caller_phone" value=(phone) inputmode="tel" maxlength="20" autocomplete="off"
                                        aria-invalid=[bad("caller_phone").then_some("true")] aria-describedby=[bad("caller_phone").then_some("caller_phone-error")];
                                    button.secondary type="submit" name="op" value="lookup" formnovalidate { "查来电记录" }
                                }
                                (error_for("caller_phone", "caller_phone", errors))
                            }
                            (input("姓名", "caller_name", "caller_name", &v("caller_name"), errors, r#"maxlength="50" autocomplete="off""#))
                        }
                        div.row.tight {
                            label.check { input #wants_reply type="checkbox" name="wants_reply" value="1" checked[wants_reply]; " 需要答复（回访）" }
                            label.check { input #anonymous type="checkbox" name="anonymous" value="1" checked[form.get("anonymous") == "1"]; " 匿名" }
                        }
                    }
                    section.card aria-labelledby="h-what" {
                        h2 #h-what { "诉求" }
                        div.row {
                            (field("类型", "kind", "kind", errors, html! {
                                select #kind name="kind" aria-invalid=[bad("kind").then_some("true")] aria-describedby=[bad("kind").then_some("kind-error")] {
                                    option value="" { "（请选择）" }
                                    @for k in TicketKind::ALL { option value=(k.code()) selected[kind == k.code()] { (k.label()) } }
                                }
                            }))
                            fieldset.choices {
                                legend { "紧急程度" }
                                @for u in Urgency::ALL {
                                    label { input type="radio" name="urgency" value=(u.code()) id=(format!("urgency-{}", u.code())) checked[urgency == u.code()]; " " (u.label()) }
                                }
                            }
                            (field("渠道", "channel", "channel", errors, html! {
                                select #channel name="channel" {
                                    @for c in Channel::ALL { option value=(c.code()) selected[form.get("channel") == c.code() || (fresh && *c == Channel::Phone)] { (c.label()) } }
                                }
                            }))
                        }
                        div.row {
                            (field("区划（可选到社区）", "region_code", "region_code", errors, region_select(&regions, form.get("region_code"), bad("region_code"))))
                            (input("详细地址", "address", "address", &v("address"), errors, r#"maxlength="300" autocomplete="off""#))
                        }
                        (input("标题", "title", "title", &v("title"), errors, r#"maxlength="200" autocomplete="off" data-live="1""#))
                        (textarea("内容", "content", "content", &v("content"), errors, 5))
                        div.field {
                            label for="category_id" { "分类（三级）" }
                            div.row.tight {
                                (category_select("category_id", &cats, category_id, bad("category_id")))
                                button.secondary.nojs type="submit" name="op" value="lookup" formnovalidate { "显示附加问题" }
                            }
                            (error_for("category_id", "category_id", errors))
                        }
                        @for c in cats.iter().filter(|c| !c.questions.is_empty()) {
                            (question_fields(c, form, errors, category_id == Some(c.id)))
                        }
                        (error_for("answers", "answers", errors))
                    }
                    div.actions {
                        button #save type="submit" name="op" value="save" { "保存并转派单 " kbd { "Ctrl+Enter" } }
                    }
                    section.card #answer-now aria-labelledby="h-answer" {
                        h2 #h-answer { "即时解答（知识库）" }
                        p.muted { "能当场答复的咨询：选一条已发布的知识条目（或直接写解答），保存即办结。" }
                        (field("知识条目", "kb_article_id", "kb_article_id", errors, html! {
                            select #kb_article_id name="kb_article_id" aria-invalid=[bad("kb_article_id").then_some("true")] aria-describedby=[bad("kb_article_id").then_some("kb_article_id-error")] {
                                option value="" { "（不引用）" }
                                @for a in &arts { option value=(a.id) selected[form.get("kb_article_id") == a.id.to_string()] { (a.question) } }
                            }
                        }))
                        (textarea("解答内容（留空则用知识条目的答案）", "answer", "answer", &v("answer"), errors, 3))
                        button #answer-submit.secondary type="submit" name="op" value="answer" { "即时解答并办结" }
                    }
                }
                aside #live aria-label="辅助信息" aria-live="polite" {
                    section.card #history {
                        h2 { "来电记录" }
                        div #history-body {
                            @match &history {
                                None => p.muted { "输入来电号码后显示此号码的历史工单。" },
                                Some(h) if h.items.is_empty() => p.muted { "此号码没有历史工单。" },
                                Some(h) => {
                                    p.muted { "共 " (h.total) " 件" }
                                    ul.compact {
                                        @for t in &h.items {
                                            li { a href=(format!("/hotline/tickets/{}", t.ticket.id)) { (t.ticket.number) } " " (status_badge(t.ticket.status)) br; (t.ticket.title) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    section.card #waiting aria-labelledby="h-waiting" {
                        h2 #h-waiting { "网上留言待受理" }
                        @match &waiting {
                            Some(w) if !w.items.is_empty() => {
                                p.muted { "共 " (w.total) " 件，受理后在工单页转派单。" }
                                ul.compact #waiting-body {
                                    @for t in &w.items {
                                        li {
                                            a href=(format!("/hotline/tickets/{}", t.ticket.id)) { (t.ticket.number) }
                                            " " (t.ticket.channel.label()) br; (t.ticket.title) br;
                                            form.inline method="post" action=(format!("/hotline/tickets/{}/act", t.ticket.id)) {
                                                (csrf_input(p))
                                                input type="hidden" name="action" value="accept";
                                                input type="hidden" name="back" value=(format!("/hotline/tickets/{}", t.ticket.id));
                                                button.secondary #(format!("accept-{}", t.ticket.id)) type="submit" { "受理" }
                                            }
                                        }
                                    }
                                }
                            }
                            _ => p.muted { "没有待受理的网上留言。" },
                        }
                    }
                    section.card #suggest hidden {
                        h2 { "智能建议" }
                        div #suggest-body {}
                    }
                    section.card #kb hidden {
                        h2 { "知识库答案" }
                        ol #kb-body.compact {}
                    }
                    section.card #dups hidden {
                        h2 { "可能重复" }
                        ul #dups-body.compact {}
                    }
                    (shortcuts(&[
                        ("Ctrl+Enter", "保存并转派单"),
                        ("Alt+1…5", "用第 1…5 条知识库答案即时解答并办结"),
                        ("Alt+S", "采用智能建议的分类"),
                    ]))
                }
            }
        },
    ))
}
