//! `yiwang backup` → `yiwang restore` into an empty database → `audit verify`, on SQLite and
//! PostgreSQL (and a PostgreSQL backup into SQLite); a damaged archive is refused before anything
//! is written, and a database that is not empty is never restored over.

use kernel::{Backend, Db, Role};
use sqlx::{Connection, Executor, Row};
use std::collections::BTreeMap;
use std::path::Path;

mod support;
use support::*;

fn migrations() -> Vec<kernel::migrate::Migration> {
    web::migrations()
}

testkit::on_both_backends!(migrations; backup_restores_into_an_empty_database, damaged_backup_is_refused_before_writing);

/// An empty database of `backend`, dropped (PostgreSQL) when the guard goes.
struct Empty {
    url: String,
    pg_name: Option<String>,
    _dir: tempfile::TempDir,
}

async fn empty(backend: Backend) -> Empty {
    let dir = tempfile::tempdir().unwrap();
    match backend {
        Backend::Sqlite => Empty {
            url: format!("sqlite://{}", dir.path().join("restored.db").display()),
            pg_name: None,
            _dir: dir,
        },
        Backend::Postgres => {
            let admin = testkit::pg_admin_url();
            let name = format!("yiwang_restore_{:08x}", rand::random::<u32>());
            let mut c = sqlx::PgConnection::connect(&admin).await.unwrap();
            c.execute(format!("CREATE DATABASE \"{name}\"").as_str())
                .await
                .unwrap();
            Empty {
                url: testkit::with_database(&admin, &name),
                pg_name: Some(name),
                _dir: dir,
            }
        }
    }
}

impl Empty {
    async fn drop_pg(self) {
        if let Some(name) = self.pg_name {
            let mut c = sqlx::PgConnection::connect(&testkit::pg_admin_url())
                .await
                .unwrap();
            c.execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
                .await
                .unwrap();
        }
    }
}

/// Rows of every table (the migration bookkeeping aside: applied_at differs by design).
async fn counts(db: &Db) -> BTreeMap<String, i64> {
    let sql = match db.backend() {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        Backend::Postgres => {
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()"
        }
    };
    let mut out = BTreeMap::new();
    for r in sqlx::query(sql).fetch_all(db.pool()).await.unwrap() {
        let t: String = r.get(0);
        let n: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM \"{t}\""))
            .fetch_one(db.pool())
            .await
            .unwrap()
            .get(0);
        out.insert(t, n);
    }
    out
}

async fn populated(db: &Db) -> testkit::city::City {
    let city = testkit::city::standard().build(db.clone()).await;
    // A password change as the administrator: one more audited change.
    let admin = city.actor("admin").clone();
    city.org
        .set_password(&admin, city.user_id("han_x"), None, "Xyz@98765qq")
        .await
        .unwrap();
    city
}

async fn restore_and_compare(archive: &Path, backend: Backend, want: &BTreeMap<String, i64>) {
    let target = empty(backend).await;
    let o = yiwang(&target.url, &["restore", archive.to_str().unwrap()]);
    assert!(o.status.success(), "restore on {backend:?}: {}", out(&o));
    assert!(out(&o).contains("审计链完整"), "{}", out(&o));
    let o = yiwang(&target.url, &["audit", "verify"]);
    assert!(
        o.status.success(),
        "audit verify after restore: {}",
        out(&o)
    );

    let db = Db::connect(&target.url).await.unwrap();
    let mut got = counts(&db).await;
    got.remove("kernel_migrations");
    let mut want = want.clone();
    want.remove("kernel_migrations");
    assert_eq!(got, want, "row counts after restore on {backend:?}");
    assert!(
        got["kernel_audit"] > 10,
        "the city's audit records came back"
    );
    let names: Vec<String> = sqlx::query("SELECT username FROM org_users ORDER BY id")
        .fetch_all(db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(names.contains(&"han_x".to_owned()), "{names:?}");

    // The restored database takes new records (identity sequences moved past the restored ids)
    // and its chain still verifies after them.
    let org = org::OrgService::new(db.clone(), testkit::city::fast_auth());
    org.create_user(
        &kernel::Actor::cli(),
        org::NewUser {
            username: "after_restore".into(),
            display_name: "恢复后新增".into(),
            password: testkit::city::PASSWORD.into(),
            dept_id: None,
            roles: vec![Role::Citizen],
            phone: None,
            id_card: None,
        },
    )
    .await
    .expect("a new user after restore");
    let v = kernel::audit::verify(&db).await.unwrap();
    assert!(v.first_broken.is_none());

    // A database that is not empty is never restored over.
    let o = yiwang(&target.url, &["restore", archive.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(out(&o).contains("不是空的"), "{}", out(&o));
    db.close().await;
    target.drop_pg().await;
}

async fn backup_restores_into_an_empty_database(db: Db) {
    populated(&db).await;
    let want = counts(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("city.ywbak");
    let o = yiwang(db.url(), &["backup", archive.to_str().unwrap()]);
    assert!(o.status.success(), "backup: {}", out(&o));
    // Never over an existing file.
    let o = yiwang(db.url(), &["backup", archive.to_str().unwrap()]);
    assert!(
        !o.status.success() && out(&o).contains("已存在"),
        "{}",
        out(&o)
    );

    restore_and_compare(&archive, db.backend(), &want).await;
    if db.backend() == Backend::Postgres {
        // The archive is portable: PostgreSQL's backup restores into SQLite.
        restore_and_compare(&archive, Backend::Sqlite, &want).await;
    }
}

async fn damaged_backup_is_refused_before_writing(db: Db) {
    populated(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("city.ywbak");
    let o = yiwang(db.url(), &["backup", archive.to_str().unwrap()]);
    assert!(o.status.success(), "backup: {}", out(&o));
    let good = std::fs::read_to_string(&archive).unwrap();

    // One changed name in a data row (still valid JSON): only the digest can tell.
    let tampered = good.replacen("\"han_x\"", "\"han_q\"", 1);
    assert_ne!(tampered, good);
    // The last rows gone (a copy cut short).
    let lines: Vec<&str> = good.lines().collect();
    let truncated = lines[..lines.len() - 3].join("\n") + "\n";
    // A row broken in the middle.
    let mut garbled_lines = lines.clone();
    let cut = lines[2]
        .char_indices()
        .nth(lines[2].chars().count() / 2)
        .unwrap()
        .0;
    let half = &lines[2][..cut];
    garbled_lines[2] = half;
    let garbled = garbled_lines.join("\n") + "\n";
    for (what, text, says) in [
        ("tampered", tampered, "SM3"),
        ("truncated", truncated, "不完整"),
        ("garbled", garbled, "损坏"),
    ] {
        let bad = dir.path().join(format!("{what}.ywbak"));
        std::fs::write(&bad, text).unwrap();
        let target = empty(db.backend()).await;
        let o = yiwang(&target.url, &["restore", bad.to_str().unwrap()]);
        assert!(!o.status.success(), "{what} restored: {}", out(&o));
        assert!(out(&o).contains(says), "{what}: {}", out(&o));
        let t = Db::connect(&target.url).await.unwrap();
        assert!(
            kernel::migrate::is_empty(&t).await.unwrap(),
            "{what}: nothing written"
        );
        t.close().await;
        target.drop_pg().await;
    }
}
