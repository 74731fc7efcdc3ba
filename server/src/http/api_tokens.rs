//! `/api/v1/api-tokens`: an organisation's API tokens, managed by its admins (or staff with
//! `?org=SLUG`). The secret is in the creation answer only; listing never shows it.

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{
    tokens::{
        ApiTokenInfo, ApiTokensResponse, CreateApiTokenRequest, CreateApiTokenResponse, TokenScope,
        TokenStatus, MAX_TOKEN_DAYS,
    },
    ErrorBody,
};

use crate::http::openapi::errors::{
    DangerousOrgCaller, Internal, InvalidBody, JsonBody, NoSuchOrg, OrgCaller, TokensAdminOnly,
};
use crate::http::openapi::params::ActingFor;
use crate::{
    audit::RequestMeta,
    auth::api_tokens::{self as tokens, ApiTokenError, NewToken},
    clock::rfc3339_ms,
    db::{self, api_tokens::ApiToken},
};

use super::caller::Caller;
use super::{ApiError, ApiJson, ApiResult, AppState};

/// Routes under `/api/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
}

/// A stored token as the API shows it, its status judged at `now`.
pub fn token_info(t: &ApiToken, now: i64) -> ApiTokenInfo {
    ApiTokenInfo {
        id: t.id.clone(),
        name: t.name.clone(),
        scope: TokenScope::parse(&t.scope).unwrap_or(TokenScope::Read),
        prefix: t.prefix.clone(),
        created_by: t.created_by_label.clone(),
        created_at: rfc3339_ms(t.created_at),
        expires_at: rfc3339_ms(t.expires_at),
        last_used_at: t.last_used_at.map(rfc3339_ms),
        revoked_at: t.revoked_at.map(rfc3339_ms),
        status: if t.revoked_at.is_some() {
            TokenStatus::Revoked
        } else if now >= t.expires_at {
            TokenStatus::Expired
        } else {
            TokenStatus::Active
        },
    }
}

fn no_such_token() -> ApiError {
    ApiError::not_found("Your organisation has no API token with this id.")
}

/// The answer to a refused change.
fn token_error(e: ApiTokenError) -> ApiError {
    match e {
        ApiTokenError::NotFound => no_such_token(),
        ApiTokenError::Internal(e) => ApiError::internal(e),
    }
}

/// A token name: trimmed, 1–100 characters, no control characters.
fn valid_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid_field(
            "name",
            "Give the token a name of 1 to 100 characters, e.g. the script that will use it.",
        ));
    }
    Ok(name.to_string())
}

/// `GET /api/v1/api-tokens`.
#[utoipa::path(
    get,
    path = "/api-tokens",
    tag = "api-tokens",
    operation_id = "list_api_tokens",
    summary = "List the organisation's API tokens",
    params(ActingFor),
    responses(
        (status = 200, description = "The organisation's API tokens (never their secrets)", body = ApiTokensResponse),
        OrgCaller,
        TokensAdminOnly,
        NoSuchOrg,
        Internal,
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<ApiJson<ApiTokensResponse>> {
    caller.require_user_manager()?;
    let now = state.clock.now_ms();
    let tokens = db::api_tokens::list_for_org(state.db.pool(), &caller.org_id)
        .await?
        .iter()
        .map(|t| token_info(t, now))
        .collect();
    Ok(ApiJson(ApiTokensResponse { tokens }))
}

/// `POST /api/v1/api-tokens`: 201 with the secret, shown this once.
#[utoipa::path(
    post,
    path = "/api-tokens",
    tag = "api-tokens",
    operation_id = "create_api_token",
    summary = "Create an API token",
    params(ActingFor),
    request_body = CreateApiTokenRequest,
    responses(
        (status = 201, description = "The new token; its secret is shown only in this answer", body = CreateApiTokenResponse),
        DangerousOrgCaller,
        TokensAdminOnly,
        NoSuchOrg,
        JsonBody,
        InvalidBody,
        Internal,
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn create(
    State(state): State<AppState>,
    meta: RequestMeta,
    caller: Caller,
    ApiJson(req): ApiJson<CreateApiTokenRequest>,
) -> ApiResult<(StatusCode, ApiJson<CreateApiTokenResponse>)> {
    caller.require_user_manager()?;
    caller.require_step_up(&state).await?;
    let name = valid_name(&req.name)?;
    if !(1..=MAX_TOKEN_DAYS).contains(&req.expires_in_days) {
        return Err(ApiError::invalid_field(
            "expires_in_days",
            format!("A token must expire within 1 to {MAX_TOKEN_DAYS} days."),
        ));
    }
    let now = state.clock.now_ms();
    let created = tokens::create(
        &state.db,
        &caller.acting(&meta),
        now,
        NewToken {
            name,
            scope: req.scope,
            expires_in_days: req.expires_in_days,
        },
    )
    .await
    .map_err(token_error)?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CreateApiTokenResponse {
            token: token_info(&created.token, now),
            secret: created.secret,
        }),
    ))
}

/// `DELETE /api/v1/api-tokens/{id}`: revokes at once (the next request with it gets 401).
/// Revoking a revoked token changes nothing and answers it as it is.
#[utoipa::path(
    delete,
    path = "/api-tokens/{id}",
    tag = "api-tokens",
    operation_id = "revoke_api_token",
    summary = "Revoke an API token",
    params(("id" = String, Path, description = "The token id"), ActingFor),
    responses(
        (status = 200, description = "The token as revoked (revoking it again changes nothing)", body = ApiTokenInfo),
        OrgCaller,
        TokensAdminOnly,
        (status = 404, description = "`not_found`: the organisation has no API token with this id (or no such organisation)", body = ErrorBody),
        Internal,
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn revoke(
    State(state): State<AppState>,
    meta: RequestMeta,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<ApiTokenInfo>> {
    // Another organisation's token is not found, whoever asks; permission comes second.
    let token = db::api_tokens::find_in_org(state.db.pool(), &caller.org_id, &id)
        .await?
        .ok_or_else(no_such_token)?;
    caller.require_user_manager()?;
    let now = state.clock.now_ms();
    let current = tokens::revoke(&state.db, &caller.acting(&meta), now, &token)
        .await
        .map_err(token_error)?;
    Ok(ApiJson(token_info(&current, now)))
}
