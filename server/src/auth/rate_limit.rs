//! Rate limits on sign-in, codes and resets, counted in the database so every portal
//! instance sees the same numbers.
//!
//! Each limit is a number of failures in a 15-minute window. Past it, the key is blocked
//! for one minute after its latest failure, doubling with each further failure (up to the
//! window's length): progressive, and never permanent, since failures age out of the window.

use serde_json::json;

use crate::{
    audit::{self, Event, RequestMeta},
    db,
    http::{ApiError, AppState},
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

/// Refuses with 429 (and `Retry-After`) while `key` is blocked under `limit`; every refusal
/// is written to the audit log with the limit and the key. Otherwise returns how many
/// failures the window holds.
pub async fn check(
    state: &AppState,
    meta: &RequestMeta,
    limit: Limit,
    key: &str,
) -> Result<i64, ApiError> {
    let now = state.clock.now_ms();
    let (failures, latest) =
        db::rate_limits::recent(state.db.pool(), limit.scope, key, now - WINDOW_MS).await?;
    let Some(secs) = blocked_for(limit, failures, latest, now) else {
        return Ok(failures);
    };
    audit::record(
        state.db.pool(),
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
    Err(too_many(secs))
}

/// The 429 answer.
pub fn too_many(retry_after_secs: u64) -> ApiError {
    let minutes = retry_after_secs.div_ceil(60);
    ApiError::new(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!(
            "Too many attempts. Wait {minutes} minute{} and try again.",
            if minutes == 1 { "" } else { "s" }
        ),
    )
    .with_retry_after(retry_after_secs)
}

/// Counts one failure of `key` under `limit`.
pub async fn record_failure(state: &AppState, limit: Limit, key: &str) -> Result<(), ApiError> {
    db::rate_limits::record(state.db.pool(), limit.scope, key, state.clock.now_ms()).await?;
    Ok(())
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
