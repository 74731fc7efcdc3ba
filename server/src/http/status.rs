//! `GET /api/v1/status`: the portal's own health for the overview page.

use axum::extract::State;
use time::format_description::well_known::Rfc3339;

use app::api::status::SystemStatusResponse;

use super::{health::READY_DB_DEADLINE, ApiJson, ApiResult, AppState};
use crate::http::openapi::errors::Internal;

/// The running version, whether the database answers, the server clock and uptime.
#[utoipa::path(
    get,
    path = "/status",
    tag = "status",
    operation_id = "get_status",
    summary = "The portal's version, database state, clock and uptime",
    responses(
        (status = 200, description = "The portal's version, database state, clock and uptime", body = SystemStatusResponse),
        Internal,
    ),
)]
pub async fn get_status(State(state): State<AppState>) -> ApiResult<ApiJson<SystemStatusResponse>> {
    let database = if state.db.ping(READY_DB_DEADLINE).await {
        "ok"
    } else {
        "unreachable"
    };
    let server_time = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .format(&Rfc3339)
        .map_err(anyhow::Error::from)?;
    Ok(ApiJson(SystemStatusResponse {
        version: app::product::BUILD_VERSION.to_string(),
        database: database.to_string(),
        server_time,
        uptime_secs: state.started.elapsed().as_secs(),
    }))
}
