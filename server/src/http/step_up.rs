//! `POST /api/v1/auth/step-up`, and the check that dangerous actions make
//! ([`require`], [`Caller::require_step_up`]); the rules are `auth::step_up`'s.

use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    auth::{OkResponse, StepUpRequest},
    ErrorBody,
};

use crate::{
    audit::RequestMeta,
    auth::{session::Authenticated, step_up},
    http::openapi::errors::{Internal, JsonBody},
};

use super::{caller::Caller, extract::SignedIn, ApiJson, ApiResult, AppState};

/// The routes of this file, under `/api/v1/auth`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(step_up_session))
}

/// Refuses (401 `step_up_required`) a dangerous action of a session that has not proved the
/// user's factor in the last 10 minutes.
pub async fn require(state: &AppState, a: &Authenticated) -> ApiResult<()> {
    step_up::require(&state.auth(), &a.user, &a.session).await?;
    Ok(())
}

impl Caller {
    /// [`require`] for a signed-in caller. An API token needs none: it is a machine's
    /// credential, made by an administrator who stepped up to create it, and the routes
    /// that manage users and tokens refuse tokens anyway.
    pub async fn require_step_up(&self, state: &AppState) -> ApiResult<()> {
        match (self.user(), &self.session) {
            (Some(user), Some(session)) => {
                step_up::require(&state.auth(), user, session).await?;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// `POST /api/v1/auth/step-up`.
#[utoipa::path(
    post,
    path = "/step-up",
    tag = "auth",
    operation_id = "step_up",
    summary = "Confirm it's you before a dangerous action",
    description = "Creating API tokens, inviting users, changing roles, deactivating users, unlocking a user's codes, changing single sign-on or MFA settings and editing emergency addresses answer 401 `step_up_required` unless the session proved the user's factor in the last 10 minutes (a sign-in counts). This proves it: `code` for a user with an authenticator app, `password` for a user without a second factor. A session signed in with Microsoft signs in again with Microsoft instead (409 `sign_in_again`), unless the user has an authenticator.",
    request_body = StepUpRequest,
    responses(
        (status = 200, description = "The session is stepped up for 10 minutes", body = OkResponse),
        (status = 401, description = "`invalid_code` or `invalid_password` (wrong; counted like every re-check), `session_ended` (the fifth wrong secret in the session), `unauthenticated` or `mfa_required` (not signed in)", body = ErrorBody),
        (status = 403, description = "`codes_locked`: the account's codes are locked; `csrf`: not same-origin", body = ErrorBody),
        (status = 409, description = "`sign_in_again`: the session signed in with Microsoft; sign in again with Microsoft", body = ErrorBody),
        JsonBody,
        (status = 422, description = "`invalid_field`: the kind of proof this user gives is missing (`field`: `code` or `password`)", body = ErrorBody),
        (status = 429, description = "`rate_limited`, with Retry-After", body = ErrorBody),
        Internal,
    ),
    security(("session" = [])),
)]
async fn step_up_session(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(a): SignedIn,
    ApiJson(req): ApiJson<StepUpRequest>,
) -> ApiResult<ApiJson<OkResponse>> {
    step_up::step_up(
        &state.auth(),
        &meta,
        &a,
        req.code.as_deref(),
        req.password.as_deref(),
    )
    .await?;
    Ok(ApiJson(OkResponse {
        status: "ok".into(),
    }))
}
