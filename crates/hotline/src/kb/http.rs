//! JSON API of the knowledge base and reply templates under `/api/v1/hotline`.

use super::domain::ArticleVersion;
use super::domain::*;
use crate::http::svc;
use crate::ticket::domain::Ticket;
use crate::ticket::http::Created;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use kernel::page::{Page, PageQuery};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use webcore::{ApiActor, ApiResult, AppCtx, Json, Path, Query};

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route(
            "/api/v1/hotline/tickets/{id}/reply-templates",
            get(ticket_templates),
        )
        .route("/api/v1/hotline/kb", get(articles).post(create_article))
        .route("/api/v1/hotline/kb/{id}", get(article).put(edit_article))
        .route("/api/v1/hotline/kb/{id}/actions", post(article_action))
        .route(
            "/api/v1/hotline/reply-templates",
            get(templates).post(create_template),
        )
        .route(
            "/api/v1/hotline/reply-templates/{id}",
            axum::routing::delete(delete_template),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(ticket_templates, articles, create_article, article, edit_article, article_action, templates, create_template,
          delete_template),
    components(schemas(Article, ArticleInput, ArticleAction, ArticleVersion, ArticleDetail, ReplyTemplate, NewReplyTemplate,
                       RenderedTemplate, Page<Article>)),
    tags((name = "hotline", description = "12345 热线工单"))
)]
pub struct KbApi;

#[derive(Serialize, ToSchema)]
pub struct RenderedTemplate {
    pub id: i64,
    pub title: String,
    /// The body with the ticket's values filled in.
    pub text: String,
}

/// Reply templates for this ticket's category, filled in with its values.
#[utoipa::path(get, path = "/api/v1/hotline/tickets/{id}/reply-templates", tag = "hotline", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<RenderedTemplate>)))]
async fn ticket_templates(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Vec<RenderedTemplate>>> {
    let t = svc(&ctx).get(&a, id).await?.ticket;
    Ok(axum::Json(rendered_templates(&ctx, &a, &t).await?))
}

/// Reply templates for a ticket's category and its ancestors' (a level-3 ticket also gets
/// level-1 ones) and the general ones, filled in with the ticket's values.
pub async fn rendered_templates(
    ctx: &AppCtx,
    a: &kernel::Actor,
    t: &Ticket,
) -> kernel::Result<Vec<RenderedTemplate>> {
    let s = svc(ctx);
    // The category's own templates and its ancestors' (a level-3 ticket also gets level-1 ones).
    let cats = s.categories().await?;
    let mut chain = Vec::new();
    let mut cur = t.category_id;
    while let Some(c) = cur {
        chain.push(c);
        cur = cats.iter().find(|x| x.id == c).and_then(|x| x.parent_id);
    }
    let dept = match t.main_dept_id {
        Some(d) => org::OrgService::new(ctx.db.clone(), ctx.config.auth.clone())
            .department(a, d)
            .await
            .map(|d| d.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let caller = super::domain::salutation(t.caller.name.as_deref(), t.caller.anonymous);
    let date = kernel::clock::to_china(ctx.db.now())
        .format("%Y年%m月%d日")
        .to_string();
    let all = s.templates(a, None).await?;
    let out = all
        .into_iter()
        .filter(|x| x.category_id.is_none_or(|c| chain.contains(&c)))
        .map(|x| RenderedTemplate {
            id: x.id,
            text: render_template(&x.body, &t.number, &caller, &t.title, &dept, &date),
            title: x.title,
        })
        .collect();
    Ok(out)
}
#[derive(Deserialize, utoipa::IntoParams)]
pub struct ArticleQuery {
    pub status: Option<ArticleStatus>,
    pub category_id: Option<i64>,
    pub q: Option<String>,
}

/// Knowledge-base articles, filtered.
#[utoipa::path(get, path = "/api/v1/hotline/kb", tag = "hotline", params(ArticleQuery, PageQuery), responses((status = 200, body = Page<Article>)))]
async fn articles(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<ArticleQuery>,
    Query(p): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<Article>>> {
    Ok(axum::Json(
        svc(&ctx)
            .articles(&a, q.status, q.category_id, q.q.as_deref(), &p)
            .await?,
    ))
}

/// Writes a new article (as a draft).
#[utoipa::path(post, path = "/api/v1/hotline/kb", tag = "hotline", request_body = ArticleInput, responses((status = 201, body = Article)))]
async fn create_article(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(i): Json<ArticleInput>,
) -> ApiResult<(StatusCode, axum::Json<Article>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).save_article(&a, None, i).await?),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct ArticleDetail {
    pub article: Article,
    pub versions: Vec<ArticleVersion>,
}

/// An article with its versions.
#[utoipa::path(get, path = "/api/v1/hotline/kb/{id}", tag = "hotline", params(("id" = i64, Path)), responses((status = 200, body = ArticleDetail)))]
async fn article(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<ArticleDetail>> {
    let (article, versions) = svc(&ctx).article(&a, id).await?;
    Ok(axum::Json(ArticleDetail { article, versions }))
}

/// Edits an article: a new version, back in draft until reviewed and published again.
#[utoipa::path(put, path = "/api/v1/hotline/kb/{id}", tag = "hotline", params(("id" = i64, Path)), request_body = ArticleInput, responses((status = 200, body = Article)))]
async fn edit_article(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(i): Json<ArticleInput>,
) -> ApiResult<axum::Json<Article>> {
    Ok(axum::Json(svc(&ctx).save_article(&a, Some(id), i).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleActionRequest {
    pub action: ArticleAction,
}

/// Review, publish or withdraw an article (supervisors).
#[utoipa::path(post, path = "/api/v1/hotline/kb/{id}/actions", tag = "hotline", params(("id" = i64, Path)), request_body = ArticleAction,
    responses((status = 200, body = Article), (status = 409, body = webcore::error::Problem)))]
async fn article_action(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(r): Json<ArticleActionRequest>,
) -> ApiResult<axum::Json<Article>> {
    Ok(axum::Json(
        svc(&ctx).article_action(&a, id, r.action).await?,
    ))
}

/// All reply templates.
#[utoipa::path(get, path = "/api/v1/hotline/reply-templates", tag = "hotline", responses((status = 200, body = Vec<ReplyTemplate>)))]
async fn templates(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> ApiResult<axum::Json<Vec<ReplyTemplate>>> {
    Ok(axum::Json(svc(&ctx).templates(&a, None).await?))
}

/// Adds a reply template (admins). Placeholders: {编号} {市民} {标题} {单位} {日期}.
#[utoipa::path(post, path = "/api/v1/hotline/reply-templates", tag = "hotline", request_body = NewReplyTemplate,
    responses((status = 201, body = Created), (status = 422, body = webcore::error::Problem)))]
async fn create_template(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(t): Json<NewReplyTemplate>,
) -> ApiResult<(StatusCode, axum::Json<Created>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(Created {
            id: svc(&ctx).create_template(&a, t).await?,
        }),
    ))
}

/// Deletes a reply template (admins).
#[utoipa::path(delete, path = "/api/v1/hotline/reply-templates/{id}", tag = "hotline", params(("id" = i64, Path)), responses((status = 204)))]
async fn delete_template(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    svc(&ctx).delete_template(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
