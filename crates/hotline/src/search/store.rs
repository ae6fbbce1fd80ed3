//! The SQL of search: its settings, the tickets duplicates and hot issues are looked for in,
//! stored duplicate suggestions and what the knowledge-base index is built from.

use super::kb::KbDoc;
use super::Settings;
use crate::ticket::domain::Ticket;
use crate::ticket::store::ticket_row;
use kernel::error::Result;
use sqlx::{AnyConnection, Row};

pub async fn settings(c: &mut AnyConnection) -> Result<Settings> {
    let r = sqlx::query(
        "SELECT kb_generation, qa_min_score, dup_window_days, dup_min_similarity
         FROM hotline_intel_settings WHERE id = 1",
    )
    .fetch_one(c)
    .await?;
    Ok(Settings {
        kb_generation: r.get("kb_generation"),
        qa_min_score: r.get("qa_min_score"),
        dup_window_days: r.get("dup_window_days"),
        dup_min_similarity: r.get("dup_min_similarity"),
    })
}

// ---- duplicates ----

/// What the duplicate index keeps of a ticket.
pub struct DupRow {
    pub id: i64,
    pub title: String,
    pub content: String,
    pub address: Option<String>,
    pub created_at: i64,
    /// Still open and not split: a ticket a new one could be a duplicate of.
    pub candidate: bool,
}

const DUP_COLUMNS: &str = "id, title, content, address, created_at, status";
const NOT_CANDIDATE: [&str; 4] = ["closed", "archived", "merged", "split"];

fn dup_row(r: &sqlx::any::AnyRow) -> DupRow {
    let status: String = r.get("status");
    DupRow {
        id: r.get("id"),
        title: r.get("title"),
        content: r.get("content"),
        address: r.get("address"),
        created_at: r.get("created_at"),
        candidate: !NOT_CANDIDATE.contains(&status.as_str()),
    }
}

/// Tickets created since `since_ms` (the index's first fill).
pub async fn dup_rows_created_since(c: &mut AnyConnection, since_ms: i64) -> Result<Vec<DupRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {DUP_COLUMNS} FROM hotline_tickets WHERE created_at >= $1"
    ))
    .bind(since_ms)
    .fetch_all(c)
    .await?;
    Ok(rows.iter().map(dup_row).collect())
}

/// Tickets with an id above `after_id` or among `ids` (ids a concurrent transaction had taken
/// but not committed at the last look).
pub async fn dup_rows_after(
    c: &mut AnyConnection,
    after_id: i64,
    ids: &[i64],
) -> Result<Vec<DupRow>> {
    let listed: Vec<String> = ids.iter().map(i64::to_string).collect();
    let or_listed = if listed.is_empty() {
        String::new()
    } else {
        format!(" OR id IN ({})", listed.join(","))
    };
    let rows = sqlx::query(&format!(
        "SELECT {DUP_COLUMNS} FROM hotline_tickets WHERE id > $1{or_listed}"
    ))
    .bind(after_id)
    .fetch_all(c)
    .await?;
    Ok(rows.iter().map(dup_row).collect())
}

pub async fn max_ticket_id(c: &mut AnyConnection) -> Result<i64> {
    let r = sqlx::query("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) AS m FROM hotline_tickets")
        .fetch_one(c)
        .await?;
    Ok(r.get("m"))
}

/// The tickets with these ids, in no particular order.
pub async fn tickets_by_ids(
    c: &mut AnyConnection,
    s: &kernel::sealed::Sealer,
    ids: &[i64],
) -> Result<Vec<Ticket>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let listed: Vec<String> = ids.iter().map(i64::to_string).collect();
    let rows = sqlx::query(&format!(
        "SELECT * FROM hotline_tickets WHERE id IN ({})",
        listed.join(",")
    ))
    .fetch_all(c)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(ticket_row(s, r)?.0);
    }
    Ok(out)
}

/// Distinct callers on a ticket and its merged children; a ticket without a phone number is a
/// caller of its own.
pub async fn callers(c: &mut AnyConnection, id: i64) -> Result<i64> {
    let r = sqlx::query(
        "SELECT CAST(COUNT(DISTINCT caller_phone_idx) AS BIGINT) AS phones,
                CAST(COALESCE(SUM(CASE WHEN caller_phone_idx IS NULL OR caller_phone_idx = '' THEN 1 ELSE 0 END), 0) AS BIGINT) AS nophone
         FROM hotline_tickets WHERE id = $1 OR (parent_id = $1 AND status = 'merged')",
    )
    .bind(id)
    .fetch_one(&mut *c)
    .await?;
    let phones: i64 = r.get("phones");
    let nophone: i64 = r.get("nophone");
    Ok(phones + nophone)
}

pub async fn insert_suggestion(
    c: &mut AnyConnection,
    ticket_id: i64,
    candidate_id: i64,
    similarity: f64,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO hotline_duplicate_suggestions (ticket_id, candidate_id, similarity, created_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(ticket_id)
    .bind(candidate_id)
    .bind(similarity)
    .bind(now)
    .execute(c)
    .await?;
    Ok(())
}

/// The suggestion stored at intake: candidate id and similarity.
pub async fn stored_suggestion(c: &mut AnyConnection, id: i64) -> Result<Option<(i64, f64)>> {
    let r = sqlx::query(
        "SELECT candidate_id, similarity FROM hotline_duplicate_suggestions WHERE ticket_id = $1",
    )
    .bind(id)
    .fetch_optional(c)
    .await?;
    Ok(r.map(|r| (r.get("candidate_id"), r.get("similarity"))))
}

// ---- hot issues ----

/// Tickets registered in `[from_ms, to_ms)` (not split parts), in a region when given, in
/// order, at most `limit`.
pub async fn period_tickets(
    c: &mut AnyConnection,
    s: &kernel::sealed::Sealer,
    from_ms: i64,
    to_ms: i64,
    region: Option<&str>,
    limit: i64,
) -> Result<Vec<Ticket>> {
    let rows = sqlx::query(&format!(
        "SELECT * FROM hotline_tickets WHERE created_at >= $1 AND created_at < $2
         AND split_from_id IS NULL AND (region_code LIKE $3 OR $4 = '')
         ORDER BY created_at, id LIMIT {limit}"
    ))
    .bind(from_ms)
    .bind(to_ms)
    .bind(format!("{}%", region.unwrap_or("")))
    .bind(region.unwrap_or(""))
    .fetch_all(&mut *c)
    .await?;
    rows.iter().map(|r| Ok(ticket_row(s, r)?.0)).collect()
}

// ---- knowledge-base index ----

pub async fn kb_generation(c: &mut AnyConnection) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT kb_generation FROM hotline_intel_settings WHERE id = 1")
            .fetch_one(c)
            .await?,
    )
}

/// Published articles with their category paths, and the category names for the dictionary.
pub async fn kb_documents(c: &mut AnyConnection) -> Result<(Vec<KbDoc>, Vec<String>)> {
    let rows = sqlx::query(
        "SELECT a.id, a.question, a.answer, a.valid_from, a.valid_until, c.path
         FROM hotline_kb_articles a LEFT JOIN hotline_categories c ON c.id = a.category_id
         WHERE a.status = 'published' ORDER BY a.id",
    )
    .fetch_all(&mut *c)
    .await?;
    let docs = rows
        .iter()
        .map(|r| KbDoc {
            id: r.get("id"),
            title: r.get("question"),
            body: r.get("answer"),
            keywords: r
                .get::<Option<String>, _>("path")
                .unwrap_or_default()
                .replace('/', " "),
            valid_from: r.get("valid_from"),
            valid_until: r.get("valid_until"),
        })
        .collect();
    let words: Vec<String> = sqlx::query_scalar("SELECT name FROM hotline_categories")
        .fetch_all(&mut *c)
        .await?;
    Ok((docs, words))
}
