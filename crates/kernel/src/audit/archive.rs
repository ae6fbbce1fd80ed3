//! Audit retention: records older than the retention (`audit.retention_days`, at least 180)
//! are written to a verifiable archive and only then removed from the table, never silently
//! dropped. An archive is two files in a folder:
//!
//! - `audit-<first>-<last>.jsonl`: the records, one JSON object a line, with their chain
//!   hashes (`prev_hash`, `hash`) as stored;
//! - `audit-<first>-<last>.manifest.json`: the range, the hash the first record follows, the
//!   last record's hash, the count and the SM3 digest of the `.jsonl` file.
//!
//! The table keeps a row per archive (`kernel_audit_archives`: range, last hash, digest), and the
//! archiving is itself a record of the chain. [`super::verify`] then checks the table from the
//! archived boundary, and [`verify_files`] the files: each file's digest, each record's hash, and
//! that the files join one another from the chain's start up to the table's boundary.

use super::{canonical_record, chain_hash, AuditActor, GENESIS};
use crate::db::Db;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sm3::{Digest, Sm3};
use sqlx::Row;
use std::io::Write;
use std::path::{Path, PathBuf};

const DAY_MS: i64 = 86_400_000;

/// The last archived record (its sequence number and hash), or `(0, GENESIS)` before any
/// archive: where the table's chain starts.
pub async fn boundary(db: &Db) -> Result<(i64, String)> {
    let row = sqlx::query(
        "SELECT last_seq, last_hash FROM kernel_audit_archives ORDER BY last_seq DESC LIMIT 1",
    )
    .fetch_optional(db.pool())
    .await?;
    Ok(match row {
        Some(r) => (r.get(0), r.get(1)),
        None => (0, GENESIS.to_owned()),
    })
}

/// What a `.manifest.json` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub first_seq: i64,
    pub last_seq: i64,
    pub records: i64,
    /// The hash the first record follows (the previous archive's `last_hash`, or GENESIS).
    pub prev_hash: String,
    pub last_hash: String,
    /// The records' file, in the same folder.
    pub file: String,
    /// SM3 of the records' file, hex.
    pub sm3: String,
    /// Records before this time (ms) were due.
    pub cutoff: i64,
    pub retention_days: i64,
    pub archived_at: i64,
}

/// What [`archive`] did: `None` when no record was due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Archived {
    pub manifest: Manifest,
    pub manifest_path: PathBuf,
}

/// One line of a records file.
#[derive(Debug, Serialize, Deserialize)]
struct Line {
    seq: i64,
    at: i64,
    actor: String,
    entity: String,
    entity_id: String,
    action: String,
    payload: Value,
    prev_hash: String,
    hash: String,
}

fn sm3_hex(bytes: &[u8]) -> String {
    hex::encode(Sm3::digest(bytes))
}

/// Archives the records older than `retention_days` (at least 180) before `now` into `out`,
/// then removes them from the table in one transaction with the archive's row and an audit
/// record of it. Refuses while the part to archive does not verify (the archive would carry a
/// broken chain) and when files of the same name exist (never overwritten).
pub async fn archive(
    db: &Db,
    now: i64,
    retention_days: i64,
    out: &Path,
    actor: &AuditActor,
) -> Result<Option<Archived>> {
    if retention_days < crate::config::MIN_AUDIT_RETENTION_DAYS {
        return Err(Error::field(
            "retention_days",
            "too_short",
            format!(
                "审计记录至少留存 {} 天",
                crate::config::MIN_AUDIT_RETENTION_DAYS
            ),
        ));
    }
    let cutoff = now - retention_days * DAY_MS;
    let (from_seq, from_hash) = boundary(db).await?;
    // The due part is the run of records from the boundary that are all older than the cutoff.
    let first_new: Option<i64> =
        sqlx::query_scalar("SELECT MIN(seq) FROM kernel_audit WHERE seq > $1 AND at >= $2")
            .bind(from_seq)
            .bind(cutoff)
            .fetch_one(db.pool())
            .await?;
    let last_seq = match first_new {
        Some(s) => s - 1,
        None => sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(seq) FROM kernel_audit")
            .fetch_one(db.pool())
            .await?
            .unwrap_or(from_seq),
    };
    if last_seq <= from_seq {
        return Ok(None);
    }
    let first_seq = from_seq + 1;
    std::fs::create_dir_all(out).map_err(|e| io_error(out, e))?;
    let stem = format!("audit-{first_seq:010}-{last_seq:010}");
    let file = format!("{stem}.jsonl");
    let records_path = out.join(&file);
    let manifest_path = out.join(format!("{stem}.manifest.json"));
    for p in [&records_path, &manifest_path] {
        if p.exists() {
            return Err(Error::conflict(
                "archive_exists",
                Some("out"),
                format!("归档文件已存在：{}（不会覆盖）", p.display()),
            ));
        }
    }

    // Write and check the records in batches, the chain recomputed as they go.
    let tmp = out.join(format!("{stem}.jsonl.part"));
    let mut w =
        std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(|e| io_error(&tmp, e))?);
    let mut digest = Sm3::new();
    let mut prev = from_hash.clone();
    let mut expected = first_seq;
    while expected <= last_seq {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM kernel_audit WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT 5000",
            super::COLUMNS
        ))
        .bind(expected)
        .bind(last_seq)
        .fetch_all(db.pool())
        .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let rec = super::from_row(r)?;
            let broken = |why: &str| {
                let _ = std::fs::remove_file(&tmp);
                Err(Error::conflict(
                    "audit_chain_broken",
                    None,
                    format!(
                        "审计链第 {} 条记录{why}，请先用 yiwang audit verify 查明，不归档断裂的链",
                        rec.seq
                    ),
                ))
            };
            if rec.seq != expected {
                return broken("之前有记录缺失");
            }
            if rec.prev_hash != prev {
                return broken("的 prev_hash 与上一条不一致");
            }
            let canonical = canonical_record(
                rec.seq,
                rec.at,
                &rec.actor,
                &rec.entity,
                &rec.entity_id,
                &rec.action,
                &rec.payload,
            );
            if chain_hash(&prev, &canonical) != rec.hash {
                return broken("内容与哈希不符");
            }
            let line = serde_json::to_string(&Line {
                seq: rec.seq,
                at: rec.at,
                actor: rec.actor,
                entity: rec.entity,
                entity_id: rec.entity_id,
                action: rec.action,
                payload: rec.payload,
                prev_hash: rec.prev_hash,
                hash: rec.hash.clone(),
            })
            .map_err(|e| Error::internal(e.to_string()))?;
            digest.update(line.as_bytes());
            digest.update(b"\n");
            writeln!(w, "{line}").map_err(|e| io_error(&tmp, e))?;
            prev = rec.hash;
            expected += 1;
        }
    }
    if expected != last_seq + 1 {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::conflict(
            "audit_chain_broken",
            None,
            format!("审计链第 {expected} 条记录缺失，不归档断裂的链"),
        ));
    }
    let f = w.into_inner().map_err(|e| io_error(&tmp, e.into_error()))?;
    f.sync_all().map_err(|e| io_error(&tmp, e))?;
    drop(f);
    let manifest = Manifest {
        first_seq,
        last_seq,
        records: last_seq - first_seq + 1,
        prev_hash: from_hash,
        last_hash: prev,
        file: file.clone(),
        sm3: hex::encode(digest.finalize()),
        cutoff,
        retention_days,
        archived_at: now,
    };
    let text =
        serde_json::to_string_pretty(&manifest).map_err(|e| Error::internal(e.to_string()))?;
    write_synced(&manifest_path, text.as_bytes())?;
    std::fs::rename(&tmp, &records_path).map_err(|e| io_error(&records_path, e))?;

    // Only now, with the files on disk, are the records removed.
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO kernel_audit_archives (first_seq, last_seq, last_hash, records, file, sm3, archived_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(manifest.first_seq)
    .bind(manifest.last_seq)
    .bind(&manifest.last_hash)
    .bind(manifest.records)
    .bind(&manifest.file)
    .bind(&manifest.sm3)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM kernel_audit WHERE seq >= $1 AND seq <= $2")
        .bind(first_seq)
        .bind(last_seq)
        .execute(&mut *tx)
        .await?;
    super::record(
        &mut tx,
        now,
        actor,
        "audit",
        "archive",
        "archive",
        serde_json::json!({
            "first_seq": first_seq, "last_seq": last_seq, "records": manifest.records,
            "file": file, "sm3": manifest.sm3, "last_hash": manifest.last_hash,
            "retention_days": retention_days,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(Archived {
        manifest,
        manifest_path,
    }))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = std::fs::File::create(path).map_err(|e| io_error(path, e))?;
    f.write_all(bytes).map_err(|e| io_error(path, e))?;
    f.sync_all().map_err(|e| io_error(path, e))
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::internal(format!("写入或读取 {} 失败：{e}", path.display()))
}

/// The first thing wrong with the archive files, named by file and record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileProblem {
    pub file: String,
    /// The record concerned, when it is one record.
    pub seq: Option<i64>,
    pub reason: String,
}

/// What [`verify_files`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilesVerification {
    pub archives: usize,
    pub records: i64,
    pub problem: Option<FileProblem>,
}

/// Checks the archives in `dir` against themselves and the table: every archive the table
/// knows is there with the digest it recorded, each file's SM3 matches its manifest, each record's
/// hash follows from the one before, and the archives join one another from the chain's start
/// up to the table's boundary.
pub async fn verify_files(db: &Db, dir: &Path) -> Result<FilesVerification> {
    let known: Vec<(i64, i64, String, String, String)> = sqlx::query(
        "SELECT first_seq, last_seq, last_hash, file, sm3 FROM kernel_audit_archives ORDER BY first_seq",
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
    .collect();
    let mut found = FilesVerification {
        archives: 0,
        records: 0,
        problem: None,
    };
    let problem = |file: &str, seq: Option<i64>, reason: String| FileProblem {
        file: file.to_owned(),
        seq,
        reason,
    };
    let mut prev_hash = GENESIS.to_owned();
    let mut next_seq = 1i64;
    for (first, last, last_hash, file, sm3) in &known {
        let manifest_name = file.replace(".jsonl", ".manifest.json");
        let bad = |p: FileProblem| {
            Ok(FilesVerification {
                problem: Some(p),
                ..found.clone()
            })
        };
        let Ok(text) = std::fs::read_to_string(dir.join(&manifest_name)) else {
            return bad(problem(&manifest_name, None, "清单文件缺失".into()));
        };
        let Ok(m) = serde_json::from_str::<Manifest>(&text) else {
            return bad(problem(
                &manifest_name,
                None,
                "清单文件不是合法的 JSON".into(),
            ));
        };
        if m.first_seq != *first
            || m.last_seq != *last
            || m.last_hash != *last_hash
            || m.sm3 != *sm3
            || m.file != *file
        {
            return bad(problem(
                &manifest_name,
                None,
                "清单与数据库记载的归档不一致".into(),
            ));
        }
        if m.first_seq != next_seq || m.prev_hash != prev_hash {
            return bad(problem(
                &manifest_name,
                Some(m.first_seq),
                format!("与上一段归档接不上（应从第 {next_seq} 条起）"),
            ));
        }
        let Ok(bytes) = std::fs::read(dir.join(file)) else {
            return bad(problem(file, None, "记录文件缺失".into()));
        };
        if sm3_hex(&bytes) != m.sm3 {
            // Name the record that was changed, if the chain shows it.
            let seq = first_broken_line(&bytes, m.first_seq, &m.prev_hash).map(|(s, _)| s);
            return bad(problem(
                file,
                seq,
                "文件的 SM3 摘要与清单不符（文件被改动）".into(),
            ));
        }
        if let Some((seq, reason)) = first_broken_line(&bytes, m.first_seq, &m.prev_hash) {
            return bad(problem(file, Some(seq), reason));
        }
        let lines = bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count() as i64;
        if lines != m.records || m.records != m.last_seq - m.first_seq + 1 {
            return bad(problem(file, None, "记录条数与清单不符".into()));
        }
        found.archives += 1;
        found.records += m.records;
        prev_hash = m.last_hash.clone();
        next_seq = m.last_seq + 1;
    }
    // Files in the folder the table does not know of are named too: an archive is never
    // dropped from the table's list.
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("audit-") && n.ends_with(".jsonl"))
            .collect();
        names.sort();
        if let Some(n) = names.iter().find(|n| !known.iter().any(|k| &k.3 == *n)) {
            return Ok(FilesVerification {
                problem: Some(problem(n, None, "数据库中没有这段归档的记载".into())),
                ..found
            });
        }
    }
    Ok(found)
}

/// The first record of a records file whose sequence or hash is wrong, with why.
fn first_broken_line(bytes: &[u8], first_seq: i64, prev_hash: &str) -> Option<(i64, String)> {
    let mut prev = prev_hash.to_owned();
    let lines = bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty());
    for (expected, raw) in (first_seq..).zip(lines) {
        let Ok(l) = serde_json::from_slice::<Line>(raw) else {
            return Some((expected, "该行不是合法的记录".into()));
        };
        if l.seq != expected {
            return Some((
                expected,
                format!("记录 {expected} 缺失（下一条为 {}）", l.seq),
            ));
        }
        if l.prev_hash != prev {
            return Some((l.seq, "prev_hash 与上一条记录的哈希不一致".into()));
        }
        let canonical = canonical_record(
            l.seq,
            l.at,
            &l.actor,
            &l.entity,
            &l.entity_id,
            &l.action,
            &l.payload,
        );
        let hash = chain_hash(&prev, &canonical);
        if hash != l.hash {
            return Some((l.seq, "内容与哈希不符（记录被改动）".into()));
        }
        prev = hash;
    }
    None
}
