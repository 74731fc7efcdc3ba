//! `/api/v1/auth/…`: password sign-in, the authenticator-code step, sign-out.

use axum::{
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::json;
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    auth::{LoginRequest, MfaRequest, OkResponse, SignInResponse, SignInStatus},
    ErrorBody,
};

use crate::{
    accounts,
    audit::{self, Event, RequestMeta},
    auth::{
        rate_limit::{self, LOGIN_PER_ACCOUNT, LOGIN_PER_IP},
        session::{self, states, Authenticated},
        verification::{self, CodeAccepted},
        AuthError,
    },
    db::{self, sessions::NewSession, users::User},
};

use super::{ApiError, ApiJson, ApiResult, AppState};

/// The routes of this file, under `/api/v1/auth`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(mfa))
        .routes(routes!(logout))
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "The email or password is not right. Check them and try again.",
    )
}

/// The session a new one replaces.
#[derive(Debug, Clone, Copy)]
pub struct Replaced<'a> {
    /// Its id.
    pub id: &'a str,
    /// When set, the new session is made only if this one is still there in this state: a
    /// step up (code accepted, enrolment finished) happens once, however many requests race.
    pub must_be_in: Option<&'a str>,
}

impl<'a> Replaced<'a> {
    /// The request's current session, whatever its state, if it still exists.
    pub fn any(id: &'a str) -> Self {
        Replaced {
            id,
            must_be_in: None,
        }
    }

    /// A session that must still be in `state`.
    pub fn in_state(id: &'a str, state: &'a str) -> Self {
        Replaced {
            id,
            must_be_in: Some(state),
        }
    }
}

/// Creates a session for `user` in `state_name`, replacing `previous` (so the id changes at
/// every step), and answers with its cookie.
pub async fn start_session(
    state: &AppState,
    user: &User,
    state_name: &str,
    auth_method: &str,
    meta: &RequestMeta,
    previous: Option<Replaced<'_>>,
    tenant_id: Option<&str>,
) -> ApiResult<HeaderMap> {
    let now = state.clock.now_ms();
    let cfg = &state.config;
    let lifetime_secs = match state_name {
        states::FULL => cfg.session_absolute_secs,
        states::MFA_PENDING => cfg.mfa_pending_secs,
        _ => cfg.session_idle_secs.min(cfg.session_absolute_secs),
    };
    let (token, token_hash) = session::new_token();
    let id = uuid::Uuid::new_v4().to_string();
    let mut tx = state.db.pool().begin().await?;
    match previous {
        Some(Replaced {
            id,
            must_be_in: Some(in_state),
        }) if !db::sessions::delete_in_state(&mut *tx, id, in_state).await? => {
            return Err(if in_state == states::MFA_PENDING {
                ApiError::from(AuthError::NoPendingSignIn)
            } else {
                super::extract::unauthenticated()
            });
        }
        Some(Replaced {
            id,
            must_be_in: None,
        }) => {
            db::sessions::delete(&mut *tx, id).await?;
        }
        _ => {}
    }
    db::sessions::insert(
        &mut *tx,
        &NewSession {
            id: &id,
            token_hash: &token_hash,
            user_id: &user.id,
            state: state_name,
            auth_method,
            now,
            expires_at: now + lifetime_secs * 1000,
            ip: meta.ip.as_deref(),
            user_agent: meta.user_agent.as_deref(),
            tenant_id,
        },
    )
    .await?;
    tx.commit().await?;
    if let Some(previous) = previous {
        state.sessions.forget_session(previous.id);
    }
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        session::session_cookie(&token, lifetime_secs),
    );
    Ok(headers)
}

/// `POST /api/v1/auth/login`.
#[utoipa::path(
    post,
    path = "/login",
    tag = "auth",
    operation_id = "login",
    summary = "Sign in with email and password",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "The password was right: `signed_in`, `mfa_required` (send the code to `/auth/mfa`) or `mfa_enrolment_required`; sets the session cookie", body = SignInResponse),
        (status = 401, description = "`invalid_credentials`: the email or password is not right", body = ErrorBody),
        (status = 403, description = "`sso_required`: the organisation signs in with Microsoft only; `csrf`: not same-origin", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is larger than the portal accepts", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body was not sent as `application/json`", body = ErrorBody),
        (status = 422, description = "`malformed_json`, `invalid_body` or `invalid_field` (with `field`): the body is not acceptable", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many failures; retry after the `Retry-After` header's seconds", body = ErrorBody),
        (status = 500, description = "`internal`: a failure on the portal's side; quote `request_id` to support", body = ErrorBody),
    ),
)]
async fn login(
    State(state): State<AppState>,
    meta: RequestMeta,
    current: Option<Authenticated>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let login_email = accounts::normalize_email(&req.email).map_err(|_| {
        ApiError::invalid_field("email", "Enter your email address, like name@example.com.")
    })?;
    if req.password.is_empty() {
        return Err(ApiError::invalid_field("password", "Enter your password."));
    }
    // Both limits count this attempt before the password is checked, so a burst of
    // parallel guesses gets no more tries than the limits allow.
    let ip_key = meta.ip.clone().unwrap_or_else(|| "unknown".to_string());
    let ip_attempt = rate_limit::reserve(&state, &meta, LOGIN_PER_IP, &ip_key).await?;
    let account_attempt =
        match rate_limit::reserve(&state, &meta, LOGIN_PER_ACCOUNT, &login_email).await {
            Ok(a) => a,
            Err(e) => {
                rate_limit::release(&state, ip_attempt).await?;
                return Err(e.into());
            }
        };

    let user = db::users::find_by_login_email(state.db.pool(), &login_email).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let password_ok = state.passwords.verify(&req.password, hash).await?;
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
            state.db.pool(),
            state.clock.now_ms(),
            &meta,
            Event {
                actor: user.as_ref(),
                action: "auth.login_failed",
                target: Some(&login_email),
                org_id: None,
                details: json!({"reason": reason, "method": "password"}),
            },
        )
        .await?;
        return Err(invalid_credentials());
    }
    let Some(user) = user else {
        return Err(invalid_credentials());
    };
    rate_limit::release(&state, ip_attempt).await?;
    // The right password wipes the account's earlier failures (this attempt's row with them).
    rate_limit::clear(&state, account_attempt, LOGIN_PER_ACCOUNT, &login_email).await?;

    // "Require SSO" switches password sign-in off for the customer's users (never staff).
    // Said only after the password was right, so it does not reveal who has an account.
    let org = match &user.org_id {
        Some(org_id) => db::orgs::find_by_id(state.db.pool(), org_id).await?,
        None => None,
    };
    if !user.is_staff
        && org
            .as_ref()
            .is_some_and(|o| o.sso_enabled && o.sso_required)
    {
        audit::record(
            state.db.pool(),
            state.clock.now_ms(),
            &meta,
            Event::own(
                &user,
                "auth.login_failed",
                json!({"reason": "sso_required", "method": "password"}),
            ),
        )
        .await?;
        return Err(ApiError::forbidden(
            "sso_required",
            "Your organisation signs in with Microsoft. Use \"Sign in with Microsoft\".",
        ));
    }

    let totp_enrolled = db::mfa::find_totp(state.db.pool(), &user.id)
        .await?
        .is_some_and(|t| t.confirmed_at.is_some());
    // Carrier staff act for every customer: a password alone never signs them in.
    let second_factor_required = user.is_staff || org.as_ref().is_some_and(|o| o.mfa_required);
    let (next_state, status) = if totp_enrolled {
        (states::MFA_PENDING, SignInStatus::MfaRequired)
    } else if second_factor_required {
        (states::MFA_ENROLMENT, SignInStatus::MfaEnrolmentRequired)
    } else {
        (states::FULL, SignInStatus::SignedIn)
    };
    let previous = current
        .as_ref()
        .map(|c| Replaced::any(c.session.id.as_str()));
    let headers =
        start_session(&state, &user, next_state, "password", &meta, previous, None).await?;
    audit::record(
        state.db.pool(),
        state.clock.now_ms(),
        &meta,
        Event {
            actor: Some(&user),
            action: if next_state == states::FULL {
                "auth.login"
            } else {
                "auth.password_accepted"
            },
            target: Some(&user.id),
            org_id: None,
            details: json!({"method": "password", "next": next_state}),
        },
    )
    .await?;
    Ok((
        headers,
        ApiJson(SignInResponse {
            status,
            recovery_codes_remaining: None,
        }),
    )
        .into_response())
}

/// `POST /api/v1/auth/mfa`: a TOTP code or a recovery code completes a pending sign-in.
#[utoipa::path(
    post,
    path = "/mfa",
    tag = "auth",
    operation_id = "complete_mfa",
    summary = "Complete a sign-in with an authenticator or recovery code",
    request_body = MfaRequest,
    responses(
        (status = 200, description = "The code was right: `signed_in` (with `recovery_codes_remaining` after a recovery code); renews the session cookie", body = SignInResponse),
        (status = 401, description = "`mfa_expired`: no sign-in is waiting for a code (the fifth wrong code drops it); `invalid_code`: the code is not right", body = ErrorBody),
        (status = 403, description = "`codes_locked`: 100 wrong codes in a row locked the account's codes (a password reset or an administrator unlocks them); `csrf`: a cookie-authenticated change that is not same-origin", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is larger than the portal accepts", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body was not sent as `application/json`", body = ErrorBody),
        (status = 422, description = "`malformed_json`, `invalid_body` or `invalid_field` (with `field`): the body is not acceptable", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many failures; retry after the `Retry-After` header's seconds", body = ErrorBody),
        (status = 500, description = "`internal`: a failure on the portal's side; quote `request_id` to support", body = ErrorBody),
    ),
    security(("session" = [])),
)]
async fn mfa(
    State(state): State<AppState>,
    meta: RequestMeta,
    current: Option<Authenticated>,
    ApiJson(req): ApiJson<MfaRequest>,
) -> ApiResult<Response> {
    let Some(Authenticated {
        session: pending,
        user,
        ..
    }) = current.filter(|a| a.session.state == states::MFA_PENDING)
    else {
        return Err(ApiError::from(AuthError::NoPendingSignIn));
    };
    let accepted =
        verification::check_sign_in_code(&state, &meta, &pending, &user, &req.code).await?;
    let recovery_left = match accepted {
        CodeAccepted::Totp => None,
        CodeAccepted::Recovery { left } => Some(left),
    };
    let headers = start_session(
        &state,
        &user,
        states::FULL,
        "password+totp",
        &meta,
        Some(Replaced::in_state(&pending.id, states::MFA_PENDING)),
        None,
    )
    .await?;
    audit::record(
        state.db.pool(),
        state.clock.now_ms(),
        &meta,
        Event {
            actor: Some(&user),
            action: if recovery_left.is_some() {
                "auth.recovery_code_used"
            } else {
                "auth.login"
            },
            target: Some(&user.id),
            org_id: None,
            details: json!({"method": "password+totp", "recovery_codes_remaining": recovery_left}),
        },
    )
    .await?;
    Ok((
        headers,
        ApiJson(SignInResponse {
            status: SignInStatus::SignedIn,
            recovery_codes_remaining: recovery_left,
        }),
    )
        .into_response())
}

/// `POST /api/v1/auth/logout`: ends the session on the server and clears the cookie.
#[utoipa::path(
    post,
    path = "/logout",
    tag = "auth",
    operation_id = "logout",
    summary = "Sign out",
    responses(
        (status = 200, description = "The session (if any) has ended and the cookie is cleared", body = OkResponse),
        (status = 403, description = "`csrf`: a cookie-authenticated change that is not same-origin", body = ErrorBody),
        (status = 500, description = "`internal`: a failure on the portal's side; quote `request_id` to support", body = ErrorBody),
    ),
    security(("session" = [])),
)]
async fn logout(
    State(state): State<AppState>,
    meta: RequestMeta,
    current: Option<Authenticated>,
) -> ApiResult<Response> {
    if let Some(Authenticated { session, user, .. }) = current {
        db::sessions::delete(state.db.pool(), &session.id).await?;
        state.sessions.forget_session(&session.id);
        audit::record(
            state.db.pool(),
            state.clock.now_ms(),
            &meta,
            Event {
                actor: Some(&user),
                action: "auth.logout",
                target: Some(&session.id),
                org_id: None,
                details: json!({}),
            },
        )
        .await?;
    }
    Ok((
        [(header::SET_COOKIE, session::clear_session_cookie())],
        ApiJson(OkResponse {
            status: "ok".into(),
        }),
    )
        .into_response())
}
