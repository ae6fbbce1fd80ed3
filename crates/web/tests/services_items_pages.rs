//! 事项管理 in a real headless Chromium. A department's approver creates an item with two
//! materials through the form (a bad field first: the message beside it, nothing written),
//! publishes it and finds it in the public 办事指南; edits it into a second draft version while
//! the guide keeps the first; publishes the second; reads the old version; then imports an
//! 实施清单 .xlsx with good and bad rows (bad rows listed by line and column), and sees files
//! refused whole write nothing. Screenshots: artifacts/screenshots/services-items-*.

mod common;
mod services_common;

use common::*;
use kernel::Db;
use services::domain::{ItemStatus, MaterialForm};
use services::ServicesService;
use tabular::Cell;
use testkit::browser::Browser;

testkit::on_both_backends!(migrations; an_item_from_form_to_second_version_and_import);

async fn login(b: &Browser, url: &str, user: &str) {
    b.goto(&format!("{url}/login")).await;
    b.fill("#username", user).await;
    b.fill("#password", PW).await;
    b.click_and_wait("form button[type=submit]").await;
}

const HEADERS: [&str; 19] = [
    "基本编码",
    "实施编码",
    "事项名称",
    "事项类型",
    "行使层级",
    "实施部门",
    "审批方式",
    "办件类型",
    "法定时限",
    "承诺时限",
    "计时单位",
    "办理深度",
    "出件方式",
    "设定依据",
    "受理条件",
    "申请材料",
    "收费",
    "办理窗口",
    "办理时间",
];

fn row(code: &str, name: &str, kind: &str, dept: &str, legal: &str, promised: &str) -> Vec<Cell> {
    [
        "000114009",
        code,
        name,
        kind,
        "市级",
        dept,
        "审批制",
        "承诺件",
        legal,
        promised,
        "工作日",
        "全程网办",
        "窗口领取、邮寄送达",
        "《公共场所卫生管理条例》",
        "",
        "license:营业执照:原件:营业执照；report:检测报告:复印件",
        "",
        "市政务服务中心二楼",
        "工作日 9:00-17:00",
    ]
    .into_iter()
    .map(Cell::from)
    .collect()
}

/// Writes a workbook with these columns and rows where the browser can pick it up.
fn workbook(file: &str, headers: &[&str], rows: &[Vec<Cell>]) -> String {
    let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    let bytes = tabular::write_xlsx(&[("实施清单", &headers, rows)]).unwrap();
    let path = testkit::artifacts_dir("uploads").join(file);
    std::fs::write(&path, bytes).unwrap();
    path.canonicalize().unwrap().display().to_string()
}

async fn an_item_from_form_to_second_version_and_import(db: Db) {
    let backend = db.backend().name();
    let w = world(db.clone()).await;
    let _h = services_common::hall(&db, "A市数据局").await;
    let svc = ServicesService::new(db.clone());
    let Some(mut b) = Browser::start(&format!("services-items-{backend}")).await else {
        return;
    };
    let url = w.url.clone();
    b.set_size(1366, 900).await;

    // The approver of the health commission sees its own items only.
    login(&b, &url, "health1").await;
    b.goto(&format!("{url}/services/items")).await;
    let items = b.text("#items").await;
    assert!(
        items.contains("食品从业人员健康证明") && !items.contains("食品小摊贩备案"),
        "{items}"
    );
    assert!(
        items.contains("公共服务") && items.contains("已发布"),
        "{items}"
    );
    b.screenshot("catalogue").await;

    // A new item: the promised limit longer than the legal one is refused beside its field,
    // the typed rows stay, and nothing is written.
    b.click_and_wait("#new-item").await;
    let code = "11690100WJ0000009001";
    b.fill("#basic_code", "000114009").await;
    b.fill("#impl_code", code).await;
    b.fill("#name", "公共场所卫生许可").await;
    b.select("#item_type", "01").await;
    b.select("#level", "3").await;
    b.fill("#legal_basis", "《公共场所卫生管理条例》第八条")
        .await;
    b.fill("#conditions", "在本市经营宾馆、美容美发等公共场所的单位")
        .await;
    b.fill("#legal_days", "20").await;
    b.fill("#promised_days", "30").await;
    b.select("#depth", "fully_online").await;
    b.click("input[name=delivery][value=post]").await;
    b.fill("#windows", "市政务服务中心二楼卫健窗口").await;
    b.fill("#hours", "工作日 9:00-17:00").await;
    b.fill("#cross_region", "690103").await;
    b.fill("[name='materials[0].name']", "营业执照").await;
    b.fill("[name='materials[0].from_license']", "营业执照")
        .await;
    b.fill("[name='materials[1].name']", "卫生检测报告").await;
    b.select("[name='materials[1].form']", "copy").await;
    b.fill("[name='materials[1].copies']", "2").await;
    b.fill("[name='special_procedures[0].name']", "现场核查")
        .await;
    b.fill("[name='special_procedures[0].days']", "5").await;
    b.client
        .execute(
            "document.getElementById('materials').scrollIntoView(); return true;",
            vec![],
        )
        .await
        .unwrap();
    b.screenshot("new-item-form").await;
    b.click_and_wait("#save").await;
    let err = b.text("#promised_days-error").await;
    assert!(err.contains("承诺时限不能超过法定时限"), "{err}");
    assert!(b.text("#error-summary").await.contains("承诺时限"));
    let kept = b
        .client
        .execute(
            "return document.querySelector(\"[name='materials[1].name']\").value;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(kept, "卫生检测报告");
    assert_eq!(svc.item_id_by_impl_code(code).await.unwrap(), None);
    b.screenshot("new-item-error").await;

    b.fill("#promised_days", "10").await;
    b.click_and_wait("#save").await;
    let id = svc
        .item_id_by_impl_code(code)
        .await
        .unwrap()
        .expect("saved");
    assert_eq!(
        b.current_path().await,
        format!("/services/items/{id}/versions")
    );
    assert!(b.body_text().await.contains("已保存第 1 版草稿"));
    let versions = b.text("#versions").await;
    assert!(
        versions.contains("草稿") && versions.contains("测试health1"),
        "{versions}"
    );
    let v1 = svc.item_version(None, id, 1).await;
    assert!(v1.is_err(), "a draft is not public");
    let stored = &svc.item_versions(&kernel::Actor::cli(), id).await.unwrap()[0];
    let m = &stored.content.materials;
    assert_eq!(m.len(), 2, "the blank rows are ignored");
    assert_eq!(m[0].from_license.as_deref(), Some("营业执照"));
    assert_eq!(
        m[0].key, "营业执照",
        "a material without a code is keyed by its name"
    );
    assert_eq!((m[1].form, m[1].copies), (MaterialForm::Copy, 2));
    assert_eq!(stored.content.cross_region, ["690103"]);
    assert_eq!(stored.content.special_procedures[0].days, 5);
    // Not in the guide before it is published.
    b.goto(&format!("{url}/guide/items/{id}")).await;
    assert!(b.body_text().await.contains("尚未发布"));

    // Publish, with a confirmation step.
    b.goto(&format!("{url}/services/items/{id}/versions")).await;
    b.click_and_wait("#publish").await;
    assert!(b.text("#confirm-text").await.contains("确认发布第 1 版"));
    b.screenshot("publish-confirm").await;
    b.click_and_wait("#confirm-publish").await;
    assert!(b.body_text().await.contains("已发布第 1 版"));
    assert!(b.text("#v1").await.contains("已发布"));
    b.goto(&format!("{url}/guide?q=公共场所")).await;
    assert!(b.body_text().await.contains("公共场所卫生许可"));
    b.goto(&format!("{url}/guide/items/{id}")).await;
    let guide = b.body_text().await;
    assert!(
        guide.contains("第 1 版") && guide.contains("卫生检测报告") && guide.contains("现场核查"),
        "{guide}"
    );
    b.screenshot("guide-v1").await;

    // An edit of the published item is a new draft; the guide keeps version 1.
    b.goto(&format!("{url}/services/items/{id}/edit")).await;
    assert!(b.text("#edit-note").await.contains("生成第 2 版草稿"));
    b.fill("#promised_days", "8").await;
    b.click("[name='materials[1].remove']").await;
    b.fill("[name='materials[2].name']", "从业人员健康证明")
        .await;
    b.screenshot("edit-published").await;
    b.click_and_wait("#save").await;
    assert!(b.body_text().await.contains("已保存第 2 版草稿"));
    let v2 = b.text("#v2").await;
    assert!(v2.contains("草稿"), "{v2}");
    assert!(b.text("#v1").await.contains("已发布"));
    b.goto(&format!("{url}/guide/items/{id}")).await;
    let guide = b.body_text().await;
    assert!(
        guide.contains("第 1 版") && guide.contains("卫生检测报告"),
        "{guide}"
    );
    assert!(!guide.contains("从业人员健康证明"));

    // Publish version 2: the confirmation says what changed.
    b.goto(&format!("{url}/services/items/{id}/publish")).await;
    let changes = b.text("#changes").await;
    assert!(
        changes.contains("申请材料") && changes.contains("时限") && !changes.contains("收费"),
        "{changes}"
    );
    b.click_and_wait("#confirm-publish").await;
    assert!(b.text("#v1").await.contains("已被新版本替代"));
    b.screenshot("versions").await;
    b.goto(&format!("{url}/guide/items/{id}")).await;
    let guide = b.body_text().await;
    assert!(
        guide.contains("第 2 版")
            && guide.contains("从业人员健康证明")
            && !guide.contains("卫生检测报告"),
        "{guide}"
    );
    // The old version stays readable, as it was.
    b.goto(&format!("{url}/services/items/{id}/versions/1"))
        .await;
    assert!(b.text("#version-status").await.contains("只读"));
    assert!(b.text("#version-materials").await.contains("卫生检测报告"));
    b.screenshot("old-version").await;

    // Import: two good rows (a new item, and an edit of ours) and two bad ones.
    let good_new = "11690100WJ0000009002";
    let path = workbook(
        "items-mixed.xlsx",
        &HEADERS,
        &[
            row(
                good_new,
                "放射诊疗许可",
                "行政许可",
                "A市卫健委",
                "20",
                "10",
            ),
            row(code, "公共场所卫生许可", "01", "A市卫健委", "20", "6"),
            row(
                "11690100WJ0000009003",
                "医疗广告审查",
                "许可吧",
                "A市卫健委",
                "20",
                "5",
            ),
            row(
                "11690100WJ0000009004",
                "母婴保健技术服务许可",
                "01",
                "A市卫健委",
                "15",
                "30",
            ),
        ],
    );
    b.goto(&format!("{url}/services/items")).await;
    b.click_and_wait("a[href='/services/items/import']").await;
    b.fill("#file", &path).await;
    b.click_and_wait("#do-import").await;
    let summary = b.text("#import-summary").await;
    assert!(
        summary.contains("共 4 行")
            && summary.contains("新建 1 项")
            && summary.contains("修改 1 项"),
        "{summary}"
    );
    let errors = b.text("#import-errors").await;
    assert!(
        errors.contains("第 4 行") && errors.contains("事项类型") && errors.contains("许可吧"),
        "{errors}"
    );
    assert!(
        errors.contains("第 5 行") && errors.contains("承诺时限不能超过法定时限"),
        "{errors}"
    );
    assert!(!errors.contains("第 2 行") && !errors.contains("第 3 行"));
    let imported = b.text("#imported").await;
    assert!(
        imported.contains("放射诊疗许可") && imported.contains("修改，第 3 版"),
        "{imported}"
    );
    b.screenshot("import-report").await;
    assert!(svc.item_id_by_impl_code(good_new).await.unwrap().is_some());
    assert_eq!(
        svc.item_id_by_impl_code("11690100WJ0000009003")
            .await
            .unwrap(),
        None
    );
    let latest = svc.item_versions(&kernel::Actor::cli(), id).await.unwrap();
    assert_eq!(
        (
            latest.len(),
            latest[2].status,
            latest[2].content.promised_days
        ),
        (3, ItemStatus::Draft, 6)
    );
    assert_eq!(svc.published_item(id).await.unwrap().version, 2);

    // Files refused whole write nothing: a missing column, and a row of another department.
    let before = svc.staff_items(&kernel::Actor::cli()).await.unwrap().len();
    let path = workbook(
        "items-no-dept.xlsx",
        &HEADERS[..5],
        &[row("11690100WJ0000009005", "x", "01", "A市卫健委", "1", "1")[..5].to_vec()],
    );
    b.goto(&format!("{url}/services/items/import")).await;
    b.fill("#file", &path).await;
    b.click_and_wait("#do-import").await;
    let err = b.text("#file-error").await;
    assert!(
        err.contains("整个文件未导入") && err.contains("实施部门"),
        "{err}"
    );
    let path = workbook(
        "items-other-dept.xlsx",
        &HEADERS,
        &[
            row("11690100WJ0000009006", "甲", "01", "A市卫健委", "20", "5"),
            row(
                "11690100SJ0000009007",
                "乙",
                "01",
                "A市市场监管局",
                "20",
                "5",
            ),
        ],
    );
    b.fill("#file", &path).await;
    b.click_and_wait("#do-import").await;
    let err = b.text("#file-error").await;
    assert!(err.contains("整个文件未导入"), "{err}");
    b.screenshot("import-refused").await;
    assert_eq!(
        svc.staff_items(&kernel::Actor::cli()).await.unwrap().len(),
        before
    );
    assert_eq!(
        svc.item_id_by_impl_code("11690100WJ0000009006")
            .await
            .unwrap(),
        None
    );

    // The catalogue filters by status and type, in words.
    b.goto(&format!("{url}/services/items?status=draft")).await;
    let items = b.text("#items").await;
    assert!(
        items.contains("放射诊疗许可")
            && items.contains("公共场所卫生许可")
            && items.contains("第 2 版在用")
            && !items.contains("食品从业人员健康证明"),
        "{items}"
    );
    b.goto(&format!("{url}/services/items?item_type=20")).await;
    let items = b.text("#items").await;
    assert!(
        items.contains("食品从业人员健康证明") && !items.contains("放射诊疗许可"),
        "{items}"
    );
    b.goto(&format!("{url}/services/items")).await;
    b.screenshot("catalogue-after").await;

    // An admin sees every department's items; a clerk has no form to write with.
    b.click_and_wait("header form button").await;
    login(&b, &url, "admin").await;
    b.goto(&format!("{url}/services/items")).await;
    let items = b.text("#items").await;
    assert!(
        items.contains("食品小摊贩备案") && items.contains("公共场所卫生许可"),
        "{items}"
    );
    assert!(b.body_text().await.contains("新建事项"));
    b.click_and_wait("header form button").await;
    login(&b, &url, "clerk1").await;
    b.goto(&format!("{url}/services/items")).await;
    assert!(!b.body_text().await.contains("新建事项"));
    b.goto(&format!("{url}/services/items/new")).await;
    assert!(b.body_text().await.contains("此操作需要以下角色之一"));
    b.close().await;
}
