//! A call log spread over three months (two whole months before the current one, and the
//! current one), for the archive tests here and in `yiwang`'s CLI tests. The world runs on a
//! manual clock over the same database, set back to make the older calls.

#![allow(dead_code)]
use crate::common::*;
use chrono::{Datelike, TimeZone};
use kernel::clock::Clock;
use kernel::Db;
use sharing::gateway::domain::month_of;
use sharing::gateway::service::GatewayQuery;
use sharing::grants::domain::GrantTerms;

pub struct CallsWorld {
    pub w: World,
    /// The two archivable months, oldest first, and the current one (YYYYMM).
    pub months: [i64; 3],
}

/// Calls served in the months: 3, 2 and 2 (seq 1–3, 4–5, 6–7).
pub async fn calls_over_three_months(db: &Db) -> CallsWorld {
    let now = db.now();
    let china = kernel::clock::to_china(now);
    let first_of_month = kernel::clock::china()
        .with_ymd_and_hms(china.year(), china.month(), 1, 12, 0, 0)
        .unwrap()
        .timestamp_millis();
    let day = 86_400_000;
    let (older, old) = (first_of_month - 50 * day, first_of_month - 20 * day);
    let clocked = Db::connect_with(db.url(), Clock::manual(older))
        .await
        .expect("second pool")
        .with_sealer(db.sealer().clone());
    let w = world(clocked.clone()).await;
    let code = w.people_res.resource.code.clone();
    let date = |ms: i64| kernel::clock::to_china(ms).format("%Y-%m-%d").to_string();
    let r = w
        .svc
        .submit_request(
            w.actor("c_off"),
            serde_json::from_value(serde_json::json!({
                "resources": [code], "fields": [["name", "gender"]], "purpose": "核查",
                "legal_basis": "依法", "system": "民政救助系统", "period_from": date(older),
                "period_until": date(now + 30 * day)
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
    for (at, n) in [(older, 3), (old, 2), (now, 2)] {
        clocked.clock.set(at);
        for page in 1..=n {
            let q = GatewayQuery {
                page,
                page_size: 5,
                filters: vec![],
                request_line: format!("GET /gateway/v1/resources/{code}?page={page}"),
            };
            w.svc.serve(&caller, &token, &code, q).await.unwrap();
        }
    }
    CallsWorld {
        w,
        months: [month_of(older), month_of(old), month_of(now)],
    }
}
