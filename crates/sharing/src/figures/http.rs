//! JSON of the figures, and the period they are asked for.

use super::service::{Figures, FOREVER};
use crate::http::{svc, J};
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use kernel::error::{Error, Result};
use kernel::period::Period;
use serde::Deserialize;
use utoipa::IntoParams;
use webcore::{ApiActor, AppCtx, Query};

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new().route("/api/v1/sharing/figures", get(figures))
}

/// A period: a month (`2026-11`), or days from/to (both included, `YYYY-MM-DD`).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct PeriodQuery {
    /// A month, `YYYY-MM`; wins over from/to.
    #[serde(default)]
    pub month: String,
    /// First day, `YYYY-MM-DD`.
    #[serde(default)]
    pub from: String,
    /// Last day (included), `YYYY-MM-DD`.
    #[serde(default)]
    pub to: String,
}

impl PeriodQuery {
    /// The period asked for, or `None` when nothing was asked.
    pub fn period(&self, now: i64) -> Result<Option<Period>> {
        let (month, from, to) = (self.month.trim(), self.from.trim(), self.to.trim());
        if !month.is_empty() {
            return match Period::parse(month)? {
                p @ Period::Month { .. } => Ok(Some(p)),
                _ => Err(Error::field(
                    "month",
                    "invalid_month",
                    "月份应写作 YYYY-MM，如 2026-11",
                )),
            };
        }
        if from.is_empty() && to.is_empty() {
            return Ok(None);
        }
        let today = kernel::clock::to_china(now).format("%Y-%m-%d").to_string();
        let to = if to.is_empty() { today.as_str() } else { to };
        let from = if from.is_empty() { to } else { from };
        Period::parse(&format!("{from}..{to}")).map(Some)
    }

    /// The period, this month when nothing was asked.
    pub fn period_or_this_month(&self, now: i64) -> Result<Period> {
        Ok(match self.period(now)? {
            Some(p) => p,
            None => Period::parse(&kernel::clock::to_china(now).format("%Y-%m").to_string())?,
        })
    }
}

/// 目录数, 挂接率, 共享率, 开放率, 更新率 (per department, at the period's end), requests and
/// approval days, grants, calls and top consumers, 数据异议, and contributed sections — over a
/// month or days, all time when no period is given.
#[utoipa::path(get, path = "/api/v1/sharing/figures", tag = "sharing", params(PeriodQuery), responses((status = 200, body = Figures)))]
pub(crate) async fn figures(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<PeriodQuery>,
) -> J<Figures> {
    let (from, to) = match q.period(ctx.db.now())? {
        Some(p) => (p.start(), p.end()),
        None => (0, FOREVER),
    };
    Ok(axum::Json(svc(&ctx).figures_between(&a, from, to).await?))
}
