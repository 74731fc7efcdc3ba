//! Step-up for dangerous actions: creating API tokens, inviting users and changing roles,
//! deactivating users, unlocking a user's codes, changing SSO or MFA settings and policies,
//! editing emergency addresses. The session must have proved the user's strongest factor in
//! the last [`WINDOW_MS`]; a full session starts stepped up by its own sign-in, and
//! [`step_up`] proves it again.
//!
//! What proves it ([`Proof`]): a user with an authenticator app gives a current code; a user
//! without one gives their password; a session signed in with Microsoft signs in again with
//! Microsoft (the customer's multi-factor evidence policy applies to that sign-in), or gives a
//! code when the user has an authenticator. A proof of a weaker kind than the user has now
//! (a password sign-in before the authenticator was set up) does not count.

use serde_json::json;

use super::{email_code, factors, verification, AuthContext, AuthError, AuthResult};
use crate::{
    audit::{self, Event, RequestMeta},
    auth::{factors::Factors, session::Authenticated},
    db::{self, sessions::Session, users::User},
};

/// How long a proof counts: 10 minutes.
pub const WINDOW_MS: i64 = 10 * 60 * 1000;

/// What the user gives to step up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// A current authenticator code (or an e-mailed one, when that counts for the user too).
    Code,
    /// A code sent by e-mail (the user's only factor that counts).
    EmailCode,
    /// The password (a user with no second factor).
    Password,
    /// A fresh sign-in with Microsoft.
    Microsoft,
}

impl Proof {
    /// The name the API uses (the `field` of 401 `step_up_required`).
    pub fn as_str(self) -> &'static str {
        match self {
            Proof::Code => "code",
            Proof::EmailCode => "email_code",
            Proof::Password => "password",
            Proof::Microsoft => "microsoft",
        }
    }

    /// Whether a step-up or sign-in recorded as `via` is this kind of proof.
    fn accepts(self, via: &str) -> bool {
        match self {
            Proof::Code | Proof::EmailCode => matches!(
                via,
                "totp"
                    | "email"
                    | "password+totp"
                    | "password+email"
                    | "entra+totp"
                    | "break_glass+totp"
            ),
            Proof::Password => matches!(
                via,
                "password"
                    | "totp"
                    | "email"
                    | "password+totp"
                    | "password+email"
                    | "break_glass+totp"
            ),
            Proof::Microsoft => via.starts_with("entra") || via == "totp",
        }
    }
}

/// What `user` (whose second factors that count are `counting`) proves themselves with in
/// `session`.
fn proof_of(user: &User, session: &Session, counting: Factors) -> Proof {
    if session.auth_method.starts_with("entra") {
        Proof::Microsoft
    } else if counting.totp {
        Proof::Code
    } else if counting.email {
        Proof::EmailCode
    } else if user.password_hash.is_some() {
        Proof::Password
    } else {
        Proof::Microsoft
    }
}

/// Whether `session` stepped up with `proof`'s kind within the window before `now`.
pub fn is_fresh(proof: Proof, session: &Session, now: i64) -> bool {
    match (session.stepped_up_at, session.stepped_up_via.as_deref()) {
        (Some(at), Some(via)) => now.saturating_sub(at) <= WINDOW_MS && proof.accepts(via),
        _ => false,
    }
}

/// Refuses (`StepUpRequired`) a dangerous action of a session without a fresh proof.
pub async fn require(ctx: &AuthContext<'_>, user: &User, session: &Session) -> AuthResult<()> {
    let counting = factors::of_user(ctx, user).await?.counting();
    let proof = proof_of(user, session, counting);
    if is_fresh(proof, session, ctx.clock.now_ms()) {
        Ok(())
    } else {
        Err(AuthError::StepUpRequired(proof))
    }
}

/// Proves the signed-in user's factor again: `code` (an authenticator code, or the code
/// e-mailed for this step-up, of a factor that counts for the user; a Microsoft session too
/// when the user has one) or `password` (a user without a second factor). Wrong secrets count
/// against the same limits as every re-check. Returns how it was proved.
pub async fn step_up(
    ctx: &AuthContext<'_>,
    meta: &RequestMeta,
    a: &Authenticated,
    code: Option<&str>,
    password: Option<&str>,
) -> AuthResult<&'static str> {
    let counting = factors::of_user(ctx, &a.user).await?.counting();
    let proof = proof_of(&a.user, &a.session, counting);
    let via = match (code.filter(|c| !c.trim().is_empty()), password) {
        (Some(code), _) if counting.any() => {
            match verification::recheck_code(ctx, meta, a, code, counting).await? {
                verification::CodeAccepted::Email => "email",
                _ => "totp",
            }
        }
        (None, Some(password)) if proof == Proof::Password => {
            verification::recheck_password(
                ctx,
                meta,
                a,
                password,
                "password",
                "That password is not right.",
            )
            .await?;
            "password"
        }
        _ => return Err(AuthError::StepUpProofWanted(proof)),
    };
    let now = ctx.clock.now_ms();
    if !db::sessions::set_stepped_up(ctx.db.pool(), &a.session.id, now, via).await? {
        return Err(AuthError::NotSignedIn);
    }
    ctx.sessions.forget_session(&a.session.id);
    audit::record(
        ctx.db.pool(),
        now,
        meta,
        Event::own(&a.user, "auth.stepped_up", json!({"via": via})),
    )
    .await?;
    Ok(via)
}

/// E-mails the signed-in user a code for a step-up in this session (e-mail codes must count
/// for them, and the session must not be a Microsoft one: that signs in again).
pub async fn send_email_code(
    ctx: &AuthContext<'_>,
    meta: &RequestMeta,
    a: &Authenticated,
) -> AuthResult<()> {
    let counting = factors::of_user(ctx, &a.user).await?.counting();
    if !counting.email || a.session.auth_method.starts_with("entra") {
        return Err(AuthError::EmailCodesOff);
    }
    email_code::send(
        ctx,
        meta,
        &a.user,
        email_code::Purpose::StepUp,
        &a.session.id,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(method: &str, at: Option<i64>, via: Option<&str>) -> Session {
        Session {
            id: "s".into(),
            user_id: "u".into(),
            state: "full".into(),
            auth_method: method.into(),
            created_at: 0,
            last_seen_at: 0,
            expires_at: i64::MAX,
            mfa_failures: 0,
            ip: None,
            user_agent: None,
            tenant_id: None,
            stepped_up_at: at,
            stepped_up_via: via.map(str::to_string),
        }
    }

    #[test]
    fn a_proof_counts_for_ten_minutes_and_only_of_the_users_kind() {
        let t = 1_000_000_000;
        let fresh = session("password+totp", Some(t), Some("password+totp"));
        assert!(is_fresh(Proof::Code, &fresh, t + WINDOW_MS));
        assert!(!is_fresh(Proof::Code, &fresh, t + WINDOW_MS + 1));
        // A password sign-in before the authenticator was set up is no proof of a code.
        let weak = session("password", Some(t), Some("password"));
        assert!(is_fresh(Proof::Password, &weak, t + 1));
        assert!(!is_fresh(Proof::Code, &weak, t + 1));
        assert!(!is_fresh(Proof::Microsoft, &weak, t + 1));
        let sso = session("entra", Some(t), Some("entra"));
        assert!(is_fresh(Proof::Microsoft, &sso, t + 1));
        assert!(!is_fresh(Proof::Code, &sso, t + 1));
        assert!(is_fresh(
            Proof::Microsoft,
            &session("entra", Some(t), Some("totp")),
            t
        ));
        // An e-mailed code proves a code-kind factor; a break-glass sign-in proves the app.
        assert!(is_fresh(
            Proof::EmailCode,
            &session("password+email", Some(t), Some("password+email")),
            t
        ));
        assert!(is_fresh(
            Proof::Code,
            &session("break_glass+totp", Some(t), Some("break_glass+totp")),
            t
        ));
        assert!(!is_fresh(
            Proof::EmailCode,
            &session("password", Some(t), Some("password")),
            t
        ));
        // Never stepped up (a session from before step-up existed).
        assert!(!is_fresh(
            Proof::Password,
            &session("password", None, None),
            t
        ));
    }
}
