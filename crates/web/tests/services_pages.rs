//! The service hall in a real headless Chromium. A citizen applies online for the two-item
//! 摆摊一件事 → both departments accept, one asks for 补正, the citizen supplies it → both
//! approve and close → the window hands out one result → the citizen rates it 不满意 → the
//! department answers the rectification and the supervisor accepts it → the citizen may rate
//! again. A clerk receives an application at the front desk. Screenshots: artifacts/screenshots/.

mod common;
mod services_common;

use common::*;
use kernel::Db;
use testkit::browser::Browser;

testkit::on_both_backends!(migrations; a_bundle_from_online_application_to_rectification);

/// Fills in the applicant block of the form on the page.
async fn fill_applicant(b: &Browser, name: &str, id_no: &str, phone: &str) {
    fill_all(
        b,
        &[
            ("[name='applicant.name']", name),
            ("[name='applicant.id_no']", id_no),
            ("[name='applicant.phone']", phone),
        ],
    )
    .await;
}

/// Ticks the `materials` handed in.
async fn tick_materials(b: &Browser, materials: &[&str]) {
    for m in materials {
        b.click(&format!("input[name=materials][value={m}]")).await;
    }
}

/// Opens the case of this item in the signed-in department's inbox.
async fn open_case(b: &Browser, url: &str, number_prefix: &str) {
    b.goto(&format!("{url}/services/inbox")).await;
    let text = b.text("#cases").await;
    assert!(text.contains(number_prefix), "{text}");
    assert_text_has(b, "nav.pager", "第 1/1 页").await;
    // The search box finds it by its number; a number it is not finds nothing.
    b.fill("#q", number_prefix).await;
    b.click_and_wait("form.filters button[type=submit]").await;
    assert!(b.text("#cases").await.contains(number_prefix));
    b.fill("#q", "不存在的办件").await;
    b.click_and_wait("form.filters button[type=submit]").await;
    assert_text_has(b, "#cases", "没有符合条件的办件").await;
    b.goto(&format!("{url}/services/inbox")).await;
    b.click_and_wait("#cases tbody a").await;
}

async fn a_bundle_from_online_application_to_rectification(db: Db) {
    let Some((w, h, mut b)) = services_common::hall_in_browser(&db, "services", (1366, 768)).await
    else {
        return;
    };
    let url = w.url.clone();

    // The public guide, searchable in Chinese, and the bundle with what it saves.
    b.goto(&format!("{url}/guide?q=健康")).await;
    let body = b.body_text().await;
    assert!(
        body.contains("食品从业人员健康证明") && !body.contains("食品小摊贩备案"),
        "{body}"
    );
    b.screenshot("guide-search").await;
    b.goto(&format!("{url}/guide/bundles/{}", h.bundle)).await;
    let savings = b.text("#savings").await;
    assert_has_all(&savings, &["8 个工作日", "5 个工作日"]);
    b.screenshot("bundle-guide").await;
    // On a phone the guide's tables become cards: nothing runs off the right edge.
    b.set_size(390, 844).await;
    b.goto(&format!("{url}/guide/items/{}", h.health_item))
        .await;
    let overflow = run_script(
        &b,
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
    )
    .await;
    assert_eq!(
        overflow.as_i64(),
        Some(0),
        "the guide is wider than the phone"
    );
    assert_text_has(&b, "#apply", "在线申请").await;
    b.screenshot("guide-item-phone").await;
    b.set_size(1366, 768).await;

    // The citizen applies online: one form, one material list (no stall description yet).
    login(&b, &url, "citizen1").await;
    // A citizen's navigation holds no staff words.
    b.goto(&format!("{url}/")).await;
    let nav = b.text("nav.side").await;
    assert!(
        !nav.contains("工作台") && !nav.contains("API 令牌") && nav.contains("首页"),
        "{nav}"
    );
    b.goto(&format!("{url}/services/apply/bundle/{}", h.bundle))
        .await;
    let id_no = kernel::codes::id_card_with_check("11010119900307001");
    // 一数一源: the name and ID number both items ask for come from the applicant block.
    assert_eq!(count(&b, "#apply-form [name='applicant.id_no']").await, 1);
    assert_eq!(count(&b, "#apply-form [name^='form.']").await, 0);
    assert_text_has(&b, "#prefilled", "姓名、身份证号").await;
    fill_all(
        &b,
        &[
            ("[name='applicant.name']", "张三"),
            ("[name='applicant.id_no']", "123"),
            ("[name='applicant.phone']", "13800138000"),
        ],
    )
    .await;
    tick_materials(&b, &["photo", "exam"]).await;
    b.click_and_wait("#apply-form button[type=submit]").await;
    // A bad ID number is shown beside its field, and what was typed stays.
    assert_text_has(&b, "#error-summary", "身份证号").await;
    assert_text_has(&b, "#applicant\\.id_no-error", "身份证号").await;
    b.screenshot("apply-error").await;
    b.fill("[name='applicant.id_no']", &id_no).await;
    b.click_and_wait("#apply-form button[type=submit]").await;
    let path = b.current_path().await;
    assert!(path.starts_with("/services/mine/YJS"), "{path}");
    let number = path.rsplit('/').next().unwrap().to_owned();
    assert_text_has(&b, "#status", "办理中").await;
    b.screenshot("bundle-submitted").await;
    logout(&b).await;

    // Health accepts; market supervision asks for the stall description.
    login(&b, &url, "health1").await;
    b.goto(&format!("{url}/services/inbox?q=BJ&sort=due")).await;
    b.screenshot("inbox-search").await;
    open_case(&b, &url, "BJ").await;
    b.click_and_wait("#accept button[type=submit]").await;
    assert_eq!(b.text("#case-status").await, "审查中");
    // The case file: the record, and what the reader may do now beside it.
    assert_text_has(&b, "#case-actions", "当前可办").await;
    b.screenshot("health-accepted").await;
    // The 受理回执 prints on its own page: number, promised date, materials, a QR to track.
    let case_path = b.current_path().await;
    b.click_and_wait("#receipt-link").await;
    assert_eq!(b.current_path().await, format!("{case_path}/receipt"));
    let receipt = b.body_text().await;
    assert_has_all(
        &receipt,
        &["受理回执", "BJ", "承诺办结日期", "近期免冠照片", "打印"],
    );
    assert_eq!(count(&b, "#receipt-qr svg").await, 1);
    assert_eq!(count(&b, "nav.side").await, 0);
    b.screenshot("case-receipt").await;
    b.goto(&format!("{url}{case_path}")).await;
    logout(&b).await;
    login(&b, &url, "market1").await;
    open_case(&b, &url, "BJ").await;
    b.click("#supplement input[value=stall_place]").await;
    b.fill("#note", "请补充经营场所说明").await;
    b.click_and_wait("#supplement button[type=submit]").await;
    assert_eq!(b.text("#case-status").await, "待补正");
    let market_case = b.current_path().await;
    // The one-time 补正 notice lists what to bring.
    b.click_and_wait("#notice-link").await;
    assert_text_has(&b, "h1", "补正材料告知书").await;
    assert_text_has(&b, "#notice-text", "一次性告知").await;
    assert_text_has(&b, "#notice-materials", "经营场所").await;
    b.screenshot("case-supplement-notice").await;
    b.goto(&format!("{url}{market_case}")).await;
    logout(&b).await;

    // The citizen sees one status, 待补正, and supplies it.
    login(&b, &url, "citizen1").await;
    b.goto(&format!("{url}/services/mine/{number}")).await;
    assert_text_has(&b, "#status", "待补正").await;
    b.screenshot("citizen-supplement").await;
    b.click_and_wait("button.supply").await;
    assert_text_has(&b, "#status", "办理中").await;
    logout(&b).await;

    // Market accepts, both decide and close.
    login(&b, &url, "market1").await;
    b.goto(&format!("{url}{market_case}")).await;
    b.click_and_wait("#accept button[type=submit]").await;
    b.fill("#document_no", "A摊备〔2026〕3号").await;
    b.fill("#text", "准予备案").await;
    b.click_and_wait("#decide button[type=submit]").await;
    b.click_and_wait("#close button[type=submit]").await;
    assert_eq!(b.text("#case-status").await, "已办结");
    logout(&b).await;
    login(&b, &url, "health1").await;
    open_case(&b, &url, "BJ").await;
    b.fill("#document_no", "A卫健〔2026〕7号").await;
    b.fill("#text", "体检合格，发放健康证明").await;
    b.click_and_wait("#decide button[type=submit]").await;
    b.click_and_wait("#close button[type=submit]").await;
    b.screenshot("health-closed").await;
    logout(&b).await;

    // The window hands out one result for the bundle; then a walk-in application at the desk.
    login(&b, &url, "clerk1").await;
    b.goto(&format!("{url}/services/desk")).await;
    b.fill("#deliver-form [name=number]", &number).await;
    b.fill("#deliver-form [name=detail]", "综合窗口 3 号").await;
    b.click_and_wait("#deliver-form button[type=submit]").await;
    assert!(
        b.body_text().await.contains("已出件"),
        "{}",
        b.body_text().await
    );
    b.select("#item_id", &h.health_item.to_string()).await;
    b.click_and_wait("#choose").await;
    // The applicant's name and ID are asked once, in the applicant block, not again below.
    assert_eq!(count(&b, "#desk-form input[name$='id_no']").await, 1);
    assert_eq!(count(&b, "#desk-form input[name$='name']").await, 1);
    fill_applicant(&b, "李四", &id_no, "13900139000").await;
    tick_materials(&b, &["photo", "exam"]).await;
    b.screenshot("front-desk-intake").await;
    b.click_and_wait("#desk-form button[type=submit]").await;
    let msg = b.body_text().await;
    assert!(msg.contains("已收件，办件编号 BJ"), "{msg}");
    b.screenshot("front-desk-received").await;
    // A walk-in 摆摊一件事 on the bundle's merged form: still one name and one ID.
    b.select("#bundle_id", &h.bundle.to_string()).await;
    b.click_and_wait("#choose-bundle").await;
    assert_text_has(&b, "#desk-target", "一件事").await;
    assert_eq!(count(&b, "#desk-form input[name$='id_no']").await, 1);
    assert_eq!(count(&b, "#desk-form input[name$='name']").await, 1);
    assert_text_has(&b, "#prefilled", "姓名、身份证号").await;
    fill_applicant(&b, "王五", &id_no, "13700137000").await;
    tick_materials(&b, &["photo", "exam", "stall_place"]).await;
    b.screenshot("front-desk-bundle").await;
    b.click_and_wait("#desk-form button[type=submit]").await;
    let msg = b.body_text().await;
    assert!(msg.contains("已收件，一件事申请编号 YJS"), "{msg}");
    let bundle_number = msg
        .split("申请编号 ")
        .nth(1)
        .and_then(|x| x.split('，').next())
        .unwrap()
        .to_owned();
    let received = services::ServicesService::new(db.clone())
        .bundle_case(&kernel::Actor::cli(), &bundle_number)
        .await
        .unwrap();
    assert_eq!(received.cases.len(), 2);
    for c in &received.cases {
        // Each department's form got the name and ID from the applicant block.
        assert_eq!(c.case.form["name"], "王五");
        assert_eq!(c.case.form["id_no"], id_no.as_str());
    }
    logout(&b).await;

    // The citizen sees one result and rates it 不满意.
    login(&b, &url, "citizen1").await;
    b.goto(&format!("{url}/services/mine/{number}")).await;
    assert_text_has(&b, "#status", "已出件").await;
    b.click("#evaluate input[value=dissatisfied]").await;
    b.fill("#text", "补正要求没有一次说清").await;
    b.screenshot("citizen-rates").await;
    b.click_and_wait("#evaluate button[type=submit]").await;
    assert!(b.body_text().await.contains("第 1 次评价：不满意"));
    assert!(
        !b.body_text().await.contains("提交评价"),
        "one rating until a rectification"
    );
    logout(&b).await;

    // The lead department answers; the supervisor accepts.
    login(&b, &url, "health1").await;
    b.goto(&format!("{url}/services/rectifications")).await;
    // A worklist row: the case linked, the rating and what the citizen said, the deadline.
    let row = b.text("#rectifications tbody tr").await;
    assert_has_all(&row, &[&number, "不满意", "补正要求没有一次说清", "待整改"]);
    assert!(href_of(&b, "#rectifications tbody td a")
        .await
        .starts_with("/services/cases/"));
    b.screenshot("rectification-worklist").await;
    b.fill("form.reply textarea", "已致电说明，今后补正一次性告知清单")
        .await;
    b.click_and_wait("form.reply button[type=submit]").await;
    assert!(b.body_text().await.contains("待审核"));
    logout(&b).await;
    login(&b, &url, "super1").await;
    b.goto(&format!("{url}/services/rectifications")).await;
    b.fill("form.review input[name=note]", "整改到位").await;
    b.click_and_wait("form.review button[type=submit]").await;
    assert!(b.body_text().await.contains("已整改"));
    // Every state, with the department named.
    b.goto(&format!("{url}/services/rectifications?status=all"))
        .await;
    let row = b.text("#rectifications tbody tr").await;
    assert_has_all(&row, &[&number, "已整改", "整改到位", "已致电说明"]);
    b.screenshot("rectification-done").await;
    logout(&b).await;

    // Closed: the citizen may rate once more.
    login(&b, &url, "citizen1").await;
    b.goto(&format!("{url}/services/mine/{number}")).await;
    assert!(b.body_text().await.contains("提交评价"));
    b.set_size(390, 844).await;
    b.goto(&format!("{url}/guide/track?number={number}")).await;
    b.screenshot("track-phone").await;
    b.close().await;
}
