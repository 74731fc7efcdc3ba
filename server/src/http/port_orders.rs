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

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    porting::{
        CreatePortOrderRequest, PortOrderDetail, PortOrderEventInfo, PortOrderInfo,
        PortOrdersResponse,
    },
    ErrorBody,
};

use crate::http::openapi::errors::{
    Internal, InvalidBody, JsonBody, OrgCaller, OrgRead, ReadRole, WriteRole,
};
use crate::http::openapi::params::ActingFor;
use crate::{
    audit::RequestMeta,
    clock::rfc3339_ms,
    db::port_orders::{PortOrderHistory, PortOrderRow},
    voice::port_orders::{self as porting, date_of, PortOrderError, PortOrderRequest},
};

use super::caller::{Caller, Role};
use super::{ApiError, ApiJson, ApiResult, AppState};

/// Routes under `/api/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_order))
}

/// The answer for a refused order: 404, 409 naming `numbers`, or 422 naming the field.
fn port_order_api_error(e: PortOrderError) -> ApiError {
    let message = e.to_string();
    let invalid = |field: &str| ApiError::invalid_field(field, message.clone());
    match e {
        PortOrderError::NotFound => ApiError::not_found(message),
        PortOrderError::UnknownService => ApiError::not_found(message).with_field("service_id"),
        PortOrderError::NumberInOpenOrder(_) | PortOrderError::NumberInUse(_) => {
            ApiError::new(StatusCode::CONFLICT, e.code(), message).with_field("numbers")
        }
        PortOrderError::NoNumbers
        | PortOrderError::TooManyNumbers
        | PortOrderError::NotE164(_)
        | PortOrderError::DuplicateNumber(_) => invalid("numbers"),
        PortOrderError::NoCarrier
        | PortOrderError::CarrierTooLong
        | PortOrderError::CarrierControlCharacters => invalid("losing_carrier"),
        PortOrderError::InvalidDate(_)
        | PortOrderError::DateInPast(_)
        | PortOrderError::DateTooFar => invalid("requested_for"),
        PortOrderError::InvalidCountry => invalid("country"),
        PortOrderError::InvalidNumberType => invalid("number_type"),
        PortOrderError::Internal(e) => ApiError::internal(e),
    }
}

/// An order as the API answers it.
fn order_info(order: PortOrderRow, numbers: Vec<String>) -> PortOrderInfo {
    PortOrderInfo {
        open: porting::is_open(&order.status),
        id: order.id,
        losing_carrier: order.losing_carrier,
        requested_for: date_of(order.requested_for),
        foc_date: order.foc_at.map(date_of),
        status: order.status,
        numbers,
        created_at: rfc3339_ms(order.created_at),
        updated_at: rfc3339_ms(order.updated_at),
    }
}

/// An order with its history as the API answers it.
fn order_detail(h: PortOrderHistory) -> PortOrderDetail {
    PortOrderDetail {
        order: order_info(h.order, h.numbers),
        events: h
            .events
            .into_iter()
            .map(|e| PortOrderEventInfo {
                id: e.id,
                at: rfc3339_ms(e.at),
                status: e.status,
                note: e.note,
                actor: e.actor_label,
            })
            .collect(),
    }
}

/// `GET /api/v1/port-orders`.
#[utoipa::path(
    get,
    path = "/port-orders",
    tag = "porting",
    operation_id = "list_port_orders",
    summary = "List porting orders",
    params(ActingFor),
    responses(
        (status = 200, description = "The organisation's porting orders, newest first", body = PortOrdersResponse),
        OrgRead,
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<ApiJson<PortOrdersResponse>> {
    caller.require(Role::Viewer)?;
    let orders = porting::list(&state.db, &caller.org_id)
        .await?
        .into_iter()
        .map(|(order, numbers)| order_info(order, numbers))
        .collect();
    Ok(ApiJson(PortOrdersResponse { orders }))
}

/// `GET /api/v1/port-orders/{id}`.
#[utoipa::path(
    get,
    path = "/port-orders/{id}",
    tag = "porting",
    operation_id = "get_port_order",
    summary = "One porting order with its history",
    params(("id" = String, Path, description = "The porting order id"), ActingFor),
    responses(
        (status = 200, description = "The order with its numbers and status history", body = PortOrderDetail),
        OrgCaller,
        ReadRole,
        (status = 404, description = "`not_found`: the organisation has no porting order with this id (or no such organisation)", body = ErrorBody),
        Internal,
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn get_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<PortOrderDetail>> {
    caller.require(Role::Viewer)?;
    let order = porting::find(&state.db, &caller.org_id, &id)
        .await?
        .ok_or_else(|| port_order_api_error(PortOrderError::NotFound))?;
    Ok(ApiJson(order_detail(order)))
}

/// `POST /api/v1/port-orders`.
#[utoipa::path(
    post,
    path = "/port-orders",
    tag = "porting",
    operation_id = "create_port_order",
    summary = "Submit a porting order",
    params(ActingFor),
    request_body = CreatePortOrderRequest,
    responses(
        (status = 201, description = "The order as submitted", body = PortOrderDetail),
        OrgCaller,
        WriteRole,
        (status = 404, description = "`not_found`: the service is not the organisation's (or no such organisation)", body = ErrorBody),
        (status = 409, description = "`number_in_use` or `number_in_open_order` (with `field` `numbers`): a number is on our network or in another open order", body = ErrorBody),
        JsonBody,
        InvalidBody,
        Internal,
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
    let request = PortOrderRequest {
        numbers: &req.numbers,
        losing_carrier: &req.losing_carrier,
        requested_for: &req.requested_for,
        country: &req.country,
        number_type: req.number_type.as_deref(),
        service_id: req.service_id.as_deref(),
    };
    let created = porting::create_port_order(
        &state.db,
        &caller.acting(&meta),
        state.clock.now_ms(),
        &request,
    )
    .await
    .map_err(port_order_api_error)?;
    Ok((StatusCode::CREATED, ApiJson(order_detail(created))))
}
