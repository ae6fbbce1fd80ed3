//! `/api/v1/hotline/tickets/{id}/attachments` and `/api/v1/hotline/attachments/{id}`.

use super::domain::{Attachment, MAX_BYTES};
use super::service::{add, fetch, list};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use utoipa::OpenApi;
use webcore::{ApiActor, ApiResult, AppCtx, Path, Query};

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route(
            "/api/v1/hotline/tickets/{id}/attachments",
            get(api_list)
                .post(api_upload)
                .layer(DefaultBodyLimit::max(MAX_BYTES + 64 * 1024)),
        )
        .route("/api/v1/hotline/attachments/{id}", get(api_download))
}

#[derive(OpenApi)]
#[openapi(
    paths(api_list, api_upload, api_download),
    components(schemas(Attachment))
)]
pub struct AttachmentApi;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// The file name with its extension, e.g. `现场照片.jpg`.
    pub name: String,
}

/// A ticket's attachments.
#[utoipa::path(get, path = "/api/v1/hotline/tickets/{id}/attachments", tag = "hotline", params(("id" = i64, Path)), responses((status = 200, body = Vec<Attachment>)))]
async fn api_list(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Vec<Attachment>>> {
    Ok(axum::Json(list(&crate::http::svc(&ctx), &a, id).await?))
}

/// Uploads an attachment: the file as the raw request body, its name in `?name=`. Up to 10 MB;
/// jpg, png, gif, pdf, docx, xlsx, mp3, wav, amr, mp4, checked by content.
#[utoipa::path(post, path = "/api/v1/hotline/tickets/{id}/attachments", tag = "hotline", params(("id" = i64, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Attachment), (status = 422, body = webcore::error::Problem)))]
async fn api_upload(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Query(q): Query<UploadQuery>,
    body: Bytes,
) -> ApiResult<(StatusCode, axum::Json<Attachment>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(add(&crate::http::svc(&ctx), &a, id, &q.name, &body).await?),
    ))
}

/// Downloads an attachment.
#[utoipa::path(get, path = "/api/v1/hotline/attachments/{id}", tag = "hotline", params(("id" = i64, Path)), responses((status = 200, description = "the file")))]
async fn api_download(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let (att, data) = fetch(&crate::http::svc(&ctx), &a, id).await?;
    let disposition = webcore::download::content_disposition(&att.name, "attachment");
    Ok((
        [
            (header::CONTENT_TYPE, att.mime),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
        ],
        data,
    )
        .into_response())
}
