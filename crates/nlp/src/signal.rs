//! Weak signals (社区弱信号研判): volume rising well above a key's own baseline, and new clusters
//! growing fast.
//!
//! Volume: per key (a community, a category, or both joined) daily counts; for each day the
//! baseline is the trailing window *before* that day, so a burst never hides itself. Counts of
//! complaints are over-dispersed (weekdays, rainy weeks), so the test is two-fold: a Poisson
//! tail probability against the trailing mean **and** a robust z-score against the trailing
//! median and MAD. Both must agree and the count must clear a small floor, which keeps quiet
//! keys with a baseline near zero from alerting on two calls.

use crate::hotspot::{format_china_time, DAY_MS};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

/// One observation: a ticket of `key` at `at_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub key: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// 量能异常：a key's volume well above its own baseline.
    VolumeSpike,
    /// 新增聚集：a new cluster growing fast.
    NewCluster,
}

/// An alert (研判告警) with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub key: String,
    pub kind: AlertKind,
    /// Strength: −log10 of the tail probability for spikes; growth × callers for clusters.
    pub score: f64,
    pub from_ms: i64,
    pub to_ms: i64,
    /// Tickets in the alert window and what the baseline expected there.
    pub observed: i64,
    pub expected: f64,
    /// zh-CN statements a supervisor can check.
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct SignalOptions {
    /// Counts are per bucket of this many days: 1 for a city's daily volumes, 7 for one
    /// estate or a small board, where a day holds a handful of tickets at most.
    pub bucket_days: i64,
    /// Trailing days the baseline is computed from.
    pub baseline_days: i64,
    /// Days with less history than this are not judged.
    pub min_history_days: i64,
    /// Minimum tickets in the bucket.
    pub min_count: i64,
    /// Poisson tail probability must be below this.
    pub max_p: f64,
    /// Robust z-score must reach this.
    pub min_z: f64,
    /// Observed must be at least this multiple of the baseline mean.
    pub min_ratio: f64,
    /// Only days in `[from_ms, to_ms]` are judged (the baseline may reach before `from_ms`).
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

impl Default for SignalOptions {
    fn default() -> Self {
        SignalOptions {
            bucket_days: 1,
            baseline_days: 28,
            min_history_days: 14,
            min_count: 5,
            max_p: 1e-4,
            min_z: 4.0,
            min_ratio: 2.5,
            from_ms: None,
            to_ms: None,
        }
    }
}

/// China-time day number of a timestamp.
/// China-time bucket number of a timestamp; weeks start on Monday (1970-01-01 was a Thursday).
fn day_of(ms: i64, b: i64) -> i64 {
    let day = (ms + 8 * 3_600_000).div_euclid(DAY_MS);
    (day + week_offset(b)).div_euclid(b)
}

fn week_offset(b: i64) -> i64 {
    if b == 7 {
        3
    } else {
        0
    }
}

fn day_start_ms(bucket: i64, b: i64) -> i64 {
    (bucket * b - week_offset(b)) * DAY_MS - 8 * 3_600_000
}

/// Volume alerts. Consecutive alerting days of a key are reported as one alert.
pub fn volume_alerts(events: &[Event], opts: &SignalOptions) -> Vec<Alert> {
    if events.is_empty() {
        return Vec::new();
    }
    let b = opts.bucket_days.max(1);
    let mut by_key: BTreeMap<&str, BTreeMap<i64, i64>> = BTreeMap::new();
    let mut first_day = i64::MAX;
    let mut last_day = i64::MIN;
    for e in events {
        let d = day_of(e.at_ms, b);
        first_day = first_day.min(d);
        last_day = last_day.max(d);
        *by_key.entry(&e.key).or_default().entry(d).or_insert(0) += 1;
    }
    let judge_from = opts.from_ms.map_or(first_day, |t| day_of(t, b));
    let judge_to = opts.to_ms.map_or(last_day, |t| day_of(t, b));
    let mut out = Vec::new();
    for (key, days) in by_key {
        // The series starts at the first day of the whole input, not the key's first ticket:
        // a key that was silent for weeks has a real baseline of zero.
        let n = (last_day - first_day + 1) as usize;
        let mut series = vec![0i64; n];
        for (d, c) in &days {
            series[(d - first_day) as usize] = *c;
        }
        let mut open: Option<(i64, i64, i64, f64, f64, Vec<String>)> = None; // from, to, obs, exp, score, ev
                                                                             // Days already flagged stay out of later baselines, so a burst of several days is
                                                                             // judged against the quiet weeks before it, not against its own first day.
        let mut flagged = vec![false; n];
        for idx in 0..n {
            let day = first_day + idx as i64;
            let hist_from = idx.saturating_sub((opts.baseline_days / b).max(1) as usize);
            let history: Vec<i64> = (hist_from..idx)
                .filter(|&k| !flagged[k])
                .map(|k| series[k])
                .collect();
            let judged = day >= judge_from
                && day <= judge_to
                && history.len() as i64 >= (opts.min_history_days / b).max(1);
            let hit = if judged {
                test_day(series[idx], &history, opts)
            } else {
                None
            };
            flagged[idx] = hit.is_some();
            match (hit, open.as_mut()) {
                (Some((p, z, mean, med)), Some(cur)) if cur.1 == day - 1 => {
                    cur.1 = day;
                    cur.2 += series[idx];
                    cur.3 += mean;
                    cur.4 = cur.4.max(-p.log10());
                    cur.5.push(day_evidence(day, b, series[idx], mean, med, z));
                }
                (Some((p, z, mean, med)), _) => {
                    if let Some(done) = open.take() {
                        out.push(finish(key, b, done));
                    }
                    open = Some((
                        day,
                        day,
                        series[idx],
                        mean,
                        -p.log10(),
                        vec![day_evidence(day, b, series[idx], mean, med, z)],
                    ));
                }
                (None, _) => {
                    if let Some(done) = open.take() {
                        out.push(finish(key, b, done));
                    }
                }
            }
        }
        if let Some(done) = open.take() {
            out.push(finish(key, b, done));
        }
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.key.cmp(&b.key)));
    out
}

/// `Some((p, z, mean, median))` when the day is a spike.
fn test_day(x: i64, history: &[i64], opts: &SignalOptions) -> Option<(f64, f64, f64, f64)> {
    if x < opts.min_count {
        return None;
    }
    let mean = history.iter().sum::<i64>() as f64 / history.len().max(1) as f64;
    let mut sorted: Vec<i64> = history.to_vec();
    sorted.sort_unstable();
    let med = median(&sorted);
    let mut dev: Vec<f64> = sorted.iter().map(|v| (*v as f64 - med).abs()).collect();
    dev.sort_by(f64::total_cmp);
    let mad = median_f(&dev);
    // 1.4826·MAD estimates σ for normal data; the Poisson σ of the mean is the floor, and +0.5
    // keeps an all-zero history from dividing by zero.
    let sigma = (1.4826 * mad).max(mean.sqrt()).max(0.5);
    let z = (x as f64 - med) / sigma;
    // An upper confidence bound of the rate, not the plain mean: with four weeks of history the
    // mean itself is noisy, and underestimating it is what makes quiet keys alert.
    let lambda = (mean + 2.0 * (mean / history.len().max(1) as f64).sqrt()).max(0.2);
    let p = poisson_sf(x, lambda);
    (p <= opts.max_p && z >= opts.min_z && x as f64 >= opts.min_ratio * mean.max(0.5)).then_some((
        p.max(1e-300),
        z,
        mean,
        med,
    ))
}

fn median(sorted: &[i64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2] as f64,
        n => (sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0,
    }
}

fn median_f(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// P(X ≥ x) for X ~ Poisson(λ), summed in log space so that large x do not underflow early.
pub fn poisson_sf(x: i64, lambda: f64) -> f64 {
    if x <= 0 {
        return 1.0;
    }
    // P(X ≥ x) = 1 − P(X ≤ x−1); for the tail use the direct sum from x upward, which is
    // accurate exactly where alerts live (small probabilities).
    let ln_l = lambda.ln();
    let mut ln_term = x as f64 * ln_l - lambda - ln_factorial(x);
    let mut sum = 0.0;
    let mut k = x;
    loop {
        let t = ln_term.exp();
        sum += t;
        k += 1;
        ln_term += ln_l - (k as f64).ln();
        if t < sum * 1e-12 || k > x + 10_000 {
            break;
        }
    }
    sum.min(1.0)
}

fn ln_factorial(n: i64) -> f64 {
    if n < 2 {
        return 0.0;
    }
    if n < 64 {
        return (2..=n).map(|k| (k as f64).ln()).sum();
    }
    // Stirling with the 1/12n term: error below 1e-9 for n ≥ 64.
    let n = n as f64;
    n * n.ln() - n + 0.5 * (2.0 * std::f64::consts::PI * n).ln() + 1.0 / (12.0 * n)
}

fn day_evidence(day: i64, b: i64, x: i64, mean: f64, med: f64, z: f64) -> String {
    let date = &format_china_time(day_start_ms(day, b))[..10];
    if b > 1 {
        return format!(
            "{date} 起 {b} 天受理 {x} 件，前期每 {b} 天平均 {mean:.1} 件（中位数 {med:.0}），稳健 z 值 {z:.1}"
        );
    }
    format!("{date} 受理 {x} 件，前期日均 {mean:.1} 件（中位数 {med:.0}），稳健 z 值 {z:.1}")
}

fn finish(
    key: &str,
    b: i64,
    (from, to, observed, expected, score, mut ev): (i64, i64, i64, f64, f64, Vec<String>),
) -> Alert {
    let days = (to - from + 1) * b;
    ev.insert(
        0,
        format!("「{key}」连续 {days} 天量能异常：共 {observed} 件，按基线预计约 {expected:.1} 件"),
    );
    Alert {
        key: key.to_string(),
        kind: AlertKind::VolumeSpike,
        score: (score * 100.0).round() / 100.0,
        from_ms: day_start_ms(from, b),
        to_ms: day_start_ms(to + 1, b) - 1,
        observed,
        expected: (expected * 100.0).round() / 100.0,
        evidence: ev,
    }
}

/// A cluster's activity, e.g. from [`crate::hotspot::cluster`].
#[derive(Debug, Clone)]
pub struct ClusterActivity {
    /// A label: the hot-issue title or place.
    pub key: String,
    /// One entry per ticket: its time and caller (if known).
    pub tickets: Vec<(i64, Option<String>)>,
}

#[derive(Debug, Clone)]
pub struct GrowthOptions {
    /// A cluster is new when its first ticket is within this many days of `now`.
    pub new_days: i64,
    /// Minimum distinct callers in the last `recent_days`.
    pub min_callers: usize,
    pub recent_days: i64,
    /// Recent tickets must be at least this multiple of those in the `recent_days` before.
    pub min_growth: f64,
}

impl Default for GrowthOptions {
    fn default() -> Self {
        GrowthOptions {
            new_days: 14,
            min_callers: 5,
            recent_days: 3,
            min_growth: 2.0,
        }
    }
}

/// New clusters growing fast: first seen within `new_days`, at least `min_callers` distinct
/// callers in the last `recent_days`, and growing at least `min_growth`-fold on the window before.
pub fn growth_alerts(
    clusters: &[ClusterActivity],
    now_ms: i64,
    opts: &GrowthOptions,
) -> Vec<Alert> {
    let mut out = Vec::new();
    let recent_from = now_ms - opts.recent_days * DAY_MS;
    let prev_from = recent_from - opts.recent_days * DAY_MS;
    for c in clusters {
        let Some(first) = c.tickets.iter().map(|t| t.0).min() else {
            continue;
        };
        if first < now_ms - opts.new_days * DAY_MS {
            continue;
        }
        let recent: Vec<&(i64, Option<String>)> = c
            .tickets
            .iter()
            .filter(|t| t.0 > recent_from && t.0 <= now_ms)
            .collect();
        let previous = c
            .tickets
            .iter()
            .filter(|t| t.0 > prev_from && t.0 <= recent_from)
            .count();
        let mut callers: HashSet<&str> = HashSet::new();
        let mut anonymous = 0usize;
        for t in &recent {
            match &t.1 {
                Some(u) => {
                    callers.insert(u);
                }
                None => anonymous += 1,
            }
        }
        let distinct = callers.len() + anonymous;
        let growth = recent.len() as f64 / previous.max(1) as f64;
        if distinct < opts.min_callers || growth < opts.min_growth {
            continue;
        }
        let span = opts.recent_days;
        out.push(Alert {
            key: c.key.clone(),
            kind: AlertKind::NewCluster,
            score: ((growth * distinct as f64) * 100.0).round() / 100.0,
            from_ms: first,
            to_ms: now_ms,
            observed: recent.len() as i64,
            expected: previous as f64,
            evidence: vec![
                format!(
                    "「{}」为新出现的聚集，首件受理于 {}",
                    c.key,
                    format_china_time(first)
                ),
                format!(
                    "近 {span} 天 {} 件、{distinct} 位来电人，此前 {span} 天 {previous} 件，增长 {growth:.1} 倍",
                    recent.len()
                ),
            ],
        });
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.key.cmp(&b.key)));
    out
}

/// Cluster activity from [`crate::hotspot::cluster`], labelled by the first member's title.
pub fn activities(
    messages: &[crate::hotspot::Message],
    clusters: &[crate::hotspot::Cluster],
) -> Vec<ClusterActivity> {
    clusters
        .iter()
        .filter(|c| !c.members.is_empty())
        .map(|c| ClusterActivity {
            key: messages[c.members[0]]
                .text
                .split('\n')
                .next()
                .unwrap_or("")
                .chars()
                .take(40)
                .collect(),
            tickets: c
                .members
                .iter()
                .map(|&i| (messages[i].at_ms, messages[i].user.clone()))
                .collect(),
        })
        .collect()
}
