//! Open311 GeoReport v2 (<http://wiki.open311.org/GeoReport_v2>) under `/open311/v2`, in JSON
//! and XML, with the spec's error documents (descriptions in zh-CN).
//!
//! Mapping and choices:
//! - services are the taxonomy's active leaf categories; `service_code` is the category id, and
//!   the category's extra questions are the service definition's attributes;
//! - `service_request_id` is the ticket number. Requests are created synchronously, so the token
//!   of the token flow is the ticket number too (no table of our own);
//! - `jurisdiction_id` is optional; when given it must equal the configured city name
//!   (`city.name`, e.g. `A市`), else 404;
//! - `api_key` is a yiwang API token with the `hotline:write` scope. Reads need no key;
//! - a posted request becomes a ticket on channel `api`, type 求助 unless `attribute[kind]`
//!   (a ticket type code or label) says otherwise, waiting for an operator (待受理);
//! - `address_id` is a region code (GB/T 2260, 6 or 12 digits);
//! - reads never show the caller's name, phone or e-mail: those are dropped, and masked where
//!   they appear in the description or reply; the address is masked below street level and
//!   lat/long are rounded to three decimals (about 100 m), as for any other public list;
//! - `email`, `device_id` and `account_id` are accepted and not kept (the hotline answers by
//!   phone); `media_url` is kept as the last line of the ticket content, where staff see it.

use crate::domain::*;
use crate::service::{HotlineService, Open311Query};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::Router;
use kernel::{mask, Actor, Error};
use serde_json::{Map, Value};
use std::collections::HashMap;
use webcore::AppCtx;

const SPEC: &str = "http://wiki.open311.org/GeoReport_v2";
/// When this interface last changed (discovery `changeset`).
const CHANGESET: &str = "2026-11-21T00:00:00+08:00";
const MAX_DESCRIPTION: usize = 4000;
const MAX_MEDIA_URL: usize = 1000;
const MAX_SPAN_MS: i64 = 90 * 86_400_000;
const MAX_REQUESTS: i64 = 1000;
/// Marks the media URL line at the end of an Open311 ticket's content.
const MEDIA_MARK: &str = "【图片】";
/// The content of a ticket posted without a description (the ticket needs one).
const NO_DESCRIPTION: &str = "（市民未填写问题描述）";

pub fn routes() -> Router<AppCtx> {
    let mut r = Router::new();
    for f in [Format::Json, Format::Xml] {
        let ext = f.ext();
        r = r
            .route(
                &format!("/open311/v2/discovery.{ext}"),
                only(get(move |s, q, h| discovery(s, q, h, f)), f),
            )
            .route(
                &format!("/open311/v2/services.{ext}"),
                only(get(move |s, q| services(s, q, f)), f),
            )
            .route(
                &format!("/open311/v2/requests.{ext}"),
                only(
                    get(move |s, q| list_requests(s, q, f))
                        .post(move |s, q, h, b| post_request(s, q, h, b, f)),
                    f,
                ),
            );
    }
    r.route(
        "/open311/v2/services/{file}",
        get(service_definition).fallback(not_allowed_any),
    )
    .route(
        "/open311/v2/requests/{file}",
        get(one_request).fallback(not_allowed_any),
    )
    .route(
        "/open311/v2/tokens/{file}",
        get(token).fallback(not_allowed_any),
    )
    .route("/open311/v2/{*rest}", axum::routing::any(unknown))
}

/// Other methods get the spec's error document rather than a bare 405.
fn only(m: MethodRouter<AppCtx>, f: Format) -> MethodRouter<AppCtx> {
    m.fallback(move || async move {
        fail(
            f,
            Fail::new(StatusCode::METHOD_NOT_ALLOWED, "该地址不支持此请求方法"),
        )
    })
}

async fn not_allowed_any(Path(file): Path<String>) -> Response {
    let f = Format::split(&file).map_or(Format::Json, |(_, f)| f);
    fail(
        f,
        Fail::new(StatusCode::METHOD_NOT_ALLOWED, "该地址不支持此请求方法"),
    )
}

async fn unknown(Path(rest): Path<String>) -> Response {
    let f = Format::split(&rest).map_or(Format::Json, |(_, f)| f);
    fail(
        f,
        Fail::not_found("没有这个 Open311 接口；地址须以 .json 或 .xml 结尾"),
    )
}

// ---- formats ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

impl Format {
    fn ext(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Xml => "xml",
        }
    }

    /// `A市12345-20260316-000001.xml` → (`A市12345-20260316-000001`, Xml).
    fn split(file: &str) -> Option<(&str, Format)> {
        let (stem, ext) = file.rsplit_once('.')?;
        let f = match ext {
            "json" => Format::Json,
            "xml" => Format::Xml,
            _ => return None,
        };
        Some((stem, f)).filter(|(s, _)| !s.is_empty())
    }
}

/// A document, kept in the spec's field order, written as JSON or XML.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Null,
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(String),
    Obj(Vec<(&'static str, V)>),
    /// A JSON array; in XML each item is an element with this name.
    List(&'static str, Vec<V>),
}

fn s(x: impl Into<String>) -> V {
    V::Str(x.into())
}

fn opt(x: Option<String>) -> V {
    x.map_or(V::Null, V::Str)
}

impl serde::Serialize for V {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            V::Null => ser.serialize_none(),
            V::Bool(b) => ser.serialize_bool(*b),
            V::Int(i) => ser.serialize_i64(*i),
            V::Num(x) => ser.serialize_f64(*x),
            V::Str(x) => ser.serialize_str(x),
            V::Obj(fields) => {
                let mut m = ser.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            V::List(_, items) => {
                let mut q = ser.serialize_seq(Some(items.len()))?;
                for v in items {
                    q.serialize_element(v)?;
                }
                q.end()
            }
        }
    }
}

/// Escapes text for XML 1.0 and drops the characters XML 1.0 cannot carry at all.
fn xml_escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Kept as a reference, so parsers do not fold it into a line feed.
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

fn xml_element(out: &mut String, name: &str, v: &V) {
    let open = |out: &mut String| {
        out.push('<');
        out.push_str(name);
        out.push('>');
    };
    let close = |out: &mut String| {
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    };
    match v {
        V::Null => {
            out.push('<');
            out.push_str(name);
            out.push_str("/>");
        }
        V::Obj(fields) => {
            open(out);
            for (k, v) in fields {
                xml_element(out, k, v);
            }
            close(out);
        }
        V::List(item, items) => {
            open(out);
            for v in items {
                xml_element(out, item, v);
            }
            close(out);
        }
        V::Bool(b) => {
            open(out);
            out.push_str(if *b { "true" } else { "false" });
            close(out);
        }
        V::Int(i) => {
            open(out);
            out.push_str(&i.to_string());
            close(out);
        }
        V::Num(x) => {
            open(out);
            out.push_str(&x.to_string());
            close(out);
        }
        V::Str(t) => {
            open(out);
            xml_escape(out, t);
            close(out);
        }
    }
}

fn to_xml(root: &str, v: &V) -> String {
    let mut out = String::from(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    xml_element(&mut out, root, v);
    out
}

fn render(f: Format, status: StatusCode, root: &'static str, v: &V) -> Response {
    let (ct, body) = match f {
        Format::Json => (
            "application/json; charset=utf-8",
            serde_json::to_string(v).unwrap_or_else(|_| "[]".into()),
        ),
        Format::Xml => ("text/xml; charset=utf-8", to_xml(root, v)),
    };
    (status, [(header::CONTENT_TYPE, ct)], body).into_response()
}

/// A public read: any web page may use it.
fn public(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}

// ---- errors ----

/// An Open311 error answer: one status, one or more descriptions.
#[derive(Debug)]
struct Fail {
    status: StatusCode,
    errors: Vec<String>,
}

impl Fail {
    fn new(status: StatusCode, d: impl Into<String>) -> Fail {
        Fail {
            status,
            errors: vec![d.into()],
        }
    }
    fn bad(d: impl Into<String>) -> Fail {
        Fail::new(StatusCode::BAD_REQUEST, d)
    }
    fn forbidden(d: impl Into<String>) -> Fail {
        Fail::new(StatusCode::FORBIDDEN, d)
    }
    fn not_found(d: impl Into<String>) -> Fail {
        Fail::new(StatusCode::NOT_FOUND, d)
    }
}

/// The Open311 parameter a ticket field comes from, so errors name what the client sent.
fn param_of(field: &str) -> String {
    if let Some(code) = field.strip_prefix("answers.") {
        return format!("attribute[{code}]");
    }
    match field {
        "answers" => "attribute",
        "caller_phone" => "phone",
        "caller_name" => "first_name/last_name",
        "lng" => "long",
        "content" | "title" => "description",
        "address" => "address_string",
        "region_code" => "address_id",
        "category_id" => "service_code",
        other => other,
    }
    .to_owned()
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        let status = match &e {
            Error::Validation(fields) => {
                return Fail {
                    status: StatusCode::BAD_REQUEST,
                    errors: fields
                        .iter()
                        .map(|f| format!("{}：{}", param_of(&f.field), f.detail))
                        .collect(),
                }
            }
            Error::Unauthorized(_) | Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound { .. } => StatusCode::NOT_FOUND,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Internal(cause) => {
                tracing::error!(%cause, "open311 request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Error::BadRequest { .. } | Error::Conflict { .. } | Error::IllegalTransition { .. } => {
                StatusCode::BAD_REQUEST
            }
        };
        let d = match e.field_name() {
            Some(f) => format!("{}：{}", param_of(f), e.detail()),
            None => e.detail(),
        };
        Fail::new(status, d)
    }
}

fn fail(f: Format, e: Fail) -> Response {
    let code = i64::from(e.status.as_u16());
    let list = V::List(
        "error",
        e.errors
            .into_iter()
            .map(|d| V::Obj(vec![("code", V::Int(code)), ("description", V::Str(d))]))
            .collect(),
    );
    render(f, e.status, "errors", &list)
}

/// Renders `Ok` with `root` (the XML root element) or the error document.
fn answer(f: Format, root: &'static str, r: Result<V, Fail>) -> Response {
    match r {
        Ok(v) => render(f, StatusCode::OK, root, &v),
        Err(e) => fail(f, e),
    }
}

// ---- parameters ----

/// Decodes one `application/x-www-form-urlencoded` component; `None` if it is not UTF-8.
fn decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 2;
                    }
                    // Not an escape: kept as it is, like browsers do.
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Query or form parameters in their order, repeated names kept.
#[derive(Debug, Default)]
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: &str) -> Result<Params, Fail> {
        let mut out = Vec::new();
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match (decode(k), decode(v)) {
                (Some(k), Some(v)) => out.push((k, v)),
                _ => return Err(Fail::bad("参数须为 UTF-8 编码的 URL 编码格式")),
            }
        }
        Ok(Params(out))
    }

    fn extend(&mut self, other: Params) {
        self.0.extend(other.0);
    }

    /// The first non-blank value, trimmed.
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .find(|v| !v.is_empty())
    }

    /// Every value, comma lists split, blanks dropped (the spec's "comma delimited").
    fn list(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

fn query(raw: Option<String>) -> Result<Params, Fail> {
    Params::parse(raw.as_deref().unwrap_or(""))
}

fn check_jurisdiction(ctx: &AppCtx, p: &Params) -> Result<(), Fail> {
    let city = ctx.config.city.name.trim();
    match p.get("jurisdiction_id") {
        Some(j) if j != city => Err(Fail::not_found(format!(
            "jurisdiction_id“{j}”不存在，本平台的 jurisdiction_id 为“{city}”"
        ))),
        _ => Ok(()),
    }
}

fn svc(ctx: &AppCtx) -> HotlineService {
    crate::http::svc(ctx)
}

// ---- discovery ----

/// This endpoint's address: the configured public URL, else the request's Host.
fn base_url(ctx: &AppCtx, h: &HeaderMap) -> String {
    if let Some(u) = ctx
        .config
        .server
        .public_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        return format!("{}/open311/v2", u.trim_end_matches('/'));
    }
    // Only a plain host[:port] is echoed, never arbitrary header text.
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
    format!(
        "{}://{host}/open311/v2",
        if https { "https" } else { "http" }
    )
}

async fn discovery(
    State(ctx): State<AppCtx>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
    f: Format,
) -> Response {
    let r = (|| {
        check_jurisdiction(&ctx, &query(q)?)?;
        let bureau = &ctx.config.city.bureau;
        Ok(V::Obj(vec![
            ("changeset", s(CHANGESET)),
            (
                "contact",
                s(format!("{bureau}，政务服务便民热线 12345")),
            ),
            (
                "key_service",
                s(format!(
                    "提交诉求须提供 api_key：一网平台的 API 令牌，须具有 hotline:write 权限，请向{bureau}申请；查询无需 api_key"
                )),
            ),
            (
                "endpoints",
                V::List(
                    "endpoint",
                    vec![V::Obj(vec![
                        ("specification", s(SPEC)),
                        ("url", s(base_url(&ctx, &h))),
                        ("changeset", s(CHANGESET)),
                        ("type", s("production")),
                        (
                            "formats",
                            V::List(
                                "format",
                                vec![s("application/json"), s("text/xml")],
                            ),
                        ),
                    ])],
                ),
            ),
        ]))
    })();
    public(answer(f, "discovery", r))
}

// ---- services ----

/// Active categories with no active child and no inactive ancestor: what a citizen can pick.
fn leaves(cats: &[Category]) -> Vec<&Category> {
    let by_id: HashMap<i64, &Category> = cats.iter().map(|c| (c.id, c)).collect();
    let live = |c: &Category| {
        let mut cur = Some(c);
        while let Some(x) = cur {
            if !x.active {
                return false;
            }
            cur = x.parent_id.and_then(|p| by_id.get(&p).copied());
        }
        true
    };
    cats.iter()
        .filter(|c| live(c))
        .filter(|c| !cats.iter().any(|k| k.parent_id == Some(c.id) && k.active))
        .collect()
}

fn root_name(c: &Category, cats: &[Category]) -> String {
    let mut cur = c;
    while let Some(p) = cur.parent_id.and_then(|p| cats.iter().find(|x| x.id == p)) {
        cur = p;
    }
    cur.name.clone()
}

fn service_v(c: &Category, cats: &[Category]) -> V {
    V::Obj(vec![
        ("service_code", s(c.id.to_string())),
        ("service_name", s(c.name.clone())),
        ("description", s(c.path.clone())),
        ("metadata", V::Bool(!c.questions.is_empty())),
        ("type", s("realtime")),
        (
            "keywords",
            s(c.path.split('/').collect::<Vec<_>>().join(", ")),
        ),
        ("group", s(root_name(c, cats))),
    ])
}

fn datatype(k: QuestionKind) -> (&'static str, Option<&'static str>) {
    match k {
        QuestionKind::Text => ("string", Some("文字，不超过 500 字")),
        QuestionKind::Number => ("number", Some("数字，如 12 或 3.5")),
        QuestionKind::Date => (
            "datetime",
            Some("日期，如 2026-03-14；也接受 ISO 8601 日期时间，按北京时间取日期"),
        ),
        QuestionKind::Single => ("singlevaluelist", None),
        QuestionKind::Multiple => (
            "multivaluelist",
            Some("可多选：重复提交 attribute[代码][]=取值"),
        ),
    }
}

fn attribute_v(i: usize, q: &Question) -> V {
    let (dt, dd) = datatype(q.kind);
    let mut fields = vec![
        ("variable", V::Bool(true)),
        ("code", s(q.code.clone())),
        ("datatype", s(dt)),
        ("required", V::Bool(q.required)),
        ("datatype_description", opt(dd.map(str::to_owned))),
        ("order", V::Int(i as i64 + 1)),
        ("description", s(q.label.clone())),
    ];
    if matches!(q.kind, QuestionKind::Single | QuestionKind::Multiple) {
        // The option text is the key: it is what the ticket's answer holds.
        let values = q
            .options
            .iter()
            .map(|o| V::Obj(vec![("key", s(o.clone())), ("name", s(o.clone()))]))
            .collect();
        fields.push(("values", V::List("value", values)));
    }
    V::Obj(fields)
}

async fn services(State(ctx): State<AppCtx>, RawQuery(q): RawQuery, f: Format) -> Response {
    let r = async {
        check_jurisdiction(&ctx, &query(q)?)?;
        let cats = svc(&ctx).categories().await?;
        Ok(V::List(
            "service",
            leaves(&cats)
                .into_iter()
                .map(|c| service_v(c, &cats))
                .collect(),
        ))
    }
    .await;
    public(answer(f, "services", r))
}

/// The leaf category a service code names, or 404.
async fn service_of(ctx: &AppCtx, code: &str) -> Result<Category, Fail> {
    let missing = || Fail::not_found(format!("service_code“{code}”不存在"));
    let id: i64 = code.trim().parse().map_err(|_| missing())?;
    let cats = svc(ctx).categories().await?;
    leaves(&cats)
        .into_iter()
        .find(|c| c.id == id)
        .cloned()
        .ok_or_else(missing)
}

async fn service_definition(
    State(ctx): State<AppCtx>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((code, f)) = Format::split(&file) else {
        return unknown(Path(file)).await;
    };
    let r = async {
        check_jurisdiction(&ctx, &query(q)?)?;
        let c = service_of(&ctx, code).await?;
        Ok(V::Obj(vec![
            ("service_code", s(c.id.to_string())),
            (
                "attributes",
                V::List(
                    "attribute",
                    c.questions
                        .iter()
                        .enumerate()
                        .map(|(i, q)| attribute_v(i, q))
                        .collect(),
                ),
            ),
        ]))
    }
    .await;
    public(answer(f, "service_definition", r))
}

// ---- posting a request ----

fn parse_coord(p: &Params, key: &str) -> Result<Option<f64>, Fail> {
    p.get(key)
        .map(|v| {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| Fail::bad(format!("{key}：应为 WGS84 十进制度数，如 30.5728")))
        })
        .transpose()
}

/// `attribute[code]=v` and `attribute[code][]=v`, in order, values per code.
fn attributes(p: &Params) -> Result<Vec<(String, Vec<String>)>, Fail> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (k, v) in &p.0 {
        let Some(rest) = k.strip_prefix("attribute[") else {
            continue;
        };
        let code = rest
            .strip_suffix("][]")
            .or_else(|| rest.strip_suffix(']'))
            .filter(|c| !c.is_empty() && !c.contains(['[', ']']))
            .ok_or_else(|| {
                Fail::bad(format!(
                    "{k}：附加问题参数应写作 attribute[代码] 或 attribute[代码][]"
                ))
            })?;
        let v = v.trim().to_owned();
        match out.iter_mut().find(|(c, _)| c == code) {
            Some((_, vs)) => vs.push(v),
            None => out.push((code.to_owned(), vec![v])),
        }
    }
    Ok(out)
}

/// An attribute's values as the answer `check_answers` expects.
fn answer_value(code: &str, q: Option<&Question>, mut vs: Vec<String>) -> Result<Value, Fail> {
    vs.retain(|v| !v.is_empty());
    match q.map(|q| q.kind) {
        Some(QuestionKind::Multiple) => {
            Ok(Value::Array(vs.into_iter().map(Value::String).collect()))
        }
        _ if vs.len() > 1 => Err(Fail::bad(format!("attribute[{code}]：只能有一个取值"))),
        Some(QuestionKind::Date) => {
            let v = vs.pop().unwrap_or_default();
            // A client's datetime becomes the China date the question asks for.
            Ok(Value::String(
                parse_time(&v)
                    .filter(|(_, date_only)| !date_only)
                    .map(|(ms, _)| kernel::clock::to_china(ms).format("%Y-%m-%d").to_string())
                    .unwrap_or(v),
            ))
        }
        _ => Ok(Value::String(vs.pop().unwrap_or_default())),
    }
}

fn is_http_url(u: &str) -> bool {
    (u.starts_with("http://") || u.starts_with("https://"))
        && u.len() > "https://".len()
        && !u.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The caller's name from the spec's first/last name: 姓 then 名 without a space, Latin names
/// as "first last".
fn caller_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    match (first, last) {
        (Some(f), Some(l)) if f.is_ascii() && l.is_ascii() => Some(format!("{f} {l}")),
        (Some(f), Some(l)) => Some(format!("{l}{f}")),
        (Some(x), None) | (None, Some(x)) => Some(x.to_owned()),
        (None, None) => None,
    }
}

/// The ticket a posted request asks for, checked as far as Open311 goes (the ticket's own rules
/// and the category's questions are checked by `HotlineService::create`).
fn new_ticket(p: &Params, cat: &Category) -> Result<NewTicket, Fail> {
    let lat = parse_coord(p, "lat")?;
    let lng = parse_coord(p, "long")?;
    if lat.is_some() != lng.is_some() {
        return Err(Fail::bad("lat 和 long 须同时提供"));
    }
    let address = p.get("address_string").map(str::to_owned);
    let region_code = p.get("address_id").map(str::to_owned);
    if lat.is_none() && address.is_none() && region_code.is_none() {
        return Err(Fail::bad(
            "缺少位置：请提供 lat 和 long，或 address_string，或 address_id（行政区划代码）",
        ));
    }

    let description = p.get("description").map(str::to_owned);
    if description
        .as_deref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        return Err(Fail::bad(format!(
            "description：问题描述不能超过 {MAX_DESCRIPTION} 个字"
        )));
    }
    let media = p.get("media_url").map(str::to_owned);
    if let Some(u) = &media {
        if u.len() > MAX_MEDIA_URL || !is_http_url(u) {
            return Err(Fail::bad(format!(
                "media_url：应为 http 或 https 地址，不超过 {MAX_MEDIA_URL} 个字符"
            )));
        }
    }
    let mut content = description.clone().unwrap_or_else(|| NO_DESCRIPTION.into());
    if let Some(u) = &media {
        content = format!("{content}\n{MEDIA_MARK}{u}");
        if content.chars().count() > MAX_DESCRIPTION {
            return Err(Fail::bad(format!(
                "description：问题描述与 media_url 合计不能超过 {MAX_DESCRIPTION} 个字"
            )));
        }
    }
    let excerpt: String = description
        .as_deref()
        .unwrap_or("")
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .take(40)
        .collect();
    let title: String = if excerpt.trim().is_empty() {
        cat.name.clone()
    } else {
        format!("{}：{}", cat.name, excerpt.trim())
    }
    .chars()
    .take(200)
    .collect();

    // Attributes: the category's questions, plus `kind` for the ticket type unless the
    // category asks a question of that code itself.
    let mut kind = TicketKind::Help;
    let mut answers = Map::new();
    let mut errors = Vec::new();
    for (code, vs) in attributes(p)? {
        let q = cat.questions.iter().find(|q| q.code == code);
        if code == "kind" && q.is_none() {
            let v = vs.last().map(String::as_str).unwrap_or("");
            match TicketKind::parse(v) {
                Some(k) => kind = k,
                None => errors.push(format!(
                    "attribute[kind]：工单类型只能是 {}",
                    TicketKind::ALL
                        .iter()
                        .map(|k| format!("{}（{}）", k.code(), k.label()))
                        .collect::<Vec<_>>()
                        .join("、")
                )),
            }
            continue;
        }
        match answer_value(&code, q, vs) {
            Ok(v) => {
                if code == "kind" {
                    if let Some(k) = v.as_str().and_then(TicketKind::parse) {
                        kind = k;
                    }
                }
                answers.insert(code, v);
            }
            Err(e) => errors.extend(e.errors),
        }
    }
    if !errors.is_empty() {
        return Err(Fail {
            status: StatusCode::BAD_REQUEST,
            errors,
        });
    }

    let name = caller_name(p.get("first_name"), p.get("last_name"));
    let phone = p.get("phone").map(|x| x.replace([' ', '　'], ""));
    Ok(NewTicket {
        channel: Channel::Api,
        kind,
        urgency: Urgency::Normal,
        wants_reply: phone.is_some(),
        anonymous: name.is_none() && phone.is_none(),
        caller_name: name,
        caller_phone: phone,
        address,
        region_code,
        lng,
        lat,
        title,
        content,
        category_id: Some(cat.id),
        answers,
        accept: false,
    })
}

async fn post_request(
    State(ctx): State<AppCtx>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    f: Format,
) -> Response {
    let r = create(&ctx, q, &h, body).await;
    answer(f, "service_requests", r)
}

async fn create(
    ctx: &AppCtx,
    q: Option<String>,
    h: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<V, Fail> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Fail::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "请求内容超过服务器允许的大小",
            )
        } else {
            Fail::bad("无法读取请求内容")
        }
    })?;
    let ct = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !body.is_empty() && !ct.is_empty() && !ct.starts_with("application/x-www-form-urlencoded") {
        return Err(Fail::bad(
            "请以 application/x-www-form-urlencoded 格式提交（Open311 GeoReport v2）",
        ));
    }
    let mut p = query(q)?;
    let text = std::str::from_utf8(&body).map_err(|_| Fail::bad("请求内容须为 UTF-8 编码"))?;
    p.extend(Params::parse(text)?);

    // Who: the key first, so nothing is said about the input to a caller without one.
    let key = p
        .get("api_key")
        .ok_or_else(|| Fail::forbidden("缺少 api_key：提交诉求须提供一网平台的 API 令牌"))?;
    let org = org::OrgService::new(ctx.db.clone(), ctx.config.auth.clone());
    let actor: Actor = org
        .resolve_token(key)
        .await?
        .ok_or_else(|| Fail::forbidden("api_key 无效、已过期或已被吊销"))?;
    actor.require_scope("hotline:write")?;
    check_jurisdiction(ctx, &p)?;

    let code = p
        .get("service_code")
        .ok_or_else(|| Fail::bad("缺少 service_code：请先从 services 列表中选择服务"))?;
    let cat = service_of(ctx, code).await?;
    let input = new_ticket(&p, &cat)?;
    let wants_reply = input.wants_reply;
    let t = svc(ctx).create(&actor, input).await?.ticket;
    let mut notice = format!(
        "诉求已提交，工单编号 {}。话务员受理后将派至承办单位办理",
        t.number
    );
    if wants_reply {
        notice.push_str("，办理结果将通过您留下的电话答复。");
    } else if p.get("email").is_some() {
        notice.push_str("。本热线通过电话答复，未保存电子邮箱；请凭工单编号查询进度。");
    } else {
        notice.push_str("；请凭工单编号查询进度。");
    }
    Ok(V::List(
        "request",
        vec![V::Obj(vec![
            ("service_request_id", s(t.number)),
            ("service_notice", s(notice)),
            ("account_id", V::Null),
        ])],
    ))
}

// ---- reading requests ----

/// Parses an ISO 8601 / W3C time: with an offset, local China time, or a date alone.
/// Returns UTC milliseconds and whether it was a date alone.
fn parse_time(raw: &str) -> Option<(i64, bool)> {
    let mut t = raw.trim().to_owned();
    // An unencoded `+08:00` arrives as ` 08:00`.
    if t.len() > 6 && t.as_bytes()[t.len() - 6] == b' ' && t.contains('T') {
        t.replace_range(t.len() - 6..t.len() - 5, "+");
    }
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(&t) {
        return Some((d.timestamp_millis(), false));
    }
    let china = kernel::clock::china();
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(n) = chrono::NaiveDateTime::parse_from_str(&t, fmt) {
            return n
                .and_local_timezone(china)
                .single()
                .map(|d| (d.timestamp_millis(), false));
        }
    }
    let d = chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok()?;
    d.and_hms_opt(0, 0, 0)?
        .and_local_timezone(china)
        .single()
        .map(|x| (x.timestamp_millis(), true))
}

/// The `[from, to)` window: the given one (at most 90 days), or 90 days from one end, or the
/// last 90 days. An end date alone includes its whole day.
fn window(p: &Params, now: i64) -> Result<(i64, i64), Fail> {
    let bad = |k: &str| {
        Fail::bad(format!(
            "{k}：应为 ISO 8601 时间，如 2026-03-01T00:00:00+08:00 或 2026-03-01"
        ))
    };
    let start = p
        .get("start_date")
        .map(|v| {
            parse_time(v)
                .map(|(ms, _)| ms)
                .ok_or_else(|| bad("start_date"))
        })
        .transpose()?;
    let end = p
        .get("end_date")
        .map(|v| {
            parse_time(v)
                .map(|(ms, date_only)| if date_only { ms + 86_400_000 } else { ms + 1 })
                .ok_or_else(|| bad("end_date"))
        })
        .transpose()?;
    match (start, end) {
        (Some(a), Some(b)) if b <= a => Err(Fail::bad("end_date 不能早于 start_date")),
        (Some(a), Some(b)) if b - a > MAX_SPAN_MS + 1 => {
            Err(Fail::bad("start_date 与 end_date 相隔不能超过 90 天"))
        }
        (Some(a), Some(b)) => Ok((a, b)),
        (Some(a), None) => Ok((a, a + MAX_SPAN_MS)),
        (None, Some(b)) => Ok((b - MAX_SPAN_MS, b)),
        (None, None) => Ok((now - MAX_SPAN_MS, now + 1)),
    }
}

/// Masks e-mail addresses, mobile numbers and ID numbers inside free text.
fn mask_in_text(text: &str) -> String {
    let local = |x: char| x.is_ascii_alphanumeric() || "._%+-".contains(x);
    let dom = |x: char| x.is_ascii_alphanumeric() || ".-".contains(x);
    let c: Vec<char> = text.chars().collect();
    // E-mail: the local part goes, the domain stays.
    let mut hide = vec![false; c.len()];
    for i in (0..c.len()).filter(|i| c[*i] == '@') {
        let mut a = i;
        while a > 0 && local(c[a - 1]) {
            a -= 1;
        }
        let domain = c[i + 1..].iter().take_while(|x| dom(**x));
        if a < i && domain.clone().any(|x| *x == '.') {
            hide[a..i].iter_mut().for_each(|h| *h = true);
        }
    }
    let mut c2 = Vec::with_capacity(c.len());
    for (i, ch) in c.iter().enumerate() {
        if !hide[i] {
            c2.push(*ch);
        } else if i == 0 || !hide[i - 1] {
            c2.extend("***".chars());
        }
    }
    let c = c2;
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < c.len() {
        if !c[i].is_ascii_digit() {
            out.push(c[i]);
            i += 1;
            continue;
        }
        let mut j = i;
        while j < c.len() && c[j].is_ascii_digit() {
            j += 1;
        }
        if j - i == 17 && j < c.len() && matches!(c[j], 'X' | 'x') {
            j += 1;
        }
        let run: String = c[i..j].iter().collect();
        match run.len() {
            11 if run.starts_with('1') => out.push_str(&mask::phone(&run)),
            18 => out.push_str(&mask::id_card(&run)),
            _ => out.push_str(&run),
        }
        i = j;
    }
    out
}

/// Free text as the public may see it: the caller's own name and phone masked, then any
/// mobile number, ID number or e-mail address.
pub(crate) fn scrub(text: &str, caller: &Caller) -> String {
    let mut t = text.to_owned();
    if let Some(p) = caller.phone.as_deref().filter(|p| p.len() >= 5) {
        t = t.replace(p, &mask::phone(p));
    }
    if let Some(n) = caller.name.as_deref().filter(|n| n.chars().count() >= 2) {
        t = t.replace(n, &mask::name(n));
    }
    mask_in_text(&t)
}

/// The description and media URL of a ticket, undoing what `create` put into the content.
fn description_and_media(t: &Ticket) -> (Option<String>, Option<String>) {
    let mut text = t.content.as_str();
    let mut media = None;
    if t.channel == Channel::Api {
        if let Some((head, last)) = text.rsplit_once('\n') {
            if let Some(u) = last.strip_prefix(MEDIA_MARK).filter(|u| is_http_url(u)) {
                media = Some(u.to_owned());
                text = head;
            }
        }
        if text == NO_DESCRIPTION {
            return (None, media);
        }
    }
    (Some(text.to_owned()), media)
}

/// Names and notices looked up once per answer.
struct Lookup {
    cats: HashMap<i64, Category>,
    depts: HashMap<i64, Option<String>>,
    notices: HashMap<(TicketKind, Urgency), String>,
}

impl Lookup {
    async fn new(ctx: &AppCtx) -> Result<Lookup, Fail> {
        let cats = svc(ctx).categories().await?;
        Ok(Lookup {
            cats: cats.into_iter().map(|c| (c.id, c)).collect(),
            depts: HashMap::new(),
            notices: HashMap::new(),
        })
    }

    async fn dept(&mut self, ctx: &AppCtx, id: i64) -> Option<String> {
        if let Some(name) = self.depts.get(&id) {
            return name.clone();
        }
        // Department names are public; the system actor only reads them.
        let org = org::OrgService::new(ctx.db.clone(), ctx.config.auth.clone());
        let name = org
            .department(&Actor::system(), id)
            .await
            .ok()
            .map(|d| d.name);
        self.depts.insert(id, name.clone());
        name
    }

    async fn notice(&mut self, ctx: &AppCtx, t: &Ticket) -> Result<String, Fail> {
        let k = (t.kind, t.urgency);
        if let Some(n) = self.notices.get(&k) {
            return Ok(n.clone());
        }
        let p = svc(ctx).policy(t.kind, t.urgency).await?;
        let n = format!(
            "{}诉求：承办单位须在派单后 {} 个工作日内答复",
            t.kind.label(),
            p.reply_days
        );
        self.notices.insert(k, n.clone());
        Ok(n)
    }
}

fn round3(x: Option<f64>) -> V {
    x.map_or(V::Null, |x| V::Num((x * 1000.0).round() / 1000.0))
}

async fn request_v(ctx: &AppCtx, t: &Ticket, l: &mut Lookup) -> Result<V, Fail> {
    let rfc = kernel::clock::rfc3339;
    let service_name = t
        .category_id
        .and_then(|c| l.cats.get(&c))
        .map(|c| c.name.clone());
    let (description, media) = description_and_media(t);
    let status_notes = match t.reply.as_deref().filter(|r| !r.trim().is_empty()) {
        Some(r) => scrub(r, &t.caller),
        None => t.status.label().to_owned(),
    };
    let agency = match t.main_dept_id {
        Some(d) => l.dept(ctx, d).await,
        None => None,
    };
    Ok(V::Obj(vec![
        ("service_request_id", s(t.number.clone())),
        (
            "status",
            s(if t.status.is_open() { "open" } else { "closed" }),
        ),
        ("status_notes", s(status_notes)),
        ("service_name", opt(service_name)),
        ("service_code", opt(t.category_id.map(|c| c.to_string()))),
        (
            "description",
            opt(description.map(|d| scrub(&d, &t.caller))),
        ),
        ("agency_responsible", opt(agency)),
        ("service_notice", s(l.notice(ctx, t).await?)),
        ("requested_datetime", s(rfc(t.created_at))),
        ("updated_datetime", s(rfc(t.updated_at))),
        ("expected_datetime", opt(t.reply_due.map(rfc))),
        (
            "address",
            opt(t.location.address.as_deref().map(mask::address)),
        ),
        ("address_id", opt(t.location.region_code.clone())),
        ("zipcode", V::Null),
        ("lat", round3(t.location.lat)),
        ("long", round3(t.location.lng)),
        ("media_url", opt(media)),
    ]))
}

async fn requests_v(ctx: &AppCtx, tickets: &[Ticket]) -> Result<V, Fail> {
    let mut l = Lookup::new(ctx).await?;
    let mut items = Vec::with_capacity(tickets.len());
    for t in tickets {
        items.push(request_v(ctx, t, &mut l).await?);
    }
    Ok(V::List("request", items))
}

async fn list_requests(State(ctx): State<AppCtx>, RawQuery(q): RawQuery, f: Format) -> Response {
    let r = async {
        let p = query(q)?;
        check_jurisdiction(&ctx, &p)?;
        let numbers: Vec<String> = p.list("service_request_id");
        let mut oq = Open311Query {
            limit: MAX_REQUESTS,
            ..Default::default()
        };
        if numbers.is_empty() {
            for c in p.list("service_code") {
                oq.category_ids
                    .push(c.parse().map_err(|_| {
                        Fail::bad(format!("service_code：“{c}”不是有效的服务代码"))
                    })?);
            }
            let mut open = false;
            let mut closed = false;
            for st in p.list("status") {
                match st.to_ascii_lowercase().as_str() {
                    "open" => open = true,
                    "closed" => closed = true,
                    _ => {
                        return Err(Fail::bad(format!(
                            "status：“{st}”无效，只能是 open 或 closed"
                        )))
                    }
                }
            }
            oq.open = (open != closed).then_some(open);
            oq.window = Some(window(&p, ctx.db.now())?);
        } else {
            oq.numbers = numbers.into_iter().take(MAX_REQUESTS as usize).collect();
        }
        let tickets = svc(&ctx).open311_tickets(&oq).await?;
        requests_v(&ctx, &tickets).await
    }
    .await;
    public(answer(f, "service_requests", r))
}

async fn ticket_by_number(ctx: &AppCtx, number: &str) -> Result<Ticket, Fail> {
    let q = Open311Query {
        numbers: vec![number.trim().to_owned()],
        limit: 1,
        ..Default::default()
    };
    svc(ctx)
        .open311_tickets(&q)
        .await?
        .pop()
        .ok_or_else(|| Fail::not_found(format!("service_request_id“{number}”不存在")))
}

async fn one_request(
    State(ctx): State<AppCtx>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((id, f)) = Format::split(&file) else {
        return unknown(Path(file)).await;
    };
    let r = async {
        check_jurisdiction(&ctx, &query(q)?)?;
        let t = ticket_by_number(&ctx, id).await?;
        requests_v(&ctx, std::slice::from_ref(&t)).await
    }
    .await;
    public(answer(f, "service_requests", r))
}

/// The token flow: requests are created at once, so the token is the request id.
async fn token(
    State(ctx): State<AppCtx>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((tok, f)) = Format::split(&file) else {
        return unknown(Path(file)).await;
    };
    let r = async {
        check_jurisdiction(&ctx, &query(q)?)?;
        let t = ticket_by_number(&ctx, tok)
            .await
            .map_err(|_| Fail::not_found(format!("token“{tok}”不存在")))?;
        Ok(V::List(
            "request",
            vec![V::Obj(vec![
                ("service_request_id", s(t.number.clone())),
                ("token", s(t.number)),
            ])],
        ))
    }
    .await;
    public(answer(f, "service_requests", r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_is_escaped_and_cleaned() {
        let v = V::List(
            "request",
            vec![V::Obj(vec![
                ("a", s("<b> & \"c\" 'd'\r\u{1}é")),
                ("n", V::Null),
                ("x", V::Num(30.5)),
                ("t", V::Bool(true)),
                ("l", V::List("value", vec![])),
            ])],
        );
        assert_eq!(
            to_xml("service_requests", &v),
            r#"<?xml version="1.0" encoding="utf-8"?><service_requests><request><a>&lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;&#13;é</a><n/><x>30.5</x><t>true</t><l></l></request></service_requests>"#
        );
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"[{"a":"<b> & \"c\" 'd'\r\u0001é","n":null,"x":30.5,"t":true,"l":[]}]"#
        );
    }

    #[test]
    fn form_parameters_decode() {
        let p = Params::parse("a=1+2&b=%E5%B8%82&attribute%5Bx%5D%5B%5D=y&c=%zz&a=3").unwrap();
        assert_eq!(p.get("a"), Some("1 2"));
        assert_eq!(p.get("b"), Some("市"));
        assert_eq!(p.get("c"), Some("%zz"));
        assert_eq!(p.list("a"), ["1 2", "3"]);
        assert_eq!(attributes(&p).unwrap(), [("x".into(), vec!["y".into()])]);
        assert!(Params::parse("a=%FF").is_err());
        assert!(attributes(&Params::parse("attribute[x=1").unwrap()).is_err());
        assert_eq!(decode("%"), Some("%".into()));
        assert_eq!(decode("a%4"), Some("a%4".into()));
    }

    #[test]
    fn times_parse_in_china_time_unless_offset_given() {
        let (utc, d) = parse_time("2026-03-01T00:00:00Z").unwrap();
        assert!(!d);
        assert_eq!(parse_time("2026-03-01T08:00:00+08:00").unwrap().0, utc);
        assert_eq!(parse_time("2026-03-01T08:00:00 08:00").unwrap().0, utc);
        assert_eq!(parse_time("2026-03-01T08:00:00").unwrap().0, utc);
        assert_eq!(
            parse_time("2026-03-01").unwrap(),
            (utc - 8 * 3_600_000, true)
        );
        assert!(parse_time("2026-13-01").is_none());
        assert!(parse_time("昨天").is_none());
    }

    #[test]
    fn windows_are_at_most_ninety_days() {
        let p = |q: &str| Params::parse(q).unwrap();
        let now = parse_time("2026-06-01T00:00:00Z").unwrap().0;
        assert_eq!(window(&p(""), now).unwrap(), (now - MAX_SPAN_MS, now + 1));
        assert!(window(&p("start_date=2026-01-01&end_date=2026-03-31"), now).is_ok());
        assert!(window(&p("start_date=2026-01-01&end_date=2026-04-01"), now).is_err());
        assert!(window(&p("start_date=2026-02-01&end_date=2026-01-01"), now).is_err());
        assert!(window(&p("start_date=x"), now).is_err());
        let (a, b) = window(&p("end_date=2026-03-01"), now).unwrap();
        assert_eq!(b - a, MAX_SPAN_MS);
    }

    #[test]
    fn personal_data_is_masked_in_text() {
        let caller = Caller {
            name: Some("张三丰".into()),
            phone: Some("0571-8888888".into()),
            wants_reply: true,
            anonymous: false,
        };
        let t = scrub(
            "我是张三丰，电话13912345678或0571-8888888，身份证11010519491231002X，邮箱zhang.s@example.com，编号20260316-000123，a@b",
            &caller,
        );
        assert_eq!(
            t,
            "我是张**，电话139****5678或057****8888，身份证110105********002X，邮箱***@example.com，编号20260316-000123，a@b"
        );
    }

    #[test]
    fn errors_name_the_open311_parameter() {
        let e = Error::Validation(vec![
            kernel::FieldError::new("answers.estate", "required", "请回答“小区名称”"),
            kernel::FieldError::new("lng", "out_of_range", "经度应在 -180 到 180 之间"),
        ]);
        let f = Fail::from(e);
        assert_eq!(f.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            f.errors,
            [
                "attribute[estate]：请回答“小区名称”",
                "long：经度应在 -180 到 180 之间"
            ]
        );
    }

    #[test]
    fn leaves_are_active_categories_without_active_children() {
        let c = |id, parent, name: &str, active| Category {
            id,
            parent_id: parent,
            level: 1,
            name: name.into(),
            path: name.into(),
            questions: vec![],
            active,
        };
        let cats = vec![
            c(1, None, "城乡建设", true),
            c(2, Some(1), "供水", true),
            c(3, Some(2), "停水", true),
            c(4, Some(1), "燃气", true),
            c(5, Some(4), "旧", false),
            c(6, None, "停用", false),
            c(7, Some(6), "子", true),
        ];
        let ids: Vec<i64> = leaves(&cats).iter().map(|c| c.id).collect();
        assert_eq!(ids, [3, 4]);
        assert_eq!(root_name(&cats[2], &cats), "城乡建设");
    }
}
