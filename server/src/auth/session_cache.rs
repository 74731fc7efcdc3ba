//! A short-lived, per-instance cache of resolved sessions, so that a signed-in request does
//! not cost database round trips (the session, its user, and for `/me` the organisation and
//! MFA state) each time.
//!
//! Correctness rules:
//! - Entries live at most [`TTL_MS`]; after that the session is read from the database again.
//!   So a change made by *another* instance (sign-out, revocation, deactivation) takes effect
//!   here within that time; every change made by *this* instance removes the affected entries
//!   at once (see the `forget_*` calls in the handlers).
//! - Expiry (absolute and idle) is still checked on every request against the cached row.
//! - The cache is bounded; when full it is emptied (entries are cheap to rebuild).

use std::{collections::HashMap, sync::RwLock};

use super::session::Authenticated;

/// How long an entry is trusted.
pub const TTL_MS: i64 = 2_000;
/// Most entries kept.
pub const MAX_ENTRIES: usize = 50_000;

#[derive(Debug, Clone)]
struct Entry {
    auth: Authenticated,
    me: Option<bytes::Bytes>,
    cached_at: i64,
}

/// The cache, keyed by the session token's hash. Shared by all requests of one instance.
#[derive(Debug, Default)]
pub struct SessionCache {
    entries: RwLock<HashMap<String, Entry>>,
}

impl SessionCache {
    /// The cached session for `token_hash`, if fresh.
    pub fn get(&self, token_hash: &str, now: i64) -> Option<Authenticated> {
        let entries = self.entries.read().ok()?;
        entries
            .get(token_hash)
            .filter(|e| now - e.cached_at < TTL_MS && now >= e.cached_at)
            .map(|e| e.auth.clone())
    }

    /// Caches a session read from the database.
    pub fn put(&self, token_hash: &str, auth: Authenticated, now: i64) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_ENTRIES && !entries.contains_key(token_hash) {
                entries.clear();
            }
            entries.insert(
                token_hash.to_string(),
                Entry {
                    auth,
                    me: None,
                    cached_at: now,
                },
            );
        }
    }

    /// Updates the last-seen time of a cached session (after the database was touched).
    pub fn touch(&self, token_hash: &str, last_seen_at: i64) {
        if let Ok(mut entries) = self.entries.write() {
            if let Some(e) = entries.get_mut(token_hash) {
                std::sync::Arc::make_mut(&mut e.auth.session).last_seen_at = last_seen_at;
            }
        }
    }

    /// The cached `/me` answer (serialised) of a fresh entry.
    pub fn me(&self, token_hash: &str, now: i64) -> Option<bytes::Bytes> {
        let entries = self.entries.read().ok()?;
        entries
            .get(token_hash)
            .filter(|e| now - e.cached_at < TTL_MS && now >= e.cached_at)
            .and_then(|e| e.me.clone())
    }

    /// Keeps the serialised `/me` answer with the entry (it expires with it).
    pub fn set_me(&self, token_hash: &str, me: bytes::Bytes) {
        if let Ok(mut entries) = self.entries.write() {
            if let Some(e) = entries.get_mut(token_hash) {
                e.me = Some(me);
            }
        }
    }

    /// Forgets one session (signed out, revoked, replaced by a step up).
    pub fn forget_session(&self, session_id: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.retain(|_, e| e.auth.session.id != session_id);
        }
    }

    /// Forgets every session of a user (password, MFA or account changes).
    pub fn forget_user(&self, user_id: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.retain(|_, e| e.auth.user.id != user_id);
        }
    }

    /// Forgets everything (organisation-wide changes).
    pub fn forget_all(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }
}
