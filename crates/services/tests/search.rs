//! The public 办事指南 search in Chinese, on SQLite and PostgreSQL: colloquial and traditional
//! queries find the official items, every typed term must match, and the index follows
//! publishing (a new version replaces the old, drafts never appear).

mod common;

use common::*;
use kernel::Db;
use services::domain::*;

fn migrations() -> Vec<kernel::migrate::Migration> {
    services::migrations()
}

testkit::on_both_backends!(migrations;
    guide_search_understands_how_people_ask,
    guide_search_follows_publishing,
);

fn names(v: Vec<ServiceItem>) -> Vec<String> {
    v.into_iter().map(|i| i.content.name).collect()
}

fn health_proof(dept: i64) -> ItemInput {
    ItemInput {
        basic_code: "000114006".into(),
        impl_code: "11690100WJ0000001002".into(),
        name: "健康证明办理".into(),
        conditions: "需要出具健康证明的本市居民".into(),
        legal_basis: "《西地省健康证明管理办法》".into(),
        materials: vec![material("id_card", "居民身份证")],
        ..health_cert(dept)
    }
}

fn food_licence(dept: i64) -> ItemInput {
    ItemInput {
        basic_code: "000105002".into(),
        impl_code: "11690100SJ0000002002".into(),
        name: "食品经营许可".into(),
        item_type: ItemType::Licensing,
        conditions: "从事餐饮服务、食品销售的经营者，有与经营的食品品种、数量相适应的场所".into(),
        legal_basis: "《中华人民共和国食品安全法》第三十五条".into(),
        materials: vec![material("apply", "食品经营许可申请书")],
        scenarios: vec![],
        result_license: None,
        special_procedures: vec![],
        ..stall_filing(dept)
    }
}

async fn guide_search_understands_how_people_ask(db: Db) {
    let w = world(db).await;
    for (actor, input) in [
        (&w.health, health_proof(w.health_dept)),
        (&w.market, food_licence(w.market_dept)),
    ] {
        let i = w.svc.create_item(actor, input).await.unwrap();
        w.svc.publish_item(actor, i.id).await.unwrap();
    }
    // "办健康证": the short form people use finds the official 健康证明 items.
    let found = names(w.svc.search_items("办健康证").await.unwrap());
    assert!(found.contains(&"健康证明办理".to_string()), "{found:?}");
    assert!(!found.contains(&"食品经营许可".to_string()), "{found:?}");
    // "开饭店": no item says 饭店; the licence's conditions say 餐饮.
    let found = names(w.svc.search_items("开饭店").await.unwrap());
    assert!(found.contains(&"食品经营许可".to_string()), "{found:?}");
    assert!(!found.contains(&"健康证明办理".to_string()), "{found:?}");
    assert!(
        !found.contains(&"食品从业人员健康证明".to_string()),
        "{found:?}"
    );
    // Traditional characters and full-width forms are read as simplified.
    let found = names(w.svc.search_items("食品經營許可").await.unwrap());
    assert_eq!(found.first().map(String::as_str), Some("食品经营许可"));
    let found = names(w.svc.search_items("健康證明").await.unwrap());
    assert!(
        found.contains(&"健康证明办理".to_string())
            && found.contains(&"食品从业人员健康证明".to_string()),
        "{found:?}"
    );
    // The name weighs most: the item called so comes before those that only mention it.
    assert_eq!(
        names(w.svc.search_items("健康证明办理").await.unwrap())[0],
        "健康证明办理"
    );
    // Every typed term must match: food items of the health commission only.
    assert_eq!(
        names(w.svc.search_items("食品 卫健委").await.unwrap()),
        ["食品从业人员健康证明"]
    );
    // By department, by material, by code.
    let found = names(w.svc.search_items("市场监管局").await.unwrap());
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(
        names(w.svc.search_items("场所说明").await.unwrap())[0],
        "食品小摊贩备案"
    );
    assert_eq!(
        names(w.svc.search_items("11690100SJ0000002002").await.unwrap())[0],
        "食品经营许可"
    );
    assert!(w.svc.search_items("护照").await.unwrap().is_empty());
    assert!(w.svc.search_items("的 ，").await.unwrap().is_empty());
    // An empty query lists every published item.
    assert_eq!(w.svc.search_items("  ").await.unwrap().len(), 4);
}

/// The versions of item `id` among the results (the stall filing's legal basis also says 餐饮).
fn versions_of(found: &[ServiceItem], id: i64) -> Vec<i64> {
    found
        .iter()
        .filter(|i| i.id == id)
        .map(|i| i.version)
        .collect()
}

async fn guide_search_follows_publishing(db: Db) {
    let w = world(db).await;
    let licence = w
        .svc
        .create_item(&w.market, food_licence(w.market_dept))
        .await
        .unwrap();
    // A draft is not in the guide.
    let found = w.svc.search_items("开饭店").await.unwrap();
    assert!(versions_of(&found, licence.id).is_empty());
    w.svc.publish_item(&w.market, licence.id).await.unwrap();
    let found = w.svc.search_items("开饭店").await.unwrap();
    assert_eq!(versions_of(&found, licence.id), [1]);
    // An edit is a draft of version 2: the guide keeps answering from version 1.
    let v2 = ItemInput {
        name: "食品销售许可".into(),
        conditions: "从事食品冷链仓储的经营者".into(),
        ..food_licence(w.market_dept)
    };
    w.svc.update_item(&w.market, licence.id, v2).await.unwrap();
    assert!(w.svc.search_items("冷链仓储").await.unwrap().is_empty());
    let found = w.svc.search_items("开饭店").await.unwrap();
    assert_eq!(versions_of(&found, licence.id), [1]);
    // Published, version 2 replaces version 1 at once: its words are found, the old ones not.
    w.svc.publish_item(&w.market, licence.id).await.unwrap();
    let found = w.svc.search_items("冷链仓储").await.unwrap();
    assert_eq!(versions_of(&found, licence.id), [2]);
    assert_eq!(found[0].content.name, "食品销售许可");
    let found = w.svc.search_items("开饭店").await.unwrap();
    assert!(versions_of(&found, licence.id).is_empty(), "{found:?}");
}
