//! The hotline over HTTP: data scope on every endpoint, the action endpoint, attachments.

mod common;

use common::*;
use kernel::Db;
use serde_json::json;

testkit::on_both_backends!(migrations; every_hotline_endpoint_keeps_to_the_data_scope, attachments_are_checked_and_scoped);

async fn ticket_for(w: &World, admin: &Client) -> i64 {
    let (s, t) = admin
        .post("/api/v1/hotline/tickets", json!({"channel": "phone", "kind": "complaint", "caller_name": "王五", "caller_phone": "13700001111",
            "title": "楼道堆放杂物", "content": "消防通道被堵", "accept": true, "region_code": "690102"}))
        .await;
    assert_eq!(s, 201, "{t}");
    let id = t["id"].as_i64().unwrap();
    assert_eq!(
        admin
            .post(
                &format!("/api/v1/hotline/tickets/{id}/actions"),
                json!({"action": "submit_for_dispatch"})
            )
            .await
            .0,
        200
    );
    let (s, t) = admin
        .post(
            &format!("/api/v1/hotline/tickets/{id}/actions"),
            json!({"action": "dispatch", "main_dept_id": w.dept_x, "co_dept_ids": []}),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    id
}

async fn every_hotline_endpoint_keeps_to_the_data_scope(db: Db) {
    let w = world(db).await;
    let admin = Client::login(&w.url, "admin").await;
    let id = ticket_for(&w, &admin).await;
    let actions = format!("/api/v1/hotline/tickets/{id}/actions");
    let hx = Client::login(&w.url, "han_x").await;
    let hy = Client::login(&w.url, "han_y").await;
    let anon = Client::anonymous(&w.url);
    // The holding department sees it; another department gets 403 on every ticket endpoint.
    for path in [
        format!("/api/v1/hotline/tickets/{id}"),
        format!("/api/v1/hotline/tickets/{id}/timeline"),
        format!("/api/v1/hotline/tickets/{id}/attachments"),
        format!("/api/v1/hotline/tickets/{id}/reply-templates"),
    ] {
        assert_eq!(hx.get(&path).await.0, 200, "{path}");
        let got = hy.get(&path).await;
        assert_eq!(got.0, 403, "{path}: {}", got.1);
        assert_problem(&got, 403, "forbidden", None);
        assert_problem(&anon.get(&path).await, 401, "unauthorized", None);
    }
    let (_, list) = hy.get("/api/v1/hotline/tickets").await;
    assert_eq!(list["total"], 0, "another department lists none");
    let (_, list) = hx.get("/api/v1/hotline/tickets").await;
    assert_eq!(list["total"], 1);
    // Writes: refused for the other department, and the action list is checked.
    for body in [
        json!({"action": "acknowledge"}),
        json!({"action": "reply", "text": "x"}),
        json!({"action": "return", "reason": "x"}),
    ] {
        assert_problem(&hy.post(&actions, body).await, 403, "forbidden", None);
    }
    assert_problem(
        &hx.post(&actions, json!({"action": "fly"})).await,
        422,
        "invalid_enum",
        Some("action"),
    );
    let got = hx
        .post(&actions, json!({"action": "reply", "text": "x"}))
        .await;
    assert_problem(&got, 409, "illegal_transition", None);
    assert_eq!(
        hx.post(&actions, json!({"action": "acknowledge"})).await.0,
        200
    );
    for (path, body) in [
        (
            format!("/api/v1/hotline/tickets/{id}/merge"),
            json!({"child_ids": []}),
        ),
        (
            format!("/api/v1/hotline/tickets/{id}/split"),
            json!([{"dept_id": w.dept_y}, {"dept_id": w.dept_x}]),
        ),
    ] {
        assert_problem(&hy.post(&path, body).await, 403, "forbidden", None);
    }
    let edit = json!({"address": "x"});
    let r = hy
        .patch(&format!("/api/v1/hotline/tickets/{id}"), edit)
        .await;
    assert_problem(&r, 403, "forbidden", None);
    // Admin-only configuration.
    for (path, body) in [
        (
            "/api/v1/hotline/categories/import",
            json!({"rows": [["a", "b", "c"]]}),
        ),
        (
            "/api/v1/hotline/reply-templates",
            json!({"title": "t", "body": "b"}),
        ),
    ] {
        assert_problem(&hx.post(path, body).await, 403, "forbidden", None);
    }
    let (s, _, _) = hx
        .send(hx.http.put(format!("{}/api/v1/hotline/deadline-policies", w.url)).header("x-csrf-token", hx.csrf.clone().unwrap()).json(
            &json!({"kind": "complaint", "urgency": "normal", "ack_minutes": 60, "reply_days": 3, "yellow_minutes": 60}),
        ))
        .await;
    assert_eq!(s, 403);
    // Citizens' tracking needs the right phone; the answer never says which part was wrong.
    let number = admin.get(&format!("/api/v1/hotline/tickets/{id}")).await.1["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let got = anon
        .post(
            "/api/v1/hotline/public/track",
            json!({"number": number, "phone": "13700009999"}),
        )
        .await;
    assert_problem(&got, 404, "not_found", None);
    let (s, tr) = anon
        .post(
            "/api/v1/hotline/public/track",
            json!({"number": number, "phone": "13700001111"}),
        )
        .await;
    assert_eq!(s, 200, "{tr}");
    assert_eq!(tr["status"], "acknowledged");
    // Masking: an API token of the handling department's handler sees the caller in full.
    let (_, t) = hx.get(&format!("/api/v1/hotline/tickets/{id}")).await;
    assert_eq!(t["caller"]["phone"], "13700001111");
    w.server.stop().await;
}

async fn upload(
    id: i64,
    c: &Client,
    name: &str,
    bytes: Vec<u8>,
) -> (u16, serde_json::Value, reqwest::header::HeaderMap) {
    let enc: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    let path = format!("/api/v1/hotline/tickets/{id}/attachments?name={enc}");
    c.raw(
        reqwest::Method::POST,
        &path,
        "application/octet-stream",
        bytes,
    )
    .await
}

async fn attachments_are_checked_and_scoped(db: Db) {
    let w = world(db).await;
    let admin = Client::login(&w.url, "admin").await;
    let id = ticket_for(&w, &admin).await;
    let hx = Client::login(&w.url, "han_x").await;
    let hy = Client::login(&w.url, "han_y").await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRfake".to_vec();

    let (s, a, _) = upload(id, &hx, "现场照片.png", png.clone()).await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["mime"], "image/png");
    let aid = a["id"].as_i64().unwrap();
    let r = upload(id, &hx, "伪装.pdf", png.clone()).await;
    assert_problem(&(r.0, r.1), 422, "content_mismatch", Some("file"));
    let r = upload(id, &hx, "脚本.exe", b"MZ..".to_vec()).await;
    assert_problem(&(r.0, r.1), 422, "unsupported_type", Some("name"));
    let r = upload(id, &hy, "别人的.png", png.clone()).await;
    assert_problem(&(r.0, r.1), 403, "forbidden", None);
    // 11 MB: over the attachment limit (and over the general body limit the route lifts).
    let mut big = b"%PDF-".to_vec();
    big.resize(11 * 1024 * 1024, b'0');
    // The server refuses without reading the 11 MB, so the client may see the refusal or, when
    // the connection closes while it is still sending, a reset. Its own session (and so its own
    // connection) keeps that from touching the requests below; either way nothing is stored.
    let big_client = Client::login(&w.url, "han_x").await;
    let path = format!("/api/v1/hotline/tickets/{id}/attachments?name=big.pdf");
    let sent = big_client
        .http
        .post(format!("{}{path}", w.url))
        .header("x-csrf-token", big_client.csrf.clone().unwrap_or_default())
        .header("content-type", "application/octet-stream")
        .body(big)
        .send()
        .await;
    match sent {
        Ok(r) => assert!(r.status() == 413 || r.status() == 422, "{}", r.status()),
        Err(e) => assert!(
            e.is_request() || e.is_body() || e.is_connect(),
            "unexpected error: {e:?}"
        ),
    }
    let (s, list) = hx
        .get(&format!("/api/v1/hotline/tickets/{id}/attachments"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    let r = hx
        .download(&format!("/api/v1/hotline/attachments/{aid}"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("filename*=UTF-8''"));
    assert_eq!(r.bytes().await.unwrap().to_vec(), png);
    assert_eq!(
        hy.download(&format!("/api/v1/hotline/attachments/{aid}"))
            .await
            .status(),
        403
    );
    let (_, tl) = hx
        .get(&format!("/api/v1/hotline/tickets/{id}/timeline"))
        .await;
    assert!(tl
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "attach"));
    w.server.stop().await;
}
