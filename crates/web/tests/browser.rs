//! In a real headless Chromium: the admin logs in, creates a department and a user, and reads
//! what was done in the audit log (names and Chinese words, filters, the object linked, export);
//! the new user logs in and sees that role's navigation. Screenshots go to
//! artifacts/screenshots/.

mod common;

use common::*;
use kernel::Db;
use testkit::browser::Browser;

testkit::on_both_backends!(migrations; admin_creates_department_and_user_who_then_logs_in);

async fn login(b: &Browser, url: &str, user: &str, pw: &str) {
    b.goto(&format!("{url}/login")).await;
    b.fill("#username", user).await;
    b.fill("#password", pw).await;
    b.click_and_wait("form button[type=submit]").await;
}

async fn admin_creates_department_and_user_who_then_logs_in(db: Db) {
    let backend = db.backend().name();
    // A master key, so that the new user can enrol a second factor (voluntary under this
    // server's policy, `off`).
    let mut cfg = config();
    cfg.licenses.master_key = "00112233445566778899aabbccddeeff".into();
    let w = world_with(db, cfg).await;
    let Some(mut b) = Browser::start(&format!("foundation-{backend}")).await else {
        return;
    };

    // Anonymous visitors are sent to the login page.
    b.goto(&format!("{}/admin/users", w.url)).await;
    assert_eq!(b.current_path().await, "/login");
    b.screenshot("login").await;

    // A wrong password shows a clear message beside the form.
    login(&b, &w.url, "admin", "wrong-password1").await;
    assert!(b.body_text().await.contains("用户名或密码错误"));

    login(&b, &w.url, "admin", PW).await;
    assert_eq!(b.current_path().await, "/");
    let nav = b.text("nav.side").await;
    for item in ["行政区划", "单位", "用户"] {
        assert!(nav.contains(item), "admin nav lacks {item}: {nav}");
    }
    // 三员分立: the audit log is the audit administrator's, not the system administrator's.
    assert!(!nav.contains("审计日志"), "{nav}");
    b.screenshot("admin-home").await;

    // A department with a bad credit code is refused with the message beside the field.
    b.goto(&format!("{}/admin/departments", w.url)).await;
    b.fill("#name", "A市浏览器测试局").await;
    b.select("#region_code", "690102").await;
    b.fill("#credit_code", "11100000000013127E").await;
    b.click_and_wait("#new button[type=submit]").await;
    assert_text_has(&b, "#credit_code-error", "校验位").await;
    b.screenshot("department-error").await;
    b.fill("#credit_code", "11100000000013127D").await;
    b.click_and_wait("#new button[type=submit]").await;
    assert!(b.body_text().await.contains("单位已新增"));
    let dept_path = b.current_path().await;
    let dept_id = dept_path.rsplit('/').next().unwrap().to_owned();
    b.screenshot("department-created").await;

    // A user in it, with the handler role.
    b.goto(&format!("{}/admin/users?dept_id={dept_id}", w.url))
        .await;
    fill_all(
        &b,
        &[
            ("#username", "browser_user"),
            ("#display_name", "浏览器测试员"),
            ("#new-password", "Newuser#2026"),
        ],
    )
    .await;
    b.select("#dept_id", &dept_id).await;
    b.click("input[name=roles][value=handler]").await;
    b.click_and_wait("#new button[type=submit]").await;
    assert!(
        b.body_text().await.contains("用户已新增"),
        "{}",
        b.body_text().await
    );
    b.screenshot("user-created").await;

    // The user list shows the new user, masked phone and all.
    b.goto(&format!("{}/admin/users?q=browser", w.url)).await;
    assert_text_has(&b, "table", "浏览器测试员").await;
    b.screenshot("user-list").await;

    // The audit log says it in words: who (name and account), what (新建 用户), the object
    // linked to its page; the chain's check on top; filters by person, object and date. The
    // audit administrator reads it.
    b.click_and_wait("header .who form button").await;
    login(&b, &w.url, "auditadmin", PW).await;
    b.goto(&format!("{}/admin/audit", w.url)).await;
    assert_text_has(&b, "#chain", "审计链完整").await;
    // The newest records are the audit administrator's own login; the user's creation is below.
    let first = b.text("#records tbody").await;
    assert_has_all(&first, &["新建", "用户", "（admin）"]);
    assert!(!first.contains("user:"), "{first}");
    b.screenshot("audit").await;
    b.fill("#user", "admin").await;
    b.select("#entity", "department").await;
    b.click_and_wait("#audit-filter button[type=submit]").await;
    let rows = b.text("#records tbody").await;
    assert!(
        rows.contains("单位") && rows.contains("A市浏览器测试局"),
        "{rows}"
    );
    assert!(!rows.contains("用户 "), "filtered to departments: {rows}");
    b.goto(&format!(
        "{}/admin/audit?from=2030-01-02&to=2030-01-01",
        w.url
    ))
    .await;
    assert_text_has(&b, "#error-summary", "结束日期不能早于开始日期").await;
    b.goto(&format!("{}/admin/audit?entity=user", w.url)).await;
    assert!(href_of(&b, "#records tbody td:nth-child(5) a")
        .await
        .contains("/admin/users/"));
    // The export is a workbook of the same rows, and is itself recorded.
    let auditor = Client::login(&w.url, "auditadmin").await;
    let xlsx = auditor.download("/admin/audit.xlsx?entity=user").await;
    assert_eq!(xlsx.status(), 200);
    let sheet = tabular::read_xlsx(&xlsx.bytes().await.unwrap()).unwrap();
    assert!(sheet.rows.len() >= 2, "{}", sheet.rows.len());
    assert_eq!(sheet.headers[3], "动作");
    b.goto(&format!("{}/admin/audit?entity=audit", w.url)).await;
    assert_text_has(&b, "#records tbody", "导出").await;

    // Log out, log in as the new user — who is signed in elsewhere already (another program,
    // by the API) — : a handler's navigation, no admin pages.
    b.click_and_wait("header .who form button").await;
    assert_eq!(b.current_path().await, "/login");
    let elsewhere = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = elsewhere
        .post(format!("{}/api/v1/auth/login", w.url))
        .json(&serde_json::json!({"username": "browser_user", "password": "Newuser#2026"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    login(&b, &w.url, "browser_user", "Newuser#2026").await;
    assert_eq!(b.current_path().await, "/");
    // 等保: the last login's time and address, shown after login.
    assert_text_has(&b, "#previous-login", "上次登录").await;
    assert_text_has(&b, "#previous-login", "127.0.0.1").await;
    // The sessions page lists both; the other one is ended from here.
    b.click_and_wait("#previous-login a").await;
    assert_eq!(b.current_path().await, "/account/sessions");
    assert_eq!(count(&b, "#sessions tbody tr").await, 2);
    assert_text_has(&b, "#sessions", "当前").await;
    assert_text_has(&b, "#sessions", "Chrome（无界面） · Linux").await;
    b.screenshot("sessions").await;
    b.client
        .execute("window.confirm = function () { return true; };", vec![])
        .await
        .unwrap();
    b.click_and_wait("#sessions tbody form button").await;
    assert_text_has(&b, "main", "已结束该登录会话").await;
    assert_eq!(count(&b, "#sessions tbody tr").await, 1);
    let me = elsewhere
        .get(format!("{}/api/v1/me", w.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.status(),
        401,
        "the ended session no longer signs anyone in"
    );
    b.goto(&format!("{}/", w.url)).await;
    let nav = b.text("nav.side").await;
    assert_has_all(&nav, &["首页", "API 令牌", "登录会话"]);
    for item in ["行政区划", "用户", "审计日志"] {
        assert!(!nav.contains(item), "handler must not see {item}: {nav}");
    }
    assert_text_has(&b, "header .who", "承办人").await;
    b.screenshot("handler-home").await;
    // Admin pages refuse a handler.
    b.goto(&format!("{}/admin/users", w.url)).await;
    assert!(b.body_text().await.contains("没有权限"));

    // Two-factor login: enrol by the page (the code from the secret the page shows), then the
    // login's second step with the next code, then with a recovery code.
    b.goto(&format!("{}/account/two-factor", w.url)).await;
    let secret = org::totp::base32_decode(&b.text("#totp-secret").await).unwrap();
    assert_eq!(secret.len(), 20);
    b.screenshot("two-factor-enrol").await;
    let step = || org::totp::step_of(w.db.now());
    b.fill("#enrol-code", "12ab").await;
    b.click_and_wait("#enrol-form button").await;
    assert_text_has(&b, "#code-error", "只能是数字").await;
    b.fill("#enrol-code", &org::totp::code_at_step(&secret, step()))
        .await;
    b.click_and_wait("#enrol-form button").await;
    let codes: Vec<String> = b
        .text("#recovery-codes")
        .await
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(codes.len(), 10, "{codes:?}");
    b.screenshot("two-factor-recovery-codes").await;
    b.click_and_wait("header .who form button").await;
    login(&b, &w.url, "browser_user", "Newuser#2026").await;
    assert_text_has(&b, "h1", "双因素认证").await;
    b.screenshot("two-factor-login-step").await;
    b.fill("#totp", "12345").await;
    b.click_and_wait("#second-step button").await;
    assert_text_has(&b, "#totp-error", "6 位数字").await;
    b.screenshot("two-factor-login-error").await;
    // The code used to enrol is spent; the next step's is not.
    b.fill("#totp", &org::totp::code_at_step(&secret, step() + 1))
        .await;
    b.click_and_wait("#second-step button").await;
    assert_eq!(b.current_path().await, "/");
    b.click_and_wait("header .who form button").await;
    login(&b, &w.url, "browser_user", "Newuser#2026").await;
    b.click("#use-recovery summary").await;
    b.fill("#recovery_code", &codes[0]).await;
    b.click_and_wait("#second-step button").await;
    assert_eq!(b.current_path().await, "/");
    b.goto(&format!("{}/account/two-factor", w.url)).await;
    assert_text_has(&b, "#two-factor-status", "剩余可用恢复码 9 个").await;

    // Phone width.
    b.set_size(390, 844).await;
    b.goto(&format!("{}/", w.url)).await;
    b.screenshot("handler-home-phone").await;

    // Nothing was requested from outside the server.
    for u in b.loaded_urls().await {
        assert!(
            u.starts_with(&w.url),
            "page loaded {u} from outside the server"
        );
    }
    b.close().await;
    w.server.stop().await;
}
