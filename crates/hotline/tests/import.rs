//! Import of historical tickets on SQLite and PostgreSQL: every shared file with exact counts,
//! re-import without duplicates, bad rows by line, Excel with English headers, completion of a
//! message seen again with more information.

use hotline::domain::*;
use hotline::service::HotlineService;
use hotline::transfer::import::{import_tickets, taxonomy_rows, ImportReport};
use kernel::{Actor, Db, Role};
use serde_json::json;
use std::path::PathBuf;
use tabular::Cell;

mod common;
use common::*;

testkit::on_both_backends!(migrations;
    every_shared_file_imports_once_with_exact_counts,
    bad_rows_are_reported_by_line_and_good_ones_kept,
    xlsx_with_english_headers_imports_like_csv,
    a_message_seen_again_is_completed_not_duplicated,
    only_admins_import_and_required_columns_are_named,
);

/// A file of the shared real hotline data (`../shared/data/hotline/`).
fn shared(name: &str) -> PathBuf {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/hotline/");
    PathBuf::from(data).join(name)
}

fn svc(db: &Db) -> HotlineService {
    HotlineService::new(db.clone(), "A市")
}

async fn import_categories(s: &HotlineService) {
    let sheet = tabular::read_path(&shared("categories.csv")).unwrap();
    let added = s
        .import_taxonomy(&Actor::cli(), &taxonomy_rows(&sheet).unwrap())
        .await
        .unwrap();
    assert!(added > 500, "{added}");
}

async fn import(s: &HotlineService, sheet: &tabular::Sheet, source: &str) -> ImportReport {
    let mut calls = Vec::new();
    let r = import_tickets(s, &Actor::cli(), sheet, source, &mut |done, total| {
        calls.push((done, total))
    })
    .await
    .unwrap();
    // Progress starts at 0 and ends with every row handled.
    assert_eq!(calls.first(), Some(&(0, sheet.rows.len())));
    assert_eq!(calls.last(), Some(&(sheet.rows.len(), sheet.rows.len())));
    assert_eq!(
        r.total_rows,
        r.imported + r.updated + r.unchanged + r.skipped,
        "{r:?}"
    );
    r
}

async fn import_csv(s: &HotlineService, csv: &str, source: &str) -> ImportReport {
    import(s, &tabular::read_csv(csv.as_bytes()).unwrap(), source).await
}

fn assert_first_error_mentions(r: &ImportReport, needle: &str) {
    assert!(r.errors[0].reason.contains(needle), "{:?}", r.errors);
}

fn counts(r: &ImportReport) -> (usize, usize, usize, usize, usize) {
    (r.total_rows, r.imported, r.updated, r.unchanged, r.skipped)
}

fn lines(r: &ImportReport) -> Vec<usize> {
    r.errors.iter().map(|e| e.line).collect()
}

const TICKETS: &str = "SELECT COUNT(*) FROM hotline_tickets";
const IMPORT_EVENTS: &str = "SELECT COUNT(*) FROM hotline_events WHERE action = 'import'";

async fn scalar(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

fn china(s: &str) -> i64 {
    hotline::transfer::import::parse_china_time(s).unwrap()
}

async fn by_number(s: &HotlineService, number: &str) -> Ticket {
    s.get_by_number(&Actor::cli(), number).await.unwrap().ticket
}

async fn every_shared_file_imports_once_with_exact_counts(db: Db) {
    let s = svc(&db);
    import_categories(&s).await;
    let files = [
        "labeled.csv",
        "unlabeled.csv",
        "messages_with_votes.csv",
        "messages_with_replies.csv",
    ];
    let sheets: Vec<_> = files
        .iter()
        .map(|f| tabular::read_path(&shared(f)).unwrap())
        .collect();
    let started = std::time::Instant::now();
    let mut first = Vec::new();
    for (f, sheet) in files.iter().zip(&sheets) {
        first.push(import(&s, sheet, f).await);
    }
    eprintln!(
        "{:?}: imported every shared file in {:.1} s",
        db.backend(),
        started.elapsed().as_secs_f64()
    );
    // labeled.csv names message 37042 twice (lines 93 and 287, with different categories).
    assert_eq!(counts(&first[0]), (457, 456, 0, 0, 1));
    assert_eq!(lines(&first[0]), [287]);
    assert_first_error_mentions(&first[0], "第 93 行重复");
    assert_eq!(counts(&first[1]), (2801, 2801, 0, 0, 0));
    // Two ids of messages_with_votes.csv already name other messages of unlabeled.csv.
    assert_eq!(counts(&first[2]), (4320, 4318, 0, 0, 2));
    assert_eq!(lines(&first[2]), [1175, 3515]);
    // 20 messages of unlabeled.csv come again with their reply; id 88523 is another message.
    assert_eq!(counts(&first[3]), (2805, 2784, 20, 0, 1));
    assert_eq!(lines(&first[3]), [1925]);
    assert_first_error_mentions(&first[3], "88523");

    // One ticket per distinct message id of all files.
    for (sql, n) in [
        (TICKETS, 10_359),
        (
            "SELECT COUNT(DISTINCT external_id) FROM hotline_tickets",
            10_359,
        ),
        (
            "SELECT COUNT(*) FROM hotline_tickets WHERE status = 'closed' AND reply IS NOT NULL",
            2_804,
        ),
        (
            "SELECT COUNT(*) FROM hotline_tickets WHERE category_id IS NOT NULL",
            456,
        ),
        (IMPORT_EVENTS, 10_359 + 20),
    ] {
        assert_eq!(scalar(&db, sql).await, n, "{sql}");
    }

    // A second import adds nothing.
    let mut again = Vec::new();
    for (f, sheet) in files.iter().zip(&sheets) {
        again.push(import(&s, sheet, f).await);
    }
    assert_eq!(counts(&again[0]), (457, 0, 0, 456, 1));
    assert_eq!(counts(&again[1]), (2801, 0, 0, 2801, 0));
    assert_eq!(counts(&again[2]), (4320, 0, 0, 4318, 2));
    assert_eq!(counts(&again[3]), (2805, 0, 0, 2804, 1));
    assert_eq!(scalar(&db, TICKETS).await, 10_359);
    assert_eq!(scalar(&db, IMPORT_EVENTS).await, 10_359 + 20);

    // Message 2549 (messages_with_replies.csv line 2): its own day, its reply, its extras.
    let id: i64 = sqlx::query_scalar("SELECT id FROM hotline_tickets WHERE external_id = $1")
        .bind("board:2549")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let t = s.get(&Actor::cli(), id).await.unwrap().ticket;
    assert!(t.number.starts_with("A市12345-20190425-"), "{}", t.number);
    assert_eq!(t.title, "A2区景蓉华苑物业管理有问题");
    assert_eq!(t.created_at, china("2019-04-25 09:32:09"));
    assert_eq!(t.accepted_at, Some(t.created_at));
    assert_eq!(t.channel, Channel::Web);
    assert_eq!(t.kind, TicketKind::Suggestion);
    assert_eq!(t.status, Status::Closed);
    assert_eq!(t.resolution, Some(Resolution::Replied));
    assert_eq!(t.replied_at, Some(china("2019-05-10 14:56:53")));
    assert_eq!(t.closed_at, t.replied_at);
    let extra = s.ticket_extra(&Actor::cli(), id).await.unwrap();
    assert_eq!(
        serde_json::Value::Object(extra),
        json!({"user": "A00045581", "reply_explains": 1})
    );
    // Message 188006 (messages_with_votes.csv line 2): likes and dislikes kept.
    let id: i64 = sqlx::query_scalar("SELECT id FROM hotline_tickets WHERE external_id = $1")
        .bind("board:188006")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let extra = s.ticket_extra(&Actor::cli(), id).await.unwrap();
    assert_eq!(
        serde_json::Value::Object(extra),
        json!({"user": "A000102948", "likes": 0, "dislikes": 0})
    );
    assert_audit_chain_intact(&db).await;
}

const BAD_CSV: &str =
    "留言编号,留言用户,留言主题,留言时间,留言详情,一级分类,答复意见,答复时间,点赞数
1001,U1,投诉小区夜间施工噪音,2019-01-05 09:30:00,夜间施工噪音扰民,城乡建设,,,3
1002,U2,,2019-01-05 10:00:00,没有主题的留言,城乡建设,,,
1003,U3,路灯不亮,2019年13月5日,路灯坏了,城乡建设,,,
1004,U4,咨询社保转移,2019-01-06 08:00:00,如何办理社保转移,不存在的分类,,,很多
1001,U1,投诉小区夜间施工噪音,2019-01-05 09:30:00,同一条留言又出现一次,城乡建设,,,
1005,007,公交线路建议,2019-01-07 12:00:00,\"建议增开公交线路。
早晚高峰太挤。\",交通运输,已转交公交公司研究。,2019-01-10 15:00:00,
1006,U6,家里停水求助,2019-01-07 13:00:00,家里停水三天,城乡建设,已处理,,
";

async fn bad_rows_are_reported_by_line_and_good_ones_kept(db: Db) {
    let s = svc(&db);
    import_categories(&s).await;
    let sheet = tabular::read_csv(BAD_CSV.as_bytes()).unwrap();
    let r = import(&s, &sheet, "bad.csv").await;
    assert_eq!(counts(&r), (7, 3, 0, 0, 4), "{r:?}");
    // Line 5 (unknown category, bad likes) is reported, yet imported; 1005 spans lines 7–8.
    assert_eq!(lines(&r), [3, 4, 5, 5, 6, 9], "{r:?}");
    assert_eq!(r.errors[3].reason, "点赞数“很多”不是非负整数，已忽略该项");
    let reason = |line: usize| {
        r.errors
            .iter()
            .find(|e| e.line == line)
            .unwrap()
            .reason
            .clone()
    };
    assert!(reason(3).contains("缺少留言主题"), "{}", reason(3));
    assert!(
        reason(4).contains("留言时间“2019年13月5日”无法识别"),
        "{}",
        reason(4)
    );
    assert!(
        reason(5).contains("一级分类“不存在的分类”不存在"),
        "{}",
        reason(5)
    );
    assert!(reason(6).contains("与第 2 行重复"), "{}", reason(6));
    assert!(reason(9).contains("缺少答复时间"), "{}", reason(9));

    let cats = s.categories().await.unwrap();
    let cat = |name: &str| {
        cats.iter()
            .find(|c| c.level == 1 && c.name == name)
            .unwrap()
            .id
    };
    let t = by_number(&s, "A市12345-20190105-000001").await;
    assert_eq!(t.title, "投诉小区夜间施工噪音");
    assert_eq!(t.content, "夜间施工噪音扰民");
    assert_eq!(t.kind, TicketKind::Complaint);
    assert_eq!(t.status, Status::Accepted);
    assert_eq!(t.category_id, Some(cat("城乡建设")));
    assert_eq!(t.created_at, china("2019-01-05 09:30:00"));
    assert_eq!(t.reply, None);
    assert_eq!(
        serde_json::Value::Object(s.ticket_extra(&Actor::cli(), t.id).await.unwrap()),
        json!({"user": "U1", "likes": 3})
    );
    let timeline = s.timeline(&Actor::cli(), t.id).await.unwrap();
    assert_eq!(timeline.len(), 1);
    assert_eq!(timeline[0].action, "import");
    assert_eq!(timeline[0].to_status, "accepted");
    assert_eq!(timeline[0].data["source"], "bad.csv");
    assert_eq!(timeline[0].data["line"], 2);
    let audit = kernel::audit::history(&db, "ticket", &t.id.to_string())
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "import");
    assert_eq!(audit[0].actor, "cli");

    let t = by_number(&s, "A市12345-20190106-000001").await;
    assert_eq!(t.kind, TicketKind::Consult);
    assert_eq!(t.category_id, None);
    assert_eq!(
        serde_json::Value::Object(s.ticket_extra(&Actor::cli(), t.id).await.unwrap()),
        json!({"user": "U4"})
    );

    let t = by_number(&s, "A市12345-20190107-000001").await;
    assert_eq!(t.title, "公交线路建议");
    assert_eq!(t.content, "建议增开公交线路。\n早晚高峰太挤。");
    assert_eq!(t.category_id, Some(cat("交通运输")));
    assert_eq!(t.status, Status::Closed);
    assert_eq!(t.resolution, Some(Resolution::Replied));
    assert_eq!(t.reply.as_deref(), Some("已转交公交公司研究。"));
    assert_eq!(t.replied_at, Some(china("2019-01-10 15:00:00")));
    assert_eq!(t.closed_at, t.replied_at);
    // Text stays text: a user id "007" is not the number 7.
    assert_eq!(
        serde_json::Value::Object(s.ticket_extra(&Actor::cli(), t.id).await.unwrap()),
        json!({"user": "007"})
    );
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM hotline_tickets").await, 3);

    // Fixing the file and importing it again adds the fixed rows only.
    let fixed = BAD_CSV
        .replace(",,2019-01-05 10:00:00", ",补上的主题,2019-01-05 10:00:00")
        .replace("2019年13月5日", "2019年1月5日")
        .replace("已处理,,", "已处理,2019-01-08 09:00:00,");
    let r = import_csv(&s, &fixed, "fixed.csv").await;
    assert_eq!(counts(&r), (7, 3, 0, 3, 1), "{r:?}");
    assert_eq!(lines(&r), [5, 5, 6], "{r:?}");
    assert_eq!(
        by_number(&s, "A市12345-20190105-000002").await.title,
        "补上的主题"
    );
    assert_eq!(
        by_number(&s, "A市12345-20190105-000003").await.title,
        "路灯不亮"
    );
    assert_eq!(
        by_number(&s, "A市12345-20190107-000002").await.kind,
        TicketKind::Help
    );
}

/// Messages as (id, user, title, time, detail, category, reply, reply_time, likes).
type Msg = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
);

const MSGS: [Msg; 3] = [
    (
        "501",
        "A001",
        "举报河道偷排污水",
        "2019-03-01 08:15:00",
        "某厂夜间向河道偷排污水，气味刺鼻。",
        "环境保护",
        "",
        "",
        12,
    ),
    (
        "502",
        "A002",
        "学校周边交通拥堵",
        "2019-03-02 17:40:05",
        "放学时段学校门口拥堵严重，建议增派交警。",
        "交通运输",
        "已协调交警部门在放学时段值守。",
        "2019-03-05 10:00:00",
        0,
    ),
    (
        "503",
        "A003",
        "咨询医保异地报销",
        "2019-03-03 20:00:00",
        "在外地住院如何报销？",
        "卫生计生",
        "",
        "",
        5,
    ),
];

async fn xlsx_with_english_headers_imports_like_csv(db: Db) {
    let s = svc(&db);
    import_categories(&s).await;
    let headers: Vec<String> = [
        "id",
        "user",
        "title",
        "time",
        "detail",
        "category",
        "reply",
        "reply_time",
        "likes",
    ]
    .iter()
    .map(|h| h.to_string())
    .collect();
    // Real Excel types: numbers for id and likes, dates for the times.
    let dt = |s: &str| {
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::DateTime(chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap())
        }
    };
    let rows: Vec<Vec<Cell>> = MSGS
        .iter()
        .map(|m| {
            vec![
                Cell::Int(m.0.parse().unwrap()),
                m.1.into(),
                m.2.into(),
                dt(m.3),
                m.4.into(),
                m.5.into(),
                if m.6.is_empty() {
                    Cell::Empty
                } else {
                    m.6.into()
                },
                dt(m.7),
                Cell::Int(m.8),
            ]
        })
        .collect();
    let xlsx = tabular::write_xlsx(&[("留言", &headers, &rows)]).unwrap();
    let sheet = tabular::read_named("留言.xlsx", &xlsx).unwrap();
    let r = import(&s, &sheet, "留言.xlsx").await;
    assert_eq!(counts(&r), (3, 3, 0, 0, 0), "{r:?}");
    assert!(r.errors.is_empty(), "{r:?}");

    // The same messages as CSV with Chinese headers find everything already there.
    let mut csv = String::from(
        "留言编号,留言用户,留言主题,留言时间,留言详情,一级分类,答复意见,答复时间,点赞数\n",
    );
    for m in MSGS {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\n",
            m.0, m.1, m.2, m.3, m.4, m.5, m.6, m.7, m.8
        ));
    }
    let r = import_csv(&s, &csv, "留言.csv").await;
    assert_eq!(counts(&r), (3, 0, 0, 3, 0), "{r:?}");
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM hotline_tickets").await, 3);

    let t = by_number(&s, "A市12345-20190301-000001").await;
    assert_eq!(t.kind, TicketKind::Report);
    assert_eq!(t.created_at, china("2019-03-01 08:15:00"));
    assert_eq!(
        serde_json::Value::Object(s.ticket_extra(&Actor::cli(), t.id).await.unwrap()),
        json!({"user": "A001", "likes": 12})
    );
    let t = by_number(&s, "A市12345-20190302-000001").await;
    assert_eq!(t.status, Status::Closed);
    assert_eq!(t.replied_at, Some(china("2019-03-05 10:00:00")));
    assert_eq!(t.reply.as_deref(), Some("已协调交警部门在放学时段值守。"));
}

async fn a_message_seen_again_is_completed_not_duplicated(db: Db) {
    let s = svc(&db);
    import_categories(&s).await;
    let bare = "id,user,title,time,detail\n77,U77,小区电梯故障,2019-06-01 09:00:00,电梯停运一周\n";
    let r = import_csv(&s, bare, "unlabeled.csv").await;
    assert_eq!(counts(&r), (1, 1, 0, 0, 0));
    let t = by_number(&s, "A市12345-20190601-000001").await;
    assert_eq!((t.status, t.category_id), (Status::Accepted, None));

    // The same message from another file, with its category, reply, likes and another user id.
    let rich = "id,user,title,time,detail,category,reply,reply_time,likes,reply_explains\n\
                77,X1,小区电梯故障,2019-06-01 09:00:00,电梯停运一周。,城乡建设,已督促物业维修,2019-06-03 16:30:00,9,1\n\
                78,X2,另一条留言,2019-06-02 09:00:00,内容,城乡建设,,,1,\n";
    let r = import_csv(&s, rich, "replies.csv").await;
    assert_eq!(counts(&r), (2, 1, 1, 0, 0), "{r:?}");
    let t2 = s.get(&Actor::cli(), t.id).await.unwrap().ticket;
    assert_eq!(t2.number, t.number);
    assert_eq!(t2.content, "电梯停运一周", "what the ticket had is kept");
    assert_eq!(t2.status, Status::Closed);
    assert_eq!(t2.reply.as_deref(), Some("已督促物业维修"));
    assert_eq!(t2.closed_at, Some(china("2019-06-03 16:30:00")));
    assert!(t2.category_id.is_some());
    assert_eq!(
        serde_json::Value::Object(s.ticket_extra(&Actor::cli(), t.id).await.unwrap()),
        json!({"user": "U77", "likes": 9, "reply_explains": 1})
    );
    let timeline = s.timeline(&Actor::cli(), t.id).await.unwrap();
    let steps: Vec<(&str, &str, &str)> = timeline
        .iter()
        .map(|e| {
            (
                e.action.as_str(),
                e.from_status.as_str(),
                e.to_status.as_str(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("import", "created", "accepted"),
            ("import", "accepted", "closed")
        ]
    );
    assert_eq!(
        timeline[1].data["filled"],
        json!(["category", "reply", "likes", "reply_explains"])
    );

    // Again: nothing to add. A different message under a known id is refused, not merged.
    let r = import_csv(&s, rich, "replies.csv").await;
    assert_eq!(counts(&r), (2, 0, 0, 2, 0), "{r:?}");
    let other = "id,title,time,detail\n77,完全不同的留言,2020-01-01 00:00:00,内容\n";
    let r = import_csv(&s, other, "other.csv").await;
    assert_eq!(counts(&r), (1, 0, 0, 0, 1), "{r:?}");
    assert_first_error_mentions(&r, &t.number);
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM hotline_tickets").await, 2);
}

async fn only_admins_import_and_required_columns_are_named(db: Db) {
    let s = svc(&db);
    let sheet = tabular::read_csv(b"id,title,time,detail\n1,t,2019-01-01 00:00:00,d\n").unwrap();
    let operator = Actor {
        roles: vec![Role::Operator],
        user_id: Some(1),
        via: kernel::auth::Via::Session,
        ..Actor::cli()
    };
    let e = import_tickets(&s, &operator, &sheet, "x.csv", &mut |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(e.code(), "forbidden");
    let sheet = tabular::read_csv("留言编号,留言主题\n1,t\n".as_bytes()).unwrap();
    let e = import_tickets(&s, &Actor::cli(), &sheet, "x.csv", &mut |_, _| {})
        .await
        .unwrap_err();
    let details: Vec<&str> = e.field_errors().iter().map(|f| f.detail.as_str()).collect();
    assert_eq!(
        details,
        [
            "文件缺少“留言时间”列（英文表头为 time）",
            "文件缺少“留言详情”列（英文表头为 detail）"
        ]
    );
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM hotline_tickets").await, 0);
}
