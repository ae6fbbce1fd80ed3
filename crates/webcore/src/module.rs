//! The module contract: everything a module gives the server, in one value. `web` and the
//! `yiwang` binary loop over a list of these ([`Module`]) and know nothing else of a module's
//! insides; adding a module is one crate with a `pub fn module() -> Module` and one line in
//! `web::modules()`.

use crate::{AppCtx, NavItem};
use axum::Router;
use futures::future::BoxFuture;
use kernel::migrate::Migration;
use std::sync::Arc;
use std::time::Duration;

/// What one module contributes.
pub struct Module {
    /// The module's code name (`hotline`), as in its table prefix and migrations.
    pub name: &'static str,
    /// The modules whose tables and services it stands on; their migrations run first.
    pub depends_on: &'static [&'static str],
    /// Its own migrations only (see [`ordered_migrations`]).
    pub migrations: Vec<Migration>,
    /// Its JSON API and pages, already merged.
    pub routes: Router<AppCtx>,
    /// Its navigation entries, in order.
    pub nav: Vec<NavItem>,
    /// Its part of the OpenAPI document.
    pub openapi: utoipa::openapi::OpenApi,
    /// Its background jobs.
    pub jobs: Vec<Job>,
    /// How the audit log names its records.
    pub audit: AuditWords,
    /// Finding one of its records by number for the top bar's 按编号查找, if it numbers any.
    pub lookup: Option<LookupFn>,
    /// Its columns of personal data kept sealed at rest (`kernel::sealed`); rows written before
    /// sealing are sealed at start-up (`web::seal_at_rest`).
    pub sealed: Vec<kernel::sealed::Column>,
}

/// A record found by its number: what it is (`ticket`), its name for people and its page.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct LookupHit {
    /// Stable kind code: `ticket`, `case`.
    pub kind: String,
    /// zh-CN, e.g. `工单 A市12345-20260316-000001：楼道堆放杂物`.
    pub label: String,
    /// The record's page on this site.
    pub url: String,
}

/// A module's lookup by number. It gets the number as [`crate::lookup::normalize`] leaves it
/// (half-width, upper-case, no spaces or dashes), rebuilds its own canonical form and answers
/// `Ok(None)` both for a number it does not know and for a record the actor may not see — the
/// same rule as the record's own page — so that a lookup never tells that a record exists.
pub type LookupFn = for<'a> fn(&'a AppCtx, &'a kernel::Actor, &'a str) -> LookupFuture<'a>;

/// What a [`LookupFn`] returns: `Box::pin(async move { … })`.
pub type LookupFuture<'a> = BoxFuture<'a, kernel::Result<Option<LookupHit>>>;

/// A module's words for the audit log: each entity kind it records, in Chinese, with the page
/// a record opens (`{id}` replaced by the entity id), and its action words.
#[derive(Clone, Debug, Default)]
pub struct AuditWords {
    pub entities: Vec<(&'static str, &'static str, Option<&'static str>)>,
    pub actions: Vec<(&'static str, &'static str)>,
}

impl AuditWords {
    /// Every module's words merged (a later module's word for the same code wins).
    pub fn merged<'a>(all: impl IntoIterator<Item = &'a AuditWords>) -> AuditWords {
        let mut out = AuditWords::default();
        for w in all {
            out.entities.extend(w.entities.iter().copied());
            out.actions.extend(w.actions.iter().copied());
        }
        out
    }

    pub fn entity(&self, code: &str) -> Option<(&'static str, Option<&'static str>)> {
        self.entities
            .iter()
            .rev()
            .find(|(c, _, _)| *c == code)
            .map(|(_, l, link)| (*l, *link))
    }

    /// The word for `code` on a record of `entity`: an entity's own word (`license.revoke` →
    /// 吊销) before the common one (`revoke` → 撤销).
    pub fn action(&self, entity: &str, code: &str) -> Option<&'static str> {
        let own = self.actions.iter().rev().find(|(c, _)| {
            c.split_once('.')
                .is_some_and(|(e, a)| e == entity && a == code)
        });
        own.or_else(|| self.actions.iter().rev().find(|(c, _)| *c == code))
            .map(|(_, l)| *l)
    }
}

impl Module {
    pub fn new(name: &'static str) -> Module {
        Module {
            name,
            depends_on: &[],
            migrations: Vec::new(),
            routes: Router::new(),
            nav: Vec::new(),
            openapi: utoipa::openapi::OpenApi::default(),
            jobs: Vec::new(),
            audit: AuditWords::default(),
            lookup: None,
            sealed: Vec::new(),
        }
    }

    /// Its columns kept sealed at rest ([`Module::sealed`]).
    pub fn sealed(mut self, columns: &[kernel::sealed::Column]) -> Module {
        self.sealed.extend_from_slice(columns);
        self
    }

    /// Its lookup by number ([`LookupFn`]).
    pub fn lookup(mut self, f: LookupFn) -> Module {
        self.lookup = Some(f);
        self
    }

    /// An entity kind this module writes to the audit log: its name in words and the page of
    /// one record (`/licenses/{id}`), if there is one.
    pub fn audit_entity(
        mut self,
        code: &'static str,
        label: &'static str,
        link: Option<&'static str>,
    ) -> Module {
        self.audit.entities.push((code, label, link));
        self
    }

    /// Action words of this module's audit records (`issue` → 签发).
    pub fn audit_actions(mut self, words: &[(&'static str, &'static str)]) -> Module {
        self.audit.actions.extend_from_slice(words);
        self
    }

    pub fn depends_on(mut self, names: &'static [&'static str]) -> Module {
        self.depends_on = names;
        self
    }

    pub fn migrations(mut self, m: Vec<Migration>) -> Module {
        self.migrations.extend(m);
        self
    }

    pub fn routes(mut self, r: Router<AppCtx>) -> Module {
        self.routes = self.routes.merge(r);
        self
    }

    pub fn nav(mut self, n: Vec<NavItem>) -> Module {
        self.nav.extend(n);
        self
    }

    /// Merges another OpenAPI document (one per sub-domain) into the module's.
    pub fn openapi(mut self, doc: utoipa::openapi::OpenApi) -> Module {
        self.openapi.merge(doc);
        self
    }

    pub fn job(mut self, job: Job) -> Module {
        self.jobs.push(job);
        self
    }
}

type JobFn = dyn Fn(AppCtx) -> BoxFuture<'static, kernel::Result<()>> + Send + Sync;

/// A background job: run every `every`, first after one period. Jobs must be idempotent, since
/// several instances on one PostgreSQL run them at once.
#[derive(Clone)]
pub struct Job {
    pub name: &'static str,
    pub every: Duration,
    run: Arc<JobFn>,
}

impl Job {
    pub fn new<F, Fut>(name: &'static str, every: Duration, run: F) -> Job
    where
        F: Fn(AppCtx) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = kernel::Result<()>> + Send + 'static,
    {
        Job {
            name,
            every,
            run: Arc::new(move |ctx| Box::pin(run(ctx))),
        }
    }

    /// One run of the job.
    pub fn run(&self, ctx: AppCtx) -> BoxFuture<'static, kernel::Result<()>> {
        (self.run)(ctx)
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Job({}, every {:?})", self.name, self.every)
    }
}

/// Every module's migrations, each module after the modules it depends on (otherwise in list
/// order), so that the module list itself can be ordered for the navigation.
///
/// Panics on a dependency that is not in the list or on a cycle: both are programming errors
/// that the first test run shows.
pub fn ordered_migrations(modules: &[Module]) -> Vec<Migration> {
    let mut done: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    while done.len() < modules.len() {
        let next = modules
            .iter()
            .find(|m| {
                !done.contains(&m.name)
                    && m.depends_on.iter().all(|d| {
                        assert!(
                            modules.iter().any(|x| x.name == *d),
                            "module {} depends on {d}, which is not in the list",
                            m.name
                        );
                        done.contains(d)
                    })
            })
            .unwrap_or_else(|| panic!("module dependencies form a cycle"));
        done.push(next.name);
        out.extend(next.migrations.iter().cloned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_follow_dependencies_not_list_order() {
        let m = |module: &'static str| Migration {
            module,
            version: 1,
            name: "x",
            sql: "",
            postgres: None,
        };
        let list = vec![
            Module::new("hotline")
                .depends_on(&["org", "notify"])
                .migrations(vec![m("hotline")]),
            Module::new("notify")
                .depends_on(&["org"])
                .migrations(vec![m("notify")]),
            Module::new("org").migrations(vec![m("org")]),
        ];
        let order: Vec<&str> = ordered_migrations(&list).iter().map(|x| x.module).collect();
        assert_eq!(order, ["org", "notify", "hotline"]);
    }
}
