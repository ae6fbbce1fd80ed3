//! The demo service hall: a handful of real-looking items (实施清单 entries), three 一件事
//! bundles (摆摊一件事, 企业开办, 水电气网联合报装), two months of history
//! (`demo_services_history`) and a few cases of today at different stages — all
//! made through `ServicesService`, so they are validated and audited like any other data.

use anyhow::{anyhow, Result};
use kernel::deadline::TimeUnit;
use kernel::{Actor, Db};
use org::OrgService;
use serde_json::json;
use services::domain::*;
use services::service::{NewBundleCase, NewCase};
use services::ServicesService;

fn err(e: kernel::Error) -> anyhow::Error {
    anyhow!(
        "{}: {}",
        e.code(),
        crate::DetailOrInternal::detail_or_internal(&e)
    )
}

fn m(key: &str, name: &str, license: Option<&str>) -> Material {
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

fn f(key: &str, label: &str, kind: FieldKind) -> FormField {
    FormField {
        key: key.into(),
        label: label.into(),
        kind,
        required: true,
    }
}

struct Spec {
    code: &'static str,
    name: &'static str,
    dept: &'static str,
    kind: ItemType,
    handling: HandlingKind,
    legal: u32,
    promised: u32,
    depth: Depth,
    materials: Vec<Material>,
    fields: Vec<FormField>,
    /// 结果证照: the license type a delivery as 电子证照 issues.
    result: Option<&'static str>,
}

fn specs() -> Vec<Spec> {
    let person = || {
        vec![
            f("name", "姓名", FieldKind::Text),
            f("id_no", "身份证号", FieldKind::IdCard),
            f("mobile", "手机号", FieldKind::Mobile),
        ]
    };
    let company = || {
        vec![
            f("company_name", "企业名称", FieldKind::Text),
            f("credit_code", "统一社会信用代码", FieldKind::CreditCode),
            f("mobile", "联系电话", FieldKind::Mobile),
        ]
    };
    let id = || m("id_card", "居民身份证", Some("居民身份证"));
    let licence = || m("licence", "营业执照", Some("营业执照"));
    // The utility connections (水、电、气报装): a company, the site and its title deed.
    let property = || m("property", "不动产权证书或租赁合同", Some("不动产权证书"));
    let company_at_site = || {
        let mut v = company();
        v.push(f("site", "报装地址", FieldKind::Text));
        v
    };
    vec![
        Spec {
            code: "11690100WJ0000001001",
            name: "食品从业人员健康证明",
            dept: "A市卫生健康委员会",
            kind: ItemType::PublicService,
            handling: HandlingKind::Promised,
            legal: 10,
            promised: 3,
            depth: Depth::AtMostOnce,
            materials: vec![
                id(),
                m("photo", "近期免冠照片", None),
                m("exam", "体检表", None),
            ],
            fields: {
                let mut v = person();
                v.push(f("occupation", "从业类别", FieldKind::Text));
                v.push(f("exam_date", "体检日期", FieldKind::Date));
                v.push(f("exam_org", "体检机构", FieldKind::Text));
                v
            },
            result: Some("健康证明"),
        },
        Spec {
            code: "11690100SJ0000002001",
            name: "食品小摊贩备案",
            dept: "A市市场监督管理局",
            kind: ItemType::Confirmation,
            handling: HandlingKind::Promised,
            legal: 15,
            promised: 5,
            depth: Depth::FullyOnline,
            materials: vec![
                id(),
                m("photo", "近期免冠照片", None),
                m("stall_place", "经营场所说明", None),
            ],
            fields: {
                let mut v = person();
                v.push(f("stall_address", "经营地点", FieldKind::Text));
                v.push(f("items", "经营品种", FieldKind::Text));
                v
            },
            result: Some("食品小摊贩备案卡"),
        },
        Spec {
            code: "11690100SJ0000002002",
            name: "企业设立登记",
            dept: "A市市场监督管理局",
            kind: ItemType::Licensing,
            handling: HandlingKind::Promised,
            legal: 15,
            promised: 1,
            depth: Depth::FullyOnline,
            materials: vec![
                id(),
                m("articles", "公司章程", None),
                m("address_proof", "住所使用证明", None),
            ],
            fields: company(),
            result: None,
        },
        Spec {
            code: "11690100GA0000003001",
            name: "公章刻制备案",
            dept: "A市公安局",
            kind: ItemType::OtherPower,
            handling: HandlingKind::Immediate,
            legal: 1,
            promised: 0,
            depth: Depth::ZeroVisit,
            materials: vec![licence(), id()],
            fields: company(),
            result: None,
        },
        Spec {
            code: "11690100RS0000004001",
            name: "单位就业参保登记",
            dept: "A市人力资源和社会保障局",
            kind: ItemType::PublicService,
            handling: HandlingKind::Promised,
            legal: 15,
            promised: 1,
            depth: Depth::FullyOnline,
            materials: vec![licence(), m("staff_list", "参保人员名单", None)],
            fields: company(),
            result: None,
        },
        Spec {
            code: "11690100GS0000005001",
            name: "用水报装",
            dept: "A市供水有限公司",
            kind: ItemType::PublicService,
            handling: HandlingKind::Promised,
            legal: 10,
            promised: 3,
            depth: Depth::AtMostOnce,
            materials: vec![licence(), property()],
            fields: company_at_site(),
            result: None,
        },
        Spec {
            code: "11690100GD0000006001",
            name: "低压用电报装",
            dept: "A市供电公司",
            kind: ItemType::PublicService,
            handling: HandlingKind::Promised,
            legal: 15,
            promised: 5,
            depth: Depth::AtMostOnce,
            materials: vec![licence(), property(), m("load", "用电负荷说明", None)],
            fields: company_at_site(),
            result: None,
        },
        Spec {
            code: "11690100RQ0000007001",
            name: "燃气报装",
            dept: "A市燃气有限公司",
            kind: ItemType::PublicService,
            handling: HandlingKind::Promised,
            legal: 15,
            promised: 5,
            depth: Depth::AtMostOnce,
            materials: vec![licence(), property(), m("pipe_plan", "室内管线图", None)],
            fields: company_at_site(),
            result: None,
        },
        Spec {
            code: "11690100SJ0000002003",
            name: "食品经营许可（餐饮服务）",
            dept: "A市市场监督管理局",
            kind: ItemType::Licensing,
            handling: HandlingKind::Promised,
            legal: 20,
            promised: 5,
            depth: Depth::AtMostOnce,
            materials: vec![
                licence(),
                id(),
                m("layout", "经营场所和设备布局、工艺流程图", None),
                m("food_safety", "食品安全管理制度", None),
            ],
            fields: {
                let mut v = company();
                v.push(f("site", "经营地址", FieldKind::Text));
                v
            },
            result: None,
        },
    ]
}

pub async fn populate(db: &Db, cfg: &kernel::config::Config, seed: u64) -> Result<()> {
    let org = OrgService::new(db.clone(), cfg.auth.clone());
    let svc = ServicesService::new(db.clone());
    let cli = Actor::cli();
    let mut ids = Vec::new();
    let mut published = Vec::new();
    for s in specs() {
        let dept = org
            .department_by_name(s.dept)
            .await
            .map_err(err)?
            .ok_or_else(|| anyhow!("no department {}", s.dept))?;
        let input = ItemInput {
            basic_code: s.code[8..14].to_owned() + "001",
            impl_code: s.code.into(),
            name: s.name.into(),
            item_type: s.kind,
            level: ExerciseLevel::City,
            dept_id: dept.id,
            mode: ApprovalMode::Approval,
            handling: s.handling,
            legal_basis: "依据相关法律法规和本市实施办法".into(),
            conditions: format!("符合{}条件的申请人", s.name),
            materials: s.materials,
            fields: s.fields,
            scenarios: vec![],
            legal_days: s.legal,
            promised_days: s.promised,
            time_unit: TimeUnit::WorkingDays,
            fees: String::new(),
            depth: s.depth,
            delivery: vec![
                DeliveryMethod::Window,
                DeliveryMethod::Post,
                DeliveryMethod::License,
            ],
            windows: "A市政务服务中心一楼综合窗口".into(),
            hours: "工作日 9:00-12:00，13:30-17:30".into(),
            cross_region: vec![],
            result_license: s.result.map(str::to_owned),
            special_procedures: vec![],
            auto_rule: None,
            notes: String::new(),
        };
        let it = svc.create_item(&cli, input).await.map_err(err)?;
        published.push(svc.publish_item(&cli, it.id).await.map_err(err)?);
        ids.push(it.id);
    }
    let bundle = |code: &str, name: &str, desc: &str, items: Vec<i64>, order, days| BundleInput {
        code: code.into(),
        name: name.into(),
        description: desc.into(),
        item_ids: items,
        order,
        promised_days: days,
        visits: 1,
    };
    let stall = svc
        .create_bundle(
            &cli,
            bundle(
                "BTYJS",
                "摆摊一件事",
                "健康证明和食品小摊贩备案一次申请、一次办结",
                vec![ids[0], ids[1]],
                BundleOrder::Parallel,
                5,
            ),
        )
        .await
        .map_err(err)?;
    svc.create_bundle(
        &cli,
        bundle(
            "QYKB",
            "企业开办",
            "营业执照、公章刻制、就业参保登记一日办结",
            vec![ids[2], ids[3], ids[4]],
            BundleOrder::Sequential,
            1,
        ),
    )
    .await
    .map_err(err)?;
    svc.create_bundle(
        &cli,
        bundle(
            "SDQW",
            "水电气网联合报装",
            "用水、用电、用气一表申请、联合踏勘",
            vec![ids[5], ids[6], ids[7]],
            BundleOrder::Parallel,
            5,
        ),
    )
    .await
    .map_err(err)?;
    // Two months of history, then a few cases of today: the demo citizen's stall bundle, and
    // walk-ins at the window.
    crate::demo_services_history::populate(db, cfg, seed, &published, stall.bundle.id).await?;
    let citizen_id = org
        .user_by_username("citizen")
        .await
        .map_err(err)?
        .ok_or_else(|| anyhow!("no citizen"))?
        .id;
    let citizen = org.actor_of_user(citizen_id).await.map_err(err)?;
    let clerk_id = org
        .user_by_username("clerk")
        .await
        .map_err(err)?
        .ok_or_else(|| anyhow!("no clerk"))?
        .id;
    let clerk = org.actor_of_user(clerk_id).await.map_err(err)?;
    let id_no = kernel::codes::id_card_with_check("69010219880512003");
    let applicant = |name: &str, phone: &str| Applicant {
        kind: ApplicantKind::Person,
        name: name.into(),
        id_no: id_no.clone(),
        phone: phone.into(),
        user_id: None,
    };
    svc.submit_bundle(
        &citizen,
        stall.bundle.id,
        NewBundleCase {
            applicant: applicant("陈明", "13912340001"),
            form: [
                ("name", "陈明"),
                ("id_no", id_no.as_str()),
                ("mobile", "13912340001"),
                ("stall_address", "A1区夜市东区 12 号摊位"),
                ("items", "早餐点心"),
                ("occupation", "餐饮服务"),
                ("exam_date", "2026-11-20"),
                ("exam_org", "A市疾病预防控制中心"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect(),
            materials: vec!["photo".into(), "exam".into()],
        },
    )
    .await
    .map_err(err)?;
    for (name, phone) in [("林华", "13912340002"), ("周宁", "13912340003")] {
        svc.submit(
            &clerk,
            NewCase {
                item_id: ids[0],
                scenario: None,
                applicant: applicant(name, phone),
                form: [
                    ("name", name),
                    ("id_no", id_no.as_str()),
                    ("mobile", phone),
                    ("occupation", "餐饮服务"),
                    ("exam_date", "2026-11-20"),
                    ("exam_org", "A市第一人民医院体检中心"),
                ]
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect(),
                materials: vec!["photo".into(), "exam".into()],
            },
        )
        .await
        .map_err(err)?;
    }
    Ok(())
}
