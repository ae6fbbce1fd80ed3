//! Classification served from the database, routing rules, dispatch suggestions, automatic
//! dispatch and the dispatch report — on SQLite and PostgreSQL.

use hotline::domain::*;
use hotline::intel::dispatch::SuggestInput;
use hotline::intel::models::is_holdout;
use hotline::intel::routing::{AnswerCondition, AnswerOp, Conditions, DayKindCondition, RuleInput};
use hotline::service::{HotlineService, ImportRow, Reclassify};
use kernel::{Actor, Db, Role};
use org::{NewUser, OrgService};
use serde_json::{json, Map};
use std::collections::HashMap;

mod common;
use common::china_time as at;
use common::*;

testkit::on_both_backends!(migrations;
    rules_match_in_order_on_every_condition,
    impossible_rules_are_refused_and_conflicts_reported,
    reclassify_recomputes_the_suggestion,
    models_are_promoted_only_when_not_worse,
    auto_dispatch_above_the_threshold_and_returns_lower_accuracy,
    history_counts_returns_against_the_department,
    corrections_feed_the_next_training,
    bad_input_to_suggest_and_report_names_the_field,
);

struct W {
    db: Db,
    admin: Actor,
    centre: Centre,
    cat: HashMap<&'static str, i64>,
}
deref_to_centre!(W);

const TAXONOMY: &[(&str, &str)] = &[
    ("城乡建设", "供水"),
    ("城乡建设", "燃气"),
    ("交通运输", "公交线路"),
    ("生态环境", "噪声污染"),
];

async fn world(db: Db) -> W {
    let city = testkit::city::hotline_centre()
        .region("690102001000", "东湖街道")
        .region("690102001001", "幸福社区")
        .user("admin", "数据局", Role::SysAdmin);
    let (db, city) = built_at(db, monday(), city).await;
    let admin = city.actor("admin").clone();
    let svc = HotlineService::new(db.clone(), "A市");
    let rows: Vec<(String, String, String)> = TAXONOMY
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string(), String::new()))
        .collect();
    svc.import_taxonomy(&admin, &rows).await.unwrap();
    let mut cat = HashMap::new();
    for c in svc.categories().await.unwrap() {
        let key: &'static str = Box::leak(c.path.clone().into_boxed_str());
        cat.insert(key, c.id);
    }
    // 供水 asks how far the outage reaches.
    svc.set_questions(
        &admin,
        cat["城乡建设/供水"],
        vec![Question {
            code: "scope".into(),
            label: "影响范围".into(),
            kind: QuestionKind::Single,
            options: vec!["单户".into(), "整栋".into(), "片区".into()],
            required: false,
        }],
    )
    .await
    .unwrap();
    W {
        db,
        admin,
        centre: Centre::with_service(&city, svc),
        cat,
    }
}

impl W {
    /// The dispatcher moves ticket `id` to `category`, and to `region` when given.
    async fn reclassify(&self, id: i64, category: i64, region: Option<&str>) {
        let change = Reclassify {
            kind: None,
            urgency: None,
            category_id: Some(category),
            answers: None,
            region_code: region.map(str::to_owned),
            address: None,
        };
        self.svc
            .reclassify(&self.dispatcher, id, change)
            .await
            .unwrap();
    }

    /// The dispatcher adds routing rule `r`; the rule as saved.
    async fn add_rule(&self, r: RuleInput) -> hotline::intel::SavedRule {
        self.svc
            .create_routing_rule(&self.dispatcher, r)
            .await
            .unwrap()
    }

    /// The dispatcher puts the routing rules in the order `ids`; the rules afterwards.
    async fn reorder(&self, ids: Vec<i64>) -> hotline::intel::RuleList {
        let order = hotline::intel::Reorder { ids };
        self.svc
            .reorder_routing_rules(&self.dispatcher, order)
            .await
            .unwrap()
    }

    /// What the operator is suggested for `input`.
    async fn suggest(&self, input: &SuggestInput) -> hotline::intel::dispatch::Suggestion {
        self.svc.suggest(&self.operator, input).await.unwrap()
    }
}

/// `operator` takes `input` through `svc`; the ticket as created.
async fn created(svc: &HotlineService, operator: &Actor, input: NewTicket) -> Ticket {
    svc.create(operator, input).await.unwrap().ticket
}

fn rule(name: &str, dept: i64, conditions: Conditions) -> RuleInput {
    RuleInput {
        name: name.into(),
        enabled: true,
        conditions,
        main_dept_id: dept,
        co_dept_ids: vec![],
        valid_from: None,
        valid_until: None,
    }
}

fn cats(ids: &[i64]) -> Conditions {
    Conditions {
        category_ids: ids.to_vec(),
        ..Conditions::default()
    }
}

fn ask(content: &str) -> SuggestInput {
    SuggestInput {
        content: content.into(),
        ..SuggestInput::default()
    }
}

fn ask_in(category: i64, content: &str) -> SuggestInput {
    SuggestInput {
        category_id: Some(category),
        ..ask(content)
    }
}

/// The suggested department id.
async fn dept_for(w: &W, input: SuggestInput) -> Option<i64> {
    w.suggest(&input).await.department.map(|d| d.department_id)
}

fn new_ticket(title: &str, content: &str, category: Option<i64>) -> NewTicket {
    // 张三's phone complaint, from no particular address.
    NewTicket {
        caller_name: Some("张三".into()),
        caller_phone: Some("13800001111".into()),
        address: None,
        region_code: None,
        content: content.into(),
        category_id: category,
        ..call(title)
    }
}

async fn rules_match_in_order_on_every_condition(db: Db) {
    let w = world(db).await;
    let water = w.cat["城乡建设/供水"];
    let gas = w.cat["城乡建设/燃气"];
    let build = w.cat["城乡建设"];
    let noise = w.cat["生态环境/噪声污染"];
    let with_cat = |c: i64| ask_in(c, "反映情况");
    // No model yet: no categories, but rules apply.
    let a = w.add_rule(rule("供水归水务", w.z, cats(&[water]))).await;
    let b = w
        .add_rule(rule("城乡建设归住建", w.x, cats(&[build])))
        .await;
    assert!(a.warnings.is_empty() && b.warnings.is_empty(), "{b:?}");
    let s = w.suggest(&with_cat(water)).await;
    assert_eq!(s.model_version, None);
    assert!(s.categories.is_empty());
    let d = s.department.unwrap();
    assert_eq!(
        (d.department_id, d.source.as_str(), d.rule_id),
        (w.z, "rule", Some(a.rule.id))
    );
    assert!(d.reason.contains("供水归水务"), "{}", d.reason);
    // A rule on a level-1 category covers its children.
    assert_eq!(dept_for(&w, with_cat(gas)).await, Some(w.x));
    assert_eq!(dept_for(&w, with_cat(noise)).await, None);
    // First match wins: put the broad rule first and the narrow one is shadowed.
    let list = w.reorder(vec![b.rule.id, a.rule.id]).await;
    assert_eq!(dept_for(&w, with_cat(water)).await, Some(w.x));
    assert!(
        list.warnings
            .iter()
            .any(|x| x.rule_id == a.rule.id && x.code == "shadowed"),
        "{:?}",
        list.warnings
    );
    w.reorder(vec![a.rule.id, b.rule.id]).await;

    // Answers to the category's extra questions: a wide outage goes to 城管 with 水务 helping.
    let mut answered = rule(
        "片区停水",
        w.y,
        Conditions {
            category_ids: vec![water],
            answers: vec![AnswerCondition {
                code: "scope".into(),
                op: AnswerOp::OneOf,
                values: vec!["整栋".into(), "片区".into()],
            }],
            ..Conditions::default()
        },
    );
    answered.co_dept_ids = vec![w.z];
    let answered = w.add_rule(answered).await;
    // It is behind 供水归水务, which covers it: reported, then moved first.
    assert_eq!(answered.warnings.len(), 1, "{:?}", answered.warnings);
    assert_eq!(answered.warnings[0].code, "shadowed");
    w.reorder(vec![answered.rule.id, a.rule.id, b.rule.id])
        .await;
    let with_answer = |v: &str| {
        let mut m = Map::new();
        m.insert("scope".into(), json!(v));
        SuggestInput {
            answers: Some(m),
            ..with_cat(water)
        }
    };
    let s = w.suggest(&with_answer("片区")).await;
    let d = s.department.unwrap();
    assert_eq!(d.department_id, w.y);
    assert_eq!(d.co_handlers.len(), 1);
    assert_eq!(d.co_handlers[0].department_id, w.z);
    assert_eq!(d.co_handlers[0].name, "水务局");
    assert_eq!(dept_for(&w, with_answer("单户")).await, Some(w.z));

    // Region (a street covers its communities), kind and urgency, on the noise category.
    let street = w
        .add_rule(rule(
            "东湖街道噪声",
            w.y,
            Conditions {
                category_ids: vec![noise],
                region_codes: vec!["690102001000".into()],
                ..Conditions::default()
            },
        ))
        .await;
    assert!(street.warnings.is_empty(), "{:?}", street.warnings);
    let noise_in = |region: &str| SuggestInput {
        region_code: Some(region.into()),
        ..with_cat(noise)
    };
    assert_eq!(dept_for(&w, noise_in("690102001001")).await, Some(w.y));
    assert_eq!(dept_for(&w, noise_in("690103")).await, None);
    w.add_rule(rule(
        "紧急投诉",
        w.x,
        Conditions {
            kinds: vec![TicketKind::Complaint],
            urgencies: vec![Urgency::Urgent],
            ..Conditions::default()
        },
    ))
    .await;
    let urgent = |kind: &str, urgency: &str| SuggestInput {
        kind: Some(kind.into()),
        urgency: Some(urgency.into()),
        ..with_cat(noise)
    };
    assert_eq!(dept_for(&w, urgent("complaint", "urgent")).await, Some(w.x));
    assert_eq!(dept_for(&w, urgent("投诉", "紧急")).await, Some(w.x));
    assert_eq!(dept_for(&w, urgent("consult", "urgent")).await, None);
    assert_eq!(dept_for(&w, urgent("complaint", "normal")).await, None);

    // A drawn area: only tickets with coordinates inside it.
    w.add_rule(rule(
        "滨江网格",
        w.z,
        Conditions {
            category_ids: vec![noise],
            area: Some(vec![
                [113.0, 23.0],
                [113.1, 23.0],
                [113.1, 23.1],
                [113.0, 23.1],
            ]),
            ..Conditions::default()
        },
    ))
    .await;
    let at_point = |lon: f64, lat: f64| SuggestInput {
        lon: Some(lon),
        lat: Some(lat),
        ..with_cat(noise)
    };
    assert_eq!(dept_for(&w, at_point(113.05, 23.05)).await, Some(w.z));
    assert_eq!(dept_for(&w, at_point(113.15, 23.05)).await, None);
    assert_eq!(dept_for(&w, with_cat(noise)).await, None);

    // Time of day wrapping midnight, and non-working days (weekends and 法定节假日).
    let bus = w.cat["交通运输/公交线路"];
    w.add_rule(rule(
        "夜间公交",
        w.y,
        Conditions {
            category_ids: vec![bus],
            time_from: Some("22:00".into()),
            time_to: Some("06:00".into()),
            ..Conditions::default()
        },
    ))
    .await;
    w.add_rule(rule(
        "休息日公交",
        w.x,
        Conditions {
            category_ids: vec![bus],
            day_kind: Some(DayKindCondition::NonWorking),
            ..Conditions::default()
        },
    ))
    .await;
    let bus_now = |t: i64| {
        w.db.clock.set(t);
        with_cat(bus)
    };
    assert_eq!(
        dept_for(&w, bus_now(at(2026, 3, 16, 23, 30))).await,
        Some(w.y)
    );
    assert_eq!(
        dept_for(&w, bus_now(at(2026, 3, 17, 5, 59))).await,
        Some(w.y)
    );
    assert_eq!(dept_for(&w, bus_now(at(2026, 3, 17, 6, 0))).await, None);
    assert_eq!(
        dept_for(&w, bus_now(at(2026, 3, 21, 12, 0))).await,
        Some(w.x),
        "Saturday"
    );
    assert_eq!(
        dept_for(&w, bus_now(at(2026, 10, 1, 12, 0))).await,
        Some(w.x),
        "国庆节 (a Thursday)"
    );
    assert_eq!(
        dept_for(&w, bus_now(at(2026, 3, 18, 12, 0))).await,
        None,
        "Wednesday"
    );

    // Valid dates: a rule from April does not match in March; an ended one is reported.
    w.db.clock.set(monday());
    let mut later = rule("四月起", w.x, cats(&[w.cat["交通运输"]]));
    later.valid_from = Some("2026-04-01".into());
    w.add_rule(later).await;
    let mut ended = rule("已过期", w.z, cats(&[w.cat["交通运输"]]));
    ended.valid_until = Some("2026-03-01".into());
    let ended = w.add_rule(ended).await;
    assert!(
        ended.warnings.iter().any(|x| x.code == "expired"),
        "{:?}",
        ended.warnings
    );
    assert_eq!(dept_for(&w, with_cat(bus)).await, None);
    w.db.clock.set(at(2026, 4, 2, 10, 0));
    assert_eq!(dept_for(&w, with_cat(bus)).await, Some(w.x));
    // A disabled rule does not match.
    let list = w.svc.routing_rules(&w.operator).await.unwrap();
    let april = list.items.iter().find(|r| r.name == "四月起").unwrap();
    let mut off = rule("四月起", w.x, cats(&[w.cat["交通运输"]]));
    off.enabled = false;
    w.svc
        .update_routing_rule(&w.dispatcher, april.id, off)
        .await
        .unwrap();
    assert_eq!(dept_for(&w, with_cat(bus)).await, None);
}

async fn impossible_rules_are_refused_and_conflicts_reported(db: Db) {
    let w = world(db).await;
    let water = w.cat["城乡建设/供水"];
    let refused = |input: RuleInput| {
        let svc = w.svc.clone();
        let who = w.dispatcher.clone();
        async move {
            let e = svc.create_routing_rule(&who, input).await.unwrap_err();
            assert!(matches!(e, kernel::error::Error::Validation(_)), "{e:?}");
            (
                e.field_name().unwrap().to_string(),
                e.field_errors()[0].code.clone(),
            )
        }
    };
    let mut dates_reversed = rule("日期颠倒", w.z, cats(&[water]));
    dates_reversed.valid_from = Some("2026-05-01".into());
    dates_reversed.valid_until = Some("2026-04-01".into());
    let scope_is = |value: &str| {
        vec![AnswerCondition {
            code: "scope".into(),
            op: AnswerOp::Equals,
            values: vec![value.into()],
        }]
    };
    let cases = [
        (dates_reversed, "valid_until", "never_matches"),
        (
            rule(
                "空时段",
                w.z,
                Conditions {
                    time_from: Some("08:00".into()),
                    time_to: Some("08:00".into()),
                    ..cats(&[water])
                },
            ),
            "conditions.time_to",
            "never_matches",
        ),
        (
            rule(
                "外市",
                w.z,
                Conditions {
                    region_codes: vec!["110101".into()],
                    ..Conditions::default()
                },
            ),
            "conditions.region_codes[0]",
            "region_not_in_city",
        ),
        (
            rule("无此分类", w.z, cats(&[999_999])),
            "conditions.category_ids[0]",
            "category_not_found",
        ),
        (
            rule("无此单位", 999_999, cats(&[water])),
            "main_dept_id",
            "department_not_found",
        ),
        (
            rule(
                "线段",
                w.z,
                Conditions {
                    area: Some(vec![[113.0, 23.0], [113.1, 23.1]]),
                    ..Conditions::default()
                },
            ),
            "conditions.area",
            "not_a_polygon",
        ),
        (
            rule(
                "无分类问题",
                w.z,
                Conditions {
                    answers: scope_is("片区"),
                    ..Conditions::default()
                },
            ),
            "conditions.answers",
            "no_category",
        ),
        (
            rule(
                "非选项",
                w.z,
                Conditions {
                    answers: scope_is("全市"),
                    ..cats(&[water])
                },
            ),
            "conditions.answers[0].values",
            "never_matches",
        ),
    ];
    for (r, field, code) in cases {
        let name = r.name.clone();
        assert_eq!(
            refused(r).await,
            (field.to_string(), code.to_string()),
            "{name}"
        );
    }
    assert_eq!(
        refused(rule(" ", w.z, cats(&[water]))).await.0,
        "name".to_string()
    );
    // Nothing was written by the refused saves.
    assert!(w
        .svc
        .routing_rules(&w.operator)
        .await
        .unwrap()
        .items
        .is_empty());

    // Conflict: the same conditions, another department.
    let first = w.add_rule(rule("供水A", w.z, cats(&[water]))).await;
    let second = w.add_rule(rule("供水B", w.x, cats(&[water]))).await;
    assert_eq!(second.warnings.len(), 1);
    assert_eq!(second.warnings[0].code, "conflict");
    assert_eq!(second.warnings[0].rule_id, second.rule.id);
    assert_eq!(second.warnings[0].other_rule_id, Some(first.rule.id));
    assert!(
        second.warnings[0].message.contains("水务局"),
        "{}",
        second.warnings[0].message
    );
    // Reorder must list every rule once; only dispatchers and admins edit.
    let e = w
        .svc
        .reorder_routing_rules(
            &w.dispatcher,
            hotline::intel::Reorder {
                ids: vec![first.rule.id],
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.field_name(), Some("ids"));
    let e = w
        .svc
        .create_routing_rule(&w.operator, rule("话务员", w.z, cats(&[water])))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "forbidden");
    let e = w
        .svc
        .update_routing_rule(&w.dispatcher, 999_999, rule("无", w.z, cats(&[water])))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "not_found");
    w.svc
        .delete_routing_rule(&w.dispatcher, second.rule.id)
        .await
        .unwrap();
    let list = w.svc.routing_rules(&w.supervisor).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert!(list.warnings.is_empty());
    // Every change is in the audit chain.
    assert_audit_chain_intact(&w.db).await;
}

async fn reclassify_recomputes_the_suggestion(db: Db) {
    let w = world(db).await;
    let water = w.cat["城乡建设/供水"];
    let gas = w.cat["城乡建设/燃气"];
    w.add_rule(rule("供水", w.z, cats(&[water]))).await;
    w.add_rule(rule("燃气", w.y, cats(&[gas]))).await;
    w.add_rule(rule(
        "A2区",
        w.x,
        Conditions {
            region_codes: vec!["690103".into()],
            ..Conditions::default()
        },
    ))
    .await;
    let t = w
        .create(new_ticket("家里停水", "停水一天了", Some(water)))
        .await;
    // Auto-dispatch is off: the ticket waits, with its suggestion stored.
    assert_eq!(t.status, Status::Accepted);
    let s = w.svc.ticket_suggestion(&w.dispatcher, t.id).await.unwrap();
    assert_eq!(s.department.unwrap().department_id, w.z);
    assert!(!s.auto_dispatch);
    let stored = |id: i64| {
        let db = w.db.clone();
        async move {
            sqlx::query_scalar::<_, Option<i64>>(
                "SELECT dept_id FROM hotline_suggestions WHERE ticket_id = $1",
            )
            .bind(id)
            .fetch_one(db.pool())
            .await
            .unwrap()
        }
    };
    assert_eq!(stored(t.id).await, Some(w.z));
    w.reclassify(t.id, gas, None).await;
    assert_eq!(stored(t.id).await, Some(w.y), "recomputed on reclassify");
    let s = w.svc.ticket_suggestion(&w.operator, t.id).await.unwrap();
    assert_eq!(s.department.unwrap().department_id, w.y);
    // A change of place the stored suggestion has not seen yet is noticed when it is read.
    sqlx::query(
        "UPDATE hotline_tickets SET category_id = NULL, region_code = '690103' WHERE id = $1",
    )
    .bind(t.id)
    .execute(w.db.pool())
    .await
    .unwrap();
    let s = w.svc.ticket_suggestion(&w.operator, t.id).await.unwrap();
    assert_eq!(s.department.unwrap().department_id, w.x);
    assert_eq!(stored(t.id).await, Some(w.x));
    // Moved to where nothing applies: the stale suggestion is gone, not reported.
    w.reclassify(t.id, w.cat["生态环境/噪声污染"], Some("690102"))
        .await;
    let left: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM hotline_suggestions WHERE ticket_id = $1")
            .bind(t.id)
            .fetch_one(w.db.pool())
            .await
            .unwrap();
    assert_eq!(left, 0);
    assert!(w
        .svc
        .ticket_suggestion(&w.operator, t.id)
        .await
        .unwrap()
        .department
        .is_none());
    // Handlers do not see suggestions.
    let e = w.svc.ticket_suggestion(&w.hx, t.id).await.unwrap_err();
    assert_eq!(e.code(), "forbidden");
    let e = w
        .svc
        .ticket_suggestion(&w.operator, 999_999)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "not_found");
}

const PLACES: &[&str] = &[
    "幸福小区",
    "阳光花园",
    "东湖街道",
    "滨江路",
    "新华里",
    "翠湖苑",
];
const WORDS: &[(&str, &[&str])] = &[
    (
        "城乡建设/供水",
        &[
            "停水",
            "自来水发黄",
            "水压太低",
            "水管爆裂",
            "水表漏水",
            "供水中断",
        ],
    ),
    (
        "城乡建设/燃气",
        &[
            "燃气泄漏",
            "天然气味道",
            "燃气表故障",
            "煤气管道老化",
            "燃气费",
            "天然气停气",
        ],
    ),
    (
        "交通运输/公交线路",
        &[
            "公交车晚点",
            "公交线路调整",
            "公交站台",
            "公交司机",
            "公交班次太少",
            "末班公交",
        ],
    ),
    (
        "生态环境/噪声污染",
        &[
            "夜间施工噪音",
            "广场舞噪音",
            "工地噪声扰民",
            "酒吧噪音",
            "装修噪音",
            "噪声超标",
        ],
    ),
];

/// Historical closed tickets with their final category: five per place and class.
async fn import_history(w: &W) -> Vec<ImportRow> {
    let mut rows = Vec::new();
    let mut n = 0;
    for (path, words) in WORDS {
        for (i, place) in PLACES.iter().enumerate() {
            for j in 0..5 {
                n += 1;
                let word = words[(i + j) % words.len()];
                let other = words[(i + 2 * j + 1) % words.len()];
                let created = monday() - 86_400_000 * (n as i64 + 1);
                rows.push(ImportRow {
                    line: n + 1,
                    external_id: format!("hist:{n}"),
                    kind: TicketKind::Complaint,
                    title: format!("{place}{word}"),
                    content: format!("{place}最近{word}，还有{other}的问题，请尽快处理第{j}次反映"),
                    created_at: created,
                    category_id: Some(w.cat[path]),
                    reply: Some(("已处理".into(), created + 3_600_000)),
                    extra: Map::new(),
                });
            }
        }
    }
    w.svc.import_batch(&w.admin, "test", &rows).await.unwrap();
    rows
}

async fn models_are_promoted_only_when_not_worse(db: Db) {
    let w = world(db).await;
    // Too little to learn from.
    let e = w.svc.train_model(&w.admin, false).await.unwrap_err();
    assert_eq!(e.code(), "not_enough_data");
    import_history(&w).await;
    let e = w.svc.train_model(&w.dispatcher, false).await.unwrap_err();
    assert_eq!(e.code(), "forbidden");

    let first = w.svc.train_model(&w.admin, false).await.unwrap();
    assert!(first.activated, "{}", first.model.decision);
    assert_eq!(first.model.version, 1);
    let cand = first.candidate.clone().unwrap();
    assert!(cand.n > 0 && cand.macro_f1 > 0.8, "{cand:?}");
    assert_eq!(first.model.n_holdout as usize, cand.n);

    // Served: the predicted category, deeper levels, and the telling words.
    let s = w.suggest(&ask("我们小区又停水了，自来水发黄")).await;
    assert_eq!(s.model_version, Some(1));
    assert_eq!(s.categories[0].category_id, w.cat["城乡建设/供水"], "{s:?}");
    assert_eq!(s.categories[0].path, "城乡建设 / 供水");
    // Other guesses only when worth a look (none that would read as 0–4%), less likely first.
    assert!((1..=3).contains(&s.categories.len()), "{s:?}");
    assert!(
        s.categories[1..].iter().all(|c| c.probability >= 0.05),
        "{s:?}"
    );
    assert!(s
        .categories
        .windows(2)
        .all(|w| w[0].probability > w[1].probability));
    assert!(!s.explanation.is_empty());

    // The same data again: not worse, so it becomes active and serving follows.
    let second = w.svc.train_model(&w.admin, false).await.unwrap();
    assert!(second.activated, "{}", second.model.decision);
    assert_eq!(second.previous.as_ref().unwrap().0, 1);
    let s = w.suggest(&ask("燃气泄漏")).await;
    assert_eq!(s.model_version, Some(2));

    // Training labels scrambled (held-out ones kept): the candidate is worse and refused.
    let ids: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, category_id FROM hotline_tickets WHERE category_id IS NOT NULL ORDER BY id",
    )
    .fetch_all(w.db.pool())
    .await
    .unwrap();
    let order: Vec<i64> = WORDS.iter().map(|(p, _)| w.cat[p]).collect();
    for (id, c) in ids {
        if is_holdout(id) {
            continue;
        }
        let k = order.iter().position(|x| *x == c).unwrap();
        sqlx::query("UPDATE hotline_tickets SET category_id = $1 WHERE id = $2")
            .bind(order[(k + 1) % order.len()])
            .bind(id)
            .execute(w.db.pool())
            .await
            .unwrap();
    }
    let third = w.svc.train_model(&w.admin, false).await.unwrap();
    assert!(!third.activated);
    assert!(
        third.model.decision.contains("未启用"),
        "{}",
        third.model.decision
    );
    assert!(!third.model.active);
    let models = w.svc.models(&w.supervisor).await.unwrap();
    assert_eq!(models.len(), 3);
    assert_eq!(
        models
            .iter()
            .filter(|m| m.active)
            .map(|m| m.version)
            .collect::<Vec<_>>(),
        vec![2]
    );
    assert_eq!(w.suggest(&ask("停水")).await.model_version, Some(2));
    // An admin may force a worse candidate; the reason is kept and serving follows at once.
    let forced = w.svc.train_model(&w.admin, true).await.unwrap();
    assert!(forced.activated);
    assert_eq!(forced.model.version, 4);
    assert!(
        forced.model.decision.contains("强制"),
        "{}",
        forced.model.decision
    );
    let water_text = ask("我们小区又停水了，自来水发黄");
    let s = w.suggest(&water_text).await;
    assert_eq!(s.model_version, Some(4));
    assert_eq!(
        s.categories[0].category_id, w.cat["城乡建设/燃气"],
        "scrambled model serves"
    );
    // And roll back to a stored version.
    w.svc.activate_model(&w.admin, 2).await.unwrap();
    let s = w.suggest(&water_text).await;
    assert_eq!(s.model_version, Some(2));
    assert_eq!(s.categories[0].category_id, w.cat["城乡建设/供水"]);
    let e = w.svc.activate_model(&w.admin, 99).await.unwrap_err();
    assert_eq!(e.code(), "not_found");
    let e = w.svc.activate_model(&w.dispatcher, 1).await.unwrap_err();
    assert_eq!(e.code(), "forbidden");
}

async fn auto_dispatch_above_the_threshold_and_returns_lower_accuracy(db: Db) {
    let w = world(db).await;
    let water = w.cat["城乡建设/供水"];
    let gas = w.cat["城乡建设/燃气"];
    w.add_rule(rule("供水", w.z, cats(&[water]))).await;
    let water_cut = |title: &str| new_ticket(title, "停水了", Some(water));
    let auto = w.svc.clone().with_auto_dispatch_threshold(0.9);
    let strict = w.svc.clone().with_auto_dispatch_threshold(0.99);
    let t1 = created(&auto, &w.operator, water_cut("停水")).await;
    assert_eq!(t1.status, Status::Dispatched);
    assert_eq!(t1.main_dept_id, Some(w.z));
    let tl = auto.timeline(&w.dispatcher, t1.id).await.unwrap();
    let d = tl.iter().find(|e| e.action == "dispatch").unwrap();
    assert_eq!(d.actor, "system");
    assert_eq!(d.actor_name, "自动派单");
    assert_eq!(d.data["automatic"], json!(true));
    assert!(d.note.as_deref().unwrap().contains("供水"), "{:?}", d.note);
    let t2 = created(&auto, &w.operator, water_cut("又停水")).await;
    assert_eq!(t2.status, Status::Dispatched);
    // Below the threshold, or nothing to suggest: it waits for a dispatcher.
    let t3 = created(&strict, &w.operator, water_cut("停水")).await;
    assert_eq!(t3.status, Status::Accepted);
    assert!(
        !strict
            .ticket_suggestion(&w.operator, t3.id)
            .await
            .unwrap()
            .auto_dispatch
    );
    let t4 = created(&auto, &w.operator, new_ticket("燃气", "燃气味", Some(gas))).await;
    assert_eq!(t4.status, Status::Accepted);
    // Not accepted yet (waits for a person): not dispatched automatically.
    let mut pending = water_cut("停水");
    pending.accept = false;
    let t5 = created(&auto, &w.operator, pending).await;
    assert_eq!(t5.status, Status::Created);

    // Dispatchers: t3 as suggested (水务局), t4 had no suggestion; t5 elsewhere than suggested.
    for (id, dept) in [(t3.id, w.z), (t4.id, w.x), (t5.id, w.x)] {
        w.svc
            .act(&w.dispatcher, id, Action::SubmitForDispatch)
            .await
            .ok();
        w.act(
            &w.dispatcher,
            id,
            Action::Dispatch {
                main_dept_id: dept,
                co_dept_ids: vec![],
            },
        )
        .await;
    }
    // The dispatch report of Monday 16 March, as the supervisor reads it.
    let monday_report = || async {
        let r = w
            .svc
            .dispatch_report(&w.supervisor, "2026-03-16", "2026-03-16");
        r.await.unwrap()
    };
    let r = monday_report().await;
    assert_eq!(
        (r.dispatched, r.auto_dispatched, r.auto_returned),
        (5, 2, 0)
    );
    assert_eq!(r.auto_rate, Some(0.4));
    assert_eq!(r.auto_accuracy, Some(1.0));
    assert_eq!((r.manual_with_suggestion, r.agreed), (2, 1));
    assert_eq!(r.agreement, Some(0.5));

    // 水务局 returns one automatic dispatch: accuracy falls to a half.
    let org = OrgService::new(w.db.clone(), kernel::config::AuthConfig::default());
    let hz = org
        .create_user(
            &Actor::cli(),
            NewUser {
                username: "hz_other".into(),
                display_name: "hz".into(),
                password: "Abc@12345x".into(),
                dept_id: Some(w.z),
                roles: vec![Role::Handler],
                phone: None,
                id_card: None,
            },
        )
        .await
        .unwrap();
    let hz = org.actor_of_user(hz.id).await.unwrap();
    w.db.clock.advance(3_600_000);
    w.act(
        &hz,
        t1.id,
        Action::Return {
            reason: "不属于本单位职责".into(),
        },
    )
    .await;
    let r = monday_report().await;
    assert_eq!((r.auto_dispatched, r.auto_returned), (2, 1));
    assert_eq!(r.auto_accuracy, Some(0.5));
    // The monthly report carries the same figures in its own section.
    let march = hotline::report::Period::parse("2026-03").unwrap();
    let docx = hotline::report::monthly_docx(&w.db, &w.supervisor, &march, "A市")
        .await
        .unwrap();
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(docx)).unwrap();
    let mut doc = String::new();
    std::io::Read::read_to_string(&mut z.by_name("word/document.xml").unwrap(), &mut doc).unwrap();
    assert!(doc.contains("八、智能派单"), "{doc}");
    assert!(
        doc.contains("首次派单5件，其中按派单建议自动派单2件，被承办单位退回1件"),
        "{doc}"
    );
    assert!(doc.contains("50.00%"), "{doc}");
    // Another period has nothing.
    let r = w
        .svc
        .dispatch_report(&w.supervisor, "2026-03-17", "2026-03-31")
        .await
        .unwrap();
    assert_eq!((r.dispatched, r.auto_rate), (0, None));
    // Corrections and returns were recorded for training.
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM hotline_dispatch_feedback ORDER BY id")
            .fetch_all(w.db.pool())
            .await
            .unwrap();
    assert_eq!(kinds, vec!["department".to_string(), "return".to_string()]);
    let e = w
        .svc
        .dispatch_report(&w.hx, "2026-03-16", "2026-03-16")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "forbidden");
}

async fn history_counts_returns_against_the_department(db: Db) {
    let w = world(db).await;
    let gas = w.cat["城乡建设/燃气"];
    let org = OrgService::new(w.db.clone(), kernel::config::AuthConfig::default());
    let mut dispatched = Vec::new();
    // 3 燃气 tickets to 住建局, 2 to 城管局, no rule.
    for dept in [w.x, w.x, w.x, w.y, w.y] {
        let t = w
            .create(new_ticket("燃气味", "楼道燃气味", Some(gas)))
            .await;
        w.act(&w.dispatcher, t.id, Action::SubmitForDispatch).await;
        w.act(
            &w.dispatcher,
            t.id,
            Action::Dispatch {
                main_dept_id: dept,
                co_dept_ids: vec![],
            },
        )
        .await;
        dispatched.push((t.id, dept));
    }
    let s = w.suggest(&ask_in(gas, "燃气味")).await;
    let d = s.department.unwrap();
    assert_eq!((d.department_id, d.source.as_str()), (w.x, "history"));
    // The confidence agrees with the reason's 3 of 5 (smoothed: 4/7), not far below it.
    assert!(
        d.reason.contains("近 5 件中有 3 次派给住建局"),
        "{}",
        d.reason
    );
    assert!(
        d.confidence > 0.5 && d.confidence < 0.65,
        "{}",
        d.confidence
    );
    // 住建局 returns all three: the history now points to 城管局.
    for (id, dept) in &dispatched {
        if *dept == w.x {
            w.act(
                &w.hx,
                *id,
                Action::Return {
                    reason: "燃气归城管".into(),
                },
            )
            .await;
        }
    }
    let _ = org;
    let s = w.suggest(&ask_in(gas, "燃气味")).await;
    let d = s.department.unwrap();
    assert_eq!(d.department_id, w.y, "{d:?}");
    // A level-1 history serves its other children when they have none of their own.
    let none = w.cat["城乡建设/供水"];
    let s = w.suggest(&ask_in(none, "停水")).await;
    assert_eq!(s.department.unwrap().department_id, w.y);
}

async fn corrections_feed_the_next_training(db: Db) {
    let w = world(db).await;
    let water = w.cat["城乡建设/供水"];
    let gas = w.cat["城乡建设/燃气"];
    let wrong = w
        .create(new_ticket("燃气泄漏", "厨房燃气泄漏有味道", Some(water)))
        .await;
    let open = w
        .create(new_ticket("公交晚点", "公交车总是晚点", None))
        .await;
    let set = w.svc.training_set(&w.admin).await.unwrap();
    assert!(set.labeled.is_empty(), "open tickets are not labels yet");
    assert_eq!(set.unlabeled.len(), 2);
    assert!(set
        .taxonomy
        .iter()
        .any(|t| t.0 == "城乡建设" && t.1 == "供水"));
    assert!(set.user_words.iter().any(|x| x == "幸福社区"));
    assert!(set.user_words.iter().any(|x| x == "水务局"));
    // The dispatcher corrects the category: it trains with the corrected one at once.
    w.reclassify(wrong.id, gas, None).await;
    let set = w.svc.training_set(&w.admin).await.unwrap();
    assert_eq!(set.labeled.len(), 1);
    assert_eq!(set.labeled[0].0, wrong.id);
    assert_eq!(set.labeled[0].2, "城乡建设/燃气");
    assert!(set.labeled[0].1.contains("燃气泄漏"));
    assert!(!set.labeled.iter().any(|l| l.0 == open.id));
    let feedback: Vec<(String, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT kind, before_id, after_id FROM hotline_dispatch_feedback WHERE ticket_id = $1",
    )
    .bind(wrong.id)
    .fetch_all(w.db.pool())
    .await
    .unwrap();
    assert_eq!(feedback, vec![("category".into(), Some(water), Some(gas))]);
    let e = w.svc.training_set(&w.operator).await.unwrap_err();
    assert_eq!(e.code(), "forbidden");
}

async fn bad_input_to_suggest_and_report_names_the_field(db: Db) {
    let w = world(db).await;
    let bad = |input: SuggestInput| {
        let svc = w.svc.clone();
        let who = w.operator.clone();
        async move {
            let e = svc.suggest(&who, &input).await.unwrap_err();
            assert!(matches!(e, kernel::error::Error::Validation(_)), "{e:?}");
            e.field_name().unwrap().to_string()
        }
    };
    let cases = [
        (ask("  "), "content"),
        (
            SuggestInput {
                kind: Some("吐槽".into()),
                ..ask("内容")
            },
            "kind",
        ),
        (
            SuggestInput {
                urgency: Some("very".into()),
                ..ask("内容")
            },
            "urgency",
        ),
        (
            SuggestInput {
                lat: Some(23.0),
                ..ask("内容")
            },
            "lon",
        ),
        (
            SuggestInput {
                lat: Some(123.0),
                lon: Some(113.0),
                ..ask("内容")
            },
            "lat",
        ),
        (
            SuggestInput {
                region_code: Some("12345".into()),
                ..ask("内容")
            },
            "region_code",
        ),
        (ask_in(999_999, "内容"), "category_id"),
    ];
    for (input, field) in cases {
        assert_eq!(bad(input).await, field);
    }
    let e = w.svc.suggest(&w.hx, &ask("内容")).await.unwrap_err();
    assert_eq!(e.code(), "forbidden");
    for (from, to, field) in [
        ("", "2026-03-01", "from"),
        ("2026-03-01", "", "to"),
        ("2026/03/01", "2026-03-02", "from"),
        ("2026-03-05", "2026-03-01", "to"),
    ] {
        let e = w
            .svc
            .dispatch_report(&w.supervisor, from, to)
            .await
            .unwrap_err();
        assert_eq!(e.field_name(), Some(field), "{from}..{to}");
    }
}
