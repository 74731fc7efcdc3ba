//! The token endpoint: codes checked like Entra checks them (PKCE, secret, tenant, redirect
//! URI, single use), and the tamper modes that spoil ID tokens on purpose.

use hmac::{Hmac, Mac};

use super::*;

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
