//! The gateway's call log at scale on SQLite: N chained calls (default 10,000,000) made by the
//! project's own `Call` and its SM3 chain (`Call::chained_hash`), bulk-inserted in large
//! transactions, then `SharingService::verify_calls` timed over the whole table — the command
//! `yiwang sharing calls verify` runs. Prints the fill rate, the verification's seconds and
//! calls/s, and the peak resident memory (VmHWM, reset before the verification).
//!
//! `cargo run --release -p bench --bin calllog -- [calls=10000000] [dir]`

use kernel::Db;
use sharing::gateway::domain::{month_of, sm3_hex, Call, GENESIS};
use std::sync::mpsc::sync_channel;
use std::time::Instant;

fn proc_status(key: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .map(|l| l[key.len()..].trim().to_owned())
        .unwrap_or_else(|| "?".into())
}

/// The i-th call of a year of gateway traffic: ten resources, five consumers, a few refusals.
fn call(i: i64, n: i64, start: i64) -> Call {
    let at = start + i * (365 * 86_400_000 / n.max(1));
    let res = i % 10;
    let refused = i % 97 == 0;
    Call {
        seq: i + 1,
        month: month_of(at),
        at,
        caller: format!("user:{}", 100 + i % 5),
        consumer_dept_id: Some(10 + i % 5),
        system: format!("使用系统{}", i % 5),
        grant_id: Some(1 + i % 20),
        resource_id: Some(1 + res),
        resource_code: format!("A1-0000{:02}.1", res + 1),
        fields: if refused {
            vec![]
        } else {
            vec![
                "name".into(),
                "id_no".into(),
                "birth".into(),
                "district".into(),
            ]
        },
        row_count: if refused { 0 } else { 1000 },
        request_hash: sm3_hex(
            format!("GET /gateway/v1/resources/A1-0000{:02}.1?page={i}", res + 1).as_bytes(),
        ),
        response_hash: sm3_hex(&i.to_le_bytes()),
        result: if refused {
            "rate_limited".into()
        } else {
            "ok".into()
        },
        prev_hash: String::new(),
        hash: String::new(),
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: i64 = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let tmp = tempfile::tempdir_in(args.get(1).map(String::as_str).unwrap_or("/tmp")).unwrap();
    let path = tmp.path().join("calls.db");
    let db = Db::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    kernel::migrate::run(&db, &sharing::migrations())
        .await
        .unwrap();
    let start = db.now() - 400 * 86_400_000;

    // Fill: one thread makes and chains the calls, this one inserts them, 100,000 a transaction.
    let t = Instant::now();
    let (tx, rx) = sync_channel::<Vec<Call>>(4);
    let maker = std::thread::spawn(move || {
        let mut prev = GENESIS.to_owned();
        let mut i = 0;
        while i < n {
            let mut batch = Vec::with_capacity(100_000);
            for j in i..(i + 100_000).min(n) {
                let mut c = call(j, n, start);
                c.prev_hash = prev;
                c.hash = c.chained_hash();
                prev = c.hash.clone();
                batch.push(c);
            }
            i += batch.len() as i64;
            tx.send(batch).unwrap();
        }
        prev
    });
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;",
    )
    .unwrap();
    let mut written = 0i64;
    for batch in rx {
        let t = conn.transaction().unwrap();
        {
            let mut st = t
                .prepare_cached(
                    "INSERT INTO sharing_calls (seq, month, at, caller, consumer_dept_id, system, grant_id,
                     resource_id, resource_code, fields, row_count, request_hash, response_hash, result,
                     prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                )
                .unwrap();
            for c in &batch {
                st.execute(rusqlite::params![
                    c.seq,
                    c.month,
                    c.at,
                    c.caller,
                    c.consumer_dept_id,
                    c.system,
                    c.grant_id,
                    c.resource_id,
                    c.resource_code,
                    serde_json::to_string(&c.fields).unwrap(),
                    c.row_count,
                    c.request_hash,
                    c.response_hash,
                    c.result,
                    c.prev_hash,
                    c.hash
                ])
                .unwrap();
            }
        }
        t.commit().unwrap();
        written += batch.len() as i64;
    }
    let head = maker.join().unwrap();
    conn.execute(
        "UPDATE sharing_call_head SET seq = ?1, hash = ?2 WHERE id = 1",
        rusqlite::params![written, head],
    )
    .unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    drop(conn);
    let fill = t.elapsed().as_secs_f64();
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "filled sharing_calls with {written} chained calls in {fill:.1} s = {:.0} calls/s ({:.2} GB on disk)",
        written as f64 / fill,
        size as f64 / 1e9
    );

    // Verification: the whole table, streamed. The peak RSS is reset first (Linux
    // clear_refs 5), so VmHWM is the verification's own.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    println!(
        "before verify: VmRSS {}, VmHWM {}",
        proc_status("VmRSS:"),
        proc_status("VmHWM:")
    );
    let svc = sharing::SharingService::new(db.clone());
    let t = Instant::now();
    let v = svc.verify_calls().await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert!(v.first_broken.is_none(), "{:?}", v.first_broken);
    assert_eq!(v.calls, written);
    println!(
        "verify_calls: {} calls in {secs:.1} s = {:.0} calls/s (aim: 10,000,000 in < 60 s); head {}",
        v.calls,
        v.calls as f64 / secs,
        &v.head_hash[..16]
    );
    println!("peak memory during verify: VmHWM {}", proc_status("VmHWM:"));
}
