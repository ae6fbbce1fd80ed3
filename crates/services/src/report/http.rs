//! JSON API of the figures.

use super::domain::*;
use crate::http::{attachment, svc, DOCX, J, XLSX};
use crate::service::*;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use kernel::error::Error;
use serde::Deserialize;
use webcore::{ApiActor, ApiResult, AppCtx, Query};

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/services/reports", get(report_json))
        .route("/api/v1/services/reports.xlsx", get(report_xlsx))
        .route("/api/v1/services/reports/monthly.docx", get(report_docx))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReportQuery {
    /// `2026-03` (a month) or `2026` (a year); or give `from` and `to` instead.
    #[serde(default)]
    pub period: Option<String>,
    /// First day of a custom period, `2026-03-01`.
    #[serde(default)]
    pub from: Option<String>,
    /// Last day of a custom period (included), `2026-03-15`.
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub group_by: GroupBy,
}

impl ReportQuery {
    /// The period asked for, as [from, to) and its label.
    pub fn resolve(&self) -> kernel::Result<(i64, i64, String)> {
        fn given(o: &Option<String>) -> Option<&str> {
            o.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        match (given(&self.from), given(&self.to), given(&self.period)) {
            (None, None, Some(p)) => {
                let (a, b) = crate::report::period(p)?;
                Ok((a, b, p.to_owned()))
            }
            (None, None, None) => Err(Error::field(
                "period",
                "required",
                "请填写统计周期（如 2026-03），或起止日期",
            )),
            (f, t, _) => crate::report::custom_period(f.unwrap_or(""), t.unwrap_or("")),
        }
    }
}

/// The report a query asks for.
pub async fn report_for(
    s: &ServicesService,
    actor: &kernel::Actor,
    q: &ReportQuery,
    group_by: GroupBy,
) -> kernel::Result<Report> {
    let (from, to, label) = q.resolve()?;
    s.report_between(actor, from, to, &label, group_by).await
}

/// Figures per department, region or item.
#[utoipa::path(get, path = "/api/v1/services/reports", tag = "services", params(ReportQuery),
    responses((status = 200, body = Report), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn report_json(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<ReportQuery>,
) -> J<Report> {
    Ok(axum::Json(
        report_for(&svc(&ctx), &a, &q, q.group_by).await?,
    ))
}

/// The same figures as .xlsx.
#[utoipa::path(get, path = "/api/v1/services/reports.xlsx", tag = "services", params(ReportQuery), responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>)))]
pub(crate) async fn report_xlsx(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Response> {
    let r = report_for(&svc(&ctx), &a, &q, q.group_by).await?;
    let name = format!("政务服务统计-{}.xlsx", r.period);
    Ok(attachment(
        crate::report::to_xlsx(&r)?,
        XLSX,
        "services-report.xlsx",
        &name,
    ))
}

/// The monthly 政务服务运行情况 report as .docx.
#[utoipa::path(get, path = "/api/v1/services/reports/monthly.docx", tag = "services", params(ReportQuery), responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>)))]
pub(crate) async fn report_docx(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Response> {
    let r = report_for(&svc(&ctx), &a, &q, GroupBy::Dept).await?;
    let name = format!("政务服务运行情况-{}.docx", r.period);
    Ok(attachment(
        crate::report::to_docx(&r, &ctx.config.city.name)?,
        DOCX,
        "services-monthly.docx",
        &name,
    ))
}
