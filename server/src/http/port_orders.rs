//! `/api/v1/port-orders`: orders that move numbers from another carrier (the losing carrier)
//! to us. Any role may read, and API tokens of the `read` and `read_write` scopes; engineers
//! and admins (and `read_write` tokens, and staff with `?org=SLUG`) create them.
//!
//! - `GET /port-orders`: the organisation's orders, newest first, each with its numbers;
//! - `GET /port-orders/{id}`: one order with its numbers and its whole status history; another
//!   organisation's id answers 404 `not_found`, like an unknown one;
//! - `POST /port-orders`: submits an order. In one transaction it stores the order as
//!   `submitted` (the carrier works from submitted orders; `draft` is not offered through the
//!   API), its numbers, the first event, one `porting_in` row per number in `numbers` (so the
//!   numbers page shows them, with the service they will be routed over; the same shape as the
//!   demo's porting numbers) and an audit entry with the order as stored.
//!
//! A number may not be ported in while it is held on our network (any organisation's number
//! other than a released one) or while it is in another open order (`draft`, `submitted` or
//! `confirmed`): 409 naming the number, without saying whose it is. A released number's row is
//! taken over. A bad field answers 422 `invalid_field` naming it; a service that is not the
//! organisation's answers 404.

use std::collections::{HashMap, HashSet};

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use serde_json::json;
use sqlx::{any::AnyRow, Row};
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    porting::{
        CreatePortOrderRequest, PortOrderDetail, PortOrderEventInfo, PortOrderInfo,
        PortOrdersResponse,
    },
    ErrorBody,
};

use crate::{
    audit::RequestMeta,
    clock::rfc3339_ms,
    db::is_unique_violation,
    voice::{cdr::is_e164, countries},
};

use super::caller::{Caller, Role};
use super::{ApiError, ApiJson, ApiResult, AppState};

/// Routes under `/api/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_order))
}

const DAY_MS: i64 = 86_400_000;
/// The most numbers one order may move.
const MAX_NUMBERS: usize = 100;
/// The longest losing carrier name, in characters.
const MAX_CARRIER_CHARS: usize = 200;
/// How far ahead a requested date may lie.
const MAX_DAYS_AHEAD: i64 = 365;
/// Statuses in which an order still holds its numbers.
const OPEN: &str = "('draft', 'submitted', 'confirmed')";
const NUMBER_TYPES: [&str; 4] = ["geographic", "national", "toll_free", "mobile"];

const SELECT: &str = "SELECT id, losing_carrier, requested_for, foc_at, status, created_at, \
     updated_at FROM port_orders WHERE org_id = $1";

/// `YYYY-MM-DD` of the UTC day holding `ms`.
fn date_of(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| t.date().to_string())
        .unwrap_or_default()
}

fn order_info(row: &AnyRow, numbers: Vec<String>) -> Result<PortOrderInfo, sqlx::Error> {
    let status: String = row.try_get("status")?;
    Ok(PortOrderInfo {
        id: row.try_get("id")?,
        losing_carrier: row.try_get("losing_carrier")?,
        requested_for: date_of(row.try_get("requested_for")?),
        foc_date: row.try_get::<Option<i64>, _>("foc_at")?.map(date_of),
        open: matches!(status.as_str(), "draft" | "submitted" | "confirmed"),
        status,
        numbers,
        created_at: rfc3339_ms(row.try_get::<i64, _>("created_at")?),
        updated_at: rfc3339_ms(row.try_get::<i64, _>("updated_at")?),
    })
}

/// `GET /api/v1/port-orders`.
#[utoipa::path(
    get,
    path = "/port-orders",
    tag = "porting",
    operation_id = "list_port_orders",
    summary = "List porting orders",
    params(("org" = Option<String>, Query, description = "Carrier staff only: the slug of the organisation acted for")),
    responses(
        (status = 200, description = "The organisation's porting orders, newest first", body = PortOrdersResponse),
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
) -> ApiResult<ApiJson<PortOrdersResponse>> {
    caller.require(Role::Viewer)?;
    let pool = state.db.pool();
    let rows = sqlx::query(&format!("{SELECT} ORDER BY created_at DESC, id DESC"))
        .bind(&caller.org_id)
        .fetch_all(pool)
        .await?;
    let mut numbers: HashMap<String, Vec<String>> = HashMap::new();
    for row in sqlx::query(
        "SELECT pn.port_order_id, pn.e164 FROM port_order_numbers pn \
         JOIN port_orders o ON o.id = pn.port_order_id \
         WHERE o.org_id = $1 ORDER BY pn.e164",
    )
    .bind(&caller.org_id)
    .fetch_all(pool)
    .await?
    {
        numbers
            .entry(row.try_get("port_order_id")?)
            .or_default()
            .push(row.try_get("e164")?);
    }
    let orders = rows
        .iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            order_info(row, numbers.remove(&id).unwrap_or_default())
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(ApiJson(PortOrdersResponse { orders }))
}

/// The organisation's order with its numbers and events, or 404.
async fn find(
    conn: &mut sqlx::AnyConnection,
    org_id: &str,
    id: &str,
) -> ApiResult<PortOrderDetail> {
    let row = sqlx::query(&format!("{SELECT} AND id = $2"))
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| {
            ApiError::not_found("Your organisation has no porting order with this id.")
        })?;
    let numbers =
        sqlx::query("SELECT e164 FROM port_order_numbers WHERE port_order_id = $1 ORDER BY e164")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get("e164"))
            .collect::<Result<Vec<String>, _>>()?;
    let events = sqlx::query(
        "SELECT id, at, status, note, actor_label FROM port_order_events \
         WHERE port_order_id = $1 ORDER BY at, id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(PortOrderEventInfo {
            id: r.try_get("id")?,
            at: rfc3339_ms(r.try_get::<i64, _>("at")?),
            status: r.try_get("status")?,
            note: r.try_get("note")?,
            actor: r.try_get("actor_label")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(PortOrderDetail {
        order: order_info(&row, numbers)?,
        events,
    })
}

/// `GET /api/v1/port-orders/{id}`.
#[utoipa::path(
    get,
    path = "/port-orders/{id}",
    tag = "porting",
    operation_id = "get_port_order",
    summary = "One porting order with its history",
    params(("id" = String, Path, description = "The porting order id"), ("org" = Option<String>, Query, description = "Carrier staff only: the slug of the organisation acted for")),
    responses(
        (status = 200, description = "The order with its numbers and status history", body = PortOrderDetail),
        (status = 400, description = "`org_required`: carrier staff must name the organisation with `?org=SLUG`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid session or API token; `invalid_token` or `token_expired`: the Bearer token is unknown, revoked or expired; `mfa_required`: a sign-in waits for its code", body = ErrorBody),
        (status = 403, description = "`insufficient_role` or `insufficient_scope`: the caller's role or token scope does not allow this", body = ErrorBody),
        (status = 404, description = "`not_found`: the organisation has no porting order with this id (or no such organisation)", body = ErrorBody),
        (status = 500, description = "`internal`: a failure on the portal's side; quote `request_id` to support", body = ErrorBody),
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn get_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<PortOrderDetail>> {
    caller.require(Role::Viewer)?;
    let mut conn = state.db.pool().acquire().await?;
    Ok(ApiJson(find(&mut conn, &caller.org_id, &id).await?))
}

/// A create request after the checks that need no database.
struct NewOrder {
    numbers: Vec<String>,
    losing_carrier: String,
    requested_for: i64,
    country: String,
    number_type: String,
    service_id: Option<String>,
}

/// Checks every field of `req`; `today` is the UTC midnight of the current day.
fn validate(req: &CreatePortOrderRequest, today: i64) -> ApiResult<NewOrder> {
    if req.numbers.is_empty() {
        return Err(ApiError::invalid_field(
            "numbers",
            "List at least one number to port.",
        ));
    }
    if req.numbers.len() > MAX_NUMBERS {
        return Err(ApiError::invalid_field(
            "numbers",
            format!("One order may port at most {MAX_NUMBERS} numbers; split the request."),
        ));
    }
    let mut seen = HashSet::new();
    let mut numbers = Vec::with_capacity(req.numbers.len());
    for n in &req.numbers {
        let n = n.trim();
        if !is_e164(n) {
            return Err(ApiError::invalid_field(
                "numbers",
                format!("{n:?} is not an E.164 number: + and 8 to 15 digits, e.g. +442079460000."),
            ));
        }
        if !seen.insert(n) {
            return Err(ApiError::invalid_field(
                "numbers",
                format!("{n} is listed more than once."),
            ));
        }
        numbers.push(n.to_string());
    }
    let carrier = req.losing_carrier.trim();
    if carrier.is_empty() {
        return Err(ApiError::invalid_field(
            "losing_carrier",
            "Name the carrier the numbers are with now (the losing carrier).",
        ));
    }
    if carrier.chars().count() > MAX_CARRIER_CHARS {
        return Err(ApiError::invalid_field(
            "losing_carrier",
            format!("The losing carrier is longer than {MAX_CARRIER_CHARS} characters."),
        ));
    }
    if carrier.chars().any(char::is_control) {
        return Err(ApiError::invalid_field(
            "losing_carrier",
            "The losing carrier contains control characters.",
        ));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(req.requested_for.trim(), &format).map_err(|_| {
        ApiError::invalid_field(
            "requested_for",
            format!(
                "requested_for: {:?} is not a date written YYYY-MM-DD.",
                req.requested_for
            ),
        )
    })?;
    let requested_for = date.midnight().assume_utc().unix_timestamp() * 1000;
    if requested_for < today {
        return Err(ApiError::invalid_field(
            "requested_for",
            format!(
                "requested_for is in the past; ask for {} or later.",
                date_of(today)
            ),
        ));
    }
    if requested_for > today + MAX_DAYS_AHEAD * DAY_MS {
        return Err(ApiError::invalid_field(
            "requested_for",
            format!("requested_for may be at most {MAX_DAYS_AHEAD} days ahead."),
        ));
    }
    let country = req.country.trim().to_ascii_uppercase();
    if !countries::is_assigned(&country) {
        return Err(ApiError::invalid_field(
            "country",
            "country must be an ISO 3166-1 alpha-2 code (e.g. GB, DE).",
        ));
    }
    let number_type = req.number_type.as_deref().unwrap_or("geographic");
    if !NUMBER_TYPES.contains(&number_type) {
        return Err(ApiError::invalid_field(
            "number_type",
            format!("number_type must be one of {}.", NUMBER_TYPES.join(", ")),
        ));
    }
    Ok(NewOrder {
        numbers,
        losing_carrier: carrier.to_string(),
        requested_for,
        country,
        number_type: number_type.to_string(),
        service_id: req.service_id.clone(),
    })
}

fn number_conflict(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, code, message).with_field("numbers")
}

/// Refuses (409) numbers in another open order or held on our network; returns the numbers
/// that have a released row to take over.
async fn check_numbers(
    conn: &mut sqlx::AnyConnection,
    numbers: &[String],
) -> ApiResult<HashSet<String>> {
    let list = crate::db::placeholders(1, numbers.len());
    let sql = format!(
        "SELECT pn.e164 FROM port_order_numbers pn JOIN port_orders o ON o.id = pn.port_order_id \
         WHERE pn.e164 IN ({list}) AND o.status IN {OPEN} ORDER BY pn.e164"
    );
    let mut q = sqlx::query(&sql);
    for n in numbers {
        q = q.bind(n.as_str());
    }
    if let Some(row) = q.fetch_optional(&mut *conn).await? {
        let e164: String = row.try_get("e164")?;
        return Err(number_conflict(
            "number_in_open_order",
            format!("{e164} is already in an open porting order."),
        ));
    }
    let sql = format!("SELECT e164, status FROM numbers WHERE e164 IN ({list}) ORDER BY e164");
    let mut q = sqlx::query(&sql);
    for n in numbers {
        q = q.bind(n.as_str());
    }
    let mut released = HashSet::new();
    for row in q.fetch_all(&mut *conn).await? {
        let e164: String = row.try_get("e164")?;
        let status: String = row.try_get("status")?;
        if status != "released" {
            return Err(number_conflict(
                "number_in_use",
                format!("{e164} is already a number on our network; it cannot be ported in."),
            ));
        }
        released.insert(e164);
    }
    Ok(released)
}

/// `POST /api/v1/port-orders`.
#[utoipa::path(
    post,
    path = "/port-orders",
    tag = "porting",
    operation_id = "create_port_order",
    summary = "Submit a porting order",
    params(("org" = Option<String>, Query, description = "Carrier staff only: the slug of the organisation acted for")),
    request_body = CreatePortOrderRequest,
    responses(
        (status = 201, description = "The order as submitted", body = PortOrderDetail),
        (status = 400, description = "`org_required`: carrier staff must name the organisation with `?org=SLUG`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid session or API token; `invalid_token` or `token_expired`: the Bearer token is unknown, revoked or expired; `mfa_required`: a sign-in waits for its code", body = ErrorBody),
        (status = 403, description = "`insufficient_role` or `insufficient_scope`: the role or token scope does not allow this; `csrf`: a cookie-authenticated change that is not same-origin", body = ErrorBody),
        (status = 404, description = "`not_found`: the service is not the organisation's (or no such organisation)", body = ErrorBody),
        (status = 409, description = "`number_in_use` or `number_in_open_order` (with `field` `numbers`): a number is on our network or in another open order", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is larger than the portal accepts", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body was not sent as `application/json`", body = ErrorBody),
        (status = 422, description = "`malformed_json`, `invalid_body` or `invalid_field` (with `field`): the body is not acceptable", body = ErrorBody),
        (status = 500, description = "`internal`: a failure on the portal's side; quote `request_id` to support", body = ErrorBody),
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn create(
    State(state): State<AppState>,
    meta: RequestMeta,
    caller: Caller,
    ApiJson(req): ApiJson<CreatePortOrderRequest>,
) -> ApiResult<(StatusCode, ApiJson<PortOrderDetail>)> {
    caller.require(Role::Engineer)?;
    let now = state.clock.now_ms();
    let order = validate(&req, now.div_euclid(DAY_MS) * DAY_MS)?;
    let mut tx = state.db.pool().begin().await?;
    if let Some(service_id) = &order.service_id {
        let owned = sqlx::query("SELECT id FROM services WHERE org_id = $1 AND id = $2")
            .bind(&caller.org_id)
            .bind(service_id)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !owned {
            return Err(
                ApiError::not_found("Your organisation has no service with this id.")
                    .with_field("service_id"),
            );
        }
    }
    let released = check_numbers(&mut tx, &order.numbers).await?;
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO port_orders (id, org_id, losing_carrier, requested_for, status, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, 'submitted', $5, $5)",
    )
    .bind(&id)
    .bind(&caller.org_id)
    .bind(&order.losing_carrier)
    .bind(order.requested_for)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for e164 in &order.numbers {
        sqlx::query("INSERT INTO port_order_numbers (port_order_id, e164) VALUES ($1, $2)")
            .bind(&id)
            .bind(e164)
            .execute(&mut *tx)
            .await?;
        let in_use = || {
            number_conflict(
                "number_in_use",
                format!("{e164} is already a number on our network; it cannot be ported in."),
            )
        };
        if released.contains(e164) {
            // The row of a released number is taken over; the condition makes a concurrent
            // order for the same number fail here instead of sharing it.
            let done = sqlx::query(
                "UPDATE numbers SET org_id = $1, number_type = $2, country = $3, \
                 status = 'porting_in', service_id = $4, assignment = NULL, \
                 emergency_calling = FALSE, emergency_address_id = NULL, updated_at = $5 \
                 WHERE e164 = $6 AND status = 'released'",
            )
            .bind(&caller.org_id)
            .bind(&order.number_type)
            .bind(&order.country)
            .bind(order.service_id.as_deref())
            .bind(now)
            .bind(e164)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(in_use());
            }
        } else {
            let inserted = sqlx::query(
                "INSERT INTO numbers (e164, org_id, number_type, country, status, service_id, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, 'porting_in', $5, $6, $6)",
            )
            .bind(e164)
            .bind(&caller.org_id)
            .bind(&order.number_type)
            .bind(&order.country)
            .bind(order.service_id.as_deref())
            .bind(now)
            .execute(&mut *tx)
            .await;
            match inserted {
                Ok(_) => {}
                // Stored meanwhile by a concurrent request.
                Err(e) if is_unique_violation(&e) => return Err(in_use()),
                Err(e) => return Err(e.into()),
            }
        }
    }
    sqlx::query(
        "INSERT INTO port_order_events (id, port_order_id, at, status, note, actor_label) \
         VALUES ($1, $2, $3, 'submitted', '', $4)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(&id)
    .bind(now)
    .bind(caller.actor_label())
    .execute(&mut *tx)
    .await?;
    let created = find(&mut tx, &caller.org_id, &id).await?;
    caller
        .audit(
            &mut *tx,
            now,
            &meta,
            "port_order.created",
            Some(&id),
            json!({
                "before": null,
                "after": {
                    "losing_carrier": created.order.losing_carrier,
                    "requested_for": created.order.requested_for,
                    "status": created.order.status,
                    "numbers": created.order.numbers,
                    "country": order.country,
                    "number_type": order.number_type,
                    "service_id": order.service_id,
                },
            }),
        )
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, ApiJson(created)))
}
