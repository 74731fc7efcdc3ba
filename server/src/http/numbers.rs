//! `/api/v1/numbers`: the organisation's phone numbers, filtered and keyset-paginated by
//! E.164, and `PATCH /api/v1/numbers/{e164}` to change a number's assignment label, service
//! and emergency address (engineers and admins, and `read_write` tokens; audited with before
//! and after).
//!
//! Another organisation's number answers 404 `not_found`, like an unknown one, before any
//! permission check; a service or address id that is not the organisation's is refused with
//! 422 naming the field.

use axum::extract::{Path, State};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64URL, Engine};
use serde::Deserialize;
use serde_json::json;
use sqlx::{any::AnyRow, Any, Executor, Row};
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    numbers::{NumberInfo, NumberPatch, NumbersResponse},
    ErrorBody,
};

use crate::{audit::RequestMeta, clock::rfc3339_ms, voice::countries};

use super::caller::{Caller, Role};
use super::{error::ApiQuery, ApiError, ApiJson, ApiResult, AppState};

/// Routes under `/api/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(update))
}

/// Page size when `limit` is not given, and the largest accepted.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;
/// Longest accepted assignment label, in characters.
const MAX_ASSIGNMENT_CHARS: usize = 256;
const STATUSES: [&str; 5] = [
    "active",
    "reserved",
    "porting_in",
    "porting_out",
    "released",
];

pub(super) const SELECT: &str = "SELECT n.e164, n.number_type, n.country, n.status, n.service_id, \
     s.name AS service_name, n.assignment, \
     CAST(CASE WHEN n.emergency_calling THEN 1 ELSE 0 END AS BIGINT) AS emergency_calling, \
     n.emergency_address_id, a.label AS emergency_address_label, n.created_at, n.updated_at \
     FROM numbers n \
     LEFT JOIN services s ON s.id = n.service_id \
     LEFT JOIN emergency_addresses a ON a.id = n.emergency_address_id \
     WHERE n.org_id = $1";

pub(super) fn number_info(row: &AnyRow) -> Result<NumberInfo, sqlx::Error> {
    Ok(NumberInfo {
        e164: row.try_get("e164")?,
        number_type: row.try_get("number_type")?,
        country: row.try_get("country")?,
        status: row.try_get("status")?,
        service_id: row.try_get("service_id")?,
        service_name: row.try_get("service_name")?,
        assignment: row.try_get("assignment")?,
        emergency_calling: row.try_get::<i64, _>("emergency_calling")? != 0,
        emergency_address_id: row.try_get("emergency_address_id")?,
        emergency_address_label: row.try_get("emergency_address_label")?,
        created_at: rfc3339_ms(row.try_get::<i64, _>("created_at")?),
        updated_at: rfc3339_ms(row.try_get::<i64, _>("updated_at")?),
    })
}

/// The filters and page of `GET /api/v1/numbers`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    /// Substring (case-insensitive) of the E.164 or the assignment label.
    q: Option<String>,
    /// ISO 3166-1 alpha-2.
    country: Option<String>,
    /// `active`, `reserved`, `porting_in`, `porting_out` or `released`.
    status: Option<String>,
    /// A service id.
    service: Option<String>,
    /// Only numbers without an assignment.
    #[serde(default)]
    unassigned: bool,
    /// Only numbers that need an emergency address and have none.
    #[serde(default)]
    missing_emergency_address: bool,
    /// Page size.
    limit: Option<u32>,
    /// The previous page's `next_cursor`.
    cursor: Option<String>,
}

/// The opaque cursor for the page after `e164`.
fn encode_cursor(e164: &str) -> String {
    B64URL.encode(e164.as_bytes())
}

fn decode_cursor(cursor: &str) -> ApiResult<String> {
    B64URL
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            ApiError::invalid_field(
                "cursor",
                "The cursor is not one this API returned; start again without it.",
            )
        })
}

/// `q` as a LIKE pattern, its wildcards escaped (with `\`).
fn like_pattern(q: &str) -> String {
    let mut p = String::from("%");
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The validated filters of `GET /api/v1/numbers` (the CSV export applies them too): SQL
/// conditions to append to [`SELECT`] and the values of their placeholders, numbered from
/// `$2` (`$1` is the organisation).
pub(super) fn filters(query: &ListQuery) -> ApiResult<(String, Vec<String>)> {
    let mut sql = String::new();
    let mut binds: Vec<String> = Vec::new();
    let mut push = |sql: &mut String, clause: &str, value: String| {
        binds.push(value);
        sql.push_str(&clause.replace("{}", &format!("${}", binds.len() + 1)));
    };
    if let Some(q) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        push(
            &mut sql,
            " AND (LOWER(n.e164) LIKE {} ESCAPE '\\' OR LOWER(COALESCE(n.assignment, '')) LIKE {} ESCAPE '\\')",
            like_pattern(q),
        );
    }
    if let Some(country) = query.country.as_deref() {
        let country = country.trim().to_ascii_uppercase();
        if !countries::is_assigned(&country) {
            return Err(ApiError::invalid_field(
                "country",
                "country must be an ISO 3166-1 alpha-2 code (e.g. GB, DE).",
            ));
        }
        push(&mut sql, " AND n.country = {}", country);
    }
    if let Some(status) = query.status.as_deref() {
        if !STATUSES.contains(&status) {
            return Err(ApiError::invalid_field(
                "status",
                format!("status must be one of {}.", STATUSES.join(", ")),
            ));
        }
        push(&mut sql, " AND n.status = {}", status.to_string());
    }
    if let Some(service) = query.service.as_deref() {
        push(&mut sql, " AND n.service_id = {}", service.to_string());
    }
    if query.unassigned {
        sql.push_str(" AND (n.assignment IS NULL OR n.assignment = '')");
    }
    if query.missing_emergency_address {
        sql.push_str(" AND n.emergency_address_id IS NULL");
    }
    if let Some(cursor) = query.cursor.as_deref() {
        push(&mut sql, " AND n.e164 > {}", decode_cursor(cursor)?);
    }
    Ok((sql, binds))
}

/// `GET /api/v1/numbers`.
#[utoipa::path(
    get,
    path = "/numbers",
    tag = "numbers",
    operation_id = "list_numbers",
    summary = "List the organisation's numbers",
    params(ListQuery, ("org" = Option<String>, Query, description = "Carrier staff only: the slug of the organisation acted for")),
    responses(
        (status = 200, description = "One page of the organisation's numbers, by E.164", body = NumbersResponse),
        (status = 400, description = "`org_required`: carrier staff must name the organisation with `?org=SLUG`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid session or API token; `invalid_token` or `token_expired`: the Bearer token is unknown, revoked or expired; `mfa_required`: a sign-in waits for its code", body = ErrorBody),
        (status = 403, description = "`insufficient_role` or `insufficient_scope`: the caller's role or token scope does not allow this", body = ErrorBody),
        (status = 404, description = "`not_found`: no such organisation (or one that is not the caller's)", body = ErrorBody),
        (status = 422, description = "`invalid_query`, or `invalid_field` (with `field`): a filter, `limit` or `cursor` is not valid", body = ErrorBody),
        (status = 500, description = "`internal`: a failure on the portal's side; quote `request_id` to support", body = ErrorBody),
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<ApiJson<NumbersResponse>> {
    caller.require(Role::Viewer)?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid_field(
            "limit",
            format!("limit must be between 1 and {MAX_LIMIT}."),
        ));
    }
    let (conditions, binds) = filters(&query)?;
    let sql = format!("{SELECT}{conditions} ORDER BY n.e164 LIMIT {}", limit + 1);
    let mut q = sqlx::query(&sql).bind(&caller.org_id);
    for b in &binds {
        q = q.bind(b);
    }
    let mut numbers = q
        .fetch_all(state.db.pool())
        .await?
        .iter()
        .map(number_info)
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = if numbers.len() > limit as usize {
        numbers.truncate(limit as usize);
        numbers.last().map(|n| encode_cursor(&n.e164))
    } else {
        None
    };
    Ok(ApiJson(NumbersResponse {
        numbers,
        next_cursor,
    }))
}

/// The organisation's number, or 404.
async fn find<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    e164: &str,
) -> ApiResult<NumberInfo> {
    let row = sqlx::query(&format!("{SELECT} AND n.e164 = $2"))
        .bind(org_id)
        .bind(e164)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| ApiError::not_found("Your organisation has no number with this E.164."))?;
    Ok(number_info(&row)?)
}

/// Whether the organisation has a row with this id in `table`.
async fn owns<'e, E: Executor<'e, Database = Any>>(
    db: E,
    table: &str,
    org_id: &str,
    id: &str,
) -> ApiResult<bool> {
    Ok(sqlx::query(&format!(
        "SELECT id FROM {table} WHERE org_id = $1 AND id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(db)
    .await?
    .is_some())
}

fn audit_view(n: &NumberInfo) -> serde_json::Value {
    json!({
        "assignment": n.assignment,
        "service_id": n.service_id,
        "emergency_address_id": n.emergency_address_id,
    })
}

/// The assignment label checked: trimmed, not empty (send `null` to clear), bounded.
fn valid_assignment(a: &str) -> ApiResult<String> {
    let a = a.trim();
    if a.is_empty() {
        return Err(ApiError::invalid_field(
            "assignment",
            "The assignment is empty; send null to clear it.",
        ));
    }
    if a.chars().count() > MAX_ASSIGNMENT_CHARS {
        return Err(ApiError::invalid_field(
            "assignment",
            format!("The assignment is longer than {MAX_ASSIGNMENT_CHARS} characters."),
        ));
    }
    if a.chars().any(char::is_control) {
        return Err(ApiError::invalid_field(
            "assignment",
            "The assignment contains control characters.",
        ));
    }
    Ok(a.to_string())
}

/// `PATCH /api/v1/numbers/{e164}`: fields left out stay, `null` clears.
#[utoipa::path(
    patch,
    path = "/numbers/{e164}",
    tag = "numbers",
    operation_id = "update_number",
    summary = "Change a number's assignment, service or emergency address",
    params(("e164" = String, Path, description = "The number in E.164 (`+` may be sent as `%2B`)"), ("org" = Option<String>, Query, description = "Carrier staff only: the slug of the organisation acted for")),
    request_body = NumberPatch,
    responses(
        (status = 200, description = "The number as changed", body = NumberInfo),
        (status = 400, description = "`org_required`: carrier staff must name the organisation with `?org=SLUG`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid session or API token; `invalid_token` or `token_expired`: the Bearer token is unknown, revoked or expired; `mfa_required`: a sign-in waits for its code", body = ErrorBody),
        (status = 403, description = "`insufficient_role` or `insufficient_scope`: the role or token scope does not allow this; `csrf`: a cookie-authenticated change that is not same-origin", body = ErrorBody),
        (status = 404, description = "`not_found`: the organisation has no number with this E.164 (or no such organisation)", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is larger than the portal accepts", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body was not sent as `application/json`", body = ErrorBody),
        (status = 422, description = "`malformed_json`, `invalid_body` or `invalid_field` (with `field`): the body is not acceptable", body = ErrorBody),
        (status = 500, description = "`internal`: a failure on the portal's side; quote `request_id` to support", body = ErrorBody),
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn update(
    State(state): State<AppState>,
    meta: RequestMeta,
    caller: Caller,
    Path(e164): Path<String>,
    ApiJson(patch): ApiJson<NumberPatch>,
) -> ApiResult<ApiJson<NumberInfo>> {
    // Another organisation's number is not found, whoever asks; permission comes second.
    find(state.db.pool(), &caller.org_id, &e164).await?;
    caller.require(Role::Engineer)?;
    let assignment = match &patch.assignment {
        Some(Some(a)) => Some(Some(valid_assignment(a)?)),
        Some(None) => Some(None),
        None => None,
    };
    let now = state.clock.now_ms();
    let mut tx = state.db.pool().begin().await?;
    let before = find(&mut *tx, &caller.org_id, &e164).await?;
    if let Some(Some(service_id)) = &patch.service_id {
        if !owns(&mut *tx, "services", &caller.org_id, service_id).await? {
            return Err(ApiError::invalid_field(
                "service_id",
                "Your organisation has no service with this id.",
            ));
        }
    }
    if let Some(Some(address_id)) = &patch.emergency_address_id {
        if !owns(&mut *tx, "emergency_addresses", &caller.org_id, address_id).await? {
            return Err(ApiError::invalid_field(
                "emergency_address_id",
                "Your organisation has no emergency address with this id.",
            ));
        }
    }
    if matches!(patch.emergency_address_id, Some(None)) && before.emergency_calling {
        return Err(ApiError::invalid_field(
            "emergency_address_id",
            "This number can place emergency calls, so it needs an emergency address.",
        ));
    }
    let assignment = assignment.unwrap_or_else(|| before.assignment.clone());
    let service_id = patch
        .service_id
        .clone()
        .unwrap_or_else(|| before.service_id.clone());
    let address_id = patch
        .emergency_address_id
        .clone()
        .unwrap_or_else(|| before.emergency_address_id.clone());
    sqlx::query(
        "UPDATE numbers SET assignment = $1, service_id = $2, emergency_address_id = $3, \
         updated_at = $4 WHERE e164 = $5 AND org_id = $6",
    )
    .bind(assignment)
    .bind(service_id)
    .bind(address_id)
    .bind(now)
    .bind(&e164)
    .bind(&caller.org_id)
    .execute(&mut *tx)
    .await?;
    let after = find(&mut *tx, &caller.org_id, &e164).await?;
    caller
        .audit(
            &mut *tx,
            now,
            &meta,
            "number.updated",
            Some(&e164),
            json!({"before": audit_view(&before), "after": audit_view(&after)}),
        )
        .await?;
    tx.commit().await?;
    Ok(ApiJson(after))
}
