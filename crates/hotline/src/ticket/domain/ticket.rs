//! The ticket (工单) and its state machine. Every change goes through [`Ticket::apply`], which
//! refuses illegal transitions and returns the events to record.

use kernel::calendar::Calendar;
use kernel::clock::Millis;
use kernel::error::{Checks, Error, Result};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident as $schema:ident { $($variant:ident => $code:literal, $label:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[schema(as = $schema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn code(self) -> &'static str { match self { $($name::$variant => $code),+ } }
            pub fn label(self) -> &'static str { match self { $($name::$variant => $label),+ } }
            pub fn parse(s: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.code() == s || v.label() == s)
            }
        }
    };
    ($(#[$m:meta])* $name:ident { $($variant:ident => $code:literal, $label:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn code(self) -> &'static str { match self { $($name::$variant => $code),+ } }
            pub fn label(self) -> &'static str { match self { $($name::$variant => $label),+ } }
            pub fn parse(s: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.code() == s || v.label() == s)
            }
        }
    };
}

code_enum!(
    /// How the request reached the hotline (named apart from the service hall's channels in
    /// the one OpenAPI document).
    Channel as HotlineChannel {
        Phone => "phone", "电话",
        Web => "web", "网站",
        Wechat => "wechat", "微信",
        App => "app", "APP",
        Letter => "letter", "信件",
        Api => "api", "12345接口",
    }
);

code_enum!(
    /// 工单类型.
    TicketKind {
        Consult => "consult", "咨询",
        Help => "help", "求助",
        Complaint => "complaint", "投诉",
        Report => "report", "举报",
        Suggestion => "suggestion", "建议",
        Praise => "praise", "表扬",
    }
);

code_enum!(
    Urgency {
        Normal => "normal", "普通",
        Urgent => "urgent", "紧急",
    }
);

code_enum!(
    /// Where a ticket is in its life.
    Status {
        Created => "created", "待受理",
        Accepted => "accepted", "已受理",
        PendingDispatch => "pending_dispatch", "待派单",
        Dispatched => "dispatched", "待签收",
        Acknowledged => "acknowledged", "已签收",
        InProgress => "in_progress", "办理中",
        Replied => "replied", "已答复待回访",
        Closed => "closed", "已办结",
        Archived => "archived", "已归档",
        Merged => "merged", "已合并",
        Split => "split", "已拆分",
    }
);

code_enum!(
    /// 回访结果.
    CallbackResult {
        Satisfied => "satisfied", "满意",
        BasicallySatisfied => "basically_satisfied", "基本满意",
        Unsatisfied => "unsatisfied", "不满意",
        Unreached => "unreached", "未接通",
    }
);

code_enum!(
    /// How a closed ticket was resolved.
    Resolution {
        AnsweredNow => "answered_now", "即时解答",
        Replied => "replied", "部门答复",
        FollowedParent => "followed_parent", "随主工单办结",
    }
);

code_enum!(
    /// 亮牌: deadline warning.
    Card as TicketCard {
        None => "none", "正常",
        Yellow => "yellow", "黄牌",
        Red => "red", "红牌",
    }
);

impl Status {
    /// Open: somebody still has to act.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Closed | Status::Archived | Status::Merged)
    }
    /// A department holds the ticket.
    pub fn with_department(self) -> bool {
        matches!(
            self,
            Status::Dispatched | Status::Acknowledged | Status::InProgress
        )
    }
}

/// Time limits for one ticket kind and urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeadlinePolicy {
    /// Working minutes to acknowledge (签收) after dispatch.
    pub ack_minutes: i64,
    /// Working days to reply (答复) after dispatch.
    pub reply_days: u32,
    /// A yellow card this many working minutes before a deadline.
    pub yellow_minutes: i64,
}

impl DeadlinePolicy {
    /// The default 12345 limits: acknowledge within 2 working hours (30 minutes if urgent);
    /// reply within 1 working day if urgent, else by kind.
    pub fn default_for(kind: TicketKind, urgency: Urgency) -> DeadlinePolicy {
        if urgency == Urgency::Urgent {
            return DeadlinePolicy {
                ack_minutes: 30,
                reply_days: 1,
                yellow_minutes: 120,
            };
        }
        let reply_days = match kind {
            TicketKind::Consult => 2,
            TicketKind::Help | TicketKind::Praise => 3,
            TicketKind::Complaint | TicketKind::Report => 5,
            TicketKind::Suggestion => 10,
        };
        DeadlinePolicy {
            ack_minutes: 120,
            reply_days,
            yellow_minutes: 7 * 60,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Caller {
    pub name: Option<String>,
    pub phone: Option<String>,
    /// The caller wants a reply (and so a callback).
    pub wants_reply: bool,
    pub anonymous: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Location {
    pub address: Option<String>,
    /// Region code down to the community (6 or 12 digits).
    pub region_code: Option<String>,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PendingExtension {
    pub days: u32,
    pub reason: String,
    pub requested_at: Millis,
    pub dept_id: Option<i64>,
}

/// The ticket as the state machine sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Ticket {
    pub id: i64,
    pub number: String,
    pub channel: Channel,
    pub kind: TicketKind,
    pub urgency: Urgency,
    pub status: Status,
    pub caller: Caller,
    pub location: Location,
    pub title: String,
    pub content: String,
    pub category_id: Option<i64>,
    /// Answers to the category's extra questions, by question code.
    #[schema(value_type = Object)]
    pub answers: serde_json::Value,
    pub main_dept_id: Option<i64>,
    pub co_dept_ids: Vec<i64>,
    pub ack_due: Option<Millis>,
    pub reply_due: Option<Millis>,
    pub paused_since: Option<Millis>,
    pub card: Card,
    pub reply: Option<String>,
    pub replied_at: Option<Millis>,
    pub resolution: Option<Resolution>,
    pub kb_article_id: Option<i64>,
    pub satisfaction: Option<CallbackResult>,
    pub callback_attempts: i64,
    pub reopen_count: i64,
    pub return_count: i64,
    pub pending_extension: Option<PendingExtension>,
    pub supervised: bool,
    /// Set when merged into another ticket (the parent).
    pub parent_id: Option<i64>,
    /// Set on sub-tickets created by a split.
    pub split_from_id: Option<i64>,
    pub created_at: Millis,
    pub accepted_at: Option<Millis>,
    pub dispatched_at: Option<Millis>,
    pub acknowledged_at: Option<Millis>,
    pub closed_at: Option<Millis>,
    pub archived_at: Option<Millis>,
    pub updated_at: Millis,
}

/// Everything that can happen to a ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = TicketAction)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Accept,
    AnswerNow {
        answer: String,
        kb_article_id: Option<i64>,
    },
    SubmitForDispatch,
    Dispatch {
        main_dept_id: i64,
        co_dept_ids: Vec<i64>,
    },
    /// 撤回派单: the dispatcher takes back a dispatch that no department has signed for yet.
    Recall {
        reason: String,
    },
    Acknowledge,
    Start,
    Return {
        reason: String,
    },
    RequestExtension {
        days: u32,
        reason: String,
    },
    DecideExtension {
        approve: bool,
        note: String,
    },
    Pause {
        reason: String,
    },
    Resume,
    Reply {
        text: String,
    },
    Callback {
        result: CallbackResult,
        note: String,
        reopen: bool,
    },
    Reopen {
        dept_id: Option<i64>,
        reason: String,
    },
    Supervise {
        note: String,
    },
    Close {
        note: String,
    },
    Archive,
    MergeInto {
        parent_id: i64,
    },
    FollowParent {
        reply: String,
        closed: bool,
    },
    MarkSplit,
}

impl Action {
    pub fn code(&self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::AnswerNow { .. } => "answer_now",
            Action::SubmitForDispatch => "submit_for_dispatch",
            Action::Dispatch { .. } => "dispatch",
            Action::Recall { .. } => "recall",
            Action::Acknowledge => "acknowledge",
            Action::Start => "start",
            Action::Return { .. } => "return",
            Action::RequestExtension { .. } => "request_extension",
            Action::DecideExtension { .. } => "decide_extension",
            Action::Pause { .. } => "pause",
            Action::Resume => "resume",
            Action::Reply { .. } => "reply",
            Action::Callback { .. } => "callback",
            Action::Reopen { .. } => "reopen",
            Action::Supervise { .. } => "supervise",
            Action::Close { .. } => "close",
            Action::Archive => "archive",
            Action::MergeInto { .. } => "merge",
            Action::FollowParent { .. } => "follow_parent",
            Action::MarkSplit => "split",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Action::Accept => "受理",
            Action::AnswerNow { .. } => "即时解答",
            Action::SubmitForDispatch => "转派单",
            Action::Dispatch { .. } => "派单",
            Action::Recall { .. } => "撤回派单",
            Action::Acknowledge => "签收",
            Action::Start => "开始办理",
            Action::Return { .. } => "退单",
            Action::RequestExtension { .. } => "申请延期",
            Action::DecideExtension { approve: true, .. } => "批准延期",
            Action::DecideExtension { approve: false, .. } => "驳回延期",
            Action::Pause { .. } => "挂起（等待市民）",
            Action::Resume => "恢复办理",
            Action::Reply { .. } => "答复",
            Action::Callback { .. } => "回访",
            Action::Reopen { .. } => "重办",
            Action::Supervise { .. } => "督办",
            Action::Close { .. } => "办结",
            Action::Archive => "归档",
            Action::MergeInto { .. } => "合并",
            Action::FollowParent { .. } => "随主工单答复",
            Action::MarkSplit => "拆分",
        }
    }
}

/// What one applied action did, for the timeline and the audit chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub action: &'static str,
    pub from: Status,
    pub to: Status,
    pub note: Option<String>,
    pub dept_id: Option<i64>,
    pub data: serde_json::Value,
}

/// The callback attempts after which an unreachable caller's ticket is closed.
pub const MAX_CALLBACK_ATTEMPTS: i64 = 3;
/// Longest extension a department may ask for at once, in working days.
pub const MAX_EXTENSION_DAYS: u32 = 30;

fn illegal(action: &Action, status: Status) -> Error {
    Error::IllegalTransition {
        detail: format!("工单当前状态为“{}”，不能{}", status.label(), action.label()),
    }
}

fn required_text(field: &str, label: &str, text: &str, max: usize) -> Result<String> {
    let mut c = Checks::new();
    c.text(field, label, text, max);
    c.finish()?;
    Ok(text.trim().to_owned())
}

impl Ticket {
    /// Applies `action` at `now`, or refuses it without changing anything.
    pub fn apply(
        &mut self,
        action: &Action,
        now: Millis,
        cal: &Calendar,
        policy: DeadlinePolicy,
    ) -> Result<Event> {
        let from = self.status;
        let mut next = self.clone();
        let mut note = None;
        let mut dept_id = None;
        let mut data = serde_json::Value::Null;
        use Status::*;
        match action {
            Action::Accept => {
                if from != Created {
                    return Err(illegal(action, from));
                }
                next.status = Accepted;
                next.accepted_at = Some(now);
            }
            Action::AnswerNow {
                answer,
                kb_article_id,
            } => {
                if !matches!(from, Created | Accepted) {
                    return Err(illegal(action, from));
                }
                let answer = required_text("answer", "解答内容", answer, 4000)?;
                next.accepted_at = next.accepted_at.or(Some(now));
                next.reply = Some(answer.clone());
                next.replied_at = Some(now);
                next.kb_article_id = *kb_article_id;
                next.resolution = Some(Resolution::AnsweredNow);
                next.status = Closed;
                next.closed_at = Some(now);
                note = Some(answer);
                data = serde_json::json!({"kb_article_id": kb_article_id});
            }
            Action::SubmitForDispatch => {
                if !matches!(from, Created | Accepted) {
                    return Err(illegal(action, from));
                }
                next.accepted_at = next.accepted_at.or(Some(now));
                next.status = PendingDispatch;
            }
            Action::Dispatch {
                main_dept_id,
                co_dept_ids,
            } => {
                if from != PendingDispatch {
                    return Err(illegal(action, from));
                }
                let mut co: Vec<i64> = co_dept_ids
                    .iter()
                    .copied()
                    .filter(|d| d != main_dept_id)
                    .collect();
                co.sort_unstable();
                co.dedup();
                next.main_dept_id = Some(*main_dept_id);
                next.co_dept_ids = co.clone();
                next.status = Dispatched;
                next.dispatched_at = Some(now);
                next.acknowledged_at = None;
                next.ack_due = Some(cal.add_working_minutes(now, policy.ack_minutes));
                next.reply_due = Some(cal.add_working_days(now, policy.reply_days));
                next.pending_extension = None;
                next.paused_since = None;
                next.card = Card::None;
                dept_id = Some(*main_dept_id);
                data = serde_json::json!({"main_dept_id": main_dept_id, "co_dept_ids": co, "ack_due": next.ack_due, "reply_due": next.reply_due});
            }
            Action::Recall { reason } => {
                // Once a department has signed for it, the ticket is theirs: they return it.
                if from != Dispatched {
                    return Err(illegal(action, from));
                }
                note = Some(required_text("reason", "撤回理由", reason, 1000)?);
                dept_id = self.main_dept_id;
                next.status = PendingDispatch;
                next.main_dept_id = None;
                next.co_dept_ids.clear();
                next.dispatched_at = None;
                next.ack_due = None;
                next.reply_due = None;
                next.card = Card::None;
            }
            Action::Acknowledge => {
                if from != Dispatched {
                    return Err(illegal(action, from));
                }
                next.status = Acknowledged;
                next.acknowledged_at = Some(now);
                dept_id = self.main_dept_id;
            }
            Action::Start => {
                if from != Acknowledged {
                    return Err(illegal(action, from));
                }
                next.status = InProgress;
                dept_id = self.main_dept_id;
            }
            Action::Return { reason } => {
                if !from.with_department() {
                    return Err(illegal(action, from));
                }
                note = Some(required_text("reason", "退单理由", reason, 1000)?);
                dept_id = self.main_dept_id;
                next.status = PendingDispatch;
                next.main_dept_id = None;
                next.co_dept_ids.clear();
                next.ack_due = None;
                next.reply_due = None;
                next.pending_extension = None;
                next.paused_since = None;
                next.card = Card::None;
                next.return_count += 1;
            }
            Action::RequestExtension { days, reason } => {
                if !matches!(from, Acknowledged | InProgress) {
                    return Err(illegal(action, from));
                }
                if self.pending_extension.is_some() {
                    return Err(Error::IllegalTransition {
                        detail: "已有一项延期申请待审批".into(),
                    });
                }
                if *days == 0 || *days > MAX_EXTENSION_DAYS {
                    return Err(Error::field(
                        "days",
                        "out_of_range",
                        format!("延期天数应为 1–{MAX_EXTENSION_DAYS} 个工作日"),
                    ));
                }
                let reason = required_text("reason", "延期理由", reason, 1000)?;
                next.pending_extension = Some(PendingExtension {
                    days: *days,
                    reason: reason.clone(),
                    requested_at: now,
                    dept_id: self.main_dept_id,
                });
                note = Some(reason);
                dept_id = self.main_dept_id;
                data = serde_json::json!({"days": days});
            }
            Action::DecideExtension { approve, note: n } => {
                let Some(ext) = &self.pending_extension else {
                    return Err(Error::IllegalTransition {
                        detail: "没有待审批的延期申请".into(),
                    });
                };
                if !from.with_department() {
                    return Err(illegal(action, from));
                }
                if *approve {
                    let due = self.reply_due.unwrap_or(now);
                    next.reply_due = Some(cal.add_working_days(due, ext.days));
                }
                next.pending_extension = None;
                note = Some(n.trim().to_owned()).filter(|s| !s.is_empty());
                data = serde_json::json!({"approve": approve, "days": ext.days, "reply_due": next.reply_due});
            }
            Action::Pause { reason } => {
                if !matches!(from, Acknowledged | InProgress) || self.paused_since.is_some() {
                    return Err(illegal(action, from));
                }
                note = Some(required_text("reason", "挂起理由", reason, 1000)?);
                next.paused_since = Some(now);
            }
            Action::Resume => {
                let Some(since) = self.paused_since else {
                    return Err(illegal(action, from));
                };
                // The time spent waiting on the citizen does not count against the department.
                let waited = cal.working_minutes_between(since, now);
                if waited > 0 {
                    next.ack_due = self.ack_due.map(|d| {
                        if self.acknowledged_at.is_none() {
                            cal.add_working_minutes(d, waited)
                        } else {
                            d
                        }
                    });
                    next.reply_due = self.reply_due.map(|d| cal.add_working_minutes(d, waited));
                }
                next.paused_since = None;
                data = serde_json::json!({"paused_working_minutes": waited, "reply_due": next.reply_due});
            }
            Action::Reply { text } => {
                if !matches!(from, Acknowledged | InProgress) {
                    return Err(illegal(action, from));
                }
                let text = required_text("text", "答复内容", text, 8000)?;
                if let Some(gap) = crate::kb::domain::UNFILLED
                    .iter()
                    .find(|g| text.contains(*g))
                {
                    return Err(Error::field(
                        "text",
                        "unfilled_template",
                        format!("答复中还有模板待填写的“{gap}”：请写明核查情况和处理结果后再提交"),
                    ));
                }
                next.reply = Some(text.clone());
                next.replied_at = Some(now);
                next.paused_since = None;
                next.pending_extension = None;
                next.resolution = Some(Resolution::Replied);
                dept_id = self.main_dept_id;
                note = Some(text);
                // A caller who wants no reply, or is anonymous, gets no callback.
                if !self.caller.wants_reply || self.caller.anonymous || self.caller.phone.is_none()
                {
                    next.status = Closed;
                    next.closed_at = Some(now);
                } else {
                    next.status = Replied;
                }
                next.card = Card::None;
            }
            Action::Callback {
                result,
                note: n,
                reopen,
            } => {
                if from != Replied {
                    return Err(illegal(action, from));
                }
                next.callback_attempts += 1;
                note = Some(n.trim().to_owned()).filter(|s| !s.is_empty());
                data = serde_json::json!({"result": result.code(), "attempt": next.callback_attempts, "reopen": reopen});
                match result {
                    CallbackResult::Unreached => {
                        if next.callback_attempts >= MAX_CALLBACK_ATTEMPTS {
                            next.status = Closed;
                            next.closed_at = Some(now);
                            next.satisfaction = Some(CallbackResult::Unreached);
                        }
                    }
                    CallbackResult::Unsatisfied if *reopen => {
                        next.satisfaction = Some(*result);
                        Self::reopen_into(&mut next, self.main_dept_id, now, cal, policy)?;
                        dept_id = next.main_dept_id;
                    }
                    other => {
                        next.satisfaction = Some(*other);
                        next.status = Closed;
                        next.closed_at = Some(now);
                    }
                }
            }
            Action::Reopen { dept_id: d, reason } => {
                if !matches!(from, Replied | Closed)
                    || self.resolution == Some(Resolution::FollowedParent)
                {
                    return Err(illegal(action, from));
                }
                if self.resolution == Some(Resolution::AnsweredNow) && d.is_none() {
                    return Err(Error::field(
                        "dept_id",
                        "required",
                        "即时解答的工单重办时须指定承办单位",
                    ));
                }
                note = Some(required_text("reason", "重办理由", reason, 1000)?);
                Self::reopen_into(&mut next, d.or(self.main_dept_id), now, cal, policy)?;
                dept_id = next.main_dept_id;
            }
            Action::Supervise { note: n } => {
                if !from.is_open() {
                    return Err(illegal(action, from));
                }
                note = Some(required_text("note", "督办意见", n, 2000)?);
                next.supervised = true;
            }
            Action::Close { note: n } => {
                if from != Replied {
                    return Err(illegal(action, from));
                }
                next.status = Closed;
                next.closed_at = Some(now);
                note = Some(n.trim().to_owned()).filter(|s| !s.is_empty());
            }
            Action::Archive => {
                if from != Closed {
                    return Err(illegal(action, from));
                }
                next.status = Archived;
                next.archived_at = Some(now);
            }
            Action::MergeInto { parent_id } => {
                if !matches!(
                    from,
                    Created | Accepted | PendingDispatch | Dispatched | Acknowledged | InProgress
                ) {
                    return Err(illegal(action, from));
                }
                if *parent_id == self.id {
                    return Err(Error::field(
                        "parent_id",
                        "self_merge",
                        "不能把工单合并到它自己",
                    ));
                }
                next.parent_id = Some(*parent_id);
                next.status = Merged;
                next.ack_due = None;
                next.reply_due = None;
                next.card = Card::None;
                data = serde_json::json!({"parent_id": parent_id});
            }
            Action::FollowParent { reply, closed } => {
                if from != Merged {
                    return Err(illegal(action, from));
                }
                next.reply = Some(reply.clone());
                next.replied_at = Some(now);
                next.resolution = Some(Resolution::FollowedParent);
                next.status = Closed;
                next.closed_at = Some(now);
                data = serde_json::json!({"parent_closed": closed});
            }
            Action::MarkSplit => {
                if from != PendingDispatch {
                    return Err(illegal(action, from));
                }
                next.status = Split;
            }
        }
        next.updated_at = now;
        *self = next;
        Ok(Event {
            action: action.code(),
            from,
            to: self.status,
            note,
            dept_id,
            data,
        })
    }

    fn reopen_into(
        next: &mut Ticket,
        dept: Option<i64>,
        now: Millis,
        cal: &Calendar,
        policy: DeadlinePolicy,
    ) -> Result<()> {
        let Some(dept) = dept else {
            return Err(Error::field("dept_id", "required", "请指定重办的承办单位"));
        };
        next.status = Status::Dispatched;
        next.main_dept_id = Some(dept);
        // A co-handler that becomes the main department is no longer also a co-handler.
        next.co_dept_ids.retain(|c| *c != dept);
        next.reopen_count += 1;
        next.dispatched_at = Some(now);
        next.acknowledged_at = None;
        next.ack_due = Some(cal.add_working_minutes(now, policy.ack_minutes));
        next.reply_due = Some(cal.add_working_days(now, policy.reply_days));
        next.closed_at = None;
        next.reply = None;
        next.replied_at = None;
        next.resolution = None;
        next.callback_attempts = 0;
        next.card = Card::None;
        Ok(())
    }

    /// The card a ticket earns at `now`: red past a deadline; yellow within the last quarter of
    /// the acknowledge time, or within `yellow_minutes` of the reply deadline.
    pub fn card_at(&self, now: Millis, cal: &Calendar, policy: DeadlinePolicy) -> Card {
        if !self.status.with_department() || self.paused_since.is_some() {
            return Card::None;
        }
        let grade = |due: Option<Millis>, warn: i64| match due {
            Some(d) => match kernel::deadline::grade(cal, now, d, warn) {
                kernel::deadline::Grade::Red => Card::Red,
                kernel::deadline::Grade::Yellow => Card::Yellow,
                kernel::deadline::Grade::Fine => Card::None,
            },
            None => Card::None,
        };
        let ack = if self.status == Status::Dispatched {
            grade(self.ack_due, policy.ack_minutes / 4)
        } else {
            Card::None
        };
        ack.max(grade(self.reply_due, policy.yellow_minutes))
    }
}

/// A new ticket as received, before it has a number.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    pub channel: Channel,
    pub kind: TicketKind,
    #[serde(default = "normal")]
    pub urgency: Urgency,
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
    #[serde(default = "yes")]
    pub wants_reply: bool,
    #[serde(default)]
    pub anonymous: bool,
    pub address: Option<String>,
    pub region_code: Option<String>,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub title: String,
    pub content: String,
    pub category_id: Option<i64>,
    /// Answers to the category's extra questions, by question code.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub answers: serde_json::Map<String, serde_json::Value>,
    /// Accept at once (an operator taking a call); otherwise the ticket waits in 待受理.
    #[serde(default)]
    pub accept: bool,
}

fn normal() -> Urgency {
    Urgency::Normal
}
fn yes() -> bool {
    true
}

impl NewTicket {
    pub fn validate(&self) -> Result<()> {
        let mut c = Checks::new();
        c.text("title", "标题", &self.title, 200);
        c.text("content", "内容", &self.content, 4000);
        if let Some(p) = self.caller_phone.as_deref().filter(|p| !p.is_empty()) {
            let ok = (5..=20).contains(&p.len())
                && p.chars()
                    .all(|ch| ch.is_ascii_digit() || ch == '-' || ch == '+');
            c.check(
                ok,
                "caller_phone",
                "invalid_phone",
                "来电号码应为 5–20 位数字",
            );
        }
        if self.wants_reply
            && !self.anonymous
            && self.caller_phone.as_deref().unwrap_or("").is_empty()
        {
            c.add("caller_phone", "required", "需要答复的工单请填写联系电话");
        }
        if let Some(n) = &self.caller_name {
            c.check(
                n.chars().count() <= 50,
                "caller_name",
                "too_long",
                "姓名不能超过 50 个字",
            );
        }
        if let Some(a) = &self.address {
            c.check(
                a.chars().count() <= 300,
                "address",
                "too_long",
                "地址不能超过 300 个字",
            );
        }
        if let Some(code) = self.region_code.as_deref().filter(|s| !s.is_empty()) {
            if let Err(m) = kernel::codes::check_region_code(code) {
                c.add("region_code", "invalid_region_code", m);
            }
        }
        match (self.lng, self.lat) {
            (Some(x), Some(y)) => {
                c.check(
                    (-180.0..=180.0).contains(&x),
                    "lng",
                    "out_of_range",
                    "经度应在 -180 到 180 之间",
                );
                c.check(
                    (-90.0..=90.0).contains(&y),
                    "lat",
                    "out_of_range",
                    "纬度应在 -90 到 90 之间",
                );
            }
            (None, None) => {}
            (None, _) => c.add("lng", "required", "经纬度须同时填写"),
            (_, None) => c.add("lat", "required", "经纬度须同时填写"),
        }
        c.finish()
    }
}

/// A ticket number: `A市12345-20250314-000123`, unique per day.
pub fn ticket_number(city: &str, day: chrono::NaiveDate, seq: i64) -> String {
    format!("{city}12345-{}-{seq:06}", day.format("%Y%m%d"))
}

/// The ticket number meant by `typed`, as `webcore::lookup::normalize` leaves it (upper-case,
/// half-width, no spaces or dashes), for a city whose name `city` is.
///
/// A number is `<city>12345-<yyyymmdd>-<seq:06>`. Its **city prefix** is the city's name from the
/// configuration (`A市`), the same in every number of this installation, so it tells nothing and
/// may be left out; so may the hotline's `12345` after it. Accepted: `A市12345…`, `12345…`
/// and the bare date + sequence (14 digits); the dashes are put back here. A number with
/// another city's name, a date that is no date or digits of another length is no ticket
/// number (`None`).
pub fn ticket_number_typed(city: &str, typed: &str) -> Option<String> {
    let city_key: String = city
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect();
    let rest = if city_key.is_empty() {
        typed
    } else {
        typed.strip_prefix(city_key.as_str()).unwrap_or(typed)
    };
    let rest = match rest.strip_prefix("12345") {
        Some(r) if r.len() == 14 => r,
        _ => rest,
    };
    if rest.len() != 14 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let day = chrono::NaiveDate::parse_from_str(&rest[..8], "%Y%m%d").ok()?;
    let seq: i64 = rest[8..].parse().ok()?;
    Some(ticket_number(city, day, seq))
}

#[cfg(test)]
mod lookup_tests {
    use super::*;

    #[test]
    fn a_typed_number_with_or_without_the_city_prefix() {
        let want = Some("A市12345-20260316-000042".to_owned());
        for typed in [
            "A市1234520260316000042",
            "1234520260316000042",
            "20260316000042",
        ] {
            assert_eq!(ticket_number_typed("A市", typed), want, "{typed}");
        }
        for not in [
            "B市1234520260316000042",
            "A市123452026031600004",
            "A市1234520261316000042",
            "BJ2026031600042",
            "A市12345X0260316000042",
        ] {
            assert_eq!(ticket_number_typed("A市", not), None, "{not}");
        }
        // A city named with Latin letters is compared upper-case, written as configured.
        assert_eq!(
            ticket_number_typed("a市", "A市20260316000042").as_deref(),
            Some("a市12345-20260316-000042")
        );
    }
}
