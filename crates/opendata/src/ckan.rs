//! The CKAN Action API (`/api/3/action/{action}` and `/api/action/{action}`), read-only, as
//! CKAN answers it: GET with query parameters or POST with a JSON or form body; the envelope
//! `{"help", "success", "result"}`; errors as `{"__type", "message"}` objects with CKAN's
//! status codes (404 Not Found Error, 403 Authorization Error, 409 Validation Error, 400 for a
//! search query it cannot read, an unknown action or a body it cannot parse).

use crate::domain::*;
use crate::http::{base_url, svc};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use kernel::Error;
use serde_json::{json, Map, Value};
use webcore::{AppCtx, Path};

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/3/action/{action}", get(call_get).post(call_post))
        .route("/api/action/{action}", get(call_get).post(call_post))
}

/// The actions served, with what `help_show` says of them.
pub const ACTIONS: [(&str, &str); 14] = [
    ("site_read", "Return True: the site may be read. 站点可读时返回 true。"),
    ("status_show", "Return the site's title, address, CKAN API version and locale. 返回站点名称、地址、接口版本和语言。"),
    ("package_list", "Return the names of every open dataset (limit, offset). 返回全部开放数据集的名称。"),
    ("package_show", "Return one dataset by id or name. 按 id 或名称返回一个数据集。"),
    ("package_search", "Search datasets: q (Chinese full text), fq (organization, groups, tags, res_format, license_id), rows (default 10, at most 1000), start, sort (score, metadata_modified, name, title_string with asc/desc), facet.field, facet.limit. Returns count, results, facets, search_facets. 检索数据集。"),
    ("organization_list", "Return the names of the providing departments (all_fields for details). 返回数据提供部门。"),
    ("organization_show", "Return one providing department (id), with its datasets if include_datasets. 返回一个数据提供部门。"),
    ("group_list", "Return the names of the catalog categories (all_fields for details). 返回目录分类。"),
    ("group_show", "Return one catalog category (id), with its datasets if include_datasets. 返回一个目录分类。"),
    ("tag_list", "Return the tags (the open 信息项 names), filtered by query. 返回标签。"),
    ("resource_show", "Return one resource (a mounted table in one format) by id. 返回一个资源。"),
    ("license_list", "Return the licences datasets are opened under. 返回开放数据使用协议。"),
    ("help_show", "Return the help text of an action (name). 返回接口说明。"),
    ("api_version", "—"),
];

/// CKAN actions that change data: this portal is read-only (the catalog publishes).
const WRITES: [&str; 12] = [
    "package_create",
    "package_update",
    "package_patch",
    "package_delete",
    "resource_create",
    "resource_update",
    "resource_patch",
    "resource_delete",
    "organization_create",
    "group_create",
    "member_create",
    "package_owner_org_update",
];

type Params = Map<String, Value>;

/// A CKAN error: its status and `error` object.
struct CkanError(StatusCode, Value);

fn not_found(what: &str) -> CkanError {
    CkanError(
        StatusCode::NOT_FOUND,
        json!({"__type": "Not Found Error", "message": format!("Not found: {what}（未找到）")}),
    )
}

fn validation(field: &str, msg: &str) -> CkanError {
    CkanError(
        StatusCode::CONFLICT,
        json!({"__type": "Validation Error", field: [msg]}),
    )
}

fn bad_request(msg: &str) -> CkanError {
    CkanError(
        StatusCode::BAD_REQUEST,
        json!({"__type": "Bad Request", "message": format!("Bad request - {msg}")}),
    )
}

impl From<Error> for CkanError {
    fn from(e: Error) -> Self {
        match &e {
            Error::NotFound { .. } => not_found(&e.detail()),
            Error::Validation(f) => {
                let mut o = Map::new();
                o.insert("__type".into(), json!("Validation Error"));
                for x in f {
                    o.insert(x.field.clone(), json!([x.detail]));
                }
                CkanError(StatusCode::CONFLICT, Value::Object(o))
            }
            Error::BadRequest { detail, .. } => CkanError(
                StatusCode::BAD_REQUEST,
                json!({"__type": "Search Query Error", "message": format!("Search Query is invalid: {detail}")}),
            ),
            Error::Forbidden(m) | Error::Unauthorized(m) => CkanError(
                StatusCode::FORBIDDEN,
                json!({"__type": "Authorization Error", "message": format!("Access denied: {m}")}),
            ),
            _ => {
                tracing::error!(error = %e, "ckan action failed");
                CkanError(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"__type": "Internal Server Error", "message": "Internal Server Error（服务器内部错误）"}),
                )
            }
        }
    }
}

fn envelope(help: &str, status: StatusCode, body: Value) -> Response {
    let mut o = Map::new();
    o.insert("help".into(), json!(help));
    if status.is_success() {
        o.insert("success".into(), json!(true));
        o.insert("result".into(), body);
    } else {
        o.insert("success".into(), json!(false));
        o.insert("error".into(), body);
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/json;charset=utf-8")],
        Value::Object(o).to_string(),
    )
        .into_response()
}

fn query_params(raw: Option<&str>) -> Params {
    let mut p = Params::new();
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        p.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    p
}

async fn call_get(
    State(ctx): State<AppCtx>,
    Path(action): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let p = query_params(q.as_deref());
    run(&ctx, &headers, &action, p).await
}

async fn call_post(
    State(ctx): State<AppCtx>,
    Path(action): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let base = base_url(&ctx, &headers);
    let help = format!("{base}/api/3/action/help_show?name={action}");
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut p = query_params(q.as_deref());
    if ctype.starts_with("application/x-www-form-urlencoded") {
        p.extend(query_params(std::str::from_utf8(&body).ok()));
    } else if !body.iter().all(u8::is_ascii_whitespace) {
        // CKAN reads any other body as JSON.
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(o)) => p.extend(o),
            Ok(_) => {
                let e = bad_request("JSON Error: Request data JSON decoded to non-dictionary（请求体须为 JSON 对象）");
                return envelope(&help, e.0, e.1);
            }
            Err(err) => {
                let e = bad_request(&format!("JSON Error: {err}（请求体不是合法的 JSON）"));
                return envelope(&help, e.0, e.1);
            }
        }
    }
    run(&ctx, &headers, &action, p).await
}

async fn run(ctx: &AppCtx, headers: &HeaderMap, action: &str, p: Params) -> Response {
    let base = base_url(ctx, headers);
    let help = format!("{base}/api/3/action/help_show?name={action}");
    if WRITES.contains(&action) {
        let e = CkanError::from(Error::forbidden(
            "本门户只读，数据集随政务数据资源目录发布和撤回",
        ));
        return envelope(&help, e.0, e.1);
    }
    if !ACTIONS.iter().any(|(a, _)| *a == action) || action == "api_version" {
        let e = bad_request(&format!("Action name not known: {action}（没有这个接口）"));
        return envelope(&help, e.0, e.1);
    }
    let s = svc(ctx);
    // A count that cannot be written does not stop a read.
    if let Err(e) = s.record("api", None, action).await {
        tracing::warn!(error = %e, "api call not counted");
    }
    match act(ctx, &base, action, &p).await {
        Ok(v) => envelope(&help, StatusCode::OK, v),
        Err(CkanError(st, v)) => envelope(&help, st, v),
    }
}

/// A parameter as text: strings as they are, numbers and booleans written out.
fn text<'a>(p: &'a Params, k: &str) -> Option<std::borrow::Cow<'a, str>> {
    match p.get(k)? {
        Value::String(s) => Some(s.as_str().into()),
        Value::Null => None,
        v => Some(v.to_string().into()),
    }
}

fn flag(p: &Params, k: &str) -> bool {
    matches!(text(p, k).as_deref(), Some("true" | "True" | "1" | "yes"))
}

fn required<'a>(p: &'a Params, k: &str) -> Result<std::borrow::Cow<'a, str>, CkanError> {
    text(p, k)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| validation(k, "Missing value（缺少该参数）"))
}

fn page(p: &Params, all: Vec<Value>) -> Result<Vec<Value>, CkanError> {
    let n = |k: &str| -> Result<Option<usize>, CkanError> {
        match text(p, k) {
            None => Ok(None),
            Some(v) if v.trim().is_empty() => Ok(None),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .map(Some)
                .map_err(|_| validation(k, "Invalid integer（须为不小于 0 的整数）")),
        }
    };
    let offset = n("offset")?.unwrap_or(0);
    let limit = n("limit")?.unwrap_or(usize::MAX);
    Ok(all.into_iter().skip(offset).take(limit).collect())
}

async fn act(ctx: &AppCtx, base: &str, action: &str, p: &Params) -> Result<Value, CkanError> {
    let s = svc(ctx);
    Ok(match action {
        "site_read" => json!(true),
        "status_show" => json!({
            "site_title": format!("{}开放数据", ctx.config.city.name),
            "site_description": format!("{}政务数据开放门户", ctx.config.city.bureau),
            "site_url": base,
            "ckan_version": "2.10.4",
            "locale_default": "zh_Hans_CN",
            "extensions": ["dcat"],
        }),
        "help_show" => {
            let name = required(p, "name")?;
            let (_, h) = ACTIONS
                .iter()
                .find(|(a, _)| *a == name.as_ref() && *a != "api_version")
                .ok_or_else(|| not_found(&format!("action {name}")))?;
            json!(h)
        }
        "package_list" => {
            let mut names: Vec<String> = s.datasets().await?.into_iter().map(|d| d.name).collect();
            names.sort();
            json!(page(p, names.into_iter().map(Value::String).collect())?)
        }
        "package_show" => {
            let id = required(p, "id")?;
            let (d, _) = s.dataset(&id).await?;
            package(&d, base)
        }
        "package_search" => {
            let facet_field = p.get("facet.field");
            let search = search_of(
                text(p, "q").as_deref(),
                text(p, "fq").as_deref(),
                text(p, "rows").as_deref(),
                text(p, "start").as_deref(),
                text(p, "sort").as_deref(),
                facet_field,
                text(p, "facet.limit").as_deref(),
            )
            .map_err(|e| CkanError::from(Error::from(e)))?;
            let r = s.search(&search).await?;
            let mut facets = Map::new();
            let mut search_facets = Map::new();
            for (f, items) in &r.facets {
                facets.insert(
                    f.clone(),
                    Value::Object(
                        items
                            .iter()
                            .map(|(n, _, c)| (n.clone(), json!(c)))
                            .collect(),
                    ),
                );
                search_facets.insert(
                    f.clone(),
                    json!({
                        "title": f,
                        "items": items.iter().map(|(n, t, c)| json!({"name": n, "display_name": t, "count": c})).collect::<Vec<_>>(),
                    }),
                );
            }
            json!({
                "count": r.count,
                "sort": text(p, "sort").unwrap_or("score desc, metadata_modified desc".into()),
                "results": r.results.iter().map(|d| package(d, base)).collect::<Vec<_>>(),
                "facets": facets,
                "search_facets": search_facets,
            })
        }
        "organization_list" => {
            let all = s.datasets().await?;
            let orgs = organizations(&all, base);
            let v = if flag(p, "all_fields") {
                orgs
            } else {
                orgs.into_iter().map(|o| o["name"].clone()).collect()
            };
            json!(page(p, v)?)
        }
        "organization_show" => {
            let id = required(p, "id")?;
            let all = s.datasets().await?;
            let want = org_id(&id).ok_or_else(|| not_found(&format!("organization {id}")))?;
            let mut o = organizations(&all, base)
                .into_iter()
                .find(|o| o["id"] == json!(want.to_string()))
                .ok_or_else(|| not_found(&format!("organization {id}")))?;
            if flag(p, "include_datasets") {
                o["packages"] = json!(all
                    .iter()
                    .filter(|d| d.org_id == want)
                    .map(|d| package(d, base))
                    .collect::<Vec<_>>());
            }
            o
        }
        "group_list" => {
            let all = s.datasets().await?;
            let gs = groups(&all, base);
            let v = if flag(p, "all_fields") {
                gs
            } else {
                gs.into_iter().map(|o| o["name"].clone()).collect()
            };
            json!(page(p, v)?)
        }
        "group_show" => {
            let id = required(p, "id")?;
            let all = s.datasets().await?;
            let mut g = groups(&all, base)
                .into_iter()
                .find(|g| g["name"] == json!(id.as_ref()))
                .ok_or_else(|| not_found(&format!("group {id}")))?;
            if flag(p, "include_datasets") {
                g["packages"] = json!(all
                    .iter()
                    .filter(|d| d.group_name() == id.as_ref())
                    .map(|d| package(d, base))
                    .collect::<Vec<_>>());
            }
            g
        }
        "tag_list" => {
            let q = text(p, "query").unwrap_or_default().trim().to_owned();
            let mut tags: Vec<String> = s
                .datasets()
                .await?
                .into_iter()
                .flat_map(|d| d.tags)
                .filter(|t| q.is_empty() || t.contains(&q))
                .collect();
            tags.sort();
            tags.dedup();
            json!(tags)
        }
        "resource_show" => {
            let id = required(p, "id")?;
            let code = id.split('.').next().unwrap_or("");
            let (d, _) = s
                .dataset(code)
                .await
                .map_err(|_| not_found(&format!("resource {id}")))?;
            let r = d
                .distribution(id.trim())
                .ok_or_else(|| not_found(&format!("resource {id}")))?;
            let pos = d
                .distributions
                .iter()
                .position(|x| x.id == r.id)
                .unwrap_or(0);
            resource(&d, r, pos, base)
        }
        "license_list" => json!(LICENSES
            .iter()
            .map(|l| license(l, base))
            .collect::<Vec<_>>()),
        _ => return Err(bad_request(&format!("Action name not known: {action}"))),
    })
}

fn license(l: &License, base: &str) -> Value {
    json!({
        "id": l.id, "title": l.title, "url": format!("{base}/opendata/licenses#{}", l.id),
        "status": "active", "maintainer": "", "family": "", "od_conformance": if l.id == "open-terms" { "approved" } else { "not reviewed" },
        "osd_conformance": "not reviewed", "domain_data": true, "domain_content": false, "domain_software": false,
    })
}

fn organization(d: &Dataset, count: usize, base: &str) -> Value {
    json!({
        "id": d.org_id.to_string(), "name": d.org_name(), "title": d.org_title, "display_name": d.org_title,
        "description": format!("{}提供的开放数据", d.org_title), "image_url": "", "type": "organization",
        "is_organization": true, "state": "active", "approval_status": "approved",
        "created": ckan_time(d.created), "package_count": count,
        "url": format!("{base}/opendata/search?organization={}", d.org_name()),
    })
}

fn organizations(all: &[Dataset], base: &str) -> Vec<Value> {
    let mut seen: std::collections::BTreeMap<String, (&Dataset, usize)> = Default::default();
    for d in all {
        seen.entry(d.org_name()).or_insert((d, 0)).1 += 1;
    }
    seen.values()
        .map(|(d, n)| organization(d, *n, base))
        .collect()
}

fn groups(all: &[Dataset], base: &str) -> Vec<Value> {
    use sharing::catalog::domain::Category;
    Category::ALL
        .iter()
        .map(|c| {
            let n = all.iter().filter(|d| d.category == *c).count();
            json!({
                "id": c.code(), "name": c.code(), "title": c.label(), "display_name": c.label(),
                "description": format!("政务信息资源目录的{}", c.label()), "image_url": "", "type": "group",
                "is_organization": false, "state": "active", "approval_status": "approved",
                "created": "2026-01-01T00:00:00.000000", "package_count": n,
                "url": format!("{base}/opendata/search?group={}", c.code()),
            })
        })
        .collect()
}

fn resource(d: &Dataset, r: &Distribution, position: usize, base: &str) -> Value {
    json!({
        "id": r.id, "package_id": d.code, "name": r.name,
        "description": format!("{}，共 {} 行；字段：{}", r.name, r.rows, r.columns.join("、")),
        "format": r.format.label(), "mimetype": r.format.mime(),
        "url": format!("{base}/opendata/download/{}", r.id),
        "url_type": "", "size": Value::Null, "rows": r.rows, "position": position, "state": "active",
        "created": ckan_time(r.created), "last_modified": r.modified.map(ckan_time), "metadata_modified": ckan_time(d.modified),
        "datastore_active": false, "access": if d.conditional() { "有条件开放：经申请同意后下载" } else { "无条件开放" },
    })
}

/// A dataset as CKAN's `package_show` gives it.
pub fn package(d: &Dataset, base: &str) -> Value {
    let l = d.license();
    let org = organization(d, 0, base);
    json!({
        "id": d.code, "name": d.name, "title": d.title, "notes": d.notes,
        "type": "dataset", "state": "active", "private": false, "isopen": !d.conditional(),
        "author": d.org_title, "author_email": "", "maintainer": d.org_title, "maintainer_email": "",
        "license_id": l.id, "license_title": l.title, "license_url": format!("{base}/opendata/licenses#{}", l.id),
        "metadata_created": ckan_time(d.created), "metadata_modified": ckan_time(d.modified),
        "version": d.version.to_string(), "url": format!("{base}/opendata/dataset/{}", d.name),
        "owner_org": d.org_id.to_string(), "organization": org,
        "groups": [{"id": d.group_name(), "name": d.group_name(), "title": d.category.label(), "display_name": d.category.label(), "description": "", "image_display_url": ""}],
        "tags": d.tags.iter().map(|t| json!({"name": t, "display_name": t, "state": "active", "vocabulary_id": Value::Null})).collect::<Vec<_>>(),
        "num_tags": d.tags.len(),
        "resources": d.distributions.iter().enumerate().map(|(i, r)| resource(d, r, i, base)).collect::<Vec<_>>(),
        "num_resources": d.distributions.len(),
        "extras": [
            {"key": "资源代码", "value": d.code},
            {"key": "开放属性", "value": d.open_kind.label()},
            {"key": "开放条件", "value": d.open_condition},
            {"key": "更新周期", "value": d.update_cycle.label()},
            {"key": "信息资源格式", "value": d.format},
        ],
        "relationships_as_object": [], "relationships_as_subject": [],
    })
}
