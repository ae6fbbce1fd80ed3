//! A tantivy tokenizer over `nlp::text`: the text is normalised (full-width, traditional,
//! case) character for character, cut by jieba in search mode — so a long word also gives the
//! dictionary words inside it and a search for "公积" finds "公积金" — and every token keeps its
//! offsets in the *original* text, which is what snippets are cut from.

use nlp::text::Segmenter;
use std::sync::Arc;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The name the tokenizer is registered under in every index.
pub const NAME: &str = "jieba_search";

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

pub struct VecTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for JiebaTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let tokens = words(&self.seg, text)
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
}
