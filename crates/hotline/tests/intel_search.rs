//! Knowledge-base search and Q&A, duplicate suggestions, hot issues from the database and
//! weak-signal alerts — on SQLite and PostgreSQL, through the services and over HTTP.

use hotline::alerts::{self, AlertService};
use hotline::domain::*;
use hotline::search::{DuplicateRequest, DuplicateResult, HotspotQuery, SearchService};
use hotline::service::HotlineService;
use kernel::{Actor, Db, Role};
use serde_json::{json, Value};

mod common;
use common::*;

testkit::on_both_backends!(migrations;
    kb_search_finds_rewordings_and_sub_words_and_follows_publishing,
    qa_answers_or_says_it_has_no_answer,
    duplicates_are_robust_to_rewording_and_kept_to_place_window_and_scope,
    hotspots_over_a_period,
    alerts_find_the_burst_and_are_raised_once,
    bad_input_names_the_field_over_http,
);

const DAY: i64 = 86_400_000;

struct W {
    db: Db,
    svc: HotlineService,
    search: SearchService,
    operator: Actor,
    /// An operator of another district (A2区): sees none of A1区's tickets.
    operator_a2: Actor,
    dispatcher: Actor,
    supervisor: Actor,
    analyst: Actor,
    handler: Actor,
}

const GUIHUA: &str = "690102001001";
const HEHUA: &str = "690102001002";

async fn world(db: Db) -> W {
    let city = testkit::city::empty()
        .region("690102001000", "桂花街道")
        .region(GUIHUA, "桂花社区")
        .region(HEHUA, "荷花社区")
        .dept("数据局", "690102")
        .dept("A2区热线分中心", "690103")
        .dept("住建局", "690102")
        .user("operator", "数据局", Role::Operator)
        .user("operator_a2", "A2区热线分中心", Role::Operator)
        .user("dispatcher", "数据局", Role::Dispatcher)
        .user("supervisor", "数据局", Role::Supervisor)
        .user("analyst", "数据局", Role::Analyst)
        .user("handler", "住建局", Role::Handler);
    let (db, city) = built_at(db, monday(), city).await;
    let user = |u: &str| city.actor(u).clone();
    W {
        svc: HotlineService::new(db.clone(), "A市"),
        search: SearchService::new(db.clone()),
        operator: user("operator"),
        operator_a2: user("operator_a2"),
        dispatcher: user("dispatcher"),
        supervisor: user("supervisor"),
        analyst: user("analyst"),
        handler: user("handler"),
        db,
    }
}

impl W {
    /// The operator takes `input`; the ticket as created.
    async fn create(&self, input: NewTicket) -> Ticket {
        self.svc.create(&self.operator, input).await.unwrap().ticket
    }
}

fn call(title: &str, content: &str, region: &str, phone: &str) -> NewTicket {
    serde_json::from_value(json!({
        "channel": "phone", "kind": "complaint", "caller_name": "李四", "caller_phone": phone,
        "title": title, "content": content, "region_code": region, "accept": true,
    }))
    .unwrap()
}

async fn article(w: &W, q: &str, a: &str, publish: bool) -> i64 {
    let id = w
        .svc
        .save_article(
            &w.operator,
            None,
            ArticleInput {
                question: q.into(),
                answer: a.into(),
                category_id: None,
                dept_id: None,
                valid_from: None,
                valid_until: None,
            },
        )
        .await
        .unwrap()
        .id;
    if publish {
        for act in [ArticleAction::Review, ArticleAction::Publish] {
            w.svc.article_action(&w.supervisor, id, act).await.unwrap();
        }
    }
    id
}

async fn kb(w: &W) -> (i64, i64, i64, i64) {
    let fund = article(
        w,
        "如何提取住房公积金",
        "职工购买、建造、翻建自住住房，或偿还购房贷款本息，可凭购房合同、身份证到市住房公积金管理中心柜台或网上服务大厅申请提取，审核通过后三个工作日内到账。",
        true,
    )
    .await;
    let baby = article(
        w,
        "新生儿如何办理医保参保登记",
        "新生儿出生后三个月内，由监护人持出生医学证明和户口簿到社区服务中心或通过医保公众号办理城乡居民医疗保险参保登记，自出生之日起享受待遇。",
        true,
    )
    .await;
    let noise = article(
        w,
        "夜间施工噪音扰民向哪个部门反映",
        "建筑工地夜间施工噪音由生态环境部门负责查处；商业经营场所噪音由市场监管部门处理；社会生活噪音可报警由公安机关处理。",
        true,
    )
    .await;
    let draft = article(
        w,
        "公积金贷款额度怎么计算",
        "贷款额度按缴存余额倍数计算，草稿尚未审核。",
        false,
    )
    .await;
    (fund, baby, noise, draft)
}

fn ids(r: &hotline::search::KbSearchResult) -> Vec<i64> {
    r.items.iter().map(|i| i.article_id).collect()
}

async fn kb_search_finds_rewordings_and_sub_words_and_follows_publishing(db: Db) {
    let w = world(db).await;
    let (fund, baby, _noise, draft) = kb(&w).await;
    let s = &w.search;
    // Reworded: none of the title's phrasing, the same meaning.
    let r = s
        .kb_search(&w.operator, "公积金怎么取出来", 5)
        .await
        .unwrap();
    assert_eq!(ids(&r).first(), Some(&fund), "{r:?}");
    assert!(r.items[0].snippet.contains("公积金"), "{r:?}");
    assert!(r.items[0].score > 0.0);
    assert!(r.took_ms >= 0.0);
    // A sub-word of an indexed word, and traditional characters.
    let r = s.kb_search(&w.operator, "公积", 5).await.unwrap();
    assert!(ids(&r).contains(&fund), "sub-word: {r:?}");
    let r = s.kb_search(&w.operator, "醫保參保", 5).await.unwrap();
    assert_eq!(ids(&r).first(), Some(&baby), "traditional: {r:?}");
    // A draft never appears, even for its own words.
    let r = s.kb_search(&w.operator, "公积金贷款额度", 5).await.unwrap();
    assert!(!ids(&r).contains(&draft), "{r:?}");
    // Withdrawn: gone at once (the change counter makes the index rebuild).
    w.svc
        .article_action(&w.supervisor, fund, ArticleAction::Withdraw)
        .await
        .unwrap();
    let r = s.kb_search(&w.operator, "公积金", 5).await.unwrap();
    assert!(!ids(&r).contains(&fund), "withdrawn still found: {r:?}");
    // Published later: found at once.
    for act in [ArticleAction::Review, ArticleAction::Publish] {
        w.svc
            .article_action(&w.supervisor, draft, act)
            .await
            .unwrap();
    }
    let r = s.kb_search(&w.operator, "公积金贷款额度", 5).await.unwrap();
    assert_eq!(ids(&r).first(), Some(&draft), "{r:?}");
    // Limit and access.
    let r = s.kb_search(&w.operator, "办理", 1).await.unwrap();
    assert!(r.items.len() <= 1);
    let citizen = Actor {
        roles: vec![Role::Citizen],
        scope: kernel::Scope::Own,
        ..w.operator.clone()
    };
    let e = s.kb_search(&citizen, "公积金", 5).await.unwrap_err();
    assert_eq!(e.code(), "forbidden");
    let e = s.kb_search(&w.operator, "  ", 5).await.unwrap_err();
    assert_eq!(e.field_name(), Some("q"));
    let e = s.kb_search(&w.operator, "公积金", 0).await.unwrap_err();
    assert_eq!(e.field_name(), Some("limit"));
}

async fn qa_answers_or_says_it_has_no_answer(db: Db) {
    let w = world(db).await;
    let (_fund, baby, _noise, draft) = kb(&w).await;
    let r = w
        .search
        .qa("孩子刚出生，医保参保登记怎么办？")
        .await
        .unwrap();
    assert!(!r.no_answer, "{r:?}");
    assert_eq!(r.answers[0].article_id, baby);
    assert!((0.0..=1.0).contains(&r.answers[0].score), "{r:?}");
    assert!(r.answers[0].answer.contains("出生医学证明"));
    // Unrelated: nothing in the knowledge base is about the weather or football.
    let r = w.search.qa("明天会下雨吗，足球比赛几点开始").await.unwrap();
    assert!(r.no_answer, "{r:?}");
    assert!(r.answers.is_empty());
    // Sharing one common word ("办理") with an article is not an answer.
    let r = w.search.qa("足球比赛门票在哪里办理").await.unwrap();
    assert!(r.no_answer, "{r:?}");
    // The draft's question gets no answer from the draft.
    let r = w.search.qa("公积金贷款额度怎么计算").await.unwrap();
    assert!(r.answers.iter().all(|a| a.article_id != draft), "{r:?}");
    // Empty and oversized questions name the field.
    let e = w.search.qa(" ").await.unwrap_err();
    assert_eq!((e.code(), e.field_name()), ("required", Some("question")));
    let e = w.search.qa(&"问".repeat(501)).await.unwrap_err();
    assert_eq!(e.field_name(), Some("question"));
    // The threshold is a setting: raised above 1, nothing is ever good enough.
    sqlx::query("UPDATE hotline_intel_settings SET qa_min_score = 1.01 WHERE id = 1")
        .execute(w.db.pool())
        .await
        .unwrap();
    let r = w.search.qa("新生儿如何办理医保参保登记").await.unwrap();
    assert!(r.no_answer);
}

const GARBAGE_TITLE: &str = "桂花苑小区门口垃圾堆积";
const GARBAGE: &str = "桂花苑小区东门垃圾桶满了好几天没人清运，臭味很大，苍蝇很多，请尽快处理。";

async fn duplicates_are_robust_to_rewording_and_kept_to_place_window_and_scope(db: Db) {
    let w = world(db).await;
    let now = monday();
    // Twenty days ago, same issue same place: outside the 14-day window.
    w.db.clock.set(now - 20 * DAY);
    let old = w
        .create(call(GARBAGE_TITLE, GARBAGE, GUIHUA, "13900000001"))
        .await;
    w.db.clock.set(now - 2 * DAY);
    let first = w
        .create(call(GARBAGE_TITLE, GARBAGE, GUIHUA, "13900000002"))
        .await;
    // Same words, another community; and another issue in the same community.
    let elsewhere = w
        .create(call(GARBAGE_TITLE, GARBAGE, HEHUA, "13900000003"))
        .await;
    let other = w
        .create(call(
            "桂花苑小区路灯不亮",
            "桂花苑小区三栋门前路灯坏了一个月，晚上出行不安全。",
            GUIHUA,
            "13900000004",
        ))
        .await;
    w.db.clock.set(now);
    // Reworded by another caller.
    let req = DuplicateRequest {
        title: Some("垃圾没人收".into()),
        content: "桂花苑东门那边的垃圾桶已经好几天没有清运了，满地垃圾，又臭又招苍蝇".into(),
        region_code: Some(GUIHUA.into()),
        phone: Some("13900000009".into()),
        ..Default::default()
    };
    let r = w.search.duplicates(&w.operator, &req).await.unwrap();
    let got: Vec<i64> = r.candidates.iter().map(|c| c.ticket_id).collect();
    assert_eq!(got, vec![first.id], "{r:?}");
    let c = &r.candidates[0];
    assert_eq!(c.number, first.number);
    assert_eq!(c.status, "accepted");
    assert!(c.similarity > 0.35 && c.similarity <= 1.0, "{c:?}");
    assert_eq!(c.callers, 1);
    assert!(!got.contains(&old.id) && !got.contains(&elsewhere.id) && !got.contains(&other.id));
    // Scope: an operator of another district sees none of these tickets.
    let r = w.search.duplicates(&w.operator_a2, &req).await.unwrap();
    assert!(r.candidates.is_empty(), "{r:?}");
    // Registering the reworded call stores the suggestion; the ticket view shows it.
    let mut again = call("垃圾没人收", &req.content, GUIHUA, "13900000009");
    again.accept = true;
    let second = w.create(again).await;
    let d = w
        .search
        .ticket_duplicates(&w.dispatcher, second.id)
        .await
        .unwrap();
    assert_eq!(
        d.suggested.as_ref().map(|c| c.ticket_id),
        Some(first.id),
        "{d:?}"
    );
    assert_eq!(d.callers, 1);
    // Merged children count as callers of the parent: two more phones, one repeated.
    let third = w
        .create(call(GARBAGE_TITLE, GARBAGE, GUIHUA, "13900000002"))
        .await;
    w.svc
        .merge(&w.dispatcher, first.id, &[second.id, third.id])
        .await
        .unwrap();
    let d = w
        .search
        .ticket_duplicates(&w.dispatcher, first.id)
        .await
        .unwrap();
    assert_eq!(d.callers, 2, "13900000002 twice and 13900000009: {d:?}");
    let r = w.search.duplicates(&w.operator, &req).await.unwrap();
    assert_eq!(r.candidates[0].callers, 2);
    // The ticket endpoint keeps to the data scope.
    for outsider in [&w.operator_a2, &w.handler] {
        let e = w.search.ticket_duplicates(outsider, first.id).await;
        assert_eq!(e.unwrap_err().code(), "forbidden");
    }
    // Another server on the same database: what it takes in is found here, and a candidate it
    // merges away is offered no more (the index here proposes, the table decides).
    let elsewhere_server = Db::connect_with(w.db.url(), w.db.clock.clone())
        .await
        .unwrap()
        .with_sealer(w.db.sealer().clone());
    let svc2 = hotline::service(elsewhere_server, "A市", 0.0);
    let lamp = |phone: &str| {
        call(
            "荷花社区路灯不亮",
            "荷花社区五栋门前的路灯坏了两个星期，晚上出行不安全。",
            HEHUA,
            phone,
        )
    };
    let lamp1 = svc2
        .create(&w.operator, lamp("13900000021"))
        .await
        .unwrap()
        .ticket;
    let lamp2 = svc2
        .create(&w.operator, lamp("13900000022"))
        .await
        .unwrap()
        .ticket;
    let lamp_req = DuplicateRequest {
        title: Some("路灯坏了".into()),
        content: "荷花社区五栋门前路灯坏了，晚上黑乎乎的不安全".into(),
        region_code: Some(HEHUA.into()),
        ..Default::default()
    };
    let ids = |r: &DuplicateResult| {
        let mut v: Vec<i64> = r.candidates.iter().map(|c| c.ticket_id).collect();
        v.sort();
        v
    };
    let r = w.search.duplicates(&w.operator, &lamp_req).await.unwrap();
    assert_eq!(ids(&r), vec![lamp1.id, lamp2.id], "{r:?}");
    svc2.merge(&w.dispatcher, lamp1.id, &[lamp2.id])
        .await
        .unwrap();
    let r = w.search.duplicates(&w.operator, &lamp_req).await.unwrap();
    assert_eq!(ids(&r), vec![lamp1.id], "{r:?}");
}

async fn hotspots_over_a_period(db: Db) {
    let w = world(db).await;
    let now = monday();
    let texts = [
        "魅力之城小区楼下餐馆油烟直排，家里窗户都不敢开",
        "魅力之城小区临街饭店油烟太大，熏得没法开窗",
        "反映魅力之城小区一楼餐饮店油烟扰民问题",
        "魅力之城小区底商烧烤店油烟和噪音严重扰民",
        "魅力之城小区楼下饭馆排放油烟，呛得人难受",
        "魅力之城小区餐馆油烟直排进居民家中",
    ];
    let mut cluster = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        w.db.clock.set(now - (6 - i as i64) * DAY);
        let t = w
            .create(call("餐馆油烟扰民", t, GUIHUA, &format!("1380000000{i}")))
            .await;
        cluster.push((t.id, t.number));
    }
    for (i, t) in [
        "幸福路自来水管爆裂，路面积水严重",
        "想咨询一下社保卡丢失怎么补办",
        "公交站台广告牌松动有掉落危险",
    ]
    .iter()
    .enumerate()
    {
        w.db.clock.set(now - (5 - i as i64) * DAY);
        w.svc
            .create(
                &w.operator,
                call("其他", t, HEHUA, &format!("1370000000{i}")),
            )
            .await
            .unwrap();
    }
    w.db.clock.set(now);
    let q = |from: &str, to: &str| HotspotQuery {
        from: Some(from.into()),
        to: Some(to.into()),
        top: Some(5),
        region: None,
    };
    let hot = w
        .search
        .hotspots(&w.supervisor, &q("2026-03-09", "2026-03-16"))
        .await
        .unwrap();
    assert!(!hot.is_empty(), "no hot issue");
    let top = &hot[0];
    assert_eq!(top.rank, 1);
    assert!(top.heat > 0.0);
    let want: Vec<i64> = cluster.iter().map(|c| c.0).collect();
    let mut got = top.ticket_ids.clone();
    got.sort();
    assert!(
        want.iter().filter(|i| got.contains(i)).count() >= 5,
        "{hot:?}"
    );
    assert!(got.iter().all(|i| want.contains(i)), "{hot:?}");
    for (id, no) in top.ticket_ids.iter().zip(&top.ticket_numbers) {
        assert_eq!(&cluster.iter().find(|c| c.0 == *id).unwrap().1, no);
    }
    assert!(top.title.contains("油烟"), "{top:?}");
    assert!(top.time_from.starts_with("2026-03-1"), "{top:?}");
    // A period before any ticket, another district's region filter, and scope.
    let none = w
        .search
        .hotspots(&w.supervisor, &q("2026-01-01", "2026-01-31"))
        .await
        .unwrap();
    assert!(none.is_empty());
    let mut other = q("2026-03-09", "2026-03-16");
    other.region = Some("690103".into());
    assert!(w
        .search
        .hotspots(&w.supervisor, &other)
        .await
        .unwrap()
        .is_empty());
    let scoped = w
        .search
        .hotspots(&w.operator_a2, &q("2026-03-09", "2026-03-16"))
        .await
        .unwrap();
    assert!(scoped.is_empty(), "{scoped:?}");
    // The monthly report has the section, with the same top issue.
    let march = hotline::report::Period::parse("2026-03").unwrap();
    let doc = document_xml(
        &hotline::report::monthly_docx(&w.db, &w.supervisor, &march, "A市")
            .await
            .unwrap(),
    );
    let at = doc.find("七、热点问题").expect("热点问题 section");
    assert!(doc[at..].contains("油烟"), "top issue not in the report");
    // A period that ends before it starts, and a date in another format.
    for (from, to, field) in [
        ("2026-03-20", "2026-03-16", "to"),
        ("16/03/2026", "2026-03-16", "from"),
    ] {
        let e = w.search.hotspots(&w.supervisor, &q(from, to)).await;
        assert_eq!(e.unwrap_err().field_name(), Some(field));
    }
}

/// A tiny deterministic generator: the same data on every run and backend.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const QUIET: &[(&str, &str)] = &[
    ("路灯不亮", "门前路灯坏了好几天，晚上走路看不清"),
    ("噪音扰民", "楼上装修一直到晚上十点还在电钻"),
    ("井盖缺失", "人行道上一个井盖不见了很危险"),
    ("占道经营", "早上菜市场门口摊贩占了整条路"),
    ("停车难", "小区车位太少，车都停到消防通道上了"),
    ("电梯故障", "二号楼电梯经常停运，老人上下楼困难"),
    ("宠物扰民", "邻居家狗整夜叫，影响休息"),
    ("绿化带破坏", "有人把绿化带挖了种菜"),
    ("公交线路", "希望增开早高峰的公交班次"),
    ("违章搭建", "一楼住户在院子里私搭乱建"),
    ("供暖不足", "家里暖气不热，室温只有十几度"),
    ("路面破损", "主干道上坑洼很多，下雨积水"),
];

async fn create(
    w: &W,
    phone: u32,
    at: i64,
    region: &str,
    cat: i64,
    title: &str,
    body: &str,
) -> i64 {
    let mut t = call(title, body, region, &format!("135{phone:08}"));
    t.category_id = Some(cat);
    w.db.clock.set(at);
    w.create(t).await.id
}

async fn alerts_find_the_burst_and_are_raised_once(db: Db) {
    let w = world(db).await;
    w.svc
        .import_taxonomy(
            &Actor::cli(),
            &[
                ("城乡建设".into(), "供水".into(), "停水".into()),
                ("市政管理".into(), "市容".into(), "路灯".into()),
            ],
        )
        .await
        .unwrap();
    let cats = w.svc.categories().await.unwrap();
    let water = cats.iter().find(|c| c.name == "停水").unwrap().id;
    let city = cats.iter().find(|c| c.name == "路灯").unwrap().id;
    // Ten quiet weeks from Monday 2026-01-05: two to four tickets a week in each community,
    // spread over categories; then in week 9 (2026-03-02) a burst of water cuts in 桂花社区.
    let start = nlp::hotspot::parse_china_time("2026-01-05 08:00:00").unwrap();
    let mut rng = Lcg(7);
    let mut phone = 0u32;
    let mut burst = Vec::new();
    for week in 0..10i64 {
        for region in [GUIHUA, HEHUA] {
            let n = 2 + rng.below(3);
            for _ in 0..n {
                let at = start
                    + week * 7 * DAY
                    + rng.below(6) as i64 * DAY
                    + rng.below(9) as i64 * 3_600_000;
                let (title, body) = QUIET[rng.below(QUIET.len() as u64) as usize];
                let cat = if rng.below(2) == 0 { water } else { city };
                phone += 1;
                create(&w, phone, at, region, cat, title, body).await;
            }
        }
        if week == 8 {
            for i in 0..14i64 {
                let at = start + week * 7 * DAY + (i % 5) * DAY + i * 1_800_000;
                phone += 1;
                let id = create(
                    &w,
                    phone,
                    at,
                    GUIHUA,
                    water,
                    "小区停水",
                    "桂花社区一直停水，没有通知，做饭洗漱都没水用",
                )
                .await;
                burst.push(id);
            }
        }
    }
    // Run at the end of week 8 (quiet weeks only): nothing.
    let end_week8 = start + 7 * 7 * DAY + 6 * DAY + 12 * 3_600_000;
    w.db.clock.set(end_week8);
    let quiet = alerts::run(&w.db, end_week8).await.unwrap();
    assert!(quiet.tickets > 50);
    assert!(quiet.raised.is_empty(), "quiet weeks raised {quiet:?}");
    // Run at the end of the burst week: the community (and its street) and the category.
    let end_week9 = end_week8 + 7 * DAY;
    w.db.clock.set(end_week9);
    let got = alerts::run(&w.db, end_week9).await.unwrap();
    assert!(!got.raised.is_empty(), "burst not found");
    let svc = AlertService::new(w.db.clone());
    let list = svc.list(&w.supervisor, Some("open")).await.unwrap();
    let spikes: Vec<_> = list.iter().filter(|a| a.kind == "volume_spike").collect();
    let community = spikes
        .iter()
        .find(|a| a.dimension == "region" && a.subject == GUIHUA)
        .unwrap_or_else(|| panic!("no alert for 桂花社区: {list:#?}"));
    assert_eq!(community.subject_label, "桂花社区");
    assert_eq!(
        community.window_from, "2026-03-02 00:00:00",
        "the burst week"
    );
    assert!(community.observed >= 14);
    assert!(burst.iter().all(|id| community.ticket_ids.contains(id)));
    assert!(
        community.evidence["ratio"].as_f64().unwrap() > 2.0,
        "{community:?}"
    );
    assert!(community.evidence["counts"].as_array().unwrap().len() >= 8);
    assert!(spikes
        .iter()
        .any(|a| a.dimension == "category" && a.subject == water.to_string()));
    // Nothing about the quiet community or the quiet category.
    assert!(
        !spikes
            .iter()
            .any(|a| a.subject == HEHUA || a.subject == city.to_string()),
        "{spikes:#?}"
    );
    // Re-running raises no duplicate.
    let n = list.len();
    let again = alerts::run(&w.db, end_week9).await.unwrap();
    assert!(again.raised.is_empty(), "{again:?}");
    let later = alerts::run(&w.db, end_week9 + 3_600_000).await.unwrap();
    assert!(later.raised.is_empty(), "{later:?}");
    assert_eq!(svc.list(&w.supervisor, None).await.unwrap().len(), n);
    // Acknowledged with a note, audited; twice is refused; the lists follow.
    let e = svc
        .acknowledge(&w.analyst, community.id, " ")
        .await
        .unwrap_err();
    assert_eq!(e.field_name(), Some("note"));
    let e = svc
        .acknowledge(&w.operator, community.id, "已知")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "forbidden");
    let a = svc
        .acknowledge(&w.analyst, community.id, "已联系水务公司抢修")
        .await
        .unwrap();
    assert_eq!(a.status, "acknowledged");
    assert_eq!(a.ack_note.as_deref(), Some("已联系水务公司抢修"));
    let e = svc
        .acknowledge(&w.supervisor, community.id, "再次确认")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "illegal_transition");
    let acked = svc.list(&w.supervisor, Some("acknowledged")).await.unwrap();
    assert_eq!(
        acked.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![community.id]
    );
    assert!(svc
        .list(&w.supervisor, Some("open"))
        .await
        .unwrap()
        .iter()
        .all(|a| a.id != community.id));
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM kernel_audit WHERE entity = 'hotline_alert' AND action = 'acknowledge'",
    )
    .fetch_one(w.db.pool())
    .await
    .unwrap();
    assert_eq!(audited, 1);
    let e = svc.list(&w.supervisor, Some("closed")).await.unwrap_err();
    assert_eq!(e.field_name(), Some("status"));
    assert_eq!(
        svc.list(&w.handler, None).await.unwrap_err().code(),
        "forbidden"
    );
    // An acknowledged alert is not raised again by a later run either.
    let after = alerts::run(&w.db, end_week9 + 7_200_000).await.unwrap();
    assert!(after.raised.is_empty(), "{after:?}");
}

// ---- HTTP ----

struct Http {
    base: String,
    http: reqwest::Client,
}

impl Http {
    async fn start(w: &W) -> Http {
        let base = serve_as_test_users(
            &w.db,
            &[
                ("operator", &w.operator),
                ("supervisor", &w.supervisor),
                ("analyst", &w.analyst),
            ],
            hotline::search::routes().merge(alerts::routes()),
        )
        .await;
        Http {
            base,
            http: reqwest::Client::new(),
        }
    }

    async fn get(&self, user: &str, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("x-test-user", user)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, user: &str, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("x-test-user", user)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

fn field_of(p: &Value) -> Option<&str> {
    p["field"]
        .as_str()
        .or_else(|| p["errors"][0]["field"].as_str())
}

async fn bad_input_names_the_field_over_http(db: Db) {
    let w = world(db).await;
    let (fund, ..) = kb(&w).await;
    let h = Http::start(&w).await;
    // The contracts the intake and analytics pages rely on.
    let (s, r) = h
        .get(
            "operator",
            "/kb/search?q=%E5%85%AC%E7%A7%AF%E9%87%91%E6%8F%90%E5%8F%96&limit=3",
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["items"][0]["article_id"], fund);
    for k in ["title", "snippet", "score"] {
        assert!(!r["items"][0][k].is_null(), "{k}: {r}");
    }
    assert!(r["took_ms"].as_f64().is_some());
    let (s, r) = h
        .post("", "/qa", json!({"question": "住房公积金怎么提取"}))
        .await;
    assert_eq!(s, 200, "public Q&A: {r}");
    assert_eq!(r["no_answer"], false);
    assert_eq!(r["answers"][0]["article_id"], fund);
    assert!(r["answers"][0]["score"].as_f64().unwrap() <= 1.0);
    let (s, r) = h
        .post(
            "operator",
            "/duplicates",
            json!({"content": "垃圾没人清运", "region_code": GUIHUA}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert!(r["candidates"].as_array().unwrap().is_empty());
    let (s, r) = h
        .get(
            "supervisor",
            "/hotspots?from=2026-03-01&to=2026-03-16&top=5",
        )
        .await;
    assert_eq!((s, r.as_array().map(Vec::len)), (200, Some(0)), "{r}");
    let (s, r) = h.get("supervisor", "/alerts?status=open").await;
    assert_eq!((s, r.as_array().map(Vec::len)), (200, Some(0)), "{r}");
    // Bad input: 422 problem+json naming the field, never a 500.
    for (s, r, field) in [
        (h.post("", "/qa", json!({"question": ""})).await, "question"),
        (h.post("", "/qa", json!({})).await, "question"),
        (h.post("", "/qa", json!({"question": 5})).await, "question"),
        (h.get("operator", "/kb/search?q=").await, "q"),
        (h.get("operator", "/kb/search?q=x&limit=500").await, "limit"),
        (
            h.post("operator", "/duplicates", json!({"content": ""}))
                .await,
            "content",
        ),
        (
            h.post(
                "operator",
                "/duplicates",
                json!({"content": "停水", "region_code": "12x"}),
            )
            .await,
            "region_code",
        ),
        (
            h.post(
                "operator",
                "/duplicates",
                json!({"content": "停水", "lat": 91.0, "lon": 100.0}),
            )
            .await,
            "lat",
        ),
        (
            h.post(
                "operator",
                "/duplicates",
                json!({"content": "停水", "lat": 30.0}),
            )
            .await,
            "lon",
        ),
        (
            h.get("supervisor", "/hotspots?from=2026-13-01").await,
            "from",
        ),
        (h.get("supervisor", "/hotspots?top=0").await, "top"),
        (h.get("supervisor", "/alerts?status=closed").await, "status"),
        (
            h.post("analyst", "/alerts/1/acknowledge", json!({"note": ""}))
                .await,
            "note",
        ),
    ]
    .into_iter()
    .map(|((s, r), f)| (s, r, f))
    {
        assert!(s == 422 || s == 400, "{field}: {s} {r}");
        assert_eq!(field_of(&r), Some(field), "{r}");
        assert!(r["detail"].as_str().is_some_and(|d| !d.is_empty()), "{r}");
    }
    // Unknown alert, anonymous reader.
    let (s, _) = h
        .post(
            "analyst",
            "/alerts/999/acknowledge",
            json!({"note": "看过"}),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = h.get("", "/kb/search?q=公积金").await;
    assert_eq!(s, 401);
    let (s, _) = h.get("", "/alerts").await;
    assert_eq!(s, 401);
}
