//! The hotline's intelligence wired to the database (issue 4, part A): classification models
//! trained from the bureau's own tickets and served from the database (`models`), routing rules
//! as data (`routing`), dispatch suggestions, automatic dispatch and the dispatch report
//! (`dispatch`), their SQL (`store`) and API (`http`).
//!
//! Dispatchers' corrections (a changed category, another department than suggested) and
//! departments' returns (退单) are written to `hotline_dispatch_feedback` in the same
//! transaction as the change; the next training uses the corrected categories and the history
//! suggestion counts returns against the department.

pub mod dispatch;
pub mod http;
pub mod models;
pub mod routing;
pub(crate) mod store;

use crate::ticket::domain::{Action, Ticket};
use crate::ticket::TicketChange;
use crate::HotlineService;
use kernel::error::{Error, Result};
use kernel::events::Observer;
use kernel::{audit, Actor, Role, Tx};
use routing::{Reference, RoutingRule, RuleInput, RuleWarning};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use utoipa::ToSchema;

kernel::permission!(
    /// Edits and orders the routing rules.
    pub EditRules = [Dispatcher, SysAdmin], "hotline:write"
);
kernel::permission!(
    /// Trains and activates classification models.
    pub ManageModels = [SysAdmin], "hotline:write"
);
/// Who reads them.
const RULE_READ: &[Role] = &[
    Role::Operator,
    Role::Dispatcher,
    Role::Supervisor,
    Role::SysAdmin,
];

/// A rule as saved, with what the save found in the whole rule set.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SavedRule {
    pub rule: RoutingRule,
    /// Warnings about this rule or caused by it (`shadowed`, `conflict`, `expired`).
    pub warnings: Vec<RuleWarning>,
}

/// All rules in evaluation order, with the warnings of the set.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleList {
    pub items: Vec<RoutingRule>,
    pub warnings: Vec<RuleWarning>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reorder {
    /// Every rule id, in the new evaluation order.
    pub ids: Vec<i64>,
}

/// Dispatch feedback for the models, in the transaction of the ticket change: a dispatch to
/// another department than suggested, a return (退单), a reclassification to another category.
pub struct FeedbackObserver;

#[async_trait::async_trait]
impl Observer<TicketChange> for FeedbackObserver {
    async fn observe(&self, tx: &mut Tx, c: &TicketChange) -> Result<()> {
        match (&c.before, &c.action) {
            (Some(before), Some(action)) => on_action(tx, &c.actor, before, action, c.now).await,
            (Some(before), None) if c.event.action == "reclassify" => {
                on_reclassify(
                    tx,
                    &c.actor,
                    c.after.id,
                    before.category_id,
                    c.after.category_id,
                    c.now,
                )
                .await
            }
            _ => Ok(()),
        }
    }
}

/// Records a correction or a return.
async fn on_action(
    tx: &mut Tx,
    actor: &Actor,
    before: &Ticket,
    action: &Action,
    now: i64,
) -> Result<()> {
    let who = actor.audit_actor().0;
    match action {
        Action::Dispatch { main_dept_id, .. } => {
            let suggested = store::suggested_dept(tx, before.id).await?;
            if suggested.is_some_and(|s| s != *main_dept_id) {
                store::insert_feedback(
                    tx,
                    before.id,
                    now,
                    "department",
                    suggested,
                    Some(*main_dept_id),
                    &who,
                )
                .await?;
            }
        }
        Action::Return { .. } => {
            store::insert_feedback(
                tx,
                before.id,
                now,
                "return",
                before.main_dept_id,
                None,
                &who,
            )
            .await?;
        }
        _ => {}
    }
    Ok(())
}

/// Records a category correction (reclassification to another category).
async fn on_reclassify(
    tx: &mut Tx,
    actor: &Actor,
    ticket_id: i64,
    before: Option<i64>,
    after: Option<i64>,
    now: i64,
) -> Result<()> {
    if before != after && after.is_some() {
        store::insert_feedback(
            tx,
            ticket_id,
            now,
            "category",
            before,
            after,
            &actor.audit_actor().0,
        )
        .await?;
    }
    Ok(())
}

impl HotlineService {
    async fn rule_context(
        &self,
        c: &mut sqlx::AnyConnection,
    ) -> Result<(
        routing::CategoryQuestions,
        std::collections::HashSet<String>,
        HashMap<i64, String>,
    )> {
        let cats = crate::ticket::store::categories(&mut *c).await?;
        let mut map = routing::CategoryQuestions::new();
        for cat in &cats {
            // A category's conditions may ask about questions of it or of any category under it.
            let qs = cats
                .iter()
                .filter(|d| routing::path_under(&d.path, &cat.path))
                .flat_map(|d| d.questions.iter())
                .map(|q| (q.code.clone(), q.options.clone()))
                .collect();
            map.insert(cat.id, (cat.path.clone(), qs));
        }
        let regions = store::region_codes(&mut *c).await?;
        let depts = store::department_names(&mut *c).await?;
        Ok((map, regions, depts))
    }

    async fn warnings(
        &self,
        c: &mut sqlx::AnyConnection,
    ) -> Result<(Vec<RoutingRule>, Vec<RuleWarning>)> {
        let rules = store::rules(&mut *c).await?;
        let (cats, _, depts) = self.rule_context(&mut *c).await?;
        let today = kernel::clock::to_china(self.db().now()).date_naive();
        let paths = |id: i64| cats.get(&id).map(|c| c.0.clone()).unwrap_or_default();
        let names = |id: i64| {
            depts
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("单位 {id}"))
        };
        let w = routing::analyze(&rules, &paths, today, &names);
        Ok((rules, w))
    }

    pub async fn routing_rules(&self, actor: &Actor) -> Result<RuleList> {
        actor.require_any_role(RULE_READ)?;
        actor.require_scope("hotline:read")?;
        let mut c = self.db().pool().acquire().await?;
        let (items, warnings) = self.warnings(&mut c).await?;
        Ok(RuleList { items, warnings })
    }

    pub async fn routing_rule(&self, actor: &Actor, id: i64) -> Result<RoutingRule> {
        actor.require_any_role(RULE_READ)?;
        actor.require_scope("hotline:read")?;
        let mut c = self.db().pool().acquire().await?;
        store::rule(&mut c, id)
            .await?
            .ok_or_else(|| Error::not_found("routing_rule", "派单规则不存在"))
    }

    async fn checked(&self, tx: &mut Tx, input: &RuleInput) -> Result<()> {
        let (cats, regions, depts) = self.rule_context(tx).await?;
        let region_exists = |code: &str| regions.contains(code);
        let department_exists = |id: i64| depts.contains_key(&id);
        input.validate(&Reference {
            categories: &cats,
            region_exists: &region_exists,
            department_exists: &department_exists,
        })
    }

    async fn saved(&self, tx: &mut Tx, id: i64) -> Result<SavedRule> {
        let (rules, warnings) = self.warnings(tx).await?;
        let rule = rules
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| Error::internal("rule vanished"))?;
        // This rule's warnings, and those of rules it now shadows or conflicts with.
        let mine: Vec<RuleWarning> = warnings
            .into_iter()
            .filter(|w| w.rule_id == id || w.other_rule_id == Some(id))
            .collect();
        Ok(SavedRule {
            rule,
            warnings: mine,
        })
    }

    /// Adds a rule at the end of the order. Impossible rules are refused (422); rules that are
    /// valid but shadowed or conflicting are saved and reported in `warnings`.
    pub async fn create_routing_rule(&self, actor: &Actor, input: RuleInput) -> Result<SavedRule> {
        let granted = actor.authorize::<EditRules>()?;
        let now = self.db().now();
        let mut tx = self.db().begin().await?;
        self.checked(&mut tx, &input).await?;
        let position = store::rules(&mut tx)
            .await?
            .iter()
            .map(|r| r.position)
            .max()
            .unwrap_or(0)
            + 1;
        let mut rule = rule_from(input, 0, position, now, now);
        rule.id = store::insert_rule(&mut tx, granted, &rule).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "routing_rule",
            rule.id,
            "create",
            json!(rule),
        )
        .await?;
        let out = self.saved(&mut tx, rule.id).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub async fn update_routing_rule(
        &self,
        actor: &Actor,
        id: i64,
        input: RuleInput,
    ) -> Result<SavedRule> {
        let granted = actor.authorize::<EditRules>()?;
        let now = self.db().now();
        let mut tx = self.db().begin().await?;
        let old = store::rule(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("routing_rule", "派单规则不存在"))?;
        self.checked(&mut tx, &input).await?;
        let rule = rule_from(input, id, old.position, old.created_at, now);
        store::update_rule(&mut tx, granted, &rule).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "routing_rule",
            id,
            "update",
            json!({"before": old, "after": rule}),
        )
        .await?;
        let out = self.saved(&mut tx, id).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub async fn delete_routing_rule(&self, actor: &Actor, id: i64) -> Result<()> {
        let granted = actor.authorize::<EditRules>()?;
        let now = self.db().now();
        let mut tx = self.db().begin().await?;
        let old = store::rule(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("routing_rule", "派单规则不存在"))?;
        store::delete_rule(&mut tx, granted, id).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "routing_rule",
            id,
            "delete",
            json!(old),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets the evaluation order: `ids` must name every rule exactly once.
    pub async fn reorder_routing_rules(&self, actor: &Actor, r: Reorder) -> Result<RuleList> {
        let granted = actor.authorize::<EditRules>()?;
        let now = self.db().now();
        let mut tx = self.db().begin().await?;
        let rules = store::rules(&mut tx).await?;
        let mut given = r.ids.clone();
        given.sort_unstable();
        let mut have: Vec<i64> = rules.iter().map(|x| x.id).collect();
        have.sort_unstable();
        if given != have {
            return Err(Error::field(
                "ids",
                "not_a_permutation",
                "须按新顺序列出全部规则编号，每条一次",
            ));
        }
        for (i, id) in r.ids.iter().enumerate() {
            store::set_position(&mut tx, granted, *id, i as i64 + 1).await?;
        }
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "routing_rule",
            0,
            "reorder",
            json!({"ids": r.ids}),
        )
        .await?;
        let (items, warnings) = self.warnings(&mut tx).await?;
        tx.commit().await?;
        Ok(RuleList { items, warnings })
    }
}

fn rule_from(i: RuleInput, id: i64, position: i64, created_at: i64, now: i64) -> RoutingRule {
    let mut co = i.co_dept_ids;
    co.retain(|d| *d != i.main_dept_id);
    co.sort_unstable();
    co.dedup();
    let date = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    RoutingRule {
        id,
        position,
        name: i.name.trim().to_string(),
        enabled: i.enabled,
        conditions: i.conditions,
        main_dept_id: i.main_dept_id,
        co_dept_ids: co,
        valid_from: date(i.valid_from),
        valid_until: date(i.valid_until),
        created_at,
        updated_at: now,
    }
}
