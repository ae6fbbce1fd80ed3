//! Pages for the issuing departments (forms without JavaScript): 证照类型 (list, new, a type
//! with its versions, edit a draft, publish, revise), 签发, a license (face, status, 变更 and
//! 暂停/恢复/吊销/注销/挂失 with a reason), 存量导入, 证照查询 (paged) and 统计 with its .xlsx.

use super::{day, until, value_text, PageResult};
use crate::figures::service::FigureRow;
use crate::http::svc;
use crate::issue::domain::{transition, License, LicenseStatus, StatusAction};
use crate::issue::service::{Amendment, Holder, NewLicense};
use crate::service::{ChangeStatus, Issue, ManageTypes, ReadLicenses};
use crate::types::domain::{FieldDef, FieldKind, HolderKind, NewType, TypeContent};
use crate::types::service::TypeView;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use kernel::auth::Permission;
use kernel::error::{Error, FieldError};
use kernel::page::PageQuery;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{Map, Value};
use webcore::layout::{
    alert, csrf_input, error_summary, field_error, notice, page, pager, text_field,
};
use webcore::{AppCtx, FormData, PageCtx, PageError, Path, Query};

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/licenses/types", get(types))
        .route(
            "/licenses/types/new",
            get(new_type_form).post(new_type_post),
        )
        .route("/licenses/types/{id}", get(type_page).post(type_edit))
        .route("/licenses/types/{id}/publish", post(type_publish))
        .route("/licenses/types/{id}/revise", post(type_revise))
        .route("/licenses/issue", get(issue_form).post(issue_post))
        .route("/licenses/import", get(import_form).post(import_post))
        .route("/licenses/search", get(search))
        .route("/licenses/figures", get(figures))
        .route("/licenses/figures.xlsx", get(figures_xlsx))
        .route("/licenses/figures.docx", get(figures_docx))
        .route("/licenses/{id}", get(license_page))
        .route("/licenses/{id}/status", post(status_post))
        .route("/licenses/{id}/amend", post(amend_post))
}

fn field_errors(e: &Error) -> Vec<FieldError> {
    match e {
        Error::Validation(f) => f.clone(),
        other => vec![FieldError::new("form", "refused", other.detail())],
    }
}

/// Errors a form shows beside its fields; anything else is the error page's.
fn form_error(e: Error) -> Result<Vec<FieldError>, PageError> {
    match e {
        Error::Validation(_) | Error::IllegalTransition { .. } | Error::Conflict { .. } => {
            Ok(field_errors(&e))
        }
        other => Err(other.into()),
    }
}

fn unprocessable(p: &PageCtx, title: &str, body: Markup) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, page(p, title, body)).into_response()
}

// ---- 证照类型 ----

async fn types(State(ctx): State<AppCtx>, p: PageCtx) -> PageResult {
    p.actor.require_any_role(ReadLicenses::ROLES)?;
    let list = svc(&ctx).license_types().await?;
    let manage = p.actor.has_any_role(ManageTypes::ROLES);
    let body = html! {
        @if manage { p.actions { a.button href="/licenses/types/new" { "新建证照类型" } } }
        @if list.is_empty() { p { "还没有证照类型。" } }
        @else {
            table #types {
                thead { tr { th { "类型代码" } th { "名称" } th { "持证主体" } th { "现行版本" } } }
                tbody { @for t in &list {
                    tr {
                        td { code { (t.code) } }
                        td { a href=(format!("/licenses/types/{}", t.id)) { (t.name) } }
                        td { (t.holder_kind.label()) }
                        td { @if t.published_version == 0 { "未发布" } @else { "第 " (t.published_version) " 版" } }
                    }
                } }
            }
        }
    };
    Ok(page(&p, "证照类型", body).into_response())
}

/// The type form's values as typed, so a refused form keeps them.
#[derive(Default)]
struct TypeForm {
    code: String,
    name: String,
    holder_kind: String,
    dept_ids: Vec<String>,
    validity_years: String,
    remind_days: String,
    fields: String,
    face: String,
}

const KIND_HELP: &str = "每行一个字段：字段代码｜名称｜类型｜是否必填。类型为 文本、日期、数字、图片，或 代码表：选项1、选项2；必填写“必填”。例如：exam_date｜体检日期｜日期｜必填";

fn kind_text(k: &FieldKind) -> String {
    match k {
        FieldKind::Text => "文本".into(),
        FieldKind::Date => "日期".into(),
        FieldKind::Number => "数字".into(),
        FieldKind::Image => "图片".into(),
        FieldKind::Code { options } => format!("代码表：{}", options.join("、")),
    }
}

impl TypeForm {
    fn of(f: &FormData) -> TypeForm {
        TypeForm {
            code: f.get("code").trim().to_owned(),
            name: f.get("name").trim().to_owned(),
            holder_kind: f.get("holder_kind").to_owned(),
            dept_ids: f.all("dept_ids").into_iter().map(str::to_owned).collect(),
            validity_years: f.get("validity_years").trim().to_owned(),
            remind_days: f.get("remind_days").trim().to_owned(),
            fields: f.get("fields").to_owned(),
            face: f.get("face").trim().to_owned(),
        }
    }

    fn of_content(c: &TypeContent) -> TypeForm {
        TypeForm {
            dept_ids: c.dept_ids.iter().map(i64::to_string).collect(),
            validity_years: c.validity_years.map(|v| v.to_string()).unwrap_or_default(),
            remind_days: c.remind_days.map(|v| v.to_string()).unwrap_or_default(),
            fields: c
                .fields
                .iter()
                .map(|f| {
                    format!(
                        "{}｜{}｜{}｜{}",
                        f.key,
                        f.label,
                        kind_text(&f.kind),
                        if f.required { "必填" } else { "选填" }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            face: c.face.join("、"),
            ..TypeForm::default()
        }
    }

    /// The content, or the errors naming the form's fields.
    fn content(&self) -> Result<TypeContent, Vec<FieldError>> {
        let mut errs = Vec::new();
        let mut dept_ids = Vec::new();
        for d in &self.dept_ids {
            match d.parse::<i64>() {
                Ok(x) => dept_ids.push(x),
                Err(_) => errs.push(FieldError::new("dept_ids", "invalid", "颁发部门无法识别")),
            }
        }
        let number = |name: &str, v: &str, errs: &mut Vec<FieldError>| -> Option<u32> {
            if v.is_empty() {
                return None;
            }
            match v.parse::<u32>() {
                Ok(x) => Some(x),
                Err(_) => {
                    errs.push(FieldError::new(name, "invalid_number", "请填写整数"));
                    None
                }
            }
        };
        let validity_years = number("validity_years", &self.validity_years, &mut errs);
        let remind_days = number("remind_days", &self.remind_days, &mut errs);
        let mut fields = Vec::new();
        for (i, line) in self.fields.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let parts: Vec<&str> = line.split(['｜', '|']).map(str::trim).collect();
            if parts.len() < 3 {
                errs.push(FieldError::new(
                    "fields",
                    "invalid_line",
                    format!("第 {} 行应为“字段代码｜名称｜类型｜是否必填”", i + 1),
                ));
                continue;
            }
            let kind = match parts[2] {
                "文本" => FieldKind::Text,
                "日期" => FieldKind::Date,
                "数字" => FieldKind::Number,
                "图片" => FieldKind::Image,
                k if k.starts_with("代码表") => FieldKind::Code {
                    options: k
                        .trim_start_matches("代码表")
                        .trim_start_matches(['：', ':'])
                        .split(['、', ',', '，'])
                        .map(|o| o.trim().to_owned())
                        .filter(|o| !o.is_empty())
                        .collect(),
                },
                other => {
                    errs.push(FieldError::new(
                        "fields",
                        "invalid_kind",
                        format!("第 {} 行的类型“{other}”无法识别", i + 1),
                    ));
                    continue;
                }
            };
            fields.push(FieldDef {
                key: parts[0].to_owned(),
                label: parts[1].to_owned(),
                kind,
                required: parts.get(3).is_some_and(|r| *r == "必填"),
            });
        }
        let face = self
            .face
            .split(['、', ',', '，', ' '])
            .map(|x| x.trim().to_owned())
            .filter(|x| !x.is_empty())
            .collect();
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(TypeContent {
            dept_ids,
            fields,
            validity_years,
            face,
            remind_days,
        })
    }
}

/// Errors of the service about `content.fields[2].key` and the like, shown at the form's box.
fn type_errors(errs: Vec<FieldError>) -> Vec<FieldError> {
    errs.into_iter()
        .map(|mut e| {
            let f = e.field.clone();
            e.field = if f.starts_with("content.fields") {
                if let Some(i) = f
                    .strip_prefix("content.fields[")
                    .and_then(|r| r.split(']').next())
                    .and_then(|n| n.parse::<usize>().ok())
                {
                    e.detail = format!("第 {} 个字段：{}", i + 1, e.detail);
                }
                "fields".into()
            } else if f.starts_with("content.dept_ids") {
                "dept_ids".into()
            } else {
                f.trim_start_matches("content.").to_owned()
            };
            e
        })
        .collect()
}

async fn departments(ctx: &AppCtx) -> Result<Vec<(i64, String)>, PageError> {
    let mut c = svc(ctx).conn().await?;
    Ok(org::directory::departments(&mut c)
        .await?
        .into_iter()
        .filter(|d| d.active)
        .map(|d| (d.id, d.name))
        .collect())
}

fn type_form(
    p: &PageCtx,
    action: &str,
    f: &TypeForm,
    depts: &[(i64, String)],
    errors: &[FieldError],
    head: bool,
) -> Markup {
    html! {
        (error_summary(errors))
        form #type-form method="post" action=(action) {
            (csrf_input(p))
            @if head {
                (text_field("类型代码（定义机构的统一社会信用代码 + 3 位顺序号）", "code", &f.code, errors, "required maxlength=\"21\""))
                (text_field("证照名称", "name", &f.name, errors, "required"))
                div.field {
                    label for="holder_kind" { "持证主体" }
                    select #holder_kind name="holder_kind" {
                        @for k in [HolderKind::Person, HolderKind::Org] {
                            option value=(k.code()) selected[f.holder_kind == k.code()] { (k.label()) "（" (if k == HolderKind::Person { "身份证号" } else { "统一社会信用代码" }) "）" }
                        }
                    }
                    (field_error(errors, "holder_kind"))
                }
            }
            fieldset #dept_ids {
                legend { "颁发部门" }
                div.choices {
                    @for (id, name) in depts {
                        label { input type="checkbox" name="dept_ids" value=(id) checked[f.dept_ids.contains(&id.to_string())]; " " (name) }
                    }
                }
                (field_error(errors, "dept_ids"))
            }
            div.row {
                (text_field("有效期（年，长期有效留空）", "validity_years", &f.validity_years, errors, "inputmode=\"numeric\""))
                (text_field("到期前提醒天数（不提醒留空）", "remind_days", &f.remind_days, errors, "inputmode=\"numeric\""))
            }
            div.field {
                label for="fields" { "照面字段" }
                p.hint { (KIND_HELP) }
                textarea #fields name="fields" rows="8" style="width:100%;box-sizing:border-box" { (f.fields) }
                (field_error(errors, "fields"))
            }
            (text_field("照面显示的字段代码及顺序（顿号分隔，留空显示全部）", "face", &f.face, errors, ""))
            div.actions { button type="submit" { "保存草稿" } }
        }
    }
}

async fn new_type_form(State(ctx): State<AppCtx>, p: PageCtx) -> PageResult {
    p.actor.require_any_role(ManageTypes::ROLES)?;
    let f = TypeForm {
        holder_kind: "person".into(),
        ..TypeForm::default()
    };
    let body = type_form(
        &p,
        "/licenses/types/new",
        &f,
        &departments(&ctx).await?,
        &[],
        true,
    );
    Ok(page(&p, "新建证照类型", body).into_response())
}

async fn new_type_post(State(ctx): State<AppCtx>, p: PageCtx, f: FormData) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let form = TypeForm::of(&f);
    let depts = departments(&ctx).await?;
    let refuse = |errs: Vec<FieldError>| {
        let body = type_form(&p, "/licenses/types/new", &form, &depts, &errs, true);
        Ok(unprocessable(&p, "新建证照类型", body))
    };
    let content = match form.content() {
        Ok(c) => c,
        Err(errs) => return refuse(errs),
    };
    let Some(holder_kind) = HolderKind::parse(&form.holder_kind) else {
        return refuse(vec![FieldError::new(
            "holder_kind",
            "invalid_enum",
            "请选择持证主体",
        )]);
    };
    let input = NewType {
        code: form.code.clone(),
        name: form.name.clone(),
        holder_kind,
        content,
    };
    match svc(&ctx).create_type(&p.actor, input).await {
        Ok(t) => {
            Ok(Redirect::to(&format!("/licenses/types/{}", t.license_type.id)).into_response())
        }
        Err(e) => refuse(type_errors(form_error(e)?)),
    }
}

fn fields_table(c: &TypeContent) -> Markup {
    html! {
        table.fields {
            thead { tr { th { "字段代码" } th { "名称" } th { "类型" } th { "必填" } } }
            tbody { @for f in &c.fields {
                tr { td { code { (f.key) } } td { (f.label) } td { (kind_text(&f.kind)) } td { (if f.required { "是" } else { "否" }) } }
            } }
        }
    }
}

async fn type_body(
    ctx: &AppCtx,
    p: &PageCtx,
    t: &TypeView,
    edit: Option<(&TypeForm, &[FieldError])>,
    done: Option<&str>,
) -> Result<Markup, PageError> {
    let depts = departments(ctx).await?;
    let dept_name = |id: &i64| {
        depts
            .iter()
            .find(|(d, _)| d == id)
            .map_or_else(|| format!("部门 {id}"), |(_, n)| n.clone())
    };
    let manage = p.actor.has_any_role(ManageTypes::ROLES);
    let latest = t.versions.iter().max_by_key(|v| v.version);
    let draft = latest.filter(|v| v.published_at.is_none());
    Ok(html! {
        @if let Some(d) = done { (notice(d)) }
        dl.face {
            dt { "类型代码" } dd { code { (t.license_type.code) } }
            dt { "持证主体" } dd { (t.license_type.holder_kind.label()) }
            dt { "现行版本" } dd { @if t.license_type.published_version == 0 { "未发布" } @else { "第 " (t.license_type.published_version) " 版" } }
        }
        @for v in t.versions.iter().rev() {
            section.version id=(format!("version-{}", v.version)) {
                h2 { "第 " (v.version) " 版 · " @if let Some(at) = v.published_at { (day(at)) " 发布" } @else { "草稿" } }
                p { "颁发部门：" (v.content.dept_ids.iter().map(dept_name).collect::<Vec<_>>().join("、")) }
                p { "有效期：" (v.content.validity_years.map_or_else(|| "长期有效".to_owned(), |y| format!("{y} 年"))) "；到期提醒：" (v.content.remind_days.map_or_else(|| "不提醒".to_owned(), |d| format!("到期前 {d} 天"))) }
                (fields_table(&v.content))
            }
        }
        @if manage {
            @if let Some(d) = draft {
                h2 { "修改草稿（第 " (d.version) " 版）" }
                @let form = edit.map_or_else(|| TypeForm::of_content(&d.content), |(f, _)| TypeForm { ..clone_form(f) });
                (type_form(p, &format!("/licenses/types/{}", t.license_type.id), &form, &depts, edit.map_or(&[], |(_, e)| e), false))
                form #publish method="post" action=(format!("/licenses/types/{}/publish", t.license_type.id)) {
                    (csrf_input(p))
                    input type="hidden" name="version" value=(d.version);
                    p { "发布后此版本不可再改；已签发的证照保持原版本。" }
                    button type="submit" { "发布第 " (d.version) " 版" }
                }
            } @else {
                form #revise method="post" action=(format!("/licenses/types/{}/revise", t.license_type.id)) {
                    (csrf_input(p))
                    button type="submit" { "修订（以现行版本为底稿新建草稿）" }
                }
            }
        }
        p { a href="/licenses/types" { "返回证照类型" } }
    })
}

fn clone_form(f: &TypeForm) -> TypeForm {
    TypeForm {
        code: f.code.clone(),
        name: f.name.clone(),
        holder_kind: f.holder_kind.clone(),
        dept_ids: f.dept_ids.clone(),
        validity_years: f.validity_years.clone(),
        remind_days: f.remind_days.clone(),
        fields: f.fields.clone(),
        face: f.face.clone(),
    }
}

#[derive(Debug, Deserialize, Default)]
struct Done {
    #[serde(default)]
    done: String,
}

async fn type_page(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    Query(q): Query<Done>,
) -> PageResult {
    p.actor.require_any_role(ReadLicenses::ROLES)?;
    let t = svc(&ctx).license_type(id).await?;
    let done = Some(q.done.as_str()).filter(|d| !d.is_empty());
    let body = type_body(&ctx, &p, &t, None, done).await?;
    Ok(page(&p, &t.license_type.name, body).into_response())
}

async fn type_edit(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let s = svc(&ctx);
    let t = s.license_type(id).await?;
    let form = TypeForm::of(&f);
    let Some(draft) = t.versions.iter().find(|v| v.published_at.is_none()) else {
        return Err(Error::field("version", "not_a_draft", "没有可修改的草稿").into());
    };
    let result = match form.content() {
        Ok(c) => s
            .update_draft(&p.actor, id, draft.version, c)
            .await
            .map_err(|e| form_error(e).map(type_errors)),
        Err(errs) => Err(Ok(errs)),
    };
    match result {
        Ok(t) => Ok(Redirect::to(&format!(
            "/licenses/types/{}?done=草稿已保存",
            t.license_type.id
        ))
        .into_response()),
        Err(Ok(errs)) => {
            let body = type_body(&ctx, &p, &t, Some((&form, &errs)), None).await?;
            Ok(unprocessable(&p, &t.license_type.name, body))
        }
        Err(Err(e)) => Err(e),
    }
}

async fn type_publish(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let version: i64 = f
        .get("version")
        .parse()
        .map_err(|_| Error::field("version", "invalid", "版本号无法识别"))?;
    svc(&ctx).publish_type(&p.actor, id, version).await?;
    Ok(Redirect::to(&format!("/licenses/types/{id}?done=已发布第 {version} 版")).into_response())
}

async fn type_revise(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    svc(&ctx).new_version(&p.actor, id).await?;
    Ok(Redirect::to(&format!("/licenses/types/{id}?done=已新建草稿版本")).into_response())
}

// ---- 签发 ----

#[derive(Debug, Deserialize, Default)]
struct TypeChoice {
    #[serde(default, rename = "type")]
    type_code: String,
}

fn field_input(f: &FieldDef, value: &str, errors: &[FieldError]) -> Markup {
    let name = format!("fields.{}", f.key);
    let label = if f.required {
        format!("{}（必填）", f.label)
    } else {
        f.label.clone()
    };
    match &f.kind {
        FieldKind::Date => text_field(&label, &name, value, errors, "type=\"date\""),
        FieldKind::Number => text_field(&label, &name, value, errors, "inputmode=\"decimal\""),
        FieldKind::Code { options } => html! {
            div.field {
                label for=(name) { (label) }
                select id=(name) name=(name) {
                    option value="" { "请选择" }
                    @for o in options { option value=(o) selected[value == o] { (o) } }
                }
                (field_error(errors, &name))
            }
        },
        FieldKind::Image => html! {
            div.field { span { (f.label) } p.hint { "图片字段请通过接口签发时提供。" } }
        },
        FieldKind::Text => text_field(&label, &name, value, errors, ""),
    }
}

async fn issue_body(
    ctx: &AppCtx,
    p: &PageCtx,
    code: &str,
    values: &FormData,
    errors: &[FieldError],
) -> Result<Markup, PageError> {
    let s = svc(ctx);
    let types: Vec<_> = s
        .license_types()
        .await?
        .into_iter()
        .filter(|t| t.published_version > 0)
        .collect();
    let chosen = match Some(code).filter(|c| !c.is_empty()) {
        Some(c) => s.license_type_by_code(c).await?,
        None => None,
    };
    Ok(html! {
        form #choose-type method="get" action="/licenses/issue" {
            div.field {
                label for="type" { "证照类型" }
                select #type name="type" {
                    option value="" { "请选择" }
                    @for t in &types { option value=(t.code) selected[t.code == code] { (t.name) } }
                }
            }
            div.actions { button type="submit" { "选择" } }
        }
        @if let Some(view) = &chosen {
            @if let Some(v) = view.published() {
                (error_summary(errors))
                form #issue-form method="post" action="/licenses/issue" {
                    (csrf_input(p))
                    input type="hidden" name="type_code" value=(view.license_type.code);
                    fieldset {
                        legend { "持证" (view.license_type.holder_kind.label()) }
                        div.row {
                            (text_field(if view.license_type.holder_kind == HolderKind::Person { "身份证号" } else { "统一社会信用代码" }, "holder.id_no", values.get("holder.id_no"), errors, "required"))
                            (text_field(if view.license_type.holder_kind == HolderKind::Person { "姓名" } else { "名称" }, "holder.name", values.get("holder.name"), errors, "required"))
                        }
                    }
                    fieldset {
                        legend { "照面信息" }
                        @for f in &v.content.fields { (field_input(f, values.get(&format!("fields.{}", f.key)), errors)) }
                    }
                    (text_field("生效日期（留空为今天）", "valid_from", values.get("valid_from"), errors, "type=\"date\""))
                    (field_error(errors, "dept_id"))
                    (field_error(errors, "form"))
                    div.actions { button type="submit" { "签发" } }
                }
            }
        }
    })
}

async fn issue_form(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Query(q): Query<TypeChoice>,
) -> PageResult {
    p.actor.require_any_role(Issue::ROLES)?;
    let body = issue_body(&ctx, &p, &q.type_code, &FormData(vec![]), &[]).await?;
    Ok(page(&p, "签发证照", body).into_response())
}

async fn issue_post(State(ctx): State<AppCtx>, p: PageCtx, f: FormData) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let code = f.get("type_code").to_owned();
    let s = svc(&ctx);
    let mut fields = Map::new();
    for (k, v) in &f.0 {
        if let Some(key) = k.strip_prefix("fields.") {
            if !v.trim().is_empty() {
                fields.insert(key.to_owned(), Value::String(v.trim().to_owned()));
            }
        }
    }
    // Numbers are typed as text in a form; the type says which fields are numbers.
    if let Some(v) = s
        .license_type_by_code(&code)
        .await?
        .and_then(|t| t.published().cloned())
    {
        for d in &v.content.fields {
            if d.kind == FieldKind::Number {
                if let Some(Value::String(x)) = fields.get(&d.key) {
                    if let Ok(n) = x.parse::<f64>() {
                        if let Some(n) = serde_json::Number::from_f64(n) {
                            fields.insert(d.key.clone(), Value::Number(n));
                        }
                    }
                }
            }
        }
    }
    let input = NewLicense {
        type_code: code.clone(),
        dept_id: None,
        holder: Holder {
            id_no: f.get("holder.id_no").to_owned(),
            name: f.get("holder.name").to_owned(),
        },
        fields,
        valid_from: Some(f.get("valid_from").to_owned()).filter(|v| !v.trim().is_empty()),
        source: None,
    };
    match s.issue(&p.actor, input).await {
        Ok(l) => Ok(Redirect::to(&format!("/licenses/{}?done=已签发", l.id)).into_response()),
        Err(e) => {
            let errs = form_error(e)?;
            let body = issue_body(&ctx, &p, &code, &f, &errs).await?;
            Ok(unprocessable(&p, "签发证照", body))
        }
    }
}

// ---- one license ----

fn actions_for(status: LicenseStatus) -> Vec<StatusAction> {
    [
        StatusAction::Suspend,
        StatusAction::Reinstate,
        StatusAction::Revoke,
        StatusAction::Cancel,
        StatusAction::ReportLost,
    ]
    .into_iter()
    .filter(|a| transition(status, *a).is_ok())
    .collect()
}

async fn license_body(
    ctx: &AppCtx,
    p: &PageCtx,
    l: &License,
    done: Option<&str>,
    errors: &[FieldError],
) -> Result<Markup, PageError> {
    let s = svc(ctx);
    let content = s.type_version(l.type_id, l.type_version).await?.content;
    let dept = s
        .issuer(l.dept_id)
        .await
        .map(|d| d.name)
        .unwrap_or_default();
    let mine = p.actor.can_see(Some(l.dept_id), None);
    let change = mine && p.actor.has_any_role(ChangeStatus::ROLES);
    let amend = mine && p.actor.has_any_role(Issue::ROLES) && l.status == LicenseStatus::Valid;
    let actions = actions_for(l.status);
    Ok(html! {
        @if let Some(d) = done { (notice(d)) }
        (error_summary(errors))
        dl.face #license {
            dt { "证照类型" } dd { (l.type_name) "（第 " (l.type_version) " 版）" }
            dt { "持证人" } dd { (l.holder_name) }
            dt { "证件号码" } dd { (l.holder_id_no) }
            @for f in content.face_fields() {
                @if let Some(v) = l.fields.get(&f.key) { dt { (f.label) } dd { (value_text(v)) } }
            }
            dt { "颁发机构" } dd { (dept) }
            dt { "有效期" } dd { (day(l.valid_from)) " 至 " (until(l)) }
            dt { "状态" } dd #license-status { (l.status_label) @if !l.status_reason.is_empty() { "（" (l.status_reason) "）" } }
            dt { "证照标识" } dd { code { (l.identifier) } }
            dt { "签发时间" } dd { (kernel::clock::format_minute(l.issued_at)) }
        }
        p { a href=(format!("/api/v1/licenses/{}/credential", l.id)) { "下载可验证凭证（JSON）" } }
        @if change && !actions.is_empty() {
            h2 { "变更状态" }
            form #status-form method="post" action=(format!("/licenses/{}/status", l.id)) {
                (csrf_input(p))
                div.field {
                    label for="action" { "操作" }
                    select #action name="action" {
                        @for a in &actions { option value=(a.code()) { (a.label()) } }
                    }
                }
                div.field {
                    label for="reason" { "理由（必填，记入审计并告知查验方）" }
                    textarea #reason name="reason" rows="2" required style="width:100%;box-sizing:border-box" {}
                    (field_error(errors, "reason"))
                }
                div.actions { button type="submit" { "确认" } }
            }
        }
        @if amend {
            h2 { "变更（签发新版本，原版本作废）" }
            form #amend-form method="post" action=(format!("/licenses/{}/amend", l.id)) {
                (csrf_input(p))
                @for f in &content.fields {
                    (field_input(f, &l.fields.get(&f.key).map(value_text).unwrap_or_default(), errors))
                }
                div.field {
                    label for="amend-reason" { "变更理由（必填）" }
                    textarea #amend-reason name="reason" rows="2" required style="width:100%;box-sizing:border-box" {}
                }
                div.actions { button type="submit" { "签发变更后的证照" } }
            }
        }
        p { a href="/licenses/search" { "返回证照查询" } }
    })
}

async fn license_page(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    Query(q): Query<Done>,
) -> PageResult {
    let l = svc(&ctx).license(&p.actor, id).await?;
    let done = Some(q.done.as_str()).filter(|d| !d.is_empty());
    let body = license_body(&ctx, &p, &l, done, &[]).await?;
    Ok(page(&p, &l.type_name, body).into_response())
}

async fn status_post(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let s = svc(&ctx);
    let action = [
        StatusAction::Suspend,
        StatusAction::Reinstate,
        StatusAction::Revoke,
        StatusAction::Cancel,
        StatusAction::ReportLost,
    ]
    .into_iter()
    .find(|a| a.code() == f.get("action"))
    .ok_or_else(|| Error::field("action", "invalid_enum", "请选择操作"))?;
    match s.change_status(&p.actor, id, action, f.get("reason")).await {
        Ok(l) => Ok(
            Redirect::to(&format!("/licenses/{}?done=已{}", l.id, action.label())).into_response(),
        ),
        Err(e) => {
            let errs = form_error(e)?;
            let l = s.license(&p.actor, id).await?;
            let body = license_body(&ctx, &p, &l, None, &errs).await?;
            Ok(unprocessable(&p, &l.type_name, body))
        }
    }
}

async fn amend_post(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let s = svc(&ctx);
    let mut fields = Map::new();
    for (k, v) in &f.0 {
        if let Some(key) = k.strip_prefix("fields.") {
            if !v.trim().is_empty() {
                fields.insert(key.to_owned(), Value::String(v.trim().to_owned()));
            }
        }
    }
    let a = Amendment {
        fields,
        holder_name: None,
        reason: f.get("reason").to_owned(),
    };
    match s.amend(&p.actor, id, a).await {
        Ok(l) => Ok(
            Redirect::to(&format!("/licenses/{}?done=已签发变更后的证照", l.id)).into_response(),
        ),
        Err(e) => {
            let errs = form_error(e)?;
            let l = s.license(&p.actor, id).await?;
            let body = license_body(&ctx, &p, &l, None, &errs).await?;
            Ok(unprocessable(&p, &l.type_name, body))
        }
    }
}

// ---- 证照查询 ----

#[derive(Debug, Deserialize, Default)]
struct SearchQuery {
    #[serde(default)]
    holder_id_no: String,
    #[serde(default)]
    status: String,
    #[serde(default, rename = "type")]
    type_id: Option<i64>,
    #[serde(default)]
    page: Option<i64>,
}

async fn search(State(ctx): State<AppCtx>, p: PageCtx, Query(q): Query<SearchQuery>) -> PageResult {
    let s = svc(&ctx);
    let pq = PageQuery {
        page: q.page,
        per_page: Some(20),
    };
    let list = s
        .search_page(
            &p.actor,
            q.type_id,
            Some(&q.holder_id_no),
            Some(&q.status),
            &pq,
        )
        .await?;
    let types = s.license_types().await?;
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("holder_id_no", &q.holder_id_no);
    query.append_pair("status", &q.status);
    if let Some(t) = q.type_id {
        query.append_pair("type", &t.to_string());
    }
    let here = format!("/licenses/search?{}", query.finish());
    let body = html! {
        form.filters method="get" action="/licenses/search" {
            div.row {
                div.field {
                    label for="type" { "证照类型" }
                    select #type name="type" {
                        option value="" { "全部" }
                        @for t in &types { option value=(t.id) selected[q.type_id == Some(t.id)] { (t.name) } }
                    }
                }
                div.field {
                    label for="holder_id_no" { "持证人证件号码" }
                    input #holder_id_no name="holder_id_no" value=(q.holder_id_no);
                }
                div.field {
                    label for="status" { "状态" }
                    select #status name="status" {
                        option value="" { "全部" }
                        @for s in ["valid", "suspended", "revoked", "cancelled", "lost", "superseded"] {
                            option value=(s) selected[q.status == s] { (LicenseStatus::parse(s).map_or("", |x| x.label())) }
                        }
                    }
                }
            }
            div.actions { button type="submit" { "查询" } }
        }
        @if list.items.is_empty() { p { "没有符合条件的证照。" } }
        @else {
            table #results {
                thead { tr { th { "证照" } th { "持证人" } th { "证件号码" } th { "状态" } th { "有效期至" } th { "证照标识" } } }
                tbody { @for l in &list.items {
                    tr {
                        td { a href=(format!("/licenses/{}", l.id)) { (l.type_name) } }
                        td { (l.holder_name) } td { (l.holder_id_no) } td { (l.status_label) } td { (until(l)) }
                        td { code { (l.identifier) } }
                    }
                } }
            }
        }
        (pager(&here, list.page, list.pages(), list.total))
    };
    Ok(page(&p, "证照查询", body).into_response())
}

// ---- 存量导入 ----

fn import_body(
    p: &PageCtx,
    types: &[crate::types::domain::LicenseType],
    errors: &[FieldError],
    report: Option<&crate::issue::import::ImportReport>,
) -> Markup {
    html! {
        p { "把已有的纸质证照登记入库：每行一张证照，表头含 证照编号、持证人证件号码、持证人名称、生效日期，以及证照类型的各字段名称。已导入过的证照编号不会重复入库。" }
        (error_summary(errors))
        form #import-form method="post" action="/licenses/import" enctype="multipart/form-data" {
            (csrf_input(p))
            div.field {
                label for="type_code" { "证照类型" }
                select #type_code name="type_code" {
                    @for t in types.iter().filter(|t| t.published_version > 0) { option value=(t.code) { (t.name) } }
                }
                (field_error(errors, "type_code"))
            }
            div.field {
                label for="file" { "文件（.xlsx 或 .csv）" }
                input #file type="file" name="file" accept=".xlsx,.csv";
                (field_error(errors, "file"))
            }
            div.actions { button type="submit" { "导入" } }
        }
        @if let Some(r) = report {
            section #import-report {
                h2 { "导入结果" }
                p { "共 " (r.rows) " 行：新入库 " (r.imported) " 张，已入库过 " (r.already) " 张，有问题 " (r.errors.len()) " 处。" }
                @if !r.errors.is_empty() {
                    table #import-errors {
                        thead { tr { th { "行" } th { "列" } th { "问题" } } }
                        tbody { @for e in &r.errors { tr { td { (e.line) } td { (e.column) } td { (e.detail) } } } }
                    }
                }
            }
        }
    }
}

async fn import_form(State(ctx): State<AppCtx>, p: PageCtx) -> PageResult {
    p.actor.require_any_role(Issue::ROLES)?;
    let types = svc(&ctx).license_types().await?;
    Ok(page(&p, "存量证照导入", import_body(&p, &types, &[], None)).into_response())
}

fn bad_upload(_: axum::extract::multipart::MultipartError) -> PageError {
    PageError(Error::BadRequest {
        code: "malformed_upload",
        detail: "上传的表单无法读取，请重新选择文件后再试".into(),
        field: Some("file".into()),
    })
}

async fn import_post(State(ctx): State<AppCtx>, p: PageCtx, mut mp: Multipart) -> PageResult {
    let (mut csrf, mut type_code, mut file) = (String::new(), String::new(), None);
    while let Some(field) = mp.next_field().await.map_err(bad_upload)? {
        match field.name().unwrap_or("") {
            "_csrf" => csrf = field.text().await.map_err(bad_upload)?,
            "type_code" => type_code = field.text().await.map_err(bad_upload)?,
            "file" => {
                let name = field.file_name().unwrap_or("").to_owned();
                let bytes = field.bytes().await.map_err(bad_upload)?;
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    p.check_csrf(&csrf)?;
    p.actor.require_any_role(Issue::ROLES)?;
    let s = svc(&ctx);
    let types = s.license_types().await?;
    let refuse = |field: &str, msg: String| -> PageResult {
        let errs = [FieldError::new(field, "invalid", msg)];
        Ok(unprocessable(
            &p,
            "存量证照导入",
            import_body(&p, &types, &errs, None),
        ))
    };
    let Some((name, bytes)) = file.filter(|(n, b)| !n.is_empty() && !b.is_empty()) else {
        return refuse("file", "请选择要导入的 .xlsx 或 .csv 文件".into());
    };
    let sheet = match tokio::task::spawn_blocking(move || tabular::read_named(&name, &bytes))
        .await
        .map_err(Error::internal)?
    {
        Ok(sheet) => sheet,
        Err(e) => return refuse("file", e.to_string()),
    };
    match s.import(&p.actor, &type_code, None, &sheet).await {
        Ok(r) => {
            Ok(page(&p, "存量证照导入", import_body(&p, &types, &[], Some(&r))).into_response())
        }
        Err(e @ (Error::Validation(_) | Error::Forbidden(_))) => {
            refuse("file", format!("整个文件未导入：{}", e.detail()))
        }
        Err(e) => Err(e.into()),
    }
}

// ---- 统计 ----

#[derive(Debug, Deserialize, Default)]
struct Period {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// The period asked for, this month up to today when not given: [from, to) in ms and the days.
fn period(q: &Period, now: i64) -> Result<(i64, i64, String, String), Error> {
    let today = kernel::clock::to_china(now).date_naive();
    let first = today.format("%Y-%m-01").to_string();
    let from_s = Some(q.from.trim())
        .filter(|s| !s.is_empty())
        .map_or(first, str::to_owned);
    let to_s = Some(q.to.trim())
        .filter(|s| !s.is_empty())
        .map_or_else(|| today.format("%Y-%m-%d").to_string(), str::to_owned);
    let from = crate::issue::service::parse_day(&from_s, "from")?;
    let to = crate::issue::service::parse_day(&to_s, "to")? + 86_400_000;
    if to <= from {
        return Err(Error::field(
            "to",
            "before_from",
            "结束日期不能早于开始日期",
        ));
    }
    Ok((from, to, from_s, to_s))
}

fn pct(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_owned(), |x| format!("{:.1}%", x * 100.0))
}

async fn figure_rows(
    ctx: &AppCtx,
    p: &PageCtx,
    q: &Period,
) -> Result<(Vec<FigureRow>, Vec<(i64, String)>, String, String), PageError> {
    let (from, to, from_s, to_s) = period(q, ctx.db.now())?;
    let rows = svc(ctx).figures(&p.actor, from, to).await?;
    Ok((rows, departments(ctx).await?, from_s, to_s))
}

fn dept_of(depts: &[(i64, String)], id: i64) -> String {
    depts
        .iter()
        .find(|(d, _)| *d == id)
        .map_or_else(|| format!("部门 {id}"), |(_, n)| n.clone())
}

async fn figures(State(ctx): State<AppCtx>, p: PageCtx, Query(q): Query<Period>) -> PageResult {
    p.actor.require_any_role(ReadLicenses::ROLES)?;
    let (rows, depts, from, to) = match figure_rows(&ctx, &p, &q).await {
        Ok(x) => x,
        Err(PageError(e @ Error::Validation(_))) => {
            return Ok(unprocessable(&p, "证照统计", alert(&e.detail())));
        }
        Err(e) => return Err(e),
    };
    let bars: Vec<(String, f64)> = rows
        .iter()
        .map(|r| {
            (
                format!("{}·{}", r.type_name, dept_of(&depts, r.dept_id)),
                r.issued as f64,
            )
        })
        .collect();
    let body = html! {
        form.filters method="get" action="/licenses/figures" {
            div.row {
                (text_field("开始日期", "from", &from, &[], "type=\"date\""))
                (text_field("结束日期", "to", &to, &[], "type=\"date\""))
            }
            div.actions {
                button type="submit" { "统计" }
                " "
                a href=(format!("/licenses/figures.xlsx?from={from}&to={to}")) { "下载表格（.xlsx）" }
                " "
                a href=(format!("/licenses/figures.docx?from={from}&to={to}")) { "下载情况报告（Word）" }
            }
        }
        p.hint { "签发率 = 以电子证照出件的办件 ÷ 结果为该类证照的出件办件；使用率 = 期末有效证照中期内被使用过的 ÷ 期末存量。分母为 0 时显示“—”。" }
        @if rows.is_empty() { p { "所选期间没有数据。" } }
        @else {
            table #figures {
                thead { tr { th { "证照类型" } th { "颁发部门" } th { "签发量" } th { "存量" } th { "使用量" } th { "免证办" } th { "使用率" } th { "出件办件" } th { "签发率" } } }
                tbody { @for r in &rows {
                    tr {
                        td { (r.type_name) } td { (dept_of(&depts, r.dept_id)) }
                        td.num { (r.issued) } td.num { (r.stock) } td.num { (r.uses) } td.num { (r.exempt_uses) }
                        td.num { (pct(r.use_rate)) } td.num { (r.case_results) } td.num { (pct(r.issue_rate)) }
                    }
                } }
            }
            (webcore::charts::bar_chart("issued-chart", "签发量", &bars, 12))
        }
    };
    Ok(page(&p, "证照统计", body).into_response())
}

async fn figures_xlsx(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Query(q): Query<Period>,
) -> PageResult {
    p.actor.require_any_role(ReadLicenses::ROLES)?;
    let (rows, depts, from, to) = figure_rows(&ctx, &p, &q).await?;
    use tabular::Cell;
    let headers: Vec<String> = [
        "证照类型",
        "颁发部门",
        "签发量",
        "存量",
        "使用量",
        "免证办",
        "使用率",
        "出件办件",
        "以电子证照出件",
        "签发率",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let ratio = |r: Option<f64>| Cell::Text(pct(r));
    let data: Vec<Vec<Cell>> = rows
        .iter()
        .map(|r| {
            vec![
                Cell::Text(r.type_name.clone()),
                Cell::Text(dept_of(&depts, r.dept_id)),
                Cell::Int(r.issued),
                Cell::Int(r.stock),
                Cell::Int(r.uses),
                Cell::Int(r.exempt_uses),
                ratio(r.use_rate),
                Cell::Int(r.case_results),
                Cell::Int(r.issued_from_cases),
                ratio(r.issue_rate),
            ]
        })
        .collect();
    let bytes = tabular::write_xlsx(&[("证照统计", &headers, &data)]).map_err(Error::internal)?;
    Ok(webcore::download::attachment(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "licenses-figures.xlsx",
        &format!("电子证照统计_{from}_{to}.xlsx"),
    ))
}

/// The period's 电子证照 report as a .docx: the totals in sentences a work summary can take,
/// then the table by type and department.
async fn figures_docx(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Query(q): Query<Period>,
) -> PageResult {
    p.actor.require_any_role(ReadLicenses::ROLES)?;
    let (rows, depts, from, to) = figure_rows(&ctx, &p, &q).await?;
    let sum = |f: fn(&FigureRow) -> i64| rows.iter().map(f).sum::<i64>();
    let (issued, stock, uses, exempt) = (
        sum(|r| r.issued),
        sum(|r| r.stock),
        sum(|r| r.uses),
        sum(|r| r.exempt_uses),
    );
    let (cases, from_cases, used) = (
        sum(|r| r.case_results),
        sum(|r| r.issued_from_cases),
        sum(|r| r.used_licenses),
    );
    let rate = |n: i64, d: i64| pct((d > 0).then(|| n as f64 / d as f64));
    let mut d = tabular::Doc::new(format!("{}电子证照运行情况（{from} 至 {to}）", p.city));
    d.heading(1, format!("{}电子证照运行情况", p.city));
    d.paragraph(format!("统计期间：{from} 至 {to}。"));
    d.paragraph(format!(
        "期内签发电子证照 {issued} 张，期末有效证照存量 {stock} 张；证照被亮证、查验、调用和免证办使用 {uses} 次，其中免证办 {exempt} 次；期末有效证照中期内被使用过的 {used} 张，使用率 {}。",
        rate(used, stock)
    ));
    d.paragraph(format!(
        "结果为电子证照的事项期内出件 {cases} 件，以电子证照出件 {from_cases} 件，电子证照签发率 {}。",
        rate(from_cases, cases)
    ));
    let headers = [
        "证照类型",
        "颁发部门",
        "签发量",
        "存量",
        "使用量",
        "免证办",
        "使用率",
        "签发率",
    ];
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.type_name.clone(),
                dept_of(&depts, r.dept_id),
                r.issued.to_string(),
                r.stock.to_string(),
                r.uses.to_string(),
                r.exempt_uses.to_string(),
                pct(r.use_rate),
                pct(r.issue_rate),
            ]
        })
        .collect();
    d.heading(2, "分类型、分部门情况");
    d.table(&headers, &table);
    let bytes = d.to_bytes().map_err(Error::internal)?;
    Ok(webcore::download::attachment(
        bytes,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "licenses-report.docx",
        &format!("电子证照运行情况_{from}_{to}.docx"),
    ))
}
