//! The run (the job and `yiwang hotline signals`) and `AlertService`: list and acknowledge, with
//! the actor checked; every change in one transaction with its audit record.

use super::domain::{
    analyse, kind_code, visible, week_start, Candidate, RunSummary, StoredAlert, ACK,
    BASELINE_WEEKS, READERS, WEEK_MS,
};
use super::store;
use kernel::audit;
use kernel::error::{Checks, Error, Result};
use kernel::{Actor, Db};
use serde_json::json;
use std::collections::HashMap;

/// Region names by code, through the org service (the alerts never read org tables).
async fn region_names(db: &Db) -> Result<HashMap<String, String>> {
    let org = org::OrgService::new(db.clone(), Default::default());
    Ok(org
        .regions(&Actor::system(), None, None)
        .await?
        .into_iter()
        .map(|r| (r.code, r.name))
        .collect())
}

/// Runs the weak-signal analysis as of `at_ms` and stores new alerts.
pub async fn run(db: &Db, at_ms: i64) -> Result<RunSummary> {
    let since = week_start(at_ms) - (BASELINE_WEEKS + 3) * WEEK_MS;
    let mut c = db.pool().acquire().await?;
    let tickets = store::tickets(&mut c, since, at_ms).await?;
    let cats = store::categories(&mut c).await?;
    drop(c);
    let regions = region_names(db).await?;
    let n = tickets.len();
    let candidates = tokio::task::spawn_blocking(move || analyse(&tickets, &cats, &regions, at_ms))
        .await
        .map_err(Error::internal)?;
    let mut summary = RunSummary {
        tickets: n,
        ..RunSummary::default()
    };
    for cand in candidates {
        match store_alert(db, &cand).await? {
            Stored::Raised(id) => summary.raised.push(id),
            Stored::Refreshed(id) => summary.refreshed.push(id),
            Stored::Unchanged => {}
        }
    }
    Ok(summary)
}

enum Stored {
    Raised(i64),
    Refreshed(i64),
    Unchanged,
}

/// Inserts a new alert, or refreshes the one already raised for the same subject and an
/// overlapping window (a burst that goes on is one alert, not one per run).
async fn store_alert(db: &Db, a: &Candidate) -> Result<Stored> {
    let now = db.now();
    let mut tx = db.begin().await?;
    if let Some((id, to, obs)) = store::overlapping(&mut tx, a).await? {
        if to >= a.to_ms && obs >= a.observed {
            return Ok(Stored::Unchanged);
        }
        store::refresh(&mut tx, id, a, to.max(a.to_ms), obs.max(a.observed), now).await?;
        tx.commit().await?;
        return Ok(Stored::Refreshed(id));
    }
    // Another instance may raise the same alert at the same moment: the unique key decides.
    let Some(id) = store::insert(&mut tx, a, now).await? else {
        return Ok(Stored::Unchanged);
    };
    audit::record(
        &mut tx,
        now,
        &Actor::system().audit_actor(),
        "hotline_alert",
        id,
        "raise",
        json!({"kind": kind_code(a.kind), "dimension": a.dimension, "subject": a.subject, "observed": a.observed}),
    )
    .await?;
    tx.commit().await?;
    Ok(Stored::Raised(id))
}

/// Alerts service: list and acknowledge, with the actor checked.
#[derive(Clone, Debug)]
pub struct AlertService {
    db: Db,
}

impl AlertService {
    pub fn new(db: Db) -> Self {
        AlertService { db }
    }

    /// Newest first, at most 500; region-scoped readers see their region's and city-wide ones.
    pub async fn list(&self, actor: &Actor, status: Option<&str>) -> Result<Vec<StoredAlert>> {
        actor.require_any_role(READERS)?;
        actor.require_scope("hotline:read")?;
        let status = status.map(str::trim).filter(|s| !s.is_empty());
        if let Some(s) = status {
            if s != "open" && s != "acknowledged" {
                return Err(Error::field(
                    "status",
                    "invalid",
                    "status 只能是 open 或 acknowledged",
                ));
            }
        }
        let mut c = self.db.pool().acquire().await?;
        let all = store::list(&mut c, status.unwrap_or("")).await?;
        Ok(all.into_iter().filter(|a| visible(actor, a)).collect())
    }

    /// Marks an open alert as seen, with what was done about it. Audited.
    pub async fn acknowledge(&self, actor: &Actor, id: i64, note: &str) -> Result<StoredAlert> {
        actor.require_any_role(ACK)?;
        actor.require_scope("hotline:write")?;
        let mut c = Checks::new();
        c.text("note", "处理意见", note, 1000);
        c.finish()?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let a = store::get(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("hotline_alert", "告警不存在"))?;
        if !visible(actor, &a) {
            return Err(Error::forbidden("无权处理其他辖区的告警"));
        }
        let who = actor.audit_actor();
        if !store::acknowledge(&mut tx, id, &actor.username, note.trim(), now).await? {
            return Err(Error::IllegalTransition {
                detail: "该告警已确认，不能重复确认".into(),
            });
        }
        audit::record(
            &mut tx,
            now,
            &who,
            "hotline_alert",
            id,
            "acknowledge",
            json!({"note": note.trim()}),
        )
        .await?;
        let a = store::get(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("hotline_alert", "告警不存在"))?;
        tx.commit().await?;
        Ok(a)
    }
}
