//! `/api/v1/services`: the organisation's voice services with their current health (any role,
//! and API tokens with a reading scope, may read).

use serde::{Deserialize, Serialize};

use super::{client, ApiError};

/// The latest health check of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceHealthInfo {
    /// `up`, `degraded` or `down`.
    pub health: String,
    /// When the check ran (RFC 3339, UTC).
    pub checked_at: String,
    /// Round-trip time of the probe; `None` when it got no answer.
    pub latency_ms: Option<i64>,
    /// What the probe saw, e.g. `SIP/2.0 503 Service Unavailable` (may be empty).
    pub detail: String,
}

/// One of the organisation's voice services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceInfo {
    /// Opaque id.
    pub id: String,
    /// Unique within the organisation; call records name the service by it.
    pub name: String,
    /// `sip_trunk`, `teams_direct_routing` or `operator_connect`.
    pub kind: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// `provisioning`, `active`, `suspended` or `decommissioned`.
    pub status: String,
    /// Concurrent calls the contract allows.
    pub channel_limit: i64,
    /// The latest health check; `None` before the first one.
    pub health: Option<ServiceHealthInfo>,
    /// When the service was created (RFC 3339, UTC).
    pub created_at: String,
}

/// `GET /api/v1/services`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServicesResponse {
    /// By name.
    pub services: Vec<ServiceInfo>,
}

/// One bucket of a service's utilisation series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UtilisationPoint {
    /// Start of the UTC hour or day (RFC 3339).
    pub at: String,
    /// The largest number of the service's calls in progress at one instant of the bucket.
    pub peak_channels: i64,
    /// Calls that started in the bucket.
    pub calls: i64,
}

/// A service's channel utilisation over a range, from the hourly rollups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceUtilisation {
    /// Start of the range (RFC 3339, UTC, on the bucket boundary), inclusive.
    pub from: String,
    /// End of the range (RFC 3339, UTC, on the bucket boundary), exclusive.
    pub to: String,
    /// `hour` or `day`.
    pub bucket: String,
    /// The concurrent calls the service's contract allows.
    pub channel_limit: i64,
    /// The largest `peak_channels` of the range (0 without calls).
    pub peak_channels: i64,
    /// Every bucket of the range, oldest first (buckets without calls are zero).
    pub points: Vec<UtilisationPoint>,
}

/// `GET /api/v1/services/{id}`: the service and its utilisation series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceDetail {
    /// The fields of the list entry.
    #[serde(flatten)]
    pub service: ServiceInfo,
    /// Peak channels and calls per bucket of the range asked for (default the last 24 hours).
    pub utilisation: ServiceUtilisation,
    /// The health checks within that range, newest first (at most
    /// [`HEALTH_HISTORY_LIMIT`]).
    pub health_history: Vec<ServiceHealthInfo>,
}

/// The most health checks `GET /api/v1/services/{id}` returns.
pub const HEALTH_HISTORY_LIMIT: i64 = 500;

/// A call-record row refused by `POST /api/v1/ingest/calls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IngestRowError {
    /// Line number in the body (the CSV header is line 1).
    pub line: u64,
    /// The field at fault, or `row` for the row as a whole.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

/// `POST /api/v1/ingest/calls`: what was done with the rows sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IngestResponse {
    /// Rows stored.
    pub stored: u64,
    /// Rows whose id was already stored (or repeated in the body): nothing changed.
    pub duplicates: u64,
    /// Invalid rows (all counted).
    pub refused: u64,
    /// The first 100 refused rows, in input order.
    pub errors: Vec<IngestRowError>,
}

/// The path of [`list_services`].
pub const LIST_PATH: &str = "/services";

/// The organisation's services.
pub async fn list_services() -> Result<ServicesResponse, ApiError> {
    client::get(LIST_PATH).await
}

/// The query string of `GET /api/v1/services/{id}`: the utilisation range. The server reads
/// its requests into this type and documents it; every value is text, so that a bad one
/// answers 422 `invalid_field` naming its parameter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct ServiceQuery {
    /// Start of the utilisation range (RFC 3339); default `to` minus 24 hours
    pub from: Option<String>,
    /// End of the utilisation range (RFC 3339); default now
    pub to: Option<String>,
    /// `hour` (default) or `day`
    pub bucket: Option<String>,
}

/// One of the organisation's services with its utilisation; `query` is the query string
/// without `?` (`from`, `to` in RFC 3339, `bucket=hour|day`; may be empty).
pub async fn get_service(id: String, query: &str) -> Result<ServiceDetail, ApiError> {
    client::get(&detail_path(&id, query)).await
}

/// The path of [`get_service`].
pub fn detail_path(id: &str, query: &str) -> String {
    format!("/services/{}?{query}", super::client::percent_encode(id))
}
