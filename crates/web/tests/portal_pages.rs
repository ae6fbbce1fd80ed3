//! In a real headless Chromium: the citizen portal on a phone (leave a request, track it, rate
//! the reply, see it masked on the public board), the knowledge base's edit → review → publish,
//! and the analytics page's SVG charts and downloads. Screenshots in artifacts/screenshots/.

mod common;

use common::*;
use hotline::domain::*;
use hotline::HotlineService;
use kernel::{Actor, Db};
use org::{NewRegion, OrgService};
use testkit::browser::Browser;

testkit::on_both_backends!(migrations; citizen_leaves_tracks_and_rates_a_request_on_a_phone);
testkit::on_both_backends!(migrations; knowledge_base_edit_review_publish);
testkit::on_both_backends!(migrations; analytics_draws_charts_and_offers_downloads);
testkit::on_both_backends!(migrations; portal_forms_are_rate_limited_per_address);
testkit::on_both_backends!(migrations; public_board_hides_reports_and_personal_data);

fn assert_local(urls: &[String], base: &str) {
    for u in urls {
        assert!(
            u.starts_with(base),
            "page loaded {u} from outside the server"
        );
    }
}

/// Posts the form `fields` to `url`, without a session.
async fn post_form(
    http: &reqwest::Client,
    url: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    http.post(url).form(fields).send().await.unwrap()
}

async fn add_community(db: &Db) {
    let org = OrgService::new(db.clone(), common::config().auth);
    for (code, name) in [("690102001000", "东湖街道"), ("690102001001", "幸福社区")] {
        org.create_region(
            &Actor::cli(),
            NewRegion {
                code: code.into(),
                name: name.into(),
            },
        )
        .await
        .unwrap();
    }
}

/// The web world on `db` with 幸福社区, the hotline service and the categories of `taxonomy`.
async fn with_taxonomy(db: &Db) -> (World, HotlineService, Vec<Category>) {
    let w = world(db.clone()).await;
    add_community(db).await;
    let svc = HotlineService::new(db.clone(), "A市");
    let cats = taxonomy(&svc).await;
    (w, svc, cats)
}

async fn taxonomy(svc: &HotlineService) -> Vec<Category> {
    let rows: Vec<(String, String, String)> = [
        ("城乡建设", "物业管理", ""),
        ("环境保护", "噪声污染", ""),
        ("交通运输", "公交服务", ""),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    svc.import_taxonomy(&Actor::cli(), &rows).await.unwrap();
    svc.categories().await.unwrap()
}

async fn ticket_count(svc: &HotlineService) -> i64 {
    svc.list(
        &Actor::cli(),
        &Default::default(),
        &kernel::page::PageQuery {
            page: None,
            per_page: None,
        },
    )
    .await
    .unwrap()
    .total
}

async fn citizen_leaves_tracks_and_rates_a_request_on_a_phone(db: Db) {
    let backend = db.backend().name();
    let (w, svc, cats) = with_taxonomy(&db).await;
    let base = &w.url;
    let property = cats
        .iter()
        .find(|c| c.path == "城乡建设/物业管理")
        .unwrap()
        .id;
    let Some(mut b) = Browser::start(&format!("portal-{backend}")).await else {
        return;
    };
    b.set_size(390, 844).await;
    b.goto(&format!("{base}/portal")).await;
    b.screenshot("portal-home-phone").await;

    // Bad input: errors beside the fields, in Chinese, and nothing written.
    b.goto(&format!("{base}/portal/new")).await;
    b.screenshot("portal-new-phone").await;
    b.fill("#caller_phone", "12345").await;
    b.click_and_wait("form button[type=submit]").await;
    assert_text_has(&b, "#title-error", "标题").await;
    assert_text_has(&b, "#content-error", "内容").await;
    assert_text_has(&b, "#caller_phone-error", "手机号").await;
    assert_text_has(&b, "#privacy-error", "个人信息保护说明").await;
    assert_text_has(&b, "#error-summary", "处需要修改").await;
    b.screenshot("portal-new-errors-phone").await;
    assert_eq!(ticket_count(&svc).await, 0, "a refused form wrote a ticket");

    // A bot filling the honeypot is refused too.
    let http = reqwest::Client::new();
    let r = post_form(
        &http,
        &format!("{}/portal/new", w.url),
        &[
            ("kind", "consult"),
            ("title", "机器人"),
            ("content", "广告"),
            ("caller_phone", "13900000000"),
            ("privacy", "1"),
            ("website", "http://spam.example"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert_eq!(ticket_count(&svc).await, 0, "the honeypot let a ticket in");

    // A good request: the form keeps what was typed, so only the missing parts are filled in.
    b.select("#kind", "complaint").await;
    b.select("#category_id", &property.to_string()).await;
    // The place is found by name (no 300-option list on a phone) and shown as a path.
    b.fill("#region_code-search", "幸福").await;
    b.click("#region_code-found button").await;
    assert_eq!(
        run_script(&b, "return document.getElementById('region_code').value;").await,
        "690102001001"
    );
    assert_text_has(&b, "#region_code-path", "东湖街道 · 幸福社区").await;
    b.fill("#address", "幸福路 12 号 3 栋").await;
    write_portal_request(
        &b,
        "幸福社区电梯停运一周无人维修",
        "3 栋电梯停运已经一周，老人上下楼困难，物业一直不修。我的电话 13912345678。",
        ("王小明", "13912345678"),
    )
    .await;
    b.click_and_wait("form button[type=submit]").await;
    assert_eq!(b.current_path().await, "/portal/submitted");
    let number = b.text("#ticket-number").await;
    assert!(number.starts_with("A市12345-"), "{number}");
    b.screenshot("portal-submitted-phone").await;
    let t = svc
        .get_by_number(&Actor::cli(), &number)
        .await
        .unwrap()
        .ticket;
    assert_eq!(t.channel, Channel::Web);
    assert_eq!(t.status, Status::Created);
    assert_eq!(t.location.region_code.as_deref(), Some("690102001001"));
    assert_eq!(t.category_id, Some(property));
    assert_eq!(t.caller.phone.as_deref(), Some("13912345678"));

    // Tracking with a wrong phone says only "not found".
    track_on_portal(&b, base, &number, "13900000000").await;
    let body = b.body_text().await;
    assert!(body.contains("工单编号或手机号不正确"), "{body}");
    assert!(
        !body.contains("电梯停运"),
        "a wrong phone leaked the ticket: {body}"
    );
    b.screenshot("portal-track-wrong-phone").await;

    // The right phone shows the status and the steps.
    b.fill("#number", &number).await;
    b.fill("#phone", "13912345678").await;
    b.click_and_wait("form button[type=submit]").await;
    assert_eq!(b.text("#tracked-status").await, "待受理");
    assert_text_has(&b, "ol.steps", "留言已提交").await;

    // The hotline handles it (through the service): accept, dispatch, acknowledge, reply.
    let org = OrgService::new(db.clone(), common::config().auth);
    let handler = org.actor_of_user(w.handler_x).await.unwrap();
    let cli = Actor::cli();
    svc.act(&cli, t.id, Action::Accept).await.unwrap();
    dispatch_to(&svc, &cli, t.id, w.dept_x).await;
    svc.act(
        &cli,
        t.id,
        Action::Supervise {
            note: "内部督办意见：物业公司屡次推诿".into(),
        },
    )
    .await
    .unwrap();
    acknowledge_and_reply(
        &svc,
        &handler,
        t.id,
        "您好，经核实，电梯已于今日修复并通过检验。感谢您的监督。",
    )
    .await;

    track_on_portal(&b, base, &number, "13912345678").await;
    assert_eq!(b.text("#tracked-status").await, "已答复待回访");
    assert_text_has(&b, "#reply-text", "电梯已于今日修复").await;
    let steps = b.text("ol.steps").await;
    assert!(steps.contains("已派至A市住建局办理"), "{steps}");
    assert!(steps.contains("A市住建局已答复"), "{steps}");
    let body = b.body_text().await;
    assert!(
        !body.contains("内部督办意见"),
        "an internal note reached the citizen"
    );
    assert!(
        !body.contains("测试han_x"),
        "a staff name reached the citizen"
    );
    b.screenshot("portal-track-replied-phone").await;
    scroll_to(&b, "#rate-title").await;
    b.screenshot("portal-rate-form-phone").await;

    // Rating without a choice is refused beside the field; then 满意, once.
    b.click_and_wait("form[action='/portal/rate'] button[type=submit]")
        .await;
    assert_text_has(&b, "#result-error", "请选择").await;
    b.click("input[name=result][value=satisfied]").await;
    b.fill("#note", "修得很快").await;
    b.click_and_wait("form[action='/portal/rate'] button[type=submit]")
        .await;
    assert!(b.body_text().await.contains("感谢您的评价"));
    assert_text_has(&b, "#my-rating", "满意").await;
    let rated = svc.get(&cli, t.id).await.unwrap().ticket;
    assert_eq!(rated.satisfaction, Some(CallbackResult::Satisfied));
    assert_eq!(rated.status, Status::Closed);
    assert!(
        count(&b, "form[action='/portal/rate']").await == 0,
        "a rated reply can be rated again"
    );
    b.screenshot("portal-rated-phone").await;

    // The public board shows it, with personal data masked.
    b.goto(&format!(
        "{base}/portal/replies?q={}",
        urlencode("电梯停运")
    ))
    .await;
    let board = b.text("#replies").await;
    assert!(board.contains("幸福社区电梯停运一周无人维修"), "{board}");
    assert!(board.contains("139****5678"), "{board}");
    for (personal, what) in [("13912345678", "phone"), ("王小明", "name")] {
        assert!(
            !board.contains(personal),
            "{what} on the public board: {board}"
        );
    }
    assert!(board.contains("A市住建局"), "{board}");
    b.screenshot("portal-replies-phone").await;
    let urls = b.loaded_urls().await;
    assert_local(&urls, &w.url);

    // Desktop width.
    b.set_size(1366, 768).await;
    b.goto(&format!("{base}/portal/replies")).await;
    b.screenshot("portal-replies-desktop").await;
    b.goto(&format!("{base}/portal/new")).await;
    b.screenshot("portal-new-desktop").await;
    assert_local(&b.loaded_urls().await, &w.url);
    b.close().await;
    w.server.stop().await;
}

fn alert_ticket(title: &str, content: &str, region: &str, category: i64, n: i64) -> NewTicket {
    NewTicket {
        channel: Channel::Phone,
        kind: TicketKind::Complaint,
        urgency: Urgency::Normal,
        caller_name: None,
        caller_phone: Some(format!("1370000{n:04}")),
        wants_reply: true,
        anonymous: false,
        address: None,
        region_code: Some(region.into()),
        lng: None,
        lat: None,
        title: title.into(),
        content: content.into(),
        category_id: Some(category),
        answers: Default::default(),
        accept: true,
    }
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

async fn knowledge_base_edit_review_publish(db: Db) {
    let backend = db.backend().name();
    let w = world(db.clone()).await;
    let base = &w.url;
    let Some(mut b) = Browser::start(&format!("kb-{backend}")).await else {
        return;
    };
    login(&b, &w.url, "admin").await;
    b.goto(&format!("{base}/hotline/kb/new")).await;
    // Empty question: refused beside the field, nothing saved.
    b.fill("#answer", "答案").await;
    b.click_and_wait("main form button[type=submit]").await;
    assert_text_has(&b, "#question-error", "问题").await;
    b.screenshot("kb-new-error").await;

    b.fill("#question", "居住证办理需要哪些材料？").await;
    b.fill(
        "#answer",
        "身份证、居住地址证明（租房合同或房产证）、近期一寸照片。可在各街道便民服务中心办理。",
    )
    .await;
    b.click_and_wait("main form button[type=submit]").await;
    assert_text_has(&b, "#kb-status", "草稿").await;
    let path = b.current_path().await;
    let id = path.rsplit('/').next().unwrap().to_owned();

    // Not yet published: a search for published articles does not find it.
    let published_search = format!(
        "{base}/hotline/kb?q={}&status=published",
        urlencode("居住证")
    );
    b.goto(&published_search).await;
    assert!(b.body_text().await.contains("没有符合条件的知识条目"));

    b.goto(&format!("{base}/hotline/kb/{id}")).await;
    b.click_and_wait("#kb-review").await;
    assert_text_has(&b, "#kb-status", "已审核").await;
    b.click_and_wait("#kb-publish").await;
    assert_text_has(&b, "#kb-status", "已发布").await;
    b.screenshot("kb-published").await;

    b.goto(&published_search).await;
    assert_text_has(&b, "#kb-list", "居住证办理需要哪些材料").await;
    b.screenshot("kb-search").await;
    // A reworded question finds it through the search index, ranked, with a snippet of the
    // answer; the database's text match alone would not.
    let reworded = urlencode("办居住证要带什么材料");
    b.goto(&format!("{base}/hotline/kb?q={reworded}")).await;
    let ranked = b.text("#kb-list").await;
    assert!(ranked.contains("居住证办理需要哪些材料"), "{ranked}");
    assert!(ranked.contains("身份证"), "snippet of the answer: {ranked}");
    assert_eq!(
        count(&b, "#kb-all").await,
        0,
        "no text match for a rewording"
    );
    b.screenshot("kb-search-reworded").await;

    // An edit is a new version, back in draft, with the history kept.
    b.goto(&format!("{base}/hotline/kb/{id}/edit")).await;
    b.fill("#question", "居住证办理需要哪些材料？（2025 版）")
        .await;
    b.click_and_wait("main form button[type=submit]").await;
    assert_text_has(&b, "#kb-status", "草稿").await;
    let versions = b.text("#kb-versions").await;
    assert_has_all(&versions, &["v1", "v2"]);
    // Publishing a draft directly is not offered.
    assert!(count(&b, "#kb-publish").await == 0);
    b.screenshot("kb-versions").await;
    let svc = HotlineService::new(db.clone(), "A市");
    let (a, v) = svc
        .article(&Actor::cli(), id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!((a.version, a.status, v.len()), (2, ArticleStatus::Draft, 2));

    // A handler may write but sees no review buttons.
    b.click_and_wait("header .who form button").await;
    login(&b, &w.url, "han_x").await;
    b.goto(&format!("{base}/hotline/kb/{id}")).await;
    assert!(count(&b, "#kb-review").await == 0);
    assert_local(&b.loaded_urls().await, &w.url);
    b.close().await;
    w.server.stop().await;
}

async fn analytics_draws_charts_and_offers_downloads(db: Db) {
    let backend = db.backend().name();
    let (w, svc, cats) = with_taxonomy(&db).await;
    let base = &w.url;
    let cat = |p: &str| cats.iter().find(|c| c.path == p).unwrap().id;
    let org = OrgService::new(db.clone(), common::config().auth);
    let handler = org.actor_of_user(w.handler_x).await.unwrap();
    let cli = Actor::cli();
    // Demo-like tickets: a cluster about one estate's lift, noise, buses; some replied.
    let items = [
        (
            "幸福社区3栋电梯又坏了",
            "幸福社区3栋电梯故障停运，老人无法下楼",
            "城乡建设/物业管理",
        ),
        (
            "幸福社区电梯故障",
            "幸福社区3栋电梯停运三天了，物业不管",
            "城乡建设/物业管理",
        ),
        (
            "幸福社区3栋电梯停运",
            "电梯坏了好几天，幸福社区物业没人修",
            "城乡建设/物业管理",
        ),
        (
            "夜间施工噪音扰民",
            "东湖街道工地夜里十二点还在施工",
            "环境保护/噪声污染",
        ),
        (
            "公交车不按站停靠",
            "12路公交车在幸福路站经常不停车",
            "交通运输/公交服务",
        ),
        (
            "小区垃圾清运不及时",
            "垃圾堆了三天没人清运",
            "城乡建设/物业管理",
        ),
    ];
    for (i, (title, content, path)) in items.iter().enumerate() {
        let t = svc
            .create(
                &cli,
                NewTicket {
                    channel: Channel::Phone,
                    kind: TicketKind::Complaint,
                    urgency: Urgency::Normal,
                    caller_name: Some(format!("市民{i}")),
                    caller_phone: Some(format!("1391234560{i}")),
                    wants_reply: true,
                    anonymous: false,
                    address: None,
                    region_code: Some("690102001001".into()),
                    lng: None,
                    lat: None,
                    title: title.to_string(),
                    content: content.to_string(),
                    category_id: Some(cat(path)),
                    answers: Default::default(),
                    accept: true,
                },
            )
            .await
            .unwrap()
            .ticket;
        dispatch_to(&svc, &cli, t.id, w.dept_x).await;
        if i % 2 == 0 {
            acknowledge_and_reply(&svc, &handler, t.id, "您好，已安排处理，感谢来电。").await;
        }
    }
    let Some(mut b) = Browser::start(&format!("analytics-{backend}")).await else {
        return;
    };
    login(&b, &w.url, "admin").await;
    b.goto(&format!("{base}/hotline/analytics")).await;
    let svgs = count(&b, "svg.chart").await;
    assert_eq!(svgs, 3, "trend, categories and departments");
    let trend = b.text("#trend-title").await;
    assert!(trend.contains("受理量趋势"), "{trend}");
    let polyline = count(&b, "svg.chart polyline").await;
    assert_eq!(polyline, 1);
    let table = b.text("#kpi-table").await;
    assert!(table.contains("A市住建局"), "{table}");
    assert!(table.contains("合计"));
    let cards = b.text(".kpis").await;
    assert_has_all(&cards, &["受理量", "6"]);
    let hot = b.text("#hot-issues").await;
    assert!(
        hot.contains("3 件"),
        "the lift cluster is a hot issue: {hot}"
    );
    b.screenshot("analytics-desktop").await;
    scroll_to(&b, "#trend-title").await;
    b.screenshot("analytics-charts").await;
    scroll_to(&b, "#table-title").await;
    b.screenshot("analytics-table").await;
    scroll_to(&b, "#hot-title").await;
    b.screenshot("analytics-hot-issues").await;

    // Sorting by a column and grouping by category.
    b.click_and_wait("#kpi-table th a").await;
    assert_text_has(&b, "#kpi-table th[aria-sort]", "承办单位").await;
    b.goto(&format!(
        "{base}/hotline/analytics?by=category&sort=received&dir=desc"
    ))
    .await;
    let rows = b.text("#kpi-table tbody").await;
    let first = rows.lines().next().unwrap_or("");
    assert!(first.contains("城乡建设"), "most received first: {rows}");
    b.goto(&format!(
        "{base}/hotline/analytics?by=region&level=community"
    ))
    .await;
    assert_text_has(&b, "#kpi-table", "幸福社区").await;
    b.screenshot("analytics-by-community").await;

    // Bad period: the message beside the field.
    b.goto(&format!(
        "{base}/hotline/analytics?kind=days&from=2025-03-10&to=bad"
    ))
    .await;
    assert_text_has(&b, "#to-error", "结束日期").await;
    b.screenshot("analytics-bad-period").await;
    assert_local(&b.loaded_urls().await, &w.url);

    // The download links answer with real files for the logged-in reader.
    b.goto(&format!("{base}/hotline/analytics")).await;
    let admin = Client::login(&w.url, "admin").await;
    for (css, ct) in [
        ("#download-monthly-docx", "wordprocessingml"),
        ("#download-monthly-xlsx", "spreadsheetml"),
        ("#download-kpis", "spreadsheetml"),
        ("#download-tickets", "spreadsheetml"),
    ] {
        let href = href_of(&b, css).await;
        let r = admin
            .http
            .get(format!("{}{}", w.url, href))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{href}");
        let got = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(got.contains(ct), "{href}: {got}");
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(b"PK"), "{href} is not a zip package");
    }
    b.set_size(390, 844).await;
    b.goto(&format!("{base}/hotline/analytics")).await;
    scroll_to(&b, "#trend-title").await;
    b.screenshot("analytics-phone").await;
    b.set_size(1366, 768).await;

    // 研判告警: eight quiet weeks of bus complaints in 东湖街道 (backdated), then a burst of
    // water cuts in 幸福社区 this week; the alerts job raises it and the page lists it.
    assert_text_has(&b, "#alerts", "当前没有待处理的研判告警").await;
    let now = db.now();
    let bus = cat("交通运输/公交服务");
    for week in 1..=8i64 {
        for k in 0..2i64 {
            let t = svc
                .create(
                    &cli,
                    alert_ticket(
                        "公交班次太少",
                        "希望增开早高峰的公交班次",
                        "690102001000",
                        bus,
                        week * 10 + k,
                    ),
                )
                .await
                .unwrap()
                .ticket;
            sqlx::query("UPDATE hotline_tickets SET created_at = $1 WHERE id = $2")
                .bind(now - week * 7 * 86_400_000 - k * 3_600_000)
                .bind(t.id)
                .execute(db.pool())
                .await
                .unwrap();
        }
    }
    for i in 0..14i64 {
        svc.create(
            &cli,
            alert_ticket(
                "小区停水",
                "幸福社区一直停水，没有通知，做饭洗漱都没水用",
                "690102001001",
                cat("城乡建设/物业管理"),
                100 + i,
            ),
        )
        .await
        .unwrap();
    }
    let run = hotline::alerts::run(&db, db.now()).await.unwrap();
    assert!(!run.raised.is_empty(), "the burst raised nothing: {run:?}");
    b.goto(&format!("{base}/hotline/analytics")).await;
    let alerts = b.text("#alerts").await;
    assert_has_all(&alerts, &["量能异常", "幸福社区"]);
    assert!(
        !alerts.contains("「region:") && !alerts.contains("「category:"),
        "internal keys shown: {alerts}"
    );
    let first: i64 = b
        .client
        .execute(
            "return document.querySelector('#alerts li.card').id.slice(6);",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    scroll_to(&b, "#alerts-title").await;
    b.screenshot("analytics-alerts").await;
    // An empty note is refused beside the field and acknowledges nothing.
    b.click_and_wait(&format!("#alert-{first} button[type=submit]"))
        .await;
    assert_text_has(&b, &format!("#ack-note-{first}-error"), "处理意见").await;
    let alerts_svc = hotline::alerts::AlertService::new(db.clone());
    let open_before = alerts_svc.list(&cli, Some("open")).await.unwrap().len();
    b.fill(&format!("#ack-note-{first}"), "已通知供水公司排查管网")
        .await;
    b.click_and_wait(&format!("#alert-{first} button[type=submit]"))
        .await;
    assert_text_has(&b, "#alerts", "已确认").await;
    assert_eq!(
        count(&b, &format!("#alert-{first}")).await,
        0,
        "an acknowledged alert is still listed"
    );
    let acked = alerts_svc.list(&cli, Some("acknowledged")).await.unwrap();
    assert!(acked
        .iter()
        .any(|a| a.id == first && a.ack_note.as_deref() == Some("已通知供水公司排查管网")));
    assert_eq!(
        alerts_svc.list(&cli, Some("open")).await.unwrap().len(),
        open_before - 1
    );
    b.screenshot("analytics-alert-acknowledged").await;
    // Department staff see no alerts.
    let hx = Client::login(&w.url, "han_x").await;
    let (s, html) = hx.get("/hotline/analytics").await;
    assert_eq!(s, 200);
    assert!(!html.as_str().unwrap().contains("研判告警"));
    b.close().await;
    w.server.stop().await;
}

/// A script posting the form again and again is stopped after ten tries in ten minutes; the
/// refusal is a page with `Retry-After`, and nothing was written.
async fn portal_forms_are_rate_limited_per_address(db: Db) {
    let w = world(db.clone()).await;
    let svc = HotlineService::new(db.clone(), "A市");
    let http = reqwest::Client::new();
    let post = || {
        http.post(format!("{}/portal/new", w.url))
            .form(&[("kind", "consult"), ("title", ""), ("content", "")])
            .send()
    };
    for _ in 0..10 {
        assert_eq!(post().await.unwrap().status(), 422);
    }
    let r = post().await.unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=600).contains(&wait), "{wait}");
    assert!(r.text().await.unwrap().contains("操作过于频繁"));
    assert_eq!(ticket_count(&svc).await, 0);
    // Tracking has its own budget and a wrong number answers 404 with the same words.
    let r = post_form(
        &http,
        &format!("{}/portal/track", w.url),
        &[
            ("number", "A市12345-20250101-000001"),
            ("phone", "13912345678"),
        ],
    )
    .await;
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("工单编号或手机号不正确"));
    w.server.stop().await;
}

async fn public_board_hides_reports_and_personal_data(db: Db) {
    let w = world(db.clone()).await;
    let svc = HotlineService::new(db.clone(), "A市");
    let org = OrgService::new(db.clone(), common::config().auth);
    let handler = org.actor_of_user(w.handler_x).await.unwrap();
    let cli = Actor::cli();
    let mut numbers = Vec::new();
    for (kind, title, content) in [
        (
            TicketKind::Complaint,
            "楼道堆放杂物",
            "赵大伟反映楼道杂物，身份证 11010519491231002X，电话 13700001111。",
        ),
        (TicketKind::Report, "举报无证经营", "某店无证经营。"),
        (TicketKind::Consult, "尚未答复的咨询", "社保转移怎么办？"),
    ] {
        let t = svc
            .create(
                &cli,
                NewTicket {
                    channel: Channel::Phone,
                    kind,
                    urgency: Urgency::Normal,
                    caller_name: Some("赵大伟".into()),
                    caller_phone: Some("13700001111".into()),
                    wants_reply: true,
                    anonymous: false,
                    address: Some("A1区东湖街道幸福路12号".into()),
                    region_code: None,
                    lng: None,
                    lat: None,
                    title: title.into(),
                    content: content.into(),
                    category_id: None,
                    answers: Default::default(),
                    accept: true,
                },
            )
            .await
            .unwrap()
            .ticket;
        numbers.push(t.number.clone());
        if kind == TicketKind::Consult {
            continue;
        }
        dispatch_to(&svc, &cli, t.id, w.dept_x).await;
        acknowledge_and_reply(&svc, &handler, t.id, "已联系赵大伟（13700001111）处理。").await;
    }
    let page = reqwest::get(format!("{}/portal/replies", w.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("楼道堆放杂物"), "{page}");
    for (hidden, why) in [
        ("举报无证经营", "a report is on the public board"),
        ("尚未答复", "an unanswered request is on the board"),
    ] {
        assert!(!page.contains(hidden), "{why}");
    }
    for secret in ["11010519491231002X", "13700001111", "赵大伟", "幸福路12号"] {
        assert!(!page.contains(secret), "{secret} on the public board");
    }
    assert_has_all(&page, &["137****1111", "赵**"]);
    // The service's list says the same, one page of one.
    let one = svc
        .public_replies(
            None,
            &kernel::page::PageQuery {
                page: Some(1),
                per_page: Some(1),
            },
        )
        .await
        .unwrap();
    assert_eq!(one.total, 1);
    assert!(one.items[0].caller.phone.is_none() && one.items[0].caller.name.is_none());
    w.server.stop().await;
}
