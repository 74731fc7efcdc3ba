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

/// Who makes a change to an organisation's data, for the audit entries the change writes:
/// a user, an API token or the command line, acting for `org_id`, from where the request came.
/// The HTTP layer makes one from its caller; domain functions take it and write their entries
/// in the change's own transaction.
#[derive(Debug, Clone)]
pub struct Acting {
    /// The acting user, when a user acts (not a token or the CLI).
    pub user_id: Option<String>,
    /// Readable: the user's email, `api-token:<prefix>` or `cli`.
    pub label: String,
    /// The organisation acted for.
    pub org_id: String,
    /// Where the request came from.
    pub meta: RequestMeta,
}

impl Acting {
    /// Writes an audit entry about the organisation acted for; pass the transaction that made
    /// the change so both commit together.
    pub async fn record<'e, E: Executor<'e, Database = Any>>(
        &self,
        db: E,
        now: i64,
        action: &str,
        target: Option<&str>,
        details: serde_json::Value,
    ) -> Result<(), sqlx::Error> {
        db::audit::insert(
            db,
            now,
            &NewAuditEntry {
                actor_user_id: self.user_id.as_deref(),
                actor_label: &self.label,
                org_id: Some(&self.org_id),
                action,
                target,
                ip: self.meta.ip.as_deref(),
                user_agent: self.meta.user_agent.as_deref(),
                details,
            },
        )
        .await
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
