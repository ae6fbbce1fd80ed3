//! 5-fold stratified cross-validation on the shared hotline data: the plain TF-IDF + linear SVM
//! baseline against the full model (taxonomy seeds, self-training, words + char n-grams).
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-nlp cargo run --release -p nlp --example cv -- \
//!     [DATA_DIR (../shared/data/hotline)] [FOLDS_OUT (artifacts/nlp-cv-folds.csv)]
//! ```
//!
//! FOLDS_OUT gets `id,fold` for every labeled row so scikit-learn can be run on the same folds
//! (see `bench/nlp/sklearn_baseline.py`). Experiment knobs come from the environment:
//! `NLP_C`, `NLP_ROUNDS`, `NLP_PER_CLASS`, `NLP_PSEUDO_W`, `NLP_MIN_PROB`, `NLP_SEED_W`,
//! `NLP_CHAR_MIN`, `NLP_CHAR_MAX`, `NLP_BALANCED`, `NLP_BIGRAMS`, `NLP_MIN_DF`, `NLP_MAX_CHARS`, `NLP_MAX_FEATURES`,
//! `NLP_ONLY_FULL`.

use nlp::model::{message_text, stratified_folds, train, Evaluation, TrainOptions};
use std::time::Instant;

type Rows = Vec<std::collections::HashMap<String, String>>;

fn read(path: &str) -> Rows {
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

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0).max(1.0);
    (m, var.sqrt())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args
        .get(1)
        .cloned()
        .unwrap_or("../shared/data/hotline".into());
    let folds_out = args
        .get(2)
        .cloned()
        .unwrap_or("artifacts/nlp-cv-folds.csv".into());

    let labeled_rows = read(&format!("{dir}/labeled.csv"));
    let labeled: Vec<(String, String)> = labeled_rows
        .iter()
        .map(|r| {
            (
                message_text(&r["title"], &r["detail"]),
                r["category"].clone(),
            )
        })
        .collect();
    let mut unlabeled: Vec<String> = Vec::new();
    for f in ["unlabeled", "messages_with_votes", "messages_with_replies"] {
        unlabeled.extend(
            read(&format!("{dir}/{f}.csv"))
                .iter()
                .map(|r| message_text(&r["title"], &r["detail"])),
        );
    }
    unlabeled.sort();
    unlabeled.dedup();
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

    let labels: Vec<String> = labeled.iter().map(|(_, l)| l.clone()).collect();
    let k = 5;
    let fold = stratified_folds(&labels, k, 20261121);
    let mut out = String::from("id,fold\n");
    for (r, f) in labeled_rows.iter().zip(&fold) {
        out.push_str(&format!("{},{}\n", r["id"], f));
    }
    if let Some(parent) = std::path::Path::new(&folds_out).parent() {
        std::fs::create_dir_all(parent).ok();
    }
    std::fs::write(&folds_out, out).expect("write folds");
    println!(
        "{} labeled, {} unlabeled, {} taxonomy rows; folds written to {folds_out}",
        labeled.len(),
        unlabeled.len(),
        taxonomy.len()
    );

    let mut full = TrainOptions {
        holdout_fraction: 0.0,
        ..TrainOptions::default()
    };
    full.svm.c = env("NLP_C", full.svm.c);
    full.svm.balanced = env("NLP_BALANCED", full.svm.balanced);
    full.self_training_rounds = env("NLP_ROUNDS", full.self_training_rounds);
    full.pseudo_per_class = env("NLP_PER_CLASS", full.pseudo_per_class);
    full.pseudo_weight = env("NLP_PSEUDO_W", full.pseudo_weight);
    full.pseudo_min_prob = env("NLP_MIN_PROB", full.pseudo_min_prob);
    full.seed_weight = env("NLP_SEED_W", full.seed_weight);
    full.features.char_min = env("NLP_CHAR_MIN", full.features.char_min);
    full.features.char_max = env("NLP_CHAR_MAX", full.features.char_max);
    full.features.word_bigrams = env("NLP_BIGRAMS", full.features.word_bigrams);
    full.features.min_df = env("NLP_MIN_DF", full.features.min_df);
    full.features.max_chars = env("NLP_MAX_CHARS", full.features.max_chars);
    full.features.max_features = env("NLP_MAX_FEATURES", full.features.max_features);
    let baseline = TrainOptions {
        holdout_fraction: 0.0,
        calibration_folds: 0,
        ..TrainOptions::baseline()
    };
    let mut configs = vec![("full", full)];
    if !env("NLP_ONLY_FULL", false) {
        configs.insert(0, ("baseline", baseline));
    }

    for (name, opts) in configs {
        let mut f1s = Vec::new();
        let mut accs = Vec::new();
        let mut truth_all = Vec::new();
        let mut pred_all = Vec::new();
        let mut train_secs = Vec::new();
        // Calibration check: mean top-1 probability against the share of correct top-1s.
        let (mut conf_sum, mut n_pred) = (0.0f64, 0usize);
        for f in 0..k {
            let tr: Vec<(String, String)> = (0..labeled.len())
                .filter(|&i| fold[i] != f)
                .map(|i| labeled[i].clone())
                .collect();
            let te: Vec<&(String, String)> = (0..labeled.len())
                .filter(|&i| fold[i] == f)
                .map(|i| &labeled[i])
                .collect();
            // The baseline sees labels only, as scikit-learn's TF-IDF + LinearSVC would.
            let unl: &[String] = if name == "baseline" { &[] } else { &unlabeled };
            let tax: &[(String, String, String)] = if name == "baseline" { &[] } else { &taxonomy };
            let t0 = Instant::now();
            let model = train(&tr, unl, tax, &opts);
            train_secs.push(t0.elapsed().as_secs_f64());
            let truth: Vec<String> = te.iter().map(|(_, l)| l.clone()).collect();
            let t1 = Instant::now();
            let pred: Vec<String> = te
                .iter()
                .map(|(t, _)| {
                    let p = model.predict(t);
                    conf_sum += p.confidence() as f64;
                    n_pred += 1;
                    p.label().to_string()
                })
                .collect();
            let per_msg = t1.elapsed().as_secs_f64() / te.len() as f64;
            let e = Evaluation::from_pairs(&truth, &pred);
            println!(
                "{name} fold {f}: macro-F1 {:.4} accuracy {:.4} (train {:.1} s, {} pseudo-labels, predict {:.2} ms/message)",
                e.macro_f1,
                e.accuracy,
                train_secs[f],
                model.n_pseudo_labeled,
                per_msg * 1e3
            );
            f1s.push(e.macro_f1);
            accs.push(e.accuracy);
            truth_all.extend(truth);
            pred_all.extend(pred);
        }
        let (m, sd) = mean_sd(&f1s);
        let (am, asd) = mean_sd(&accs);
        println!(
            "{name}: macro-F1 {m:.4} ± {sd:.4}, accuracy {am:.4} ± {asd:.4}, mean train {:.1} s",
            train_secs.iter().sum::<f64>() / k as f64
        );
        let pooled = Evaluation::from_pairs(&truth_all, &pred_all);
        println!(
            "  calibration: mean top-1 probability {:.3} vs accuracy {:.3}",
            conf_sum / n_pred as f64,
            pooled.accuracy
        );
        for c in &pooled.per_class {
            println!(
                "  {:<8} P {:.3} R {:.3} F1 {:.3} n {}",
                c.label, c.precision, c.recall, c.f1, c.support
            );
        }
    }
}
