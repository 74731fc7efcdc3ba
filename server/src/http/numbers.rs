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
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    numbers::{NumberInfo, NumberPatch, NumbersResponse},
    ErrorBody,
};

use crate::http::openapi::errors::{
    Internal, InvalidBody, InvalidListQuery, JsonBody, OrgCaller, OrgRead, WriteRole,
};
use crate::http::openapi::params::ActingFor;
use crate::{
    audit::RequestMeta,
    clock::rfc3339_ms,
    db::{
        self,
        numbers::{NumberFilter, NumberRow},
    },
    voice::{
        countries,
        numbers::{self as domain, NumberChanges, NumberError},
    },
};

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
const STATUSES: [&str; 5] = [
    "active",
    "reserved",
    "porting_in",
    "porting_out",
    "released",
];

/// A number as the API answers it (the list, the edit and the CSV export).
pub(super) fn number_info(n: NumberRow) -> NumberInfo {
    NumberInfo {
        e164: n.e164,
        number_type: n.number_type,
        country: n.country,
        status: n.status,
        service_id: n.service_id,
        service_name: n.service_name,
        assignment: n.assignment,
        emergency_calling: n.emergency_calling,
        emergency_address_id: n.emergency_address_id,
        emergency_address_label: n.emergency_address_label,
        created_at: rfc3339_ms(n.created_at),
        updated_at: rfc3339_ms(n.updated_at),
    }
}

/// The answer for a refused edit: 404, or 422 naming the field.
fn number_api_error(e: NumberError) -> ApiError {
    let message = e.to_string();
    match e {
        NumberError::NotFound => ApiError::not_found(message),
        NumberError::Internal(e) => ApiError::internal(e),
        NumberError::EmptyAssignment
        | NumberError::AssignmentTooLong
        | NumberError::AssignmentControlCharacters => {
            ApiError::invalid_field("assignment", message)
        }
        NumberError::UnknownService => ApiError::invalid_field("service_id", message),
        NumberError::UnknownEmergencyAddress | NumberError::EmergencyAddressRequired => {
            ApiError::invalid_field("emergency_address_id", message)
        }
    }
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
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
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

/// The page size asked for, 1–[`MAX_LIMIT`] ([`DEFAULT_LIMIT`] when not given).
fn page_limit(query: &ListQuery) -> ApiResult<u32> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid_field(
            "limit",
            format!("limit must be between 1 and {MAX_LIMIT}."),
        ));
    }
    Ok(limit)
}

/// The validated filters of `GET /api/v1/numbers` (the CSV export applies them too, and
/// refuses a `limit` outside the documented range although it exports every match).
pub(super) fn filters(query: &ListQuery) -> ApiResult<NumberFilter> {
    page_limit(query)?;
    let text = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_string);
    let country = match query.country.as_deref() {
        Some(country) => {
            let country = country.trim().to_ascii_uppercase();
            if !countries::is_assigned(&country) {
                return Err(ApiError::invalid_field(
                    "country",
                    "country must be an ISO 3166-1 alpha-2 code (e.g. GB, DE).",
                ));
            }
            Some(country)
        }
        None => None,
    };
    let status = match query.status.as_deref() {
        Some(status) => {
            if !STATUSES.contains(&status) {
                return Err(ApiError::invalid_field(
                    "status",
                    format!("status must be one of {}.", STATUSES.join(", ")),
                ));
            }
            Some(status.to_string())
        }
        None => None,
    };
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    Ok(NumberFilter {
        text,
        country,
        status,
        service_id: query.service.clone(),
        unassigned: query.unassigned,
        missing_emergency_address: query.missing_emergency_address,
        after,
    })
}

/// `GET /api/v1/numbers`.
#[utoipa::path(
    get,
    path = "/numbers",
    tag = "numbers",
    operation_id = "list_numbers",
    summary = "List the organisation's numbers",
    params(ListQuery, ActingFor),
    responses(
        (status = 200, description = "One page of the organisation's numbers, by E.164", body = NumbersResponse),
        OrgRead,
        InvalidListQuery,
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<ApiJson<NumbersResponse>> {
    caller.require(Role::Viewer)?;
    let limit = page_limit(&query)?;
    let filter = filters(&query)?;
    // One more than the page, to know whether there is a next one.
    let mut numbers: Vec<NumberInfo> = db::numbers::list(
        state.db.pool(),
        &caller.org_id,
        &filter,
        None,
        i64::from(limit) + 1,
    )
    .await?
    .into_iter()
    .map(number_info)
    .collect();
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

/// `PATCH /api/v1/numbers/{e164}`: fields left out stay, `null` clears.
#[utoipa::path(
    patch,
    path = "/numbers/{e164}",
    tag = "numbers",
    operation_id = "update_number",
    summary = "Change a number's assignment, service or emergency address",
    params(("e164" = String, Path, description = "The number in E.164 (`+` may be sent as `%2B`)"), ActingFor),
    request_body = NumberPatch,
    responses(
        (status = 200, description = "The number as changed", body = NumberInfo),
        OrgCaller,
        WriteRole,
        (status = 404, description = "`not_found`: the organisation has no number with this E.164 (or no such organisation)", body = ErrorBody),
        JsonBody,
        InvalidBody,
        Internal,
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
    db::numbers::find(state.db.pool(), &caller.org_id, &e164)
        .await?
        .ok_or_else(|| number_api_error(NumberError::NotFound))?;
    caller.require(Role::Engineer)?;
    let changes = NumberChanges {
        assignment: patch.assignment,
        service_id: patch.service_id,
        emergency_address_id: patch.emergency_address_id,
    };
    let after = domain::update_number(
        &state.db,
        &caller.acting(&meta),
        state.clock.now_ms(),
        &e164,
        &changes,
    )
    .await
    .map_err(number_api_error)?;
    Ok(ApiJson(number_info(after)))
}
