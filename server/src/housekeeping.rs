//! Periodic clean-up of rows that are refused anyway once stale: expired or idle sessions,
//! rate-limit failures older than their window, emailed links expired for a day. Every
//! instance runs it; the deletes are idempotent, so several instances doing it is harmless.

use std::time::Duration;

use crate::{auth::rate_limit::WINDOW_MS, db, state::AppState};

/// How often the clean-up runs.
pub const INTERVAL: Duration = Duration::from_secs(600);

/// One pass; returns how many rows went.
pub async fn run_once(state: &AppState) -> Result<u64, sqlx::Error> {
    let now = state.clock.now_ms();
    let idle_cutoff = now - state.config.session_idle_secs * 1000;
    let sessions = db::sessions::delete_expired(state.db.pool(), now, idle_cutoff).await?;
    let failures = db::rate_limits::prune(state.db.pool(), now - WINDOW_MS).await?;
    let links = db::tokens::delete_expired(state.db.pool(), now - 24 * 3600 * 1000).await?;
    let flows = db::sso::delete_expired_transactions(state.db.pool(), now).await?;
    Ok(sessions + failures + links + flows)
}

/// Runs [`run_once`] every [`INTERVAL`] until the process ends; failures are logged and retried.
pub async fn run_forever(state: AppState) {
    let mut ticker = tokio::time::interval(INTERVAL);
    loop {
        ticker.tick().await;
        match run_once(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(rows = n, "housekeeping removed stale rows"),
            Err(e) => tracing::warn!(error = %e, "housekeeping failed; will retry"),
        }
    }
}
