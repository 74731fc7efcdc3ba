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

use axum::{
    extract::{Form, Query, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{Html, IntoResponse, Response},
    routing::get,
    Router,
};
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use app::return_to::{encode_query_value, sanitize_return_to};

use crate::{
    accounts::Actor,
    audit::{self, Event, RequestMeta},
    auth::{
        entra::{
            id_token::{EntraClaims, CONSUMER_TENANT},
            Entra, EntraError,
        },
        rate_limit::{self, Limit},
        session::{self, cookie_value, states, Authenticated},
    },
    db::{
        self,
        sso::{Identity, Transaction},
        users::User,
    },
    sso::{self as sso_admin, LinkedBy, SsoError},
};

use super::{auth::start_session, ApiError, AppState};

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

impl From<sqlx::Error> for Outcome {
    fn from(e: sqlx::Error) -> Self {
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

fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// 303 to `location`, with extra headers (cookies).
fn see_other(location: &str, mut headers: HeaderMap) -> Response {
    if let Ok(v) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, v);
    }
    no_store((StatusCode::SEE_OTHER, headers).into_response())
}

fn txn_cookie(token: &str, max_age: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{OIDC_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={}",
        max_age.max(0)
    ))
    .unwrap_or_else(|_| clear_txn_cookie())
}

fn clear_txn_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "__Host-portal_oidc=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0",
    )
}

/// The page a flow of `purpose` returns to with `?error=code`.
fn error_location(purpose: &str, code: &str, return_to: &str) -> String {
    match purpose {
        purpose::LINK => format!("/security?error={code}"),
        purpose::INVITATION => format!("/login?error={code}"),
        purpose::CONSENT | purpose::CONSENT_PROOF => format!("/sso?error={code}"),
        _ if return_to != "/" => format!(
            "/login?error={code}&return_to={}",
            encode_query_value(return_to)
        ),
        _ => format!("/login?error={code}"),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A small self-contained portal page for outcomes that are not a redirect (the identity
/// provider is down: 502; single sign-on is not configured: 503).
fn flow_page(status: StatusCode, title: &str, message: &str, again: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · {product}</title><link rel=\"stylesheet\" href=\"/pkg/portal.css\"></head>\
         <body><main class=\"auth-layout\"><section class=\"auth-card page\">\
         <p class=\"brand\">{product}</p><h1>{title}</h1>\
         <p class=\"alert error\" role=\"alert\">{message}</p>\
         <p><a class=\"button primary\" href=\"{again}\">Try again</a> <a href=\"/login\">Back to sign-in</a></p>\
         </section></main></body></html>",
        title = escape(title),
        product = escape(app::PRODUCT_NAME),
        message = escape(message),
        again = escape(again),
    );
    let mut r = (status, Html(body)).into_response();
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    );
    no_store(r)
}

fn idp_down_page(again: &str) -> Response {
    flow_page(
        StatusCode::BAD_GATEWAY,
        "Microsoft Entra ID is not answering",
        app::api::sso::flow_error_message("idp_unavailable").unwrap_or_default(),
        again,
    )
}

fn too_many_page(retry_after_secs: u64, again: &str) -> Response {
    let mut r = flow_page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many sign-in attempts",
        app::api::sso::flow_error_message("rate_limited").unwrap_or_default(),
        again,
    );
    if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

fn busy_page(again: &str) -> Response {
    let mut r = flow_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Sign-in with Microsoft is busy",
        app::api::sso::flow_error_message("busy").unwrap_or_default(),
        again,
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    r
}

fn not_configured_page() -> Response {
    flow_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Sign-in with Microsoft is not available",
        app::api::sso::flow_error_message("not_configured").unwrap_or_default(),
        "/login",
    )
}

/// Turns a flow's result into the response, logging what people are not shown.
fn finish(
    result: Result<Response, Outcome>,
    purpose: &str,
    return_to: &str,
    again: &str,
) -> Response {
    let mut r = match result {
        Ok(r) => r,
        Err(Outcome::Refused(code)) => {
            see_other(&error_location(purpose, code, return_to), HeaderMap::new())
        }
        Err(Outcome::IdpDown(why)) => {
            tracing::warn!("identity provider unavailable: {why}");
            idp_down_page(again)
        }
        Err(Outcome::TooMany(secs)) => too_many_page(secs, again),
        Err(Outcome::Busy) => {
            tracing::warn!(
                "{MAX_LIVE_TRANSACTIONS} sign-in flows are in flight; refusing new ones for now"
            );
            busy_page(again)
        }
        Err(Outcome::Internal(e)) => e.into_response(),
    };
    // The transaction is used up whatever happened, unless the response starts the next
    // step's transaction (admin consent → proof sign-in), whose cookie must survive.
    if r.extensions().get::<KeepTxnCookie>().is_none() {
        r.headers_mut()
            .append(header::SET_COOKIE, clear_txn_cookie());
    }
    r
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
    drop(rate_limit::reserve(state, meta, SSO_STARTS_PER_IP, ip_key).await?);
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

/// Takes the request's transaction and checks it: present, unexpired, of one of
/// `purposes`, and with the `state` the identity provider echoed.
/// A callback without a usable transaction counts against the client IP (so a flood of
/// made-up callbacks is cut off with 429); one with a usable transaction does not.
async fn take_txn(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    returned_state: Option<&str>,
) -> Result<Transaction, (Outcome, Option<Transaction>)> {
    let ip_key = meta.ip.as_deref().unwrap_or("unknown");
    let attempt = rate_limit::reserve(state, meta, SSO_BAD_CALLBACKS_PER_IP, ip_key)
        .await
        .map_err(|e| (Outcome::from(e), None))?;
    let taken = take_txn_unlimited(state, headers, returned_state).await;
    if taken.is_ok() {
        rate_limit::release(state, attempt)
            .await
            .map_err(|e| (Outcome::from(e), None))?;
    } else {
        drop(attempt);
    }
    taken
}

async fn take_txn_unlimited(
    state: &AppState,
    headers: &HeaderMap,
    returned_state: Option<&str>,
) -> Result<Transaction, (Outcome, Option<Transaction>)> {
    let Some(token) = cookie_value(headers, OIDC_COOKIE) else {
        return Err((Outcome::Refused("expired"), None));
    };
    let txn = match db::sso::take_transaction(state.db.pool(), &session::hash_token(token)).await {
        Ok(Some(t)) => t,
        Ok(None) => return Err((Outcome::Refused("expired"), None)),
        Err(e) => return Err((Outcome::from(e), None)),
    };
    if state.clock.now_ms() >= txn.expires_at {
        return Err((Outcome::Refused("expired"), Some(txn)));
    }
    let matches =
        returned_state.is_some_and(|s| bool::from(s.as_bytes().ct_eq(txn.state.as_bytes())));
    if !matches {
        return Err((Outcome::Refused("state_mismatch"), Some(txn)));
    }
    Ok(txn)
}

async fn audit_failure(
    state: &AppState,
    meta: &RequestMeta,
    action: &str,
    actor: Option<&User>,
    org_id: Option<&str>,
    details: serde_json::Value,
) -> Result<(), Outcome> {
    audit::record(
        state.db.pool(),
        state.clock.now_ms(),
        meta,
        Event {
            actor,
            action,
            target: details.get("tid").and_then(|v| v.as_str()),
            org_id,
            details: details.clone(),
        },
    )
    .await?;
    Ok(())
}

/// The IdP's `error` as one of our codes.
fn idp_error_code(error: &str) -> &'static str {
    match error {
        "access_denied" => "access_denied",
        "consent_required" | "interaction_required" => "consent_required",
        _ => "idp_error",
    }
}

/// Audits a refused step of admin consent and ends the flow with `code`.
async fn consent_refused(
    state: &AppState,
    meta: &RequestMeta,
    actor: Option<&User>,
    org_id: Option<&str>,
    details: serde_json::Value,
    code: &'static str,
) -> Result<Response, Outcome> {
    audit_failure(state, meta, "sso.consent_failed", actor, org_id, details).await?;
    Err(Outcome::Refused(code))
}

/// `GET /auth/microsoft/consent/callback`.
async fn consent_callback(
    State(state): State<AppState>,
    meta: RequestMeta,
    current: Option<Authenticated>,
    headers: HeaderMap,
    Query(q): Query<ConsentParams>,
) -> Response {
    let result = consent_callback_inner(&state, &meta, current, &headers, &q).await;
    finish(result, purpose::CONSENT, "/sso", "/sso")
}

async fn consent_callback_inner(
    state: &AppState,
    meta: &RequestMeta,
    current: Option<Authenticated>,
    headers: &HeaderMap,
    q: &ConsentParams,
) -> Result<Response, Outcome> {
    let entra = entra(state).ok_or(Outcome::Refused("not_configured"))?;
    let claimed = q.tenant.clone().unwrap_or_default();
    let txn = match take_txn(state, meta, headers, q.state.as_deref()).await {
        Ok(t) if t.purpose == purpose::CONSENT => t,
        Ok(t) => {
            return consent_refused(
                state,
                meta,
                current.as_ref().map(|a| &*a.user),
                t.org_id.as_deref(),
                json!({"reason": "wrong_flow", "tid": claimed}),
                "state_mismatch",
            )
            .await;
        }
        Err((outcome, txn)) => {
            let reason = match &outcome {
                Outcome::Refused(code) => *code,
                _ => "internal",
            };
            audit_failure(
                state,
                meta,
                "sso.consent_failed",
                current.as_ref().map(|a| &*a.user),
                txn.as_ref().and_then(|t| t.org_id.as_deref()),
                json!({"reason": reason, "tid": claimed}),
            )
            .await?;
            return Err(outcome);
        }
    };
    let me = current
        .filter(|a| Some(&a.user.id) == txn.user_id.as_ref() && a.session.state == states::FULL);
    let Some(me) = me else {
        return consent_refused(
            state,
            meta,
            None,
            txn.org_id.as_deref(),
            json!({"reason": "not_the_admin_who_started", "tid": claimed}),
            "state_mismatch",
        )
        .await;
    };
    if let Some(error) = &q.error {
        return consent_refused(
            state,
            meta,
            Some(&me.user),
            txn.org_id.as_deref(),
            json!({"reason": error, "description": q.error_description, "tid": claimed}),
            idp_error_code(error),
        )
        .await;
    }
    if !q
        .admin_consent
        .as_deref()
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return consent_refused(
            state,
            meta,
            Some(&me.user),
            txn.org_id.as_deref(),
            json!({"reason": "consent_not_granted", "tid": claimed}),
            "consent_required",
        )
        .await;
    }
    let tenant = match sso_admin::normalize_tenant_id(&claimed) {
        Ok(t) => t,
        Err(_) => {
            return consent_refused(
                state,
                meta,
                Some(&me.user),
                txn.org_id.as_deref(),
                json!({"reason": "invalid_tenant", "tid": claimed}),
                "invalid_tenant",
            )
            .await;
        }
    };
    if let Some(existing) = db::sso::find_tenant(state.db.pool(), &tenant).await? {
        if Some(&existing.org_id) != txn.org_id.as_ref() {
            return consent_refused(
                state,
                meta,
                Some(&me.user),
                txn.org_id.as_deref(),
                json!({"reason": "tenant_taken", "tid": tenant}),
                "tenant_taken",
            )
            .await;
        }
    }
    // The claimed tenant is proven by signing the admin in against it.
    let start = entra
        .start_sign_in(Some(&tenant), state.clock.now_ms())
        .await?;
    let mut proof = new_txn(state, purpose::CONSENT_PROOF, "/sso".to_string());
    proof.state = start.state;
    proof.nonce = start.nonce;
    proof.pkce_verifier = start.pkce_verifier;
    proof.org_id = txn.org_id;
    proof.user_id = txn.user_id;
    proof.tenant_id = Some(tenant);
    let mut r = begin(state, &start.url, proof).await?;
    r.extensions_mut().insert(KeepTxnCookie);
    Ok(r)
}

/// Marks a response whose transaction cookie was just set for the next step.
#[derive(Debug, Clone, Copy)]
struct KeepTxnCookie;

/// `GET /auth/microsoft/callback`.
async fn callback_get(
    State(state): State<AppState>,
    meta: RequestMeta,
    current: Option<Authenticated>,
    headers: HeaderMap,
    Query(q): Query<CallbackParams>,
) -> Response {
    callback(state, meta, current, headers, q).await
}

/// `POST /auth/microsoft/callback` (`response_mode=form_post`, should a tenant use it).
async fn callback_post(
    State(state): State<AppState>,
    meta: RequestMeta,
    current: Option<Authenticated>,
    headers: HeaderMap,
    Form(q): Form<CallbackParams>,
) -> Response {
    callback(state, meta, current, headers, q).await
}

async fn callback(
    state: AppState,
    meta: RequestMeta,
    current: Option<Authenticated>,
    headers: HeaderMap,
    q: CallbackParams,
) -> Response {
    let txn = match take_txn(&state, &meta, &headers, q.state.as_deref()).await {
        Ok(t) => t,
        Err((outcome, txn)) => {
            let (purpose, return_to) = txn
                .as_ref()
                .map(|t| (t.purpose.clone(), t.return_to.clone()))
                .unwrap_or_else(|| (purpose::LOGIN.to_string(), "/".to_string()));
            let reason = match &outcome {
                Outcome::Refused(code) => *code,
                _ => "internal",
            };
            if let Err(e) = audit_failure(
                &state,
                &meta,
                "auth.sso_failed",
                None,
                txn.as_ref().and_then(|t| t.org_id.as_deref()),
                json!({"reason": reason, "flow": purpose}),
            )
            .await
            {
                return finish(Err(e), &purpose, &return_to, "/login");
            }
            return finish(Err(outcome), &purpose, &return_to, "/login");
        }
    };
    let again = match txn.purpose.as_str() {
        purpose::LINK => "/auth/microsoft/link".to_string(),
        purpose::INVITATION => "/login".to_string(),
        purpose::CONSENT_PROOF => "/sso".to_string(),
        _ => format!(
            "/auth/microsoft/login?return_to={}",
            encode_query_value(&txn.return_to)
        ),
    };
    let result = callback_inner(&state, &meta, current, &txn, &q).await;
    finish(result, &txn.purpose, &txn.return_to, &again)
}

async fn callback_inner(
    state: &AppState,
    meta: &RequestMeta,
    current: Option<Authenticated>,
    txn: &Transaction,
    q: &CallbackParams,
) -> Result<Response, Outcome> {
    let entra = entra(state).ok_or(Outcome::Refused("not_configured"))?;
    let fail_action = if txn.purpose == purpose::CONSENT_PROOF {
        "sso.consent_failed"
    } else {
        "auth.sso_failed"
    };
    if let Some(error) = &q.error {
        audit_failure(
            state,
            meta,
            fail_action,
            None,
            txn.org_id.as_deref(),
            json!({"reason": error, "description": q.error_description, "flow": txn.purpose}),
        )
        .await?;
        return Err(Outcome::Refused(idp_error_code(error)));
    }
    let Some(code) = q.code.as_deref().filter(|c| !c.is_empty()) else {
        audit_failure(
            state,
            meta,
            fail_action,
            None,
            txn.org_id.as_deref(),
            json!({"reason": "no_code", "flow": txn.purpose}),
        )
        .await?;
        return Err(Outcome::Refused("idp_error"));
    };
    let now = state.clock.now_ms();
    let tenant = txn.tenant_id.as_deref();
    let started = std::time::Instant::now();
    let mut exchange_time = std::time::Duration::ZERO;
    let checked = async {
        let raw = entra
            .exchange_code(tenant, code, &txn.pkce_verifier, now)
            .await?;
        exchange_time = started.elapsed();
        entra.validate(&raw, &txn.nonce, state.clock.now_ms()).await
    }
    .await;
    let claims = match checked {
        Ok(c) => c,
        Err(e) => {
            let reason = match &e {
                EntraError::Token(t) => t.code().to_string(),
                EntraError::NoIdToken => "no_id_token".to_string(),
                EntraError::Refused { code, .. } => format!("token_endpoint:{code}"),
                EntraError::Unavailable(_) => "idp_unavailable".to_string(),
            };
            audit_failure(
                state,
                meta,
                fail_action,
                None,
                txn.org_id.as_deref(),
                json!({"reason": reason, "detail": e.to_string(), "flow": txn.purpose}),
            )
            .await?;
            return Err(e.into());
        }
    };
    let result = match txn.purpose.as_str() {
        purpose::LOGIN => sign_in(state, meta, current, txn, &claims).await,
        purpose::LINK => link_identity(state, meta, current, txn, &claims).await,
        purpose::INVITATION => accept_invitation(state, meta, current, txn, &claims).await,
        purpose::CONSENT_PROOF => prove_consent(state, meta, current, txn, &claims).await,
        _ => Err(Outcome::Refused("state_mismatch")),
    };
    // Server time of the callback without the token call to the identity provider: token
    // validation, the tenant check, provisioning and the session (`make bench` reads it).
    metrics::histogram!("sso_callback_server_seconds", "flow" => txn.purpose.clone())
        .record((started.elapsed().saturating_sub(exchange_time)).as_secs_f64());
    result
}

/// The tenant check, then the user by (`tid`, `oid`), provisioning or invitation.
async fn sign_in(
    state: &AppState,
    meta: &RequestMeta,
    current: Option<Authenticated>,
    txn: &Transaction,
    claims: &EntraClaims,
) -> Result<Response, Outcome> {
    let refuse = |reason: &'static str, org_id: Option<String>| async move {
        audit_failure(
            state,
            meta,
            "auth.sso_refused",
            None,
            org_id.as_deref(),
            json!({"reason": reason, "tid": claims.tid, "oid": claims.oid, "email": claims.email}),
        )
        .await?;
        Err::<Response, Outcome>(Outcome::Refused(reason))
    };
    if claims.tid == CONSUMER_TENANT {
        return refuse("consumer_account", None).await;
    }
    let Some(tenant) = db::sso::find_tenant(state.db.pool(), &claims.tid).await? else {
        return refuse("tenant_not_linked", None).await;
    };
    if tenant.disabled_at.is_some() {
        return refuse("tenant_disabled", Some(tenant.org_id)).await;
    }
    if tenant.approved_at.is_none() {
        return refuse("tenant_pending", Some(tenant.org_id)).await;
    }
    let org = db::orgs::find_by_id(state.db.pool(), &tenant.org_id)
        .await?
        .filter(|o| o.sso_enabled);
    let Some(org) = org else {
        return refuse("sso_disabled", Some(tenant.org_id)).await;
    };
    let now = state.clock.now_ms();
    let user = match db::sso::user_by_identity(state.db.pool(), &claims.tid, &claims.oid).await? {
        // An identity whose user moved to another customer is not this tenant's to vouch for.
        Some(u) if u.org_id.as_deref() != Some(org.id.as_str()) => {
            return refuse("user_not_provisioned", Some(org.id)).await;
        }
        Some(u) => {
            db::sso::update_identity_email(
                state.db.pool(),
                &claims.tid,
                &claims.oid,
                &claims.email,
            )
            .await?;
            u
        }
        None => match provision(state, meta, &org, claims, now).await? {
            Some(u) => u,
            None => return refuse("user_not_provisioned", Some(org.id)).await,
        },
    };
    if user.deactivated_at.is_some() {
        return refuse("account_deactivated", Some(org.id)).await;
    }
    let details = json!({"method": "entra", "tid": claims.tid});
    signed_in(state, meta, current, &user, claims, details, &txn.return_to).await
}

/// Starts `user`'s SSO session (replacing the request's own, if any), audits the sign-in and
/// sends the browser to `return_to`.
async fn signed_in(
    state: &AppState,
    meta: &RequestMeta,
    current: Option<Authenticated>,
    user: &User,
    claims: &EntraClaims,
    details: serde_json::Value,
    return_to: &str,
) -> Result<Response, Outcome> {
    let previous = current
        .as_ref()
        .map(|c| super::auth::Replaced::any(c.session.id.as_str()));
    let headers = start_session(
        state,
        user,
        states::FULL,
        "entra",
        meta,
        previous,
        Some(&claims.tid),
    )
    .await?;
    audit::record(
        state.db.pool(),
        state.clock.now_ms(),
        meta,
        Event::own(user, "auth.login", details),
    )
    .await?;
    Ok(see_other(return_to, headers))
}

/// An unknown identity of a linked tenant: a just-in-time account when the customer allows
/// it, else `None`. A pending invitation is never matched by the address in the token (any
/// tenant member can carry any `email` claim): the invitee accepts through their link
/// ([`accept_invitation`]).
async fn provision(
    state: &AppState,
    meta: &RequestMeta,
    org: &db::orgs::Organisation,
    claims: &EntraClaims,
    now: i64,
) -> Result<Option<User>, Outcome> {
    if !org.sso_jit {
        return Ok(None);
    }
    let user = User {
        id: uuid::Uuid::new_v4().to_string(),
        org_id: Some(org.id.clone()),
        email: claims.email.clone(),
        login_email: None,
        name: claims.name.clone(),
        role: Some(org.sso_default_role.clone()),
        is_staff: false,
        password_hash: None,
        created_at: now,
        deactivated_at: None,
    };
    let mut tx = state.db.pool().begin().await?;
    db::users::insert(&mut *tx, &user).await?;
    if let Err(e) = db::sso::insert_identity(&mut *tx, &identity_of(claims, &user.id, now)).await {
        return retry_lookup(state, claims, e).await;
    }
    audit::record(&mut *tx, now, meta, Event {
        actor: Some(&user),
        action: "user.provisioned",
        target: Some(&user.id),
        org_id: Some(&org.id),
        details: json!({"method": "entra_jit", "tid": claims.tid, "oid": claims.oid, "email": user.email, "role": user.role}),
    }).await?;
    tx.commit().await?;
    Ok(Some(user))
}

/// The identity row for verified `claims`, belonging to `user_id`.
fn identity_of(claims: &EntraClaims, user_id: &str, now: i64) -> Identity {
    Identity {
        tenant_id: claims.tid.clone(),
        object_id: claims.oid.clone(),
        user_id: user_id.to_string(),
        email: claims.email.clone(),
        created_at: now,
    }
}

/// The invitee's verified Microsoft identity: bound to the invited account (when the tenant
/// is one of the inviting customer's, approved and enabled, and the identity is nobody's
/// yet), the invitation used up, and the invitee signed in.
async fn accept_invitation(
    state: &AppState,
    meta: &RequestMeta,
    current: Option<Authenticated>,
    txn: &Transaction,
    claims: &EntraClaims,
) -> Result<Response, Outcome> {
    let org_id = txn.org_id.clone().unwrap_or_default();
    let user_id = txn.user_id.clone().unwrap_or_default();
    let refuse = |reason: &'static str| {
        let org_id = org_id.clone();
        async move {
            audit_failure(
                state,
                meta,
                "auth.sso_refused",
                None,
                Some(&org_id),
                json!({"reason": reason, "flow": "invitation", "invited_user": txn.user_id, "tid": claims.tid, "oid": claims.oid, "email": claims.email}),
            )
            .await?;
            Err::<Response, Outcome>(Outcome::Refused(reason))
        }
    };
    if claims.tid == CONSUMER_TENANT {
        return refuse("consumer_account").await;
    }
    let tenant = db::sso::find_tenant(state.db.pool(), &claims.tid).await?;
    match &tenant {
        None => return refuse("wrong_tenant").await,
        Some(t) if t.org_id != org_id => return refuse("wrong_tenant").await,
        Some(t) if t.disabled_at.is_some() => return refuse("tenant_disabled").await,
        Some(t) if t.approved_at.is_none() => return refuse("tenant_pending").await,
        Some(_) => {}
    }
    let org = db::orgs::find_by_id(state.db.pool(), &org_id)
        .await?
        .filter(|o| o.sso_enabled);
    if org.is_none() {
        return refuse("sso_disabled").await;
    }
    let Some(user) = db::users::find_by_id(state.db.pool(), &user_id)
        .await?
        .filter(|u| u.deactivated_at.is_none() && u.org_id.as_deref() == Some(org_id.as_str()))
    else {
        return refuse("invitation_invalid").await;
    };
    if db::sso::user_by_identity(state.db.pool(), &claims.tid, &claims.oid)
        .await?
        .is_some()
    {
        return refuse("identity_taken").await;
    }
    let now = state.clock.now_ms();
    let mut tx = state.db.pool().begin().await?;
    if !db::tokens::consume_pending_invitation(&mut *tx, &user.id, now).await? {
        drop(tx);
        return refuse("invitation_invalid").await;
    }
    if let Err(e) = db::sso::insert_identity(&mut *tx, &identity_of(claims, &user.id, now)).await {
        drop(tx);
        return if db::is_unique_violation(&e) {
            refuse("identity_taken").await
        } else {
            Err(e.into())
        };
    }
    audit::record(
        &mut *tx,
        now,
        meta,
        Event::own(
            &user,
            "auth.sso_invitation_accepted",
            json!({"tid": claims.tid, "oid": claims.oid, "microsoft_email": claims.email}),
        ),
    )
    .await?;
    tx.commit().await?;
    let details = json!({"method": "entra", "tid": claims.tid, "via": "invitation"});
    signed_in(state, meta, current, &user, claims, details, "/").await
}

/// Two first sign-ins of one identity raced: the loser's insert fails; the winner's user is
/// the one to use.
async fn retry_lookup(
    state: &AppState,
    claims: &EntraClaims,
    e: sqlx::Error,
) -> Result<Option<User>, Outcome> {
    if !db::is_unique_violation(&e) {
        return Err(e.into());
    }
    Ok(db::sso::user_by_identity(state.db.pool(), &claims.tid, &claims.oid).await?)
}

/// Adds the verified identity to the signed-in user who started the flow.
async fn link_identity(
    state: &AppState,
    meta: &RequestMeta,
    current: Option<Authenticated>,
    txn: &Transaction,
    claims: &EntraClaims,
) -> Result<Response, Outcome> {
    let me = current
        .filter(|a| a.session.state == states::FULL && Some(&a.user.id) == txn.user_id.as_ref())
        .ok_or(Outcome::Refused("state_mismatch"))?;
    let user = &me.user;
    let refuse = |reason: &'static str| async move {
        audit_failure(
            state,
            meta,
            "auth.sso_link_failed",
            Some(user),
            None,
            json!({"reason": reason, "tid": claims.tid, "oid": claims.oid}),
        )
        .await?;
        Err::<Response, Outcome>(Outcome::Refused(reason))
    };
    let tenant = db::sso::find_tenant(state.db.pool(), &claims.tid).await?;
    let ours = tenant.filter(|t| t.admits_sign_in() && Some(&t.org_id) == user.org_id.as_ref());
    if ours.is_none() {
        return refuse("wrong_tenant").await;
    }
    match db::sso::user_by_identity(state.db.pool(), &claims.tid, &claims.oid).await? {
        Some(other) if other.id != user.id => return refuse("identity_taken").await,
        Some(_) => {}
        None => {
            let now = state.clock.now_ms();
            let mut tx = state.db.pool().begin().await?;
            let inserted =
                db::sso::insert_identity(&mut *tx, &identity_of(claims, &user.id, now)).await;
            if let Err(e) = inserted {
                return if db::is_unique_violation(&e) {
                    refuse("identity_taken").await
                } else {
                    Err(e.into())
                };
            }
            audit::record(
                &mut *tx,
                now,
                meta,
                Event::own(
                    user,
                    "auth.sso_linked",
                    json!({"tid": claims.tid, "oid": claims.oid}),
                ),
            )
            .await?;
            tx.commit().await?;
        }
    }
    Ok(see_other("/security?linked=microsoft", HeaderMap::new()))
}

/// The admin's proof sign-in: links the tenant only when the verified `tid` is the one the
/// consent redirect claimed. The admin's own portal session is left as it was.
async fn prove_consent(
    state: &AppState,
    meta: &RequestMeta,
    current: Option<Authenticated>,
    txn: &Transaction,
    claims: &EntraClaims,
) -> Result<Response, Outcome> {
    let me = current
        .filter(|a| a.session.state == states::FULL && Some(&a.user.id) == txn.user_id.as_ref())
        .ok_or(Outcome::Refused("state_mismatch"))?;
    let org_id = txn.org_id.clone().unwrap_or_default();
    let fail = |reason: &'static str| {
        consent_refused(
            state,
            meta,
            Some(&me.user),
            Some(&org_id),
            json!({"reason": reason, "tid": claims.tid, "claimed_tid": txn.tenant_id}),
            reason,
        )
    };
    if txn.tenant_id.as_deref() != Some(claims.tid.as_str()) {
        return fail("tenant_mismatch").await;
    }
    // A guest's token carries the host tenant's `tid` too: membership of the tenant is what
    // the proof must show, so a guest (of any kind) cannot link someone else's tenant.
    if claims.guest {
        return fail("guest_account").await;
    }
    let Some(org) = db::orgs::find_by_id(state.db.pool(), &org_id).await? else {
        return fail("forbidden").await;
    };
    let actor = Actor {
        user_id: Some(&me.user.id),
        label: &me.user.email,
    };
    match sso_admin::link_tenant(
        &state.db,
        actor,
        &org.slug,
        &claims.tid,
        LinkedBy::AdminConsent,
    )
    .await
    {
        Ok(t) => Ok(see_other(
            &format!(
                "/sso?linked={}{}",
                t.tenant_id,
                if t.approved_at.is_none() {
                    "&pending=1"
                } else {
                    ""
                }
            ),
            HeaderMap::new(),
        )),
        Err(SsoError::SsoDisabled(_)) => fail("sso_disabled").await,
        Err(SsoError::TenantTaken(_)) => fail("tenant_taken").await,
        Err(SsoError::InvalidTenant(_)) => fail("invalid_tenant").await,
        Err(e) => Err(Outcome::Internal(ApiError::internal(anyhow::anyhow!(e)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_return_to_the_page_the_flow_started_from() {
        assert_eq!(
            error_location("login", "tenant_not_linked", "/"),
            "/login?error=tenant_not_linked"
        );
        assert_eq!(
            error_location("login", "expired", "/calls?x=1"),
            "/login?error=expired&return_to=/calls%3Fx%3D1"
        );
        assert_eq!(
            error_location("link", "wrong_tenant", "/"),
            "/security?error=wrong_tenant"
        );
        assert_eq!(
            error_location("consent_proof", "tenant_mismatch", "/"),
            "/sso?error=tenant_mismatch"
        );
    }

    #[test]
    fn idp_errors_map_to_our_codes() {
        assert_eq!(idp_error_code("access_denied"), "access_denied");
        assert_eq!(idp_error_code("consent_required"), "consent_required");
        assert_eq!(idp_error_code("server_error"), "idp_error");
    }

    #[test]
    fn the_page_escapes_what_it_shows() {
        assert_eq!(
            escape("<a href=\"x\">'&"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
    }
}
