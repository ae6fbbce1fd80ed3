//! 按编号查找: the top bar's box and its JSON twin. Every module that numbers records gives a
//! [`webcore::LookupFn`] in its [`webcore::Module`]; this file only loops over them, so it knows
//! no ticket or case. A record the reader may not see is answered exactly like an unknown
//! number — each module's hook says `None` for both.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use kernel::{Actor, Error};
use maud::html;
use std::sync::Arc;
use utoipa::OpenApi;
use webcore::layout::{alert, lookup_box, page};
use webcore::{ApiActor, ApiError, AppCtx, LookupFn, LookupHit, PageCtx, PageError};

/// Every module's lookup, collected once by `web::app()` and given to these routes.
#[derive(Clone, Default)]
pub struct Lookups(pub Arc<Vec<LookupFn>>);

pub fn module() -> webcore::Module {
    webcore::Module::new("lookup")
        .routes(
            Router::new()
                .route("/lookup", get(lookup_page))
                .route("/api/v1/lookup", get(lookup_api)),
        )
        .openapi(LookupApi::openapi())
}

#[derive(OpenApi)]
#[openapi(
    paths(lookup_api),
    components(schemas(LookupHit)),
    tags((name = "lookup", description = "按编号查找工单或办件"))
)]
pub struct LookupApi;

/// The `number` parameter of a query string, as typed; a malformed query string is no number.
fn typed_number(query: Option<&str>) -> String {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "number")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Every hit for `typed` that `actor` may see, in module order; a bad number is a validation
/// error on `number`.
async fn find(
    ctx: &AppCtx,
    lookups: &Lookups,
    actor: &Actor,
    typed: &str,
) -> Result<Vec<LookupHit>, Error> {
    let number = webcore::lookup::normalize(typed)?;
    let mut hits = Vec::new();
    for f in lookups.0.iter() {
        if let Some(hit) = f(ctx, actor, &number).await? {
            hits.push(hit);
        }
    }
    Ok(hits)
}

fn not_found_message(typed: &str) -> String {
    format!("未找到编号为 {} 的工单或办件（或您无权查看）", typed.trim())
}

/// `GET /lookup?number=…`: one hit → its page; none → the same answer whether the number is
/// unknown or not the reader's to see; several (never, as numbers are shaped apart) → a list.
async fn lookup_page(
    State(ctx): State<AppCtx>,
    Extension(lookups): Extension<Lookups>,
    p: PageCtx,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let typed = typed_number(query.as_deref());
    let (status, message, hits) = match find(&ctx, &lookups, &p.actor, &typed).await {
        Ok(hits) if hits.len() == 1 => return Ok(Redirect::to(&hits[0].url).into_response()),
        Ok(hits) if hits.is_empty() => {
            (StatusCode::NOT_FOUND, Some(not_found_message(&typed)), hits)
        }
        Ok(hits) => (StatusCode::OK, None, hits),
        Err(e @ Error::Validation(_)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(e.detail()),
            Vec::new(),
        ),
        Err(e) => return Err(PageError(e)),
    };
    // Whatever was typed, shown back only as text and at most as long as the box accepts.
    let shown: String = typed
        .trim()
        .chars()
        .take(webcore::lookup::MAX_CHARS)
        .collect();
    let body = html! {
        @if let Some(m) = &message { (alert(m)) }
        @if !hits.is_empty() {
            p { "找到以下记录：" }
            ul { @for h in &hits { li { a href=(h.url) { (h.label) } } } }
        }
        p.muted { "可输入工单编号或办件编号，不区分大小写、全角半角，可省略城市名前缀和连字符。" }
        (lookup_box("number", &shown))
    };
    Ok((status, page(&p, "按编号查找", body)).into_response())
}

/// A ticket or case by its number, tolerant of case, full-width characters, spaces, dashes
/// and the city prefix. A record the caller may not see is answered 404 like an unknown one.
#[utoipa::path(get, path = "/api/v1/lookup", tag = "lookup",
    params(("number" = String, Query, description = "工单编号或办件编号，如 A市12345-20260316-000001、BJ2026031600001；最多 64 个字符")),
    responses((status = 200, body = LookupHit), (status = 401, body = webcore::error::Problem),
              (status = 404, body = webcore::error::Problem), (status = 422, body = webcore::error::Problem)))]
async fn lookup_api(
    ApiActor(actor): ApiActor,
    State(ctx): State<AppCtx>,
    Extension(lookups): Extension<Lookups>,
    RawQuery(query): RawQuery,
) -> Result<axum::Json<LookupHit>, ApiError> {
    let typed = typed_number(query.as_deref());
    let mut hits = find(&ctx, &lookups, &actor, &typed).await?;
    if hits.is_empty() {
        return Err(ApiError(Error::not_found(
            "lookup",
            not_found_message(&typed),
        )));
    }
    Ok(axum::Json(hits.swap_remove(0)))
}
