//! Codes by e-mail over the real router: turning them on with a confirming code, signing in
//! and stepping up with one, the rules that bound them (one code at a time, 10 minutes, once,
//! for its own purpose and session, sends limited, wrong ones counted towards the lock), and
//! the organisation's choice of which second factors count.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{json, Value};

use support::{
    api::{enrol_totp, new_staff_session, sign_in},
    count, create_org, create_user, outbox, TestApp, TestResponse, PASSWORD,
};

/// Waits until the outbox holds more than `before` messages; returns the code of the newest.
async fn next_code(app: &TestApp, before: usize) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let messages = outbox(app).await;
        if messages.len() > before {
            let body = &messages[0].body;
            let line = body
                .lines()
                .map(str::trim)
                .find(|l| l.len() == 9 && l.as_bytes()[4] == b' ')
                .unwrap_or_else(|| panic!("no code in {body}"));
            return line.replace(' ', "");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no new mail within 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn mails(app: &TestApp) -> usize {
    outbox(app).await.len()
}

async fn post(app: &TestApp, path: &str, cookie: &str, body: Value) -> TestResponse {
    app.json("POST", path, Some(cookie), body).await
}

/// Turns e-mail codes on for the signed-in user behind `cookie`; returns the recovery codes.
async fn turn_on(app: &TestApp, cookie: &str) -> Vec<String> {
    let before = mails(app).await;
    let res = post(
        app,
        "/api/v1/me/mfa/email",
        cookie,
        json!({"password": PASSWORD}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let code = next_code(app, before).await;
    let res = post(
        app,
        "/api/v1/me/mfa/email/confirm",
        cookie,
        json!({"code": code}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    serde_json::from_value(res.json()["recovery_codes"].clone()).unwrap()
}

/// Signs in with the password of a user whose factor is e-mail: the code arrives by itself.
/// Returns the pending cookie and the code.
async fn pending_with_code(app: &TestApp, email: &str) -> (String, String) {
    let before = mails(app).await;
    let (res, cookie) = app.login(email, PASSWORD).await;
    assert_eq!(res.json()["status"], "mfa_required", "{}", res.text());
    (cookie.unwrap(), next_code(app, before).await)
}

fn code_of(res: &TestResponse) -> String {
    res.json()["error"]["code"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn a_user_turns_on_email_codes_and_signs_in_with_one() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "eng@contoso.example", "engineer").await;
    let cookie = sign_in(&app, "eng@contoso.example").await;

    // A wrong password sends nothing.
    let before = mails(&app).await;
    let res = post(
        &app,
        "/api/v1/me/mfa/email",
        &cookie,
        json!({"password": "nope"}),
    )
    .await;
    assert_eq!(res.status, 401);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(mails(&app).await, before);

    // The confirming code: a wrong one is refused and turns nothing on.
    let res = post(
        &app,
        "/api/v1/me/mfa/email",
        &cookie,
        json!({"password": PASSWORD}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["sent_to"], "eng@contoso.example");
    let code = next_code(&app, before).await;
    assert_eq!(code.len(), 8);
    let wrong = format!("{:08}", (code.parse::<u32>().unwrap() + 1) % 100_000_000);
    let res = post(
        &app,
        "/api/v1/me/mfa/email/confirm",
        &cookie,
        json!({"code": wrong}),
    )
    .await;
    assert_eq!(res.status, 422);
    assert_eq!(
        count(&app.db.db, "SELECT COUNT(*) FROM user_email_otp").await,
        0
    );
    let res = post(
        &app,
        "/api/v1/me/mfa/email/confirm",
        &cookie,
        json!({"code": code}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["recovery_codes"].as_array().unwrap().len(), 10);
    // The code was used up.
    let res = post(
        &app,
        "/api/v1/me/mfa/email/confirm",
        &cookie,
        json!({"code": code}),
    )
    .await;
    assert_eq!(res.status, 422, "{}", res.text());
    let me = app.get_with("/api/v1/me/mfa", &cookie).await.json();
    assert_eq!(me["enrolled"], json!(["email"]));
    assert_eq!(me["usable"], json!(["email"]));
    assert_eq!(me["recovery_codes_left"], 10);
    // Only a keyed hash is stored.
    assert_eq!(
        count(&app.db.db, "SELECT COUNT(*) FROM email_codes").await,
        0,
        "a used code is deleted"
    );

    // Signing in now waits for a code, which is mailed at once.
    let (pending, code) = pending_with_code(&app, "eng@contoso.example").await;
    let stored: String = sqlx::query_scalar("SELECT code_hash FROM email_codes")
        .fetch_one(app.db.db.pool())
        .await
        .unwrap();
    assert!(!stored.contains(&code) && stored.len() == 64, "{stored}");
    let factors = app.get_with("/api/v1/auth/mfa", &pending).await;
    assert_eq!(
        factors.json()["usable"],
        json!(["email"]),
        "{}",
        factors.text()
    );
    // The pending sign-in is not signed in.
    assert_eq!(app.get_with("/api/v1/me", &pending).await.status, 401);
    let res = post(&app, "/api/v1/auth/mfa", &pending, json!({"code": code})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let full = support::session_cookie(&res).unwrap();
    let me = app.get_with("/api/v1/me", &full).await.json();
    assert_eq!(me["user"]["auth_method"], "password+email");
    assert_eq!(me["user"]["email_codes"], true);

    // The same code cannot finish another sign-in.
    let (res, again) = app.login("eng@contoso.example", PASSWORD).await;
    assert_eq!(res.json()["status"], "mfa_required");
    let res = post(
        &app,
        "/api/v1/auth/mfa",
        &again.unwrap(),
        json!({"code": code}),
    )
    .await;
    assert_eq!(res.status, 401);
    assert_eq!(code_of(&res), "invalid_code");

    let log = count(
        &app.db.db,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'mfa.email_code_sent'",
    )
    .await;
    assert!(log >= 3, "{log}");
}

#[tokio::test]
async fn a_code_works_once_for_ten_minutes_and_a_new_one_replaces_it() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "eng@contoso.example", "engineer").await;
    let cookie = sign_in(&app, "eng@contoso.example").await;
    turn_on(&app, &cookie).await;

    // A new code replaces the first.
    let (pending, first) = pending_with_code(&app, "eng@contoso.example").await;
    let before = mails(&app).await;
    let res = post(&app, "/api/v1/auth/mfa/email-code", &pending, json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let second = next_code(&app, before).await;
    if first != second {
        let res = post(&app, "/api/v1/auth/mfa", &pending, json!({"code": first})).await;
        assert_eq!(code_of(&res), "invalid_code", "{}", res.text());
    }
    let res = post(&app, "/api/v1/auth/mfa", &pending, json!({"code": second})).await;
    assert_eq!(res.status, 200, "{}", res.text());

    // A code sent in one sign-in does not finish another.
    let (pending_a, code_a) = pending_with_code(&app, "eng@contoso.example").await;
    let (res, pending_b) = app.login("eng@contoso.example", PASSWORD).await;
    assert_eq!(res.status, 200);
    let pending_b = pending_b.unwrap();
    // The second sign-in's own code replaced the first's: neither session can use code_a.
    let res = post(
        &app,
        "/api/v1/auth/mfa",
        &pending_b,
        json!({"code": code_a}),
    )
    .await;
    assert_eq!(code_of(&res), "invalid_code");
    let res = post(
        &app,
        "/api/v1/auth/mfa",
        &pending_a,
        json!({"code": code_a}),
    )
    .await;
    assert_eq!(code_of(&res), "invalid_code");
}

#[tokio::test]
async fn sending_codes_is_limited_per_account() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "eng@contoso.example", "engineer").await;
    let cookie = sign_in(&app, "eng@contoso.example").await;
    turn_on(&app, &cookie).await;
    // The sign-in sends one (the second of the window), then four more are allowed.
    let (pending, _) = pending_with_code(&app, "eng@contoso.example").await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            post(&app, "/api/v1/auth/mfa/email-code", &pending, json!({}))
                .await
                .status,
        );
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429], "{statuses:?}");
    // Past the limit a right password still starts the sign-in (the page offers a new code).
    let (res, _) = app.login("eng@contoso.example", PASSWORD).await;
    assert_eq!(res.json()["status"], "mfa_required", "{}", res.text());
}

#[tokio::test]
async fn wrong_email_codes_count_towards_the_lock() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    let user = create_user(&app.db.db, "contoso", "eng@contoso.example", "engineer").await;
    let cookie = sign_in(&app, "eng@contoso.example").await;
    turn_on(&app, &cookie).await;
    sqlx::query("UPDATE users SET failed_codes = 99 WHERE id = $1")
        .bind(&user.id)
        .execute(app.db.db.pool())
        .await
        .unwrap();
    let (pending, code) = pending_with_code(&app, "eng@contoso.example").await;
    let wrong = format!("{:08}", (code.parse::<u32>().unwrap() + 7) % 100_000_000);
    let res = post(&app, "/api/v1/auth/mfa", &pending, json!({"code": wrong})).await;
    assert_eq!(code_of(&res), "invalid_code");
    // The hundredth wrong code in a row locked the codes: the right one no longer works.
    let res = post(&app, "/api/v1/auth/mfa", &pending, json!({"code": code})).await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(code_of(&res), "codes_locked");
}

#[tokio::test]
async fn step_up_with_an_emailed_code() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "boss@contoso.example", "admin").await;
    let cookie = sign_in(&app, "boss@contoso.example").await;
    turn_on(&app, &cookie).await;
    let (pending, code) = pending_with_code(&app, "boss@contoso.example").await;
    let res = post(&app, "/api/v1/auth/mfa", &pending, json!({"code": code})).await;
    let admin = support::session_cookie(&res).unwrap();

    app.clock.advance_secs(11 * 60);
    let token = json!({"name": "ci", "scope": "read", "expires_in_days": 30});
    let res = post(&app, "/api/v1/api-tokens", &admin, token.clone()).await;
    assert_eq!(res.status, 401);
    assert_eq!(code_of(&res), "step_up_required");
    assert_eq!(res.json()["error"]["field"], "email_code");
    // The password is not the proof of a user with a second factor.
    let res = post(
        &app,
        "/api/v1/auth/step-up",
        &admin,
        json!({"password": PASSWORD}),
    )
    .await;
    assert_eq!(res.status, 422, "{}", res.text());

    // A code lasts ten minutes.
    let before = mails(&app).await;
    let res = post(&app, "/api/v1/auth/step-up/email-code", &admin, json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let stale = next_code(&app, before).await;
    app.clock.advance_secs(10 * 60 + 1);
    let res = post(&app, "/api/v1/auth/step-up", &admin, json!({"code": stale})).await;
    assert_eq!(code_of(&res), "invalid_code", "{}", res.text());
    assert!(res.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));

    let before = mails(&app).await;
    let res = post(&app, "/api/v1/auth/step-up/email-code", &admin, json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let code = next_code(&app, before).await;
    let wrong = format!("{:08}", (code.parse::<u32>().unwrap() + 3) % 100_000_000);
    let res = post(&app, "/api/v1/auth/step-up", &admin, json!({"code": wrong})).await;
    assert_eq!(res.status, 401);
    assert_eq!(code_of(&res), "invalid_code");
    let res = post(&app, "/api/v1/auth/step-up", &admin, json!({"code": code})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = post(&app, "/api/v1/api-tokens", &admin, token).await;
    assert_eq!(res.status, 201, "{}", res.text());
    // A step-up code does not finish a sign-in, and is used up.
    let res = post(&app, "/api/v1/auth/step-up", &admin, json!({"code": code})).await;
    assert_eq!(res.status, 401);
}

#[tokio::test]
async fn the_organisation_chooses_which_factors_count() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "boss@contoso.example", "admin").await;
    create_user(&app.db.db, "contoso", "eng@contoso.example", "engineer").await;
    let eng = sign_in(&app, "eng@contoso.example").await;
    turn_on(&app, &eng).await;
    let admin = sign_in(&app, "boss@contoso.example").await;

    let policy = app
        .get_with("/api/v1/organisation/mfa-policy", &admin)
        .await;
    assert_eq!(
        policy.json(),
        json!({"required": false, "methods": ["totp", "email"]})
    );
    assert_eq!(
        app.get_with("/api/v1/organisation/mfa-policy", &eng)
            .await
            .status,
        403
    );
    for bad in [json!({"methods": []}), json!({"methods": ["sms"]})] {
        let res = app
            .json("PUT", "/api/v1/organisation/mfa-policy", Some(&admin), bad)
            .await;
        assert_eq!(res.status, 422, "{}", res.text());
        assert_eq!(res.json()["error"]["field"], "methods");
    }
    let res = app
        .json(
            "PUT",
            "/api/v1/organisation/mfa-policy",
            Some(&admin),
            json!({"methods": ["totp"]}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json(), json!({"required": false, "methods": ["totp"]}));

    // The engineer's e-mail codes no longer count: the next sign-in sets up what does.
    let before = mails(&app).await;
    let (res, enrolling) = app.login("eng@contoso.example", PASSWORD).await;
    assert_eq!(
        res.json()["status"],
        "mfa_enrolment_required",
        "{}",
        res.text()
    );
    let enrolling = enrolling.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        mails(&app).await,
        before,
        "no code is sent for a factor that does not count"
    );
    let res = post(
        &app,
        "/api/v1/me/mfa/email",
        &enrolling,
        json!({"password": PASSWORD}),
    )
    .await;
    assert_eq!(res.status, 403);
    assert_eq!(code_of(&res), "method_not_allowed");
    let enrolled = enrol_totp(&app, &enrolling).await;
    assert!(!enrolled.recovery_codes.is_empty());

    // The audit log has the change, before and after.
    let log = app
        .get_with("/api/v1/audit?action=org.mfa_policy_changed", &admin)
        .await
        .json();
    assert_eq!(
        log["entries"][0]["details"]["after"]["mfa_methods"],
        json!(["totp"])
    );

    // With e-mail codes only, an authenticator app cannot be set up.
    let res = app
        .json(
            "PUT",
            "/api/v1/organisation/mfa-policy",
            Some(&admin),
            json!({"methods": ["email"]}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = post(
        &app,
        "/api/v1/me/mfa/totp",
        &admin,
        json!({"password": PASSWORD}),
    )
    .await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(code_of(&res), "method_not_allowed");
}

#[tokio::test]
async fn the_last_factor_stays_while_the_organisation_requires_one() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "boss@contoso.example", "admin").await;
    let admin = sign_in(&app, "boss@contoso.example").await;
    turn_on(&app, &admin).await;
    let (pending, code) = pending_with_code(&app, "boss@contoso.example").await;
    let res = post(&app, "/api/v1/auth/mfa", &pending, json!({"code": code})).await;
    let admin = support::session_cookie(&res).unwrap();
    let res = app
        .json(
            "PUT",
            "/api/v1/organisation/mfa-policy",
            Some(&admin),
            json!({"required": true}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = app
        .json(
            "DELETE",
            "/api/v1/me/mfa/email",
            Some(&admin),
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(code_of(&res), "mfa_required_by_organisation");

    // With an authenticator app as well, e-mail codes can go; the recovery codes stay.
    enrol_totp(&app, &admin).await;
    let res = app
        .json(
            "DELETE",
            "/api/v1/me/mfa/email",
            Some(&admin),
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        count(&app.db.db, "SELECT COUNT(*) FROM recovery_codes").await,
        10
    );
    assert_eq!(
        count(&app.db.db, "SELECT COUNT(*) FROM user_email_otp").await,
        0
    );
}

#[tokio::test]
async fn carrier_staff_do_not_use_email_codes() {
    let app = TestApp::new().await;
    let staff = new_staff_session(&app, "noc@carrier.example").await;
    let res = post(
        &app,
        "/api/v1/me/mfa/email",
        &staff,
        json!({"password": PASSWORD}),
    )
    .await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(code_of(&res), "method_not_allowed");
    let me = app.get_with("/api/v1/me/mfa", &staff).await.json();
    assert_eq!(me["allowed"], json!(["totp"]));
}

/// A browser's form post from the portal's own sign-in pages (the no-JavaScript encoding).
async fn post_form(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    fields: &[(&str, &str)],
) -> TestResponse {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let mut req = axum::http::Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", support::ORIGIN);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    app.send(req.body(axum::body::Body::from(body)).unwrap())
        .await
}

#[tokio::test]
async fn without_javascript_the_sign_in_goes_to_the_email_code_page() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "eng@contoso.example", "engineer").await;
    let cookie = sign_in(&app, "eng@contoso.example").await;
    turn_on(&app, &cookie).await;

    let before = mails(&app).await;
    let res = post_form(
        &app,
        "/login?return_to=/calls",
        None,
        &[("email", "eng@contoso.example"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(
        res.header("location"),
        Some("/login/mfa?kind=email&return_to=/calls")
    );
    let pending = support::session_cookie(&res).unwrap();
    let code = next_code(&app, before).await;
    // A wrong code comes back to the e-mail form, with the error.
    let wrong = format!("{:08}", (code.parse::<u32>().unwrap() + 1) % 100_000_000);
    let res = post_form(
        &app,
        "/login/mfa?return_to=/calls",
        Some(&pending),
        &[("code", &wrong)],
    )
    .await;
    assert_eq!(res.status, 303);
    let back = res.header("location").unwrap().to_string();
    assert!(back.starts_with("/login/mfa?kind=email"), "{back}");
    assert!(back.contains("error=invalid_code"), "{back}");
    let spaced = format!("{} {}", &code[..4], &code[4..]);
    let res = post_form(
        &app,
        "/login/mfa?return_to=/calls",
        Some(&pending),
        &[("code", &spaced)],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(res.header("location"), Some("/calls"));
}
