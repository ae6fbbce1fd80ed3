//! SQL on `services_cases` and their timeline `services_events`.

use crate::domain::*;
use crate::store::bad;
use kernel::error::{Error, Result};
use kernel::Authorized;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

// ---- cases ----

pub(crate) fn case_row(r: &AnyRow) -> Result<(Case, i64)> {
    let mut c: Case =
        serde_json::from_str(&r.get::<String, _>("data")).map_err(bad("services_cases"))?;
    c.id = r.get("id");
    Ok((c, r.get("version")))
}

pub(crate) async fn insert_case(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    k: &Case,
) -> Result<i64> {
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
pub(crate) async fn update_case(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    k: &Case,
    version: i64,
) -> Result<()> {
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

pub(crate) const CASE_COLS: &str = "id, data, version";

pub(crate) async fn case(c: &mut AnyConnection, id: i64) -> Result<Option<(Case, i64)>> {
    sqlx::query(&format!(
        "SELECT {CASE_COLS} FROM services_cases WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| case_row(&r))
    .transpose()
}

pub(crate) async fn case_by_number(
    c: &mut AnyConnection,
    number: &str,
) -> Result<Option<(Case, i64)>> {
    sqlx::query(&format!(
        "SELECT {CASE_COLS} FROM services_cases WHERE number = $1"
    ))
    .bind(number)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| case_row(&r))
    .transpose()
}

pub(crate) async fn cases_of_bundle(
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
pub(crate) struct CaseFilter {
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
    /// Part of the number, the applicant's phone, or of the case's data (applicant, item).
    pub text: Option<String>,
    pub order: CaseOrder,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum CaseOrder {
    #[default]
    Newest,
    Oldest,
    /// Earliest promised date first; cases without one last.
    Due,
}

pub(crate) async fn cases(
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
    if let Some(text) = &f.text {
        // LIKE with its wildcards taken literally.
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        binds.push(format!("%{escaped}%"));
        let n = binds.len();
        w.push(format!(
            "(number LIKE ${n} ESCAPE '\\' OR applicant_phone LIKE ${n} ESCAPE '\\' OR data LIKE ${n} ESCAPE '\\')"
        ));
    }
    let where_ = w.join(" AND ");
    let count_sql = format!("SELECT COUNT(*) FROM services_cases WHERE {where_}");
    let mut q = sqlx::query(&count_sql);
    for b in &binds {
        q = q.bind(b);
    }
    let total: i64 = q.fetch_one(&mut *c).await?.get(0);
    let order = match f.order {
        CaseOrder::Newest => "created_at DESC, id DESC",
        CaseOrder::Oldest => "created_at ASC, id ASC",
        CaseOrder::Due => "CASE WHEN due_at IS NULL THEN 1 ELSE 0 END, due_at ASC, id ASC",
    };
    let list_sql = format!(
        "SELECT {CASE_COLS} FROM services_cases WHERE {where_} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
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
pub(crate) async fn running_cases(c: &mut AnyConnection) -> Result<Vec<(Case, i64)>> {
    sqlx::query(&format!(
        "SELECT {CASE_COLS} FROM services_cases WHERE status = 'accepted' AND due_at IS NOT NULL"
    ))
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(case_row)
    .collect()
}

// ---- timeline ----
pub(crate) async fn insert_event(
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

pub(crate) async fn events(c: &mut AnyConnection, case_ids: &[i64]) -> Result<Vec<TimelineEntry>> {
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

pub(crate) async fn compare_and_set_card(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    k: &Case,
    version: i64,
) -> Result<bool> {
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
