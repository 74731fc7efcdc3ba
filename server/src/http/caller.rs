//! The caller of an organisation-scoped API route: a signed-in user (session cookie) or an
//! API token (`Authorization: Bearer vcp_…`), resolved to the organisation acted on, the
//! rights held there and a label for the audit log.
//!
//! - A customer user acts for their own organisation with their role.
//! - An API token acts for its organisation: `read` has a viewer's rights, `read_write` an
//!   engineer's, `ingest` none but posting call records under `/api/v1/ingest/`. Tokens never
//!   manage users or tokens, whatever their scope ([`Caller::require_user_manager`]).
//! - Carrier staff act for any customer by adding `?org=SLUG`, with an admin's rights; without
//!   it an organisation-scoped route answers 400 `org_required`. A customer (or token) naming
//!   an organisation other than its own gets 404, the answer for any other customer's object.
//!
//! A token is read only from the `Authorization` header, never from a cookie; when the header
//! is present the session cookie is not consulted. Two limits are enforced here rather than in
//! each handler, so a handler that forgets a check still cannot be written through: a `read`
//! token is refused on every method but GET/HEAD/OPTIONS, and an `ingest` token everywhere but
//! under `/api/v1/ingest/`.

use std::sync::Arc;

use axum::{
    extract::{FromRequestParts, OriginalUri},
    http::{request::Parts, Method, StatusCode},
};

use app::api::tokens::TokenScope;

use super::{extract::SignedIn, ApiError, AppState};
use crate::{
    audit::{Acting, RequestMeta},
    auth::api_token,
    db::{self, api_tokens::ApiToken, sessions::Session, users::User},
};

/// A role within an organisation, ordered by what it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads.
    Viewer,
    /// Also changes numbers and emergency addresses.
    Engineer,
    /// Also manages users and API tokens.
    Admin,
}

impl Role {
    /// The role with this stored name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "engineer" => Some(Role::Engineer),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Engineer => "engineer",
            Role::Admin => "admin",
        }
    }
}

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A signed-in user (a customer user, or staff acting for a customer).
    User(Arc<User>),
    /// An API token.
    Token(Arc<ApiToken>),
}

/// The caller of an organisation-scoped route; see the module documentation.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The organisation acted on.
    pub org_id: String,
    /// The rights held there; `None` for an ingest token (which has no reading rights).
    pub role: Option<Role>,
    /// The user or token.
    pub principal: Principal,
    /// Carrier staff acting for a customer with `?org=SLUG`.
    pub staff: bool,
    /// The signed-in user's session (`None` for a token), for the step-up check.
    pub session: Option<Arc<Session>>,
}

impl Caller {
    /// The signed-in user, when the caller is not a token.
    pub fn user(&self) -> Option<&User> {
        match &self.principal {
            Principal::User(u) => Some(u),
            Principal::Token(_) => None,
        }
    }

    /// The token's scope, when the caller is a token.
    pub fn token_scope(&self) -> Option<TokenScope> {
        match &self.principal {
            Principal::User(_) => None,
            Principal::Token(t) => TokenScope::parse(&t.scope),
        }
    }

    /// The acting user's id for the audit log (`None` for a token).
    pub fn actor_user_id(&self) -> Option<&str> {
        self.user().map(|u| u.id.as_str())
    }

    /// Who acted, for the audit log: the user's email, or `api-token:<the token's visible prefix>`.
    pub fn actor_label(&self) -> String {
        match &self.principal {
            Principal::User(u) => u.email.clone(),
            Principal::Token(t) => format!("api-token:{}", t.prefix),
        }
    }

    /// Refuses (403) a caller with fewer rights than `min`: `insufficient_scope` for a token,
    /// `forbidden` for a user.
    pub fn require(&self, min: Role) -> Result<(), ApiError> {
        if self.role.is_some_and(|r| r >= min) {
            return Ok(());
        }
        Err(match &self.principal {
            Principal::Token(_) => insufficient_scope(format!(
                "This API token's scope does not allow this; it needs {} rights.",
                min.as_str()
            )),
            Principal::User(_) => ApiError::forbidden(
                "forbidden",
                format!(
                    "Your role does not allow this; it needs the {} role.",
                    min.as_str()
                ),
            ),
        })
    }

    /// Managing users and tokens: admins and staff, never a token (403 `token_not_allowed`).
    pub fn require_user_manager(&self) -> Result<(), ApiError> {
        if let Principal::Token(_) = self.principal {
            return Err(ApiError::forbidden(
                "token_not_allowed",
                "API tokens cannot manage users or API tokens. Sign in to the portal as an administrator to do this.",
            ));
        }
        self.require(Role::Admin)
    }

    /// Posting call records: an `ingest` token only, `ingest_token_required` otherwise: 401
    /// for a session (the operation's one credential, a Bearer token, is missing), 403 for a
    /// token of another scope.
    pub fn require_ingest(&self) -> Result<(), ApiError> {
        let message = "Call records are sent by machines with an API token of scope ingest.";
        match self.token_scope() {
            Some(TokenScope::Ingest) => Ok(()),
            Some(_) => Err(ApiError::forbidden("ingest_token_required", message)),
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "ingest_token_required",
                message,
            )),
        }
    }

    /// Who acts, for the audit entries of a change a domain function makes.
    pub fn acting(&self, meta: &RequestMeta) -> Acting {
        Acting {
            user_id: self.actor_user_id().map(str::to_string),
            label: self.actor_label(),
            org_id: self.org_id.clone(),
            meta: meta.clone(),
        }
    }
}

/// 403 `insufficient_scope`.
fn insufficient_scope(message: impl Into<String>) -> ApiError {
    ApiError::forbidden("insufficient_scope", message)
}

fn no_such_org() -> ApiError {
    ApiError::not_found("There is no organisation with this slug.")
}

/// The `org` query parameter, if given.
fn org_param(parts: &Parts) -> Option<String> {
    let query = parts.uri.query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "org")
        .map(|(_, v)| v.into_owned())
}

/// Refuses a customer's or token's `?org=` that names another organisation than its own.
async fn check_own_org(state: &AppState, slug: Option<&str>, org_id: &str) -> Result<(), ApiError> {
    let Some(slug) = slug else {
        return Ok(());
    };
    if crate::accounts::validate_slug(slug).is_err() {
        return Err(no_such_org());
    }
    match db::orgs::find_by_slug(state.db.pool(), slug).await? {
        Some(org) if org.id == org_id => Ok(()),
        _ => Err(no_such_org()),
    }
}

async fn token_caller(
    state: &AppState,
    parts: &Parts,
    secret: &str,
    org: Option<&str>,
) -> Result<Caller, ApiError> {
    let token = api_token::authenticate(&state.auth(), secret).await?;
    let scope = TokenScope::parse(&token.scope).ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "API token {} has the unknown scope {:?}",
            token.id,
            token.scope
        ))
    })?;
    let path = parts
        .extensions
        .get::<OriginalUri>()
        .map_or_else(|| parts.uri.path(), |u| u.0.path());
    let reads_only = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    let role = match scope {
        TokenScope::Read if !reads_only => {
            return Err(insufficient_scope(
                "This API token has the read scope: it cannot change anything. Use a read_write token.",
            ))
        }
        TokenScope::Ingest if !path.starts_with("/api/v1/ingest/") => {
            return Err(insufficient_scope(
                "This API token has the ingest scope: it can only send call records to /api/v1/ingest/.",
            ))
        }
        TokenScope::Read => Some(Role::Viewer),
        TokenScope::ReadWrite => Some(Role::Engineer),
        TokenScope::Ingest => None,
    };
    check_own_org(state, org, &token.org_id).await?;
    Ok(Caller {
        org_id: token.org_id.clone(),
        role,
        principal: Principal::Token(Arc::new(token)),
        staff: false,
        session: None,
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(found) = parts.extensions.get::<Caller>() {
            return Ok(found.clone());
        }
        let org = org_param(parts);
        let caller = match api_token::bearer(&parts.headers) {
            Some(secret) => {
                let secret = secret?.to_string();
                token_caller(state, parts, &secret, org.as_deref()).await?
            }
            None => {
                // Only the session cookie is read here, and it only ever holds a session id:
                // an API token placed in it matches no session.
                let SignedIn(a) = SignedIn::from_request_parts(parts, state).await?;
                if a.user.is_staff {
                    let slug = org.ok_or_else(|| {
                        ApiError::bad_request(
                            "org_required",
                            "Carrier staff choose the customer to act for: add ?org=SLUG.",
                        )
                    })?;
                    if crate::accounts::validate_slug(&slug).is_err() {
                        return Err(no_such_org());
                    }
                    let org = db::orgs::find_by_slug(state.db.pool(), &slug)
                        .await?
                        .ok_or_else(no_such_org)?;
                    Caller {
                        org_id: org.id,
                        role: Some(Role::Admin),
                        principal: Principal::User(a.user),
                        staff: true,
                        session: Some(a.session),
                    }
                } else {
                    let (Some(org_id), Some(role)) = (
                        a.user.org_id.clone(),
                        a.user.role.as_deref().and_then(Role::parse),
                    ) else {
                        return Err(ApiError::internal(anyhow::anyhow!(
                            "customer user {} has no organisation or role",
                            a.user.id
                        )));
                    };
                    check_own_org(state, org.as_deref(), &org_id).await?;
                    Caller {
                        org_id,
                        role: Some(role),
                        principal: Principal::User(a.user),
                        staff: false,
                        session: Some(a.session),
                    }
                }
            }
        };
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// A signed-in user on a route about their own organisation (`/audit`,
/// `/organisation/sso`, `/organisation/mfa-policy`). Those routes act
/// on the user's organisation and take no id, but the portal's pages add `?org=` to every
/// organisation's route; a customer naming another organisation there is answered 404, as
/// on every [`Caller`] route, never with its own organisation's data or a change to it.
/// Staff pass through: the handler decides what `?org=` means for them.
#[derive(Debug, Clone)]
pub struct OwnOrgUser(pub SignedIn);

impl FromRequestParts<AppState> for OwnOrgUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let signed_in = SignedIn::from_request_parts(parts, state).await?;
        let user = &signed_in.0.user;
        if !user.is_staff {
            if let Some(org_id) = user.org_id.as_deref() {
                check_own_org(state, org_param(parts).as_deref(), org_id).await?;
            }
        }
        Ok(OwnOrgUser(signed_in))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_rights() {
        assert!(Role::Admin > Role::Engineer && Role::Engineer > Role::Viewer);
        for r in [Role::Viewer, Role::Engineer, Role::Admin] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("owner"), None);
    }

    #[test]
    fn the_org_parameter_is_read_from_the_query() {
        let req = axum::http::Request::get("/api/v1/users?x=1&org=contoso%2Duk")
            .body(())
            .map(|r| r.into_parts().0);
        assert_eq!(
            req.ok().and_then(|p| org_param(&p)).as_deref(),
            Some("contoso-uk")
        );
    }
}
