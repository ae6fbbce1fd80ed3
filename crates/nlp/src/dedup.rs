//! Near-duplicate detection at intake (重复工单识别): "same issue, same place, short window".
//!
//! Each ticket becomes a set of character bigrams over normalised text. A MinHash signature
//! with LSH banding finds candidates quickly; candidates are then scored exactly with an
//! IDF-weighted overlap (so that "小区", "您好" count less than "油烟", "搅拌站"), and the place
//! moves the score up (same place) or down (two different places). Bigrams over characters,
//! rather than words, keep the score robust to rewording and to segmentation mistakes.
//!
//! The light tokenisation lives here (and is shared with [`crate::hotspot`] and
//! [`crate::quality`]) on purpose: these modules must not move when the segmenter does.

use rustc_hash::FxHashMap;
use std::collections::HashMap;

/// Tuning of [`DupIndex`]; the defaults suit 12345 tickets of one to a few hundred characters.
#[derive(Debug, Clone)]
pub struct DupOptions {
    /// A candidate below this score is not returned (0–1).
    pub min_similarity: f32,
    /// Added when both tickets name the same place.
    pub same_place_bonus: f32,
    /// Multiplies the score when both tickets name places and none is shared.
    pub other_place_factor: f32,
}

impl Default for DupOptions {
    fn default() -> Self {
        DupOptions {
            min_similarity: 0.35,
            same_place_bonus: 0.15,
            other_place_factor: 0.3,
        }
    }
}

/// What intake shows: the open ticket to merge with and how many callers raised the issue.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Suggestion {
    /// The most similar indexed ticket and its score, if any passes the threshold.
    pub merge_with: Option<(String, f32)>,
    /// Callers for the same issue, counting the new one.
    pub same_issue: usize,
}

const HASHES: usize = 64;
/// 32 bands of 2 rows: a pair with bigram Jaccard 0.2 becomes a candidate with p ≈ 0.73 and at
/// 0.3 with p ≈ 0.95 — loose on purpose, rewordings share few bigrams; the exact score decides.
const ROWS: usize = 2;
const BANDS: usize = HASHES / ROWS;
/// At most this many colliding tickets are scored exactly per look (the most colliding; ties go
/// to the most recently indexed).
const MAX_SCORED: usize = 256;
/// At most this many of a band's tickets are looked at per look, the most recent first: in a
/// burst of one issue every ticket shares every band, and the newest are the ones to merge with.
const MAX_PER_BAND: usize = 1024;

struct Doc {
    id: String,
    shingles: Vec<u64>,
    places: Vec<String>,
    at_ms: i64,
}

/// An index over recent open tickets. Remove tickets when they close ([`DupIndex::remove`]) and
/// drop old ones with [`DupIndex::prune`] so that the index stays "recent".
pub struct DupIndex {
    opts: DupOptions,
    docs: Vec<Option<Doc>>,
    by_id: HashMap<String, usize>,
    // Keys are already well-mixed hashes: Fx is enough and several times cheaper than SipHash.
    bands: Vec<FxHashMap<u64, Vec<usize>>>,
    df: FxHashMap<u64, u32>,
    live: usize,
}

impl Default for DupIndex {
    fn default() -> Self {
        Self::new(DupOptions::default())
    }
}

impl DupIndex {
    pub fn new(opts: DupOptions) -> Self {
        DupIndex {
            opts,
            docs: Vec::new(),
            by_id: HashMap::new(),
            bands: (0..BANDS).map(|_| FxHashMap::default()).collect(),
            df: FxHashMap::default(),
            live: 0,
        }
    }

    /// Number of indexed tickets.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Indexes a ticket; `place` is the structured address if intake has one, otherwise the
    /// places named in the text are used. Re-adding an id replaces the earlier version.
    pub fn add(&mut self, id: &str, text: &str, place: Option<&str>, at_ms: i64) {
        self.remove(id);
        let shingles = shingle_set(text);
        let sig = minhash(&shingles);
        let slot = self.docs.len();
        for (b, band) in self.bands.iter_mut().enumerate() {
            band.entry(band_key(&sig, b)).or_default().push(slot);
        }
        for s in &shingles {
            *self.df.entry(*s).or_insert(0) += 1;
        }
        self.docs.push(Some(Doc {
            id: id.to_string(),
            shingles,
            places: doc_places(text, place),
            at_ms,
        }));
        self.by_id.insert(id.to_string(), slot);
        self.live += 1;
    }

    /// Forgets a ticket (closed, merged or withdrawn). Returns whether it was indexed.
    pub fn remove(&mut self, id: &str) -> bool {
        let Some(slot) = self.by_id.remove(id) else {
            return false;
        };
        if let Some(doc) = self.docs[slot].take() {
            for s in &doc.shingles {
                if let Some(n) = self.df.get_mut(s) {
                    *n -= 1;
                    if *n == 0 {
                        self.df.remove(s);
                    }
                }
            }
            // Band postings keep the dead slot; lookups skip it. `prune` compacts.
            self.live -= 1;
        }
        true
    }

    /// Drops tickets older than `before_ms` and compacts the index.
    pub fn prune(&mut self, before_ms: i64) {
        let old: Vec<String> = self
            .docs
            .iter()
            .flatten()
            .filter(|d| d.at_ms < before_ms)
            .map(|d| d.id.clone())
            .collect();
        for id in old {
            self.remove(&id);
        }
        let docs = std::mem::take(&mut self.docs);
        self.by_id.clear();
        for band in &mut self.bands {
            band.clear();
        }
        for doc in docs.into_iter().flatten() {
            let slot = self.docs.len();
            let sig = minhash(&doc.shingles);
            for (b, band) in self.bands.iter_mut().enumerate() {
                band.entry(band_key(&sig, b)).or_default().push(slot);
            }
            self.by_id.insert(doc.id.clone(), slot);
            self.docs.push(Some(doc));
        }
    }

    /// Indexed tickets within `window_ms` of `at_ms` that look like the same issue, best first.
    pub fn candidates(
        &self,
        text: &str,
        place: Option<&str>,
        at_ms: i64,
        window_ms: i64,
    ) -> Vec<(String, f32)> {
        let shingles = shingle_set(text);
        if shingles.is_empty() {
            return Vec::new();
        }
        let sig = minhash(&shingles);
        let places = doc_places(text, place);
        // Band collisions per indexed ticket: the more bands two signatures share, the more
        // bigrams the texts share. Only the best-colliding are scored exactly, so a burst of
        // hundreds of calls about one outage costs a bounded time per new call.
        let mut hits = vec![0u8; self.docs.len()];
        let mut colliding = Vec::new();
        for (b, band) in self.bands.iter().enumerate() {
            let Some(slots) = band.get(&band_key(&sig, b)) else {
                continue;
            };
            for &slot in slots.iter().rev().take(MAX_PER_BAND) {
                if hits[slot] == 0 {
                    colliding.push(slot);
                }
                hits[slot] += 1;
            }
        }
        if colliding.len() > MAX_SCORED {
            // Linear selection, not a sort: in a burst every indexed ticket collides.
            colliding.select_nth_unstable_by(MAX_SCORED - 1, |a, b| {
                hits[*b].cmp(&hits[*a]).then(b.cmp(a))
            });
            colliding.truncate(MAX_SCORED);
        }
        // The weights of one look, each worked out once: in a burst the candidates share their
        // bigrams.
        let mut weights: FxHashMap<u64, f32> = FxHashMap::default();
        let mut weight = |s: u64| *weights.entry(s).or_insert_with(|| self.weight(s));
        let mut out = Vec::new();
        for slot in colliding {
            let Some(doc) = &self.docs[slot] else {
                continue;
            };
            if (doc.at_ms - at_ms).abs() > window_ms {
                continue;
            }
            let mut sim = self.text_similarity(&shingles, &doc.shingles, &mut weight);
            if !places.is_empty() && !doc.places.is_empty() {
                if places_overlap(&places, &doc.places) {
                    sim = (sim + self.opts.same_place_bonus).min(1.0);
                } else {
                    sim *= self.opts.other_place_factor;
                }
            }
            if sim >= self.opts.min_similarity {
                out.push((doc.id.clone(), sim));
            }
        }
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// The intake suggestion: the best candidate and the number of callers for the issue.
    pub fn suggest(
        &self,
        text: &str,
        place: Option<&str>,
        at_ms: i64,
        window_ms: i64,
    ) -> Suggestion {
        let c = self.candidates(text, place, at_ms, window_ms);
        Suggestion {
            same_issue: c.len() + 1,
            merge_with: c.into_iter().next(),
        }
    }

    /// IDF weight from the index itself: the recent tickets are the corpus.
    fn weight(&self, s: u64) -> f32 {
        let df = self.df.get(&s).copied().unwrap_or(0) as f32;
        ((1.0 + self.live as f32) / (1.0 + df)).ln() + 1.0
    }

    /// Mean of the weighted Dice coefficient and the weighted containment of the shorter text:
    /// Dice penalises a short complaint against a long one; containment alone would match any
    /// short text inside a long one.
    fn text_similarity(&self, a: &[u64], b: &[u64], weight: &mut impl FnMut(u64) -> f32) -> f32 {
        let (mut i, mut j) = (0, 0);
        let (mut wa, mut wb, mut wi) = (0.0f32, 0.0f32, 0.0f32);
        while i < a.len() || j < b.len() {
            if j == b.len() || (i < a.len() && a[i] < b[j]) {
                wa += weight(a[i]);
                i += 1;
            } else if i == a.len() || b[j] < a[i] {
                wb += weight(b[j]);
                j += 1;
            } else {
                let w = weight(a[i]);
                wa += w;
                wb += w;
                wi += w;
                i += 1;
                j += 1;
            }
        }
        if wa == 0.0 || wb == 0.0 {
            return 0.0;
        }
        let dice = 2.0 * wi / (wa + wb);
        let contain = wi / wa.min(wb);
        0.5 * dice + 0.5 * contain
    }
}

fn doc_places(text: &str, place: Option<&str>) -> Vec<String> {
    match place {
        Some(p) if !p.trim().is_empty() => {
            let n = normalize(p).replace(' ', "");
            let mut v: Vec<String> = crate::hotspot::extract_places(p)
                .into_iter()
                .filter(|p| p.kind.is_specific())
                .map(|p| p.key)
                .collect();
            v.push(n);
            v
        }
        _ => crate::hotspot::extract_places(text)
            .into_iter()
            .filter(|p| p.kind.is_specific())
            .map(|p| p.key)
            .collect(),
    }
}

/// Places match when one names the other ("A5区魅力之城小区" and "魅力之城").
fn places_overlap(a: &[String], b: &[String]) -> bool {
    a.iter().any(|x| {
        b.iter()
            .any(|y| x == y || x.contains(y.as_str()) || y.contains(x.as_str()))
    })
}

fn minhash(shingles: &[u64]) -> [u32; HASHES] {
    let mut sig = [u32::MAX; HASHES];
    for &s in shingles {
        for (k, slot) in sig.iter_mut().enumerate() {
            let h = (mix64(s ^ SEEDS[k % SEEDS.len()].wrapping_mul(k as u64 + 1)) >> 32) as u32;
            if h < *slot {
                *slot = h;
            }
        }
    }
    sig
}

const SEEDS: [u64; 4] = [
    0x9E37_79B9_7F4A_7C15,
    0xC2B2_AE3D_27D4_EB4F,
    0x1656_67B1_9E37_79F9,
    0x27D4_EB2F_1656_67C5,
];

fn band_key(sig: &[u32; HASHES], band: usize) -> u64 {
    let mut h = band as u64;
    for r in 0..ROWS {
        h = mix64(h ^ u64::from(sig[band * ROWS + r]));
    }
    h
}

/// SplitMix64 finaliser: a fast, well-mixed, deterministic 64-bit hash step.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// CJK unified ideographs (basic block and extension A).
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

/// Full-width → half-width, ASCII lower-cased, everything that is neither CJK nor an ASCII
/// letter/digit (punctuation, symbols, whitespace) folded to one space.
pub(crate) fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = true;
    for c in s.chars() {
        let c = match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        };
        if is_cjk(c) || c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Calls `f` with the hash of every bigram of units over normalised text, where a unit is one
/// CJK character or one run of ASCII letters/digits ("a5区" → "a5|区"). A run of one unit
/// yields that unit, so short words still count.
pub(crate) fn for_each_bigram(norm: &str, mut f: impl FnMut(u64)) {
    for run in norm.split(' ') {
        let mut prev: Option<u64> = None;
        let mut count = 0usize;
        let mut ascii: u64 = 0;
        let mut in_ascii = false;
        let mut emit = |unit: u64, prev: &mut Option<u64>, count: &mut usize| {
            if let Some(p) = *prev {
                f(mix64(p.rotate_left(21) ^ unit));
            }
            *prev = Some(unit);
            *count += 1;
        };
        let mut first_unit = 0u64;
        for c in run.chars() {
            if c.is_ascii_alphanumeric() {
                ascii = ascii.wrapping_mul(131).wrapping_add(c as u64);
                in_ascii = true;
                continue;
            }
            if in_ascii {
                let u = mix64(ascii ^ 0xA5A5);
                if count == 0 {
                    first_unit = u;
                }
                emit(u, &mut prev, &mut count);
                ascii = 0;
                in_ascii = false;
            }
            let u = mix64(c as u64);
            if count == 0 {
                first_unit = u;
            }
            emit(u, &mut prev, &mut count);
        }
        if in_ascii {
            let u = mix64(ascii ^ 0xA5A5);
            if count == 0 {
                first_unit = u;
            }
            emit(u, &mut prev, &mut count);
        }
        if count == 1 {
            f(first_unit);
        }
    }
}

/// Sorted, de-duplicated bigram hashes of a text.
pub(crate) fn shingle_set(text: &str) -> Vec<u64> {
    let mut v = Vec::new();
    for_each_bigram(&normalize(text), |h| v.push(h));
    v.sort_unstable();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_folds_width_and_punctuation() {
        assert_eq!(normalize("Ａ３区，油烟！！ 扰民"), "a3区 油烟 扰民");
    }

    #[test]
    fn bigrams_cover_ascii_runs() {
        let mut n = 0;
        for_each_bigram("a5区汇金路", |_| n += 1);
        assert_eq!(n, 4); // a5|区 区|汇 汇|金 金|路
    }

    /// A burst of one issue (every ticket in every band): the look stays bounded and offers the
    /// most recent calls, and a different issue in the burst is still told apart.
    #[test]
    fn a_burst_of_one_issue_offers_the_newest_calls() {
        let mut ix = DupIndex::default();
        let text = "幸福路8号工地夜间施工噪音扰民，每天十一点后仍在施工";
        for i in 0..3_000 {
            ix.add(&i.to_string(), text, Some("幸福路8号"), i);
        }
        ix.add(
            "water",
            "和平街3号停水两天了，没有任何通知",
            Some("和平街3号"),
            3_000,
        );
        let found = ix.candidates(text, Some("幸福路8号"), 3_001, 1_000_000);
        assert!(!found.is_empty() && found.len() <= MAX_SCORED);
        assert!(found.iter().all(|(id, _)| id != "water"));
        let oldest = found
            .iter()
            .filter_map(|(id, _)| id.parse::<i64>().ok())
            .min()
            .unwrap();
        assert!(
            oldest >= 3_000 - MAX_PER_BAND as i64,
            "oldest offered: {oldest}"
        );
        let water = ix.candidates("和平街3号停水两天了", Some("和平街3号"), 3_001, 1_000_000);
        assert_eq!(water.first().map(|c| c.0.as_str()), Some("water"));
    }
}
