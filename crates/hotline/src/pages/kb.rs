//! 知识库 pages for staff: search, an article with its version history, the edit form (every
//! save is a new version, back in draft), and the review → publish → withdraw actions.
//! The search is the service's plain text match; the tantivy endpoint can replace it later.

use super::minute;
use crate::domain::*;
use crate::http::svc;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use kernel::page::PageQuery;
use kernel::{Error, FieldError, Role};
use maud::{html, Markup};
use serde::Deserialize;
use webcore::layout::{
    alert, csrf_input, error_summary, field_error, notice, page, pager, text_field,
};
use webcore::{AppCtx, FormData, PageCtx, PageError, Path, Query};

/// Who sees the knowledge-base pages.
pub const READERS: &[Role] = &[
    Role::Operator,
    Role::Dispatcher,
    Role::Handler,
    Role::Supervisor,
    Role::SysAdmin,
];
/// Who may write (as `HotlineService::save_article` allows).
const EDITORS: &[Role] = &[
    Role::Operator,
    Role::Supervisor,
    Role::SysAdmin,
    Role::Handler,
];
/// Who reviews and publishes (as `HotlineService::article_action` allows).
const REVIEWERS: &[Role] = &[Role::Supervisor, Role::SysAdmin];

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/hotline/kb", get(list))
        .route("/hotline/kb/new", get(new_form).post(create))
        .route("/hotline/kb/{id}", get(show))
        .route("/hotline/kb/{id}/edit", get(edit_form).post(edit))
        .route("/hotline/kb/{id}/action", post(action))
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    /// Kept as text: a hand-edited `page=x` shows the first page rather than an error.
    page: Option<String>,
    /// A message after a redirect (`saved`, `reviewed`…).
    #[serde(default)]
    done: String,
}

fn status_tag(s: ArticleStatus) -> Markup {
    html! { span.tag.off[s == ArticleStatus::Withdrawn] { (s.label()) } }
}

async fn list(
    p: PageCtx,
    State(ctx): State<AppCtx>,
    Query(q): Query<ListQuery>,
) -> Result<Markup, PageError> {
    let status = match q.status.as_str() {
        "" => None,
        s => Some(ArticleStatus::parse(s).ok_or_else(|| {
            Error::field(
                "status",
                "invalid_enum",
                "状态只能是草稿、已审核、已发布或已下线",
            )
        })?),
    };
    let pq = PageQuery {
        page: q.page.as_deref().and_then(|p| p.parse().ok()),
        per_page: Some(20),
    };
    let text = q.q.trim();
    let s = svc(&ctx);
    // Published articles are found by meaning through the tantivy index (rewordings, sub-words,
    // ranked); drafts and other statuses only by the database's text match below.
    let ranked = if !text.is_empty() && matches!(status, None | Some(ArticleStatus::Published)) {
        Some(
            crate::search::SearchService::new(ctx.db.clone())
                .kb_search(&p.actor, text, 20)
                .await?,
        )
    } else {
        None
    };
    let list = s
        .articles(
            &p.actor,
            status,
            None,
            Some(text).filter(|t| !t.is_empty()),
            &pq,
        )
        .await?;
    let cats = s.categories().await?;
    let cat_name = |id: Option<i64>| {
        id.and_then(|id| cats.iter().find(|c| c.id == id))
            .map(|c| c.path.clone())
            .unwrap_or_default()
    };
    let base = format!(
        "/hotline/kb?q={}&status={}",
        form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>(),
        status.map(ArticleStatus::code).unwrap_or("")
    );
    Ok(page(
        &p,
        "知识库",
        html! {
            @if q.done == "withdrawn" { (notice("条目已下线。")) }
            form.filters method="get" action="/hotline/kb" role="search" {
                div.field {
                    label for="q" { "查找问题或答案" }
                    input #q type="search" name="q" value=(text) maxlength="100" placeholder="按 / 聚焦";
                }
                div.field {
                    label for="status" { "状态" }
                    select #status name="status" {
                        option value="" { "全部" }
                        @for st in [ArticleStatus::Draft, ArticleStatus::Reviewed, ArticleStatus::Published, ArticleStatus::Withdrawn] {
                            option value=(st.code()) selected[status == Some(st)] { (st.label()) }
                        }
                    }
                }
                button type="submit" { "查找" }
                @if p.actor.has_any_role(EDITORS) { a.button href="/hotline/kb/new" { "新建条目" } }
            }
            @if let Some(r) = &ranked {
                @if r.items.is_empty() {
                    p #kb-empty { (if status.is_some() { "没有符合条件的知识条目。" } else { "没有符合条件的已发布条目。" }) }
                } @else {
                    h2 #kb-ranked-title { "已发布条目（按相关度）" }
                    table #kb-list aria-labelledby="kb-ranked-title" {
                        thead { tr { th scope="col" { "问题" } th scope="col" { "答案摘要" } th scope="col" { "状态" } } }
                        tbody {
                            @for h in &r.items {
                                tr {
                                    td { a href=(format!("/hotline/kb/{}", h.article_id)) { (h.title) } }
                                    td { (h.snippet) }
                                    td { (status_tag(ArticleStatus::Published)) }
                                }
                            }
                        }
                    }
                }
            }
            @if ranked.is_some() && status.is_some() {
                // Only published articles were asked for: the ranked list above is the answer.
            } @else if list.items.is_empty() {
                @if ranked.is_none() { p #kb-empty { "没有符合条件的知识条目。" } }
            } @else {
                @if ranked.is_some() { h2 #kb-all-title { "全部状态（文字匹配）" } }
                table id=(if ranked.is_some() { "kb-all" } else { "kb-list" }) {
                    thead { tr { th scope="col" { "问题" } th scope="col" { "分类" } th scope="col" { "状态" } th scope="col" { "版本" } th scope="col" { "更新时间" } } }
                    tbody {
                        @for a in &list.items {
                            tr {
                                td { a href=(format!("/hotline/kb/{}", a.id)) { (a.question) } }
                                td { (cat_name(a.category_id)) }
                                td { (status_tag(a.status)) }
                                td { "v" (a.version) }
                                td { (minute(a.updated_at)) }
                            }
                        }
                    }
                }
            }
            @if ranked.is_none() || (status.is_none() && !list.items.is_empty()) { (pager(&base, list.page, list.pages(), list.total)) }
            p.muted { "快捷键：按 / 聚焦查找框。流程：编辑保存为草稿 → 督办员审核 → 发布；每次编辑都生成新版本，须重新审核发布。" }
        },
    ))
}

fn input_of(f: &FormData) -> ArticleInput {
    ArticleInput {
        question: f.get("question").to_owned(),
        answer: f.get("answer").to_owned(),
        category_id: f.opt("category_id").and_then(|s| s.parse().ok()),
        dept_id: None,
        valid_from: f.opt("valid_from"),
        valid_until: f.opt("valid_until"),
    }
}

async fn form_page(
    p: &PageCtx,
    ctx: &AppCtx,
    id: Option<i64>,
    a: &ArticleInput,
    errors: &[FieldError],
) -> Result<Markup, Error> {
    let cats = svc(ctx).categories().await?;
    let action = match id {
        Some(id) => format!("/hotline/kb/{id}/edit"),
        None => "/hotline/kb/new".into(),
    };
    let invalid = |n: &str| errors.iter().any(|e| e.field == n).then_some("true");
    Ok(page(
        p,
        if id.is_some() {
            "编辑知识条目"
        } else {
            "新建知识条目"
        },
        html! {
            (error_summary(errors))
            form.card method="post" action=(action) novalidate {
                (csrf_input(p))
                (text_field("问题", "question", &a.question, errors, r#"maxlength="300" required"#))
                div.field {
                    label for="answer" { "答案" }
                    textarea #answer name="answer" rows="10" maxlength="8000" required aria-invalid=[invalid("answer")] { (a.answer) }
                    (field_error(errors, "answer"))
                }
                div.field {
                    label for="category_id" { "分类" }
                    select #category_id name="category_id" aria-invalid=[invalid("category_id")] {
                        option value="" { "（不限）" }
                        @for c in cats.iter().filter(|c| c.active) {
                            option value=(c.id) selected[a.category_id == Some(c.id)] { (c.path) }
                        }
                    }
                    (field_error(errors, "category_id"))
                }
                div.row {
                    (text_field("生效日期", "valid_from", a.valid_from.as_deref().unwrap_or(""), errors, r#"type="date""#))
                    (text_field("失效日期", "valid_until", a.valid_until.as_deref().unwrap_or(""), errors, r#"type="date""#))
                }
                p.muted { "保存后为草稿，须审核、发布后话务员才能引用。" }
                button type="submit" { "保存" }
                " "
                a href=(id.map(|i| format!("/hotline/kb/{i}")).unwrap_or_else(|| "/hotline/kb".into())) { "取消" }
            }
        },
    ))
}

async fn new_form(p: PageCtx, State(ctx): State<AppCtx>) -> Result<Markup, PageError> {
    p.actor.require_any_role(EDITORS)?;
    let empty = ArticleInput {
        question: String::new(),
        answer: String::new(),
        category_id: None,
        dept_id: None,
        valid_from: None,
        valid_until: None,
    };
    Ok(form_page(&p, &ctx, None, &empty, &[]).await?)
}

async fn save(
    p: PageCtx,
    ctx: AppCtx,
    id: Option<i64>,
    f: FormData,
) -> Result<Response, PageError> {
    p.check_csrf(f.get(webcore::CSRF_FIELD))?;
    let input = input_of(&f);
    let mut errors = Vec::new();
    if f.opt("category_id")
        .is_some_and(|s| s.parse::<i64>().is_err())
    {
        errors.push(FieldError::new(
            "category_id",
            "invalid_value",
            "所选分类不存在",
        ));
    }
    if errors.is_empty() {
        match svc(&ctx).save_article(&p.actor, id, input.clone()).await {
            Ok(a) => {
                return Ok(Redirect::to(&format!("/hotline/kb/{}?done=saved", a.id)).into_response())
            }
            Err(Error::Validation(v)) => errors = v,
            Err(e) => return Err(e.into()),
        }
    }
    let page = form_page(&p, &ctx, id, &input, &errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

async fn create(p: PageCtx, State(ctx): State<AppCtx>, f: FormData) -> Result<Response, PageError> {
    save(p, ctx, None, f).await
}

async fn edit(
    p: PageCtx,
    State(ctx): State<AppCtx>,
    Path(id): Path<i64>,
    f: FormData,
) -> Result<Response, PageError> {
    save(p, ctx, Some(id), f).await
}

async fn edit_form(
    p: PageCtx,
    State(ctx): State<AppCtx>,
    Path(id): Path<i64>,
) -> Result<Markup, PageError> {
    p.actor.require_any_role(EDITORS)?;
    let (a, _) = svc(&ctx).article(&p.actor, id).await?;
    let input = ArticleInput {
        question: a.question,
        answer: a.answer,
        category_id: a.category_id,
        dept_id: a.dept_id,
        valid_from: a.valid_from,
        valid_until: a.valid_until,
    };
    Ok(form_page(&p, &ctx, Some(id), &input, &[]).await?)
}

#[derive(Deserialize)]
struct ShowQuery {
    #[serde(default)]
    done: String,
}

async fn show(
    p: PageCtx,
    State(ctx): State<AppCtx>,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> Result<Markup, PageError> {
    let s = svc(&ctx);
    let (a, versions) = s.article(&p.actor, id).await?;
    let cat = match a.category_id {
        Some(c) => s.category(c).await.ok().map(|c| c.path),
        None => None,
    };
    let done = match q.done.as_str() {
        "saved" => Some("已保存为新版本（草稿），须审核后发布。"),
        "reviewed" => Some("已审核，可以发布。"),
        "published" => Some("已发布，话务员现在可以查到并引用。"),
        "withdrawn" => Some("已下线。"),
        _ => None,
    };
    // Editors by name: the versions store the audit actor (`user:12`).
    let org = org::OrgService::new(ctx.db.clone(), ctx.config.auth.clone());
    let mut editors = std::collections::HashMap::new();
    for v in &versions {
        if let Some(uid) = v
            .edited_by
            .strip_prefix("user:")
            .and_then(|n| n.parse::<i64>().ok())
        {
            if let Ok(u) = org.user(&kernel::Actor::system(), uid).await {
                editors.insert(v.edited_by.clone(), u.display_name);
            }
        }
    }
    let today = kernel::clock::to_china(ctx.db.now())
        .date_naive()
        .to_string();
    let reviewer = p.actor.has_any_role(REVIEWERS);
    let possible: Vec<(ArticleAction, &str, &str)> = [
        (ArticleAction::Review, "review", "审核通过"),
        (ArticleAction::Publish, "publish", "发布"),
        (ArticleAction::Withdraw, "withdraw", "下线"),
    ]
    .into_iter()
    .filter(|(act, _, _)| a.transition(*act).is_ok())
    .collect();
    Ok(page(
        &p,
        "知识条目",
        html! {
            @if let Some(m) = done { (notice(m)) }
            article.card {
                h2 #kb-question { (a.question) }
                p.muted {
                    "状态：" span #kb-status { (status_tag(a.status)) } " · 版本 v" (a.version) " · 更新于 " (minute(a.updated_at))
                    @if let Some(c) = &cat { " · " (c) }
                }
                @if a.status == ArticleStatus::Published && !a.is_live(&today) {
                    (alert("已发布，但今天不在有效期内，话务员查不到。"))
                }
                @if a.valid_from.is_some() || a.valid_until.is_some() {
                    p.muted { "有效期：" (a.valid_from.as_deref().unwrap_or("不限")) " 至 " (a.valid_until.as_deref().unwrap_or("不限")) }
                }
                div.pre #kb-answer { (a.answer) }
            }
            div.actions {
                @if p.actor.has_any_role(EDITORS) { a.button href=(format!("/hotline/kb/{id}/edit")) { "编辑" } }
                @if reviewer {
                    @for (_, code, label) in &possible {
                        form method="post" action=(format!("/hotline/kb/{id}/action")) {
                            (csrf_input(&p))
                            input type="hidden" name="action" value=(code);
                            button.secondary[*code == "withdraw"] type="submit" #(format!("kb-{code}")) { (label) }
                        }
                    }
                }
                a href="/hotline/kb" { "返回列表" }
            }
            h2 { "版本记录" }
            table #kb-versions {
                thead { tr { th scope="col" { "版本" } th scope="col" { "问题" } th scope="col" { "编辑人" } th scope="col" { "时间" } } }
                tbody {
                    @for v in versions.iter().rev() {
                        tr {
                            td { "v" (v.version) }
                            td { details { summary { (v.question) } div.pre { (v.answer) } } }
                            td { (editors.get(&v.edited_by).unwrap_or(&v.edited_by)) }
                            td { (minute(v.edited_at)) }
                        }
                    }
                }
            }
        },
    ))
}

async fn action(
    p: PageCtx,
    State(ctx): State<AppCtx>,
    Path(id): Path<i64>,
    f: FormData,
) -> Result<Response, PageError> {
    p.check_csrf(f.get(webcore::CSRF_FIELD))?;
    let (act, done) = match f.get("action") {
        "review" => (ArticleAction::Review, "reviewed"),
        "publish" => (ArticleAction::Publish, "published"),
        "withdraw" => (ArticleAction::Withdraw, "withdrawn"),
        _ => {
            return Err(Error::field("action", "invalid_enum", "操作只能是审核、发布或下线").into())
        }
    };
    svc(&ctx).article_action(&p.actor, id, act).await?;
    Ok(Redirect::to(&format!("/hotline/kb/{id}?done={done}")).into_response())
}
