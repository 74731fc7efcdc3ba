//! Checking a second secret: the code that completes a password sign-in, and the password or
//! code a signed-in user enters again before a sensitive change (setting up or turning off the
//! authenticator, new recovery codes, a new password).
//!
//! Every check is bounded *before* the secret is compared, by allowances that concurrent
//! requests cannot overdraw together (each is one conditional UPDATE or a counted row):
//! - the session's own: 5 wrong codes drop a pending sign-in; 5 wrong passwords or codes end
//!   a signed-in session (`sessions.mfa_failures`);
//! - the account's 15-minute window: 20 wrong codes, 10 wrong passwords
//!   ([`rate_limit::reserve`]);
//! - for codes, the account's lifetime: after 100 wrong codes in a row the code step locks
//!   until a password reset or an administrator clears it, and the user is told by email
//!   (`user_totp.failed_codes`; NIST SP 800-63B 5.2.2).
//!
//! A right secret gives back what it reserved; a wrong one keeps it as its failure. A pending
//! sign-in's allowance is not given back: that session is replaced by the step up, which is
//! itself conditional on the pending session still being there ([`crate::db::sessions::delete_in_state`]).

use super::AuthContext;
use serde_json::json;

use crate::{
    audit::{self, Event, RequestMeta},
    auth::{
        email_code::{self, Purpose},
        factors::{self, Factors},
        rate_limit::{self, Reservation, LOGIN_PER_ACCOUNT, MFA_PER_ACCOUNT},
        recovery,
        session::Authenticated,
        totp, AuthError, AuthResult,
    },
    db::{self, sessions::Session, users::User},
    mail::Mail,
};

/// Wrong codes a pending sign-in survives.
pub const MAX_CODES_PER_SIGN_IN: i64 = 5;
/// Wrong passwords and codes, together, a signed-in session survives.
pub const MAX_WRONG_SECRETS_PER_SESSION: i64 = 5;
/// Wrong codes in a row after which an account's code step locks.
pub const MAX_WRONG_CODES_IN_A_ROW: i64 = 100;

/// A right code at sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeAccepted {
    /// A code from the authenticator app.
    Totp,
    /// A code sent by e-mail.
    Email,
    /// A recovery code; this many are left.
    Recovery {
        /// Unused recovery codes after this one.
        left: u32,
    },
}

/// What an attempt holds until its outcome is known.
struct Held {
    /// The session whose allowance it took, and whether to give it back on success.
    session_id: String,
    give_back_session: bool,
    /// Its count in the session's allowance (this attempt included).
    session_count: i64,
    window: Reservation,
    /// Its count of wrong codes in a row (this attempt included), for codes.
    in_a_row: Option<i64>,
}

/// Why an attempt gives back what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Released {
    /// The secret was right.
    Right,
    /// The secret was never compared (the comparison itself failed).
    NotChecked,
}

impl Held {
    /// Gives back what the attempt holds, except a pending sign-in's attempt when the code was
    /// right (the step up replaces that session).
    async fn release(self, ctx: &AuthContext<'_>, user_id: &str, why: Released) -> AuthResult<()> {
        rate_limit::release(ctx, self.window).await?;
        if self.give_back_session || why == Released::NotChecked {
            db::sessions::release_attempt(ctx.db.pool(), &self.session_id).await?;
        }
        if self.in_a_row.is_some() {
            match why {
                Released::Right => db::mfa::code_accepted(ctx.db.pool(), user_id).await?,
                Released::NotChecked => db::mfa::release_code(ctx.db.pool(), user_id).await?,
            }
        }
        Ok(())
    }
}

/// Takes one attempt from the session's allowance.
async fn reserve_in_session(
    ctx: &AuthContext<'_>,
    session: &Session,
    max: i64,
) -> AuthResult<Option<i64>> {
    Ok(db::sessions::reserve_attempt(ctx.db.pool(), &session.id, &session.state, max).await?)
}

/// Ends a session at once (its allowance is used up).
async fn end_session(ctx: &AuthContext<'_>, session_id: &str) -> AuthResult<()> {
    db::sessions::delete(ctx.db.pool(), session_id).await?;
    ctx.sessions.forget_session(session_id);
    Ok(())
}

/// Takes a code attempt from the account's window and its lifetime allowance; on refusal
/// gives back what was taken (the session's attempt included) and answers why.
async fn reserve_code(
    ctx: &AuthContext<'_>,
    meta: &RequestMeta,
    user: &User,
    session_id: &str,
    session_count: i64,
    give_back_session: bool,
) -> AuthResult<Held> {
    let window = match rate_limit::reserve(ctx, meta, MFA_PER_ACCOUNT, &user.id).await {
        Ok(w) => w,
        Err(e) => {
            db::sessions::release_attempt(ctx.db.pool(), session_id).await?;
            return Err(e);
        }
    };
    let in_a_row = db::mfa::reserve_code(ctx.db.pool(), &user.id, MAX_WRONG_CODES_IN_A_ROW).await?;
    if in_a_row.is_none() {
        rate_limit::release(ctx, window).await?;
        db::sessions::release_attempt(ctx.db.pool(), session_id).await?;
        // A process stopped between the last wrong code and the lock leaves the count at the
        // limit without the lock: finish it here.
        lock_codes(ctx, meta, user).await?;
        return Err(AuthError::CodesLocked);
    }
    Ok(Held {
        session_id: session_id.to_string(),
        give_back_session,
        session_count,
        window,
        in_a_row,
    })
}

/// Locks the user's code step (once) and tells them by email.
async fn lock_codes(ctx: &AuthContext<'_>, meta: &RequestMeta, user: &User) -> AuthResult<()> {
    let now = ctx.clock.now_ms();
    if !db::mfa::lock_codes(ctx.db.pool(), &user.id, now).await? {
        return Ok(());
    }
    audit::record(
        ctx.db.pool(),
        now,
        meta,
        Event::own(
            user,
            "mfa.codes_locked",
            json!({"wrong_codes_in_a_row": MAX_WRONG_CODES_IN_A_ROW}),
        ),
    )
    .await?;
    ctx.sessions.forget_user(&user.id);
    ctx.mailer.send_later(Mail {
        to: user.email.clone(),
        subject: format!("Sign-in codes locked on your {} account", app::product::PRODUCT_NAME),
        body: format!(
            "Hello,\n\n{MAX_WRONG_CODES_IN_A_ROW} wrong authenticator or recovery codes in a row were entered for {} in the {}, so codes for this account are now locked.\n\nIf that was not you, someone may know your password. Reset it here, which also unlocks your codes:\n{}/login\n(\"Forgot your password?\")\n\nOr ask your organisation's administrator to unlock them.\n",
            user.email,
            app::product::PRODUCT_NAME,
            ctx.public_origin
        ),
    });
    Ok(())
}

/// Which codes a check accepts.
#[derive(Debug, Clone, Copy)]
struct Accept<'a> {
    /// A code from the authenticator app.
    totp: bool,
    /// An e-mailed code sent for this purpose in this session.
    email: Option<(Purpose, &'a str)>,
    /// A recovery code.
    recovery: bool,
}

/// Compares a code with what `accept` allows, using it up when right: 6 digits are an
/// authenticator code, 8 an e-mailed one, 10 letters and digits a recovery code.
async fn compare_code(
    ctx: &AuthContext<'_>,
    user: &User,
    input: &str,
    accept: Accept<'_>,
) -> AuthResult<Option<CodeAccepted>> {
    ctx.faults.before_secret_check().await;
    if let Some(code) = totp::normalize_code(input) {
        return Ok(
            (accept.totp && verify_totp_challenge(ctx, user, &code).await?)
                .then_some(CodeAccepted::Totp),
        );
    }
    if email_code::normalize(input).is_some() {
        let Some((purpose, session_id)) = accept.email else {
            return Ok(None);
        };
        return Ok(email_code::check(ctx, user, purpose, session_id, input)
            .await?
            .then_some(CodeAccepted::Email));
    }
    if !accept.recovery {
        return Ok(None);
    }
    let Some(code) = recovery::normalize(input) else {
        return Ok(None);
    };
    let hash = recovery::hash_code(&code, ctx.recovery_pepper);
    let now = ctx.clock.now_ms();
    if !db::mfa::use_recovery_code(ctx.db.pool(), &user.id, &hash, now).await? {
        return Ok(None);
    }
    let left = db::mfa::unused_recovery_codes(ctx.db.pool(), &user.id).await?;
    Ok(Some(CodeAccepted::Recovery {
        left: u32::try_from(left).unwrap_or(0),
    }))
}

/// Checks a 6-digit code against the user's confirmed enrolment and uses its time step.
async fn verify_totp_challenge(ctx: &AuthContext<'_>, user: &User, code: &str) -> AuthResult<bool> {
    let Some(enrolment) = db::mfa::find_totp(ctx.db.pool(), &user.id).await? else {
        return Ok(false);
    };
    if enrolment.confirmed_at.is_none() {
        return Ok(false);
    }
    let secret = ctx
        .secrets
        .open(&enrolment.secret_sealed, user.id.as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot open the TOTP secret of {}: {e}", user.id))?;
    let last = u64::try_from(enrolment.last_step).ok();
    let Some(step) = totp::verify(&secret, code, ctx.clock.now_secs(), last) else {
        return Ok(false);
    };
    let step = i64::try_from(step).map_err(anyhow::Error::from)?;
    Ok(db::mfa::claim_step(ctx.db.pool(), &user.id, step).await?)
}

/// A wrong code was entered: it stays counted; the lifetime allowance may now be used up.
async fn code_was_wrong(
    ctx: &AuthContext<'_>,
    meta: &RequestMeta,
    user: &User,
    held: &Held,
) -> AuthResult<()> {
    if held.in_a_row.is_some_and(|n| n >= MAX_WRONG_CODES_IN_A_ROW) {
        lock_codes(ctx, meta, user).await?;
    }
    Ok(())
}

/// Completes the code step of the pending sign-in `pending` with `input` (an authenticator, an
/// e-mailed or a recovery code; of the factors that count for the user, and for a Microsoft
/// sign-in that showed no multi-factor evidence, the authenticator only). On success the
/// caller steps the session up; on failure the error says whether the sign-in can go on.
pub async fn check_sign_in_code(
    ctx: &AuthContext<'_>,
    meta: &RequestMeta,
    pending: &Session,
    user: &User,
    input: &str,
) -> AuthResult<CodeAccepted> {
    let Some(count) = reserve_in_session(ctx, pending, MAX_CODES_PER_SIGN_IN).await? else {
        // Gone, already stepped up, or out of attempts: nothing to complete.
        end_session(ctx, &pending.id).await?;
        return Err(AuthError::NoPendingSignIn);
    };
    let held = match reserve_code(ctx, meta, user, &pending.id, count, false).await {
        Ok(h) => h,
        Err(AuthError::CodesLocked) => {
            end_session(ctx, &pending.id).await?;
            return Err(AuthError::CodesLocked);
        }
        Err(e) => return Err(e),
    };
    let counting = match factors::of_user(ctx, user).await {
        Ok(f) => f.counting(),
        Err(e) => {
            held.release(ctx, &user.id, Released::NotChecked).await?;
            return Err(e);
        }
    };
    // A Microsoft sign-in without evidence, or a break-glass one, takes the app only.
    let entra = matches!(
        pending.auth_method.as_str(),
        "entra" | super::sign_in::BREAK_GLASS
    );
    let accept = Accept {
        totp: counting.totp || entra,
        email: (counting.email && !entra).then_some((Purpose::SignIn, pending.id.as_str())),
        recovery: true,
    };
    match compare_code(ctx, user, input, accept).await {
        Ok(Some(accepted)) => {
            held.release(ctx, &user.id, Released::Right).await?;
            return Ok(accepted);
        }
        Ok(None) => {}
        Err(e) => {
            held.release(ctx, &user.id, Released::NotChecked).await?;
            return Err(e);
        }
    }
    code_was_wrong(ctx, meta, user, &held).await?;
    let dropped = held.session_count >= MAX_CODES_PER_SIGN_IN;
    if dropped {
        end_session(ctx, &pending.id).await?;
    }
    audit::record(
        ctx.db.pool(),
        ctx.clock.now_ms(),
        meta,
        Event::own(
            user,
            "auth.mfa_failed",
            json!({"failures": held.session_count, "sign_in_dropped": dropped}),
        ),
    )
    .await?;
    Err(if dropped {
        AuthError::SignInDropped
    } else {
        AuthError::WrongSignInCode
    })
}

/// A wrong password or code in a signed-in session: audited, and the session ends when it
/// has used its allowance. Returns the error to answer with (`wrong`, or `session_ended`).
async fn reauth_failed(
    ctx: &AuthContext<'_>,
    meta: &RequestMeta,
    a: &Authenticated,
    secret: &str,
    count: i64,
    wrong: AuthError,
) -> AuthError {
    match record_reauth_failure(ctx, meta, a, secret, count).await {
        Ok(true) => AuthError::SessionEnded,
        Ok(false) => wrong,
        Err(e) => e,
    }
}

/// [`reauth_failed`]'s work; true when it ended the session.
async fn record_reauth_failure(
    ctx: &AuthContext<'_>,
    meta: &RequestMeta,
    a: &Authenticated,
    secret: &str,
    count: i64,
) -> AuthResult<bool> {
    let ended = count >= MAX_WRONG_SECRETS_PER_SESSION;
    if ended {
        end_session(ctx, &a.session.id).await?;
    }
    audit::record(
        ctx.db.pool(),
        ctx.clock.now_ms(),
        meta,
        Event::own(
            &a.user,
            "auth.reauth_failed",
            json!({"secret": secret, "failures": count, "session_ended": ended}),
        ),
    )
    .await?;
    Ok(ended)
}

/// The session's allowance for a re-check, or `session_ended` when it has none left.
async fn reserve_reauth(ctx: &AuthContext<'_>, a: &Authenticated) -> AuthResult<i64> {
    match reserve_in_session(ctx, &a.session, MAX_WRONG_SECRETS_PER_SESSION).await? {
        Some(count) => Ok(count),
        None => {
            end_session(ctx, &a.session.id).await?;
            Err(AuthError::SessionEnded)
        }
    }
}

/// Checks the signed-in user's password again before a sensitive change. A wrong one is
/// answered with 401 `invalid_password` on `field` and `message`.
pub async fn recheck_password(
    ctx: &AuthContext<'_>,
    meta: &RequestMeta,
    a: &Authenticated,
    password: &str,
    field: &'static str,
    message: &'static str,
) -> AuthResult<()> {
    let count = reserve_reauth(ctx, a).await?;
    // The same per-account window as sign-in passwords: a stolen session cookie gives no
    // more guesses than the sign-in page.
    let key = a
        .user
        .login_email
        .clone()
        .unwrap_or_else(|| a.user.id.clone());
    let window = match rate_limit::reserve(ctx, meta, LOGIN_PER_ACCOUNT, &key).await {
        Ok(w) => w,
        Err(e) => {
            db::sessions::release_attempt(ctx.db.pool(), &a.session.id).await?;
            return Err(e);
        }
    };
    let held = Held {
        session_id: a.session.id.clone(),
        give_back_session: true,
        session_count: count,
        window,
        in_a_row: None,
    };
    ctx.faults.before_secret_check().await;
    let right = match ctx
        .passwords
        .verify(password, a.user.password_hash.as_deref())
        .await
    {
        Ok(right) => right,
        Err(e) => {
            held.release(ctx, &a.user.id, Released::NotChecked).await?;
            return Err(AuthError::Internal(e));
        }
    };
    if right {
        return held.release(ctx, &a.user.id, Released::Right).await;
    }
    let wrong = AuthError::WrongPassword { field, message };
    Err(reauth_failed(ctx, meta, a, "password", held.session_count, wrong).await)
}

/// Checks a code of the signed-in user before a sensitive change: a current authenticator code
/// (uses its time step) when `codes.totp`, the code e-mailed for a step-up in this session when
/// `codes.email`. A wrong one is answered with 401 `invalid_code` on `code`. Returns the kind
/// of code it was.
pub async fn recheck_code(
    ctx: &AuthContext<'_>,
    meta: &RequestMeta,
    a: &Authenticated,
    input: &str,
    codes: Factors,
) -> AuthResult<CodeAccepted> {
    let email = codes.email;
    let count = reserve_reauth(ctx, a).await?;
    let held = reserve_code(ctx, meta, &a.user, &a.session.id, count, true).await?;
    let accept = Accept {
        totp: codes.totp,
        email: email.then_some((Purpose::StepUp, a.session.id.as_str())),
        recovery: false,
    };
    match compare_code(ctx, &a.user, input, accept).await {
        Ok(Some(kind)) => {
            held.release(ctx, &a.user.id, Released::Right).await?;
            return Ok(kind);
        }
        Ok(None) => {}
        Err(e) => {
            held.release(ctx, &a.user.id, Released::NotChecked).await?;
            return Err(e);
        }
    }
    code_was_wrong(ctx, meta, &a.user, &held).await?;
    let wrong = if email && email_code::normalize(input).is_some() {
        AuthError::WrongEmailCode
    } else {
        AuthError::WrongCode
    };
    Err(reauth_failed(ctx, meta, a, "code", held.session_count, wrong).await)
}

/// Whether the user's code step is locked.
pub async fn codes_are_locked(ctx: &AuthContext<'_>, user_id: &str) -> AuthResult<bool> {
    let guard = db::mfa::code_guard(ctx.db.pool(), user_id).await?;
    Ok(guard.locked_at.is_some() || guard.failed_codes >= MAX_WRONG_CODES_IN_A_ROW)
}
