//! `/api/v1/users`: the organisation's users, their roles and deactivation (admins), and
//! invitations (`POST /api/v1/users/invitations`, see [`super::auth::InvitationRequest`]).

use serde::{Deserialize, Serialize};

use super::{
    auth::{InvitationRequest, InvitationResponse},
    client, ApiError,
};

/// One of the organisation's users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrgUserInfo {
    /// Opaque id.
    pub id: String,
    /// Email address.
    pub email: String,
    /// Display name (may be empty).
    pub name: String,
    /// `admin`, `engineer` or `viewer`.
    pub role: String,
    /// An authenticator app is set up.
    pub mfa_enabled: bool,
    /// A Microsoft Entra identity is linked (single sign-on).
    pub sso_identity: bool,
    /// After too many wrong codes in a row the user's sign-in codes are locked: they unlock
    /// with a password reset, or an administrator unlocks them
    /// (`POST /api/v1/users/{id}/unlock-codes`).
    #[serde(default)]
    pub codes_locked: bool,
    /// A break-glass administrator: signs in with password and authenticator app even while
    /// the organisation requires single sign-on (every use is audited and mailed to the other
    /// administrators).
    #[serde(default)]
    pub break_glass: bool,
    /// The user can no longer sign in.
    pub deactivated: bool,
    /// When they were deactivated (RFC 3339, UTC).
    pub deactivated_at: Option<String>,
    /// When the account was made (RFC 3339, UTC).
    pub created_at: String,
}

/// `GET /api/v1/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UsersResponse {
    /// Oldest first.
    pub users: Vec<OrgUserInfo>,
}

/// `PATCH /api/v1/users/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UpdateUserRequest {
    /// The new role: `admin`, `engineer` or `viewer`.
    pub role: String,
}

/// `PUT /api/v1/users/{id}/break-glass`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BreakGlassRequest {
    /// Whether the user is a break-glass administrator.
    pub enabled: bool,
}

/// Makes a user a break-glass administrator, or no longer one (admins).
pub async fn set_break_glass(id: String, enabled: bool) -> Result<OrgUserInfo, ApiError> {
    client::send_json(
        gloo_net::http::Method::PUT,
        &format!("/users/{id}/break-glass"),
        &BreakGlassRequest { enabled },
    )
    .await
}

/// The path of [`list_users`].
pub const LIST_PATH: &str = "/users";

/// The organisation's users.
pub async fn list_users() -> Result<UsersResponse, ApiError> {
    client::get(LIST_PATH).await
}

/// Changes a user's role (admins).
pub async fn change_role(id: String, role: String) -> Result<OrgUserInfo, ApiError> {
    client::send_json(
        gloo_net::http::Method::PATCH,
        &format!("/users/{id}"),
        &UpdateUserRequest { role },
    )
    .await
}

/// Deactivates a user and ends their sessions (admins).
pub async fn deactivate_user(id: String) -> Result<OrgUserInfo, ApiError> {
    client::send_json(
        gloo_net::http::Method::POST,
        &format!("/users/{id}/deactivate"),
        &serde_json::json!({}),
    )
    .await
}

/// Unlocks a user's sign-in codes, locked after too many wrong codes in a row (admins).
pub async fn unlock_codes(id: String) -> Result<OrgUserInfo, ApiError> {
    client::send_json(
        gloo_net::http::Method::POST,
        &format!("/users/{id}/unlock-codes"),
        &serde_json::json!({}),
    )
    .await
}

/// Invites someone by email with a role (admins).
pub async fn invite_user(email: String, role: String) -> Result<InvitationResponse, ApiError> {
    client::send_json(
        gloo_net::http::Method::POST,
        "/users/invitations",
        &InvitationRequest { email, role },
    )
    .await
}
