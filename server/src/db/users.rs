//! Queries of the `users` table (customer users and carrier staff).

use sqlx::{any::AnyRow, Any, Executor, Row};

use super::flag;

/// A person who can use the portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Opaque id (UUID).
    pub id: String,
    /// The customer the user belongs to; `None` for staff.
    pub org_id: Option<String>,
    /// Display address.
    pub email: String,
    /// Lower-cased sign-in address, unique across the portal.
    pub login_email: Option<String>,
    /// Display name.
    pub name: String,
    /// `admin`, `engineer` or `viewer`; `None` for staff.
    pub role: Option<String>,
    /// Carrier staff.
    pub is_staff: bool,
    /// Argon2id PHC string, when the user has a password.
    pub password_hash: Option<String>,
    /// Creation time, UTC ms.
    pub created_at: i64,
    /// When the user was deactivated.
    pub deactivated_at: Option<i64>,
}

const COLUMNS: &str = "id, org_id, email, login_email, name, role, is_staff, password_hash, created_at, deactivated_at";

/// The user columns prefixed `u_`, for joins (`users u`).
pub const COLUMNS_U: &str = "u.id AS u_id, u.org_id AS u_org_id, u.email AS u_email, u.login_email AS u_login_email, \
    u.name AS u_name, u.role AS u_role, u.is_staff AS u_is_staff, u.password_hash AS u_password_hash, \
    u.created_at AS u_created_at, u.deactivated_at AS u_deactivated_at";

/// Reads a user from columns selected with [`COLUMNS_U`].
pub fn from_row_u(row: &AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get("u_id")?,
        org_id: row.try_get("u_org_id")?,
        email: row.try_get("u_email")?,
        login_email: row.try_get("u_login_email")?,
        name: row.try_get("u_name")?,
        role: row.try_get("u_role")?,
        is_staff: flag(row, "u_is_staff")?,
        password_hash: row.try_get("u_password_hash")?,
        created_at: row.try_get("u_created_at")?,
        deactivated_at: row.try_get("u_deactivated_at")?,
    })
}

fn from_row(row: &AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        email: row.try_get("email")?,
        login_email: row.try_get("login_email")?,
        name: row.try_get("name")?,
        role: row.try_get("role")?,
        is_staff: flag(row, "is_staff")?,
        password_hash: row.try_get("password_hash")?,
        created_at: row.try_get("created_at")?,
        deactivated_at: row.try_get("deactivated_at")?,
    })
}

/// Inserts a user; a taken `login_email` is a unique violation.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user: &User,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (id, org_id, email, login_email, name, role, is_staff, password_hash, created_at, deactivated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&user.id)
    .bind(&user.org_id)
    .bind(&user.email)
    .bind(&user.login_email)
    .bind(&user.name)
    .bind(&user.role)
    .bind(user.is_staff)
    .bind(&user.password_hash)
    .bind(user.created_at)
    .bind(user.deactivated_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The user who signs in with this (already lower-cased) address.
pub async fn find_by_login_email<'e, E: Executor<'e, Database = Any>>(
    db: E,
    login_email: &str,
) -> Result<Option<User>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM users WHERE login_email = $1"
    ))
    .bind(login_email)
    .fetch_optional(db)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// The user with this id.
pub async fn find_by_id<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
) -> Result<Option<User>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Sets (or replaces) a user's password hash.
pub async fn set_password_hash<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Deletes every session of a user (after a password reset); returns how many.
pub async fn end_all_sessions<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(r.rows_affected())
}

/// Deletes a user (their sessions, links and identities go with them).
pub async fn delete<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}
