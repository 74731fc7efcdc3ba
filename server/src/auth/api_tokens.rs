//! Managing an organisation's API tokens: making one (its secret is returned once) and
//! revoking one, each written with its audit entry in one transaction. The secrets' format
//! and the checking of a request's token are in `api_token`.

use serde_json::json;

use app::api::tokens::TokenScope;

use crate::{
    audit::Acting,
    clock::rfc3339_ms,
    db::{self, api_tokens::ApiToken, Db},
};

use super::api_token::new_secret;

/// Why a change to an API token was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApiTokenError {
    /// The organisation has no token with this id.
    #[error("the organisation has no API token with this id")]
    NotFound,
    /// Anything the caller cannot fix.
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ApiTokenError {
    fn from(e: sqlx::Error) -> Self {
        ApiTokenError::Internal(e.into())
    }
}

impl ApiTokenError {
    /// The stable code the API answers with.
    pub fn code(&self) -> &'static str {
        match self {
            ApiTokenError::NotFound => "not_found",
            ApiTokenError::Internal(_) => "internal",
        }
    }
}

/// A token to make, already checked (a name of 1–100 characters, 1 to `MAX_TOKEN_DAYS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// What people call it (trimmed).
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// Validity in days.
    pub expires_in_days: u32,
}

/// A token just made, with its secret (shown this once, never stored).
#[derive(Debug, Clone)]
pub struct Created {
    /// The token as stored.
    pub token: ApiToken,
    /// The secret to give to the person who made it.
    pub secret: String,
}

/// Makes a token for the organisation acted for, created by who acts, audited as
/// `api_token.created` (never with the secret).
pub async fn create(
    db: &Db,
    acting: &Acting,
    now: i64,
    new: NewToken,
) -> Result<Created, ApiTokenError> {
    let (secret, prefix, hash) = new_secret();
    let token = ApiToken {
        id: uuid::Uuid::new_v4().to_string(),
        org_id: acting.org_id.clone(),
        name: new.name,
        scope: new.scope.as_str().to_string(),
        prefix,
        created_by_user_id: acting.user_id.clone(),
        created_by_label: acting.label.clone(),
        created_at: now,
        expires_at: now + i64::from(new.expires_in_days) * 86_400_000,
        last_used_at: None,
        revoked_at: None,
        revoked_by_label: None,
    };
    let mut tx = db.begin_write().await?;
    db::api_tokens::insert(&mut *tx, &token, &hash).await?;
    acting
        .record(
            &mut *tx,
            now,
            "api_token.created",
            Some(&token.id),
            json!({
                "before": null,
                "after": {
                    "name": token.name,
                    "scope": token.scope,
                    "prefix": token.prefix,
                    "expires_at": rfc3339_ms(token.expires_at),
                },
            }),
        )
        .await?;
    tx.commit().await?;
    Ok(Created { token, secret })
}

/// Revokes `token`, one of the organisation's (found by the caller), labelled with who acts;
/// audited as `api_token.revoked` when it was not revoked yet (revoking again changes
/// nothing). Returns the token as now stored.
pub async fn revoke(
    db: &Db,
    acting: &Acting,
    now: i64,
    token: &ApiToken,
) -> Result<ApiToken, ApiTokenError> {
    let mut tx = db.begin_write().await?;
    if db::api_tokens::revoke(&mut *tx, &token.id, now, &acting.label).await? {
        acting
            .record(
                &mut *tx,
                now,
                "api_token.revoked",
                Some(&token.id),
                json!({
                    "before": {"name": token.name, "prefix": token.prefix, "revoked": false},
                    "after": {"revoked": true, "revoked_at": rfc3339_ms(now)},
                }),
            )
            .await?;
    }
    tx.commit().await?;
    db::api_tokens::find_in_org(db.pool(), &acting.org_id, &token.id)
        .await?
        .ok_or(ApiTokenError::NotFound)
}
