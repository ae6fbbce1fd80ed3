//! 到期提醒: holders hear of a license's expiry the number of days before it that its type
//! says (`remind_days`), once per license and expiry date, in their inbox.

use super::store;
use crate::service::LicensesService;
use kernel::error::Result;
use kernel::{audit, Actor, Authorized};
use notify::{Message, Recipient};
use serde_json::json;

/// The longest reminder window a type may set; the sweep reads no further ahead.
pub const MAX_REMIND_DAYS: i64 = 366;
const DAY_MS: i64 = 86_400_000;

impl LicensesService {
    /// Sends the reminders that are due at `now`; returns how many were sent. A holder without
    /// an account is skipped (recorded, so the sweep does not look at it again).
    pub async fn send_expiry_reminders(&self, now: i64) -> Result<usize> {
        let system = Actor::system();
        let by = Authorized::system(&system)?;
        let candidates = {
            let mut c = self.conn().await?;
            store::expiring_unreminded(&mut c, now, now + MAX_REMIND_DAYS * DAY_MS).await?
        };
        let mut remind_days = std::collections::HashMap::new();
        let outbox = notify::Outbox::of(self.db());
        let mut sent = 0;
        for l in candidates {
            let Some(until) = l.valid_until else { continue };
            let days = match remind_days.get(&(l.type_id, l.type_version)) {
                Some(d) => *d,
                None => {
                    let d = self
                        .type_version(l.type_id, l.type_version)
                        .await?
                        .content
                        .remind_days;
                    remind_days.insert((l.type_id, l.type_version), d);
                    d
                }
            };
            let Some(days) = days else { continue };
            if until - now > i64::from(days) * DAY_MS {
                continue;
            }
            let user = match l.holder_user_id {
                Some(u) => Some(u),
                None => {
                    let mut c = self.conn().await?;
                    org::directory::active_user_by_id_card(
                        &mut c,
                        self.db().sealer(),
                        &l.holder_id_no,
                    )
                    .await?
                }
            };
            let mut tx = self.db().begin().await?;
            if !store::insert_reminder(&mut tx, by, l.id, until, user, now).await? {
                continue;
            }
            if let Some(u) = user {
                let left = (until - now + DAY_MS - 1) / DAY_MS;
                let mut m = Message::new("licenses", "license.expiring");
                m.subject_id = Some(l.id);
                m.subject_number = Some(l.identifier.clone());
                m.inbox = vec![Recipient::User(u)];
                m.vars = [
                    ("证照", l.type_name.clone()),
                    ("持证人", l.holder_name.clone()),
                    (
                        "到期日",
                        kernel::clock::to_china(until)
                            .format("%Y-%m-%d")
                            .to_string(),
                    ),
                    ("剩余天数", left.to_string()),
                    ("证照标识", l.identifier.clone()),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
                m.webhook.insert(
                    "license".into(),
                    json!({"id": l.id, "type": l.type_code, "valid_until": until}),
                );
                outbox.enqueue(&mut tx, &m, now).await?;
                sent += 1;
            }
            audit::record(
                &mut tx,
                now,
                &system.audit_actor(),
                "license",
                l.id,
                "expiry_reminder",
                json!({"valid_until": until, "notified": user.is_some()}),
            )
            .await?;
            tx.commit().await?;
        }
        Ok(sent)
    }
}
