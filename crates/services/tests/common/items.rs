//! The service items the service-hall tests publish: 食品从业人员健康证明, 食品小摊贩备案 and the
//! 摆摊一件事 bundle of both, the builders of their parts, and A市's departments. Shared with
//! the web tests.
#![allow(dead_code)]

use kernel::deadline::TimeUnit;
use services::domain::*;

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

/// 居民身份证 (taken from the licence library), a recent photo, and `extra`.
pub fn id_photo_and(extra: Material) -> Vec<Material> {
    let id_card = Material {
        from_license: Some("居民身份证".into()),
        ..material("id_card", "居民身份证")
    };
    vec![id_card, material("photo", "近期免冠照片"), extra]
}

/// 姓名 and 身份证号, then `more`.
pub fn name_id_and(more: &[FormField]) -> Vec<FormField> {
    let name_id = [
        field("name", "姓名", FieldKind::Text),
        field("id_no", "身份证号", FieldKind::IdCard),
    ];
    name_id.iter().chain(more).cloned().collect()
}

/// The org service on `db`, with password hashing cheap enough for tests.
pub fn org_service(db: &kernel::Db) -> org::OrgService {
    let auth = kernel::config::AuthConfig {
        argon2_memory_kib: 1024,
        argon2_iterations: 1,
        ..Default::default()
    };
    org::OrgService::new(db.clone(), auth)
}

/// Adds the department `name` of A市; its id.
pub async fn add_department(org: &org::OrgService, name: &str) -> i64 {
    let dept = org::NewDepartment {
        name: name.into(),
        short_name: None,
        region_code: "690100".into(),
        parent_id: None,
        credit_code: None,
        phone: None,
    };
    let cli = kernel::Actor::cli();
    org.create_department(&cli, dept).await.unwrap().id
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
        materials: id_photo_and(material("exam", "体检表")),
        fields: name_id_and(&[field("mobile", "手机号", FieldKind::Mobile)]),
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
        result_license: None,
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
        legal_basis: "《西地省食品小作坊小餐饮和食品摊贩管理条例》".into(),
        conditions: "在划定区域和时段经营的食品摊贩".into(),
        // A county-level confirmation on the applicant's commitment.
        item_type: ItemType::Confirmation,
        level: ExerciseLevel::County,
        mode: ApprovalMode::Commitment,
        materials: id_photo_and(material("stall_place", "经营场所说明")),
        fields: name_id_and(&[field("stall_address", "经营地点", FieldKind::Text)]),
        scenarios: vec![Scenario {
            code: "renew".into(),
            name: "延续备案".into(),
            extra_materials: vec![material("old_card", "原备案卡")],
            waived: vec!["stall_place".into()],
        }],
        legal_days: 15,
        promised_days: 5,
        depth: Depth::FullyOnline,
        delivery: vec![DeliveryMethod::Window, DeliveryMethod::License],
        windows: "市政务服务中心一楼综合窗口".into(),
        result_license: None,
        special_procedures: vec![SpecialProcedure {
            name: "现场核查".into(),
            days: 3,
        }],
        // The same department, handling, fees, time unit and hours as the health certificate.
        ..health_cert(dept)
    }
}

/// 摆摊一件事: the two `items` in one application, handled side by side.
pub fn stall_bundle(items: Vec<i64>, visits: u32) -> BundleInput {
    BundleInput {
        code: "BTYJS".into(),
        name: "摆摊一件事".into(),
        description: "健康证明与食品小摊贩备案一次办".into(),
        item_ids: items,
        order: BundleOrder::Parallel,
        promised_days: 5,
        visits,
    }
}

/// Creates and publishes `health` (as `health_by`) and `stall` (as `stall_by`), then the
/// 摆摊一件事 bundle of both; the ids of the two items and of the bundle.
pub async fn publish_stall_items(
    svc: &services::ServicesService,
    (health_by, health): (&kernel::Actor, ItemInput),
    (stall_by, stall): (&kernel::Actor, ItemInput),
    visits: u32,
) -> (i64, i64, i64) {
    let h = svc.create_item(health_by, health).await.unwrap();
    svc.publish_item(health_by, h.id).await.unwrap();
    let s = svc.create_item(stall_by, stall).await.unwrap();
    svc.publish_item(stall_by, s.id).await.unwrap();
    let bundle = stall_bundle(vec![h.id, s.id], visits);
    let b = svc.create_bundle(&kernel::Actor::cli(), bundle).await;
    (h.id, s.id, b.unwrap().bundle.id)
}
