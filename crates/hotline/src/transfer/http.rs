//! `POST /api/v1/hotline/import` (historical tickets from a CSV or Excel file, admins) and
//! `GET /api/v1/hotline/tickets.xlsx` (the ticket list as a workbook).

use super::export::export_tickets;
use super::import::{import_tickets, ImportReport, RowError, MAX_UPLOAD_BYTES};
use crate::service::TicketQuery;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use kernel::error::Error;
use kernel::Role;
use serde::Deserialize;
use utoipa::OpenApi;
use webcore::{ApiActor, ApiResult, AppCtx, Query};

pub use webcore::download::{content_disposition, XLSX as XLSX_TYPE};

pub fn routes() -> Router<AppCtx> {
    Router::new().merge(import_routes()).merge(export_routes())
}

fn import_routes() -> Router<AppCtx> {
    Router::new().route(
        "/api/v1/hotline/import",
        // Files are bigger than the API's default body limit (2 MiB); the shared files reach 6 MiB.
        post(import).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
    )
}

#[derive(OpenApi)]
#[openapi(
    paths(import),
    components(schemas(ImportReport, RowError)),
    tags((name = "hotline", description = "12345 热线工单"))
)]
pub struct ImportApi;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ImportParams {
    /// The uploaded file's name; its extension (.csv, .xlsx, .xls) tells the format.
    pub filename: String,
}

/// Imports historical tickets (留言) from a CSV or Excel file sent as the raw request body
/// (admins). Answers what was imported, updated, unchanged or skipped, with reasons by line.
#[utoipa::path(post, path = "/api/v1/hotline/import", tag = "hotline", params(ImportParams),
    request_body(content = String, content_type = "application/octet-stream", description = "文件内容：CSV 或 .xlsx 工作簿"),
    responses((status = 200, body = ImportReport), (status = 403, body = webcore::error::Problem),
              (status = 413, body = webcore::error::Problem), (status = 422, body = webcore::error::Problem)))]
async fn import(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(p): Query<ImportParams>,
    body: std::result::Result<Bytes, BytesRejection>,
) -> ApiResult<axum::Json<ImportReport>> {
    a.require_any_role(&[Role::SysAdmin])?;
    a.require_scope("hotline:write")?;
    let bytes = body.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            Error::PayloadTooLarge {
                limit: MAX_UPLOAD_BYTES,
            }
        } else {
            Error::BadRequest {
                code: "unreadable_body",
                detail: "无法读取请求体".into(),
                field: None,
            }
        }
    })?;
    // Only the base name: it is shown in timelines and the audit.
    let name: String = p
        .filename
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .take(100)
        .collect();
    let parse_name = name.clone();
    // Parsing a workbook is CPU work; keep it off the async threads.
    let sheet = tokio::task::spawn_blocking(move || tabular::read_named(&parse_name, &bytes))
        .await
        .map_err(Error::internal)?
        .map_err(|e| Error::field("file", "unreadable_file", e.to_string()))?;
    let svc = crate::http::svc(&ctx);
    let report = import_tickets(&svc, &a, &sheet, &name, &mut |_, _| {}).await?;
    Ok(axum::Json(report))
}

fn export_routes() -> Router<AppCtx> {
    Router::new().route("/api/v1/hotline/tickets.xlsx", get(export))
}

#[derive(OpenApi)]
#[openapi(paths(export), tags((name = "hotline", description = "12345 热线工单")))]
pub struct ExportApi;

/// The ticket list as an Excel workbook: same filters, data scope and masking as
/// `GET /api/v1/hotline/tickets`, at most 50,000 rows (`X-Total-Count` tells how many matched).
#[utoipa::path(get, path = "/api/v1/hotline/tickets.xlsx", tag = "hotline", params(TicketQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>,
               description = "工单-YYYYMMDD.xlsx"),
              (status = 403, body = webcore::error::Problem)))]
async fn export(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<TicketQuery>,
) -> ApiResult<Response> {
    let svc = crate::http::svc(&ctx);
    let e = export_tickets(&svc, &a, &q).await?;
    let ascii = e.file_name.replace("工单", "tickets");
    Ok((
        [
            (header::CONTENT_TYPE, XLSX_TYPE.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                content_disposition(&e.file_name, &ascii),
            ),
            // Personal data: no copies in caches.
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (
                header::HeaderName::from_static("x-total-count"),
                e.matched.to_string(),
            ),
        ],
        e.xlsx,
    )
        .into_response())
}
