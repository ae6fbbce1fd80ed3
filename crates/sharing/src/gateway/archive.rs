//! Archiving the call log by month: each whole month before a given one is written to a file
//! (one JSON line per call) with a manifest beside it, re-read and checked, recorded as the
//! chain's boundary, and only then removed from `sharing_calls` in short batches. Verification
//! of the table starts from that boundary; the files are verified against their records.

use super::domain::*;
use super::store;
use crate::service::SharingService;
use kernel::error::{Error, Result};
use kernel::Actor;
use serde::Serialize;
use sm3::{Digest, Sm3};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use utoipa::ToSchema;

kernel::permission!(
    /// Move whole months of the gateway's call log to archive files (the system administrator).
    pub ArchiveCalls = [SysAdmin], "sharing:write"
);

/// Calls read, written and removed per statement: small enough that no batch holds SQLite's
/// one writer (or PostgreSQL's row locks) for long while the gateway keeps appending.
const BATCH: i64 = 5000;

/// What one archiving run did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArchiveReport {
    /// The months archived by this run, oldest first.
    pub months: Vec<ArchivedMonth>,
    /// Calls of months archived by an earlier, interrupted run that this run removed.
    pub leftovers_removed: i64,
    /// The folder the files are in.
    pub dir: String,
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::conflict(
        "archive_io",
        Some("out"),
        format!("{what}失败：{}（{e}）", path.display()),
    )
}

/// Writes `bytes` to `path` durably: a `.part` file synced, then renamed over.
fn write_durably(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<()> {
    let part = path.with_extension("part");
    let mut f = std::fs::File::create(&part).map_err(|e| io_error("写归档文件", &part, e))?;
    write(&mut f)
        .and_then(|_| f.sync_all())
        .map_err(|e| io_error("写归档文件", &part, e))?;
    std::fs::rename(&part, path).map_err(|e| io_error("写归档文件", path, e))?;
    if let Some(dir) = path.parent() {
        // The rename itself must survive a crash: sync the folder (a no-op where unsupported).
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Reads one archive file and checks it against its record: every line a call of the month,
/// chained on from `walk`, the count, the last hash and the file's SM3. The first bad call is
/// named by seq and month.
pub fn check_archive_file(
    path: &Path,
    a: &ArchivedMonth,
    walk: &mut ChainWalk,
) -> std::result::Result<(), BrokenCall> {
    let broken = |seq: i64, reason: String| BrokenCall {
        seq,
        month: Some(a.month),
        reason,
    };
    let f = std::fs::File::open(path).map_err(|e| {
        broken(
            a.first_seq,
            format!("无法读取归档文件 {}：{e}", path.display()),
        )
    })?;
    let mut r = std::io::BufReader::with_capacity(1 << 20, f);
    let mut hasher = Sm3::new();
    let mut line = Vec::with_capacity(1024);
    let mut n = 0i64;
    loop {
        line.clear();
        let read = r.read_until(b'\n', &mut line).map_err(|e| {
            broken(
                walk.expected,
                format!("读取归档文件 {} 失败：{e}", path.display()),
            )
        })?;
        if read == 0 {
            break;
        }
        hasher.update(&line);
        n += 1;
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let call: Call = serde_json::from_slice(text).map_err(|e| {
            broken(
                walk.expected,
                format!("归档文件第 {n} 行不是完整的调用记录（{e}）"),
            )
        })?;
        if call.month != a.month {
            return Err(broken(
                call.seq,
                format!("调用记录的月份 {} 与归档月份不符", call.month),
            ));
        }
        let seq = call.seq;
        walk.step(&call).map_err(|reason| {
            broken(
                if seq == walk.expected {
                    seq
                } else {
                    walk.expected
                },
                reason,
            )
        })?;
    }
    if n != a.rows || walk.expected - 1 != a.last_seq {
        return Err(broken(
            walk.expected,
            format!(
                "归档文件缺少调用记录：归档记录为 {} 条（第 {}–{} 条），文件中为 {n} 条",
                a.rows, a.first_seq, a.last_seq
            ),
        ));
    }
    if walk.prev != a.last_hash {
        return Err(broken(
            a.last_seq,
            "最后一条调用记录的哈希与归档记录不符".into(),
        ));
    }
    if hex::encode(hasher.finalize()) != a.sm3 {
        return Err(broken(
            a.first_seq,
            "文件的 SM3 摘要与归档记录不符（文件被改动）".into(),
        ));
    }
    Ok(())
}

/// Reads a month's manifest from the archive folder.
fn read_manifest(dir: &Path, month: i64) -> std::result::Result<ArchivedMonth, String> {
    let path = dir.join(archive_names(month).1);
    let bytes =
        std::fs::read(&path).map_err(|e| format!("无法读取清单 {}：{e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("清单 {} 无法解析：{e}", path.display()))
}

impl SharingService {
    /// Archives every whole month of the call log before `before` (YYYYMM, at the latest the
    /// current month) into `dir`. A month is removed from the table only after its file and
    /// manifest were written, synced, re-read and checked, and its boundary recorded.
    pub async fn archive_calls(
        &self,
        actor: &Actor,
        before: i64,
        dir: &Path,
    ) -> Result<ArchiveReport> {
        let g = actor.authorize::<ArchiveCalls>()?;
        let current = month_of(self.db.now());
        if parse_month(&before.to_string()).is_none() {
            return Err(Error::field(
                "before",
                "invalid_month",
                "归档截止月份应写成 YYYYMM，例如 202601",
            ));
        }
        if before > current {
            return Err(Error::field(
                "before",
                "current_month",
                format!(
                    "不能归档当月（{current}）或以后的调用记录：归档截止月份最晚为 {current}，即归档到 {} 为止的整月",
                    previous_month(current)
                ),
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| io_error("建立归档目录", dir, e))?;
        let mut report = ArchiveReport {
            months: Vec::new(),
            leftovers_removed: 0,
            dir: dir.display().to_string(),
        };
        // An earlier run may have stopped while removing: finish it first.
        let (last, _) = store::boundary(&mut *self.conn().await?).await?;
        let mut boundary = last
            .as_ref()
            .map(|a| (a.last_seq, a.last_hash.clone()))
            .unwrap_or((0, GENESIS.to_owned()));
        if let Some(min) = store::min_seq(&mut *self.conn().await?).await? {
            if min <= boundary.0 {
                report.leftovers_removed = self.remove_calls(actor, min, boundary.0).await?;
            }
        }
        loop {
            let Some((first, month)) =
                store::first_after(&mut *self.conn().await?, boundary.0).await?
            else {
                break;
            };
            if month >= before {
                break;
            }
            let a = self
                .archive_month(actor, month, first, &boundary, dir)
                .await?;
            let mut tx = self.db.begin().await?;
            store::insert_archive(&mut tx, g.into(), &a, self.db.now()).await?;
            kernel::audit::record(
                &mut tx,
                self.db.now(),
                &actor.audit_actor(),
                "sharing_call_archive",
                a.month,
                "sharing_calls.archive",
                serde_json::json!({
                    "rows": a.rows, "first_seq": a.first_seq, "last_seq": a.last_seq,
                    "last_hash": a.last_hash, "file": a.file, "sm3": a.sm3,
                }),
            )
            .await?;
            tx.commit().await?;
            self.remove_calls(actor, a.first_seq, a.last_seq).await?;
            boundary = (a.last_seq, a.last_hash.clone());
            report.months.push(a);
        }
        Ok(report)
    }

    /// Writes one month (its calls from seq `first` on, chained from `boundary`) and its
    /// manifest, then re-reads and checks them.
    async fn archive_month(
        &self,
        _actor: &Actor,
        month: i64,
        first: i64,
        boundary: &(i64, String),
        dir: &Path,
    ) -> Result<ArchivedMonth> {
        let (file, manifest) = archive_names(month);
        let path = dir.join(&file);
        let mut walk = ChainWalk::new(boundary.0 + 1, boundary.1.clone());
        if first != walk.expected {
            return Err(Error::conflict(
                "chain_broken",
                None,
                format!(
                    "调用记录 {} 缺失（下一条为 {first}），调用日志不完整，不归档",
                    walk.expected
                ),
            ));
        }
        let part = path.with_extension("part");
        let out = std::fs::File::create(&part).map_err(|e| io_error("写归档文件", &part, e))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
        let mut hasher = Sm3::new();
        let mut rows = 0i64;
        let mut line = Vec::with_capacity(1024);
        let mut c = self.conn().await?;
        'read: loop {
            let calls = store::calls_from(&mut c, walk.expected, BATCH).await?;
            if calls.is_empty() {
                break;
            }
            for call in calls {
                if call.month != month {
                    break 'read;
                }
                let seq = call.seq;
                walk.step(&call).map_err(|reason| {
                    Error::conflict(
                        "chain_broken",
                        None,
                        format!("调用日志在第 {seq} 条（{month}）断裂：{reason}；链不完整时不归档，请先核查"),
                    )
                })?;
                line.clear();
                serde_json::to_writer(&mut line, &call)?;
                line.push(b'\n');
                hasher.update(&line);
                out.write_all(&line)
                    .map_err(|e| io_error("写归档文件", &part, e))?;
                rows += 1;
            }
        }
        drop(c);
        let last_seq = walk.expected - 1;
        let later = store::month_calls_after(&mut *self.conn().await?, month, last_seq).await?;
        if later > 0 {
            let _ = std::fs::remove_file(&part);
            return Err(Error::conflict(
                "month_not_contiguous",
                None,
                format!("{month} 的调用记录在第 {last_seq} 条之后仍有 {later} 条（时钟曾回拨？），该月不能整月归档"),
            ));
        }
        let f = out
            .into_inner()
            .map_err(|e| io_error("写归档文件", &part, e.into_error()))?;
        f.sync_all().map_err(|e| io_error("写归档文件", &part, e))?;
        drop(f);
        std::fs::rename(&part, &path).map_err(|e| io_error("写归档文件", &path, e))?;
        let a = ArchivedMonth {
            month,
            rows,
            first_seq: first,
            last_seq,
            prev_hash: boundary.1.clone(),
            last_hash: walk.prev.clone(),
            file,
            sm3: hex::encode(hasher.finalize()),
        };
        let json = serde_json::to_vec_pretty(&a)?;
        write_durably(&dir.join(&manifest), |f| f.write_all(&json))?;
        // Re-read both from the disk: only what reads back right is ever removed.
        let (dir2, a2) = (dir.to_path_buf(), a.clone());
        let check = tokio::task::spawn_blocking(move || {
            let m = read_manifest(&dir2, a2.month)?;
            if m != a2 {
                return Err("清单读回后与写入的不一致".to_owned());
            }
            let mut walk = ChainWalk::new(a2.first_seq, a2.prev_hash.clone());
            check_archive_file(&dir2.join(&a2.file), &a2, &mut walk)
                .map_err(|b| format!("第 {} 条：{}", b.seq, b.reason))
        })
        .await
        .map_err(Error::internal)?;
        check.map_err(|why| {
            Error::conflict(
                "archive_check_failed",
                Some("out"),
                format!("{month} 的归档文件复核未通过（{why}），该月的调用记录未删除"),
            )
        })?;
        Ok(a)
    }

    /// Removes archived calls [from, to] a batch at a time, each in its own transaction.
    async fn remove_calls(&self, actor: &Actor, from: i64, to: i64) -> Result<i64> {
        let g = actor.authorize::<ArchiveCalls>()?;
        let mut removed = 0i64;
        let mut lo = from;
        while lo <= to {
            let hi = (lo + BATCH - 1).min(to);
            let mut tx = self.db.begin().await?;
            removed += store::delete_calls(&mut tx, g.into(), lo, hi).await? as i64;
            tx.commit().await?;
            lo = hi + 1;
        }
        Ok(removed)
    }

    /// The archived months as recorded in the database, in chain order.
    pub async fn call_archives(&self) -> Result<Vec<ArchivedMonth>> {
        store::archives(&mut *self.conn().await?).await
    }

    /// Verifies the archive files in `dir` against the database's records, from the first
    /// call (GENESIS) to the boundary, naming the first bad call by month and seq.
    pub async fn verify_call_archives(&self, dir: &Path) -> Result<CallVerification> {
        let archives = self.call_archives().await?;
        let dir: PathBuf = dir.to_path_buf();
        tokio::task::spawn_blocking(move || {
            let mut walk = ChainWalk::new(1, GENESIS);
            let mut calls = 0i64;
            let result = |walk: &ChainWalk, calls: i64, b: Option<BrokenCall>| CallVerification {
                calls,
                from_seq: 1,
                archived: archives.iter().map(|a| a.rows).sum(),
                head_hash: walk.prev.clone(),
                first_broken: b,
            };
            for a in &archives {
                let broken = |seq: i64, reason: String| {
                    Some(BrokenCall {
                        seq,
                        month: Some(a.month),
                        reason,
                    })
                };
                match read_manifest(&dir, a.month) {
                    Err(why) => return result(&walk, calls, broken(a.first_seq, why)),
                    Ok(m) if m != *a => {
                        return result(
                            &walk,
                            calls,
                            broken(a.first_seq, "清单与数据库中的归档记录不符".into()),
                        )
                    }
                    Ok(_) => {}
                }
                if a.first_seq != walk.expected || a.prev_hash != walk.prev {
                    return result(
                        &walk,
                        calls,
                        broken(walk.expected, "归档月份之间的调用记录不连续".into()),
                    );
                }
                let before = walk.expected;
                if let Err(b) = check_archive_file(&dir.join(&a.file), a, &mut walk) {
                    return result(&walk, calls + walk.expected - before, Some(b));
                }
                calls += a.rows;
            }
            result(&walk, calls, None)
        })
        .await
        .map_err(Error::internal)
    }
}
