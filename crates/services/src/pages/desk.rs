//! The 综合窗口: intake for every department and 出件.

use super::*;
use crate::domain::*;
use crate::service::{NewBundleCase, NewCase};
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use kernel::error::{Error, FieldError};
use maud::html;
use serde::Deserialize;
use webcore::layout::{csrf_input, error_summary, notice, page, text_field};
use webcore::{AppCtx, FormData, PageCtx, Query};

pub(super) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/services/desk", get(desk).post(desk_post))
        .route("/services/desk/deliver", post(desk_deliver))
}

// ---- 综合窗口 ----

#[derive(Deserialize)]
struct DeskQuery {
    item_id: Option<i64>,
    bundle_id: Option<i64>,
    #[serde(default)]
    msg: String,
}

/// What the clerk is receiving: one item, or a 一件事 bundle on its merged form.
#[derive(Clone, Copy, PartialEq)]
enum DeskTarget {
    None,
    Item(i64),
    Bundle(i64),
}

async fn desk(State(ctx): State<AppCtx>, p: PageCtx, Query(q): Query<DeskQuery>) -> PageResult {
    let target = match (q.bundle_id, q.item_id) {
        (Some(b), _) => DeskTarget::Bundle(b),
        (None, Some(i)) => DeskTarget::Item(i),
        (None, None) => DeskTarget::None,
    };
    desk_page(&ctx, &p, target, &FormData(vec![]), &[], &q.msg).await
}

async fn desk_page(
    ctx: &AppCtx,
    p: &PageCtx,
    target: DeskTarget,
    f: &FormData,
    errors: &[FieldError],
    msg: &str,
) -> PageResult {
    p.actor
        .require_any_role(<crate::service::FrontDesk as kernel::auth::Permission>::ROLES)?;
    let s = svc(ctx);
    let items = s.search_items("").await?;
    let bundles = s.bundles().await?;
    // The form to fill: its title, hidden target, fields and materials.
    let chosen = match target {
        DeskTarget::None => None,
        DeskTarget::Item(i) => {
            let it = s.published_item(i).await?;
            Some((
                it.content.name.clone(),
                ("item_id", i),
                it.content.fields,
                it.content.materials,
            ))
        }
        DeskTarget::Bundle(b) => {
            let v = s.bundle(b).await?;
            Some((
                format!("{}（一件事，一表申请）", v.bundle.content.name),
                ("bundle_id", b),
                v.merged.fields,
                v.merged.materials,
            ))
        }
    };
    let found = match &chosen {
        Some((_, _, _, materials)) => {
            s.exemption_preview(materials, f.get("applicant.id_no"))
                .await?
        }
        None => Default::default(),
    };
    let item_id = match target {
        DeskTarget::Item(i) => Some(i),
        _ => None,
    };
    let bundle_id = match target {
        DeskTarget::Bundle(b) => Some(b),
        _ => None,
    };
    let body = html! {
        @if !msg.is_empty() { (notice(msg)) }
        h2 { "收件" }
        form method="get" action="/services/desk" {
            div.field {
                label for="item_id" { "办理事项" }
                select #item_id name="item_id" {
                    @for i in &items { option value=(i.id) selected[item_id == Some(i.id)] { (i.content.name) "（" (i.content.handling.label()) "）" } }
                }
            }
            button #choose type="submit" { "选择" }
        }
        @if !bundles.is_empty() {
            form method="get" action="/services/desk" {
                div.field {
                    label for="bundle_id" { "或办理一件事" }
                    select #bundle_id name="bundle_id" {
                        @for b in &bundles { option value=(b.id) selected[bundle_id == Some(b.id)] { (b.content.name) } }
                    }
                }
                button #choose-bundle type="submit" { "选择" }
            }
        }
        @if let Some((title, (key, id), fields, materials)) = &chosen {
            h3 #desk-target { (title) }
            (error_summary(errors))
            form #desk-form method="post" action="/services/desk" {
                (csrf_input(p))
                input type="hidden" name=(key) value=(id);
                (applicant_fields(f, errors))
                (form_fields(fields, f, errors))
                (material_boxes(materials, f, &found))
                button type="submit" { "收件并转部门" }
            }
        }
        h2 { "一件事出件" }
        form #deliver-form method="post" action="/services/desk/deliver" {
            (csrf_input(p))
            (text_field("申请编号", "number", "", &[], "required"))
            div.field {
                label for="method" { "出件方式" }
                select #method name="method" { @for d in DeliveryMethod::ALL { option value=(d.code()) { (d.label()) } } }
            }
            (text_field("说明（窗口号或邮寄单号）", "detail", "", &[], ""))
            button type="submit" { "出件" }
        }
    };
    Ok(page(p, "综合窗口", body).into_response())
}

async fn desk_post(State(ctx): State<AppCtx>, p: PageCtx, f: FormData) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let s = svc(&ctx);
    let materials: Vec<String> = f.all("materials").into_iter().map(str::to_owned).collect();
    if let Ok(bundle_id) = f.get("bundle_id").parse::<i64>() {
        let v = s.bundle(bundle_id).await?;
        let input = NewBundleCase {
            applicant: read_applicant(&f),
            form: read_form(&v.merged.fields, &f),
            materials,
        };
        return match s.submit_bundle(&p.actor, bundle_id, input).await {
            Ok(b) => Ok(see_other(&format!(
                "/services/desk?msg={}",
                esc(&format!(
                    "已收件，一件事申请编号 {}，共 {} 个部门办件",
                    b.number,
                    b.cases.len()
                ))
            ))),
            Err(e @ Error::Validation(_)) => {
                desk_page(
                    &ctx,
                    &p,
                    DeskTarget::Bundle(bundle_id),
                    &f,
                    &errors_of(&e),
                    "",
                )
                .await
            }
            Err(e) => Err(e.into()),
        };
    }
    let item_id: i64 = f
        .get("item_id")
        .parse()
        .map_err(|_| Error::field("item_id", "required", "请选择事项"))?;
    let item = s.published_item(item_id).await?;
    let input = NewCase {
        item_id,
        scenario: None,
        applicant: read_applicant(&f),
        form: read_form(&item.content.fields, &f),
        materials,
    };
    match s.submit(&p.actor, input).await {
        Ok(c) => Ok(see_other(&format!(
            "/services/desk?msg={}",
            esc(&format!(
                "已收件，办件编号 {}，已转{}",
                c.case.number, c.status_label
            ))
        ))),
        Err(e @ Error::Validation(_)) => {
            desk_page(&ctx, &p, DeskTarget::Item(item_id), &f, &errors_of(&e), "").await
        }
        Err(e) => Err(e.into()),
    }
}

async fn desk_deliver(State(ctx): State<AppCtx>, p: PageCtx, f: FormData) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let method = DeliveryMethod::parse(f.get("method"))
        .ok_or_else(|| Error::field("method", "invalid", "请选择出件方式"))?;
    let r = svc(&ctx)
        .deliver_bundle(&p.actor, f.get("number").trim(), method, f.get("detail"))
        .await;
    let msg = match r {
        Ok(b) => format!("{} 已出件（{}）", b.number, method.label()),
        Err(e) => format!("未能出件：{}", e.detail()),
    };
    Ok(see_other(&format!("/services/desk?msg={}", esc(&msg))))
}
