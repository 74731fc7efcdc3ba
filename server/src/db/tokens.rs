//! Queries of `user_tokens`: single-use emailed links (invitations, password resets).

use sqlx::{Any, Executor, Row};

/// An unused, unexpired link's user and expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkTarget {
    /// The user the link is for.
    pub user_id: String,
    /// When it expires, UTC ms.
    pub expires_at: i64,
}

/// Stores a link; earlier unused links of the same purpose for the user stop working.
pub async fn insert(
    tx: &mut sqlx::Transaction<'_, Any>,
    token_hash: &str,
    user_id: &str,
    purpose: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE user_tokens SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL")
        .bind(now)
        .bind(user_id)
        .bind(purpose)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO user_tokens (id, token_hash, user_id, purpose, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, NULL)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(token_hash)
    .bind(user_id)
    .bind(purpose)
    .bind(now)
    .bind(expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The link's target if it is unused and unexpired (does not use it).
pub async fn peek<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_hash: &str,
    purpose: &str,
    now: i64,
) -> Result<Option<LinkTarget>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT user_id, expires_at FROM user_tokens WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(token_hash)
    .bind(purpose)
    .bind(now)
    .fetch_optional(db)
    .await?;
    row.map(|r| {
        Ok(LinkTarget {
            user_id: r.try_get("user_id")?,
            expires_at: r.try_get("expires_at")?,
        })
    })
    .transpose()
}

/// Uses the link, atomically: the user id for exactly one caller, `None` for any other or
/// for an unknown, used or expired link.
pub async fn consume<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_hash: &str,
    purpose: &str,
    now: i64,
) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query(
        "UPDATE user_tokens SET used_at = $1 WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 RETURNING user_id",
    )
    .bind(now)
    .bind(token_hash)
    .bind(purpose)
    .fetch_optional(db)
    .await?;
    row.map(|r| r.try_get("user_id")).transpose()
}

/// Deletes links that expired before `before` (housekeeping).
pub async fn delete_expired<'e, E: Executor<'e, Database = Any>>(
    db: E,
    before: i64,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM user_tokens WHERE expires_at < $1")
        .bind(before)
        .execute(db)
        .await?;
    Ok(r.rows_affected())
}

/// Uses every pending invitation of `user_id` (an SSO sign-in accepted it); returns whether
/// there was one.
pub async fn consume_pending_invitation<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE user_tokens SET used_at = $1 WHERE user_id = $2 AND purpose = 'invite' AND used_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(r.rows_affected() > 0)
}
