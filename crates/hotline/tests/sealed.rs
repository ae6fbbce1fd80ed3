//! 密评 on SQLite and PostgreSQL: callers' 手机号 are stored sealed (SM4 + HMAC-SM3), read back
//! in full, found, filtered and counted by their keyed index, and rows of an older version
//! sealed in place at start-up.

use hotline::service::TicketQuery;
use kernel::Db;
use sqlx::Row;

mod common;
use common::*;

testkit::on_both_backends!(migrations;
    callers_phones_are_sealed_at_rest_and_still_found,
    plaintext_callers_are_sealed_once_at_start_up,
);

const PHONE: &str = "13912345678";
const OTHER: &str = "13700001111";

async fn raw(db: &Db, id: i64) -> (Option<String>, Option<String>) {
    let r = sqlx::query("SELECT caller_phone, caller_phone_idx FROM hotline_tickets WHERE id = $1")
        .bind(id)
        .fetch_one(db.pool())
        .await
        .unwrap();
    (r.get("caller_phone"), r.get("caller_phone_idx"))
}

async fn no_plain_number_in_table(db: &Db) {
    let rows = sqlx::query(
        "SELECT COALESCE(caller_phone, '') AS p, COALESCE(caller_phone_idx, '') AS pi FROM hotline_tickets",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert!(!rows.is_empty());
    for r in &rows {
        let (p, pi): (String, String) = (r.get("p"), r.get("pi"));
        assert!(testkit::plain_numbers(&p).is_empty(), "{p}");
        assert!(!pi.contains(PHONE) && !pi.contains(OTHER), "{pi}");
    }
}

async fn callers_phones_are_sealed_at_rest_and_still_found(db: Db) {
    let (db, city) = built_at(db, monday(), testkit::city::hotline_centre()).await;
    let w = Centre::of(&city);
    let a = w.create(call("夜间施工噪音")).await.id;
    let b = w.create(call("夜间施工噪音又来了")).await.id;
    let c = w
        .create(hotline::domain::NewTicket {
            caller_phone: Some(OTHER.into()),
            ..call("路灯不亮")
        })
        .await
        .id;

    // Straight from the table: ciphertext only, no 11-digit mobile anywhere.
    no_plain_number_in_table(&db).await;
    let (p, pi) = raw(&db, a).await;
    assert!(p.unwrap().starts_with(kernel::sealed::PREFIX));
    assert_eq!(pi, db.sealer().index(PHONE).unwrap());
    assert_ne!(
        raw(&db, a).await.0,
        raw(&db, b).await.0,
        "a random IV per value"
    );

    // Read back in full by who may see it.
    let t = w.ticket(&w.operator, a).await;
    assert_eq!(t.caller.phone.as_deref(), Some(PHONE));

    // The filter by caller number goes through the keyed index.
    let by_phone = |phone: &str| TicketQuery {
        caller_phone: Some(phone.into()),
        ..Default::default()
    };
    let found = w
        .svc
        .list(&w.dispatcher, &by_phone(PHONE), &first_page())
        .await
        .unwrap();
    assert_eq!(found.total, 2);
    let mut ids: Vec<i64> = found.items.iter().map(|v| v.ticket.id).collect();
    ids.sort();
    assert_eq!(ids, [a, b]);
    let other = w
        .svc
        .list(&w.dispatcher, &by_phone(OTHER), &first_page())
        .await
        .unwrap();
    assert_eq!(other.total, 1);
    assert_eq!(other.items[0].ticket.id, c);
    assert_eq!(
        w.svc
            .list(&w.dispatcher, &by_phone("13900000000"), &first_page())
            .await
            .unwrap()
            .total,
        0
    );

    // The citizen's track by number and phone still matches.
    let number = w.ticket(&w.operator, a).await.number;
    assert!(w.svc.track(&number, PHONE).await.is_ok());
    assert!(w.svc.track(&number, OTHER).await.is_err());

    // Distinct callers counted by the index: one caller on a ticket with no merged children.
    let mut conn = db.pool().acquire().await.unwrap();
    assert_eq!(
        hotline::search::duplicates::callers(&mut conn, a)
            .await
            .unwrap(),
        1
    );
}

async fn plaintext_callers_are_sealed_once_at_start_up(db: Db) {
    let (db, city) = built_at(db, monday(), testkit::city::hotline_centre()).await;
    let w = Centre::of(&city);
    let a = w.create(call("夜间施工噪音")).await.id;
    let b = w.create(call("路灯不亮")).await.id;
    let b_before = raw(&db, b).await;
    // As an older version wrote it: plaintext, no index.
    sqlx::query(
        "UPDATE hotline_tickets SET caller_phone = $1, caller_phone_idx = NULL WHERE id = $2",
    )
    .bind(PHONE)
    .bind(a)
    .execute(db.pool())
    .await
    .unwrap();
    // Unsealed plaintext is never served.
    assert!(w.svc.get(&w.operator, a).await.is_err());
    let n = kernel::sealed::seal_plaintext(&db, &hotline::sealed_columns())
        .await
        .unwrap();
    assert_eq!(n, 1);
    no_plain_number_in_table(&db).await;
    let (p, pi) = raw(&db, a).await;
    assert!(p.unwrap().starts_with(kernel::sealed::PREFIX));
    assert_eq!(pi, db.sealer().index(PHONE).unwrap());
    assert_eq!(
        w.ticket(&w.operator, a).await.caller.phone.as_deref(),
        Some(PHONE)
    );
    // Idempotent: nothing left, values already sealed untouched.
    assert_eq!(
        kernel::sealed::seal_plaintext(&db, &hotline::sealed_columns())
            .await
            .unwrap(),
        0
    );
    assert_eq!(raw(&db, b).await, b_before);
}
