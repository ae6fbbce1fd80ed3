//! Segmentation throughput against Python jieba on the shared real messages, in one run.
//!
//! `cargo run --release -p nlp --example segmentation -- [DATA_DIR]` — Python's jieba is
//! installed from PyPI with pip when missing (`bench/nlp/jieba_seg.py` does the Python side).
//! The same measurement is part of `cargo run --release -p bench --bin intel`; this example
//! builds in a fraction of the time because it needs only the `nlp` crate.

use nlp::text::Segmenter;
use std::io::Write;
use std::process::Command;
use std::time::Instant;

fn main() {
    let data = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/hotline").into()
    });
    let mut texts = Vec::new();
    for f in [
        "labeled.csv",
        "unlabeled.csv",
        "messages_with_votes.csv",
        "messages_with_replies.csv",
    ] {
        let path = std::path::Path::new(&data).join(f);
        let Ok(mut rd) = csv::Reader::from_path(&path) else {
            eprintln!("skipped {}", path.display());
            continue;
        };
        let h = rd.headers().unwrap().clone();
        let col = |n: &str| h.iter().position(|x| x == n);
        let (ti, di) = (col("title"), col("detail"));
        for r in rd.records().flatten() {
            let get = |i: Option<usize>| i.and_then(|i| r.get(i)).unwrap_or("");
            let t = format!("{} {}", get(ti), get(di)).replace(['\n', '\r'], " ");
            if !t.trim().is_empty() {
                texts.push(t);
            }
        }
    }
    let chars: usize = texts.iter().map(|t| t.chars().count()).sum();
    println!("{} real messages, {chars} characters", texts.len());
    let seg = Segmenter::new();
    let mut words = 0usize;
    for t in &texts {
        words += seg.tokens(t).len();
    }
    let rounds = 5;
    let t0 = Instant::now();
    for _ in 0..rounds {
        for t in &texts {
            words += std::hint::black_box(seg.tokens(t)).len();
        }
    }
    let s = t0.elapsed().as_secs_f64();
    let rust = (chars * rounds) as f64 / s;
    println!("yiwang nlp (jieba-rs: normalise + cut + stop words) {rust:>12.0} chars/s ({rounds} rounds, {s:.2} s, {words} words)");
    let have = |c: &mut Command| c.status().map(|s| s.success()).unwrap_or(false);
    if !have(Command::new("python3").args(["-c", "import jieba"]))
        && !have(Command::new("python3").args(["-m", "pip", "install", "--quiet", "jieba"]))
    {
        println!("Python jieba not available: no ratio");
        return;
    }
    let file = std::env::temp_dir().join(format!("yiwang-seg-{}.txt", std::process::id()));
    let mut f = std::fs::File::create(&file).unwrap();
    for t in &texts {
        writeln!(f, "{t}").unwrap();
    }
    drop(f);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/nlp/jieba_seg.py");
    let out = Command::new("python3")
        .args([script, file.to_str().unwrap(), "1"])
        .output()
        .expect("python3");
    let _ = std::fs::remove_file(&file);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("jieba_seg.py output");
    let py = v["chars"].as_f64().unwrap() / v["seconds"].as_f64().unwrap();
    println!(
        "Python jieba (lcut, HMM)                            {py:>12.0} chars/s (1 round, {:.2} s)",
        v["seconds"].as_f64().unwrap()
    );
    println!("ratio: {:.1}×", rust / py);
}
