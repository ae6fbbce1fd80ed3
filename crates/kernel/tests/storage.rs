//! The kernel's storage contract, on SQLite and PostgreSQL.

use kernel::audit::{self, AuditActor};
use kernel::migrate::{self, kernel_migrations};
use kernel::{Backend, Db};
use serde_json::json;

fn migrations() -> Vec<kernel::migrate::Migration> {
    kernel_migrations()
}

testkit::on_both_backends!(migrations;
    migrations_are_idempotent,
    audit_chain_verifies_and_names_a_tampered_row,
    failed_transaction_leaves_neither_change_nor_audit,
    concurrent_writers_keep_the_chain_linear,
    deleted_tail_is_detected,
    records_written_together_chain_as_one_by_one,
);

async fn migrations_are_idempotent(db: Db) {
    // The fixture applied them once already; a second and third run apply nothing.
    assert!(migrate::run(&db, &migrations()).await.unwrap().is_empty());
    assert!(migrate::run(&db, &migrations()).await.unwrap().is_empty());
    // An edited migration is refused, not silently re-run.
    let mut edited = migrations();
    edited[0].sql = "SELECT 1";
    let e = migrate::run(&db, &edited).await.unwrap_err();
    assert!(e.to_string().contains("edited"), "{e}");
}

async fn audit_chain_verifies_and_names_a_tampered_row(db: Db) {
    for i in 0..5 {
        let mut tx = db.begin().await.unwrap();
        audit::record(
            &mut tx,
            db.now(),
            &AuditActor::user(1),
            "thing",
            i,
            "create",
            json!({"n": i, "名称": "测试"}),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let v = audit::verify(&db).await.unwrap();
    assert_eq!(v.records, 5);
    assert_eq!(v.first_broken, None);

    // Someone edits row 3 behind the server's back.
    sqlx::query("UPDATE kernel_audit SET payload = $1 WHERE seq = 3")
        .bind(r#"{"n":99}"#)
        .execute(db.pool())
        .await
        .unwrap();
    let v = audit::verify(&db).await.unwrap();
    assert_eq!(v.first_broken.as_ref().map(|b| b.seq), Some(3), "{v:?}");
}

async fn failed_transaction_leaves_neither_change_nor_audit(db: Db) {
    let mut tx = db.begin().await.unwrap();
    migrate::set_meta(&mut tx, "k", "v").await.unwrap();
    audit::record(
        &mut tx,
        db.now(),
        &AuditActor::cli(),
        "meta",
        "k",
        "set",
        json!({}),
    )
    .await
    .unwrap();
    drop(tx); // rolled back, as on any error path
    assert_eq!(migrate::get_meta(&db, "k").await.unwrap(), None);
    assert_eq!(audit::verify(&db).await.unwrap().records, 0);
    assert!(audit::recent(&db, 10).await.unwrap().is_empty());
}

async fn concurrent_writers_keep_the_chain_linear(db: Db) {
    let mut tasks = Vec::new();
    for w in 0..8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                let mut tx = db.begin().await.unwrap();
                audit::record(
                    &mut tx,
                    db.now(),
                    &AuditActor::user(w),
                    "w",
                    i,
                    "tick",
                    json!({"w": w}),
                )
                .await
                .unwrap();
                tx.commit().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let v = audit::verify(&db).await.unwrap();
    assert_eq!(v.records, 80);
    assert_eq!(v.first_broken, None, "{v:?}");
    if db.backend() == Backend::Sqlite {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(fk, 1);
        // FULL: an acknowledged commit survives a power cut, not only a crash.
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(sync, 2);
    }
}

async fn deleted_tail_is_detected(db: Db) {
    for i in 0..3 {
        let mut tx = db.begin().await.unwrap();
        audit::record(
            &mut tx,
            db.now(),
            &AuditActor::cli(),
            "x",
            i,
            "a",
            json!(null),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    sqlx::query("DELETE FROM kernel_audit WHERE seq = 3")
        .execute(db.pool())
        .await
        .unwrap();
    let v = audit::verify(&db).await.unwrap();
    assert_eq!(v.first_broken.map(|b| b.seq), Some(3));
}

/// `record_many` (a batch import's audit) makes the same chain as one-by-one records: 250
/// records (three INSERTs) between single ones verify, in order, and a later single record
/// follows the batch's last; a tampered record inside the batch is named.
async fn records_written_together_chain_as_one_by_one(db: Db) {
    let actor = AuditActor::user(7);
    let mut tx = db.begin().await.unwrap();
    audit::record(&mut tx, db.now(), &actor, "batch", 0, "start", json!({}))
        .await
        .unwrap();
    let entries: Vec<audit::Entry> = (1..=250)
        .map(|i| {
            (
                "license".to_owned(),
                i.to_string(),
                "issue".to_owned(),
                json!({"n": i}),
            )
        })
        .collect();
    audit::record_many(&mut tx, db.now(), &actor, &entries)
        .await
        .unwrap();
    let last = audit::record(&mut tx, db.now(), &actor, "batch", 0, "end", json!({}))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(last, 252);
    let v = audit::verify(&db).await.unwrap();
    assert_eq!((v.records, v.first_broken.is_none()), (252, true), "{v:?}");
    let h = audit::history(&db, "license", "200").await.unwrap();
    assert_eq!(
        (h.len(), h[0].seq, &h[0].payload),
        (1, 201, &json!({"n": 200}))
    );
    sqlx::query("UPDATE kernel_audit SET payload = $1 WHERE seq = 120")
        .bind(r#"{"n":0}"#)
        .execute(db.pool())
        .await
        .unwrap();
    let v = audit::verify(&db).await.unwrap();
    assert_eq!(v.first_broken.as_ref().map(|b| b.seq), Some(120), "{v:?}");
}
