//! `yiwang sharing verify-log`, run as a separate process on SQLite and PostgreSQL: a whole
//! call log verifies; a changed row is named, with exit code 2.

mod support;
use support::*;

#[path = "../../sharing/tests/common/mod.rs"]
mod common;

use common::*;
use kernel::Db;
use sharing::gateway::service::GatewayQuery;
use sharing::grants::domain::GrantTerms;

fn migrations() -> Vec<kernel::migrate::Migration> {
    web::migrations()
}

testkit::on_both_backends!(migrations; verify_log_names_the_tampered_call);

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
