//! The HTTP server: application state, router assembly, middleware order and graceful
//! shutdown. One file per API resource lives beside this one.

pub mod audit_log;
pub mod auth;
pub mod dev_outbox;
pub mod error;
pub mod health;
pub mod invitations;
pub mod me;
pub mod middleware;
pub mod security_headers;
pub mod status;

use std::{net::SocketAddr, sync::Arc, time::Instant};

use axum::{
    extract::{DefaultBodyLimit, FromRef},
    http::{header, HeaderValue, Request},
    middleware::{from_fn, from_fn_with_state},
    routing::get,
    Router,
};
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::{
    catch_panic::CatchPanicLayer,
    services::{ServeDir, ServeFile},
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};

use crate::{
    auth::{hashing::PasswordWorkers, secretbox::SecretBox, session_cache::SessionCache},
    clock::Clock,
    config::{PortalEnv, ServeArgs},
    db::Db,
    mail::Mailer,
};

pub use error::{ApiError, ApiJson, ApiResult};

/// Everything a handler may need. One pointer: every extractor and middleware layer clones
/// the state per request, so cloning must not copy the fields.
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

impl std::ops::Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

/// The fields of [`AppState`].
pub struct AppStateInner {
    /// The database.
    pub db: Db,
    /// The validated `serve` settings.
    pub config: Arc<ServeArgs>,
    /// Development or production.
    pub env: PortalEnv,
    /// Leptos' rendering options (site root, output name).
    pub leptos: LeptosOptions,
    /// Renders the Prometheus metrics.
    pub metrics: PrometheusHandle,
    /// When the server started, for uptime.
    pub started: Instant,
    /// The time (movable in tests).
    pub clock: Clock,
    /// Encrypts secrets at rest (TOTP secrets) with `PORTAL_SECRET_KEY`.
    pub secrets: SecretBox,
    /// Key of the recovery-code hashes, derived from `PORTAL_SECRET_KEY`.
    pub recovery_pepper: [u8; 32],
    /// Argon2id off the async runtime, bounded.
    pub passwords: PasswordWorkers,
    /// `PORTAL_PUBLIC_URL`'s origin, for the same-origin check.
    pub public_origin: String,
    /// Outgoing email.
    pub mailer: Mailer,
    /// Recently resolved sessions of this instance.
    pub sessions: Arc<SessionCache>,
}

impl AppState {
    /// Assembles the state from validated settings and the 32-byte secret key.
    pub fn new(
        db: Db,
        config: ServeArgs,
        env: PortalEnv,
        secret_key: [u8; 32],
        clock: Clock,
        mailer: Mailer,
    ) -> AppState {
        use hmac::{Hmac, Mac};
        let recovery_pepper = match <Hmac<sha2::Sha256> as Mac>::new_from_slice(&secret_key) {
            Ok(mut mac) => {
                mac.update(b"portal recovery codes v1");
                mac.finalize().into_bytes().into()
            }
            // HMAC accepts keys of any length; this arm exists only for the type system.
            Err(_) => secret_key,
        };
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            * 2;
        AppState(Arc::new(AppStateInner {
            db,
            leptos: leptos_options(&config),
            public_origin: config.public_origin(),
            config: Arc::new(config),
            env,
            metrics: crate::telemetry::metrics_handle(),
            started: Instant::now(),
            clock,
            secrets: SecretBox::new(secret_key),
            recovery_pepper,
            passwords: PasswordWorkers::new(workers),
            mailer,
            sessions: Arc::new(SessionCache::default()),
        }))
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

/// Leptos' options for serving the site built by cargo-leptos.
pub fn leptos_options(config: &ServeArgs) -> LeptosOptions {
    let output_name = std::env::var("LEPTOS_OUTPUT_NAME").unwrap_or_else(|_| "portal".to_string());
    let env = match std::env::var("LEPTOS_ENV").as_deref() {
        Ok("PROD") | Ok("prod") | Ok("production") => leptos::config::Env::PROD,
        _ => leptos::config::Env::DEV,
    };
    LeptosOptions::builder()
        .output_name(output_name)
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.site_addr)
        .env(env)
        .build()
}

/// The JSON API under `/api/v1`.
fn api_router() -> Router<AppState> {
    Router::new()
        .route("/status", get(status::get_status))
        .nest("/auth", auth::router().merge(invitations::auth_router()))
        .nest("/me", me::router())
        .merge(invitations::api_router())
        .merge(audit_log::router())
        .fallback(health::api_not_found)
        .method_not_allowed_fallback(health::api_method_not_allowed)
}

/// The whole application: API, operational endpoints, static assets and the Leptos pages.
pub fn router(state: AppState) -> Router {
    let pkg_dir = state.config.site_root.join("pkg");
    let favicon = state.config.site_root.join("favicon.svg");
    let pages = generate_route_list(app::App);
    let leptos_state = state.leptos.clone();
    let fallback_options = state.leptos.clone();

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .nest("/api/v1", api_router())
        .leptos_routes_with_context(&state, pages, security_headers::provide_page_csp, move || {
            app::shell(leptos_state.clone())
        })
        .route_layer(from_fn(middleware::record_route))
        .nest_service(
            "/pkg",
            tower::ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-cache"),
                ))
                .service(ServeDir::new(pkg_dir)),
        )
        .route_service("/favicon.svg", ServeFile::new(favicon))
        .route("/dev/outbox", get(dev_outbox::list))
        .fallback(leptos_axum::render_app_to_stream_with_context(
            security_headers::provide_page_csp,
            move || app::shell(fallback_options.clone()),
        ))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let request_id = req
                    .headers()
                    .get(middleware::REQUEST_ID_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", id = %request_id, method = %req.method(), path = %req.uri().path())
            }),
        )
        .layer(from_fn_with_state(state.clone(), middleware::edge))
        .with_state(state)
}

/// Serves until SIGTERM or SIGINT, then stops accepting and finishes in-flight requests.
pub async fn serve(state: AppState) -> anyhow::Result<()> {
    let addr = state.config.site_addr;
    let db = state.db.clone();
    let app = router(state);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e} (is another portal already running? set LEPTOS_SITE_ADDR to use another port)"))?;
    tracing::info!("portal listening on http://{addr}");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    tracing::info!("in-flight requests finished; closing the database pool");
    db.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received; shutting down"),
        () = terminate => tracing::info!("SIGTERM received; shutting down"),
    }
}
