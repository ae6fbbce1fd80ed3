//! 电子证照 in a real headless Chromium, one journey: the health commission defines and
//! publishes the 健康证明 type on its pages → the window receives an application for the health
//! certificate → the approver decides, closes and delivers it as 电子证照 (issued from the case,
//! nothing retyped) → the holder finds it in 我的证照 and presents it → a verifier at phone width
//! sees it valid → the resident applies online for 摆摊 from its guide and uploads nothing: the
//! page finds their license, the case takes it instead of a paper copy (免证办) → the
//! commission revokes it on the license page → the same code now fails, and the resident's next
//! 摆摊 application asks for the paper, saying why. Screenshots: artifacts/screenshots/licenses-*.

mod common;
mod services_common;

use common::*;
use kernel::{Actor, Db};
use testkit::browser::Browser;

testkit::on_both_backends!(migrations; a_license_from_definition_to_revocation);

const MASTER: &str = "00112233445566778899aabbccddeeff";

/// Receives an application for `item` at the window for the citizen; returns its number.
async fn receive(b: &Browser, url: &str, item: i64, id_no: &str, materials: &[&str]) -> String {
    b.goto(&format!("{url}/services/desk")).await;
    b.select("#item_id", &item.to_string()).await;
    b.click_and_wait("#choose").await;
    fill_all(
        b,
        &[
            ("[name='applicant.name']", "张三"),
            ("[name='applicant.id_no']", id_no),
            ("[name='applicant.phone']", "13800138000"),
        ],
    )
    .await;
    for m in materials {
        b.click(&format!("input[name=materials][value={m}]")).await;
    }
    b.click_and_wait("#desk-form button[type=submit]").await;
    let msg = b.body_text().await;
    let number: String = msg
        .split("办件编号 ")
        .nth(1)
        .unwrap_or_else(|| panic!("{msg}"))
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    assert!(!number.is_empty(), "{msg}");
    number
}

/// The logged-in resident applies online for `item` from its guide page, ticking `materials`;
/// returns the 免证办 box's text as the page showed it before submitting.
async fn apply_online(b: &Browser, url: &str, item: i64, materials: &[&str]) -> String {
    b.goto(&format!("{url}/guide/items/{item}")).await;
    b.click_and_wait("#apply").await;
    assert!(b.current_path().await.starts_with("/services/apply/item/"));
    let found = b.text("#materials").await;
    b.fill("[name='applicant.phone']", "13800138000").await;
    for m in materials {
        b.click(&format!("input[name=materials][value={m}]")).await;
    }
    // Brings the license's answer into view for the screenshot.
    b.click("#materials .license-found, #materials .license-missing")
        .await;
    found
}

/// Submits the online application form; the case number when it was filed.
async fn submit_online(b: &Browser) -> Option<String> {
    b.click_and_wait("#apply-form button[type=submit]").await;
    b.current_path()
        .await
        .strip_prefix("/services/mine/")
        .map(str::to_owned)
}

async fn open_case(b: &Browser, url: &str, number: &str) {
    b.goto(&format!("{url}/services/inbox?q={number}")).await;
    b.click_and_wait("#cases tbody a").await;
    assert_text_has(b, "dl.facts", number).await;
}

async fn verify(b: &Browser, url: &str, text: &str) -> String {
    b.goto(&format!("{url}/licenses/verify")).await;
    b.fill("#text", text).await;
    b.click_and_wait("#verify button[type=submit]").await;
    b.text("#result .verdict").await
}

async fn a_license_from_definition_to_revocation(db: Db) {
    let mut cfg = config();
    cfg.licenses.master_key = MASTER.into();
    let w = world_with(db.clone(), cfg.clone()).await;
    let h = services_common::hall(&db, "A市数据局").await;
    let Some(mut b) = Browser::start(&format!("licenses-{}", db.backend().name())).await else {
        return;
    };
    b.set_size(1366, 768).await;
    let url = w.url.clone();
    let cli = Actor::cli();
    let org = org::OrgService::new(db.clone(), testkit::city::fast_auth());
    org.update_department(
        &cli,
        h.health_dept,
        org::DepartmentChanges {
            credit_code: Some(kernel::codes::credit_code_with_check("11690100MB0000081")),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let id_no = kernel::codes::id_card_with_check("11010119900307001");
    let citizen = org.user_by_username("citizen1").await.unwrap().unwrap();
    org.update_user(
        &cli,
        citizen.id,
        org::UserChanges {
            id_card: Some(id_no.clone()),
            ..Default::default()
        },
    )
    .await
    .unwrap();

    // The commission defines the type on its pages; a bad code is named beside its box.
    login(&b, &url, "health1").await;
    b.goto(&format!("{url}/licenses/types/new")).await;
    let code = format!(
        "{}001",
        kernel::codes::credit_code_with_check("12690100MB0000091")
    );
    fill_all(
        &b,
        &[
            ("#code", "123"),
            ("#name", "健康证明"),
            ("#validity_years", "1"),
            ("#remind_days", "30"),
            (
                "#fields",
                "name｜姓名｜文本｜必填\ndecision_no｜决定文号｜文本｜选填",
            ),
        ],
    )
    .await;
    b.click(&format!("input[name=dept_ids][value='{}']", h.health_dept))
        .await;
    b.click_and_wait("#type-form button[type=submit]").await;
    assert_text_has(&b, "#error-summary", "类型代码").await;
    assert_eq!(
        b.text("#fields").await.lines().count(),
        2,
        "what was typed stays"
    );
    b.fill("#code", &code).await;
    b.click_and_wait("#type-form button[type=submit]").await;
    assert!(b.current_path().await.starts_with("/licenses/types/"));
    assert_text_has(&b, "#version-1", "草稿").await;
    b.screenshot("type-draft").await;
    b.click_and_wait("#publish button[type=submit]").await;
    assert_text_has(&b, "div.notice", "已发布第 1 版").await;
    assert_text_has(&b, "#version-1", "发布").await;
    b.screenshot("type-published").await;
    logout(&b).await;

    // The health item's result is this license; the stall item takes it instead of a copy.
    let lic = licenses::LicensesService::from_config(db.clone(), &cfg);
    let svc = services::ServicesService::new(db.clone()).with_licenses(lic.clone());
    let mut health = svc.published_item(h.health_item).await.unwrap().content;
    health.result_license = Some("健康证明".into());
    health
        .delivery
        .push(services::domain::DeliveryMethod::License);
    svc.update_item(&cli, h.health_item, health).await.unwrap();
    svc.publish_item(&cli, h.health_item).await.unwrap();
    let mut stall = svc.published_item(h.stall_item).await.unwrap().content;
    stall.materials.push(services::domain::Material {
        from_license: Some("健康证明".into()),
        ..stall.materials[1].clone()
    });
    let last = stall.materials.len() - 1;
    stall.materials[last].key = "health_cert".into();
    stall.materials[last].name = "健康证明".into();
    svc.update_item(&cli, h.stall_item, stall).await.unwrap();
    svc.publish_item(&cli, h.stall_item).await.unwrap();

    // The window receives; the commission decides, closes and delivers as 电子证照.
    login(&b, &url, "clerk1").await;
    let number = receive(&b, &url, h.health_item, &id_no, &["photo", "exam"]).await;
    logout(&b).await;
    login(&b, &url, "health1").await;
    open_case(&b, &url, &number).await;
    b.click_and_wait("#accept button[type=submit]").await;
    b.fill("#document_no", "A卫健〔2026〕9号").await;
    b.fill("#text", "体检合格，发放健康证明").await;
    b.click_and_wait("#decide button[type=submit]").await;
    b.click_and_wait("#close button[type=submit]").await;
    // The application's fields under their labels, never their keys.
    let form = b.text("#case-form").await;
    assert!(form.contains("姓名") && !form.contains("id_no"), "{form}");
    b.select("#method", "license").await;
    b.screenshot("deliver-as-license").await;
    b.click_and_wait("#deliver button[type=submit]").await;
    assert_eq!(b.text("#case-status").await, "已出件");
    let delivery = b.text("#case-delivery").await;
    assert!(delivery.contains("电子证照 1.2.156.3005.2."), "{delivery}");
    // The commission finds it in 证照查询: issued from the case, the 文号 from the decision.
    b.goto(&format!("{url}/licenses/search")).await;
    b.click_and_wait("#results tbody a").await;
    let face = b.text("#license").await;
    assert_has_all(&face, &["健康证明", "A卫健〔2026〕9号", "有效"]);
    let license_page = b.current_path().await;
    b.screenshot("license-page").await;
    // 统计: one case delivered as 电子证照 of one → 签发率 100.0%.
    b.goto(&format!("{url}/licenses/figures")).await;
    let figures = b.text("#figures").await;
    assert!(
        figures.contains("健康证明") && figures.contains("100.0%"),
        "{figures}"
    );
    b.screenshot("figures").await;
    b.goto(&format!("{url}/licenses/issue?type={code}")).await;
    assert_eq!(count(&b, "#issue-form [name='fields.name']").await, 1);
    b.screenshot("issue-form").await;
    logout(&b).await;

    // The holder sees it in 我的证照 and presents the name only.
    b.set_size(390, 844).await;
    login(&b, &url, "citizen1").await;
    b.goto(&format!("{url}/licenses/mine")).await;
    assert_text_has(&b, "#licenses", "健康证明").await;
    b.screenshot("mine-phone").await;
    b.click_and_wait("#licenses a").await;
    b.click_and_wait("#present button[type=submit]").await;
    let qr = b.text("#qr-text").await;
    assert!(!qr.is_empty());
    assert_eq!(count(&b, "#qr svg").await, 1);
    b.screenshot("present-phone").await;
    logout(&b).await;

    // A verifier at phone width, not logged in.
    let verdict = verify(&b, &url, &qr).await;
    assert_eq!(verdict, "证照真实有效");
    b.screenshot("verify-valid-phone").await;
    b.set_size(1366, 768).await;

    // 免证办: the resident applies online for the stall card and uploads nothing for the
    // health certificate — the page says before submitting that their license will be taken.
    b.set_size(390, 844).await;
    login(&b, &url, "citizen1").await;
    let found = apply_online(&b, &url, h.stall_item, &["photo", "stall_place"]).await;
    assert!(
        found.contains("已找到您的“健康证明”电子证照") && found.contains("无需上传"),
        "{found}"
    );
    b.screenshot("apply-online-phone").await;
    let stall_no = submit_online(&b).await.expect("filed");
    assert_text_has(&b, "main", &stall_no).await;
    logout(&b).await;
    b.set_size(1366, 768).await;
    // The approver sees the license in place of the paper, with its verification result.
    login(&b, &url, "market1").await;
    open_case(&b, &url, &stall_no).await;
    let materials = b.text("#materials").await;
    assert!(
        materials.contains("健康证明") && materials.contains("核验通过"),
        "{materials}"
    );
    b.screenshot("exempt-case").await;
    logout(&b).await;

    // The commission revokes it on the license page.
    login(&b, &url, "health1").await;
    b.goto(&format!("{url}{license_page}")).await;
    b.select("#action", "revoke").await;
    b.fill("#reason", "体检结论有误").await;
    b.click_and_wait("#status-form button[type=submit]").await;
    assert_text_has(&b, "#license-status", "已吊销").await;
    assert_text_has(&b, "div.notice", "已吊销").await;
    logout(&b).await;

    // The same code now fails, and says why.
    b.set_size(390, 844).await;
    let verdict = verify(&b, &url, &qr).await;
    assert!(
        verdict.starts_with("证照无效")
            && verdict.contains("撤销")
            && verdict.contains("体检结论有误"),
        "{verdict}"
    );
    b.screenshot("verify-revoked-phone").await;
    b.set_size(1366, 768).await;

    // The resident's next stall application asks for the paper, with the reason: the page
    // warns before submitting; filed without it, the case lacks the material (as any missing
    // paper), and the department cannot accept it until it is handed in.
    b.set_size(390, 844).await;
    login(&b, &url, "citizen1").await;
    let found = apply_online(&b, &url, h.stall_item, &["photo", "stall_place"]).await;
    assert!(
        found.contains("已吊销") && found.contains("请提交纸质材料"),
        "{found}"
    );
    b.screenshot("apply-online-revoked-phone").await;
    let again = submit_online(&b).await.expect("filed");
    logout(&b).await;
    b.set_size(1366, 768).await;
    login(&b, &url, "market1").await;
    open_case(&b, &url, &again).await;
    let materials = b.text("#materials").await;
    assert!(
        materials.contains("已吊销") && materials.contains("体检结论有误"),
        "{materials}"
    );
    b.click_and_wait("#accept button[type=submit]").await;
    assert_text_has(&b, "#error-summary", "缺少材料：健康证明").await;
    b.close().await;
}
