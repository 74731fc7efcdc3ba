//! The error answers that many routes share, written once for the OpenAPI document.
//!
//! A route lists the sets that apply to it in its `#[utoipa::path(responses(…))]` beside its
//! own rows, e.g. `responses((status = 200, …), OrgRead)`. Where a route's answer says more
//! (its own 404 or 403), it writes that row itself instead of taking the set. The types are
//! never built; they exist for their derived `IntoResponses`.

// Never constructed: only their derived description is used.
#![allow(dead_code)]

use app::api::ErrorBody;
use utoipa::IntoResponses;

const ORG_REQUIRED: &str =
    "`org_required`: carrier staff must name the organisation with `?org=SLUG`";
const UNAUTHENTICATED_ANY: &str = "`unauthenticated`: no valid session or API token; `invalid_token` or `token_expired`: the Bearer token is unknown, revoked or expired; `mfa_required`: a sign-in waits for its code";
const ROLE: &str = "`insufficient_role` or `insufficient_scope`: the caller's role or token scope does not allow this";
const ROLE_OR_CSRF: &str = "`insufficient_role` or `insufficient_scope`: the role or token scope does not allow this; `csrf`: a cookie-authenticated change that is not same-origin";
const NO_SUCH_ORG: &str = "`not_found`: no such organisation (or one that is not the caller's)";
const INTERNAL: &str = "`internal`: a failure on the portal's side; quote `request_id` to support";
const TOO_LARGE: &str = "`payload_too_large`: the body is larger than the portal accepts";
const NOT_JSON: &str = "`unsupported_media_type`: the body was not sent as `application/json`";
const INVALID_BODY: &str = "`malformed_json`, `invalid_body` or `invalid_field` (with `field`): the body is not acceptable";
const NOT_SIGNED_IN: &str =
    "`unauthenticated`: not signed in (`mfa_required` while a sign-in waits for its code)";
const CSRF: &str = "`csrf`: a cookie-authenticated change that is not same-origin";
const UNAUTHENTICATED_OR_STEP_UP: &str = "`unauthenticated`: no valid session or API token; `invalid_token` or `token_expired`: the Bearer token is unknown, revoked or expired; `mfa_required`: a sign-in waits for its code; `step_up_required`: a dangerous action whose session has not proved the user's factor in the last 10 minutes (`field` names the proof: `POST /api/v1/auth/step-up` with `code` or `password`, `email_code`: ask for a code with `POST /api/v1/auth/step-up/email-code` first, or `microsoft`: sign in again)";
const NOT_SIGNED_IN_OR_STEP_UP: &str = "`unauthenticated`: not signed in (`mfa_required` while a sign-in waits for its code); `step_up_required`: the session has not proved the user's factor in the last 10 minutes (`field` names the proof: `POST /api/v1/auth/step-up` with `code` or `password`, `email_code`: ask for a code with `POST /api/v1/auth/step-up/email-code` first, or `microsoft`: sign in again)";

/// What an organisation-scoped read answers besides its data: 400 `org_required` (staff
/// without `?org=`), 401 (no session or token), 403 (role or scope), 404 (no such
/// organisation) and 500.
#[derive(IntoResponses)]
pub enum OrgRead {
    #[response(status = 400, description = ORG_REQUIRED)]
    OrgRequired(ErrorBody),
    #[response(status = 401, description = UNAUTHENTICATED_ANY)]
    Unauthenticated(ErrorBody),
    #[response(status = 403, description = ROLE)]
    Forbidden(ErrorBody),
    #[response(status = 404, description = NO_SUCH_ORG)]
    NotFound(ErrorBody),
    #[response(status = 500, description = INTERNAL)]
    Internal(ErrorBody),
}

/// 400 `org_required` and 401: a route for a session or an API token, acting for one
/// organisation.
#[derive(IntoResponses)]
pub enum OrgCaller {
    #[response(status = 400, description = ORG_REQUIRED)]
    OrgRequired(ErrorBody),
    #[response(status = 401, description = UNAUTHENTICATED_ANY)]
    Unauthenticated(ErrorBody),
}

/// [`OrgCaller`] for a dangerous action, which also answers 401 `step_up_required`.
#[derive(IntoResponses)]
pub enum DangerousOrgCaller {
    #[response(status = 400, description = ORG_REQUIRED)]
    OrgRequired(ErrorBody),
    #[response(status = 401, description = UNAUTHENTICATED_OR_STEP_UP)]
    Unauthenticated(ErrorBody),
}

/// [`SessionOnly`] for a dangerous action, which also answers 401 `step_up_required`.
#[derive(IntoResponses)]
pub enum DangerousSession {
    #[response(status = 401, description = NOT_SIGNED_IN_OR_STEP_UP)]
    Unauthenticated(ErrorBody),
}

/// 403: the role or the token's scope does not allow the read.
#[derive(IntoResponses)]
pub enum ReadRole {
    #[response(status = 403, description = ROLE)]
    Forbidden(ErrorBody),
}

/// 403: the role or the token's scope does not allow the change, or it came cross-site.
#[derive(IntoResponses)]
pub enum WriteRole {
    #[response(status = 403, description = ROLE_OR_CSRF)]
    Forbidden(ErrorBody),
}

/// 404: the organisation does not exist (or is not the caller's).
#[derive(IntoResponses)]
pub enum NoSuchOrg {
    #[response(status = 404, description = NO_SUCH_ORG)]
    NotFound(ErrorBody),
}

/// 413 and 415: a JSON body that is too large or not JSON.
#[derive(IntoResponses)]
pub enum JsonBody {
    #[response(status = 413, description = TOO_LARGE)]
    TooLarge(ErrorBody),
    #[response(status = 415, description = NOT_JSON)]
    NotJson(ErrorBody),
}

/// 422: a JSON body that cannot be read or has a field that is not valid.
#[derive(IntoResponses)]
pub enum InvalidBody {
    #[response(status = 422, description = INVALID_BODY)]
    Invalid(ErrorBody),
}

/// 401: a route for a signed-in session only.
#[derive(IntoResponses)]
pub enum SessionOnly {
    #[response(status = 401, description = NOT_SIGNED_IN)]
    Unauthenticated(ErrorBody),
}

/// 403 `csrf`: a change through the session cookie that did not come from the portal.
#[derive(IntoResponses)]
pub enum Csrf {
    #[response(status = 403, description = CSRF)]
    Csrf(ErrorBody),
}

/// 500 `internal`: on every route but the document itself.
#[derive(IntoResponses)]
pub enum Internal {
    #[response(status = 500, description = INTERNAL)]
    Internal(ErrorBody),
}

/// 403: a change only carrier staff make, or one that came cross-site.
#[derive(IntoResponses)]
pub enum StaffOnlyChange {
    #[response(
        status = 403,
        description = "`forbidden`: carrier staff only; `csrf`: not same-origin"
    )]
    Forbidden(ErrorBody),
}

/// 403: a read only carrier staff make.
#[derive(IntoResponses)]
pub enum StaffOnlyRead {
    #[response(status = 403, description = "`forbidden`: carrier staff only")]
    Forbidden(ErrorBody),
}

/// 404: no customer with the slug, or the tenant is not linked to it.
#[derive(IntoResponses)]
pub enum NoSuchCustomerTenant {
    #[response(
        status = 404,
        description = "`not_found`: no customer with this slug, or the tenant is not linked to it"
    )]
    NotFound(ErrorBody),
}

/// 409: the customer's SSO is off, or the tenant belongs to another customer.
#[derive(IntoResponses)]
pub enum TenantConflict {
    #[response(
        status = 409,
        description = "`sso_disabled`: single sign-on is not enabled for the customer; `tenant_taken`: the tenant is linked to another customer"
    )]
    Conflict(ErrorBody),
}

/// 422: the tenant id in the path is not a GUID.
#[derive(IntoResponses)]
pub enum TenantIdInvalid {
    #[response(
        status = 422,
        description = "`invalid_field`: the tenant id is not valid"
    )]
    Invalid(ErrorBody),
}

/// 422: a tenant change's body is not valid.
#[derive(IntoResponses)]
pub enum TenantBodyInvalid {
    #[response(
        status = 422,
        description = "`invalid_field` (with `field`, e.g. `tenant_id`), `malformed_json` or `invalid_body`"
    )]
    Invalid(ErrorBody),
}

/// 429: too many wrong passwords or codes for the account.
#[derive(IntoResponses)]
pub enum AccountRateLimited {
    #[response(
        status = 429,
        description = "`rate_limited`: too many wrong passwords or codes for this account; retry after the `Retry-After` header's seconds"
    )]
    TooMany(ErrorBody),
}

/// 429: too many failures from this address or for this account.
#[derive(IntoResponses)]
pub enum RateLimited {
    #[response(
        status = 429,
        description = "`rate_limited`: too many failures; retry after the `Retry-After` header's seconds"
    )]
    TooMany(ErrorBody),
}

/// 422: a body with a new password that is not acceptable.
#[derive(IntoResponses)]
pub enum PasswordBodyInvalid {
    #[response(
        status = 422,
        description = "`weak_password` (with `field`), `malformed_json`, `invalid_body` or `invalid_field`: the body or the password is not acceptable"
    )]
    Invalid(ErrorBody),
}

/// 404: the signed-in user's organisation is gone, or `?org=` named another one.
#[derive(IntoResponses)]
pub enum OwnOrgGone {
    #[response(
        status = 404,
        description = "`not_found`: the organisation no longer exists, or `?org=` named another organisation than the user's"
    )]
    NotFound(ErrorBody),
}

/// 404: an emailed link that is unknown, used or expired.
#[derive(IntoResponses)]
pub enum InvalidLink {
    #[response(
        status = 404,
        description = "`invalid_link`: the link is unknown, used or expired"
    )]
    NotFound(ErrorBody),
}

/// 403: only administrators manage users, never with a token.
#[derive(IntoResponses)]
pub enum UsersAdminOnly {
    #[response(
        status = 403,
        description = "`insufficient_role` or `insufficient_scope`: only administrators manage users, and never with a token; `csrf`: not same-origin"
    )]
    Forbidden(ErrorBody),
}

/// 403: only administrators manage API tokens, never with a token.
#[derive(IntoResponses)]
pub enum TokensAdminOnly {
    #[response(
        status = 403,
        description = "`insufficient_role` or `insufficient_scope`: only administrators manage tokens, and never with a token; `csrf`: not same-origin"
    )]
    Forbidden(ErrorBody),
}

/// 404: no user with the id in the organisation.
#[derive(IntoResponses)]
pub enum NoSuchUser {
    #[response(
        status = 404,
        description = "`not_found`: the organisation has no user with this id (or no such organisation)"
    )]
    NotFound(ErrorBody),
}

/// 404: no emergency address with the id in the organisation.
#[derive(IntoResponses)]
pub enum NoSuchAddress {
    #[response(
        status = 404,
        description = "`not_found`: the organisation has no emergency address with this id (or no such organisation)"
    )]
    NotFound(ErrorBody),
}

/// 409: the user has no authenticator.
#[derive(IntoResponses)]
pub enum MfaNotEnabled {
    #[response(
        status = 409,
        description = "`mfa_not_enabled`: no authenticator is set up"
    )]
    Conflict(ErrorBody),
}

/// 401: a re-entered password or code that is not right.
#[derive(IntoResponses)]
pub enum WrongPasswordOrCode {
    #[response(
        status = 401,
        description = "`invalid_password` or `invalid_code`: the password or the code is not right; `session_ended`: the fifth wrong password or code in this session signed it out; `unauthenticated`: not signed in"
    )]
    Unauthenticated(ErrorBody),
}

/// 422: an analytics parameter that is not valid.
#[derive(IntoResponses)]
pub enum InvalidRange {
    #[response(
        status = 422,
        description = "`invalid_query`, or `invalid_field` (with `field`): a parameter is not valid (times RFC 3339, range at most 400 days)"
    )]
    Invalid(ErrorBody),
}

/// 422: a list's filter, `limit` or `cursor` that is not valid.
#[derive(IntoResponses)]
pub enum InvalidListQuery {
    #[response(
        status = 422,
        description = "`invalid_query`, or `invalid_field` (with `field`): a filter, `limit` or `cursor` is not valid"
    )]
    Invalid(ErrorBody),
}

/// 422: an export's filter that is not valid, refused before any CSV.
#[derive(IntoResponses)]
pub enum InvalidExportQuery {
    #[response(
        status = 422,
        description = "`invalid_query`, or `invalid_field` (with `field`): a filter is not valid (checked before any CSV is sent)"
    )]
    Invalid(ErrorBody),
}
