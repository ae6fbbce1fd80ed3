//! Weak signals on generated data: injected bursts are found, quiet weeks raise nothing.

use nlp::signal::{
    growth_alerts, volume_alerts, AlertKind, ClusterActivity, Event, GrowthOptions, SignalOptions,
};

const DAY: i64 = 86_400_000;

/// SplitMix64: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Poisson by inversion (small means).
    fn poisson(&mut self, lambda: f64) -> i64 {
        let (mut k, mut p, l) = (0, 1.0, (-lambda).exp());
        loop {
            p *= self.unit();
            if p <= l {
                return k;
            }
            k += 1;
        }
    }
}

const T0: i64 = 1_735_660_800_000; // 2025-01-01 00:00 China time

/// 16 weeks of quiet traffic for 30 communities with different base rates and a weekday
/// pattern; optional bursts `(key, first day, days, extra per day)`.
fn generate(seed: u64, bursts: &[(&str, i64, i64, i64)]) -> Vec<Event> {
    let mut rng = Rng(seed);
    let mut out = Vec::new();
    for c in 0..30 {
        let key = format!("社区{c:02}");
        let base = 0.3 + (c % 6) as f64 * 0.8;
        for day in 0..112 {
            let weekday_factor = if day % 7 >= 5 { 0.6 } else { 1.1 };
            let n = rng.poisson(base * weekday_factor);
            for _ in 0..n {
                let at = T0 + day * DAY + (rng.next() % (DAY as u64)) as i64;
                out.push(Event {
                    key: key.clone(),
                    at_ms: at,
                });
            }
        }
    }
    for &(key, first, days, extra) in bursts {
        for d in first..first + days {
            for k in 0..extra {
                out.push(Event {
                    key: key.to_string(),
                    at_ms: T0 + d * DAY + 3_600_000 * (1 + k % 10),
                });
            }
        }
    }
    out
}

#[test]
fn quiet_weeks_raise_nothing() {
    for seed in 1..=20 {
        let alerts = volume_alerts(&generate(seed, &[]), &SignalOptions::default());
        assert!(alerts.is_empty(), "seed {seed}: {alerts:#?}");
    }
}

#[test]
fn injected_bursts_are_found() {
    for seed in 1..=20 {
        let events = generate(seed, &[("社区03", 80, 2, 12), ("社区10", 100, 1, 15)]);
        let alerts = volume_alerts(&events, &SignalOptions::default());
        let keys: Vec<&str> = alerts.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(alerts.len(), 2, "seed {seed}: {alerts:#?}");
        assert!(
            keys.contains(&"社区03") && keys.contains(&"社区10"),
            "{keys:?}"
        );
        let a = alerts.iter().find(|a| a.key == "社区03").unwrap();
        assert_eq!(a.kind, AlertKind::VolumeSpike);
        // The alert lies inside the injected days (a weekend first day may stay below the bar).
        assert!(
            a.from_ms >= T0 + 80 * DAY && a.to_ms < T0 + 82 * DAY,
            "{a:#?}"
        );
        assert!(a.observed >= 12);
        assert!(a.evidence[0].contains("社区03"), "{:?}", a.evidence);
    }
}

#[test]
fn a_new_cluster_growing_fast_alerts_and_an_old_steady_one_does_not() {
    let now = T0 + 60 * DAY;
    // Two tickets five days ago, then eight callers in the last three days.
    let mut new: Vec<(i64, Option<String>)> = vec![
        (now - 5 * DAY, Some("U0".into())),
        (now - 5 * DAY + 60_000, Some("U1".into())),
    ];
    new.extend((0..8).map(|k| (now - 2 * DAY + k * DAY / 4, Some(format!("U{}", k + 2)))));
    let old: Vec<(i64, Option<String>)> = (0..60)
        .map(|k| (T0 + k * DAY, Some(format!("U{k}"))))
        .collect();
    let alerts = growth_alerts(
        &[
            ClusterActivity {
                key: "新城小区停水".into(),
                tickets: new,
            },
            ClusterActivity {
                key: "老街噪音".into(),
                tickets: old,
            },
        ],
        now,
        &GrowthOptions::default(),
    );
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].key, "新城小区停水");
    assert_eq!(alerts[0].kind, AlertKind::NewCluster);
    assert!(alerts[0].evidence.iter().any(|e| e.contains("来电人")));
}

#[test]
fn weekly_buckets_find_a_week_of_many_small_days() {
    // Three extra tickets a day for a week: small per day, plain per week.
    let events = generate(7, &[("社区00", 84, 7, 3)]);
    let weekly = SignalOptions {
        bucket_days: 7,
        baseline_days: 56,
        min_history_days: 28,
        ..SignalOptions::default()
    };
    let alerts = volume_alerts(&events, &weekly);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].key, "社区00");
    assert!(
        alerts[0].evidence[1].contains("起 7 天受理"),
        "{:?}",
        alerts[0].evidence
    );
    assert!(volume_alerts(&generate(7, &[]), &weekly).is_empty());
}
