//! The lines and totals of a 责任清单, pure.

use crate::catalog::domain::{OpenKind, ShareKind, UpdateCycle};
use kernel::page::Page;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

crate::catalog::domain::code_enum!(
    /// Which list: 共享责任清单 (every published entry) or 开放责任清单 (entries opened to the
    /// public, 无条件 or 有条件开放).
    #[schema(as = SharingDutyKind)]
    DutyKind {
        Share = "share" / "共享责任清单",
        Open = "open" / "开放责任清单",
    }
);

/// One entry a department is answerable for.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DutyLine {
    pub entry_id: i64,
    pub code: String,
    pub name: String,
    pub provider_dept_id: i64,
    pub provider_name: String,
    pub share_kind: ShareKind,
    pub share_label: String,
    pub open_kind: OpenKind,
    pub open_label: String,
    pub update_cycle: UpdateCycle,
    pub update_cycle_label: String,
    pub published_at: Option<i64>,
    /// Resources mounted for it.
    pub resources: i64,
    pub mounted: bool,
    /// The newest update of its resources.
    pub last_update_at: Option<i64>,
    /// A resource is later than the 更新周期 allows (or was never loaded).
    pub overdue: bool,
    /// Grants in force on its resources (active and not expired).
    pub active_grants: i64,
}

impl DutyLine {
    /// What the list says of the entry's state in words: what the 数据专员 must do, if anything.
    pub fn status(&self) -> &'static str {
        if !self.mounted && self.share_kind != ShareKind::NotShared {
            "待挂接"
        } else if self.overdue {
            "更新逾期"
        } else {
            "正常"
        }
    }
}

/// Totals over the whole list (every page).
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct DutyTotals {
    pub entries: i64,
    /// 无条件 or 有条件共享.
    pub shared: i64,
    /// 无条件 or 有条件开放.
    pub open: i64,
    pub mounted: i64,
    pub overdue: i64,
    pub active_grants: i64,
}

impl DutyTotals {
    pub fn of(lines: &[DutyLine]) -> DutyTotals {
        let n = |f: &dyn Fn(&DutyLine) -> bool| lines.iter().filter(|l| f(l)).count() as i64;
        DutyTotals {
            entries: lines.len() as i64,
            shared: n(&|l| l.share_kind != ShareKind::NotShared),
            open: n(&|l| l.open_kind != OpenKind::NotOpen),
            mounted: n(&|l| l.mounted),
            overdue: n(&|l| l.overdue),
            active_grants: lines.iter().map(|l| l.active_grants).sum(),
        }
    }
}

/// A 责任清单: one department's (or, for the bureau, every department's), with totals and a page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DutyList {
    pub kind: DutyKind,
    pub kind_label: String,
    /// `None`: every department (the bureau's view).
    pub dept_id: Option<i64>,
    pub dept_name: String,
    pub totals: DutyTotals,
    #[schema(value_type = Object)]
    pub page: Page<DutyLine>,
}

/// Query of the list: which one, which department.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct DutyQuery {
    /// `share` (default) or `open`.
    #[serde(default)]
    pub kind: Option<String>,
    /// A department (the bureau may read any; others read their own).
    #[serde(default)]
    pub dept: Option<i64>,
}

impl DutyQuery {
    pub fn kind(&self) -> kernel::error::Result<DutyKind> {
        match self
            .kind
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Ok(DutyKind::Share),
            Some(k) => DutyKind::parse(k).ok_or_else(|| {
                kernel::Error::field(
                    "kind",
                    "invalid_kind",
                    "清单类型须为 share（共享）或 open（开放）",
                )
            }),
        }
    }
}
