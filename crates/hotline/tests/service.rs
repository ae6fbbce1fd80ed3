//! The hotline service on SQLite and PostgreSQL: the whole life of tickets, scope, deadlines,
//! merge and split, knowledge base, citizens' ratings.

use hotline::domain::*;
use hotline::service::{SplitPart, TicketQuery};
use kernel::{Actor, Db};

mod common;
use common::*;

testkit::on_both_backends!(migrations;
    a_ticket_lives_from_intake_to_archive,
    departments_see_and_handle_only_their_tickets,
    returns_extensions_and_pauses_move_the_right_things,
    merged_tickets_follow_their_parent_and_splits_close_together,
    answer_now_cites_only_published_articles,
    cards_are_raised_once_even_with_two_sweepers,
    numbers_are_unique_per_day_and_answers_are_checked,
    citizens_track_and_rate_with_number_and_phone,
    a_refused_action_leaves_no_trace,
);

struct W {
    db: Db,
    centre: Centre,
}
deref_to_centre!(W);

async fn world(db: Db) -> W {
    let (db, city) = built_at(db, monday(), testkit::city::hotline_centre()).await;
    let centre = Centre::of(&city);
    W { db, centre }
}

async fn dispatched(w: &W, title: &str, to: i64, co: Vec<i64>) -> i64 {
    w.dispatched(call(title), to, co).await
}

impl W {
    /// The error code with which the citizen with `phone` is refused rating ticket `number`.
    async fn rating_refused(&self, number: &str, phone: &str, result: CallbackResult) -> String {
        let e = self.svc.rate_by_citizen(number, phone, result, "").await;
        e.unwrap_err().code().to_owned()
    }

    /// The error code with which `who` is refused `action` on article `id`.
    async fn article_refused(&self, who: &Actor, id: i64, action: ArticleAction) -> String {
        let e = self.svc.article_action(who, id, action).await.unwrap_err();
        e.code().to_owned()
    }
}

/// A knowledge-base article for any category and department, valid at all times.
fn article(question: &str, answer: &str) -> ArticleInput {
    ArticleInput {
        question: question.into(),
        answer: answer.into(),
        category_id: None,
        dept_id: None,
        valid_from: None,
        valid_until: None,
    }
}

async fn a_ticket_lives_from_intake_to_archive(db: Db) {
    let w = world(db).await;
    let t = w.create(call("夜间施工噪音")).await;
    assert_eq!(t.number, "A市12345-20260316-000001");
    assert_eq!(t.status, Status::Accepted);
    let id = t.id;
    w.act(&w.operator, id, Action::SubmitForDispatch).await;
    let t = w
        .act(
            &w.dispatcher,
            id,
            Action::Dispatch {
                main_dept_id: w.x,
                co_dept_ids: vec![w.y],
            },
        )
        .await;
    assert_eq!(
        (t.status, t.main_dept_id, t.co_dept_ids.clone()),
        (Status::Dispatched, Some(w.x), vec![w.y])
    );
    w.db.clock.advance(30 * 60_000);
    w.act(&w.hx, id, Action::Acknowledge).await;
    w.act(&w.hx, id, Action::Start).await;
    w.act(&w.hx, id, reply("已责令施工单位22点后停工。")).await;
    let t = w
        .call_back(id, CallbackResult::Unsatisfied, "仍有噪音", true)
        .await;
    assert_eq!((t.status, t.reopen_count), (Status::Dispatched, 1));
    w.act(&w.hx, id, Action::Acknowledge).await;
    w.act(&w.hx, id, reply("已联合城管夜查，施工已停止。"))
        .await;
    let t = w.call_back(id, CallbackResult::Satisfied, "", false).await;
    assert_eq!(
        (t.status, t.satisfaction),
        (Status::Closed, Some(CallbackResult::Satisfied))
    );
    let t = w.act(&w.supervisor, id, Action::Archive).await;
    assert_eq!(t.status, Status::Archived);
    let tl = w.svc.timeline(&w.supervisor, id).await.unwrap();
    let actions: Vec<&str> = tl.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "create",
            "submit_for_dispatch",
            "dispatch",
            "acknowledge",
            "start",
            "reply",
            "callback",
            "acknowledge",
            "reply",
            "callback",
            "archive"
        ]
    );
    assert_eq!(tl[2].actor_name, "测试dispatcher");
    // Every step is in the audit chain too.
    let hist = kernel::audit::history(&w.db, "ticket", &id.to_string())
        .await
        .unwrap();
    assert_eq!(hist.len(), tl.len());
    assert_audit_chain_intact(&w.db).await;
}

async fn departments_see_and_handle_only_their_tickets(db: Db) {
    let w = world(db).await;
    let id = dispatched(&w, "占道经营", w.x, vec![w.y]).await;
    // The main department and the co-handler see it; another department does not.
    assert!(w.svc.get(&w.hx, id).await.is_ok());
    assert!(w.svc.get(&w.hy, id).await.is_ok());
    assert_eq!(w.svc.get(&w.hz, id).await.unwrap_err().code(), "forbidden");
    let all = TicketQuery::default();
    let p = first_page();
    assert_eq!(w.svc.list(&w.hz, &all, &p).await.unwrap().total, 0);
    assert_eq!(w.svc.list(&w.hy, &all, &p).await.unwrap().total, 1);
    // The co-handler may not act as the main department, nor may another department.
    assert_eq!(w.refused(&w.hy, id, Action::Acknowledge).await, "forbidden");
    assert_eq!(w.refused(&w.hz, id, Action::Acknowledge).await, "forbidden");
    // The co-handler sees the caller masked; the main department in full.
    assert_eq!(
        w.ticket(&w.hy, id).await.caller.phone.as_deref(),
        Some("139****5678")
    );
    assert_eq!(
        w.ticket(&w.hx, id).await.caller.phone.as_deref(),
        Some("13912345678")
    );
    // Handlers cannot dispatch or supervise.
    assert_eq!(
        w.refused(&w.hx, id, Action::Supervise { note: "x".into() })
            .await,
        "forbidden"
    );
}

async fn returns_extensions_and_pauses_move_the_right_things(db: Db) {
    let w = world(db).await;
    let id = dispatched(&w, "路灯不亮", w.x, vec![]).await;
    let t = w
        .act(
            &w.hx,
            id,
            Action::Return {
                reason: "路灯归城管局管理".into(),
            },
        )
        .await;
    assert_eq!(
        (t.status, t.return_count, t.main_dept_id),
        (Status::PendingDispatch, 1, None)
    );
    // The returning department no longer sees it.
    assert_eq!(w.svc.get(&w.hx, id).await.unwrap_err().code(), "forbidden");
    w.act(
        &w.dispatcher,
        id,
        Action::Dispatch {
            main_dept_id: w.y,
            co_dept_ids: vec![],
        },
    )
    .await;
    w.act(&w.hy, id, Action::Acknowledge).await;
    let due0 = w.ticket(&w.hy, id).await.reply_due.unwrap();
    w.act(
        &w.hy,
        id,
        Action::RequestExtension {
            days: 3,
            reason: "需采购灯具".into(),
        },
    )
    .await;
    // A second request while one is pending is refused.
    assert_eq!(
        w.refused(
            &w.hy,
            id,
            Action::RequestExtension {
                days: 1,
                reason: "再延".into()
            }
        )
        .await,
        "illegal_transition"
    );
    // Only a supervisor decides.
    assert_eq!(
        w.refused(
            &w.hy,
            id,
            Action::DecideExtension {
                approve: true,
                note: String::new()
            }
        )
        .await,
        "forbidden"
    );
    let pending = TicketQuery {
        pending_extension: true,
        ..Default::default()
    };
    let listed = w.svc.list(&w.supervisor, &pending, &first_page()).await;
    assert_eq!(listed.unwrap().total, 1);
    let t = w
        .act(
            &w.supervisor,
            id,
            Action::DecideExtension {
                approve: true,
                note: "同意".into(),
            },
        )
        .await;
    let due1 = t.reply_due.unwrap();
    assert!(due1 > due0);
    // Three working days later, at the same office closing time (no weekend or holiday falls
    // between these March dates that is not one).
    let cal = kernel::calendar::load(&w.db).await.unwrap();
    assert_eq!(cal.working_minutes_between(due0, due1), 3 * 7 * 60);
    // Waiting on the citizen pauses the clock: the deadline moves by the working time paused.
    w.act(
        &w.hy,
        id,
        Action::Pause {
            reason: "等待市民提供位置".into(),
        },
    )
    .await;
    w.db.clock.advance(2 * 3_600_000);
    let t = w.act(&w.hy, id, Action::Resume).await;
    assert_eq!(cal.working_minutes_between(due1, t.reply_due.unwrap()), 120);
}

async fn merged_tickets_follow_their_parent_and_splits_close_together(db: Db) {
    let w = world(db).await;
    let parent = dispatched(&w, "小区停水", w.z, vec![]).await;
    let child = w.create(call("小区停水（又一位来电）")).await.id;
    w.svc.merge(&w.dispatcher, parent, &[child]).await.unwrap();
    assert_eq!(w.ticket(&w.dispatcher, child).await.status, Status::Merged);
    w.act(&w.hz, parent, Action::Acknowledge).await;
    w.act(&w.hz, parent, reply("管道抢修完毕，已恢复供水。"))
        .await;
    let c = w.ticket(&w.dispatcher, child).await;
    assert_eq!(
        (c.status, c.reply.as_deref()),
        (Status::Closed, Some("管道抢修完毕，已恢复供水。"))
    );
    // Merging into a replied parent is refused.
    let late = w.create(call("停水")).await.id;
    assert_eq!(
        w.svc
            .merge(&w.dispatcher, parent, &[late])
            .await
            .unwrap_err()
            .field_name(),
        Some("parent_id")
    );

    // Split into two departments; the parent closes when both parts have closed.
    let t = w.create(call("道路破损且积水")).await.id;
    w.act(&w.operator, t, Action::SubmitForDispatch).await;
    let parts = w
        .svc
        .split(
            &w.dispatcher,
            t,
            &[
                SplitPart {
                    dept_id: w.x,
                    note: Some("道路修复".into()),
                },
                SplitPart {
                    dept_id: w.z,
                    note: Some("排水".into()),
                },
            ],
        )
        .await
        .unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(w.ticket(&w.dispatcher, t).await.status, Status::Split);
    for (p, h) in parts.iter().zip([&w.hx, &w.hz]) {
        assert_eq!(p.ticket.status, Status::Dispatched);
        w.act(h, p.ticket.id, Action::Acknowledge).await;
        w.act(h, p.ticket.id, reply("已处理")).await;
        w.call_back(p.ticket.id, CallbackResult::Satisfied, "", false)
            .await;
    }
    let t = w.ticket(&w.dispatcher, t).await;
    assert_eq!(t.status, Status::Closed);
    assert!(t.reply.unwrap().contains(&parts[0].ticket.number));
}

async fn answer_now_cites_only_published_articles(db: Db) {
    let w = world(db).await;
    let a = w
        .svc
        .save_article(
            &w.operator,
            None,
            article("公积金提取需要什么材料？", "身份证、银行卡……"),
        )
        .await
        .unwrap();
    let t = w
        .create(NewTicket {
            kind: TicketKind::Consult,
            ..call("公积金提取")
        })
        .await
        .id;
    let e = w
        .svc
        .act(
            &w.operator,
            t,
            Action::AnswerNow {
                answer: "见知识库".into(),
                kb_article_id: Some(a.id),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.field_name(), Some("kb_article_id"));
    // Publishing needs review first, by a supervisor.
    assert_eq!(
        w.article_refused(&w.supervisor, a.id, ArticleAction::Publish)
            .await,
        "illegal_transition"
    );
    assert_eq!(
        w.article_refused(&w.operator, a.id, ArticleAction::Review)
            .await,
        "forbidden"
    );
    w.svc
        .article_action(&w.supervisor, a.id, ArticleAction::Review)
        .await
        .unwrap();
    w.svc
        .article_action(&w.supervisor, a.id, ArticleAction::Publish)
        .await
        .unwrap();
    let t = w
        .act(
            &w.operator,
            t,
            Action::AnswerNow {
                answer: "身份证、银行卡……".into(),
                kb_article_id: Some(a.id),
            },
        )
        .await;
    assert_eq!(
        (t.status, t.resolution, t.kb_article_id),
        (Status::Closed, Some(Resolution::AnsweredNow), Some(a.id))
    );
    // Editing makes a new version, back in draft.
    let a2 = w
        .svc
        .save_article(
            &w.operator,
            Some(a.id),
            article("公积金提取需要什么材料？", "新政策：……"),
        )
        .await
        .unwrap();
    assert_eq!((a2.version, a2.status), (2, ArticleStatus::Draft));
    assert_eq!(w.svc.article(&w.operator, a.id).await.unwrap().1.len(), 2);
}

async fn cards_are_raised_once_even_with_two_sweepers(db: Db) {
    let w = world(db).await;
    let id = dispatched(&w, "井盖缺失", w.x, vec![]).await;
    assert!(
        w.svc.sweep_cards().await.unwrap().is_empty(),
        "fresh ticket: no card"
    );
    // 1h50m later: within the yellow window of the 2-hour acknowledge limit.
    w.db.clock.advance(110 * 60_000);
    let (a, b) = tokio::join!(w.svc.sweep_cards(), w.svc.sweep_cards());
    let changes: Vec<_> = a.unwrap().into_iter().chain(b.unwrap()).collect();
    assert_eq!(
        changes,
        vec![(id, Card::Yellow)],
        "exactly one sweeper raised it"
    );
    w.db.clock.advance(3 * 3_600_000);
    assert_eq!(w.svc.sweep_cards().await.unwrap(), vec![(id, Card::Red)]);
    assert!(w.svc.sweep_cards().await.unwrap().is_empty());
    let red = TicketQuery {
        card: Some(Card::Red),
        ..Default::default()
    };
    let listed = w.svc.list(&w.hx, &red, &first_page()).await;
    assert_eq!(listed.unwrap().total, 1);
    // Acknowledging clears the acknowledge deadline; the reply deadline is days away.
    w.act(&w.hx, id, Action::Acknowledge).await;
    assert_eq!(w.svc.sweep_cards().await.unwrap(), vec![(id, Card::None)]);
}

async fn numbers_are_unique_per_day_and_answers_are_checked(db: Db) {
    let w = world(db).await;
    let a = w.create(call("一")).await.number;
    let b = w.create(call("二")).await.number;
    assert_eq!(
        (a.as_str(), b.as_str()),
        ("A市12345-20260316-000001", "A市12345-20260316-000002")
    );
    w.db.clock.advance(86_400_000);
    assert_eq!(
        w.create(call("三")).await.number,
        "A市12345-20260317-000001"
    );

    w.svc
        .import_taxonomy(
            &Actor::cli(),
            &[("城乡建设".into(), "供水".into(), "停水".into())],
        )
        .await
        .unwrap();
    let cats = w.svc.categories().await.unwrap();
    assert_eq!(cats.len(), 3);
    let leaf = cats.iter().find(|c| c.level == 3).unwrap().id;
    w.svc
        .set_questions(
            &Actor::cli(),
            leaf,
            vec![Question {
                code: "estate".into(),
                label: "小区名称".into(),
                kind: QuestionKind::Text,
                options: vec![],
                required: true,
            }],
        )
        .await
        .unwrap();
    let e = w
        .svc
        .create(
            &w.operator,
            NewTicket {
                category_id: Some(leaf),
                ..call("停水")
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.field_name(), Some("answers.estate"));
    let mut answers = serde_json::Map::new();
    answers.insert("estate".into(), "幸福小区".into());
    let t = w
        .create(NewTicket {
            category_id: Some(leaf),
            answers,
            ..call("停水")
        })
        .await;
    assert_eq!(t.answers["estate"], "幸福小区");
    // Bad input is named.
    let e = w
        .svc
        .create(
            &w.operator,
            NewTicket {
                region_code: Some("123".into()),
                caller_phone: None,
                ..call("")
            },
        )
        .await
        .unwrap_err();
    let fields: Vec<&str> = e.field_errors().iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["title", "caller_phone", "region_code"]);
}

async fn citizens_track_and_rate_with_number_and_phone(db: Db) {
    let w = world(db).await;
    let id = dispatched(&w, "垃圾清运不及时", w.y, vec![]).await;
    let number = w.ticket(&w.dispatcher, id).await.number;
    w.act(&w.hy, id, Action::Acknowledge).await;
    w.act(&w.hy, id, reply("已增加清运频次。")).await;
    assert_eq!(
        w.svc
            .track(&number, "13900000000")
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    let (v, steps) = w.svc.track(&number, "13912345678").await.unwrap();
    assert_eq!(v.ticket.status, Status::Replied);
    assert!(steps.len() >= 4);
    assert_eq!(
        w.rating_refused(&number, "13900000000", CallbackResult::Satisfied)
            .await,
        "not_found"
    );
    let t = w
        .svc
        .rate_by_citizen(
            &number,
            "13912345678",
            CallbackResult::BasicallySatisfied,
            "还行",
        )
        .await
        .unwrap()
        .ticket;
    assert_eq!(
        (t.status, t.satisfaction),
        (Status::Closed, Some(CallbackResult::BasicallySatisfied))
    );
    assert_eq!(
        w.rating_refused(&number, "13912345678", CallbackResult::Satisfied)
            .await,
        "illegal_transition"
    );
}

async fn a_refused_action_leaves_no_trace(db: Db) {
    let w = world(db).await;
    let id = dispatched(&w, "违章建筑", w.x, vec![]).await;
    let before = kernel::audit::verify(&w.db).await.unwrap().records;
    let events = w.svc.timeline(&w.dispatcher, id).await.unwrap().len();
    assert_eq!(w.refused(&w.hx, id, reply("x")).await, "illegal_transition");
    assert_eq!(
        w.svc
            .act(&w.hx, id, Action::Return { reason: " ".into() })
            .await
            .unwrap_err()
            .field_name(),
        Some("reason")
    );
    assert_eq!(
        w.refused(
            &w.dispatcher,
            id,
            Action::Dispatch {
                main_dept_id: w.z,
                co_dept_ids: vec![]
            }
        )
        .await,
        "illegal_transition"
    );
    assert_eq!(
        w.refused(
            &w.dispatcher,
            id,
            Action::Dispatch {
                main_dept_id: 99999,
                co_dept_ids: vec![]
            }
        )
        .await,
        "department_not_found"
    );
    assert_eq!(kernel::audit::verify(&w.db).await.unwrap().records, before);
    assert_eq!(
        w.svc.timeline(&w.dispatcher, id).await.unwrap().len(),
        events
    );
}
