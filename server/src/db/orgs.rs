//! Queries of the `organisations` table.

use sqlx::{any::AnyRow, Any, Executor, Row};

/// A customer organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// Opaque id (UUID).
    pub id: String,
    /// Short identifier used in URLs and commands.
    pub slug: String,
    /// The customer's name.
    pub name: String,
    /// Creation time, UTC ms.
    pub created_at: i64,
    /// Password sign-ins must use an authenticator app.
    pub mfa_required: bool,
}

const COLUMNS: &str = "id, slug, name, created_at, mfa_required";

fn from_row(row: &AnyRow) -> Result<Organisation, sqlx::Error> {
    Ok(Organisation {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        mfa_required: super::flag(row, "mfa_required")?,
    })
}

/// Inserts an organisation; a duplicate slug is a unique violation.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org: &Organisation,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO organisations (id, slug, name, created_at, mfa_required) VALUES ($1, $2, $3, $4, $5)")
        .bind(&org.id)
        .bind(&org.slug)
        .bind(&org.name)
        .bind(org.created_at)
        .bind(org.mfa_required)
        .execute(db)
        .await?;
    Ok(())
}

/// The organisation with this slug.
pub async fn find_by_slug<'e, E: Executor<'e, Database = Any>>(
    db: E,
    slug: &str,
) -> Result<Option<Organisation>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM organisations WHERE slug = $1"
    ))
    .bind(slug)
    .fetch_optional(db)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// The organisation with this id.
pub async fn find_by_id<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
) -> Result<Option<Organisation>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM organisations WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// Sets the "MFA required for password sign-ins" policy; returns whether the row exists.
pub async fn set_mfa_required<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    required: bool,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE organisations SET mfa_required = $1 WHERE id = $2")
        .bind(required)
        .bind(id)
        .execute(db)
        .await?;
    Ok(r.rows_affected() == 1)
}
