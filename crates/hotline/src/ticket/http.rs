//! JSON API of tickets, categories and deadline policies under `/api/v1/hotline`. Thin: parse,
//! call the service, answer.

use super::domain::*;
use super::service::{Reclassify, SplitPart, TicketQuery, TicketView};
use crate::http::svc;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::Router;
use kernel::page::{Page, PageQuery};

use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use webcore::{ApiActor, ApiResult, AppCtx, Json, Path, Query};

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/hotline/tickets", get(list).post(create))
        .route("/api/v1/hotline/tickets/{id}", get(one).patch(reclassify))
        .route("/api/v1/hotline/tickets/{id}/timeline", get(timeline))
        .route("/api/v1/hotline/tickets/{id}/actions", post(act))
        .route("/api/v1/hotline/tickets/{id}/merge", post(merge))
        .route("/api/v1/hotline/tickets/{id}/split", post(split))
        .route("/api/v1/hotline/categories", get(categories))
        .route("/api/v1/hotline/categories/import", post(import_taxonomy))
        .route(
            "/api/v1/hotline/categories/{id}/questions",
            put(set_questions),
        )
        .route(
            "/api/v1/hotline/deadline-policies",
            get(policies).put(set_policy),
        )
        .route("/api/v1/hotline/public/track", post(track))
        .route("/api/v1/hotline/public/rate", post(rate))
}

#[derive(OpenApi)]
#[openapi(
    paths(list, create, one, reclassify, timeline, act, merge, split, categories, import_taxonomy, set_questions,
          policies, set_policy, track, rate),
    components(schemas(TicketView, Ticket, NewTicket, Action, Reclassify, SplitPart, MergeRequest, TimelineEntry, Category, Question,
                       QuestionKind, TaxonomyImport, DeadlinePolicy, PolicyRow, Channel, TicketKind, Urgency, Status,
                       CallbackResult, Resolution, Card, Caller, Location, PendingExtension, TrackRequest, TrackResponse, RateRequest,
                       Created, Page<TicketView>)),
    tags((name = "hotline", description = "12345 热线工单"))
)]
pub struct HotlineApi;

/// Lists tickets in the caller's data scope, with filters.
#[utoipa::path(get, path = "/api/v1/hotline/tickets", tag = "hotline", params(TicketQuery, PageQuery), responses((status = 200, body = Page<TicketView>)))]
async fn list(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<TicketQuery>,
    Query(p): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<TicketView>>> {
    Ok(axum::Json(svc(&ctx).list(&a, &q, &p).await?))
}

/// Registers a new ticket; with `accept: true` (operators) it is accepted at once.
#[utoipa::path(post, path = "/api/v1/hotline/tickets", tag = "hotline", request_body = NewTicket,
    responses((status = 201, body = TicketView), (status = 422, body = webcore::error::Problem)))]
async fn create(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(t): Json<NewTicket>,
) -> ApiResult<(StatusCode, axum::Json<TicketView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).create(&a, t).await?),
    ))
}

/// One ticket (403 outside the caller's scope).
#[utoipa::path(get, path = "/api/v1/hotline/tickets/{id}", tag = "hotline", params(("id" = i64, Path)),
    responses((status = 200, body = TicketView), (status = 403, body = webcore::error::Problem), (status = 404, body = webcore::error::Problem)))]
async fn one(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<TicketView>> {
    Ok(axum::Json(svc(&ctx).get(&a, id).await?))
}

/// Changes type, urgency, category (with answers) or location before a department holds it.
#[utoipa::path(patch, path = "/api/v1/hotline/tickets/{id}", tag = "hotline", params(("id" = i64, Path)), request_body = Reclassify,
    responses((status = 200, body = TicketView), (status = 409, body = webcore::error::Problem)))]
async fn reclassify(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(r): Json<Reclassify>,
) -> ApiResult<axum::Json<TicketView>> {
    Ok(axum::Json(svc(&ctx).reclassify(&a, id, r).await?))
}

/// The ticket's history, oldest first.
#[utoipa::path(get, path = "/api/v1/hotline/tickets/{id}/timeline", tag = "hotline", params(("id" = i64, Path)), responses((status = 200, body = Vec<TimelineEntry>)))]
async fn timeline(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Vec<TimelineEntry>>> {
    Ok(axum::Json(svc(&ctx).timeline(&a, id).await?))
}

/// Applies an action: accept, answer_now, submit_for_dispatch, dispatch, acknowledge, start,
/// return, request_extension, decide_extension, pause, resume, reply, callback, reopen,
/// supervise, close, archive. Illegal transitions answer 409 `illegal_transition`.
#[utoipa::path(post, path = "/api/v1/hotline/tickets/{id}/actions", tag = "hotline", params(("id" = i64, Path)), request_body = Action,
    responses((status = 200, body = TicketView), (status = 409, body = webcore::error::Problem), (status = 403, body = webcore::error::Problem)))]
async fn act(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(action): Json<Action>,
) -> ApiResult<axum::Json<TicketView>> {
    Ok(axum::Json(svc(&ctx).act(&a, id, action).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// Duplicates to merge into this ticket.
    pub child_ids: Vec<i64>,
}

/// Merges duplicates into this ticket; they follow its reply.
#[utoipa::path(post, path = "/api/v1/hotline/tickets/{id}/merge", tag = "hotline", params(("id" = i64, Path)), request_body = MergeRequest,
    responses((status = 200, body = Vec<TicketView>)))]
async fn merge(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(m): Json<MergeRequest>,
) -> ApiResult<axum::Json<Vec<TicketView>>> {
    Ok(axum::Json(svc(&ctx).merge(&a, id, &m.child_ids).await?))
}

/// Splits a ticket waiting for dispatch into sub-tickets for several departments.
#[utoipa::path(post, path = "/api/v1/hotline/tickets/{id}/split", tag = "hotline", params(("id" = i64, Path)), request_body = Vec<SplitPart>,
    responses((status = 200, body = Vec<TicketView>)))]
async fn split(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(parts): Json<Vec<SplitPart>>,
) -> ApiResult<axum::Json<Vec<TicketView>>> {
    Ok(axum::Json(svc(&ctx).split(&a, id, &parts).await?))
}

/// The taxonomy, level by level (ordered by path).
#[utoipa::path(get, path = "/api/v1/hotline/categories", tag = "hotline", responses((status = 200, body = Vec<Category>)))]
async fn categories(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> ApiResult<axum::Json<Vec<Category>>> {
    a.require_scope("hotline:read")?;
    Ok(axum::Json(svc(&ctx).categories().await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxonomyImport {
    /// Rows of (一级分类, 二级分类, 三级分类), as in categories.csv.
    pub rows: Vec<(String, String, String)>,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Imports a taxonomy; existing categories are kept. Answers how many were added.
#[utoipa::path(post, path = "/api/v1/hotline/categories/import", tag = "hotline", request_body = TaxonomyImport, responses((status = 200, body = Created)))]
async fn import_taxonomy(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(t): Json<TaxonomyImport>,
) -> ApiResult<axum::Json<Created>> {
    a.require_scope("hotline:write")?;
    let n = svc(&ctx).import_taxonomy(&a, &t.rows).await?;
    Ok(axum::Json(Created { id: n as i64 }))
}

/// Sets a category's extra questions (附加问题).
#[utoipa::path(put, path = "/api/v1/hotline/categories/{id}/questions", tag = "hotline", params(("id" = i64, Path)), request_body = Vec<Question>,
    responses((status = 200, body = Category), (status = 422, body = webcore::error::Problem)))]
async fn set_questions(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(q): Json<Vec<Question>>,
) -> ApiResult<axum::Json<Category>> {
    a.require_scope("hotline:write")?;
    Ok(axum::Json(svc(&ctx).set_questions(&a, id, q).await?))
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyRow {
    pub kind: TicketKind,
    pub urgency: Urgency,
    #[serde(flatten)]
    pub policy: DeadlinePolicy,
}

/// Deadlines per ticket type and urgency, in working minutes and days.
#[utoipa::path(get, path = "/api/v1/hotline/deadline-policies", tag = "hotline", responses((status = 200, body = Vec<PolicyRow>)))]
async fn policies(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> ApiResult<axum::Json<Vec<PolicyRow>>> {
    a.require_scope("hotline:read")?;
    let s = svc(&ctx);
    let mut out = Vec::new();
    for k in TicketKind::ALL {
        for u in Urgency::ALL {
            out.push(PolicyRow {
                kind: *k,
                urgency: *u,
                policy: s.policy(*k, *u).await?,
            });
        }
    }
    Ok(axum::Json(out))
}

/// Sets the deadlines for one type and urgency (admins).
#[utoipa::path(put, path = "/api/v1/hotline/deadline-policies", tag = "hotline", request_body = PolicyRow, responses((status = 204)))]
async fn set_policy(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(p): Json<PolicyRow>,
) -> ApiResult<StatusCode> {
    svc(&ctx)
        .set_policy(&a, p.kind, p.urgency, p.policy)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackRequest {
    pub number: String,
    pub phone: String,
}

#[derive(Serialize, ToSchema)]
pub struct TrackResponse {
    pub number: String,
    pub status: Status,
    pub status_label: String,
    pub title: String,
    pub reply: Option<String>,
    pub replied_at: Option<i64>,
    pub satisfaction: Option<CallbackResult>,
    /// Only the steps a citizen needs (no staff names).
    pub steps: Vec<(i64, String)>,
}

/// For citizens: a ticket's progress by number and the phone number given.
#[utoipa::path(post, path = "/api/v1/hotline/public/track", tag = "hotline", request_body = TrackRequest,
    responses((status = 200, body = TrackResponse), (status = 404, body = webcore::error::Problem)))]
async fn track(
    State(ctx): State<AppCtx>,
    _: webcore::extract::PublicLookup,
    Json(r): Json<TrackRequest>,
) -> ApiResult<axum::Json<TrackResponse>> {
    let (v, events) = svc(&ctx).track(&r.number, &r.phone).await?;
    let t = v.ticket;
    let steps = events
        .iter()
        .filter(|e| e.action != "card" && e.action != "supervise")
        .map(|e| {
            (
                e.at,
                Status::parse(&e.to_status)
                    .map(|s| s.label().to_owned())
                    .unwrap_or_default(),
            )
        })
        .collect();
    Ok(axum::Json(TrackResponse {
        number: t.number,
        status: t.status,
        status_label: v.status_label,
        title: t.title,
        reply: t.reply,
        replied_at: t.replied_at,
        satisfaction: t.satisfaction,
        steps,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateRequest {
    pub number: String,
    pub phone: String,
    pub result: CallbackResult,
    #[serde(default)]
    pub note: String,
}

/// For citizens: rates the reply (满意, 基本满意, 不满意) by number and phone.
#[utoipa::path(post, path = "/api/v1/hotline/public/rate", tag = "hotline", request_body = RateRequest,
    responses((status = 200, body = TrackResponse), (status = 404, body = webcore::error::Problem), (status = 409, body = webcore::error::Problem)))]
async fn rate(
    State(ctx): State<AppCtx>,
    _: webcore::extract::PublicLookup,
    Json(r): Json<RateRequest>,
) -> ApiResult<StatusCode> {
    svc(&ctx)
        .rate_by_citizen(&r.number, &r.phone, r.result, &r.note)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 按编号查找 for the top bar ([`webcore::LookupFn`]): the ticket of that number if the actor
/// may open its page — the page's own rule, [`super::service`]'s `get` — and `None` both for
/// an unknown number and for a ticket the actor may not see.
pub fn lookup<'a>(
    ctx: &'a AppCtx,
    actor: &'a kernel::Actor,
    typed: &'a str,
) -> webcore::LookupFuture<'a> {
    Box::pin(async move {
        let Some(number) = ticket_number_typed(&ctx.config.city.name, typed) else {
            return Ok(None);
        };
        match svc(ctx).get_by_number(actor, &number).await {
            Ok(v) => Ok(Some(webcore::LookupHit {
                kind: "ticket".into(),
                label: format!("工单 {}：{}", v.ticket.number, v.ticket.title),
                url: format!("/hotline/tickets/{}", v.ticket.id),
            })),
            Err(kernel::Error::NotFound { .. } | kernel::Error::Forbidden(_)) => Ok(None),
            Err(e) => Err(e),
        }
    })
}
