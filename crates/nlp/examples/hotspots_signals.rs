//! Weak signals (研判告警) on a board CSV: volume spikes per district and per named place, and
//! new clusters growing fast as of each month's end.
//!
//! `cargo run --release -p nlp --example hotspots_signals -- ../shared/data/hotline/messages_with_votes.csv`

use nlp::hotspot::{cluster, extract_places, parse_china_time, HotspotOptions, Message, PlaceKind};
use nlp::signal::{activities, growth_alerts, volume_alerts, Event, GrowthOptions, SignalOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "../shared/data/hotline/messages_with_votes.csv".to_string());
    let mut rd = csv::Reader::from_path(&path)?;
    let mut messages = Vec::new();
    for rec in rd.records() {
        let r = rec?;
        messages.push(Message {
            id: r[0].to_string(),
            text: format!("{}\n{}", &r[2], &r[4]),
            at_ms: parse_china_time(&r[3]).unwrap_or(0),
            user: Some(r[1].to_string()),
            likes: r.get(5).and_then(|x| x.parse().ok()).unwrap_or(0),
        });
    }
    // Keys: the district and every specific place a message names.
    let mut events = Vec::new();
    for m in &messages {
        for p in extract_places(&m.text) {
            if p.kind == PlaceKind::District || p.kind.is_specific() {
                events.push(Event {
                    key: p.key,
                    at_ms: m.at_ms,
                });
            }
        }
    }
    // A board gets a handful of messages a day: judge weeks against the eight weeks before.
    let weekly = SignalOptions {
        bucket_days: 7,
        baseline_days: 56,
        min_history_days: 28,
        // The board filled up only in 2019: judge from March, after eight weeks of history.
        from_ms: parse_china_time("2019-03-01 00:00:00"),
        ..SignalOptions::default()
    };
    let spikes = volume_alerts(&events, &weekly);
    println!("量能异常告警 {} 条：", spikes.len());
    for a in spikes.iter().take(15) {
        println!("  [{:.1}] {}", a.score, a.evidence.join("；"));
    }
    let clusters = cluster(&messages, &HotspotOptions::default());
    let acts = activities(&messages, &clusters);
    // Weekly review on Mondays: clusters first seen in the last four weeks, four callers or
    // more in the last week, half as many again as the week before (a board moves slower
    // than a city's phone line, whose defaults are GrowthOptions::default()).
    println!("新增聚集告警（每周一研判）：");
    let growth = GrowthOptions {
        new_days: 28,
        min_callers: 4,
        recent_days: 7,
        min_growth: 1.5,
    };
    let start = parse_china_time("2019-01-07 00:00:00").unwrap_or(0);
    let mut reported = std::collections::HashSet::new();
    for week in 0..56 {
        let now = start + week * 7 * 86_400_000;
        for a in growth_alerts(&acts, now, &growth) {
            if reported.insert(a.key.clone()) {
                let date = nlp::hotspot::format_china_time(now);
                println!(
                    "  {} [{:.1}] {}",
                    &date[..10],
                    a.score,
                    a.evidence.join("；")
                );
            }
        }
    }
    Ok(())
}
