//! `/api/v1/calls`: the organisation's call records (CDRs), newest first, filtered and
//! keyset-paginated (any role, and API tokens with a reading scope, may read).

use serde::{Deserialize, Serialize};

use super::{
    client::{self, percent_encode},
    ApiError,
};

/// One call record, with the fields of the DESIGN exchange format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CallInfo {
    /// The carrier's call id (unique within the organisation).
    pub id: String,
    /// The id of the service that carried the call.
    pub service_id: String,
    /// That service's name (what the CDR named).
    pub service: String,
    /// Start (RFC 3339, UTC).
    pub start: String,
    /// Answer (RFC 3339, UTC); `None` unless answered.
    pub answer: Option<String>,
    /// End (RFC 3339, UTC).
    pub end: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// Calling number (E.164).
    pub from: String,
    /// Called number (E.164).
    pub to: String,
    /// `answered`, `busy`, `no_answer`, `failed` or `cancelled`.
    pub result: String,
    /// The final SIP status (100–699).
    pub sip_code: i64,
    /// Its text (may be empty).
    pub sip_reason: String,
    /// Mean opinion score (1.0–5.0), when known.
    pub mos: Option<f64>,
    /// Jitter in milliseconds, when known.
    pub jitter_ms: Option<f64>,
    /// Packet loss in percent (0–100), when known.
    pub packet_loss_pct: Option<f64>,
    /// ISO 3166-1 alpha-2 of the far end.
    pub country: String,
}

/// The time range a calls page covers: calls with `from ≤ start < to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CallsRange {
    /// Inclusive (RFC 3339, UTC).
    pub from: String,
    /// Exclusive (RFC 3339, UTC).
    pub to: String,
}

/// `GET /api/v1/calls`: one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CallsPage {
    /// Newest first by (start, id).
    pub calls: Vec<CallInfo>,
    /// Pass as `cursor` (with the same filters) for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
    /// The range applied (the defaults filled in).
    pub range: CallsRange,
}

/// The query string of `GET /api/v1/calls` and `GET /api/v1/calls/export.csv`; `None` leaves a
/// parameter out. The server reads its requests into this type and documents it in the OpenAPI
/// document, so both name the same parameters. Every value is text, so that a bad one answers
/// 422 `invalid_field` naming its parameter (not a bare `invalid_query`); the document states
/// the type each must have.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct CallsQuery {
    /// Start of the range (RFC 3339), inclusive, not after `to`; default `to` minus 24 hours.
    #[cfg_attr(feature = "ssr", param(format = DateTime))]
    pub from: Option<String>,
    /// End of the range (RFC 3339), exclusive; default now.
    #[cfg_attr(feature = "ssr", param(format = DateTime))]
    pub to: Option<String>,
    /// `inbound` or `outbound`.
    #[cfg_attr(feature = "ssr", param(pattern = "^(inbound|outbound)$"))]
    pub direction: Option<String>,
    /// One result.
    #[cfg_attr(
        feature = "ssr",
        param(pattern = "^(answered|busy|no_answer|failed|cancelled)$")
    )]
    pub result: Option<String>,
    /// An E.164 number that is the call's `from` or `to`.
    #[cfg_attr(feature = "ssr", param(pattern = "^\\+[0-9]{8,15}$"))]
    pub number: Option<String>,
    /// A service id.
    #[cfg_attr(feature = "ssr", param(min_length = 1))]
    pub service: Option<String>,
    /// ISO 3166-1 alpha-2 of the far end (an assigned code, either case).
    #[cfg_attr(feature = "ssr", param(pattern = "^[A-Za-z]{2}$"))]
    pub country: Option<String>,
    /// Minimum MOS (calls without a MOS are left out).
    #[cfg_attr(feature = "ssr", param(value_type = Option<f64>, minimum = 1.0, maximum = 5.0))]
    pub min_mos: Option<String>,
    /// Page size, 1–1000 (default 50).
    #[cfg_attr(feature = "ssr", param(value_type = Option<i64>, minimum = 1, maximum = 1000))]
    pub limit: Option<String>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

impl CallsQuery {
    /// The query string (without `?`), percent-encoded.
    pub fn to_query_string(&self) -> String {
        let pairs = [
            ("from", self.from.as_deref()),
            ("to", self.to.as_deref()),
            ("direction", self.direction.as_deref()),
            ("result", self.result.as_deref()),
            ("number", self.number.as_deref()),
            ("service", self.service.as_deref()),
            ("country", self.country.as_deref()),
            ("min_mos", self.min_mos.as_deref()),
            ("limit", self.limit.as_deref()),
            ("cursor", self.cursor.as_deref()),
        ];
        pairs
            .iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}={}", percent_encode(v))))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// The path of [`list_calls`].
pub fn list_path(query: &CallsQuery) -> String {
    format!("/calls?{}", query.to_query_string())
}

/// A page of the organisation's calls.
pub async fn list_calls(query: &CallsQuery) -> Result<CallsPage, ApiError> {
    client::get(&list_path(query)).await
}

/// One of the organisation's calls by the carrier's id.
pub async fn get_call(id: &str) -> Result<CallInfo, ApiError> {
    client::get(&format!("/calls/{}", percent_encode(id))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_encode_values() {
        let q = CallsQuery {
            from: Some("2026-03-01T00:00:00+01:00".into()),
            number: Some("+4930901820".into()),
            limit: Some("10".into()),
            ..CallsQuery::default()
        };
        assert_eq!(
            q.to_query_string(),
            "from=2026-03-01T00%3A00%3A00%2B01%3A00&number=%2B4930901820&limit=10"
        );
        assert_eq!(percent_encode("a/b c"), "a%2Fb%20c");
    }
}
