//! Batch classification throughput of the nlp crate alone (what `yiwang hotline classify` does
//! without its CSV layer): `cargo run --release -p nlp --example classify_rows -- MODEL ROWS_CSV
//! [one]` — MODEL from `yiwang hotline train --out`, ROWS_CSV with title and detail columns
//! (`bench/nlp/make_rows.py`); `one` predicts one message at a time on one thread instead.

use nlp::model::{message_text, Model};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let model = Model::from_bytes(&std::fs::read(&args[1]).expect("model")).expect("model");
    let mut r = csv::Reader::from_path(&args[2]).expect("rows");
    let h = r.headers().expect("headers").clone();
    let col = |n: &str| h.iter().position(|x| x == n).expect(n);
    let (title, detail) = (col("title"), col("detail"));
    let mut bytes = 0;
    let texts: Vec<String> = r
        .records()
        .map(|rec| {
            let rec = rec.expect("row");
            bytes += rec[title].len() + rec[detail].len();
            message_text(&rec[title], &rec[detail])
        })
        .collect();
    let one = args.get(3).is_some_and(|a| a == "one");
    let t = Instant::now();
    let p = if one {
        texts.iter().map(|t| model.predict(t)).collect()
    } else {
        model.predict_batch(&texts)
    };
    let s = t.elapsed().as_secs_f64();
    println!(
        "{} rows, {:.1} MB of title + detail, {} in {s:.2} s: {:.1} MB/s ({} explained)",
        p.len(),
        bytes as f64 / 1e6,
        if one { "one by one" } else { "batch" },
        bytes as f64 / 1e6 / s,
        p.iter().filter(|p| !p.explanation.is_empty()).count()
    );
}
