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
use rustc_hash::FxHashMap;
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
        let mut words = Vec::new();
        seg.each_token(&norm, |w| words.push(w));
        if cfg.word_bigrams {
            for p in words.windows(2) {
                buf.clear();
                buf.push_str("b:");
                buf.push_str(p[0]);
                buf.push('_');
                buf.push_str(p[1]);
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
    index: TermIndex,
}

/// Term → feature index, one table per family so that prediction looks a term up without
/// building its prefixed string: words and word pairs by their text, character n-grams of up to
/// three CJK characters by the characters packed into a `u64` (21 bits each; CJK characters are
/// never 0, so the packing is unique). Any other term (longer n-grams, odd configurations) is
/// kept whole in `other`. Fx hashing: the keys are short and not attacker-chosen in a way that
/// matters for a read-only vocabulary.
#[derive(Debug, Clone, Default)]
struct TermIndex {
    words: FxHashMap<Box<str>, u32>,
    pairs: FxHashMap<Box<str>, u32>,
    grams: FxHashMap<u64, u32>,
    other: FxHashMap<Box<str>, u32>,
}

/// The packed key of a character n-gram, when it has one (1–3 CJK characters).
fn gram_key(chars: impl IntoIterator<Item = char>) -> Option<u64> {
    let mut key = 0u64;
    let mut n = 0;
    for c in chars {
        n += 1;
        if n > 3 || !is_cjk(c) {
            return None;
        }
        key = (key << 21) | c as u64;
    }
    (n > 0).then_some(key)
}

impl TermIndex {
    fn insert(&mut self, term: &str, i: u32) {
        match term.split_at_checked(2) {
            Some(("w:", t)) => self.words.insert(t.into(), i),
            Some(("b:", t)) => self.pairs.insert(t.into(), i),
            Some(("c:", t)) if gram_key(t.chars()).is_some() => {
                self.grams.insert(gram_key(t.chars()).unwrap_or(0), i)
            }
            _ => self.other.insert(term.into(), i),
        };
    }

    fn get(&self, term: &str) -> Option<u32> {
        match term.split_at_checked(2) {
            Some(("w:", t)) => self.words.get(t).copied(),
            Some(("b:", t)) => self.pairs.get(t).copied(),
            Some(("c:", t)) => match gram_key(t.chars()) {
                Some(k) => self.grams.get(&k).copied(),
                None => self.other.get(term).copied(),
            },
            _ => self.other.get(term).copied(),
        }
    }

    /// The index of the character n-gram `chars` (`buf` is scratch space).
    fn gram(&self, chars: &[char], buf: &mut String) -> Option<u32> {
        match gram_key(chars.iter().copied()) {
            Some(k) => self.grams.get(&k).copied(),
            None => {
                buf.clear();
                buf.push_str("c:");
                buf.extend(chars);
                self.other.get(buf.as_str()).copied()
            }
        }
    }
}

/// Buffers reused from one message to the next by [`Vectorizer::transform_text_into`]: a batch
/// keeps one per thread, so vectorising a message allocates nothing once they have grown.
#[derive(Debug, Default)]
pub struct Scratch {
    /// Byte ranges of the kept words in the normalised text.
    words: Vec<(usize, usize)>,
    chars: Vec<char>,
    buf: String,
    /// Feature index of every term occurrence; sorted, its runs are the term counts.
    ids: Vec<u32>,
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
            index: TermIndex::default(),
        };
        v.rebuild_index();
        v
    }

    /// Must be called after deserialising (the lookup table is not stored).
    pub fn rebuild_index(&mut self) {
        let mut index = TermIndex::default();
        for (i, t) in self.terms.iter().enumerate() {
            index.insert(t, i as u32);
        }
        self.index = index;
    }

    /// The feature index of `term` (with its family prefix, as in [`Vectorizer::terms`]).
    pub fn index_of(&self, term: &str) -> Option<u32> {
        self.index.get(term)
    }

    /// The feature index of the character n-gram `chars` (`buf` is scratch space).
    pub(crate) fn gram_index(&self, chars: &[char], buf: &mut String) -> Option<u32> {
        self.index.gram(chars, buf)
    }

    pub fn dim(&self) -> usize {
        self.terms.len()
    }

    pub fn term(&self, i: u32) -> &str {
        &self.terms[i as usize]
    }

    /// TF-IDF, L2-normalised. Unknown terms are ignored.
    pub fn transform(&self, doc: &[String]) -> SparseVec {
        let mut ids: Vec<u32> = doc.iter().filter_map(|t| self.index.get(t)).collect();
        let mut v = SparseVec::new();
        self.weigh(&mut ids, &mut v);
        v
    }

    /// Analyses and vectorises `text` in one go, without keeping the raw terms.
    pub fn transform_text(&self, seg: &Segmenter, text: &str) -> SparseVec {
        let mut v = SparseVec::new();
        self.transform_text_into(seg, text, &mut Scratch::default(), &mut v);
        v
    }

    /// As [`Vectorizer::transform_text`], into `out`, with `scratch`'s buffers: the same terms
    /// as [`analyze_each`] gives, looked up family by family without building their strings.
    pub fn transform_text_into(
        &self,
        seg: &Segmenter,
        text: &str,
        scratch: &mut Scratch,
        out: &mut SparseVec,
    ) {
        let cfg = &self.config;
        let Scratch {
            words,
            chars,
            buf,
            ids,
        } = scratch;
        ids.clear();
        let text = match text.char_indices().nth(cfg.max_chars) {
            Some((i, _)) => &text[..i],
            None => text,
        };
        let norm = seg.normalizer().normalize(text);
        if cfg.words || cfg.word_bigrams {
            words.clear();
            seg.each_token(&norm, |w| {
                let start = w.as_ptr() as usize - norm.as_ptr() as usize;
                words.push((start, start + w.len()));
            });
            let word = |k: usize| &norm[words[k].0..words[k].1];
            if cfg.word_bigrams {
                for k in 1..words.len() {
                    buf.clear();
                    buf.push_str(word(k - 1));
                    buf.push('_');
                    buf.push_str(word(k));
                    ids.extend(self.index.pairs.get(buf.as_str()));
                }
            }
            if cfg.words {
                for k in 0..words.len() {
                    ids.extend(self.index.words.get(word(k)));
                }
            }
        }
        if cfg.char_max > 0 {
            chars.clear();
            chars.extend(norm.chars());
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
                        ids.extend(self.index.gram(w, buf));
                    }
                }
                start = end;
            }
        }
        self.weigh(ids, out);
    }

    /// TF-IDF of the term occurrences `ids` (sorted here), L2-normalised, into `out`.
    fn weigh(&self, ids: &mut [u32], out: &mut SparseVec) {
        ids.sort_unstable();
        out.clear();
        for run in ids.chunk_by(|a, b| a == b) {
            let (i, c) = (run[0], run.len() as f32);
            let tf = if self.config.sublinear_tf {
                1.0 + c.ln()
            } else {
                c
            };
            out.push((i, tf * self.idf[i as usize]));
        }
        l2_normalize(out);
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
