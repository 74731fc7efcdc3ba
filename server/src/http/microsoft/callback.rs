//! The flows' return: the callbacks take the request's transaction (single use, checked
//! against the echoed `state`, limited per client IP), exchange the code and validate the ID
//! token, and hand the verified identity to `sso::identity` for what the flow asked (sign in,
//! link, accept an invitation, prove a tenant for admin consent).

use axum::{
    extract::{Form, Query, State},
    http::HeaderMap,
    response::Response,
};
use serde_json::json;
use subtle::ConstantTimeEq;

use app::return_to::{encode_query_value, with_return_to};

use crate::{
    audit::{self, Event, RequestMeta},
    auth::{
        entra::{id_token::EntraClaims, EntraError},
        rate_limit,
        session::{self, cookie_value, states, Authenticated},
    },
    db::{self, sso::Transaction, users::User},
    sso::{
        self as sso_admin,
        identity::{self, IdentityError},
    },
};

use super::{
    super::{auth::start_session, ApiError, AppState},
    begin, entra, new_txn,
    pages::{finish, see_other, KeepTxnCookie},
    purpose, CallbackParams, ConsentParams, Outcome, OIDC_COOKIE, SSO_BAD_CALLBACKS_PER_IP,
};

/// Takes the request's transaction and checks it: present, unexpired, of one of
/// `purposes`, and with the `state` the identity provider echoed.
/// A callback without a usable transaction counts against the client IP (so a flood of
/// made-up callbacks is cut off with 429); one with a usable transaction does not.
pub(super) async fn take_txn(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    returned_state: Option<&str>,
) -> Result<Transaction, (Outcome, Option<Transaction>)> {
    let ip_key = meta.ip.as_deref().unwrap_or("unknown");
    let attempt = rate_limit::reserve(&state.auth(), meta, SSO_BAD_CALLBACKS_PER_IP, ip_key)
        .await
        .map_err(|e| (Outcome::from(e), None))?;
    let taken = take_txn_unlimited(state, headers, returned_state).await;
    if taken.is_ok() {
        rate_limit::release(&state.auth(), attempt)
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
pub(super) async fn consent_callback(
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
    // Every refusal from here on is about this admin and the organisation that started.
    let refuse = |details: serde_json::Value, code: &'static str| {
        consent_refused(
            state,
            meta,
            Some(&me.user),
            txn.org_id.as_deref(),
            details,
            code,
        )
    };
    if let Some(error) = &q.error {
        return refuse(
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
        return refuse(
            json!({"reason": "consent_not_granted", "tid": claimed}),
            "consent_required",
        )
        .await;
    }
    let tenant = match sso_admin::normalize_tenant_id(&claimed) {
        Ok(t) => t,
        Err(_) => {
            return refuse(
                json!({"reason": "invalid_tenant", "tid": claimed}),
                "invalid_tenant",
            )
            .await;
        }
    };
    if let Some(existing) = db::sso::find_tenant(state.db.pool(), &tenant).await? {
        if Some(&existing.org_id) != txn.org_id.as_ref() {
            return refuse(
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

/// `GET /auth/microsoft/callback`.
pub(super) async fn callback_get(
    State(state): State<AppState>,
    meta: RequestMeta,
    current: Option<Authenticated>,
    headers: HeaderMap,
    Query(q): Query<CallbackParams>,
) -> Response {
    callback(state, meta, current, headers, q).await
}

/// `POST /auth/microsoft/callback` (`response_mode=form_post`, should a tenant use it).
pub(super) async fn callback_post(
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
        purpose::LOGIN | purpose::LOGIN_MFA => sign_in(state, meta, current, txn, &claims).await,
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

impl From<IdentityError> for Outcome {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::Refused(code) => Outcome::Refused(code),
            IdentityError::Internal(e) => Outcome::Internal(ApiError::internal(e)),
        }
    }
}

/// A sign-in: the user the verified identity is (`sso::identity::sign_in`), signed in, once
/// the customer's multi-factor evidence policy is met:
/// - `off`, or the token shows a second factor (`mfa` in `amr`, the authentication context in
///   `acrs`): signed in;
/// - otherwise, when the customer named an authentication context and this is the first trip:
///   sent back to the tenant with a claims challenge for it (Entra then runs the policies the
///   customer attached to the context);
/// - otherwise `portal_factor` with an authenticator set up: the sign-in waits for its code,
///   like a password sign-in;
/// - otherwise refused with `sso_mfa_required`, which the sign-in page explains.
async fn sign_in(
    state: &AppState,
    meta: &RequestMeta,
    current: Option<Authenticated>,
    txn: &Transaction,
    claims: &EntraClaims,
) -> Result<Response, Outcome> {
    let now = state.clock.now_ms();
    let (user, org) = identity::sign_in(&state.db, now, meta, claims).await?;
    let (policy, context) = (
        org.sso_mfa_evidence.as_str(),
        org.sso_auth_context.as_deref(),
    );
    let evidence = claims.mfa_evidence(context);
    let details = json!({
        "method": "entra",
        "tid": claims.tid,
        "mfa_evidence": evidence.unwrap_or("none"),
    });
    if policy == "off" || evidence.is_some() {
        return signed_in(state, meta, current, &user, claims, details, &txn.return_to).await;
    }
    if let (Some(context), purpose::LOGIN) = (context, txn.purpose.as_str()) {
        return challenge(state, meta, &user, txn, claims, context).await;
    }
    let totp_ready = db::mfa::has_confirmed_totp(state.db.pool(), &user.id).await?
        && db::mfa::code_guard(state.db.pool(), &user.id)
            .await?
            .locked_at
            .is_none();
    if policy == "portal_factor" && totp_ready {
        let previous = current
            .as_ref()
            .map(|c| session::Replaced::any(c.session.id.as_str()));
        let headers = start_session(
            state,
            &user,
            states::MFA_PENDING,
            "entra",
            meta,
            previous,
            Some(&claims.tid),
        )
        .await?;
        audit::record(
            state.db.pool(),
            now,
            meta,
            Event::own(
                &user,
                "auth.sso_accepted",
                json!({"method": "entra", "tid": claims.tid, "mfa_evidence": "none", "next": states::MFA_PENDING}),
            ),
        )
        .await?;
        let next = with_return_to("/login/mfa", &txn.return_to);
        return Ok(see_other(&next, headers));
    }
    audit::record(
        state.db.pool(),
        now,
        meta,
        Event::own(
            &user,
            "auth.login_failed",
            json!({
                "reason": "sso_mfa_required",
                "method": "entra",
                "tid": claims.tid,
                "policy": policy,
                "auth_context": context,
                "portal_factor": totp_ready,
            }),
        ),
    )
    .await?;
    Err(Outcome::Refused("sso_mfa_required"))
}

/// Sends a sign-in without multi-factor evidence back to its tenant, asking for the
/// customer's authentication context `context`. The second trip is `login_mfa`, which is
/// never challenged again.
async fn challenge(
    state: &AppState,
    meta: &RequestMeta,
    user: &User,
    txn: &Transaction,
    claims: &EntraClaims,
    context: &str,
) -> Result<Response, Outcome> {
    let entra = entra(state).ok_or(Outcome::Refused("not_configured"))?;
    let start = entra
        .start_sign_in_for_context(&claims.tid, context, state.clock.now_ms())
        .await?;
    let mut next = new_txn(state, purpose::LOGIN_MFA, txn.return_to.clone());
    next.state = start.state;
    next.nonce = start.nonce;
    next.pkce_verifier = start.pkce_verifier;
    next.org_id = user.org_id.clone();
    next.user_id = Some(user.id.clone());
    next.tenant_id = Some(claims.tid.clone());
    audit::record(
        state.db.pool(),
        state.clock.now_ms(),
        meta,
        Event::own(
            user,
            "auth.sso_mfa_challenge",
            json!({"tid": claims.tid, "auth_context": context}),
        ),
    )
    .await?;
    let mut r = begin(state, &start.url, next).await?;
    r.extensions_mut().insert(KeepTxnCookie);
    Ok(r)
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
        .map(|c| session::Replaced::any(c.session.id.as_str()));
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

/// The invitee's verified identity, bound to the invited account
/// (`sso::identity::accept_invitation`), and the invitee signed in.
async fn accept_invitation(
    state: &AppState,
    meta: &RequestMeta,
    current: Option<Authenticated>,
    txn: &Transaction,
    claims: &EntraClaims,
) -> Result<Response, Outcome> {
    let org_id = txn.org_id.as_deref().unwrap_or_default();
    let user_id = txn.user_id.as_deref().unwrap_or_default();
    let now = state.clock.now_ms();
    let user = identity::accept_invitation(&state.db, now, meta, org_id, user_id, claims).await?;
    let details = json!({"method": "entra", "tid": claims.tid, "via": "invitation"});
    signed_in(state, meta, current, &user, claims, details, "/").await
}

/// The signed-in user who started the flow, still signed in.
fn starter(current: Option<Authenticated>, txn: &Transaction) -> Result<Authenticated, Outcome> {
    current
        .filter(|a| a.session.state == states::FULL && Some(&a.user.id) == txn.user_id.as_ref())
        .ok_or(Outcome::Refused("state_mismatch"))
}

/// Adds the verified identity to the signed-in user who started the flow.
async fn link_identity(
    state: &AppState,
    meta: &RequestMeta,
    current: Option<Authenticated>,
    txn: &Transaction,
    claims: &EntraClaims,
) -> Result<Response, Outcome> {
    let me = starter(current, txn)?;
    identity::link(&state.db, state.clock.now_ms(), meta, &me.user, claims).await?;
    Ok(see_other("/security?linked=microsoft", HeaderMap::new()))
}

/// The admin's proof sign-in (`sso::identity::prove_consent`). The admin's own portal session
/// is left as it was.
async fn prove_consent(
    state: &AppState,
    meta: &RequestMeta,
    current: Option<Authenticated>,
    txn: &Transaction,
    claims: &EntraClaims,
) -> Result<Response, Outcome> {
    let me = starter(current, txn)?;
    let org_id = txn.org_id.as_deref().unwrap_or_default();
    let tenant = identity::prove_consent(
        &state.db,
        state.clock.now_ms(),
        meta,
        &me.user,
        org_id,
        txn.tenant_id.as_deref(),
        claims,
    )
    .await?;
    Ok(see_other(
        &format!(
            "/sso?linked={}{}",
            tenant.tenant_id,
            if tenant.approved_at.is_none() {
                "&pending=1"
            } else {
                ""
            }
        ),
        HeaderMap::new(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idp_errors_map_to_our_codes() {
        assert_eq!(idp_error_code("access_denied"), "access_denied");
        assert_eq!(idp_error_code("consent_required"), "consent_required");
        assert_eq!(idp_error_code("server_error"), "idp_error");
    }
}
