//! The extractors handlers take for who is asking and from where: the request's origin
//! ([`RequestMeta`], for the audit log), its session in any state ([`Authenticated`]) or a
//! full one ([`SignedIn`]). The types and what they mean live in the domain (`audit`,
//! `auth::session`); turning a request into them, and refusing it, is the HTTP layer's.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts, OptionalFromRequestParts},
    http::{header, request::Parts, StatusCode},
};

use crate::{
    audit::RequestMeta,
    auth::session::{self, states, Authenticated},
};

use super::{ApiError, AppState};

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

/// The request's session in any state (full or part-way through sign-in).
impl OptionalFromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        if let Some(found) = parts.extensions.get::<Authenticated>() {
            return Ok(Some(found.clone()));
        }
        Ok(session::resolve(&state.auth(), &parts.headers).await?)
    }
}

/// A fully signed-in session; anything else is refused with 401 and a code saying why.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Authenticated);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let found =
            <Authenticated as OptionalFromRequestParts<AppState>>::from_request_parts(parts, state)
                .await?;
        match found {
            Some(a) if a.session.state == states::FULL => Ok(SignedIn(a)),
            Some(a) if a.session.state == states::MFA_PENDING => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "mfa_required",
                "Enter your sign-in code (from your authenticator app or your e-mail) to finish signing in.",
            )),
            Some(_) => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "mfa_enrolment_required",
                "Your account needs a second factor (your organisation requires one; carrier staff always do): set one up on the Security page to continue.",
            )),
            None => Err(unauthenticated()),
        }
    }
}

/// 401 `unauthenticated`.
pub fn unauthenticated() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "You are not signed in, or your session has ended. Sign in again.",
    )
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
