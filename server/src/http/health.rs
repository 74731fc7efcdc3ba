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

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
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
