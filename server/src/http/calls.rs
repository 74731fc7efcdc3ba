//! `/api/v1/calls`: the organisation's call records (CDRs). Any role may read, and API tokens
//! of the `read` and `read_write` scopes; an `ingest` token reads nothing (403).
//!
//! `GET /calls` lists the calls whose start lies in `[from, to)` (RFC 3339; default the 24
//! hours ending now by the app clock), newest first by (start, id), filtered by `direction`,
//! `result`, `number` (the call's `from` or `to`, E.164), `service` (id), `country` and
//! `min_mos`. Pages hold `limit` calls (1–500, default 50); `next_cursor` is an opaque keyset
//! cursor on (start, id), so the order is stable and no row is skipped or repeated across
//! pages, whatever was ingested meanwhile. Each page is one query on the
//! `calls_by_org_start` index (or the service or number indexes). A bad parameter answers 422
//! `invalid_field` naming it.
//!
//! `GET /calls/{id}` answers one call by the carrier's id (URL-encoded in the path). Another
//! organisation's id answers 404 `not_found`, like an unknown one: every query is restricted
//! to the caller's organisation.

use axum::extract::{Path, State};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use serde::Deserialize;
use sqlx::{any::AnyRow, Row};
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    calls::{CallInfo, CallsPage, CallsQuery, CallsRange},
    ErrorBody,
};

use crate::{
    clock::rfc3339_ms,
    voice::{
        cdr::{is_e164, parse_rfc3339_ms},
        countries,
    },
};

use super::caller::{Caller, Role};
use super::{error::ApiQuery, ApiError, ApiJson, ApiResult, AppState};

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
const MAX_LIMIT: i64 = 500;

const DIRECTIONS: [&str; 2] = ["inbound", "outbound"];
const RESULTS: [&str; 5] = ["answered", "busy", "no_answer", "failed", "cancelled"];

/// The query string of `GET /api/v1/calls`. Everything is read as text so that a bad value
/// answers `invalid_field` naming the parameter.
#[derive(Debug, Default, Deserialize)]
pub struct CallsParams {
    from: Option<String>,
    to: Option<String>,
    direction: Option<String>,
    result: Option<String>,
    number: Option<String>,
    service: Option<String>,
    country: Option<String>,
    min_mos: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// The columns of a call, joined with its service's name.
pub(super) const SELECT: &str = "SELECT c.id, c.service_id, s.name AS service_name, c.started_at, \
     c.answered_at, c.ended_at, c.direction, c.from_number, c.to_number, c.result, c.sip_code, \
     c.sip_reason, c.mos, c.jitter_ms, c.packet_loss_pct, c.country \
     FROM calls c JOIN services s ON s.id = c.service_id \
     WHERE c.org_id = $1";

pub(super) fn call_info(row: &AnyRow) -> Result<CallInfo, sqlx::Error> {
    Ok(CallInfo {
        id: row.try_get("id")?,
        service_id: row.try_get("service_id")?,
        service: row.try_get("service_name")?,
        start: rfc3339_ms(row.try_get::<i64, _>("started_at")?),
        answer: row
            .try_get::<Option<i64>, _>("answered_at")?
            .map(rfc3339_ms),
        end: rfc3339_ms(row.try_get::<i64, _>("ended_at")?),
        direction: row.try_get("direction")?,
        from: row.try_get("from_number")?,
        to: row.try_get("to_number")?,
        result: row.try_get("result")?,
        sip_code: row.try_get("sip_code")?,
        sip_reason: row.try_get("sip_reason")?,
        mos: row.try_get("mos")?,
        jitter_ms: row.try_get("jitter_ms")?,
        packet_loss_pct: row.try_get("packet_loss_pct")?,
        country: row.try_get("country")?,
    })
}

/// The position after which the next page starts: the last call of the previous one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    started_at: i64,
    id: String,
}

impl Cursor {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::json!([self.started_at, self.id]).to_string())
    }

    fn decode(s: &str) -> Option<Cursor> {
        let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
        let (started_at, id): (i64, String) = serde_json::from_slice(&bytes).ok()?;
        Some(Cursor { started_at, id })
    }
}

/// A value bound to a placeholder.
#[derive(Debug, Clone)]
pub(super) enum Bind {
    Int(i64),
    Text(String),
    Real(f64),
}

/// The validated filters (the CSV export applies them too).
#[derive(Clone)]
pub(super) struct Filters {
    from: i64,
    to: i64,
    limit: i64,
    cursor: Option<Cursor>,
    /// SQL conditions (after the organisation's) and the values of their placeholders, which
    /// are numbered from `$2`.
    pub(super) conditions: Vec<String>,
    pub(super) binds: Vec<Bind>,
    /// With the number filter: the days its condition names (it probes the (day, number)
    /// indexes; see [`Filters::select`]).
    number_days: Option<Vec<i64>>,
}

impl Filters {
    /// [`SELECT`] for these filters. With the number filter, the organisation and range
    /// conditions are written so that no index can serve them (`c.org_id || ''`,
    /// `+c.started_at`): otherwise SQLite walks the whole (organisation, start) index newest
    /// first, looking for a rare number among millions of calls, instead of probing the two
    /// (day, number) indexes and sorting the few calls they hold.
    pub(super) fn select(&self) -> String {
        if self.number_days.is_some() {
            SELECT.replace("WHERE c.org_id = $1", "WHERE c.org_id || '' = $1")
        } else {
            SELECT.to_string()
        }
    }

    /// `SELECT columns FROM calls c WHERE` the organisation's condition, written as
    /// [`Filters::select`] writes it; the filters' conditions follow with `AND`.
    pub(super) fn select_columns(&self, columns: &str) -> String {
        let org = if self.number_days.is_some() {
            "c.org_id || ''"
        } else {
            "c.org_id"
        };
        format!("SELECT {columns} FROM calls c WHERE {org} = $1")
    }

    fn push(&mut self, sql: impl FnOnce(usize) -> String, value: Bind) {
        let n = self.binds.len() + 2;
        self.conditions.push(sql(n));
        self.binds.push(value);
    }
}

fn parse_time(field: &str, value: &str) -> ApiResult<i64> {
    parse_rfc3339_ms(value)
        .map_err(|reason| ApiError::invalid_field(field, format!("{field}: {value:?} {reason}")))
}

fn one_of(field: &str, value: &str, allowed: &[&str]) -> ApiResult<String> {
    if allowed.contains(&value) {
        Ok(value.to_string())
    } else {
        Err(ApiError::invalid_field(
            field,
            format!("{field} must be one of {}.", allowed.join(", ")),
        ))
    }
}

pub(super) fn filters(q: &CallsParams, now_ms: i64) -> ApiResult<Filters> {
    let to = match &q.to {
        Some(v) => parse_time("to", v)?,
        None => now_ms,
    };
    let from = match &q.from {
        Some(v) => parse_time("from", v)?,
        None => to - DEFAULT_RANGE_MS,
    };
    if from > to {
        return Err(ApiError::invalid_field(
            "from",
            "from must not be after to (calls are listed with from ≤ start < to).",
        ));
    }
    let limit = match &q.limit {
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| {
                ApiError::invalid_field("limit", format!("limit must be 1 to {MAX_LIMIT}."))
            })?,
        None => DEFAULT_LIMIT,
    };
    let cursor = match &q.cursor {
        Some(v) => Some(Cursor::decode(v).ok_or_else(|| {
            ApiError::invalid_field(
                "cursor",
                "cursor is not one this API returned; pass a page's next_cursor unchanged.",
            )
        })?),
        None => None,
    };
    let mut f = Filters {
        from,
        to,
        limit,
        cursor,
        conditions: Vec::new(),
        binds: Vec::new(),
        number_days: None,
    };
    f.push(|n| format!("c.started_at >= ${n}"), Bind::Int(from));
    f.push(|n| format!("c.started_at < ${n}"), Bind::Int(to));
    if let Some(v) = &q.direction {
        let v = one_of("direction", v, &DIRECTIONS)?;
        f.push(|n| format!("c.direction = ${n}"), Bind::Text(v));
    }
    if let Some(v) = &q.result {
        let v = one_of("result", v, &RESULTS)?;
        f.push(|n| format!("c.result = ${n}"), Bind::Text(v));
    }
    if let Some(v) = &q.number {
        if !is_e164(v) {
            return Err(ApiError::invalid_field(
                "number",
                "number must be E.164: + and 8 to 15 digits (write + as %2B in a URL).",
            ));
        }
        // The number indexes are keyed by (organisation, start day, number): naming the
        // range's days lets each engine probe both indexes once per day. Two placeholders,
        // so that each side of the OR has its own.
        let n = f.binds.len() + 2;
        let days = days_in(from, to);
        if days.is_some() {
            for c in f.conditions.iter_mut().take(2) {
                *c = c.replace("c.started_at", "+c.started_at");
            }
        }
        f.number_days = days.clone();
        f.conditions.push(match days.as_deref().map(days_sql) {
            Some(days) => format!(
                "((c.started_at / 86400000 IN ({days}) AND c.from_number = ${n}) \
                 OR (c.started_at / 86400000 IN ({days}) AND c.to_number = ${}))",
                n + 1
            ),
            None => format!("(c.from_number = ${n} OR c.to_number = ${})", n + 1),
        });
        f.binds.push(Bind::Text(v.clone()));
        f.binds.push(Bind::Text(v.clone()));
    }
    if let Some(v) = &q.service {
        if v.is_empty() {
            return Err(ApiError::invalid_field(
                "service",
                "service must be a service id.",
            ));
        }
        f.push(|n| format!("c.service_id = ${n}"), Bind::Text(v.clone()));
    }
    if let Some(v) = &q.country {
        let upper = v.to_ascii_uppercase();
        if !countries::is_assigned(&upper) {
            return Err(ApiError::invalid_field(
                "country",
                format!("country: {v:?} is not an assigned ISO 3166-1 alpha-2 code."),
            ));
        }
        f.push(|n| format!("c.country = ${n}"), Bind::Text(upper));
    }
    if let Some(v) = &q.min_mos {
        let mos = v
            .parse::<f64>()
            .ok()
            .filter(|m| (1.0..=5.0).contains(m))
            .ok_or_else(|| {
                ApiError::invalid_field("min_mos", "min_mos must be a number from 1.0 to 5.0.")
            })?;
        f.push(|n| format!("c.mos >= ${n}"), Bind::Real(mos));
    }
    if let Some(c) = f.cursor.clone() {
        f.after(c.started_at, c.id);
    }
    Ok(f)
}

impl Filters {
    /// Continues after the row (`started_at`, `id`): (start, id) < (started_at, id). The
    /// range's upper bound (`binds[1]`) becomes `started_at + 1`, so the index range starts at
    /// the cursor: with a second upper bound beside the range's, SQLite seeks by the range's
    /// and walks every row of the earlier pages again (an export slowed down page by page).
    pub(super) fn after(&mut self, started_at: i64, id: String) {
        let to = match self.binds.get(1) {
            Some(Bind::Int(to)) => *to,
            _ => self.to,
        };
        self.binds[1] = Bind::Int(to.min(started_at + 1));
        let n = self.binds.len() + 2;
        self.conditions
            .push(format!("(c.started_at < ${n} OR c.id < ${})", n + 1));
        self.binds.push(Bind::Int(started_at));
        self.binds.push(Bind::Text(id));
    }
}

/// The UTC days (`ms / 86,400,000`) that `[from, to)` touches, ascending;
/// `None` beyond [`MAX_NUMBER_DAYS`] (the filter then scans the range instead of probing).
fn days_in(from: i64, to: i64) -> Option<Vec<i64>> {
    const DAY_MS: i64 = 86_400_000;
    let (first, last) = (from.div_euclid(DAY_MS), (to - 1).div_euclid(DAY_MS));
    if to <= from || last - first >= MAX_NUMBER_DAYS {
        return None;
    }
    Some((first..=last).collect())
}

/// `days` as an SQL list of integers (`20512,20513`), ascending as given. A single day is
/// written twice: SQLite turns `IN (d)` into `= d`, factors it out of both sides of the OR and
/// then reads the whole day from one index (145 ms p50 at 10 M calls, against 1 ms).
fn days_sql(days: &[i64]) -> String {
    let mut list: Vec<String> = days.iter().map(|d| d.to_string()).collect();
    if let [day] = days {
        list.push(day.to_string());
    }
    list.join(",")
}

/// Binds the organisation (`$1`) and the filters' values to `query`.
pub(super) fn bind_all<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    org_id: &'q str,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut query = query.bind(org_id);
    for b in binds {
        query = match b {
            Bind::Int(v) => query.bind(*v),
            Bind::Text(v) => query.bind(v.as_str()),
            Bind::Real(v) => query.bind(*v),
        };
    }
    query
}

/// The longest range, in days, whose number filter probes the number indexes day by day.
const MAX_NUMBER_DAYS: i64 = 400;

/// `GET /api/v1/calls`.
#[utoipa::path(
    get,
    path = "/calls",
    tag = "calls",
    operation_id = "list_calls",
    summary = "List calls",
    params(CallsQuery, ("org" = Option<String>, Query, description = "Carrier staff only: the slug of the organisation acted for")),
    responses(
        (status = 200, description = "One page of the organisation's calls in the range, newest first", body = CallsPage),
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
    ApiQuery(q): ApiQuery<CallsParams>,
) -> ApiResult<ApiJson<CallsPage>> {
    caller.require(Role::Viewer)?;
    let f = filters(&q, state.clock.now_ms())?;
    let mut sql = f.select();
    for c in &f.conditions {
        sql.push_str(" AND ");
        sql.push_str(c);
    }
    sql.push_str(&format!(
        " ORDER BY c.started_at DESC, c.id DESC LIMIT ${}",
        f.binds.len() + 2
    ));
    // One more than the page, to know whether another page follows.
    let wanted = f.limit + 1;
    let mut rows = Vec::new();
    match &f.number_days {
        // The number filter: the newest day first, then the six before it, then the rest,
        // until the page is full. A customer's own number fills a page from its last day; a
        // number seen a few times in the range costs three short probes. The windows are
        // disjoint in time and taken newest first, so the order is the one of a single query.
        Some(days) => {
            let all = days_sql(days);
            let newest_first: Vec<i64> = days.iter().rev().copied().collect();
            let (first, rest) = newest_first.split_at(1.min(newest_first.len()));
            let (week, rest) = rest.split_at(6.min(rest.len()));
            for window in [first, week, rest] {
                let missing = wanted - rows.len() as i64;
                if window.is_empty() || missing <= 0 {
                    continue;
                }
                let sql = sql.replace(&all, &days_sql(window));
                rows.extend(
                    bind_all(sqlx::query(&sql), &caller.org_id, &f.binds)
                        .bind(missing)
                        .fetch_all(state.db.pool())
                        .await?,
                );
            }
        }
        None => {
            rows = bind_all(sqlx::query(&sql), &caller.org_id, &f.binds)
                .bind(wanted)
                .fetch_all(state.db.pool())
                .await?;
        }
    }
    let page_len = usize::try_from(f.limit).unwrap_or(usize::MAX);
    let more = rows.len() > page_len;
    let mut calls = Vec::with_capacity(rows.len().min(page_len));
    let mut last = None;
    for row in rows.iter().take(page_len) {
        last = Some(Cursor {
            started_at: row.try_get("started_at")?,
            id: row.try_get("id")?,
        });
        calls.push(call_info(row)?);
    }
    let next_cursor = if more { last.map(|c| c.encode()) } else { None };
    Ok(ApiJson(CallsPage {
        calls,
        next_cursor,
        range: CallsRange {
            from: rfc3339_ms(f.from),
            to: rfc3339_ms(f.to),
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
    params(("id" = String, Path, description = "The call id"), ("org" = Option<String>, Query, description = "Carrier staff only: the slug of the organisation acted for")),
    responses(
        (status = 200, description = "The call", body = CallInfo),
        (status = 400, description = "`org_required`: carrier staff must name the organisation with `?org=SLUG`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid session or API token; `invalid_token` or `token_expired`: the Bearer token is unknown, revoked or expired; `mfa_required`: a sign-in waits for its code", body = ErrorBody),
        (status = 403, description = "`insufficient_role` or `insufficient_scope`: the caller's role or token scope does not allow this", body = ErrorBody),
        (status = 404, description = "`not_found`: the organisation has no call with this id (or no such organisation)", body = ErrorBody),
        (status = 500, description = "`internal`: a failure on the portal's side; quote `request_id` to support", body = ErrorBody),
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn get_call(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<CallInfo>> {
    caller.require(Role::Viewer)?;
    let row = sqlx::query(&format!("{SELECT} AND c.id = $2"))
        .bind(&caller.org_id)
        .bind(&id)
        .fetch_optional(state.db.pool())
        .await?
        .ok_or_else(|| ApiError::not_found("Your organisation has no call with this id."))?;
    Ok(ApiJson(call_info(&row)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = Cursor {
            started_at: 1_772_323_200_000,
            id: "a,b/\"c\"".to_string(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("not a cursor!"), None);
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode("[1]")), None);
    }
}
