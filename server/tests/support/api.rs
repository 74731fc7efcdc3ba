//! Requests as the portal's users and their scripts make them: signing in, creating API
//! tokens, and Bearer requests (a token, no cookie, no `Origin`).

use axum::{body::Body, http::Request};
use serde_json::{json, Value};

use super::{TestApp, TestResponse, PASSWORD};

/// Signs in with [`PASSWORD`]; returns the session cookie (panics when sign-in fails).
pub async fn sign_in(app: &TestApp, email: &str) -> String {
    app.login(email, PASSWORD).await.1.unwrap()
}

/// Creates an API token as the signed-in admin behind `cookie`; returns the whole 201 answer
/// (`id`, `secret`, …).
pub async fn create_api_token(
    app: &TestApp,
    cookie: &str,
    name: &str,
    scope: &str,
    days: u32,
) -> Value {
    let res = app
        .json(
            "POST",
            "/api/v1/api-tokens",
            Some(cookie),
            json!({"name": name, "scope": scope, "expires_in_days": days}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

/// The secret of a new token named "`scope` token", valid for 30 days.
pub async fn api_token(app: &TestApp, cookie: &str, scope: &str) -> String {
    create_api_token(app, cookie, &format!("{scope} token"), scope, 30).await["secret"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A script's request: the Bearer token, no cookie, no `Origin`; a JSON body when given
/// (and only then a `Content-Type`).
pub async fn bearer(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> TestResponse {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"));
    let req = match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    };
    app.send(req.unwrap()).await
}

/// `GET path` with a Bearer token.
pub async fn get_bearer(app: &TestApp, path: &str, token: &str) -> TestResponse {
    bearer(app, "GET", path, token, None).await
}

/// What setting up an authenticator gave.
pub struct Enrolled {
    /// The base32 secret.
    pub secret: String,
    /// The ten recovery codes.
    pub recovery_codes: Vec<String>,
    /// The session cookie afterwards: a new one when the enrolment finished a sign-in that
    /// had to enrol, else the same.
    pub cookie: String,
}

/// Sets up an authenticator for the session behind `cookie` (signed in, or signing in and
/// required to enrol).
pub async fn enrol_totp(app: &TestApp, cookie: &str) -> Enrolled {
    let res = app
        .json(
            "POST",
            "/api/v1/me/mfa/totp",
            Some(cookie),
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let secret = res.json()["secret"].as_str().unwrap().to_string();
    let code = super::totp_code(&secret, &app.clock, 0);
    let res = app
        .json(
            "POST",
            "/api/v1/me/mfa/totp/confirm",
            Some(cookie),
            json!({"code": code}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let recovery_codes = res.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    Enrolled {
        secret,
        recovery_codes,
        cookie: super::session_cookie(&res).unwrap_or_else(|| cookie.to_string()),
    }
}

/// Creates carrier staff `email` (password [`PASSWORD`]) and signs them in, setting up the
/// authenticator staff must have at their first sign-in; returns the full session's cookie.
pub async fn new_staff_session(app: &TestApp, email: &str) -> String {
    super::create_staff(&app.db.db, email).await;
    let (res, cookie) = app.login(email, PASSWORD).await;
    assert_eq!(res.json()["status"], "mfa_enrolment_required");
    enrol_totp(app, &cookie.unwrap()).await.cookie
}

/// Creates the carrier staff member `noc@carrier.example` (password [`PASSWORD`]) and signs
/// them in (setting up their authenticator); returns the session cookie.
pub async fn staff_session(app: &TestApp) -> String {
    new_staff_session(app, "noc@carrier.example").await
}
