//! JSON API of 好差评, 差评整改 and 办不成事反映.

use crate::domain::*;
use crate::http::{svc, J};
use crate::service::*;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use webcore::{ApiActor, ApiResult, AppCtx, Json, Path, Query};

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/services/evaluations", post(evaluate))
        .route("/api/v1/services/evaluation-codes", get(codes))
        .route("/api/v1/services/rectifications", get(rectifications))
        .route("/api/v1/services/rectifications/{id}/reply", post(reply))
        .route("/api/v1/services/rectifications/{id}/review", post(review))
        .route(
            "/api/v1/services/feedback",
            get(feedback_list).post(feedback),
        )
        .route("/api/v1/services/feedback/{id}/answer", post(answer))
        .route("/api/v1/services/public/evaluate", post(evaluate_public))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateRequest {
    /// Case number or bundle application number.
    pub number: String,
    pub level: Level,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub text: String,
}

/// 好差评 by the signed-in applicant (or a clerk at the window's evaluator).
#[utoipa::path(post, path = "/api/v1/services/evaluations", tag = "services", request_body = EvaluateRequest,
    responses((status = 201, body = Evaluation), (status = 409, body = webcore::error::Problem)))]
pub(crate) async fn evaluate(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(r): Json<EvaluateRequest>,
) -> ApiResult<(StatusCode, axum::Json<Evaluation>)> {
    let e = svc(&ctx)
        .evaluate(
            &a,
            &r.number,
            NewEvaluation {
                level: r.level,
                tags: r.tags,
                text: r.text,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(e)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CodingQuery {
    pub coding: Coding,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LevelCode {
    pub level: Level,
    pub label: String,
    pub code: u8,
}

/// How an interface numbers the five levels (platforms differ in direction).
#[utoipa::path(get, path = "/api/v1/services/evaluation-codes", tag = "services", params(CodingQuery), responses((status = 200, body = Vec<LevelCode>)))]
pub(crate) async fn codes(Query(q): Query<CodingQuery>) -> J<Vec<LevelCode>> {
    Ok(axum::Json(
        Level::ALL
            .iter()
            .map(|l| LevelCode {
                level: *l,
                label: l.label().into(),
                code: q.coding.code_of(*l),
            })
            .collect(),
    ))
}

/// Rectification tasks: the department's own, or all for supervisors.
#[utoipa::path(get, path = "/api/v1/services/rectifications", tag = "services", responses((status = 200, body = Vec<Rectification>)))]
pub(crate) async fn rectifications(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> J<Vec<Rectification>> {
    Ok(axum::Json(svc(&ctx).rectifications(&a).await?))
}

/// The department's reply to the citizen and what it changed.
#[utoipa::path(post, path = "/api/v1/services/rectifications/{id}/reply", tag = "services", params(("id" = i64, Path)), request_body = RectificationReply,
    responses((status = 200, body = Rectification)))]
pub(crate) async fn reply(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(r): Json<RectificationReply>,
) -> J<Rectification> {
    Ok(axum::Json(svc(&ctx).reply_rectification(&a, id, r).await?))
}

/// A supervisor accepts the rectification or sends it back.
#[utoipa::path(post, path = "/api/v1/services/rectifications/{id}/review", tag = "services", params(("id" = i64, Path)), request_body = RectificationReview,
    responses((status = 200, body = Rectification)))]
pub(crate) async fn review(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(r): Json<RectificationReview>,
) -> J<Rectification> {
    Ok(axum::Json(svc(&ctx).review_rectification(&a, id, r).await?))
}

/// 办不成事反映 received (supervisors).
#[utoipa::path(get, path = "/api/v1/services/feedback", tag = "services", responses((status = 200, body = Vec<Feedback>)))]
pub(crate) async fn feedback_list(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> J<Vec<Feedback>> {
    Ok(axum::Json(svc(&ctx).feedback_list(&a).await?))
}

/// 办不成事反映: anyone, no account needed.
#[utoipa::path(post, path = "/api/v1/services/feedback", tag = "services", request_body = NewFeedback,
    responses((status = 201, body = Feedback), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn feedback(
    State(ctx): State<AppCtx>,
    Json(f): Json<NewFeedback>,
) -> ApiResult<(StatusCode, axum::Json<Feedback>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).submit_feedback(f).await?),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    pub answer: String,
}

/// A supervisor answers a 办不成事 report.
#[utoipa::path(post, path = "/api/v1/services/feedback/{id}/answer", tag = "services", params(("id" = i64, Path)), request_body = AnswerRequest,
    responses((status = 200, body = Feedback)))]
pub(crate) async fn answer(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(r): Json<AnswerRequest>,
) -> J<Feedback> {
    Ok(axum::Json(
        svc(&ctx).answer_feedback(&a, id, &r.answer).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicEvaluation {
    pub number: String,
    pub phone: String,
    pub level: Level,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub text: String,
}

/// 好差评 with number and phone.
#[utoipa::path(post, path = "/api/v1/services/public/evaluate", tag = "services", request_body = PublicEvaluation,
    responses((status = 201, body = Evaluation), (status = 409, body = webcore::error::Problem)))]
pub(crate) async fn evaluate_public(
    State(ctx): State<AppCtx>,
    _: webcore::extract::PublicLookup,
    Json(r): Json<PublicEvaluation>,
) -> ApiResult<(StatusCode, axum::Json<Evaluation>)> {
    let e = svc(&ctx)
        .evaluate_public(
            &r.number,
            &r.phone,
            NewEvaluation {
                level: r.level,
                tags: r.tags,
                text: r.text,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(e)))
}
