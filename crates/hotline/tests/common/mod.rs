//! Helpers shared by the hotline integration tests. Each test binary uses only some of them.
#![allow(dead_code)]

use chrono::TimeZone;
use hotline::domain::*;
use hotline::HotlineService;
use kernel::page::PageQuery;
use kernel::Actor;
use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

/// China time as UTC milliseconds.
pub fn china_time(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
    kernel::clock::china()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .timestamp_millis()
}

/// Monday 2026-03-16 09:30 China time.
pub fn monday() -> i64 {
    china_time(2026, 3, 16, 9, 30)
}

/// A phone complaint by 李四 about night-time building noise in A1区, accepted at once.
pub fn call(title: &str) -> NewTicket {
    NewTicket {
        channel: Channel::Phone,
        kind: TicketKind::Complaint,
        urgency: Urgency::Normal,
        caller_name: Some("李四".into()),
        caller_phone: Some("13912345678".into()),
        wants_reply: true,
        anonymous: false,
        address: Some("A1区幸福路8号".into()),
        region_code: Some("690102".into()),
        lng: None,
        lat: None,
        title: title.into(),
        content: "小区门口夜间施工噪音很大，影响休息。".into(),
        category_id: None,
        answers: Default::default(),
        accept: true,
    }
}

/// Creates `input` as `operator`, submits it for dispatch and has `dispatcher` send it to
/// department `to` with the co-handlers `co`. The ticket id.
pub async fn create_and_dispatch(
    svc: &HotlineService,
    (operator, dispatcher): (&Actor, &Actor),
    input: NewTicket,
    to: i64,
    co: Vec<i64>,
) -> i64 {
    let id = svc.create(operator, input).await.unwrap().ticket.id;
    svc.act(operator, id, Action::SubmitForDispatch)
        .await
        .unwrap();
    let dispatch = Action::Dispatch {
        main_dept_id: to,
        co_dept_ids: co,
    };
    svc.act(dispatcher, id, dispatch).await.unwrap();
    id
}

/// `db` on a clock set by hand to `now`, and `city` built in it.
pub async fn built_at(
    mut db: kernel::Db,
    now: i64,
    city: testkit::city::CityBuilder,
) -> (kernel::Db, testkit::city::City) {
    db.clock = kernel::clock::Clock::manual(now);
    let city = city.build(db.clone()).await;
    (db, city)
}

/// Asserts that the audit chain of `db` is unbroken.
pub async fn assert_audit_chain_intact(db: &kernel::Db) {
    let v = kernel::audit::verify(db).await.unwrap();
    assert!(v.first_broken.is_none(), "{v:?}");
}

/// The first page at the default size.
pub fn first_page() -> PageQuery {
    PageQuery {
        page: None,
        per_page: None,
    }
}

/// The text of `word/document.xml` in a Word file.
pub fn document_xml(docx: &[u8]) -> String {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(docx)).unwrap();
    let mut s = String::new();
    z.by_name("word/document.xml")
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    s
}

/// The hotline service of A市 with the people and departments of
/// `testkit::city::hotline_centre()`: the centre's staff, and 住建局 (x), 城管局 (y) and 水务局 (z)
/// with one handler each (hx, hy, hz).
pub struct Centre {
    pub svc: HotlineService,
    pub operator: Actor,
    pub dispatcher: Actor,
    pub supervisor: Actor,
    pub analyst: Actor,
    pub hx: Actor,
    pub hy: Actor,
    pub hz: Actor,
    pub x: i64,
    pub y: i64,
    pub z: i64,
}

impl Centre {
    /// The centre of `city`, with A市's hotline service on the city's database.
    pub fn of(city: &testkit::city::City) -> Centre {
        Centre::with_service(city, HotlineService::new(city.db.clone(), "A市"))
    }

    pub fn with_service(city: &testkit::city::City, svc: HotlineService) -> Centre {
        let user = |u: &str| city.actor(u).clone();
        Centre {
            svc,
            operator: user("operator"),
            dispatcher: user("dispatcher"),
            supervisor: user("supervisor"),
            analyst: user("analyst"),
            hx: user("hx_user"),
            hy: user("hy_user"),
            hz: user("hz_user"),
            x: city.dept("住建局"),
            y: city.dept("城管局"),
            z: city.dept("水务局"),
        }
    }

    /// The operator takes `input`; the ticket as created.
    pub async fn create(&self, input: NewTicket) -> Ticket {
        self.svc.create(&self.operator, input).await.unwrap().ticket
    }

    /// `who` does `action` on ticket `id`; the ticket afterwards.
    pub async fn act(&self, who: &Actor, id: i64, action: Action) -> Ticket {
        self.svc.act(who, id, action).await.unwrap().ticket
    }

    /// The error code with which `who` is refused `action` on ticket `id`.
    pub async fn refused(&self, who: &Actor, id: i64, action: Action) -> String {
        let e = self.svc.act(who, id, action).await.unwrap_err();
        e.code().to_owned()
    }

    /// Ticket `id` as `who` sees it.
    pub async fn ticket(&self, who: &Actor, id: i64) -> Ticket {
        self.svc.get(who, id).await.unwrap().ticket
    }

    /// The operator calls the citizen back about ticket `id`; the ticket afterwards.
    pub async fn call_back(
        &self,
        id: i64,
        result: CallbackResult,
        note: &str,
        reopen: bool,
    ) -> Ticket {
        self.act(&self.operator, id, callback(result, note, reopen))
            .await
    }

    /// The operator takes `input`, and the dispatcher sends it to department `to` with the
    /// co-handlers `co`. The ticket id.
    pub async fn dispatched(&self, input: NewTicket, to: i64, co: Vec<i64>) -> i64 {
        let who = (&self.operator, &self.dispatcher);
        create_and_dispatch(&self.svc, who, input, to, co).await
    }
}

/// The operator's call back to the citizen.
pub fn callback(result: CallbackResult, note: &str, reopen: bool) -> Action {
    Action::Callback {
        result,
        note: note.into(),
        reopen,
    }
}

/// A department's reply to the citizen.
pub fn reply(text: &str) -> Action {
    Action::Reply { text: text.into() }
}

/// Lets a test's world `$w`, which has a field `centre: Centre`, be used as the centre itself
/// (`w.operator`, `w.x`).
#[allow(unused_macros)]
macro_rules! deref_to_centre {
    ($w:ty) => {
        impl std::ops::Deref for $w {
            type Target = common::Centre;
            fn deref(&self) -> &common::Centre {
                &self.centre
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use deref_to_centre;

/// Serves `routes` on a free local port, with the header `X-Test-User: <name>` standing in for
/// the server's authentication of the named `users`. The base URL of the hotline API.
pub async fn serve_as_test_users(
    db: &kernel::Db,
    users: &[(&str, &Actor)],
    routes: axum::Router<webcore::AppCtx>,
) -> String {
    let users: Arc<HashMap<String, Actor>> = Arc::new(
        users
            .iter()
            .map(|(k, a)| (k.to_string(), (*a).clone()))
            .collect(),
    );
    let auth = move |mut req: axum::extract::Request, next: axum::middleware::Next| {
        let users = users.clone();
        async move {
            let who = req
                .headers()
                .get("x-test-user")
                .and_then(|v| v.to_str().ok())
                .and_then(|u| users.get(u).cloned());
            if let Some(actor) = who {
                req.extensions_mut()
                    .insert(webcore::Authenticated { actor, csrf: None });
            }
            next.run(req).await
        }
    };
    let ctx = webcore::AppCtx {
        db: db.clone(),
        config: Arc::new(kernel::config::Config::default()),
        nav: Arc::new(vec![]),
    };
    let app = routes
        .layer(axum::middleware::from_fn(auth))
        .with_state(ctx);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/v1/hotline", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    base
}

pub fn migrations() -> Vec<kernel::migrate::Migration> {
    hotline::migrations()
}
