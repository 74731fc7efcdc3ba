//! Emailed links: invitations (an organisation admin invites someone, who chooses a password)
//! and password resets. Links are single use, stored hashed, and a reset never bypasses MFA:
//! it sets the password and ends every session; signing in still asks for the code.
//!
//! Setting a password with a link and asking for a reset link are also taken as plain form
//! posts of their pages (`http/forms.rs`, the no-JavaScript encoding), through
//! [`set_password_with_link`] and [`request_reset_link`], the functions the JSON handlers call.

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use serde_json::json;
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    auth::{
        ChangePasswordRequest, InvitationInfo, InvitationRequest, InvitationResponse, OkResponse,
        PasswordResetRequest, SetPasswordRequest,
    },
    form_post::{
        EMAIL_FORMAT_MESSAGE, INVALID_LINK_MESSAGE, PASSWORD_TOO_LONG_MESSAGE,
        PASSWORD_TOO_SHORT_MESSAGE,
    },
    ErrorBody,
};

use crate::http::openapi::errors::{
    AccountRateLimited, Csrf, DangerousSession, Internal, InvalidBody, InvalidLink, JsonBody,
    NoSuchOrg, PasswordBodyInvalid, RateLimited,
};
use crate::http::openapi::params::{ActingFor, LinkToken};
use crate::{
    accounts::{self, AccountError, NewUserKind},
    audit::{self, Event, RequestMeta},
    auth::{
        password::{self, PasswordPolicyError},
        rate_limit::{self, Limit},
        session, verification,
    },
    clock::rfc3339_ms,
    db::{self, users::User},
    mail::Mail,
};

use super::{caller::Caller, extract::SignedIn};
use super::{ApiError, ApiJson, ApiResult, AppState};

/// Invitation links last a week.
pub const INVITE_TTL_SECS: i64 = 7 * 24 * 3600;
/// Reset links last 30 minutes.
pub const RESET_TTL_SECS: i64 = 30 * 60;

/// Reset requests per client IP.
pub const RESET_PER_IP: Limit = Limit {
    scope: "reset_ip",
    max_failures: 20,
};
/// Reset requests per account.
pub const RESET_PER_ACCOUNT: Limit = Limit {
    scope: "reset_account",
    max_failures: 5,
};

/// Routes under `/api/v1/auth`.
pub fn auth_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_invitation))
        .routes(routes!(accept_invitation))
        .routes(routes!(request_reset))
        .routes(routes!(complete_reset))
}

/// Routes under `/api/v1`.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(invite))
}

/// 404 `invalid_link`: the link is unknown, used, expired or replaced.
pub fn invalid_link() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "invalid_link", INVALID_LINK_MESSAGE)
}

fn policy_error(e: PasswordPolicyError) -> ApiError {
    // The length refusals in the words a form post's page shows too (`app::api::form_post`).
    let message = match e {
        PasswordPolicyError::TooShort => PASSWORD_TOO_SHORT_MESSAGE.to_string(),
        PasswordPolicyError::TooLong => PASSWORD_TOO_LONG_MESSAGE.to_string(),
        PasswordPolicyError::TooGuessable { .. } => {
            let mut message = e.to_string();
            if let Some(first) = message.get(..1) {
                message = first.to_uppercase() + &message[1..];
            }
            if !message.ends_with('.') {
                message.push('.');
            }
            message
        }
    };
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "weak_password", message).with_field("password")
}

/// The words a user's password must not be built from.
async fn personal_words(state: &AppState, user: &User) -> ApiResult<Vec<String>> {
    let mut words = vec![
        user.email.clone(),
        user.name.clone(),
        app::product::PRODUCT_NAME.to_string(),
    ];
    if let Some(org_id) = &user.org_id {
        if let Some(org) = db::orgs::find_by_id(state.db.pool(), org_id).await? {
            words.push(org.name);
            words.push(org.slug);
        }
    }
    Ok(words)
}

/// Checks and hashes a password the user chose.
async fn new_password_hash(state: &AppState, user: &User, password: &str) -> ApiResult<String> {
    let words = personal_words(state, user).await?;
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    password::check_new_password(password, &words).map_err(policy_error)?;
    Ok(state.passwords.hash(password).await?)
}

/// Stores a link for `user` and returns the token to put in the URL.
async fn issue_link(
    state: &AppState,
    user_id: &str,
    purpose: &str,
    ttl_secs: i64,
) -> ApiResult<(String, i64)> {
    let (token, token_hash) = session::new_token();
    let now = state.clock.now_ms();
    let expires_at = now + ttl_secs * 1000;
    let mut tx = state.db.begin_write().await?;
    db::tokens::insert(&mut tx, &token_hash, user_id, purpose, now, expires_at).await?;
    tx.commit().await?;
    Ok((token, expires_at))
}

/// `POST /api/v1/users/invitations` (organisation admins, and staff acting for the customer).
#[utoipa::path(
    post,
    path = "/users/invitations",
    tag = "users",
    operation_id = "invite_user",
    summary = "Invite someone to the organisation",
    params(ActingFor),
    request_body = InvitationRequest,
    responses(
        (status = 201, description = "The invitation was created and emailed", body = InvitationResponse),
        DangerousSession,
        (status = 400, description = "`org_required`: carrier staff must name the organisation with `?org=SLUG`", body = ErrorBody),
        (status = 403, description = "`forbidden`: only an administrator of the organisation (or carrier staff acting for it) invites; `token_not_allowed`: API tokens do not manage users; `csrf`: not same-origin", body = ErrorBody),
        NoSuchOrg,
        (status = 409, description = "`email_taken`: that address already has an account", body = ErrorBody),
        JsonBody,
        InvalidBody,
        Internal,
        (status = 502, description = "`mail_unavailable`: the invitation email could not be sent", body = ErrorBody),
    ),
    security(("session" = [])),
)]
async fn invite(
    State(state): State<AppState>,
    meta: RequestMeta,
    caller: Caller,
    ApiJson(req): ApiJson<InvitationRequest>,
) -> ApiResult<(StatusCode, ApiJson<InvitationResponse>)> {
    // Administrators, and carrier staff acting for the customer; never an API token.
    caller.require_user_manager()?;
    // An invitation grants a role, like a role change: a stale session may not make one.
    caller.require_step_up(&state).await?;
    let Some(inviter) = caller.user() else {
        return Err(ApiError::internal(anyhow::anyhow!(
            "a token passed require_user_manager"
        )));
    };
    let org_id = caller.org_id.as_str();
    if !matches!(req.role.as_str(), "admin" | "engineer" | "viewer") {
        return Err(ApiError::invalid_field(
            "role",
            "Choose a role: admin, engineer or viewer.",
        ));
    }
    let org = db::orgs::find_by_id(state.db.pool(), org_id)
        .await?
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "the admin's organisation {org_id} is missing"
            ))
        })?;
    let actor = accounts::Actor {
        user_id: Some(&inviter.id),
        label: &inviter.email,
    };
    let user = match accounts::create_user(
        &state.db,
        actor,
        NewUserKind::Customer {
            org_slug: &org.slug,
            role: &req.role,
        },
        &req.email,
        None,
    )
    .await
    {
        Ok(u) => u,
        Err(AccountError::InvalidEmail(_)) => {
            return Err(ApiError::invalid_field(
                "email",
                "Enter a valid email address, like name@example.com.",
            ))
        }
        Err(AccountError::EmailTaken(_)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "email_taken",
                "Someone with this email address already has an account.",
            )
            .with_field("email"))
        }
        Err(e) => return Err(ApiError::internal(anyhow::Error::from(e))),
    };
    let (token, expires_at) = issue_link(&state, &user.id, "invite", INVITE_TTL_SECS).await?;
    let link = format!("{}/invite/{token}", state.public_origin);
    let how = if accepts_with_microsoft(&state, &org).await? {
        "Open this link and choose \"Accept with Microsoft\" to sign in with your work account (or choose a password there); it works once, for 7 days"
    } else {
        "Choose your password here (the link works once, for 7 days)"
    };
    let sent = state
        .mailer
        .send(&Mail {
            to: user.email.clone(),
            subject: format!("{} invited you to the {}", inviter.email, app::product::PRODUCT_NAME),
            body: format!(
                "Hello,\n\n{} invited you to manage {}'s voice services in the {}.\n\n{how}:\n{link}\n\nIf you did not expect this, ignore this email.\n",
                inviter.email,
                org.name,
                app::product::PRODUCT_NAME
            ),
        })
        .await;
    if let Err(e) = sent {
        // An invitee whose link never went out would block a second invitation with
        // "email taken": undo the account so the admin can simply try again.
        tracing::error!("the invitation to {} could not be sent: {e:#}", user.email);
        let mut tx = state.db.begin_write().await?;
        db::users::delete(&mut *tx, &user.id).await?;
        audit::record(
            &mut *tx,
            state.clock.now_ms(),
            &meta,
            Event {
                actor: Some(inviter),
                action: "user.invitation_failed",
                target: Some(&user.id),
                org_id: Some(org_id),
                details: json!({"email": user.email, "reason": "mail_unavailable"}),
            },
        )
        .await?;
        tx.commit().await?;
        return Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "mail_unavailable",
            "The invitation could not be emailed because the mail server did not accept it. Nothing was created; try again in a moment.",
        ));
    }
    audit::record(
        state.db.pool(),
        state.clock.now_ms(),
        &meta,
        Event {
            actor: Some(inviter),
            action: "user.invited",
            target: Some(&user.id),
            org_id: Some(org_id),
            details: json!({"after": {"email": user.email, "role": req.role}}),
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(InvitationResponse {
            user_id: user.id,
            email: user.email,
            expires_at: rfc3339_ms(expires_at),
        }),
    ))
}

/// Whether an invitee of `org` may accept with Microsoft: single sign-on is configured and
/// on for the customer, and it has a tenant its users can sign in through.
async fn accepts_with_microsoft(state: &AppState, org: &db::orgs::Organisation) -> ApiResult<bool> {
    if !org.sso_enabled || state.entra.is_none() {
        return Ok(false);
    }
    Ok(db::sso::tenants_of_org(state.db.pool(), &org.id)
        .await?
        .iter()
        .any(db::sso::Tenant::admits_sign_in))
}

/// `GET /api/v1/auth/invitations/{token}`.
#[utoipa::path(
    get,
    path = "/invitations/{token}",
    tag = "auth",
    operation_id = "get_invitation",
    summary = "Look up an invitation link",
    params(LinkToken),
    responses(
        (status = 200, description = "Who the invitation is for", body = InvitationInfo),
        InvalidLink,
        Internal,
    ),
)]
async fn get_invitation(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<ApiJson<InvitationInfo>> {
    let now = state.clock.now_ms();
    let target = db::tokens::peek(state.db.pool(), &session::hash_token(&token), "invite", now)
        .await?
        .ok_or_else(invalid_link)?;
    let user = db::users::find_by_id(state.db.pool(), &target.user_id)
        .await?
        .ok_or_else(invalid_link)?;
    let org = match &user.org_id {
        Some(id) => db::orgs::find_by_id(state.db.pool(), id).await?,
        None => None,
    };
    let microsoft = match &org {
        Some(o) => accepts_with_microsoft(&state, o).await?,
        None => false,
    };
    Ok(ApiJson(InvitationInfo {
        email: user.email,
        organisation: org.map(|o| o.name).unwrap_or_default(),
        expires_at: rfc3339_ms(target.expires_at),
        microsoft,
    }))
}

/// Sets the password of the user a link is for, using the link; ends their sessions. Both
/// encodings (JSON, and the link pages' form posts) call it.
pub async fn set_password_with_link(
    state: &AppState,
    meta: &RequestMeta,
    token: &str,
    purpose: &str,
    password: &str,
) -> ApiResult<()> {
    let token_hash = session::hash_token(token);
    let now = state.clock.now_ms();
    let target = db::tokens::peek(state.db.pool(), &token_hash, purpose, now)
        .await?
        .ok_or_else(invalid_link)?;
    let user = db::users::find_by_id(state.db.pool(), &target.user_id)
        .await?
        .ok_or_else(invalid_link)?;
    if user.deactivated_at.is_some() {
        return Err(invalid_link());
    }
    let hash = new_password_hash(state, &user, password).await?;
    let mut tx = state.db.begin_write().await?;
    if db::tokens::consume(&mut *tx, &token_hash, purpose, state.clock.now_ms())
        .await?
        .is_none()
    {
        return Err(invalid_link());
    }
    db::users::set_password_hash(&mut *tx, &user.id, &hash).await?;
    let ended = db::users::end_all_sessions(&mut *tx, &user.id).await?;
    // Proving the mailbox again unlocks codes locked after too many wrong ones; the
    // authenticator itself is still asked for at the next sign-in.
    let codes_unlocked = db::mfa::unlock_codes(&mut tx, &user.id).await?;
    audit::record(
        &mut *tx,
        now,
        meta,
        Event {
            actor: Some(&user),
            action: if purpose == "invite" {
                "password.set"
            } else {
                "password.reset"
            },
            target: Some(&user.id),
            org_id: None,
            details: json!({"via": purpose, "sessions_ended": ended, "codes_unlocked": codes_unlocked}),
        },
    )
    .await?;
    tx.commit().await?;
    state.sessions.forget_user(&user.id);
    Ok(())
}

/// `POST /api/v1/auth/invitations/{token}/accept`.
#[utoipa::path(
    post,
    path = "/invitations/{token}/accept",
    tag = "auth",
    operation_id = "accept_invitation",
    summary = "Accept an invitation by choosing a password",
    params(LinkToken),
    request_body = SetPasswordRequest,
    responses(
        (status = 200, description = "The password is set; sign in with it", body = OkResponse),
        Csrf,
        InvalidLink,
        JsonBody,
        PasswordBodyInvalid,
        Internal,
    ),
)]
async fn accept_invitation(
    State(state): State<AppState>,
    meta: RequestMeta,
    Path(token): Path<String>,
    ApiJson(req): ApiJson<SetPasswordRequest>,
) -> ApiResult<ApiJson<OkResponse>> {
    set_password_with_link(&state, &meta, &token, "invite", &req.password).await?;
    Ok(ApiJson(OkResponse {
        status: "ok".into(),
    }))
}

/// `POST /api/v1/auth/password-reset`: always the same answer, whether or not the address has
/// an account, so it cannot be used to find out who has one.
#[utoipa::path(
    post,
    path = "/password-reset",
    tag = "auth",
    operation_id = "request_password_reset",
    summary = "Ask for a password reset link",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "Accepted; a link is emailed if the address has an active account (the answer is the same either way)", body = OkResponse),
        Csrf,
        JsonBody,
        InvalidBody,
        RateLimited,
        Internal,
    ),
)]
async fn request_reset(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(req): ApiJson<PasswordResetRequest>,
) -> ApiResult<(StatusCode, ApiJson<OkResponse>)> {
    request_reset_link(&state, meta, &req.email).await?;
    Ok((
        StatusCode::ACCEPTED,
        ApiJson(OkResponse {
            status: "ok".into(),
        }),
    ))
}

/// Counts a reset request for `email` against the limits and, when the address has an
/// active account, mails it a link after the answer. Both encodings (JSON, and the page's
/// form post) call it.
pub async fn request_reset_link(state: &AppState, meta: RequestMeta, email: &str) -> ApiResult<()> {
    let login_email = accounts::normalize_email(email)
        .map_err(|_| ApiError::invalid_field("email", EMAIL_FORMAT_MESSAGE))?;
    // Every request counts against the limits (the endpoint sends mail), and is counted
    // before anything else happens, so parallel requests cannot slip past them.
    let ip_key = meta.ip.clone().unwrap_or_else(|| "unknown".to_string());
    let ip_request = rate_limit::reserve(&state.auth(), &meta, RESET_PER_IP, &ip_key).await?;
    let account_request =
        match rate_limit::reserve(&state.auth(), &meta, RESET_PER_ACCOUNT, &login_email).await {
            Ok(r) => r,
            Err(e) => {
                rate_limit::release(&state.auth(), ip_request).await?;
                return Err(e.into());
            }
        };
    drop((ip_request, account_request));

    // The answer must take the same time whether or not the address has an account: the
    // lookup is the same for both, and everything that only an account causes (its link,
    // the mail and the audit entry) happens after the answer, on a task of its own.
    let user = db::users::find_by_login_email(state.db.pool(), &login_email).await?;
    if let Some(user) = user.filter(|u| u.deactivated_at.is_none()) {
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(e) = send_reset_link(&state, &meta, &user).await {
                tracing::error!("the password reset of {} failed: {e:?}", user.id);
            }
        });
    }
    Ok(())
}

/// Issues a reset link for `user`, mails it and audits the request (after the answer).
async fn send_reset_link(state: &AppState, meta: &RequestMeta, user: &User) -> ApiResult<()> {
    let (token, _) = issue_link(state, &user.id, "reset", RESET_TTL_SECS).await?;
    let link = format!("{}/reset-password/{token}", state.public_origin);
    let sent = state
        .mailer
        .send(&Mail {
            to: user.email.clone(),
            subject: format!("Reset your {} password", app::product::PRODUCT_NAME),
            body: format!(
                "Hello,\n\nSomeone (hopefully you) asked to reset the password of {} in the {}.\n\nChoose a new password here (the link works once, for 30 minutes):\n{link}\n\nIf you have an authenticator app set up, you will still need it to sign in.\nIf you did not ask for this, ignore this email: your password stays as it is.\n",
                user.email,
                app::product::PRODUCT_NAME
            ),
        })
        .await;
    // Nobody waits for this answer any more: a mail failure is for the operators' log.
    if let Err(e) = &sent {
        tracing::error!("the password reset mail could not be sent: {e:#}");
    }
    audit::record(
        state.db.pool(),
        state.clock.now_ms(),
        meta,
        Event {
            actor: Some(user),
            action: "password.reset_requested",
            target: Some(&user.id),
            org_id: None,
            details: json!({"mailed": sent.is_ok()}),
        },
    )
    .await?;
    Ok(())
}

/// `POST /api/v1/auth/password-reset/{token}`.
#[utoipa::path(
    post,
    path = "/password-reset/{token}",
    tag = "auth",
    operation_id = "complete_password_reset",
    summary = "Set a new password with a reset link",
    params(LinkToken),
    request_body = SetPasswordRequest,
    responses(
        (status = 200, description = "The password is set and every session of the account has ended", body = OkResponse),
        Csrf,
        InvalidLink,
        JsonBody,
        PasswordBodyInvalid,
        Internal,
    ),
)]
async fn complete_reset(
    State(state): State<AppState>,
    meta: RequestMeta,
    Path(token): Path<String>,
    ApiJson(req): ApiJson<SetPasswordRequest>,
) -> ApiResult<ApiJson<OkResponse>> {
    set_password_with_link(&state, &meta, &token, "reset", &req.password).await?;
    Ok(ApiJson(OkResponse {
        status: "ok".into(),
    }))
}

/// `POST /api/v1/me/password`: changes the password and ends every other session.
#[utoipa::path(
    post,
    path = "/password",
    tag = "me",
    operation_id = "change_password",
    summary = "Change the signed-in user's password",
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "The password is changed and every other session has ended", body = OkResponse),
        (status = 401, description = "`invalid_password` (with `field`): the current password is not right; `session_ended`: the fifth wrong password or code in this session signed it out; `unauthenticated`: not signed in", body = ErrorBody),
        Csrf,
        JsonBody,
        PasswordBodyInvalid,
        AccountRateLimited,
        Internal,
    ),
    security(("session" = [])),
)]
pub async fn change_password(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(a): SignedIn,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> ApiResult<ApiJson<OkResponse>> {
    verification::recheck_password(
        &state.auth(),
        &meta,
        &a,
        &req.current_password,
        "current_password",
        "Your current password is not right.",
    )
    .await?;
    let hash = new_password_hash(&state, &a.user, &req.new_password)
        .await
        .map_err(|e| {
            if e.code() == "weak_password" {
                e.with_field("new_password")
            } else {
                e
            }
        })?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    db::users::set_password_hash(&mut *tx, &a.user.id, &hash).await?;
    let ended = db::sessions::delete_others(&mut *tx, &a.user.id, &a.session.id).await?;
    audit::record(
        &mut *tx,
        now,
        &meta,
        Event {
            actor: Some(&a.user),
            action: "password.changed",
            target: Some(&a.user.id),
            org_id: None,
            details: json!({"other_sessions_ended": ended}),
        },
    )
    .await?;
    tx.commit().await?;
    state.sessions.forget_user(&a.user.id);
    Ok(ApiJson(OkResponse {
        status: "ok".into(),
    }))
}
