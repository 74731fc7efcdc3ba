//! One-time codes sent by e-mail: an opt-in second factor for local users who cannot use an
//! authenticator app.
//!
//! A code is 8 random digits, valid for [`VALID_MS`], usable once, and only in the session and
//! for the purpose it was sent for (turning the method on, completing a sign-in, a step-up).
//! A user has at most one code outstanding: a new one replaces the last. Only a keyed hash is
//! stored (HMAC-SHA256 under the recovery-code key, bound to the user): 10^8 codes are too few
//! to keep behind a plain hash. Sending is limited per account ([`SENDS_PER_ACCOUNT`]);
//! checking a code counts against the same allowances as an authenticator code
//! (`auth::verification`).

use rand::{rngs::OsRng, Rng};
use serde_json::json;

use super::{rate_limit, AuthContext, AuthResult};
use crate::{
    audit::{self, Event, RequestMeta},
    auth::recovery,
    db::{self, mfa::NewEmailCode, users::User},
    mail::Mail,
};

/// Digits in a code.
pub const DIGITS: usize = 8;
/// How long a code is valid: 10 minutes.
pub const VALID_MS: i64 = 10 * 60 * 1000;
/// Codes sent per account in the rate-limit window (every send counts).
pub const SENDS_PER_ACCOUNT: rate_limit::Limit = rate_limit::Limit {
    scope: "email_code_account",
    max_failures: 5,
};

/// What a code is for; a code works only for the purpose it was sent for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Confirms turning e-mail codes on.
    Enrol,
    /// Completes a pending sign-in.
    SignIn,
    /// Proves the factor before a dangerous action.
    StepUp,
}

impl Purpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Enrol => "enrol",
            Purpose::SignIn => "sign_in",
            Purpose::StepUp => "step_up",
        }
    }

    /// What the mail says the code is for.
    fn words(self) -> &'static str {
        match self {
            Purpose::Enrol => "to turn on sign-in codes by e-mail",
            Purpose::SignIn => "to finish signing in",
            Purpose::StepUp => "to confirm it's you before a sensitive change",
        }
    }
}

/// A fresh code: 8 uniformly random digits from the operating system's CSPRNG.
pub fn generate() -> String {
    format!("{:08}", OsRng.gen_range(0..100_000_000u32))
}

/// The code as typed, without spaces or dashes, if it is exactly 8 ASCII digits.
pub fn normalize(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// The stored hash of `code` (normalised) for `user_id`.
fn hash(pepper: &[u8; 32], user_id: &str, code: &str) -> String {
    recovery::hash_code(&format!("email-code\u{0}{user_id}\u{0}{code}"), pepper)
}

/// "1234 5678": easier to read and type from a mail.
fn spaced(code: &str) -> String {
    format!("{} {}", &code[..4], &code[4..])
}

/// Sends `user` a new code for `purpose` in the session `session_id`, replacing any earlier
/// one; refused with 429 when the account had [`SENDS_PER_ACCOUNT`] codes in the window.
pub async fn send(
    ctx: &AuthContext<'_>,
    meta: &RequestMeta,
    user: &User,
    purpose: Purpose,
    session_id: &str,
) -> AuthResult<()> {
    // Every send is counted and kept: the limit bounds the mail a password can cause.
    let sent = rate_limit::reserve(ctx, meta, SENDS_PER_ACCOUNT, &user.id).await?;
    drop(sent);
    let code = generate();
    let now = ctx.clock.now_ms();
    let code_hash = hash(ctx.recovery_pepper, &user.id, &code);
    db::mfa::replace_email_code(
        ctx.db.pool(),
        &user.id,
        NewEmailCode {
            purpose: purpose.as_str(),
            session_id,
            code_hash: &code_hash,
            created_at: now,
            expires_at: now + VALID_MS,
        },
    )
    .await?;
    audit::record(
        ctx.db.pool(),
        now,
        meta,
        Event::own(
            user,
            "mfa.email_code_sent",
            json!({"purpose": purpose.as_str()}),
        ),
    )
    .await?;
    let product = app::product::PRODUCT_NAME;
    ctx.mailer.send_later(Mail {
        to: user.email.clone(),
        subject: format!("Your {product} code"),
        body: format!(
            "Hello,\n\nYour code {} is:\n\n    {}\n\nIt works once, for the next 10 minutes. Nobody from the carrier will ever ask you for it.\n\nIf you did not ask for a code, someone may know your password: change it at {}/login (\"Forgot your password?\").\n",
            purpose.words(),
            spaced(&code),
            ctx.public_origin
        ),
    });
    Ok(())
}

/// Uses up `user`'s code if `input` is it, sent for `purpose` in `session_id` and not
/// expired: true for exactly one caller. Input that is not 8 digits is simply wrong.
pub async fn check(
    ctx: &AuthContext<'_>,
    user: &User,
    purpose: Purpose,
    session_id: &str,
    input: &str,
) -> AuthResult<bool> {
    let Some(code) = normalize(input) else {
        return Ok(false);
    };
    let code_hash = hash(ctx.recovery_pepper, &user.id, &code);
    Ok(db::mfa::use_email_code(
        ctx.db.pool(),
        &user.id,
        purpose.as_str(),
        session_id,
        &code_hash,
        ctx.clock.now_ms(),
    )
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_eight_digits_and_vary() {
        let a = generate();
        assert_eq!(a.len(), DIGITS);
        assert!(a.bytes().all(|b| b.is_ascii_digit()));
        let distinct: std::collections::HashSet<String> = (0..50).map(|_| generate()).collect();
        assert!(distinct.len() > 45, "{distinct:?}");
    }

    #[test]
    fn normalize_takes_spaces_and_dashes_and_nothing_else() {
        assert_eq!(normalize("1234 5678"), Some("12345678".into()));
        assert_eq!(normalize(" 1234-5678 "), Some("12345678".into()));
        assert_eq!(normalize("123456"), None);
        assert_eq!(normalize("123456789"), None);
        assert_eq!(normalize("1234567a"), None);
        assert_eq!(normalize("１２３４５６７８"), None);
    }

    #[test]
    fn the_hash_is_bound_to_the_user_and_keyed() {
        let k1 = [1u8; 32];
        let k2 = [2u8; 32];
        assert_eq!(hash(&k1, "u1", "12345678"), hash(&k1, "u1", "12345678"));
        assert_ne!(hash(&k1, "u1", "12345678"), hash(&k1, "u2", "12345678"));
        assert_ne!(hash(&k1, "u1", "12345678"), hash(&k2, "u1", "12345678"));
        assert_eq!(spaced("12345678"), "1234 5678");
    }
}
