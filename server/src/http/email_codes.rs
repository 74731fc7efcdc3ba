//! Codes by e-mail, the second factor for users who cannot use an authenticator app: turning
//! them on and off (`/api/v1/me/mfa/email…`), what a user has (`GET /api/v1/me/mfa`, and
//! `GET /api/v1/auth/mfa` for a sign-in waiting for its code), and sending a code for a
//! sign-in or a step-up. The code itself is entered where every code is:
//! `POST /api/v1/auth/mfa` and `POST /api/v1/auth/step-up`. The rules are
//! `auth::email_code`'s and `auth::factors`'.

use axum::{extract::State, http::StatusCode, response::Response};
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    auth::{
        EmailCodeSent, MfaMethodsResponse, OkResponse, PasswordRequest, RecoveryCodesResponse,
        TotpConfirmRequest,
    },
    ErrorBody,
};

use crate::http::openapi::errors::{
    AccountRateLimited, Csrf, Internal, InvalidBody, JsonBody, SessionOnly,
};
use crate::{
    audit::RequestMeta,
    auth::{
        email_code::{self, Purpose},
        factors::{self, UserFactors},
        mfa::{self, MfaError},
        rate_limit::{self, MFA_PER_ACCOUNT},
        session::{states, Authenticated},
        sign_in, step_up, AuthError,
    },
    db,
};

use super::extract::SignedIn;
use super::me::{enrolling_or_signed_in, factor_confirmed, require_password};
use super::{ApiError, ApiJson, ApiResult, AppState};

/// The routes under `/api/v1/me`.
pub fn me_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_factors))
        .routes(routes!(start_email_codes, stop_email_codes))
        .routes(routes!(confirm_email_codes))
}

/// The routes under `/api/v1/auth`.
pub fn auth_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pending_factors))
        .routes(routes!(send_sign_in_code))
        .routes(routes!(send_step_up_code))
}

/// The answer describing `user_factors`.
async fn describe(
    state: &AppState,
    a: &Authenticated,
    user_factors: UserFactors,
) -> ApiResult<MfaMethodsResponse> {
    let left = db::mfa::unused_recovery_codes(state.db.pool(), &a.user.id).await?;
    Ok(MfaMethodsResponse {
        enrolled: user_factors.enrolled.names(),
        allowed: user_factors.allowed.names(),
        usable: user_factors.counting().names(),
        email: a.user.email.clone(),
        recovery_codes_left: u32::try_from(left).unwrap_or(0),
        has_password: a.user.password_hash.is_some(),
    })
}

fn sent(a: &Authenticated) -> EmailCodeSent {
    EmailCodeSent {
        sent_to: a.user.email.clone(),
        expires_in_secs: u32::try_from(email_code::VALID_MS / 1000).unwrap_or(600),
    }
}

/// `GET /api/v1/me/mfa`.
#[utoipa::path(
    get,
    path = "/mfa",
    tag = "me",
    operation_id = "get_my_factors",
    summary = "The signed-in user's second factors, and which count",
    responses(
        (status = 200, description = "What the user has set up, what their organisation accepts, and their recovery codes left (also for a sign-in that must set up a factor first)", body = MfaMethodsResponse),
        SessionOnly,
        Internal,
    ),
    security(("session" = [])),
)]
async fn my_factors(
    State(state): State<AppState>,
    current: Option<Authenticated>,
) -> ApiResult<ApiJson<MfaMethodsResponse>> {
    let a = enrolling_or_signed_in(current)?;
    let user_factors = factors::of_user(&state.auth(), &a.user).await?;
    Ok(ApiJson(describe(&state, &a, user_factors).await?))
}

/// A sign-in waiting for its code, or 401 `mfa_expired`.
fn pending(current: Option<Authenticated>) -> ApiResult<Authenticated> {
    current
        .filter(|a| a.session.state == states::MFA_PENDING)
        .ok_or_else(|| ApiError::from(AuthError::NoPendingSignIn))
}

/// `GET /api/v1/auth/mfa`.
#[utoipa::path(
    get,
    path = "/mfa",
    tag = "auth",
    operation_id = "get_sign_in_factors",
    summary = "What the sign-in waiting for its code accepts",
    responses(
        (status = 200, description = "The user's second factors; `usable` is what `POST /auth/mfa` takes besides a recovery code (a Microsoft sign-in that showed no multi-factor evidence takes the authenticator app only)", body = MfaMethodsResponse),
        (status = 401, description = "`mfa_expired`: no sign-in is waiting for a code", body = ErrorBody),
        Internal,
    ),
    security(("session" = [])),
)]
async fn pending_factors(
    State(state): State<AppState>,
    current: Option<Authenticated>,
) -> ApiResult<ApiJson<MfaMethodsResponse>> {
    let a = pending(current)?;
    let mut user_factors = factors::of_user(&state.auth(), &a.user).await?;
    if a.session.auth_method == "entra" {
        user_factors.allowed.email = false;
    }
    Ok(ApiJson(describe(&state, &a, user_factors).await?))
}

/// `POST /api/v1/auth/mfa/email-code`.
#[utoipa::path(
    post,
    path = "/mfa/email-code",
    tag = "auth",
    operation_id = "send_sign_in_email_code",
    summary = "E-mail a code for the sign-in waiting for one",
    description = "A new 8-digit code, valid for 10 minutes, replaces the last one. A sign-in whose only factor is e-mail gets its first code when the password is accepted.",
    responses(
        (status = 200, description = "The code is on its way", body = EmailCodeSent),
        (status = 401, description = "`mfa_expired`: no sign-in is waiting for a code", body = ErrorBody),
        (status = 403, description = "`csrf`: not same-origin", body = ErrorBody),
        (status = 409, description = "`email_codes_off`: e-mail codes are not on for the user, or their organisation does not accept them", body = ErrorBody),
        AccountRateLimited,
        Internal,
    ),
    security(("session" = [])),
)]
async fn send_sign_in_code(
    State(state): State<AppState>,
    meta: RequestMeta,
    current: Option<Authenticated>,
) -> ApiResult<ApiJson<EmailCodeSent>> {
    let a = pending(current)?;
    sign_in::send_email_code(&state.auth(), &meta, &a.session, &a.user).await?;
    Ok(ApiJson(sent(&a)))
}

/// `POST /api/v1/auth/step-up/email-code`.
#[utoipa::path(
    post,
    path = "/step-up/email-code",
    tag = "auth",
    operation_id = "send_step_up_email_code",
    summary = "E-mail a code to confirm it's you before a dangerous action",
    description = "For a user whose factor is e-mail (401 `step_up_required` with `field` `email_code`): a new 8-digit code, valid for 10 minutes in this session, replaces the last one. Send it to `POST /api/v1/auth/step-up` as `code`.",
    responses(
        (status = 200, description = "The code is on its way", body = EmailCodeSent),
        SessionOnly,
        Csrf,
        (status = 409, description = "`email_codes_off`: e-mail codes are not on for the user, their organisation does not accept them, or the session signed in with Microsoft", body = ErrorBody),
        AccountRateLimited,
        Internal,
    ),
    security(("session" = [])),
)]
async fn send_step_up_code(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(a): SignedIn,
) -> ApiResult<ApiJson<EmailCodeSent>> {
    step_up::send_email_code(&state.auth(), &meta, &a).await?;
    Ok(ApiJson(sent(&a)))
}

/// `POST /api/v1/me/mfa/email`.
#[utoipa::path(
    post,
    path = "/mfa/email",
    tag = "me",
    operation_id = "start_email_codes",
    summary = "Start receiving sign-in codes by e-mail",
    description = "Checks the password and e-mails an 8-digit code; `POST /me/mfa/email/confirm` with it turns the method on.",
    request_body = PasswordRequest,
    responses(
        (status = 200, description = "The confirming code is on its way", body = EmailCodeSent),
        (status = 401, description = "`invalid_password`: the password is not right; `session_ended`: the fifth wrong password or code in this session signed it out; `unauthenticated` or `mfa_required`: not signed in", body = ErrorBody),
        (status = 403, description = "`method_not_allowed`: the organisation does not accept e-mail codes (carrier staff never use them); `csrf`: not same-origin", body = ErrorBody),
        (status = 409, description = "`email_codes_already_on`: they are on already", body = ErrorBody),
        JsonBody,
        InvalidBody,
        AccountRateLimited,
        Internal,
    ),
    security(("session" = [])),
)]
async fn start_email_codes(
    State(state): State<AppState>,
    meta: RequestMeta,
    current: Option<Authenticated>,
    ApiJson(req): ApiJson<PasswordRequest>,
) -> ApiResult<ApiJson<EmailCodeSent>> {
    let a = enrolling_or_signed_in(current)?;
    let ctx = state.auth();
    let user_factors = factors::of_user(&ctx, &a.user).await?;
    if !user_factors.allowed.email {
        return Err(not_allowed(&a));
    }
    require_password(&state, &meta, &a, &req.password).await?;
    if user_factors.enrolled.email {
        return Err(mfa_error(MfaError::EmailAlreadyOn));
    }
    email_code::send(&ctx, &meta, &a.user, Purpose::Enrol, &a.session.id).await?;
    Ok(ApiJson(sent(&a)))
}

fn not_allowed(a: &Authenticated) -> ApiError {
    ApiError::forbidden(
        "method_not_allowed",
        if a.user.is_staff {
            "Carrier staff sign in with an authenticator app: codes by e-mail are not available for staff accounts."
        } else {
            "Your organisation does not accept codes by e-mail. Set up an authenticator app instead, or ask your administrator."
        },
    )
}

fn mfa_error(e: MfaError) -> ApiError {
    match e {
        MfaError::EmailAlreadyOn => ApiError::new(
            StatusCode::CONFLICT,
            "email_codes_already_on",
            "Codes by e-mail are already on for your account.",
        ),
        MfaError::Internal(e) => ApiError::internal(e),
        other => ApiError::internal(anyhow::anyhow!("unexpected: {other}")),
    }
}

/// `POST /api/v1/me/mfa/email/confirm`.
#[utoipa::path(
    post,
    path = "/mfa/email/confirm",
    tag = "me",
    operation_id = "confirm_email_codes",
    summary = "Turn e-mail codes on with the code just sent",
    request_body = TotpConfirmRequest,
    responses(
        (status = 200, description = "E-mail codes are on; ten recovery codes to show once for a user who had no second factor (empty for one who keeps theirs). A sign-in that had to set up a factor becomes full and gets a new session cookie", body = RecoveryCodesResponse),
        (status = 401, description = "`unauthenticated` or `mfa_required`: not signed in", body = ErrorBody),
        (status = 403, description = "`method_not_allowed`: the organisation does not accept e-mail codes; `csrf`: not same-origin", body = ErrorBody),
        (status = 409, description = "`email_codes_already_on`: they are on already", body = ErrorBody),
        JsonBody,
        (status = 422, description = "`invalid_code`: the code is not right, has expired or was replaced by a newer one; `malformed_json`, `invalid_body`, `invalid_field`: the body is not acceptable", body = ErrorBody),
        AccountRateLimited,
        Internal,
    ),
    security(("session" = [])),
)]
async fn confirm_email_codes(
    State(state): State<AppState>,
    meta: RequestMeta,
    current: Option<Authenticated>,
    ApiJson(req): ApiJson<TotpConfirmRequest>,
) -> ApiResult<Response> {
    let a = enrolling_or_signed_in(current)?;
    let ctx = state.auth();
    if !factors::of_user(&ctx, &a.user).await?.allowed.email {
        return Err(not_allowed(&a));
    }
    // Guesses at the confirming code count against the account's code window.
    let attempt = rate_limit::reserve(&ctx, &meta, MFA_PER_ACCOUNT, &a.user.id).await?;
    if !email_code::check(&ctx, &a.user, Purpose::Enrol, &a.session.id, &req.code).await? {
        drop(attempt);
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_code",
            "That code is not right, or it has expired. Enter the 8-digit code from the latest e-mail, or start again to get a new one.",
        )
        .with_field("code"));
    }
    rate_limit::release(&ctx, attempt).await?;
    let now = state.clock.now_ms();
    let codes = mfa::enable_email(&state.db, &state.recovery_pepper, now, &meta, &a.user)
        .await
        .map_err(mfa_error)?;
    factor_confirmed(&state, &meta, &a, "email", codes).await
}

/// `DELETE /api/v1/me/mfa/email`.
#[utoipa::path(
    delete,
    path = "/mfa/email",
    tag = "me",
    operation_id = "stop_email_codes",
    summary = "Stop receiving sign-in codes by e-mail",
    request_body = PasswordRequest,
    responses(
        (status = 200, description = "E-mail codes are off (the recovery codes go too when no authenticator app stays)", body = OkResponse),
        (status = 401, description = "`invalid_password`: the password is not right; `session_ended`: the fifth wrong password or code in this session signed it out; `unauthenticated` or `mfa_required`: not signed in", body = ErrorBody),
        (status = 403, description = "`mfa_required_by_organisation`: the organisation requires a second factor and this is the user's last one that counts; `csrf`: not same-origin", body = ErrorBody),
        (status = 409, description = "`email_codes_off`: they are not on", body = ErrorBody),
        JsonBody,
        InvalidBody,
        AccountRateLimited,
        Internal,
    ),
    security(("session" = [])),
)]
async fn stop_email_codes(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(a): SignedIn,
    ApiJson(req): ApiJson<PasswordRequest>,
) -> ApiResult<ApiJson<OkResponse>> {
    let ctx = state.auth();
    let org = factors::org_of(&ctx, &a.user).await?;
    let user_factors = factors::of_user_in(&ctx, &a.user, org.as_ref()).await?;
    if !user_factors.enrolled.email {
        return Err(AuthError::EmailCodesOff.into());
    }
    let required = org.as_ref().is_some_and(|o| o.mfa_required);
    if required && !user_factors.counting().totp {
        return Err(ApiError::forbidden(
            "mfa_required_by_organisation",
            "Your organisation requires a second factor and this is your only one: set up an authenticator app first, or ask your administrator.",
        ));
    }
    require_password(&state, &meta, &a, &req.password).await?;
    mfa::disable_email(&state.db, state.clock.now_ms(), &meta, &a.user)
        .await
        .map_err(mfa_error)?;
    state.sessions.forget_user(&a.user.id);
    Ok(ApiJson(OkResponse {
        status: "ok".into(),
    }))
}
