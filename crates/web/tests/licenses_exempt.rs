//! 免证办 over HTTP: an item's material whose source is a license type the library holds is
//! attached from the applicant's valid license (nothing uploaded), shown with its verification;
//! once the license is revoked, the next application asks for the material and says why.

mod common;
mod services_common;

use common::*;
use kernel::{Actor, Db};
use serde_json::json;

testkit::on_both_backends!(migrations; an_application_takes_the_license_then_asks_after_revocation);

async fn an_application_takes_the_license_then_asks_after_revocation(db: Db) {
    let mut cfg = config();
    cfg.licenses.master_key = "00112233445566778899aabbccddeeff".into();
    let w = world_with(db.clone(), cfg.clone()).await;
    let h = services_common::hall(&db, "A市数据局").await;
    let org = org::OrgService::new(db.clone(), testkit::city::fast_auth());
    org.update_department(
        &Actor::cli(),
        w.dept_x,
        org::DepartmentChanges {
            credit_code: Some(kernel::codes::credit_code_with_check("11690100MB0000071")),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // The library holds 居民身份证 (the name the items' material gives as its source).
    let lic = licenses::LicensesService::from_config(db.clone(), &cfg);
    let cli = Actor::cli();
    let code = format!(
        "{}001",
        kernel::codes::credit_code_with_check("11100000MB0000401")
    );
    let t = lic
        .create_type(
            &cli,
            serde_json::from_value(json!({
                "code": code, "name": "居民身份证", "holder_kind": "person",
                "content": {"dept_ids": [w.dept_x], "validity_years": 20,
                            "fields": [{"key": "name", "label": "姓名", "kind": "text", "required": true}]}
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    lic.publish_type(&cli, t.license_type.id, 1).await.unwrap();
    let id_no = kernel::codes::id_card_with_check("11010119900307001");
    let card = lic
        .issue(
            &cli,
            serde_json::from_value(json!({
                "type_code": code, "dept_id": w.dept_x,
                "holder": {"id_no": id_no, "name": "张三"}, "fields": {"name": "张三"}
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    let clerk = Client::login(&w.url, "clerk1").await;
    let application = json!({
        "item_id": h.health_item,
        "applicant": {"kind": "person", "name": "张三", "id_no": id_no, "phone": "13800138000"},
        "form": {"name": "张三", "id_no": id_no},
        // The photo and the exam report only: the ID card is not handed in.
        "materials": ["photo", "exam"]
    });
    let r = clerk
        .post("/api/v1/services/cases", application.clone())
        .await;
    assert_eq!(r.0, 201, "{}", r.1);
    let m = r.1["materials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "id_card")
        .unwrap()
        .clone();
    assert_eq!(m["source"], "license", "{m}");
    assert!(m["note"].as_str().unwrap().contains("核验通过"), "{m}");
    assert!(
        m["note"].as_str().unwrap().contains(&card.identifier),
        "{m}"
    );
    let first = r.1["id"].as_i64().unwrap();
    // The approver's case page shows it.
    let page = clerk
        .http
        .get(format!("{}/services/cases/{first}", w.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("核验通过"),
        "case page shows the license check"
    );
    // Revoked: the next application asks for the ID card, and says why.
    lic.change_status(
        &cli,
        card.id,
        licenses::issue::domain::StatusAction::Revoke,
        "证件作废",
    )
    .await
    .unwrap();
    let r = clerk.post("/api/v1/services/cases", application).await;
    assert_eq!(r.0, 201, "{}", r.1);
    let m = r.1["materials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "id_card")
        .unwrap()
        .clone();
    assert_eq!(m["source"], "missing", "{m}");
    let note = m["note"].as_str().unwrap();
    assert!(
        note.contains("已吊销") && note.contains("证件作废") && note.contains("请提交材料"),
        "{note}"
    );
}
