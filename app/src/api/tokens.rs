//! `/api/v1/api-tokens`: an organisation's API tokens for scripts and machines.
//!
//! A token is sent as `Authorization: Bearer vcp_…` (never as a cookie) and acts as its
//! organisation: `read` with a viewer's rights, `read_write` with an engineer's, `ingest`
//! only to push call records (`POST /api/v1/ingest/…`). Tokens never manage users or tokens.
//! The secret is shown once, in the answer to its creation; the portal keeps only its hash.

use serde::{Deserialize, Serialize};

use super::{client, ApiError};

/// Longest validity a token may be given, in days.
pub const MAX_TOKEN_DAYS: u32 = 365;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// Read the organisation's data (a viewer's rights).
    Read,
    /// Read and change it (an engineer's rights).
    ReadWrite,
    /// A machine that only pushes call records; it reads nothing.
    Ingest,
}

impl TokenScope {
    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::ReadWrite => "read_write",
            TokenScope::Ingest => "ingest",
        }
    }

    /// The scope with this wire name.
    pub fn parse(s: &str) -> Option<TokenScope> {
        match s {
            "read" => Some(TokenScope::Read),
            "read_write" => Some(TokenScope::ReadWrite),
            "ingest" => Some(TokenScope::Ingest),
            _ => None,
        }
    }
}

/// Whether a token can still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    /// Usable.
    Active,
    /// Past its expiry.
    Expired,
    /// Revoked by someone.
    Revoked,
}

/// A token as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiTokenInfo {
    /// Opaque id (for revoking).
    pub id: String,
    /// What people call it.
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// The visible start of the secret (`vcp_` and 8 characters), to tell tokens apart.
    pub prefix: String,
    /// Who created it: an email, or `cli`.
    pub created_by: String,
    /// When (RFC 3339, UTC).
    pub created_at: String,
    /// When it stops working (RFC 3339, UTC).
    pub expires_at: String,
    /// Last use, to the minute (RFC 3339, UTC); `None` if never used.
    pub last_used_at: Option<String>,
    /// When it was revoked.
    pub revoked_at: Option<String>,
    /// Active, expired or revoked.
    pub status: TokenStatus,
}

/// `GET /api/v1/api-tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiTokensResponse {
    /// Newest first, revoked and expired ones included.
    pub tokens: Vec<ApiTokenInfo>,
}

/// `POST /api/v1/api-tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateApiTokenRequest {
    /// 1–100 characters.
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// Validity in days, 1 to [`MAX_TOKEN_DAYS`]; required.
    pub expires_in_days: u32,
}

/// The created token with its secret: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateApiTokenResponse {
    /// The token as it will be listed.
    pub token: ApiTokenInfo,
    /// The secret to send as `Authorization: Bearer …`. Shown once.
    pub secret: String,
}

/// The path of [`list_tokens`].
pub const LIST_PATH: &str = "/api-tokens";

/// The organisation's tokens.
pub async fn list_tokens() -> Result<ApiTokensResponse, ApiError> {
    client::get(LIST_PATH).await
}

/// Creates a token; the answer holds its secret, shown once.
pub async fn create_token(
    name: String,
    scope: TokenScope,
    expires_in_days: u32,
) -> Result<CreateApiTokenResponse, ApiError> {
    client::send_json(
        gloo_net::http::Method::POST,
        "/api-tokens",
        &CreateApiTokenRequest {
            name,
            scope,
            expires_in_days,
        },
    )
    .await
}

/// Revokes a token at once; answers it as it is now.
pub async fn revoke_token(id: String) -> Result<ApiTokenInfo, ApiError> {
    client::send_json(
        gloo_net::http::Method::DELETE,
        &format!("/api-tokens/{id}"),
        &serde_json::json!({}),
    )
    .await
}
