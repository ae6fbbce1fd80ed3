//! Nothing acknowledged is lost: a server process takes tickets under load, is killed with
//! SIGKILL mid-load, restarts, and every ticket that got a success answer is there with its
//! history. On SQLite and PostgreSQL.

use kernel::{Actor, Db, Role};
use org::{NewUser, OrgService};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod support;
use support::*;

fn migrations() -> Vec<kernel::migrate::Migration> {
    web::migrations()
}

testkit::on_both_backends!(migrations; acknowledged_tickets_survive_kill_9);

fn start(url: &str, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_yiwang"))
        .args([
            "--db",
            url,
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("YIWANG_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start yiwang")
}

async fn wait_ready(base: &str) {
    let c = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = c.get(format!("{base}/readyz")).send().await {
            if r.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {base} did not become ready");
}

async fn login(base: &str) -> (reqwest::Client, String) {
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let credentials = json!({"username": "operator", "password": "Abc@12345x"});
    let sent = c
        .post(format!("{base}/api/v1/auth/login"))
        .json(&credentials);
    let r: Value = sent.send().await.unwrap().json().await.unwrap();
    (c, r["csrf_token"].as_str().expect("logged in").to_owned())
}

async fn get_json(client: &reqwest::Client, url: String) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

async fn acknowledged_tickets_survive_kill_9(db: Db) {
    // Password hashing cheap enough for tests.
    let mut config = kernel::config::Config::default();
    config.auth.argon2_memory_kib = 1024;
    config.auth.argon2_iterations = 1;
    let org = OrgService::new(db.clone(), config.auth);
    let cli = Actor::cli();
    let regions = [("690000", "西地省"), ("690100", "A市")];
    let centre = regions_and_departments(&org, &regions, &["12345中心"]).await[0];
    org.create_user(
        &cli,
        NewUser {
            username: "operator".into(),
            display_name: "话务员".into(),
            password: "Abc@12345x".into(),
            dept_id: Some(centre),
            roles: vec![Role::Operator],
            phone: None,
            id_card: None,
        },
    )
    .await
    .unwrap();
    let url = db.url().to_owned();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(&url, port);
    wait_ready(&base).await;
    let (client, csrf) = login(&base).await;

    // Eight clients send tickets as fast as the server takes them; the server is killed while
    // they are in flight.
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let (client, csrf, base, acked) =
            (client.clone(), csrf.clone(), base.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut i = 0;
            while Instant::now() < deadline {
                i += 1;
                let body = json!({"channel": "phone", "kind": "complaint", "caller_phone": "13800000000", "title": format!("压力测试 {w}-{i}"),
                                  "content": "夜间噪音扰民，请尽快处理。", "accept": true});
                let r = client.post(format!("{base}/api/v1/hotline/tickets")).header("x-csrf-token", &csrf).json(&body).send().await;
                match r {
                    Ok(r) if r.status() == 201 => {
                        let v: Value = match r.json().await {
                            Ok(v) => v,
                            Err(_) => break, // killed while the body was on its way: not acknowledged
                        };
                        acked.lock().unwrap().push(v["number"].as_str().unwrap().to_owned());
                    }
                    Ok(r) => panic!("unexpected status {}", r.status()),
                    Err(_) => break, // the server is gone
                }
            }
        }));
    }
    // Let the load run, then SIGKILL.
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if acked.lock().unwrap().len() >= 150 {
            break;
        }
    }
    server.kill().expect("kill -9");
    server.wait().unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 150, "load ran: {}", acked.len());

    // Restart on the same database: every acknowledged ticket is there, accepted, with history.
    let mut server = start(&url, port);
    wait_ready(&base).await;
    let (client, _) = login(&base).await;
    let mut page = 1;
    let mut found = std::collections::HashMap::new();
    loop {
        let v: Value = get_json(
            &client,
            format!("{base}/api/v1/hotline/tickets?per_page=200&page={page}"),
        )
        .await;
        let items = v["items"].as_array().unwrap().clone();
        for t in &items {
            found.insert(
                t["number"].as_str().unwrap().to_owned(),
                (
                    t["id"].as_i64().unwrap(),
                    t["status"].as_str().unwrap().to_owned(),
                ),
            );
        }
        if items.len() < 200 {
            break;
        }
        page += 1;
    }
    for n in &acked {
        let (id, status) = found
            .get(n)
            .unwrap_or_else(|| panic!("acknowledged ticket {n} was lost"));
        assert_eq!(status, "accepted", "{n}");
        let tl: Value = get_json(
            &client,
            format!("{base}/api/v1/hotline/tickets/{id}/timeline"),
        )
        .await;
        assert_eq!(tl[0]["action"], "create", "{n} has its history");
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let v = kernel::audit::verify(&db).await.unwrap();
    assert!(
        v.first_broken.is_none(),
        "the audit chain survives the crash: {v:?}"
    );
    eprintln!(
        "{} acknowledged tickets, {} found after restart",
        acked.len(),
        found.len()
    );
}
