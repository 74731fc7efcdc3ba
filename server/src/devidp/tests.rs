//! End-to-end tests of the emulator through its router, driven the way the portal and the
//! browser drive it. Each test makes one RSA key (the ForeignKey and rotation tests one more).
//!
//! This file holds what the tests share (the registration they use, requests and replies,
//! signing in, redeeming a code, reading an ID token); the tests are in `discovery`,
//! `authorize`, `token` and `consent`, after the endpoints they drive.

mod authorize;
mod consent;
mod discovery;
mod token;

use axum::{
    body::Body,
    http::{header, HeaderMap, Request, StatusCode},
    Router,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use http_body_util::BodyExt;
use rsa::{
    pkcs1v15::{Signature, VerifyingKey},
    signature::Verifier,
    BigUint, RsaPublicKey,
};
use serde_json::{json, Value};
use sha2::Sha256;
use tower::ServiceExt;

use super::*;

const BASE: &str = "http://localhost:3000/dev-idp";
const CLIENT_ID: &str = "0d7c3f52-8b1e-4a96-9c2d-5e7f1a3b6c90";
const SECRET: &str = "dev~secret.with+odd&chars";
const REDIRECT: &str = "http://localhost:3000/auth/microsoft/callback";
const CONSENT_REDIRECT: &str = "http://localhost:3000/auth/microsoft/consent/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const STATE: &str = "st\"<ate>";
const NONCE: &str = "nonce-123";

fn new_idp() -> DevIdp {
    DevIdp::new(DevIdpConfig {
        base_url: format!("{BASE}/"),
        client_id: CLIENT_ID.to_owned(),
        client_secret: SECRET.to_owned(),
        redirect_uris: vec![REDIRECT.to_owned(), CONSENT_REDIRECT.to_owned()],
    })
    .unwrap()
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// The query of the redirect's Location, as pairs.
    fn location_query(&self) -> Vec<(String, String)> {
        assert_eq!(self.status, StatusCode::FOUND, "{}", self.body);
        let location = url::Url::parse(self.header(header::LOCATION)).unwrap();
        location.query_pairs().into_owned().collect()
    }
}

fn query_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

async fn send(router: &Router, request: Request<Body>) -> Reply {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

async fn get(router: &Router, uri: &str) -> Reply {
    send(router, Request::get(uri).body(Body::empty()).unwrap()).await
}

fn encode(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

async fn post_form(
    router: &Router,
    uri: &str,
    pairs: &[(&str, &str)],
    basic: Option<&str>,
) -> Reply {
    let mut request =
        Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(basic) = basic {
        request = request.header(header::AUTHORIZATION, format!("Basic {basic}"));
    }
    send(router, request.body(Body::from(encode(pairs))).unwrap()).await
}

/// The authorization request the portal sends, with `changes` replacing or adding parameters
/// (an empty value removes one).
fn authorize_params<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut params = vec![
        ("client_id", CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("response_mode", "query"),
        ("scope", "openid profile email"),
        ("state", STATE),
        ("nonce", NONCE),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for (name, value) in changes {
        params.retain(|(n, _)| n != name);
        if !value.is_empty() {
            params.push((name, value));
        }
    }
    params
}

/// Picks `identity` on the `tenant` picker and returns the code.
async fn sign_in(router: &Router, tenant: &str, identity: &str) -> String {
    let mut params = authorize_params(&[]);
    params.push(("identity", identity));
    let reply = post_form(
        router,
        &format!("/{tenant}/oauth2/v2.0/authorize"),
        &params,
        None,
    )
    .await;
    let query = reply.location_query();
    assert!(reply.header(header::LOCATION).starts_with(REDIRECT));
    assert_eq!(query_value(&query, "state"), Some(STATE));
    query_value(&query, "code").unwrap().to_owned()
}

async fn redeem(router: &Router, code: &str, verifier: &str, secret: &str) -> Reply {
    post_form(
        router,
        "/organizations/oauth2/v2.0/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", CLIENT_ID),
            ("client_secret", secret),
            ("code_verifier", verifier),
            ("scope", "openid profile email"),
        ],
        None,
    )
    .await
}

/// (header, claims, signature, signing input) of a compact JWS.
fn decode_jwt(token: &str) -> (Value, Value, Vec<u8>, String) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    let header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    (
        header,
        claims,
        signature,
        format!("{}.{}", parts[0], parts[1]),
    )
}

/// Whether an RSA key of `jwks` with the token's kid verifies its RS256 signature.
fn verifies_with_jwks(jwks: &Value, token: &str) -> bool {
    let (header, _, signature, input) = decode_jwt(token);
    let Some(jwk) = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"] && k["kty"] == "RSA")
    else {
        return false;
    };
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();
    let public = RsaPublicKey::new(BigUint::from_bytes_be(&n), BigUint::from_bytes_be(&e)).unwrap();
    let Ok(signature) = Signature::try_from(signature.as_slice()) else {
        return false;
    };
    VerifyingKey::<Sha256>::new(public)
        .verify(input.as_bytes(), &signature)
        .is_ok()
}

async fn jwks(router: &Router) -> Value {
    let reply = get(router, "/organizations/discovery/v2.0/keys").await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.json()
}
