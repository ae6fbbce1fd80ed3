//! Configuration, layered: defaults → TOML file → `YIWANG_*` environment → command line.
//! Environment keys use `__` for nesting (`YIWANG_SERVER__LISTEN`); the common ones also have
//! short aliases (`YIWANG_DATABASE_URL`, `YIWANG_LISTEN`). Any key may instead be read from a
//! file named by `<KEY>_FILE` (for secrets mounted as files).

use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub database: DatabaseConfig,
    pub server: ServerConfig,
    pub auth: AuthConfig,
    pub log: LogConfig,
    pub city: CityConfig,
    pub hotline: HotlineConfig,
    pub licenses: LicensesConfig,
    pub crypto: CryptoConfig,
    pub audit: AuditConfig,
}

/// The smallest audit retention 等保 2.0 allows (审计记录留存不少于六个月).
pub const MIN_AUDIT_RETENTION_DAYS: i64 = 180;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Records older than this many days may be archived (`yiwang audit archive`) and only
    /// then removed from the table; at least 180.
    pub retention_days: i64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            retention_days: MIN_AUDIT_RETENTION_DAYS,
        }
    }
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://yiwang.db` (default) or `postgres://user:pass@host/db`.
    pub url: String,
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &crate::db::redact_url(&self.url))
            .finish()
    }
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: String,
    /// The address people use, e.g. `https://yiwang.example.gov.cn`; an `https` one makes cookies Secure.
    pub public_url: Option<String>,
    /// Trust `X-Forwarded-Proto: https` from a reverse proxy for Secure cookies.
    pub trust_forwarded_proto: bool,
    /// Largest request body accepted, in KiB.
    pub body_limit_kb: usize,
    pub request_timeout_secs: u64,
    /// Addresses that may read `/metrics` without a token (the Prometheus server's).
    pub metrics_allow: Vec<String>,
    /// A bearer token that opens `/metrics` from anywhere; empty for none. Best from a file
    /// (`YIWANG_SERVER__METRICS_TOKEN_FILE`).
    pub metrics_token: String,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The metrics token never reaches a log.
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("trust_forwarded_proto", &self.trust_forwarded_proto)
            .field("body_limit_kb", &self.body_limit_kb)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("metrics_allow", &self.metrics_allow)
            .field("metrics_token_set", &!self.metrics_token.is_empty())
            .finish()
    }
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    pub session_hours: i64,
    /// Minutes without a request after which a session ends (等保: idle timeout); 0 never.
    pub idle_minutes: i64,
    /// Failed logins for one account (or from one address) within `lockout_minutes` before it is locked.
    pub max_login_failures: i64,
    pub lockout_minutes: i64,
    /// argon2id cost; the defaults follow OWASP's recommendation (19 MiB, 2 passes).
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    /// A new password may not be one of the user's last this many.
    pub password_history: i64,
    /// Days after which a password expires and must be reset; 0 never (等保 deployments
    /// usually set 90).
    pub password_max_age_days: i64,
    /// Who must log in with a second factor (TOTP, RFC 6238): `admins` (default: users holding
    /// one of the 三员 roles), `all` (all staff) or `off`. Residents (市民/企业) are never forced.
    pub two_factor: TwoFactorPolicy,
    /// Residents may open their own 市民 account at `/register` (real name, 身份证号, 手机号);
    /// registrations from one address are limited to `registrations_per_hour`.
    pub self_registration: bool,
    pub registrations_per_hour: u32,
}

/// `auth.two_factor`: whom the second factor is required of.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TwoFactorPolicy {
    /// Users holding one of the three administrators' roles (三员).
    #[default]
    Admins,
    /// Every staff member (not residents).
    All,
    Off,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("session_hours", &self.session_hours)
            .field("idle_minutes", &self.idle_minutes)
            .field("max_login_failures", &self.max_login_failures)
            .field("lockout_minutes", &self.lockout_minutes)
            .field("two_factor", &self.two_factor)
            .field("self_registration", &self.self_registration)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `pretty` for people, `json` for log collectors.
    pub format: String,
    /// A tracing filter, e.g. `info,yiwang=debug`.
    pub filter: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CityConfig {
    /// Shown in the title bar and used in ticket numbers.
    pub name: String,
    pub bureau: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HotlineConfig {
    /// Tickets whose dispatch suggestion reaches this confidence (0–1) are dispatched
    /// automatically at intake; 0 turns automatic dispatch off.
    pub auto_dispatch_threshold: f64,
}

/// 电子证照. The master key seals each issuing department's SM2 private key (SM4-GCM); set it
/// as 32 hex characters, best from a file (`YIWANG_LICENSES__MASTER_KEY_FILE`).
#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LicensesConfig {
    pub master_key: String,
}

impl std::fmt::Debug for LicensesConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key itself never reaches a log.
        f.debug_struct("LicensesConfig")
            .field("master_key_set", &!self.master_key.is_empty())
            .finish()
    }
}

/// 密评: the key file whose 256-bit key seals personal data at rest (身份证号, 手机号:
/// SM4 + HMAC-SM3, `kernel::sealed`). Empty: `<sqlite file>.data.key` beside an SQLite
/// database, else `yiwang-data.key`; made on first start if absent — back it up with the
/// database, without it the sealed values cannot be read.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CryptoConfig {
    pub key_file: String,
}

impl CryptoConfig {
    /// The key file this configuration names, or the default one for `database_url`.
    pub fn key_path(&self, database_url: &str) -> std::path::PathBuf {
        if self.key_file.trim().is_empty() {
            crate::sealed::default_key_path(database_url)
        } else {
            std::path::PathBuf::from(self.key_file.trim())
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://yiwang.db".into(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            trust_forwarded_proto: false,
            body_limit_kb: 2048,
            request_timeout_secs: 60,
            metrics_allow: vec!["127.0.0.1".into(), "::1".into()],
            metrics_token: String::new(),
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            session_hours: 12,
            idle_minutes: 30,
            max_login_failures: 5,
            lockout_minutes: 15,
            password_history: 5,
            password_max_age_days: 0,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            two_factor: TwoFactorPolicy::Admins,
            self_registration: true,
            registrations_per_hour: 5,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: "pretty".into(),
            filter: "info".into(),
        }
    }
}

impl Default for CityConfig {
    fn default() -> Self {
        CityConfig {
            name: "A市".into(),
            bureau: "A市政务服务和数据管理局".into(),
        }
    }
}

const ALIASES: &[(&str, &str)] = &[
    ("DATABASE_URL", "database.url"),
    ("LISTEN", "server.listen"),
    ("PUBLIC_URL", "server.public_url"),
    ("LOG", "log.filter"),
    ("LOG_FORMAT", "log.format"),
];

impl Config {
    /// Loads defaults, then `file` if it exists, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, String> {
        Self::load_from(file, std::env::vars())
    }

    /// As `load`, with the environment given (for tests).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, String> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if f.exists() {
                fig = fig.merge(Toml::file_exact(f));
            } else {
                return Err(format!("配置文件不存在：{}", f.display()));
            }
        } else if Path::new("yiwang.toml").exists() {
            fig = fig.merge(Toml::file_exact("yiwang.toml"));
        }
        // Collect the environment ourselves so `_FILE` indirection and aliases work the same way.
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (k, v) in env {
            let Some(rest) = k.strip_prefix("YIWANG_") else {
                continue;
            };
            if rest.starts_with("TEST_") {
                continue;
            }
            let (key, value) = match rest.strip_suffix("_FILE") {
                Some(base) => {
                    let text = std::fs::read_to_string(&v)
                        .map_err(|e| format!("读取 {k}={v} 失败：{e}"))?;
                    (
                        base.to_owned(),
                        text.trim_end_matches(['\n', '\r']).to_owned(),
                    )
                }
                None => (rest.to_owned(), v),
            };
            let dotted = ALIASES
                .iter()
                .find(|(a, _)| *a == key)
                .map(|(_, d)| (*d).to_owned())
                .unwrap_or_else(|| key.to_ascii_lowercase().replace("__", "."));
            pairs.push((dotted, value));
        }
        // Typed from the defaults: a key that is a number there is parsed as a number here.
        let shape = serde_json::to_value(Config::default()).unwrap_or_default();
        for (key, value) in pairs {
            let mut slot = Some(&shape);
            for part in key.split('.') {
                slot = slot.and_then(|s| s.get(part));
            }
            let v = match slot {
                // Keys yiwang does not know are left alone: other tools may share the prefix.
                None if !key.starts_with("server.public_url") => continue,
                Some(serde_json::Value::Number(_)) => match value.parse::<i64>() {
                    Ok(n) => figment::value::Value::from(n),
                    Err(_) => return Err(format!("环境变量中的 {key} 应为整数，实际为“{value}”")),
                },
                Some(serde_json::Value::Bool(_)) => match value.as_str() {
                    "true" | "1" | "yes" => figment::value::Value::from(true),
                    "false" | "0" | "no" => figment::value::Value::from(false),
                    _ => {
                        return Err(format!(
                            "环境变量中的 {key} 应为 true 或 false，实际为“{value}”"
                        ))
                    }
                },
                _ => figment::value::Value::from(value),
            };
            fig = fig.merge(Serialized::global(&key, v));
        }
        let cfg: Config = fig.extract().map_err(|e| format!("配置有误：{e}"))?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<(), String> {
        crate::db::backend_of(&crate::db::normalize_url(&self.database.url))
            .map_err(|e| e.detail())?;
        if self.server.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(format!(
                "server.listen 不是合法的地址：{}（例如 127.0.0.1:8080）",
                self.server.listen
            ));
        }
        if !matches!(self.log.format.as_str(), "pretty" | "json") {
            return Err("log.format 只能是 pretty 或 json".into());
        }
        if self.auth.session_hours < 1
            || self.auth.max_login_failures < 1
            || self.auth.lockout_minutes < 1
        {
            return Err("auth 的时长和次数必须为正数".into());
        }
        if self.audit.retention_days < MIN_AUDIT_RETENTION_DAYS {
            return Err(format!(
                "audit.retention_days 不能少于 {MIN_AUDIT_RETENTION_DAYS} 天（等保 2.0 要求审计记录至少留存六个月），当前为 {}",
                self.audit.retention_days
            ));
        }
        if self.auth.idle_minutes < 0 {
            return Err("auth.idle_minutes 不能为负数（0 为不限）".into());
        }
        if self.auth.password_history < 0 || self.auth.password_max_age_days < 0 {
            return Err("auth.password_history 和 auth.password_max_age_days 不能为负数".into());
        }
        if !(0.0..=1.0).contains(&self.hotline.auto_dispatch_threshold) {
            return Err(
                "hotline.auto_dispatch_threshold 应在 0 到 1 之间（0 为不自动派单）".into(),
            );
        }
        let k = &self.licenses.master_key;
        if !k.is_empty() && (k.len() != 32 || !k.chars().all(|c| c.is_ascii_hexdigit())) {
            return Err("licenses.master_key 应为 32 位十六进制（128 位 SM4 密钥）".into());
        }
        Ok(())
    }

    /// The effective configuration as TOML, with the database password hidden.
    pub fn to_display_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database.url = crate::db::redact_url(&self.database.url);
        if !shown.licenses.master_key.is_empty() {
            shown.licenses.master_key = "（已设置，不显示）".into();
        }
        if !shown.server.metrics_token.is_empty() {
            shown.server.metrics_token = "（已设置，不显示）".into();
        }
        toml::to_string_pretty(&shown).unwrap_or_default()
    }

    pub fn secure_cookies(&self) -> bool {
        self.server
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn environment_wins_over_file_and_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("y.toml");
        std::fs::write(
            &f,
            "[server]\nlisten = \"127.0.0.1:9000\"\nbody_limit_kb = 10\n[city]\nname = \"B市\"\n",
        )
        .unwrap();
        let c = Config::load_from(
            Some(&f),
            env(&[("YIWANG_SERVER__LISTEN", "127.0.0.1:9100"), ("OTHER", "x")]),
        )
        .unwrap();
        assert_eq!(c.server.listen, "127.0.0.1:9100");
        assert_eq!(c.server.body_limit_kb, 10);
        assert_eq!(c.city.name, "B市");
        assert_eq!(c.auth.session_hours, 12);
    }

    #[test]
    fn audit_retention_is_at_least_180_days() {
        assert_eq!(Config::default().audit.retention_days, 180);
        let e =
            Config::load_from(None, env(&[("YIWANG_AUDIT__RETENTION_DAYS", "90")])).unwrap_err();
        assert!(
            e.contains("audit.retention_days") && e.contains("180"),
            "{e}"
        );
        let c = Config::load_from(None, env(&[("YIWANG_AUDIT__RETENTION_DAYS", "365")])).unwrap();
        assert_eq!(c.audit.retention_days, 365);
    }

    #[test]
    fn two_factor_policy_from_file_and_environment() {
        assert_eq!(Config::default().auth.two_factor, TwoFactorPolicy::Admins);
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("y.toml");
        std::fs::write(&f, "[auth]\ntwo_factor = \"all\"\n").unwrap();
        let c = Config::load_from(Some(&f), env(&[])).unwrap();
        assert_eq!(c.auth.two_factor, TwoFactorPolicy::All);
        let c = Config::load_from(Some(&f), env(&[("YIWANG_AUTH__TWO_FACTOR", "off")])).unwrap();
        assert_eq!(c.auth.two_factor, TwoFactorPolicy::Off);
        std::fs::write(&f, "[auth]\ntwo_factor = \"sometimes\"\n").unwrap();
        assert!(Config::load_from(Some(&f), env(&[])).is_err());
    }

    #[test]
    fn aliases_and_file_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("dburl");
        std::fs::write(&secret, "postgres://u:topsecret@127.0.0.1/y\n").unwrap();
        let c = Config::load_from(
            None,
            env(&[
                ("YIWANG_DATABASE_URL_FILE", secret.to_str().unwrap()),
                ("YIWANG_LISTEN", "0.0.0.0:80"),
            ]),
        )
        .unwrap();
        assert_eq!(c.database.url, "postgres://u:topsecret@127.0.0.1/y");
        assert_eq!(c.server.listen, "0.0.0.0:80");
        let shown = c.to_display_toml();
        assert!(!shown.contains("topsecret"), "{shown}");
        assert!(!format!("{c:?}").contains("topsecret"));
    }

    #[test]
    fn bad_values_are_refused_with_a_message() {
        let e = Config::load_from(None, env(&[("YIWANG_LISTEN", "nonsense")])).unwrap_err();
        assert!(e.contains("server.listen"), "{e}");
        let e = Config::load_from(None, env(&[("YIWANG_DATABASE_URL", "mysql://x")])).unwrap_err();
        assert!(e.contains("不支持"), "{e}");
    }
}
