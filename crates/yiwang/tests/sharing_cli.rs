//! `yiwang sharing verify-log` and `yiwang sharing calls archive|verify`, run as a separate
//! process on SQLite and PostgreSQL: a whole call log verifies; a changed row is named, with
//! exit code 2; two whole months are archived to files that verify, a changed archived line is
//! named by month and seq; the current month is refused.

mod support;
use support::*;

#[path = "../../sharing/tests/calllog/world.rs"]
mod calllog_world;
#[path = "../../sharing/tests/common/mod.rs"]
mod common;

use common::*;
use kernel::Db;
use sharing::gateway::service::GatewayQuery;
use sharing::grants::domain::GrantTerms;

fn migrations() -> Vec<kernel::migrate::Migration> {
    web::migrations()
}

testkit::on_both_backends!(migrations; verify_log_names_the_tampered_call, calls_are_archived_by_month);

async fn verify_log_names_the_tampered_call(db: Db) {
    let w = world(db.clone()).await;
    let code = w.people_res.resource.code.clone();
    let day = |off: i64| {
        kernel::clock::to_china(db.now() + off * 86_400_000)
            .format("%Y-%m-%d")
            .to_string()
    };
    let r = w
        .svc
        .submit_request(
            w.actor("c_off"),
            serde_json::from_value(serde_json::json!({
                "resources": [code], "fields": [["name"]], "purpose": "核查", "legal_basis": "依法",
                "system": "民政救助系统", "period_from": day(0), "period_until": day(30)
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    let id = r[0].request.id;
    for who in ["p_off", "p_cdo", "b_off"] {
        w.svc
            .decide(w.actor(who), id, true, "", Some(GrantTerms::default()))
            .await
            .unwrap();
    }
    let token = w
        .svc
        .register_system(w.actor("c_off"), "民政救助系统")
        .await
        .unwrap()
        .token;
    let caller = w.token_actor(&token).await;
    for page in 1..=3 {
        let q = GatewayQuery {
            page,
            page_size: 5,
            filters: vec![],
            request_line: format!("GET /gateway/v1/resources/{code}?page={page}"),
        };
        w.svc.serve(&caller, &token, &code, q).await.unwrap();
    }
    let o = yiwang(db.url(), &["sharing", "verify-log"]);
    assert!(o.status.success(), "{}", out(&o));
    assert_stdout_has(&o, "调用日志完整：3 条调用记录");
    let mut tx = db.begin().await.unwrap();
    sqlx::query("UPDATE sharing_calls SET row_count = 999 WHERE seq = 2")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let o = yiwang(db.url(), &["sharing", "verify-log"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(out(&o).contains("第 2 条调用记录"), "{}", out(&o));
}

async fn calls_are_archived_by_month(db: Db) {
    let cw = calllog_world::calls_over_three_months(&db).await;
    let [m1, m2, now] = cw.months;
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("归档");
    let out_arg = out_dir.to_str().unwrap();
    let next = if now % 100 == 12 { now + 89 } else { now + 1 };
    let o = yiwang(
        db.url(),
        &[
            "sharing",
            "calls",
            "archive",
            "--before",
            &next.to_string(),
            "--out",
            out_arg,
        ],
    );
    assert!(!o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains(&format!("不能归档当月（{now}）")),
        "{}",
        out(&o)
    );
    let o = yiwang(
        db.url(),
        &[
            "sharing", "calls", "archive", "--before", "2026-1", "--out", out_arg,
        ],
    );
    assert!(
        !o.status.success() && out(&o).contains("YYYYMM"),
        "{}",
        out(&o)
    );

    let o = yiwang(
        db.url(),
        &[
            "sharing",
            "calls",
            "archive",
            "--before",
            &now.to_string(),
            "--out",
            out_arg,
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    assert_stdout_has(&o, &format!("已归档 {m1}：3 条（第 1–3 条）"));
    assert_stdout_has(&o, &format!("已归档 {m2}：2 条（第 4–5 条）"));
    let o = yiwang(
        db.url(),
        &["sharing", "calls", "verify", "--archive", out_arg],
    );
    assert!(o.status.success(), "{}", out(&o));
    assert_stdout_has(&o, "归档文件完整：5 条调用记录（自第 1 条起）");
    assert_stdout_has(&o, "调用日志完整：2 条调用记录（自第 6 条起）");
    let o = yiwang(db.url(), &["sharing", "verify-log"]);
    assert!(o.status.success(), "{}", out(&o));
    assert_stdout_has(&o, "另有 5 条已归档的调用记录");

    // One archived call changed: named by its month and seq, exit code 2.
    let path = out_dir.join(sharing::gateway::domain::archive_names(m2).0);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("民政救助系统", "别的系统", 1)).unwrap();
    let o = yiwang(
        db.url(),
        &["sharing", "calls", "verify", "--archive", out_arg],
    );
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(
        out(&o).contains(&format!("归档文件断裂：{m2} 月份的第 4 条调用记录")),
        "{}",
        out(&o)
    );
}
