//! The window's 好差评 evaluator in a real headless Chromium: a clerk looks up a closed case,
//! a 差评 without a reason is refused beside the field with nothing stored, the applicant's
//! rating is stored with channel 窗口评价器 and tied to the case, and a second rating is not
//! offered. Screenshots: artifacts/screenshots/.

mod common;
mod services_common;

use common::*;
use kernel::{Actor, Db};
use org::OrgService;
use services::domain::*;
use services::service::NewCase;
use services::ServicesService;
use testkit::browser::Browser;

testkit::on_both_backends!(migrations; the_window_evaluator_records_one_rating);

async fn actor(db: &Db, username: &str) -> Actor {
    let org = OrgService::new(db.clone(), Default::default());
    let u = org.user_by_username(username).await.unwrap().unwrap();
    org.actor_of_user(u.id).await.unwrap()
}

async fn count_evaluations(db: &Db) -> i64 {
    let mut c = db.pool().acquire().await.unwrap();
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM services_evaluations")
        .fetch_one(&mut *c)
        .await
        .unwrap()
}

async fn the_window_evaluator_records_one_rating(db: Db) {
    let backend = db.backend().name();
    let w = world(db.clone()).await;
    let h = services_common::hall(&db, "A市数据局").await;
    let svc = ServicesService::new(db.clone());
    let clerk = actor(&db, "clerk1").await;
    let health = actor(&db, "health1").await;

    // A walk-in application received at the window, decided and closed by the department.
    let id_no = kernel::codes::id_card_with_check("11010119900307001");
    let mut form = serde_json::Map::new();
    form.insert("name".into(), "王五".into());
    form.insert("id_no".into(), id_no.clone().into());
    let c = svc
        .submit(
            &clerk,
            NewCase {
                item_id: h.health_item,
                scenario: None,
                applicant: Applicant {
                    kind: ApplicantKind::Person,
                    name: "王五".into(),
                    id_no,
                    phone: "13700137000".into(),
                    user_id: None,
                },
                form,
                materials: vec!["id_card".into(), "photo".into(), "exam".into()],
            },
        )
        .await
        .unwrap()
        .case;
    let open_number = c.number.clone();
    for a in [
        Action::Accept {
            tolerated: vec![],
            tolerated_days: None,
        },
        Action::Decide {
            approve: true,
            document_no: "A卫健〔2026〕9号".into(),
            text: "准予办理".into(),
        },
        Action::Close,
    ] {
        svc.act(&health, c.id, a).await.unwrap();
    }

    let Some(mut b) = Browser::start(&format!("services-window-{backend}")).await else {
        return;
    };
    let url = w.url.clone();
    b.set_size(1366, 768).await;
    login(&b, &url, "clerk1").await;

    // An unknown number is said plainly.
    b.goto(&format!("{url}/services/desk/evaluate?number=BJ-NONE"))
        .await;
    assert!(b.body_text().await.contains("未找到可评价的办件"));

    b.goto(&format!("{url}/services/desk/evaluate")).await;
    b.fill("#lookup [name=number]", &open_number).await;
    b.click_and_wait("#lookup button[type=submit]").await;
    assert_text_has(&b, "#status", "已办结").await;

    // 不满意 with neither a reason nor a tag: refused beside the field, nothing stored.
    b.click("#window-evaluate input[value=dissatisfied]").await;
    b.click_and_wait("#window-evaluate button[type=submit]")
        .await;
    let summary = b.text("#error-summary").await;
    assert!(summary.contains("差评请说明原因"), "{summary}");
    assert_eq!(count_evaluations(&db).await, 0);
    b.screenshot("window-evaluator-error").await;

    // The applicant picks 满意 and a tag: stored once, as a window rating of this case.
    b.click("#window-evaluate input[value=satisfied]").await;
    b.click("#window-evaluate input[value=一次办成]").await;
    b.screenshot("window-evaluator").await;
    b.click_and_wait("#window-evaluate button[type=submit]")
        .await;
    let body = b.body_text().await;
    assert!(body.contains("窗口评价：满意"), "{body}");
    assert!(body.contains("第 1 次评价（窗口评价器）：满意"), "{body}");
    assert_text_has(&b, "#no-evaluation", "已评价").await;
    b.screenshot("window-evaluator-done").await;
    assert_eq!(count_evaluations(&db).await, 1);
    let mut conn = db.pool().acquire().await.unwrap();
    let (number, channel, level): (String, String, String) =
        sqlx::query_as("SELECT case_number, channel, level FROM services_evaluations")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    assert_eq!(
        (number.as_str(), channel.as_str(), level.as_str()),
        (open_number.as_str(), "window", "satisfied")
    );
    b.close().await;
}
