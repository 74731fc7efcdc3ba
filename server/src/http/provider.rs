//! `/api/v1/provider/…`: the carrier staff's console — customers (searched and paged),
//! turning their single sign-on on and off, and linking, disabling and unlinking their Entra
//! tenants.
//!
//! The customer list is searched and paged here rather than in the browser: a carrier has
//! thousands of business customers, and the console should not download and render all of
//! them (with their tenants) to show the one a NOC engineer is looking for.

use std::collections::HashMap;

use axum::extract::{Path, State};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64URL, Engine};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    audit::{MfaPolicy, MfaPolicyRequest},
    sso::{
        LinkTenantRequest, MfaEvidenceRequest, ProviderOrganisation, ProviderOrganisations,
        SsoEnableRequest, SsoSettings, TenantStateRequest, PROVIDER_SEARCH_MAX_CHARS,
    },
    ErrorBody,
};

use crate::http::openapi::errors::{
    DangerousSession, Internal, JsonBody, NoSuchCustomerTenant, SessionOnly, StaffOnlyChange,
    StaffOnlyRead, TenantBodyInvalid, TenantConflict, TenantIdInvalid,
};
use crate::http::openapi::params::{CustomerSlug, CustomerTenant};
use crate::{
    accounts::{self, AccountError, Actor},
    db::{self, orgs::OrgSearch, Db},
    sso as sso_admin,
};

use super::extract::SignedIn;
use super::{
    audit_log::policy_of,
    error::ApiQuery,
    sso::{settings_of, sso_api_error},
    ApiError, ApiJson, ApiResult, AppState,
};

/// The largest page `GET /api/v1/provider/organisations` serves.
const MAX_LIMIT: u32 = 500;

/// The routes of this file, under `/api/v1/provider`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_one))
        .routes(routes!(set_enabled))
        .routes(routes!(set_mfa_evidence))
        .routes(routes!(set_mfa_policy))
        .routes(routes!(link))
        .routes(routes!(set_tenant_state, unlink))
        .routes(routes!(approve))
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

/// The search and page of `GET /api/v1/provider/organisations`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    /// Text found, in any case, in the customer's name or slug or in the id of one of its
    /// linked Entra tenants (at most 200 characters; surrounding spaces are ignored).
    q: Option<String>,
    /// Page size, 1–500; without it, every matching customer on one page.
    limit: Option<u32>,
    /// The previous page's `next_cursor`.
    cursor: Option<String>,
}

/// The opaque cursor for the page after the customer (`name`, `slug`).
fn encode_cursor(name: &str, slug: &str) -> String {
    B64URL.encode(serde_json::json!([name, slug]).to_string())
}

fn decode_cursor(cursor: &str) -> ApiResult<(String, String)> {
    B64URL
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<(String, String)>(&bytes).ok())
        .ok_or_else(|| {
            ApiError::invalid_field(
                "cursor",
                "The cursor is not one this API returned; start again without it.",
            )
        })
}

/// The checked search of `query`.
fn org_search(query: &ListQuery) -> ApiResult<OrgSearch> {
    let q = query.q.as_deref().map(str::trim).unwrap_or_default();
    if q.chars().count() > PROVIDER_SEARCH_MAX_CHARS {
        return Err(ApiError::invalid_field(
            "q",
            format!(
                "The search text is longer than {PROVIDER_SEARCH_MAX_CHARS} characters; shorten it."
            ),
        ));
    }
    if let Some(limit) = query.limit {
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid_field(
                "limit",
                format!("limit must be between 1 and {MAX_LIMIT}."),
            ));
        }
    }
    Ok(OrgSearch {
        q: q.to_string(),
        after: query.cursor.as_deref().map(decode_cursor).transpose()?,
        limit: query.limit,
    })
}

/// `GET /api/v1/provider/organisations`.
#[utoipa::path(
    get,
    path = "/organisations",
    tag = "provider",
    operation_id = "list_customer_organisations",
    summary = "List or search customer organisations (staff)",
    params(ListQuery),
    responses(
        (status = 200, description = "The customer organisations found (by name, then slug) with their single sign-on state, the number found and the cursor of the next page", body = ProviderOrganisations),
        SessionOnly,
        StaffOnlyRead,
        (status = 422, description = "`invalid_query`, or `invalid_field` (with `field`): `q` is too long, `limit` is out of range or `cursor` is not valid", body = ErrorBody),
        Internal,
    ),
    security(("session" = [])),
)]
async fn list(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<ApiJson<ProviderOrganisations>> {
    staff(&signed_in)?;
    let search = org_search(&query)?;
    let pool = state.db.pool();
    let mut orgs = db::orgs::search(pool, &search).await?;
    let next_cursor = match search.limit {
        Some(limit) if orgs.len() > limit as usize => {
            orgs.truncate(limit as usize);
            orgs.last().map(|org| encode_cursor(&org.name, &org.slug))
        }
        _ => None,
    };
    let total = db::orgs::count_matching(pool, &search.q).await?;
    Ok(ApiJson(ProviderOrganisations {
        organisations: describe(&state.db, &orgs).await?,
        total,
        next_cursor,
    }))
}

/// `orgs` as the console shows them, with their tenants and user counts (of these customers
/// only, grouped once: without `limit` a page is every customer).
async fn describe(
    db: &Db,
    orgs: &[db::orgs::Organisation],
) -> ApiResult<Vec<ProviderOrganisation>> {
    let pool = db.pool();
    let ids: Vec<String> = orgs.iter().map(|org| org.id.clone()).collect();
    let mut tenants: HashMap<String, Vec<_>> = HashMap::new();
    for t in db::sso::tenants_of_orgs(pool, &ids).await? {
        tenants.entry(t.org_id.clone()).or_default().push(t);
    }
    let counts: HashMap<String, i64> = db::orgs::user_counts_of(pool, &ids)
        .await?
        .into_iter()
        .collect();
    Ok(orgs
        .iter()
        .map(|org| ProviderOrganisation {
            id: org.id.clone(),
            slug: org.slug.clone(),
            name: org.name.clone(),
            users: counts.get(&org.id).copied().unwrap_or(0),
            sso: settings_of(org, tenants.get(&org.id).map_or(&[], Vec::as_slice)),
            mfa_policy: policy_of(org),
        })
        .collect())
}

/// `GET /api/v1/provider/organisations/{slug}`.
#[utoipa::path(
    get,
    path = "/organisations/{slug}",
    tag = "provider",
    operation_id = "get_customer_organisation",
    summary = "One customer organisation (staff)",
    params(CustomerSlug),
    responses(
        (status = 200, description = "The customer with its single sign-on state and number of users", body = ProviderOrganisation),
        SessionOnly,
        StaffOnlyRead,
        (status = 404, description = "`not_found`: no customer with this slug", body = ErrorBody),
        Internal,
    ),
    security(("session" = [])),
)]
async fn get_one(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
) -> ApiResult<ApiJson<ProviderOrganisation>> {
    staff(&signed_in)?;
    let pool = state.db.pool();
    let org = db::orgs::find_by_slug(pool, &slug)
        .await?
        .ok_or_else(|| ApiError::not_found("There is no customer with this slug."))?;
    let mut found = describe(&state.db, std::slice::from_ref(&org)).await?;
    found
        .pop()
        .map(ApiJson)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("customer {slug} was not described")))
}

/// `PUT /api/v1/provider/organisations/{slug}/sso`.
#[utoipa::path(
    put,
    path = "/organisations/{slug}/sso",
    tag = "provider",
    operation_id = "set_customer_sso_enabled",
    summary = "Enable or disable single sign-on for a customer (staff)",
    params(CustomerSlug),
    request_body = SsoEnableRequest,
    responses(
        (status = 200, description = "The customer's single sign-on settings after the change", body = SsoSettings),
        DangerousSession,
        StaffOnlyChange,
        NoSuchCustomerTenant,
        JsonBody,
        TenantBodyInvalid,
        Internal,
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
    super::step_up::require(&state, &signed_in.0).await?;
    let ended = sso_admin::set_enabled(&state.db, actor, &slug, req.enabled)
        .await
        .map_err(sso_api_error)?;
    forget_cached_sessions(&state, ended);
    settings(&state, &slug).await
}

/// `PUT /api/v1/provider/organisations/{slug}/sso/mfa-evidence`.
#[utoipa::path(
    put,
    path = "/organisations/{slug}/sso/mfa-evidence",
    tag = "provider",
    operation_id = "set_customer_mfa_evidence",
    summary = "Set what a customer's Microsoft sign-ins without multi-factor evidence get (staff)",
    params(CustomerSlug),
    request_body = MfaEvidenceRequest,
    responses(
        (status = 200, description = "The customer's single sign-on settings after the change", body = SsoSettings),
        DangerousSession,
        StaffOnlyChange,
        NoSuchCustomerTenant,
        JsonBody,
        (status = 422, description = "`invalid_field` (with `field`: `mfa_evidence` or `auth_context`), `malformed_json` or `invalid_body`", body = ErrorBody),
        Internal,
    ),
    security(("session" = [])),
)]
async fn set_mfa_evidence(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
    ApiJson(req): ApiJson<MfaEvidenceRequest>,
) -> ApiResult<ApiJson<SsoSettings>> {
    let actor = staff(&signed_in)?;
    super::step_up::require(&state, &signed_in.0).await?;
    sso_admin::set_mfa_evidence_of(
        &state.db,
        actor,
        &slug,
        &req.mfa_evidence,
        req.auth_context.as_deref(),
    )
    .await
    .map_err(sso_api_error)?;
    settings(&state, &slug).await
}

/// `PUT /api/v1/provider/organisations/{slug}/mfa-policy`.
#[utoipa::path(
    put,
    path = "/organisations/{slug}/mfa-policy",
    tag = "provider",
    operation_id = "set_customer_mfa_policy",
    summary = "Set a customer's second-factor policy for password sign-ins (staff)",
    description = "The same policy the customer's administrators set (`PUT /api/v1/organisation/mfa-policy`); fields left out stay as they are.",
    params(CustomerSlug),
    request_body = MfaPolicyRequest,
    responses(
        (status = 200, description = "The customer's policy after the change", body = MfaPolicy),
        DangerousSession,
        StaffOnlyChange,
        (status = 404, description = "`not_found`: no customer with this slug", body = ErrorBody),
        JsonBody,
        (status = 422, description = "`invalid_field` on `methods`: an unknown method, or none; `malformed_json`, `invalid_body`", body = ErrorBody),
        Internal,
    ),
    security(("session" = [])),
)]
async fn set_mfa_policy(
    State(state): State<AppState>,
    meta: crate::audit::RequestMeta,
    signed_in: SignedIn,
    Path(slug): Path<String>,
    ApiJson(req): ApiJson<MfaPolicyRequest>,
) -> ApiResult<ApiJson<MfaPolicy>> {
    let actor = staff(&signed_in)?;
    let methods = req
        .methods
        .as_deref()
        .map(accounts::parse_mfa_methods)
        .transpose()
        .map_err(|e| {
            ApiError::invalid_field("methods", super::audit_log::capitalise(&e.to_string()))
        })?;
    super::step_up::require(&state, &signed_in.0).await?;
    let org = db::orgs::find_by_slug(state.db.pool(), &slug)
        .await?
        .ok_or_else(|| ApiError::not_found("There is no customer with this slug."))?;
    let change = accounts::MfaPolicyChange {
        required: req.required,
        methods,
    };
    match accounts::set_mfa_policy_of(
        &state.db,
        state.clock.now_ms(),
        actor,
        &meta,
        &org.id,
        change,
    )
    .await
    {
        Ok(()) => {}
        Err(AccountError::UnknownOrg(_)) => {
            return Err(ApiError::not_found("There is no customer with this slug."))
        }
        Err(e) => return Err(ApiError::internal(anyhow::Error::from(e))),
    }
    state.sessions.forget_all();
    let org = db::orgs::find_by_slug(state.db.pool(), &slug)
        .await?
        .ok_or_else(|| ApiError::not_found("There is no customer with this slug."))?;
    Ok(ApiJson(policy_of(&org)))
}

/// `POST /api/v1/provider/organisations/{slug}/sso/tenants`.
#[utoipa::path(
    post,
    path = "/organisations/{slug}/sso/tenants",
    tag = "provider",
    operation_id = "link_customer_tenant",
    summary = "Link an Entra ID tenant to a customer (staff)",
    params(CustomerSlug),
    request_body = LinkTenantRequest,
    responses(
        (status = 200, description = "The customer's single sign-on settings with the tenant linked", body = SsoSettings),
        DangerousSession,
        StaffOnlyChange,
        NoSuchCustomerTenant,
        TenantConflict,
        JsonBody,
        TenantBodyInvalid,
        Internal,
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
    super::step_up::require(&state, &signed_in.0).await?;
    sso_admin::link_tenant(
        &state.db,
        actor,
        &slug,
        &req.tenant_id,
        sso_admin::LinkedBy::Carrier("provider_console"),
    )
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
    params(CustomerTenant),
    request_body = TenantStateRequest,
    responses(
        (status = 200, description = "The customer's single sign-on settings after the change", body = SsoSettings),
        DangerousSession,
        StaffOnlyChange,
        NoSuchCustomerTenant,
        TenantConflict,
        JsonBody,
        TenantBodyInvalid,
        Internal,
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
    super::step_up::require(&state, &signed_in.0).await?;
    let ended = sso_admin::set_tenant_disabled(&state.db, actor, &slug, &tenant, req.disabled)
        .await
        .map_err(sso_api_error)?;
    forget_cached_sessions(&state, ended);
    settings(&state, &slug).await
}

/// `POST /api/v1/provider/organisations/{slug}/sso/tenants/{tenant}/approve`: a tenant a
/// customer's admin linked through admin consent may now sign its users in. Refuse such a
/// link by unlinking it.
#[utoipa::path(
    post,
    path = "/organisations/{slug}/sso/tenants/{tenant}/approve",
    tag = "provider",
    operation_id = "approve_customer_tenant",
    summary = "Approve a tenant linked through admin consent (staff)",
    params(CustomerTenant),
    responses(
        (status = 200, description = "The customer's single sign-on settings with the tenant approved (approving an approved tenant changes nothing)", body = SsoSettings),
        DangerousSession,
        StaffOnlyChange,
        NoSuchCustomerTenant,
        (status = 409, description = "`sso_disabled`: single sign-on is not enabled for the customer", body = ErrorBody),
        TenantIdInvalid,
        Internal,
    ),
    security(("session" = [])),
)]
async fn approve(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((slug, tenant)): Path<(String, String)>,
) -> ApiResult<ApiJson<SsoSettings>> {
    let actor = staff(&signed_in)?;
    super::step_up::require(&state, &signed_in.0).await?;
    sso_admin::approve_tenant(&state.db, actor, &slug, &tenant)
        .await
        .map_err(sso_api_error)?;
    settings(&state, &slug).await
}

/// `DELETE /api/v1/provider/organisations/{slug}/sso/tenants/{tenant}`.
#[utoipa::path(
    delete,
    path = "/organisations/{slug}/sso/tenants/{tenant}",
    tag = "provider",
    operation_id = "unlink_customer_tenant",
    summary = "Unlink a tenant from a customer (staff)",
    params(CustomerTenant),
    responses(
        (status = 200, description = "The customer's single sign-on settings without the tenant", body = SsoSettings),
        DangerousSession,
        StaffOnlyChange,
        NoSuchCustomerTenant,
        TenantConflict,
        TenantIdInvalid,
        Internal,
    ),
    security(("session" = [])),
)]
async fn unlink(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((slug, tenant)): Path<(String, String)>,
) -> ApiResult<ApiJson<SsoSettings>> {
    let actor = staff(&signed_in)?;
    super::step_up::require(&state, &signed_in.0).await?;
    let ended = sso_admin::unlink_tenant(&state.db, actor, &slug, &tenant)
        .await
        .map_err(sso_api_error)?;
    forget_cached_sessions(&state, ended);
    settings(&state, &slug).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(q: Option<&str>, limit: Option<u32>, cursor: Option<&str>) -> ListQuery {
        ListQuery {
            q: q.map(str::to_string),
            limit,
            cursor: cursor.map(str::to_string),
        }
    }

    #[test]
    fn cursors_round_trip_and_strangers_are_refused() {
        let cursor = encode_cursor("Contoso \"Ltd\"", "contoso");
        assert_eq!(
            decode_cursor(&cursor).ok(),
            Some(("Contoso \"Ltd\"".to_string(), "contoso".to_string()))
        );
        for bad in ["not base64!", "WyJhIl0", ""] {
            let err = decode_cursor(bad).err().map(|e| e.code());
            assert_eq!(err, Some("invalid_field"), "{bad:?}");
        }
    }

    #[test]
    fn the_search_is_trimmed_and_checked() {
        let search = org_search(&query(Some("  Con "), Some(50), None)).ok();
        assert_eq!(
            search.map(|s| (s.q, s.limit)),
            Some(("Con".to_string(), Some(50)))
        );
        assert!(org_search(&query(None, None, None)).is_ok_and(|s| s.q.is_empty()));
        let long = "x".repeat(PROVIDER_SEARCH_MAX_CHARS + 1);
        assert!(org_search(&query(Some(&long), None, None)).is_err());
        assert!(org_search(&query(None, Some(0), None)).is_err());
        assert!(org_search(&query(None, Some(MAX_LIMIT + 1), None)).is_err());
        assert!(org_search(&query(None, Some(MAX_LIMIT), None)).is_ok());
    }
}
