//! Org types and their validation rules. Pure: no database, no HTTP.

use kernel::codes::{self, RegionLevel};
use kernel::error::{Checks, Result};
use kernel::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Region {
    pub id: i64,
    /// GB/T 2260 code (6 digits) or 12-digit town/village code.
    pub code: String,
    pub name: String,
    pub level: RegionLevel,
    pub parent_id: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRegion {
    pub code: String,
    pub name: String,
}

impl NewRegion {
    /// Checks the code's shape and level; the parent is implied by the code.
    pub fn validate(&self) -> Result<RegionLevel> {
        let mut c = Checks::new();
        c.text("name", "名称", &self.name, 40);
        let level = match codes::check_region_code(self.code.trim()) {
            Ok(l) => Some(l),
            Err(msg) => {
                c.add("code", "invalid_region_code", msg);
                None
            }
        };
        c.finish()?;
        Ok(level.expect("checked"))
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Department {
    pub id: i64,
    pub name: String,
    pub short_name: String,
    pub region_id: i64,
    pub region_code: String,
    pub region_name: String,
    pub parent_id: Option<i64>,
    /// 统一社会信用代码.
    pub credit_code: Option<String>,
    pub phone: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDepartment {
    pub name: String,
    pub short_name: Option<String>,
    /// Code of the region the department serves.
    pub region_code: String,
    pub parent_id: Option<i64>,
    pub credit_code: Option<String>,
    pub phone: Option<String>,
}

impl NewDepartment {
    pub fn validate(&self) -> Result<()> {
        let mut c = Checks::new();
        c.text("name", "单位名称", &self.name, 60);
        if let Some(s) = &self.short_name {
            c.check(
                s.chars().count() <= 20,
                "short_name",
                "too_long",
                "简称不能超过 20 个字",
            );
        }
        if let Err(m) = codes::check_region_code(self.region_code.trim()) {
            c.add("region_code", "invalid_region_code", m);
        }
        if let Some(cc) = self.credit_code.as_deref().filter(|s| !s.trim().is_empty()) {
            if let Err(m) = codes::check_credit_code(cc.trim()) {
                c.add("credit_code", "invalid_credit_code", m);
            }
        }
        if let Some(p) = self.phone.as_deref().filter(|s| !s.trim().is_empty()) {
            c.check(
                p.len() <= 20 && p.chars().all(|ch| ch.is_ascii_digit() || ch == '-'),
                "phone",
                "invalid_phone",
                "电话只能包含数字和“-”，不超过 20 位",
            );
        }
        c.finish()
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DepartmentChanges {
    pub name: Option<String>,
    pub short_name: Option<String>,
    pub parent_id: Option<Option<i64>>,
    pub credit_code: Option<String>,
    pub phone: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub dept_id: Option<i64>,
    pub dept_name: Option<String>,
    pub roles: Vec<Role>,
    /// Masked unless the reader may see it in full.
    pub phone: Option<String>,
    /// 身份证号, masked unless the reader may see it in full.
    pub id_card: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub dept_id: Option<i64>,
    pub roles: Vec<Role>,
    pub phone: Option<String>,
    pub id_card: Option<String>,
}

/// How every API token begins: a bearer token that does not is some other protocol's (an
/// OpenID Connect access token), left to the route that takes it.
pub const API_TOKEN_PREFIX: &str = "yw_";

pub fn check_username(c: &mut Checks, username: &str) {
    let ok = (3..=32).contains(&username.len())
        && username.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.' || b == b'-'
        })
        && username.as_bytes()[0].is_ascii_lowercase();
    c.check(
        ok,
        "username",
        "invalid_username",
        "用户名为 3–32 位小写字母、数字或 _ . -，以字母开头",
    );
}

/// Passwords that lead the published lists of leaked passwords (and their usual local
/// variants); refused whatever their length and classes. Compared lower-cased.
const COMMON_PASSWORDS: &[&str] = &[
    "password1!",
    "password123",
    "password@123",
    "p@ssw0rd123",
    "p@ssword123",
    "passw0rd!@#",
    "admin@1234",
    "admin@12345",
    "admin123456",
    "admin@123456",
    "administrator1",
    "qwerty@1234",
    "qwerty123456",
    "qwer1234!@#$",
    "1qaz@wsx3edc",
    "1qaz2wsx3edc",
    "1qaz@wsx#edc",
    "zaq1@wsx3edc",
    "abc@1234567",
    "abcd@123456",
    "a1234567890",
    "aa123456789",
    "woaini@1314",
    "woaini1314520",
    "iloveyou@123",
    "welcome@123",
    "welcome@1234",
    "changeme@123",
    "root@123456",
    "huawei@1234",
    "huawei@123456",
    "test@123456",
    "zxcvbnm@123",
    "asdfghjkl@123",
    "letmein@123",
    "sunshine@123",
    "yiwang@12345",
    "123456789@qq",
    "qq123456789a",
];

/// The password policy (等保 2.0 level 3): 10 to 128 characters of at least three of the four
/// classes (lower case, upper case, digits, other), not containing the username, not one of
/// the common leaked passwords.
pub fn check_password(c: &mut Checks, field: &str, password: &str, username: &str) {
    let n = password.chars().count();
    let classes = [
        password.chars().any(|ch| ch.is_lowercase()),
        password.chars().any(|ch| ch.is_uppercase()),
        password.chars().any(|ch| ch.is_ascii_digit()),
        password
            .chars()
            .any(|ch| !ch.is_alphanumeric() || (ch.is_alphabetic() && !ch.is_ascii())),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    let lower = password.to_lowercase();
    let user = username.trim().to_lowercase();
    if !(10..=128).contains(&n) || classes < 3 {
        c.add(
            field,
            "weak_password",
            "密码须为 10–128 位，且至少包含大写字母、小写字母、数字、符号中的三类",
        );
    } else if user.chars().count() >= 3 && lower.contains(&user) {
        c.add(field, "password_has_username", "密码不能包含用户名");
    } else if COMMON_PASSWORDS.contains(&lower.as_str()) {
        c.add(
            field,
            "common_password",
            "该密码是常见的已泄露密码，请换一个",
        );
    }
}

pub fn check_roles(c: &mut Checks, roles: &[Role], dept_id: Option<i64>) {
    if roles.is_empty() {
        c.add("roles", "required", "请至少选择一个角色");
    }
    let staff = roles.iter().any(|r| *r != Role::Citizen);
    if staff && dept_id.is_none() {
        c.add("dept_id", "required", "工作人员必须属于一个单位");
    }
    if roles.contains(&Role::Citizen) && staff {
        c.add(
            "roles",
            "citizen_not_staff",
            "市民/企业账号不能同时拥有工作人员角色",
        );
    }
}

impl NewUser {
    pub fn validate(&self) -> Result<()> {
        let mut c = Checks::new();
        check_username(&mut c, &self.username);
        c.text("display_name", "姓名", &self.display_name, 30);
        check_password(&mut c, "password", &self.password, &self.username);
        check_roles(&mut c, &self.roles, self.dept_id);
        check_contact(&mut c, self.phone.as_deref(), self.id_card.as_deref());
        c.finish()
    }
}

/// A resident opening their own account (自助注册): real name, 身份证号 and 手机号 are required,
/// so that what they do later (apply, ask, hold licenses) is tied to the person.
#[derive(Debug, Clone, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub username: String,
    /// 姓名 as on the ID card.
    pub display_name: String,
    pub id_card: String,
    pub phone: String,
    pub password: String,
    /// The password typed again (the page sends it; the API may leave it out).
    #[serde(default)]
    pub password_again: Option<String>,
}

impl Registration {
    pub fn validate(&self) -> Result<()> {
        let mut c = Checks::new();
        check_username(&mut c, self.username.trim());
        let name = self.display_name.trim();
        if name.chars().count() < 2 {
            c.add("display_name", "required", "请填写与身份证一致的姓名");
        } else {
            c.text("display_name", "姓名", name, 30);
        }
        if self.id_card.trim().is_empty() {
            c.add("id_card", "required", "请填写身份证号");
        }
        if self.phone.trim().is_empty() {
            c.add("phone", "required", "请填写手机号");
        }
        check_contact(&mut c, Some(self.phone.trim()), Some(self.id_card.trim()));
        check_password(&mut c, "password", &self.password, self.username.trim());
        if let Some(again) = &self.password_again {
            if again != &self.password {
                c.add("password_again", "mismatch", "两次输入的密码不一致");
            }
        }
        c.finish()
    }
}

pub fn check_contact(c: &mut Checks, phone: Option<&str>, id_card: Option<&str>) {
    if let Some(p) = phone.filter(|s| !s.is_empty()) {
        if let Err(m) = codes::check_mobile(p) {
            c.add("phone", "invalid_phone", m);
        }
    }
    if let Some(i) = id_card.filter(|s| !s.is_empty()) {
        if let Err(m) = codes::check_id_card(i) {
            c.add("id_card", "invalid_id_card", m);
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub dept_id: Option<i64>,
    pub roles: Option<Vec<Role>>,
    pub phone: Option<String>,
    pub id_card: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiToken {
    pub name: String,
    /// e.g. `["org:read"]`; `*` grants everything the owner may do.
    pub scopes: Vec<String>,
    /// Days until it expires; none for no expiry.
    pub expires_in_days: Option<i64>,
}

/// Scopes a token can be granted. Later modules add theirs here.
pub const KNOWN_SCOPES: &[&str] = &[
    "*",
    "org:read",
    "org:write",
    "audit:read",
    "hotline:read",
    "hotline:write",
];

impl NewApiToken {
    pub fn validate(&self) -> Result<()> {
        let mut c = Checks::new();
        c.text("name", "令牌名称", &self.name, 60);
        if self.scopes.is_empty() {
            c.add("scopes", "required", "请至少授予一个权限范围");
        }
        for s in &self.scopes {
            let known = KNOWN_SCOPES.contains(&s.as_str())
                || s.split_once(':').is_some_and(|(m, a)| {
                    !m.is_empty()
                        && m.bytes().all(|b| b.is_ascii_lowercase())
                        && (a == "read" || a == "write")
                });
            if !known {
                c.add(
                    "scopes",
                    "invalid_scope",
                    format!("未知的权限范围“{s}”（格式如 org:read）"),
                );
            }
        }
        if let Some(d) = self.expires_in_days {
            c.check(
                (1..=3650).contains(&d),
                "expires_in_days",
                "out_of_range",
                "有效天数应在 1–3650 之间",
            );
        }
        c.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_user_reports_every_bad_field() {
        let u = NewUser {
            username: "X".into(),
            display_name: "".into(),
            password: "short".into(),
            dept_id: None,
            roles: vec![Role::Handler],
            phone: Some("123".into()),
            id_card: Some("110105194912310021".into()),
        };
        let e = u.validate().unwrap_err();
        let fields: Vec<&str> = e.field_errors().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "username",
                "display_name",
                "password",
                "dept_id",
                "phone",
                "id_card"
            ]
        );
    }

    #[test]
    fn department_checks_credit_code() {
        let d = NewDepartment {
            name: "A市住房和城乡建设局".into(),
            short_name: None,
            region_code: "690100".into(),
            parent_id: None,
            credit_code: Some("11100000000013127E".into()),
            phone: None,
        };
        assert_eq!(d.validate().unwrap_err().field_name(), Some("credit_code"));
    }

    #[test]
    fn the_password_policy() {
        let check = |pw: &str, user: &str| {
            let mut c = Checks::new();
            check_password(&mut c, "password", pw, user);
            c.finish().err().map(|e| e.field_errors()[0].code.clone())
        };
        assert_eq!(check("Yiwang@2025", "admin"), None);
        assert_eq!(check("Abc@12345x", "han_x"), None);
        // Too short, or too few classes.
        assert_eq!(check("Ab@12345", "u1").as_deref(), Some("weak_password"));
        assert_eq!(check("yiwang2025", "u1").as_deref(), Some("weak_password"));
        assert_eq!(
            check("abcdefghijk1", "u1").as_deref(),
            Some("weak_password")
        );
        // Three classes of any kind: 汉字 count with the symbols.
        assert_eq!(check("政务abc12345", "u1"), None);
        assert_eq!(
            check("Operator@2025", "operator").as_deref(),
            Some("password_has_username")
        );
        assert_eq!(
            check("P@ssw0rd123", "u1").as_deref(),
            Some("common_password")
        );
    }

    #[test]
    fn token_scopes_are_checked() {
        let t = NewApiToken {
            name: "x".into(),
            scopes: vec!["org:read".into(), "hotline:write".into()],
            expires_in_days: None,
        };
        assert!(t.validate().is_ok());
        let t = NewApiToken {
            name: "x".into(),
            scopes: vec!["root".into()],
            expires_in_days: Some(0),
        };
        assert_eq!(t.validate().unwrap_err().field_errors().len(), 2);
    }
}

/// A browser and its system in words, from a `User-Agent` (for one's list of sessions; the
/// raw string is long and means little to a clerk).
pub fn browser_name(user_agent: &str) -> String {
    let ua = user_agent;
    // Order matters: Edge and 360 carry "Chrome", Chrome carries "Safari".
    let browser = [
        ("Edg/", "Edge"),
        ("QIHU", "360 浏览器"),
        ("MicroMessenger", "微信"),
        ("HeadlessChrome", "Chrome（无界面）"),
        ("Chrome/", "Chrome"),
        ("Firefox/", "Firefox"),
        ("Safari/", "Safari"),
        ("python-requests", "Python 程序"),
        ("curl/", "curl"),
    ]
    .iter()
    .find(|(k, _)| ua.contains(k))
    .map(|(_, n)| *n);
    let system = [
        ("Windows", "Windows"),
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Mac OS X", "macOS"),
        ("UOS", "统信 UOS"),
        ("Kylin", "麒麟"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(k, _)| ua.contains(k))
    .map(|(_, n)| *n);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} · {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => format!("其他浏览器 · {s}"),
        (None, None) if ua.is_empty() => "未知客户端".to_owned(),
        (None, None) => "其他客户端".to_owned(),
    }
}

#[cfg(test)]
mod browser_tests {
    use super::browser_name;

    #[test]
    fn names_common_browsers() {
        let chrome_win = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        assert_eq!(browser_name(chrome_win), "Chrome · Windows");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0";
        assert_eq!(browser_name(edge), "Edge · Windows");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(browser_name(iphone), "Safari · iPhone");
        let wechat = "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/116.0 Mobile Safari/537.36 MicroMessenger/8.0.40";
        assert_eq!(browser_name(wechat), "微信 · Android");
        assert_eq!(browser_name(""), "未知客户端");
        assert_eq!(browser_name("reqwest"), "其他客户端");
    }
}
