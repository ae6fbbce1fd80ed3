//! The open-data portal on SQLite, through its HTTP API as a CKAN client uses it:
//! `package_search` over N generated open datasets (Chinese full text, facets on organization,
//! groups and tags, 10 rows), side by side with a plain `LIKE` scan of the same titles and
//! summaries in SQLite (no ranking, no facets: the least a portal could do); and the streamed CSV
//! download of one M-row table, side by side with `sqlite3 -csv` printing the same columns of the
//! same rows from the same database file.
//!
//! `cargo run --release -p bench --bin opendata -- [datasets=10000] [searches=1000] [rows=1000000]`

use bench::percentile;
use kernel::{Db, Role};
use serde_json::{json, Map, Value};
use std::time::Instant;

const DEPTS: &[&str] = &[
    "市场监管局",
    "交通运输局",
    "生态环境局",
    "教育局",
    "卫生健康委",
    "人社局",
    "民政局",
    "自然资源局",
    "住建局",
    "农业农村局",
    "文旅局",
    "税务局",
    "公安局",
    "水利局",
    "商务局",
    "应急管理局",
    "医保局",
    "统计局",
    "城管局",
    "气象局",
    "林业局",
    "体育局",
    "司法局",
    "财政局",
    "发改委",
];
const TOPICS: &[&str] = &[
    "企业登记",
    "公交线路",
    "空气质量",
    "学校名录",
    "医疗机构",
    "就业岗位",
    "养老机构",
    "土地供应",
    "商品房预售",
    "农产品价格",
    "旅游景区",
    "纳税信用",
    "交通事故",
    "河道水位",
    "外贸进出口",
    "安全生产",
    "定点药店",
    "人口抽样",
    "停车场",
    "降水量",
    "森林覆盖",
    "体育场馆",
    "法律援助",
    "财政预算",
    "重点项目",
    "充电桩",
    "公共厕所",
    "菜市场",
    "文物保护单位",
    "政务服务网点",
];
const QUERIES: &[&str] = &[
    "企业",
    "公交",
    "空气质量",
    "学校",
    "医疗",
    "养老",
    "景区",
    "停车场 充电桩",
    "降水",
    "财政预算",
    "交通运输局",
    "文物",
    "菜市场",
    "安全生产 事故",
    "就业",
    "2024年",
    "月度统计",
    "名录",
];

fn entry(name: &str, summary: &str, items: Value) -> Value {
    json!({
        "category": "theme", "class": ["5", "01"],
        "content": {"name": name, "summary": summary, "format": "数据库", "items": items,
            "share_kind": "unconditional", "open_kind": "open", "update_cycle": "monthly"}
    })
}

fn small_items(topic: &str) -> Value {
    json!([
        {"name": "编号", "field": "no", "data_type": "char", "length": 20, "primary_key": true},
        {"name": format!("{topic}名称"), "field": "title", "data_type": "char", "length": 100},
        {"name": "所在区县", "field": "district", "data_type": "char", "length": 20},
        {"name": "统计日期", "field": "day", "data_type": "date"}
    ])
}

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n_sets = args.first().copied().unwrap_or(10_000);
    let n_search = args.get(1).copied().unwrap_or(1000);
    let n_rows = args.get(2).copied().unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let db = Db::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    kernel::migrate::run(&db, &web::migrations()).await.unwrap();
    let mut b =
        testkit::city::empty()
            .dept("数据局", "690100")
            .user("admin", "数据局", Role::SysAdmin);
    b = b.user("b_off", "数据局", Role::DataOfficer);
    for (i, d) in DEPTS.iter().enumerate() {
        b = b
            .dept(d, "690100")
            .user(&format!("off{i}"), d, Role::DataOfficer);
    }
    let city = b.build(db.clone()).await;
    let sharing = sharing::SharingService::new(db.clone());
    sharing
        .set_bureau(city.actor("admin"), city.dept("数据局"))
        .await
        .unwrap();

    // N open datasets: 编目 → 提交 → 审核 → 挂接, untimed.
    let t = Instant::now();
    let mut seed: u64 = 0x5eed;
    let mut next = move |m: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % m
    };
    for i in 0..n_sets {
        let d = next(DEPTS.len());
        let topic = TOPICS[next(TOPICS.len())];
        let year = 2018 + next(7);
        let kind = ["名录", "月度统计", "年度汇总", "实时数据", "分布信息"][next(5)];
        let name = format!("{}{}{}{}（{}）", DEPTS[d], year, "年", topic, kind);
        let summary = format!(
            "{}按{}公开的{}{}，含名称、所在区县和统计日期，第{}号。",
            DEPTS[d],
            ["月", "季", "年"][next(3)],
            topic,
            kind,
            i + 1
        );
        let who = city.actor(&format!("off{d}"));
        let v = sharing
            .create_entry(
                who,
                serde_json::from_value(entry(&name, &summary, small_items(topic))).unwrap(),
            )
            .await
            .unwrap();
        sharing.submit_entry(who, v.entry.id, 1).await.unwrap();
        sharing
            .review_entry(city.actor("b_off"), v.entry.id, 1, true, "")
            .await
            .unwrap();
        sharing
            .mount_table(who, v.entry.id, "", "full")
            .await
            .unwrap();
    }
    let setup_sets = t.elapsed().as_secs_f64();

    let mut cfg = kernel::config::Config::default();
    cfg.log.filter = "warn".into();
    let s = web::start(web::context(db.clone(), cfg), "127.0.0.1:0")
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let search = |q: &str| {
        let url = format!(
            "{}/api/3/action/package_search?q={}&rows=10&facet.field=[\"organization\",\"groups\",\"tags\"]",
            s.url(),
            q
        );
        let c = client.clone();
        async move {
            let v: Value = c.get(url).send().await.unwrap().json().await.unwrap();
            assert_eq!(v["success"], true, "{v}");
            v["result"]["count"].as_u64().unwrap()
        }
    };
    // The first search builds the index; it is reported alone.
    let t = Instant::now();
    let first = search(QUERIES[0]).await;
    let first_ms = t.elapsed().as_secs_f64() * 1e3;
    let mut lat = Vec::with_capacity(n_search);
    let mut found = 0u64;
    for i in 0..n_search {
        let t = Instant::now();
        found += search(QUERIES[i % QUERIES.len()]).await;
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());

    // The same words as a LIKE scan over the published titles and summaries.
    let raw = rusqlite::Connection::open(&path).unwrap();
    let texts: Vec<(String, String)> = {
        let mut st = raw
            .prepare("SELECT content FROM sharing_entry_versions WHERE status = 'published'")
            .unwrap();
        st.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(|c| {
                let v: Value = serde_json::from_str(&c.unwrap()).unwrap();
                (
                    v["name"].as_str().unwrap_or("").to_owned(),
                    v["summary"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    };
    raw.execute_batch("CREATE TEMP TABLE t (title TEXT, notes TEXT);")
        .unwrap();
    {
        let mut ins = raw.prepare("INSERT INTO t VALUES (?1, ?2)").unwrap();
        for (a, b) in &texts {
            ins.execute([a, b]).unwrap();
        }
    }
    let mut like = Vec::with_capacity(n_search);
    for i in 0..n_search {
        let words: Vec<&str> = QUERIES[i % QUERIES.len()].split(' ').collect();
        let cond: Vec<String> = words
            .iter()
            .map(|w| format!("(title LIKE '%{w}%' OR notes LIKE '%{w}%')"))
            .collect();
        let t = Instant::now();
        let _n: i64 = raw
            .query_row(
                &format!("SELECT COUNT(*) FROM t WHERE {}", cond.join(" OR ")),
                [],
                |r| r.get(0),
            )
            .unwrap();
        let mut st = raw
            .prepare_cached(&format!(
                "SELECT title FROM t WHERE {} LIMIT 10",
                cond.join(" OR ")
            ))
            .unwrap();
        let _rows: Vec<String> = st
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        like.push(t.elapsed().as_secs_f64() * 1e3);
    }
    like.sort_by(|a, b| a.partial_cmp(b).unwrap());

    println!(
        "open data on SQLite (WAL), {n_sets} datasets ({setup_sets:.0} s to make), {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!(
        "package_search over HTTP          first {first_ms:.1} ms ({first} found)   p50 {:.2} ms   p99 {:.2} ms   max {:.2} ms   ({} results in all)",
        percentile(&lat, 50.0),
        percentile(&lat, 99.0),
        lat.last().unwrap(),
        found
    );
    println!(
        "LIKE scan of titles and summaries p50 {:.2} ms   p99 {:.2} ms   (no ranking, no facets, no HTTP)",
        percentile(&like, 50.0),
        percentile(&like, 99.0)
    );
    println!(
        "search ratio (p99 ours / p99 LIKE): {:.2}×",
        percentile(&lat, 99.0) / percentile(&like, 99.0)
    );
    // One table of M rows, open, mounted and filled (untimed).
    let t = Instant::now();
    let who = city.actor("off0");
    let v = sharing
        .create_entry(
            who,
            serde_json::from_value(entry(
                "市场主体登记信息",
                "全市市场主体的统一社会信用代码、名称、注册资本、成立日期和所在区县",
                json!([
                    {"name": "统一社会信用代码", "field": "uscc", "data_type": "char", "length": 18, "primary_key": true, "semantic": "credit_code"},
                    {"name": "企业名称", "field": "name", "data_type": "char", "length": 100},
                    {"name": "注册资本", "field": "capital", "data_type": "decimal", "length": 14, "scale": 2},
                    {"name": "成立日期", "field": "founded", "data_type": "date"},
                    {"name": "所在区县", "field": "district", "data_type": "char", "length": 20}
                ]),
            ))
            .unwrap(),
        )
        .await
        .unwrap();
    sharing.submit_entry(who, v.entry.id, 1).await.unwrap();
    sharing
        .review_entry(city.actor("b_off"), v.entry.id, 1, true, "")
        .await
        .unwrap();
    let r = sharing
        .mount_table(who, v.entry.id, "", "full")
        .await
        .unwrap();
    for start in (0..n_rows).step_by(5000) {
        let rows: Vec<Map<String, Value>> = (start..(start + 5000).min(n_rows))
            .map(|i| {
                let (town, district) = (
                    ["东湖", "西湖", "青山", "洪都"][i % 4],
                    ["A1区", "A2区", "A3县", "A4县"][i % 4],
                );
                json!({
                    "uscc": kernel::codes::credit_code_with_check(&format!("91690100{:09}", i)),
                    "name": format!("A市{town}金桥科技{i}有限公司"),
                    "capital": format!("{}.{:02}", 10 + i % 5000, i % 100),
                    "founded": format!("{}-{:02}-{:02}", 1995 + i % 30, 1 + i % 12, 1 + i % 28),
                    "district": district
                })
                .as_object()
                .unwrap()
                .clone()
            })
            .collect();
        let rep = sharing
            .push_rows(who, &r.resource.code, rows)
            .await
            .unwrap();
        assert!(rep.errors.is_empty(), "{:?}", rep.errors);
    }
    let setup_rows = t.elapsed().as_secs_f64();
    println!("{n_rows} rows loaded in {setup_rows:.0} s");
    let code = r.resource.code.clone();

    // The download, as a browser or `curl` takes it: the whole body, counted as it streams.
    let t = Instant::now();
    let mut resp = client
        .get(format!("{}/opendata/download/{code}.csv", s.url()))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let (mut bytes, mut lines) = (0usize, 0usize);
    while let Some(chunk) = resp.chunk().await.unwrap() {
        bytes += chunk.len();
        lines += chunk.iter().filter(|b| **b == b'\n').count();
    }
    let ours = t.elapsed().as_secs_f64();
    assert_eq!(lines, n_rows + 1, "header and every row");

    // sqlite3 -csv: the same five columns of the same rows, read from the JSON the table keeps.
    let sql = format!(
        "SELECT json_extract(data, '$.uscc'), json_extract(data, '$.name'), json_extract(data, '$.capital'), \
         json_extract(data, '$.founded'), json_extract(data, '$.district') FROM sharing_rows \
         WHERE resource_id = {} ORDER BY id",
        r.resource.id
    );
    let t = Instant::now();
    let out = std::process::Command::new("sqlite3")
        .args(["-csv", "-readonly", path.to_str().unwrap(), &sql])
        .output()
        .expect("sqlite3 (Debian package sqlite3) must be installed for this comparison");
    let theirs = t.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let their_lines = out.stdout.iter().filter(|b| **b == b'\n').count();
    assert_eq!(their_lines, n_rows);

    let mb = |b: usize, s: f64| b as f64 / 1e6 / s;
    println!(
        "CSV download over HTTP            {:.1} MB in {ours:.2} s = {:.1} MB/s, {:.0} rows/s",
        bytes as f64 / 1e6,
        mb(bytes, ours),
        n_rows as f64 / ours
    );
    println!(
        "sqlite3 -csv of the same columns  {:.1} MB in {theirs:.2} s = {:.1} MB/s, {:.0} rows/s",
        out.stdout.len() as f64 / 1e6,
        mb(out.stdout.len(), theirs),
        n_rows as f64 / theirs
    );
    println!(
        "download ratio (our time per row / sqlite3's): {:.2}×",
        ours / theirs
    );
}
