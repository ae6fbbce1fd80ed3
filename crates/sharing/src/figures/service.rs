//! The figures, computed from the catalog, resources, requests, grants, the call log and the
//! objections, for a period [from, to).

use super::contrib::Section;
use crate::catalog::domain::{OpenKind, ShareKind};
use crate::grants::domain::{GrantStatus, RequestStatus};
use crate::objections::domain::ObjectionStatus;
use crate::service::*;
use kernel::error::Result;
use kernel::Actor;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

const DAY: i64 = 86_400_000;
/// The end of "all time" when no period is asked for.
pub const FOREVER: i64 = 253_402_300_799_000; // 9999-12-31

/// Figures of one department (or of all: `dept_id` 0). Catalog figures are the stock at the
/// period's end, the rest happened within the period. A rate whose denominator is empty is
/// `None` (shown as "—").
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct CatalogFigures {
    pub dept_id: i64,
    pub dept_name: String,
    /// 目录数: published entries.
    pub entries: i64,
    /// Published entries with at least one mounted resource.
    pub mounted_entries: i64,
    /// 挂接资源数.
    pub resources: i64,
    /// 挂接率 = mounted entries / entries.
    pub mount_rate: Option<f64>,
    /// 共享率 = entries not 不予共享 / entries.
    pub share_rate: Option<f64>,
    /// 开放率 = entries not 不予开放 / entries.
    pub open_rate: Option<f64>,
    /// 更新率 = resources updated within their 更新周期 / resources.
    pub update_rate: Option<f64>,
    pub shared: i64,
    pub open: i64,
    pub up_to_date: i64,
    /// Requests for its resources made in the period (as provider), and their outcome now.
    pub requests_received: i64,
    pub requests_approved: i64,
    pub requests_refused: i64,
    pub requests_pending: i64,
    /// Requests it made in the period (as consumer).
    pub requests_made: i64,
    /// Calls on its resources in the period, those served, rows served.
    pub calls: i64,
    pub calls_served: i64,
    pub rows_served: i64,
    /// Calls it made in the period (as consumer).
    pub calls_made: i64,
}

/// A consuming department by its calls in the period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Consumer {
    pub dept_id: i64,
    pub dept_name: String,
    pub calls: i64,
    pub calls_served: i64,
    pub rows_served: i64,
}

/// 数据异议 in the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct ObjectionFigures {
    /// Raised in the period.
    pub raised: i64,
    /// Answered in the period (confirmed or corrected), and of those corrected.
    pub answered: i64,
    pub corrected: i64,
    /// Raised in the period and not answered by their deadline (as of the period's end).
    pub overdue: i64,
    /// Still open at the period's end.
    pub open: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Figures {
    /// The period, [from, to) in UTC milliseconds (0 and 9999-12-31 for all time).
    pub from: i64,
    pub to: i64,
    pub total: CatalogFigures,
    pub by_department: Vec<CatalogFigures>,
    /// Requests made in the period, and their outcome now.
    pub requests: i64,
    pub requests_pending: i64,
    pub requests_approved: i64,
    pub requests_refused: i64,
    /// Requests decided in the period, and days from request to decision.
    pub requests_decided: i64,
    pub approval_days_median: Option<f64>,
    pub approval_days_max: Option<f64>,
    /// Grants at the period's end (or now, if sooner).
    pub grants_active: i64,
    pub grants_expired: i64,
    pub grants_revoked: i64,
    pub grants_expiring_30d: i64,
    /// Calls in the period.
    pub calls: i64,
    pub calls_served: i64,
    pub rows_served: i64,
    /// The top 10 consuming departments by calls.
    pub top_consumers: Vec<Consumer>,
    pub objections: ObjectionFigures,
    /// Sections other modules contribute (开放数据).
    pub sections: Vec<Section>,
}

/// `n / d` to three places; `None` for an empty denominator.
pub fn rate(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| ((n as f64 / d as f64) * 1000.0).round() / 1000.0)
}

/// Median of days, to one place.
fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let m = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some((m * 10.0).round() / 10.0)
}

impl CatalogFigures {
    fn finish(&mut self) {
        self.mount_rate = rate(self.mounted_entries, self.entries);
        self.share_rate = rate(self.shared, self.entries);
        self.open_rate = rate(self.open, self.entries);
        self.update_rate = rate(self.up_to_date, self.resources);
    }

    fn add(&mut self, o: &CatalogFigures) {
        self.entries += o.entries;
        self.mounted_entries += o.mounted_entries;
        self.resources += o.resources;
        self.shared += o.shared;
        self.open += o.open;
        self.up_to_date += o.up_to_date;
        self.requests_received += o.requests_received;
        self.requests_approved += o.requests_approved;
        self.requests_refused += o.requests_refused;
        self.requests_pending += o.requests_pending;
        self.requests_made += o.requests_made;
        self.calls += o.calls;
        self.calls_served += o.calls_served;
        self.rows_served += o.rows_served;
        self.calls_made += o.calls_made;
    }
}

impl SharingService {
    /// The figures over all time (the JSON API without a period).
    pub async fn figures(&self, actor: &Actor) -> Result<Figures> {
        self.figures_between(actor, 0, FOREVER).await
    }

    /// The figures of [from, to), in UTC milliseconds. The bureau and administrators see every
    /// department; others the departments their scope sees (their own), and totals over those.
    pub async fn figures_between(&self, actor: &Actor, from: i64, to: i64) -> Result<Figures> {
        actor.authorize::<ReadSharing>()?;
        let bureau = self.is_bureau(actor).await?;
        let sees = |dept: i64| bureau || actor.scope.can_see(&[dept], None);
        let now = self.db.now();
        // The stock is counted at the period's end, or now if that is sooner.
        let at = to.min(now);
        let names = self.dept_names().await?;
        let mut by: BTreeMap<i64, CatalogFigures> = BTreeMap::new();
        fn row<'a>(
            by: &'a mut BTreeMap<i64, CatalogFigures>,
            names: &HashMap<i64, String>,
            dept: i64,
        ) -> &'a mut CatalogFigures {
            by.entry(dept).or_insert_with(|| CatalogFigures {
                dept_id: dept,
                dept_name: names
                    .get(&dept)
                    .cloned()
                    .unwrap_or_else(|| format!("部门 {dept}")),
                ..Default::default()
            })
        }

        // Catalog stock: entries published by the end, resources mounted on them by the end.
        let entries: Vec<_> = self
            .published_entries()
            .await?
            .into_iter()
            .filter(|e| e.entry.published_at.is_none_or(|p| p < at))
            .collect();
        let resources: Vec<_> = self
            .resources(None)
            .await?
            .into_iter()
            .filter(|r| r.resource.created_at < at)
            .collect();
        let mut provider_of: HashMap<i64, i64> = HashMap::new();
        for r in &resources {
            provider_of.insert(r.resource.id, r.provider_dept_id);
        }
        for e in &entries {
            let c = &e.version.content;
            let d = row(&mut by, &names, e.entry.provider_dept_id);
            d.entries += 1;
            d.mounted_entries += resources.iter().any(|r| r.resource.entry_id == e.entry.id) as i64;
            d.shared += (c.share_kind != ShareKind::NotShared) as i64;
            d.open += (c.open_kind != OpenKind::NotOpen) as i64;
            for r in resources
                .iter()
                .filter(|r| r.resource.entry_id == e.entry.id)
            {
                d.resources += 1;
                d.up_to_date += (!r.resource.overdue(r.update_cycle, at)) as i64;
            }
        }

        // Requests made in the period, their outcome, and approval time of those decided in it.
        let (requests, grants) = self.all_requests_and_grants().await?;
        let requests: Vec<_> = requests
            .into_iter()
            .filter(|r| sees(r.provider_dept_id) || sees(r.consumer_dept_id))
            .collect();
        let (mut made, mut pending, mut approved, mut refused) = (0, 0, 0, 0);
        for r in requests
            .iter()
            .filter(|r| r.created_at >= from && r.created_at < to)
        {
            made += 1;
            let p = row(&mut by, &names, r.provider_dept_id);
            p.requests_received += 1;
            match r.status {
                RequestStatus::Pending => {
                    pending += 1;
                    p.requests_pending += 1
                }
                RequestStatus::Approved => {
                    approved += 1;
                    p.requests_approved += 1
                }
                RequestStatus::Refused => {
                    refused += 1;
                    p.requests_refused += 1
                }
            }
            row(&mut by, &names, r.consumer_dept_id).requests_made += 1;
        }
        let mut days: Vec<f64> = requests
            .iter()
            .filter_map(|r| r.decided_at.map(|d| (r.created_at, d)))
            .filter(|(_, d)| *d >= from && *d < to)
            .map(|(c, d)| (d - c) as f64 / DAY as f64)
            .collect();
        let approval_days_max = days
            .iter()
            .copied()
            .reduce(f64::max)
            .map(|m| (m * 10.0).round() / 10.0);
        let requests_decided = days.len() as i64;
        let approval_days_median = median(&mut days);

        // Grants at the end.
        let grants: Vec<_> = grants
            .into_iter()
            .filter(|g| g.created_at < at && (sees(g.provider_dept_id) || sees(g.consumer_dept_id)))
            .collect();
        let active = |g: &&crate::grants::domain::Grant| {
            g.status == GrantStatus::Active && g.expires_at > at
        };
        let grants_active = grants.iter().filter(active).count() as i64;
        let grants_expiring_30d = grants
            .iter()
            .filter(active)
            .filter(|g| g.expires_at <= at + 30 * DAY)
            .count() as i64;
        let grants_expired = grants
            .iter()
            .filter(|g| g.status == GrantStatus::Active && g.expires_at <= at)
            .count() as i64;
        let grants_revoked = grants
            .iter()
            .filter(|g| g.status == GrantStatus::Revoked)
            .count() as i64;

        // Calls in the period: by provider (through the resource) and by consumer.
        let mut consumers: BTreeMap<i64, Consumer> = BTreeMap::new();
        let (mut calls, mut calls_served, mut rows_served) = (0, 0, 0);
        for (consumer, resource, n, ok, rows) in self.period_calls(from, to).await? {
            let provider = resource.and_then(|r| provider_of.get(&r).copied());
            let seen = consumer.is_some_and(sees) || provider.is_some_and(sees);
            if !seen {
                continue;
            }
            calls += n;
            calls_served += ok;
            rows_served += rows;
            if let Some(p) = provider {
                let d = row(&mut by, &names, p);
                d.calls += n;
                d.calls_served += ok;
                d.rows_served += rows;
            }
            if let Some(c) = consumer {
                row(&mut by, &names, c).calls_made += n;
                let e = consumers.entry(c).or_insert_with(|| Consumer {
                    dept_id: c,
                    dept_name: names
                        .get(&c)
                        .cloned()
                        .unwrap_or_else(|| format!("部门 {c}")),
                    calls: 0,
                    calls_served: 0,
                    rows_served: 0,
                });
                e.calls += n;
                e.calls_served += ok;
                e.rows_served += rows;
            }
        }
        let mut top_consumers: Vec<Consumer> = consumers.into_values().collect();
        top_consumers.sort_by(|a, b| b.calls.cmp(&a.calls).then(a.dept_id.cmp(&b.dept_id)));
        top_consumers.truncate(10);

        // 数据异议.
        let mut objections = ObjectionFigures::default();
        for o in self.all_objections().await? {
            if !(sees(o.raised_by_dept) || sees(o.source_dept)) || o.created_at >= to {
                continue;
            }
            let answered_at = o.answered_at.filter(|a| *a < to);
            if o.created_at >= from {
                objections.raised += 1;
                let late = answered_at.map_or(o.deadline_at < at, |a| a > o.deadline_at);
                objections.overdue += late as i64;
            }
            if answered_at.is_some_and(|a| a >= from) {
                objections.answered += 1;
                objections.corrected += (o.status == ObjectionStatus::Corrected) as i64;
            }
            objections.open += answered_at.is_none() as i64;
        }

        let mut by_department: Vec<CatalogFigures> =
            by.into_values().filter(|d| sees(d.dept_id)).collect();
        let mut total = CatalogFigures {
            dept_name: "全市".into(),
            ..Default::default()
        };
        for d in &mut by_department {
            d.finish();
            total.add(d);
        }
        total.finish();
        if !bureau {
            total.dept_name = "合计".into();
        }
        let sections = super::contrib::sections(&self.db, actor, from, to).await;
        Ok(Figures {
            from,
            to,
            total,
            by_department,
            requests: made,
            requests_pending: pending,
            requests_approved: approved,
            requests_refused: refused,
            requests_decided,
            approval_days_median,
            approval_days_max,
            grants_active,
            grants_expired,
            grants_revoked,
            grants_expiring_30d,
            calls,
            calls_served,
            rows_served,
            top_consumers,
            objections,
            sections,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_of_nothing_are_none_and_medians_are_middles() {
        assert_eq!(rate(0, 0), None);
        assert_eq!(rate(1, 3), Some(0.333));
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&mut [4.0, 1.0]), Some(2.5));
    }
}
