//! 存量证照入库 on both backends: bad rows named by line and column, good ones kept, a second
//! import adds nothing.

mod common;

use common::*;
use kernel::{Actor, Db};

testkit::on_both_backends!(migrations; import_keeps_good_rows_names_bad_ones_and_is_idempotent);

async fn import_keeps_good_rows_names_bad_ones_and_is_idempotent(db: Db) {
    let w = world(db).await;
    let good1 = resident_id();
    let good2 = kernel::codes::id_card_with_check("11010519800101123");
    let csv = format!(
        "证照编号,持证人证件号码,持证人,姓名,从业类别,体检日期,发证日期\n\
         JK2025-001,{good1},张三,张三,餐饮服务,2025-06-01,2025-06-03\n\
         JK2025-002,110105199003071230,李四,李四,餐饮服务,2025-06-01,2025-06-03\n\
         JK2025-003,{good2},王五,王五,开挖掘机,2025-06-01,2025-06-03\n\
         JK2025-004,{good2},王五,王五,食品生产,2025-06-02,\n"
    );
    let sheet = tabular::read_csv(csv.as_bytes()).unwrap();
    let appr = w.actor("appr_h");
    let r = w
        .svc
        .import(appr, &w.health_code, None, &sheet)
        .await
        .unwrap();
    assert_eq!((r.rows, r.imported, r.already), (4, 2, 0), "{r:?}");
    let errs: Vec<(usize, &str)> = r
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_str()))
        .collect();
    assert_eq!(errs, [(3, "持证人证件号码"), (4, "从业类别")], "{r:?}");
    assert!(r.errors.iter().all(|e| !e.detail.is_empty()));
    let all = w.svc.search(&Actor::cli(), None, None, None).await.unwrap();
    assert_eq!(all.len(), 2);
    // The issue date comes from the sheet.
    let first = all.iter().find(|l| l.holder_id_no == good1).unwrap();
    assert_eq!(
        kernel::clock::to_china(first.valid_from)
            .format("%Y-%m-%d")
            .to_string(),
        "2025-06-03"
    );
    // A batch takes its 流水号 and status slots together: consecutive, each slot its own;
    // each license has its 签发 record in the audit chain, which verifies.
    let mut serials: Vec<i64> = all.iter().map(|l| l.serial).collect();
    serials.sort();
    assert_eq!(serials[1], serials[0] + 1, "{serials:?}");
    assert_ne!(
        (all[0].list_id, all[0].list_index),
        (all[1].list_id, all[1].list_index)
    );
    for l in &all {
        let h = kernel::audit::history(w.svc.db(), "license", &l.id.to_string())
            .await
            .unwrap();
        assert_eq!(
            h.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(),
            ["issue"]
        );
        assert_eq!(h[0].payload["identifier"], l.identifier.as_str());
    }
    assert!(kernel::audit::verify(w.svc.db())
        .await
        .unwrap()
        .first_broken
        .is_none());
    // Again: nothing new, the same two rows refused.
    let r = w
        .svc
        .import(appr, &w.health_code, None, &sheet)
        .await
        .unwrap();
    assert_eq!((r.imported, r.already, r.errors.len()), (0, 2, 2), "{r:?}");
    assert_eq!(
        w.svc
            .search(&Actor::cli(), None, None, None)
            .await
            .unwrap()
            .len(),
        2
    );
    // Each imported license is signed and verifies; this one (2025-06-03, one year) has expired.
    let vc = w.credential(first).await;
    let v = w.svc.verify(None, &vc).await.unwrap();
    let failed: Vec<&str> = v
        .checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(failed, ["validity"], "{v:?}");
    // A sheet without the key column is refused as a whole, naming it.
    let bad = tabular::read_csv("持证人,姓名\n张三,张三\n".as_bytes()).unwrap();
    let e = w
        .svc
        .import(appr, &w.health_code, None, &bad)
        .await
        .unwrap_err();
    assert!(e.detail().contains("证照编号"), "{}", e.detail());
}
