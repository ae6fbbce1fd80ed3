//! Duplicate tickets at intake (重复工单): open tickets about the same issue at the same place
//! within a short window, scored by `nlp::dedup` (character bigrams, so rewording does not hide
//! a duplicate) and counted by callers.
//!
//! The tickets of the window are kept in an `nlp::dedup` index per database ([`DupCache`], in
//! [`kernel::Db::state`]) that follows the table by id: each look reads only the tickets added
//! since the last one, so intake costs the same with 100 or 100,000 open tickets. The index
//! proposes; the best candidates are then read back from the table and kept only if they are
//! still open, in the window, at the probe's place (its region, or a small box around its
//! coordinates) and visible to the actor, so a ticket closed, merged or edited elsewhere (or by
//! another server on the same database) is never suggested from stale memory.

use super::store;
use crate::ticket::domain::{Status, Ticket};
use crate::HotlineService;
use kernel::error::Result;
use kernel::{Actor, Tx};
use nlp::dedup::{DupIndex, DupOptions};
use serde::Serialize;
use sqlx::AnyConnection;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use utoipa::ToSchema;

const DAY_MS: i64 = 86_400_000;
/// ±0.005° is about ±550 m of latitude here: "the same place" for a ticket with coordinates.
const GEO_BOX_DEG: f64 = 0.005;
/// Candidates read back from the table per look, at most.
const MAX_VERIFIED: usize = 64;
/// How long an id skipped by a look (taken by a transaction not yet committed) is looked for
/// again before it is taken for rolled back.
const GAP_TTL: Duration = Duration::from_secs(120);
/// Tickets older than the window leave the index this often.
const PRUNE_EVERY_MS: i64 = 600_000;

/// What is known about a new or existing ticket when looking for its duplicates.
#[derive(Debug, Clone, Default)]
pub struct Probe {
    pub exclude_id: Option<i64>,
    pub title: String,
    pub content: String,
    pub region_code: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Candidate {
    pub ticket_id: i64,
    pub number: String,
    pub title: String,
    pub status: String,
    /// 0–1, from `nlp::dedup` (text similarity, raised for the same place).
    pub similarity: f64,
    /// Distinct callers on the ticket and its merged children.
    pub callers: i64,
    /// China time, `YYYY-MM-DD HH:MM:SS`.
    pub created_at: String,
}

/// The duplicate index of one database: the tickets created in the window, kept up to date
/// by id. Taken with [`kernel::Db::state`].
#[derive(Default)]
pub struct DupCache {
    inner: Mutex<Option<CacheState>>,
}

struct CacheState {
    index: DupIndex,
    window_ms: i64,
    min_similarity: f32,
    /// Every id up to here has been read, except those in `gaps`.
    seen_up_to: i64,
    gaps: Vec<(i64, Instant)>,
    pruned_at: i64,
}

fn text_of(title: &str, content: &str) -> String {
    format!("{}\n{}", title.trim(), content.trim())
}

impl DupCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<CacheState>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Brings the index up to the table: the tickets added since the last look (and the ids
    /// that were missing then), or the whole window on first use or after a change of the
    /// settings. One query when nothing was added.
    async fn sync(&self, c: &mut AnyConnection, window_ms: i64, min: f32, now: i64) -> Result<()> {
        let since = now - window_ms;
        let current = {
            let g = self.lock();
            g.as_ref()
                .filter(|s| s.window_ms == window_ms && s.min_similarity == min)
                .map(|s| (s.seen_up_to, s.gaps.iter().map(|g| g.0).collect::<Vec<_>>()))
        };
        let Some((seen_up_to, gaps)) = current else {
            let max_id = store::max_ticket_id(c).await?;
            let rows = store::dup_rows_created_since(c, since).await?;
            let mut index = DupIndex::new(DupOptions {
                min_similarity: min,
                ..DupOptions::default()
            });
            let mut top = max_id;
            for r in &rows {
                top = top.max(r.id);
                if r.candidate {
                    index.add(
                        &r.id.to_string(),
                        &text_of(&r.title, &r.content),
                        r.address.as_deref(),
                        r.created_at,
                    );
                }
            }
            *self.lock() = Some(CacheState {
                index,
                window_ms,
                min_similarity: min,
                seen_up_to: top,
                gaps: Vec::new(),
                pruned_at: now,
            });
            return Ok(());
        };
        let rows = store::dup_rows_after(c, seen_up_to, &gaps).await?;
        let mut g = self.lock();
        let Some(s) = g.as_mut() else { return Ok(()) };
        let mut got = std::collections::HashSet::new();
        let mut top = s.seen_up_to;
        for r in &rows {
            got.insert(r.id);
            top = top.max(r.id);
            if r.candidate && r.created_at >= since {
                s.index.add(
                    &r.id.to_string(),
                    &text_of(&r.title, &r.content),
                    r.address.as_deref(),
                    r.created_at,
                );
            }
        }
        let at = Instant::now();
        s.gaps
            .retain(|(id, t)| !got.contains(id) && at.duration_since(*t) < GAP_TTL);
        for id in (s.seen_up_to + 1)..top {
            if !got.contains(&id) {
                s.gaps.push((id, at));
            }
        }
        s.seen_up_to = s.seen_up_to.max(top);
        if now - s.pruned_at > PRUNE_EVERY_MS {
            s.index.prune(since);
            s.pruned_at = now;
        }
        Ok(())
    }

    /// Candidates for the probe by the index, best first: (ticket id, score).
    fn candidates(&self, p: &Probe, now: i64) -> Vec<(i64, f32)> {
        let g = self.lock();
        let Some(s) = g.as_ref() else {
            return Vec::new();
        };
        s.index
            .candidates(
                &text_of(&p.title, &p.content),
                p.address.as_deref(),
                now,
                s.window_ms,
            )
            .into_iter()
            .filter_map(|(k, sim)| k.parse::<i64>().ok().map(|id| (id, sim)))
            .filter(|(id, _)| Some(*id) != p.exclude_id)
            .take(MAX_VERIFIED)
            .collect()
    }

    fn forget(&self, ids: &[i64]) {
        if let Some(s) = self.lock().as_mut() {
            for id in ids {
                s.index.remove(&id.to_string());
            }
        }
    }
}

/// Whether a ticket read back from the table may be offered for the probe: open, in the
/// window, at the probe's place (the same region, or within the box around its coordinates),
/// and not the probe itself or its merged child.
fn admissible(t: &Ticket, p: &Probe, since_ms: i64) -> bool {
    if !t.status.is_open() || t.status == Status::Split || t.created_at < since_ms {
        return false;
    }
    if Some(t.id) == p.exclude_id || (t.parent_id.is_some() && t.parent_id == p.exclude_id) {
        return false;
    }
    let same_region = |rc: &str| t.location.region_code.as_deref() == Some(rc);
    match (&p.region_code, p.lat, p.lon) {
        (rc, Some(lat), Some(lon)) => {
            let inside = matches!((t.location.lat, t.location.lng), (Some(a), Some(o))
                if (a - lat).abs() <= GEO_BOX_DEG && (o - lon).abs() <= GEO_BOX_DEG);
            inside || same_region(rc.as_deref().unwrap_or_default())
        }
        (Some(rc), _, _) => same_region(rc),
        _ => true,
    }
}

/// The `want` best open duplicates of the probe in the window, read back from the table a few
/// at a time (the index ranks; the table decides); what the index proposed that is gone or no
/// longer open leaves it.
#[allow(clippy::too_many_arguments)]
async fn best(
    c: &mut AnyConnection,
    sealer: &kernel::sealed::Sealer,
    cache: &DupCache,
    actor: Option<&Actor>,
    p: &Probe,
    now: i64,
    window_ms: i64,
    min_similarity: f64,
    want: usize,
) -> Result<Vec<(Ticket, f32)>> {
    cache.sync(c, window_ms, min_similarity as f32, now).await?;
    let since = now - window_ms;
    let mut out = Vec::new();
    // Few rows per read: the best candidate is usually admissible.
    for chunk in cache.candidates(p, now).chunks((want * 4).clamp(4, 16)) {
        let ids: Vec<i64> = chunk.iter().map(|c| c.0).collect();
        let mut rows: std::collections::HashMap<i64, Ticket> =
            store::tickets_by_ids(c, sealer, &ids)
                .await?
                .into_iter()
                .map(|t| (t.id, t))
                .collect();
        let gone: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| {
                rows.get(id)
                    .is_none_or(|t| !t.status.is_open() || t.status == Status::Split)
            })
            .collect();
        cache.forget(&gone);
        out.extend(
            chunk
                .iter()
                .filter_map(|(id, sim)| rows.remove(id).map(|t| (t, *sim)))
                .filter(|(t, _)| admissible(t, p, since))
                .filter(|(t, _)| actor.is_none_or(|a| HotlineService::can_see(a, t))),
        );
        if out.len() >= want {
            out.truncate(want);
            break;
        }
    }
    Ok(out)
}

/// Distinct callers on a ticket and its merged children; a ticket without a phone number is a
/// caller of its own.
pub async fn callers(c: &mut AnyConnection, id: i64) -> Result<i64> {
    store::callers(c, id).await
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn find(
    c: &mut AnyConnection,
    sealer: &kernel::sealed::Sealer,
    cache: &DupCache,
    actor: Option<&Actor>,
    p: &Probe,
    now: i64,
    window_days: i64,
    min_similarity: f64,
    limit: usize,
) -> Result<Vec<Candidate>> {
    let window_ms = window_days * DAY_MS;
    let found = best(
        c,
        sealer,
        cache,
        actor,
        p,
        now,
        window_ms,
        min_similarity,
        limit,
    )
    .await?;
    let mut out = Vec::new();
    for (t, s) in found {
        out.push(Candidate {
            ticket_id: t.id,
            number: t.number.clone(),
            title: t.title.clone(),
            status: t.status.code().to_owned(),
            similarity: (f64::from(s) * 1000.0).round() / 1000.0,
            callers: callers(c, t.id).await?,
            created_at: nlp::hotspot::format_china_time(t.created_at),
        });
    }
    Ok(out)
}

/// The best open duplicate of a ticket about to be registered, looked up before its
/// transaction from a read connection, so the single writer is not held while the index is
/// scored. Scope is not applied: the suggestion is the system's. `None` for a ticket that is
/// not open (a split part) or has no duplicate.
pub(crate) async fn look_before_intake(
    db: &kernel::Db,
    cache: &DupCache,
    t: &Ticket,
    now: i64,
) -> Result<Option<(i64, f64)>> {
    if !t.status.is_open() || t.status == Status::Split {
        return Ok(None);
    }
    let mut c = db.pool().acquire().await?;
    let s = store::settings(&mut c).await?;
    let probe = Probe {
        exclude_id: None,
        title: t.title.clone(),
        content: t.content.clone(),
        region_code: t.location.region_code.clone(),
        address: t.location.address.clone(),
        lat: t.location.lat,
        lon: t.location.lng,
    };
    let window_ms = s.dup_window_days * DAY_MS;
    let found = best(
        &mut c,
        db.sealer(),
        cache,
        None,
        &probe,
        now,
        window_ms,
        s.dup_min_similarity,
        1,
    )
    .await?;
    Ok(found
        .into_iter()
        .next()
        .map(|(other, sim)| (other.id, (f64::from(sim) * 1000.0).round() / 1000.0)))
}

/// Stores the duplicate found by [`look_before_intake`] in the intake's transaction, so the
/// dispatcher sees "可能重复: 编号…".
pub(crate) async fn record_suggestion(
    tx: &mut Tx,
    ticket_id: i64,
    duplicate: (i64, f64),
    now: i64,
) -> Result<()> {
    store::insert_suggestion(tx, ticket_id, duplicate.0, duplicate.1, now).await
}

/// The suggestion stored at intake: candidate id and similarity.
pub async fn stored_suggestion(c: &mut AnyConnection, id: i64) -> Result<Option<(i64, f64)>> {
    store::stored_suggestion(c, id).await
}

impl crate::HotlineService {
    /// The duplicate stored at intake for a ticket the actor may see: (candidate id, similarity).
    pub async fn stored_duplicate(&self, actor: &Actor, id: i64) -> Result<Option<(i64, f64)>> {
        self.get(actor, id).await?;
        let mut c = self.db().pool().acquire().await?;
        store::stored_suggestion(&mut c, id).await
    }
}
