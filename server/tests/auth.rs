//! Password sign-in, the authenticator step, sessions and the protections around them.

// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use axum::{body::Body, http::Request};
use serde_json::json;
use support::{create_org, create_user, session_cookie, totp_code, TestApp, PASSWORD};

/// Enrols TOTP for a signed-in session; returns the base32 secret and the recovery codes.
async fn enrol(app: &TestApp, cookie: &str) -> (String, Vec<String>) {
    let enrolled = support::api::enrol_totp(app, cookie).await;
    (enrolled.secret, enrolled.recovery_codes)
}

async fn app_with_user() -> TestApp {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "alice@contoso.example", "admin").await;
    app
}

#[tokio::test]
async fn a_password_sign_in_sets_a_protected_cookie_and_me_answers() {
    let app = app_with_user().await;
    let (res, cookie) = app.login("Alice@Contoso.example", PASSWORD).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["status"], "signed_in");
    let set_cookie = res.header("set-cookie").unwrap();
    for attr in [
        "__Host-portal_session=",
        "Path=/",
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
    ] {
        assert!(set_cookie.contains(attr), "{set_cookie}");
    }
    let cookie = cookie.unwrap();
    let me = app.get_with("/api/v1/me", &cookie).await;
    assert_eq!(me.status, 200);
    let body = me.json();
    assert_eq!(body["user"]["email"], "alice@contoso.example");
    assert_eq!(body["user"]["role"], "admin");
    assert_eq!(body["user"]["staff"], false);
    assert_eq!(body["user"]["mfa_enabled"], false);
    assert_eq!(body["user"]["auth_method"], "password");
    assert_eq!(body["organisation"]["slug"], "contoso");
}

#[tokio::test]
async fn signed_out_me_is_401_unauthenticated() {
    let app = TestApp::new().await;
    let res = app.get("/api/v1/me").await;
    assert_eq!(res.status, 401);
    assert_eq!(res.json()["error"]["code"], "unauthenticated");
    let res = app
        .get_with("/api/v1/me", "__Host-portal_session=forged")
        .await;
    assert_eq!(res.status, 401);
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = app_with_user().await;
    let (a, ca) = app.login("nobody@contoso.example", PASSWORD).await;
    let (b, cb) = app
        .login("alice@contoso.example", "wrong password entirely")
        .await;
    assert_eq!(a.status, 401);
    assert_eq!(a.status, b.status);
    assert_eq!(a.body, b.body);
    assert_eq!(a.json()["error"]["code"], "invalid_credentials");
    assert!(ca.is_none() && cb.is_none());
}

#[tokio::test]
async fn a_password_is_never_truncated() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    let long = format!(
        "{}{}",
        "correct horse battery staple ".repeat(3),
        "tail one"
    );
    assert!(long.len() > 72);
    portal::accounts::create_user(
        &app.db.db,
        portal::accounts::Actor::CLI,
        portal::accounts::NewUserKind::Customer {
            org_slug: "contoso",
            role: "viewer",
        },
        "bob@contoso.example",
        Some(&long),
    )
    .await
    .unwrap();
    let same_prefix = format!("{}{}", &long[..72], "different tail");
    assert_eq!(
        app.login("bob@contoso.example", &same_prefix)
            .await
            .0
            .status,
        401
    );
    assert_eq!(app.login("bob@contoso.example", &long).await.0.status, 200);
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let app = app_with_user().await;
    let cookie = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let res = app
        .json("POST", "/api/v1/auth/logout", Some(&cookie), json!({}))
        .await;
    assert_eq!(res.status, 200);
    assert!(res.header("set-cookie").unwrap().contains("Max-Age=0"));
    // The old cookie, replayed, no longer works.
    assert_eq!(app.get_with("/api/v1/me", &cookie).await.status, 401);
}

#[tokio::test]
async fn an_api_mutation_with_no_credential_at_all_is_answered_401_not_403() {
    let app = app_with_user().await;
    for (method, path) in [
        ("POST", "/api/v1/ingest/calls"),
        ("POST", "/api/v1/api-tokens"),
        ("DELETE", "/api/v1/me/sessions/x"),
    ] {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap();
        let res = app.send(req).await;
        assert_eq!(res.status, 401, "{method} {path}: {}", res.text());
        assert_eq!(res.json()["error"]["code"], "unauthenticated");
    }
}

#[tokio::test]
async fn a_method_the_api_does_not_have_is_405_before_any_csrf_refusal() {
    let app = app_with_user().await;
    for (method, path, status) in [
        ("PUT", "/api/v1/auth/login", 405),
        ("DELETE", "/api/v1/auth/password-reset", 405),
        ("POST", "/api/v1/no-such-thing", 404),
    ] {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("cookie", "__Host-portal_session=x")
            .body(Body::empty())
            .unwrap();
        let res = app.send(req).await;
        assert_eq!(res.status, status, "{method} {path}: {}", res.text());
    }
    // A method it has is still refused without the same-origin proof.
    let req = Request::post("/api/v1/auth/login")
        .header("cookie", "__Host-portal_session=x")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.status, 403);
}

#[tokio::test]
async fn mutations_without_same_origin_proof_are_refused() {
    let app = app_with_user().await;
    let body = json!({"email": "alice@contoso.example", "password": PASSWORD}).to_string();
    let no_origin = Request::post("/api/v1/auth/login")
        .header("content-type", "application/json")
        .body(Body::from(body.clone()))
        .unwrap();
    let res = app.send(no_origin).await;
    assert_eq!(res.status, 403);
    assert_eq!(res.json()["error"]["code"], "csrf");

    let foreign = Request::post("/api/v1/auth/login")
        .header("content-type", "application/json")
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(body.clone()))
        .unwrap();
    assert_eq!(app.send(foreign).await.status, 403);

    let fetch_metadata = Request::post("/api/v1/auth/login")
        .header("content-type", "application/json")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))
        .unwrap();
    assert_eq!(app.send(fetch_metadata).await.status, 200);
}

#[tokio::test]
async fn idle_and_absolute_timeouts_end_sessions() {
    let app = app_with_user().await;
    let cookie = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    app.clock.advance_secs(1799);
    assert_eq!(app.get_with("/api/v1/me", &cookie).await.status, 200);
    app.clock.advance_secs(1801);
    assert_eq!(
        app.get_with("/api/v1/me", &cookie).await.status,
        401,
        "idle for 30 min"
    );

    // Active all the time, it still ends after 12 hours.
    let cookie = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    for _ in 0..(12 * 60 / 20 - 1) {
        app.clock.advance_secs(20 * 60);
        assert_eq!(app.get_with("/api/v1/me", &cookie).await.status, 200);
    }
    app.clock.advance_secs(20 * 60);
    assert_eq!(
        app.get_with("/api/v1/me", &cookie).await.status,
        401,
        "12 hours after sign-in"
    );
}

#[tokio::test]
async fn totp_sign_in_rotates_the_session_and_refuses_replay() {
    let app = app_with_user().await;
    let cookie = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let (secret, codes) = enrol(&app, &cookie).await;
    assert_eq!(codes.len(), 10);
    assert_eq!(
        app.get_with("/api/v1/me", &cookie).await.json()["user"]["mfa_enabled"],
        true
    );

    // Next sign-in waits for a code; the pending session reaches nothing else.
    app.clock.advance_secs(60);
    let (res, pending) = app.login("alice@contoso.example", PASSWORD).await;
    assert_eq!(res.json()["status"], "mfa_required");
    let pending = pending.unwrap();
    let me = app.get_with("/api/v1/me", &pending).await;
    assert_eq!(me.status, 401);
    assert_eq!(me.json()["error"]["code"], "mfa_required");
    assert_eq!(
        app.get_with("/api/v1/me/sessions", &pending).await.status,
        401
    );

    let code = totp_code(&secret, &app.clock, 0);
    let res = app
        .json(
            "POST",
            "/api/v1/auth/mfa",
            Some(&pending),
            json!({"code": code}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let full = session_cookie(&res).unwrap();
    assert_ne!(full, pending, "the session id changes when MFA passes");
    assert_eq!(
        app.get_with("/api/v1/me", &pending).await.status,
        401,
        "the pending id is gone"
    );
    let me = app.get_with("/api/v1/me", &full).await.json();
    assert_eq!(me["user"]["auth_method"], "password+totp");

    // The same code (same time step) cannot be used again.
    let pending2 = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let res = app
        .json(
            "POST",
            "/api/v1/auth/mfa",
            Some(&pending2),
            json!({"code": code}),
        )
        .await;
    assert_eq!(res.status, 401);
    assert_eq!(res.json()["error"]["code"], "invalid_code");
}

#[tokio::test]
async fn codes_are_accepted_one_step_either_side() {
    let app = app_with_user().await;
    let cookie = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let (secret, _) = enrol(&app, &cookie).await;
    for (offset, expected) in [(-2, 401), (2, 401), (-1, 200)] {
        app.clock.advance_secs(120);
        let pending = app
            .login("alice@contoso.example", PASSWORD)
            .await
            .1
            .unwrap();
        let code = totp_code(&secret, &app.clock, offset);
        let res = app
            .json(
                "POST",
                "/api/v1/auth/mfa",
                Some(&pending),
                json!({"code": code}),
            )
            .await;
        assert_eq!(res.status, expected, "offset {offset}: {}", res.text());
    }
    app.clock.advance_secs(120);
    let pending = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let res = app
        .json(
            "POST",
            "/api/v1/auth/mfa",
            Some(&pending),
            json!({"code": totp_code(&secret, &app.clock, 1)}),
        )
        .await;
    assert_eq!(res.status, 200, "offset +1");
}

#[tokio::test]
async fn two_parallel_submissions_of_one_code_give_one_success() {
    let app = app_with_user().await;
    let cookie = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let (secret, _) = enrol(&app, &cookie).await;
    app.clock.advance_secs(60);
    let p1 = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let p2 = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let code = totp_code(&secret, &app.clock, 0);
    let (a, b) = tokio::join!(
        app.json("POST", "/api/v1/auth/mfa", Some(&p1), json!({"code": code})),
        app.json("POST", "/api/v1/auth/mfa", Some(&p2), json!({"code": code})),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 401]);
}

#[tokio::test]
async fn five_wrong_codes_drop_the_pending_sign_in() {
    let app = app_with_user().await;
    let cookie = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let (secret, _) = enrol(&app, &cookie).await;
    app.clock.advance_secs(60);
    let pending = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    for i in 1..=5 {
        let res = app
            .json(
                "POST",
                "/api/v1/auth/mfa",
                Some(&pending),
                json!({"code": "000000"}),
            )
            .await;
        assert_eq!(res.status, 401);
        let expected = if i < 5 { "invalid_code" } else { "mfa_expired" };
        assert_eq!(res.json()["error"]["code"], expected, "attempt {i}");
    }
    let good = totp_code(&secret, &app.clock, 0);
    let res = app
        .json(
            "POST",
            "/api/v1/auth/mfa",
            Some(&pending),
            json!({"code": good}),
        )
        .await;
    assert_eq!(
        res.json()["error"]["code"],
        "mfa_expired",
        "the password is needed again"
    );
}

#[tokio::test]
async fn a_pending_sign_in_expires_after_five_minutes() {
    let app = app_with_user().await;
    let cookie = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let (secret, _) = enrol(&app, &cookie).await;
    app.clock.advance_secs(60);
    let pending = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    app.clock.advance_secs(301);
    let res = app
        .json(
            "POST",
            "/api/v1/auth/mfa",
            Some(&pending),
            json!({"code": totp_code(&secret, &app.clock, 0)}),
        )
        .await;
    assert_eq!(res.status, 401);
    assert_eq!(res.json()["error"]["code"], "mfa_expired");
}

#[tokio::test]
async fn a_recovery_code_works_once_and_says_how_many_remain() {
    let app = app_with_user().await;
    let cookie = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let (_, codes) = enrol(&app, &cookie).await;
    let pending = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let res = app
        .json(
            "POST",
            "/api/v1/auth/mfa",
            Some(&pending),
            json!({"code": codes[3].to_uppercase()}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["recovery_codes_remaining"], 9);
    let pending = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let res = app
        .json(
            "POST",
            "/api/v1/auth/mfa",
            Some(&pending),
            json!({"code": codes[3]}),
        )
        .await;
    assert_eq!(res.status, 401);
}

#[tokio::test]
async fn ten_wrong_passwords_block_the_account_with_retry_after() {
    let app = app_with_user().await;
    for _ in 0..10 {
        assert_eq!(
            app.login("alice@contoso.example", "not the password at all")
                .await
                .0
                .status,
            401
        );
    }
    let (res, cookie) = app.login("alice@contoso.example", PASSWORD).await;
    assert_eq!(res.status, 429, "even the right password waits");
    assert!(cookie.is_none());
    assert_eq!(res.json()["error"]["code"], "rate_limited");
    let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Never permanent: after the wait, the right password works.
    app.clock.advance_secs(61);
    assert_eq!(
        app.login("alice@contoso.example", PASSWORD).await.0.status,
        200
    );
    let blocked: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.rate_limited'")
            .fetch_one(app.db.db.pool())
            .await
            .unwrap();
    assert_eq!(blocked, 1);
}

#[tokio::test]
async fn an_organisation_can_require_enrolment_before_anything_else() {
    let app = TestApp::new().await;
    let org_id = create_org(&app.db.db, "contoso").await;
    portal::db::orgs::set_mfa_required(app.db.db.pool(), &org_id, true)
        .await
        .unwrap();
    create_user(&app.db.db, "contoso", "carol@contoso.example", "viewer").await;
    let (res, cookie) = app.login("carol@contoso.example", PASSWORD).await;
    assert_eq!(res.json()["status"], "mfa_enrolment_required");
    let cookie = cookie.unwrap();
    let me = app.get_with("/api/v1/me", &cookie).await;
    assert_eq!(me.json()["error"]["code"], "mfa_enrolment_required");
    // Pages other than Security send the user to enrol.
    let page = app.get_with("/", &cookie).await;
    assert_eq!(page.status, 303);
    assert!(page
        .header("location")
        .unwrap()
        .starts_with("/security?enrol=required"));

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
    let full = session_cookie(&res).expect("enrolment finishes the sign-in with a new session id");
    assert_ne!(full, cookie);
    assert_eq!(app.get_with("/api/v1/me", &full).await.status, 200);
}

#[tokio::test]
async fn users_see_and_revoke_their_own_sessions_only() {
    let app = app_with_user().await;
    create_user(&app.db.db, "contoso", "dave@contoso.example", "viewer").await;
    let a1 = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let a2 = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let d1 = app.login("dave@contoso.example", PASSWORD).await.1.unwrap();

    let list = app.get_with("/api/v1/me/sessions", &a1).await.json();
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let other = sessions.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let dave_session = app.get_with("/api/v1/me/sessions", &d1).await.json()["sessions"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .json(
            "DELETE",
            &format!("/api/v1/me/sessions/{dave_session}"),
            Some(&a1),
            json!({}),
        )
        .await;
    assert_eq!(res.status, 404, "another user's session is not found");
    assert_eq!(app.get_with("/api/v1/me", &d1).await.status, 200);

    let res = app
        .json(
            "DELETE",
            &format!("/api/v1/me/sessions/{other}"),
            Some(&a1),
            json!({}),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(app.get_with("/api/v1/me", &a2).await.status, 401);
    assert_eq!(app.get_with("/api/v1/me", &a1).await.status, 200);
}

#[tokio::test]
async fn turning_mfa_off_needs_the_password_and_a_code() {
    let app = app_with_user().await;
    let cookie = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let (secret, _) = enrol(&app, &cookie).await;
    app.clock.advance_secs(60);
    let code = totp_code(&secret, &app.clock, 0);
    let res = app
        .json(
            "DELETE",
            "/api/v1/me/mfa/totp",
            Some(&cookie),
            json!({"password": "wrong wrong wrong", "code": code}),
        )
        .await;
    assert_eq!(res.json()["error"]["code"], "invalid_password");
    let res = app
        .json(
            "DELETE",
            "/api/v1/me/mfa/totp",
            Some(&cookie),
            json!({"password": PASSWORD, "code": "123456"}),
        )
        .await;
    assert_eq!(res.json()["error"]["code"], "invalid_code");
    let res = app
        .json(
            "DELETE",
            "/api/v1/me/mfa/totp",
            Some(&cookie),
            json!({"password": PASSWORD, "code": code}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        app.login("alice@contoso.example", PASSWORD).await.0.json()["status"],
        "signed_in"
    );
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE action LIKE 'mfa.%' ORDER BY id")
            .fetch_all(app.db.db.pool())
            .await
            .unwrap();
    assert_eq!(
        actions,
        ["mfa.enrolment_started", "mfa.enabled", "mfa.disabled"]
    );
}

#[tokio::test]
async fn signed_out_page_visits_go_to_sign_in_and_come_back() {
    let app = TestApp::new().await;
    let res = app.get("/security?tab=sessions").await;
    assert_eq!(res.status, 303);
    assert_eq!(
        res.header("location"),
        Some("/login?return_to=%2Fsecurity%3Ftab%3Dsessions")
    );
    assert_eq!(app.get("/login").await.status, 200);
}

#[tokio::test]
async fn pages_carry_a_nonce_csp_and_every_response_the_baseline_headers() {
    let app = app_with_user().await;
    let page = app.get("/login").await;
    let csp = page.header("content-security-policy").unwrap().to_string();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(
        page.text().contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the nonce"
    );
    assert!(!csp.contains("unsafe-inline"));
    assert!(csp.contains("frame-ancestors 'none'"));
    let other = app.get("/login").await;
    assert_ne!(
        other.header("content-security-policy").unwrap(),
        csp,
        "a new nonce per response"
    );

    let api = app.get("/api/v1/me").await;
    assert_eq!(api.header("x-content-type-options"), Some("nosniff"));
    assert!(api.header("referrer-policy").is_some());
    assert!(api
        .header("content-security-policy")
        .unwrap()
        .contains("default-src 'none'"));
    assert!(
        api.header("strict-transport-security").is_none(),
        "no HSTS over http"
    );

    let https = TestApp::with_args(&["--public-url", "https://portal.example.com"]).await;
    assert!(https
        .get("/healthz")
        .await
        .header("strict-transport-security")
        .is_some());
}

#[tokio::test]
async fn housekeeping_removes_only_stale_rows() {
    let app = app_with_user().await;
    let live = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    app.clock.advance_secs(1000);
    let fresh = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    app.clock.advance_secs(900);
    // `live` has been idle for 1900 s (> 1800), `fresh` for 900 s.
    let removed = portal::housekeeping::run_once(&app.state).await.unwrap();
    assert_eq!(removed, 1);
    assert_eq!(app.get_with("/api/v1/me", &fresh).await.status, 200);
    assert_eq!(app.get_with("/api/v1/me", &live).await.status, 401);
}

#[tokio::test]
async fn a_session_ended_by_another_instance_stops_working_within_the_cache_lifetime() {
    let app = app_with_user().await;
    let cookie = app
        .login("alice@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    assert_eq!(app.get_with("/api/v1/me", &cookie).await.status, 200);
    // Another instance signs the session out: only the database changes.
    sqlx::query("DELETE FROM sessions")
        .execute(app.db.db.pool())
        .await
        .unwrap();
    app.clock
        .advance_secs(portal::auth::session_cache::TTL_MS / 1000);
    assert_eq!(app.get_with("/api/v1/me", &cookie).await.status, 401);
}
