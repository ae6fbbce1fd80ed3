//! The yiwang HTTP server. It owns no business logic: it composes the modules listed in
//! [`modules`] through the module contract ([`webcore::Module`]: migrations, routes,
//! navigation, OpenAPI, background jobs), and wraps them in what every request needs — request
//! ids and tracing, metrics, body limits and timeouts, authentication (session cookie or API
//! token), problem+json for everything that goes wrong, and graceful shutdown.
//!
//! Adding a module: one line in [`modules`].

mod audit_http;
mod home;
mod lookup;
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
use webcore::{AppCtx, Module, NavItem};

/// Every module, in the order of the navigation. Migrations follow each module's
/// `depends_on`, not this order.
pub fn modules() -> Vec<Module> {
    vec![
        home::module(),
        hotline::module(),
        services::module(),
        licenses::module(),
        sharing::module(),
        opendata::module(),
        sso::module(),
        notify::module(),
        org::module(),
        audit_http::module(),
        lookup::module(),
    ]
}

/// Every module's migrations, each after those of the modules it stands on.
pub fn migrations() -> Vec<kernel::migrate::Migration> {
    webcore::module::ordered_migrations(&modules())
}

/// Seals what every module keeps sealed at rest but an older version stored as plaintext
/// (idempotent: sealed values are left alone). Run at start-up, after the migrations.
pub async fn seal_at_rest(db: &Db) -> kernel::Result<u64> {
    let columns: Vec<kernel::sealed::Column> =
        modules().into_iter().flat_map(|m| m.sealed).collect();
    kernel::sealed::seal_plaintext(db, &columns).await
}

/// Every module's navigation entries, in the order they appear.
pub fn nav() -> Vec<NavItem> {
    modules().into_iter().flat_map(|m| m.nav).collect()
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
    let mut doc = utoipa::openapi::OpenApi::default();
    for m in modules() {
        doc.merge(m.openapi);
    }
    doc.info.title = "yiwang 一网 API".into();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.info.description = Some("政务服务和数据管理局一体化平台。错误以 application/problem+json 返回，含稳定的 code 与中文 detail。".into());
    doc
}

/// The whole application with its middleware.
pub fn app(ctx: AppCtx) -> Router {
    let body_limit = ctx.config.server.body_limit_kb * 1024;
    let timeout = Duration::from_secs(ctx.config.server.request_timeout_secs);
    let mut routes = Router::new();
    let mut lookups = Vec::new();
    for m in modules() {
        lookups.extend(m.lookup);
        routes = routes.merge(m.routes);
    }
    let api = Arc::new(openapi());
    let config = ctx.config.clone();
    let routes = routes
        .route(
            "/api/openapi.json",
            get(move || async move { axum::Json(api.as_ref().clone()) }),
        )
        .fallback(middleware::not_found)
        .layer(axum::Extension(lookup::Lookups(Arc::new(lookups))))
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
        .route("/metrics", get(middleware::metrics).with_state(config))
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
        .layer(axum::middleware::from_fn(middleware::security_headers))
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

/// Resolves on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when this is called, not
/// when the future is first polled: call it before the server starts answering, so that a
/// SIGTERM right after the first answer still ends it gracefully.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! { _ = wait(term) => {}, _ = wait(int) => {} }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

mod jobs {
    //! Background upkeep: every module's jobs, each on its own timer. Jobs are idempotent, so
    //! several instances may run them at once.
    use webcore::AppCtx;

    pub fn spawn(ctx: AppCtx) {
        for m in super::modules() {
            for job in m.jobs {
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    let mut tick = tokio::time::interval(job.every);
                    tick.tick().await; // the first tick is immediate; start after one period
                    loop {
                        tick.tick().await;
                        if let Err(e) = job.run(ctx.clone()).await {
                            tracing::warn!(job = job.name, error = %e, "background job failed");
                        }
                    }
                });
            }
        }
    }
}
