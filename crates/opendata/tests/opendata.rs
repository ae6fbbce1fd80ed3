//! 开放数据 on both backends: datasets follow the catalog (only open entries, withdrawn ones
//! gone at once), a personal 信息项 can never be opened, Chinese search with filters and
//! facets, rows without personal fields, the 有条件开放 application decided by the provider,
//! 开放需求 for the bureau, and the figures.

use kernel::{Db, Error, Role};
use opendata::domain::{search_of, ApplicationStatus};
use opendata::OpendataService;
use serde_json::{json, Map, Value};
use sharing::catalog::domain::NewEntry;
use sharing::SharingService;
use testkit::city::City;

testkit::on_both_backends!(migrations;
    datasets_follow_the_catalog,
    a_personal_field_is_never_opened,
    search_filters_and_facets,
    conditional_data_needs_an_approved_application,
    demands_reach_the_bureau_and_figures_count,
);

fn migrations() -> Vec<kernel::migrate::Migration> {
    opendata::migrations()
}

struct W {
    city: City,
    sharing: SharingService,
    svc: OpendataService,
}

async fn world(db: Db) -> W {
    let city = testkit::city::standard()
        .dept("市场监管局", "690100")
        .dept("交通运输局", "690100")
        .user("sc_off", "市场监管局", Role::DataOfficer)
        .user("jt_off", "交通运输局", Role::DataOfficer)
        .user("b_off", "数据局", Role::DataOfficer)
        .citizen("resident", "13800138000")
        .build(db.clone())
        .await;
    let sharing = SharingService::new(db.clone());
    sharing
        .set_bureau(city.actor("admin"), city.dept("数据局"))
        .await
        .unwrap();
    W {
        city,
        sharing,
        svc: OpendataService::new(db),
    }
}

fn entry(name: &str, summary: &str, open_kind: &str, items: Value) -> NewEntry {
    serde_json::from_value(json!({
        "category": "theme", "class": ["5", "01"],
        "content": {
            "name": name, "summary": summary, "format": "数据库", "items": items,
            "share_kind": "unconditional", "open_kind": open_kind,
            "open_condition": if open_kind == "conditional" { "用于学术研究，须注明来源" } else { "" },
            "update_cycle": "monthly"
        }
    }))
    .unwrap()
}

fn company_items() -> Value {
    json!([
        {"name": "统一社会信用代码", "field": "uscc", "data_type": "char", "length": 18, "primary_key": true, "semantic": "credit_code"},
        {"name": "企业名称", "field": "name", "data_type": "char", "length": 100},
        {"name": "注册资本", "field": "capital", "data_type": "decimal", "length": 14, "scale": 2}
    ])
}

fn companies(n: usize) -> Vec<Map<String, Value>> {
    (0..n)
        .map(|i| {
            json!({
                "uscc": kernel::codes::credit_code_with_check(&format!("91690100{:09}", 100_000_000 + i)),
                "name": format!("A市金桥科技{i}有限公司"),
                "capital": format!("{}.00", 100 + i)
            })
            .as_object()
            .unwrap()
            .clone()
        })
        .collect()
}

/// 编目 → 提交 → 发布 → 挂接 with rows, by `who` of its department; the entry's code.
async fn publish(w: &W, who: &str, e: NewEntry, rows: Vec<Map<String, Value>>) -> String {
    let a = w.city.actor(who);
    let v = w.sharing.create_entry(a, e).await.unwrap();
    w.sharing.submit_entry(a, v.entry.id, 1).await.unwrap();
    w.sharing
        .review_entry(w.city.actor("b_off"), v.entry.id, 1, true, "")
        .await
        .unwrap();
    let r = w
        .sharing
        .mount_table(a, v.entry.id, "", "full")
        .await
        .unwrap();
    if !rows.is_empty() {
        let rep = w
            .sharing
            .push_rows(a, &r.resource.code, rows)
            .await
            .unwrap();
        assert!(rep.errors.is_empty(), "{:?}", rep.errors);
    }
    v.entry.code
}

async fn datasets_follow_the_catalog(db: Db) {
    let w = world(db).await;
    let open = publish(
        &w,
        "sc_off",
        entry(
            "企业登记信息",
            "全市企业的名称和注册资本",
            "open",
            company_items(),
        ),
        companies(12),
    )
    .await;
    let closed = publish(
        &w,
        "sc_off",
        entry(
            "企业内部信息",
            "不开放的企业信息",
            "not_open",
            company_items(),
        ),
        companies(3),
    )
    .await;
    let all = w.svc.datasets().await.unwrap();
    let codes: Vec<&str> = all.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, vec![open.as_str()], "only open entries are datasets");
    let (d, e) = w.svc.dataset(&open.to_ascii_lowercase()).await.unwrap();
    assert_eq!(d.title, "企业登记信息");
    assert_eq!(d.org_title, "市场监管局");
    assert_eq!(
        d.distributions.len(),
        3,
        "CSV, XLSX and JSON of the one table"
    );
    assert_eq!(d.distributions[0].rows, 12);
    assert_eq!(d.tags, vec!["统一社会信用代码", "企业名称", "注册资本"]);
    // Keyset paging reads every row once.
    let code = &e.resources[0].code;
    let first = w.svc.rows(&e, code, 0, 5).await.unwrap();
    let rest = w.svc.rows(&e, code, first[4].0, 100).await.unwrap();
    assert_eq!((first.len(), rest.len()), (5, 7));
    assert!(matches!(
        w.svc.dataset(&closed).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        w.svc.dataset("../etc").await,
        Err(Error::NotFound { .. })
    ));

    // Withdrawing: a new version published as 不予开放 takes the dataset away at once.
    let a = w.city.actor("sc_off");
    let id = w.sharing.entry_by_code(&open).await.unwrap().entry.id;
    let v = w.sharing.new_entry_version(a, id).await.unwrap();
    let mut c = v.latest().content.clone();
    c.open_kind = sharing::catalog::domain::OpenKind::NotOpen;
    w.sharing.update_entry(a, id, 2, c).await.unwrap();
    w.sharing.submit_entry(a, id, 2).await.unwrap();
    w.sharing
        .review_entry(w.city.actor("b_off"), id, 2, true, "")
        .await
        .unwrap();
    assert!(w.svc.datasets().await.unwrap().is_empty());
    assert!(matches!(
        w.svc.dataset(&open).await,
        Err(Error::NotFound { .. })
    ));
    let s = search_of(Some("企业"), None, None, None, None, None, None).unwrap();
    assert_eq!(w.svc.search(&s).await.unwrap().count, 0);
}

async fn a_personal_field_is_never_opened(db: Db) {
    let w = world(db).await;
    let a = w.city.actor("sc_off");
    let mut items = company_items();
    items.as_array_mut().unwrap().push(json!(
        {"name": "法定代表人", "field": "legal_rep", "data_type": "char", "length": 30, "sensitive": true, "semantic": "name"}
    ));
    for kind in ["open", "conditional"] {
        let v = w
            .sharing
            .create_entry(
                a,
                entry("企业法人信息", "含法定代表人", kind, items.clone()),
            )
            .await
            .unwrap();
        let err = w.sharing.submit_entry(a, v.entry.id, 1).await.unwrap_err();
        match &err {
            Error::Validation(f) => {
                assert_eq!(f[0].field, "open_kind");
                assert_eq!(f[0].code, "personal_data_not_openable");
                assert!(f[0].detail.contains("法定代表人"), "{}", f[0].detail);
            }
            e => panic!("{e:?}"),
        }
        // Nothing was written: the version is still a draft.
        let v = w.sharing.entry(v.entry.id).await.unwrap();
        assert_eq!(
            v.latest().status,
            sharing::catalog::domain::VersionStatus::Draft
        );
    }
    // An unmarked 手机号 column counts by its kind.
    let mut items = company_items();
    items.as_array_mut().unwrap().push(json!(
        {"name": "联系电话", "field": "phone", "data_type": "char", "length": 11, "semantic": "mobile"}
    ));
    let v = w
        .sharing
        .create_entry(a, entry("企业联系", "含电话", "open", items))
        .await
        .unwrap();
    assert!(w.sharing.submit_entry(a, v.entry.id, 1).await.is_err());
    assert!(w.svc.datasets().await.unwrap().is_empty());
}

async fn search_filters_and_facets(db: Db) {
    let w = world(db).await;
    let a = publish(
        &w,
        "sc_off",
        entry(
            "企业登记信息",
            "全市企业的名称和注册资本",
            "open",
            company_items(),
        ),
        companies(2),
    )
    .await;
    let b = publish(
        &w,
        "jt_off",
        entry(
            "公交站点信息",
            "公交线路站点的位置和名称",
            "open",
            json!([
                {"name": "站点名称", "field": "stop", "data_type": "char", "length": 40},
                {"name": "线路", "field": "line", "data_type": "char", "length": 20}
            ]),
        ),
        vec![],
    )
    .await;
    let q = |q: &str, fq: &str| {
        search_of(
            Some(q),
            Some(fq),
            None,
            None,
            None,
            Some(&json!(["organization", "tags", "res_format"])),
            None,
        )
        .unwrap()
    };
    let r = w.svc.search(&q("公交站点", "")).await.unwrap();
    assert_eq!(
        r.results.iter().map(|d| &d.code).collect::<Vec<_>>(),
        vec![&b]
    );
    let r = w.svc.search(&q("企业", "")).await.unwrap();
    assert_eq!(r.results[0].code, a);
    let r = w.svc.search(&q("", "")).await.unwrap();
    assert_eq!(r.count, 2);
    assert_eq!(r.facets["organization"].len(), 2);
    assert_eq!(r.facets["res_format"][0].2, 2);
    let org = format!("dept-{}", w.city.dept("交通运输局"));
    let r = w
        .svc
        .search(&q("", &format!("organization:{org}")))
        .await
        .unwrap();
    assert_eq!(r.count, 1);
    assert_eq!(r.results[0].code, b);
    let r = w.svc.search(&q("", "tags:企业名称")).await.unwrap();
    assert_eq!(r.results[0].code, a);
    // Paging: one per page.
    let s = search_of(
        None,
        None,
        Some("1"),
        Some("1"),
        Some("name asc"),
        None,
        None,
    )
    .unwrap();
    let r = w.svc.search(&s).await.unwrap();
    assert_eq!((r.count, r.results.len()), (2, 1));
}

async fn conditional_data_needs_an_approved_application(db: Db) {
    let w = world(db).await;
    let code = publish(
        &w,
        "sc_off",
        entry(
            "企业注册资本分布",
            "注册资本",
            "conditional",
            company_items(),
        ),
        companies(4),
    )
    .await;
    let (d, _) = w.svc.dataset(&code).await.unwrap();
    assert!(d.conditional());
    let resident = w.city.actor("resident");
    assert!(!w.svc.may_download(None, &d).await.unwrap());
    assert!(!w.svc.may_download(Some(resident), &d).await.unwrap());
    assert!(matches!(
        w.svc.require_download(Some(resident), &d).await,
        Err(Error::Forbidden(_))
    ));
    // A purpose in words is required; staff cannot apply as residents.
    match w.svc.apply(resident, &code, "看看").await {
        Err(Error::Validation(f)) => assert_eq!(f[0].field, "purpose"),
        r => panic!("{r:?}"),
    }
    assert!(w
        .svc
        .apply(w.city.actor("sc_off"), &code, "用于部门内部的营商环境研究")
        .await
        .is_err());
    let app = w
        .svc
        .apply(resident, &code, "用于本市营商环境研究课题，使用一年")
        .await
        .unwrap();
    assert_eq!(app.status, ApplicationStatus::Pending);
    assert!(w
        .svc
        .apply(resident, &code, "用于本市营商环境研究课题，使用一年")
        .await
        .is_err());
    // Another department cannot decide; refusing needs a reason.
    assert!(matches!(
        w.svc.decide(w.city.actor("jt_off"), app.id, true, "").await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        w.svc
            .decide(w.city.actor("sc_off"), app.id, false, " ")
            .await,
        Err(Error::Validation(_))
    ));
    let list = w
        .svc
        .applications_to_decide(w.city.actor("sc_off"))
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    let done = w
        .svc
        .decide(w.city.actor("sc_off"), app.id, true, "同意")
        .await
        .unwrap();
    assert_eq!(done.status, ApplicationStatus::Approved);
    assert!(w.svc.may_download(Some(resident), &d).await.unwrap());
    assert!(matches!(
        w.svc
            .decide(w.city.actor("sc_off"), app.id, false, "再议")
            .await,
        Err(Error::IllegalTransition { .. })
    ));
    // Recorded in the audit chain.
    assert!(kernel::audit::verify(&w.city.db)
        .await
        .unwrap()
        .first_broken
        .is_none());
}

async fn demands_reach_the_bureau_and_figures_count(db: Db) {
    let w = world(db).await;
    publish(
        &w,
        "sc_off",
        entry("企业登记信息", "全市企业", "open", company_items()),
        companies(1),
    )
    .await;
    publish(
        &w,
        "sc_off",
        entry("企业内部信息", "不开放", "not_open", company_items()),
        vec![],
    )
    .await;
    match w.svc.submit_demand("", "x", "").await {
        Err(Error::Validation(f)) => assert_eq!(f[0].field, "title"),
        r => panic!("{r:?}"),
    }
    let d = w
        .svc
        .submit_demand(
            "公交实时到站",
            "希望开放公交车辆实时到站数据",
            "13800138000",
        )
        .await
        .unwrap();
    assert!(w.svc.demands(w.city.actor("sc_off")).await.is_err());
    // The bureau's data officer is told in the inbox; a department's officer is not.
    let told = inbox(&w, "b_off").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].event, "opendata.demand");
    assert!(told[0].body.contains("公交实时到站"), "{:?}", told[0]);
    assert!(inbox(&w, "sc_off").await.is_empty());
    let list = w.svc.demands(w.city.actor("b_off")).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        list[0].contact, "138****8000",
        "masked for the data officer"
    );
    w.svc
        .answer_demand(w.city.actor("b_off"), d.id, "已转交通运输局，计划下月开放")
        .await
        .unwrap();
    let (ds, _) = w.svc.datasets().await.map(|v| (v[0].clone(), ())).unwrap();
    w.svc.record("view", Some(&ds), "page").await.unwrap();
    w.svc.record("download", Some(&ds), "csv").await.unwrap();
    w.svc.record("api", None, "package_search").await.unwrap();
    // A window before any of it: the stock stands, the period's counts are empty; a window
    // around now holds them.
    let old = w.svc.figures_between(0, 1).await.unwrap();
    assert_eq!(
        (
            old.datasets,
            old.views,
            old.downloads,
            old.api_calls,
            old.demands
        ),
        (1, 0, 0, 0, 0)
    );
    assert!(old.applications.is_empty(), "{:?}", old.applications);
    let now = w.svc.db().now();
    let recent = w
        .svc
        .figures_between(now - 3_600_000, now + 1)
        .await
        .unwrap();
    assert_eq!(
        (
            recent.views,
            recent.downloads,
            recent.api_calls,
            recent.demands
        ),
        (1, 1, 1, 1)
    );
    let f = w.svc.figures().await.unwrap();
    assert_eq!((f.datasets, f.catalog_entries), (1, 2));
    assert_eq!(f.open_rate, 50.0);
    assert_eq!((f.views, f.downloads, f.api_calls), (1, 1, 1));
    assert_eq!(f.demands, 1);
    assert_eq!(f.by_department[0].name, "市场监管局");
    assert_eq!(f.by_department[0].open_rate, 50.0);
}

/// One's in-app notifications.
async fn inbox(w: &W, who: &str) -> Vec<notify::Notification> {
    notify::NotifyService::new(w.svc.db().clone())
        .inbox(
            w.city.actor(who),
            &notify::InboxQuery::default(),
            &kernel::page::PageQuery {
                page: None,
                per_page: None,
            },
        )
        .await
        .unwrap()
        .items
}
