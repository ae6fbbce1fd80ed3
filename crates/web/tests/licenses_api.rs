//! 电子证照 over HTTP: problem+json naming the field, the credential's media type, public 查证,
//! key and status-list documents, revocation with a reason, the holder's list, OpenAPI.

mod common;

use common::*;
use kernel::{Actor, Db, Role};
use serde_json::json;

testkit::on_both_backends!(migrations; licenses_api_issues_verifies_and_revokes);

/// The public 查证 page's answer to a posted QR text.
async fn verify_page(c: &Client, base: &str, text: &str) -> String {
    c.http
        .post(format!("{base}/licenses/verify"))
        .form(&[("text", text)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The 查证 page's answer to an uploaded credential file (multipart, as a browser sends it).
async fn verify_file(c: &Client, base: &str, content: &str) -> String {
    let boundary = "----yiwangtestboundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"license.json\"\r\nContent-Type: application/json\r\n\r\n{content}\r\n--{boundary}--\r\n"
    );
    c.http
        .post(format!("{base}/licenses/verify/file"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn licenses_api_issues_verifies_and_revokes(db: Db) {
    let mut cfg = config();
    cfg.licenses.master_key = "00112233445566778899aabbccddeeff".into();
    let w = world_with(db.clone(), cfg).await;
    let org = org::OrgService::new(db.clone(), testkit::city::fast_auth());
    let dept_code = kernel::codes::credit_code_with_check("11690100MB0000041");
    org.update_department(
        &Actor::cli(),
        w.dept_x,
        org::DepartmentChanges {
            credit_code: Some(dept_code),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let id_no = kernel::codes::id_card_with_check("11010519900307123");
    org.create_user(
        &Actor::cli(),
        org::NewUser {
            username: "resident1".into(),
            display_name: "居民一".into(),
            password: PW.into(),
            dept_id: None,
            roles: vec![Role::Citizen],
            phone: Some("13800000001".into()),
            id_card: Some(id_no.clone()),
        },
    )
    .await
    .unwrap();
    let admin = Client::login(&w.url, "admin").await;
    let code = format!(
        "{}002",
        kernel::codes::credit_code_with_check("11690100MB0000051")
    );
    let mut t = json!({
        "code": "11690100MB0000051X002", "name": "建筑施工许可证", "holder_kind": "person",
        "content": {"dept_ids": [w.dept_x], "validity_years": 3,
                    "fields": [{"key": "project", "label": "工程名称", "kind": "text", "required": true}]}
    });
    assert_problem(
        &admin.post("/api/v1/licenses/types", t.clone()).await,
        422,
        "invalid_type_code",
        Some("code"),
    );
    t["code"] = json!(code);
    t["content"]["fields"][0]["kind"] = json!("colour");
    let r = admin.post("/api/v1/licenses/types", t.clone()).await;
    assert_eq!(r.0, 422, "{}", r.1);
    t["content"]["fields"][0]["kind"] = json!("text");
    let r = admin.post("/api/v1/licenses/types", t).await;
    assert_eq!(r.0, 201, "{}", r.1);
    let type_id = r.1["id"].as_i64().unwrap();
    let r = admin
        .post(
            &format!("/api/v1/licenses/types/{type_id}/versions/1/publish"),
            json!({}),
        )
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    // Bad input names the field and writes nothing.
    let good = json!({"type_code": code, "dept_id": w.dept_x,
                      "holder": {"id_no": id_no, "name": "张三"}, "fields": {"project": "A市图书馆"}});
    let mut bad = good.clone();
    bad["holder"]["id_no"] = json!("110105199003071230");
    assert_problem(
        &admin.post("/api/v1/licenses", bad).await,
        422,
        "invalid_id",
        Some("holder.id_no"),
    );
    let mut bad = good.clone();
    bad["fields"] = json!({"project": ""});
    assert_problem(
        &admin.post("/api/v1/licenses", bad).await,
        422,
        "required",
        Some("fields.project"),
    );
    let mut bad = good.clone();
    bad["dept_id"] = json!("三");
    assert_eq!(admin.post("/api/v1/licenses", bad).await.0, 422);
    assert_eq!(
        admin
            .get("/api/v1/licenses")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let r = admin.post("/api/v1/licenses", good).await;
    assert_eq!(r.0, 201, "{}", r.1);
    let id = r.1["id"].as_i64().unwrap();
    let kid = r.1["kid"].as_str().unwrap().to_owned();
    // The credential, as application/vc when asked.
    let (s, vc, h) = admin
        .send(
            admin
                .http
                .get(format!("{}/api/v1/licenses/{id}/credential", w.url))
                .header("accept", "application/vc"),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(h["content-type"], "application/vc");
    assert_eq!(vc["proof"]["cryptosuite"], "sm2-jcs-2026");
    // Public 查证, key document and status list, no login.
    let anon = Client::anonymous(&w.url);
    let r = anon.post("/api/v1/licenses/verify", vc.clone()).await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(r.1["valid"], true, "{}", r.1);
    let names: Vec<&str> = r.1["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for n in ["signature", "issuer_key", "status", "validity", "tampering"] {
        assert!(names.contains(&n), "{names:?}");
    }
    let r = anon
        .raw(
            reqwest::Method::POST,
            "/api/v1/licenses/verify",
            "application/json",
            b"{not json".to_vec(),
        )
        .await;
    assert!(r.0 == 400 || r.0 == 422, "{r:?}");
    assert_problem(
        &anon.post("/api/v1/licenses/verify", json!("文本")).await,
        422,
        "invalid_presentation",
        Some("text"),
    );
    assert_problem(
        &anon.post("/api/v1/licenses/verify", json!([1])).await,
        422,
        "invalid",
        Some("credential"),
    );
    let (s, key) = anon.get(&format!("/api/v1/licenses/keys/{kid}")).await;
    assert_eq!(s, 200);
    assert_eq!(key["publicKeyJwk"]["crv"], "SM2");
    assert_eq!(anon.get("/api/v1/licenses/keys/d9-k9").await.0, 404);
    let list_url = vc["credentialStatus"][0]["statusListCredential"]
        .as_str()
        .unwrap();
    let path = &list_url[list_url.find("/api/").unwrap()..];
    let (s, list) = anon.get(path).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["credentialSubject"]["statusPurpose"], "revocation");
    assert_eq!(anon.get("/api/v1/licenses/status/1/other").await.0, 404);
    // The holder sees it; others may not read it.
    let me = Client::login(&w.url, "resident1").await;
    let mine = me.get("/api/v1/licenses/mine").await;
    assert_eq!(mine.1.as_array().unwrap().len(), 1, "{}", mine.1);
    let han = Client::login(&w.url, "han_y").await;
    assert_eq!(
        han.get(&format!("/api/v1/licenses/{id}/credential"))
            .await
            .0,
        403
    );
    assert_eq!(anon.get("/api/v1/licenses/mine").await.0, 401);
    // 我的证照 and 亮证 on the pages: a QR code (SVG) carrying a signed presentation.
    let page = me
        .http
        .get(format!("{}/licenses/mine", w.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("建筑施工许可证") && page.contains("有效"),
        "{page}"
    );
    let form = [
        ("_csrf", me.csrf.clone().unwrap()),
        ("fields", "project".into()),
    ];
    let page = me
        .http
        .post(format!("{}/licenses/mine/{id}/present", w.url))
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<svg"), "QR as SVG: {page}");
    let start = page.find("YWP1.").expect("the QR text on the page");
    let qr: String = page[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '<')
        .collect();
    let r = anon.post("/api/v1/licenses/verify", json!(qr)).await;
    assert_eq!(r.1["valid"], true, "{}", r.1);
    assert_eq!(r.1["summary"]["fields"]["project"], "A市图书馆");
    let mut forged = qr.clone();
    // One character of the signature changed.
    let at = qr.len() - 5;
    forged.replace_range(at..at + 1, if &qr[at..at + 1] == "A" { "B" } else { "A" });
    assert_eq!(
        anon.post("/api/v1/licenses/verify", json!(forged)).await.1["valid"],
        false
    );
    // The public 查证 page, no login.
    let page = verify_page(&anon, &w.url, &qr).await;
    assert!(
        page.contains("证照真实有效") && page.contains("A市图书馆"),
        "{page}"
    );
    // A credential file a holder sent, uploaded on the same page; a file that is no
    // credential is refused in words.
    let page = verify_file(&anon, &w.url, &vc.to_string()).await;
    assert!(
        page.contains("证照真实有效") && page.contains("A市图书馆"),
        "{page}"
    );
    let page = verify_file(&anon, &w.url, "{not json").await;
    assert!(page.contains("凭证不是合法的 JSON"), "{page}");
    // Revocation needs a reason, then shows at once.
    assert_problem(
        &admin
            .post(
                &format!("/api/v1/licenses/{id}/revoke"),
                json!({"reason": ""}),
            )
            .await,
        422,
        "required",
        Some("reason"),
    );
    let r = admin
        .post(
            &format!("/api/v1/licenses/{id}/revoke"),
            json!({"reason": "违规施工"}),
        )
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(r.1["status"], "revoked");
    let r = admin
        .post(
            &format!("/api/v1/licenses/{id}/reinstate"),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(r.0, 409, "{}", r.1);
    let page = verify_page(&anon, &w.url, &qr).await;
    assert!(
        page.contains("证照无效") && page.contains("违规施工"),
        "{page}"
    );
    let page = verify_page(&anon, &w.url, &qr).await;
    assert!(
        page.contains("证照无效") && page.contains("违规施工"),
        "{page}"
    );
    let r = anon.post("/api/v1/licenses/verify", vc).await;
    assert_eq!(r.1["valid"], false);
    assert!(
        r.1["message"].as_str().unwrap().contains("违规施工"),
        "{}",
        r.1
    );
    // The usage log shows the verifications to the holder.
    let usage = me.get("/api/v1/licenses/mine/usage").await.1;
    assert!(
        usage
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["kind"] == "verify"),
        "{usage}"
    );
    // OpenAPI lists the interfaces others build on.
    let doc = anon.get("/api/openapi.json").await.1;
    for p in [
        "/api/v1/licenses/mine",
        "/api/v1/licenses/{id}/credential",
        "/api/v1/licenses/{id}/revoke",
        "/api/v1/licenses/{id}/suspend",
        "/api/v1/licenses/{id}/reinstate",
        "/api/v1/licenses/verify",
    ] {
        assert!(doc["paths"][p].is_object(), "openapi lacks {p}");
    }
}
