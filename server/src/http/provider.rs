//! `/api/v1/provider/…`: the carrier staff's console — customers, turning their single
//! sign-on on and off, and linking, disabling and unlinking their Entra tenants.

use axum::extract::{Path, State};
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    sso::{
        LinkTenantRequest, ProviderOrganisation, ProviderOrganisations, SsoEnableRequest,
        SsoSettings, TenantStateRequest,
    },
    ErrorBody,
};

use crate::{accounts::Actor, auth::session::SignedIn, db, sso as sso_admin};

use super::{
    sso::{settings_of, sso_api_error},
    ApiError, ApiJson, ApiResult, AppState,
};

/// The routes of this file, under `/api/v1/provider`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(set_enabled))
        .routes(routes!(link))
        .routes(routes!(set_tenant_state, unlink))
}

/// Carrier staff only.
fn staff(signed_in: &SignedIn) -> ApiResult<Actor<'_>> {
    let user = &signed_in.0.user;
    if !user.is_staff {
        return Err(ApiError::forbidden(
            "forbidden",
            "Only the carrier's staff can use the provider console.",
        ));
    }
    Ok(Actor {
        user_id: Some(&user.id),
        label: &user.email,
    })
}

async fn settings(state: &AppState, slug: &str) -> ApiResult<ApiJson<SsoSettings>> {
    let org = db::orgs::find_by_slug(state.db.pool(), slug)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("There is no customer with the slug {slug:?}."))
        })?;
    let tenants = db::sso::tenants_of_org(state.db.pool(), &org.id).await?;
    Ok(ApiJson(settings_of(&org, &tenants)))
}

/// Sessions were deleted: this instance must not keep serving them from its cache.
fn forget_cached_sessions(state: &AppState, ended: u64) {
    if ended > 0 {
        state.sessions.forget_all();
    }
}

/// `GET /api/v1/provider/organisations`.
#[utoipa::path(
    get,
    path = "/organisations",
    tag = "provider",
    operation_id = "list_customer_organisations",
    summary = "List customer organisations (staff)",
    responses(
        (status = 200, description = "Every customer organisation with its single sign-on state", body = ProviderOrganisations),
        (status = 401, description = "`unauthenticated`: not signed in (`mfa_required` while a sign-in waits for its code)", body = ErrorBody),
        (status = 403, description = "`forbidden`: carrier staff only", body = ErrorBody),
        (status = 500, description = "`internal`: a failure on the portal's side; quote `request_id` to support", body = ErrorBody),
    ),
    security(("session" = [])),
)]
async fn list(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> ApiResult<ApiJson<ProviderOrganisations>> {
    staff(&signed_in)?;
    let orgs = db::orgs::list(state.db.pool()).await?;
    let tenants = db::sso::all_tenants(state.db.pool()).await?;
    let counts = db::orgs::user_counts(state.db.pool()).await?;
    let organisations = orgs
        .iter()
        .map(|org| {
            let own: Vec<_> = tenants
                .iter()
                .filter(|t| t.org_id == org.id)
                .cloned()
                .collect();
            ProviderOrganisation {
                id: org.id.clone(),
                slug: org.slug.clone(),
                name: org.name.clone(),
                users: counts
                    .iter()
                    .find(|(id, _)| *id == org.id)
                    .map_or(0, |(_, n)| *n),
                sso: settings_of(org, &own),
            }
        })
        .collect();
    Ok(ApiJson(ProviderOrganisations { organisations }))
}

/// `PUT /api/v1/provider/organisations/{slug}/sso`.
#[utoipa::path(
    put,
    path = "/organisations/{slug}/sso",
    tag = "provider",
    operation_id = "set_customer_sso_enabled",
    summary = "Enable or disable single sign-on for a customer (staff)",
    params(("slug" = String, Path, description = "The customer organisation's slug")),
    request_body = SsoEnableRequest,
    responses(
        (status = 200, description = "The customer's single sign-on settings after the change", body = SsoSettings),
        (status = 401, description = "`unauthenticated`: not signed in (`mfa_required` while a sign-in waits for its code)", body = ErrorBody),
        (status = 403, description = "`forbidden`: carrier staff only; `csrf`: not same-origin", body = ErrorBody),
        (status = 404, description = "`not_found`: no customer with this slug, or the tenant is not linked to it", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is larger than the portal accepts", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body was not sent as `application/json`", body = ErrorBody),
        (status = 422, description = "`invalid_field` (with `field`, e.g. `tenant_id`), `malformed_json` or `invalid_body`", body = ErrorBody),
        (status = 500, description = "`internal`: a failure on the portal's side; quote `request_id` to support", body = ErrorBody),
    ),
    security(("session" = [])),
)]
async fn set_enabled(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
    ApiJson(req): ApiJson<SsoEnableRequest>,
) -> ApiResult<ApiJson<SsoSettings>> {
    let actor = staff(&signed_in)?;
    let ended = sso_admin::set_enabled(&state.db, actor, &slug, req.enabled)
        .await
        .map_err(sso_api_error)?;
    forget_cached_sessions(&state, ended);
    settings(&state, &slug).await
}

/// `POST /api/v1/provider/organisations/{slug}/sso/tenants`.
#[utoipa::path(
    post,
    path = "/organisations/{slug}/sso/tenants",
    tag = "provider",
    operation_id = "link_customer_tenant",
    summary = "Link an Entra ID tenant to a customer (staff)",
    params(("slug" = String, Path, description = "The customer organisation's slug")),
    request_body = LinkTenantRequest,
    responses(
        (status = 200, description = "The customer's single sign-on settings with the tenant linked", body = SsoSettings),
        (status = 401, description = "`unauthenticated`: not signed in (`mfa_required` while a sign-in waits for its code)", body = ErrorBody),
        (status = 403, description = "`forbidden`: carrier staff only; `csrf`: not same-origin", body = ErrorBody),
        (status = 404, description = "`not_found`: no customer with this slug, or the tenant is not linked to it", body = ErrorBody),
        (status = 409, description = "`sso_disabled`: single sign-on is not enabled for the customer; `tenant_taken`: the tenant is linked to another customer", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is larger than the portal accepts", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body was not sent as `application/json`", body = ErrorBody),
        (status = 422, description = "`invalid_field` (with `field`, e.g. `tenant_id`), `malformed_json` or `invalid_body`", body = ErrorBody),
        (status = 500, description = "`internal`: a failure on the portal's side; quote `request_id` to support", body = ErrorBody),
    ),
    security(("session" = [])),
)]
async fn link(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
    ApiJson(req): ApiJson<LinkTenantRequest>,
) -> ApiResult<ApiJson<SsoSettings>> {
    let actor = staff(&signed_in)?;
    sso_admin::link_tenant(&state.db, actor, &slug, &req.tenant_id, "provider_console")
        .await
        .map_err(sso_api_error)?;
    settings(&state, &slug).await
}

/// `PUT /api/v1/provider/organisations/{slug}/sso/tenants/{tenant}`.
#[utoipa::path(
    put,
    path = "/organisations/{slug}/sso/tenants/{tenant}",
    tag = "provider",
    operation_id = "set_customer_tenant_state",
    summary = "Disable or re-enable a customer's tenant (staff)",
    params(("slug" = String, Path, description = "The customer organisation's slug"), ("tenant" = String, Path, description = "The Entra ID tenant id (a GUID)")),
    request_body = TenantStateRequest,
    responses(
        (status = 200, description = "The customer's single sign-on settings after the change", body = SsoSettings),
        (status = 401, description = "`unauthenticated`: not signed in (`mfa_required` while a sign-in waits for its code)", body = ErrorBody),
        (status = 403, description = "`forbidden`: carrier staff only; `csrf`: not same-origin", body = ErrorBody),
        (status = 404, description = "`not_found`: no customer with this slug, or the tenant is not linked to it", body = ErrorBody),
        (status = 409, description = "`sso_disabled`: single sign-on is not enabled for the customer; `tenant_taken`: the tenant is linked to another customer", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is larger than the portal accepts", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body was not sent as `application/json`", body = ErrorBody),
        (status = 422, description = "`invalid_field` (with `field`, e.g. `tenant_id`), `malformed_json` or `invalid_body`", body = ErrorBody),
        (status = 500, description = "`internal`: a failure on the portal's side; quote `request_id` to support", body = ErrorBody),
    ),
    security(("session" = [])),
)]
async fn set_tenant_state(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((slug, tenant)): Path<(String, String)>,
    ApiJson(req): ApiJson<TenantStateRequest>,
) -> ApiResult<ApiJson<SsoSettings>> {
    let actor = staff(&signed_in)?;
    let ended = sso_admin::set_tenant_disabled(&state.db, actor, &slug, &tenant, req.disabled)
        .await
        .map_err(sso_api_error)?;
    forget_cached_sessions(&state, ended);
    settings(&state, &slug).await
}

/// `DELETE /api/v1/provider/organisations/{slug}/sso/tenants/{tenant}`.
#[utoipa::path(
    delete,
    path = "/organisations/{slug}/sso/tenants/{tenant}",
    tag = "provider",
    operation_id = "unlink_customer_tenant",
    summary = "Unlink a tenant from a customer (staff)",
    params(("slug" = String, Path, description = "The customer organisation's slug"), ("tenant" = String, Path, description = "The Entra ID tenant id (a GUID)")),
    responses(
        (status = 200, description = "The customer's single sign-on settings without the tenant", body = SsoSettings),
        (status = 401, description = "`unauthenticated`: not signed in (`mfa_required` while a sign-in waits for its code)", body = ErrorBody),
        (status = 403, description = "`forbidden`: carrier staff only; `csrf`: not same-origin", body = ErrorBody),
        (status = 404, description = "`not_found`: no customer with this slug, or the tenant is not linked to it", body = ErrorBody),
        (status = 409, description = "`sso_disabled`: single sign-on is not enabled for the customer; `tenant_taken`: the tenant is linked to another customer", body = ErrorBody),
        (status = 422, description = "`invalid_field`: the tenant id is not valid", body = ErrorBody),
        (status = 500, description = "`internal`: a failure on the portal's side; quote `request_id` to support", body = ErrorBody),
    ),
    security(("session" = [])),
)]
async fn unlink(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((slug, tenant)): Path<(String, String)>,
) -> ApiResult<ApiJson<SsoSettings>> {
    let actor = staff(&signed_in)?;
    let ended = sso_admin::unlink_tenant(&state.db, actor, &slug, &tenant)
        .await
        .map_err(sso_api_error)?;
    forget_cached_sessions(&state, ended);
    settings(&state, &slug).await
}
