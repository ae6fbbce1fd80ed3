//! SQL on `licenses_licenses` and `licenses_serials`.

use super::domain::*;
use crate::store::bad;
use crate::types::domain::HolderKind;
use kernel::error::{Error, Result};
use kernel::Authorized;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

const COLS: &str =
    "l.id, l.identifier, l.type_id, t.code AS type_code, t.name AS type_name, l.type_version,
    l.dept_id, l.serial, l.version, l.holder_kind, l.holder_id_no, l.holder_name, l.holder_user_id,
    l.fields, l.valid_from, l.valid_until, l.status, l.status_reason, l.status_at, l.list_id,
    l.list_index, l.kid, l.previous_id, l.issued_at";
const FROM: &str = "licenses_licenses l JOIN licenses_types t ON t.id = l.type_id";

fn row(r: &AnyRow) -> Result<License> {
    let status = LicenseStatus::parse(&r.get::<String, _>("status"))
        .ok_or_else(|| Error::internal("licenses_licenses: unknown status"))?;
    Ok(License {
        id: r.get("id"),
        identifier: r.get("identifier"),
        type_id: r.get("type_id"),
        type_code: r.get("type_code"),
        type_name: r.get("type_name"),
        type_version: r.get("type_version"),
        dept_id: r.get("dept_id"),
        serial: r.get("serial"),
        version: r.get("version"),
        holder_kind: HolderKind::parse(&r.get::<String, _>("holder_kind"))
            .ok_or_else(|| Error::internal("licenses_licenses: unknown holder_kind"))?,
        holder_id_no: r.get("holder_id_no"),
        holder_name: r.get("holder_name"),
        holder_user_id: r.get("holder_user_id"),
        fields: serde_json::from_str(&r.get::<String, _>("fields"))
            .map_err(bad("licenses_licenses"))?,
        valid_from: r.get("valid_from"),
        valid_until: r.get("valid_until"),
        status,
        status_label: status.label().to_owned(),
        status_reason: r.get("status_reason"),
        status_at: r.get("status_at"),
        list_id: r.get("list_id"),
        list_index: r.get("list_index"),
        kid: r.get("kid"),
        previous_id: r.get("previous_id"),
        issued_at: r.get("issued_at"),
    })
}

/// The next 流水号 of (type, department), atomically (the UPDATE locks the row).
pub(crate) async fn next_serial(c: &mut AnyConnection, type_id: i64, dept_id: i64) -> Result<i64> {
    sqlx::query(
        "INSERT INTO licenses_serials (type_id, dept_id, next_serial) VALUES ($1, $2, 1)
         ON CONFLICT (type_id, dept_id) DO NOTHING",
    )
    .bind(type_id)
    .bind(dept_id)
    .execute(&mut *c)
    .await?;
    Ok(sqlx::query(
        "UPDATE licenses_serials SET next_serial = next_serial + 1
         WHERE type_id = $1 AND dept_id = $2 RETURNING next_serial - 1",
    )
    .bind(type_id)
    .bind(dept_id)
    .fetch_one(&mut *c)
    .await?
    .get(0))
}

/// Reserves `n` consecutive 流水号; returns the first.
pub(crate) async fn reserve_serials(
    c: &mut AnyConnection,
    type_id: i64,
    dept_id: i64,
    n: i64,
) -> Result<i64> {
    sqlx::query(
        "INSERT INTO licenses_serials (type_id, dept_id, next_serial) VALUES ($1, $2, 1)
         ON CONFLICT (type_id, dept_id) DO NOTHING",
    )
    .bind(type_id)
    .bind(dept_id)
    .execute(&mut *c)
    .await?;
    Ok(sqlx::query(
        "UPDATE licenses_serials SET next_serial = next_serial + $3
         WHERE type_id = $1 AND dept_id = $2 RETURNING next_serial - $3",
    )
    .bind(type_id)
    .bind(dept_id)
    .bind(n)
    .fetch_one(&mut *c)
    .await?
    .get(0))
}

/// Which of these sources (存量 证照编号 keys) are already in the registry: one read for a
/// whole import batch.
pub(crate) async fn existing_sources(
    c: &mut AnyConnection,
    sources: &[&str],
) -> Result<std::collections::HashSet<String>> {
    let mut found = std::collections::HashSet::new();
    for part in sources.chunks(500) {
        let marks: Vec<String> = (1..=part.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT source FROM licenses_licenses WHERE source IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query_scalar::<_, String>(&sql);
        for s in part {
            q = q.bind(*s);
        }
        found.extend(q.fetch_all(&mut *c).await?);
    }
    Ok(found)
}

/// A row to insert.
pub(crate) struct NewRow<'a> {
    pub license: &'a License,
    pub credential: &'a str,
    pub source: Option<&'a str>,
}

pub(crate) async fn insert(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    n: &NewRow<'_>,
) -> Result<i64> {
    let l = n.license;
    Ok(sqlx::query(
        "INSERT INTO licenses_licenses (identifier, type_id, type_version, dept_id, serial, version,
            holder_kind, holder_id_no, holder_name, holder_user_id, fields, valid_from, valid_until,
            status, status_reason, status_at, list_id, list_index, kid, credential, source,
            previous_id, issued_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
            $19, $20, $21, $22, $23, $23) RETURNING id",
    )
    .bind(&l.identifier)
    .bind(l.type_id)
    .bind(l.type_version)
    .bind(l.dept_id)
    .bind(l.serial)
    .bind(l.version)
    .bind(l.holder_kind.code())
    .bind(&l.holder_id_no)
    .bind(&l.holder_name)
    .bind(l.holder_user_id)
    .bind(serde_json::to_string(&l.fields)?)
    .bind(l.valid_from)
    .bind(l.valid_until)
    .bind(l.status.code())
    .bind(&l.status_reason)
    .bind(l.status_at)
    .bind(l.list_id)
    .bind(l.list_index)
    .bind(&l.kid)
    .bind(n.credential)
    .bind(n.source)
    .bind(l.previous_id)
    .bind(l.issued_at)
    .fetch_one(&mut *c)
    .await
    .map_err(|e| Error::from_db(e, "source", "该来源的证照已签发"))?
    .get(0))
}

/// Moves a license from `from` to `to`; false when its status changed meanwhile.
pub(crate) async fn set_status(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    id: i64,
    from: LicenseStatus,
    to: LicenseStatus,
    reason: &str,
    now: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE licenses_licenses SET status = $1, status_reason = $2, status_at = $3, updated_at = $3
         WHERE id = $4 AND status = $5",
    )
    .bind(to.code())
    .bind(reason)
    .bind(now)
    .bind(id)
    .bind(from.code())
    .execute(&mut *c)
    .await?
    .rows_affected()
        == 1)
}

pub(crate) async fn by_id(c: &mut AnyConnection, id: i64) -> Result<Option<License>> {
    sqlx::query(&format!("SELECT {COLS} FROM {FROM} WHERE l.id = $1"))
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .map(|r| row(&r))
        .transpose()
}

pub(crate) async fn by_identifier(
    c: &mut AnyConnection,
    identifier: &str,
) -> Result<Option<License>> {
    sqlx::query(&format!(
        "SELECT {COLS} FROM {FROM} WHERE l.identifier = $1"
    ))
    .bind(identifier)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| row(&r))
    .transpose()
}

pub(crate) async fn by_source(c: &mut AnyConnection, source: &str) -> Result<Option<License>> {
    sqlx::query(&format!("SELECT {COLS} FROM {FROM} WHERE l.source = $1"))
        .bind(source)
        .fetch_optional(&mut *c)
        .await?
        .map(|r| row(&r))
        .transpose()
}

/// The stored credential of a license.
pub(crate) async fn credential(c: &mut AnyConnection, id: i64) -> Result<Option<String>> {
    Ok(
        sqlx::query("SELECT credential FROM licenses_licenses WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *c)
            .await?
            .map(|r| r.get(0)),
    )
}

/// A holder's licenses: by account, or by 身份证号/统一社会信用代码.
pub(crate) async fn by_holder(
    c: &mut AnyConnection,
    user_id: Option<i64>,
    id_no: Option<&str>,
) -> Result<Vec<License>> {
    sqlx::query(&format!(
        "SELECT {COLS} FROM {FROM} WHERE l.holder_user_id = $1 OR l.holder_id_no = $2 ORDER BY l.id DESC"
    ))
    .bind(user_id.unwrap_or(-1))
    // A stored holder number is never empty, so "" matches nothing.
    .bind(id_no.unwrap_or(""))
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(row)
    .collect()
}

/// Filters of the staff's 证照查询.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    pub dept_ids: Option<Vec<i64>>,
    pub type_id: Option<i64>,
    pub holder_id_no: Option<String>,
    pub status: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

enum Bind {
    Int(i64),
    Text(String),
}

fn filter_sql(f: &Filter) -> (String, Vec<Bind>) {
    let mut sql = String::from(" WHERE 1 = 1");
    let mut binds = Vec::new();
    let push = |binds: &mut Vec<Bind>, b: Bind| {
        binds.push(b);
        format!("${}", binds.len())
    };
    if let Some(d) = &f.dept_ids {
        let ps: Vec<String> = d.iter().map(|x| push(&mut binds, Bind::Int(*x))).collect();
        if ps.is_empty() {
            sql.push_str(" AND 1 = 0");
        } else {
            sql.push_str(&format!(" AND l.dept_id IN ({})", ps.join(", ")));
        }
    }
    if let Some(t) = f.type_id {
        sql.push_str(&format!(
            " AND l.type_id = {}",
            push(&mut binds, Bind::Int(t))
        ));
    }
    if let Some(h) = &f.holder_id_no {
        let p = push(&mut binds, Bind::Text(h.clone()));
        sql.push_str(&format!(" AND l.holder_id_no = {p}"));
    }
    if let Some(st) = &f.status {
        let p = push(&mut binds, Bind::Text(st.clone()));
        sql.push_str(&format!(" AND l.status = {p}"));
    }
    (sql, binds)
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for b in binds {
        q = match b {
            Bind::Int(i) => q.bind(*i),
            Bind::Text(t) => q.bind(t.as_str()),
        };
    }
    q
}

/// One page of the licenses matching `f`, newest first, and how many match in all.
pub(crate) async fn search(c: &mut AnyConnection, f: &Filter) -> Result<(Vec<License>, i64)> {
    let (cond, binds) = filter_sql(f);
    let total: i64 = bind_all(
        sqlx::query(&format!("SELECT COUNT(*) FROM licenses_licenses l{cond}")),
        &binds,
    )
    .fetch_one(&mut *c)
    .await?
    .get(0);
    let sql = format!(
        "SELECT {COLS} FROM {FROM}{cond} ORDER BY l.id DESC LIMIT {} OFFSET {}",
        f.limit.clamp(1, 500),
        f.offset.max(0)
    );
    let rows = bind_all(sqlx::query(&sql), &binds)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(row)
        .collect::<Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// Whether the holder has a usable license of the type now (valid status, within dates).
pub(crate) async fn of_holder_and_type(
    c: &mut AnyConnection,
    id_no: &str,
    type_id: i64,
) -> Result<Vec<License>> {
    sqlx::query(&format!(
        "SELECT {COLS} FROM {FROM} WHERE l.holder_id_no = $1 AND l.type_id = $2 ORDER BY l.id DESC"
    ))
    .bind(id_no)
    .bind(type_id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(row)
    .collect()
}

/// Records a delivered case of an item whose result is a license type (once per case).
pub(crate) async fn insert_case_result(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    case_ref: &str,
    type_id: i64,
    dept_id: i64,
    license_id: Option<i64>,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO licenses_case_results (case_ref, type_id, dept_id, license_id, delivered_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (case_ref) DO NOTHING",
    )
    .bind(case_ref)
    .bind(type_id)
    .bind(dept_id)
    .bind(license_id)
    .bind(at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Valid licenses whose `valid_until` falls in [from, to) and that have had no reminder for
/// that date: (license, remind days of its type are checked by the caller).
pub(crate) async fn expiring_unreminded(
    c: &mut AnyConnection,
    from: i64,
    to: i64,
) -> Result<Vec<License>> {
    sqlx::query(&format!(
        "SELECT {COLS} FROM {FROM} WHERE l.status = 'valid' AND l.valid_until >= $1
           AND l.valid_until < $2
           AND NOT EXISTS (SELECT 1 FROM licenses_reminders r
                           WHERE r.license_id = l.id AND r.valid_until = l.valid_until)
         ORDER BY l.valid_until, l.id"
    ))
    .bind(from)
    .bind(to)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(row)
    .collect()
}

/// Marks a reminder sent; false when another run sent it first.
pub(crate) async fn insert_reminder(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    license_id: i64,
    valid_until: i64,
    user_id: Option<i64>,
    at: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO licenses_reminders (license_id, valid_until, user_id, sent_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (license_id, valid_until) DO NOTHING",
    )
    .bind(license_id)
    .bind(valid_until)
    .bind(user_id)
    .bind(at)
    .execute(&mut *c)
    .await?
    .rows_affected()
        == 1)
}
