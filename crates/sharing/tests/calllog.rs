//! The gateway's call log archived by month, on SQLite and PostgreSQL: two whole months go to
//! files and leave the table, the table verifies from the boundary and the files verify from
//! the first call; a changed table row and a changed archived line are each named by month and
//! seq; the current month is never archived.

mod common;
#[path = "calllog/world.rs"]
mod world;

use common::migrations;
use kernel::{Actor, Db};
use sharing::gateway::domain::{archive_names, previous_month, Call};
use world::*;

testkit::on_both_backends!(migrations;
    two_months_are_archived_and_both_parts_verify,
    a_changed_row_or_archived_line_is_named,
    the_current_month_is_never_archived,
);

async fn count(db: &Db) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM sharing_calls")
        .fetch_one(db.pool())
        .await
        .unwrap()
}

async fn exec(db: &Db, sql: &str) {
    let mut tx = db.begin().await.unwrap();
    sqlx::query(sql).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
}

async fn two_months_are_archived_and_both_parts_verify(db: Db) {
    let cw = calls_over_three_months(&db).await;
    let [m1, m2, now] = cw.months;
    let svc = sharing::SharingService::new(db.clone());
    let dir = tempfile::tempdir().unwrap();
    // A data officer may read the log but not archive it.
    let e = svc
        .archive_calls(cw.w.actor("b_off"), now, dir.path())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "forbidden", "{e:?}");

    let r = svc
        .archive_calls(&Actor::cli(), now, dir.path())
        .await
        .unwrap();
    let got: Vec<_> = r
        .months
        .iter()
        .map(|m| (m.month, m.rows, m.first_seq, m.last_seq))
        .collect();
    assert_eq!(got, vec![(m1, 3, 1, 3), (m2, 2, 4, 5)]);
    assert_eq!(count(&db).await, 2, "only the current month stays");
    for m in [m1, m2] {
        let (file, manifest) = archive_names(m);
        let lines = std::fs::read_to_string(dir.path().join(&file)).unwrap();
        assert!(lines
            .lines()
            .all(|l| serde_json::from_str::<Call>(l).unwrap().month == m));
        assert!(dir.path().join(manifest).exists());
        assert!(!dir.path().join(file).with_extension("part").exists());
    }
    // The boundary's hash is the last archived call's; the first remaining call links to it.
    let prev: String = sqlx::query_scalar("SELECT prev_hash FROM sharing_calls WHERE seq = 6")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(prev, r.months[1].last_hash);

    let v = svc.verify_calls().await.unwrap();
    assert_eq!((v.from_seq, v.calls, v.archived), (6, 2, 5), "{v:?}");
    assert_eq!(v.first_broken, None);
    let a = svc.verify_call_archives(dir.path()).await.unwrap();
    assert_eq!((a.calls, a.first_broken.clone()), (5, None), "{a:?}");
    assert_eq!(a.head_hash, r.months[1].last_hash);

    // Once more: nothing left to archive, nothing removed, everything still verifies.
    let again = svc
        .archive_calls(&Actor::cli(), now, dir.path())
        .await
        .unwrap();
    assert!(again.months.is_empty() && again.leftovers_removed == 0);
    assert_eq!(count(&db).await, 2);
    assert_eq!(svc.verify_calls().await.unwrap(), v);
    // The archiving is in the audit chain.
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM kernel_audit WHERE action = 'sharing_calls.archive'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(audited, 2);
}

async fn a_changed_row_or_archived_line_is_named(db: Db) {
    let cw = calls_over_three_months(&db).await;
    let [m1, m2, now] = cw.months;
    let svc = sharing::SharingService::new(db.clone());
    // A broken chain is never archived: it would take the evidence out of the table.
    exec(
        &db,
        "UPDATE sharing_calls SET row_count = 999 WHERE seq = 2",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let e = svc
        .archive_calls(&Actor::cli(), now, dir.path())
        .await
        .unwrap_err();
    assert!(e.detail().contains("第 2 条"), "{}", e.detail());
    assert_eq!(count(&db).await, 7, "nothing removed");
    exec(&db, "UPDATE sharing_calls SET row_count = 5 WHERE seq = 2").await;
    assert_eq!(svc.verify_calls().await.unwrap().first_broken, None);
    svc.archive_calls(&Actor::cli(), now, dir.path())
        .await
        .unwrap();

    // A changed row in the table, after the boundary.
    exec(
        &db,
        "UPDATE sharing_calls SET system = '别的系统' WHERE seq = 7",
    )
    .await;
    let b = svc.verify_calls().await.unwrap().first_broken.unwrap();
    assert_eq!((b.seq, b.month), (7, Some(now)), "{b:?}");
    exec(
        &db,
        "UPDATE sharing_calls SET system = '民政救助系统' WHERE seq = 7",
    )
    .await;
    assert_eq!(svc.verify_calls().await.unwrap().first_broken, None);
    // A changed boundary (the archive record) breaks the table's first link.
    let boundary = svc.call_archives().await.unwrap()[1].last_hash.clone();
    exec(
        &db,
        &format!("UPDATE sharing_call_archives SET last_hash = 'x' WHERE month = {m2}"),
    )
    .await;
    let b = svc.verify_calls().await.unwrap().first_broken.unwrap();
    assert_eq!(b.seq, 6, "{b:?}");
    exec(
        &db,
        &format!("UPDATE sharing_call_archives SET last_hash = '{boundary}' WHERE month = {m2}"),
    )
    .await;
    assert_eq!(svc.verify_calls().await.unwrap().first_broken, None);

    // A changed line in an archived file: named by its month and seq.
    let path = dir.path().join(archive_names(m1).0);
    let original = std::fs::read_to_string(&path).unwrap();
    let changed: Vec<String> = original
        .lines()
        .map(|l| {
            let mut c: Call = serde_json::from_str(l).unwrap();
            if c.seq == 2 {
                c.row_count = 30;
            }
            serde_json::to_string(&c).unwrap()
        })
        .collect();
    std::fs::write(&path, changed.join("\n") + "\n").unwrap();
    let a = svc.verify_call_archives(dir.path()).await.unwrap();
    let b = a.first_broken.unwrap();
    assert_eq!((b.seq, b.month), (2, Some(m1)), "{b:?}");
    assert_eq!(a.calls, 1, "one good call before it");
    // Its hash recomputed too: the next line's link names the next call.
    let rehashed: Vec<String> = original
        .lines()
        .map(|l| {
            let mut c: Call = serde_json::from_str(l).unwrap();
            if c.seq == 2 {
                c.row_count = 30;
                c.hash = c.chained_hash();
            }
            serde_json::to_string(&c).unwrap()
        })
        .collect();
    std::fs::write(&path, rehashed.join("\n") + "\n").unwrap();
    let b = svc
        .verify_call_archives(dir.path())
        .await
        .unwrap()
        .first_broken
        .unwrap();
    assert_eq!((b.seq, b.month), (3, Some(m1)), "{b:?}");
    // A dropped last line, or bytes changed outside any call, are found too.
    let short: Vec<&str> = original.lines().take(2).collect();
    std::fs::write(&path, short.join("\n") + "\n").unwrap();
    let b = svc
        .verify_call_archives(dir.path())
        .await
        .unwrap()
        .first_broken
        .unwrap();
    assert_eq!((b.seq, b.month), (3, Some(m1)), "{b:?}");
    std::fs::write(&path, original.replace("\n", "\r\n")).unwrap();
    let b = svc
        .verify_call_archives(dir.path())
        .await
        .unwrap()
        .first_broken
        .unwrap();
    assert_eq!(b.month, Some(m1), "{b:?}");
    std::fs::write(&path, &original).unwrap();
    assert_eq!(
        svc.verify_call_archives(dir.path())
            .await
            .unwrap()
            .first_broken,
        None
    );
    // A missing file is named by its month's first call.
    std::fs::remove_file(dir.path().join(archive_names(m2).0)).unwrap();
    let b = svc
        .verify_call_archives(dir.path())
        .await
        .unwrap()
        .first_broken
        .unwrap();
    assert_eq!((b.seq, b.month), (4, Some(m2)), "{b:?}");
}

async fn the_current_month_is_never_archived(db: Db) {
    let cw = calls_over_three_months(&db).await;
    let [_, m2, now] = cw.months;
    let svc = sharing::SharingService::new(db.clone());
    let dir = tempfile::tempdir().unwrap();
    let next = if now % 100 == 12 { now + 89 } else { now + 1 };
    let e = svc
        .archive_calls(&Actor::cli(), next, dir.path())
        .await
        .unwrap_err();
    assert_eq!(e.field_name(), Some("before"), "{e:?}");
    assert!(e.detail().contains("不能归档当月"), "{}", e.detail());
    assert_eq!(count(&db).await, 7);
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "no file written"
    );
    let e = svc
        .archive_calls(&Actor::cli(), 202613, dir.path())
        .await
        .unwrap_err();
    assert_eq!(e.field_name(), Some("before"));
    // Up to the month before last only: the older month goes, the other two stay.
    let r = svc
        .archive_calls(&Actor::cli(), previous_month(now), dir.path())
        .await
        .unwrap();
    assert_eq!(r.months.len(), 1);
    assert_eq!(count(&db).await, 4);
    let v = svc.verify_calls().await.unwrap();
    assert_eq!((v.from_seq, v.calls, v.first_broken), (4, 4, None));
    assert!(m2 < now);
}

/// The hand-written canonical form (fast for verification) is byte for byte the generic
/// canonical JSON the stored chains were hashed over (the same check as the unit test in
/// `gateway::domain`, from outside the crate).
#[test]
fn the_canonical_form_is_the_generic_one() {
    let c = Call {
        seq: 42,
        month: 202611,
        at: 1_780_000_000_000,
        caller: "user:\"7\"\\\n\u{1}民政".into(),
        consumer_dept_id: None,
        system: "救助系统\t<>&'".into(),
        grant_id: Some(3),
        resource_id: None,
        resource_code: "A1-000001.1".into(),
        fields: vec!["name".into(), "姓\"名".into()],
        row_count: 0,
        request_hash: String::new(),
        response_hash: "p".into(),
        result: "ok".into(),
        prev_hash: sharing::gateway::domain::GENESIS.into(),
        hash: String::new(),
    };
    let v = serde_json::json!({
        "seq": c.seq, "month": c.month, "at": c.at, "caller": c.caller,
        "consumer_dept_id": c.consumer_dept_id, "system": c.system,
        "grant_id": c.grant_id, "resource_id": c.resource_id,
        "resource_code": c.resource_code, "fields": c.fields,
        "row_count": c.row_count, "request_hash": c.request_hash,
        "response_hash": c.response_hash, "result": c.result,
    });
    let mut generic = String::new();
    kernel::audit::canonical_json(&v, &mut generic);
    assert_eq!(c.canonical(), generic);
    assert_eq!(
        c.chained_hash(),
        kernel::audit::chain_hash(&c.prev_hash, &generic)
    );
}
