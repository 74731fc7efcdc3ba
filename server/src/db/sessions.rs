//! Queries of the `sessions` table.

use sqlx::{any::AnyRow, Any, Executor, Row};

use super::users::{self, User};

/// A stored session (the cookie value itself is never stored, only its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Opaque id, shown in the sessions list.
    pub id: String,
    /// The user.
    pub user_id: String,
    /// `full`, `mfa_pending` or `mfa_enrolment`.
    pub state: String,
    /// `password`, `password+totp`, `entra` or `entra+totp` (an SSO sign-in without
    /// multi-factor evidence, completed with the portal authenticator).
    pub auth_method: String,
    /// Sign-in time, UTC ms.
    pub created_at: i64,
    /// Last request, UTC ms.
    pub last_seen_at: i64,
    /// Absolute end, UTC ms.
    pub expires_at: i64,
    /// Wrong secrets entered in this session, counting those being checked: codes while it
    /// is pending, re-entered passwords and codes once signed in (see `auth::verification`).
    pub mfa_failures: i64,
    /// Client IP at sign-in.
    pub ip: Option<String>,
    /// Client user agent at sign-in.
    pub user_agent: Option<String>,
    /// The Entra tenant of an SSO sign-in (its sessions end when the tenant is unlinked).
    pub tenant_id: Option<String>,
    /// When the session last proved the user's strongest factor (its sign-in, or a step-up),
    /// UTC ms; `None`: never.
    pub stepped_up_at: Option<i64>,
    /// How: `password`, `totp`, `recovery_code`, or the sign-in method.
    pub stepped_up_via: Option<String>,
}

/// A session to create.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// Opaque id.
    pub id: &'a str,
    /// SHA-256 hex of the cookie value.
    pub token_hash: &'a str,
    /// The user.
    pub user_id: &'a str,
    /// `full`, `mfa_pending` or `mfa_enrolment`.
    pub state: &'a str,
    /// How the user signed in.
    pub auth_method: &'a str,
    /// Now, UTC ms.
    pub now: i64,
    /// Absolute end, UTC ms.
    pub expires_at: i64,
    /// Client IP.
    pub ip: Option<&'a str>,
    /// Client user agent.
    pub user_agent: Option<&'a str>,
    /// The Entra tenant of an SSO session.
    pub tenant_id: Option<&'a str>,
    /// A full session is stepped up by its own sign-in: `Some(now)`; otherwise `None`.
    pub stepped_up_at: Option<i64>,
}

const COLUMNS: &str =
    "s.id AS s_id, s.user_id AS s_user_id, s.state AS s_state, s.auth_method AS s_auth_method, \
    s.created_at AS s_created_at, s.last_seen_at AS s_last_seen_at, s.expires_at AS s_expires_at, \
    s.mfa_failures AS s_mfa_failures, s.ip AS s_ip, s.user_agent AS s_user_agent, \
    s.tenant_id AS s_tenant_id, s.stepped_up_at AS s_stepped_up_at, \
    s.stepped_up_via AS s_stepped_up_via";

fn from_row(row: &AnyRow) -> Result<Session, sqlx::Error> {
    Ok(Session {
        id: row.try_get("s_id")?,
        user_id: row.try_get("s_user_id")?,
        state: row.try_get("s_state")?,
        auth_method: row.try_get("s_auth_method")?,
        created_at: row.try_get("s_created_at")?,
        last_seen_at: row.try_get("s_last_seen_at")?,
        expires_at: row.try_get("s_expires_at")?,
        mfa_failures: row.try_get("s_mfa_failures")?,
        ip: row.try_get("s_ip")?,
        user_agent: row.try_get("s_user_agent")?,
        tenant_id: row.try_get("s_tenant_id")?,
        stepped_up_at: row.try_get("s_stepped_up_at")?,
        stepped_up_via: row.try_get("s_stepped_up_via")?,
    })
}

/// Stores a new session.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    s: &NewSession<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id, token_hash, user_id, state, auth_method, created_at, last_seen_at, expires_at, mfa_failures, ip, user_agent, tenant_id, stepped_up_at, stepped_up_via) \
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, 0, $8, $9, $10, $11, $12)",
    )
    .bind(s.id)
    .bind(s.token_hash)
    .bind(s.user_id)
    .bind(s.state)
    .bind(s.auth_method)
    .bind(s.now)
    .bind(s.expires_at)
    .bind(s.ip)
    .bind(s.user_agent)
    .bind(s.tenant_id)
    .bind(s.stepped_up_at)
    .bind(s.stepped_up_at.map(|_| s.auth_method))
    .execute(db)
    .await?;
    Ok(())
}

/// Records that the full session `id` proved the user's strongest factor at `now` with
/// `via`; returns whether the session (still full) exists.
pub async fn set_stepped_up<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    now: i64,
    via: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE sessions SET stepped_up_at = $1, stepped_up_via = $2 WHERE id = $3 AND state = 'full'",
    )
    .bind(now)
    .bind(via)
    .bind(id)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The session whose cookie hashes to `token_hash`, with its user.
pub async fn find_with_user<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_hash: &str,
) -> Result<Option<(Session, User)>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS}, {} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
        users::COLUMNS_U
    );
    match sqlx::query(&sql)
        .bind(token_hash)
        .fetch_optional(db)
        .await?
    {
        Some(row) => Ok(Some((from_row(&row)?, users::from_row_u(&row)?))),
        None => Ok(None),
    }
}

/// Records activity (callers throttle how often).
pub async fn touch<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Deletes one session; returns whether it existed.
pub async fn delete<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Deletes one of `user_id`'s sessions; returns whether it existed (and was theirs).
pub async fn delete_for_user<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id = $2")
        .bind(user_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Deletes every session of `user_id` except `keep_id`; returns how many.
pub async fn delete_others<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
    keep_id: &str,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
        .bind(user_id)
        .bind(keep_id)
        .execute(db)
        .await?;
    Ok(r.rows_affected())
}

/// `user_id`'s signed-in sessions that have not expired, newest first.
pub async fn list_for_user<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: &str,
    now: i64,
    idle_cutoff: i64,
) -> Result<Vec<Session>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM sessions s WHERE s.user_id = $1 AND s.state = 'full' \
         AND s.expires_at > $2 AND s.last_seen_at > $3 ORDER BY s.created_at DESC, s.id"
    );
    sqlx::query(&sql)
        .bind(user_id)
        .bind(now)
        .bind(idle_cutoff)
        .fetch_all(db)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Reserves one of the `max` wrong secrets a session in `state` may enter, before the secret
/// is checked: one conditional UPDATE, so concurrent requests cannot together take more than
/// `max`. Returns the session's count including this attempt, or `None` when the session is
/// gone, in another state, or has used its allowance.
pub async fn reserve_attempt<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    state: &str,
    max: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query(
        "UPDATE sessions SET mfa_failures = mfa_failures + 1 \
         WHERE id = $1 AND state = $2 AND mfa_failures < $3 RETURNING mfa_failures",
    )
    .bind(id)
    .bind(state)
    .bind(max)
    .fetch_optional(db)
    .await?
    .map(|r| r.try_get("mfa_failures"))
    .transpose()
}

/// Gives back an attempt reserved with [`reserve_attempt`] (the secret was right, or was not
/// checked).
pub async fn release_attempt<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sessions SET mfa_failures = mfa_failures - 1 WHERE id = $1 AND mfa_failures > 0",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes session `id` only while it is in `state`; returns whether it did. A step up
/// replaces its session with this, so two requests cannot both step up from one session.
pub async fn delete_in_state<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    state: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM sessions WHERE id = $1 AND state = $2")
        .bind(id)
        .bind(state)
        .execute(db)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Removes sessions past their absolute end or idle since before `idle_cutoff` (housekeeping;
/// such sessions are refused anyway, this only keeps the table small).
pub async fn delete_expired<'e, E: Executor<'e, Database = Any>>(
    db: E,
    now: i64,
    idle_cutoff: i64,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "DELETE FROM sessions WHERE expires_at <= $1 OR (state <> 'mfa_pending' AND last_seen_at <= $2)",
    )
    .bind(now)
    .bind(idle_cutoff)
    .execute(db)
    .await?;
    Ok(r.rows_affected())
}

/// Ends every session that signed in through `tenant_id`; returns how many.
pub async fn delete_for_tenant<'e, E: Executor<'e, Database = Any>>(
    db: E,
    tenant_id: &str,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM sessions WHERE tenant_id = $1")
        .bind(tenant_id)
        .execute(db)
        .await?;
    Ok(r.rows_affected())
}

/// Ends every SSO session of an organisation's users; returns how many.
pub async fn delete_sso_for_org<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "DELETE FROM sessions WHERE tenant_id IS NOT NULL \
         AND user_id IN (SELECT id FROM users WHERE org_id = $1)",
    )
    .bind(org_id)
    .execute(db)
    .await?;
    Ok(r.rows_affected())
}
