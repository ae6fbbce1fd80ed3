//! 办不成事反映: anyone reports what they could not get done; supervisors answer.

use super::store;
use crate::domain::*;
use crate::service::*;
use kernel::audit;
use kernel::error::{Checks, Error, Result};
use kernel::{mask, Actor, Role};
use serde_json::json;

impl ServicesService {
    /// Anyone may say they could not get something done; it goes to the supervisors.
    pub async fn submit_feedback(&self, input: NewFeedback) -> Result<Feedback> {
        input.validate()?;
        let dept_id = match input.item_id {
            Some(i) => Some(
                self.published_item(i)
                    .await
                    .map_err(|_| Error::field("item_id", "unknown_item", "事项不存在"))?
                    .content
                    .dept_id,
            ),
            None => None,
        };
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let day = kernel::clock::to_china(now).date_naive();
        let seq =
            crate::store::next_seq(&mut tx, "feedback", &day.format("%Y%m%d").to_string()).await?;
        let mut f = Feedback {
            id: 0,
            number: format!("BCS{}{:04}", day.format("%Y%m%d"), seq),
            name: input.name.trim().into(),
            phone: input.phone.trim().into(),
            item_id: input.item_id,
            dept_id,
            text: input.text.trim().into(),
            status: FeedbackStatus::Open,
            answer: None,
            answered_by: None,
            created_at: now,
            answered_at: None,
        };
        f.id = store::insert_feedback(&mut tx, &f).await?;
        audit::record(
            &mut tx,
            now,
            &kernel::audit::AuditActor("public".into()),
            "feedback",
            f.id,
            "submit",
            json!({"number": f.number, "item_id": f.item_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(f)
    }

    pub async fn feedback_list(&self, actor: &Actor) -> Result<Vec<Feedback>> {
        actor.require_any_role(roles::<Supervise>())?;
        actor.require_scope("services:read")?;
        let mut list = store::feedback_list(&mut *self.conn().await?).await?;
        if !actor.has_role(Role::SysAdmin) {
            for f in &mut list {
                f.phone = mask::phone(&f.phone);
            }
        }
        Ok(list)
    }

    pub async fn answer_feedback(&self, actor: &Actor, id: i64, answer: &str) -> Result<Feedback> {
        actor.authorize::<Supervise>()?;
        let mut c = Checks::new();
        c.text("answer", "答复", answer, 4000);
        c.finish()?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        store::feedback(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("feedback", "反映不存在"))?;
        if !store::answer_feedback(&mut tx, id, answer.trim(), actor.user_id, now).await? {
            return Err(Error::IllegalTransition {
                detail: "该反映已答复".into(),
            });
        }
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "feedback",
            id,
            "answer",
            json!({"answer": answer.trim()}),
        )
        .await?;
        let f = store::feedback(&mut tx, id)
            .await?
            .ok_or_else(|| Error::internal("feedback vanished"))?;
        tx.commit().await?;
        Ok(f)
    }
}
