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

/// Formats UTC milliseconds as RFC 3339 (`2026-01-02T03:04:05.678Z`; the fraction only when
/// there is one, without trailing zeros; empty outside the years 0000–9999).
pub fn rfc3339_ms(ms: i64) -> String {
    let mut out = Vec::with_capacity(24);
    write_rfc3339_ms(&mut out, ms);
    // Only ASCII digits and punctuation were written.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends [`rfc3339_ms`]'s text to `out` without allocating: the CSV export writes three
/// timestamps per call, millions of calls per export, and the general-purpose formatter of
/// the `time` crate was a fifth of its cost.
pub fn write_rfc3339_ms(out: &mut Vec<u8>, ms: i64) {
    const DAY_MS: i64 = 86_400_000;
    let (days, in_day) = (ms.div_euclid(DAY_MS), ms.rem_euclid(DAY_MS));
    // Civil date from days since 1970-01-01 (Howard Hinnant's `civil_from_days`).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
        return;
    }
    let digits = |out: &mut Vec<u8>, v: i64, width: usize| {
        let mut buf = [b'0'; 4];
        let mut v = v;
        for d in buf[..width].iter_mut().rev() {
            *d = b'0' + (v % 10) as u8;
            v /= 10;
        }
        out.extend_from_slice(&buf[..width]);
    };
    let secs = in_day / 1000;
    digits(out, year, 4);
    out.push(b'-');
    digits(out, month, 2);
    out.push(b'-');
    digits(out, day, 2);
    out.push(b'T');
    digits(out, secs / 3600, 2);
    out.push(b':');
    digits(out, secs / 60 % 60, 2);
    out.push(b':');
    digits(out, secs % 60, 2);
    let milli = in_day % 1000;
    if milli != 0 {
        out.push(b'.');
        let (v, width) = match (milli % 100, milli % 10) {
            (0, _) => (milli / 100, 1),
            (_, 0) => (milli / 10, 2),
            _ => (milli, 3),
        };
        digits(out, v, width);
    }
    out.push(b'Z');
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
        assert_eq!(rfc3339_ms(1_700_000_000_100), "2023-11-14T22:13:20.1Z");
        assert_eq!(rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(rfc3339_ms(253_402_300_800_000), "");
    }

    /// The hand-written formatter agrees with the `time` crate's RFC 3339 everywhere: every
    /// day boundary from 1900 to 2200, leap days, and a spread of millisecond values.
    #[test]
    fn agrees_with_the_time_crate() {
        use time::format_description::well_known::Rfc3339;
        let reference = |ms: i64| {
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                .ok()
                .and_then(|t| t.format(&Rfc3339).ok())
                .unwrap_or_default()
        };
        let mut ms = -2_208_988_800_000_i64; // 1900-01-01
        let mut step = 0_i64;
        while ms < 7_258_118_400_000 {
            // 2200-01-01
            for probe in [ms, ms - 1, ms + 10, ms + 120, ms + 3_723_456] {
                assert_eq!(rfc3339_ms(probe), reference(probe), "{probe}");
            }
            step = (step * 7 + 13) % 1000;
            ms += 86_400_000 + step;
        }
        for edge in [
            0,
            -62_167_219_200_000,
            -62_167_219_200_001,
            253_402_300_799_999,
        ] {
            assert_eq!(rfc3339_ms(edge), reference(edge), "{edge}");
        }
    }
}
