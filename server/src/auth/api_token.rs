//! API token secrets: the format, how they are stored, and how a request's Bearer token is
//! checked.
//!
//! A secret is `vcp_` followed by 256 random bits in base64url (43 characters). The prefix
//! makes a leaked token recognisable to secret scanners and to people; the database keeps the
//! SHA-256 of the whole secret (a lookup by hash, so no comparison timing to worry about) and
//! its first 12 characters for identification.

use super::AuthContext;
use axum::http::{header, HeaderMap};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64URL, Engine};
use rand::RngCore;

use crate::{
    auth::{AuthError, AuthResult},
    db::{self, api_tokens::ApiToken},
};

/// The start of every secret.
pub const TOKEN_PREFIX: &str = "vcp_";
/// How many characters of the secret are kept visible (`vcp_` and 8 more).
pub const VISIBLE_CHARS: usize = TOKEN_PREFIX.len() + 8;
/// Last-used times are written at most this often per token.
pub const TOUCH_EVERY_MS: i64 = 60_000;

/// A fresh secret, its visible prefix and its stored hash.
pub fn new_secret() -> (String, String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{TOKEN_PREFIX}{}", B64URL.encode(bytes));
    let prefix = secret[..VISIBLE_CHARS].to_string();
    let hash = super::session::hash_token(&secret);
    (secret, prefix, hash)
}

/// The Bearer credential of the request: `None` without an `Authorization` header,
/// `Some(Err)` when the header is there but is not a Bearer token.
pub fn bearer(headers: &HeaderMap) -> Option<AuthResult<&str>> {
    let value = headers.get(header::AUTHORIZATION)?;
    let parsed = value
        .to_str()
        .ok()
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::InvalidToken);
    Some(parsed)
}

/// Finds the active token for a Bearer secret and records its use (coarsely).
pub async fn authenticate(ctx: &AuthContext<'_>, secret: &str) -> AuthResult<ApiToken> {
    // Anything that cannot be one of our secrets is refused without a database round trip.
    if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 128 {
        return Err(AuthError::InvalidToken);
    }
    let hash = super::session::hash_token(secret);
    let token = db::api_tokens::find_by_hash(ctx.db.pool(), &hash)
        .await?
        .ok_or(AuthError::InvalidToken)?;
    if token.revoked_at.is_some() {
        return Err(AuthError::InvalidToken);
    }
    let now = ctx.clock.now_ms();
    if now >= token.expires_at {
        return Err(AuthError::TokenExpired);
    }
    if token
        .last_used_at
        .is_none_or(|at| now - at >= TOUCH_EVERY_MS)
    {
        // The condition is repeated in SQL so concurrent requests write once.
        // A full disk must not stop a script from reading.
        db::unless_full(
            db::api_tokens::touch(ctx.db.pool(), &token.id, now, now - TOUCH_EVERY_MS).await,
            "an API token's last-used time",
        )?;
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn secrets_carry_256_bits_behind_the_prefix() {
        let (secret, prefix, hash) = new_secret();
        assert!(secret.starts_with("vcp_"));
        assert_eq!(B64URL.decode(&secret[4..]).map(|b| b.len()).ok(), Some(32));
        assert_eq!(prefix.len(), 12);
        assert!(secret.starts_with(&prefix));
        assert_eq!(hash, super::super::session::hash_token(&secret));
        assert_ne!(new_secret().0, secret);
    }

    #[test]
    fn only_bearer_credentials_are_read() {
        let mut h = HeaderMap::new();
        assert!(bearer(&h).is_none());
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer vcp_abc"),
        );
        assert_eq!(bearer(&h).and_then(Result::ok), Some("vcp_abc"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer  vcp_abc "),
        );
        assert_eq!(bearer(&h).and_then(Result::ok), Some("vcp_abc"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic dXNlcjpwdw=="),
        );
        assert!(matches!(bearer(&h), Some(Err(_))));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert!(matches!(bearer(&h), Some(Err(_))));
    }
}
