//! Single sign-on with Microsoft Entra ID: the customer's settings (`/api/v1/organisation/sso`),
//! the carrier's provider console (`/api/v1/provider/…`) and a user's linked identities
//! (`/api/v1/me/identities`).
//!
//! The browser flows themselves are redirects, not JSON: `/auth/microsoft/login`,
//! `/auth/microsoft/consent` and `/auth/microsoft/link` are plain links.

use serde::{Deserialize, Serialize};

use super::{client, ApiError};

/// Where the "Sign in with Microsoft" button goes (add `?return_to=/path`).
pub const MICROSOFT_LOGIN_PATH: &str = "/auth/microsoft/login";
/// Where an admin's "Connect Microsoft Entra ID" button goes.
pub const MICROSOFT_CONSENT_PATH: &str = "/auth/microsoft/consent";
/// Where a signed-in local user's "Link your Microsoft account" button goes.
pub const MICROSOFT_LINK_PATH: &str = "/auth/microsoft/link";
/// Where an invitee's "Accept with Microsoft" form posts its `token`.
pub const MICROSOFT_INVITATION_PATH: &str = "/auth/microsoft/invitation";

/// A Microsoft Entra tenant linked to a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LinkedTenant {
    /// The tenant id (a GUID, lower case).
    pub tenant_id: String,
    /// When it was linked (RFC 3339, UTC).
    pub linked_at: String,
    /// Who linked it: an email, or `cli`.
    pub linked_by: String,
    /// A disabled tenant stays linked but its users cannot sign in.
    pub disabled: bool,
    /// Linked through admin consent and waiting for carrier staff to approve it: until then
    /// its users cannot sign in.
    #[serde(default)]
    pub pending_approval: bool,
}

/// A customer's single sign-on settings, as `GET /api/v1/organisation/sso` returns them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SsoSettings {
    /// The carrier has turned SSO on for this customer (only staff change this).
    pub enabled: bool,
    /// Unknown users of a linked tenant get an account on their first sign-in.
    pub jit_provisioning: bool,
    /// The role such users get: `admin`, `engineer` or `viewer`.
    pub default_role: String,
    /// Password sign-in is off for this customer's users.
    pub require_sso: bool,
    /// What a Microsoft sign-in whose ID token shows no multi-factor authentication (no `mfa`
    /// in `amr`, no [`auth_context`](Self::auth_context) in `acrs`) gets: `off` (the tenant's
    /// own policy is trusted), `portal_factor` (the user also enters their portal
    /// authenticator code) or `required` (refused, with what the IT admin must change).
    #[serde(default = "mfa_evidence_off")]
    pub mfa_evidence: String,
    /// The Conditional Access authentication context (`c1` … `c99`) that counts as evidence;
    /// the portal asks the tenant for it when a sign-in came back without evidence.
    #[serde(default)]
    pub auth_context: Option<String>,
    /// Linked tenants, oldest first.
    pub tenants: Vec<LinkedTenant>,
}

/// `PUT /api/v1/organisation/sso` (organisation admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SsoSettingsUpdate {
    /// See [`SsoSettings::jit_provisioning`].
    pub jit_provisioning: bool,
    /// See [`SsoSettings::default_role`].
    pub default_role: String,
    /// See [`SsoSettings::require_sso`].
    pub require_sso: bool,
    /// See [`SsoSettings::mfa_evidence`]; left out, the policy and the authentication context
    /// stay as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_evidence: Option<String>,
    /// See [`SsoSettings::auth_context`]; only read with `mfa_evidence` (absent or blank: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_context: Option<String>,
}

fn mfa_evidence_off() -> String {
    "off".to_string()
}

/// A customer as the provider console lists it (`GET /api/v1/provider/organisations`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProviderOrganisation {
    /// Opaque id.
    pub id: String,
    /// Short identifier.
    pub slug: String,
    /// Name.
    pub name: String,
    /// How many users it has.
    pub users: i64,
    /// Its SSO settings and tenants.
    pub sso: SsoSettings,
    /// Its second-factor policy for password sign-ins.
    pub mfa_policy: super::audit::MfaPolicy,
}

/// `GET /api/v1/provider/organisations` (staff).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProviderOrganisations {
    /// The customers found (every one without `q`), by name then slug; one page of them
    /// when `limit` was given.
    pub organisations: Vec<ProviderOrganisation>,
    /// How many customers match `q` on all pages together.
    pub total: i64,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Customers per page in the provider console.
pub const PROVIDER_PAGE_SIZE: u32 = 50;

/// The longest search text `GET /api/v1/provider/organisations` accepts, in characters.
pub const PROVIDER_SEARCH_MAX_CHARS: usize = 200;

/// What the provider console asks `GET /api/v1/provider/organisations` for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderSearch {
    /// Text to find in a customer's name or slug, or a linked tenant's id; empty for all.
    pub q: String,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size; `None` for every match.
    pub limit: Option<u32>,
}

impl ProviderSearch {
    /// The query string (without `?`): only the parameters that are set.
    pub fn to_query_string(&self) -> String {
        let mut pairs = Vec::new();
        let q = self.q.trim();
        if !q.is_empty() {
            pairs.push(format!("q={}", super::client::percent_encode(q)));
        }
        if let Some(limit) = self.limit {
            pairs.push(format!("limit={limit}"));
        }
        if let Some(cursor) = &self.cursor {
            pairs.push(format!("cursor={}", super::client::percent_encode(cursor)));
        }
        pairs.join("&")
    }
}

/// `PUT /api/v1/provider/organisations/{slug}/sso` (staff): turn SSO on or off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SsoEnableRequest {
    /// On or off. Off ends the customer's SSO sessions at once.
    pub enabled: bool,
}

/// `PUT /api/v1/provider/organisations/{slug}/sso/mfa-evidence` (staff): what a customer's
/// Microsoft sign-ins without multi-factor evidence get.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MfaEvidenceRequest {
    /// See [`SsoSettings::mfa_evidence`].
    pub mfa_evidence: String,
    /// See [`SsoSettings::auth_context`]; absent or blank: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_context: Option<String>,
}

/// `POST /api/v1/provider/organisations/{slug}/sso/tenants` (staff): link a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LinkTenantRequest {
    /// The tenant id (a GUID).
    pub tenant_id: String,
}

/// `PUT /api/v1/provider/organisations/{slug}/sso/tenants/{tenant}` (staff).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TenantStateRequest {
    /// `true` disables the tenant (its live sessions end at once); `false` enables it again.
    pub disabled: bool,
}

/// A Microsoft identity linked to the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LinkedIdentity {
    /// The Entra tenant.
    pub tenant_id: String,
    /// The address the identity provider sent at the last sign-in (display only).
    pub email: String,
    /// When it was linked (RFC 3339, UTC).
    pub linked_at: String,
}

/// `GET /api/v1/me/identities`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IdentitiesResponse {
    /// The user's Microsoft identities.
    pub identities: Vec<LinkedIdentity>,
    /// Whether linking is possible now (the user's organisation has SSO on and a tenant).
    pub can_link: bool,
}

/// The path of [`settings`].
pub const SETTINGS_PATH: &str = "/organisation/sso";

/// `GET /api/v1/organisation/sso`.
pub async fn settings() -> Result<SsoSettings, ApiError> {
    client::get(SETTINGS_PATH).await
}

/// `PUT /api/v1/organisation/sso`.
pub async fn update_settings(update: SsoSettingsUpdate) -> Result<SsoSettings, ApiError> {
    client::send_json(gloo_net::http::Method::PUT, "/organisation/sso", &update).await
}

/// `GET /api/v1/provider/organisations/{slug}`: one customer (the staff customer switcher).
pub async fn provider_organisation(slug: &str) -> Result<ProviderOrganisation, ApiError> {
    client::get(&format!(
        "/provider/organisations/{}",
        super::client::percent_encode(slug)
    ))
    .await
}

/// `GET /api/v1/provider/organisations?q=&limit=&cursor=`: the customers `search` finds.
pub async fn search_provider_organisations(
    search: &ProviderSearch,
) -> Result<ProviderOrganisations, ApiError> {
    client::get(&search_path(search)).await
}

/// The path of [`search_provider_organisations`].
pub fn search_path(search: &ProviderSearch) -> String {
    let qs = search.to_query_string();
    if qs.is_empty() {
        "/provider/organisations".to_string()
    } else {
        format!("/provider/organisations?{qs}")
    }
}

/// `PUT /api/v1/provider/organisations/{slug}/sso`.
pub async fn set_sso_enabled(slug: String, enabled: bool) -> Result<SsoSettings, ApiError> {
    client::send_json(
        gloo_net::http::Method::PUT,
        &format!("/provider/organisations/{slug}/sso"),
        &SsoEnableRequest { enabled },
    )
    .await
}

/// `PUT /api/v1/provider/organisations/{slug}/sso/mfa-evidence`.
pub async fn set_mfa_evidence(
    slug: String,
    mfa_evidence: String,
    auth_context: Option<String>,
) -> Result<SsoSettings, ApiError> {
    client::send_json(
        gloo_net::http::Method::PUT,
        &format!("/provider/organisations/{slug}/sso/mfa-evidence"),
        &MfaEvidenceRequest {
            mfa_evidence,
            auth_context,
        },
    )
    .await
}

/// `POST /api/v1/provider/organisations/{slug}/sso/tenants`.
pub async fn link_tenant(slug: String, tenant_id: String) -> Result<SsoSettings, ApiError> {
    client::send_json(
        gloo_net::http::Method::POST,
        &format!("/provider/organisations/{slug}/sso/tenants"),
        &LinkTenantRequest { tenant_id },
    )
    .await
}

/// `PUT /api/v1/provider/organisations/{slug}/sso/tenants/{tenant}`.
pub async fn set_tenant_disabled(
    slug: String,
    tenant_id: String,
    disabled: bool,
) -> Result<SsoSettings, ApiError> {
    client::send_json(
        gloo_net::http::Method::PUT,
        &format!("/provider/organisations/{slug}/sso/tenants/{tenant_id}"),
        &TenantStateRequest { disabled },
    )
    .await
}

/// `POST /api/v1/provider/organisations/{slug}/sso/tenants/{tenant}/approve`.
pub async fn approve_tenant(slug: String, tenant_id: String) -> Result<SsoSettings, ApiError> {
    client::send_json(
        gloo_net::http::Method::POST,
        &format!("/provider/organisations/{slug}/sso/tenants/{tenant_id}/approve"),
        &serde_json::json!({}),
    )
    .await
}

/// `DELETE /api/v1/provider/organisations/{slug}/sso/tenants/{tenant}`.
pub async fn unlink_tenant(slug: String, tenant_id: String) -> Result<SsoSettings, ApiError> {
    client::send_json(
        gloo_net::http::Method::DELETE,
        &format!("/provider/organisations/{slug}/sso/tenants/{tenant_id}"),
        &serde_json::json!({}),
    )
    .await
}

/// The path of [`identities`].
pub const IDENTITIES_PATH: &str = "/me/identities";

/// `GET /api/v1/me/identities`.
pub async fn identities() -> Result<IdentitiesResponse, ApiError> {
    client::get(IDENTITIES_PATH).await
}

/// Messages for the `error` codes that SSO flows put on `/login?error=CODE`, `/sso?error=CODE`
/// and `/security?error=CODE`: what happened and whom to ask. `None` for an unknown code.
pub fn flow_error_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "tenant_not_linked" => "Your organisation's Microsoft Entra ID tenant is not connected to this portal. Ask your IT administrator to connect it, or your account manager at the carrier.",
        "tenant_disabled" => "Sign-in with Microsoft is switched off for your organisation's tenant. Ask your account manager at the carrier.",
        "sso_disabled" => "Single sign-on is not switched on for your organisation. Ask your account manager at the carrier to enable it.",
        "consumer_account" => "Personal Microsoft accounts cannot sign in. Use your work or school account.",
        "user_not_provisioned" => "Your organisation has not given you access to the portal yet. Ask your organisation's portal administrator to invite you.",
        "account_deactivated" => "Your portal account is deactivated. Ask your organisation's portal administrator.",
        "access_denied" => "Sign-in with Microsoft was cancelled or refused. Try again, or ask your IT administrator.",
        "consent_required" => "Your organisation's administrator has not granted the portal access yet. Ask them to connect Microsoft Entra ID from the portal's Single sign-on page.",
        "idp_error" => "Microsoft Entra ID returned an error. Try again in a moment; if it keeps happening, contact the carrier's support.",
        "idp_unavailable" => "Microsoft Entra ID could not be reached or did not answer in time. Try again in a moment.",
        "invalid_token" => "The sign-in answer from Microsoft could not be verified, so it was refused. Try again; if it keeps happening, contact the carrier's support.",
        "expired" => "The sign-in took too long or was already used. Start again.",
        "state_mismatch" => "This sign-in was not started from this browser, so it was refused. Start again from the portal.",
        "tenant_mismatch" => "The administrator who signed in belongs to a different tenant than the one that granted consent, so nothing was linked. Sign in with an administrator of the tenant you are connecting.",
        "tenant_taken" => "That Microsoft Entra ID tenant is already connected to another customer. Contact the carrier's support.",
        "invalid_tenant" => "That is not a Microsoft Entra ID organisation tenant.",
        "identity_taken" => "That Microsoft account is already linked to another portal user.",
        "wrong_tenant" => "That Microsoft account belongs to a tenant that is not connected to your organisation.",
        "sso_mfa_required" => "Your organisation asks the portal to accept a Microsoft sign-in only when it used multi-factor authentication, and this one did not. Sign in again with your second factor. If Microsoft did not ask for one, your IT administrator must require multi-factor authentication for the portal in Entra ID Conditional Access (or set up an authenticator app for your portal account, if your organisation allows that).",
        "sso_required" => "Your organisation signs in with Microsoft. Use \"Sign in with Microsoft\".",
        "not_configured" => "Sign-in with Microsoft is not configured on this portal. Contact the carrier's support.",
        "forbidden" => "Only an administrator of your organisation can do that.",
        "guest_account" => "The administrator who signed in is a guest in that tenant, not one of its own members, so nothing was linked. Sign in with a member of the tenant you are connecting.",
        "tenant_pending" => "Your organisation's Microsoft Entra ID tenant is connected but waits for the carrier's approval. Your account manager at the carrier approves it; try again after that.",
        "rate_limited" => "There were too many sign-in attempts from your network. Wait a few minutes and try again.",
        "busy" => "Too many sign-ins with Microsoft are in progress on the portal right now. Try again in a minute.",
        "invitation_invalid" => "This invitation could not be accepted: it was already used, has expired, or was replaced by a newer one. Ask your organisation's administrator for a new invitation.",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flow_error_has_a_message_and_unknown_codes_have_none() {
        for code in [
            "tenant_not_linked",
            "consumer_account",
            "state_mismatch",
            "sso_required",
            "sso_mfa_required",
            "guest_account",
            "tenant_pending",
            "rate_limited",
            "busy",
            "invitation_invalid",
        ] {
            assert!(
                flow_error_message(code).is_some_and(|m| m.ends_with('.')),
                "{code}"
            );
        }
        assert_eq!(flow_error_message("<script>"), None);
    }

    #[test]
    fn a_provider_search_sends_only_what_is_set() {
        assert_eq!(ProviderSearch::default().to_query_string(), "");
        let search = ProviderSearch {
            q: "  Contoso & Co ".to_string(),
            cursor: Some("WyJhIiwiYiJd".to_string()),
            limit: Some(50),
        };
        assert_eq!(
            search.to_query_string(),
            "q=Contoso%20%26%20Co&limit=50&cursor=WyJhIiwiYiJd"
        );
        let blank = ProviderSearch {
            q: "   ".to_string(),
            ..ProviderSearch::default()
        };
        assert_eq!(blank.to_query_string(), "");
    }
}
