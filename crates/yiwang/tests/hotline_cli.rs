//! `yiwang hotline`, run as a separate process on the shared hotline files (no database).

mod support;
use support::*;

use std::collections::HashSet;
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Header and records of a CSV file.
fn read_csv(p: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut rd = csv::Reader::from_path(p).unwrap();
    let h = rd.headers().unwrap().iter().map(String::from).collect();
    let rows = rd
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (h, rows)
}

#[test]
fn train_classify_evaluate_hotspots_and_reply_quality() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let labeled = shared("labeled.csv");
    let categories = shared("categories.csv");
    let model = d.join("model.bin");
    // `yiwang hotline ARGS…` in the temporary folder.
    let hotline = |args: &[&str]| yiwang_in(d, &[&["hotline"][..], args].concat());

    let o = hotline(&[
        "train",
        "--labeled",
        s(&labeled),
        "--taxonomy",
        s(&categories),
        "--out",
        s(&model),
    ]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("宏平均 F1"), "{}", out(&o));
    assert!(model.exists());

    // Classify: every row, its id and columns kept, three columns added.
    let classified = d.join("classified.csv");
    let o = hotline(&[
        "classify",
        "--model",
        s(&model),
        "--input",
        s(&labeled),
        "--output",
        s(&classified),
    ]);
    assert!(o.status.success(), "{}", out(&o));
    let (ih, irows) = read_csv(&labeled);
    let (oh, orows) = read_csv(&classified);
    assert_eq!(oh.len(), ih.len() + 3);
    assert_eq!(&oh[..ih.len()], &ih[..]);
    assert_eq!(&oh[ih.len()..], &["predicted", "confidence", "top3"]);
    assert_eq!(orows.len(), irows.len());
    let id = ih.iter().position(|h| h == "id").unwrap();
    for (i, o) in irows.iter().zip(&orows) {
        assert_eq!(i[id], o[id]);
        assert!(!o[ih.len()].is_empty());
        let conf: f64 = o[ih.len() + 1].parse().unwrap();
        assert!((0.0..=1.0).contains(&conf));
        let top3: Vec<&str> = o[ih.len() + 2].split('|').collect();
        assert_eq!(top3.len(), 3, "{}", o[ih.len() + 2]);
        assert!(top3[0].starts_with(&format!("{}:", o[ih.len()])));
    }

    // Evaluate as JSON.
    let o = hotline(&[
        "evaluate",
        "--model",
        s(&model),
        "--labeled",
        s(&labeled),
        "--json",
    ]);
    assert!(o.status.success(), "{}", out(&o));
    let e: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(e["macro_f1"].as_f64().unwrap() > 0.8, "{e}");
    assert_eq!(e["n"].as_u64().unwrap() as usize, irows.len());
    assert!(e["confusion"].is_array() && e["per_class"].is_array());

    // Hot issues.
    let votes = shared("messages_with_votes.csv");
    let o = hotline(&["hotspots", "--input", s(&votes), "--top", "5", "--json"]);
    assert!(o.status.success(), "{}", out(&o));
    let hot: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(hot.len(), 5);
    let (vh, vrows) = read_csv(&votes);
    let vid = vh.iter().position(|h| h == "id").unwrap();
    let ids: HashSet<&str> = vrows.iter().map(|r| r[vid].as_str()).collect();
    for (i, h) in hot.iter().enumerate() {
        assert_eq!(h["rank"].as_u64().unwrap() as usize, i + 1);
        for k in ["heat", "title", "place", "time_from", "time_to"] {
            assert!(!h[k].is_null(), "{k} in {h}");
        }
        let t = h["ticket_ids"].as_array().unwrap();
        assert!(!t.is_empty());
        for id in t {
            assert!(ids.contains(id.as_str().unwrap()), "{id}");
        }
    }

    // Reply quality on the first 200 rows.
    let replies = shared("messages_with_replies.csv");
    let (rh, rrows) = read_csv(&replies);
    let small = d.join("replies200.csv");
    {
        let mut w = csv::Writer::from_path(&small).unwrap();
        w.write_record(&rh).unwrap();
        for r in rrows.iter().take(200) {
            w.write_record(r).unwrap();
        }
        w.flush().unwrap();
    }
    let scored = d.join("scored.csv");
    let o = hotline(&[
        "reply-quality",
        "--input",
        s(&small),
        "--output",
        s(&scored),
    ]);
    assert!(o.status.success(), "{}", out(&o));
    let (qh, qrows) = read_csv(&scored);
    assert_eq!(qrows.len(), 200);
    assert_eq!(&qh[..rh.len()], &rh[..]);
    assert_eq!(
        &qh[rh.len()..],
        &[
            "quality_total",
            "relevance",
            "completeness",
            "explanation",
            "timeliness",
            "reasons"
        ]
    );
    for r in &qrows {
        let total: f64 = r[rh.len()].parse().unwrap();
        assert!((0.0..=100.0).contains(&total));
    }
}

#[test]
fn bad_input_is_a_chinese_error_with_exit_code_1() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let no_title = d.join("no_title.csv");
    std::fs::write(&no_title, "id,detail,category\n1,路灯不亮,城乡建设\n").unwrap();
    let o = yiwang_in(
        d,
        &[
            "hotline",
            "train",
            "--labeled",
            s(&no_title),
            "--out",
            s(&d.join("m.bin")),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("错误") && err.contains("留言主题"), "{err}");

    let o = yiwang_in(
        d,
        &["hotline", "hotspots", "--input", s(&d.join("missing.csv"))],
    );
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("无法读取文件"));

    let bad_model = d.join("bad.bin");
    std::fs::write(&bad_model, b"not a model").unwrap();
    let o = yiwang_in(
        d,
        &[
            "hotline",
            "evaluate",
            "--model",
            s(&bad_model),
            "--labeled",
            s(&shared("labeled.csv")),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("模型文件"));
}

#[test]
fn train_from_the_database_lists_and_activates_versions() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |args: &[&str]| yiwang_as_user_in(d, args);
    // The demo trains version 1 from its generated tickets.
    let o = run(&["demo", "--no-serve", "--seed", "3"]);
    assert!(o.status.success(), "{}", out(&o));
    let o = run(&["hotline", "models"]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("*    1"), "{}", out(&o));
    // Retrained on the same tickets: not worse, so it becomes active, with the figures shown.
    let o = run(&["hotline", "train"]);
    assert!(o.status.success(), "{}", out(&o));
    let text = out(&o);
    assert!(text.contains("模型版本 2"), "{text}");
    assert!(text.contains("宏平均 F1"), "{text}");
    assert!(text.contains("当前模型（版本 1）"), "{text}");
    assert!(text.contains("已启用版本 2"), "{text}");
    // Roll back to version 1.
    let o = run(&["hotline", "activate", "1"]);
    assert!(o.status.success(), "{}", out(&o));
    let o = run(&["hotline", "models"]);
    let text = out(&o);
    assert!(text.contains("*    1") && text.contains("     2"), "{text}");
    let o = run(&["hotline", "activate", "99"]);
    assert!(!o.status.success());
    assert!(out(&o).contains("模型版本 99 不存在"), "{}", out(&o));
    // File form needs --out; --force is for the database form only.
    let o = run(&["hotline", "train", "--labeled", "x.csv"]);
    assert!(!o.status.success());
    let o = run(&[
        "hotline",
        "train",
        "--labeled",
        "x.csv",
        "--out",
        "m.bin",
        "--force",
    ]);
    assert!(!o.status.success());
}

#[test]
fn signals_runs_the_alert_job_on_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("y.db");
    let o = yiwang_in(
        dir.path(),
        &["--db", s(&db), "hotline", "signals", "--at", "2026-03-16"],
    );
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains("分析时点 2026-03-16 23:59:59：近期工单 0 件，新提出告警 0 条"),
        "{}",
        out(&o)
    );
    let o = yiwang_in(
        dir.path(),
        &["--db", s(&db), "hotline", "signals", "--at", "16/03/2026"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).contains("--at 日期格式应为"), "{}", out(&o));
}
