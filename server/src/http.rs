//! The HTTP server: application state, router assembly, middleware order and graceful
//! shutdown. One file per API resource lives beside this one.

pub mod analytics;
pub mod api_tokens;
pub mod assets;
pub mod audit_log;
pub mod auth;
pub mod caller;
pub mod calls;
pub mod csrf;
pub mod dev_outbox;
pub mod email_codes;
pub mod emergency_addresses;
pub mod error;
pub mod exports;
pub mod extract;
pub mod forms;
pub mod health;
pub mod incidents;
pub mod ingest;
pub mod invitations;
pub mod me;
pub mod microsoft;
pub mod middleware;
pub mod numbers;
pub mod openapi;
pub mod params;
pub mod port_orders;
pub mod provider;
pub mod security_headers;
pub mod services;
pub mod sso;
pub mod status;
pub mod step_up;
pub mod users;

use axum::{
    extract::{DefaultBodyLimit, FromRef},
    http::Request,
    middleware::{from_fn, from_fn_with_state},
    routing::get,
    Extension, Router,
};
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::{
    catch_panic::CatchPanicLayer, services::ServeFile, timeout::RequestBodyTimeoutLayer,
    trace::TraceLayer,
};
use utoipa_axum::{router::UtoipaMethodRouterExt, routes};

use crate::devidp::DevIdp;

pub use crate::site::leptos_options;
pub use crate::state::{AppState, AppStateInner, DEV_IDP_CLIENT_ID};
pub use error::{ApiError, ApiJson, ApiResult};

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

/// The JSON API under `/api/v1`. Every module's router is an `OpenApiRouter` whose routes are
/// mounted with `routes!`, so each route brings its `#[utoipa::path]` entry: the OpenAPI
/// document is assembled here, with the routes, once (see [`openapi`]).
fn api_router() -> Router<AppState> {
    let document = openapi::Document::default();
    let (router, doc) = openapi::base_router()
        .routes(routes!(status::get_status))
        .routes(routes!(openapi::get_openapi).layer(Extension(document.clone())))
        .nest(
            "/auth",
            auth::router()
                .merge(invitations::auth_router())
                .merge(step_up::router())
                .merge(email_codes::auth_router()),
        )
        .nest("/me", me::router().merge(email_codes::me_router()))
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
    openapi::RouteTable::remember(&doc);
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
        // The sign-in pages' form posts, beside the pages' GET routes (see `forms`).
        .merge(forms::router())
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
        // A stalled upload ends: the body answers an error after this long without a byte,
        // which the extractors turn into 408 `request_timeout`.
        .layer(RequestBodyTimeoutLayer::new(
            std::time::Duration::from_secs(state.config.body_idle_secs.unsigned_abs()),
        ))
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
    let stopping = state.shutdown.clone();
    let app = router(state);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e} (is another portal already running? set LEPTOS_SITE_ADDR to use another port)"))?;
    tracing::info!("portal listening on http://{addr}");
    let signal = async move {
        crate::signals::stop_requested().await;
        // Uploads in progress stop after their current batch (and answer 503).
        stopping.cancel();
    };
    serve_on(listener, app, HEADER_READ_TIMEOUT, signal).await;
    tracing::info!("in-flight requests finished; closing the database pool");
    db.close().await;
    Ok(())
}

/// How long a client has to send a request's head (the request line and headers) once it
/// starts one; then the connection is closed. Without it a client that sends half a head
/// (slowloris) holds its connection for ever.
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves `app` on `listener` (HTTP/1.1 and HTTP/2, with upgrades) until `shutdown`
/// completes, then stops accepting and waits for the open connections' requests to finish.
/// A connection that takes longer than `header_timeout` to send a request head is closed.
/// This is `axum::serve` written out, for one reason: hyper's header read timeout needs a
/// timer, which `axum::serve` does not give it.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    app: Router,
    header_timeout: std::time::Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::{
        rt::{TokioExecutor, TokioIo, TokioTimer},
        server::{conn::auto::Builder, graceful::GracefulShutdown},
        service::TowerToHyperService,
    };
    use tower::ServiceExt;

    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(remote));
                req
            });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection from {remote} ended: {e}");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still running {} s after the stop signal were cut off",
            DRAIN_TIMEOUT.as_secs()
        );
    }
}

/// How long a stopping server waits for in-flight requests before it exits anyway (below the
/// 30 s most process managers wait after SIGTERM before they kill).
pub const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(25);
