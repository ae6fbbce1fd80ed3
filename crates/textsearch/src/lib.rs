//! Chinese full-text search shared by the modules (the hotline's knowledge base, the service
//! hall's 办事指南): the tokenizers over `nlp::text` (`tokenizer`), an in-RAM tantivy index of
//! named, weighted text fields (`TextIndex`), colloquial → official query expansion
//! (`synonyms`) and a per-database cache of built indexes (`IndexCache`). What goes into an
//! index, and when it is stale, stays with the module that owns the data.

pub mod synonyms;
pub mod tokenizer;

use kernel::error::{Error, Result};
use nlp::text::Segmenter;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, STORED,
};
use tantivy::{Index, IndexReader, ReloadPolicy, Searcher, TantivyDocument, Term};
use tokenizer::{BigramTokenizer, JiebaTokenizer};

/// jieba's dictionary takes a while to load; every index starts from this one.
pub fn base_segmenter() -> &'static Segmenter {
    static BASE: OnceLock<Segmenter> = OnceLock::new();
    BASE.get_or_init(Segmenter::new)
}

pub fn tantivy_err(e: tantivy::TantivyError) -> Error {
    Error::internal(format!("text index: {e}"))
}

/// How a field is cut into terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Analysis {
    /// jieba words, search mode (see [`tokenizer::words`]); stored, so snippets can be cut.
    Words,
    /// Chinese character pairs (see [`tokenizer::bigrams`]); not stored.
    Bigrams,
}

/// One text field of an index and the weight of a match in it.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub name: &'static str,
    pub analysis: Analysis,
    pub boost: f32,
}

/// A document: its id and one text per field, in the order of the index's fields.
#[derive(Debug, Clone)]
pub struct IndexDoc {
    pub id: i64,
    pub texts: Vec<String>,
}

/// An in-RAM tantivy index over some fields, with the segmenter it was built with.
pub struct TextIndex {
    index: Index,
    reader: IndexReader,
    id: Field,
    fields: Vec<(FieldSpec, Field)>,
    seg: Arc<Segmenter>,
}

/// What one term of a query looks for (the term the user typed, plus its expansions): its
/// words, for the word fields, and its character pairs, for the bigram fields, each with the
/// weight of a match on it.
#[derive(Debug, Clone, Default)]
pub struct QueryGroup {
    words: Vec<(String, f32)>,
    grams: Vec<(String, f32)>,
}

impl QueryGroup {
    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.grams.is_empty()
    }

    pub fn words(&self) -> &[(String, f32)] {
        &self.words
    }

    /// Adds another group's words and pairs not already in this one.
    pub fn add(&mut self, other: QueryGroup) {
        for (list, more) in [
            (&mut self.words, other.words),
            (&mut self.grams, other.grams),
        ] {
            for (t, w) in more {
                if !list.iter().any(|x| x.0 == t) {
                    list.push((t, w));
                }
            }
        }
    }
}

impl TextIndex {
    /// Builds the index of `docs` (CPU work: call it off the async threads). `user_words`
    /// (names of places, departments, categories) are added to the segmenter's dictionary.
    pub fn build(specs: &[FieldSpec], docs: &[IndexDoc], user_words: &[String]) -> Result<Self> {
        let mut seg = base_segmenter().clone();
        seg.add_words(user_words);
        let seg = Arc::new(seg);
        let mut sb = Schema::builder();
        let id = sb.add_i64_field("id", STORED | FAST);
        let fields: Vec<(FieldSpec, Field)> = specs
            .iter()
            .map(|s| {
                let (tok, stored) = match s.analysis {
                    Analysis::Words => (tokenizer::NAME, true),
                    Analysis::Bigrams => (tokenizer::BIGRAMS, false),
                };
                let o = TextOptions::default().set_indexing_options(
                    TextFieldIndexing::default()
                        .set_tokenizer(tok)
                        .set_index_option(IndexRecordOption::WithFreqsAndPositions),
                );
                let o = if stored { o.set_stored() } else { o };
                (*s, sb.add_text_field(s.name, o))
            })
            .collect();
        let index = Index::create_in_ram(sb.build());
        index
            .tokenizers()
            .register(tokenizer::NAME, JiebaTokenizer::new(seg.clone()));
        index
            .tokenizers()
            .register(tokenizer::BIGRAMS, BigramTokenizer::new(seg.clone()));
        // One thread and the smallest budget tantivy accepts: the indexes are small, the CPU
        // shared with the server.
        let mut w: tantivy::IndexWriter<TantivyDocument> = index
            .writer_with_num_threads(1, 15_000_000)
            .map_err(tantivy_err)?;
        for d in docs {
            let mut doc = TantivyDocument::default();
            doc.add_i64(id, d.id);
            for ((_, f), text) in fields.iter().zip(&d.texts) {
                doc.add_text(*f, text);
            }
            w.add_document(doc).map_err(tantivy_err)?;
        }
        w.commit().map_err(tantivy_err)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(tantivy_err)?;
        Ok(TextIndex {
            index,
            reader,
            id,
            fields,
            seg,
        })
    }

    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    pub fn segmenter(&self) -> &Segmenter {
        &self.seg
    }

    /// The field called `name` (a programming error if there is none).
    pub fn field(&self, name: &str) -> Field {
        self.fields
            .iter()
            .find(|(s, _)| s.name == name)
            .map(|(_, f)| *f)
            .unwrap_or_else(|| panic!("no field {name} in this index"))
    }

    /// Fields cut into words, and their fields.
    pub fn word_fields(&self) -> Vec<Field> {
        self.fields
            .iter()
            .filter(|(s, _)| s.analysis == Analysis::Words)
            .map(|(_, f)| *f)
            .collect()
    }

    /// The words of `q` as the index cut them, each once, in order.
    pub fn query_words(&self, q: &str) -> Vec<String> {
        let mut seen = HashSet::new();
        tokenizer::words(&self.seg, q)
            .into_iter()
            .map(|w| w.0)
            .filter(|w| seen.insert(w.clone()))
            .collect()
    }

    /// The id stored with a document.
    pub fn doc_id(&self, doc: &TantivyDocument) -> Option<i64> {
        doc.get_first(self.id).and_then(|v| v.as_i64())
    }

    /// The stored text of a field of a document ("" for a field not stored).
    pub fn doc_text(&self, doc: &TantivyDocument, f: Field) -> String {
        doc.get_first(f)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    }

    /// The words and character pairs of `text`, each match weighing `weight`.
    pub fn group(&self, text: &str, weight: f32) -> QueryGroup {
        let mut g = QueryGroup::default();
        for w in self.query_words(text) {
            g.words.push((w, weight));
        }
        let mut seen = HashSet::new();
        for (p, _, _) in tokenizer::bigrams(&self.seg, text) {
            if seen.insert(p.clone()) {
                g.grams.push((p, weight));
            }
        }
        g
    }

    /// Anything of `g` in any field: words in the word fields, pairs in the bigram fields,
    /// each match weighted by its weight and the field's boost.
    pub fn any_of(&self, g: &QueryGroup) -> BooleanQuery {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (spec, field) in &self.fields {
            let terms = match spec.analysis {
                Analysis::Words => &g.words,
                Analysis::Bigrams => &g.grams,
            };
            for (t, weight) in terms {
                let tq = TermQuery::new(
                    Term::from_field_text(*field, t),
                    IndexRecordOption::WithFreqs,
                );
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(tq), spec.boost * weight)),
                ));
            }
        }
        BooleanQuery::new(clauses)
    }

    /// Every group must match (a document with nothing of one group is left out); within a
    /// group anything will do. An empty group asks nothing.
    pub fn all_groups(&self, groups: &[QueryGroup]) -> BooleanQuery {
        BooleanQuery::new(
            groups
                .iter()
                .filter(|g| !g.is_empty())
                .map(|g| (Occur::Must, Box::new(self.any_of(g)) as Box<dyn Query>))
                .collect(),
        )
    }

    /// The ids of the best `limit` documents for `query`, best first, with their scores.
    pub fn top(&self, query: &dyn Query, limit: usize) -> Result<Vec<(i64, f32)>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let searcher = self.searcher();
        let top = searcher
            .search(query, &TopDocs::with_limit(limit).order_by_score())
            .map_err(tantivy_err)?;
        let mut out = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr).map_err(tantivy_err)?;
            if let Some(id) = self.doc_id(&doc) {
                out.push((id, score));
            }
        }
        Ok(out)
    }
}

// ---- the cache ----

/// Built indexes per database (keyed by its URL), each with the generation of the data it was
/// built from. The owner reads the current generation, and rebuilds when it has moved:
///
/// ```text
/// g = generation(db)?;  if let Some(ix) = cache.cached(url, &g) { return ix }
/// let lock = cache.build_lock(url); let _guard = lock.lock().await;
/// g = generation(db)?;  if let Some(ix) = cache.cached(url, &g) { return ix }   // built meanwhile
/// load, build off the async threads, cache.insert(url, g, ix)
/// ```
pub struct IndexCache<G, T> {
    entries: Mutex<HashMap<String, (G, Arc<T>)>>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl<G, T> Default for IndexCache<G, T> {
    fn default() -> Self {
        IndexCache {
            entries: Mutex::new(HashMap::new()),
            locks: Mutex::new(HashMap::new()),
        }
    }
}

impl<G: PartialEq + Clone, T> IndexCache<G, T> {
    /// The index built from generation `g`, if that is the one cached.
    pub fn cached(&self, key: &str, g: &G) -> Option<Arc<T>> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .filter(|(have, _)| have == g)
            .map(|(_, ix)| ix.clone())
    }

    /// One rebuild at a time per database; searches meanwhile wait for it rather than all
    /// building.
    pub fn build_lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.locks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.to_owned())
            .or_default()
            .clone()
    }

    pub fn insert(&self, key: &str, g: G, ix: Arc<T>) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_owned(), (g, ix));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: [FieldSpec; 3] = [
        FieldSpec {
            name: "title",
            analysis: Analysis::Words,
            boost: 3.0,
        },
        FieldSpec {
            name: "body",
            analysis: Analysis::Words,
            boost: 1.0,
        },
        FieldSpec {
            name: "grams",
            analysis: Analysis::Bigrams,
            boost: 0.5,
        },
    ];

    fn doc(id: i64, title: &str, body: &str) -> IndexDoc {
        IndexDoc {
            id,
            texts: vec![title.into(), body.into(), format!("{title} {body}")],
        }
    }

    #[test]
    fn groups_must_all_match_and_titles_weigh_more() {
        let ix = TextIndex::build(
            &SPECS,
            &[
                doc(1, "住房公积金提取", "退休、购房可以提取公积金"),
                doc(2, "购房补贴", "首次购房的家庭可以申请补贴，公积金贷款除外"),
                doc(3, "市卫健委", "健康证明"),
            ],
            &["市卫健委".to_string()],
        )
        .unwrap();
        let words = |q: &str| ix.group(q, 1.0);
        let hits = ix.top(&ix.any_of(&words("公積金")), 10).unwrap();
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), [1, 2]);
        let hits = ix
            .top(&ix.all_groups(&[words("公积金"), words("补贴")]), 10)
            .unwrap();
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), [2]);
        // A name the dictionary cuts differently is still found by its character pairs.
        let hits = ix.top(&ix.any_of(&words("卫健委")), 10).unwrap();
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), [3]);
        assert!(ix.top(&ix.any_of(&words("护照")), 10).unwrap().is_empty());
    }
}
