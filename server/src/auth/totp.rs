//! Time-based one-time passwords (RFC 6238): secrets, the enrolment URI and QR code, and a
//! verification that refuses a code whose time step was already used.
//!
//! Codes are the ones every authenticator app makes: HMAC-SHA1, 6 digits, 30-second steps.
//! The HMAC comes from totp-rs (its `sign`); the RFC 4226 truncation and the verification are
//! ours, because totp-rs's `check` only answers yes or no: it cannot say which step matched, so
//! it cannot stop the same code being replayed within its window.

use std::fmt::Write as _;

use rand::{rngs::OsRng, RngCore};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq, ConstantTimeGreater};
use totp_rs::{Secret, TOTP};

/// Bytes in a TOTP secret: 160 bits, the length RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;
/// Seconds in one time step.
pub const STEP_SECS: u64 = 30;
/// Digits in a code.
pub const DIGITS: u32 = 6;

/// Why an enrolment URI or QR code could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    /// The issuer is empty or contains a colon.
    #[error("the TOTP issuer must be non-empty and must not contain ':'")]
    InvalidIssuer,
    /// The account name is empty or contains a colon.
    #[error("the TOTP account name must be non-empty and must not contain ':'")]
    InvalidAccount,
    /// The data does not fit in a QR code.
    #[error("the QR code could not be made: {0}")]
    Qr(#[from] qrcode::types::QrError),
}

/// The HMAC behind a code. Authenticator apps only reliably support SHA-1; the others are here
/// for the RFC 6238 test vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// HMAC-SHA1, what every authenticator app supports.
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

impl Algorithm {
    fn to_totp_rs(self) -> totp_rs::Algorithm {
        match self {
            Algorithm::Sha1 => totp_rs::Algorithm::SHA1,
            Algorithm::Sha256 => totp_rs::Algorithm::SHA256,
            Algorithm::Sha512 => totp_rs::Algorithm::SHA512,
        }
    }
}

/// A fresh random secret from the operating system's CSPRNG.
pub fn generate_secret() -> [u8; SECRET_BYTES] {
    let mut secret = [0u8; SECRET_BYTES];
    OsRng.fill_bytes(&mut secret);
    secret
}

/// The secret in RFC 4648 base32, upper case and unpadded: what authenticator apps accept
/// when the user types it in instead of scanning.
pub fn secret_base32(secret: &[u8]) -> String {
    match Secret::Raw(secret.to_vec()).to_encoded() {
        Secret::Encoded(text) => text,
        // `to_encoded` on a raw secret always gives the encoded form.
        Secret::Raw(_) => String::new(),
    }
}

/// The `otpauth://` URI an authenticator app scans (Google's "Key Uri Format").
///
/// The issuer appears twice, as the label prefix and as the `issuer` parameter, because older
/// apps read only one or the other. Both parts are percent-encoded (a space is `%20`, never
/// `+`). A colon in either is refused rather than encoded: apps split the decoded label on its
/// first colon, so `%3A` would still move text from the issuer to the account.
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> Result<String, TotpError> {
    if issuer.is_empty() || issuer.contains(':') {
        return Err(TotpError::InvalidIssuer);
    }
    if account.is_empty() || account.contains(':') {
        return Err(TotpError::InvalidAccount);
    }
    let issuer = percent_encode(issuer);
    Ok(format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}\
         &algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        account = percent_encode(account),
        secret = secret_base32(secret),
    ))
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so the result is safe in
/// both the path and the query of a URI.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// An SVG document of `data` as a QR code, black on white with the standard quiet zone, at
/// least 200 px square.
///
/// The colours are fixed rather than inherited so the code stays dark-on-light in a dark theme:
/// many phone cameras do not read inverted codes.
pub fn qr_svg(data: &str) -> Result<String, TotpError> {
    let code = qrcode::QrCode::new(data.as_bytes())?;
    let document = code
        .render::<qrcode::render::svg::Color<'_>>()
        // Set before `min_dimensions`, which counts the quiet zone when sizing modules.
        .quiet_zone(true)
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    // The page inlines the SVG into HTML, where an XML declaration has no place.
    Ok(match document.find("<svg") {
        Some(start) => document[start..].to_string(),
        None => document,
    })
}

/// The RFC 6238 time step that contains `unix_secs`.
pub fn time_step(unix_secs: u64) -> u64 {
    unix_secs / STEP_SECS
}

/// The HOTP code (RFC 4226) for counter `step`: the code shown during that time step.
///
/// `digits` is meaningful from 6 to 8 (the RFC's range); other values still give a
/// deterministic string, never a panic.
pub fn code_at_step(secret: &[u8], step: u64, digits: u32, algorithm: Algorithm) -> String {
    // totp-rs signs the big-endian counter `time / period`; with a one-second period the time
    // passed in is the counter itself. `new_unchecked` because legacy secrets shorter than
    // 128 bits must still verify, and we never use this value for a URI.
    let totp = TOTP::new_unchecked(
        algorithm.to_totp_rs(),
        digits as usize,
        0,
        1,
        secret.to_vec(),
        None,
        String::new(),
    );
    let mac = totp.sign(step);
    // RFC 4226 §5.3 dynamic truncation: the low nibble of the last byte picks four bytes.
    let offset = usize::from(mac.last().copied().unwrap_or(0) & 0x0f);
    let Some(window) = mac
        .get(offset..offset + 4)
        .and_then(|bytes| <[u8; 4]>::try_from(bytes).ok())
    else {
        // Unreachable (the shortest MAC, SHA-1, has 20 bytes); an empty code matches nothing,
        // so this fails closed.
        return String::new();
    };
    let value = u64::from(u32::from_be_bytes(window) & 0x7fff_ffff);
    // Done in u64 so no `digits` overflows; beyond 19 digits the value is just zero-padded.
    let value = match 10u64.checked_pow(digits) {
        Some(modulus) => value % modulus,
        None => value,
    };
    format!("{value:0width$}", width = digits as usize)
}

/// The code as typed, without spaces or dashes, if it is exactly six ASCII digits.
pub fn normalize_code(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (code.len() == DIGITS as usize && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// Checks `code` against the steps just before, at and just after `now_unix_secs` (the ±30 s
/// that clock drift and typing need), accepting only a step later than `last_used_step`.
///
/// Returns the step that matched. The caller must record it atomically
/// (`UPDATE … SET last_step = $step WHERE last_step < $step`, checking one row changed), so
/// two concurrent requests with the same code cannot both pass.
///
/// All three steps are always computed and compared in constant time, so the timing does not
/// show which one matched.
pub fn verify(
    secret: &[u8],
    code: &str,
    now_unix_secs: u64,
    last_used_step: Option<u64>,
) -> Option<u64> {
    let code = normalize_code(code)?;
    let now = time_step(now_unix_secs);
    let mut found = Choice::from(0);
    let mut matched = 0u64;
    for step in [now.checked_sub(1), Some(now), now.checked_add(1)]
        .into_iter()
        .flatten()
    {
        let expected = code_at_step(secret, step, DIGITS, Algorithm::Sha1);
        let same = expected.as_bytes().ct_eq(code.as_bytes());
        let fresh = match last_used_step {
            Some(last) => step.ct_gt(&last),
            None => Choice::from(1),
        };
        // The earliest acceptable step wins; later matches do not overwrite it.
        let accept = same & fresh & !found;
        matched = u64::conditional_select(&matched, &step, accept);
        found |= accept;
    }
    bool::from(found).then_some(matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_SHA1: &[u8] = b"12345678901234567890";
    const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";
    const SEED_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    #[test]
    fn rfc_6238_appendix_b_vectors() {
        // (time, SHA1, SHA256, SHA512), 8 digits, from RFC 6238 Appendix B.
        let vectors: [(u64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1_111_111_109, "07081804", "68084774", "25091201"),
            (1_111_111_111, "14050471", "67062674", "99943326"),
            (1_234_567_890, "89005924", "91819424", "93441116"),
            (2_000_000_000, "69279037", "90698825", "38618901"),
            (20_000_000_000, "65353130", "77737706", "47863826"),
        ];
        for (time, sha1, sha256, sha512) in vectors {
            let step = time_step(time);
            assert_eq!(code_at_step(SEED_SHA1, step, 8, Algorithm::Sha1), sha1);
            assert_eq!(
                code_at_step(SEED_SHA256, step, 8, Algorithm::Sha256),
                sha256
            );
            assert_eq!(
                code_at_step(SEED_SHA512, step, 8, Algorithm::Sha512),
                sha512
            );
            // The 6-digit code is the same truncation modulo 10^6: the last six digits. The
            // vectors also pass through the verification used at sign-in.
            assert_eq!(
                verify(SEED_SHA1, &sha1[2..], time, None),
                Some(step),
                "t={time}"
            );
            assert_eq!(
                verify(SEED_SHA1, &sha1[2..], time, Some(step)),
                None,
                "replay t={time}"
            );
        }
    }

    #[test]
    fn our_codes_match_totp_rs_for_the_production_settings() {
        let secret = generate_secret();
        let totp = TOTP::new(
            totp_rs::Algorithm::SHA1,
            6,
            0,
            30,
            secret.to_vec(),
            None,
            "x".to_string(),
        )
        .expect("valid settings");
        for time in [0, 29, 30, 59, 1_700_000_000, 1_700_000_029] {
            assert_eq!(
                code_at_step(&secret, time_step(time), DIGITS, Algorithm::Sha1),
                totp.generate(time)
            );
        }
    }

    #[test]
    fn odd_digit_counts_do_not_panic() {
        for digits in [0, 1, 9, 10, 19, 20, 40] {
            let code = code_at_step(SEED_SHA1, 1, digits, Algorithm::Sha1);
            assert_eq!(code.len(), (digits as usize).max(1));
        }
    }

    #[test]
    fn secrets_are_random_and_160_bits() {
        let a = generate_secret();
        let b = generate_secret();
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
    }

    #[test]
    fn base32_is_upper_case_and_unpadded() {
        assert_eq!(secret_base32(SEED_SHA1), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(secret_base32(b"f"), "MY");
    }

    #[test]
    fn verify_accepts_the_neighbouring_steps_only() {
        let secret = generate_secret();
        let now = 1_700_000_015;
        let step = time_step(now);
        let code = |s| code_at_step(&secret, s, DIGITS, Algorithm::Sha1);
        for s in [step - 1, step, step + 1] {
            assert_eq!(verify(&secret, &code(s), now, None), Some(s));
        }
        for s in [step - 2, step + 2] {
            // A code can coincide with a neighbour's (1 in a million); skip that case.
            if [step - 1, step, step + 1]
                .iter()
                .all(|&n| code(n) != code(s))
            {
                assert_eq!(verify(&secret, &code(s), now, None), None);
            }
        }
    }

    #[test]
    fn verify_accepts_formatted_input_and_rejects_garbage() {
        let secret = generate_secret();
        let now = 1_700_000_015;
        let code = code_at_step(&secret, time_step(now), DIGITS, Algorithm::Sha1);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(verify(&secret, &spaced, now, None).is_some());
        assert_eq!(verify(&secret, "", now, None), None);
        assert_eq!(verify(&secret, "abcdef", now, None), None);
    }

    #[test]
    fn verify_near_the_epoch_does_not_underflow() {
        let secret = generate_secret();
        let code = code_at_step(&secret, 0, DIGITS, Algorithm::Sha1);
        assert_eq!(verify(&secret, &code, 5, None), Some(0));
    }

    #[test]
    fn a_used_step_cannot_be_replayed() {
        let secret = generate_secret();
        let now = 1_700_000_015;
        let step = time_step(now);
        let code = code_at_step(&secret, step, DIGITS, Algorithm::Sha1);
        let used = verify(&secret, &code, now, None).expect("first use");
        assert_eq!(verify(&secret, &code, now, Some(used)), None);
        // Still refused ten seconds later, within the same window.
        assert_eq!(verify(&secret, &code, now + 10, Some(used)), None);
    }

    #[test]
    fn an_older_step_is_refused_after_a_newer_one_was_used() {
        let secret = generate_secret();
        let now = 1_700_000_015;
        let step = time_step(now);
        let older = code_at_step(&secret, step - 1, DIGITS, Algorithm::Sha1);
        if older != code_at_step(&secret, step + 1, DIGITS, Algorithm::Sha1) {
            assert_eq!(verify(&secret, &older, now, Some(step)), None);
        }
        let newer = code_at_step(&secret, step + 1, DIGITS, Algorithm::Sha1);
        assert_eq!(verify(&secret, &newer, now, Some(step)), Some(step + 1));
    }

    #[test]
    fn codes_are_normalized() {
        assert_eq!(normalize_code("123456"), Some("123456".to_string()));
        assert_eq!(normalize_code(" 123 456 "), Some("123456".to_string()));
        assert_eq!(normalize_code("123-456"), Some("123456".to_string()));
        assert_eq!(normalize_code("12345"), None);
        assert_eq!(normalize_code("1234567"), None);
        assert_eq!(normalize_code("12345a"), None);
        assert_eq!(normalize_code("１２３４５６"), None);
        assert_eq!(normalize_code(""), None);
    }

    #[test]
    fn the_otpauth_uri_is_encoded_and_parses_back() {
        let secret = generate_secret();
        let uri = otpauth_uri(&secret, "Voice Customer Portal", "alice@contoso.com")
            .expect("valid label");
        assert_eq!(
            uri,
            format!(
                "otpauth://totp/Voice%20Customer%20Portal:alice%40contoso.com?secret={}\
                 &issuer=Voice%20Customer%20Portal&algorithm=SHA1&digits=6&period=30",
                secret_base32(&secret)
            )
        );
        let parsed = TOTP::from_url(&uri).expect("parses");
        assert_eq!(parsed.issuer.as_deref(), Some("Voice Customer Portal"));
        assert_eq!(parsed.account_name, "alice@contoso.com");
        assert_eq!(parsed.secret, secret.to_vec());
        assert_eq!(parsed.algorithm, totp_rs::Algorithm::SHA1);
        assert_eq!(parsed.digits, 6);
        assert_eq!(parsed.step, 30);
    }

    #[test]
    fn a_colon_or_empty_label_part_is_refused() {
        let secret = generate_secret();
        assert_eq!(
            otpauth_uri(&secret, "Voice: Portal", "alice@contoso.com"),
            Err(TotpError::InvalidIssuer)
        );
        assert_eq!(
            otpauth_uri(&secret, "", "alice@contoso.com"),
            Err(TotpError::InvalidIssuer)
        );
        assert_eq!(
            otpauth_uri(&secret, "Voice Customer Portal", "alice:x@contoso.com"),
            Err(TotpError::InvalidAccount)
        );
        assert_eq!(
            otpauth_uri(&secret, "Voice Customer Portal", ""),
            Err(TotpError::InvalidAccount)
        );
    }

    #[test]
    fn the_qr_code_is_an_svg_document() {
        let svg =
            qr_svg("otpauth://totp/Voice%20Customer%20Portal:alice%40contoso.com").expect("fits");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("<svg"));
        assert!(svg.contains(r##"fill="#000000""##));
        assert!(svg.contains(r##"fill="#ffffff""##));
    }

    #[test]
    fn data_too_long_for_a_qr_code_is_an_error() {
        assert!(matches!(
            qr_svg(&"x".repeat(8000)),
            Err(TotpError::Qr(qrcode::types::QrError::DataTooLong))
        ));
    }
}
