//! Reports checked against figures computed by hand, and the 实施清单 .xlsx import with bad
//! rows reported by line — on SQLite and PostgreSQL.

mod common;

use common::*;
use kernel::{Actor, Db};
use serde_json::json;
use services::domain::*;
use services::report::{self, GroupBy};
use services::service::{NewCase, RectificationReply};
use tabular::Cell;

testkit::on_both_backends!(migrations;
    report_figures_match_a_hand_count,
    xlsx_import_keeps_good_rows_and_names_bad_lines,
);

fn case(item: i64, phone: &str, mats: &[&str], stall: bool) -> NewCase {
    let id = kernel::codes::id_card_with_check("11010119900307001");
    let mut form: serde_json::Map<String, serde_json::Value> =
        [("name", "张三"), ("id_no", id.as_str())]
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
    if stall {
        form.insert("stall_address".into(), json!("夜市"));
    } else {
        form.insert("mobile".into(), json!(phone));
    }
    NewCase {
        item_id: item,
        scenario: None,
        applicant: person("张三", phone),
        form,
        materials: mats.iter().map(|s| s.to_string()).collect(),
    }
}

async fn report_figures_match_a_hand_count(db: Db) {
    let w = world(db).await;
    // Applications with every material handed in.
    let complete_health = |phone| case(w.health_item, phone, &["photo", "exam"], false);
    let complete_stall = |phone| case(w.stall_item, phone, &["photo", "stall_place"], true);
    // E: closed in February (Thursday 2026-02-26), rated 非常不满意 in March: a March rating,
    // but not a March case — it does not cover anything closed in March.
    w.clock.set(at(2, 26, 9, 30));
    let e = w.submit(&w.clerk, complete_health("13800138000")).await;
    w.act(&w.health, e.id, accept()).await;
    w.clock.set(at(2, 26, 10, 30));
    w.act(&w.health, e.id, approve("卫健〔2026〕0号")).await;
    w.act(&w.health, e.id, Action::Close).await;
    w.clock.set(monday());
    // A: at the window, health (3 of 10 days), accepted Monday 09:30, closed Wednesday 09:30.
    let a = w.submit(&w.clerk, complete_health("13800138000")).await;
    w.act(&w.health, a.id, accept()).await;
    // B: online, stall filing (5 of 15 days), accepted Monday 09:30 and never finished.
    let b = w.submit(&w.citizen, complete_stall("13800138000")).await;
    w.act(&w.market, b.id, accept()).await;
    // D: online, stall filing, accepted Monday 09:30; 补正 from Monday 10:30 to Tuesday 10:30
    // and 现场核查 from Tuesday 11:30 to Wednesday 11:30 stop the clock for two office days;
    // closed Thursday 09:30: three office days elapsed, one of them counted. Never rated.
    let d = w.submit(&w.citizen, complete_stall("13800138000")).await;
    w.act(&w.market, d.id, accept()).await;
    w.clock.set(at(3, 16, 10, 30));
    w.ask_for(&w.market, d.id, &["photo"], "照片不清晰").await;
    w.clock.set(at(3, 17, 10, 30));
    w.act(&w.clerk, d.id, supply(&["photo"])).await;
    w.clock.set(at(3, 17, 11, 30));
    w.act(
        &w.market,
        d.id,
        Action::StartSpecial {
            name: "现场核查".into(),
            days: 3,
        },
    )
    .await;
    w.clock.set(at(3, 18, 11, 30));
    let paused = w
        .act(
            &w.market,
            d.id,
            Action::EndSpecial {
                note: "核查通过".into(),
            },
        )
        .await;
    assert_eq!(paused.paused_minutes, 2 * 7 * 60);
    w.clock.set(at(3, 19, 9, 30));
    w.act(&w.market, d.id, approve("市监〔2026〕1号")).await;
    w.act(&w.market, d.id, Action::Close).await;
    w.clock.set(monday());
    // C: online, never accepted.
    w.svc
        .submit(&w.citizen, case(w.health_item, "13800138000", &[], false))
        .await
        .unwrap();
    w.clock.set(at(3, 18, 9, 30));
    w.act(&w.health, a.id, approve("卫健〔2026〕1号")).await;
    w.act(&w.health, a.id, Action::Close).await;
    // 基本满意 is a 好评 in the bureau's figures (好评 + 差评 = 评价数).
    w.svc
        .evaluate_public(
            &a.number,
            "13800138000",
            NewEvaluation {
                level: Level::Basic,
                tags: vec![],
                text: String::new(),
            },
        )
        .await
        .unwrap();
    w.svc
        .evaluate_public(
            &e.number,
            "13800138000",
            NewEvaluation {
                level: Level::VeryDissatisfied,
                tags: vec![],
                text: "排队太久".into(),
            },
        )
        .await
        .unwrap();
    // The 差评 is put right: the department answers, the supervisor accepts.
    let r = w.svc.rectifications(&w.health).await.unwrap()[0].id;
    w.svc
        .reply_rectification(
            &w.health,
            r,
            RectificationReply {
                reply: "已增开窗口".into(),
            },
        )
        .await
        .unwrap();
    w.accept_rectification(r).await;
    w.clock.set(at(4, 2, 10, 0));
    let r = w
        .svc
        .report(&w.analyst, "2026-03", GroupBy::Total)
        .await
        .unwrap();
    let t = &r.total;
    // Accepted in March: A, B, D; closed in March: A, D (E closed in February).
    assert_eq!(
        (
            t.accepted,
            t.closed,
            t.overdue,
            t.evaluations,
            t.bad,
            t.rectified
        ),
        (3, 2, 1, 2, 1, 1)
    );
    // Nothing carried over from February (E was closed there).
    assert_eq!(t.carried_over, 0);
    let near = |x: Option<f64>, y: f64| x.is_some_and(|x| (x - y).abs() < 1e-9);
    assert!(near(t.closed_rate, 2.0 / 3.0));
    assert!(near(t.online_rate, 2.0 / 3.0));
    assert_eq!(t.immediate_share, Some(0.0));
    // 1 − (3 + 5 + 5) / (10 + 15 + 15)
    assert!(near(t.compression, 0.675), "{:?}", t.compression);
    // A: Monday 09:30–17:30 is 390 minutes, Tuesday 420, Wednesday 09:00–09:30 30: two 7-hour
    // days. D: three office days less two paused: one. (2 + 1) / 2.
    assert!(
        (t.avg_handling_days - 1.5).abs() < 1e-9,
        "{}",
        t.avg_handling_days
    );
    // Ratings in March: A 基本满意 (好评), E 非常不满意 (差评, rectified).
    assert!(near(t.good_rate, 0.5), "{:?}", t.good_rate);
    assert!(near(t.rectified_rate, 1.0));
    // Of the two cases closed in March only A was rated: E's rating covers a February case.
    assert!(near(t.coverage, 0.5), "{:?}", t.coverage);
    let by_dept = w
        .svc
        .report(&w.supervisor, "2026-03", GroupBy::Dept)
        .await
        .unwrap();
    let rows: Vec<(&str, i64, i64, i64)> = by_dept
        .rows
        .iter()
        .map(|r| (r.label.as_str(), r.accepted, r.closed, r.overdue))
        .collect();
    assert_eq!(rows.len(), 2);
    assert!(rows.contains(&("市卫健委", 1, 1, 0)), "{rows:?}");
    assert!(rows.contains(&("市市场监管局", 2, 1, 1)), "{rows:?}");
    let market = by_dept
        .rows
        .iter()
        .find(|r| r.label == "市市场监管局")
        .unwrap();
    assert_eq!(
        (market.coverage, market.avg_handling_days),
        (Some(0.0), 1.0)
    );
    let health = by_dept.rows.iter().find(|r| r.label == "市卫健委").unwrap();
    assert_eq!((health.coverage, health.evaluations), (Some(1.0), 2));
    // April has nothing accepted or closed; B is still running past its deadline.
    let april = w
        .svc
        .report(&w.analyst, "2026-04", GroupBy::Item)
        .await
        .unwrap();
    assert_eq!(
        (
            april.total.accepted,
            april.total.closed,
            april.total.overdue
        ),
        (0, 0, 1)
    );
    assert_eq!(april.rows[0].label, "食品小摊贩备案");
    // B carries over into April: 办结率 counts it (0 of 1), and rates of what April accepted
    // have no denominator: "—", not 0%.
    assert_eq!(april.total.carried_over, 1);
    assert_eq!(april.total.closed_rate, Some(0.0));
    assert_eq!(
        (april.total.online_rate, april.total.good_rate),
        (None, None)
    );
    // A running month counts what is late now, not what will be late by the month's end: F,
    // accepted on 2 April with three working days, is not overdue until 8 April.
    let f = w.submit(&w.clerk, complete_health("13800138001")).await;
    w.act(&w.health, f.id, accept()).await;
    let overdue_in_april = || async {
        w.svc
            .report(&w.analyst, "2026-04", GroupBy::Total)
            .await
            .unwrap()
            .total
            .overdue
    };
    assert_eq!(overdue_in_april().await, 1);
    w.clock.set(at(4, 9, 10, 0));
    assert_eq!(overdue_in_april().await, 2);
    // B finished in April beside F accepted then: one closed of two to handle, 50% — the old
    // 办结量 ÷ 受理量 said 100%, and with one more carried-over case it passed 100%.
    w.act(&w.market, b.id, approve("市监〔2026〕2号")).await;
    w.act(&w.market, b.id, Action::Close).await;
    let april = w
        .svc
        .report(&w.analyst, "2026-04", GroupBy::Total)
        .await
        .unwrap()
        .total;
    assert_eq!(
        (april.carried_over, april.accepted, april.closed),
        (1, 1, 1)
    );
    assert_eq!(april.closed_rate, Some(0.5));
    // Departments do not read the bureau's figures; periods are checked.
    assert_eq!(
        error_code(w.svc.report(&w.health, "2026-03", GroupBy::Total).await),
        "forbidden"
    );
    assert_eq!(
        w.svc
            .report(&w.analyst, "2026-13", GroupBy::Total)
            .await
            .unwrap_err()
            .field_name(),
        Some("period")
    );
    // The workbook and the monthly document carry the same figures.
    let x = report::to_xlsx(&by_dept).unwrap();
    let sheet = tabular::read_xlsx(&x).unwrap();
    assert_eq!(sheet.headers[1], "受理量");
    assert_eq!(sheet.rows.len(), 3);
    assert_eq!(sheet.rows[2].cells[0], "合计");
    assert_eq!(sheet.headers[2], "期初在办");
    assert_eq!(sheet.rows[2].cells[4], "66.7%");
    assert_eq!(sheet.rows[2].cells[8], "1.5");
    assert_eq!(sheet.rows[2].cells[12], "50.0%");
    let d = report::to_docx(&by_dept, "A市").unwrap();
    assert!(d.starts_with(b"PK"));
}

fn header() -> Vec<String> {
    columns("基本编码 实施编码 事项名称 事项类型 行使层级 实施部门 审批方式 办件类型 法定时限 承诺时限 办理深度 出件方式 申请材料")
}

/// A row under `header()`; `fields` are 实施编码|事项名称|事项类型|实施部门|法定时限|承诺时限.
fn row(fields: &str) -> Vec<Cell> {
    let f: Vec<&str> = fields.split('|').collect();
    let materials = "apply:申请表；licence:营业执照:复印件:营业执照";
    [
        "000105001",
        f[0],
        f[1],
        f[2],
        "市级",
        f[3],
        "审批制",
        "承诺件",
        f[4],
        f[5],
        "全程网办",
        "窗口领取、邮寄送达",
        materials,
    ]
    .iter()
    .map(|s| Cell::from(*s))
    .collect()
}

async fn xlsx_import_keeps_good_rows_and_names_bad_lines(db: Db) {
    let w = world(db).await;
    let rows = vec![
        row("11690100SJ0000003001|个体工商户登记|行政许可|市市场监管局|15|3"),
        row("11690100SJ0000003002|食品经营许可|行政许可|市教育局|20|5"),
        row("11690100SJ0000003003|广告发布登记|许可吧|市市场监管局|20|5"),
        row("11690100SJ0000003004|药品零售许可|01|市市场监管局|15|30"),
        row("11690100SJ0000003001|个体工商户登记（重复）|01|市市场监管局|15|3"),
        row("11690100WJ0000003005|医师执业注册|01|市卫健委|20天|7天"),
    ];
    let bytes = tabular::write_xlsx(&[("实施清单", &header(), &rows)]).unwrap();
    let sheet = tabular::read_xlsx(&bytes).unwrap();
    let rep = services::import::import_items(&w.svc, &Actor::cli(), &sheet, true)
        .await
        .unwrap();
    assert_eq!(
        (rep.total_rows, rep.created, rep.updated, rep.published),
        (6, 2, 0, 2)
    );
    let lines: Vec<usize> = rep.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 4, 5, 6]);
    assert!(
        rep.errors[0].reason.contains("市教育局"),
        "{:?}",
        rep.errors
    );
    assert!(rep.errors[1].reason.contains("许可吧"));
    assert!(rep.errors[2].reason.contains("承诺时限不能超过法定时限"));
    assert!(rep.errors[3].reason.contains("第 2 行重复"));
    let columns: Vec<&str> = rep.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(columns, ["实施部门", "事项类型", "承诺时限", "实施编码"]);
    assert_eq!(rep.imported.len(), 2);
    assert!(rep.imported.iter().all(|r| r.created && r.published));
    let found = w.svc.search_items("医师").await.unwrap();
    assert_eq!(found.len(), 1);
    let m = &found[0].content.materials;
    assert_eq!(m[1].from_license.as_deref(), Some("营业执照"));
    assert_eq!(
        found[0].content.delivery,
        [DeliveryMethod::Window, DeliveryMethod::Post]
    );
    // Importing the same list again makes new versions of the published items, not new items.
    let again = services::import::import_items(&w.svc, &Actor::cli(), &sheet, true)
        .await
        .unwrap();
    assert_eq!((again.created, again.updated), (0, 2));
    assert_eq!(w.svc.published_item(found[0].id).await.unwrap().version, 2);
    // Export gives every published item back in the import's columns.
    let out = services::import::export_items(&w.svc).await.unwrap();
    let back = tabular::read_xlsx(&out).unwrap();
    assert_eq!(back.rows.len(), 4);
    let round = services::import::import_items(&w.svc, &Actor::cli(), &back, false)
        .await
        .unwrap();
    assert!(round.errors.is_empty(), "{:?}", round.errors);
    assert_eq!(round.updated, 4);
    // A sheet without the required columns is refused as a whole, naming the column.
    let bad =
        tabular::write_xlsx(&[("x", &["名称".to_string()], &[vec![Cell::from("a")]])]).unwrap();
    let e = services::import::import_items(
        &w.svc,
        &Actor::cli(),
        &tabular::read_xlsx(&bad).unwrap(),
        false,
    )
    .await
    .unwrap_err();
    assert!(e.detail().contains("实施编码"));
    // Departments cannot import for others.
    let e = services::import::import_items(&w.svc, &w.health, &sheet, false).await;
    assert_eq!(e.unwrap_err().code(), "forbidden");
}
