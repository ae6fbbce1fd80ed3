//! In a real headless Chromium: the admin logs in, creates a department and a user; the new
//! user logs in and sees that role's navigation. Screenshots go to artifacts/screenshots/.

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
    let w = world(db).await;
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
    for item in ["行政区划", "单位", "用户", "审计链"] {
        assert!(nav.contains(item), "admin nav lacks {item}: {nav}");
    }
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

    // Log out, log in as the new user: a handler's navigation, no admin pages.
    b.click_and_wait("header form button").await;
    assert_eq!(b.current_path().await, "/login");
    login(&b, &w.url, "browser_user", "Newuser#2026").await;
    assert_eq!(b.current_path().await, "/");
    let nav = b.text("nav.side").await;
    assert_has_all(&nav, &["首页", "API 令牌"]);
    for item in ["行政区划", "用户", "审计链"] {
        assert!(!nav.contains(item), "handler must not see {item}: {nav}");
    }
    assert_text_has(&b, "header .who", "承办人").await;
    b.screenshot("handler-home").await;
    // Admin pages refuse a handler.
    b.goto(&format!("{}/admin/users", w.url)).await;
    assert!(b.body_text().await.contains("没有权限"));

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
