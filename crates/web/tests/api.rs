//! The HTTP API: authorization and data scope, bad input, sessions, tokens, audit, operations.
//! Every test runs on SQLite and on PostgreSQL.

mod common;

use common::*;
use kernel::Db;
use serde_json::json;

testkit::on_both_backends!(migrations;
    department_staff_see_only_their_department,
    anonymous_and_token_access_is_checked,
    cookie_calls_need_the_csrf_header,
    bad_input_gets_problem_json_naming_the_field,
    login_is_rate_limited_with_a_clear_message,
    sessions_rotate_and_end,
    changes_are_audited_and_tampering_is_named,
    a_failed_change_writes_no_audit_record,
    operations_endpoints_answer,
    personal_data_is_masked_for_non_admins,
);

async fn department_staff_see_only_their_department(db: Db) {
    let w = world(db).await;
    let hx = Client::login(&w.url, "han_x").await;
    // Own department and its sub-department: visible.
    assert_eq!(
        hx.get(&format!("/api/v1/org/departments/{}", w.dept_x))
            .await
            .0,
        200
    );
    assert_eq!(
        hx.get(&format!("/api/v1/org/departments/{}", w.dept_x1))
            .await
            .0,
        200
    );
    // Another department: 403, and none of its data in lists.
    let got = hx
        .get(&format!("/api/v1/org/departments/{}", w.dept_y))
        .await;
    assert_problem(&got, 403, "forbidden", None);
    assert_problem(
        &hx.get(&format!("/api/v1/org/users/{}", w.handler_y)).await,
        403,
        "forbidden",
        None,
    );
    let (s, list) = hx.get("/api/v1/org/users?per_page=200").await;
    assert_eq!(s, 200);
    let names = strings_of(&list["items"], "username");
    assert_eq!(names, ["han_x", "han_x1"], "{list}");
    let (_, list) = hx
        .get(&format!("/api/v1/org/users?dept_id={}", w.dept_y))
        .await;
    assert_eq!(list["total"], 0);
    let (_, depts) = hx.get("/api/v1/org/departments").await;
    let dnames = strings_of(&depts["items"], "name");
    assert_eq!(dnames, ["A市住建局", "A市住建局物业科"]);
    // The sub-department's handler does not see its parent.
    let hx1 = Client::login(&w.url, "han_x1").await;
    assert_eq!(
        hx1.get(&format!("/api/v1/org/departments/{}", w.dept_x))
            .await
            .0,
        403
    );
    // A handler may not administer.
    let r = hx
        .post(
            "/api/v1/org/departments",
            json!({"name": "新单位", "region_code": "690100"}),
        )
        .await;
    assert_problem(&r, 403, "forbidden", None);
    // The region-wide admin sees all of A市.
    let admin = Client::login(&w.url, "admin").await;
    let (_, all) = admin.get("/api/v1/org/departments").await;
    assert_eq!(all["total"], 5);
    w.server.stop().await;
}

async fn anonymous_and_token_access_is_checked(db: Db) {
    let w = world(db).await;
    let anon = Client::anonymous(&w.url);
    assert_problem(
        &anon.get("/api/v1/org/users").await,
        401,
        "unauthorized",
        None,
    );
    assert_problem(&anon.get("/api/v1/me").await, 401, "unauthorized", None);

    let admin = Client::login(&w.url, "admin").await;
    let (s, created) = admin
        .post(
            "/api/v1/org/tokens",
            json!({"name": "区网格系统", "scopes": ["org:read"]}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_owned();
    let token_id = created["info"]["id"].as_i64().unwrap();
    let machine = Client::with_token(&w.url, &token);
    assert_eq!(machine.get("/api/v1/org/users").await.0, 200);
    // Outside its scope: refused even though its owner is an admin.
    let r = machine
        .post(
            "/api/v1/org/departments",
            json!({"name": "令牌建的单位", "region_code": "690100"}),
        )
        .await;
    assert_problem(&r, 403, "forbidden", None);
    assert!(r.1["detail"].as_str().unwrap().contains("org:write"));
    // Reading another module's figures needs that module's scope (services:read).
    let r = machine.get("/api/v1/services/reports?period=2026-03").await;
    assert_problem(&r, 403, "forbidden", None);
    assert!(
        r.1["detail"].as_str().unwrap().contains("services:read"),
        "{}",
        r.1
    );
    // last-used time is recorded.
    let (_, tokens) = admin.get("/api/v1/org/tokens").await;
    assert!(tokens[0]["last_used_at"].is_i64(), "{tokens}");
    // Revoked: refused.
    assert_eq!(
        admin
            .delete(&format!("/api/v1/org/tokens/{token_id}"))
            .await
            .0,
        204
    );
    assert_problem(
        &machine.get("/api/v1/org/users").await,
        401,
        "unauthorized",
        None,
    );
    // A made-up token: refused.
    let got = Client::with_token(&w.url, "yw_made_up")
        .get("/api/v1/me")
        .await;
    assert_problem(&got, 401, "unauthorized", None);
    // The stored form is a hash, never the token.
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM org_api_tokens")
        .fetch_all(w.db.pool())
        .await
        .unwrap();
    assert!(stored.iter().all(|h| h.len() == 64 && !h.contains(&token)));
    w.server.stop().await;
}

async fn cookie_calls_need_the_csrf_header(db: Db) {
    let w = world(db).await;
    let mut admin = Client::login(&w.url, "admin").await;
    let csrf = admin.csrf.take();
    let r = admin
        .post(
            "/api/v1/org/departments",
            json!({"name": "无令牌", "region_code": "690100"}),
        )
        .await;
    assert_problem(&r, 403, "forbidden", None);
    admin.csrf = Some("wrong".into());
    assert_eq!(
        admin
            .post(
                "/api/v1/org/departments",
                json!({"name": "错令牌", "region_code": "690100"})
            )
            .await
            .0,
        403
    );
    admin.csrf = csrf;
    assert_eq!(
        admin
            .post(
                "/api/v1/org/departments",
                json!({"name": "有令牌", "region_code": "690100"})
            )
            .await
            .0,
        201
    );
    w.server.stop().await;
}

async fn bad_input_gets_problem_json_naming_the_field(db: Db) {
    let w = world(db).await;
    let admin = Client::login(&w.url, "admin").await;
    let post = reqwest::Method::POST;

    let r = admin
        .raw(
            post.clone(),
            "/api/v1/org/departments",
            "application/json",
            b"{\"name\": ".to_vec(),
        )
        .await;
    assert_problem(&(r.0, r.1.clone()), 400, "malformed_json", None);
    assert_eq!(r.2["content-type"], "application/problem+json");

    let r = admin
        .raw(
            post.clone(),
            "/api/v1/org/departments",
            "text/plain",
            b"{}".to_vec(),
        )
        .await;
    assert_problem(&(r.0, r.1), 400, "unsupported_media_type", None);

    const DEPTS: &str = "/api/v1/org/departments";
    const REGIONS: &str = "/api/v1/org/regions";
    for (path, body, code, field) in [
        (
            DEPTS,
            json!({"name": 5, "region_code": "690100"}),
            "invalid_type",
            "name",
        ),
        (DEPTS, json!({"region_code": "690100"}), "required", "name"),
        (
            DEPTS,
            json!({"name": "x局", "region_code": "690100", "colour": "red"}),
            "unknown_field",
            "colour",
        ),
        (
            DEPTS,
            json!({"name": "x局", "region_code": "12345"}),
            "invalid_region_code",
            "region_code",
        ),
        (
            REGIONS,
            json!({"code": "990000", "name": "不存在的省"}),
            "invalid_region_code",
            "code",
        ),
        (
            DEPTS,
            json!({"name": "x局", "region_code": "690100", "credit_code": "11100000000013127E"}),
            "invalid_credit_code",
            "credit_code",
        ),
    ] {
        assert_problem(&admin.post(path, body).await, 422, code, Some(field));
    }

    let base = json!({"username": "newbie", "display_name": "新人", "password": "Abc@12345x", "dept_id": w.dept_x, "roles": ["handler"]});
    for (key, value, code, field) in [
        ("roles", json!(["superuser"]), "invalid_enum", "roles[0]"),
        (
            "id_card",
            json!("110105194912310021"),
            "invalid_id_card",
            "id_card",
        ),
        ("dept_id", json!("abc"), "invalid_type", "dept_id"),
    ] {
        let mut bad = base.clone();
        bad[key] = value;
        let r = admin.post("/api/v1/org/users", bad).await;
        assert_problem(&r, 422, code, Some(field));
    }

    // Several bad fields at once: all reported.
    let r = admin
        .post(
            "/api/v1/org/users",
            json!({"username": "A", "display_name": "", "password": "x", "roles": []}),
        )
        .await;
    assert_eq!(r.0, 422);
    assert_eq!(r.1["code"], "validation_failed");
    assert!(r.1["errors"].as_array().unwrap().len() >= 4, "{}", r.1);

    // Oversize body (limit 64 KiB in tests).
    let big = format!(
        "{{\"name\": \"{}\", \"region_code\": \"690100\"}}",
        "长".repeat(40_000)
    );
    let r = admin
        .raw(
            post.clone(),
            "/api/v1/org/departments",
            "application/json",
            big.into_bytes(),
        )
        .await;
    assert_problem(&(r.0, r.1), 413, "payload_too_large", None);

    // Duplicate name: 409 naming the field.
    assert_eq!(
        admin
            .post(
                "/api/v1/org/departments",
                json!({"name": "唯一局", "region_code": "690100"})
            )
            .await
            .0,
        201
    );
    let got = admin
        .post(
            "/api/v1/org/departments",
            json!({"name": "唯一局", "region_code": "690100"}),
        )
        .await;
    assert_problem(&got, 409, "already_exists", Some("name"));

    // Bad path and query parameters.
    for (path, status, code, field) in [
        ("/api/v1/org/users/abc", 400, "invalid_path", None),
        (
            "/api/v1/org/users?page=abc",
            400,
            "invalid_query",
            Some("page"),
        ),
        (
            "/api/v1/org/users?role=king",
            400,
            "invalid_query",
            Some("role"),
        ),
        ("/api/v1/no/such/thing", 404, "not_found", None),
    ] {
        assert_problem(&admin.get(path).await, status, code, field);
    }
    let r = admin
        .raw(
            reqwest::Method::PUT,
            "/api/v1/org/users",
            "application/json",
            b"{}".to_vec(),
        )
        .await;
    assert_problem(&(r.0, r.1), 405, "method_not_allowed", None);
    w.server.stop().await;
}

async fn login_is_rate_limited_with_a_clear_message(db: Db) {
    let w = world(db).await;
    let c = Client::anonymous(&w.url);
    for _ in 0..5 {
        let r = c
            .post(
                "/api/v1/auth/login",
                json!({"username": "han_x", "password": "wrong-password1"}),
            )
            .await;
        assert_problem(&r, 401, "unauthorized", None);
    }
    // Locked now, even with the right password.
    let (s, body, headers) = c
        .send(
            c.http
                .post(format!("{}/api/v1/auth/login", w.url))
                .json(&json!({"username": "han_x", "password": PW})),
        )
        .await;
    assert_eq!(s, 429, "{body}");
    assert_eq!(body["code"], "rate_limited");
    assert!(
        body["detail"].as_str().unwrap().contains("分钟后再试"),
        "{body}"
    );
    assert!(headers.get("retry-after").is_some());
    // Another account is not locked.
    Client::login(&w.url, "han_y").await;
    w.server.stop().await;
}

async fn sessions_rotate_and_end(db: Db) {
    let mut cfg = config();
    cfg.server.public_url = Some("https://yiwang.example.gov.cn".into());
    let w = world_with(db, cfg).await;
    let c = Client::anonymous(&w.url);
    let login = || {
        c.http
            .post(format!("{}/api/v1/auth/login", w.url))
            .json(&json!({"username": "han_x", "password": PW}))
    };
    let (_, _, h1) = c.send(login()).await;
    let (_, _, h2) = c.send(login()).await;
    let cookie1 = h1["set-cookie"].to_str().unwrap().to_owned();
    let cookie2 = h2["set-cookie"].to_str().unwrap().to_owned();
    assert_ne!(cookie1, cookie2, "a new session id at every login");
    for attr in [
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Max-Age=43200",
        "Path=/",
    ] {
        assert!(cookie1.contains(attr), "{cookie1} lacks {attr}");
    }
    // Logout ends the session server-side: the old cookie no longer works.
    let value = cookie2.split(';').next().unwrap().to_owned();
    let me = || {
        c.http
            .get(format!("{}/api/v1/me", w.url))
            .header("cookie", value.clone())
    };
    assert_eq!(c.send(me()).await.0, 200);
    let (_, body, _) = c
        .send(
            c.http
                .post(format!("{}/api/v1/auth/login", w.url))
                .json(&json!({"username": "han_x", "password": PW})),
        )
        .await;
    let _ = body;
    let csrf: String =
        sqlx::query_scalar("SELECT csrf FROM org_sessions ORDER BY created_at DESC, csrf LIMIT 1")
            .fetch_one(w.db.pool())
            .await
            .unwrap();
    let _ = csrf;
    // Log out with the matching CSRF token of the second session.
    let sessions: Vec<(String,)> = sqlx::query_as("SELECT csrf FROM org_sessions")
        .fetch_all(w.db.pool())
        .await
        .unwrap();
    let mut logged_out = false;
    for (csrf,) in sessions {
        let (s, _, _) = c
            .send(
                c.http
                    .post(format!("{}/api/v1/auth/logout", w.url))
                    .header("cookie", value.clone())
                    .header("x-csrf-token", csrf),
            )
            .await;
        if s == 204 {
            logged_out = true;
            break;
        }
    }
    assert!(logged_out);
    assert_eq!(c.send(me()).await.0, 401);
    // A disabled user's sessions end at once.
    let admin = Client::login(&w.url, "admin").await;
    let hy = Client::login(&w.url, "han_y").await;
    assert_eq!(hy.get("/api/v1/me").await.0, 200);
    assert_eq!(
        admin
            .patch(
                &format!("/api/v1/org/users/{}", w.handler_y),
                json!({"active": false})
            )
            .await
            .0,
        200
    );
    assert_eq!(hy.get("/api/v1/me").await.0, 401);
    w.server.stop().await;
}

async fn changes_are_audited_and_tampering_is_named(db: Db) {
    let w = world(db).await;
    let admin = Client::login(&w.url, "admin").await;
    let (s, d) = admin
        .post(
            "/api/v1/org/departments",
            json!({"name": "审计测试局", "region_code": "690102"}),
        )
        .await;
    assert_eq!(s, 201);
    let id = d["id"].as_i64().unwrap();
    let auditor = Client::login(&w.url, "auditadmin").await;
    let (_, hist) = auditor
        .get(&format!(
            "/api/v1/audit/records?entity=department&entity_id={id}"
        ))
        .await;
    assert_eq!(hist[0]["action"], "create");
    assert_eq!(hist[0]["actor"], format!("user:{}", w.admin));
    assert_eq!(hist[0]["payload"]["name"], "审计测试局");
    let (_, v) = auditor.get("/api/v1/audit/verify").await;
    assert!(v["first_broken"].is_null(), "{v}");
    // 三员分立: the system administrator does not read the audit log.
    assert_eq!(admin.get("/api/v1/audit/verify").await.0, 403);
    let seq = hist[0]["seq"].as_i64().unwrap();
    sqlx::query("UPDATE kernel_audit SET actor = 'user:999' WHERE seq = $1")
        .bind(seq)
        .execute(w.db.pool())
        .await
        .unwrap();
    let (_, v) = auditor.get("/api/v1/audit/verify").await;
    assert_eq!(v["first_broken"]["seq"], seq, "{v}");
    // Handlers may not read the audit.
    let hx = Client::login(&w.url, "han_x").await;
    assert_eq!(hx.get("/api/v1/audit/verify").await.0, 403);
    w.server.stop().await;
}

async fn a_failed_change_writes_no_audit_record(db: Db) {
    let w = world(db).await;
    let admin = Client::login(&w.url, "admin").await;
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM kernel_audit")
            .fetch_one(w.db.pool())
            .await
            .unwrap()
    };
    let before = count().await;
    // The unique violation happens inside the transaction, after validation passed.
    let r = admin.post("/api/v1/org/users", json!({"username": "han_x", "display_name": "重名", "password": "Abc@12345x", "dept_id": w.dept_x, "roles": ["handler"]})).await;
    assert_problem(&r, 409, "already_exists", Some("username"));
    assert_eq!(count().await, before);
    let users: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM org_users WHERE display_name = '重名'")
            .fetch_one(w.db.pool())
            .await
            .unwrap();
    assert_eq!(users, 0);
    w.server.stop().await;
}

async fn operations_endpoints_answer(db: Db) {
    let w = world(db).await;
    let c = Client::anonymous(&w.url);
    let (s, body, h) = c.send(c.http.get(format!("{}/healthz", w.url))).await;
    assert_eq!((s, body.as_str()), (200, Some("ok")));
    let _ = h;
    let (s, _, h) = c.send(c.http.get(format!("{}/readyz", w.url))).await;
    assert_eq!(s, 200);
    let _ = h;
    let (_, _, h) = c.send(c.http.get(format!("{}/api/v1/me", w.url))).await;
    assert!(
        h.get("x-request-id").is_some_and(|v| v.len() >= 32),
        "request id echoed"
    );
    let (_, _, h) = c
        .send(
            c.http
                .get(format!("{}/api/v1/me", w.url))
                .header("x-request-id", "trace-me-123"),
        )
        .await;
    assert_eq!(h["x-request-id"], "trace-me-123");
    let (s, metrics, _) = c.send(c.http.get(format!("{}/metrics", w.url))).await;
    assert_eq!(s, 200);
    let m = metrics.as_str().unwrap();
    assert!(
        m.contains("yiwang_http_requests_total") && m.contains("route=\"/api/v1/me\""),
        "{m}"
    );
    let (s, doc) = c.get("/api/openapi.json").await;
    assert_eq!(s, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for p in [
        "/api/v1/org/users",
        "/api/v1/org/departments/{id}",
        "/api/v1/auth/login",
        "/api/v1/audit/verify",
    ] {
        assert!(doc["paths"][p].is_object(), "openapi lacks {p}");
    }
    assert!(
        doc["components"]["schemas"]["Problem"].is_object()
            || doc["components"]["schemas"]["NewUser"].is_object()
    );
    w.server.stop().await;
}

async fn personal_data_is_masked_for_non_admins(db: Db) {
    let w = world(db).await;
    let hx = Client::login(&w.url, "han_x").await;
    let (_, u) = hx.get(&format!("/api/v1/org/users/{}", w.handler_x1)).await;
    assert_eq!(u["phone"], "138****5678");
    let (_, me) = hx.get(&format!("/api/v1/org/users/{}", w.handler_x)).await;
    assert_eq!(me["phone"], "13812345678", "own data in full");
    let admin = Client::login(&w.url, "admin").await;
    let (_, u) = admin
        .get(&format!("/api/v1/org/users/{}", w.handler_x1))
        .await;
    assert_eq!(u["phone"], "13812345678");
    w.server.stop().await;
}
