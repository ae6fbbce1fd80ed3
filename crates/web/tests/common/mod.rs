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
        .user_with("admin", Some("A市数据局"), &[Role::Admin], phone)
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

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
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
