//! SQL on `sharing_rows` (the gateway's reads) and `sharing_calls` (the chained log).

use super::domain::*;
use crate::grants::domain::{Condition, FilterOp};
use kernel::error::{Error, Result};
use kernel::{Authorized, Backend};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// A field's stored string, in the backend's words. Field names are checked identifiers
/// (`[a-z][a-z0-9_]*`, `catalog::domain::is_field_name`), so they can sit in the SQL.
fn field_expr(backend: Backend, field: &str) -> Result<String> {
    if !crate::catalog::domain::is_field_name(field) {
        return Err(Error::internal("unchecked field name"));
    }
    Ok(match backend {
        Backend::Sqlite => format!("json_extract(data, '$.{field}')"),
        Backend::Postgres => format!("(CAST(data AS jsonb) ->> '{field}')"),
    })
}

/// `WHERE` of the rows of `resource` under `conds`, with its bound values in order.
fn filter_sql(backend: Backend, conds: &[Condition]) -> Result<(String, Vec<String>)> {
    let mut sql = String::from("resource_id = $1");
    let mut binds = Vec::new();
    for c in conds {
        let e = field_expr(backend, &c.field)?;
        match c.op {
            FilterOp::Eq => {
                binds.push(c.values[0].clone());
                sql.push_str(&format!(" AND {e} = ${}", binds.len() + 1));
            }
            FilterOp::In => {
                let mut ps = Vec::new();
                for v in &c.values {
                    binds.push(v.clone());
                    ps.push(format!("${}", binds.len() + 1));
                }
                sql.push_str(&format!(" AND {e} IN ({})", ps.join(", ")));
            }
            FilterOp::Prefix => {
                let n = c.values[0].chars().count();
                binds.push(c.values[0].clone());
                sql.push_str(&format!(" AND substr({e}, 1, {n}) = ${}", binds.len() + 1));
            }
        }
    }
    Ok((sql, binds))
}

/// One page of a resource's rows under the conditions (stored JSON text), and the total.
pub(crate) async fn rows(
    c: &mut AnyConnection,
    backend: Backend,
    resource_id: i64,
    conds: &[Condition],
    offset: i64,
    limit: i64,
) -> Result<(Vec<String>, i64)> {
    let (w, binds) = filter_sql(backend, conds)?;
    let count_sql = format!("SELECT COUNT(*) FROM sharing_rows WHERE {w}");
    let mut q = sqlx::query(&count_sql).bind(resource_id);
    for b in &binds {
        q = q.bind(b);
    }
    let total: i64 = q.fetch_one(&mut *c).await?.get(0);
    let n = binds.len();
    let page_sql = format!(
        "SELECT data FROM sharing_rows WHERE {w} ORDER BY id LIMIT ${} OFFSET ${}",
        n + 2,
        n + 3
    );
    let mut q = sqlx::query(&page_sql).bind(resource_id);
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.bind(limit).bind(offset).fetch_all(&mut *c).await?;
    Ok((rows.iter().map(|r| r.get::<String, _>(0)).collect(), total))
}

/// Served calls of a grant since `since` (the rate limit).
pub(crate) async fn calls_since(c: &mut AnyConnection, grant_id: i64, since: i64) -> Result<i64> {
    Ok(sqlx::query(
        "SELECT COUNT(*) FROM sharing_calls WHERE grant_id = $1 AND at > $2 AND result = 'ok'",
    )
    .bind(grant_id)
    .bind(since)
    .fetch_one(&mut *c)
    .await?
    .get(0))
}

/// Appends a call to the chain. The UPDATE of the head row takes its lock, so concurrent
/// calls append one after another and the chain stays linear (as the audit chain).
pub(crate) async fn append(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    call: &mut Call,
) -> Result<i64> {
    let head =
        sqlx::query("UPDATE sharing_call_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut *c)
            .await?;
    call.seq = head.get(0);
    call.prev_hash = head.get(1);
    call.hash = call.chained_hash();
    sqlx::query(
        "INSERT INTO sharing_calls (seq, month, at, caller, consumer_dept_id, system, grant_id, resource_id,
             resource_code, fields, row_count, request_hash, response_hash, result, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(call.seq)
    .bind(call.month)
    .bind(call.at)
    .bind(&call.caller)
    .bind(call.consumer_dept_id)
    .bind(&call.system)
    .bind(call.grant_id)
    .bind(call.resource_id)
    .bind(&call.resource_code)
    .bind(serde_json::to_string(&call.fields)?)
    .bind(call.row_count)
    .bind(&call.request_hash)
    .bind(&call.response_hash)
    .bind(&call.result)
    .bind(&call.prev_hash)
    .bind(&call.hash)
    .execute(&mut *c)
    .await?;
    sqlx::query("UPDATE sharing_call_head SET hash = $1 WHERE id = 1")
        .bind(&call.hash)
        .execute(&mut *c)
        .await?;
    Ok(call.seq)
}

const CALL_COLS: &str = "seq, month, at, caller, consumer_dept_id, system, grant_id, resource_id, resource_code, fields, row_count, request_hash, response_hash, result, prev_hash, hash";

/// A row as stored; `fields` that are not a JSON list of strings are kept as one string so
/// that verification sees the tampering rather than failing to read.
fn call_row(r: &AnyRow) -> Call {
    let fields: String = r.get("fields");
    Call {
        seq: r.get("seq"),
        month: r.get("month"),
        at: r.get("at"),
        caller: r.get("caller"),
        consumer_dept_id: r.get("consumer_dept_id"),
        system: r.get("system"),
        grant_id: r.get("grant_id"),
        resource_id: r.get("resource_id"),
        resource_code: r.get("resource_code"),
        fields: serde_json::from_str(&fields).unwrap_or_else(|_| vec![fields]),
        row_count: r.get("row_count"),
        request_hash: r.get("request_hash"),
        response_hash: r.get("response_hash"),
        result: r.get("result"),
        prev_hash: r.get("prev_hash"),
        hash: r.get("hash"),
    }
}

/// Calls from `seq` on, in order.
pub(crate) async fn calls_from(c: &mut AnyConnection, seq: i64, limit: i64) -> Result<Vec<Call>> {
    Ok(sqlx::query(&format!(
        "SELECT {CALL_COLS} FROM sharing_calls WHERE seq >= $1 ORDER BY seq LIMIT $2"
    ))
    .bind(seq)
    .bind(limit)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(call_row)
    .collect())
}

pub(crate) async fn head(c: &mut AnyConnection) -> Result<(i64, String)> {
    let r = sqlx::query("SELECT seq, hash FROM sharing_call_head WHERE id = 1")
        .fetch_one(&mut *c)
        .await?;
    Ok((r.get(0), r.get(1)))
}

/// The newest calls on resources in `resources` and/or by `consumer` (either matching), or
/// all when both are `None`; optionally one month.
pub(crate) async fn calls(
    c: &mut AnyConnection,
    resources: Option<&[i64]>,
    consumer: Option<i64>,
    month: Option<i64>,
    limit: i64,
) -> Result<Vec<Call>> {
    let mut w = vec!["($1 IS NULL OR month = $1)".to_owned()];
    let scope = match (resources, consumer) {
        (None, None) => None,
        (r, d) => {
            let mut parts = Vec::new();
            if let Some(ids) = r {
                let list: Vec<String> = ids.iter().map(i64::to_string).collect();
                if !list.is_empty() {
                    parts.push(format!("resource_id IN ({})", list.join(", ")));
                }
            }
            if let Some(d) = d {
                parts.push(format!("consumer_dept_id = {d}"));
            }
            Some(if parts.is_empty() {
                "1 = 0".to_owned()
            } else {
                parts.join(" OR ")
            })
        }
    };
    if let Some(s) = scope {
        w.push(format!("({s})"));
    }
    Ok(sqlx::query(&format!(
        "SELECT {CALL_COLS} FROM sharing_calls WHERE {} ORDER BY seq DESC LIMIT $2",
        w.join(" AND ")
    ))
    .bind(month)
    .bind(limit)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(call_row)
    .collect())
}

/// Calls made in [from, to), by consumer department and resource: (consumer, resource, calls,
/// served calls, rows served).
pub(crate) async fn period_calls(
    c: &mut AnyConnection,
    from: i64,
    to: i64,
) -> Result<Vec<(Option<i64>, Option<i64>, i64, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT consumer_dept_id, resource_id, COUNT(*),
                CAST(COALESCE(SUM(CASE WHEN result = 'ok' THEN 1 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(row_count), 0) AS BIGINT)
         FROM sharing_calls WHERE at >= $1 AND at < $2
         GROUP BY consumer_dept_id, resource_id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect())
}

// --- Archived months (`sharing_call_archives`) ---

fn archived_row(r: &AnyRow) -> ArchivedMonth {
    ArchivedMonth {
        month: r.get("month"),
        rows: r.get("row_count"),
        first_seq: r.get("first_seq"),
        last_seq: r.get("last_seq"),
        prev_hash: r.get("prev_hash"),
        last_hash: r.get("last_hash"),
        file: r.get("file_name"),
        sm3: r.get("file_sm3"),
    }
}

const ARCHIVE_COLS: &str =
    "month, row_count, first_seq, last_seq, prev_hash, last_hash, file_name, file_sm3";

/// Every archived month, in chain order.
pub(crate) async fn archives(c: &mut AnyConnection) -> Result<Vec<ArchivedMonth>> {
    Ok(sqlx::query(&format!(
        "SELECT {ARCHIVE_COLS} FROM sharing_call_archives ORDER BY last_seq"
    ))
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(archived_row)
    .collect())
}

/// The boundary: the last archived month (the table's chain starts after it), and how many
/// calls all archived months hold.
pub(crate) async fn boundary(c: &mut AnyConnection) -> Result<(Option<ArchivedMonth>, i64)> {
    let last = sqlx::query(&format!(
        "SELECT {ARCHIVE_COLS} FROM sharing_call_archives ORDER BY last_seq DESC LIMIT 1"
    ))
    .fetch_optional(&mut *c)
    .await?
    .as_ref()
    .map(archived_row);
    let total: i64 = sqlx::query(
        "SELECT CAST(COALESCE(SUM(row_count), 0) AS BIGINT) FROM sharing_call_archives",
    )
    .fetch_one(&mut *c)
    .await?
    .get(0);
    Ok((last, total))
}

/// The seq and month of the first call after `seq`.
pub(crate) async fn first_after(c: &mut AnyConnection, seq: i64) -> Result<Option<(i64, i64)>> {
    Ok(
        sqlx::query("SELECT seq, month FROM sharing_calls WHERE seq > $1 ORDER BY seq LIMIT 1")
            .bind(seq)
            .fetch_optional(&mut *c)
            .await?
            .map(|r| (r.get(0), r.get(1))),
    )
}

/// Calls of `month` after `seq` (a month is archived only when it is one run of the chain).
pub(crate) async fn month_calls_after(c: &mut AnyConnection, month: i64, seq: i64) -> Result<i64> {
    Ok(
        sqlx::query("SELECT COUNT(*) FROM sharing_calls WHERE month = $1 AND seq > $2")
            .bind(month)
            .bind(seq)
            .fetch_one(&mut *c)
            .await?
            .get(0),
    )
}

pub(crate) async fn insert_archive(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    a: &ArchivedMonth,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sharing_call_archives (month, row_count, first_seq, last_seq, prev_hash,
             last_hash, file_name, file_sm3, archived_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(a.month)
    .bind(a.rows)
    .bind(a.first_seq)
    .bind(a.last_seq)
    .bind(&a.prev_hash)
    .bind(&a.last_hash)
    .bind(&a.file)
    .bind(&a.sm3)
    .bind(at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Removes archived calls with seq in [from, to]; one short statement, its own transaction.
pub(crate) async fn delete_calls(
    c: &mut AnyConnection,
    _by: Authorized<'_>,
    from: i64,
    to: i64,
) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM sharing_calls WHERE seq >= $1 AND seq <= $2")
            .bind(from)
            .bind(to)
            .execute(&mut *c)
            .await?
            .rows_affected(),
    )
}

/// The lowest seq still in the table.
pub(crate) async fn min_seq(c: &mut AnyConnection) -> Result<Option<i64>> {
    Ok(sqlx::query("SELECT MIN(seq) FROM sharing_calls")
        .fetch_one(&mut *c)
        .await?
        .get(0))
}
