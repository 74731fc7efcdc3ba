//! `/api/v1/organisation/sso` (a customer admin's single sign-on settings) and
//! `/api/v1/me/identities` (the signed-in user's Microsoft identities).

use axum::{extract::State, http::StatusCode, routing::get, Router};

use app::api::sso::{
    IdentitiesResponse, LinkedIdentity, LinkedTenant, SsoSettings, SsoSettingsUpdate,
};

use crate::{
    accounts::Actor,
    auth::session::SignedIn,
    clock::rfc3339_ms,
    db::{self, orgs::Organisation, sso::Tenant},
    sso::{self as sso_admin, SsoError},
};

use super::{ApiError, ApiJson, ApiResult, AppState};

/// The routes of this file, under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/organisation/sso", get(get_settings).put(put_settings))
        .route("/me/identities", get(identities))
}

/// A customer's settings and tenants as the API shows them.
pub fn settings_of(org: &Organisation, tenants: &[Tenant]) -> SsoSettings {
    SsoSettings {
        enabled: org.sso_enabled,
        jit_provisioning: org.sso_jit,
        default_role: org.sso_default_role.clone(),
        require_sso: org.sso_required,
        tenants: tenants
            .iter()
            .map(|t| LinkedTenant {
                tenant_id: t.tenant_id.clone(),
                linked_at: rfc3339_ms(t.linked_at),
                linked_by: t.linked_by.clone(),
                disabled: t.disabled_at.is_some(),
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
async fn get_settings(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> ApiResult<ApiJson<SsoSettings>> {
    let org = admins_org(&state, &signed_in).await?;
    let tenants = db::sso::tenants_of_org(state.db.pool(), &org.id).await?;
    Ok(ApiJson(settings_of(&org, &tenants)))
}

/// `PUT /api/v1/organisation/sso`.
async fn put_settings(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiJson(req): ApiJson<SsoSettingsUpdate>,
) -> ApiResult<ApiJson<SsoSettings>> {
    let org = admins_org(&state, &signed_in).await?;
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
    )
    .await
    .map_err(sso_api_error)?;
    let org = admins_org(&state, &signed_in).await?;
    let tenants = db::sso::tenants_of_org(state.db.pool(), &org.id).await?;
    Ok(ApiJson(settings_of(&org, &tenants)))
}

/// `GET /api/v1/me/identities`.
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
