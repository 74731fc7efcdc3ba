//! `/api/v1/incidents`: the carrier's incidents and planned maintenance that concern the
//! caller's organisation (global ones, ones for its services, ones for countries where it has
//! services or numbers), each with its public timeline. Any role, and API tokens with a
//! reading scope, may read.

use serde::{Deserialize, Serialize};

use super::{
    client::{self, percent_encode},
    ApiError,
};

/// One post on an incident's public timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IncidentUpdateInfo {
    /// Opaque id.
    pub id: String,
    /// When it was posted (RFC 3339, UTC).
    pub posted_at: String,
    /// The incident's status as of this update.
    pub status: String,
    /// What the carrier said.
    pub body: String,
}

/// An incident or a maintenance window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IncidentInfo {
    /// Opaque id.
    pub id: String,
    /// `incident` or `maintenance`.
    pub kind: String,
    /// `global`, `service` (one of the organisation's services) or `country`.
    pub scope: String,
    /// The affected service when `scope` is `service`.
    pub service_id: Option<String>,
    /// That service's name.
    pub service_name: Option<String>,
    /// The affected country (ISO 3166-1 alpha-2) when `scope` is `country`.
    pub country: Option<String>,
    /// Short description.
    pub title: String,
    /// Incidents: `investigating`, `identified`, `monitoring`, `resolved`; maintenance:
    /// `scheduled`, `in_progress`, `completed`, `cancelled`.
    pub status: String,
    /// Whether it is still open (not `resolved`, `completed` or `cancelled`).
    pub open: bool,
    /// Start (RFC 3339, UTC); for maintenance, the planned start.
    pub starts_at: String,
    /// End (RFC 3339, UTC); `None` while open-ended.
    pub ends_at: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
    /// The public timeline, oldest first.
    pub updates: Vec<IncidentUpdateInfo>,
}

/// `GET /api/v1/incidents`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IncidentsResponse {
    /// Newest first (by start, then id).
    pub incidents: Vec<IncidentInfo>,
}

/// Filters of `GET /api/v1/incidents`; `None` leaves a filter out. The server reads its
/// requests into this type and documents it, so both name the same parameters; every value is
/// text, so that a bad one answers 422 `invalid_field` naming its parameter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct IncidentsQuery {
    /// `open`, `closed`, or one status (e.g. `investigating`, `scheduled`).
    #[cfg_attr(
        feature = "ssr",
        param(
            pattern = "^(open|closed|investigating|identified|monitoring|resolved|scheduled|in_progress|completed|cancelled)$"
        )
    )]
    pub status: Option<String>,
    /// RFC 3339: only incidents still going on at or after this instant (open-ended ones
    /// always are); not after `to`.
    #[cfg_attr(feature = "ssr", param(format = DateTime))]
    pub from: Option<String>,
    /// RFC 3339: only incidents that start before this instant.
    #[cfg_attr(feature = "ssr", param(format = DateTime))]
    pub to: Option<String>,
    /// `incident` or `maintenance`.
    #[cfg_attr(feature = "ssr", param(pattern = "^(incident|maintenance)$"))]
    pub kind: Option<String>,
    /// How many, 1–200 (default 50).
    #[cfg_attr(feature = "ssr", param(value_type = Option<i64>, minimum = 1, maximum = 200))]
    pub limit: Option<String>,
}

impl IncidentsQuery {
    /// The query string (without `?`), percent-encoded.
    pub fn to_query_string(&self) -> String {
        let pairs = [
            ("status", self.status.as_deref()),
            ("from", self.from.as_deref()),
            ("to", self.to.as_deref()),
            ("kind", self.kind.as_deref()),
            ("limit", self.limit.as_deref()),
        ];
        pairs
            .iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}={}", percent_encode(v))))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// The path of [`list_incidents`].
pub fn list_path(query: &IncidentsQuery) -> String {
    format!("/incidents?{}", query.to_query_string())
}

/// The incidents and maintenance windows that concern the organisation.
pub async fn list_incidents(query: &IncidentsQuery) -> Result<IncidentsResponse, ApiError> {
    client::get(&list_path(query)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_encode_values() {
        let q = IncidentsQuery {
            status: Some("open".into()),
            from: Some("2026-03-01T00:00:00+01:00".into()),
            limit: Some("5".into()),
            ..IncidentsQuery::default()
        };
        assert_eq!(
            q.to_query_string(),
            "status=open&from=2026-03-01T00%3A00%3A00%2B01%3A00&limit=5"
        );
        assert_eq!(IncidentsQuery::default().to_query_string(), "");
    }
}
