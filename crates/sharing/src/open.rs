//! What the catalog opens to the public (开放属性 无条件开放 / 有条件开放), read-only, for the
//! open-data portal: the open entries with their mounted resources, and the rows of an open
//! resource without any personal 信息项. Publication already refuses an open entry holding one
//! ([`EntryContent::check_open`]); the rows are cut to the open fields again here, so a
//! resource mounted before a rule changed cannot leak one.

use crate::catalog::domain::{EntryContent, Item, OpenKind};
use crate::catalog::service::EntryLine;
use crate::mount::domain::Resource;
use crate::service::SharingService;
use kernel::error::{Error, Result};
use serde_json::{Map, Value};

/// An open entry: the version in force and its mounted resources.
#[derive(Debug, Clone)]
pub struct OpenEntry {
    pub line: EntryLine,
    pub resources: Vec<Resource>,
}

impl OpenEntry {
    pub fn content(&self) -> &EntryContent {
        &self.line.version.content
    }
}

/// The fields of a resource that may be opened.
pub fn open_fields(r: &Resource) -> Vec<&Item> {
    r.fields.iter().filter(|i| !i.is_personal()).collect()
}

impl SharingService {
    /// Published entries whose version in force is open (无条件 or 有条件开放), with their
    /// resources. Withdrawing (a new version published as 不予开放) removes an entry at once.
    pub async fn open_entries(&self) -> Result<Vec<OpenEntry>> {
        let lines: Vec<EntryLine> = self
            .published_entries()
            .await?
            .into_iter()
            .filter(|l| l.version.content.open_kind != OpenKind::NotOpen)
            .collect();
        let mut by_entry: std::collections::HashMap<i64, Vec<Resource>> = Default::default();
        for r in crate::mount::store::all(&mut *self.conn().await?, None).await? {
            by_entry.entry(r.entry_id).or_default().push(r);
        }
        Ok(lines
            .into_iter()
            .map(|line| OpenEntry {
                resources: by_entry.remove(&line.entry.id).unwrap_or_default(),
                line,
            })
            .collect())
    }

    /// One open entry by its 资源代码; not found when it is not (or no longer) open.
    pub async fn open_entry(&self, code: &str) -> Result<OpenEntry> {
        let view = self.entry_by_code(code).await?;
        let Some(v) = view.published().cloned() else {
            return Err(Error::not_found("opendata_dataset", "数据集不存在或未开放"));
        };
        if v.content.open_kind == OpenKind::NotOpen {
            return Err(Error::not_found("opendata_dataset", "数据集不存在或未开放"));
        }
        let resources =
            crate::mount::store::all(&mut *self.conn().await?, Some(view.entry.id)).await?;
        Ok(OpenEntry {
            line: EntryLine {
                entry: view.entry,
                provider_name: view.provider_name,
                version: v,
            },
            resources,
        })
    }

    /// Up to `limit` rows of an open resource after row `after`, with only its open fields,
    /// as (row id, values). The caller checks the entry is open ([`Self::open_entry`]).
    pub async fn open_rows(
        &self,
        resource: &Resource,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, Map<String, Value>)>> {
        let fields = open_fields(resource);
        let raw = crate::mount::store::rows_after(
            &mut *self.conn().await?,
            resource.id,
            after,
            limit.clamp(1, 10_000),
        )
        .await?;
        raw.into_iter()
            .map(|(id, text)| {
                let mut all: Map<String, Value> =
                    serde_json::from_str(&text).map_err(crate::store::bad("sharing_rows"))?;
                let mut out = Map::new();
                for f in &fields {
                    if let Some(v) = all.remove(&f.field) {
                        out.insert(f.field.clone(), v);
                    }
                }
                Ok((id, out))
            })
            .collect()
    }

    /// A page of [`Self::open_rows`] for streaming a whole table: up to `limit` rows after row
    /// `after`, open fields only, read as one joined text (one database hand-off per page), and
    /// the page's last row id; `None` past the end.
    pub async fn open_rows_page(
        &self,
        resource: &Resource,
        after: i64,
        limit: i64,
    ) -> Result<Option<(i64, Vec<Map<String, Value>>)>> {
        let fields = open_fields(resource);
        let Some((last, text)) = crate::mount::store::rows_after_joined(
            &mut *self.conn().await?,
            self.db.backend(),
            resource.id,
            after,
            limit.clamp(1, 10_000),
        )
        .await?
        else {
            return Ok(None);
        };
        let rows = text
            .split('\n')
            .map(|line| {
                let mut all: Map<String, Value> =
                    serde_json::from_str(line).map_err(crate::store::bad("sharing_rows"))?;
                let mut out = Map::new();
                for f in &fields {
                    if let Some(v) = all.remove(&f.field) {
                        out.insert(f.field.clone(), v);
                    }
                }
                Ok(out)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((last, rows)))
    }

    /// The catalog's change counter: the same number, the same open datasets (entries,
    /// versions and resources unchanged).
    pub async fn catalog_generation(&self) -> Result<i64> {
        crate::mount::store::catalog_generation(&mut *self.conn().await?).await
    }
}
