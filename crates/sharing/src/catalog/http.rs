//! JSON API of the catalog (政务信息资源目录).

use super::domain::*;
use super::service::{EntryLine, EntryView};
use crate::http::{svc, J};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::Router;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use webcore::{ApiActor, ApiResult, AppCtx, Json, Path, Query};

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/sharing/catalog", get(list).post(create))
        .route("/api/v1/sharing/catalog/{id}", get(one))
        .route("/api/v1/sharing/catalog.xlsx", get(export))
        .route("/api/v1/sharing/catalog/import", post(import))
        .route("/api/v1/sharing/catalog/{id}/versions", post(new_version))
        .route("/api/v1/sharing/catalog/{id}/versions/{v}", put(update))
        .route(
            "/api/v1/sharing/catalog/{id}/versions/{v}/submit",
            post(submit),
        )
        .route(
            "/api/v1/sharing/catalog/{id}/versions/{v}/review",
            post(review),
        )
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// Chinese full-text search over published entries.
    q: Option<String>,
}

/// The published catalog, or the published entries matching `q`.
#[utoipa::path(get, path = "/api/v1/sharing/catalog", tag = "sharing", params(ListQuery), responses((status = 200, body = Vec<EntryLine>)))]
pub(crate) async fn list(
    State(ctx): State<AppCtx>,
    ApiActor(_a): ApiActor,
    Query(q): Query<ListQuery>,
) -> J<Vec<EntryLine>> {
    let s = svc(&ctx);
    Ok(axum::Json(
        match q.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            Some(q) => s.search_entries(q).await?,
            None => s.published_entries().await?,
        },
    ))
}

/// Creates an entry (编目) with its first draft.
#[utoipa::path(post, path = "/api/v1/sharing/catalog", tag = "sharing", request_body = NewEntry,
    responses((status = 201, body = EntryView), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn create(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(e): Json<NewEntry>,
) -> ApiResult<(StatusCode, axum::Json<EntryView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).create_entry(&a, e).await?),
    ))
}

/// An entry with its versions.
#[utoipa::path(get, path = "/api/v1/sharing/catalog/{id}", tag = "sharing", params(("id" = i64, Path)), responses((status = 200, body = EntryView)))]
pub(crate) async fn one(
    State(ctx): State<AppCtx>,
    ApiActor(_a): ApiActor,
    Path(id): Path<i64>,
) -> J<EntryView> {
    Ok(axum::Json(svc(&ctx).entry(id).await?))
}

/// Changes a draft or returned version.
#[utoipa::path(put, path = "/api/v1/sharing/catalog/{id}/versions/{v}", tag = "sharing", params(("id" = i64, Path), ("v" = i64, Path)),
    request_body = EntryContent, responses((status = 200, body = EntryView), (status = 409, body = webcore::error::Problem)))]
pub(crate) async fn update(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path((id, v)): Path<(i64, i64)>,
    Json(c): Json<EntryContent>,
) -> J<EntryView> {
    Ok(axum::Json(svc(&ctx).update_entry(&a, id, v, c).await?))
}

/// Submits a version for the bureau's review.
#[utoipa::path(post, path = "/api/v1/sharing/catalog/{id}/versions/{v}/submit", tag = "sharing", params(("id" = i64, Path), ("v" = i64, Path)),
    responses((status = 200, body = EntryView), (status = 409, body = webcore::error::Problem)))]
pub(crate) async fn submit(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path((id, v)): Path<(i64, i64)>,
) -> J<EntryView> {
    Ok(axum::Json(svc(&ctx).submit_entry(&a, id, v).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// true publishes, false returns.
    pub publish: bool,
    /// Required to return.
    #[serde(default)]
    pub reason: String,
}

/// The bureau publishes or returns a submitted version.
#[utoipa::path(post, path = "/api/v1/sharing/catalog/{id}/versions/{v}/review", tag = "sharing", params(("id" = i64, Path), ("v" = i64, Path)),
    request_body = ReviewInput, responses((status = 200, body = EntryView), (status = 403, body = webcore::error::Problem), (status = 409, body = webcore::error::Problem)))]
pub(crate) async fn review(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path((id, v)): Path<(i64, i64)>,
    Json(r): Json<ReviewInput>,
) -> J<EntryView> {
    Ok(axum::Json(
        svc(&ctx)
            .review_entry(&a, id, v, r.publish, &r.reason)
            .await?,
    ))
}

/// A new draft version copied from the latest published one.
#[utoipa::path(post, path = "/api/v1/sharing/catalog/{id}/versions", tag = "sharing", params(("id" = i64, Path)),
    responses((status = 201, body = EntryView), (status = 409, body = webcore::error::Problem)))]
pub(crate) async fn new_version(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<(StatusCode, axum::Json<EntryView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).new_entry_version(&a, id).await?),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportQuery {
    /// `true`: a blank workbook to fill in.
    #[serde(default)]
    template: bool,
}

/// The catalog as a workbook (sheets 目录, 信息项, 填写说明): published entries and the reader's
/// department's unpublished ones; `template=true` gives a blank one.
#[utoipa::path(get, path = "/api/v1/sharing/catalog.xlsx", tag = "sharing", params(ExportQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
pub(crate) async fn export(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<ExportQuery>,
) -> ApiResult<axum::response::Response> {
    let bytes = svc(&ctx).export_catalog(&a, q.template).await?;
    Ok(webcore::download::attachment(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "sharing-catalog.xlsx",
        "政务信息资源目录.xlsx",
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportParams {
    /// The file's name (.xlsx).
    filename: String,
}

/// Imports a filled workbook (the raw body) as drafts of the caller's department: good entries
/// made, every bad one reported by sheet, line and column and left out whole.
#[utoipa::path(post, path = "/api/v1/sharing/catalog/import", tag = "sharing", params(ImportParams),
    request_body(content = String, content_type = "application/octet-stream"),
    responses((status = 200, body = super::service::CatalogImport), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn import(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(p): Query<ImportParams>,
    body: std::result::Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> J<super::service::CatalogImport> {
    let bytes = body.map_err(|_| kernel::Error::BadRequest {
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
    Ok(axum::Json(
        svc(&ctx).import_catalog(&a, &name, bytes.to_vec()).await?,
    ))
}
