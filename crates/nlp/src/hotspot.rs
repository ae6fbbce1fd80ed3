//! Hot issues (热点问题挖掘): cluster tickets by what they are about and where, then rank the
//! clusters by a heat index.
//!
//! 1. Each message becomes an IDF-weighted vector of character bigrams (the first line — the
//!    title when the caller joins title and detail with `\n` — counts twice), and a set of places
//!    found in the text (estates, schools, companies, villages, roads, streets).
//! 2. Single-pass clustering in time order, as in topic detection and tracking: a message joins
//!    the most similar active cluster (cosine to the centroid, raised when a place is shared,
//!    lowered when both name different places) or opens a new one. Candidate clusters come from
//!    an inverted index on each message's most distinctive bigrams and on its places, so the
//!    cost grows with the number of messages, not its square.
//! 3. A merge pass joins clusters whose centroids are close and whose time ranges touch: an
//!    issue whose first messages were worded differently would otherwise stay split.
//! 4. Heat (see [`heat`]) from distinct callers, volume, likes, recency and growth; only the
//!    clusters kept are described (title = the most typical member title, place = the place
//!    named by at least a third of the members, with its district).

use crate::dedup::{for_each_bigram, is_cjk, mix64, normalize};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// One ticket or board message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: String,
    /// Title and detail; put the title on the first line (`title\ndetail`) so it weighs more.
    pub text: String,
    pub at_ms: i64,
    /// The caller (phone hash, account); `None` counts every message as a distinct caller.
    pub user: Option<String>,
    /// Support (likes, "me too") when the channel has it, else 0.
    pub likes: i64,
}

/// A ranked hot issue. The JSON carries exactly the fields of the CLI contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hotspot {
    pub rank: usize,
    pub heat: f64,
    pub title: String,
    /// The place or group concerned ("A5区魅力之城小区"), empty when none dominates.
    pub place: String,
    /// China time, `YYYY-MM-DD HH:MM:SS`.
    pub time_from: String,
    pub time_to: String,
    pub ticket_ids: Vec<String>,
    #[serde(skip)]
    pub from_ms: i64,
    #[serde(skip)]
    pub to_ms: i64,
    #[serde(skip)]
    pub callers: usize,
    #[serde(skip)]
    pub likes: i64,
}

#[derive(Debug, Clone)]
pub struct HotspotOptions {
    /// Keep the best `top` (0 = all).
    pub top: usize,
    /// Clusters smaller than this are not hot issues…
    pub min_size: usize,
    /// …unless one message alone gathered this much support.
    pub min_likes_single: i64,
    /// Minimum adjusted cosine to join a cluster.
    pub similarity: f32,
    /// A cluster stops taking members after this long without one.
    pub link_window_ms: i64,
    pub place_bonus: f32,
    pub other_place_factor: f32,
    /// "Now" for recency and growth; defaults to the newest message.
    pub now_ms: Option<i64>,
    /// Only messages in `[from_ms, to_ms]` are considered.
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

impl Default for HotspotOptions {
    fn default() -> Self {
        HotspotOptions {
            top: 0,
            min_size: 2,
            min_likes_single: 100,
            similarity: 0.25,
            link_window_ms: 90 * DAY_MS,
            place_bonus: 0.15,
            other_place_factor: 0.4,
            now_ms: None,
            from_ms: None,
            to_ms: None,
        }
    }
}

pub(crate) const DAY_MS: i64 = 86_400_000;

/// The ranked hot issues of `messages`.
pub fn hotspots(messages: &[Message], opts: &HotspotOptions) -> Vec<Hotspot> {
    let picked: Vec<usize> = (0..messages.len())
        .filter(|&i| {
            let t = messages[i].at_ms;
            opts.from_ms.is_none_or(|f| t >= f) && opts.to_ms.is_none_or(|e| t <= e)
        })
        .collect();
    if picked.is_empty() {
        return Vec::new();
    }
    let msgs: Vec<&Message> = picked.iter().map(|&i| &messages[i]).collect();
    let clusters = cluster_refs(&msgs, opts);
    let now = opts
        .now_ms
        .unwrap_or_else(|| msgs.iter().map(|m| m.at_ms).max().unwrap_or(0));
    // Recency decays over 30 days, or over a third of the analysed period when that is longer:
    // a year-long review should not rank January's issues as cold as last year's.
    let first = msgs.iter().map(|m| m.at_ms).min().unwrap_or(now);
    let tau_ms = (30 * DAY_MS).max((now - first) / 3) as f64;
    // Rank on the cheap statistics first and describe only the clusters that are kept: titles
    // and places cost a pass over the members' text.
    let mut ranked: Vec<(Stats, Cluster)> = clusters
        .into_iter()
        .filter(|c| {
            let likes: i64 = c.members.iter().map(|&i| msgs[i].likes.max(0)).sum();
            c.members.len() >= opts.min_size || likes >= opts.min_likes_single
        })
        .map(|c| (stats(&msgs, &c, now, tau_ms), c))
        .collect();
    ranked.sort_by(|a, b| {
        b.0.heat
            .total_cmp(&a.0.heat)
            .then_with(|| b.0.to.cmp(&a.0.to))
            .then_with(|| msgs[a.1.members[0]].id.cmp(&msgs[b.1.members[0]].id))
    });
    if opts.top > 0 {
        ranked.truncate(opts.top);
    }
    let mut out: Vec<Hotspot> = ranked
        .iter()
        .map(|(st, c)| describe(&msgs, c, st))
        .collect();
    for (i, h) in out.iter_mut().enumerate() {
        h.rank = i + 1;
    }
    out
}

/// Heat of a cluster, documented so that people can argue with it:
///
/// `heat = (2·ln(1+callers) + ln(1+messages) + ln(1+likes)) × (0.6 + 0.4·recency) × (1 + 0.5·growth)`
///
/// - distinct callers weigh most: one person writing ten times is less hot than ten people;
/// - likes are on a log scale, so one viral post does not drown a real multi-caller issue;
/// - `recency = exp(-(now − newest)/τ)` ∈ (0, 1], τ = max(30 days, a third of the period);
/// - `growth` ∈ [0, 1]: messages in the last 7 days against the 7 days before,
///   `min(1, max(0, (recent − previous) / max(previous, 1) / 2))`.
pub fn heat(callers: usize, messages: usize, likes: i64, recency: f64, growth: f64) -> f64 {
    let base = 2.0 * (1.0 + callers as f64).ln()
        + (1.0 + messages as f64).ln()
        + (1.0 + likes.max(0) as f64).ln();
    base * (0.6 + 0.4 * recency.clamp(0.0, 1.0)) * (1.0 + 0.5 * growth.clamp(0.0, 1.0))
}

/// A cluster: indexes into the input slice, oldest first.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub members: Vec<usize>,
    centroid: HashMap<u32, f32>,
    norm2: f32,
}

/// Clusters messages by topic and place (step 1–2 of the module doc); every message lands in
/// exactly one cluster. Exposed for [`crate::signal`] and for callers that rank differently.
pub fn cluster(messages: &[Message], opts: &HotspotOptions) -> Vec<Cluster> {
    let refs: Vec<&Message> = messages.iter().collect();
    cluster_refs(&refs, opts)
}

/// How many of a message's bigrams are used to find candidate clusters.
const PROBE_TERMS: usize = 12;
/// How many bigrams of a message enter the cosine (the rest carry little weight).
const VECTOR_TERMS: usize = 80;
/// Candidate clusters scored exactly per message.
const CANDIDATES: usize = 10;
/// Centroid bigrams used to find merge candidates in the second pass.
const MERGE_KEYS: usize = 4;
/// Centroid cosine (after the place adjustment) above which two clusters are one issue.
const MERGE_SIMILARITY: f32 = 0.4;
/// Weight of a title bigram against a body bigram: the title says what the message is about.
const TITLE_BOOST: f32 = 3.0;
/// Newest clusters scanned per posting list.
const POSTING_TAIL: usize = 64;

struct Doc {
    vec: Vec<(u32, f32)>,
    probes: Vec<u32>,
    places: Vec<String>,
}

fn vectorize(msgs: &[&Message]) -> Vec<Doc> {
    let mut ids: HashMap<u64, u32> = HashMap::new();
    let mut tfs: Vec<Vec<(u32, (f32, bool))>> = Vec::with_capacity(msgs.len());
    let mut df: Vec<u32> = Vec::new();
    for m in msgs {
        let (title, body) = match m.text.split_once('\n') {
            Some((t, b)) => (t, b),
            None => ("", m.text.as_str()),
        };
        let mut tf: HashMap<u32, (f32, bool)> = HashMap::new();
        let mut add = |h: u64, in_title: bool| {
            let next = ids.len() as u32;
            let id = *ids.entry(h).or_insert(next);
            let e = tf.entry(id).or_insert((0.0, false));
            e.0 += 1.0;
            e.1 |= in_title;
        };
        for_each_bigram(&normalize(title), |h| add(h, true));
        // Long details repeat themselves; the opening says what the message is about.
        let body: String = body.chars().take(200).collect();
        for_each_bigram(&normalize(&body), |h| add(h, false));
        df.resize(ids.len(), 0);
        let v: Vec<(u32, (f32, bool))> = tf.into_iter().collect();
        for &(t, _) in &v {
            df[t as usize] += 1;
        }
        tfs.push(v);
    }
    let n = msgs.len() as f32;
    tfs.into_iter()
        .zip(msgs)
        .map(|(tf, m)| {
            let mut v: Vec<(u32, f32)> = tf
                .into_iter()
                .map(|(t, (c, in_title))| {
                    // Sublinear tf would flatten a title boost given as counts: apply it after.
                    let boost = if in_title { TITLE_BOOST } else { 1.0 };
                    let idf = ((n + 1.0) / (df[t as usize] as f32)).ln();
                    (t, (1.0 + c.ln()) * idf * boost)
                })
                .collect();
            v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let probes: Vec<u32> = v
                .iter()
                .filter(|(t, _)| df[*t as usize] >= 2)
                .take(PROBE_TERMS)
                .map(|(t, _)| *t)
                .collect();
            v.truncate(VECTOR_TERMS);
            let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt().max(1e-6);
            for x in &mut v {
                x.1 /= norm;
            }
            let places = primary_places(&m.text);
            Doc {
                vec: v,
                probes,
                places,
            }
        })
        .collect()
}

/// The places a message is about: those of its title (first line) when it names any,
/// otherwise the first two of the body. Places mentioned in passing ("我家在…路") would
/// otherwise keep messages about one estate apart.
fn primary_places(text: &str) -> Vec<String> {
    let specific = |t: &str| -> Vec<String> {
        extract_places(t)
            .into_iter()
            .filter(|p| p.kind.is_specific())
            .map(|p| p.key)
            .collect()
    };
    if let Some((title, body)) = text.split_once('\n') {
        let t = specific(title);
        if !t.is_empty() {
            return t;
        }
        let mut b = specific(body);
        b.truncate(2);
        return b;
    }
    let mut b = specific(text);
    b.truncate(2);
    b
}

struct Work {
    cluster: Cluster,
    last_at: i64,
    terms: HashSet<u32>,
    places: HashMap<String, u32>,
}

fn cluster_refs(msgs: &[&Message], opts: &HotspotOptions) -> Vec<Cluster> {
    let docs = vectorize(msgs);
    let mut order: Vec<usize> = (0..msgs.len()).collect();
    order.sort_by_key(|&i| (msgs[i].at_ms, i));
    let mut work: Vec<Work> = Vec::new();
    let mut term_index: HashMap<u32, Vec<usize>> = HashMap::new();
    let mut place_index: HashMap<String, Vec<usize>> = HashMap::new();
    // Dense accumulator with a touched list: cheaper than a map on the hot path.
    let mut acc: Vec<f32> = Vec::new();
    let mut touched: Vec<usize> = Vec::new();
    for &i in &order {
        let d = &docs[i];
        let at = msgs[i].at_ms;
        let horizon = at - opts.link_window_ms;
        acc.resize(work.len(), 0.0);
        let weight: HashMap<u32, f32> = d.vec.iter().copied().collect();
        let mut bump = |c: usize, w: f32, acc: &mut Vec<f32>| {
            if work[c].last_at >= horizon {
                if acc[c] == 0.0 {
                    touched.push(c);
                }
                acc[c] += w;
            }
        };
        // Postings are in time order; the newest entries are the live clusters, so only the
        // tail is scanned. This bounds the work per message on very common bigrams.
        for t in &d.probes {
            if let Some(list) = term_index.get(t) {
                let w = weight.get(t).copied().unwrap_or(0.01).max(1e-4);
                for &c in &list[list.len().saturating_sub(POSTING_TAIL)..] {
                    bump(c, w, &mut acc);
                }
            }
        }
        for p in &d.places {
            if let Some(list) = place_index.get(p) {
                for &c in &list[list.len().saturating_sub(POSTING_TAIL)..] {
                    bump(c, 0.2, &mut acc);
                }
            }
        }
        let mut cands: Vec<(usize, f32)> = touched.iter().map(|&c| (c, acc[c])).collect();
        for &c in &touched {
            acc[c] = 0.0;
        }
        touched.clear();
        cands.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        cands.truncate(CANDIDATES);
        let mut best: Option<(usize, f32, f32)> = None;
        for (c, _) in cands {
            let w = &work[c];
            let dot: f32 = d
                .vec
                .iter()
                .map(|(t, x)| x * w.cluster.centroid.get(t).copied().unwrap_or(0.0))
                .sum();
            let mut sim = dot / w.cluster.norm2.sqrt().max(1e-6);
            // Compare with the places the cluster is about (named by a fifth of its members),
            // not with every place any member mentioned, or big clusters would match anything.
            let size = w.cluster.members.len() as u32;
            let shared = d
                .places
                .iter()
                .any(|p| w.places.get(p).is_some_and(|&n| n * 5 >= size));
            if !d.places.is_empty() && !w.places.is_empty() {
                if shared {
                    sim += opts.place_bonus;
                } else {
                    sim *= opts.other_place_factor;
                }
            }
            if best.is_none_or(|b| sim > b.1) {
                best = Some((c, sim, dot));
            }
        }
        let c = match best {
            Some((c, sim, dot)) if sim >= opts.similarity => {
                let w = &mut work[c];
                w.cluster.norm2 += 2.0 * dot + 1.0;
                c
            }
            _ => {
                work.push(Work {
                    cluster: Cluster {
                        members: Vec::new(),
                        centroid: HashMap::new(),
                        norm2: 1.0,
                    },
                    last_at: at,
                    terms: HashSet::new(),
                    places: HashMap::new(),
                });
                work.len() - 1
            }
        };
        let w = &mut work[c];
        w.cluster.members.push(i);
        w.last_at = at;
        for &(t, x) in &d.vec {
            *w.cluster.centroid.entry(t).or_insert(0.0) += x;
        }
        for &t in &d.probes {
            // Re-append a cluster that is already listed when its entry has fallen far back,
            // so that the tail scan keeps finding clusters that are still growing.
            let list = term_index.entry(t).or_default();
            let fresh = w.terms.insert(t);
            if fresh
                || (list.len() > POSTING_TAIL / 2
                    && !list[list.len() - POSTING_TAIL / 2..].contains(&c))
            {
                list.push(c);
            }
        }
        for p in &d.places {
            let n = w.places.entry(p.clone()).or_insert(0);
            if *n == 0 {
                place_index.entry(p.clone()).or_default().push(c);
            }
            *n += 1;
        }
    }
    merge_pass(work, msgs, opts)
}

/// Second pass: single-pass clustering splits an issue whose first messages were worded
/// differently. Clusters whose centroids are close (same place counted as in the first pass)
/// and whose time ranges lie within the link window are merged.
fn merge_pass(work: Vec<Work>, msgs: &[&Message], opts: &HotspotOptions) -> Vec<Cluster> {
    let n = work.len();
    let tops: Vec<Vec<(u32, f32)>> = work
        .iter()
        .map(|w| {
            let mut v: Vec<(u32, f32)> = w.cluster.centroid.iter().map(|(&t, &x)| (t, x)).collect();
            v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            v.truncate(VECTOR_TERMS);
            let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt().max(1e-6);
            for x in &mut v {
                x.1 /= norm;
            }
            v
        })
        .collect();
    let spans: Vec<(i64, i64)> = work
        .iter()
        .map(|w| {
            let ts = w.cluster.members.iter().map(|&i| msgs[i].at_ms);
            (ts.clone().min().unwrap_or(0), ts.max().unwrap_or(0))
        })
        .collect();
    let dominant: Vec<Option<&String>> = work
        .iter()
        .map(|w| {
            let size = w.cluster.members.len() as u32;
            w.places
                .iter()
                .filter(|(_, &c)| c * 2 >= size)
                .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                .map(|(p, _)| p)
        })
        .collect();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    let mut index: HashMap<u64, Vec<usize>> = HashMap::new();
    for c in 0..n {
        let mut keys: Vec<u64> = tops[c]
            .iter()
            .take(MERGE_KEYS)
            .map(|(t, _)| u64::from(*t))
            .collect();
        if let Some(p) = dominant[c] {
            keys.push(stable_hash(p) | (1 << 63));
        }
        let mut seen = HashSet::new();
        for k in &keys {
            let list = index.entry(*k).or_default();
            for &o in &list[list.len().saturating_sub(POSTING_TAIL / 4)..] {
                if !seen.insert(o) {
                    continue;
                }
                let gap = (spans[c].0 - spans[o].1).max(spans[o].0 - spans[c].1);
                if gap > opts.link_window_ms {
                    continue;
                }
                let mut sim = sparse_dot(&tops[c], &tops[o]);
                match (dominant[c], dominant[o]) {
                    (Some(a), Some(b)) if a == b => sim += opts.place_bonus,
                    (Some(_), Some(_)) => sim *= opts.other_place_factor,
                    _ => {}
                }
                if sim >= MERGE_SIMILARITY {
                    let (a, b) = (find(&mut parent, c), find(&mut parent, o));
                    if a != b {
                        parent[a.max(b)] = a.min(b);
                    }
                }
            }
            list.push(c);
        }
    }
    let mut merged: HashMap<usize, Cluster> = HashMap::new();
    for (c, w) in work.into_iter().enumerate() {
        let root = find(&mut parent, c);
        let e = merged.entry(root).or_insert_with(|| Cluster {
            members: Vec::new(),
            centroid: HashMap::new(),
            norm2: 0.0,
        });
        e.members.extend(w.cluster.members);
        for (t, x) in w.cluster.centroid {
            *e.centroid.entry(t).or_insert(0.0) += x;
        }
    }
    let mut out: Vec<(usize, Cluster)> = merged.into_iter().collect();
    out.sort_by_key(|(root, _)| *root);
    out.into_iter()
        .map(|(_, mut c)| {
            c.members.sort_by_key(|&i| (msgs[i].at_ms, i));
            c.norm2 = c.centroid.values().map(|x| x * x).sum();
            c
        })
        .collect()
}

/// Dot product of two sparse vectors (any order).
fn sparse_dot(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let m: HashMap<u32, f32> = small.iter().copied().collect();
    large
        .iter()
        .map(|(t, x)| x * m.get(t).copied().unwrap_or(0.0))
        .sum()
}

struct Stats {
    heat: f64,
    from: i64,
    to: i64,
    callers: usize,
    likes: i64,
}

fn stats(msgs: &[&Message], c: &Cluster, now: i64, tau_ms: f64) -> Stats {
    let members = &c.members;
    let from = members.iter().map(|&i| msgs[i].at_ms).min().unwrap_or(0);
    let to = members.iter().map(|&i| msgs[i].at_ms).max().unwrap_or(0);
    let mut users: HashSet<&str> = HashSet::new();
    let mut anonymous = 0;
    for &i in members {
        match &msgs[i].user {
            Some(u) => {
                users.insert(u);
            }
            None => anonymous += 1,
        }
    }
    let callers = users.len() + anonymous;
    let likes: i64 = members.iter().map(|&i| msgs[i].likes.max(0)).sum();
    let recency = (-((now - to).max(0) as f64) / tau_ms).exp();
    let recent = members
        .iter()
        .filter(|&&i| msgs[i].at_ms > now - 7 * DAY_MS && msgs[i].at_ms <= now)
        .count() as f64;
    let previous = members
        .iter()
        .filter(|&&i| msgs[i].at_ms > now - 14 * DAY_MS && msgs[i].at_ms <= now - 7 * DAY_MS)
        .count() as f64;
    let growth = ((recent - previous) / previous.max(1.0) / 2.0).clamp(0.0, 1.0);
    Stats {
        heat: heat(callers, members.len(), likes, recency, growth),
        from,
        to,
        callers,
        likes,
    }
}

fn describe(msgs: &[&Message], c: &Cluster, st: &Stats) -> Hotspot {
    let members = &c.members;
    let (from, to, callers, likes, h) = (st.from, st.to, st.callers, st.likes, st.heat);

    // Title: the member closest to the centroid, liked messages slightly preferred.
    let title_of = |i: usize| -> String {
        let t = msgs[i].text.split('\n').next().unwrap_or("").trim();
        let t = if t.is_empty() { msgs[i].text.trim() } else { t };
        t.chars().take(40).collect()
    };
    let central = central_member(msgs, c);

    // Place: the most named specific place, if at least a third of the members name it.
    let mut counts: HashMap<String, (usize, String)> = HashMap::new();
    let mut districts: HashMap<String, usize> = HashMap::new();
    for &i in members {
        let places = extract_places(&msgs[i].text);
        let mut seen = HashSet::new();
        for p in places {
            if p.kind == PlaceKind::District {
                if seen.insert(format!("d:{}", p.key)) {
                    *districts.entry(p.name).or_insert(0) += 1;
                }
            } else if p.kind.is_specific() && seen.insert(p.key.clone()) {
                let e = counts.entry(p.key).or_insert((0, p.name.clone()));
                e.0 += 1;
                if p.name.chars().count() > e.1.chars().count() {
                    e.1 = p.name;
                }
            }
        }
    }
    let need = members.len().div_ceil(3).max(1);
    let best_place = counts
        .into_iter()
        .filter(|(_, (n, _))| *n >= need)
        .max_by(|a, b| a.1 .0.cmp(&b.1 .0).then_with(|| b.0.cmp(&a.0)))
        .map(|(_, (_, name))| name);
    let best_district = districts
        .into_iter()
        .filter(|(_, n)| *n >= need)
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        .map(|(d, _)| d);
    let place = match (best_district, best_place) {
        (Some(d), Some(p)) => format!("{d}{p}"),
        (None, Some(p)) => p,
        (Some(d), None) => d,
        (None, None) => String::new(),
    };
    let mut ids: Vec<(i64, &str)> = members
        .iter()
        .map(|&i| (msgs[i].at_ms, msgs[i].id.as_str()))
        .collect();
    ids.sort();
    Hotspot {
        rank: 0,
        heat: (h * 100.0).round() / 100.0,
        title: title_of(central),
        place,
        time_from: format_china_time(from),
        time_to: format_china_time(to),
        ticket_ids: ids.into_iter().map(|(_, id)| id.to_string()).collect(),
        from_ms: from,
        to_ms: to,
        callers,
        likes,
    }
}

/// The member whose title shares most bigrams with the other members' titles (linear: the
/// bigram counts over the cluster are taken once).
fn central_member(msgs: &[&Message], c: &Cluster) -> usize {
    let title_bigrams = |i: usize| -> HashSet<u64> {
        let mut set = HashSet::new();
        let title = msgs[i].text.split('\n').next().unwrap_or("");
        for_each_bigram(&normalize(title), |h| {
            set.insert(h);
        });
        set
    };
    let sets: Vec<HashSet<u64>> = c.members.iter().map(|&i| title_bigrams(i)).collect();
    let mut counts: HashMap<u64, u32> = HashMap::new();
    for set in &sets {
        for h in set {
            *counts.entry(*h).or_insert(0) += 1;
        }
    }
    let mut best = (c.members[0], f32::MIN);
    for (k, &i) in c.members.iter().enumerate() {
        let s: f32 = sets[k].iter().map(|h| counts[h] as f32).sum();
        // Normalised so that a long title does not win by length; liked messages preferred.
        let score =
            s / (sets[k].len() as f32 + 4.0) + 0.05 * (msgs[i].likes.max(0) as f32 + 1.0).ln();
        if score > best.1 {
            best = (i, score);
        }
    }
    best.0
}

/// `YYYY-MM-DD HH:MM:SS` in China time (UTC+8, no daylight saving).
pub fn format_china_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000) + 8 * 3600;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Parses `YYYY-MM-DD HH:MM:SS` (or `YYYY-MM-DD`, `YYYY/MM/DD …`) as China time.
pub fn parse_china_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = s.split_once([' ', 'T']).unwrap_or((s, "00:00:00"));
    let mut d = date.split(['-', '/']).map(|x| x.parse::<i64>().ok());
    let (y, m, dd) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|x| x.trim().parse::<i64>().ok());
    let h = t.next().flatten().unwrap_or(0);
    let mi = t.next().flatten().unwrap_or(0);
    let se = t.next().flatten().unwrap_or(0);
    if !(1..=12).contains(&m) || !(1..=31).contains(&dd) {
        return None;
    }
    let days = days_from_civil(y, m, dd);
    Some(((days * 86_400 + h * 3600 + mi * 60 + se) - 8 * 3600) * 1000)
}

// Howard Hinnant's civil calendar algorithms (public domain).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

// ---------------------------------------------------------------------------------------------
// Places

/// What kind of place a name is; the order is the order of specificity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum PlaceKind {
    /// 小区、社区、花园、公寓、家园、新村、新城、…苑
    Estate,
    /// 学校、小学、中学、大学、学院、幼儿园
    School,
    /// 公司、集团、物业、厂、医院
    Company,
    /// 村
    Village,
    /// 路、街、大道
    Road,
    /// 街道、镇、乡
    Subdistrict,
    /// 区、县 (the anonymised "A5区" of the board included)
    District,
}

impl PlaceKind {
    /// Names one spot a complaint is about (a district or a street office is too wide).
    pub fn is_specific(self) -> bool {
        !matches!(self, PlaceKind::Subdistrict | PlaceKind::District)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    /// As written, e.g. "丽发新城小区".
    pub name: String,
    /// For matching: "丽发新城小区" and "丽发新城" share the key "丽发新城".
    pub key: String,
    pub kind: PlaceKind,
}

const SUFFIXES: &[(&str, PlaceKind)] = &[
    ("有限公司", PlaceKind::Company),
    ("幼儿园", PlaceKind::School),
    ("大道", PlaceKind::Road),
    ("小区", PlaceKind::Estate),
    ("社区", PlaceKind::Estate),
    ("花园", PlaceKind::Estate),
    ("公寓", PlaceKind::Estate),
    ("家园", PlaceKind::Estate),
    ("新村", PlaceKind::Estate),
    ("新城", PlaceKind::Estate),
    ("小学", PlaceKind::School),
    ("中学", PlaceKind::School),
    ("大学", PlaceKind::School),
    ("学院", PlaceKind::School),
    ("学校", PlaceKind::School),
    ("公司", PlaceKind::Company),
    ("集团", PlaceKind::Company),
    ("物业", PlaceKind::Company),
    ("医院", PlaceKind::Company),
    ("街道", PlaceKind::Subdistrict),
    ("苑", PlaceKind::Estate),
    ("村", PlaceKind::Village),
    ("路", PlaceKind::Road),
    ("街", PlaceKind::Road),
    ("厂", PlaceKind::Company),
    ("镇", PlaceKind::Subdistrict),
];

/// Characters that end a name when walking back from its suffix (function words, pronouns).
const BOUNDARY: &str =
    "的在是了与及对到向给把被将从这那该本我你他她们个都也还就请让使由因但而或称叫住买等于为和说跟所临靠去来帮找要想能会没不很太已两距旦且若如则";

/// Words after which the name starts ("反映丽发新城小区" → "丽发新城小区").
const STOP_PREFIXES: &[&str] = &[
    "反映", "关于", "投诉", "举报", "建议", "请问", "咨询", "位于", "地处", "坐落", "座落", "居住",
    "入住", "购买", "购房", "住在", "导致", "影响", "整个", "现在", "目前", "附近", "周边", "所在",
    "旁边", "对面", "隔壁", "楼下", "门口", "配套", "希望", "要求", "强烈", "严重", "市民", "业主",
    "本人", "家住", "一个", "这个", "那个", "多个", "所有", "全体", "广大", "其他", "同一", "一家",
    "一所", "一条", "这条", "那条", "每条", "各", "某", "原",
];

/// Names that are a kind, not a place ("物业公司", "安置小区", "这条路").
const GENERIC: &[&str] = &[
    "物业",
    "物业服务",
    "建筑",
    "建设",
    "开发",
    "房地产",
    "房地产开发",
    "自来水",
    "燃气",
    "电力",
    "供电",
    "供水",
    "公交",
    "出租车",
    "快递",
    "保险",
    "投资",
    "科技",
    "劳务",
    "环卫",
    "园林",
    "文化",
    "旅游",
    "教育",
    "培训",
    "医疗",
    "道",
    "马",
    "公",
    "铁",
    "高速公",
    "十字",
    "交通",
    "线",
    "城市",
    "农村",
    "乡村",
    "城中",
    "私立",
    "公立",
    "民办",
    "公办",
    "重点",
    "普通",
    "职业",
    "技术",
    "附属",
    "实验",
    "寄宿",
    "国际",
    "中心",
    "社会",
    "工",
    "公共",
    "停车",
    "安置",
    "老旧",
    "商品房",
    "老",
    "新",
    "小",
    "大",
    "中",
    "高",
    "初",
    "名",
    "好",
    "网",
    "电",
    "水",
    "出",
    "走",
    "修",
    "思",
    "回家",
    "上学",
    "道路",
    "车",
    "区",
    "小区",
    "社区",
    "农",
    "街",
    "主干",
    "国有",
    "上市",
    "私营",
    "民营",
    "外地",
    "本地",
    "当地",
    "相关",
    "有关",
    "涉事",
    "承建",
    "施工",
    "监理",
    "物管",
    "管理",
    "服务",
    "专业",
    "正规",
    "街道",
    "合作",
    "分",
    "子",
    "总",
    "母",
    "一",
    "二",
    "三",
    "市",
    "县",
    "省",
    "村",
    "镇",
    "乡",
    "高校",
    "学",
    "中小",
    "小学",
    "幼儿",
    "在建",
    "新建",
    "扩建",
    "改建",
];

fn is_name_char(c: char) -> bool {
    is_cjk(c) || c.is_ascii_alphanumeric()
}

/// Region codes as the board anonymises them ("A市", "A5区", "K9县", "西地省") end a prefix.
fn region_code_end(chars: &[char]) -> Option<usize> {
    let mut cut = None;
    for i in 0..chars.len() {
        let c = chars[i];
        if matches!(c, '市' | '区' | '县' | '省') && i > 0 && chars[i - 1].is_ascii_alphanumeric()
        {
            cut = Some(i + 1);
        }
        if c == '省' || (c == '市' && i + 1 < chars.len()) {
            cut = Some(i + 1);
        }
        if c == '县' && i >= 1 && i + 1 < chars.len() {
            cut = Some(i + 1);
        }
        if c == '区'
            && i >= 2
            && i + 1 < chars.len()
            && !"小社园景城片校厂矿营商住校新老山湖".contains(chars[i - 1])
        {
            cut = Some(i + 1);
        }
    }
    cut
}

fn clean_name(raw: &[char]) -> Vec<char> {
    let mut name: Vec<char> = raw.to_vec();
    if let Some(cut) = region_code_end(&name) {
        name.drain(..cut);
    }
    // Admin or road markers inside the name: "雨花亭街道丽发新城" → "丽发新城".
    loop {
        let s: String = name.iter().collect();
        let mut cut = None;
        for m in ["街道", "镇", "乡", "路", "大道", "村"] {
            if let Some(p) = s.rfind(m) {
                let after = s[p + m.len()..].chars().count();
                if after >= 2 {
                    let at = s[..p + m.len()].chars().count();
                    cut = Some(cut.map_or(at, |c: usize| c.max(at)));
                }
            }
        }
        for w in STOP_PREFIXES {
            if let Some(p) = s.rfind(w) {
                let at = s[..p + w.len()].chars().count();
                cut = Some(cut.map_or(at, |c: usize| c.max(at)));
            }
        }
        match cut {
            Some(c) if c > 0 && c <= name.len() => {
                name.drain(..c);
            }
            _ => break,
        }
    }
    name
}

/// Places named in a text, in order of appearance, each key once.
pub fn extract_places(text: &str) -> Vec<Place> {
    let chars: Vec<char> = text
        .chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect();
    let mut out: Vec<Place> = Vec::new();
    let mut keys = HashSet::new();
    let mut floor = 0usize; // a name never reaches back into the previous place
    let mut i = 0usize;
    while i < chars.len() {
        // District codes of the board: "A5区", "A7县".
        if chars[i].is_ascii_uppercase() {
            let mut j = i + 1;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            // "五矿万境K9县" is an anonymised estate name, not a county: a district code
            // follows a city, a punctuation mark or the start of the text.
            let after_name = i > 0 && is_cjk(chars[i - 1]) && !matches!(chars[i - 1], '市' | '省');
            if j > i + 1 && j < chars.len() && matches!(chars[j], '区' | '县') && !after_name {
                let name: String = chars[i..=j].iter().collect();
                if keys.insert(format!("d:{name}")) {
                    out.push(Place {
                        key: name.clone(),
                        name,
                        kind: PlaceKind::District,
                    });
                }
                i = j + 1;
                floor = i;
                continue;
            }
        }
        let Some(&(suffix, kind)) = SUFFIXES.iter().find(|(s, _)| starts_with(&chars, i, s)) else {
            i += 1;
            continue;
        };
        let mut end = i + suffix.chars().count();
        // "丽发新城小区": an estate suffix right after another one belongs to the same name.
        for s in ["小区", "社区"] {
            if kind == PlaceKind::Estate && starts_with(&chars, end, s) {
                end += 2;
            }
        }
        // "厂家", "路线", "村民委员会" stay places only where the suffix really ends a name.
        let next = chars.get(end).copied().unwrap_or(' ');
        let bad_next = match suffix {
            "厂" => "家房区长商".contains(next),
            "路" => "线费径由".contains(next),
            "街" => "头坊".contains(next),
            "物业" => "费管服公".contains(next),
            _ => false,
        };
        let max = if kind == PlaceKind::Company { 14 } else { 6 };
        let mut s = i;
        while s > floor && i - s < max {
            let c = chars[s - 1];
            if !is_name_char(c) || BOUNDARY.contains(c) {
                break;
            }
            s -= 1;
        }
        let name = clean_name(&chars[s..i]);
        let name_str: String = name.iter().collect();
        let cjk = name.iter().filter(|c| is_cjk(**c)).count();
        let ok = !bad_next
            && cjk >= 2
            && !GENERIC.contains(&name_str.as_str())
            && !name.iter().all(|c| c.is_ascii_alphanumeric());
        if ok {
            let suffix_str: String = chars[i..end].iter().collect();
            let full = format!("{name_str}{suffix_str}");
            let key = {
                let k = full
                    .strip_suffix("小区")
                    .or_else(|| full.strip_suffix("社区"))
                    .unwrap_or(&full);
                if k.chars().count() >= 3 {
                    k.to_string()
                } else {
                    full.clone()
                }
            };
            if keys.insert(key.clone()) {
                out.push(Place {
                    name: full,
                    key,
                    kind,
                });
            }
            floor = end;
        }
        i = end;
    }
    out
}

fn starts_with(chars: &[char], at: usize, s: &str) -> bool {
    (at..).zip(s.chars()).all(|(k, c)| chars.get(k) == Some(&c))
}

/// Stable 64-bit hash of a string (for callers that want to bucket places or titles).
pub fn stable_hash(s: &str) -> u64 {
    s.bytes()
        .fold(0xCBF2_9CE4_8422_2325u64, |h, b| mix64(h ^ u64::from(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(t: &str) -> Vec<String> {
        extract_places(t).into_iter().map(|p| p.name).collect()
    }

    #[test]
    fn places_from_board_text() {
        assert_eq!(
            names("A市A2区雨花亭街道丽发新城小区附近搅拌站噪音扰民"),
            vec!["A2区", "雨花亭街道", "丽发新城小区"]
        );
        assert_eq!(names("我们小区的物业公司不作为"), Vec::<String>::new());
        assert!(names("反映A5区魅力之城小区油烟").contains(&"魅力之城小区".to_string()));
        assert!(names("A3区郝家坪小学什么时候能改扩建").contains(&"郝家坪小学".to_string()));
    }

    #[test]
    fn china_time_round_trips() {
        let ms = parse_china_time("2019-07-07 07:28:06").unwrap();
        assert_eq!(format_china_time(ms), "2019-07-07 07:28:06");
    }
}
