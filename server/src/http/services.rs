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
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::services::{
    ServiceDetail, ServiceHealthInfo, ServiceInfo, ServiceQuery, ServiceUtilisation,
    ServicesResponse, UtilisationPoint, HEALTH_HISTORY_LIMIT,
};
use app::api::ErrorBody;

use crate::http::openapi::errors::{Internal, OrgCaller, OrgRead, ReadRole};
use crate::http::openapi::params::ActingFor;
use crate::{
    clock::rfc3339_ms,
    db::{
        self,
        health_checks::HealthCheck,
        services::{ServiceHour, ServiceWithHealth},
    },
};

use super::caller::{Caller, Role};
use super::{error::ApiQuery, params, ApiError, ApiJson, ApiResult, AppState};

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
    params(ActingFor),
    responses(
        (status = 200, description = "The organisation's voice services with their health", body = ServicesResponse),
        OrgRead,
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

/// `[from, to)` on bucket boundaries and the bucket length, from the query and the clock.
fn utilisation_range(q: &ServiceQuery, now_ms: i64) -> ApiResult<(i64, i64, i64)> {
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
    let ceil = |ms: i64| ms.saturating_add(bucket - 1).div_euclid(bucket) * bucket;
    let to = match &q.to {
        Some(v) => params::time("to", v)?,
        None => now_ms,
    };
    let from = match &q.from {
        Some(v) => params::time("from", v)?,
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
    params(("id" = String, Path, description = "The service id"), ServiceQuery, ActingFor),
    responses(
        (status = 200, description = "The service, its health, its health checks and its utilisation over the range", body = ServiceDetail),
        OrgCaller,
        ReadRole,
        (status = 404, description = "`not_found`: the organisation has no service with this id (or no such organisation)", body = ErrorBody),
        (status = 422, description = "`invalid_query`, or `invalid_field` (with `field`): `from`, `to` or `bucket` is not valid", body = ErrorBody),
        Internal,
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn get_service(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ServiceQuery>,
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
