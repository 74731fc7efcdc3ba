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
        system_now_ms() + self.offset_ms.load(Ordering::Relaxed)
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

/// The system's time as UTC milliseconds since the Unix epoch (what [`Clock::system`] reads;
/// code without an `AppState`, such as the CLI, reads it directly).
pub fn system_now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
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

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Parses an RFC 3339 timestamp with `T` and an offset (`Z` or `±hh:mm`), whole or fractional
/// seconds, into UTC milliseconds (digits past the millisecond are dropped). The error says
/// what is wrong, to follow the quoted value.
pub fn parse_rfc3339_ms(s: &str) -> Result<i64, &'static str> {
    const SHAPE: &str = "is not an RFC 3339 timestamp with an offset (e.g. 2026-03-01T09:30:00Z or 2026-03-01T10:30:00.250+01:00)";
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| -> Result<i64, &'static str> {
        let part = b.get(from..from + n).ok_or(SHAPE)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return Err(SHAPE);
        }
        Ok(part
            .iter()
            .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
    };
    let at = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
    if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt") && at(13, b":") && at(16, b":")) {
        return Err(SHAPE);
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err("is not a calendar date");
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err("is not a time of day (00:00:00 to 23:59:59)");
    }
    let mut i = 19;
    let mut millis = 0i64;
    if at(i, b".") {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return Err(SHAPE);
        }
        for _ in (i - start)..3 {
            millis *= 10;
        }
    }
    let offset_minutes = match b.get(i) {
        Some(b'Z' | b'z') if b.len() == i + 1 => 0,
        Some(sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let (oh, om) = (digits(i + 1, 2)?, digits(i + 4, 2)?);
            if oh > 23 || om > 59 {
                return Err("has an offset out of range");
            }
            let m = oh * 60 + om;
            if *sign == b'-' {
                -m
            } else {
                m
            }
        }
        _ => return Err(SHAPE),
    };
    let days = days_from_civil(year, month, day);
    let seconds = ((days * 24 + hour) * 60 + minute - offset_minutes) * 60 + second;
    Ok(seconds * 1000 + millis)
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

    #[test]
    fn rfc3339_timestamps_with_an_offset_are_read() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339_ms("1970-01-01T01:00:00.5+01:00"), Ok(500));
        assert_eq!(parse_rfc3339_ms("1969-12-31T23:59:59.999999Z"), Ok(-1));
        assert_eq!(
            parse_rfc3339_ms("2024-02-29T12:00:00.123-02:30"),
            Ok(1_709_217_000_123)
        );
        assert!(parse_rfc3339_ms("2023-02-29T12:00:00Z").is_err());
        assert!(parse_rfc3339_ms("2026-03-01T09:00:00.Z").is_err());
        assert!(parse_rfc3339_ms("2026-03-01T09:00:00Z ").is_err());
    }
}
