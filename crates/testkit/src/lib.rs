//! Test support shared by every crate's tests.
//!
//! Storage tests run twice, on SQLite and on PostgreSQL, each time on a fresh uniquely named
//! database that is removed afterwards. PostgreSQL comes from `YIWANG_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); when it cannot be reached the PostgreSQL half
//! is skipped with a message, except under CI (`CI` or `YIWANG_TEST_REQUIRE_PG` set), where it
//! fails: CI must never pass with PostgreSQL silently skipped.

pub mod browser;
pub mod city;

use kernel::migrate::Migration;
use kernel::Db;
use sqlx::{Connection, Executor};
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn pg_admin_url() -> String {
    std::env::var("YIWANG_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_owned())
}

pub fn pg_required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
        || std::env::var_os("YIWANG_TEST_REQUIRE_PG").is_some()
}

pub struct TestDb {
    pub db: Db,
    pg: Option<PgGuard>,
    _dir: Option<tempfile::TempDir>,
}

/// Where the key that seals a test database's personal data is kept: beside an SQLite file (as a
/// first start makes it), or in the temporary folder named after a PostgreSQL database.
pub fn data_key_file(url: &str) -> std::path::PathBuf {
    match url.strip_prefix("sqlite://") {
        Some(path) => std::path::PathBuf::from(format!(
            "{}.data.key",
            path.split('?').next().unwrap_or(path)
        )),
        None => {
            let name = url.rsplit('/').next().unwrap_or("db");
            let name = name.split('?').next().unwrap_or(name);
            std::env::temp_dir().join(format!("yiwang-test-{name}.data.key"))
        }
    }
}

struct PgGuard {
    admin_url: String,
    name: String,
}

impl Drop for PgGuard {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside async; a small runtime of its own removes the database.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(mut c) = sqlx::PgConnection::connect(&url).await {
                    let _ = c
                        .execute(
                            format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str(),
                        )
                        .await;
                }
            });
        })
        .join();
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name() -> String {
    format!(
        "yiwang_t_{}_{}_{:06x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        rand::random::<u32>() & 0xffffff
    )
}

impl TestDb {
    /// A fresh SQLite file in a temporary folder, migrated.
    pub async fn sqlite(migrations: &[Migration]) -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        // Like a first start: the key file that seals personal data is made beside the database.
        let (sealer, _) =
            kernel::sealed::Sealer::load_or_create(&dir.path().join("test.db.data.key"))
                .expect("data key file");
        let db = Db::connect(&url)
            .await
            .expect("open sqlite")
            .with_sealer(sealer);
        kernel::migrate::run(&db, migrations)
            .await
            .expect("migrate sqlite");
        TestDb {
            db,
            pg: None,
            _dir: Some(dir),
        }
    }

    /// A fresh PostgreSQL database, migrated; `None` when PostgreSQL is unreachable outside CI.
    pub async fn postgres(migrations: &[Migration]) -> Option<TestDb> {
        let admin = pg_admin_url();
        let mut conn = match sqlx::PgConnection::connect(&admin).await {
            Ok(c) => c,
            Err(e) if !pg_required() => {
                eprintln!(
                    "SKIPPED: PostgreSQL at {admin} is not reachable ({e}); set YIWANG_TEST_PG_URL"
                );
                return None;
            }
            Err(e) => panic!("PostgreSQL is required under CI but {admin} is not reachable: {e}"),
        };
        let name = unique_name();
        conn.execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .expect("create database");
        let _ = conn.close().await;
        let guard = PgGuard {
            admin_url: admin.clone(),
            name: name.clone(),
        };
        let url = with_database(&admin, &name);
        // The key file a command run on this database is pointed at (`data_key_file`).
        let (sealer, _) =
            kernel::sealed::Sealer::load_or_create(&data_key_file(&url)).expect("data key file");
        let db = Db::connect(&url)
            .await
            .expect("open postgres")
            .with_sealer(sealer);
        kernel::migrate::run(&db, migrations)
            .await
            .expect("migrate postgres");
        Some(TestDb {
            db,
            pg: Some(guard),
            _dir: None,
        })
    }

    pub fn url(&self) -> String {
        self.db.url().to_owned()
    }

    pub async fn close(self) {
        self.db.close().await;
        drop(self.pg);
    }
}

/// The same server URL with another database name.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

pub async fn run_sqlite<F, Fut>(migrations: Vec<Migration>, f: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    let t = TestDb::sqlite(&migrations).await;
    f(t.db.clone()).await;
    t.close().await;
}

pub async fn run_postgres<F, Fut>(migrations: Vec<Migration>, f: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(t) = TestDb::postgres(&migrations).await else {
        return;
    };
    f(t.db.clone()).await;
    t.close().await;
}

/// Runs each `async fn name(db: Db)` on SQLite and on PostgreSQL, as tests `name::sqlite` and
/// `name::postgres`, each on a fresh database with the migrations from the function `$migrations`.
#[macro_export]
macro_rules! on_both_backends {
    ($migrations:ident; $($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    $crate::run_sqlite(super::$migrations(), super::$name).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    $crate::run_postgres(super::$migrations(), super::$name).await
                }
            }
        )+
    };
}

/// Runs of 11 or more digits in `text` — what a plaintext 手机号 (11) or 身份证号 (17 + check)
/// looks like — for tests asserting that a table holds personal data only sealed.
pub fn plain_numbers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut run = String::new();
    for ch in text.chars().chain(std::iter::once(' ')) {
        if ch.is_ascii_digit() {
            run.push(ch);
        } else {
            if run.len() >= 11 {
                out.push(std::mem::take(&mut run));
            }
            run.clear();
        }
    }
    out
}

/// Where tests keep artifacts (screenshots): `<workspace>/artifacts/<sub>`.
pub fn artifacts_dir(sub: &str) -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../artifacts")
        .join(sub);
    std::fs::create_dir_all(&root).expect("artifacts dir");
    root
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_swapped() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(super::with_database("postgres://h", "x"), "postgres://h/x");
    }
}
