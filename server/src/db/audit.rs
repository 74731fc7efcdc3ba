//! Queries of the `audit_log` table: who did what, when, from where.

use sqlx::{Any, Executor, Row};

use super::{bind_all, Bind};

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

/// An entry as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// Its id, increasing with time (the page cursor).
    pub id: i64,
    /// When, UTC ms.
    pub at: i64,
    /// The acting user's id, when a user acted.
    pub actor_user_id: Option<String>,
    /// Who acted, readable.
    pub actor_label: String,
    /// The organisation affected.
    pub org_id: Option<String>,
    /// Stable action name.
    pub action: String,
    /// What was acted on.
    pub target: Option<String>,
    /// Client IP.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// The JSON details, as stored.
    pub details: String,
}

/// Which entries to read: every condition that is set applies.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// One organisation's entries.
    pub org_id: Option<String>,
    /// Actions starting with this (compared by characters, not with LIKE's wildcards).
    pub action_prefix: Option<String>,
    /// This exact actor label.
    pub actor_label: Option<String>,
    /// At or after this time, UTC ms.
    pub from: Option<i64>,
    /// Before this time, UTC ms.
    pub to: Option<i64>,
    /// Older than this entry id (the page cursor).
    pub before_id: Option<i64>,
}

/// Entries matching `filter`, newest first, at most `limit`.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    db: E,
    filter: &AuditFilter,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    // Placeholders are numbered in the order the conditions are added (see db.rs).
    let mut sql = String::from(
        "SELECT id, at, actor_user_id, actor_label, org_id, action, target, ip, user_agent, details \
         FROM audit_log WHERE 1 = 1",
    );
    let mut binds: Vec<Bind> = Vec::new();
    let mut add = |sql: &mut String, clause: &str, value: Bind| {
        binds.push(value);
        sql.push_str(&clause.replace('?', &format!("${}", binds.len())));
    };
    if let Some(org) = &filter.org_id {
        add(&mut sql, " AND org_id = ?", Bind::Text(org.clone()));
    }
    if let Some(action) = &filter.action_prefix {
        add(
            &mut sql,
            " AND substr(action, 1, CAST(? AS INTEGER)",
            Bind::Int(action.chars().count() as i64),
        );
        add(&mut sql, ") = ?", Bind::Text(action.clone()));
    }
    if let Some(actor) = &filter.actor_label {
        add(&mut sql, " AND actor_label = ?", Bind::Text(actor.clone()));
    }
    if let Some(from) = filter.from {
        add(&mut sql, " AND at >= ?", Bind::Int(from));
    }
    if let Some(to) = filter.to {
        add(&mut sql, " AND at < ?", Bind::Int(to));
    }
    if let Some(cursor) = filter.before_id {
        add(&mut sql, " AND id < ?", Bind::Int(cursor));
    }
    add(&mut sql, " ORDER BY id DESC LIMIT ?", Bind::Int(limit));
    bind_all(sqlx::query(&sql), &binds)
        .fetch_all(db)
        .await?
        .iter()
        .map(|row| {
            Ok(AuditRow {
                id: row.try_get("id")?,
                at: row.try_get("at")?,
                actor_user_id: row.try_get("actor_user_id")?,
                actor_label: row.try_get("actor_label")?,
                org_id: row.try_get("org_id")?,
                action: row.try_get("action")?,
                target: row.try_get("target")?,
                ip: row.try_get("ip")?,
                user_agent: row.try_get("user_agent")?,
                details: row.try_get("details")?,
            })
        })
        .collect()
}

/// How many entries of the organisation `org_id` record `action` with `detail` somewhere in
/// their details (the demo seed finds its own last step this way).
pub async fn count_action<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    action: &str,
    detail: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE org_id = $1 AND action = $2 AND details LIKE $3",
    )
    .bind(org_id)
    .bind(action)
    .bind(format!("%{detail}%"))
    .fetch_one(db)
    .await
}
