//! A small org and a running server for the web tests.
#![allow(dead_code)]

use kernel::config::Config;
use kernel::{Db, Role};
use serde_json::{json, Value};

pub fn migrations() -> Vec<kernel::migrate::Migration> {
    web::migrations()
}

pub const PW: &str = testkit::city::PASSWORD;

pub fn config() -> Config {
    let mut c = Config::default();
    // Cheap hashing keeps the suite fast; production keeps the OWASP defaults.
    c.auth.argon2_memory_kib = 1024;
    c.auth.argon2_iterations = 1;
    c.server.body_limit_kb = 64;
    // The suites log in as the admin by password alone; the two-factor tests
    // (`two_factor.rs`, the browser journey) turn the policy on for their own servers.
    c.auth.two_factor = kernel::config::TwoFactorPolicy::Off;
    c
}

pub struct World {
    pub url: String,
    pub server: web::Server,
    pub db: Db,
    pub dept_x: i64,
    pub dept_x1: i64,
    pub dept_y: i64,
    pub admin: i64,
    pub handler_x: i64,
    pub handler_x1: i64,
    pub handler_y: i64,
}

pub async fn world(db: Db) -> World {
    world_with(db, config()).await
}

pub async fn world_with(db: Db, cfg: Config) -> World {
    let phone = Some("13812345678");
    let c = testkit::city::empty()
        .auth(cfg.auth.clone())
        .dept("A市数据局", "690100")
        .dept("A市住建局", "690100")
        .sub_dept("A市住建局物业科", "A市住建局")
        .dept("A市生态环境局", "690100")
        .dept("A2区人民政府", "690103")
        .user_with("admin", Some("A市数据局"), &[Role::SysAdmin], phone)
        .user_with("secadmin", Some("A市数据局"), &[Role::SecAdmin], phone)
        .user_with("auditadmin", Some("A市数据局"), &[Role::AuditAdmin], phone)
        .user_with("han_x", Some("A市住建局"), &[Role::Handler], phone)
        .user_with("han_x1", Some("A市住建局物业科"), &[Role::Handler], phone)
        .user_with("han_y", Some("A市生态环境局"), &[Role::Handler], phone)
        .build(db.clone())
        .await;
    let (x, x1, y) = (
        c.dept("A市住建局"),
        c.dept("A市住建局物业科"),
        c.dept("A市生态环境局"),
    );
    let (admin, hx, hx1, hy) = (
        c.user_id("admin"),
        c.user_id("han_x"),
        c.user_id("han_x1"),
        c.user_id("han_y"),
    );
    let ctx = web::context(db.clone(), cfg);
    let server = web::start(ctx, "127.0.0.1:0").await.unwrap();
    World {
        url: server.url(),
        server,
        db,
        dept_x: x,
        dept_x1: x1,
        dept_y: y,
        admin,
        handler_x: hx,
        handler_x1: hx1,
        handler_y: hy,
    }
}

/// An HTTP client with its own cookie jar and the CSRF token of its session.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
}

impl Client {
    pub fn anonymous(base: &str) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap(),
            base: base.into(),
            csrf: None,
            bearer: None,
        }
    }

    pub async fn login(base: &str, username: &str) -> Client {
        let mut c = Client::anonymous(base);
        let r = c
            .post(
                "/api/v1/auth/login",
                json!({"username": username, "password": PW}),
            )
            .await;
        assert_eq!(r.0, 200, "login {username}: {}", r.1);
        c.csrf = r.1["csrf_token"].as_str().map(str::to_owned);
        c
    }

    pub fn with_token(base: &str, token: &str) -> Client {
        Client {
            bearer: Some(token.into()),
            ..Client::anonymous(base)
        }
    }

    pub fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut b = self
            .http
            .request(method.clone(), format!("{}{}", self.base, path));
        if let Some(t) = &self.bearer {
            b = b.bearer_auth(t);
        }
        if let (Some(c), false) = (&self.csrf, method == reqwest::Method::GET) {
            b = b.header("x-csrf-token", c);
        }
        b
    }

    pub async fn send(
        &self,
        b: reqwest::RequestBuilder,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let r = b.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
            headers,
        )
    }

    /// GET `path` with this session, the answer as it comes (a file, say).
    pub async fn download(&self, path: &str) -> reqwest::Response {
        let url = format!("{}{}", self.base, path);
        self.http.get(url).send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let (s, v, _) = self.send(self.req(reqwest::Method::GET, path)).await;
        (s, v)
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let (s, v, _) = self
            .send(self.req(reqwest::Method::POST, path).json(&body))
            .await;
        (s, v)
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        let (s, v, _) = self
            .send(self.req(reqwest::Method::PATCH, path).json(&body))
            .await;
        (s, v)
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        let (s, v, _) = self
            .send(self.req(reqwest::Method::PUT, path).json(&body))
            .await;
        (s, v)
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let (s, v, _) = self.send(self.req(reqwest::Method::DELETE, path)).await;
        (s, v)
    }

    pub async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        self.send(
            self.req(method, path)
                .header("content-type", content_type)
                .body(body),
        )
        .await
    }
}

/// Asserts a problem+json answer with this status, code and field.
pub fn assert_problem(got: &(u16, Value), status: u16, code: &str, field: Option<&str>) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["code"], code, "{}", got.1);
    assert_eq!(got.1["status"], status);
    assert!(
        got.1["detail"]
            .as_str()
            .is_some_and(|d| d.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))),
        "detail must be zh-CN: {}",
        got.1
    );
    if let Some(f) = field {
        assert_eq!(got.1["field"], f, "{}", got.1);
    }
}

// ---- in a browser ----

/// Signs `user` in through the login form.
pub async fn login(b: &testkit::browser::Browser, url: &str, user: &str) {
    b.goto(&format!("{url}/login")).await;
    b.fill("#username", user).await;
    b.fill("#password", PW).await;
    b.click_and_wait("form button[type=submit]").await;
}

/// Signs out through the header's button.
pub async fn logout(b: &testkit::browser::Browser) {
    b.click_and_wait("header .who form button").await;
}

/// Runs `script` on the current page with `css` as `arguments[0]`; what it returns.
pub async fn run_with(b: &testkit::browser::Browser, script: &str, css: &str) -> Value {
    b.client.execute(script, vec![json!(css)]).await.unwrap()
}

/// How many elements match `css` on the current page.
pub async fn count(b: &testkit::browser::Browser, css: &str) -> usize {
    let n = run_with(
        b,
        "return document.querySelectorAll(arguments[0]).length;",
        css,
    )
    .await;
    n.as_u64().unwrap() as usize
}

/// The `href` of the first element matching `css`.
pub async fn href_of(b: &testkit::browser::Browser, css: &str) -> String {
    let script = "return document.querySelector(arguments[0]).getAttribute('href');";
    let v = run_with(b, script, css).await;
    v.as_str().unwrap().to_owned()
}

/// Scrolls the first element matching `css` into view.
pub async fn scroll_to(b: &testkit::browser::Browser, css: &str) {
    let script = "document.querySelector(arguments[0]).scrollIntoView();";
    run_with(b, script, css).await;
}

// ---- hotline tickets through the service ----

/// `who` submits ticket `id` for dispatch and sends it to department `dept` alone.
pub async fn dispatch_to(svc: &hotline::HotlineService, who: &kernel::Actor, id: i64, dept: i64) {
    use hotline::domain::Action;
    svc.act(who, id, Action::SubmitForDispatch).await.unwrap();
    let dispatch = Action::Dispatch {
        main_dept_id: dept,
        co_dept_ids: vec![],
    };
    svc.act(who, id, dispatch).await.unwrap();
}

/// The department's `handler` acknowledges ticket `id` and replies `text`.
pub async fn acknowledge_and_reply(
    svc: &hotline::HotlineService,
    handler: &kernel::Actor,
    id: i64,
    text: &str,
) {
    use hotline::domain::Action;
    svc.act(handler, id, Action::Acknowledge).await.unwrap();
    let reply = Action::Reply { text: text.into() };
    svc.act(handler, id, reply).await.unwrap();
}

/// The admin imports the category `rows` (each level 1, 2, 3); all categories afterwards.
pub async fn import_categories(admin: &Client, rows: Value) -> Value {
    let (s, b) = admin
        .post("/api/v1/hotline/categories/import", json!({ "rows": rows }))
        .await;
    assert_eq!(s, 200, "{b}");
    admin.get("/api/v1/hotline/categories").await.1
}

/// The id of the category at `path` among `cats`.
pub fn category_id(cats: &Value, path: &str) -> i64 {
    let all = cats.as_array().unwrap();
    let found = all.iter().find(|c| c["path"] == path);
    found.unwrap_or_else(|| panic!("{path} in {cats}"))["id"]
        .as_i64()
        .unwrap()
}

/// A user `测试<username>` with the test password, in `dept`, with `role`.
pub fn test_user(username: &str, dept: Option<i64>, role: Role) -> org::NewUser {
    org::NewUser {
        username: username.into(),
        display_name: format!("测试{username}"),
        password: PW.into(),
        dept_id: dept,
        roles: vec![role],
        phone: None,
        id_card: None,
    }
}

/// Runs `script` on the current page; what it returns.
pub async fn run_script(b: &testkit::browser::Browser, script: &str) -> Value {
    b.client.execute(script, vec![]).await.unwrap()
}

/// Asserts that `text` contains each of `wanted`.
pub fn assert_has_all(text: &str, wanted: &[&str]) {
    for w in wanted {
        assert!(text.contains(w), "{w} not in {text}");
    }
}

/// Asserts that `text` contains none of `unwanted`.
pub fn assert_has_none(text: &str, unwanted: &[&str]) {
    for u in unwanted {
        assert!(!text.contains(u), "{u} in {text}");
    }
}

/// Fills each `(css, value)` field on the current page, in order.
pub async fn fill_all(b: &testkit::browser::Browser, fields: &[(&str, &str)]) {
    for (css, value) in fields {
        b.fill(css, value).await;
    }
}

/// The string `key` of each element of the array `items`.
pub fn strings_of<'a>(items: &'a Value, key: &str) -> Vec<&'a str> {
    let items = items.as_array().unwrap();
    items.iter().map(|i| i[key].as_str().unwrap()).collect()
}

/// On the portal's form: the request's `title` and `content`, the caller's name and phone, and
/// the privacy notice accepted.
pub async fn write_portal_request(
    b: &testkit::browser::Browser,
    title: &str,
    content: &str,
    (name, phone): (&str, &str),
) {
    let fields = [
        ("#title", title),
        ("#content", content),
        ("#caller_name", name),
        ("#caller_phone", phone),
    ];
    fill_all(b, &fields).await;
    b.click("#privacy").await;
}

/// Looks up a request on the portal's tracking page by `number` and `phone`.
pub async fn track_on_portal(b: &testkit::browser::Browser, url: &str, number: &str, phone: &str) {
    b.goto(&format!("{url}/portal/track")).await;
    fill_all(b, &[("#number", number), ("#phone", phone)]).await;
    b.click_and_wait("form button[type=submit]").await;
}

/// Asserts that the text of the first element matching `css` contains `want`.
pub async fn assert_text_has(b: &testkit::browser::Browser, css: &str, want: &str) {
    let text = b.text(css).await;
    assert!(text.contains(want), "{want} not in {css}: {text}");
}

/// The Python interpreter (`YIWANG_PYTHON`, else `python3`) when it can `import` every module
/// of `imports` — an independent client a test drives. Missing in CI is a failure (CI
/// installs them); elsewhere the test says SKIPPED and gets `None`.
#[allow(dead_code)]
pub async fn python_with(imports: &str, install: &str) -> Option<String> {
    let py = std::env::var("YIWANG_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = tokio::process::Command::new(&py)
        .args(["-c", &format!("import {imports}")])
        .output()
        .await
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(py);
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    assert!(!ci, "{imports} missing: {py} -m pip install {install}");
    eprintln!("SKIPPED: {imports} not installed ({py} -m pip install {install})");
    None
}
