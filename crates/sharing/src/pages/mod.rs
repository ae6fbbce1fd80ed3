//! Server-rendered pages (zh-CN, forms without JavaScript): 资源目录 (browse, search, an
//! entry with its 信息项 and resources), 编目与审核, 申请用数 (form, my requests and their
//! steps), 审批 (the queue of one's level), 授权 (grants, renew/revoke, systems and tokens),
//! 调用日志. Pages call only the service; a form's result comes back as `?msg=` after a
//! redirect, its errors on the page.

use crate::catalog::domain::*;
use crate::grants::domain::{GrantChange, GrantStatus, NewRequest, RequestStatus, StepStatus};
use crate::http::svc;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use kernel::clock::format_minute;
use kernel::{Error, FieldError};
use maud::{html, Markup};
use serde::Deserialize;
use webcore::layout::{alert, csrf_input, error_summary, notice, page};
use webcore::{AppCtx, FormData, PageCtx, PageError, Path, Query};

mod backflow;
mod duties;
mod figures;
mod objections;
mod transfer;

type PageResult = Result<Response, PageError>;

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/sharing/catalog", get(catalog))
        .route("/sharing/catalog/{id}", get(entry_page))
        .route("/sharing/cataloguing", get(cataloguing).post(create_entry))
        .route(
            "/sharing/catalog/{id}/versions/{v}/submit",
            post(submit_entry),
        )
        .route(
            "/sharing/catalog/{id}/versions/{v}/review",
            post(review_entry),
        )
        .route("/sharing/requests", get(requests).post(send_request))
        .route("/sharing/requests/new", get(request_form))
        .route("/sharing/approvals", get(approvals))
        .route("/sharing/approvals/{id}", post(decide))
        .route("/sharing/grants", get(grants))
        .route("/sharing/grants/{id}", post(change_grant))
        .route("/sharing/systems", post(register_system))
        .route("/sharing/calls", get(calls))
        .merge(objections::routes())
        .merge(figures::routes())
        .merge(backflow::routes())
        .merge(duties::routes())
        .merge(transfer::routes())
}

#[derive(Debug, Deserialize, Default)]
struct Msg {
    #[serde(default)]
    msg: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    resource: String,
}

fn day(ms: i64) -> String {
    kernel::clock::to_china(ms).format("%Y-%m-%d").to_string()
}

fn esc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn back(to: &str, msg: &str) -> Response {
    Redirect::to(&format!("{to}?msg={}", esc(msg))).into_response()
}

fn flash(m: &Msg) -> Markup {
    html! { @if !m.msg.is_empty() { (notice(&m.msg)) } }
}

/// A refused form's errors, one per field (or one for the whole form).
fn errors_of(e: &Error) -> Vec<FieldError> {
    if e.field_errors().is_empty() {
        vec![FieldError::new(
            e.field_name().unwrap_or("form"),
            e.code(),
            e.detail(),
        )]
    } else {
        e.field_errors().to_vec()
    }
}

/// Errors a person can fix are shown on the page; the rest are the error page.
fn shown(e: Error) -> Result<Vec<FieldError>, PageError> {
    match e {
        Error::Validation(_)
        | Error::IllegalTransition { .. }
        | Error::Conflict { .. }
        | Error::Forbidden(_) => Ok(errors_of(&e)),
        e => Err(e.into()),
    }
}

// ---- 资源目录 ----

async fn catalog(State(ctx): State<AppCtx>, p: PageCtx, Query(m): Query<Msg>) -> PageResult {
    let s = svc(&ctx);
    let q = m.q.trim();
    let list = if q.is_empty() {
        s.published_entries().await?
    } else {
        s.search_entries(q).await?
    };
    let body = html! {
        form #search method="get" action="/sharing/catalog" {
            label for="q" { "搜索目录" }
            input #q name="q" value=(q) placeholder="如：人口、营业执照、身份证号";
            button type="submit" { "搜索" }
        }
        p { "共 " (list.len()) " 条已发布目录。" }
        table #entries {
            thead { tr { th { "资源代码" } th { "名称" } th { "提供方" } th { "分类" } th { "共享属性" } th { "开放属性" } th { "更新周期" } th { "发布日期" } } }
            tbody { @for l in &list {
                @let c = &l.version.content;
                tr {
                    td { code { (l.entry.code) } }
                    td { a href=(format!("/sharing/catalog/{}", l.entry.id)) { (c.name) } }
                    td { (l.provider_name) }
                    td { (category_of(&l.entry.class_code)) }
                    td { (c.share_kind.label()) }
                    td { (c.open_kind.label()) }
                    td { (c.update_cycle.label()) }
                    td { (l.entry.published_at.map(day).unwrap_or_default()) }
                }
            } }
        }
    };
    Ok(page(&p, "资源目录", body).into_response())
}

fn category_of(class_code: &str) -> &'static str {
    match class_code.chars().next() {
        Some('A') => Category::Basic.label(),
        Some('B') => Category::Theme.label(),
        _ => Category::Department.label(),
    }
}

async fn entry_page(State(ctx): State<AppCtx>, p: PageCtx, Path(id): Path<i64>) -> PageResult {
    let s = svc(&ctx);
    let e = s.entry(id).await?;
    let v = e.published().unwrap_or_else(|| e.latest());
    let c = &v.content;
    let resources = s.resources(Some(id)).await?;
    let body = html! {
        // Two columns: the label beside its value, as on a printed catalog card.
        dl.meta #meta style="display:grid;grid-template-columns:7em 1fr;gap:.4em 1em" {
            dt { "资源代码" } dd { code { (e.entry.code) } }
            dt { "提供方" } dd { (e.provider_name) }
            dt { "分类" } dd { (category_of(&e.entry.class_code)) " · " (e.entry.class_code) }
            dt { "摘要" } dd { (c.summary) }
            dt { "格式" } dd { (c.format) }
            dt { "共享属性" } dd { (c.share_kind.label()) @if !c.share_condition.is_empty() { "（" (c.share_condition) "）" } }
            dt { "共享方式" } dd { (c.share_mode) }
            dt { "开放属性" } dd { (c.open_kind.label()) @if !c.open_condition.is_empty() { "（" (c.open_condition) "）" } }
            dt { "更新周期" } dd { (c.update_cycle.label()) }
            dt { "版本" } dd { "第 " (v.version) " 版 · " (v.status.label()) }
            dt { "发布日期" } dd { (e.entry.published_at.map(day).unwrap_or_else(|| "未发布".into())) }
        }
        h2 { "信息项" }
        @let basic = e.entry.category() == Category::Basic;
        @if basic { p.muted { "一数一源：每个信息项由其来源部门负责，对该项数据的异议由来源部门核实。" } }
        table #items {
            thead { tr { th { "名称" } th { "英文字段名" } th { "数据类型" } th { "长度" } th { "主键" } th { "敏感" } th { "涉密" } th { "数据元/代码集" } @if basic { th { "来源部门" } } } }
            tbody { @for it in &c.items {
                tr {
                    td { (it.name) } td { code { (it.field) } } td { (it.data_type.label()) }
                    td { @if it.length > 0 { (it.length) } }
                    td { @if it.primary_key { "是" } } td { @if it.sensitive { "是" } } td { @if it.secret { "是" } }
                    td { (it.element) }
                    @if basic { td.source { (e.item_sources.iter().find(|x| x.field == it.field).map(|x| x.source_dept_name.as_str()).unwrap_or(e.provider_name.as_str())) } }
                }
            } }
        }
        h2 { "挂接资源" }
        @if resources.is_empty() { p { "尚未挂接资源。" } }
        @else {
            table #resources {
                thead { tr { th { "资源代码" } th { "名称" } th { "记录数" } th { "最近更新" } th { "更新状态" } th {} } }
                tbody { @for r in &resources {
                    tr {
                        td { code { (r.resource.code) } }
                        td { (r.resource.name) }
                        td { (r.resource.row_count) }
                        td { (r.resource.last_update_at.map(format_minute).unwrap_or_else(|| "从未".into())) }
                        td { @if r.overdue { strong { "已逾期" } } @else { "按期" } }
                        td { @if c.share_kind != ShareKind::NotShared && p.actor.dept_id != Some(r.provider_dept_id) {
                            a href=(format!("/sharing/requests/new?resource={}", esc(&r.resource.code))) { "申请使用" }
                        } }
                    }
                } }
            }
        }
    };
    Ok(page(&p, &c.name, body).into_response())
}

// ---- 编目与审核 ----

/// One 信息项 per line: `名称,英文字段名,类型[,长度][,标记…]`; the type by code or label
/// (char/字符型, int, decimal, date, datetime, bool); marks 主键, 敏感, 涉密, 必填, and a kind
/// (身份证号, 统一社会信用代码, 手机号, 姓名, 地址).
fn parse_items(text: &str) -> Result<Vec<Item>, Error> {
    let mut out = Vec::new();
    for (n, line) in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let parts: Vec<&str> = line.split([',', '，']).map(str::trim).collect();
        let bad = |m: &str| {
            Error::field(
                "items",
                "invalid_item",
                format!("第 {} 行信息项：{m}", n + 1),
            )
        };
        if parts.len() < 3 {
            return Err(bad("至少写明名称、英文字段名和类型"));
        }
        let data_type = DataType::parse(parts[2])
            .ok_or_else(|| bad("类型须为 char/int/decimal/date/datetime/bool"))?;
        let mut it = Item {
            name: parts[0].into(),
            field: parts[1].into(),
            data_type,
            length: 0,
            scale: 0,
            sensitive: false,
            secret: false,
            primary_key: false,
            element: String::new(),
            semantic: Semantic::Plain,
            required: false,
            source_dept_id: None,
        };
        for x in &parts[3..] {
            match *x {
                "主键" => it.primary_key = true,
                "敏感" => it.sensitive = true,
                "涉密" => it.secret = true,
                "必填" => it.required = true,
                "" => {}
                other => {
                    if let Ok(n) = other.parse::<u32>() {
                        it.length = n;
                    } else if let Some(s) = Semantic::parse(other) {
                        it.semantic = s;
                    } else {
                        return Err(bad(&format!("不认识“{other}”")));
                    }
                }
            }
        }
        out.push(it);
    }
    Ok(out)
}

fn entry_form(p: &PageCtx, f: &FormData, errors: &[FieldError]) -> Markup {
    let sel = |name: &str, options: Vec<(&'static str, &'static str)>| {
        let cur = f.get(name).to_owned();
        html! {
            select id=(name) name=(name) {
                @for (code, label) in options { option value=(code) selected[cur == code] { (label) } }
            }
        }
    };
    html! {
        (error_summary(errors))
        form #new-entry method="post" action="/sharing/cataloguing" {
            (csrf_input(p))
            div.field { label for="category" { "资源分类" } (sel("category", Category::ALL.iter().map(|c| (c.code(), c.label())).collect())) }
            div.field { label for="class" { "类/项/目/细目代码（用“.”分隔）" } input #class name="class" value=(f.get("class")) placeholder="1.01.001"; }
            div.field { label for="name" { "信息资源名称" } input #name name="name" value=(f.get("name")); }
            div.field { label for="summary" { "摘要" } textarea #summary name="summary" rows="3" { (f.get("summary")) } }
            div.field { label for="format" { "格式" } input #format name="format" value=(f.opt("format").unwrap_or_else(|| "数据库".into())); }
            div.field {
                label for="items" { "信息项（每行一项：名称,英文字段名,类型,长度,标记…；标记可为 主键、敏感、涉密、必填、身份证号、手机号、姓名、地址、统一社会信用代码）" }
                textarea #items name="items" rows="6" placeholder="姓名,name,char,30,敏感,姓名\n身份证号,id_no,char,18,主键,敏感,身份证号" { (f.get("items")) }
            }
            div.field { label for="share_kind" { "共享属性" } (sel("share_kind", ShareKind::ALL.iter().map(|c| (c.code(), c.label())).collect())) }
            div.field { label for="share_condition" { "共享条件或不予共享依据" } input #share_condition name="share_condition" value=(f.get("share_condition")); }
            div.field { label for="share_mode" { "共享方式" } input #share_mode name="share_mode" value=(f.opt("share_mode").unwrap_or_else(|| "接口".into())); }
            div.field { label for="open_kind" { "开放属性" } (sel("open_kind", OpenKind::ALL.iter().map(|c| (c.code(), c.label())).collect())) }
            div.field { label for="open_condition" { "开放条件" } input #open_condition name="open_condition" value=(f.get("open_condition")); }
            div.field { label for="update_cycle" { "更新周期" } (sel("update_cycle", UpdateCycle::ALL.iter().map(|c| (c.code(), c.label())).collect())) }
            div.actions { button type="submit" { "保存草稿" } }
        }
    }
}

async fn cataloguing_page(ctx: &AppCtx, p: &PageCtx, m: &Msg, form: Markup) -> PageResult {
    let s = svc(ctx);
    let mine = match p.actor.dept_id {
        Some(d) => s.entries(Some(d), None).await?,
        None => Vec::new(),
    };
    let bureau = s.is_bureau(&p.actor).await?;
    let waiting = if bureau {
        s.entries(None, Some(VersionStatus::Submitted)).await?
    } else {
        Vec::new()
    };
    let body = html! {
        (flash(m))
        h2 { "本部门目录" }
        table #mine {
            thead { tr { th { "资源代码" } th { "名称" } th { "版本" } th { "状态" } th { "说明" } th {} } }
            tbody { @for l in &mine {
                tr {
                    td { code { (l.entry.code) } }
                    td { a href=(format!("/sharing/catalog/{}", l.entry.id)) { (l.version.content.name) } }
                    td { (l.version.version) }
                    td.status { (l.version.status.label()) }
                    td { (l.version.return_reason) }
                    td { @if matches!(l.version.status, VersionStatus::Draft | VersionStatus::Returned) {
                        form method="post" action=(format!("/sharing/catalog/{}/versions/{}/submit", l.entry.id, l.version.version)) {
                            (csrf_input(p)) button type="submit" { "提交审核" }
                        }
                    } }
                }
            } }
        }
        @if bureau {
            h2 { "待审核" }
            @if waiting.is_empty() { p { "没有待审核的目录。" } }
            table #review {
                thead { tr { th { "资源代码" } th { "名称" } th { "提供方" } th { "版本" } th { "审核" } } }
                tbody { @for l in &waiting {
                    tr {
                        td { code { (l.entry.code) } }
                        td { a href=(format!("/sharing/catalog/{}", l.entry.id)) { (l.version.content.name) } }
                        td { (l.provider_name) }
                        td { (l.version.version) }
                        td {
                            form method="post" action=(format!("/sharing/catalog/{}/versions/{}/review", l.entry.id, l.version.version)) {
                                (csrf_input(p))
                                input name="reason" placeholder="退回理由";
                                button type="submit" name="decision" value="publish" { "发布" }
                                " "
                                button type="submit" name="decision" value="return" { "退回" }
                            }
                        }
                    }
                } }
            }
        }
        h2 { "新建目录" }
        p #workbook-links {
            "也可以用 .xlsx 表格批量编目："
            a href="/sharing/catalog/import" { "导入目录（.xlsx）" }
            " · " a href="/sharing/catalog.xlsx?template=1" { "下载空白模板" }
            " · " a href="/sharing/catalog.xlsx" { "下载现有目录" }
        }
        (form)
    };
    Ok(page(p, "编目与审核", body).into_response())
}

async fn cataloguing(State(ctx): State<AppCtx>, p: PageCtx, Query(m): Query<Msg>) -> PageResult {
    let form = entry_form(&p, &FormData(Vec::new()), &[]);
    cataloguing_page(&ctx, &p, &m, form).await
}

async fn create_entry(State(ctx): State<AppCtx>, p: PageCtx, f: FormData) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let made = async {
        let parse = |name: &str| f.get(name).to_owned();
        let content = EntryContent {
            name: parse("name"),
            summary: parse("summary"),
            format: parse("format"),
            items: parse_items(f.get("items"))?,
            share_kind: ShareKind::parse(f.get("share_kind")).unwrap_or(ShareKind::Conditional),
            share_condition: parse("share_condition"),
            share_mode: parse("share_mode"),
            open_kind: OpenKind::parse(f.get("open_kind")).unwrap_or(OpenKind::NotOpen),
            open_condition: parse("open_condition"),
            update_cycle: UpdateCycle::parse(f.get("update_cycle"))
                .unwrap_or(UpdateCycle::Irregular),
            related: Vec::new(),
        };
        let input = NewEntry {
            category: Category::parse(f.get("category")).unwrap_or(Category::Department),
            class: f
                .get("class")
                .split(['.', '/', ' '])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            provider_dept_id: None,
            content,
        };
        svc(&ctx).create_entry(&p.actor, input).await
    }
    .await;
    match made {
        Ok(e) => Ok(back(
            "/sharing/cataloguing",
            &format!("目录 {} 已保存为草稿", e.entry.code),
        )),
        Err(e) => {
            let mut errors = shown(e)?;
            // Field names of the JSON API, as the form calls them.
            for x in &mut errors {
                x.field = x.field.trim_start_matches("content.").to_owned();
            }
            let form = entry_form(&p, &f, &errors);
            cataloguing_page(&ctx, &p, &Msg::default(), form).await
        }
    }
}

async fn submit_entry(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path((id, v)): Path<(i64, i64)>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let msg = match svc(&ctx).submit_entry(&p.actor, id, v).await {
        Ok(e) => format!("目录 {} 已提交审核", e.entry.code),
        Err(e) => shown(e)?[0].detail.clone(),
    };
    Ok(back("/sharing/cataloguing", &msg))
}

async fn review_entry(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path((id, v)): Path<(i64, i64)>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let publish = f.get("decision") == "publish";
    let msg = match svc(&ctx)
        .review_entry(&p.actor, id, v, publish, f.get("reason"))
        .await
    {
        Ok(e) => format!(
            "目录 {} {}",
            e.entry.code,
            if publish { "已发布" } else { "已退回" }
        ),
        Err(e) => shown(e)?[0].detail.clone(),
    };
    Ok(back("/sharing/cataloguing", &msg))
}

// ---- 申请用数 ----

async fn requests(State(ctx): State<AppCtx>, p: PageCtx, Query(m): Query<Msg>) -> PageResult {
    let list = svc(&ctx).requests(&p.actor).await?;
    let body = html! {
        (flash(&m))
        p { "在" a href="/sharing/catalog" { "资源目录" } "中打开资源，点“申请使用”填写申请。" }
        table #requests {
            thead { tr { th { "编号" } th { "资源" } th { "使用系统" } th { "用途" } th { "期限" } th { "状态" } th { "审批环节" } } }
            tbody { @for r in &list {
                tr {
                    td { (r.request.id) }
                    td { code { (r.resource_code) } " " (r.resource_name) }
                    td { (r.request.system) }
                    td { (r.request.purpose) }
                    td { (day(r.request.period_from)) " 至 " (day(r.request.period_until)) }
                    td.status { (r.request.status.label()) @if !r.request.reason.is_empty() { "：" (r.request.reason) } }
                    td { ol.steps { @for s in &r.steps {
                        li { (s.level.label()) "：" (s.status.label())
                            @if s.status == StepStatus::Pending { "（" (format_minute(s.due_at)) " 前）" }
                            @if !s.reason.is_empty() { "，" (s.reason) } }
                    } } }
                }
            } }
        }
    };
    Ok(page(&p, "申请用数", body).into_response())
}

fn request_form_view(
    p: &PageCtx,
    r: &crate::mount::service::ResourceView,
    f: &FormData,
    errors: &[FieldError],
) -> Markup {
    let chosen = f.all("fields");
    html! {
        (error_summary(errors))
        p { "资源：" code { (r.resource.code) } " " (r.resource.name) "（" (r.provider_name) "，" (r.share_kind.label()) "）" }
        form #request method="post" action="/sharing/requests" {
            (csrf_input(p))
            input type="hidden" name="resource" value=(r.resource.code);
            fieldset #fields {
                legend { "所需信息项" }
                @for it in r.resource.fields.iter().filter(|i| !i.secret) {
                    label { input type="checkbox" name="fields" value=(it.field) checked[chosen.is_empty() || chosen.contains(&it.field.as_str())]; " " (it.name) }
                }
            }
            div.field { label for="purpose" { "用途" } input #purpose name="purpose" value=(f.get("purpose")); }
            div.field { label for="legal_basis" { "依据" } input #legal_basis name="legal_basis" value=(f.get("legal_basis")); }
            div.field { label for="system" { "使用系统" } input #system name="system" value=(f.get("system")); }
            div.field { label for="period_from" { "使用期限自" } input #period_from type="date" name="period_from" value=(f.get("period_from")); }
            div.field { label for="period_until" { "至" } input #period_until type="date" name="period_until" value=(f.get("period_until")); }
            div.actions { button type="submit" { "提交申请" } }
        }
    }
}

async fn request_form(State(ctx): State<AppCtx>, p: PageCtx, Query(m): Query<Msg>) -> PageResult {
    let r = svc(&ctx).resource(&m.resource).await?;
    let body = request_form_view(&p, &r, &FormData(Vec::new()), &[]);
    Ok(page(&p, "申请用数", body).into_response())
}

async fn send_request(State(ctx): State<AppCtx>, p: PageCtx, f: FormData) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let s = svc(&ctx);
    let code = f.get("resource").to_owned();
    let input = NewRequest {
        resources: vec![code.clone()],
        purpose: f.get("purpose").into(),
        legal_basis: f.get("legal_basis").into(),
        fields: vec![f.all("fields").into_iter().map(str::to_owned).collect()],
        system: f.get("system").into(),
        period_from: f.get("period_from").into(),
        period_until: f.get("period_until").into(),
    };
    match s.submit_request(&p.actor, input).await {
        Ok(rs) => Ok(back(
            "/sharing/requests",
            &format!(
                "申请 {} 已提交：{}",
                rs[0].request.id,
                rs[0].request.status.label()
            ),
        )),
        Err(e) => {
            let errors = shown(e)?;
            let r = s.resource(&code).await?;
            Ok(page(&p, "申请用数", request_form_view(&p, &r, &f, &errors)).into_response())
        }
    }
}

// ---- 审批 ----

async fn approvals(State(ctx): State<AppCtx>, p: PageCtx, Query(m): Query<Msg>) -> PageResult {
    let list = svc(&ctx).approval_queue(&p.actor).await?;
    let now = ctx.db.now();
    let body = html! {
        (flash(&m))
        @if list.is_empty() { p { "没有待您审批的申请。" } }
        table #queue {
            thead { tr { th { "编号" } th { "资源" } th { "信息项" } th { "用途与依据" } th { "使用系统" } th { "环节与时限" } th { "审批" } } }
            tbody { @for r in &list {
                @let step = r.current();
                tr {
                    td { (r.request.id) }
                    td { code { (r.resource_code) } " " (r.resource_name) }
                    td { (r.request.fields.join("、")) }
                    td { (r.request.purpose) "；" (r.request.legal_basis) }
                    td { (r.request.system) }
                    td { @if let Some(s) = step {
                        (s.level.label()) "，" (format_minute(s.due_at)) " 前"
                        @if s.due_at < now { strong { "（已超时）" } }
                    } }
                    td {
                        form method="post" action=(format!("/sharing/approvals/{}", r.request.id)) {
                            (csrf_input(&p))
                            input name="reason" placeholder="意见（不同意时必填）";
                            button type="submit" name="decision" value="approve" { "同意" }
                            " "
                            button type="submit" name="decision" value="refuse" { "不同意" }
                        }
                    }
                }
            } }
        }
    };
    Ok(page(&p, "审批", body).into_response())
}

async fn decide(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let approve = f.get("decision") == "approve";
    let msg = match svc(&ctx)
        .decide(&p.actor, id, approve, f.get("reason"), None)
        .await
    {
        Ok(v) => match v.request.status {
            RequestStatus::Approved => format!(
                "申请 {id} 已批准，授权 {} 已生效",
                v.grant_id.unwrap_or_default()
            ),
            RequestStatus::Refused => format!("申请 {id} 未通过"),
            RequestStatus::Pending => format!(
                "申请 {id} 已同意，转{}",
                v.current().map_or("", |s| s.level.label())
            ),
        },
        Err(e) => shown(e)?[0].detail.clone(),
    };
    Ok(back("/sharing/approvals", &msg))
}

// ---- 授权 ----

async fn grants_page(ctx: &AppCtx, p: &PageCtx, m: &Msg, extra: Markup) -> PageResult {
    let s = svc(ctx);
    let list = s.grants(&p.actor).await?;
    let systems = if p.actor.dept_id.is_some() {
        s.systems(&p.actor).await?
    } else {
        Vec::new()
    };
    let now = ctx.db.now();
    let mut codes = std::collections::HashMap::new();
    for g in &list {
        if let std::collections::hash_map::Entry::Vacant(v) = codes.entry(g.resource_id) {
            v.insert(s.resource_by_id(g.resource_id).await?.resource.code);
        }
    }
    let body = html! {
        (flash(m))
        (extra)
        table #grants {
            thead { tr { th { "授权" } th { "资源" } th { "使用部门/系统" } th { "信息项与脱敏" } th { "行过滤" } th { "频率" } th { "到期" } th { "状态" } th { "变更" } } }
            tbody { @for g in &list {
                tr {
                    td { (g.id) }
                    td { code { (codes.get(&g.resource_id).cloned().unwrap_or_default()) } }
                    td { (g.consumer_dept_id) " / " (g.system) }
                    td { (g.fields.iter().map(|f| format!("{}({})", f.field, f.mask.label())).collect::<Vec<_>>().join("、")) }
                    td { (g.row_filter.iter().map(|c| format!("{} {} {}", c.field, c.op.label(), c.values.join("|"))).collect::<Vec<_>>().join("；")) }
                    td { (g.rate_per_minute) " 次/分" }
                    td { (day(g.expires_at)) " （批准至 " (day(g.approved_until)) "）" }
                    td.status { @if g.status == GrantStatus::Revoked { "已撤销：" (g.revoke_reason) } @else if g.expires_at <= now { "已到期" } @else { "有效" } }
                    td { @if g.status == GrantStatus::Active && p.actor.scope.can_see(&[g.provider_dept_id], None) {
                        form method="post" action=(format!("/sharing/grants/{}", g.id)) {
                            (csrf_input(p))
                            input type="hidden" name="action" value="renew";
                            input type="date" name="expires_on" aria-label="续期至";
                            button type="submit" { "续期" }
                        }
                        form method="post" action=(format!("/sharing/grants/{}", g.id)) {
                            (csrf_input(p))
                            input type="hidden" name="action" value="revoke";
                            input name="reason" placeholder="撤销理由" aria-label="撤销理由";
                            button type="submit" { "撤销" }
                        }
                    } }
                }
            } }
        }
        @if p.actor.dept_id.is_some() {
            h2 { "本部门的使用系统" }
            ul #systems { @for (_, name, at) in &systems { li { (name) "（" (day(*at)) " 登记）" } } }
            form #register method="post" action="/sharing/systems" {
                (csrf_input(p))
                label for="system-name" { "登记使用系统并领取网关令牌" }
                input #system-name name="name" placeholder="如：民政救助系统";
                button type="submit" { "登记" }
            }
        }
    };
    Ok(page(p, "授权", body).into_response())
}

async fn grants(State(ctx): State<AppCtx>, p: PageCtx, Query(m): Query<Msg>) -> PageResult {
    grants_page(&ctx, &p, &m, html! {}).await
}

async fn change_grant(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let change = match f.get("action") {
        "renew" => GrantChange::Renew {
            expires_on: f.get("expires_on").into(),
        },
        _ => GrantChange::Revoke {
            reason: f.get("reason").into(),
        },
    };
    let msg = match svc(&ctx).change_grant(&p.actor, id, change).await {
        Ok(g) => format!(
            "授权 {} 已{}",
            g.id,
            if g.status == GrantStatus::Revoked {
                "撤销"
            } else {
                "续期"
            }
        ),
        Err(e) => shown(e)?[0].detail.clone(),
    };
    Ok(back("/sharing/grants", &msg))
}

async fn register_system(State(ctx): State<AppCtx>, p: PageCtx, f: FormData) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    match svc(&ctx).register_system(&p.actor, f.get("name")).await {
        Ok(t) => {
            let extra = html! {
                section #token {
                    (notice(&format!("已为“{}”签发网关令牌。令牌只显示这一次，请交给该系统的管理员保存。", t.system)))
                    pre { code #gateway-token { (t.token) } }
                }
            };
            grants_page(&ctx, &p, &Msg::default(), extra).await
        }
        Err(e) => {
            let errors = shown(e)?;
            grants_page(&ctx, &p, &Msg::default(), alert(&errors[0].detail)).await
        }
    }
}

// ---- 调用日志 ----

/// A refused call's reason in words (the log keeps the stable code).
fn refusal_label(code: &str) -> &'static str {
    match code {
        "grant_expired" => "拒绝：授权已过期",
        "grant_revoked" => "拒绝：授权已撤销",
        "rate_limited" => "拒绝：超出调用频率",
        "no_grant" => "拒绝：无授权",
        "unbound_token" => "拒绝：令牌未绑定系统",
        _ => "拒绝",
    }
}

async fn calls(State(ctx): State<AppCtx>, p: PageCtx) -> PageResult {
    let s = svc(&ctx);
    let list = s.calls(&p.actor, None, 500).await?;
    let names = s.dept_names().await?;
    let body = html! {
        p { "本部门资源被调用的记录和本部门的调用记录，最新的在前；每条记录以 SM3 链式哈希防篡改。" }
        table #calls {
            thead { tr { th { "序号" } th { "时间" } th { "调用方" } th { "授权" } th { "资源" } th { "信息项" } th { "行数" } th { "结果" } th { "哈希" } } }
            tbody { @for c in &list {
                tr {
                    td { (c.seq) }
                    td { (format_minute(c.at)) }
                    td {
                        (c.consumer_dept_id.and_then(|d| names.get(&d)).map_or("", String::as_str))
                        " · " (c.system)
                    }
                    td { (c.grant_id.map(|g| g.to_string()).unwrap_or_default()) }
                    td { code { (c.resource_code) } }
                    td { (c.fields.join("、")) }
                    td { (c.row_count) }
                    td { @if c.result == "ok" { "成功" } @else { strong { (refusal_label(&c.result)) } } }
                    td { code title=(c.hash) { (&c.hash[..12.min(c.hash.len())]) } }
                }
            } }
        }
    };
    Ok(page(&p, "调用日志", body).into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn items_are_read_from_lines() {
        let it = super::parse_items(
            "姓名,name,char,30,敏感,姓名\n\n身份证号，id_no，字符型，18，主键，身份证号",
        )
        .unwrap();
        assert_eq!(it.len(), 2);
        assert_eq!(it[0].length, 30);
        assert!(it[0].sensitive);
        assert_eq!(it[1].semantic, super::Semantic::IdCard);
        assert!(it[1].primary_key);
        assert!(super::parse_items("x,y").is_err());
        assert!(super::parse_items("x,y,char,多余").is_err());
    }
}
