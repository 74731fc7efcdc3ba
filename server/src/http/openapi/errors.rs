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
