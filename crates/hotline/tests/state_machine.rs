//! The ticket state machine on its own: every illegal transition is refused and leaves the
//! ticket as it was; random action sequences keep the invariants.

use hotline::domain::*;
use kernel::calendar::Calendar;
use proptest::prelude::*;

const T0: i64 = 1_773_450_000_000; // 2026-03-14 (a Saturday) 09:00 China time, roughly

fn new_ticket(status: Status) -> Ticket {
    Ticket {
        id: 1,
        number: "A市12345-20260314-000001".into(),
        channel: Channel::Phone,
        kind: TicketKind::Complaint,
        urgency: Urgency::Normal,
        status,
        caller: Caller {
            name: Some("张三".into()),
            phone: Some("13800000000".into()),
            wants_reply: true,
            anonymous: false,
        },
        location: Location {
            address: None,
            region_code: Some("690102".into()),
            lng: None,
            lat: None,
        },
        title: "噪音扰民".into(),
        content: "夜间施工".into(),
        category_id: None,
        answers: serde_json::json!({}),
        main_dept_id: if status.with_department() || status == Status::Replied {
            Some(7)
        } else {
            None
        },
        co_dept_ids: vec![],
        ack_due: None,
        reply_due: if status.with_department() {
            Some(T0 + 86_400_000 * 7)
        } else {
            None
        },
        paused_since: None,
        card: Card::None,
        reply: if matches!(status, Status::Replied | Status::Closed | Status::Archived) {
            Some("已处理".into())
        } else {
            None
        },
        replied_at: None,
        resolution: if matches!(status, Status::Replied | Status::Closed | Status::Archived) {
            Some(Resolution::Replied)
        } else {
            None
        },
        kb_article_id: None,
        satisfaction: None,
        callback_attempts: 0,
        reopen_count: 0,
        return_count: 0,
        pending_extension: None,
        supervised: false,
        parent_id: if status == Status::Merged {
            Some(2)
        } else {
            None
        },
        split_from_id: None,
        created_at: T0,
        accepted_at: None,
        dispatched_at: None,
        acknowledged_at: None,
        closed_at: None,
        archived_at: None,
        updated_at: T0,
    }
}

fn actions() -> Vec<Action> {
    vec![
        Action::Accept,
        Action::AnswerNow {
            answer: "按政策解答".into(),
            kb_article_id: None,
        },
        Action::SubmitForDispatch,
        Action::Dispatch {
            main_dept_id: 7,
            co_dept_ids: vec![8],
        },
        Action::Recall {
            reason: "派错单位".into(),
        },
        Action::Acknowledge,
        Action::Start,
        Action::Return {
            reason: "不属于本单位职责".into(),
        },
        Action::RequestExtension {
            days: 3,
            reason: "需现场勘查".into(),
        },
        Action::Pause {
            reason: "等待市民补充材料".into(),
        },
        Action::Reply {
            text: "经核查已整改".into(),
        },
        Action::Callback {
            result: CallbackResult::Satisfied,
            note: String::new(),
            reopen: false,
        },
        Action::Reopen {
            dept_id: Some(9),
            reason: "市民不满意".into(),
        },
        Action::Supervise {
            note: "请加快办理".into(),
        },
        Action::Close {
            note: String::new(),
        },
        Action::Archive,
        Action::MergeInto { parent_id: 2 },
        Action::MarkSplit,
    ]
}

/// The specification, written independently of the implementation.
fn allowed(status: Status, action: &Action) -> bool {
    use Status::*;
    match action {
        Action::Accept => status == Created,
        Action::AnswerNow { .. } | Action::SubmitForDispatch => {
            matches!(status, Created | Accepted)
        }
        Action::Dispatch { .. } | Action::MarkSplit => status == PendingDispatch,
        Action::Acknowledge | Action::Recall { .. } => status == Dispatched,
        Action::Start => status == Acknowledged,
        Action::Return { .. } => matches!(status, Dispatched | Acknowledged | InProgress),
        Action::RequestExtension { .. } | Action::Pause { .. } | Action::Reply { .. } => {
            matches!(status, Acknowledged | InProgress)
        }
        Action::Callback { .. } | Action::Close { .. } => status == Replied,
        Action::Reopen { .. } => matches!(status, Replied | Closed),
        Action::Supervise { .. } => !matches!(status, Closed | Archived | Merged),
        Action::Archive => status == Closed,
        Action::MergeInto { .. } => matches!(
            status,
            Created | Accepted | PendingDispatch | Dispatched | Acknowledged | InProgress
        ),
        _ => false,
    }
}

#[test]
fn every_illegal_transition_is_refused_and_changes_nothing() {
    let cal = Calendar::builtin();
    let policy = DeadlinePolicy::default_for(TicketKind::Complaint, Urgency::Normal);
    let mut checked = 0;
    for status in Status::ALL {
        for a in actions() {
            let mut t = new_ticket(*status);
            let before = t.clone();
            let r = t.apply(&a, T0 + 3_600_000, &cal, policy);
            if allowed(*status, &a) {
                assert!(
                    r.is_ok(),
                    "{} in {:?} should be allowed: {r:?}",
                    a.code(),
                    status
                );
            } else {
                let e = r.expect_err(&format!("{} in {:?} must be refused", a.code(), status));
                assert!(
                    matches!(e, kernel::Error::IllegalTransition { .. }),
                    "{e:?}"
                );
                assert_eq!(t, before, "a refused action leaves the ticket unchanged");
                assert!(e.detail().contains(status.label()), "{}", e.detail());
            }
            checked += 1;
        }
    }
    assert_eq!(checked, Status::ALL.len() * actions().len());
}

#[test]
fn dispatch_sets_deadlines_on_the_working_calendar() {
    let cal = Calendar::builtin();
    let policy = DeadlinePolicy::default_for(TicketKind::Complaint, Urgency::Normal);
    let mut t = new_ticket(Status::PendingDispatch);
    // Friday 2026-02-13 10:00 China time: 春节 starts on the 15th; the 14th is a 调休 workday.
    let at = chrono::NaiveDate::from_ymd_opt(2026, 2, 13)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap()
        .and_local_timezone(kernel::clock::china())
        .unwrap()
        .timestamp_millis();
    t.apply(
        &Action::Dispatch {
            main_dept_id: 7,
            co_dept_ids: vec![7, 8, 8],
        },
        at,
        &cal,
        policy,
    )
    .unwrap();
    assert_eq!(
        t.co_dept_ids,
        vec![8],
        "main department is not also a co-handler; no duplicates"
    );
    let due = kernel::clock::to_china(t.reply_due.unwrap());
    // 5 working days: 2/14 (调休), 2/24, 2/25, 2/26, 2/27 → closes 2026-02-27 17:30.
    assert_eq!(due.format("%Y-%m-%d").to_string(), "2026-02-27");
    let ack = kernel::clock::to_china(t.ack_due.unwrap());
    assert_eq!(ack.format("%Y-%m-%d %H:%M").to_string(), "2026-02-13 12:00");
}

#[test]
fn a_reply_with_the_template_still_unfilled_is_refused_beside_the_field() {
    let cal = Calendar::builtin();
    let policy = DeadlinePolicy::default_for(TicketKind::Complaint, Urgency::Normal);
    for unfinished in [
        "钱女士您好！经住建局核查，……。感谢您的支持！",
        "{市民}您好！已处理。",
    ] {
        let mut t = new_ticket(Status::Acknowledged);
        let before = t.clone();
        let e = t
            .apply(
                &Action::Reply {
                    text: unfinished.into(),
                },
                1_000,
                &cal,
                policy,
            )
            .unwrap_err();
        assert_eq!(
            (e.field_name(), e.code()),
            (Some("text"), "unfilled_template"),
            "{unfinished}"
        );
        assert_eq!(t, before, "a refused reply changes nothing");
    }
    let mut t = new_ticket(Status::Acknowledged);
    t.apply(
        &Action::Reply {
            text: "钱女士您好！经住建局现场核查，施工单位已停止夜间施工。".into(),
        },
        1_000,
        &cal,
        policy,
    )
    .unwrap();
    assert_eq!(t.status, Status::Replied);
}

#[test]
fn callbacks_close_retry_and_reopen() {
    let cal = Calendar::builtin();
    let policy = DeadlinePolicy::default_for(TicketKind::Complaint, Urgency::Normal);
    let unreached = Action::Callback {
        result: CallbackResult::Unreached,
        note: String::new(),
        reopen: false,
    };
    let mut t = new_ticket(Status::Replied);
    for i in 1..MAX_CALLBACK_ATTEMPTS {
        t.apply(&unreached, T0, &cal, policy).unwrap();
        assert_eq!(t.status, Status::Replied, "attempt {i}: retry later");
    }
    t.apply(&unreached, T0, &cal, policy).unwrap();
    assert_eq!(t.status, Status::Closed);
    let mut t = new_ticket(Status::Replied);
    t.apply(
        &Action::Callback {
            result: CallbackResult::Unsatisfied,
            note: "没解决".into(),
            reopen: true,
        },
        T0,
        &cal,
        policy,
    )
    .unwrap();
    assert_eq!(
        (t.status, t.reopen_count, t.main_dept_id),
        (Status::Dispatched, 1, Some(7))
    );
    assert!(t.reply.is_none() && t.reply_due.is_some());
}

#[derive(Debug, Clone)]
enum Step {
    Act(usize, u32, i64),
    Wait(i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..21usize, 1..40u32, 6..12i64).prop_map(|(a, d, dept)| Step::Act(a, d, dept)),
        (1..3_000_000i64).prop_map(Step::Wait),
    ]
}

fn action_for(i: usize, days: u32, dept: i64) -> Action {
    match i {
        0 => Action::Accept,
        1 => Action::AnswerNow {
            answer: "解答".into(),
            kb_article_id: None,
        },
        2 => Action::SubmitForDispatch,
        3 => Action::Dispatch {
            main_dept_id: dept,
            co_dept_ids: vec![dept, dept + 1],
        },
        4 => Action::Acknowledge,
        5 => Action::Start,
        6 => Action::Return {
            reason: "非本单位".into(),
        },
        7 => Action::RequestExtension {
            days,
            reason: "复杂".into(),
        },
        8 => Action::DecideExtension {
            approve: days.is_multiple_of(2),
            note: String::new(),
        },
        9 => Action::Pause {
            reason: "等待".into(),
        },
        10 => Action::Resume,
        11 => Action::Reply {
            text: "已办".into(),
        },
        12 => Action::Callback {
            result: CallbackResult::ALL[(days as usize) % 4],
            note: String::new(),
            reopen: days.is_multiple_of(3),
        },
        13 => Action::Reopen {
            dept_id: Some(dept),
            reason: "重办".into(),
        },
        14 => Action::Supervise {
            note: "督办".into(),
        },
        15 => Action::Close {
            note: String::new(),
        },
        16 => Action::Archive,
        19 => Action::Recall {
            reason: "派错".into(),
        },
        17 => Action::Reply {
            text: String::new(),
        },
        18 => Action::RequestExtension {
            days: 0,
            reason: "x".into(),
        },
        _ => Action::Acknowledge,
    }
}

#[test]
fn a_recalled_dispatch_returns_to_the_queue_without_counting_as_a_return() {
    let cal = Calendar::builtin();
    let policy = DeadlinePolicy::default_for(TicketKind::Complaint, Urgency::Normal);
    let mut t = new_ticket(Status::PendingDispatch);
    let dispatch = Action::Dispatch {
        main_dept_id: 7,
        co_dept_ids: vec![8],
    };
    t.apply(&dispatch, T0, &cal, policy).unwrap();
    // A recall needs its reason, named beside the field.
    let before = t.clone();
    let e = t
        .apply(
            &Action::Recall { reason: " ".into() },
            T0 + 60_000,
            &cal,
            policy,
        )
        .unwrap_err();
    assert!(format!("{e:?}").contains("reason"), "{e:?}");
    assert_eq!(t, before);
    let recall = Action::Recall {
        reason: "派错单位".into(),
    };
    let ev = t.apply(&recall, T0 + 60_000, &cal, policy).unwrap();
    assert_eq!(
        (ev.from, ev.to),
        (Status::Dispatched, Status::PendingDispatch)
    );
    assert_eq!(ev.dept_id, Some(7));
    assert_eq!(t.main_dept_id, None);
    assert!(t.co_dept_ids.is_empty() && t.reply_due.is_none() && t.ack_due.is_none());
    assert_eq!(t.return_count, 0);
    // Once signed for, the department holds it: only a return sends it back.
    t.apply(&dispatch, T0 + 120_000, &cal, policy).unwrap();
    t.apply(&Action::Acknowledge, T0 + 180_000, &cal, policy)
        .unwrap();
    assert!(t.apply(&recall, T0 + 240_000, &cal, policy).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_action_sequences_keep_the_invariants(steps in prop::collection::vec(step(), 1..60)) {
        let cal = Calendar::builtin();
        let policy = DeadlinePolicy::default_for(TicketKind::Complaint, Urgency::Normal);
        let mut t = new_ticket(Status::Created);
        let mut now = T0;
        for s in steps {
            match s {
                Step::Wait(ms) => now += ms,
                Step::Act(i, days, dept) => {
                    let a = action_for(i, days, dept);
                    let before = t.clone();
                    match t.apply(&a, now, &cal, policy) {
                        Err(_) => prop_assert_eq!(&t, &before, "refused {} changed the ticket", a.code()),
                        Ok(e) => {
                            prop_assert_eq!(e.from, before.status);
                            prop_assert_eq!(e.to, t.status);
                            // Deadlines move only by dispatch, reopen, an approved extension, or the
                            // end of a pause; an extension only ever moves the deadline forward.
                            let moves_deadline = matches!(a, Action::Dispatch { .. } | Action::Reopen { .. } | Action::Return { .. } | Action::Recall { .. } | Action::Resume)
                                || matches!(a, Action::DecideExtension { approve: true, .. })
                                || matches!(a, Action::Callback { reopen: true, result: CallbackResult::Unsatisfied, .. });
                            if !moves_deadline {
                                prop_assert_eq!(t.reply_due, before.reply_due, "{} moved the deadline", a.code());
                            }
                            if matches!(a, Action::DecideExtension { approve: true, .. } | Action::Resume) {
                                prop_assert!(t.reply_due >= before.reply_due);
                            }
                        }
                    }
                    // One main department while a department holds the ticket; co-handlers exclude it.
                    if t.status.with_department() || t.status == Status::Replied {
                        prop_assert!(t.main_dept_id.is_some());
                    }
                    if let Some(m) = t.main_dept_id {
                        prop_assert!(!t.co_dept_ids.contains(&m));
                    }
                    let mut co = t.co_dept_ids.clone();
                    co.dedup();
                    prop_assert_eq!(co.len(), t.co_dept_ids.len());
                    // A closed ticket has a reply or an answer-now.
                    if matches!(t.status, Status::Closed | Status::Archived) {
                        prop_assert!(t.reply.as_deref().is_some_and(|r| !r.is_empty()));
                        prop_assert!(t.resolution.is_some());
                    }
                    if t.status.with_department() {
                        prop_assert!(t.reply_due.is_some() && t.ack_due.is_some());
                    }
                }
            }
        }
    }
}
