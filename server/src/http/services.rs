//! `/api/v1/services`: the organisation's voice services with their current health (the
//! latest health check), channel limit, kind and country. Any role may read, and API tokens of
//! the `read` and `read_write` scopes; an `ingest` token reads nothing.
//!
//! Another organisation's service id answers 404 `not_found`, like an unknown one: every query
//! is restricted to the caller's organisation.
//!
//! `GET /services/{id}` adds the service's utilisation: per UTC hour (or day with
//! `bucket=day`) of `[from, to)` (RFC 3339; default the 24 whole hours ending with the current
//! one; `from` is rounded down and `to` up to the bucket) the peak concurrent channels and the
//! calls started, with the channel limit. It reads the hourly rollups
//! (`call_hourly_by_service`) only, never the calls. A bad parameter answers 422
//! `invalid_field` naming it.

use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::services::{
    ServiceDetail, ServiceHealthInfo, ServiceInfo, ServiceUtilisation, ServicesResponse,
    UtilisationPoint, HEALTH_HISTORY_LIMIT,
};
use app::api::ErrorBody;

use crate::{
    clock::{parse_rfc3339_ms, rfc3339_ms},
    db::{
        self,
        health_checks::HealthCheck,
        services::{ServiceHour, ServiceWithHealth},
    },
};

use super::caller::{Caller, Role};
use super::{error::ApiQuery, ApiError, ApiJson, ApiResult, AppState};

/// Routes under `/api/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_service))
}

fn health_info(h: &HealthCheck) -> ServiceHealthInfo {
    ServiceHealthInfo {
        health: h.health.clone(),
        checked_at: rfc3339_ms(h.checked_at),
        latency_ms: h.latency_ms,
        detail: h.detail.clone(),
    }
}

fn service_info(s: &ServiceWithHealth) -> ServiceInfo {
    ServiceInfo {
        id: s.service.id.clone(),
        name: s.service.name.clone(),
        kind: s.service.kind.clone(),
        country: s.service.country.clone(),
        status: s.service.status.clone(),
        channel_limit: s.service.channel_limit,
        health: s.health.as_ref().map(health_info),
        created_at: rfc3339_ms(s.service.created_at),
    }
}

/// `GET /api/v1/services`.
#[utoipa::path(
    get,
    path = "/services",
    tag = "services",
    operation_id = "list_services",
    summary = "List the organisation's voice services",
    params(("org" = Option<String>, Query, description = "Carrier staff only: the slug of the organisation acted for")),
    responses(
        (status = 200, description = "The organisation's voice services with their health", body = ServicesResponse),
        (status = 400, description = "`org_required`: carrier staff must name the organisation with `?org=SLUG`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid session or API token; `invalid_token` or `token_expired`: the Bearer token is unknown, revoked or expired; `mfa_required`: a sign-in waits for its code", body = ErrorBody),
        (status = 403, description = "`insufficient_role` or `insufficient_scope`: the caller's role or token scope does not allow this", body = ErrorBody),
        (status = 404, description = "`not_found`: no such organisation (or one that is not the caller's)", body = ErrorBody),
        (status = 500, description = "`internal`: a failure on the portal's side; quote `request_id` to support", body = ErrorBody),
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<ApiJson<ServicesResponse>> {
    caller.require(Role::Viewer)?;
    let services = db::services::list_with_health(state.db.pool(), &caller.org_id)
        .await?
        .iter()
        .map(service_info)
        .collect();
    Ok(ApiJson(ServicesResponse { services }))
}

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// The longest utilisation range one request may cover.
const MAX_RANGE_DAYS: i64 = 400;

/// The query string of `GET /services/{id}`, read as text so that a bad value names its
/// parameter.
#[derive(Debug, Default, Deserialize)]
pub struct UtilisationParams {
    from: Option<String>,
    to: Option<String>,
    bucket: Option<String>,
}

/// `[from, to)` on bucket boundaries and the bucket length, from the query and the clock.
fn utilisation_range(q: &UtilisationParams, now_ms: i64) -> ApiResult<(i64, i64, i64)> {
    let bucket = match q.bucket.as_deref() {
        None | Some("hour") => HOUR_MS,
        Some("day") => DAY_MS,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "bucket",
                "bucket must be hour or day.",
            ))
        }
    };
    let time = |field: &str, v: &str| {
        parse_rfc3339_ms(v)
            .map_err(|reason| ApiError::invalid_field(field, format!("{field}: {v:?} {reason}")))
    };
    let ceil = |ms: i64| ms.saturating_add(bucket - 1).div_euclid(bucket) * bucket;
    let to = match &q.to {
        Some(v) => time("to", v)?,
        None => now_ms,
    };
    let from = match &q.from {
        Some(v) => time("from", v)?,
        // The last 24 hours, as whole buckets ending with the current one.
        None => ceil(to) - DAY_MS,
    };
    if from >= to {
        return Err(ApiError::invalid_field("from", "from must be before to."));
    }
    let (from, to) = (from.div_euclid(bucket) * bucket, ceil(to));
    if to - from > MAX_RANGE_DAYS * DAY_MS {
        return Err(ApiError::invalid_field(
            "to",
            format!("The range may cover at most {MAX_RANGE_DAYS} days."),
        ));
    }
    Ok((from, to, bucket))
}

/// The service's peak channels and calls per bucket of `[from, to)`, every bucket listed,
/// from its rollup hours in that range.
fn utilisation(
    service: &ServiceInfo,
    hours: &[ServiceHour],
    (from, to, bucket): (i64, i64, i64),
) -> ServiceUtilisation {
    let n = usize::try_from((to - from) / bucket).unwrap_or(0);
    let mut points: Vec<UtilisationPoint> = (0..n)
        .map(|i| UtilisationPoint {
            at: rfc3339_ms(from + i as i64 * bucket),
            peak_channels: 0,
            calls: 0,
        })
        .collect();
    for hour in hours {
        let Some(point) = usize::try_from((hour.hour_at - from) / bucket)
            .ok()
            .and_then(|i| points.get_mut(i))
        else {
            continue;
        };
        // A day's peak is the largest of its hours' (calls in progress at one instant).
        point.peak_channels = point.peak_channels.max(hour.peak_channels);
        point.calls += hour.calls;
    }
    ServiceUtilisation {
        from: rfc3339_ms(from),
        to: rfc3339_ms(to),
        bucket: if bucket == DAY_MS { "day" } else { "hour" }.to_string(),
        channel_limit: service.channel_limit,
        peak_channels: points.iter().map(|p| p.peak_channels).max().unwrap_or(0),
        points,
    }
}

/// `GET /api/v1/services/{id}`.
#[utoipa::path(
    get,
    path = "/services/{id}",
    tag = "services",
    operation_id = "get_service",
    summary = "One service with its health and utilisation",
    params(("id" = String, Path, description = "The service id"), ("from" = Option<String>, Query, description = "Start of the utilisation range (RFC 3339); default `to` minus 24 hours"), ("to" = Option<String>, Query, description = "End of the utilisation range (RFC 3339); default now"), ("bucket" = Option<String>, Query, description = "`hour` (default) or `day`"), ("org" = Option<String>, Query, description = "Carrier staff only: the slug of the organisation acted for")),
    responses(
        (status = 200, description = "The service, its health, its health checks and its utilisation over the range", body = ServiceDetail),
        (status = 400, description = "`org_required`: carrier staff must name the organisation with `?org=SLUG`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid session or API token; `invalid_token` or `token_expired`: the Bearer token is unknown, revoked or expired; `mfa_required`: a sign-in waits for its code", body = ErrorBody),
        (status = 403, description = "`insufficient_role` or `insufficient_scope`: the caller's role or token scope does not allow this", body = ErrorBody),
        (status = 404, description = "`not_found`: the organisation has no service with this id (or no such organisation)", body = ErrorBody),
        (status = 422, description = "`invalid_query`, or `invalid_field` (with `field`): `from`, `to` or `bucket` is not valid", body = ErrorBody),
        (status = 500, description = "`internal`: a failure on the portal's side; quote `request_id` to support", body = ErrorBody),
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn get_service(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<UtilisationParams>,
) -> ApiResult<ApiJson<ServiceDetail>> {
    caller.require(Role::Viewer)?;
    let found = db::services::find_with_health(state.db.pool(), &caller.org_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("Your organisation has no service with this id."))?;
    let service = service_info(&found);
    let range = utilisation_range(&q, state.clock.now_ms())?;
    let health_history = db::health_checks::list_for_service(
        state.db.pool(),
        &service.id,
        range.0,
        range.1,
        HEALTH_HISTORY_LIMIT,
    )
    .await?
    .iter()
    .map(health_info)
    .collect();
    // At most 24 × MAX_RANGE_DAYS rollup rows, read through the primary key.
    let hours = db::services::hours(
        state.db.pool(),
        &caller.org_id,
        &service.id,
        range.0,
        range.1,
    )
    .await?;
    let utilisation = utilisation(&service, &hours, range);
    Ok(ApiJson(ServiceDetail {
        service,
        utilisation,
        health_history,
    }))
}
