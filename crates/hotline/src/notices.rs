//! Which ticket events people hear of, and how (热线通知). The sending itself — inboxes,
//! templates, SMS, e-mail, webhooks, retries — is the `notify` module's; this file only says
//! which ticket events raise which notification events, who receives them and the ticket's
//! template values. The events and their default templates are registered by the hotline's
//! migrations (0003, moved into `notify_*` by 0008).

use crate::domain::{Event, Status, Ticket};
use kernel::error::Result;
use kernel::{Role, Tx};
use notify::{EventKind, Message, Recipient};
use serde_json::json;

pub const CREATED: &str = "ticket.created";
pub const DISPATCHED: &str = "ticket.dispatched";
pub const ACKNOWLEDGED: &str = "ticket.acknowledged";
pub const OVERDUE: &str = "ticket.overdue";
pub const REPLIED: &str = "ticket.replied";
pub const REOPENED: &str = "ticket.reopened";
pub const CALLBACK_DUE: &str = "ticket.callback_due";

/// Placeholders a ticket template may use: 工单编号, 工单标题, 承办单位, 答复时限, 签收时限,
/// 工单状态, 答复内容.
pub const PLACEHOLDERS: &[&str] = &["编号", "标题", "单位", "时限", "签收时限", "状态", "答复"];

const fn kind(code: &'static str, label: &'static str) -> EventKind {
    EventKind {
        code,
        label,
        placeholders: PLACEHOLDERS,
    }
}

/// Every event a ticket notification can be about, in the order they happen (as registered in
/// `notify_events` by migration 0008).
pub const EVENTS: &[EventKind] = &[
    kind(CREATED, "工单登记"),
    kind(DISPATCHED, "派单"),
    kind(ACKNOWLEDGED, "签收"),
    kind(OVERDUE, "超时红牌"),
    kind(REPLIED, "答复市民"),
    kind(REOPENED, "重办"),
    kind(CALLBACK_DUE, "待回访"),
];

pub fn event_label(code: &str) -> Option<&'static str> {
    EVENTS.iter().find(|e| e.code == code).map(|e| e.label)
}

/// The notification events one ticket event raises (most raise none).
pub fn classify(e: &Event) -> Vec<&'static str> {
    let mut v = Vec::new();
    match e.action {
        "create" => v.push(CREATED),
        "dispatch" => v.push(DISPATCHED),
        "acknowledge" => v.push(ACKNOWLEDGED),
        // The card sweep writes `card` events; only red means a deadline has passed.
        "card" if e.data.get("card").and_then(|c| c.as_str()) == Some("red") => v.push(OVERDUE),
        // Merged tickets receive their parent's reply: their callers hear of it too.
        "reply" | "follow_parent" => v.push(REPLIED),
        "reopen" => v.push(REOPENED),
        // An unsatisfied callback may send the ticket back to the department.
        "callback" if e.to == Status::Dispatched => v.push(REOPENED),
        _ => {}
    }
    if e.to == Status::Replied && e.from != Status::Replied {
        v.push(CALLBACK_DUE);
    }
    v
}

/// In-app recipients: a role in a department, or without one every holder of the role whose
/// region covers the ticket.
fn inboxes(event: &str, t: &Ticket) -> Vec<Recipient> {
    let handlers = |with_co: bool| {
        let mut v: Vec<Recipient> = t
            .main_dept_id
            .map(|d| Recipient::Role {
                role: Role::Handler,
                dept: Some(d),
            })
            .into_iter()
            .collect();
        if with_co {
            v.extend(t.co_dept_ids.iter().map(|d| Recipient::Role {
                role: Role::Handler,
                dept: Some(*d),
            }));
        }
        v
    };
    let everyone = |role| Recipient::Role { role, dept: None };
    match event {
        // A ticket an operator accepted while taking the call needs nobody's attention.
        CREATED if t.status == Status::Created => vec![everyone(Role::Operator)],
        DISPATCHED => handlers(true),
        ACKNOWLEDGED => vec![everyone(Role::Dispatcher)],
        OVERDUE => {
            let mut v = handlers(false);
            v.push(everyone(Role::Supervisor));
            v
        }
        REOPENED => handlers(false),
        CALLBACK_DUE => vec![everyone(Role::Operator)],
        _ => vec![],
    }
}

/// The caller's phone for an SMS, if this event goes to the caller.
fn sms_to(event: &str, t: &Ticket) -> Option<String> {
    let phone = t.caller.phone.clone().filter(|p| !p.trim().is_empty())?;
    match event {
        CREATED => Some(phone),
        // A caller who asked for no reply gets none.
        REPLIED if t.caller.wants_reply => Some(phone),
        _ => None,
    }
}

/// Departments that get an e-mail (at the addresses set for them) for this event.
fn email_depts(event: &str, t: &Ticket) -> Vec<i64> {
    match event {
        DISPATCHED => t
            .main_dept_id
            .into_iter()
            .chain(t.co_dept_ids.iter().copied())
            .collect(),
        OVERDUE | REOPENED => t.main_dept_id.into_iter().collect(),
        _ => vec![],
    }
}

fn vars(t: &Ticket, dept_name: Option<&str>) -> Vec<(String, String)> {
    let when = |m: Option<i64>| {
        m.map(kernel::clock::format_minute)
            .unwrap_or_else(|| "—".into())
    };
    [
        ("编号", t.number.clone()),
        ("标题", t.title.clone()),
        ("单位", dept_name.unwrap_or("—").to_owned()),
        ("时限", when(t.reply_due)),
        ("签收时限", when(t.ack_due)),
        ("状态", t.status.label().to_owned()),
        ("答复", t.reply.clone().unwrap_or_default()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// What a webhook receiver gets besides the event: the ticket without the caller's personal data.
fn webhook_fields(
    t: &Ticket,
    e: &Event,
    dept_name: Option<&str>,
) -> serde_json::Map<String, serde_json::Value> {
    // The card sweep records its event with the ticket as read before the change.
    let card = match e.action {
        "card" => e.data.get("card").and_then(|c| c.as_str()),
        _ => None,
    }
    .unwrap_or(t.card.code());
    let mut o = serde_json::Map::new();
    o.insert("action".into(), e.action.into());
    o.insert(
        "ticket".into(),
        json!({
            "id": t.id,
            "number": t.number,
            "title": t.title,
            "kind": t.kind.code(),
            "urgency": t.urgency.code(),
            "status": t.status.code(),
            "status_label": t.status.label(),
            "main_dept_id": t.main_dept_id,
            "main_dept_name": dept_name,
            "co_dept_ids": t.co_dept_ids,
            "ack_due": t.ack_due,
            "reply_due": t.reply_due,
            "card": card,
            "region_code": t.location.region_code,
            "created_at": t.created_at,
        }),
    );
    o
}

/// The notifications one ticket event raises, ready for [`notify::enqueue`].
pub fn messages(t: &Ticket, e: &Event, dept_name: Option<&str>) -> Vec<Message> {
    classify(e)
        .into_iter()
        .map(|event| Message {
            subject_id: Some(t.id),
            subject_number: Some(t.number.clone()),
            region_code: t.location.region_code.clone(),
            inbox: inboxes(event, t),
            sms: sms_to(event, t).into_iter().collect(),
            email_depts: email_depts(event, t),
            vars: vars(t, dept_name),
            webhook: webhook_fields(t, e, dept_name),
            ..Message::new("hotline", event)
        })
        .collect()
}

/// Writes the notifications and deliveries a ticket event causes, inside the event's own
/// transaction, through the database's outbox. Called once per event by the ticket observers.
pub async fn enqueue(
    outbox: &notify::Outbox,
    tx: &mut Tx,
    t: &Ticket,
    e: &Event,
    now: i64,
) -> Result<()> {
    if classify(e).is_empty() {
        return Ok(());
    }
    let dept_name = match t.main_dept_id {
        Some(d) => org::OrgService::department_name_in(tx, d).await?,
        None => None,
    };
    for m in messages(t, e, dept_name.as_deref()) {
        outbox.enqueue(tx, &m, now).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_map_to_notifications() {
        let ev = |action: &'static str, from: Status, to: Status, data: serde_json::Value| Event {
            action,
            from,
            to,
            note: None,
            dept_id: None,
            data,
        };
        use Status::*;
        let n = serde_json::Value::Null;
        assert_eq!(
            classify(&ev("create", Created, Created, n.clone())),
            vec![CREATED]
        );
        assert_eq!(
            classify(&ev("reply", InProgress, Replied, n.clone())),
            vec![REPLIED, CALLBACK_DUE]
        );
        assert_eq!(
            classify(&ev("reply", InProgress, Closed, n.clone())),
            vec![REPLIED]
        );
        assert_eq!(
            classify(&ev("card", Dispatched, Dispatched, json!({"card": "red"}))),
            vec![OVERDUE]
        );
        assert!(classify(&ev(
            "card",
            Dispatched,
            Dispatched,
            json!({"card": "yellow"})
        ))
        .is_empty());
        assert_eq!(
            classify(&ev("callback", Replied, Dispatched, n.clone())),
            vec![REOPENED]
        );
        assert!(classify(&ev("accept", Created, Accepted, n)).is_empty());
    }
}
