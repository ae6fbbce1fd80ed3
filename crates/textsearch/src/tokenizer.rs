//! Tantivy tokenizers over `nlp::text`. Words: the text is normalised (full-width, traditional,
//! case) character for character, cut by jieba in search mode — so a long word also gives the
//! dictionary words inside it and a search for "公积" finds "公积金" — and every token keeps its
//! offsets in the *original* text, which is what snippets are cut from.

use nlp::text::Segmenter;
use std::sync::Arc;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The name the word tokenizer is registered under in every index.
pub const NAME: &str = "jieba_search";
/// The name of the character-bigram tokenizer.
pub const BIGRAMS: &str = "cjk_bigrams";

#[derive(Clone)]
pub struct JiebaTokenizer {
    seg: Arc<Segmenter>,
}

impl JiebaTokenizer {
    pub fn new(seg: Arc<Segmenter>) -> Self {
        JiebaTokenizer { seg }
    }
}

/// The words of `text` (normalised, search mode, stop words out) with their byte ranges in
/// `text`. Used for the index, the queries and the Q&A score alike, so all three agree.
pub fn words(seg: &Segmenter, text: &str) -> Vec<(String, usize, usize)> {
    let (norm, map) = seg.normalizer().normalize_mapped(text);
    seg.search_words(&norm)
        .into_iter()
        .map(|(w, a, b)| (w.to_owned(), map[a], map[b]))
        .collect()
}

/// Overlapping pairs of Chinese characters of the normalised text, with their byte ranges in
/// `text`: they find a name the dictionary does not know ("卫健委" inside "市卫健委") and a
/// colloquial short form inside the official one ("健康证" in "健康证明").
pub fn bigrams(seg: &Segmenter, text: &str) -> Vec<(String, usize, usize)> {
    let (norm, map) = seg.normalizer().normalize_mapped(text);
    let chars: Vec<(usize, char)> = norm.char_indices().collect();
    chars
        .windows(2)
        .filter(|w| nlp::text::is_cjk(w[0].1) && nlp::text::is_cjk(w[1].1))
        .map(|w| {
            let end = w[1].0 + w[1].1.len_utf8();
            (norm[w[0].0..end].to_owned(), map[w[0].0], map[end])
        })
        .collect()
}

/// A tantivy tokenizer giving [`bigrams`].
#[derive(Clone)]
pub struct BigramTokenizer {
    seg: Arc<Segmenter>,
}

impl BigramTokenizer {
    pub fn new(seg: Arc<Segmenter>) -> Self {
        BigramTokenizer { seg }
    }
}

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        VecTokenStream::of(bigrams(&self.seg, text))
    }
}

pub struct VecTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for JiebaTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        VecTokenStream::of(words(&self.seg, text))
    }
}

impl VecTokenStream {
    fn of(list: Vec<(String, usize, usize)>) -> VecTokenStream {
        let tokens = list
            .into_iter()
            .enumerate()
            .map(|(position, (text, offset_from, offset_to))| Token {
                offset_from,
                offset_to,
                position,
                text,
                position_length: 1,
            })
            .collect();
        VecTokenStream { tokens, next: 0 }
    }
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_point_into_the_original_text() {
        let mut t = JiebaTokenizer::new(Arc::new(Segmenter::new()));
        let text = "怎樣提取住房公積金？";
        let mut s = t.token_stream(text);
        let mut seen = Vec::new();
        while s.advance() {
            let tok = s.token();
            seen.push((
                tok.text.clone(),
                text[tok.offset_from..tok.offset_to].to_owned(),
            ));
        }
        assert!(
            seen.iter().any(|(w, o)| w == "公积金" && o == "公積金"),
            "{seen:?}"
        );
        assert!(seen.iter().any(|(w, _)| w == "公积"), "{seen:?}");
    }

    #[test]
    fn bigrams_stay_inside_chinese_runs_and_point_into_the_original() {
        let seg = Segmenter::new();
        let text = "健康證明A1区";
        let got = bigrams(&seg, text);
        let grams: Vec<&str> = got.iter().map(|g| g.0.as_str()).collect();
        assert_eq!(grams, ["健康", "康证", "证明"]);
        assert_eq!(&text[got[2].1..got[2].2], "證明");
    }
}
