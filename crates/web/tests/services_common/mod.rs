//! The service hall on top of the web tests' small org: a health and a market-supervision
//! department with approvers, a clerk, a supervisor, a citizen; two published items and the
//! 摆摊一件事 bundle.
#![allow(dead_code)]

use kernel::{Actor, Db, Role};

use services::domain::*;
use services::ServicesService;

#[path = "../../../services/tests/common/items.rs"]
mod items;
use items::*;

pub struct Hall {
    pub health_dept: i64,
    pub market_dept: i64,
    pub health_item: i64,
    pub stall_item: i64,
    pub bundle: i64,
}

/// A health-certificate-like item of the food-safety law: name, code, department, the
/// material asked besides ID card and photo, and the promised days.
pub fn item(name: &str, code: &str, dept: i64, extra: (&str, &str), promised: u32) -> ItemInput {
    ItemInput {
        impl_code: code.into(),
        name: name.into(),
        legal_basis: "《中华人民共和国食品安全法》".into(),
        conditions: "在本市从事食品经营的个人".into(),
        materials: id_photo_and(material(extra.0, extra.1)),
        fields: name_id_and(&[]),
        legal_days: 15,
        promised_days: promised,
        windows: "市政务服务中心一楼综合窗口".into(),
        ..health_cert(dept)
    }
}

pub async fn hall(db: &Db, bureau_name: &str) -> Hall {
    let org = org_service(db);
    let cli = Actor::cli();
    let hall = org
        .department_by_name(bureau_name)
        .await
        .unwrap()
        .unwrap()
        .id;
    let health_dept = add_department(&org, "A市卫健委").await;
    let market_dept = add_department(&org, "A市市场监管局").await;
    for (u, d, r) in [
        ("clerk1", Some(hall), Role::Clerk),
        ("health1", Some(health_dept), Role::Approver),
        ("market1", Some(market_dept), Role::Approver),
        ("super1", Some(hall), Role::Supervisor),
        ("citizen1", None, Role::Citizen),
    ] {
        org.create_user(&cli, crate::common::test_user(u, d, r))
            .await
            .unwrap();
    }
    let svc = ServicesService::new(db.clone());
    let health = item(
        "食品从业人员健康证明",
        "11690100WJ0000001001",
        health_dept,
        ("exam", "体检表"),
        3,
    );
    let stall = item(
        "食品小摊贩备案",
        "11690100SJ0000002001",
        market_dept,
        ("stall_place", "经营场所说明"),
        5,
    );
    let (health_item, stall_item, bundle) =
        publish_stall_items(&svc, (&cli, health), (&cli, stall), 1).await;
    Hall {
        health_dept,
        market_dept,
        health_item,
        stall_item,
        bundle,
    }
}

/// The web world and the hall on `db`, and a browser `name`-<backend> of `width`×`height`;
/// none when no browser can be started.
pub async fn hall_in_browser(
    db: &Db,
    name: &str,
    (width, height): (u32, u32),
) -> Option<(crate::common::World, Hall, testkit::browser::Browser)> {
    let backend = db.backend().name();
    let w = crate::common::world(db.clone()).await;
    let h = hall(db, "A市数据局").await;
    let b = testkit::browser::Browser::start(&format!("{name}-{backend}")).await?;
    b.set_size(width, height).await;
    Some((w, h, b))
}
