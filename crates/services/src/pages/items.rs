//! Staff pages for 事项管理: the item catalogue in the reader's scope, one form for every field
//! of an 实施清单 entry (materials, form fields, 情形, 特别程序 and the 秒批 rule as table rows;
//! blank rows are ignored, a ticked 删除 drops a row), publishing with a confirmation step,
//! the versions with who and when, a read-only view of any version, and the 实施清单 import
//! from .xlsx with bad rows by line. Forms post back and redirect; no JavaScript needed.

use super::{esc, see_other, svc};
use crate::domain::*;
use crate::import::{self, ImportReport};
use crate::service::{ItemChange, ServicesService};
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use kernel::clock::format_minute;
use kernel::deadline::TimeUnit;
use kernel::error::{Error, FieldError};
use kernel::page::PageQuery;
use kernel::{Actor, Role};
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use webcore::layout::{alert, csrf_input, error_summary, field_error, notice, page, text_field};
use webcore::{AppCtx, FormData, PageCtx, PageError, Path, Query};

type PageResult = Result<Response, PageError>;

/// Who may write items (the service checks again, with the department).
const MAINTAINERS: &[Role] = <crate::service::MaintainItems as kernel::auth::Permission>::ROLES;

/// Blank rows offered below the filled ones in each table of the form.
const BLANK_ROWS: usize = 3;
/// More rows than this in one table is not a form a person filled in.
const MAX_ROWS: usize = 200;

/// Layout of the wide form tables; kept with the pages that use it.
const STYLE: &str = "
.item-form fieldset { border: 1px solid var(--line); border-radius: 6px; background: #fff; margin: 0 0 1em; padding: .6em 1em; }
.item-form legend { font-weight: 700; padding: 0 .3em; }
.item-form .row > .field { flex: 1 1 200px; }
.item-form textarea { width: 100%; }
.item-form table.rows input:not([type=checkbox]), .item-form table.rows select { width: 100%; min-width: 5em; padding: .3em .4em; }
.item-form table.rows td { padding: .3em .4em; }
.item-form fieldset { overflow-x: auto; }
#materials td:nth-child(2) { min-width: 11em; }
#materials td:nth-child(4) input { min-width: 3.5em; }
.item-form .choices { display: flex; gap: 1em; flex-wrap: wrap; }
.item-form .choices label { font-weight: normal; }
.item-form .hint, .hint { color: var(--muted); font-size: .9em; margin: .2em 0 .5em; }
table.items td.num { white-space: nowrap; }
.status-draft { color: var(--yellow); font-weight: 600; }
.status-published { color: var(--green); font-weight: 600; }
.status-superseded { color: var(--muted); }
dl.facts { display: grid; grid-template-columns: 9em 1fr; gap: .3em 1em; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .8em 1em; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; white-space: pre-wrap; }
";

fn style() -> Markup {
    html! { style { (PreEscaped(STYLE)) } }
}

pub(super) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/services/items", get(list))
        .route("/services/items/new", get(new_form).post(new_post))
        .route("/services/items/import", get(import_form).post(import_post))
        .route("/services/items/{id}/edit", get(edit_form).post(edit_post))
        .route(
            "/services/items/{id}/publish",
            get(publish_confirm).post(publish_post),
        )
        .route("/services/items/{id}/versions", get(versions))
        .route("/services/items/{id}/versions/{version}", get(version_page))
}

/// A field error's name as the form names its input: the codes of 跨域通办 are one text box.
fn form_name(field: &str) -> String {
    if field.starts_with("cross_region[") {
        "cross_region".into()
    } else {
        field.to_owned()
    }
}

fn errors_of(e: &Error) -> Vec<FieldError> {
    let list = super::errors_of(e);
    let mut out: Vec<FieldError> = Vec::new();
    for mut f in list {
        f.field = form_name(&f.field);
        if !out
            .iter()
            .any(|x| x.field == f.field && x.detail == f.detail)
        {
            out.push(f);
        }
    }
    out
}

/// Department names by id: those in the reader's scope, and any other an item names.
async fn dept_names(ctx: &AppCtx, actor: &Actor, also: &[i64]) -> HashMap<i64, String> {
    let org = org::OrgService::new(ctx.db.clone(), Default::default());
    let mut m: HashMap<i64, String> = org
        .departments(
            actor,
            &Default::default(),
            &PageQuery {
                page: None,
                per_page: Some(kernel::page::MAX_PER_PAGE),
            },
        )
        .await
        .map(|p| p.items.into_iter().map(|d| (d.id, d.name)).collect())
        .unwrap_or_default();
    for id in also {
        if !m.contains_key(id) {
            if let Ok(d) = org.department(&Actor::system(), *id).await {
                m.insert(*id, d.name);
            }
        }
    }
    m
}

/// The departments whose items this reader may write, for the form's select.
async fn writable_depts(ctx: &AppCtx, actor: &Actor) -> Vec<(i64, String)> {
    let s = svc(ctx);
    let mut out = Vec::new();
    let mut names: Vec<(i64, String)> = dept_names(ctx, actor, &[]).await.into_iter().collect();
    names.sort_by(|a, b| a.1.cmp(&b.1));
    for (id, name) in names {
        if s.require_item_rights_for(actor, id).await.is_ok() {
            out.push((id, name));
        }
    }
    out
}

fn status_cell(i: &ServiceItem) -> Markup {
    html! {
        span class=(format!("status-{}", i.status.code())) { (i.status.label()) }
        @if i.status == ItemStatus::Draft && i.version > 1 {
            br; span.muted { "第 " (i.version - 1) " 版在用" }
        }
    }
}

/// Whether the public guide shows some version of the item: the latest is published, or it is
/// a draft after a published version (an edit of a published item makes the next version).
fn has_published(i: &ServiceItem) -> bool {
    i.status == ItemStatus::Published || (i.status == ItemStatus::Draft && i.version > 1)
}

// ---- the catalogue ----

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    item_type: String,
    #[serde(default)]
    msg: String,
    page: Option<i64>,
}

/// Rows per page of the item list.
const ITEMS_PER_PAGE: usize = 50;

async fn list(State(ctx): State<AppCtx>, p: PageCtx, Query(q): Query<ListQuery>) -> PageResult {
    let s = svc(&ctx);
    let all = s.staff_items(&p.actor).await?;
    let ids: Vec<i64> = all.iter().map(|i| i.content.dept_id).collect();
    let names = dept_names(&ctx, &p.actor, &ids).await;
    let dept = |id: i64| names.get(&id).cloned().unwrap_or_else(|| "—".into());
    let words = terms(&q.q);
    let status = ItemStatus::parse(&q.status);
    let kind = ItemType::parse(&q.item_type);
    let shown: Vec<&ServiceItem> = all
        .iter()
        .filter(|i| status.is_none_or(|st| i.status == st))
        .filter(|i| kind.is_none_or(|k| i.content.item_type == k))
        .filter(|i| {
            let c = &i.content;
            let hay = format!(
                "{} {} {} {}",
                c.name,
                c.basic_code,
                c.impl_code,
                dept(c.dept_id)
            );
            words.iter().all(|w| hay.contains(w.as_str()))
        })
        .collect();
    let total = shown.len();
    let pages = total.div_ceil(ITEMS_PER_PAGE).max(1);
    let at = (q.page.unwrap_or(1).max(1) as usize).min(pages);
    let shown: Vec<&ServiceItem> = shown
        .into_iter()
        .skip((at - 1) * ITEMS_PER_PAGE)
        .take(ITEMS_PER_PAGE)
        .collect();
    let here: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("q", &q.q)
        .append_pair("status", &q.status)
        .append_pair("item_type", &q.item_type)
        .finish();
    let maintainer = p.actor.has_any_role(MAINTAINERS);
    let mut writable: HashMap<i64, bool> = HashMap::new();
    if maintainer {
        for i in &shown {
            let d = i.content.dept_id;
            if let std::collections::hash_map::Entry::Vacant(e) = writable.entry(d) {
                e.insert(s.require_item_rights_for(&p.actor, d).await.is_ok());
            }
        }
    }
    let body = html! {
        (style())
        @if !q.msg.is_empty() { (notice(&q.msg)) }
        div.actions {
            @if maintainer {
                a.button #new-item href="/services/items/new" { "新建事项" }
                a.button href="/services/items/import" { "导入实施清单" }
            }
            a href="/api/v1/services/items/export.xlsx" #export { "下载实施清单（.xlsx，已发布事项）" }
        }
        form.filters method="get" action="/services/items" role="search" {
            div.field {
                label for="q" { "名称、编码或部门" }
                input #q name="q" value=(q.q);
            }
            div.field {
                label for="status" { "状态" }
                select #status name="status" {
                    option value="" { "全部" }
                    @for st in [ItemStatus::Draft, ItemStatus::Published] {
                        option value=(st.code()) selected[status == Some(st)] { (st.label()) }
                    }
                }
            }
            div.field {
                label for="item_type" { "事项类型" }
                select #item_type name="item_type" {
                    option value="" { "全部" }
                    @for t in ItemType::ALL {
                        option value=(t.code()) selected[kind == Some(*t)] { (t.label()) }
                    }
                }
            }
            button type="submit" { "筛选" }
        }
        p.muted { "共 " (total) " 项" @if total != all.len() { "（全部 " (all.len()) " 项）" } "。列表显示每个事项的最新版本。" }
        table.items #items {
            thead { tr {
                th { "实施编码" br; span.muted { "基本编码" } } th { "事项名称" } th { "事项类型" } th { "实施部门" }
                th { "版本" } th { "状态" } th { "办理深度" } th { "承诺/法定时限" } th { "操作" }
            } }
            tbody {
                @for i in &shown {
                    @let c = &i.content;
                    tr id=(format!("item-{}", i.id)) {
                        td.mono { (c.impl_code) br; span.muted { (c.basic_code) } }
                        td { a href=(format!("/services/items/{}/versions", i.id)) { (c.name) } br; span.muted { (c.handling.label()) " · " (c.mode.label()) } }
                        td { (c.item_type.label()) }
                        td { (dept(c.dept_id)) }
                        td.num { "第 " (i.version) " 版" }
                        td { (status_cell(i)) }
                        td { (c.depth.label()) }
                        td.num { (c.promised_days) " / " (c.legal_days) " " (c.time_unit.label()) }
                        td {
                            @if writable.get(&c.dept_id).copied().unwrap_or(false) {
                                a href=(format!("/services/items/{}/edit", i.id)) { "编辑" } " "
                                @if i.status == ItemStatus::Draft {
                                    a.publish href=(format!("/services/items/{}/publish", i.id)) { "发布" } " "
                                }
                            }
                            a href=(format!("/services/items/{}/versions", i.id)) { "版本" } " "
                            @if has_published(i) { a href=(format!("/guide/items/{}", i.id)) { "办事指南" } }
                        }
                    }
                }
            }
        }
        @if shown.is_empty() { p { "没有符合条件的事项。" } }
        @if pages > 1 { (webcore::layout::pager(&format!("/services/items?{here}"), at as i64, pages as i64, total as i64)) }
    };
    Ok(page(&p, "事项管理", body).into_response())
}

// ---- the form: what was typed, as text, so a refused form comes back as it was sent ----

#[derive(Clone, Default)]
struct MaterialRow {
    key: String,
    name: String,
    form: String,
    copies: String,
    required: bool,
    condition: String,
    blank_form: bool,
    sample: bool,
    from_license: String,
    from_shared_data: bool,
}

#[derive(Clone, Default)]
struct FieldRow {
    key: String,
    label: String,
    kind: String,
    required: bool,
}

#[derive(Clone, Default)]
struct ScenarioRow {
    code: String,
    name: String,
    waived: String,
    extra: String,
}

#[derive(Clone, Default)]
struct ProcRow {
    name: String,
    days: String,
}

#[derive(Clone, Default)]
struct CondRow {
    field: String,
    test: String,
    value: String,
}

#[derive(Clone, Default)]
struct ItemForm {
    basic_code: String,
    impl_code: String,
    name: String,
    item_type: String,
    level: String,
    mode: String,
    handling: String,
    dept_id: String,
    legal_basis: String,
    conditions: String,
    legal_days: String,
    promised_days: String,
    time_unit: String,
    fees: String,
    depth: String,
    delivery: Vec<String>,
    result_license: String,
    windows: String,
    hours: String,
    cross_region: String,
    notes: String,
    auto_rule: bool,
    materials: Vec<MaterialRow>,
    fields: Vec<FieldRow>,
    scenarios: Vec<ScenarioRow>,
    procs: Vec<ProcRow>,
    conds: Vec<CondRow>,
}

fn join(list: &[String]) -> String {
    list.join("、")
}

fn split(s: &str) -> Vec<String> {
    s.split(['、', ',', '，', ';', '；', ' ', '\n'])
        .map(|x| x.trim().to_owned())
        .filter(|x| !x.is_empty())
        .collect()
}

impl ItemForm {
    fn blank() -> ItemForm {
        ItemForm {
            item_type: ItemType::PublicService.code().into(),
            level: ExerciseLevel::City.code().into(),
            mode: ApprovalMode::Approval.code().into(),
            handling: HandlingKind::Promised.code().into(),
            time_unit: TimeUnit::WorkingDays.code().into(),
            depth: Depth::AtMostOnce.code().into(),
            delivery: vec![DeliveryMethod::Window.code().into()],
            result_license: String::new(),
            ..Default::default()
        }
    }

    fn from_input(i: &ItemInput) -> ItemForm {
        ItemForm {
            basic_code: i.basic_code.clone(),
            impl_code: i.impl_code.clone(),
            name: i.name.clone(),
            item_type: i.item_type.code().into(),
            level: i.level.code().into(),
            mode: i.mode.code().into(),
            handling: i.handling.code().into(),
            dept_id: i.dept_id.to_string(),
            legal_basis: i.legal_basis.clone(),
            conditions: i.conditions.clone(),
            legal_days: i.legal_days.to_string(),
            promised_days: i.promised_days.to_string(),
            time_unit: i.time_unit.code().into(),
            fees: i.fees.clone(),
            depth: i.depth.code().into(),
            delivery: i.delivery.iter().map(|d| d.code().to_owned()).collect(),
            result_license: i.result_license.clone().unwrap_or_default(),
            windows: i.windows.clone(),
            hours: i.hours.clone(),
            cross_region: join(&i.cross_region),
            notes: i.notes.clone(),
            auto_rule: i.auto_rule.is_some(),
            materials: i
                .materials
                .iter()
                .map(|m| MaterialRow {
                    key: m.key.clone(),
                    name: m.name.clone(),
                    form: m.form.code().into(),
                    copies: m.copies.to_string(),
                    required: m.required,
                    condition: m.condition.clone().unwrap_or_default(),
                    blank_form: m.blank_form,
                    sample: m.sample,
                    from_license: m.from_license.clone().unwrap_or_default(),
                    from_shared_data: m.from_shared_data,
                })
                .collect(),
            fields: i
                .fields
                .iter()
                .map(|f| FieldRow {
                    key: f.key.clone(),
                    label: f.label.clone(),
                    kind: f.kind.code().into(),
                    required: f.required,
                })
                .collect(),
            scenarios: i
                .scenarios
                .iter()
                .map(|s| ScenarioRow {
                    code: s.code.clone(),
                    name: s.name.clone(),
                    waived: join(&s.waived),
                    extra: import::materials_text(&s.extra_materials),
                })
                .collect(),
            procs: i
                .special_procedures
                .iter()
                .map(|p| ProcRow {
                    name: p.name.clone(),
                    days: p.days.to_string(),
                })
                .collect(),
            conds: i
                .auto_rule
                .iter()
                .flat_map(|r| r.conditions.iter())
                .map(|c| CondRow {
                    field: c.field.clone(),
                    test: c.test.code().into(),
                    value: match &c.value {
                        Some(Value::Array(a)) => a
                            .iter()
                            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                            .collect::<Vec<_>>()
                            .join("、"),
                        Some(Value::String(s)) => s.clone(),
                        Some(v) => v.to_string(),
                        None => String::new(),
                    },
                })
                .collect(),
        }
    }

    /// Reads the posted form. Rows are numbered as sent; blank rows and rows ticked 删除 are
    /// dropped and the rest renumbered, so error names match the rows shown again.
    fn from_post(f: &FormData) -> ItemForm {
        let g = |k: &str| f.get(k).trim().to_owned();
        let on = |k: &str| !f.get(k).is_empty();
        let rows = |prefix: &str| -> Vec<usize> {
            let mut n: Vec<usize> =
                f.0.iter()
                    .filter_map(|(k, _)| {
                        k.strip_prefix(prefix)?
                            .strip_prefix('[')?
                            .split(']')
                            .next()?
                            .parse()
                            .ok()
                    })
                    .filter(|i| *i < MAX_ROWS)
                    .collect();
            n.sort_unstable();
            n.dedup();
            n.retain(|i| !on(&format!("{prefix}[{i}].remove")));
            n
        };
        let materials = rows("materials")
            .into_iter()
            .map(|i| {
                let k = |x: &str| format!("materials[{i}].{x}");
                MaterialRow {
                    key: g(&k("key")),
                    name: g(&k("name")),
                    form: g(&k("form")),
                    copies: g(&k("copies")),
                    required: f.get(&k("required")) != "false",
                    condition: g(&k("condition")),
                    blank_form: on(&k("blank_form")),
                    sample: on(&k("sample")),
                    from_license: g(&k("from_license")),
                    from_shared_data: on(&k("from_shared_data")),
                }
            })
            .filter(|m| {
                !(m.key.is_empty()
                    && m.name.is_empty()
                    && m.condition.is_empty()
                    && m.from_license.is_empty())
            })
            .collect();
        let fields = rows("fields")
            .into_iter()
            .map(|i| {
                let k = |x: &str| format!("fields[{i}].{x}");
                FieldRow {
                    key: g(&k("key")),
                    label: g(&k("label")),
                    kind: g(&k("kind")),
                    required: f.get(&k("required")) != "false",
                }
            })
            .filter(|x| !(x.key.is_empty() && x.label.is_empty()))
            .collect();
        let scenarios = rows("scenarios")
            .into_iter()
            .map(|i| {
                let k = |x: &str| format!("scenarios[{i}].{x}");
                ScenarioRow {
                    code: g(&k("code")),
                    name: g(&k("name")),
                    waived: g(&k("waived")),
                    extra: g(&k("extra_materials")),
                }
            })
            .filter(|s| {
                !(s.code.is_empty()
                    && s.name.is_empty()
                    && s.waived.is_empty()
                    && s.extra.is_empty())
            })
            .collect();
        let procs = rows("special_procedures")
            .into_iter()
            .map(|i| ProcRow {
                name: g(&format!("special_procedures[{i}].name")),
                days: g(&format!("special_procedures[{i}].days")),
            })
            .filter(|p| !(p.name.is_empty() && p.days.is_empty()))
            .collect();
        let conds = rows("auto_rule.conditions")
            .into_iter()
            .map(|i| {
                let k = |x: &str| format!("auto_rule.conditions[{i}].{x}");
                CondRow {
                    field: g(&k("field")),
                    test: g(&k("test")),
                    value: g(&k("value")),
                }
            })
            .filter(|c| !(c.field.is_empty() && c.value.is_empty()))
            .collect();
        ItemForm {
            basic_code: g("basic_code"),
            impl_code: g("impl_code"),
            name: g("name"),
            item_type: g("item_type"),
            level: g("level"),
            mode: g("mode"),
            handling: g("handling"),
            dept_id: g("dept_id"),
            legal_basis: g("legal_basis"),
            conditions: g("conditions"),
            legal_days: g("legal_days"),
            promised_days: g("promised_days"),
            time_unit: g("time_unit"),
            fees: g("fees"),
            depth: g("depth"),
            delivery: f.all("delivery").into_iter().map(str::to_owned).collect(),
            result_license: g("result_license"),
            windows: g("windows"),
            hours: g("hours"),
            cross_region: g("cross_region"),
            notes: g("notes"),
            auto_rule: on("auto_rule.enabled"),
            materials,
            fields,
            scenarios,
            procs,
            conds,
        }
    }

    /// Gives rows without a code one. A material or field is keyed by its name, so the same
    /// material in two items of a bundle is asked once (一数一源); a 情形 gets `s1`, `s2` ….
    fn fill_codes(&mut self) {
        let key_of = |s: &str| s.chars().take(64).collect::<String>();
        for m in self.materials.iter_mut().filter(|m| m.key.is_empty()) {
            m.key = key_of(&m.name);
        }
        for x in self.fields.iter_mut().filter(|x| x.key.is_empty()) {
            x.key = key_of(&x.label);
        }
        let mut used: Vec<String> = self.scenarios.iter().map(|x| x.code.clone()).collect();
        for x in self.scenarios.iter_mut().filter(|x| x.code.is_empty()) {
            let mut n = 1;
            while used.contains(&format!("s{n}")) {
                n += 1;
            }
            x.code = format!("s{n}");
            used.push(x.code.clone());
        }
    }

    /// The item the form describes, and what could not be read (each named by its input).
    fn to_input(&self) -> (ItemInput, Vec<FieldError>) {
        let mut errs: Vec<FieldError> = Vec::new();
        let mut bad = |field: &str, msg: &str| {
            errs.push(FieldError::new(field, "invalid", msg));
        };
        fn pick<T: Copy>(v: Option<T>, default: T, ok: &mut bool) -> T {
            match v {
                Some(x) => x,
                None => {
                    *ok = false;
                    default
                }
            }
        }
        let mut ok = true;
        let item_type = pick(
            ItemType::parse(&self.item_type),
            ItemType::PublicService,
            &mut ok,
        );
        if !ok {
            bad("item_type", "请选择事项类型");
        }
        let mut ok = true;
        let level = pick(
            ExerciseLevel::parse(&self.level),
            ExerciseLevel::City,
            &mut ok,
        );
        if !ok {
            bad("level", "请选择行使层级");
        }
        let mut ok = true;
        let mode = pick(
            ApprovalMode::parse(&self.mode),
            ApprovalMode::Approval,
            &mut ok,
        );
        if !ok {
            bad("mode", "请选择审批方式");
        }
        let mut ok = true;
        let handling = pick(
            HandlingKind::parse(&self.handling),
            HandlingKind::Promised,
            &mut ok,
        );
        if !ok {
            bad("handling", "请选择办件类型");
        }
        let mut ok = true;
        let time_unit = pick(
            TimeUnit::parse(&self.time_unit),
            TimeUnit::WorkingDays,
            &mut ok,
        );
        if !ok {
            bad("time_unit", "请选择计时单位");
        }
        let mut ok = true;
        let depth = pick(Depth::parse(&self.depth), Depth::AtMostOnce, &mut ok);
        if !ok {
            bad("depth", "请选择办理深度");
        }
        let dept_id = match self.dept_id.parse::<i64>() {
            Ok(d) => d,
            Err(_) => {
                bad("dept_id", "请选择实施部门");
                0
            }
        };
        let mut days = |field: &str, label: &str, v: &str| -> u32 {
            match v.parse::<u32>() {
                Ok(d) => d,
                Err(_) => {
                    bad(
                        field,
                        &if v.is_empty() {
                            format!("请填写{label}")
                        } else {
                            format!("{label}应为不小于 0 的整数")
                        },
                    );
                    0
                }
            }
        };
        let legal_days = days("legal_days", "法定时限", &self.legal_days);
        let promised_days = days("promised_days", "承诺时限", &self.promised_days);
        let mut delivery = Vec::new();
        for d in &self.delivery {
            match DeliveryMethod::parse(d) {
                Some(x) if !delivery.contains(&x) => delivery.push(x),
                Some(_) => {}
                None => bad("delivery", "出件方式无法识别"),
            }
        }
        let mut materials = Vec::new();
        for (i, m) in self.materials.iter().enumerate() {
            let copies = if m.copies.is_empty() {
                1
            } else {
                match m.copies.parse::<u32>() {
                    Ok(c) => c,
                    Err(_) => {
                        bad(&format!("materials[{i}].copies"), "份数应为正整数");
                        1
                    }
                }
            };
            let form = if m.form.is_empty() {
                Some(MaterialForm::Original)
            } else {
                MaterialForm::parse(&m.form)
            };
            let form = form.unwrap_or_else(|| {
                bad(&format!("materials[{i}].form"), "请选择材料形式");
                MaterialForm::Original
            });
            materials.push(Material {
                key: m.key.clone(),
                name: m.name.clone(),
                form,
                copies,
                required: m.required,
                condition: Some(m.condition.clone()).filter(|c| !c.is_empty()),
                blank_form: m.blank_form,
                sample: m.sample,
                from_license: Some(m.from_license.clone()).filter(|c| !c.is_empty()),
                from_shared_data: m.from_shared_data,
            });
        }
        let fields = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, x)| FormField {
                key: x.key.clone(),
                label: x.label.clone(),
                kind: if x.kind.is_empty() {
                    Some(FieldKind::Text)
                } else {
                    FieldKind::parse(&x.kind)
                }
                .unwrap_or_else(|| {
                    bad(&format!("fields[{i}].kind"), "请选择字段类型");
                    FieldKind::Text
                }),
                required: x.required,
            })
            .collect();
        let scenarios = self
            .scenarios
            .iter()
            .enumerate()
            .map(|(i, s)| Scenario {
                code: s.code.clone(),
                name: s.name.clone(),
                extra_materials: import::parse_materials(&s.extra).unwrap_or_else(|e| {
                    bad(&format!("scenarios[{i}].extra_materials"), &e);
                    vec![]
                }),
                waived: split(&s.waived),
            })
            .collect();
        let special_procedures = self
            .procs
            .iter()
            .enumerate()
            .map(|(i, p)| SpecialProcedure {
                name: p.name.clone(),
                days: p.days.parse().unwrap_or_else(|_| {
                    bad(
                        &format!("special_procedures[{i}].days"),
                        "特别程序的天数应为不小于 0 的整数",
                    );
                    0
                }),
            })
            .collect();
        let auto_rule = self.auto_rule.then(|| AutoRule {
            conditions: self
                .conds
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let test = Test::parse(&c.test).unwrap_or_else(|| {
                        bad(&format!("auto_rule.conditions[{i}].test"), "请选择检查方式");
                        Test::Present
                    });
                    let value = match test {
                        Test::AgeAtLeast => match c.value.parse::<u64>() {
                            Ok(n) => Some(json!(n)),
                            Err(_) => {
                                bad(
                                    &format!("auto_rule.conditions[{i}].value"),
                                    "“年满”需要填写年龄（整数）",
                                );
                                None
                            }
                        },
                        Test::OneOf => Some(json!(split(&c.value))),
                        _ => None,
                    };
                    Condition {
                        field: c.field.clone(),
                        test,
                        value,
                    }
                })
                .collect(),
        });
        let input = ItemInput {
            basic_code: self.basic_code.clone(),
            impl_code: self.impl_code.clone(),
            name: self.name.clone(),
            item_type,
            level,
            dept_id,
            mode,
            handling,
            legal_basis: self.legal_basis.clone(),
            conditions: self.conditions.clone(),
            materials,
            fields,
            scenarios,
            legal_days,
            promised_days,
            time_unit,
            fees: self.fees.clone(),
            depth,
            delivery,
            result_license: Some(self.result_license.trim().to_owned()).filter(|r| !r.is_empty()),
            windows: self.windows.clone(),
            hours: self.hours.clone(),
            cross_region: split(&self.cross_region),
            special_procedures,
            auto_rule,
            notes: self.notes.clone(),
        };
        (input, errs)
    }
}

fn select_field(
    label: &str,
    name: &str,
    options: &[(String, &str)],
    selected: &str,
    errors: &[FieldError],
) -> Markup {
    let invalid = errors.iter().any(|e| e.field == name);
    html! {
        div.field {
            label for=(name) { (label) }
            select id=(name) name=(name) aria-invalid=[invalid.then_some("true")] aria-describedby=[invalid.then(|| format!("{name}-error"))] {
                @for (code, text) in options { option value=(code) selected[code == selected] { (text) } }
            }
            (field_error(errors, name))
        }
    }
}

fn area_field(label: &str, name: &str, value: &str, errors: &[FieldError], hint: &str) -> Markup {
    let invalid = errors.iter().any(|e| e.field == name);
    html! {
        div.field {
            label for=(name) { (label) }
            @if !hint.is_empty() { p.hint { (hint) } }
            textarea id=(name) name=(name) rows="3" aria-invalid=[invalid.then_some("true")] { (value) }
            (field_error(errors, name))
        }
    }
}

fn opts<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<(String, &'static str)> {
    all.iter()
        .map(|x| (code(*x).to_owned(), label(*x)))
        .collect()
}

/// One cell of a row table: an input named like the field errors name it, with its error.
fn cell(name: &str, label: &str, value: &str, errors: &[FieldError]) -> Markup {
    let invalid = errors.iter().any(|e| e.field == name);
    html! {
        td {
            input id=(name) name=(name) value=(value) aria-label=(label) aria-invalid=[invalid.then_some("true")];
            (field_error(errors, name))
        }
    }
}

fn cell_select(
    name: &str,
    label: &str,
    options: &[(String, &str)],
    selected: &str,
    errors: &[FieldError],
) -> Markup {
    html! {
        td {
            select id=(name) name=(name) aria-label=(label) {
                @for (code, text) in options { option value=(code) selected[code == selected] { (text) } }
            }
            (field_error(errors, name))
        }
    }
}

fn cell_check(name: &str, label: &str, on: bool) -> Markup {
    html! { td { input type="checkbox" id=(name) name=(name) value="1" aria-label=(label) checked[on]; } }
}

fn required_opts() -> Vec<(String, &'static str)> {
    vec![("true".into(), "必需"), ("false".into(), "视情形")]
}

fn item_form(
    p: &PageCtx,
    action: &str,
    f: &ItemForm,
    errors: &[FieldError],
    depts: &[(i64, String)],
    editing: bool,
) -> Markup {
    let dept_opts: Vec<(String, &str)> = std::iter::once((String::new(), "请选择"))
        .chain(depts.iter().map(|(id, n)| (id.to_string(), n.as_str())))
        .collect();
    let mat_rows = f.materials.len() + BLANK_ROWS;
    let field_rows = f.fields.len() + BLANK_ROWS;
    let sc_rows = f.scenarios.len() + 2;
    let proc_rows = f.procs.len() + 2;
    let cond_rows = f.conds.len() + 2;
    html! {
        (error_summary(errors))
        form.item-form #item-form method="post" action=(action) novalidate {
            (csrf_input(p))
            fieldset {
                legend { "基本信息（GB/T 39046-2020）" }
                div.row {
                    (text_field("基本编码（不超过 10 位）", "basic_code", &f.basic_code, errors, "maxlength=\"10\" required"))
                    @if editing {
                        div.field {
                            label for="impl_code" { "实施编码" }
                            input #impl_code name="impl_code" value=(f.impl_code) readonly;
                            p.hint { "实施编码不能修改；需要新编码请新建事项。" }
                            (field_error(errors, "impl_code"))
                        }
                    } @else {
                        (text_field("实施编码（不超过 24 位）", "impl_code", &f.impl_code, errors, "maxlength=\"24\" required"))
                    }
                }
                (text_field("事项名称", "name", &f.name, errors, "required"))
                div.row {
                    (select_field("事项类型", "item_type", &opts(ItemType::ALL, ItemType::code, ItemType::label), &f.item_type, errors))
                    (select_field("行使层级", "level", &opts(ExerciseLevel::ALL, ExerciseLevel::code, ExerciseLevel::label), &f.level, errors))
                    (select_field("审批方式", "mode", &opts(ApprovalMode::ALL, ApprovalMode::code, ApprovalMode::label), &f.mode, errors))
                    (select_field("办件类型", "handling", &opts(HandlingKind::ALL, HandlingKind::code, HandlingKind::label), &f.handling, errors))
                }
                (select_field("实施部门", "dept_id", &dept_opts, &f.dept_id, errors))
            }
            fieldset {
                legend { "依据与条件" }
                (area_field("设定依据", "legal_basis", &f.legal_basis, errors, ""))
                (area_field("受理条件", "conditions", &f.conditions, errors, ""))
            }
            fieldset {
                legend { "时限与收费" }
                div.row {
                    (text_field("法定时限", "legal_days", &f.legal_days, errors, "inputmode=\"numeric\" required"))
                    (text_field("承诺时限（即办件填 0）", "promised_days", &f.promised_days, errors, "inputmode=\"numeric\" required"))
                    (select_field("计时单位", "time_unit", &opts(TimeUnit::ALL, TimeUnit::code, TimeUnit::label), &f.time_unit, errors))
                }
                (text_field("收费（不收费请留空）", "fees", &f.fees, errors, ""))
            }
            fieldset {
                legend { "办理方式" }
                (select_field("办理深度", "depth", &opts(Depth::ALL, Depth::code, Depth::label), &f.depth, errors))
                div.field {
                    span #delivery { strong { "出件方式" } }
                    div.choices {
                        @for d in DeliveryMethod::ALL {
                            label { input type="checkbox" name="delivery" value=(d.code()) checked[f.delivery.iter().any(|x| x == d.code())]; " " (d.label()) }
                        }
                    }
                    (field_error(errors, "delivery"))
                }
                (text_field("结果证照类型（以电子证照出件时签发；填证照类型代码或名称）", "result_license", &f.result_license, errors, ""))
                div.row {
                    (text_field("办理窗口", "windows", &f.windows, errors, ""))
                    (text_field("办理时间", "hours", &f.hours, errors, ""))
                }
                (text_field("跨域通办地区（行政区划代码，用顿号或空格分隔）", "cross_region", &f.cross_region, errors, ""))
            }
            fieldset #materials {
                legend { "申请材料" }
                p.hint { "代码留空时用材料名称；一件事中代码相同的材料只交一次。空行不保存，勾选“删除”去掉一行。" }
                table.rows {
                    thead { tr { th { "代码" } th { "材料名称" } th { "形式" } th { "份数" } th { "必要性" } th { "情形说明" } th { "空白表格" } th { "示例样表" } th { "可调取的电子证照" } th { "共享数据" } th { "删除" } } }
                    tbody {
                        @for i in 0..mat_rows {
                            @let m = f.materials.get(i).cloned().unwrap_or(MaterialRow { required: true, copies: "1".into(), ..Default::default() });
                            @let n = |x: &str| format!("materials[{i}].{x}");
                            tr {
                                (cell(&n("key"), "材料代码", &m.key, errors))
                                (cell(&n("name"), "材料名称", &m.name, errors))
                                (cell_select(&n("form"), "材料形式", &opts(MaterialForm::ALL, MaterialForm::code, MaterialForm::label), &m.form, errors))
                                (cell(&n("copies"), "份数", &m.copies, errors))
                                (cell_select(&n("required"), "必要性", &required_opts(), if m.required { "true" } else { "false" }, errors))
                                (cell(&n("condition"), "情形说明", &m.condition, errors))
                                (cell_check(&n("blank_form"), "提供空白表格", m.blank_form))
                                (cell_check(&n("sample"), "提供示例样表", m.sample))
                                (cell(&n("from_license"), "可调取的电子证照", &m.from_license, errors))
                                (cell_check(&n("from_shared_data"), "可由共享数据调取", m.from_shared_data))
                                (cell_check(&n("remove"), "删除此行", false))
                            }
                        }
                    }
                }
            }
            fieldset #fields {
                legend { "申请表字段" }
                p.hint { "一件事中代码相同的字段只填一次（一数一源）。" }
                table.rows {
                    thead { tr { th { "代码" } th { "字段名称" } th { "类型" } th { "必填" } th { "删除" } } }
                    tbody {
                        @for i in 0..field_rows {
                            @let x = f.fields.get(i).cloned().unwrap_or(FieldRow { required: true, ..Default::default() });
                            @let n = |k: &str| format!("fields[{i}].{k}");
                            tr {
                                (cell(&n("key"), "字段代码", &x.key, errors))
                                (cell(&n("label"), "字段名称", &x.label, errors))
                                (cell_select(&n("kind"), "字段类型", &opts(FieldKind::ALL, FieldKind::code, FieldKind::label), &x.kind, errors))
                                (cell_select(&n("required"), "是否必填", &[("true".into(), "必填"), ("false".into(), "选填")], if x.required { "true" } else { "false" }, errors))
                                (cell_check(&n("remove"), "删除此行", false))
                            }
                        }
                    }
                }
            }
            fieldset #scenarios {
                legend { "情形" }
                p.hint { "免交材料填材料代码；另需材料写成 代码:名称[:形式]，多个用“；”分隔。" }
                table.rows {
                    thead { tr { th { "代码" } th { "情形名称" } th { "免交材料" } th { "另需材料" } th { "删除" } } }
                    tbody {
                        @for i in 0..sc_rows {
                            @let x = f.scenarios.get(i).cloned().unwrap_or_default();
                            @let n = |k: &str| format!("scenarios[{i}].{k}");
                            tr {
                                (cell(&n("code"), "情形代码", &x.code, errors))
                                (cell(&n("name"), "情形名称", &x.name, errors))
                                (cell(&n("waived"), "免交材料代码", &x.waived, errors))
                                (cell(&n("extra_materials"), "另需材料", &x.extra, errors))
                                (cell_check(&n("remove"), "删除此行", false))
                            }
                        }
                    }
                }
            }
            fieldset #special_procedures {
                legend { "特别程序（听证、检验检测、专家评审等，不计入承诺时限）" }
                table.rows {
                    thead { tr { th { "名称" } th { "天数" } th { "删除" } } }
                    tbody {
                        @for i in 0..proc_rows {
                            @let x = f.procs.get(i).cloned().unwrap_or_default();
                            tr {
                                (cell(&format!("special_procedures[{i}].name"), "特别程序名称", &x.name, errors))
                                (cell(&format!("special_procedures[{i}].days"), "特别程序天数", &x.days, errors))
                                (cell_check(&format!("special_procedures[{i}].remove"), "删除此行", false))
                            }
                        }
                    }
                }
            }
            fieldset #auto_rule {
                legend { "秒批规则" }
                label { input type="checkbox" name="auto_rule.enabled" value="1" checked[f.auto_rule]; " 启用秒批：材料齐全且以下条件都满足时自动准予" }
                (field_error(errors, "auto_rule"))
                table.rows {
                    thead { tr { th { "字段代码" } th { "检查" } th { "取值（年龄，或用顿号分隔的可选值）" } th { "删除" } } }
                    tbody {
                        @for i in 0..cond_rows {
                            @let x = f.conds.get(i).cloned().unwrap_or_default();
                            @let n = |k: &str| format!("auto_rule.conditions[{i}].{k}");
                            tr {
                                (cell(&n("field"), "条件字段代码", &x.field, errors))
                                (cell_select(&n("test"), "检查方式", &opts(Test::ALL, Test::code, Test::label), &x.test, errors))
                                (cell(&n("value"), "条件取值", &x.value, errors))
                                (cell_check(&n("remove"), "删除此行", false))
                            }
                        }
                    }
                }
            }
            fieldset {
                legend { "其他" }
                (area_field("备注（特别程序、满意度等说明）", "notes", &f.notes, errors, ""))
            }
            div.actions {
                button type="submit" #save { "保存草稿" }
                a href="/services/items" { "取消" }
            }
        }
    }
}

/// The latest version of an item, which an edit starts from.
async fn latest(s: &ServicesService, actor: &Actor, id: i64) -> Result<ServiceItem, Error> {
    s.item_versions(actor, id)
        .await?
        .pop()
        .ok_or_else(|| Error::not_found("service_item", "事项不存在"))
}

fn edit_note(cur: &ServiceItem) -> Markup {
    if cur.status == ItemStatus::Draft {
        html! { p.notice #edit-note role="status" {
            "正在修改第 " (cur.version) " 版草稿；保存后仍是草稿，发布后才对外生效。"
            @if cur.version > 1 { "办事指南目前显示第 " (cur.version - 1) " 版。" }
        } }
    } else {
        html! { p.notice #edit-note role="status" {
            "第 " (cur.version) " 版已发布，不会被修改：保存后生成第 " (cur.version + 1)
            " 版草稿，办事指南仍显示第 " (cur.version) " 版，直到新版本发布。"
        } }
    }
}

async fn form_page(
    ctx: &AppCtx,
    p: &PageCtx,
    id: Option<i64>,
    f: &ItemForm,
    errors: &[FieldError],
) -> PageResult {
    p.actor.require_any_role(MAINTAINERS)?;
    let depts = writable_depts(ctx, &p.actor).await;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let (title, body) = match id {
        None => (
            "新建事项".to_owned(),
            html! {
                (style())
                p.hint { "新建的事项先保存为第 1 版草稿，发布后出现在办事指南中。" }
                (item_form(p, "/services/items/new", f, errors, &depts, false))
            },
        ),
        Some(id) => {
            let cur = latest(&svc(ctx), &p.actor, id).await?;
            (
                format!("编辑事项：{}", cur.content.name),
                html! {
                    (style())
                    (edit_note(&cur))
                    p { a href=(format!("/services/items/{id}/versions")) { "版本记录" } }
                    (item_form(p, &format!("/services/items/{id}/edit"), f, errors, &depts, true))
                },
            )
        }
    };
    Ok((status, page(p, &title, body)).into_response())
}

async fn new_form(State(ctx): State<AppCtx>, p: PageCtx) -> PageResult {
    let mut f = ItemForm::blank();
    if let Some(d) = p.actor.dept_id {
        f.dept_id = d.to_string();
    }
    form_page(&ctx, &p, None, &f, &[]).await
}

async fn edit_form(State(ctx): State<AppCtx>, p: PageCtx, Path(id): Path<i64>) -> PageResult {
    let s = svc(&ctx);
    let cur = latest(&s, &p.actor, id).await?;
    s.require_item_rights_for(&p.actor, cur.content.dept_id)
        .await?;
    form_page(&ctx, &p, Some(id), &ItemForm::from_input(&cur.content), &[]).await
}

/// Checks the whole form; writes only when every field is right. A refused form comes back
/// with the messages beside the fields (422), and nothing is written.
async fn save(ctx: &AppCtx, p: &PageCtx, id: Option<i64>, f: FormData) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    p.actor.require_any_role(MAINTAINERS)?;
    let mut form = ItemForm::from_post(&f);
    form.fill_codes();
    let (input, mut errs) = form.to_input();
    if !errs.is_empty() {
        // Show what the rules say as well, so one round trip names every problem.
        if let Err(e) = input.validate() {
            errs.extend(errors_of(&e));
        }
        let errs = errors_of(&Error::Validation(errs));
        return form_page(ctx, p, id, &form, &errs).await;
    }
    let s = svc(ctx);
    let r = match id {
        None => s.create_item(&p.actor, input).await,
        Some(id) => s.update_item(&p.actor, id, input).await,
    };
    match r {
        Ok(item) => Ok(see_other(&format!(
            "/services/items/{}/versions?msg={}",
            item.id,
            esc(&format!("已保存第 {} 版草稿，发布后生效", item.version))
        ))),
        Err(e @ (Error::Validation(_) | Error::Conflict { .. })) => {
            form_page(ctx, p, id, &form, &errors_of(&e)).await
        }
        // A department chosen outside one's own: shown beside the field, like any refusal.
        Err(Error::Forbidden(m)) => {
            form_page(
                ctx,
                p,
                id,
                &form,
                &[FieldError::new("dept_id", "forbidden", m)],
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn new_post(State(ctx): State<AppCtx>, p: PageCtx, f: FormData) -> PageResult {
    save(&ctx, &p, None, f).await
}

async fn edit_post(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    f: FormData,
) -> PageResult {
    save(&ctx, &p, Some(id), f).await
}

// ---- a version, read-only ----

fn facts(i: &ServiceItem, dept: &str) -> Markup {
    let c = &i.content;
    html! {
        dl.facts {
            dt { "基本编码" } dd.mono { (c.basic_code) }
            dt { "实施编码" } dd.mono { (c.impl_code) }
            dt { "事项名称" } dd { (c.name) }
            dt { "事项类型" } dd { (c.item_type.label()) }
            dt { "行使层级" } dd { (c.level.label()) }
            dt { "审批方式" } dd { (c.mode.label()) }
            dt { "办件类型" } dd { (c.handling.label()) }
            dt { "实施部门" } dd { (dept) }
            dt { "设定依据" } dd { (c.legal_basis) }
            dt { "受理条件" } dd { (c.conditions) }
            dt { "法定时限" } dd { (c.legal_days) " " (c.time_unit.label()) }
            dt { "承诺时限" } dd { (c.promised_days) " " (c.time_unit.label()) " （压缩 " (format!("{:.0}", c.compression() * 100.0)) "%）" }
            dt { "收费" } dd { @if c.fees.is_empty() { "不收费" } @else { (c.fees) } }
            dt { "办理深度" } dd { (c.depth.label()) }
            dt { "出件方式" } dd { (c.delivery.iter().map(|d| d.label()).collect::<Vec<_>>().join("、")) }
            @if let Some(r) = &c.result_license { dt { "结果证照" } dd { (r) } }
            dt { "办理窗口" } dd { (c.windows) }
            dt { "办理时间" } dd { (c.hours) }
            dt { "跨域通办" } dd { @if c.cross_region.is_empty() { "—" } @else { (c.cross_region.join("、")) } }
            dt { "备注" } dd { (c.notes) }
        }
        h2 { "申请材料" }
        table #version-materials {
            thead { tr { th { "代码" } th { "材料名称" } th { "形式" } th { "份数" } th { "必要性" } th { "空白表格/样表" } th { "免提交" } } }
            tbody {
                @for m in &c.materials {
                    tr {
                        td.mono { (m.key) } td { (m.name) } td { (m.form.label()) } td { (m.copies) }
                        td { @if m.required { "必需" } @else { "视情形：" (m.condition.clone().unwrap_or_default()) } }
                        td { @if m.blank_form { "空白表格 " } @if m.sample { "示例样表" } }
                        td {
                            @if let Some(l) = &m.from_license { "电子证照：" (l) }
                            @else if m.from_shared_data { "共享数据调取" } @else { "—" }
                        }
                    }
                }
            }
        }
        @if !c.fields.is_empty() {
            h2 { "申请表字段" }
            ul { @for x in &c.fields { li { (x.label) "（" span.mono { (x.key) } "，" (x.kind.label()) @if !x.required { "，选填" } "）" } } }
        }
        @if !c.scenarios.is_empty() {
            h2 { "情形" }
            ul { @for s in &c.scenarios { li {
                (s.name) "（" span.mono { (s.code) } "）"
                @if !s.waived.is_empty() { "：免交 " (s.waived.join("、")) }
                @if !s.extra_materials.is_empty() { "；另需 " (s.extra_materials.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join("、")) }
            } } }
        }
        @if !c.special_procedures.is_empty() {
            h2 { "特别程序" }
            ul { @for x in &c.special_procedures { li { (x.name) "：" (x.days) " 天" } } }
        }
        @if let Some(r) = &c.auto_rule {
            h2 { "秒批规则" }
            p { "材料齐全" @for x in &r.conditions { "，且 " span.mono { (x.field) } " " (x.test.label()) @if let Some(v) = &x.value { " " (v.to_string()) } } " 时自动准予。" }
        }
    }
}

async fn version_page(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path((id, v)): Path<(i64, i64)>,
) -> PageResult {
    let s = svc(&ctx);
    // Staff only, like the versions list; the service hides drafts from anyone else.
    let all = s.item_versions(&p.actor, id).await?;
    let i = s.item_version(Some(&p.actor), id, v).await?;
    let names = dept_names(&ctx, &p.actor, &[i.content.dept_id]).await;
    let latest = all.last().map(|x| x.version) == Some(v);
    let body = html! {
        (style())
        p { a href=(format!("/services/items/{id}/versions")) { "← 版本记录" } }
        p.notice role="status" #version-status {
            "第 " (i.version) " 版 · " (i.status.label()) " · 只读"
            @if !latest { "（已有更新的版本）" }
        }
        (facts(&i, names.get(&i.content.dept_id).map_or("—", String::as_str)))
    };
    Ok(page(
        &p,
        &format!("{} · 第 {} 版", i.content.name, i.version),
        body,
    )
    .into_response())
}

// ---- versions and publishing ----

#[derive(Deserialize, Default)]
struct MsgQuery {
    #[serde(default)]
    msg: String,
    #[serde(default)]
    err: String,
}

fn who_when(history: &[ItemChange], version: i64, actions: &[&str]) -> Markup {
    match history
        .iter()
        .rev()
        .find(|h| h.version == version && actions.contains(&h.action.as_str()))
    {
        Some(h) => html! { (h.actor_name) br; span.muted { (format_minute(h.at)) } },
        None => html! { "—" },
    }
}

async fn versions(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    Query(m): Query<MsgQuery>,
) -> PageResult {
    let s = svc(&ctx);
    let all = s.item_versions(&p.actor, id).await?;
    let history = s.item_history(&p.actor, id).await?;
    let cur = all
        .last()
        .cloned()
        .ok_or_else(|| Error::not_found("service_item", "事项不存在"))?;
    let may_write = s
        .require_item_rights_for(&p.actor, cur.content.dept_id)
        .await
        .is_ok();
    let names = dept_names(&ctx, &p.actor, &[cur.content.dept_id]).await;
    let body = html! {
        (style())
        @if !m.msg.is_empty() { (notice(&m.msg)) }
        @if !m.err.is_empty() { (alert(&m.err)) }
        p { a href="/services/items" { "← 事项管理" } }
        p {
            span.mono { (cur.content.impl_code) } " · " (names.get(&cur.content.dept_id).map_or("—", String::as_str))
            " · 最新：第 " (cur.version) " 版 " (status_cell(&cur))
        }
        div.actions {
            @if may_write {
                a.button #edit href=(format!("/services/items/{id}/edit")) { "编辑" }
                @if cur.status == ItemStatus::Draft {
                    a.button #publish href=(format!("/services/items/{id}/publish")) { "发布第 " (cur.version) " 版" }
                }
            }
            @if has_published(&cur) { a #guide href=(format!("/guide/items/{id}")) { "查看办事指南" } }
        }
        table #versions {
            thead { tr { th { "版本" } th { "状态" } th { "保存" } th { "发布" } th { "" } } }
            tbody {
                @for v in all.iter().rev() {
                    tr id=(format!("v{}", v.version)) {
                        td { "第 " (v.version) " 版" }
                        td { span class=(format!("status-{}", v.status.code())) { (v.status.label()) } }
                        td { (who_when(&history, v.version, &["create", "edit"])) }
                        td { (who_when(&history, v.version, &["publish"])) }
                        td { a href=(format!("/services/items/{id}/versions/{}", v.version)) { "查看" } }
                    }
                }
            }
        }
    };
    Ok(page(&p, &cur.content.name, body).into_response())
}

/// The labels of what differs between two versions, for the publish confirmation.
fn changes(old: &ItemInput, new: &ItemInput) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut diff = |label: &'static str, same: bool| {
        if !same {
            out.push(label);
        }
    };
    diff("基本编码", old.basic_code == new.basic_code);
    diff("事项名称", old.name == new.name);
    diff("事项类型", old.item_type == new.item_type);
    diff("行使层级", old.level == new.level);
    diff("审批方式", old.mode == new.mode);
    diff("办件类型", old.handling == new.handling);
    diff("实施部门", old.dept_id == new.dept_id);
    diff("设定依据", old.legal_basis == new.legal_basis);
    diff("受理条件", old.conditions == new.conditions);
    diff("申请材料", old.materials == new.materials);
    diff("申请表字段", old.fields == new.fields);
    diff("情形", old.scenarios == new.scenarios);
    diff(
        "时限",
        (old.legal_days, old.promised_days, old.time_unit)
            == (new.legal_days, new.promised_days, new.time_unit),
    );
    diff("收费", old.fees == new.fees);
    diff("办理深度", old.depth == new.depth);
    diff("出件方式", old.delivery == new.delivery);
    diff("结果证照", old.result_license == new.result_license);
    diff(
        "办理窗口和时间",
        (&old.windows, &old.hours) == (&new.windows, &new.hours),
    );
    diff("跨域通办", old.cross_region == new.cross_region);
    diff("特别程序", old.special_procedures == new.special_procedures);
    diff("秒批规则", old.auto_rule == new.auto_rule);
    diff("备注", old.notes == new.notes);
    out
}

async fn publish_confirm(State(ctx): State<AppCtx>, p: PageCtx, Path(id): Path<i64>) -> PageResult {
    p.actor.require_any_role(MAINTAINERS)?;
    let s = svc(&ctx);
    let all = s.item_versions(&p.actor, id).await?;
    let cur = all
        .last()
        .cloned()
        .ok_or_else(|| Error::not_found("service_item", "事项不存在"))?;
    if cur.status != ItemStatus::Draft {
        return Ok(see_other(&format!(
            "/services/items/{id}/versions?err={}",
            esc("该事项没有待发布的草稿")
        )));
    }
    s.require_item_rights_for(&p.actor, cur.content.dept_id)
        .await?;
    let before = all.iter().rev().find(|v| v.status == ItemStatus::Published);
    let names = dept_names(&ctx, &p.actor, &[cur.content.dept_id]).await;
    let body = html! {
        (style())
        div.alert role="alert" #confirm-text {
            "确认发布第 " (cur.version) " 版？发布后该版本不能再修改，办事指南和新申请立即使用它"
            @if let Some(b) = before { "，第 " (b.version) " 版停止使用（已按它受理的办件不受影响）" }
            "。"
        }
        @if let Some(b) = before {
            @let ch = changes(&b.content, &cur.content);
            p #changes { "与第 " (b.version) " 版相比改动了：" @if ch.is_empty() { "无改动" } @else { strong { (ch.join("、")) } } "。" }
        }
        form #publish-form method="post" action=(format!("/services/items/{id}/publish")) {
            (csrf_input(&p))
            input type="hidden" name="version" value=(cur.version);
            div.actions {
                button type="submit" #confirm-publish { "确认发布" }
                a href=(format!("/services/items/{id}/versions")) { "取消" }
            }
        }
        h2 { "第 " (cur.version) " 版内容" }
        (facts(&cur, names.get(&cur.content.dept_id).map_or("—", String::as_str)))
    };
    Ok(page(&p, &format!("发布事项：{}", cur.content.name), body).into_response())
}

async fn publish_post(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let s = svc(&ctx);
    // The version confirmed must still be the draft: a draft changed since the page was read
    // is shown again rather than published unseen.
    let cur = latest(&s, &p.actor, id).await?;
    if f.get("version") != cur.version.to_string() {
        return Ok(see_other(&format!(
            "/services/items/{id}/versions?err={}",
            esc("草稿在确认后又被修改，请重新查看后再发布")
        )));
    }
    match s.publish_item(&p.actor, id).await {
        Ok(i) => Ok(see_other(&format!(
            "/services/items/{id}/versions?msg={}",
            esc(&format!("已发布第 {} 版，办事指南已更新", i.version))
        ))),
        Err(e @ (Error::IllegalTransition { .. } | Error::Conflict { .. })) => Ok(see_other(
            &format!("/services/items/{id}/versions?err={}", esc(&e.detail())),
        )),
        Err(e) => Err(e.into()),
    }
}

// ---- 实施清单 import ----

const REQUIRED_COLUMNS: &str =
    "实施编码、事项名称、事项类型、实施部门、办件类型、法定时限、承诺时限";

fn import_body(p: &PageCtx, errors: &[FieldError], report: Option<&ImportReport>) -> Markup {
    html! {
        (style())
        p { a href="/services/items" { "← 事项管理" } }
        @if let Some(r) = report { (import_report(r)) }
        (error_summary(errors))
        form #import-form method="post" action="/services/items/import" enctype="multipart/form-data" {
            (csrf_input(p))
            div.field {
                label for="file" { "实施清单文件（.xlsx）" }
                input #file type="file" name="file" accept=".xlsx,.xls,.csv" required aria-invalid=[errors.iter().any(|e| e.field == "file").then_some("true")];
                (field_error(errors, "file"))
            }
            div.field {
                label { input type="checkbox" name="publish" value="1"; " 导入后立即发布（否则保存为草稿，逐项发布）" }
            }
            button type="submit" #do-import { "导入" }
        }
        h2 { "文件格式" }
        p { "第一行为表头，每行一个事项，列与“下载实施清单”导出的文件相同，可先下载、修改后再导入。必需的列：" (REQUIRED_COLUMNS) "。" }
        p { "申请材料写成 " code { "代码:名称[:形式][:可调取的电子证照]" } "，多个用“；”分隔。实施编码已存在的行修改该事项（已发布的生成新版本草稿），其余的新建。" }
        p { "有问题的行不导入，并按行号列出；其余行照常导入。缺少必需的列或无法读取的文件整个不导入。" }
        p { a href="/api/v1/services/items/export.xlsx" { "下载当前实施清单（.xlsx）" } }
    }
}

fn import_report(r: &ImportReport) -> Markup {
    let bad_lines: std::collections::BTreeSet<usize> = r.errors.iter().map(|e| e.line).collect();
    html! {
        div.notice role="status" #import-summary {
            "共 " (r.total_rows) " 行：新建 " (r.created) " 项，修改 " (r.updated) " 项"
            @if r.published > 0 { "，发布 " (r.published) " 项" }
            @if !bad_lines.is_empty() { "；" (bad_lines.len()) " 行有问题，未导入" }
            "。"
        }
        @if !r.imported.is_empty() {
            h2 { "已导入" }
            table #imported {
                thead { tr { th { "行号" } th { "实施编码" } th { "事项名称" } th { "结果" } } }
                tbody {
                    @for x in &r.imported {
                        tr {
                            td { (x.line) }
                            td.mono { (x.impl_code) }
                            td { a href=(format!("/services/items/{}/versions", x.item_id)) { (x.name) } }
                            td {
                                (if x.created { "新建" } else { "修改" }) "，第 " (x.version) " 版，"
                                (if x.published { "已发布" } else { "草稿" })
                            }
                        }
                    }
                }
            }
        }
        @if !r.errors.is_empty() {
            h2 { "有问题的行" }
            table #import-errors {
                thead { tr { th { "行号" } th { "列" } th { "问题" } } }
                tbody {
                    @for e in &r.errors {
                        tr { td { "第 " (e.line) " 行" } td { (if e.field.is_empty() { "—" } else { e.field.as_str() }) } td { (e.reason) } }
                    }
                }
            }
        }
    }
}

async fn import_form(p: PageCtx) -> PageResult {
    p.actor.require_any_role(MAINTAINERS)?;
    Ok(page(&p, "导入实施清单", import_body(&p, &[], None)).into_response())
}

fn bad_upload(e: axum::extract::multipart::MultipartError) -> PageError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        PageError(Error::PayloadTooLarge { limit: 0 })
    } else {
        PageError(Error::BadRequest {
            code: "malformed_upload",
            detail: "上传的表单无法读取，请重新选择文件后再试".into(),
            field: Some("file".into()),
        })
    }
}

async fn import_post(State(ctx): State<AppCtx>, p: PageCtx, mut mp: Multipart) -> PageResult {
    let (mut csrf, mut publish, mut file) = (String::new(), false, None);
    while let Some(field) = mp.next_field().await.map_err(bad_upload)? {
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "_csrf" => csrf = field.text().await.map_err(bad_upload)?,
            "publish" => publish = !field.text().await.map_err(bad_upload)?.is_empty(),
            "file" => {
                let name = field.file_name().unwrap_or("").to_owned();
                let bytes = field.bytes().await.map_err(bad_upload)?;
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    p.check_csrf(&csrf)?;
    p.actor.require_any_role(MAINTAINERS)?;
    let refuse = |msg: String| -> PageResult {
        let errs = [FieldError::new("file", "invalid_file", msg)];
        Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            page(&p, "导入实施清单", import_body(&p, &errs, None)),
        )
            .into_response())
    };
    let Some((name, bytes)) = file.filter(|(n, b)| !n.is_empty() || !b.is_empty()) else {
        return refuse("请选择要导入的 .xlsx 文件".into());
    };
    if bytes.is_empty() {
        return refuse(format!("文件“{name}”是空的"));
    }
    let sheet = match tokio::task::spawn_blocking(move || tabular::read_named(&name, &bytes))
        .await
        .map_err(Error::internal)?
    {
        Ok(s) => s,
        Err(e) => return refuse(e.to_string()),
    };
    match import::import_items(&svc(&ctx), &p.actor, &sheet, publish).await {
        Ok(r) => Ok(page(&p, "导入实施清单", import_body(&p, &[], Some(&r))).into_response()),
        // Refused as a whole (a missing column, another department's items): nothing written.
        Err(e @ (Error::Validation(_) | Error::Forbidden(_))) => {
            refuse(format!("整个文件未导入：{}", e.detail()))
        }
        Err(e) => Err(e.into()),
    }
}

/// The staff filter's words: whitespace- or comma-separated, each matched as a substring of the
/// item's code, name or department (staff type codes and exact names; the public guide search
/// is the ranked Chinese one in `search.rs`).
fn terms(q: &str) -> Vec<String> {
    q.split(|c: char| c.is_whitespace() || c == '，' || c == ',')
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .take(8)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormData {
        FormData::of(pairs)
    }

    #[test]
    fn an_item_survives_the_form_unchanged() {
        let mut i = crate::items::domain::tests::sample();
        i.special_procedures = vec![SpecialProcedure {
            name: "专家评审".into(),
            days: 10,
        }];
        i.scenarios[0].extra_materials = import::parse_materials("lease:租赁合同:复印件").unwrap();
        i.auto_rule = Some(AutoRule {
            conditions: vec![
                Condition {
                    field: "applicant_name".into(),
                    test: Test::Present,
                    value: None,
                },
                Condition {
                    field: "applicant_name".into(),
                    test: Test::OneOf,
                    value: Some(json!(["张三", "李四"])),
                },
            ],
        });
        let (back, errs) = ItemForm::from_input(&i).to_input();
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(back, i);
    }

    #[test]
    fn blank_and_removed_rows_are_dropped_and_errors_name_the_rows_shown() {
        let f = form(&[
            ("materials[0].name", "身份证"),
            ("materials[0].copies", "1"),
            ("materials[1].name", ""),
            ("materials[1].copies", "1"),
            ("materials[2].name", "照片"),
            ("materials[2].remove", "1"),
            ("materials[3].name", "体检表"),
            ("materials[3].copies", "两份"),
            ("materials[3].required", "false"),
            ("legal_days", "abc"),
            ("promised_days", "3"),
        ]);
        let mut ff = ItemForm::from_post(&f);
        ff.fill_codes();
        let names: Vec<&str> = ff.materials.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["身份证", "体检表"]);
        assert_eq!(ff.materials[1].key, "体检表");
        assert!(!ff.materials[1].required);
        let (_, errs) = ff.to_input();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "item_type",
                "level",
                "mode",
                "handling",
                "time_unit",
                "depth",
                "dept_id",
                "legal_days",
                "materials[1].copies"
            ]
        );
        assert_eq!(errs[7].detail, "法定时限应为不小于 0 的整数");
    }

    #[test]
    fn cross_region_errors_point_at_the_one_box() {
        let e = Error::Validation(vec![
            FieldError::new(
                "cross_region[0]",
                "invalid_region_code",
                "“12”不是有效的行政区划代码",
            ),
            FieldError::new(
                "cross_region[1]",
                "invalid_region_code",
                "“13”不是有效的行政区划代码",
            ),
        ]);
        let errs = errors_of(&e);
        assert!(errs.iter().all(|f| f.field == "cross_region"));
        assert_eq!(errs.len(), 2);
    }
}
