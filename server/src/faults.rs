//! Timing and fault hooks that tests set to widen race windows or to count what the server
//! did. Every hook is off (zero) unless a test sets it, so production pays one atomic load.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

/// The hooks of one running portal (in [`crate::state::AppState`]).
#[derive(Debug, Default)]
pub struct Faults {
    /// Milliseconds to wait after a code or password re-check has reserved its attempt and
    /// before the secret is compared: a test sets it to prove that concurrent attempts cannot
    /// all pass the limits during the comparison.
    secret_check_pause_ms: AtomicU64,
    /// How many codes and passwords (re-checks and codes, not the sign-in password) have been
    /// compared with the stored secret.
    secret_checks: AtomicU64,
}

impl Faults {
    /// Sets the pause before each secret comparison (zero turns it off).
    pub fn set_secret_check_pause(&self, pause: Duration) {
        let ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX);
        self.secret_check_pause_ms.store(ms, Ordering::SeqCst);
    }

    /// How many secrets have been compared so far.
    pub fn secret_checks(&self) -> u64 {
        self.secret_checks.load(Ordering::SeqCst)
    }

    /// Called just before a secret is compared: counts it, and waits if a test asked to.
    pub async fn before_secret_check(&self) {
        self.secret_checks.fetch_add(1, Ordering::SeqCst);
        let ms = self.secret_check_pause_ms.load(Ordering::Relaxed);
        if ms > 0 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }
}
