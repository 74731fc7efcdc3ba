//! `/api/v1/users`: the organisation's users (any role, and API tokens, may read), role
//! changes and deactivation (admins, or staff with `?org=SLUG`; never a token). Invitations are
//! `POST /api/v1/users/invitations` in `invitations.rs`.
//!
//! Another organisation's user id answers 404, like an unknown one, before any permission
//! check. An organisation always keeps one active admin: demoting or deactivating the last one
//! is refused with 409 `last_admin`. The check and the change run in one transaction that first
//! takes the organisation row's write lock, so two admins demoting each other concurrently
//! cannot both succeed.

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    users::{BreakGlassRequest, OrgUserInfo, UpdateUserRequest, UsersResponse},
    ErrorBody,
};

use crate::http::openapi::errors::{
    DangerousOrgCaller, Internal, InvalidBody, JsonBody, NoSuchUser, OrgCaller, OrgRead, ReadRole,
    UsersAdminOnly,
};
use crate::http::openapi::params::{ActingFor, UserId};
use crate::{
    accounts::org_users::{self as user_admin, UserChangeError},
    audit::RequestMeta,
    clock::rfc3339_ms,
    db::{self, org_users::OrgUser},
};

use super::caller::{Caller, Role};
use super::{ApiError, ApiJson, ApiResult, AppState};

/// Routes under `/api/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_user, update))
        .routes(routes!(deactivate))
        .routes(routes!(unlock_codes))
        .routes(routes!(set_break_glass))
}

fn user_info(u: &OrgUser) -> OrgUserInfo {
    OrgUserInfo {
        id: u.id.clone(),
        email: u.email.clone(),
        name: u.name.clone(),
        role: u.role.clone(),
        mfa_enabled: u.mfa_enabled,
        sso_identity: u.sso_identity,
        codes_locked: u.codes_locked,
        break_glass: u.break_glass,
        deactivated: u.deactivated_at.is_some(),
        deactivated_at: u.deactivated_at.map(rfc3339_ms),
        created_at: rfc3339_ms(u.created_at),
    }
}

fn no_such_user() -> ApiError {
    ApiError::not_found("Your organisation has no user with this id.")
}

/// The answer to a refused change.
fn user_change_error(e: UserChangeError) -> ApiError {
    let conflict = |code, message| ApiError::new(StatusCode::CONFLICT, code, message);
    match e {
        UserChangeError::NotFound => no_such_user(),
        UserChangeError::LastAdmin => conflict(
            "last_admin",
            "This is the organisation's only active administrator. Make someone else an administrator first.",
        ),
        UserChangeError::UserDeactivated => conflict(
            "user_deactivated",
            "This user is deactivated; their role cannot be changed.",
        ),
        UserChangeError::CannotDeactivateSelf => conflict(
            "cannot_deactivate_self",
            "You cannot deactivate your own account. Ask another administrator.",
        ),
        UserChangeError::AlreadyDeactivated => {
            conflict("already_deactivated", "This user is already deactivated.")
        }
        UserChangeError::CodesNotLocked => conflict(
            "codes_not_locked",
            "This user's sign-in codes are not locked.",
        ),
        UserChangeError::BreakGlassNeedsAdmin => conflict(
            "break_glass_needs_admin",
            "Only an active administrator can be a break-glass administrator. Make them an administrator first.",
        ),
        UserChangeError::BreakGlassNeedsAuthenticator => conflict(
            "break_glass_needs_authenticator",
            "A break-glass administrator signs in with a password and an authenticator app: this user has no authenticator app yet. Ask them to set one up on their Security page first.",
        ),
        UserChangeError::BreakGlassLimit => conflict(
            "break_glass_limit",
            "Your organisation already has three break-glass administrators. Remove one first.",
        ),
        UserChangeError::Internal(e) => ApiError::internal(e),
    }
}

/// The caller's organisation's user `id`, or 404.
async fn find_user(state: &AppState, caller: &Caller, id: &str) -> ApiResult<OrgUser> {
    db::org_users::find(state.db.pool(), &caller.org_id, id)
        .await?
        .ok_or_else(no_such_user)
}

/// `GET /api/v1/users`.
#[utoipa::path(
    get,
    path = "/users",
    tag = "users",
    operation_id = "list_users",
    summary = "List the organisation's users",
    params(ActingFor),
    responses(
        (status = 200, description = "The organisation's users", body = UsersResponse),
        OrgRead,
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<ApiJson<UsersResponse>> {
    caller.require(Role::Viewer)?;
    let users = db::org_users::list(state.db.pool(), &caller.org_id)
        .await?
        .iter()
        .map(user_info)
        .collect();
    Ok(ApiJson(UsersResponse { users }))
}

/// `GET /api/v1/users/{id}`.
#[utoipa::path(
    get,
    path = "/users/{id}",
    tag = "users",
    operation_id = "get_user",
    summary = "Get one user",
    params(UserId, ActingFor),
    responses(
        (status = 200, description = "The user", body = OrgUserInfo),
        OrgCaller,
        ReadRole,
        NoSuchUser,
        Internal,
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<OrgUserInfo>> {
    caller.require(Role::Viewer)?;
    let user = find_user(&state, &caller, &id).await?;
    Ok(ApiJson(user_info(&user)))
}

/// `PATCH /api/v1/users/{id}` `{role}`.
#[utoipa::path(
    patch,
    path = "/users/{id}",
    tag = "users",
    operation_id = "update_user",
    summary = "Change a user's role",
    params(UserId, ActingFor),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The user as changed (unchanged when the role was already that)", body = OrgUserInfo),
        DangerousOrgCaller,
        UsersAdminOnly,
        NoSuchUser,
        (status = 409, description = "`user_deactivated`: a deactivated user's role cannot change; `last_admin`: the organisation would have no active administrator", body = ErrorBody),
        JsonBody,
        InvalidBody,
        Internal,
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn update(
    State(state): State<AppState>,
    meta: RequestMeta,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateUserRequest>,
) -> ApiResult<ApiJson<OrgUserInfo>> {
    find_user(&state, &caller, &id).await?;
    caller.require_user_manager()?;
    caller.require_step_up(&state).await?;
    let Some(role) = Role::parse(&req.role) else {
        return Err(ApiError::invalid_field(
            "role",
            "Choose a role: admin, engineer or viewer.",
        ));
    };
    let done = user_admin::set_role(
        &state.db,
        &caller.acting(&meta),
        state.clock.now_ms(),
        &id,
        role.as_str(),
    )
    .await
    .map_err(user_change_error)?;
    if done.changed {
        // The user's cached sessions carry the old role.
        state.sessions.forget_user(&id);
    }
    Ok(ApiJson(user_info(&done.user)))
}

/// `POST /api/v1/users/{id}/deactivate`: the user can no longer sign in and every session of
/// theirs ends at once. The organisation's API tokens they created keep working (tokens
/// belong to the organisation); revoke them separately if they should stop.
#[utoipa::path(
    post,
    path = "/users/{id}/deactivate",
    tag = "users",
    operation_id = "deactivate_user",
    summary = "Deactivate a user",
    params(UserId, ActingFor),
    responses(
        (status = 200, description = "The user as deactivated; their sessions have ended", body = OrgUserInfo),
        DangerousOrgCaller,
        UsersAdminOnly,
        NoSuchUser,
        (status = 409, description = "`cannot_deactivate_self`, `already_deactivated` or `last_admin`", body = ErrorBody),
        Internal,
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn deactivate(
    State(state): State<AppState>,
    meta: RequestMeta,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<OrgUserInfo>> {
    find_user(&state, &caller, &id).await?;
    caller.require_user_manager()?;
    caller.require_step_up(&state).await?;
    let after = user_admin::deactivate(&state.db, &caller.acting(&meta), state.clock.now_ms(), &id)
        .await
        .map_err(user_change_error)?;
    state.sessions.forget_user(&id);
    Ok(ApiJson(user_info(&after)))
}

/// `POST /api/v1/users/{id}/unlock-codes`: unlocks a user's sign-in codes, locked after too
/// many wrong codes in a row. Their authenticator and recovery codes stay as they were.
#[utoipa::path(
    post,
    path = "/users/{id}/unlock-codes",
    tag = "users",
    operation_id = "unlock_user_codes",
    summary = "Unlock a user's sign-in codes",
    params(UserId, ActingFor),
    responses(
        (status = 200, description = "The user, whose codes are unlocked", body = OrgUserInfo),
        DangerousOrgCaller,
        UsersAdminOnly,
        NoSuchUser,
        (status = 409, description = "`codes_not_locked`: the user's codes are not locked", body = ErrorBody),
        Internal,
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn unlock_codes(
    State(state): State<AppState>,
    meta: RequestMeta,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<OrgUserInfo>> {
    find_user(&state, &caller, &id).await?;
    caller.require_user_manager()?;
    // Unlocking lets wrong codes be tried again: a stale session may not do it.
    caller.require_step_up(&state).await?;
    let user = user_admin::unlock_codes(&state.db, &caller.acting(&meta), &id)
        .await
        .map_err(user_change_error)?;
    state.sessions.forget_user(&id);
    Ok(ApiJson(user_info(&user)))
}

/// `PUT /api/v1/users/{id}/break-glass`: names a break-glass administrator, who may still
/// sign in with password and authenticator app while the organisation requires single
/// sign-on (so an outage of its Entra ID does not lock it out), or stops them being one.
#[utoipa::path(
    put,
    path = "/users/{id}/break-glass",
    tag = "users",
    operation_id = "set_break_glass",
    summary = "Name (or stop naming) a break-glass administrator",
    params(UserId, ActingFor),
    request_body = BreakGlassRequest,
    responses(
        (status = 200, description = "The user as now stored", body = OrgUserInfo),
        DangerousOrgCaller,
        UsersAdminOnly,
        NoSuchUser,
        (status = 409, description = "`break_glass_needs_admin`: not an active administrator; `break_glass_needs_authenticator`: no authenticator app; `break_glass_limit`: the organisation has three already", body = ErrorBody),
        JsonBody,
        InvalidBody,
        Internal,
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn set_break_glass(
    State(state): State<AppState>,
    meta: RequestMeta,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<BreakGlassRequest>,
) -> ApiResult<ApiJson<OrgUserInfo>> {
    find_user(&state, &caller, &id).await?;
    caller.require_user_manager()?;
    caller.require_step_up(&state).await?;
    let changed = user_admin::set_break_glass(
        &state.db,
        &caller.acting(&meta),
        state.clock.now_ms(),
        &id,
        req.enabled,
    )
    .await
    .map_err(user_change_error)?;
    Ok(ApiJson(user_info(&changed.user)))
}
