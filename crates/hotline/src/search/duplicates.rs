//! Duplicate tickets at intake (重复工单): open tickets about the same issue at the same place
//! within a short window, scored by `nlp::dedup` (character bigrams, so rewording does not hide
//! a duplicate) and counted by callers.
//!
//! The window query is bounded by time (`created_at`, indexed) and, when intake knows the place,
//! by region code or a small box around the coordinates — it never scans the whole table.

use super::store;
use crate::ticket::domain::{Status, Ticket};
use crate::ticket::TicketChange;
use crate::HotlineService;
use kernel::error::Result;
use kernel::events::Observer;
use kernel::{Actor, Tx};
use nlp::dedup::{DupIndex, DupOptions};
use serde::Serialize;
use sqlx::AnyConnection;
use utoipa::ToSchema;

const DAY_MS: i64 = 86_400_000;
/// ±0.005° is about ±550 m of latitude here: "the same place" for a ticket with coordinates.
const GEO_BOX_DEG: f64 = 0.005;
/// At most this many recent tickets are compared with a new one.
const MAX_WINDOW_TICKETS: i64 = 3000;

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

/// Open tickets created since `since_ms` near the probe's place, without the probe's own
/// ticket and its merged children.
async fn window(c: &mut AnyConnection, p: &Probe, since_ms: i64) -> Result<Vec<Ticket>> {
    let rows = store::window(c, p, since_ms, GEO_BOX_DEG, MAX_WINDOW_TICKETS).await?;
    Ok(rows
        .into_iter()
        .filter(|t| {
            Some(t.id) != p.exclude_id && t.parent_id.is_none_or(|pid| Some(pid) != p.exclude_id)
        })
        .collect())
}

fn text_of(title: &str, content: &str) -> String {
    format!("{}\n{}", title.trim(), content.trim())
}

/// Scored candidates among `tickets`, best first.
fn score(p: &Probe, tickets: &[Ticket], now: i64, window_ms: i64, min: f32) -> Vec<(usize, f32)> {
    let mut ix = DupIndex::new(DupOptions {
        min_similarity: min,
        ..DupOptions::default()
    });
    for (i, t) in tickets.iter().enumerate() {
        ix.add(
            &i.to_string(),
            &text_of(&t.title, &t.content),
            t.location.address.as_deref(),
            t.created_at,
        );
    }
    ix.candidates(
        &text_of(&p.title, &p.content),
        p.address.as_deref(),
        now,
        window_ms,
    )
    .into_iter()
    .filter_map(|(k, s)| k.parse::<usize>().ok().map(|i| (i, s)))
    .collect()
}

/// Distinct callers on a ticket and its merged children; a ticket without a phone number is a
/// caller of its own.
pub async fn callers(c: &mut AnyConnection, id: i64) -> Result<i64> {
    store::callers(c, id).await
}

pub(crate) async fn find(
    c: &mut AnyConnection,
    actor: Option<&Actor>,
    p: &Probe,
    now: i64,
    window_days: i64,
    min_similarity: f64,
    limit: usize,
) -> Result<Vec<Candidate>> {
    let window_ms = window_days * DAY_MS;
    let tickets = window(c, p, now - window_ms).await?;
    let tickets: Vec<Ticket> = tickets
        .into_iter()
        .filter(|t| actor.is_none_or(|a| HotlineService::can_see(a, t)))
        .collect();
    let scored = score(p, &tickets, now, window_ms, min_similarity as f32);
    let mut out = Vec::new();
    for (i, s) in scored.into_iter().take(limit) {
        let t = &tickets[i];
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

/// The duplicate suggestion of a ticket taken in ([`TicketChange::is_intake`]), in the intake's
/// transaction.
pub struct SuggestionObserver;

#[async_trait::async_trait]
impl Observer<TicketChange> for SuggestionObserver {
    async fn observe(&self, tx: &mut Tx, c: &TicketChange) -> Result<()> {
        if c.is_intake() {
            record_suggestion(tx, &c.after, c.now).await?;
        }
        Ok(())
    }
}

/// Stores the best open duplicate of a ticket just registered, in its transaction, so the
/// dispatcher sees "可能重复: 编号…". Scope is not applied: the suggestion is the system's.
async fn record_suggestion(tx: &mut Tx, t: &Ticket, now: i64) -> Result<()> {
    if !t.status.is_open() || t.status == Status::Split {
        return Ok(());
    }
    let s = store::settings(tx).await?;
    let probe = Probe {
        exclude_id: Some(t.id),
        title: t.title.clone(),
        content: t.content.clone(),
        region_code: t.location.region_code.clone(),
        address: t.location.address.clone(),
        lat: t.location.lat,
        lon: t.location.lng,
    };
    let window_ms = s.dup_window_days * DAY_MS;
    let tickets = window(tx, &probe, now - window_ms).await?;
    let best = score(
        &probe,
        &tickets,
        now,
        window_ms,
        s.dup_min_similarity as f32,
    )
    .into_iter()
    .next();
    if let Some((i, sim)) = best {
        store::insert_suggestion(
            tx,
            t.id,
            tickets[i].id,
            (f64::from(sim) * 1000.0).round() / 1000.0,
            now,
        )
        .await?;
    }
    Ok(())
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
