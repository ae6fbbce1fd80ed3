//! 密评 on SQLite and PostgreSQL: users' 手机号 and 身份证号 are stored sealed (SM4 + HMAC-SM3),
//! found by their keyed index, refused when tampered with or read under another key, and rows
//! of an older version sealed in place at start-up.

use kernel::Actor;
use sqlx::Row;
use testkit::city;

fn migrations() -> Vec<kernel::migrate::Migration> {
    org::migrations()
}

testkit::on_both_backends!(migrations;
    users_personal_data_is_sealed_at_rest,
    tampered_or_foreign_values_are_refused,
    plaintext_rows_are_sealed_once_at_start_up,
);

const PHONE: &str = "13912345678";

fn id_card() -> String {
    kernel::codes::id_card_with_check("36012319900307123")
}

async fn register(c: &city::City) -> i64 {
    c.org
        .register_resident(
            org::Registration {
                username: "limei".into(),
                display_name: "李小梅".into(),
                id_card: id_card(),
                phone: PHONE.into(),
                password: "Qingshan#2026x".into(),
                password_again: Some("Qingshan#2026x".into()),
            },
            "10.0.0.1",
        )
        .await
        .unwrap()
        .id
}

async fn raw(db: &kernel::Db, id: i64) -> (String, String, String, String) {
    let (p, i, pi, ii) = raw_opt(db, id).await;
    (p.unwrap(), i.unwrap(), pi.unwrap(), ii.unwrap())
}

type RawRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

async fn raw_opt(db: &kernel::Db, id: i64) -> RawRow {
    let r =
        sqlx::query("SELECT phone, id_card, phone_idx, id_card_idx FROM org_users WHERE id = $1")
            .bind(id)
            .fetch_one(db.pool())
            .await
            .unwrap();
    (
        r.get("phone"),
        r.get("id_card"),
        r.get("phone_idx"),
        r.get("id_card_idx"),
    )
}

async fn users_personal_data_is_sealed_at_rest(db: kernel::Db) {
    let c = city::standard()
        .citizen("zhang", "13700001111")
        .build(db.clone())
        .await;
    let id = register(&c).await;
    // Straight from the table: ciphertext only, no 11-digit mobile, no 18-digit ID anywhere.
    let rows = sqlx::query("SELECT COALESCE(phone, '') AS p, COALESCE(id_card, '') AS i, COALESCE(phone_idx, '') AS pi, COALESCE(id_card_idx, '') AS ii FROM org_users")
        .fetch_all(db.pool())
        .await
        .unwrap();
    for r in &rows {
        let (p, i): (String, String) = (r.get("p"), r.get("i"));
        assert!(testkit::plain_numbers(&p).is_empty(), "{p}");
        assert!(testkit::plain_numbers(&i).is_empty(), "{i}");
        let (pi, ii): (String, String) = (r.get("pi"), r.get("ii"));
        assert!(!pi.contains(PHONE) && !ii.contains(&id_card()));
    }
    let (p, i, pi, ii) = raw(&db, id).await;
    assert!(p.starts_with(kernel::sealed::PREFIX), "{p}");
    assert!(i.starts_with(kernel::sealed::PREFIX), "{i}");
    assert_eq!(Some(pi), db.sealer().index(PHONE).unwrap());
    assert_eq!(Some(ii), db.sealer().index(&id_card()).unwrap());

    // Read back: in full for who may, masked by kind for the others, as before.
    let full = c.org.user(&Actor::cli(), id).await.unwrap();
    assert_eq!(full.phone.as_deref(), Some(PHONE));
    assert_eq!(full.id_card.as_deref(), Some(id_card().as_str()));

    // Search by number goes through the keyed index (lower-case x found too).
    let mut conn = db.pool().acquire().await.unwrap();
    let found =
        org::directory::active_user_by_id_card(&mut conn, db.sealer(), &id_card().to_lowercase())
            .await
            .unwrap();
    assert_eq!(found, Some(id));
    let none = org::directory::active_user_by_id_card(
        &mut conn,
        db.sealer(),
        &kernel::codes::id_card_with_check("36012319900307124"),
    )
    .await
    .unwrap();
    assert_eq!(none, None);
    drop(conn);

    // A second registration with the same 身份证号 is still refused (the check uses the index).
    let again = c
        .org
        .register_resident(
            org::Registration {
                username: "limei2".into(),
                display_name: "李小梅".into(),
                id_card: id_card(),
                phone: PHONE.into(),
                password: "Qingshan#2026x".into(),
                password_again: Some("Qingshan#2026x".into()),
            },
            "10.0.0.2",
        )
        .await;
    assert!(again.is_err());
}

async fn tampered_or_foreign_values_are_refused(db: kernel::Db) {
    use base64::Engine as _;
    let c = city::standard().build(db.clone()).await;
    let id = register(&c).await;
    let (_, sealed_id, _, _) = raw(&db, id).await;

    // Another key cannot read this key's data.
    let (other, _) = kernel::sealed::Sealer::generate();
    let elsewhere = org::OrgService::new(db.clone().with_sealer(other), testkit::city::fast_auth());
    assert!(elsewhere.user(&Actor::cli(), id).await.is_err());

    // One bit flipped in the stored ciphertext: detected, never served.
    let b64 = &sealed_id[kernel::sealed::PREFIX.len()..];
    let mut bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    bytes[16] ^= 0x01;
    let tampered = format!(
        "{}{}",
        kernel::sealed::PREFIX,
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    );
    sqlx::query("UPDATE org_users SET id_card = $1 WHERE id = $2")
        .bind(&tampered)
        .bind(id)
        .execute(db.pool())
        .await
        .unwrap();
    let e = c.org.user(&Actor::cli(), id).await.unwrap_err();
    assert_eq!(e.code(), "internal_error", "{e:?}");
    assert!(format!("{e:?}").contains("org_users.id_card"), "{e:?}");
    // Plaintext written behind the application's back is refused alike.
    sqlx::query("UPDATE org_users SET id_card = $1 WHERE id = $2")
        .bind(id_card())
        .bind(id)
        .execute(db.pool())
        .await
        .unwrap();
    assert!(c.org.user(&Actor::cli(), id).await.is_err());
}

async fn plaintext_rows_are_sealed_once_at_start_up(db: kernel::Db) {
    let c = city::standard()
        .citizen("zhang", "13700001111")
        .build(db.clone())
        .await;
    let id = register(&c).await;
    // As an older version wrote it: plaintext, no index.
    sqlx::query("UPDATE org_users SET phone = $1, id_card = $2, phone_idx = NULL, id_card_idx = NULL WHERE id = $3")
        .bind(PHONE)
        .bind(id_card())
        .bind(id)
        .execute(db.pool())
        .await
        .unwrap();
    let zhang_before = raw_opt(&db, c.user_id("zhang")).await;
    assert!(zhang_before
        .0
        .as_deref()
        .unwrap()
        .starts_with(kernel::sealed::PREFIX));
    let n = kernel::sealed::seal_plaintext(&db, &org::sealed_columns())
        .await
        .unwrap();
    assert_eq!(n, 2);
    let (p, i, pi, ii) = raw(&db, id).await;
    assert!(p.starts_with(kernel::sealed::PREFIX) && i.starts_with(kernel::sealed::PREFIX));
    assert_eq!(Some(pi), db.sealer().index(PHONE).unwrap());
    assert_eq!(Some(ii), db.sealer().index(&id_card()).unwrap());
    let u = c.org.user(&Actor::cli(), id).await.unwrap();
    assert_eq!(u.phone.as_deref(), Some(PHONE));
    // Idempotent: nothing left to seal, values already sealed untouched.
    assert_eq!(
        kernel::sealed::seal_plaintext(&db, &org::sealed_columns())
            .await
            .unwrap(),
        0
    );
    assert_eq!(raw_opt(&db, c.user_id("zhang")).await, zhang_before);
    assert_eq!(raw(&db, id).await.0, p);
}
