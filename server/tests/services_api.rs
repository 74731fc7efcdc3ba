//! `GET /api/v1/services/{id}`'s utilisation series over the real router: peak channels and
//! calls per hour and per day from the hourly rollups (a long call counts in every hour it
//! spans), every bucket of the range listed, the default range, the channel limit, isolation
//! between customers (session and token), and 422 for bad parameters. The list entry's own
//! fields are tested in ingest_api.rs.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::Value;

use portal::clock::rfc3339_ms;
use support::{
    api::{api_token, get_bearer, sign_in},
    create_user,
    voice::{customer, ingest_rows, Customer},
    TestApp, TestResponse,
};

const HOUR: i64 = 3_600_000;
const MIN: i64 = 60_000;

/// An answered call on `Trunk A` from `start` to `end` (UTC ms).
fn call(id: &str, start: i64, end: i64) -> String {
    format!(
        "{id},Trunk A,{},{},{},outbound,+441134960000,+4930901820,answered,200,OK,4.3,,,DE",
        rfc3339_ms(start),
        rfc3339_ms(start + 1_000),
        rfc3339_ms(end)
    )
}

/// 2026-03-01T00:00:00Z.
const DAY1: i64 = 1_772_323_200_000;

/// (at, peak_channels, calls) of each point.
fn points(res: &TestResponse) -> Vec<(String, i64, i64)> {
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["utilisation"]["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["at"].as_str().unwrap().to_string(),
                p["peak_channels"].as_i64().unwrap(),
                p["calls"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn p(at: &str, peak: i64, calls: i64) -> (String, i64, i64) {
    (at.to_string(), peak, calls)
}

/// A: three overlapping calls at 09:10, one from 10:30 to 12:10, two one after the other on
/// the next day at 08:00. B (same service name) has busier hours that A must never see.
async fn two_customers(app: &TestApp) -> (Customer, Customer) {
    let a = customer(app, "contoso", &[("Trunk A", 30)]).await;
    let b = customer(app, "fabrikam", &[("Trunk A", 8)]).await;
    let nine = DAY1 + 9 * HOUR;
    ingest_rows(
        app,
        &a.org_id,
        &[
            call("a1", nine + 10 * MIN, nine + 20 * MIN),
            call("a2", nine + 12 * MIN, nine + 22 * MIN),
            call("a3", nine + 15 * MIN, nine + 25 * MIN),
            call(
                "a4",
                DAY1 + 10 * HOUR + 30 * MIN,
                DAY1 + 12 * HOUR + 10 * MIN,
            ),
            call("a5", DAY1 + 32 * HOUR, DAY1 + 32 * HOUR + 5 * MIN),
            call(
                "a6",
                DAY1 + 32 * HOUR + 10 * MIN,
                DAY1 + 32 * HOUR + 15 * MIN,
            ),
        ],
    )
    .await;
    let rows: Vec<String> = (0..6)
        .map(|i| call(&format!("b{i}"), nine + i * MIN, nine + 30 * MIN))
        .collect();
    ingest_rows(app, &b.org_id, &rows).await;
    (a, b)
}

#[tokio::test]
async fn hourly_and_daily_utilisation_come_from_the_rollups() {
    let app = TestApp::new().await;
    let (a, _b) = two_customers(&app).await;
    let path = format!(
        "/api/v1/services/{}?from=2026-03-01T09:30:00Z&to=2026-03-01T12:30:00%2B00:00",
        a.trunk
    );
    let res = app.get_with(&path, &a.cookie).await;
    assert_eq!(
        points(&res),
        [
            p("2026-03-01T09:00:00Z", 3, 3),
            p("2026-03-01T10:00:00Z", 1, 1),
            // The 10:30 call is in progress in these hours but started before them.
            p("2026-03-01T11:00:00Z", 1, 0),
            p("2026-03-01T12:00:00Z", 1, 0),
        ]
    );
    let body = res.json();
    let u = &body["utilisation"];
    assert_eq!(u["from"], "2026-03-01T09:00:00Z");
    assert_eq!(u["to"], "2026-03-01T13:00:00Z");
    assert_eq!(u["bucket"], "hour");
    assert_eq!(u["channel_limit"], 30);
    assert_eq!(u["peak_channels"], 3);
    // The list entry's fields are all there.
    assert_eq!(body["id"], a.trunk.as_str());
    assert_eq!(body["name"], "Trunk A");
    assert_eq!(body["channel_limit"], 30);
    assert_eq!(body["health"], Value::Null);

    // Hours without a rollup are listed as zero.
    let res = app
        .get_with(
            &format!(
                "/api/v1/services/{}?from=2026-03-01T06:00:00Z&to=2026-03-01T09:00:00Z",
                a.trunk
            ),
            &a.cookie,
        )
        .await;
    assert_eq!(
        points(&res),
        [
            p("2026-03-01T06:00:00Z", 0, 0),
            p("2026-03-01T07:00:00Z", 0, 0),
            p("2026-03-01T08:00:00Z", 0, 0),
        ]
    );
    assert_eq!(res.json()["utilisation"]["peak_channels"], 0);

    // Days: the largest hourly peak, the sum of calls.
    let res = app
        .get_with(
            &format!(
                "/api/v1/services/{}?bucket=day&from=2026-03-01T05:00:00Z&to=2026-03-02T10:00:00Z",
                a.trunk
            ),
            &a.cookie,
        )
        .await;
    assert_eq!(
        points(&res),
        [
            p("2026-03-01T00:00:00Z", 3, 4),
            p("2026-03-02T00:00:00Z", 1, 2)
        ]
    );
    assert_eq!(res.json()["utilisation"]["bucket"], "day");
    assert_eq!(res.json()["utilisation"]["to"], "2026-03-03T00:00:00Z");
}

#[tokio::test]
async fn the_default_range_is_the_last_24_hours() {
    let app = TestApp::new().await;
    let a = customer(&app, "contoso", &[("Trunk A", 30)]).await;
    let start = app.clock.now_ms() - 90 * MIN;
    ingest_rows(&app, &a.org_id, &[call("recent", start, start + 10 * MIN)]).await;
    let res = app
        .get_with(&format!("/api/v1/services/{}", a.trunk), &a.cookie)
        .await;
    let points = points(&res);
    assert_eq!(points.len(), 24);
    let u = res.json()["utilisation"].clone();
    let to = u["to"].as_str().unwrap();
    assert!(to.ends_with(":00:00Z"), "{to}");
    assert!(to >= rfc3339_ms(app.clock.now_ms()).as_str());
    let hour = rfc3339_ms(start.div_euclid(HOUR) * HOUR);
    assert_eq!(
        points
            .iter()
            .filter(|(at, _, _)| *at == hour)
            .collect::<Vec<_>>(),
        [&(hour.clone(), 1, 1)]
    );
    assert_eq!(points.iter().map(|(_, _, c)| c).sum::<i64>(), 1);
}

#[tokio::test]
async fn another_customers_service_is_not_found_and_bad_parameters_name_the_field() {
    let app = TestApp::new().await;
    let (a, b) = two_customers(&app).await;
    let a_token = api_token(&app, &a.cookie, "read").await;
    let b_token = api_token(&app, &b.cookie, "read").await;
    let range = "from=2026-03-01T09:00:00Z&to=2026-03-01T10:00:00Z";

    // Each sees its own hour 09 through a session and a token; B's busier hour never shows in
    // A's series, and A's service is not found for B.
    for (me, token, other, peak) in [(&a, &a_token, &b, 3), (&b, &b_token, &a, 6)] {
        let path = format!("/api/v1/services/{}?{range}", me.trunk);
        for res in [
            app.get_with(&path, &me.cookie).await,
            get_bearer(&app, &path, token).await,
        ] {
            assert_eq!(points(&res)[0].1, peak);
        }
        let path = format!("/api/v1/services/{}?{range}", other.trunk);
        for res in [
            app.get_with(&path, &me.cookie).await,
            get_bearer(&app, &path, token).await,
        ] {
            assert_eq!(res.status, 404, "{}", res.text());
            assert_eq!(res.json()["error"]["code"], "not_found");
        }
    }

    // A viewer reads; an ingest token does not.
    create_user(&app.db.db, "contoso", "viewer@contoso.example", "viewer").await;
    let viewer = sign_in(&app, "viewer@contoso.example").await;
    let path = format!("/api/v1/services/{}?{range}", a.trunk);
    assert_eq!(points(&app.get_with(&path, &viewer).await)[0].1, 3);
    let ingest = api_token(&app, &a.cookie, "ingest").await;
    assert_eq!(get_bearer(&app, &path, &ingest).await.status, 403);

    for (q, field) in [
        ("bucket=week", "bucket"),
        ("bucket=", "bucket"),
        ("from=yesterday", "from"),
        ("to=2026-03-01", "to"),
        ("from=2026-03-01T10:00:00Z&to=2026-03-01T10:00:00Z", "from"),
        ("from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "from"),
        ("from=2025-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", "to"),
    ] {
        let res = app
            .get_with(&format!("/api/v1/services/{}?{q}", a.trunk), &a.cookie)
            .await;
        assert_eq!(res.status, 422, "{q}: {}", res.text());
        assert_eq!(res.json()["error"]["code"], "invalid_field", "{q}");
        assert_eq!(res.json()["error"]["field"], field, "{q}");
    }
}
