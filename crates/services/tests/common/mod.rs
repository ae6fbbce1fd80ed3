//! A small city for the service-hall tests: a service centre with a front-desk clerk, two
//! departments with approvers, a supervisor, an analyst and a citizen; two published items and
//! the 摆摊一件事 bundle made of them.
#![allow(dead_code)]

use kernel::clock::Clock;
use kernel::{Actor, Db, Role};
use org::{NewRegion, NewUser};
use services::domain::*;
use services::service::NewCase;
use services::ServicesService;

mod items;
pub use items::*;

/// Monday 2026-03-16 09:30 China time.
pub fn monday() -> i64 {
    at(3, 16, 9, 30)
}

/// 2026 China time as UTC milliseconds.
pub fn at(m: u32, d: u32, h: u32, min: u32) -> i64 {
    use chrono::TimeZone;
    kernel::clock::china()
        .with_ymd_and_hms(2026, m, d, h, min, 0)
        .unwrap()
        .timestamp_millis()
}

pub fn migrations() -> Vec<kernel::migrate::Migration> {
    services::migrations()
}

pub struct W {
    pub svc: ServicesService,
    pub db: Db,
    pub clock: Clock,
    pub clerk: Actor,
    pub health: Actor,
    pub market: Actor,
    pub supervisor: Actor,
    pub analyst: Actor,
    pub citizen: Actor,
    pub other_citizen: Actor,
    pub health_dept: i64,
    pub market_dept: i64,
    pub health_item: i64,
    pub stall_item: i64,
    pub bundle: i64,
}

pub fn person(name: &str, phone: &str) -> Applicant {
    Applicant {
        kind: ApplicantKind::Person,
        name: name.into(),
        id_no: kernel::codes::id_card_with_check("11010119900307001"),
        phone: phone.into(),
        user_id: None,
    }
}

pub async fn world(db: Db) -> W {
    let mut db = db;
    let clock = Clock::manual(monday());
    db.clock = clock.clone();
    let org = org_service(&db);
    let cli = Actor::cli();
    for (c, n) in [("690000", "西地省"), ("690100", "A市"), ("690102", "A1区")] {
        org.create_region(
            &cli,
            NewRegion {
                code: c.into(),
                name: n.into(),
            },
        )
        .await
        .unwrap();
    }
    let hall = add_department(&org, "市政务服务中心").await;
    let health_dept = add_department(&org, "市卫健委").await;
    let market_dept = add_department(&org, "市市场监管局").await;
    let user = |u: &'static str, d: Option<i64>, r: Role| {
        let org = org.clone();
        async move {
            let id = org
                .create_user(
                    &Actor::cli(),
                    NewUser {
                        username: u.into(),
                        display_name: u.into(),
                        password: "Abc@12345x".into(),
                        dept_id: d,
                        roles: vec![r],
                        phone: None,
                        id_card: None,
                    },
                )
                .await
                .unwrap()
                .id;
            org.actor_of_user(id).await.unwrap()
        }
    };
    let clerk = user("clerk1", Some(hall), Role::Clerk).await;
    let health = user("health_appr", Some(health_dept), Role::Approver).await;
    let market = user("market_appr", Some(market_dept), Role::Approver).await;
    let supervisor = user("supervisor1", Some(hall), Role::Supervisor).await;
    let analyst = user("analyst1", Some(hall), Role::Analyst).await;
    let citizen = user("zhangsan", None, Role::Citizen).await;
    let other_citizen = user("lisi", None, Role::Citizen).await;
    let svc = ServicesService::new(db.clone());
    let (health_item, stall_item, bundle) = publish_stall_items(
        &svc,
        (&health, health_cert(health_dept)),
        (&market, stall_filing(market_dept)),
        0,
    )
    .await;
    W {
        svc,
        db,
        clock,
        clerk,
        health,
        market,
        supervisor,
        analyst,
        citizen,
        other_citizen,
        health_dept,
        market_dept,
        health_item,
        stall_item,
        bundle,
    }
}

pub fn accept() -> Action {
    Action::Accept {
        tolerated: vec![],
        tolerated_days: None,
    }
}

pub fn approve(no: &str) -> Action {
    Action::Decide {
        approve: true,
        document_no: no.into(),
        text: "经审查，符合条件，准予办理。".into(),
    }
}

/// The department asks the applicant for `materials` (补正).
pub fn request_supplement(materials: &[&str], note: &str) -> Action {
    Action::RequestSupplement {
        materials: materials.iter().map(|m| m.to_string()).collect(),
        note: note.into(),
    }
}

/// The applicant, or the clerk on their behalf, hands in `materials`.
pub fn supply(materials: &[&str]) -> Action {
    Action::Supply {
        materials: materials.iter().map(|m| m.to_string()).collect(),
    }
}

/// The result is posted to the applicant.
pub fn deliver_by_post() -> Action {
    Action::Deliver {
        method: DeliveryMethod::Post,
        detail: "EMS1234567 A1区幸福路8号".into(),
    }
}

/// The first page at the default size.
pub fn first_page() -> kernel::page::PageQuery {
    kernel::page::PageQuery {
        page: None,
        per_page: None,
    }
}

/// 张三's application for `item` with his name, id number and mobile filled in and the
/// `materials` handed in.
pub fn health_case(item: i64, materials: &[&str]) -> NewCase {
    let id_no = kernel::codes::id_card_with_check("11010119900307001");
    NewCase {
        item_id: item,
        scenario: None,
        applicant: person("张三", "13800138000"),
        form: [
            ("name", "张三"),
            ("id_no", id_no.as_str()),
            ("mobile", "13800138000"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), serde_json::json!(v)))
        .collect(),
        materials: materials.iter().map(|s| s.to_string()).collect(),
    }
}

/// Column names, given separated by spaces.
pub fn columns(names: &str) -> Vec<String> {
    names.split(' ').map(str::to_owned).collect()
}

/// The code of the error `r` must be.
pub fn error_code<T: std::fmt::Debug>(r: kernel::Result<T>) -> String {
    r.unwrap_err().code().to_owned()
}

impl W {
    /// `who` hands in `input`; the case as submitted.
    pub async fn submit(&self, who: &Actor, input: NewCase) -> Case {
        self.svc.submit(who, input).await.unwrap().case
    }

    /// `who` does `action` on case `id`; the case afterwards.
    pub async fn act(&self, who: &Actor, id: i64, action: Action) -> Case {
        self.svc.act(who, id, action).await.unwrap().case
    }

    /// `who` asks the applicant of case `id` for `materials` (补正).
    pub async fn ask_for(&self, who: &Actor, id: i64, materials: &[&str], note: &str) -> Case {
        self.act(who, id, request_supplement(materials, note)).await
    }

    /// The supervisor accepts the rectification `id`.
    pub async fn accept_rectification(&self, id: i64) -> Rectification {
        let review = services::service::RectificationReview {
            approve: true,
            note: "整改到位".into(),
        };
        let r = self.svc.review_rectification(&self.supervisor, id, review);
        r.await.unwrap()
    }

    /// The error code with which `who` is refused `action` on case `id`.
    pub async fn refused(&self, who: &Actor, id: i64, action: Action) -> String {
        let e = self.svc.act(who, id, action).await.unwrap_err();
        e.code().to_owned()
    }
}
