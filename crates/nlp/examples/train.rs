//! Trains the full model on all of labeled.csv (with the held-out measurement), then reports
//! its size, training time, single-message latency (p50/p99) and a few explained predictions.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-nlp cargo run --release -p nlp --example train -- \
//!     [DATA_DIR (../shared/data/hotline)] [MODEL_OUT]
//! ```

use nlp::model::{message_text, train, Model, TrainOptions};
use std::time::Instant;

fn read(path: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let headers = r.headers().expect("headers").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args
        .get(1)
        .cloned()
        .unwrap_or("../shared/data/hotline".into());
    let text =
        |r: &std::collections::HashMap<String, String>| message_text(&r["title"], &r["detail"]);
    let labeled: Vec<(String, String)> = read(&format!("{dir}/labeled.csv"))
        .iter()
        .map(|r| (text(r), r["category"].clone()))
        .collect();
    let mut unlabeled: Vec<String> = Vec::new();
    for f in ["unlabeled", "messages_with_votes", "messages_with_replies"] {
        unlabeled.extend(read(&format!("{dir}/{f}.csv")).iter().map(text));
    }
    let taxonomy: Vec<(String, String, String)> = read(&format!("{dir}/categories.csv"))
        .iter()
        .map(|r| {
            (
                r["level1"].clone(),
                r["level2"].clone(),
                r["level3"].clone(),
            )
        })
        .collect();

    let t0 = Instant::now();
    let model = train(
        &labeled,
        &unlabeled,
        &taxonomy,
        &TrainOptions {
            version: "example".into(),
            ..TrainOptions::default()
        },
    );
    println!(
        "trained in {:.1} s (held-out fit + final fit), {} features, {} pseudo-labels",
        t0.elapsed().as_secs_f64(),
        model.vectorizer.dim(),
        model.n_pseudo_labeled
    );
    if let Some(h) = &model.holdout {
        println!(
            "held-out: n {} accuracy {:.4} macro-F1 {:.4}",
            h.n, h.accuracy, h.macro_f1
        );
    }
    println!("temperature {:.3}", model.levels[0].calibration.temperature);
    let t1 = Instant::now();
    let bytes = model.to_bytes().expect("serialise");
    let model = Model::from_bytes(&bytes).expect("deserialise");
    println!(
        "model {:.1} MB, serialise + load {:.0} ms",
        bytes.len() as f64 / 1e6,
        t1.elapsed().as_secs_f64() * 1e3
    );
    if let Some(out) = args.get(2) {
        std::fs::write(out, &bytes).expect("write model");
    }
    // The first prediction builds the segmenter; time it apart.
    let t2 = Instant::now();
    model.predict(&unlabeled[0]);
    println!(
        "first prediction (segmenter load) {:.0} ms",
        t2.elapsed().as_secs_f64() * 1e3
    );
    let mut lat: Vec<f64> = unlabeled
        .iter()
        .take(2000)
        .map(|t| {
            let s = Instant::now();
            std::hint::black_box(model.predict(t));
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    lat.sort_by(f64::total_cmp);
    println!(
        "single prediction: p50 {:.3} ms, p99 {:.3} ms (n {})",
        lat[lat.len() / 2],
        lat[lat.len() * 99 / 100],
        lat.len()
    );
    // The longest messages bound the tail: time them apart from machine noise.
    let mut longest: Vec<&String> = unlabeled.iter().collect();
    longest.sort_by_key(|t| std::cmp::Reverse(t.chars().count()));
    let s = Instant::now();
    for t in longest.iter().take(20) {
        std::hint::black_box(model.predict(t));
    }
    println!(
        "20 longest messages ({}+ characters): {:.3} ms each",
        longest[19].chars().count(),
        s.elapsed().as_secs_f64() * 1e3 / 20.0
    );
    for t in unlabeled.iter().step_by(997).take(5) {
        let p = model.predict(t);
        let title: String = t.chars().take(30).collect();
        println!("{title}… → {:?}\n    because {:?}", p.top3, p.explanation);
    }
}
