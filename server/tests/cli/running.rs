//! Running the portal: `migrate` (idempotent, and taking turns when several processes migrate
//! one database), database URLs it does not support, production's refusal of unsafe settings,
//! and `serve` stopping cleanly on SIGTERM.

use std::{
    io::Write,
    process::{Command, Stdio},
    time::Duration,
};

use crate::stderr;
use crate::support::{self, cli::portal, count, test_db};

#[tokio::test]
async fn migrate_is_idempotent() {
    let t = test_db().await;
    for _ in 0..2 {
        let out = portal(&t.url, &["migrate"], None);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));
    }
}

#[test]
fn an_unsupported_database_url_is_refused() {
    let out = portal("mysql://root:hunter2@localhost/portal", &["migrate"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("sqlite:// or postgres://"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("hunter2"));
}

#[test]
fn production_refuses_unsafe_settings_with_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/p.db?mode=rwc", dir.path().display());
    let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let cases: [(&[&str], &str); 3] = [
        (
            &[
                "--env",
                "production",
                "serve",
                "--public-url",
                "http://portal.example.com",
                "--secret-key",
                key,
            ],
            "PORTAL_PUBLIC_URL",
        ),
        (
            &[
                "--env",
                "production",
                "serve",
                "--public-url",
                "https://portal.example.com",
            ],
            "PORTAL_SECRET_KEY",
        ),
        (
            &[
                "--env",
                "production",
                "serve",
                "--public-url",
                "https://portal.example.com",
                "--secret-key",
                key,
                "--dev-idp",
                "true",
            ],
            "PORTAL_DEV_IDP",
        ),
    ];
    for (args, expected) in cases {
        let out = portal(&url, args, None);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

/// A free port on loopback.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn serve_stops_cleanly_on_sigterm() {
    let t = test_db().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_portal"))
        .arg("serve")
        .env("DATABASE_URL", &t.url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("PORTAL_DATA_DIR", dir.path())
        .env("LEPTOS_SITE_ROOT", dir.path())
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Wait until it answers.
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            s.write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut buf = String::new();
            let _ = std::io::Read::read_to_string(&mut s, &mut buf);
            if buf.starts_with("HTTP/1.1 200") {
                ready = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "the server never became ready");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut status = None;
    for _ in 0..100 {
        if let Some(s) = child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = status.expect("still running 5 s after SIGTERM");
    let mut log = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut log).unwrap();
    assert!(status.success(), "{log}");
    assert!(log.contains("SIGTERM received"), "{log}");
    assert!(log.contains("in-flight requests finished"), "{log}");
}

#[tokio::test]
async fn processes_migrating_one_database_at_once_take_turns() {
    // A server starting while a CLI command runs, or two servers: each migrates on start.
    for round in 0..4 {
        let (_dir, url) = support::empty_db().await;
        let children: Vec<_> = (0..4)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_portal"))
                    .arg("migrate")
                    .env("DATABASE_URL", &url)
                    .env("RUST_LOG", "warn")
                    .env_remove("PORTAL_ENV")
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "round {round}: {}", stderr(&out));
        }
        let db = portal::db::Db::connect(&url).await.unwrap();
        let applied = count(&db, "SELECT COUNT(*) FROM _sqlx_migrations").await;
        let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite"))
            .unwrap()
            .count() as i64;
        assert_eq!(applied, files, "round {round}: every migration once");
        db.close().await;
    }
}
