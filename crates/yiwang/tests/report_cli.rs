//! `yiwang report hotline`, run as a separate process on SQLite and PostgreSQL: a small database
//! built through the hotline service, then the monthly report as .docx and .xlsx and the weekly
//! 典型案例专报.

mod support;
use support::*;

use hotline::domain::*;
use hotline::HotlineService;
use kernel::clock::Clock;
use kernel::{Actor, Db};

fn migrations() -> Vec<kernel::migrate::Migration> {
    web::migrations()
}

testkit::on_both_backends!(migrations;
    the_report_command_writes_word_and_excel_files,
);

/// `hour`:00 China time on a day of March 2025 (2025-03-01 00:00 +08:00 is 1740758400000).
fn at(month: u32, day: u32, hour: u32) -> i64 {
    assert_eq!(month, 3, "only March is needed");
    1_740_758_400_000 + i64::from(day - 1) * 86_400_000 + i64::from(hour) * 3_600_000
}

/// Three tickets in March 2025: one answered at once, one replied on time, one reopened after
/// an unsatisfied callback and still open at the end of the month.
async fn small_city(db: &Db) -> String {
    let mut db = db.clone();
    db.clock = Clock::manual(at(3, 3, 9));
    let org = org::OrgService::new(db.clone(), Default::default());
    let cli = Actor::cli();
    let regions = [("690000", "西地省"), ("690100", "A市"), ("690102", "A1区")];
    let dept = regions_and_departments(&org, &regions, &["住建局"]).await[0];
    let svc = HotlineService::new(db.clone(), "A市");
    let call = |title: &str| NewTicket {
        channel: Channel::Phone,
        kind: TicketKind::Help,
        urgency: Urgency::Normal,
        caller_name: Some("王五".into()),
        caller_phone: Some("13700000000".into()),
        wants_reply: true,
        anonymous: false,
        address: None,
        region_code: Some("690102".into()),
        lng: None,
        lat: None,
        title: title.into(),
        content: "请尽快处理。".into(),
        category_id: None,
        answers: Default::default(),
        accept: true,
    };
    let act = |id: i64, when: i64, a: Action| {
        let (svc, db) = (svc.clone(), db.clone());
        async move {
            db.clock.set(when);
            svc.act(&Actor::cli(), id, a).await.unwrap();
        }
    };
    let reply = || Action::Reply {
        text: "已处理。".into(),
    };
    let dispatch = Action::Dispatch {
        main_dept_id: dept,
        co_dept_ids: vec![],
    };

    let a = svc.create(&cli, call("社保咨询")).await.unwrap().ticket.id;
    act(
        a,
        at(3, 3, 9),
        Action::AnswerNow {
            answer: "可网上办理。".into(),
            kb_article_id: None,
        },
    )
    .await;

    db.clock.set(at(3, 4, 9));
    let b = svc.create(&cli, call("路灯不亮")).await.unwrap().ticket.id;
    act(b, at(3, 4, 9), Action::SubmitForDispatch).await;
    act(b, at(3, 4, 9), dispatch.clone()).await;
    act(b, at(3, 4, 10), Action::Acknowledge).await;
    act(b, at(3, 5, 10), reply()).await;

    db.clock.set(at(3, 11, 9));
    let c = svc.create(&cli, call("井盖缺失")).await.unwrap();
    let c_number = c.ticket.number.clone();
    let c = c.ticket.id;
    act(c, at(3, 11, 9), Action::SubmitForDispatch).await;
    act(c, at(3, 11, 9), dispatch).await;
    act(c, at(3, 11, 10), Action::Acknowledge).await;
    act(c, at(3, 12, 10), reply()).await;
    act(
        c,
        at(3, 12, 14),
        Action::Callback {
            result: CallbackResult::Unsatisfied,
            note: "仍未修复".into(),
            reopen: true,
        },
    )
    .await;
    c_number
}

async fn the_report_command_writes_word_and_excel_files(db: Db) {
    let reopened = small_city(&db).await;
    let url = db.url().to_owned();
    let dir = tempfile::tempdir().unwrap();
    // `yiwang report hotline ARGS…`.
    let report = |args: &[&str]| yiwang(&url, &[&["report", "hotline"][..], args].concat());

    let docx = dir.path().join("运行情况.docx");
    let o = report(&["--period", "2025-03", "--out", docx.to_str().unwrap()]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("已生成2025年3月运行情况"), "{}", out(&o));
    let xml = document_xml(&docx);
    // Received 3, one answered at once (1/3), two replies on time, one reopen (1/2).
    for want in [
        "共受理群众诉求3件",
        "即时解答率33.33%",
        "按时办结率100.00%",
        "重办率50.00%",
        "住建局",
        reopened.as_str(),
    ] {
        assert!(xml.contains(want), "{want} not in the report");
    }

    let xlsx = dir.path().join("report.xlsx");
    let o = report(&["--period", "2025-03", "--out", xlsx.to_str().unwrap()]);
    assert!(o.status.success(), "{}", out(&o));
    let sheet = tabular::read_path(&xlsx).unwrap();
    let received = sheet
        .rows
        .iter()
        .find(|r| r.cells[0] == "受理量（件）")
        .unwrap();
    assert_eq!(received.cells[1], "3");

    let weekly = dir.path().join("专报.docx");
    let o = report(&["--week", "2025-W11", "--out", weekly.to_str().unwrap()]);
    assert!(o.status.success(), "{}", out(&o));
    let xml = document_xml(&weekly);
    assert!(xml.contains("典型案例专报") && xml.contains(&reopened));

    // Mistakes are explained, in Chinese, with a failing exit code.
    let bad = dir.path().join("x.pdf");
    for args in [
        vec!["--period", "2025-13", "--out", docx.to_str().unwrap()],
        vec!["--period", "2025-03", "--out", bad.to_str().unwrap()],
        vec!["--week", "2025-W11", "--out", xlsx.to_str().unwrap()],
        vec!["--week", "2025-03", "--out", weekly.to_str().unwrap()],
    ] {
        let o = report(&args);
        assert!(!o.status.success(), "{args:?}");
        assert!(out(&o).contains("错误："), "{}", out(&o));
    }
}
