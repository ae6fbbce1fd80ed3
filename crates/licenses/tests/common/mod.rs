//! The licenses tests' world: a city with two issuing departments (credit codes set), staff,
//! a resident with a 身份证号, and a published 健康证明 type.
#![allow(dead_code)]

use kernel::{Actor, Db, Role};
use licenses::issue::domain::License;
use licenses::issue::service::{Holder, NewLicense};
use licenses::types::domain::NewType;
use licenses::LicensesService;
use serde_json::{json, Value};
use testkit::city::City;

pub const MASTER: &str = "00112233445566778899aabbccddeeff";
pub const BASE: &str = "https://yiwang.test";
/// A valid 身份证号 (check digit computed).
pub fn resident_id() -> String {
    kernel::codes::id_card_with_check("11010519900307123")
}

pub fn migrations() -> Vec<kernel::migrate::Migration> {
    licenses::migrations()
}

pub struct World {
    pub svc: LicensesService,
    pub city: City,
    pub health_dept: i64,
    pub market_dept: i64,
    pub health_code: String,
    pub health_type: i64,
}

impl World {
    pub fn actor(&self, name: &str) -> &Actor {
        self.city.actor(name)
    }
    pub fn db(&self) -> &Db {
        &self.city.db
    }
    pub fn new_health(&self, id_no: &str, name: &str) -> NewLicense {
        NewLicense {
            type_code: self.health_code.clone(),
            dept_id: None,
            holder: Holder {
                id_no: id_no.into(),
                name: name.into(),
            },
            fields: serde_json::from_value(json!({
                "name": name, "occupation": "餐饮服务", "exam_date": "2026-01-05"
            }))
            .unwrap(),
            valid_from: None,
            source: None,
        }
    }
    pub async fn issue_health(&self, id_no: &str) -> License {
        self.svc
            .issue(self.actor("appr_h"), self.new_health(id_no, "张三"))
            .await
            .expect("issue 健康证明")
    }
    pub async fn credential(&self, l: &License) -> Value {
        self.svc
            .credential(self.actor("appr_h"), l.id, "test")
            .await
            .unwrap()
    }
}

pub fn uscc(first17: &str) -> String {
    kernel::codes::credit_code_with_check(first17)
}

pub fn health_type(dept: i64, code: &str) -> NewType {
    serde_json::from_value(json!({
        "code": code,
        "name": "健康证明",
        "holder_kind": "person",
        "content": {
            "dept_ids": [dept],
            "fields": [
                {"key": "name", "label": "姓名", "kind": "text", "required": true},
                {"key": "occupation", "label": "从业类别", "kind": "code", "options": ["食品生产", "餐饮服务"], "required": true},
                {"key": "exam_date", "label": "体检日期", "kind": "date", "required": true}
            ],
            "validity_years": 1,
            "remind_days": 30
        }
    }))
    .unwrap()
}

pub async fn world(db: Db) -> World {
    let city = testkit::city::empty()
        .dept("数据局", "690100")
        .dept("卫健委", "690100")
        .dept("市场监管局", "690100")
        .user("admin", "数据局", Role::SysAdmin)
        .user("secadmin", "数据局", Role::SecAdmin)
        .user("appr_h", "卫健委", Role::Approver)
        .user("clerk_h", "卫健委", Role::Clerk)
        .user("appr_m", "市场监管局", Role::Approver)
        .user("analyst", "数据局", Role::Analyst)
        .citizen("resident1", "13800000001")
        .citizen("resident2", "13800000002")
        .build(db.clone())
        .await;
    let cli = Actor::cli();
    for (name, code) in [
        ("卫健委", uscc("11690100MB0000011")),
        ("市场监管局", uscc("11690100MB0000021")),
    ] {
        city.org
            .update_department(
                &cli,
                city.dept(name),
                org::DepartmentChanges {
                    credit_code: Some(code),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    city.org
        .update_user(
            &cli,
            city.user_id("resident1"),
            org::UserChanges {
                id_card: Some(resident_id()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let svc = LicensesService::new(db.clone(), BASE, MASTER);
    let health_dept = city.dept("卫健委");
    let health_code = format!("{}001", uscc("12690100MB0000031"));
    let t = svc
        .create_type(city.actor("admin"), health_type(health_dept, &health_code))
        .await
        .unwrap();
    svc.publish_type(city.actor("admin"), t.license_type.id, 1)
        .await
        .unwrap();
    World {
        svc,
        market_dept: city.dept("市场监管局"),
        health_dept,
        health_code,
        health_type: t.license_type.id,
        city,
    }
}

/// Audit records of an entity, as (action, payload).
pub async fn audit_of(db: &Db, entity: &str, id: impl ToString) -> Vec<(String, Value)> {
    kernel::audit::history(db, entity, &id.to_string())
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.action, r.payload))
        .collect()
}
