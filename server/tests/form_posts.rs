//! The sign-in pages' plain form posts (the no-JavaScript encoding of the sign-in steps):
//! the same sign-in as the JSON API, with the same CSRF rule, limits and audit entries,
//! answered with redirects that keep `return_to` safe and never carry a secret.

// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use axum::{body::Body, http::Request};
use serde_json::json;
use support::{
    api::enrol_totp, create_org, create_staff, create_user, next_link_token, outbox,
    session_cookie, totp_code, wrong_totp_code, TestApp, TestResponse, ORIGIN, PASSWORD,
};

const ALICE: &str = "alice@contoso.example";

async fn app_with_user() -> TestApp {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", ALICE, "admin").await;
    app
}

/// `fields` urlencoded, as a browser encodes a form.
fn encode(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// A browser's form post from the portal's own page (Chromium sends `Origin` on every POST).
async fn post_form(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    fields: &[(&str, &str)],
) -> TestResponse {
    post_form_from(app, path, cookie, fields, &[("origin", ORIGIN)]).await
}

/// A form post with the given origin headers.
async fn post_form_from(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    fields: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> TestResponse {
    let mut req = Request::post(path).header("content-type", "application/x-www-form-urlencoded");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    app.send(req.body(Body::from(encode(fields))).unwrap())
        .await
}

/// The `Location` of a 303 (Post/Redirect/Get); panics on any other answer.
fn see_other(res: &TestResponse) -> String {
    assert_eq!(res.status, 303, "{}", res.text());
    res.header("location").unwrap().to_string()
}

async fn sign_in_form(app: &TestApp, path: &str, email: &str, password: &str) -> TestResponse {
    post_form(app, path, None, &[("email", email), ("password", password)]).await
}

/// Posts a link page's form: the new password and its confirmation.
async fn choose_password(app: &TestApp, page: &str, password: &str, confirm: &str) -> String {
    let fields = [("new-password", password), ("confirm-password", confirm)];
    see_other(&post_form(app, page, None, &fields).await)
}

async fn audit_rows(app: &TestApp, action: &str) -> Vec<(String, String)> {
    sqlx::query_as::<_, (String, String)>(
        "SELECT COALESCE(target, ''), details FROM audit_log WHERE action = $1 ORDER BY id",
    )
    .bind(action)
    .fetch_all(app.db.db.pool())
    .await
    .unwrap()
}

async fn failure_rows(app: &TestApp) -> i64 {
    support::count(&app.db.db, "SELECT COUNT(*) FROM auth_failures").await
}

#[tokio::test]
async fn a_signed_in_form_post_redirects_home_with_the_session_cookie() {
    let app = app_with_user().await;
    let res = sign_in_form(&app, "/login", "Alice@Contoso.example", PASSWORD).await;
    assert_eq!(see_other(&res), "/");
    let cookie = session_cookie(&res).expect("a session cookie");
    let set_cookie = res.header("set-cookie").unwrap();
    for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(attr), "{set_cookie}");
    }
    let me = app.get_with("/api/v1/me", &cookie).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["user"]["email"], ALICE);
    assert_eq!(me.json()["user"]["auth_method"], "password");
}

#[tokio::test]
async fn the_form_post_writes_the_audit_rows_the_json_sign_in_writes() {
    let app = app_with_user().await;
    app.login(ALICE, PASSWORD).await.1.unwrap();
    app.login(ALICE, "not the password at all").await;
    see_other(&sign_in_form(&app, "/login", ALICE, PASSWORD).await);
    see_other(&sign_in_form(&app, "/login", ALICE, "not the password at all").await);

    let logins = audit_rows(&app, "auth.login").await;
    assert_eq!(logins.len(), 2);
    assert_eq!(logins[0], logins[1]);
    let failures = audit_rows(&app, "auth.login_failed").await;
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[0], failures[1]);
    assert!(
        failures[0].1.contains("wrong_password"),
        "{:?}",
        failures[0]
    );
}

#[tokio::test]
async fn the_page_to_return_to_is_kept_and_a_hostile_one_is_refused() {
    let app = app_with_user().await;
    let res = sign_in_form(
        &app,
        "/login?return_to=%2Fcalls%3Fresult%3Dfailed",
        ALICE,
        PASSWORD,
    )
    .await;
    assert_eq!(see_other(&res), "/calls?result=failed");
    // Text a header cannot carry is sent percent-encoded, not as an error.
    let res = sign_in_form(
        &app,
        "/login?return_to=%2Fcalls%3Fq%3Dcaf%C3%A9%20au%20lait",
        ALICE,
        PASSWORD,
    )
    .await;
    assert_eq!(see_other(&res), "/calls?q=caf%C3%A9%20au%20lait");

    for hostile in [
        "https://evil.example/",
        "//evil.example",
        "/%2F%2Fevil.example",
        "/\\evil.example",
        "%2F%2Fevil.example",
        "javascript:alert(1)",
        "/login",
    ] {
        let path = format!(
            "/login?return_to={}",
            url::form_urlencoded::byte_serialize(hostile.as_bytes()).collect::<String>()
        );
        let res = sign_in_form(&app, &path, ALICE, PASSWORD).await;
        assert_eq!(see_other(&res), "/", "{hostile}");
        // Refused on the way back to the form too.
        let res = sign_in_form(&app, &path, ALICE, "not the password at all").await;
        let location = see_other(&res);
        assert!(location.starts_with("/login?"), "{location}");
        assert!(!location.contains("evil"), "{location}");
        assert!(!location.contains("return_to"), "{location}");
    }
}

#[tokio::test]
async fn wrong_credentials_come_back_to_the_form_with_the_error_and_no_session() {
    let app = app_with_user().await;
    let secret_guess = "not the password at all";
    for (email, kept) in [
        (ALICE, "alice%40contoso.example"),
        ("nobody+x@contoso.example", "nobody%2Bx%40contoso.example"),
    ] {
        let res = sign_in_form(&app, "/login?return_to=%2Fnumbers", email, secret_guess).await;
        let location = see_other(&res);
        assert!(session_cookie(&res).is_none(), "{location}");
        assert_eq!(
            location,
            format!("/login?return_to=/numbers&error=invalid_credentials&email={kept}")
        );
        assert!(!location.contains("not"), "the password is never in a URL");
    }
    // Empty fields and a non-address are the JSON API's field errors.
    let res = sign_in_form(&app, "/login", ALICE, "").await;
    assert!(see_other(&res).starts_with("/login?error=missing_password&email="));
    let res = sign_in_form(&app, "/login", "not an address", PASSWORD).await;
    assert!(see_other(&res).starts_with("/login?error=invalid_email"));
    let res = post_form(&app, "/login", None, &[]).await;
    assert_eq!(see_other(&res), "/login?error=invalid_email");
}

#[tokio::test]
async fn a_cross_origin_form_post_is_refused_like_the_json_api() {
    let app = app_with_user().await;
    let json = app
        .send(
            Request::post("/api/v1/auth/login")
                .header("content-type", "application/json")
                .header("origin", "https://evil.example")
                .body(Body::from(
                    json!({"email": ALICE, "password": PASSWORD}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(json.status, 403);
    for (path, fields) in [
        ("/login", vec![("email", ALICE), ("password", PASSWORD)]),
        ("/login/mfa", vec![("code", "123456")]),
        ("/login/forgot", vec![("email", ALICE)]),
        (
            "/reset-password/abc",
            vec![("new-password", PASSWORD), ("confirm-password", PASSWORD)],
        ),
        (
            "/invite/abc",
            vec![("new-password", PASSWORD), ("confirm-password", PASSWORD)],
        ),
    ] {
        for headers in [
            vec![("origin", "https://evil.example")],
            vec![("sec-fetch-site", "cross-site")],
            vec![("origin", "null")],
            vec![],
        ] {
            let res = post_form_from(&app, path, None, &fields, &headers).await;
            assert_eq!(res.status, 403, "{path} {headers:?}");
            assert_eq!(res.body, json.body, "{path} {headers:?}");
            assert!(session_cookie(&res).is_none());
        }
    }
    // Nothing was tried: no failure counted, no audit row.
    assert_eq!(failure_rows(&app).await, 0);
    assert!(audit_rows(&app, "auth.login_failed").await.is_empty());
    assert!(audit_rows(&app, "auth.login").await.is_empty());
    // Fetch metadata alone proves the origin, as for the API.
    let res = post_form_from(
        &app,
        "/login",
        None,
        &[("email", ALICE), ("password", PASSWORD)],
        &[("sec-fetch-site", "same-origin")],
    )
    .await;
    assert_eq!(see_other(&res), "/");
}

#[tokio::test]
async fn form_failures_count_toward_the_json_limit_and_back() {
    let app = app_with_user().await;
    // Ten wrong passwords through the form...
    for _ in 0..10 {
        let res = sign_in_form(&app, "/login", ALICE, "not the password at all").await;
        assert!(see_other(&res).contains("error=invalid_credentials"));
    }
    // ...and the JSON API refuses even the right one.
    let (res, cookie) = app.login(ALICE, PASSWORD).await;
    assert_eq!(res.status, 429, "{}", res.text());
    assert!(cookie.is_none());
    let json_wait: i64 = res.header("retry-after").unwrap().parse().unwrap();
    // The form says so too, with the same wait (give or take the second between them).
    let res = sign_in_form(&app, "/login", ALICE, PASSWORD).await;
    let location = see_other(&res);
    assert!(session_cookie(&res).is_none());
    let form_wait: i64 = location
        .strip_prefix("/login?error=rate_limited&retry_after=")
        .and_then(|rest| rest.split('&').next())
        .unwrap_or_else(|| panic!("{location}"))
        .parse()
        .unwrap();
    assert!(
        (json_wait - form_wait).abs() <= 1,
        "{json_wait} {form_wait}"
    );

    // The other way round: failures through the JSON API block the form.
    let app = app_with_user().await;
    for _ in 0..10 {
        app.login(ALICE, "not the password at all").await;
    }
    let res = sign_in_form(&app, "/login", ALICE, PASSWORD).await;
    assert!(see_other(&res).starts_with("/login?error=rate_limited&retry_after="));
    assert!(session_cookie(&res).is_none());
}

/// A user with an authenticator: the app and the secret.
async fn app_with_mfa_user() -> (TestApp, String, Vec<String>) {
    let app = app_with_user().await;
    let cookie = app.login(ALICE, PASSWORD).await.1.unwrap();
    let enrolled = enrol_totp(&app, &cookie).await;
    // The enrolment used the current step's code: sign-ins use the next step's.
    app.clock.advance_secs(30);
    (app, enrolled.secret, enrolled.recovery_codes)
}

#[tokio::test]
async fn a_second_factor_goes_to_the_code_page_and_its_form_completes_the_sign_in() {
    let (app, secret, _) = app_with_mfa_user().await;
    let res = sign_in_form(&app, "/login?return_to=%2Fcalls", ALICE, PASSWORD).await;
    assert_eq!(see_other(&res), "/login/mfa?return_to=/calls");
    let pending = session_cookie(&res).unwrap();
    assert_eq!(app.get_with("/api/v1/me", &pending).await.status, 401);

    // A wrong code comes back to the code page; the code is not in the URL.
    let wrong = wrong_totp_code(&secret, &app.clock);
    let res = post_form(
        &app,
        "/login/mfa?return_to=%2Fcalls",
        Some(&pending),
        &[("code", &wrong)],
    )
    .await;
    assert_eq!(
        see_other(&res),
        "/login/mfa?return_to=/calls&error=invalid_code"
    );
    assert!(session_cookie(&res).is_none());

    // The page's URL now carries the error; the form posts to it as it is.
    let code = totp_code(&secret, &app.clock, 0);
    let res = post_form(
        &app,
        "/login/mfa?return_to=%2Fcalls&error=invalid_code",
        Some(&pending),
        &[("code", &code)],
    )
    .await;
    assert_eq!(see_other(&res), "/calls");
    let full = session_cookie(&res).unwrap();
    assert_ne!(full, pending);
    let me = app.get_with("/api/v1/me", &full).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["user"]["auth_method"], "password+totp");
    // The pending session is gone.
    assert_eq!(app.get_with("/api/v1/me", &pending).await.status, 401);
    assert_eq!(audit_rows(&app, "auth.password_accepted").await.len(), 1);
    assert_eq!(audit_rows(&app, "auth.mfa_failed").await.len(), 1);
}

#[tokio::test]
async fn a_recovery_code_says_how_many_are_left_and_a_gone_sign_in_says_so() {
    let (app, secret, recovery) = app_with_mfa_user().await;
    let pending = session_cookie(&sign_in_form(&app, "/login", ALICE, PASSWORD).await).unwrap();
    let res = post_form(
        &app,
        "/login/mfa",
        Some(&pending),
        &[("recovery-code", &recovery[0])],
    )
    .await;
    assert_eq!(
        see_other(&res),
        "/login/mfa?kind=recovery&recovery_codes_left=9"
    );
    let full = session_cookie(&res).unwrap();
    assert_eq!(app.get_with("/api/v1/me", &full).await.status, 200);

    // No pending sign-in (none, or a full session): start again.
    let res = post_form(&app, "/login/mfa", None, &[("code", "123456")]).await;
    assert_eq!(see_other(&res), "/login/mfa?error=mfa_expired");
    let res = post_form(&app, "/login/mfa", Some(&full), &[("code", "123456")]).await;
    assert_eq!(see_other(&res), "/login/mfa?error=mfa_expired");

    // The fifth wrong code drops the sign-in, with its own words.
    let pending = session_cookie(&sign_in_form(&app, "/login", ALICE, PASSWORD).await).unwrap();
    let wrong = wrong_totp_code(&secret, &app.clock);
    let mut last = String::new();
    for _ in 0..5 {
        last = see_other(&post_form(&app, "/login/mfa", Some(&pending), &[("code", &wrong)]).await);
    }
    assert_eq!(last, "/login/mfa?error=sign_in_dropped");
}

#[tokio::test]
async fn two_right_codes_posted_at_once_step_up_once() {
    let (app, secret, _) = app_with_mfa_user().await;
    let pending = session_cookie(&sign_in_form(&app, "/login", ALICE, PASSWORD).await).unwrap();
    let code = totp_code(&secret, &app.clock, 0);
    let fields = [("code", code.as_str())];
    let (a, b) = tokio::join!(
        post_form(&app, "/login/mfa", Some(&pending), &fields),
        post_form(&app, "/login/mfa", Some(&pending), &fields),
    );
    let cookies: Vec<_> = [&a, &b].iter().filter_map(|r| session_cookie(r)).collect();
    assert_eq!(cookies.len(), 1, "{} / {}", see_other(&a), see_other(&b));
    assert_eq!(audit_rows(&app, "auth.login").await.len(), 2);
}

#[tokio::test]
async fn carrier_staff_go_to_enrolment_as_the_json_flow_does() {
    let app = TestApp::new().await;
    create_staff(&app.db.db, "new.noc@carrier.example").await;
    let res = sign_in_form(
        &app,
        "/login?return_to=%2Fprovider",
        "new.noc@carrier.example",
        PASSWORD,
    )
    .await;
    assert_eq!(
        see_other(&res),
        "/security?enrol=required&return_to=/provider"
    );
    let cookie = session_cookie(&res).unwrap();
    assert_eq!(
        app.get_with("/api/v1/me", &cookie).await.json()["error"]["code"],
        "mfa_enrolment_required"
    );
}

#[tokio::test]
async fn the_forgotten_password_form_asks_for_a_link_under_the_same_limits() {
    let app = app_with_user().await;
    let before = outbox(&app).await.len();
    let res = post_form(&app, "/login/forgot", None, &[("email", ALICE)]).await;
    assert_eq!(see_other(&res), "/login/forgot?requested=1");
    let token = next_link_token(&app, before, "/reset-password/").await;
    assert!(!token.is_empty());
    // The same answer for an address without an account.
    let res = post_form(
        &app,
        "/login/forgot",
        None,
        &[("email", "nobody@contoso.example")],
    )
    .await;
    assert_eq!(see_other(&res), "/login/forgot?requested=1");
    let res = post_form(&app, "/login/forgot", None, &[("email", "nope")]).await;
    assert_eq!(
        see_other(&res),
        "/login/forgot?error=invalid_email&email=nope"
    );

    // Five requests per account, whichever encoding: four more through JSON, then the form.
    for _ in 0..4 {
        let res = app
            .json(
                "POST",
                "/api/v1/auth/password-reset",
                None,
                json!({"email": ALICE}),
            )
            .await;
        assert_eq!(res.status, 202);
    }
    let res = post_form(&app, "/login/forgot", None, &[("email", ALICE)]).await;
    assert!(
        see_other(&res).starts_with("/login/forgot?error=rate_limited&retry_after="),
        "{}",
        see_other(&res)
    );
}

#[tokio::test]
async fn the_reset_form_sets_the_password_once_and_checks_it_first() {
    let app = app_with_user().await;
    let before = outbox(&app).await.len();
    see_other(&post_form(&app, "/login/forgot", None, &[("email", ALICE)]).await);
    let token = next_link_token(&app, before, "/reset-password/").await;
    let page = format!("/reset-password/{token}");
    let new_password = "quartz lantern meadow falcon";

    assert_eq!(
        choose_password(&app, &page, new_password, "quartz lantern meadow").await,
        format!("{page}?error=password_mismatch")
    );
    assert_eq!(
        choose_password(&app, &page, "short", "short").await,
        format!("{page}?error=weak_password&reason=too_short")
    );
    assert_eq!(
        choose_password(&app, &page, "password1234", "password1234").await,
        format!("{page}?error=weak_password&reason=guessable")
    );
    // The link survived the refusals.
    assert_eq!(
        choose_password(&app, &page, new_password, new_password).await,
        format!("{page}?password_set=1")
    );
    assert_eq!(audit_rows(&app, "password.reset").await.len(), 1);
    assert_eq!(app.login(ALICE, new_password).await.0.status, 200);
    assert_eq!(app.login(ALICE, PASSWORD).await.0.status, 401);

    // Single use.
    assert_eq!(
        choose_password(&app, &page, new_password, new_password).await,
        format!("{page}?error=invalid_link")
    );
    // Something that cannot be a token is refused without echoing it anywhere.
    let res = post_form(
        &app,
        "/reset-password/abc%0D%0ALocation:%20https:%2F%2Fevil.example",
        None,
        &[
            ("new-password", new_password),
            ("confirm-password", new_password),
        ],
    )
    .await;
    assert_eq!(res.status, 404);
    assert!(res.header("location").is_none());
}

#[tokio::test]
async fn the_invitation_form_sets_the_first_password() {
    let app = app_with_user().await;
    let admin = app.login(ALICE, PASSWORD).await.1.unwrap();
    let before = outbox(&app).await.len();
    let res = app
        .json(
            "POST",
            "/api/v1/users/invitations",
            Some(&admin),
            json!({"email": "bob@contoso.example", "role": "viewer"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let token = next_link_token(&app, before, "/invite/").await;
    let page = format!("/invite/{token}");
    let chosen = "harbour violet compass kettle";
    assert_eq!(
        choose_password(&app, &page, chosen, chosen).await,
        format!("{page}?password_set=1")
    );
    assert_eq!(audit_rows(&app, "password.set").await.len(), 1);
    assert_eq!(
        see_other(&sign_in_form(&app, "/login", "bob@contoso.example", chosen).await),
        "/"
    );
    // An unknown token.
    assert_eq!(
        choose_password(&app, "/invite/not-a-real-token", chosen, chosen).await,
        "/invite/not-a-real-token?error=invalid_link"
    );
}

#[tokio::test]
async fn a_body_that_is_not_a_form_is_refused() {
    let app = app_with_user().await;
    let res = app
        .send(
            Request::post("/login")
                .header("origin", ORIGIN)
                .header("content-type", "application/json")
                .body(Body::from(
                    json!({"email": ALICE, "password": PASSWORD}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, 415);
    assert!(session_cookie(&res).is_none());
    // The pages themselves still answer GET.
    assert_eq!(app.get("/login").await.status, 200);
}
