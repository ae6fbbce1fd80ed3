//! 统计 on both backends: a November on a manual clock — 民政局's request approved after four
//! days, 人社局's refused the same day, calls through the gateway, a 数据异议 left past its
//! deadline — and the figures of November, October (nothing) and December, for the bureau and
//! for a department's data officer.

mod common;

use common::*;
use kernel::clock::Clock;
use kernel::period::Period;
use kernel::Db;
use sharing::figures::contrib::{self, Section};
use sharing::figures::service::{CatalogFigures, Figures};
use sharing::gateway::service::GatewayQuery;
use sharing::grants::domain::{GrantTerms, NewRequest, RequestStatus};
use sharing::objections::domain::NewObjection;

testkit::on_both_backends!(migrations; figures_follow_the_period_and_the_scope);

const DAY: i64 = 86_400_000;

fn month(m: &str) -> Period {
    Period::parse(m).unwrap()
}

fn request(code: &str, system: &str) -> NewRequest {
    NewRequest {
        resources: vec![code.into()],
        purpose: "低保对象家庭人口核查".into(),
        legal_basis: "《社会救助暂行办法》第十一条".into(),
        fields: vec![vec!["name".into(), "gender".into()]],
        system: system.into(),
        period_from: "2026-11-02".into(),
        period_until: "2026-12-31".into(),
    }
}

fn q() -> GatewayQuery {
    GatewayQuery {
        page: 1,
        page_size: 10,
        filters: Vec::new(),
        request_line: "GET /gateway/v1/resources/x?page=1".into(),
    }
}

fn dept<'a>(f: &'a Figures, name: &str) -> &'a CatalogFigures {
    f.by_department
        .iter()
        .find(|d| d.dept_name == name)
        .unwrap_or_else(|| panic!("no row for {name}: {:?}", f.by_department))
}

fn rates_at_most_one(f: &Figures) {
    for d in f.by_department.iter().chain([&f.total]) {
        for r in [d.mount_rate, d.share_rate, d.open_rate, d.update_rate]
            .into_iter()
            .flatten()
        {
            assert!((0.0..=1.0).contains(&r), "{} rate {r}", d.dept_name);
        }
    }
}

fn test_section(_db: Db, _a: kernel::Actor, from: i64, to: i64) -> contrib::SectionFuture {
    Box::pin(async move {
        Ok(Section {
            key: "test".into(),
            title: "测试".into(),
            summary: String::new(),
            rows: vec![contrib::SectionRow {
                label: "期间".into(),
                value: format!("{from}..{to}"),
            }],
            by_department: None,
        })
    })
}

async fn figures_follow_the_period_and_the_scope(mut db: Db) {
    let nov = month("2026-11");
    // Monday 2 November 2026, 10:00 China time.
    db.clock = Clock::manual(nov.start() + DAY + 10 * 3_600_000);
    let w = world(db).await;
    let s = &w.svc;
    let clock = &w.db().clock;
    let code = w.people_res.resource.code.clone();

    // 民政局 asks; 数据专员 and 首席数据官 approve three days on, the bureau a day later.
    let a = s
        .submit_request(w.actor("c_off"), request(&code, "民政救助系统"))
        .await
        .unwrap()
        .remove(0);
    clock.advance(3 * DAY);
    s.decide(w.actor("p_off"), a.request.id, true, "", None)
        .await
        .unwrap();
    s.decide(w.actor("p_cdo"), a.request.id, true, "同意", None)
        .await
        .unwrap();
    clock.advance(DAY);
    let terms = GrantTerms {
        expires_on: Some("2026-12-20".into()),
        ..Default::default()
    };
    let a = s
        .decide(w.actor("b_off"), a.request.id, true, "", Some(terms))
        .await
        .unwrap();
    assert_eq!(a.request.status, RequestStatus::Approved);
    // 人社局 asks and is refused at once.
    let b = s
        .submit_request(w.actor("x_off"), request(&code, "人社系统"))
        .await
        .unwrap()
        .remove(0);
    s.decide(
        w.actor("p_off"),
        b.request.id,
        false,
        "用途与职责不符",
        None,
    )
    .await
    .unwrap();

    // Calls: 民政局 twice (10 rows each), 人社局 once without a grant.
    clock.advance(DAY);
    let token = s
        .register_system(w.actor("c_off"), "民政救助系统")
        .await
        .unwrap()
        .token;
    let caller = w.token_actor(&token).await;
    for _ in 0..2 {
        s.serve(&caller, &token, &code, q()).await.unwrap();
    }
    let other = s
        .register_system(w.actor("x_off"), "人社系统")
        .await
        .unwrap()
        .token;
    s.serve(&w.token_actor(&other).await, &other, &code, q())
        .await
        .unwrap_err();

    // 民政局 objects to an address; nobody answers.
    let key = person(4, "690102")["id_no"].as_str().unwrap().to_owned();
    s.raise_objection(
        w.actor("c_off"),
        NewObjection {
            resource_code: code.clone(),
            row_key: key,
            field: "address".into(),
            claimed_value: "A市A1区青河街道和平路 8 号".into(),
            reason: "2026 年 11 月救助申请时核实的现住址".into(),
        },
    )
    .await
    .unwrap();

    // December the 10th: November is over.
    clock.set(month("2026-12").start() + 9 * DAY);
    contrib::register("test", test_section);
    let bo = w.actor("b_off");
    let f = s.figures_between(bo, nov.start(), nov.end()).await.unwrap();
    rates_at_most_one(&f);
    let police = dept(&f, "公安局");
    assert_eq!(
        (police.entries, police.mounted_entries, police.resources),
        (1, 1, 1)
    );
    assert_eq!(police.mount_rate, Some(1.0));
    assert_eq!(police.share_rate, Some(1.0), "有条件共享 counts as shared");
    assert_eq!(police.open_rate, Some(0.0), "不予开放");
    assert_eq!(
        police.update_rate,
        Some(0.0),
        "daily, last loaded on 2 November: overdue at the end of November"
    );
    assert_eq!(
        (
            police.requests_received,
            police.requests_approved,
            police.requests_refused
        ),
        (2, 1, 1)
    );
    assert_eq!((police.calls, police.calls_served), (3, 2));
    assert_eq!(police.rows_served, 20);
    let civil = dept(&f, "民政局");
    assert_eq!(
        (civil.entries, civil.requests_made, civil.calls_made),
        (0, 1, 2)
    );
    assert_eq!(civil.share_rate, None, "no entries: no rate");
    assert_eq!(civil.update_rate, None);
    assert_eq!(dept(&f, "人社局").requests_made, 1);
    assert_eq!(
        (
            f.requests,
            f.requests_approved,
            f.requests_refused,
            f.requests_pending
        ),
        (2, 1, 1, 0)
    );
    assert_eq!(f.requests_decided, 2);
    assert_eq!(f.approval_days_max, Some(4.0));
    assert_eq!(f.approval_days_median, Some(2.0), "median of 4 and 0 days");
    assert_eq!((f.grants_active, f.grants_expiring_30d), (1, 1));
    assert_eq!((f.calls, f.calls_served, f.rows_served), (3, 2, 20));
    let top: Vec<(&str, i64)> = f
        .top_consumers
        .iter()
        .map(|c| (c.dept_name.as_str(), c.calls))
        .collect();
    assert_eq!(top, [("民政局", 2), ("人社局", 1)]);
    assert_eq!(
        (
            f.objections.raised,
            f.objections.answered,
            f.objections.overdue,
            f.objections.open
        ),
        (1, 0, 1, 1)
    );
    assert_eq!(f.total.entries, 1);
    assert_eq!(f.total.calls, 3);
    let sec = f
        .sections
        .iter()
        .find(|s| s.key == "test")
        .expect("section");
    assert_eq!(
        sec.rows[0].value,
        format!("{}..{}", nov.start(), nov.end()),
        "contributors get the period"
    );

    // October: nothing yet — no departments, every rate "—", no approval time.
    let oct = month("2026-10");
    let f = s.figures_between(bo, oct.start(), oct.end()).await.unwrap();
    assert!(f.by_department.is_empty(), "{:?}", f.by_department);
    assert_eq!(f.total.entries, 0);
    assert_eq!(
        [
            f.total.mount_rate,
            f.total.share_rate,
            f.total.open_rate,
            f.total.update_rate
        ],
        [None; 4]
    );
    assert_eq!((f.requests, f.calls, f.objections.raised), (0, 0, 0));
    assert_eq!((f.approval_days_median, f.approval_days_max), (None, None));
    assert_eq!(f.grants_active, 0);

    // December so far: the stock stays, nothing happened.
    let dec = month("2026-12");
    let f = s.figures_between(bo, dec.start(), dec.end()).await.unwrap();
    assert_eq!(f.total.entries, 1);
    assert_eq!((f.requests, f.calls, f.requests_decided), (0, 0, 0));
    assert!(f.top_consumers.is_empty());
    assert_eq!(f.objections.raised, 0);
    assert_eq!(f.objections.open, 1, "still open in December");
    assert_eq!((f.grants_active, f.grants_expiring_30d), (1, 1));

    // 民政局's data officer sees its own row only, and totals over it.
    let f = s
        .figures_between(w.actor("c_off"), nov.start(), nov.end())
        .await
        .unwrap();
    let names: Vec<&str> = f
        .by_department
        .iter()
        .map(|d| d.dept_name.as_str())
        .collect();
    assert_eq!(names, ["民政局"]);
    assert_eq!(f.total.entries, 0);
    assert_eq!(f.total.share_rate, None);
    // Its own requests and calls still count, as a consumer.
    assert_eq!((f.requests, f.calls), (1, 2));
    // Someone without ReadSharing gets nothing.
    assert!(s
        .figures_between(w.city.actor("han_x"), nov.start(), nov.end())
        .await
        .is_err());
}
