//! The home page and the readiness probe.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use kernel::Role;
use maud::{html, Markup};
use utoipa::OpenApi;
use webcore::layout::page;
use webcore::{AppCtx, NavItem, PageCtx};

/// The home page and `/readyz`, first in the navigation.
pub fn module() -> webcore::Module {
    webcore::Module::new("home")
        .routes(routes())
        .nav(nav())
        .openapi(WebApi::openapi())
}

fn nav() -> Vec<NavItem> {
    vec![
        NavItem {
            section: "工作台",
            label: "首页",
            href: "/",
            roles: &Role::STAFF,
        },
        // Citizens never see staff words such as 工作台.
        NavItem {
            section: "我的",
            label: "首页",
            href: "/",
            roles: &[Role::Citizen],
        },
    ]
}

fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/", get(home))
        .route("/readyz", get(readyz))
}

#[derive(OpenApi)]
#[openapi(paths(readyz), tags((name = "ops", description = "运行状态")))]
pub struct WebApi;

/// Ready when the database answers (liveness is `/healthz`, which needs nothing).
#[utoipa::path(get, path = "/readyz", tag = "ops", responses((status = 200, description = "ready"), (status = 503, description = "database unavailable")))]
async fn readyz(State(ctx): State<AppCtx>) -> (StatusCode, &'static str) {
    if ctx.db.ping().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

async fn home(State(ctx): State<AppCtx>, p: PageCtx) -> Markup {
    // Shown after every login (等保: the last login's time and address); a failure to read it
    // must not keep anyone from the home page.
    let previous = org::OrgService::new(ctx.db.clone(), ctx.config.auth.clone())
        .previous_login(&p.actor)
        .await
        .ok()
        .flatten();
    let groups = webcore::layout::visible_nav(&p);
    let roles: Vec<&str> = p.actor.roles.iter().map(|r| r.label()).collect();
    let staff = p.actor.has_any_role(&Role::STAFF);
    page(
        &p,
        if staff { "工作台" } else { "我的首页" },
        html! {
            p { "您好，" (p.actor.display_name) "。当前角色：" (roles.join("、")) "。" }
            @if let Some((at, ip)) = &previous {
                p.muted #previous-login {
                    "上次登录：" (kernel::clock::format_minute(*at)) "，来自 " (ip) "。"
                    @if staff { a href="/account/sessions" { "查看登录会话" } }
                }
            }
            div.grid {
                @for (section, items) in &groups {
                    @for it in items.iter().filter(|i| i.href != "/") {
                        a.card href=(it.href) style="text-decoration:none;color:inherit" {
                            div.muted { (section) }
                            div style="font-size:1.15em;font-weight:600" { (it.label) }
                        }
                    }
                }
            }
            p.muted { "快捷键：按 / 聚焦当前页的查找框。" }
        },
    )
}
