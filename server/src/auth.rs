//! Authentication: passwords, TOTP, recovery codes, secrets at rest, sessions, CSRF and
//! rate limits.

pub mod api_token;
pub mod api_tokens;
pub mod email_code;
pub mod entra;
pub mod factors;
pub mod hashing;
pub mod mfa;
pub mod password;
pub mod rate_limit;
pub mod recovery;
pub mod secretbox;
pub mod session;
pub mod session_cache;
pub mod sign_in;
pub mod step_up;
pub mod totp;
pub mod verification;

use crate::{clock::Clock, db::Db, faults::Faults, mail::Mailer};

use hashing::PasswordWorkers;
use secretbox::SecretBox;
use session_cache::SessionCache;

/// What the sign-in rules work with, borrowed from the running portal's state
/// (`AppState::auth`): the database, the clock, this instance's session cache, the password
/// hashers, the mailer, the sealed-secret box, the recovery-code key, the portal's origin (for links in mail), the
/// session lifetimes and the test hooks. Nothing else of the server reaches these modules.
#[derive(Clone, Copy)]
pub struct AuthContext<'a> {
    /// The database.
    pub db: &'a Db,
    /// The time (movable in tests).
    pub clock: &'a Clock,
    /// Recently resolved sessions of this instance.
    pub sessions: &'a SessionCache,
    /// Argon2id off the async runtime, bounded.
    pub passwords: &'a PasswordWorkers,
    /// Outgoing email.
    pub mailer: &'a Mailer,
    /// Encrypts secrets at rest (TOTP secrets).
    pub secrets: &'a SecretBox,
    /// Key of the recovery-code hashes.
    pub recovery_pepper: &'a [u8; 32],
    /// `PORTAL_PUBLIC_URL`'s origin.
    pub public_origin: &'a str,
    /// How long sessions last.
    pub lifetimes: SessionLifetimes,
    /// Test hooks (all off unless a test sets them).
    pub faults: &'a Faults,
}

/// How long sessions last, in seconds (`PORTAL_SESSION_IDLE_SECS`,
/// `PORTAL_SESSION_ABSOLUTE_SECS`, `PORTAL_MFA_PENDING_SECS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifetimes {
    /// A full session ends after this long without a request.
    pub idle_secs: i64,
    /// A full session ends this long after sign-in, however busy.
    pub absolute_secs: i64,
    /// A sign-in waiting for its code ends after this long.
    pub mfa_pending_secs: i64,
}

/// Why an authentication step was refused, or could not be made. The HTTP layer turns each
/// into its status, stable code and message (`http::error`).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Too many failures under a rate limit; retry after this many seconds.
    #[error("too many attempts; retry after {retry_after_secs} s")]
    RateLimited {
        /// Seconds until the key is unblocked.
        retry_after_secs: u64,
    },
    /// No sign-in is waiting for a code (gone, timed out, already stepped up).
    #[error("no sign-in is waiting for a code")]
    NoPendingSignIn,
    /// The fifth wrong code dropped the pending sign-in.
    #[error("too many wrong codes: the sign-in was cancelled")]
    SignInDropped,
    /// A wrong code at sign-in (an authenticator or a recovery code).
    #[error("the sign-in code is not right")]
    WrongSignInCode,
    /// A wrong authenticator code confirming a change.
    #[error("the code is not right")]
    WrongCode,
    /// A wrong (or expired, or used) e-mail code confirming a change.
    #[error("the e-mailed code is not right")]
    WrongEmailCode,
    /// E-mail codes are not a factor that counts for this user (not set up, or not allowed).
    #[error("e-mail codes are not on for this user")]
    EmailCodesOff,
    /// The account's codes are locked after too many wrong ones in a row.
    #[error("the account's codes are locked")]
    CodesLocked,
    /// The session used up its wrong passwords and codes and was ended.
    #[error("too many wrong passwords or codes: the session ended")]
    SessionEnded,
    /// A wrong password re-entered for a change; `field` and `message` are for the person.
    #[error("the password is not right")]
    WrongPassword {
        /// The request field it was in.
        field: &'static str,
        /// What to tell the person.
        message: &'static str,
    },
    /// An API token that is unknown, malformed or revoked.
    #[error("the API token is not valid")]
    InvalidToken,
    /// An expired API token.
    #[error("the API token has expired")]
    TokenExpired,
    /// The email or password is not right (one answer for an unknown address too).
    #[error("the email or password is not right")]
    InvalidCredentials,
    /// The organisation signs in with Microsoft only (said after a right password).
    #[error("the organisation signs in with Microsoft only")]
    SsoRequired,
    /// No session, or it ended while the request was made.
    #[error("not signed in")]
    NotSignedIn,
    /// A dangerous action without a fresh proof of the user's factor (`step_up::require`).
    #[error("this action needs a fresh proof ({})", .0.as_str())]
    StepUpRequired(step_up::Proof),
    /// A step-up sent another kind of proof than the user has (`step_up::step_up`).
    #[error("step up with {}", .0.as_str())]
    StepUpProofWanted(step_up::Proof),
    /// Anything the caller cannot fix (the database, a secret that does not open).
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> Self {
        AuthError::Internal(e.into())
    }
}

/// The result of an authentication step.
pub type AuthResult<T> = Result<T, AuthError>;
