//! `make bench`: the server time of the SSO callback with the signing keys cached (ID-token
//! validation, tenant check, user lookup, session; the token call to the identity provider
//! excluded), read from the portal's own `sso_callback_server_seconds` histogram; and how
//! often a flood of tokens with unknown `kid`s makes the portal fetch the JWKS.
//! The development emulator plays Entra ID on a local port. Prints `key=value` lines.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use axum::{
    body::{to_bytes, Body},
    http::Request,
};
use clap::Parser;
use portal::{
    accounts::Actor,
    clock::Clock,
    config::{Cli, Command, PortalEnv},
    db::Db,
    devidp::{DevIdp, DevIdpConfig, TamperSigning, TokenTamper, CONTOSO_TENANT},
    http::{self, AppState},
};
use tower::ServiceExt;

const ORIGIN: &str = "http://localhost:3000";

/// `(sum, count)` of the login flow's callback histogram.
fn callback_stats(state: &AppState) -> (f64, f64) {
    let text = state.metrics.render();
    let find = |suffix: &str| {
        text.lines()
            .find(|l| {
                l.starts_with(&format!(
                    "sso_callback_server_seconds_{suffix}{{flow=\"login\"}}"
                ))
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (find("sum"), find("count"))
}

/// The `le` buckets of the login callback histogram: (upper bound, cumulative count).
fn buckets(state: &AppState) -> Vec<(String, f64)> {
    state
        .metrics
        .render()
        .lines()
        .filter(|l| l.starts_with("sso_callback_server_seconds_bucket{flow=\"login\""))
        .filter_map(|l| {
            let le = l.split("le=\"").nth(1)?.split('"').next()?.to_string();
            Some((le, l.rsplit(' ').next()?.parse().ok()?))
        })
        .collect()
}

struct Bench {
    router: axum::Router,
    http: reqwest::Client,
}

impl Bench {
    async fn get(&self, path: &str, cookie: Option<&str>) -> axum::http::Response<Body> {
        let mut req = Request::get(path);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        self.router
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    /// One whole sign-in as `identity`; returns the callback's status.
    async fn sign_in(&self, identity: &str) -> u16 {
        let res = self.get("/auth/microsoft/login", None).await;
        let authorize = res.headers()["location"].to_str().unwrap().to_string();
        let oidc = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap())
            .find(|v| v.starts_with("__Host-portal_oidc="))
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let (endpoint, query) = authorize.split_once('?').unwrap();
        let picked = self
            .http
            .post(endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("{query}&identity={identity}"))
            .send()
            .await
            .unwrap();
        let callback = picked.headers()["location"].to_str().unwrap().to_string();
        let res = self
            .get(callback.strip_prefix(ORIGIN).unwrap(), Some(&oidc))
            .await;
        let status = res.status().as_u16();
        let _ = to_bytes(res.into_body(), usize::MAX).await.unwrap();
        status
    }
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    portal::accounts::create_org(&db, Actor::CLI, "Bench Ltd", "bench")
        .await
        .unwrap();
    portal::sso::set_enabled(&db, Actor::CLI, "bench", true)
        .await
        .unwrap();
    portal::sso::link_tenant(
        &db,
        Actor::CLI,
        "bench",
        CONTOSO_TENANT,
        portal::sso::LinkedBy::Carrier("bench"),
    )
    .await
    .unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let idp = DevIdp::new(DevIdpConfig {
        base_url: base.clone(),
        client_id: "bench-client".into(),
        client_secret: "bench-secret".into(),
        redirect_uris: vec![format!("{ORIGIN}/auth/microsoft/callback")],
    })
    .unwrap();
    let idp_router = idp.router();
    tokio::spawn(async move { axum::serve(listener, idp_router).await });

    let data_dir = dir.path().join("data");
    let argv = [
        "portal",
        "serve",
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--entra-client-id",
        "bench-client",
        "--entra-client-secret",
        "bench-secret",
        "--entra-authority",
        &base,
    ];
    let args = match Cli::try_parse_from(argv).unwrap().command {
        Some(Command::Serve(a)) => *a,
        _ => unreachable!(),
    };
    let mailer = args.mailer().unwrap();
    let state = AppState::new(
        db,
        args,
        PortalEnv::Development,
        [9u8; 32],
        Clock::system(),
        mailer,
    );
    let bench = Bench {
        router: http::router(state.clone()),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    };

    // Warm-up: discovery, the JWKS, the first (just-in-time) sign-in of each identity.
    for identity in ["adele", "megan", "lee"] {
        assert_eq!(bench.sign_in(identity).await, 303);
    }
    let (sum0, count0) = callback_stats(&state);
    let buckets0 = buckets(&state);
    const ROUNDS: usize = 300;
    for i in 0..ROUNDS {
        let identity = ["adele", "megan", "lee"][i % 3];
        assert_eq!(bench.sign_in(identity).await, 303);
    }
    let (sum1, count1) = callback_stats(&state);
    let n = count1 - count0;
    assert_eq!(n as usize, ROUNDS, "every callback was measured");
    println!("sso_callbacks={n}");
    println!("sso_callback_ms_mean={:.3}", (sum1 - sum0) / n * 1e3);
    for ((le, after), (_, before)) in buckets(&state).iter().zip(buckets0.iter()) {
        if le == "0.002" {
            println!("sso_callback_share_under_2ms={:.3}", (after - before) / n);
        }
    }

    // A flood of tokens whose kid is unknown, all within a minute.
    idp.set_token_tamper(Some(TokenTamper {
        edit: Box::new(|_, _| {}),
        signing: TamperSigning::ForeignKey,
    }));
    let before = idp.jwks_fetches();
    const FLOOD: usize = 100;
    for _ in 0..FLOOD {
        assert_eq!(bench.sign_in("adele").await, 303);
    }
    println!("unknown_kid_tokens={FLOOD}");
    println!("jwks_fetches_during_flood={}", idp.jwks_fetches() - before);
}
