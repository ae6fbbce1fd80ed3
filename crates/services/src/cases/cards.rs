//! The card sweep: yellow and red cards on running cases.

use super::store;
use crate::domain::*;
use crate::service::*;
use kernel::error::Result;
use kernel::{Actor, Authorized};
use serde_json::json;

impl ServicesService {
    /// Raises yellow and red cards on running cases. Compare-and-set per case, so several
    /// instances may sweep at once and each change happens once. Returns the changes made.
    pub async fn sweep_cards(&self) -> Result<usize> {
        let system = Actor::system();
        let by = Authorized::system(&system)?;
        let cal = self.calendar().await?;
        let now = self.db.now();
        let running = store::running_cases(&mut *self.conn().await?).await?;
        let mut changed = 0;
        for (c, v) in running {
            let card = c.card_at(now, &cal);
            if card == c.card {
                continue;
            }
            let mut next = c.clone();
            next.card = card;
            let mut tx = self.db.begin().await?;
            if store::compare_and_set_card(&mut tx, by, &next, v).await? {
                let e = Event {
                    action: "card",
                    label: if card == Card::Red {
                        "超期亮红牌"
                    } else if card == Card::Yellow {
                        "临期亮黄牌"
                    } else {
                        "撤销亮牌"
                    },
                    from: c.status,
                    to: c.status,
                    note: None,
                    data: json!({"card": card.code(), "due_at": c.due_at}),
                };
                self.record(&mut tx, &Actor::system(), &next, &e, now)
                    .await?;
                tx.commit().await?;
                changed += 1;
            }
        }
        Ok(changed)
    }
}
