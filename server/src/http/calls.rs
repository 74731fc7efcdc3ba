//! `/api/v1/calls`: the organisation's call records (CDRs). Any role may read, and API tokens
//! of the `read` and `read_write` scopes; an `ingest` token reads nothing (403).
//!
//! `GET /calls` lists the calls whose start lies in `[from, to)` (RFC 3339; default the 24
//! hours ending now by the app clock), newest first by (start, id), filtered by `direction`,
//! `result`, `number` (the call's `from` or `to`, E.164), `service` (id), `country` and
//! `min_mos`. Pages hold `limit` calls (1–1000, default 50); `next_cursor` is an opaque keyset
//! cursor on (start, id), so the order is stable and no row is skipped or repeated across
//! pages, whatever was ingested meanwhile (the queries are `db::calls::list`). A bad parameter
//! answers 422 `invalid_field` naming it.
//!
//! `GET /calls/{id}` answers one call by the carrier's id (URL-encoded in the path). Another
//! organisation's id answers 404 `not_found`, like an unknown one: every query is restricted
//! to the caller's organisation.

use axum::extract::{Path, State};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    calls::{CallInfo, CallsPage, CallsQuery, CallsRange},
    ErrorBody,
};

use crate::http::openapi::errors::{Internal, InvalidListQuery, OrgCaller, OrgRead, ReadRole};
use crate::http::openapi::params::ActingFor;
use crate::{
    clock::rfc3339_ms,
    db::{
        self,
        calls::{CallFilter, CallKey, StoredCall},
    },
    voice::{cdr::is_e164, countries},
};

use super::caller::{Caller, Role};
use super::{error::ApiQuery, params, ApiError, ApiJson, ApiResult, AppState};

/// Routes under `/api/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_call))
}

/// The default range: the 24 hours before `to`.
const DEFAULT_RANGE_MS: i64 = 24 * 3_600_000;
/// Page size when `limit` is not given.
const DEFAULT_LIMIT: i64 = 50;
/// The largest page.
const MAX_LIMIT: i64 = 1000;

const DIRECTIONS: [&str; 2] = ["inbound", "outbound"];
const RESULTS: [&str; 5] = ["answered", "busy", "no_answer", "failed", "cancelled"];

/// A [`CallsQuery`], checked: which calls, where the page starts, how many.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct CallsRequest {
    /// The filters, with the range's defaults filled in.
    pub(super) filter: CallFilter,
    /// The decoded `cursor`: the page starts after this call.
    pub(super) after: Option<CallKey>,
    /// The page size.
    pub(super) limit: i64,
}

/// The opaque cursor of the page that starts after `key`.
fn encode_cursor(key: &CallKey) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::json!([key.started_at, key.id]).to_string())
}

fn decode_cursor(s: &str) -> Option<CallKey> {
    let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
    let (started_at, id): (i64, String) = serde_json::from_slice(&bytes).ok()?;
    Some(CallKey { started_at, id })
}

/// Checks the query string of `GET /calls` (the CSV export takes it too); the first bad value
/// answers 422 `invalid_field` naming its parameter.
pub(super) fn parse(q: &CallsQuery, now_ms: i64) -> ApiResult<CallsRequest> {
    let to = match &q.to {
        Some(v) => params::time("to", v)?,
        None => now_ms,
    };
    let from = match &q.from {
        Some(v) => params::time("from", v)?,
        None => to - DEFAULT_RANGE_MS,
    };
    if from > to {
        return Err(ApiError::invalid_field(
            "from",
            "from must not be after to (calls are listed with from ≤ start < to).",
        ));
    }
    let limit = params::limit(q.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)?;
    let after = match &q.cursor {
        Some(v) => Some(decode_cursor(v).ok_or_else(|| {
            ApiError::invalid_field(
                "cursor",
                "cursor is not one this API returned; pass a page's next_cursor unchanged.",
            )
        })?),
        None => None,
    };
    let mut filter = CallFilter {
        from,
        to,
        ..CallFilter::default()
    };
    if let Some(v) = &q.direction {
        filter.direction = Some(params::one_of("direction", v, &DIRECTIONS)?);
    }
    if let Some(v) = &q.result {
        filter.result = Some(params::one_of("result", v, &RESULTS)?);
    }
    if let Some(v) = &q.number {
        if !is_e164(v) {
            return Err(ApiError::invalid_field(
                "number",
                "number must be E.164: + and 8 to 15 digits (write + as %2B in a URL).",
            ));
        }
        filter.number = Some(v.clone());
    }
    if let Some(v) = &q.service {
        if v.is_empty() {
            return Err(ApiError::invalid_field(
                "service",
                "service must be a service id.",
            ));
        }
        filter.service_id = Some(v.clone());
    }
    if let Some(v) = &q.country {
        let upper = v.to_ascii_uppercase();
        if !countries::is_assigned(&upper) {
            return Err(ApiError::invalid_field(
                "country",
                format!("country: {v:?} is not an assigned ISO 3166-1 alpha-2 code."),
            ));
        }
        filter.country = Some(upper);
    }
    if let Some(v) = &q.min_mos {
        let mos = v
            .parse::<f64>()
            .ok()
            .filter(|m| (1.0..=5.0).contains(m))
            .ok_or_else(|| {
                ApiError::invalid_field("min_mos", "min_mos must be a number from 1.0 to 5.0.")
            })?;
        filter.min_mos = Some(mos);
    }
    Ok(CallsRequest {
        filter,
        after,
        limit,
    })
}

fn call_info(c: StoredCall) -> CallInfo {
    CallInfo {
        id: c.id,
        service_id: c.service_id,
        service: c.service_name,
        start: rfc3339_ms(c.started_at),
        answer: c.answered_at.map(rfc3339_ms),
        end: rfc3339_ms(c.ended_at),
        direction: c.direction,
        from: c.from_number,
        to: c.to_number,
        result: c.result,
        sip_code: c.sip_code,
        sip_reason: c.sip_reason,
        mos: c.mos,
        jitter_ms: c.jitter_ms,
        packet_loss_pct: c.packet_loss_pct,
        country: c.country,
    }
}

/// `GET /api/v1/calls`.
#[utoipa::path(
    get,
    path = "/calls",
    tag = "calls",
    operation_id = "list_calls",
    summary = "List calls",
    params(CallsQuery, ActingFor),
    responses(
        (status = 200, description = "One page of the organisation's calls in the range, newest first", body = CallsPage),
        OrgRead,
        InvalidListQuery,
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<CallsQuery>,
) -> ApiResult<ApiJson<CallsPage>> {
    caller.require(Role::Viewer)?;
    let req = parse(&q, state.clock.now_ms())?;
    // One more than the page, to know whether another page follows.
    let mut rows = db::calls::list(
        state.db.pool(),
        &caller.org_id,
        &req.filter,
        req.after.as_ref(),
        req.limit + 1,
    )
    .await?;
    let page_len = usize::try_from(req.limit).unwrap_or(usize::MAX);
    let more = rows.len() > page_len;
    rows.truncate(page_len);
    let next_cursor = if more {
        rows.last().map(|c| encode_cursor(&c.key()))
    } else {
        None
    };
    Ok(ApiJson(CallsPage {
        calls: rows.into_iter().map(call_info).collect(),
        next_cursor,
        range: CallsRange {
            from: rfc3339_ms(req.filter.from),
            to: rfc3339_ms(req.filter.to),
        },
    }))
}

/// `GET /api/v1/calls/{id}`.
#[utoipa::path(
    get,
    path = "/calls/{id}",
    tag = "calls",
    operation_id = "get_call",
    summary = "Get one call",
    params(("id" = String, Path, description = "The call id"), ActingFor),
    responses(
        (status = 200, description = "The call", body = CallInfo),
        OrgCaller,
        ReadRole,
        (status = 404, description = "`not_found`: the organisation has no call with this id (or no such organisation)", body = ErrorBody),
        Internal,
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn get_call(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<CallInfo>> {
    caller.require(Role::Viewer)?;
    let call = db::calls::find(state.db.pool(), &caller.org_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("Your organisation has no call with this id."))?;
    Ok(ApiJson(call_info(call)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = CallKey {
            started_at: 1_772_323_200_000,
            id: "a,b/\"c\"".to_string(),
        };
        assert_eq!(decode_cursor(&encode_cursor(&c)), Some(c));
        assert_eq!(decode_cursor("not a cursor!"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("[1]")), None);
    }
}
