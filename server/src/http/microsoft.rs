//! `/auth/microsoft/…`: the browser flows of single sign-on with Microsoft Entra ID.
//!
//! - `login` → Entra's `organizations` authorize endpoint → `callback`: sign in.
//! - `link` → the same, while signed in: add a Microsoft identity to the current user.
//! - `consent` → Entra's admin-consent endpoint → `consent/callback`, whose `tenant` is only
//!   a claim → a proof sign-in against that tenant → `callback`, which links the tenant only
//!   when the verified `tid` equals it and the admin is a member of that tenant (not a
//!   guest); the link then waits for carrier staff to approve it.
//! - `POST invitation` (the invitation page's "Accept with Microsoft") → the same sign-in →
//!   `callback`, which binds the Microsoft identity to the invited account. An invitation is
//!   only ever bound through its link, never by the address in a token.
//!
//! Starting a flow and failing a callback are limited per client IP, and the flows in flight
//! are capped, so anonymous requests cannot fill the transaction table.
//!
//! Each flow keeps its transaction (state, nonce, PKCE verifier, return_to) server-side,
//! found by the hash of a random value in the `__Host-portal_oidc` cookie, deleted at first
//! use and valid for `PORTAL_OIDC_TXN_SECS`. Every failure ends on a page that says why: a
//! redirect to `/login`, `/security` or `/sso` with `?error=CODE`, or a 502 page when the
//! identity provider is down or slow. Nothing is created by a refused sign-in.
//!
//! This file starts the flows; `pages` writes their answers, `callback` takes them back, and
//! what a verified identity may do is decided in the domain (`sso::identity`).

mod callback;
pub(crate) mod pages;

use axum::{
    extract::{Form, Query, State},
    http::{header, HeaderMap},
    response::Response,
    routing::get,
    Router,
};
use serde::Deserialize;

use app::return_to::{encode_query_value, sanitize_return_to};

use crate::{
    audit::RequestMeta,
    auth::{
        entra::{Entra, EntraError},
        rate_limit::{self, Limit},
        session::{self, states, Authenticated},
    },
    db::{self, sso::Transaction},
};

use self::{
    callback::{callback_get, callback_post, consent_callback},
    pages::{finish, not_configured_page, see_other, txn_cookie},
};
use super::{ApiError, AppState};

/// The OIDC transaction cookie (`__Host-`: Secure, Path=/, no Domain).
pub const OIDC_COOKIE: &str = "__Host-portal_oidc";

/// The routes of this file, under `/auth/microsoft`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login))
        .route("/link", get(link))
        .route("/callback", get(callback_get).post(callback_post))
        .route("/consent", get(consent))
        .route("/consent/callback", get(consent_callback))
        .route("/invitation", axum::routing::post(accept_invitation_start))
}

/// Sign-in flows a client IP may start in 15 minutes (each start stores a transaction).
pub const SSO_STARTS_PER_IP: Limit = Limit {
    scope: "sso_start_ip",
    max_failures: 200,
};

/// Callbacks without a usable transaction (none, unknown, expired or with another `state`)
/// a client IP may send in 15 minutes.
pub const SSO_BAD_CALLBACKS_PER_IP: Limit = Limit {
    scope: "sso_callback_ip",
    max_failures: 20,
};

/// Flows in flight at once, across all clients: past it new flows wait (503) until some end.
pub const MAX_LIVE_TRANSACTIONS: i64 = 10_000;

/// Flow purposes as stored.
mod purpose {
    pub const LOGIN: &str = "login";
    /// A sign-in sent back to its tenant for the customer's authentication context, because
    /// its first token showed no second factor.
    pub const LOGIN_MFA: &str = "login_mfa";
    pub const LINK: &str = "link";
    pub const INVITATION: &str = "invitation";
    pub const CONSENT: &str = "consent";
    pub const CONSENT_PROOF: &str = "consent_proof";
}

/// How a flow step ended badly.
#[derive(Debug)]
enum Outcome {
    /// Back to a portal page with `?error=CODE`.
    Refused(&'static str),
    /// The identity provider failed: a 502 page.
    IdpDown(String),
    /// The client started or failed too many flows: a 429 page, retry after this many seconds.
    TooMany(u64),
    /// Too many flows are in flight: a 503 page.
    Busy,
    /// A bug or the database: the usual 500.
    Internal(ApiError),
}

impl From<ApiError> for Outcome {
    fn from(e: ApiError) -> Self {
        match (e.code(), e.retry_after_secs()) {
            ("rate_limited", Some(secs)) => Outcome::TooMany(secs),
            _ => Outcome::Internal(e),
        }
    }
}

impl From<crate::auth::AuthError> for Outcome {
    fn from(e: crate::auth::AuthError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<crate::db::QueryError> for Outcome {
    fn from(e: crate::db::QueryError) -> Self {
        Outcome::Internal(e.into())
    }
}

impl From<EntraError> for Outcome {
    fn from(e: EntraError) -> Self {
        match e {
            EntraError::Unavailable(why) => Outcome::IdpDown(why),
            EntraError::Refused { .. } => Outcome::Refused("idp_error"),
            EntraError::NoIdToken | EntraError::Token(_) => Outcome::Refused("invalid_token"),
        }
    }
}

/// `?return_to=` of the start links.
#[derive(Debug, Deserialize)]
struct StartQuery {
    return_to: Option<String>,
}

/// What the identity provider sends back to `callback` (query or form).
#[derive(Debug, Default, Deserialize)]
struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The invitation page's "Accept with Microsoft" form.
#[derive(Debug, Deserialize)]
struct InvitationStart {
    token: String,
}

/// What admin consent sends back.
#[derive(Debug, Default, Deserialize)]
struct ConsentParams {
    admin_consent: Option<String>,
    tenant: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The same request on the portal's public origin, when it arrived under another host name
/// (e.g. `127.0.0.1` for `localhost` in development): the transaction cookie must be set on
/// the host the identity provider will send the browser back to.
fn on_public_origin(
    state: &AppState,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
) -> Option<Response> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let public = &state.config.public_url;
    let public_host = match (public.host_str(), public.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => return None,
    };
    if host.eq_ignore_ascii_case(&public_host) {
        return None;
    }
    let path = uri.path_and_query().map_or("/", |pq| pq.as_str());
    Some(see_other(
        &format!("{}{path}", state.public_origin),
        HeaderMap::new(),
    ))
}

fn entra(state: &AppState) -> Option<&Entra> {
    state.entra.as_deref()
}

/// Lets a new flow start: counts it against the client IP's starts and refuses while the
/// flows in flight are at their cap. Called before anything else is done for the flow.
async fn admit_start(state: &AppState, meta: &RequestMeta) -> Result<(), Outcome> {
    let live = db::sso::live_transactions(state.db.pool(), state.clock.now_ms()).await?;
    if live >= MAX_LIVE_TRANSACTIONS {
        return Err(Outcome::Busy);
    }
    let ip_key = meta.ip.as_deref().unwrap_or("unknown");
    // Every start counts: it stores a transaction whether or not the flow is finished.
    drop(rate_limit::reserve(&state.auth(), meta, SSO_STARTS_PER_IP, ip_key).await?);
    Ok(())
}

/// Stores a transaction and answers with a redirect to `url` carrying its cookie.
async fn begin(state: &AppState, url: &str, mut txn: Transaction) -> Result<Response, Outcome> {
    let (token, hash) = session::new_token();
    txn.cookie_hash = hash;
    db::sso::insert_transaction(state.db.pool(), &txn).await?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        txn_cookie(&token, state.config.oidc_txn_secs),
    );
    Ok(see_other(url, headers))
}

fn new_txn(state: &AppState, purpose: &str, return_to: String) -> Transaction {
    let now = state.clock.now_ms();
    Transaction {
        cookie_hash: String::new(),
        purpose: purpose.to_string(),
        state: String::new(),
        nonce: String::new(),
        pkce_verifier: String::new(),
        return_to,
        org_id: None,
        user_id: None,
        tenant_id: None,
        created_at: now,
        expires_at: now + state.config.oidc_txn_secs * 1000,
    }
}

/// `GET /auth/microsoft/login[?return_to=/path]`.
async fn login(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    Query(q): Query<StartQuery>,
) -> Response {
    if let Some(r) = on_public_origin(&state, &headers, &uri) {
        return r;
    }
    let return_to = sanitize_return_to(q.return_to.as_deref());
    let Some(entra) = entra(&state) else {
        return not_configured_page();
    };
    let again = format!(
        "/auth/microsoft/login?return_to={}",
        encode_query_value(&return_to)
    );
    let result = async {
        admit_start(&state, &meta).await?;
        let start = entra.start_sign_in(None, state.clock.now_ms()).await?;
        let mut txn = new_txn(&state, purpose::LOGIN, return_to.clone());
        txn.state = start.state;
        txn.nonce = start.nonce;
        txn.pkce_verifier = start.pkce_verifier;
        begin(&state, &start.url, txn).await
    }
    .await;
    match result {
        Ok(r) => r,
        Err(e) => finish(Err(e), purpose::LOGIN, &return_to, &again),
    }
}

/// `GET /auth/microsoft/link`: a signed-in user adds their Microsoft identity.
async fn link(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    current: Option<Authenticated>,
) -> Response {
    if let Some(r) = on_public_origin(&state, &headers, &uri) {
        return r;
    }
    let Some(me) = current.filter(|a| a.session.state == states::FULL) else {
        return see_other("/login?return_to=%2Fsecurity", HeaderMap::new());
    };
    let Some(entra) = entra(&state) else {
        return not_configured_page();
    };
    let result = async {
        admit_start(&state, &meta).await?;
        let org_id = me
            .user
            .org_id
            .clone()
            .ok_or(Outcome::Refused("sso_disabled"))?;
        let org = db::orgs::find_by_id(state.db.pool(), &org_id)
            .await?
            .filter(|o| o.sso_enabled)
            .ok_or(Outcome::Refused("sso_disabled"))?;
        let start = entra.start_sign_in(None, state.clock.now_ms()).await?;
        let mut txn = new_txn(&state, purpose::LINK, "/security".to_string());
        txn.state = start.state;
        txn.nonce = start.nonce;
        txn.pkce_verifier = start.pkce_verifier;
        txn.org_id = Some(org.id);
        txn.user_id = Some(me.user.id.clone());
        begin(&state, &start.url, txn).await
    }
    .await;
    match result {
        Ok(r) => r,
        Err(e) => finish(Err(e), purpose::LINK, "/security", "/auth/microsoft/link"),
    }
}

/// `GET /auth/microsoft/consent`: an admin of a customer with SSO enabled starts admin
/// consent (staff may act for a customer with `?org=SLUG`).
async fn consent(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    current: Option<Authenticated>,
    Query(q): Query<ConsentStart>,
) -> Response {
    if let Some(r) = on_public_origin(&state, &headers, &uri) {
        return r;
    }
    let Some(me) = current.filter(|a| a.session.state == states::FULL) else {
        return see_other("/login?return_to=%2Fsso", HeaderMap::new());
    };
    let Some(entra) = entra(&state) else {
        return not_configured_page();
    };
    let result = async {
        admit_start(&state, &meta).await?;
        let org = if me.user.is_staff {
            let slug = q.org.as_deref().ok_or(Outcome::Refused("forbidden"))?;
            db::orgs::find_by_slug(state.db.pool(), slug).await?
        } else if me.user.role.as_deref() == Some("admin") {
            match &me.user.org_id {
                Some(id) => db::orgs::find_by_id(state.db.pool(), id).await?,
                None => None,
            }
        } else {
            return Err(Outcome::Refused("forbidden"));
        };
        let org = org.ok_or(Outcome::Refused("forbidden"))?;
        if !org.sso_enabled {
            return Err(Outcome::Refused("sso_disabled"));
        }
        let mut txn = new_txn(&state, purpose::CONSENT, "/sso".to_string());
        txn.state = openidconnect::CsrfToken::new_random_len(32)
            .secret()
            .clone();
        txn.org_id = Some(org.id);
        txn.user_id = Some(me.user.id.clone());
        let url = entra.admin_consent_url(&txn.state);
        begin(&state, &url, txn).await
    }
    .await;
    match result {
        Ok(r) => r,
        Err(e) => finish(Err(e), purpose::CONSENT, "/sso", "/sso"),
    }
}

/// `POST /auth/microsoft/invitation` (form: `token`): the invitee chose "Accept with
/// Microsoft" on their invitation page. The link is checked now and its invitation is used
/// when the callback binds the verified identity to the invited account.
async fn accept_invitation_start(
    State(state): State<AppState>,
    meta: RequestMeta,
    Form(form): Form<InvitationStart>,
) -> Response {
    let Some(entra) = entra(&state) else {
        return not_configured_page();
    };
    let result = async {
        admit_start(&state, &meta).await?;
        let now = state.clock.now_ms();
        let invited = db::tokens::peek(
            state.db.pool(),
            &session::hash_token(&form.token),
            "invite",
            now,
        )
        .await?
        .ok_or(Outcome::Refused("invitation_invalid"))?;
        let user = db::users::find_by_id(state.db.pool(), &invited.user_id)
            .await?
            .filter(|u| u.deactivated_at.is_none())
            .ok_or(Outcome::Refused("invitation_invalid"))?;
        let org_id = user
            .org_id
            .clone()
            .ok_or(Outcome::Refused("invitation_invalid"))?;
        let org = db::orgs::find_by_id(state.db.pool(), &org_id)
            .await?
            .filter(|o| o.sso_enabled)
            .ok_or(Outcome::Refused("sso_disabled"))?;
        let start = entra.start_sign_in(None, now).await?;
        let mut txn = new_txn(&state, purpose::INVITATION, "/".to_string());
        txn.state = start.state;
        txn.nonce = start.nonce;
        txn.pkce_verifier = start.pkce_verifier;
        txn.org_id = Some(org.id);
        txn.user_id = Some(user.id);
        begin(&state, &start.url, txn).await
    }
    .await;
    match result {
        Ok(r) => r,
        Err(e) => finish(Err(e), purpose::INVITATION, "/", "/login"),
    }
}

/// `?org=` of the consent start (staff acting for a customer).
#[derive(Debug, Deserialize)]
struct ConsentStart {
    org: Option<String>,
}
