//! The service hall's JSON API under `/api/v1/services`. Thin: parse, call the service, answer.

use crate::domain::*;
use crate::import::{ImportReport, ImportedRow, RowError};
use crate::report::{GroupBy, Report, ReportRow};
use crate::service::*;
use crate::store::{BundleCaseRow, TimelineEntry};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use kernel::error::Error;
use kernel::page::{Page, PageQuery};
use kernel::Role;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use webcore::{ApiActor, ApiResult, AppCtx, Json, NavItem, Path, Query};

pub fn svc(ctx: &AppCtx) -> ServicesService {
    ServicesService::new(ctx.db.clone())
}

pub fn nav() -> Vec<NavItem> {
    vec![
        NavItem {
            section: "一网通办",
            label: "综合窗口收件",
            href: "/services/desk",
            roles: &[Role::Clerk, Role::Admin],
        },
        NavItem {
            section: "一网通办",
            label: "窗口评价",
            href: "/services/desk/evaluate",
            roles: &[Role::Clerk, Role::Admin],
        },
        NavItem {
            section: "一网通办",
            label: "部门办件",
            href: "/services/inbox",
            roles: &[Role::Approver, Role::Clerk, Role::Admin],
        },
        NavItem {
            section: "一网通办",
            label: "事项管理",
            href: "/services/items",
            roles: &[Role::Approver, Role::Admin, Role::Clerk, Role::Supervisor],
        },
        NavItem {
            section: "一网通办",
            label: "差评整改",
            href: "/services/rectifications",
            roles: &[Role::Supervisor, Role::Approver, Role::Clerk, Role::Admin],
        },
        NavItem {
            section: "一网通办",
            label: "政务服务统计",
            href: "/services/reports",
            roles: crate::pages_report::READERS,
        },
        NavItem {
            section: "一网通办",
            label: "办不成事反映",
            href: "/services/feedback",
            roles: &[Role::Supervisor, Role::Admin],
        },
        NavItem {
            section: "一网通办",
            label: "我的办件",
            href: "/services/mine",
            roles: &[Role::Citizen],
        },
        NavItem {
            section: "一网通办",
            label: "办事指南",
            href: "/guide",
            roles: &Role::ALL,
        },
    ]
}

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/services/items", get(search).post(create_item))
        .route("/api/v1/services/items/import", post(import))
        .route("/api/v1/services/items/export.xlsx", get(export))
        .route("/api/v1/services/items/{id}", get(item).put(update_item))
        .route("/api/v1/services/items/{id}/publish", post(publish))
        .route("/api/v1/services/items/{id}/versions", get(versions))
        .route("/api/v1/services/items/{id}/history", get(history))
        .route(
            "/api/v1/services/items/{id}/versions/{version}",
            get(version),
        )
        .route("/api/v1/services/bundles", get(bundles).post(create_bundle))
        .route("/api/v1/services/bundles/{id}", get(bundle))
        .route("/api/v1/services/bundles/{id}/apply", post(apply_bundle))
        .route("/api/v1/services/bundle-cases/{number}", get(bundle_case))
        .route(
            "/api/v1/services/bundle-cases/{number}/deliver",
            post(deliver_bundle),
        )
        .route("/api/v1/services/cases", get(list).post(submit))
        .route("/api/v1/services/cases/{id}", get(one))
        .route("/api/v1/services/cases/{id}/timeline", get(timeline))
        .route("/api/v1/services/cases/{id}/actions", post(act))
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
        .route("/api/v1/services/reports", get(report_json))
        .route("/api/v1/services/reports.xlsx", get(report_xlsx))
        .route("/api/v1/services/reports/monthly.docx", get(report_docx))
        .route("/api/v1/services/public/track", post(track))
        .route("/api/v1/services/public/evaluate", post(evaluate_public))
}

#[derive(OpenApi)]
#[openapi(
    paths(search, create_item, item, update_item, publish, versions, history, version, import, export, bundles, create_bundle, bundle,
          apply_bundle, bundle_case, deliver_bundle, list, submit, one, timeline, act, evaluate, codes, rectifications, reply,
          review, feedback_list, feedback, answer, report_json, report_xlsx, report_docx, track, evaluate_public),
    components(schemas(ServiceItem, ItemInput, ItemType, ExerciseLevel, HandlingKind, ApprovalMode, Depth, DeliveryMethod,
                       MaterialForm, FieldKind, ItemStatus, Material, FormField, Scenario, SpecialProcedure, AutoRule, Condition,
                       Test, AutoDecision, Bundle, BundleInput, BundleOrder, BundleView, MergedForm, Savings, BundleStatus,
                       BundleCaseView, BundleCaseRow, NewBundleCase, NewCase, CaseView, Case, CaseStatus, Channel, ApplicantKind,
                       Card, MaterialSource, Applicant, CaseMaterial, Decision, Rejection, Delivery, SpecialRun, Tolerated,
                       SupplementRequest, Action, TimelineEntry, Evaluation, NewEvaluation, Level, Coding, EvalChannel,
                       Rectification, RectificationStatus, RectificationReply, RectificationReview, Feedback, NewFeedback,
                       FeedbackStatus, Tracking, TrackRequest, PublicEvaluation, EvaluateRequest, DeliverRequest, AnswerRequest,
                       LevelCode, Report, ReportRow, GroupBy, ImportReport, ImportedRow, RowError, ItemChange, Page<CaseView>,
                       kernel::deadline::TimeUnit)),
    tags((name = "services", description = "一网通办：事项、一件事、办件、好差评"))
)]
pub struct ServicesApi;

type J<T> = ApiResult<axum::Json<T>>;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// Words to find in the name, codes, department, conditions or materials (all must appear).
    #[serde(default)]
    pub q: String,
}

/// Published items (the public 办事指南), searched in Chinese.
#[utoipa::path(get, path = "/api/v1/services/items", tag = "services", params(SearchQuery), responses((status = 200, body = Vec<ServiceItem>)))]
async fn search(State(ctx): State<AppCtx>, Query(q): Query<SearchQuery>) -> J<Vec<ServiceItem>> {
    Ok(axum::Json(svc(&ctx).search_items(&q.q).await?))
}

/// Creates an item as draft version 1 (the department's approvers, admins).
#[utoipa::path(post, path = "/api/v1/services/items", tag = "services", request_body = ItemInput,
    responses((status = 201, body = ServiceItem), (status = 422, body = webcore::error::Problem)))]
async fn create_item(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(i): Json<ItemInput>,
) -> ApiResult<(StatusCode, axum::Json<ServiceItem>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).create_item(&a, i).await?),
    ))
}

/// The published version of an item.
#[utoipa::path(get, path = "/api/v1/services/items/{id}", tag = "services", params(("id" = i64, Path)),
    responses((status = 200, body = ServiceItem), (status = 404, body = webcore::error::Problem)))]
async fn item(State(ctx): State<AppCtx>, Path(id): Path<i64>) -> J<ServiceItem> {
    Ok(axum::Json(svc(&ctx).published_item(id).await?))
}

/// Edits an item: rewrites its draft, or makes a new draft version when the latest is published.
#[utoipa::path(put, path = "/api/v1/services/items/{id}", tag = "services", params(("id" = i64, Path)), request_body = ItemInput,
    responses((status = 200, body = ServiceItem), (status = 422, body = webcore::error::Problem)))]
async fn update_item(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(i): Json<ItemInput>,
) -> J<ServiceItem> {
    Ok(axum::Json(svc(&ctx).update_item(&a, id, i).await?))
}

/// Publishes the latest draft; the version before is superseded.
#[utoipa::path(post, path = "/api/v1/services/items/{id}/publish", tag = "services", params(("id" = i64, Path)),
    responses((status = 200, body = ServiceItem), (status = 409, body = webcore::error::Problem)))]
async fn publish(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> J<ServiceItem> {
    Ok(axum::Json(svc(&ctx).publish_item(&a, id).await?))
}

/// Every version of an item (staff).
#[utoipa::path(get, path = "/api/v1/services/items/{id}/versions", tag = "services", params(("id" = i64, Path)), responses((status = 200, body = Vec<ServiceItem>)))]
async fn versions(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> J<Vec<ServiceItem>> {
    Ok(axum::Json(svc(&ctx).item_versions(&a, id).await?))
}

/// Who created, edited and published each version, from the audit chain (staff).
#[utoipa::path(get, path = "/api/v1/services/items/{id}/history", tag = "services", params(("id" = i64, Path)), responses((status = 200, body = Vec<ItemChange>)))]
async fn history(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> J<Vec<ItemChange>> {
    Ok(axum::Json(svc(&ctx).item_history(&a, id).await?))
}

/// One version of an item, as a case filed under it saw it.
#[utoipa::path(get, path = "/api/v1/services/items/{id}/versions/{version}", tag = "services", params(("id" = i64, Path), ("version" = i64, Path)),
    responses((status = 200, body = ServiceItem)))]
async fn version(
    State(ctx): State<AppCtx>,
    a: Option<axum::Extension<webcore::Authenticated>>,
    Path((id, v)): Path<(i64, i64)>,
) -> J<ServiceItem> {
    Ok(axum::Json(
        svc(&ctx)
            .item_version(a.as_ref().map(|x| &x.0.actor), id, v)
            .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ImportParams {
    /// The file's name; its extension tells the format (.xlsx, .csv).
    pub filename: String,
    /// Publish every imported item at once.
    #[serde(default)]
    pub publish: bool,
}

/// Imports the 实施清单 from .xlsx sent as the raw body; bad rows are reported by line.
#[utoipa::path(post, path = "/api/v1/services/items/import", tag = "services", params(ImportParams),
    request_body(content = String, content_type = "application/octet-stream"),
    responses((status = 200, body = ImportReport), (status = 422, body = webcore::error::Problem)))]
async fn import(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(p): Query<ImportParams>,
    body: std::result::Result<Bytes, BytesRejection>,
) -> J<ImportReport> {
    a.require_any_role(&[Role::Approver, Role::Admin])?;
    let bytes = body.map_err(|_| Error::BadRequest {
        code: "unreadable_body",
        detail: "无法读取请求体".into(),
        field: None,
    })?;
    let name = p
        .filename
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .to_owned();
    let sheet = tokio::task::spawn_blocking(move || tabular::read_named(&name, &bytes))
        .await
        .map_err(Error::internal)?
        .map_err(|e| Error::field("file", "unreadable_file", e.to_string()))?;
    Ok(axum::Json(
        crate::import::import_items(&svc(&ctx), &a, &sheet, p.publish).await?,
    ))
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

fn attachment(bytes: Vec<u8>, mime: &'static str, ascii: &str, name: &str) -> Response {
    // RFC 5987 so Chinese file names survive.
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// The published 实施清单 as .xlsx, in the import's columns.
#[utoipa::path(get, path = "/api/v1/services/items/export.xlsx", tag = "services", responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>)))]
async fn export(State(ctx): State<AppCtx>, ApiActor(a): ApiActor) -> ApiResult<Response> {
    if !a.roles.iter().any(|r| *r != Role::Citizen) {
        return Err(Error::forbidden("仅工作人员可以导出").into());
    }
    let bytes = crate::import::export_items(&svc(&ctx)).await?;
    Ok(attachment(bytes, XLSX, "items.xlsx", "实施清单.xlsx"))
}

/// 一件事 bundles.
#[utoipa::path(get, path = "/api/v1/services/bundles", tag = "services", responses((status = 200, body = Vec<Bundle>)))]
async fn bundles(State(ctx): State<AppCtx>) -> J<Vec<Bundle>> {
    Ok(axum::Json(svc(&ctx).bundles().await?))
}

/// Creates a bundle of published items (admins).
#[utoipa::path(post, path = "/api/v1/services/bundles", tag = "services", request_body = BundleInput,
    responses((status = 201, body = BundleView), (status = 422, body = webcore::error::Problem)))]
async fn create_bundle(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(b): Json<BundleInput>,
) -> ApiResult<(StatusCode, axum::Json<BundleView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).create_bundle(&a, b).await?),
    ))
}

/// A bundle with its merged form, materials and what it saves.
#[utoipa::path(get, path = "/api/v1/services/bundles/{id}", tag = "services", params(("id" = i64, Path)), responses((status = 200, body = BundleView)))]
async fn bundle(State(ctx): State<AppCtx>, Path(id): Path<i64>) -> J<BundleView> {
    Ok(axum::Json(svc(&ctx).bundle(id).await?))
}

/// Applies for a bundle: one submission opens a sub-case in each department.
#[utoipa::path(post, path = "/api/v1/services/bundles/{id}/apply", tag = "services", params(("id" = i64, Path)), request_body = NewBundleCase,
    responses((status = 201, body = BundleCaseView), (status = 422, body = webcore::error::Problem)))]
async fn apply_bundle(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(b): Json<NewBundleCase>,
) -> ApiResult<(StatusCode, axum::Json<BundleCaseView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).submit_bundle(&a, id, b).await?),
    ))
}

/// A bundle application with one status and its sub-cases.
#[utoipa::path(get, path = "/api/v1/services/bundle-cases/{number}", tag = "services", params(("number" = String, Path)), responses((status = 200, body = BundleCaseView)))]
async fn bundle_case(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(n): Path<String>,
) -> J<BundleCaseView> {
    Ok(axum::Json(svc(&ctx).bundle_case(&a, &n).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliverRequest {
    pub method: DeliveryMethod,
    #[serde(default)]
    pub detail: String,
}

/// 综合窗口出件: one result for the whole bundle.
#[utoipa::path(post, path = "/api/v1/services/bundle-cases/{number}/deliver", tag = "services", params(("number" = String, Path)), request_body = DeliverRequest,
    responses((status = 200, body = BundleCaseView), (status = 409, body = webcore::error::Problem)))]
async fn deliver_bundle(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(n): Path<String>,
    Json(d): Json<DeliverRequest>,
) -> J<BundleCaseView> {
    Ok(axum::Json(
        svc(&ctx)
            .deliver_bundle(&a, &n, d.method, &d.detail)
            .await?,
    ))
}

/// Cases in the caller's scope: the department inbox, the applicant's own, overdue lists.
#[utoipa::path(get, path = "/api/v1/services/cases", tag = "services", params(CaseQuery, PageQuery), responses((status = 200, body = Page<CaseView>)))]
async fn list(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<CaseQuery>,
    Query(p): Query<PageQuery>,
) -> J<Page<CaseView>> {
    Ok(axum::Json(svc(&ctx).list(&a, &q, &p).await?))
}

/// Files an application (online by the applicant, at the window by a clerk).
#[utoipa::path(post, path = "/api/v1/services/cases", tag = "services", request_body = NewCase,
    responses((status = 201, body = CaseView), (status = 422, body = webcore::error::Problem)))]
async fn submit(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(c): Json<NewCase>,
) -> ApiResult<(StatusCode, axum::Json<CaseView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).submit(&a, c).await?),
    ))
}

/// One case.
#[utoipa::path(get, path = "/api/v1/services/cases/{id}", tag = "services", params(("id" = i64, Path)), responses((status = 200, body = CaseView)))]
async fn one(State(ctx): State<AppCtx>, ApiActor(a): ApiActor, Path(id): Path<i64>) -> J<CaseView> {
    Ok(axum::Json(svc(&ctx).get(&a, id).await?))
}

/// The case's timeline, oldest first.
#[utoipa::path(get, path = "/api/v1/services/cases/{id}/timeline", tag = "services", params(("id" = i64, Path)), responses((status = 200, body = Vec<TimelineEntry>)))]
async fn timeline(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> J<Vec<TimelineEntry>> {
    Ok(axum::Json(svc(&ctx).timeline(&a, id).await?))
}

/// Applies an action: precheck, accept (容缺 with tolerated materials and days), reject,
/// request_supplement, supply, supply_tolerated, start_special, end_special, decide, close,
/// deliver, withdraw. Illegal transitions answer 409 `illegal_transition`.
#[utoipa::path(post, path = "/api/v1/services/cases/{id}/actions", tag = "services", params(("id" = i64, Path)), request_body = Action,
    responses((status = 200, body = CaseView), (status = 409, body = webcore::error::Problem), (status = 422, body = webcore::error::Problem)))]
async fn act(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(x): Json<Action>,
) -> J<CaseView> {
    Ok(axum::Json(svc(&ctx).act(&a, id, x).await?))
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
async fn evaluate(
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
async fn codes(Query(q): Query<CodingQuery>) -> J<Vec<LevelCode>> {
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
async fn rectifications(State(ctx): State<AppCtx>, ApiActor(a): ApiActor) -> J<Vec<Rectification>> {
    Ok(axum::Json(svc(&ctx).rectifications(&a).await?))
}

/// The department's reply to the citizen and what it changed.
#[utoipa::path(post, path = "/api/v1/services/rectifications/{id}/reply", tag = "services", params(("id" = i64, Path)), request_body = RectificationReply,
    responses((status = 200, body = Rectification)))]
async fn reply(
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
async fn review(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(r): Json<RectificationReview>,
) -> J<Rectification> {
    Ok(axum::Json(svc(&ctx).review_rectification(&a, id, r).await?))
}

/// 办不成事反映 received (supervisors).
#[utoipa::path(get, path = "/api/v1/services/feedback", tag = "services", responses((status = 200, body = Vec<Feedback>)))]
async fn feedback_list(State(ctx): State<AppCtx>, ApiActor(a): ApiActor) -> J<Vec<Feedback>> {
    Ok(axum::Json(svc(&ctx).feedback_list(&a).await?))
}

/// 办不成事反映: anyone, no account needed.
#[utoipa::path(post, path = "/api/v1/services/feedback", tag = "services", request_body = NewFeedback,
    responses((status = 201, body = Feedback), (status = 422, body = webcore::error::Problem)))]
async fn feedback(
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
async fn answer(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(r): Json<AnswerRequest>,
) -> J<Feedback> {
    Ok(axum::Json(
        svc(&ctx).answer_feedback(&a, id, &r.answer).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReportQuery {
    /// `2026-03` (a month) or `2026` (a year); or give `from` and `to` instead.
    #[serde(default)]
    pub period: Option<String>,
    /// First day of a custom period, `2026-03-01`.
    #[serde(default)]
    pub from: Option<String>,
    /// Last day of a custom period (included), `2026-03-15`.
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub group_by: GroupBy,
}

impl ReportQuery {
    /// The period asked for, as [from, to) and its label.
    pub fn resolve(&self) -> kernel::Result<(i64, i64, String)> {
        fn given(o: &Option<String>) -> Option<&str> {
            o.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        match (given(&self.from), given(&self.to), given(&self.period)) {
            (None, None, Some(p)) => {
                let (a, b) = crate::report::period(p)?;
                Ok((a, b, p.to_owned()))
            }
            (None, None, None) => Err(Error::field(
                "period",
                "required",
                "请填写统计周期（如 2026-03），或起止日期",
            )),
            (f, t, _) => crate::report::custom_period(f.unwrap_or(""), t.unwrap_or("")),
        }
    }
}

/// The report a query asks for.
pub async fn report_for(
    s: &ServicesService,
    actor: &kernel::Actor,
    q: &ReportQuery,
    group_by: GroupBy,
) -> kernel::Result<Report> {
    let (from, to, label) = q.resolve()?;
    s.report_between(actor, from, to, &label, group_by).await
}

/// Figures per department, region or item.
#[utoipa::path(get, path = "/api/v1/services/reports", tag = "services", params(ReportQuery),
    responses((status = 200, body = Report), (status = 422, body = webcore::error::Problem)))]
async fn report_json(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<ReportQuery>,
) -> J<Report> {
    Ok(axum::Json(
        report_for(&svc(&ctx), &a, &q, q.group_by).await?,
    ))
}

/// The same figures as .xlsx.
#[utoipa::path(get, path = "/api/v1/services/reports.xlsx", tag = "services", params(ReportQuery), responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>)))]
async fn report_xlsx(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Response> {
    let r = report_for(&svc(&ctx), &a, &q, q.group_by).await?;
    let name = format!("政务服务统计-{}.xlsx", r.period);
    Ok(attachment(
        crate::report::to_xlsx(&r)?,
        XLSX,
        "services-report.xlsx",
        &name,
    ))
}

/// The monthly 政务服务运行情况 report as .docx.
#[utoipa::path(get, path = "/api/v1/services/reports/monthly.docx", tag = "services", params(ReportQuery), responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>)))]
async fn report_docx(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Response> {
    let r = report_for(&svc(&ctx), &a, &q, GroupBy::Dept).await?;
    let name = format!("政务服务运行情况-{}.docx", r.period);
    Ok(attachment(
        crate::report::to_docx(&r, &ctx.config.city.name)?,
        DOCX,
        "services-monthly.docx",
        &name,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackRequest {
    pub number: String,
    pub phone: String,
}

/// Tracking by number and phone, no account needed.
#[utoipa::path(post, path = "/api/v1/services/public/track", tag = "services", request_body = TrackRequest,
    responses((status = 200, body = Tracking), (status = 404, body = webcore::error::Problem)))]
async fn track(State(ctx): State<AppCtx>, Json(r): Json<TrackRequest>) -> J<Tracking> {
    Ok(axum::Json(svc(&ctx).track(&r.number, &r.phone).await?))
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
async fn evaluate_public(
    State(ctx): State<AppCtx>,
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
