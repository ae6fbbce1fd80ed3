//! 一网共享 in a browser: a consuming department's data officer requests 人口 data from the
//! catalog page → the provider's data officer, its 首席数据官 and the bureau approve in their
//! queues → the officer registers the system and gets its token → the system calls the gateway
//! → the provider reads who used its data on 调用日志 → 数据异议, 回流 → the bureau reads 统计
//! (with open data's section) and downloads its .xlsx and monthly .docx. Screenshots in
//! artifacts/screenshots/.

mod common;

use common::*;
use kernel::{Actor, Db, Role};
use serde_json::json;
use testkit::browser::Browser;

testkit::on_both_backends!(migrations; request_approve_call_and_read_the_log);

async fn request_approve_call_and_read_the_log(db: Db) {
    let backend = db.backend().name();
    let w = world(db.clone()).await;
    let org = org::OrgService::new(db.clone(), testkit::city::fast_auth());
    for (u, dept, role) in [
        ("p_off", w.dept_x, Role::DataOfficer),
        ("p_cdo", w.dept_x, Role::ChiefDataOfficer),
        ("c_off", w.dept_y, Role::DataOfficer),
    ] {
        org.create_user(&Actor::cli(), test_user(u, Some(dept), role))
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
    let svc = sharing::SharingService::new(db.clone());
    let p_off = actor("p_off").await;
    let e = svc
        .create_entry(
            &p_off,
            serde_json::from_value(json!({
                "category": "basic", "class": ["1", "01"],
                "content": {"name": "人口基础信息", "summary": "全市实有人口基础信息", "format": "数据库",
                    "share_kind": "conditional", "share_condition": "依法履职所需", "open_kind": "not_open",
                    "update_cycle": "daily",
                    "items": [
                        {"name": "姓名", "field": "name", "data_type": "char", "length": 30, "sensitive": true, "semantic": "name"},
                        {"name": "身份证号", "field": "id_no", "data_type": "char", "length": 18, "primary_key": true, "sensitive": true, "semantic": "id_card"},
                        {"name": "住址", "field": "address", "data_type": "char", "length": 100, "sensitive": true, "semantic": "address"}
                    ]}
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    svc.submit_entry(&p_off, e.entry.id, 1).await.unwrap();
    svc.review_entry(&actor("admin").await, e.entry.id, 1, true, "")
        .await
        .unwrap();
    let r = svc
        .mount_table(&p_off, e.entry.id, "", "full")
        .await
        .unwrap();
    let code = r.resource.code.clone();
    let id_no = kernel::codes::id_card_with_check("69010219900307123");
    svc.push_rows(
        &p_off,
        &code,
        vec![
            json!({"name": "张三", "id_no": id_no, "address": "A市A1区东湖街道幸福路1号"})
                .as_object()
                .unwrap()
                .clone(),
        ],
    )
    .await
    .unwrap();

    let Some(mut b) = Browser::start(&format!("sharing-{backend}")).await else {
        return;
    };
    // The consumer finds 人口 in the catalog and requests name and 身份证号.
    login(&b, &w.url, "c_off").await;
    b.goto(&format!("{}/sharing/catalog?q=人口", w.url)).await;
    b.click_and_wait("#entries a").await;
    assert_text_has(&b, "#items", "身份证号").await;
    b.screenshot("sharing-entry").await;
    b.click_and_wait("#resources a").await;
    b.click("#fields input[value=address]").await;
    fill_all(
        &b,
        &[
            ("#purpose", "低保对象身份核验"),
            ("#legal_basis", "《社会救助暂行办法》"),
            ("#system", "民政救助系统"),
        ],
    )
    .await;
    let day = |off: i64| {
        kernel::clock::to_china(db.now() + off * 86_400_000)
            .format("%Y-%m-%d")
            .to_string()
    };
    // Date inputs take what the script sets, whatever the picker's locale.
    for (css, v) in [("#period_from", day(0)), ("#period_until", day(90))] {
        run_with(
            &b,
            &format!("document.querySelector(arguments[0]).value = '{v}';"),
            css,
        )
        .await;
    }
    b.screenshot("sharing-request-form").await;
    b.click_and_wait("#request button[type=submit]").await;
    assert_text_has(&b, ".notice", "已提交").await;
    assert_text_has(&b, "#requests", "提供部门数据专员：待审批").await;
    logout(&b).await;
    // Three levels, each in its own queue.
    for who in ["p_off", "p_cdo", "admin"] {
        login(&b, &w.url, who).await;
        b.goto(&format!("{}/sharing/approvals", w.url)).await;
        assert_eq!(count(&b, "#queue tbody tr").await, 1, "{who}'s queue");
        b.screenshot(&format!("sharing-queue-{who}")).await;
        b.click_and_wait("#queue button[value=approve]").await;
        assert_text_has(&b, ".notice", "申请").await;
        logout(&b).await;
    }
    // The consumer registers its system and takes the token.
    login(&b, &w.url, "c_off").await;
    b.goto(&format!("{}/sharing/grants", w.url)).await;
    assert_text_has(&b, "#grants", "有效").await;
    b.fill("#system-name", "民政救助系统").await;
    b.click_and_wait("#register button").await;
    let token = b.text("#gateway-token").await;
    b.screenshot("sharing-token").await;
    logout(&b).await;
    let sys = Client::with_token(&w.url, token.trim());
    let (s, v) = sys.get(&format!("/gateway/v1/resources/{code}")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["rows"][0]["name"], "张*");
    assert_eq!(v["rows"][0]["id_no"], kernel::mask::id_card(&id_no));
    assert!(v["rows"][0].get("address").is_none());
    // The provider reads who used its data.
    login(&b, &w.url, "p_off").await;
    b.goto(&format!("{}/sharing/calls", w.url)).await;
    assert_text_has(&b, "#calls", "民政救助系统").await;
    assert_text_has(&b, "#calls", "成功").await;
    b.screenshot("sharing-calls").await;
    assert!(
        b.loaded_urls()
            .await
            .iter()
            .all(|u| u.starts_with(&w.url) || u.starts_with("data:")),
        "a request left the server"
    );

    // 数据异议: the consumer holds 张三's address differently and raises it; the source
    // department corrects the registry.
    logout(&b).await;
    login(&b, &w.url, "c_off").await;
    b.goto(&format!("{}/sharing/objections", w.url)).await;
    assert_text_has(&b, "main", "没有数据异议").await;
    b.select("#resource_field", &format!("{code}|address"))
        .await;
    b.fill("#row_key", &id_no).await;
    b.fill("#claimed_value", "A市A1区东湖街道幸福路1号").await;
    b.fill("#reason", "2026 年 11 月救助申请时入户核查的现住址")
        .await;
    b.click_and_wait("#raise button[type=submit]").await;
    assert_text_has(&b, "#error-summary", "与基础库中的值相同").await;
    b.fill("#claimed_value", "A市A1区青河街道和平路8号").await;
    b.click_and_wait("#raise button[type=submit]").await;
    assert_text_has(&b, "main", "已提出异议").await;
    assert_text_has(&b, "#objection", "待核实").await;
    b.screenshot("sharing-objection-raised").await;
    logout(&b).await;
    login(&b, &w.url, "p_off").await;
    b.goto(&format!("{}/sharing/objections?status=open", w.url))
        .await;
    assert_eq!(count(&b, "#objections tbody tr").await, 1);
    assert_text_has(&b, "#objections", "青河街道和平路8号").await;
    b.screenshot("sharing-objections").await;
    b.click_and_wait("#objections tbody a").await;
    b.fill("#answer-text", "经户籍系统核实，已更正").await;
    b.click_and_wait("#answer-form button[type=submit]").await;
    assert_text_has(&b, "#error-summary", "核实结果").await;
    b.click("input[name=outcome][value=corrected]").await;
    b.click_and_wait("#answer-form button[type=submit]").await;
    assert_text_has(&b, "main", "已答复：已更正").await;
    assert_text_has(&b, "#objection", "青河街道和平路8号").await;
    assert_eq!(count(&b, "#answer-form").await, 0);
    b.screenshot("sharing-objection-answered").await;

    // 数据回流: the administrator sets up a folder the province drops files into; a run by
    // hand loads a file once.
    let dir = tempfile::tempdir().unwrap();
    let id2 = kernel::codes::id_card_with_check("69010219850505123");
    std::fs::write(
        dir.path().join("2026-12-人口.csv"),
        format!("姓名,身份证号,住址\n李四,{id2},A市A1区青河街道和平路9号\n"),
    )
    .unwrap();
    logout(&b).await;
    login(&b, &w.url, "admin").await;
    b.goto(&format!("{}/sharing/backflows", w.url)).await;
    assert_text_has(&b, "main", "还没有回流任务").await;
    b.fill("#name", "省人口库回流").await;
    b.select("#resource_code", &code).await;
    b.select("#source_kind", "folder").await;
    b.fill("#source", "data/huiliu").await;
    b.click_and_wait("#new-backflow button[type=submit]").await;
    assert_text_has(&b, "#source-error", "绝对路径").await;
    b.fill("#source", dir.path().to_str().unwrap()).await;
    b.click_and_wait("#new-backflow button[type=submit]").await;
    assert_text_has(&b, "main", "已新建回流任务").await;
    b.click_and_wait("#backflows button[value=run]").await;
    assert_text_has(&b, "main", "运行成功：读取 1，写入 1，新增 1").await;
    b.screenshot("sharing-backflows").await;
    b.click_and_wait("#backflows tbody a").await;
    b.click_and_wait("form.actions button[value=run]").await;
    assert_text_has(&b, "main", "跳过已导入文件 1").await;
    assert_eq!(count(&b, "#runs tbody tr").await, 2);
    b.screenshot("sharing-backflow-runs").await;

    // 统计: the administrator (the bureau) reads this month's figures.
    b.goto(&format!("{}/sharing/figures", w.url)).await;
    assert_eq!(
        count(&b, "#figures tbody tr").await,
        2,
        "provider and consumer"
    );
    let table = b.text("#figures").await;
    assert_has_all(
        &table,
        &["A市住建局", "A市生态环境局", "100.0%", "0.0%", "—"],
    );
    // The consumer has no entries: its rates are "—", never 0 and never over 100%.
    let consumer_row = b.text("#figures tbody tr:nth-child(2)").await;
    assert!(
        consumer_row.starts_with("A市生态环境局") && consumer_row.contains("—"),
        "{consumer_row}"
    );
    assert!(
        !table.contains("100.1%") && !table.contains("NaN"),
        "{table}"
    );
    assert_eq!(count(&b, "#share-chart-t").await, 1, "共享率 chart");
    assert_eq!(count(&b, "#consumers-chart-t").await, 1, "calls chart");
    assert_text_has(&b, "#consumers", "A市生态环境局").await;
    assert_text_has(
        &b,
        "#objection-figures",
        "期内提出 1 件，答复 1 件（其中更正 1 件）",
    )
    .await;
    // Open data shows its figures here through sharing's extension point.
    assert_text_has(&b, "#section-opendata", "开放数据集数").await;
    b.screenshot("sharing-figures").await;
    scroll_to(&b, "#figures").await;
    b.screenshot("sharing-figures-table").await;
    scroll_to(&b, "#consumers-title").await;
    b.screenshot("sharing-figures-charts").await;
    let xlsx = href_of(&b, "a[href^='/sharing/figures.xlsx']").await;
    let docx = href_of(&b, "a[href^='/sharing/figures.docx']").await;
    assert!(docx.contains("?month="), "{docx}");
    let admin = Client::login(&w.url, "admin").await;
    let r = admin.download(&xlsx).await;
    assert_eq!(r.status().as_u16(), 200, "{xlsx}");
    let bytes = r.bytes().await.unwrap();
    let sheet = tabular::read_xlsx_sheet(&bytes, "各部门").unwrap();
    assert_eq!(
        sheet.headers[..4],
        ["部门", "目录数", "挂接资源数", "挂接率"]
    );
    let provider = sheet
        .rows
        .iter()
        .find(|r| r.cells[0] == "A市住建局")
        .expect("provider row");
    assert_eq!(provider.cells[1..3], ["1", "1"]);
    assert_eq!(provider.cells[4], "1", "共享率 as a fraction");
    let consumer = sheet
        .rows
        .iter()
        .find(|r| r.cells[0] == "A市生态环境局")
        .expect("consumer row");
    assert_eq!(consumer.cells[4], "—");
    let open = tabular::read_xlsx_sheet(&bytes, "开放数据").unwrap();
    assert!(open.rows.iter().any(|r| r.cells[0] == "开放数据集数"));
    let r = admin.download(&docx).await;
    assert_eq!(r.status().as_u16(), 200, "{docx}");
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.contains("wordprocessingml"), "{ct}");
    let bytes = r.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut xml)
        .unwrap();
    assert_has_all(
        &xml,
        &[
            "一、总体情况",
            "已发布政务信息资源目录 1 个，挂接资源 1 个，挂接率 100.0%",
            "二、各部门情况",
            "三、用数申请与调用",
            "调用最多的是A市生态环境局",
            "四、数据异议",
            "五、开放数据",
        ],
    );
    b.close().await;
}
