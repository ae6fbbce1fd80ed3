//! JSON API of the 责任清单.

use super::domain::*;
use crate::http::{svc, J};
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use kernel::page::PageQuery;
use webcore::{ApiActor, AppCtx, Query};

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new().route("/api/v1/sharing/duties", get(list))
}

/// A department's 共享责任清单 (`kind=share`) or 开放责任清单 (`kind=open`): its published
/// entries with 共享/开放属性, mounted or not, last update against the 更新周期 (overdue
/// flagged) and grants in force; totals over the whole list, lines paged. The bureau reads any
/// department's (all without `dept`), others their own.
#[utoipa::path(get, path = "/api/v1/sharing/duties", tag = "sharing", params(DutyQuery, PageQuery),
    responses((status = 200, body = DutyList), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn list(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(d): Query<DutyQuery>,
    Query(q): Query<PageQuery>,
) -> J<DutyList> {
    Ok(axum::Json(
        svc(&ctx).duty_list(&a, d.kind()?, d.dept, &q).await?,
    ))
}
