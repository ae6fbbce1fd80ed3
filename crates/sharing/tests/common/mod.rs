//! The sharing tests' world: the standard city with a provider (公安局: data officer `po`,
//! chief data officer `pc`), a consumer (民政局: `co`), another department (人社局: `xo`), the
//! bureau's data officer `bo` (数据局, named as the bureau), and a published, mounted
//! 人口基础信息 entry (有条件共享) with rows.
#![allow(dead_code)]

use kernel::{Actor, Db, Role};
use serde_json::{json, Map, Value};
use sharing::catalog::domain::NewEntry;
use sharing::catalog::service::EntryView;
use sharing::mount::service::ResourceView;
use sharing::SharingService;
use testkit::city::City;

pub fn migrations() -> Vec<kernel::migrate::Migration> {
    sharing::migrations()
}

pub struct World {
    pub svc: SharingService,
    pub city: City,
    pub people: EntryView,
    pub people_res: ResourceView,
}

impl World {
    pub fn actor(&self, name: &str) -> &Actor {
        self.city.actor(name)
    }
    pub fn db(&self) -> &Db {
        &self.city.db
    }
    /// A token-borne actor as the server resolves it.
    pub async fn token_actor(&self, token: &str) -> Actor {
        self.city
            .org
            .resolve_token(token)
            .await
            .unwrap()
            .expect("token resolves")
    }
}

pub fn id_no(first17: &str) -> String {
    kernel::codes::id_card_with_check(first17)
}

/// 人口: name, id_no (primary key), gender, birth, phone, address, district, income (secret).
pub fn people_entry(share_kind: &str) -> NewEntry {
    serde_json::from_value(json!({
        "category": "basic",
        "class": ["1", "01"],
        "content": {
            "name": "人口基础信息",
            "summary": "全市户籍与常住人口的基础信息，包括姓名、身份证号、性别、出生日期、联系电话和住址",
            "format": "数据库",
            "items": [
                {"name": "姓名", "field": "name", "data_type": "char", "length": 30, "sensitive": true, "semantic": "name", "required": true},
                {"name": "身份证号", "field": "id_no", "data_type": "char", "length": 18, "sensitive": true, "primary_key": true, "semantic": "id_card"},
                {"name": "性别", "field": "gender", "data_type": "char", "length": 1},
                {"name": "出生日期", "field": "birth", "data_type": "date"},
                {"name": "联系电话", "field": "phone", "data_type": "char", "length": 11, "sensitive": true, "semantic": "mobile"},
                {"name": "住址", "field": "address", "data_type": "char", "length": 100, "sensitive": true, "semantic": "address"},
                {"name": "所属区", "field": "district", "data_type": "char", "length": 6},
                {"name": "年龄", "field": "age", "data_type": "int", "length": 3},
                {"name": "年收入", "field": "income", "data_type": "decimal", "length": 12, "scale": 2, "secret": true}
            ],
            "share_kind": share_kind,
            "share_condition": if share_kind == "unconditional" { "" } else { "用于民政救助对象核查；依据《社会救助暂行办法》" },
            "share_mode": "接口",
            "open_kind": "not_open",
            "update_cycle": "daily"
        }
    }))
    .unwrap()
}

pub fn person(i: usize, district: &str) -> Map<String, Value> {
    let id = id_no(&format!(
        "6901021990{:02}{:02}{:03}",
        1 + i % 12,
        1 + i % 28,
        i % 1000
    ));
    json!({
        "name": format!("张{}", ["三", "丽娜", "伟"][i % 3]),
        "id_no": id,
        "gender": if i.is_multiple_of(2) { "男" } else { "女" },
        "birth": format!("1990-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
        "phone": format!("138{:08}", 10_000_000 + i),
        "address": format!("A市A1区东湖街道幸福路{}号", i + 1),
        "district": district,
        "age": 36,
        "income": "52000.50"
    })
    .as_object()
    .unwrap()
    .clone()
}

/// Publishes an entry through 编目 → 提交 → 审核, and mounts a table with rows.
pub async fn publish_and_mount(
    svc: &SharingService,
    city: &City,
    entry: NewEntry,
    rows: Vec<Map<String, Value>>,
) -> (EntryView, ResourceView) {
    let po = city.actor("p_off");
    let e = svc.create_entry(po, entry).await.expect("create entry");
    svc.submit_entry(po, e.entry.id, 1).await.expect("submit");
    let e = svc
        .review_entry(city.actor("b_off"), e.entry.id, 1, true, "")
        .await
        .expect("publish");
    let r = svc
        .mount_table(po, e.entry.id, "", "full")
        .await
        .expect("mount");
    let rep = svc
        .push_rows(po, &r.resource.code, rows)
        .await
        .expect("push");
    assert!(rep.errors.is_empty(), "{:?}", rep.errors);
    let r = svc.resource(&r.resource.code).await.unwrap();
    (e, r)
}

pub async fn world(db: Db) -> World {
    let city = testkit::city::standard()
        .dept("公安局", "690100")
        .dept("民政局", "690100")
        .dept("人社局", "690100")
        .user("p_off", "公安局", Role::DataOfficer)
        .user("p_cdo", "公安局", Role::ChiefDataOfficer)
        .user("c_off", "民政局", Role::DataOfficer)
        .user("c_cdo", "民政局", Role::ChiefDataOfficer)
        .user("x_off", "人社局", Role::DataOfficer)
        .user("b_off", "数据局", Role::DataOfficer)
        .build(db.clone())
        .await;
    let svc = SharingService::new(db);
    svc.set_bureau(city.actor("admin"), city.dept("数据局"))
        .await
        .expect("set bureau");
    let rows: Vec<_> = (0..30)
        .map(|i| person(i, if i % 3 == 0 { "690103" } else { "690102" }))
        .collect();
    let (people, people_res) =
        publish_and_mount(&svc, &city, people_entry("conditional"), rows).await;
    World {
        svc,
        city,
        people,
        people_res,
    }
}
