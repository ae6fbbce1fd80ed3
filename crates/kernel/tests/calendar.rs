//! The stored working-day calendar, on SQLite and PostgreSQL.

use chrono::NaiveDate;
use kernel::audit::{self, AuditActor};
use kernel::calendar::{self, builtin_years, DayKind, YearData};
use kernel::migrate::kernel_migrations;
use kernel::Db;

fn migrations() -> Vec<kernel::migrate::Migration> {
    kernel_migrations()
}

testkit::on_both_backends!(migrations;
    stored_year_replaces_the_builtin_one_and_is_audited,
    invalid_year_is_refused_without_trace,
    concurrent_stores_of_a_year_queue,
);

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn builtin(year: i32) -> YearData {
    builtin_years()
        .into_iter()
        .find(|y| y.year == year)
        .unwrap()
}

async fn stored_year_replaces_the_builtin_one_and_is_audited(db: Db) {
    let cal = calendar::load(&db).await.unwrap();
    assert_eq!(cal.years(), vec![2025, 2026, 2027]);
    assert_eq!(cal.kind(date("2026-02-23")), DayKind::Holiday);

    // The 2026 schedule, with 2/23 given back and a local day off on 3/2.
    let mut changed = builtin(2026);
    changed.days.retain(|(d, _, _)| *d != date("2026-02-23"));
    changed
        .days
        .push((date("2026-03-02"), DayKind::Holiday, "地方假日".into()));
    calendar::store_year(&db, &AuditActor::user(1), &changed)
        .await
        .unwrap();
    let cal = calendar::load(&db).await.unwrap();
    assert_eq!(cal.kind(date("2026-02-23")), DayKind::Workday);
    assert_eq!(cal.kind(date("2026-03-02")), DayKind::Holiday);
    assert_eq!(cal.day_name(date("2026-03-02")), Some("地方假日"));
    assert_eq!(cal.kind(date("2026-02-14")), DayKind::AdjustedWorkday);
    // Other years keep their built-in days.
    assert_eq!(cal.kind(date("2025-10-08")), DayKind::Holiday);

    // Storing again replaces the whole year, also in the database.
    let official = YearData {
        year: 2026,
        provisional: true,
        days: vec![(date("2026-01-01"), DayKind::Holiday, "元旦".into())],
    };
    calendar::store_year(&db, &AuditActor::cli(), &official)
        .await
        .unwrap();
    let stored = calendar::stored_years(&db).await.unwrap();
    assert_eq!(stored, vec![official]);
    let cal = calendar::load(&db).await.unwrap();
    assert!(cal.is_provisional(2026));
    assert_eq!(cal.kind(date("2026-03-02")), DayKind::Workday);
    assert_eq!(cal.kind(date("2026-02-16")), DayKind::Workday);

    // A year the binary does not know is covered once stored.
    let mut y2028 = builtin(2027);
    y2028.year = 2028;
    y2028.days = vec![(date("2028-01-01"), DayKind::Holiday, "元旦".into())];
    calendar::store_year(&db, &AuditActor::cli(), &y2028)
        .await
        .unwrap();
    assert!(calendar::load(&db).await.unwrap().covers(2028));

    let history = audit::history(&db, "calendar_year", "2026").await.unwrap();
    let actions: Vec<&str> = history.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["create", "replace"]);
    assert_eq!(history[1].payload["days"][0]["name"], "元旦");
    let v = audit::verify(&db).await.unwrap();
    assert_eq!(v.records, 3);
    assert_eq!(v.first_broken, None, "{v:?}");
}

async fn invalid_year_is_refused_without_trace(db: Db) {
    let bad = YearData {
        year: 2026,
        provisional: false,
        days: vec![
            (date("2026-01-01"), DayKind::Holiday, "元旦".into()),
            (date("2026-01-05"), DayKind::AdjustedWorkday, "元旦".into()),
        ],
    };
    let e = calendar::store_year(&db, &AuditActor::cli(), &bad)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_calendar");
    assert!(e.detail().contains("星期一"), "{}", e.detail());
    assert!(calendar::stored_years(&db).await.unwrap().is_empty());
    assert_eq!(audit::verify(&db).await.unwrap().records, 0);
}

async fn concurrent_stores_of_a_year_queue(db: Db) {
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let mut y = builtin(2026);
                y.provisional = i % 2 == 0;
                calendar::store_year(&db, &AuditActor::user(i), &y).await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let history = audit::history(&db, "calendar_year", "2026").await.unwrap();
    let actions: Vec<&str> = history.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["create", "replace", "replace", "replace"]);
    assert_eq!(
        calendar::stored_years(&db).await.unwrap()[0].days,
        builtin(2026).days
    );
    assert_eq!(audit::verify(&db).await.unwrap().first_broken, None);
}
