//! The catalog's Chinese search over published entries (`textsearch`, as the service guide's):
//! name ×3; provider, codes and 信息项 names ×1.5; summary ×1; character pairs ×0.5. The
//! index is rebuilt when the published set changed (count, sum of versions, last publication).

use crate::service::SharingService;
use kernel::error::{Error, Result};
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

const MAX_RESULTS: usize = 100;

type Fingerprint = (i64, i64, i64);

fn cache() -> &'static IndexCache<Fingerprint, TextIndex> {
    static C: OnceLock<IndexCache<Fingerprint, TextIndex>> = OnceLock::new();
    C.get_or_init(Default::default)
}

async fn current(svc: &SharingService) -> Result<Arc<TextIndex>> {
    let db = svc.db();
    let g = super::store::fingerprint(&mut *svc.conn().await?).await?;
    if let Some(ix) = cache().cached(db.url(), &g) {
        return Ok(ix);
    }
    let lock = cache().build_lock(db.url());
    let _guard = lock.lock().await;
    let g = super::store::fingerprint(&mut *svc.conn().await?).await?;
    if let Some(ix) = cache().cached(db.url(), &g) {
        return Ok(ix);
    }
    let lines = svc.published_entries().await?;
    let docs: Vec<IndexDoc> = lines
        .iter()
        .map(|l| {
            let c = &l.version.content;
            let mut kw = vec![l.provider_name.clone(), l.entry.code.clone()];
            kw.extend(c.items.iter().map(|i| i.name.clone()));
            let kw = kw.join(" ");
            IndexDoc {
                id: l.entry.id,
                texts: vec![
                    c.name.clone(),
                    kw.clone(),
                    c.summary.clone(),
                    format!("{} {kw} {}", c.name, c.summary),
                ],
            }
        })
        .collect();
    let words: Vec<String> = lines
        .iter()
        .map(|l| l.provider_name.clone())
        .filter(|n| !n.is_empty())
        .collect();
    let ix = tokio::task::spawn_blocking(move || TextIndex::build(&FIELDS, &docs, &words))
        .await
        .map_err(Error::internal)??;
    let ix = Arc::new(ix);
    cache().insert(db.url(), g, ix.clone());
    Ok(ix)
}

/// Ids of the published entries matching every whitespace-separated term of `q`, best first.
pub(crate) async fn search(svc: &SharingService, q: &str) -> Result<Vec<i64>> {
    let ix = current(svc).await?;
    let groups: Vec<QueryGroup> = q
        .split(|c: char| c.is_whitespace() || matches!(c, '，' | ',' | '、'))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .take(8)
        .map(|t| ix.group(t, 1.0))
        .filter(|g| !g.is_empty())
        .collect();
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let hits = ix.top(&ix.all_groups(&groups), MAX_RESULTS)?;
    Ok(hits.into_iter().map(|h| h.0).collect())
}
