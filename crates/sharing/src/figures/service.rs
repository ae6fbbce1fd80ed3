//! The figures, computed from the catalog, resources, requests, grants and the call log.

use crate::catalog::domain::{OpenKind, ShareKind};
use crate::grants::domain::{GrantStatus, RequestStatus};
use crate::service::*;
use kernel::error::Result;
use kernel::Actor;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Catalog figures of one providing department (or of all: `dept_id` 0).
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
    pub mount_rate: f64,
    /// 共享率 = entries not 不予共享 / entries.
    pub share_rate: f64,
    /// 开放率 = entries not 不予开放 / entries.
    pub open_rate: f64,
    /// 更新率 = resources updated within their 更新周期 / resources.
    pub update_rate: f64,
    shared: i64,
    open: i64,
    up_to_date: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Figures {
    pub total: CatalogFigures,
    pub by_department: Vec<CatalogFigures>,
    pub requests: i64,
    pub requests_pending: i64,
    pub requests_approved: i64,
    pub requests_refused: i64,
    pub grants_active: i64,
    pub grants_expired: i64,
    pub grants_revoked: i64,
    pub calls: i64,
    pub calls_served: i64,
    pub rows_served: i64,
}

fn rate(n: i64, d: i64) -> f64 {
    if d == 0 {
        0.0
    } else {
        ((n as f64 / d as f64) * 1000.0).round() / 1000.0
    }
}

impl CatalogFigures {
    fn finish(&mut self) {
        self.mount_rate = rate(self.mounted_entries, self.entries);
        self.share_rate = rate(self.shared, self.entries);
        self.open_rate = rate(self.open, self.entries);
        self.update_rate = rate(self.up_to_date, self.resources);
    }
}

impl SharingService {
    pub async fn figures(&self, actor: &Actor) -> Result<Figures> {
        actor.authorize::<ReadSharing>()?;
        let entries = self.published_entries().await?;
        let resources = self.resources(None).await?;
        let mut by: BTreeMap<i64, CatalogFigures> = BTreeMap::new();
        let mut total = CatalogFigures::default();
        for e in &entries {
            let d = by
                .entry(e.entry.provider_dept_id)
                .or_insert_with(|| CatalogFigures {
                    dept_id: e.entry.provider_dept_id,
                    dept_name: e.provider_name.clone(),
                    ..Default::default()
                });
            let c = &e.version.content;
            let mounted = resources.iter().any(|r| r.resource.entry_id == e.entry.id) as i64;
            let shared = (c.share_kind != ShareKind::NotShared) as i64;
            let open = (c.open_kind != OpenKind::NotOpen) as i64;
            for f in [&mut *d, &mut total] {
                f.entries += 1;
                f.mounted_entries += mounted;
                f.shared += shared;
                f.open += open;
            }
        }
        for r in &resources {
            let fresh = (!r.overdue) as i64;
            if let Some(d) = by.get_mut(&r.provider_dept_id) {
                d.resources += 1;
                d.up_to_date += fresh;
            }
            total.resources += 1;
            total.up_to_date += fresh;
        }
        total.finish();
        total.dept_name = "全市".into();
        let mut by_department: Vec<CatalogFigures> = by.into_values().collect();
        by_department.iter_mut().for_each(CatalogFigures::finish);
        let bureau = Actor::system();
        let requests = self.requests(&bureau).await?;
        let grants = self.grants(&bureau).await?;
        let now = self.db.now();
        let (calls, calls_served, rows_served) = self.call_totals().await?;
        let count_req =
            |s: RequestStatus| requests.iter().filter(|r| r.request.status == s).count() as i64;
        Ok(Figures {
            total,
            by_department,
            requests: requests.len() as i64,
            requests_pending: count_req(RequestStatus::Pending),
            requests_approved: count_req(RequestStatus::Approved),
            requests_refused: count_req(RequestStatus::Refused),
            grants_active: grants
                .iter()
                .filter(|g| g.status == GrantStatus::Active && g.expires_at > now)
                .count() as i64,
            grants_expired: grants
                .iter()
                .filter(|g| g.status == GrantStatus::Active && g.expires_at <= now)
                .count() as i64,
            grants_revoked: grants
                .iter()
                .filter(|g| g.status == GrantStatus::Revoked)
                .count() as i64,
            calls,
            calls_served,
            rows_served,
        })
    }
}
