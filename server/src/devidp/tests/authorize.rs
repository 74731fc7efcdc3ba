//! The authorization endpoint: the account picker, a sign-in that ends in a verifiable ID
//! token (by form or HTTP Basic, for a demo or a typed-in account), and errors that never
//! redirect to an unregistered URI.

use base64::engine::general_purpose::STANDARD;

use super::*;

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
