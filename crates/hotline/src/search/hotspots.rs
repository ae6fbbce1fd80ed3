//! Hot issues (热点问题) over a period, from the tickets in the database: `nlp::hotspot` on the
//! tickets registered in the period (title on the first line, the caller's phone as the caller),
//! the same clustering and heat as the file form `yiwang hotline hotspots`.

use super::store;
use crate::HotlineService;
use kernel::error::Result;
use kernel::{Actor, Db};
use nlp::hotspot::{HotspotOptions, Message};
use serde::Serialize;
use utoipa::ToSchema;

/// More tickets than this in one period are not clustered in one request.
pub const MAX_TICKETS: i64 = 200_000;

/// A hot issue: the file form's fields, with ticket ids and their numbers.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct DbHotspot {
    pub rank: usize,
    pub heat: f64,
    pub title: String,
    pub place: String,
    pub time_from: String,
    pub time_to: String,
    pub ticket_ids: Vec<i64>,
    pub ticket_numbers: Vec<String>,
    /// Distinct callers in the cluster.
    pub callers: usize,
}

/// Hot issues among tickets registered in `[from_ms, to_ms)` whose region starts with `region`
/// and which `actor` may see (`None`: all, for reports built by the system).
pub async fn from_db(
    db: &Db,
    actor: Option<&Actor>,
    from_ms: i64,
    to_ms: i64,
    top: usize,
    region: Option<&str>,
) -> Result<Vec<DbHotspot>> {
    let mut c = db.pool().acquire().await?;
    let tickets: Vec<_> =
        store::period_tickets(&mut c, db.sealer(), from_ms, to_ms, region, MAX_TICKETS)
            .await?
            .into_iter()
            .filter(|t| actor.is_none_or(|a| HotlineService::can_see(a, t)))
            .collect();
    drop(c);
    let run = move || {
        let msgs: Vec<Message> = tickets
            .iter()
            .map(|t| Message {
                id: t.id.to_string(),
                text: format!("{}\n{}", t.title, t.content),
                at_ms: t.created_at,
                user: t.caller.phone.clone().filter(|p| !p.is_empty()),
                likes: 0,
            })
            .collect();
        let numbers: std::collections::HashMap<i64, String> =
            tickets.iter().map(|t| (t.id, t.number.clone())).collect();
        nlp::hotspot::hotspots(
            &msgs,
            &HotspotOptions {
                top,
                now_ms: Some(to_ms - 1),
                ..HotspotOptions::default()
            },
        )
        .into_iter()
        .map(|h| {
            let ids: Vec<i64> = h.ticket_ids.iter().filter_map(|s| s.parse().ok()).collect();
            DbHotspot {
                rank: h.rank,
                heat: h.heat,
                title: h.title,
                place: h.place,
                time_from: h.time_from,
                time_to: h.time_to,
                ticket_numbers: ids
                    .iter()
                    .map(|i| numbers.get(i).cloned().unwrap_or_default())
                    .collect(),
                ticket_ids: ids,
                callers: h.callers,
            }
        })
        .collect::<Vec<_>>()
    };
    // Clustering is CPU work: keep it off the async threads.
    tokio::task::spawn_blocking(run)
        .await
        .map_err(kernel::Error::internal)
}
