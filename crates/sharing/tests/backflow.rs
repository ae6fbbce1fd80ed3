//! 回流 on both backends: a provincial HTTP endpoint served by this test page by page (one bad
//! row among 1,203), a folder where files are dropped, runs by hand and on the schedule, twice
//! without adding anything the second time, an endpoint that fails, who may do what.

mod common;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use common::*;
use kernel::{Db, Error};
use serde_json::{json, Map, Value};
use sharing::backflow::domain::{NewBackflow, RunStatus, SourceKind};
use std::collections::HashMap;

testkit::on_both_backends!(migrations; provincial_data_flows_back_into_the_registry);

/// The province's 人口 rows 30..1233 (the registry holds 0..30), the 700th with a bad check
/// digit; `page` and `page_size` as the task sends them.
async fn province(
    State(rows): State<std::sync::Arc<Vec<Map<String, Value>>>>,
    Query(q): Query<HashMap<String, usize>>,
) -> Json<Value> {
    let (page, size) = (q["page"], q["page_size"]);
    let part: Vec<_> = rows
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .cloned()
        .collect();
    Json(json!({"total": rows.len(), "data": part}))
}

async fn serve_province() -> String {
    let mut rows: Vec<_> = (30..1233).map(|i| person(i, "690102")).collect();
    let good = rows[699]["id_no"].as_str().unwrap().to_owned();
    let wrong = if good.ends_with('0') { '1' } else { '0' };
    rows[699]["id_no"] = json!(format!("{}{wrong}", &good[..17]));
    let app = Router::new()
        .route("/people", get(province))
        .route(
            "/broken",
            get(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "down") }),
        )
        .with_state(std::sync::Arc::new(rows));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn task(w: &World, kind: SourceKind, source: &str) -> NewBackflow {
    NewBackflow {
        resource_code: w.people_res.resource.code.clone(),
        name: "省人口库回流".into(),
        source_kind: kind,
        source: source.into(),
        interval_minutes: 60,
    }
}

async fn rows_held(w: &World) -> i64 {
    w.svc
        .resource(&w.people_res.resource.code)
        .await
        .unwrap()
        .resource
        .row_count
}

async fn provincial_data_flows_back_into_the_registry(db: Db) {
    let mut db = db;
    db.clock = kernel::clock::Clock::manual(kernel::clock::Clock::system().now());
    let w = world(db.clone()).await;
    let s = &w.svc;
    let admin = w.city.actor("admin");
    let base = serve_province().await;
    assert_eq!(rows_held(&w).await, 30);

    // Configuring is the system administrator's; bad tasks name their fields.
    let by_officer = s
        .create_backflow(
            w.actor("p_off"),
            task(&w, SourceKind::Http, &format!("{base}/people")),
        )
        .await;
    assert!(
        matches!(by_officer, Err(Error::Forbidden(_))),
        "{by_officer:?}"
    );
    let mut bad = task(&w, SourceKind::Folder, "relative/dir");
    bad.interval_minutes = 1;
    match s.create_backflow(admin, bad).await {
        Err(Error::Validation(f)) => {
            let fields: Vec<_> = f.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["source", "interval_minutes"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        s.backflows(admin).await.unwrap().is_empty(),
        "nothing half-written"
    );

    // HTTP: three pages (500, 500, 203), one bad row named by page, line and column.
    let http = s
        .create_backflow(admin, task(&w, SourceKind::Http, &format!("{base}/people")))
        .await
        .unwrap();
    let id = http.backflow.id;
    let r = s.run_backflow(w.actor("p_off"), id).await.unwrap();
    assert_eq!(r.status, RunStatus::Partial, "{r:?}");
    assert_eq!(
        (r.fetched, r.accepted, r.added, r.rejected),
        (1203, 1202, 1202, 1)
    );
    assert_eq!(r.errors.len(), 1);
    assert_eq!(
        (r.errors[0].line, r.errors[0].column.as_str()),
        (200, "第 2 页 · id_no")
    );
    assert_eq!(rows_held(&w).await, 1232);
    // Twice: nothing added.
    let again = s.run_backflow(admin, id).await.unwrap();
    assert_eq!(
        (again.fetched, again.accepted, again.added),
        (1203, 1202, 0)
    );
    assert_eq!(rows_held(&w).await, 1232);
    // Another department neither runs nor sees it.
    assert!(s.run_backflow(w.actor("c_off"), id).await.is_err());
    assert!(s.backflows(w.actor("c_off")).await.unwrap().is_empty());

    // A source that fails: the run says so, nothing else breaks.
    let broken = s
        .create_backflow(admin, task(&w, SourceKind::Http, &format!("{base}/broken")))
        .await
        .unwrap();
    let r = s.run_backflow(admin, broken.backflow.id).await.unwrap();
    assert_eq!(r.status, RunStatus::Failed);
    assert!(r.message.contains("500"), "{}", r.message);

    // A folder: a CSV loads once; a JSON file dropped later adds only its new row.
    let dir = tempfile::tempdir().unwrap();
    let fresh: Vec<_> = (2000..2005).map(|i| person(i, "690103")).collect();
    let mut csv = String::from("姓名,身份证号,性别,出生日期,联系电话,住址,所属区\n");
    for p in &fresh {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            p["name"].as_str().unwrap(),
            p["id_no"].as_str().unwrap(),
            p["gender"].as_str().unwrap(),
            p["birth"].as_str().unwrap(),
            p["phone"].as_str().unwrap(),
            p["address"].as_str().unwrap(),
            p["district"].as_str().unwrap()
        ));
    }
    std::fs::write(dir.path().join("a-人口.csv"), csv).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not data").unwrap();
    let folder = s
        .create_backflow(
            admin,
            task(&w, SourceKind::Folder, dir.path().to_str().unwrap()),
        )
        .await
        .unwrap();
    let fid = folder.backflow.id;
    let r = s.run_backflow(admin, fid).await.unwrap();
    assert_eq!(
        (r.status, r.fetched, r.added, r.skipped_files),
        (RunStatus::Ok, 5, 5, 0),
        "{r:?}"
    );
    let mut changed = fresh[0].clone();
    changed["address"] = json!("A市A1区青河街道和平路8号");
    std::fs::write(
        dir.path().join("b.json"),
        serde_json::to_vec(&json!([changed, person(2010, "690103")])).unwrap(),
    )
    .unwrap();
    let r = s.run_backflow(admin, fid).await.unwrap();
    assert_eq!(
        (r.fetched, r.accepted, r.added, r.skipped_files),
        (2, 2, 1, 1),
        "{r:?}"
    );
    assert_eq!(rows_held(&w).await, 1232 + 6);

    // The schedule: nothing is due until the interval has passed; a paused task never runs.
    assert!(s.run_due_backflows().await.unwrap().is_empty());
    s.set_backflow_enabled(admin, broken.backflow.id, false)
        .await
        .unwrap();
    db.clock.advance(61 * 60_000);
    let due = s.run_due_backflows().await.unwrap();
    let mut ran: Vec<i64> = due.iter().map(|r| r.backflow_id).collect();
    ran.sort();
    assert_eq!(ran, [id, fid]);
    assert!(due.iter().all(|r| r.trigger == "schedule" && r.added == 0));
    assert!(
        s.run_due_backflows().await.unwrap().is_empty(),
        "claimed: not run twice"
    );

    // The history, newest first.
    let runs = s.backflow_runs(admin, id, 10).await.unwrap();
    assert_eq!(
        runs.iter().map(|r| r.trigger.as_str()).collect::<Vec<_>>(),
        ["schedule", "manual", "manual"]
    );
}
