//! JSON of the figures.

use super::service::FigureRow;
use crate::http::{svc, J};
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use utoipa::IntoParams;
use webcore::{ApiActor, AppCtx, Query};

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new().route("/api/v1/licenses/figures", get(figures))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct Period {
    /// `YYYY-MM-DD`, inclusive.
    from: String,
    /// `YYYY-MM-DD`, inclusive.
    to: String,
}

/// 签发量, 存量, 使用量, 免证办 uses and 使用率 per type and issuing department.
#[utoipa::path(get, path = "/api/v1/licenses/figures", tag = "licenses", params(Period), responses((status = 200, body = Vec<FigureRow>)))]
pub(crate) async fn figures(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(p): Query<Period>,
) -> J<Vec<FigureRow>> {
    let from = crate::issue::service::parse_day(&p.from, "from")?;
    let to = crate::issue::service::parse_day(&p.to, "to")? + 86_400_000;
    Ok(axum::Json(svc(&ctx).figures(&a, from, to).await?))
}
