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
    /// Licenses valid at the period's end that were used at least once in it.
    pub used_licenses: i64,
    /// 使用率: `used_licenses` ÷ `stock`; none without stock.
    pub use_rate: Option<f64>,
    /// Cases delivered in the period of items whose result is this type (出件 reported by the
    /// service hall), and of them those delivered as 电子证照.
    pub case_results: i64,
    pub issued_from_cases: i64,
    /// 电子证照签发率: `issued_from_cases` ÷ `case_results`; none without such cases.
    pub issue_rate: Option<f64>,
}

fn rate(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
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
        self.write_queued_usage().await?;
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
        let row_of = |t: i64, d: i64, rows: &mut Vec<FigureRow>| -> Option<usize> {
            if !actor.can_see(Some(d), None) {
                return None;
            }
            if let Some(i) = rows.iter().position(|r| r.type_id == t && r.dept_id == d) {
                return Some(i);
            }
            rows.push(FigureRow {
                type_id: t,
                type_name: names.get(&t).cloned().unwrap_or_default(),
                dept_id: d,
                ..Default::default()
            });
            Some(rows.len() - 1)
        };
        for (t, d, kind, n) in store::uses(&mut c, from, to).await? {
            if let Some(i) = row_of(t, d, &mut rows) {
                rows[i].uses += n;
                if kind == crate::usage::UsageKind::Exempt.code() {
                    rows[i].exempt_uses += n;
                }
            }
        }
        for (t, d, n) in store::used_valid(&mut c, from, to).await? {
            if let Some(i) = row_of(t, d, &mut rows) {
                rows[i].used_licenses = n;
            }
        }
        for (t, d, all, issued) in store::case_results(&mut c, from, to).await? {
            if let Some(i) = row_of(t, d, &mut rows) {
                rows[i].case_results = all;
                rows[i].issued_from_cases = issued;
            }
        }
        for r in &mut rows {
            r.use_rate = rate(r.used_licenses, r.stock);
            r.issue_rate = rate(r.issued_from_cases, r.case_results);
        }
        rows.sort_by_key(|r| (r.type_id, r.dept_id));
        Ok(rows)
    }
}
