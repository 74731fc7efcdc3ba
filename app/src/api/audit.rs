//! `GET /api/v1/audit`: the audit log, newest first, for organisation admins and staff.

use serde::{Deserialize, Serialize};

use super::{client, ApiError};

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Increasing id (also the pagination cursor).
    pub id: i64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The acting user's id, when a user acted.
    pub actor_id: Option<String>,
    /// Who acted: an email, `cli`, or `anonymous`.
    pub actor: String,
    /// The organisation concerned.
    pub organisation_id: Option<String>,
    /// Stable action name, e.g. `auth.login_failed`.
    pub action: String,
    /// What was acted on.
    pub target: Option<String>,
    /// Client IP.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Before/after values, reasons.
    pub details: serde_json::Value,
}

/// A page of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditPage {
    /// Newest first.
    pub entries: Vec<AuditEntry>,
    /// Pass as `cursor` for the next (older) page; `None` at the end.
    pub next_cursor: Option<i64>,
}

/// `PUT /api/v1/organisation/mfa-policy`: what is left out stays as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MfaPolicyRequest {
    /// Whether password sign-ins of the organisation's users need a second factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// The second factors that count: `totp` (an authenticator app), `email` (codes by
    /// e-mail); at least one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
}

/// `GET /api/v1/organisation/mfa-policy`: the organisation's second-factor policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MfaPolicy {
    /// Whether password sign-ins need a second factor.
    pub required: bool,
    /// The second factors that count (`totp`, `email`).
    pub methods: Vec<String>,
}

/// The path of the organisation's second-factor policy.
pub const MFA_POLICY_PATH: &str = "/organisation/mfa-policy";

/// The organisation's second-factor policy.
pub async fn get_mfa_policy() -> Result<MfaPolicy, ApiError> {
    client::get(MFA_POLICY_PATH).await
}

/// Changes customer `slug`'s second-factor policy (carrier staff; needs a fresh step-up).
pub async fn set_customer_mfa_policy(
    slug: String,
    change: MfaPolicyRequest,
) -> Result<MfaPolicy, ApiError> {
    client::send_json(
        gloo_net::http::Method::PUT,
        &format!(
            "/provider/organisations/{}/mfa-policy",
            client::percent_encode(&slug)
        ),
        &change,
    )
    .await
}

/// Changes the organisation's second-factor policy (needs a fresh step-up).
pub async fn set_mfa_policy(change: MfaPolicyRequest) -> Result<MfaPolicy, ApiError> {
    client::send_json(gloo_net::http::Method::PUT, MFA_POLICY_PATH, &change).await
}

/// The path of [`list_audit`].
pub fn list_path(query: &str) -> String {
    format!("/audit?{query}")
}

/// A page of the audit log; `query` is the query string without `?` (may be empty).
pub async fn list_audit(query: &str) -> Result<AuditPage, ApiError> {
    client::get(&list_path(query)).await
}
