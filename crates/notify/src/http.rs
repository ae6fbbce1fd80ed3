//! The JSON API: the inbox, webhooks, templates, settings and the logging sender's record.
//! The paths stay under `/api/v1/hotline/…`, where the hotline first served them.

use crate::domain::*;
use crate::service::NotifyService;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::Router;
use kernel::page::{Page, PageQuery};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::{OpenApi, ToSchema};
use webcore::{ApiActor, ApiResult, AppCtx, Json, Path, Query};

pub fn svc(ctx: &AppCtx) -> NotifyService {
    NotifyService::new(ctx.db.clone())
}

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/hotline/notifications", get(inbox))
        .route("/api/v1/hotline/notifications/read-all", post(read_all))
        .route("/api/v1/hotline/notifications/{id}/read", post(read_one))
        .route(
            "/api/v1/hotline/webhooks",
            get(webhooks).post(create_webhook),
        )
        .route(
            "/api/v1/hotline/webhooks/{id}",
            get(webhook).put(update_webhook).delete(delete_webhook),
        )
        .route("/api/v1/hotline/webhooks/{id}/deliveries", get(deliveries))
        .route("/api/v1/hotline/notification-templates", get(templates))
        .route(
            "/api/v1/hotline/notification-templates/{event}/{channel}",
            put(update_template),
        )
        .route(
            "/api/v1/hotline/notification-settings",
            get(settings).put(update_settings),
        )
        .route("/api/v1/hotline/outbound-messages", get(outbound))
}

#[derive(OpenApi)]
#[openapi(
    paths(inbox, read_one, read_all, webhooks, create_webhook, webhook, update_webhook, delete_webhook, deliveries,
          templates, update_template, settings, update_settings, outbound),
    components(schemas(Inbox, Notification, ReadAll, Webhook, WebhookInput, Delivery, DeliveryAttempt, NotifyTemplate,
                       TemplateInput, OutboundRecord, Page<Delivery>, Page<OutboundRecord>)),
    tags((name = "hotline-notify", description = "通知：站内通知、Webhook、短信与邮件、通知模板（热线、政务服务）"))
)]
pub struct NotifyApi;

#[derive(Serialize, ToSchema)]
pub struct ReadAll {
    /// How many notifications were unread.
    pub marked: u64,
}

/// The caller's notifications: their roles' inboxes in their department or region, newest first,
/// with the unread count.
#[utoipa::path(get, path = "/api/v1/hotline/notifications", tag = "hotline-notify", params(InboxQuery, PageQuery),
    responses((status = 200, body = Inbox)))]
async fn inbox(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<InboxQuery>,
    Query(p): Query<PageQuery>,
) -> ApiResult<axum::Json<Inbox>> {
    Ok(axum::Json(svc(&ctx).inbox(&a, &q, &p).await?))
}

/// Marks one notification read for the caller.
#[utoipa::path(post, path = "/api/v1/hotline/notifications/{id}/read", tag = "hotline-notify", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = webcore::error::Problem)))]
async fn read_one(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    svc(&ctx).mark_read(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Marks every notification in the caller's inboxes read.
#[utoipa::path(post, path = "/api/v1/hotline/notifications/read-all", tag = "hotline-notify",
    responses((status = 200, body = ReadAll)))]
async fn read_all(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> ApiResult<axum::Json<ReadAll>> {
    Ok(axum::Json(ReadAll {
        marked: svc(&ctx).mark_all_read(&a).await?,
    }))
}

/// Registered webhooks (admins). Secrets are never returned.
#[utoipa::path(get, path = "/api/v1/hotline/webhooks", tag = "hotline-notify",
    responses((status = 200, body = Vec<Webhook>), (status = 403, body = webcore::error::Problem)))]
async fn webhooks(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> ApiResult<axum::Json<Vec<Webhook>>> {
    Ok(axum::Json(svc(&ctx).webhooks(&a).await?))
}

/// Registers a webhook (admins). Each delivery is a POST of JSON with `X-Yiwang-Event`,
/// `X-Yiwang-Delivery`, `X-Yiwang-Signature: sha256=<hex HMAC-SHA256 of the body>` and
/// `X-Yiwang-Signature-SM3: sm3=<hex HMAC-SM3 of the body>`; a non-2xx answer is retried after
/// 1, 2, 4 … minutes.
#[utoipa::path(post, path = "/api/v1/hotline/webhooks", tag = "hotline-notify", request_body = WebhookInput,
    responses((status = 201, body = Webhook), (status = 422, body = webcore::error::Problem)))]
async fn create_webhook(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(w): Json<WebhookInput>,
) -> ApiResult<(StatusCode, axum::Json<Webhook>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).create_webhook(&a, w).await?),
    ))
}

/// One webhook (admins).
#[utoipa::path(get, path = "/api/v1/hotline/webhooks/{id}", tag = "hotline-notify", params(("id" = i64, Path)),
    responses((status = 200, body = Webhook), (status = 404, body = webcore::error::Problem)))]
async fn webhook(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Webhook>> {
    Ok(axum::Json(svc(&ctx).webhook(&a, id).await?))
}

/// Changes a webhook (admins); without `secret` the old secret is kept.
#[utoipa::path(put, path = "/api/v1/hotline/webhooks/{id}", tag = "hotline-notify", params(("id" = i64, Path)),
    request_body = WebhookInput, responses((status = 200, body = Webhook), (status = 422, body = webcore::error::Problem)))]
async fn update_webhook(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(w): Json<WebhookInput>,
) -> ApiResult<axum::Json<Webhook>> {
    Ok(axum::Json(svc(&ctx).update_webhook(&a, id, w).await?))
}

/// Deletes a webhook (admins): pending deliveries are cancelled, the delivery log is kept.
#[utoipa::path(delete, path = "/api/v1/hotline/webhooks/{id}", tag = "hotline-notify", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = webcore::error::Problem)))]
async fn delete_webhook(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    svc(&ctx).delete_webhook(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A webhook's deliveries with every attempt: time, status code, error, duration (admins).
#[utoipa::path(get, path = "/api/v1/hotline/webhooks/{id}/deliveries", tag = "hotline-notify",
    params(("id" = i64, Path), PageQuery), responses((status = 200, body = Page<Delivery>)))]
async fn deliveries(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Query(p): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<Delivery>>> {
    Ok(axum::Json(svc(&ctx).deliveries(&a, id, &p).await?))
}

/// Notification templates per event and channel (admins). Placeholders: {编号} {标题} {单位}
/// {时限} {签收时限} {状态} {答复}.
#[utoipa::path(get, path = "/api/v1/hotline/notification-templates", tag = "hotline-notify",
    responses((status = 200, body = Vec<NotifyTemplate>)))]
async fn templates(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> ApiResult<axum::Json<Vec<NotifyTemplate>>> {
    Ok(axum::Json(svc(&ctx).templates(&a).await?))
}

/// Edits a template (admins); used from the next event on.
#[utoipa::path(put, path = "/api/v1/hotline/notification-templates/{event}/{channel}", tag = "hotline-notify",
    params(("event" = String, Path, description = "e.g. ticket.dispatched"), ("channel" = String, Path, description = "inapp, sms or email")),
    request_body = TemplateInput,
    responses((status = 200, body = NotifyTemplate), (status = 404, body = webcore::error::Problem), (status = 422, body = webcore::error::Problem)))]
async fn update_template(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path((event, channel)): Path<(String, String)>,
    Json(t): Json<TemplateInput>,
) -> ApiResult<axum::Json<NotifyTemplate>> {
    Ok(axum::Json(
        svc(&ctx).update_template(&a, &event, &channel, t).await?,
    ))
}

/// Sender settings (admins): `email.sender` (log|smtp), `smtp.host`, `smtp.port`, `smtp.tls`
/// (none|starttls|tls), `smtp.username`, `smtp.password` (shown as ******), `smtp.from`,
/// `delivery.max_attempts`, `dept_email.<部门 id>`.
#[utoipa::path(get, path = "/api/v1/hotline/notification-settings", tag = "hotline-notify",
    responses((status = 200, body = BTreeMap<String, String>)))]
async fn settings(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> ApiResult<axum::Json<BTreeMap<String, String>>> {
    Ok(axum::Json(svc(&ctx).settings(&a).await?))
}

/// Sets sender settings (admins); an empty value removes a key.
#[utoipa::path(put, path = "/api/v1/hotline/notification-settings", tag = "hotline-notify",
    request_body = BTreeMap<String, String>,
    responses((status = 200, body = BTreeMap<String, String>), (status = 422, body = webcore::error::Problem)))]
async fn update_settings(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(s): Json<BTreeMap<String, String>>,
) -> ApiResult<axum::Json<BTreeMap<String, String>>> {
    Ok(axum::Json(svc(&ctx).update_settings(&a, s).await?))
}

/// SMS and e-mail the logging sender recorded instead of sending (operators, dispatchers,
/// supervisors, admins).
#[utoipa::path(get, path = "/api/v1/hotline/outbound-messages", tag = "hotline-notify", params(PageQuery),
    responses((status = 200, body = Page<OutboundRecord>)))]
async fn outbound(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(p): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<OutboundRecord>>> {
    Ok(axum::Json(svc(&ctx).outbound_messages(&a, &p).await?))
}
