//! Audit retention: old records archived to verifiable files and only then removed; the table
//! verified from the archived boundary, the files on their own; tampering found and named. On
//! SQLite and PostgreSQL.

use kernel::audit::archive::{self, Manifest};
use kernel::audit::{self, AuditActor};
use kernel::migrate::kernel_migrations;
use kernel::Db;
use serde_json::json;

fn migrations() -> Vec<kernel::migrate::Migration> {
    kernel_migrations()
}

testkit::on_both_backends!(migrations;
    old_records_are_archived_then_removed_and_both_verify,
    tampered_archives_are_named,
    a_broken_chain_is_not_archived,
);

const DAY: i64 = 86_400_000;

/// `old` records 200 days back, then `new` records of today.
async fn write(db: &Db, old: i64, new: i64) {
    let now = db.now();
    for i in 0..old + new {
        let at = if i < old { now - 200 * DAY + i } else { now };
        let mut tx = db.begin().await.unwrap();
        audit::record(
            &mut tx,
            at,
            &AuditActor::user(7),
            "thing",
            i,
            "create",
            json!({"n": i, "名称": "测试"}),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
}

async fn count(db: &Db) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM kernel_audit")
        .fetch_one(db.pool())
        .await
        .unwrap()
}

async fn old_records_are_archived_then_removed_and_both_verify(db: Db) {
    write(&db, 10, 3).await;
    let dir = tempfile::tempdir().unwrap();
    let cli = AuditActor::cli();
    // Less than 180 days is refused, and nothing moves.
    let e = archive::archive(&db, db.now(), 90, dir.path(), &cli)
        .await
        .unwrap_err();
    assert_eq!(e.field_name(), Some("retention_days"), "{e:?}");
    assert_eq!(count(&db).await, 13);

    let a = archive::archive(&db, db.now(), 180, dir.path(), &cli)
        .await
        .unwrap()
        .expect("ten records are due");
    assert_eq!((a.manifest.first_seq, a.manifest.last_seq), (1, 10));
    assert_eq!(a.manifest.records, 10);
    assert_eq!(a.manifest.prev_hash, audit::GENESIS);
    // The manifest on disk says the same, with the records file's SM3.
    let m: Manifest =
        serde_json::from_str(&std::fs::read_to_string(&a.manifest_path).unwrap()).unwrap();
    assert_eq!(m, a.manifest);
    let bytes = std::fs::read(dir.path().join(&m.file)).unwrap();
    assert_eq!(bytes.iter().filter(|b| **b == b'\n').count(), 10);
    use sm3::Digest;
    assert_eq!(hex::encode(sm3::Sm3::digest(&bytes)), m.sm3);

    // Removed from the table, the archiving itself recorded; the rest verifies from the
    // boundary.
    assert_eq!(count(&db).await, 4);
    let last = audit::recent(&db, 1).await.unwrap().remove(0);
    assert_eq!(
        (last.entity.as_str(), last.action.as_str()),
        ("audit", "archive")
    );
    assert_eq!(last.payload["last_seq"], 10);
    let v = audit::verify(&db).await.unwrap();
    assert_eq!(v.first_broken, None, "{v:?}");
    assert_eq!(v.records, 4);
    let f = archive::verify_files(&db, dir.path()).await.unwrap();
    assert_eq!(f.problem, None, "{f:?}");
    assert_eq!((f.archives, f.records), (1, 10));

    // Nothing more is due; the next change chains on.
    assert_eq!(
        archive::archive(&db, db.now(), 180, dir.path(), &cli)
            .await
            .unwrap(),
        None
    );
    write(&db, 0, 1).await;
    assert_eq!(audit::verify(&db).await.unwrap().first_broken, None);
    // Later, today's records are due too: a second archive joins the first.
    let later = db.now() + 181 * DAY;
    let b = archive::archive(&db, later, 180, dir.path(), &cli)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((b.manifest.first_seq, b.manifest.last_seq), (11, 15));
    assert_eq!(b.manifest.prev_hash, a.manifest.last_hash);
    assert_eq!(
        count(&db).await,
        1,
        "only the second archiving's own record"
    );
    assert_eq!(audit::verify(&db).await.unwrap().first_broken, None);
    let f = archive::verify_files(&db, dir.path()).await.unwrap();
    assert_eq!(f.problem, None, "{f:?}");
    assert_eq!((f.archives, f.records), (2, 15));

    // A kept record changed in the table is still named by its number.
    sqlx::query("UPDATE kernel_audit SET actor = 'user:999' WHERE seq = 16")
        .execute(db.pool())
        .await
        .unwrap();
    let v = audit::verify(&db).await.unwrap();
    assert_eq!(v.first_broken.map(|b| b.seq), Some(16));
}

async fn tampered_archives_are_named(db: Db) {
    write(&db, 6, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let a = archive::archive(&db, db.now(), 180, dir.path(), &AuditActor::cli())
        .await
        .unwrap()
        .unwrap();
    let file = dir.path().join(&a.manifest.file);
    let original = std::fs::read_to_string(&file).unwrap();

    // A record's payload changed in the file: the file and the record are named.
    let changed = original.replacen(r#""n":3"#, r#""n":33"#, 1);
    assert_ne!(changed, original);
    std::fs::write(&file, &changed).unwrap();
    let p = archive::verify_files(&db, dir.path())
        .await
        .unwrap()
        .problem
        .expect("found");
    assert_eq!(p.file, a.manifest.file);
    assert_eq!(p.seq, Some(4), "{p:?}");
    assert!(p.reason.contains("SM3"), "{p:?}");

    // A record dropped from the file: named as missing.
    let dropped: String = original
        .lines()
        .filter(|l| !l.contains(r#""seq":2,"#))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&file, dropped).unwrap();
    let p = archive::verify_files(&db, dir.path())
        .await
        .unwrap()
        .problem
        .unwrap();
    assert_eq!(p.seq, Some(2), "{p:?}");

    // The file gone.
    std::fs::remove_file(&file).unwrap();
    let p = archive::verify_files(&db, dir.path())
        .await
        .unwrap()
        .problem
        .unwrap();
    assert!(p.reason.contains("缺失"), "{p:?}");
    std::fs::write(&file, &original).unwrap();
    assert_eq!(
        archive::verify_files(&db, dir.path())
            .await
            .unwrap()
            .problem,
        None
    );

    // The archive's row removed from the table, to hide that records were taken out: the
    // table no longer starts where it should.
    sqlx::query("DELETE FROM kernel_audit_archives")
        .execute(db.pool())
        .await
        .unwrap();
    let v = audit::verify(&db).await.unwrap();
    assert_eq!(v.first_broken.map(|b| b.seq), Some(1));
    let p = archive::verify_files(&db, dir.path())
        .await
        .unwrap()
        .problem
        .unwrap();
    assert_eq!(p.file, a.manifest.file);
    assert!(p.reason.contains("没有这段归档的记载"), "{p:?}");
}

async fn a_broken_chain_is_not_archived(db: Db) {
    write(&db, 5, 1).await;
    sqlx::query("UPDATE kernel_audit SET payload = '{}' WHERE seq = 3")
        .execute(db.pool())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let e = archive::archive(&db, db.now(), 180, dir.path(), &AuditActor::cli())
        .await
        .unwrap_err();
    assert!(e.detail().contains("第 3 条"), "{e:?}");
    assert_eq!(count(&db).await, 6, "nothing removed");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file left"
    );
}
