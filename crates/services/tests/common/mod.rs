//! A small city for the service-hall tests: a service centre with a front-desk clerk, two
//! departments with approvers, a supervisor, an analyst and a citizen; two published items and
//! the 摆摊一件事 bundle made of them.
#![allow(dead_code)]

use kernel::clock::Clock;
use kernel::deadline::TimeUnit;
use kernel::{Actor, Db, Role};
use org::{NewDepartment, NewRegion, NewUser, OrgService};
use services::domain::*;
use services::service::NewCase;
use services::ServicesService;

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

pub fn material(key: &str, name: &str) -> Material {
    Material {
        key: key.into(),
        name: name.into(),
        form: MaterialForm::Original,
        copies: 1,
        required: true,
        condition: None,
        blank_form: false,
        sample: false,
        from_license: None,
        from_shared_data: false,
    }
}

pub fn field(key: &str, label: &str, kind: FieldKind) -> FormField {
    FormField {
        key: key.into(),
        label: label.into(),
        kind,
        required: true,
    }
}

pub fn health_cert(dept: i64) -> ItemInput {
    ItemInput {
        basic_code: "000114005".into(),
        impl_code: "11690100WJ0000001001".into(),
        name: "食品从业人员健康证明".into(),
        item_type: ItemType::PublicService,
        level: ExerciseLevel::City,
        dept_id: dept,
        mode: ApprovalMode::Approval,
        handling: HandlingKind::Promised,
        legal_basis: "《中华人民共和国食品安全法》第四十五条".into(),
        conditions: "从事接触直接入口食品工作的人员".into(),
        materials: vec![
            Material {
                from_license: Some("居民身份证".into()),
                ..material("id_card", "居民身份证")
            },
            material("photo", "近期免冠照片"),
            material("exam", "体检表"),
        ],
        fields: vec![
            field("name", "姓名", FieldKind::Text),
            field("id_no", "身份证号", FieldKind::IdCard),
            field("mobile", "手机号", FieldKind::Mobile),
        ],
        scenarios: vec![],
        legal_days: 10,
        promised_days: 3,
        time_unit: TimeUnit::WorkingDays,
        fees: String::new(),
        depth: Depth::AtMostOnce,
        delivery: vec![DeliveryMethod::Window, DeliveryMethod::Post],
        windows: "市政务服务中心二楼卫健窗口".into(),
        hours: "工作日 9:00-12:00，13:30-17:30".into(),
        cross_region: vec![],
        special_procedures: vec![],
        auto_rule: None,
        notes: String::new(),
    }
}

pub fn stall_filing(dept: i64) -> ItemInput {
    ItemInput {
        basic_code: "000107012".into(),
        impl_code: "11690100SJ0000002001".into(),
        name: "食品小摊贩备案".into(),
        item_type: ItemType::Confirmation,
        level: ExerciseLevel::County,
        dept_id: dept,
        mode: ApprovalMode::Commitment,
        handling: HandlingKind::Promised,
        legal_basis: "《西地省食品小作坊小餐饮和食品摊贩管理条例》".into(),
        conditions: "在划定区域和时段经营的食品摊贩".into(),
        materials: vec![
            Material {
                from_license: Some("居民身份证".into()),
                ..material("id_card", "居民身份证")
            },
            material("photo", "近期免冠照片"),
            material("stall_place", "经营场所说明"),
        ],
        fields: vec![
            field("name", "姓名", FieldKind::Text),
            field("id_no", "身份证号", FieldKind::IdCard),
            field("stall_address", "经营地点", FieldKind::Text),
        ],
        scenarios: vec![Scenario {
            code: "renew".into(),
            name: "延续备案".into(),
            extra_materials: vec![material("old_card", "原备案卡")],
            waived: vec!["stall_place".into()],
        }],
        legal_days: 15,
        promised_days: 5,
        time_unit: TimeUnit::WorkingDays,
        fees: String::new(),
        depth: Depth::FullyOnline,
        delivery: vec![DeliveryMethod::Window, DeliveryMethod::License],
        windows: "市政务服务中心一楼综合窗口".into(),
        hours: "工作日 9:00-12:00，13:30-17:30".into(),
        cross_region: vec![],
        special_procedures: vec![SpecialProcedure {
            name: "现场核查".into(),
            days: 3,
        }],
        auto_rule: None,
        notes: String::new(),
    }
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
    let auth = kernel::config::AuthConfig {
        argon2_memory_kib: 1024,
        argon2_iterations: 1,
        ..Default::default()
    };
    let org = OrgService::new(db.clone(), auth);
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
    let dept = |n: &str| NewDepartment {
        name: n.into(),
        short_name: None,
        region_code: "690100".into(),
        parent_id: None,
        credit_code: None,
        phone: None,
    };
    let hall = org
        .create_department(&cli, dept("市政务服务中心"))
        .await
        .unwrap()
        .id;
    let health_dept = org
        .create_department(&cli, dept("市卫健委"))
        .await
        .unwrap()
        .id;
    let market_dept = org
        .create_department(&cli, dept("市市场监管局"))
        .await
        .unwrap()
        .id;
    let user = |u: &'static str, d: Option<i64>, r: Role| {
        let org = org.clone();
        async move {
            let id = org
                .create_user(
                    &Actor::cli(),
                    NewUser {
                        username: u.into(),
                        display_name: u.into(),
                        password: "abc12345".into(),
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
    let h = svc
        .create_item(&health, health_cert(health_dept))
        .await
        .unwrap();
    svc.publish_item(&health, h.id).await.unwrap();
    let s = svc
        .create_item(&market, stall_filing(market_dept))
        .await
        .unwrap();
    svc.publish_item(&market, s.id).await.unwrap();
    let b = svc
        .create_bundle(
            &cli,
            BundleInput {
                code: "BTYJS".into(),
                name: "摆摊一件事".into(),
                description: "健康证明与食品小摊贩备案一次办".into(),
                item_ids: vec![h.id, s.id],
                order: BundleOrder::Parallel,
                promised_days: 5,
                visits: 0,
            },
        )
        .await
        .unwrap();
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
        health_item: h.id,
        stall_item: s.id,
        bundle: b.bundle.id,
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

impl W {
    /// `who` hands in `input`; the case as submitted.
    pub async fn submit(&self, who: &Actor, input: NewCase) -> Case {
        self.svc.submit(who, input).await.unwrap().case
    }

    /// `who` does `action` on case `id`; the case afterwards.
    pub async fn act(&self, who: &Actor, id: i64, action: Action) -> Case {
        self.svc.act(who, id, action).await.unwrap().case
    }

    /// The error code with which `who` is refused `action` on case `id`.
    pub async fn refused(&self, who: &Actor, id: i64, action: Action) -> String {
        let e = self.svc.act(who, id, action).await.unwrap_err();
        e.code().to_owned()
    }
}
