//! Files and documents of the portal: downloads (`/opendata/download/{资源代码}.{csv,xlsx,json}`,
//! CSV and JSON streamed page by page), DCAT-AP (`/catalog.{ttl,rdf,jsonld}`,
//! `/dataset/{name}.{ttl,rdf,jsonld}`) and the figures (`/api/v1/opendata/figures`). Thin:
//! parse, call the service, answer.

use crate::dcat;
use crate::domain::*;
use crate::service::OpendataService;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use kernel::{Actor, Error};
use serde_json::{Map, Value};
use sharing::open::OpenEntry;
use utoipa::OpenApi;
use webcore::{ApiResult, AppCtx, Authenticated, Path};

pub fn svc(ctx: &AppCtx) -> OpendataService {
    OpendataService::new(ctx.db.clone())
}

/// This site's address: the configured public URL, else the request's Host (only a plain
/// host[:port] is echoed, never arbitrary header text).
pub fn base_url(ctx: &AppCtx, h: &HeaderMap) -> String {
    if let Some(u) = ctx
        .config
        .server
        .public_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        return u.trim_end_matches('/').to_owned();
    }
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or(ctx.config.server.listen.as_str());
    let https = ctx.config.server.trust_forwarded_proto
        && h.get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    format!("{}://{host}", if https { "https" } else { "http" })
}

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/opendata/download/{file}", get(download))
        .route("/catalog.ttl", get(catalog_ttl))
        .route("/catalog.rdf", get(catalog_rdf))
        .route("/catalog.jsonld", get(catalog_jsonld))
        .route("/dataset/{file}", get(dataset_doc))
        .route("/api/v1/opendata/figures", get(figures))
}

pub(crate) fn actor_of(a: &Option<Extension<Authenticated>>) -> Option<&Actor> {
    a.as_ref().map(|Extension(x)| &x.actor)
}

/// An Excel worksheet holds 1,048,576 rows, one of them the header: a larger table is offered
/// as CSV and JSON only (which are streamed; the .xlsx is built whole).
const XLSX_MAX_ROWS: i64 = 1_048_575;

/// Rows read per database round trip while streaming.
const CHUNK: i64 = 5_000;

fn csv_cell(v: &str, out: &mut String) {
    if v.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&v.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(v);
    }
}

fn cell_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

/// The rows of one table as a stream of encoded chunks: `encode` turns one page of rows into
/// bytes (`first` tells whether it is the first page).
fn stream_rows<F>(
    svc: OpendataService,
    e: OpenEntry,
    code: String,
    head: String,
    tail: String,
    encode: F,
) -> Body
where
    F: Fn(&[Map<String, Value>], bool) -> String + Send + Sync + 'static,
{
    #[derive(PartialEq)]
    enum St {
        Head,
        Rows(i64, bool),
        Tail,
        Done,
    }
    let encode = std::sync::Arc::new(encode);
    let s = futures::stream::unfold(St::Head, move |st| {
        let (svc, e, code, head, tail) = (
            svc.clone(),
            e.clone(),
            code.clone(),
            head.clone(),
            tail.clone(),
        );
        let encode = encode.clone();
        async move {
            match st {
                St::Head => Some((Ok::<_, std::io::Error>(head), St::Rows(0, true))),
                St::Rows(after, first) => match svc.rows_page(&e, &code, after, CHUNK).await {
                    Ok(None) => Some((Ok(String::new()), St::Tail)),
                    Ok(Some((last, rows))) => {
                        Some((Ok(encode(&rows, first)), St::Rows(last, false)))
                    }
                    Err(err) => {
                        // The answer has begun: the only honest signal left is a cut stream.
                        tracing::error!(error = %err, "download stream failed");
                        Some((Err(std::io::Error::other("download failed")), St::Done))
                    }
                },
                St::Tail => Some((Ok(tail), St::Done)),
                St::Done => None,
            }
        }
    });
    Body::from_stream(s)
}

async fn download(
    State(ctx): State<AppCtx>,
    auth: Option<Extension<Authenticated>>,
    Path(file): Path<String>,
) -> ApiResult<Response> {
    let (res_code, ext) = file
        .rsplit_once('.')
        .ok_or_else(|| Error::not_found("opendata_resource", "资源不存在"))?;
    let format = Format::parse(ext)
        .ok_or_else(|| Error::not_found("opendata_resource", "不支持的下载格式"))?;
    let entry_code = res_code.split('.').next().unwrap_or("");
    let s = svc(&ctx);
    let (d, e) = s.dataset(entry_code).await?;
    let r = e
        .resources
        .iter()
        .find(|r| r.code == res_code)
        .cloned()
        .ok_or_else(|| Error::not_found("opendata_resource", "资源不存在"))?;
    s.require_download(actor_of(&auth), &d).await?;
    if matches!(format, Format::Xlsx) && r.row_count > XLSX_MAX_ROWS {
        return Err(Error::Conflict {
            code: "too_many_rows_for_xlsx",
            detail: format!(
                "该数据表有 {} 行，超过 .xlsx 工作表的行数上限 {} 行，请下载 CSV 或 JSON 格式",
                r.row_count, XLSX_MAX_ROWS
            ),
            field: None,
        }
        .into());
    }
    s.record("download", Some(&d), format.ext()).await?;
    let fields: Vec<(String, String)> = sharing::open::open_fields(&r)
        .into_iter()
        .map(|i| (i.field.clone(), i.name.clone()))
        .collect();
    let file_name = format!("{}_{}.{}", d.title, r.code, format.ext());
    let ascii = format!("{}.{}", r.code, format.ext());
    match format {
        Format::Xlsx => {
            let mut rows = Vec::new();
            let mut after = 0;
            loop {
                let page = s.rows(&e, &r.code, after, CHUNK).await?;
                let Some(last) = page.last() else { break };
                after = last.0;
                for (_, m) in page {
                    rows.push(
                        fields
                            .iter()
                            .map(|(f, _)| tabular::Cell::from(cell_text(m.get(f))))
                            .collect::<Vec<_>>(),
                    );
                }
            }
            let headers: Vec<String> = fields.iter().map(|f| f.1.clone()).collect();
            let bytes = tabular::write_xlsx(&[(&d.title, &headers, &rows)])
                .map_err(|e| Error::internal(format!("xlsx: {e}")))?;
            Ok(webcore::download::attachment(
                bytes,
                format.mime(),
                &ascii,
                &file_name,
            ))
        }
        Format::Csv => {
            let mut head = String::new();
            for (i, (_, n)) in fields.iter().enumerate() {
                if i > 0 {
                    head.push(',');
                }
                csv_cell(n, &mut head);
            }
            head.push_str("\r\n");
            let f2 = fields.clone();
            let body = stream_rows(s, e, r.code.clone(), head, String::new(), move |rows, _| {
                let mut out = String::with_capacity(rows.len() * 64);
                for m in rows {
                    for (i, (f, _)) in f2.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        csv_cell(&cell_text(m.get(f)), &mut out);
                    }
                    out.push_str("\r\n");
                }
                out
            });
            Ok(file_response(
                body,
                "text/csv; charset=utf-8",
                &ascii,
                &file_name,
            ))
        }
        Format::Json => {
            let meta: Vec<Value> = fields
                .iter()
                .map(|(f, n)| serde_json::json!({"id": f, "name": n}))
                .collect();
            let head = format!(
                "{{\"dataset\":{},\"resource\":{},\"fields\":{},\"records\":[",
                Value::String(d.code.clone()),
                Value::String(r.code.clone()),
                Value::Array(meta)
            );
            let body = stream_rows(
                s,
                e,
                r.code.clone(),
                head,
                "]}".into(),
                move |rows, first| {
                    let mut out = String::new();
                    for (i, m) in rows.iter().enumerate() {
                        if !(first && i == 0) {
                            out.push(',');
                        }
                        out.push_str(&Value::Object(m.clone()).to_string());
                    }
                    out
                },
            );
            Ok(file_response(
                body,
                "application/json; charset=utf-8",
                &ascii,
                &file_name,
            ))
        }
    }
}

fn file_response(body: Body, mime: &str, ascii: &str, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                webcore::download::content_disposition(name, ascii),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        body,
    )
        .into_response()
}

// ---- DCAT-AP ----

#[derive(Clone, Copy)]
enum Rdf {
    Turtle,
    Xml,
    JsonLd,
}

impl Rdf {
    fn of(ext: &str) -> Option<Rdf> {
        match ext {
            "ttl" => Some(Rdf::Turtle),
            "rdf" | "xml" => Some(Rdf::Xml),
            "jsonld" => Some(Rdf::JsonLd),
            _ => None,
        }
    }
    fn ext(self) -> &'static str {
        match self {
            Rdf::Turtle => "ttl",
            Rdf::Xml => "rdf",
            Rdf::JsonLd => "jsonld",
        }
    }
    fn render(self, g: &dcat::Graph) -> Response {
        let (mime, body) = match self {
            Rdf::Turtle => ("text/turtle; charset=utf-8", dcat::turtle(g)),
            Rdf::Xml => ("application/rdf+xml; charset=utf-8", dcat::rdf_xml(g)),
            Rdf::JsonLd => ("application/ld+json", dcat::json_ld(g).to_string()),
        };
        ([(header::CONTENT_TYPE, mime)], body).into_response()
    }
}

pub const PER_PAGE: usize = 100;

/// `page` (from 1) and `modified_since` (a date or an RFC 3339 time) of a catalog request.
fn catalog_query(raw: Option<&str>) -> Result<(usize, Option<i64>, String), Error> {
    let mut page = 1;
    let mut since = None;
    let mut keep = String::new();
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "page" => {
                page = v
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|p| *p >= 1)
                    .ok_or_else(|| {
                        Error::field("page", "invalid_page", "page 须为从 1 开始的整数")
                    })?
            }
            "modified_since" => {
                let v = v.trim();
                let t = chrono::DateTime::parse_from_rfc3339(v)
                    .map(|t| t.timestamp_millis())
                    .ok()
                    .or_else(|| {
                        chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                            .ok()
                            .and_then(|d| d.and_hms_opt(0, 0, 0))
                            .and_then(|t| t.and_local_timezone(kernel::clock::china()).single())
                            .map(|t| t.timestamp_millis())
                    })
                    .ok_or_else(|| {
                        Error::field(
                            "modified_since",
                            "invalid_time",
                            "modified_since 须为日期（2026-01-31）或 RFC 3339 时间（2026-01-31T08:00:00Z）",
                        )
                    })?;
                since = Some(t);
                keep = format!(
                    "modified_since={}",
                    form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                );
            }
            _ => {}
        }
    }
    Ok((page, since, keep))
}

async fn catalog_doc(ctx: AppCtx, h: HeaderMap, q: Option<String>, f: Rdf) -> ApiResult<Response> {
    let (page, since, keep) = catalog_query(q.as_deref())?;
    let base = base_url(&ctx, &h);
    let mut all = svc(&ctx).datasets().await?;
    let modified = all.iter().map(|d| d.modified).max().unwrap_or(0);
    if let Some(t) = since {
        all.retain(|d| d.modified >= t);
    }
    // Newest first, as ckanext-dcat pages the catalog.
    all.sort_by(|a, b| b.modified.cmp(&a.modified).then(a.name.cmp(&b.name)));
    let total = all.len();
    let items: Vec<Dataset> = all
        .into_iter()
        .skip((page - 1) * PER_PAGE)
        .take(PER_PAGE)
        .collect();
    let doc = format!("{base}/catalog.{}", f.ext());
    let g = dcat::catalog(&dcat::CatalogPage {
        base: &base,
        title: &format!("{}开放数据目录", ctx.config.city.name),
        description: &format!(
            "{}经政务信息资源目录发布的开放数据集（无条件开放和有条件开放）",
            ctx.config.city.bureau
        ),
        publisher: &ctx.config.city.bureau,
        doc: &doc,
        keep: &keep,
        page,
        per_page: PER_PAGE,
        total,
        datasets: &items,
        modified,
    });
    Ok(f.render(&g))
}

async fn catalog_ttl(
    State(ctx): State<AppCtx>,
    h: HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    catalog_doc(ctx, h, q, Rdf::Turtle).await
}
async fn catalog_rdf(
    State(ctx): State<AppCtx>,
    h: HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    catalog_doc(ctx, h, q, Rdf::Xml).await
}
async fn catalog_jsonld(
    State(ctx): State<AppCtx>,
    h: HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    catalog_doc(ctx, h, q, Rdf::JsonLd).await
}

async fn dataset_doc(
    State(ctx): State<AppCtx>,
    h: HeaderMap,
    Path(file): Path<String>,
) -> ApiResult<Response> {
    let (id, ext) = file.rsplit_once('.').ok_or_else(|| {
        Error::not_found("opendata_dataset", "请在地址后加 .ttl、.rdf 或 .jsonld")
    })?;
    let f = Rdf::of(ext)
        .ok_or_else(|| Error::not_found("opendata_dataset", "格式须为 .ttl、.rdf 或 .jsonld"))?;
    let s = svc(&ctx);
    let (d, _) = s.dataset(id).await?;
    let base = base_url(&ctx, &h);
    Ok(f.render(&dcat::dataset_graph(&base, &d)))
}

/// 开放数据统计: 开放数据集数, 开放率 per department, views, downloads, API calls,
/// applications by outcome, 开放需求.
#[utoipa::path(get, path = "/api/v1/opendata/figures", tag = "opendata",
    responses((status = 200, description = "开放数据统计（公开）")))]
pub(crate) async fn figures(
    State(ctx): State<AppCtx>,
) -> ApiResult<axum::Json<crate::service::Figures>> {
    Ok(axum::Json(svc(&ctx).figures().await?))
}

#[derive(OpenApi)]
#[openapi(
    paths(figures),
    tags((name = "opendata", description = "开放数据：统计。数据集接口见 CKAN（/api/3/action）和 DCAT-AP（/catalog.ttl）"))
)]
pub struct OpendataApi;
