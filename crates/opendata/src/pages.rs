//! The public portal's pages (zh-CN, forms without JavaScript, phone width too): 开放数据 home,
//! 数据目录 (search with facets), a dataset (metadata, resources, first rows, downloads, API
//! example), 数据申请 for 有条件开放, 开放需求, the API page, 统计, 使用协议, the 开放目录
//! .xlsx; and the staff's 申请审核 and 开放需求 lists.

use crate::domain::*;
use crate::http::{actor_of, base_url, svc};
use crate::service::{Decide, Demands, Usage};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use kernel::clock::format_minute;
use kernel::{Error, Role};
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;
use webcore::layout::{alert, csrf_input, notice, page, public_page_nav};
use webcore::{AppCtx, Authenticated, FormData, PageCtx, PageError, Path, Query};

type PageResult = Result<Response, PageError>;

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/opendata", get(home))
        .route("/opendata/search", get(search))
        .route("/opendata/dataset/{name}", get(dataset))
        .route("/opendata/dataset/{name}/apply", post(apply))
        .route("/opendata/applications", get(applications))
        .route("/opendata/applications/{id}", post(decide))
        .route("/opendata/demand", get(demand_form).post(demand_submit))
        .route("/opendata/demands", get(demands))
        .route("/opendata/demands/{id}", post(answer))
        .route("/opendata/api", get(api_page))
        .route("/opendata/figures", get(figures))
        .route("/opendata/licenses", get(licenses))
        .route("/opendata/catalog.xlsx", get(catalog_xlsx))
}

const LINKS: [(&str, &str); 6] = [
    ("开放数据", "/opendata"),
    ("数据目录", "/opendata/search"),
    ("开放需求", "/opendata/demand"),
    ("我的申请", "/opendata/applications"),
    ("接口", "/opendata/api"),
    ("统计", "/opendata/figures"),
];

fn portal(ctx: &AppCtx, title: &str, current: &str, content: Markup) -> Response {
    public_page_nav(
        &format!("{}开放数据", ctx.config.city.name),
        title,
        &LINKS,
        current,
        html! { (PreEscaped(STYLE)) (content) },
    )
    .into_response()
}

/// A few rules of the portal's own: the dataset cards and the facet column fold to one
/// column on a phone.
const STYLE: &str = "<style>.od-layout{display:grid;grid-template-columns:240px 1fr;gap:1.2em}\
.od-facets h3{font-size:1em;margin:.8em 0 .3em}.od-facets ul{list-style:none;padding:0;margin:0}\
.od-facets li{padding:.15em 0}.od-list .card h2{font-size:1.1em;margin:0 0 .3em}\
.od-search{display:flex;gap:.5em;flex-wrap:wrap;margin:.5em 0 1em}.od-search input{flex:1 1 240px}\
.od-meta{display:grid;grid-template-columns:8em 1fr;gap:.3em 1em}.od-meta dt{color:var(--muted)}.od-meta dd{margin:0}\
pre.od-code{background:#f5f6f8;padding:.6em .8em;border-radius:4px;overflow-x:auto;white-space:pre-wrap;word-break:break-all}\
@media (max-width:760px){.od-layout{grid-template-columns:1fr}.od-meta{grid-template-columns:1fr}.od-meta dt{margin-top:.4em}}</style>";

fn day(ms: i64) -> String {
    kernel::clock::to_china(ms).format("%Y-%m-%d").to_string()
}

fn esc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn back(to: &str, msg: &str) -> Response {
    Redirect::to(&format!("{to}?msg={}", esc(msg))).into_response()
}

#[derive(Debug, Deserialize, Default)]
struct Msg {
    #[serde(default)]
    msg: String,
}

fn kind_tag(d: &Dataset) -> Markup {
    html! {
        @if d.conditional() { span.tag.off { "有条件开放" } } @else { span.tag { "无条件开放" } }
    }
}

fn card(d: &Dataset, u: Usage) -> Markup {
    html! {
        div.card {
            h2 { a href=(format!("/opendata/dataset/{}", d.name)) { (d.title) } " " (kind_tag(d)) }
            p.muted { (d.org_title) " · " (d.category.label()) " · 更新周期：" (d.update_cycle.label()) " · 更新于 " (day(d.modified)) }
            p { (cut(&d.notes, 120)) }
            p.muted { "浏览 " (u.views) " 次 · 下载 " (u.downloads) " 次 · 格式：CSV、XLSX、JSON" }
        }
    }
}

/// Who is signed in, with the way out, on the portal's pages (the portal header has no
/// account corner).
fn who_bar(name: &str, csrf: &str) -> Markup {
    html! {
        form #od-logout.actions method="post" action="/logout" {
            span.muted { "您好，" (name) }
            input type="hidden" name=(webcore::CSRF_FIELD) value=(csrf);
            button.secondary type="submit" { "退出登录" }
        }
    }
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

// ---- 首页 ----

async fn home(State(ctx): State<AppCtx>) -> PageResult {
    let s = svc(&ctx);
    let all = s.datasets().await?;
    let usage = s.usage().await?;
    let u = |d: &Dataset| usage.get(&d.code).copied().unwrap_or_default();
    let mut newest: Vec<&Dataset> = all.iter().collect();
    newest.sort_by_key(|d| std::cmp::Reverse(d.modified));
    let mut used: Vec<&Dataset> = all.iter().collect();
    used.sort_by_key(|d| std::cmp::Reverse(u(d).downloads + u(d).views));
    let f = facets(
        &all.iter().collect::<Vec<_>>(),
        &["organization".into(), "groups".into()],
    );
    let downloads: i64 = usage.values().map(|u| u.downloads).sum();
    let body = html! {
        h1 { (ctx.config.city.name) "开放数据" }
        p { "政府部门依法向社会开放的数据，可免费检索、预览和下载；有条件开放的数据经申请、由提供部门同意后下载。" }
        form.od-search method="get" action="/opendata/search" role="search" {
            input #q type="search" name="q" placeholder="如：企业、注册资本、公交" aria-label="搜索数据集";
            button type="submit" { "搜索" }
        }
        div.kpis {
            div.card { div.muted { "开放数据集" } div.stat #count-datasets { (all.len()) } }
            div.card { div.muted { "无条件开放" } div.stat { (all.iter().filter(|d| !d.conditional()).count()) } }
            div.card { div.muted { "有条件开放" } div.stat { (all.iter().filter(|d| d.conditional()).count()) } }
            div.card { div.muted { "提供部门" } div.stat { (f.get("organization").map_or(0, |v| v.len())) } }
            div.card { div.muted { "累计下载" } div.stat { (downloads) } }
        }
        div.row {
            section {
                h2 { "最新数据集" }
                div.od-list { @for d in newest.iter().take(5) { (card(d, u(d))) } }
                @if all.is_empty() { p.muted { "暂无开放数据集。" } }
            }
            section {
                h2 { "最常用" }
                div.od-list { @for d in used.iter().take(5) { (card(d, u(d))) } }
            }
        }
        div.row {
            section.card {
                h2 { "按部门" }
                ul { @for (n, t, c) in f.get("organization").into_iter().flatten() {
                    li { a href=(format!("/opendata/search?organization={}", esc(n))) { (t) } " （" (c) "）" }
                } }
            }
            section.card {
                h2 { "按主题" }
                ul { @for (n, t, c) in f.get("groups").into_iter().flatten() {
                    li { a href=(format!("/opendata/search?groups={}", esc(n))) { (t) } " （" (c) "）" }
                } }
            }
        }
        p { a href="/opendata/catalog.xlsx" { "下载开放目录（.xlsx）" } " · " a href="/opendata/demand" { "没有找到需要的数据？提出开放需求" } }
    };
    Ok(portal(&ctx, "开放数据", "/opendata", body))
}

// ---- 检索 ----

#[derive(Debug, Deserialize, Default)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    organization: String,
    #[serde(default)]
    groups: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    res_format: String,
    #[serde(default)]
    license_id: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: String,
}

const PAGE_ROWS: usize = 10;

async fn search(State(ctx): State<AppCtx>, Query(q): Query<SearchQuery>) -> PageResult {
    let mut fq = Vec::new();
    for (f, v) in [
        ("organization", &q.organization),
        ("groups", &q.groups),
        ("tags", &q.tags),
        ("res_format", &q.res_format),
        ("license_id", &q.license_id),
    ] {
        if !v.trim().is_empty() {
            fq.push((f.to_owned(), v.trim().to_owned()));
        }
    }
    let page = q.page.trim().parse::<usize>().unwrap_or(1).max(1);
    let sort = match q.sort.as_str() {
        "new" => Sort::ModifiedDesc,
        "name" => Sort::TitleAsc,
        _ => Sort::Score,
    };
    let search = Search {
        q: q.q.trim().to_owned(),
        fq: fq.clone(),
        rows: PAGE_ROWS,
        start: (page - 1) * PAGE_ROWS,
        sort,
        facet_fields: FACETS.iter().map(|s| s.to_string()).collect(),
        facet_limit: 20,
    };
    let s = svc(&ctx);
    let r = s.search(&search).await?;
    let usage = s.usage().await?;
    // The link for the current query with one filter set (or cleared) and the page reset.
    let link = |set: Option<(&str, &str)>, clear: Option<&str>| {
        let mut parts = Vec::new();
        if !search.q.is_empty() {
            parts.push(format!("q={}", esc(&search.q)));
        }
        for (f, v) in &fq {
            if Some(f.as_str()) == clear || set.is_some_and(|(sf, _)| sf == f) {
                continue;
            }
            parts.push(format!("{f}={}", esc(v)));
        }
        if let Some((f, v)) = set {
            parts.push(format!("{f}={}", esc(v)));
        }
        if !q.sort.is_empty() {
            parts.push(format!("sort={}", esc(&q.sort)));
        }
        format!("/opendata/search?{}", parts.join("&"))
    };
    let titles = [
        ("organization", "提供部门"),
        ("groups", "资源分类"),
        ("tags", "信息项"),
        ("res_format", "格式"),
        ("license_id", "开放属性"),
    ];
    let pages = r.count.div_ceil(PAGE_ROWS).max(1);
    let here = link(None, None);
    let body = html! {
        h1 { "数据目录" }
        form.od-search method="get" action="/opendata/search" role="search" {
            input #q type="search" name="q" value=(search.q) placeholder="输入关键词，如：企业 注册资本" aria-label="关键词";
            @for (f, v) in &fq { input type="hidden" name=(f) value=(v); }
            select name="sort" aria-label="排序" {
                option value="" selected[q.sort.is_empty()] { "按相关度" }
                option value="new" selected[q.sort == "new"] { "按更新时间" }
                option value="name" selected[q.sort == "name"] { "按名称" }
            }
            button type="submit" { "搜索" }
        }
        div.od-layout {
            aside.od-facets aria-label="筛选" {
                @for (f, title) in titles {
                    @let items = r.facets.get(f).cloned().unwrap_or_default();
                    @if !items.is_empty() {
                        h3 { (title) }
                        ul { @for (n, t, c) in items.iter().take(10) {
                            @let on = fq.iter().any(|(ff, v)| ff == f && v == n);
                            li { @if on {
                                strong { (t) } " （" (c) "） " a href=(link(None, Some(f))) { "取消" }
                            } @else {
                                a href=(link(Some((f, n)), None)) { (t) } " （" (c) "）"
                            } }
                        } }
                    }
                }
            }
            section.od-list {
                p #result-count { "找到 " strong { (r.count) } " 个数据集" @if !search.q.is_empty() { "（关键词：" (search.q) "）" } }
                @for d in &r.results { (card(d, usage.get(&d.code).copied().unwrap_or_default())) }
                @if r.results.is_empty() { p.muted { "没有符合条件的数据集。可以换个关键词，或" a href="/opendata/demand" { "提出开放需求" } "。" } }
                (webcore::layout::pager(&here, page as i64, pages as i64, r.count as i64))
            }
        }
    };
    Ok(portal(&ctx, "数据目录", "/opendata/search", body))
}

// ---- 数据集 ----

async fn dataset(
    State(ctx): State<AppCtx>,
    auth: Option<Extension<Authenticated>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(m): Query<Msg>,
) -> PageResult {
    let s = svc(&ctx);
    let (d, e) = s.dataset(&name).await?;
    s.record("view", Some(&d), "page").await?;
    let actor = actor_of(&auth);
    let may = s.may_download(actor, &d).await?;
    let mine: Vec<Application> = match actor {
        Some(a) => s
            .my_applications(a)
            .await?
            .into_iter()
            .filter(|x| x.entry_code == d.code)
            .collect(),
        None => Vec::new(),
    };
    let usage = s.usage().await?.get(&d.code).copied().unwrap_or_default();
    let base = base_url(&ctx, &headers);
    // The first rows of the first table, open fields only: anyone may see what the data looks
    // like; a 有条件开放 dataset shows its fields, not its rows, before approval.
    let first = e.resources.first();
    let preview = match first {
        Some(r) if may => s.rows(&e, &r.code, 0, 10).await?,
        _ => Vec::new(),
    };
    let fields: Vec<(String, String)> = first
        .map(|r| {
            sharing::open::open_fields(r)
                .into_iter()
                .map(|i| (i.field.clone(), i.name.clone()))
                .collect()
        })
        .unwrap_or_default();
    let csrf = auth.as_ref().and_then(|Extension(a)| a.csrf.clone());
    let is_resident = actor.is_some_and(|a| a.has_role(Role::Citizen) && a.user_id.is_some());
    let who = match (actor, &csrf) {
        (Some(a), Some(c)) => who_bar(&a.display_name, c),
        _ => html! {},
    };
    let body = html! {
        (who)
        p { a href="/opendata/search" { "← 数据目录" } }
        h1 { (d.title) " " (kind_tag(&d)) }
        @if !m.msg.is_empty() { (notice(&m.msg)) }
        p { (d.notes) }
        dl.od-meta {
            dt { "资源代码" } dd { code { (d.code) } }
            dt { "提供部门" } dd { (d.org_title) }
            dt { "资源分类" } dd { (d.category.label()) }
            dt { "开放属性" } dd { (d.open_kind.label()) @if !d.open_condition.is_empty() { "（开放条件：" (d.open_condition) "）" } }
            dt { "使用协议" } dd { a href=(format!("/opendata/licenses#{}", d.license().id)) { (d.license().title) } }
            dt { "更新周期" } dd { (d.update_cycle.label()) }
            dt { "发布时间" } dd { (day(d.created)) }
            dt { "最近更新" } dd { (day(d.modified)) }
            dt { "信息项" } dd { @for t in &d.tags { span.tag { (t) } } }
            dt { "浏览／下载" } dd { (usage.views) " 次／" (usage.downloads) " 次" }
        }
        h2 { "数据资源" }
        @if d.distributions.is_empty() { p.muted { "该数据集尚未挂接数据。" } }
        @else {
            table #resources {
                thead { tr { th { "资源" } th { "格式" } th { "行数" } th { "更新时间" } th { "下载" } } }
                tbody { @for r in &d.distributions {
                    tr {
                        td { (r.name) } td { (r.format.label()) } td { (r.rows) }
                        td { (r.modified.map(day).unwrap_or_else(|| "—".into())) }
                        td { @if may { a href=(format!("/opendata/download/{}", r.id)) download { "下载 " (r.format.label()) } } @else { span.muted { "申请通过后可下载" } } }
                    }
                } }
            }
        }
        @if d.conditional() {
            section.card #apply {
                h2 { "数据申请" }
                p { "该数据集为有条件开放。开放条件：" (d.open_condition) }
                @for a in &mine {
                    p { "您于 " (format_minute(a.created_at)) " 提出的申请：" strong { (a.status.label()) }
                        @if !a.reason.is_empty() { "（" (a.reason) "）" } }
                }
                @if may { p { "您的申请已获同意，可以下载上方的数据资源。" } }
                @else if mine.iter().any(|a| a.status == ApplicationStatus::Pending) { p.muted { "申请正在由" (d.org_title) "审核。" } }
                @else if is_resident {
                    form method="post" action=(format!("/opendata/dataset/{}/apply", d.name)) {
                        @if let Some(c) = &csrf { input type="hidden" name="_csrf" value=(c); }
                        div.field {
                            label for="purpose" { "数据用途" }
                            textarea #purpose name="purpose" rows="4" required maxlength="1000" placeholder="写明用途、使用范围和期限，如：用于××大学营商环境研究课题，使用一年" {}
                        }
                        button type="submit" { "提交申请" }
                    }
                } @else {
                    @let back = esc(&format!("/opendata/dataset/{}", d.name));
                    p { "请先" a #apply-login href=(format!("/login?next={back}")) { "以市民身份登录" } "（没有账号可"
                        a #apply-register href=(format!("/register?next={back}")) { "注册" } "），再提出申请。" }
                }
            }
        }
        h2 { "数据预览" }
        @if preview.is_empty() {
            p.muted { @if may { "暂无数据。" } @else { "申请通过后可预览和下载数据。" } }
        } @else {
            p.muted { "前 " (preview.len()) " 行" }
            table #preview {
                thead { tr { @for (_, n) in &fields { th { (n) } } } }
                tbody { @for (_, row) in &preview { tr { @for (f, _) in &fields {
                    td { (row.get(f).and_then(|v| v.as_str()).unwrap_or("")) }
                } } } }
            }
        }
        h2 { "接口调用示例" }
        p { "本数据集可用 CKAN 接口和 DCAT-AP 元数据读取：" }
        pre.od-code { "curl '" (base) "/api/3/action/package_show?id=" (d.name) "'\n"
            "ckanapi action package_show id=" (d.name) " -r " (base) "\n"
            "curl '" (base) "/dataset/" (d.name) ".ttl'" }
        p { a href=(format!("/dataset/{}.ttl", d.name)) { "DCAT（Turtle）" } " · "
            a href=(format!("/dataset/{}.rdf", d.name)) { "DCAT（RDF/XML）" } " · "
            a href=(format!("/dataset/{}.jsonld", d.name)) { "DCAT（JSON-LD）" } " · "
            a href=(format!("/api/3/action/package_show?id={}", d.name)) { "CKAN 元数据" } }
    };
    Ok(portal(&ctx, &d.title, "/opendata/search", body))
}

async fn apply(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(name): Path<String>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let back_to = format!("/opendata/dataset/{name}");
    match svc(&ctx).apply(&p.actor, &name, f.get("purpose")).await {
        Ok(_) => Ok(back(&back_to, "申请已提交，请等待数据提供部门审核")),
        Err(e @ (Error::Validation(_) | Error::Conflict { .. } | Error::Forbidden(_))) => {
            Ok(back(&back_to, &e.detail()))
        }
        Err(e) => Err(e.into()),
    }
}

// ---- 申请：市民看自己的，提供部门审核 ----

async fn applications(State(ctx): State<AppCtx>, p: PageCtx, Query(m): Query<Msg>) -> PageResult {
    let s = svc(&ctx);
    let staff = p.actor.authorize::<Decide>().is_ok();
    let titles: std::collections::HashMap<String, (String, String)> = s
        .datasets()
        .await?
        .into_iter()
        .map(|d| (d.code.clone(), (d.title, d.name)))
        .collect();
    let title = |code: &str| {
        titles
            .get(code)
            .cloned()
            .unwrap_or_else(|| (format!("{code}（已撤回）"), code.to_ascii_lowercase()))
    };
    if staff {
        let list = s.applications_to_decide(&p.actor).await?;
        let body = html! {
            @if !m.msg.is_empty() { (notice(&m.msg)) }
            p.muted { "市民和企业对本部门有条件开放数据集的申请。同意后申请人即可下载；不同意须写明理由。" }
            table #applications {
                thead { tr { th { "申请时间" } th { "数据集" } th { "申请人" } th { "用途" } th { "状态" } th { "处理" } } }
                tbody { @for a in &list {
                    @let (t, n) = title(&a.entry_code);
                    tr {
                        td { (format_minute(a.created_at)) }
                        td { a href=(format!("/opendata/dataset/{n}")) { (t) } }
                        td { (kernel::mask::name(&a.applicant)) }
                        td { (a.purpose) }
                        td { (a.status.label()) @if !a.reason.is_empty() { "：" (a.reason) } }
                        td { @if a.status == ApplicationStatus::Pending {
                            form method="post" action=(format!("/opendata/applications/{}", a.id)) {
                                (csrf_input(&p))
                                input name="reason" aria-label="理由" placeholder="理由（不同意时必填）";
                                button type="submit" name="decision" value="approve" { "同意" }
                                " "
                                button.secondary type="submit" name="decision" value="refuse" { "不同意" }
                            }
                        } @else { (a.decided_by) " " (a.decided_at.map(format_minute).unwrap_or_default()) } }
                    }
                } }
            }
            @if list.is_empty() { p.muted { "暂无申请。" } }
        };
        return Ok(page(&p, "数据申请审核", body).into_response());
    }
    let list = s.my_applications(&p.actor).await?;
    let body = html! {
        (who_bar(&p.actor.display_name, &p.csrf))
        h1 { "我的数据申请" }
        @if !m.msg.is_empty() { (notice(&m.msg)) }
        table #applications {
            thead { tr { th { "申请时间" } th { "数据集" } th { "用途" } th { "状态" } } }
            tbody { @for a in &list {
                @let (t, n) = title(&a.entry_code);
                tr {
                    td { (format_minute(a.created_at)) }
                    td { a href=(format!("/opendata/dataset/{n}")) { (t) } }
                    td { (a.purpose) }
                    td { (a.status.label()) @if !a.reason.is_empty() { "：" (a.reason) } }
                }
            } }
        }
        @if list.is_empty() { p.muted { "您还没有提出申请。在" a href="/opendata/search" { "数据目录" } "中找到有条件开放的数据集即可申请。" } }
    };
    Ok(portal(&ctx, "我的申请", "/opendata/applications", body))
}

async fn decide(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let approve = f.get("decision") == "approve";
    match svc(&ctx)
        .decide(&p.actor, id, approve, f.get("reason"))
        .await
    {
        Ok(_) => Ok(back(
            "/opendata/applications",
            if approve {
                "已同意申请"
            } else {
                "已答复不同意"
            },
        )),
        Err(e @ (Error::Validation(_) | Error::IllegalTransition { .. } | Error::Forbidden(_))) => {
            Ok(back("/opendata/applications", &e.detail()))
        }
        Err(e) => Err(e.into()),
    }
}

// ---- 开放需求 ----

fn demand_view(errors: &[kernel::FieldError], f: &FormData, done: Option<i64>) -> Markup {
    let err = |n: &str| webcore::layout::field_error(errors, n);
    html! {
        h1 { "开放需求" }
        p { "没有找到需要的数据？告诉我们您希望开放哪些数据、用来做什么。需求会交给数据局，由数据局协调相关部门答复。" }
        @if let Some(id) = done { (notice(&format!("需求已提交（编号 {id}），数据局将尽快答复。"))) }
        @if !errors.is_empty() { (alert("请按提示修改后再提交")) }
        form method="post" action="/opendata/demand" {
            div.field { label for="title" { "需要的数据" } input #title name="title" value=(f.get("title")) maxlength="100" placeholder="如：公交线路与站点"; (err("title")) }
            div.field { label for="description" { "用途和说明" } textarea #description name="description" rows="5" maxlength="2000" { (f.get("description")) } (err("description")) }
            div.field { label for="contact" { "联系方式（选填）" } input #contact name="contact" value=(f.get("contact")) maxlength="100" placeholder="手机号或电子邮箱，便于答复"; (err("contact")) }
            button type="submit" { "提交需求" }
        }
    }
}

async fn demand_form(State(ctx): State<AppCtx>) -> PageResult {
    Ok(portal(
        &ctx,
        "开放需求",
        "/opendata/demand",
        demand_view(&[], &FormData::of(&[]), None),
    ))
}

async fn demand_submit(State(ctx): State<AppCtx>, f: FormData) -> PageResult {
    match svc(&ctx)
        .submit_demand(f.get("title"), f.get("description"), f.get("contact"))
        .await
    {
        Ok(d) => Ok(portal(
            &ctx,
            "开放需求",
            "/opendata/demand",
            demand_view(&[], &FormData::of(&[]), Some(d.id)),
        )),
        Err(Error::Validation(errs)) => Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            portal(
                &ctx,
                "开放需求",
                "/opendata/demand",
                demand_view(&errs, &f, None),
            ),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

async fn demands(State(ctx): State<AppCtx>, p: PageCtx, Query(m): Query<Msg>) -> PageResult {
    p.actor.authorize::<Demands>()?;
    let list = svc(&ctx).demands(&p.actor).await?;
    let body = html! {
        @if !m.msg.is_empty() { (notice(&m.msg)) }
        p.muted { "公众通过开放数据门户提出的数据开放需求，由数据局协调答复。" }
        table #demands {
            thead { tr { th { "提出时间" } th { "需要的数据" } th { "说明" } th { "联系方式" } th { "状态" } } }
            tbody { @for d in &list {
                tr {
                    td { (format_minute(d.created_at)) }
                    td { (d.title) }
                    td { (d.description) }
                    td { (d.contact) }
                    td { @if d.status == "answered" { "已答复：" (d.answer) } @else {
                        form method="post" action=(format!("/opendata/demands/{}", d.id)) {
                            (csrf_input(&p))
                            input name="answer" aria-label="答复" placeholder="答复内容" required;
                            button type="submit" { "答复" }
                        }
                    } }
                }
            } }
        }
        @if list.is_empty() { p.muted { "暂无需求。" } }
    };
    Ok(page(&p, "开放需求", body).into_response())
}

async fn answer(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    match svc(&ctx).answer_demand(&p.actor, id, f.get("answer")).await {
        Ok(()) => Ok(back("/opendata/demands", "已答复")),
        Err(e @ Error::Validation(_)) => Ok(back("/opendata/demands", &e.detail())),
        Err(e) => Err(e.into()),
    }
}

// ---- 接口、统计、协议、目录 ----

async fn api_page(State(ctx): State<AppCtx>, headers: HeaderMap) -> PageResult {
    let base = base_url(&ctx, &headers);
    let rows: [(&str, &str); 12] = [
        ("package_list", "全部开放数据集的名称"),
        ("package_show?id=…", "一个数据集的元数据和资源"),
        ("package_search?q=企业&rows=10&start=0", "检索：q 关键词（中文分词），fq 筛选（organization、groups、tags、res_format、license_id），rows 每页条数（默认 10），start 起始位置，sort 排序，facet.field 分面"),
        ("organization_list", "数据提供部门"),
        ("organization_show?id=…", "一个部门及其数据集"),
        ("group_list", "资源分类"),
        ("group_show?id=…", "一个分类及其数据集"),
        ("tag_list", "标签（信息项名称）"),
        ("resource_show?id=…", "一个资源（某种格式的数据表）"),
        ("license_list", "开放数据使用协议"),
        ("status_show", "站点信息"),
        ("help_show?name=…", "接口说明"),
    ];
    let body = html! {
        h1 { "开放接口" }
        p { "本门户按 CKAN 接口规范（Action API）和欧盟 DCAT-AP 3 元数据标准提供数据目录，常用的开放数据客户端和采集程序可直接使用。" }
        h2 { "CKAN 接口" }
        p { "地址：" code { (base) "/api/3/action/{接口名}" } "（也可用 " code { "/api/action/" } "），支持 GET 查询参数和 POST（JSON 或表单）。返回 " code { "{\"help\", \"success\", \"result\"}" } "；出错时 success 为 false，error 说明原因。" }
        table {
            thead { tr { th { "接口" } th { "说明" } } }
            tbody { @for (a, t) in rows { tr { td { code { (a) } } td { (t) } } } }
        }
        h2 { "DCAT-AP 元数据" }
        ul {
            li { code { (base) "/catalog.ttl" } "、" code { ".rdf" } "、" code { ".jsonld" } "：整个目录，每页 100 个数据集，参数 " code { "page" } "（页码）、" code { "modified_since" } "（如 2026-01-31，只列此后更新的数据集）" }
            li { code { (base) "/dataset/{名称}.ttl" } "、" code { ".rdf" } "、" code { ".jsonld" } "：一个数据集" }
        }
        h2 { "下载" }
        p { code { (base) "/opendata/download/{资源代码}.csv" } "（或 .xlsx、.json）。有条件开放的数据须登录并经申请同意。" }
        h2 { "示例" }
        pre.od-code { "pip install ckanapi\nckanapi action package_search q=企业 rows=5 -r " (base) "\nckanapi dump datasets --all -r " (base) }
    };
    Ok(portal(&ctx, "开放接口", "/opendata/api", body))
}

async fn figures(State(ctx): State<AppCtx>) -> PageResult {
    let f = svc(&ctx).figures().await?;
    let bars: Vec<(String, f64)> = f
        .by_department
        .iter()
        .map(|d| (d.name.clone(), d.open_rate))
        .collect();
    let app = |k: &str| f.applications.get(k).copied().unwrap_or(0);
    let body = html! {
        h1 { "开放数据统计" }
        div.kpis {
            div.card { div.muted { "开放数据集" } div.stat #fig-datasets { (f.datasets) } }
            div.card { div.muted { "开放率" } div.stat { (f.open_rate) "%" } }
            div.card { div.muted { "浏览" } div.stat { (f.views) } }
            div.card { div.muted { "下载" } div.stat { (f.downloads) } }
            div.card { div.muted { "接口调用" } div.stat { (f.api_calls) } }
            div.card { div.muted { "数据申请" } div.stat { (app("pending") + app("approved") + app("refused")) } }
            div.card { div.muted { "开放需求" } div.stat { (f.demands) } }
        }
        p { "开放率 = 开放的数据集（无条件开放 " (f.unconditional) " 个、有条件开放 " (f.conditional) " 个）÷ 已发布的目录（" (f.catalog_entries) " 个）。数据申请：待审核 " (app("pending")) "，已同意 " (app("approved")) "，未同意 " (app("refused")) "。" }
        @if !bars.is_empty() { (webcore::charts::bar_chart("open-rate", "各部门开放率（%）", &bars, 20)) }
        table #by-department {
            thead { tr { th { "部门" } th { "已发布目录" } th { "开放数据集" } th { "开放率" } th { "下载" } } }
            tbody { @for d in &f.by_department { tr { td { (d.name) } td { (d.published) } td { (d.open) } td { (d.open_rate) "%" } td { (d.downloads) } } } }
        }
        p.muted { "以上数据也可从 " a href="/api/v1/opendata/figures" { "统计接口（JSON）" } " 获取。" }
    };
    Ok(portal(&ctx, "开放数据统计", "/opendata/figures", body))
}

async fn licenses(State(ctx): State<AppCtx>) -> PageResult {
    let body = html! {
        h1 { "开放数据使用协议" }
        @for l in LICENSES { section.card id=(l.id) { h2 { (l.title) } p { (l.summary) } } }
    };
    Ok(portal(&ctx, "使用协议", "/opendata", body))
}

async fn catalog_xlsx(State(ctx): State<AppCtx>, headers: HeaderMap) -> PageResult {
    let base = base_url(&ctx, &headers);
    let all = svc(&ctx).datasets().await?;
    let headers: Vec<String> = [
        "资源代码",
        "数据集名称",
        "摘要",
        "提供部门",
        "资源分类",
        "开放属性",
        "开放条件",
        "更新周期",
        "信息项",
        "最近更新",
        "地址",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows: Vec<Vec<tabular::Cell>> = all
        .iter()
        .map(|d| {
            vec![
                d.code.clone().into(),
                d.title.clone().into(),
                d.notes.clone().into(),
                d.org_title.clone().into(),
                d.category.label().into(),
                d.open_kind.label().into(),
                d.open_condition.clone().into(),
                d.update_cycle.label().into(),
                d.tags.join("、").into(),
                day(d.modified).into(),
                format!("{base}/opendata/dataset/{}", d.name).into(),
            ]
        })
        .collect();
    let bytes = tabular::write_xlsx(&[("开放目录", &headers, &rows)])
        .map_err(|e| Error::internal(format!("xlsx: {e}")))?;
    Ok(webcore::download::attachment(
        bytes,
        webcore::download::XLSX,
        "open-catalog.xlsx",
        "开放数据目录.xlsx",
    ))
}
