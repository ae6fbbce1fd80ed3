//! 数据异议 on both backends: 民政局 holds an address of the 人口 registry differently and raises
//! it; it goes to 公安局 (the registry's source) with a deadline of 5 working days; 公安局
//! corrects the registry (the gateway's row changes) or confirms it; bad objections are
//! refused naming the field and writing nothing; values are masked for those outside the two
//! departments.

mod common;

use common::*;
use kernel::page::PageQuery;
use kernel::{Db, Error};
use sharing::objections::domain::{NewObjection, ObjectionAnswer, ObjectionStatus};

testkit::on_both_backends!(migrations; an_objection_goes_to_the_source_and_corrects_the_registry);

fn objection(w: &World, key: &str, field: &str, value: &str) -> NewObjection {
    NewObjection {
        resource_code: w.people_res.resource.code.clone(),
        row_key: key.into(),
        field: field.into(),
        claimed_value: value.into(),
        reason: "2026 年 11 月救助申请时核实的现住址".into(),
    }
}

fn fields_of(e: Error) -> Vec<String> {
    match e {
        Error::Validation(f) => f.into_iter().map(|f| f.field).collect(),
        Error::Conflict { field, .. } => field.into_iter().collect(),
        e => panic!("not a field error: {e:?}"),
    }
}

/// The registry's stored value (what the gateway serves, before masking).
async fn row_value(w: &World, key: &str, field: &str) -> String {
    let mut c = w.db().pool().acquire().await.unwrap();
    let data: String =
        sqlx::query_scalar("SELECT data FROM sharing_rows WHERE resource_id = $1 AND row_key = $2")
            .bind(w.people_res.resource.id)
            .bind(key)
            .fetch_one(&mut *c)
            .await
            .unwrap();
    let v: serde_json::Value = serde_json::from_str(&data).unwrap();
    v[field].as_str().unwrap_or_default().to_owned()
}

async fn an_objection_goes_to_the_source_and_corrects_the_registry(db: Db) {
    let w = world(db).await;
    let s = &w.svc;
    let key = person(4, "690102")["id_no"].as_str().unwrap().to_owned();
    let old_address = person(4, "690102")["address"].as_str().unwrap().to_owned();
    let all = PageQuery {
        page: None,
        per_page: None,
    };

    // Bad objections: each named, nothing written.
    let bad = |n: NewObjection| async { s.raise_objection(w.actor("c_off"), n).await.unwrap_err() };
    let mut b = objection(&w, &key, "address", "");
    b.reason = "不".into();
    assert_eq!(fields_of(bad(b).await), ["reason", "claimed_value"]);
    assert_eq!(
        fields_of(bad(objection(&w, &key, "income", "1.00")).await),
        ["field"],
        "secret"
    );
    assert_eq!(
        fields_of(bad(objection(&w, &key, "id_no", &key)).await),
        ["field"],
        "primary key"
    );
    assert_eq!(
        fields_of(bad(objection(&w, &key, "nope", "x")).await),
        ["field"]
    );
    assert_eq!(
        fields_of(bad(objection(&w, &key, "birth", "1990-02-30")).await),
        ["claimed_value"]
    );
    assert_eq!(
        fields_of(bad(objection(&w, "690102199001010000", "address", "x路1号")).await),
        ["row_key"]
    );
    assert_eq!(
        fields_of(bad(objection(&w, &key, "address", &old_address)).await),
        ["claimed_value"],
        "same value"
    );
    let mut b = objection(&w, &key, "address", "x路1号");
    b.resource_code = "A9-404".into();
    assert_eq!(fields_of(bad(b).await), ["resource_code"]);
    // The source department does not object to its own data; a handler cannot at all.
    let own = s
        .raise_objection(w.actor("p_off"), objection(&w, &key, "address", "x路1号"))
        .await;
    assert!(matches!(own, Err(Error::Forbidden(_))), "{own:?}");
    let handler = s
        .raise_objection(
            w.city.actor("han_x"),
            objection(&w, &key, "address", "x路1号"),
        )
        .await;
    assert!(matches!(handler, Err(Error::Forbidden(_))), "{handler:?}");
    assert_eq!(
        s.objections(w.actor("b_off"), None, &all)
            .await
            .unwrap()
            .total,
        0
    );

    // 民政局 raises; it is routed to 公安局 with a deadline of 5 working days.
    let new_address = "A市A1区青河街道和平路 8 号";
    let o = s
        .raise_objection(
            w.actor("c_off"),
            objection(&w, &key, "address", new_address),
        )
        .await
        .unwrap();
    assert_eq!(o.objection.status, ObjectionStatus::Open);
    assert_eq!(
        (o.raised_by_dept_name.as_str(), o.source_dept_name.as_str()),
        ("民政局", "公安局")
    );
    assert_eq!(o.objection.registry_value, old_address);
    assert_eq!(o.field_name, "住址");
    let days = (o.objection.deadline_at - o.objection.created_at) / 86_400_000;
    assert!(
        (5..=11).contains(&days),
        "5 working days: {days} calendar days"
    );
    assert!(!o.can_answer, "the raiser does not answer");
    // The same again while it is open: refused.
    let again = s
        .raise_objection(
            w.actor("c_off"),
            objection(&w, &key, "address", "另一地址 9 号"),
        )
        .await;
    assert_eq!(fields_of(again.unwrap_err()), ["field"]);

    // Who sees what: the two departments in full, the bureau masked, a third department nothing.
    let source_list = s
        .objections(w.actor("p_off"), Some(ObjectionStatus::Open), &all)
        .await
        .unwrap();
    assert_eq!(source_list.total, 1);
    assert!(source_list.items[0].can_answer);
    assert_eq!(source_list.items[0].objection.row_key, key);
    let bureau = s.objection(w.actor("b_off"), o.objection.id).await.unwrap();
    assert_ne!(bureau.objection.row_key, key, "masked for the bureau");
    assert!(
        bureau.objection.row_key.contains('*'),
        "{}",
        bureau.objection.row_key
    );
    assert_ne!(bureau.objection.claimed_value, new_address);
    assert_eq!(
        s.objections(w.actor("x_off"), None, &all)
            .await
            .unwrap()
            .total,
        0
    );
    assert!(matches!(
        s.objection(w.actor("x_off"), o.objection.id).await,
        Err(Error::NotFound { .. })
    ));

    // Only the source answers; a bad answer names its field and changes nothing.
    let answer = |outcome, text: &str, v: Option<&str>| ObjectionAnswer {
        outcome,
        answer: text.into(),
        corrected_value: v.map(str::to_owned),
    };
    let by_raiser = s
        .answer_objection(
            w.actor("c_off"),
            o.objection.id,
            answer(ObjectionStatus::Corrected, "改", None),
        )
        .await;
    assert!(
        matches!(by_raiser, Err(Error::Forbidden(_))),
        "{by_raiser:?}"
    );
    let e = s
        .answer_objection(
            w.actor("p_off"),
            o.objection.id,
            answer(ObjectionStatus::Open, "", None),
        )
        .await
        .unwrap_err();
    assert_eq!(fields_of(e), ["answer", "outcome"]);
    assert_eq!(row_value(&w, &key, "address").await, old_address);

    // 公安局 corrects the registry: the row the gateway serves changes.
    let done = s
        .answer_objection(
            w.actor("p_off"),
            o.objection.id,
            answer(ObjectionStatus::Corrected, "经户籍系统核实，已更正", None),
        )
        .await
        .unwrap();
    assert_eq!(done.objection.status, ObjectionStatus::Corrected);
    assert_eq!(done.objection.corrected_value.as_deref(), Some(new_address));
    assert_eq!(row_value(&w, &key, "address").await, new_address);
    let twice = s
        .answer_objection(
            w.actor("p_off"),
            o.objection.id,
            answer(ObjectionStatus::Confirmed, "无误", None),
        )
        .await;
    assert!(matches!(twice, Err(Error::Conflict { .. })), "{twice:?}");

    // Another, confirmed: the registry stays as it is.
    let phone = person(4, "690102")["phone"].as_str().unwrap().to_owned();
    let o2 = s
        .raise_objection(
            w.actor("c_off"),
            objection(&w, &key, "phone", "13900001111"),
        )
        .await
        .unwrap();
    s.answer_objection(
        w.actor("p_off"),
        o2.objection.id,
        answer(ObjectionStatus::Confirmed, "号码经本人确认无误", None),
    )
    .await
    .unwrap();
    assert_eq!(row_value(&w, &key, "phone").await, phone);

    // Lists: open first, then answered newest first; by state; each step in the audit chain.
    let mine = s.objections(w.actor("c_off"), None, &all).await.unwrap();
    assert_eq!(mine.total, 2);
    assert_eq!(mine.items[0].objection.id, o2.objection.id);
    let corrected = s
        .objections(w.actor("c_off"), Some(ObjectionStatus::Corrected), &all)
        .await
        .unwrap();
    assert_eq!(corrected.items.len(), 1);
    let mut c = w.db().pool().acquire().await.unwrap();
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM kernel_audit WHERE entity = 'sharing_objection' ORDER BY seq",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    assert_eq!(actions, ["raise", "answer", "raise", "answer"]);
}
