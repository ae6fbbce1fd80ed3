//! Agreement of reply-quality scores with the human label `reply_explains`.
//!
//! `cargo run --release -p nlp --example quality -- ../shared/data/hotline/messages_with_replies.csv`
//!
//! The rows are split in two halves by id (even/odd, deterministic): the threshold on the
//! explanation sub-score that gives the best accuracy is chosen on one half and the accuracy is
//! reported on the other; ROC AUC needs no threshold and is reported on both and on all rows.

use nlp::hotspot::parse_china_time;
use nlp::quality::score;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "../shared/data/hotline/messages_with_replies.csv".to_string());
    let mut rd = csv::Reader::from_path(&path)?;
    let h = rd.headers()?.clone();
    let col = |n: &str| h.iter().position(|x| x == n).ok_or(format!("缺少 {n} 列"));
    let (id, title, time, detail, reply, reply_time, label) = (
        col("id")?,
        col("title")?,
        col("time")?,
        col("detail")?,
        col("reply")?,
        col("reply_time")?,
        col("reply_explains")?,
    );
    // (half, explanation, total, label)
    let mut rows: Vec<(usize, f64, f64, bool)> = Vec::new();
    for rec in rd.records() {
        let r = rec?;
        let request = format!("{}\n{}", &r[title], &r[detail]);
        let t0 = parse_china_time(&r[time]).unwrap_or(0);
        let t1 = parse_china_time(&r[reply_time]).unwrap_or(t0);
        let s = score(&request, &r[reply], t0, t1, None);
        let half = r[id].trim().parse::<u64>().unwrap_or(0) as usize % 2;
        rows.push((half, s.explanation, s.total, r[label].trim() == "1"));
    }
    let pos = rows.iter().filter(|r| r.3).count();
    println!(
        "{} 条答复，其中 reply_explains=1 的 {} 条（{:.1}%）",
        rows.len(),
        pos,
        100.0 * pos as f64 / rows.len() as f64
    );
    for (name, pick) in [("解释说明分", 1usize), ("总分", 2usize)] {
        let val = |r: &(usize, f64, f64, bool)| if pick == 1 { r.1 } else { r.2 };
        let all: Vec<(f64, bool)> = rows.iter().map(|r| (val(r), r.3)).collect();
        println!("{name}: 全量 AUC = {:.3}", auc(&all));
        for train in 0..2 {
            let tr: Vec<(f64, bool)> = rows
                .iter()
                .filter(|r| r.0 == train)
                .map(|r| (val(r), r.3))
                .collect();
            let te: Vec<(f64, bool)> = rows
                .iter()
                .filter(|r| r.0 != train)
                .map(|r| (val(r), r.3))
                .collect();
            let th = best_threshold(&tr);
            let acc = accuracy(&te, th);
            let majority = te
                .iter()
                .filter(|x| x.1)
                .count()
                .max(te.iter().filter(|x| !x.1).count()) as f64
                / te.len() as f64;
            println!(
                "  在第 {train} 半选阈值 {th:.1}（训练准确率 {:.3}），另一半准确率 {acc:.3}，多数类基线 {majority:.3}，另一半 AUC {:.3}",
                accuracy(&tr, th),
                auc(&te)
            );
        }
    }
    Ok(())
}

fn accuracy(v: &[(f64, bool)], th: f64) -> f64 {
    v.iter().filter(|(s, y)| (*s >= th) == *y).count() as f64 / v.len().max(1) as f64
}

fn best_threshold(v: &[(f64, bool)]) -> f64 {
    let mut cands: Vec<f64> = v.iter().map(|x| x.0).collect();
    cands.sort_by(f64::total_cmp);
    cands.dedup();
    cands.push(f64::INFINITY);
    let mut best = (0.0, -1.0);
    for th in cands {
        let a = accuracy(v, th);
        if a > best.1 {
            best = (th, a);
        }
    }
    best.0
}

/// ROC AUC by the rank-sum (Mann–Whitney) formula, ties counted half.
fn auc(v: &[(f64, bool)]) -> f64 {
    let mut s: Vec<(f64, bool)> = v.to_vec();
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_sum, mut i) = (0.0, 0usize);
    while i < s.len() {
        let mut j = i;
        while j < s.len() && s[j].0 == s[i].0 {
            j += 1;
        }
        let avg = (i + j + 1) as f64 / 2.0;
        rank_sum += avg * s[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    let p = s.iter().filter(|x| x.1).count() as f64;
    let n = s.len() as f64 - p;
    if p == 0.0 || n == 0.0 {
        return 0.5;
    }
    (rank_sum - p * (p + 1.0) / 2.0) / (p * n)
}
