//! Server-side sessions: the cookie, the stored row, expiry, and the extractors handlers use.
//!
//! The cookie holds 256 random bits; the database holds only their SHA-256, so a copy of
//! the table cannot be replayed. A new id is issued at every step up (password accepted,
//! code accepted, enrolment finished) and the old row is deleted in the same transaction.

use super::AuthContext;
use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64URL, Engine};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{
    audit::RequestMeta,
    auth::{AuthError, AuthResult},
    db::{
        self,
        sessions::{NewSession, Session},
        users::User,
    },
};

/// The session cookie's name (`__Host-`: Secure, Path=/, no Domain, so no subdomain can set it).
pub const SESSION_COOKIE: &str = "__Host-portal_session";

/// Session states as stored.
pub mod states {
    /// Signed in.
    pub const FULL: &str = "full";
    /// Password passed; waiting for the authenticator code.
    pub const MFA_PENDING: &str = "mfa_pending";
    /// Password passed; an authenticator must be set up first (the organisation requires one,
    /// or the user is carrier staff).
    pub const MFA_ENROLMENT: &str = "mfa_enrolment";
}

/// A fresh cookie value and the hash stored for it.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = B64URL.encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

/// The stored form of a cookie value: SHA-256, lower-case hex. Runs on every request, so
/// the hex is written directly rather than through `format!` per byte.
pub fn hash_token(token: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(token.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// `Set-Cookie` for a session cookie that lives `max_age_secs`.
pub fn session_cookie(token: &str, max_age_secs: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={}",
        max_age_secs.max(0)
    ))
    .unwrap_or_else(|_| clear_session_cookie())
}

/// `Set-Cookie` that deletes the session cookie.
pub fn clear_session_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "__Host-portal_session=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0",
    )
}

/// A session that passed every expiry check, with its user.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The session row (shared with the session cache).
    pub session: Arc<Session>,
    /// Its user (shared with the session cache).
    pub user: Arc<User>,
    /// The hash of the cookie value (the session cache's key).
    pub token_hash: String,
}

/// Looks up the request's session and applies the expiry rules; an expired session is deleted.
/// Reads keep working on a full disk: the two writes here are skipped then.
pub async fn resolve(
    ctx: &AuthContext<'_>,
    headers: &HeaderMap,
) -> Result<Option<Authenticated>, sqlx::Error> {
    let Some(token) = cookie_value(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let token_hash = hash_token(token);
    let now = ctx.clock.now_ms();
    let cached = ctx.sessions.get(&token_hash, now);
    let from_cache = cached.is_some();
    let (mut session, user) = match cached {
        Some(a) => (a.session, a.user),
        None => match db::sessions::find_with_user(ctx.db.pool(), &token_hash).await? {
            Some((session, user)) => (Arc::new(session), Arc::new(user)),
            None => return Ok(None),
        },
    };
    let idle_ms = ctx.lifetimes.idle_secs * 1000;
    let idle_expired =
        session.state != states::MFA_PENDING && now - session.last_seen_at >= idle_ms;
    if now >= session.expires_at || idle_expired || user.deactivated_at.is_some() {
        // On a full disk the row stays until a later request deletes it; it is refused
        // either way.
        db::unless_full(
            db::sessions::delete(ctx.db.pool(), &session.id).await,
            "the deletion of an expired session",
        )?;
        ctx.sessions.forget_session(&session.id);
        return Ok(None);
    }
    // Writing on every request would cost a write per read; a coarse last-seen is enough for
    // an idle timeout measured in minutes.
    let touch_every_ms = (idle_ms / 4).min(60_000);
    if now - session.last_seen_at >= touch_every_ms {
        // A full disk must not stop people from reading: the session is then only kept
        // alive in this instance's cache until the write goes through again.
        db::unless_full(
            db::sessions::touch(ctx.db.pool(), &session.id, now).await,
            "a session's last-seen time",
        )?;
        Arc::make_mut(&mut session).last_seen_at = now;
        ctx.sessions.touch(&token_hash, now);
    }
    let auth = Authenticated {
        session,
        user,
        token_hash,
    };
    if !from_cache {
        ctx.sessions
            .put(&auth.token_hash.clone(), auth.clone(), now);
    }
    Ok(Some(auth))
}

/// The session a new one replaces.
#[derive(Debug, Clone, Copy)]
pub struct Replaced<'a> {
    /// Its id.
    pub id: &'a str,
    /// When set, the new session is made only if this one is still there in this state: a
    /// step up (code accepted, enrolment finished) happens once, however many requests race.
    pub must_be_in: Option<&'a str>,
}

impl<'a> Replaced<'a> {
    /// The request's current session, whatever its state, if it still exists.
    pub fn any(id: &'a str) -> Self {
        Replaced {
            id,
            must_be_in: None,
        }
    }

    /// A session that must still be in `state`.
    pub fn in_state(id: &'a str, state: &'a str) -> Self {
        Replaced {
            id,
            must_be_in: Some(state),
        }
    }
}

/// A session just made: the cookie value to send, and how long the cookie lives.
#[derive(Debug)]
pub struct Started {
    /// The new session's id.
    pub session_id: String,
    /// The cookie's value (the database holds only its hash).
    pub token: String,
    /// Seconds the cookie lives.
    pub max_age_secs: i64,
}

/// Creates a session for `user` in `state_name`, replacing `previous` in the same
/// transaction (so the id changes at every step).
pub async fn start(
    ctx: &AuthContext<'_>,
    user: &User,
    state_name: &str,
    auth_method: &str,
    meta: &RequestMeta,
    previous: Option<Replaced<'_>>,
    tenant_id: Option<&str>,
) -> AuthResult<Started> {
    let now = ctx.clock.now_ms();
    let cfg = &ctx.lifetimes;
    let lifetime_secs = match state_name {
        states::FULL => cfg.absolute_secs,
        states::MFA_PENDING => cfg.mfa_pending_secs,
        _ => cfg.idle_secs.min(cfg.absolute_secs),
    };
    let (token, token_hash) = new_token();
    let id = uuid::Uuid::new_v4().to_string();
    let mut tx = ctx.db.begin_write().await?;
    match previous {
        Some(Replaced {
            id,
            must_be_in: Some(in_state),
        }) if !db::sessions::delete_in_state(&mut *tx, id, in_state).await? => {
            return Err(if in_state == states::MFA_PENDING {
                AuthError::NoPendingSignIn
            } else {
                AuthError::NotSignedIn
            });
        }
        Some(Replaced {
            id,
            must_be_in: None,
        }) => {
            db::sessions::delete(&mut *tx, id).await?;
        }
        _ => {}
    }
    db::sessions::insert(
        &mut *tx,
        &NewSession {
            id: &id,
            token_hash: &token_hash,
            user_id: &user.id,
            state: state_name,
            auth_method,
            now,
            expires_at: now + lifetime_secs * 1000,
            ip: meta.ip.as_deref(),
            user_agent: meta.user_agent.as_deref(),
            tenant_id,
            stepped_up_at: (state_name == states::FULL).then_some(now),
        },
    )
    .await?;
    tx.commit().await?;
    if let Some(previous) = previous {
        ctx.sessions.forget_session(previous.id);
    }
    Ok(Started {
        session_id: id,
        token,
        max_age_secs: lifetime_secs,
    })
}

/// Ends the request's own session (sign-out) and audits it.
pub async fn end(ctx: &AuthContext<'_>, meta: &RequestMeta, a: &Authenticated) -> AuthResult<()> {
    db::sessions::delete(ctx.db.pool(), &a.session.id).await?;
    ctx.sessions.forget_session(&a.session.id);
    crate::audit::record(
        ctx.db.pool(),
        ctx.clock.now_ms(),
        meta,
        crate::audit::Event {
            actor: Some(&a.user),
            action: "auth.logout",
            target: Some(&a.session.id),
            org_id: None,
            details: serde_json::json!({}),
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_and_stored_hashed() {
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(B64URL.decode(&a).map(|v| v.len()).ok(), Some(32));
        assert_eq!(ha.len(), 64);
        assert_eq!(hash_token(&a), ha);
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(!ha.contains(&a));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; __Host-portal_session=tok; b=2"),
        );
        assert_eq!(cookie_value(&h, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie_value(&h, "missing"), None);
    }

    #[test]
    fn the_cookie_has_every_protective_attribute() {
        let v = session_cookie("abc", 100);
        let v = v.to_str().unwrap_or_default();
        for part in [
            "__Host-portal_session=abc",
            "Path=/",
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Max-Age=100",
        ] {
            assert!(v.contains(part), "{v}");
        }
        assert!(!v.contains("Domain"));
    }
}
