//! The service hall on top of the web tests' small org: a health and a market-supervision
//! department with approvers, a clerk, a supervisor, a citizen; two published items and the
//! 摆摊一件事 bundle.
#![allow(dead_code)]

use kernel::deadline::TimeUnit;
use kernel::{Actor, Db, Role};
use org::{NewDepartment, NewUser, OrgService};
use services::domain::*;
use services::ServicesService;

pub struct Hall {
    pub health_dept: i64,
    pub market_dept: i64,
    pub health_item: i64,
    pub stall_item: i64,
    pub bundle: i64,
}

fn material(key: &str, name: &str, license: Option<&str>) -> Material {
    Material {
        key: key.into(),
        name: name.into(),
        form: MaterialForm::Original,
        copies: 1,
        required: true,
        condition: None,
        blank_form: false,
        sample: false,
        from_license: license.map(str::to_owned),
        from_shared_data: false,
    }
}

fn field(key: &str, label: &str, kind: FieldKind) -> FormField {
    FormField {
        key: key.into(),
        label: label.into(),
        kind,
        required: true,
    }
}

pub fn item(name: &str, code: &str, dept: i64, extra: (&str, &str), promised: u32) -> ItemInput {
    ItemInput {
        basic_code: "000114005".into(),
        impl_code: code.into(),
        name: name.into(),
        item_type: ItemType::PublicService,
        level: ExerciseLevel::City,
        dept_id: dept,
        mode: ApprovalMode::Approval,
        handling: HandlingKind::Promised,
        legal_basis: "《中华人民共和国食品安全法》".into(),
        conditions: "在本市从事食品经营的个人".into(),
        materials: vec![
            material("id_card", "居民身份证", Some("居民身份证")),
            material("photo", "近期免冠照片", None),
            material(extra.0, extra.1, None),
        ],
        fields: vec![
            field("name", "姓名", FieldKind::Text),
            field("id_no", "身份证号", FieldKind::IdCard),
        ],
        scenarios: vec![],
        legal_days: 15,
        promised_days: promised,
        time_unit: TimeUnit::WorkingDays,
        fees: String::new(),
        depth: Depth::AtMostOnce,
        delivery: vec![DeliveryMethod::Window, DeliveryMethod::Post],
        windows: "市政务服务中心一楼综合窗口".into(),
        hours: "工作日 9:00-12:00，13:30-17:30".into(),
        cross_region: vec![],
        special_procedures: vec![],
        auto_rule: None,
        notes: String::new(),
    }
}

pub async fn hall(db: &Db, bureau_name: &str) -> Hall {
    let auth = kernel::config::AuthConfig {
        argon2_memory_kib: 1024,
        argon2_iterations: 1,
        ..Default::default()
    };
    let org = OrgService::new(db.clone(), auth);
    let cli = Actor::cli();
    let dept = |n: &str| NewDepartment {
        name: n.into(),
        short_name: None,
        region_code: "690100".into(),
        parent_id: None,
        credit_code: None,
        phone: None,
    };
    let hall = org
        .department_by_name(bureau_name)
        .await
        .unwrap()
        .unwrap()
        .id;
    let health_dept = org
        .create_department(&cli, dept("A市卫健委"))
        .await
        .unwrap()
        .id;
    let market_dept = org
        .create_department(&cli, dept("A市市场监管局"))
        .await
        .unwrap()
        .id;
    for (u, d, r) in [
        ("clerk1", Some(hall), Role::Clerk),
        ("health1", Some(health_dept), Role::Approver),
        ("market1", Some(market_dept), Role::Approver),
        ("super1", Some(hall), Role::Supervisor),
        ("citizen1", None, Role::Citizen),
    ] {
        org.create_user(
            &cli,
            NewUser {
                username: u.into(),
                display_name: format!("测试{u}"),
                password: crate::common::PW.into(),
                dept_id: d,
                roles: vec![r],
                phone: None,
                id_card: None,
            },
        )
        .await
        .unwrap();
    }
    let svc = ServicesService::new(db.clone());
    let h = svc
        .create_item(
            &cli,
            item(
                "食品从业人员健康证明",
                "11690100WJ0000001001",
                health_dept,
                ("exam", "体检表"),
                3,
            ),
        )
        .await
        .unwrap();
    svc.publish_item(&cli, h.id).await.unwrap();
    let s = svc
        .create_item(
            &cli,
            item(
                "食品小摊贩备案",
                "11690100SJ0000002001",
                market_dept,
                ("stall_place", "经营场所说明"),
                5,
            ),
        )
        .await
        .unwrap();
    svc.publish_item(&cli, s.id).await.unwrap();
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
                visits: 1,
            },
        )
        .await
        .unwrap();
    Hall {
        health_dept,
        market_dept,
        health_item: h.id,
        stall_item: s.id,
        bundle: b.bundle.id,
    }
}
