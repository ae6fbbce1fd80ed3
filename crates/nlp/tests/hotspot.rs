//! Hot issues on a small synthetic board: the repeated complaints about one estate and one
//! company come first, one-off messages do not form hot issues.

use nlp::hotspot::{
    extract_places, hotspots, parse_china_time, HotspotOptions, Message, PlaceKind,
};

fn msg(id: &str, title: &str, detail: &str, day: i64, user: &str, likes: i64) -> Message {
    Message {
        id: id.into(),
        text: format!("{title}\n{detail}"),
        at_ms: parse_china_time("2019-07-01 09:00:00").unwrap() + day * 86_400_000,
        user: Some(user.into()),
        likes,
    }
}

fn board() -> Vec<Message> {
    let mut v = vec![
        msg(
            "1",
            "A5区魅力之城小区临街门面油烟扰民",
            "小区一楼餐馆油烟直排，家里不敢开窗。",
            0,
            "u1",
            2,
        ),
        msg(
            "2",
            "魅力之城小区餐馆油烟太大",
            "A5区劳动东路魅力之城小区底商餐馆没有排烟管道，油烟熏人。",
            3,
            "u2",
            0,
        ),
        msg(
            "3",
            "投诉魅力之城小区油烟污染",
            "魅力之城小区楼下烧烤店油烟扰民，多次反映无果。",
            8,
            "u3",
            1,
        ),
        msg(
            "4",
            "A5区魅力之城小区一楼餐饮油烟扰民严重",
            "请环保部门管管魅力之城小区的餐馆油烟。",
            12,
            "u4",
            0,
        ),
        msg(
            "5",
            "魅力之城小区油烟扰民何时解决",
            "魅力之城小区临街餐馆油烟扰民。",
            20,
            "u5",
            3,
        ),
        msg(
            "6",
            "A市聚利公司拖欠工资",
            "聚利公司拖欠我们农民工工资三个月，请劳动监察大队帮忙。",
            5,
            "w1",
            5,
        ),
        msg(
            "7",
            "聚利公司欠薪不还",
            "A市聚利公司拖欠工人工资，老板失联。",
            6,
            "w2",
            0,
        ),
        msg(
            "8",
            "反映聚利公司拖欠农民工工资",
            "聚利公司拖欠工资，几十个工人讨薪无门。",
            9,
            "w3",
            1,
        ),
        msg(
            "9",
            "建议增开公交线路",
            "希望增加到高铁站的公交线路。",
            4,
            "x1",
            0,
        ),
        msg(
            "10",
            "图书馆开放时间咨询",
            "请问市图书馆周末几点开门？",
            7,
            "x2",
            0,
        ),
        msg(
            "11",
            "A7县某路段井盖缺失",
            "星沙大道中段井盖缺失很危险。",
            15,
            "x3",
            0,
        ),
    ];
    v.push(msg("12", "魅力之城小区餐馆油烟", "油烟扰民。", 21, "u1", 0));
    v
}

#[test]
fn repeated_complaints_rank_first() {
    let hot = hotspots(&board(), &HotspotOptions::default());
    assert!(hot.len() >= 2, "{hot:#?}");
    assert_eq!(hot[0].rank, 1);
    assert!(hot[0].place.contains("魅力之城"), "{hot:#?}");
    let ids: Vec<&str> = hot[0].ticket_ids.iter().map(String::as_str).collect();
    for id in ["1", "2", "3", "4", "5", "12"] {
        assert!(ids.contains(&id), "{ids:?}");
    }
    assert!(hot[1].place.contains("聚利公司"), "{hot:#?}");
    assert_eq!(hot[1].ticket_ids, vec!["6", "7", "8"]);
    assert!(hot[0].heat > hot[1].heat);
    assert_eq!(hot[0].time_from, "2019-07-01 09:00:00");
    // One-off messages do not make hot issues.
    assert!(hot.iter().all(|h| h.ticket_ids.len() >= 2));
    let json = serde_json::to_value(&hot).unwrap();
    let keys: Vec<&String> = json[0].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 7, "{keys:?}");
}

#[test]
fn top_and_period_filter() {
    let opts = HotspotOptions {
        top: 1,
        ..HotspotOptions::default()
    };
    assert_eq!(hotspots(&board(), &opts).len(), 1);
    let from = parse_china_time("2019-07-05 00:00:00");
    let to = parse_china_time("2019-07-10 23:59:59");
    let opts = HotspotOptions {
        from_ms: from,
        to_ms: to,
        ..HotspotOptions::default()
    };
    let hot = hotspots(&board(), &opts);
    assert_eq!(hot[0].ticket_ids, vec!["6", "7", "8"], "{hot:#?}");
}

#[test]
fn places_by_kind() {
    let p = extract_places("A3区郝家坪小学旁边的湘江建材有限公司和丽发新城小区，以及香樟路");
    let kinds: Vec<(String, PlaceKind)> = p.into_iter().map(|p| (p.name, p.kind)).collect();
    assert!(
        kinds.contains(&("郝家坪小学".into(), PlaceKind::School)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("湘江建材有限公司".into(), PlaceKind::Company)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("丽发新城小区".into(), PlaceKind::Estate)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("香樟路".into(), PlaceKind::Road)),
        "{kinds:?}"
    );
}

#[test]
fn heat_weighs_callers_over_volume() {
    use nlp::hotspot::heat;
    assert!(heat(10, 10, 0, 1.0, 0.0) > heat(1, 10, 0, 1.0, 0.0));
    assert!(heat(5, 5, 100, 1.0, 0.0) > heat(5, 5, 0, 1.0, 0.0));
    assert!(heat(5, 5, 0, 1.0, 0.0) > heat(5, 5, 0, 0.1, 0.0));
    assert!(heat(5, 5, 0, 1.0, 1.0) > heat(5, 5, 0, 1.0, 0.0));
}
