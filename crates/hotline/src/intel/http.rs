//! API of dispatch suggestions, routing rules, models and the dispatch report, under
//! `/api/v1/hotline`.

use super::dispatch::{
    CategoryGuess, DeptRef, DeptSuggestion, DispatchReport, SuggestInput, Suggestion,
};
use super::models::ModelInfo;
use super::routing::{
    AnswerCondition, AnswerOp, Conditions, DayKindCondition, RoutingRule, RuleInput, RuleWarning,
};
use super::{Reorder, RuleList, SavedRule};
use crate::http::svc;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};
use webcore::{ApiActor, ApiResult, AppCtx, Json, Path, Query};

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/hotline/suggest", post(suggest))
        .route(
            "/api/v1/hotline/tickets/{id}/suggestion",
            get(ticket_suggestion),
        )
        .route(
            "/api/v1/hotline/routing-rules",
            get(list_rules).post(create_rule),
        )
        .route("/api/v1/hotline/routing-rules/reorder", post(reorder))
        .route(
            "/api/v1/hotline/routing-rules/{id}",
            get(one_rule).put(update_rule).delete(delete_rule),
        )
        .route("/api/v1/hotline/models", get(models))
        .route("/api/v1/hotline/models/{version}/activate", post(activate))
        .route("/api/v1/hotline/reports/dispatch", get(report))
}

#[derive(OpenApi)]
#[openapi(
    paths(suggest, ticket_suggestion, list_rules, create_rule, reorder, one_rule, update_rule, delete_rule, models, activate, report),
    components(schemas(SuggestInput, Suggestion, CategoryGuess, DeptSuggestion, DeptRef, RoutingRule, RuleInput, Conditions,
                       AnswerCondition, AnswerOp, DayKindCondition, RuleWarning, SavedRule, RuleList, Reorder, ModelInfo, DispatchReport)),
    tags((name = "hotline-dispatch", description = "12345 智能分类与派单建议"))
)]
pub struct IntelApi;

/// A dispatch suggestion for what the operator has typed so far: the predicted categories
/// (top 3), the words behind them, and the department with its confidence and reason.
#[utoipa::path(post, path = "/api/v1/hotline/suggest", tag = "hotline-dispatch", request_body = SuggestInput,
    responses((status = 200, body = Suggestion), (status = 422, body = webcore::error::Problem)))]
async fn suggest(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(input): Json<SuggestInput>,
) -> ApiResult<axum::Json<Suggestion>> {
    Ok(axum::Json(svc(&ctx).suggest(&a, &input).await?))
}

/// The ticket's stored suggestion, recomputed when its category or location changed.
#[utoipa::path(get, path = "/api/v1/hotline/tickets/{id}/suggestion", tag = "hotline-dispatch", params(("id" = i64, Path)),
    responses((status = 200, body = Suggestion), (status = 404, body = webcore::error::Problem)))]
async fn ticket_suggestion(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Suggestion>> {
    Ok(axum::Json(svc(&ctx).ticket_suggestion(&a, id).await?))
}

/// Routing rules in evaluation order (first match wins), with warnings about the set.
#[utoipa::path(get, path = "/api/v1/hotline/routing-rules", tag = "hotline-dispatch", responses((status = 200, body = RuleList)))]
async fn list_rules(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> ApiResult<axum::Json<RuleList>> {
    Ok(axum::Json(svc(&ctx).routing_rules(&a).await?))
}

/// Adds a rule at the end. A rule that can never match is refused (422 naming the field);
/// one shadowed by or conflicting with an earlier rule is saved with `warnings`.
#[utoipa::path(post, path = "/api/v1/hotline/routing-rules", tag = "hotline-dispatch", request_body = RuleInput,
    responses((status = 201, body = SavedRule), (status = 422, body = webcore::error::Problem)))]
async fn create_rule(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(input): Json<RuleInput>,
) -> ApiResult<(StatusCode, axum::Json<SavedRule>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).create_routing_rule(&a, input).await?),
    ))
}

/// Sets the evaluation order; `ids` lists every rule once.
#[utoipa::path(post, path = "/api/v1/hotline/routing-rules/reorder", tag = "hotline-dispatch", request_body = Reorder,
    responses((status = 200, body = RuleList), (status = 422, body = webcore::error::Problem)))]
async fn reorder(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(r): Json<Reorder>,
) -> ApiResult<axum::Json<RuleList>> {
    Ok(axum::Json(svc(&ctx).reorder_routing_rules(&a, r).await?))
}

#[utoipa::path(get, path = "/api/v1/hotline/routing-rules/{id}", tag = "hotline-dispatch", params(("id" = i64, Path)),
    responses((status = 200, body = RoutingRule), (status = 404, body = webcore::error::Problem)))]
async fn one_rule(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<RoutingRule>> {
    Ok(axum::Json(svc(&ctx).routing_rule(&a, id).await?))
}

/// Replaces a rule's content (its position stays).
#[utoipa::path(put, path = "/api/v1/hotline/routing-rules/{id}", tag = "hotline-dispatch", params(("id" = i64, Path)), request_body = RuleInput,
    responses((status = 200, body = SavedRule), (status = 422, body = webcore::error::Problem)))]
async fn update_rule(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(input): Json<RuleInput>,
) -> ApiResult<axum::Json<SavedRule>> {
    Ok(axum::Json(
        svc(&ctx).update_routing_rule(&a, id, input).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/hotline/routing-rules/{id}", tag = "hotline-dispatch", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = webcore::error::Problem)))]
async fn delete_rule(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    svc(&ctx).delete_routing_rule(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stored classification models, newest first; the serving one has `active: true`.
#[utoipa::path(get, path = "/api/v1/hotline/models", tag = "hotline-dispatch", responses((status = 200, body = Vec<ModelInfo>)))]
async fn models(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> ApiResult<axum::Json<Vec<ModelInfo>>> {
    Ok(axum::Json(svc(&ctx).models(&a).await?))
}

/// Makes a stored model version the serving one (admins).
#[utoipa::path(post, path = "/api/v1/hotline/models/{version}/activate", tag = "hotline-dispatch", params(("version" = i64, Path)),
    responses((status = 200, body = ModelInfo), (status = 404, body = webcore::error::Problem)))]
async fn activate(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(version): Path<i64>,
) -> ApiResult<axum::Json<ModelInfo>> {
    Ok(axum::Json(svc(&ctx).activate_model(&a, version).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct ReportQuery {
    /// `YYYY-MM-DD`, inclusive, China time.
    #[serde(default)]
    pub from: String,
    /// `YYYY-MM-DD`, inclusive.
    #[serde(default)]
    pub to: String,
}

/// Automatic-dispatch rate and accuracy (by returns) and dispatchers' agreement with the
/// suggestions, for tickets first dispatched in the period.
#[utoipa::path(get, path = "/api/v1/hotline/reports/dispatch", tag = "hotline-dispatch", params(ReportQuery),
    responses((status = 200, body = DispatchReport), (status = 422, body = webcore::error::Problem)))]
async fn report(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<ReportQuery>,
) -> ApiResult<axum::Json<DispatchReport>> {
    Ok(axum::Json(
        svc(&ctx).dispatch_report(&a, &q.from, &q.to).await?,
    ))
}
