//! `ServicesService`: the service hall's one handle for other modules, the web layer and the
//! CLI. Each sub-domain adds its use cases to it in its own `service.rs` (`items`, `bundles`,
//! `cases`, `evaluation`, `report`, `search`); this file holds the handle, what they share, and
//! re-exports their public request and view types. Each use case checks the actor (role, token
//! scope, data scope), applies the domain rule and writes the change, its timeline event and its
//! audit record in one transaction.

pub use crate::bundles::service::{BundleCaseView, BundleView, NewBundleCase};
pub use crate::cases::service::{CaseQuery, CaseView, NewCase, Tracking};
pub use crate::domain::TimelineEntry;
pub use crate::evaluation::service::{RectificationReply, RectificationReview};
pub use crate::items::service::ItemChange;
use kernel::calendar::{self, Calendar};
use kernel::error::{Error, Result};
use kernel::{Actor, Db, Role, Scope};

#[derive(Clone, Debug)]
pub struct ServicesService {
    pub(crate) db: Db,
}

/// Who maintains items: the department's approvers and admins.
pub(crate) const ITEMS: &[Role] = &[Role::Approver, Role::Admin];
/// Who works cases in a department.
pub(crate) const DEPT: &[Role] = &[Role::Approver, Role::Clerk, Role::Admin];
/// Who may decide.
pub(crate) const DECIDE: &[Role] = &[Role::Approver, Role::Admin];
/// The 综合窗口: receives for every department and hands results out.
pub(crate) const FRONT_DESK: &[Role] = &[Role::Clerk, Role::Admin];
pub(crate) const SUPERVISE: &[Role] = &[Role::Supervisor, Role::Admin];
pub(crate) const REPORTS: &[Role] = &[Role::Supervisor, Role::Analyst, Role::Admin];

impl ServicesService {
    pub fn new(db: Db) -> Self {
        ServicesService { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub(crate) async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.db.pool().acquire().await?)
    }

    pub(crate) async fn calendar(&self) -> Result<Calendar> {
        calendar::load(&self.db).await
    }

    pub(crate) fn org(&self) -> org::OrgService {
        org::OrgService::new(self.db.clone(), Default::default())
    }

    pub(crate) async fn department(&self, id: i64) -> Result<org::Department> {
        self.org()
            .department(&Actor::system(), id)
            .await
            .map_err(|e| match e {
                Error::NotFound { .. } => {
                    Error::field("dept_id", "unknown_department", "实施部门不存在")
                }
                e => e,
            })
    }

    pub(crate) fn in_dept_scope(actor: &Actor, dept_id: i64, region: &str) -> bool {
        match &actor.scope {
            Scope::All => true,
            Scope::Departments { ids } => ids.contains(&dept_id),
            Scope::Region { prefix } => region.starts_with(prefix.as_str()),
            Scope::Own => false,
        }
    }

    pub(crate) fn dept_filter(actor: &Actor) -> Option<Vec<i64>> {
        match &actor.scope {
            Scope::Departments { ids } => Some(ids.clone()),
            _ => None,
        }
    }

    pub(crate) fn require_staff(actor: &Actor) -> Result<()> {
        if actor.roles.iter().any(|r| *r != Role::Citizen) {
            Ok(())
        } else {
            Err(Error::forbidden("仅工作人员可以查看"))
        }
    }
}
