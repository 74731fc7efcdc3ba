//! Invitations, password resets and password changes: single-use emailed links, stored hashed,
//! expiring, and never a way around MFA.

// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::{create_org, create_user, totp_code, TestApp, PASSWORD};

/// The newest link to this portal in the development outbox.
async fn last_link(app: &TestApp, path_prefix: &str) -> String {
    let messages = support::outbox(app).await;
    let body = &messages.first().expect("a message was sent").body;
    let start = body.find(path_prefix).expect("the message has the link");
    body[start..].split_whitespace().next().unwrap().to_string()
}

async fn token_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM user_tokens")
        .fetch_one(app.db.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn an_admin_invites_and_the_invitee_sets_a_password_once() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    let admin = app
        .login("admin@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();

    let res = app
        .json(
            "POST",
            "/api/v1/users/invitations",
            Some(&admin),
            json!({"email": "New.Person@contoso.example", "role": "engineer"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let link = last_link(&app, "http://localhost:3000/invite/").await;
    let token = link.rsplit('/').next().unwrap().to_string();
    // Only the hash is stored.
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM user_tokens")
        .fetch_one(app.db.db.pool())
        .await
        .unwrap();
    assert_ne!(stored, token);

    let info = app.get(&format!("/api/v1/auth/invitations/{token}")).await;
    assert_eq!(info.status, 200);
    assert_eq!(info.json()["email"], "New.Person@contoso.example");
    assert_eq!(info.json()["organisation"], "Org contoso");

    // The invitee cannot sign in before choosing a password.
    assert_eq!(
        app.login("new.person@contoso.example", PASSWORD)
            .await
            .0
            .status,
        401
    );
    let weak = app
        .json(
            "POST",
            &format!("/api/v1/auth/invitations/{token}/accept"),
            None,
            json!({"password": "password1234"}),
        )
        .await;
    assert_eq!(weak.status, 422);
    assert_eq!(weak.json()["error"]["code"], "weak_password");
    let ok = app
        .json(
            "POST",
            &format!("/api/v1/auth/invitations/{token}/accept"),
            None,
            json!({"password": "quiet harbour lantern 42"}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    let again = app
        .json(
            "POST",
            &format!("/api/v1/auth/invitations/{token}/accept"),
            None,
            json!({"password": "another harbour lantern 43"}),
        )
        .await;
    assert_eq!(again.status, 404);
    assert_eq!(again.json()["error"]["code"], "invalid_link");

    let (res, cookie) = app
        .login("new.person@contoso.example", "quiet harbour lantern 42")
        .await;
    assert_eq!(res.status, 200);
    let me = app.get_with("/api/v1/me", &cookie.unwrap()).await.json();
    assert_eq!(me["user"]["role"], "engineer");
}

#[tokio::test]
async fn only_admins_invite_and_taken_emails_are_refused() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    create_user(&app.db.db, "contoso", "viewer@contoso.example", "viewer").await;
    let viewer = app
        .login("viewer@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let res = app
        .json(
            "POST",
            "/api/v1/users/invitations",
            Some(&viewer),
            json!({"email": "x@contoso.example", "role": "viewer"}),
        )
        .await;
    assert_eq!(res.status, 403);
    let admin = app
        .login("admin@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let res = app
        .json(
            "POST",
            "/api/v1/users/invitations",
            Some(&admin),
            json!({"email": "viewer@contoso.example", "role": "viewer"}),
        )
        .await;
    assert_eq!(res.status, 409);
    assert_eq!(res.json()["error"]["field"], "email");
    let res = app
        .json(
            "POST",
            "/api/v1/users/invitations",
            Some(&admin),
            json!({"email": "y@contoso.example", "role": "owner"}),
        )
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(token_count(&app).await, 0);
}

#[tokio::test]
async fn a_reset_link_works_once_within_30_minutes_and_ends_sessions() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "alice@contoso.example", "admin").await;
    let old_session = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();

    // The same answer for an address without an account, and no mail.
    let unknown = app
        .json(
            "POST",
            "/api/v1/auth/password-reset",
            None,
            json!({"email": "nobody@contoso.example"}),
        )
        .await;
    let before = support::outbox(&app).await.len();
    let known = app
        .json(
            "POST",
            "/api/v1/auth/password-reset",
            None,
            json!({"email": "alice@contoso.example"}),
        )
        .await;
    assert_eq!(unknown.status, 202);
    assert_eq!(
        (unknown.status, unknown.body.clone()),
        (known.status, known.body.clone())
    );
    // The link is made and mailed after the answer.
    let token = support::next_link_token(&app, before, "/reset-password/").await;
    assert_eq!(token_count(&app).await, 1);
    app.clock.advance_secs(29 * 60);
    let res = app
        .json(
            "POST",
            &format!("/api/v1/auth/password-reset/{token}"),
            None,
            json!({"password": "fresh meadow compass 77"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        app.get_with("/api/v1/me", &old_session).await.status,
        401,
        "every session ends"
    );
    assert_eq!(
        app.login("alice@contoso.example", PASSWORD).await.0.status,
        401
    );
    assert_eq!(
        app.login("alice@contoso.example", "fresh meadow compass 77")
            .await
            .0
            .status,
        200
    );
    let reused = app
        .json(
            "POST",
            &format!("/api/v1/auth/password-reset/{token}"),
            None,
            json!({"password": "other meadow compass 78"}),
        )
        .await;
    assert_eq!(reused.status, 404);

    // A link older than 30 minutes does nothing.
    let before = support::outbox(&app).await.len();
    app.json(
        "POST",
        "/api/v1/auth/password-reset",
        None,
        json!({"email": "alice@contoso.example"}),
    )
    .await;
    let token = support::next_link_token(&app, before, "/reset-password/").await;
    app.clock.advance_secs(30 * 60 + 1);
    let late = app
        .json(
            "POST",
            &format!("/api/v1/auth/password-reset/{token}"),
            None,
            json!({"password": "late meadow compass 79"}),
        )
        .await;
    assert_eq!(late.status, 404);
    assert_eq!(
        app.login("alice@contoso.example", "fresh meadow compass 77")
            .await
            .0
            .status,
        200
    );
}

#[tokio::test]
async fn a_reset_never_bypasses_mfa() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "alice@contoso.example", "admin").await;
    let cookie = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let res = app
        .json(
            "POST",
            "/api/v1/me/mfa/totp",
            Some(&cookie),
            json!({"password": PASSWORD}),
        )
        .await;
    let secret = res.json()["secret"].as_str().unwrap().to_string();
    let res = app
        .json(
            "POST",
            "/api/v1/me/mfa/totp/confirm",
            Some(&cookie),
            json!({"code": totp_code(&secret, &app.clock, 0)}),
        )
        .await;
    assert_eq!(res.status, 200);

    let before = support::outbox(&app).await.len();
    app.json(
        "POST",
        "/api/v1/auth/password-reset",
        None,
        json!({"email": "alice@contoso.example"}),
    )
    .await;
    let token = support::next_link_token(&app, before, "/reset-password/").await;
    let res = app
        .json(
            "POST",
            &format!("/api/v1/auth/password-reset/{token}"),
            None,
            json!({"password": "fresh meadow compass 77"}),
        )
        .await;
    assert_eq!(res.status, 200);
    let (res, _) = app
        .login("alice@contoso.example", "fresh meadow compass 77")
        .await;
    assert_eq!(res.json()["status"], "mfa_required");
}

#[tokio::test]
async fn reset_requests_are_rate_limited_per_account() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "alice@contoso.example", "admin").await;
    for _ in 0..5 {
        let res = app
            .json(
                "POST",
                "/api/v1/auth/password-reset",
                None,
                json!({"email": "alice@contoso.example"}),
            )
            .await;
        assert_eq!(res.status, 202);
    }
    let res = app
        .json(
            "POST",
            "/api/v1/auth/password-reset",
            None,
            json!({"email": "alice@contoso.example"}),
        )
        .await;
    assert_eq!(res.status, 429);
    assert!(res.header("retry-after").is_some());
}

#[tokio::test]
async fn changing_the_password_ends_every_other_session() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "alice@contoso.example", "admin").await;
    let here = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let elsewhere = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let wrong = app
        .json("POST", "/api/v1/me/password", Some(&here), json!({"current_password": "nope nope nope", "new_password": "fresh meadow compass 77"}))
        .await;
    assert_eq!(wrong.json()["error"]["code"], "invalid_password");
    let res = app
        .json(
            "POST",
            "/api/v1/me/password",
            Some(&here),
            json!({"current_password": PASSWORD, "new_password": "fresh meadow compass 77"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(app.get_with("/api/v1/me", &here).await.status, 200);
    assert_eq!(app.get_with("/api/v1/me", &elsewhere).await.status, 401);
}

#[tokio::test]
async fn the_development_outbox_lists_sent_mail() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "alice@contoso.example", "admin").await;
    app.json(
        "POST",
        "/api/v1/auth/password-reset",
        None,
        json!({"email": "alice@contoso.example"}),
    )
    .await;
    support::next_link_token(&app, 0, "/reset-password/").await;
    let page = app.get("/dev/outbox").await;
    assert_eq!(page.status, 200);
    assert!(page
        .text()
        .contains("Reset your Voice Customer Portal password"));
    assert!(page
        .text()
        .contains("<a href=\"http://localhost:3000/reset-password/"));
}

#[tokio::test]
async fn invitations_go_out_by_smtp_and_a_refused_mail_creates_nothing() {
    let (port, mut inbox) = support::fake_smtp(false, std::time::Duration::ZERO).await;
    let url = format!("smtp://127.0.0.1:{port}");
    let app = TestApp::with_args(&["--smtp-url", &url]).await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    let admin = app
        .login("admin@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let res = app
        .json(
            "POST",
            "/api/v1/users/invitations",
            Some(&admin),
            json!({"email": "new@contoso.example", "role": "viewer"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let message = tokio::time::timeout(std::time::Duration::from_secs(10), inbox.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(message.contains("To: new@contoso.example"), "{message}");
    assert!(message.contains("/invite/"), "{message}");

    let (port, _inbox) = support::fake_smtp(true, std::time::Duration::ZERO).await;
    let url = format!("smtp://127.0.0.1:{port}");
    let app = TestApp::with_args(&["--smtp-url", &url]).await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    let admin = app
        .login("admin@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let invite = json!({"email": "new@contoso.example", "role": "viewer"});
    let res = app
        .json(
            "POST",
            "/api/v1/users/invitations",
            Some(&admin),
            invite.clone(),
        )
        .await;
    assert_eq!(res.status, 502, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "mail_unavailable");
    let left: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE login_email = 'new@contoso.example'")
            .fetch_one(app.db.db.pool())
            .await
            .unwrap();
    assert_eq!(left, 0, "nothing half-created");
    // A password reset answers the same whether or not the mail went out.
    let res = app
        .json(
            "POST",
            "/api/v1/auth/password-reset",
            None,
            json!({"email": "admin@contoso.example"}),
        )
        .await;
    assert!(res.status.is_success(), "{}", res.text());
}

/// The median of some durations.
fn median(mut times: Vec<std::time::Duration>) -> std::time::Duration {
    times.sort();
    times[times.len() / 2]
}

#[tokio::test]
async fn a_reset_request_takes_the_same_time_with_or_without_an_account() {
    // A slow mail server: an answer that waited for the mail (or for anything else only an
    // existing account causes) would tell who has an account.
    let slow = std::time::Duration::from_millis(400);
    let (port, mut inbox) = support::fake_smtp(false, slow).await;
    let app = TestApp::with_args(&["--smtp-url", &format!("smtp://127.0.0.1:{port}")]).await;
    create_org(&app.db.db, "contoso").await;
    for i in 0..4 {
        create_user(
            &app.db.db,
            "contoso",
            &format!("user{i}@contoso.example"),
            "viewer",
        )
        .await;
    }
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..8 {
        for (email, times) in [
            (format!("user{}@contoso.example", i % 4), &mut known),
            (format!("nobody{i}@contoso.example"), &mut unknown),
        ] {
            let started = std::time::Instant::now();
            let res = app
                .json(
                    "POST",
                    "/api/v1/auth/password-reset",
                    None,
                    json!({"email": email}),
                )
                .await;
            times.push(started.elapsed());
            assert_eq!(res.status, 202, "{}", res.text());
        }
    }
    let (known, unknown) = (median(known), median(unknown));
    let difference = known.abs_diff(unknown);
    assert!(
        difference < std::time::Duration::from_millis(150),
        "known {known:?}, unknown {unknown:?}"
    );
    assert!(
        known < slow,
        "the answer waited for the mail server: {known:?}"
    );
    // Every known address still gets its mail.
    for _ in 0..8 {
        let message = tokio::time::timeout(std::time::Duration::from_secs(20), inbox.recv())
            .await
            .expect("the reset mail arrives")
            .unwrap();
        assert!(message.contains("/reset-password/"), "{message}");
    }
}
