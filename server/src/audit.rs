//! Writing the audit log from request handlers: who, what, on what, from where.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{header, request::Parts},
};
use sqlx::{Any, Executor};

use crate::{
    db::{self, audit::NewAuditEntry, users::User},
    http::{ApiError, AppState},
};

/// Where a request came from: the client IP and user agent.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// The client IP (see [`client_ip`]).
    pub ip: Option<String>,
    /// The `User-Agent` header, shortened to 512 characters.
    pub user_agent: Option<String>,
}

/// The client's IP: the socket peer, or the last `X-Forwarded-For` hop when the peer is one
/// of the trusted proxies (the last hop is the one that proxy itself saw; earlier hops are
/// whatever the client claimed).
pub fn client_ip(parts: &Parts, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())?;
    if trusted.contains(&peer) {
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            // Only the very last hop is the proxy's word; an unreadable one is not replaced by
            // an earlier hop, which the client could have written.
            .and_then(|hop| hop.trim().parse::<IpAddr>().ok());
        if let Some(ip) = forwarded {
            return Some(ip);
        }
    }
    Some(peer)
}

impl FromRequestParts<AppState> for RequestMeta {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = client_ip(parts, &state.config.trusted_proxies).map(|ip| ip.to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect());
        Ok(RequestMeta { ip, user_agent })
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(peer: &str, forwarded: Option<&str>) -> Parts {
        let mut req = Request::get("/").body(()).expect("request");
        if let Some(f) = forwarded {
            req.headers_mut()
                .insert("x-forwarded-for", f.parse().expect("header"));
        }
        let (mut parts, ()) = req.into_parts();
        parts
            .extensions
            .insert(ConnectInfo(peer.parse::<SocketAddr>().expect("addr")));
        parts
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy_and_only_its_last_hop() {
        let proxy: IpAddr = "10.0.0.5".parse().expect("ip");
        let p = parts("10.0.0.5:4000", Some("6.6.6.6, 203.0.113.7"));
        assert_eq!(client_ip(&p, &[proxy]), "203.0.113.7".parse().ok());
        assert_eq!(
            client_ip(&p, &[]),
            Some(proxy),
            "untrusted peer: its own address"
        );
        let p = parts("10.0.0.5:4000", Some("6.6.6.6, unknown"));
        assert_eq!(
            client_ip(&p, &[proxy]),
            Some(proxy),
            "an unreadable last hop is not replaced by a spoofable one"
        );
    }
}
