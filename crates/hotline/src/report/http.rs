//! `/api/v1/hotline/reports/*`: the KPIs as JSON and XLSX, the monthly and weekly documents.

use super::domain::{parse_week, GroupBy, KpiRow, KpiTable, Kpis, Period};
use super::render::group_label;
use super::service::ReportService;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};
use webcore::{ApiActor, ApiResult, AppCtx, Query};

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/hotline/reports/kpis", get(kpis_json))
        .route("/api/v1/hotline/reports/kpis.xlsx", get(kpis_file))
        .route("/api/v1/hotline/reports/monthly.docx", get(monthly_file))
        .route("/api/v1/hotline/reports/monthly.xlsx", get(monthly_book))
        .route("/api/v1/hotline/reports/typical.docx", get(typical_file))
}

#[derive(OpenApi)]
#[openapi(
    paths(kpis_json, kpis_file, monthly_file, monthly_book, typical_file),
    components(schemas(KpiTable, KpiRow, Kpis)),
    tags((name = "hotline-reports", description = "12345 热线统计报表"))
)]
pub struct ReportApi;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct KpiQuery {
    /// `2025-03` (month), `2025-W11` (ISO week) or `2025-03-01..2025-03-15` (days, China time).
    pub period: String,
    /// `total` (default), `department`, `region` or `category`.
    pub by: Option<String>,
    /// For `by=region`: `province`, `city`, `district` (default), `street` or `community`.
    pub level: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    /// `2025-03` (month), `2025-W11` (ISO week) or `2025-03-01..2025-03-15`.
    pub period: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WeekQuery {
    /// ISO week, e.g. `2025-W11`.
    pub week: String,
}

use webcore::download::{attachment, DOCX, XLSX};

fn city(ctx: &AppCtx) -> String {
    ctx.config.city.name.clone()
}

fn reports(ctx: &AppCtx) -> ReportService {
    ReportService::new(ctx.db.clone(), city(ctx))
}

/// KPIs of a period by group, with the previous period's for the trend.
#[utoipa::path(get, path = "/api/v1/hotline/reports/kpis", tag = "hotline-reports", params(KpiQuery),
    responses((status = 200, body = KpiTable), (status = 403, body = webcore::error::Problem),
              (status = 422, body = webcore::error::Problem)))]
async fn kpis_json(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<KpiQuery>,
) -> ApiResult<axum::Json<KpiTable>> {
    let period = Period::parse(&q.period)?;
    let by = GroupBy::parse(q.by.as_deref().unwrap_or(""), q.level.as_deref())?;
    Ok(axum::Json(reports(&ctx).kpis(&a, &period, by).await?))
}

/// The same KPIs as an Excel workbook (this period, the previous one, the definitions).
#[utoipa::path(get, path = "/api/v1/hotline/reports/kpis.xlsx", tag = "hotline-reports", params(KpiQuery),
    responses((status = 200, description = "XLSX", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = [u8]),
              (status = 403, body = webcore::error::Problem), (status = 422, body = webcore::error::Problem)))]
async fn kpis_file(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<KpiQuery>,
) -> ApiResult<Response> {
    let period = Period::parse(&q.period)?;
    let by = GroupBy::parse(q.by.as_deref().unwrap_or(""), q.level.as_deref())?;
    let bytes = reports(&ctx).kpis_xlsx(&a, &period, by).await?;
    Ok(attachment(
        bytes,
        XLSX,
        &format!("hotline-kpis-{}-{}.xlsx", period.code(), by.code()),
        &format!("热线指标_{}_{}.xlsx", period.code(), group_label(by.code())),
    ))
}

/// The 运行情况 report of a period (normally a month) as a Word document.
#[utoipa::path(get, path = "/api/v1/hotline/reports/monthly.docx", tag = "hotline-reports", params(PeriodQuery),
    responses((status = 200, description = "DOCX", content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document", body = [u8]),
              (status = 403, body = webcore::error::Problem), (status = 422, body = webcore::error::Problem)))]
async fn monthly_file(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<Response> {
    let period = Period::parse(&q.period)?;
    let bytes = reports(&ctx).monthly_docx(&a, &period).await?;
    Ok(attachment(
        bytes,
        DOCX,
        &format!("hotline-monthly-{}.docx", period.code()),
        &format!("{}12345热线运行情况_{}.docx", city(&ctx), period.code()),
    ))
}

/// The 运行情况 report's tables as an Excel workbook.
#[utoipa::path(get, path = "/api/v1/hotline/reports/monthly.xlsx", tag = "hotline-reports", params(PeriodQuery),
    responses((status = 200, description = "XLSX", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = [u8]),
              (status = 403, body = webcore::error::Problem), (status = 422, body = webcore::error::Problem)))]
async fn monthly_book(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<Response> {
    let period = Period::parse(&q.period)?;
    let bytes = reports(&ctx).monthly_xlsx(&a, &period).await?;
    Ok(attachment(
        bytes,
        XLSX,
        &format!("hotline-monthly-{}.xlsx", period.code()),
        &format!("{}12345热线运行情况_{}.xlsx", city(&ctx), period.code()),
    ))
}

/// The weekly 典型案例专报 as a Word document.
#[utoipa::path(get, path = "/api/v1/hotline/reports/typical.docx", tag = "hotline-reports", params(WeekQuery),
    responses((status = 200, description = "DOCX", content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document", body = [u8]),
              (status = 403, body = webcore::error::Problem), (status = 422, body = webcore::error::Problem)))]
async fn typical_file(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<WeekQuery>,
) -> ApiResult<Response> {
    let period = parse_week(&q.week)?;
    let bytes = reports(&ctx).typical_docx(&a, &period).await?;
    Ok(attachment(
        bytes,
        DOCX,
        &format!("hotline-typical-{}.docx", period.code()),
        &format!("{}12345热线典型案例专报_{}.docx", city(&ctx), period.code()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_is_described() {
        let doc = ReportApi::openapi();
        for p in [
            "/api/v1/hotline/reports/kpis",
            "/api/v1/hotline/reports/kpis.xlsx",
            "/api/v1/hotline/reports/monthly.docx",
            "/api/v1/hotline/reports/monthly.xlsx",
            "/api/v1/hotline/reports/typical.docx",
        ] {
            assert!(doc.paths.paths.contains_key(p), "{p}");
        }
        let json = doc.to_json().unwrap();
        assert!(json.contains("KpiTable") && json.contains("spreadsheetml"));
    }
}
