//! The audit chain over HTTP: verification and an entity's history, for admins.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use kernel::audit::{self, AuditRecord, Verification};
use kernel::{Actor, Role};
use maud::{html, Markup};
use serde::Deserialize;
use utoipa::OpenApi;
use webcore::layout::page;
use webcore::{ApiActor, ApiResult, AppCtx, NavItem, PageCtx, PageError, Query};

/// The kernel's tables (audit chain, calendar) and the audit pages and API over them.
pub fn module() -> webcore::Module {
    webcore::Module::new("kernel")
        .migrations(kernel::migrate::kernel_migrations())
        .routes(routes())
        .nav(nav())
        .openapi(AuditApi::openapi())
}

fn nav() -> Vec<NavItem> {
    vec![NavItem {
        section: "系统管理",
        label: "审计链",
        href: "/admin/audit",
        roles: &[Role::Admin],
    }]
}

fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/audit/verify", get(api_verify))
        .route("/api/v1/audit/records", get(api_records))
        .route("/admin/audit", get(audit_page))
}

#[derive(OpenApi)]
#[openapi(paths(api_verify, api_records), tags((name = "audit", description = "审计链（SM3 哈希链）")))]
pub struct AuditApi;

fn require(actor: &Actor) -> kernel::Result<()> {
    actor.require_any_role(&[Role::Admin, Role::Supervisor])?;
    actor.require_scope("audit:read")
}

/// Recomputes the whole SM3 chain and names the first broken record, if any.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", responses((status = 200, description = "verification result")))]
async fn api_verify(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
) -> ApiResult<axum::Json<Verification>> {
    require(&a)?;
    Ok(axum::Json(audit::verify(&ctx.db).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct RecordsQuery {
    /// e.g. `user`, `department`.
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// Newest records when no entity is given (default 100). Clamped, not refused: a value
    /// above 1000 is taken as 1000, one below 1 as 1.
    pub limit: Option<i64>,
}

/// An entity's history (oldest first), or the newest records.
#[utoipa::path(get, path = "/api/v1/audit/records", tag = "audit", params(RecordsQuery), responses((status = 200, description = "records")))]
async fn api_records(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<RecordsQuery>,
) -> ApiResult<axum::Json<Vec<AuditRecord>>> {
    require(&a)?;
    let rows = match (q.entity, q.entity_id) {
        (Some(e), Some(id)) => audit::history(&ctx.db, &e, &id).await?,
        _ => audit::recent(&ctx.db, q.limit.unwrap_or(100).clamp(1, 1000)).await?,
    };
    Ok(axum::Json(rows))
}

async fn audit_page(State(ctx): State<AppCtx>, p: PageCtx) -> Result<Markup, PageError> {
    require(&p.actor)?;
    let v = audit::verify(&ctx.db).await?;
    let rows = audit::recent(&ctx.db, 100).await?;
    Ok(page(
        &p,
        "审计链",
        html! {
            @match &v.first_broken {
                None => div.notice role="status" { "审计链完整：共 " (v.records) " 条记录，逐条 SM3 校验通过。链头哈希 " code { (&v.head_hash[..16]) "…" } }
                Some(b) => div.alert role="alert" { "审计链在第 " (b.seq) " 条记录处断裂：" (b.reason) }
            }
            table {
                thead { tr { th { "序号" } th { "时间" } th { "操作者" } th { "对象" } th { "动作" } th { "哈希" } } }
                tbody {
                    @for r in &rows {
                        tr {
                            td { (r.seq) }
                            td { (kernel::clock::format_minute(r.at)) }
                            td.mono { (r.actor) }
                            td { (r.entity) " #" (r.entity_id) }
                            td { (r.action) }
                            td.mono { (&r.hash[..12]) "…" }
                        }
                    }
                }
            }
        },
    ))
}
