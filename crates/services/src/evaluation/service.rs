//! 好差评 and 差评整改: ratings by the applicant, the rectification a bad one opens, the
//! department's reply and the supervisor's review.

use super::store;
use crate::domain::*;
use crate::service::*;
use kernel::audit;
use kernel::error::{Checks, Error, Result};
use kernel::Actor;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

/// Reply of a department to a rectification, or a supervisor's review.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationReply {
    pub reply: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationReview {
    pub approve: bool,
    pub note: String,
}

pub use super::store::RectificationFilter;

/// One line of the 整改 worklist: the task, its department and item in words, and the rating
/// that opened it.
#[derive(Debug, Clone)]
pub struct RectificationRow {
    pub rectification: Rectification,
    pub case_id: Option<i64>,
    pub dept_name: String,
    pub item_name: String,
    pub level_label: String,
    pub tags: Vec<String>,
    pub text: String,
    /// Still open past its deadline.
    pub overdue: bool,
}

impl ServicesService {
    /// The 整改 worklist: open tasks first, by deadline; a department sees its own, a
    /// supervisor every department's (or one).
    pub async fn rectification_list(
        &self,
        actor: &Actor,
        f: &RectificationFilter,
        page: &kernel::page::PageQuery,
    ) -> Result<kernel::page::Page<RectificationRow>> {
        let supervisor = actor.has_any_role(roles::<Supervise>());
        if !supervisor {
            actor.require_any_role(roles::<WorkCases>())?;
        }
        actor.require_scope("services:read")?;
        let scope = if supervisor {
            None
        } else {
            actor.scope.filter().dept_ids
        };
        let now = self.db.now();
        let (rows, total) =
            store::rectification_page(&mut *self.conn().await?, scope.as_deref(), f, now, page)
                .await?;
        let mut depts = std::collections::HashMap::new();
        let mut items = std::collections::HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for (r, e) in rows {
            if let std::collections::hash_map::Entry::Vacant(v) = depts.entry(r.dept_id) {
                let name = self.department(r.dept_id).await.map(|d| d.name);
                v.insert(name.unwrap_or_default());
            }
            if let std::collections::hash_map::Entry::Vacant(v) = items.entry(e.item_id) {
                let name = self.published_item(e.item_id).await.map(|i| i.content.name);
                v.insert(name.unwrap_or_default());
            }
            out.push(RectificationRow {
                case_id: e.case_id,
                dept_name: depts[&r.dept_id].clone(),
                item_name: items[&e.item_id].clone(),
                level_label: Level::parse(&e.level)
                    .map_or(e.level.clone(), |l| l.label().to_owned()),
                tags: serde_json::from_str(&e.tags).unwrap_or_default(),
                text: e.text,
                overdue: r.status == RectificationStatus::Open && r.due_at < now,
                rectification: r,
            });
        }
        Ok(kernel::page::Page::new(out, total, page))
    }

    /// The round a new evaluation would be, or None when the applicant has rated and no
    /// rectification has been completed since.
    pub(crate) async fn next_round(
        &self,
        c: &mut sqlx::AnyConnection,
        evals: &[Evaluation],
    ) -> Result<Option<i64>> {
        let Some(last) = evals.iter().max_by_key(|e| e.round) else {
            return Ok(Some(1));
        };
        match store::rectification_of(c, last.id).await? {
            Some(r) if r.status == RectificationStatus::Done => Ok(Some(last.round + 1)),
            _ => Ok(None),
        }
    }

    pub(crate) async fn evaluate_cases(
        &self,
        actor: &Actor,
        number: &str,
        cases: Vec<Case>,
        input: NewEvaluation,
        channel: EvalChannel,
    ) -> Result<Evaluation> {
        input.validate()?;
        let lead = cases
            .first()
            .ok_or_else(|| Error::not_found("case", "办件不存在"))?
            .clone();
        let done = if lead.bundle_case_id.is_some() {
            matches!(
                bundle_status(&cases),
                BundleStatus::Done | BundleStatus::Delivered
            )
        } else {
            lead.status.is_done()
        };
        if !done {
            return Err(Error::IllegalTransition {
                detail: "办结后才能评价".into(),
            });
        }
        let cal = self.calendar().await?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let evals = store::evaluations_of(&mut tx, number).await?;
        let round = self.next_round(&mut tx, &evals).await?.ok_or_else(|| {
            Error::conflict(
                "already_evaluated",
                Some("case_number"),
                "该办件已评价；差评整改完成后才可再次评价",
            )
        })?;
        let mut staff: Vec<i64> = Vec::new();
        for c in &cases {
            for h in &c.handlers {
                if !staff.contains(h) {
                    staff.push(*h);
                }
            }
        }
        let mut e = Evaluation {
            id: 0,
            case_id: if lead.bundle_case_id.is_some() {
                0
            } else {
                lead.id
            },
            case_number: number.into(),
            dept_id: lead.dept_id,
            item_id: lead.item_id,
            applicant_id_no: lead.applicant.id_no.clone(),
            round,
            level: input.level,
            tags: input
                .tags
                .iter()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect(),
            text: input.text.trim().into(),
            channel,
            staff,
            created_at: now,
        };
        e.id = store::insert_evaluation(&mut tx, &e).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "evaluation",
            e.id,
            "evaluate",
            json!({"case_number": number, "level": e.level.code(), "round": round}),
        )
        .await?;
        if e.level.is_bad() {
            // 差评: the department has five working days to put it right and answer.
            let r = Rectification {
                id: 0,
                evaluation_id: e.id,
                case_number: number.into(),
                dept_id: e.dept_id,
                status: RectificationStatus::Open,
                due_at: cal.add_working_days(now, 5),
                reply: None,
                replied_at: None,
                review_note: None,
                reviewed_at: None,
                created_at: now,
            };
            let rid = store::insert_rectification(&mut tx, &r).await?;
            audit::record(
                &mut tx,
                now,
                &Actor::system().audit_actor(),
                "rectification",
                rid,
                "open",
                json!({"case_number": number, "evaluation_id": e.id}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(e)
    }

    /// The signed-in applicant rates their case (or bundle application) online; a clerk
    /// records the rating given at the window's evaluator.
    pub async fn evaluate(
        &self,
        actor: &Actor,
        number: &str,
        input: NewEvaluation,
    ) -> Result<Evaluation> {
        let mut conn = self.conn().await?;
        let cases: Vec<Case> = if let Some(row) =
            crate::bundles::store::bundle_case_by(&mut conn, "number", number.trim()).await?
        {
            crate::cases::store::cases_of_bundle(&mut conn, row.id)
                .await?
                .into_iter()
                .map(|(k, _)| k)
                .collect()
        } else {
            crate::cases::store::case_by_number(&mut conn, number.trim())
                .await?
                .map(|(k, _)| vec![k])
                .unwrap_or_default()
        };
        drop(conn);
        let Some(first) = cases.first() else {
            return Err(Error::not_found("case", "办件不存在"));
        };
        let channel = if Self::is_applicant(actor, first) {
            EvalChannel::Web
        } else if actor.has_any_role(roles::<FrontDesk>()) {
            EvalChannel::Window
        } else {
            return Err(Error::forbidden("只有申请人本人可以评价"));
        };
        self.evaluate_cases(actor, number.trim(), cases, input, channel)
            .await
    }

    /// Rating with number and phone (the applicant without an account).
    pub async fn evaluate_public(
        &self,
        number: &str,
        phone: &str,
        input: NewEvaluation,
    ) -> Result<Evaluation> {
        let (_, cases, _) = self.by_number_and_phone(number, phone).await?;
        let actor = Actor {
            username: "applicant".into(),
            display_name: "申请人".into(),
            ..Actor::system()
        };
        self.evaluate_cases(&actor, number.trim(), cases, input, EvalChannel::Web)
            .await
    }

    pub async fn rectifications(&self, actor: &Actor) -> Result<Vec<Rectification>> {
        if !actor.has_any_role(roles::<Supervise>()) {
            actor.require_any_role(roles::<WorkCases>())?;
        }
        actor.require_scope("services:read")?;
        let f = if actor.has_any_role(roles::<Supervise>()) {
            None
        } else {
            actor.scope.filter().dept_ids
        };
        store::rectifications(&mut *self.conn().await?, f.as_deref()).await
    }

    /// The department answers the citizen and says what it changed.
    pub async fn reply_rectification(
        &self,
        actor: &Actor,
        id: i64,
        input: RectificationReply,
    ) -> Result<Rectification> {
        actor.authorize::<WorkCases>()?;
        let reply = input.reply.trim().to_owned();
        let mut c = Checks::new();
        c.text("reply", "整改答复", &reply, 4000);
        c.finish()?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let mut r = rectification_in(&mut tx, id, RectificationStatus::Open, "答复").await?;
        let dept = self.department(r.dept_id).await?;
        if !actor.scope.can_see(&[dept.id], Some(&dept.region_code)) {
            return Err(Error::forbidden("该整改任务不属于本部门"));
        }
        r.status = RectificationStatus::Replied;
        r.reply = Some(reply.clone());
        r.replied_at = Some(now);
        store::save_rectification(&mut tx, &r, RectificationStatus::Open).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "rectification",
            id,
            "reply",
            json!({"reply": reply, "late": now > r.due_at}),
        )
        .await?;
        tx.commit().await?;
        Ok(r)
    }

    /// A supervisor accepts the rectification (done; the applicant may rate again) or sends it
    /// back to the department.
    pub async fn review_rectification(
        &self,
        actor: &Actor,
        id: i64,
        input: RectificationReview,
    ) -> Result<Rectification> {
        actor.authorize::<Supervise>()?;
        let note = input.note.trim().to_owned();
        let mut c = Checks::new();
        c.text("note", "审核意见", &note, 2000);
        c.finish()?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let mut r = rectification_in(&mut tx, id, RectificationStatus::Replied, "审核").await?;
        r.status = if input.approve {
            RectificationStatus::Done
        } else {
            RectificationStatus::Open
        };
        r.review_note = Some(note.clone());
        r.reviewed_at = Some(now);
        store::save_rectification(&mut tx, &r, RectificationStatus::Replied).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "rectification",
            id,
            "review",
            json!({"approve": input.approve, "note": note}),
        )
        .await?;
        tx.commit().await?;
        Ok(r)
    }
}

/// A rectification that must be in `status` for what is being done (`doing`: 答复, 审核).
async fn rectification_in(
    tx: &mut kernel::Tx,
    id: i64,
    status: RectificationStatus,
    doing: &str,
) -> Result<Rectification> {
    let r = store::rectification(tx, id)
        .await?
        .ok_or_else(|| Error::not_found("rectification", "整改任务不存在"))?;
    if r.status != status {
        return Err(Error::IllegalTransition {
            detail: format!("整改任务当前为“{}”，不能{doing}", r.status.label()),
        });
    }
    Ok(r)
}
