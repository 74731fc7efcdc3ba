//! Discovery and keys: the metadata and JWKS look like Entra's (and tests can sign with the
//! published key), and the hooks change the keys, make the endpoints fail or slow, and keep
//! the secret out of debug output.

use super::*;

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
