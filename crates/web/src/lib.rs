//! The yiwang HTTP server. It owns no business logic: it composes each module's routes and
//! navigation, and wraps them in what every request needs — request ids and tracing, metrics,
//! body limits and timeouts, authentication (session cookie or API token), problem+json for
//! everything that goes wrong, and graceful shutdown.
//!
//! Adding a module: append its `migrations()` to [`migrations`], its `nav()` to [`nav`], its
//! `routes()` in [`app`], and its OpenAPI struct in [`openapi`].

mod audit_http;
mod home;
mod middleware;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use kernel::config::Config;
use kernel::Db;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;
use webcore::{AppCtx, NavItem};

/// Every module's migrations, in dependency order. Each module's list starts with those of the
/// modules it stands on, so a migration already listed (org's, under the hotline's) is kept once.
pub fn migrations() -> Vec<kernel::migrate::Migration> {
    let mut all = hotline::migrations();
    for m in services::migrations() {
        if !all
            .iter()
            .any(|x| x.module == m.module && x.version == m.version)
        {
            all.push(m);
        }
    }
    all
}

/// Every module's navigation entries, in the order they appear.
pub fn nav() -> Vec<NavItem> {
    let mut n = home::nav();
    n.extend(hotline::http::nav());
    n.extend(hotline::pages::nav());
    n.extend(hotline::pages_b::nav());
    n.extend(services::http::nav());
    n.extend(org::http::nav());
    n.extend(audit_http::nav());
    n
}

pub fn context(db: Db, config: Config) -> AppCtx {
    AppCtx {
        db,
        config: Arc::new(config),
        nav: Arc::new(nav()),
    }
}

/// The OpenAPI 3 document, generated from the handlers' annotations.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = home::WebApi::openapi();
    doc.merge(org::http::OrgApi::openapi());
    doc.merge(hotline::http::HotlineApi::openapi());
    doc.merge(hotline::attachments::AttachmentApi::openapi());
    doc.merge(hotline::import::ImportApi::openapi());
    doc.merge(hotline::export::ExportApi::openapi());
    doc.merge(hotline::notify::NotifyApi::openapi());
    doc.merge(hotline::report::ReportApi::openapi());
    doc.merge(hotline::intel::http::IntelApi::openapi());
    doc.merge(hotline::search::SearchApi::openapi());
    doc.merge(hotline::alerts::AlertApi::openapi());
    doc.merge(services::http::ServicesApi::openapi());
    doc.merge(audit_http::AuditApi::openapi());
    doc.info.title = "yiwang 一网 API".into();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.info.description = Some("政务服务和数据管理局一体化平台。错误以 application/problem+json 返回，含稳定的 code 与中文 detail。".into());
    doc
}

/// The whole application with its middleware.
pub fn app(ctx: AppCtx) -> Router {
    let body_limit = ctx.config.server.body_limit_kb * 1024;
    let timeout = Duration::from_secs(ctx.config.server.request_timeout_secs);
    let routes = Router::new()
        .merge(home::routes())
        .merge(org::http::routes())
        .merge(hotline::http::routes())
        .merge(hotline::pages::routes())
        .merge(hotline::open311::routes())
        .merge(hotline::import::routes())
        .merge(hotline::export::routes())
        .merge(hotline::report::routes())
        .merge(hotline::intel::http::routes())
        .merge(hotline::notify::routes())
        .merge(hotline::attachments::routes())
        .merge(hotline::pages_b::routes())
        .merge(hotline::search::routes())
        .merge(hotline::alerts::routes())
        .merge(services::http::routes())
        .merge(services::pages::routes())
        .merge(services::pages_window::routes())
        .merge(services::pages_items::routes())
        .merge(services::pages_report::routes())
        .merge(services::pages_feedback::routes())
        .merge(audit_http::routes())
        .route("/api/openapi.json", get(|| async { axum::Json(openapi()) }))
        .fallback(middleware::not_found)
        .layer(axum::middleware::from_fn_with_state(
            ctx.clone(),
            middleware::authenticate,
        ))
        .layer(axum::middleware::from_fn(
            middleware::problem_for_bare_errors,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(axum::middleware::from_fn(middleware::metrics_and_trace))
        .with_state(ctx);
    routes
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(middleware::metrics))
        .route(
            webcore::assets::CSS_PATH,
            get(|| async { asset("text/css; charset=utf-8", webcore::assets::CSS) }),
        )
        .route(
            webcore::assets::JS_PATH,
            get(|| async { asset("text/javascript; charset=utf-8", webcore::assets::JS) }),
        )
        .route(
            "/assets/favicon.svg",
            get(|| async { asset("image/svg+xml", webcore::assets::FAVICON) }),
        )
}

fn asset(ct: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, ct),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        body,
    )
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Stops accepting, lets requests in flight finish, and waits.
    pub async fn stop(mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        let _ = self.handle.await;
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Binds `listen` (port 0 picks a free port) and serves in the background. Used by `serve`,
/// `demo` and the tests alike.
pub async fn start(ctx: AppCtx, listen: &str) -> std::io::Result<Server> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    jobs::spawn(ctx.clone());
    let app = app(ctx).into_make_service_with_connect_info::<SocketAddr>();
    let handle = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
    });
    Ok(Server {
        addr,
        shutdown: Some(tx),
        handle,
    })
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

mod jobs {
    //! Background upkeep. Each job is idempotent, so several instances may run it at once.
    use webcore::AppCtx;

    pub fn spawn(ctx: AppCtx) {
        let hotline = hotline::http::svc(&ctx);
        tokio::spawn(async move {
            // Yellow and red cards; a compare-and-set per ticket keeps several instances honest.
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                if let Err(e) = hotline.sweep_cards().await {
                    tracing::warn!(error = %e, "card sweep failed");
                }
            }
        });
        let services = services::http::svc(&ctx);
        tokio::spawn(async move {
            // Cards on service-hall cases, compare-and-set per case like the hotline's.
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                if let Err(e) = services.sweep_cards().await {
                    tracing::warn!(error = %e, "case card sweep failed");
                }
            }
        });
        let db = ctx.db.clone();
        tokio::spawn(async move {
            // 研判告警: an alert already raised is refreshed, not raised again, so this is
            // idempotent across runs and instances.
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
            loop {
                tick.tick().await;
                if let Err(e) = hotline::alerts::run(&db, db.now()).await {
                    tracing::warn!(error = %e, "weak-signal alerts failed");
                }
            }
        });
        let db = ctx.db.clone();
        tokio::spawn(async move {
            // Notification outbox: webhooks, SMS, e-mail. Rows are claimed before sending, so
            // several instances never send one twice; failures wait out their back-off.
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(15));
            loop {
                tick.tick().await;
                if let Err(e) = hotline::notify::deliver_due(&db, db.now()).await {
                    tracing::warn!(error = %e, "notification delivery failed");
                }
            }
        });
        tokio::spawn(async move {
            let org = org::OrgService::new(ctx.db.clone(), ctx.config.auth.clone());
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
            loop {
                tick.tick().await;
                if let Err(e) = org.sweep().await {
                    tracing::warn!(error = %e, "session sweep failed");
                }
            }
        });
    }
}
