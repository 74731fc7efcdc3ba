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
}

fn from_row(row: &AnyRow) -> Result<Organisation, sqlx::Error> {
    Ok(Organisation {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Inserts an organisation; a duplicate slug is a unique violation.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org: &Organisation,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO organisations (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&org.id)
        .bind(&org.slug)
        .bind(&org.name)
        .bind(org.created_at)
        .execute(db)
        .await?;
    Ok(())
}

/// The organisation with this slug.
pub async fn find_by_slug<'e, E: Executor<'e, Database = Any>>(
    db: E,
    slug: &str,
) -> Result<Option<Organisation>, sqlx::Error> {
    sqlx::query("SELECT id, slug, name, created_at FROM organisations WHERE slug = $1")
        .bind(slug)
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}
