//! `yiwang licenses keys|sync-trust|verify`, run as separate processes on SQLite and
//! PostgreSQL: offline 查证 reads only the file and the trust cache.

mod support;
use support::*;

#[path = "../../licenses/tests/common/mod.rs"]
mod common;

use common::*;
use kernel::Db;
use licenses::issue::domain::StatusAction;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn migrations() -> Vec<kernel::migrate::Migration> {
    web::migrations()
}

testkit::on_both_backends!(migrations; keys_sync_and_offline_verification);

/// `yiwang --db URL licenses ARGS…` with the master key given as a file.
fn licenses_cmd(
    db: &str,
    key_file: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_yiwang"));
    // The same public address as the server that issued: credentials name it.
    c.env("YIWANG_LICENSES__MASTER_KEY_FILE", key_file)
        .env("YIWANG_PUBLIC_URL", BASE)
        .arg("--db")
        .arg(db)
        .arg("licenses")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("run yiwang");
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

async fn keys_sync_and_offline_verification(db: Db) {
    let w = world(db.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("master.key");
    std::fs::write(&key_file, format!("{MASTER}\n")).unwrap();
    let url = db.url();
    let l = w.issue_health(&resident_id()).await;
    let vc = w.credential(&l).await;
    let vc_file = dir.path().join("健康证明.json");
    std::fs::write(&vc_file, vc.to_string()).unwrap();
    let trust = dir.path().join("trust.json");
    let t = trust.to_str().unwrap();

    let o = licenses_cmd(url, &key_file, &["keys", "list"], None);
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains(&l.kid) && out(&o).contains("在用"),
        "{}",
        out(&o)
    );
    assert!(!out(&o).contains(MASTER), "the master key is never printed");

    let o = licenses_cmd(url, &key_file, &["sync-trust", "--out", t], None);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("1 个签发密钥"), "{}", out(&o));

    // Offline: the cache and the file only (a database URL that does not exist proves it).
    let nowhere = "sqlite:///nonexistent/dir/x.db";
    let o = licenses_cmd(
        nowhere,
        &key_file,
        &["verify", vc_file.to_str().unwrap(), "--trust", t],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        out(&o).contains("证照真实有效") && out(&o).contains("✓ 签名"),
        "{}",
        out(&o)
    );
    let mut tampered = vc.clone();
    tampered["credentialSubject"]["name"] = serde_json::json!("李四");
    let o = licenses_cmd(
        nowhere,
        &key_file,
        &["verify", "-", "--trust", t],
        Some(&tampered.to_string()),
    );
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(out(&o).contains("✗ 签名"), "{}", out(&o));
    let o = licenses_cmd(
        nowhere,
        &key_file,
        &["verify", "-", "--trust", t],
        Some("not json"),
    );
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));

    // Revoked after the sync: the old cache does not know yet; a new sync does.
    w.svc
        .change_status(w.actor("appr_h"), l.id, StatusAction::Revoke, "证件造假")
        .await
        .unwrap();
    let o = licenses_cmd(
        nowhere,
        &key_file,
        &["verify", vc_file.to_str().unwrap(), "--trust", t],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(out(&o).contains("离线缓存"), "{}", out(&o));
    // Synced from a running server this time.
    let mut cfg = kernel::config::Config::default();
    cfg.licenses.master_key = MASTER.into();
    cfg.server.public_url = Some(BASE.into());
    let server = web::start(web::context(db.clone(), cfg), "127.0.0.1:0")
        .await
        .unwrap();
    let o = licenses_cmd(
        url,
        &key_file,
        &["sync-trust", "--from", &server.url(), "--out", t],
        None,
    );
    assert!(o.status.success(), "{}", out(&o));
    server.stop().await;
    let o = licenses_cmd(
        nowhere,
        &key_file,
        &["verify", vc_file.to_str().unwrap(), "--trust", t],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(out(&o).contains("已被撤销"), "{}", out(&o));

    // Rotation by department name; the retired key still verifies an older license.
    let other = w.issue_health(&resident_id()).await;
    let o = licenses_cmd(
        url,
        &key_file,
        &["keys", "rotate", "--dept", "卫健委"],
        None,
    );
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains(&format!("d{}-k2", w.health_dept)),
        "{}",
        out(&o)
    );
    licenses_cmd(url, &key_file, &["sync-trust", "--out", t], None);
    let o = licenses_cmd(
        nowhere,
        &key_file,
        &["verify", "-", "--trust", t],
        Some(&w.credential(&other).await.to_string()),
    );
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let o = licenses_cmd(
        url,
        &key_file,
        &["keys", "rotate", "--dept", "不存在的局"],
        None,
    );
    assert!(!o.status.success());
    assert!(out(&o).contains("不存在的局"), "{}", out(&o));
}
