//! The figures, for the issuing staff and analysts.

use super::store;
use crate::service::*;
use kernel::error::Result;
use kernel::Actor;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Default)]
pub struct FigureRow {
    pub type_id: i64,
    pub type_name: String,
    pub dept_id: i64,
    /// 签发量: issued in the period.
    pub issued: i64,
    /// 存量: valid licenses at the period's end.
    pub stock: i64,
    /// 使用量: presentations, verifications, API reads and 免证办 uses in the period.
    pub uses: i64,
    /// 免证办 uses alone.
    pub exempt_uses: i64,
    /// 使用率: uses ÷ stock (0 without stock).
    pub use_rate: f64,
}

impl LicensesService {
    /// Figures per type and department for [from, to) (Unix ms), within the reader's scope.
    pub async fn figures(&self, actor: &Actor, from: i64, to: i64) -> Result<Vec<FigureRow>> {
        actor.require_scope(<ReadLicenses as kernel::auth::Permission>::TOKEN_SCOPE)?;
        actor.require_any_role(<ReadLicenses as kernel::auth::Permission>::ROLES)?;
        let names: std::collections::HashMap<i64, String> = self
            .license_types()
            .await?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect();
        let mut c = self.conn().await?;
        let mut rows: Vec<FigureRow> = store::issued_and_stock(&mut c, from, to)
            .await?
            .into_iter()
            .filter(|(_, d, _, _)| actor.can_see(Some(*d), None))
            .map(|(t, d, issued, stock)| FigureRow {
                type_id: t,
                type_name: names.get(&t).cloned().unwrap_or_default(),
                dept_id: d,
                issued,
                stock,
                ..Default::default()
            })
            .collect();
        for (t, d, kind, n) in store::uses(&mut c, from, to).await? {
            if let Some(r) = rows.iter_mut().find(|r| r.type_id == t && r.dept_id == d) {
                r.uses += n;
                if kind == crate::usage::UsageKind::Exempt.code() {
                    r.exempt_uses += n;
                }
            }
        }
        for r in &mut rows {
            r.use_rate = if r.stock > 0 {
                r.uses as f64 / r.stock as f64
            } else {
                0.0
            };
        }
        Ok(rows)
    }
}
