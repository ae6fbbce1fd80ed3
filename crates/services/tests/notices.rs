//! Status notifications to applicants (受理, 补正, 办结, 出件) on SQLite and PostgreSQL: each
//! case change writes exactly the expected notify rows (an SMS to the applicant's phone, and an
//! in-app notification for an applicant who applied online) in the change's own transaction.

mod common;

use common::*;
use kernel::Db;
use notify::{InboxQuery, NotifyService};
use services::domain::*;
use services::notices::{ACCEPTED, CLOSED, DELIVERED, SUPPLEMENT};

testkit::on_both_backends!(migrations;
    case_steps_notify_the_applicant,
    a_rolled_back_change_notifies_nobody,
);

/// (channel, event, recipient, body) of every delivery, oldest first.
async fn deliveries(db: &Db) -> Vec<(String, String, String, String)> {
    sqlx::query_as(
        "SELECT channel, event, recipient, body FROM notify_deliveries WHERE source = 'services' ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap()
}

/// (event, user, title, body) of every in-app notification, oldest first.
async fn notifications(db: &Db) -> Vec<(String, Option<i64>, String, String)> {
    sqlx::query_as(
        "SELECT event, user_id, title, body FROM notify_notifications WHERE source = 'services' ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap()
}

async fn case_steps_notify_the_applicant(db: Db) {
    let w = world(db).await;
    // At the window: an SMS at each step, no inbox (no account behind the application).
    let c = w
        .submit(&w.clerk, health_case(w.health_item, &["photo"]))
        .await;
    assert!(
        deliveries(&w.db).await.is_empty(),
        "submitting tells nobody"
    );
    w.ask_for(&w.health, c.id, &["exam"], "请补交体检表").await;
    let d = deliveries(&w.db).await;
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0].0.as_str(), d[0].1.as_str(), d[0].2.as_str()),
        ("sms", SUPPLEMENT, "13800138000")
    );
    assert!(
        d[0].3.contains(&c.number) && d[0].3.contains("需补正材料"),
        "{}",
        d[0].3
    );
    w.act(&w.clerk, c.id, supply(&["exam"])).await;
    assert_eq!(deliveries(&w.db).await.len(), 1, "supplying tells nobody");
    w.act(&w.health, c.id, accept()).await;
    w.act(&w.health, c.id, approve("A卫健〔2026〕1号")).await;
    assert_eq!(
        deliveries(&w.db).await.len(),
        2,
        "the decision alone tells nobody"
    );
    w.act(&w.health, c.id, Action::Close).await;
    w.act(&w.clerk, c.id, deliver_by_post()).await;
    let d = deliveries(&w.db).await;
    let events: Vec<&str> = d.iter().map(|x| x.1.as_str()).collect();
    assert_eq!(events, vec![SUPPLEMENT, ACCEPTED, CLOSED, DELIVERED]);
    assert!(d.iter().all(|x| x.0 == "sms" && x.2 == "13800138000"));
    assert!(d[1].3.contains("已受理"), "{}", d[1].3);
    assert!(d[2].3.contains("已办结"), "{}", d[2].3);
    assert!(d[3].3.contains("邮寄"), "{}", d[3].3);
    assert!(
        notifications(&w.db).await.is_empty(),
        "no account, no inbox"
    );

    // Online: the applicant's inbox too, and only theirs.
    let c = w
        .submit(&w.citizen, health_case(w.health_item, &["photo", "exam"]))
        .await;
    w.act(&w.health, c.id, accept()).await;
    let n = notifications(&w.db).await;
    assert_eq!(n.len(), 1);
    assert_eq!(
        (n[0].0.as_str(), n[0].1, n[0].2.clone()),
        (
            ACCEPTED,
            w.citizen.user_id,
            format!("办件已受理：{}", c.number)
        )
    );
    assert_eq!(deliveries(&w.db).await.len(), 5);
    let notify = NotifyService::new(w.db.clone());
    let inbox = notify
        .inbox(&w.citizen, &InboxQuery::default(), &first_page())
        .await
        .unwrap();
    assert_eq!((inbox.total, inbox.unread), (1, 1));
    assert_eq!(inbox.items[0].subject_id, Some(c.id));
    assert_eq!(inbox.items[0].event_label, "办件受理");
    let other = notify
        .inbox(&w.other_citizen, &InboxQuery::default(), &first_page())
        .await
        .unwrap();
    assert_eq!(other.total, 0);
    notify
        .mark_read(&w.citizen, inbox.items[0].id)
        .await
        .unwrap();
    assert!(notify
        .mark_read(&w.other_citizen, inbox.items[0].id)
        .await
        .is_err());
    // Staff inboxes do not hold applicants' notifications.
    let staff = notify
        .inbox(&w.health, &InboxQuery::default(), &first_page())
        .await
        .unwrap();
    assert_eq!(staff.total, 0);
}

async fn a_rolled_back_change_notifies_nobody(db: Db) {
    let w = world(db).await;
    let c = w
        .submit(&w.citizen, health_case(w.health_item, &["photo", "exam"]))
        .await;
    // A refused action writes nothing.
    assert!(w.svc.act(&w.market, c.id, accept()).await.is_err());
    assert!(w.svc.act(&w.health, c.id, Action::Close).await.is_err());
    assert!(deliveries(&w.db).await.is_empty());
    assert!(notifications(&w.db).await.is_empty());
    // The rows are part of the change's transaction: visible inside it, gone with it.
    let (next, e) = c
        .apply(
            &accept(),
            w.health.user_id,
            w.db.now(),
            &kernel::calendar::Calendar::builtin(),
        )
        .unwrap();
    let mut tx = w.db.begin().await.unwrap();
    services::notices::enqueue(&notify::Outbox::of(&w.db), &mut tx, &next, &e, w.db.now())
        .await
        .unwrap();
    let inside: (i64, i64) = (
        sqlx::query_scalar("SELECT COUNT(*) FROM notify_deliveries")
            .fetch_one(&mut *tx)
            .await
            .unwrap(),
        sqlx::query_scalar("SELECT COUNT(*) FROM notify_notifications")
            .fetch_one(&mut *tx)
            .await
            .unwrap(),
    );
    assert_eq!(inside, (1, 1));
    tx.rollback().await.unwrap();
    assert!(deliveries(&w.db).await.is_empty());
    assert!(notifications(&w.db).await.is_empty());
}
