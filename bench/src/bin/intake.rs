//! Sustained ticket intake through the HTTP API (create + accept, with timeline event and audit
//! record, one transaction each) on SQLite, side by side with raw SQLite inserts of the same rows
//! at the same durability (WAL, synchronous=FULL, one transaction per row).
//!
//! `cargo run --release -p bench --bin intake -- [seconds=10] [rate=1000] [concurrency=64]`

use bench::percentile;
use kernel::{Db, Role};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn body(i: usize) -> serde_json::Value {
    json!({"channel": "phone", "kind": "complaint", "caller_name": "张先生", "caller_phone": "13800000000",
           "address": "A1区幸福路8号", "region_code": "690102", "title": format!("夜间施工噪音扰民 {i}"),
           "content": "小区旁工地每天夜里十一点后仍在施工，噪音很大，影响老人孩子休息，请相关部门尽快处理。", "accept": true})
}

/// Closed loop: every client sends its next ticket as soon as the last one is answered.
async fn http_saturated(
    base: &str,
    client: &reqwest::Client,
    csrf: &str,
    secs: u64,
    conc: usize,
) -> Run {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let lat = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for w in 0..conc {
        let (client, csrf, base, lat) = (
            client.clone(),
            csrf.to_owned(),
            base.to_owned(),
            lat.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while Instant::now() < deadline {
                let t0 = Instant::now();
                let r = client
                    .post(format!("{base}/api/v1/hotline/tickets"))
                    .header("x-csrf-token", &csrf)
                    .json(&body(w * 1_000_000 + i))
                    .send()
                    .await
                    .expect("request");
                assert_eq!(r.status(), 201);
                let _ = r.bytes().await;
                lat.lock()
                    .unwrap()
                    .push(t0.elapsed().as_secs_f64() * 1000.0);
                i += 1;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut lat_ms = Arc::try_unwrap(lat).unwrap().into_inner().unwrap();
    lat_ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Run {
        done: lat_ms.len(),
        secs: start.elapsed().as_secs_f64(),
        lat_ms,
    }
}

struct Run {
    done: usize,
    secs: f64,
    lat_ms: Vec<f64>,
}

async fn http_run(
    base: &str,
    client: &reqwest::Client,
    csrf: &str,
    secs: u64,
    rate: u64,
    conc: usize,
) -> Run {
    // Open loop: requests are due at a fixed rate; latency counts from when each was due, so a
    // server that falls behind shows it in the percentiles (no coordinated omission).
    let start = Instant::now();
    let total = (secs * rate) as usize;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let lat = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let (client, csrf, base, next, lat) = (
            client.clone(),
            csrf.to_owned(),
            base.to_owned(),
            next.clone(),
            lat.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i >= total {
                    break;
                }
                let due = start + Duration::from_secs_f64(i as f64 / rate as f64);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    tokio::time::sleep(wait).await;
                }
                let r = client
                    .post(format!("{base}/api/v1/hotline/tickets"))
                    .header("x-csrf-token", &csrf)
                    .json(&body(i))
                    .send()
                    .await
                    .expect("request");
                assert_eq!(r.status(), 201);
                let _ = r.bytes().await;
                lat.lock()
                    .unwrap()
                    .push(due.elapsed().as_secs_f64() * 1000.0);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut lat_ms = Arc::try_unwrap(lat).unwrap().into_inner().unwrap();
    lat_ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Run {
        done: lat_ms.len(),
        secs: start.elapsed().as_secs_f64(),
        lat_ms,
    }
}

fn raw_sqlite(n: usize) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let c = rusqlite::Connection::open(dir.path().join("raw.db")).unwrap();
    c.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE t (id INTEGER PRIMARY KEY, number TEXT UNIQUE, channel TEXT, kind TEXT, urgency TEXT, status TEXT,
            caller_name TEXT, caller_phone TEXT, address TEXT, region_code TEXT, title TEXT, content TEXT, created_at INTEGER);",
    )
    .unwrap();
    let start = Instant::now();
    let mut lat_ms = Vec::with_capacity(n);
    for i in 0..n {
        let t0 = Instant::now();
        let b = body(i);
        let tx = c.unchecked_transaction().unwrap();
        tx.execute(
            "INSERT INTO t (number, channel, kind, urgency, status, caller_name, caller_phone, address, region_code, title, content, created_at)
             VALUES (?1, 'phone', 'complaint', 'normal', 'accepted', ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            rusqlite::params![format!("N{i}"), b["caller_name"].as_str(), b["caller_phone"].as_str(), b["address"].as_str(), b["region_code"].as_str(), b["title"].as_str(), b["content"].as_str(), i as i64],
        )
        .unwrap();
        tx.commit().unwrap();
        lat_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    lat_ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Run {
        done: n,
        secs: start.elapsed().as_secs_f64(),
        lat_ms,
    }
}

async fn server() -> (web::Server, Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let db = Db::connect(&url).await.unwrap();
    kernel::migrate::run(&db, &web::migrations()).await.unwrap();
    let mut cfg = kernel::config::Config::default();
    cfg.log.filter = "warn".into();
    testkit::city::empty()
        .auth(cfg.auth.clone())
        .dept("12345中心", "690100")
        .user("operator", "12345中心", Role::Operator)
        .build(db.clone())
        .await;
    let s = web::start(web::context(db.clone(), cfg), "127.0.0.1:0")
        .await
        .unwrap();
    (s, db, dir)
}

fn line(name: &str, r: &Run) {
    println!(
        "{name:<34} {:>8} rows {:>9.0} /s   p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms",
        r.done,
        r.done as f64 / r.secs,
        percentile(&r.lat_ms, 50.0),
        percentile(&r.lat_ms, 99.0),
        r.lat_ms.last().copied().unwrap_or(0.0)
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let secs = args.first().copied().unwrap_or(10);
    let rate = args.get(1).copied().unwrap_or(1000);
    let conc = args.get(2).copied().unwrap_or(64) as usize;
    println!("ticket intake, SQLite (WAL, synchronous=FULL), {secs} s at {rate}/s offered, {conc} clients; {} cores", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let (s, db, _dir) = server().await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .pool_max_idle_per_host(conc)
        .build()
        .unwrap();
    let login: serde_json::Value = client
        .post(format!("{}/api/v1/auth/login", s.url()))
        .json(&json!({"username": "operator", "password": testkit::city::PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = login["csrf_token"].as_str().unwrap().to_owned();
    // Warm up connections and caches.
    http_run(&s.url(), &client, &csrf, 1, 200, 16).await;
    let open = http_run(&s.url(), &client, &csrf, secs, rate, conc).await;
    let saturated = http_saturated(&s.url(), &client, &csrf, secs.min(5), conc).await;
    let raw = raw_sqlite(open.done);
    s.stop().await;
    let audit = kernel::audit::verify(&db).await.unwrap();
    println!();
    line(&format!("yiwang HTTP intake @ {rate}/s"), &open);
    line("yiwang HTTP intake, saturated", &saturated);
    line("raw SQLite insert (rusqlite)", &raw);
    let per_ticket = saturated.secs / saturated.done as f64;
    let per_row = raw.secs / raw.done as f64;
    println!();
    println!(
        "cost ratio (saturated yiwang time per ticket / raw insert time per row): {:.2}×",
        per_ticket / per_row
    );
    println!(
        "audit chain: {} records, intact: {}",
        audit.records,
        audit.first_broken.is_none()
    );
}
