//! `/api/v1/analytics`: call figures of the organisation computed from the hourly rollups
//! (any role, and API tokens with a reading scope, may read). Figures follow the DESIGN metric
//! definitions: ratios are fractions (0–1) and `None` when there is no call to divide by.

use serde::{Deserialize, Serialize};

use super::{
    client::{self, percent_encode},
    ApiError,
};

/// A range of whole UTC hours: `from ≤ start < to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AnalyticsRange {
    /// Inclusive (RFC 3339, UTC, on the hour).
    pub from: String,
    /// Exclusive (RFC 3339, UTC, on the hour).
    pub to: String,
}

/// The counters and figures of a set of calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CallFigures {
    /// Calls whose start lies in the range.
    pub calls: i64,
    /// Of those, answered.
    pub answered: i64,
    /// Σ (end − answer) over answered calls, in minutes.
    pub minutes: f64,
    /// Answer-seizure ratio: answered ÷ calls.
    pub asr: Option<f64>,
    /// Network effectiveness ratio: (answered + busy + no_answer) ÷ calls.
    pub ner: Option<f64>,
    /// Average call duration in seconds: answered time ÷ answered.
    pub acd_seconds: Option<f64>,
    /// Mean of the known MOS values.
    pub average_mos: Option<f64>,
}

/// A service's peak channels over a range, against its channel limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServicePeak {
    /// The service id.
    pub service_id: String,
    /// Its name.
    pub service: String,
    /// The largest number of its calls in progress at one instant (0 without calls).
    pub peak_channels: i64,
    /// The concurrent calls its contract allows.
    pub channel_limit: i64,
}

/// The figures of one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PeriodSummary {
    /// The counters and ratios over every (or the chosen) service.
    #[serde(flatten)]
    pub figures: CallFigures,
    /// Per service (the organisation's, or the chosen one), by name.
    pub services: Vec<ServicePeak>,
}

/// `GET /api/v1/analytics/summary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AnalyticsSummary {
    /// The range used (whole hours).
    pub range: AnalyticsRange,
    /// The period it is compared with: the one of equal length just before it, or with
    /// `compare=day_before` the same hours 24 hours earlier.
    pub previous_range: AnalyticsRange,
    /// Figures of `range`.
    pub current: PeriodSummary,
    /// Figures of `previous_range`.
    pub previous: PeriodSummary,
}

/// One bucket of a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TimeseriesPoint {
    /// Start of the UTC hour or day (RFC 3339).
    pub at: String,
    /// The figures of the calls that started in the bucket (and the range).
    #[serde(flatten)]
    pub figures: CallFigures,
    /// By service only: the largest hourly peak in the bucket.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub peak_channels: Option<i64>,
}

/// One series: a service or a far-end country.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Timeseries {
    /// The service id, or the ISO 3166-1 alpha-2 country.
    pub key: String,
    /// The service name, or the country code.
    pub label: String,
    /// By service only: its channel limit.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub channel_limit: Option<i64>,
    /// Every bucket of the range, oldest first (zeros where no call started).
    pub points: Vec<TimeseriesPoint>,
}

/// `GET /api/v1/analytics/timeseries`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AnalyticsTimeseries {
    /// The range used (whole hours).
    pub range: AnalyticsRange,
    /// `hour` or `day`.
    pub bucket: String,
    /// `service` or `country`.
    pub by: String,
    /// The services or countries with rollups in the range, by key.
    pub series: Vec<Timeseries>,
}

/// Parameters of both analytics routes; `None` leaves one out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct AnalyticsQuery {
    /// Start (RFC 3339), rounded down to the hour; default `to` minus 24 hours.
    pub from: Option<String>,
    /// End (RFC 3339), rounded up to the hour; default now.
    pub to: Option<String>,
    /// Summary: one service id.
    pub service: Option<String>,
    /// Timeseries: `hour` (default) or `day`.
    pub bucket: Option<String>,
    /// Timeseries: `service` (default) or `country`.
    pub by: Option<String>,
    /// Summary: what the range is compared with: `previous` (default), the period of equal
    /// length just before it, or `day_before`, the same hours 24 hours earlier (ranges of at
    /// most 24 hours).
    pub compare: Option<String>,
}

impl AnalyticsQuery {
    /// The query string (without `?`), percent-encoded.
    pub fn to_query_string(&self) -> String {
        [
            ("from", self.from.as_deref()),
            ("to", self.to.as_deref()),
            ("service", self.service.as_deref()),
            ("bucket", self.bucket.as_deref()),
            ("by", self.by.as_deref()),
            ("compare", self.compare.as_deref()),
        ]
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", percent_encode(v))))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// The path of [`summary`].
pub fn summary_path(query: &AnalyticsQuery) -> String {
    format!("/analytics/summary?{}", query.to_query_string())
}

/// The path of [`timeseries`].
pub fn timeseries_path(query: &AnalyticsQuery) -> String {
    format!("/analytics/timeseries?{}", query.to_query_string())
}

/// The summary of a range and of the period before it.
pub async fn summary(query: &AnalyticsQuery) -> Result<AnalyticsSummary, ApiError> {
    client::get(&summary_path(query)).await
}

/// Per-bucket series by service or country.
pub async fn timeseries(query: &AnalyticsQuery) -> Result<AnalyticsTimeseries, ApiError> {
    client::get(&timeseries_path(query)).await
}
