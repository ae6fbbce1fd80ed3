//! 开放数据 in a browser: a member of the public searches in Chinese, opens a dataset and
//! downloads its CSV; a resident applies for a 有条件开放 dataset, the providing department
//! approves, and the download then works; 开放需求 names a missing field. Office and phone
//! widths. Screenshots in artifacts/screenshots/opendata-*/.

mod common;

use common::*;
use kernel::{Actor, Db, Role};
use serde_json::{json, Value};
use testkit::browser::Browser;

testkit::on_both_backends!(migrations; search_download_apply_approve);

/// GETs `path` from the page with the browser's own session, as a download link does.
async fn fetch(b: &Browser, path: &str) -> (u64, String) {
    let v = run_with(
        b,
        "var x = new XMLHttpRequest(); x.open('GET', arguments[0], false); x.send(); \
         return [x.status, x.responseText.slice(0, 400)];",
        path,
    )
    .await;
    (
        v[0].as_u64().unwrap(),
        v[1].as_str().unwrap_or("").to_owned(),
    )
}

async fn search_download_apply_approve(db: Db) {
    let backend = db.backend().name();
    let w = world(db.clone()).await;
    let org = org::OrgService::new(db.clone(), testkit::city::fast_auth());
    for (u, dept, role) in [
        ("x_off", Some(w.dept_x), Role::DataOfficer),
        ("resident", None, Role::Citizen),
    ] {
        org.create_user(&Actor::cli(), test_user(u, dept, role))
            .await
            .unwrap();
    }
    let actor = |name: &str| {
        let org = org.clone();
        let name = name.to_owned();
        async move {
            let u = org.user_by_username(&name).await.unwrap().unwrap();
            org.actor_of_user(u.id).await.unwrap()
        }
    };
    let (x_off, admin) = (actor("x_off").await, actor("admin").await);
    let svc = sharing::SharingService::new(db.clone());
    let mut codes = Vec::new();
    for (name, summary, kind, rows) in [
        (
            "住房租赁备案统计",
            "各小区住房租赁合同备案的套数和平均租金，按月更新，可用于租房参考和住房研究。",
            "open",
            (0..30)
                .map(|i| json!({"estate": format!("金桥花园{i}期"), "district": "A1区", "rent": format!("{}.50", 30 + i)}))
                .collect::<Vec<Value>>(),
        ),
        (
            "住房公积金缴存统计",
            "按行业统计的住房公积金缴存单位数和缴存额。",
            "conditional",
            vec![json!({"estate": "制造业", "district": "全市", "rent": "1200.00"})],
        ),
    ] {
        let e = svc
            .create_entry(
                &x_off,
                serde_json::from_value(json!({
                    "category": "theme", "class": ["3", "01"],
                    "content": {"name": name, "summary": summary, "format": "数据库",
                        "share_kind": "unconditional", "open_kind": kind,
                        "open_condition": if kind == "conditional" { "用于学术研究，成果须注明数据来源" } else { "" },
                        "update_cycle": "monthly",
                        "items": [
                            {"name": "名称", "field": "estate", "data_type": "char", "length": 40, "primary_key": true},
                            {"name": "区县", "field": "district", "data_type": "char", "length": 10},
                            {"name": "金额", "field": "rent", "data_type": "decimal", "length": 10, "scale": 2}
                        ]}
                }))
                .unwrap(),
            )
            .await
            .unwrap();
        svc.submit_entry(&x_off, e.entry.id, 1).await.unwrap();
        svc.review_entry(&admin, e.entry.id, 1, true, "")
            .await
            .unwrap();
        let r = svc
            .mount_table(&x_off, e.entry.id, "", "full")
            .await
            .unwrap();
        let rows = rows
            .into_iter()
            .map(|v| v.as_object().unwrap().clone())
            .collect();
        svc.push_rows(&x_off, &r.resource.code, rows).await.unwrap();
        codes.push(e.entry.code.to_ascii_lowercase());
    }
    let (rental, fund) = (codes[0].clone(), codes[1].clone());

    let Some(mut b) = Browser::start(&format!("opendata-{backend}")).await else {
        w.server.stop().await;
        return;
    };
    // A member of the public, no account: home → search in Chinese → the dataset → CSV.
    b.goto(&format!("{}/opendata", w.url)).await;
    assert_eq!(b.text("#count-datasets").await.trim(), "2");
    b.screenshot("home").await;
    b.fill("#q", "租赁 租金").await;
    b.click_and_wait("form[role=search] button").await;
    assert_text_has(&b, "#result-count", "找到 1 个数据集").await;
    b.screenshot("search").await;
    b.click_and_wait(".od-list .card h2 a").await;
    assert_eq!(
        b.current_path().await,
        format!("/opendata/dataset/{rental}")
    );
    assert_text_has(&b, "#preview", "金桥花园0期").await;
    b.screenshot("dataset").await;
    let href = href_of(&b, "#resources a[href$='.csv']").await;
    let (status, csv) = fetch(&b, &href).await;
    assert_eq!(status, 200);
    assert!(
        csv.starts_with("名称,区县,金额\r\n金桥花园0期,A1区,30.50"),
        "{csv}"
    );
    // Phone width.
    b.set_size(390, 844).await;
    b.screenshot("dataset-phone").await;
    b.goto(&format!("{}/opendata/search?q=住房", w.url)).await;
    b.screenshot("search-phone").await;
    b.goto(&format!("{}/opendata", w.url)).await;
    b.screenshot("home-phone").await;
    b.set_size(1366, 768).await;

    // 有条件开放: no rows and no download before approval.
    b.goto(&format!("{}/opendata/dataset/{fund}", w.url)).await;
    assert_eq!(count(&b, "#resources a").await, 0);
    assert_text_has(&b, "#apply", "以市民身份登录").await;
    let fund_csv = format!("/opendata/download/{}.1.csv", fund.to_ascii_uppercase());
    assert_eq!(fetch(&b, &fund_csv).await.0, 401);
    // A visitor without an account registers from the dataset page, at phone width, and is
    // brought back to it logged in.
    b.set_size(390, 844).await;
    b.click_and_wait("#apply-register").await;
    assert_eq!(b.current_path().await, "/register");
    let id_card = kernel::codes::id_card_with_check("36010219950512004");
    for (field, value) in [
        ("#username", "xiaomei"),
        ("#display_name", "林小梅"),
        ("#id_card", id_card.as_str()),
        ("#phone", "13970001234"),
        ("#password", "Honggutan#2026"),
        ("#password_again", "Honggutan#2062"),
    ] {
        b.fill(field, value).await;
    }
    b.click_and_wait("#register button[type=submit]").await;
    assert_text_has(&b, "#error-summary", "两次输入的密码不一致").await;
    assert_eq!(
        run_with(
            &b,
            "return document.querySelector(arguments[0]).value;",
            "#id_card"
        )
        .await,
        id_card,
        "what was typed stays, but the passwords"
    );
    b.screenshot("register-error-phone").await;
    b.fill("#password", "Honggutan#2026").await;
    b.fill("#password_again", "Honggutan#2026").await;
    b.click_and_wait("#register button[type=submit]").await;
    assert_eq!(b.current_path().await, format!("/opendata/dataset/{fund}"));
    b.set_size(1366, 768).await;
    b.fill("#purpose", "短").await;
    b.click_and_wait("#apply button[type=submit]").await;
    assert_text_has(&b, ".notice", "至少 10 个字").await;
    b.fill("#purpose", "用于本市住房保障政策研究课题，使用期限一年")
        .await;
    b.screenshot("apply").await;
    b.click_and_wait("#apply button[type=submit]").await;
    assert_text_has(&b, ".notice", "申请已提交").await;
    assert_text_has(&b, "#apply", "待审核").await;
    assert_eq!(fetch(&b, &fund_csv).await.0, 403);
    b.goto(&format!("{}/opendata/applications", w.url)).await;
    assert_text_has(&b, "#applications", "待审核").await;
    b.screenshot("my-applications").await;
    b.click_and_wait("#od-logout button").await;
    // The providing department approves.
    login(&b, &w.url, "x_off").await;
    b.goto(&format!("{}/opendata/applications", w.url)).await;
    assert_text_has(&b, "#applications", "住房公积金缴存统计").await;
    b.screenshot("approvals").await;
    b.click_and_wait("#applications button[value=approve]")
        .await;
    assert_text_has(&b, ".notice", "已同意").await;
    logout(&b).await;
    // The download now works, for this resident only.
    b.goto(&format!("{}/login", w.url)).await;
    b.fill("#username", "xiaomei").await;
    b.fill("#password", "Honggutan#2026").await;
    b.click_and_wait("form button[type=submit]").await;
    b.goto(&format!("{}/opendata/dataset/{fund}", w.url)).await;
    assert_text_has(&b, "#apply", "已同意").await;
    assert_text_has(&b, "#preview", "制造业").await;
    b.screenshot("approved").await;
    let href = href_of(&b, "#resources a[href$='.csv']").await;
    let (status, csv) = fetch(&b, &href).await;
    assert_eq!(status, 200);
    assert!(csv.contains("制造业,全市,1200.00"), "{csv}");
    b.click_and_wait("#od-logout button").await;

    // 开放需求: a missing field is named; a good one reaches the bureau.
    b.goto(&format!("{}/opendata/demand", w.url)).await;
    b.click_and_wait("main form button[type=submit]").await;
    assert_text_has(&b, "main", "需要的数据").await;
    assert!(count(&b, ".field-error").await >= 1);
    b.fill("#title", "公交实时到站数据").await;
    b.fill(
        "#description",
        "希望开放公交车辆实时到站数据，用于出行小程序。",
    )
    .await;
    b.click_and_wait("main form button[type=submit]").await;
    assert_text_has(&b, ".notice", "需求已提交").await;
    b.screenshot("demand").await;
    b.goto(&format!("{}/opendata/api", w.url)).await;
    b.screenshot("api").await;
    b.goto(&format!("{}/opendata/figures", w.url)).await;
    b.screenshot("figures").await;
    login(&b, &w.url, "admin").await;
    b.goto(&format!("{}/opendata/demands", w.url)).await;
    assert_text_has(&b, "#demands", "公交实时到站数据").await;
    b.screenshot("demands").await;
    assert!(
        b.loaded_urls()
            .await
            .iter()
            .all(|u| u.starts_with(&w.url) || u.starts_with("data:")),
        "a request left the server"
    );
    b.close().await;
    w.server.stop().await;
}
