//! Issue 13's catalog side, on both backends: 一数一源 per 信息项 (an objection goes to the
//! item's source department), the notifications of 申请用数 reaching the right people at each
//! step, the 共享/开放责任清单 per department, and the catalog workbook (export, and an import
//! of good and bad rows: bad ones named by sheet, line and column, good ones kept whole).

mod common;

use common::*;
use kernel::page::PageQuery;
use kernel::{Db, Error};
use serde_json::json;
use sharing::catalog::domain::{NewEntry, VersionStatus};
use sharing::duties::domain::DutyKind;
use sharing::grants::domain::{GrantChange, GrantTerms, NewRequest};
use sharing::objections::domain::NewObjection;
use tabular::Cell;

testkit::on_both_backends!(migrations;
    each_item_names_its_source_and_objections_go_there,
    each_step_of_a_request_notifies_the_right_people,
    duty_lists_per_department,
    catalog_workbook_round_trip_and_bad_rows,
);

fn day(offset: i64) -> String {
    let now = kernel::clock::Clock::system().now() + offset * 86_400_000;
    kernel::clock::to_china(now).format("%Y-%m-%d").to_string()
}

fn all() -> PageQuery {
    PageQuery {
        page: None,
        per_page: None,
    }
}

async fn inbox(w: &World, who: &str) -> Vec<(String, String)> {
    notify::NotifyService::new(w.db().clone())
        .inbox(w.actor(who), &notify::InboxQuery::default(), &all())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|n| (n.event, n.title))
        .collect()
}

/// 企业 registry with 法人 from 市场监管 (here 公安局 provides) and an address whose source is
/// 人社局.
fn registry(source: Option<i64>, category: &str) -> NewEntry {
    let mut v = json!({
        "category": category,
        "class": ["2", "01"],
        "content": {
            "name": "社保参保人员",
            "summary": "参保人员身份与住址",
            "format": "数据库",
            "items": [
                {"name": "身份证号", "field": "id_no", "data_type": "char", "length": 18, "primary_key": true, "semantic": "id_card"},
                {"name": "姓名", "field": "name", "data_type": "char", "length": 30, "semantic": "name"},
                {"name": "住址", "field": "address", "data_type": "char", "length": 100, "semantic": "address"}
            ],
            "share_kind": "unconditional",
            "open_kind": "not_open",
            "update_cycle": "daily"
        }
    });
    if let Some(s) = source {
        v["content"]["items"][2]["source_dept_id"] = json!(s);
    }
    serde_json::from_value(v).unwrap()
}

fn fields_of(e: Error) -> Vec<String> {
    match e {
        Error::Validation(f) => f.into_iter().map(|f| f.field).collect(),
        e => panic!("not a validation error: {e:?}"),
    }
}

async fn each_item_names_its_source_and_objections_go_there(db: Db) {
    let w = world(db).await;
    let s = &w.svc;
    let (po, hr, civil) = (
        w.city.dept("公安局"),
        w.city.dept("人社局"),
        w.city.dept("民政局"),
    );
    // Refused: a source on a department resource's item, an unknown department.
    let e = s
        .create_entry(w.actor("p_off"), registry(Some(hr), "department"))
        .await
        .unwrap_err();
    assert_eq!(fields_of(e), ["content.items[2].source_dept_id"]);
    let e = s
        .create_entry(w.actor("p_off"), registry(Some(999_999), "basic"))
        .await
        .unwrap_err();
    assert_eq!(fields_of(e), ["content.items[2].source_dept_id"]);

    let id = |i: usize| id_no(&format!("69010219850101{i:03}"));
    let rows = (0..3)
        .map(|i| {
            json!({"id_no": id(i), "name": "李四", "address": format!("旧址{i}号")})
                .as_object()
                .unwrap()
                .clone()
        })
        .collect();
    let (e, r) = publish_and_mount(s, &w.city, registry(Some(hr), "basic"), rows).await;
    // The entry (and so the API) names each item's source: the provider unless named.
    let src: Vec<(String, i64)> = e
        .item_sources
        .iter()
        .map(|x| (x.field.clone(), x.source_dept_id))
        .collect();
    assert_eq!(
        src,
        [
            ("id_no".into(), po),
            ("name".into(), po),
            ("address".into(), hr)
        ]
    );
    assert_eq!(e.item_sources[2].source_dept_name, "人社局");
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(
        json["versions"][0]["content"]["items"][2]["source_dept_id"],
        hr
    );
    assert!(json["versions"][0]["content"]["items"][1]
        .get("source_dept_id")
        .is_none());

    let obj = |field: &str, value: &str| NewObjection {
        resource_code: r.resource.code.clone(),
        row_key: id(1),
        field: field.into(),
        claimed_value: value.into(),
        reason: "救助申请时核实".into(),
    };
    // The address goes to 人社局, the name to the provider 公安局.
    let a = s
        .raise_objection(w.actor("c_off"), obj("address", "新址1号"))
        .await
        .unwrap();
    assert_eq!(a.objection.source_dept, hr);
    assert_eq!(a.source_dept_name, "人社局");
    let n = s
        .raise_objection(w.actor("c_off"), obj("name", "李思"))
        .await
        .unwrap();
    assert_eq!(n.objection.source_dept, po);
    assert_eq!(n.objection.raised_by_dept, civil);
    // Only the source answers; 人社局 does not object to its own item.
    let answer = sharing::objections::domain::ObjectionAnswer {
        outcome: sharing::objections::domain::ObjectionStatus::Corrected,
        answer: "已按户籍地址更正".into(),
        corrected_value: None,
    };
    let no = s
        .answer_objection(w.actor("p_off"), a.objection.id, answer.clone())
        .await;
    assert!(matches!(no, Err(Error::Forbidden(_))), "{no:?}");
    let done = s
        .answer_objection(w.actor("x_off"), a.objection.id, answer)
        .await
        .unwrap();
    assert_eq!(done.objection.corrected_value.as_deref(), Some("新址1号"));
    let own = s
        .raise_objection(w.actor("x_off"), obj("address", "别处"))
        .await;
    assert!(matches!(own, Err(Error::Forbidden(_))), "{own:?}");
}

fn people_request(w: &World, until: &str) -> NewRequest {
    NewRequest {
        resources: vec![w.people_res.resource.code.clone()],
        purpose: "低保对象家庭人口核查".into(),
        legal_basis: "《社会救助暂行办法》第十一条".into(),
        fields: vec![vec!["name".into(), "id_no".into()]],
        system: "民政救助系统".into(),
        period_from: day(0),
        period_until: until.into(),
    }
}

fn events(n: &[(String, String)], event: &str) -> usize {
    n.iter().filter(|(e, _)| e == event).count()
}

async fn each_step_of_a_request_notifies_the_right_people(db: Db) {
    let w = world(db).await;
    let s = &w.svc;
    let everyone = ["p_off", "p_cdo", "c_off", "c_cdo", "x_off", "b_off"];
    let count = |who: &'static str, event: &'static str| {
        let w = &w;
        async move { events(&inbox(w, who).await, event) }
    };
    // Submitted (有条件): the provider's data officer, nobody else.
    let r = s
        .submit_request(w.actor("c_off"), people_request(&w, &day(200)))
        .await
        .unwrap()
        .remove(0);
    for who in everyone {
        let want = usize::from(who == "p_off");
        assert_eq!(count(who, "sharing.request_pending").await, want, "{who}");
    }
    let told = inbox(&w, "p_off").await;
    assert!(told[0].1.contains("人口基础信息"), "{told:?}");
    // Each approval reaches the next level: the chief data officer, then the bureau.
    s.decide(w.actor("p_off"), r.request.id, true, "", None)
        .await
        .unwrap();
    assert_eq!(count("p_cdo", "sharing.request_pending").await, 1);
    assert_eq!(count("b_off", "sharing.request_pending").await, 0);
    s.decide(w.actor("p_cdo"), r.request.id, true, "", None)
        .await
        .unwrap();
    assert_eq!(count("b_off", "sharing.request_pending").await, 1);
    assert_eq!(count("c_off", "sharing.request_approved").await, 0);
    let terms = GrantTerms {
        expires_on: Some(day(3)),
        ..Default::default()
    };
    let done = s
        .decide(w.actor("b_off"), r.request.id, true, "", Some(terms))
        .await
        .unwrap();
    // Approved: the requester (a user's own inbox), not the rest of the department.
    assert_eq!(count("c_off", "sharing.request_approved").await, 1);
    assert_eq!(count("c_cdo", "sharing.request_approved").await, 0);
    assert_eq!(count("p_off", "sharing.request_approved").await, 0);

    // Refused at the first level: the requester hears why.
    let r2 = s
        .submit_request(w.actor("c_off"), people_request(&w, &day(100)))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(count("p_off", "sharing.request_pending").await, 2);
    s.decide(
        w.actor("p_off"),
        r2.request.id,
        false,
        "用途与所需信息项不符",
        None,
    )
    .await
    .unwrap();
    let c = inbox(&w, "c_off").await;
    assert_eq!(events(&c, "sharing.request_refused"), 1);
    assert!(c.iter().any(|(_, t)| t.contains("用数申请未通过")), "{c:?}");
    assert_eq!(count("x_off", "sharing.request_refused").await, 0);

    // Expiring within a week: the consumer is told once; a second sweep tells nobody.
    assert_eq!(s.notify_expiring_grants().await.unwrap(), 1);
    assert_eq!(s.notify_expiring_grants().await.unwrap(), 0);
    assert_eq!(count("c_off", "sharing.grant_expiring").await, 1);
    assert_eq!(count("p_off", "sharing.grant_expiring").await, 0);
    // A renewal is announced again when it too comes near.
    let gid = done.grant_id.expect("grant");
    s.change_grant(
        w.actor("p_off"),
        gid,
        GrantChange::Renew { expires_on: day(5) },
    )
    .await
    .unwrap();
    assert_eq!(s.notify_expiring_grants().await.unwrap(), 1);
    // Revoked: the consumer, with the reason.
    s.change_grant(
        w.actor("p_off"),
        gid,
        GrantChange::Revoke {
            reason: "救助核查已结束".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(count("c_off", "sharing.grant_revoked").await, 1);
    assert_eq!(count("p_off", "sharing.grant_revoked").await, 0);
    assert_eq!(s.notify_expiring_grants().await.unwrap(), 0, "revoked");
}

async fn duty_lists_per_department(db: Db) {
    let w = world(db).await;
    let s = &w.svc;
    let po = w.city.dept("公安局");
    // An open, unmounted entry of 公安局 besides the mounted 人口.
    let mut open = registry(None, "department");
    open.content.name = "交通违法处理点".into();
    open.content.items.retain(|i| i.field == "id_no");
    open.content.items[0].semantic = sharing::catalog::domain::Semantic::Plain;
    open.content.items[0].name = "处理点编号".into();
    open.content.open_kind = sharing::catalog::domain::OpenKind::Open;
    let e = s.create_entry(w.actor("p_off"), open).await.unwrap();
    s.submit_entry(w.actor("p_off"), e.entry.id, 1)
        .await
        .unwrap();
    s.review_entry(w.actor("b_off"), e.entry.id, 1, true, "")
        .await
        .unwrap();
    // A grant in force on 人口.
    let r = s
        .submit_request(w.actor("c_off"), people_request(&w, &day(60)))
        .await
        .unwrap()
        .remove(0);
    for who in ["p_off", "p_cdo", "b_off"] {
        s.decide(w.actor(who), r.request.id, true, "", None)
            .await
            .unwrap();
    }

    let l = s
        .duty_list(w.actor("p_off"), DutyKind::Share, None, &all())
        .await
        .unwrap();
    assert_eq!(l.dept_id, Some(po));
    assert_eq!(l.dept_name, "公安局");
    assert_eq!(
        (
            l.totals.entries,
            l.totals.shared,
            l.totals.open,
            l.totals.mounted
        ),
        (2, 2, 1, 1)
    );
    assert_eq!(l.totals.active_grants, 1);
    let people = l
        .page
        .items
        .iter()
        .find(|x| x.code == w.people.entry.code)
        .unwrap();
    assert!(people.mounted && !people.overdue && people.last_update_at.is_some());
    assert_eq!((people.active_grants, people.status()), (1, "正常"));
    let unmounted = l
        .page
        .items
        .iter()
        .find(|x| x.name == "交通违法处理点")
        .unwrap();
    assert_eq!(unmounted.status(), "待挂接");

    // 开放责任清单: the opened entry only.
    let o = s
        .duty_list(w.actor("p_off"), DutyKind::Open, None, &all())
        .await
        .unwrap();
    assert_eq!(o.totals.entries, 1);
    assert_eq!(o.page.items[0].name, "交通违法处理点");
    // Paging: totals over the whole list, one line a page.
    let one = PageQuery {
        page: Some(2),
        per_page: Some(1),
    };
    let p2 = s
        .duty_list(w.actor("p_off"), DutyKind::Share, None, &one)
        .await
        .unwrap();
    assert_eq!(
        (p2.page.total, p2.page.items.len(), p2.totals.entries),
        (2, 1, 2)
    );
    // Another department's list is refused; the bureau reads any, or all.
    let no = s
        .duty_list(w.actor("c_off"), DutyKind::Share, Some(po), &all())
        .await;
    assert!(matches!(no, Err(Error::Forbidden(_))), "{no:?}");
    let civil = s
        .duty_list(w.actor("c_off"), DutyKind::Share, None, &all())
        .await
        .unwrap();
    assert_eq!(civil.totals.entries, 0);
    let b = s
        .duty_list(w.actor("b_off"), DutyKind::Share, None, &all())
        .await
        .unwrap();
    assert_eq!((b.dept_id, b.totals.entries), (None, 2));
    let b = s
        .duty_list(w.actor("b_off"), DutyKind::Share, Some(po), &all())
        .await
        .unwrap();
    assert_eq!(b.dept_name, "公安局");
}

fn text(v: &[&str]) -> Vec<Cell> {
    v.iter().map(|s| Cell::Text((*s).into())).collect()
}

fn heads(h: &[&str]) -> Vec<String> {
    h.iter().map(|s| s.to_string()).collect()
}

async fn entry_count(w: &World) -> i64 {
    let mut c = w.db().pool().acquire().await.unwrap();
    sqlx::query_scalar("SELECT COUNT(*) FROM sharing_entries")
        .fetch_one(&mut *c)
        .await
        .unwrap()
}

async fn catalog_workbook_round_trip_and_bad_rows(db: Db) {
    use sharing::catalog::workbook::{ENTRY_HEADERS, ENTRY_SHEET, ITEM_HEADERS, ITEM_SHEET};
    let w = world(db).await;
    let s = &w.svc;
    let entry = |no: &str, cat: &str, name: &str, share: &str| {
        text(&[
            no,
            "",
            cat,
            "1.02",
            name,
            "摘要",
            "数据库",
            "",
            share,
            "",
            "接口",
            "不予开放",
            "",
            "每月",
            "",
            "",
        ])
    };
    let item = |no: &str, name: &str, field: &str, t: &str, len: &str, src: &str| {
        text(&[no, name, field, t, len, "", "", "", "", "", "", "", src])
    };
    let entries = vec![
        // Line 2: good, with a source department on a basic item.
        entry("1", "基础信息资源", "房屋基础信息", "无条件共享"),
        // Line 3: a bad 共享属性.
        entry("2", "部门信息资源", "坏的共享属性", "随便共享"),
        // Line 4: its own row is fine, but one of its items is bad.
        entry("3", "部门信息资源", "信息项有误", "无条件共享"),
        // Line 5: good, short labels.
        entry("4", "部门", "不动产登记簿", "无条件"),
        // Line 6: 有条件共享 without its condition.
        entry("5", "部门", "缺共享条件", "有条件共享"),
    ];
    let items = vec![
        item("1", "房屋编号", "house_no", "字符型", "20", ""),
        item("1", "坐落", "address", "字符型", "200", "人社局"),
        item("2", "编号", "no", "字符型", "10", ""),
        item("3", "编号", "no", "字符型", "10", ""),
        // Line 6: bad type.
        item("3", "面积", "area", "面积型", "", ""),
        item("4", "不动产单元号", "unit_no", "char", "28", ""),
        // Line 8: its entry does not exist.
        item("9", "孤儿", "orphan", "字符型", "10", ""),
        item("5", "编号", "no", "字符型", "10", ""),
    ];
    let help: Vec<Vec<Cell>> = vec![];
    let book = tabular::write_xlsx(&[
        (ENTRY_SHEET, &heads(ENTRY_HEADERS), &entries),
        (ITEM_SHEET, &heads(ITEM_HEADERS), &items),
        ("填写说明", &heads(&["说明"]), &help),
    ])
    .unwrap();
    let before = entry_count(&w).await;
    let rep = s
        .import_catalog(w.actor("p_off"), "目录.xlsx", book.clone())
        .await
        .unwrap();
    let made: Vec<(usize, &str)> = rep
        .created
        .iter()
        .map(|c| (c.line, c.name.as_str()))
        .collect();
    assert_eq!(made, [(2, "房屋基础信息"), (5, "不动产登记簿")]);
    let errs: Vec<(&str, usize, &str)> = rep
        .errors
        .iter()
        .map(|e| (e.sheet.as_str(), e.line, e.column.as_str()))
        .collect();
    assert_eq!(
        errs,
        [
            ("目录", 3, "共享属性"),
            ("目录", 4, ""),
            ("目录", 6, "共享条件或依据"),
            ("信息项", 6, "数据类型"),
            ("信息项", 8, "序号"),
        ],
        "{:#?}",
        rep.errors
    );
    assert!(rep.errors[0].reason.contains("随便共享"));
    assert!(
        rep.errors[1].reason.contains("第 6 行"),
        "{}",
        rep.errors[1].reason
    );
    // Good entries whole, bad ones not at all.
    assert_eq!(entry_count(&w).await, before + 2);
    let house = s.entry(rep.created[0].id).await.unwrap();
    assert_eq!(house.entry.provider_dept_id, w.city.dept("公安局"));
    assert_eq!(house.latest().status, VersionStatus::Draft);
    assert_eq!(house.latest().content.items.len(), 2);
    assert_eq!(house.entry.class_code, "A102");
    assert_eq!(house.item_sources[1].source_dept_name, "人社局");

    // A file that is not the workbook is refused whole, naming the file.
    for (name, bytes) in [
        ("目录.csv", b"a,b\n1,2\n".to_vec()),
        ("目录.xlsx", b"not a workbook".to_vec()),
    ] {
        let e = s
            .import_catalog(w.actor("p_off"), name, bytes)
            .await
            .unwrap_err();
        assert_eq!(e.field_name(), Some("file"), "{e:?}");
    }
    let only_help = tabular::write_xlsx(&[("填写说明", &heads(&["说明"]), &help)]).unwrap();
    let e = s
        .import_catalog(w.actor("p_off"), "x.xlsx", only_help)
        .await
        .unwrap_err();
    assert_eq!(e.field_name(), Some("file"));
    assert_eq!(entry_count(&w).await, before + 2);
    // A handler cannot import.
    assert!(s
        .import_catalog(w.city.actor("han_x"), "目录.xlsx", book)
        .await
        .is_err());

    // Export: the published catalog and 公安局's drafts; it imports again as it was.
    let out = s.export_catalog(w.actor("p_off"), false).await.unwrap();
    let es = tabular::read_xlsx_sheet(&out, ENTRY_SHEET).unwrap();
    let is = tabular::read_xlsx_sheet(&out, ITEM_SHEET).unwrap();
    let name_col = es.column(&["信息资源名称"]);
    let names: Vec<&str> = es.rows.iter().map(|r| r.get(name_col)).collect();
    assert_eq!(names, ["人口基础信息", "房屋基础信息", "不动产登记簿"]);
    assert_eq!(is.rows.len(), 9 + 2 + 1);
    let again = s
        .import_catalog(w.actor("p_off"), "导出.xlsx", out)
        .await
        .unwrap();
    assert!(again.errors.is_empty(), "{:#?}", again.errors);
    assert_eq!(again.created.len(), 3);
    let people_again = s.entry(again.created[0].id).await.unwrap();
    assert_eq!(
        people_again.latest().content.items,
        w.people.published().unwrap().content.items
    );
    assert_eq!(people_again.entry.class_code, w.people.entry.class_code);
    // The template has the headers and no entries.
    let t = s.export_catalog(w.actor("c_off"), true).await.unwrap();
    let es = tabular::read_xlsx_sheet(&t, ENTRY_SHEET).unwrap();
    assert_eq!(es.headers, heads(ENTRY_HEADERS));
    assert!(es.rows.is_empty());
}
