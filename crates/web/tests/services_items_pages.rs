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

testkit::on_both_backends!(migrations; an_item_from_form_to_second_version_and_import);

/// The columns of an 实施清单 sheet, in order.
fn headers() -> Vec<&'static str> {
    "基本编码 实施编码 事项名称 事项类型 行使层级 实施部门 审批方式 办件类型 法定时限 承诺时限 计时单位 办理深度 出件方式 设定依据 受理条件 申请材料 收费 办理窗口 办理时间"
        .split(' ')
        .collect()
}

/// A row under `headers()`; `fields` are 实施编码|事项名称|事项类型|实施部门|法定时限|承诺时限.
fn row(fields: &str) -> Vec<Cell> {
    let f: Vec<&str> = fields.split('|').collect();
    let (code, name, kind, dept, legal, promised) = (f[0], f[1], f[2], f[3], f[4], f[5]);
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
    let Some((w, _h, mut b)) =
        services_common::hall_in_browser(&db, "services-items", (1366, 900)).await
    else {
        return;
    };
    let svc = ServicesService::new(db.clone());
    let url = w.url.clone();

    // The approver of the health commission sees its own items only.
    login(&b, &url, "health1").await;
    b.goto(&format!("{url}/services/items")).await;
    let items = b.text("#items").await;
    assert!(
        items.contains("食品从业人员健康证明") && !items.contains("食品小摊贩备案"),
        "{items}"
    );
    assert_has_all(&items, &["公共服务", "已发布"]);
    b.screenshot("catalogue").await;

    // A new item: the promised limit longer than the legal one is refused beside its field,
    // the typed rows stay, and nothing is written.
    b.click_and_wait("#new-item").await;
    let code = "11690100WJ0000009001";
    fill_all(
        &b,
        &[
            ("#basic_code", "000114009"),
            ("#impl_code", code),
            ("#name", "公共场所卫生许可"),
        ],
    )
    .await;
    b.select("#item_type", "01").await;
    b.select("#level", "3").await;
    fill_all(
        &b,
        &[
            ("#legal_basis", "《公共场所卫生管理条例》第八条"),
            ("#conditions", "在本市经营宾馆、美容美发等公共场所的单位"),
            ("#legal_days", "20"),
            ("#promised_days", "30"),
        ],
    )
    .await;
    b.select("#depth", "fully_online").await;
    b.click("input[name=delivery][value=post]").await;
    fill_all(
        &b,
        &[
            ("#windows", "市政务服务中心二楼卫健窗口"),
            ("#hours", "工作日 9:00-17:00"),
            ("#cross_region", "690103"),
            ("[name='materials[0].name']", "营业执照"),
            ("[name='materials[0].from_license']", "营业执照"),
            ("[name='materials[1].name']", "卫生检测报告"),
        ],
    )
    .await;
    b.select("[name='materials[1].form']", "copy").await;
    fill_all(
        &b,
        &[
            ("[name='materials[1].copies']", "2"),
            ("[name='special_procedures[0].name']", "现场核查"),
            ("[name='special_procedures[0].days']", "5"),
        ],
    )
    .await;
    run_script(
        &b,
        "document.getElementById('materials').scrollIntoView(); return true;",
    )
    .await;
    b.screenshot("new-item-form").await;
    b.click_and_wait("#save").await;
    let err = b.text("#promised_days-error").await;
    assert!(err.contains("承诺时限不能超过法定时限"), "{err}");
    assert_text_has(&b, "#error-summary", "承诺时限").await;
    let kept = run_script(
        &b,
        "return document.querySelector(\"[name='materials[1].name']\").value;",
    )
    .await;
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
    assert_has_all(&versions, &["草稿", "测试health1"]);
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
    assert_text_has(&b, "#confirm-text", "确认发布第 1 版").await;
    b.screenshot("publish-confirm").await;
    b.click_and_wait("#confirm-publish").await;
    assert!(b.body_text().await.contains("已发布第 1 版"));
    assert_text_has(&b, "#v1", "已发布").await;
    b.goto(&format!("{url}/guide?q=公共场所")).await;
    assert!(b.body_text().await.contains("公共场所卫生许可"));
    b.goto(&format!("{url}/guide/items/{id}")).await;
    let guide = b.body_text().await;
    assert_has_all(&guide, &["第 1 版", "卫生检测报告", "现场核查"]);
    b.screenshot("guide-v1").await;

    // An edit of the published item is a new draft; the guide keeps version 1.
    b.goto(&format!("{url}/services/items/{id}/edit")).await;
    assert_text_has(&b, "#edit-note", "生成第 2 版草稿").await;
    b.fill("#promised_days", "8").await;
    b.click("[name='materials[1].remove']").await;
    b.fill("[name='materials[2].name']", "从业人员健康证明")
        .await;
    b.screenshot("edit-published").await;
    b.click_and_wait("#save").await;
    assert!(b.body_text().await.contains("已保存第 2 版草稿"));
    let v2 = b.text("#v2").await;
    assert!(v2.contains("草稿"), "{v2}");
    assert_text_has(&b, "#v1", "已发布").await;
    b.goto(&format!("{url}/guide/items/{id}")).await;
    let guide = b.body_text().await;
    assert_has_all(&guide, &["第 1 版", "卫生检测报告"]);
    assert!(!guide.contains("从业人员健康证明"));

    // Publish version 2: the confirmation says what changed.
    b.goto(&format!("{url}/services/items/{id}/publish")).await;
    let changes = b.text("#changes").await;
    assert!(
        changes.contains("申请材料") && changes.contains("时限") && !changes.contains("收费"),
        "{changes}"
    );
    b.click_and_wait("#confirm-publish").await;
    assert_text_has(&b, "#v1", "已被新版本替代").await;
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
    assert_text_has(&b, "#version-status", "只读").await;
    assert_text_has(&b, "#version-materials", "卫生检测报告").await;
    b.screenshot("old-version").await;

    // Import: two good rows (a new item, and an edit of ours) and two bad ones.
    let good_new = "11690100WJ0000009002";
    let path = workbook(
        "items-mixed.xlsx",
        &headers(),
        &[
            row(&format!("{good_new}|放射诊疗许可|行政许可|A市卫健委|20|10")),
            row(&format!("{code}|公共场所卫生许可|01|A市卫健委|20|6")),
            row("11690100WJ0000009003|医疗广告审查|许可吧|A市卫健委|20|5"),
            row("11690100WJ0000009004|母婴保健技术服务许可|01|A市卫健委|15|30"),
        ],
    );
    b.goto(&format!("{url}/services/items")).await;
    b.click_and_wait("a[href='/services/items/import']").await;
    b.fill("#file", &path).await;
    b.click_and_wait("#do-import").await;
    let summary = b.text("#import-summary").await;
    assert_has_all(&summary, &["共 4 行", "新建 1 项", "修改 1 项"]);
    let errors = b.text("#import-errors").await;
    assert_has_all(&errors, &["第 4 行", "事项类型", "许可吧"]);
    assert_has_all(&errors, &["第 5 行", "承诺时限不能超过法定时限"]);
    assert!(!errors.contains("第 2 行") && !errors.contains("第 3 行"));
    let imported = b.text("#imported").await;
    assert_has_all(&imported, &["放射诊疗许可", "修改，第 3 版"]);
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
        &headers()[..5],
        &[row("11690100WJ0000009005|x|01|A市卫健委|1|1")[..5].to_vec()],
    );
    b.goto(&format!("{url}/services/items/import")).await;
    b.fill("#file", &path).await;
    b.click_and_wait("#do-import").await;
    let err = b.text("#file-error").await;
    assert_has_all(&err, &["整个文件未导入", "实施部门"]);
    let path = workbook(
        "items-other-dept.xlsx",
        &headers(),
        &[
            row("11690100WJ0000009006|甲|01|A市卫健委|20|5"),
            row("11690100SJ0000009007|乙|01|A市市场监管局|20|5"),
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
    b.click_and_wait("header .who form button").await;
    login(&b, &url, "admin").await;
    b.goto(&format!("{url}/services/items")).await;
    let items = b.text("#items").await;
    assert_has_all(&items, &["食品小摊贩备案", "公共场所卫生许可"]);
    assert!(b.body_text().await.contains("新建事项"));
    b.click_and_wait("header .who form button").await;
    login(&b, &url, "clerk1").await;
    b.goto(&format!("{url}/services/items")).await;
    assert!(!b.body_text().await.contains("新建事项"));
    b.goto(&format!("{url}/services/items/new")).await;
    assert!(b.body_text().await.contains("此操作需要以下角色之一"));
    b.close().await;
}
