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
use serde::Deserialize;
use sqlx::{any::AnyRow, Row};
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    incidents::{IncidentInfo, IncidentUpdateInfo, IncidentsQuery, IncidentsResponse},
    ErrorBody,
};

use crate::{clock::rfc3339_ms, voice::cdr::parse_rfc3339_ms};

use super::caller::{Caller, Role};
use super::{error::ApiQuery, ApiError, ApiJson, ApiResult, AppState};

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
/// The statuses after which nothing more happens.
const CLOSED: &str = "('resolved', 'completed', 'cancelled')";
const KINDS: [&str; 2] = ["incident", "maintenance"];
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

/// The query string, read as text so that a bad value names its parameter.
#[derive(Debug, Default, Deserialize)]
pub struct IncidentsParams {
    status: Option<String>,
    kind: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<String>,
}

/// The incidents that concern the organisation `$1`. The service join keeps only the
/// organisation's own services, so a service-scoped row of another customer fails every
/// branch of the scope test.
const SELECT: &str = "SELECT i.id, i.kind, i.scope, i.service_id, s.name AS service_name, \
     i.country, i.title, i.status, i.starts_at, i.ends_at, i.created_at, i.updated_at \
     FROM incidents i \
     LEFT JOIN services s ON s.id = i.service_id AND s.org_id = $1 \
     WHERE (i.scope = 'global' \
       OR (i.scope = 'service' AND s.id IS NOT NULL) \
       OR (i.scope = 'country' AND (\
         EXISTS (SELECT 1 FROM services so WHERE so.org_id = $1 AND so.country = i.country) \
         OR EXISTS (SELECT 1 FROM numbers n WHERE n.org_id = $1 AND n.country = i.country \
                    AND n.status <> 'released'))))";

fn parse_time(field: &str, value: &str) -> ApiResult<i64> {
    parse_rfc3339_ms(value)
        .map_err(|reason| ApiError::invalid_field(field, format!("{field}: {value:?} {reason}")))
}

/// A value bound to a placeholder.
enum Bind {
    Int(i64),
    Text(String),
}

/// The filters as SQL conditions (placeholders from `$2`) with their values, and the limit.
fn filters(q: &IncidentsParams) -> ApiResult<(Vec<String>, Vec<Bind>, i64)> {
    let mut conditions = Vec::new();
    let mut binds = Vec::new();
    if let Some(status) = q.status.as_deref() {
        match status {
            "open" => conditions.push(format!("i.status NOT IN {CLOSED}")),
            "closed" => conditions.push(format!("i.status IN {CLOSED}")),
            s if STATUSES.contains(&s) => {
                binds.push(Bind::Text(s.to_string()));
                conditions.push(format!("i.status = ${}", binds.len() + 1));
            }
            _ => {
                return Err(ApiError::invalid_field(
                    "status",
                    format!(
                        "status must be open, closed or one of {}.",
                        STATUSES.join(", ")
                    ),
                ))
            }
        }
    }
    if let Some(kind) = q.kind.as_deref() {
        if !KINDS.contains(&kind) {
            return Err(ApiError::invalid_field(
                "kind",
                "kind must be incident or maintenance.",
            ));
        }
        binds.push(Bind::Text(kind.to_string()));
        conditions.push(format!("i.kind = ${}", binds.len() + 1));
    }
    let from = q
        .from
        .as_deref()
        .map(|v| parse_time("from", v))
        .transpose()?;
    let to = q.to.as_deref().map(|v| parse_time("to", v)).transpose()?;
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            return Err(ApiError::invalid_field(
                "from",
                "from must not be after to.",
            ));
        }
    }
    if let Some(from) = from {
        // Still going on at `from`: open-ended, or ending at or after it.
        binds.push(Bind::Int(from));
        conditions.push(format!(
            "(i.ends_at IS NULL OR i.ends_at >= ${})",
            binds.len() + 1
        ));
    }
    if let Some(to) = to {
        binds.push(Bind::Int(to));
        conditions.push(format!("i.starts_at < ${}", binds.len() + 1));
    }
    let limit = match q.limit.as_deref() {
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| {
                ApiError::invalid_field("limit", format!("limit must be 1 to {MAX_LIMIT}."))
            })?,
        None => DEFAULT_LIMIT,
    };
    Ok((conditions, binds, limit))
}

fn incident_info(row: &AnyRow) -> Result<IncidentInfo, sqlx::Error> {
    let status: String = row.try_get("status")?;
    Ok(IncidentInfo {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        scope: row.try_get("scope")?,
        service_id: row.try_get("service_id")?,
        service_name: row.try_get("service_name")?,
        country: row.try_get("country")?,
        title: row.try_get("title")?,
        open: !matches!(status.as_str(), "resolved" | "completed" | "cancelled"),
        status,
        starts_at: rfc3339_ms(row.try_get::<i64, _>("starts_at")?),
        ends_at: row.try_get::<Option<i64>, _>("ends_at")?.map(rfc3339_ms),
        created_at: rfc3339_ms(row.try_get::<i64, _>("created_at")?),
        updated_at: rfc3339_ms(row.try_get::<i64, _>("updated_at")?),
        updates: Vec::new(),
    })
}

/// `GET /api/v1/incidents`.
#[utoipa::path(
    get,
    path = "/incidents",
    tag = "incidents",
    operation_id = "list_incidents",
    summary = "Incidents and maintenance that concern the organisation",
    params(IncidentsQuery, ("org" = Option<String>, Query, description = "Carrier staff only: the slug of the organisation acted for")),
    responses(
        (status = 200, description = "The incidents and maintenance windows that concern the organisation", body = IncidentsResponse),
        (status = 400, description = "`org_required`: carrier staff must name the organisation with `?org=SLUG`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid session or API token; `invalid_token` or `token_expired`: the Bearer token is unknown, revoked or expired; `mfa_required`: a sign-in waits for its code", body = ErrorBody),
        (status = 403, description = "`insufficient_role` or `insufficient_scope`: the caller's role or token scope does not allow this", body = ErrorBody),
        (status = 404, description = "`not_found`: no such organisation (or one that is not the caller's)", body = ErrorBody),
        (status = 422, description = "`invalid_query`, or `invalid_field` (with `field`): a filter or `limit` is not valid", body = ErrorBody),
        (status = 500, description = "`internal`: a failure on the portal's side; quote `request_id` to support", body = ErrorBody),
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<IncidentsParams>,
) -> ApiResult<ApiJson<IncidentsResponse>> {
    caller.require(Role::Viewer)?;
    let (conditions, binds, limit) = filters(&q)?;
    let mut sql = String::from(SELECT);
    for c in &conditions {
        sql.push_str(" AND ");
        sql.push_str(c);
    }
    sql.push_str(&format!(
        " ORDER BY i.starts_at DESC, i.id DESC LIMIT ${}",
        binds.len() + 2
    ));
    let mut query = sqlx::query(&sql).bind(&caller.org_id);
    for b in &binds {
        query = match b {
            Bind::Int(v) => query.bind(*v),
            Bind::Text(v) => query.bind(v.as_str()),
        };
    }
    let mut incidents = query
        .bind(limit)
        .fetch_all(state.db.pool())
        .await?
        .iter()
        .map(incident_info)
        .collect::<Result<Vec<_>, _>>()?;
    if incidents.is_empty() {
        return Ok(ApiJson(IncidentsResponse { incidents }));
    }
    // The timelines of the listed incidents only (at most `limit` of them), in one query.
    let placeholders: Vec<String> = (1..=incidents.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT id, incident_id, posted_at, status, body FROM incident_updates \
         WHERE incident_id IN ({}) ORDER BY posted_at, id",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for i in &incidents {
        query = query.bind(i.id.as_str());
    }
    let mut updates: HashMap<String, Vec<IncidentUpdateInfo>> = HashMap::new();
    for row in query.fetch_all(state.db.pool()).await? {
        updates
            .entry(row.try_get("incident_id")?)
            .or_default()
            .push(IncidentUpdateInfo {
                id: row.try_get("id")?,
                posted_at: rfc3339_ms(row.try_get::<i64, _>("posted_at")?),
                status: row.try_get("status")?,
                body: row.try_get("body")?,
            });
    }
    for i in &mut incidents {
        i.updates = updates.remove(&i.id).unwrap_or_default();
    }
    Ok(ApiJson(IncidentsResponse { incidents }))
}
