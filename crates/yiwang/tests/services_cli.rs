//! `yiwang services import|export|items` and `yiwang report services`, run as separate
//! processes on SQLite and PostgreSQL over a small city built through the services API.

mod support;
use support::*;

#[path = "../../services/tests/common/mod.rs"]
mod common;

use common::*;
use kernel::{Actor, Db};
use serde_json::json;
use services::domain::*;
use services::report::GroupBy;
use services::service::NewCase;
use tabular::Cell;

fn migrations() -> Vec<kernel::migrate::Migration> {
    web::migrations()
}

testkit::on_both_backends!(migrations;
    export_then_import_gives_the_same_items,
    import_names_the_bad_lines_and_fails,
    report_services_writes_word_and_excel_files,
);

fn path(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

/// The same departments as `world`, in the same order, and no items: where an export is
/// imported as a new city would.
async fn empty_city(db: &Db) {
    let org = org::OrgService::new(db.clone(), Default::default());
    let regions = [("690000", "西地省"), ("690100", "A市"), ("690102", "A1区")];
    let depts = ["市政务服务中心", "市卫健委", "市市场监管局"];
    regions_and_departments(&org, &regions, &depts).await;
}

/// A second database on the same backend as `db`.
async fn sibling(db: &Db) -> testkit::TestDb {
    match db.backend() {
        kernel::Backend::Sqlite => testkit::TestDb::sqlite(&migrations()).await,
        kernel::Backend::Postgres => testkit::TestDb::postgres(&migrations())
            .await
            .expect("postgres reachable: the first half ran on it"),
    }
}

async fn export_then_import_gives_the_same_items(db: Db) {
    let w = world(db.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("实施清单.xlsx");
    let o = yiwang(db.url(), &["services", "export", path(&first)]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("已发布事项 2 项"), "{}", out(&o));

    // Into an empty city: the same two items, published, as version 1.
    let other = sibling(&db).await;
    empty_city(&other.db).await;
    let o = yiwang(
        other.db.url(),
        &["services", "import", path(&first), "--publish"],
    );
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains("2 行，新增事项 2，更新 0，发布 2，有误 0"),
        "{}",
        out(&o)
    );
    let o = yiwang(other.db.url(), &["services", "items"]);
    assert!(o.status.success(), "{}", out(&o));
    let listing = out(&o);
    for want in [
        "11690100WJ0000001001",
        "食品从业人员健康证明",
        "11690100SJ0000002001",
        "食品小摊贩备案",
        "已发布",
        "共 2 项",
    ] {
        assert!(listing.contains(want), "{want} not in {listing}");
    }
    let copied = services::ServicesService::new(other.db.clone());
    for (id, code) in [
        (w.health_item, "11690100WJ0000001001"),
        (w.stall_item, "11690100SJ0000002001"),
    ] {
        let orig = w.svc.published_item(id).await.unwrap().content;
        let cid = copied.item_id_by_impl_code(code).await.unwrap().unwrap();
        let back = copied.published_item(cid).await.unwrap().content;
        // Every column of the 实施清单 comes back as it was.
        assert_eq!(
            (
                &back.basic_code,
                &back.name,
                back.item_type,
                back.level,
                back.dept_id,
                back.mode,
                back.handling,
                back.legal_days,
                back.promised_days,
                back.time_unit,
                back.depth,
            ),
            (
                &orig.basic_code,
                &orig.name,
                orig.item_type,
                orig.level,
                orig.dept_id,
                orig.mode,
                orig.handling,
                orig.legal_days,
                orig.promised_days,
                orig.time_unit,
                orig.depth,
            )
        );
        assert_eq!(back.delivery, orig.delivery);
        assert_eq!(
            (
                &back.legal_basis,
                &back.conditions,
                &back.windows,
                &back.hours
            ),
            (
                &orig.legal_basis,
                &orig.conditions,
                &orig.windows,
                &orig.hours
            )
        );
        assert_eq!(back.materials, orig.materials);
    }
    // And the second city's export is the first one's, cell for cell.
    let second = dir.path().join("second.xlsx");
    let o = yiwang(other.db.url(), &["services", "export", path(&second)]);
    assert!(o.status.success(), "{}", out(&o));
    let (a, b) = (
        tabular::read_path(&first).unwrap(),
        tabular::read_path(&second).unwrap(),
    );
    assert_eq!(a.headers, b.headers);
    let cells = |s: &tabular::Sheet| s.rows.iter().map(|r| r.cells.clone()).collect::<Vec<_>>();
    assert_eq!(cells(&a), cells(&b));
    other.close().await;

    // Into the same city: each item gets a new version equal to the old one in every respect,
    // including what the sheet has no column for (form fields, 情形, 特别程序).
    let o = yiwang(db.url(), &["services", "import", path(&first), "--publish"]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains("新增事项 0，更新 2，发布 2"),
        "{}",
        out(&o)
    );
    for id in [w.health_item, w.stall_item] {
        let versions = w.svc.item_versions(&Actor::cli(), id).await.unwrap();
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[1].status, ItemStatus::Published);
        assert_eq!(versions[1].content, versions[0].content);
    }
    let o = yiwang(db.url(), &["services", "items"]);
    assert!(out(&o).contains("2      已发布"), "{}", out(&o));

    // Wrong extensions and missing files are explained, with a failing exit code.
    for args in [
        vec!["services", "export", "x.csv"],
        vec!["services", "import", "missing.xlsx"],
    ] {
        let o = yiwang(db.url(), &args);
        assert!(!o.status.success(), "{args:?}");
        assert!(out(&o).contains("错误："), "{}", out(&o));
    }
}

fn header() -> Vec<String> {
    columns("基本编码 实施编码 事项名称 事项类型 实施部门 办件类型 法定时限 承诺时限 申请材料")
}

/// A row under `header()`; `fields` are 实施编码|事项名称|事项类型|实施部门|法定时限|承诺时限.
fn row(fields: &str) -> Vec<Cell> {
    let f: Vec<&str> = fields.split('|').collect();
    let cells = [
        "000105001",
        f[0],
        f[1],
        f[2],
        f[3],
        "承诺件",
        f[4],
        f[5],
        "apply:申请表",
    ];
    cells.iter().map(|s| Cell::from(*s)).collect()
}

async fn import_names_the_bad_lines_and_fails(db: Db) {
    let _w = world(db.clone()).await;
    let rows = vec![
        row("11690100SJ0000003001|个体工商户登记|行政许可|市市场监管局|15|3"),
        row("11690100SJ0000003002|食品经营许可|行政许可|市教育局|20|5"),
        row("11690100SJ0000003003||01|市市场监管局|20|5"),
        row("11690100SJ0000003004|药品零售许可|01|市市场监管局|15|三十"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.xlsx");
    std::fs::write(
        &file,
        tabular::write_xlsx(&[("实施清单", &header(), &rows)]).unwrap(),
    )
    .unwrap();
    let o = yiwang(db.url(), &["services", "import", path(&file)]);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let text = out(&o);
    for want in [
        "4 行，新增事项 1，更新 0，发布 0，有误 3",
        "第 3 行：实施部门“市教育局”不存在",
        "第 4 行：事项名称：",
        "第 5 行：承诺时限“三十”应为天数",
        "错误：3 行未导入（其余 1 行已导入）",
    ] {
        assert!(text.contains(want), "{want} not in {text}");
    }
    assert!(!text.contains("第 2 行"), "{text}");
    // The good row was kept, as a draft (no --publish).
    let o = yiwang(db.url(), &["services", "items"]);
    let listing = out(&o);
    assert!(
        listing.contains("11690100SJ0000003001") && listing.contains("草稿"),
        "{listing}"
    );
    assert!(!listing.contains("11690100SJ0000003004"), "{listing}");
    // A sheet without the required columns is refused whole.
    let bad = dir.path().join("cols.xlsx");
    std::fs::write(
        &bad,
        tabular::write_xlsx(&[("x", &["名称".to_string()], &[vec![Cell::from("a")]])]).unwrap(),
    )
    .unwrap();
    let o = yiwang(db.url(), &["services", "import", path(&bad)]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).contains("缺少“实施编码”列"), "{}", out(&o));
}

fn case(item: i64, mats: &[&str], stall: bool) -> NewCase {
    let id = kernel::codes::id_card_with_check("11010119900307001");
    let mut form = serde_json::Map::new();
    form.insert("name".into(), json!("张三"));
    form.insert("id_no".into(), json!(id));
    if stall {
        form.insert("stall_address".into(), json!("夜市"));
    } else {
        form.insert("mobile".into(), json!("13800138000"));
    }
    NewCase {
        item_id: item,
        scenario: None,
        applicant: person("张三", "13800138000"),
        form,
        materials: mats.iter().map(|s| s.to_string()).collect(),
    }
}

fn zip_names(p: &std::path::Path) -> Vec<String> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(p).unwrap()).unwrap();
    (0..z.len())
        .map(|i| z.by_index(i).unwrap().name().unwrap().into_owned())
        .collect()
}

async fn report_services_writes_word_and_excel_files(db: Db) {
    let w = world(db.clone()).await;
    // A (health, at the window) accepted and closed with 满意; B (stall, online) accepted only.
    let a = w
        .svc
        .submit(&w.clerk, case(w.health_item, &["photo", "exam"], false))
        .await
        .unwrap()
        .case;
    w.svc.act(&w.health, a.id, accept()).await.unwrap();
    let b = w
        .svc
        .submit(
            &w.citizen,
            case(w.stall_item, &["photo", "stall_place"], true),
        )
        .await
        .unwrap()
        .case;
    w.svc.act(&w.market, b.id, accept()).await.unwrap();
    w.clock.set(at(3, 18, 9, 30));
    w.svc
        .act(&w.health, a.id, approve("卫健〔2026〕1号"))
        .await
        .unwrap();
    w.svc.act(&w.health, a.id, Action::Close).await.unwrap();
    w.svc
        .evaluate_public(
            &a.number,
            "13800138000",
            NewEvaluation {
                level: Level::Satisfied,
                tags: vec![],
                text: String::new(),
            },
        )
        .await
        .unwrap();
    let expected = w
        .svc
        .report(&w.analyst, "2026-03", GroupBy::Dept)
        .await
        .unwrap();
    assert_eq!((expected.total.accepted, expected.total.closed), (2, 1));

    let dir = tempfile::tempdir().unwrap();
    // `yiwang report services ARGS…`.
    let report = |args: &[&str]| yiwang(db.url(), &[&["report", "services"][..], args].concat());
    // Asserts that the zip file at `path` holds each of `parts`.
    let assert_parts = |path: &std::path::Path, parts: &[&str]| {
        let names = zip_names(path);
        for part in parts {
            assert!(names.iter().any(|n| n == part), "{part} not in {names:?}");
        }
    };
    let docx = dir.path().join("政务服务.docx");
    let o = report(&["--period", "2026-03", "--out", path(&docx)]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains("已生成2026-03政务服务运行情况"),
        "{}",
        out(&o)
    );
    assert_parts(&docx, &["[Content_Types].xml", "word/document.xml"]);
    let xml = document_xml(&docx);
    for want in [
        "政务服务运行情况",
        "共受理办件 2 件，期初在办 0 件，办结 1 件，办结率 50.0%",
        "网上办理占 50.0%",
        "评价覆盖度 100.0%，好评率 100.0%",
        "市卫健委",
        "市市场监管局",
    ] {
        assert!(xml.contains(want), "{want} not in the report");
    }

    let xlsx = dir.path().join("figures.xlsx");
    let o = report(&["--period", "2026-03", "--out", path(&xlsx), "--by", "item"]);
    assert!(o.status.success(), "{}", out(&o));
    let parts = [
        "[Content_Types].xml",
        "xl/workbook.xml",
        "xl/worksheets/sheet1.xml",
    ];
    assert_parts(&xlsx, &parts);
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
    let sheet = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&sheet).unwrap();
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(rows[0][0], "统计对象");
    assert_eq!(rows[0][1], "受理量");
    let find = |label: &str| {
        rows.iter()
            .find(|r| r[0] == label)
            .unwrap_or_else(|| panic!("{label} not in {rows:?}"))
            .clone()
    };
    let total = find("合计");
    // 受理量, 期初在办, 办结量, 办结率.
    assert_eq!(rows[0][2], "期初在办");
    assert_eq!(
        (total[1].as_str(), total[2].as_str(), total[3].as_str()),
        ("2", "0", "1")
    );
    assert_eq!(total[4], "50.0%");
    let health = find("食品从业人员健康证明");
    assert_eq!((health[1].as_str(), health[3].as_str()), ("1", "1"));
    let stall = find("食品小摊贩备案");
    assert_eq!((stall[1].as_str(), stall[3].as_str()), ("1", "0"));

    // Mistakes are explained in Chinese, with a failing exit code.
    let bad = dir.path().join("x.pdf");
    for args in [
        vec!["--period", "2026-13", "--out", path(&docx)],
        vec!["--period", "2026-03", "--out", path(&bad)],
        vec![
            "--period",
            "2026-03",
            "--out",
            path(&xlsx),
            "--by",
            "street",
        ],
    ] {
        let o = report(&args);
        assert!(!o.status.success(), "{args:?}");
        assert!(out(&o).contains("错误："), "{}", out(&o));
    }
}
