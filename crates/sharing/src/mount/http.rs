//! JSON API of 挂接: mount, upload, push, list.

use super::domain::LoadReport;
use super::service::ResourceView;
use crate::http::{svc, J};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use kernel::Error;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use webcore::{ApiActor, ApiResult, AppCtx, Json, Path, Query};

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/sharing/catalog/{id}/resources", post(mount))
        .route("/api/v1/sharing/resources", get(list))
        .route("/api/v1/sharing/resources/{code}", get(one))
        .route("/api/v1/sharing/resources/{code}/rows", post(push))
        .route("/api/v1/sharing/resources/{code}/upload", post(upload))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MountInput {
    /// Defaults to the entry's name.
    #[serde(default)]
    pub name: String,
    /// `full` (default) or `metadata`.
    #[serde(default = "full")]
    pub log_mode: String,
}

fn full() -> String {
    "full".into()
}

/// Mounts a table for a published entry (its 信息项 become the columns).
#[utoipa::path(post, path = "/api/v1/sharing/catalog/{id}/resources", tag = "sharing", params(("id" = i64, Path)), request_body = MountInput,
    responses((status = 201, body = ResourceView), (status = 409, body = webcore::error::Problem)))]
pub(crate) async fn mount(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Json(m): Json<MountInput>,
) -> ApiResult<(StatusCode, axum::Json<ResourceView>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc(&ctx).mount_table(&a, id, &m.name, &m.log_mode).await?),
    ))
}

/// Every mounted resource, with its last update and whether it is overdue (更新率).
#[utoipa::path(get, path = "/api/v1/sharing/resources", tag = "sharing", responses((status = 200, body = Vec<ResourceView>)))]
pub(crate) async fn list(
    State(ctx): State<AppCtx>,
    ApiActor(_a): ApiActor,
) -> J<Vec<ResourceView>> {
    Ok(axum::Json(svc(&ctx).resources(None).await?))
}

/// One resource.
#[utoipa::path(get, path = "/api/v1/sharing/resources/{code}", tag = "sharing", params(("code" = String, Path)), responses((status = 200, body = ResourceView)))]
pub(crate) async fn one(
    State(ctx): State<AppCtx>,
    ApiActor(_a): ApiActor,
    Path(code): Path<String>,
) -> J<ResourceView> {
    Ok(axum::Json(svc(&ctx).resource(&code).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushInput {
    /// Objects keyed by 英文字段名.
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<Map<String, Value>>,
}

/// Rows pushed by the provider's system; bad rows named by position and field, good rows kept.
#[utoipa::path(post, path = "/api/v1/sharing/resources/{code}/rows", tag = "sharing", params(("code" = String, Path)), request_body = PushInput,
    responses((status = 200, body = LoadReport), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn push(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(code): Path<String>,
    Json(p): Json<PushInput>,
) -> J<LoadReport> {
    Ok(axum::Json(svc(&ctx).push_rows(&a, &code, p.rows).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct UploadParams {
    /// The file's name; its extension tells the format (.xlsx, .csv).
    filename: String,
}

/// Loads a .csv/.xlsx sent as the raw body; bad rows named by line and column, good rows kept.
#[utoipa::path(post, path = "/api/v1/sharing/resources/{code}/upload", tag = "sharing", params(("code" = String, Path), UploadParams),
    request_body(content = String, content_type = "application/octet-stream"),
    responses((status = 200, body = LoadReport), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn upload(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(code): Path<String>,
    Query(p): Query<UploadParams>,
    body: std::result::Result<Bytes, BytesRejection>,
) -> J<LoadReport> {
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
    Ok(axum::Json(
        svc(&ctx).load_file(&a, &code, &name, &bytes).await?,
    ))
}
