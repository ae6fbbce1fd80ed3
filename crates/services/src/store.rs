//! The service hall's SQL. Only this file touches `services_*` tables.

use crate::domain::*;
use kernel::error::{Error, Result};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

fn bad(table: &str) -> impl Fn(serde_json::Error) -> Error + '_ {
    move |e| Error::internal(format!("{table}: stored JSON unreadable: {e}"))
}

// ---- numbers ----

/// The next number of `kind` for `day`, atomically (the UPDATE locks the row).
pub async fn next_seq(c: &mut AnyConnection, kind: &str, day: &str) -> Result<i64> {
    sqlx::query(
        "INSERT INTO services_day_counters (kind, day, last) VALUES ($1, $2, 0) ON CONFLICT (kind, day) DO NOTHING",
    )
    .bind(kind)
    .bind(day)
    .execute(&mut *c)
    .await?;
    let r = sqlx::query(
        "UPDATE services_day_counters SET last = last + 1 WHERE kind = $1 AND day = $2 RETURNING last",
    )
    .bind(kind)
    .bind(day)
    .fetch_one(&mut *c)
    .await?;
    Ok(r.get(0))
}

// ---- items ----

fn item_row(r: &AnyRow) -> Result<ServiceItem> {
    let content: ItemInput = serde_json::from_str(&r.get::<String, _>("content"))
        .map_err(bad("services_item_versions"))?;
    Ok(ServiceItem {
        id: r.get("item_id"),
        version: r.get("version"),
        status: ItemStatus::parse(&r.get::<String, _>("status"))
            .ok_or_else(|| Error::internal("services_item_versions.status"))?,
        region_code: r.get("region_code"),
        content,
        created_at: r.get("created_at"),
        published_at: r.get("published_at"),
    })
}

const ITEM_COLS: &str =
    "v.item_id, v.version, v.status, v.content, v.created_at, v.published_at, i.region_code";

pub async fn insert_item(
    c: &mut AnyConnection,
    input: &ItemInput,
    region_code: &str,
    search: &str,
    now: i64,
) -> Result<i64> {
    let id: i64 = sqlx::query(
        "INSERT INTO services_items (impl_code, dept_id, region_code, latest_version, created_at, updated_at)
         VALUES ($1, $2, $3, 1, $4, $4) RETURNING id",
    )
    .bind(input.impl_code.trim())
    .bind(input.dept_id)
    .bind(region_code)
    .bind(now)
    .fetch_one(&mut *c)
    .await
    .map_err(|e| Error::from_db(e, "impl_code", "实施编码已存在"))?
    .get(0);
    insert_version(c, id, 1, input, search, now).await?;
    Ok(id)
}

pub async fn insert_version(
    c: &mut AnyConnection,
    id: i64,
    version: i64,
    input: &ItemInput,
    search: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO services_item_versions (item_id, version, status, name, search_text, content, created_at)
         VALUES ($1, $2, 'draft', $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(version)
    .bind(input.name.trim())
    .bind(search)
    .bind(serde_json::to_string(input)?)
    .bind(now)
    .execute(&mut *c)
    .await?;
    sqlx::query("UPDATE services_items SET latest_version = $1, dept_id = $2, updated_at = $3 WHERE id = $4")
        .bind(version)
        .bind(input.dept_id)
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Rewrites a draft. Published versions are never touched: the WHERE says so.
pub async fn update_draft(
    c: &mut AnyConnection,
    id: i64,
    version: i64,
    input: &ItemInput,
    search: &str,
    now: i64,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE services_item_versions SET name = $1, search_text = $2, content = $3
         WHERE item_id = $4 AND version = $5 AND status = 'draft'",
    )
    .bind(input.name.trim())
    .bind(search)
    .bind(serde_json::to_string(input)?)
    .bind(id)
    .bind(version)
    .execute(&mut *c)
    .await?
    .rows_affected();
    sqlx::query("UPDATE services_items SET dept_id = $1, updated_at = $2 WHERE id = $3")
        .bind(input.dept_id)
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(n == 1)
}

pub async fn publish(c: &mut AnyConnection, id: i64, version: i64, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE services_item_versions SET status = 'superseded' WHERE item_id = $1 AND status = 'published'",
    )
    .bind(id)
    .execute(&mut *c)
    .await?;
    sqlx::query(
        "UPDATE services_item_versions SET status = 'published', published_at = $1 WHERE item_id = $2 AND version = $3 AND status = 'draft'",
    )
    .bind(now)
    .bind(id)
    .bind(version)
    .execute(&mut *c)
    .await?;
    sqlx::query("UPDATE services_items SET published_version = $1, updated_at = $2 WHERE id = $3")
        .bind(version)
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// (latest version, published version) of an item.
pub async fn item_versions_of(
    c: &mut AnyConnection,
    id: i64,
) -> Result<Option<(i64, Option<i64>)>> {
    Ok(
        sqlx::query("SELECT latest_version, published_version FROM services_items WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *c)
            .await?
            .map(|r| (r.get(0), r.get(1))),
    )
}

pub async fn item_version(
    c: &mut AnyConnection,
    id: i64,
    version: i64,
) -> Result<Option<ServiceItem>> {
    sqlx::query(&format!(
        "SELECT {ITEM_COLS} FROM services_item_versions v JOIN services_items i ON i.id = v.item_id
         WHERE v.item_id = $1 AND v.version = $2"
    ))
    .bind(id)
    .bind(version)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| item_row(&r))
    .transpose()
}

pub async fn all_versions(c: &mut AnyConnection, id: i64) -> Result<Vec<ServiceItem>> {
    sqlx::query(&format!(
        "SELECT {ITEM_COLS} FROM services_item_versions v JOIN services_items i ON i.id = v.item_id
         WHERE v.item_id = $1 ORDER BY v.version"
    ))
    .bind(id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(item_row)
    .collect()
}

pub async fn item_id_by_impl_code(c: &mut AnyConnection, code: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query("SELECT id FROM services_items WHERE impl_code = $1")
            .bind(code)
            .fetch_optional(&mut *c)
            .await?
            .map(|r| r.get(0)),
    )
}

/// Published versions whose search text holds every term; `dept_ids` limits to departments.
pub async fn published_items(
    c: &mut AnyConnection,
    terms: &[String],
    dept_ids: Option<&[i64]>,
) -> Result<Vec<ServiceItem>> {
    let mut sql = format!(
        "SELECT {ITEM_COLS} FROM services_item_versions v JOIN services_items i ON i.id = v.item_id
         WHERE v.status = 'published'"
    );
    let mut n = 0;
    for _ in terms {
        n += 1;
        sql.push_str(&format!(" AND v.search_text LIKE ${n}"));
    }
    if let Some(ids) = dept_ids {
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        sql.push_str(&format!(
            " AND i.dept_id IN ({})",
            if list.is_empty() {
                "0".into()
            } else {
                list.join(",")
            }
        ));
    }
    sql.push_str(" ORDER BY v.name, v.item_id");
    let mut q = sqlx::query(&sql);
    for t in terms {
        q = q.bind(format!("%{t}%"));
    }
    q.fetch_all(&mut *c).await?.iter().map(item_row).collect()
}

/// The published versions of these items, in the order of `ids` (ids without one are left out).
pub async fn published_by_ids(c: &mut AnyConnection, ids: &[i64]) -> Result<Vec<ServiceItem>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    let mut found: std::collections::HashMap<i64, ServiceItem> = sqlx::query(&format!(
        "SELECT {ITEM_COLS} FROM services_item_versions v JOIN services_items i ON i.id = v.item_id
         WHERE v.status = 'published' AND v.item_id IN ({})",
        list.join(",")
    ))
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| item_row(r).map(|i| (i.id, i)))
    .collect::<Result<_>>()?;
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

/// Latest versions (draft or not) for staff lists.
pub async fn latest_items(
    c: &mut AnyConnection,
    dept_ids: Option<&[i64]>,
) -> Result<Vec<ServiceItem>> {
    let mut sql = format!(
        "SELECT {ITEM_COLS} FROM services_item_versions v JOIN services_items i ON i.id = v.item_id
         WHERE v.version = i.latest_version"
    );
    if let Some(ids) = dept_ids {
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        sql.push_str(&format!(
            " AND i.dept_id IN ({})",
            if list.is_empty() {
                "0".into()
            } else {
                list.join(",")
            }
        ));
    }
    sql.push_str(" ORDER BY v.name, v.item_id");
    sqlx::query(&sql)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(item_row)
        .collect()
}

// ---- bundles ----

fn bundle_row(r: &AnyRow) -> Result<Bundle> {
    Ok(Bundle {
        id: r.get("id"),
        content: serde_json::from_str(&r.get::<String, _>("content"))
            .map_err(bad("services_bundles"))?,
        created_at: r.get("created_at"),
    })
}

pub async fn insert_bundle(c: &mut AnyConnection, b: &BundleInput, now: i64) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO services_bundles (code, name, content, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(b.code.trim())
    .bind(b.name.trim())
    .bind(serde_json::to_string(b)?)
    .bind(now)
    .fetch_one(&mut *c)
    .await
    .map_err(|e| Error::from_db(e, "code", "一件事编码已存在"))?
    .get(0))
}

pub async fn bundle(c: &mut AnyConnection, id: i64) -> Result<Option<Bundle>> {
    sqlx::query("SELECT id, content, created_at FROM services_bundles WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .map(|r| bundle_row(&r))
        .transpose()
}

pub async fn bundles(c: &mut AnyConnection) -> Result<Vec<Bundle>> {
    sqlx::query("SELECT id, content, created_at FROM services_bundles ORDER BY id")
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(bundle_row)
        .collect()
}

/// A bundle application: the applicant and the merged form, the sub-cases hang off it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BundleCaseRow {
    pub id: i64,
    pub number: String,
    pub bundle_id: i64,
    pub applicant: Applicant,
    pub channel: Channel,
    pub form: serde_json::Map<String, serde_json::Value>,
    pub created_at: i64,
}

pub async fn insert_bundle_case(c: &mut AnyConnection, b: &BundleCaseRow) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO services_bundle_cases (number, bundle_id, applicant_user_id, applicant_id_no, applicant_phone, data, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(&b.number)
    .bind(b.bundle_id)
    .bind(b.applicant.user_id)
    .bind(&b.applicant.id_no)
    .bind(&b.applicant.phone)
    .bind(serde_json::to_string(b)?)
    .bind(b.created_at)
    .fetch_one(&mut *c)
    .await?
    .get(0))
}

pub async fn bundle_case_by(
    c: &mut AnyConnection,
    col: &str,
    v: &str,
) -> Result<Option<BundleCaseRow>> {
    let sql = if col == "id" {
        "SELECT id, data FROM services_bundle_cases WHERE id = CAST($1 AS BIGINT)"
    } else {
        "SELECT id, data FROM services_bundle_cases WHERE number = $1"
    };
    let Some(r) = sqlx::query(sql).bind(v).fetch_optional(&mut *c).await? else {
        return Ok(None);
    };
    let mut b: BundleCaseRow =
        serde_json::from_str(&r.get::<String, _>("data")).map_err(bad("services_bundle_cases"))?;
    b.id = r.get("id");
    Ok(Some(b))
}

// ---- cases ----

fn case_row(r: &AnyRow) -> Result<(Case, i64)> {
    let mut c: Case =
        serde_json::from_str(&r.get::<String, _>("data")).map_err(bad("services_cases"))?;
    c.id = r.get("id");
    Ok((c, r.get("version")))
}

pub async fn insert_case(c: &mut AnyConnection, k: &Case) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO services_cases (number, item_id, item_version, dept_id, region_code, bundle_case_id, applicant_user_id,
            applicant_id_no, applicant_phone, channel, status, card, immediate, legal_days, promised_days, accepted_at, due_at,
            closed_at, delivered_at, created_at, updated_at, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) RETURNING id",
    )
    .bind(&k.number)
    .bind(k.item_id)
    .bind(k.item_version)
    .bind(k.dept_id)
    .bind(&k.region_code)
    .bind(k.bundle_case_id)
    .bind(k.applicant.user_id)
    .bind(&k.applicant.id_no)
    .bind(&k.applicant.phone)
    .bind(k.channel.code())
    .bind(k.status.code())
    .bind(k.card.code())
    .bind(i64::from(k.immediate))
    .bind(i64::from(k.legal_days))
    .bind(i64::from(k.promised_days))
    .bind(k.accepted_at)
    .bind(k.due_at)
    .bind(k.closed_at)
    .bind(k.delivered_at)
    .bind(k.created_at)
    .bind(k.updated_at)
    .bind(serde_json::to_string(k)?)
    .fetch_one(&mut *c)
    .await?
    .get(0))
}

/// Writes a changed case if nobody changed it since `version` was read.
pub async fn update_case(c: &mut AnyConnection, k: &Case, version: i64) -> Result<()> {
    let n = sqlx::query(
        "UPDATE services_cases SET status = $1, card = $2, accepted_at = $3, due_at = $4, closed_at = $5, delivered_at = $6,
            updated_at = $7, data = $8, version = version + 1
         WHERE id = $9 AND version = $10",
    )
    .bind(k.status.code())
    .bind(k.card.code())
    .bind(k.accepted_at)
    .bind(k.due_at)
    .bind(k.closed_at)
    .bind(k.delivered_at)
    .bind(k.updated_at)
    .bind(serde_json::to_string(k)?)
    .bind(k.id)
    .bind(version)
    .execute(&mut *c)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(Error::conflict(
            "stale_case",
            None,
            "办件已被他人更新，请刷新后重试",
        ));
    }
    Ok(())
}

const CASE_COLS: &str = "id, data, version";

pub async fn case(c: &mut AnyConnection, id: i64) -> Result<Option<(Case, i64)>> {
    sqlx::query(&format!(
        "SELECT {CASE_COLS} FROM services_cases WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| case_row(&r))
    .transpose()
}

pub async fn case_by_number(c: &mut AnyConnection, number: &str) -> Result<Option<(Case, i64)>> {
    sqlx::query(&format!(
        "SELECT {CASE_COLS} FROM services_cases WHERE number = $1"
    ))
    .bind(number)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| case_row(&r))
    .transpose()
}

pub async fn cases_of_bundle(
    c: &mut AnyConnection,
    bundle_case_id: i64,
) -> Result<Vec<(Case, i64)>> {
    sqlx::query(&format!(
        "SELECT {CASE_COLS} FROM services_cases WHERE bundle_case_id = $1 ORDER BY id"
    ))
    .bind(bundle_case_id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(case_row)
    .collect()
}

#[derive(Debug, Default, Clone)]
pub struct CaseFilter {
    pub dept_ids: Option<Vec<i64>>,
    pub region_prefix: Option<String>,
    pub applicant_user_id: Option<i64>,
    pub statuses: Vec<CaseStatus>,
    pub item_id: Option<i64>,
    pub card: Option<Card>,
    /// Open past the deadline at this time.
    pub overdue_at: Option<i64>,
    /// Accepted, closed or created in [from, to).
    pub from: Option<i64>,
    pub to: Option<i64>,
}

pub async fn cases(
    c: &mut AnyConnection,
    f: &CaseFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Case>, i64)> {
    let mut w = vec!["1 = 1".to_owned()];
    let mut binds: Vec<String> = Vec::new();
    if let Some(ids) = &f.dept_ids {
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        w.push(format!(
            "dept_id IN ({})",
            if list.is_empty() {
                "0".into()
            } else {
                list.join(",")
            }
        ));
    }
    if let Some(p) = &f.region_prefix {
        binds.push(format!("{p}%"));
        w.push(format!("region_code LIKE ${}", binds.len()));
    }
    if let Some(u) = f.applicant_user_id {
        w.push(format!("applicant_user_id = {u}"));
    }
    if !f.statuses.is_empty() {
        let list: Vec<String> = f
            .statuses
            .iter()
            .map(|s| format!("'{}'", s.code()))
            .collect();
        w.push(format!("status IN ({})", list.join(",")));
    }
    if let Some(i) = f.item_id {
        w.push(format!("item_id = {i}"));
    }
    if let Some(card) = f.card {
        w.push(format!("card = '{}'", card.code()));
    }
    if let Some(t) = f.overdue_at {
        w.push("status = 'accepted' AND due_at IS NOT NULL".into());
        w.push(format!("due_at < {t}"));
    }
    if let Some(t) = f.from {
        w.push(format!(
            "(created_at >= {t} OR accepted_at >= {t} OR closed_at >= {t})"
        ));
    }
    if let Some(t) = f.to {
        w.push(format!("created_at < {t}"));
    }
    let where_ = w.join(" AND ");
    let count_sql = format!("SELECT COUNT(*) FROM services_cases WHERE {where_}");
    let mut q = sqlx::query(&count_sql);
    for b in &binds {
        q = q.bind(b);
    }
    let total: i64 = q.fetch_one(&mut *c).await?.get(0);
    let list_sql = format!(
        "SELECT {CASE_COLS} FROM services_cases WHERE {where_} ORDER BY created_at DESC, id DESC LIMIT {limit} OFFSET {offset}"
    );
    let mut q = sqlx::query(&list_sql);
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(&mut *c).await?;
    let list = rows
        .iter()
        .map(|r| case_row(r).map(|(k, _)| k))
        .collect::<Result<_>>()?;
    Ok((list, total))
}

/// Cases the card sweep looks at: accepted, with a deadline.
pub async fn running_cases(c: &mut AnyConnection) -> Result<Vec<(Case, i64)>> {
    sqlx::query(&format!(
        "SELECT {CASE_COLS} FROM services_cases WHERE status = 'accepted' AND due_at IS NOT NULL"
    ))
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(case_row)
    .collect()
}

/// Every case touched in [from, to): created, accepted or closed then; for reports.
pub async fn cases_in(c: &mut AnyConnection, from: i64, to: i64) -> Result<Vec<Case>> {
    sqlx::query(&format!(
        "SELECT {CASE_COLS} FROM services_cases WHERE (accepted_at >= $1 AND accepted_at < $2) OR (closed_at >= $1 AND closed_at < $2)
            OR (accepted_at < $2 AND due_at < $2 AND (closed_at IS NULL OR closed_at >= $2))"
    ))
    .bind(from)
    .bind(to)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| case_row(r).map(|(k, _)| k))
    .collect()
}

// ---- timeline ----

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    pub at: i64,
    pub case_id: i64,
    pub actor_name: String,
    pub action: String,
    pub label: String,
    pub from_status: String,
    pub to_status: String,
    pub note: Option<String>,
    pub data: serde_json::Value,
}

pub async fn insert_event(
    c: &mut AnyConnection,
    case_id: i64,
    at: i64,
    actor: &str,
    actor_name: &str,
    e: &Event,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO services_events (case_id, at, actor, actor_name, action, label, from_status, to_status, note, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(case_id)
    .bind(at)
    .bind(actor)
    .bind(actor_name)
    .bind(e.action)
    .bind(e.label)
    .bind(e.from.code())
    .bind(e.to.code())
    .bind(&e.note)
    .bind(e.data.to_string())
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn events(c: &mut AnyConnection, case_ids: &[i64]) -> Result<Vec<TimelineEntry>> {
    if case_ids.is_empty() {
        return Ok(vec![]);
    }
    let list: Vec<String> = case_ids.iter().map(i64::to_string).collect();
    let rows = sqlx::query(&format!(
        "SELECT case_id, at, actor_name, action, label, from_status, to_status, note, data FROM services_events
         WHERE case_id IN ({}) ORDER BY at, id",
        list.join(",")
    ))
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| TimelineEntry {
            at: r.get("at"),
            case_id: r.get("case_id"),
            actor_name: r.get("actor_name"),
            action: r.get("action"),
            label: r.get("label"),
            from_status: r.get("from_status"),
            to_status: r.get("to_status"),
            note: r.get("note"),
            data: serde_json::from_str(&r.get::<String, _>("data")).unwrap_or_default(),
        })
        .collect())
}

pub async fn compare_and_set_card(c: &mut AnyConnection, k: &Case, version: i64) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE services_cases SET card = $1, data = $2, version = version + 1 WHERE id = $3 AND version = $4",
    )
    .bind(k.card.code())
    .bind(serde_json::to_string(k)?)
    .bind(k.id)
    .bind(version)
    .execute(&mut *c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

// ---- evaluations ----

fn eval_row(r: &AnyRow) -> Result<Evaluation> {
    Ok(Evaluation {
        id: r.get("id"),
        case_id: r.get::<Option<i64>, _>("case_id").unwrap_or(0),
        case_number: r.get("case_number"),
        dept_id: r.get("dept_id"),
        item_id: r.get("item_id"),
        applicant_id_no: r.get("applicant_id_no"),
        round: r.get("round"),
        level: Level::parse(&r.get::<String, _>("level"))
            .ok_or_else(|| Error::internal("services_evaluations.level"))?,
        tags: serde_json::from_str(&r.get::<String, _>("tags")).unwrap_or_default(),
        text: r.get("text"),
        channel: EvalChannel::parse(&r.get::<String, _>("channel")).unwrap_or(EvalChannel::Web),
        staff: serde_json::from_str(&r.get::<String, _>("staff")).unwrap_or_default(),
        created_at: r.get("created_at"),
    })
}

const EVAL_COLS: &str = "id, case_id, case_number, dept_id, item_id, applicant_id_no, round, level, tags, text, channel, staff, created_at";

pub async fn insert_evaluation(c: &mut AnyConnection, e: &Evaluation) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO services_evaluations (case_id, case_number, dept_id, item_id, applicant_id_no, round, level, tags, text, channel, staff, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(e.case_id)
    .bind(&e.case_number)
    .bind(e.dept_id)
    .bind(e.item_id)
    .bind(&e.applicant_id_no)
    .bind(e.round)
    .bind(e.level.code())
    .bind(serde_json::to_string(&e.tags)?)
    .bind(&e.text)
    .bind(e.channel.code())
    .bind(serde_json::to_string(&e.staff)?)
    .bind(e.created_at)
    .fetch_one(&mut *c)
    .await
    .map_err(|x| Error::from_db(x, "case_number", "该办件已评价过"))?
    .get(0))
}

pub async fn evaluations_of(c: &mut AnyConnection, number: &str) -> Result<Vec<Evaluation>> {
    sqlx::query(&format!(
        "SELECT {EVAL_COLS} FROM services_evaluations WHERE case_number = $1 ORDER BY round"
    ))
    .bind(number)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(eval_row)
    .collect()
}

pub async fn evaluations_in(c: &mut AnyConnection, from: i64, to: i64) -> Result<Vec<Evaluation>> {
    sqlx::query(&format!(
        "SELECT {EVAL_COLS} FROM services_evaluations WHERE created_at >= $1 AND created_at < $2 ORDER BY id"
    ))
    .bind(from)
    .bind(to)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(eval_row)
    .collect()
}

/// Which of these cases have been rated, on their own number or on their bundle application's
/// (a bundle is rated once for all its sub-cases): 评价覆盖度 counts cases, not ratings.
pub async fn evaluated_cases(
    c: &mut AnyConnection,
    case_ids: &[i64],
) -> Result<std::collections::HashSet<i64>> {
    let mut out = std::collections::HashSet::new();
    for chunk in case_ids.chunks(500) {
        let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
        let rows = sqlx::query(&format!(
            "SELECT k.id FROM services_cases k WHERE k.id IN ({})
               AND (EXISTS (SELECT 1 FROM services_evaluations e WHERE e.case_number = k.number)
                 OR EXISTS (SELECT 1 FROM services_bundle_cases b
                            JOIN services_evaluations e ON e.case_number = b.number
                            WHERE b.id = k.bundle_case_id))",
            list.join(",")
        ))
        .fetch_all(&mut *c)
        .await?;
        out.extend(rows.iter().map(|r| r.get::<i64, _>(0)));
    }
    Ok(out)
}

fn rect_row(r: &AnyRow) -> Result<Rectification> {
    Ok(Rectification {
        id: r.get("id"),
        evaluation_id: r.get("evaluation_id"),
        case_number: r.get("case_number"),
        dept_id: r.get("dept_id"),
        status: RectificationStatus::parse(&r.get::<String, _>("status"))
            .ok_or_else(|| Error::internal("services_rectifications.status"))?,
        due_at: r.get("due_at"),
        reply: r.get("reply"),
        replied_at: r.get("replied_at"),
        review_note: r.get("review_note"),
        reviewed_at: r.get("reviewed_at"),
        created_at: r.get("created_at"),
    })
}

const RECT_COLS: &str = "id, evaluation_id, case_number, dept_id, status, due_at, reply, replied_at, review_note, reviewed_at, created_at";

pub async fn insert_rectification(c: &mut AnyConnection, r: &Rectification) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO services_rectifications (evaluation_id, case_number, dept_id, status, due_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(r.evaluation_id)
    .bind(&r.case_number)
    .bind(r.dept_id)
    .bind(r.status.code())
    .bind(r.due_at)
    .bind(r.created_at)
    .fetch_one(&mut *c)
    .await?
    .get(0))
}

pub async fn save_rectification(
    c: &mut AnyConnection,
    r: &Rectification,
    from: RectificationStatus,
) -> Result<()> {
    let n = sqlx::query(
        "UPDATE services_rectifications SET status = $1, reply = $2, replied_at = $3, review_note = $4, reviewed_at = $5
         WHERE id = $6 AND status = $7",
    )
    .bind(r.status.code())
    .bind(&r.reply)
    .bind(r.replied_at)
    .bind(&r.review_note)
    .bind(r.reviewed_at)
    .bind(r.id)
    .bind(from.code())
    .execute(&mut *c)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(Error::conflict(
            "stale_rectification",
            None,
            "整改任务已被他人更新，请刷新后重试",
        ));
    }
    Ok(())
}

pub async fn rectification(c: &mut AnyConnection, id: i64) -> Result<Option<Rectification>> {
    sqlx::query(&format!(
        "SELECT {RECT_COLS} FROM services_rectifications WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| rect_row(&r))
    .transpose()
}

pub async fn rectification_of(
    c: &mut AnyConnection,
    evaluation_id: i64,
) -> Result<Option<Rectification>> {
    sqlx::query(&format!(
        "SELECT {RECT_COLS} FROM services_rectifications WHERE evaluation_id = $1"
    ))
    .bind(evaluation_id)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| rect_row(&r))
    .transpose()
}

pub async fn rectifications(
    c: &mut AnyConnection,
    dept_ids: Option<&[i64]>,
) -> Result<Vec<Rectification>> {
    let mut sql = format!("SELECT {RECT_COLS} FROM services_rectifications");
    if let Some(ids) = dept_ids {
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        sql.push_str(&format!(
            " WHERE dept_id IN ({})",
            if list.is_empty() {
                "0".into()
            } else {
                list.join(",")
            }
        ));
    }
    sql.push_str(" ORDER BY id DESC");
    sqlx::query(&sql)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(rect_row)
        .collect()
}

// ---- 办不成事反映 ----

fn feedback_row(r: &AnyRow) -> Result<Feedback> {
    Ok(Feedback {
        id: r.get("id"),
        number: r.get("number"),
        name: r.get("name"),
        phone: r.get("phone"),
        item_id: r.get("item_id"),
        dept_id: r.get("dept_id"),
        text: r.get("text"),
        status: FeedbackStatus::parse(&r.get::<String, _>("status"))
            .ok_or_else(|| Error::internal("services_feedback.status"))?,
        answer: r.get("answer"),
        answered_by: r.get("answered_by"),
        created_at: r.get("created_at"),
        answered_at: r.get("answered_at"),
    })
}

const FB_COLS: &str = "id, number, name, phone, item_id, dept_id, text, status, answer, answered_by, created_at, answered_at";

pub async fn insert_feedback(c: &mut AnyConnection, f: &Feedback) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO services_feedback (number, name, phone, item_id, dept_id, text, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(&f.number)
    .bind(&f.name)
    .bind(&f.phone)
    .bind(f.item_id)
    .bind(f.dept_id)
    .bind(&f.text)
    .bind(f.status.code())
    .bind(f.created_at)
    .fetch_one(&mut *c)
    .await?
    .get(0))
}

pub async fn feedback(c: &mut AnyConnection, id: i64) -> Result<Option<Feedback>> {
    sqlx::query(&format!(
        "SELECT {FB_COLS} FROM services_feedback WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| feedback_row(&r))
    .transpose()
}

pub async fn feedback_list(c: &mut AnyConnection) -> Result<Vec<Feedback>> {
    sqlx::query(&format!(
        "SELECT {FB_COLS} FROM services_feedback ORDER BY id DESC"
    ))
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(feedback_row)
    .collect()
}

pub async fn answer_feedback(
    c: &mut AnyConnection,
    id: i64,
    answer: &str,
    by: Option<i64>,
    now: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE services_feedback SET status = 'answered', answer = $1, answered_by = $2, answered_at = $3 WHERE id = $4 AND status = 'open'",
    )
    .bind(answer)
    .bind(by)
    .bind(now)
    .bind(id)
    .execute(&mut *c)
    .await?
    .rows_affected()
        == 1)
}
