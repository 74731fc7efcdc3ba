//! `GET /api/v1/audit` (organisation admins: their organisation; staff: every organisation, or
//! one with `?org=SLUG`) and the organisation's MFA policy, which admins set.

use axum::{extract::State, http::StatusCode};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::audit::{AuditEntry, AuditPage, MfaPolicyRequest};
use app::api::{auth::OkResponse, ErrorBody};

use crate::http::openapi::errors::{
    DangerousSession, Internal, InvalidBody, JsonBody, OwnOrgGone, SessionOnly,
};
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
        .routes(routes!(set_mfa_policy))
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

/// `PUT /api/v1/organisation/mfa-policy`: an admin requires (or stops requiring) an
/// authenticator app for the organisation's password sign-ins.
#[utoipa::path(
    put,
    path = "/organisation/mfa-policy",
    tag = "organisation",
    operation_id = "set_mfa_policy",
    summary = "Require (or stop requiring) an authenticator app",
    request_body = MfaPolicyRequest,
    responses(
        (status = 200, description = "The policy is saved", body = OkResponse),
        DangerousSession,
        (status = 403, description = "`forbidden`: only an administrator of the organisation changes it; `csrf`: not same-origin", body = ErrorBody),
        OwnOrgGone,
        JsonBody,
        InvalidBody,
        Internal,
    ),
    security(("session" = [])),
)]
async fn set_mfa_policy(
    State(state): State<AppState>,
    meta: RequestMeta,
    OwnOrgUser(SignedIn(a)): OwnOrgUser,
    ApiJson(req): ApiJson<MfaPolicyRequest>,
) -> ApiResult<ApiJson<OkResponse>> {
    let (Some(org_id), Some("admin")) = (a.user.org_id.as_deref(), a.user.role.as_deref()) else {
        return Err(ApiError::forbidden(
            "forbidden",
            "Only an administrator of your organisation can change this.",
        ));
    };
    super::step_up::require(&state, &a).await?;
    let actor = accounts::Actor {
        user_id: Some(&a.user.id),
        label: &a.user.email,
    };
    match accounts::set_mfa_policy_of(
        &state.db,
        state.clock.now_ms(),
        actor,
        &meta,
        org_id,
        req.required,
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
    Ok(ApiJson(OkResponse {
        status: "ok".into(),
    }))
}
