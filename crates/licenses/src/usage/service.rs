//! The usage log (用证记录): queued by the use it records, written together shortly after, read
//! by the holder and the figures.
//!
//! Why queued: a 查证 answers in about a millisecond, but one durable commit per verification
//! put tens of milliseconds on the slowest ones (the commits that meet a WAL checkpoint). So a
//! use only queues its row; a short-lived task writes the queue in one transaction within
//! [`WRITE_AFTER`], and every read of the log writes the queue first, so a reader never misses
//! a use. What a crash can lose is at most that window of usage rows — never a license, a status
//! change or an audit record.

use super::store;
use crate::service::LicensesService;
use kernel::error::Result;
use kernel::{Actor, Db};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// How long a usage row may wait in the queue before the writer task writes it.
pub(crate) const WRITE_AFTER: Duration = Duration::from_millis(100);
/// A queue older than this has lost its writer (its runtime ended): the next use writes it.
const STRANDED_AFTER: Duration = Duration::from_secs(2);

/// A usage row not yet written.
pub(crate) struct QueuedUsage {
    pub license_id: i64,
    pub at: i64,
    pub kind: &'static str,
    pub actor: String,
    pub purpose: String,
}

/// The queue of one database (kept in `Db::state`, shared by every service handle on it).
#[derive(Default)]
pub(crate) struct UsageQueue {
    rows: Mutex<(Vec<QueuedUsage>, Option<Instant>)>,
    /// A writer task is running (or was, if its runtime ended: see [`STRANDED_AFTER`]).
    writer: AtomicBool,
    /// One write at a time, so rows reach the table in the order they were queued.
    writing: tokio::sync::Mutex<()>,
}

impl UsageQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, (Vec<QueuedUsage>, Option<Instant>)> {
        self.rows.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_empty(&self) -> bool {
        self.lock().0.is_empty()
    }

    /// Writes every queued row in one transaction; on failure they go back to the queue's front.
    async fn write(&self, db: &Db) -> Result<()> {
        let _one = self.writing.lock().await;
        let rows = {
            let mut q = self.lock();
            q.1 = None;
            std::mem::take(&mut q.0)
        };
        if rows.is_empty() {
            return Ok(());
        }
        let written = async {
            let mut tx = db.begin().await?;
            store::insert_many(&mut tx, &rows).await?;
            tx.commit().await?;
            Ok::<_, kernel::error::Error>(())
        }
        .await;
        if let Err(e) = written {
            let mut q = self.lock();
            let later = std::mem::replace(&mut q.0, rows);
            q.0.extend(later);
            q.1.get_or_insert_with(Instant::now);
            return Err(e);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageKind {
    /// 亮证.
    Present,
    /// 查证.
    Verify,
    /// 免证办: attached to a case.
    Exempt,
    /// Read through the API.
    ApiRead,
}

impl UsageKind {
    pub fn code(self) -> &'static str {
        match self {
            UsageKind::Present => "present",
            UsageKind::Verify => "verify",
            UsageKind::Exempt => "exempt",
            UsageKind::ApiRead => "api_read",
        }
    }
    pub fn label_of(code: &str) -> &'static str {
        match code {
            "present" => "亮证",
            "verify" => "查证",
            "exempt" => "免证办",
            "api_read" => "接口调用",
            _ => "其他",
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Usage {
    pub license_id: i64,
    pub at: i64,
    pub kind: String,
    /// Who: `user:12`, `anonymous`, `cli`…
    pub actor: String,
    pub purpose: String,
}

/// Who the log names for an actor (an anonymous verifier has no account).
pub(crate) fn who(actor: Option<&Actor>) -> String {
    actor.map_or_else(|| "anonymous".to_owned(), |a| a.audit_actor().0)
}

impl LicensesService {
    /// Queues a use of a license for the log (see the module note: written within
    /// [`WRITE_AFTER`]).
    pub(crate) async fn log_usage(
        &self,
        license_id: i64,
        kind: UsageKind,
        actor: &str,
        purpose: &str,
    ) -> Result<()> {
        let queue = self.db.state::<UsageQueue>();
        let stranded = {
            let mut q = queue.lock();
            q.0.push(QueuedUsage {
                license_id,
                at: self.db.now(),
                kind: kind.code(),
                actor: actor.to_owned(),
                purpose: purpose.to_owned(),
            });
            q.1.get_or_insert_with(Instant::now).elapsed() > STRANDED_AFTER
        };
        if stranded || tokio::runtime::Handle::try_current().is_err() {
            queue.writer.store(false, Ordering::SeqCst);
            return queue.write(&self.db).await;
        }
        if !queue.writer.swap(true, Ordering::SeqCst) {
            let db = self.db.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(WRITE_AFTER).await;
                    if let Err(e) = queue.write(&db).await {
                        tracing::warn!(error = %e, "用证记录写入失败，稍后重试");
                    }
                    if queue.is_empty() {
                        queue.writer.store(false, Ordering::SeqCst);
                        // A row queued between the look and the flag: keep writing unless a
                        // new writer has already taken it.
                        if queue.is_empty() || queue.writer.swap(true, Ordering::SeqCst) {
                            break;
                        }
                    }
                }
            });
        }
        Ok(())
    }

    /// Writes the queued usage rows now (before any read of the log).
    pub(crate) async fn write_queued_usage(&self) -> Result<()> {
        self.db.state::<UsageQueue>().write(&self.db).await
    }

    /// The holder's 用证记录: who used their licenses, newest first.
    pub async fn my_usage(&self, actor: &Actor) -> Result<Vec<Usage>> {
        let ids: Vec<i64> = self.mine(actor).await?.iter().map(|l| l.id).collect();
        self.write_queued_usage().await?;
        store::of_licenses(&mut *self.conn().await?, &ids, 200).await
    }
}
