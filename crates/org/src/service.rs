//! Org use cases. Each checks the actor, validates, changes state and writes its audit record in
//! one transaction. Other modules use org only through `OrgService`.

use crate::domain::*;
use crate::{password, store};
use base64::Engine;
use kernel::audit;
use kernel::auth::Permission;
use kernel::auth::Via;
use kernel::codes;
use kernel::config::AuthConfig;
use kernel::error::{Checks, Error, Result};
use kernel::page::{Page, PageQuery};
use kernel::{mask, Actor, Authorized, Db, Role, Scope};
use rand::RngCore;
use serde_json::json;
use sm3::{Digest, Sm3};

#[derive(Clone, Debug)]
pub struct OrgService {
    pub(crate) db: Db,
    pub(crate) auth: AuthConfig,
    /// Seals the users' TOTP secrets at rest (`with_master_key`); without it nobody can enrol.
    pub(crate) seal: Option<std::sync::Arc<crate::totp::SealKey>>,
}

/// A new login session: the cookie value (shown once, stored only hashed) and its CSRF token.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf: String,
    pub expires_at: i64,
    pub actor: Actor,
    /// The policy requires a second factor the user has not enrolled: the session reaches
    /// only the enrolment page (`/account/two-factor`).
    pub enrol_only: bool,
}

/// What a session cookie resolves to.
/// One of the signed-in user's sessions.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct MySession {
    /// The session's identifier for ending it (the hash of its cookie, never the cookie).
    pub id: String,
    pub current: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ip: String,
    /// The browser and system in words (`Chrome · Windows`).
    pub browser: String,
}

#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub actor: Actor,
    pub csrf: String,
    /// When the user logged in (the `auth_time` single sign-on tells the other systems).
    pub started_at: i64,
    /// The session reaches only the two-factor enrolment ([`OrgService::allowed_while_enrolling`]).
    pub enrol_only: bool,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct UserQuery {
    pub dept_id: Option<i64>,
    pub role: Option<Role>,
    /// Matches username or name.
    pub q: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct DepartmentQuery {
    /// Only departments in this region (and below).
    pub region_code: Option<String>,
    pub parent_id: Option<i64>,
    /// Matches name or short name.
    pub q: Option<String>,
}

/// The second step of a login, where the password alone does not do.
pub enum SecondFactor<'a> {
    None,
    /// The six digits of the authenticator app.
    Totp(&'a str),
    /// One of the one-time recovery codes.
    Recovery(&'a str),
}

/// What a correct password leads to on the login page.
pub enum LoginStep {
    Session(Box<NewSession>),
    /// The user has a second factor: ask for it, carrying this token (shown once, stored hashed).
    SecondFactor {
        challenge: String,
    },
}

pub fn random_token(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

pub(crate) fn sm3_hex(s: &str) -> String {
    hex::encode(Sm3::digest(s.as_bytes()))
}

const STAFF_ADMIN: &[Role] = ManageOrg::ROLES;

/// A signed-in person's own account (their password): every role.
#[derive(Debug, Clone, Copy)]
pub struct OwnAccount;
impl Permission for OwnAccount {
    const ROLES: &'static [Role] = &Role::ALL;
    const TOKEN_SCOPE: &'static str = "org:write";
}

kernel::permission!(
    /// Keeps the regions, departments and users (the 系统管理员).
    pub ManageOrg = [SysAdmin], "org:write"
);
kernel::permission!(
    /// Changes who holds which role, within what [`Actor::authorize_role_change`] lets each
    /// give: the 系统管理员 the business roles, the 安全管理员 every role.
    pub AssignRoles = [SysAdmin, SecAdmin], "org:write"
);
kernel::permission!(
    /// The 安全管理员's account work: two-factor resets.
    pub ManageSecurity = [SecAdmin], "org:write"
);

impl OrgService {
    pub fn new(db: Db, auth: AuthConfig) -> Self {
        OrgService {
            db,
            auth,
            seal: None,
        }
    }

    /// With the deployment's master key (`licenses.master_key`, 32 hex), which seals the TOTP
    /// secrets; an empty or malformed one leaves two-factor enrolment unavailable.
    pub fn with_master_key(mut self, hex: &str) -> Self {
        self.seal = crate::totp::SealKey::from_hex(hex).map(std::sync::Arc::new);
        self
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub(crate) async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.db.pool().acquire().await?)
    }

    fn require_staff(actor: &Actor) -> Result<()> {
        if actor.roles.iter().any(|r| *r != Role::Citizen) {
            Ok(())
        } else {
            Err(Error::forbidden("仅限工作人员访问"))
        }
    }

    // ---- regions ----

    /// The region tree is public reference data for every staff member.
    pub async fn regions(
        &self,
        actor: &Actor,
        parent_id: Option<i64>,
        code_prefix: Option<&str>,
    ) -> Result<Vec<Region>> {
        Self::require_staff(actor)?;
        actor.require_scope("org:read")?;
        store::regions(&mut *self.conn().await?, parent_id, code_prefix).await
    }

    pub async fn region_by_code(&self, code: &str) -> Result<Option<Region>> {
        store::region_by_code(&mut *self.conn().await?, code).await
    }

    /// A place as people say it, from the county down: "A1区 · 青河街道 · 东河社区" (a city-level
    /// region is named alone). `None` for a code the directory does not hold.
    pub async fn place_name(&self, code: &str) -> Result<Option<String>> {
        let mut c = self.conn().await?;
        let Some(mut r) = store::region_by_code(&mut c, code).await? else {
            return Ok(None);
        };
        let mut names = vec![r.name.clone()];
        while r.level > kernel::codes::RegionLevel::County {
            let Some(parent) = r.parent_id else { break };
            let Some(p) = store::region_by_id(&mut c, parent).await? else {
                break;
            };
            names.push(p.name.clone());
            r = p;
        }
        names.reverse();
        Ok(Some(names.join(" · ")))
    }

    pub async fn create_region(&self, actor: &Actor, input: NewRegion) -> Result<Region> {
        let granted = actor.authorize::<ManageOrg>()?;
        let level = input.validate()?;
        let code = input.code.trim().to_owned();
        let mut tx = self.db.begin().await?;
        let parent = match codes::implied_parent(&code) {
            Some(pc) => match store::region_by_code(&mut tx, &pc).await? {
                Some(p) => Some(p),
                None => {
                    return Err(Error::field(
                        "code",
                        "parent_region_missing",
                        format!("上级区划 {pc} 尚未建立，请先添加上级区划"),
                    ))
                }
            },
            None => None,
        };
        // An admin creates regions only inside their own region (a province admin anywhere below).
        if !matches!(actor.scope, Scope::All) {
            let inside = parent
                .as_ref()
                .is_some_and(|p| actor.can_see(None, Some(&p.code)));
            if !inside {
                return Err(Error::forbidden("只能在本辖区内新增行政区划"));
            }
        }
        let now = self.db.now();
        let id = store::insert_region(
            &mut tx,
            granted,
            &code,
            input.name.trim(),
            level,
            parent.as_ref().map(|p| p.id),
            now,
        )
        .await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "region",
            id,
            "create",
            json!({"code": code, "name": input.name.trim(), "level": level.code()}),
        )
        .await?;
        tx.commit().await?;
        Ok(Region {
            id,
            code,
            name: input.name.trim().into(),
            level,
            parent_id: parent.map(|p| p.id),
        })
    }

    pub async fn rename_region(&self, actor: &Actor, id: i64, name: &str) -> Result<Region> {
        let granted = actor.authorize::<ManageOrg>()?;
        let mut c = Checks::new();
        c.text("name", "名称", name, 40);
        c.finish()?;
        let mut tx = self.db.begin().await?;
        let mut r = store::region_by_id(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("region", "行政区划不存在"))?;
        actor.require_see(None, Some(&r.code))?;
        store::rename_region(&mut tx, granted, id, name.trim()).await?;
        let now = self.db.now();
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "region",
            id,
            "rename",
            json!({"from": r.name, "to": name.trim()}),
        )
        .await?;
        tx.commit().await?;
        r.name = name.trim().into();
        Ok(r)
    }

    // ---- departments ----

    fn scope_filter(actor: &Actor) -> (Option<Vec<i64>>, Option<String>, bool) {
        match &actor.scope {
            Scope::All => (None, None, true),
            Scope::Region { prefix } => (None, Some(prefix.clone()), true),
            Scope::Departments { ids } => (Some(ids.clone()), None, true),
            Scope::Own => (Some(vec![]), None, false),
        }
    }

    pub async fn departments(
        &self,
        actor: &Actor,
        q: &DepartmentQuery,
        page: &PageQuery,
    ) -> Result<Page<Department>> {
        Self::require_staff(actor)?;
        actor.require_scope("org:read")?;
        let (ids, prefix, _) = Self::scope_filter(actor);
        let region_prefix = match q.region_code.as_deref().filter(|s| !s.is_empty()) {
            Some(code) => {
                let p = codes::region_prefix(code).ok_or_else(|| {
                    Error::field(
                        "region_code",
                        "invalid_region_code",
                        "行政区划代码格式不正确",
                    )
                })?;
                // Narrow, never widen, the actor's own region.
                match &prefix {
                    Some(own) if !p.starts_with(own.as_str()) && !own.starts_with(&p) => {
                        Some("-".to_owned())
                    }
                    Some(own) if own.len() > p.len() => Some(own.clone()),
                    _ => Some(p),
                }
            }
            None => prefix,
        };
        let f = store::DeptFilter {
            dept_ids: ids.as_deref(),
            region_prefix: region_prefix.as_deref(),
            q: q.q.as_deref(),
            parent_id: q.parent_id,
        };
        let (items, total) =
            store::departments(&mut *self.conn().await?, &f, page.per_page(), page.offset())
                .await?;
        Ok(Page::new(items, total, page))
    }

    pub async fn department(&self, actor: &Actor, id: i64) -> Result<Department> {
        Self::require_staff(actor)?;
        actor.require_scope("org:read")?;
        let d = store::department(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| Error::not_found("department", "单位不存在"))?;
        actor.require_see(Some(d.id), Some(&d.region_code))?;
        Ok(d)
    }

    /// A department's name, read in the caller's transaction without scope: for texts other
    /// modules write about their own records (a notification naming the department in charge).
    pub async fn department_name_in(
        c: &mut sqlx::AnyConnection,
        id: i64,
    ) -> Result<Option<String>> {
        Ok(store::department(c, id).await?.map(|d| d.name))
    }

    /// Looks a department up by exact name, without scope (for imports and the command line).
    pub async fn department_by_name(&self, name: &str) -> Result<Option<Department>> {
        store::department_by_name(&mut *self.conn().await?, name).await
    }

    pub async fn create_department(
        &self,
        actor: &Actor,
        input: NewDepartment,
    ) -> Result<Department> {
        let granted = actor.authorize::<ManageOrg>()?;
        input.validate()?;
        let mut tx = self.db.begin().await?;
        let region = store::region_by_code(&mut tx, input.region_code.trim())
            .await?
            .ok_or_else(|| Error::field("region_code", "region_not_found", "该行政区划尚未建立"))?;
        actor
            .require_see(None, Some(&region.code))
            .map_err(|_| Error::forbidden("只能在本辖区内新增单位"))?;
        if let Some(pid) = input.parent_id {
            let p = store::department(&mut tx, pid).await?.ok_or_else(|| {
                Error::field("parent_id", "department_not_found", "上级单位不存在")
            })?;
            actor.require_see(Some(p.id), Some(&p.region_code))?;
        }
        let now = self.db.now();
        let id = store::insert_department(&mut tx, granted, &input, region.id, now).await?;
        let d = store::department(&mut tx, id)
            .await?
            .ok_or_else(|| Error::internal("department vanished"))?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "department",
            id,
            "create",
            serde_json::to_value(&d)?,
        )
        .await?;
        tx.commit().await?;
        Ok(d)
    }

    pub async fn update_department(
        &self,
        actor: &Actor,
        id: i64,
        ch: DepartmentChanges,
    ) -> Result<Department> {
        let granted = actor.authorize::<ManageOrg>()?;
        let mut tx = self.db.begin().await?;
        let before = store::department(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("department", "单位不存在"))?;
        actor.require_see(Some(before.id), Some(&before.region_code))?;
        let mut d = before.clone();
        if let Some(n) = ch.name {
            d.name = n.trim().into();
        }
        if let Some(s) = ch.short_name {
            d.short_name = s.trim().into();
        }
        if let Some(p) = ch.parent_id {
            d.parent_id = p;
        }
        if let Some(c) = ch.credit_code {
            d.credit_code = Some(c.trim().to_owned()).filter(|s| !s.is_empty());
        }
        if let Some(p) = ch.phone {
            d.phone = Some(p.trim().to_owned()).filter(|s| !s.is_empty());
        }
        if let Some(a) = ch.active {
            d.active = a;
        }
        NewDepartment {
            name: d.name.clone(),
            short_name: Some(d.short_name.clone()),
            region_code: d.region_code.clone(),
            parent_id: d.parent_id,
            credit_code: d.credit_code.clone(),
            phone: d.phone.clone(),
        }
        .validate()?;
        if let Some(pid) = d.parent_id {
            if store::department_subtree(&mut tx, id).await?.contains(&pid) {
                return Err(Error::field(
                    "parent_id",
                    "cycle",
                    "上级单位不能是本单位或其下级单位",
                ));
            }
            if store::department(&mut tx, pid).await?.is_none() {
                return Err(Error::field(
                    "parent_id",
                    "department_not_found",
                    "上级单位不存在",
                ));
            }
        }
        let now = self.db.now();
        store::update_department(&mut tx, granted, &d, now).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "department",
            id,
            "update",
            json!({"before": before, "after": d}),
        )
        .await?;
        tx.commit().await?;
        Ok(d)
    }

    // ---- users ----

    /// The 系统管理员 keeps the accounts of those whose roles it may give: the account of one
    /// of the 三员 (its password, its particulars) is not the system administrator's to take
    /// over, so that no one can act as two of them.
    fn require_may_manage(actor: &Actor, roles: &[Role]) -> Result<()> {
        match roles.iter().find(|r| !actor.may_grant(**r)) {
            Some(r) => Err(Error::forbidden(format!("无权管理“{}”的账号", r.label()))),
            None => Ok(()),
        }
    }

    fn may_see_personal(actor: &Actor) -> bool {
        actor.has_role(Role::SysAdmin)
    }

    fn public_user(actor: &Actor, rec: store::UserRecord) -> User {
        let mut u = rec.user;
        let full = Self::may_see_personal(actor) || actor.user_id == Some(u.id);
        u.phone = rec.phone.map(|p| if full { p } else { mask::phone(&p) });
        u.id_card = rec
            .id_card
            .map(|i| if full { i } else { mask::id_card(&i) });
        u
    }

    pub async fn users(
        &self,
        actor: &Actor,
        q: &UserQuery,
        page: &PageQuery,
    ) -> Result<Page<User>> {
        actor.require_scope("org:read")?;
        let (ids, prefix, _) = Self::scope_filter(actor);
        let f = store::UserFilter {
            dept_ids: ids.as_deref(),
            region_prefix: prefix.as_deref(),
            only_user: if matches!(actor.scope, Scope::Own) {
                Some(actor.user_id.unwrap_or(-1))
            } else {
                None
            },
            dept_id: q.dept_id,
            role: q.role,
            q: q.q.as_deref(),
        };
        let (rows, total) = store::users(
            &mut *self.conn().await?,
            self.db.sealer(),
            &f,
            page.per_page(),
            page.offset(),
        )
        .await?;
        Ok(Page::new(
            rows.into_iter()
                .map(|r| Self::public_user(actor, r))
                .collect(),
            total,
            page,
        ))
    }

    pub(crate) async fn user_in_scope(
        &self,
        c: &mut sqlx::AnyConnection,
        actor: &Actor,
        id: i64,
    ) -> Result<store::UserRecord> {
        let rec = store::user_by_id(c, self.db.sealer(), id)
            .await?
            .ok_or_else(|| Error::not_found("user", "用户不存在"))?;
        if actor.user_id != Some(id) {
            actor.require_see(rec.user.dept_id, rec.dept_region_code.as_deref())?;
        }
        Ok(rec)
    }

    pub async fn user(&self, actor: &Actor, id: i64) -> Result<User> {
        actor.require_scope("org:read")?;
        let rec = self
            .user_in_scope(&mut *self.conn().await?, actor, id)
            .await?;
        Ok(Self::public_user(actor, rec))
    }

    pub async fn create_user(&self, actor: &Actor, input: NewUser) -> Result<User> {
        let granted = actor.authorize::<ManageOrg>()?;
        input.validate()?;
        actor.authorize_role_change(None, &[], &input.roles)?;
        let hash = password::hash(&self.auth, &input.password).await?;
        let mut tx = self.db.begin().await?;
        if let Some(did) = input.dept_id {
            let d = store::department(&mut tx, did)
                .await?
                .ok_or_else(|| Error::field("dept_id", "department_not_found", "所选单位不存在"))?;
            actor
                .require_see(Some(d.id), Some(&d.region_code))
                .map_err(|_| Error::forbidden("只能在本辖区的单位中新增用户"))?;
        }
        let now = self.db.now();
        let id = store::insert_user(&mut tx, self.db.sealer(), granted, &input, &hash, now).await?;
        store::insert_password_history(&mut tx, id, &hash, now).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "user",
            id,
            "create",
            json!({"username": input.username.trim(), "dept_id": input.dept_id, "roles": input.roles}),
        )
        .await?;
        let rec = store::user_by_id(&mut tx, self.db.sealer(), id)
            .await?
            .ok_or_else(|| Error::internal("user vanished"))?;
        tx.commit().await?;
        Ok(Self::public_user(actor, rec))
    }

    /// 自助注册: a resident opens their own 市民 account (no department, no other role). One
    /// account per 身份证号; at most `auth.registrations_per_hour` from one address. The system
    /// writes it under these rules, and the audit names the address it came from.
    pub async fn register_resident(&self, r: Registration, ip: &str) -> Result<User> {
        if !self.auth.self_registration {
            return Err(Error::forbidden(
                "本平台未开放自助注册，请到政务服务大厅或联系管理员开通账号",
            ));
        }
        r.validate()?;
        let id_card = r.id_card.trim().to_uppercase();
        let phone = r.phone.trim().to_owned();
        let now = self.db.now();
        self.db
            .state::<RegistrationLimit>()
            .take(ip, now, self.auth.registrations_per_hour)?;
        let system = Actor::system();
        let granted = system.authorize::<ManageOrg>()?;
        let input = NewUser {
            username: r.username.trim().to_owned(),
            display_name: r.display_name.trim().to_owned(),
            password: r.password.clone(),
            dept_id: None,
            roles: vec![Role::Citizen],
            phone: Some(phone),
            id_card: Some(id_card.clone()),
        };
        let hash = password::hash(&self.auth, &input.password).await?;
        let mut tx = self.db.begin().await?;
        if store::active_user_by_id_card(&mut tx, self.db.sealer(), &id_card)
            .await?
            .is_some()
        {
            return Err(Error::field(
                "id_card",
                "already_registered",
                "该身份证号已注册账号，请直接登录；忘记密码请到政务服务大厅重置",
            ));
        }
        let id = store::insert_user(&mut tx, self.db.sealer(), granted, &input, &hash, now).await?;
        store::insert_password_history(&mut tx, id, &hash, now).await?;
        audit::record(
            &mut tx,
            now,
            &audit::AuditActor::user(id),
            "user",
            id,
            "self_register",
            json!({"username": input.username, "ip": ip}),
        )
        .await?;
        let rec = store::user_by_id(&mut tx, self.db.sealer(), id)
            .await?
            .ok_or_else(|| Error::internal("user vanished"))?;
        tx.commit().await?;
        let mut me = Actor::system();
        me.user_id = Some(id);
        Ok(Self::public_user(&me, rec))
    }

    /// Changes an account. The 系统管理员 changes its particulars and the business roles; the
    /// 安全管理员 changes roles only (any role but its own, [`Actor::authorize_role_change`]).
    pub async fn update_user(&self, actor: &Actor, id: i64, ch: UserChanges) -> Result<User> {
        let assign = actor.authorize::<AssignRoles>()?;
        let mut tx = self.db.begin().await?;
        let rec = self.user_in_scope(&mut tx, actor, id).await?;
        let display_name = ch
            .display_name
            .clone()
            .unwrap_or(rec.user.display_name.clone());
        let dept_id = ch.dept_id.or(rec.user.dept_id);
        let roles = ch.roles.clone().unwrap_or(rec.user.roles.clone());
        let phone = ch
            .phone
            .clone()
            .or(rec.phone.clone())
            .filter(|s| !s.is_empty());
        let id_card = ch
            .id_card
            .clone()
            .or(rec.id_card.clone())
            .filter(|s| !s.is_empty());
        let active = ch.active.unwrap_or(rec.user.active);
        let mut c = Checks::new();
        c.text("display_name", "姓名", &display_name, 30);
        check_roles(&mut c, &roles, dept_id);
        check_contact(&mut c, phone.as_deref(), id_card.as_deref());
        if actor.user_id == Some(id) && !active {
            c.add("active", "self_lockout", "不能停用自己的账号");
        }
        c.finish()?;
        // Anything but the roles is the 系统管理员's; the roles follow the one rule.
        let particulars_change = display_name.trim() != rec.user.display_name
            || dept_id != rec.user.dept_id
            || phone != rec.phone
            || id_card != rec.id_card
            || active != rec.user.active;
        let granted = if particulars_change {
            Some(actor.authorize::<ManageOrg>()?)
        } else {
            None
        };
        actor.authorize_role_change(Some(id), &rec.user.roles, &roles)?;
        if granted.is_some() {
            Self::require_may_manage(actor, &rec.user.roles)?;
        }
        if let Some(did) = ch.dept_id {
            let d = store::department(&mut tx, did)
                .await?
                .ok_or_else(|| Error::field("dept_id", "department_not_found", "所选单位不存在"))?;
            actor.require_see(Some(d.id), Some(&d.region_code))?;
        }
        let now = self.db.now();
        if let Some(granted) = granted {
            store::update_user(
                &mut tx,
                self.db.sealer(),
                granted,
                id,
                display_name.trim(),
                dept_id,
                phone.as_deref(),
                id_card.as_deref(),
                active,
                now,
            )
            .await?;
        }
        store::set_roles(&mut tx, assign.into(), id, &roles).await?;
        if !active {
            store::delete_user_sessions(&mut tx, id).await?;
        }
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "user",
            id,
            "update",
            json!({"display_name": display_name.trim(), "dept_id": dept_id, "roles": roles, "active": active,
                   "phone_changed": ch.phone.is_some(), "id_card_changed": ch.id_card.is_some()}),
        )
        .await?;
        let rec = store::user_by_id(&mut tx, self.db.sealer(), id)
            .await?
            .ok_or_else(|| Error::internal("user vanished"))?;
        tx.commit().await?;
        Ok(Self::public_user(actor, rec))
    }

    /// Sets a new password: a user for themself with their current one, or an admin for a
    /// user in scope (a reset). Either way the user's sessions end, their API tokens are
    /// revoked and a lockout of the account is lifted; a reset of someone else's password is
    /// an alert in the audit chain for the security administrators.
    pub async fn set_password(
        &self,
        actor: &Actor,
        id: i64,
        current: Option<&str>,
        new_password: &str,
    ) -> Result<()> {
        let own = actor.user_id == Some(id);
        if !own {
            actor.require_any_role(&[Role::SysAdmin, Role::SecAdmin])?;
        }
        let rec = self
            .user_in_scope(&mut *self.conn().await?, actor, id)
            .await?;
        // The 系统管理员 resets the passwords of the accounts it keeps; one of the 三员's is
        // reset by the 安全管理员, so the system administrator cannot take it over.
        let by: Authorized = if own {
            actor.authorize::<OwnAccount>()?.into()
        } else if rec
            .user
            .roles
            .iter()
            .any(|r| Role::THREE_ADMINS.contains(r))
        {
            actor.authorize::<ManageSecurity>()?.into()
        } else {
            actor.authorize::<ManageOrg>()?.into()
        };
        if own {
            let current = current.unwrap_or("");
            if current.is_empty() {
                return Err(Error::field(
                    "current_password",
                    "required",
                    "请输入当前密码",
                ));
            }
            if !password::verify(current, &rec.password_hash).await {
                return Err(Error::field(
                    "current_password",
                    "wrong_password",
                    "当前密码不正确",
                ));
            }
        }
        let mut c = Checks::new();
        check_password(&mut c, "password", new_password, &rec.user.username);
        c.finish()?;
        let recent =
            store::recent_password_hashes(&mut *self.conn().await?, id, self.auth.password_history)
                .await?;
        for old in recent.iter().chain(std::iter::once(&rec.password_hash)) {
            if password::verify(new_password, old).await {
                return Err(Error::field(
                    "password",
                    "password_reused",
                    format!(
                        "新密码不能与最近 {} 次使用过的密码相同",
                        self.auth.password_history.max(1)
                    ),
                ));
            }
        }
        let hash = password::hash(&self.auth, new_password).await?;
        let mut tx = self.db.begin().await?;
        let now = self.db.now();
        store::set_password_hash(&mut tx, by, id, &hash, now).await?;
        store::insert_password_history(&mut tx, id, &hash, now).await?;
        store::delete_user_sessions(&mut tx, id).await?;
        let revoked = store::revoke_user_tokens(&mut tx, id, now).await?;
        store::clear_failures(&mut tx, &rec.user.username).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "user",
            id,
            if own {
                "change_password"
            } else {
                "reset_password"
            },
            json!({"tokens_revoked": revoked, "unlocked": true}),
        )
        .await?;
        tx.commit().await?;
        if !own {
            tracing::warn!(user_id = id, by = %actor.username, "password reset by an administrator");
        }
        Ok(())
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        Ok(
            store::user_by_username(&mut *self.conn().await?, self.db.sealer(), username)
                .await?
                .map(|r| r.user),
        )
    }

    pub async fn count_users(&self) -> Result<i64> {
        store::count_users(&mut *self.conn().await?).await
    }

    // ---- identity: actors, sessions, tokens ----

    /// Builds the actor for a user: roles, and the data scope that follows from them.
    pub(crate) async fn actor_for(
        &self,
        c: &mut sqlx::AnyConnection,
        rec: &store::UserRecord,
        via: Via,
    ) -> Result<Actor> {
        let u = &rec.user;
        let scope = if u.roles.iter().any(|r| r.is_region_wide()) {
            match rec
                .dept_region_code
                .as_deref()
                .and_then(codes::region_prefix)
            {
                Some(prefix) => Scope::Region { prefix },
                None => Scope::Departments { ids: vec![] },
            }
        } else if let Some(d) = u.dept_id {
            Scope::Departments {
                ids: store::department_subtree(c, d).await?,
            }
        } else {
            Scope::Own
        };
        Ok(Actor {
            user_id: Some(u.id),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            dept_id: u.dept_id,
            region_code: rec.dept_region_code.clone(),
            roles: u.roles.clone(),
            scope,
            token_scopes: None,
            via,
        })
    }

    /// The lockout: too many failures (passwords or second factors) for this account from this
    /// address, or from this address at all, within `lockout_minutes`.
    pub(crate) async fn check_not_locked(
        &self,
        c: &mut sqlx::AnyConnection,
        username: &str,
        ip: &str,
        now: i64,
    ) -> Result<i64> {
        let window = self.auth.lockout_minutes * 60_000;
        // Locked per account *and* address: failures from elsewhere cannot lock someone out;
        // an address guessing at many accounts is stopped by its own count.
        let (by_user_here, by_ip, oldest) =
            store::failures_since(c, username, ip, now - window).await?;
        if by_user_here >= self.auth.max_login_failures || by_ip >= self.auth.max_login_failures * 4
        {
            let wait_ms = oldest
                .map(|o| o + window - now)
                .unwrap_or(window)
                .max(60_000);
            let minutes = (wait_ms + 59_999) / 60_000;
            return Err(Error::RateLimited {
                detail: format!("登录失败次数过多，已暂时锁定，请 {minutes} 分钟后再试"),
                retry_after_secs: (wait_ms / 1000) as u64,
            });
        }
        Ok(by_user_here)
    }

    /// One failure counted towards the lockout, in the caller's transaction, with the lockout
    /// alert when it is the one that locks.
    pub(crate) async fn count_failure(
        &self,
        tx: &mut kernel::db::Tx,
        username: &str,
        ip: &str,
        now: i64,
        by_user_here: i64,
    ) -> Result<()> {
        store::record_failure(tx, username, ip, now).await?;
        if by_user_here + 1 == self.auth.max_login_failures {
            // The alert for the security administrators: an account locked from an address.
            audit::record(
                tx,
                now,
                &audit::AuditActor::system(),
                "session",
                username,
                "lockout",
                json!({"ip": ip, "minutes": self.auth.lockout_minutes}),
            )
            .await?;
            tracing::warn!(%username, %ip, "account locked after repeated login failures");
        }
        Ok(())
    }

    /// Checks a password, with lockout after repeated failures; the user when it is right.
    async fn check_password(
        &self,
        username: &str,
        pw: &str,
        ip: &str,
    ) -> Result<store::UserRecord> {
        let username = username.trim().to_lowercase();
        let now = self.db.now();
        let mut conn = self.conn().await?;
        let by_user_here = self.check_not_locked(&mut conn, &username, ip, now).await?;
        let rec = store::user_by_username(&mut conn, self.db.sealer(), &username).await?;
        drop(conn);
        let ok = match &rec {
            Some(r) => password::verify(pw, &r.password_hash).await && r.user.active,
            None => {
                password::verify(pw, password::DUMMY_HASH).await;
                false
            }
        };
        let mut tx = self.db.begin().await?;
        let Some(rec) = rec.filter(|_| ok) else {
            audit::record(
                &mut tx,
                now,
                &audit::AuditActor(format!("anonymous@{ip}")),
                "session",
                &username,
                "login_failed",
                json!({"ip": ip}),
            )
            .await?;
            self.count_failure(&mut tx, &username, ip, now, by_user_here)
                .await?;
            tx.commit().await?;
            return Err(Error::Unauthorized("用户名或密码错误，或账号已停用".into()));
        };
        if self.auth.password_max_age_days > 0 {
            let set_at = store::password_set_at(&mut tx, rec.user.id).await?;
            if set_at.is_some_and(|t| t < now - self.auth.password_max_age_days * 86_400_000) {
                tx.commit().await?;
                return Err(Error::Unauthorized(format!(
                    "密码已超过 {} 天未更换，已过期，请联系管理员重置密码",
                    self.auth.password_max_age_days
                )));
            }
        }
        tx.commit().await?;
        Ok(rec)
    }

    /// Checks a password login, with lockout after repeated failures. Returns a brand-new
    /// session (a new id at every login, so a planted id is useless). A user with a second
    /// factor is refused here (field `totp`): use [`Self::login_with`] or [`Self::login_start`].
    pub async fn login(
        &self,
        username: &str,
        pw: &str,
        ip: &str,
        user_agent: &str,
    ) -> Result<NewSession> {
        self.login_with(username, pw, SecondFactor::None, ip, user_agent)
            .await
    }

    /// A login in one call (the JSON API): the password and, for a user who has enrolled a
    /// second factor, its code or a recovery code.
    pub async fn login_with(
        &self,
        username: &str,
        pw: &str,
        factor: SecondFactor<'_>,
        ip: &str,
        user_agent: &str,
    ) -> Result<NewSession> {
        let rec = self.check_password(username, pw, ip).await?;
        if self.two_factor_enabled(rec.user.id).await? {
            if matches!(factor, SecondFactor::None) {
                return Err(Error::field(
                    "totp",
                    "two_factor_required",
                    "该账号已启用双因素认证：请同时提供认证器应用中的 6 位动态验证码（totp），或一个恢复码（recovery_code）",
                ));
            }
            self.check_second_factor(&rec, factor, ip).await?;
        }
        self.open_session(&rec, ip, user_agent).await
    }

    /// The login page's first step: the password. A user with a second factor is asked for it
    /// next (within five minutes, by the challenge token).
    pub async fn login_start(
        &self,
        username: &str,
        pw: &str,
        ip: &str,
        user_agent: &str,
    ) -> Result<LoginStep> {
        let rec = self.check_password(username, pw, ip).await?;
        if !self.two_factor_enabled(rec.user.id).await? {
            return Ok(LoginStep::Session(Box::new(
                self.open_session(&rec, ip, user_agent).await?,
            )));
        }
        let challenge = random_token(24);
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        store::insert_challenge(
            &mut tx,
            &sm3_hex(&challenge),
            rec.user.id,
            now,
            now + 5 * 60_000,
        )
        .await?;
        tx.commit().await?;
        Ok(LoginStep::SecondFactor { challenge })
    }

    /// The login page's second step: the code (or a recovery code) for a challenge.
    pub async fn login_finish(
        &self,
        challenge: &str,
        factor: SecondFactor<'_>,
        ip: &str,
        user_agent: &str,
    ) -> Result<NewSession> {
        let now = self.db.now();
        let hash = sm3_hex(challenge);
        let mut c = self.conn().await?;
        let rec = match store::challenge_user(&mut c, &hash, now).await? {
            Some(uid) => store::user_by_id(&mut c, self.db.sealer(), uid).await?,
            None => None,
        };
        drop(c);
        let Some(rec) = rec.filter(|r| r.user.active) else {
            return Err(Error::Unauthorized(
                "登录已超时，请重新输入用户名和密码".into(),
            ));
        };
        self.check_second_factor(&rec, factor, ip).await?;
        let mut tx = self.db.begin().await?;
        store::delete_challenge(&mut tx, &hash, now).await?;
        tx.commit().await?;
        self.open_session(&rec, ip, user_agent).await
    }

    /// A new session for a user whose proofs were accepted.
    async fn open_session(
        &self,
        rec: &store::UserRecord,
        ip: &str,
        user_agent: &str,
    ) -> Result<NewSession> {
        let now = self.db.now();
        let enrol_only =
            self.policy_requires(&rec.user.roles) && !self.two_factor_enabled(rec.user.id).await?;
        let mut tx = self.db.begin().await?;
        let token = random_token(32);
        let csrf = random_token(24);
        let expires_at = now + self.auth.session_hours * 3_600_000;
        let ua: String = user_agent.chars().take(200).collect();
        store::insert_session(
            &mut tx,
            &sm3_hex(&token),
            rec.user.id,
            &csrf,
            now,
            expires_at,
            ip,
            &ua,
            enrol_only,
        )
        .await?;
        store::clear_failures(&mut tx, &rec.user.username).await?;
        // The password was the proof; the system records the login.
        let system = Actor::system();
        store::record_login(
            &mut tx,
            kernel::Authorized::system(&system)?,
            rec.user.id,
            now,
            ip,
        )
        .await?;
        let actor = self.actor_for(&mut tx, rec, Via::Session).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "session",
            rec.user.id,
            "login",
            json!({"ip": ip, "enrol_only": enrol_only}),
        )
        .await?;
        tx.commit().await?;
        Ok(NewSession {
            token,
            csrf,
            expires_at,
            actor,
            enrol_only,
        })
    }

    pub async fn logout(&self, token: &str) -> Result<()> {
        let mut tx = self.db.begin().await?;
        if let Some(uid) = store::delete_session(&mut tx, &sm3_hex(token)).await? {
            audit::record(
                &mut tx,
                self.db.now(),
                &audit::AuditActor::user(uid),
                "session",
                uid,
                "logout",
                json!({}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Resolves a session cookie; `None` when unknown, expired or the user is disabled.
    pub async fn resolve_session(&self, token: &str) -> Result<Option<SessionInfo>> {
        let id_hash = sm3_hex(token);
        let mut c = self.conn().await?;
        let Some((s, rec)) = store::session_user(&mut c, self.db.sealer(), &id_hash).await? else {
            return Ok(None);
        };
        let now = self.db.now();
        if s.expires_at <= now || s.last_seen_at < self.idle_before(now) {
            return Ok(None);
        }
        if !rec.user.active {
            return Ok(None);
        }
        let actor = self.actor_for(&mut c, &rec, Via::Session).await?;
        drop(c);
        if now - s.last_seen_at > 60_000 {
            // Bookkeeping only, not a state change of record: no audit entry.
            let mut tx = self.db.begin().await?;
            store::touch_session(&mut tx, &id_hash, now).await?;
            tx.commit().await?;
        }
        Ok(Some(SessionInfo {
            actor,
            csrf: s.csrf,
            started_at: s.created_at,
            enrol_only: s.enrol_only,
        }))
    }

    pub async fn create_token(
        &self,
        actor: &Actor,
        input: NewApiToken,
    ) -> Result<(String, ApiToken)> {
        let uid = actor
            .user_id
            .ok_or_else(|| Error::forbidden("只有用户可以创建 API 令牌"))?;
        if actor.via == Via::Token {
            return Err(Error::forbidden("不能用 API 令牌创建新的令牌"));
        }
        Self::require_staff(actor)?;
        input.validate()?;
        let plain = format!("{API_TOKEN_PREFIX}{}", random_token(24));
        let prefix: String = plain.chars().take(10).collect();
        let mut tx = self.db.begin().await?;
        let now = self.db.now();
        let id = store::insert_token(&mut tx, uid, &input, &prefix, &sm3_hex(&plain), now).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "api_token",
            id,
            "create",
            json!({"name": input.name, "scopes": input.scopes, "prefix": prefix}),
        )
        .await?;
        let t = store::token_by_id(&mut tx, id)
            .await?
            .ok_or_else(|| Error::internal("token vanished"))?;
        tx.commit().await?;
        Ok((plain, t))
    }

    /// The actor's own tokens; an admin sees all.
    pub async fn tokens(&self, actor: &Actor) -> Result<Vec<ApiToken>> {
        let uid = actor
            .user_id
            .ok_or_else(|| Error::forbidden("只有用户可以查看 API 令牌"))?;
        let who = if actor.has_role(Role::SysAdmin) && matches!(actor.scope, Scope::All) {
            None
        } else {
            Some(uid)
        };
        store::tokens_of(&mut *self.conn().await?, who).await
    }

    pub async fn revoke_token(&self, actor: &Actor, id: i64) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let t = store::token_by_id(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("api_token", "令牌不存在"))?;
        if actor.user_id != Some(t.user_id) {
            actor.require_any_role(STAFF_ADMIN)?;
            self.user_in_scope(&mut tx, actor, t.user_id).await?;
        }
        let now = self.db.now();
        store::revoke_token(&mut tx, id, now).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "api_token",
            id,
            "revoke",
            json!({"prefix": t.prefix}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Resolves a bearer token: unknown, revoked or expired tokens give `None`.
    pub async fn resolve_token(&self, plain: &str) -> Result<Option<Actor>> {
        let mut c = self.conn().await?;
        let Some(t) = store::token_by_hash(&mut c, &sm3_hex(plain)).await? else {
            return Ok(None);
        };
        let now = self.db.now();
        if t.revoked_at.is_some() || t.expires_at.is_some_and(|e| e <= now) {
            return Ok(None);
        }
        let Some(rec) = store::user_by_id(&mut c, self.db.sealer(), t.user_id).await? else {
            return Ok(None);
        };
        if !rec.user.active {
            return Ok(None);
        }
        let mut actor = self.actor_for(&mut c, &rec, Via::Token).await?;
        actor.token_scopes = Some(t.scopes.clone());
        drop(c);
        if t.last_used_at.is_none_or(|l| now - l > 60_000) {
            let mut tx = self.db.begin().await?;
            store::touch_token(&mut tx, t.id, now).await?;
            tx.commit().await?;
        }
        Ok(Some(actor))
    }

    /// The actor of a user by id (for the command line and tests).
    pub async fn actor_of_user(&self, id: i64) -> Result<Actor> {
        let mut c = self.conn().await?;
        let rec = store::user_by_id(&mut c, self.db.sealer(), id)
            .await?
            .ok_or_else(|| Error::not_found("user", "用户不存在"))?;
        self.actor_for(&mut c, &rec, Via::Session).await
    }

    /// Sessions last seen before this are idle and over (`i64::MIN` when there is no idle limit).
    fn idle_before(&self, now: i64) -> i64 {
        if self.auth.idle_minutes > 0 {
            now - self.auth.idle_minutes * 60_000
        } else {
            i64::MIN
        }
    }

    /// The signed-in user's live sessions (where and when, which browser), the current one
    /// marked by its CSRF token.
    pub async fn my_sessions(&self, actor: &Actor, current_csrf: &str) -> Result<Vec<MySession>> {
        let uid = actor
            .user_id
            .filter(|_| actor.via == Via::Session)
            .ok_or_else(|| Error::forbidden("登录会话只能在登录后的浏览器中查看"))?;
        let now = self.db.now();
        let mut c = self.conn().await?;
        let rows = store::user_sessions(&mut c, uid, now, self.idle_before(now)).await?;
        Ok(rows
            .into_iter()
            .map(|s| MySession {
                current: s.csrf == current_csrf,
                browser: crate::domain::browser_name(&s.user_agent),
                id: s.id_hash,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                expires_at: s.expires_at,
                ip: s.ip,
            })
            .collect())
    }

    /// Ends one of the signed-in user's own sessions (a browser left signed in elsewhere).
    pub async fn end_my_session(&self, actor: &Actor, id: &str) -> Result<()> {
        let uid = actor
            .user_id
            .filter(|_| actor.via == Via::Session)
            .ok_or_else(|| Error::forbidden("登录会话只能在登录后的浏览器中结束"))?;
        let mut tx = self.db.begin().await?;
        if !store::delete_own_session(&mut tx, uid, id).await? {
            return Err(Error::not_found("session", "没有这个登录会话，或它已结束"));
        }
        audit::record(
            &mut tx,
            self.db.now(),
            &actor.audit_actor(),
            "session",
            uid,
            "end_session",
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The login before the current one, when and from where (上次登录).
    pub async fn previous_login(&self, actor: &Actor) -> Result<Option<(i64, String)>> {
        let Some(uid) = actor.user_id else {
            return Ok(None);
        };
        let mut c = self.conn().await?;
        store::previous_login(&mut c, uid).await
    }

    /// Removes expired and idle sessions.
    pub async fn sweep(&self) -> Result<u64> {
        let mut tx = self.db.begin().await?;
        let now = self.db.now();
        let n = store::delete_expired_sessions(&mut tx, now, self.idle_before(now)).await?;
        tx.commit().await?;
        Ok(n)
    }
}

/// Registrations per address in the last hour (kept per database, in memory: a restart resets
/// it, which only lets a few more through).
#[derive(Default)]
pub(crate) struct RegistrationLimit {
    by_ip: std::sync::Mutex<std::collections::HashMap<String, Vec<i64>>>,
}

impl RegistrationLimit {
    fn take(&self, ip: &str, now: i64, per_hour: u32) -> Result<()> {
        let mut m = self.by_ip.lock().unwrap_or_else(|e| e.into_inner());
        m.retain(|_, v| {
            v.retain(|t| now - t < 3_600_000);
            !v.is_empty()
        });
        let v = m.entry(ip.to_owned()).or_default();
        if v.len() >= per_hour as usize {
            let retry = (v[0] + 3_600_000 - now).max(1000) / 1000;
            return Err(Error::RateLimited {
                detail: format!(
                    "同一网络地址注册过于频繁，请 {} 分钟后再试",
                    (retry as u64).div_ceil(60)
                ),
                retry_after_secs: retry as u64,
            });
        }
        v.push(now);
        Ok(())
    }
}
