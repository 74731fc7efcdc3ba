//! `/api/v1/organisation/sso` (a customer admin's single sign-on settings) and
//! `/api/v1/me/identities` (the signed-in user's Microsoft identities).

use axum::{extract::State, http::StatusCode};
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    sso::{IdentitiesResponse, LinkedIdentity, LinkedTenant, SsoSettings, SsoSettingsUpdate},
    ErrorBody,
};

use crate::http::openapi::errors::{DangerousSession, Internal, JsonBody, OwnOrgGone, SessionOnly};
use crate::{
    accounts::Actor,
    clock::rfc3339_ms,
    db::{self, orgs::Organisation, sso::Tenant},
    sso::{self as sso_admin, SsoError},
};

use super::{caller::OwnOrgUser, extract::SignedIn};
use super::{ApiError, ApiJson, ApiResult, AppState};

/// The routes of this file, under `/api/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(identities))
}

/// A customer's settings and tenants as the API shows them.
pub fn settings_of(org: &Organisation, tenants: &[Tenant]) -> SsoSettings {
    SsoSettings {
        enabled: org.sso_enabled,
        jit_provisioning: org.sso_jit,
        default_role: org.sso_default_role.clone(),
        require_sso: org.sso_required,
        mfa_evidence: org.sso_mfa_evidence.clone(),
        auth_context: org.sso_auth_context.clone(),
        tenants: tenants
            .iter()
            .map(|t| LinkedTenant {
                tenant_id: t.tenant_id.clone(),
                linked_at: rfc3339_ms(t.linked_at),
                linked_by: t.linked_by.clone(),
                disabled: t.disabled_at.is_some(),
                pending_approval: t.approved_at.is_none(),
            })
            .collect(),
    }
}

/// An [`SsoError`] as an API error.
pub fn sso_api_error(e: SsoError) -> ApiError {
    let message = e.to_string();
    match e {
        SsoError::UnknownOrg(_) | SsoError::NotLinked { .. } => ApiError::not_found(message),
        SsoError::InvalidTenant(_) => ApiError::invalid_field("tenant_id", message),
        SsoError::InvalidRole(_) => ApiError::invalid_field("default_role", message),
        SsoError::InvalidMfaEvidence(_) => ApiError::invalid_field("mfa_evidence", message),
        SsoError::InvalidAuthContext(_) => ApiError::invalid_field("auth_context", message),
        SsoError::SsoDisabled(_) => ApiError::new(StatusCode::CONFLICT, "sso_disabled", message),
        SsoError::TenantTaken(_) => ApiError::new(StatusCode::CONFLICT, "tenant_taken", message),
        SsoError::Internal(e) => ApiError::internal(e),
    }
}

async fn admins_org(state: &AppState, signed_in: &SignedIn) -> ApiResult<Organisation> {
    let user = &signed_in.0.user;
    let (Some(org_id), Some("admin")) = (user.org_id.as_deref(), user.role.as_deref()) else {
        return Err(ApiError::forbidden(
            "forbidden",
            "Only an administrator of your organisation can change single sign-on.",
        ));
    };
    db::orgs::find_by_id(state.db.pool(), org_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Your organisation no longer exists."))
}

/// `GET /api/v1/organisation/sso`.
#[utoipa::path(
    get,
    path = "/organisation/sso",
    tag = "sso",
    operation_id = "get_sso_settings",
    summary = "The organisation's single sign-on settings",
    responses(
        (status = 200, description = "The organisation's single sign-on settings and linked tenants", body = SsoSettings),
        SessionOnly,
        (status = 403, description = "`forbidden`: only an administrator of the organisation manages single sign-on", body = ErrorBody),
        OwnOrgGone,
        Internal,
    ),
    security(("session" = [])),
)]
async fn get_settings(
    State(state): State<AppState>,
    OwnOrgUser(signed_in): OwnOrgUser,
) -> ApiResult<ApiJson<SsoSettings>> {
    let org = admins_org(&state, &signed_in).await?;
    let tenants = db::sso::tenants_of_org(state.db.pool(), &org.id).await?;
    Ok(ApiJson(settings_of(&org, &tenants)))
}

/// `PUT /api/v1/organisation/sso`.
#[utoipa::path(
    put,
    path = "/organisation/sso",
    tag = "sso",
    operation_id = "update_sso_settings",
    summary = "Change the organisation's single sign-on settings",
    request_body = SsoSettingsUpdate,
    responses(
        (status = 200, description = "The settings as saved", body = SsoSettings),
        DangerousSession,
        (status = 403, description = "`forbidden`: only an administrator of the organisation manages single sign-on; `csrf`: not same-origin", body = ErrorBody),
        OwnOrgGone,
        (status = 409, description = "`sso_disabled`: single sign-on is not enabled for the organisation", body = ErrorBody),
        JsonBody,
        (status = 422, description = "`invalid_field` (with `field`, e.g. `default_role`), `malformed_json` or `invalid_body`", body = ErrorBody),
        Internal,
    ),
    security(("session" = [])),
)]
async fn put_settings(
    State(state): State<AppState>,
    OwnOrgUser(signed_in): OwnOrgUser,
    ApiJson(req): ApiJson<SsoSettingsUpdate>,
) -> ApiResult<ApiJson<SsoSettings>> {
    let org = admins_org(&state, &signed_in).await?;
    super::step_up::require(&state, &signed_in.0).await?;
    let user = &signed_in.0.user;
    let actor = Actor {
        user_id: Some(&user.id),
        label: &user.email,
    };
    sso_admin::update_settings(
        &state.db,
        actor,
        &org,
        req.jit_provisioning,
        &req.default_role,
        req.require_sso,
        req.mfa_evidence
            .as_deref()
            .map(|policy| (policy, req.auth_context.as_deref())),
    )
    .await
    .map_err(sso_api_error)?;
    let org = admins_org(&state, &signed_in).await?;
    let tenants = db::sso::tenants_of_org(state.db.pool(), &org.id).await?;
    Ok(ApiJson(settings_of(&org, &tenants)))
}

/// `GET /api/v1/me/identities`.
#[utoipa::path(
    get,
    path = "/me/identities",
    tag = "me",
    operation_id = "list_identities",
    summary = "The user's linked Microsoft identities",
    responses(
        (status = 200, description = "The user's linked Microsoft identities, and whether they may link one", body = IdentitiesResponse),
        SessionOnly,
        Internal,
    ),
    security(("session" = [])),
)]
async fn identities(
    State(state): State<AppState>,
    SignedIn(a): SignedIn,
) -> ApiResult<ApiJson<IdentitiesResponse>> {
    let identities = db::sso::identities_of_user(state.db.pool(), &a.user.id)
        .await?
        .into_iter()
        .map(|i| LinkedIdentity {
            tenant_id: i.tenant_id,
            email: i.email,
            linked_at: rfc3339_ms(i.created_at),
        })
        .collect();
    let can_link = match (&a.user.org_id, &state.entra) {
        (Some(org_id), Some(_)) => {
            let enabled = db::orgs::find_by_id(state.db.pool(), org_id)
                .await?
                .is_some_and(|o| o.sso_enabled);
            enabled
                && db::sso::tenants_of_org(state.db.pool(), org_id)
                    .await?
                    .iter()
                    .any(|t| t.disabled_at.is_none())
        }
        _ => false,
    };
    Ok(ApiJson(IdentitiesResponse {
        identities,
        can_link,
    }))
}
