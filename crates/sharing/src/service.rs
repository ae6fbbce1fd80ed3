//! `SharingService`: the 一网共享 module's one handle. Each sub-domain adds its use cases in its
//! own `service.rs` (`catalog`, `mount`, `grants`, `gateway`); this file holds the handle, the
//! permissions and who counts as the bureau.

use kernel::error::{Error, Result};
use kernel::{Actor, Db, Role};

kernel::permission!(
    /// Draft and submit catalog entries of one's department (编目).
    pub Catalogue = [DataOfficer, SysAdmin], "sharing:write"
);
kernel::permission!(
    /// Review (publish or return) entries, and approve at the bureau's level: the bureau's
    /// data staff (see [`SharingService::require_bureau`]).
    pub Review = [DataOfficer, ChiefDataOfficer, SysAdmin], "sharing:write"
);
kernel::permission!(
    /// Mount resources of one's department's entries and load their rows.
    pub Mount = [DataOfficer, SysAdmin], "sharing:write"
);
kernel::permission!(
    /// Ask for data (申请用数) for one's department, and register its consuming systems.
    pub RequestData = [DataOfficer, SysAdmin], "sharing:write"
);
kernel::permission!(
    /// Decide a step of a request's approval chain, and renew, narrow or revoke grants on
    /// one's department's resources.
    pub Approve = [DataOfficer, ChiefDataOfficer, SysAdmin], "sharing:write"
);
kernel::permission!(
    /// Read requests, grants and the call log of one's department (as provider or consumer).
    pub ReadSharing = [DataOfficer, ChiefDataOfficer, Analyst, Supervisor, SysAdmin], "sharing:read"
);

kernel::permission!(
    /// Raise a 数据异议 on a base registry's value, for one's department.
    pub RaiseObjection = [DataOfficer, SysAdmin], "sharing:write"
);
kernel::permission!(
    /// Answer (核实) a 数据异议 routed to one's department as the registry's source.
    pub AnswerObjection = [DataOfficer, SysAdmin], "sharing:write"
);

kernel::permission!(
    /// Configure 回流 tasks (sources on the server or the network): the system administrator.
    pub ManageBackflow = [SysAdmin], "sharing:write"
);

/// The token scope of a consuming system's gateway token.
pub const GATEWAY_SCOPE: &str = "gateway:read";

#[derive(Clone, Debug)]
pub struct SharingService {
    pub(crate) db: Db,
}

impl SharingService {
    pub fn new(db: Db) -> Self {
        SharingService { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub(crate) async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.db.pool().acquire().await?)
    }

    pub(crate) fn org(&self) -> org::OrgService {
        org::OrgService::new(self.db.clone(), Default::default())
    }

    pub(crate) async fn department(&self, id: i64) -> Result<org::Department> {
        self.org()
            .department(&Actor::system(), id)
            .await
            .map_err(|e| match e {
                Error::NotFound { .. } => Error::field(
                    "provider_dept_id",
                    "unknown_department",
                    format!("部门 {id} 不存在"),
                ),
                e => e,
            })
    }

    /// Names of the active departments, by id.
    pub async fn dept_names(&self) -> Result<std::collections::HashMap<i64, String>> {
        org::directory::active_department_names(&mut *self.conn().await?).await
    }

    /// The department that acts as the bureau (数据局), if set.
    pub async fn bureau(&self) -> Result<Option<i64>> {
        crate::store::bureau(&mut *self.conn().await?).await
    }

    /// Names the bureau's department (an administrator's setting).
    pub async fn set_bureau(&self, actor: &Actor, dept_id: i64) -> Result<()> {
        actor.require_any_role(&[Role::SysAdmin])?;
        let g = actor.authorize::<Review>()?;
        self.department(dept_id).await?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        crate::store::set_bureau(&mut tx, kernel::Authorized::from(g), dept_id).await?;
        kernel::audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "sharing_settings",
            1,
            "set_bureau",
            serde_json::json!({ "dept_id": dept_id }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the actor speaks for the bureau: an administrator, or data staff of its
    /// department.
    pub async fn is_bureau(&self, actor: &Actor) -> Result<bool> {
        if actor.has_role(Role::SysAdmin) {
            return Ok(true);
        }
        let bureau = self.bureau().await?;
        Ok(bureau.is_some() && actor.dept_id == bureau)
    }

    pub(crate) async fn require_bureau(&self, actor: &Actor) -> Result<()> {
        if self.is_bureau(actor).await? {
            Ok(())
        } else {
            Err(Error::forbidden("此操作须由数据局（大数据主管部门）完成"))
        }
    }

    /// The actor's own department, required for department work.
    pub(crate) fn own_dept(actor: &Actor) -> Result<i64> {
        actor
            .dept_id
            .ok_or_else(|| Error::forbidden("此操作须由部门用户完成"))
    }
}
