//! Migrations: plain SQL, one folder per backend with matching file names, embedded in the
//! binary. Each module owns its migrations; the binary applies them in module order.
//! An applied migration is never edited: a changed checksum stops the run.

use crate::db::{Backend, Db};
use crate::error::{Error, Result};
use sm3::{Digest, Sm3};
use sqlx::Row;

#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub module: &'static str,
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

impl Migration {
    fn sql(&self, backend: Backend) -> &'static str {
        match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        }
    }
    fn checksum(&self, backend: Backend) -> String {
        hex::encode(Sm3::digest(self.sql(backend).as_bytes()))
    }
}

/// Declares a module's migration from `migrations/{sqlite,postgres}/NAME.sql`.
#[macro_export]
macro_rules! migration {
    ($module:literal, $version:literal, $name:literal) => {
        $crate::migrate::Migration {
            module: $module,
            version: $version,
            name: $name,
            sqlite: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/migrations/sqlite/",
                $name,
                ".sql"
            )),
            postgres: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/migrations/postgres/",
                $name,
                ".sql"
            )),
        }
    };
}

/// The kernel's own tables: migration bookkeeping, the audit chain, instance metadata, the
/// working-day calendar.
pub fn kernel_migrations() -> Vec<Migration> {
    vec![
        crate::migration!("kernel", 1, "0001_kernel"),
        crate::migration!("kernel", 2, "0002_calendar"),
    ]
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub module: String,
    pub version: i64,
    pub name: String,
}

const BOOTSTRAP: &str = "CREATE TABLE IF NOT EXISTS kernel_migrations (
    module TEXT NOT NULL,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at BIGINT NOT NULL,
    PRIMARY KEY (module, version)
)";

/// Applies every migration not yet applied, each in its own transaction. Returns those applied
/// now; running it again applies nothing.
pub async fn run(db: &Db, migrations: &[Migration]) -> Result<Vec<Applied>> {
    let backend = db.backend();
    let mut conn = db.begin().await?;
    if backend == Backend::Postgres {
        // Several instances may start together on one PostgreSQL; one migrates, the others wait.
        sqlx::query("SELECT pg_advisory_xact_lock(4242001)")
            .execute(&mut *conn)
            .await?;
    }
    sqlx::raw_sql(BOOTSTRAP).execute(&mut *conn).await?;
    let rows = sqlx::query("SELECT module, version, checksum FROM kernel_migrations")
        .fetch_all(&mut *conn)
        .await?;
    let done: Vec<(String, i64, String)> = rows
        .iter()
        .map(|r| {
            (
                r.get::<String, _>(0),
                r.get::<i64, _>(1),
                r.get::<String, _>(2),
            )
        })
        .collect();
    let mut applied = Vec::new();
    for m in migrations {
        if let Some((_, _, sum)) = done
            .iter()
            .find(|(module, v, _)| module == m.module && *v == m.version)
        {
            if *sum != m.checksum(backend) {
                return Err(Error::Internal(format!(
                    "migration {}/{} ({}) was edited after it was applied; write a new migration instead",
                    m.module, m.version, m.name
                )));
            }
            continue;
        }
        sqlx::raw_sql(m.sql(backend))
            .execute(&mut *conn)
            .await
            .map_err(|e| {
                Error::Internal(format!(
                    "migration {}/{} ({}) failed: {e}",
                    m.module, m.version, m.name
                ))
            })?;
        sqlx::query("INSERT INTO kernel_migrations (module, version, name, checksum, applied_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(m.module)
            .bind(m.version)
            .bind(m.name)
            .bind(m.checksum(backend))
            .bind(db.now())
            .execute(&mut *conn)
            .await?;
        applied.push(Applied {
            module: m.module.into(),
            version: m.version,
            name: m.name.into(),
        });
    }
    conn.commit().await?;
    Ok(applied)
}

/// Instance metadata (e.g. whether this database is a demo).
pub async fn get_meta(db: &Db, key: &str) -> Result<Option<String>> {
    let has_table = match db.backend() {
        Backend::Sqlite => {
            sqlx::query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kernel_meta'")
                .fetch_optional(db.pool())
                .await?
                .is_some()
        }
        Backend::Postgres => sqlx::query("SELECT 1 FROM pg_tables WHERE tablename = 'kernel_meta' AND schemaname = current_schema()")
            .fetch_optional(db.pool())
            .await?
            .is_some(),
    };
    if !has_table {
        return Ok(None);
    }
    let row = sqlx::query("SELECT value FROM kernel_meta WHERE key = $1")
        .bind(key)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|r| r.get::<String, _>(0)))
}

pub async fn set_meta(tx: &mut crate::db::Tx, key: &str, value: &str) -> Result<()> {
    sqlx::query("DELETE FROM kernel_meta WHERE key = $1")
        .bind(key)
        .execute(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO kernel_meta (key, value) VALUES ($1, $2)")
        .bind(key)
        .bind(value)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Whether the database has any yiwang table at all.
pub async fn is_empty(db: &Db) -> Result<bool> {
    let n: i64 = match db.backend() {
        Backend::Sqlite => sqlx::query(
            "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'",
        )
        .fetch_one(db.pool())
        .await?
        .get(0),
        Backend::Postgres => {
            sqlx::query("SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()")
                .fetch_one(db.pool())
                .await?
                .get(0)
        }
    };
    Ok(n == 0)
}
