//! Queries of the `service_health_checks` table: the probes' results per service.

use sqlx::{any::AnyRow, Any, Executor, Row};

/// One health check of a service as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    /// `up`, `degraded` or `down`.
    pub health: String,
    /// When the probe ran, UTC ms.
    pub checked_at: i64,
    /// Round-trip time of the probe; `None` when it got no answer.
    pub latency_ms: Option<i64>,
    /// What the probe saw (may be empty).
    pub detail: String,
}

/// Reads a check from the columns `health`, `checked_at`, `latency_ms` and `detail` (also
/// the services' join with their latest check, in `db::services`).
pub(super) fn from_row(row: &AnyRow) -> Result<HealthCheck, sqlx::Error> {
    Ok(HealthCheck {
        health: row.try_get("health")?,
        checked_at: row.try_get("checked_at")?,
        latency_ms: row.try_get("latency_ms")?,
        detail: row.try_get("detail")?,
    })
}

/// Stores a check of the service `service_id`.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    service_id: &str,
    check: &HealthCheck,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO service_health_checks (service_id, checked_at, health, latency_ms, detail) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(service_id)
    .bind(check.checked_at)
    .bind(&check.health)
    .bind(check.latency_ms)
    .bind(&check.detail)
    .execute(db)
    .await?;
    Ok(())
}

/// The service's checks in `[from, to)`, newest first, at most `limit` of them.
pub async fn list_for_service<'e, E: Executor<'e, Database = Any>>(
    db: E,
    service_id: &str,
    from: i64,
    to: i64,
    limit: i64,
) -> Result<Vec<HealthCheck>, sqlx::Error> {
    sqlx::query(
        "SELECT health, checked_at, latency_ms, detail FROM service_health_checks \
         WHERE service_id = $1 AND checked_at >= $2 AND checked_at < $3 \
         ORDER BY checked_at DESC LIMIT $4",
    )
    .bind(service_id)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(db)
    .await?
    .iter()
    .map(from_row)
    .collect()
}
