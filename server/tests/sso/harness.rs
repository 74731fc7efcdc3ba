//! The harness of the SSO tests: the portal with an app registration pointing at the
//! development emulator, which it reaches over HTTP on its own port, and the browser's side
//! of a trip through it (following redirects, carrying cookies, submitting the emulator's
//! forms).

use axum::{body::Body, http::Request};
use serde_json::Value;
use sqlx::Row;

use crate::support::{self, TestApp, TestResponse, ORIGIN};
use portal::devidp::{DevIdp, DevIdpConfig, TamperSigning, TokenTamper};

/// The app registration's client id.
pub const CLIENT_ID: &str = "test-client";
/// The app registration's client secret.
pub const CLIENT_SECRET: &str = "test-secret-that-is-long-enough-for-hs256";

/// The portal and an emulator it reaches over HTTP.
pub struct Sso {
    /// The portal.
    pub app: TestApp,
    /// The emulator, with its hooks for tampering and failing.
    pub idp: DevIdp,
    /// The browser towards the emulator (it follows no redirects).
    pub http: reqwest::Client,
}

/// The portal and an emulator on a fresh port.
///
/// `timeout_secs`: the portal's timeout for calls to the identity provider. Generous by
/// default: the emulator makes RSA keys on demand for some tampered tokens, which takes a
/// moment on a busy two-core machine.
pub async fn sso_with(timeout_secs: &str) -> Sso {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let idp = DevIdp::new(DevIdpConfig {
        base_url: base.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        redirect_uris: vec![
            format!("{ORIGIN}/auth/microsoft/callback"),
            format!("{ORIGIN}/auth/microsoft/consent/callback"),
        ],
    })
    .unwrap();
    let router = idp.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let args = vec![
        "--entra-client-id",
        CLIENT_ID,
        "--entra-client-secret",
        CLIENT_SECRET,
        "--entra-authority",
        &base,
        "--entra-timeout-secs",
        timeout_secs,
    ];
    let app = TestApp::with_args(&args).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Sso { app, idp, http }
}

/// The portal and an emulator, with the default timeout.
pub async fn sso() -> Sso {
    sso_with("10").await
}

/// A customer with SSO enabled and `tenant` linked.
pub async fn linked_org(s: &Sso, slug: &str, tenant: &str) {
    support::create_org(&s.app.db.db, slug).await;
    support::enable_sso_with_tenant(&s.app.db.db, slug, tenant).await;
}

/// The last cookie `name` a response set (`name=value`), if any and not a removal.
pub fn set_cookie(res: &TestResponse, name: &str) -> Option<String> {
    res.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .rfind(|v| v.starts_with(&format!("{name}=")) && !v.starts_with(&format!("{name}=;")))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

/// The `Location` of a redirect (panics with the answer when there is none).
pub fn location(res: &TestResponse) -> String {
    res.header("location")
        .unwrap_or_else(|| panic!("no location ({}): {}", res.status, res.text()))
        .to_string()
}

/// A `Cookie` header of the cookies given.
pub fn cookies(parts: &[Option<&str>]) -> String {
    parts
        .iter()
        .flatten()
        .copied()
        .collect::<Vec<_>>()
        .join("; ")
}

/// The query parameters of a URL, decoded.
pub fn query_of(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// One query parameter of a URL, decoded.
pub fn param(url: &str, name: &str) -> Option<String> {
    query_of(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// What one trip through the identity provider gave.
pub struct Trip {
    /// The portal's answer to the callback.
    pub callback: TestResponse,
    /// The callback URL the identity provider sent the browser to.
    pub callback_url: String,
    /// The transaction cookie the flow used.
    pub oidc_cookie: String,
    /// The authorization URL the portal sent the browser to.
    pub authorize_url: String,
}

impl Sso {
    /// Submits the emulator's form at `url` (its own query plus `picked`); returns where the
    /// emulator redirects.
    pub async fn submit_idp_form(&self, url: &str, picked: &[(&str, &str)]) -> String {
        let (endpoint, query) = url.split_once('?').unwrap();
        let mut body = query.to_string();
        for (k, v) in picked {
            body.push('&');
            body.push_str(
                &url::form_urlencoded::Serializer::new(String::new())
                    .append_pair(k, v)
                    .finish(),
            );
        }
        let res = self
            .http
            .post(endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status().as_u16(),
            302,
            "{}",
            res.text().await.unwrap_or_default()
        );
        res.headers()["location"].to_str().unwrap().to_string()
    }

    /// Follows a portal start link through the identity provider and back.
    pub async fn trip(&self, start: &str, session: Option<&str>, picked: &[(&str, &str)]) -> Trip {
        let res = match session {
            Some(c) => self.app.get_with(start, c).await,
            None => self.app.get(start).await,
        };
        assert_eq!(res.status, 303, "{start}: {}", res.text());
        let authorize_url = location(&res);
        let oidc_cookie = set_cookie(&res, "__Host-portal_oidc").expect("transaction cookie");
        let callback_url = self.submit_idp_form(&authorize_url, picked).await;
        let callback = self.finish(&callback_url, &oidc_cookie, session).await;
        Trip {
            callback,
            callback_url,
            oidc_cookie,
            authorize_url,
        }
    }

    /// Delivers an identity-provider redirect to the portal.
    pub async fn finish(
        &self,
        callback_url: &str,
        oidc: &str,
        session: Option<&str>,
    ) -> TestResponse {
        let path = callback_url
            .strip_prefix(ORIGIN)
            .expect("redirect to the portal");
        self.app
            .get_with(path, &cookies(&[Some(oidc), session]))
            .await
    }

    /// Signs in as demo identity `key` starting from `/auth/microsoft/login?return_to=…`.
    pub async fn sign_in_as(&self, key: &str, return_to: &str) -> Trip {
        let start = format!(
            "/auth/microsoft/login?return_to={}",
            url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
        );
        self.trip(&start, None, &[("identity", key)]).await
    }

    /// Posts the invitation page's "Accept with Microsoft" form.
    pub async fn accept_invitation_with_microsoft(&self, token: &str) -> TestResponse {
        self.app
            .send(
                Request::post("/auth/microsoft/invitation")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("origin", ORIGIN)
                    .body(Body::from(format!("token={token}")))
                    .unwrap(),
            )
            .await
    }

    /// Signs in as someone typed into the emulator's "another account" form.
    pub async fn sign_in_other(&self, tenant: &str, name: &str, email: &str) -> Trip {
        self.trip(
            "/auth/microsoft/login",
            None,
            &[
                ("identity", "other"),
                ("other_tenant", tenant),
                ("other_name", name),
                ("other_email", email),
            ],
        )
        .await
    }

    /// `GET /api/v1/me` with a session cookie (panics unless 200).
    pub async fn me(&self, cookie: &str) -> Value {
        let res = self.app.get_with("/api/v1/me", cookie).await;
        assert_eq!(res.status, 200, "{}", res.text());
        res.json()
    }

    /// The one number a `SELECT COUNT(*) …` answers.
    pub async fn count(&self, sql: &str) -> i64 {
        support::count(&self.app.db.db, sql).await
    }

    /// The details of the newest audit entry of `action`.
    pub async fn last_audit(&self, action: &str) -> Value {
        let row =
            sqlx::query("SELECT details FROM audit_log WHERE action = $1 ORDER BY id DESC LIMIT 1")
                .bind(action)
                .fetch_one(self.app.db.db.pool())
                .await
                .unwrap_or_else(|e| panic!("no {action} entry: {e}"));
        serde_json::from_str(&row.try_get::<String, _>("details").unwrap()).unwrap()
    }

    /// Makes the emulator spoil its ID tokens: `edit` changes the header and the claims.
    pub fn tamper(
        &self,
        signing: TamperSigning,
        edit: impl Fn(&mut Value, &mut Value) + Send + Sync + 'static,
    ) {
        self.idp.set_token_tamper(Some(TokenTamper {
            edit: Box::new(edit),
            signing,
        }));
    }
}
