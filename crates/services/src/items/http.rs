//! JSON API of items: search, maintenance, versions, 实施清单 import/export.

use crate::domain::*;
use crate::http::{attachment, svc, J, XLSX};
use crate::items::import::ImportReport;
use crate::service::*;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use kernel::error::Error;
use kernel::Role;
use serde::Deserialize;
use webcore::{ApiActor, ApiResult, AppCtx, Json, Path, Query};

pub(crate) fn routes() -> Router<AppCtx> {
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
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// Words to find in the name, codes, department, conditions or materials (all must appear).
    #[serde(default)]
    pub q: String,
}

/// Published items (the public 办事指南), searched in Chinese.
#[utoipa::path(get, path = "/api/v1/services/items", tag = "services", params(SearchQuery), responses((status = 200, body = Vec<ServiceItem>)))]
pub(crate) async fn search(
    State(ctx): State<AppCtx>,
    Query(q): Query<SearchQuery>,
) -> J<Vec<ServiceItem>> {
    Ok(axum::Json(svc(&ctx).search_items(&q.q).await?))
}

/// Creates an item as draft version 1 (the department's approvers, admins).
#[utoipa::path(post, path = "/api/v1/services/items", tag = "services", request_body = ItemInput,
    responses((status = 201, body = ServiceItem), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn create_item(
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
pub(crate) async fn item(State(ctx): State<AppCtx>, Path(id): Path<i64>) -> J<ServiceItem> {
    Ok(axum::Json(svc(&ctx).published_item(id).await?))
}

/// Edits an item: rewrites its draft, or makes a new draft version when the latest is published.
#[utoipa::path(put, path = "/api/v1/services/items/{id}", tag = "services", params(("id" = i64, Path)), request_body = ItemInput,
    responses((status = 200, body = ServiceItem), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn update_item(
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
pub(crate) async fn publish(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> J<ServiceItem> {
    Ok(axum::Json(svc(&ctx).publish_item(&a, id).await?))
}

/// Every version of an item (staff).
#[utoipa::path(get, path = "/api/v1/services/items/{id}/versions", tag = "services", params(("id" = i64, Path)), responses((status = 200, body = Vec<ServiceItem>)))]
pub(crate) async fn versions(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> J<Vec<ServiceItem>> {
    Ok(axum::Json(svc(&ctx).item_versions(&a, id).await?))
}

/// Who created, edited and published each version, from the audit chain (staff).
#[utoipa::path(get, path = "/api/v1/services/items/{id}/history", tag = "services", params(("id" = i64, Path)), responses((status = 200, body = Vec<ItemChange>)))]
pub(crate) async fn history(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> J<Vec<ItemChange>> {
    Ok(axum::Json(svc(&ctx).item_history(&a, id).await?))
}

/// One version of an item, as a case filed under it saw it.
#[utoipa::path(get, path = "/api/v1/services/items/{id}/versions/{version}", tag = "services", params(("id" = i64, Path), ("version" = i64, Path)),
    responses((status = 200, body = ServiceItem)))]
pub(crate) async fn version(
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
pub(crate) async fn import(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(p): Query<ImportParams>,
    body: std::result::Result<Bytes, BytesRejection>,
) -> J<ImportReport> {
    a.require_any_role(<crate::service::MaintainItems as kernel::auth::Permission>::ROLES)?;
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

/// The published 实施清单 as .xlsx, in the import's columns.
#[utoipa::path(get, path = "/api/v1/services/items/export.xlsx", tag = "services", responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>)))]
pub(crate) async fn export(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> ApiResult<Response> {
    if !a.roles.iter().any(|r| *r != Role::Citizen) {
        return Err(Error::forbidden("仅工作人员可以导出").into());
    }
    let bytes = crate::import::export_items(&svc(&ctx)).await?;
    Ok(attachment(bytes, XLSX, "items.xlsx", "实施清单.xlsx"))
}
