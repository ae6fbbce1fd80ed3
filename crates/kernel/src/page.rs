//! Pagination shared by every list.

use serde::{Deserialize, Serialize};

pub const MAX_PER_PAGE: i64 = 200;

#[derive(Debug, Clone, Copy, Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// Page number, from 1 (a smaller one is taken as 1).
    pub page: Option<i64>,
    /// Rows per page, 1–200 (default 50). Clamped, not refused: a larger value is taken as
    /// 200, a smaller one as 1; the answer's `per_page` says which was used.
    pub per_page: Option<i64>,
}

impl PageQuery {
    pub fn page(&self) -> i64 {
        self.page.unwrap_or(1).max(1)
    }
    pub fn per_page(&self) -> i64 {
        self.per_page.unwrap_or(50).clamp(1, MAX_PER_PAGE)
    }
    pub fn offset(&self) -> i64 {
        (self.page() - 1).saturating_mul(self.per_page())
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, total: i64, q: &PageQuery) -> Self {
        Page {
            items,
            total,
            page: q.page(),
            per_page: q.per_page(),
        }
    }
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }
}
