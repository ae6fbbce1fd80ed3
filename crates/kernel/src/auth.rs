//! Who is acting, and what they may see. Every service function takes an `Actor` and checks it
//! itself, so a handler cannot forget authorization.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Citizen,
    Operator,
    Dispatcher,
    Handler,
    Supervisor,
    Clerk,
    Approver,
    DataOfficer,
    /// 首席数据官: a department's second approval of data requests (一网共享).
    ChiefDataOfficer,
    Analyst,
    /// 系统管理员 (三员之一): regions, departments, users, settings, OIDC clients.
    SysAdmin,
    /// 安全管理员 (三员之一): who holds which role, password and lockout policy, two-factor
    /// resets, keys.
    SecAdmin,
    /// 审计管理员 (三员之一): reads, searches and exports the audit log, nothing else.
    AuditAdmin,
}

impl Role {
    pub const ALL: [Role; 13] = [
        Role::Citizen,
        Role::Operator,
        Role::Dispatcher,
        Role::Handler,
        Role::Supervisor,
        Role::Clerk,
        Role::Approver,
        Role::DataOfficer,
        Role::ChiefDataOfficer,
        Role::Analyst,
        Role::SysAdmin,
        Role::SecAdmin,
        Role::AuditAdmin,
    ];

    /// Every role but 市民: the bureau's and departments' staff.
    pub const STAFF: [Role; 12] = [
        Role::Operator,
        Role::Dispatcher,
        Role::Handler,
        Role::Supervisor,
        Role::Clerk,
        Role::Approver,
        Role::DataOfficer,
        Role::ChiefDataOfficer,
        Role::Analyst,
        Role::SysAdmin,
        Role::SecAdmin,
        Role::AuditAdmin,
    ];

    /// 三员: the system, security and audit administrators. No one holds two of them
    /// (等保 2.0 三员分立), see [`Role::check_separation`].
    pub const THREE_ADMINS: [Role; 3] = [Role::SysAdmin, Role::SecAdmin, Role::AuditAdmin];

    /// The business roles: every staff role but the three administrators'.
    pub const BUSINESS: [Role; 9] = [
        Role::Operator,
        Role::Dispatcher,
        Role::Handler,
        Role::Supervisor,
        Role::Clerk,
        Role::Approver,
        Role::DataOfficer,
        Role::ChiefDataOfficer,
        Role::Analyst,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Operator => "operator",
            Role::Dispatcher => "dispatcher",
            Role::Handler => "handler",
            Role::Supervisor => "supervisor",
            Role::Clerk => "clerk",
            Role::Approver => "approver",
            Role::DataOfficer => "data_officer",
            Role::ChiefDataOfficer => "chief_data_officer",
            Role::Analyst => "analyst",
            Role::SysAdmin => "sys_admin",
            Role::SecAdmin => "sec_admin",
            Role::AuditAdmin => "audit_admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Citizen => "市民/企业",
            Role::Operator => "话务员",
            Role::Dispatcher => "派单员",
            Role::Handler => "承办人",
            Role::Supervisor => "督办员",
            Role::Clerk => "窗口人员",
            Role::Approver => "审批人员",
            Role::DataOfficer => "数据专员",
            Role::ChiefDataOfficer => "首席数据官",
            Role::Analyst => "分析员",
            Role::SysAdmin => "系统管理员",
            Role::SecAdmin => "安全管理员",
            Role::AuditAdmin => "审计管理员",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == s)
    }

    /// Roles that work across their whole region rather than inside one department.
    pub fn is_region_wide(self) -> bool {
        matches!(
            self,
            Role::Operator
                | Role::Dispatcher
                | Role::Supervisor
                | Role::Analyst
                | Role::SysAdmin
                | Role::SecAdmin
                | Role::AuditAdmin
        )
    }

    /// The roles a holder of `self` may give or take away. The system administrator keeps the
    /// accounts, so it gives the business roles a new account starts with; only the security
    /// administrator gives the three administrators' roles; the audit administrator gives none.
    pub fn grants(self) -> &'static [Role] {
        const SYS: [Role; 10] = [
            Role::Citizen,
            Role::Operator,
            Role::Dispatcher,
            Role::Handler,
            Role::Supervisor,
            Role::Clerk,
            Role::Approver,
            Role::DataOfficer,
            Role::ChiefDataOfficer,
            Role::Analyst,
        ];
        match self {
            Role::SysAdmin => &SYS,
            Role::SecAdmin => &Role::ALL,
            _ => &[],
        }
    }

    /// 三员分立: a set of roles holds at most one of the three administrators'.
    pub fn check_separation(roles: &[Role]) -> Result<()> {
        let held: Vec<&str> = Role::THREE_ADMINS
            .iter()
            .filter(|r| roles.contains(r))
            .map(|r| r.label())
            .collect();
        if held.len() > 1 {
            return Err(Error::field(
                "roles",
                "separation_of_duties",
                format!(
                    "系统管理员、安全管理员、审计管理员须由不同的人担任，不能同时拥有{}",
                    held.join("和")
                ),
            ));
        }
        Ok(())
    }
}

/// What records an actor may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    /// Everything (the command line, background jobs).
    All,
    /// Records whose region code starts with this prefix (the significant digits of a region).
    Region { prefix: String },
    /// Records of these departments (the user's department and its sub-departments).
    Departments { ids: Vec<i64> },
    /// Nothing but the actor's own records (citizens).
    Own,
}

/// Significant digits of a city's region code (GB/T 2260: 2 province, 4 city, 6 district).
const CITY_PREFIX_LEN: usize = 4;

impl Scope {
    /// The one data-scope rule every module uses. A record belongs to the departments in
    /// `depts` (its main department and co-handlers; empty while it has none) and to the place
    /// `region` (`None` while it has no place).
    ///
    /// A record without a place belongs to the whole jurisdiction: region-wide staff of the city
    /// (or province) see it, so that nothing unplaced is invisible to everyone; a district's or
    /// street's staff do not, since it is not known to be theirs.
    pub fn can_see(&self, depts: &[i64], region: Option<&str>) -> bool {
        match self {
            Scope::All => true,
            Scope::Region { prefix } => match region {
                Some(code) => code.starts_with(prefix.as_str()),
                None => prefix.len() <= CITY_PREFIX_LEN,
            },
            Scope::Departments { ids } => depts.iter().any(|d| ids.contains(d)),
            Scope::Own => false,
        }
    }

    /// The same rule as a filter for list queries, so that a list never shows what
    /// [`Scope::can_see`] would refuse.
    pub fn filter(&self) -> ScopeFilter {
        match self {
            Scope::All => ScopeFilter::default(),
            Scope::Region { prefix } => ScopeFilter {
                region_prefix: Some(prefix.clone()),
                include_unplaced: prefix.len() <= CITY_PREFIX_LEN,
                ..ScopeFilter::default()
            },
            Scope::Departments { ids } => ScopeFilter {
                dept_ids: Some(ids.clone()),
                ..ScopeFilter::default()
            },
            Scope::Own => ScopeFilter {
                nothing: true,
                ..ScopeFilter::default()
            },
        }
    }
}

/// [`Scope::can_see`] as the parts a store turns into SQL. `Default` sees everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeFilter {
    /// Only records of one of these departments.
    pub dept_ids: Option<Vec<i64>>,
    /// Only records whose region code starts with this prefix …
    pub region_prefix: Option<String>,
    /// … or that have no region, when this is true.
    pub include_unplaced: bool,
    /// Nothing at all (citizens list their own records by other means).
    pub nothing: bool,
}

/// A permission a module declares with [`permission!`](crate::permission): the roles that hold
/// it and the API-token scope a token needs for it.
pub trait Permission {
    const ROLES: &'static [Role];
    const TOKEN_SCOPE: &'static str;
}

/// Proof that an actor holds the permission `P`. Only [`Actor::authorize`] makes one, so a
/// function that takes `Granted<P>` cannot be reached without the check having passed.
#[derive(Debug)]
pub struct Granted<'a, P> {
    actor: &'a Actor,
    _permission: std::marker::PhantomData<fn() -> P>,
}

impl<P> Clone for Granted<'_, P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P> Copy for Granted<'_, P> {}

impl<'a, P> Granted<'a, P> {
    pub fn actor(&self) -> &'a Actor {
        self.actor
    }
}

/// What a store's write functions take: proof that the change was authorized, made only from a
/// [`Granted`] (a person's permission), by [`Authorized::client`] (an API client's token scope)
/// or by [`Authorized::system`] (the system's own work: timers, automatic dispatch, a citizen's
/// proof by number and phone). No record of a module's aggregates is written without one.
#[derive(Debug, Clone, Copy)]
pub struct Authorized<'a> {
    actor: &'a Actor,
    permission: &'static str,
}

impl<'a, P: Permission> From<Granted<'a, P>> for Authorized<'a> {
    fn from(g: Granted<'a, P>) -> Self {
        Authorized {
            actor: g.actor,
            permission: std::any::type_name::<P>(),
        }
    }
}

impl<'a> Authorized<'a> {
    /// The system acting on its own: only an actor made by [`Actor::system`] or [`Actor::cli`].
    pub fn system(actor: &'a Actor) -> Result<Self> {
        match actor.via {
            Via::System | Via::Cli => Ok(Authorized {
                actor,
                permission: "system",
            }),
            _ => Err(Error::forbidden("此操作只能由系统完成")),
        }
    }

    /// An API client (token) that was granted `scope`, whatever its owner's roles: the
    /// integrations (Open311, other systems) that submit records.
    pub fn client(actor: &'a Actor, scope: &'static str) -> Result<Self> {
        if actor.via != Via::Token {
            return Err(Error::forbidden("此操作需要 API 令牌"));
        }
        actor.require_scope(scope)?;
        Ok(Authorized {
            actor,
            permission: scope,
        })
    }

    pub fn actor(&self) -> &'a Actor {
        self.actor
    }

    /// The permission (type name), token scope or `system` it was made from.
    pub fn permission(&self) -> &'static str {
        self.permission
    }
}

/// The token scope that opens an API area for reading (`area:read`) or changing
/// (`area:write`); see [`Actor::require_area`].
pub fn area_scope(area: &str, changes: bool) -> String {
    format!("{area}:{}", if changes { "write" } else { "read" })
}

/// Declares a permission type: `permission!(pub Dispatch = [Dispatcher, SysAdmin], "hotline:write");`
#[macro_export]
macro_rules! permission {
    ($(#[$meta:meta])* $vis:vis $name:ident = [$($role:ident),* $(,)?], $scope:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        $vis struct $name;
        impl $crate::auth::Permission for $name {
            const ROLES: &'static [$crate::Role] = &[$($crate::Role::$role),*];
            const TOKEN_SCOPE: &'static str = $scope;
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    Session,
    Token,
    Cli,
    System,
}

#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub username: String,
    pub display_name: String,
    pub dept_id: Option<i64>,
    pub region_code: Option<String>,
    pub roles: Vec<Role>,
    pub scope: Scope,
    /// For API tokens: the scopes the token was granted (`org:read`, `org:write`, …).
    pub token_scopes: Option<Vec<String>>,
    pub via: Via,
}

impl Actor {
    /// The command line and migrations act with full rights; the audit says `cli`.
    pub fn cli() -> Actor {
        Actor {
            user_id: None,
            username: "cli".into(),
            display_name: "命令行".into(),
            dept_id: None,
            region_code: None,
            // The command line is the operator of the machine: it is not one of the three
            // administrators' sessions but holds what each of them may do.
            roles: Role::THREE_ADMINS.to_vec(),
            scope: Scope::All,
            token_scopes: None,
            via: Via::Cli,
        }
    }

    pub fn system() -> Actor {
        Actor {
            username: "system".into(),
            display_name: "系统".into(),
            via: Via::System,
            ..Actor::cli()
        }
    }

    pub fn audit_actor(&self) -> crate::audit::AuditActor {
        match (self.via, self.user_id) {
            (Via::Cli, _) => crate::audit::AuditActor::cli(),
            (Via::System, _) => crate::audit::AuditActor::system(),
            (_, Some(id)) => crate::audit::AuditActor::user(id),
            (_, None) => crate::audit::AuditActor(self.username.clone()),
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn has_any_role(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has_role(*r))
    }

    /// Refuses unless the actor holds one of `roles`.
    pub fn require_any_role(&self, roles: &[Role]) -> Result<()> {
        if self.has_any_role(roles) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.label()).collect();
            Err(Error::forbidden(format!(
                "此操作需要以下角色之一：{}",
                names.join("、")
            )))
        }
    }

    /// Refuses a token that was not granted `scope`. Sessions and the command line pass.
    pub fn require_scope(&self, scope: &str) -> Result<()> {
        // `m:write` covers `m:read`: a token that may change records may read them.
        let implied = scope.strip_suffix(":read").map(|m| format!("{m}:write"));
        match &self.token_scopes {
            None => Ok(()),
            Some(s)
                if s.iter()
                    .any(|x| x == scope || x == "*" || Some(x) == implied.as_ref()) =>
            {
                Ok(())
            }
            Some(_) => Err(Error::forbidden(format!(
                "该 API 令牌未被授予“{scope}”权限"
            ))),
        }
    }

    /// The door of an API area (`org`, `hotline`, `services`, …, the first segment after
    /// `/api/v1/`): a token reads an area only with `area:read` or `area:write` and changes
    /// anything in it only with `area:write`, whatever the endpoint checks after. Applied to
    /// every authenticated API call by `webcore::ApiActor`, so a new endpoint cannot forget
    /// it. Sessions and the command line pass: their roles decide.
    pub fn require_area(&self, area: &str, changes: bool) -> Result<()> {
        if self.token_scopes.is_none() {
            return Ok(());
        }
        self.require_scope(&area_scope(area, changes))
    }

    /// Whether the actor may give or take away `role` ([`Role::grants`]); the command line and
    /// the system may give any.
    pub fn may_grant(&self, role: Role) -> bool {
        matches!(self.via, Via::Cli | Via::System)
            || self.roles.iter().any(|r| r.grants().contains(&role))
    }

    /// **The** rule for changing whose roles are what (三员分立): the new set holds at most one
    /// of the three administrators' roles; no one changes their own roles; every role added or
    /// taken away is one the actor may grant. `user_id` is the account changed (`None` for one
    /// being created). A token needs `org:write`.
    pub fn authorize_role_change(
        &self,
        user_id: Option<i64>,
        before: &[Role],
        after: &[Role],
    ) -> Result<()> {
        Role::check_separation(after)?;
        let changed: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| before.contains(r) != after.contains(r))
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        self.require_scope("org:write")?;
        if user_id.is_some() && user_id == self.user_id {
            return Err(Error::forbidden("不能更改自己的角色"));
        }
        if let Some(r) = changed.iter().find(|r| !self.may_grant(**r)) {
            return Err(Error::forbidden(format!(
                "无权授予或收回“{}”角色",
                r.label()
            )));
        }
        Ok(())
    }

    /// Checks that the actor holds `P` (role and, for an API token, its scope) and returns the
    /// proof that the functions needing `P` take.
    pub fn authorize<P: Permission>(&self) -> Result<Granted<'_, P>> {
        self.require_any_role(P::ROLES)?;
        self.require_scope(P::TOKEN_SCOPE)?;
        Ok(Granted {
            actor: self,
            _permission: std::marker::PhantomData,
        })
    }

    /// Whether a record that belongs to `dept_id` in region `region_code` is visible
    /// ([`Scope::can_see`]).
    pub fn can_see(&self, dept_id: Option<i64>, region_code: Option<&str>) -> bool {
        self.scope.can_see(dept_id.as_slice(), region_code)
    }

    /// Refuses access to a record outside the actor's scope.
    pub fn require_see(&self, dept_id: Option<i64>, region_code: Option<&str>) -> Result<()> {
        if self.can_see(dept_id, region_code) {
            Ok(())
        } else {
            Err(Error::forbidden("无权查看或操作其他单位的记录"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_by_code() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.code()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn department_scope_hides_other_departments() {
        let a = Actor {
            scope: Scope::Departments { ids: vec![3, 4] },
            via: Via::Session,
            ..Actor::cli()
        };
        assert!(a.can_see(Some(3), None));
        assert!(!a.can_see(Some(5), Some("690102")));
        let r = Actor {
            scope: Scope::Region {
                prefix: "690102".into(),
            },
            ..a
        };
        assert!(r.can_see(None, Some("690102001002")));
        assert!(!r.can_see(Some(3), Some("690103")));
    }

    /// The one scope rule, case by case (org builds `Departments` from the user's department
    /// and its sub-departments; `org/tests` checks that part against real departments).
    #[test]
    fn the_scope_rule() {
        let dept = Scope::Departments { ids: vec![10, 11] }; // 11 is a sub-department of 10
        assert!(dept.can_see(&[10], Some("690102")), "own department");
        assert!(
            dept.can_see(&[11], None),
            "sub-department, even without a place"
        );
        assert!(dept.can_see(&[99, 11], None), "as co-handler");
        assert!(!dept.can_see(&[12], Some("690102")), "other department");
        assert!(!dept.can_see(&[], None), "no department yet");

        let district = Scope::Region {
            prefix: "690102".into(),
        };
        assert!(
            district.can_see(&[12], Some("690102003004")),
            "inside the district"
        );
        assert!(!district.can_see(&[10], Some("690103")), "another district");
        assert!(
            !district.can_see(&[], None),
            "unplaced: not known to be the district's"
        );
        let city = Scope::Region {
            prefix: "6901".into(),
        };
        assert!(
            city.can_see(&[], None),
            "unplaced: the city's region-wide staff see it"
        );
        assert!(city.can_see(&[], Some("690109")));
        assert!(!city.can_see(&[], Some("690200")));

        assert!(Scope::All.can_see(&[], None));
        assert!(!Scope::Own.can_see(&[10], Some("690102")));

        // The list filter agrees with the rule.
        assert!(!district.filter().include_unplaced);
        assert!(city.filter().include_unplaced);
        assert_eq!(dept.filter().dept_ids, Some(vec![10, 11]));
        assert!(Scope::Own.filter().nothing);
        assert_eq!(Scope::All.filter(), ScopeFilter::default());
    }

    crate::permission!(Dispatch = [Dispatcher, SysAdmin], "hotline:write");

    #[test]
    fn a_grant_needs_the_role_and_the_token_scope() {
        let handler = Actor {
            roles: vec![Role::Handler],
            via: Via::Session,
            ..Actor::cli()
        };
        assert!(handler.authorize::<Dispatch>().is_err());
        let dispatcher = Actor {
            roles: vec![Role::Dispatcher],
            ..handler.clone()
        };
        let g = dispatcher.authorize::<Dispatch>().expect("dispatcher");
        assert_eq!(g.actor().roles, vec![Role::Dispatcher]);
        let token = Actor {
            token_scopes: Some(vec!["hotline:read".into()]),
            via: Via::Token,
            ..dispatcher
        };
        assert!(token.authorize::<Dispatch>().is_err());
    }

    #[test]
    fn only_the_system_or_a_grant_or_a_token_authorizes_a_write() {
        let clerk = Actor {
            roles: vec![Role::Dispatcher],
            via: Via::Session,
            ..Actor::cli()
        };
        assert!(
            Authorized::system(&clerk).is_err(),
            "a person is not the system"
        );
        assert!(Authorized::client(&clerk, "hotline:write").is_err());
        let by: Authorized = clerk.authorize::<Dispatch>().unwrap().into();
        assert!(by.permission().ends_with("Dispatch"));
        assert_eq!(
            Authorized::system(&Actor::system()).unwrap().permission(),
            "system"
        );
        let token = Actor {
            token_scopes: Some(vec!["hotline:read".into()]),
            via: Via::Token,
            ..clerk
        };
        assert!(Authorized::client(&token, "hotline:write").is_err());
        assert!(Authorized::client(&token, "hotline:read").is_ok());
    }

    #[test]
    fn a_token_passes_an_area_door_only_with_that_area_scope() {
        let mut a = Actor::cli();
        a.via = Via::Token;
        a.token_scopes = Some(vec!["org:read".into(), "hotline:write".into()]);
        assert!(a.require_area("org", false).is_ok());
        assert!(a.require_area("org", true).is_err());
        assert!(a.require_area("services", false).is_err());
        assert!(a.require_area("hotline", false).is_ok());
        assert!(a.require_area("hotline", true).is_ok());
        // A session passes: its roles decide.
        assert!(Actor::cli().require_area("services", true).is_ok());
    }

    #[test]
    fn the_three_administrators_grant_only_their_roles() {
        let person = |id: i64, role: Role| Actor {
            user_id: Some(id),
            roles: vec![role],
            via: Via::Session,
            ..Actor::cli()
        };
        let (sys, sec, audit) = (
            person(1, Role::SysAdmin),
            person(2, Role::SecAdmin),
            person(3, Role::AuditAdmin),
        );
        // The system administrator gives business roles, never one of the three.
        assert!(sys
            .authorize_role_change(Some(9), &[], &[Role::Handler])
            .is_ok());
        for r in Role::THREE_ADMINS {
            assert!(
                sys.authorize_role_change(Some(9), &[], &[r]).is_err(),
                "{r:?}"
            );
        }
        // The security administrator gives any role to others, none to itself.
        assert!(sec
            .authorize_role_change(Some(9), &[Role::Handler], &[Role::AuditAdmin])
            .is_ok());
        let e = sec
            .authorize_role_change(Some(2), &[Role::SecAdmin], &[Role::SecAdmin, Role::Handler])
            .unwrap_err();
        assert!(e.detail().contains("自己"), "{e:?}");
        // The audit administrator gives nothing.
        assert!(audit
            .authorize_role_change(Some(9), &[], &[Role::Analyst])
            .is_err());
        // Nobody holds two of the three, not even by the command line.
        let e = Actor::cli()
            .authorize_role_change(Some(9), &[], &[Role::SysAdmin, Role::AuditAdmin])
            .unwrap_err();
        assert_eq!(e.field_name(), Some("roles"));
        // An unchanged set needs no grant.
        assert!(audit
            .authorize_role_change(Some(3), &[Role::AuditAdmin], &[Role::AuditAdmin])
            .is_ok());
    }

    #[test]
    fn token_scopes_limit_a_token() {
        let t = Actor {
            token_scopes: Some(vec!["org:read".into()]),
            via: Via::Token,
            ..Actor::cli()
        };
        assert!(t.require_scope("org:read").is_ok());
        assert!(t.require_scope("org:write").is_err());
        assert!(t.require_scope("hotline:read").is_err());
        // Writing a module's records covers reading them, and only them.
        let w = Actor {
            token_scopes: Some(vec!["services:write".into()]),
            ..t
        };
        assert!(w.require_scope("services:write").is_ok());
        assert!(w.require_scope("services:read").is_ok());
        assert!(w.require_scope("hotline:read").is_err());
    }
}
