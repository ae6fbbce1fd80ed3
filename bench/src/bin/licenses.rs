//! 电子证照 issuance and verification on SQLite, side by side with the bare SM2 signing loop of
//! the same crate (RustCrypto `sm2`): issuance is sign + 流水号 + status-list slot + row + SM3
//! audit record in one transaction each (WAL, synchronous=FULL); verification is the whole
//! server-side `LicensesService::verify` (key, status list, registry record; its usage row
//! queued for the log's writer, which the bench waits for); the regeneration of a full 131,072-entry status list credential; and 存量证照入库: a generated
//! CSV of paper licenses read and imported through `LicensesService::import` (every row checked,
//! signed, given its slot and audit record, committed in batches), against the same bare loop.
//!
//! `cargo run --release -p bench --bin licenses -- [issuances=2000] [verifications=2000] [imported=100000]`
//! (1,000,000 imported rows is the issue's measure: 六安's 37.9 M licenses in under 6 hours).

use bench::percentile;
use kernel::{Actor, Db, Role};
use licenses::proof::domain as proof;
use serde_json::json;
use sm2::dsa::signature::Signer;
use std::time::Instant;

const MASTER: &str = "00112233445566778899aabbccddeeff";

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n_issue = args.first().copied().unwrap_or(2000);
    let n_verify = args.get(1).copied().unwrap_or(2000);
    let n_import = args.get(2).copied().unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("b.db").display()))
        .await
        .unwrap();
    kernel::migrate::run(&db, &licenses::migrations())
        .await
        .unwrap();
    let city = testkit::city::empty()
        .dept("卫健委", "690100")
        .user("appr", "卫健委", Role::Approver)
        .build(db.clone())
        .await;
    let dept = city.dept("卫健委");
    city.org
        .update_department(
            &Actor::cli(),
            dept,
            org::DepartmentChanges {
                credit_code: Some(kernel::codes::credit_code_with_check("11690100MB0000011")),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let svc = licenses::LicensesService::new(db.clone(), "https://yiwang.bench", MASTER);
    let code = format!(
        "{}001",
        kernel::codes::credit_code_with_check("12690100MB0000031")
    );
    let t = svc
        .create_type(
            &Actor::cli(),
            serde_json::from_value(json!({
                "code": code, "name": "健康证明", "holder_kind": "person",
                "content": {"dept_ids": [dept], "validity_years": 1, "fields": [
                    {"key": "name", "label": "姓名", "kind": "text", "required": true},
                    {"key": "occupation", "label": "从业类别", "kind": "code", "options": ["餐饮服务", "食品生产"], "required": true},
                    {"key": "exam_date", "label": "体检日期", "kind": "date", "required": true}]}
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    svc.publish_type(&Actor::cli(), t.license_type.id, 1)
        .await
        .unwrap();
    let actor = city.actor("appr").clone();
    let new = |i: usize| {
        serde_json::from_value(json!({
            "type_code": code,
            "holder": {"id_no": kernel::codes::id_card_with_check(&format!("11010519900307{:03}", i % 1000)), "name": "张三"},
            "fields": {"name": "张三", "occupation": "餐饮服务", "exam_date": "2026-01-05"}
        }))
        .unwrap()
    };
    // Warm up (the first issuance makes the department's key).
    let first = svc.issue(&actor, new(0)).await.unwrap();

    // Bare SM2: the same crate signing 64-byte hash data, nothing else.
    let sk = proof::signing_key(&proof::generate_secret()[..]).unwrap();
    let data = [7u8; 64];
    let t0 = Instant::now();
    for _ in 0..n_issue {
        let _s: sm2::dsa::Signature = sk.sign(&data);
    }
    let bare = n_issue as f64 / t0.elapsed().as_secs_f64();

    let t0 = Instant::now();
    let mut lat = Vec::with_capacity(n_issue);
    for i in 1..=n_issue {
        let s = Instant::now();
        svc.issue(&actor, new(i)).await.unwrap();
        lat.push(s.elapsed().as_secs_f64() * 1000.0);
    }
    let issued = n_issue as f64 / t0.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.total_cmp(b));

    let vc = svc.credential(&actor, first.id, "bench").await.unwrap();
    let mut vlat = Vec::with_capacity(n_verify);
    for _ in 0..n_verify {
        let s = Instant::now();
        assert!(svc.verify(None, &vc).await.unwrap().valid);
        vlat.push(s.elapsed().as_secs_f64() * 1000.0);
    }
    vlat.sort_by(|a, b| a.total_cmp(b));
    // The usage rows are queued by each verification and written by the log's writer task:
    // every one must reach the table; how long after the last verification is reported.
    let s = Instant::now();
    let want = 1 + n_verify as i64;
    let usage_lag = loop {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM licenses_usage")
            .fetch_one(db.pool())
            .await
            .unwrap();
        if n >= want {
            assert_eq!(n, want, "each use written once");
            break s.elapsed().as_secs_f64() * 1000.0;
        }
        assert!(
            s.elapsed().as_secs() < 10,
            "usage rows not written: {n} of {want}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };

    let s = Instant::now();
    let list = svc
        .status_list_credential(first.list_id, "revocation")
        .await
        .unwrap();
    let regen = s.elapsed().as_secs_f64() * 1000.0;
    assert!(list["proof"]["proofValue"].is_string());

    // 存量证照入库: the sheet as a clerk would upload it, generated here.
    let mut csv = String::from("证照编号,持证人,身份证号,姓名,从业类别,体检日期,发证日期\n");
    for i in 0..n_import {
        let id = kernel::codes::id_card_with_check(&format!(
            "1101051990{:02}{:02}{:03}",
            1 + i % 12,
            1 + i % 28,
            i % 1000
        ));
        csv.push_str(&format!(
            "JK{i:08},李四,{id},李四,食品生产,2025-06-01,2025-06-{:02}\n",
            1 + i % 28
        ));
    }
    let s = Instant::now();
    let sheet = tabular::read_csv(csv.as_bytes()).unwrap();
    let report = svc.import(&actor, &code, None, &sheet).await.unwrap();
    let import_secs = s.elapsed().as_secs_f64();
    assert_eq!(
        report.imported,
        n_import,
        "{:?}",
        &report.errors[..report.errors.len().min(3)]
    );
    let imported = n_import as f64 / import_secs;
    // Every list after the import, both purposes: what a status refresh of the whole registry costs.
    let s = Instant::now();
    let ids = svc.status_list_ids().await.unwrap();
    for id in &ids {
        for p in ["revocation", "suspension"] {
            svc.status_list_credential(*id, p).await.unwrap();
        }
    }
    let all_lists = s.elapsed().as_secs_f64() * 1000.0;

    println!(
        "licenses on SQLite (WAL, synchronous=FULL), {n_issue} issuances, {n_verify} verifications, {n_import} imported"
    );
    println!("bare SM2 signing (sm2 crate)      {bare:>10.0} signatures/s");
    println!(
        "issuance (sign+store+status+audit) {issued:>10.0} licenses/s   p50 {:.2} ms  p99 {:.2} ms",
        percentile(&lat, 50.0),
        percentile(&lat, 99.0)
    );
    println!("ratio bare signing / issuance     {:>10.1}x", bare / issued);
    println!(
        "verification (server side)         p50 {:.2} ms  p99 {:.2} ms",
        percentile(&vlat, 50.0),
        percentile(&vlat, 99.0)
    );
    println!("usage rows ({want}) all written {usage_lag:.0} ms after the last verification");
    println!("status list of 131,072 entries, made and signed: {regen:.1} ms");
    println!(
        "import (read CSV, check, sign, store, status, audit; batched) {imported:>8.0} licenses/s   {n_import} rows in {import_secs:.1} s"
    );
    println!(
        "all {} status lists ({} licenses) × 2 purposes, made and signed: {all_lists:.0} ms",
        ids.len(),
        n_import + n_issue + 1
    );
    println!(
        "ratio bare signing / import        {:>10.1}x",
        bare / imported
    );
    println!(
        "37.9 M licenses (六安) at this rate: {:.1} h",
        37.9e6 / imported / 3600.0
    );
}
