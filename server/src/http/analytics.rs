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

use std::collections::BTreeMap;

use axum::extract::State;
use serde::Deserialize;
use sqlx::{any::AnyRow, Row};
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    analytics::{
        AnalyticsQuery, AnalyticsRange, AnalyticsSummary, AnalyticsTimeseries, CallFigures,
        PeriodSummary, ServicePeak, Timeseries, TimeseriesPoint,
    },
    ErrorBody,
};

use crate::{clock::rfc3339_ms, voice::cdr::parse_rfc3339_ms};

use super::caller::{Caller, Role};
use super::{error::ApiQuery, ApiError, ApiJson, ApiResult, AppState};

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

/// The query string of both routes, read as text so that a bad value names its parameter.
#[derive(Debug, Default, Deserialize)]
pub struct AnalyticsParams {
    from: Option<String>,
    to: Option<String>,
    service: Option<String>,
    bucket: Option<String>,
    by: Option<String>,
    compare: Option<String>,
}

fn parse_time(field: &str, value: &str) -> ApiResult<i64> {
    parse_rfc3339_ms(value)
        .map_err(|reason| ApiError::invalid_field(field, format!("{field}: {value:?} {reason}")))
}

/// The whole-hour range `[from, to)`: `from` rounded down, `to` up.
fn range(q: &AnalyticsParams, now_ms: i64) -> ApiResult<(i64, i64)> {
    let to = match &q.to {
        Some(v) => parse_time("to", v)?,
        None => now_ms,
    };
    let from = match &q.from {
        Some(v) => parse_time("from", v)?,
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

/// Summed rollup counters.
#[derive(Debug, Default, Clone, Copy)]
struct Counters {
    calls: i64,
    answered: i64,
    busy: i64,
    no_answer: i64,
    answered_ms: i64,
    mos_sum: f64,
    mos_count: i64,
    peak: i64,
}

impl Counters {
    fn add(&mut self, o: &Counters) {
        self.calls += o.calls;
        self.answered += o.answered;
        self.busy += o.busy;
        self.no_answer += o.no_answer;
        self.answered_ms += o.answered_ms;
        self.mos_sum += o.mos_sum;
        self.mos_count += o.mos_count;
        self.peak = self.peak.max(o.peak);
    }

    fn figures(&self) -> CallFigures {
        let ratio = |n: f64, d: i64| (d > 0).then(|| n / d as f64);
        CallFigures {
            calls: self.calls,
            answered: self.answered,
            minutes: self.answered_ms as f64 / 60_000.0,
            asr: ratio(self.answered as f64, self.calls),
            ner: ratio(
                (self.answered + self.busy + self.no_answer) as f64,
                self.calls,
            ),
            acd_seconds: ratio(self.answered_ms as f64 / 1000.0, self.answered),
            average_mos: ratio(self.mos_sum, self.mos_count),
        }
    }
}

/// The summed counter columns (named like [`Counters`]); `peak` only for services.
fn sums(with_peak: bool) -> String {
    let peak = if with_peak {
        "CAST(MAX(r.peak_channels) AS BIGINT)"
    } else {
        "CAST(0 AS BIGINT)"
    };
    format!(
        "CAST(SUM(r.calls) AS BIGINT) AS calls, CAST(SUM(r.answered) AS BIGINT) AS answered, \
         CAST(SUM(r.busy) AS BIGINT) AS busy, CAST(SUM(r.no_answer) AS BIGINT) AS no_answer, \
         CAST(SUM(r.answered_ms) AS BIGINT) AS answered_ms, \
         CAST(SUM(r.mos_sum) AS DOUBLE PRECISION) AS mos_sum, \
         CAST(SUM(r.mos_count) AS BIGINT) AS mos_count, {peak} AS peak"
    )
}

fn counters(row: &AnyRow) -> Result<Counters, sqlx::Error> {
    Ok(Counters {
        calls: row.try_get("calls")?,
        answered: row.try_get("answered")?,
        busy: row.try_get("busy")?,
        no_answer: row.try_get("no_answer")?,
        answered_ms: row.try_get("answered_ms")?,
        mos_sum: row.try_get("mos_sum")?,
        mos_count: row.try_get("mos_count")?,
        peak: row.try_get("peak")?,
    })
}

/// A service of the organisation: id, name, channel limit.
struct ServiceRow {
    id: String,
    name: String,
    channel_limit: i64,
}

async fn services(
    state: &AppState,
    org_id: &str,
    only: Option<&str>,
) -> ApiResult<Vec<ServiceRow>> {
    let mut sql = String::from(
        "SELECT id, name, CAST(channel_limit AS BIGINT) AS channel_limit FROM services \
         WHERE org_id = $1",
    );
    if only.is_some() {
        sql.push_str(" AND id = $2");
    }
    sql.push_str(" ORDER BY name, id");
    let mut query = sqlx::query(&sql).bind(org_id);
    if let Some(id) = only {
        query = query.bind(id);
    }
    let rows = query.fetch_all(state.db.pool()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(ServiceRow {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            channel_limit: row.try_get("channel_limit")?,
        });
    }
    Ok(out)
}

/// The per-service counters of `[from, to)`.
async fn period(
    state: &AppState,
    org_id: &str,
    only: Option<&str>,
    from: i64,
    to: i64,
) -> ApiResult<BTreeMap<String, Counters>> {
    let mut sql = format!(
        "SELECT r.service_id, {} FROM call_hourly_by_service r \
         WHERE r.org_id = $1 AND r.hour_at >= $2 AND r.hour_at < $3",
        sums(true)
    );
    if only.is_some() {
        sql.push_str(" AND r.service_id = $4");
    }
    sql.push_str(" GROUP BY r.service_id");
    let mut query = sqlx::query(&sql).bind(org_id).bind(from).bind(to);
    if let Some(id) = only {
        query = query.bind(id);
    }
    let rows = query.fetch_all(state.db.pool()).await?;
    let mut out = BTreeMap::new();
    for row in &rows {
        out.insert(row.try_get::<String, _>("service_id")?, counters(row)?);
    }
    Ok(out)
}

fn period_summary(
    services: &[ServiceRow],
    by_service: &BTreeMap<String, Counters>,
) -> PeriodSummary {
    let mut total = Counters::default();
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
        figures: total.figures(),
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
    params(AnalyticsQuery, ("org" = Option<String>, Query, description = "Carrier staff only: the slug of the organisation acted for")),
    responses(
        (status = 200, description = "The range's figures, the period before it, and per-service figures", body = AnalyticsSummary),
        (status = 400, description = "`org_required`: carrier staff must name the organisation with `?org=SLUG`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid session or API token; `invalid_token` or `token_expired`: the Bearer token is unknown, revoked or expired; `mfa_required`: a sign-in waits for its code", body = ErrorBody),
        (status = 403, description = "`insufficient_role` or `insufficient_scope`: the caller's role or token scope does not allow this", body = ErrorBody),
        (status = 404, description = "`not_found`: no such organisation (or one that is not the caller's)", body = ErrorBody),
        (status = 422, description = "`invalid_query`, or `invalid_field` (with `field`): a parameter is not valid (times RFC 3339, range at most 400 days)", body = ErrorBody),
        (status = 500, description = "`internal`: a failure on the portal's side; quote `request_id` to support", body = ErrorBody),
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AnalyticsParams>,
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
    let services = services(&state, &caller.org_id, only).await?;
    let current = period(&state, &caller.org_id, only, from, to).await?;
    let previous = period(&state, &caller.org_id, only, prev_from, prev_to).await?;
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
    params(AnalyticsQuery, ("org" = Option<String>, Query, description = "Carrier staff only: the slug of the organisation acted for")),
    responses(
        (status = 200, description = "Per-bucket series by service or country", body = AnalyticsTimeseries),
        (status = 400, description = "`org_required`: carrier staff must name the organisation with `?org=SLUG`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid session or API token; `invalid_token` or `token_expired`: the Bearer token is unknown, revoked or expired; `mfa_required`: a sign-in waits for its code", body = ErrorBody),
        (status = 403, description = "`insufficient_role` or `insufficient_scope`: the caller's role or token scope does not allow this", body = ErrorBody),
        (status = 404, description = "`not_found`: no such organisation (or one that is not the caller's)", body = ErrorBody),
        (status = 422, description = "`invalid_query`, or `invalid_field` (with `field`): a parameter is not valid (times RFC 3339, range at most 400 days)", body = ErrorBody),
        (status = 500, description = "`internal`: a failure on the portal's side; quote `request_id` to support", body = ErrorBody),
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn timeseries(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AnalyticsParams>,
) -> ApiResult<ApiJson<AnalyticsTimeseries>> {
    caller.require(Role::Viewer)?;
    let (from, to) = range(&q, state.clock.now_ms())?;
    let bucket = q.bucket.as_deref().unwrap_or("hour");
    let size = match bucket {
        "hour" => HOUR_MS,
        "day" => DAY_MS,
        _ => {
            return Err(ApiError::invalid_field(
                "bucket",
                "bucket must be one of hour, day.",
            ))
        }
    };
    let by = q.by.as_deref().unwrap_or("service");
    let by_service = match by {
        "service" => true,
        "country" => false,
        _ => {
            return Err(ApiError::invalid_field(
                "by",
                "by must be one of service, country.",
            ))
        }
    };
    // Hours are non-negative, so integer division floors on both engines.
    let sql = if by_service {
        format!(
            "SELECT r.service_id AS k, s.name AS label, \
             CAST(s.channel_limit AS BIGINT) AS channel_limit, \
             (r.hour_at / {size}) * {size} AS b, {} \
             FROM call_hourly_by_service r \
             JOIN services s ON s.id = r.service_id AND s.org_id = r.org_id \
             WHERE r.org_id = $1 AND r.hour_at >= $2 AND r.hour_at < $3 \
             GROUP BY r.service_id, s.name, s.channel_limit, (r.hour_at / {size}) * {size}",
            sums(true)
        )
    } else {
        format!(
            "SELECT r.country AS k, r.country AS label, CAST(NULL AS BIGINT) AS channel_limit, \
             (r.hour_at / {size}) * {size} AS b, {} \
             FROM call_hourly_by_country r \
             WHERE r.org_id = $1 AND r.hour_at >= $2 AND r.hour_at < $3 \
             GROUP BY r.country, (r.hour_at / {size}) * {size}",
            sums(false)
        )
    };
    let rows = sqlx::query(&sql)
        .bind(&caller.org_id)
        .bind(from)
        .bind(to)
        .fetch_all(state.db.pool())
        .await?;
    // key → (label, limit, bucket → counters)
    type Series = (String, Option<i64>, BTreeMap<i64, Counters>);
    let mut series: BTreeMap<String, Series> = BTreeMap::new();
    for row in &rows {
        let key: String = row.try_get("k")?;
        let entry = series
            .entry(key)
            .or_insert_with(|| (String::new(), None, BTreeMap::new()));
        entry.0 = row.try_get("label")?;
        entry.1 = row.try_get("channel_limit")?;
        let b: i64 = row.try_get("b")?;
        entry.2.entry(b).or_default().add(&counters(row)?);
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
                    figures: c.figures(),
                    peak_channels: by_service.then_some(c.peak),
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
        let q = AnalyticsParams {
            from: Some("2026-03-01T01:30:00Z".into()),
            to: Some("2026-03-01T03:00:00.001Z".into()),
            ..AnalyticsParams::default()
        };
        let (from, to) = range(&q, 0).unwrap_or_default();
        assert_eq!(rfc3339_ms(from), "2026-03-01T01:00:00Z");
        assert_eq!(rfc3339_ms(to), "2026-03-01T04:00:00Z");
    }
}
