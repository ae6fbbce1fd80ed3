//! Who may read the reports, and building their figures: load the rows, replay them, name the
//! groups through the org and hotline services.

use super::domain::{GroupBy, History, Key, KpiRow, KpiTable, Period, Replay, View};
use super::render::{
    clip, overdue_text, status_label, typical_document, DispatchFigures, ListRow, Monthly,
};
use super::store;
use crate::domain::{TicketKind, Urgency};
use crate::service::HotlineService;
use kernel::calendar;
use kernel::clock::{format_minute, Millis};
use kernel::codes::RegionLevel;
use kernel::error::{Error, Result};
use kernel::{Actor, Db, Role, Scope};
use std::collections::HashMap;

pub(super) const READERS: &[Role] = &[Role::Analyst, Role::Supervisor, Role::SysAdmin];
pub(super) const DEPARTMENT_ROLES: &[Role] = &[
    Role::Handler,
    Role::Clerk,
    Role::Approver,
    Role::DataOfficer,
];
pub(super) fn view_of(actor: &Actor) -> Result<View> {
    actor.require_scope("hotline:read")?;
    let scoped = |s: &Scope| match s {
        Scope::All => Some(View::All),
        Scope::Region { prefix } => Some(View::Region(prefix.clone())),
        Scope::Departments { ids } => Some(View::Departments(ids.clone())),
        Scope::Own => None,
    };
    let view = if actor.has_any_role(READERS) {
        scoped(&actor.scope)
    } else if actor.has_any_role(DEPARTMENT_ROLES) {
        // A department's staff see their own departments' figures, never the whole city's.
        match &actor.scope {
            Scope::Departments { ids } => Some(View::Departments(ids.clone())),
            _ => None,
        }
    } else {
        None
    };
    view.ok_or_else(|| {
        Error::forbidden("热线统计报表仅限分析员、督办员、管理员和承办单位工作人员查看")
    })
}
/// Every department's name, through the org service (names are not scoped data).
pub(super) async fn department_names(db: &Db) -> Result<HashMap<i64, String>> {
    let org = org::OrgService::new(db.clone(), Default::default());
    let mut out = HashMap::new();
    for page in 1.. {
        let p = org
            .departments(
                &Actor::system(),
                &org::service::DepartmentQuery::default(),
                &kernel::page::PageQuery {
                    page: Some(page),
                    per_page: Some(kernel::page::MAX_PER_PAGE),
                },
            )
            .await?;
        let n = p.items.len() as i64;
        out.extend(p.items.into_iter().map(|d| (d.id, d.name)));
        if n < kernel::page::MAX_PER_PAGE || page * kernel::page::MAX_PER_PAGE >= p.total {
            break;
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The public entry points
// ---------------------------------------------------------------------------------------------

/// The reports, for one city: every method checks who may read (analysts, supervisors and admins
/// see their region; a department's staff only their departments' figures) before it loads
/// anything. The free functions below are the same entry points for callers holding a [`Db`].
#[derive(Clone, Debug)]
pub struct ReportService {
    db: Db,
    city: String,
}

impl ReportService {
    pub fn new(db: Db, city: impl Into<String>) -> Self {
        ReportService {
            db,
            city: city.into(),
        }
    }

    /// The city the documents are titled for.
    pub fn city(&self) -> &str {
        &self.city
    }

    /// KPIs of `period` grouped `by`, with the previous period for the trend.
    pub async fn kpis(&self, actor: &Actor, period: &Period, by: GroupBy) -> Result<KpiTable> {
        kpis(&self.db, actor, period, by).await
    }

    /// The KPI table as an XLSX workbook: this period, the previous one, and the definitions.
    pub async fn kpis_xlsx(&self, actor: &Actor, period: &Period, by: GroupBy) -> Result<Vec<u8>> {
        super::render::kpis_xlsx(&self.kpis(actor, period, by).await?)
    }

    /// The 运行情况 report of a period (normally a month) as `.docx`.
    pub async fn monthly_docx(&self, actor: &Actor, period: &Period) -> Result<Vec<u8>> {
        monthly_docx(&self.db, actor, period, &self.city).await
    }

    /// The same report as an `.xlsx` workbook, one sheet per table.
    pub async fn monthly_xlsx(&self, actor: &Actor, period: &Period) -> Result<Vec<u8>> {
        monthly_xlsx(&self.db, actor, period, &self.city).await
    }

    /// The 典型案例专报 of a period (normally an ISO week) as `.docx`.
    pub async fn typical_docx(&self, actor: &Actor, period: &Period) -> Result<Vec<u8>> {
        typical_docx(&self.db, actor, period, &self.city).await
    }
}

/// KPIs of `period` grouped `by`, with the previous period for the trend. Analysts, supervisors
/// and admins see everything in their region; a department's staff only their departments.
pub async fn kpis(db: &Db, actor: &Actor, period: &Period, by: GroupBy) -> Result<KpiTable> {
    let view = view_of(actor)?;
    let ctx = load(db, view, period.previous().start(), period.end(), "").await?;
    ctx.table(db, period, by).await
}
/// The monthly (or any period's) 运行情况 report as `.docx`.
pub async fn monthly_docx(db: &Db, actor: &Actor, period: &Period, city: &str) -> Result<Vec<u8>> {
    let m = Monthly::build(db, actor, period, city).await?;
    m.docx()
}

/// The same report as an `.xlsx` workbook, one sheet per table.
pub async fn monthly_xlsx(db: &Db, actor: &Actor, period: &Period, city: &str) -> Result<Vec<u8>> {
    let m = Monthly::build(db, actor, period, city).await?;
    m.xlsx()
}

/// The 典型案例专报 of a period (normally an ISO week) as `.docx`.
pub async fn typical_docx(db: &Db, actor: &Actor, period: &Period, city: &str) -> Result<Vec<u8>> {
    let view = view_of(actor)?;
    let ctx = load(db, view, period.previous().start(), period.end(), city).await?;
    let total = ctx.table(db, period, GroupBy::Total).await?.total;
    let cases = ctx.cases(period.start(), period.end());
    let ids: Vec<i64> = cases.iter().map(|c| c.h.t.id).collect();
    let timelines = store::timelines(db, &ids).await?;
    typical_document(&ctx, period, city, &total, &cases, &timelines)
}
impl Replay {
    pub(super) async fn table(&self, db: &Db, period: &Period, by: GroupBy) -> Result<KpiTable> {
        let prev = period.previous();
        let mut cur = self.tally(period.start(), period.end(), by);
        let mut before = self.tally(prev.start(), prev.end(), by);
        let mut total = self.tally(period.start(), period.end(), GroupBy::Total);
        let mut total_before = self.tally(prev.start(), prev.end(), GroupBy::Total);
        let mut keys: Vec<Key> = cur.keys().chain(before.keys()).cloned().collect();
        keys.sort();
        keys.dedup();
        let mut rows = Vec::new();
        for key in keys {
            let kpis = cur.remove(&key).unwrap_or_default();
            let previous = before.remove(&key).unwrap_or_default();
            if kpis.is_empty() && previous.is_empty() {
                continue;
            }
            let (key_text, name) = self.key_name(db, &key).await?;
            rows.push(KpiRow {
                key: key_text,
                name,
                kpis,
                previous,
            });
        }
        // Biggest first; the group without a department, region or category last.
        match by {
            GroupBy::Region(_) => rows.sort_by(|a, b| {
                (a.key == "none")
                    .cmp(&(b.key == "none"))
                    .then(a.key.cmp(&b.key))
            }),
            _ => rows.sort_by(|a, b| {
                (a.key == "none")
                    .cmp(&(b.key == "none"))
                    .then(b.kpis.received.cmp(&a.kpis.received))
                    .then(b.kpis.dispatched.cmp(&a.kpis.dispatched))
                    .then(b.kpis.replied.cmp(&a.kpis.replied))
                    .then(a.name.cmp(&b.name))
            }),
        }
        let rfc = |ms| kernel::clock::rfc3339(ms);
        Ok(KpiTable {
            period: period.code(),
            period_label: period.label(),
            start: rfc(period.start()),
            end: rfc(period.end()),
            previous_period: prev.code(),
            previous_label: prev.label(),
            by: by.code().into(),
            level: match by {
                GroupBy::Region(l) => Some(l.code().into()),
                _ => None,
            },
            scope: self.view.label().into(),
            rows,
            total: KpiRow {
                key: "total".into(),
                name: "合计".into(),
                kpis: total.remove(&Key::Total).unwrap_or_default(),
                previous: total_before.remove(&Key::Total).unwrap_or_default(),
            },
        })
    }

    pub(super) async fn key_name(&self, db: &Db, key: &Key) -> Result<(String, String)> {
        Ok(match key {
            Key::Total => ("total".into(), "合计".into()),
            Key::Dept(None) => ("none".into(), "未派单".into()),
            Key::Dept(Some(d)) => (d.to_string(), self.dept_name(Some(*d))),
            Key::Region(None) => ("none".into(), "未填写地区".into()),
            Key::Region(Some(code)) => {
                let org = org::OrgService::new(db.clone(), Default::default());
                let name = org
                    .region_by_code(code)
                    .await?
                    .map(|r| r.name)
                    .unwrap_or_else(|| code.clone());
                (code.clone(), name)
            }
            Key::Category(None) => ("none".into(), "未分类".into()),
            Key::Category(Some(c)) => (
                c.to_string(),
                self.categories
                    .get(c)
                    .map(|c| c.name.clone())
                    .unwrap_or_else(|| format!("分类{c}")),
            ),
        })
    }
}
impl Monthly {
    pub(super) async fn build(
        db: &Db,
        actor: &Actor,
        period: &Period,
        city: &str,
    ) -> Result<Monthly> {
        let view = view_of(actor)?;
        let ctx = load(db, view, period.previous().start(), period.end(), city).await?;
        let by_dept = ctx.table(db, period, GroupBy::Department).await?;
        let by_category = ctx.table(db, period, GroupBy::Category).await?;
        let by_region = ctx
            .table(db, period, GroupBy::Region(RegionLevel::County))
            .await?;
        let per_day = ctx.cal.office_hours().minutes_per_day();
        let overdue = ctx
            .overdue_at(period.end().min(db.now()))
            .into_iter()
            .map(|o| ListRow {
                number: o.h.t.number.clone(),
                title: o.h.t.title.clone(),
                dept: ctx.dept_name(o.dept),
                a: format_minute(o.due),
                b: overdue_text(o.minutes, per_day),
                c: status_label(
                    &o.h.state_at(period.end())
                        .map(|s| s.1.clone())
                        .unwrap_or_default(),
                ),
            })
            .collect();
        let reopened = ctx
            .reopened_in(period.start(), period.end())
            .into_iter()
            .map(|r| ListRow {
                number: r.h.t.number.clone(),
                title: r.h.t.title.clone(),
                dept: ctx.dept_name(r.dept),
                a: r.times.to_string(),
                b: clip(&r.reason, 60),
                c: status_label(&r.status),
            })
            .collect();
        let hotspots = crate::search::hotspots::from_db(
            db,
            Some(actor),
            period.start(),
            period.end(),
            10,
            None,
        )
        .await?;
        let dispatch = match &ctx.view {
            View::All | View::Region(_) => {
                let prefix = match &ctx.view {
                    View::Region(p) => Some(p.as_str()),
                    _ => None,
                };
                let (dispatched, auto, auto_returned, with_suggestion, agreed) =
                    crate::intel::dispatch::dispatch_figures(
                        db,
                        prefix,
                        period.start(),
                        period.end(),
                    )
                    .await?;
                Some(DispatchFigures {
                    dispatched,
                    auto,
                    auto_returned,
                    with_suggestion,
                    agreed,
                })
            }
            View::Departments(_) => None,
        };
        Ok(Monthly {
            dispatch,
            hotspots,
            city: city.to_owned(),
            period: *period,
            scope: ctx.view.label().into(),
            total: by_dept.total.clone(),
            by_dept,
            by_category,
            by_region,
            overdue,
            reopened,
        })
    }
}

/// Loads and replays what a report of `[from, to)` needs, as `view` sees it.
async fn load(db: &Db, view: View, from: Millis, to: Millis, city: &str) -> Result<Replay> {
    let cal = calendar::load(db).await?;
    let svc = HotlineService::new(db.clone(), city);
    let mut policies = HashMap::new();
    for k in TicketKind::ALL {
        for u in Urgency::ALL {
            policies.insert((*k, *u), svc.policy(*k, *u).await?);
        }
    }
    let store::Rows {
        tickets,
        mut events,
        merged,
    } = store::rows(db, &view, from, to).await?;
    let hists = tickets
        .into_iter()
        .map(|t| {
            let evs = events.remove(&t.id).unwrap_or_default();
            History::replay(t, &evs, &cal, &policies)
        })
        .collect();
    let categories = svc
        .categories()
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    Ok(Replay {
        now: db.now(),
        view,
        cal,
        hists,
        categories,
        depts: department_names(db).await?,
        merged,
    })
}
