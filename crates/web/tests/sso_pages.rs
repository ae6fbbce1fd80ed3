//! 统一身份认证 in a real headless Chromium at 1366×768: the administrator registers 协同办公 on
//! the 接入系统 page (its secret shown once); a member of staff logs in once, opens the 统一门户,
//! launches 协同办公 — a relying party served by this test on another port, which starts the
//! code flow with PKCE, exchanges the code and greets the user by the ID token's name — and
//! sees the consent page the first time only: the second launch passes silently.
//! Screenshots: artifacts/screenshots/sso-*.

mod common;

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use common::*;
use kernel::Db;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use testkit::browser::Browser;

testkit::on_both_backends!(migrations; log_in_once_and_open_systems_from_the_portal);

const MASTER: &str = "00112233445566778899aabbccddeeff";
const VERIFIER: &str = "browser-test-code-verifier-0123456789-abcdefghij";

/// The relying party's memory: its registration and the logins it saw.
#[derive(Default)]
struct Rp {
    idp: String,
    me: String,
    client_id: String,
    secret: String,
    logins: Vec<String>,
}

type Shared = Arc<Mutex<Rp>>;

async fn rp_login(State(rp): State<Shared>) -> impl IntoResponse {
    let r = rp.lock().unwrap();
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &r.client_id)
        .append_pair("redirect_uri", &format!("{}/cb", r.me))
        .append_pair("scope", "openid profile department roles")
        .append_pair("state", "rp-state")
        .append_pair("nonce", "rp-nonce")
        .append_pair("code_challenge", &sso::domain::s256(VERIFIER))
        .append_pair("code_challenge_method", "S256")
        .finish();
    Redirect::to(&format!("{}/oidc/authorize?{q}", r.idp))
}

async fn rp_callback(
    State(rp): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    let (idp, me, id, secret) = {
        let r = rp.lock().unwrap();
        (
            r.idp.clone(),
            r.me.clone(),
            r.client_id.clone(),
            r.secret.clone(),
        )
    };
    let Some(code) = q
        .get("code")
        .filter(|_| q.get("state").map(String::as_str) == Some("rp-state"))
    else {
        return Html(format!("<p id=\"error\">登录失败：{:?}</p>", q));
    };
    let t: Value = reqwest::Client::new()
        .post(format!("{idp}/oidc/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", &format!("{me}/cb")),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let Some(id_token) = t["id_token"].as_str() else {
        return Html(format!("<p id=\"error\">换取令牌失败：{t}</p>"));
    };
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id_token.split('.').nth(1).unwrap())
        .unwrap();
    let claims: Value = serde_json::from_slice(&payload).unwrap();
    // The signature is checked by authlib in sso_api; a relying party must still check that
    // the token is the provider's, meant for it, and answers its own request.
    if claims["iss"] != idp.as_str()
        || claims["aud"] != id.as_str()
        || claims["nonce"] != "rp-nonce"
    {
        return Html(format!("<p id=\"error\">身份令牌不符：{claims}</p>"));
    }
    let name = claims["name"].as_str().unwrap_or("").to_owned();
    rp.lock().unwrap().logins.push(name.clone());
    Html(format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>协同办公</title></head>\
         <body style=\"font-family:sans-serif;margin:2em\"><h1>协同办公</h1>\
         <p id=\"welcome\">欢迎，{name}（{}）</p></body></html>",
        claims["dept_name"].as_str().unwrap_or("")
    ))
}

async fn log_in_once_and_open_systems_from_the_portal(db: Db) {
    let mut cfg = config();
    cfg.licenses.master_key = MASTER.into();
    let w = world_with(db.clone(), cfg).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let me = format!("http://{}", listener.local_addr().unwrap());
    let rp: Shared = Arc::new(Mutex::new(Rp {
        idp: w.url.clone(),
        me: me.clone(),
        ..Rp::default()
    }));
    let app = Router::new()
        .route("/login", get(rp_login))
        .route("/cb", get(rp_callback))
        .with_state(rp.clone());
    let rp_server = tokio::spawn(async move { axum::serve(listener, app).await });
    let Some(mut b) = Browser::start(&format!("sso-{}", db.backend().name())).await else {
        rp_server.abort();
        return;
    };
    b.set_size(1366, 768).await;
    let url = w.url.clone();

    // The administrator registers the system; a bad address is named beside its box.
    login(&b, &url, "admin").await;
    b.goto(&format!("{url}/sso/clients")).await;
    let callback = format!("{me}/cb");
    fill_all(
        &b,
        &[
            ("#name", "协同办公"),
            ("#launch_url", "oa.example"),
            ("#redirect_uris", callback.as_str()),
        ],
    )
    .await;
    b.click_and_wait("#client-form button[type=submit]").await;
    assert_text_has(&b, "#error-summary", "入口地址").await;
    b.fill("#launch_url", &format!("{me}/login")).await;
    b.click_and_wait("#client-form button[type=submit]").await;
    let client_id = b.text("#client-id").await;
    let secret = b.text("#client-secret").await;
    assert!(secret.starts_with("ywcs_"), "{secret}");
    b.screenshot("registered").await;
    // Shown once: the list afterwards names the system but never its secret.
    b.goto(&format!("{url}/sso/clients")).await;
    assert_eq!(count(&b, "#client-secret").await, 0);
    assert!(!b.body_text().await.contains(&secret));
    assert_text_has(&b, "body", "协同办公").await;
    {
        let mut r = rp.lock().unwrap();
        r.client_id = client_id;
        r.secret = secret;
    }
    for u in b.loaded_urls().await {
        assert!(
            u.starts_with(&url),
            "page loaded {u} from outside the server"
        );
    }
    logout(&b).await;

    // One login; the portal shows what the user may open.
    login(&b, &url, "han_x").await;
    b.goto(&format!("{url}/apps")).await;
    assert_eq!(count(&b, "#apps a.app").await, 1);
    assert_text_has(&b, "#apps", "协同办公").await;
    b.screenshot("portal").await;
    for u in b.loaded_urls().await {
        assert!(
            u.starts_with(&url),
            "page loaded {u} from outside the server"
        );
    }

    // The first launch asks for consent, once.
    b.click_and_wait("#apps a.app").await;
    assert_eq!(b.current_path().await, "/oidc/authorize");
    assert_text_has(&b, "#scopes", "您所在的单位").await;
    b.screenshot("consent").await;
    b.click("#allow").await;
    assert_eq!(b.wait_for("#welcome").await, "欢迎，测试han_x（A市住建局）");
    b.screenshot("first-launch").await;

    // The second launch passes silently: straight into the system, no consent page.
    b.goto(&format!("{url}/apps")).await;
    b.click_and_wait("#apps a.app").await;
    assert_eq!(b.wait_for("#welcome").await, "欢迎，测试han_x（A市住建局）");
    assert!(b
        .client
        .current_url()
        .await
        .unwrap()
        .as_str()
        .starts_with(&me));
    b.screenshot("second-launch").await;
    assert_eq!(rp.lock().unwrap().logins, ["测试han_x", "测试han_x"]);
    let admin = Client::login(&url, "admin").await;
    let (_, clients) = admin.get("/api/v1/sso/clients").await;
    let id = clients[0]["id"].as_i64().unwrap();
    let (_, audit) = Client::login(&url, "auditadmin")
        .await
        .get(&format!(
            "/api/v1/audit/records?entity=sso_client&entity_id={id}"
        ))
        .await;
    let consents: Vec<Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "login")
        .map(|r| r["payload"]["consent_given"].clone())
        .collect();
    assert_eq!(consents, [Value::Bool(true), Value::Bool(false)], "{audit}");

    b.close().await;
    rp_server.abort();
    w.server.stop().await;
}
