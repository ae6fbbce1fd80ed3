//! Ticket types and rules. Pure: no database, no HTTP; time comes in as arguments.

pub mod category;
pub mod ticket;

pub use category::*;
pub use ticket::*;

/// One line of a ticket's timeline.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[schema(as = TicketTimelineEntry)]
pub struct TimelineEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub actor_name: String,
    pub action: String,
    pub from_status: String,
    pub to_status: String,
    pub dept_id: Option<i64>,
    pub note: Option<String>,
    /// The action's details; `null` for actions that have none.
    #[schema(value_type = Option<Object>)]
    pub data: serde_json::Value,
}

/// List filters; the scope parts come from the actor.
#[derive(Default)]
pub struct TicketFilter {
    /// The reader's data scope ([`kernel::Scope::filter`]).
    pub scope: kernel::ScopeFilter,
    pub status: Vec<Status>,
    pub main_dept_id: Option<i64>,
    pub kind: Option<TicketKind>,
    pub card: Option<Card>,
    pub category_id: Option<i64>,
    pub caller_phone: Option<String>,
    pub q: Option<String>,
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
    pub due_before: Option<i64>,
    pub has_pending_extension: bool,
    pub reopened: bool,
    /// The public board of replies: replied tickets, reports (举报) never shown.
    pub public_board: bool,
    pub satisfaction: Option<CallbackResult>,
    pub order: &'static str,
}
