//! Where to send someone after signing in: the `return_to` query parameter, made safe.
//!
//! `return_to` arrives from a URL anyone can craft, so it must never lead off the portal (an
//! open redirect is a phishing tool). Only same-site paths pass: a single leading `/`, no
//! backslashes, control characters or dot segments in the path, also after percent-decoding
//! (browsers and proxies decode, sometimes more than once). Anything else becomes `/`.
//!
//! The browser (sign-in pages) and the server (its redirects) use the same function, so it is
//! pure: no `web-sys`, no allocation beyond the answer.

use std::borrow::Cow;

/// Where to go when `return_to` is missing or refused.
pub const DEFAULT_RETURN_TO: &str = "/";

/// The longest `return_to` kept; longer values are refused (they also travel in cookies and
/// URLs with length limits, and no portal page needs more).
pub const MAX_RETURN_TO_LEN: usize = 2048;

/// How many rounds of percent-decoding are checked. A value that still changes after this
/// many rounds is refused: no honest link is encoded that deeply.
const DECODE_ROUNDS: usize = 4;

/// The query parameter's name, for building URLs.
pub const RETURN_TO_PARAM: &str = "return_to";

/// `raw` when it is a safe same-site path (query string and fragment kept as they are), else
/// [`DEFAULT_RETURN_TO`].
///
/// Refused: a missing or empty value; anything not starting with exactly one `/` (`//host`,
/// absolute URLs, `javascript:`); `/\host`; backslashes, dot segments (`.`/`..`) or control
/// characters (CR, LF, tab, …) in the path, also once percent-decoded, up to a few rounds;
/// control characters anywhere; values over [`MAX_RETURN_TO_LEN`] bytes; and the sign-in
/// pages themselves (`/login`, `/login/…`), which would only loop.
///
/// ```
/// use app::return_to::sanitize_return_to;
/// assert_eq!(sanitize_return_to(Some("/calls?result=failed")), "/calls?result=failed");
/// assert_eq!(sanitize_return_to(Some("//evil.example")), "/");
/// ```
pub fn sanitize_return_to(raw: Option<&str>) -> String {
    match raw {
        Some(value) if is_safe_return_to(value) => value.to_string(),
        _ => DEFAULT_RETURN_TO.to_string(),
    }
}

/// `path` with `return_to` added as a query parameter, percent-encoded; `path` unchanged when
/// `return_to` is the default `/` (nothing to remember). `path` may already have a query.
///
/// ```
/// use app::return_to::with_return_to;
/// assert_eq!(with_return_to("/login/mfa", "/calls?x=1"), "/login/mfa?return_to=/calls%3Fx%3D1");
/// ```
pub fn with_return_to(path: &str, return_to: &str) -> String {
    if return_to == DEFAULT_RETURN_TO || return_to.is_empty() {
        return path.to_string();
    }
    let separator = if path.contains('?') { '&' } else { '?' };
    format!(
        "{path}{separator}{RETURN_TO_PARAM}={}",
        encode_query_value(return_to)
    )
}

/// Percent-encodes `value` for use as a query parameter value: everything except the
/// unreserved characters (`A-Z a-z 0-9 - . _ ~`) and `/`, which is allowed in a query and
/// keeps paths readable.
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX_UPPER[usize::from(byte >> 4)]));
            out.push(char::from(HEX_UPPER[usize::from(byte & 0x0f)]));
        }
    }
    out
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

fn is_safe_return_to(raw: &str) -> bool {
    if raw.is_empty() || raw.len() > MAX_RETURN_TO_LEN || raw.chars().any(char::is_control) {
        return false;
    }
    // The query and fragment are kept as they are; only the path decides where we land.
    let path_end = raw.find(['?', '#']).unwrap_or(raw.len());
    let mut path = Cow::Borrowed(&raw[..path_end]);
    for _ in 0..=DECODE_ROUNDS {
        if !is_safe_path(&path) {
            return false;
        }
        let decoded = percent_decode(&path);
        if decoded == path {
            return true;
        }
        path = Cow::Owned(decoded);
    }
    false
}

/// One round's checks on a (possibly decoded) path.
fn is_safe_path(path: &str) -> bool {
    let mut chars = path.chars();
    if chars.next() != Some('/') {
        return false;
    }
    // `//host` is protocol-relative; browsers treat `\` like `/` (so `/\host` is too).
    if matches!(chars.next(), Some('/' | '\\')) {
        return false;
    }
    if path.contains('\\') || path.chars().any(char::is_control) {
        return false;
    }
    // Dot segments are never part of a portal link, and resolving them could turn an allowed
    // path into a refused one (`/x/../login`).
    if path
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return false;
    }
    !is_sign_in_path(path)
}

/// Whether `path` is `/login` or below it (compared without case: the decision must not
/// depend on how a server treats case).
fn is_sign_in_path(path: &str) -> bool {
    // A decoded `?` or `#` ends the path as far as a browser is concerned.
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let first_segment = path.trim_start_matches('/').split('/').next().unwrap_or("");
    first_segment.eq_ignore_ascii_case("login")
}

/// Decodes `%XX` escapes (invalid ones are kept literally); invalid UTF-8 becomes U+FFFD.
fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                out.push(high << 4 | low);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sanitized(raw: &str) -> String {
        sanitize_return_to(Some(raw))
    }

    #[test]
    fn missing_or_empty_goes_to_the_overview() {
        assert_eq!(sanitize_return_to(None), "/");
        assert_eq!(sanitized(""), "/");
    }

    #[test]
    fn local_paths_are_kept_as_they_are() {
        for path in [
            "/",
            "/calls",
            "/services/42",
            "/calls?from=2026-01-01&result=failed",
            "/numbers?q=%2B44%2020",
            "/calls#latest",
            "/security?enrol=required",
            "/caf%C3%A9",
            "/café",
            "/logins-report",
            "/reports/login",
            "/a/.hidden",
        ] {
            assert_eq!(sanitized(path), path, "{path} should be kept");
        }
    }

    #[test]
    fn the_query_may_hold_anything_printable() {
        // Only the path decides where the browser goes.
        assert_eq!(
            sanitized("/calls?next=//evil.example"),
            "/calls?next=//evil.example"
        );
        assert_eq!(sanitized("/calls?q=a\\b"), "/calls?q=a\\b");
        assert_eq!(sanitized("/calls?q=%0d%0a"), "/calls?q=%0d%0a");
    }

    #[test]
    fn other_sites_are_refused() {
        for raw in [
            "//evil.example",
            "//evil.example/path",
            "///evil.example",
            "https://evil.example",
            "http://localhost:3000/calls",
            "evil.example",
            "calls",
            "./calls",
            "../calls",
            " /calls",
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "\\\\evil.example",
        ] {
            assert_eq!(sanitized(raw), "/", "{raw:?} should be refused");
        }
    }

    #[test]
    fn backslashes_in_the_path_are_refused() {
        for raw in ["/\\evil.example", "/\\/evil.example", "/calls\\x", "/a/b\\"] {
            assert_eq!(sanitized(raw), "/", "{raw:?} should be refused");
        }
    }

    #[test]
    fn encoded_slashes_and_backslashes_are_refused() {
        for raw in [
            "%2F%2Fevil.example",
            "%2f%2fevil.example",
            "/%2F%2Fevil.example",
            "/%2fevil.example",
            "/%5Cevil.example",
            "/%5cevil.example",
            "/calls%5Cx",
            // Double and triple encoding.
            "/%252F%252Fevil.example",
            "/%25252F%25252Fevil.example",
            "/%255Cevil.example",
        ] {
            assert_eq!(sanitized(raw), "/", "{raw:?} should be refused");
        }
    }

    #[test]
    fn values_still_changing_after_several_decodings_are_refused() {
        // Five rounds of encoding of an innocent `/`: no honest link looks like this.
        assert_eq!(sanitized("/a%252525252F"), "/");
        // Four rounds are still decoded and checked.
        assert_eq!(sanitized("/a%2525252F"), "/a%2525252F");
        assert_eq!(sanitized("/%2525252F%2525252Fevil"), "/");
    }

    #[test]
    fn control_characters_are_refused_anywhere() {
        for raw in [
            "/calls\r\nSet-Cookie: x=1",
            "/calls\n",
            "/\t/evil.example",
            "/calls?q=\r\n",
            "/calls\u{0}",
            "/calls\u{7f}",
            "/calls\u{85}",
            "/%0d%0aSet-Cookie:x",
            "/%09/evil.example",
            "/%00",
        ] {
            assert_eq!(sanitized(raw), "/", "{raw:?} should be refused");
        }
    }

    #[test]
    fn dot_segments_are_refused() {
        for raw in [
            "/calls/../login",
            "/./calls",
            "/calls/..",
            "/%2e%2e/x",
            "/.%2E/x",
        ] {
            assert_eq!(sanitized(raw), "/", "{raw:?} should be refused");
        }
    }

    #[test]
    fn the_sign_in_pages_are_never_a_destination() {
        for raw in [
            "/login",
            "/login/",
            "/login/mfa",
            "/login?return_to=/calls",
            "/login#x",
            "/LOGIN",
            "/Login/MFA",
            "/%6Cogin",
            "/login%2Fmfa",
            "/login%3Freturn_to=/calls",
        ] {
            assert_eq!(sanitized(raw), "/", "{raw:?} should be refused");
        }
    }

    #[test]
    fn overlong_values_are_refused() {
        let long = format!("/{}", "a".repeat(MAX_RETURN_TO_LEN));
        assert_eq!(sanitized(&long), "/");
        let just_fits = format!("/{}", "a".repeat(MAX_RETURN_TO_LEN - 1));
        assert_eq!(sanitized(&just_fits), just_fits);
    }

    #[test]
    fn invalid_escapes_are_harmless() {
        assert_eq!(sanitized("/100%"), "/100%");
        assert_eq!(sanitized("/100%zz"), "/100%zz");
        assert_eq!(sanitized("/%C3"), "/%C3");
        assert_eq!(sanitized("/%"), "/%");
        assert_eq!(sanitized("/%2"), "/%2");
    }

    #[test]
    fn percent_decoding_handles_edges() {
        assert_eq!(percent_decode("/a%20b"), "/a b");
        assert_eq!(percent_decode("/a%2"), "/a%2");
        assert_eq!(percent_decode("%41%42"), "AB");
        assert_eq!(percent_decode("/%FF"), "/\u{fffd}");
    }

    #[test]
    fn return_to_is_added_encoded_unless_it_is_the_default() {
        assert_eq!(with_return_to("/login/mfa", "/"), "/login/mfa");
        assert_eq!(with_return_to("/login/mfa", ""), "/login/mfa");
        assert_eq!(
            with_return_to("/login/mfa", "/calls"),
            "/login/mfa?return_to=/calls"
        );
        assert_eq!(
            with_return_to(
                "/security?enrol=required",
                "/calls?from=2026-01-01&result=failed"
            ),
            "/security?enrol=required&return_to=/calls%3Ffrom%3D2026-01-01%26result%3Dfailed"
        );
    }

    #[test]
    fn an_encoded_return_to_survives_the_round_trip() {
        let original = "/calls?from=2026-01-01&result=failed#x";
        let encoded = encode_query_value(original);
        assert_eq!(percent_decode(&encoded), original);
        assert_eq!(sanitized(&percent_decode(&encoded)), original);
    }

    #[test]
    fn encoding_escapes_everything_but_unreserved_and_slash() {
        assert_eq!(encode_query_value("/a b+c%é"), "/a%20b%2Bc%25%C3%A9");
        assert_eq!(encode_query_value("AZaz09-._~/"), "AZaz09-._~/");
    }
}
