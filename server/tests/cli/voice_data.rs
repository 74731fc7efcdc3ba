//! Voice data from the command line: `seed-demo` (once, never in production, believable,
//! scaled and deterministic) and `calls import` refusing calls longer than the longest
//! accepted.

use sqlx::Row;

use crate::stderr;
use crate::support::{cli::portal, count, test_db};

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
