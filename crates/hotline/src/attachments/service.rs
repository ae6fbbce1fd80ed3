//! Adding, listing and fetching a ticket's attachments: whoever may read the ticket may read its
//! files; staff add them, with a timeline event and an audit record in the same transaction.

use super::domain::{check_file, Attachment, MAX_PER_TICKET};
use super::store;
use crate::domain::Status;
use crate::service::HotlineService;
use kernel::error::{Error, Result};
use kernel::{audit, Actor, Role};
use sm3::{Digest, Sm3};

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
    let count = store::count(&mut tx, ticket_id).await?;
    if count >= MAX_PER_TICKET {
        return Err(Error::field(
            "file",
            "too_many",
            format!("每张工单最多 {MAX_PER_TICKET} 个附件"),
        ));
    }
    let who = actor.audit_actor();
    let id = store::insert(
        &mut tx,
        store::NewAttachment {
            ticket_id,
            name: name.trim(),
            mime,
            sm3: &digest,
            data: bytes,
            uploaded_by: &who.0,
            at: now,
        },
    )
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
    let mut c = svc.db().pool().acquire().await?;
    store::list(&mut c, ticket_id).await
}

pub async fn fetch(svc: &HotlineService, actor: &Actor, id: i64) -> Result<(Attachment, Vec<u8>)> {
    let mut c = svc.db().pool().acquire().await?;
    let (a, data) = store::get(&mut c, id)
        .await?
        .ok_or_else(|| Error::not_found("attachment", "附件不存在"))?;
    drop(c);
    svc.get(actor, a.ticket_id).await?;
    Ok((a, data))
}
