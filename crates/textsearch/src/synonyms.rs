//! Colloquial → official wording for searching public services. Citizens ask for "开饭店" or
//! "办健康证"; the 实施清单 says "餐饮服务" and "健康证明". Each entry maps what people say to
//! the words official texts use; a query term containing the left side also looks for the right
//! side (with a lower weight than the words typed). Kept small and explicit: every entry is one
//! a clerk at the 综合窗口 would recognise.

/// (what people say, what the lists say).
pub const SERVICE_SYNONYMS: &[(&str, &[&str])] = &[
    ("饭店", &["餐饮", "餐馆"]),
    ("饭馆", &["餐饮", "餐馆"]),
    ("餐馆", &["餐饮"]),
    ("小吃", &["餐饮", "食品"]),
    ("开店", &["经营", "设立"]),
    ("开公司", &["企业开办", "设立登记"]),
    ("营业执照", &["营业执照", "登记"]),
    ("健康证", &["健康证明"]),
    ("摆摊", &["摊贩"]),
    ("地摊", &["摊贩"]),
    ("户口", &["户籍"]),
    ("结婚", &["婚姻登记"]),
    ("离婚", &["婚姻登记"]),
    ("生孩子", &["生育"]),
    ("生小孩", &["生育"]),
    ("上户", &["户籍", "出生登记"]),
    ("退休", &["养老", "退休"]),
    ("社保", &["社会保险"]),
    ("医保", &["医疗保障", "医疗保险"]),
    ("房产证", &["不动产权", "不动产登记"]),
    ("买房", &["不动产", "购房"]),
    ("驾照", &["驾驶证"]),
    ("装修", &["装饰装修"]),
    ("水电", &["供水", "供电"]),
    ("通水", &["供水", "用水报装"]),
    ("通电", &["供电", "用电报装"]),
    ("宽带", &["网络", "报装"]),
];

/// The official wordings `term` implies (none when it is already official or unknown).
pub fn expansions(term: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for (said, official) in SERVICE_SYNONYMS {
        if term.contains(said) {
            for o in *official {
                if !out.contains(o) && !term.contains(o) {
                    out.push(o);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colloquial_terms_expand_to_official_ones() {
        assert_eq!(expansions("开饭店"), ["餐饮", "餐馆"]);
        assert_eq!(expansions("办健康证"), ["健康证明"]);
        assert!(expansions("健康证明").is_empty());
        assert!(expansions("护照").is_empty());
    }
}
