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

/// `PUT /api/v1/organisation/mfa-policy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MfaPolicyRequest {
    /// Whether password sign-ins of the organisation's users need an authenticator app.
    pub required: bool,
}

/// The path of [`list_audit`].
pub fn list_path(query: &str) -> String {
    format!("/audit?{query}")
}

/// A page of the audit log; `query` is the query string without `?` (may be empty).
pub async fn list_audit(query: &str) -> Result<AuditPage, ApiError> {
    client::get(&list_path(query)).await
}
