//! The JSON API's error conventions: shape, stable codes, status codes, nothing leaked.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use axum::{
    body::Body,
    extract::DefaultBodyLimit,
    http::{Request, StatusCode},
    routing::{get, post},
    Router,
};
use portal::http::{ApiError, ApiJson, ApiResult};
use serde::Deserialize;
use support::{send, TestApp};

#[tokio::test]
async fn an_unknown_api_path_is_a_json_404() {
    let app = TestApp::new().await;
    let res = app.get("/api/v1/x").await;
    assert_eq!(res.status, 404);
    assert_eq!(res.header("content-type"), Some("application/json"));
    let body = res.json();
    assert_eq!(body["error"]["code"], "not_found");
    assert!(body["error"]["message"].as_str().unwrap().len() > 10);
}

#[tokio::test]
async fn a_wrong_method_on_a_known_api_path_is_a_json_405() {
    let app = TestApp::new().await;
    let res = app
        .send(
            Request::post("/api/v1/status")
                .header("origin", support::ORIGIN)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, 405);
    assert_eq!(res.json()["error"]["code"], "method_not_allowed");
}

#[tokio::test]
async fn an_unknown_page_is_an_html_404_for_the_signed_in() {
    let app = TestApp::new().await;
    // Signed out, every page (known or not) leads to the sign-in page first.
    let res = app.get("/no-such-page").await;
    assert_eq!(res.status, 303);
    support::create_org(&app.db.db, "contoso").await;
    support::create_user(&app.db.db, "contoso", "a@contoso.example", "viewer").await;
    let cookie = app
        .login("a@contoso.example", support::PASSWORD)
        .await
        .1
        .unwrap();
    let res = app.get_with("/no-such-page", &cookie).await;
    assert_eq!(res.status, 404);
    assert!(res.text().contains("Page not found"));
}

#[derive(Debug, Deserialize)]
struct Greeting {
    name: String,
}

/// A router with JSON routes built the way every API handler is, to pin the conventions.
fn convention_router() -> Router {
    async fn greet(ApiJson(g): ApiJson<Greeting>) -> ApiResult<ApiJson<serde_json::Value>> {
        Ok(ApiJson(serde_json::json!({"hello": g.name})))
    }
    async fn fail() -> ApiResult<ApiJson<()>> {
        Err(ApiError::internal(anyhow::anyhow!(
            "connection to 10.1.2.3 refused: secret detail"
        )))
    }
    async fn panics() -> ApiResult<ApiJson<()>> {
        panic!("boom")
    }
    // The real router's middleware, around test routes.
    Router::new()
        .route("/greet", post(greet))
        .route("/fail", get(fail))
        .route("/panic", get(panics))
        .layer(DefaultBodyLimit::max(64))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            portal::http::middleware::panic_response,
        ))
        .layer(axum::middleware::from_fn(
            portal::http::middleware::request_id,
        ))
}

fn post_json(path: &str, content_type: Option<&str>, body: &str) -> Request<Body> {
    let mut req = Request::post(path);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    req.body(Body::from(body.to_string())).unwrap()
}

#[tokio::test]
async fn valid_json_is_accepted() {
    let res = send(
        convention_router(),
        post_json("/greet", Some("application/json"), r#"{"name":"Ada"}"#),
    )
    .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["hello"], "Ada");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let res = send(
        convention_router(),
        post_json("/greet", Some("text/plain"), r#"{"name":"Ada"}"#),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(res.json()["error"]["code"], "unsupported_media_type");
    let res = send(
        convention_router(),
        post_json("/greet", None, r#"{"name":"Ada"}"#),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn malformed_json_is_422_malformed_json() {
    let res = send(
        convention_router(),
        post_json("/greet", Some("application/json"), r#"{"name": "#),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["code"], "malformed_json");
}

#[tokio::test]
async fn json_with_the_wrong_fields_is_422_invalid_body() {
    let res = send(
        convention_router(),
        post_json("/greet", Some("application/json"), r#"{"nom":"Ada"}"#),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.json();
    assert_eq!(body["error"]["code"], "invalid_body");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("name"),
        "{body}"
    );
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_422_invalid_body() {
    // serde alone would read a struct from an array of its fields.
    for body in [r#"["Ada"]"#, "[null, null]", r#""Ada""#, "42", "null"] {
        let res = send(
            convention_router(),
            post_json("/greet", Some("application/json"), body),
        )
        .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(res.json()["error"]["code"], "invalid_body", "{body}");
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let big = format!(r#"{{"name":"{}"}}"#, "x".repeat(200));
    let res = send(
        convention_router(),
        post_json("/greet", Some("application/json"), &big),
    )
    .await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(res.json()["error"]["code"], "payload_too_large");
}

#[tokio::test]
async fn an_internal_error_hides_its_detail_and_gives_the_request_id() {
    let res = send(
        convention_router(),
        Request::get("/fail").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(res.status, 500);
    let body = res.json();
    assert_eq!(body["error"]["code"], "internal");
    assert!(!res.text().contains("10.1.2.3"), "{body}");
    assert!(!res.text().contains("secret"), "{body}");
    assert_eq!(
        body["error"]["request_id"].as_str(),
        res.header("x-request-id")
    );
}

#[tokio::test]
async fn a_panicking_handler_becomes_an_internal_error() {
    let res = send(
        convention_router(),
        Request::get("/panic").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(res.status, 500);
    assert_eq!(res.json()["error"]["code"], "internal");
    assert!(!res.text().contains("boom"));
}

/// Found by Schemathesis on PostgreSQL (whose text cannot hold NUL): `?org=%00` reached a
/// query and answered 500. Now the same 4xx on both databases, wherever the NUL is.
#[tokio::test]
async fn a_nul_character_anywhere_is_a_4xx_never_a_500() {
    let app = TestApp::new().await;
    let admin = support::voice::customer(&app, "contoso", &[("Trunk A", 30)])
        .await
        .cookie;
    let res = app
        .get_with("/api/v1/emergency-addresses?org=%00", &admin)
        .await;
    assert_eq!(res.status, 404, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "not_found");

    let res = app.get_with("/api/v1/numbers?q=a%00b", &admin).await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert_eq!(res.json()["error"]["field"], "q");

    // In a JSON body, past the field checks: refused, or stored, never a 500.
    for (path, body) in [
        (
            "/api/v1/api-tokens",
            r#"{"name":"a\u0000b","scope":"read","expires_in_days":1}"#,
        ),
        (
            "/api/v1/auth/login",
            r#"{"email":"a\u0000@b.example","password":"x\u0000"}"#,
        ),
    ] {
        let res = app
            .send(
                Request::post(path)
                    .header("cookie", admin.as_str())
                    .header("origin", support::ORIGIN)
                    .header("content-type", "application/json")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert!(
            res.status.is_client_error() || res.status.is_success(),
            "{path}: {} {}",
            res.status,
            res.text()
        );
    }
}
