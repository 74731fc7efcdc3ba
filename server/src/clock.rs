//! The server's clock: real UTC time plus an offset tests can move, so expiry rules (idle and
//! absolute session timeouts, pending MFA, TOTP steps) are tested without waiting.

use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc,
};

/// A clock shared by everything in one server. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The real time.
    pub fn system() -> Self {
        Self::default()
    }

    /// Now, as UTC milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        crate::db::now_ms() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Now, as whole seconds since the Unix epoch.
    pub fn now_secs(&self) -> u64 {
        u64::try_from(self.now_ms() / 1000).unwrap_or(0)
    }

    /// Moves this clock (and every clone of it) forward by `secs` (tests only make sense of it).
    pub fn advance_secs(&self, secs: i64) {
        self.offset_ms.fetch_add(secs * 1000, Ordering::Relaxed);
    }
}

/// Formats UTC milliseconds as RFC 3339 (`2026-01-02T03:04:05.678Z`).
pub fn rfc3339_ms(ms: i64) -> String {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_every_clone() {
        let a = Clock::system();
        let b = a.clone();
        let before = b.now_ms();
        a.advance_secs(3600);
        assert!(b.now_ms() - before >= 3_600_000);
    }

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_ms(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
