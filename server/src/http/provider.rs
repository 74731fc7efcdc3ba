//! `/api/v1/provider/…`: the carrier staff's console — customers, turning their single
//! sign-on on and off, and linking, disabling and unlinking their Entra tenants.

use axum::{
    extract::{Path, State},
    routing::{get, put},
    Router,
};

use app::api::sso::{
    LinkTenantRequest, ProviderOrganisation, ProviderOrganisations, SsoEnableRequest, SsoSettings,
    TenantStateRequest,
};

use crate::{accounts::Actor, auth::session::SignedIn, db, sso as sso_admin};

use super::{
    sso::{settings_of, sso_api_error},
    ApiError, ApiJson, ApiResult, AppState,
};

/// The routes of this file, under `/api/v1/provider`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/organisations", get(list))
        .route("/organisations/{slug}/sso", put(set_enabled))
        .route(
            "/organisations/{slug}/sso/tenants",
            axum::routing::post(link),
        )
        .route(
            "/organisations/{slug}/sso/tenants/{tenant}",
            put(set_tenant_state).delete(unlink),
        )
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
