//! 责任清单 use cases: the list of one department (the bureau's of any), with totals.

use super::domain::*;
use crate::catalog::domain::OpenKind;
use crate::grants::domain::GrantStatus;
use crate::service::*;
use kernel::error::{Error, Result};
use kernel::page::{Page, PageQuery};
use kernel::Actor;
use std::collections::HashMap;

impl SharingService {
    /// The department whose list the actor reads: the bureau any (or all, `None`), others
    /// their own department (or one below it).
    async fn duty_dept(&self, actor: &Actor, dept: Option<i64>) -> Result<Option<i64>> {
        if self.is_bureau(actor).await? {
            return Ok(dept);
        }
        let own = Self::own_dept(actor)?;
        match dept {
            None => Ok(Some(own)),
            Some(d) if actor.scope.can_see(&[d], None) => Ok(Some(d)),
            Some(_) => Err(Error::forbidden("只能查看本部门的责任清单")),
        }
    }

    /// Every line of a 责任清单, ordered by department then 资源代码 (for the page, the JSON and
    /// the .xlsx).
    pub async fn duty_lines(
        &self,
        actor: &Actor,
        kind: DutyKind,
        dept: Option<i64>,
    ) -> Result<(Option<i64>, Vec<DutyLine>)> {
        actor.authorize::<ReadSharing>()?;
        let dept = self.duty_dept(actor, dept).await?;
        if let Some(d) = dept {
            self.department(d).await.map_err(|_| {
                Error::field("dept", "unknown_department", format!("部门 {d} 不存在"))
            })?;
        }
        let now = self.db.now();
        let resources = self.resources(None).await?;
        let (_, grants) = self.all_requests_and_grants().await?;
        let mut live: HashMap<i64, i64> = HashMap::new();
        for g in grants
            .iter()
            .filter(|g| g.status == GrantStatus::Active && g.expires_at > now)
        {
            *live.entry(g.resource_id).or_default() += 1;
        }
        let mut lines: Vec<DutyLine> = self
            .published_entries()
            .await?
            .into_iter()
            .filter(|l| dept.is_none_or(|d| l.entry.provider_dept_id == d))
            .filter(|l| kind == DutyKind::Share || l.version.content.open_kind != OpenKind::NotOpen)
            .map(|l| {
                let c = &l.version.content;
                let mine: Vec<_> = resources
                    .iter()
                    .filter(|r| r.resource.entry_id == l.entry.id)
                    .collect();
                DutyLine {
                    entry_id: l.entry.id,
                    code: l.entry.code.clone(),
                    name: c.name.clone(),
                    provider_dept_id: l.entry.provider_dept_id,
                    provider_name: l.provider_name.clone(),
                    share_kind: c.share_kind,
                    share_label: c.share_kind.label().to_owned(),
                    open_kind: c.open_kind,
                    open_label: c.open_kind.label().to_owned(),
                    update_cycle: c.update_cycle,
                    update_cycle_label: c.update_cycle.label().to_owned(),
                    published_at: l.entry.published_at,
                    resources: mine.len() as i64,
                    mounted: !mine.is_empty(),
                    last_update_at: mine.iter().filter_map(|r| r.resource.last_update_at).max(),
                    overdue: mine.iter().any(|r| r.overdue),
                    active_grants: mine
                        .iter()
                        .map(|r| live.get(&r.resource.id).copied().unwrap_or(0))
                        .sum(),
                }
            })
            .collect();
        lines.sort_by(|a, b| {
            (a.provider_name.as_str(), a.code.as_str())
                .cmp(&(b.provider_name.as_str(), b.code.as_str()))
        });
        Ok((dept, lines))
    }

    /// A 责任清单 with its totals and one page of lines.
    pub async fn duty_list(
        &self,
        actor: &Actor,
        kind: DutyKind,
        dept: Option<i64>,
        q: &PageQuery,
    ) -> Result<DutyList> {
        let (dept, lines) = self.duty_lines(actor, kind, dept).await?;
        let totals = DutyTotals::of(&lines);
        let dept_name = match dept {
            Some(d) => self.dept_names().await?.remove(&d).unwrap_or_default(),
            None => "全部部门".to_owned(),
        };
        let items = lines
            .into_iter()
            .skip(q.offset() as usize)
            .take(q.per_page() as usize)
            .collect();
        Ok(DutyList {
            kind,
            kind_label: kind.label().to_owned(),
            dept_id: dept,
            dept_name,
            page: Page::new(items, totals.entries, q),
            totals,
        })
    }
}
