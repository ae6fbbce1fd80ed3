//! The public 办事指南 search: published item versions in a Chinese full-text index
//! (`textsearch`, the same tokenizer and index as the hotline's knowledge base). Name ×3;
//! department, type, codes and 情形 ×1.5; conditions, materials and legal basis ×1; and the
//! character pairs of all of it ×0.5, so that a short form inside a longer word still matches.
//! A query's words are cut as the index cuts them (full-width and traditional characters
//! normalised), colloquial terms also look for the official wording ("开饭店" → 餐饮), and
//! each whitespace-separated term must match: "食品 卫健委" is food items of that department.
//!
//! The index holds published versions only, so a draft never appears, and it is rebuilt when
//! the published set has changed: every search first reads a fingerprint of it (count and sum
//! of published version numbers — a publish always raises the sum — and the last change time).

use super::store::{fingerprint, Fingerprint};
use crate::domain::ServiceItem;
use crate::items::store::published_items;
use kernel::error::{Error, Result};
use kernel::{Actor, Db};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use textsearch::{Analysis, FieldSpec, IndexCache, IndexDoc, QueryGroup, TextIndex};

const FIELDS: [FieldSpec; 4] = [
    FieldSpec {
        name: "name",
        analysis: Analysis::Words,
        boost: 3.0,
    },
    FieldSpec {
        name: "keywords",
        analysis: Analysis::Words,
        boost: 1.5,
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

/// Weight of a match on an official wording the query did not type itself.
const EXPANSION_WEIGHT: f32 = 0.7;
/// Terms of a query looked at (the rest are ignored), and results returned.
const MAX_TERMS: usize = 8;
pub const MAX_RESULTS: usize = 100;

fn cache() -> &'static IndexCache<Fingerprint, TextIndex> {
    static C: OnceLock<IndexCache<Fingerprint, TextIndex>> = OnceLock::new();
    C.get_or_init(Default::default)
}

/// The text of an item as indexed, one entry per field of [`FIELDS`].
pub fn document(item: &ServiceItem, dept_name: &str) -> IndexDoc {
    let c = &item.content;
    let mut keywords = vec![
        dept_name.to_owned(),
        c.item_type.label().to_owned(),
        c.mode.label().to_owned(),
        c.basic_code.clone(),
        c.impl_code.clone(),
    ];
    keywords.extend(c.scenarios.iter().map(|s| s.name.clone()));
    let mut body = vec![c.conditions.clone(), c.legal_basis.clone()];
    body.extend(c.materials.iter().map(|m| m.name.clone()));
    body.extend(
        c.scenarios
            .iter()
            .flat_map(|s| s.extra_materials.iter().map(|m| m.name.clone())),
    );
    let (keywords, body) = (keywords.join(" "), body.join(" "));
    IndexDoc {
        id: item.id,
        texts: vec![
            c.name.clone(),
            keywords.clone(),
            body.clone(),
            format!("{} {keywords} {body}", c.name),
        ],
    }
}

/// The index of the database's currently published items, rebuilt when they changed.
async fn current(db: &Db) -> Result<Arc<TextIndex>> {
    let g = fingerprint(db).await?;
    if let Some(ix) = cache().cached(db.url(), &g) {
        return Ok(ix);
    }
    let lock = cache().build_lock(db.url());
    let _guard = lock.lock().await;
    let g = fingerprint(db).await?;
    if let Some(ix) = cache().cached(db.url(), &g) {
        return Ok(ix);
    }
    // Read after the fingerprint: a publish in between makes the index newer than its
    // fingerprint, and the next search rebuilds once more.
    let items = published_items(&mut *db.pool().acquire().await?, &[], None).await?;
    let org = org::OrgService::new(db.clone(), Default::default());
    let mut depts: HashMap<i64, String> = HashMap::new();
    for i in &items {
        if let std::collections::hash_map::Entry::Vacant(e) = depts.entry(i.content.dept_id) {
            let name = org
                .department(&Actor::system(), i.content.dept_id)
                .await
                .map(|d| d.name)
                .unwrap_or_default();
            e.insert(name);
        }
    }
    let docs: Vec<IndexDoc> = items
        .iter()
        .map(|i| document(i, &depts[&i.content.dept_id]))
        .collect();
    let words: Vec<String> = depts.into_values().filter(|n| !n.is_empty()).collect();
    let ix = tokio::task::spawn_blocking(move || TextIndex::build(&FIELDS, &docs, &words))
        .await
        .map_err(Error::internal)??;
    let ix = Arc::new(ix);
    cache().insert(db.url(), g, ix.clone());
    Ok(ix)
}

/// What each term of `q` looks for: its own words and pairs, and its official wordings.
fn groups(ix: &TextIndex, q: &str) -> Vec<QueryGroup> {
    q.split(|c: char| c.is_whitespace() || matches!(c, '，' | ',' | '、' | '；' | ';'))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .take(MAX_TERMS)
        .map(|term| {
            let norm = ix.segmenter().normalizer().normalize(term);
            let mut g = ix.group(term, 1.0);
            for official in textsearch::synonyms::expansions(&norm) {
                g.add(ix.group(official, EXPANSION_WEIGHT));
            }
            g
        })
        .filter(|g| !g.is_empty())
        .collect()
}

/// Ids of the published items matching `q`, best first.
pub async fn search(db: &Db, q: &str) -> Result<Vec<i64>> {
    let ix = current(db).await?;
    let gs = groups(&ix, q);
    if gs.is_empty() {
        return Ok(Vec::new());
    }
    let hits = ix.top(&ix.all_groups(&gs), MAX_RESULTS)?;
    Ok(hits.into_iter().map(|h| h.0).collect())
}
