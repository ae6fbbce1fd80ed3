//! The service hall on SQLite and PostgreSQL: item versions, cases through the state machine
//! with the clock, bundles, 秒批, 好差评 with rectification, scope, card sweep.

mod common;

use common::*;
use kernel::{Actor, Db};
use serde_json::json;
use services::domain::*;
use services::service::{
    CaseQuery, NewBundleCase, NewCase, RectificationReply, RectificationReview,
};

testkit::on_both_backends!(migrations;
    published_versions_never_change_and_cases_keep_theirs,
    a_case_lives_from_window_intake_to_delivery_with_paused_clock,
    a_bundle_opens_sub_cases_and_gives_one_result,
    a_sequential_bundle_opens_the_next_case_when_one_closes,
    auto_approval_decides_and_explains,
    one_evaluation_per_case_until_a_rectification,
    departments_and_citizens_see_only_their_cases,
    a_refused_action_leaves_no_trace,
    cards_are_raised_once_even_with_two_sweepers,
    bad_form_input_names_the_field,
    feedback_reaches_supervisors,
);

fn form(pairs: &[(&str, &str)]) -> serde_json::Map<String, serde_json::Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect()
}

/// 张三's answers on the 摆摊一件事 form, his stall at `address`.
fn stall_form(address: &str) -> serde_json::Map<String, serde_json::Value> {
    let id_no = id_no();
    let answers = [
        ("name", "张三"),
        ("id_no", &id_no),
        ("mobile", "13800138000"),
    ];
    let mut f = form(&answers);
    f.insert("stall_address".into(), json!(address));
    f
}

fn id_no() -> String {
    kernel::codes::id_card_with_check("11010119900307001")
}

impl W {
    /// The error code with which `who` is refused rating case `number` with `e`.
    async fn evaluation_refused(&self, who: &Actor, number: &str, e: NewEvaluation) -> String {
        let err = self.svc.evaluate(who, number, e).await.unwrap_err();
        err.code().to_owned()
    }
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

async fn published_versions_never_change_and_cases_keep_theirs(db: Db) {
    let w = world(db).await;
    let v1 = w.svc.published_item(w.health_item).await.unwrap();
    assert_eq!((v1.version, v1.status), (1, ItemStatus::Published));
    let case = w
        .submit(&w.clerk, health_case(w.health_item, &["photo", "exam"]))
        .await;
    assert_eq!(case.item_version, 1);
    // An edit of a published item makes version 2 as a draft; version 1 stays published.
    let mut edit = health_cert(w.health_dept);
    edit.promised_days = 2;
    let v2 = w
        .svc
        .update_item(&w.health, w.health_item, edit.clone())
        .await
        .unwrap();
    assert_eq!((v2.version, v2.status), (2, ItemStatus::Draft));
    assert_eq!(
        w.svc
            .published_item(w.health_item)
            .await
            .unwrap()
            .content
            .promised_days,
        3
    );
    // Editing the draft again rewrites it, it does not make version 3.
    edit.promised_days = 1;
    let v2b = w
        .svc
        .update_item(&w.health, w.health_item, edit)
        .await
        .unwrap();
    assert_eq!((v2b.version, v2b.content.promised_days), (2, 1));
    w.svc.publish_item(&w.health, w.health_item).await.unwrap();
    let versions = w.svc.item_versions(&w.health, w.health_item).await.unwrap();
    let st: Vec<_> = versions.iter().map(|v| (v.version, v.status)).collect();
    assert_eq!(
        st,
        [(1, ItemStatus::Superseded), (2, ItemStatus::Published)]
    );
    assert_eq!(versions[0].content.promised_days, 3, "version 1 unchanged");
    // The old case keeps version 1 and its 3 days; a new one gets version 2.
    let old = w.act(&w.health, case.id, accept()).await;
    assert_eq!((old.item_version, old.promised_days), (1, 3));
    let new = w
        .submit(&w.clerk, health_case(w.health_item, &["photo", "exam"]))
        .await;
    assert_eq!((new.item_version, new.promised_days), (2, 1));
    // Publishing with no draft is refused; another department cannot edit.
    assert_eq!(
        error_code(w.svc.publish_item(&w.health, w.health_item).await),
        "illegal_transition"
    );
    assert_eq!(
        error_code(
            w.svc
                .update_item(&w.market, w.health_item, health_cert(w.health_dept))
                .await
        ),
        "forbidden"
    );
    // Search in Chinese finds published items by name, material or department.
    let names = |v: Vec<ServiceItem>| v.into_iter().map(|i| i.content.name).collect::<Vec<_>>();
    assert_eq!(
        names(w.svc.search_items("健康").await.unwrap()),
        ["食品从业人员健康证明"]
    );
    assert_eq!(
        names(w.svc.search_items("经营场所").await.unwrap()),
        ["食品小摊贩备案"]
    );
    assert_eq!(
        names(w.svc.search_items("食品 卫健委").await.unwrap()),
        ["食品从业人员健康证明"]
    );
    assert_eq!(w.svc.search_items("食品").await.unwrap().len(), 2);
    assert!(w.svc.search_items("护照").await.unwrap().is_empty());
}

async fn a_case_lives_from_window_intake_to_delivery_with_paused_clock(db: Db) {
    let w = world(db).await;
    let v = w
        .svc
        .submit(&w.clerk, health_case(w.health_item, &["photo"]))
        .await
        .unwrap();
    let c = v.case;
    assert_eq!(c.number, "BJ2026031600001");
    assert_eq!(c.channel, Channel::Window);
    assert_eq!(c.received_by, w.clerk.user_id);
    // The exam form is missing: the department asks for it once (一次性告知).
    let e = w.svc.act(&w.health, c.id, accept()).await.unwrap_err();
    assert_eq!(e.code(), "materials_missing");
    w.ask_for(&w.health, c.id, &["exam"], "请补交体检表").await;
    w.clock.set(at(3, 16, 14, 0));
    // The clerk takes the material in at the window on the applicant's behalf.
    w.act(&w.clerk, c.id, supply(&["exam"])).await;
    let c = w.act(&w.health, c.id, accept()).await;
    assert_eq!(c.accepted_at, Some(at(3, 16, 14, 0)));
    assert_eq!(c.due_at, Some(at(3, 19, 17, 30)));
    // Asked again after acceptance: the clock stops for the two working days it takes.
    w.clock.set(at(3, 17, 9, 0));
    w.ask_for(&w.health, c.id, &["photo"], "照片不符合要求")
        .await;
    w.clock.set(at(3, 19, 9, 0));
    let c = w.act(&w.clerk, c.id, supply(&["photo"])).await;
    assert_eq!(c.paused_minutes, 2 * 7 * 60);
    assert_eq!(c.due_at, Some(at(3, 23, 17, 30)));
    w.act(&w.health, c.id, approve("A卫健〔2026〕1号")).await;
    w.act(&w.health, c.id, Action::Close).await;
    let c = w.act(&w.clerk, c.id, deliver_by_post()).await;
    assert_eq!(c.status, CaseStatus::Delivered);
    assert_eq!(
        c.handlers,
        [w.health.user_id.unwrap(), w.clerk.user_id.unwrap()]
    );
    // The timeline tells the whole story, and each step is in the audit chain.
    let t = w.svc.timeline(&w.health, c.id).await.unwrap();
    let steps: Vec<&str> = t.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        steps,
        [
            "submit",
            "request_supplement",
            "supply",
            "accept",
            "request_supplement",
            "supply",
            "decide",
            "close",
            "deliver"
        ]
    );
    assert_eq!(
        count(
            &w.db,
            "SELECT COUNT(*) FROM kernel_audit WHERE entity = 'case'"
        )
        .await,
        9
    );
    assert!(kernel::audit::verify(&w.db)
        .await
        .unwrap()
        .first_broken
        .is_none());
    // The applicant tracks it by number and phone; a wrong phone finds nothing.
    let tr = w.svc.track(&c.number, "13800138000").await.unwrap();
    assert_eq!(tr.timeline.len(), 9);
    assert!(tr.can_evaluate);
    assert_eq!(
        error_code(w.svc.track(&c.number, "13900000000").await),
        "not_found"
    );
}

async fn a_bundle_opens_sub_cases_and_gives_one_result(db: Db) {
    let w = world(db).await;
    let b = w.svc.bundle(w.bundle).await.unwrap();
    // One form: name and id_no asked once; one material list: the photo once, the ID card never.
    let keys: Vec<&str> = b.merged.fields.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(keys, ["name", "id_no", "mobile", "stall_address"]);
    let mats: Vec<&str> = b.merged.materials.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(mats, ["photo", "exam", "stall_place"]);
    assert_eq!(
        (
            b.merged.savings.materials_separately,
            b.merged.savings.materials_bundled
        ),
        (4, 3)
    );
    assert_eq!(
        (
            b.merged.savings.days_separately,
            b.merged.savings.days_bundled
        ),
        (8, 5)
    );
    let app = w
        .svc
        .submit_bundle(
            &w.citizen,
            w.bundle,
            NewBundleCase {
                applicant: person("张三", "13800138000"),
                form: stall_form("A1区夜市12号摊位"),
                materials: vec!["photo".into(), "exam".into()],
            },
        )
        .await
        .unwrap();
    assert_eq!(app.number, "YJS2026031600001");
    assert_eq!(app.cases.len(), 2);
    assert!(app
        .cases
        .iter()
        .all(|c| c.case.status == CaseStatus::Submitted));
    assert_eq!(app.cases[0].case.dept_id, w.health_dept);
    assert_eq!(app.cases[1].case.dept_id, w.market_dept);
    assert_eq!(app.cases[0].case.applicant.user_id, w.citizen.user_id);
    // Each department gets its own item's fields only.
    assert!(app.cases[0].case.form.get("stall_address").is_none());
    assert_eq!(app.cases[1].case.form["stall_address"], "A1区夜市12号摊位");
    let (h, m) = (app.cases[0].case.id, app.cases[1].case.id);
    w.act(&w.health, h, accept()).await;
    // Market supervision wants the stall description, which the citizen did not attach.
    w.ask_for(&w.market, m, &["stall_place"], "请补充经营场所说明")
        .await;
    let v = w.svc.bundle_case(&w.citizen, &app.number).await.unwrap();
    assert_eq!(v.status, BundleStatus::NeedsSupplement);
    w.act(&w.citizen, m, supply(&["stall_place"])).await;
    w.act(&w.market, m, accept()).await;
    for (who, id, no) in [
        (&w.health, h, "卫健〔2026〕7号"),
        (&w.market, m, "摊备〔2026〕3号"),
    ] {
        w.act(who, id, approve(no)).await;
        w.act(who, id, Action::Close).await;
    }
    assert_eq!(
        w.svc
            .bundle_case(&w.citizen, &app.number)
            .await
            .unwrap()
            .status,
        BundleStatus::Done
    );
    // One result, handed out once at the window for both.
    let d = w
        .svc
        .deliver_bundle(
            &w.clerk,
            &app.number,
            DeliveryMethod::Window,
            "综合窗口 3 号",
        )
        .await
        .unwrap();
    assert_eq!(d.status, BundleStatus::Delivered);
    assert!(d
        .cases
        .iter()
        .all(|c| c.case.status == CaseStatus::Delivered));
    // Another citizen cannot see it.
    assert_eq!(
        error_code(w.svc.bundle_case(&w.other_citizen, &app.number).await),
        "forbidden"
    );
}

async fn a_sequential_bundle_opens_the_next_case_when_one_closes(db: Db) {
    let w = world(db).await;
    let b = w
        .svc
        .create_bundle(
            &Actor::cli(),
            BundleInput {
                code: "SEQ".into(),
                name: "先证后备一件事".into(),
                description: String::new(),
                item_ids: vec![w.health_item, w.stall_item],
                order: BundleOrder::Sequential,
                promised_days: 6,
                visits: 1,
            },
        )
        .await
        .unwrap();
    let app = w
        .svc
        .submit_bundle(
            &w.clerk,
            b.bundle.id,
            NewBundleCase {
                applicant: person("张三", "13800138000"),
                form: stall_form("夜市"),
                materials: vec!["photo".into(), "exam".into(), "stall_place".into()],
            },
        )
        .await
        .unwrap();
    let st: Vec<_> = app.cases.iter().map(|c| c.case.status).collect();
    assert_eq!(st, [CaseStatus::Submitted, CaseStatus::Waiting]);
    let second = app.cases[1].case.id;
    assert_eq!(
        w.refused(&w.market, second, accept()).await,
        "illegal_transition"
    );
    let first = app.cases[0].case.id;
    w.act(&w.health, first, accept()).await;
    w.act(&w.health, first, approve("卫健〔2026〕8号")).await;
    w.act(&w.health, first, Action::Close).await;
    let s = w.svc.get(&w.market, second).await.unwrap().case;
    assert_eq!(s.status, CaseStatus::Submitted);
    let t = w.svc.timeline(&w.market, second).await.unwrap();
    assert_eq!(t.last().unwrap().action, "open");
}

fn condition(field: &str, test: Test, value: Option<serde_json::Value>) -> Condition {
    Condition {
        field: field.into(),
        test,
        value,
    }
}

async fn auto_approval_decides_and_explains(db: Db) {
    let w = world(db).await;
    let mut item = stall_filing(w.market_dept);
    item.impl_code = "11690100SJ0000002002".into();
    item.name = "食品小摊贩备案（秒批）".into();
    item.auto_rule = Some(AutoRule {
        conditions: vec![
            condition("id_no", Test::AgeAtLeast, Some(json!(18))),
            condition("stall_address", Test::Present, None),
        ],
    });
    let it = w.svc.create_item(&w.market, item).await.unwrap();
    w.svc.publish_item(&w.market, it.id).await.unwrap();
    // The form's ID number is the applicant's (一数一源): the applicant block carries it.
    let apply = |id_no: String, mats: Vec<String>| NewCase {
        item_id: it.id,
        scenario: None,
        applicant: Applicant {
            id_no: id_no.clone(),
            ..person("王五", "13700137000")
        },
        form: form(&[
            ("name", "王五"),
            ("id_no", &id_no),
            ("stall_address", "A1区夜市"),
        ]),
        materials: mats,
    };
    let all = vec!["photo".to_string(), "stall_place".to_string()];
    let ok = w.submit(&w.citizen, apply(id_no(), all.clone())).await;
    assert_eq!(ok.status, CaseStatus::Closed);
    let d = ok.decision.unwrap();
    assert!(d.automatic && d.approve);
    assert_eq!(d.explanation[0], "申请材料齐全");
    assert!(d
        .explanation
        .iter()
        .any(|l| l.contains("年满 18 周岁：符合")));
    // A minor is not approved automatically: the case waits for a person, with the reason.
    let minor = kernel::codes::id_card_with_check("11010120150307001");
    let no = w.submit(&w.citizen, apply(minor, all)).await;
    assert_eq!(no.status, CaseStatus::Submitted);
    let t = w.svc.timeline(&w.citizen, no.id).await.unwrap();
    assert_eq!(t.last().unwrap().action, "auto_decide");
    assert!(t.last().unwrap().data["explanation"]
        .to_string()
        .contains("不符合"));
    // Missing material: no 秒批 either.
    let missing = w
        .submit(&w.citizen, apply(id_no(), vec!["photo".into()]))
        .await;
    assert_eq!(missing.status, CaseStatus::Submitted);
}

async fn done_case(w: &W) -> services::domain::Case {
    let c = w
        .submit(&w.citizen, health_case(w.health_item, &["photo", "exam"]))
        .await;
    w.act(&w.health, c.id, accept()).await;
    w.act(&w.health, c.id, approve("卫健〔2026〕9号")).await;
    w.act(&w.health, c.id, Action::Close).await
}

async fn one_evaluation_per_case_until_a_rectification(db: Db) {
    let w = world(db).await;
    let open = w
        .submit(&w.citizen, health_case(w.health_item, &["photo", "exam"]))
        .await;
    let bad = NewEvaluation {
        level: Level::Dissatisfied,
        tags: vec!["等候时间长".into()],
        text: "窗口排队一个小时".into(),
    };
    assert_eq!(
        w.evaluation_refused(&w.citizen, &open.number, bad.clone())
            .await,
        "illegal_transition",
        "not before 办结"
    );
    let c = done_case(&w).await;
    assert_eq!(
        w.evaluation_refused(&w.other_citizen, &c.number, bad.clone())
            .await,
        "forbidden"
    );
    let e = w
        .svc
        .evaluate(&w.citizen, &c.number, bad.clone())
        .await
        .unwrap();
    assert_eq!(
        (e.round, e.level, e.channel),
        (1, Level::Dissatisfied, EvalChannel::Web)
    );
    assert_eq!(e.staff, [w.health.user_id.unwrap()]);
    // A second rating, by any route, is refused while no rectification is done.
    let good = NewEvaluation {
        level: Level::VerySatisfied,
        tags: vec![],
        text: String::new(),
    };
    assert_eq!(
        w.evaluation_refused(&w.citizen, &c.number, good.clone())
            .await,
        "already_evaluated"
    );
    assert_eq!(
        error_code(
            w.svc
                .evaluate_public(&c.number, "13800138000", good.clone())
                .await
        ),
        "already_evaluated"
    );
    // 差评 opened a rectification for the department, due in five working days.
    let rs = w.svc.rectifications(&w.health).await.unwrap();
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].due_at, at(3, 23, 17, 30));
    assert!(w.svc.rectifications(&w.market).await.unwrap().is_empty());
    let r = rs[0].id;
    assert_eq!(
        error_code(
            w.svc
                .review_rectification(
                    &w.supervisor,
                    r,
                    RectificationReview {
                        approve: true,
                        note: "同意".into()
                    }
                )
                .await
        ),
        "illegal_transition",
        "nothing to review before the reply"
    );
    assert_eq!(
        error_code(
            w.svc
                .reply_rectification(&w.market, r, RectificationReply { reply: "x".into() })
                .await
        ),
        "forbidden"
    );
    w.svc
        .reply_rectification(
            &w.health,
            r,
            RectificationReply {
                reply: "已增开窗口并致电道歉".into(),
            },
        )
        .await
        .unwrap();
    // Sent back once, answered again, then accepted.
    let back = w
        .svc
        .review_rectification(
            &w.supervisor,
            r,
            RectificationReview {
                approve: false,
                note: "请说明长效措施".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(back.status, RectificationStatus::Open);
    w.svc
        .reply_rectification(
            &w.health,
            r,
            RectificationReply {
                reply: "高峰时段增派两名人员".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        error_code(
            w.svc
                .review_rectification(
                    &w.health,
                    r,
                    RectificationReview {
                        approve: true,
                        note: "好".into()
                    }
                )
                .await
        ),
        "forbidden"
    );
    let done = w.accept_rectification(r).await;
    assert_eq!(done.status, RectificationStatus::Done);
    // Now one more rating is allowed, and only one.
    let e2 = w
        .svc
        .evaluate_public(&c.number, "13800138000", good.clone())
        .await
        .unwrap();
    assert_eq!(e2.round, 2);
    assert_eq!(
        w.evaluation_refused(&w.citizen, &c.number, good).await,
        "already_evaluated"
    );
    assert_eq!(
        count(&w.db, "SELECT COUNT(*) FROM services_evaluations").await,
        2
    );
}

async fn departments_and_citizens_see_only_their_cases(db: Db) {
    let w = world(db).await;
    let c = done_case(&w).await;
    w.svc
        .submit(&w.other_citizen, health_case(w.stall_item, &[]))
        .await
        .unwrap_err();
    let page = first_page();
    let q = CaseQuery::default();
    assert_eq!(w.svc.list(&w.health, &q, &page).await.unwrap().total, 1);
    assert_eq!(w.svc.list(&w.market, &q, &page).await.unwrap().total, 0);
    assert_eq!(w.svc.list(&w.citizen, &q, &page).await.unwrap().total, 1);
    assert_eq!(
        w.svc.list(&w.other_citizen, &q, &page).await.unwrap().total,
        0
    );
    assert_eq!(error_code(w.svc.get(&w.market, c.id).await), "forbidden");
    assert_eq!(
        error_code(w.svc.get(&w.other_citizen, c.id).await),
        "forbidden"
    );
    // Analysts see masked personal data; the department sees it in full.
    let masked = w.svc.get(&w.analyst, c.id).await.unwrap();
    assert!(!masked.personal_data_visible);
    assert_eq!(masked.case.applicant.id_no, kernel::mask::id_card(&id_no()));
    let v = w.svc.get(&w.supervisor, c.id).await.unwrap();
    assert!(!v.personal_data_visible);
    assert_ne!(v.case.applicant.phone, "13800138000");
    assert_eq!(
        w.svc
            .get(&w.health, c.id)
            .await
            .unwrap()
            .case
            .applicant
            .phone,
        "13800138000"
    );
    // Market supervision cannot act on a health case; a clerk cannot decide.
    let open = w
        .submit(&w.clerk, health_case(w.health_item, &["photo", "exam"]))
        .await;
    assert_eq!(w.refused(&w.market, open.id, accept()).await, "forbidden");
    assert_eq!(w.refused(&w.citizen, open.id, accept()).await, "forbidden");
    let filtered = w
        .svc
        .list(
            &w.health,
            &CaseQuery {
                status: Some("submitted".into()),
                ..Default::default()
            },
            &page,
        )
        .await
        .unwrap();
    assert_eq!(filtered.total, 1);
    assert_eq!(
        w.svc
            .list(
                &w.health,
                &CaseQuery {
                    status: Some("bogus".into()),
                    ..Default::default()
                },
                &page
            )
            .await
            .unwrap_err()
            .field_name(),
        Some("status")
    );
    // Search by number, phone or name (wildcards taken literally), three orders, paging.
    let mut other = health_case(w.health_item, &["photo", "exam"]);
    other.applicant = person("李四", "13900139000");
    other.form.insert("name".into(), json!("李四"));
    other.form.insert("mobile".into(), json!("13900139000"));
    let li = w.submit(&w.clerk, other).await;
    let find = |text: &str, sort: Option<&str>, page: kernel::page::PageQuery| {
        let q = CaseQuery {
            q: Some(text.into()),
            sort: sort.map(str::to_owned),
            ..Default::default()
        };
        let svc = w.svc.clone();
        let who = w.health.clone();
        async move { svc.list(&who, &q, &page).await }
    };
    let numbers = |p: &kernel::page::Page<services::service::CaseView>| {
        p.items
            .iter()
            .map(|c| c.case.number.clone())
            .collect::<Vec<_>>()
    };
    let by_number = find(&li.number, None, first_page()).await.unwrap();
    assert_eq!(numbers(&by_number), std::slice::from_ref(&li.number));
    assert_eq!(find("1390013", None, first_page()).await.unwrap().total, 1);
    assert_eq!(find("李四", None, first_page()).await.unwrap().total, 1);
    assert_eq!(find("张三", None, first_page()).await.unwrap().total, 2);
    assert_eq!(find("%", None, first_page()).await.unwrap().total, 0);
    assert_eq!(find("", None, first_page()).await.unwrap().total, 3);
    let newest = numbers(&find("", Some("newest"), first_page()).await.unwrap());
    let oldest = numbers(&find("", Some("oldest"), first_page()).await.unwrap());
    assert_eq!(
        newest.iter().rev().collect::<Vec<_>>(),
        oldest.iter().collect::<Vec<_>>()
    );
    assert_eq!(newest[0], li.number);
    // Page 2 of one per page is the second row, not the first again.
    let second = find(
        "",
        Some("newest"),
        kernel::page::PageQuery {
            page: Some(2),
            per_page: Some(1),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (second.total, numbers(&second)),
        (3, vec![newest[1].clone()])
    );
    assert_eq!(
        find("", Some("sideways"), first_page())
            .await
            .unwrap_err()
            .field_name(),
        Some("sort")
    );
}

async fn a_refused_action_leaves_no_trace(db: Db) {
    let w = world(db).await;
    let c = w
        .submit(&w.clerk, health_case(w.health_item, &["photo", "exam"]))
        .await;
    let before = (
        count(&w.db, "SELECT COUNT(*) FROM kernel_audit").await,
        count(&w.db, "SELECT COUNT(*) FROM services_events").await,
    );
    assert!(w.svc.act(&w.health, c.id, Action::Close).await.is_err());
    assert!(w
        .svc
        .act(
            &w.health,
            c.id,
            Action::Reject {
                reason: "不符".into(),
                legal_basis: "".into()
            }
        )
        .await
        .is_err());
    let after = (
        count(&w.db, "SELECT COUNT(*) FROM kernel_audit").await,
        count(&w.db, "SELECT COUNT(*) FROM services_events").await,
    );
    assert_eq!(before, after);
    assert_eq!(
        w.svc.get(&w.health, c.id).await.unwrap().case.status,
        CaseStatus::Submitted
    );
    // 不予受理 with reason and legal basis is final.
    let r = w
        .act(
            &w.health,
            c.id,
            Action::Reject {
                reason: "申请人不属于食品从业人员".into(),
                legal_basis: "《食品安全法》第四十五条".into(),
            },
        )
        .await;
    assert_eq!(r.status, CaseStatus::Rejected);
    assert_eq!(r.rejection.unwrap().legal_basis, "《食品安全法》第四十五条");
}

async fn cards_are_raised_once_even_with_two_sweepers(db: Db) {
    let w = world(db).await;
    let c = w
        .submit(&w.clerk, health_case(w.health_item, &["photo", "exam"]))
        .await;
    w.act(&w.health, c.id, accept()).await;
    // Due Thursday 03-19 17:30: yellow on Thursday morning, red on Friday.
    w.clock.set(at(3, 19, 10, 0));
    let (a, b) = tokio::join!(w.svc.sweep_cards(), w.svc.sweep_cards());
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(
        w.svc.get(&w.health, c.id).await.unwrap().case.card,
        Card::Yellow
    );
    w.clock.set(at(3, 20, 10, 0));
    assert_eq!(w.svc.sweep_cards().await.unwrap(), 1);
    assert_eq!(w.svc.sweep_cards().await.unwrap(), 0);
    let red = w
        .svc
        .list(
            &w.health,
            &CaseQuery {
                overdue: true,
                ..Default::default()
            },
            &first_page(),
        )
        .await
        .unwrap();
    assert_eq!(red.total, 1);
    assert_eq!(red.items[0].case.card, Card::Red);
}

async fn bad_form_input_names_the_field(db: Db) {
    let w = world(db).await;
    let mut bad = health_case(w.health_item, &[]);
    bad.form.insert("id_no".into(), json!("123"));
    let e = w.svc.submit(&w.clerk, bad).await.unwrap_err();
    assert_eq!(e.field_name(), Some("form.id_no"));
    // A form field repeating the applicant block must agree with it (left out, it is filled:
    // below, after checking that nothing refused was written).
    let mut other = health_case(w.health_item, &[]);
    other.form.insert(
        "id_no".into(),
        json!(kernel::codes::id_card_with_check("11010119800101001")),
    );
    let e = w.svc.submit(&w.clerk, other).await.unwrap_err();
    assert_eq!(e.field_name(), Some("form.id_no"));
    assert!(e.field_errors()[0].detail.contains("申请人"), "{e:?}");
    let mut bad = health_case(w.health_item, &[]);
    bad.applicant.phone = "12345".into();
    assert_eq!(
        w.svc.submit(&w.clerk, bad).await.unwrap_err().field_name(),
        Some("applicant.phone")
    );
    let mut bad = health_case(w.health_item, &[]);
    bad.form.insert("hobby".into(), json!("x"));
    assert_eq!(
        w.svc.submit(&w.clerk, bad).await.unwrap_err().field_name(),
        Some("form.hobby")
    );
    let mut bad = health_case(999, &[]);
    bad.item_id = 999;
    assert_eq!(
        w.svc.submit(&w.clerk, bad).await.unwrap_err().field_name(),
        Some("item_id")
    );
    // Only the applicant or the front desk submits.
    assert_eq!(
        error_code(
            w.svc
                .submit(&w.health, health_case(w.health_item, &[]))
                .await
        ),
        "forbidden"
    );
    assert_eq!(count(&w.db, "SELECT COUNT(*) FROM services_cases").await, 0);
    let mut once = health_case(w.health_item, &[]);
    once.form.remove("name");
    once.form.remove("id_no");
    once.form.remove("mobile");
    let c = w.submit(&w.clerk, once).await;
    assert_eq!(c.form["name"], c.applicant.name.as_str());
    assert_eq!(c.form["id_no"], c.applicant.id_no.as_str());
    assert_eq!(c.form["mobile"], c.applicant.phone.as_str());
}

async fn feedback_reaches_supervisors(db: Db) {
    let w = world(db).await;
    let f = w
        .svc
        .submit_feedback(NewFeedback {
            name: "赵六".into(),
            phone: "13600136000".into(),
            item_id: Some(w.stall_item),
            text: "摆摊备案窗口说要先办健康证，来回跑了三次".into(),
        })
        .await
        .unwrap();
    assert_eq!(f.dept_id, Some(w.market_dept));
    assert_eq!(
        error_code(w.svc.feedback_list(&w.health).await),
        "forbidden"
    );
    let list = w.svc.feedback_list(&w.supervisor).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].phone, kernel::mask::phone("13600136000"));
    let a = w
        .svc
        .answer_feedback(&w.supervisor, f.id, "已协调一件事窗口，一次办结")
        .await
        .unwrap();
    assert_eq!(a.status, FeedbackStatus::Answered);
    assert_eq!(
        error_code(w.svc.answer_feedback(&w.supervisor, f.id, "再答").await),
        "illegal_transition"
    );
    let e = w
        .svc
        .submit_feedback(NewFeedback {
            name: "".into(),
            phone: "1".into(),
            item_id: None,
            text: "x".into(),
        })
        .await
        .unwrap_err();
    let fields: Vec<&str> = e.field_errors().iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["name", "phone"]);
}
