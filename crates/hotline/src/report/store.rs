//! The report's SQL: it only reads `hotline_tickets` and `hotline_events`.

use super::domain::{Ev, Tk, View};
use crate::domain::{TicketKind, Urgency};
use crate::ticket::domain::TimelineEntry;
use kernel::clock::Millis;
use kernel::error::Result;
use kernel::Db;
use serde_json::Value;
use sqlx::Row;
use std::collections::HashMap;

/// The rows a report replays.
pub(super) struct Rows {
    /// The tickets that matter for the period, by id.
    pub(super) tickets: Vec<Tk>,
    /// Their events before the period's end, in order, by ticket.
    pub(super) events: HashMap<i64, Vec<Ev>>,
    /// Tickets merged into each ticket (duplicates: more callers).
    pub(super) merged: HashMap<i64, i64>,
}

/// The WHERE clause choosing the tickets that matter for `[from, to)`: created before `to`, and
/// either still open or changed since `from` (a ticket closed before `from` and untouched since
/// contributes nothing). `$1` is `to`, `$2` is `from`, `$3` the region prefix.
pub(super) fn ticket_filter(view: &View) -> String {
    let mut w = "t.created_at < $1 AND (t.status NOT IN ('closed', 'archived', 'merged', 'split')
        OR EXISTS (SELECT 1 FROM hotline_events x WHERE x.ticket_id = t.id AND x.at >= $2))"
        .to_owned();
    match view {
        View::All => {}
        // As in the ticket lists: a ticket without a region is visible region-wide.
        View::Region(_) => w.push_str(" AND (t.region_code IS NULL OR t.region_code LIKE $3)"),
        View::Departments(ids) => {
            let list = if ids.is_empty() {
                "NULL".to_owned()
            } else {
                ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            };
            w.push_str(&format!(
                " AND (t.main_dept_id IN ({list}) OR EXISTS (SELECT 1 FROM hotline_events d
                    WHERE d.ticket_id = t.id AND d.dept_id IN ({list})))"
            ));
        }
    }
    w
}

/// The tickets that matter for `[from, to)` as `view` sees them, their events and the merge
/// counts, read over one connection.
pub(super) async fn rows(db: &Db, view: &View, from: Millis, to: Millis) -> Result<Rows> {
    let filter = ticket_filter(view);
    let prefix = match view {
        View::Region(p) => Some(format!("{p}%")),
        _ => None,
    };
    let mut c = db.pool().acquire().await?;
    let sql = format!(
        "SELECT t.id, t.number, t.title, t.content, t.kind, t.urgency, t.caller_name,
            t.address, t.region_code, t.category_id, t.main_dept_id, t.split_from_id, t.created_at
         FROM hotline_tickets t WHERE {filter} ORDER BY t.id"
    );
    let mut q = sqlx::query(&sql).bind(to).bind(from);
    if let Some(p) = &prefix {
        q = q.bind(p.clone());
    }
    let mut tickets = Vec::new();
    for r in q.fetch_all(&mut *c).await? {
        let kind: String = r.get("kind");
        let urgency: String = r.get("urgency");
        tickets.push(Tk {
            id: r.get("id"),
            number: r.get("number"),
            title: r.get("title"),
            content: r.get("content"),
            kind: TicketKind::parse(&kind).unwrap_or(TicketKind::Help),
            urgency: Urgency::parse(&urgency).unwrap_or(Urgency::Normal),
            caller_name: r.get("caller_name"),
            address: r.get("address"),
            region_code: r.get("region_code"),
            category_id: r.get("category_id"),
            main_dept_id: r.get("main_dept_id"),
            split_from_id: r.get("split_from_id"),
            created_at: r.get("created_at"),
        });
    }
    let sql = format!(
        "SELECT e.ticket_id, e.at, e.action, e.from_status, e.to_status, e.dept_id, e.note, e.data
         FROM hotline_events e
         WHERE e.at < $1 AND e.ticket_id IN (SELECT t.id FROM hotline_tickets t WHERE {filter})
         ORDER BY e.ticket_id, e.id"
    );
    let mut q = sqlx::query(&sql).bind(to).bind(from);
    if let Some(p) = &prefix {
        q = q.bind(p.clone());
    }
    let mut events: HashMap<i64, Vec<Ev>> = HashMap::new();
    for r in q.fetch_all(&mut *c).await? {
        let e = Ev {
            ticket_id: r.get("ticket_id"),
            at: r.get("at"),
            action: r.get("action"),
            from: r.get("from_status"),
            to: r.get("to_status"),
            dept_id: r.get("dept_id"),
            note: r.get("note"),
            data: serde_json::from_str(&r.get::<String, _>("data")).unwrap_or(Value::Null),
        };
        events.entry(e.ticket_id).or_default().push(e);
    }
    let merged_rows = sqlx::query(
        "SELECT parent_id, COUNT(*) AS n FROM hotline_tickets WHERE parent_id IS NOT NULL
         AND status IN ('merged', 'closed', 'archived') GROUP BY parent_id",
    )
    .fetch_all(&mut *c)
    .await?;
    drop(c);
    let merged = merged_rows
        .iter()
        .map(|r| (r.get::<i64, _>("parent_id"), r.get::<i64, _>("n")))
        .collect();
    Ok(Rows {
        tickets,
        events,
        merged,
    })
}

/// The timelines of some tickets, in the order asked.
pub(super) async fn timelines(db: &Db, ids: &[i64]) -> Result<Vec<Vec<TimelineEntry>>> {
    let mut c = db.pool().acquire().await?;
    let mut out = Vec::new();
    for id in ids {
        out.push(crate::ticket::store::events(&mut c, *id).await?);
    }
    Ok(out)
}
