//! The SQL of `hotline_attachments`.

use super::domain::Attachment;
use kernel::error::Result;
use sqlx::{AnyConnection, Row};

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

pub(super) async fn count(c: &mut AnyConnection, ticket_id: i64) -> Result<i64> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM hotline_attachments WHERE ticket_id = $1")
            .bind(ticket_id)
            .fetch_one(&mut *c)
            .await?;
    Ok(n)
}

pub(super) struct NewAttachment<'a> {
    pub(super) ticket_id: i64,
    pub(super) name: &'a str,
    pub(super) mime: &'a str,
    pub(super) sm3: &'a str,
    pub(super) data: &'a [u8],
    pub(super) uploaded_by: &'a str,
    pub(super) at: i64,
}

pub(super) async fn insert(c: &mut AnyConnection, a: NewAttachment<'_>) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO hotline_attachments (ticket_id, name, mime, size, sm3, data, uploaded_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(a.ticket_id)
    .bind(a.name)
    .bind(a.mime)
    .bind(a.data.len() as i64)
    .bind(a.sm3)
    .bind(a.data.to_vec())
    .bind(a.uploaded_by)
    .bind(a.at)
    .fetch_one(&mut *c)
    .await?;
    Ok(id)
}

pub(super) async fn list(c: &mut AnyConnection, ticket_id: i64) -> Result<Vec<Attachment>> {
    let rows = sqlx::query("SELECT id, ticket_id, name, mime, size, sm3, created_at FROM hotline_attachments WHERE ticket_id = $1 ORDER BY id")
        .bind(ticket_id)
        .fetch_all(&mut *c)
        .await?;
    Ok(rows.iter().map(row).collect())
}

/// An attachment with its bytes.
pub(super) async fn get(c: &mut AnyConnection, id: i64) -> Result<Option<(Attachment, Vec<u8>)>> {
    let r = sqlx::query("SELECT id, ticket_id, name, mime, size, sm3, created_at, data FROM hotline_attachments WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(r.map(|r| (row(&r), r.get("data"))))
}
