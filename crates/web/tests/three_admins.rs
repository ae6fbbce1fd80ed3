//! 三员分立 (等保 2.0): the system, security and audit administrators each do their own work
//! and none another's. By the API: no administrator can give itself (or anyone) a role it may
//! not give, and no one holds two of the three. In a real headless Chromium: each is refused
//! the others' pages (the 403 page in Chinese) and can do its own. Screenshots go to
//! artifacts/screenshots/.

mod common;

use common::*;
use kernel::Db;
use serde_json::json;
use testkit::browser::Browser;

testkit::on_both_backends!(migrations; three_administrators_keep_to_their_own_work);

async fn id_of(c: &Client) -> i64 {
    c.get("/api/v1/me").await.1["user_id"].as_i64().unwrap()
}

async fn three_administrators_keep_to_their_own_work(db: Db) {
    let backend = db.backend().name();
    let w = world(db).await;
    let sys = Client::login(&w.url, "admin").await;
    let sec = Client::login(&w.url, "secadmin").await;
    let aud = Client::login(&w.url, "auditadmin").await;
    let (sys_id, sec_id, aud_id) = (id_of(&sys).await, id_of(&sec).await, id_of(&aud).await);
    let user = |id: i64| format!("/api/v1/org/users/{id}");

    // Nobody gives itself another of the three roles: two at once is refused by the rule of
    // separation (naming the field), one in place of its own because no one changes their
    // own roles.
    for (c, id, own) in [
        (&sys, sys_id, "sys_admin"),
        (&sec, sec_id, "sec_admin"),
        (&aud, aud_id, "audit_admin"),
    ] {
        for other in ["sys_admin", "sec_admin", "audit_admin"] {
            if other == own {
                continue;
            }
            let r = c.patch(&user(id), json!({"roles": [own, other]})).await;
            if own == "audit_admin" {
                // It assigns no role at all.
                assert_eq!(r.0, 403, "{}", r.1);
            } else {
                assert_problem(&r, 422, "separation_of_duties", Some("roles"));
                assert!(
                    r.1.to_string().contains("须由不同的人担任"),
                    "{own} + {other}: {}",
                    r.1
                );
            }
            let r = c.patch(&user(id), json!({"roles": [other]})).await;
            assert!(r.0 == 403, "{own} gave itself {other}: {} {}", r.0, r.1);
        }
    }
    // Each still holds exactly its own role.
    for (c, own) in [
        (&sys, "sys_admin"),
        (&sec, "sec_admin"),
        (&aud, "audit_admin"),
    ] {
        assert_eq!(c.get("/api/v1/me").await.1["roles"], json!([own]));
    }

    // The system administrator creates users, with business roles only.
    let dept = w.dept_x;
    let new_user = |name: &str, roles: serde_json::Value| {
        json!({"username": name, "display_name": "新同事", "password": "Newuser#2026",
               "dept_id": dept, "roles": roles})
    };
    let r = sys
        .post(
            "/api/v1/org/users",
            new_user("would_audit", json!(["audit_admin"])),
        )
        .await;
    assert_eq!(r.0, 403, "{}", r.1);
    assert!(r.1.to_string().contains("审计管理员"), "{}", r.1);
    let (_, found) = sys.get("/api/v1/org/users?q=would_audit").await;
    assert_eq!(found["total"], 0, "nothing half-written: {found}");
    let (s, created) = sys
        .post(
            "/api/v1/org/users",
            new_user("colleague", json!(["handler"])),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let colleague = created["id"].as_i64().unwrap();
    // … but not the security administrator, who assigns roles instead.
    let r = sec
        .post(
            "/api/v1/org/users",
            new_user("by_security", json!(["handler"])),
        )
        .await;
    assert_eq!(r.0, 403, "{}", r.1);
    let r = sec
        .patch(&user(colleague), json!({"roles": ["audit_admin"]}))
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(r.1["roles"], json!(["audit_admin"]));
    // The security administrator changes roles, not particulars.
    let r = sec
        .patch(&user(colleague), json!({"display_name": "改名"}))
        .await;
    assert_eq!(r.0, 403, "{}", r.1);
    // The system administrator may not take back a role it may not give, nor take over one
    // of the three's accounts by resetting its password.
    let r = sys
        .patch(&user(colleague), json!({"roles": ["handler"]}))
        .await;
    assert_eq!(r.0, 403, "{}", r.1);
    let r = sys
        .post(
            &format!("{}/password", user(sec_id)),
            json!({"password": "Takeover#2026x"}),
        )
        .await;
    assert_eq!(r.0, 403, "{}", r.1);
    // The audit administrator gives no role at all.
    let r = aud
        .patch(&user(w.handler_y), json!({"roles": ["analyst"]}))
        .await;
    assert_eq!(r.0, 403, "{}", r.1);

    // The audit log is the audit administrator's alone, and every refusal above left the
    // chain whole.
    for c in [&sys, &sec] {
        assert_eq!(c.get("/api/v1/audit/verify").await.0, 403);
        assert_eq!(c.get("/api/v1/audit/records").await.0, 403);
    }
    let (s, v) = aud.get("/api/v1/audit/verify").await;
    assert_eq!(s, 200);
    assert!(v["first_broken"].is_null(), "{v}");
    let (_, hist) = aud
        .get(&format!(
            "/api/v1/audit/records?entity=user&entity_id={colleague}"
        ))
        .await;
    let actions: Vec<&str> = hist
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "update"], "{hist}");
    // No one changes or deletes audit records through the application: there is no such
    // route, for anyone.
    for c in [&sys, &sec, &aud] {
        let r = c.delete("/api/v1/audit/records").await;
        assert!(r.0 == 404 || r.0 == 405, "{}", r.0);
    }

    // ---- in the browser: each is refused the others' pages, and does its own ----
    let Some(mut b) = Browser::start(&format!("three-admins-{backend}")).await else {
        w.server.stop().await;
        return;
    };
    // The system administrator.
    login(&b, &w.url, "admin").await;
    let nav = b.text("nav.side").await;
    assert_has_all(&nav, &["行政区划", "单位", "用户"]);
    assert_has_none(&nav, &["角色分配", "审计日志"]);
    b.goto(&format!("{}/admin/users/{colleague}", w.url)).await;
    assert_text_has(&b, "main", "审计管理员").await;
    // The 三员's role is shown, not offered.
    assert_eq!(count(&b, "input[name=roles][value=audit_admin]").await, 1);
    assert_eq!(
        count(&b, "input[type=checkbox][value=audit_admin]").await,
        0
    );
    b.screenshot("sysadmin-user").await;
    for p in ["/admin/roles", "/admin/audit"] {
        b.goto(&format!("{}{p}", w.url)).await;
        assert_text_has(&b, "main", "没有权限").await;
    }
    b.screenshot("sysadmin-refused-audit").await;
    b.goto(&format!("{}/", w.url)).await;
    logout(&b).await;

    // The security administrator: 角色分配, a role given on the page.
    login(&b, &w.url, "secadmin").await;
    let nav = b.text("nav.side").await;
    assert_has_all(&nav, &["角色分配"]);
    assert_has_none(&nav, &["行政区划", "审计日志"]);
    b.goto(&format!("{}/admin/roles?q=han_y", w.url)).await;
    assert_text_has(&b, "main", "共 1").await;
    b.screenshot("secadmin-roles").await;
    b.click_and_wait("table tbody td a").await;
    assert_eq!(
        b.current_path().await,
        format!("/admin/roles/{}", w.handler_y)
    );
    b.click("input[name=roles][value=analyst]").await;
    b.click_and_wait("#roles-form button[type=submit]").await;
    assert_text_has(&b, "main", "已保存").await;
    assert_eq!(
        run_script(
            &b,
            "return document.querySelector('input[value=analyst]').checked;"
        )
        .await,
        json!(true)
    );
    // Two of the three at once: refused beside the field, nothing saved.
    b.goto(&format!("{}/admin/roles/{colleague}", w.url)).await;
    b.click("input[name=roles][value=sec_admin]").await;
    b.click_and_wait("#roles-form button[type=submit]").await;
    assert_text_has(&b, "#error-summary", "须由不同的人担任").await;
    b.screenshot("secadmin-separation").await;
    // Its own roles it cannot change.
    b.goto(&format!("{}/admin/roles/{sec_id}", w.url)).await;
    assert_text_has(&b, "main", "不能更改自己的角色").await;
    assert_eq!(count(&b, "input[name=roles]").await, 0);
    for p in ["/admin/users", "/admin/departments", "/admin/audit"] {
        b.goto(&format!("{}{p}", w.url)).await;
        assert_text_has(&b, "main", "没有权限").await;
    }
    b.goto(&format!("{}/", w.url)).await;
    logout(&b).await;

    // The audit administrator: searches and exports the log, nothing else.
    login(&b, &w.url, "auditadmin").await;
    let nav = b.text("nav.side").await;
    assert_has_all(&nav, &["审计日志"]);
    assert_has_none(&nav, &["行政区划", "用户", "角色分配"]);
    b.goto(&format!("{}/admin/audit", w.url)).await;
    assert_text_has(&b, "#chain", "审计链完整").await;
    b.fill("#user", "secadmin").await;
    b.click_and_wait("#audit-filter button[type=submit]").await;
    let rows = b.text("#records tbody").await;
    assert!(
        rows.contains("安全管理员") || rows.contains("secadmin"),
        "{rows}"
    );
    b.screenshot("auditadmin-audit").await;
    let xlsx = aud.download("/admin/audit.xlsx?user=secadmin").await;
    assert_eq!(xlsx.status(), 200);
    for p in [
        "/admin/users",
        "/admin/roles",
        "/admin/regions",
        "/sso/clients",
    ] {
        b.goto(&format!("{}{p}", w.url)).await;
        assert_text_has(&b, "main", "没有权限").await;
    }
    b.screenshot("auditadmin-refused").await;
    b.close().await;
    w.server.stop().await;
}
