//! The limits around second factors and re-entered secrets, under concurrency and over time:
//! carrier staff must have an authenticator; the code step and the password or code behind a
//! sensitive change are bounded before any secret is compared (a pause injected between the
//! bound and the comparison shows it), a right answer steps up once, and 100 wrong codes in a
//! row lock the code step until a password reset or an administrator clears it.

// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use axum::{body::Body, http::Request};
use serde_json::{json, Value};
use sqlx::Row;
use support::{
    api::{enrol_totp, new_staff_session, sign_in, Enrolled},
    create_org, create_staff, create_user, totp_code, wrong_totp_code, TestApp, TestResponse,
    ORIGIN, PASSWORD,
};

const ALICE: &str = "alice@contoso.example";

/// An app with Contoso's admin Alice, whose authenticator is set up.
async fn app_with_mfa_user() -> (TestApp, Enrolled) {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", ALICE, "admin").await;
    let cookie = sign_in(&app, ALICE).await;
    let enrolled = enrol_totp(&app, &cookie).await;
    (app, enrolled)
}

/// A sign-in of Alice that waits for its code: the pending session's cookie.
async fn pending_sign_in(app: &TestApp) -> String {
    let (res, cookie) = app.login(ALICE, PASSWORD).await;
    assert_eq!(res.json()["status"], "mfa_required", "{}", res.text());
    cookie.unwrap()
}

/// A same-origin JSON request, as a `'static` future (for spawning many at once).
fn request(method: &str, path: &str, cookie: &str, body: Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .header("origin", ORIGIN)
        .header("cookie", cookie)
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Sends all `requests` at once; returns the answers.
async fn all_at_once(app: &TestApp, requests: Vec<Request<Body>>) -> Vec<TestResponse> {
    let mut set = tokio::task::JoinSet::new();
    for req in requests {
        let router = app.router.clone();
        set.spawn(async move { support::send(router, req).await });
    }
    let mut answers = Vec::new();
    while let Some(answer) = set.join_next().await {
        answers.push(answer.unwrap());
    }
    answers
}

fn codes_of(answers: &[TestResponse]) -> Vec<String> {
    answers
        .iter()
        .map(|a| {
            format!(
                "{} {}",
                a.status,
                a.json()["error"]["code"].as_str().unwrap_or("ok")
            )
        })
        .collect()
}

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(app.db.db.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

/// Sends a code to complete the sign-in behind `cookie`.
async fn submit_code(app: &TestApp, cookie: Option<&str>, code: &str) -> TestResponse {
    app.json("POST", "/api/v1/auth/mfa", cookie, json!({"code": code}))
        .await
}

#[tokio::test]
async fn carrier_staff_must_set_up_an_authenticator_and_can_never_turn_it_off() {
    let app = TestApp::new().await;
    create_staff(&app.db.db, "noc@carrier.example").await;

    // The password alone is not a sign-in: the session may only set up the authenticator.
    let (res, cookie) = app.login("noc@carrier.example", PASSWORD).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["status"], "mfa_enrolment_required");
    let cookie = cookie.unwrap();
    let me = app.get_with("/api/v1/me", &cookie).await;
    assert_eq!(me.status, 401);
    assert_eq!(me.json()["error"]["code"], "mfa_enrolment_required");
    let console = app
        .get_with("/api/v1/provider/organisations", &cookie)
        .await;
    assert_eq!(console.status, 401, "{}", console.text());

    let enrolled = enrol_totp(&app, &cookie).await;
    assert_ne!(
        enrolled.cookie, cookie,
        "finishing the enrolment is a step up"
    );
    let me = app.get_with("/api/v1/me", &enrolled.cookie).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["user"]["mfa_enabled"], true);
    assert_eq!(me.json()["user"]["staff"], true);

    // The authenticator cannot be turned off, even with the password and a right code.
    let code = totp_code(&enrolled.secret, &app.clock, 0);
    let res = app
        .json(
            "DELETE",
            "/api/v1/me/mfa/totp",
            Some(&enrolled.cookie),
            json!({"password": PASSWORD, "code": code}),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "mfa_required_for_staff");

    // The next sign-in asks for the code.
    let (res, _) = app.login("noc@carrier.example", PASSWORD).await;
    assert_eq!(res.json()["status"], "mfa_required");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_codes_are_checked_at_most_five_times_per_sign_in() {
    let (app, enrolled) = app_with_mfa_user().await;
    let pending = pending_sign_in(&app).await;
    // Every request waits between taking its attempt and comparing the code: a limit that
    // counted failures only after comparing would let all of them through.
    app.state
        .faults
        .set_secret_check_pause(Duration::from_millis(300));
    let before = app.state.faults.secret_checks();
    let wrong = wrong_totp_code(&enrolled.secret, &app.clock);
    let requests = (0..30)
        .map(|_| request("POST", "/api/v1/auth/mfa", &pending, json!({"code": wrong})))
        .collect();
    let answers = all_at_once(&app, requests).await;
    let checked = app.state.faults.secret_checks() - before;
    assert!(checked <= 5, "{checked} codes were compared");
    assert!(
        answers.iter().all(|a| a.status == 401),
        "{:?}",
        codes_of(&answers)
    );
    // The pending sign-in is gone: even the right code cannot finish it now.
    app.state.faults.set_secret_check_pause(Duration::ZERO);
    let right = totp_code(&enrolled.secret, &app.clock, 0);
    let res = submit_code(&app, Some(pending.as_str()), &right).await;
    assert_eq!(res.status, 401);
    assert_eq!(res.json()["error"]["code"], "mfa_expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_codes_across_sign_ins_are_checked_at_most_twenty_times() {
    let (app, enrolled) = app_with_mfa_user().await;
    let mut pendings = Vec::new();
    for _ in 0..6 {
        pendings.push(pending_sign_in(&app).await);
    }
    app.state
        .faults
        .set_secret_check_pause(Duration::from_millis(300));
    let before = app.state.faults.secret_checks();
    let wrong = wrong_totp_code(&enrolled.secret, &app.clock);
    // 6 sign-ins × 5 attempts = 30 > the account's 20 wrong codes in 15 minutes.
    let requests = pendings
        .iter()
        .flat_map(|p| {
            (0..5).map(|_| request("POST", "/api/v1/auth/mfa", p, json!({"code": wrong})))
        })
        .collect();
    let answers = all_at_once(&app, requests).await;
    let checked = app.state.faults.secret_checks() - before;
    assert!(checked <= 20, "{checked} codes were compared");
    assert!(
        answers.iter().any(|a| a.status == 429),
        "{:?}",
        codes_of(&answers)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_right_codes_at_once_finish_one_sign_in_once() {
    let (app, enrolled) = app_with_mfa_user().await;
    let pending = pending_sign_in(&app).await;
    app.state
        .faults
        .set_secret_check_pause(Duration::from_millis(200));
    // Two different recovery codes: both are right, but the sign-in may step up only once.
    let requests = enrolled.recovery_codes[..2]
        .iter()
        .map(|c| request("POST", "/api/v1/auth/mfa", &pending, json!({"code": c})))
        .collect();
    let answers = all_at_once(&app, requests).await;
    let ok: Vec<_> = answers.iter().filter(|a| a.status == 200).collect();
    assert_eq!(ok.len(), 1, "{:?}", codes_of(&answers));
    let full_sessions: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE u.login_email = $1 AND s.state = 'full'",
    )
    .bind(ALICE)
    .fetch_one(app.db.db.pool())
    .await
    .unwrap()
    .try_get("n")
    .unwrap();
    // The enrolment's own session plus exactly one from this sign-in.
    assert_eq!(full_sessions, 2);
}

/// Enters `n` wrong codes for Alice, signing in again whenever a sign-in is dropped and
/// moving the clock past the 15-minute window whenever the account's window fills.
async fn wrong_codes(app: &TestApp, secret: &str, n: usize) -> TestResponse {
    let mut pending = pending_sign_in(app).await;
    let mut in_window = 0;
    let mut last = None;
    for i in 0..n {
        if in_window == 20 {
            app.clock.advance_secs(16 * 60);
            in_window = 0;
            pending = pending_sign_in(app).await;
        } else if i > 0 && i % 5 == 0 {
            pending = pending_sign_in(app).await;
        }
        let res = submit_code(
            app,
            Some(pending.as_str()),
            &wrong_totp_code(secret, &app.clock),
        )
        .await;
        assert_eq!(res.status, 401, "wrong code {}: {}", i + 1, res.text());
        in_window += 1;
        last = Some(res);
    }
    last.unwrap()
}

#[tokio::test]
async fn a_hundred_wrong_codes_in_a_row_lock_the_code_step_until_a_password_reset() {
    let (app, enrolled) = app_with_mfa_user().await;
    // A right code in between starts the count again.
    wrong_codes(&app, &enrolled.secret, 60).await;
    app.clock.advance_secs(16 * 60);
    let pending = pending_sign_in(&app).await;
    let res = submit_code(
        &app,
        Some(pending.as_str()),
        &totp_code(&enrolled.secret, &app.clock, 0),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    app.clock.advance_secs(16 * 60);
    wrong_codes(&app, &enrolled.secret, 99).await;
    assert_eq!(audit_count(&app, "mfa.codes_locked").await, 0);
    app.clock.advance_secs(16 * 60);
    wrong_codes(&app, &enrolled.secret, 1).await;
    assert_eq!(audit_count(&app, "mfa.codes_locked").await, 1);

    // Locked: the right code no longer works, nor does a recovery code.
    app.clock.advance_secs(16 * 60);
    for code in [
        totp_code(&enrolled.secret, &app.clock, 0),
        enrolled.recovery_codes[0].clone(),
    ] {
        let pending = pending_sign_in(&app).await;
        let res = submit_code(&app, Some(pending.as_str()), &code).await;
        assert_eq!(res.status, 403, "{}", res.text());
        assert_eq!(res.json()["error"]["code"], "codes_locked");
    }
    // The user was told by email (sent after the answer).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let outbox = support::outbox(&app).await;
        if outbox
            .iter()
            .any(|m| m.to == ALICE && m.subject.contains("codes locked"))
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no lock mail: {:?}",
            outbox.iter().map(|m| &m.subject).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The users list shows it to the organisation's admins.
    create_user(&app.db.db, "contoso", "boss@contoso.example", "admin").await;
    let boss = sign_in(&app, "boss@contoso.example").await;
    let users = app.get_with("/api/v1/users", &boss).await.json();
    assert_eq!(users["users"][0]["email"], ALICE);
    assert_eq!(users["users"][0]["codes_locked"], true, "{users}");
    assert_eq!(users["users"][1]["codes_locked"], false, "{users}");

    // A password reset unlocks them (the authenticator is still asked for).
    let before = support::outbox(&app).await.len();
    let res = app
        .json(
            "POST",
            "/api/v1/auth/password-reset",
            None,
            json!({"email": ALICE}),
        )
        .await;
    assert_eq!(res.status, 202);
    let token = support::next_link_token(&app, before, "/reset-password/").await;
    let new_password = "orange tractor ceiling kettle";
    let res = app
        .json(
            "POST",
            &format!("/api/v1/auth/password-reset/{token}"),
            None,
            json!({"password": new_password}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let (res, pending) = app.login(ALICE, new_password).await;
    assert_eq!(res.json()["status"], "mfa_required");
    let res = submit_code(
        &app,
        pending.as_deref(),
        &totp_code(&enrolled.secret, &app.clock, 1),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
}

#[tokio::test]
async fn an_administrator_unlocks_a_users_codes() {
    let (app, enrolled) = app_with_mfa_user().await;
    create_user(&app.db.db, "contoso", "bob@contoso.example", "viewer").await;
    let bob_cookie = sign_in(&app, "bob@contoso.example").await;
    let bob = enrol_totp(&app, &bob_cookie).await;
    let bob_id: String = sqlx::query("SELECT id FROM users WHERE login_email = $1")
        .bind("bob@contoso.example")
        .fetch_one(app.db.db.pool())
        .await
        .unwrap()
        .try_get("id")
        .unwrap();
    let unlock = format!("/api/v1/users/{bob_id}/unlock-codes");
    let res = app
        .json("POST", &unlock, Some(&enrolled.cookie), json!({}))
        .await;
    assert_eq!(res.status, 409, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "codes_not_locked");

    // Lock Bob's codes the way 100 wrong ones would leave them.
    sqlx::query("UPDATE users SET failed_codes = 100 WHERE id = $1")
        .bind(&bob_id)
        .execute(app.db.db.pool())
        .await
        .unwrap();
    let (_, pending) = app.login("bob@contoso.example", PASSWORD).await;
    let res = submit_code(
        &app,
        pending.as_deref(),
        &totp_code(&bob.secret, &app.clock, 0),
    )
    .await;
    assert_eq!(
        res.json()["error"]["code"],
        "codes_locked",
        "{}",
        res.text()
    );

    // Bob himself (a viewer) cannot unlock them; his admin can.
    let res = app
        .json("POST", &unlock, Some(&bob.cookie), json!({}))
        .await;
    assert_eq!(res.status, 403);
    let res = app
        .json("POST", &unlock, Some(&enrolled.cookie), json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["codes_locked"], false);
    assert_eq!(audit_count(&app, "mfa.codes_unlocked").await, 1);
    let (_, pending) = app.login("bob@contoso.example", PASSWORD).await;
    let res = submit_code(
        &app,
        pending.as_deref(),
        &totp_code(&bob.secret, &app.clock, 1),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
}

#[tokio::test]
async fn wrong_passwords_behind_sensitive_changes_end_the_session() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", ALICE, "admin").await;
    let cookie = sign_in(&app, ALICE).await;
    for i in 1..=4 {
        let res = app
            .json(
                "POST",
                "/api/v1/me/mfa/totp",
                Some(&cookie),
                json!({"password": format!("not the password {i}")}),
            )
            .await;
        assert_eq!(res.status, 401, "{}", res.text());
        assert_eq!(res.json()["error"]["code"], "invalid_password");
    }
    // The fifth, wherever it is entered, ends the session.
    let res = app
        .json(
            "POST",
            "/api/v1/me/password",
            Some(&cookie),
            json!({"current_password": "still not it", "new_password": "orange tractor ceiling kettle"}),
        )
        .await;
    assert_eq!(res.status, 401, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "session_ended");
    let me = app.get_with("/api/v1/me", &cookie).await;
    assert_eq!(me.status, 401, "the session ended");
    assert_eq!(audit_count(&app, "auth.reauth_failed").await, 5);

    // They counted against the account's password limit too: 5 more wrong passwords at the
    // sign-in page reach its 10.
    for _ in 0..5 {
        let (res, _) = app.login(ALICE, "wrong password entirely").await;
        assert_eq!(res.status, 401);
    }
    let (res, _) = app.login(ALICE, PASSWORD).await;
    assert_eq!(res.status, 429, "{}", res.text());
}

#[tokio::test]
async fn a_right_password_gives_its_attempt_back() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", ALICE, "admin").await;
    let cookie = sign_in(&app, ALICE).await;
    // Starting an enrolment (right password) many times does not end the session.
    for _ in 0..8 {
        let res = app
            .json(
                "POST",
                "/api/v1/me/mfa/totp",
                Some(&cookie),
                json!({"password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
    }
    assert_eq!(app.get_with("/api/v1/me", &cookie).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_re_entered_passwords_are_checked_at_most_five_times() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", ALICE, "admin").await;
    let cookie = sign_in(&app, ALICE).await;
    app.state
        .faults
        .set_secret_check_pause(Duration::from_millis(300));
    let before = app.state.faults.secret_checks();
    let requests = (0..20)
        .map(|i| {
            request(
                "POST",
                "/api/v1/me/mfa/totp",
                &cookie,
                json!({"password": format!("guess number {i}")}),
            )
        })
        .collect();
    let answers = all_at_once(&app, requests).await;
    let checked = app.state.faults.secret_checks() - before;
    assert!(checked <= 5, "{checked} passwords were compared");
    assert!(
        answers.iter().all(|a| a.status == 401),
        "{:?}",
        codes_of(&answers)
    );
    assert_eq!(app.get_with("/api/v1/me", &cookie).await.status, 401);
}

#[tokio::test]
async fn wrong_codes_behind_sensitive_changes_count_like_sign_in_codes() {
    let (app, enrolled) = app_with_mfa_user().await;
    let wrong = wrong_totp_code(&enrolled.secret, &app.clock);
    for _ in 0..4 {
        let res = app
            .json(
                "POST",
                "/api/v1/me/mfa/recovery-codes",
                Some(&enrolled.cookie),
                json!({"password": PASSWORD, "code": wrong}),
            )
            .await;
        assert_eq!(res.status, 401, "{}", res.text());
        assert_eq!(res.json()["error"]["code"], "invalid_code");
    }
    let failed: i64 = sqlx::query("SELECT failed_codes AS n FROM users WHERE login_email = $1")
        .bind(ALICE)
        .fetch_one(app.db.db.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(failed, 4, "wrong codes in a row");
    let res = app
        .json(
            "DELETE",
            "/api/v1/me/mfa/totp",
            Some(&enrolled.cookie),
            json!({"password": PASSWORD, "code": wrong}),
        )
        .await;
    assert_eq!(
        res.json()["error"]["code"],
        "session_ended",
        "{}",
        res.text()
    );
    assert_eq!(
        app.get_with("/api/v1/me", &enrolled.cookie).await.status,
        401
    );
}

#[tokio::test]
async fn a_new_staff_member_is_told_about_the_authenticator_by_the_cli() {
    let app = TestApp::new().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(["staff", "create", "--email", "ops@carrier.example"])
        .env("DATABASE_URL", &app.db.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("authenticator app"), "{stdout}");
    // And a second staff member signs in only after setting one up.
    let cookie = new_staff_session(&app, "second@carrier.example").await;
    let me = app.get_with("/api/v1/me", &cookie).await;
    assert_eq!(me.json()["user"]["mfa_enabled"], true);
}
