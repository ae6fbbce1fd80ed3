//! Ticket attachments (附件): photos, scans, documents and call recordings. The type is checked
//! from the file's content, not its name, and must agree with the name's extension.

use crate::domain::Status;
use crate::service::HotlineService;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use kernel::error::{Error, Result};
use kernel::{audit, Actor, Role};
use serde::{Deserialize, Serialize};
use sm3::{Digest, Sm3};
use sqlx::Row;
use utoipa::{OpenApi, ToSchema};
use webcore::{ApiActor, ApiResult, AppCtx, Path, Query};

pub const MAX_BYTES: usize = 10 * 1024 * 1024;
pub const MAX_PER_TICKET: i64 = 20;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Attachment {
    pub id: i64,
    pub ticket_id: i64,
    pub name: String,
    pub mime: String,
    pub size: i64,
    /// SM3 of the content, hex.
    pub sm3: String,
    pub created_at: i64,
}

/// An accepted kind: (extensions, MIME type, content check).
type Kind = (&'static [&'static str], &'static str, fn(&[u8]) -> bool);

const KINDS: &[Kind] = &[
    (&["jpg", "jpeg"], "image/jpeg", |b| {
        b.starts_with(&[0xFF, 0xD8, 0xFF])
    }),
    (&["png"], "image/png", |b| {
        b.starts_with(b"\x89PNG\r\n\x1a\n")
    }),
    (&["gif"], "image/gif", |b| {
        b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a")
    }),
    (&["pdf"], "application/pdf", |b| b.starts_with(b"%PDF-")),
    (
        &["docx"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        |b| b.starts_with(b"PK\x03\x04"),
    ),
    (
        &["xlsx"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        |b| b.starts_with(b"PK\x03\x04"),
    ),
    (&["mp3"], "audio/mpeg", |b| {
        b.starts_with(b"ID3") || (b.len() > 1 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0)
    }),
    (&["wav"], "audio/wav", |b| {
        b.len() > 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WAVE"
    }),
    (&["amr"], "audio/amr", |b| b.starts_with(b"#!AMR")),
    (&["mp4"], "video/mp4", |b| {
        b.len() > 8 && &b[4..8] == b"ftyp"
    }),
];

/// Checks name, size and content; returns the MIME type.
pub fn check_file(name: &str, bytes: &[u8]) -> Result<&'static str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 || name.contains(['/', '\\', '\0']) {
        return Err(Error::field(
            "name",
            "invalid_name",
            "文件名不能为空，不超过 120 个字，且不能含有 / \\",
        ));
    }
    if bytes.is_empty() {
        return Err(Error::field("file", "empty", "文件是空的"));
    }
    if bytes.len() > MAX_BYTES {
        return Err(Error::field(
            "file",
            "too_large",
            format!("附件不能超过 {} MB", MAX_BYTES / 1024 / 1024),
        ));
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let allowed: Vec<&str> = KINDS.iter().flat_map(|k| k.0.iter().copied()).collect();
    let Some((_, mime, check)) = KINDS.iter().find(|k| k.0.contains(&ext.as_str())) else {
        return Err(Error::field(
            "name",
            "unsupported_type",
            format!("不支持的附件类型“{ext}”，可上传：{}", allowed.join("、")),
        ));
    };
    if !check(bytes) {
        return Err(Error::field(
            "file",
            "content_mismatch",
            format!("文件内容不是 .{ext} 格式（扩展名与内容不符）"),
        ));
    }
    Ok(mime)
}

fn row(r: &sqlx::any::AnyRow) -> Attachment {
    Attachment {
        id: r.get("id"),
        ticket_id: r.get("ticket_id"),
        name: r.get("name"),
        mime: r.get("mime"),
        size: r.get("size"),
        sm3: r.get("sm3"),
        created_at: r.get("created_at"),
    }
}

/// Adds an attachment to a ticket the actor may see (staff only), with a timeline event.
pub async fn add(
    svc: &HotlineService,
    actor: &Actor,
    ticket_id: i64,
    name: &str,
    bytes: &[u8],
) -> Result<Attachment> {
    actor.require_scope("hotline:write")?;
    if !actor.roles.iter().any(|r| *r != Role::Citizen) {
        return Err(Error::forbidden("仅限工作人员上传附件"));
    }
    let t = svc.get(actor, ticket_id).await?.ticket;
    if matches!(t.status, Status::Archived) {
        return Err(Error::IllegalTransition {
            detail: "已归档的工单不能再添加附件".into(),
        });
    }
    let mime = check_file(name, bytes)?;
    let db = svc.db();
    let now = db.now();
    let digest = hex::encode(Sm3::digest(bytes));
    let mut tx = db.begin().await?;
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM hotline_attachments WHERE ticket_id = $1")
            .bind(ticket_id)
            .fetch_one(&mut *tx)
            .await?;
    if count >= MAX_PER_TICKET {
        return Err(Error::field(
            "file",
            "too_many",
            format!("每张工单最多 {MAX_PER_TICKET} 个附件"),
        ));
    }
    let who = actor.audit_actor();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO hotline_attachments (ticket_id, name, mime, size, sm3, data, uploaded_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(ticket_id)
    .bind(name.trim())
    .bind(mime)
    .bind(bytes.len() as i64)
    .bind(&digest)
    .bind(bytes.to_vec())
    .bind(&who.0)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let data = serde_json::json!({"attachment_id": id, "name": name.trim(), "size": bytes.len(), "sm3": digest});
    let e = crate::domain::Event {
        action: "attach",
        from: t.status,
        to: t.status,
        note: Some(name.trim().to_owned()),
        dept_id: None,
        data: data.clone(),
    };
    crate::ticket::store::insert_event(
        &mut tx,
        crate::ticket::store::NewEvent {
            ticket_id,
            at: now,
            actor: &who.0,
            actor_name: &actor.display_name,
            event: &e,
        },
    )
    .await?;
    audit::record(&mut tx, now, &who, "ticket", ticket_id, "attach", data).await?;
    tx.commit().await?;
    Ok(Attachment {
        id,
        ticket_id,
        name: name.trim().into(),
        mime: mime.into(),
        size: bytes.len() as i64,
        sm3: digest,
        created_at: now,
    })
}

pub async fn list(svc: &HotlineService, actor: &Actor, ticket_id: i64) -> Result<Vec<Attachment>> {
    svc.get(actor, ticket_id).await?;
    let rows = sqlx::query("SELECT id, ticket_id, name, mime, size, sm3, created_at FROM hotline_attachments WHERE ticket_id = $1 ORDER BY id")
        .bind(ticket_id)
        .fetch_all(svc.db().pool())
        .await?;
    Ok(rows.iter().map(row).collect())
}

/// The attachment and its bytes, if the actor may see its ticket.
pub async fn fetch(svc: &HotlineService, actor: &Actor, id: i64) -> Result<(Attachment, Vec<u8>)> {
    let r = sqlx::query("SELECT id, ticket_id, name, mime, size, sm3, created_at, data FROM hotline_attachments WHERE id = $1")
        .bind(id)
        .fetch_optional(svc.db().pool())
        .await?
        .ok_or_else(|| Error::not_found("attachment", "附件不存在"))?;
    let a = row(&r);
    svc.get(actor, a.ticket_id).await?;
    Ok((a, r.get("data")))
}

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
    let encoded: String = form_urlencoded::byte_serialize(att.name.as_bytes()).collect();
    let disposition = format!(
        "attachment; filename=\"attachment\"; filename*=UTF-8''{}",
        encoded.replace('+', "%20")
    );
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

#[cfg(test)]
mod tests {
    #[test]
    fn files_are_checked_by_content_and_name() {
        let png = b"\x89PNG\r\n\x1a\n0000";
        assert_eq!(super::check_file("现场.png", png).unwrap(), "image/png");
        assert_eq!(
            super::check_file("现场.jpg", png).unwrap_err().code(),
            "content_mismatch"
        );
        assert_eq!(
            super::check_file("病毒.exe", b"MZ").unwrap_err().code(),
            "unsupported_type"
        );
        assert_eq!(
            super::check_file("a/b.png", png).unwrap_err().code(),
            "invalid_name"
        );
        assert_eq!(
            super::check_file("空.png", b"").unwrap_err().code(),
            "empty"
        );
        assert_eq!(
            super::check_file("大.pdf", &vec![b'%'; super::MAX_BYTES + 1])
                .unwrap_err()
                .code(),
            "too_large"
        );
    }
}
