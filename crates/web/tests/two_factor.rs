//! Two-factor login over HTTP, checked by an independent TOTP implementation (Python's pyotp
//! reads the `otpauth://` URI the enrolment page shows and computes the codes): an admin forced
//! to enrol, the restricted session (pages redirected, API 403), enrolment by the page, the
//! API's `totp` and `recovery_code`, the login page's second step, bad input named by field.

mod common;

use common::*;
use kernel::Db;
use serde_json::{json, Value};

testkit::on_both_backends!(migrations; an_admin_enrols_and_logs_in_with_codes_pyotp_computes);

const MASTER: &str = "00112233445566778899aabbccddeeff";

/// pyotp's reading of the URI and its codes now and one step ahead.
const PYOTP: &str = r#"
import sys, time, json, pyotp
t = pyotp.parse_uri(sys.argv[1])
print(json.dumps({"secret": t.secret, "name": t.name, "issuer": t.issuer, "digits": t.digits,
                  "interval": t.interval, "digest": t.digest().name,
                  "now": t.now(), "next": t.at(time.time() + 30)}))
"#;

async fn pyotp(py: &str, uri: &str) -> Value {
    let out = tokio::process::Command::new(py)
        .args(["-c", PYOTP, uri])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let i = html
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in page"))
        + start.len();
    let j = html[i..].find(end).unwrap() + i;
    &html[i..j]
}

fn unescape(s: &str) -> String {
    s.replace("&amp;", "&")
}

async fn form(c: &reqwest::Client, url: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
    let r = c.post(url).form(fields).send().await.unwrap();
    let status = r.status().as_u16();
    let path = r.url().path().to_owned();
    (status, path, r.text().await.unwrap())
}

async fn an_admin_enrols_and_logs_in_with_codes_pyotp_computes(db: Db) {
    let Some(py) = python_with("pyotp", "pyotp==2.9.0").await else {
        return;
    };
    let mut cfg = config();
    cfg.auth.two_factor = kernel::config::TwoFactorPolicy::Admins;
    cfg.licenses.master_key = MASTER.into();
    let w = world_with(db, cfg).await;

    // The password alone gives the admin a session that reaches only the enrolment.
    let admin = Client::anonymous(&w.url);
    let (s, v) = admin
        .post(
            "/api/v1/auth/login",
            json!({"username": "admin", "password": PW}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["two_factor_enrolment_required"], true);
    let csrf = v["csrf_token"].as_str().unwrap().to_owned();
    let (s, v) = admin.get("/api/v1/org/users").await;
    assert_eq!(s, 403, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("双因素认证"), "{v}");
    let r = admin
        .http
        .get(format!("{}/admin/users", w.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.url().path(),
        "/account/two-factor",
        "pages lead to the enrolment"
    );
    let page = r.text().await.unwrap();
    assert!(page.contains("须启用双因素认证"), "{page}");
    assert!(page.contains("<svg"), "the QR code");

    // pyotp reads the URI and agrees on the secret shown in text.
    let uri = unescape(between(&page, r#"id="totp-uri" href=""#, "\""));
    let shown: String = between(&page, r#"<code id="totp-secret">"#, "</code>").replace(' ', "");
    let p = pyotp(&py, &uri).await;
    assert_eq!(p["secret"], shown.as_str());
    assert_eq!(p["issuer"], "一网");
    assert_eq!(p["name"], "admin");
    assert_eq!(
        (p["digits"].as_i64(), p["interval"].as_i64()),
        (Some(6), Some(30))
    );
    assert_eq!(p["digest"], "sha1");
    assert_eq!(org::totp::base32_decode(&shown).unwrap().len(), 20);

    // Bad input is named, never a 500; a wrong code does not enrol.
    let url = format!("{}/account/two-factor", w.url);
    for (bad, says) in [
        ("", "请输入动态验证码"),
        ("abcdef", "只能是数字"),
        ("12345", "6 位数字"),
    ] {
        let (s, _, html) = form(
            &admin.http,
            &url,
            &[("_csrf", &csrf), ("action", "enable"), ("code", bad)],
        )
        .await;
        assert_eq!(s, 422, "{bad:?}");
        assert!(html.contains(says), "{bad:?}: {says}");
    }
    let now: String = p["now"].as_str().unwrap().into();
    let (s, _, html) = form(
        &admin.http,
        &url,
        &[("_csrf", &csrf), ("action", "enable"), ("code", &now)],
    )
    .await;
    assert_eq!(s, 200, "{html}");
    let codes: Vec<String> = between(&html, r#"<ol id="recovery-codes">"#, "</ol>")
        .split("<code>")
        .skip(1)
        .map(|x| x.split("</code>").next().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10, "{html}");
    // The restriction is lifted from this session.
    let (s, _) = admin.get("/api/v1/org/users").await;
    assert_eq!(s, 200);

    // The API login now wants the code, names the field, refuses a reused one.
    let api = Client::anonymous(&w.url);
    let login = |extra: Value| {
        let mut body = json!({"username": "admin", "password": PW});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (extra, field) in [
        (json!({}), "totp"),
        (json!({"totp": ""}), "totp"),
        (json!({"totp": "12ab56"}), "totp"),
        (json!({"totp": "1234567"}), "totp"),
        (json!({"totp": now}), "totp"),
        (json!({"recovery_code": "x"}), "recovery_code"),
    ] {
        let (s, v) = api.post("/api/v1/auth/login", login(extra.clone())).await;
        assert_eq!(s, 422, "{extra}: {v}");
        assert_eq!(v["field"], field, "{extra}: {v}");
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{v}"
        );
    }
    let p = pyotp(&py, &uri).await;
    let (s, v) = api
        .post("/api/v1/auth/login", login(json!({"totp": p["next"]})))
        .await;
    assert_eq!(s, 200, "pyotp's code logs in: {v}");
    assert_eq!(v["two_factor_enrolment_required"], false);
    let (s, v) = api
        .post(
            "/api/v1/auth/login",
            login(json!({"recovery_code": codes[0]})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = api
        .post(
            "/api/v1/auth/login",
            login(json!({"recovery_code": codes[0]})),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (422, Some("recovery_code")),
        "spent: {v}"
    );

    // The login page: a second step after the password, bad input named, a recovery code.
    let b = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let html = b
        .get(format!("{}/login", w.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let login_csrf = between(&html, r#"name="_csrf" value=""#, "\"").to_owned();
    let (s, _, html) = form(
        &b,
        &format!("{}/login", w.url),
        &[
            ("_csrf", &login_csrf),
            ("next", "/"),
            ("username", "admin"),
            ("password", PW),
        ],
    )
    .await;
    assert_eq!(s, 200);
    assert!(html.contains(r#"id="second-step""#), "{html}");
    let challenge = between(&html, r#"name="challenge" value=""#, "\"").to_owned();
    let step = format!("{}/login/two-factor", w.url);
    let (s, _, html) = form(
        &b,
        &step,
        &[
            ("_csrf", &login_csrf),
            ("challenge", &challenge),
            ("next", "/"),
            ("totp", "abc"),
        ],
    )
    .await;
    assert_eq!(s, 422);
    assert!(
        html.contains("动态验证码只能是数字") && html.contains(r#"id="totp-error""#),
        "{html}"
    );
    let (s, path, _) = form(
        &b,
        &step,
        &[
            ("_csrf", &login_csrf),
            ("challenge", &challenge),
            ("next", "/"),
            ("totp", ""),
            ("recovery_code", &codes[1]),
        ],
    )
    .await;
    assert_eq!((s, path.as_str()), (200, "/"));
    let me: Value = b
        .get(format!("{}/api/v1/me", w.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "admin");
    // A forged or stale challenge is not a way in.
    let (s, _, html) = form(
        &b,
        &step,
        &[
            ("_csrf", &login_csrf),
            ("challenge", "nope"),
            ("next", "/"),
            ("totp", "123456"),
        ],
    )
    .await;
    assert_eq!(s, 401);
    assert!(html.contains("登录已超时"));

    // The audit log names what happened.
    let recs = kernel::audit::history(&w.db, "user", &w.admin.to_string())
        .await
        .unwrap();
    let actions: Vec<&str> = recs.iter().map(|r| r.action.as_str()).collect();
    for a in ["two_factor_enable", "recovery_code_used"] {
        assert!(actions.contains(&a), "{actions:?}");
    }
    // The reset is the security administrator's (三员分立): the system administrator's user
    // page shows the state and says who resets it.
    let (s, _) = admin.get("/api/v1/me").await;
    assert_eq!(s, 200);
    let html = admin
        .http
        .get(format!("{}/admin/users/{}", w.url, w.admin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("已启用") && html.contains("由安全管理员"),
        "{html}"
    );
    assert!(!html.contains("重置双因素认证"), "{html}");
    w.server.stop().await;
}
