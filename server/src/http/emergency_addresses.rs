//! `/api/v1/emergency-addresses`: the organisation's civic addresses for emergency calls, each
//! with the count of numbers using it. Any role reads; engineers and admins (and `read_write`
//! tokens) create, replace and delete. Every change is audited with before and after.
//!
//! Another organisation's address id answers 404 `not_found`, like an unknown one, before any
//! permission check. Deleting an address still in use answers 409 `address_in_use`.

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    numbers::{EmergencyAddressInfo, EmergencyAddressRequest, EmergencyAddressesResponse},
    ErrorBody,
};

use crate::http::openapi::errors::{
    DangerousOrgCaller, Internal, InvalidBody, JsonBody, NoSuchAddress, NoSuchOrg, OrgRead,
    WriteRole,
};
use crate::http::openapi::params::{ActingFor, AddressId};
use crate::{
    audit::RequestMeta,
    clock::rfc3339_ms,
    db::{
        self,
        emergency_addresses::{AddressFields, AddressRow},
    },
    voice::emergency_addresses::{self as addresses, AddressError},
};

use super::caller::{Caller, Role};
use super::{ApiError, ApiJson, ApiResult, AppState};

/// Routes under `/api/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(update, delete))
}

/// The answer for a refused change: 404, 409 `address_in_use`, or 422 naming the field.
fn address_api_error(e: AddressError) -> ApiError {
    let message = e.to_string();
    match e {
        AddressError::NotFound => ApiError::not_found(message),
        AddressError::InUse(_) => ApiError::new(StatusCode::CONFLICT, "address_in_use", message),
        AddressError::Internal(e) => ApiError::internal(e),
        AddressError::Missing(field)
        | AddressError::TooLong(field)
        | AddressError::ControlCharacters(field) => ApiError::invalid_field(field, message),
        AddressError::InvalidCountry(_) => ApiError::invalid_field("country", message),
    }
}

fn address_info(a: AddressRow) -> EmergencyAddressInfo {
    let f = a.fields;
    EmergencyAddressInfo {
        id: a.id,
        label: f.label,
        street: f.street,
        house_number: f.house_number,
        postal_code: f.postal_code,
        city: f.city,
        region: f.region,
        country: f.country,
        numbers_count: a.numbers_count,
        created_at: rfc3339_ms(a.created_at),
        updated_at: rfc3339_ms(a.updated_at),
    }
}

/// The request's fields as the domain takes them (checked there).
fn fields(req: EmergencyAddressRequest) -> AddressFields {
    AddressFields {
        label: req.label,
        street: req.street,
        house_number: req.house_number,
        postal_code: req.postal_code,
        city: req.city,
        region: req.region,
        country: req.country,
    }
}

/// 404 unless the organisation has the address: asked before any permission check, so
/// another organisation's address is not found, whoever asks.
async fn must_exist(state: &AppState, caller: &Caller, id: &str) -> ApiResult<()> {
    db::emergency_addresses::find(state.db.pool(), &caller.org_id, id)
        .await?
        .ok_or_else(|| address_api_error(AddressError::NotFound))?;
    Ok(())
}

/// `GET /api/v1/emergency-addresses`.
#[utoipa::path(
    get,
    path = "/emergency-addresses",
    tag = "emergency-addresses",
    operation_id = "list_emergency_addresses",
    summary = "List emergency addresses",
    params(ActingFor),
    responses(
        (status = 200, description = "The organisation's emergency addresses", body = EmergencyAddressesResponse),
        OrgRead,
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<ApiJson<EmergencyAddressesResponse>> {
    caller.require(Role::Viewer)?;
    let addresses = db::emergency_addresses::list(state.db.pool(), &caller.org_id)
        .await?
        .into_iter()
        .map(address_info)
        .collect();
    Ok(ApiJson(EmergencyAddressesResponse { addresses }))
}

/// `POST /api/v1/emergency-addresses`: 201 with the address.
#[utoipa::path(
    post,
    path = "/emergency-addresses",
    tag = "emergency-addresses",
    operation_id = "create_emergency_address",
    summary = "Create an emergency address",
    params(ActingFor),
    request_body = EmergencyAddressRequest,
    responses(
        (status = 201, description = "The new address", body = EmergencyAddressInfo),
        DangerousOrgCaller,
        WriteRole,
        NoSuchOrg,
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
    ApiJson(req): ApiJson<EmergencyAddressRequest>,
) -> ApiResult<(StatusCode, ApiJson<EmergencyAddressInfo>)> {
    caller.require(Role::Engineer)?;
    caller.require_step_up(&state).await?;
    let created = addresses::create_address(
        &state.db,
        &caller.acting(&meta),
        state.clock.now_ms(),
        &fields(req),
    )
    .await
    .map_err(address_api_error)?;
    Ok((StatusCode::CREATED, ApiJson(address_info(created))))
}

/// `PUT /api/v1/emergency-addresses/{id}`: replaces every field.
#[utoipa::path(
    put,
    path = "/emergency-addresses/{id}",
    tag = "emergency-addresses",
    operation_id = "update_emergency_address",
    summary = "Replace an emergency address",
    params(AddressId, ActingFor),
    request_body = EmergencyAddressRequest,
    responses(
        (status = 200, description = "The address as replaced", body = EmergencyAddressInfo),
        DangerousOrgCaller,
        WriteRole,
        NoSuchAddress,
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
    Path(id): Path<String>,
    ApiJson(req): ApiJson<EmergencyAddressRequest>,
) -> ApiResult<ApiJson<EmergencyAddressInfo>> {
    must_exist(&state, &caller, &id).await?;
    caller.require(Role::Engineer)?;
    caller.require_step_up(&state).await?;
    let after = addresses::update_address(
        &state.db,
        &caller.acting(&meta),
        state.clock.now_ms(),
        &id,
        &fields(req),
    )
    .await
    .map_err(address_api_error)?;
    Ok(ApiJson(address_info(after)))
}

/// `DELETE /api/v1/emergency-addresses/{id}`: answers the address as it was; 409
/// `address_in_use` while numbers use it.
#[utoipa::path(
    delete,
    path = "/emergency-addresses/{id}",
    tag = "emergency-addresses",
    operation_id = "delete_emergency_address",
    summary = "Delete an unused emergency address",
    params(AddressId, ActingFor),
    responses(
        (status = 200, description = "The address as it was before it was deleted", body = EmergencyAddressInfo),
        DangerousOrgCaller,
        WriteRole,
        NoSuchAddress,
        (status = 409, description = "`address_in_use`: a number still uses the address", body = ErrorBody),
        Internal,
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn delete(
    State(state): State<AppState>,
    meta: RequestMeta,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<EmergencyAddressInfo>> {
    must_exist(&state, &caller, &id).await?;
    caller.require(Role::Engineer)?;
    caller.require_step_up(&state).await?;
    let before =
        addresses::delete_address(&state.db, &caller.acting(&meta), state.clock.now_ms(), &id)
            .await
            .map_err(address_api_error)?;
    Ok(ApiJson(address_info(before)))
}
