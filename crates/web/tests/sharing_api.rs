//! 一网共享 over HTTP: 编目 → 审核 → 挂接 (push and upload with bad rows named), 申请用数 through
//! the three levels, a system token, the gateway (granted masked fields, headers naming the
//! grant and the call, problem+json refusals), the provider reading the calls, OpenAPI.

mod common;

use common::*;
use kernel::{Actor, Db, Role};
use serde_json::{json, Value};

testkit::on_both_backends!(migrations; sharing_from_catalog_to_gateway);

async fn decide(rid: i64, c: &Client, body: Value) -> (u16, Value) {
    c.post(&format!("/api/v1/sharing/requests/{rid}/decision"), body)
        .await
}

fn day(offset: i64) -> String {
    let now = kernel::clock::Clock::system().now() + offset * 86_400_000;
    kernel::clock::to_china(now).format("%Y-%m-%d").to_string()
}

async fn sharing_from_catalog_to_gateway(db: Db) {
    let w = world(db.clone()).await;
    let org = org::OrgService::new(db.clone(), testkit::city::fast_auth());
    for (u, dept, role) in [
        ("p_off", w.dept_x, Role::DataOfficer),
        ("p_cdo", w.dept_x, Role::ChiefDataOfficer),
        ("c_off", w.dept_y, Role::DataOfficer),
        ("x_off", w.dept_x1, Role::DataOfficer),
    ] {
        org.create_user(&Actor::cli(), test_user(u, Some(dept), role))
            .await
            .unwrap();
    }
    let (admin, p_off, p_cdo, c_off) = (
        Client::login(&w.url, "admin").await,
        Client::login(&w.url, "p_off").await,
        Client::login(&w.url, "p_cdo").await,
        Client::login(&w.url, "c_off").await,
    );
    let mut entry = json!({
        "category": "department", "class": ["3", "02"],
        "content": {
            "name": "房屋网签备案信息", "summary": "商品房买卖合同网签备案：合同号、买受人、身份证号、面积、备案日期",
            "format": "数据库", "share_kind": "conditional", "share_condition": "用于不动产登记与住房保障核查",
            "open_kind": "not_open", "update_cycle": "daily",
            "items": [
                {"name": "合同编号", "field": "contract_no", "data_type": "char", "length": 20, "primary_key": true},
                {"name": "买受人", "field": "buyer", "data_type": "char", "length": 30, "sensitive": true, "semantic": "name"},
                {"name": "身份证号", "field": "id_no", "data_type": "char", "length": 18, "sensitive": true, "semantic": "id_card"},
                {"name": "面积", "field": "area", "data_type": "decimal", "length": 8, "scale": 2},
                {"name": "备案日期", "field": "filed_on", "data_type": "date"}
            ]
        }
    });
    entry["content"]["items"][3]["field"] = json!("Area!");
    assert_problem(
        &p_off.post("/api/v1/sharing/catalog", entry.clone()).await,
        422,
        "invalid_field_name",
        Some("content.items[3].field"),
    );
    entry["content"]["items"][3]["field"] = json!("area");
    let r = p_off.post("/api/v1/sharing/catalog", entry).await;
    assert_eq!(r.0, 201, "{}", r.1);
    let id = r.1["id"].as_i64().unwrap();
    let code = r.1["code"].as_str().unwrap().to_owned();
    assert_eq!(code, "C302-000001");
    let r = p_off
        .post(
            &format!("/api/v1/sharing/catalog/{id}/versions/1/submit"),
            json!({}),
        )
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_problem(
        &p_off
            .post(
                &format!("/api/v1/sharing/catalog/{id}/versions/1/review"),
                json!({"publish": true}),
            )
            .await,
        403,
        "forbidden",
        None,
    );
    let r = admin
        .post(
            &format!("/api/v1/sharing/catalog/{id}/versions/1/review"),
            json!({"publish": true}),
        )
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    let r = admin.get("/api/v1/sharing/catalog?q=网签").await;
    assert_eq!(r.1[0]["code"], code.as_str(), "{}", r.1);

    // 挂接: mount, push two rows, upload a file with a bad row named by line and column.
    let r = p_off
        .post(
            &format!("/api/v1/sharing/catalog/{id}/resources"),
            json!({}),
        )
        .await;
    assert_eq!(r.0, 201, "{}", r.1);
    let res = r.1["code"].as_str().unwrap().to_owned();
    let id1 = kernel::codes::id_card_with_check("69010219800101001");
    let id2 = kernel::codes::id_card_with_check("69010219900202002");
    let r = p_off
        .post(
            &format!("/api/v1/sharing/resources/{res}/rows"),
            json!({"rows": [
                {"contract_no": "WQ2026-0001", "buyer": "李雷", "id_no": id1, "area": 89.5, "filed_on": "2026-03-01"},
                {"contract_no": "WQ2026-0002", "buyer": "韩梅梅", "id_no": id2, "area": "120.25", "filed_on": "2026-03-02"}
            ]}),
        )
        .await;
    assert_eq!((r.0, r.1["accepted"].as_i64()), (200, Some(2)), "{}", r.1);
    let csv =
        format!("合同编号,买受人,身份证号,面积,备案日期\nWQ2026-0003,王五,{id1},abc,2026-03-03\n");
    let (s, v, _) = p_off
        .raw(
            reqwest::Method::POST,
            &format!("/api/v1/sharing/resources/{res}/upload?filename=wq.csv"),
            "text/csv",
            csv.into_bytes(),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["errors"][0]["line"], 2);
    assert_eq!(v["errors"][0]["column"], "面积");

    // 申请用数 through 数据专员 → 首席数据官 → 数据局.
    let r = c_off
        .post(
            "/api/v1/sharing/requests",
            json!({"resources": [res], "fields": [["contract_no", "buyer", "id_no", "area"]],
                   "purpose": "住房保障资格核查", "legal_basis": "《公共租赁住房管理办法》",
                   "system": "住房保障系统", "period_from": day(0), "period_until": day(180)}),
        )
        .await;
    assert_eq!(r.0, 201, "{}", r.1);
    let rid = r.1[0]["id"].as_i64().unwrap();
    assert_problem(
        &decide(rid, &c_off, json!({"approve": true})).await,
        403,
        "forbidden",
        None,
    );
    assert_eq!(decide(rid, &p_off, json!({"approve": true})).await.0, 200);
    assert_eq!(decide(rid, &p_cdo, json!({"approve": true})).await.0, 200);
    assert_problem(
        &decide(
            rid,
            &admin,
            json!({"approve": true, "terms": {"expires_on": day(181)}}),
        )
        .await,
        422,
        "beyond_approval",
        Some("expires_on"),
    );
    let r = decide(
        rid,
        &admin,
        json!({"approve": true, "terms": {"fields": [
            {"field": "contract_no"}, {"field": "buyer", "mask": "MASK_NAME"},
            {"field": "id_no", "mask": "MASK_SHOW_LAST_4"}]}}),
    )
    .await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(r.1["status"], "approved");
    let grant_id = r.1["grant_id"].as_i64().unwrap();

    // The consumer's system token and the gateway.
    let r = c_off
        .post("/api/v1/sharing/systems", json!({"name": "住房保障系统"}))
        .await;
    assert_eq!(r.0, 201, "{}", r.1);
    let token = r.1["token"].as_str().unwrap().to_owned();
    let sys = Client::with_token(&w.url, &token);
    let (s, v) = sys.get("/gateway/v1/resources").await;
    assert_eq!(
        (s, v[0]["resource_code"].as_str()),
        (200, Some(res.as_str())),
        "{v}"
    );
    let (s, v, h) = sys
        .send(
            sys.http
                .get(format!("{}/gateway/v1/resources/{res}?page_size=10", w.url))
                .bearer_auth(&token),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(h["x-grant-id"], grant_id.to_string().as_str());
    let call_id: i64 = h["x-call-id"].to_str().unwrap().parse().unwrap();
    assert!(call_id >= 1);
    assert_eq!(v["total"], 2);
    let row = &v["rows"][0];
    assert_eq!(row["contract_no"], "WQ2026-0001");
    assert_eq!(row["buyer"], "李*");
    assert_eq!(row["id_no"], format!("xxxxxxxxxxxxxx{}", &id1[14..]));
    assert!(
        row.get("area").is_none() && row.get("filed_on").is_none(),
        "{row}"
    );
    // A field filter; refusals as problem+json naming why.
    let (_, v) = sys
        .get(&format!(
            "/gateway/v1/resources/{res}?contract_no=WQ2026-0002"
        ))
        .await;
    assert_eq!(v["total"], 1);
    assert_problem(
        &sys.get(&format!("/gateway/v1/resources/{res}?page_size=1001"))
            .await,
        422,
        "invalid_page_size",
        None,
    );
    assert_problem(
        &sys.get(&format!("/gateway/v1/resources/{res}?area=1"))
            .await,
        422,
        "unknown_filter",
        None,
    );
    assert_problem(
        &Client::anonymous(&w.url).get("/gateway/v1/resources").await,
        401,
        "unauthorized",
        None,
    );
    let x_off = Client::login(&w.url, "x_off").await;
    let r = x_off
        .post("/api/v1/sharing/systems", json!({"name": "物业系统"}))
        .await;
    let other = Client::with_token(&w.url, r.1["token"].as_str().unwrap());
    assert_problem(
        &other.get(&format!("/gateway/v1/resources/{res}")).await,
        403,
        "no_grant",
        None,
    );
    let r = p_off
        .post(
            &format!("/api/v1/sharing/grants/{grant_id}"),
            json!({"action": "revoke", "reason": "合同核查结束"}),
        )
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    let r = sys.get(&format!("/gateway/v1/resources/{res}")).await;
    assert_problem(&r, 403, "grant_revoked", None);
    assert!(r.1["detail"].as_str().unwrap().contains("合同核查结束"));

    // The provider reads who used its data; the chain verifies; figures; OpenAPI.
    let (s, calls) = p_off.get("/api/v1/sharing/calls").await;
    assert_eq!(s, 200);
    assert!(calls
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["seq"] == call_id && c["system"] == "住房保障系统" && c["row_count"] == 2));
    assert!(calls
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["result"] == "grant_revoked"));
    let (_, v) = admin.get("/api/v1/sharing/calls/verify").await;
    assert!(v["first_broken"].is_null(), "{v}");
    let (s, f) = admin.get("/api/v1/sharing/figures").await;
    assert_eq!(s, 200);
    assert_eq!(f["total"]["entries"], 1);
    assert_eq!(f["total"]["mount_rate"], 1.0);
    assert_eq!(f["grants_revoked"], 1);
    // A period: nothing had happened in January 2001 — rates are null, not 0.
    let (s, f) = admin.get("/api/v1/sharing/figures?month=2001-01").await;
    assert_eq!(s, 200, "{f}");
    assert_eq!(f["total"]["entries"], 0);
    assert!(f["total"]["mount_rate"].is_null(), "{f}");
    assert_eq!(f["requests"], 0);
    assert_problem(
        &admin.get("/api/v1/sharing/figures?month=2026-W11").await,
        422,
        "invalid_month",
        Some("month"),
    );
    // 数据异议 are for base registries only: on a department's resource it is refused, the
    // field named; an unknown state is refused too; nothing was written.
    assert_problem(
        &c_off
            .post(
                "/api/v1/sharing/objections",
                json!({"resource_code": res, "row_key": "WQ2026-0001", "field": "area",
                       "claimed_value": "90.00", "reason": "网签系统记录为 90 平方米"}),
            )
            .await,
        422,
        "not_a_registry",
        Some("resource_code"),
    );
    assert_problem(
        &c_off.get("/api/v1/sharing/objections?status=done").await,
        422,
        "invalid",
        Some("status"),
    );
    let (s, v) = c_off.get("/api/v1/sharing/objections").await;
    assert_eq!((s, &v["total"]), (200, &json!(0)), "{v}");
    let (_, doc) = admin.get("/api/openapi.json").await;
    for p in [
        "/gateway/v1/resources/{code}",
        "/gateway/v1/resources",
        "/api/v1/sharing/requests/{id}/decision",
        "/api/v1/sharing/objections/{id}/answer",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} not in OpenAPI");
    }
}
