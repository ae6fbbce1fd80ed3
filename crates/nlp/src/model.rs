//! The versioned classification model: training, prediction, evaluation.
//!
//! Labels are category paths: `"城乡建设"` or `"城乡建设/安全生产/安全隐患"` (`/` or `>` between
//! levels). Level 1 is always predicted; level k + 1 is predicted among the children of the
//! chosen level-k category when training rows carry that level.
//!
//! Level 1 uses everything the bureau has, not only its labels:
//! - the taxonomy: each level-2 branch of categories.csv becomes a short seed document
//!   ("城乡建设 安全生产 事故处理 安全隐患 …") labeled with its level 1;
//! - the unlabeled messages: they shape the vocabulary and idf, and self-training adds the
//!   messages the model is most sure about (class-balanced, down-weighted) as pseudo-labels;
//! - word, word-bigram and character n-gram features.

use crate::classify::{argmax, train_ovr, Calibration, LinearOvr, Rng, SvmParams};
use crate::features::{analyze, FeatureConfig, Scratch as FeatureScratch, SparseVec, Vectorizer};
use crate::text::Segmenter;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

/// Bumped when the stored layout changes; `from_bytes` refuses other formats.
pub const FORMAT: u32 = 1;

/// The text the classifier sees for a message: the title carries most of the signal in a few
/// words, so it is given twice the weight of the body.
pub fn message_text(title: &str, detail: &str) -> String {
    format!("{title}。{title}。{detail}")
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainOptions {
    /// Model version chosen by the caller (e.g. "2026-11-21.1").
    pub version: String,
    /// Free-form training time stamp given by the caller (the library reads no clock).
    pub trained_at: String,
    pub features: FeatureConfig,
    pub svm: SvmParams,
    /// Region, street, community and department names for the segmenter.
    pub user_words: Vec<String>,
    /// Weight of taxonomy seed documents; 0 disables them.
    pub seed_weight: f32,
    /// Self-training rounds over the unlabeled messages; 0 disables it.
    pub self_training_rounds: usize,
    /// Minimum calibrated probability for a pseudo-label.
    pub pseudo_min_prob: f32,
    /// Pseudo-labels per class added in each round (cumulative).
    pub pseudo_per_class: usize,
    /// Weight of a pseudo-labeled example relative to a human label.
    pub pseudo_weight: f32,
    /// Fraction of labeled rows held out (stratified) to measure the model before it is
    /// retrained on everything; 0 skips the measurement.
    pub holdout_fraction: f32,
    /// Folds of the internal cross-validation that fits the probability temperature.
    pub calibration_folds: usize,
    /// Deeper levels need at least this many rows per class to be trained.
    pub min_level_support: usize,
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            version: "1".into(),
            trained_at: String::new(),
            features: FeatureConfig::default(),
            svm: SvmParams {
                balanced: true,
                ..SvmParams::default()
            },
            user_words: Vec::new(),
            seed_weight: 1.0,
            // Measured by 5-fold CV on the shared data: one cautious round (30 per class,
            // p ≥ 0.8) gains ~0.02 macro-F1; more rounds or more pseudo-labels drift and lose.
            self_training_rounds: 1,
            pseudo_min_prob: 0.8,
            pseudo_per_class: 30,
            pseudo_weight: 0.5,
            holdout_fraction: 0.2,
            calibration_folds: 3,
            min_level_support: 3,
            seed: 42,
        }
    }
}

impl TrainOptions {
    /// The plain bag-of-words baseline: TF-IDF over jieba words, linear SVM with C = 1,
    /// labels only (what scikit-learn's TfidfVectorizer + LinearSVC does).
    pub fn baseline() -> Self {
        TrainOptions {
            features: FeatureConfig::bag_of_words(),
            svm: SvmParams::default(),
            seed_weight: 0.0,
            self_training_rounds: 0,
            ..TrainOptions::default()
        }
    }
}

/// One level of the hierarchy: classes are full paths of that depth.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Level {
    pub classes: Vec<String>,
    pub classifier: LinearOvr,
    pub calibration: Calibration,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    pub format: u32,
    pub version: String,
    pub trained_at: String,
    pub options: TrainOptions,
    pub n_labeled: usize,
    pub n_unlabeled: usize,
    pub n_pseudo_labeled: usize,
    /// The segmenter's user dictionary (rebuilt on load).
    pub user_words: Vec<String>,
    /// Measured on the held-out split before the final fit on all rows.
    pub holdout: Option<Evaluation>,
    pub vectorizer: Vectorizer,
    /// `levels[0]` is level 1.
    pub levels: Vec<Level>,
    #[serde(skip)]
    segmenter: OnceLock<Segmenter>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Prediction {
    /// Level-1 categories with calibrated probabilities, most likely first.
    pub top3: Vec<(String, f32)>,
    /// The chosen path, one entry per predicted level (level 1 first), with its probability
    /// within its parent.
    pub path: Vec<(String, f32)>,
    /// The terms that pushed the level-1 choice most, with their contribution.
    pub explanation: Vec<(String, f32)>,
}

impl Prediction {
    /// The level-1 category ("" from a model trained without labels).
    pub fn label(&self) -> &str {
        self.top3.first().map_or("", |t| t.0.as_str())
    }

    pub fn confidence(&self) -> f32 {
        self.top3.first().map_or(0.0, |t| t.1)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClassMetrics {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Evaluation {
    pub n: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_class: Vec<ClassMetrics>,
    /// Row and column labels of `confusion`.
    pub labels: Vec<String>,
    /// `confusion[true][predicted]`.
    pub confusion: Vec<Vec<usize>>,
}

impl Evaluation {
    /// Metrics from true and predicted labels. Labels are the union of both, sorted.
    pub fn from_pairs(truth: &[String], predicted: &[String]) -> Self {
        let labels: Vec<String> = truth
            .iter()
            .chain(predicted)
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let idx = |l: &String| labels.binary_search(l).unwrap_or(0);
        let k = labels.len();
        let mut confusion = vec![vec![0usize; k]; k];
        for (t, p) in truth.iter().zip(predicted) {
            confusion[idx(t)][idx(p)] += 1;
        }
        let n = truth.len();
        let correct: usize = (0..k).map(|i| confusion[i][i]).sum();
        let per_class: Vec<ClassMetrics> = (0..k)
            .map(|i| {
                let tp = confusion[i][i] as f64;
                let support: usize = confusion[i].iter().sum();
                let predicted: usize = (0..k).map(|r| confusion[r][i]).sum();
                let precision = if predicted > 0 {
                    tp / predicted as f64
                } else {
                    0.0
                };
                let recall = if support > 0 {
                    tp / support as f64
                } else {
                    0.0
                };
                let f1 = if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                };
                ClassMetrics {
                    label: labels[i].clone(),
                    precision,
                    recall,
                    f1,
                    support,
                }
            })
            .collect();
        // Macro-F1 over the classes that occur in the truth (scikit-learn counts predicted-only
        // labels too; with a fixed label set both agree).
        let present: Vec<&ClassMetrics> = per_class.iter().filter(|c| c.support > 0).collect();
        let macro_f1 = present.iter().map(|c| c.f1).sum::<f64>() / present.len().max(1) as f64;
        Evaluation {
            n,
            accuracy: if n > 0 {
                correct as f64 / n as f64
            } else {
                0.0
            },
            macro_f1,
            per_class,
            labels,
            confusion,
        }
    }
}

/// Whether a candidate model may replace the active one: its macro-F1 on the same held-out
/// rows is at least the active model's (ties allowed), and accuracy did not drop by more than
/// one point. Callers evaluate both models on the same rows.
pub fn is_not_worse(new: &Evaluation, old: &Evaluation) -> bool {
    new.macro_f1 + 1e-9 >= old.macro_f1 && new.accuracy + 0.01 >= old.accuracy
}

/// Evaluates level 1 of `model` on labeled rows `(text, label path)`.
pub fn evaluate(model: &Model, labeled: &[(String, String)]) -> Evaluation {
    let truth: Vec<String> = labeled.iter().map(|(_, l)| level_prefix(l, 1)).collect();
    let texts: Vec<&str> = labeled.iter().map(|(t, _)| t.as_str()).collect();
    let predicted: Vec<String> = model
        .predict_batch(&texts)
        .into_iter()
        .map(|p| p.label().to_string())
        .collect();
    Evaluation::from_pairs(&truth, &predicted)
}

fn split_path(label: &str) -> Vec<String> {
    label
        .split(['/', '>'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The first `depth` levels of a label path, joined with `/`.
pub fn level_prefix(label: &str, depth: usize) -> String {
    let parts = split_path(label);
    parts[..depth.min(parts.len())].join("/")
}

fn depth_of(label: &str) -> usize {
    split_path(label).len()
}

fn build_segmenter(words: &[String]) -> Segmenter {
    let mut s = Segmenter::new();
    s.add_words(words);
    s
}

/// Stratified split of row indices: about `fraction` of each class goes to the second part.
pub fn stratified_split(labels: &[String], fraction: f32, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut by_class: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, l) in labels.iter().enumerate() {
        by_class.entry(l.as_str()).or_default().push(i);
    }
    let mut rng = Rng::new(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (_, mut rows) in by_class {
        rng.shuffle(&mut rows);
        let k = ((rows.len() as f32) * fraction).round() as usize;
        let k = k.min(rows.len().saturating_sub(1));
        test.extend_from_slice(&rows[..k]);
        train.extend_from_slice(&rows[k..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

/// Stratified k-fold assignment: `fold[i]` for each row, classes spread evenly over folds.
pub fn stratified_folds(labels: &[String], k: usize, seed: u64) -> Vec<usize> {
    let mut by_class: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, l) in labels.iter().enumerate() {
        by_class.entry(l.as_str()).or_default().push(i);
    }
    let mut rng = Rng::new(seed);
    let mut fold = vec![0; labels.len()];
    let mut next = 0;
    for (_, mut rows) in by_class {
        rng.shuffle(&mut rows);
        for r in rows {
            fold[r] = next % k;
            next += 1;
        }
    }
    fold
}

/// Trains a model. `labeled` is `(text, label path)`; `unlabeled` are message texts without a
/// label; `taxonomy` is `(level1, level2, level3)` rows (empty strings allowed).
///
/// With `holdout_fraction > 0` a model is first trained without a stratified held-out part and
/// measured on it (`Model::holdout`), then the returned model is trained on every row.
pub fn train(
    labeled: &[(String, String)],
    unlabeled: &[String],
    taxonomy: &[(String, String, String)],
    opts: &TrainOptions,
) -> Model {
    let mut user_words = opts.user_words.clone();
    // Taxonomy names are domain vocabulary too ("园林绿化环卫" should not be split).
    for (a, b, c) in taxonomy {
        user_words.extend([a, b, c].into_iter().filter(|s| !s.is_empty()).cloned());
    }
    user_words.sort();
    user_words.dedup();
    let seg = build_segmenter(&user_words);

    // Unlabeled messages identical to a labeled one would leak the label back as a pseudo-label.
    let norm = seg.normalizer();
    let known: HashSet<String> = labeled.iter().map(|(t, _)| norm.normalize(t)).collect();
    let unlabeled: Vec<&String> = unlabeled
        .iter()
        .filter(|t| !known.contains(&norm.normalize(t)))
        .collect();

    let cfg = &opts.features;
    let labeled_terms: Vec<Vec<String>> =
        labeled.iter().map(|(t, _)| analyze(&seg, cfg, t)).collect();
    let unlabeled_terms: Vec<Vec<String>> =
        unlabeled.iter().map(|t| analyze(&seg, cfg, t)).collect();
    let seeds = seed_documents(taxonomy);
    let seed_terms: Vec<(Vec<String>, String)> = if opts.seed_weight > 0.0 {
        seeds
            .iter()
            .map(|(t, l)| (analyze(&seg, cfg, t), l.clone()))
            .collect()
    } else {
        Vec::new()
    };

    let labels: Vec<String> = labeled.iter().map(|(_, l)| l.clone()).collect();
    let holdout = (opts.holdout_fraction > 0.0 && labeled.len() >= 10).then(|| {
        let l1: Vec<String> = labels.iter().map(|l| level_prefix(l, 1)).collect();
        let (tr, te) = stratified_split(&l1, opts.holdout_fraction, opts.seed);
        let pick = |idx: &[usize]| -> (Vec<Vec<String>>, Vec<String>) {
            (
                idx.iter().map(|&i| labeled_terms[i].clone()).collect(),
                idx.iter().map(|&i| labels[i].clone()).collect(),
            )
        };
        let (tr_terms, tr_labels) = pick(&tr);
        let m = fit(
            &tr_terms,
            &tr_labels,
            &unlabeled_terms,
            &seed_terms,
            opts,
            user_words.clone(),
        );
        m.segmenter.set(seg.clone()).ok();
        let rows: Vec<(String, String)> = te.iter().map(|&i| labeled[i].clone()).collect();
        evaluate(&m, &rows)
    });
    let mut model = fit(
        &labeled_terms,
        &labels,
        &unlabeled_terms,
        &seed_terms,
        opts,
        user_words,
    );
    model.holdout = holdout;
    model.segmenter.set(seg).ok();
    model
}

/// One seed document per level-2 branch: its level-1, level-2 and level-3 names.
fn seed_documents(taxonomy: &[(String, String, String)]) -> Vec<(String, String)> {
    let mut branches: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for (a, b, c) in taxonomy {
        if a.is_empty() {
            continue;
        }
        let e = branches.entry((a.as_str(), b.as_str())).or_default();
        if !c.is_empty() {
            e.push(c.as_str());
        }
    }
    branches
        .into_iter()
        .map(|((a, b), cs)| (format!("{a} {b} {b} {}", cs.join(" ")), a.to_string()))
        .collect()
}

/// The fit proper, on analysed documents.
fn fit(
    labeled_terms: &[Vec<String>],
    labels: &[String],
    unlabeled_terms: &[Vec<String>],
    seed_terms: &[(Vec<String>, String)],
    opts: &TrainOptions,
    user_words: Vec<String>,
) -> Model {
    // The vocabulary sees every text (no labels involved).
    let all: Vec<Vec<String>> = labeled_terms
        .iter()
        .chain(unlabeled_terms)
        .cloned()
        .chain(seed_terms.iter().map(|(t, _)| t.clone()))
        .collect();
    let vectorizer = Vectorizer::fit(opts.features.clone(), &all);
    drop(all);
    let xl: Vec<SparseVec> = labeled_terms
        .iter()
        .map(|d| vectorizer.transform(d))
        .collect();
    let xs: Vec<SparseVec> = seed_terms
        .iter()
        .map(|(d, _)| vectorizer.transform(d))
        .collect();
    let xu: Vec<SparseVec> = if opts.self_training_rounds > 0 {
        unlabeled_terms
            .iter()
            .map(|d| vectorizer.transform(d))
            .collect()
    } else {
        Vec::new()
    };
    let dim = vectorizer.dim();

    let max_depth = labels.iter().map(|l| depth_of(l)).max().unwrap_or(1).max(1);
    let mut levels = Vec::new();
    let mut n_pseudo = 0;
    for depth in 1..=max_depth {
        let rows: Vec<usize> = (0..labels.len())
            .filter(|&i| depth_of(&labels[i]) >= depth)
            .collect();
        let y_str: Vec<String> = rows
            .iter()
            .map(|&i| level_prefix(&labels[i], depth))
            .collect();
        let classes: Vec<String> = y_str
            .iter()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if depth > 1 {
            // A deeper level is only worth predicting with enough examples per class.
            let min = classes
                .iter()
                .map(|c| y_str.iter().filter(|y| *y == c).count())
                .min()
                .unwrap_or(0);
            if classes.len() < 2 || min < opts.min_level_support {
                break;
            }
        }
        let y: Vec<usize> = y_str
            .iter()
            .map(|l| classes.binary_search(l).unwrap_or(0))
            .collect();
        let x: Vec<SparseVec> = rows.iter().map(|&i| xl[i].clone()).collect();
        let mut tx = x.clone();
        let mut ty = y.clone();
        let mut tw = vec![1.0f32; x.len()];
        if depth == 1 {
            for ((_, l), v) in seed_terms.iter().zip(&xs) {
                if let Ok(c) = classes.binary_search(l) {
                    tx.push(v.clone());
                    ty.push(c);
                    tw.push(opts.seed_weight);
                }
            }
        }
        let n_human = x.len();
        let n_classes = classes.len();
        let self_train =
            depth == 1 && n_classes >= 2 && !xu.is_empty() && opts.self_training_rounds > 0;
        // Stage 1: temperature of the supervised model, needed to threshold pseudo-labels.
        let supervised =
            |x: &[SparseVec], y: &[usize], w: &[f32]| train_ovr(x, y, w, n_classes, dim, &opts.svm);
        let stage1 = fit_temperature(&tx, &ty, &tw, n_human, &supervised, opts);
        let mut calibration = stage1.clone();
        let with_pseudo = |x: &[SparseVec], y: &[usize], w: &[f32], cal: &Calibration| {
            self_training(x, y, w, &xu, n_classes, dim, cal, opts)
        };
        if self_train {
            // Stage 2: self-training gives larger margins; calibrate the pipeline as it is used
            // (pseudo-labels are still chosen with the stage-1 temperature, as in training).
            calibration = fit_temperature(
                &tx,
                &ty,
                &tw,
                n_human,
                &|x: &[SparseVec], y: &[usize], w: &[f32]| with_pseudo(x, y, w, &stage1).0,
                opts,
            );
        }
        let clf = if self_train {
            let (clf, n) = with_pseudo(&tx, &ty, &tw, &stage1);
            n_pseudo = n;
            clf
        } else {
            supervised(&tx, &ty, &tw)
        };
        levels.push(Level {
            classes,
            classifier: clf,
            calibration,
        });
    }
    Model {
        format: FORMAT,
        version: opts.version.clone(),
        trained_at: opts.trained_at.clone(),
        options: opts.clone(),
        n_labeled: labels.len(),
        n_unlabeled: unlabeled_terms.len(),
        n_pseudo_labeled: n_pseudo,
        user_words,
        holdout: None,
        vectorizer,
        levels,
        segmenter: OnceLock::new(),
    }
}

/// Self-training: fit, pseudo-label the most confident unlabeled rows (class-balanced), refit
/// with them down-weighted; repeated `self_training_rounds` times. Returns the classifier and the
/// number of pseudo-labels in its last fit.
#[allow(clippy::too_many_arguments)]
fn self_training(
    x: &[SparseVec],
    y: &[usize],
    w: &[f32],
    xu: &[SparseVec],
    n_classes: usize,
    dim: usize,
    cal: &Calibration,
    opts: &TrainOptions,
) -> (LinearOvr, usize) {
    let mut clf = train_ovr(x, y, w, n_classes, dim, &opts.svm);
    let mut n = 0;
    for round in 0..opts.self_training_rounds {
        let cap = opts.pseudo_per_class * (round + 1);
        let chosen = pseudo_labels(&clf, cal, xu, n_classes, cap, opts);
        n = chosen.len();
        let mut tx = x.to_vec();
        let mut ty = y.to_vec();
        let mut tw = w.to_vec();
        for (i, c) in chosen {
            tx.push(xu[i].clone());
            ty.push(c);
            tw.push(opts.pseudo_weight);
        }
        clf = train_ovr(&tx, &ty, &tw, n_classes, dim, &opts.svm);
    }
    (clf, n)
}

/// A training procedure: examples, classes and weights in, classifier out.
type FitFn<'a> = dyn Fn(&[SparseVec], &[usize], &[f32]) -> LinearOvr + 'a;

/// Fits the softmax temperature on out-of-fold decision values of the first `n_human` rows
/// (the human-labeled ones), each fold trained by `fit`; the extra rows (seeds) are always in
/// the training part.
fn fit_temperature(
    x: &[SparseVec],
    y: &[usize],
    w: &[f32],
    n_human: usize,
    fit: &FitFn<'_>,
    opts: &TrainOptions,
) -> Calibration {
    let k = opts.calibration_folds;
    if k < 2 || n_human < 2 * k {
        return Calibration::default();
    }
    let names: Vec<String> = y[..n_human].iter().map(|c| c.to_string()).collect();
    let fold = stratified_folds(&names, k, opts.seed ^ 0xCA1);
    let mut scores = Vec::new();
    let mut truth = Vec::new();
    for f in 0..k {
        let tr: Vec<usize> = (0..x.len())
            .filter(|&i| i >= n_human || fold[i] != f)
            .collect();
        let m = fit(
            &tr.iter().map(|&i| x[i].clone()).collect::<Vec<_>>(),
            &tr.iter().map(|&i| y[i]).collect::<Vec<_>>(),
            &tr.iter().map(|&i| w[i]).collect::<Vec<_>>(),
        );
        for i in (0..n_human).filter(|&i| fold[i] == f) {
            scores.push(m.decision(&x[i]));
            truth.push(y[i]);
        }
    }
    Calibration::fit(&scores, &truth)
}

/// The unlabeled rows to pseudo-label: per class, the `cap` most probable rows predicted as that
/// class with probability at least `pseudo_min_prob`. A cap per class keeps the big classes from
/// swallowing the small ones.
fn pseudo_labels(
    clf: &LinearOvr,
    cal: &Calibration,
    xu: &[SparseVec],
    n_classes: usize,
    cap: usize,
    opts: &TrainOptions,
) -> Vec<(usize, usize)> {
    let mut by_class: Vec<Vec<(f32, usize)>> = vec![Vec::new(); n_classes];
    for (i, x) in xu.iter().enumerate() {
        let p = cal.probabilities(&clf.decision(x));
        let c = argmax(&p);
        if p[c] >= opts.pseudo_min_prob {
            by_class[c].push((p[c], i));
        }
    }
    let mut out = Vec::new();
    for (c, mut v) in by_class.into_iter().enumerate() {
        v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        out.extend(v.into_iter().take(cap).map(|(_, i)| (i, c)));
    }
    out
}

/// Buffers one thread reuses from message to message in [`Model::predict_with`] (and so in
/// [`Model::predict_batch`]): features, decision values, probabilities and the explanation's
/// working lists. Only the returned [`Prediction`] is allocated per message.
#[derive(Debug, Default)]
pub struct Scratch {
    features: FeatureScratch,
    x: SparseVec,
    scores: Vec<f32>,
    probs: Vec<f32>,
    order: Vec<usize>,
    /// Explanation candidates: (feature index, is a word pair, score).
    candidates: Vec<(u32, bool, f32)>,
    /// Characters of the word being explained, without separators.
    chars: Vec<char>,
    /// Its character n-grams as (start, length) in `chars`.
    grams: Vec<(usize, usize)>,
    buf: String,
}

/// A term's text as shown in an explanation: a word pair's `_` becomes a space.
fn shown(body: &str, pair: bool) -> impl Iterator<Item = char> + '_ {
    body.chars()
        .map(move |c| if pair && c == '_' { ' ' } else { c })
}

impl Model {
    fn segmenter(&self) -> &Segmenter {
        self.segmenter
            .get_or_init(|| build_segmenter(&self.user_words))
    }

    /// Prediction for one message text (see [`message_text`]).
    pub fn predict(&self, text: &str) -> Prediction {
        self.predict_with(&mut Scratch::default(), text)
    }

    /// Predictions for many message texts, in input order, spread over every core; each thread
    /// reuses one [`Scratch`]. Each prediction is exactly what [`Model::predict`] gives.
    pub fn predict_batch<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<Prediction> {
        // Build the segmenter once, before the threads ask for it.
        self.segmenter();
        texts
            .par_iter()
            .map_init(Scratch::default, |s, t| self.predict_with(s, t.as_ref()))
            .collect()
    }

    /// As [`Model::predict`], with `scratch`'s buffers (reuse one per thread).
    pub fn predict_with(&self, scratch: &mut Scratch, text: &str) -> Prediction {
        let seg = self.segmenter();
        let s = scratch;
        self.vectorizer
            .transform_text_into(seg, text, &mut s.features, &mut s.x);
        let Some(l1) = self.levels.first().filter(|l| !l.classes.is_empty()) else {
            return Prediction {
                top3: Vec::new(),
                path: Vec::new(),
                explanation: Vec::new(),
            };
        };
        l1.classifier.decision_into(&s.x, &mut s.scores);
        l1.calibration.probabilities_into(&s.scores, &mut s.probs);
        let probs = &s.probs;
        s.order.clear();
        s.order.extend(0..probs.len());
        s.order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
        let top3: Vec<(String, f32)> = s
            .order
            .iter()
            .take(3)
            .map(|&i| (l1.classes[i].clone(), probs[i]))
            .collect();
        let best = s.order[0];
        let mut path = vec![(l1.classes[best].clone(), probs[best])];
        for level in &self.levels[1..] {
            let parent = format!("{}/", path.last().map(|p| p.0.as_str()).unwrap_or(""));
            let allowed: Vec<usize> = (0..level.classes.len())
                .filter(|&i| level.classes[i].starts_with(&parent))
                .collect();
            if allowed.is_empty() {
                break;
            }
            level.classifier.decision_into(&s.x, &mut s.scores);
            let sub: Vec<f32> = allowed.iter().map(|&i| s.scores[i]).collect();
            let p = level.calibration.probabilities(&sub);
            let j = argmax(&p);
            path.push((level.classes[allowed[j]].clone(), p[j]));
        }
        let explanation = self.explain(s, best, 5);
        Prediction {
            top3,
            path,
            explanation,
        }
    }

    /// The `k` words that pushed class `c` most (features in `s.x`). A word's score is its own
    /// contribution `w[c][j] · x[j]` plus that of the character n-grams (2+ characters) inside
    /// it, so the evidence the character features carry is shown as the words a person reads.
    fn explain(&self, s: &mut Scratch, class: usize, k: usize) -> Vec<(String, f32)> {
        let w = &self.levels[0].classifier.weights[class];
        let v = &self.vectorizer;
        let x = &s.x;
        let max_n = v.config.char_max;
        // The contribution of feature `j` when the message has it.
        let contribution = |j: u32| {
            x.binary_search_by_key(&j, |p| p.0)
                .ok()
                .map(|at| w[j as usize] * x[at].1)
        };
        s.candidates.clear();
        let mut any_word = false;
        for &(j, val) in x {
            let (pair, body) = match v.term(j).split_once(':') {
                Some(("w", t)) => (false, t),
                Some(("b", t)) => (true, t),
                _ => continue,
            };
            any_word = true;
            // What is shown without its spaces; single characters and codes ("a3") are poor
            // explanations and never shown, so they are not scored.
            s.chars.clear();
            s.chars.extend(shown(body, pair).filter(|&c| c != ' '));
            if s.chars.len() < 2 || !s.chars.iter().any(|&c| crate::text::is_cjk(c)) {
                continue;
            }
            // The distinct n-grams inside the word, in text order of their strings (the order
            // of the sum below).
            s.grams.clear();
            for n in 2..=max_n.min(s.chars.len()) {
                s.grams.extend((0..=s.chars.len() - n).map(|i| (i, n)));
            }
            let chars = &s.chars;
            let gram = |&(i, n): &(usize, usize)| &chars[i..i + n];
            s.grams.sort_unstable_by(|a, b| gram(a).cmp(gram(b)));
            s.grams.dedup_by(|a, b| gram(a) == gram(b));
            let buf = &mut s.buf;
            let inside = s
                .grams
                .iter()
                .filter_map(|g| v.gram_index(gram(g), buf).and_then(contribution))
                .sum::<f32>();
            s.candidates.push((j, pair, w[j as usize] * val + inside));
        }
        // Words the segmenter missed still show up through their n-grams.
        if !any_word {
            for &(j, val) in x {
                if let Some(("c", t)) = v.term(j).split_once(':') {
                    let n = t.chars().count();
                    if n >= 2 && t.chars().any(crate::text::is_cjk) {
                        s.candidates.push((j, false, w[j as usize] * val));
                    }
                }
            }
        }
        let body = |j: u32| v.term(j).split_once(':').map_or("", |p| p.1);
        s.candidates.sort_by(|a, b| {
            b.2.total_cmp(&a.2)
                .then_with(|| shown(body(a.0), a.1).cmp(shown(body(b.0), b.1)))
        });
        let mut out: Vec<(String, f32)> = Vec::new();
        let mut squashed_out: Vec<String> = Vec::new();
        for &(j, pair, c) in &s.candidates {
            if c <= 0.0 {
                continue;
            }
            let squashed: String = shown(body(j), pair).filter(|&c| c != ' ').collect();
            if squashed_out
                .iter()
                .any(|d| d.contains(&squashed) || squashed.contains(d.as_str()))
            {
                continue;
            }
            out.push((shown(body(j), pair).collect(), c));
            squashed_out.push(squashed);
            if out.len() == k {
                break;
            }
        }
        out
    }

    /// Level-1 class names.
    pub fn classes(&self) -> &[String] {
        &self.levels[0].classes
    }

    /// Compact binary form (postcard).
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        postcard::to_stdvec(self).map_err(|e| e.to_string())
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Model, String> {
        let mut m: Model = postcard::from_bytes(bytes).map_err(|e| e.to_string())?;
        if m.format != FORMAT {
            return Err(format!("model format {} (expected {FORMAT})", m.format));
        }
        m.vectorizer.rebuild_index();
        Ok(m)
    }
}
