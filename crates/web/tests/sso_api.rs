//! 统一身份认证 (issue 19, part 3): yiwang as an OpenID Connect provider, shown with an
//! independent client — PyPI `authlib` drives the code flow with PKCE, checks the ID token's
//! signature against the JWKS with authlib's jose (across a key rotation), the nonce, userinfo
//! claims, refresh-token rotation and reuse, client_secret_basic, client_secret_post and a
//! public client, and RP-initiated logout — then every refusal the RFCs ask for, with its OAuth
//! error or problem body. One server per backend.

mod common;

use common::*;
use kernel::Db;
use serde_json::{json, Value};
use std::collections::HashMap;

testkit::on_both_backends!(migrations; single_sign_on);

const MASTER: &str = "00112233445566778899aabbccddeeff";
const REDIRECT: &str = "http://127.0.0.1:9/oidc/callback";
const POST_LOGOUT: &str = "http://127.0.0.1:9/bye";
const PHONE: &str = "13812345678";

/// The relying party as authlib sees it; the user-agent part done with `requests`.
const AUTHLIB: &str = r#"
import base64, html, json, re, sys
from urllib.parse import urlparse, parse_qs
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import jwt, JsonWebKey
from authlib.oidc.core import CodeIDToken
from authlib.common.security import generate_token

base, user, password, conf_id, conf_secret, pub_id, redirect, post_logout, admin_token = sys.argv[1:10]
out = {}
disc = requests.get(base + "/.well-known/openid-configuration").json()
out["discovery"] = disc
browser = requests.Session()
browser.post(base + "/api/v1/auth/login", json={"username": user, "password": password}).raise_for_status()

def hidden(page):
    return {html.unescape(n): html.unescape(v)
            for n, v in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', page)}

def authorize(uri):
    """Follows the provider as a browser would, up to the client's redirect URI."""
    r = browser.get(uri, allow_redirects=False)
    if r.status_code == 200 and 'action="/oidc/consent"' in r.text:
        fields = hidden(r.text)
        fields["decision"] = "allow"
        r = browser.post(base + "/oidc/consent", data=fields, allow_redirects=False)
        assert r.status_code == 200, r.status_code
        m = re.search(r'http-equiv="refresh" content="0;url=([^"]*)"', r.text)
        return html.unescape(m.group(1)), True
    assert r.status_code == 302, (r.status_code, r.text[:400])
    return r.headers["Location"], False

def jwks():
    return JsonWebKey.import_key_set(requests.get(disc["jwks_uri"]).json())

def id_claims(token, client_id, nonce):
    claims = jwt.decode(token, jwks(), claims_cls=CodeIDToken,
                        claims_options={"iss": {"essential": True, "value": disc["issuer"]},
                                        "aud": {"essential": True, "value": client_id}},
                        claims_params={"nonce": nonce, "client_id": client_id})
    claims.validate()
    return dict(claims)

def kid(token):
    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["kid"]

def error_of(call):
    try:
        call()
        return "accepted"
    except Exception as e:
        return getattr(e, "error", repr(e))

# 1. A confidential client, client_secret_basic, PKCE S256, every scope.
nonce, verifier = generate_token(20), generate_token(48)
c = OAuth2Session(conf_id, conf_secret, scope="openid profile department roles offline_access",
                  redirect_uri=redirect, code_challenge_method="S256",
                  token_endpoint_auth_method="client_secret_basic")
uri, state = c.create_authorization_url(disc["authorization_endpoint"], nonce=nonce, code_verifier=verifier)
cb, out["first_consent_asked"] = authorize(uri)
token = c.fetch_token(disc["token_endpoint"], authorization_response=cb, state=state, code_verifier=verifier)
out["nonce"] = nonce
out["expires_in"] = token["expires_in"]
out["token_type"] = token["token_type"]
out["id_token"] = id_claims(token["id_token"], conf_id, nonce)
out["kid1"] = kid(token["id_token"])
out["raw_id_token"] = token["id_token"]
out["userinfo"] = c.get(disc["userinfo_endpoint"]).json()

# 2. Key rotation, then refresh: a new refresh token and an ID token by the new key; the old
#    ID token still verifies against the JWKS.
requests.post(base + "/api/v1/sso/keys/rotate", headers={"Authorization": "Bearer " + admin_token}).raise_for_status()
old_refresh = token["refresh_token"]
new = c.refresh_token(disc["token_endpoint"], refresh_token=old_refresh)
out["refresh_rotated"] = new["refresh_token"] != old_refresh
out["refreshed_id_token"] = id_claims(new["id_token"], conf_id, None)
out["kid2"] = kid(new["id_token"])
out["old_id_token_verifies"] = id_claims(token["id_token"], conf_id, nonce)["sub"]
out["userinfo_after_refresh"] = c.get(disc["userinfo_endpoint"]).status_code
# 3. The rotated refresh token used again: refused, and its family revoked.
out["reuse"] = error_of(lambda: c.refresh_token(disc["token_endpoint"], refresh_token=old_refresh))
out["family_after_reuse"] = error_of(lambda: c.refresh_token(disc["token_endpoint"], refresh_token=new["refresh_token"]))

# 4. client_secret_post; the consent is remembered, so no consent page.
nonce2, verifier2 = generate_token(20), generate_token(48)
c2 = OAuth2Session(conf_id, conf_secret, scope="openid profile", redirect_uri=redirect,
                   code_challenge_method="S256", token_endpoint_auth_method="client_secret_post")
uri, state = c2.create_authorization_url(disc["authorization_endpoint"], nonce=nonce2, code_verifier=verifier2)
cb, out["second_consent_asked"] = authorize(uri)
t2 = c2.fetch_token(disc["token_endpoint"], authorization_response=cb, state=state, code_verifier=verifier2)
out["post_id_token"] = id_claims(t2["id_token"], conf_id, nonce2)
out["post_userinfo"] = c2.get(disc["userinfo_endpoint"]).json()
out["no_refresh_without_offline_access"] = "refresh_token" not in t2

# 5. A public client: no secret, PKCE S256.
nonce3, verifier3 = generate_token(20), generate_token(48)
c3 = OAuth2Session(pub_id, None, scope="openid roles", redirect_uri=redirect,
                   code_challenge_method="S256", token_endpoint_auth_method="none")
uri, state = c3.create_authorization_url(disc["authorization_endpoint"], nonce=nonce3, code_verifier=verifier3)
cb, out["public_consent_asked"] = authorize(uri)
t3 = c3.fetch_token(disc["token_endpoint"], authorization_response=cb, state=state, code_verifier=verifier3)
out["public_id_token"] = id_claims(t3["id_token"], pub_id, nonce3)

# 6. RP-initiated logout with id_token_hint and a registered post_logout_redirect_uri.
r = browser.get(disc["end_session_endpoint"], allow_redirects=False,
                params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": post_logout, "state": "bye"})
out["logout"] = [r.status_code, r.headers.get("Location")]
uri, _ = c2.create_authorization_url(disc["authorization_endpoint"], nonce=generate_token(8),
                                     code_verifier=generate_token(48), prompt="none")
r = browser.get(uri, allow_redirects=False)
out["silent_after_logout"] = parse_qs(urlparse(r.headers["Location"]).query).get("error", [None])[0]
out["userinfo_after_logout"] = c2.get(disc["userinfo_endpoint"]).status_code
print(json.dumps(out, ensure_ascii=False))
"#;

struct Sso {
    w: World,
    admin: Client,
    conf: (String, String, i64),
    public: String,
    restricted: (String, String, i64),
}

async fn setup(db: Db) -> Sso {
    let mut cfg = config();
    cfg.licenses.master_key = MASTER.into();
    let w = world_with(db.clone(), cfg).await;
    let org = org::OrgService::new(db.clone(), testkit::city::fast_auth());
    org.update_department(
        &kernel::Actor::cli(),
        w.dept_x,
        org::DepartmentChanges {
            credit_code: Some(kernel::codes::credit_code_with_check("11690100MB0000011")),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let admin = Client::login(&w.url, "admin").await;
    let register = |name: &str, public: bool, depts: Vec<i64>| {
        json!({
            "name": name, "launch_url": "http://127.0.0.1:9/", "redirect_uris": [REDIRECT],
            "post_logout_redirect_uris": [POST_LOGOUT], "public_client": public, "dept_ids": depts,
            "scopes": ["openid", "profile", "department", "roles", "offline_access"],
        })
    };
    let (s, c) = admin
        .post("/api/v1/sso/clients", register("协同办公", false, vec![]))
        .await;
    assert_eq!(s, 201, "{c}");
    let secret = c["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.len() > 40);
    let conf = (
        c["client"]["client_id"].as_str().unwrap().to_owned(),
        secret,
        c["client"]["id"].as_i64().unwrap(),
    );
    let (s, p) = admin
        .post("/api/v1/sso/clients", register("移动审批", true, vec![]))
        .await;
    assert_eq!(s, 201, "{p}");
    assert!(
        p["client_secret"].is_null(),
        "a public client has no secret"
    );
    let (s, r) = admin
        .post(
            "/api/v1/sso/clients",
            register("住建业务系统", false, vec![w.dept_x]),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    // The secret is stored hashed: the list never shows it.
    let (_, list) = admin.get("/api/v1/sso/clients").await;
    assert!(!list.to_string().contains(&conf.1));
    Sso {
        admin,
        public: p["client"]["client_id"].as_str().unwrap().to_owned(),
        restricted: (
            r["client"]["client_id"].as_str().unwrap().to_owned(),
            r["client_secret"].as_str().unwrap().to_owned(),
            r["client"]["id"].as_i64().unwrap(),
        ),
        conf,
        w,
    }
}

async fn single_sign_on(db: Db) {
    let o = setup(db).await;
    with_authlib(&o).await;
    refusals(&o).await;
    registration(&o).await;
    o.w.server.stop().await;
}

// ---------- authlib ----------

async fn with_authlib(o: &Sso) {
    let Some(py) = python_with("authlib, requests", "authlib==1.3.2 requests").await else {
        return;
    };
    // Key management is the 安全管理员's (三员分立).
    let (s, t) = Client::login(&o.w.url, "secadmin")
        .await
        .post(
            "/api/v1/org/tokens",
            json!({"name": "密钥轮换", "scopes": ["sso:write"]}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let out = tokio::process::Command::new(&py)
        .args([
            "-c",
            AUTHLIB,
            &o.w.url,
            "han_x1",
            PW,
            &o.conf.0,
            &o.conf.1,
            &o.public,
            REDIRECT,
            POST_LOGOUT,
            t["token"].as_str().unwrap(),
        ])
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env("PYTHONIOENCODING", "utf-8")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "authlib failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &v["discovery"];
    assert_eq!(d["issuer"], o.w.url);
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(v["first_consent_asked"], true);
    assert_eq!(v["token_type"], "Bearer");
    let id = &v["id_token"];
    let han_x1 = o.w.handler_x1.to_string();
    assert_eq!(id["sub"], han_x1.as_str());
    assert_eq!(id["aud"], o.conf.0.as_str());
    assert_eq!(id["iss"], o.w.url.as_str());
    assert_eq!(id["name"], "测试han_x1");
    // authlib checked the nonce and expiry; the times must also agree with each other: issued
    // now, after the login, living as long as the access token.
    assert_eq!(id["nonce"], v["nonce"]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (iat, exp, auth_time) = (
        id["iat"].as_i64().unwrap(),
        id["exp"].as_i64().unwrap(),
        id["auth_time"].as_i64().unwrap(),
    );
    assert!((now - 120..=now).contains(&iat), "iat {iat}, now {now}");
    assert!(auth_time <= iat && iat - auth_time < 120, "{id}");
    assert_eq!(exp - iat, v["expires_in"].as_i64().unwrap(), "{id}");
    assert_eq!(id["dept_name"], "A市住建局物业科");
    assert_eq!(id["region_code"], "690100");
    assert_eq!(id["roles"], json!(["handler"]));
    assert_eq!(v["userinfo"]["sub"], han_x1.as_str());
    assert_eq!(v["userinfo"]["dept_name"], "A市住建局物业科");
    assert_eq!(v["userinfo"]["roles"], json!(["handler"]));
    assert_eq!(v["userinfo"]["preferred_username"], "han_x1");
    // Personal data never in an ID token or userinfo.
    let raw = v["raw_id_token"].as_str().unwrap();
    let payload = raw.split('.').nth(1).unwrap();
    use base64::Engine;
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let payload = String::from_utf8(payload).unwrap();
    assert!(!payload.contains(PHONE), "{payload}");
    assert!(!v["userinfo"].to_string().contains(PHONE));
    // Rotation and refresh.
    assert_ne!(
        v["kid1"], v["kid2"],
        "the refreshed ID token is signed by the new key"
    );
    assert_eq!(v["refresh_rotated"], true);
    assert_eq!(v["old_id_token_verifies"], han_x1.as_str());
    assert_eq!(v["refreshed_id_token"]["sub"], han_x1.as_str());
    assert_eq!(v["userinfo_after_refresh"], 200);
    assert_eq!(v["reuse"], "invalid_grant");
    assert_eq!(v["family_after_reuse"], "invalid_grant");
    // client_secret_post, consent remembered.
    assert_eq!(v["second_consent_asked"], false);
    assert_eq!(v["post_id_token"]["sub"], han_x1.as_str());
    assert!(
        v["post_userinfo"]["dept_name"].is_null(),
        "department scope not asked"
    );
    assert_eq!(v["post_userinfo"]["preferred_username"], "han_x1");
    assert_eq!(v["no_refresh_without_offline_access"], true);
    // The public client.
    assert_eq!(v["public_consent_asked"], true);
    assert_eq!(v["public_id_token"]["roles"], json!(["handler"]));
    // Logout.
    assert_eq!(
        v["logout"],
        json!([302, format!("{POST_LOGOUT}?state=bye")])
    );
    assert_eq!(v["silent_after_logout"], "login_required");
    assert_eq!(v["userinfo_after_logout"], 401);
    // Every login to a client is in the audit chain.
    let (s, a) = Client::login(&o.w.url, "auditadmin")
        .await
        .get(&format!(
            "/api/v1/audit/records?entity=sso_client&entity_id={}",
            o.conf.2
        ))
        .await;
    assert_eq!(s, 200, "{a}");
    let logins = a
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "login")
        .count();
    assert_eq!(logins, 2, "{a}");
}

// ---------- refusals, driven by hand ----------

/// A browser: cookies kept, redirects not followed.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn signed_in(base: &str, user: &str) -> reqwest::Client {
    let b = browser();
    let r = b
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": PW}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    b
}

fn authorize_url(
    base: &str,
    client_id: &str,
    verifier: Option<&str>,
    extra: &[(&str, &str)],
) -> String {
    let challenge = verifier.map(sso::domain::s256);
    let mut params: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", "openid profile offline_access"),
        ("state", "s-1"),
        ("nonce", "n-1"),
    ];
    if let Some(c) = challenge.as_deref() {
        params.push(("code_challenge", c));
        params.push(("code_challenge_method", "S256"));
    }
    // A case's own value replaces the default of the same name (a repeat would be refused).
    for &(k, v) in extra {
        match params.iter().position(|p| p.0 == k) {
            Some(i) => params[i].1 = v,
            None => params.push((k, v)),
        }
    }
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    format!("{base}/oidc/authorize?{q}")
}

struct Answer {
    status: u16,
    location: Option<String>,
    body: String,
}

async fn fetch(b: &reqwest::Client, url: &str) -> Answer {
    let r = b.get(url).send().await.unwrap();
    Answer {
        status: r.status().as_u16(),
        location: r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned()),
        body: r.text().await.unwrap(),
    }
}

fn query(url: &str) -> HashMap<String, String> {
    let u = url::Url::parse(url).unwrap();
    u.query_pairs().into_owned().collect()
}

fn hidden_fields(page: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in page.split("<input type=\"hidden\" name=\"").skip(1) {
        let (name, rest) = part.split_once('"').unwrap();
        let value = rest
            .split_once("value=\"")
            .unwrap()
            .1
            .split_once('"')
            .unwrap()
            .0;
        out.push((
            name.to_owned(),
            value.replace("&amp;", "&").replace("&quot;", "\""),
        ));
    }
    out
}

/// Authorizes (consenting when asked) and returns the code sent to the redirect URI.
async fn code_for(
    b: &reqwest::Client,
    base: &str,
    client_id: &str,
    verifier: Option<&str>,
) -> String {
    let a = fetch(b, &authorize_url(base, client_id, verifier, &[])).await;
    let to = if a.status == 200 && a.body.contains("/oidc/consent") {
        let mut fields = hidden_fields(&a.body);
        fields.push(("decision".into(), "allow".into()));
        let r = b
            .post(format!("{base}/oidc/consent"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        page.split("content=\"0;url=")
            .nth(1)
            .unwrap_or_else(|| panic!("no onward link: {page}"))
            .split('"')
            .next()
            .unwrap()
            .replace("&amp;", "&")
    } else {
        assert_eq!(a.status, 302, "{}", a.body);
        a.location.unwrap()
    };
    assert!(to.starts_with(REDIRECT), "{to}");
    let q = query(&to);
    assert_eq!(q["state"], "s-1");
    q["code"].clone()
}

async fn token(
    base: &str,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut r = reqwest::Client::new()
        .post(format!("{base}/oidc/token"))
        .form(form);
    if let Some((id, secret)) = basic {
        r = r.basic_auth(id, Some(secret));
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, r.json().await.unwrap(), headers)
}

fn assert_oauth(got: &(u16, Value, reqwest::header::HeaderMap), status: u16, error: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["error"], error, "{}", got.1);
    let desc = got.1["error_description"].as_str().unwrap();
    assert!(
        desc.is_ascii() && !desc.contains('"') && !desc.contains('\\'),
        "RFC 6749 §5.2: {desc}"
    );
    assert!(
        got.1["detail"]
            .as_str()
            .is_some_and(|d| d.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))),
        "zh-CN detail: {}",
        got.1
    );
    assert_eq!(got.2["cache-control"], "no-store");
}

async fn userinfo_status(base: &str, access: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/oidc/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A request the authorization endpoint refuses: client, parameters changed, PKCE verifier,
/// the OAuth error expected.
type RefusedRequest<'a> = (&'a str, Vec<(&'a str, &'a str)>, Option<&'a str>, &'a str);

async fn refusals(o: &Sso) {
    let base = o.w.url.as_str();
    let (cid, secret) = (o.conf.0.as_str(), o.conf.1.as_str());
    let b = signed_in(base, "han_x").await;
    let verifier = "v".repeat(43);

    // Nothing goes to an address that is not registered: a page says why.
    let a = fetch(
        &b,
        &authorize_url(base, "yw-nobody", Some(verifier.as_str()), &[]),
    )
    .await;
    assert_eq!((a.status, a.location.is_none()), (400, true));
    assert!(a.body.contains("未在一网登记"), "{}", a.body);
    let bad_redirect =
        authorize_url(base, cid, Some(verifier.as_str()), &[]).replace("oidc%2Fcallback", "evil");
    let a = fetch(&b, &bad_redirect).await;
    assert_eq!((a.status, a.location.is_none()), (400, true));
    assert!(a.body.contains("回调地址"), "{}", a.body);

    // Other errors go back to the registered redirect URI, with the state.
    let plain = "x".repeat(43);
    let cases: [RefusedRequest; 5] = [
        (
            cid,
            vec![
                ("code_challenge", plain.as_str()),
                ("code_challenge_method", "plain"),
            ],
            None,
            "invalid_request",
        ),
        (
            cid,
            vec![("code_challenge", plain.as_str())],
            None,
            "invalid_request",
        ),
        (o.public.as_str(), vec![], None, "invalid_request"),
        (
            cid,
            vec![("response_type", "token")],
            Some(verifier.as_str()),
            "unsupported_response_type",
        ),
        (
            o.restricted.0.as_str(),
            vec![("scope", "openid email")],
            Some(verifier.as_str()),
            "invalid_scope",
        ),
    ];
    for (client, extra, v, want) in cases {
        let a = fetch(&b, &authorize_url(base, client, v, &extra)).await;
        assert_eq!(a.status, 302, "{want}: {}", a.body);
        let q = query(a.location.as_deref().unwrap());
        assert_eq!(q["error"], want, "{q:?}");
        assert_eq!(q["state"], "s-1");
        assert_eq!(q["iss"], base);
    }

    // Not signed in: the login page with a safe `next`; silently, login_required.
    let anon = browser();
    let a = fetch(
        &anon,
        &authorize_url(base, cid, Some(verifier.as_str()), &[]),
    )
    .await;
    assert_eq!(a.status, 303);
    let to = a.location.unwrap();
    assert!(to.starts_with("/login?next=%2Foidc%2Fauthorize%3F"), "{to}");
    let a = fetch(
        &anon,
        &authorize_url(base, cid, Some(verifier.as_str()), &[("prompt", "none")]),
    )
    .await;
    assert_eq!(
        query(a.location.as_deref().unwrap())["error"],
        "login_required"
    );

    // Signed in, consent not yet given: prompt=none says consent_required.
    let a = fetch(
        &b,
        &authorize_url(base, cid, Some(verifier.as_str()), &[("prompt", "none")]),
    )
    .await;
    assert_eq!(
        query(a.location.as_deref().unwrap())["error"],
        "consent_required"
    );

    // A department the client does not admit: a clear page; silently, access_denied.
    let y = signed_in(base, "han_y").await;
    let a = fetch(
        &y,
        &authorize_url(base, &o.restricted.0, Some(verifier.as_str()), &[]),
    )
    .await;
    assert_eq!(a.status, 403);
    assert!(
        a.body.contains("您所在的单位未被授权使用「住建业务系统」"),
        "{}",
        a.body
    );
    let a = fetch(
        &y,
        &authorize_url(
            base,
            &o.restricted.0,
            Some(verifier.as_str()),
            &[("prompt", "none")],
        ),
    )
    .await;
    assert_eq!(
        query(a.location.as_deref().unwrap())["error"],
        "access_denied"
    );
    // … while the department's own staff (and its sub-departments') get in.
    code_for(&b, base, &o.restricted.0, Some(verifier.as_str())).await;

    // Codes: bound to the redirect URI and the verifier, used once.
    let code = code_for(&b, base, cid, Some(verifier.as_str())).await;
    let exchange = |code: String, redirect: &'static str, v: Option<String>| async move {
        let mut f = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", redirect.to_owned()),
        ];
        if let Some(v) = v {
            f.push(("code_verifier", v));
        }
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        token(base, &f, Some((cid, secret))).await
    };
    assert_oauth(
        &exchange(
            code.clone(),
            "http://127.0.0.1:9/other",
            Some(verifier.clone()),
        )
        .await,
        400,
        "invalid_grant",
    );
    assert_oauth(
        &exchange(code.clone(), REDIRECT, Some("w".repeat(43))).await,
        400,
        "invalid_grant",
    );
    assert_oauth(
        &exchange(code.clone(), REDIRECT, None).await,
        400,
        "invalid_request",
    );
    let ok = exchange(code.clone(), REDIRECT, Some(verifier.clone())).await;
    assert_eq!(ok.0, 200, "{}", ok.1);
    let access = ok.1["access_token"].as_str().unwrap().to_owned();
    assert_eq!(userinfo_status(base, &access).await, 200);
    let again = exchange(code, REDIRECT, Some(verifier.clone())).await;
    assert_oauth(&again, 400, "invalid_grant");
    assert_eq!(
        userinfo_status(base, &access).await,
        401,
        "a reused code revokes what the first use gave"
    );

    // Refresh tokens: rotated; the rotated one used again revokes the family.
    let code = code_for(&b, base, cid, Some(verifier.as_str())).await;
    let t = exchange(code, REDIRECT, Some(verifier.clone())).await.1;
    let r1 = t["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |rt: String| async move {
        token(
            base,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", rt.as_str()),
            ],
            Some((cid, secret)),
        )
        .await
    };
    let t2 = refresh(r1.clone()).await;
    assert_eq!(t2.0, 200, "{}", t2.1);
    let r2 = t2.1["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2);
    assert_oauth(&refresh(r1).await, 400, "invalid_grant");
    assert_oauth(&refresh(r2).await, 400, "invalid_grant");
    assert_eq!(
        userinfo_status(base, t2.1["access_token"].as_str().unwrap()).await,
        401
    );

    // Client authentication and grant types.
    let wrong = token(
        base,
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
        Some((cid, "wrong")),
    )
    .await;
    assert_oauth(&wrong, 401, "invalid_client");
    assert!(wrong.2["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    let both = token(
        base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_secret", secret),
        ],
        Some((cid, secret)),
    )
    .await;
    assert_oauth(&both, 400, "invalid_request");
    let grant = token(
        base,
        &[
            ("grant_type", "password"),
            ("client_id", cid),
            ("client_secret", secret),
        ],
        None,
    )
    .await;
    assert_oauth(&grant, 400, "unsupported_grant_type");
    let public_secret = token(
        base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", o.public.as_str()),
            ("client_secret", "x"),
        ],
        None,
    )
    .await;
    assert_oauth(&public_secret, 401, "invalid_client");
    let r = reqwest::Client::new()
        .get(format!("{base}/oidc/userinfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));

    // A disabled client logs nobody in, and its tokens stop working.
    let code = code_for(&b, base, cid, Some(verifier.as_str())).await;
    let live = exchange(code, REDIRECT, Some(verifier.clone())).await.1;
    let (s, c) = o
        .admin
        .get(&format!("/api/v1/sso/clients/{}", o.conf.2))
        .await;
    assert_eq!(s, 200);
    let mut off = c.clone();
    for k in ["id", "client_id", "created_at", "updated_at"] {
        off.as_object_mut().unwrap().remove(k);
    }
    off["enabled"] = json!(false);
    let (s, changed) = o
        .admin
        .put(&format!("/api/v1/sso/clients/{}", o.conf.2), off.clone())
        .await;
    assert_eq!((s, &changed["enabled"]), (200, &json!(false)), "{changed}");
    let a = fetch(&b, &authorize_url(base, cid, Some(verifier.as_str()), &[])).await;
    assert_eq!((a.status, a.location.is_none()), (403, true));
    assert!(a.body.contains("已停用"), "{}", a.body);
    let t = token(
        base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", live["refresh_token"].as_str().unwrap()),
        ],
        Some((cid, secret)),
    )
    .await;
    assert_oauth(&t, 401, "invalid_client");
    assert_eq!(
        userinfo_status(base, live["access_token"].as_str().unwrap()).await,
        401
    );
    off["enabled"] = json!(true);
    let (s, _) = o
        .admin
        .put(&format!("/api/v1/sso/clients/{}", o.conf.2), off)
        .await;
    assert_eq!(s, 200);
}

// ---------- registration ----------

async fn registration(o: &Sso) {
    let base = o.w.url.as_str();
    // Bad input: every field named, nothing written.
    let (_, before) = o.admin.get("/api/v1/sso/clients").await;
    let got = o
        .admin
        .post(
            "/api/v1/sso/clients",
            json!({"name": "", "launch_url": "oa", "redirect_uris": ["http://x.example/cb#f"], "scopes": ["email"]}),
        )
        .await;
    assert_problem(&got, 422, "validation_failed", None);
    let fields: Vec<&str> = strings_of(&got.1["errors"], "field");
    for f in ["name", "launch_url", "redirect_uris", "scopes"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    let got = o
        .admin
        .post(
            "/api/v1/sso/clients",
            json!({"name": "x", "launch_url": "http://x.example/", "redirect_uris": ["http://x.example/cb"], "dept_ids": [99999]}),
        )
        .await;
    assert_problem(&got, 422, "department_not_found", Some("dept_ids"));
    let got = o
        .admin
        .post("/api/v1/sso/clients", json!({"name": 3}))
        .await;
    assert_problem(&got, 422, "invalid_type", Some("name"));
    let (_, after) = o.admin.get("/api/v1/sso/clients").await;
    assert_eq!(before, after, "nothing half-written");

    // Only administrators register clients (ManageClients), and only with the sso scope.
    let handler = Client::login(base, "han_x").await;
    let got = handler.get("/api/v1/sso/clients").await;
    assert_problem(&got, 403, "forbidden", None);
    let (_, t) = o
        .admin
        .post(
            "/api/v1/org/tokens",
            json!({"name": "组织", "scopes": ["org:write"]}),
        )
        .await;
    let org_only = Client::with_token(base, t["token"].as_str().unwrap());
    let got = org_only
        .post("/api/v1/sso/clients", json!({"name": "x", "launch_url": "http://x.example/", "redirect_uris": ["http://x.example/cb"]}))
        .await;
    assert_problem(&got, 403, "forbidden", None);

    // A new secret replaces the old one; a public client has none.
    let (s, n) = o
        .admin
        .post(
            &format!("/api/v1/sso/clients/{}/secret", o.restricted.2),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{n}");
    let fresh = n["client_secret"].as_str().unwrap();
    let old = token(
        base,
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
        Some((o.restricted.0.as_str(), o.restricted.1.as_str())),
    )
    .await;
    assert_oauth(&old, 401, "invalid_client");
    let new = token(
        base,
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
        Some((o.restricted.0.as_str(), fresh)),
    )
    .await;
    assert_oauth(&new, 400, "invalid_grant");

    // The portal lists what the user may open.
    let (_, mine) = handler.get("/api/v1/sso/portal").await;
    assert_eq!(
        strings_of(&mine, "name"),
        ["协同办公", "移动审批", "住建业务系统"]
    );
    let other = Client::login(base, "han_y").await;
    let (_, theirs) = other.get("/api/v1/sso/portal").await;
    assert_eq!(strings_of(&theirs, "name"), ["协同办公", "移动审批"]);
}
