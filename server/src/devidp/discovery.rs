//! The discovery document and the signing keys (JWKS), shaped like Entra ID v2.0's, including
//! the `{tenantid}` issuer template of the multi-tenant endpoints.

use std::sync::atomic::Ordering;

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use serde_json::{json, Value};

use super::{
    identities::TenantPath,
    lock,
    pages::{json_error, json_response},
    DevIdp,
};

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`.
pub(super) async fn openid_configuration(
    State(idp): State<DevIdp>,
    Path(tenant): Path<String>,
) -> Response {
    let Some(path) = TenantPath::parse(&tenant) else {
        return invalid_tenant(&tenant);
    };
    let base = &idp.config().base_url;
    let segment = path.segment();
    let issuer = lock(&idp.0.hooks)
        .metadata_issuer
        .clone()
        .unwrap_or_else(|| format!("{base}/{}/v2.0", path.issuer_tenant()));
    let document = json!({
        "token_endpoint": format!("{base}/{segment}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{segment}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer,
        "request_uri_parameter_supported": false,
        // Entra points at Microsoft Graph; the emulator has no userinfo, and the portal does
        // not use it (the ID token carries everything).
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "authorization_endpoint": format!("{base}/{segment}/oauth2/v2.0/authorize"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{segment}/oauth2/v2.0/logout"),
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce",
            "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email", "oid",
        ],
        "tenant_region_scope": Value::Null,
    });
    json_response(StatusCode::OK, &document)
}

/// `GET /{tenant}/discovery/v2.0/keys`.
pub(super) async fn keys(State(idp): State<DevIdp>, Path(tenant): Path<String>) -> Response {
    if TenantPath::parse(&tenant).is_none() {
        return invalid_tenant(&tenant);
    }
    idp.0.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let (issuer, extra) = {
        let hooks = lock(&idp.0.hooks);
        (hooks.jwks_issuer.clone(), hooks.extra_jwks_keys.clone())
    };
    // Entra tags every key with the issuer template it may sign for, whatever the path.
    let issuer = issuer.unwrap_or_else(|| format!("{}/{{tenantid}}/v2.0", idp.config().base_url));
    let mut keys = vec![idp.current_key().jwk(&issuer)];
    keys.extend(extra);
    json_response(StatusCode::OK, &json!({ "keys": keys }))
}

/// Entra's answer for a tenant it does not know.
fn invalid_tenant(tenant: &str) -> Response {
    json_error(
        StatusCode::BAD_REQUEST,
        "invalid_tenant",
        90002,
        &format!(
            "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and \
             are signing into the correct cloud."
        ),
    )
}
