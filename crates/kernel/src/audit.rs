//! The audit chain. Every state change writes one record in the same transaction as the change;
//! each record's hash is SM3(previous hash ‖ canonical record), so an edited, removed or
//! reordered row breaks the chain at that row, and `verify` names it.

use crate::db::{Db, Tx};
use crate::error::Result;
use serde::Serialize;
use serde_json::Value;
use sm3::{Digest, Sm3};
use sqlx::Row;

pub mod archive;

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did it: `user:12`, `token:3`, `cli`, `system`, `citizen:13800000000` (masked by callers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditActor(pub String);

impl AuditActor {
    pub fn user(id: i64) -> Self {
        AuditActor(format!("user:{id}"))
    }
    pub fn cli() -> Self {
        AuditActor("cli".into())
    }
    pub fn system() -> Self {
        AuditActor("system".into())
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    pub payload: Value,
    pub prev_hash: String,
    pub hash: String,
}

/// Writes JSON with object keys sorted and no insignificant whitespace, so the same record
/// always hashes the same whatever map type produced it.
pub fn canonical_json(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).expect("string serializes"));
                out.push(':');
                canonical_json(&m[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The bytes that are hashed: the record without its hashes, canonical.
pub(crate) fn canonical_record(
    seq: i64,
    at: i64,
    actor: &str,
    entity: &str,
    entity_id: &str,
    action: &str,
    payload: &Value,
) -> String {
    let v = serde_json::json!({
        "seq": seq, "at": at, "actor": actor, "entity": entity,
        "entity_id": entity_id, "action": action, "payload": payload,
    });
    let mut s = String::new();
    canonical_json(&v, &mut s);
    s
}

pub fn chain_hash(prev_hash: &str, canonical: &str) -> String {
    let mut h = Sm3::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical.as_bytes());
    hex::encode(h.finalize())
}

/// Appends a record to the chain inside `tx`. The UPDATE on the head row takes its lock, so
/// concurrent transactions append one after another and the chain stays linear.
pub async fn record(
    tx: &mut Tx,
    at: i64,
    actor: &AuditActor,
    entity: &str,
    entity_id: impl ToString,
    action: &str,
    payload: Value,
) -> Result<i64> {
    let entity_id = entity_id.to_string();
    let row =
        sqlx::query("UPDATE kernel_audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut **tx)
            .await?;
    let seq: i64 = row.get(0);
    let prev: String = row.get(1);
    let canonical = canonical_record(seq, at, &actor.0, entity, &entity_id, action, &payload);
    let hash = chain_hash(&prev, &canonical);
    let mut payload_text = String::new();
    canonical_json(&payload, &mut payload_text);
    sqlx::query(
        "INSERT INTO kernel_audit (seq, at, actor, entity, entity_id, action, payload, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(seq)
    .bind(at)
    .bind(&actor.0)
    .bind(entity)
    .bind(&entity_id)
    .bind(action)
    .bind(payload_text)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    // The head's hash follows by trigger (migration kernel 0003).
    Ok(seq)
}

/// One record of [`record_many`]: entity, its id, action, payload.
pub type Entry = (String, String, String, Value);

/// Appends several records by one actor at one time, chained in order exactly as
/// [`record`] would one by one, with one statement for the sequence numbers and one per 100
/// records (a batch import's thousands of records, not thousands of round trips).
pub async fn record_many(
    tx: &mut Tx,
    at: i64,
    actor: &AuditActor,
    entries: &[Entry],
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let n = entries.len() as i64;
    let row =
        sqlx::query("UPDATE kernel_audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
            .bind(n)
            .fetch_one(&mut **tx)
            .await?;
    let last: i64 = row.get(0);
    let mut prev: String = row.get(1);
    let mut rows = Vec::with_capacity(entries.len());
    for (k, (entity, entity_id, action, payload)) in entries.iter().enumerate() {
        let seq = last - n + 1 + k as i64;
        let canonical = canonical_record(seq, at, &actor.0, entity, entity_id, action, payload);
        let hash = chain_hash(&prev, &canonical);
        let mut payload_text = String::new();
        canonical_json(payload, &mut payload_text);
        rows.push((
            seq,
            entity,
            entity_id,
            action,
            payload_text,
            prev,
            hash.clone(),
        ));
        prev = hash;
    }
    for part in rows.chunks(100) {
        let values: Vec<String> = (0..part.len())
            .map(|i| {
                let b = i * 9;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8,
                    b + 9
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO kernel_audit (seq, at, actor, entity, entity_id, action, payload, prev_hash, hash) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for (seq, entity, entity_id, action, payload, prev, hash) in part {
            q = q
                .bind(*seq)
                .bind(at)
                .bind(&actor.0)
                .bind(*entity)
                .bind(*entity_id)
                .bind(*action)
                .bind(payload)
                .bind(prev)
                .bind(hash);
        }
        // Rows go in in order, so the head's trigger leaves it at the last one's hash.
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<AuditRecord> {
    let payload: String = r.get("payload");
    Ok(AuditRecord {
        seq: r.get("seq"),
        at: r.get("at"),
        actor: r.get("actor"),
        entity: r.get("entity"),
        entity_id: r.get("entity_id"),
        action: r.get("action"),
        payload: serde_json::from_str(&payload).unwrap_or(Value::String(payload)),
        prev_hash: r.get("prev_hash"),
        hash: r.get("hash"),
    })
}

const COLUMNS: &str = "seq, at, actor, entity, entity_id, action, payload, prev_hash, hash";

/// The history of one entity, oldest first.
pub async fn history(db: &Db, entity: &str, entity_id: &str) -> Result<Vec<AuditRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM kernel_audit WHERE entity = $1 AND entity_id = $2 ORDER BY seq"
    ))
    .bind(entity)
    .bind(entity_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

/// The newest records, newest first.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<AuditRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM kernel_audit ORDER BY seq DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

/// What the audit administrator looks for; every part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Exactly as recorded: `user:12`, `cli`, `system`.
    pub actor: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub action: Option<String>,
    /// Milliseconds, inclusive.
    pub from: Option<i64>,
    /// Milliseconds, exclusive.
    pub until: Option<i64>,
}

/// Records matching `f`, newest first, one page of them with the total.
pub async fn search(
    db: &Db,
    f: &AuditFilter,
    page: &crate::page::PageQuery,
) -> Result<crate::page::Page<AuditRecord>> {
    let mut clauses = Vec::new();
    let mut texts: Vec<&str> = Vec::new();
    let mut numbers: Vec<i64> = Vec::new();
    // Texts are bound first ($1…), then numbers, so that each placeholder's type is fixed.
    for (col, v) in [
        ("actor", &f.actor),
        ("entity", &f.entity),
        ("entity_id", &f.entity_id),
        ("action", &f.action),
    ] {
        if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            texts.push(v);
            clauses.push(format!("{col} = ${}", texts.len()));
        }
    }
    let mut numeric = Vec::new();
    if let Some(t) = f.from {
        numbers.push(t);
        numeric.push(("at >=", numbers.len()));
    }
    if let Some(t) = f.until {
        numbers.push(t);
        numeric.push(("at <", numbers.len()));
    }
    for (op, i) in numeric {
        clauses.push(format!("{op} ${}", texts.len() + i));
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    let n = texts.len() + numbers.len();
    let count_sql = format!("SELECT COUNT(*) FROM kernel_audit{filter}");
    let list_sql = format!(
        "SELECT {COLUMNS} FROM kernel_audit{filter} ORDER BY seq DESC LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
    let mut list = sqlx::query(&list_sql);
    for t in &texts {
        count = count.bind(*t);
        list = list.bind(*t);
    }
    for v in &numbers {
        count = count.bind(*v);
        list = list.bind(*v);
    }
    let total = count.fetch_one(db.pool()).await?;
    let rows = list
        .bind(page.per_page())
        .bind(page.offset())
        .fetch_all(db.pool())
        .await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(crate::page::Page::new(items, total, page))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Broken {
    pub seq: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub records: i64,
    pub head_hash: String,
    pub first_broken: Option<Broken>,
}

/// Walks the chain in order and recomputes every hash: from its start, or, once older records
/// were archived ([`archive`]), from the archived boundary (the last archived record's hash,
/// which the first kept record must follow). `records` counts the records in the table.
pub async fn verify(db: &Db) -> Result<Verification> {
    const BATCH: i64 = 5000;
    let (boundary_seq, boundary_hash) = archive::boundary(db).await?;
    let mut prev = boundary_hash;
    let mut expected_seq = boundary_seq + 1;
    let mut count = 0i64;
    loop {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM kernel_audit WHERE seq >= $1 ORDER BY seq LIMIT $2"
        ))
        .bind(expected_seq)
        .bind(BATCH)
        .fetch_all(db.pool())
        .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let seq: i64 = r.get("seq");
            let payload_text: String = r.get("payload");
            let broken = |reason: String| Verification {
                records: count,
                head_hash: prev.clone(),
                first_broken: Some(Broken { seq, reason }),
            };
            if seq != expected_seq {
                return Ok(Verification {
                    records: count,
                    head_hash: prev.clone(),
                    first_broken: Some(Broken {
                        seq: expected_seq,
                        reason: format!("记录 {expected_seq} 缺失（下一条为 {seq}）"),
                    }),
                });
            }
            let Ok(payload) = serde_json::from_str::<Value>(&payload_text) else {
                return Ok(broken("payload 不是合法的 JSON".into()));
            };
            let stored_prev: String = r.get("prev_hash");
            if stored_prev != prev {
                return Ok(broken("prev_hash 与上一条记录的哈希不一致".into()));
            }
            let canonical = canonical_record(
                seq,
                r.get("at"),
                &r.get::<String, _>("actor"),
                &r.get::<String, _>("entity"),
                &r.get::<String, _>("entity_id"),
                &r.get::<String, _>("action"),
                &payload,
            );
            let hash = chain_hash(&prev, &canonical);
            if hash != r.get::<String, _>("hash") {
                return Ok(broken("内容与哈希不符（记录被改动）".into()));
            }
            prev = hash;
            expected_seq += 1;
            count += 1;
        }
    }
    let head = sqlx::query("SELECT seq, hash FROM kernel_audit_head WHERE id = 1")
        .fetch_one(db.pool())
        .await?;
    let (head_seq, head_hash): (i64, String) = (head.get(0), head.get(1));
    if head_seq != boundary_seq + count || head_hash != prev {
        return Ok(Verification {
            records: count,
            head_hash: prev,
            first_broken: Some(Broken {
                seq: boundary_seq + count + 1,
                reason: format!(
                    "链尾记录缺失：链头记为第 {head_seq} 条，实际只到第 {} 条",
                    boundary_seq + count
                ),
            }),
        });
    }
    Ok(Verification {
        records: count,
        head_hash: prev,
        first_broken: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let v = serde_json::json!({"b": 1, "a": {"d": [3, {"z": 1, "y": 2}], "c": "中"}});
        let mut s = String::new();
        canonical_json(&v, &mut s);
        assert_eq!(s, r#"{"a":{"c":"中","d":[3,{"y":2,"z":1}]},"b":1}"#);
    }

    #[test]
    fn hash_depends_on_previous_and_content() {
        let a = chain_hash(GENESIS, "x");
        assert_eq!(a.len(), 64);
        assert_ne!(a, chain_hash(GENESIS, "y"));
        assert_ne!(a, chain_hash(&a, "x"));
        // SM3 test vector from GB/T 32905-2016: "abc".
        assert_eq!(
            hex::encode(Sm3::digest(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }
}
