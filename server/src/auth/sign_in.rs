//! Signing in with a password, and the authenticator code that may follow: every rule of a
//! local sign-in, for the HTTP layer to call (`POST /api/v1/auth/login` and `/auth/mfa`).
//!
//! The password step: both limits (per client IP, per account) count the attempt before the
//! password is checked; an unknown address, a wrong password, a user without one and a
//! deactivated user get the same refusal after the same work; "require SSO" is said only
//! after a right password; then the session's next state: waiting for a code (an
//! authenticator is set up), enrolment (the organisation requires one, or carrier staff, who
//! always do), or signed in. The code step is `verification::check_sign_in_code` followed by
//! the step up, which happens once however many requests race.

use super::AuthContext;
use serde_json::json;

use crate::{
    audit::{self, Event, RequestMeta},
    auth::{
        email_code::{self, Purpose},
        factors::{self, Factors},
        rate_limit::{self, LOGIN_PER_ACCOUNT, LOGIN_PER_IP},
        session::{self, states, Replaced, Started},
        verification::{self, CodeAccepted},
        AuthError, AuthResult,
    },
    db::{self, sessions::Session, users::User},
    mail::Mail,
};

/// The method of a pending sign-in of a break-glass administrator (password accepted while the
/// organisation requires single sign-on); completed as `break_glass+totp`.
pub const BREAK_GLASS: &str = "break_glass";

/// A right password: the session made, and the state it is in.
#[derive(Debug)]
pub struct PasswordAccepted {
    /// `full`, `mfa_pending` or `mfa_enrolment`.
    pub next_state: &'static str,
    /// The new session.
    pub started: Started,
    /// A code was e-mailed for the code step (e-mail is the user's only factor that counts).
    pub email_code_sent: bool,
}

/// Checks `password` for the account `login_email` (already normalised) and starts the
/// session it earns, replacing `current` (the request's own session, if any).
pub async fn with_password(
    ctx: &AuthContext<'_>,
    meta: &RequestMeta,
    current: Option<&str>,
    login_email: &str,
    password: &str,
) -> AuthResult<PasswordAccepted> {
    // Both limits count this attempt before the password is checked, so a burst of
    // parallel guesses gets no more tries than the limits allow.
    let ip_key = meta.ip.clone().unwrap_or_else(|| "unknown".to_string());
    let ip_attempt = rate_limit::reserve(ctx, meta, LOGIN_PER_IP, &ip_key).await?;
    let account_attempt = match rate_limit::reserve(ctx, meta, LOGIN_PER_ACCOUNT, login_email).await
    {
        Ok(a) => a,
        Err(e) => {
            rate_limit::release(ctx, ip_attempt).await?;
            return Err(e);
        }
    };

    let user = db::users::find_by_login_email(ctx.db.pool(), login_email).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let password_ok = ctx.passwords.verify(password, hash).await?;
    let refusal = match &user {
        None => Some("unknown_user"),
        Some(_) if hash.is_none() => Some("no_password"),
        Some(_) if !password_ok => Some("wrong_password"),
        Some(u) if u.deactivated_at.is_some() => Some("deactivated"),
        Some(_) => None,
    };
    if let Some(reason) = refusal {
        // The two attempts stay counted: they are this failure.
        drop((ip_attempt, account_attempt));
        audit::record(
            ctx.db.pool(),
            ctx.clock.now_ms(),
            meta,
            Event {
                actor: user.as_ref(),
                action: "auth.login_failed",
                target: Some(login_email),
                org_id: None,
                details: json!({"reason": reason, "method": "password"}),
            },
        )
        .await?;
        return Err(AuthError::InvalidCredentials);
    }
    let Some(user) = user else {
        return Err(AuthError::InvalidCredentials);
    };
    rate_limit::release(ctx, ip_attempt).await?;
    // The right password wipes the account's earlier failures (this attempt's row with them).
    rate_limit::clear(ctx, account_attempt, LOGIN_PER_ACCOUNT, login_email).await?;

    // "Require SSO" switches password sign-in off for the customer's users (never staff),
    // except its break-glass administrators, who then must give their authenticator code.
    // Said only after the password was right, so it does not reveal who has an account.
    let org = match &user.org_id {
        Some(org_id) => db::orgs::find_by_id(ctx.db.pool(), org_id).await?,
        None => None,
    };
    let sso_only = !user.is_staff
        && org
            .as_ref()
            .is_some_and(|o| o.sso_enabled && o.sso_required);
    let user_factors = factors::of_user_in(ctx, &user, org.as_ref()).await?;
    let break_glass = sso_only
        && user_factors.enrolled.totp
        && db::org_users::is_break_glass(ctx.db.pool(), &user.id).await?;
    if sso_only && !break_glass {
        audit::record(
            ctx.db.pool(),
            ctx.clock.now_ms(),
            meta,
            Event::own(
                &user,
                "auth.login_failed",
                json!({"reason": "sso_required", "method": "password"}),
            ),
        )
        .await?;
        return Err(AuthError::SsoRequired);
    }

    let counting = if break_glass {
        // Only the authenticator app opens the glass.
        Factors {
            totp: true,
            email: false,
        }
    } else {
        user_factors.counting()
    };
    // Carrier staff act for every customer: a password alone never signs them in. A user who
    // set up a factor their organisation no longer counts sets up one it does.
    let second_factor_required = user.is_staff
        || org.as_ref().is_some_and(|o| o.mfa_required)
        || user_factors.enrolled.any();
    let next_state = if counting.any() {
        states::MFA_PENDING
    } else if second_factor_required {
        states::MFA_ENROLMENT
    } else {
        states::FULL
    };
    let started = session::start(
        ctx,
        &user,
        next_state,
        if break_glass { BREAK_GLASS } else { "password" },
        meta,
        current.map(Replaced::any),
        None,
    )
    .await?;
    audit::record(
        ctx.db.pool(),
        ctx.clock.now_ms(),
        meta,
        Event {
            actor: Some(&user),
            action: if next_state == states::FULL {
                "auth.login"
            } else {
                "auth.password_accepted"
            },
            target: Some(&user.id),
            org_id: None,
            details: json!({"method": "password", "next": next_state, "break_glass": break_glass}),
        },
    )
    .await?;
    // E-mail is the user's only way to finish: the code is on its way as the page asks for
    // it. Past the sending limit the sign-in still goes on: the page offers a new code, and
    // says when one can be sent.
    let email_code_sent = next_state == states::MFA_PENDING && !counting.totp;
    if email_code_sent {
        match email_code::send(ctx, meta, &user, Purpose::SignIn, &started.session_id).await {
            Ok(()) | Err(AuthError::RateLimited { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(PasswordAccepted {
        next_state,
        started,
        email_code_sent,
    })
}

/// E-mails a new code for the pending sign-in `pending` of `user` (replacing the last one),
/// when e-mail codes count for them.
pub async fn send_email_code(
    ctx: &AuthContext<'_>,
    meta: &RequestMeta,
    pending: &Session,
    user: &User,
) -> AuthResult<()> {
    let counting = factors::of_user(ctx, user).await?.counting();
    if !counting.email || pending.auth_method == "entra" {
        return Err(AuthError::EmailCodesOff);
    }
    email_code::send(ctx, meta, user, Purpose::SignIn, &pending.id).await
}

/// A right code: the full session made, and the recovery codes left when it was one.
#[derive(Debug)]
pub struct CodeSignIn {
    /// The new, full session.
    pub started: Started,
    /// Unused recovery codes, after a recovery code.
    pub recovery_codes_left: Option<u32>,
}

/// Completes the pending sign-in `pending` of `user` with `input` (an authenticator or a
/// recovery code) and steps it up to a full session.
pub async fn with_code(
    ctx: &AuthContext<'_>,
    meta: &RequestMeta,
    pending: &Session,
    user: &User,
    input: &str,
) -> AuthResult<CodeSignIn> {
    let accepted = verification::check_sign_in_code(ctx, meta, pending, user, input).await?;
    let recovery_codes_left = match accepted {
        CodeAccepted::Totp | CodeAccepted::Email => None,
        CodeAccepted::Recovery { left } => Some(left),
    };
    // An SSO sign-in whose token showed no second factor stays bound to its tenant.
    let method = match (pending.auth_method.as_str(), accepted) {
        ("entra", _) => "entra+totp",
        (BREAK_GLASS, _) => "break_glass+totp",
        (_, CodeAccepted::Email) => "password+email",
        _ => "password+totp",
    };
    let started = session::start(
        ctx,
        user,
        states::FULL,
        method,
        meta,
        Some(Replaced::in_state(&pending.id, states::MFA_PENDING)),
        pending.tenant_id.as_deref(),
    )
    .await?;
    audit::record(
        ctx.db.pool(),
        ctx.clock.now_ms(),
        meta,
        Event {
            actor: Some(user),
            action: if recovery_codes_left.is_some() {
                "auth.recovery_code_used"
            } else {
                "auth.login"
            },
            target: Some(&user.id),
            org_id: None,
            details: json!({"method": method, "recovery_codes_remaining": recovery_codes_left}),
        },
    )
    .await?;
    if pending.auth_method == BREAK_GLASS {
        break_glass_used(ctx, meta, user).await?;
    }
    Ok(CodeSignIn {
        started,
        recovery_codes_left,
    })
}

/// A break-glass administrator signed in while their organisation requires single sign-on:
/// audited as `auth.break_glass_used`, and every other active administrator is told by mail.
async fn break_glass_used(
    ctx: &AuthContext<'_>,
    meta: &RequestMeta,
    user: &User,
) -> AuthResult<()> {
    let Some(org_id) = &user.org_id else {
        return Ok(());
    };
    let org = db::orgs::find_by_id(ctx.db.pool(), org_id).await?;
    let others = db::org_users::other_admin_addresses(ctx.db.pool(), org_id, &user.id).await?;
    audit::record(
        ctx.db.pool(),
        ctx.clock.now_ms(),
        meta,
        Event::own(
            user,
            "auth.break_glass_used",
            json!({"ip": meta.ip, "admins_told": others.len()}),
        ),
    )
    .await?;
    let org_name = org.map_or_else(|| "your organisation".to_string(), |o| o.name);
    let product = app::product::PRODUCT_NAME;
    let when = crate::clock::rfc3339_ms(ctx.clock.now_ms());
    let from = meta.ip.as_deref().unwrap_or("an unknown address");
    for to in others {
        ctx.mailer.send_later(Mail {
            to,
            subject: format!("Break-glass sign-in to {org_name} on the {product}"),
            body: format!(
                "Hello,\n\n{who} signed in to the {product} for {org_name} as a break-glass administrator, with a password and an authenticator app instead of Microsoft, at {when} from {from}.\n\nBreak-glass accounts are for when Microsoft Entra ID sign-in is not working. If you did not expect this, check the audit log ({origin}/audit) and talk to {who}.\n",
                who = user.email,
                origin = ctx.public_origin,
            ),
        });
    }
    Ok(())
}
