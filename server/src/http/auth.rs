//! `/api/v1/auth/…`: password sign-in, the authenticator-code step, sign-out.
//!
//! The two sign-in steps are also taken as plain form posts of the sign-in pages
//! (`http/forms.rs`, the no-JavaScript encoding): both encodings call
//! [`sign_in_with_password`] and [`sign_in_with_code`], so they share every check, limit and
//! audit entry, and differ only in how the answer is written.

use axum::{
    extract::State,
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    auth::{LoginRequest, MfaRequest, OkResponse, SignInResponse, SignInStatus},
    form_post::{EMAIL_FORMAT_MESSAGE, PASSWORD_MISSING_MESSAGE},
    ErrorBody,
};

use crate::http::openapi::errors::{Csrf, Internal, InvalidBody, JsonBody, RateLimited};
use crate::{
    accounts,
    audit::RequestMeta,
    auth::{
        session::{self, states, Authenticated, Started},
        sign_in, AuthError,
    },
    db::users::User,
};

use super::{ApiError, ApiJson, ApiResult, AppState};

/// The routes of this file, under `/api/v1/auth`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(mfa))
        .routes(routes!(logout))
}

pub use crate::auth::session::Replaced;

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
    let started = session::start(
        &state.auth(),
        user,
        state_name,
        auth_method,
        meta,
        previous,
        tenant_id,
    )
    .await?;
    Ok(cookie_headers(&started))
}

/// The `Set-Cookie` of a session just started.
fn cookie_headers(started: &Started) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        session::session_cookie(&started.token, started.max_age_secs),
    );
    headers
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
        JsonBody,
        InvalidBody,
        RateLimited,
        Internal,
    ),
)]
async fn login(
    State(state): State<AppState>,
    meta: RequestMeta,
    current: Option<Authenticated>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let (answer, cookie) =
        sign_in_with_password(&state, &meta, current.as_ref(), &req.email, &req.password).await?;
    Ok((cookie, ApiJson(answer)).into_response())
}

/// The password step of a sign-in, whichever encoding it came in: checks the two fields,
/// signs in (`sign_in::with_password`: the limits, the audit, the new session replacing
/// `current`) and returns where the sign-in stands with the session's `Set-Cookie`.
pub async fn sign_in_with_password(
    state: &AppState,
    meta: &RequestMeta,
    current: Option<&Authenticated>,
    email: &str,
    password: &str,
) -> ApiResult<(SignInResponse, HeaderMap)> {
    let login_email = accounts::normalize_email(email)
        .map_err(|_| ApiError::invalid_field("email", EMAIL_FORMAT_MESSAGE))?;
    if password.is_empty() {
        return Err(ApiError::invalid_field(
            "password",
            PASSWORD_MISSING_MESSAGE,
        ));
    }
    let current = current.map(|c| c.session.id.as_str());
    let accepted =
        sign_in::with_password(&state.auth(), meta, current, &login_email, password).await?;
    let status = match accepted.next_state {
        states::MFA_PENDING => SignInStatus::MfaRequired,
        states::MFA_ENROLMENT => SignInStatus::MfaEnrolmentRequired,
        _ => SignInStatus::SignedIn,
    };
    let answer = SignInResponse {
        status,
        recovery_codes_remaining: None,
        email_code_sent: accepted.email_code_sent,
    };
    Ok((answer, cookie_headers(&accepted.started)))
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
        JsonBody,
        InvalidBody,
        RateLimited,
        Internal,
    ),
    security(("session" = [])),
)]
async fn mfa(
    State(state): State<AppState>,
    meta: RequestMeta,
    current: Option<Authenticated>,
    ApiJson(req): ApiJson<MfaRequest>,
) -> ApiResult<Response> {
    let (answer, cookie) = sign_in_with_code(&state, &meta, current, &req.code).await?;
    Ok((cookie, ApiJson(answer)).into_response())
}

/// The code step of a sign-in, whichever encoding it came in: completes the request's pending
/// sign-in (`current`, when it is one) with `code` (`sign_in::with_code`) and returns the
/// answer with the full session's `Set-Cookie`.
pub async fn sign_in_with_code(
    state: &AppState,
    meta: &RequestMeta,
    current: Option<Authenticated>,
    code: &str,
) -> ApiResult<(SignInResponse, HeaderMap)> {
    let Some(Authenticated {
        session: pending,
        user,
        ..
    }) = current.filter(|a| a.session.state == states::MFA_PENDING)
    else {
        return Err(ApiError::from(AuthError::NoPendingSignIn));
    };
    let signed_in = sign_in::with_code(&state.auth(), meta, &pending, &user, code).await?;
    Ok((
        SignInResponse {
            status: SignInStatus::SignedIn,
            recovery_codes_remaining: signed_in.recovery_codes_left,
            email_code_sent: false,
        },
        cookie_headers(&signed_in.started),
    ))
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
        Csrf,
        Internal,
    ),
    // Signing out without a session is not an error: the answer is the same.
    security((), ("session" = [])),
)]
async fn logout(
    State(state): State<AppState>,
    meta: RequestMeta,
    current: Option<Authenticated>,
) -> ApiResult<Response> {
    if let Some(a) = &current {
        session::end(&state.auth(), &meta, a).await?;
    }
    Ok((
        [(header::SET_COOKIE, session::clear_session_cookie())],
        ApiJson(OkResponse {
            status: "ok".into(),
        }),
    )
        .into_response())
}
