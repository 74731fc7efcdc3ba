//! The HTTP server: application state, router assembly, middleware order and graceful
//! shutdown. One file per API resource lives beside this one.

pub mod analytics;
pub mod api_tokens;
pub mod assets;
pub mod audit_log;
pub mod auth;
pub mod calls;
pub mod dev_outbox;
pub mod emergency_addresses;
pub mod error;
pub mod exports;
pub mod health;
pub mod incidents;
pub mod ingest;
pub mod invitations;
pub mod me;
pub mod microsoft;
pub mod middleware;
pub mod numbers;
pub mod openapi;
pub mod port_orders;
pub mod provider;
pub mod security_headers;
pub mod services;
pub mod sso;
pub mod status;
pub mod users;

use std::{net::SocketAddr, sync::Arc, time::Instant};

use axum::{
    extract::{DefaultBodyLimit, FromRef},
    http::Request,
    middleware::{from_fn, from_fn_with_state},
    routing::get,
    Extension, Router,
};
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::{catch_panic::CatchPanicLayer, services::ServeFile, trace::TraceLayer};
use utoipa_axum::{router::UtoipaMethodRouterExt, routes};

use crate::{
    auth::{
        entra::{Entra, EntraConfig},
        hashing::PasswordWorkers,
        secretbox::SecretBox,
        session_cache::SessionCache,
    },
    clock::Clock,
    config::{PortalEnv, ServeArgs},
    db::Db,
    devidp::{DevIdp, DevIdpConfig},
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
    /// The Entra ID relying party; `None` when single sign-on is not configured.
    pub entra: Option<Arc<Entra>>,
    /// The development Entra ID emulator, when mounted at `/dev-idp`.
    pub dev_idp: Option<DevIdp>,
    /// Test hooks (all off unless a test sets them).
    pub faults: crate::faults::Faults,
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
        let (entra, dev_idp) = sso_setup(&config, env);
        AppState(Arc::new(AppStateInner {
            entra,
            dev_idp,
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
            faults: crate::faults::Faults::default(),
        }))
    }
}

/// The client id the portal uses with its own development emulator.
pub const DEV_IDP_CLIENT_ID: &str = "portal-dev";

/// The relying party for the configured app registration, or for the development emulator
/// (which then runs in this process with a client secret made up at start).
fn sso_setup(config: &ServeArgs, env: PortalEnv) -> (Option<Arc<Entra>>, Option<DevIdp>) {
    let origin = config.public_origin();
    let callback_url = format!("{origin}/auth/microsoft/callback");
    let consent_callback_url = format!("{origin}/auth/microsoft/consent/callback");
    let timeout = std::time::Duration::from_secs(config.entra_timeout_secs.max(1));
    let mut dev_idp = None;
    let rp = match (&config.entra_client_id, &config.entra_client_secret) {
        (Some(id), Some(secret)) => Some(EntraConfig {
            authority: config
                .entra_authority
                .as_str()
                .trim_end_matches('/')
                .to_string(),
            client_id: id.clone(),
            client_secret: secret.clone(),
            callback_url,
            consent_callback_url,
            timeout,
        }),
        _ if config.dev_idp_enabled(env) => {
            let secret = crate::auth::session::new_token().0;
            let base_url = format!("{origin}/dev-idp");
            match DevIdp::new(DevIdpConfig {
                base_url: base_url.clone(),
                client_id: DEV_IDP_CLIENT_ID.to_string(),
                client_secret: secret.clone(),
                redirect_uris: vec![callback_url.clone(), consent_callback_url.clone()],
            }) {
                Ok(idp) => {
                    dev_idp = Some(idp);
                    Some(EntraConfig {
                        authority: base_url,
                        client_id: DEV_IDP_CLIENT_ID.to_string(),
                        client_secret: secret,
                        callback_url,
                        consent_callback_url,
                        timeout,
                    })
                }
                Err(e) => {
                    tracing::error!("the development Entra ID emulator could not start: {e:#}");
                    None
                }
            }
        }
        _ => None,
    };
    let entra = rp.and_then(|c| match Entra::new(c) {
        Ok(e) => Some(Arc::new(e)),
        Err(e) => {
            tracing::error!("single sign-on is off: {e:#}");
            None
        }
    });
    (entra, dev_idp)
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
    // Hashed names (cargo-leptos' `hash-files`) only when the hash file matches the site;
    // see `assets`.
    let hash_file = assets::hash_file_for_site(&config.site_root, &output_name);
    LeptosOptions::builder()
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.site_addr)
        .env(env)
        .hash_files(hash_file.is_some())
        .hash_file(
            hash_file
                .map(|f| f.display().to_string())
                .unwrap_or_else(|| "hash.txt".to_string())
                .into(),
        )
        .output_name(output_name)
        .build()
}

/// The JSON API under `/api/v1`. Every module's router is an `OpenApiRouter` whose routes are
/// mounted with `routes!`, so each route brings its `#[utoipa::path]` entry: the OpenAPI
/// document is assembled here, with the routes, once (see [`openapi`]).
fn api_router() -> Router<AppState> {
    let document = openapi::Document::default();
    let (router, doc) = openapi::base_router()
        .routes(routes!(status::get_status))
        .routes(routes!(openapi::get_openapi).layer(Extension(document.clone())))
        .nest("/auth", auth::router().merge(invitations::auth_router()))
        .nest("/me", me::router())
        .merge(invitations::api_router())
        .merge(audit_log::router())
        .merge(users::router())
        .merge(api_tokens::router())
        .merge(analytics::router())
        .merge(emergency_addresses::router())
        .merge(ingest::router())
        .merge(sso::router())
        .merge(services::router())
        .merge(calls::router())
        .merge(numbers::router())
        .merge(incidents::router())
        .merge(port_orders::router())
        .merge(exports::router())
        .nest("/provider", provider::router())
        .split_for_parts();
    if let Err(e) = document.set(&doc) {
        tracing::error!("the OpenAPI document could not be serialised: {e:#}");
    }
    router
        .fallback(health::api_not_found)
        .method_not_allowed_fallback(health::api_method_not_allowed)
}

/// The whole application: API, operational endpoints, static assets and the Leptos pages.
pub fn router(state: AppState) -> Router {
    let pkg = assets::pkg_service(
        &state.config.site_root,
        &state.leptos.output_name,
        state
            .leptos
            .hash_files
            .then(|| std::path::PathBuf::from(state.leptos.hash_file.as_ref())),
    );
    let favicon = state.config.site_root.join("favicon.svg");
    let pages = generate_route_list(app::App);
    let leptos_state = state.leptos.clone();
    let fallback_options = state.leptos.clone();

    let dev_idp = state.dev_idp.as_ref().map(DevIdp::router);
    let router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .nest("/api/v1", api_router())
        .nest("/auth/microsoft", microsoft::router())
        .leptos_routes_with_context(
            &state,
            pages,
            security_headers::provide_page_csp,
            move || app::shell(leptos_state.clone()),
        )
        .route_layer(from_fn(middleware::record_route))
        // Hashed files cached for a year, the rest revalidated; brotli or gzip (see `assets`).
        .nest_service("/pkg", pkg)
        .route_service("/favicon.svg", ServeFile::new(favicon))
        .route("/dev/outbox", get(dev_outbox::list));
    let router = match dev_idp {
        Some(idp) => router.nest_service("/dev-idp", idp),
        None => router,
    };
    router
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
                // Never the raw path of a token-bearing route, nor the query: `route` (the
                // matched template) is filled in once routing has matched.
                tracing::info_span!(
                    "request",
                    id = %request_id,
                    method = %middleware::method_label(req.method()),
                    path = %middleware::loggable_path(req.uri().path()),
                    route = tracing::field::Empty,
                )
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
