//! End-to-end tests of the emulator through its router, driven the way the portal and the
//! browser drive it. Each test makes one RSA key (the ForeignKey and rotation tests one more).

use axum::{
    body::Body,
    http::{header, HeaderMap, Request, StatusCode},
    Router,
};
use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine as _,
};
use hmac::{Hmac, Mac};
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

#[tokio::test]
async fn discovery_and_keys_look_like_entra() {
    let idp = new_idp();
    assert_eq!(idp.config().base_url, BASE, "the trailing slash is dropped");
    let router = idp.router();

    let reply = get(
        &router,
        "/organizations/v2.0/.well-known/openid-configuration",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let doc = reply.json();
    assert_eq!(doc["issuer"], format!("{BASE}/{{tenantid}}/v2.0"));
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{BASE}/organizations/oauth2/v2.0/authorize")
    );
    assert_eq!(
        doc["token_endpoint"],
        format!("{BASE}/organizations/oauth2/v2.0/token")
    );
    assert_eq!(
        doc["jwks_uri"],
        format!("{BASE}/organizations/discovery/v2.0/keys")
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );

    let doc = get(
        &router,
        &format!("/{CONTOSO_TENANT}/v2.0/.well-known/openid-configuration"),
    )
    .await
    .json();
    assert_eq!(doc["issuer"], format!("{BASE}/{CONTOSO_TENANT}/v2.0"));
    let doc = get(&router, "/common/v2.0/.well-known/openid-configuration")
        .await
        .json();
    assert_eq!(doc["issuer"], format!("{BASE}/{{tenantid}}/v2.0"));

    let reply = get(
        &router,
        "/contoso.example/v2.0/.well-known/openid-configuration",
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"], "invalid_tenant");
    assert!(reply.json()["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS90002"));

    assert_eq!(idp.jwks_fetches(), 0);
    let keys = jwks(&router).await;
    assert_eq!(idp.jwks_fetches(), 1);
    let key = &keys["keys"][0];
    assert_eq!(keys["keys"].as_array().unwrap().len(), 1);
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["kid"], idp.kid());
    assert_eq!(key["e"], "AQAB");
    assert_eq!(key["issuer"], format!("{BASE}/{{tenantid}}/v2.0"));

    // Tests can sign their own tokens with the published key.
    let token = idp.sign(
        &json!({"alg": "RS256", "kid": idp.kid()}),
        &json!({"hello": "world"}),
    );
    assert!(verifies_with_jwks(&keys, &token));

    let css = get(&router, "/style.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.header(header::CONTENT_TYPE).starts_with("text/css"));
}

#[tokio::test]
async fn sign_in_issues_a_verifiable_id_token_once() {
    let idp = new_idp();
    let router = idp.router();

    // The picker.
    let query = encode(&authorize_params(&[]));
    let page = get(
        &router,
        &format!("/organizations/oauth2/v2.0/authorize?{query}"),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.header(header::CACHE_CONTROL), "no-store");
    assert_eq!(
        page.header(header::CONTENT_SECURITY_POLICY),
        "default-src 'none'; style-src 'self'; form-action 'self' http://localhost:3000; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    assert!(page.body.contains("Pick an account"));
    assert!(page
        .body
        .contains("Development Entra ID emulator: no password needed"));
    assert!(page.body.contains("href=\"/dev-idp/style.css\""));
    assert!(page.body.contains(&format!(
        "action=\"{BASE}/organizations/oauth2/v2.0/authorize\""
    )));
    for identity in demo_identities() {
        assert!(page.body.contains(&format!("value=\"{}\"", identity.key)));
        assert!(page.body.contains(&format!(
            "<span class=\"name\">{}</span> <span class=\"email\">{}</span>",
            identity.name, identity.email
        )));
    }
    assert!(
        page.body.contains("value=\"st&quot;&lt;ate&gt;\""),
        "state is escaped"
    );
    assert!(!page.body.contains(STATE));
    assert!(page.body.contains(">Cancel</button>"));

    // A tenant path lists that tenant's accounts only.
    let page = get(
        &router,
        &format!("/{FABRIKAM_TENANT}/oauth2/v2.0/authorize?{query}"),
    )
    .await;
    assert!(page.body.contains("alex.wilber@fabrikam.example"));
    assert!(!page.body.contains("adele.vance@contoso.example"));

    // Pick → code → token.
    let code = sign_in(&router, "organizations", "adele").await;
    let reply = redeem(&router, &code, VERIFIER, SECRET).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header(header::CACHE_CONTROL), "no-store");
    let tokens = reply.json();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "openid profile email");
    assert_eq!(tokens["expires_in"], 3599);
    assert!(tokens["access_token"].as_str().unwrap().len() > 20);
    let id_token = tokens["id_token"].as_str().unwrap();
    assert!(verifies_with_jwks(&jwks(&router).await, id_token));
    let (header, claims, _, _) = decode_jwt(id_token);
    assert_eq!(
        header,
        json!({"typ": "JWT", "alg": "RS256", "kid": idp.kid()})
    );
    let adele = &demo_identities()[0];
    assert_eq!(claims["aud"], CLIENT_ID);
    assert_eq!(claims["iss"], format!("{BASE}/{CONTOSO_TENANT}/v2.0"));
    assert_eq!(claims["tid"], CONTOSO_TENANT);
    assert_eq!(claims["oid"], adele.oid);
    assert_eq!(claims["name"], "Adele Vance");
    assert_eq!(claims["email"], "adele.vance@contoso.example");
    assert_eq!(claims["preferred_username"], "adele.vance@contoso.example");
    assert_eq!(claims["nonce"], NONCE);
    assert_eq!(claims["ver"], "2.0");
    assert_eq!(claims["sub"].as_str().unwrap().len(), 43);
    let iat = claims["iat"].as_i64().unwrap();
    assert!((iat - unix_now()).abs() < 60);
    assert_eq!(claims["nbf"], iat);
    assert_eq!(claims["exp"], iat + 3600);
    assert!(claims["rh"].is_string() && claims["uti"].is_string());

    // The code is single use.
    let reply = redeem(&router, &code, VERIFIER, SECRET).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"], "invalid_grant");

    // HTTP Basic works as well as the form (both halves form-urlencoded first).
    let code = sign_in(&router, CONTOSO_TENANT, "megan").await;
    let basic = STANDARD.encode(format!(
        "{}:{}",
        encode(&[("x", CLIENT_ID)]).trim_start_matches("x="),
        encode(&[("x", SECRET)]).trim_start_matches("x=")
    ));
    let reply = post_form(
        &router,
        &format!("/{CONTOSO_TENANT}/oauth2/v2.0/token"),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
        Some(&basic),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let (_, claims, _, _) = decode_jwt(reply.json()["id_token"].as_str().unwrap());
    assert_eq!(claims["email"], "megan.bowen@contoso.example");

    // Another account: the oid is derived from tenant and email.
    let mut params = authorize_params(&[]);
    params.extend([
        ("identity", "other"),
        ("other_tenant", FABRIKAM_TENANT),
        ("other_name", "Pat <Smith>"),
        ("other_email", "Pat@Fabrikam.example"),
    ]);
    let reply = post_form(
        &router,
        "/organizations/oauth2/v2.0/authorize",
        &params,
        None,
    )
    .await;
    let code = query_value(&reply.location_query(), "code")
        .unwrap()
        .to_owned();
    let reply = redeem(&router, &code, VERIFIER, SECRET).await;
    let (_, claims, _, _) = decode_jwt(reply.json()["id_token"].as_str().unwrap());
    assert_eq!(claims["tid"], FABRIKAM_TENANT);
    assert_eq!(claims["name"], "Pat <Smith>");
    assert_eq!(
        claims["oid"],
        identities::derived_oid(FABRIKAM_TENANT, "pat@fabrikam.example")
    );
}

#[tokio::test]
async fn token_requests_are_checked_like_entra() {
    let idp = new_idp();
    let router = idp.router();

    let code = sign_in(&router, "organizations", "lee").await;
    let reply = redeem(
        &router,
        &code,
        "wrong-verifier-wrong-verifier-wrong-verifier",
        SECRET,
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"], "invalid_grant");
    // The failed attempt used the code up.
    let reply = redeem(&router, &code, VERIFIER, SECRET).await;
    assert_eq!(reply.json()["error"], "invalid_grant");

    let code = sign_in(&router, "organizations", "lee").await;
    let reply = redeem(&router, &code, VERIFIER, "not-the-secret").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.json()["error"], "invalid_client");
    assert!(reply.json()["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS7000215:"));
    let reply = redeem(&router, &code, VERIFIER, SECRET).await;
    assert_eq!(
        reply.json()["error"],
        "invalid_grant",
        "spent by the failure"
    );

    let reply = redeem(&router, "made-up", VERIFIER, SECRET).await;
    assert_eq!(reply.json()["error"], "invalid_grant");

    let reply = post_form(
        &router,
        "/organizations/oauth2/v2.0/token",
        &[("grant_type", "client_credentials")],
        None,
    )
    .await;
    assert_eq!(reply.json()["error"], "unsupported_grant_type");

    // A code of Contoso cannot be redeemed at Fabrikam's endpoint.
    let code = sign_in(&router, "organizations", "adele").await;
    let reply = post_form(
        &router,
        &format!("/{FABRIKAM_TENANT}/oauth2/v2.0/token"),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("code_verifier", VERIFIER),
        ],
        None,
    )
    .await;
    assert_eq!(reply.json()["error"], "invalid_grant");

    // The redirect URI must be the one of the authorization request.
    let code = sign_in(&router, "organizations", "adele").await;
    let reply = post_form(
        &router,
        "/organizations/oauth2/v2.0/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CONSENT_REDIRECT),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("code_verifier", VERIFIER),
        ],
        None,
    )
    .await;
    assert_eq!(reply.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn authorize_errors_never_redirect_to_unregistered_uris() {
    let idp = new_idp();
    let router = idp.router();
    let authorize = |changes: &[(&str, &str)]| {
        format!(
            "/organizations/oauth2/v2.0/authorize?{}",
            encode(&authorize_params(changes))
        )
    };

    for changes in [
        [("redirect_uri", "https://evil.example/callback")],
        [("client_id", "someone-else")],
    ] {
        let reply = get(&router, &authorize(&changes)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(reply.headers.get(header::LOCATION).is_none());
        assert!(reply.header(header::CONTENT_TYPE).starts_with("text/html"));
        assert!(reply.body.contains("AADSTS"));
        assert!(!reply.body.contains("<script"));
    }
    let reply = get(&router, "/not-a-tenant/oauth2/v2.0/authorize").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("AADSTS90002"));

    // Other problems go back to the client.
    for changes in [
        &[("nonce", "")][..],
        &[("code_challenge", "")],
        &[("code_challenge_method", "plain")],
        &[("scope", "profile email")],
        &[("response_type", "token")],
        &[("response_mode", "form_post")],
    ] {
        let reply = get(&router, &authorize(changes)).await;
        let query = reply.location_query();
        assert_eq!(
            query_value(&query, "error"),
            Some("invalid_request"),
            "{changes:?}"
        );
        assert_eq!(query_value(&query, "state"), Some(STATE));
        assert!(query_value(&query, "error_description")
            .unwrap()
            .starts_with("AADSTS"));
    }

    // Cancel.
    let mut params = authorize_params(&[]);
    params.push(("action", "cancel"));
    let reply = post_form(
        &router,
        "/organizations/oauth2/v2.0/authorize",
        &params,
        None,
    )
    .await;
    let query = reply.location_query();
    assert_eq!(query_value(&query, "error"), Some("access_denied"));
    assert!(query_value(&query, "error_description")
        .unwrap()
        .starts_with("AADSTS65004"));
    assert_eq!(query_value(&query, "state"), Some(STATE));
    assert_eq!(query_value(&query, "code"), None);

    // A tenant path refuses another tenant's account and shows the picker again.
    let mut params = authorize_params(&[]);
    params.push(("identity", "alex"));
    let reply = post_form(
        &router,
        &format!("/{CONTOSO_TENANT}/oauth2/v2.0/authorize"),
        &params,
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("role=\"alert\""));
    assert!(reply.body.contains("Pick an account"));
    // The POST is checked from scratch too.
    let mut params = authorize_params(&[("redirect_uri", "https://evil.example/cb")]);
    params.push(("identity", "adele"));
    let reply = post_form(
        &router,
        "/organizations/oauth2/v2.0/authorize",
        &params,
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.headers.get(header::LOCATION).is_none());
}

#[tokio::test]
async fn admin_consent_returns_the_admins_tenant() {
    let idp = new_idp();
    let router = idp.router();
    let params = [
        ("client_id", CLIENT_ID),
        ("scope", "openid profile email"),
        ("redirect_uri", CONSENT_REDIRECT),
        ("state", "consent-state"),
    ];

    let page = get(
        &router,
        &format!("/organizations/v2.0/adminconsent?{}", encode(&params)),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Permissions requested"));
    assert!(page.body.contains("Voice Customer Portal"));
    assert!(page.body.contains(">Accept</button>"));
    assert!(page.body.contains(">Cancel</button>"));
    assert!(page.body.contains("value=\"adele\""));
    assert!(page.body.contains("value=\"alex\""));
    assert!(!page.body.contains("value=\"megan\""), "not an admin");
    assert!(page
        .header(header::CONTENT_SECURITY_POLICY)
        .contains("frame-ancestors 'none'"));

    let mut accept = params.to_vec();
    accept.extend([("identity", "alex"), ("action", "accept")]);
    let reply = post_form(&router, "/organizations/v2.0/adminconsent", &accept, None).await;
    assert!(reply.header(header::LOCATION).starts_with(CONSENT_REDIRECT));
    let query = reply.location_query();
    assert_eq!(query_value(&query, "admin_consent"), Some("True"));
    assert_eq!(query_value(&query, "tenant"), Some(FABRIKAM_TENANT));
    assert_eq!(query_value(&query, "state"), Some("consent-state"));
    assert_eq!(query_value(&query, "scope"), Some("openid profile email"));

    let mut cancel = params.to_vec();
    cancel.extend([("identity", "adele"), ("action", "cancel")]);
    let reply = post_form(&router, "/organizations/v2.0/adminconsent", &cancel, None).await;
    let query = reply.location_query();
    assert_eq!(query_value(&query, "error"), Some("access_denied"));
    assert_eq!(query_value(&query, "tenant"), None);
    assert_eq!(query_value(&query, "state"), Some("consent-state"));

    // Through a tenant path, only that tenant's admins may accept.
    let reply = post_form(
        &router,
        &format!("/{CONTOSO_TENANT}/v2.0/adminconsent"),
        &accept,
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.headers.get(header::LOCATION).is_none());

    let bad = [
        ("client_id", CLIENT_ID),
        ("scope", "openid"),
        ("redirect_uri", "https://evil.example/consent"),
        ("state", "s"),
    ];
    let reply = get(
        &router,
        &format!("/organizations/v2.0/adminconsent?{}", encode(&bad)),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.headers.get(header::LOCATION).is_none());
    assert!(reply.body.contains("AADSTS50011"));
}

#[tokio::test]
async fn tamper_modes_spoil_id_tokens_as_asked() {
    let idp = new_idp();
    let router = idp.router();
    let keys = jwks(&router).await;
    let id_token_with = |signing: TamperSigning| {
        idp.set_token_tamper(Some(TokenTamper {
            edit: Box::new(|_, claims| claims["aud"] = json!("someone-else")),
            signing,
        }));
        let router = router.clone();
        async move {
            let code = sign_in(&router, "organizations", "adele").await;
            let reply = redeem(&router, &code, VERIFIER, SECRET).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            reply.json()
        }
    };

    let tokens = id_token_with(TamperSigning::Rs256).await;
    let token = tokens["id_token"].as_str().unwrap();
    assert!(verifies_with_jwks(&keys, token));
    assert_eq!(decode_jwt(token).1["aud"], "someone-else");

    let tokens = id_token_with(TamperSigning::Hs256WithClientSecret).await;
    let (header, claims, signature, input) = decode_jwt(tokens["id_token"].as_str().unwrap());
    assert_eq!(header["alg"], "HS256");
    assert_eq!(claims["aud"], "someone-else");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    mac.verify_slice(&signature).unwrap();

    let tokens = id_token_with(TamperSigning::Unsigned).await;
    let token = tokens["id_token"].as_str().unwrap();
    assert!(token.ends_with('.'));
    let (header, _, signature, _) = decode_jwt(token);
    assert_eq!(header["alg"], "none");
    assert!(signature.is_empty());

    let tokens = id_token_with(TamperSigning::ForeignKey).await;
    let token = tokens["id_token"].as_str().unwrap();
    let (header, _, _, _) = decode_jwt(token);
    assert_eq!(header["alg"], "RS256");
    assert!(header["kid"].as_str().unwrap().starts_with("unknown-"));
    assert!(!verifies_with_jwks(&keys, token));
    // Even under the published kid, the foreign signature does not verify.
    let (h, c, s, _) = decode_jwt(token);
    let mut relabelled = h.clone();
    relabelled["kid"] = json!(idp.kid());
    let forged = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(relabelled.to_string()),
        URL_SAFE_NO_PAD.encode(c.to_string()),
        URL_SAFE_NO_PAD.encode(s)
    );
    assert!(!verifies_with_jwks(&keys, &forged));

    let tokens = id_token_with(TamperSigning::OmitIdToken).await;
    assert!(tokens.get("id_token").is_none());
    assert!(tokens["access_token"].is_string());

    idp.set_token_tamper(None);
    let code = sign_in(&router, "organizations", "adele").await;
    let tokens = redeem(&router, &code, VERIFIER, SECRET).await.json();
    let token = tokens["id_token"].as_str().unwrap();
    assert!(verifies_with_jwks(&keys, token));
    assert_eq!(decode_jwt(token).1["aud"], CLIENT_ID);
}

#[tokio::test]
async fn hooks_change_the_keys_and_break_the_endpoints() {
    let idp = new_idp();
    let router = idp.router();

    idp.set_extra_jwks_keys(vec![
        json!({"kty": "RSA", "kid": "junk", "n": "!!"}),
        json!(42),
    ]);
    idp.set_jwks_issuer(Some("https://elsewhere.example/{tenantid}/v2.0".to_owned()));
    let keys = jwks(&router).await;
    assert_eq!(keys["keys"].as_array().unwrap().len(), 3);
    assert_eq!(
        keys["keys"][0]["issuer"],
        "https://elsewhere.example/{tenantid}/v2.0"
    );
    assert_eq!(keys["keys"][1]["kid"], "junk");
    assert_eq!(keys["keys"][2], 42);

    let old_kid = idp.kid();
    idp.rotate_key().unwrap();
    assert_ne!(idp.kid(), old_kid);
    let keys = jwks(&router).await;
    assert_eq!(keys["keys"][0]["kid"], idp.kid());
    assert!(keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["kid"] != json!(old_kid)));
    assert_eq!(idp.jwks_fetches(), 2);

    idp.set_failure(Some(Failure::ServerError));
    let reply = get(
        &router,
        "/organizations/v2.0/.well-known/openid-configuration",
    )
    .await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    let reply = get(&router, "/organizations/discovery/v2.0/keys").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);

    idp.set_failure(Some(Failure::Slow(std::time::Duration::from_millis(150))));
    let started = std::time::Instant::now();
    let reply = get(
        &router,
        "/organizations/v2.0/.well-known/openid-configuration",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));

    idp.set_failure(None);
    let reply = get(
        &router,
        "/organizations/v2.0/.well-known/openid-configuration",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);

    // Debug output names the emulator without its secret.
    let debug = format!("{idp:?} {:?}", idp.config());
    assert!(debug.contains(CLIENT_ID));
    assert!(!debug.contains(SECRET));
}
