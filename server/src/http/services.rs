//! `/api/v1/services`: the organisation's voice services with their current health (the
//! latest health check), channel limit, kind and country. Any role may read, and API tokens of
//! the `read` and `read_write` scopes; an `ingest` token reads nothing.
//!
//! Another organisation's service id answers 404 `not_found`, like an unknown one: every query
//! is restricted to the caller's organisation.

use axum::{
    extract::{Path, State},
    routing::get,
    Router,
};
use sqlx::{any::AnyRow, Row};

use app::api::services::{ServiceHealthInfo, ServiceInfo, ServicesResponse};

use crate::{
    auth::caller::{Caller, Role},
    clock::rfc3339_ms,
};

use super::{ApiError, ApiJson, ApiResult, AppState};

/// Routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/services", get(list))
        .route("/services/{id}", get(get_service))
}

/// The services with their latest health check (if any), as one query on both engines.
const SELECT: &str = "SELECT s.id, s.name, s.kind, s.country, s.status, s.channel_limit, \
     s.created_at, h.health, h.checked_at, h.latency_ms, h.detail \
     FROM services s \
     LEFT JOIN service_health_checks h ON h.service_id = s.id AND h.checked_at = \
     (SELECT MAX(c.checked_at) FROM service_health_checks c WHERE c.service_id = s.id) \
     WHERE s.org_id = $1";

fn service_info(row: &AnyRow) -> Result<ServiceInfo, sqlx::Error> {
    let health: Option<String> = row.try_get("health")?;
    let health = match health {
        Some(health) => Some(ServiceHealthInfo {
            health,
            checked_at: rfc3339_ms(row.try_get::<i64, _>("checked_at")?),
            latency_ms: row.try_get("latency_ms")?,
            detail: row.try_get("detail")?,
        }),
        None => None,
    };
    Ok(ServiceInfo {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        country: row.try_get("country")?,
        status: row.try_get("status")?,
        channel_limit: row.try_get("channel_limit")?,
        health,
        created_at: rfc3339_ms(row.try_get::<i64, _>("created_at")?),
    })
}

/// `GET /api/v1/services`.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<ApiJson<ServicesResponse>> {
    caller.require(Role::Viewer)?;
    let services = sqlx::query(&format!("{SELECT} ORDER BY s.name"))
        .bind(&caller.org_id)
        .fetch_all(state.db.pool())
        .await?
        .iter()
        .map(service_info)
        .collect::<Result<_, _>>()?;
    Ok(ApiJson(ServicesResponse { services }))
}

/// `GET /api/v1/services/{id}`.
async fn get_service(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<ServiceInfo>> {
    caller.require(Role::Viewer)?;
    let row = sqlx::query(&format!("{SELECT} AND s.id = $2"))
        .bind(&caller.org_id)
        .bind(&id)
        .fetch_optional(state.db.pool())
        .await?
        .ok_or_else(|| ApiError::not_found("Your organisation has no service with this id."))?;
    Ok(ApiJson(service_info(&row)?))
}
