//! What probing found (issue 19, part 1): each finding, shown fixed. Every test runs on SQLite
//! and on PostgreSQL.

mod common;
mod services_common;

use common::*;
use kernel::Db;
use serde_json::{json, Value};

testkit::on_both_backends!(migrations;
    every_operation_checks_the_token_scope,
    personal_data_in_case_forms_is_masked_by_its_kind,
    open311_never_shows_reports,
    one_limit_for_every_public_lookup,
    redirects_stay_on_this_site_and_never_fail,
    login_form_carries_a_csrf_token,
    drafts_of_other_departments_stay_hidden,
    lockout_is_per_account_and_address_and_a_reset_lifts_it,
    own_password_change_needs_the_current_one_and_a_reset_revokes_everything,
    passwords_follow_the_policy,
    passwords_expire_when_configured,
    security_headers_on_every_answer_and_no_inline_script,
    metrics_only_for_configured_addresses_or_the_token,
    open311_api_key_never_in_the_address,
    openapi_component_names_do_not_collide,
);

/// The scopes a token can be granted for one area each.
const SCOPES: &[&str] = &[
    "org:read",
    "org:write",
    "audit:read",
    "hotline:read",
    "hotline:write",
    "services:read",
    "services:write",
    "licenses:read",
    "licenses:write",
];

/// Whether a token granted `scope` may call `method path` at all: its own area's reads with
/// `area:read` or `area:write`, its changes with `area:write`; who-am-I and logout with any.
fn covers(scope: &str, method: &str, path: &str) -> bool {
    let area = path
        .strip_prefix("/api/v1/")
        .and_then(|p| p.split(['/', '.']).next())
        .unwrap_or("");
    if matches!(area, "me" | "auth") {
        return true;
    }
    let Some((s_area, access)) = scope.split_once(':') else {
        return false;
    };
    s_area == area && (access == "write" || method == "get")
}

/// The path with every `{parameter}` filled with a number no record has.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for ch in path.chars() {
        match ch {
            '{' => in_param = true,
            '}' => {
                in_param = false;
                out.push_str("987654");
            }
            _ if in_param => {}
            _ => out.push(ch),
        }
    }
    out
}

async fn call(c: &Client, method: &str, path: &str) -> (u16, Value, String) {
    let m = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
    let mut b = c.http.request(m, format!("{}{}", c.base, path));
    if let Some(t) = &c.bearer {
        b = b.bearer_auth(t);
    }
    if method != "get" && method != "delete" {
        b = b.json(&json!({}));
    }
    let (s, v, h) = c.send(b).await;
    let ct = h
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (s, v, ct)
}

/// Walks every operation of the OpenAPI document with a token of each scope (owned by an
/// admin, so roles never refuse): refused with a 403 problem where the scope does not cover
/// the operation, and never a 5xx, anonymous or not.
async fn every_operation_checks_the_token_scope(db: Db) {
    let w = world(db).await;
    let admin = Client::login(&w.url, "admin").await;
    let mut tokens = Vec::new();
    for scope in SCOPES {
        let (s, created) = admin
            .post(
                "/api/v1/org/tokens",
                json!({"name": format!("探测 {scope}"), "scopes": [scope]}),
            )
            .await;
        assert_eq!(s, 201, "{created}");
        let t = created["token"].as_str().unwrap().to_owned();
        tokens.push((*scope, Client::with_token(&w.url, &t)));
    }
    let doc = serde_json::to_value(web::openapi()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let anon = Client::anonymous(&w.url);
    let mut operations = 0;
    let mut failures = Vec::new();
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            operations += 1;
            let url = concrete(path);
            let (s, v, _) = call(&anon, method, &url).await;
            if s >= 500 {
                failures.push(format!("anonymous {method} {url}: {s} {v}"));
            }
            // Public operations (a citizen's tracking, verification) need no token at all.
            let public = s != 401;
            for (scope, c) in &tokens {
                let (s, v, ct) = call(c, method, &url).await;
                if s >= 500 {
                    failures.push(format!("{scope} {method} {url}: {s} {v}"));
                } else if !public && !covers(scope, method, path) {
                    let refused = s == 403 && ct.starts_with("application/problem+json");
                    if !refused {
                        failures.push(format!("{scope} {method} {url}: {s} instead of 403 ({v})"));
                    }
                }
            }
        }
    }
    assert!(operations > 100, "only {operations} operations walked");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    w.server.stop().await;
}

/// A client that does not follow redirects, so their `Location` can be read; with cookies.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Logs `username` in through the API on `http`; the session's CSRF token.
async fn api_login(http: &reqwest::Client, base: &str, username: &str) -> String {
    let r = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": PW}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    v["csrf_token"].as_str().unwrap().to_owned()
}

async fn add_user(db: &Db, username: &str, dept: &str, role: kernel::Role) {
    let org = services_common_org(db);
    let d = org.department_by_name(dept).await.unwrap().unwrap().id;
    org.create_user(&kernel::Actor::cli(), test_user(username, Some(d), role))
        .await
        .unwrap();
}

fn services_common_org(db: &Db) -> org::OrgService {
    let auth = kernel::config::AuthConfig {
        argon2_memory_kib: 1024,
        argon2_iterations: 1,
        ..Default::default()
    };
    org::OrgService::new(db.clone(), auth)
}

/// 身份证号 and 手机号 typed into a case's form are masked by their kind for readers whose role
/// does not need them (supervisor, analyst), in the API, on the case page and in the public
/// tracking answer; the window and the department see them whole.
async fn personal_data_in_case_forms_is_masked_by_its_kind(db: Db) {
    let w = world(db.clone()).await;
    let h = services_common::hall(&db, "A市数据局").await;
    add_user(&db, "analyst1", "A市数据局", kernel::Role::Analyst).await;
    let clerk = Client::login(&w.url, "clerk1").await;
    let id_no = kernel::codes::id_card_with_check("11010119900307001");
    let masked = kernel::mask::id_card(&id_no);
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
    let id = r.1["id"].as_i64().unwrap();
    let number = r.1["number"].as_str().unwrap().to_owned();
    // The window sees it whole.
    let (_, one) = clerk.get(&format!("/api/v1/services/cases/{id}")).await;
    assert_eq!(one["form"]["id_no"], id_no.as_str(), "{one}");
    for who in ["super1", "analyst1"] {
        let c = Client::login(&w.url, who).await;
        let (s, list) = c.get("/api/v1/services/cases").await;
        assert_eq!(s, 200, "{list}");
        let text = list.to_string();
        assert!(!text.contains(&id_no), "{who} reads the full ID: {text}");
        assert_eq!(list["items"][0]["form"]["id_no"], masked.as_str(), "{list}");
        let (s, page) = c.get(&format!("/services/cases/{id}")).await;
        assert_eq!(s, 200, "{who}");
        assert!(
            !page.as_str().unwrap().contains(&id_no),
            "{who}'s case page"
        );
    }
    let anon = Client::anonymous(&w.url);
    let (s, t) = anon
        .post(
            "/api/v1/services/public/track",
            json!({"number": number, "phone": "13800138000"}),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    assert!(!t.to_string().contains(&id_no), "{t}");
    assert_eq!(t["cases"][0]["form"]["id_no"], masked.as_str());
    w.server.stop().await;
}

/// 举报 (whistle-blower) tickets never leave through Open311: not listed, not found by number.
async fn open311_never_shows_reports(db: Db) {
    let w = world(db).await;
    let admin = Client::login(&w.url, "admin").await;
    let mut numbers = Vec::new();
    for (kind, title) in [
        ("report", "举报某单位违规收费"),
        ("complaint", "楼道堆放杂物"),
    ] {
        let (s, t) = admin
            .post(
                "/api/v1/hotline/tickets",
                json!({"channel": "phone", "kind": kind, "caller_name": "王五", "caller_phone": "13700001111",
                       "title": title, "content": "情况说明", "accept": true, "region_code": "690102"}),
            )
            .await;
        assert_eq!(s, 201, "{t}");
        numbers.push(t["number"].as_str().unwrap().to_owned());
    }
    let anon = Client::anonymous(&w.url);
    let (s, list) = anon.get("/open311/v2/requests.json").await;
    assert_eq!(s, 200, "{list}");
    let text = list.to_string();
    assert!(
        !text.contains(&numbers[0]) && !text.contains("违规收费"),
        "{text}"
    );
    assert!(text.contains(&numbers[1]), "{text}");
    let (s, one) = anon
        .get(&format!("/open311/v2/requests/{}.json", numbers[0]))
        .await;
    assert_eq!(s, 404, "{one}");
    let (_, by) = anon
        .get(&format!(
            "/open311/v2/requests.json?service_request_id={}",
            numbers[0]
        ))
        .await;
    assert!(!by.to_string().contains("违规收费"), "{by}");
    w.server.stop().await;
}

/// Guessing on one lookup counts on all four: once one answers 429, so do the others.
async fn one_limit_for_every_public_lookup(db: Db) {
    let w = world(db).await;
    let http = reqwest::Client::new();
    let lookups = |i: usize| {
        let http = http.clone();
        let base = w.url.clone();
        async move {
            let number = format!("NOPE{i:04}");
            let r = match i % 4 {
                0 => http
                    .post(format!("{base}/portal/track"))
                    .form(&[("number", number.as_str()), ("phone", "13800000000")]),
                1 => http
                    .post(format!("{base}/api/v1/hotline/public/track"))
                    .json(&json!({"number": number, "phone": "13800000000"})),
                2 => http
                    .post(format!("{base}/api/v1/services/public/track"))
                    .json(&json!({"number": number, "phone": "13800000000"})),
                _ => http
                    .post(format!("{base}/guide/track"))
                    .form(&[("number", number.as_str()), ("phone", "13800000000")]),
            };
            r.send().await.unwrap().status().as_u16()
        }
    };
    let mut first_refusal = None;
    for i in 0..200 {
        let s = lookups(i).await;
        assert!(s < 500, "lookup {i}: {s}");
        if s == 429 {
            first_refusal = Some(i);
            break;
        }
    }
    let first = first_refusal.expect("no lookup was ever refused");
    for i in first + 1..first + 5 {
        assert_eq!(
            lookups(i).await,
            429,
            "lookup kind {} after the limit",
            i % 4
        );
    }
    w.server.stop().await;
}

/// `next` and `back` lead only to this site's paths; odd ones fall back, never a 500 — and a
/// change is not answered with a 500 after it was made.
async fn redirects_stay_on_this_site_and_never_fail(db: Db) {
    let w = world(db).await;
    for next in [
        "/\t/evil.example/phish",
        "//evil.example/",
        "/\\evil.example/",
        "/hotline/\n",
        "https://evil.example/",
        "/\r\nSet-Cookie: a=b",
    ] {
        let http = no_redirects();
        let page = http
            .get(format!("{}/login?next={}", w.url, percent(next)))
            .send()
            .await
            .unwrap();
        assert!(page.status().as_u16() < 500, "{next:?}");
        let html = page.text().await.unwrap();
        let csrf = hidden(&html, "_csrf");
        let r = http
            .post(format!("{}/login", w.url))
            .form(&[
                ("username", "admin"),
                ("password", PW),
                ("next", next),
                ("_csrf", csrf.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303, "{next:?}");
        let to = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(safe_location(&to), "{next:?} led to {to:?}");
    }
    // A workbench form's `back` with a line break: the action is done and answered plainly.
    let admin = Client::login(&w.url, "admin").await;
    let (s, t) = admin
        .post(
            "/api/v1/hotline/tickets",
            json!({"channel": "phone", "kind": "complaint", "caller_name": "王五", "caller_phone": "13700001111",
                   "title": "楼道堆放杂物", "content": "消防通道被堵", "accept": true, "region_code": "690102"}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let id = t["id"].as_i64().unwrap();
    let http = no_redirects();
    let csrf = api_login(&http, &w.url, "admin").await;
    for back in ["/hotline/\n", "/hotline/\t/evil.example", "/hotline/%0d%0a"] {
        let r = http
            .post(format!("{}/hotline/tickets/{id}/act", w.url))
            .form(&[
                ("action", "submit_for_dispatch"),
                ("back", back),
                ("_csrf", csrf.as_str()),
            ])
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        assert!(s < 500, "back {back:?}: {s}");
        if let Some(to) = r.headers().get("location") {
            assert!(safe_location(to.to_str().unwrap()), "{to:?}");
        }
    }
    let (_, t) = admin.get(&format!("/api/v1/hotline/tickets/{id}")).await;
    assert_eq!(t["status"], "pending_dispatch", "{t}");
    w.server.stop().await;
}

/// `s` with every byte but letters and digits percent-encoded.
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A path on this site: one leading slash, no backslash, no control character, no scheme.
fn safe_location(to: &str) -> bool {
    to.starts_with('/')
        && !to.starts_with("//")
        && !to.contains('\\')
        && !to.chars().any(|c| c.is_control())
        && !to.contains("evil.example")
}

/// The value of the hidden input `name` in `html`.
fn hidden(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no {name} field in {html}"));
    let tag_start = html[..at].rfind('<').unwrap();
    let tag_end = at + html[at..].find('>').unwrap();
    let tag = &html[tag_start..tag_end];
    let v = tag.find("value=\"").expect("no value") + 7;
    tag[v..v + tag[v..].find('"').unwrap()].to_owned()
}

/// Login CSRF: a login form posted from elsewhere (without the form's token) logs nobody in.
async fn login_form_carries_a_csrf_token(db: Db) {
    let w = world(db).await;
    let http = no_redirects();
    let r = http
        .post(format!("{}/login", w.url))
        .form(&[("username", "admin"), ("password", PW), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.headers().get("set-cookie").is_none_or(|c| !c
        .to_str()
        .unwrap()
        .starts_with(&format!("{}=", webcore::SESSION_COOKIE))
        || c.to_str().unwrap().contains("Max-Age=0")));
    // Another browser's token does not do either.
    let other = no_redirects();
    let html = other
        .get(format!("{}/login", w.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let stolen = hidden(&html, "_csrf");
    let r = http
        .post(format!("{}/login", w.url))
        .form(&[("username", "admin"), ("password", PW), ("_csrf", &stolen)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    w.server.stop().await;
}

/// A handler of another department sees neither a department's unpublished draft nor who
/// edited it; the department's own approver does.
async fn drafts_of_other_departments_stay_hidden(db: Db) {
    let w = world(db.clone()).await;
    let h = services_common::hall(&db, "A市数据局").await;
    let health = Client::login(&w.url, "health1").await;
    let path = format!("/api/v1/services/items/{}", h.health_item);
    let (s, versions) = health.get(&format!("{path}/versions")).await;
    assert_eq!(s, 200, "{versions}");
    let mut draft = versions.as_array().unwrap().last().unwrap().clone();
    for k in [
        "id",
        "version",
        "status",
        "region_code",
        "created_at",
        "published_at",
    ] {
        draft.as_object_mut().unwrap().remove(k);
    }
    draft["name"] = json!("食品从业人员健康证明（秘密草稿）");
    let (s, saved) = health.put(&path, draft).await;
    assert_eq!(s, 200, "{saved}");
    assert_eq!(saved["status"], "draft");
    let (_, own) = health.get(&format!("{path}/versions")).await;
    assert!(own.to_string().contains("秘密草稿"));
    let hx = Client::login(&w.url, "han_x").await;
    let (s, theirs) = hx.get(&format!("{path}/versions")).await;
    assert_eq!(s, 200, "{theirs}");
    assert!(!theirs.to_string().contains("秘密草稿"), "{theirs}");
    assert!(theirs
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v["status"] != "draft"));
    let (s, hist) = hx.get(&format!("{path}/history")).await;
    assert_eq!(s, 200, "{hist}");
    let draft_version = saved["version"].as_i64().unwrap();
    assert!(
        hist.as_array()
            .unwrap()
            .iter()
            .all(|c| c["version"] != draft_version),
        "{hist}"
    );
    let (s, _) = hx.get(&format!("{path}/versions/{draft_version}")).await;
    assert_eq!(s, 404);
    w.server.stop().await;
}

/// Five wrong passwords from one address lock the account *from that address* only; the
/// owner elsewhere still logs in; an admin's reset lifts the lock and the lockout is in the
/// audit chain for the security administrators.
async fn lockout_is_per_account_and_address_and_a_reset_lifts_it(db: Db) {
    let w = world(db.clone()).await;
    add_user(&db, "admin2", "A市数据局", kernel::Role::SecAdmin).await;
    let org = services_common_org(&db);
    let attacker = "203.0.113.9";
    for _ in 0..5 {
        let e = org
            .login("admin", "Wrong@12345", attacker, "probe")
            .await
            .unwrap_err();
        assert!(matches!(e, kernel::Error::Unauthorized(_)), "{e:?}");
    }
    let e = org.login("admin", PW, attacker, "probe").await.unwrap_err();
    assert!(matches!(e, kernel::Error::RateLimited { .. }), "{e:?}");
    // The owner, from their own address, is not locked out.
    org.login("admin", PW, "198.51.100.7", "browser")
        .await
        .expect("not locked from another address");
    let locks = kernel::audit::history(&db, "session", "admin")
        .await
        .unwrap();
    assert!(locks.iter().any(|r| r.action == "lockout"), "{locks:?}");
    // A reset by the security administrator (an administrator's account is not the system
    // administrator's to reset) lifts the lock, for the attacker's address too.
    let admin2 = Client::login(&w.url, "admin2").await;
    let (s, v) = admin2
        .post(
            &format!("/api/v1/org/users/{}/password", w.admin),
            json!({"password": "Reset#2026abc"}),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    org.login("admin", "Reset#2026abc", attacker, "probe")
        .await
        .expect("unlocked by the reset");
    w.server.stop().await;
}

/// Changing one's own password needs the current one; a reset ends the user's sessions and
/// revokes their API tokens.
async fn own_password_change_needs_the_current_one_and_a_reset_revokes_everything(db: Db) {
    let w = world(db.clone()).await;
    add_user(&db, "admin2", "A市数据局", kernel::Role::SecAdmin).await;
    let admin = Client::login(&w.url, "admin").await;
    let me = format!("/api/v1/org/users/{}/password", w.admin);
    assert_problem(
        &admin.post(&me, json!({"password": "Fresh#2026xyz"})).await,
        422,
        "required",
        Some("current_password"),
    );
    assert_problem(
        &admin
            .post(
                &me,
                json!({"password": "Fresh#2026xyz", "current_password": "Wrong@12345"}),
            )
            .await,
        422,
        "wrong_password",
        Some("current_password"),
    );
    let admin = Client::login(&w.url, "admin").await;
    let (s, created) = admin
        .post(
            "/api/v1/org/tokens",
            json!({"name": "机器", "scopes": ["org:read"]}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let machine = Client::with_token(&w.url, created["token"].as_str().unwrap());
    assert_eq!(machine.get("/api/v1/me").await.0, 200);
    let admin2 = Client::login(&w.url, "admin2").await;
    let (s, v) = admin2.post(&me, json!({"password": "Fresh#2026xyz"})).await;
    assert_eq!(s, 204, "{v}");
    assert_eq!(admin.get("/api/v1/me").await.0, 401, "session ended");
    assert_eq!(machine.get("/api/v1/me").await.0, 401, "token revoked");
    w.server.stop().await;
}

/// 10 characters of three classes, not the username, not a common leaked password, not one
/// of the last five.
async fn passwords_follow_the_policy(db: Db) {
    let w = world(db.clone()).await;
    let admin = Client::login(&w.url, "admin").await;
    let user = |pw: &str, name: &str| json!({"username": name, "display_name": "新人", "password": pw, "dept_id": w.dept_x, "roles": ["handler"]});
    for (pw, code) in [
        ("abc12345", "weak_password"),
        ("abcdefgh12", "weak_password"),
        ("Newbie@2026", "password_has_username"),
        ("P@ssw0rd123", "common_password"),
    ] {
        assert_problem(
            &admin.post("/api/v1/org/users", user(pw, "newbie")).await,
            422,
            code,
            Some("password"),
        );
    }
    let (s, u) = admin
        .post("/api/v1/org/users", user("First#2026aa", "newbie"))
        .await;
    assert_eq!(s, 201, "{u}");
    let path = format!("/api/v1/org/users/{}/password", u["id"]);
    let history = [
        "Second#2026a",
        "Third#2026ab",
        "Fourth#2026a",
        "Fifth#2026ab",
    ];
    for pw in history {
        let (s, v) = admin.post(&path, json!({"password": pw})).await;
        assert_eq!(s, 204, "{pw}: {v}");
    }
    // The first of the five is still remembered; then a sixth pushes it out.
    assert_problem(
        &admin.post(&path, json!({"password": "First#2026aa"})).await,
        422,
        "password_reused",
        Some("password"),
    );
    let (s, _) = admin.post(&path, json!({"password": "Sixth#2026ab"})).await;
    assert_eq!(s, 204);
    let (s, v) = admin.post(&path, json!({"password": "First#2026aa"})).await;
    assert_eq!(s, 204, "{v}");
    w.server.stop().await;
}

/// Every answer carries the security headers; answers with personal data are not stored; no
/// page has an inline script or an `on…=` handler (the CSP would block it).
async fn security_headers_on_every_answer_and_no_inline_script(db: Db) {
    let w = world(db.clone()).await;
    services_common::hall(&db, "A市数据局").await;
    let admin = Client::login(&w.url, "admin").await;
    let anon = Client::anonymous(&w.url);
    let pages = [
        "/",
        "/hotline",
        "/hotline/inbox",
        "/hotline/intake",
        "/hotline/dispatch",
        "/hotline/kb",
        "/hotline/analytics",
        "/services",
        "/services/items",
        "/services/desk",
        "/services/report",
        "/admin/users",
        "/admin/departments",
        "/account/tokens",
        "/audit",
        "/licenses",
    ];
    let public = [
        "/login",
        "/portal",
        "/portal/track",
        "/portal/new",
        "/guide",
        "/guide/track",
    ];
    let mut checked = 0;
    for (c, path) in pages
        .iter()
        .map(|p| (&admin, *p))
        .chain(public.iter().map(|p| (&anon, *p)))
    {
        let r = c.send(c.http.get(format!("{}{path}", w.url))).await;
        let (s, body, h) = r;
        if s == 404 {
            continue;
        }
        checked += 1;
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{path}: {csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        let html = body.as_str().unwrap_or_default().to_lowercase();
        for tag in html.split('<').skip(1) {
            let open = &tag[..tag.find('>').unwrap_or(tag.len())];
            if open.starts_with("script") {
                assert!(open.contains("src="), "{path}: inline script <{open}>");
            }
            for attr in open.split_whitespace().skip(1) {
                let name = attr.split('=').next().unwrap_or("");
                assert!(
                    !(name.len() > 2
                        && name.starts_with("on")
                        && name.bytes().all(|b| b.is_ascii_lowercase())
                        && attr.contains('=')),
                    "{path}: inline handler in <{open}>"
                );
            }
            assert!(!open.contains("javascript:"), "{path}: <{open}>");
        }
    }
    assert!(checked >= 10, "only {checked} pages answered");
    let (_, _, h) = admin
        .send(admin.http.get(format!("{}/api/v1/me", w.url)))
        .await;
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let (_, _, h) = anon
        .send(
            anon.http
                .get(format!("{}{}", w.url, webcore::assets::JS_PATH)),
        )
        .await;
    assert!(h["cache-control"].to_str().unwrap().contains("immutable"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    w.server.stop().await;
}

/// `/metrics` answers only the configured addresses or the configured token.
async fn metrics_only_for_configured_addresses_or_the_token(db: Db) {
    let mut cfg = config();
    cfg.server.metrics_allow = vec!["192.0.2.1".into()];
    cfg.server.metrics_token = "metrics-secret-token".into();
    let w = world_with(db, cfg).await;
    let anon = Client::anonymous(&w.url);
    let (s, _, _) = anon.send(anon.http.get(format!("{}/metrics", w.url))).await;
    assert_eq!(s, 403);
    let wrong = Client::with_token(&w.url, "guess");
    let (s, _, _) = wrong
        .send(wrong.req(reqwest::Method::GET, "/metrics"))
        .await;
    assert_eq!(s, 403);
    let ok = Client::with_token(&w.url, "metrics-secret-token");
    let (s, body, _) = ok.send(ok.req(reqwest::Method::GET, "/metrics")).await;
    assert_eq!(s, 200, "{body}");
    assert!(body
        .as_str()
        .unwrap()
        .contains("yiwang_http_requests_total"));
    let db = w.db.clone();
    w.server.stop().await;
    // The default: this machine only (the tests' client is on it).
    let ctx = web::context(db, config());
    let server = web::start(ctx, "127.0.0.1:0").await.unwrap();
    let anon = Client::anonymous(&server.url());
    let (s, _, _) = anon
        .send(anon.http.get(format!("{}/metrics", server.url())))
        .await;
    assert_eq!(s, 200);
    server.stop().await;
}

/// Open311 takes the `api_key` from the form or the `X-Api-Key` header, never from the URL.
async fn open311_api_key_never_in_the_address(db: Db) {
    let w = world(db).await;
    let admin = Client::login(&w.url, "admin").await;
    let (s, created) = admin
        .post(
            "/api/v1/org/tokens",
            json!({"name": "网格系统", "scopes": ["hotline:write"]}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let key = created["token"].as_str().unwrap().to_owned();
    let http = reqwest::Client::new();
    let form = [("service_code", "1"), ("description", "路灯不亮")];
    let r = http
        .post(format!("{}/open311/v2/requests.json?api_key={key}", w.url))
        .form(&form)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    let body = r.text().await.unwrap();
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("api_key"), "{body}");
    // In a header it is taken (and the answer is about the input, not the key).
    let r = http
        .post(format!("{}/open311/v2/requests.json", w.url))
        .header("x-api-key", &key)
        .form(&form)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    let body = r.text().await.unwrap();
    assert!(s != 403 && s < 500, "{s} {body}");
    w.server.stop().await;
}

/// Every module's schemas reach the one document under their own names: none replaced by
/// another module's schema of the same name.
async fn openapi_component_names_do_not_collide(_db: Db) {
    let doc = serde_json::to_value(web::openapi()).unwrap();
    let merged = &doc["components"]["schemas"];
    let mut clashes = Vec::new();
    for m in web::modules() {
        let own = serde_json::to_value(&m.openapi).unwrap();
        if let Some(schemas) = own["components"]["schemas"].as_object() {
            for (name, schema) in schemas {
                if &merged[name] != schema {
                    clashes.push(format!("{}: {name}", m.name));
                }
            }
        }
    }
    assert!(
        clashes.is_empty(),
        "replaced in the merged document: {clashes:?}"
    );
}

/// With `auth.password_max_age_days`, a password older than that no longer logs in until it
/// is reset; without it (the default) passwords do not expire.
async fn passwords_expire_when_configured(db: Db) {
    let mut db = db;
    let start = 1_780_000_000_000;
    db.clock = kernel::clock::Clock::manual(start);
    let mut cfg = config();
    cfg.auth.password_max_age_days = 90;
    let w = world_with(db.clone(), cfg.clone()).await;
    let org = org::OrgService::new(db.clone(), cfg.auth.clone());
    org.login("han_x", PW, "127.0.0.1", "t")
        .await
        .expect("fresh");
    db.clock.set(start + 91 * 86_400_000);
    let e = org.login("han_x", PW, "127.0.0.1", "t").await.unwrap_err();
    assert!(
        matches!(&e, kernel::Error::Unauthorized(m) if m.contains("过期")),
        "{e:?}"
    );
    // Every password of the same age has expired; a reset makes han_x's new one fresh.
    let admin = org.login("admin", PW, "127.0.0.1", "t").await.unwrap_err();
    assert!(matches!(admin, kernel::Error::Unauthorized(_)));
    let cli = kernel::Actor::cli();
    org.set_password(&cli, w.handler_x, None, "Renewed#2026x")
        .await
        .unwrap();
    org.login("han_x", "Renewed#2026x", "127.0.0.1", "t")
        .await
        .expect("reset password is fresh");
    // Without the setting nothing expires.
    let plain = org::OrgService::new(db.clone(), config().auth);
    plain
        .login("han_y", PW, "127.0.0.1", "t")
        .await
        .expect("no expiry by default");
    w.server.stop().await;
}
