//! Queries of the `services` table (a customer's voice services).

use std::collections::HashMap;

use sqlx::{any::AnyRow, Any, Executor, Row};

/// A voice service as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Opaque id (UUID).
    pub id: String,
    /// The owning organisation.
    pub org_id: String,
    /// `sip_trunk`, `teams_direct_routing` or `operator_connect`.
    pub kind: String,
    /// Unique within the organisation; CDRs name the service by it.
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// `provisioning`, `active`, `suspended` or `decommissioned`.
    pub status: String,
    /// Concurrent calls allowed.
    pub channel_limit: i64,
    /// Creation time, UTC ms.
    pub created_at: i64,
}

const COLUMNS: &str = "id, org_id, kind, name, country, status, channel_limit, created_at";

fn from_row(row: &AnyRow) -> Result<Service, sqlx::Error> {
    Ok(Service {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        kind: row.try_get("kind")?,
        name: row.try_get("name")?,
        country: row.try_get("country")?,
        status: row.try_get("status")?,
        channel_limit: row.try_get("channel_limit")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Inserts a service; a name already used in the organisation is a unique violation.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    s: &Service,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO services (id, org_id, kind, name, country, status, channel_limit, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(&s.id)
    .bind(&s.org_id)
    .bind(&s.kind)
    .bind(&s.name)
    .bind(&s.country)
    .bind(&s.status)
    .bind(s.channel_limit)
    .bind(s.created_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The organisation's services, by name.
pub async fn list_for_org<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
) -> Result<Vec<Service>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM services WHERE org_id = $1 ORDER BY name"
    ))
    .bind(org_id)
    .fetch_all(db)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// The names of the organisation's services, by id.
pub async fn names_by_id<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
) -> Result<HashMap<String, String>, sqlx::Error> {
    sqlx::query("SELECT id, name FROM services WHERE org_id = $1")
        .bind(org_id)
        .fetch_all(db)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// A service's name and channel limit, for the analytics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLimit {
    /// The service's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Concurrent calls allowed.
    pub channel_limit: i64,
}

/// The organisation's services (only the service `only` when given) with their channel limits,
/// by name.
pub async fn channel_limits<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    only: Option<&str>,
) -> Result<Vec<ServiceLimit>, sqlx::Error> {
    let mut sql = String::from(
        "SELECT id, name, CAST(channel_limit AS BIGINT) AS channel_limit FROM services \
         WHERE org_id = $1",
    );
    if only.is_some() {
        sql.push_str(" AND id = $2");
    }
    sql.push_str(" ORDER BY name, id");
    let mut query = sqlx::query(&sql).bind(org_id);
    if let Some(id) = only {
        query = query.bind(id);
    }
    query
        .fetch_all(db)
        .await?
        .iter()
        .map(|row| {
            Ok(ServiceLimit {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                channel_limit: row.try_get("channel_limit")?,
            })
        })
        .collect()
}
