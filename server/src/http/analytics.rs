//! `/api/v1/analytics`: the organisation's call figures, computed from the hourly rollups
//! (`call_hourly_by_service`, `call_hourly_by_country`), never from raw calls. Any role may
//! read, and API tokens of the `read` and `read_write` scopes; an `ingest` token reads nothing
//! (403).
//!
//! Both routes take `from` and `to` (RFC 3339; default the 24 hours ending now by the app
//! clock). Analytics work on whole UTC hours: `from` is rounded down and `to` up to the hour,
//! and the reply states the range used. A call belongs to the bucket of its start. Ratios are
//! fractions; a ratio or mean with nothing to divide by is `null`.
//!
//! `GET /analytics/summary[?service][&compare]` answers the range's and the previous period's
//! calls, answered, minutes, ASR, NER, ACD and average MOS, and per service the peak channels
//! (the largest hourly peak) with its channel limit. The previous period is the one of equal
//! length just before (`compare=previous`, the default) or, for a range of at most a day, the
//! same hours 24 hours earlier (`compare=day_before`: "today so far" against the same hours
//! yesterday, not against the evening before).
//!
//! `GET /analytics/timeseries?bucket=hour|day&by=service|country` answers one series per
//! service or far-end country with rollups in the range, every bucket of the range listed
//! (UTC hours or days); by service a bucket also carries its peak channels (the largest of its
//! hours). A bad parameter answers 422 `invalid_field` naming it.
//!
//! The rollups' queries are `db::rollups`; this file checks the parameters and turns the sums
//! into the DESIGN figures.

use std::collections::BTreeMap;

use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::analytics::{
    AnalyticsQuery, AnalyticsRange, AnalyticsSummary, AnalyticsTimeseries, CallFigures,
    PeriodSummary, ServicePeak, Timeseries, TimeseriesPoint,
};

use crate::http::openapi::errors::{InvalidRange, OrgRead};
use crate::http::openapi::params::ActingFor;
use crate::{
    clock::rfc3339_ms,
    db::{
        self,
        rollups::{SeriesBy, Sums},
        services::ServiceLimit,
    },
};

use super::caller::{Caller, Role};
use super::{error::ApiQuery, params, ApiError, ApiJson, ApiResult, AppState};

/// Routes under `/api/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(summary))
        .routes(routes!(timeseries))
}

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// The default range: the 24 hours before `to`.
const DEFAULT_RANGE_MS: i64 = DAY_MS;
/// The longest range one request may cover.
const MAX_RANGE_DAYS: i64 = 400;

/// The whole-hour range `[from, to)`: `from` rounded down, `to` up.
fn range(q: &AnalyticsQuery, now_ms: i64) -> ApiResult<(i64, i64)> {
    let to = match &q.to {
        Some(v) => params::time("to", v)?,
        None => now_ms,
    };
    let from = match &q.from {
        Some(v) => params::time("from", v)?,
        // The 24 whole hours ending with the (rounded) `to`.
        None => ceil_hour(to) - DEFAULT_RANGE_MS,
    };
    if from >= to {
        return Err(ApiError::invalid_field(
            "from",
            "from must be before to (figures cover the calls with from ≤ start < to).",
        ));
    }
    let from = from.div_euclid(HOUR_MS) * HOUR_MS;
    let to = ceil_hour(to);
    if to - from > MAX_RANGE_DAYS * DAY_MS {
        return Err(ApiError::invalid_field(
            "to",
            format!("The range may cover at most {MAX_RANGE_DAYS} days."),
        ));
    }
    Ok((from, to))
}

fn ceil_hour(ms: i64) -> i64 {
    ms.saturating_add(HOUR_MS - 1).div_euclid(HOUR_MS) * HOUR_MS
}

fn api_range(from: i64, to: i64) -> AnalyticsRange {
    AnalyticsRange {
        from: rfc3339_ms(from),
        to: rfc3339_ms(to),
    }
}

/// The DESIGN figures of summed rollup counters.
fn figures(c: &Sums) -> CallFigures {
    let ratio = |n: f64, d: i64| (d > 0).then(|| n / d as f64);
    CallFigures {
        calls: c.calls,
        answered: c.answered,
        minutes: c.answered_ms as f64 / 60_000.0,
        asr: ratio(c.answered as f64, c.calls),
        ner: ratio((c.answered + c.busy + c.no_answer) as f64, c.calls),
        acd_seconds: ratio(c.answered_ms as f64 / 1000.0, c.answered),
        average_mos: ratio(c.mos_sum, c.mos_count),
    }
}

fn period_summary(services: &[ServiceLimit], by_service: &BTreeMap<String, Sums>) -> PeriodSummary {
    let mut total = Sums::default();
    let mut peaks = Vec::with_capacity(services.len());
    for s in services {
        let c = by_service.get(&s.id).copied().unwrap_or_default();
        total.add(&c);
        peaks.push(ServicePeak {
            service_id: s.id.clone(),
            service: s.name.clone(),
            peak_channels: c.peak,
            channel_limit: s.channel_limit,
        });
    }
    PeriodSummary {
        figures: figures(&total),
        services: peaks,
    }
}

/// The period a summary compares `[from, to)` with (see the module's documentation).
fn previous_range(compare: Option<&str>, from: i64, to: i64) -> ApiResult<(i64, i64)> {
    match compare {
        None | Some("previous") => Ok((from - (to - from), from)),
        Some("day_before") if to - from <= DAY_MS => Ok((from - DAY_MS, to - DAY_MS)),
        Some("day_before") => Err(ApiError::invalid_field(
            "compare",
            "compare=day_before needs a range of at most 24 hours; a longer range is compared with the period just before it (compare=previous).",
        )),
        Some(other) => Err(ApiError::invalid_field(
            "compare",
            format!("compare must be previous or day_before, not {other:?}."),
        )),
    }
}

/// `GET /api/v1/analytics/summary`.
#[utoipa::path(
    get,
    path = "/analytics/summary",
    tag = "analytics",
    operation_id = "analytics_summary",
    summary = "Call figures over a range, against the period before",
    params(AnalyticsQuery, ActingFor),
    responses(
        (status = 200, description = "The range's figures, the period before it, and per-service figures", body = AnalyticsSummary),
        OrgRead,
        InvalidRange,
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> ApiResult<ApiJson<AnalyticsSummary>> {
    caller.require(Role::Viewer)?;
    let (from, to) = range(&q, state.clock.now_ms())?;
    let only = match &q.service {
        Some(v) if v.is_empty() => {
            return Err(ApiError::invalid_field(
                "service",
                "service must be a service id.",
            ))
        }
        Some(v) => Some(v.as_str()),
        None => None,
    };
    let (prev_from, prev_to) = previous_range(q.compare.as_deref(), from, to)?;
    let pool = state.db.pool();
    let services = db::services::channel_limits(pool, &caller.org_id, only).await?;
    let current = db::rollups::per_service(pool, &caller.org_id, only, from, to).await?;
    let previous = db::rollups::per_service(pool, &caller.org_id, only, prev_from, prev_to).await?;
    Ok(ApiJson(AnalyticsSummary {
        range: api_range(from, to),
        previous_range: api_range(prev_from, prev_to),
        current: period_summary(&services, &current),
        previous: period_summary(&services, &previous),
    }))
}

/// `GET /api/v1/analytics/timeseries`.
#[utoipa::path(
    get,
    path = "/analytics/timeseries",
    tag = "analytics",
    operation_id = "analytics_timeseries",
    summary = "Call figures per hour or day, by service or country",
    params(AnalyticsQuery, ActingFor),
    responses(
        (status = 200, description = "Per-bucket series by service or country", body = AnalyticsTimeseries),
        OrgRead,
        InvalidRange,
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn timeseries(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> ApiResult<ApiJson<AnalyticsTimeseries>> {
    caller.require(Role::Viewer)?;
    let (from, to) = range(&q, state.clock.now_ms())?;
    let bucket = params::one_of(
        "bucket",
        q.bucket.as_deref().unwrap_or("hour"),
        &["hour", "day"],
    )?;
    let size = if bucket == "day" { DAY_MS } else { HOUR_MS };
    let by = params::one_of(
        "by",
        q.by.as_deref().unwrap_or("service"),
        &["service", "country"],
    )?;
    let series_by = if by == "country" {
        SeriesBy::Country
    } else {
        SeriesBy::Service
    };
    let rows =
        db::rollups::buckets(state.db.pool(), &caller.org_id, series_by, size, from, to).await?;
    // key → (label, limit, bucket → sums)
    type Series = (String, Option<i64>, BTreeMap<i64, Sums>);
    let mut series: BTreeMap<String, Series> = BTreeMap::new();
    for row in rows {
        let entry = series
            .entry(row.key)
            .or_insert_with(|| (String::new(), None, BTreeMap::new()));
        entry.0 = row.label;
        entry.1 = row.channel_limit;
        entry.2.entry(row.bucket_at).or_default().add(&row.sums);
    }
    let first = from.div_euclid(size) * size;
    let out = series
        .into_iter()
        .map(|(key, (label, channel_limit, buckets))| {
            let mut points = Vec::new();
            let mut at = first;
            while at < to {
                let c = buckets.get(&at).copied().unwrap_or_default();
                points.push(TimeseriesPoint {
                    at: rfc3339_ms(at),
                    figures: figures(&c),
                    peak_channels: (series_by == SeriesBy::Service).then_some(c.peak),
                });
                at += size;
            }
            Timeseries {
                key,
                label,
                channel_limit,
                points,
            }
        })
        .collect();
    Ok(ApiJson(AnalyticsTimeseries {
        range: api_range(from, to),
        bucket: bucket.to_string(),
        by: by.to_string(),
        series: out,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_round_to_whole_hours() {
        let q = AnalyticsQuery {
            from: Some("2026-03-01T01:30:00Z".into()),
            to: Some("2026-03-01T03:00:00.001Z".into()),
            ..AnalyticsQuery::default()
        };
        let (from, to) = range(&q, 0).unwrap_or_default();
        assert_eq!(rfc3339_ms(from), "2026-03-01T01:00:00Z");
        assert_eq!(rfc3339_ms(to), "2026-03-01T04:00:00Z");
    }
}
