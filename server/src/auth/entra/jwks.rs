//! The identity provider's signing keys (JWKS): parsing that skips what it cannot use, and
//! the cache rules.
//!
//! Rules: the first fetch happens on first use; keys older than a day are fetched again; a
//! token whose `kid` is unknown triggers one extra fetch at most once a minute (the first
//! fetch does not count), so a flood of made-up kids cannot hammer the identity provider.

use std::sync::{Arc, Mutex};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64URL, Engine};
use rsa::{pkcs1v15::VerifyingKey, BigUint, RsaPublicKey};
use sha2::Sha256;

/// Keys are fetched again when older than this (the scheduled refresh).
pub const REFRESH_AFTER_MS: i64 = 24 * 60 * 60 * 1000;
/// At most one fetch for unknown kids in this interval.
pub const UNKNOWN_KID_INTERVAL_MS: i64 = 60 * 1000;

/// One RS256 signing key.
#[derive(Debug, Clone)]
pub struct SigningKey {
    /// Key id, when the JWKS names it.
    pub kid: Option<String>,
    /// The verifier.
    pub key: VerifyingKey<Sha256>,
    /// Entra's per-key `issuer` property (a template with `{tenantid}`), when present.
    pub issuer: Option<String>,
}

/// The usable keys of a JWKS document. Keys that are not RSA signing keys, or whose numbers
/// do not parse, are skipped, not fatal: a provider may publish key types we do not use.
pub fn parse_jwks(doc: &serde_json::Value) -> Vec<SigningKey> {
    let Some(keys) = doc.get("keys").and_then(serde_json::Value::as_array) else {
        return Vec::new();
    };
    keys.iter().filter_map(parse_key).collect()
}

fn parse_key(k: &serde_json::Value) -> Option<SigningKey> {
    let field = |name: &str| k.get(name).and_then(serde_json::Value::as_str);
    if field("kty") != Some("RSA") {
        return None;
    }
    if field("use").is_some_and(|u| u != "sig") {
        return None;
    }
    if field("alg").is_some_and(|a| a != "RS256") {
        return None;
    }
    let n = BigUint::from_bytes_be(&B64URL.decode(field("n")?).ok()?);
    let e = BigUint::from_bytes_be(&B64URL.decode(field("e")?).ok()?);
    let public = RsaPublicKey::new(n, e).ok()?;
    // Entra uses 2048-bit keys; anything under 2048 bits is not worth trusting.
    if rsa::traits::PublicKeyParts::size(&public) < 256 {
        return None;
    }
    Some(SigningKey {
        kid: field("kid").map(str::to_string),
        key: VerifyingKey::new(public),
        issuer: field("issuer").map(str::to_string),
    })
}

#[derive(Debug, Default)]
struct CacheState {
    keys: Arc<Vec<SigningKey>>,
    fetched_at: Option<i64>,
    last_unknown_kid_fetch: Option<i64>,
}

/// What the cache wants before a token can be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchNeed {
    /// The cached keys will do.
    None,
    /// First use, or the keys are a day old.
    Scheduled,
    /// The token's kid is unknown and the once-a-minute allowance is free.
    UnknownKid,
}

/// The cached keys and the bookkeeping for the fetch rules.
#[derive(Debug, Default)]
pub struct JwksCache {
    state: Mutex<CacheState>,
    /// One fetch at a time: concurrent callers wait and then use its result.
    pub fetching: tokio::sync::Mutex<()>,
}

impl JwksCache {
    /// The cached keys.
    pub fn keys(&self) -> Arc<Vec<SigningKey>> {
        self.lock().keys.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Decides whether a token with `kid` needs a fetch first, and claims the unknown-kid
    /// allowance when it does (so parallel callers do not all fetch).
    pub fn need(&self, kid: Option<&str>, now_ms: i64) -> FetchNeed {
        let mut s = self.lock();
        match s.fetched_at {
            None => return FetchNeed::Scheduled,
            Some(at) if now_ms - at >= REFRESH_AFTER_MS => return FetchNeed::Scheduled,
            _ => {}
        }
        let Some(kid) = kid else {
            return FetchNeed::None;
        };
        if s.keys.iter().any(|k| k.kid.as_deref() == Some(kid)) {
            return FetchNeed::None;
        }
        match s.last_unknown_kid_fetch {
            Some(at) if now_ms - at < UNKNOWN_KID_INTERVAL_MS => FetchNeed::None,
            _ => {
                s.last_unknown_kid_fetch = Some(now_ms);
                FetchNeed::UnknownKid
            }
        }
    }

    /// Stores freshly fetched keys.
    pub fn store(&self, keys: Vec<SigningKey>, now_ms: i64) {
        let mut s = self.lock();
        s.keys = Arc::new(keys);
        s.fetched_at = Some(now_ms);
    }

    /// Whether the keys were never fetched or are a day old.
    pub fn is_stale(&self, now_ms: i64) -> bool {
        self.lock()
            .fetched_at
            .is_none_or(|at| now_ms - at >= REFRESH_AFTER_MS)
    }

    /// Whether keys were ever fetched.
    pub fn has_keys(&self) -> bool {
        self.lock().fetched_at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(kid: &str) -> SigningKey {
        // A fixed 2048-bit modulus is not needed for the cache rules: build from a tiny key
        // and bypass the size check by constructing the struct directly.
        let public = RsaPublicKey::new_unchecked(BigUint::from(3233u32), BigUint::from(17u32));
        SigningKey {
            kid: Some(kid.to_string()),
            key: VerifyingKey::new(public),
            issuer: None,
        }
    }

    #[test]
    fn unusable_keys_are_skipped() {
        let doc = json!({"keys": [
            {"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "kid": "ec"},
            {"kty": "RSA", "kid": "bad-n", "n": "!!!", "e": "AQAB"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "small", "n": "yw", "e": "AQAB"},
            "not an object",
        ]});
        assert!(parse_jwks(&doc).is_empty());
        assert!(parse_jwks(&json!({"nokeys": 1})).is_empty());
    }

    #[test]
    fn the_first_fetch_is_free_and_unknown_kids_fetch_once_a_minute() {
        let cache = JwksCache::default();
        assert_eq!(cache.need(Some("a"), 0), FetchNeed::Scheduled);
        cache.store(vec![key("a")], 0);
        assert_eq!(cache.need(Some("a"), 1_000), FetchNeed::None);
        assert_eq!(cache.need(Some("zz"), 1_000), FetchNeed::UnknownKid);
        for i in 0..100 {
            assert_eq!(cache.need(Some(&format!("x{i}")), 2_000), FetchNeed::None);
        }
        assert_eq!(cache.need(Some("zz"), 61_000), FetchNeed::UnknownKid);
        assert_eq!(cache.need(None, 62_000), FetchNeed::None);
        assert_eq!(
            cache.need(Some("a"), REFRESH_AFTER_MS),
            FetchNeed::Scheduled
        );
    }
}
