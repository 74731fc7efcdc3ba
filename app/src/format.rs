//! Numbers, durations and dates as people read them: in the browser's language and time zone.
//!
//! In the browser, locale-dependent output comes from `Intl` (through `js-sys`, no extra
//! crate). On the server and in unit tests there is no browser locale, so the same functions
//! produce a neutral English form (`1,234.5`, `12.3%`); pages render these figures only from
//! data loaded in the browser, so server and hydrated output never disagree.
//!
//! The arithmetic (rounding, choosing units, percent change) is plain Rust and tested here.

/// `value` with at most `max_fraction` fraction digits and the locale's grouping
/// ("12,345.6" in English, "12 345,6" in French).
pub fn format_number(value: f64, max_fraction: u8) -> String {
    if !value.is_finite() {
        return "–".to_string();
    }
    #[cfg(target_arch = "wasm32")]
    {
        intl::number(value, &[("maximumFractionDigits", max_fraction.into())])
            .unwrap_or_else(|| plain_number(value, max_fraction))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        plain_number(value, max_fraction)
    }
}

/// An integer count with the locale's grouping.
pub fn format_count(value: i64) -> String {
    // i64 counts of calls stay far below 2^53, where f64 is exact.
    format_number(value as f64, 0)
}

/// A fraction (0–1) as a percentage with `fraction_digits` digits ("97.5%"); "–" for `None`.
pub fn format_percent(fraction: Option<f64>, fraction_digits: u8) -> String {
    let Some(fraction) = fraction.filter(|f| f.is_finite()) else {
        return "–".to_string();
    };
    #[cfg(target_arch = "wasm32")]
    {
        intl::number(
            fraction,
            &[
                ("style", "percent".into()),
                ("minimumFractionDigits", fraction_digits.into()),
                ("maximumFractionDigits", fraction_digits.into()),
            ],
        )
        .unwrap_or_else(|| plain_percent(fraction, fraction_digits))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        plain_percent(fraction, fraction_digits)
    }
}

/// A duration in seconds, short: "45 s", "3 min 20 s", "2 h 05 min"; "–" for `None`. A
/// no-break space keeps each number with its unit, so a narrow card wraps "3 min" / "20 s",
/// never "3 min 20" / "s".
pub fn format_duration_secs(seconds: Option<f64>) -> String {
    let Some(seconds) = seconds.filter(|s| s.is_finite() && *s >= 0.0) else {
        return "–".to_string();
    };
    let total = seconds.round() as u64;
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    if h > 0 {
        format!("{h}\u{a0}h {m:02}\u{a0}min")
    } else if m > 0 {
        format!("{m}\u{a0}min {s:02}\u{a0}s")
    } else {
        format!("{s}\u{a0}s")
    }
}

/// A change between two periods as a signed percentage ("+12.5%", "−3.0%"); `None` when
/// there is nothing to compare with (no previous value, or it was zero).
pub fn percent_change(current: Option<f64>, previous: Option<f64>) -> Option<f64> {
    match (current, previous) {
        (Some(current), Some(previous)) if previous != 0.0 && current.is_finite() => {
            Some((current - previous) / previous.abs())
        }
        _ => None,
    }
}

/// The direction of a change, for the arrow and its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    /// Went up.
    Up,
    /// Went down.
    Down,
    /// Stayed the same (within half a percent).
    Flat,
}

/// The direction of a relative change.
pub fn trend(change: f64) -> Trend {
    if change > 0.005 {
        Trend::Up
    } else if change < -0.005 {
        Trend::Down
    } else {
        Trend::Flat
    }
}

/// A relative change with its sign, "+12.5%" or "−3.0%" (a real minus sign).
pub fn format_change(change: f64) -> String {
    let magnitude = format_percent(Some(change.abs()), 1);
    match trend(change) {
        Trend::Up => format!("+{magnitude}"),
        Trend::Down => format!("\u{2212}{magnitude}"),
        Trend::Flat => format_percent(Some(0.0), 1),
    }
}

/// An RFC 3339 timestamp as date and time in the browser's time zone and language
/// ("27 Nov 2026, 10:37"); the input unchanged when unreadable, and on the server.
pub fn format_datetime_local(rfc3339: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        let options: &[(&str, intl::Opt)] = &[
            ("dateStyle", "medium".into()),
            ("timeStyle", "short".into()),
        ];
        intl::date(rfc3339, options).unwrap_or_else(|| rfc3339.to_string())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        rfc3339.to_string()
    }
}

/// An RFC 3339 timestamp as a date in the browser's time zone and language ("27 Nov 2026");
/// its UTC date part ("2026-11-27") on the server and when the browser cannot read it.
pub fn format_date_local(rfc3339: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        let options: &[(&str, intl::Opt)] = &[
            ("day", "numeric".into()),
            ("month", "short".into()),
            ("year", "numeric".into()),
        ];
        intl::date(rfc3339, options).unwrap_or_else(|| plain_date(rfc3339))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        plain_date(rfc3339)
    }
}

/// A calendar date ("2026-12-06", a day with no time or time zone, such as a porting date) in
/// the browser's language ("6 Dec 2026"), the same day wherever the browser is; unchanged on
/// the server and when the browser cannot read it.
pub fn format_calendar_date(yyyy_mm_dd: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        // `Date` reads a bare date as midnight UTC, so it is shown in UTC to stay that day.
        let options: &[(&str, intl::Opt)] = &[
            ("day", "numeric".into()),
            ("month", "short".into()),
            ("year", "numeric".into()),
            ("timeZone", "UTC".into()),
        ];
        let is_date = yyyy_mm_dd.len() == 10 && yyyy_mm_dd.as_bytes()[4] == b'-';
        is_date
            .then(|| intl::date(yyyy_mm_dd, options))
            .flatten()
            .unwrap_or_else(|| yyyy_mm_dd.to_string())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        yyyy_mm_dd.to_string()
    }
}

/// The date part of an RFC 3339 timestamp, or the text unchanged when it has none.
pub fn plain_date(rfc3339: &str) -> String {
    rfc3339.get(..10).unwrap_or(rfc3339).to_string()
}

/// The instant `hours` before now as RFC 3339 (UTC), from the browser's clock; `None` on the
/// server (the API then applies its own default range).
pub fn iso_hours_ago(hours: f64) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        use web_sys::js_sys::Date;
        // Whole minutes: the reads a route starts ahead of its page (`api::prefetch`) then
        // name the same range as the page's own.
        let at = ((Date::now() - hours * 3_600_000.0) / 60_000.0).floor() * 60_000.0;
        Date::new(&wasm_bindgen::JsValue::from_f64(at))
            .to_iso_string()
            .as_string()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = hours;
        None
    }
}

/// The start of today in the browser's time zone, as RFC 3339 (UTC); `None` on the server.
pub fn iso_local_midnight() -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        use web_sys::js_sys::Date;
        let date = Date::new_0();
        date.set_hours(0);
        date.set_minutes(0);
        date.set_seconds(0);
        date.set_milliseconds(0);
        date.to_iso_string().as_string()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        None
    }
}

/// An RFC 3339 timestamp as a short axis label in the browser's time zone: the hour
/// ("14:00") for hourly buckets, the day ("27 Nov") for daily ones. Outside the browser:
/// the UTC "HH:00" or "MM-DD" part of the text.
pub fn format_bucket_label(rfc3339: &str, daily: bool) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        let options: &[(&str, intl::Opt)] = if daily {
            &[("day", "numeric".into()), ("month", "short".into())]
        } else {
            &[("hour", "2-digit".into()), ("minute", "2-digit".into())]
        };
        intl::date(rfc3339, options).unwrap_or_else(|| plain_bucket_label(rfc3339, daily))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        plain_bucket_label(rfc3339, daily)
    }
}

/// The neutral form of [`format_bucket_label`], from the text of an RFC 3339 UTC timestamp.
pub fn plain_bucket_label(rfc3339: &str, daily: bool) -> String {
    let date = rfc3339.get(5..10);
    let hour = rfc3339.get(11..13);
    match (daily, date, hour) {
        (true, Some(date), _) => date.to_string(),
        (false, _, Some(hour)) => format!("{hour}:00"),
        _ => rfc3339.to_string(),
    }
}

/// `value` rounded to `max_fraction` digits with "," grouping and "." decimals, trailing
/// zeros dropped: the form used where no browser locale exists.
pub fn plain_number(value: f64, max_fraction: u8) -> String {
    let digits = usize::from(max_fraction.min(10));
    // Halves round away from zero, as `Intl.NumberFormat` does (`format!` rounds to even).
    let scale = 10f64.powi(i32::from(max_fraction.min(10)));
    let text = format!("{:.*}", digits, (value.abs() * scale).round() / scale);
    let (int_part, frac_part) = match text.split_once('.') {
        Some((i, f)) => (i.to_string(), f.trim_end_matches('0').to_string()),
        None => (text.clone(), String::new()),
    };
    let mut grouped = String::new();
    for (i, c) in int_part.chars().enumerate() {
        if i > 0 && (int_part.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let negative =
        value < 0.0 && (grouped.chars().any(|c| c != '0' && c != ',') || !frac_part.is_empty());
    let sign = if negative { "-" } else { "" };
    if frac_part.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac_part}")
    }
}

/// The neutral form of [`format_percent`].
pub fn plain_percent(fraction: f64, fraction_digits: u8) -> String {
    format!(
        "{:.*}%",
        usize::from(fraction_digits.min(10)),
        fraction * 100.0
    )
}

/// `Intl.NumberFormat` and `Intl.DateTimeFormat` for the browser's language.
#[cfg(target_arch = "wasm32")]
mod intl {
    use wasm_bindgen::JsValue;
    use web_sys::js_sys::{Array, Date, Intl, Object, Reflect};

    /// An option value: a number or a string.
    pub enum Opt {
        Num(f64),
        Str(&'static str),
    }

    impl From<u8> for Opt {
        fn from(n: u8) -> Self {
            Opt::Num(f64::from(n))
        }
    }

    impl From<&'static str> for Opt {
        fn from(s: &'static str) -> Self {
            Opt::Str(s)
        }
    }

    fn options(pairs: &[(&str, Opt)]) -> Object {
        let object = Object::new();
        for (key, value) in pairs {
            let value = match value {
                Opt::Num(n) => JsValue::from_f64(*n),
                Opt::Str(s) => JsValue::from_str(s),
            };
            let _ = Reflect::set(&object, &JsValue::from_str(key), &value);
        }
        object
    }

    fn locales() -> Array {
        let language = web_sys::window().and_then(|window| window.navigator().language());
        match language {
            Some(language) => Array::of1(&JsValue::from_str(&language)),
            None => Array::new(),
        }
    }

    pub fn number(value: f64, pairs: &[(&str, Opt)]) -> Option<String> {
        let format = Intl::NumberFormat::new(&locales(), &options(pairs));
        let formatted = format
            .format()
            .call1(&format, &JsValue::from_f64(value))
            .ok()?;
        formatted.as_string()
    }

    pub fn date(rfc3339: &str, pairs: &[(&str, Opt)]) -> Option<String> {
        let date = Date::new(&JsValue::from_str(rfc3339));
        if date.get_time().is_nan() {
            return None;
        }
        let format = Intl::DateTimeFormat::new(&locales(), &options(pairs));
        let formatted = format.format().call1(&format, &date).ok()?;
        formatted.as_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_and_rounded() {
        assert_eq!(format_number(0.0, 0), "0");
        assert_eq!(format_number(1234.0, 0), "1,234");
        assert_eq!(format_number(1234567.891, 1), "1,234,567.9");
        assert_eq!(format_number(12.50, 2), "12.5");
        assert_eq!(format_number(-1234.5, 0), "-1,235");
        assert_eq!(format_number(-0.01, 1), "0");
        assert_eq!(format_number(f64::NAN, 1), "–");
        assert_eq!(format_count(100_000), "100,000");
        assert_eq!(format_count(999), "999");
    }

    #[test]
    fn fractions_become_percentages() {
        assert_eq!(format_percent(Some(0.975), 1), "97.5%");
        assert_eq!(format_percent(Some(1.0), 0), "100%");
        assert_eq!(format_percent(None, 1), "–");
    }

    #[test]
    fn durations_use_the_largest_sensible_unit() {
        assert_eq!(format_duration_secs(Some(0.4)), "0\u{a0}s");
        assert_eq!(format_duration_secs(Some(45.0)), "45\u{a0}s");
        assert_eq!(format_duration_secs(Some(200.0)), "3\u{a0}min 20\u{a0}s");
        assert_eq!(format_duration_secs(Some(7500.0)), "2\u{a0}h 05\u{a0}min");
        assert_eq!(format_duration_secs(None), "–");
        assert_eq!(format_duration_secs(Some(-1.0)), "–");
    }

    #[test]
    fn changes_compare_with_the_previous_period() {
        assert_eq!(percent_change(Some(110.0), Some(100.0)), Some(0.1));
        assert_eq!(percent_change(Some(50.0), Some(100.0)), Some(-0.5));
        assert_eq!(percent_change(Some(5.0), Some(0.0)), None);
        assert_eq!(percent_change(None, Some(3.0)), None);
        assert_eq!(percent_change(Some(3.0), None), None);
        assert_eq!(format_change(0.125), "+12.5%");
        assert_eq!(format_change(-0.03), "\u{2212}3.0%");
        assert_eq!(format_change(0.001), "0.0%");
        assert_eq!(trend(0.2), Trend::Up);
        assert_eq!(trend(-0.2), Trend::Down);
        assert_eq!(trend(0.0), Trend::Flat);
    }

    #[test]
    fn bucket_labels_outside_the_browser_use_the_utc_text() {
        assert_eq!(plain_bucket_label("2026-11-27T14:00:00Z", false), "14:00");
        assert_eq!(plain_bucket_label("2026-11-27T00:00:00Z", true), "11-27");
        assert_eq!(plain_bucket_label("bad", false), "bad");
        assert_eq!(plain_date("2026-11-27T14:05:00.123Z"), "2026-11-27");
        assert_eq!(format_date_local("2026-11-27T14:05:00Z"), "2026-11-27");
        assert_eq!(plain_date("bad"), "bad");
        assert_eq!(
            format_datetime_local("2026-11-27T14:00:00Z"),
            "2026-11-27T14:00:00Z"
        );
    }
}
