//! What the hotline's intelligence adds to an intake: the duplicate look (`search`) and the
//! dispatch suggestion (`intel`), worked out before the intake's transaction, stored inside it,
//! and automatic dispatch after the commit; after a reclassification, the suggestion again.

use crate::intel::dispatch::{self, Suggestion};
use crate::search::duplicates::{self, DupCache};
use crate::ticket::domain::Ticket;
use crate::ticket::{FollowUp, Prepared};
use crate::HotlineService;
use kernel::error::Result;
use kernel::Tx;
use std::sync::Arc;

/// The follow-up of the default hotline service.
pub struct IntakeFollowUp {
    dups: Arc<DupCache>,
}

impl IntakeFollowUp {
    pub fn new(db: &kernel::Db) -> Self {
        IntakeFollowUp {
            dups: db.state::<DupCache>(),
        }
    }
}

/// What [`IntakeFollowUp::prepare_intake`] found.
#[derive(Default)]
struct Found {
    /// The best open duplicate and its similarity.
    duplicate: Option<(i64, f64)>,
    /// The dispatch suggestion and its fingerprint.
    suggestion: Option<(Suggestion, String)>,
}

fn found(p: &Prepared) -> Option<&Found> {
    p.0.as_ref().and_then(|b| b.downcast_ref::<Found>())
}

#[async_trait::async_trait]
impl FollowUp for IntakeFollowUp {
    async fn prepare_intake(&self, svc: &HotlineService, t: &Ticket, now: i64) -> Prepared {
        let duplicate = duplicates::look_before_intake(svc.db(), &self.dups, t, now)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "duplicate look at intake failed");
                None
            });
        let suggestion = svc.suggest_before_intake(t).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "dispatch suggestion failed");
            None
        });
        Prepared(Some(Box::new(Found {
            duplicate,
            suggestion,
        })))
    }

    async fn record_intake(&self, tx: &mut Tx, t: &Ticket, p: &Prepared, now: i64) -> Result<()> {
        let Some(f) = found(p) else {
            return Ok(());
        };
        if let Some(d) = f.duplicate {
            duplicates::record_suggestion(tx, t.id, d, now).await?;
        }
        if let Some((s, fingerprint)) = &f.suggestion {
            dispatch::save_suggestion(tx, t.id, s, fingerprint, now).await?;
        }
        Ok(())
    }

    async fn after_intake(&self, svc: &HotlineService, t: Ticket, p: Prepared) -> Ticket {
        match found(&p).and_then(|f| f.suggestion.as_ref()) {
            Some((s, _)) => svc.dispatch_if_sure(t, s).await,
            None => t,
        }
    }

    async fn after_reclassify(&self, svc: &HotlineService, t: &Ticket) {
        if let Err(e) = svc.refresh_suggestion(t, false).await {
            tracing::warn!(ticket = t.id, error = %e, "dispatch suggestion failed");
        }
    }
}
