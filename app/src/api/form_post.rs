//! The no-JavaScript encoding of the sign-in steps: what a plain form post of the sign-in,
//! code, forgotten-password, reset and invitation forms comes back with.
//!
//! Those five forms also work before (or without) the wasm: the server takes their
//! `application/x-www-form-urlencoded` post, runs the same sign-in function as the JSON API and
//! answers with a redirect (Post/Redirect/Get). A refusal comes back as `?error=CODE` (plus
//! `retry_after` or `reason` where the message needs them) on the form's own page, which shows
//! it with the words the JSON API answers with: the server builds its JSON messages from the
//! constants here, so the two encodings cannot drift apart. Nothing secret ever goes into
//! these URLs: no password, no code, only stable codes and numbers.

use crate::return_to::encode_query_value;

/// The query parameter that names a refusal.
pub const ERROR_PARAM: &str = "error";

/// The email address a refused sign-in or reset request was typed with (kept so it need not be
/// typed again; an address is not a secret, unlike everything else these forms carry).
pub const EMAIL_PARAM: &str = "email";

/// The longest address kept in a URL (the longest valid one is 254 characters).
pub const MAX_EMAIL_PARAM_LEN: usize = 254;

/// Wrong email or password (the same answer for an unknown address).
pub const INVALID_CREDENTIALS_MESSAGE: &str =
    "The email or password is not right. Check them and try again.";
/// The organisation signs in with Microsoft only (said after a right password).
pub const SSO_REQUIRED_MESSAGE: &str =
    "Your organisation signs in with Microsoft. Use \"Sign in with Microsoft\".";
/// The typed text is not an email address.
pub const EMAIL_FORMAT_MESSAGE: &str = "Enter your email address, like name@example.com.";
/// The password field was empty.
pub const PASSWORD_MISSING_MESSAGE: &str = "Enter your password.";
/// No sign-in waits for a code.
pub const NO_PENDING_SIGN_IN_MESSAGE: &str = "There is no sign-in waiting for a code (it may have timed out). Sign in again with your password.";
/// The fifth wrong code dropped the pending sign-in.
pub const SIGN_IN_DROPPED_MESSAGE: &str = "Too many wrong codes. For your security this sign-in was cancelled: sign in again with your password.";
/// A wrong code at sign-in.
pub const WRONG_SIGN_IN_CODE_MESSAGE: &str = "That code is not right. Enter the current code from your authenticator app or the latest code we e-mailed you, or one of your recovery codes.";
/// The account's codes are locked.
pub const CODES_LOCKED_MESSAGE: &str = "Too many wrong codes were entered for this account in a row, so its codes are locked. Reset your password (\"Forgot your password?\" on the sign-in page) to unlock them, or ask your administrator.";
/// An emailed link that is used, expired or replaced.
pub const INVALID_LINK_MESSAGE: &str = "This link is not valid any more: it was already used, has expired, or was replaced by a newer one. Ask for a new one.";
/// A new password under the minimum length.
pub const PASSWORD_TOO_SHORT_MESSAGE: &str =
    "The password is too short: use at least 12 characters (a few unrelated words work well).";
/// A new password over the maximum length.
pub const PASSWORD_TOO_LONG_MESSAGE: &str = "The password is too long: use at most 256 characters.";
/// A new password that is too easy to guess, when the detailed hint cannot travel (a form post
/// comes back through a URL, and free text in a URL would let anyone write on the page).
pub const PASSWORD_GUESSABLE_MESSAGE: &str = "The password is too easy to guess. Choose another: a few unrelated words work well; avoid your name, email address and organisation.";
/// The new password and its confirmation differ.
pub const PASSWORD_MISMATCH_MESSAGE: &str =
    "The two passwords are not the same. Type the same password in both fields.";
/// The database does not answer (`database_unreachable`).
pub const DATABASE_UNREACHABLE_MESSAGE: &str = "The portal cannot reach its database right now, so nothing was changed. Try again in a few seconds.";
/// The database's disk is full (`storage_full`).
pub const STORAGE_FULL_MESSAGE: &str = "The portal's database is out of space, so nothing was saved. Viewing still works; try the change again later.";
/// A bug on the server's side (the request id is in the log).
pub const INTERNAL_MESSAGE: &str = "Something went wrong on our side. Try again; if it keeps happening, contact support and quote the request id.";

/// The message of a rate-limit refusal that lifts in `retry_after_secs`.
pub fn rate_limited_message(retry_after_secs: u64) -> String {
    let minutes = retry_after_secs.div_ceil(60);
    format!(
        "Too many attempts. Wait {minutes} minute{} and try again.",
        if minutes == 1 { "" } else { "s" }
    )
}

/// Why a new password was refused, as it can travel in a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeakPassword {
    /// Under 12 characters.
    TooShort,
    /// Over 256 characters.
    TooLong,
    /// Too easy to guess.
    Guessable,
}

impl WeakPassword {
    fn reason(self) -> &'static str {
        match self {
            WeakPassword::TooShort => "too_short",
            WeakPassword::TooLong => "too_long",
            WeakPassword::Guessable => "guessable",
        }
    }

    fn from_reason(reason: &str) -> Option<Self> {
        Some(match reason {
            "too_short" => WeakPassword::TooShort,
            "too_long" => WeakPassword::TooLong,
            "guessable" => WeakPassword::Guessable,
            _ => return None,
        })
    }
}

/// A refusal a form post redirects back with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormRefusal {
    /// The email field is not an address.
    InvalidEmail,
    /// The password field was empty.
    MissingPassword,
    /// Wrong email or password.
    InvalidCredentials,
    /// The organisation signs in with Microsoft only.
    SsoRequired,
    /// Too many attempts.
    RateLimited {
        /// Seconds until the next attempt may be made.
        retry_after_secs: u64,
    },
    /// A wrong code at sign-in.
    InvalidCode,
    /// No sign-in waits for a code.
    MfaExpired,
    /// The fifth wrong code dropped the sign-in.
    SignInDropped,
    /// The account's codes are locked.
    CodesLocked,
    /// The emailed link is used, expired or replaced.
    InvalidLink,
    /// The new password was refused.
    WeakPassword(WeakPassword),
    /// The new password and its confirmation differ.
    PasswordMismatch,
    /// The database does not answer.
    DatabaseUnreachable,
    /// The database's disk is full.
    StorageFull,
    /// A bug on the server's side.
    Internal,
}

impl FormRefusal {
    /// The stable code (`?error=`); the JSON API's code where there is one.
    pub fn code(self) -> &'static str {
        match self {
            FormRefusal::InvalidEmail => "invalid_email",
            FormRefusal::MissingPassword => "missing_password",
            FormRefusal::InvalidCredentials => "invalid_credentials",
            FormRefusal::SsoRequired => "sso_required",
            FormRefusal::RateLimited { .. } => "rate_limited",
            FormRefusal::InvalidCode => "invalid_code",
            FormRefusal::MfaExpired => "mfa_expired",
            FormRefusal::SignInDropped => "sign_in_dropped",
            FormRefusal::CodesLocked => "codes_locked",
            FormRefusal::InvalidLink => "invalid_link",
            FormRefusal::WeakPassword(_) => "weak_password",
            FormRefusal::PasswordMismatch => "password_mismatch",
            FormRefusal::DatabaseUnreachable => "database_unreachable",
            FormRefusal::StorageFull => "storage_full",
            FormRefusal::Internal => "internal",
        }
    }

    /// What the page says, in the JSON API's words.
    pub fn message(self) -> String {
        match self {
            FormRefusal::InvalidEmail => EMAIL_FORMAT_MESSAGE.to_string(),
            FormRefusal::MissingPassword => PASSWORD_MISSING_MESSAGE.to_string(),
            FormRefusal::InvalidCredentials => INVALID_CREDENTIALS_MESSAGE.to_string(),
            FormRefusal::SsoRequired => SSO_REQUIRED_MESSAGE.to_string(),
            FormRefusal::RateLimited { retry_after_secs } => rate_limited_message(retry_after_secs),
            FormRefusal::InvalidCode => WRONG_SIGN_IN_CODE_MESSAGE.to_string(),
            FormRefusal::MfaExpired => NO_PENDING_SIGN_IN_MESSAGE.to_string(),
            FormRefusal::SignInDropped => SIGN_IN_DROPPED_MESSAGE.to_string(),
            FormRefusal::CodesLocked => CODES_LOCKED_MESSAGE.to_string(),
            FormRefusal::InvalidLink => INVALID_LINK_MESSAGE.to_string(),
            FormRefusal::WeakPassword(WeakPassword::TooShort) => {
                PASSWORD_TOO_SHORT_MESSAGE.to_string()
            }
            FormRefusal::WeakPassword(WeakPassword::TooLong) => {
                PASSWORD_TOO_LONG_MESSAGE.to_string()
            }
            FormRefusal::WeakPassword(WeakPassword::Guessable) => {
                PASSWORD_GUESSABLE_MESSAGE.to_string()
            }
            FormRefusal::PasswordMismatch => PASSWORD_MISMATCH_MESSAGE.to_string(),
            FormRefusal::DatabaseUnreachable => DATABASE_UNREACHABLE_MESSAGE.to_string(),
            FormRefusal::StorageFull => STORAGE_FULL_MESSAGE.to_string(),
            FormRefusal::Internal => INTERNAL_MESSAGE.to_string(),
        }
    }

    /// Whether the refusal is about the service rather than what was typed (too many
    /// attempts, the database down or full, a bug): every form shows it in the same place.
    pub fn is_general(self) -> bool {
        matches!(
            self,
            FormRefusal::RateLimited { .. }
                | FormRefusal::DatabaseUnreachable
                | FormRefusal::StorageFull
                | FormRefusal::Internal
        )
    }

    /// The form field the refusal is about, when it is about one (`email`, `password`,
    /// `confirm`).
    pub fn field(self) -> Option<&'static str> {
        match self {
            FormRefusal::InvalidEmail => Some("email"),
            FormRefusal::MissingPassword | FormRefusal::WeakPassword(_) => Some("password"),
            FormRefusal::PasswordMismatch => Some("confirm"),
            _ => None,
        }
    }

    /// The query parameters that carry the refusal (`error=…`, and `retry_after=…` or
    /// `reason=…`), without a leading `?` or `&`.
    pub fn to_query(self) -> String {
        let code = self.code();
        match self {
            FormRefusal::RateLimited { retry_after_secs } => {
                format!("{ERROR_PARAM}={code}&retry_after={retry_after_secs}")
            }
            FormRefusal::WeakPassword(weak) => {
                format!("{ERROR_PARAM}={code}&reason={}", weak.reason())
            }
            _ => format!("{ERROR_PARAM}={code}"),
        }
    }

    /// The refusal a page's query names, read through `get` (a query map's lookup); `None`
    /// for no `error`, or a code that is not a form refusal (the page may know it otherwise,
    /// e.g. a single sign-on refusal). Unknown values are never shown as text.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let code = get(ERROR_PARAM)?;
        Some(match code.as_str() {
            "invalid_email" => FormRefusal::InvalidEmail,
            "missing_password" => FormRefusal::MissingPassword,
            "invalid_credentials" => FormRefusal::InvalidCredentials,
            "sso_required" => FormRefusal::SsoRequired,
            "rate_limited" => FormRefusal::RateLimited {
                retry_after_secs: get("retry_after")?.parse().ok()?,
            },
            "invalid_code" => FormRefusal::InvalidCode,
            "mfa_expired" => FormRefusal::MfaExpired,
            "sign_in_dropped" => FormRefusal::SignInDropped,
            "codes_locked" => FormRefusal::CodesLocked,
            "invalid_link" => FormRefusal::InvalidLink,
            "weak_password" => {
                FormRefusal::WeakPassword(WeakPassword::from_reason(&get("reason")?)?)
            }
            "password_mismatch" => FormRefusal::PasswordMismatch,
            "database_unreachable" => FormRefusal::DatabaseUnreachable,
            "storage_full" => FormRefusal::StorageFull,
            "internal" => FormRefusal::Internal,
            _ => return None,
        })
    }
}

/// `path` with `params` (already encoded `name=value` pairs, empty ones skipped) added to its
/// query.
pub fn with_query(path: &str, params: &[&str]) -> String {
    let mut url = path.to_string();
    for param in params.iter().filter(|p| !p.is_empty()) {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(param);
    }
    url
}

/// The `email=…` parameter that keeps a typed address, or nothing when it is empty or longer
/// than an address can be.
pub fn email_param(typed: &str) -> String {
    let typed = typed.trim();
    if typed.is_empty() || typed.len() > MAX_EMAIL_PARAM_LEN || typed.chars().any(char::is_control)
    {
        return String::new();
    }
    format!("{EMAIL_PARAM}={}", encode_query_value(typed))
}

/// For the pages' tests: a query string as the lookup [`FormRefusal::from_query`] takes.
#[cfg(test)]
pub mod testing {
    /// `name`'s value in `query` (`a=1&b=2`, not decoded), as a query map's `get` gives it.
    pub fn query(query: &str) -> impl Fn(&str) -> Option<String> {
        let query = query.to_string();
        move |name: &str| {
            query
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Option<FormRefusal> {
        FormRefusal::from_query(testing::query(query))
    }

    #[test]
    fn every_refusal_survives_the_trip_through_the_url() {
        for refusal in [
            FormRefusal::InvalidEmail,
            FormRefusal::MissingPassword,
            FormRefusal::InvalidCredentials,
            FormRefusal::SsoRequired,
            FormRefusal::RateLimited {
                retry_after_secs: 61,
            },
            FormRefusal::InvalidCode,
            FormRefusal::MfaExpired,
            FormRefusal::SignInDropped,
            FormRefusal::CodesLocked,
            FormRefusal::InvalidLink,
            FormRefusal::WeakPassword(WeakPassword::TooShort),
            FormRefusal::WeakPassword(WeakPassword::TooLong),
            FormRefusal::WeakPassword(WeakPassword::Guessable),
            FormRefusal::PasswordMismatch,
            FormRefusal::DatabaseUnreachable,
            FormRefusal::StorageFull,
            FormRefusal::Internal,
        ] {
            assert_eq!(parse(&refusal.to_query()), Some(refusal), "{refusal:?}");
            assert!(refusal.message().ends_with('.'), "{refusal:?}");
        }
    }

    #[test]
    fn unknown_or_incomplete_codes_are_not_refusals() {
        assert_eq!(parse(""), None);
        assert_eq!(parse("error=tenant_not_linked"), None);
        assert_eq!(parse("error=<script>"), None);
        assert_eq!(parse("error=rate_limited"), None);
        assert_eq!(parse("error=rate_limited&retry_after=soon"), None);
        assert_eq!(parse("error=weak_password&reason=because"), None);
    }

    #[test]
    fn the_rate_limit_message_counts_whole_minutes() {
        assert_eq!(
            rate_limited_message(60),
            "Too many attempts. Wait 1 minute and try again."
        );
        assert_eq!(
            rate_limited_message(61),
            "Too many attempts. Wait 2 minutes and try again."
        );
    }

    #[test]
    fn a_typed_address_is_kept_encoded_and_bounded() {
        assert_eq!(
            email_param(" ana+x@contoso.example "),
            "email=ana%2Bx%40contoso.example"
        );
        assert_eq!(email_param(""), "");
        assert_eq!(email_param(&"a".repeat(MAX_EMAIL_PARAM_LEN + 1)), "");
        assert_eq!(email_param("a\r\nb@c.d"), "");
    }

    #[test]
    fn parameters_are_added_to_any_query() {
        assert_eq!(
            with_query("/login", &["error=x", "", "email=a"]),
            "/login?error=x&email=a"
        );
        assert_eq!(
            with_query("/login?return_to=/calls", &["error=x"]),
            "/login?return_to=/calls&error=x"
        );
    }
}
