//! Chinese text: normalisation, segmentation, stop words, character n-grams.
//!
//! Citizen messages mix full-width and half-width characters, the odd traditional character
//! and a lot of punctuation. Everything is normalised first so that "Ａ３区", "A3区" and
//! "A3區" give the same features.

use jieba_rs::Jieba;
use rustc_hash::FxHashSet;
use std::ops::RangeInclusive;

/// Full-width → half-width, traditional → simplified, ASCII letters lower-cased,
/// whitespace folded.
#[derive(Debug, Default, Clone, Copy)]
pub struct Normalizer;

impl Normalizer {
    pub fn new() -> Self {
        Normalizer
    }

    pub fn normalize(&self, s: &str) -> String {
        let mut half = String::with_capacity(s.len());
        let mut last_space = false;
        for c in s.chars() {
            let c = to_half_width(c);
            if c.is_whitespace() {
                if !last_space {
                    half.push(' ');
                }
                last_space = true;
                continue;
            }
            last_space = false;
            half.push(c.to_ascii_lowercase());
        }
        // fast2s: a maintained MIT table of traditional → simplified characters and phrases.
        fast2s::convert(half.trim())
    }
}

impl Normalizer {
    /// As [`Normalizer::normalize`] but character for character (whitespace becomes one space
    /// each, nothing is trimmed), with the byte offset in `s` of every byte of the result and
    /// `s.len()` at the end — so a search index can point back into the original text.
    pub fn normalize_mapped(&self, s: &str) -> (String, Vec<usize>) {
        let mut half = String::with_capacity(s.len());
        let mut starts = Vec::with_capacity(s.len());
        for (i, c) in s.char_indices() {
            half.push(if c.is_whitespace() {
                ' '
            } else {
                to_half_width(c).to_ascii_lowercase()
            });
            starts.push(i);
        }
        // fast2s maps one character to one character, so positions line up.
        let conv = fast2s::convert(&half);
        let mut map = Vec::with_capacity(conv.len() + 1);
        for (k, c) in conv.chars().enumerate() {
            let o = starts.get(k).copied().unwrap_or(s.len());
            map.extend(std::iter::repeat_n(o, c.len_utf8()));
        }
        map.push(s.len());
        (conv, map)
    }
}

/// U+FF01..U+FF5E map onto ASCII 0x21..0x7E; U+3000 is the ideographic space.
fn to_half_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// CJK unified ideographs (the basic block and extension A) — what the char n-grams are built on.
pub fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

/// A word worth keeping as a feature: has a CJK character or an ASCII letter/digit.
fn is_content(word: &str) -> bool {
    word.chars().any(|c| is_cjk(c) || c.is_ascii_alphanumeric())
}

/// Function words, politeness formulas and board boilerplate ("尊敬的领导", "您好", "谢谢")
/// that occur in every category and only add noise to short messages.
const STOP_WORDS: &[&str] = &[
    "的",
    "了",
    "是",
    "在",
    "和",
    "与",
    "及",
    "或",
    "也",
    "就",
    "都",
    "而",
    "但",
    "又",
    "还",
    "很",
    "被",
    "把",
    "将",
    "给",
    "对",
    "从",
    "向",
    "为",
    "以",
    "于",
    "之",
    "其",
    "这",
    "那",
    "这个",
    "那个",
    "这些",
    "那些",
    "这样",
    "那样",
    "我",
    "我们",
    "你",
    "你们",
    "您",
    "他",
    "他们",
    "她",
    "它",
    "自己",
    "有",
    "没有",
    "没",
    "不",
    "要",
    "会",
    "能",
    "可以",
    "可",
    "让",
    "使",
    "等",
    "着",
    "过",
    "吗",
    "呢",
    "吧",
    "啊",
    "呀",
    "哦",
    "嘛",
    "么",
    "什么",
    "怎么",
    "如何",
    "为什么",
    "因为",
    "所以",
    "但是",
    "而且",
    "并且",
    "如果",
    "虽然",
    "然后",
    "已经",
    "一个",
    "一些",
    "一直",
    "一下",
    "现在",
    "目前",
    "时候",
    "请问",
    "请",
    "希望",
    "谢谢",
    "感谢",
    "您好",
    "你好",
    "尊敬",
    "领导",
    "问题",
    "反映",
    "相关",
    "有关",
    "部门",
    "情况",
    "到",
    "上",
    "下",
    "中",
    "里",
    "后",
    "前",
    "去",
    "来",
    "说",
    "做",
    "个",
    "人",
    "年",
    "月",
    "日",
    "号",
    "多",
    "更",
    "最",
    "非常",
    "十分",
    "特别",
    "进行",
    "关于",
    "以及",
    "由于",
    "并",
    "且",
    "则",
    "即",
    "该",
    "此",
    "每",
    "各",
    "所",
    "得",
    "地",
    "之后",
    "之前",
    "不是",
];

/// jieba-rs with the bundled dictionary (compiled in, nothing downloaded) plus the bureau's own
/// place and department names, so "桂花坪街道" or "市住建局" stay one token.
#[derive(Clone)]
pub struct Segmenter {
    jieba: Jieba,
    normalizer: Normalizer,
    stop: FxHashSet<&'static str>,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segmenter").finish_non_exhaustive()
    }
}

impl Default for Segmenter {
    fn default() -> Self {
        Self::new()
    }
}

impl Segmenter {
    pub fn new() -> Self {
        Segmenter {
            jieba: Jieba::new(),
            normalizer: Normalizer,
            stop: STOP_WORDS.iter().copied().collect(),
        }
    }

    /// Adds user-dictionary words (region, street, community and department names, taxonomy
    /// names). A high frequency makes jieba prefer the whole name over its parts.
    pub fn add_words<I, S>(&mut self, words: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for w in words {
            let w = self.normalizer.normalize(w.as_ref());
            if w.chars().count() >= 2 && !w.contains(' ') {
                self.jieba.add_word(&w, Some(2000), None);
            }
        }
    }

    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    pub fn is_stop_word(&self, w: &str) -> bool {
        self.stop.contains(w)
    }

    /// Words of normalised `text`, without stop words, punctuation and whitespace.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        self.tokens_normalized(&self.normalizer.normalize(text))
    }

    /// As [`Segmenter::tokens`] for text already passed through [`Normalizer::normalize`].
    pub fn tokens_normalized(&self, norm: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.each_token(norm, |w| out.push(w.to_owned()));
        out
    }

    /// Calls `f` with each word of [`Segmenter::tokens_normalized`], in order, as a slice of
    /// `norm` (no string per word).
    pub fn each_token<'a>(&self, norm: &'a str, mut f: impl FnMut(&'a str)) {
        for t in self.jieba.cut(norm, true) {
            if is_content(t.word) && !self.stop.contains(t.word) {
                f(t.word);
            }
        }
    }
}

impl Segmenter {
    /// Search-mode words of normalised text with their byte ranges in `norm`: a long word also
    /// yields the dictionary words inside it ("公积金" → "公积", "积金", "公积金"), so a
    /// search for a part finds the whole. Stop words and punctuation are left out.
    pub fn search_words<'a>(&self, norm: &'a str) -> Vec<(&'a str, usize, usize)> {
        self.jieba
            .cut_for_search(norm, true)
            .into_iter()
            .filter(|t| is_content(t.word) && !self.stop.contains(t.word))
            .map(|t| (t.word, t.byte_start, t.byte_end))
            .collect()
    }
}

/// Character n-grams of `text` within runs of CJK characters (an n-gram never spans
/// punctuation, digits or Latin letters, which carry no meaning as fragments).
pub fn char_ngrams(text: &str, n: RangeInclusive<usize>) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut start = 0;
    while start < chars.len() {
        if !is_cjk(chars[start]) {
            start += 1;
            continue;
        }
        let mut end = start;
        while end < chars.len() && is_cjk(chars[end]) {
            end += 1;
        }
        let run = &chars[start..end];
        for k in n.clone() {
            if k == 0 || k > run.len() {
                continue;
            }
            for w in run.windows(k) {
                out.push(w.iter().collect());
            }
        }
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_width_and_script() {
        let n = Normalizer::new();
        assert_eq!(n.normalize("Ａ３區　垃圾"), "a3区 垃圾");
        assert_eq!(n.normalize("  學校  收費 "), "学校 收费");
    }

    #[test]
    fn user_dictionary_keeps_names_whole() {
        let mut s = Segmenter::new();
        s.add_words(["桂花坪街道", "景蓉华苑"]);
        let t = s.tokens("A2区桂花坪街道的景蓉华苑物业管理有问题");
        assert!(t.contains(&"桂花坪街道".to_string()), "{t:?}");
        assert!(t.contains(&"景蓉华苑".to_string()), "{t:?}");
        assert!(!t.contains(&"的".to_string()));
    }

    #[test]
    fn mapped_normalisation_points_back() {
        let text = "Ａ３區 學校";
        let (n, map) = Normalizer::new().normalize_mapped(text);
        assert_eq!(n, "a3区 学校");
        let at = n.find("学校").unwrap();
        assert_eq!(&text[map[at]..map[n.len()]], "學校");
    }

    #[test]
    fn search_words_include_sub_words_with_offsets() {
        let s = Segmenter::new();
        let text = "如何提取住房公积金";
        let w = s.search_words(text);
        let words: Vec<&str> = w.iter().map(|x| x.0).collect();
        assert!(words.contains(&"公积金"), "{words:?}");
        assert!(words.contains(&"公积"), "{words:?}");
        assert!(!words.contains(&"如何"), "stop word kept: {words:?}");
        for (word, a, b) in w {
            assert_eq!(&text[a..b], word);
        }
    }

    #[test]
    fn ngrams_stay_inside_cjk_runs() {
        let g = char_ngrams("噪音a扰民", 1..=2);
        assert_eq!(g, vec!["噪", "音", "噪音", "扰", "民", "扰民"]);
    }
}
