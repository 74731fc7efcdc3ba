//! Shared test setup: a fresh database per test (SQLite by default, PostgreSQL when
//! `PORTAL_TEST_DATABASE_URL` names a server), the real router, and request helpers.
#![allow(dead_code, clippy::unwrap_used)]

use std::{sync::Arc, time::Instant};

use axum::{
    body::{to_bytes, Body},
    http::{HeaderMap, Request, StatusCode},
    Router,
};
use clap::Parser;
use sqlx::{Connection, Executor};
use tower::ServiceExt;

use portal::{
    config::{Cli, Command, PortalEnv, ServeArgs},
    db::Db,
    http::{self, AppState},
    telemetry,
};

/// A database that exists for one test.
pub struct TestDb {
    /// The migrated pool.
    pub db: Db,
    /// Its URL, for running the CLI against it.
    pub url: String,
    _dir: tempfile::TempDir,
}

/// Creates and migrates a fresh database on the backend under test.
pub async fn test_db() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = match std::env::var("PORTAL_TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("t_{}", uuid::Uuid::new_v4().simple());
            let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
            admin
                .execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            let mut url = url::Url::parse(&admin_url).unwrap();
            url.set_path(&name);
            url.to_string()
        }
        _ => format!("sqlite://{}/portal.db?mode=rwc", dir.path().display()),
    };
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    TestDb { db, url, _dir: dir }
}

/// `portal serve` settings as parsed from `args` (plus the environment's defaults).
pub fn serve_args(args: &[&str]) -> ServeArgs {
    let mut argv = vec!["portal", "serve"];
    argv.extend_from_slice(args);
    match Cli::try_parse_from(argv).unwrap().command {
        Some(Command::Serve(a)) => *a,
        _ => unreachable!(),
    }
}

/// The whole application over a fresh database, driven without a socket.
pub struct TestApp {
    /// The database behind the app.
    pub db: TestDb,
    /// The router under test.
    pub router: Router,
}

/// A response with its body read.
pub struct TestResponse {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl TestResponse {
    /// The body as JSON (panics with the body text when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    /// A fresh app with default development settings.
    pub async fn new() -> TestApp {
        Self::with_args(&[]).await
    }

    /// A fresh app with extra `serve` flags.
    pub async fn with_args(args: &[&str]) -> TestApp {
        let db = test_db().await;
        let config = serve_args(args);
        let state = AppState {
            db: db.db.clone(),
            leptos: http::leptos_options(&config),
            config: Arc::new(config),
            env: PortalEnv::Development,
            metrics: telemetry::metrics_handle(),
            started: Instant::now(),
        };
        TestApp {
            router: http::router(state),
            db,
        }
    }

    /// Sends a request through the router.
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        send(self.router.clone(), request).await
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }
}

/// Sends a request through any router and reads the whole response.
pub async fn send(router: Router, request: Request<Body>) -> TestResponse {
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    TestResponse {
        status,
        headers,
        body,
    }
}

/// When the process started, for tests that time things.
pub fn now() -> Instant {
    Instant::now()
}
