//! `GET /api/v1/incidents`: the carrier's incidents and planned maintenance that concern the
//! caller's organisation, each with its public timeline. Any role may read, and API tokens of
//! the `read` and `read_write` scopes; an `ingest` token reads nothing (403).
//!
//! An incident concerns an organisation when it is global, when it is about one of the
//! organisation's services, or when it is about a country where the organisation has a
//! service or holds a number (not a released one). Another customer's service-specific
//! incident is never listed, and its service's name never leaves the query.
//!
//! Filters: `status` (`open`, `closed` or one status of the schema), `kind` (`incident` or
//! `maintenance`), `from` (still going on at or after it: open-ended ones always are), `to`
//! (starting before it), `limit` (1–200, default 50). Newest first by (start, id). A bad
//! parameter answers 422 `invalid_field` naming it.

use std::collections::HashMap;

use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    incidents::{IncidentInfo, IncidentUpdateInfo, IncidentsQuery, IncidentsResponse},
    ErrorBody,
};

use crate::http::openapi::errors::OrgRead;
use crate::http::openapi::params::ActingFor;
use crate::{
    clock::rfc3339_ms,
    db::{
        self,
        incidents::{IncidentFilter, IncidentRow, StatusFilter},
    },
};

use super::caller::{Caller, Role};
use super::{error::ApiQuery, params, ApiError, ApiJson, ApiResult, AppState};

/// Routes under `/api/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// Every status the schema allows (incidents, then maintenance).
const STATUSES: [&str; 8] = [
    "investigating",
    "identified",
    "monitoring",
    "resolved",
    "scheduled",
    "in_progress",
    "completed",
    "cancelled",
];
const KINDS: [&str; 2] = ["incident", "maintenance"];
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

/// The checked filters and the limit.
fn filters(q: &IncidentsQuery) -> ApiResult<(IncidentFilter, i64)> {
    let mut filter = IncidentFilter::default();
    if let Some(status) = q.status.as_deref() {
        filter.status = Some(match status {
            "open" => StatusFilter::Open,
            "closed" => StatusFilter::Closed,
            s if STATUSES.contains(&s) => StatusFilter::Is(s.to_string()),
            _ => {
                return Err(ApiError::invalid_field(
                    "status",
                    format!(
                        "status must be open, closed or one of {}.",
                        STATUSES.join(", ")
                    ),
                ))
            }
        });
    }
    if let Some(kind) = q.kind.as_deref() {
        if !KINDS.contains(&kind) {
            return Err(ApiError::invalid_field(
                "kind",
                "kind must be incident or maintenance.",
            ));
        }
        filter.kind = Some(kind.to_string());
    }
    let from = q
        .from
        .as_deref()
        .map(|v| params::time("from", v))
        .transpose()?;
    let to = q.to.as_deref().map(|v| params::time("to", v)).transpose()?;
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            return Err(ApiError::invalid_field(
                "from",
                "from must not be after to.",
            ));
        }
    }
    filter.from = from;
    filter.to = to;
    let limit = params::limit(q.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)?;
    Ok((filter, limit))
}

fn incident_info(row: IncidentRow) -> IncidentInfo {
    IncidentInfo {
        id: row.id,
        kind: row.kind,
        scope: row.scope,
        service_id: row.service_id,
        service_name: row.service_name,
        country: row.country,
        title: row.title,
        open: !matches!(row.status.as_str(), "resolved" | "completed" | "cancelled"),
        status: row.status,
        starts_at: rfc3339_ms(row.starts_at),
        ends_at: row.ends_at.map(rfc3339_ms),
        created_at: rfc3339_ms(row.created_at),
        updated_at: rfc3339_ms(row.updated_at),
        updates: Vec::new(),
    }
}

/// `GET /api/v1/incidents`.
#[utoipa::path(
    get,
    path = "/incidents",
    tag = "incidents",
    operation_id = "list_incidents",
    summary = "Incidents and maintenance that concern the organisation",
    params(IncidentsQuery, ActingFor),
    responses(
        (status = 200, description = "The incidents and maintenance windows that concern the organisation", body = IncidentsResponse),
        OrgRead,
        (status = 422, description = "`invalid_query`, or `invalid_field` (with `field`): a filter or `limit` is not valid", body = ErrorBody),
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<IncidentsQuery>,
) -> ApiResult<ApiJson<IncidentsResponse>> {
    caller.require(Role::Viewer)?;
    let (filter, limit) = filters(&q)?;
    let mut incidents: Vec<IncidentInfo> =
        db::incidents::list_for_org(state.db.pool(), &caller.org_id, &filter, limit)
            .await?
            .into_iter()
            .map(incident_info)
            .collect();
    if incidents.is_empty() {
        return Ok(ApiJson(IncidentsResponse { incidents }));
    }
    // The timelines of the listed incidents only (at most `limit` of them), in one query.
    let ids: Vec<String> = incidents.iter().map(|i| i.id.clone()).collect();
    let mut updates: HashMap<String, Vec<IncidentUpdateInfo>> = HashMap::new();
    for u in db::incidents::updates_of(state.db.pool(), &ids).await? {
        updates
            .entry(u.incident_id)
            .or_default()
            .push(IncidentUpdateInfo {
                id: u.id,
                posted_at: rfc3339_ms(u.posted_at),
                status: u.status,
                body: u.body,
            });
    }
    for i in &mut incidents {
        i.updates = updates.remove(&i.id).unwrap_or_default();
    }
    Ok(ApiJson(IncidentsResponse { incidents }))
}
