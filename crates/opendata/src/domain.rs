//! Open datasets as the portal shows them, pure: a dataset made from an open catalog entry,
//! its distributions (one per format of each mounted table), the licences, CKAN's search
//! parameters (`rows`, `start`, `sort`, `fq`, `facet.field`) with their checks, and facets.

use kernel::error::{Error, Result};
use serde::Serialize;
use sharing::catalog::domain::{Category, OpenKind, UpdateCycle};
use sharing::open::OpenEntry;
use std::collections::BTreeMap;

/// The formats every mounted table is offered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Format {
    Csv,
    Xlsx,
    Json,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Csv, Format::Xlsx, Format::Json];
    pub fn ext(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Json => "json",
        }
    }
    /// CKAN's `format` (upper case, as CKAN sites write it).
    pub fn label(self) -> &'static str {
        match self {
            Format::Csv => "CSV",
            Format::Xlsx => "XLSX",
            Format::Json => "JSON",
        }
    }
    pub fn mime(self) -> &'static str {
        match self {
            Format::Csv => "text/csv",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Json => "application/json",
        }
    }
    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|f| f.ext().eq_ignore_ascii_case(s))
    }
}

/// The terms a dataset is opened under; one per 开放属性.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct License {
    pub id: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
}

pub const LICENSES: [License; 2] = [
    License {
        id: "open-terms",
        title: "无条件开放数据使用协议",
        summary: "任何人可免费获取、使用和再发布，使用时须注明数据来源，不得歪曲数据或用于违法用途。",
    },
    License {
        id: "conditional-terms",
        title: "有条件开放数据使用协议",
        summary: "经申请并获数据提供部门同意后，在申请写明的用途和期限内使用，须注明数据来源，不得转让或再发布。",
    },
];

pub fn license_of(kind: OpenKind) -> License {
    match kind {
        OpenKind::Conditional => LICENSES[1],
        _ => LICENSES[0],
    }
}

/// A mounted table in one format.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distribution {
    /// `{资源代码 of the table}.{ext}` (`B501-000001.1.csv`).
    pub id: String,
    pub resource_code: String,
    pub name: String,
    pub format: Format,
    pub rows: i64,
    /// Names of the open 信息项, in order.
    pub columns: Vec<String>,
    pub created: i64,
    pub modified: Option<i64>,
}

/// An open dataset: an open catalog entry with its version in force.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dataset {
    /// The entry's 资源代码 (`B501-000001`), also CKAN's `id`.
    pub code: String,
    /// CKAN's `name`: the code in lower case (a URL slug).
    pub name: String,
    pub title: String,
    pub notes: String,
    pub org_id: i64,
    pub org_title: String,
    pub category: Category,
    pub tags: Vec<String>,
    pub open_kind: OpenKind,
    pub open_condition: String,
    pub update_cycle: UpdateCycle,
    pub format: String,
    pub created: i64,
    pub modified: i64,
    pub version: i64,
    pub distributions: Vec<Distribution>,
}

impl Dataset {
    pub fn license(&self) -> License {
        license_of(self.open_kind)
    }
    pub fn conditional(&self) -> bool {
        self.open_kind == OpenKind::Conditional
    }
    /// CKAN's organization name for the providing department.
    pub fn org_name(&self) -> String {
        org_name(self.org_id)
    }
    pub fn group_name(&self) -> &'static str {
        self.category.code()
    }
    pub fn distribution(&self, id: &str) -> Option<&Distribution> {
        self.distributions.iter().find(|d| d.id == id)
    }
}

pub fn org_name(dept_id: i64) -> String {
    format!("dept-{dept_id}")
}

/// The department id of a CKAN organization name (`dept-3`), or of its bare id.
pub fn org_id(name: &str) -> Option<i64> {
    name.strip_prefix("dept-").unwrap_or(name).parse().ok()
}

pub fn slug(code: &str) -> String {
    code.to_ascii_lowercase()
}

/// The dataset an open entry makes. Tags are its open 信息项 names (what people search for),
/// each once; personal 信息项 never reach it (publication refuses them).
pub fn dataset_of(e: &OpenEntry) -> Dataset {
    let c = e.content();
    let mut tags: Vec<String> = Vec::new();
    for i in c.items.iter().filter(|i| !i.is_personal()) {
        if !tags.contains(&i.name) {
            tags.push(i.name.clone());
        }
    }
    let mut distributions = Vec::new();
    for r in &e.resources {
        let columns: Vec<String> = sharing::open::open_fields(r)
            .into_iter()
            .map(|i| i.name.clone())
            .collect();
        for f in Format::ALL {
            distributions.push(Distribution {
                id: format!("{}.{}", r.code, f.ext()),
                resource_code: r.code.clone(),
                name: format!("{}（{}）", r.name, f.label()),
                format: f,
                rows: r.row_count,
                columns: columns.clone(),
                created: r.created_at,
                modified: r.last_update_at,
            });
        }
    }
    let created = e.line.entry.created_at;
    let published = e.line.entry.published_at.unwrap_or(created);
    let modified = e
        .resources
        .iter()
        .filter_map(|r| r.last_update_at)
        .fold(published, i64::max);
    Dataset {
        code: e.line.entry.code.clone(),
        name: slug(&e.line.entry.code),
        title: c.name.clone(),
        notes: c.summary.clone(),
        org_id: e.line.entry.provider_dept_id,
        org_title: e.line.provider_name.clone(),
        category: category_of(&e.line.entry.class_code),
        tags,
        open_kind: c.open_kind,
        open_condition: c.open_condition.clone(),
        update_cycle: c.update_cycle,
        format: c.format.clone(),
        created,
        modified,
        version: e.line.version.version,
        distributions,
    }
}

/// The category from the 分类码's letter.
fn category_of(class_code: &str) -> Category {
    match class_code.as_bytes().first() {
        Some(b'A') => Category::Basic,
        Some(b'B') => Category::Theme,
        _ => Category::Department,
    }
}

/// ISO 8601 as CKAN writes `metadata_modified` (UTC, microseconds, no zone).
pub fn ckan_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string()
}

// ---- package_search ----

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Relevance with `q`, else newest first (CKAN's default).
    Score,
    ModifiedDesc,
    ModifiedAsc,
    NameAsc,
    NameDesc,
    TitleAsc,
    TitleDesc,
}

/// Facet fields CKAN clients ask for and filter on.
pub const FACETS: [&str; 5] = ["organization", "groups", "tags", "res_format", "license_id"];

/// A checked `package_search`.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub q: String,
    /// (facet field, value) pairs every result must have.
    pub fq: Vec<(String, String)>,
    pub rows: usize,
    pub start: usize,
    pub sort: Sort,
    pub facet_fields: Vec<String>,
    pub facet_limit: usize,
}

pub const MAX_ROWS: usize = 1000;

/// What is wrong with a search: CKAN answers a value of the wrong type with a Validation
/// Error (409) naming the parameter, and a query it cannot read (`fq`, `sort`) with a Search
/// Query Error (400).
#[derive(Debug, Clone, PartialEq)]
pub enum SearchError {
    Invalid(String, String),
    Query(String),
}

fn natural(name: &str, v: Option<&str>, default: usize, max: usize) -> Result<usize, SearchError> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n < 0 => Err(SearchError::Invalid(
                name.into(),
                "Must be a natural number（须为不小于 0 的整数）".into(),
            )),
            Ok(n) => Ok((n as usize).min(max)),
            Err(_) => Err(SearchError::Invalid(
                name.into(),
                "Invalid integer（须为整数）".into(),
            )),
        },
    }
}

/// Reads `fq` in the Solr words clients send: `field:value` terms (a value may be quoted),
/// joined by spaces or `AND`, optionally prefixed `+`.
pub fn parse_fq(fq: &str) -> Result<Vec<(String, String)>, SearchError> {
    let mut out = Vec::new();
    let mut rest = fq.trim();
    while !rest.is_empty() {
        let r = rest.trim_start_matches('+');
        if let Some(after) = r.strip_prefix("AND ") {
            rest = after.trim_start();
            continue;
        }
        let Some((field, tail)) = r.split_once(':') else {
            return Err(SearchError::Query(format!(
                "fq 无法解析：“{r}”（应为 字段:值）"
            )));
        };
        let field = field.trim();
        if !FACETS.contains(&field) {
            return Err(SearchError::Query(format!(
                "fq 不支持字段“{field}”，可用：{}",
                FACETS.join("、")
            )));
        }
        let (value, tail) = if let Some(q) = tail.strip_prefix('"') {
            match q.split_once('"') {
                Some((v, t)) => (v.to_owned(), t),
                None => return Err(SearchError::Query("fq 的引号未闭合".into())),
            }
        } else {
            let end = tail.find(char::is_whitespace).unwrap_or(tail.len());
            (tail[..end].to_owned(), &tail[end..])
        };
        if value.is_empty() {
            return Err(SearchError::Query(format!("fq 字段“{field}”缺少值")));
        }
        out.push((field.to_owned(), value));
        rest = tail.trim_start();
    }
    Ok(out)
}

pub fn parse_sort(s: &str) -> Result<Sort, SearchError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(Sort::Score);
    }
    // CKAN sorts by the first key; later keys only break ties.
    let first = s.split(',').next().unwrap_or("").trim();
    let mut words = first.split_whitespace();
    let field = words.next().unwrap_or("");
    let dir = words.next().unwrap_or("asc");
    let desc = match dir {
        "asc" => false,
        "desc" => true,
        _ => {
            return Err(SearchError::Query(format!(
                "sort 方向“{dir}”无效（asc 或 desc）"
            )))
        }
    };
    Ok(match (field, desc) {
        ("score", _) | ("rank", _) => Sort::Score,
        ("metadata_modified", true) => Sort::ModifiedDesc,
        ("metadata_modified", false) => Sort::ModifiedAsc,
        ("name", false) => Sort::NameAsc,
        ("name", true) => Sort::NameDesc,
        ("title_string", false) | ("title", false) => Sort::TitleAsc,
        ("title_string", true) | ("title", true) => Sort::TitleDesc,
        _ => {
            return Err(SearchError::Query(format!(
                "sort 不支持字段“{field}”，可用：score、metadata_modified、name、title_string"
            )))
        }
    })
}

/// `facet.field`: a JSON list (`["organization","tags"]`) as CKAN documents it, or one name.
pub fn parse_facet_fields(v: Option<&serde_json::Value>) -> Result<Vec<String>, SearchError> {
    let names: Vec<String> = match v {
        None | Some(serde_json::Value::Null) => return Ok(Vec::new()),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| SearchError::Invalid("facet.field".into(), "须为字段名的列表".into()))?,
        Some(serde_json::Value::String(s)) => {
            let s = s.trim();
            if s.starts_with('[') {
                serde_json::from_str(s).map_err(|_| {
                    SearchError::Invalid(
                        "facet.field".into(),
                        "须为 JSON 列表，如 [\"organization\",\"tags\"]".into(),
                    )
                })?
            } else if s.is_empty() {
                Vec::new()
            } else {
                vec![s.to_owned()]
            }
        }
        Some(_) => {
            return Err(SearchError::Invalid(
                "facet.field".into(),
                "须为字段名的列表".into(),
            ))
        }
    };
    for n in &names {
        if !FACETS.contains(&n.as_str()) {
            return Err(SearchError::Query(format!(
                "facet.field 不支持“{n}”，可用：{}",
                FACETS.join("、")
            )));
        }
    }
    Ok(names)
}

/// The values a dataset has for a facet field.
pub fn facet_values(d: &Dataset, field: &str) -> Vec<(String, String)> {
    match field {
        "organization" => vec![(d.org_name(), d.org_title.clone())],
        "groups" => vec![(d.group_name().to_owned(), d.category.label().to_owned())],
        "tags" => d.tags.iter().map(|t| (t.clone(), t.clone())).collect(),
        "res_format" => {
            let mut v: Vec<(String, String)> = Vec::new();
            for x in &d.distributions {
                let l = x.format.label().to_owned();
                if !v.iter().any(|(n, _)| *n == l) {
                    v.push((l.clone(), l));
                }
            }
            v
        }
        "license_id" => {
            let l = d.license();
            vec![(l.id.to_owned(), l.title.to_owned())]
        }
        _ => Vec::new(),
    }
}

pub fn matches_fq(d: &Dataset, fq: &[(String, String)]) -> bool {
    fq.iter().all(|(f, v)| {
        facet_values(d, f)
            .iter()
            .any(|(n, t)| n == v || t == v || (f == "organization" && org_id(v) == Some(d.org_id)))
    })
}

/// Counts per facet value: name → (display name, count), most frequent first when listed.
pub fn facets(
    results: &[&Dataset],
    fields: &[String],
) -> BTreeMap<String, Vec<(String, String, usize)>> {
    let mut out = BTreeMap::new();
    for f in fields {
        let mut counts: BTreeMap<String, (String, usize)> = BTreeMap::new();
        for d in results {
            for (n, t) in facet_values(d, f) {
                counts.entry(n).or_insert((t, 0)).1 += 1;
            }
        }
        let mut v: Vec<(String, String, usize)> =
            counts.into_iter().map(|(n, (t, c))| (n, t, c)).collect();
        v.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
        out.insert(f.clone(), v);
    }
    out
}

/// Checks CKAN's search parameters, given as the request's values.
pub fn search_of(
    q: Option<&str>,
    fq: Option<&str>,
    rows: Option<&str>,
    start: Option<&str>,
    sort: Option<&str>,
    facet_field: Option<&serde_json::Value>,
    facet_limit: Option<&str>,
) -> Result<Search, SearchError> {
    let q = q.unwrap_or("").trim();
    // `*:*` is Solr's "everything", which clients send for a full listing.
    let q = if q == "*:*" { "" } else { q };
    Ok(Search {
        q: q.to_owned(),
        fq: parse_fq(fq.unwrap_or(""))?,
        rows: natural("rows", rows, 10, MAX_ROWS)?,
        start: natural("start", start, 0, usize::MAX)?,
        sort: parse_sort(sort.unwrap_or(""))?,
        facet_fields: parse_facet_fields(facet_field)?,
        facet_limit: natural("facet.limit", facet_limit, 50, 1000)?,
    })
}

impl From<SearchError> for Error {
    fn from(e: SearchError) -> Error {
        match e {
            SearchError::Invalid(f, m) => Error::field(f, "invalid", m),
            SearchError::Query(m) => Error::BadRequest {
                code: "bad_search",
                detail: m,
                field: None,
            },
        }
    }
}

/// Orders results (`hits` already in relevance order when there was a query).
pub fn sort_results(v: &mut [&Dataset], sort: Sort, had_query: bool) {
    match sort {
        Sort::Score if had_query => {}
        Sort::Score | Sort::ModifiedDesc => {
            v.sort_by(|a, b| b.modified.cmp(&a.modified).then(a.name.cmp(&b.name)))
        }
        Sort::ModifiedAsc => {
            v.sort_by(|a, b| a.modified.cmp(&b.modified).then(a.name.cmp(&b.name)))
        }
        Sort::NameAsc => v.sort_by(|a, b| a.name.cmp(&b.name)),
        Sort::NameDesc => v.sort_by(|a, b| b.name.cmp(&a.name)),
        Sort::TitleAsc => v.sort_by(|a, b| a.title.cmp(&b.title)),
        Sort::TitleDesc => v.sort_by(|a, b| b.title.cmp(&a.title)),
    }
}

// ---- applications (数据申请) ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    Pending,
    Approved,
    Refused,
}

impl ApplicationStatus {
    pub fn code(self) -> &'static str {
        match self {
            ApplicationStatus::Pending => "pending",
            ApplicationStatus::Approved => "approved",
            ApplicationStatus::Refused => "refused",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ApplicationStatus::Pending => "待审核",
            ApplicationStatus::Approved => "已同意",
            ApplicationStatus::Refused => "未同意",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Refused]
            .into_iter()
            .find(|x| x.code() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Application {
    pub id: i64,
    pub entry_code: String,
    pub provider_dept_id: i64,
    pub user_id: i64,
    pub applicant: String,
    pub purpose: String,
    pub status: ApplicationStatus,
    pub reason: String,
    pub decided_by: String,
    pub created_at: i64,
    pub decided_at: Option<i64>,
}

/// Checks an application's purpose: what the data will be used for, in words.
pub fn check_purpose(purpose: &str) -> Result<String> {
    let p = purpose.trim();
    let n = p.chars().count();
    if n < 10 {
        return Err(Error::field(
            "purpose",
            "too_short",
            "请写明数据用途（至少 10 个字），如研究课题、产品名称和使用期限",
        ));
    }
    if n > 1000 {
        return Err(Error::field(
            "purpose",
            "too_long",
            "数据用途不能超过 1000 个字",
        ));
    }
    Ok(p.to_owned())
}

/// A request for data not yet open (开放需求).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Demand {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub contact: String,
    pub status: String,
    pub answer: String,
    pub created_at: i64,
}

pub fn check_demand(
    title: &str,
    description: &str,
    contact: &str,
) -> Result<(String, String, String)> {
    let mut c = kernel::error::Checks::new();
    c.text("title", "需求名称", title, 100);
    c.text("description", "需求说明", description, 2000);
    let contact = contact.trim();
    if contact.chars().count() > 100 {
        c.add("contact", "too_long", "联系方式不能超过 100 个字");
    }
    c.finish()?;
    Ok((
        title.trim().into(),
        description.trim().into(),
        contact.into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_parameters_are_checked_as_ckan_does() {
        let s = search_of(Some("*:*"), None, None, None, None, None, None).unwrap();
        assert_eq!(
            (s.q.as_str(), s.rows, s.start, s.sort),
            ("", 10, 0, Sort::Score)
        );
        assert!(matches!(
            search_of(None, None, Some("abc"), None, None, None, None),
            Err(SearchError::Invalid(f, _)) if f == "rows"
        ));
        assert!(matches!(
            search_of(None, None, Some("-1"), None, None, None, None),
            Err(SearchError::Invalid(f, _)) if f == "rows"
        ));
        assert_eq!(
            search_of(None, None, Some("5000"), None, None, None, None)
                .unwrap()
                .rows,
            MAX_ROWS
        );
        assert!(matches!(
            parse_sort("bogus asc"),
            Err(SearchError::Query(_))
        ));
        assert_eq!(
            parse_sort("metadata_modified desc").unwrap(),
            Sort::ModifiedDesc
        );
        assert_eq!(
            parse_fq("organization:dept-3 +tags:\"名 称\" AND res_format:CSV").unwrap(),
            vec![
                ("organization".into(), "dept-3".into()),
                ("tags".into(), "名 称".into()),
                ("res_format".into(), "CSV".into())
            ]
        );
        assert!(matches!(parse_fq("owner:x"), Err(SearchError::Query(_))));
        assert!(matches!(parse_fq("tags:\"x"), Err(SearchError::Query(_))));
        let f = serde_json::json!("[\"organization\",\"tags\"]");
        assert_eq!(parse_facet_fields(Some(&f)).unwrap().len(), 2);
        let f = serde_json::json!("[\"nope\"]");
        assert!(parse_facet_fields(Some(&f)).is_err());
    }

    #[test]
    fn purposes_and_demands_are_checked() {
        assert!(check_purpose("看看").is_err());
        assert!(check_purpose("用于本市营商环境研究课题，使用期限一年").is_ok());
        assert!(check_demand("", "x", "").is_err());
        assert!(check_demand("公交到站数据", "希望开放公交实时到站数据", "").is_ok());
    }
}
