//! `yiwang import`, run as a separate process on a fresh SQLite database.

mod support;
use support::*;

#[test]
fn categories_then_tickets_with_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("import.db").display());
    let categories = shared("categories.csv");
    let labeled = shared("labeled.csv");

    let o = yiwang(
        &url,
        &["import", "categories", categories.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", out(&o));
    assert_stdout_has(&o, "categories.csv：517 行，新增分类");

    let o = yiwang(&url, &["import", "tickets", labeled.to_str().unwrap()]);
    assert!(o.status.success(), "{}", out(&o));
    assert_stdout_has(&o, "labeled.csv：457 行：新增 456，补充 0，未变 0，跳过 1");
    assert_stdout_has(&o, "第 287 行：留言编号“37042”与第 93 行重复，已跳过");
    assert_stdout_has(&o, "合计 1 个文件，457 行：新增 456");

    // Again: nothing new, and the taxonomy is kept as it is.
    let o = yiwang(&url, &["import", "tickets", labeled.to_str().unwrap()]);
    assert!(o.status.success(), "{}", out(&o));
    assert_stdout_has(&o, "labeled.csv：457 行：新增 0，补充 0，未变 456，跳过 1");
    let o = yiwang(
        &url,
        &["import", "categories", categories.to_str().unwrap()],
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("新增分类 0 个"),
        "{}",
        out(&o)
    );

    // A missing file is named, the others still imported, and the exit code says it failed.
    let missing = dir.path().join("没有这个文件.csv");
    let o = yiwang(
        &url,
        &[
            "import",
            "tickets",
            missing.to_str().unwrap(),
            labeled.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).contains("没有这个文件.csv"), "{}", out(&o));
    assert!(out(&o).contains("1 个文件未能导入"), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("未变 456"),
        "{}",
        out(&o)
    );

    // The audit chain holds every imported ticket and stays whole.
    let o = yiwang(&url, &["audit", "verify"]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("审计链完整"), "{}", out(&o));
}
