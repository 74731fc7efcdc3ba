//! `make bench`: the server-side cost of signing in, against one Argon2id verification, and
//! the cost of checking a TOTP code. Prints `key=value` lines that bench/run.sh records.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use axum::{
    body::{to_bytes, Body},
    http::Request,
};
use clap::Parser;
use portal::{
    auth::{password, totp},
    clock::Clock,
    config::{Cli, Command, PortalEnv},
    db::Db,
    http::{self, AppState},
};
use tower::ServiceExt;

const PASSWORD: &str = "violet tugboat orbit sandwich";

fn mean(samples: &[Duration]) -> f64 {
    samples.iter().map(Duration::as_secs_f64).sum::<f64>() / samples.len() as f64
}

fn median(samples: &mut [Duration]) -> f64 {
    samples.sort_unstable();
    samples[samples.len() / 2].as_secs_f64()
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    portal::accounts::create_org(&db, portal::accounts::Actor::CLI, "Bench Ltd", "bench")
        .await
        .unwrap();
    let user = portal::accounts::create_user(
        &db,
        portal::accounts::Actor::CLI,
        portal::accounts::NewUserKind::Customer {
            org_slug: "bench",
            role: "viewer",
        },
        "bench@bench.example",
        Some(PASSWORD),
    )
    .await
    .unwrap();
    let hash = user.password_hash.clone().unwrap();

    let data_dir = dir.path().join("data");
    let args =
        match Cli::try_parse_from(["portal", "serve", "--data-dir", data_dir.to_str().unwrap()])
            .unwrap()
            .command
        {
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
    state.passwords.warm_up().await;
    let router = http::router(state);

    const ROUNDS: usize = 40;
    // Interleave the two measurements so drift in machine load affects both alike.
    let mut verify = Vec::with_capacity(ROUNDS);
    let mut login = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        assert!(password::verify_password(PASSWORD, &hash));
        verify.push(t.elapsed());

        let req = Request::post("/api/v1/auth/login")
            .header("content-type", "application/json")
            .header("origin", "http://localhost:3000")
            .body(Body::from(format!(
                r#"{{"email":"bench@bench.example","password":"{PASSWORD}"}}"#
            )))
            .unwrap();
        let t = Instant::now();
        let res = router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let _ = to_bytes(res.into_body(), usize::MAX).await.unwrap();
        login.push(t.elapsed());
        assert_eq!(status, 200);
    }
    let (verify_mean, login_mean) = (mean(&verify), mean(&login));
    println!("argon2_verify_ms_mean={:.3}", verify_mean * 1e3);
    println!("argon2_verify_ms_median={:.3}", median(&mut verify) * 1e3);
    println!("login_ms_mean={:.3}", login_mean * 1e3);
    println!("login_ms_median={:.3}", median(&mut login) * 1e3);
    println!("login_over_verify={:.3}", login_mean / verify_mean);

    let secret = totp::generate_secret();
    let now = 1_800_000_000u64;
    let code = totp::code_at_step(&secret, totp::time_step(now), 6, totp::Algorithm::Sha1);
    const CHECKS: u32 = 20_000;
    let t = Instant::now();
    for i in 0..CHECKS {
        // Alternate a right and a wrong code; both paths compute the whole window.
        let candidate = if i % 2 == 0 { code.as_str() } else { "000000" };
        std::hint::black_box(totp::verify(
            &secret,
            std::hint::black_box(candidate),
            now,
            None,
        ));
    }
    println!(
        "totp_verify_us_mean={:.3}",
        t.elapsed().as_secs_f64() * 1e6 / f64::from(CHECKS)
    );
}
