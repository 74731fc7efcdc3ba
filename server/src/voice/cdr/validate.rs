//! The rules every row must pass, field by field; a refusal names the field and says why.

use super::*;
use crate::clock::parse_rfc3339_ms;

type FieldError = (&'static str, String);

fn required<'a>(fields: &[&'a str; 15], i: usize) -> Result<&'a str, FieldError> {
    let v = fields[i];
    if v.is_empty() {
        Err((HEADER[i], "is required".to_string()))
    } else {
        Ok(v)
    }
}

fn number(
    fields: &[&str; 15],
    i: usize,
    range: std::ops::RangeInclusive<f64>,
    what: &str,
) -> Result<Option<f64>, FieldError> {
    let v = fields[i];
    if v.is_empty() {
        return Ok(None);
    }
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() && range.contains(&x) => Ok(Some(x)),
        Ok(_) => Err((HEADER[i], format!("{v:?} is out of range: {what}"))),
        Err(_) => Err((HEADER[i], format!("{v:?} is not a number"))),
    }
}

/// Checks one row's fields (in [`HEADER`] order) and builds the record; an error names the
/// field and the reason.
pub(super) fn validate(fields: &[&str; 15], rules: &Rules) -> Result<CallRecord, FieldError> {
    let id = required(fields, ID)?;
    if id.len() > MAX_ID_BYTES {
        return Err(("id", format!("is longer than {MAX_ID_BYTES} bytes")));
    }
    if id.chars().any(char::is_control) {
        return Err(("id", "contains control characters".to_string()));
    }
    let service = required(fields, SERVICE)?;
    let service_id = rules.services.get(service).ok_or_else(|| {
        (
            "service",
            format!("no service named {service:?} in this organisation"),
        )
    })?;
    let timestamp = |i: usize| {
        let ms = parse_rfc3339_ms(fields[i])
            .map_err(|reason| (HEADER[i], format!("{:?} {reason}", fields[i])))?;
        if ms < rules.earliest_ms {
            return Err((
                HEADER[i],
                format!("{:?} is before 2000-01-01T00:00:00Z", fields[i]),
            ));
        }
        if ms > rules.latest_ms {
            return Err((
                HEADER[i],
                format!("{:?} is more than a day in the future", fields[i]),
            ));
        }
        Ok(ms)
    };
    required(fields, START)?;
    let started_at = timestamp(START)?;
    let answered_at = if fields[ANSWER].is_empty() {
        None
    } else {
        Some(timestamp(ANSWER)?)
    };
    required(fields, END)?;
    let ended_at = timestamp(END)?;
    if ended_at < started_at {
        return Err(("end", "is before start".to_string()));
    }
    if ended_at - started_at > rules.max_call_ms {
        return Err((
            "end",
            format!(
                "makes the call longer than the longest call accepted ({} s from start to end)",
                rules.max_call_ms / 1000
            ),
        ));
    }
    if let Some(answer) = answered_at {
        if answer < started_at {
            return Err(("answer", "is before start".to_string()));
        }
        if answer > ended_at {
            return Err(("answer", "is after end".to_string()));
        }
    }
    let direction = match required(fields, DIRECTION)? {
        "inbound" => Direction::Inbound,
        "outbound" => Direction::Outbound,
        other => {
            return Err((
                "direction",
                format!("{other:?} is not one of inbound, outbound"),
            ))
        }
    };
    let from = required(fields, FROM)?;
    if !is_e164(from) {
        return Err((
            "from",
            format!("{from:?} is not E.164 (+ and 8 to 15 digits)"),
        ));
    }
    let to = required(fields, TO)?;
    if !is_e164(to) {
        return Err(("to", format!("{to:?} is not E.164 (+ and 8 to 15 digits)")));
    }
    let result_text = required(fields, RESULT)?;
    let result = CallResult::parse(result_text).ok_or_else(|| {
        (
            "result",
            format!("{result_text:?} is not one of answered, busy, no_answer, failed, cancelled"),
        )
    })?;
    match (result, answered_at) {
        (CallResult::Answered, None) => {
            return Err(("answer", "is required when result is answered".to_string()))
        }
        (r, Some(_)) if r != CallResult::Answered => {
            return Err((
                "answer",
                format!("must be empty when result is {}", r.as_str()),
            ))
        }
        _ => {}
    }
    let code_text = required(fields, SIP_CODE)?;
    let sip_code = match code_text.parse::<i64>() {
        Ok(c) if (100..=699).contains(&c) && code_text.bytes().all(|b| b.is_ascii_digit()) => c,
        _ => {
            return Err((
                "sip_code",
                format!("{code_text:?} is not a SIP status code (100 to 699)"),
            ))
        }
    };
    let mos = number(fields, MOS, 1.0..=5.0, "MOS is 1.0 to 5.0")?;
    let jitter_ms = number(fields, JITTER, 0.0..=f64::MAX, "jitter is 0 or more")?;
    let packet_loss_pct = number(fields, LOSS, 0.0..=100.0, "packet loss is 0 to 100 %")?;
    let country_text = required(fields, COUNTRY)?;
    let country = country_text.to_ascii_uppercase();
    if !countries::is_assigned(&country) {
        return Err((
            "country",
            format!("{country_text:?} is not an assigned ISO 3166-1 alpha-2 code"),
        ));
    }
    Ok(CallRecord {
        id: id.to_string(),
        service_id: service_id.clone(),
        started_at,
        answered_at,
        ended_at,
        direction,
        from: from.to_string(),
        to: to.to_string(),
        result,
        sip_code,
        sip_reason: fields[SIP_REASON].to_string(),
        mos,
        jitter_ms,
        packet_loss_pct,
        country,
    })
}

/// E.164 as the CDR format means it: `+` and 8 to 15 digits.
pub fn is_e164(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::fixtures::{rules, services, GOOD, NOW_MS};
    use super::*;

    fn with(changes: &[(usize, &'static str)]) -> Result<CallRecord, FieldError> {
        let mut f = GOOD;
        for (i, v) in changes {
            f[*i] = v;
        }
        validate(&f, &rules())
    }

    fn refused(changes: &[(usize, &'static str)], field: &str) {
        match with(changes) {
            Err((f, reason)) => assert_eq!(f, field, "{changes:?}: {reason}"),
            Ok(r) => panic!("{changes:?} was accepted: {r:?}"),
        }
    }

    #[test]
    fn a_good_row_is_accepted() {
        let r = with(&[]).unwrap();
        assert_eq!(r.service_id, "svc-a");
        assert_eq!(r.started_at, 1_772_355_600_000);
        assert_eq!(r.answered_at, Some(1_772_355_605_000));
        assert_eq!(r.ended_at - r.started_at, 125_000);
        assert_eq!(r.result, CallResult::Answered);
        assert_eq!(r.mos, Some(4.2));
        assert_eq!(r.country, "DE");
        // Optional fields may be empty; the reason may be empty; a lower-case country is fine.
        let r = with(&[
            (MOS, ""),
            (JITTER, ""),
            (LOSS, ""),
            (SIP_REASON, ""),
            (COUNTRY, "gb"),
        ])
        .unwrap();
        assert_eq!((r.mos, r.jitter_ms, r.packet_loss_pct), (None, None, None));
        assert_eq!(r.country, "GB");
        let r = with(&[(RESULT, "busy"), (ANSWER, ""), (SIP_CODE, "486")]).unwrap();
        assert_eq!(r.answered_at, None);
    }

    #[test]
    fn the_id_is_required_short_and_printable() {
        refused(&[(ID, "")], "id");
        refused(&[(ID, "a\tb")], "id");
        let long: &'static str = Box::leak("x".repeat(129).into_boxed_str());
        refused(&[(ID, long)], "id");
    }

    #[test]
    fn the_service_must_be_one_of_the_organisations() {
        refused(&[(SERVICE, "")], "service");
        refused(&[(SERVICE, "Trunk B")], "service");
        refused(&[(SERVICE, "trunk a")], "service");
    }

    #[test]
    fn timestamps_are_rfc3339_with_an_offset() {
        refused(&[(START, "")], "start");
        refused(&[(START, "2026-03-01 09:00:00Z")], "start");
        refused(&[(START, "2026-03-01T09:00:00")], "start");
        refused(&[(START, "2026-02-30T09:00:00Z")], "start");
        refused(&[(START, "2026-03-01T24:00:00Z")], "start");
        refused(&[(END, "2026-03-01T09:02:05+0100")], "end");
        refused(&[(END, "1772355600")], "end");
        refused(&[(ANSWER, "yesterday")], "answer");
    }

    #[test]
    fn timestamps_stay_in_a_sane_window_and_calls_are_bounded() {
        // Before 2000, and the whole 0000-9999 range a 24-hour bound would otherwise allow.
        refused(&[(START, "1999-12-31T23:59:59Z")], "start");
        refused(
            &[
                (START, "1950-01-01T00:00:00Z"),
                (ANSWER, "1950-01-01T00:00:01Z"),
                (END, "2049-01-01T00:00:00Z"),
            ],
            "start",
        );
        refused(&[(END, "9999-12-31T23:59:59Z")], "end");
        // More than a day after the import started.
        refused(
            &[
                (START, "2026-03-11T00:00:01Z"),
                (ANSWER, ""),
                (END, "2026-03-11T00:00:02Z"),
                (RESULT, "failed"),
            ],
            "start",
        );
        assert!(with(&[
            (START, "2026-03-10T23:00:00Z"),
            (ANSWER, ""),
            (END, "2026-03-10T23:00:05Z"),
            (RESULT, "failed"),
        ])
        .is_ok());
        // Longer than the longest call (24 h by default); exactly 24 h is accepted.
        refused(&[(END, "2026-03-02T09:00:00.001Z")], "end");
        assert!(with(&[(END, "2026-03-02T09:00:00Z")]).is_ok());
        let short = Rules::new(services(), NOW_MS, 60);
        let mut f = GOOD;
        f[END] = "2026-03-01T09:01:01Z";
        assert_eq!(validate(&f, &short).map_err(|e| e.0), Err("end"));
    }

    #[test]
    fn spreadsheet_cells_are_neutralised_and_restored() {
        for (text, safe) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'quoted", "''quoted"),
            ("''", "'''"),
            ("plain", "plain"),
            ("", ""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(spreadsheet_safe(text), safe, "{text:?}");
            assert_eq!(restore_cell(&spreadsheet_safe(text)), text, "{text:?}");
        }
        // Text from elsewhere that merely starts with an apostrophe is left alone.
        assert_eq!(restore_cell("'abc"), "'abc");
    }

    #[test]
    fn start_answer_end_are_in_order() {
        refused(&[(END, "2026-03-01T08:59:59Z")], "end");
        refused(&[(ANSWER, "2026-03-01T08:59:59Z")], "answer");
        refused(&[(ANSWER, "2026-03-01T09:02:06Z")], "answer");
        // Equal times are allowed, and an offset counts.
        assert!(with(&[
            (ANSWER, "2026-03-01T09:00:00Z"),
            (END, "2026-03-01T10:00:00+01:00")
        ])
        .is_ok());
    }

    #[test]
    fn answered_if_and_only_if_there_is_an_answer_time() {
        refused(&[(ANSWER, "")], "answer");
        refused(&[(RESULT, "failed"), (SIP_CODE, "503")], "answer");
        refused(&[(RESULT, "hung_up"), (ANSWER, "")], "result");
    }

    #[test]
    fn direction_is_inbound_or_outbound() {
        refused(&[(DIRECTION, "sideways")], "direction");
        refused(&[(DIRECTION, "Inbound")], "direction");
    }

    #[test]
    fn numbers_are_e164() {
        refused(&[(FROM, "441134960000")], "from");
        refused(&[(FROM, "+4411349600001234")], "from");
        refused(&[(TO, "+1234567")], "to");
        refused(&[(TO, "+44 113 496 0000")], "to");
        assert!(is_e164("+12345678") && is_e164("+123456789012345"));
    }

    #[test]
    fn sip_codes_are_100_to_699() {
        refused(&[(SIP_CODE, "99")], "sip_code");
        refused(&[(SIP_CODE, "700")], "sip_code");
        refused(&[(SIP_CODE, "+200")], "sip_code");
        refused(&[(SIP_CODE, "")], "sip_code");
    }

    #[test]
    fn quality_figures_are_in_range() {
        refused(&[(MOS, "0.9")], "mos");
        refused(&[(MOS, "5.01")], "mos");
        refused(&[(MOS, "NaN")], "mos");
        refused(&[(JITTER, "-1")], "jitter_ms");
        refused(&[(JITTER, "inf")], "jitter_ms");
        refused(&[(LOSS, "100.5")], "packet_loss_pct");
        refused(&[(LOSS, "-0.1")], "packet_loss_pct");
        refused(&[(LOSS, "lots")], "packet_loss_pct");
        assert!(with(&[(MOS, "1"), (LOSS, "100"), (JITTER, "0")]).is_ok());
    }

    #[test]
    fn the_country_is_an_assigned_code() {
        refused(&[(COUNTRY, "UK")], "country");
        refused(&[(COUNTRY, "DEU")], "country");
        refused(&[(COUNTRY, "")], "country");
    }
}
