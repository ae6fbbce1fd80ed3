//! The figures of a period for the actor's scope.

use super::domain::*;
use super::store;
use crate::domain::*;
use crate::service::*;
use kernel::calendar::{self, Calendar};
use kernel::error::Result;
use kernel::{Actor, Scope};
use std::collections::BTreeMap;

impl ServicesService {
    /// The figures for a month (`2026-03`) or a year (`2026`), grouped.
    pub async fn report(
        &self,
        actor: &Actor,
        period_label: &str,
        group_by: GroupBy,
    ) -> Result<Report> {
        let (from, to) = period(period_label)?;
        self.report_between(actor, from, to, period_label, group_by)
            .await
    }

    /// The figures for [from, to), grouped; `period_label` names the period in the output.
    pub async fn report_between(
        &self,
        actor: &Actor,
        from: i64,
        to: i64,
        period_label: &str,
        group_by: GroupBy,
    ) -> Result<Report> {
        let (cases, evals, rated) = self.report_data(actor, from, to).await?;
        let (rects, feedback) = self.report_extras(from, to).await?;
        let cal: Calendar = calendar::load(self.db()).await?;
        let org = org::OrgService::new(self.db().clone(), Default::default());
        let mut dept_names: BTreeMap<i64, String> = BTreeMap::new();
        let mut dept_region: BTreeMap<i64, String> = BTreeMap::new();
        for c in &cases {
            dept_region.insert(c.dept_id, c.region_code.clone());
        }
        let mut ids: Vec<i64> = cases
            .iter()
            .map(|c| c.dept_id)
            .chain(evals.iter().map(|e| e.dept_id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut region_names: BTreeMap<String, String> = BTreeMap::new();
        for id in ids {
            if let Ok(d) = org.department(&Actor::system(), id).await {
                dept_region.insert(id, d.region_code.clone());
                region_names.insert(d.region_code.clone(), d.region_name.clone());
                dept_names.insert(id, d.name);
            }
        }
        let key_of = |dept: i64, item: i64, item_name: &str| -> (String, String) {
            match group_by {
                GroupBy::Dept => (
                    dept.to_string(),
                    dept_names
                        .get(&dept)
                        .cloned()
                        .unwrap_or_else(|| format!("部门 {dept}")),
                ),
                GroupBy::Region => {
                    let r = dept_region.get(&dept).cloned().unwrap_or_default();
                    (r.clone(), region_names.get(&r).cloned().unwrap_or(r))
                }
                GroupBy::Item => (item.to_string(), item_name.to_owned()),
                GroupBy::Total => ("total".into(), "合计".into()),
            }
        };
        let mut groups: BTreeMap<String, Acc> = BTreeMap::new();
        let mut total = Acc {
            label: "合计".into(),
            ..Default::default()
        };
        let mut item_names: BTreeMap<i64, String> = BTreeMap::new();
        for c in &cases {
            item_names.insert(c.item_id, c.item_name.clone());
        }
        let within = |t: Option<i64>| t.is_some_and(|t| t >= from && t < to);
        let as_of = to.min(self.db().now());
        for c in &cases {
            let (k, label) = key_of(c.dept_id, c.item_id, &c.item_name);
            for a in [groups.entry(k).or_default(), &mut total] {
                if a.label.is_empty() {
                    a.label = label.clone();
                }
                if c.accepted_at.is_some_and(|at| at < from)
                    && c.closed_at.is_none_or(|at| at >= from)
                {
                    a.carried_over += 1;
                }
                if within(c.accepted_at) {
                    a.accepted += 1;
                    a.online += i64::from(c.channel == Channel::Online);
                    a.immediate += i64::from(c.immediate);
                    a.promised += i64::from(c.promised_days);
                    a.legal += i64::from(c.legal_days);
                }
                let closed = within(c.closed_at) && c.decision.is_some();
                if closed {
                    a.closed += 1;
                    a.closed_rated += i64::from(rated.contains(&c.id));
                    a.handling_days += handling_days(&cal, c);
                }
                // Open past its deadline at the period's end — or now, for a running period,
                // whose end is still to come. A case paused now (补正, 特别程序) is not late.
                let open_at_end = c.accepted_at.is_some_and(|a| a < as_of)
                    && match c.closed_at {
                        Some(at) => at >= as_of,
                        None => c.status.is_open() && c.paused_since.is_none(),
                    };
                if (closed && c.overdue_at(to))
                    || (open_at_end && c.due_at.is_some_and(|d| d < as_of))
                {
                    a.overdue += 1;
                }
            }
        }
        for e in &evals {
            let name = item_names
                .get(&e.item_id)
                .cloned()
                .unwrap_or_else(|| format!("事项 {}", e.item_id));
            let (k, label) = key_of(e.dept_id, e.item_id, &name);
            let done = rects
                .iter()
                .any(|r| r.evaluation_id == e.id && r.status == RectificationStatus::Done);
            for a in [groups.entry(k).or_default(), &mut total] {
                if a.label.is_empty() {
                    a.label = label.clone();
                }
                a.evaluations += 1;
                a.good += i64::from(e.level.is_good());
                if e.level.is_bad() {
                    a.bad += 1;
                    a.rectified += i64::from(done);
                }
            }
        }
        let rows = if group_by == GroupBy::Total {
            vec![]
        } else {
            groups.iter().map(|(k, a)| a.row(k.clone())).collect()
        };
        Ok(Report {
            from,
            to,
            period: period_label.trim().into(),
            group_by,
            rows,
            total: total.row("total".into()),
            feedback: feedback.len() as i64,
            feedback_answered: feedback
                .iter()
                .filter(|f| f.status == FeedbackStatus::Answered)
                .count() as i64,
        })
    }

    /// For reports: cases and evaluations touching [from, to).
    pub(crate) async fn report_data(
        &self,
        actor: &Actor,
        from: i64,
        to: i64,
    ) -> Result<(Vec<Case>, Vec<Evaluation>, std::collections::HashSet<i64>)> {
        actor.authorize::<ReadReports>()?;
        let mut c = self.conn().await?;
        let mut cases = store::cases_in(&mut c, from, to).await?;
        let mut evals = store::evaluations_in(&mut c, from, to).await?;
        // Region staff see their region's figures; department staff see the whole hall's.
        if matches!(actor.scope, Scope::Region { .. }) {
            cases.retain(|k| actor.scope.can_see(&[k.dept_id], Some(&k.region_code)));
            let ids: std::collections::HashSet<i64> = cases.iter().map(|k| k.dept_id).collect();
            evals.retain(|e| ids.contains(&e.dept_id));
        }
        let ids: Vec<i64> = cases.iter().map(|k| k.id).collect();
        let evaluated = store::evaluated_cases(&mut c, &ids).await?;
        Ok((cases, evals, evaluated))
    }

    /// Rectifications and feedback for the report period.
    pub(crate) async fn report_extras(
        &self,
        from: i64,
        to: i64,
    ) -> Result<(Vec<Rectification>, Vec<Feedback>)> {
        let mut c = self.conn().await?;
        let r = crate::evaluation::store::rectifications(&mut c, None)
            .await?
            .into_iter()
            .filter(|r| r.created_at >= from && r.created_at < to)
            .collect();
        let f = crate::evaluation::store::feedback_list(&mut c)
            .await?
            .into_iter()
            .filter(|f| f.created_at >= from && f.created_at < to)
            .collect();
        Ok((r, f))
    }
}
