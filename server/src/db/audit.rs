//! Queries of the `audit_log` table: who did what, when, from where.

use sqlx::{Any, Executor};

/// One audit entry to write.
#[derive(Debug, Clone, Default)]
pub struct NewAuditEntry<'a> {
    /// The acting user's id, when a user acted.
    pub actor_user_id: Option<&'a str>,
    /// Who acted, readable: an email, or `cli`.
    pub actor_label: &'a str,
    /// The organisation affected.
    pub org_id: Option<&'a str>,
    /// Stable action name, e.g. `org.created`.
    pub action: &'a str,
    /// What was acted on (an id, slug or address).
    pub target: Option<&'a str>,
    /// Client IP.
    pub ip: Option<&'a str>,
    /// Client user agent.
    pub user_agent: Option<&'a str>,
    /// JSON object with before/after values or reasons.
    pub details: serde_json::Value,
}

/// Appends an entry; pass the transaction that made the change so both commit together.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    at_ms: i64,
    entry: &NewAuditEntry<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_user_id, actor_label, org_id, action, target, ip, user_agent, details) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(at_ms)
    .bind(entry.actor_user_id)
    .bind(entry.actor_label)
    .bind(entry.org_id)
    .bind(entry.action)
    .bind(entry.target)
    .bind(entry.ip)
    .bind(entry.user_agent)
    .bind(entry.details.to_string())
    .execute(db)
    .await?;
    Ok(())
}
