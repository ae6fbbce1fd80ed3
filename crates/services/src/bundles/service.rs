//! 一件事: bundles of items, one application that opens a sub-case in each department, and
//! one delivery for all of them.

use super::store;
use crate::domain::*;
use crate::service::*;
use kernel::audit;
use kernel::error::{Error, Result};
use kernel::{Actor, Authorized};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

/// An application for a bundle: one form, one material list.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBundleCase {
    pub applicant: Applicant,
    #[serde(default)]
    pub form: Map<String, Value>,
    #[serde(default)]
    pub materials: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BundleView {
    pub bundle: Bundle,
    pub items: Vec<ServiceItem>,
    pub merged: MergedForm,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BundleCaseView {
    pub id: i64,
    pub number: String,
    pub bundle_id: i64,
    pub bundle_name: String,
    /// One status for the citizen.
    pub status: BundleStatus,
    pub status_label: String,
    pub applicant: Applicant,
    pub channel: Channel,
    pub cases: Vec<CaseView>,
    pub created_at: i64,
}

impl ServicesService {
    // ---- bundles ----

    pub async fn create_bundle(&self, actor: &Actor, input: BundleInput) -> Result<BundleView> {
        actor.authorize::<ManageBundles>()?;
        input.validate()?;
        for (i, id) in input.item_ids.iter().enumerate() {
            self.published_item(*id).await.map_err(|_| {
                Error::field(
                    format!("item_ids[{i}]"),
                    "unknown_item",
                    format!("事项 {id} 不存在或尚未发布"),
                )
            })?;
        }
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let id = store::insert_bundle(&mut tx, &input, now).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "bundle",
            id,
            "create",
            json!({"code": input.code, "name": input.name, "items": input.item_ids}),
        )
        .await?;
        tx.commit().await?;
        self.bundle(id).await
    }

    /// A bundle with its items' published versions and the merged form.
    pub async fn bundle(&self, id: i64) -> Result<BundleView> {
        let b = store::bundle(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| Error::not_found("bundle", "一件事不存在"))?;
        let mut items = Vec::new();
        for i in &b.content.item_ids {
            items.push(self.published_item(*i).await?);
        }
        let refs: Vec<&ItemInput> = items.iter().map(|i| &i.content).collect();
        let merged = merge(&b.content, &refs);
        Ok(BundleView {
            bundle: b,
            items,
            merged,
        })
    }

    pub async fn bundles(&self) -> Result<Vec<Bundle>> {
        store::bundles(&mut *self.conn().await?).await
    }

    /// Applies for a bundle: one form and one material list; a sub-case opens in each
    /// department, all at once (parallel) or the first only (sequential).
    pub async fn submit_bundle(
        &self,
        actor: &Actor,
        bundle_id: i64,
        input: NewBundleCase,
    ) -> Result<BundleCaseView> {
        let (channel, by) = Self::channel_for(actor)?;
        let applicant = Self::applicant_for(actor, &input.applicant, channel)?;
        let view = self.bundle(bundle_id).await?;
        let mut input = input;
        fill_from_applicant(&view.merged.fields, &mut input.form, &applicant)?;
        Self::check_form(&view.merged.fields, &input.form)?;
        let cal = self.calendar().await?;
        let items: Vec<&ServiceItem> = view.items.iter().collect();
        let exempt = self.exemptions(&items, &applicant).await?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let day = kernel::clock::to_china(now).date_naive();
        let seq =
            crate::store::next_seq(&mut tx, "bundle", &day.format("%Y%m%d").to_string()).await?;
        let mut row = BundleCaseRow {
            id: 0,
            number: format!("YJS{}{:05}", day.format("%Y%m%d"), seq),
            bundle_id,
            applicant: applicant.clone(),
            channel,
            form: input.form.clone(),
            created_at: now,
        };
        row.id = store::insert_bundle_case(&mut tx, &row).await?;
        for (i, item) in view.items.iter().enumerate() {
            // Each department gets the fields of its own item, filled once on the merged form.
            let form: Map<String, Value> = input
                .form
                .iter()
                .filter(|(k, _)| item.content.fields.iter().any(|f| &f.key == *k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let waiting = view.bundle.content.order == BundleOrder::Sequential && i > 0;
            let c = self
                .new_case(
                    &mut tx,
                    by,
                    item,
                    None,
                    &applicant,
                    form,
                    &input.materials,
                    &exempt,
                    channel,
                    Some(row.id),
                    waiting,
                    now,
                )
                .await?;
            self.try_auto(&mut tx, c, item, &cal, now).await?;
        }
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "bundle_case",
            row.id,
            "submit",
            json!({"number": row.number, "bundle_id": bundle_id}),
        )
        .await?;
        tx.commit().await?;
        self.bundle_case_view(actor, row).await
    }

    pub(crate) async fn bundle_case_view(
        &self,
        actor: &Actor,
        row: BundleCaseRow,
    ) -> Result<BundleCaseView> {
        let mut c = self.conn().await?;
        let b = store::bundle(&mut c, row.bundle_id)
            .await?
            .ok_or_else(|| Error::internal("bundle vanished"))?;
        let cases: Vec<Case> = crate::cases::store::cases_of_bundle(&mut c, row.id)
            .await?
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let status = bundle_status(&cases);
        Ok(BundleCaseView {
            id: row.id,
            number: row.number,
            bundle_id: row.bundle_id,
            bundle_name: b.content.name,
            status,
            status_label: status.label().into(),
            applicant: row.applicant,
            channel: row.channel,
            cases: self.views(actor, cases).await?,
            created_at: row.created_at,
        })
    }

    /// A bundle application by number (the applicant, the front desk, or staff of a department
    /// that holds one of its sub-cases).
    pub async fn bundle_case(&self, actor: &Actor, number: &str) -> Result<BundleCaseView> {
        let row = store::bundle_case_by(&mut *self.conn().await?, "number", number)
            .await?
            .ok_or_else(|| Error::not_found("bundle_case", "一件事申请不存在"))?;
        let v = self.bundle_case_view(actor, row).await?;
        if !v.cases.iter().any(|c| Self::can_see(actor, &c.case)) {
            return Err(Error::forbidden("无权查看该申请"));
        }
        Ok(v)
    }

    /// 一件事一次出件: every sub-case of a finished bundle application is delivered together.
    pub async fn deliver_bundle(
        &self,
        actor: &Actor,
        number: &str,
        method: DeliveryMethod,
        detail: &str,
    ) -> Result<BundleCaseView> {
        let by: Authorized = actor.authorize::<FrontDesk>()?.into();
        let cal = self.calendar().await?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let row = store::bundle_case_by(&mut tx, "number", number)
            .await?
            .ok_or_else(|| Error::not_found("bundle_case", "一件事申请不存在"))?;
        let cases = crate::cases::store::cases_of_bundle(&mut tx, row.id).await?;
        let list: Vec<Case> = cases.iter().map(|(k, _)| k.clone()).collect();
        if bundle_status(&list) != BundleStatus::Done {
            return Err(Error::IllegalTransition {
                detail: "一件事尚未全部办结，不能出件".into(),
            });
        }
        // Results that are licenses: issued before the transaction (idempotent by case), as
        // a single case's delivery does; the write connection is not held meanwhile.
        drop(tx);
        let mut actions = Vec::new();
        let mut paper = Vec::new();
        for (c, _) in &cases {
            let asked = Action::Deliver {
                method,
                detail: detail.into(),
            };
            let (action, result) = self.result_license(actor, c.id, asked, &cal, now).await?;
            actions.push(action);
            paper.extend(result);
        }
        let mut tx = self.db.begin().await?;
        for ((c, _), action) in cases.into_iter().zip(&actions) {
            let (c, v) = self.load(&mut tx, c.id).await?;
            let (next, e) = c.apply(action, actor.user_id, now, &cal)?;
            crate::cases::store::update_case(&mut tx, by, &next, v).await?;
            self.record(&mut tx, actor, &next, &e, now).await?;
        }
        tx.commit().await?;
        self.note_paper_results(by, paper).await;
        self.bundle_case(actor, number).await
    }
}
