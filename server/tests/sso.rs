//! Single sign-on with Microsoft Entra ID, end to end over the real router and the
//! development emulator served on its own port (so the portal talks to it over HTTP, as it
//! would to Entra): the happy path, one test per bad-token class, the JWKS rules, the
//! tenant check, identities, provisioning, admin consent and open-redirect variants.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use axum::{body::Body, http::Request};
use serde_json::{json, Value};
use sqlx::Row;

use portal::{
    accounts::Actor,
    devidp::{
        DevIdp, DevIdpConfig, Failure, TamperSigning, TokenTamper, CONTOSO_TENANT, FABRIKAM_TENANT,
    },
};
use support::{session_cookie, TestApp, TestResponse, ORIGIN, PASSWORD};

const CLIENT_ID: &str = "test-client";
const CLIENT_SECRET: &str = "test-secret-that-is-long-enough-for-hs256";

/// The portal and an emulator it reaches over HTTP.
struct Sso {
    app: TestApp,
    idp: DevIdp,
    http: reqwest::Client,
}

/// `timeout_secs`: the portal's timeout for calls to the identity provider. Generous by
/// default: the emulator makes RSA keys on demand for some tampered tokens, which takes a
/// moment on a busy two-core machine.
async fn sso_with(timeout_secs: &str) -> Sso {
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

async fn sso() -> Sso {
    sso_with("10").await
}

/// A customer with SSO enabled and `tenant` linked.
async fn linked_org(s: &Sso, slug: &str, tenant: &str) {
    support::create_org(&s.app.db.db, slug).await;
    portal::sso::set_enabled(&s.app.db.db, Actor::CLI, slug, true)
        .await
        .unwrap();
    portal::sso::link_tenant(
        &s.app.db.db,
        Actor::CLI,
        slug,
        tenant,
        portal::sso::LinkedBy::Carrier("test"),
    )
    .await
    .unwrap();
}

fn set_cookie(res: &TestResponse, name: &str) -> Option<String> {
    res.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .rfind(|v| v.starts_with(&format!("{name}=")) && !v.starts_with(&format!("{name}=;")))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

fn location(res: &TestResponse) -> String {
    res.header("location")
        .unwrap_or_else(|| panic!("no location ({}): {}", res.status, res.text()))
        .to_string()
}

fn cookies(parts: &[Option<&str>]) -> String {
    parts
        .iter()
        .flatten()
        .copied()
        .collect::<Vec<_>>()
        .join("; ")
}

fn query_of(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param(url: &str, name: &str) -> Option<String> {
    query_of(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// What one trip through the identity provider gave.
struct Trip {
    /// The portal's answer to the callback.
    callback: TestResponse,
    /// The callback URL the identity provider sent the browser to.
    callback_url: String,
    /// The transaction cookie the flow used.
    oidc_cookie: String,
    /// The authorization URL the portal sent the browser to.
    authorize_url: String,
}

impl Sso {
    /// Submits the emulator's form at `url` (its own query plus `picked`); returns where the
    /// emulator redirects.
    async fn submit_idp_form(&self, url: &str, picked: &[(&str, &str)]) -> String {
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
    async fn trip(&self, start: &str, session: Option<&str>, picked: &[(&str, &str)]) -> Trip {
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
    async fn finish(&self, callback_url: &str, oidc: &str, session: Option<&str>) -> TestResponse {
        let path = callback_url
            .strip_prefix(ORIGIN)
            .expect("redirect to the portal");
        self.app
            .get_with(path, &cookies(&[Some(oidc), session]))
            .await
    }

    /// Signs in as demo identity `key` starting from `/auth/microsoft/login?return_to=…`.
    async fn sign_in_as(&self, key: &str, return_to: &str) -> Trip {
        let start = format!(
            "/auth/microsoft/login?return_to={}",
            url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
        );
        self.trip(&start, None, &[("identity", key)]).await
    }

    /// Posts the invitation page's "Accept with Microsoft" form.
    async fn accept_invitation_with_microsoft(&self, token: &str) -> TestResponse {
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
    async fn sign_in_other(&self, tenant: &str, name: &str, email: &str) -> Trip {
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

    async fn me(&self, cookie: &str) -> Value {
        let res = self.app.get_with("/api/v1/me", cookie).await;
        assert_eq!(res.status, 200, "{}", res.text());
        res.json()
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query(sql)
            .fetch_one(self.app.db.db.pool())
            .await
            .unwrap()
            .try_get::<i64, _>(0)
            .unwrap()
    }

    async fn last_audit(&self, action: &str) -> Value {
        let row =
            sqlx::query("SELECT details FROM audit_log WHERE action = $1 ORDER BY id DESC LIMIT 1")
                .bind(action)
                .fetch_one(self.app.db.db.pool())
                .await
                .unwrap_or_else(|e| panic!("no {action} entry: {e}"));
        serde_json::from_str(&row.try_get::<String, _>("details").unwrap()).unwrap()
    }

    fn tamper(
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

#[tokio::test]
async fn a_user_of_a_linked_tenant_signs_in_with_one_click_and_lands_where_they_asked() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;

    let trip = s.sign_in_as("adele", "/calls?result=failed").await;
    // The authorization request: code flow, PKCE S256, long state and nonce, query mode.
    let auth = &trip.authorize_url;
    assert!(
        auth.contains("/organizations/oauth2/v2.0/authorize?"),
        "{auth}"
    );
    assert_eq!(param(auth, "response_type").as_deref(), Some("code"));
    assert_eq!(param(auth, "response_mode").as_deref(), Some("query"));
    assert_eq!(
        param(auth, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(param(auth, "client_id").as_deref(), Some(CLIENT_ID));
    let scope = param(auth, "scope").unwrap();
    for s in ["openid", "profile", "email"] {
        assert!(scope.split(' ').any(|x| x == s), "{scope}");
    }
    // 128 bits are 22 base64url characters; we send 256.
    assert!(param(auth, "state").unwrap().len() >= 22);
    assert!(param(auth, "nonce").unwrap().len() >= 22);
    assert!(trip.oidc_cookie.starts_with("__Host-portal_oidc="));

    assert_eq!(trip.callback.status, 303, "{}", trip.callback.text());
    assert_eq!(location(&trip.callback), "/calls?result=failed");
    let cookie = session_cookie(&trip.callback).expect("a session");
    let me = s.me(&cookie).await;
    assert_eq!(me["user"]["auth_method"], "entra");
    assert_eq!(me["user"]["email"], "adele.vance@contoso.example");
    assert_eq!(
        me["user"]["role"], "viewer",
        "the default role of just-in-time users"
    );
    assert_eq!(me["user"]["mfa_enabled"], false);
    assert_eq!(
        me["user"]["has_password"], false,
        "SSO-only users have no portal password"
    );
    assert_eq!(me["organisation"]["slug"], "contoso");
    let first_id = me["user"]["id"].clone();

    // The same identity again is the same user, and the transaction cookie is cleared.
    let again = s.sign_in_as("adele", "/").await;
    assert!(again
        .callback
        .headers
        .get_all("set-cookie")
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("__Host-portal_oidc=;")));
    let me2 = s.me(&session_cookie(&again.callback).unwrap()).await;
    assert_eq!(me2["user"]["id"], first_id);
    assert_eq!(s.count("SELECT COUNT(*) FROM user_identities").await, 1);
    assert_eq!(s.last_audit("auth.login").await["method"], "entra");
    let provisioned = s.last_audit("user.provisioned").await;
    assert_eq!(provisioned["tid"], CONTOSO_TENANT);

    // A replayed callback (same code and state) finds no transaction: refused, no session.
    let replay = s.finish(&trip.callback_url, &trip.oidc_cookie, None).await;
    assert_eq!(replay.status, 303);
    assert_eq!(location(&replay), "/login?error=expired");
    assert!(session_cookie(&replay).is_none());
}

#[tokio::test]
async fn every_bad_token_class_is_refused_and_creates_nothing() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    let authority = s.idp.config().base_url.clone();
    let other_issuer = format!("{authority}/{FABRIKAM_TENANT}/v2.0");
    type Edit = Box<dyn Fn(&mut Value, &mut Value) + Send + Sync>;
    let cases: Vec<(&str, TamperSigning, Edit, &str)> = vec![
        (
            "sts.windows.net issuer",
            TamperSigning::Rs256,
            Box::new(|_, c| c["iss"] = json!(format!("https://sts.windows.net/{CONTOSO_TENANT}/"))),
            "issuer",
        ),
        (
            "issuer with a trailing slash",
            TamperSigning::Rs256,
            Box::new(|_, c| {
                let i = c["iss"].as_str().unwrap().to_string();
                c["iss"] = json!(format!("{i}/"));
            }),
            "issuer",
        ),
        (
            "issuer of another tenant",
            TamperSigning::Rs256,
            Box::new(move |_, c| c["iss"] = json!(other_issuer.clone())),
            "issuer",
        ),
        (
            "tid not a GUID",
            TamperSigning::Rs256,
            Box::new(|_, c| c["tid"] = json!("contoso.onmicrosoft.com")),
            "tid_not_guid",
        ),
        (
            "ver 1.0",
            TamperSigning::Rs256,
            Box::new(|_, c| c["ver"] = json!("1.0")),
            "version",
        ),
        (
            "another audience",
            TamperSigning::Rs256,
            Box::new(|_, c| c["aud"] = json!("someone-else")),
            "audience",
        ),
        (
            "an extra audience",
            TamperSigning::Rs256,
            Box::new(|_, c| c["aud"] = json!([CLIENT_ID, "someone-else"])),
            "audience",
        ),
        (
            "expired",
            TamperSigning::Rs256,
            Box::new(|_, c| {
                let iat = c["iat"].as_i64().unwrap();
                c["exp"] = json!(iat - 3600);
            }),
            "expired",
        ),
        (
            "no iat",
            TamperSigning::Rs256,
            Box::new(|_, c| {
                c.as_object_mut().unwrap().remove("iat");
            }),
            "missing_claim",
        ),
        (
            "iat in the future",
            TamperSigning::Rs256,
            Box::new(|_, c| {
                let iat = c["iat"].as_i64().unwrap();
                c["iat"] = json!(iat + 3600);
                c["exp"] = json!(iat + 7200);
            }),
            "iat_future",
        ),
        (
            "nbf in the future",
            TamperSigning::Rs256,
            Box::new(|_, c| {
                let iat = c["iat"].as_i64().unwrap();
                c["nbf"] = json!(iat + 3600);
            }),
            "nbf_future",
        ),
        (
            "another nonce",
            TamperSigning::Rs256,
            Box::new(|_, c| c["nonce"] = json!("replayed-nonce")),
            "nonce",
        ),
        (
            "no oid",
            TamperSigning::Rs256,
            Box::new(|_, c| {
                c.as_object_mut().unwrap().remove("oid");
            }),
            "missing_claim",
        ),
        (
            "HS256 with the client secret",
            TamperSigning::Hs256WithClientSecret,
            Box::new(|_, _| {}),
            "algorithm",
        ),
        (
            "alg none",
            TamperSigning::Unsigned,
            Box::new(|_, _| {}),
            "algorithm",
        ),
        (
            "a key not in the JWKS",
            TamperSigning::ForeignKey,
            Box::new(|_, _| {}),
            "unknown_kid",
        ),
        (
            "a forged signature under a known kid",
            TamperSigning::ForeignKey,
            {
                let kid = s.idp.kid();
                Box::new(move |h, _| h["kid"] = json!(kid.clone()))
            },
            "signature",
        ),
        (
            "no id_token",
            TamperSigning::OmitIdToken,
            Box::new(|_, _| {}),
            "no_id_token",
        ),
    ];
    for (name, signing, edit, reason) in cases {
        s.idp.set_token_tamper(Some(TokenTamper { edit, signing }));
        let trip = s.sign_in_as("adele", "/").await;
        assert_eq!(
            trip.callback.status,
            303,
            "{name}: {}",
            trip.callback.text()
        );
        assert_eq!(
            location(&trip.callback),
            "/login?error=invalid_token",
            "{name}"
        );
        assert!(session_cookie(&trip.callback).is_none(), "{name}");
        assert_eq!(
            s.last_audit("auth.sso_failed").await["reason"],
            reason,
            "{name}"
        );
        assert_eq!(s.count("SELECT COUNT(*) FROM users").await, 0, "{name}");
        assert_eq!(s.count("SELECT COUNT(*) FROM sessions").await, 0, "{name}");
    }
    // And the untampered token still works: the refusals were the tampering.
    s.idp.set_token_tamper(None);
    assert!(session_cookie(&s.sign_in_as("adele", "/").await.callback).is_some());
}

#[tokio::test]
async fn the_signing_keys_follow_the_jwks_rules() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    // Unparseable and foreign key types in the JWKS are skipped, not fatal.
    s.idp.set_extra_jwks_keys(vec![
        json!({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "kid": "ec"}),
        json!({"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"}),
        json!("not even an object"),
    ]);
    assert!(session_cookie(&s.sign_in_as("adele", "/").await.callback).is_some());
    assert_eq!(s.idp.jwks_fetches(), 1);

    // A token without kid is tried against every signing key.
    s.tamper(TamperSigning::Rs256, |h, _| {
        h.as_object_mut().unwrap().remove("kid");
    });
    assert!(session_cookie(&s.sign_in_as("adele", "/").await.callback).is_some());

    // A key whose issuer property names another authority is refused.
    s.idp.set_token_tamper(None);
    s.idp.set_jwks_issuer(Some(
        "https://login.example.net/{tenantid}/v2.0".to_string(),
    ));
    s.idp.rotate_key().unwrap(); // a new kid forces a refetch that sees the new property
    let trip = s.sign_in_as("adele", "/").await;
    assert_eq!(location(&trip.callback), "/login?error=invalid_token");
    assert_eq!(
        s.last_audit("auth.sso_failed").await["reason"],
        "key_issuer"
    );
    s.idp.set_jwks_issuer(None);

    // A flood of unknown kids fetches the JWKS at most once a minute.
    s.app.clock.advance_secs(61);
    s.tamper(TamperSigning::ForeignKey, |_, _| {});
    let before = s.idp.jwks_fetches();
    for _ in 0..8 {
        let trip = s.sign_in_as("adele", "/").await;
        assert_eq!(location(&trip.callback), "/login?error=invalid_token");
    }
    assert_eq!(
        s.idp.jwks_fetches(),
        before + 1,
        "one refetch for the whole flood"
    );
    s.app.clock.advance_secs(61);
    s.sign_in_as("adele", "/").await;
    assert_eq!(s.idp.jwks_fetches(), before + 2, "one more a minute later");

    // Rotation: the new kid is fetched (the allowance is free again after a minute).
    s.idp.set_token_tamper(None);
    s.idp.rotate_key().unwrap();
    s.app.clock.advance_secs(61);
    assert!(session_cookie(&s.sign_in_as("adele", "/").await.callback).is_some());
}

#[tokio::test]
async fn identity_provider_errors_end_on_clear_pages_never_a_500() {
    // Down before the flow starts: discovery fails, a 502 page.
    let s = sso_with("1").await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    s.idp.set_failure(Some(Failure::ServerError));
    let res = s.app.get("/auth/microsoft/login").await;
    assert_eq!(res.status, 502);
    assert!(res.text().contains("Microsoft Entra ID is not answering"));
    assert!(res.header("content-type").unwrap().starts_with("text/html"));

    // Slow: the call times out (1 s here; 10 s by default), a 502 page.
    s.idp
        .set_failure(Some(Failure::Slow(Duration::from_secs(3))));
    let started = std::time::Instant::now();
    let res = s.app.get("/auth/microsoft/login").await;
    assert_eq!(res.status, 502);
    assert!(started.elapsed() < Duration::from_secs(3));

    // Down between the redirect and the code exchange.
    s.idp.set_failure(None);
    let res = s.app.get("/auth/microsoft/login").await;
    let oidc = set_cookie(&res, "__Host-portal_oidc").unwrap();
    let callback = s
        .submit_idp_form(&location(&res), &[("identity", "adele")])
        .await;
    s.idp.set_failure(Some(Failure::ServerError));
    let res = s.finish(&callback, &oidc, None).await;
    assert_eq!(res.status, 502);
    s.idp.set_failure(None);

    // The user cancels at the identity provider: error=access_denied.
    let res = s
        .app
        .get("/auth/microsoft/login?return_to=%2Fnumbers")
        .await;
    let oidc = set_cookie(&res, "__Host-portal_oidc").unwrap();
    let callback = s
        .submit_idp_form(&location(&res), &[("action", "cancel")])
        .await;
    assert!(callback.contains("error=access_denied"), "{callback}");
    let res = s.finish(&callback, &oidc, None).await;
    assert_eq!(
        location(&res),
        "/login?error=access_denied&return_to=/numbers"
    );
    assert_eq!(
        s.last_audit("auth.sso_failed").await["reason"],
        "access_denied"
    );

    // A callback without the transaction cookie (another browser): refused.
    let res = s.app.get("/auth/microsoft/login").await;
    let callback = s
        .submit_idp_form(&location(&res), &[("identity", "adele")])
        .await;
    let res = s.app.get(callback.strip_prefix(ORIGIN).unwrap()).await;
    assert_eq!(location(&res), "/login?error=expired");
    // With the cookie of one flow and the state of another: refused.
    let a = s.app.get("/auth/microsoft/login").await;
    let b = s.app.get("/auth/microsoft/login").await;
    let callback_b = s
        .submit_idp_form(&location(&b), &[("identity", "adele")])
        .await;
    let res = s
        .finish(
            &callback_b,
            &set_cookie(&a, "__Host-portal_oidc").unwrap(),
            None,
        )
        .await;
    assert_eq!(location(&res), "/login?error=state_mismatch");
    // An expired transaction.
    let res = s.app.get("/auth/microsoft/login").await;
    let oidc = set_cookie(&res, "__Host-portal_oidc").unwrap();
    let callback = s
        .submit_idp_form(&location(&res), &[("identity", "adele")])
        .await;
    s.app.clock.advance_secs(601);
    assert_eq!(
        location(&s.finish(&callback, &oidc, None).await),
        "/login?error=expired"
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM sessions").await, 0);
}

#[tokio::test]
async fn a_flow_started_under_another_host_name_moves_to_the_public_origin_first() {
    let s = sso().await;
    let res = s
        .app
        .send(
            Request::get("/auth/microsoft/login?return_to=%2Fcalls")
                .header("host", "127.0.0.1:3000")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(
        location(&res),
        format!("{ORIGIN}/auth/microsoft/login?return_to=%2Fcalls")
    );
    assert!(set_cookie(&res, "__Host-portal_oidc").is_none());
    let res = s
        .app
        .send(
            Request::get("/auth/microsoft/login")
                .header("host", "localhost:3000")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(set_cookie(&res, "__Host-portal_oidc").is_some());
}

#[tokio::test]
async fn sso_is_not_configured_without_an_app_registration() {
    let app = TestApp::new().await;
    let res = app.get("/auth/microsoft/login").await;
    assert_eq!(res.status, 503);
    assert!(res.text().contains("not configured"));
}

#[tokio::test]
async fn the_tenant_check_refuses_and_creates_nothing() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;

    // An unlinked tenant.
    let trip = s.sign_in_as("alex", "/").await;
    assert_eq!(location(&trip.callback), "/login?error=tenant_not_linked");
    let entry = s.last_audit("auth.sso_refused").await;
    assert_eq!(entry["tid"], FABRIKAM_TENANT);
    assert_eq!(entry["reason"], "tenant_not_linked");

    // The consumer tenant (personal accounts).
    let trip = s.sign_in_as("personal", "/").await;
    assert_eq!(location(&trip.callback), "/login?error=consumer_account");

    // A disabled tenant.
    portal::sso::set_tenant_disabled(&s.app.db.db, Actor::CLI, "contoso", CONTOSO_TENANT, true)
        .await
        .unwrap();
    let trip = s.sign_in_as("adele", "/").await;
    assert_eq!(location(&trip.callback), "/login?error=tenant_disabled");
    portal::sso::set_tenant_disabled(&s.app.db.db, Actor::CLI, "contoso", CONTOSO_TENANT, false)
        .await
        .unwrap();

    // SSO turned off for the customer.
    portal::sso::set_enabled(&s.app.db.db, Actor::CLI, "contoso", false)
        .await
        .unwrap();
    let trip = s.sign_in_as("adele", "/").await;
    assert_eq!(location(&trip.callback), "/login?error=sso_disabled");

    assert_eq!(s.count("SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(s.count("SELECT COUNT(*) FROM sessions").await, 0);
    assert_eq!(s.count("SELECT COUNT(*) FROM user_identities").await, 0);
}

#[tokio::test]
async fn users_are_keyed_by_tenant_and_object_id_never_by_email() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    linked_org(&s, "fabrikam", FABRIKAM_TENANT).await;
    // A local account at Contoso with a password.
    let local =
        support::create_user(&s.app.db.db, "contoso", "admin@contoso.example", "admin").await;

    // Someone in Fabrikam's tenant whose token carries that same email.
    let trip = s
        .sign_in_other(FABRIKAM_TENANT, "Mallory", "admin@contoso.example")
        .await;
    let me = s.me(&session_cookie(&trip.callback).unwrap()).await;
    assert_ne!(
        me["user"]["id"],
        json!(local.id),
        "nOAuth: an email never matches an account"
    );
    assert_eq!(me["organisation"]["slug"], "fabrikam");

    // The same oid in two tenants is two users.
    s.tamper(TamperSigning::Rs256, |_, c| {
        c["oid"] = json!("00000000-0000-0000-0000-00000000000a")
    });
    let a = s.sign_in_as("adele", "/").await;
    let b = s.sign_in_as("alex", "/").await;
    let me_a = s.me(&session_cookie(&a.callback).unwrap()).await;
    let me_b = s.me(&session_cookie(&b.callback).unwrap()).await;
    assert_ne!(me_a["user"]["id"], me_b["user"]["id"]);
    assert_eq!(me_a["organisation"]["slug"], "contoso");
    assert_eq!(me_b["organisation"]["slug"], "fabrikam");
}

#[tokio::test]
async fn without_just_in_time_provisioning_only_a_pending_invitation_lets_a_new_user_in() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    support::create_user(&s.app.db.db, "contoso", "boss@contoso.example", "admin").await;
    let (_, admin) = s.app.login("boss@contoso.example", PASSWORD).await;
    let admin = admin.unwrap();
    let res = s
        .app
        .json(
            "PUT",
            "/api/v1/organisation/sso",
            Some(&admin),
            json!({"jit_provisioning": false, "default_role": "engineer", "require_sso": false}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["jit_provisioning"], false);

    // Not invited: refused, nothing created.
    let users_before = s.count("SELECT COUNT(*) FROM users").await;
    let trip = s.sign_in_as("megan", "/").await;
    assert_eq!(
        location(&trip.callback),
        "/login?error=user_not_provisioned"
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM users").await, users_before);

    // Invited by address. Signing in with Microsoft is still refused: an invitation is never
    // matched by the address a token carries (any member of the tenant can carry any `email`).
    let before = support::outbox(&s.app).await.len();
    let res = s
        .app
        .json(
            "POST",
            "/api/v1/users/invitations",
            Some(&admin),
            json!({"email": "Megan.Bowen@contoso.example", "role": "engineer"}),
        )
        .await;
    assert!(res.status.is_success(), "{}", res.text());
    let invited_id = res.json()["user_id"].as_str().unwrap().to_string();
    let token = support::next_link_token(&s.app, before, "/invite/").await;
    let users_before = s.count("SELECT COUNT(*) FROM users").await;
    let trip = s.sign_in_as("megan", "/").await;
    assert_eq!(
        location(&trip.callback),
        "/login?error=user_not_provisioned"
    );
    let trip = s
        .sign_in_other(CONTOSO_TENANT, "Mallory", "megan.bowen@contoso.example")
        .await;
    assert_eq!(
        location(&trip.callback),
        "/login?error=user_not_provisioned"
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM users").await, users_before);

    // The invitation page offers "Accept with Microsoft"; its form binds the identity that
    // signs in to the invited account.
    let info = s
        .app
        .get(&format!("/api/v1/auth/invitations/{token}"))
        .await;
    assert_eq!(info.json()["microsoft"], true, "{}", info.text());
    let start = s.accept_invitation_with_microsoft(&token).await;
    assert_eq!(start.status, 303, "{}", start.text());
    let oidc = set_cookie(&start, "__Host-portal_oidc").unwrap();
    let back = s
        .submit_idp_form(&location(&start), &[("identity", "megan")])
        .await;
    let res = s.finish(&back, &oidc, None).await;
    assert_eq!(location(&res), "/");
    let me = s.me(&session_cookie(&res).expect("signed in")).await;
    assert_eq!(me["user"]["id"], json!(invited_id));
    assert_eq!(me["user"]["role"], "engineer");
    assert_eq!(me["user"]["auth_method"], "entra");
    assert_eq!(s.count("SELECT COUNT(*) FROM users").await, users_before);
    assert_eq!(
        s.count("SELECT COUNT(*) FROM user_tokens WHERE purpose = 'invite' AND used_at IS NULL")
            .await,
        0,
        "the invitation is used up"
    );
    // Megan signs in with one click from now on; the link does not work twice.
    let again = s.sign_in_as("megan", "/").await;
    assert_eq!(
        s.me(&session_cookie(&again.callback).unwrap()).await["user"]["id"],
        json!(invited_id)
    );
    let start = s.accept_invitation_with_microsoft(&token).await;
    assert_eq!(location(&start), "/login?error=invitation_invalid");
}

#[tokio::test]
async fn an_invitation_accepted_with_microsoft_must_come_from_the_customers_tenant() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    linked_org(&s, "fabrikam", FABRIKAM_TENANT).await;
    support::create_user(&s.app.db.db, "contoso", "boss@contoso.example", "admin").await;
    let admin = s
        .app
        .login("boss@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let before = support::outbox(&s.app).await.len();
    let res = s
        .app
        .json(
            "POST",
            "/api/v1/users/invitations",
            Some(&admin),
            json!({"email": "new@contoso.example", "role": "viewer"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let token = support::next_link_token(&s.app, before, "/invite/").await;
    // Someone of Fabrikam's (also linked) tenant holding the link: refused, the link unused.
    let start = s.accept_invitation_with_microsoft(&token).await;
    let oidc = set_cookie(&start, "__Host-portal_oidc").unwrap();
    let back = s
        .submit_idp_form(&location(&start), &[("identity", "alex")])
        .await;
    let res = s.finish(&back, &oidc, None).await;
    assert_eq!(location(&res), "/login?error=wrong_tenant");
    assert_eq!(
        s.count("SELECT COUNT(*) FROM user_tokens WHERE purpose = 'invite' AND used_at IS NULL")
            .await,
        1
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM user_identities").await, 0);
    // A made-up link starts nothing.
    let start = s.accept_invitation_with_microsoft("made-up").await;
    assert_eq!(location(&start), "/login?error=invitation_invalid");
}

#[tokio::test]
async fn discovery_metadata_naming_another_issuer_is_refused() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    s.idp.set_metadata_issuer(Some(
        "https://login.evil.example/{tenantid}/v2.0".to_string(),
    ));
    let res = s.app.get("/auth/microsoft/login").await;
    assert_eq!(res.status, 502, "{}", res.text());
    assert!(res.text().contains("Microsoft Entra ID is not answering"));
    assert_eq!(s.count("SELECT COUNT(*) FROM oidc_transactions").await, 0);
    // The configured authority's own issuer again: sign-in works.
    s.idp.set_metadata_issuer(None);
    let trip = s.sign_in_as("adele", "/").await;
    assert!(session_cookie(&trip.callback).is_some());
}

#[tokio::test]
async fn floods_of_starts_and_made_up_callbacks_are_cut_off() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    // Made-up callbacks (no transaction, or a wrong state) from one client: 20, then 429.
    let mut statuses = Vec::new();
    for i in 0..30 {
        let path = if i % 2 == 0 {
            "/auth/microsoft/callback?code=x&state=forged".to_string()
        } else {
            format!("/auth/microsoft/consent/callback?admin_consent=True&tenant={CONTOSO_TENANT}&state=forged")
        };
        statuses.push(s.app.get(&path).await.status.as_u16());
    }
    assert!(statuses[..20].iter().all(|c| *c == 303), "{statuses:?}");
    assert!(statuses[20..].iter().all(|c| *c == 429), "{statuses:?}");
    let res = s.app.get("/auth/microsoft/callback?code=x&state=y").await;
    assert!(res.header("retry-after").is_some());
    assert!(
        res.text().contains("Too many sign-in attempts"),
        "{}",
        res.text()
    );

    // Starts from one client: each stores a transaction, so after 200 they are refused.
    for i in 0..200 {
        let res = s.app.get("/auth/microsoft/login").await;
        assert_eq!(res.status, 303, "start {i}: {}", res.text());
    }
    let res = s.app.get("/auth/microsoft/login").await;
    assert_eq!(res.status, 429);
    assert_eq!(s.count("SELECT COUNT(*) FROM oidc_transactions").await, 200);
}

#[tokio::test]
async fn the_flows_in_flight_are_capped() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    // Fill the table to its cap (as many clients would), then one more start waits.
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) \
         INSERT INTO oidc_transactions (cookie_hash, purpose, state, nonce, pkce_verifier, created_at, expires_at) \
         SELECT 'filler' || i, 'login', 's', 'n', 'v', 0, 9000000000000 FROM n",
    )
    .execute(s.app.db.db.pool())
    .await
    .unwrap();
    let res = s.app.get("/auth/microsoft/login").await;
    assert_eq!(res.status, 503, "{}", res.text());
    assert!(res.header("retry-after").is_some());
    // Expired transactions do not count.
    sqlx::query("UPDATE oidc_transactions SET expires_at = 1 WHERE cookie_hash LIKE 'filler%'")
        .execute(s.app.db.db.pool())
        .await
        .unwrap();
    assert_eq!(s.app.get("/auth/microsoft/login").await.status, 303);
}

#[tokio::test]
async fn require_sso_turns_password_sign_in_off_for_the_customer_but_not_for_staff() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    support::create_user(&s.app.db.db, "contoso", "boss@contoso.example", "admin").await;
    let (_, admin) = s.app.login("boss@contoso.example", PASSWORD).await;
    let res = s
        .app
        .json(
            "PUT",
            "/api/v1/organisation/sso",
            admin.as_deref(),
            json!({"jit_provisioning": true, "default_role": "viewer", "require_sso": true}),
        )
        .await;
    assert_eq!(res.status, 200);
    let (res, cookie) = s.app.login("boss@contoso.example", PASSWORD).await;
    assert_eq!(res.status, 403);
    assert_eq!(res.json()["error"]["code"], "sso_required");
    assert!(cookie.is_none());
    // A wrong password still says only "wrong": the SSO rule is told after the password.
    let (res, _) = s
        .app
        .login("boss@contoso.example", "wrong password entirely")
        .await;
    assert_eq!(res.status, 401);

    // Staff sign in with their password (and their authenticator) whatever a customer says.
    support::api::staff_session(&s.app).await;

    // Viewers cannot change the settings.
    support::create_user(&s.app.db.db, "contoso", "viewer@contoso.example", "viewer").await;
    let res = s
        .app
        .json(
            "PUT",
            "/api/v1/organisation/sso",
            admin.as_deref(),
            json!({"jit_provisioning": true, "default_role": "boss", "require_sso": false}),
        )
        .await;
    assert_eq!(res.status, 422);
}

#[tokio::test]
async fn admin_consent_links_the_tenant_only_when_the_proof_sign_in_matches() {
    let s = sso().await;
    support::create_org(&s.app.db.db, "fabrikam").await;
    support::create_user(&s.app.db.db, "fabrikam", "it@fabrikam.example", "admin").await;
    let (_, admin) = s.app.login("it@fabrikam.example", PASSWORD).await;
    let admin = admin.unwrap();

    // Not before the carrier enabled SSO.
    let res = s.app.get_with("/auth/microsoft/consent", &admin).await;
    assert_eq!(location(&res), "/sso?error=sso_disabled");
    portal::sso::set_enabled(&s.app.db.db, Actor::CLI, "fabrikam", true)
        .await
        .unwrap();

    // The admin declines at Microsoft.
    let res = s.app.get_with("/auth/microsoft/consent", &admin).await;
    let consent_url = location(&res);
    assert!(
        consent_url.contains("/organizations/v2.0/adminconsent?"),
        "{consent_url}"
    );
    let oidc = set_cookie(&res, "__Host-portal_oidc").unwrap();
    let back = s
        .submit_idp_form(&consent_url, &[("action", "cancel")])
        .await;
    let res = s.finish(&back, &oidc, Some(&admin)).await;
    assert_eq!(location(&res), "/sso?error=access_denied");

    // A forged callback: a state this browser never got.
    let res = s.app.get_with("/auth/microsoft/consent", &admin).await;
    let oidc = set_cookie(&res, "__Host-portal_oidc").unwrap();
    let forged = format!("{ORIGIN}/auth/microsoft/consent/callback?admin_consent=True&tenant={FABRIKAM_TENANT}&state=forged");
    let res = s.finish(&forged, &oidc, Some(&admin)).await;
    assert_eq!(location(&res), "/sso?error=state_mismatch");
    assert_eq!(
        s.last_audit("sso.consent_failed").await["reason"],
        "state_mismatch"
    );

    // Consent granted, but the proof sign-in comes from another tenant than the one claimed.
    let res = s.app.get_with("/auth/microsoft/consent", &admin).await;
    let oidc = set_cookie(&res, "__Host-portal_oidc").unwrap();
    let back = s
        .submit_idp_form(
            &location(&res),
            &[("identity", "alex"), ("action", "accept")],
        )
        .await;
    assert!(back.contains("admin_consent=True"), "{back}");
    assert_eq!(param(&back, "tenant").as_deref(), Some(FABRIKAM_TENANT));
    let proof_start = s.finish(&back, &oidc, Some(&admin)).await;
    assert_eq!(proof_start.status, 303, "{}", proof_start.text());
    let proof_url = location(&proof_start);
    assert!(
        proof_url.contains(&format!("/{FABRIKAM_TENANT}/oauth2/v2.0/authorize?")),
        "{proof_url}"
    );
    let proof_oidc = set_cookie(&proof_start, "__Host-portal_oidc").unwrap();
    let authority = s.idp.config().base_url.clone();
    s.tamper(TamperSigning::Rs256, move |_, c| {
        c["tid"] = json!(CONTOSO_TENANT);
        c["iss"] = json!(format!("{authority}/{CONTOSO_TENANT}/v2.0"));
    });
    let back = s.submit_idp_form(&proof_url, &[("identity", "alex")]).await;
    let res = s.finish(&back, &proof_oidc, Some(&admin)).await;
    assert_eq!(location(&res), "/sso?error=tenant_mismatch");
    assert_eq!(s.count("SELECT COUNT(*) FROM sso_tenants").await, 0);
    s.idp.set_token_tamper(None);

    // The real thing: consent, proof, linked; the admin's own session is unchanged.
    let res = s.app.get_with("/auth/microsoft/consent", &admin).await;
    let oidc = set_cookie(&res, "__Host-portal_oidc").unwrap();
    let back = s
        .submit_idp_form(
            &location(&res),
            &[("identity", "alex"), ("action", "accept")],
        )
        .await;
    let consent_callback = back.clone();
    let proof_start = s.finish(&back, &oidc, Some(&admin)).await;
    let proof_oidc = set_cookie(&proof_start, "__Host-portal_oidc").unwrap();
    let back = s
        .submit_idp_form(&location(&proof_start), &[("identity", "alex")])
        .await;
    let res = s.finish(&back, &proof_oidc, Some(&admin)).await;
    assert_eq!(
        location(&res),
        format!("/sso?linked={FABRIKAM_TENANT}&pending=1")
    );
    assert!(
        session_cookie(&res).is_none(),
        "the admin's session is left as it was"
    );
    assert_eq!(s.me(&admin).await["user"]["email"], "it@fabrikam.example");
    let settings = s
        .app
        .get_with("/api/v1/organisation/sso", &admin)
        .await
        .json();
    assert_eq!(settings["tenants"][0]["tenant_id"], FABRIKAM_TENANT);
    assert_eq!(settings["tenants"][0]["pending_approval"], true);
    assert_eq!(
        s.last_audit("sso.tenant_link_requested").await["how"],
        "admin_consent"
    );

    // Replaying the consent callback finds no transaction.
    let res = s.finish(&consent_callback, &oidc, Some(&admin)).await;
    assert_eq!(location(&res), "/sso?error=expired");

    // The link waits for the carrier: Alex is refused until staff approve it, and nothing is
    // created for him meanwhile.
    let users_before = s.count("SELECT COUNT(*) FROM users").await;
    let trip = s.sign_in_as("alex", "/").await;
    assert_eq!(location(&trip.callback), "/login?error=tenant_pending");
    assert_eq!(s.count("SELECT COUNT(*) FROM users").await, users_before);
    let staff = support::api::staff_session(&s.app).await;
    let approve =
        format!("/api/v1/provider/organisations/fabrikam/sso/tenants/{FABRIKAM_TENANT}/approve");
    // The customer's own admin cannot approve their link.
    let res = s.app.json("POST", &approve, Some(&admin), json!({})).await;
    assert_eq!(res.status, 403);
    let res = s.app.json("POST", &approve, Some(&staff), json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["tenants"][0]["pending_approval"], false);
    assert_eq!(
        s.last_audit("sso.tenant_approved").await["tid"],
        FABRIKAM_TENANT
    );

    // Alex can now sign in.
    assert!(session_cookie(&s.sign_in_as("alex", "/").await.callback).is_some());
}

#[tokio::test]
async fn a_guest_of_a_tenant_cannot_prove_it_for_admin_consent() {
    let s = sso().await;
    support::create_org(&s.app.db.db, "fabrikam").await;
    portal::sso::set_enabled(&s.app.db.db, Actor::CLI, "fabrikam", true)
        .await
        .unwrap();
    support::create_user(&s.app.db.db, "fabrikam", "it@fabrikam.example", "admin").await;
    let (_, admin) = s.app.login("it@fabrikam.example", PASSWORD).await;
    let admin = admin.unwrap();

    // Fabrikam's admin is a B2B guest in Contoso's tenant and tries to link Contoso's tenant
    // to Fabrikam: the consent redirect names Contoso, and the proof token does carry
    // Contoso's tid, but it comes from a guest.
    let res = s.app.get_with("/auth/microsoft/consent", &admin).await;
    let oidc = set_cookie(&res, "__Host-portal_oidc").unwrap();
    let forged_consent = format!(
        "{ORIGIN}/auth/microsoft/consent/callback?admin_consent=True&tenant={CONTOSO_TENANT}&state={}",
        param(&location(&res), "state").unwrap()
    );
    let proof_start = s.finish(&forged_consent, &oidc, Some(&admin)).await;
    assert_eq!(proof_start.status, 303, "{}", proof_start.text());
    let proof_oidc = set_cookie(&proof_start, "__Host-portal_oidc").unwrap();
    let back = s
        .submit_idp_form(
            &location(&proof_start),
            &[
                ("identity", "other"),
                ("other_tenant", CONTOSO_TENANT),
                ("other_name", "Fabrikam IT (guest)"),
                ("other_email", "it@fabrikam.example"),
                ("other_guest_of", FABRIKAM_TENANT),
            ],
        )
        .await;
    let res = s.finish(&back, &proof_oidc, Some(&admin)).await;
    assert_eq!(location(&res), "/sso?error=guest_account");
    assert_eq!(s.count("SELECT COUNT(*) FROM sso_tenants").await, 0);
    assert_eq!(
        s.last_audit("sso.consent_failed").await["reason"],
        "guest_account"
    );

    // A member of Contoso's tenant (not a guest) would be proof.
    let res = s.app.get_with("/auth/microsoft/consent", &admin).await;
    let oidc = set_cookie(&res, "__Host-portal_oidc").unwrap();
    let consent = format!(
        "{ORIGIN}/auth/microsoft/consent/callback?admin_consent=True&tenant={CONTOSO_TENANT}&state={}",
        param(&location(&res), "state").unwrap()
    );
    let proof_start = s.finish(&consent, &oidc, Some(&admin)).await;
    let proof_oidc = set_cookie(&proof_start, "__Host-portal_oidc").unwrap();
    let back = s
        .submit_idp_form(&location(&proof_start), &[("identity", "adele")])
        .await;
    let res = s.finish(&back, &proof_oidc, Some(&admin)).await;
    assert!(
        location(&res).starts_with("/sso?linked="),
        "{}",
        location(&res)
    );
}

#[tokio::test]
async fn consent_is_for_admins_of_a_customer_with_sso_enabled() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    support::create_user(&s.app.db.db, "contoso", "eng@contoso.example", "engineer").await;
    let (_, eng) = s.app.login("eng@contoso.example", PASSWORD).await;
    let res = s
        .app
        .get_with("/auth/microsoft/consent", &eng.unwrap())
        .await;
    assert_eq!(location(&res), "/sso?error=forbidden");
    let res = s.app.get("/auth/microsoft/consent").await;
    assert_eq!(location(&res), "/login?return_to=%2Fsso");
}

#[tokio::test]
async fn return_to_keeps_only_local_paths() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    for (raw, expected) in [
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("%2F%2Fevil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("/numbers?country=GB", "/numbers?country=GB"),
    ] {
        let trip = s.sign_in_as("adele", raw).await;
        assert_eq!(location(&trip.callback), expected, "{raw:?}");
    }
}

#[tokio::test]
async fn disabling_or_unlinking_a_tenant_and_turning_sso_off_end_its_sessions_at_once() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    let staff = support::api::staff_session(&s.app).await;
    let sso_path = format!("/api/v1/provider/organisations/contoso/sso/tenants/{CONTOSO_TENANT}");

    let cookie = session_cookie(&s.sign_in_as("adele", "/").await.callback).unwrap();
    s.me(&cookie).await;
    let res = s
        .app
        .json("PUT", &sso_path, Some(&staff), json!({"disabled": true}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["tenants"][0]["disabled"], true);
    assert_eq!(s.app.get_with("/api/v1/me", &cookie).await.status, 401);
    assert_eq!(
        s.last_audit("sso.tenant_disabled").await["sessions_ended"],
        1
    );

    let res = s
        .app
        .json("PUT", &sso_path, Some(&staff), json!({"disabled": false}))
        .await;
    assert_eq!(res.status, 200);
    let cookie = session_cookie(&s.sign_in_as("adele", "/").await.callback).unwrap();
    let res = s
        .app
        .json(
            "PUT",
            "/api/v1/provider/organisations/contoso/sso",
            Some(&staff),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(s.app.get_with("/api/v1/me", &cookie).await.status, 401);

    s.app
        .json(
            "PUT",
            "/api/v1/provider/organisations/contoso/sso",
            Some(&staff),
            json!({"enabled": true}),
        )
        .await;
    let cookie = session_cookie(&s.sign_in_as("adele", "/").await.callback).unwrap();
    let res = s
        .app
        .json("DELETE", &sso_path, Some(&staff), json!({}))
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["tenants"], json!([]));
    assert_eq!(s.app.get_with("/api/v1/me", &cookie).await.status, 401);
    assert_eq!(
        location(&s.sign_in_as("adele", "/").await.callback),
        "/login?error=tenant_not_linked"
    );

    // The provider console's rules.
    let res = s
        .app
        .json(
            "POST",
            "/api/v1/provider/organisations/contoso/sso/tenants",
            Some(&staff),
            json!({"tenant_id": "9188040d-6c67-4c5b-b112-36a304b66dad"}),
        )
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(res.json()["error"]["field"], "tenant_id");
    let res = s
        .app
        .json(
            "POST",
            "/api/v1/provider/organisations/contoso/sso/tenants",
            Some(&staff),
            json!({"tenant_id": "organizations"}),
        )
        .await;
    assert_eq!(res.status, 422);
    support::create_org(&s.app.db.db, "other").await;
    portal::sso::set_enabled(&s.app.db.db, Actor::CLI, "other", true)
        .await
        .unwrap();
    s.app
        .json(
            "POST",
            "/api/v1/provider/organisations/contoso/sso/tenants",
            Some(&staff),
            json!({"tenant_id": CONTOSO_TENANT}),
        )
        .await;
    let res = s
        .app
        .json(
            "POST",
            "/api/v1/provider/organisations/other/sso/tenants",
            Some(&staff),
            json!({"tenant_id": CONTOSO_TENANT}),
        )
        .await;
    assert_eq!(res.status, 409);
    assert_eq!(res.json()["error"]["code"], "tenant_taken");
    let list = s
        .app
        .get_with("/api/v1/provider/organisations", &staff)
        .await
        .json();
    assert_eq!(list["organisations"].as_array().unwrap().len(), 2);

    // Customers cannot use it.
    support::create_user(&s.app.db.db, "contoso", "boss@contoso.example", "admin").await;
    let (_, admin) = s.app.login("boss@contoso.example", PASSWORD).await;
    let res = s
        .app
        .get_with("/api/v1/provider/organisations", &admin.unwrap())
        .await;
    assert_eq!(res.status, 403);
}

#[tokio::test]
async fn a_local_user_links_their_microsoft_identity_on_the_security_page() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    let local =
        support::create_user(&s.app.db.db, "contoso", "lee@contoso.example", "engineer").await;
    let (_, cookie) = s.app.login("lee@contoso.example", PASSWORD).await;
    let cookie = cookie.unwrap();
    let ids = s
        .app
        .get_with("/api/v1/me/identities", &cookie)
        .await
        .json();
    assert_eq!(ids["can_link"], true);
    assert_eq!(ids["identities"], json!([]));

    // An identity of a tenant that is not the user's customer's: refused.
    let trip = s
        .trip(
            "/auth/microsoft/link",
            Some(&cookie),
            &[("identity", "alex")],
        )
        .await;
    assert_eq!(location(&trip.callback), "/security?error=wrong_tenant");

    let trip = s
        .trip(
            "/auth/microsoft/link",
            Some(&cookie),
            &[("identity", "lee")],
        )
        .await;
    assert_eq!(location(&trip.callback), "/security?linked=microsoft");
    let ids = s
        .app
        .get_with("/api/v1/me/identities", &cookie)
        .await
        .json();
    assert_eq!(ids["identities"][0]["tenant_id"], CONTOSO_TENANT);

    // Signing in with Microsoft is now that same user.
    let me = s
        .me(&session_cookie(&s.sign_in_as("lee", "/").await.callback).unwrap())
        .await;
    assert_eq!(me["user"]["id"], json!(local.id));
    assert_eq!(me["user"]["auth_method"], "entra");

    // Another local user cannot take the same identity.
    support::create_user(&s.app.db.db, "contoso", "other@contoso.example", "viewer").await;
    let (_, other) = s.app.login("other@contoso.example", PASSWORD).await;
    let trip = s
        .trip(
            "/auth/microsoft/link",
            other.as_deref(),
            &[("identity", "lee")],
        )
        .await;
    assert_eq!(location(&trip.callback), "/security?error=identity_taken");

    // Linking needs a signed-in session.
    let res = s.app.get("/auth/microsoft/link").await;
    assert_eq!(location(&res), "/login?return_to=%2Fsecurity");
}

#[tokio::test]
async fn the_development_emulator_is_mounted_in_development_and_refused_in_production() {
    let app = TestApp::with_args(&["--dev-idp", "true"]).await;
    let res = app
        .get("/dev-idp/organizations/v2.0/.well-known/openid-configuration")
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(
        res.json()["issuer"],
        format!("{ORIGIN}/dev-idp/{{tenantid}}/v2.0")
    );
    assert_eq!(app.get("/dev-idp/style.css").await.status, 200);

    let app = TestApp::new().await;
    let res = app
        .send(
            Request::get("/dev-idp/organizations/v2.0/.well-known/openid-configuration")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_ne!(res.status, 200);
}
