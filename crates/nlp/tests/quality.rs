//! Reply quality: the parts move the way a supervisor would expect.

use nlp::quality::score;

const DAY: i64 = 86_400_000;
const REQUEST: &str = "魅力之城小区临街门面油烟扰民\n小区一楼餐馆没有排烟管道，油烟直接排进小区，请问环保部门何时处理？能否责令安装油烟净化设备？";

const GOOD: &str = "网友您好！您反映的魅力之城小区临街门面油烟扰民问题已收悉。经现场调查核实，该餐馆未安装专用排烟管道。\
根据《中华人民共和国大气污染防治法》第八十一条规定，排放油烟的餐饮服务业经营者应当安装油烟净化设施。\
区生态环境分局已于9月3日责令其停业整改，安装油烟净化设备并接入专用烟道，预计9月底完成，届时将组织复查。\
由于该门面规划用途不允许餐饮经营，我局已函告市场监管部门依法处理。感谢您对我们工作的支持！";

#[test]
fn a_full_reply_scores_high_with_praise() {
    let s = score(REQUEST, GOOD, 0, 3 * DAY, None);
    assert!(s.total >= 85.0, "{s:?}");
    assert!(
        s.explanation >= 90.0 && s.completeness >= 80.0 && s.timeliness == 100.0,
        "{s:?}"
    );
}

#[test]
fn a_brush_off_scores_low_with_reasons() {
    let s = score(
        REQUEST,
        "您好，已收悉，已转相关部门处理。",
        0,
        3 * DAY,
        None,
    );
    assert!(s.total < 50.0, "{s:?}");
    assert!(s.explanation < 30.0, "{s:?}");
    assert!(
        s.reasons.iter().any(|r| r.contains("依据")),
        "{:?}",
        s.reasons
    );
    assert!(
        s.reasons.iter().any(|r| r.contains("过短")),
        "{:?}",
        s.reasons
    );
}

#[test]
fn an_off_topic_reply_loses_relevance() {
    let other =
        "网友您好！关于公交线路调整的问题，根据《城市公共交通条例》规定，经调查核实，因道路施工，\
                 302路临时绕行，预计下月恢复。感谢您的理解与支持！";
    let on = score(REQUEST, GOOD, 0, DAY, None);
    let off = score(REQUEST, other, 0, DAY, None);
    assert!(off.relevance + 30.0 < on.relevance, "{on:?} {off:?}");
    assert!(
        off.reasons.iter().any(|r| r.contains("关联度")),
        "{:?}",
        off.reasons
    );
}

#[test]
fn late_replies_lose_timeliness() {
    let fast = score(REQUEST, GOOD, 0, 2 * DAY, None);
    let slow = score(REQUEST, GOOD, 0, 40 * DAY, None);
    let by_calendar = score(REQUEST, GOOD, 0, 2 * DAY, Some(20 * 480));
    assert_eq!(fast.timeliness, 100.0);
    assert!(slow.timeliness < 40.0 && slow.total < fast.total);
    assert!(by_calendar.timeliness < 60.0, "{by_calendar:?}");
    assert!(slow.reasons.iter().any(|r| r.contains("工作日")));
    assert_eq!(score(REQUEST, GOOD, 5 * DAY, 0, None).timeliness, 0.0);
}
