//! Hotline text intelligence, measured (run by hand, never in CI):
//!
//! 1. Segmentation throughput of `nlp::text::Segmenter` (jieba-rs, HMM on) against Python jieba
//!    (`bench/nlp/jieba_seg.py`, jieba installed from PyPI with pip if missing) on the shared real
//!    messages, in one run, printing the ratio.
//! 2. Knowledge-base search latency (p50/p99) over a generated KB of 2,000 published articles:
//!    the tantivy index alone, and the whole `SearchService::kb_search` on SQLite (the change
//!    counter check included), as an operator's request sees it.
//!
//! `cargo run --release -p bench --bin intel -- [DATA_DIR]`

use hotline::search::kb::{KbDoc, KbIndex};
use hotline::search::SearchService;
use nlp::text::Segmenter;
use std::io::Write;
use std::process::Command;
use std::time::Instant;

fn main() {
    let data = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/hotline").into()
    });
    segmentation(&data);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(kb_search());
}

fn messages(data: &str) -> Vec<String> {
    let mut out = Vec::new();
    for f in [
        "labeled.csv",
        "unlabeled.csv",
        "messages_with_votes.csv",
        "messages_with_replies.csv",
    ] {
        let path = std::path::Path::new(data).join(f);
        let Ok(sheet) = tabular::read_path(&path) else {
            eprintln!("skipped {}", path.display());
            continue;
        };
        let title = sheet.column(&["留言主题", "title"]);
        let detail = sheet.column(&["留言详情", "detail"]);
        for row in &sheet.rows {
            let t = format!("{} {}", row.get(title), row.get(detail));
            let t = t.replace(['\n', '\r'], " ");
            if !t.trim().is_empty() {
                out.push(t);
            }
        }
    }
    out
}

fn ensure_python_jieba() -> bool {
    let ok = |c: &mut Command| c.status().map(|s| s.success()).unwrap_or(false);
    if ok(Command::new("python3").args(["-c", "import jieba"])) {
        return true;
    }
    eprintln!("installing jieba from PyPI (pip) …");
    ok(Command::new("python3").args(["-m", "pip", "install", "--quiet", "jieba"]))
}

fn segmentation(data: &str) {
    let texts = messages(data);
    let chars: usize = texts.iter().map(|t| t.chars().count()).sum();
    println!(
        "segmentation: {} real messages, {} characters ({data})",
        texts.len(),
        chars
    );
    let seg = Segmenter::new();
    // Warm-up, then as many rounds as fit in about three seconds.
    let t0 = Instant::now();
    let mut words = 0usize;
    for t in &texts {
        words += seg.tokens(t).len();
    }
    let one = t0.elapsed().as_secs_f64();
    let rounds = ((3.0 / one).ceil() as usize).clamp(1, 50);
    let t0 = Instant::now();
    for _ in 0..rounds {
        for t in &texts {
            words += std::hint::black_box(seg.tokens(t)).len();
        }
    }
    let rust_s = t0.elapsed().as_secs_f64();
    let rust_cps = (chars * rounds) as f64 / rust_s;
    println!(
        "  yiwang nlp (jieba-rs, normalise + cut + stop words)  {:>10.0} chars/s  ({rounds} rounds, {:.2} s, {words} words)",
        rust_cps, rust_s
    );
    if !ensure_python_jieba() {
        println!("  Python jieba: not available (pip install failed); no ratio");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("texts.txt");
    let mut f = std::fs::File::create(&file).unwrap();
    for t in &texts {
        writeln!(f, "{t}").unwrap();
    }
    drop(f);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/nlp/jieba_seg.py");
    let out = Command::new("python3")
        .args([script, file.to_str().unwrap(), "1"])
        .output()
        .expect("python3");
    if !out.status.success() {
        println!(
            "  Python jieba failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let py_cps = v["chars"].as_f64().unwrap() / v["seconds"].as_f64().unwrap();
    println!(
        "  Python jieba (lcut, HMM)                              {:>10.0} chars/s  (1 round, {:.2} s)",
        py_cps,
        v["seconds"].as_f64().unwrap()
    );
    println!("  ratio: {:.1}× faster", rust_cps / py_cps);
}

// ---- knowledge base ----

const TOPICS: &[(&str, &str, &str)] = &[
    (
        "提取住房公积金",
        "购房合同、身份证、银行卡",
        "住房公积金管理中心",
    ),
    (
        "办理新生儿医保参保登记",
        "出生医学证明、户口簿",
        "医疗保障局",
    ),
    ("申领居民身份证", "户口簿、近期照片", "公安局户政窗口"),
    (
        "办理营业执照",
        "名称核准通知书、经营场所证明",
        "市场监督管理局",
    ),
    (
        "申请廉租住房",
        "收入证明、户籍证明、住房情况证明",
        "住房保障中心",
    ),
    ("补办社会保障卡", "身份证、挂失证明", "人力资源和社会保障局"),
    ("申请失业保险金", "解除劳动合同证明、身份证", "就业服务中心"),
    ("办理居住证", "租房合同、身份证", "派出所"),
    ("申请残疾人补贴", "残疾人证、户口簿", "残疾人联合会"),
    ("办理不动产登记", "购房合同、完税证明", "不动产登记中心"),
    ("申请最低生活保障", "家庭收入证明、户口簿", "民政局"),
    ("办理出入境证件", "身份证、照片", "出入境管理处"),
    ("申请燃气开户", "房产证、身份证", "燃气公司营业厅"),
    ("办理新能源车牌照", "购车发票、合格证", "车辆管理所"),
    ("申请创业担保贷款", "营业执照、创业计划书", "就业服务中心"),
    ("办理独生子女证", "结婚证、出生证明", "卫生健康委员会"),
    ("申请高龄津贴", "身份证、户口簿", "街道民政所"),
    ("办理电动自行车登记", "购车发票、身份证", "交警大队"),
    ("申请公租房", "收入证明、无房证明", "住房保障中心"),
    (
        "办理个体工商户注销",
        "营业执照正副本、清税证明",
        "市场监督管理局",
    ),
];
const WHO: &[&str] = &[
    "本市户籍居民",
    "外地来本市务工人员",
    "退休职工",
    "灵活就业人员",
    "在校大学生",
    "企业职工",
    "个体工商户",
    "农村居民",
    "港澳台居民",
    "现役军人家属",
];
const CHANNEL: &[&str] = &[
    "政务服务大厅",
    "网上办事大厅",
    "手机政务App",
    "街道便民服务中心",
    "自助服务终端",
    "社区服务站",
    "微信公众号",
    "12345热线预约",
    "邮寄申请",
    "委托代办",
];

/// 20 topics × 10 applicants × 10 channels = 2,000 distinct articles.
fn generated_kb() -> Vec<KbDoc> {
    let mut out = Vec::new();
    let mut id = 0;
    for (topic, papers, office) in TOPICS {
        for who in WHO {
            for ch in CHANNEL {
                id += 1;
                out.push(KbDoc {
                    id,
                    title: format!("{who}如何通过{ch}{topic}"),
                    body: format!(
                        "{who}{topic}，可通过{ch}提交申请，需携带或上传{papers}等材料，由{office}受理。\
                         材料齐全的当场受理，一般在五个工作日内办结；材料不全的一次性告知需补正的内容。\
                         办理进度可在网上办事大厅查询，如有疑问可拨打12345热线咨询。"
                    ),
                    keywords: format!("政务服务 {office}"),
                    valid_from: None,
                    valid_until: None,
                });
            }
        }
    }
    out
}

const QUERIES: &[&str] = &[
    "公积金怎么取出来",
    "孩子刚出生医保怎么办",
    "身份证丢了怎么补办",
    "开公司要什么材料",
    "低保怎么申请",
    "社保卡补办要多久",
    "失业金在哪领",
    "外地人怎么办居住证",
    "残疾补贴怎么领取",
    "买房以后怎么办房产证",
    "网上能不能办营业执照",
    "退休了能申请公租房吗",
    "电动车上牌需要什么",
    "燃气开户去哪里",
    "个体户注销流程",
    "大学生创业贷款",
    "护照在哪里办",
    "八十岁老人有什么补贴",
    "新能源车上牌",
    "廉租房申请条件",
];

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn kb_search() {
    let docs = generated_kb();
    let t0 = Instant::now();
    let ix = KbIndex::build(1, &docs, &[]).unwrap();
    println!(
        "\nknowledge-base search: {} generated articles, index built in {:.0} ms",
        docs.len(),
        t0.elapsed().as_secs_f64() * 1000.0
    );
    let mut lat = Vec::new();
    let mut found = 0;
    for round in 0..50 {
        for q in QUERIES {
            let t = Instant::now();
            let hits = ix.search(q, 5, "2026-03-16").unwrap();
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
            if round == 0 && !hits.is_empty() {
                found += 1;
            }
        }
    }
    println!(
        "  tantivy + jieba index alone     {} queries   p50 {:>6.2} ms   p99 {:>6.2} ms   ({found}/{} questions answered)",
        lat.len(),
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99),
        QUERIES.len()
    );
    // The whole service on SQLite: change-counter check, cached index, search.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("kb.db").display());
    let db = kernel::Db::connect(&url).await.unwrap();
    kernel::migrate::run(&db, &hotline::migrations())
        .await
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    for d in &docs {
        sqlx::query(
            "INSERT INTO hotline_kb_articles (question, answer, status, version, created_at, updated_at)
             VALUES ($1, $2, 'published', 1, 0, 0)",
        )
        .bind(&d.title)
        .bind(&d.body)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let svc = SearchService::new(db.clone());
    let actor = kernel::Actor {
        roles: vec![kernel::Role::Operator],
        ..kernel::Actor::cli()
    };
    let t0 = Instant::now();
    svc.kb_search(&actor, "公积金", 5).await.unwrap();
    println!(
        "  first search (loads 2,000 articles from SQLite and builds the index): {:.0} ms",
        t0.elapsed().as_secs_f64() * 1000.0
    );
    let mut lat = Vec::new();
    for _ in 0..50 {
        for q in QUERIES {
            let t = Instant::now();
            std::hint::black_box(svc.kb_search(&actor, q, 5).await.unwrap());
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    println!(
        "  SearchService::kb_search on SQLite  {} queries   p50 {:>6.2} ms   p99 {:>6.2} ms   (aim: under 50 ms)",
        lat.len(),
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99)
    );
}
