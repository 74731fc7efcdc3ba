//! `GET /api/v1/analytics/summary` and `/timeseries` over the real router: every figure equals
//! a hand computation from the DESIGN metric definitions on a small known set of calls (a call
//! spanning two hours, two services and countries, unanswered results, calls without MOS),
//! whole-hour rounding of the range, the previous period, hour and day buckets, isolation
//! between customers, who may read, and 422 for bad parameters.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{json, Value};

use portal::clock::rfc3339_ms;
use support::{
    api::{api_token, get_bearer},
    create_user,
    voice::{customer, ingest_rows},
    TestApp, PASSWORD,
};

/// 2026-03-01T00:00:00Z.
const BASE: i64 = 1_772_323_200_000;
const SEC: i64 = 1_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;

/// A call: start, answer after `answer` (answered calls), end after `end`.
struct Cdr {
    id: &'static str,
    service: &'static str,
    start: i64,
    answer: i64,
    end: i64,
    result: &'static str,
    mos: Option<f64>,
    country: &'static str,
}

impl Cdr {
    fn csv_row(&self) -> String {
        let answered = self.result == "answered";
        let (code, reason) = match self.result {
            "answered" => (200, "OK"),
            "busy" => (486, "Busy Here"),
            "no_answer" => (480, "Temporarily Unavailable"),
            "cancelled" => (487, "Request Terminated"),
            _ => (503, "Service Unavailable"),
        };
        format!(
            "{},{},{},{},{},outbound,+441134960000,+4930901820,{},{},{},{},{},{},{}",
            self.id,
            self.service,
            rfc3339_ms(self.start),
            if answered {
                rfc3339_ms(self.start + self.answer)
            } else {
                String::new()
            },
            rfc3339_ms(self.start + self.end),
            self.result,
            code,
            reason,
            self.mos.map(|m| m.to_string()).unwrap_or_default(),
            if self.mos.is_some() { "3.5" } else { "" },
            if self.mos.is_some() { "0.2" } else { "" },
            self.country,
        )
    }
}

async fn ingest(app: &TestApp, org_id: &str, cdrs: &[Cdr]) {
    let rows: Vec<String> = cdrs.iter().map(Cdr::csv_row).collect();
    ingest_rows(app, org_id, &rows).await;
}

/// The known set (times from 2026-03-01T00:00Z):
/// - Trunk A, hour 01: c1 answered 01:10 (+5 s → +125 s: 120 s, MOS 4.0, DE); c2 answered
///   01:20 (+10 s → +3610 s: 3600 s, spans into hour 02, no MOS, DE); c4 no_answer 01:11–01:12
///   (DE); c5 failed 01:11:30–01:11:50 (FR) → at 01:11:30 c1, c4, c5 in progress: peak 3.
/// - Trunk A, hour 02: c3 busy 02:05–02:05:30 (FR), in progress with c2: peak 2.
/// - Teams, hour 01: t1 answered 01:30 (+2 s → +302 s: 300 s, MOS 3.0, FR): peak 1.
/// - Teams, next day 02:00: t2 answered (+0 → +60 s, MOS 5.0, DE).
/// - Trunk A, previous day 23:30: p1 answered (+0 → +90 s, MOS 4.5, DE).
fn known_calls() -> Vec<Cdr> {
    let c = |id, service, start, answer, end, result, mos, country| Cdr {
        id,
        service,
        start,
        answer,
        end,
        result,
        mos,
        country,
    };
    vec![
        c(
            "c1",
            "Trunk A",
            BASE + HOUR + 10 * MIN,
            5 * SEC,
            125 * SEC,
            "answered",
            Some(4.0),
            "DE",
        ),
        c(
            "c2",
            "Trunk A",
            BASE + HOUR + 20 * MIN,
            10 * SEC,
            3610 * SEC,
            "answered",
            None,
            "DE",
        ),
        c(
            "c3",
            "Trunk A",
            BASE + 2 * HOUR + 5 * MIN,
            0,
            30 * SEC,
            "busy",
            None,
            "FR",
        ),
        c(
            "c4",
            "Trunk A",
            BASE + HOUR + 11 * MIN,
            0,
            60 * SEC,
            "no_answer",
            None,
            "DE",
        ),
        c(
            "c5",
            "Trunk A",
            BASE + HOUR + 11 * MIN + 30 * SEC,
            0,
            20 * SEC,
            "failed",
            None,
            "FR",
        ),
        c(
            "t1",
            "Teams",
            BASE + HOUR + 30 * MIN,
            2 * SEC,
            302 * SEC,
            "answered",
            Some(3.0),
            "FR",
        ),
        c(
            "t2",
            "Teams",
            BASE + 26 * HOUR,
            0,
            60 * SEC,
            "answered",
            Some(5.0),
            "DE",
        ),
        c(
            "p1",
            "Trunk A",
            BASE - 30 * MIN,
            0,
            90 * SEC,
            "answered",
            Some(4.5),
            "DE",
        ),
    ]
}

async fn ok(app: &TestApp, path: &str, cookie: &str) -> Value {
    let res = app.get_with(path, cookie).await;
    assert_eq!(res.status, 200, "{path}: {}", res.text());
    res.json()
}

/// Asserts a JSON number (within 1e-9) or null.
fn num(v: &Value, expected: Option<f64>, what: &str) {
    match expected {
        None => assert_eq!(*v, Value::Null, "{what}"),
        Some(e) => {
            let got = v
                .as_f64()
                .unwrap_or_else(|| panic!("{what}: {v} is no number"));
            assert!((got - e).abs() < 1e-9, "{what}: {got} ≠ {e}");
        }
    }
}

/// The figures of `v`: calls, answered, minutes, ASR, NER, ACD (s), average MOS.
#[allow(clippy::too_many_arguments)]
fn figures(
    v: &Value,
    what: &str,
    calls: i64,
    answered: i64,
    minutes: f64,
    asr: Option<f64>,
    ner: Option<f64>,
    acd: Option<f64>,
    mos: Option<f64>,
) {
    assert_eq!(v["calls"], calls, "{what} calls: {v}");
    assert_eq!(v["answered"], answered, "{what} answered: {v}");
    num(&v["minutes"], Some(minutes), &format!("{what} minutes"));
    num(&v["asr"], asr, &format!("{what} asr"));
    num(&v["ner"], ner, &format!("{what} ner"));
    num(&v["acd_seconds"], acd, &format!("{what} acd"));
    num(&v["average_mos"], mos, &format!("{what} mos"));
}

fn peaks(v: &Value) -> Vec<(String, i64, i64)> {
    v["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["service_id"].as_str().unwrap().to_string(),
                s["peak_channels"].as_i64().unwrap(),
                s["channel_limit"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_summary_matches_the_definitions_for_the_range_and_the_previous_period() {
    let app = TestApp::new().await;
    let a = customer(&app, "contoso", &[("Trunk A", 30), ("Teams", 10)]).await;
    ingest(&app, &a.org_id, &known_calls()).await;

    // 01:15 rounds down to 01:00, 02:30 up to 03:00; the previous period is 23:00–01:00.
    let v = ok(
        &app,
        "/api/v1/analytics/summary?from=2026-03-01T01:15:00Z&to=2026-03-01T02:30:00Z",
        &a.cookie,
    )
    .await;
    assert_eq!(v["range"]["from"], "2026-03-01T01:00:00Z");
    assert_eq!(v["range"]["to"], "2026-03-01T03:00:00Z");
    assert_eq!(v["previous_range"]["from"], "2026-02-28T23:00:00Z");
    assert_eq!(v["previous_range"]["to"], "2026-03-01T01:00:00Z");
    // c1, c2, c4, c5, t1, c3: 3 answered, 1 busy, 1 no_answer; 120 + 3600 + 300 s answered
    // (all of c2's in its start hour); MOS of c1 and t1.
    figures(
        &v["current"],
        "current",
        6,
        3,
        67.0,
        Some(0.5),
        Some(5.0 / 6.0),
        Some(1340.0),
        Some(3.5),
    );
    // Services by name: Teams (peak 1 of 10), Trunk A (max(3, 2) of 30).
    assert_eq!(
        peaks(&v["current"]),
        [(a.trunks[1].clone(), 1, 10), (a.trunk.clone(), 3, 30)]
    );
    // p1 only.
    figures(
        &v["previous"],
        "previous",
        1,
        1,
        1.5,
        Some(1.0),
        Some(1.0),
        Some(90.0),
        Some(4.5),
    );
    assert_eq!(
        peaks(&v["previous"]),
        [(a.trunks[1].clone(), 0, 10), (a.trunk.clone(), 1, 30)]
    );

    // One service.
    let v = ok(
        &app,
        &format!(
            "/api/v1/analytics/summary?from=2026-03-01T01:00:00Z&to=2026-03-01T03:00:00Z&service={}",
            a.trunks[1]
        ),
        &a.cookie,
    )
    .await;
    figures(
        &v["current"],
        "teams",
        1,
        1,
        5.0,
        Some(1.0),
        Some(1.0),
        Some(300.0),
        Some(3.0),
    );
    assert_eq!(peaks(&v["current"]), [(a.trunks[1].clone(), 1, 10)]);
    figures(
        &v["previous"],
        "teams previous",
        0,
        0,
        0.0,
        None,
        None,
        None,
        None,
    );

    // Hour 02 alone: c3 only (c2 started in hour 01); Trunk A's peak is still 2 there.
    let v = ok(
        &app,
        "/api/v1/analytics/summary?from=2026-03-01T02:00:00Z&to=2026-03-01T03:00:00Z",
        &a.cookie,
    )
    .await;
    figures(
        &v["current"],
        "02",
        1,
        0,
        0.0,
        Some(0.0),
        Some(1.0),
        None,
        None,
    );
    assert_eq!(
        peaks(&v["current"]),
        [(a.trunks[1].clone(), 0, 10), (a.trunk.clone(), 2, 30)]
    );
    figures(
        &v["previous"],
        "01",
        5,
        3,
        67.0,
        Some(0.6),
        Some(0.8),
        Some(1340.0),
        Some(3.5),
    );

    // The default: the 24 whole hours ending with the current hour, by the app clock.
    let read = api_token(&app, &a.cookie, "read").await;
    app.clock
        .advance_secs(((BASE + 3 * HOUR - 20 * MIN - app.clock.now_ms()) / 1000) as i64);
    let now = app.clock.now_ms();
    let res = get_bearer(&app, "/api/v1/analytics/summary", &read).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let v = res.json();
    let to = (now + HOUR - 1).div_euclid(HOUR) * HOUR;
    assert_eq!(v["range"]["to"], rfc3339_ms(to));
    assert_eq!(v["range"]["from"], rfc3339_ms(to - 24 * HOUR));
    assert_eq!(v["previous_range"]["from"], rfc3339_ms(to - 48 * HOUR));
    assert_eq!(v["current"]["calls"], 7, "{v}");
}

#[tokio::test]
async fn timeseries_buckets_by_hour_and_day_per_service_and_country() {
    let app = TestApp::new().await;
    let a = customer(&app, "contoso", &[("Trunk A", 30), ("Teams", 10)]).await;
    ingest(&app, &a.org_id, &known_calls()).await;

    // Hours 00, 01, 02 (02:00:01 rounds up to 03:00).
    let v = ok(
        &app,
        "/api/v1/analytics/timeseries?from=2026-03-01T00:00:00Z&to=2026-03-01T02:00:01Z&bucket=hour&by=service",
        &a.cookie,
    )
    .await;
    assert_eq!(v["range"]["to"], "2026-03-01T03:00:00Z");
    assert_eq!(v["bucket"], "hour");
    let series = v["series"].as_array().unwrap();
    let keys: Vec<&str> = series.iter().map(|s| s["key"].as_str().unwrap()).collect();
    let mut expected = [a.trunk.as_str(), a.trunks[1].as_str()];
    expected.sort();
    assert_eq!(keys, expected);
    let trunk = series
        .iter()
        .find(|s| s["key"] == a.trunk.as_str())
        .unwrap();
    assert_eq!(trunk["label"], "Trunk A");
    assert_eq!(trunk["channel_limit"], 30);
    let p = trunk["points"].as_array().unwrap();
    assert_eq!(p.len(), 3);
    assert_eq!(p[0]["at"], "2026-03-01T00:00:00Z");
    figures(&p[0], "trunk 00", 0, 0, 0.0, None, None, None, None);
    assert_eq!(p[0]["peak_channels"], 0);
    assert_eq!(p[1]["at"], "2026-03-01T01:00:00Z");
    // c1, c2, c4, c5: 2 answered, 1 no_answer; 3720 s; MOS of c1.
    figures(
        &p[1],
        "trunk 01",
        4,
        2,
        62.0,
        Some(0.5),
        Some(0.75),
        Some(1860.0),
        Some(4.0),
    );
    assert_eq!(p[1]["peak_channels"], 3);
    figures(
        &p[2],
        "trunk 02",
        1,
        0,
        0.0,
        Some(0.0),
        Some(1.0),
        None,
        None,
    );
    assert_eq!(p[2]["peak_channels"], 2);
    let teams = series
        .iter()
        .find(|s| s["key"] == a.trunks[1].as_str())
        .unwrap();
    assert_eq!(teams["channel_limit"], 10);
    let p = teams["points"].as_array().unwrap();
    figures(
        &p[1],
        "teams 01",
        1,
        1,
        5.0,
        Some(1.0),
        Some(1.0),
        Some(300.0),
        Some(3.0),
    );
    assert_eq!(p[1]["peak_channels"], 1);
    assert_eq!(p[2]["peak_channels"], 0);

    // Days 03-01 and 03-02: a day's peak is the largest of its hours.
    let day = "from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z&bucket=day";
    let v = ok(
        &app,
        &format!("/api/v1/analytics/timeseries?{day}&by=service"),
        &a.cookie,
    )
    .await;
    let series = v["series"].as_array().unwrap();
    let trunk = series
        .iter()
        .find(|s| s["key"] == a.trunk.as_str())
        .unwrap();
    let p = trunk["points"].as_array().unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(p[0]["at"], "2026-03-01T00:00:00Z");
    assert_eq!(p[1]["at"], "2026-03-02T00:00:00Z");
    figures(
        &p[0],
        "trunk day 1",
        5,
        2,
        62.0,
        Some(0.4),
        Some(0.8),
        Some(1860.0),
        Some(4.0),
    );
    assert_eq!(p[0]["peak_channels"], 3);
    figures(&p[1], "trunk day 2", 0, 0, 0.0, None, None, None, None);
    assert_eq!(p[1]["peak_channels"], 0);
    let teams = series
        .iter()
        .find(|s| s["key"] == a.trunks[1].as_str())
        .unwrap();
    let p = teams["points"].as_array().unwrap();
    assert_eq!(p[0]["calls"], 1);
    assert_eq!(p[0]["peak_channels"], 1);
    figures(
        &p[1],
        "teams day 2",
        1,
        1,
        1.0,
        Some(1.0),
        Some(1.0),
        Some(60.0),
        Some(5.0),
    );
    assert_eq!(p[1]["peak_channels"], 1);

    // By country: no peak.
    let v = ok(
        &app,
        &format!("/api/v1/analytics/timeseries?{day}&by=country"),
        &a.cookie,
    )
    .await;
    assert_eq!(v["by"], "country");
    let series = v["series"].as_array().unwrap();
    let keys: Vec<&str> = series.iter().map(|s| s["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["DE", "FR"]);
    let de = series[0]["points"].as_array().unwrap();
    assert!(de[0].get("peak_channels").is_none(), "{}", de[0]);
    assert!(series[0].get("channel_limit").is_none());
    // c1, c2, c4.
    figures(
        &de[0],
        "DE day 1",
        3,
        2,
        62.0,
        Some(2.0 / 3.0),
        Some(1.0),
        Some(1860.0),
        Some(4.0),
    );
    figures(
        &de[1],
        "DE day 2",
        1,
        1,
        1.0,
        Some(1.0),
        Some(1.0),
        Some(60.0),
        Some(5.0),
    );
    // c3, c5, t1.
    let fr = series[1]["points"].as_array().unwrap();
    figures(
        &fr[0],
        "FR day 1",
        3,
        1,
        5.0,
        Some(1.0 / 3.0),
        Some(2.0 / 3.0),
        Some(300.0),
        Some(3.0),
    );
    figures(&fr[1], "FR day 2", 0, 0, 0.0, None, None, None, None);

    // The defaults are hour and service.
    let v = ok(
        &app,
        "/api/v1/analytics/timeseries?from=2026-03-01T01:00:00Z&to=2026-03-01T02:00:00Z",
        &a.cookie,
    )
    .await;
    assert_eq!(v["bucket"], "hour");
    assert_eq!(v["by"], "service");
    assert_eq!(v["series"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn customers_see_only_their_own_figures() {
    let app = TestApp::new().await;
    let a = customer(&app, "contoso", &[("Trunk A", 30), ("Teams", 10)]).await;
    let b = customer(&app, "fabrikam", &[("Trunk A", 30), ("Teams", 10)]).await;
    ingest(&app, &a.org_id, &known_calls()).await;
    let range = "from=2026-02-28T00:00:00Z&to=2026-03-03T00:00:00Z";

    let v = ok(
        &app,
        &format!("/api/v1/analytics/summary?{range}"),
        &b.cookie,
    )
    .await;
    for period in ["current", "previous"] {
        figures(&v[period], period, 0, 0, 0.0, None, None, None, None);
        let expected = vec![(b.trunks[1].clone(), 0, 10), (b.trunk.clone(), 0, 30)];
        assert_eq!(peaks(&v[period]), expected);
    }
    // A's service id finds nothing for B.
    let v = ok(
        &app,
        &format!("/api/v1/analytics/summary?{range}&service={}", a.trunk),
        &b.cookie,
    )
    .await;
    figures(
        &v["current"],
        "A's service",
        0,
        0,
        0.0,
        None,
        None,
        None,
        None,
    );
    assert_eq!(v["current"]["services"], json!([]));
    for by in ["service", "country"] {
        for bucket in ["hour", "day"] {
            let v = ok(
                &app,
                &format!("/api/v1/analytics/timeseries?{range}&by={by}&bucket={bucket}"),
                &b.cookie,
            )
            .await;
            assert_eq!(v["series"], json!([]), "{by} {bucket}");
        }
    }
    // A sees its calls.
    let v = ok(
        &app,
        &format!("/api/v1/analytics/summary?{range}"),
        &a.cookie,
    )
    .await;
    assert_eq!(v["current"]["calls"], 8);

    // A viewer and a read token read; an ingest token reads nothing; no credentials: 401.
    create_user(&app.db.db, "contoso", "viewer@contoso.example", "viewer").await;
    let viewer = app
        .login("viewer@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let v = ok(&app, &format!("/api/v1/analytics/summary?{range}"), &viewer).await;
    assert_eq!(v["current"]["calls"], 8);
    let read = api_token(&app, &a.cookie, "read").await;
    let res = get_bearer(
        &app,
        &format!("/api/v1/analytics/timeseries?{range}"),
        &read,
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let ingest_token = api_token(&app, &a.cookie, "ingest").await;
    for path in ["summary", "timeseries"] {
        let res = get_bearer(&app, &format!("/api/v1/analytics/{path}"), &ingest_token).await;
        assert_eq!(res.status, 403, "{}", res.text());
        let res = app.get(&format!("/api/v1/analytics/{path}")).await;
        assert_eq!(res.status, 401, "{}", res.text());
    }
}

#[tokio::test]
async fn today_so_far_can_be_compared_with_the_same_hours_yesterday() {
    let app = TestApp::new().await;
    let a = customer(&app, "contoso", &[("Trunk A", 30), ("Teams", 10)]).await;
    ingest(&app, &a.org_id, &known_calls()).await;

    // 02:00–03:00 on the next day holds t2 only.
    let range = "from=2026-03-02T02:00:00Z&to=2026-03-02T03:00:00Z";
    let v = ok(
        &app,
        &format!("/api/v1/analytics/summary?{range}&compare=day_before"),
        &a.cookie,
    )
    .await;
    assert_eq!(v["range"]["from"], "2026-03-02T02:00:00Z");
    assert_eq!(v["previous_range"]["from"], "2026-03-01T02:00:00Z");
    assert_eq!(v["previous_range"]["to"], "2026-03-01T03:00:00Z");
    figures(
        &v["current"],
        "t2",
        1,
        1,
        1.0,
        Some(1.0),
        Some(1.0),
        Some(60.0),
        Some(5.0),
    );
    // The same hour the day before: c3 (busy) only; c2 started in the hour before it.
    figures(
        &v["previous"],
        "day before",
        1,
        0,
        0.0,
        Some(0.0),
        Some(1.0),
        None,
        None,
    );

    // By default (and with compare=previous) the hour just before, which had no calls.
    for query in [range.to_string(), format!("{range}&compare=previous")] {
        let v = ok(
            &app,
            &format!("/api/v1/analytics/summary?{query}"),
            &a.cookie,
        )
        .await;
        assert_eq!(
            v["previous_range"]["from"], "2026-03-02T01:00:00Z",
            "{query}"
        );
        assert_eq!(v["previous"]["calls"], 0, "{query}");
    }

    // A whole day may still be compared with the day before.
    let v = ok(
        &app,
        "/api/v1/analytics/summary?from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z&compare=day_before",
        &a.cookie,
    )
    .await;
    assert_eq!(v["previous_range"]["from"], "2026-03-01T00:00:00Z");
    assert_eq!(v["previous_range"]["to"], "2026-03-02T00:00:00Z");
}

#[tokio::test]
async fn bad_parameters_are_422_naming_the_field() {
    let app = TestApp::new().await;
    let a = customer(&app, "contoso", &[("Trunk A", 30), ("Teams", 10)]).await;
    let cases = [
        (
            "summary",
            "from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z",
            "from",
        ),
        (
            "summary",
            "from=2026-03-01T00:00:00Z&to=2026-03-01T00:00:00Z",
            "from",
        ),
        ("summary", "from=yesterday", "from"),
        ("summary", "to=2026-03-01", "to"),
        (
            "summary",
            "from=2025-01-01T00:00:00Z&to=2026-03-01T00:00:00Z",
            "to",
        ),
        ("summary", "service=", "service"),
        ("summary", "compare=last_year", "compare"),
        (
            "summary",
            "from=2026-03-01T00:00:00Z&to=2026-03-02T01:00:00Z&compare=day_before",
            "compare",
        ),
        (
            "timeseries",
            "from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z",
            "from",
        ),
        (
            "timeseries",
            "from=2025-01-01T00:00:00Z&to=2026-03-01T00:00:00Z",
            "to",
        ),
        ("timeseries", "bucket=week", "bucket"),
        ("timeseries", "by=number", "by"),
        ("timeseries", "to=soon", "to"),
    ];
    for (route, query, field) in cases {
        let res = app
            .get_with(&format!("/api/v1/analytics/{route}?{query}"), &a.cookie)
            .await;
        assert_eq!(res.status, 422, "{route} {query}: {}", res.text());
        let v = res.json();
        assert_eq!(v["error"]["code"], "invalid_field", "{query}: {v}");
        assert_eq!(v["error"]["field"], field, "{query}: {v}");
    }
    // 400 days is the most.
    let v = ok(
        &app,
        "/api/v1/analytics/summary?from=2025-01-25T00:00:00Z&to=2026-03-01T00:00:00Z",
        &a.cookie,
    )
    .await;
    assert_eq!(v["range"]["from"], "2025-01-25T00:00:00Z");
}
