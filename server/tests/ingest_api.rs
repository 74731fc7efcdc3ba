//! `POST /api/v1/ingest/calls` and `GET /api/v1/services[/{id}]` over the real router: CSV and
//! NDJSON through an ingest token, idempotent re-sends, bad rows reported while good rows
//! store, who may ingest, content types, a wrong header, the body limit, and isolation of
//! services between customers.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use axum::{body::Body, http::Request};
use serde_json::{json, Value};
use sqlx::Row;

use portal::voice::cdr::HEADER;
use support::{
    api::{api_token, get_bearer},
    create_user,
    voice::{cdr_csv, create_trunk, customer, post_calls},
    TestApp, TestResponse, ORIGIN, PASSWORD,
};

fn row(id: &str, service: &str, hour: u32) -> String {
    format!(
        "{id},{service},2026-03-01T{hour:02}:00:00Z,2026-03-01T{hour:02}:00:05Z,2026-03-01T{hour:02}:02:05Z,\
         outbound,+441134960000,+4930901820,answered,200,OK,4.3,,,DE"
    )
}

async fn calls_stored(app: &TestApp) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM calls")
        .fetch_one(app.db.db.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

fn counts(res: &TestResponse) -> (u64, u64, u64) {
    assert_eq!(res.status, 200, "{}", res.text());
    let v = res.json();
    (
        v["stored"].as_u64().unwrap(),
        v["duplicates"].as_u64().unwrap(),
        v["refused"].as_u64().unwrap(),
    )
}

#[tokio::test]
async fn csv_is_ingested_once_and_audited() {
    let app = TestApp::new().await;
    let admin = customer(&app, "contoso", &[("Trunk A", 30)]).await.cookie;
    let ingest = api_token(&app, &admin, "ingest").await;
    let body = cdr_csv(&[row("c1", "Trunk A", 9), row("c2", "Trunk A", 10)]);

    let res = post_calls(&app, &ingest, "text/csv; charset=utf-8", body.clone()).await;
    assert_eq!(counts(&res), (2, 0, 0));
    assert_eq!(res.json()["errors"], json!([]));
    // The same body again stores nothing new.
    let res = post_calls(&app, &ingest, "text/csv", body).await;
    assert_eq!(counts(&res), (0, 2, 0));
    assert_eq!(calls_stored(&app).await, 2);

    let audit = sqlx::query(
        "SELECT actor_label, details FROM audit_log WHERE action = 'calls.imported' ORDER BY id",
    )
    .fetch_all(app.db.db.pool())
    .await
    .unwrap();
    assert_eq!(audit.len(), 2);
    let label: String = audit[0].try_get("actor_label").unwrap();
    assert!(label.starts_with("api-token:vcp_"), "{label}");
    let details: String = audit[1].try_get("details").unwrap();
    let details: Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["stored"], 0);
    assert_eq!(details["duplicates"], 2);
}

#[tokio::test]
async fn ndjson_is_ingested_and_deduplicated() {
    let app = TestApp::new().await;
    let admin = customer(&app, "contoso", &[("Trunk A", 30)]).await.cookie;
    let ingest = api_token(&app, &admin, "ingest").await;
    let line = |id: &str| {
        let values: Vec<String> = row(id, "Trunk A", 8)
            .split(',')
            .map(str::to_string)
            .collect();
        let obj: serde_json::Map<String, Value> = HEADER
            .iter()
            .zip(values)
            .map(|(k, v)| (k.to_string(), Value::String(v)))
            .collect();
        Value::Object(obj).to_string()
    };
    let body = format!("{}\n{}\n", line("n1"), line("n2")).into_bytes();
    let res = post_calls(&app, &ingest, "application/x-ndjson", body.clone()).await;
    assert_eq!(counts(&res), (2, 0, 0));
    let res = post_calls(&app, &ingest, "application/x-ndjson", body).await;
    assert_eq!(counts(&res), (0, 2, 0));
    assert_eq!(calls_stored(&app).await, 2);
}

#[tokio::test]
async fn a_bad_row_is_reported_while_good_rows_store() {
    let app = TestApp::new().await;
    let admin = customer(&app, "contoso", &[("Trunk A", 30)]).await.cookie;
    let ingest = api_token(&app, &admin, "ingest").await;
    let bad = row("c2", "Trunk A", 9).replace("+4930901820", "4930");
    let unknown_service = row("c3", "Nope", 9);
    let body = cdr_csv(&[
        row("c1", "Trunk A", 9),
        bad,
        unknown_service,
        row("c4", "Trunk A", 11),
    ]);
    let res = post_calls(&app, &ingest, "text/csv", body).await;
    assert_eq!(counts(&res), (2, 0, 2));
    let errors = res.json()["errors"].clone();
    assert_eq!(errors[0]["line"], 3, "{errors}");
    assert_eq!(errors[0]["field"], "to", "{errors}");
    assert!(!errors[0]["reason"].as_str().unwrap().is_empty());
    assert_eq!(errors[1]["line"], 4, "{errors}");
    assert_eq!(errors[1]["field"], "service", "{errors}");
    assert_eq!(calls_stored(&app).await, 2);
}

#[tokio::test]
async fn only_an_ingest_token_may_post_and_only_the_formats() {
    let app = TestApp::new().await;
    let admin = customer(&app, "contoso", &[("Trunk A", 30)]).await.cookie;
    let ingest = api_token(&app, &admin, "ingest").await;
    let read = api_token(&app, &admin, "read").await;
    let read_write = api_token(&app, &admin, "read_write").await;
    let body = cdr_csv(&[row("c1", "Trunk A", 9)]);

    for t in [&read, &read_write] {
        let res = post_calls(&app, t, "text/csv", body.clone()).await;
        assert_eq!(res.status, 403, "{}", res.text());
    }
    // A signed-in admin (same origin, so past the CSRF check) is refused too: 401, since the
    // one credential the operation takes, a Bearer token, is missing.
    let res = app
        .send(
            Request::post("/api/v1/ingest/calls")
                .header("cookie", &admin)
                .header("origin", ORIGIN)
                .header("content-type", "text/csv")
                .body(Body::from(body.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, 401, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "ingest_token_required");
    // Without credentials: 401.
    let res = app
        .send(
            Request::post("/api/v1/ingest/calls")
                .header("origin", ORIGIN)
                .header("content-type", "text/csv")
                .body(Body::from(body.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, 401, "{}", res.text());

    let res = post_calls(&app, &ingest, "application/json", body.clone()).await;
    assert_eq!(res.status, 415, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "unsupported_media_type");
    let res = post_calls(
        &app,
        &ingest,
        "text/csv",
        b"id,service,start\nx,y,z\n".to_vec(),
    )
    .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "invalid_header");
    assert_eq!(calls_stored(&app).await, 0);

    // The ingest token still reads nothing.
    let res = get_bearer(&app, "/api/v1/services", &ingest).await;
    assert_eq!(res.status, 403, "{}", res.text());
}

#[tokio::test]
async fn a_body_above_the_ingest_limit_is_413() {
    let app = TestApp::new().await;
    let admin = customer(&app, "contoso", &[("Trunk A", 30)]).await.cookie;
    let ingest = api_token(&app, &admin, "ingest").await;
    // Above the API-wide default, within the ingest limit: accepted.
    let mut rows = Vec::new();
    let mut n = 0;
    let mut size = 0;
    while size < 3 * 1024 * 1024 {
        let r = row(&format!("bulk-{n:08}"), "Trunk A", 9);
        size += r.len() + 1;
        rows.push(r);
        n += 1;
    }
    let res = post_calls(&app, &ingest, "text/csv", cdr_csv(&rows)).await;
    assert_eq!(counts(&res), (n, 0, 0));
    // Above 256 MiB: refused before anything is stored.
    let mut big = cdr_csv(&[]);
    big.resize(portal::http::ingest::INGEST_MAX_BODY_BYTES + 1, b'\n');
    let res = post_calls(&app, &ingest, "text/csv", big).await;
    assert_eq!(res.status, 413, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "payload_too_large");
}

#[tokio::test]
async fn services_are_listed_with_health_and_isolated_between_customers() {
    let app = TestApp::new().await;
    let a_admin = customer(&app, "contoso", &[("Trunk A", 30)]).await.cookie;
    let b_admin = customer(&app, "fabrikam", &[("Trunk A", 30)]).await.cookie;
    let a_second = create_trunk(&app, "contoso", "Teams", 12).await;
    sqlx::query(
        "INSERT INTO service_health_checks (service_id, checked_at, health, latency_ms, detail) \
         VALUES ($1, $2, 'up', 20, 'SIP/2.0 200 OK'), ($1, $3, 'degraded', NULL, 'SIP/2.0 503 Service Unavailable')",
    )
    .bind(&a_second)
    .bind(1_772_323_200_000_i64)
    .bind(1_772_323_260_000_i64)
    .execute(app.db.db.pool())
    .await
    .unwrap();

    let read = api_token(&app, &a_admin, "read").await;
    let list = get_bearer(&app, "/api/v1/services", &read).await;
    assert_eq!(list.status, 200, "{}", list.text());
    let services = list.json()["services"].as_array().unwrap().clone();
    assert_eq!(services.len(), 2);
    assert_eq!(services[0]["name"], "Teams");
    assert_eq!(services[0]["channel_limit"], 12);
    assert_eq!(services[0]["kind"], "sip_trunk");
    assert_eq!(services[0]["country"], "GB");
    assert_eq!(services[0]["health"]["health"], "degraded");
    assert_eq!(services[0]["health"]["latency_ms"], Value::Null);
    assert_eq!(services[0]["health"]["checked_at"], "2026-03-01T00:01:00Z");
    assert_eq!(services[1]["name"], "Trunk A");
    assert_eq!(services[1]["health"], Value::Null);

    // Detail, by session (any role) and by token.
    let one = app
        .get_with(&format!("/api/v1/services/{a_second}"), &a_admin)
        .await;
    assert_eq!(one.status, 200, "{}", one.text());
    // The list entry's fields, plus the utilisation series (tested in services_api.rs).
    let mut detail = one.json();
    assert!(detail
        .as_object_mut()
        .unwrap()
        .remove("utilisation")
        .is_some());
    // The health checks of the range (the last 24 hours by default: none here).
    assert_eq!(
        detail.as_object_mut().unwrap().remove("health_history"),
        Some(serde_json::json!([]))
    );
    assert_eq!(detail, services[0]);
    let day = app
        .get_with(
            &format!(
                "/api/v1/services/{a_second}?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z"
            ),
            &a_admin,
        )
        .await;
    assert_eq!(day.status, 200, "{}", day.text());
    let history: Vec<(String, String)> = day.json()["health_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["checked_at"].as_str().unwrap().to_string(),
                h["health"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            ("2026-03-01T00:01:00Z".to_string(), "degraded".to_string()),
            ("2026-03-01T00:00:00Z".to_string(), "up".to_string()),
        ]
    );
    create_user(&app.db.db, "contoso", "viewer@contoso.example", "viewer").await;
    let viewer = app
        .login("viewer@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let res = app.get_with("/api/v1/services", &viewer).await;
    assert_eq!(res.json()["services"], json!(services));

    // B neither sees A's services listed nor reaches them by id.
    let b_list = app.get_with("/api/v1/services", &b_admin).await;
    assert_eq!(b_list.status, 200);
    let b_services = b_list.json()["services"].as_array().unwrap().clone();
    assert_eq!(b_services.len(), 1);
    assert!(!b_list.text().contains(&a_second));
    let res = app
        .get_with(&format!("/api/v1/services/{a_second}"), &b_admin)
        .await;
    assert_eq!(res.status, 404, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "not_found");
    let b_read = api_token(&app, &b_admin, "read").await;
    let res = get_bearer(&app, &format!("/api/v1/services/{a_second}"), &b_read).await;
    assert_eq!(res.status, 404, "{}", res.text());
    let res = get_bearer(&app, "/api/v1/services/no-such-id", &read).await;
    assert_eq!(res.status, 404, "{}", res.text());
}

#[tokio::test]
async fn ingest_goes_to_the_token_organisation_only() {
    let app = TestApp::new().await;
    let a_admin = customer(&app, "contoso", &[("Trunk A", 30)]).await.cookie;
    let b_admin = customer(&app, "fabrikam", &[("Trunk A", 30)]).await.cookie;
    let a_ingest = api_token(&app, &a_admin, "ingest").await;
    let b_ingest = api_token(&app, &b_admin, "ingest").await;
    let body = cdr_csv(&[row("same-id", "Trunk A", 9)]);
    assert_eq!(
        counts(&post_calls(&app, &a_ingest, "text/csv", body.clone()).await),
        (1, 0, 0)
    );
    // The same carrier id in another organisation is not a duplicate.
    assert_eq!(
        counts(&post_calls(&app, &b_ingest, "text/csv", body).await),
        (1, 0, 0)
    );
    let orgs: Vec<String> = sqlx::query(
        "SELECT o.slug FROM calls c JOIN organisations o ON o.id = c.org_id ORDER BY o.slug",
    )
    .fetch_all(app.db.db.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get("slug").unwrap())
    .collect();
    assert_eq!(orgs, ["contoso", "fabrikam"]);
}

/// A call from `start` to `end` (RFC 3339), answered a second after it started.
fn timed_row(id: &str, start: &str, answer: &str, end: &str) -> String {
    format!(
        "{id},Trunk A,{start},{answer},{end},outbound,+441134960000,+4930901820,answered,200,OK,,,,DE"
    )
}

#[tokio::test]
async fn calls_outside_a_sane_window_or_too_long_are_refused_rows() {
    let app = TestApp::new().await;
    let admin = customer(&app, "contoso", &[("Trunk A", 30)]).await.cookie;
    let ingest = api_token(&app, &admin, "ingest").await;
    let now = app.clock.now_ms();
    let in_2_days = portal::clock::rfc3339_ms(now + 2 * 86_400_000);
    let body = cdr_csv(&[
        // One call across a century: each hour it spans would be a rollup entry.
        timed_row(
            "century",
            "1950-01-01T00:00:00Z",
            "1950-01-01T00:00:01Z",
            "2049-01-01T00:00:00Z",
        ),
        timed_row(
            "day-and-a-bit",
            "2026-03-01T00:00:00Z",
            "2026-03-01T00:00:01Z",
            "2026-03-02T00:00:01Z",
        ),
        timed_row("tomorrow-and-more", &in_2_days, &in_2_days, &in_2_days),
        timed_row(
            "year-9999",
            "9999-12-31T23:00:00Z",
            "9999-12-31T23:00:01Z",
            "9999-12-31T23:59:59Z",
        ),
        timed_row(
            "a-whole-day",
            "2026-03-01T00:00:00Z",
            "2026-03-01T00:00:01Z",
            "2026-03-02T00:00:00Z",
        ),
    ]);
    let started = std::time::Instant::now();
    let res = post_calls(&app, &ingest, "text/csv", body).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(counts(&res), (1, 0, 4), "{}", res.text());
    let errors = res.json()["errors"].clone();
    let fields: Vec<(u64, &str)> = errors
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [(2, "start"), (3, "end"), (4, "start"), (5, "start")],
        "{errors}"
    );
    assert!(
        errors[0]["reason"]
            .as_str()
            .unwrap()
            .contains("before 2000"),
        "{errors}"
    );
    assert!(
        errors[1]["reason"].as_str().unwrap().contains("86400 s"),
        "{errors}"
    );
    assert!(
        errors[2]["reason"]
            .as_str()
            .unwrap()
            .contains("in the future"),
        "{errors}"
    );
    assert_eq!(calls_stored(&app).await, 1);
    // No rollup row outside the one stored call's day.
    let hours: i64 = sqlx::query("SELECT COUNT(*) AS n FROM call_hourly_by_service")
        .fetch_one(app.db.db.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert!(hours <= 25, "{hours} rollup hours");
}

#[tokio::test]
async fn the_longest_call_is_configurable() {
    let app = TestApp::with_args(&["--max-call-secs", "60"]).await;
    let admin = customer(&app, "contoso", &[("Trunk A", 30)]).await.cookie;
    let ingest = api_token(&app, &admin, "ingest").await;
    let body = cdr_csv(&[
        timed_row(
            "a-minute",
            "2026-03-01T00:00:00Z",
            "2026-03-01T00:00:01Z",
            "2026-03-01T00:01:00Z",
        ),
        timed_row(
            "a-minute-and-a-bit",
            "2026-03-01T00:00:00Z",
            "2026-03-01T00:00:01Z",
            "2026-03-01T00:01:00.001Z",
        ),
    ]);
    let res = post_calls(&app, &ingest, "text/csv", body).await;
    assert_eq!(counts(&res), (1, 0, 1), "{}", res.text());
    assert_eq!(res.json()["errors"][0]["field"], "end");
}

#[tokio::test]
async fn an_upload_while_the_server_stops_answers_503_and_stores_whole_batches_only() {
    let app = TestApp::new().await;
    let admin = customer(&app, "contoso", &[("Trunk A", 30)]).await.cookie;
    let ingest = api_token(&app, &admin, "ingest").await;
    let body = cdr_csv(&[row("s1", "Trunk A", 9), row("s2", "Trunk A", 10)]);
    // SIGTERM has arrived (serve cancels this token): the upload stops before its batch.
    app.state.shutdown.cancel();
    let res = post_calls(&app, &ingest, "text/csv", body.clone()).await;
    assert_eq!(res.status, 503, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "shutting_down");
    assert_eq!(res.header("retry-after"), Some("5"));
    assert!(res.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("0 rows were stored"));
    assert_eq!(calls_stored(&app).await, 0);
}
