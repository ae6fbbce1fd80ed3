//! The figures' extension point: other modules add named sections (open data's figures) to the
//! sharing figures page, its .xlsx and its monthly report, without sharing depending on them.

use kernel::error::Result;
use kernel::{Actor, Db};
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::sync::{OnceLock, RwLock};
use utoipa::ToSchema;

/// One label and its value, already in words (`1,234`, `45.0%`, `—`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SectionRow {
    pub label: String,
    pub value: String,
}

/// A table, one row per department.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SectionTable {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A named section of figures another module contributes for a period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Section {
    /// Stable key (`opendata`).
    pub key: String,
    /// Its title (`开放数据`).
    pub title: String,
    /// A sentence or two for the monthly report.
    pub summary: String,
    pub rows: Vec<SectionRow>,
    pub by_department: Option<SectionTable>,
}

pub type SectionFuture = Pin<Box<dyn Future<Output = Result<Section>> + Send>>;

/// Computes a section for (database, reader, from, to): [from, to) in UTC milliseconds.
pub type Contributor = fn(Db, Actor, i64, i64) -> SectionFuture;

fn registry() -> &'static RwLock<Vec<(&'static str, Contributor)>> {
    static R: OnceLock<RwLock<Vec<(&'static str, Contributor)>>> = OnceLock::new();
    R.get_or_init(|| RwLock::new(Vec::new()))
}

/// Registers (or replaces) the contributor named `key`; called from a module's `module()`.
pub fn register(key: &'static str, c: Contributor) {
    let mut r = registry().write().unwrap_or_else(|e| e.into_inner());
    match r.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = c,
        None => r.push((key, c)),
    }
}

/// The registered contributors, in registration order.
pub fn contributors() -> Vec<(&'static str, Contributor)> {
    registry().read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Every registered section for the period; one that fails is logged and left out.
pub async fn sections(db: &Db, actor: &Actor, from: i64, to: i64) -> Vec<Section> {
    let mut out = Vec::new();
    for (key, c) in contributors() {
        match c(db.clone(), actor.clone(), from, to).await {
            Ok(s) => out.push(s),
            Err(e) => tracing::warn!(section = key, error = %e, "figures section failed"),
        }
    }
    out
}
