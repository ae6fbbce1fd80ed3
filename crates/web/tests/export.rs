//! Ticket export as .xlsx and ticket import over HTTP, on SQLite and PostgreSQL: the workbook
//! holds what the caller may list, masked as the caller must see it.

mod common;

use common::*;
use hotline::domain::{Channel, NewTicket, TicketKind, Urgency};
use hotline::HotlineService;
use kernel::{Actor, Db, Role};
use org::OrgService;
use std::collections::HashMap;

testkit::on_both_backends!(migrations;
    the_export_holds_the_callers_tickets_masked_by_role,
    admins_import_files_over_http,
);

async fn add_user(db: &Db, username: &str, role: Role) {
    let org = OrgService::new(db.clone(), config().auth);
    let bureau = org.department_by_name("A市数据局").await.unwrap().unwrap();
    org.create_user(&Actor::cli(), test_user(username, Some(bureau.id), role))
        .await
        .unwrap();
}

fn call(title: &str, name: &str, phone: &str, category_id: Option<i64>) -> NewTicket {
    NewTicket {
        channel: Channel::Phone,
        kind: TicketKind::Complaint,
        urgency: Urgency::Normal,
        caller_name: Some(name.into()),
        caller_phone: Some(phone.into()),
        wants_reply: true,
        anonymous: false,
        address: Some("A1区幸福路8号".into()),
        region_code: Some("690102".into()),
        lng: None,
        lat: None,
        title: title.into(),
        content: "小区门口夜间施工噪音很大。".into(),
        category_id,
        answers: Default::default(),
        accept: true,
    }
}

/// The workbook as rows of column name → cell text, with the response headers.
async fn export(
    c: &Client,
    query: &str,
) -> (Vec<HashMap<String, String>>, reqwest::header::HeaderMap) {
    let r = c
        .download(&format!("/api/v1/hotline/tickets.xlsx{query}"))
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let headers = r.headers().clone();
    let bytes = r.bytes().await.unwrap();
    let sheet = tabular::read_xlsx(&bytes).unwrap();
    assert_eq!(sheet.headers, hotline::transfer::export::HEADERS);
    let rows = sheet
        .rows
        .iter()
        .map(|row| {
            sheet
                .headers
                .iter()
                .cloned()
                .zip(row.cells.iter().cloned())
                .collect()
        })
        .collect();
    (rows, headers)
}

fn col<'a>(rows: &'a [HashMap<String, String>], name: &str) -> Vec<&'a str> {
    let mut v: Vec<&str> = rows.iter().map(|r| r[name].as_str()).collect();
    v.sort_unstable();
    v
}

async fn the_export_holds_the_callers_tickets_masked_by_role(db: Db) {
    let w = world(db.clone()).await;
    add_user(&db, "disp", Role::Dispatcher).await;
    add_user(&db, "ana", Role::Analyst).await;
    let svc = HotlineService::new(db.clone(), "A市");
    let cli = Actor::cli();
    svc.import_taxonomy(
        &cli,
        &[("城乡建设".into(), "住房保障".into(), String::new())],
    )
    .await
    .unwrap();
    let housing = svc
        .categories()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.path == "城乡建设/住房保障")
        .unwrap()
        .id;
    let mut ids = Vec::new();
    for (title, name, phone, cat) in [
        ("住建噪音", "李四", "13912345678", Some(housing)),
        ("河道污染", "王五", "13800001111", None),
        ("尚未派单", "赵六", "13700002222", None),
    ] {
        ids.push(
            svc.create(&cli, call(title, name, phone, cat))
                .await
                .unwrap()
                .ticket
                .id,
        );
    }
    for (id, dept) in [(ids[0], w.dept_x), (ids[1], w.dept_y)] {
        dispatch_to(&svc, &cli, id, dept).await;
    }

    // A dispatcher sees every ticket of the region, with the callers' phones.
    let disp = Client::login(&w.url, "disp").await;
    let (rows, headers) = export(&disp, "").await;
    assert_eq!(rows.len(), 3);
    assert_eq!(
        headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let cd = headers["content-disposition"].to_str().unwrap();
    assert!(
        cd.starts_with("attachment; filename=\"tickets-")
            && cd.contains("filename*=UTF-8''%E5%B7%A5%E5%8D%95-")
            && cd.ends_with(".xlsx"),
        "{cd}"
    );
    assert_eq!(headers["x-total-count"], "3");
    assert_eq!(
        col(&rows, "电话"),
        ["13700002222", "13800001111", "13912345678"]
    );
    assert_eq!(col(&rows, "来电人"), ["李四", "王五", "赵六"]);
    let noise = rows.iter().find(|r| r["标题"] == "住建噪音").unwrap();
    assert_eq!(noise["承办单位"], "A市住建局");
    assert_eq!(noise["分类"], "城乡建设/住房保障");
    assert_eq!(noise["区划"], "A1区（690102）");
    assert_eq!(noise["状态"], "待签收");
    assert_eq!(noise["类型"], "投诉");
    assert_eq!(noise["渠道"], "电话");
    assert_eq!(noise["亮牌"], "正常");
    assert_eq!(noise["重办次数"], "0");
    // Times are real Excel date-times, read back as China time.
    for c in ["受理时间", "签收时限", "答复时限"] {
        assert_eq!(noise[c].len(), 19, "{c}: {}", noise[c]);
    }
    assert_eq!(noise["办结时间"], "");

    // The list's filters apply.
    let (rows, _) = export(&disp, "?status=dispatched&q=%E6%B2%B3%E9%81%93").await;
    assert_eq!(col(&rows, "标题"), ["河道污染"]);

    // An analyst gets the same rows with personal data masked.
    let ana = Client::login(&w.url, "ana").await;
    let (rows, _) = export(&ana, "").await;
    assert_eq!(rows.len(), 3);
    assert_eq!(
        col(&rows, "电话"),
        ["137****2222", "138****1111", "139****5678"]
    );
    assert!(rows.iter().all(|r| !r["来电人"].contains('四')));

    // A handler gets only the tickets of its department, in full (it must call back).
    let hx = Client::login(&w.url, "han_x").await;
    let (rows, headers) = export(&hx, "").await;
    assert_eq!(col(&rows, "标题"), ["住建噪音"]);
    assert_eq!(col(&rows, "电话"), ["13912345678"]);
    assert_eq!(headers["x-total-count"], "1");
    let hy = Client::login(&w.url, "han_y").await;
    let (rows, _) = export(&hy, "").await;
    assert_eq!(col(&rows, "标题"), ["河道污染"]);

    // Bad filters and anonymous callers get problems, not workbooks.
    assert_problem(
        &disp.get("/api/v1/hotline/tickets.xlsx?status=nope").await,
        422,
        "invalid_enum",
        Some("status"),
    );
    let anon = Client::anonymous(&w.url);
    assert_eq!(anon.get("/api/v1/hotline/tickets.xlsx").await.0, 401);

    // Each export is in the audit chain.
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM kernel_audit WHERE entity = 'ticket' AND action = 'export'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(n, 5);
    w.server.stop().await;
}

/// Posts `body` of type `content_type` to the hotline import, `query` after the path.
async fn import_file(
    c: &Client,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, serde_json::Value, reqwest::header::HeaderMap) {
    let path = format!("/api/v1/hotline/import{query}");
    c.raw(reqwest::Method::POST, &path, content_type, body)
        .await
}

async fn admins_import_files_over_http(db: Db) {
    let w = world(db.clone()).await;
    let admin = Client::login(&w.url, "admin").await;
    // Larger than the server's body limit in these tests (64 KiB): the import route allows more.
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/hotline/labeled.csv"
    ))
    .unwrap();
    assert!(bytes.len() > 64 * 1024);
    let r = import_file(&admin, "?filename=labeled.csv", "text/csv", bytes.clone()).await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(r.1["total_rows"], 457);
    assert_eq!(r.1["imported"], 456);
    assert_eq!(r.1["skipped"], 1);
    // No taxonomy yet: every row's category is reported as unknown, the tickets kept.
    assert_eq!(r.1["errors"].as_array().unwrap().len(), 457);
    assert_eq!(r.1["errors"][0]["line"], 2);
    assert!(r.1["errors"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("请先导入分类"));

    let r = import_file(&admin, "?filename=labeled.csv", "text/csv", bytes).await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(
        (&r.1["imported"], &r.1["unchanged"]),
        (&0.into(), &456.into())
    );

    // Not a spreadsheet, no file name, not an admin.
    let r = import_file(
        &admin,
        "?filename=a.pdf",
        "application/pdf",
        b"%PDF-1.4".to_vec(),
    )
    .await;
    assert_problem(&(r.0, r.1), 422, "unreadable_file", Some("file"));
    let r = import_file(&admin, "", "text/csv", b"id\n".to_vec()).await;
    assert_eq!(r.0, 400, "{}", r.1);
    let hx = Client::login(&w.url, "han_x").await;
    let header_only = b"id,title,time,detail\n".to_vec();
    let r = import_file(&hx, "?filename=a.csv", "text/csv", header_only).await;
    assert_problem(&(r.0, r.1), 403, "forbidden", None);
    w.server.stop().await;
}
