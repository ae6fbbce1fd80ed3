//! Sparse TF-IDF features for short, noisy citizen messages.
//!
//! Three feature families, told apart by a prefix so they never collide:
//! `w:` jieba words, `b:` word bigrams (adjacent content words), `c:` character n-grams inside
//! CJK runs. Character n-grams rescue what segmentation gets wrong (unknown estate names, typos,
//! "噪音"/"噪声"); words and bigrams carry the meaning of longer phrases.
//!
//! The vocabulary is built from every document available, labeled or not (it is unsupervised),
//! so the inverse document frequencies come from thousands of messages instead of a few hundred.

use crate::text::{is_cjk, Segmenter};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A sparse vector: (feature index, value), sorted by index, no duplicates.
pub type SparseVec = Vec<(u32, f32)>;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FeatureConfig {
    pub words: bool,
    pub word_bigrams: bool,
    /// Smallest and largest character n-gram; `(0, 0)` turns them off.
    pub char_min: usize,
    pub char_max: usize,
    /// Terms seen in fewer documents are dropped (a term seen once can't generalise).
    pub min_df: u32,
    /// Terms in more than this fraction of documents are dropped (boilerplate).
    pub max_df: f32,
    /// Keep at most this many terms, the most frequent by document frequency.
    pub max_features: usize,
    /// 1 + ln(tf) instead of tf: long rants should not drown in their own repetitions.
    pub sublinear_tf: bool,
    /// Only the first `max_chars` characters of a message are analysed.
    pub max_chars: usize,
}

impl FeatureConfig {
    /// Words only, raw tf: the plain bag-of-words baseline.
    pub fn bag_of_words() -> Self {
        FeatureConfig {
            words: true,
            word_bigrams: false,
            char_min: 0,
            char_max: 0,
            min_df: 1,
            max_df: 1.0,
            max_features: usize::MAX,
            sublinear_tf: false,
            max_chars: usize::MAX,
        }
    }
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            words: true,
            word_bigrams: true,
            char_min: 1,
            char_max: 3,
            min_df: 2,
            max_df: 0.5,
            // CV: 100k terms score as 300k (0.859 vs 0.856) with a third of the model size;
            // 50k starts to lose (0.851).
            max_features: 100_000,
            sublinear_tf: true,
            // CV on the shared data: 300–800 all give macro-F1 0.85–0.856 (1500: 0.848); past
            // the first paragraphs a letter adds noise and latency, not signal.
            max_chars: 500,
        }
    }
}

/// Raw terms of one document (with repetitions), before vocabulary lookup.
pub fn analyze(seg: &Segmenter, cfg: &FeatureConfig, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    analyze_each(seg, cfg, text, |t| out.push(t.to_string()));
    out
}

/// Calls `f` with every raw term of `text`, built in one reused buffer: prediction looks terms
/// up without allocating a string per n-gram.
pub fn analyze_each(seg: &Segmenter, cfg: &FeatureConfig, text: &str, mut f: impl FnMut(&str)) {
    // Very long letters (a few run to thousands of characters) say what they are about in the
    // title and first paragraphs; the cap bounds the cost of one prediction.
    let text = match text.char_indices().nth(cfg.max_chars) {
        Some((i, _)) => &text[..i],
        None => text,
    };
    let norm = seg.normalizer().normalize(text);
    let mut buf = String::new();
    if cfg.words || cfg.word_bigrams {
        let words = seg.tokens_normalized(&norm);
        if cfg.word_bigrams {
            for p in words.windows(2) {
                buf.clear();
                buf.push_str("b:");
                buf.push_str(&p[0]);
                buf.push('_');
                buf.push_str(&p[1]);
                f(&buf);
            }
        }
        if cfg.words {
            for w in &words {
                buf.clear();
                buf.push_str("w:");
                buf.push_str(w);
                f(&buf);
            }
        }
    }
    if cfg.char_max > 0 {
        // Stop words are dropped from words, not from the character stream: "的" alone is
        // removed by max_df anyway, and longer n-grams through it are legitimate phrases.
        let chars: Vec<char> = norm.chars().collect();
        let mut start = 0;
        while start < chars.len() {
            if !is_cjk(chars[start]) {
                start += 1;
                continue;
            }
            let mut end = start;
            while end < chars.len() && is_cjk(chars[end]) {
                end += 1;
            }
            for k in cfg.char_min.max(1)..=cfg.char_max {
                for w in chars[start..end].windows(k) {
                    buf.clear();
                    buf.push_str("c:");
                    buf.extend(w.iter());
                    f(&buf);
                }
            }
            start = end;
        }
    }
}

/// Vocabulary + inverse document frequencies.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Vectorizer {
    pub config: FeatureConfig,
    pub terms: Vec<String>,
    pub idf: Vec<f32>,
    #[serde(skip)]
    index: HashMap<String, u32>,
}

impl Vectorizer {
    /// Builds the vocabulary from analysed documents (labeled and unlabeled alike).
    pub fn fit(config: FeatureConfig, docs: &[Vec<String>]) -> Self {
        let mut df: HashMap<&str, u32> = HashMap::new();
        for d in docs {
            let mut seen: Vec<&str> = d.iter().map(String::as_str).collect();
            seen.sort_unstable();
            seen.dedup();
            for t in seen {
                *df.entry(t).or_default() += 1;
            }
        }
        let n = docs.len().max(1) as f32;
        let max_df = (config.max_df * n).ceil() as u32;
        let mut kept: Vec<(&str, u32)> = df
            .into_iter()
            .filter(|&(_, c)| c >= config.min_df && (config.max_df >= 1.0 || c <= max_df))
            .collect();
        // Most frequent first, then by name so the vocabulary is deterministic.
        kept.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        kept.truncate(config.max_features);
        kept.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let terms: Vec<String> = kept.iter().map(|(t, _)| t.to_string()).collect();
        // Smoothed idf, as scikit-learn's default: ln((1+n)/(1+df)) + 1.
        let idf = kept
            .iter()
            .map(|&(_, c)| ((1.0 + n) / (1.0 + c as f32)).ln() + 1.0)
            .collect();
        let mut v = Vectorizer {
            config,
            terms,
            idf,
            index: HashMap::new(),
        };
        v.rebuild_index();
        v
    }

    /// Must be called after deserialising (the lookup table is not stored).
    pub fn rebuild_index(&mut self) {
        self.index = self
            .terms
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
    }

    pub fn dim(&self) -> usize {
        self.terms.len()
    }

    pub fn term(&self, i: u32) -> &str {
        &self.terms[i as usize]
    }

    /// TF-IDF, L2-normalised. Unknown terms are ignored.
    pub fn transform(&self, doc: &[String]) -> SparseVec {
        let mut tf: HashMap<u32, f32> = HashMap::new();
        for t in doc {
            if let Some(&i) = self.index.get(t.as_str()) {
                *tf.entry(i).or_default() += 1.0;
            }
        }
        self.weigh(tf)
    }

    /// Analyses and vectorises `text` in one go, without keeping the raw terms.
    pub fn transform_text(&self, seg: &Segmenter, text: &str) -> SparseVec {
        let mut tf: HashMap<u32, f32> = HashMap::new();
        analyze_each(seg, &self.config, text, |t| {
            if let Some(&i) = self.index.get(t) {
                *tf.entry(i).or_default() += 1.0;
            }
        });
        self.weigh(tf)
    }

    fn weigh(&self, tf: HashMap<u32, f32>) -> SparseVec {
        let mut v: SparseVec = tf
            .into_iter()
            .map(|(i, c)| {
                let tf = if self.config.sublinear_tf {
                    1.0 + c.ln()
                } else {
                    c
                };
                (i, tf * self.idf[i as usize])
            })
            .collect();
        v.sort_unstable_by_key(|&(i, _)| i);
        l2_normalize(&mut v);
        v
    }
}

pub fn l2_normalize(v: &mut SparseVec) {
    let norm = v.iter().map(|&(_, x)| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, x) in v.iter_mut() {
            *x /= norm;
        }
    }
}

pub fn dot(w: &[f32], x: &SparseVec) -> f32 {
    x.iter().map(|&(i, v)| w[i as usize] * v).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tfidf_is_unit_length_and_ignores_unknown_terms() {
        let seg = Segmenter::new();
        let cfg = FeatureConfig {
            min_df: 1,
            max_df: 1.0,
            ..FeatureConfig::default()
        };
        let docs: Vec<Vec<String>> = ["小区噪音扰民", "学校收费问题", "小区停车收费"]
            .iter()
            .map(|t| analyze(&seg, &cfg, t))
            .collect();
        let v = Vectorizer::fit(cfg.clone(), &docs);
        let x = v.transform(&analyze(&seg, &cfg, "小区噪音 外星人"));
        let norm: f32 = x.iter().map(|&(_, v)| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-5);
        assert!(x.iter().all(|&(i, _)| !v.term(i).contains("外星")));
    }
}
