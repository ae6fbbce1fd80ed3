//! Dispatch suggestions, routing rules, models and the dispatch report over HTTP: the JSON
//! contract the intake and dispatch pages use, bad input as 422 problems naming the field, and
//! automatic dispatch switched on by `[hotline] auto_dispatch_threshold`.

mod common;

use common::*;
use kernel::Db;
use serde_json::{json, Value};

testkit::on_both_backends!(migrations; suggestion_and_rule_endpoints_answer_the_contract);

async fn suggestion_and_rule_endpoints_answer_the_contract(db: Db) {
    let mut cfg = config();
    cfg.hotline.auto_dispatch_threshold = 0.9;
    let w = world_with(db, cfg).await;
    let admin = Client::login(&w.url, "admin").await;
    let cats = import_categories(
        &admin,
        json!([["城乡建设", "物业管理", ""], ["生态环境", "噪声污染", ""]]),
    )
    .await;
    let id_of = |path: &str| category_id(&cats, path);
    let property = id_of("城乡建设/物业管理");
    let noise = id_of("生态环境/噪声污染");

    // Rules: create (201 with warnings), read, replace, reorder, delete.
    let (s, r1) = admin
        .post(
            "/api/v1/hotline/routing-rules",
            json!({"name": "物业归住建", "conditions": {"category_ids": [property]}, "main_dept_id": w.dept_x, "co_dept_ids": [w.dept_y]}),
        )
        .await;
    assert_eq!(s, 201, "{r1}");
    assert_eq!(r1["warnings"], json!([]));
    let r1_id = r1["rule"]["id"].as_i64().unwrap();
    let (s, r2) = admin
        .post(
            "/api/v1/hotline/routing-rules",
            json!({"name": "物业归环境", "conditions": {"category_ids": [property]}, "main_dept_id": w.dept_y}),
        )
        .await;
    assert_eq!(s, 201, "{r2}");
    assert_eq!(r2["warnings"][0]["code"], "conflict", "{r2}");
    assert_eq!(r2["warnings"][0]["rule_id"], r2["rule"]["id"]);
    let r2_id = r2["rule"]["id"].as_i64().unwrap();
    let (s, one) = admin
        .get(&format!("/api/v1/hotline/routing-rules/{r1_id}"))
        .await;
    assert_eq!((s, one["position"].as_i64()), (200, Some(1)));
    let (s, put, _) = admin
        .raw(
            reqwest::Method::PUT,
            &format!("/api/v1/hotline/routing-rules/{r2_id}"),
            "application/json",
            serde_json::to_vec(&json!({"name": "噪声归环境", "conditions": {"category_ids": [noise]}, "main_dept_id": w.dept_y})).unwrap(),
        )
        .await;
    assert_eq!(s, 200, "{put}");
    assert_eq!(put["warnings"], json!([]));
    let (s, list) = admin
        .post(
            "/api/v1/hotline/routing-rules/reorder",
            json!({"ids": [r2_id, r1_id]}),
        )
        .await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["items"][0]["id"], r2_id);

    // Suggest: the exact shape the pages read.
    let (s, sug) = admin
        .post(
            "/api/v1/hotline/suggest",
            json!({"title": "物业不管", "content": "小区物业长期不打扫", "category_id": property, "region_code": "690102", "kind": "complaint", "urgency": "normal", "lat": 28.2, "lon": 112.9, "answers": {}}),
        )
        .await;
    assert_eq!(s, 200, "{sug}");
    assert_eq!(sug["model_version"], Value::Null);
    assert_eq!(sug["categories"], json!([]));
    assert!(sug["explanation"].is_array());
    let d = &sug["department"];
    assert_eq!(d["department_id"], w.dept_x);
    assert_eq!(d["name"], "A市住建局");
    assert_eq!(
        d["co_handlers"],
        json!([{"department_id": w.dept_y, "name": "A市生态环境局"}])
    );
    assert_eq!(d["source"], "rule");
    assert_eq!(d["rule_id"], r1_id);
    assert_eq!(d["confidence"], 0.95);
    assert!(d["reason"].as_str().unwrap().contains("物业归住建"));
    assert_eq!(sug["auto_dispatch"], true);
    let (s, sug) = admin
        .post("/api/v1/hotline/suggest", json!({"content": "无关内容"}))
        .await;
    assert_eq!((s, &sug["department"]), (200, &Value::Null));

    // Intake above the configured threshold is dispatched automatically.
    let (s, t) = admin
        .post("/api/v1/hotline/tickets", json!({"channel": "phone", "kind": "complaint", "caller_phone": "13700001111",
            "title": "物业不作为", "content": "楼道无人打扫", "accept": true, "category_id": property}))
        .await;
    assert_eq!(s, 201, "{t}");
    assert_eq!(t["status"], "dispatched", "{t}");
    assert_eq!(t["main_dept_id"], w.dept_x);
    let id = t["id"].as_i64().unwrap();
    let (s, ts) = admin
        .get(&format!("/api/v1/hotline/tickets/{id}/suggestion"))
        .await;
    assert_eq!(s, 200, "{ts}");
    assert_eq!(ts["department"]["department_id"], w.dept_x);
    let (s, rep) = admin
        .get("/api/v1/hotline/reports/dispatch?from=2020-01-01&to=2099-12-31")
        .await;
    assert_eq!(s, 200, "{rep}");
    assert_eq!(
        (rep["dispatched"].as_i64(), rep["auto_dispatched"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(rep["auto_accuracy"], 1.0);

    // Bad input: 422 naming the field, on every endpoint that takes input.
    let bad = [
        ("/api/v1/hotline/suggest", json!({"content": ""}), "content"),
        (
            "/api/v1/hotline/suggest",
            json!({"content": "x", "kind": "吐槽"}),
            "kind",
        ),
        (
            "/api/v1/hotline/suggest",
            json!({"content": "x", "lat": 1.0}),
            "lon",
        ),
        (
            "/api/v1/hotline/suggest",
            json!({"content": "x", "colour": 1}),
            "colour",
        ),
        ("/api/v1/hotline/suggest", json!({"title": "x"}), "content"),
        (
            "/api/v1/hotline/routing-rules",
            json!({"name": "无单位", "main_dept_id": 999_999}),
            "main_dept_id",
        ),
        (
            "/api/v1/hotline/routing-rules",
            json!({"name": "空时段", "main_dept_id": w.dept_x, "conditions": {"time_from": "08:00", "time_to": "08:00"}}),
            "conditions.time_to",
        ),
        (
            "/api/v1/hotline/routing-rules",
            json!({"name": "坏区划", "main_dept_id": w.dept_x, "conditions": {"region_codes": ["12"]}}),
            "conditions.region_codes[0]",
        ),
        (
            "/api/v1/hotline/routing-rules",
            json!({"main_dept_id": w.dept_x}),
            "name",
        ),
        (
            "/api/v1/hotline/routing-rules/reorder",
            json!({"ids": [r1_id]}),
            "ids",
        ),
    ];
    for (path, body, field) in bad {
        let got = admin.post(path, body.clone()).await;
        assert_eq!(got.0, 422, "{path} {body}: {}", got.1);
        assert_eq!(got.1["field"], field, "{path} {body}: {}", got.1);
        assert_problem(&got, 422, got.1["code"].as_str().unwrap(), Some(field));
    }
    let got = admin
        .raw(
            reqwest::Method::PUT,
            &format!("/api/v1/hotline/routing-rules/{r1_id}"),
            "application/json",
            serde_json::to_vec(&json!({"name": "颠倒", "main_dept_id": w.dept_x, "valid_from": "2026-05-01", "valid_until": "2026-04-01"})).unwrap(),
        )
        .await;
    assert_problem(&(got.0, got.1), 422, "never_matches", Some("valid_until"));
    for q in ["from=2026-13-01&to=2026-12-31", "to=2026-01-01"] {
        let got = admin
            .get(&format!("/api/v1/hotline/reports/dispatch?{q}"))
            .await;
        assert_eq!(got.0, 422, "{q}: {}", got.1);
        assert_eq!(got.1["field"], "from", "{q}");
    }
    // Unknown ids: 404.
    assert_problem(
        &admin.get("/api/v1/hotline/routing-rules/999999").await,
        404,
        "not_found",
        None,
    );
    assert_problem(
        &admin.get("/api/v1/hotline/tickets/999999/suggestion").await,
        404,
        "not_found",
        None,
    );
    let got = admin
        .post("/api/v1/hotline/models/9/activate", json!({}))
        .await;
    assert_problem(&got, 404, "not_found", None);
    let (s, models) = admin.get("/api/v1/hotline/models").await;
    assert_eq!((s, models), (200, json!([])));
    let (s, _) = admin
        .delete(&format!("/api/v1/hotline/routing-rules/{r2_id}"))
        .await;
    assert_eq!(s, 204);
    assert_eq!(
        admin
            .delete(&format!("/api/v1/hotline/routing-rules/{r2_id}"))
            .await
            .0,
        404
    );
    // Handlers neither read rules nor ask for suggestions.
    let hx = Client::login(&w.url, "han_x").await;
    assert_eq!(hx.get("/api/v1/hotline/routing-rules").await.0, 403);
    assert_eq!(
        hx.post("/api/v1/hotline/suggest", json!({"content": "x"}))
            .await
            .0,
        403
    );
    // The endpoints are in the OpenAPI document.
    let (_, doc) = admin.get("/api/openapi.json").await;
    for p in [
        "/api/v1/hotline/suggest",
        "/api/v1/hotline/tickets/{id}/suggestion",
        "/api/v1/hotline/routing-rules",
        "/api/v1/hotline/routing-rules/{id}",
        "/api/v1/hotline/routing-rules/reorder",
        "/api/v1/hotline/reports/dispatch",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} missing from OpenAPI");
    }
}
