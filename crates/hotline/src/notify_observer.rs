//! The notification outbox as an observer of ticket changes: every timeline event goes to
//! [`crate::notices::enqueue`] in the change's transaction, so nothing acknowledged is lost.

use crate::ticket::TicketChange;
use kernel::error::Result;
use kernel::events::Observer;
use kernel::Tx;

/// Puts the notifications and deliveries of a ticket change into the outbox.
pub struct OutboxObserver {
    outbox: notify::Outbox,
}

impl OutboxObserver {
    pub fn new(db: &kernel::Db) -> Self {
        OutboxObserver {
            outbox: notify::Outbox::of(db),
        }
    }
}

#[async_trait::async_trait]
impl Observer<TicketChange> for OutboxObserver {
    async fn observe(&self, tx: &mut Tx, c: &TicketChange) -> Result<()> {
        crate::notices::enqueue(&self.outbox, tx, &c.after, &c.event, c.now).await
    }
}
