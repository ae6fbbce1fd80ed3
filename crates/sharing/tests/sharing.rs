//! 一网共享 on both backends: catalog review and search, 挂接 uploads, the approval chain per
//! 共享属性, grants that cannot outlive their approval, the gateway (fields, masks, row
//! filters, refusals) and the chained call log.

mod common;

use common::*;
use kernel::{Db, Error};
use serde_json::{json, Value};
use sharing::catalog::domain::VersionStatus;
use sharing::gateway::service::{GatewayQuery, Refused};
use sharing::grants::domain::{
    GrantChange, GrantTerms, Level, NewRequest, RequestStatus, StepStatus,
};
use sharing::grants::service::RequestView;

testkit::on_both_backends!(migrations;
    catalog_is_drafted_submitted_reviewed_and_searched,
    bad_entries_name_the_field_and_write_nothing,
    upload_names_bad_rows_by_line_and_column_and_keeps_good_ones,
    approval_chain_follows_the_share_kind,
    a_grant_cannot_outlive_its_approval,
    gateway_serves_only_granted_fields_masked_and_filtered,
    gateway_refuses_expired_revoked_over_rate_and_other_departments,
    tampering_with_the_call_log_is_found_naming_the_row,
);

/// A day `offset` days from today, China time, `YYYY-MM-DD`.
fn day(offset: i64) -> String {
    let now = kernel::clock::Clock::system().now() + offset * 86_400_000;
    kernel::clock::to_china(now).format("%Y-%m-%d").to_string()
}

fn request(codes: &[&str], fields: Vec<Vec<&str>>, until: &str) -> NewRequest {
    NewRequest {
        resources: codes.iter().map(|s| s.to_string()).collect(),
        purpose: "低保对象家庭人口核查".into(),
        legal_basis: "《社会救助暂行办法》第十一条".into(),
        fields: fields
            .into_iter()
            .map(|f| f.into_iter().map(str::to_owned).collect())
            .collect(),
        system: "民政救助系统".into(),
        period_from: day(0),
        period_until: until.into(),
    }
}

/// Requests 人口 for 民政局 and takes it through the three levels; the terms at the end.
async fn granted(w: &World, fields: Vec<&str>, terms: GrantTerms) -> RequestView {
    let code = w.people_res.resource.code.clone();
    let r = w
        .svc
        .submit_request(w.actor("c_off"), request(&[&code], vec![fields], &day(700)))
        .await
        .unwrap()
        .remove(0);
    w.svc
        .decide(w.actor("p_off"), r.request.id, true, "", None)
        .await
        .unwrap();
    w.svc
        .decide(w.actor("p_cdo"), r.request.id, true, "同意", None)
        .await
        .unwrap();
    let v = w
        .svc
        .decide(w.actor("b_off"), r.request.id, true, "", Some(terms))
        .await
        .unwrap();
    assert_eq!(v.request.status, RequestStatus::Approved);
    v
}

fn q(page: i64, size: i64, filters: &[(&str, &str)]) -> GatewayQuery {
    GatewayQuery {
        page,
        page_size: size,
        filters: filters
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        request_line: format!("GET /gateway/v1/resources/x?page={page}"),
    }
}

fn body(s: &sharing::gateway::service::Served) -> Value {
    serde_json::from_slice(&s.body).unwrap()
}

async fn catalog_is_drafted_submitted_reviewed_and_searched(db: Db) {
    let w = world(db).await;
    let (po, bo, co) = (w.actor("p_off"), w.actor("b_off"), w.actor("c_off"));
    assert_eq!(w.people.entry.code, "A101-000001");
    assert_eq!(
        w.people.published().unwrap().status,
        VersionStatus::Published
    );
    assert!(w.people.entry.published_at.is_some());
    // A second entry of the same class gets the next 顺序码; another department may not draft
    // for 公安局, and the bureau alone reviews.
    let mut e = people_entry("unconditional");
    e.content.name = "流动人口登记信息".into();
    let d = w.svc.create_entry(po, e.clone()).await.unwrap();
    assert_eq!(d.entry.code, "A101-000002");
    e.provider_dept_id = Some(w.city.dept("公安局"));
    assert!(matches!(
        w.svc.create_entry(co, e).await,
        Err(Error::Forbidden(_))
    ));
    w.svc.submit_entry(po, d.entry.id, 1).await.unwrap();
    assert!(matches!(
        w.svc.review_entry(po, d.entry.id, 1, true, "").await,
        Err(Error::Forbidden(_))
    ));
    // Returning needs a reason; a returned version is changed and submitted again.
    let Err(Error::Validation(f)) = w.svc.review_entry(bo, d.entry.id, 1, false, " ").await else {
        panic!("return without reason")
    };
    assert_eq!(f[0].field, "reason");
    let r = w
        .svc
        .review_entry(bo, d.entry.id, 1, false, "摘要过于简单")
        .await
        .unwrap();
    assert_eq!(r.latest().status, VersionStatus::Returned);
    assert_eq!(r.latest().return_reason, "摘要过于简单");
    let mut c = r.latest().content.clone();
    c.summary = "在本市居住半年以上的流动人口登记信息，含登记地与有效期".into();
    w.svc.update_entry(po, d.entry.id, 1, c).await.unwrap();
    // Draft and returned entries are not in the public catalog nor in search.
    let found = w.svc.search_entries("流动人口").await.unwrap();
    assert!(
        !found.iter().any(|l| l.entry.id == d.entry.id),
        "a draft is not searchable: {found:?}"
    );
    w.svc.submit_entry(po, d.entry.id, 1).await.unwrap();
    w.svc
        .review_entry(bo, d.entry.id, 1, true, "")
        .await
        .unwrap();
    let found = w.svc.search_entries("流动人口").await.unwrap();
    assert_eq!(found[0].entry.id, d.entry.id);
    let found = w.svc.search_entries("身份证号").await.unwrap();
    assert_eq!(found.len(), 2, "信息项 names are searched");
    assert!(w.svc.search_entries("营业执照").await.unwrap().is_empty());
    // A published version never changes; a new version is a draft, published over the old.
    let c = w.people.published().unwrap().content.clone();
    let e = w
        .svc
        .update_entry(po, w.people.entry.id, 1, c.clone())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::IllegalTransition { .. }), "{e:?}");
    let v = w
        .svc
        .new_entry_version(po, w.people.entry.id)
        .await
        .unwrap();
    assert_eq!(v.latest().version, 2);
    assert!(w
        .svc
        .new_entry_version(po, w.people.entry.id)
        .await
        .is_err());
    w.svc.submit_entry(po, w.people.entry.id, 2).await.unwrap();
    let v = w
        .svc
        .review_entry(bo, w.people.entry.id, 2, true, "")
        .await
        .unwrap();
    assert_eq!(v.entry.published_version, 2);
    assert_eq!(v.versions[0].status, VersionStatus::Superseded);
    // Every step is in the audit chain.
    let h = kernel::audit::history(w.db(), "sharing_entry", &d.entry.id.to_string())
        .await
        .unwrap();
    let actions: Vec<&str> = h.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        ["create", "submit", "return", "update", "submit", "publish"]
    );
    assert!(kernel::audit::verify(w.db())
        .await
        .unwrap()
        .first_broken
        .is_none());
}

async fn bad_entries_name_the_field_and_write_nothing(db: Db) {
    let w = world(db).await;
    let before = w.svc.entries(None, None).await.unwrap().len();
    let mut e = people_entry("conditional");
    e.class = vec!["1".into(), "x1".into()];
    e.content.items[1].field = "ID No".into();
    e.content.items[2].field = "name".into();
    e.content.items[0].length = 0;
    e.content.share_condition = String::new();
    let Err(Error::Validation(f)) = w.svc.create_entry(w.actor("p_off"), e).await else {
        panic!("bad entry accepted")
    };
    let fields: Vec<&str> = f.iter().map(|x| x.field.as_str()).collect();
    for want in [
        "class[1]",
        "content.items[1].field",
        "content.items[2].field",
        "content.items[0].length",
        "content.share_condition",
    ] {
        assert!(fields.contains(&want), "{want} not named in {fields:?}");
    }
    assert!(f.iter().all(|x| !x.detail.is_empty()));
    assert_eq!(w.svc.entries(None, None).await.unwrap().len(), before);
    // A push naming an unknown field or a bad JSON value is reported, not stored.
    let code = w.people_res.resource.code.clone();
    let rep = w
        .svc
        .push_rows(
            w.actor("p_off"),
            &code,
            vec![
                json!({"name": "李四", "id_no": id_no("69010219800101001"), "shoe": 42})
                    .as_object()
                    .unwrap()
                    .clone(),
            ],
        )
        .await
        .unwrap();
    assert_eq!((rep.accepted, rep.rejected), (0, 1));
    assert_eq!(rep.errors[0].column, "shoe");
    assert_eq!(w.svc.resource(&code).await.unwrap().resource.row_count, 30);
}

async fn upload_names_bad_rows_by_line_and_column_and_keeps_good_ones(db: Db) {
    let w = world(db).await;
    let code = w.people_res.resource.code.clone();
    let good1 = id_no("69010219850203004");
    let good2 = id_no("69010219850203005");
    let bad_check = {
        let g = id_no("69010219850203006");
        let last = if g.ends_with('1') { '2' } else { '1' };
        format!("{}{last}", &g[..17])
    };
    let csv = format!(
        "姓名,身份证号,出生日期,联系电话,年龄\n\
         王五,{good1},1985-02-03,13800000001,41\n\
         赵六,{bad_check},1985-02-03,13800000002,41\n\
         钱七,{good2},1985-02-30,1380000,abc\n\
         ,{good2},1985-02-03,13800000003,41\n\
         孙八,{good2},1985/2/3,,\n"
    );
    let rep = w
        .svc
        .load_file(w.actor("p_off"), &code, "人口.csv", csv.as_bytes())
        .await
        .unwrap();
    assert_eq!(rep.accepted, 2, "{rep:?}");
    assert_eq!(rep.rejected, 3);
    let named: Vec<(usize, &str)> = rep
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_str()))
        .collect();
    assert_eq!(
        named,
        vec![
            (3, "身份证号"),
            (4, "出生日期"),
            (4, "联系电话"),
            (4, "年龄"),
            (5, "姓名"),
        ]
    );
    assert!(
        rep.errors[0].message.contains("校验位"),
        "{:?}",
        rep.errors[0]
    );
    let r = w.svc.resource(&code).await.unwrap();
    assert_eq!(r.resource.row_count, 32);
    assert!(!r.overdue);
    // The same upload again replaces by primary key: nothing is added.
    w.svc
        .load_file(w.actor("p_off"), &code, "人口.csv", csv.as_bytes())
        .await
        .unwrap();
    assert_eq!(w.svc.resource(&code).await.unwrap().resource.row_count, 32);
    // Another department may not load 公安局's table; a file without any 信息项 is refused.
    assert!(matches!(
        w.svc
            .load_file(w.actor("c_off"), &code, "x.csv", csv.as_bytes())
            .await,
        Err(Error::Forbidden(_))
    ));
    let Err(Error::Validation(f)) = w
        .svc
        .load_file(w.actor("p_off"), &code, "x.csv", b"a,b\n1,2\n")
        .await
    else {
        panic!("file without columns accepted")
    };
    assert_eq!(f[0].field, "file");
    // A resource not loaded within its 更新周期 is overdue (a clock two days on).
    let later = kernel::Db::connect_with(
        w.db().url(),
        kernel::clock::Clock::manual(w.db().now() + 3 * 86_400_000),
    )
    .await
    .unwrap();
    let s2 = sharing::SharingService::new(later);
    assert!(s2.resource(&code).await.unwrap().overdue);
}

async fn approval_chain_follows_the_share_kind(db: Db) {
    let w = world(db).await;
    let code = w.people_res.resource.code.clone();
    // 有条件: 数据专员 → 首席数据官 → 数据局, each with a deadline.
    let r = w
        .svc
        .submit_request(
            w.actor("c_off"),
            request(&[&code], vec![vec!["name", "id_no"]], &day(700)),
        )
        .await
        .unwrap()
        .remove(0);
    let levels: Vec<Level> = r.steps.iter().map(|s| s.level).collect();
    assert_eq!(
        levels,
        [Level::ProviderOfficer, Level::ChiefOfficer, Level::Bureau]
    );
    assert!(r.steps[0].due_at > r.request.created_at);
    assert_eq!(r.steps[1].status, StepStatus::Waiting);
    let id = r.request.id;
    // Only the level's approver may decide: not the consumer, not the chief first, not the bureau.
    for who in ["c_off", "p_cdo", "b_off", "x_off"] {
        assert!(
            matches!(
                w.svc.decide(w.actor(who), id, true, "", None).await,
                Err(Error::Forbidden(_))
            ),
            "{who} decided the first level"
        );
    }
    assert_eq!(
        w.svc.approval_queue(w.actor("p_off")).await.unwrap().len(),
        1
    );
    assert!(w
        .svc
        .approval_queue(w.actor("p_cdo"))
        .await
        .unwrap()
        .is_empty());
    let v = w
        .svc
        .decide(w.actor("p_off"), id, true, "", None)
        .await
        .unwrap();
    assert_eq!(v.current().unwrap().level, Level::ChiefOfficer);
    assert!(v.current().unwrap().due_at > 0);
    assert!(matches!(
        w.svc.decide(w.actor("p_off"), id, true, "", None).await,
        Err(Error::Forbidden(_))
    ));
    w.svc
        .decide(w.actor("p_cdo"), id, true, "", None)
        .await
        .unwrap();
    assert_eq!(
        w.svc.approval_queue(w.actor("b_off")).await.unwrap()[0]
            .request
            .id,
        id
    );
    let v = w
        .svc
        .decide(w.actor("b_off"), id, true, "", None)
        .await
        .unwrap();
    assert_eq!(v.request.status, RequestStatus::Approved);
    let g = w.svc.grant(v.grant_id.unwrap()).await.unwrap();
    assert_eq!(
        g.fields
            .iter()
            .map(|f| f.field.as_str())
            .collect::<Vec<_>>(),
        ["name", "id_no"]
    );
    assert_eq!(g.expires_at, v.request.period_until);
    assert!(matches!(
        w.svc.decide(w.actor("b_off"), id, true, "", None).await,
        Err(Error::IllegalTransition { .. })
    ));

    // Refusal needs a reason and ends the request.
    let r = w
        .svc
        .submit_request(
            w.actor("c_off"),
            request(&[&code], vec![vec!["name"]], &day(700)),
        )
        .await
        .unwrap()
        .remove(0);
    let Err(Error::Validation(f)) = w
        .svc
        .decide(w.actor("p_off"), r.request.id, false, "", None)
        .await
    else {
        panic!("refused without reason")
    };
    assert_eq!(f[0].field, "reason");
    let v = w
        .svc
        .decide(
            w.actor("p_off"),
            r.request.id,
            false,
            "用途与数据无关",
            None,
        )
        .await
        .unwrap();
    assert_eq!(v.request.status, RequestStatus::Refused);
    assert_eq!(v.steps[1].status, StepStatus::Waiting);
    assert!(v.grant_id.is_none());

    // 无条件: the provider's data officer alone; 不予共享: refused at once with its 依据.
    let mut e = people_entry("unconditional");
    e.class = vec!["2".into()];
    let (_, open_res) = publish_and_mount(&w.svc, &w.city, e, vec![person(1, "690102")]).await;
    let mut e = people_entry("not_shared");
    e.class = vec!["3".into()];
    let (_, closed_res) = publish_and_mount(&w.svc, &w.city, e, vec![person(1, "690102")]).await;
    let rs = w
        .svc
        .submit_request(
            w.actor("c_off"),
            request(
                &[&open_res.resource.code, &closed_res.resource.code],
                vec![],
                &day(700),
            ),
        )
        .await
        .unwrap();
    assert_eq!(rs.len(), 2);
    assert_eq!(rs[0].steps.len(), 1);
    assert!(rs[1].steps.is_empty());
    assert_eq!(rs[1].request.status, RequestStatus::Refused);
    assert!(
        rs[1].request.reason.contains("社会救助暂行办法"),
        "{}",
        rs[1].request.reason
    );
    let v = w
        .svc
        .decide(w.actor("p_off"), rs[0].request.id, true, "", None)
        .await
        .unwrap();
    assert_eq!(v.request.status, RequestStatus::Approved);
    let g = w.svc.grant(v.grant_id.unwrap()).await.unwrap();
    assert!(
        !g.fields.iter().any(|f| f.field == "income"),
        "a secret item is never granted"
    );
    // Default masks follow the 信息项: sensitive identifiers masked by kind.
    let mask = |f: &str| g.fields.iter().find(|x| x.field == f).unwrap().mask.code();
    assert_eq!(mask("id_no"), "MASK_ID_CARD");
    assert_eq!(mask("name"), "MASK_NAME");
    assert_eq!(mask("gender"), "NONE");
    // Asking for a secret item is refused, naming it, and nothing is written.
    let before = w.svc.requests(w.actor("c_off")).await.unwrap().len();
    let Err(Error::Validation(f)) = w
        .svc
        .submit_request(
            w.actor("c_off"),
            request(&[&code], vec![vec!["name", "income"]], &day(700)),
        )
        .await
    else {
        panic!("secret item requested")
    };
    assert_eq!(f[0].field, "fields[0][1]");
    assert_eq!(
        w.svc.requests(w.actor("c_off")).await.unwrap().len(),
        before
    );
    assert!(kernel::audit::verify(w.db())
        .await
        .unwrap()
        .first_broken
        .is_none());
}

async fn a_grant_cannot_outlive_its_approval(db: Db) {
    let w = world(db).await;
    let code = w.people_res.resource.code.clone();
    let r = w
        .svc
        .submit_request(
            w.actor("c_off"),
            request(&[&code], vec![vec!["name"]], &day(365)),
        )
        .await
        .unwrap()
        .remove(0);
    w.svc
        .decide(w.actor("p_off"), r.request.id, true, "", None)
        .await
        .unwrap();
    w.svc
        .decide(w.actor("p_cdo"), r.request.id, true, "", None)
        .await
        .unwrap();
    let terms = GrantTerms {
        expires_on: Some(day(366)),
        ..Default::default()
    };
    let Err(Error::Validation(f)) = w
        .svc
        .decide(w.actor("b_off"), r.request.id, true, "", Some(terms))
        .await
    else {
        panic!("a grant beyond the approved period")
    };
    assert_eq!(f[0].field, "expires_on");
    assert_eq!(
        w.svc
            .request(w.actor("c_off"), r.request.id)
            .await
            .unwrap()
            .current()
            .unwrap()
            .level,
        Level::Bureau,
        "nothing half-written"
    );
    let terms = GrantTerms {
        expires_on: Some(day(300)),
        ..Default::default()
    };
    let v = w
        .svc
        .decide(w.actor("b_off"), r.request.id, true, "", Some(terms))
        .await
        .unwrap();
    let gid = v.grant_id.unwrap();
    let renew = |d: &str| GrantChange::Renew {
        expires_on: d.into(),
    };
    let Err(Error::Validation(f)) = w
        .svc
        .change_grant(w.actor("p_off"), gid, renew(&day(366)))
        .await
    else {
        panic!("renewed beyond approval")
    };
    assert_eq!(f[0].field, "expires_on");
    let g = w
        .svc
        .change_grant(w.actor("p_off"), gid, renew(&day(365)))
        .await
        .unwrap();
    assert_eq!(g.expires_at, g.approved_until);
    // The consumer may not change it; narrowing never widens; revoking needs a reason.
    assert!(matches!(
        w.svc
            .change_grant(w.actor("c_off"), gid, renew(&day(200)))
            .await,
        Err(Error::Forbidden(_))
    ));
    let widen = GrantChange::Narrow {
        fields: Some(vec![serde_json::from_value(
            json!({"field": "id_no", "mask": "NONE"}),
        )
        .unwrap()]),
        add_conditions: vec![],
        rate_per_minute: None,
    };
    assert!(w
        .svc
        .change_grant(w.actor("p_off"), gid, widen)
        .await
        .is_err());
    assert!(w
        .svc
        .change_grant(
            w.actor("p_off"),
            gid,
            GrantChange::Revoke { reason: "".into() }
        )
        .await
        .is_err());
    let g = w
        .svc
        .change_grant(
            w.actor("p_off"),
            gid,
            GrantChange::Revoke {
                reason: "用途已结束".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(g.revoke_reason, "用途已结束");
    assert!(w
        .svc
        .change_grant(w.actor("p_off"), gid, renew(&day(200)))
        .await
        .is_err());
}

async fn gateway_serves_only_granted_fields_masked_and_filtered(db: Db) {
    let w = world(db).await;
    let code = w.people_res.resource.code.clone();
    let terms: GrantTerms = serde_json::from_value(json!({
        "fields": [
            {"field": "name", "mask": "MASK_NAME"},
            {"field": "id_no", "mask": "MASK_ID_CARD"},
            {"field": "phone", "mask": "MASK_HASH"},
            {"field": "birth", "mask": "MASK_DATE_SHOW_YEAR"},
            {"field": "age"}
        ],
        "row_filter": [{"field": "district", "op": "eq", "values": ["690102"]}],
        "rate_per_minute": 1000
    }))
    .unwrap();
    let v = granted(
        &w,
        vec!["name", "id_no", "phone", "birth", "age", "district"],
        terms,
    )
    .await;
    let token = w
        .svc
        .register_system(w.actor("c_off"), "民政救助系统")
        .await
        .unwrap()
        .token;
    let caller = w.token_actor(&token).await;
    let s = w
        .svc
        .serve(&caller, &token, &code, q(1, 1000, &[]))
        .await
        .unwrap();
    assert_eq!(s.grant_id, v.grant_id.unwrap());
    let b = body(&s);
    let rows = b["rows"].as_array().unwrap();
    // 30 rows, a third in 690103: the row filter keeps 20.
    assert_eq!(b["total"], 20);
    assert_eq!(rows.len(), 20);
    let originals: Vec<_> = (0..30)
        .filter(|i| i % 3 != 0)
        .map(|i| person(i, "690102"))
        .collect();
    for (row, orig) in rows.iter().zip(&originals) {
        let keys: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 5, "only granted fields: {keys:?}");
        for never in ["gender", "address", "district", "income"] {
            assert!(row.get(never).is_none(), "{never} served");
        }
        let id = orig["id_no"].as_str().unwrap();
        assert_eq!(row["id_no"], kernel::mask::id_card(id));
        assert_eq!(
            row["name"],
            kernel::mask::name(orig["name"].as_str().unwrap())
        );
        let phone = orig["phone"].as_str().unwrap();
        assert_eq!(
            row["phone"],
            sharing::gateway::domain::sm3_hex(phone.as_bytes())
        );
        assert_eq!(row["birth"], "1990-01-01");
        assert_eq!(row["age"], 36, "an unmasked int keeps its type");
        assert!(
            !s.body.windows(id.len()).any(|x| x == id.as_bytes()),
            "a full 身份证号 served"
        );
    }
    // Paging and a field filter by a granted field; a filter on another field is refused.
    let s = w
        .svc
        .serve(&caller, &token, &code, q(2, 8, &[]))
        .await
        .unwrap();
    let b = body(&s);
    assert_eq!(
        (b["page"].as_i64(), b["rows"].as_array().unwrap().len()),
        (Some(2), 8)
    );
    let one = originals[3]["id_no"].as_str().unwrap();
    let s = w
        .svc
        .serve(&caller, &token, &code, q(1, 10, &[("id_no", one)]))
        .await
        .unwrap();
    assert_eq!(body(&s)["total"], 1);
    let hidden = person(0, "690103");
    let s = w
        .svc
        .serve(
            &caller,
            &token,
            &code,
            q(1, 10, &[("id_no", hidden["id_no"].as_str().unwrap())]),
        )
        .await
        .unwrap();
    assert_eq!(
        body(&s)["total"],
        0,
        "the row filter holds under a field filter"
    );
    let e = w
        .svc
        .serve(&caller, &token, &code, q(1, 10, &[("gender", "男")]))
        .await
        .unwrap_err();
    assert_eq!((e.status, e.code), (422, "unknown_filter"));
    let e = w
        .svc
        .serve(&caller, &token, &code, q(1, 1001, &[]))
        .await
        .unwrap_err();
    assert_eq!(e.code, "invalid_page_size");
    // The listing names the grant and its fields.
    let list = w.svc.granted_resources(&caller, &token).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].resource_code, code);
    // The provider reads who used its data; the call log verifies.
    let calls = w.svc.calls(w.actor("p_off"), None, 100).await.unwrap();
    assert!(calls
        .iter()
        .any(|c| c.result == "ok" && c.row_count == 20 && c.system == "民政救助系统"));
    assert!(w
        .svc
        .calls(w.actor("x_off"), None, 100)
        .await
        .unwrap()
        .is_empty());
    assert!(w.svc.verify_calls().await.unwrap().first_broken.is_none());
}

async fn gateway_refuses_expired_revoked_over_rate_and_other_departments(db: Db) {
    let w = world(db).await;
    let code = w.people_res.resource.code.clone();
    let terms = GrantTerms {
        rate_per_minute: Some(3),
        expires_on: Some(day(700)),
        ..Default::default()
    };
    let v = granted(&w, vec!["name", "gender"], terms).await;
    let gid = v.grant_id.unwrap();
    let token = w
        .svc
        .register_system(w.actor("c_off"), "民政救助系统")
        .await
        .unwrap()
        .token;
    let caller = w.token_actor(&token).await;
    // Another department's token, and an unbound token of the right department, get nothing.
    let other = w
        .svc
        .register_system(w.actor("x_off"), "人社系统")
        .await
        .unwrap()
        .token;
    let e = w
        .svc
        .serve(&w.token_actor(&other).await, &other, &code, q(1, 10, &[]))
        .await
        .unwrap_err();
    assert_eq!((e.status, e.code), (403, "no_grant"));
    assert!(w
        .svc
        .granted_resources(&w.token_actor(&other).await, &other)
        .await
        .unwrap()
        .is_empty());
    let e: Refused = w
        .svc
        .serve(&w.actor("c_off").clone(), &token, &code, q(1, 10, &[]))
        .await
        .unwrap_err();
    assert_eq!(e.code, "not_a_gateway_token", "a session is not a system");
    // A token of the consumer's system but not bound to that system: stolen-token style.
    let e = w
        .svc
        .serve(&caller, "yw_not_this_one", &code, q(1, 10, &[]))
        .await
        .unwrap_err();
    assert_eq!(e.code, "unbound_token");
    // Over rate: 3 a minute.
    for _ in 0..3 {
        w.svc
            .serve(&caller, &token, &code, q(1, 10, &[]))
            .await
            .unwrap();
    }
    let e = w
        .svc
        .serve(&caller, &token, &code, q(1, 10, &[]))
        .await
        .unwrap_err();
    assert_eq!(
        (e.status, e.code, e.retry_after),
        (429, "rate_limited", Some(60))
    );
    assert!(e.detail.contains("每分钟 3 次"));
    assert_eq!(e.grant_id, Some(gid));
    // Expired: the same database a year and more on.
    let later = kernel::Db::connect_with(
        w.db().url(),
        kernel::clock::Clock::manual(kernel::clock::Clock::system().now() + 100 * 366 * 86_400_000),
    )
    .await
    .unwrap();
    let s2 = sharing::SharingService::new(later);
    let e = s2
        .serve(&caller, &token, &code, q(1, 10, &[]))
        .await
        .unwrap_err();
    assert_eq!((e.status, e.code), (403, "grant_expired"));
    assert!(e.detail.contains("到期"));
    // Revoked.
    w.svc
        .change_grant(
            w.actor("p_off"),
            gid,
            GrantChange::Revoke {
                reason: "核查已完成".into(),
            },
        )
        .await
        .unwrap();
    let e = w
        .svc
        .serve(&caller, &token, &code, q(1, 10, &[]))
        .await
        .unwrap_err();
    assert_eq!((e.status, e.code), (403, "grant_revoked"));
    assert!(e.detail.contains("核查已完成"));
    assert!(w
        .svc
        .granted_resources(&caller, &token)
        .await
        .unwrap()
        .is_empty());
    // Every refusal is in the log with its reason.
    let calls = w.svc.calls(w.actor("b_off"), None, 100).await.unwrap();
    for reason in ["no_grant", "rate_limited", "grant_expired", "grant_revoked"] {
        assert!(
            calls.iter().any(|c| c.result == reason),
            "{reason} not logged"
        );
    }
}

async fn tampering_with_the_call_log_is_found_naming_the_row(db: Db) {
    let w = world(db).await;
    let code = w.people_res.resource.code.clone();
    granted(&w, vec!["name"], GrantTerms::default()).await;
    let token = w
        .svc
        .register_system(w.actor("c_off"), "民政救助系统")
        .await
        .unwrap()
        .token;
    let caller = w.token_actor(&token).await;
    for _ in 0..5 {
        w.svc
            .serve(&caller, &token, &code, q(1, 5, &[]))
            .await
            .unwrap();
    }
    let ok = w.svc.verify_calls().await.unwrap();
    assert_eq!((ok.calls, ok.first_broken.clone()), (5, None));
    let exec = |sql: String| {
        let db = w.db().clone();
        async move {
            let mut tx = db.begin().await.unwrap();
            sqlx::query(&sql).execute(&mut *tx).await.unwrap();
            tx.commit().await.unwrap();
        }
    };
    let (count, fields, system): (i64, String, String) =
        sqlx::query_as("SELECT row_count, fields, system FROM sharing_calls WHERE seq = 3")
            .fetch_one(w.db().pool())
            .await
            .unwrap();
    // Each change of a row is found, naming it; put back, the chain verifies again.
    for (tamper, restore) in [
        (
            "UPDATE sharing_calls SET row_count = 500 WHERE seq = 3".to_owned(),
            format!("UPDATE sharing_calls SET row_count = {count} WHERE seq = 3"),
        ),
        (
            "UPDATE sharing_calls SET fields = '[\"name\",\"id_no\"]' WHERE seq = 3".to_owned(),
            format!("UPDATE sharing_calls SET fields = '{fields}' WHERE seq = 3"),
        ),
        (
            "UPDATE sharing_calls SET system = '别的系统' WHERE seq = 3".to_owned(),
            format!("UPDATE sharing_calls SET system = '{system}' WHERE seq = 3"),
        ),
        (
            "UPDATE sharing_calls SET at = at + 1 WHERE seq = 4".to_owned(),
            "UPDATE sharing_calls SET at = at - 1 WHERE seq = 4".to_owned(),
        ),
    ] {
        exec(tamper.clone()).await;
        let v = w.svc.verify_calls().await.unwrap();
        let b = v
            .first_broken
            .unwrap_or_else(|| panic!("{tamper} not found"));
        assert_eq!(
            b.seq,
            if tamper.contains("seq = 4") { 4 } else { 3 },
            "{tamper}: {}",
            b.reason
        );
        exec(restore).await;
        assert_eq!(
            w.svc.verify_calls().await.unwrap(),
            ok,
            "restored after {tamper}"
        );
    }
    // A removed last row is found from the head; a removed middle row by the gap.
    exec("DELETE FROM sharing_calls WHERE seq = 5".into()).await;
    let v = w.svc.verify_calls().await.unwrap();
    assert_eq!(v.first_broken.unwrap().seq, 5);
    exec("DELETE FROM sharing_calls WHERE seq = 3".into()).await;
    let v = w.svc.verify_calls().await.unwrap();
    let b = v.first_broken.unwrap();
    assert_eq!(b.seq, 3);
    assert!(b.reason.contains("缺失"), "{}", b.reason);
}
