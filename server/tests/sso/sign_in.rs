//! The sign-in flow itself: the happy path and its authorization request, where the browser
//! lands (`return_to`, the public origin), and whether the flow and the emulator are there
//! at all.

use axum::{body::Body, http::Request};

use crate::harness::{linked_org, location, param, set_cookie, sso, CLIENT_ID};
use crate::support::{session_cookie, TestApp, ORIGIN};
use portal::devidp::CONTOSO_TENANT;

#[tokio::test]
async fn a_user_of_a_linked_tenant_signs_in_with_one_click_and_lands_where_they_asked() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;

    let trip = s.sign_in_as("adele", "/calls?result=failed").await;
    // The authorization request: code flow, PKCE S256, long state and nonce, query mode.
    let auth = &trip.authorize_url;
    assert!(
        auth.contains("/organizations/oauth2/v2.0/authorize?"),
        "{auth}"
    );
    assert_eq!(param(auth, "response_type").as_deref(), Some("code"));
    assert_eq!(param(auth, "response_mode").as_deref(), Some("query"));
    assert_eq!(
        param(auth, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(param(auth, "client_id").as_deref(), Some(CLIENT_ID));
    let scope = param(auth, "scope").unwrap();
    for s in ["openid", "profile", "email"] {
        assert!(scope.split(' ').any(|x| x == s), "{scope}");
    }
    // 128 bits are 22 base64url characters; we send 256.
    assert!(param(auth, "state").unwrap().len() >= 22);
    assert!(param(auth, "nonce").unwrap().len() >= 22);
    assert!(trip.oidc_cookie.starts_with("__Host-portal_oidc="));

    assert_eq!(trip.callback.status, 303, "{}", trip.callback.text());
    assert_eq!(location(&trip.callback), "/calls?result=failed");
    let cookie = session_cookie(&trip.callback).expect("a session");
    let me = s.me(&cookie).await;
    assert_eq!(me["user"]["auth_method"], "entra");
    assert_eq!(me["user"]["email"], "adele.vance@contoso.example");
    assert_eq!(
        me["user"]["role"], "viewer",
        "the default role of just-in-time users"
    );
    assert_eq!(me["user"]["mfa_enabled"], false);
    assert_eq!(
        me["user"]["has_password"], false,
        "SSO-only users have no portal password"
    );
    assert_eq!(me["organisation"]["slug"], "contoso");
    let first_id = me["user"]["id"].clone();

    // The same identity again is the same user, and the transaction cookie is cleared.
    let again = s.sign_in_as("adele", "/").await;
    assert!(again
        .callback
        .headers
        .get_all("set-cookie")
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("__Host-portal_oidc=;")));
    let me2 = s.me(&session_cookie(&again.callback).unwrap()).await;
    assert_eq!(me2["user"]["id"], first_id);
    assert_eq!(s.count("SELECT COUNT(*) FROM user_identities").await, 1);
    assert_eq!(s.last_audit("auth.login").await["method"], "entra");
    let provisioned = s.last_audit("user.provisioned").await;
    assert_eq!(provisioned["tid"], CONTOSO_TENANT);

    // A replayed callback (same code and state) finds no transaction: refused, no session.
    let replay = s.finish(&trip.callback_url, &trip.oidc_cookie, None).await;
    assert_eq!(replay.status, 303);
    assert_eq!(location(&replay), "/login?error=expired");
    assert!(session_cookie(&replay).is_none());
}

#[tokio::test]
async fn a_flow_started_under_another_host_name_moves_to_the_public_origin_first() {
    let s = sso().await;
    let res = s
        .app
        .send(
            Request::get("/auth/microsoft/login?return_to=%2Fcalls")
                .header("host", "127.0.0.1:3000")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(
        location(&res),
        format!("{ORIGIN}/auth/microsoft/login?return_to=%2Fcalls")
    );
    assert!(set_cookie(&res, "__Host-portal_oidc").is_none());
    let res = s
        .app
        .send(
            Request::get("/auth/microsoft/login")
                .header("host", "localhost:3000")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(set_cookie(&res, "__Host-portal_oidc").is_some());
}

#[tokio::test]
async fn sso_is_not_configured_without_an_app_registration() {
    let app = TestApp::new().await;
    let res = app.get("/auth/microsoft/login").await;
    assert_eq!(res.status, 503);
    assert!(res.text().contains("not configured"));
}

#[tokio::test]
async fn return_to_keeps_only_local_paths() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    for (raw, expected) in [
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("%2F%2Fevil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("/numbers?country=GB", "/numbers?country=GB"),
    ] {
        let trip = s.sign_in_as("adele", raw).await;
        assert_eq!(location(&trip.callback), expected, "{raw:?}");
    }
}

#[tokio::test]
async fn the_development_emulator_is_mounted_in_development_and_refused_in_production() {
    let app = TestApp::with_args(&["--dev-idp", "true"]).await;
    let res = app
        .get("/dev-idp/organizations/v2.0/.well-known/openid-configuration")
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(
        res.json()["issuer"],
        format!("{ORIGIN}/dev-idp/{{tenantid}}/v2.0")
    );
    assert_eq!(app.get("/dev-idp/style.css").await.status, 200);

    let app = TestApp::new().await;
    let res = app
        .send(
            Request::get("/dev-idp/organizations/v2.0/.well-known/openid-configuration")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_ne!(res.status, 200);
}
