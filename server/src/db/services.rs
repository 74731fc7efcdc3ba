//! Queries of the `services` table (a customer's voice services), with their latest health
//! check and the service page's read of its hourly rollup.

use std::collections::HashMap;

use sqlx::{any::AnyRow, Any, Executor, Row};

use super::health_checks::{self, HealthCheck};

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

/// Whether the organisation has the service with this id (a number may only be routed over
/// its own organisation's services).
pub async fn org_has_service<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    service_id: &str,
) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("SELECT id FROM services WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(service_id)
            .fetch_optional(db)
            .await?
            .is_some(),
    )
}

/// Records the customer's SBC a service sends calls to: its name, port and transport.
pub async fn set_sbc<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    fqdn: &str,
    port: i64,
    transport: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE services SET sbc_fqdn = $1, sbc_port = $2, sbc_transport = $3 WHERE id = $4",
    )
    .bind(fqdn)
    .bind(port)
    .bind(transport)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Records the service's latest health as `check` found it.
pub async fn set_health<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    check: &HealthCheck,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE services SET health = $1, health_checked_at = $2, health_latency_ms = $3 \
         WHERE id = $4",
    )
    .bind(&check.health)
    .bind(check.checked_at)
    .bind(check.latency_ms)
    .bind(id)
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

/// A service with its latest health check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceWithHealth {
    /// The service.
    pub service: Service,
    /// Its latest health check; `None` before the first one.
    pub health: Option<HealthCheck>,
}

/// The services with their latest health check (if any), as one query on both engines.
const WITH_HEALTH: &str = "SELECT s.id, s.org_id, s.name, s.kind, s.country, s.status, \
     s.channel_limit, s.created_at, h.health, h.checked_at, h.latency_ms, h.detail \
     FROM services s \
     LEFT JOIN service_health_checks h ON h.service_id = s.id AND h.checked_at = \
     (SELECT MAX(c.checked_at) FROM service_health_checks c WHERE c.service_id = s.id) \
     WHERE s.org_id = $1";

fn with_health_from_row(row: &AnyRow) -> Result<ServiceWithHealth, sqlx::Error> {
    // The check's other columns are read only when there is a check (the join found one).
    let health = match row.try_get::<Option<String>, _>("health")? {
        Some(_) => Some(health_checks::from_row(row)?),
        None => None,
    };
    Ok(ServiceWithHealth {
        service: from_row(row)?,
        health,
    })
}

/// The organisation's services with their latest health check, by name.
pub async fn list_with_health<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
) -> Result<Vec<ServiceWithHealth>, sqlx::Error> {
    sqlx::query(&format!("{WITH_HEALTH} ORDER BY s.name"))
        .bind(org_id)
        .fetch_all(db)
        .await?
        .iter()
        .map(with_health_from_row)
        .collect()
}

/// The organisation's service with this id and its latest health check; another
/// organisation's is not found.
pub async fn find_with_health<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    id: &str,
) -> Result<Option<ServiceWithHealth>, sqlx::Error> {
    sqlx::query(&format!("{WITH_HEALTH} AND s.id = $2"))
        .bind(org_id)
        .bind(id)
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(with_health_from_row)
        .transpose()
}

/// One UTC hour of a service's rollup (`call_hourly_by_service`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceHour {
    /// Start of the hour, UTC ms.
    pub hour_at: i64,
    /// Calls started in the hour.
    pub calls: i64,
    /// The most calls in progress at one instant of the hour.
    pub peak_channels: i64,
}

/// The service's rollup hours in `[from, to)`, oldest first (only hours with calls have a
/// row), read through the primary key. The rollup is written by `db::calls`; this is the
/// service page's read of it.
pub async fn hours<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    service_id: &str,
    from: i64,
    to: i64,
) -> Result<Vec<ServiceHour>, sqlx::Error> {
    sqlx::query(
        "SELECT hour_at, calls, peak_channels FROM call_hourly_by_service \
         WHERE org_id = $1 AND service_id = $2 AND hour_at >= $3 AND hour_at < $4 \
         ORDER BY hour_at",
    )
    .bind(org_id)
    .bind(service_id)
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await?
    .iter()
    .map(|row| {
        Ok(ServiceHour {
            hour_at: row.try_get("hour_at")?,
            calls: row.try_get("calls")?,
            peak_channels: row.try_get("peak_channels")?,
        })
    })
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
