//! Queries for user management: an organisation's users with their sign-in facts, role
//! changes and deactivation, and the "at least one active admin" rule.

use sqlx::{any::AnyRow, Any, Executor, Row};

/// A user as the organisation's admins see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUser {
    /// Opaque id (UUID).
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// Display address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// `admin`, `engineer` or `viewer`.
    pub role: String,
    /// A confirmed authenticator app.
    pub mfa_enabled: bool,
    /// At least one linked Microsoft Entra identity.
    pub sso_identity: bool,
    /// The sign-in codes are locked after too many wrong codes in a row.
    pub codes_locked: bool,
    /// A break-glass administrator: signs in with password and authenticator app even while
    /// the organisation requires single sign-on.
    pub break_glass: bool,
    /// Creation time, UTC ms.
    pub created_at: i64,
    /// When the user was deactivated.
    pub deactivated_at: Option<i64>,
}

const SELECT: &str = "SELECT u.id, u.org_id, u.email, u.name, u.role, u.created_at, u.deactivated_at, \
    CAST(CASE WHEN EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL) \
    OR EXISTS (SELECT 1 FROM user_email_otp e WHERE e.user_id = u.id) THEN 1 ELSE 0 END AS BIGINT) AS mfa, \
    CAST(CASE WHEN EXISTS (SELECT 1 FROM user_identities i WHERE i.user_id = u.id) THEN 1 ELSE 0 END AS BIGINT) AS sso, \
    CAST(CASE WHEN u.codes_locked_at IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) AS codes_locked, \
    u.break_glass \
    FROM users u";

fn from_row(row: &AnyRow) -> Result<OrgUser, sqlx::Error> {
    Ok(OrgUser {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: row.try_get("role")?,
        created_at: row.try_get("created_at")?,
        deactivated_at: row.try_get("deactivated_at")?,
        mfa_enabled: row.try_get::<i64, _>("mfa")? != 0,
        sso_identity: row.try_get::<i64, _>("sso")? != 0,
        codes_locked: row.try_get::<i64, _>("codes_locked")? != 0,
        break_glass: super::flag(row, "break_glass")?,
    })
}

/// The organisation's users, oldest first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
) -> Result<Vec<OrgUser>, sqlx::Error> {
    sqlx::query(&format!(
        "{SELECT} WHERE u.org_id = $1 ORDER BY u.created_at, u.id"
    ))
    .bind(org_id)
    .fetch_all(db)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// The organisation's user with this id; another organisation's (or staff) is not found.
pub async fn find<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    id: &str,
) -> Result<Option<OrgUser>, sqlx::Error> {
    sqlx::query(&format!("{SELECT} WHERE u.org_id = $1 AND u.id = $2"))
        .bind(org_id)
        .bind(id)
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Serialises changes to the organisation's admins: takes the organisation row's write lock
/// (PostgreSQL) or the database's (SQLite) for the rest of the transaction, so two admins
/// demoting each other at the same moment cannot both succeed and leave no admin.
pub async fn lock_org<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE organisations SET name = name WHERE id = $1")
        .bind(org_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Active (not deactivated) admins of the organisation other than `except_user_id`.
pub async fn other_active_admins<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    except_user_id: &str,
) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM users \
         WHERE org_id = $1 AND id <> $2 AND role = 'admin' AND deactivated_at IS NULL",
    )
    .bind(org_id)
    .bind(except_user_id)
    .fetch_one(db)
    .await?;
    row.try_get("n")
}

/// Break-glass administrators of the organisation other than `except_user_id`.
pub async fn other_break_glass<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    except_user_id: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM users \
         WHERE org_id = $1 AND id <> $2 AND break_glass = TRUE",
    )
    .bind(org_id)
    .bind(except_user_id)
    .fetch_one(db)
    .await?
    .try_get("n")
}

/// Makes a user a break-glass administrator, or no longer one.
pub async fn set_break_glass<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    on: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET break_glass = $1 WHERE id = $2")
        .bind(on)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// The e-mail addresses of the organisation's active admins other than `except_user_id`.
pub async fn other_admin_addresses<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    except_user_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query(
        "SELECT email FROM users WHERE org_id = $1 AND id <> $2 AND role = 'admin' \
         AND deactivated_at IS NULL ORDER BY email",
    )
    .bind(org_id)
    .bind(except_user_id)
    .fetch_all(db)
    .await?
    .iter()
    .map(|r| r.try_get("email"))
    .collect()
}

/// Whether the user is a break-glass administrator.
pub async fn is_break_glass<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
) -> Result<bool, sqlx::Error> {
    match sqlx::query("SELECT break_glass FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await?
    {
        Some(row) => super::flag(&row, "break_glass"),
        None => Ok(false),
    }
}

/// Sets a user's role.
pub async fn set_role<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    role: &str,
) -> Result<(), sqlx::Error> {
    // A break-glass administrator who stops being an admin stops being break-glass.
    sqlx::query(
        "UPDATE users SET role = $1, break_glass = CASE WHEN $1 = 'admin' THEN break_glass ELSE FALSE END WHERE id = $2",
    )
        .bind(role)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Marks a user deactivated; false when they already were.
pub async fn deactivate<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE users SET deactivated_at = $1, break_glass = FALSE WHERE id = $2 AND deactivated_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}
