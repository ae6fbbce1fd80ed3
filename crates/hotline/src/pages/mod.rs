//! The hotline pages (server-rendered zh-CN with maud, forms work without script): operator
//! intake, the dispatch queue, the department inbox, the ticket page, callbacks and
//! supervision; the knowledge base (`/hotline/kb`) and analytics (`/hotline/analytics`) for
//! staff; the public citizen portal (`/portal`). Pages call services only, never SQL; every
//! form posts, and a success redirects.

pub mod analytics;
pub mod callback;
pub mod dispatch;
pub mod inbox;
pub mod intake;
pub mod kb;
pub mod portal;
pub mod rate_limit;
pub mod supervision;
pub mod ticket;
pub mod widgets;

pub use rate_limit::RateLimiter;
/// The charts moved to `webcore` so the service hall draws with the same code.
pub use webcore::charts;

use crate::domain::*;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use kernel::{Error, Role};
use webcore::{AppCtx, FormData, NavItem};

pub const CSS_PATH: &str = "/assets/hotline.v1.css";
pub const JS_PATH: &str = "/assets/hotline.v1.js";
const CSS: &str = include_str!("../../assets/hotline.css");
const JS: &str = include_str!("../../assets/hotline.js");

pub const INTAKE_ROLES: &[Role] = &[Role::Operator, Role::Dispatcher, Role::SysAdmin];
pub const DISPATCH_ROLES: &[Role] = &[Role::Dispatcher, Role::SysAdmin];
pub const HANDLE_ROLES: &[Role] = &[Role::Handler, Role::SysAdmin];
pub const CALLBACK_ROLES: &[Role] = &[Role::Operator, Role::Supervisor, Role::SysAdmin];
pub const SUPERVISE_ROLES: &[Role] = &[Role::Supervisor, Role::SysAdmin];

pub fn nav() -> Vec<NavItem> {
    let item = |label, href, roles| NavItem {
        section: "12345 热线",
        label,
        href,
        roles,
    };
    vec![
        item("话务受理", "/hotline/intake", INTAKE_ROLES),
        item("派单", "/hotline/dispatch", DISPATCH_ROLES),
        item("承办工单", "/hotline/inbox", HANDLE_ROLES),
        item("回访", "/hotline/callback", CALLBACK_ROLES),
        item("督办", "/hotline/supervision", SUPERVISE_ROLES),
        item("知识库", "/hotline/kb", kb::READERS),
        item("数据研判", "/hotline/analytics", analytics::READERS),
    ]
}

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/hotline/intake", get(intake::show).post(intake::submit))
        .route(
            "/hotline/dispatch",
            get(dispatch::show).post(dispatch::bulk_submit),
        )
        .route("/hotline/inbox", get(inbox::show))
        .route("/hotline/callback", get(callback::show))
        .route("/hotline/supervision", get(supervision::show))
        .route("/hotline/tickets/{id}", get(ticket::show))
        .route("/hotline/tickets/{id}/act", post(ticket::act_submit))
        .route("/hotline/tickets/{id}/merge", post(ticket::merge_submit))
        .route("/hotline/tickets/{id}/split", post(ticket::split_submit))
        .route(
            CSS_PATH,
            get(|| async { asset("text/css; charset=utf-8", CSS) }),
        )
        .route(
            JS_PATH,
            get(|| async { asset("text/javascript; charset=utf-8", JS) }),
        )
        .merge(portal::routes())
        .merge(kb::routes())
        .merge(analytics::routes())
}

fn asset(ct: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, ct),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        body,
    )
        .into_response()
}

/// An optional whole number from a form field; a bad one is that field's error.
pub fn opt_i64(form: &FormData, name: &str, label: &str) -> Result<Option<i64>, Error> {
    match form.opt(name) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| {
            Error::field(name, "invalid_type", format!("{label}应为有效的选项或整数"))
        }),
    }
}

/// The action a ticket form asks for.
pub fn action_from(form: &FormData) -> Result<Action, Error> {
    let text = |n: &str| form.get(n).to_owned();
    Ok(match form.get("action") {
        "accept" => Action::Accept,
        "submit_for_dispatch" => Action::SubmitForDispatch,
        "acknowledge" => Action::Acknowledge,
        "start" => Action::Start,
        "resume" => Action::Resume,
        "archive" => Action::Archive,
        "answer_now" => Action::AnswerNow {
            answer: text("answer"),
            kb_article_id: opt_i64(form, "kb_article_id", "知识条目")?,
        },
        "dispatch" => {
            let main = opt_i64(form, "main_dept_id", "主办单位")?
                .ok_or_else(|| Error::field("main_dept_id", "required", "请选择主办单位"))?;
            let mut co = Vec::new();
            for s in form
                .all("co_dept_ids")
                .into_iter()
                .filter(|s| !s.is_empty())
            {
                co.push(s.parse().map_err(|_| {
                    Error::field("co_dept_ids", "invalid_type", "协办单位选择无效")
                })?);
            }
            Action::Dispatch {
                main_dept_id: main,
                co_dept_ids: co,
            }
        }
        "return" => Action::Return {
            reason: text("reason"),
        },
        "recall" => Action::Recall {
            reason: text("reason"),
        },
        "request_extension" => {
            Action::RequestExtension {
                days: form.get("days").trim().parse().map_err(|_| {
                    Error::field("days", "invalid_type", "延期天数应为 1–30 的整数")
                })?,
                reason: text("reason"),
            }
        }
        "decide_extension" => Action::DecideExtension {
            approve: form.get("approve") == "1",
            note: text("note"),
        },
        "pause" => Action::Pause {
            reason: text("reason"),
        },
        "reply" => Action::Reply { text: text("text") },
        "callback" => Action::Callback {
            result: CallbackResult::parse(form.get("result"))
                .ok_or_else(|| Error::field("result", "required", "请选择回访结果"))?,
            note: text("note"),
            reopen: form.get("reopen") == "1",
        },
        "reopen" => Action::Reopen {
            dept_id: opt_i64(form, "dept_id", "承办单位")?,
            reason: text("reason"),
        },
        "supervise" => Action::Supervise { note: text("note") },
        "close" => Action::Close { note: text("note") },
        other => {
            return Err(Error::BadRequest {
                code: "unknown_action",
                detail: format!("不认识的操作“{other}”"),
                field: Some("action".into()),
            })
        }
    })
}

/// Where a form goes back to: a workbench page, never elsewhere.
pub fn back_to(form: &FormData, default: &str, done: &str) -> Response {
    back_with(form, default, &format!("done={done}"))
}

/// [`back_to`] with more of the query: what the next page says about what was done.
pub fn back_with(form: &FormData, default: &str, query: &str) -> Response {
    let back = webcore::redirect::local_path(form.get("back"), default);
    let back = if back.starts_with("/hotline/") && !back.contains("//") {
        back
    } else {
        default
    };
    let sep = if back.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{back}{sep}{query}")).into_response()
}

/// The zh-CN words for a timeline entry's action code.
pub fn action_label(code: &str) -> &'static str {
    match code {
        "create" => "登记",
        "accept" => "受理",
        "answer_now" => "即时解答",
        "submit_for_dispatch" => "转派单",
        "dispatch" => "派单",
        "recall" => "撤回派单",
        "acknowledge" => "签收",
        "start" => "开始办理",
        "return" => "退单",
        "request_extension" => "申请延期",
        "decide_extension" => "延期审批",
        "pause" => "挂起",
        "resume" => "恢复办理",
        "reply" => "答复",
        "callback" => "回访",
        "reopen" => "重办",
        "supervise" => "督办",
        "close" => "办结",
        "close_split" => "拆分工单全部办结",
        "archive" => "归档",
        "merge" => "合并",
        "follow_parent" => "随主工单答复",
        "split" => "拆分",
        "reclassify" => "修改分类/地点",
        "card" => "亮牌",
        "rate" => "市民评价",
        _ => "其他",
    }
}

/// The message shown after an action succeeded.
pub fn done_message(code: &str) -> Option<String> {
    if code.is_empty() {
        return None;
    }
    let label = match code {
        "bulk_dispatch" => "批量派单",
        "merge" => "合并",
        "split" => "拆分",
        other => action_label(other),
    };
    Some(format!("已完成：{label}"))
}

/// `2025-03-14 09:30`, China time.
pub(crate) fn minute(ms: i64) -> String {
    kernel::clock::format_minute(ms)
}

/// A form value cut to `max` characters: what a page shows back, never what it stores.
pub(crate) fn cut(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        s.chars().take(max).chain(['…']).collect()
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormData {
        FormData::of(pairs)
    }

    #[test]
    fn forms_become_actions_or_name_the_bad_field() {
        assert_eq!(
            action_from(&form(&[
                ("action", "dispatch"),
                ("main_dept_id", "3"),
                ("co_dept_ids", "4"),
                ("co_dept_ids", "5")
            ]))
            .unwrap(),
            Action::Dispatch {
                main_dept_id: 3,
                co_dept_ids: vec![4, 5]
            }
        );
        let e = action_from(&form(&[("action", "dispatch")])).unwrap_err();
        assert_eq!(e.field_name(), Some("main_dept_id"));
        let e =
            action_from(&form(&[("action", "request_extension"), ("days", "两天")])).unwrap_err();
        assert_eq!(e.field_name(), Some("days"));
        let e = action_from(&form(&[("action", "callback")])).unwrap_err();
        assert_eq!(e.field_name(), Some("result"));
        assert_eq!(
            action_from(&form(&[
                ("action", "callback"),
                ("result", "unsatisfied"),
                ("reopen", "1")
            ]))
            .unwrap(),
            Action::Callback {
                result: CallbackResult::Unsatisfied,
                note: String::new(),
                reopen: true
            }
        );
        let e = action_from(&form(&[("action", "fly")])).unwrap_err();
        assert_eq!(e.code(), "unknown_action");
        assert!(matches!(
            action_from(&form(&[("action", "decide_extension"), ("approve", "0")])).unwrap(),
            Action::DecideExtension { approve: false, .. }
        ));
    }

    #[test]
    fn forms_go_back_only_to_workbench_pages() {
        let to = |back: &str| {
            back_to(&form(&[("back", back)]), "/hotline/inbox", "reply")
                .headers()
                .get("location")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(to("/hotline/callback"), "/hotline/callback?done=reply");
        assert_eq!(
            to("/hotline/inbox?tab=doing"),
            "/hotline/inbox?tab=doing&done=reply"
        );
        assert_eq!(to("https://evil.example/"), "/hotline/inbox?done=reply");
        assert_eq!(to("/hotline//evil.example"), "/hotline/inbox?done=reply");
    }

    #[test]
    fn cut_keeps_short_text() {
        assert_eq!(cut("小区噪音", 10), "小区噪音");
        assert_eq!(cut("一二三四五", 3), "一二三…");
    }
}
