//! The service hall's JSON API over HTTP: bad input answers 422 naming the field, illegal
//! transitions 409, the OpenAPI document lists the routes, files download.

mod common;
mod services_common;

use common::*;
use kernel::Db;
use serde_json::json;

testkit::on_both_backends!(migrations; api_checks_input_and_follows_the_case);

async fn api_checks_input_and_follows_the_case(db: Db) {
    let w = world(db.clone()).await;
    let h = services_common::hall(&db, "A市数据局").await;
    let anon = Client::anonymous(&w.url);
    let found = anon.get("/api/v1/services/items?q=健康").await;
    assert_eq!(found.0, 200);
    assert_eq!(found.1.as_array().unwrap().len(), 1);
    let clerk = Client::login(&w.url, "clerk1").await;
    let id_no = kernel::codes::id_card_with_check("11010119900307001");
    let good = json!({
        "item_id": h.health_item,
        "applicant": {"kind": "person", "name": "张三", "id_no": id_no, "phone": "13800138000"},
        "form": {"name": "张三", "id_no": id_no},
        "materials": ["photo", "exam"]
    });
    // Bad input: each answer names the field.
    let mut bad = good.clone();
    bad["applicant"]["id_no"] = json!("110101199003070010");
    assert_problem(
        &clerk.post("/api/v1/services/cases", bad).await,
        422,
        "invalid_id_card",
        Some("applicant.id_no"),
    );
    let mut bad = good.clone();
    bad["item_id"] = json!("七");
    let r = clerk.post("/api/v1/services/cases", bad).await;
    assert_eq!(r.0, 422, "{}", r.1);
    assert_eq!(r.1["field"], "item_id");
    let mut bad = good.clone();
    bad["colour"] = json!("red");
    let r = clerk.post("/api/v1/services/cases", bad).await;
    assert_eq!(r.1["field"], "colour", "{}", r.1);
    let mut bad = good.clone();
    bad["applicant"]["kind"] = json!("alien");
    let r = clerk.post("/api/v1/services/cases", bad).await;
    assert_eq!(r.0, 422);
    assert_eq!(r.1["field"], "applicant.kind", "{}", r.1);
    let r = clerk.post("/api/v1/services/cases", good).await;
    assert_eq!(r.0, 201, "{}", r.1);
    let id = r.1["id"].as_i64().unwrap();
    assert_eq!(r.1["channel"], "window");
    // Clerks do not decide; deciding before acceptance is a 409.
    let health = Client::login(&w.url, "health1").await;
    // Who saved and published each version, from the audit chain; staff only.
    let hist = health
        .get(&format!("/api/v1/services/items/{}/history", h.health_item))
        .await;
    assert_eq!(hist.0, 200, "{}", hist.1);
    let actions: Vec<(&str, i64, &str)> = hist
        .1
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap(),
                c["version"].as_i64().unwrap(),
                c["actor_name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(actions, [("create", 1, "命令行"), ("publish", 1, "命令行")]);
    let r = anon
        .get(&format!("/api/v1/services/items/{}/history", h.health_item))
        .await;
    assert_eq!(r.0, 401, "{}", r.1);
    let decide = json!({"action": "decide", "approve": true, "document_no": "1", "text": "准予"});
    let case_actions = format!("/api/v1/services/cases/{id}/actions");
    assert_problem(
        &clerk.post(&case_actions, decide.clone()).await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &health.post(&case_actions, decide).await,
        409,
        "illegal_transition",
        None,
    );
    let got = health
        .post(
            &case_actions,
            json!({"action": "reject", "reason": "不符", "legal_basis": ""}),
        )
        .await;
    assert_problem(&got, 422, "required", Some("legal_basis"));
    let r = health
        .post(&case_actions, json!({"action": "accept"}))
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(r.1["status"], "accepted");
    let t = health
        .get(&format!("/api/v1/services/cases/{id}/timeline"))
        .await;
    assert_eq!(t.1.as_array().unwrap().len(), 2);
    // The market department does not see it.
    let market = Client::login(&w.url, "market1").await;
    assert_problem(
        &market.get(&format!("/api/v1/services/cases/{id}")).await,
        403,
        "forbidden",
        None,
    );
    // Feedback without an account; a bad phone names the field.
    let got = anon
        .post(
            "/api/v1/services/feedback",
            json!({"name": "赵六", "phone": "123", "text": "办不成"}),
        )
        .await;
    assert_problem(&got, 422, "invalid_mobile", Some("phone"));
    // Level codes per interface.
    let c = anon
        .get("/api/v1/services/evaluation-codes?coding=low_is_good")
        .await;
    assert_eq!(c.1[0]["code"], 1);
    assert_eq!(c.1[0]["label"], "非常满意");
    // Reports: period checked; figures and files for supervisors.
    let sup = Client::login(&w.url, "super1").await;
    assert_problem(
        &sup.get("/api/v1/services/reports?period=2026-13").await,
        422,
        "invalid_period",
        Some("period"),
    );
    let (s, _, headers) = sup
        .send(sup.http.get(format!(
            "{}/api/v1/services/reports.xlsx?period=2026",
            w.url
        )))
        .await;
    assert_eq!(s, 200);
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("filename*=UTF-8''"));
    // The OpenAPI document describes the module.
    let doc = anon.get("/api/openapi.json").await.1;
    assert!(doc["paths"]["/api/v1/services/cases/{id}/actions"]["post"].is_object());
    assert!(doc["components"]["schemas"]["ItemInput"].is_object());
}
