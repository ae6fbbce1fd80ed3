//! A property test over the API's inputs: random and mutated JSON bodies, paths and queries
//! never make the server answer 500 (or panic), and every error is problem+json.

mod common;

use common::*;
use kernel::Db;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as PtConfig, TestRunner};
use serde_json::{json, Value};

testkit::on_both_backends!(migrations; no_input_makes_a_500);

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "\\PC{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("690100"),
            Just("690102001001"),
            Just("handler"),
            Just("admin"),
            Just("999999"),
            Just(""),
            Just("'; DROP TABLE org_users; --")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::hash_map("[a-z_]{1,12}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Valid bodies per endpoint; the test mutates one field at a time, or replaces the body.
fn templates(dept: i64) -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "POST",
            "/api/v1/org/regions",
            json!({"code": "690104", "name": "A3区"}),
        ),
        (
            "POST",
            "/api/v1/org/departments",
            json!({"name": "模糊局", "region_code": "690100", "parent_id": null, "credit_code": null, "phone": "0731-1"}),
        ),
        (
            "PATCH",
            "/api/v1/org/departments/{dept}",
            json!({"name": "改名局", "active": true, "parent_id": null}),
        ),
        (
            "POST",
            "/api/v1/org/users",
            json!({"username": "fuzzer", "display_name": "模糊", "password": "Abc@12345x", "dept_id": dept, "roles": ["handler"]}),
        ),
        (
            "PATCH",
            "/api/v1/org/users/{user}",
            json!({"display_name": "新名", "roles": ["handler"], "active": true}),
        ),
        (
            "POST",
            "/api/v1/org/users/{user}/password",
            json!({"password": "Xyz#98765q"}),
        ),
        (
            "POST",
            "/api/v1/org/tokens",
            json!({"name": "t", "scopes": ["org:read"], "expires_in_days": 30}),
        ),
        (
            "POST",
            "/api/v1/auth/login",
            json!({"username": "admin", "password": "nope"}),
        ),
    ]
}

async fn no_input_makes_a_500(db: Db) {
    let w = world(db).await;
    let admin = Client::login(&w.url, "admin").await;
    let mut runner = TestRunner::new(PtConfig {
        cases: 1,
        ..PtConfig::default()
    });
    let strategy = json_value();
    let ids = [
        "1",
        "0",
        "-1",
        "999999999999",
        "abc",
        "1.5",
        "%20",
        "9223372036854775807",
    ];
    let mut checked = 0;
    for round in 0..160 {
        for (method, path, body) in templates(w.dept_x) {
            let id = ids[round % ids.len()];
            let path = path.replace("{dept}", id).replace("{user}", id);
            let random = strategy.new_tree(&mut runner).unwrap().current();
            let body = if round % 3 == 0 {
                random
            } else {
                let mut b = body.clone();
                let keys: Vec<String> = b.as_object().unwrap().keys().cloned().collect();
                let k = &keys[round % keys.len()];
                b[k] = random;
                b
            };
            let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let (status, v, headers) = admin
                .raw(
                    m,
                    &path,
                    "application/json",
                    serde_json::to_vec(&body).unwrap(),
                )
                .await;
            assert!(
                status < 500,
                "{method} {path} with {body} gave {status}: {v}"
            );
            if status >= 400 {
                assert_eq!(
                    headers["content-type"], "application/problem+json",
                    "{method} {path} {body}"
                );
                assert!(v["code"].is_string() && v["detail"].is_string(), "{v}");
            }
            checked += 1;
        }
        // Random query strings on the list endpoints.
        let q: String = "[a-z_=&%0-9]{0,30}"
            .new_tree(&mut runner)
            .unwrap()
            .current();
        for list in [
            "/api/v1/org/users",
            "/api/v1/org/departments",
            "/api/v1/org/regions",
            "/api/v1/audit/records",
        ] {
            let (status, v) = admin.get(&format!("{list}?{q}")).await;
            assert!(status < 500, "GET {list}?{q} gave {status}: {v}");
        }
    }
    assert!(checked > 1000);
    let (s, v) = Client::login(&w.url, "auditadmin")
        .await
        .get("/api/v1/audit/verify")
        .await;
    assert_eq!(s, 200, "{v}");
    assert!(
        v["first_broken"].is_null(),
        "the chain survives the fuzzing: {v}"
    );
    w.server.stop().await;
}
