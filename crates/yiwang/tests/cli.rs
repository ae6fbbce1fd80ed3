//! The command line, run as a separate process, on SQLite and PostgreSQL.

mod support;
use support::*;

use kernel::Db;
use std::process::Command;

fn migrations() -> Vec<kernel::migrate::Migration> {
    web::migrations()
}

testkit::on_both_backends!(migrations;
    migrate_is_idempotent_and_audit_verify_names_a_tampered_row,
    users_are_added_listed_and_reset,
    audit_archive_then_verify_names_a_tampered_file,
);

/// `yiwang user add` without a department.
fn add_user(url: &str, username: &str, name: &str, role: &str) -> std::process::Output {
    let args = [
        "user",
        "add",
        "--username",
        username,
        "--name",
        name,
        "--role",
        role,
    ];
    yiwang(url, &args)
}

/// The rest of the first printed line that starts with `prefix`.
fn printed_after(o: &std::process::Output, prefix: &str) -> String {
    let printed = out(o);
    let found = printed.lines().find_map(|l| l.strip_prefix(prefix));
    found.unwrap().to_owned()
}

async fn migrate_is_idempotent_and_audit_verify_names_a_tampered_row(db: Db) {
    let url = db.url().to_owned();
    // The fixture migrated already: the command applies nothing.
    let o = yiwang(&url, &["migrate"]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("无需迁移"), "{}", out(&o));
    let o = add_user(&url, "clerk1", "窗口一", "citizen");
    assert!(o.status.success(), "{}", out(&o));
    let o = add_user(&url, "clerk2", "窗口二", "citizen");
    assert!(o.status.success(), "{}", out(&o));
    let o = yiwang(&url, &["audit", "verify"]);
    assert!(
        o.status.success() && out(&o).contains("审计链完整：2 条记录"),
        "{}",
        out(&o)
    );
    sqlx::query("UPDATE kernel_audit SET payload = '{}' WHERE seq = 2")
        .execute(db.pool())
        .await
        .unwrap();
    let o = yiwang(&url, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(out(&o).contains("第 2 条记录"), "{}", out(&o));
}

/// Audit retention by the command: old records archived and removed, the table and the files
/// verified, a changed file named; a retention under 180 days refused at start-up.
async fn audit_archive_then_verify_names_a_tampered_file(db: Db) {
    let url = db.url().to_owned();
    let old = db.now() - 200 * 86_400_000;
    for i in 0..5 {
        let mut tx = db.begin().await.unwrap();
        kernel::audit::record(
            &mut tx,
            old + i,
            &kernel::audit::AuditActor::cli(),
            "thing",
            i,
            "create",
            serde_json::json!({"n": i}),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("archive");
    let out_arg = out_dir.to_str().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_yiwang"))
        .env("YIWANG_AUDIT__RETENTION_DAYS", "90")
        .args(["--db", &url, "audit", "archive", "--out", out_arg])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        out(&o).contains("audit.retention_days 不能少于 180 天"),
        "{}",
        out(&o)
    );
    assert!(!out_dir.exists());

    let o = yiwang(&url, &["audit", "archive", "--out", out_arg]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains("已归档第 1–5 条审计记录（5 条）"),
        "{}",
        out(&o)
    );
    let o = yiwang(&url, &["audit", "verify", "--archive", out_arg]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains("归档完整：1 段归档，5 条记录"),
        "{}",
        out(&o)
    );

    let file = out_dir.join("audit-0000000001-0000000005.jsonl");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replacen(r#""n":2"#, r#""n":7"#, 1)).unwrap();
    let o = yiwang(&url, &["audit", "verify", "--archive", out_arg]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(
        out(&o).contains("audit-0000000001-0000000005.jsonl 第 3 条记录"),
        "{}",
        out(&o)
    );
}

async fn users_are_added_listed_and_reset(db: Db) {
    let url = db.url().to_owned();
    let o = add_user(&url, "x", "短", "citizen");
    assert!(!o.status.success());
    assert!(out(&o).contains("用户名为 3–32 位"), "{}", out(&o));
    let o = add_user(&url, "staff1", "员工", "handler");
    assert!(!o.status.success());
    assert!(out(&o).contains("工作人员必须属于一个单位"), "{}", out(&o));
    let o = add_user(&url, "resident", "居民甲", "citizen");
    assert!(o.status.success(), "{}", out(&o));
    let first = printed_after(&o, "初始密码：");
    let o = yiwang(&url, &["user", "list"]);
    assert!(
        out(&o).contains("resident") && out(&o).contains("居民甲"),
        "{}",
        out(&o)
    );
    let o = yiwang(&url, &["user", "reset-password", "resident"]);
    assert!(o.status.success(), "{}", out(&o));
    let second = printed_after(&o, "新密码：");
    assert_ne!(first, second);
    let o = yiwang(&url, &["user", "reset-password", "nobody"]);
    assert!(
        !o.status.success() && out(&o).contains("没有用户"),
        "{}",
        out(&o)
    );
}

#[test]
fn demo_builds_a_city_refuses_real_data_and_backs_up() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| yiwang_as_user_in(dir.path(), args);
    let o = run(&["demo", "--no-serve", "--seed", "7"]);
    assert!(o.status.success(), "{}", out(&o));
    // Nothing in the demo happens after the moment it was made: no reply dated tomorrow.
    let made = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let db = rusqlite::Connection::open(dir.path().join("yiwang.db")).unwrap();
    for (what, sql) in [
        ("audit records", "SELECT MAX(at) FROM kernel_audit"),
        ("ticket events", "SELECT MAX(at) FROM hotline_events"),
        (
            "ticket replies",
            "SELECT MAX(replied_at) FROM hotline_tickets",
        ),
        ("case events", "SELECT MAX(at) FROM services_events"),
        (
            "ratings",
            "SELECT MAX(created_at) FROM services_evaluations",
        ),
    ] {
        let last: Option<i64> = db.query_row(sql, [], |r| r.get(0)).unwrap();
        let last = last.unwrap_or_else(|| panic!("the demo has no {what}"));
        assert!(
            last <= made,
            "{what}: {} ms after the demo was made",
            last - made
        );
    }
    drop(db);
    assert!(
        out(&o).contains("sysadmin")
            && out(&o).contains("secadmin")
            && out(&o).contains("auditadmin")
            && out(&o).contains("Yiwang@2025"),
        "{}",
        out(&o)
    );
    assert!(
        dir.path().join("yiwang.db").exists(),
        "the default location"
    );
    // Every other command in the same folder works on it.
    let o = run(&["user", "list"]);
    for role in [
        "sysadmin",
        "secadmin",
        "auditadmin",
        "operator",
        "dispatcher",
        "handler",
        "supervisor",
        "clerk",
        "approver",
        "data_officer",
        "analyst",
        "citizen",
    ] {
        assert!(out(&o).contains(role), "demo lacks {role}: {}", out(&o));
    }
    let o = run(&["audit", "verify"]);
    assert!(o.status.success(), "{}", out(&o));
    // Same seed, same city: a second run replaces the demo.
    let o = run(&["demo", "--no-serve", "--seed", "7"]);
    assert!(o.status.success(), "{}", out(&o));
    // A database that is not a demo is never overwritten.
    let o = run(&[
        "--db",
        "real.db",
        "user",
        "add",
        "--username",
        "real",
        "--name",
        "真实",
        "--role",
        "citizen",
    ]);
    assert!(o.status.success(), "{}", out(&o));
    let o = run(&["--db", "real.db", "demo", "--no-serve"]);
    assert!(!o.status.success());
    assert!(out(&o).contains("拒绝覆盖"), "{}", out(&o));
    // Online backup of the demo, restored into a new database; it refuses to overwrite.
    let o = run(&["backup", "copy.ywbak"]);
    assert!(o.status.success(), "{}", out(&o));
    let o = run(&["--db", "restored.db", "restore", "copy.ywbak"]);
    assert!(o.status.success(), "restore: {}", out(&o));
    let o = run(&["--db", "restored.db", "audit", "verify"]);
    assert!(o.status.success(), "backup verifies: {}", out(&o));
    let o = run(&["backup", "copy.ywbak"]);
    assert!(!o.status.success());
    // Config shows no password.
    let o = Command::new(env!("CARGO_BIN_EXE_yiwang"))
        .current_dir(dir.path())
        .arg("config")
        .env(
            "YIWANG_DATABASE_URL",
            "postgres://yw:hunter2@127.0.0.1/yiwang",
        )
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains("postgres://yw:***@127.0.0.1/yiwang") && !out(&o).contains("hunter2"),
        "{}",
        out(&o)
    );
    // A real deployment starts with bootstrap: regions, the bureau, the first admin.
    let o = run(&[
        "--db",
        "prod.db",
        "bootstrap",
        "--province",
        "690000:西地省",
        "--city",
        "690100:A市",
        "--bureau",
        "A市政务服务和数据管理局",
    ]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("初始密码："), "{}", out(&o));
    let o = run(&["--db", "prod.db", "user", "list", "--role", "sys_admin"]);
    assert!(out(&o).contains("A市政务服务和数据管理局"), "{}", out(&o));
    let o = run(&[
        "--db",
        "bad.db",
        "bootstrap",
        "--province",
        "99",
        "--city",
        "690100:A市",
        "--bureau",
        "x局",
    ]);
    assert!(
        !o.status.success() && out(&o).contains("代码:名称"),
        "{}",
        out(&o)
    );
    let o = run(&["version"]);
    assert!(out(&o).starts_with("yiwang "));
}

#[tokio::test]
async fn serve_answers_and_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_yiwang"))
        .current_dir(dir.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env_remove("YIWANG_DATABASE_URL")
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
        {
            ready = r.status() == 200;
            if ready {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "server did not become ready");
    // Migrations ran at start.
    assert!(dir.path().join("yiwang.db").exists());
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful exit, got {status:?}");
}
