//! Rate limits on sign-in, codes and resets, counted in the database so every portal
//! instance sees the same numbers.
//!
//! Each limit is a number of failures in a 15-minute window. Past it, the key is blocked
//! for one minute after its latest failure, doubling with each further failure (up to the
//! window's length): progressive, and never permanent, since failures age out of the window.
//!
//! An attempt is counted *before* it is tried ([`reserve`]): its row is written first, then
//! the rows of every other attempt are counted. Two concurrent attempts therefore each see
//! the other, so no burst of parallel requests gets more tries than the limit (a check that
//! read the count first and wrote the failure after would let every request of a burst
//! through). An attempt that succeeds gives its row back ([`release`]).

use super::AuthContext;
use serde_json::json;

use crate::{
    audit::{self, Event, RequestMeta},
    auth::{AuthError, AuthResult},
    db,
};

/// The window failures are counted in.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;

/// One limit.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Stored scope name.
    pub scope: &'static str,
    /// Failures allowed in the window before blocking.
    pub max_failures: i64,
}

/// Wrong passwords per account.
pub const LOGIN_PER_ACCOUNT: Limit = Limit {
    scope: "login_account",
    max_failures: 10,
};
/// Failed sign-ins per client IP.
pub const LOGIN_PER_IP: Limit = Limit {
    scope: "login_ip",
    max_failures: 50,
};
/// Wrong codes per account.
pub const MFA_PER_ACCOUNT: Limit = Limit {
    scope: "mfa_account",
    max_failures: 20,
};

/// How long a key with `failures` failures, the latest at `latest`, stays blocked at `now`
/// (seconds), or `None` when it is not blocked.
pub fn blocked_for(limit: Limit, failures: i64, latest: Option<i64>, now: i64) -> Option<u64> {
    let latest = latest?;
    if failures < limit.max_failures {
        return None;
    }
    let doublings = u32::try_from((failures - limit.max_failures).min(10)).unwrap_or(10);
    let block_ms = (60_000i64 << doublings).min(WINDOW_MS);
    let until = latest + block_ms;
    (now < until).then(|| {
        u64::try_from((until - now + 999) / 1000)
            .unwrap_or(1)
            .max(1)
    })
}

/// An attempt counted against a limit before its outcome is known. Dropping it leaves the
/// attempt counted as a failure; [`release`] it when the attempt succeeded.
#[derive(Debug)]
#[must_use = "an attempt that succeeds must be released, or it counts as a failure"]
pub struct Reservation {
    id: i64,
    /// Failures (and attempts in flight) of the same key in the window, this one excluded.
    pub others: i64,
}

/// Counts one attempt of `key` under `limit`, then refuses it with 429 (and `Retry-After`)
/// when the attempts before it block the key; a refused attempt is not counted, and every
/// refusal is written to the audit log with the limit and the key.
pub async fn reserve(
    ctx: &AuthContext<'_>,
    meta: &RequestMeta,
    limit: Limit,
    key: &str,
) -> AuthResult<Reservation> {
    let now = ctx.clock.now_ms();
    let pool = ctx.db.pool();
    let id = db::rate_limits::reserve(pool, limit.scope, key, now).await?;
    let (others, latest) =
        db::rate_limits::recent_except(pool, limit.scope, key, now - WINDOW_MS, id).await?;
    let Some(secs) = blocked_for(limit, others, latest, now) else {
        return Ok(Reservation { id, others });
    };
    db::rate_limits::delete(pool, id).await?;
    refuse(ctx, meta, limit, key, others, secs, now).await
}

/// The attempt succeeded: it no longer counts as a failure.
pub async fn release(ctx: &AuthContext<'_>, reservation: Reservation) -> AuthResult<()> {
    db::rate_limits::delete(ctx.db.pool(), reservation.id).await?;
    Ok(())
}

/// The attempt succeeded and wipes the key's earlier failures under `limit` with it (a right
/// password forgives the wrong ones before it).
pub async fn clear(
    ctx: &AuthContext<'_>,
    reservation: Reservation,
    limit: Limit,
    key: &str,
) -> AuthResult<()> {
    let Reservation { .. } = reservation;
    db::rate_limits::clear(ctx.db.pool(), limit.scope, key).await?;
    Ok(())
}

/// Audits a blocked attempt and refuses it.
async fn refuse<T>(
    ctx: &AuthContext<'_>,
    meta: &RequestMeta,
    limit: Limit,
    key: &str,
    failures: i64,
    secs: u64,
    now: i64,
) -> AuthResult<T> {
    audit::record(
        ctx.db.pool(),
        now,
        meta,
        Event {
            actor: None,
            action: "auth.rate_limited",
            target: Some(key),
            org_id: None,
            details: json!({"limit": limit.scope, "failures": failures, "retry_after_secs": secs}),
        },
    )
    .await?;
    Err(AuthError::RateLimited {
        retry_after_secs: secs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocking_starts_at_the_limit_and_grows() {
        let l = LOGIN_PER_ACCOUNT;
        assert_eq!(blocked_for(l, 9, Some(0), 1), None);
        assert_eq!(blocked_for(l, 10, Some(0), 0), Some(60));
        assert_eq!(blocked_for(l, 10, Some(0), 60_000), None);
        assert_eq!(blocked_for(l, 11, Some(0), 0), Some(120));
        assert_eq!(blocked_for(l, 12, Some(0), 0), Some(240));
        // Capped at the window: never longer than 15 minutes.
        assert_eq!(blocked_for(l, 40, Some(0), 0), Some(900));
        assert_eq!(blocked_for(l, 0, None, 0), None);
    }
}
