//! 按编号查找 from the top bar: tickets and cases by number, tolerant of case, full-width
//! characters, dashes and the city prefix; a record the reader may not see answered exactly like
//! an unknown number; bad input a message, never a 500; the box only on staff pages.

mod common;
mod services_common;

use common::*;
use kernel::Db;
use serde_json::{json, Value};
use testkit::browser::Browser;

testkit::on_both_backends!(migrations; lookup_finds_tickets_and_cases_it_may_show, lookup_box_in_the_browser);

/// `s` with its ASCII digits and letters full-width (`1` → `１`, `B` → `Ｂ`).
fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                char::from_u32(c as u32 + 0xFEE0).unwrap()
            } else {
                c
            }
        })
        .collect()
}

fn q(n: &str) -> String {
    webcore::query_value(n)
}

/// A ticket dispatched to 住建局 (`dept_x`), and its number.
async fn ticket(w: &World, admin: &Client) -> (i64, String) {
    let (s, t) = admin
        .post("/api/v1/hotline/tickets", json!({"channel": "phone", "kind": "complaint", "caller_name": "王五", "caller_phone": "13700001111",
            "title": "楼道堆放杂物", "content": "消防通道被堵", "accept": true, "region_code": "690102"}))
        .await;
    assert_eq!(s, 201, "{t}");
    let id = t["id"].as_i64().unwrap();
    let actions = format!("/api/v1/hotline/tickets/{id}/actions");
    let r = admin
        .post(&actions, json!({"action": "submit_for_dispatch"}))
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    let r = admin
        .post(
            &actions,
            json!({"action": "dispatch", "main_dept_id": w.dept_x, "co_dept_ids": []}),
        )
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    (id, t["number"].as_str().unwrap().to_owned())
}

/// A case for the health item, filed at the window by `clerk1`, and its number.
async fn case(w: &World, h: &services_common::Hall) -> (i64, String) {
    let clerk = Client::login(&w.url, "clerk1").await;
    let id_no = kernel::codes::id_card_with_check("11010119900307001");
    let r = clerk
        .post(
            "/api/v1/services/cases",
            json!({
                "item_id": h.health_item,
                "applicant": {"kind": "person", "name": "张三", "id_no": id_no, "phone": "13800138000"},
                "form": {"name": "张三", "id_no": id_no},
                "materials": ["photo", "exam"]
            }),
        )
        .await;
    assert_eq!(r.0, 201, "{}", r.1);
    (
        r.1["id"].as_i64().unwrap(),
        r.1["number"].as_str().unwrap().to_owned(),
    )
}

/// The page at `path` for `c`, following redirects: status, final path, body.
async fn page(c: &Client, path: &str) -> (u16, String, String) {
    let r = c.download(path).await;
    let status = r.status().as_u16();
    let at = r.url().path().to_owned();
    (status, at, r.text().await.unwrap())
}

async fn lookup_finds_tickets_and_cases_it_may_show(db: Db) {
    let w = world(db.clone()).await;
    let h = services_common::hall(&db, "A市数据局").await;
    let admin = Client::login(&w.url, "admin").await;
    let (tid, tno) = ticket(&w, &admin).await;
    assert!(tno.starts_with("A市12345-"), "{tno}");
    let (cid, cno) = case(&w, &h).await;
    assert!(cno.starts_with("BJ"), "{cno}");
    let hx = Client::login(&w.url, "han_x").await;
    let hy = Client::login(&w.url, "han_y").await;
    let health = Client::login(&w.url, "health1").await;

    // A ticket: exact, lower-case, without the city prefix (with or without 12345), with
    // full-width digits, with spaces for dashes.
    let bare = tno.strip_prefix("A市").unwrap();
    for typed in [
        tno.clone(),
        tno.to_lowercase(),
        format!("  {} ", tno.replace("A市", "a市")),
        bare.to_owned(),
        bare.strip_prefix("12345-").unwrap().to_owned(),
        full_width(&tno),
        full_width(bare),
        tno.replace('-', " "),
    ] {
        let (s, v) = hx
            .get(&format!("/api/v1/lookup?number={}", q(&typed)))
            .await;
        assert_eq!(s, 200, "{typed}: {v}");
        assert_eq!(v["kind"], "ticket");
        assert_eq!(v["url"], format!("/hotline/tickets/{tid}"));
        assert!(v["label"].as_str().unwrap().contains(&tno), "{v}");
        let (s, at, _) = page(&hx, &format!("/lookup?number={}", q(&typed))).await;
        assert_eq!(
            (s, at.as_str()),
            (200, format!("/hotline/tickets/{tid}").as_str()),
            "{typed}"
        );
    }

    // A case: exact, lower-case, without its BJ, full-width.
    for typed in [
        cno.clone(),
        cno.to_lowercase(),
        cno.strip_prefix("BJ").unwrap().to_owned(),
        full_width(&cno),
        full_width(&cno.to_lowercase()),
    ] {
        let (s, v) = health
            .get(&format!("/api/v1/lookup?number={}", q(&typed)))
            .await;
        assert_eq!(s, 200, "{typed}: {v}");
        assert_eq!(v["kind"], "case");
        assert_eq!(v["url"], format!("/services/cases/{cid}"));
        let (s, at, _) = page(&health, &format!("/lookup?number={}", q(&typed))).await;
        assert_eq!(
            (s, at.as_str()),
            (200, format!("/services/cases/{cid}").as_str()),
            "{typed}"
        );
    }

    // Another department's ticket is answered exactly like a number nobody has.
    let unknown = {
        let (pre, seq) = tno.rsplit_once('-').unwrap();
        let n: i64 = seq.parse().unwrap();
        format!("{pre}-{:06}", n + 500)
    };
    let hidden_api = hy.get(&format!("/api/v1/lookup?number={}", q(&tno))).await;
    let unknown_api = hy
        .get(&format!("/api/v1/lookup?number={}", q(&unknown)))
        .await;
    assert_problem(&hidden_api, 404, "not_found", None);
    assert_eq!(
        hidden_api.1["detail"],
        format!("未找到编号为 {tno} 的工单或办件（或您无权查看）")
    );
    let same = |v: &Value, n: &str| v.to_string().replace(n, "N");
    assert_eq!(same(&hidden_api.1, &tno), same(&unknown_api.1, &unknown));
    let hidden_page = page(&hy, &format!("/lookup?number={}", q(&tno))).await;
    let unknown_page = page(&hy, &format!("/lookup?number={}", q(&unknown))).await;
    assert_eq!(hidden_page.0, 404);
    assert_eq!(hidden_page.1, "/lookup");
    assert!(
        hidden_page
            .2
            .contains(&format!("未找到编号为 {tno} 的工单或办件（或您无权查看）")),
        "{}",
        hidden_page.2
    );
    assert_eq!(
        (hidden_page.0, hidden_page.2.replace(&tno, "N")),
        (unknown_page.0, unknown_page.2.replace(&unknown, "N"))
    );
    // A handler of 生态环境局 does not see the case of 卫健委 either; the admin sees both.
    let r = hy.get(&format!("/api/v1/lookup?number={}", q(&cno))).await;
    assert_problem(&r, 404, "not_found", None);
    assert_eq!(
        admin
            .get(&format!("/api/v1/lookup?number={}", q(&cno)))
            .await
            .0,
        200
    );

    // Bad input: a message, never a 500.
    for (path, want) in [
        ("/lookup?number=", "请输入工单或办件编号"),
        ("/lookup", "请输入工单或办件编号"),
        ("/lookup?number=%20%E3%80%80-", "请输入工单或办件编号"),
        ("/lookup?x=1&number", "请输入工单或办件编号"),
    ] {
        let (s, _, body) = page(&hx, path).await;
        assert_eq!(s, 422, "{path}");
        assert!(body.contains(want), "{path}: {body}");
        assert!(body.contains("按编号查找"), "the box again");
    }
    let long = "1".repeat(65);
    let (s, _, body) = page(&hx, &format!("/lookup?number={long}")).await;
    assert_eq!(s, 422);
    assert!(body.contains("编号过长"), "{body}");
    assert_problem(
        &hx.get("/api/v1/lookup?number=").await,
        422,
        "required",
        Some("number"),
    );
    assert_problem(
        &hx.get(&format!("/api/v1/lookup?number={long}")).await,
        422,
        "too_long",
        Some("number"),
    );
    for odd in [
        "<script>",
        "%ZZ",
        "A市12345-99999999-000001",
        "BJ",
        "'; drop table x;--",
    ] {
        let (s, v) = hx.get(&format!("/api/v1/lookup?number={}", q(odd))).await;
        assert_eq!(s, 404, "{odd}: {v}");
        // A malformed query string is no number either, not a failure.
        let (s, _, _) = page(&hx, &format!("/lookup?number={odd}&%ZZ")).await;
        assert!(s == 404 || s == 422, "{odd}: {s}");
        let (s, _, body) = page(&hx, &format!("/lookup?number={}", q(odd))).await;
        assert_eq!(s, 404, "{odd}");
        assert!(!body.contains("<script>"), "shown as text");
    }
    assert_problem(
        &Client::anonymous(&w.url)
            .get("/api/v1/lookup?number=1")
            .await,
        401,
        "unauthorized",
        None,
    );

    // The box is on staff pages, never on a citizen's.
    let (_, _, staff_home) = page(&hx, "/").await;
    assert!(staff_home.contains("按编号查找"));
    assert!(staff_home.contains(r#"action="/lookup""#));
    let citizen = Client::login(&w.url, "citizen1").await;
    let (s, _, citizen_home) = page(&citizen, "/").await;
    assert_eq!(s, 200);
    assert!(!citizen_home.contains("按编号查找"), "{citizen_home}");
    assert!(!citizen_home.contains(r#"action="/lookup""#));

    // Documented like the other routes.
    let doc = serde_json::to_value(web::openapi()).unwrap();
    assert!(doc["paths"]["/api/v1/lookup"]["get"].is_object());
    w.server.stop().await;
}

async fn lookup_box_in_the_browser(db: Db) {
    let backend = db.backend().name();
    let w = world(db.clone()).await;
    let admin = Client::login(&w.url, "admin").await;
    let (tid, tno) = ticket(&w, &admin).await;
    let Some(mut b) = Browser::start(&format!("lookup-{backend}")).await else {
        w.server.stop().await;
        return;
    };
    b.set_size(1366, 768).await;
    let url = w.url.clone();
    login(&b, &url, "han_x").await;
    b.goto(&format!("{url}/hotline/inbox")).await;
    b.screenshot("top-bar").await;
    // Lower-case, without the prefix, typed into the top bar → the ticket's page.
    b.fill("#top-lookup", &tno.replace("A市", "").to_lowercase())
        .await;
    b.click_and_wait("form.lookup button").await;
    assert_eq!(b.current_path().await, format!("/hotline/tickets/{tid}"));
    // Unknown → the zh-CN page with the box again; from it, the right number finds the ticket.
    b.fill("#top-lookup", "A市12345-20200101-000009").await;
    b.click_and_wait("header form.lookup button").await;
    assert_eq!(b.current_path().await, "/lookup");
    assert_text_has(
        &b,
        "main",
        "未找到编号为 A市12345-20200101-000009 的工单或办件（或您无权查看）",
    )
    .await;
    b.screenshot("not-found").await;
    b.fill("main #number", &full_width(&tno)).await;
    b.click_and_wait("main form.lookup button").await;
    assert_eq!(b.current_path().await, format!("/hotline/tickets/{tid}"));
    // Signing out still works from the header.
    logout(&b).await;
    assert_eq!(b.current_path().await, "/login");
    b.close().await;
    w.server.stop().await;
}
