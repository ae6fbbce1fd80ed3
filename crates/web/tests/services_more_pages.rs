//! More of the service hall in a real headless Chromium, on a settable clock: a case accepted
//! with a tolerated material (容缺受理) goes through a 特别程序 — the clock stops and the
//! deadline moves by the days it took — and the material comes in (补齐容缺); a citizen withdraws
//! an application from 我的办件; a supervisor answers a 办不成事反映; the report page shows the
//! figures counted by hand and its downloads are .xlsx and .docx; bad input is shown beside its
//! field and writes nothing. Screenshots: artifacts/screenshots/.

mod common;
mod services_common;

use common::*;
use kernel::clock::{format_minute, Clock};
use kernel::{Actor, Db};
use serde_json::json;
use services::domain::*;
use services::service::{CaseQuery, NewCase};
use services::ServicesService;
use testkit::browser::Browser;

testkit::on_both_backends!(migrations; special_procedure_tolerance_withdrawal_feedback_and_report);

/// China time in March 2026 (day, hour, minute).
fn at(d: i64, h: i64, min: i64) -> i64 {
    // 2026-03-16 09:00 +08:00, a Monday.
    const MONDAY_16_0900: i64 = 1_773_622_800_000;
    MONDAY_16_0900 + ((d - 16) * 24 * 60 + (h - 9) * 60 + min) * 60_000
}

/// The text of each cell of each `css` row.
async fn rows(b: &Browser, css: &str) -> Vec<Vec<String>> {
    let v = b
        .client
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0])).map(r => Array.from(r.querySelectorAll('th,td')).map(c => c.textContent.trim()));",
            vec![json!(css)],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

async fn case_of(svc: &ServicesService, id: i64) -> Case {
    svc.get(&Actor::cli(), id).await.unwrap().case
}

async fn special_procedure_tolerance_withdrawal_feedback_and_report(db: Db) {
    let mut db = db;
    // Monday 16 March 2026, 09:00.
    let clock = Clock::manual(at(16, 9, 0));
    db.clock = clock.clone();
    let Some((w, h, mut b)) =
        services_common::hall_in_browser(&db, "services-more", (1366, 900)).await
    else {
        return;
    };
    let svc = ServicesService::new(db.clone());
    let url = w.url.clone();
    let id_no = kernel::codes::id_card_with_check("11010119900307001");

    // The citizen applies online for 摆摊一件事 with every material.
    login(&b, &url, "citizen1").await;
    b.goto(&format!("{url}/services/apply/bundle/{}", h.bundle))
        .await;
    fill_all(
        &b,
        &[
            ("[name='applicant.name']", "张三"),
            ("[name='applicant.id_no']", &id_no),
            ("[name='applicant.phone']", "13800138000"),
        ],
    )
    .await;
    // Name and ID are asked once, in the applicant block (一数一源; services_pages checks it).
    for m in ["photo", "exam", "stall_place"] {
        b.click(&format!("input[name=materials][value={m}]")).await;
    }
    b.click_and_wait("#apply-form button[type=submit]").await;
    assert!(b.current_path().await.starts_with("/services/mine/YJS"));
    logout(&b).await;
    let online = |item: i64| CaseQuery {
        item_id: Some(item),
        ..Default::default()
    };
    let page = kernel::page::PageQuery {
        page: None,
        per_page: Some(50),
    };
    // The first online case of `item`.
    let first_online = |item: i64| {
        let svc = svc.clone();
        async move {
            let cases = svc.list(&Actor::cli(), &online(item), &page).await;
            cases.unwrap().items[0].case.clone()
        }
    };
    let online_health = first_online(h.health_item).await;
    let market = first_online(h.stall_item).await;
    // Market supervision accepts its part (5 working days: due Monday 23 March 17:30).
    svc.act(
        &Actor::cli(),
        market.id,
        Action::Accept {
            tolerated: vec![],
            tolerated_days: None,
        },
    )
    .await
    .unwrap();

    // At the window: an application for the health certificate without the 体检表.
    let a = svc
        .submit(
            &Actor::cli(),
            NewCase {
                item_id: h.health_item,
                scenario: None,
                applicant: Applicant {
                    kind: ApplicantKind::Person,
                    name: "李四".into(),
                    id_no: id_no.clone(),
                    phone: "13900139000".into(),
                    user_id: None,
                },
                form: [("name", "李四"), ("id_no", id_no.as_str())]
                    .iter()
                    .map(|(k, v)| (k.to_string(), json!(v)))
                    .collect(),
                materials: vec!["photo".into()],
            },
        )
        .await
        .unwrap()
        .case;
    let case_url = format!("{url}/services/cases/{}", a.id);

    // 容缺受理: the 体检表 is tolerated for two working days.
    login(&b, &url, "health1").await;
    b.goto(&case_url).await;
    assert_eq!(b.text("#case-status").await, "待受理");
    assert_eq!(
        count(&b, "#special").await,
        0,
        "no 特别程序 before acceptance"
    );
    b.click("#accept input[name=tolerated][value=exam]").await;
    b.fill("#tolerated_days", "2").await;
    b.click_and_wait("#accept button[type=submit]").await;
    assert_eq!(b.text("#case-status").await, "审查中");
    // Three working days after Monday: the end of Thursday; Monday to Thursday is four days
    // of office time.
    assert_eq!(b.text("#case-due").await, "2026-03-19 17:30");
    assert_eq!(b.text("#case-left").await, "剩余 4.0 个工作日");
    assert_text_has(&b, "#case-tolerated", "体检表").await;
    assert_eq!(count(&b, "#accept").await, 0);
    assert_eq!(count(&b, "#supply-tolerated").await, 1);
    assert_eq!(count(&b, "#end-special").await, 0);
    b.screenshot("tolerated-accepted").await;

    // A 特别程序 with days that are no number, or zero, is refused beside the field.
    let events = count(&b, "#case-timeline li").await;
    b.select("#special_name", "专家评审").await;
    b.fill("#special_days", "三天").await;
    b.click_and_wait("#special button[type=submit]").await;
    assert_eq!(
        b.text("#special #days-error").await,
        "特别程序期限应为正整数（天）"
    );
    assert_eq!(b.text("#case-status").await, "审查中");
    b.screenshot("special-days-not-a-number").await;
    b.fill("#special_days", "0").await;
    b.click_and_wait("#special button[type=submit]").await;
    assert_eq!(
        b.text("#special #days-error").await,
        "请填写特别程序的期限（天）"
    );
    assert_eq!(count(&b, "#case-timeline li").await, events);
    let stored = case_of(&svc, a.id).await;
    assert_eq!(
        (stored.status, stored.special.is_none(), stored.paused_since),
        (CaseStatus::Accepted, true, None),
        "nothing written"
    );
    b.screenshot("special-days-zero").await;

    // 专家评审 for three days: the clock stops.
    b.select("#special_name", "专家评审").await;
    b.fill("#special_days", "3").await;
    b.click_and_wait("#special button[type=submit]").await;
    assert_eq!(b.text("#case-status").await, "特别程序中");
    assert_text_has(&b, "#case-clock", "计时暂停").await;
    assert_text_has(&b, "#case-special", "专家评审，3 天").await;
    assert_eq!(count(&b, "#decide").await, 0);
    assert_eq!(count(&b, "#end-special").await, 1);
    b.screenshot("special-started").await;
    logout(&b).await;

    // Thursday: the review took three working days; while paused nothing runs down.
    clock.set(at(19, 9, 0));
    login(&b, &url, "health1").await;
    b.goto(&case_url).await;
    assert_eq!(b.text("#case-left").await, "剩余 4.0 个工作日");
    b.click_and_wait("#end-special button[type=submit]").await;
    assert_text_has(&b, "#end-special #note-error", "特别程序结论").await;
    assert_eq!(b.text("#case-status").await, "特别程序中");
    b.fill("#end_note", "专家评审意见：符合条件").await;
    b.click_and_wait("#end-special button[type=submit]").await;
    assert_eq!(b.text("#case-status").await, "审查中");
    // The deadline moved by the three working days of the procedure: Thursday 19 → Tuesday 24.
    assert_eq!(b.text("#case-due").await, "2026-03-24 17:30");
    assert_eq!(b.text("#case-left").await, "剩余 4.0 个工作日");
    assert_eq!(count(&b, "#case-clock").await, 0);
    b.screenshot("special-ended").await;

    // 补齐容缺, then the decision and 办结.
    b.click_and_wait("#supply-tolerated button[type=submit]")
        .await;
    assert_eq!(count(&b, "#case-tolerated").await, 0);
    assert_eq!(count(&b, "#supply-tolerated").await, 0);
    // The materials table: the tolerated 体检表 now handed in by the applicant.
    let row = run_script(
        &b,
        "return [...document.querySelectorAll('#materials tr')].map(r => r.innerText).find(t => t.includes('体检表')) || '';",
    )
    .await;
    assert!(
        row.as_str().is_some_and(|t| t.contains("申请人提交")),
        "{row}"
    );
    assert_text_has(&b, "#case-timeline", "补齐容缺材料").await;
    b.fill("#document_no", "A卫健〔2026〕9号").await;
    b.fill("#text", "准予发放健康证明").await;
    b.click_and_wait("#decide button[type=submit]").await;
    b.click_and_wait("#close button[type=submit]").await;
    assert_eq!(b.text("#case-status").await, "已办结");
    assert_eq!(
        count(&b, "#withdraw").await,
        0,
        "a closed case cannot be withdrawn"
    );
    // A finished case has no time left to show.
    assert_eq!(count(&b, "#case-left").await, 0);
    b.screenshot("tolerated-supplied-closed").await;
    logout(&b).await;

    // The citizen withdraws the health part from 我的办件; a reason is needed.
    login(&b, &url, "citizen1").await;
    b.goto(&format!("{url}/services/mine")).await;
    assert!(b.body_text().await.contains(&online_health.number));
    b.goto(&format!("{url}/services/mine/{}", online_health.number))
        .await;
    let form = format!("#withdraw-{}", online_health.id);
    b.click_and_wait(&format!("{form} button[type=submit]"))
        .await;
    assert_text_has(&b, &format!("{form} #reason-error"), "撤回理由").await;
    assert_eq!(
        case_of(&svc, online_health.id).await.status,
        CaseStatus::Submitted
    );
    assert_eq!(
        href_of(&b, "#error-summary a").await,
        format!("#withdraw-reason-{}", online_health.id)
    );
    b.screenshot("withdraw-no-reason").await;
    b.fill(
        &format!("#withdraw-reason-{}", online_health.id),
        "不再摆摊，改为门店经营",
    )
    .await;
    b.click_and_wait(&format!("{form} button[type=submit]"))
        .await;
    assert_text_has(&b, "#status", "已撤回").await;
    assert_eq!(count(&b, &form).await, 0);
    assert_text_has(&b, "#timeline", "撤回申请").await;
    b.screenshot("withdrawn").await;
    logout(&b).await;

    // 办不成事反映: left on the public page, answered by the supervisor.
    b.goto(&format!("{url}/guide/feedback")).await;
    fill_all(
        &b,
        &[
            ("#name", "王五"),
            ("#phone", "13700137000"),
            ("#text", "夜市摊位办健康证要跑三次"),
        ],
    )
    .await;
    b.click_and_wait("form button[type=submit]").await;
    assert!(b.body_text().await.contains("已收到您的反映"));
    login(&b, &url, "super1").await;
    b.goto(&format!("{url}/services/feedback")).await;
    assert_eq!(b.text("#count-open").await, "1");
    assert_eq!(b.text("#count-answered").await, "0");
    let entry = b.text("section.feedback").await;
    assert_has_all(&entry, &["夜市摊位办健康证要跑三次", "137****7000"]);
    assert!(
        !entry.contains("13700137000"),
        "a supervisor sees the phone masked"
    );
    b.click_and_wait("form.answer button[type=submit]").await;
    assert_text_has(&b, "form.answer #answer-error", "答复").await;
    assert_eq!(b.text("#count-open").await, "1");
    assert!(href_of(&b, "#error-summary a")
        .await
        .starts_with("#answer-"));
    b.screenshot("feedback-empty-answer").await;
    b.fill(
        "form.answer textarea",
        "已协调卫健委在夜市设立体检点，一次办结",
    )
    .await;
    b.click_and_wait("form.answer button[type=submit]").await;
    assert_eq!(b.text("#count-open").await, "0");
    assert_eq!(b.text("#count-answered").await, "1");
    assert_text_has(&b, "section.feedback .status", "已答复").await;
    b.goto(&format!("{url}/services/feedback?status=open"))
        .await;
    assert!(b.body_text().await.contains("没有符合条件的反映"));
    b.goto(&format!("{url}/services/feedback?status=answered"))
        .await;
    assert_text_has(&b, "section.feedback", "设立体检点").await;
    b.screenshot("feedback-answered").await;
    logout(&b).await;

    // Wednesday 25 March: the report for March, counted by hand. Accepted: A and the market
    // part (the withdrawn part never was) = 2; closed: A = 1; 办结率 50.0%; online: the market
    // part = 50.0%; 承诺时限压缩率 1 − (3 + 5) / (15 + 15) = 73.3%; A took Monday 09:00 to
    // Thursday 09:00, all of it in 专家评审 (a pause, not handling time) = 0.0 working days; overdue: the market part (due 23 March) = 1.
    // Nothing carried over from February (期初在办 0); no ratings and no 差评 in March, so 好评率
    // and 差评整改率 have no denominator: "—", not 0.0%; 评价覆盖度 is 0 of the 1 closed.
    clock.set(at(25, 10, 0));
    login(&b, &url, "super1").await;
    b.goto(&format!("{url}/services/reports?month=2026-03"))
        .await;
    let total = &rows(&b, "#report-total").await[0];
    assert_eq!(
        total,
        &[
            "合计", "2", "0", "1", "50.0%", "50.0%", "0.0%", "73.3%", "0.0", "1", "0", "—", "0.0%",
            "0", "—"
        ],
        "{total:?}"
    );
    let body = rows(&b, "#report-table tbody tr").await;
    let short: Vec<&[String]> = body.iter().map(|r| &r[..5]).collect();
    assert_eq!(
        short,
        [
            ["A市卫健委", "1", "0", "1", "100.0%"],
            ["A市市场监管局", "1", "0", "0", "0.0%"]
        ],
        "sorted by 受理量, then by name, highest first: {body:?}"
    );
    assert_text_has(&b, "#kpis", "已答复 1").await;
    // Overdue now: the market part, red, linked to its case page.
    let overdue = b.text("#overdue").await;
    assert!(
        overdue.contains("A市市场监管局（1 件）")
            && overdue.contains(&market.number)
            && overdue.contains("红牌"),
        "{overdue}"
    );
    assert_eq!(
        href_of(&b, "#overdue table a").await,
        format!("/services/cases/{}", market.id)
    );
    assert_eq!(count(&b, "svg.chart").await, 2);
    b.screenshot("report-month").await;
    // Sorted by 办结率, lowest first.
    b.goto(&format!(
        "{url}/services/reports?month=2026-03&sort=closed_rate&dir=asc"
    ))
    .await;
    assert_eq!(
        rows(&b, "#report-table tbody tr").await[0][0],
        "A市市场监管局"
    );
    // The downloads are a workbook and a document, for the same period.
    let xlsx = href_of(&b, "#download-xlsx").await;
    let docx = href_of(&b, "#download-docx").await;
    assert!(xlsx.contains("period=2026-03") && docx.contains("period=2026-03"));
    let c = Client::login(&url, "super1").await;
    for (path, kind) in [(&xlsx, "spreadsheetml"), (&docx, "wordprocessingml")] {
        let r = c.http.get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.contains(kind), "{ct}");
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(b"PK"), "{path} is a zip package");
    }
    // A custom period (Monday 16 to Friday 20 March) counts the same cases.
    b.select("#kind", "days").await;
    // Date inputs take keystrokes in the locale's order; set the values as a picker would.
    for (css, v) in [("#from", "2026-03-16"), ("#to", "2026-03-20")] {
        b.client
            .execute(
                "document.querySelector(arguments[0]).value = arguments[1];",
                vec![json!(css), json!(v)],
            )
            .await
            .unwrap();
    }
    b.click_and_wait("#period-form button[type=submit]").await;
    assert_text_has(&b, "#period-title", "2026-03-16 至 2026-03-20").await;
    assert_eq!(
        rows(&b, "#report-total").await[0][..5],
        ["合计", "2", "0", "1", "50.0%"]
    );
    assert!(href_of(&b, "#download-xlsx")
        .await
        .contains("from=2026-03-16&to=2026-03-20"));
    b.screenshot("report-custom-period").await;
    // A bad month is named beside its field.
    b.goto(&format!("{url}/services/reports?month=2026-13"))
        .await;
    assert_text_has(&b, "#month-error", "月份").await;
    b.screenshot("report-bad-month").await;
    // The deadline the case page showed is the one stored.
    assert_eq!(
        format_minute(case_of(&svc, a.id).await.due_at.unwrap()),
        "2026-03-24 17:30"
    );
    b.close().await;
}
