//! Step-up for dangerous actions over the real router: a sign-in counts for 10 minutes, then
//! every dangerous route answers 401 `step_up_required` and changes nothing until the session
//! proves the user's factor again (`POST /api/v1/auth/step-up`): a code for a user with an
//! authenticator, the password for one without; wrong secrets are counted like every
//! re-check; API tokens are machines' credentials and need none.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{json, Value};

use support::{
    api::{bearer, enrol_totp, sign_in},
    count, create_org, create_user, totp_code,
    voice::address_body,
    TestApp, TestResponse, PASSWORD,
};

const ELEVEN_MINUTES: i64 = 11 * 60;

/// Every dangerous action the admin behind `cookie` can try, as (method, path, body).
fn dangerous(user_id: &str) -> Vec<(&'static str, String, Value)> {
    vec![
        (
            "POST",
            "/api/v1/api-tokens".to_string(),
            json!({"name": "ci", "scope": "read", "expires_in_days": 30}),
        ),
        (
            "PATCH",
            format!("/api/v1/users/{user_id}"),
            json!({"role": "viewer"}),
        ),
        (
            "POST",
            format!("/api/v1/users/{user_id}/deactivate"),
            json!({}),
        ),
        (
            "PUT",
            "/api/v1/organisation/mfa-policy".to_string(),
            json!({"required": true}),
        ),
        (
            "PUT",
            "/api/v1/organisation/sso".to_string(),
            json!({"jit_provisioning": false, "default_role": "viewer", "require_sso": false}),
        ),
        (
            "POST",
            "/api/v1/emergency-addresses".to_string(),
            address_body("HQ"),
        ),
        (
            "PUT",
            format!("/api/v1/users/{user_id}/break-glass"),
            json!({"enabled": false}),
        ),
        (
            "POST",
            "/api/v1/users/invitations".to_string(),
            json!({"email": "new.admin@contoso.example", "role": "admin"}),
        ),
    ]
}

/// Adds an emergency address as the session behind `cookie` (a dangerous action).
async fn add_address(app: &TestApp, cookie: &str, label: &str) -> TestResponse {
    app.json(
        "POST",
        "/api/v1/emergency-addresses",
        Some(cookie),
        address_body(label),
    )
    .await
}

/// `POST /api/v1/auth/step-up` with `body` for the session behind `cookie`.
async fn step_up(app: &TestApp, cookie: &str, body: Value) -> TestResponse {
    app.json("POST", "/api/v1/auth/step-up", Some(cookie), body)
        .await
}

/// What the dangerous actions would have changed, to show that a refusal changed nothing.
async fn state_of(app: &TestApp) -> (i64, i64, i64, i64) {
    (
        count(&app.db.db, "SELECT COUNT(*) FROM api_tokens").await,
        count(
            &app.db.db,
            "SELECT COUNT(*) FROM users WHERE role = 'viewer' OR deactivated_at IS NOT NULL",
        )
        .await,
        count(
            &app.db.db,
            "SELECT COUNT(*) FROM organisations WHERE mfa_required OR NOT sso_jit",
        )
        .await,
        count(&app.db.db, "SELECT COUNT(*) FROM emergency_addresses").await
            + count(&app.db.db, "SELECT COUNT(*) FROM users").await
            + count(&app.db.db, "SELECT COUNT(*) FROM user_tokens").await,
    )
}

#[tokio::test]
async fn after_ten_minutes_every_dangerous_action_needs_a_fresh_password_and_changes_nothing() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "boss@contoso.example", "admin").await;
    let other = create_user(&app.db.db, "contoso", "eng@contoso.example", "engineer").await;
    let admin = sign_in(&app, "boss@contoso.example").await;

    // The sign-in itself is the proof for ten minutes.
    let res = app
        .json(
            "POST",
            "/api/v1/api-tokens",
            Some(&admin),
            dangerous(&other.id)[0].2.clone(),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());

    app.clock.advance_secs(ELEVEN_MINUTES);
    let before = state_of(&app).await;
    for (method, path, body) in dangerous(&other.id) {
        let res = app.json(method, &path, Some(&admin), body).await;
        assert_eq!(res.status, 401, "{method} {path}: {}", res.text());
        assert_eq!(
            res.json()["error"]["code"],
            "step_up_required",
            "{method} {path}"
        );
        assert!(res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("password"));
    }
    assert_eq!(
        state_of(&app).await,
        before,
        "a refused action changed something"
    );
    // Reading is not dangerous.
    assert_eq!(app.get_with("/api/v1/users", &admin).await.status, 200);

    // A user without a second factor proves it with the password; a code is not what is asked.
    let res = step_up(&app, &admin, json!({"code": "123456"})).await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert_eq!(res.json()["error"]["field"], "password");
    let res = step_up(&app, &admin, json!({"password": "wrong horse"})).await;
    assert_eq!(res.status, 401);
    assert_eq!(res.json()["error"]["code"], "invalid_password");
    let res = step_up(&app, &admin, json!({"password": PASSWORD})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let audit = count(
        &app.db.db,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'auth.stepped_up' AND details LIKE '%\"via\":\"password\"%'",
    )
    .await;
    assert_eq!(audit, 1);
    for (method, path, body) in dangerous(&other.id) {
        let res = app.json(method, &path, Some(&admin), body).await;
        assert!(
            res.status.is_success(),
            "{method} {path}: {} {}",
            res.status,
            res.text()
        );
    }

    // Ten minutes later it is needed again.
    app.clock.advance_secs(ELEVEN_MINUTES);
    let res = add_address(&app, &admin, "Depot").await;
    assert_eq!(res.json()["error"]["code"], "step_up_required");
}

#[tokio::test]
async fn a_user_with_an_authenticator_steps_up_with_a_code_not_the_password() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "boss@contoso.example", "admin").await;
    let first = sign_in(&app, "boss@contoso.example").await;
    let secret = enrol_totp(&app, &first).await.secret;
    // Setting up the authenticator proved a code: the session may act at once.
    let res = add_address(&app, &first, "HQ").await;
    assert_eq!(res.status, 201, "{}", res.text());

    app.clock.advance_secs(ELEVEN_MINUTES);
    let res = add_address(&app, &first, "Depot").await;
    assert_eq!(res.json()["error"]["code"], "step_up_required");
    assert!(res.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("authenticator"));

    let res = step_up(&app, &first, json!({"password": PASSWORD})).await;
    assert_eq!(res.status, 422);
    assert_eq!(res.json()["error"]["field"], "code");
    let wrong = support::wrong_totp_code(&secret, &app.clock);
    let res = step_up(&app, &first, json!({"code": wrong})).await;
    assert_eq!(res.status, 401);
    assert_eq!(res.json()["error"]["code"], "invalid_code");
    let res = step_up(
        &app,
        &first,
        json!({"code": totp_code(&secret, &app.clock, 0)}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = add_address(&app, &first, "Depot").await;
    assert_eq!(res.status, 201, "{}", res.text());
}

#[tokio::test]
async fn a_password_proof_from_before_the_authenticator_does_not_count() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "boss@contoso.example", "admin").await;
    // Two sessions signed in with the password alone; the second sets up an authenticator.
    let older = sign_in(&app, "boss@contoso.example").await;
    let newer = sign_in(&app, "boss@contoso.example").await;
    enrol_totp(&app, &newer).await;
    let res = add_address(&app, &older, "HQ").await;
    assert_eq!(res.status, 401, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "step_up_required");
}

#[tokio::test]
async fn wrong_step_up_secrets_end_the_session_at_the_fifth() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "boss@contoso.example", "admin").await;
    let admin = sign_in(&app, "boss@contoso.example").await;
    app.clock.advance_secs(ELEVEN_MINUTES);
    // Five wrong passwords at once: each is counted before it is checked.
    let tries = (0..5).map(|i| {
        app.json(
            "POST",
            "/api/v1/auth/step-up",
            Some(&admin),
            json!({"password": format!("wrong {i}")}),
        )
    });
    let answers = futures_util::future::join_all(tries).await;
    assert!(
        answers.iter().all(|r| r.status == 401),
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(answers
        .iter()
        .any(|r| r.json()["error"]["code"] == "session_ended"));
    let res = step_up(&app, &admin, json!({"password": PASSWORD})).await;
    assert_eq!(res.status, 401);
    assert_eq!(res.json()["error"]["code"], "unauthenticated");
}

#[tokio::test]
async fn api_tokens_need_no_step_up_and_staff_do() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "boss@contoso.example", "admin").await;
    let admin = sign_in(&app, "boss@contoso.example").await;
    let res = app
        .json(
            "POST",
            "/api/v1/api-tokens",
            Some(&admin),
            json!({"name": "automation", "scope": "read_write", "expires_in_days": 30}),
        )
        .await;
    let token = res.json()["secret"].as_str().unwrap().to_string();
    app.clock.advance_secs(ELEVEN_MINUTES);
    let res = bearer(
        &app,
        "POST",
        "/api/v1/emergency-addresses",
        &token,
        Some(address_body("HQ")),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());

    // Staff in the provider console: their sign-in (password + code) counts for ten minutes.
    let staff = support::api::staff_session(&app).await;
    let path = "/api/v1/provider/organisations/contoso/sso";
    let res = app
        .json("PUT", path, Some(&staff), json!({"enabled": true}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    app.clock.advance_secs(ELEVEN_MINUTES);
    let res = app
        .json("PUT", path, Some(&staff), json!({"enabled": false}))
        .await;
    assert_eq!(res.json()["error"]["code"], "step_up_required");
    assert_eq!(
        count(
            &app.db.db,
            "SELECT COUNT(*) FROM organisations WHERE sso_enabled"
        )
        .await,
        1
    );
}
