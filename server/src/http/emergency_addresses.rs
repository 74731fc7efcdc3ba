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
use serde_json::json;
use sqlx::{any::AnyRow, Any, Executor, Row};
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    numbers::{EmergencyAddressInfo, EmergencyAddressRequest, EmergencyAddressesResponse},
    ErrorBody,
};

use crate::{audit::RequestMeta, clock::rfc3339_ms, voice::countries};

use super::caller::{Caller, Role};
use super::{ApiError, ApiJson, ApiResult, AppState};

/// Routes under `/api/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(update, delete))
}

/// Longest accepted text field, in characters.
const MAX_FIELD_CHARS: usize = 200;

const SELECT: &str = "SELECT a.id, a.label, a.street, a.house_number, a.postal_code, a.city, \
     a.region, a.country, a.created_at, a.updated_at, \
     (SELECT COUNT(*) FROM numbers n WHERE n.emergency_address_id = a.id) AS numbers_count \
     FROM emergency_addresses a WHERE a.org_id = $1";

fn address_info(row: &AnyRow) -> Result<EmergencyAddressInfo, sqlx::Error> {
    Ok(EmergencyAddressInfo {
        id: row.try_get("id")?,
        label: row.try_get("label")?,
        street: row.try_get("street")?,
        house_number: row.try_get("house_number")?,
        postal_code: row.try_get("postal_code")?,
        city: row.try_get("city")?,
        region: row.try_get("region")?,
        country: row.try_get("country")?,
        numbers_count: row.try_get("numbers_count")?,
        created_at: rfc3339_ms(row.try_get::<i64, _>("created_at")?),
        updated_at: rfc3339_ms(row.try_get::<i64, _>("updated_at")?),
    })
}

/// The organisation's address with this id, or 404.
async fn find<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    id: &str,
) -> ApiResult<EmergencyAddressInfo> {
    let row = sqlx::query(&format!("{SELECT} AND a.id = $2"))
        .bind(org_id)
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| {
            ApiError::not_found("Your organisation has no emergency address with this id.")
        })?;
    Ok(address_info(&row)?)
}

/// The audited fields of an address.
fn audit_view(a: &EmergencyAddressInfo) -> serde_json::Value {
    json!({
        "label": a.label,
        "street": a.street,
        "house_number": a.house_number,
        "postal_code": a.postal_code,
        "city": a.city,
        "region": a.region,
        "country": a.country,
    })
}

/// One trimmed text field; `required` refuses an empty one.
fn text(field: &str, value: &str, required: bool) -> ApiResult<String> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(ApiError::invalid_field(
            field,
            format!(
                "An emergency address needs its {}.",
                field.replace('_', " ")
            ),
        ));
    }
    if value.chars().count() > MAX_FIELD_CHARS {
        return Err(ApiError::invalid_field(
            field,
            format!("The {field} is longer than {MAX_FIELD_CHARS} characters."),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::invalid_field(
            field,
            format!("The {field} contains control characters."),
        ));
    }
    Ok(value.to_string())
}

/// A request checked and normalised (trimmed, country upper case, label defaulted).
fn validate(req: &EmergencyAddressRequest) -> ApiResult<EmergencyAddressRequest> {
    let street = text("street", &req.street, true)?;
    let house_number = text("house_number", &req.house_number, true)?;
    let postal_code = text("postal_code", &req.postal_code, true)?;
    let city = text("city", &req.city, true)?;
    let region = text("region", &req.region, false)?;
    let country = req.country.trim().to_ascii_uppercase();
    if country.is_empty() {
        return Err(ApiError::invalid_field(
            "country",
            "An emergency address needs its country.",
        ));
    }
    if !countries::is_assigned(&country) {
        return Err(ApiError::invalid_field(
            "country",
            format!(
                "{:?} is not an ISO 3166-1 alpha-2 country code (e.g. GB, DE).",
                req.country
            ),
        ));
    }
    let mut label = text("label", &req.label, false)?;
    if label.is_empty() {
        label = format!("{street} {house_number}, {city}");
    }
    Ok(EmergencyAddressRequest {
        label,
        street,
        house_number,
        postal_code,
        city,
        region,
        country,
    })
}

/// `GET /api/v1/emergency-addresses`.
#[utoipa::path(
    get,
    path = "/emergency-addresses",
    tag = "emergency-addresses",
    operation_id = "list_emergency_addresses",
    summary = "List emergency addresses",
    params(("org" = Option<String>, Query, description = "Carrier staff only: the slug of the organisation acted for")),
    responses(
        (status = 200, description = "The organisation's emergency addresses", body = EmergencyAddressesResponse),
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
) -> ApiResult<ApiJson<EmergencyAddressesResponse>> {
    caller.require(Role::Viewer)?;
    let addresses = sqlx::query(&format!("{SELECT} ORDER BY a.label, a.id"))
        .bind(&caller.org_id)
        .fetch_all(state.db.pool())
        .await?
        .iter()
        .map(address_info)
        .collect::<Result<_, _>>()?;
    Ok(ApiJson(EmergencyAddressesResponse { addresses }))
}

/// `POST /api/v1/emergency-addresses`: 201 with the address.
#[utoipa::path(
    post,
    path = "/emergency-addresses",
    tag = "emergency-addresses",
    operation_id = "create_emergency_address",
    summary = "Create an emergency address",
    params(("org" = Option<String>, Query, description = "Carrier staff only: the slug of the organisation acted for")),
    request_body = EmergencyAddressRequest,
    responses(
        (status = 201, description = "The new address", body = EmergencyAddressInfo),
        (status = 400, description = "`org_required`: carrier staff must name the organisation with `?org=SLUG`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid session or API token; `invalid_token` or `token_expired`: the Bearer token is unknown, revoked or expired; `mfa_required`: a sign-in waits for its code", body = ErrorBody),
        (status = 403, description = "`insufficient_role` or `insufficient_scope`: the role or token scope does not allow this; `csrf`: a cookie-authenticated change that is not same-origin", body = ErrorBody),
        (status = 404, description = "`not_found`: no such organisation (or one that is not the caller's)", body = ErrorBody),
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
    ApiJson(req): ApiJson<EmergencyAddressRequest>,
) -> ApiResult<(StatusCode, ApiJson<EmergencyAddressInfo>)> {
    caller.require(Role::Engineer)?;
    let a = validate(&req)?;
    let now = state.clock.now_ms();
    let id = uuid::Uuid::new_v4().to_string();
    let mut tx = state.db.pool().begin().await?;
    sqlx::query(
        "INSERT INTO emergency_addresses (id, org_id, label, street, house_number, postal_code, \
         city, region, country, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(&caller.org_id)
    .bind(&a.label)
    .bind(&a.street)
    .bind(&a.house_number)
    .bind(&a.postal_code)
    .bind(&a.city)
    .bind(&a.region)
    .bind(&a.country)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let created = find(&mut *tx, &caller.org_id, &id).await?;
    caller
        .audit(
            &mut *tx,
            now,
            &meta,
            "emergency_address.created",
            Some(&id),
            json!({"before": null, "after": audit_view(&created)}),
        )
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, ApiJson(created)))
}

/// `PUT /api/v1/emergency-addresses/{id}`: replaces every field.
#[utoipa::path(
    put,
    path = "/emergency-addresses/{id}",
    tag = "emergency-addresses",
    operation_id = "update_emergency_address",
    summary = "Replace an emergency address",
    params(("id" = String, Path, description = "The emergency address id"), ("org" = Option<String>, Query, description = "Carrier staff only: the slug of the organisation acted for")),
    request_body = EmergencyAddressRequest,
    responses(
        (status = 200, description = "The address as replaced", body = EmergencyAddressInfo),
        (status = 400, description = "`org_required`: carrier staff must name the organisation with `?org=SLUG`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid session or API token; `invalid_token` or `token_expired`: the Bearer token is unknown, revoked or expired; `mfa_required`: a sign-in waits for its code", body = ErrorBody),
        (status = 403, description = "`insufficient_role` or `insufficient_scope`: the role or token scope does not allow this; `csrf`: a cookie-authenticated change that is not same-origin", body = ErrorBody),
        (status = 404, description = "`not_found`: the organisation has no emergency address with this id (or no such organisation)", body = ErrorBody),
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
    Path(id): Path<String>,
    ApiJson(req): ApiJson<EmergencyAddressRequest>,
) -> ApiResult<ApiJson<EmergencyAddressInfo>> {
    // Another organisation's address is not found, whoever asks; permission comes second.
    find(state.db.pool(), &caller.org_id, &id).await?;
    caller.require(Role::Engineer)?;
    let a = validate(&req)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.pool().begin().await?;
    let before = find(&mut *tx, &caller.org_id, &id).await?;
    sqlx::query(
        "UPDATE emergency_addresses SET label = $1, street = $2, house_number = $3, \
         postal_code = $4, city = $5, region = $6, country = $7, updated_at = $8 \
         WHERE id = $9 AND org_id = $10",
    )
    .bind(&a.label)
    .bind(&a.street)
    .bind(&a.house_number)
    .bind(&a.postal_code)
    .bind(&a.city)
    .bind(&a.region)
    .bind(&a.country)
    .bind(now)
    .bind(&id)
    .bind(&caller.org_id)
    .execute(&mut *tx)
    .await?;
    let after = find(&mut *tx, &caller.org_id, &id).await?;
    caller
        .audit(
            &mut *tx,
            now,
            &meta,
            "emergency_address.updated",
            Some(&id),
            json!({"before": audit_view(&before), "after": audit_view(&after)}),
        )
        .await?;
    tx.commit().await?;
    Ok(ApiJson(after))
}

/// `DELETE /api/v1/emergency-addresses/{id}`: answers the address as it was; 409
/// `address_in_use` while numbers use it.
#[utoipa::path(
    delete,
    path = "/emergency-addresses/{id}",
    tag = "emergency-addresses",
    operation_id = "delete_emergency_address",
    summary = "Delete an unused emergency address",
    params(("id" = String, Path, description = "The emergency address id"), ("org" = Option<String>, Query, description = "Carrier staff only: the slug of the organisation acted for")),
    responses(
        (status = 200, description = "The address as it was before it was deleted", body = EmergencyAddressInfo),
        (status = 400, description = "`org_required`: carrier staff must name the organisation with `?org=SLUG`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid session or API token; `invalid_token` or `token_expired`: the Bearer token is unknown, revoked or expired; `mfa_required`: a sign-in waits for its code", body = ErrorBody),
        (status = 403, description = "`insufficient_role` or `insufficient_scope`: the role or token scope does not allow this; `csrf`: a cookie-authenticated change that is not same-origin", body = ErrorBody),
        (status = 404, description = "`not_found`: the organisation has no emergency address with this id (or no such organisation)", body = ErrorBody),
        (status = 409, description = "`address_in_use`: a number still uses the address", body = ErrorBody),
        (status = 500, description = "`internal`: a failure on the portal's side; quote `request_id` to support", body = ErrorBody),
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn delete(
    State(state): State<AppState>,
    meta: RequestMeta,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<EmergencyAddressInfo>> {
    find(state.db.pool(), &caller.org_id, &id).await?;
    caller.require(Role::Engineer)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.pool().begin().await?;
    let before = find(&mut *tx, &caller.org_id, &id).await?;
    if before.numbers_count > 0 {
        let n = before.numbers_count;
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "address_in_use",
            format!(
                "{n} number{} still use{} this emergency address; move {} to another address first.",
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "" },
                if n == 1 { "it" } else { "them" },
            ),
        ));
    }
    sqlx::query("DELETE FROM emergency_addresses WHERE id = $1 AND org_id = $2")
        .bind(&id)
        .bind(&caller.org_id)
        .execute(&mut *tx)
        .await?;
    caller
        .audit(
            &mut *tx,
            now,
            &meta,
            "emergency_address.deleted",
            Some(&id),
            json!({"before": audit_view(&before), "after": null}),
        )
        .await?;
    tx.commit().await?;
    Ok(ApiJson(before))
}
