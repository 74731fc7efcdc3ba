//! `/api/v1/me…`: the signed-in user, their authenticator app, recovery codes and sessions.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    auth::{
        MeResponse, MeUser, OkResponse, OrganisationSummary, ReauthRequest, RecoveryCodesResponse,
        SessionInfo, SessionsResponse, TotpConfirmRequest, TotpEnrolRequest, TotpEnrolResponse,
    },
    ErrorBody,
};

use crate::http::openapi::errors::{
    AccountRateLimited, Csrf, Internal, InvalidBody, JsonBody, MfaNotEnabled, SessionOnly,
    WrongPasswordOrCode,
};
use crate::{
    audit::{self, Event, RequestMeta},
    auth::{
        factors::{self, Factors},
        mfa::{self, MfaError},
        session::{states, Authenticated},
        totp, verification,
    },
    clock::rfc3339_ms,
    db,
};

use super::extract::SignedIn;
use super::{
    auth::{start_session, Replaced},
    ApiError, ApiJson, ApiResult, AppState,
};

/// The routes of this file, under `/api/v1/me`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_me))
        .routes(routes!(start_enrolment, disable_totp))
        .routes(routes!(confirm_enrolment))
        .routes(routes!(regenerate_recovery_codes))
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(super::invitations::change_password))
}

/// `GET /api/v1/me`. The serialised answer is kept with the session in the session cache,
/// so repeated calls (every page asks) cost no database round trip and no serialisation.
#[utoipa::path(
    get,
    path = "/",
    tag = "me",
    operation_id = "get_me",
    summary = "The signed-in user, their organisation and role",
    responses(
        (status = 200, description = "The signed-in user, their organisation and role", body = MeResponse),
        SessionOnly,
        Internal,
    ),
    security(("session" = [])),
)]
async fn get_me(State(state): State<AppState>, SignedIn(a): SignedIn) -> ApiResult<Response> {
    let now = state.clock.now_ms();
    let body = match state.sessions.me(&a.token_hash, now) {
        Some(body) => body,
        None => {
            let me = build_me(&state, &a).await?;
            let body = bytes::Bytes::from(serde_json::to_vec(&me).map_err(anyhow::Error::from)?);
            state.sessions.set_me(&a.token_hash, body.clone());
            body
        }
    };
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

async fn build_me(state: &AppState, a: &Authenticated) -> ApiResult<MeResponse> {
    let ctx = state.auth();
    let org = factors::org_of(&ctx, &a.user).await?;
    let user_factors = factors::of_user_in(&ctx, &a.user, org.as_ref()).await?;
    let organisation = org.map(|o| OrganisationSummary {
        id: o.id,
        slug: o.slug,
        name: o.name,
    });
    Ok(MeResponse {
        user: MeUser {
            id: a.user.id.clone(),
            email: a.user.email.clone(),
            name: a.user.name.clone(),
            role: a.user.role.clone(),
            staff: a.user.is_staff,
            mfa_enabled: user_factors.enrolled.totp,
            email_codes: user_factors.enrolled.email,
            mfa_methods_allowed: user_factors.allowed.names(),
            has_password: a.user.password_hash.is_some(),
            auth_method: a.session.auth_method.clone(),
        },
        organisation,
    })
}

/// The authenticator app's own code: what turning it off or replacing its recovery codes
/// takes.
const AUTHENTICATOR: Factors = Factors {
    totp: true,
    email: false,
};

/// A session that may manage the authenticator: signed in, or signing in and required to enrol.
pub(super) fn enrolling_or_signed_in(current: Option<Authenticated>) -> ApiResult<Authenticated> {
    match current {
        Some(a) if a.session.state == states::FULL || a.session.state == states::MFA_ENROLMENT => {
            Ok(a)
        }
        Some(_) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "mfa_required",
            "Enter your sign-in code (from your authenticator app or your e-mail) to finish signing in.",
        )),
        None => Err(super::extract::unauthenticated()),
    }
}

/// Checks the user's password again for a sensitive change (bounded: see
/// `auth::verification`).
pub(super) async fn require_password(
    state: &AppState,
    meta: &RequestMeta,
    a: &Authenticated,
    password: &str,
) -> ApiResult<()> {
    verification::recheck_password(
        &state.auth(),
        meta,
        a,
        password,
        "password",
        "That password is not right.",
    )
    .await
    .map_err(ApiError::from)
}

/// 422 `invalid_code` for the code confirming an enrolment: a wrong one, or one whose time
/// step was already used.
fn invalid_code() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_code",
        "That code is not right. Check that your phone's clock is set automatically and enter the current code.",
    )
    .with_field("code")
}

/// The answer to a refused change of the authenticator.
fn mfa_error(e: MfaError) -> ApiError {
    match e {
        MfaError::AlreadyEnabled => ApiError::new(
            StatusCode::CONFLICT,
            "mfa_already_enabled",
            "An authenticator app is already set up.",
        ),
        MfaError::InvalidCode => invalid_code(),
        MfaError::EmailAlreadyOn => ApiError::new(
            StatusCode::CONFLICT,
            "email_codes_already_on",
            "Codes by e-mail are already on.",
        ),
        MfaError::Internal(e) => ApiError::internal(e),
    }
}

async fn is_enrolled(state: &AppState, user_id: &str) -> ApiResult<bool> {
    Ok(db::mfa::has_confirmed_totp(state.db.pool(), user_id).await?)
}

/// `POST /api/v1/me/mfa/totp`: starts an enrolment (pending until confirmed).
#[utoipa::path(
    post,
    path = "/mfa/totp",
    tag = "me",
    operation_id = "start_totp_enrolment",
    summary = "Start setting up an authenticator app",
    request_body = TotpEnrolRequest,
    responses(
        (status = 200, description = "A new, pending authenticator secret (confirm it with a code)", body = TotpEnrolResponse),
        (status = 401, description = "`invalid_password`: the password is not right; `session_ended`: the fifth wrong password or code in this session signed it out; `unauthenticated` or `mfa_required`: not signed in", body = ErrorBody),
        (status = 403, description = "`method_not_allowed`: the organisation does not accept authenticator apps; `csrf`: not same-origin", body = ErrorBody),
        (status = 409, description = "`mfa_already_enabled`: an authenticator is already set up", body = ErrorBody),
        JsonBody,
        InvalidBody,
        AccountRateLimited,
        Internal,
    ),
    security(("session" = [])),
)]
async fn start_enrolment(
    State(state): State<AppState>,
    meta: RequestMeta,
    current: Option<Authenticated>,
    ApiJson(req): ApiJson<TotpEnrolRequest>,
) -> ApiResult<ApiJson<TotpEnrolResponse>> {
    let a = enrolling_or_signed_in(current)?;
    if !factors::of_user(&state.auth(), &a.user).await?.allowed.totp {
        return Err(ApiError::forbidden(
            "method_not_allowed",
            "Your organisation does not accept authenticator apps as a second factor: use the other way it offers, or ask your administrator.",
        ));
    }
    require_password(&state, &meta, &a, &req.password).await?;
    if is_enrolled(&state, &a.user.id).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "mfa_already_enabled",
            "An authenticator app is already set up. Turn it off first to set up another.",
        ));
    }
    let secret = totp::generate_secret();
    let sealed = state
        .secrets
        .seal(&secret, a.user.id.as_bytes())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("sealing a TOTP secret failed: {e}")))?;
    mfa::start_enrolment(&state.db, state.clock.now_ms(), &meta, &a.user, &sealed)
        .await
        .map_err(mfa_error)?;
    let otpauth_uri = totp::otpauth_uri(&secret, app::product::PRODUCT_NAME, &a.user.email)
        .map_err(anyhow::Error::from)?;
    let qr_svg = totp::qr_svg(&otpauth_uri).map_err(anyhow::Error::from)?;
    Ok(ApiJson(TotpEnrolResponse {
        secret: totp::secret_base32(&secret),
        otpauth_uri,
        qr_svg,
    }))
}

/// `POST /api/v1/me/mfa/totp/confirm`: the first code confirms the enrolment; returns the
/// recovery codes, and finishes a sign-in that was waiting for enrolment.
#[utoipa::path(
    post,
    path = "/mfa/totp/confirm",
    tag = "me",
    operation_id = "confirm_totp_enrolment",
    summary = "Confirm the authenticator app with a first code",
    request_body = TotpConfirmRequest,
    responses(
        (status = 200, description = "The authenticator is on; the ten recovery codes, shown once (a sign-in that had to enrol becomes full and gets a new session cookie)", body = RecoveryCodesResponse),
        (status = 401, description = "`unauthenticated` or `mfa_required`: not signed in", body = ErrorBody),
        Csrf,
        (status = 409, description = "`no_pending_enrolment`: start the enrolment first", body = ErrorBody),
        JsonBody,
        (status = 422, description = "`invalid_code`: the code is not right; `malformed_json`, `invalid_body`, `invalid_field`: the body is not acceptable", body = ErrorBody),
        Internal,
    ),
    security(("session" = [])),
)]
async fn confirm_enrolment(
    State(state): State<AppState>,
    meta: RequestMeta,
    current: Option<Authenticated>,
    ApiJson(req): ApiJson<TotpConfirmRequest>,
) -> ApiResult<Response> {
    let a = enrolling_or_signed_in(current)?;
    let Some(enrolment) = db::mfa::find_totp(state.db.pool(), &a.user.id)
        .await?
        .filter(|t| t.confirmed_at.is_none())
    else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_pending_enrolment",
            "There is no authenticator set-up waiting for confirmation. Start the set-up again.",
        ));
    };
    let secret = state
        .secrets
        .open(&enrolment.secret_sealed, a.user.id.as_bytes())
        .map_err(|e| {
            ApiError::internal(anyhow::anyhow!("cannot open a pending TOTP secret: {e}"))
        })?;
    let step = totp::normalize_code(&req.code)
        .and_then(|code| {
            totp::verify(
                &secret,
                &code,
                state.clock.now_secs(),
                u64::try_from(enrolment.last_step).ok(),
            )
        })
        .and_then(|s| i64::try_from(s).ok());
    let Some(step) = step else {
        return Err(invalid_code());
    };
    let codes = mfa::confirm_enrolment(
        &state.db,
        &state.recovery_pepper,
        state.clock.now_ms(),
        &meta,
        &a.user,
        step,
    )
    .await
    .map_err(mfa_error)?;
    factor_confirmed(&state, &meta, &a, "totp", codes).await
}

/// The answer once a new second factor (`via`: `totp` or `email`) is confirmed, with the
/// recovery codes to show once. The code just confirmed proves the factor: a signed-in session
/// may go on with dangerous actions without being asked again (`auth::step_up`); a sign-in that
/// waited for the set-up becomes full, signed in as `password+{via}`, with a new cookie.
pub(super) async fn factor_confirmed(
    state: &AppState,
    meta: &RequestMeta,
    a: &Authenticated,
    via: &'static str,
    codes: Vec<String>,
) -> ApiResult<Response> {
    if a.session.state == states::FULL {
        db::sessions::set_stepped_up(state.db.pool(), &a.session.id, state.clock.now_ms(), via)
            .await?;
    }
    state.sessions.forget_user(&a.user.id);
    let body = ApiJson(RecoveryCodesResponse {
        recovery_codes: codes,
    });
    if a.session.state == states::MFA_ENROLMENT {
        let method = if via == "email" {
            "password+email"
        } else {
            "password+totp"
        };
        let headers = start_session(
            state,
            &a.user,
            states::FULL,
            method,
            meta,
            Some(Replaced::in_state(&a.session.id, states::MFA_ENROLMENT)),
            None,
        )
        .await?;
        return Ok((headers, body).into_response());
    }
    Ok(body.into_response())
}

/// `DELETE /api/v1/me/mfa/totp`: turns the authenticator off (password and a code).
#[utoipa::path(
    delete,
    path = "/mfa/totp",
    tag = "me",
    operation_id = "disable_totp",
    summary = "Turn the authenticator app off",
    request_body = ReauthRequest,
    responses(
        (status = 200, description = "The authenticator is off", body = OkResponse),
        WrongPasswordOrCode,
        (status = 403, description = "`mfa_required_for_staff`: carrier staff always sign in with an authenticator; `mfa_required_by_organisation`: the organisation requires two-step sign-in; `break_glass_needs_authenticator`: the user is a break-glass administrator; `codes_locked`: too many wrong codes in a row locked the codes; `csrf`: not same-origin", body = ErrorBody),
        MfaNotEnabled,
        JsonBody,
        InvalidBody,
        AccountRateLimited,
        Internal,
    ),
    security(("session" = [])),
)]
async fn disable_totp(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(a): SignedIn,
    ApiJson(req): ApiJson<ReauthRequest>,
) -> ApiResult<ApiJson<OkResponse>> {
    if !is_enrolled(&state, &a.user.id).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "mfa_not_enabled",
            "No authenticator app is set up.",
        ));
    }
    if a.user.is_staff {
        return Err(ApiError::forbidden(
            "mfa_required_for_staff",
            "Carrier staff always sign in with an authenticator app, so it cannot be turned off. Generate new recovery codes instead.",
        ));
    }
    if db::org_users::is_break_glass(state.db.pool(), &a.user.id).await? {
        return Err(ApiError::forbidden(
            "break_glass_needs_authenticator",
            "You are a break-glass administrator, who signs in with an authenticator app while single sign-on is required: ask another administrator to remove you from the break-glass administrators first.",
        ));
    }
    let ctx = state.auth();
    let org = factors::org_of(&ctx, &a.user).await?;
    let others = factors::of_user_in(&ctx, &a.user, org.as_ref())
        .await?
        .counting()
        .email;
    if org.as_ref().is_some_and(|o| o.mfa_required) && !others {
        return Err(ApiError::forbidden(
            "mfa_required_by_organisation",
            "Your organisation requires a second factor and this is your only one, so it cannot be turned off. Generate new recovery codes instead, or ask your administrator.",
        ));
    }
    require_password(&state, &meta, &a, &req.password).await?;
    verification::recheck_code(&state.auth(), &meta, &a, &req.code, AUTHENTICATOR).await?;
    mfa::disable(&state.db, state.clock.now_ms(), &meta, &a.user)
        .await
        .map_err(mfa_error)?;
    state.sessions.forget_user(&a.user.id);
    Ok(ApiJson(OkResponse {
        status: "ok".into(),
    }))
}

/// `POST /api/v1/me/mfa/recovery-codes`: replaces the recovery codes (password and a code).
#[utoipa::path(
    post,
    path = "/mfa/recovery-codes",
    tag = "me",
    operation_id = "regenerate_recovery_codes",
    summary = "Replace the recovery codes",
    request_body = ReauthRequest,
    responses(
        (status = 200, description = "Ten new recovery codes, shown once; the old ones no longer work", body = RecoveryCodesResponse),
        WrongPasswordOrCode,
        (status = 403, description = "`codes_locked`: too many wrong codes in a row locked the codes; `csrf`: a cookie-authenticated change that is not same-origin", body = ErrorBody),
        MfaNotEnabled,
        JsonBody,
        InvalidBody,
        AccountRateLimited,
        Internal,
    ),
    security(("session" = [])),
)]
async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(a): SignedIn,
    ApiJson(req): ApiJson<ReauthRequest>,
) -> ApiResult<ApiJson<RecoveryCodesResponse>> {
    if !is_enrolled(&state, &a.user.id).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "mfa_not_enabled",
            "Set up an authenticator app first.",
        ));
    }
    require_password(&state, &meta, &a, &req.password).await?;
    verification::recheck_code(&state.auth(), &meta, &a, &req.code, AUTHENTICATOR).await?;
    let codes = mfa::regenerate_recovery_codes(
        &state.db,
        &state.recovery_pepper,
        state.clock.now_ms(),
        &meta,
        &a.user,
    )
    .await
    .map_err(mfa_error)?;
    Ok(ApiJson(RecoveryCodesResponse {
        recovery_codes: codes,
    }))
}

/// "Chrome on Windows" from a user agent string.
pub fn describe_device(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent else {
        return "Unknown device".to_string();
    };
    let browser = if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("Firefox/") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else if ua.starts_with("curl/") {
        "curl"
    } else {
        "Browser"
    };
    let system = if ua.contains("Windows") {
        Some("Windows")
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        Some("iOS")
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        Some("macOS")
    } else if ua.contains("Android") {
        Some("Android")
    } else if ua.contains("Linux") || ua.contains("X11") {
        Some("Linux")
    } else {
        None
    };
    match system {
        Some(s) => format!("{browser} on {s}"),
        None => browser.to_string(),
    }
}

/// `GET /api/v1/me/sessions`.
#[utoipa::path(
    get,
    path = "/sessions",
    tag = "me",
    operation_id = "list_sessions",
    summary = "The signed-in user's sessions",
    responses(
        (status = 200, description = "The user's sessions, the current one marked", body = SessionsResponse),
        SessionOnly,
        Internal,
    ),
    security(("session" = [])),
)]
async fn list_sessions(
    State(state): State<AppState>,
    SignedIn(a): SignedIn,
) -> ApiResult<ApiJson<SessionsResponse>> {
    let now = state.clock.now_ms();
    let idle_cutoff = now - state.config.session_idle_secs * 1000;
    let sessions = db::sessions::list_for_user(state.db.pool(), &a.user.id, now, idle_cutoff)
        .await?
        .into_iter()
        .map(|s| SessionInfo {
            current: s.id == a.session.id,
            created_at: rfc3339_ms(s.created_at),
            last_seen_at: rfc3339_ms(s.last_seen_at),
            device: describe_device(s.user_agent.as_deref()),
            auth_method: s.auth_method,
            ip: s.ip,
            id: s.id,
        })
        .collect();
    Ok(ApiJson(SessionsResponse { sessions }))
}

/// `DELETE /api/v1/me/sessions/{id}`: ends one of the user's own sessions.
#[utoipa::path(
    delete,
    path = "/sessions/{id}",
    tag = "me",
    operation_id = "revoke_session",
    summary = "End one of the user's sessions",
    params(("id" = String, Path, description = "The session id")),
    responses(
        (status = 200, description = "The session has ended", body = OkResponse),
        SessionOnly,
        Csrf,
        (status = 404, description = "`not_found`: the user has no session with this id", body = ErrorBody),
        Internal,
    ),
    security(("session" = [])),
)]
async fn revoke_session(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(a): SignedIn,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<OkResponse>> {
    if !db::sessions::delete_for_user(state.db.pool(), &a.user.id, &id).await? {
        return Err(ApiError::not_found("You have no session with this id."));
    }
    state.sessions.forget_session(&id);
    audit::record(
        state.db.pool(),
        state.clock.now_ms(),
        &meta,
        Event {
            actor: Some(&a.user),
            action: "session.revoked",
            target: Some(&id),
            org_id: None,
            details: json!({"own": id == a.session.id}),
        },
    )
    .await?;
    Ok(ApiJson(OkResponse {
        status: "ok".into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::describe_device;

    #[test]
    fn devices_are_described_briefly() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
        assert_eq!(describe_device(Some(chrome)), "Chrome on Windows");
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(describe_device(Some(safari)), "Safari on iOS");
        assert_eq!(describe_device(Some("curl/8.5.0")), "curl");
        assert_eq!(describe_device(None), "Unknown device");
    }
}
