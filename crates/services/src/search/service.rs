//! The public 办事指南 search as a use case.

use crate::domain::*;
use crate::service::*;
use kernel::error::Result;

impl ServicesService {
    /// Public search over published items, ranked (`crate::search`: Chinese words, colloquial
    /// wording, each term must match); an empty query lists every published item by name.
    pub async fn search_items(&self, q: &str) -> Result<Vec<ServiceItem>> {
        if q.trim().is_empty() {
            return crate::items::store::published_items(&mut *self.conn().await?, &[], None).await;
        }
        let ids = crate::search::index::search(&self.db, q).await?;
        crate::items::store::published_by_ids(&mut *self.conn().await?, &ids).await
    }
}
