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
    Analyst,
    Admin,
}

impl Role {
    pub const ALL: [Role; 10] = [
        Role::Citizen,
        Role::Operator,
        Role::Dispatcher,
        Role::Handler,
        Role::Supervisor,
        Role::Clerk,
        Role::Approver,
        Role::DataOfficer,
        Role::Analyst,
        Role::Admin,
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
            Role::Analyst => "analyst",
            Role::Admin => "admin",
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
            Role::Analyst => "分析员",
            Role::Admin => "管理员",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == s)
    }

    /// Roles that work across their whole region rather than inside one department.
    pub fn is_region_wide(self) -> bool {
        matches!(
            self,
            Role::Operator | Role::Dispatcher | Role::Supervisor | Role::Analyst | Role::Admin
        )
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
            roles: vec![Role::Admin],
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
        match &self.token_scopes {
            None => Ok(()),
            Some(s) if s.iter().any(|x| x == scope || x == "*") => Ok(()),
            Some(_) => Err(Error::forbidden(format!(
                "该 API 令牌未被授予“{scope}”权限"
            ))),
        }
    }

    /// Whether a record that belongs to `dept_id` in region `region_code` is visible.
    pub fn can_see(&self, dept_id: Option<i64>, region_code: Option<&str>) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Region { prefix } => region_code.is_some_and(|c| c.starts_with(prefix.as_str())),
            Scope::Departments { ids } => dept_id.is_some_and(|d| ids.contains(&d)),
            Scope::Own => false,
        }
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

    #[test]
    fn token_scopes_limit_a_token() {
        let t = Actor {
            token_scopes: Some(vec!["org:read".into()]),
            via: Via::Token,
            ..Actor::cli()
        };
        assert!(t.require_scope("org:read").is_ok());
        assert!(t.require_scope("org:write").is_err());
    }
}
