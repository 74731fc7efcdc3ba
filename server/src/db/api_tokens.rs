//! Queries of the `api_tokens` table (an organisation's Bearer tokens for scripts).

use sqlx::{any::AnyRow, Any, Executor, Row};

/// A stored API token (the secret itself is never stored, only its SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Opaque id (UUID).
    pub id: String,
    /// The organisation the token acts as.
    pub org_id: String,
    /// What people call it.
    pub name: String,
    /// `read`, `read_write` or `ingest`.
    pub scope: String,
    /// The visible start of the secret, for identification.
    pub prefix: String,
    /// Who made it (a user id), while that user exists.
    pub created_by_user_id: Option<String>,
    /// Who made it: an email, or `cli`.
    pub created_by_label: String,
    /// Creation time, UTC ms.
    pub created_at: i64,
    /// End of validity, UTC ms.
    pub expires_at: i64,
    /// Last use (coarse), UTC ms.
    pub last_used_at: Option<i64>,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
    /// Who revoked it.
    pub revoked_by_label: Option<String>,
}

const COLUMNS: &str = "id, org_id, name, scope, prefix, created_by_user_id, created_by_label, \
    created_at, expires_at, last_used_at, revoked_at, revoked_by_label";

fn from_row(row: &AnyRow) -> Result<ApiToken, sqlx::Error> {
    Ok(ApiToken {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        name: row.try_get("name")?,
        scope: row.try_get("scope")?,
        prefix: row.try_get("prefix")?,
        created_by_user_id: row.try_get("created_by_user_id")?,
        created_by_label: row.try_get("created_by_label")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
        revoked_by_label: row.try_get("revoked_by_label")?,
    })
}

/// Stores a new token under the hash of its secret.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token: &ApiToken,
    token_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_tokens (id, org_id, name, scope, prefix, token_hash, created_by_user_id, created_by_label, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&token.id)
    .bind(&token.org_id)
    .bind(&token.name)
    .bind(&token.scope)
    .bind(&token.prefix)
    .bind(token_hash)
    .bind(&token.created_by_user_id)
    .bind(&token.created_by_label)
    .bind(token.created_at)
    .bind(token.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The token whose secret hashes to `token_hash` (revoked and expired ones included).
pub async fn find_by_hash<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_hash: &str,
) -> Result<Option<ApiToken>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE token_hash = $1"
    ))
    .bind(token_hash)
    .fetch_optional(db)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// The organisation's token with this id; another organisation's is not found.
pub async fn find_in_org<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    id: &str,
) -> Result<Option<ApiToken>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE org_id = $1 AND id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(db)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// The organisation's tokens, newest first.
pub async fn list_for_org<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
) -> Result<Vec<ApiToken>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE org_id = $1 ORDER BY created_at DESC, id"
    ))
    .bind(org_id)
    .fetch_all(db)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Marks a token revoked; false when it already was (or does not exist).
pub async fn revoke<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    now: i64,
    by_label: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1, revoked_by_label = $2 WHERE id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(by_label)
    .bind(id)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Records a use, unless one was recorded after `stale_before` (so reads are not each a write).
pub async fn touch<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    now: i64,
    stale_before: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
    )
    .bind(now)
    .bind(id)
    .bind(stale_before)
    .execute(db)
    .await?;
    Ok(())
}
