//! The sharing gateway on SQLite: 1,000-row pages served under a grant — granted fields only,
//! masked (姓名, 身份证号, SM3 hash of 手机号, year of birth), row filter, and a chained call-log
//! record appended in its own transaction (WAL, synchronous=FULL) — side by side with a plain
//! `SELECT` of the same rows from the same database. Prints the ratio and rows/s.
//!
//! `cargo run --release -p bench --bin gateway -- [rows=20000] [calls=200]`

use bench::percentile;
use kernel::{Db, Role};
use serde_json::json;
use sharing::gateway::service::GatewayQuery;
use sqlx::Row;
use std::time::Instant;

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n_rows = args.first().copied().unwrap_or(20_000);
    let n_calls = args.get(1).copied().unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("b.db").display()))
        .await
        .unwrap();
    kernel::migrate::run(&db, &sharing::migrations())
        .await
        .unwrap();
    let city = testkit::city::empty()
        .dept("数据局", "690100")
        .dept("公安局", "690100")
        .dept("民政局", "690100")
        .user("admin", "数据局", Role::SysAdmin)
        .user("p_off", "公安局", Role::DataOfficer)
        .user("p_cdo", "公安局", Role::ChiefDataOfficer)
        .user("c_off", "民政局", Role::DataOfficer)
        .build(db.clone())
        .await;
    let svc = sharing::SharingService::new(db.clone());
    let (po, admin, co) = (
        city.actor("p_off"),
        city.actor("admin"),
        city.actor("c_off"),
    );
    let e = svc
        .create_entry(po, serde_json::from_value(json!({
            "category": "basic", "class": ["1"],
            "content": {"name": "人口", "summary": "人口基础信息", "format": "数据库",
                "share_kind": "conditional", "share_condition": "依法履职", "open_kind": "not_open", "update_cycle": "daily",
                "items": [
                    {"name": "姓名", "field": "name", "data_type": "char", "length": 30, "sensitive": true, "semantic": "name"},
                    {"name": "身份证号", "field": "id_no", "data_type": "char", "length": 18, "primary_key": true, "semantic": "id_card"},
                    {"name": "手机", "field": "phone", "data_type": "char", "length": 11, "semantic": "mobile"},
                    {"name": "出生日期", "field": "birth", "data_type": "date"},
                    {"name": "性别", "field": "gender", "data_type": "char", "length": 1},
                    {"name": "区", "field": "district", "data_type": "char", "length": 6},
                    {"name": "住址", "field": "address", "data_type": "char", "length": 100}
                ]}
        })).unwrap())
        .await
        .unwrap();
    svc.submit_entry(po, e.entry.id, 1).await.unwrap();
    svc.review_entry(admin, e.entry.id, 1, true, "")
        .await
        .unwrap();
    let r = svc.mount_table(po, e.entry.id, "", "full").await.unwrap();
    let code = r.resource.code.clone();
    let t = Instant::now();
    for chunk in (0..n_rows).collect::<Vec<_>>().chunks(5000) {
        let rows = chunk
            .iter()
            .map(|i| {
                let first17 = format!("6901021980{:02}{:02}{:03}", 1 + i % 12, 1 + (i / 12) % 28, i % 1000);
                // Distinct 身份证号 up to 42,000 rows (beyond, a repeated number replaces its row).
                json!({"name": format!("张{}", i % 97), "id_no": kernel::codes::id_card_with_check(&first17),
                       "phone": format!("138{:08}", i), "birth": format!("1980-{:02}-{:02}", 1 + i % 12, 1 + (i / 12) % 28),
                       "gender": if i.is_multiple_of(2) { "男" } else { "女" }, "district": "690102",
                       "address": format!("A市A1区东湖街道幸福路{i}号")})
                .as_object()
                .unwrap()
                .clone()
            })
            .collect();
        let rep = svc.push_rows(po, &code, rows).await.unwrap();
        assert_eq!(rep.rejected, 0, "{:?}", &rep.errors[..1]);
    }
    let stored = svc.resource(&code).await.unwrap().resource.row_count;
    println!("loaded {stored} rows in {:.1} s", t.elapsed().as_secs_f64());
    let today = kernel::clock::to_china(db.now())
        .format("%Y-%m-%d")
        .to_string();
    let until = kernel::clock::to_china(db.now() + 300 * 86_400_000)
        .format("%Y-%m-%d")
        .to_string();
    let rq = svc
        .submit_request(
            co,
            serde_json::from_value(
                json!({"resources": [code], "purpose": "bench", "legal_basis": "bench",
            "system": "bench", "period_from": today, "period_until": until}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let id = rq[0].request.id;
    svc.decide(po, id, true, "", None).await.unwrap();
    svc.decide(city.actor("p_cdo"), id, true, "", None)
        .await
        .unwrap();
    let terms = serde_json::from_value(json!({"fields": [
        {"field": "name", "mask": "MASK_NAME"}, {"field": "id_no", "mask": "MASK_ID_CARD"},
        {"field": "phone", "mask": "MASK_HASH"}, {"field": "birth", "mask": "MASK_DATE_SHOW_YEAR"},
        {"field": "gender"}, {"field": "district"}],
        "row_filter": [{"field": "district", "op": "eq", "values": ["690102"]}],
        "rate_per_minute": 100000}))
    .unwrap();
    svc.decide(admin, id, true, "", Some(terms)).await.unwrap();
    let token = svc.register_system(co, "bench").await.unwrap().token;
    let caller = city.org.resolve_token(&token).await.unwrap().unwrap();
    let pages = (stored as usize / 1000).max(1);

    // The gateway: masked 1,000-row pages with the chained log.
    let mut times = Vec::new();
    let mut served = 0usize;
    let t = Instant::now();
    for i in 0..n_calls {
        let q = GatewayQuery {
            page: (i % pages) as i64 + 1,
            page_size: 1000,
            filters: vec![],
            request_line: format!("GET /gateway/v1/resources/{code}?page={}", i % pages + 1),
        };
        let s0 = Instant::now();
        let s = svc.serve(&caller, &token, &code, q).await.unwrap();
        times.push(s0.elapsed().as_secs_f64() * 1000.0);
        served += serde_json::from_slice::<serde_json::Value>(&s.body).unwrap()["rows"]
            .as_array()
            .unwrap()
            .len();
    }
    let gw = t.elapsed().as_secs_f64();

    // The plain SELECT of the same rows (same filter, order and page), text as stored.
    let mut plain_times = Vec::new();
    let mut plain_rows = 0usize;
    let t = Instant::now();
    for i in 0..n_calls {
        let s0 = Instant::now();
        let rows = sqlx::query(
            "SELECT data FROM sharing_rows WHERE resource_id = $1 AND json_extract(data, '$.district') = $2
             ORDER BY id LIMIT 1000 OFFSET $3",
        )
        .bind(r.resource.id)
        .bind("690102")
        .bind(((i % pages) * 1000) as i64)
        .fetch_all(db.pool())
        .await
        .unwrap();
        plain_rows += rows
            .iter()
            .filter(|x| !x.get::<String, _>(0).is_empty())
            .count();
        plain_times.push(s0.elapsed().as_secs_f64() * 1000.0);
    }
    let plain = t.elapsed().as_secs_f64();
    let v = svc.verify_calls().await.unwrap();
    assert!(v.first_broken.is_none());
    times.sort_by(f64::total_cmp);
    plain_times.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&times, 50.0), percentile(&times, 99.0));
    let (q50, q99) = (
        percentile(&plain_times, 50.0),
        percentile(&plain_times, 99.0),
    );
    println!("gateway: {n_calls} calls, {served} masked rows in {gw:.2} s = {:.0} rows/s; p50 {p50:.2} ms, p99 {p99:.2} ms", served as f64 / gw);
    println!("plain SELECT: {n_calls} queries, {plain_rows} rows in {plain:.2} s = {:.0} rows/s; p50 {q50:.2} ms, p99 {q99:.2} ms", plain_rows as f64 / plain);
    println!(
        "ratio gateway / plain SELECT: {:.2}x (p99 {:.2}x)",
        gw / plain,
        p99 / q99
    );
    println!("call log: {} calls verified", v.calls);
}
