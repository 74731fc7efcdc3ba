//! Writing the audit log from request handlers: who, what, on what, from where.

use sqlx::{Any, Executor};

use crate::db::{self, audit::NewAuditEntry, users::User};

/// Where a request came from: the client IP and user agent.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// The client IP (the HTTP layer's `extract::client_ip`).
    pub ip: Option<String>,
    /// The `User-Agent` header, shortened to 512 characters.
    pub user_agent: Option<String>,
}

/// One audit entry written from a request.
#[derive(Debug)]
pub struct Event<'a> {
    /// The acting user, if known.
    pub actor: Option<&'a User>,
    /// Stable action name.
    pub action: &'a str,
    /// What was acted on.
    pub target: Option<&'a str>,
    /// The organisation concerned; defaults to the actor's.
    pub org_id: Option<&'a str>,
    /// Before/after values, reasons.
    pub details: serde_json::Value,
}

impl<'a> Event<'a> {
    /// A user acting on their own account (sign-in steps, MFA and password changes).
    pub fn own(user: &'a User, action: &'a str, details: serde_json::Value) -> Self {
        Event {
            actor: Some(user),
            action,
            target: Some(&user.id),
            org_id: None,
            details,
        }
    }
}

/// Writes `event` with the request's origin; pass a transaction to commit it with the change.
pub async fn record<'e, E: Executor<'e, Database = Any>>(
    db: E,
    now: i64,
    meta: &RequestMeta,
    event: Event<'_>,
) -> Result<(), sqlx::Error> {
    let label = event.actor.map(|u| u.email.as_str()).unwrap_or("anonymous");
    let org_id = event
        .org_id
        .or(event.actor.and_then(|u| u.org_id.as_deref()));
    db::audit::insert(
        db,
        now,
        &NewAuditEntry {
            actor_user_id: event.actor.map(|u| u.id.as_str()),
            actor_label: label,
            org_id,
            action: event.action,
            target: event.target,
            ip: meta.ip.as_deref(),
            user_agent: meta.user_agent.as_deref(),
            details: event.details,
        },
    )
    .await
}
