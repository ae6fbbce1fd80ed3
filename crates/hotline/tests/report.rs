//! Hotline reports on SQLite and PostgreSQL: twelve tickets driven through the service across
//! February and March 2025, every KPI worked out by hand below, department scope, and the Word
//! and Excel files.
//!
//! The calendar is the built-in 2025 one: no holiday in late February or March; office hours
//! 09:00–12:00 and 13:30–17:30, 420 working minutes a day. Limits are the default policies:
//! acknowledge within 120 working minutes; reply within 2 (咨询), 3 (求助), 5 (投诉) or 10 (建议)
//! working days, at 17:30 of the last day.
//!
//! | #   | kind | story (2025, China time)                                                          |
//! |-----|------|-----------------------------------------------------------------------------------|
//! | T1  | 咨询 | 02-24 10:00 created, 10:05 answered at once                                       |
//! | T2  | 投诉 | 02-26 10:00 created, dispatched X (ack by 12:00, reply by 03-05 17:30), 11:00 ack; |
//! |     |      | 03-04 10:00 reply (on time, 1680 min), 03-05 callback 满意                         |
//! | T11 | 咨询 | 02-24 09:00 created, dispatched Y (reply by 02-26 17:30), 09:30 ack; 03-03        |
//! |     |      | supervised; 03-05 10:00 reply (late, 3000 min), callback 满意                      |
//! | T3  | 咨询 | 03-03 09:30 created, answered at once                                             |
//! | T4  | 求助 | 03-03 10:00 created, dispatched Y, 11:00 returned by Y; 14:00 dispatched X (ack by |
//! |     |      | 16:00, reply by 03-06 17:30), 15:00 ack; 03-05 10:00 reply (690 min); 基本满意      |
//! | T5  | 咨询 | 03-04 09:00 created, dispatched Y (ack by 11:00, reply by 03-06 17:30); 14:00 ack  |
//! |     |      | (late); 03-07 10:00 reply (late, 1320 min); callback 不满意, not reopened          |
//! | T6  | 投诉 | 03-10 09:00 created, dispatched X (reply by 03-17 17:30), 10:00 ack; 03-12         |
//! |     |      | extension of 3 days approved (reply by 03-20 17:30); 03-19 10:00 reply (on time,   |
//! |     |      | 3000 min); callbacks 未接通 then 满意                                              |
//! | T7  | 求助 | 03-11 09:00 created, dispatched Z (reply by 03-14), 09:30 ack; 03-12 10:00 reply   |
//! |     |      | (480 min); 14:00 callback 不满意 → reopened to Z (ack by 16:00, reply by 03-17);   |
//! |     |      | 15:00 ack; 03-14 10:00 reply (690 min); callback 满意                              |
//! | T12 | 求助 | 03-17 09:00 created, dispatched X (reply by 03-20 17:30), 09:30 ack; paused 03-18  |
//! |     |      | 09:00 to 03-20 09:00 (840 working min: reply by 03-24 17:30); 03-24 10:00 reply    |
//! |     |      | (on time, 2160 min); callback 基本满意                                             |
//! | T8  | 咨询 | 03-27 09:00 created, dispatched Y (reply by 03-31 17:30), 10:00 ack; replied only  |
//! |     |      | on 04-02: overdue and open at the end of March                                     |
//! | T9  | 建议 | 03-28 09:00 created, dispatched Z (reply due in April), not acknowledged           |
//! | T10 | 咨询 | 03-31 20:00 submitted on the web, not yet accepted, no region, no category        |
//!
//! Departments: X 住建局, Y 城管局, Z 水务局. Regions: T5 and T7 in A2区 (690103), T10 none, the
//! rest in A1区 (690102). Categories: T5, T7, T8, T11 环境保护; T10 none; the rest 城乡建设.

use hotline::domain::*;
use hotline::report::{self, GroupBy, KpiTable, Kpis, Period};
use hotline::service::HotlineService;
use kernel::{Actor, Db, Role};

mod common;
use common::*;

testkit::on_both_backends!(migrations;
    kpis_match_the_hand_computed_figures,
    department_users_see_only_their_department,
    monthly_and_typical_reports_open_with_the_figures,
);

/// 2025 China time as UTC milliseconds.
fn at(month: u32, day: u32, hour: u32, minute: u32) -> i64 {
    china_time(2025, month, day, hour, minute)
}

struct W {
    db: Db,
    centre: Centre,
    /// Level-3 categories under 城乡建设 and 环境保护, and their level-1 ids.
    build: i64,
    env: i64,
    build1: i64,
    env1: i64,
}
deref_to_centre!(W);

async fn world(db: Db) -> W {
    let (db, city) = built_at(db, at(2, 1, 9, 0), testkit::city::hotline_centre()).await;
    let svc = HotlineService::new(db.clone(), "A市");
    svc.import_taxonomy(
        &Actor::cli(),
        &[
            ("城乡建设".into(), "住房保障".into(), "物业管理".into()),
            ("环境保护".into(), "噪声污染".into(), "施工噪声".into()),
        ],
    )
    .await
    .unwrap();
    let cats = svc.categories().await.unwrap();
    let cat = |path: &str| cats.iter().find(|c| c.path == path).unwrap().id;
    W {
        build: cat("城乡建设/住房保障/物业管理"),
        env: cat("环境保护/噪声污染/施工噪声"),
        build1: cat("城乡建设"),
        env1: cat("环境保护"),
        centre: Centre::with_service(&city, svc),
        db,
    }
}

struct Ids {
    t2: i64,
    t5: i64,
    t7: i64,
    t8: i64,
    t11: i64,
}

impl W {
    async fn new_ticket(
        &self,
        when: i64,
        kind: TicketKind,
        title: &str,
        category: Option<i64>,
        region: Option<&str>,
        accept: bool,
    ) -> i64 {
        self.db.clock.set(when);
        // 李四 calls, or writes on the web when the ticket is not accepted at once.
        let input = NewTicket {
            channel: if accept { Channel::Phone } else { Channel::Web },
            kind,
            address: Some("幸福路8号".into()),
            region_code: region.map(str::to_owned),
            content: format!("{title}，请有关部门尽快处理。"),
            category_id: category,
            accept,
            ..call(title)
        };
        self.create(input).await.id
    }

    async fn act(&self, who: &Actor, id: i64, when: i64, a: Action) {
        self.db.clock.set(when);
        let what = format!("{a:?}");
        if let Err(e) = self.svc.act(who, id, a).await {
            panic!("{what} on ticket {id}: {e:?}");
        }
    }

    async fn ack(&self, who: &Actor, id: i64, when: i64) {
        self.act(who, id, when, Action::Acknowledge).await;
    }

    /// The operator answers the caller at once.
    async fn answer_now(&self, id: i64, when: i64, answer: &str) {
        let a = Action::AnswerNow {
            answer: answer.into(),
            kb_article_id: None,
        };
        self.act(&self.operator, id, when, a).await;
    }

    async fn kpis(&self, who: &Actor, period: &Period, by: GroupBy) -> KpiTable {
        report::kpis(&self.db, who, period, by).await.unwrap()
    }

    /// Forwards an accepted ticket and dispatches it to `dept`, at the same moment.
    async fn forward(&self, id: i64, when: i64, dept: i64) {
        self.act(&self.operator, id, when, Action::SubmitForDispatch)
            .await;
        self.dispatch(id, when, dept).await;
    }

    async fn dispatch(&self, id: i64, when: i64, dept: i64) {
        let a = Action::Dispatch {
            main_dept_id: dept,
            co_dept_ids: vec![],
        };
        self.act(&self.dispatcher, id, when, a).await;
    }

    async fn reply(&self, who: &Actor, id: i64, when: i64) {
        let a = Action::Reply {
            text: "已到现场核实并处理，问题已解决。".into(),
        };
        self.act(who, id, when, a).await;
    }

    async fn callback(&self, id: i64, when: i64, result: CallbackResult, reopen: bool) {
        let a = Action::Callback {
            result,
            note: "电话回访".into(),
            reopen,
        };
        self.act(&self.operator, id, when, a).await;
    }
}

const A1: Option<&str> = Some("690102");
const A2: Option<&str> = Some("690103");

async fn dataset(w: &W) -> Ids {
    use CallbackResult::*;
    use TicketKind::*;
    let (b, e) = (Some(w.build), Some(w.env));

    let t1 = w
        .new_ticket(at(2, 24, 10, 0), Consult, "公积金提取咨询", b, A1, true)
        .await;
    w.answer_now(t1, at(2, 24, 10, 5), "可通过公积金中心网站办理。")
        .await;

    let t2 = w
        .new_ticket(at(2, 26, 10, 0), Complaint, "小区电梯长期停运", b, A1, true)
        .await;
    w.forward(t2, at(2, 26, 10, 0), w.x).await;
    w.ack(&w.hx, t2, at(2, 26, 11, 0)).await;
    w.reply(&w.hx, t2, at(3, 4, 10, 0)).await;
    w.callback(t2, at(3, 5, 9, 30), Satisfied, false).await;

    let t11 = w
        .new_ticket(at(2, 24, 9, 0), Consult, "工地夜间施工扰民", e, A1, true)
        .await;
    w.forward(t11, at(2, 24, 9, 0), w.y).await;
    w.ack(&w.hy, t11, at(2, 24, 9, 30)).await;
    w.act(
        &w.supervisor,
        t11,
        at(3, 3, 10, 0),
        Action::Supervise {
            note: "已超期，请尽快答复".into(),
        },
    )
    .await;
    w.reply(&w.hy, t11, at(3, 5, 10, 0)).await;
    w.callback(t11, at(3, 5, 11, 0), Satisfied, false).await;

    let t3 = w
        .new_ticket(at(3, 3, 9, 30), Consult, "社保卡补办咨询", b, A1, true)
        .await;
    w.answer_now(t3, at(3, 3, 9, 35), "携带身份证到社保网点补办。")
        .await;

    let t4 = w
        .new_ticket(at(3, 3, 10, 0), Help, "楼道照明损坏", b, A1, true)
        .await;
    w.forward(t4, at(3, 3, 10, 0), w.y).await;
    w.act(
        &w.hy,
        t4,
        at(3, 3, 11, 0),
        Action::Return {
            reason: "不属于本单位职责".into(),
        },
    )
    .await;
    w.dispatch(t4, at(3, 3, 14, 0), w.x).await;
    w.ack(&w.hx, t4, at(3, 3, 15, 0)).await;
    w.reply(&w.hx, t4, at(3, 5, 10, 0)).await;
    w.callback(t4, at(3, 5, 11, 0), BasicallySatisfied, false)
        .await;

    let t5 = w
        .new_ticket(at(3, 4, 9, 0), Consult, "渣土车抛洒污染路面", e, A2, true)
        .await;
    w.forward(t5, at(3, 4, 9, 0), w.y).await;
    w.ack(&w.hy, t5, at(3, 4, 14, 0)).await;
    w.reply(&w.hy, t5, at(3, 7, 10, 0)).await;
    w.callback(t5, at(3, 7, 11, 0), Unsatisfied, false).await;

    let t6 = w
        .new_ticket(at(3, 10, 9, 0), Complaint, "物业违规收费", b, A1, true)
        .await;
    w.forward(t6, at(3, 10, 9, 0), w.x).await;
    w.ack(&w.hx, t6, at(3, 10, 10, 0)).await;
    w.act(
        &w.hx,
        t6,
        at(3, 12, 10, 0),
        Action::RequestExtension {
            days: 3,
            reason: "需调取物业合同".into(),
        },
    )
    .await;
    w.act(
        &w.supervisor,
        t6,
        at(3, 12, 11, 0),
        Action::DecideExtension {
            approve: true,
            note: "同意".into(),
        },
    )
    .await;
    w.reply(&w.hx, t6, at(3, 19, 10, 0)).await;
    w.callback(t6, at(3, 19, 11, 0), Unreached, false).await;
    w.callback(t6, at(3, 20, 11, 0), Satisfied, false).await;

    let t7 = w
        .new_ticket(at(3, 11, 9, 0), Help, "小区供水水压不足", e, A2, true)
        .await;
    w.forward(t7, at(3, 11, 9, 0), w.z).await;
    w.ack(&w.hz, t7, at(3, 11, 9, 30)).await;
    w.reply(&w.hz, t7, at(3, 12, 10, 0)).await;
    w.callback(t7, at(3, 12, 14, 0), Unsatisfied, true).await;
    w.ack(&w.hz, t7, at(3, 12, 15, 0)).await;
    w.reply(&w.hz, t7, at(3, 14, 10, 0)).await;
    w.callback(t7, at(3, 14, 11, 0), Satisfied, false).await;

    let t12 = w
        .new_ticket(at(3, 17, 9, 0), Help, "房屋漏水维修", b, A1, true)
        .await;
    w.forward(t12, at(3, 17, 9, 0), w.x).await;
    w.ack(&w.hx, t12, at(3, 17, 9, 30)).await;
    w.act(
        &w.hx,
        t12,
        at(3, 18, 9, 0),
        Action::Pause {
            reason: "等待市民提供照片".into(),
        },
    )
    .await;
    w.act(&w.hx, t12, at(3, 20, 9, 0), Action::Resume).await;
    w.reply(&w.hx, t12, at(3, 24, 10, 0)).await;
    w.callback(t12, at(3, 24, 11, 0), BasicallySatisfied, false)
        .await;

    let t8 = w
        .new_ticket(at(3, 27, 9, 0), Consult, "广场舞噪音扰民", e, A1, true)
        .await;
    w.forward(t8, at(3, 27, 9, 0), w.y).await;
    w.ack(&w.hy, t8, at(3, 27, 10, 0)).await;
    // April: does not change March's figures.
    w.reply(&w.hy, t8, at(4, 2, 10, 0)).await;

    let t9 = w
        .new_ticket(at(3, 28, 9, 0), Suggestion, "建议增设公交站点", b, A1, true)
        .await;
    w.forward(t9, at(3, 28, 9, 0), w.z).await;

    w.new_ticket(
        at(3, 31, 20, 0),
        Consult,
        "网上咨询落户政策",
        None,
        None,
        false,
    )
    .await;

    w.db.clock.set(at(4, 10, 9, 0));
    Ids {
        t2,
        t5,
        t7,
        t8,
        t11,
    }
}

/// received, accepted, answered_now, dispatched, returned, acknowledged, acknowledged_on_time,
/// replied, replied_on_time, due, due_replied, satisfied, basically_satisfied, unsatisfied,
/// unreached, reopened, supervised, overdue_open, open_at_end.
fn counts(k: &Kpis) -> [i64; 19] {
    [
        k.received,
        k.accepted,
        k.answered_now,
        k.dispatched,
        k.returned,
        k.acknowledged,
        k.acknowledged_on_time,
        k.replied,
        k.replied_on_time,
        k.due,
        k.due_replied,
        k.satisfied,
        k.basically_satisfied,
        k.unsatisfied,
        k.unreached,
        k.reopened,
        k.supervised,
        k.overdue_open,
        k.open_at_end,
    ]
}

/// 即时解答率, 派单准确率, 按时签收率, 按时办结率, 回复率, 回访满意率, 重办率, average hours; each
/// as Rust prints the number ("0.125", "1" for 1.0), "-" where there is none; space-separated.
fn rates(k: &Kpis) -> String {
    [
        k.answered_now_rate,
        k.dispatch_accuracy,
        k.ack_on_time_rate,
        k.on_time_rate,
        k.reply_rate,
        k.satisfaction_rate,
        k.reopen_rate,
        k.avg_handling_hours,
    ]
    .map(|r| r.map_or("-".to_owned(), |r| r.to_string()))
    .join(" ")
}

fn row<'a>(t: &'a KpiTable, key: &str) -> &'a hotline::report::KpiRow {
    t.rows.iter().find(|r| r.key == key).unwrap_or_else(|| {
        panic!(
            "no row {key} in {:?}",
            t.rows.iter().map(|r| &r.key).collect::<Vec<_>>()
        )
    })
}

async fn kpis_match_the_hand_computed_figures(db: Db) {
    let w = world(db).await;
    let _ = dataset(&w).await;
    let march = Period::parse("2025-03").unwrap();
    let t = w.kpis(&w.analyst, &march, GroupBy::Total).await;
    assert_eq!(t.period, "2025-03");
    assert_eq!(t.previous_period, "2025-02");
    assert_eq!(t.start, "2025-03-01T00:00:00+08:00");
    assert_eq!(t.end, "2025-04-01T00:00:00+08:00");
    assert_eq!(t.rows.len(), 1);
    let m = &t.total.kpis;
    // March, whole city:
    // received 9: T3 T4 T5 T6 T7 T8 T9 T10 T12 (T2 and T11 were created in February).
    // accepted 8: all but T10, still waiting on the web. answered_now 1 (T3): 1/8 = 0.125.
    // dispatched 8: T4 twice, T5 T6 T7 T8 T9 T12 (T7's reopen is no dispatch); returned 1 (T4 by
    //   Y): 1 − 1/8 = 0.875.
    // acknowledged 7: T4 T5 T6 T7×2 T8 T12; late only T5 (14:00 > 11:00): 6/7 = 0.8571.
    // replied 8: T2 T4 T5 T6 T7×2 T11 T12 (T8 replied in April); late T5 and T11 (due 02-26);
    //   T6 on time thanks to the extension, T12 thanks to the pause: 6/8 = 0.75.
    // due in March: T2 (03-05) T4 (03-06) T5 (03-06) T6 (03-20) T7×2 (03-14, 03-17) T12 (03-24),
    //   all replied, and T8 (03-31 17:30) not replied by the end: 7/8 = 0.875. T11's deadline
    //   was in February, T9's is in April.
    // callbacks: 满意 T2 T6 T7 T11 = 4, 基本满意 T4 T12 = 2, 不满意 T5 T7 = 2, 未接通 T6 = 1:
    //   6/8 = 0.75.
    // reopened 1 (T7): 1/8 = 0.125. supervised 1 (T11).
    // handling minutes: T2 1680 + T4 690 + T5 1320 + T6 3000 + T7 480 + 690 + T11 3000 +
    //   T12 2160 = 13020 over 8 replies = 1627.5 min = 27.125 h → 27.1.
    // at the end of March: overdue T8; open T8 T9 T10.
    assert_eq!(
        counts(m),
        [9, 8, 1, 8, 1, 7, 6, 8, 6, 8, 7, 4, 2, 2, 1, 1, 1, 1, 3]
    );
    assert_eq!(rates(m), "0.125 0.875 0.8571 0.75 0.875 0.75 0.125 27.1");
    // February, the trend's base: received T1 T2 T11, all accepted, T1 answered at once (1/3);
    // dispatched T2 T11, both acknowledged in time; nothing replied; T11 due 02-26 and not
    // replied (reply rate 0), overdue at the end; open T2 and T11.
    let f = &t.total.previous;
    assert_eq!(
        counts(f),
        [3, 3, 1, 2, 0, 2, 2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2]
    );
    assert_eq!(rates(f), "0.3333 1 1 - 0 - - -");

    let d = w.kpis(&w.analyst, &march, GroupBy::Department).await;
    assert_eq!(d.by, "department");
    // Biggest first, the tickets never dispatched last.
    let order: Vec<&str> = d.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(order, ["住建局", "城管局", "水务局", "未派单"]);
    // X 住建局: received T4 T6 T12 (its main department); dispatched T4 (second) T6 T12, no
    // return; acknowledged 3 on time; replied T2 T4 T6 T12, all on time, all due in March;
    // 满意 T2 T6, 基本满意 T4 T12, 未接通 T6; no reopen; (1680 + 690 + 3000 + 2160) / 4 =
    // 1882.5 min = 31.375 h → 31.4.
    let x = row(&d, &w.x.to_string());
    assert_eq!(x.name, "住建局");
    assert_eq!(
        counts(&x.kpis),
        [3, 3, 0, 3, 0, 3, 3, 4, 4, 4, 4, 2, 2, 0, 1, 0, 0, 0, 0]
    );
    assert_eq!(rates(&x.kpis), "0 1 1 1 1 1 0 31.4");
    // February for X: T2 received, dispatched, acknowledged, open at the end.
    assert_eq!(
        counts(&x.previous),
        [1, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    );
    // Y 城管局: received T5 T8; dispatched T4 (returned) T5 T8: 1 − 1/3; acknowledged T5 (late)
    // T8: 1/2; replied T5 T11, both late; due T5 (replied) T8 (not): 1/2; 满意 T11, 不满意 T5;
    // supervised T11; (1320 + 3000) / 2 = 2160 min = 36 h; T8 overdue and open.
    let y = row(&d, &w.y.to_string());
    assert_eq!(
        counts(&y.kpis),
        [2, 2, 0, 3, 1, 2, 1, 2, 0, 2, 1, 1, 0, 1, 0, 0, 1, 1, 1]
    );
    assert_eq!(rates(&y.kpis), "0 0.6667 0.5 0 0.5 0.5 0 36");
    // Z 水务局: received T7 T9; dispatched T7 T9; T7 acknowledged and replied twice, on time,
    // both due in March; 不满意 then 满意; the reopen counts against Z, whose reply failed:
    // 1/2; (480 + 690) / 2 = 585 min = 9.75 h → 9.8; T9 open.
    let z = row(&d, &w.z.to_string());
    assert_eq!(
        counts(&z.kpis),
        [2, 2, 0, 2, 0, 2, 2, 2, 2, 2, 2, 1, 0, 1, 0, 1, 0, 0, 1]
    );
    assert_eq!(rates(&z.kpis), "0 1 1 1 1 0.5 0.5 9.8");
    // Never dispatched: T3 (answered at once) and T10 (waiting, open).
    let none = row(&d, "none");
    assert_eq!(
        counts(&none.kpis),
        [2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    );
    assert_eq!(none.kpis.answered_now_rate, Some(1.0));
    // The rows add up to the total.
    let sum: i64 = d.rows.iter().map(|r| r.kpis.received).sum();
    assert_eq!(sum, 9);
    assert_eq!(counts(&d.total.kpis), counts(m));

    // By level-1 category: 环境保护 gets T5 T7 T8 received; replies T5 (late) T7×2 T11 (late);
    // T8 overdue; T7 reopened; 满意 T7 T11, 不满意 T5 T7.
    let c = w.kpis(&w.analyst, &march, GroupBy::Category).await;
    let env = row(&c, &w.env1.to_string());
    assert_eq!(env.name, "环境保护");
    assert_eq!(
        (
            env.kpis.received,
            env.kpis.replied,
            env.kpis.on_time_rate,
            env.kpis.overdue_open,
            env.kpis.reopened,
            env.kpis.satisfaction_rate
        ),
        (3, 4, Some(0.5), 1, 1, Some(0.5))
    );
    assert_eq!(row(&c, &w.build1.to_string()).kpis.received, 5);
    assert_eq!(row(&c, "none").name, "未分类");
    assert_eq!(row(&c, "none").kpis.received, 1);

    // By district: A2区 has T5 and T7 (three replies); T10 has no region.
    let r = w
        .kpis(
            &w.analyst,
            &march,
            GroupBy::parse("region", Some("district")).unwrap(),
        )
        .await;
    let a2 = row(&r, "690103");
    assert_eq!(a2.name, "A2区");
    assert_eq!((a2.kpis.received, a2.kpis.replied), (2, 3));
    assert_eq!(row(&r, "690102").kpis.received, 6);
    assert_eq!(row(&r, "none").name, "未填写地区");
    let by_city = w
        .kpis(
            &w.analyst,
            &march,
            GroupBy::parse("region", Some("city")).unwrap(),
        )
        .await;
    assert_eq!(row(&by_city, "690100").kpis.received, 8);

    // A week and a day range use the same history: week 11 (03-10..03-16) has T6 and T7.
    let w11 = w
        .kpis(
            &w.analyst,
            &Period::parse("2025-W11").unwrap(),
            GroupBy::Total,
        )
        .await;
    assert_eq!(w11.previous_period, "2025-W10");
    // received T6 T7; replied T7 twice; acknowledged T6, T7 twice; reopened T7.
    assert_eq!(
        (
            w11.total.kpis.received,
            w11.total.kpis.replied,
            w11.total.kpis.acknowledged,
            w11.total.kpis.reopened
        ),
        (2, 2, 3, 1)
    );
    let days = w
        .kpis(
            &w.analyst,
            &Period::parse("2025-03-01..2025-03-15").unwrap(),
            GroupBy::Total,
        )
        .await;
    // 03-01..03-15: T3 T4 T5 T6 T7 received; the previous 15 days (02-14..02-28) T1 T2 T11.
    assert_eq!(days.total.kpis.received, 5);
    assert_eq!(days.total.previous.received, 3);
}

async fn department_users_see_only_their_department(db: Db) {
    let w = world(db).await;
    let _ = dataset(&w).await;
    let march = Period::parse("2025-03").unwrap();
    let all = w.kpis(&w.analyst, &march, GroupBy::Department).await;
    let x_all = row(&all, &w.x.to_string()).clone();

    let mine = w.kpis(&w.hx, &march, GroupBy::Department).await;
    assert_eq!(mine.scope, "本单位");
    assert_eq!(mine.rows.len(), 1);
    assert_eq!(mine.rows[0].key, w.x.to_string());
    assert_eq!(counts(&mine.rows[0].kpis), counts(&x_all.kpis));
    // The total is the department's own, not the city's.
    assert_eq!(counts(&mine.total.kpis), counts(&x_all.kpis));
    assert_eq!(counts(&mine.total.previous), counts(&x_all.previous));
    // Other groupings are cut to the department's share too.
    let cats = w.kpis(&w.hy, &march, GroupBy::Category).await;
    let y = row(&all, &w.y.to_string());
    assert_eq!(counts(&cats.total.kpis), counts(&y.kpis));
    assert!(cats.rows.iter().all(|r| r.key != "none"));

    // Operators, dispatchers and citizens get no reports.
    for who in [&w.operator, &w.dispatcher] {
        let e = report::kpis(&w.db, who, &march, GroupBy::Total)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "forbidden");
    }
    let citizen = Actor {
        roles: vec![Role::Citizen],
        scope: kernel::Scope::Own,
        via: kernel::auth::Via::Session,
        ..Actor::cli()
    };
    assert!(report::kpis(&w.db, &citizen, &march, GroupBy::Total)
        .await
        .is_err());
    // A token without hotline:read cannot read them either.
    let token = Actor {
        token_scopes: Some(vec!["org:read".into()]),
        via: kernel::auth::Via::Token,
        ..w.analyst.clone()
    };
    assert!(report::kpis(&w.db, &token, &march, GroupBy::Total)
        .await
        .is_err());
    // Supervisors do.
    assert!(report::kpis(&w.db, &w.supervisor, &march, GroupBy::Total)
        .await
        .is_ok());
    // Department users' documents hold only their rows.
    let doc = document_xml(
        &report::monthly_docx(&w.db, &w.hx, &march, "A市")
            .await
            .unwrap(),
    );
    assert!(doc.contains("住建局") && !doc.contains("城管局"), "{doc}");
}

async fn number(w: &W, id: i64) -> String {
    w.svc.get(&w.analyst, id).await.unwrap().ticket.number
}

async fn monthly_and_typical_reports_open_with_the_figures(db: Db) {
    let w = world(db).await;
    let ids = dataset(&w).await;
    let march = Period::parse("2025-03").unwrap();

    let doc = document_xml(
        &report::monthly_docx(&w.db, &w.analyst, &march, "A市")
            .await
            .unwrap(),
    );
    for want in [
        "A市12345政务服务便民热线运行情况",
        "（2025年3月）",
        "共受理群众诉求9件，环比上升200.0%",
        "即时解答率12.50%",
        "派单准确率87.50%",
        "按时签收率85.71%",
        "按时办结率75.00%",
        "回复率87.50%",
        "回访满意率75.00%",
        "重办率12.50%",
        "平均办理时长27.1个工作小时",
        "超期未办结1件",
        "住建局",
        "环境保护",
        "A2区",
    ] {
        assert!(doc.contains(want), "{want} not in the monthly report");
    }
    // T8 is listed as overdue, T7 as reopened with its reason.
    let (n7, n8) = (number(&w, ids.t7).await, number(&w, ids.t8).await);
    assert!(doc.contains(&n8) && doc.contains(&n7));
    assert!(doc.contains("电话回访"), "the reopen's reason");

    // The workbook reads back: headline figures and the department sheet.
    let book = report::monthly_xlsx(&w.db, &w.analyst, &march, "A市")
        .await
        .unwrap();
    let head = tabular::read_xlsx(&book).unwrap();
    assert_eq!(head.headers, ["指标", "本月", "上月", "环比"]);
    let line = |name: &str| {
        head.rows
            .iter()
            .find(|r| r.cells[0] == name)
            .unwrap_or_else(|| panic!("no {name}"))
            .cells
            .clone()
    };
    assert_eq!(
        line("受理量（件）"),
        ["受理量（件）", "9", "3", "上升200.0%"]
    );
    assert_eq!(line("按时办结率")[1], "75.00%");
    let depts = tabular::read_xlsx_sheet(&book, "按承办单位").unwrap();
    let received = depts.column(&["受理量"]);
    let on_time = depts.column(&["按时办结率(%)"]);
    let x = depts.rows.iter().find(|r| r.cells[0] == "住建局").unwrap();
    assert_eq!((x.get(received), x.get(on_time)), ("3", "100"));
    let total = depts.rows.last().unwrap();
    assert_eq!(
        (total.cells[0].as_str(), total.get(received)),
        ("合计", "9")
    );
    let overdue = tabular::read_xlsx_sheet(&book, "超期未办结").unwrap();
    assert_eq!(overdue.rows.len(), 1);
    assert_eq!(overdue.rows[0].cells[1], n8);

    // kpis.xlsx: this period, the previous, the definitions.
    let t = w.kpis(&w.analyst, &march, GroupBy::Department).await;
    let k = report::kpis_xlsx(&t).unwrap();
    let cur = tabular::read_xlsx(&k).unwrap();
    assert_eq!(cur.headers[0], "承办单位");
    assert_eq!(cur.rows.len(), t.rows.len() + 1);
    let prev = tabular::read_xlsx_sheet(&k, "上期 2025-02").unwrap();
    assert_eq!(prev.rows.last().unwrap().cells[1], "3");

    // The weekly 典型案例专报: week 11 has T7 (reopened after an unsatisfied callback).
    let weekly = document_xml(
        &report::typical_docx(
            &w.db,
            &w.analyst,
            &report::parse_week("2025-W11").unwrap(),
            "A市",
        )
        .await
        .unwrap(),
    );
    for want in [
        "典型案例专报",
        "2025年第11周（3月10日至3月16日）",
        &n7,
        "重办、回访不满意",
        "回访（不满意），重办",
        "李*",
        "小区供水水压不足",
    ] {
        assert!(weekly.contains(want), "{want} not in the weekly report");
    }
    assert!(
        !weekly.contains("13912345678"),
        "the caller's phone is masked"
    );
    // Week 10: T5 (late reply, unsatisfied) and T11 (supervised, late reply).
    let w10 = document_xml(
        &report::typical_docx(
            &w.db,
            &w.analyst,
            &report::parse_week("2025-W10").unwrap(),
            "A市",
        )
        .await
        .unwrap(),
    );
    let (n5, n11) = (number(&w, ids.t5).await, number(&w, ids.t11).await);
    assert!(w10.contains(&n5) && w10.contains(&n11));
    assert!(w10.contains("督办、超期答复"));
    assert!(!w10.contains(&number(&w, ids.t2).await), "T2 was on time");
}
