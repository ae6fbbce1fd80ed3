//! Batch prediction (`Model::predict_batch`, both cores, reused buffers) gives exactly what
//! one-by-one prediction gives, on real messages from `../shared/data/hotline`.

use nlp::model::{message_text, train, TrainOptions};

fn rows(name: &str) -> Vec<csv::StringRecord> {
    let path = format!(
        "{}/../../../shared/data/hotline/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut r = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    r.records().map(|rec| rec.unwrap()).collect()
}

#[test]
fn batch_equals_one_by_one_on_real_rows() {
    // labeled.csv: id,user,title,time,detail,category; categories.csv: level1,level2,level3.
    let labeled: Vec<(String, String)> = rows("labeled.csv")
        .iter()
        .map(|r| (message_text(&r[2], &r[4]), r[5].to_string()))
        .collect();
    let taxonomy: Vec<(String, String, String)> = rows("categories.csv")
        .iter()
        .map(|r| (r[0].to_string(), r[1].to_string(), r[2].to_string()))
        .collect();
    let opts = TrainOptions {
        self_training_rounds: 0,
        holdout_fraction: 0.0,
        ..TrainOptions::default()
    };
    let model = train(&labeled, &[], &taxonomy, &opts);

    // Messages the model has not seen (votes file: id,user,title,time,detail,...), plus an
    // empty message and one with no Chinese at all.
    let mut texts: Vec<String> = rows("messages_with_votes.csv")
        .iter()
        .take(300)
        .map(|r| message_text(&r[2], &r[4]))
        .collect();
    texts.push(String::new());
    texts.push("hello 123".into());
    let batch = model.predict_batch(&texts);
    assert_eq!(batch.len(), texts.len());
    for (t, b) in texts.iter().zip(&batch) {
        assert_eq!(*b, model.predict(t), "{t}");
    }
    assert!(batch.iter().filter(|p| !p.explanation.is_empty()).count() > 250);
}
