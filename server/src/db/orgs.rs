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
    /// Carrier staff turned single sign-on on for this customer.
    pub sso_enabled: bool,
    /// Unknown users of a linked tenant are provisioned at their first sign-in.
    pub sso_jit: bool,
    /// The role such users get.
    pub sso_default_role: String,
    /// Password sign-in is off for the customer's users.
    pub sso_required: bool,
}

impl Organisation {
    /// A new organisation with the default settings (no MFA policy, SSO off).
    pub fn new(id: String, slug: String, name: String, created_at: i64) -> Organisation {
        Organisation {
            id,
            slug,
            name,
            created_at,
            mfa_required: false,
            sso_enabled: false,
            sso_jit: true,
            sso_default_role: "viewer".to_string(),
            sso_required: false,
        }
    }
}

const COLUMNS: &str =
    "id, slug, name, created_at, mfa_required, sso_enabled, sso_jit, sso_default_role, sso_required";

fn from_row(row: &AnyRow) -> Result<Organisation, sqlx::Error> {
    Ok(Organisation {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        mfa_required: super::flag(row, "mfa_required")?,
        sso_enabled: super::flag(row, "sso_enabled")?,
        sso_jit: super::flag(row, "sso_jit")?,
        sso_default_role: row.try_get("sso_default_role")?,
        sso_required: super::flag(row, "sso_required")?,
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

/// Every organisation, by name.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    db: E,
) -> Result<Vec<Organisation>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM organisations ORDER BY name, slug"
    ))
    .fetch_all(db)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Turns single sign-on on or off (carrier staff).
pub async fn set_sso_enabled<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    enabled: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE organisations SET sso_enabled = $1 WHERE id = $2")
        .bind(enabled)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Sets the customer's own SSO choices.
pub async fn set_sso_settings<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    jit: bool,
    default_role: &str,
    required: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE organisations SET sso_jit = $1, sso_default_role = $2, sso_required = $3 WHERE id = $4",
    )
    .bind(jit)
    .bind(default_role)
    .bind(required)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// How many users each organisation has, by organisation id.
pub async fn user_counts<'e, E: Executor<'e, Database = Any>>(
    db: E,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query("SELECT org_id, COUNT(*) AS n FROM users WHERE org_id IS NOT NULL GROUP BY org_id")
        .fetch_all(db)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("org_id")?, r.try_get("n")?)))
        .collect()
}
