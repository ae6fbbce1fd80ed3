//! The alerts' rules, pure: which subjects a ticket counts for, the weekly volume and cluster
//! analysis over `nlp::signal`, and who sees which alert.

use kernel::{Actor, Role, Scope};
use nlp::hotspot::{format_china_time, HotspotOptions, Message};
use nlp::signal::{AlertKind, ClusterActivity, Event, GrowthOptions, SignalOptions};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

pub(super) const DAY_MS: i64 = 86_400_000;
pub(super) const WEEK_MS: i64 = 7 * DAY_MS;
/// Weeks of history a week is judged against.
pub(super) const BASELINE_WEEKS: i64 = 8;
/// Each run judges the current week and the one before (a burst seen late is still raised).
pub(super) const JUDGED_DAYS: i64 = 14;
/// New clusters: tickets of this many days are clustered.
pub(super) const CLUSTER_DAYS: i64 = 28;

pub(super) const READERS: &[Role] = &[
    Role::Supervisor,
    Role::Analyst,
    Role::Dispatcher,
    Role::SysAdmin,
];
pub(super) const ACK: &[Role] = &[Role::Supervisor, Role::Analyst, Role::SysAdmin];

/// A stored alert.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct StoredAlert {
    pub id: i64,
    /// `volume_spike` (量能异常) or `new_cluster` (新增聚集).
    pub kind: String,
    /// `region`, `category` or `cluster`.
    pub dimension: String,
    pub subject: String,
    /// What the alert is about, in words ("桂花社区", "城乡建设/物业管理").
    pub subject_label: String,
    pub window_from: String,
    pub window_to: String,
    pub score: f64,
    pub observed: i64,
    pub expected: f64,
    /// Statements, counts per week (or day), baseline and ratio.
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
    pub ticket_ids: Vec<i64>,
    pub region_code: Option<String>,
    /// `open` or `acknowledged`.
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<String>,
    pub ack_note: Option<String>,
}

/// What one run did.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct RunSummary {
    pub tickets: usize,
    pub raised: Vec<i64>,
    pub refreshed: Vec<i64>,
}

pub(super) struct Candidate {
    pub(super) kind: AlertKind,
    pub(super) dimension: &'static str,
    pub(super) subject: String,
    pub(super) label: String,
    pub(super) region_code: Option<String>,
    pub(super) from_ms: i64,
    pub(super) to_ms: i64,
    pub(super) score: f64,
    pub(super) observed: i64,
    pub(super) expected: f64,
    pub(super) evidence: serde_json::Value,
    pub(super) ticket_ids: Vec<i64>,
}

/// A ticket as the analysis sees it.
pub(super) struct Row1 {
    pub(super) id: i64,
    pub(super) at: i64,
    pub(super) region: Option<String>,
    pub(super) category: Option<i64>,
    pub(super) phone: Option<String>,
    pub(super) text: String,
}

/// Monday 00:00 China time of the week holding `ms`.
pub(super) fn week_start(ms: i64) -> i64 {
    let day = (ms + 8 * 3_600_000).div_euclid(DAY_MS);
    let monday = (day + 3).div_euclid(7) * 7 - 3;
    monday * DAY_MS - 8 * 3_600_000
}

pub(super) fn kind_code(k: AlertKind) -> &'static str {
    match k {
        AlertKind::VolumeSpike => "volume_spike",
        AlertKind::NewCluster => "new_cluster",
    }
}

/// The subjects a ticket counts for: its region and street, its category and the top level.
pub(super) fn keys(
    t: &Row1,
    cats: &HashMap<i64, (Option<i64>, String)>,
) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(rc) = t.region.as_deref().filter(|s| !s.is_empty()) {
        out.push(("region", rc.to_owned()));
        // A community (12 digits) also counts for its street (街道: the first 9 digits).
        if rc.len() == 12 && !rc.ends_with("000") {
            out.push(("region", format!("{}000", &rc[..9])));
        }
    }
    if let Some(mut id) = t.category {
        out.push(("category", id.to_string()));
        let mut guard = 0;
        while let Some((Some(p), _)) = cats.get(&id) {
            id = *p;
            guard += 1;
            if guard > 5 {
                break;
            }
        }
        if Some(id) != t.category {
            out.push(("category", id.to_string()));
        }
    }
    out
}

pub(super) fn analyse(
    tickets: &[Row1],
    cats: &HashMap<i64, (Option<i64>, String)>,
    regions: &HashMap<String, String>,
    at_ms: i64,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    // ---- volume against each subject's own baseline, weekly ----
    let mut events = Vec::new();
    let mut members: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
    for t in tickets {
        for (dim, subject) in keys(t, cats) {
            let key = format!("{dim}:{subject}");
            events.push(Event {
                key: key.clone(),
                at_ms: t.at,
            });
            members.entry(key).or_default().push((t.id, t.at));
        }
    }
    let opts = SignalOptions {
        bucket_days: 7,
        baseline_days: BASELINE_WEEKS * 7,
        min_history_days: 28,
        min_count: 5,
        from_ms: Some(at_ms - JUDGED_DAYS * DAY_MS),
        to_ms: Some(at_ms),
        ..SignalOptions::default()
    };
    // The series starts at the earliest loaded ticket; a fixed start keeps the baseline honest
    // for subjects that were silent.
    let first = week_start(at_ms) - (BASELINE_WEEKS + 3) * WEEK_MS;
    events.push(Event {
        key: "\u{0}start".into(),
        at_ms: first,
    });
    for a in nlp::signal::volume_alerts(&events, &opts) {
        if a.key.starts_with('\u{0}') {
            continue;
        }
        let (dim, subject) = a.key.split_once(':').unwrap_or(("region", &a.key));
        let dim: &'static str = if dim == "category" {
            "category"
        } else {
            "region"
        };
        let label = if dim == "category" {
            subject
                .parse::<i64>()
                .ok()
                .and_then(|id| cats.get(&id))
                .map(|c| c.1.clone())
                .unwrap_or_else(|| subject.to_owned())
        } else {
            regions
                .get(subject)
                .cloned()
                .unwrap_or_else(|| subject.to_owned())
        };
        let all = members.get(&a.key).cloned().unwrap_or_default();
        let ids: Vec<i64> = all
            .iter()
            .filter(|(_, at)| *at >= a.from_ms && *at <= a.to_ms)
            .map(|(id, _)| *id)
            .collect();
        // Weekly counts from the baseline's start to the alert's end, for the evidence.
        let mut weeks: BTreeMap<i64, i64> = BTreeMap::new();
        let mut w = week_start(a.from_ms) - BASELINE_WEEKS * WEEK_MS;
        while w <= a.to_ms {
            weeks.insert(w, 0);
            w += WEEK_MS;
        }
        for (_, at) in &all {
            if let Some(n) = weeks.get_mut(&week_start(*at)) {
                *n += 1;
            }
        }
        let ratio = if a.expected > 0.0 {
            a.observed as f64 / a.expected
        } else {
            a.observed as f64
        };
        let mut statements = vec![format!(
            "{label}：{} 至 {} 共 {} 件，按此前 {BASELINE_WEEKS} 周基线应约 {:.1} 件",
            format_china_time(a.from_ms),
            format_china_time(a.to_ms),
            a.observed,
            a.expected
        )];
        statements.extend(a.evidence.iter().cloned());
        out.push(Candidate {
            kind: a.kind,
            dimension: dim,
            subject: subject.to_owned(),
            region_code: (dim == "region").then(|| subject.to_owned()),
            label,
            from_ms: a.from_ms,
            to_ms: a.to_ms,
            score: (a.score * 100.0).round() / 100.0,
            observed: a.observed,
            expected: a.expected,
            evidence: json!({
                "statements": statements,
                "bucket": "week",
                "counts": weeks.iter().map(|(w, n)| json!({"from": format_china_time(*w), "count": n})).collect::<Vec<_>>(),
                "baseline": a.expected,
                "ratio": (ratio * 100.0).round() / 100.0,
            }),
            ticket_ids: ids,
        });
    }
    // ---- new clusters growing fast ----
    let recent: Vec<&Row1> = tickets
        .iter()
        .filter(|t| t.at >= at_ms - CLUSTER_DAYS * DAY_MS)
        .collect();
    let msgs: Vec<Message> = recent
        .iter()
        .map(|t| Message {
            id: t.id.to_string(),
            text: t.text.clone(),
            at_ms: t.at,
            user: t.phone.clone().filter(|p| !p.is_empty()),
            likes: 0,
        })
        .collect();
    let clusters = nlp::hotspot::cluster(
        &msgs,
        &HotspotOptions {
            now_ms: Some(at_ms),
            ..HotspotOptions::default()
        },
    );
    let acts: Vec<ClusterActivity> = clusters
        .iter()
        .filter(|c| c.members.len() >= 3)
        .map(|c| ClusterActivity {
            // The first member's id is stable from run to run, the title is not.
            key: msgs[c.members[0]].id.clone(),
            tickets: c
                .members
                .iter()
                .map(|&i| (msgs[i].at_ms, msgs[i].user.clone()))
                .collect(),
        })
        .collect();
    let growth = GrowthOptions::default();
    for a in nlp::signal::growth_alerts(&acts, at_ms, &growth) {
        let Some(c) = clusters
            .iter()
            .find(|c| c.members.first().is_some_and(|&i| msgs[i].id == a.key))
        else {
            continue;
        };
        let ids: Vec<i64> = c
            .members
            .iter()
            .filter_map(|&i| msgs[i].id.parse().ok())
            .collect();
        let title: String = msgs[c.members[0]]
            .text
            .split('\n')
            .next()
            .unwrap_or("")
            .chars()
            .take(40)
            .collect();
        // The region most members name, for data scope.
        let mut by_region: HashMap<&str, usize> = HashMap::new();
        for &i in &c.members {
            if let Some(r) = recent[i].region.as_deref() {
                *by_region.entry(r).or_default() += 1;
            }
        }
        let region = by_region
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
            .map(|r| r.0.to_owned());
        let mut days: BTreeMap<i64, i64> = BTreeMap::new();
        for &i in &c.members {
            let d = (msgs[i].at_ms + 8 * 3_600_000).div_euclid(DAY_MS) * DAY_MS - 8 * 3_600_000;
            *days.entry(d).or_default() += 1;
        }
        out.push(Candidate {
            kind: a.kind,
            dimension: "cluster",
            subject: a.key.clone(),
            label: title,
            region_code: region,
            from_ms: a.from_ms,
            to_ms: a.to_ms,
            score: a.score,
            observed: a.observed,
            expected: a.expected,
            evidence: json!({
                "statements": a.evidence,
                "bucket": "day",
                "counts": days.iter().map(|(d, n)| json!({"from": format_china_time(*d), "count": n})).collect::<Vec<_>>(),
                "baseline": a.expected,
                "ratio": if a.expected > 0.0 { ((a.observed as f64 / a.expected) * 100.0).round() / 100.0 } else { a.observed as f64 },
            }),
            ticket_ids: ids,
        });
    }
    out
}

pub(super) fn visible(actor: &Actor, a: &StoredAlert) -> bool {
    match &actor.scope {
        Scope::All => true,
        Scope::Region { prefix } => a
            .region_code
            .as_deref()
            .is_none_or(|c| c.starts_with(prefix.as_str())),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_china_time() {
        // 2025-03-12 (a Wednesday) 10:00 China time → Monday 2025-03-10 00:00.
        let wed = nlp::hotspot::parse_china_time("2025-03-12 10:00:00").unwrap();
        assert_eq!(format_china_time(week_start(wed)), "2025-03-10 00:00:00");
        let mon = nlp::hotspot::parse_china_time("2025-03-10 00:00:00").unwrap();
        assert_eq!(week_start(mon), mon);
    }
}
