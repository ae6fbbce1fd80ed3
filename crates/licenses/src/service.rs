//! `LicensesService`: the 电子证照 module's one handle for other modules, the web layer and the
//! CLI. Each sub-domain adds its use cases in its own `service.rs` (`types`, `keys`, `issue`,
//! `status`, `verify`, `usage`); this file holds the handle, the permissions and the URLs that
//! credentials name.

use crate::keys::domain::MasterKey;
use kernel::error::{Error, Result};
use kernel::{Actor, Db, Role};

kernel::permission!(
    /// Define license types and publish their versions.
    pub ManageTypes = [Approver, SysAdmin], "licenses:write"
);
kernel::permission!(
    /// Issue licenses for one's department (API, case delivery, import), and 变更.
    pub Issue = [Approver, Clerk, SysAdmin], "licenses:write"
);
kernel::permission!(
    /// Suspend, reinstate, revoke (吊销), cancel (注销), report lost (挂失).
    pub ChangeStatus = [Approver, SysAdmin], "licenses:write"
);
kernel::permission!(
    /// Generate, rotate and register issuing keys (key management: the 安全管理员).
    pub ManageKeys = [SecAdmin], "licenses:keys"
);
kernel::permission!(
    /// Look licenses up (证照查询) within one's data scope.
    pub ReadLicenses = [Approver, Clerk, Supervisor, Analyst, SysAdmin], "licenses:read"
);

/// Roles that see personal data of holders in full (they issue and examine); others masked.
pub(crate) const FULL_VIEW: &[Role] = &[Role::Approver, Role::Clerk, Role::SysAdmin];

#[derive(Clone, Debug)]
pub struct LicensesService {
    pub(crate) db: Db,
    /// The public address credentials name (`https://yiwang.example.gov.cn`), no trailing `/`.
    pub(crate) base_url: String,
    pub(crate) master: Option<MasterKey>,
}

impl LicensesService {
    /// `base_url` is the public address (configuration `server.public_url`); `master_key` the
    /// configured 32 hex characters (empty when not set: then no key can be made or used).
    pub fn new(db: Db, base_url: &str, master_key: &str) -> Self {
        LicensesService {
            db,
            base_url: base_url.trim_end_matches('/').to_owned(),
            master: MasterKey::from_hex(master_key),
        }
    }

    /// From the server's configuration.
    pub fn from_config(db: Db, config: &kernel::config::Config) -> Self {
        let base = config
            .server
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", config.server.listen));
        Self::new(db, &base, &config.licenses.master_key)
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub(crate) async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.db.pool().acquire().await?)
    }

    pub(crate) fn master(&self) -> Result<&MasterKey> {
        self.master.as_ref().ok_or_else(|| {
            Error::internal(
                "licenses.master_key is not configured (set YIWANG_LICENSES__MASTER_KEY_FILE)",
            )
        })
    }

    pub(crate) fn org(&self) -> org::OrgService {
        org::OrgService::new(self.db.clone(), Default::default())
    }

    /// The issuing department with its 统一社会信用代码 (the identifier's 颁发机构代码).
    pub(crate) async fn issuer(&self, dept_id: i64) -> Result<org::Department> {
        self.org()
            .department(&Actor::system(), dept_id)
            .await
            .map_err(|e| match e {
                Error::NotFound { .. } => {
                    Error::field("dept_id", "unknown_department", "颁发部门不存在")
                }
                e => e,
            })
    }

    // ---- the URLs credentials name ----

    pub fn key_url(&self, kid: &str) -> String {
        format!("{}/api/v1/licenses/keys/{kid}", self.base_url)
    }
    pub fn issuer_url(&self, dept_id: i64) -> String {
        format!("{}/api/v1/licenses/issuers/{dept_id}", self.base_url)
    }
    pub fn status_url(&self, list_id: i64, purpose: &str) -> String {
        format!(
            "{}/api/v1/licenses/status/{list_id}/{purpose}",
            self.base_url
        )
    }
}

/// The kid at the end of a verificationMethod URL (`…/api/v1/licenses/keys/{kid}`).
pub fn kid_of_url(url: &str) -> Option<&str> {
    let (_, kid) = url.rsplit_once("/api/v1/licenses/keys/")?;
    (!kid.is_empty() && kid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')).then_some(kid)
}

/// (list id, purpose) of a statusListCredential URL.
pub fn status_of_url(url: &str) -> Option<(i64, String)> {
    let (_, rest) = url.rsplit_once("/api/v1/licenses/status/")?;
    let (id, purpose) = rest.split_once('/')?;
    let purpose = crate::status::domain::PURPOSES
        .iter()
        .find(|p| **p == purpose)?;
    Some((id.parse().ok()?, (*purpose).to_owned()))
}

/// The department id at the end of an issuer URL.
pub fn dept_of_issuer_url(url: &str) -> Option<i64> {
    url.rsplit_once("/api/v1/licenses/issuers/")?.1.parse().ok()
}
