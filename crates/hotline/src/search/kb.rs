//! The knowledge base's full-text index (tantivy, in RAM) and the Q&A scoring.
//!
//! One index per database, built from the published articles and kept in a process-wide cache.
//! Every write to `hotline_kb_articles` bumps `hotline_intel_settings.kb_generation` (a trigger),
//! and every search first reads that counter: an index built from an older generation is rebuilt
//! before it answers, so several server instances never serve a withdrawn article. Rebuilding
//! 2,000 articles takes well under a second, and articles change a few times a day.

use kernel::error::{Error, Result};
use kernel::Db;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};
use tantivy::collector::TopDocs;
use tantivy::snippet::SnippetGenerator;
use tantivy::{Index, TantivyDocument, Term};
use textsearch::{tantivy_err, tokenizer, Analysis, FieldSpec, IndexCache, IndexDoc, TextIndex};

/// Title (the article's question) weighs most, then the category names, then the answer.
const TITLE_BOOST: f32 = 3.0;
const KEYWORDS_BOOST: f32 = 1.5;
const SNIPPET_CHARS: usize = 120;

/// A published article as indexed.
#[derive(Debug, Clone)]
pub struct KbDoc {
    pub id: i64,
    pub title: String,
    pub body: String,
    /// Category path names, e.g. "住房保障/公积金".
    pub keywords: String,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub article_id: i64,
    pub title: String,
    pub answer: String,
    pub snippet: String,
    /// tantivy's BM25 score with the field boosts: for ranking, not comparable across queries.
    pub bm25: f64,
    /// Share of the question's weight the article covers, in [0, 1] (see [`KbIndex::coverage`]).
    pub coverage: f64,
}

/// The index's fields, in the order of [`IndexDoc::texts`].
const FIELDS: [FieldSpec; 3] = [
    FieldSpec {
        name: "title",
        analysis: Analysis::Words,
        boost: TITLE_BOOST,
    },
    FieldSpec {
        name: "body",
        analysis: Analysis::Words,
        boost: 1.0,
    },
    FieldSpec {
        name: "keywords",
        analysis: Analysis::Words,
        boost: KEYWORDS_BOOST,
    },
];

pub struct KbIndex {
    pub generation: i64,
    ix: TextIndex,
    validity: HashMap<i64, (Option<String>, Option<String>)>,
}

impl KbIndex {
    /// Builds the index of `docs` (CPU work: call it off the async threads).
    pub fn build(generation: i64, docs: &[KbDoc], user_words: &[String]) -> Result<KbIndex> {
        let indexed: Vec<IndexDoc> = docs
            .iter()
            .map(|d| IndexDoc {
                id: d.id,
                texts: vec![d.title.clone(), d.body.clone(), d.keywords.clone()],
            })
            .collect();
        let ix = TextIndex::build(&FIELDS, &indexed, user_words)?;
        let validity = docs
            .iter()
            .map(|d| (d.id, (d.valid_from.clone(), d.valid_until.clone())))
            .collect();
        Ok(KbIndex {
            generation,
            ix,
            validity,
        })
    }

    pub fn len(&self) -> u64 {
        self.ix.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn query_words(&self, q: &str) -> Vec<String> {
        self.ix.query_words(q)
    }

    /// The best `limit` articles valid on `today` (`YYYY-MM-DD`) for `q`, best first.
    pub fn search(&self, q: &str, limit: usize, today: &str) -> Result<Vec<Hit>> {
        let group = self.ix.group(q, 1.0);
        if group.words().is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let words: Vec<String> = group.words().iter().map(|w| w.0.clone()).collect();
        let query = self.ix.any_of(&group);
        let (title_f, body_f, keywords_f) = (
            self.ix.field("title"),
            self.ix.field("body"),
            self.ix.field("keywords"),
        );
        let searcher = self.ix.searcher();
        // Articles out of their validity period are skipped, so fetch a few more.
        let top = searcher
            .search(&query, &TopDocs::with_limit(limit * 2 + 5).order_by_score())
            .map_err(tantivy_err)?;
        let mut snip_body =
            SnippetGenerator::create(&searcher, &query, body_f).map_err(tantivy_err)?;
        snip_body.set_max_num_chars(SNIPPET_CHARS);
        let weights = self.idf(&searcher, &words);
        let mut out = Vec::new();
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr).map_err(tantivy_err)?;
            let Some(id) = self.ix.doc_id(&doc) else {
                continue;
            };
            if !self.valid_on(id, today) {
                continue;
            }
            let (title, answer, keywords) = (
                self.ix.doc_text(&doc, title_f),
                self.ix.doc_text(&doc, body_f),
                self.ix.doc_text(&doc, keywords_f),
            );
            let s = snip_body.snippet_from_doc(&doc);
            let snippet = if s.highlighted().is_empty() {
                // The match was in the title or category: show the answer's opening.
                answer.chars().take(SNIPPET_CHARS / 2).collect()
            } else {
                s.fragment().trim().to_owned()
            };
            let coverage =
                self.coverage(&searcher, &weights, &title, &[&title, &answer, &keywords]);
            out.push(Hit {
                article_id: id,
                title,
                answer,
                snippet,
                bm25: f64::from(score),
                coverage,
            });
            if out.len() == limit {
                break;
            }
        }
        Ok(out)
    }

    fn valid_on(&self, id: i64, today: &str) -> bool {
        match self.validity.get(&id) {
            Some((from, until)) => {
                from.as_deref()
                    .filter(|s| !s.is_empty())
                    .is_none_or(|f| f <= today)
                    && until
                        .as_deref()
                        .filter(|s| !s.is_empty())
                        .is_none_or(|u| u >= today)
            }
            None => false,
        }
    }

    /// BM25's inverse document frequency of each query word over the index (a word in any
    /// field of an article counts once for it); a word no article has gets the largest weight.
    fn idf(&self, searcher: &tantivy::Searcher, words: &[String]) -> Vec<(String, f64)> {
        let n = searcher.num_docs() as f64;
        words
            .iter()
            .map(|w| {
                let df = self
                    .ix
                    .word_fields()
                    .iter()
                    .map(|&f| searcher.doc_freq(&Term::from_field_text(f, w)).unwrap_or(0))
                    .max()
                    .unwrap_or(0) as f64;
                (w.clone(), (1.0 + (n - df + 0.5) / (df + 0.5)).ln())
            })
            .collect()
    }

    /// The normalised score in [0, 1], the mean of two IDF-weighted shares: of the question's
    /// words that occur in the article, and of the article's title words that occur in the
    /// question. 1 means the question and the article's own question use the same words; rare
    /// words (which say what a question is about) count more than common ones ("办理", "需要"),
    /// and a word no article has counts as the rarest. Unlike raw BM25 it depends neither on
    /// the article's length nor on the size of the index, so one threshold fits every question.
    fn coverage(
        &self,
        searcher: &tantivy::Searcher,
        weights: &[(String, f64)],
        title: &str,
        texts: &[&str],
    ) -> f64 {
        let share = |w: &[(String, f64)], have: &HashSet<String>| {
            let total: f64 = w.iter().map(|x| x.1).sum();
            if total <= 0.0 {
                return 0.0;
            }
            w.iter()
                .filter(|x| have.contains(&x.0))
                .map(|x| x.1)
                .sum::<f64>()
                / total
        };
        let in_article: HashSet<String> = texts
            .iter()
            .flat_map(|t| tokenizer::words(self.ix.segmenter(), t))
            .map(|w| w.0)
            .collect();
        let in_question: HashSet<String> = weights.iter().map(|w| w.0.clone()).collect();
        let title_words = self.query_words(title);
        let title_weights = self.idf(searcher, &title_words);
        let s = 0.5 * share(weights, &in_article) + 0.5 * share(&title_weights, &in_question);
        (s * 1000.0).round() / 1000.0
    }

    #[doc(hidden)]
    pub fn tantivy_index(&self) -> &Index {
        self.ix.index()
    }
}

// ---- the cache ----

fn cache() -> &'static IndexCache<i64, KbIndex> {
    static C: OnceLock<IndexCache<i64, KbIndex>> = OnceLock::new();
    C.get_or_init(Default::default)
}

async fn generation(db: &Db) -> Result<i64> {
    super::store::kb_generation(&mut *db.pool().acquire().await?).await
}

/// The index for the database's current knowledge base, rebuilt if an article changed since.
pub async fn current(db: &Db) -> Result<Arc<KbIndex>> {
    let g = generation(db).await?;
    if let Some(ix) = cache().cached(db.url(), &g) {
        return Ok(ix);
    }
    let lock = cache().build_lock(db.url());
    let _guard = lock.lock().await;
    // The counter is read before the articles: if one changes in between, the index is newer
    // than its generation says and the next search merely rebuilds once more.
    let g = generation(db).await?;
    if let Some(ix) = cache().cached(db.url(), &g) {
        return Ok(ix);
    }
    let (docs, words) = load(db).await?;
    let ix = tokio::task::spawn_blocking(move || KbIndex::build(g, &docs, &words))
        .await
        .map_err(Error::internal)??;
    let ix = Arc::new(ix);
    cache().insert(db.url(), g, ix.clone());
    Ok(ix)
}

/// Published articles with their category paths, and the category names for the dictionary.
async fn load(db: &Db) -> Result<(Vec<KbDoc>, Vec<String>)> {
    super::store::kb_documents(&mut *db.pool().acquire().await?).await
}
