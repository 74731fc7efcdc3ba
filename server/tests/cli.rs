//! The `portal` command line: each command works, and bad input gives a clear message and a
//! non-zero exit without writing anything.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::{
    io::Write,
    process::{Command, Output, Stdio},
    time::Duration,
};

use sqlx::Row;
use support::{cli::portal, count, test_db};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test]
async fn org_create_and_a_duplicate_slug() {
    let t = test_db().await;
    let out = portal(
        &t.url,
        &[
            "org",
            "create",
            "--name",
            "Contoso Ltd",
            "--slug",
            "contoso",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("contoso"));

    let out = portal(
        &t.url,
        &["org", "create", "--name", "Other", "--slug", "contoso"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM organisations").await, 1);
    // One audit entry: the successful creation.
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'org.created'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn org_create_refuses_a_bad_slug() {
    let t = test_db().await;
    let out = portal(
        &t.url,
        &["org", "create", "--name", "Contoso", "--slug", "Contoso UK"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("slug"), "{}", stderr(&out));
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM organisations").await, 0);
}

#[tokio::test]
async fn user_create_with_a_password_from_stdin() {
    let t = test_db().await;
    assert!(portal(
        &t.url,
        &["org", "create", "--name", "Contoso", "--slug", "contoso"],
        None
    )
    .status
    .success());
    // Leading and trailing spaces are part of the password; only the newline is dropped.
    let out = portal(
        &t.url,
        &[
            "user",
            "create",
            "--org",
            "contoso",
            "--email",
            "Alice@Contoso.com",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("  tall ship sailing east  \n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let row = sqlx::query("SELECT login_email, email, role, password_hash FROM users")
        .fetch_one(t.db.pool())
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("login_email"), "alice@contoso.com");
    assert_eq!(row.get::<String, _>("email"), "Alice@Contoso.com");
    assert_eq!(row.get::<String, _>("role"), "admin");
    let hash: String = row.get("password_hash");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(portal::auth::password::verify_password(
        "  tall ship sailing east  ",
        &hash
    ));
    assert!(!portal::auth::password::verify_password(
        "tall ship sailing east",
        &hash
    ));
}

#[tokio::test]
async fn user_create_refuses_bad_input_and_writes_nothing() {
    let t = test_db().await;
    assert!(portal(
        &t.url,
        &["org", "create", "--name", "Contoso", "--slug", "contoso"],
        None
    )
    .status
    .success());
    let cases: [(&[&str], Option<&str>, &str); 4] = [
        (
            &[
                "user", "create", "--org", "nope", "--email", "a@b.com", "--role", "viewer",
            ],
            None,
            "no organisation",
        ),
        (
            &[
                "user",
                "create",
                "--org",
                "contoso",
                "--email",
                "not-an-email",
                "--role",
                "viewer",
            ],
            None,
            "not a valid email",
        ),
        (
            &[
                "user",
                "create",
                "--org",
                "contoso",
                "--email",
                "a@b.com",
                "--role",
                "viewer",
                "--password-stdin",
            ],
            Some("short\n"),
            "too short",
        ),
        (
            &[
                "user",
                "create",
                "--org",
                "contoso",
                "--email",
                "a@b.com",
                "--role",
                "viewer",
                "--password-stdin",
            ],
            Some(""),
            "no password",
        ),
    ];
    for (args, input, expected) in cases {
        let out = portal(&t.url, args, input);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let out = portal(
        &t.url,
        &[
            "user", "create", "--org", "contoso", "--email", "a@b.com", "--role", "owner",
        ],
        None,
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("owner"), "{}", stderr(&out));
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM users").await, 0);
}

#[tokio::test]
async fn sign_in_emails_are_unique_across_staff_and_customers() {
    let t = test_db().await;
    assert!(portal(
        &t.url,
        &["org", "create", "--name", "Contoso", "--slug", "contoso"],
        None
    )
    .status
    .success());
    let out = portal(
        &t.url,
        &["staff", "create", "--email", "noc@carrier.example"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = portal(
        &t.url,
        &[
            "user",
            "create",
            "--org",
            "contoso",
            "--email",
            "NOC@carrier.example",
            "--role",
            "viewer",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM users WHERE org_id IS NULL AND role IS NULL"
        )
        .await,
        1
    );
}

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
async fn org_mfa_policy_sets_the_flag_and_refuses_an_unknown_org() {
    let t = test_db().await;
    assert!(portal(
        &t.url,
        &["org", "create", "--name", "Contoso", "--slug", "contoso"],
        None
    )
    .status
    .success());
    let out = portal(
        &t.url,
        &[
            "org",
            "mfa-policy",
            "--org",
            "contoso",
            "--required",
            "true",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM organisations WHERE mfa_required = TRUE"
        )
        .await,
        1
    );
    let out = portal(
        &t.url,
        &["org", "mfa-policy", "--org", "nope", "--required", "true"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no organisation"), "{}", stderr(&out));
    let out = portal(
        &t.url,
        &[
            "org",
            "mfa-policy",
            "--org",
            "contoso",
            "--required",
            "maybe",
        ],
        None,
    );
    assert_ne!(out.status.code(), Some(0));
}

#[tokio::test]
async fn org_sso_commands_link_disable_and_unlink_tenants_with_clear_errors() {
    let t = test_db().await;
    let tenant = "6F1C4A9E-3B52-4C1D-9A57-2E8F0B7D4C11";
    let ok = |args: &[&str]| {
        let out = portal(&t.url, args, None);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    ok(&["org", "create", "--name", "Contoso", "--slug", "contoso"]);

    // Linking before SSO is enabled is refused and names the fix.
    let out = portal(
        &t.url,
        &[
            "org",
            "sso",
            "link-tenant",
            "--org",
            "contoso",
            "--tenant",
            tenant,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("portal org sso enable --org contoso"),
        "{}",
        stderr(&out)
    );

    assert!(ok(&["org", "sso", "enable", "--org", "contoso"]).contains("enabled"));
    let out = ok(&[
        "org",
        "sso",
        "link-tenant",
        "--org",
        "contoso",
        "--tenant",
        tenant,
    ]);
    assert!(
        out.contains("6f1c4a9e-3b52-4c1d-9a57-2e8f0b7d4c11 linked"),
        "{out}"
    );
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM sso_tenants").await, 1);

    for bad in [
        "common",
        "organizations",
        "consumers",
        "9188040d-6c67-4c5b-b112-36a304b66dad",
        "contoso.example",
    ] {
        let out = portal(
            &t.url,
            &[
                "org",
                "sso",
                "link-tenant",
                "--org",
                "contoso",
                "--tenant",
                bad,
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(1), "{bad}");
        assert!(
            stderr(&out).contains("not a Microsoft Entra organisation tenant id"),
            "{bad}: {}",
            stderr(&out)
        );
    }
    // A tenant links to one customer only.
    ok(&["org", "create", "--name", "Other", "--slug", "other"]);
    ok(&["org", "sso", "enable", "--org", "other"]);
    let out = portal(
        &t.url,
        &[
            "org",
            "sso",
            "link-tenant",
            "--org",
            "other",
            "--tenant",
            tenant,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already linked to another customer"));

    assert!(ok(&[
        "org",
        "sso",
        "disable-tenant",
        "--org",
        "contoso",
        "--tenant",
        tenant
    ])
    .contains("disabled"));
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM sso_tenants WHERE disabled_at IS NOT NULL"
        )
        .await,
        1
    );
    ok(&[
        "org",
        "sso",
        "enable-tenant",
        "--org",
        "contoso",
        "--tenant",
        tenant,
    ]);
    let out = portal(
        &t.url,
        &[
            "org",
            "sso",
            "unlink-tenant",
            "--org",
            "other",
            "--tenant",
            tenant,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not linked to other"));
    ok(&[
        "org",
        "sso",
        "unlink-tenant",
        "--org",
        "contoso",
        "--tenant",
        tenant,
    ]);
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM sso_tenants").await, 0);
    ok(&["org", "sso", "disable", "--org", "contoso"]);
    let out = portal(&t.url, &["org", "sso", "enable", "--org", "nope"], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'sso.%'"
        )
        .await,
        7
    );
}

#[tokio::test]
async fn seed_demo_fills_an_empty_database_once_and_is_refused_in_production() {
    let t = test_db().await;
    let out = portal(&t.url, &["seed-demo", "--calls", "500"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("admin@contoso.example"));
    let users = count(&t.db, "SELECT COUNT(*) FROM users").await;
    assert!(users >= 5, "{users}");
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM sso_tenants").await, 1);
    let out = portal(&t.url, &["seed-demo"], None);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("already present"));
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM users").await, users);
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM calls").await, 500);

    let out = portal(&t.url, &["--env", "production", "seed-demo"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot be used in production"));

    // A run that stopped before its last step (no `calls.imported` entry) is reported, not
    // taken for a finished seed.
    sqlx::query("DELETE FROM audit_log WHERE action = 'calls.imported'")
        .execute(t.db.pool())
        .await
        .unwrap();
    let out = portal(&t.url, &["seed-demo"], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("stopped part-way"),
        "{}",
        stderr(&out)
    );
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM calls").await, 500);
}

/// Per-service call counts by service name, and the rollups' total.
async fn seeded_calls(db: &portal::db::Db) -> (Vec<(String, i64)>, i64) {
    let per_service = sqlx::query(
        "SELECT s.name, COUNT(c.id) FROM services s LEFT JOIN calls c ON c.service_id = s.id \
         GROUP BY s.name ORDER BY s.name",
    )
    .fetch_all(db.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
    .collect();
    let rollup = count(
        db,
        "SELECT CAST(COALESCE(SUM(calls), 0) AS BIGINT) FROM call_hourly_by_service",
    )
    .await;
    (per_service, rollup)
}

#[tokio::test]
async fn seed_demo_voice_data_is_believable_scaled_and_deterministic() {
    let a = test_db().await;
    let out = portal(&a.url, &["seed-demo", "--calls", "3000"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(stdout.contains("3000 calls"), "{stdout}");
    assert!(stdout.contains("seeded in"), "{stdout}");

    let db = &a.db;
    assert_eq!(count(db, "SELECT COUNT(*) FROM services").await, 6);
    assert_eq!(
        count(db, "SELECT COUNT(DISTINCT kind) FROM services").await,
        3
    );
    assert!(count(db, "SELECT COUNT(DISTINCT country) FROM services").await >= 4);
    let numbers = count(db, "SELECT COUNT(*) FROM numbers").await;
    assert!((200..=1000).contains(&numbers), "{numbers}");
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM numbers WHERE e164 NOT LIKE '+%'").await,
        0
    );
    assert!(
        count(
            db,
            "SELECT COUNT(*) FROM numbers WHERE assignment IS NOT NULL"
        )
        .await
            > 0
    );
    assert!(
        count(
            db,
            "SELECT COUNT(*) FROM numbers WHERE status = 'active' AND emergency_address_id IS NULL"
        )
        .await
            > 0
    );
    assert!(count(db, "SELECT COUNT(*) FROM emergency_addresses").await > 0);
    assert!(count(db, "SELECT COUNT(*) FROM incidents").await >= 2);
    assert!(count(db, "SELECT COUNT(*) FROM port_orders").await >= 2);

    assert_eq!(count(db, "SELECT COUNT(*) FROM calls").await, 3000);
    let (per_service, rollup) = seeded_calls(db).await;
    assert_eq!(rollup, 3000);
    assert!(per_service.iter().all(|(_, n)| *n > 0), "{per_service:?}");
    assert_eq!(
        count(
            db,
            "SELECT CAST(COALESCE(SUM(calls), 0) AS BIGINT) FROM call_hourly_by_country"
        )
        .await,
        3000
    );
    // A realistic mix: mostly answered, some of every failure with its SIP code.
    let answered = count(db, "SELECT COUNT(*) FROM calls WHERE result = 'answered'").await;
    assert!((2100..2900).contains(&answered), "{answered}");
    for (result, code) in [
        ("busy", 486),
        ("no_answer", 480),
        ("cancelled", 487),
        ("failed", 503),
    ] {
        let n = count(
            db,
            &format!("SELECT COUNT(*) FROM calls WHERE result = '{result}' AND sip_code = {code}"),
        )
        .await;
        assert!(n > 0, "{result}");
    }
    // Working days are busier than weekends, and every call lies in the last 90 days.
    let span_days = count(
        db,
        "SELECT CAST((MAX(ended_at) - MIN(started_at)) / 86400000 AS BIGINT) FROM calls",
    )
    .await;
    assert!((80..=90).contains(&span_days), "{span_days}");
    let starts: Vec<i64> = sqlx::query("SELECT started_at FROM calls")
        .fetch_all(db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<i64, _>(0))
        .collect();
    // 1970-01-01 was a Thursday: (days + 3) % 7 >= 5 is a weekend (UTC, near enough).
    let weekend = starts
        .iter()
        .filter(|t| (t.div_euclid(86_400_000) + 3).rem_euclid(7) >= 5)
        .count();
    assert!(weekend * 10 < starts.len(), "{weekend} of {}", starts.len());

    // The same count into another fresh database gives the same calls per service.
    let b = test_db().await;
    let out = portal(&b.url, &["seed-demo", "--calls", "3000"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(seeded_calls(&b.db).await, (per_service, rollup));
    let numbers_of = |db: &portal::db::Db| {
        let pool = db.pool().clone();
        async move {
            sqlx::query("SELECT e164 FROM numbers ORDER BY e164")
                .fetch_all(&pool)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(numbers_of(&a.db).await, numbers_of(&b.db).await);
}

#[tokio::test]
async fn calls_import_refuses_calls_longer_than_the_longest_accepted() {
    let t = test_db().await;
    assert!(portal(
        &t.url,
        &["org", "create", "--name", "Contoso", "--slug", "contoso"],
        None
    )
    .status
    .success());
    let out = portal(
        &t.url,
        &[
            "service",
            "create",
            "--org",
            "contoso",
            "--kind",
            "sip_trunk",
            "--name",
            "Trunk A",
            "--country",
            "GB",
            "--channels",
            "10",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calls.csv");
    std::fs::write(
        &file,
        format!(
            "{}\nshort,Trunk A,2026-03-01T00:00:00Z,,2026-03-01T00:00:30Z,outbound,+441134960000,+4930901820,failed,503,,,,,DE\n\
             long,Trunk A,2026-03-01T00:00:00Z,,2026-03-01T00:02:00Z,outbound,+441134960000,+4930901820,failed,503,,,,,DE\n",
            portal::voice::cdr::HEADER.join(",")
        ),
    )
    .unwrap();
    let out = portal(
        &t.url,
        &[
            "calls",
            "import",
            file.to_str().unwrap(),
            "--org",
            "contoso",
            "--max-call-secs",
            "60",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("line 3, end"), "{}", stderr(&out));
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM calls").await, 1);
    let out = portal(
        &t.url,
        &[
            "calls",
            "import",
            file.to_str().unwrap(),
            "--org",
            "contoso",
            "--max-call-secs",
            "0",
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "clap refuses it: {}",
        stderr(&out)
    );
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
