//! `/api/v1/services`: the organisation's voice services with their current health (any role,
//! and API tokens with a reading scope, may read).

use serde::{Deserialize, Serialize};

use super::{client, ApiError};

/// The latest health check of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct ServicesResponse {
    /// By name.
    pub services: Vec<ServiceInfo>,
}

/// A call-record row refused by `POST /api/v1/ingest/calls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// The organisation's services.
pub async fn list_services() -> Result<ServicesResponse, ApiError> {
    client::get("/services").await
}

/// One of the organisation's services.
pub async fn get_service(id: String) -> Result<ServiceInfo, ApiError> {
    client::get(&format!("/services/{id}")).await
}
