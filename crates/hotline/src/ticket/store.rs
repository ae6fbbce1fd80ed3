//! SQL of tickets, their timeline, categories and deadline policies (`hotline_tickets`,
//! `hotline_events`, `hotline_categories`, `hotline_deadline_policies` …).

pub(crate) use super::domain::TimelineEntry;
use super::domain::*;
use kernel::db::flag;
use kernel::error::{Error, Result};
use kernel::sealed::Sealer;
use kernel::Authorized;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

const TICKET_COLS: &str = "id, number, channel, kind, urgency, status, caller_name, caller_phone, wants_reply, anonymous,
    address, region_code, lng, lat, title, content, category_id, answers, main_dept_id, co_dept_ids, ack_due, reply_due,
    paused_since, card, reply, replied_at, resolution, kb_article_id, satisfaction, callback_attempts, reopen_count,
    return_count, pending_extension, supervised, parent_id, split_from_id, created_at, accepted_at, dispatched_at,
    acknowledged_at, closed_at, archived_at, updated_at, version";

fn parse_or<T>(s: Option<String>, f: impl Fn(&str) -> Option<T>) -> Option<T> {
    s.as_deref().and_then(f)
}

/// A ticket from its row, the caller's phone opened (`kernel::sealed`).
pub fn ticket_row(s: &Sealer, r: &AnyRow) -> Result<(Ticket, i64)> {
    let bad = |col: &str| Error::internal(format!("hotline_tickets.{col} holds an unknown value"));
    let t = Ticket {
        id: r.get("id"),
        number: r.get("number"),
        channel: Channel::parse(&r.get::<String, _>("channel")).ok_or_else(|| bad("channel"))?,
        kind: TicketKind::parse(&r.get::<String, _>("kind")).ok_or_else(|| bad("kind"))?,
        urgency: Urgency::parse(&r.get::<String, _>("urgency")).ok_or_else(|| bad("urgency"))?,
        status: Status::parse(&r.get::<String, _>("status")).ok_or_else(|| bad("status"))?,
        caller: Caller {
            name: r.get("caller_name"),
            phone: s.open_opt("hotline_tickets.caller_phone", r.get("caller_phone"))?,
            wants_reply: flag(r.get("wants_reply")),
            anonymous: flag(r.get("anonymous")),
        },
        location: Location {
            address: r.get("address"),
            region_code: r.get("region_code"),
            lng: r.get("lng"),
            lat: r.get("lat"),
        },
        title: r.get("title"),
        content: r.get("content"),
        category_id: r.get("category_id"),
        answers: serde_json::from_str(&r.get::<String, _>("answers"))
            .unwrap_or(serde_json::Value::Null),
        main_dept_id: r.get("main_dept_id"),
        co_dept_ids: serde_json::from_str(&r.get::<String, _>("co_dept_ids")).unwrap_or_default(),
        ack_due: r.get("ack_due"),
        reply_due: r.get("reply_due"),
        paused_since: r.get("paused_since"),
        card: Card::parse(&r.get::<String, _>("card")).unwrap_or(Card::None),
        reply: r.get("reply"),
        replied_at: r.get("replied_at"),
        resolution: parse_or(r.get("resolution"), Resolution::parse),
        kb_article_id: r.get("kb_article_id"),
        satisfaction: parse_or(r.get("satisfaction"), CallbackResult::parse),
        callback_attempts: r.get("callback_attempts"),
        reopen_count: r.get("reopen_count"),
        return_count: r.get("return_count"),
        pending_extension: r
            .get::<Option<String>, _>("pending_extension")
            .and_then(|s| serde_json::from_str(&s).ok()),
        supervised: flag(r.get("supervised")),
        parent_id: r.get("parent_id"),
        split_from_id: r.get("split_from_id"),
        created_at: r.get("created_at"),
        accepted_at: r.get("accepted_at"),
        dispatched_at: r.get("dispatched_at"),
        acknowledged_at: r.get("acknowledged_at"),
        closed_at: r.get("closed_at"),
        archived_at: r.get("archived_at"),
        updated_at: r.get("updated_at"),
    };
    Ok((t, r.get("version")))
}

/// The next number of the day, atomically (the UPDATE locks the day's row).
pub async fn next_day_seq(c: &mut AnyConnection, day: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO hotline_day_counters (day, last) VALUES ($1, 1)
         ON CONFLICT (day) DO UPDATE SET last = hotline_day_counters.last + 1 RETURNING last",
    )
    .bind(day)
    .fetch_one(c)
    .await?)
}

/// Inserts a ticket as it stands (new at intake, or historical with its reply from an import).
pub async fn insert_ticket(
    c: &mut AnyConnection,
    s: &Sealer,
    _by: Authorized<'_>,
    t: &Ticket,
    external_id: Option<&str>,
    extra: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO hotline_tickets (number, channel, kind, urgency, status, caller_name, caller_phone, wants_reply, anonymous,
            address, region_code, lng, lat, title, content, category_id, answers, reply, replied_at, resolution,
            external_id, extra, created_at, accepted_at, closed_at, updated_at, split_from_id, caller_phone_idx)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,
            $24, $25, $26, $27, $28) RETURNING id",
    )
    .bind(&t.number)
    .bind(t.channel.code())
    .bind(t.kind.code())
    .bind(t.urgency.code())
    .bind(t.status.code())
    .bind(&t.caller.name)
    .bind(s.seal_opt(t.caller.phone.as_deref())?)
    .bind(t.caller.wants_reply as i64)
    .bind(t.caller.anonymous as i64)
    .bind(&t.location.address)
    .bind(&t.location.region_code)
    .bind(t.location.lng)
    .bind(t.location.lat)
    .bind(&t.title)
    .bind(&t.content)
    .bind(t.category_id)
    .bind(t.answers.to_string())
    .bind(&t.reply)
    .bind(t.replied_at)
    .bind(t.resolution.map(Resolution::code))
    .bind(external_id)
    .bind(extra.map(|e| serde_json::Value::Object(e.clone()).to_string()).unwrap_or_else(|| "{}".into()))
    .bind(t.created_at)
    .bind(t.accepted_at)
    .bind(t.closed_at)
    .bind(t.updated_at)
    .bind(t.split_from_id)
    .bind(s.index_opt(t.caller.phone.as_deref())?)
    .fetch_one(c)
    .await?;
    Ok(id)
}

/// Writes every mutable column, if nobody changed the ticket since `version` was read.
pub async fn update_ticket(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    t: &Ticket,
    version: i64,
) -> Result<()> {
    let n = sqlx::query(
        "UPDATE hotline_tickets SET status = $1, kind = $2, urgency = $3, address = $4, region_code = $5, lng = $6, lat = $7,
            category_id = $8, answers = $9, main_dept_id = $10, co_dept_ids = $11, ack_due = $12, reply_due = $13,
            paused_since = $14, card = $15, reply = $16, replied_at = $17, resolution = $18, kb_article_id = $19,
            satisfaction = $20, callback_attempts = $21, reopen_count = $22, return_count = $23, pending_extension = $24,
            supervised = $25, parent_id = $26, accepted_at = $27, dispatched_at = $28, acknowledged_at = $29,
            closed_at = $30, archived_at = $31, updated_at = $32, version = version + 1
         WHERE id = $33 AND version = $34",
    )
    .bind(t.status.code())
    .bind(t.kind.code())
    .bind(t.urgency.code())
    .bind(&t.location.address)
    .bind(&t.location.region_code)
    .bind(t.location.lng)
    .bind(t.location.lat)
    .bind(t.category_id)
    .bind(t.answers.to_string())
    .bind(t.main_dept_id)
    .bind(serde_json::to_string(&t.co_dept_ids)?)
    .bind(t.ack_due)
    .bind(t.reply_due)
    .bind(t.paused_since)
    .bind(t.card.code())
    .bind(&t.reply)
    .bind(t.replied_at)
    .bind(t.resolution.map(Resolution::code))
    .bind(t.kb_article_id)
    .bind(t.satisfaction.map(CallbackResult::code))
    .bind(t.callback_attempts)
    .bind(t.reopen_count)
    .bind(t.return_count)
    .bind(t.pending_extension.as_ref().map(serde_json::to_string).transpose()?)
    .bind(t.supervised as i64)
    .bind(t.parent_id)
    .bind(t.accepted_at)
    .bind(t.dispatched_at)
    .bind(t.acknowledged_at)
    .bind(t.closed_at)
    .bind(t.archived_at)
    .bind(t.updated_at)
    .bind(t.id)
    .bind(version)
    .execute(&mut *c)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(Error::conflict(
            "concurrent_change",
            None,
            "工单刚被他人修改，请刷新后重试",
        ));
    }
    sync_depts(c, t).await
}

/// Keeps the scope join table equal to the ticket's current departments.
async fn sync_depts(c: &mut AnyConnection, t: &Ticket) -> Result<()> {
    sqlx::query("DELETE FROM hotline_ticket_depts WHERE ticket_id = $1")
        .bind(t.id)
        .execute(&mut *c)
        .await?;
    if let Some(m) = t.main_dept_id {
        sqlx::query(
            "INSERT INTO hotline_ticket_depts (ticket_id, dept_id, role) VALUES ($1, $2, 'main')",
        )
        .bind(t.id)
        .bind(m)
        .execute(&mut *c)
        .await?;
    }
    for d in &t.co_dept_ids {
        sqlx::query(
            "INSERT INTO hotline_ticket_depts (ticket_id, dept_id, role) VALUES ($1, $2, 'co')",
        )
        .bind(t.id)
        .bind(d)
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

pub async fn ticket(c: &mut AnyConnection, s: &Sealer, id: i64) -> Result<Option<(Ticket, i64)>> {
    let r = sqlx::query(&format!(
        "SELECT {TICKET_COLS} FROM hotline_tickets WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await?;
    r.as_ref().map(|r| ticket_row(s, r)).transpose()
}

pub async fn ticket_by_number(
    c: &mut AnyConnection,
    s: &Sealer,
    number: &str,
) -> Result<Option<(Ticket, i64)>> {
    let r = sqlx::query(&format!(
        "SELECT {TICKET_COLS} FROM hotline_tickets WHERE number = $1"
    ))
    .bind(number)
    .fetch_optional(c)
    .await?;
    r.as_ref().map(|r| ticket_row(s, r)).transpose()
}

pub async fn children(
    c: &mut AnyConnection,
    s: &Sealer,
    parent_id: i64,
) -> Result<Vec<(Ticket, i64)>> {
    let rows = sqlx::query(&format!(
        "SELECT {TICKET_COLS} FROM hotline_tickets WHERE parent_id = $1 ORDER BY id"
    ))
    .bind(parent_id)
    .fetch_all(c)
    .await?;
    rows.iter().map(|r| ticket_row(s, r)).collect()
}

pub async fn split_parts(
    c: &mut AnyConnection,
    s: &Sealer,
    parent_id: i64,
) -> Result<Vec<(Ticket, i64)>> {
    let rows = sqlx::query(&format!(
        "SELECT {TICKET_COLS} FROM hotline_tickets WHERE split_from_id = $1 ORDER BY id"
    ))
    .bind(parent_id)
    .fetch_all(c)
    .await?;
    rows.iter().map(|r| ticket_row(s, r)).collect()
}

pub struct NewEvent<'a> {
    pub ticket_id: i64,
    pub at: i64,
    pub actor: &'a str,
    pub actor_name: &'a str,
    pub event: &'a Event,
}

pub async fn insert_event(c: &mut AnyConnection, e: NewEvent<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO hotline_events (ticket_id, at, actor, actor_name, action, from_status, to_status, dept_id, note, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(e.ticket_id)
    .bind(e.at)
    .bind(e.actor)
    .bind(e.actor_name)
    .bind(e.event.action)
    .bind(e.event.from.code())
    .bind(e.event.to.code())
    .bind(e.event.dept_id)
    .bind(&e.event.note)
    .bind(e.event.data.to_string())
    .fetch_one(c)
    .await?)
}

pub async fn events(c: &mut AnyConnection, ticket_id: i64) -> Result<Vec<TimelineEntry>> {
    let rows = sqlx::query(
        "SELECT id, at, actor, actor_name, action, from_status, to_status, dept_id, note, data FROM hotline_events WHERE ticket_id = $1 ORDER BY id",
    )
    .bind(ticket_id)
    .fetch_all(c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| TimelineEntry {
            id: r.get("id"),
            at: r.get("at"),
            actor: r.get("actor"),
            actor_name: r.get("actor_name"),
            action: r.get("action"),
            from_status: r.get("from_status"),
            to_status: r.get("to_status"),
            dept_id: r.get("dept_id"),
            note: r.get("note"),
            data: serde_json::from_str(&r.get::<String, _>("data"))
                .unwrap_or(serde_json::Value::Null),
        })
        .collect())
}

fn where_clause(f: &TicketFilter, s: &Sealer) -> Result<(String, Vec<String>)> {
    let mut w = vec!["1 = 1".to_owned()];
    let mut b: Vec<String> = Vec::new();
    let list = |v: &[i64]| {
        if v.is_empty() {
            "NULL".to_owned()
        } else {
            v.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        }
    };
    // The data scope, as `kernel::Scope::filter` says (the same rule as `Scope::can_see`).
    if f.scope.nothing {
        w.push("1 = 0".to_owned());
    }
    if let Some(ids) = &f.scope.dept_ids {
        w.push(format!(
            "t.id IN (SELECT ticket_id FROM hotline_ticket_depts WHERE dept_id IN ({}))",
            list(ids)
        ));
    }
    if let Some(p) = &f.scope.region_prefix {
        b.push(format!("{p}%"));
        w.push(if f.scope.include_unplaced {
            format!("(t.region_code IS NULL OR t.region_code LIKE ${})", b.len())
        } else {
            format!("t.region_code LIKE ${}", b.len())
        });
    }
    if !f.status.is_empty() {
        let s: Vec<String> = f.status.iter().map(|s| format!("'{}'", s.code())).collect();
        w.push(format!("t.status IN ({})", s.join(",")));
    }
    if let Some(d) = f.main_dept_id {
        w.push(format!("t.main_dept_id = {d}"));
    }
    if let Some(k) = f.kind {
        w.push(format!("t.kind = '{}'", k.code()));
    }
    if let Some(c) = f.card {
        w.push(format!("t.card = '{}'", c.code()));
    }
    if let Some(c) = f.category_id {
        w.push(format!("(t.category_id = {c} OR t.category_id IN (SELECT id FROM hotline_categories WHERE parent_id = {c}
            OR parent_id IN (SELECT id FROM hotline_categories WHERE parent_id = {c})))"));
    }
    if let Some(p) = &f.caller_phone {
        // Through the keyed index: the stored number is sealed.
        b.push(s.index(p)?.unwrap_or_default());
        w.push(format!("t.caller_phone_idx = ${}", b.len()));
    }
    if let Some(q) = f.q.as_deref().filter(|q| !q.trim().is_empty()) {
        b.push(format!("%{}%", q.trim()));
        w.push(format!("(t.title LIKE ${n} OR t.content LIKE ${n} OR t.number LIKE ${n} OR t.address LIKE ${n})", n = b.len()));
    }
    if let Some(x) = f.created_from {
        w.push(format!("t.created_at >= {x}"));
    }
    if let Some(x) = f.created_to {
        w.push(format!("t.created_at < {x}"));
    }
    if let Some(x) = f.due_before {
        w.push(format!("t.reply_due IS NOT NULL AND t.reply_due < {x}"));
    }
    if f.has_pending_extension {
        w.push("t.pending_extension IS NOT NULL".into());
    }
    if f.reopened {
        w.push("t.reopen_count > 0".into());
    }
    if f.public_board {
        w.push("t.reply IS NOT NULL AND t.kind <> 'report'".into());
    }
    if let Some(r) = f.satisfaction {
        w.push(format!("t.satisfaction = '{}'", r.code()));
    }
    Ok((w.join(" AND "), b))
}

pub async fn tickets(
    c: &mut AnyConnection,
    s: &Sealer,
    f: &TicketFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Ticket>, i64)> {
    let (w, binds) = where_clause(f, s)?;
    let order = if f.order.is_empty() {
        "t.id DESC"
    } else {
        f.order
    };
    let sql = format!(
        "SELECT {} FROM hotline_tickets t WHERE {w} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
        TICKET_COLS.replace("id, number", "t.id, t.number")
    );
    let mut q = sqlx::query(&sql);
    for x in &binds {
        q = q.bind(x);
    }
    let rows = q.fetch_all(&mut *c).await?;
    let count_sql = format!("SELECT COUNT(*) FROM hotline_tickets t WHERE {w}");
    let mut q = sqlx::query_scalar::<_, i64>(&count_sql);
    for x in &binds {
        q = q.bind(x);
    }
    let total = q.fetch_one(c).await?;
    let items = rows
        .iter()
        .map(|r| ticket_row(s, r).map(|(t, _)| t))
        .collect::<Result<Vec<_>>>()?;
    Ok((items, total))
}

/// Open tickets a department holds, for the card sweep.
pub async fn open_with_department(
    c: &mut AnyConnection,
    s: &Sealer,
    after_id: i64,
    limit: i64,
) -> Result<Vec<(Ticket, i64)>> {
    let rows = sqlx::query(&format!(
        "SELECT {TICKET_COLS} FROM hotline_tickets WHERE status IN ('dispatched', 'acknowledged', 'in_progress') AND id > $1 ORDER BY id LIMIT $2"
    ))
    .bind(after_id)
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter().map(|r| ticket_row(s, r)).collect()
}

/// Sets the card only if it is still `from`: of several instances sweeping at once, exactly one
/// sees the change (and notifies).
pub async fn compare_and_set_card(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    id: i64,
    from: Card,
    to: Card,
) -> Result<bool> {
    let n = sqlx::query("UPDATE hotline_tickets SET card = $1 WHERE id = $2 AND card = $3")
        .bind(to.code())
        .bind(id)
        .bind(from.code())
        .execute(c)
        .await?
        .rows_affected();
    Ok(n == 1)
}

// ---- deadline policies ----

pub async fn policy(
    c: &mut AnyConnection,
    kind: TicketKind,
    urgency: Urgency,
) -> Result<DeadlinePolicy> {
    let r = sqlx::query("SELECT ack_minutes, reply_days, yellow_minutes FROM hotline_deadline_policies WHERE kind = $1 AND urgency = $2")
        .bind(kind.code())
        .bind(urgency.code())
        .fetch_optional(c)
        .await?;
    Ok(match r {
        Some(r) => DeadlinePolicy {
            ack_minutes: r.get(0),
            reply_days: r.get::<i64, _>(1).max(0) as u32,
            yellow_minutes: r.get(2),
        },
        None => DeadlinePolicy::default_for(kind, urgency),
    })
}

pub async fn set_policy(
    c: &mut AnyConnection,
    kind: TicketKind,
    urgency: Urgency,
    p: &DeadlinePolicy,
) -> Result<()> {
    sqlx::query("DELETE FROM hotline_deadline_policies WHERE kind = $1 AND urgency = $2")
        .bind(kind.code())
        .bind(urgency.code())
        .execute(&mut *c)
        .await?;
    sqlx::query("INSERT INTO hotline_deadline_policies (kind, urgency, ack_minutes, reply_days, yellow_minutes) VALUES ($1, $2, $3, $4, $5)")
        .bind(kind.code())
        .bind(urgency.code())
        .bind(p.ack_minutes)
        .bind(p.reply_days as i64)
        .bind(p.yellow_minutes)
        .execute(c)
        .await?;
    Ok(())
}

// ---- categories ----

fn category_row(r: &AnyRow) -> Category {
    Category {
        id: r.get("id"),
        parent_id: r.get("parent_id"),
        level: r.get("level"),
        name: r.get("name"),
        path: r.get("path"),
        questions: serde_json::from_str(&r.get::<String, _>("questions")).unwrap_or_default(),
        active: flag(r.get("active")),
    }
}

pub async fn categories(c: &mut AnyConnection) -> Result<Vec<Category>> {
    let rows = sqlx::query("SELECT id, parent_id, level, name, path, questions, active FROM hotline_categories ORDER BY path").fetch_all(c).await?;
    Ok(rows.iter().map(category_row).collect())
}

pub async fn category(c: &mut AnyConnection, id: i64) -> Result<Option<Category>> {
    let r = sqlx::query("SELECT id, parent_id, level, name, path, questions, active FROM hotline_categories WHERE id = $1").bind(id).fetch_optional(c).await?;
    Ok(r.as_ref().map(category_row))
}

pub async fn category_by_path(c: &mut AnyConnection, path: &str) -> Result<Option<Category>> {
    let r = sqlx::query("SELECT id, parent_id, level, name, path, questions, active FROM hotline_categories WHERE path = $1")
        .bind(path)
        .fetch_optional(c)
        .await?;
    Ok(r.as_ref().map(category_row))
}

pub async fn insert_category(
    c: &mut AnyConnection,
    parent_id: Option<i64>,
    level: i64,
    name: &str,
    path: &str,
    now: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar("INSERT INTO hotline_categories (parent_id, level, name, path, questions, active, created_at) VALUES ($1, $2, $3, $4, '[]', 1, $5) RETURNING id")
        .bind(parent_id)
        .bind(level)
        .bind(name)
        .bind(path)
        .bind(now)
        .fetch_one(c)
        .await?)
}

pub async fn set_questions(c: &mut AnyConnection, id: i64, qs: &[Question]) -> Result<()> {
    sqlx::query("UPDATE hotline_categories SET questions = $1 WHERE id = $2")
        .bind(serde_json::to_string(qs)?)
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

// ---- import ----
// Historical tickets brought in from spreadsheets (`crate::import`). They keep the source's
// message id as `external_id` and the columns without a ticket field in `extra` (JSON object).

/// A ticket found again by its external id: the ticket, its version and its `extra`.
pub struct ImportedTicket {
    pub ticket: Ticket,
    pub version: i64,
    pub extra: serde_json::Map<String, serde_json::Value>,
}

fn extra_of(text: &str) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::from_str(text) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    }
}

/// The tickets with these external ids, by external id. One query for a whole batch.
pub async fn tickets_by_external_ids(
    c: &mut AnyConnection,
    s: &Sealer,
    ids: &[String],
) -> Result<std::collections::HashMap<String, ImportedTicket>> {
    let mut out = std::collections::HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {TICKET_COLS}, external_id, extra FROM hotline_tickets WHERE external_id IN ({})",
        marks.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(id);
    }
    for r in q.fetch_all(c).await? {
        let (ticket, version) = ticket_row(s, &r)?;
        let ext: String = r.get("external_id");
        let extra = extra_of(&r.get::<String, _>("extra"));
        out.insert(
            ext,
            ImportedTicket {
                ticket,
                version,
                extra,
            },
        );
    }
    Ok(out)
}

/// Inserts an imported ticket with its own times, reply and extra in one statement (the
/// intake insert knows neither replies nor historical times).
pub async fn insert_imported_ticket(
    c: &mut AnyConnection,
    s: &Sealer,
    by: Authorized<'_>,
    t: &Ticket,
    external_id: &str,
    extra: &serde_json::Map<String, serde_json::Value>,
) -> Result<i64> {
    insert_ticket(c, s, by, t, Some(external_id), Some(extra)).await
}

pub async fn set_ticket_extra(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    id: i64,
    extra: &serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    sqlx::query("UPDATE hotline_tickets SET extra = $1 WHERE id = $2")
        .bind(serde_json::Value::Object(extra.clone()).to_string())
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

/// A ticket's `extra` columns (`{}` for tickets not imported); `None` when there is no such ticket.
pub async fn ticket_extra(
    c: &mut AnyConnection,
    id: i64,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>> {
    let text: Option<String> =
        sqlx::query_scalar("SELECT extra FROM hotline_tickets WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await?;
    Ok(text.as_deref().map(extra_of))
}

// ---- Open311 ----

/// Tickets for the public Open311 listing, newest first: by numbers, or by categories, statuses
/// and a creation window `[from, to)`. Empty lists mean "any".
pub async fn open311_tickets(
    c: &mut AnyConnection,
    s: &Sealer,
    numbers: &[String],
    category_ids: &[i64],
    statuses: &[Status],
    window: Option<(i64, i64)>,
    limit: i64,
) -> Result<Vec<Ticket>> {
    // 举报 stay with the staff, as on the public board: not listed, not found by number.
    let mut w = vec!["kind <> 'report'".to_owned()];
    if !numbers.is_empty() {
        let ph: Vec<String> = (1..=numbers.len()).map(|i| format!("${i}")).collect();
        w.push(format!("number IN ({})", ph.join(",")));
    }
    if !category_ids.is_empty() {
        let ids: Vec<String> = category_ids.iter().map(i64::to_string).collect();
        w.push(format!("category_id IN ({})", ids.join(",")));
    }
    if !statuses.is_empty() {
        let s: Vec<String> = statuses.iter().map(|s| format!("'{}'", s.code())).collect();
        w.push(format!("status IN ({})", s.join(",")));
    }
    if let Some((from, to)) = window {
        w.push(format!("created_at >= {from} AND created_at < {to}"));
    }
    let sql = format!(
        "SELECT {TICKET_COLS} FROM hotline_tickets WHERE {} ORDER BY created_at DESC, id DESC LIMIT {limit}",
        w.join(" AND ")
    );
    let mut q = sqlx::query(&sql);
    for n in numbers {
        q = q.bind(n);
    }
    let rows = q.fetch_all(c).await?;
    rows.iter()
        .map(|r| ticket_row(s, r).map(|(t, _)| t))
        .collect()
}
