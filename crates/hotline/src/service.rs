//! `HotlineService`, the one entry to the hotline for pages, the API, other modules and tools.
//! Its use cases live with their sub-domain, one `impl` block each: `ticket::service` (intake,
//! actions, deadlines, categories, import, the public board), `kb::service` (knowledge base and
//! reply templates), `intel` (routing rules, suggestions, models) and `search`. This file holds
//! only what they share.

use crate::ticket::service::{FollowUp, TicketChange};
use kernel::calendar::{self, Calendar};
use kernel::error::Result;
use kernel::events::Observers;
use kernel::{Actor, Db, Role};
use std::sync::Arc;

pub use crate::kb::domain::ArticleVersion;
pub use crate::ticket::domain::{TicketFilter, TimelineEntry};
pub use crate::ticket::service::{
    ImportOutcome, ImportRow, Open311Query, Reclassify, SplitPart, TicketQuery, TicketView,
    EXPORT_MAX_ROWS,
};

#[derive(Clone)]
pub struct HotlineService {
    pub(crate) db: Db,
    pub(crate) city: String,
    /// Confidence at which intake dispatches automatically; 0 = off.
    pub(crate) auto_dispatch_threshold: f64,
    /// Work done in the transaction of every ticket change (notification outbox, duplicate
    /// suggestion, dispatch feedback), given at construction.
    pub(crate) observers: Observers<TicketChange>,
    /// Work done after an intake or a reclassification committed (suggestions, automatic
    /// dispatch).
    pub(crate) follow_up: Option<Arc<dyn FollowUp>>,
}

impl std::fmt::Debug for HotlineService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HotlineService")
            .field("city", &self.city)
            .field("auto_dispatch_threshold", &self.auto_dispatch_threshold)
            .field("observers", &self.observers)
            .finish_non_exhaustive()
    }
}

impl HotlineService {
    /// The service with the hotline's default observers and follow-up ([`crate::service`]
    /// wires them).
    pub fn new(db: Db, city: impl Into<String>) -> Self {
        crate::service(db, city, 0.0)
    }

    /// The bare ticket core: nothing reacts to its changes but what is given here.
    pub fn with_observers(
        db: Db,
        city: impl Into<String>,
        observers: Observers<TicketChange>,
        follow_up: Option<Arc<dyn FollowUp>>,
    ) -> Self {
        HotlineService {
            db,
            city: city.into(),
            auto_dispatch_threshold: 0.0,
            observers,
            follow_up,
        }
    }

    /// Turns automatic dispatch on at this confidence (`[hotline] auto_dispatch_threshold`).
    pub fn with_auto_dispatch_threshold(mut self, threshold: f64) -> Self {
        self.auto_dispatch_threshold = threshold;
        self
    }

    pub fn auto_dispatch_threshold(&self) -> f64 {
        self.auto_dispatch_threshold
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub(crate) async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.db.pool().acquire().await?)
    }

    pub(crate) async fn calendar(&self) -> Result<Calendar> {
        calendar::load(&self.db).await
    }

    pub(crate) fn is_staff(actor: &Actor) -> bool {
        actor.roles.iter().any(|r| *r != Role::Citizen)
    }
}
