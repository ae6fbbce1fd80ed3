//! 一件事: several items applied for together — one merged form whose shared fields are asked
//! once (一数一源), one material list without duplicates, one submission opening the sub-cases in
//! parallel or in order, one status and one result.

use crate::cases::domain::{Applicant, Case, CaseStatus, Channel};
use crate::domain::code_enum;
use crate::items::domain::{FormField, ItemInput, Material};
use kernel::error::{Checks, Result};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

code_enum!(
    BundleOrder {
        Parallel => "parallel", "并联办理",
        Sequential => "sequential", "依次办理",
    }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleInput {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Item ids, in order.
    pub item_ids: Vec<i64>,
    pub order: BundleOrder,
    /// The bundle's own promise, in working days.
    pub promised_days: u32,
    /// Visits (跑动次数) a citizen makes for the bundle.
    #[serde(default = "one")]
    pub visits: u32,
}

fn one() -> u32 {
    1
}

impl BundleInput {
    pub fn validate(&self) -> Result<()> {
        let mut c = Checks::new();
        c.text("code", "一件事编码", &self.code, 32);
        c.text("name", "一件事名称", &self.name, 200);
        c.check(
            self.item_ids.len() >= 2,
            "item_ids",
            "too_few_items",
            "一件事至少包含两个事项",
        );
        let mut seen = std::collections::HashSet::new();
        c.check(
            self.item_ids.iter().all(|i| seen.insert(*i)),
            "item_ids",
            "duplicate",
            "同一事项不能重复加入",
        );
        c.check(
            self.promised_days > 0,
            "promised_days",
            "required",
            "请填写一件事的承诺时限",
        );
        c.finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Bundle {
    pub id: i64,
    #[serde(flatten)]
    pub content: BundleInput,
    pub created_at: i64,
}

/// What the bundle saves the applicant compared with applying item by item.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Savings {
    /// Materials to hand in, item by item.
    pub materials_separately: usize,
    /// Materials to hand in for the bundle.
    pub materials_bundled: usize,
    pub fields_separately: usize,
    pub fields_bundled: usize,
    /// Applications (steps) item by item vs one.
    pub steps_separately: usize,
    pub steps_bundled: usize,
    pub visits_separately: u32,
    pub visits_bundled: u32,
    /// Sum of the items' promised days vs the bundle's.
    pub days_separately: u32,
    pub days_bundled: u32,
}

/// The merged application of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MergedForm {
    /// Each field once, by key; required when any item requires it.
    pub fields: Vec<FormField>,
    /// Each material once, by key.
    pub materials: Vec<Material>,
    pub savings: Savings,
}

/// Merges the items' forms and materials; shared keys are asked once.
pub fn merge(bundle: &BundleInput, items: &[&ItemInput]) -> MergedForm {
    let mut fields: Vec<FormField> = Vec::new();
    let mut materials: Vec<Material> = Vec::new();
    let (mut nf, mut nm, mut days, mut visits) = (0, 0, 0u32, 0u32);
    for it in items {
        nf += it.fields.len();
        for f in &it.fields {
            match fields.iter_mut().find(|x| x.key == f.key) {
                Some(x) => x.required |= f.required,
                None => fields.push(f.clone()),
            }
        }
        for m in it.materials.iter().filter(|m| m.must_submit()) {
            nm += 1;
            match materials.iter_mut().find(|x| x.key == m.key) {
                Some(x) => {
                    x.required |= m.required;
                    x.copies = x.copies.max(m.copies);
                }
                None => materials.push(m.clone()),
            }
        }
        days += it.promised_days;
        // Every separate application is at least one visit unless it is fully online.
        visits += match it.depth {
            crate::items::domain::Depth::ZeroVisit | crate::items::domain::Depth::FullyOnline => 0,
            _ => 1,
        };
    }
    MergedForm {
        savings: Savings {
            materials_separately: nm,
            materials_bundled: materials.len(),
            fields_separately: nf,
            fields_bundled: fields.len(),
            steps_separately: items.len(),
            steps_bundled: 1,
            visits_separately: visits,
            visits_bundled: bundle.visits.min(visits),
            days_separately: days,
            days_bundled: bundle.promised_days,
        },
        fields,
        materials,
    }
}

code_enum!(
    /// The one status a citizen sees for a bundle application.
    BundleStatus {
        InProgress => "in_progress", "办理中",
        NeedsSupplement => "needs_supplement", "待补正",
        Done => "done", "已办结",
        Delivered => "delivered", "已出件",
        Failed => "failed", "未办成",
        Withdrawn => "withdrawn", "已撤回",
    }
);

/// One status from the sub-cases: 待补正 when any needs material, 已办结 when all are done,
/// 未办成 when any was refused or denied.
pub fn bundle_status(cases: &[Case]) -> BundleStatus {
    if cases.iter().all(|c| c.status == CaseStatus::Withdrawn) {
        return BundleStatus::Withdrawn;
    }
    if cases.iter().any(|c| {
        c.status == CaseStatus::Rejected
            || c.decision.as_ref().is_some_and(|d| !d.approve)
            || c.status == CaseStatus::Withdrawn
    }) {
        return BundleStatus::Failed;
    }
    if cases.iter().any(|c| c.status == CaseStatus::Supplement) {
        return BundleStatus::NeedsSupplement;
    }
    if cases.iter().all(|c| c.status == CaseStatus::Delivered) {
        return BundleStatus::Delivered;
    }
    if cases.iter().all(|c| c.status.is_done()) {
        return BundleStatus::Done;
    }
    BundleStatus::InProgress
}

/// A bundle application: the applicant and the merged form, the sub-cases hang off it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BundleCaseRow {
    pub id: i64,
    pub number: String,
    pub bundle_id: i64,
    pub applicant: Applicant,
    pub channel: Channel,
    pub form: serde_json::Map<String, serde_json::Value>,
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Depth, FieldKind};
    use crate::items::domain::tests::sample;

    #[test]
    fn shared_fields_and_materials_are_asked_once() {
        let a = sample();
        let mut b = sample();
        b.name = "健康证明办理".into();
        b.promised_days = 3;
        b.depth = Depth::AtMostOnce;
        b.fields.push(FormField {
            key: "workplace".into(),
            label: "工作单位".into(),
            kind: FieldKind::Text,
            required: false,
        });
        b.materials[1].key = "photo".into();
        b.materials[1].name = "近期免冠照片".into();
        let bundle = BundleInput {
            code: "BST".into(),
            name: "摆摊一件事".into(),
            description: String::new(),
            item_ids: vec![1, 2],
            order: BundleOrder::Parallel,
            promised_days: 5,
            visits: 1,
        };
        let m = merge(&bundle, &[&a, &b]);
        let keys: Vec<&str> = m.fields.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["applicant_name", "workplace"]);
        // id_card comes from a license in both items: never asked; health_cert and photo once.
        let mk: Vec<&str> = m.materials.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(mk, ["health_cert", "photo"]);
        assert_eq!(m.savings.materials_separately, 2);
        assert_eq!(m.savings.fields_separately, 3);
        assert_eq!(m.savings.fields_bundled, 2);
        assert_eq!((m.savings.days_separately, m.savings.days_bundled), (8, 5));
        assert_eq!(
            (m.savings.visits_separately, m.savings.visits_bundled),
            (1, 1)
        );
        assert!(bundle.validate().is_ok());
        let bad = BundleInput {
            item_ids: vec![1, 1],
            ..bundle
        };
        assert_eq!(bad.validate().unwrap_err().code(), "duplicate");
    }
}
