//! `GET /api/v1/audit` (organisation admins: their organisation; staff: every organisation, or
//! one with `?org=SLUG`) and the organisation's MFA policy, which admins set.

use axum::{extract::State, http::StatusCode};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::audit::{AuditEntry, AuditPage, MfaPolicy, MfaPolicyRequest};
use app::api::ErrorBody;

use crate::http::openapi::errors::{DangerousSession, Internal, JsonBody, OwnOrgGone, SessionOnly};
use crate::{
    accounts::{self, AccountError},
    audit::RequestMeta,
    clock::rfc3339_ms,
    db,
};

use super::{caller::OwnOrgUser, extract::SignedIn};
use super::{error::ApiQuery, ApiError, ApiJson, ApiResult, AppState};

/// Routes under `/api/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_mfa_policy, set_mfa_policy))
}

/// Filters of `GET /api/v1/audit`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Staff only: one organisation by slug.
    pub org: Option<String>,
    /// Actions starting with this, e.g. `auth.` or `auth.login_failed`.
    pub action: Option<String>,
    /// Exact actor label (an email, `cli`).
    pub actor: Option<String>,
    /// From this time (RFC 3339), inclusive.
    pub from: Option<String>,
    /// Before this time (RFC 3339).
    pub to: Option<String>,
    /// Entries older than this id (from `next_cursor`).
    pub cursor: Option<i64>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

fn parse_time(field: &str, value: &str) -> ApiResult<i64> {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(value, &Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| {
            ApiError::invalid_field(
                field,
                format!("{field} must be an RFC 3339 time such as 2026-01-31T00:00:00Z"),
            )
        })
}

/// `GET /api/v1/audit`.
#[utoipa::path(
    get,
    path = "/audit",
    tag = "organisation",
    operation_id = "list_audit_entries",
    summary = "Read the audit log",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of audit entries, newest first", body = AuditPage),
        SessionOnly,
        (status = 403, description = "`forbidden`: only administrators (and carrier staff) read the audit log", body = ErrorBody),
        (status = 404, description = "`not_found`: carrier staff named an organisation that does not exist, or a customer named another organisation than its own", body = ErrorBody),
        (status = 422, description = "`invalid_query`, or `invalid_field` (with `field`): a filter is not valid", body = ErrorBody),
        Internal,
    ),
    security(("session" = [])),
)]
async fn list(
    State(state): State<AppState>,
    OwnOrgUser(SignedIn(a)): OwnOrgUser,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<ApiJson<AuditPage>> {
    let org_scope: Option<String> = if a.user.is_staff {
        match &q.org {
            Some(slug) => Some(
                db::orgs::find_by_slug(state.db.pool(), slug)
                    .await?
                    .ok_or_else(|| ApiError::not_found("There is no organisation with this slug."))?
                    .id,
            ),
            None => None,
        }
    } else if a.user.role.as_deref() == Some("admin") {
        a.user.org_id.clone()
    } else {
        return Err(ApiError::forbidden(
            "forbidden",
            "Only administrators can read the audit log.",
        ));
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid_field(
            "limit",
            "limit must be between 1 and 200",
        ));
    }

    let filter = db::audit::AuditFilter {
        org_id: org_scope,
        action_prefix: q.action.clone().filter(|s| !s.is_empty()),
        actor_label: q.actor.clone().filter(|s| !s.is_empty()),
        from: q
            .from
            .as_deref()
            .map(|t| parse_time("from", t))
            .transpose()?,
        to: q.to.as_deref().map(|t| parse_time("to", t)).transpose()?,
        before_id: q.cursor,
    };
    // One more than the page, to know whether there is a next one.
    let rows = db::audit::list(state.db.pool(), &filter, limit + 1).await?;
    let entries: Vec<AuditEntry> = rows
        .iter()
        .take(limit as usize)
        .map(|row| AuditEntry {
            id: row.id,
            at: rfc3339_ms(row.at),
            actor_id: row.actor_user_id.clone(),
            actor: row.actor_label.clone(),
            organisation_id: row.org_id.clone(),
            action: row.action.clone(),
            target: row.target.clone(),
            ip: row.ip.clone(),
            user_agent: row.user_agent.clone(),
            details: serde_json::from_str(&row.details).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    let next_cursor = (rows.len() as i64 > limit)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(ApiJson(AuditPage {
        entries,
        next_cursor,
    }))
}

/// The organisation an administrator acts for, or 403.
fn admin_org(a: &crate::auth::session::Authenticated) -> ApiResult<&str> {
    match (a.user.org_id.as_deref(), a.user.role.as_deref()) {
        (Some(org_id), Some("admin")) => Ok(org_id),
        _ => Err(ApiError::forbidden(
            "forbidden",
            "Only an administrator of your organisation can change this.",
        )),
    }
}

async fn read_policy(state: &AppState, org_id: &str) -> ApiResult<MfaPolicy> {
    let org = db::orgs::find_by_id(state.db.pool(), org_id)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "Your organisation no longer exists.",
            )
        })?;
    Ok(policy_of(&org))
}

/// `org`'s second-factor policy as the API shows it.
pub(super) fn policy_of(org: &db::orgs::Organisation) -> MfaPolicy {
    MfaPolicy {
        required: org.mfa_required,
        methods: crate::auth::factors::Factors::from(org.mfa_methods).names(),
    }
}

/// `GET /api/v1/organisation/mfa-policy`.
#[utoipa::path(
    get,
    path = "/organisation/mfa-policy",
    tag = "organisation",
    operation_id = "get_mfa_policy",
    summary = "The organisation's second-factor policy",
    responses(
        (status = 200, description = "Whether password sign-ins need a second factor, and which count", body = MfaPolicy),
        SessionOnly,
        (status = 403, description = "`forbidden`: only an administrator of the organisation reads it", body = ErrorBody),
        OwnOrgGone,
        Internal,
    ),
    security(("session" = [])),
)]
async fn get_mfa_policy(
    State(state): State<AppState>,
    OwnOrgUser(SignedIn(a)): OwnOrgUser,
) -> ApiResult<ApiJson<MfaPolicy>> {
    let org_id = admin_org(&a)?;
    Ok(ApiJson(read_policy(&state, org_id).await?))
}

/// `PUT /api/v1/organisation/mfa-policy`: an admin requires (or stops requiring) a second
/// factor for the organisation's password sign-ins, and chooses which factors count.
#[utoipa::path(
    put,
    path = "/organisation/mfa-policy",
    tag = "organisation",
    operation_id = "set_mfa_policy",
    summary = "Require a second factor, and choose which count",
    description = "Fields left out stay as they are. A user whose factors no longer count sets up one that does at their next password sign-in; a user who has none while a second factor is required sets one up first.",
    request_body = MfaPolicyRequest,
    responses(
        (status = 200, description = "The policy is saved; the answer is the policy now", body = MfaPolicy),
        DangerousSession,
        (status = 403, description = "`forbidden`: only an administrator of the organisation changes it; `csrf`: not same-origin", body = ErrorBody),
        OwnOrgGone,
        JsonBody,
        (status = 422, description = "`invalid_field` on `methods`: an unknown method, or none; `malformed_json`, `invalid_body`: the body is not acceptable", body = ErrorBody),
        Internal,
    ),
    security(("session" = [])),
)]
async fn set_mfa_policy(
    State(state): State<AppState>,
    meta: RequestMeta,
    OwnOrgUser(SignedIn(a)): OwnOrgUser,
    ApiJson(req): ApiJson<MfaPolicyRequest>,
) -> ApiResult<ApiJson<MfaPolicy>> {
    let org_id = admin_org(&a)?;
    let methods = req
        .methods
        .as_deref()
        .map(accounts::parse_mfa_methods)
        .transpose()
        .map_err(|e| ApiError::invalid_field("methods", capitalise(&e.to_string())))?;
    super::step_up::require(&state, &a).await?;
    let actor = accounts::Actor {
        user_id: Some(&a.user.id),
        label: &a.user.email,
    };
    let change = accounts::MfaPolicyChange {
        required: req.required,
        methods,
    };
    match accounts::set_mfa_policy_of(
        &state.db,
        state.clock.now_ms(),
        actor,
        &meta,
        org_id,
        change,
    )
    .await
    {
        Ok(()) => {}
        Err(AccountError::UnknownOrg(_)) => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "Your organisation no longer exists.",
            ))
        }
        Err(e) => return Err(ApiError::internal(anyhow::Error::from(e))),
    }
    // Every cached `GET /me` of the organisation says which factors count.
    state.sessions.forget_all();
    Ok(ApiJson(read_policy(&state, org_id).await?))
}

/// The message with its first letter upper-cased, ending in a full stop.
pub(super) fn capitalise(message: &str) -> String {
    let mut chars = message.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>())
        .unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}
