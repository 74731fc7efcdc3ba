//! `/healthz`, `/readyz`, `/metrics` and the request id.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use axum::{body::Body, http::Request};
use support::TestApp;

#[tokio::test]
async fn healthz_answers_ok_with_a_request_id() {
    let app = TestApp::new().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["status"], "ok");
    let id = res.header("x-request-id").expect("request id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
}

#[tokio::test]
async fn a_well_formed_incoming_request_id_is_kept_and_a_bad_one_replaced() {
    let app = TestApp::new().await;
    let res = app
        .send(
            Request::get("/healthz")
                .header("x-request-id", "lb-1234abcd")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.header("x-request-id"), Some("lb-1234abcd"));

    let res = app
        .send(
            Request::get("/healthz")
                .header("x-request-id", "evil value; with spaces")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let id = res.header("x-request-id").unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
}

#[tokio::test]
async fn readyz_is_ready_while_the_database_answers_and_503_after() {
    let app = TestApp::new().await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["database"], "ok");

    app.db.db.close().await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status, 503);
    assert_eq!(res.json()["error"]["code"], "database_unreachable");
    assert!(res.header("retry-after").is_some());
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_report_the_pool() {
    let app = TestApp::new().await;
    assert_eq!(app.get("/healthz").await.status, 200);
    assert_eq!(app.get("/api/v1/nothing-here").await.status, 404);
    let res = app.get("/metrics").await;
    assert_eq!(res.status, 200);
    assert!(res
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    let text = res.text();
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/healthz",status="200"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="unmatched",status="404"}"#),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("db_pool_connections{"), "{text}");
    assert!(text.contains("db_pool_max_connections{"), "{text}");
}

#[tokio::test]
async fn the_status_api_reports_version_and_database() {
    let app = TestApp::new().await;
    let res = app.get("/api/v1/status").await;
    assert_eq!(res.status, 200);
    let body = res.json();
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["database"], "ok");
    assert!(body["server_time"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn made_up_methods_do_not_grow_the_metrics() {
    let app = TestApp::new().await;
    for i in 0..40 {
        let method = format!("X{i}METHOD");
        let res = app
            .send(
                Request::builder()
                    .method(method.as_str())
                    .uri("/healthz")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert!(res.status.is_client_error(), "{method}: {}", res.status);
    }
    let text = app.get("/metrics").await.text();
    assert!(!text.contains("X1METHOD"), "{text}");
    assert!(
        text.contains(r#"http_requests_total{method="other",route="/healthz",status="405"}"#),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_are_for_prometheus_only_when_a_token_is_set_and_off_in_production_without() {
    let token = "a-metrics-token-of-at-least-thirty-two-characters";
    let app = TestApp::with_args(&["--metrics-token", token]).await;
    assert_eq!(app.get("/metrics").await.status, 401);
    let wrong = app
        .send(
            Request::get("/metrics")
                .header("authorization", "Bearer not-the-token")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(wrong.status, 401);
    let right = app
        .send(
            Request::get("/metrics")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(right.status, 200);
    assert!(right.text().contains("http_requests_total"));

    let production = TestApp::with_env(portal::config::PortalEnv::Production, &[]).await;
    let res = production.get("/metrics").await;
    assert_eq!(res.status, 404, "{}", res.text());
    let production = TestApp::with_env(
        portal::config::PortalEnv::Production,
        &["--metrics-token", token],
    )
    .await;
    let res = production
        .send(
            Request::get("/metrics")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, 200);
}
