//! One test world for every crate's tests and the benches: a small city made through
//! `org::OrgService` (so it is validated and audited like real data) — regions, departments with sub-departments, and users by role — looked up by name.
//!
//! ```ignore
//! let city = testkit::city::standard().user("han_x", "住建局", Role::Handler).build(db).await;
//! let x = city.dept("住建局");
//! svc.act(city.actor("dispatcher"), id, Action::Dispatch { main_dept_id: x, .. }).await?;
//! ```

use kernel::config::AuthConfig;
use kernel::{Actor, Db, Role};
use org::{NewDepartment, NewRegion, NewUser, OrgService};
use std::collections::BTreeMap;

/// The password of every user of a test city.
pub const PASSWORD: &str = "Abc@12345x";

/// Argon2 parameters small enough that a test city with a dozen users builds in milliseconds.
pub fn fast_auth() -> AuthConfig {
    AuthConfig {
        argon2_memory_kib: 1024,
        argon2_iterations: 1,
        ..Default::default()
    }
}

struct DeptSpec {
    name: String,
    region: String,
    parent: Option<String>,
}

struct UserSpec {
    username: String,
    dept: Option<String>,
    roles: Vec<Role>,
    phone: Option<String>,
}

/// What a city will hold; [`CityBuilder::build`] makes it.
pub struct CityBuilder {
    regions: Vec<(String, String)>,
    depts: Vec<DeptSpec>,
    users: Vec<UserSpec>,
    auth: AuthConfig,
}

/// 西地省 A市 with districts A1区 and A2区 and nothing else (add streets and communities with
/// [`CityBuilder::region`]).
pub fn empty() -> CityBuilder {
    CityBuilder {
        regions: [
            ("690000", "西地省"),
            ("690100", "A市"),
            ("690102", "A1区"),
            ("690103", "A2区"),
        ]
        .into_iter()
        .map(|(c, n)| (c.into(), n.into()))
        .collect(),
        depts: Vec::new(),
        users: Vec::new(),
        auth: fast_auth(),
    }
}

/// The usual test city: the bureau 数据局 (12345 centre and front desk), city departments
/// 住建局 (with its sub-department 住建局物业科), 城管局, 水务局 and 生态环境局, the A2区 government,
/// and one user per role: `admin` (the 系统管理员), `secadmin`, `auditadmin`, `operator`, `dispatcher`, `supervisor`, `analyst`, `clerk`
/// (数据局), `approver` (住建局), `data_officer` (水务局), handlers `han_x` (住建局), `han_x1`
/// (住建局物业科), `han_y` (城管局), `han_z` (水务局), and `citizen` (no department).
pub fn standard() -> CityBuilder {
    empty()
        .dept("数据局", "690100")
        .dept("住建局", "690100")
        .sub_dept("住建局物业科", "住建局")
        .dept("城管局", "690100")
        .dept("水务局", "690100")
        .dept("生态环境局", "690100")
        .dept("A2区人民政府", "690103")
        .user("admin", "数据局", Role::SysAdmin)
        .user("secadmin", "数据局", Role::SecAdmin)
        .user("auditadmin", "数据局", Role::AuditAdmin)
        .user("operator", "数据局", Role::Operator)
        .user("dispatcher", "数据局", Role::Dispatcher)
        .user("supervisor", "数据局", Role::Supervisor)
        .user("analyst", "数据局", Role::Analyst)
        .user("clerk", "数据局", Role::Clerk)
        .user("approver", "住建局", Role::Approver)
        .user("data_officer", "水务局", Role::DataOfficer)
        .user("han_x", "住建局", Role::Handler)
        .user("han_x1", "住建局物业科", Role::Handler)
        .user("han_y", "城管局", Role::Handler)
        .user("han_z", "水务局", Role::Handler)
        .citizen("citizen", "13912345678")
}

/// The hotline tests' city: 数据局 (the 12345 centre: `operator`, `dispatcher`, `supervisor`,
/// `analyst`) and three departments with one handler each: 住建局 `hx_user`, 城管局 `hy_user`,
/// 水务局 `hz_user`.
pub fn hotline_centre() -> CityBuilder {
    empty()
        .dept("数据局", "690100")
        .dept("住建局", "690100")
        .dept("城管局", "690100")
        .dept("水务局", "690100")
        .user("operator", "数据局", Role::Operator)
        .user("dispatcher", "数据局", Role::Dispatcher)
        .user("supervisor", "数据局", Role::Supervisor)
        .user("analyst", "数据局", Role::Analyst)
        .user("hx_user", "住建局", Role::Handler)
        .user("hy_user", "城管局", Role::Handler)
        .user("hz_user", "水务局", Role::Handler)
}

impl CityBuilder {
    pub fn region(mut self, code: &str, name: &str) -> Self {
        self.regions.push((code.into(), name.into()));
        self
    }

    /// A department of the city (or of a district: `region` is its GB/T 2260 code).
    pub fn dept(mut self, name: &str, region: &str) -> Self {
        self.depts.push(DeptSpec {
            name: name.into(),
            region: region.into(),
            parent: None,
        });
        self
    }

    /// A department under `parent` (declared before), in the parent's region.
    pub fn sub_dept(mut self, name: &str, parent: &str) -> Self {
        let region = self
            .depts
            .iter()
            .find(|d| d.name == parent)
            .unwrap_or_else(|| panic!("parent department {parent} is not declared"))
            .region
            .clone();
        self.depts.push(DeptSpec {
            name: name.into(),
            region,
            parent: Some(parent.into()),
        });
        self
    }

    /// A staff user of `dept` with `role`.
    pub fn user(self, username: &str, dept: &str, role: Role) -> Self {
        self.user_with(username, Some(dept), &[role], None)
    }

    /// A citizen account (no department) with a phone number.
    pub fn citizen(self, username: &str, phone: &str) -> Self {
        self.user_with(username, None, &[Role::Citizen], Some(phone))
    }

    /// A user with several roles, or none of the usual shapes.
    pub fn user_with(
        mut self,
        username: &str,
        dept: Option<&str>,
        roles: &[Role],
        phone: Option<&str>,
    ) -> Self {
        self.users.retain(|u| u.username != username);
        self.users.push(UserSpec {
            username: username.into(),
            dept: dept.map(Into::into),
            roles: roles.to_vec(),
            phone: phone.map(Into::into),
        });
        self
    }

    /// Argon2 settings for the users (the default is [`fast_auth`]).
    pub fn auth(mut self, auth: AuthConfig) -> Self {
        self.auth = auth;
        self
    }

    /// Makes the city in `db` (already migrated with org's tables) through `OrgService`.
    pub async fn build(self, db: Db) -> City {
        let org = OrgService::new(db.clone(), self.auth.clone());
        let cli = Actor::cli();
        for (code, name) in &self.regions {
            org.create_region(
                &cli,
                NewRegion {
                    code: code.clone(),
                    name: name.clone(),
                },
            )
            .await
            .unwrap_or_else(|e| panic!("region {code} {name}: {e}"));
        }
        let mut depts = BTreeMap::new();
        for d in &self.depts {
            let parent_id = d.parent.as_ref().map(|p| depts[p]);
            let made = org
                .create_department(
                    &cli,
                    NewDepartment {
                        name: d.name.clone(),
                        short_name: None,
                        region_code: d.region.clone(),
                        parent_id,
                        credit_code: None,
                        phone: None,
                    },
                )
                .await
                .unwrap_or_else(|e| panic!("department {}: {e}", d.name));
            depts.insert(d.name.clone(), made.id);
        }
        let mut users = BTreeMap::new();
        for u in &self.users {
            let dept_id = u.dept.as_ref().map(|d| {
                *depts
                    .get(d)
                    .unwrap_or_else(|| panic!("user {}: no department {d}", u.username))
            });
            let made = org
                .create_user(
                    &cli,
                    NewUser {
                        username: u.username.clone(),
                        display_name: format!("测试{}", u.username),
                        password: PASSWORD.into(),
                        dept_id,
                        roles: u.roles.clone(),
                        phone: u.phone.clone(),
                        id_card: None,
                    },
                )
                .await
                .unwrap_or_else(|e| panic!("user {}: {e}", u.username));
            let actor = org.actor_of_user(made.id).await.expect("actor of user");
            users.insert(u.username.clone(), (made.id, actor));
        }
        City {
            db,
            org,
            depts,
            users,
        }
    }
}

/// A built test city.
pub struct City {
    pub db: Db,
    pub org: OrgService,
    depts: BTreeMap<String, i64>,
    users: BTreeMap<String, (i64, Actor)>,
}

impl City {
    /// The id of a department by its name.
    pub fn dept(&self, name: &str) -> i64 {
        *self
            .depts
            .get(name)
            .unwrap_or_else(|| panic!("the test city has no department {name}"))
    }

    /// The acting identity of a user, as a session of theirs would carry it.
    pub fn actor(&self, username: &str) -> &Actor {
        &self.user(username).1
    }

    /// The user id of a user.
    pub fn user_id(&self, username: &str) -> i64 {
        self.user(username).0
    }

    fn user(&self, username: &str) -> &(i64, Actor) {
        self.users
            .get(username)
            .unwrap_or_else(|| panic!("the test city has no user {username}"))
    }
}
