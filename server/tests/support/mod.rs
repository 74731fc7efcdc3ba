//! Shared test setup: a fresh database per test (SQLite by default, PostgreSQL when
//! `PORTAL_TEST_DATABASE_URL` names a server), the real router, and request helpers.
#![allow(dead_code, clippy::unwrap_used)]

pub mod api;
pub mod cli;
pub mod voice;

use std::time::Instant;

use axum::{
    body::{to_bytes, Body},
    http::{HeaderMap, Request, StatusCode},
    Router,
};
use clap::Parser;
use sqlx::{Connection, Executor, Row};
use tower::ServiceExt;

use portal::{
    clock::Clock,
    config::{Cli, Command, PortalEnv, ServeArgs},
    db::Db,
    http::{self, AppState},
};

/// A database that exists for one test.
pub struct TestDb {
    /// The migrated pool.
    pub db: Db,
    /// Its URL, for running the CLI against it.
    pub url: String,
    _dir: tempfile::TempDir,
}

impl TestDb {
    /// A database the test connected itself, with the directory it keeps.
    pub fn new(db: Db, url: String, dir: tempfile::TempDir) -> TestDb {
        TestDb { db, url, _dir: dir }
    }

    /// The test's own temporary directory.
    pub fn dir_path(&self) -> std::path::PathBuf {
        self._dir.path().to_path_buf()
    }
}

/// Creates and migrates a fresh database on the backend under test.
pub async fn test_db() -> TestDb {
    let (dir, url) = empty_db().await;
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    TestDb { db, url, _dir: dir }
}

/// A fresh, empty (not migrated) database on the backend under test: the temporary
/// directory that holds it (SQLite) or the test's files, and its URL.
pub async fn empty_db() -> (tempfile::TempDir, String) {
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
    (dir, url)
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
    /// The state behind the router.
    pub state: AppState,
    /// The app's clock; tests move it.
    pub clock: Clock,
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
        Self::with_env(PortalEnv::Development, args).await
    }

    /// A fresh app of the deployment kind `env` with extra `serve` flags (not validated, so a
    /// test can look at production's behaviour without its mail server and certificates).
    pub async fn with_env(env: PortalEnv, args: &[&str]) -> TestApp {
        Self::over(test_db().await, env, args)
    }

    /// The app over the database `db` (a test that needs its own pool, e.g. through a proxy
    /// it can cut).
    pub fn over(db: TestDb, env: PortalEnv, args: &[&str]) -> TestApp {
        let data_dir = db.dir_path().join("data");
        let mut all_args = vec!["--data-dir", data_dir.to_str().unwrap()];
        // The development emulator makes an RSA key at start: only the tests that use it
        // (they say --dev-idp or configure an authority) pay for that.
        if !args
            .iter()
            .any(|a| *a == "--dev-idp" || *a == "--entra-client-id")
        {
            all_args.extend_from_slice(&["--dev-idp", "false"]);
        }
        all_args.extend_from_slice(args);
        let config = serve_args(&all_args);
        let clock = Clock::system();
        let mailer = config.mailer().unwrap();
        let state = AppState::new(db.db.clone(), config, env, [7u8; 32], clock.clone(), mailer);
        TestApp {
            router: http::router(state.clone()),
            state,
            clock,
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

/// The origin the test app's pages have (`PORTAL_PUBLIC_URL`'s default).
pub const ORIGIN: &str = "http://localhost:3000";

/// A password that passes the policy.
pub const PASSWORD: &str = "violet tugboat orbit sandwich";

/// The one number a query such as `SELECT COUNT(*) …` answers.
pub async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(db.pool())
        .await
        .unwrap()
        .get::<i64, _>(0)
}

/// Creates an organisation; returns its id.
pub async fn create_org(db: &Db, slug: &str) -> String {
    portal::accounts::create_org(
        db,
        portal::accounts::Actor::CLI,
        &format!("Org {slug}"),
        slug,
    )
    .await
    .unwrap()
    .id
}

/// Creates a customer user with [`PASSWORD`]; returns the user.
pub async fn create_user(
    db: &Db,
    org_slug: &str,
    email: &str,
    role: &str,
) -> portal::db::users::User {
    portal::accounts::create_user(
        db,
        portal::accounts::Actor::CLI,
        portal::accounts::NewUserKind::Customer { org_slug, role },
        email,
        Some(PASSWORD),
    )
    .await
    .unwrap()
}

/// Creates carrier staff `email` with [`PASSWORD`] (no authenticator yet); returns the user.
pub async fn create_staff(db: &Db, email: &str) -> portal::db::users::User {
    portal::accounts::create_user(
        db,
        portal::accounts::Actor::CLI,
        portal::accounts::NewUserKind::Staff,
        email,
        Some(PASSWORD),
    )
    .await
    .unwrap()
}

/// Turns single sign-on on for customer `slug` and links Entra tenant `tenant` to it, as the
/// carrier's staff do.
pub async fn enable_sso_with_tenant(db: &Db, slug: &str, tenant: &str) {
    portal::sso::set_enabled(db, portal::accounts::Actor::CLI, slug, true)
        .await
        .unwrap();
    portal::sso::link_tenant(
        db,
        portal::accounts::Actor::CLI,
        slug,
        tenant,
        portal::sso::LinkedBy::Carrier("test"),
    )
    .await
    .unwrap();
}

/// The session cookie a response set (`name=value`), if any.
pub fn session_cookie(res: &TestResponse) -> Option<String> {
    res.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| {
            v.starts_with("__Host-portal_session=") && !v.starts_with("__Host-portal_session=;")
        })
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

impl TestApp {
    /// A same-origin JSON request with an optional session cookie.
    pub async fn json(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        body: serde_json::Value,
    ) -> TestResponse {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .header("origin", ORIGIN);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        self.send(req.body(Body::from(body.to_string())).unwrap())
            .await
    }

    /// `GET path` with a session cookie.
    pub async fn get_with(&self, path: &str, cookie: &str) -> TestResponse {
        self.send(
            Request::get(path)
                .header("cookie", cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// Signs in with a password; returns the response and the new session cookie.
    pub async fn login(&self, email: &str, password: &str) -> (TestResponse, Option<String>) {
        let res = self
            .json(
                "POST",
                "/api/v1/auth/login",
                None,
                serde_json::json!({"email": email, "password": password}),
            )
            .await;
        let cookie = session_cookie(&res);
        (res, cookie)
    }
}

/// The current TOTP code for a base32 secret at the app's clock, `offset_steps` away.
pub fn totp_code(secret_b32: &str, clock: &Clock, offset_steps: i64) -> String {
    let secret = totp_rs::Secret::Encoded(secret_b32.to_string())
        .to_bytes()
        .unwrap();
    let step = (clock.now_secs() / 30) as i64 + offset_steps;
    portal::auth::totp::code_at_step(&secret, step as u64, 6, portal::auth::totp::Algorithm::Sha1)
}

/// A code that is never right for `secret` at the app's time (the right one, plus one, and
/// not a neighbouring step's code either: those are accepted).
pub fn wrong_totp_code(secret: &str, clock: &Clock) -> String {
    let right: u32 = totp_code(secret, clock, 0).parse().unwrap();
    let mut wrong = (right + 1) % 1_000_000;
    while [-1, 0, 1]
        .iter()
        .any(|o| totp_code(secret, clock, *o) == format!("{wrong:06}"))
    {
        wrong = (wrong + 1) % 1_000_000;
    }
    format!("{wrong:06}")
}

/// The messages in the app's development outbox, newest first.
pub async fn outbox(app: &TestApp) -> Vec<portal::mail::OutboxMessage> {
    let dir = app.db.dir_path().join("data").join("outbox");
    portal::mail::read_outbox(&dir).await.unwrap()
}

/// Waits (up to 10 s) until the outbox holds more than `before` messages (mail such as a
/// password reset goes out after the answer), then returns the token of the newest message's
/// link under `path_prefix` (e.g. `/reset-password/`).
pub async fn next_link_token(app: &TestApp, before: usize, path_prefix: &str) -> String {
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let messages = outbox(app).await;
        if messages.len() > before {
            let body = &messages[0].body;
            let start = body
                .find(path_prefix)
                .unwrap_or_else(|| panic!("no {path_prefix} link in {body}"));
            let link = body[start..].split_whitespace().next().unwrap();
            return link.rsplit('/').next().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "no new mail within 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A minimal SMTP server on a local port: accepts one message per connection and hands its
/// DATA to the test; with `refuse`, it rejects every recipient; it greets each connection
/// after `greeting_delay` (a slow mail server).
pub async fn fake_smtp(
    refuse: bool,
    greeting_delay: std::time::Duration,
) -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                tokio::time::sleep(greeting_delay).await;
                write.write_all(b"220 fake ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            tx.send(std::mem::take(body)).unwrap();
                            data = None;
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 fake\r\n",
                        "RCPT" if refuse => b"550 no such mailbox\r\n",
                        "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 ok\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"502 not implemented\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, rx)
}
