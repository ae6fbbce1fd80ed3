//! Reply quality (答复质量评价): relevance, completeness, explanation and timeliness, each 0–100,
//! a weighted total and the reasons in zh-CN.
//!
//! Transparent rules rather than a trained model: a supervisor must be able to see why a reply
//! lost points, and the only label we have (`reply_explains`) covers one of the four parts.
//! The explanation part looks for what "explains" means in a government reply: a legal or
//! policy basis (《…》, 根据/依据/按照…规定), findings of an investigation (经调查/经核实), causal
//! words (由于/因此) and concrete facts (dates, figures, next steps), damped for very short
//! replies, which cannot explain anything.

use crate::dedup::{for_each_bigram, normalize};
use crate::hotspot::DAY_MS;
use serde::Serialize;
use std::collections::HashSet;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityScore {
    /// 0–100: 0.25·relevance + 0.25·completeness + 0.30·explanation + 0.20·timeliness.
    pub total: f64,
    pub relevance: f64,
    pub completeness: f64,
    pub explanation: f64,
    pub timeliness: f64,
    /// Why points were lost (or earned), zh-CN.
    pub reasons: Vec<String>,
}

/// Working minutes in a working day, to read `working_minutes` as days.
const WORKDAY_MINUTES: f64 = 480.0;

/// Scores one reply. `working_minutes` is the working time from request to reply from the
/// working-day calendar when the caller has it; otherwise calendar time is converted at 5/7.
pub fn score(
    request: &str,
    reply: &str,
    requested_at_ms: i64,
    replied_at_ms: i64,
    working_minutes: Option<i64>,
) -> QualityScore {
    let mut reasons = Vec::new();
    let reply_chars = reply.chars().filter(|c| !c.is_whitespace()).count();
    let req_set = bigram_set(request);
    let reply_set = bigram_set(reply);

    // Relevance: share of the request's content bigrams the reply takes up.
    let content: Vec<&u64> = req_set
        .iter()
        .filter(|h| !BOILERPLATE.contains(h))
        .collect();
    let shared = content.iter().filter(|h| reply_set.contains(h)).count();
    let coverage = shared as f64 / content.len().max(1) as f64;
    let relevance = if reply_chars == 0 {
        0.0
    } else {
        (coverage / 0.25).min(1.0) * 100.0
    };
    if relevance < 40.0 {
        reasons.push(format!(
            "答复与诉求内容关联度低（诉求要点在答复中出现 {:.0}%）",
            coverage * 100.0
        ));
    }

    // Completeness: greeting, acknowledgement, each point answered, closing, substance.
    let mut completeness = 0.0;
    if has_any(reply, &["您好", "你好", "尊敬的", "网友", "市民", "同志"]) {
        completeness += 20.0;
    } else {
        reasons.push("缺少称呼或问候语".to_string());
    }
    if has_any(
        reply,
        &["收悉", "已收到", "感谢您", "感谢你", "关注", "来信", "留言"],
    ) {
        completeness += 10.0;
    }
    let points = request_points(request);
    let answered = points
        .iter()
        .filter(|p| {
            let n = p.len().max(1);
            p.iter().filter(|h| reply_set.contains(h)).count() as f64 / n as f64 >= 0.2
        })
        .count();
    if points.is_empty() {
        completeness += 40.0 * (coverage / 0.25).min(1.0);
    } else {
        completeness += 40.0 * answered as f64 / points.len() as f64;
        if answered < points.len() {
            reasons.push(format!(
                "诉求中 {} 个问题仅回应 {} 个",
                points.len(),
                answered
            ));
        }
    }
    let tail: String = {
        let v: Vec<char> = reply.chars().collect();
        v[v.len().saturating_sub(80)..].iter().collect()
    };
    if has_any(
        &tail,
        &[
            "感谢",
            "谢谢",
            "理解",
            "支持",
            "如有疑问",
            "如有",
            "联系电话",
            "咨询",
            "特此",
            "答复",
            "回复",
            "日",
        ],
    ) {
        completeness += 20.0;
    } else {
        reasons.push("缺少结束语（致谢、联系方式或落款）".to_string());
    }
    completeness += match reply_chars {
        0..=39 => 0.0,
        40..=99 => 5.0,
        _ => 10.0,
    };
    if reply_chars < 40 {
        reasons.push(format!("答复过短（{reply_chars} 字）"));
    }

    // Explanation: basis, findings, causes, concrete facts.
    let mut explanation: f64 = 0.0;
    let basis = has_any(
        reply,
        &[
            "《", "规定", "条例", "办法", "法律", "法规", "政策", "文件", "标准", "规范", "依法",
        ],
    ) || has_any(reply, &["根据", "依据", "按照"]);
    if basis {
        explanation += 35.0;
    } else {
        reasons.push("未说明政策或法律依据".to_string());
    }
    if has_any(
        reply,
        &[
            "经调查",
            "经核实",
            "经查",
            "经了解",
            "现场",
            "核查",
            "调查",
            "核实",
            "走访",
        ],
    ) {
        explanation += 20.0;
    } else {
        reasons.push("未说明调查核实情况".to_string());
    }
    if has_any(
        reply,
        &[
            "因为", "由于", "原因", "因此", "所以", "鉴于", "为此", "导致", "因该", "目的",
        ],
    ) {
        explanation += 25.0;
    } else {
        reasons.push("未解释原因".to_string());
    }
    let facts = reply.chars().any(|c| c.is_ascii_digit())
        || has_any(
            reply,
            &[
                "目前",
                "已经",
                "计划",
                "预计",
                "下一步",
                "将于",
                "正在",
                "已",
            ],
        );
    if facts {
        explanation += 20.0;
    }
    // A reply of a few dozen characters cannot explain, whatever words it uses.
    let damp = (reply_chars as f64 / 120.0).min(1.0).sqrt();
    let explanation = explanation * damp;

    // Timeliness, in working days.
    let elapsed_ms = replied_at_ms - requested_at_ms;
    let working_days = match working_minutes {
        Some(m) => m as f64 / WORKDAY_MINUTES,
        None => elapsed_ms as f64 / DAY_MS as f64 * 5.0 / 7.0,
    };
    let timeliness = if elapsed_ms < 0 || working_days < 0.0 {
        reasons.push("答复时间早于受理时间，时间记录有误".to_string());
        0.0
    } else if working_days <= 5.0 {
        100.0
    } else if working_days <= 15.0 {
        100.0 - (working_days - 5.0) * 4.0
    } else if working_days <= 30.0 {
        60.0 - (working_days - 15.0) * 40.0 / 15.0
    } else {
        (20.0 - (working_days - 30.0) * 20.0 / 30.0).max(0.0)
    };
    if working_days > 15.0 {
        reasons.push(format!(
            "答复用时约 {working_days:.0} 个工作日，超过 15 个工作日"
        ));
    }

    let total = 0.25 * relevance + 0.25 * completeness + 0.30 * explanation + 0.20 * timeliness;
    if reasons.is_empty() {
        reasons.push("答复切题、完整，说明了依据和原因，办理及时".to_string());
    }
    QualityScore {
        total: round1(total),
        relevance: round1(relevance),
        completeness: round1(completeness),
        explanation: round1(explanation),
        timeliness: round1(timeliness),
        reasons,
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn has_any(text: &str, words: &[&str]) -> bool {
    words.iter().any(|w| text.contains(w))
}

fn bigram_set(text: &str) -> HashSet<u64> {
    let mut s = HashSet::new();
    for_each_bigram(&normalize(text), |h| {
        s.insert(h);
    });
    s
}

/// Board boilerplate that says nothing about the request.
static BOILERPLATE: std::sync::LazyLock<HashSet<u64>> = std::sync::LazyLock::new(|| {
    let words = "尊敬的领导您好你好谢谢希望请问反映问题我们你们他们这个那个相关部门有关部门能否是否什么时候怎么为什么一下尽快解决处理情况现在目前已经没有还是但是因为所以如果可以";
    bigram_set(words)
});

/// The request's points: sentences that ask something (a question mark, an enumeration or a
/// "请/要求/希望" clause), as bigram sets; at most eight, the rest add little.
fn request_points(request: &str) -> Vec<Vec<u64>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut Vec<Vec<u64>>| {
        let s = cur.trim().to_string();
        cur.clear();
        let asks = s.contains('？')
            || s.contains('?')
            || has_any(
                &s,
                &[
                    "请",
                    "要求",
                    "希望",
                    "建议",
                    "能否",
                    "是否",
                    "何时",
                    "为什么",
                    "怎么",
                ],
            );
        if asks {
            let mut v: Vec<u64> = bigram_set(&s)
                .into_iter()
                .filter(|h| !BOILERPLATE.contains(h))
                .collect();
            v.sort_unstable();
            if v.len() >= 4 {
                out.push(v);
            }
        }
    };
    for c in request.chars() {
        cur.push(c);
        if matches!(c, '？' | '?' | '。' | '！' | '!' | '；' | ';' | '\n') {
            flush(&mut cur, &mut out);
        }
    }
    flush(&mut cur, &mut out);
    out.truncate(8);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explained_reply_beats_brush_off() {
        let req = "小区门口烧烤摊油烟扰民，请问城管何时处理？";
        let good =
            "网友您好！您反映的小区门口烧烤摊油烟扰民问题已收悉。经现场核查，该烧烤摊未取得许可，\
                    根据《城市市容和环境卫生管理条例》第二十二条规定，城管中队已于5月3日依法取缔，\
                    并将加强巡查。由于夜间流动经营反复，如再发现请拨打12345反映。感谢您的支持！";
        let bad = "已收悉。";
        let g = score(req, good, 0, 2 * DAY_MS, None);
        let b = score(req, bad, 0, 40 * DAY_MS, None);
        assert!(g.total > 80.0, "{g:?}");
        assert!(b.total < 40.0, "{b:?}");
        assert!(g.explanation > b.explanation);
        assert!(b.reasons.iter().any(|r| r.contains("依据")));
    }
}
