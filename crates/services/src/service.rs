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
use kernel::auth::Permission;
use kernel::calendar::{self, Calendar};
use kernel::error::{Error, Result};
use kernel::events::Observers;
use kernel::{Actor, Db, Role};

#[derive(Clone, Debug)]
pub struct ServicesService {
    pub(crate) db: Db,
    /// What reacts to case changes inside their transaction (the applicant's notices).
    pub(crate) observers: Observers<CaseChange>,
    /// The 电子证照 library for 免证办; without it a material marked `from_license` is taken
    /// as fetched (the behaviour before the licenses module).
    pub(crate) licenses: Option<licenses::LicensesService>,
}

/// Per (item id, material key): the license used in its place (`Ok`, with what the clerk
/// sees) or why none could be (`Err`, the material is then asked for).
pub(crate) type Exemptions =
    std::collections::HashMap<(i64, String), std::result::Result<String, String>>;

/// A case change as its observers see it, after the case, its timeline event and its audit
/// record were written in the transaction.
#[derive(Debug, Clone)]
pub struct CaseChange {
    pub case: crate::domain::Case,
    pub event: crate::domain::Event,
    pub now: i64,
}

kernel::permission!(
    /// Maintain a department's items (its approvers and admins).
    pub MaintainItems = [Approver, SysAdmin], "services:write"
);
kernel::permission!(
    /// Create 一件事 bundles.
    pub ManageBundles = [SysAdmin], "services:write"
);
kernel::permission!(
    /// The 综合窗口: receives for every department and hands results out.
    pub FrontDesk = [Clerk, SysAdmin], "services:write"
);
kernel::permission!(
    /// Apply online and act on one's own application (补正, 撤回, 评价).
    pub Apply = [Citizen], "services:apply"
);
kernel::permission!(
    /// Receive an application at the window and act for the applicant there.
    pub Receive = [Clerk, SysAdmin], "services:apply"
);
kernel::permission!(
    /// Record a withdrawal the department received in writing.
    pub RecordWithdrawal = [Approver, Clerk, SysAdmin], "services:apply"
);
kernel::permission!(
    /// Work cases in a department.
    pub WorkCases = [Approver, Clerk, SysAdmin], "services:write"
);
kernel::permission!(
    /// Decide cases.
    pub Decide = [Approver, SysAdmin], "services:write"
);
kernel::permission!(
    /// Supervise: 差评整改 review and 办不成事反映.
    pub Supervise = [Supervisor, SysAdmin], "services:write"
);
kernel::permission!(
    /// Read the figures.
    pub ReadReports = [Supervisor, Analyst, SysAdmin], "services:read"
);

/// The roles of a permission, for the checks that look at roles only (reads, and views that
/// differ by role); writes go through `Actor::authorize`.
pub(crate) fn roles<P: Permission>() -> &'static [Role] {
    P::ROLES
}

impl ServicesService {
    /// The service with its default observers (the applicants' status notices).
    pub fn new(db: Db) -> Self {
        let observers = Observers::new().with(crate::notices::NoticeObserver::new(&db));
        Self::with_observers(db, observers)
    }

    /// The bare core with the given observers.
    pub fn with_observers(db: Db, observers: Observers<CaseChange>) -> Self {
        ServicesService {
            db,
            observers,
            licenses: None,
        }
    }

    /// With the 电子证照 library: materials whose source is a license type the library holds
    /// are attached from the applicant's valid license, or asked for with the reason.
    pub fn with_licenses(mut self, l: licenses::LicensesService) -> Self {
        self.licenses = Some(l);
        self
    }

    /// What an applicant will find on the application page for each material taken from a
    /// license (by the material's license reference): their usable license, or why none can
    /// be used. Read only — nothing is logged until the application is submitted.
    pub async fn exemption_preview(
        &self,
        materials: &[crate::domain::Material],
        id_no: &str,
    ) -> Result<std::collections::HashMap<String, std::result::Result<String, String>>> {
        let mut out = std::collections::HashMap::new();
        let Some(l) = self.licenses.as_ref().filter(|_| !id_no.trim().is_empty()) else {
            return Ok(out);
        };
        for r in materials.iter().filter_map(|m| m.from_license.as_deref()) {
            if out.contains_key(r) {
                continue;
            }
            let Some(t) = l.license_type_by_ref(r).await? else {
                continue;
            };
            let answer = {
                match l.usable_license_of(id_no, t.id).await? {
                    Ok(lic) => Ok(format!(
                        "已找到您的“{}”电子证照（{}），提交时自动调取核验，无需上传",
                        t.name,
                        lic.valid_until.map_or_else(
                            || "长期有效".to_owned(),
                            |u| format!(
                                "有效期至 {}",
                                kernel::clock::to_china(u).format("%Y-%m-%d")
                            )
                        )
                    )),
                    Err(why) => Err(format!("{why}，请提交纸质材料")),
                }
            };
            out.insert(r.to_owned(), answer);
        }
        Ok(out)
    }

    /// The 免证办 lookups for an application, made before its transaction (they log the use).
    pub(crate) async fn exemptions(
        &self,
        items: &[&crate::domain::ServiceItem],
        applicant: &crate::domain::Applicant,
    ) -> Result<Exemptions> {
        let mut out = Exemptions::new();
        let Some(l) = &self.licenses else {
            return Ok(out);
        };
        for item in items {
            for m in &item.content.materials {
                let Some(r) = &m.from_license else { continue };
                let purpose = format!("免证办：{}", item.content.name);
                if let Some(answer) = l.exempt(&applicant.id_no, r, &purpose).await? {
                    out.insert((item.id, m.key.clone()), answer.map(|e| e.message));
                }
            }
        }
        Ok(out)
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

    pub(crate) fn require_staff(actor: &Actor) -> Result<()> {
        if actor.roles.iter().any(|r| *r != Role::Citizen) {
            Ok(())
        } else {
            Err(Error::forbidden("仅工作人员可以查看"))
        }
    }
}
