//! The database handle: SQLite (embedded default) or PostgreSQL, picked from the URL at run time.
//!
//! One SQL code path: queries use `$1`-style placeholders, which both drivers accept, and go
//! through sqlx's `Any` driver. Portable column types only: BIGINT for integers, times (UTC
//! milliseconds) and flags (0/1), TEXT for text and JSON, BLOB/BYTEA never in shared SQL.

use crate::clock::Clock;
use crate::error::{Error, Result};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, ConnectOptions, Executor};
use std::any::{Any as AnyType, TypeId};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub type Tx = sqlx::Transaction<'static, Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Clone)]
pub struct Db {
    /// Reads that need no transaction.
    read: AnyPool,
    /// Transactions. On SQLite a single connection, so writers queue in the pool instead of
    /// failing with SQLITE_BUSY; on PostgreSQL the same pool as `read`.
    write: AnyPool,
    backend: Backend,
    url: String,
    pub clock: Clock,
    /// In-memory state kept per connected database (see [`Db::state`]), shared by all clones.
    state: Arc<Mutex<HashMap<TypeId, Arc<dyn AnyType + Send + Sync>>>>,
    /// The keys that seal personal data at rest in this database ([`Db::with_sealer`]).
    sealer: crate::sealed::Sealer,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .field("url", &redact_url(&self.url))
            .finish()
    }
}

/// Replaces a password in a database URL with `***`.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Turns `./yiwang.db`, `yiwang.db` or a full URL into a database URL.
pub fn normalize_url(s: &str) -> String {
    if s.contains("://") || s.starts_with("sqlite:") {
        s.to_owned()
    } else {
        format!("sqlite://{s}")
    }
}

pub fn backend_of(url: &str) -> Result<Backend> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Backend::Postgres)
    } else {
        Err(Error::BadRequest {
            code: "unsupported_database",
            detail: format!(
                "不支持的数据库地址：{}（应以 sqlite:// 或 postgres:// 开头）",
                redact_url(url)
            ),
            field: Some("database.url".into()),
        })
    }
}

impl Db {
    /// Opens (and for SQLite creates) the database. Does not migrate.
    pub async fn connect(url: &str) -> Result<Db> {
        Self::connect_with(url, Clock::system()).await
    }

    pub async fn connect_with(url: &str, clock: Clock) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let url = normalize_url(url);
        let backend = backend_of(&url)?;
        match backend {
            Backend::Sqlite => {
                let mut opts_url = url.clone();
                if !opts_url.contains("mode=") {
                    opts_url.push_str(if opts_url.contains('?') {
                        "&mode=rwc"
                    } else {
                        "?mode=rwc"
                    });
                }
                let opts = AnyConnectOptions::from_str(&opts_url)
                    .map_err(|e| Error::internal(format!("bad sqlite url: {e}")))?
                    .disable_statement_logging();
                let write = AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    // A file cannot drop a connection: no ping (a round trip to the
                    // connection's thread) before every use.
                    .test_before_acquire(false)
                    .after_connect(sqlite_setup)
                    .connect_with(opts.clone())
                    .await?;
                let read = AnyPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(30))
                    // A file cannot drop a connection: no ping (a round trip to the
                    // connection's thread) before every use.
                    .test_before_acquire(false)
                    .after_connect(sqlite_setup)
                    .connect_with(opts)
                    .await?;
                Ok(Db {
                    read,
                    write,
                    backend,
                    url,
                    clock,
                    state: Default::default(),
                    sealer: Default::default(),
                })
            }
            Backend::Postgres => {
                let opts = AnyConnectOptions::from_str(&url)
                    .map_err(|e| Error::internal(format!("bad postgres url: {e}")))?
                    .disable_statement_logging();
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(opts)
                    .await?;
                Ok(Db {
                    read: pool.clone(),
                    write: pool,
                    backend,
                    url,
                    clock,
                    state: Default::default(),
                    sealer: Default::default(),
                })
            }
        }
    }

    /// This database with the keys that seal its personal data (from the key file). Without
    /// them, reading or writing a sealed column is an error.
    pub fn with_sealer(mut self, sealer: crate::sealed::Sealer) -> Db {
        self.sealer = sealer;
        self
    }

    /// The keys that seal personal data at rest (`kernel::sealed`).
    pub fn sealer(&self) -> &crate::sealed::Sealer {
        &self.sealer
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The one `T` of this connected database, made on first use: state a module keeps in
    /// memory beside its tables (an index it updates as rows arrive, say). It lives as long as
    /// the `Db` and its clones, so a database reopened or recreated starts afresh.
    pub fn state<T: AnyType + Send + Sync + Default>(&self) -> Arc<T> {
        let mut m = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let any = m
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()))
            .clone();
        any.downcast::<T>()
            .unwrap_or_else(|_| unreachable!("the slot of a type holds that type"))
    }

    /// The pool for plain reads.
    pub fn pool(&self) -> &AnyPool {
        &self.read
    }

    /// Starts a write transaction. Every state change runs in one, with its audit record.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(self.write.begin().await?)
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// `true` when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.read).await.is_ok()
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

fn sqlite_setup<'c>(
    conn: &'c mut sqlx::AnyConnection,
    _meta: sqlx::pool::PoolConnectionMetadata,
) -> futures_core::future::BoxFuture<'c, Result<(), sqlx::Error>> {
    Box::pin(async move {
        // WAL lets readers go on while one writer commits; FULL sync makes an acknowledged
        // commit survive a power cut, not only a crash.
        conn.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;")
            .await?;
        Ok(())
    })
}

/// Reads a 0/1 flag column.
pub fn flag(v: i64) -> bool {
    v != 0
}
