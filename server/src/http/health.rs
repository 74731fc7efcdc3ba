//! Operational endpoints: liveness, readiness, Prometheus metrics, and the API's 404/405.

use std::time::Duration;

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use super::{ApiError, AppState};

/// How long readiness waits for the database.
pub const READY_DB_DEADLINE: Duration = Duration::from_secs(2);

/// `GET /healthz`: the process is up and serving.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: 200 when the database answers, else 503 (take this instance out of rotation).
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.db.ping(READY_DB_DEADLINE).await {
        Json(json!({"status": "ready", "database": "ok"})).into_response()
    } else {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unreachable",
            "The database did not answer; this instance cannot serve requests.",
        )
        .with_retry_after(5)
        .into_response()
    }
}

/// `GET /metrics`: Prometheus text format. With `PORTAL_METRICS_TOKEN` set, only for a request
/// that carries it as a Bearer token (401 otherwise); in production without a token, not at
/// all (404), so a public portal never shows its internals to anyone who asks.
pub async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    match (&state.config.metrics_token, state.env) {
        (Some(token), _) if !bearer_matches(&headers, token) => {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "The metrics need the Bearer token set in PORTAL_METRICS_TOKEN.",
            )
            .into_response();
        }
        (None, crate::config::PortalEnv::Production) => {
            return ApiError::not_found(
                "Metrics are off: set PORTAL_METRICS_TOKEN to let Prometheus read them.",
            )
            .into_response();
        }
        _ => {}
    }
    let (open, idle) = state.db.pool_usage();
    let backend = state.db.backend().name();
    metrics::gauge!("db_pool_connections", "state" => "idle", "backend" => backend)
        .set(idle as f64);
    metrics::gauge!("db_pool_connections", "state" => "in_use", "backend" => backend)
        .set(open.saturating_sub(idle as u32) as f64);
    metrics::gauge!("db_pool_max_connections", "backend" => backend)
        .set(f64::from(state.db.pool_max()));
    metrics::gauge!("process_uptime_seconds").set(state.started.elapsed().as_secs_f64());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// Whether `headers` carry `Authorization: Bearer {token}` (compared in constant time).
fn bearer_matches(headers: &axum::http::HeaderMap, token: &str) -> bool {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Hashing first keeps the token's length private too.
    Sha256::digest(presented.as_bytes())
        .ct_eq(&Sha256::digest(token.as_bytes()))
        .into()
}

/// Any unknown `/api/v1/…` path.
pub async fn api_not_found() -> ApiError {
    ApiError::not_found(
        "There is no API endpoint at this path. See /api/v1/openapi.json for the list.",
    )
}

/// A known `/api/v1/…` path with a method it does not take.
pub async fn api_method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This API endpoint does not accept that HTTP method.",
    )
}
