//! The classification API on small synthetic data: hierarchy, probabilities, explanations,
//! evaluation and the promotion rule.

use nlp::model::{evaluate, is_not_worse, train, Evaluation, TrainOptions};

fn rows() -> Vec<(String, String)> {
    let mut v = Vec::new();
    for i in 0..6 {
        v.push((
            format!("小区{i}号楼下水道堵塞污水外溢"),
            "城乡建设/城市建设和市政管理/市政设施".to_string(),
        ));
        v.push((
            format!("{i}号小区物业乱收停车费"),
            "城乡建设/住房保障和房地产/物业管理".to_string(),
        ));
        v.push((
            format!("{i}号学校违规补课收费"),
            "教育文体/教育/学校管理".to_string(),
        ));
        v.push((
            format!("幼儿园{i}班学费上涨太快"),
            "教育文体/教育/学前教育".to_string(),
        ));
    }
    v
}

fn opts() -> TrainOptions {
    TrainOptions {
        holdout_fraction: 0.0,
        calibration_folds: 0,
        min_level_support: 2,
        ..TrainOptions::default()
    }
}

#[test]
fn predicts_every_level_that_has_labels() {
    let m = train(&rows(), &[], &[], &opts());
    assert_eq!(m.levels.len(), 3);
    let p = m.predict("我家小区物业公司乱收停车费");
    assert_eq!(p.label(), "城乡建设");
    assert_eq!(p.path.len(), 3);
    assert_eq!(p.path[2].0, "城乡建设/住房保障和房地产/物业管理");
    assert!(p
        .explanation
        .iter()
        .any(|(t, _)| t.contains("物业") || t.contains("停车")));
    let sum: f32 = p.top3.iter().map(|t| t.1).sum();
    assert!(
        (sum - 1.0).abs() < 1e-4,
        "two classes: top-3 holds all the mass"
    );
}

#[test]
fn level_one_only_labels_give_a_one_level_model() {
    let flat: Vec<(String, String)> = rows()
        .into_iter()
        .map(|(t, l)| (t, l.split('/').next().unwrap().to_string()))
        .collect();
    let m = train(&flat, &[], &[], &opts());
    assert_eq!(m.levels.len(), 1);
    assert_eq!(m.predict("学校补课").path.len(), 1);
    let e = evaluate(&m, &flat);
    assert!(e.accuracy > 0.9);
    assert_eq!(e.labels, vec!["城乡建设", "教育文体"]);
}

#[test]
fn holdout_metrics_and_promotion_rule() {
    let m = train(
        &rows(),
        &[],
        &[],
        &TrainOptions {
            holdout_fraction: 0.25,
            ..opts()
        },
    );
    let h = m.holdout.as_ref().expect("held-out metrics");
    assert!(h.n > 0);
    let worse = Evaluation::from_pairs(&["a".into(), "b".into()], &["a".into(), "a".into()]);
    let better = Evaluation::from_pairs(&["a".into(), "b".into()], &["a".into(), "b".into()]);
    assert!(is_not_worse(&better, &worse));
    assert!(!is_not_worse(&worse, &better));
    assert!(is_not_worse(&better, &better));
    assert_eq!(better.macro_f1, 1.0);
    assert_eq!(worse.confusion, vec![vec![1, 0], vec![1, 0]]);
    // The evaluation is serialisable for `evaluate --json`.
    assert!(serde_json::to_string(&worse).unwrap().contains("macro_f1"));
}

#[test]
fn a_model_without_labels_predicts_nothing_instead_of_panicking() {
    let m = train(&[], &["小区噪音扰民".to_string()], &[], &opts());
    let p = m.predict("小区噪音");
    assert_eq!(p.label(), "");
    assert!(p.top3.is_empty());
}
