//! What applicants hear of their case (办件状态通知): 受理, 补正, 办结 and 出件, by SMS to the
//! applicant's phone and, when they applied online, in their inbox. The sending is the `notify`
//! module's; this file says which case events raise which notification events, for whom, and
//! the case's template values. The events and their default zh-CN templates are registered by
//! migration 0002_notices.

use crate::cases::domain::{Case, CaseStatus, Event};
use kernel::error::Result;
use kernel::Tx;
use notify::{EventKind, Message, Recipient};
use serde_json::json;

pub const ACCEPTED: &str = "case.accepted";
pub const SUPPLEMENT: &str = "case.supplement";
pub const CLOSED: &str = "case.closed";
pub const DELIVERED: &str = "case.delivered";

/// Placeholders a case template may use: 办件编号, 事项名称, 申请人, 办件状态, 需补正的材料,
/// 补正说明, 送达方式.
pub const PLACEHOLDERS: &[&str] = &[
    "编号",
    "事项",
    "申请人",
    "状态",
    "补正材料",
    "说明",
    "送达方式",
];

const fn kind(code: &'static str, label: &'static str) -> EventKind {
    EventKind {
        code,
        label,
        placeholders: PLACEHOLDERS,
    }
}

/// The case events applicants hear of, as registered in `notify_events` by migration 0002.
pub const EVENTS: &[EventKind] = &[
    kind(ACCEPTED, "办件受理"),
    kind(SUPPLEMENT, "补正告知"),
    kind(CLOSED, "办件办结"),
    kind(DELIVERED, "办件出件"),
];

/// The notification events one case event raises (most raise none). An immediate case
/// (即办件), accepted and closed in one step, is told it is closed.
pub fn classify(e: &Event) -> Vec<&'static str> {
    let entered = |s: CaseStatus| e.to == s && e.from != s;
    let mut v = Vec::new();
    if e.action == "accept" && entered(CaseStatus::Accepted) {
        v.push(ACCEPTED);
    }
    if entered(CaseStatus::Supplement) {
        v.push(SUPPLEMENT);
    }
    if entered(CaseStatus::Closed) {
        v.push(CLOSED);
    }
    if entered(CaseStatus::Delivered) {
        v.push(DELIVERED);
    }
    v
}

fn vars(c: &Case, e: &Event) -> Vec<(String, String)> {
    let asked: Vec<String> = c
        .supplement
        .iter()
        .flat_map(|s| s.materials.iter())
        .map(|k| {
            c.materials
                .iter()
                .find(|m| &m.key == k)
                .map(|m| m.name.clone())
                .unwrap_or_else(|| k.clone())
        })
        .collect();
    [
        ("编号", c.number.clone()),
        ("事项", c.item_name.clone()),
        ("申请人", c.applicant.name.clone()),
        ("状态", c.status.label().to_owned()),
        ("补正材料", asked.join("、")),
        ("说明", e.note.clone().unwrap_or_default()),
        (
            "送达方式",
            c.delivery
                .as_ref()
                .map(|d| d.method.label().to_owned())
                .unwrap_or_default(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The notifications one case event raises, ready for [`notify::enqueue`]. `c` is the case as
/// the event left it.
pub fn messages(c: &Case, e: &Event) -> Vec<Message> {
    classify(e)
        .into_iter()
        .map(|event| {
            let mut webhook = serde_json::Map::new();
            webhook.insert("action".into(), e.action.into());
            // No personal data for webhook receivers.
            webhook.insert(
                "case".into(),
                json!({"id": c.id, "number": c.number, "item_id": c.item_id, "item_name": c.item_name,
                       "dept_id": c.dept_id, "region_code": c.region_code, "status": c.status.code(),
                       "status_label": c.status.label()}),
            );
            Message {
                subject_id: Some(c.id),
                subject_number: Some(c.number.clone()),
                region_code: Some(c.region_code.clone()),
                inbox: c.applicant.user_id.map(Recipient::User).into_iter().collect(),
                sms: vec![c.applicant.phone.clone()],
                vars: vars(c, e),
                webhook,
                ..Message::new("services", event)
            }
        })
        .collect()
}

/// Writes the applicant's notifications for a case event, inside the event's own transaction.
/// Called once per event where the case's timeline is written.
pub async fn enqueue(
    outbox: &notify::Outbox,
    tx: &mut Tx,
    c: &Case,
    e: &Event,
    now: i64,
) -> Result<()> {
    for m in messages(c, e) {
        outbox.enqueue(tx, &m, now).await?;
    }
    Ok(())
}

/// The notices as an observer of case changes.
pub struct NoticeObserver {
    outbox: notify::Outbox,
}

impl NoticeObserver {
    pub fn new(db: &kernel::Db) -> Self {
        NoticeObserver {
            outbox: notify::Outbox::of(db),
        }
    }
}

#[async_trait::async_trait]
impl kernel::events::Observer<crate::service::CaseChange> for NoticeObserver {
    async fn observe(&self, tx: &mut Tx, c: &crate::service::CaseChange) -> Result<()> {
        enqueue(&self.outbox, tx, &c.case, &c.event, c.now).await
    }
}
