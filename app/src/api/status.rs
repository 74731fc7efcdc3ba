//! `GET /api/v1/status`: the portal's own health as the overview shows it.

use serde::{Deserialize, Serialize};

use super::{client, ApiError};

/// Whether the portal and its database are working, and which build is running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SystemStatusResponse {
    /// The running build's version.
    pub version: String,
    /// `"ok"` when the database answered within its deadline, else `"unreachable"`.
    pub database: String,
    /// The server's clock (RFC 3339, UTC) when it answered.
    pub server_time: String,
    /// How long the server has been running, in seconds.
    pub uptime_secs: u64,
}

/// The path of [`fetch_status`].
pub const STATUS_PATH: &str = "/status";

/// Fetches the portal's status.
pub async fn fetch_status() -> Result<SystemStatusResponse, ApiError> {
    client::get(STATUS_PATH).await
}
