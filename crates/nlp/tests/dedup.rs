//! Near-duplicates: rewordings of one issue at one place match; other issues, other places and
//! tickets outside the window do not.

use nlp::dedup::{DupIndex, DupOptions};

const H: i64 = 3_600_000;

fn index() -> DupIndex {
    let mut ix = DupIndex::new(DupOptions::default());
    ix.add(
        "T1",
        "魅力之城小区楼下烧烤店油烟太大，每天晚上排烟直冲住户窗户，请环保部门查处",
        None,
        0,
    );
    ix.add("T2", "魅力之城小区电梯经常故障困人，物业不作为", None, H);
    ix.add(
        "T3",
        "丽发新城小区旁边新建搅拌站，噪音和粉尘严重影响居民生活",
        None,
        2 * H,
    );
    ix.add(
        "T4",
        "香樟路路灯坏了一个多月没人修，晚上出行不安全",
        Some("香樟路"),
        3 * H,
    );
    ix
}

#[test]
fn rewording_of_the_same_issue_is_found() {
    let ix = index();
    let c = ix.candidates(
        "投诉：魅力之城小区的烧烤店排放油烟，晚上窗户都不敢开，油烟扰民严重",
        None,
        5 * H,
        72 * H,
    );
    assert_eq!(c.first().map(|x| x.0.as_str()), Some("T1"), "{c:?}");
    assert!(c.iter().all(|x| x.0 != "T3"), "{c:?}");

    let c = ix.candidates(
        "丽发新城附近的搅拌站粉尘大、噪音扰民，请求搬迁",
        None,
        5 * H,
        72 * H,
    );
    assert_eq!(c.first().map(|x| x.0.as_str()), Some("T3"), "{c:?}");
}

#[test]
fn same_issue_at_another_place_is_not_a_duplicate() {
    let ix = index();
    let c = ix.candidates(
        "锦绣花园小区楼下烧烤店油烟太大，每天晚上排烟直冲住户窗户，请环保部门查处",
        None,
        5 * H,
        72 * H,
    );
    assert!(c.iter().all(|x| x.0 != "T1"), "{c:?}");
    let c = ix.candidates(
        "路灯坏了一个多月没人修，晚上出行不安全",
        Some("芙蓉路"),
        5 * H,
        72 * H,
    );
    assert!(c.iter().all(|x| x.0 != "T4"), "{c:?}");
    let c = ix.candidates(
        "路灯坏了一个多月没人修，晚上走路很不安全",
        Some("香樟路"),
        5 * H,
        72 * H,
    );
    assert_eq!(c.first().map(|x| x.0.as_str()), Some("T4"), "{c:?}");
}

#[test]
fn window_remove_and_suggestion() {
    let mut ix = index();
    let text = "魅力之城小区楼下烧烤店油烟太大，晚上排烟直冲窗户";
    assert!(ix.candidates(text, None, 30 * 24 * H, 72 * H).is_empty());
    let s = ix.suggest(text, None, 5 * H, 72 * H);
    assert_eq!(s.merge_with.as_ref().map(|m| m.0.as_str()), Some("T1"));
    assert!(s.same_issue >= 2);
    assert!(ix.remove("T1"));
    assert!(ix
        .candidates(text, None, 5 * H, 72 * H)
        .iter()
        .all(|x| x.0 != "T1"));
    ix.prune(2 * H);
    assert_eq!(ix.len(), 2);
}

#[test]
fn full_width_and_punctuation_do_not_matter() {
    let mut ix = DupIndex::default();
    ix.add("A", "Ａ３区 香樟路１２号 噪音扰民！！", None, 0);
    let c = ix.candidates("A3区香樟路12号噪音扰民", None, H, 72 * H);
    assert_eq!(c.first().map(|x| x.0.as_str()), Some("A"));
    assert!(c[0].1 > 0.9, "{c:?}");
}
