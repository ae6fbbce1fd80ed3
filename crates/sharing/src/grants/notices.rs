//! 申请用数 notifications (events registered by migration `0006_notify`): who hears of each
//! step and with which template values. Pure: the service enqueues the messages in the
//! transaction of the change that causes them.

use super::domain::{Grant, Level, Request};
use kernel::Role;
use notify::{Message, Recipient};

/// A grant's consuming department is told this many days before it expires.
pub const EXPIRY_NOTICE_DAYS: i64 = 7;

pub(crate) fn day(ms: i64) -> String {
    kernel::clock::to_china(ms).format("%Y-%m-%d").to_string()
}

fn minute(ms: i64) -> String {
    kernel::clock::to_china(ms)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn message(event: &str, subject: i64, inbox: Vec<Recipient>, vars: &[(&str, String)]) -> Message {
    let mut m = Message::new("sharing", event);
    m.subject_id = Some(subject);
    m.inbox = inbox;
    m.vars = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    m
}

/// Who decides at `level`: the provider's data officers, its chief data officers, or the
/// bureau's data officers (nobody while no bureau is named).
pub fn approvers(level: Level, provider: i64, bureau: Option<i64>) -> Vec<Recipient> {
    let (role, dept) = match level {
        Level::ProviderOfficer => (Role::DataOfficer, Some(provider)),
        Level::ChiefOfficer => (Role::ChiefDataOfficer, Some(provider)),
        Level::Bureau => match bureau {
            Some(b) => (Role::DataOfficer, Some(b)),
            None => return vec![],
        },
    };
    vec![Recipient::Role { role, dept }]
}

/// The person who sent the request (its audit name `user:<id>`); a request sent otherwise
/// (command line, system) goes to the consuming department's data officers.
pub fn requester(r: &Request) -> Vec<Recipient> {
    match r
        .requester
        .strip_prefix("user:")
        .and_then(|id| id.parse().ok())
    {
        Some(id) => vec![Recipient::User(id)],
        None => consumer(r.consumer_dept_id),
    }
}

/// The consuming department's data officers.
pub fn consumer(dept: i64) -> Vec<Recipient> {
    vec![Recipient::Role {
        role: Role::DataOfficer,
        dept: Some(dept),
    }]
}

pub fn pending(
    r: &Request,
    resource: &str,
    consumer_name: &str,
    level: Level,
    due: i64,
    bureau: Option<i64>,
) -> Message {
    message(
        "sharing.request_pending",
        r.id,
        approvers(level, r.provider_dept_id, bureau),
        &[
            ("资源", resource.to_owned()),
            ("申请部门", consumer_name.to_owned()),
            ("用途", r.purpose.chars().take(100).collect()),
            ("审批环节", level.label().to_owned()),
            ("截止时间", minute(due)),
        ],
    )
}

pub fn approved(r: &Request, resource: &str, provider_name: &str, expires_at: i64) -> Message {
    message(
        "sharing.request_approved",
        r.id,
        requester(r),
        &[
            ("资源", resource.to_owned()),
            ("提供部门", provider_name.to_owned()),
            ("授权期限", day(expires_at)),
        ],
    )
}

pub fn refused(r: &Request, resource: &str, stage: &str, reason: &str) -> Message {
    message(
        "sharing.request_refused",
        r.id,
        requester(r),
        &[
            ("资源", resource.to_owned()),
            ("环节", stage.to_owned()),
            ("理由", reason.to_owned()),
        ],
    )
}

pub fn expiring(g: &Grant, resource: &str, now: i64) -> Message {
    let days = ((g.expires_at - now).max(0) + 86_399_999) / 86_400_000;
    message(
        "sharing.grant_expiring",
        g.id,
        consumer(g.consumer_dept_id),
        &[
            ("资源", resource.to_owned()),
            ("使用系统", g.system.clone()),
            ("到期日", day(g.expires_at)),
            ("剩余天数", days.to_string()),
        ],
    )
}

pub fn revoked(g: &Grant, resource: &str) -> Message {
    message(
        "sharing.grant_revoked",
        g.id,
        consumer(g.consumer_dept_id),
        &[
            ("资源", resource.to_owned()),
            ("使用系统", g.system.clone()),
            ("理由", g.revoke_reason.clone()),
        ],
    )
}
