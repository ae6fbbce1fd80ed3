//! Clients, scopes, authorization requests and their checks, PKCE, OAuth errors. Pure: no
//! database, no HTTP framework.

use base64::Engine;
use kernel::error::{Checks, Result};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The scopes this provider knows, in the order the consent page lists them.
pub const SCOPES: &[(&str, &str)] = &[
    ("openid", "确认您的身份（账号编号）"),
    ("profile", "您的姓名和用户名"),
    ("department", "您所在的单位及其行政区划"),
    ("roles", "您在一网中的角色"),
    ("offline_access", "在您离开后继续保持访问（刷新令牌）"),
];

/// How long an authorization code lives: it is exchanged at once by the client's server.
pub const CODE_TTL_MS: i64 = 60_000;
/// Access tokens (userinfo) and ID tokens.
pub const ACCESS_TTL_MS: i64 = 10 * 60_000;
/// Refresh tokens (offline_access): each is used once and replaced.
pub const REFRESH_TTL_MS: i64 = 30 * 24 * 3_600_000;

pub fn scope_known(s: &str) -> bool {
    SCOPES.iter().any(|(k, _)| *k == s)
}

/// A registered client system as people see it; the secret never.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(as = SsoClient)]
pub struct Client {
    pub id: i64,
    pub client_id: String,
    pub name: String,
    /// One or two characters shown on the 统一门户 tile.
    pub icon_text: String,
    /// The tile's colour, `#rrggbb`.
    pub icon_color: String,
    /// Where the 统一门户 opens the system (its own page that starts the login here).
    pub launch_url: String,
    /// Exact-match redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Exact-match addresses to return to after logout.
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    /// Departments whose users (with their sub-departments) may log in; empty for all staff.
    pub dept_ids: Vec<i64>,
    /// A public client (a browser or mobile app) has no secret and must use PKCE S256.
    pub public_client: bool,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A client to register, or its new settings (the JSON API and the page's form).
#[derive(Debug, Clone, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
#[schema(as = SsoClientInput)]
pub struct ClientInput {
    pub name: String,
    /// Defaults to the name's first character.
    #[serde(default)]
    pub icon_text: Option<String>,
    #[serde(default)]
    pub icon_color: Option<String>,
    pub launch_url: String,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Defaults to `openid profile department roles`.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub dept_ids: Vec<i64>,
    #[serde(default)]
    pub public_client: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// The tile colours offered on the page (any `#rrggbb` is taken by the API).
pub const COLORS: &[(&str, &str)] = &[
    ("#1f5fa8", "蓝"),
    ("#1d7a5a", "绿"),
    ("#b5651d", "橙"),
    ("#8e3b8e", "紫"),
    ("#b3262f", "红"),
    ("#4a5568", "灰"),
];

/// What the checks make of a [`ClientInput`].
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedClient {
    pub name: String,
    pub icon_text: String,
    pub icon_color: String,
    pub launch_url: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub dept_ids: Vec<i64>,
    pub public_client: bool,
    pub enabled: bool,
}

/// An absolute http(s) address without fragment or user info: what a redirect URI may be.
pub fn check_url(raw: &str) -> std::result::Result<(), &'static str> {
    if raw.len() > 500 {
        return Err("地址不能超过 500 个字符");
    }
    if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("地址不能包含空格或控制字符");
    }
    let u = url::Url::parse(raw).map_err(|_| "不是完整的网址（应以 http:// 或 https:// 开头）")?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none_or(str::is_empty) {
        return Err("只接受 http:// 或 https:// 开头的网址");
    }
    if u.fragment().is_some() || raw.contains('#') {
        return Err("网址不能包含 # 片段");
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("网址不能包含用户名或密码");
    }
    Ok(())
}

impl ClientInput {
    pub fn check(&self) -> Result<CheckedClient> {
        let mut c = Checks::new();
        c.text("name", "系统名称", &self.name, 40);
        let name = self.name.trim().to_owned();
        let icon_text = self
            .icon_text
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| name.chars().take(1).collect());
        c.check(
            icon_text.chars().count() <= 2,
            "icon_text",
            "too_long",
            "图标文字不超过 2 个字",
        );
        let icon_color = self
            .icon_color
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(COLORS[0].0)
            .to_lowercase();
        c.check(
            icon_color.len() == 7
                && icon_color.starts_with('#')
                && icon_color[1..].bytes().all(|b| b.is_ascii_hexdigit()),
            "icon_color",
            "invalid_color",
            "图标颜色应为 #rrggbb 形式",
        );
        let launch_url = self.launch_url.trim().to_owned();
        if let Err(m) = check_url(&launch_url) {
            c.add("launch_url", "invalid_url", format!("入口地址：{m}"));
        }
        let clean = |v: &[String]| -> Vec<String> {
            let mut out: Vec<String> = Vec::new();
            for s in v.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
                if !out.iter().any(|o| o == s) {
                    out.push(s.to_owned());
                }
            }
            out
        };
        let redirect_uris = clean(&self.redirect_uris);
        if redirect_uris.is_empty() {
            c.add(
                "redirect_uris",
                "required",
                "请至少填写一个回调地址（redirect_uri）",
            );
        }
        c.check(
            redirect_uris.len() <= 10,
            "redirect_uris",
            "too_many",
            "回调地址不超过 10 个",
        );
        for u in &redirect_uris {
            if let Err(m) = check_url(u) {
                c.add("redirect_uris", "invalid_url", format!("回调地址 {u}：{m}"));
            }
        }
        let post_logout = clean(&self.post_logout_redirect_uris);
        c.check(
            post_logout.len() <= 10,
            "post_logout_redirect_uris",
            "too_many",
            "退出后返回地址不超过 10 个",
        );
        for u in &post_logout {
            if let Err(m) = check_url(u) {
                c.add(
                    "post_logout_redirect_uris",
                    "invalid_url",
                    format!("退出后返回地址 {u}：{m}"),
                );
            }
        }
        let scopes = match &self.scopes {
            Some(s) => clean(s),
            None => ["openid", "profile", "department", "roles"]
                .map(String::from)
                .to_vec(),
        };
        for s in &scopes {
            if !scope_known(s) {
                c.add(
                    "scopes",
                    "invalid_scope",
                    format!("未知的授权范围“{s}”，可选：openid、profile、department、roles、offline_access"),
                );
            }
        }
        c.check(
            scopes.iter().any(|s| s == "openid"),
            "scopes",
            "openid_required",
            "授权范围必须包含 openid",
        );
        let mut dept_ids = self.dept_ids.clone();
        dept_ids.sort_unstable();
        dept_ids.dedup();
        c.finish()?;
        Ok(CheckedClient {
            name,
            icon_text,
            icon_color,
            launch_url,
            redirect_uris,
            post_logout_redirect_uris: post_logout,
            scopes,
            dept_ids,
            public_client: self.public_client,
            enabled: self.enabled,
        })
    }
}

/// An OAuth 2.0 / OpenID Connect error (RFC 6749 §4.1.2.1, §5.2; OIDC Core §3.1.2.6): the
/// code, an ASCII description as the RFC requires, and the zh-CN words for people.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthError {
    pub error: &'static str,
    pub description: &'static str,
    pub detail: String,
    /// The parameter at fault, when one is.
    pub field: Option<&'static str>,
}

impl OAuthError {
    pub fn new(
        error: &'static str,
        description: &'static str,
        field: Option<&'static str>,
        detail: impl Into<String>,
    ) -> Self {
        OAuthError {
            error,
            description,
            detail: detail.into(),
            field,
        }
    }
    pub fn invalid_request(
        field: &'static str,
        description: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self::new("invalid_request", description, Some(field), detail)
    }
    pub fn invalid_grant(description: &'static str, detail: impl Into<String>) -> Self {
        Self::new("invalid_grant", description, None, detail)
    }
    pub fn invalid_client(description: &'static str, detail: impl Into<String>) -> Self {
        Self::new("invalid_client", description, Some("client_id"), detail)
    }
}

/// The parameters of an authorization request, as sent.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub response_mode: Option<String>,
}

/// What an authorization request asks for, once its client and redirect URI are known good.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthRequest {
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt_none: bool,
    pub prompt_login: bool,
    pub prompt_consent: bool,
    pub max_age_ms: Option<i64>,
}

/// The rest of an authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636),
/// checked after its client and redirect URI: errors from here go back to the redirect URI.
pub fn check_request(
    p: &AuthorizeParams,
    client: &Client,
) -> std::result::Result<AuthRequest, OAuthError> {
    match p.response_type.as_deref() {
        Some("code") => {}
        None | Some("") => {
            return Err(OAuthError::invalid_request(
                "response_type",
                "response_type is required",
                "缺少参数 response_type（应为 code）",
            ))
        }
        Some(_) => {
            return Err(OAuthError::new(
                "unsupported_response_type",
                "only response_type=code is supported",
                Some("response_type"),
                "只支持授权码模式（response_type=code）",
            ))
        }
    }
    if p.response_mode.as_deref().is_some_and(|m| m != "query") {
        return Err(OAuthError::invalid_request(
            "response_mode",
            "only response_mode=query is supported",
            "只支持 response_mode=query",
        ));
    }
    let scopes: Vec<String> = p
        .scope
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .fold(Vec::new(), |mut v, s| {
            if !v.iter().any(|x: &String| x == s) {
                v.push(s.to_owned());
            }
            v
        });
    if !scopes.iter().any(|s| s == "openid") {
        return Err(OAuthError::new(
            "invalid_scope",
            "the openid scope is required",
            Some("scope"),
            "授权范围（scope）必须包含 openid",
        ));
    }
    if let Some(s) = scopes.iter().find(|s| !client.scopes.contains(s)) {
        return Err(OAuthError::new(
            "invalid_scope",
            "a requested scope is not allowed for this client",
            Some("scope"),
            format!("该系统未被授予授权范围“{s}”"),
        ));
    }
    let challenge = p.code_challenge.as_deref().filter(|s| !s.is_empty());
    let method = p.code_challenge_method.as_deref().filter(|s| !s.is_empty());
    match (challenge, method) {
        (None, Some(_)) => {
            return Err(OAuthError::invalid_request(
                "code_challenge",
                "code_challenge_method without code_challenge",
                "给出了 code_challenge_method 却缺少 code_challenge",
            ))
        }
        (Some(_), None) | (Some(_), Some("plain")) => {
            return Err(OAuthError::invalid_request(
                "code_challenge_method",
                "code_challenge_method must be S256",
                "PKCE 只接受 code_challenge_method=S256（不接受 plain）",
            ))
        }
        (Some(_), Some(m)) if m != "S256" => {
            return Err(OAuthError::invalid_request(
                "code_challenge_method",
                "code_challenge_method must be S256",
                "PKCE 只接受 code_challenge_method=S256",
            ))
        }
        (Some(c), Some(_)) if !is_b64url_sha256(c) => {
            return Err(OAuthError::invalid_request(
                "code_challenge",
                "code_challenge is not a base64url SHA-256 value",
                "code_challenge 应为 43 位 base64url 编码的 SHA-256 值",
            ))
        }
        (None, None) if client.public_client => {
            return Err(OAuthError::invalid_request(
                "code_challenge",
                "PKCE (S256) is required for public clients",
                "公开客户端必须使用 PKCE（code_challenge，S256）",
            ))
        }
        _ => {}
    }
    let prompts: Vec<&str> = p
        .prompt
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(bad) = prompts
        .iter()
        .find(|x| !matches!(**x, "none" | "login" | "consent" | "select_account"))
    {
        return Err(OAuthError::invalid_request(
            "prompt",
            "unknown prompt value",
            format!("不认识的 prompt 取值“{bad}”"),
        ));
    }
    let prompt_none = prompts.contains(&"none");
    if prompt_none && prompts.len() > 1 {
        return Err(OAuthError::invalid_request(
            "prompt",
            "prompt=none cannot be combined with other values",
            "prompt=none 不能与其他取值同时使用",
        ));
    }
    let max_age_ms = match p.max_age.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n.saturating_mul(1000)),
            _ => {
                return Err(OAuthError::invalid_request(
                    "max_age",
                    "max_age must be a non-negative integer",
                    "max_age 应为非负整数（秒）",
                ))
            }
        },
    };
    for (field, v, max) in [("state", &p.state, 512), ("nonce", &p.nonce, 512)] {
        if v.as_deref().is_some_and(|s| s.len() > max) {
            return Err(OAuthError::invalid_request(
                field,
                "parameter too long",
                format!("参数 {field} 过长（不超过 {max} 个字符）"),
            ));
        }
    }
    Ok(AuthRequest {
        scopes,
        state: p.state.clone().filter(|s| !s.is_empty()),
        nonce: p.nonce.clone().filter(|s| !s.is_empty()),
        code_challenge: challenge.map(str::to_owned),
        prompt_none,
        prompt_login: prompts.contains(&"login"),
        prompt_consent: prompts.contains(&"consent"),
        max_age_ms,
    })
}

fn is_b64url_sha256(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// RFC 7636 §4.1: 43–128 characters of `[A-Za-z0-9-._~]`.
pub fn verifier_well_formed(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// RFC 7636 §4.6, S256: BASE64URL(SHA256(ASCII(verifier))) == challenge.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    constant_time_eq(s256(verifier).as_bytes(), challenge.as_bytes())
}

/// The S256 code challenge of a verifier.
pub fn s256(verifier: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether a user of `dept` (with its ancestors `dept_chain`, nearest first) may log in to
/// `client`: staff only; a client naming departments admits them and their sub-departments.
pub fn department_allowed(client: &Client, dept_chain: &[i64]) -> bool {
    if dept_chain.is_empty() {
        return false;
    }
    client.dept_ids.is_empty() || dept_chain.iter().any(|d| client.dept_ids.contains(d))
}

/// `uri` with `params` added to its query (RFC 6749 §4.1.2: keep the query it has).
pub fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut u = match url::Url::parse(uri) {
        Ok(u) => u,
        Err(_) => return uri.to_owned(),
    };
    {
        let mut q = u.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(public: bool) -> Client {
        Client {
            id: 1,
            client_id: "c".into(),
            name: "协同办公".into(),
            icon_text: "协".into(),
            icon_color: "#1f5fa8".into(),
            launch_url: "https://oa.example/".into(),
            redirect_uris: vec!["https://oa.example/cb".into()],
            post_logout_redirect_uris: vec![],
            scopes: vec!["openid".into(), "profile".into()],
            dept_ids: vec![],
            public_client: public,
            enabled: true,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn params(extra: &[(&str, &str)]) -> AuthorizeParams {
        let mut p = AuthorizeParams {
            response_type: Some("code".into()),
            scope: Some("openid profile".into()),
            ..Default::default()
        };
        for (k, v) in extra {
            let v = Some(v.to_string());
            match *k {
                "response_type" => p.response_type = v,
                "scope" => p.scope = v,
                "code_challenge" => p.code_challenge = v,
                "code_challenge_method" => p.code_challenge_method = v,
                "prompt" => p.prompt = v,
                "max_age" => p.max_age = v,
                _ => unreachable!(),
            }
        }
        p
    }

    #[test]
    fn pkce_s256_matches_the_rfc_example() {
        // RFC 7636 Appendix B.
        let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(pkce_matches(
            v,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            v,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"
        ));
        assert!(verifier_well_formed(v));
        assert!(!verifier_well_formed("short"));
    }

    #[test]
    fn requests_are_checked_per_the_rfcs() {
        let c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let ok = check_request(
            &params(&[("code_challenge", c), ("code_challenge_method", "S256")]),
            &client(true),
        )
        .unwrap();
        assert_eq!(ok.scopes, ["openid", "profile"]);
        let err = |p, public| check_request(&p, &client(public)).unwrap_err().error;
        assert_eq!(
            err(params(&[]), true),
            "invalid_request",
            "public needs PKCE"
        );
        assert!(check_request(&params(&[]), &client(false)).is_ok());
        let plain = params(&[("code_challenge", c), ("code_challenge_method", "plain")]);
        assert_eq!(err(plain, false), "invalid_request");
        let none_given = params(&[("code_challenge", c)]);
        assert_eq!(
            err(none_given, false),
            "invalid_request",
            "plain by default"
        );
        assert_eq!(
            err(params(&[("response_type", "token")]), false),
            "unsupported_response_type"
        );
        assert_eq!(err(params(&[("scope", "profile")]), false), "invalid_scope");
        assert_eq!(
            err(params(&[("scope", "openid roles")]), false),
            "invalid_scope"
        );
        assert_eq!(
            err(params(&[("prompt", "none login")]), false),
            "invalid_request"
        );
        assert_eq!(err(params(&[("max_age", "-1")]), false), "invalid_request");
        let p = check_request(
            &params(&[("prompt", "none"), ("max_age", "60")]),
            &client(false),
        )
        .unwrap();
        assert!(p.prompt_none && p.max_age_ms == Some(60_000));
    }

    #[test]
    fn client_input_is_checked_field_by_field() {
        let bad = ClientInput {
            name: "".into(),
            launch_url: "oa.example".into(),
            redirect_uris: vec!["https://oa.example/cb#x".into()],
            scopes: Some(vec!["profile".into(), "email".into()]),
            icon_color: Some("blue".into()),
            ..Default::default()
        };
        let e = bad.check().unwrap_err();
        let fields: Vec<&str> = e.field_errors().iter().map(|f| f.field.as_str()).collect();
        for f in [
            "name",
            "launch_url",
            "redirect_uris",
            "scopes",
            "icon_color",
        ] {
            assert!(fields.contains(&f), "{f} in {fields:?}");
        }
        let good = ClientInput {
            name: " 协同办公 ".into(),
            launch_url: "http://oa.example/login".into(),
            redirect_uris: vec!["http://oa.example/cb".into(), "http://oa.example/cb".into()],
            ..Default::default()
        }
        .check()
        .unwrap();
        assert_eq!(good.icon_text, "协");
        assert_eq!(good.redirect_uris.len(), 1);
        assert_eq!(good.scopes, ["openid", "profile", "department", "roles"]);
    }

    #[test]
    fn departments_admit_their_sub_departments_and_staff_only() {
        let mut c = client(false);
        assert!(department_allowed(&c, &[5, 2]));
        assert!(!department_allowed(&c, &[]), "citizens have no department");
        c.dept_ids = vec![2];
        assert!(department_allowed(&c, &[5, 2]), "a sub-department of 2");
        assert!(!department_allowed(&c, &[3]));
    }

    #[test]
    fn query_parameters_are_added_to_the_registered_uri() {
        assert_eq!(
            with_query(
                "https://oa.example/cb?x=1",
                &[("code", "a b"), ("state", "s")]
            ),
            "https://oa.example/cb?x=1&code=a+b&state=s"
        );
    }
}
