//! `GET /api/v1/calls` and `GET /api/v1/calls/{id}` over the real router: the default range
//! from the app clock, every filter, keyset pagination across equal start times, isolation
//! between customers (ids included), who may read, and 422 for bad parameters.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::Value;

use portal::clock::rfc3339_ms;
use support::{
    api::{api_token, get_bearer},
    create_user,
    voice::{create_trunk, customer, ingest_rows},
    TestApp, TestResponse, PASSWORD,
};

/// 2026-03-01T00:00:00Z.
const BASE: i64 = 1_772_323_200_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;

/// A call record; the fields not given are believable constants.
#[derive(Clone)]
struct Cdr {
    id: String,
    service: &'static str,
    start: i64,
    direction: &'static str,
    from: &'static str,
    to: &'static str,
    result: &'static str,
    mos: Option<f64>,
    country: &'static str,
}

impl Cdr {
    fn new(id: &str, start: i64) -> Cdr {
        Cdr {
            id: id.to_string(),
            service: "Trunk A",
            start,
            direction: "outbound",
            from: "+441134960000",
            to: "+4930901820",
            result: "answered",
            mos: Some(4.3),
            country: "DE",
        }
    }

    fn csv_row(&self) -> String {
        let answered = self.result == "answered";
        let answer = if answered {
            rfc3339_ms(self.start + 5_000)
        } else {
            String::new()
        };
        let (code, reason) = if answered {
            (200, "OK")
        } else {
            (486, "Busy Here")
        };
        format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            self.id,
            self.service,
            rfc3339_ms(self.start),
            answer,
            rfc3339_ms(self.start + 125_000),
            self.direction,
            self.from,
            self.to,
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

/// Stores the records through the ingest (the same path as the API and the CLI).
async fn ingest(app: &TestApp, org_id: &str, cdrs: &[Cdr]) {
    let rows: Vec<String> = cdrs.iter().map(Cdr::csv_row).collect();
    ingest_rows(app, org_id, &rows).await;
}

/// The ids of a successful list answer.
fn ids(res: &TestResponse) -> Vec<String> {
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// The range of 2026-03-01 as query parameters.
const DAY: &str = "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z";

#[tokio::test]
async fn the_default_range_is_the_last_24_hours_by_the_app_clock() {
    let app = TestApp::new().await;
    let a = customer(&app, "contoso", &[("Trunk A", 30)]).await;
    let now = app.clock.now_ms();
    ingest(
        &app,
        &a.org_id,
        &[
            Cdr::new("recent", now - HOUR),
            Cdr::new("older", now - 23 * HOUR),
            Cdr::new("too-old", now - 25 * HOUR),
            Cdr::new("future", now + HOUR),
        ],
    )
    .await;
    let res = app.get_with("/api/v1/calls", &a.cookie).await;
    assert_eq!(ids(&res), ["recent", "older"]);
    let v = res.json();
    assert_eq!(v["next_cursor"], Value::Null);
    let from = portal::clock::parse_rfc3339_ms(v["range"]["from"].as_str().unwrap()).unwrap();
    let to = portal::clock::parse_rfc3339_ms(v["range"]["to"].as_str().unwrap()).unwrap();
    assert_eq!(to - from, 24 * HOUR);
    assert!((to - now).abs() < 60_000, "{v}");

    // The fields of the DESIGN format, times in RFC 3339.
    let c = &v["calls"][0];
    assert_eq!(c["service"], "Trunk A");
    assert_eq!(c["service_id"].as_str().unwrap(), a.trunk);
    assert_eq!(c["start"], rfc3339_ms(now - HOUR));
    assert_eq!(c["answer"], rfc3339_ms(now - HOUR + 5_000));
    assert_eq!(c["end"], rfc3339_ms(now - HOUR + 125_000));
    assert_eq!(c["direction"], "outbound");
    assert_eq!(c["from"], "+441134960000");
    assert_eq!(c["to"], "+4930901820");
    assert_eq!(c["result"], "answered");
    assert_eq!(c["sip_code"], 200);
    assert_eq!(c["sip_reason"], "OK");
    assert_eq!(c["mos"], 4.3);
    assert_eq!(c["jitter_ms"], 3.5);
    assert_eq!(c["packet_loss_pct"], 0.2);
    assert_eq!(c["country"], "DE");

    // The range follows the app clock (a token: the session would idle out).
    let read = api_token(&app, &a.cookie, "read").await;
    app.clock.advance_secs(2 * 3600);
    let res = get_bearer(&app, "/api/v1/calls", &read).await;
    assert_eq!(ids(&res), ["future", "recent"]);
    // Only `to` given: the 24 hours before it.
    let to = rfc3339_ms(now - 22 * HOUR);
    let res = get_bearer(&app, &format!("/api/v1/calls?to={to}"), &read).await;
    assert_eq!(ids(&res), ["older", "too-old"]);
}

#[tokio::test]
async fn every_filter_applies() {
    let app = TestApp::new().await;
    let a = customer(&app, "contoso", &[("Trunk A", 30)]).await;
    let teams = create_trunk(&app, "contoso", "Teams", 30).await;
    let mut inbound = Cdr::new("inbound-busy", BASE + HOUR);
    inbound.direction = "inbound";
    inbound.result = "busy";
    inbound.mos = None;
    inbound.from = "+4930901999";
    inbound.to = "+441134960001";
    inbound.country = "FR";
    let mut on_teams = Cdr::new("teams-low-mos", BASE + 2 * HOUR);
    on_teams.service = "Teams";
    on_teams.mos = Some(2.5);
    on_teams.to = "+33142685300";
    on_teams.country = "FR";
    let plain = Cdr::new("plain", BASE + 3 * HOUR);
    let next_day = Cdr::new("next-day", BASE + 25 * HOUR);
    ingest(&app, &a.org_id, &[inbound, on_teams, plain, next_day]).await;

    let list = |q: &str| {
        let path = format!("/api/v1/calls?{DAY}{q}");
        let cookie = a.cookie.clone();
        let app = &app;
        async move { ids(&app.get_with(&path, &cookie).await) }
    };
    assert_eq!(list("").await, ["plain", "teams-low-mos", "inbound-busy"]);
    assert_eq!(list("&direction=inbound").await, ["inbound-busy"]);
    assert_eq!(
        list("&direction=outbound").await,
        ["plain", "teams-low-mos"]
    );
    assert_eq!(list("&result=busy").await, ["inbound-busy"]);
    assert_eq!(list("&result=failed").await, Vec::<String>::new());
    // `number` matches the caller or the called number.
    assert_eq!(list("&number=%2B4930901999").await, ["inbound-busy"]);
    assert_eq!(list("&number=%2B441134960001").await, ["inbound-busy"]);
    assert_eq!(
        list("&number=%2B441134960000").await,
        ["plain", "teams-low-mos"]
    );
    // Over several days, and over a range too long to probe the number indexes day by day
    // (the filter then scans the range): the same answer.
    for range in [
        "from=2026-02-28T12:00:00Z&to=2026-03-03T00:00:00Z",
        "from=2024-03-01T00:00:00Z&to=2026-03-03T00:00:00Z",
    ] {
        let path = format!("/api/v1/calls?{range}&number=%2B441134960000");
        assert_eq!(
            ids(&app.get_with(&path, &a.cookie).await),
            ["next-day", "plain", "teams-low-mos"],
            "{range}"
        );
    }
    assert_eq!(list(&format!("&service={teams}")).await, ["teams-low-mos"]);
    assert_eq!(
        list(&format!("&service={}", a.trunk)).await,
        ["plain", "inbound-busy"]
    );
    assert_eq!(list("&country=FR").await, ["teams-low-mos", "inbound-busy"]);
    assert_eq!(list("&country=de").await, ["plain"]);
    // Calls without a MOS are left out by a minimum.
    assert_eq!(list("&min_mos=3").await, ["plain"]);
    assert_eq!(list("&min_mos=2.5").await, ["plain", "teams-low-mos"]);
    // Filters combine.
    assert_eq!(
        list("&country=FR&direction=outbound&result=answered").await,
        ["teams-low-mos"]
    );
    // `to` is exclusive, `from` inclusive.
    let res = app
        .get_with(
            &format!(
                "/api/v1/calls?from={}&to={}",
                rfc3339_ms(BASE + 2 * HOUR),
                rfc3339_ms(BASE + 3 * HOUR)
            ),
            &a.cookie,
        )
        .await;
    assert_eq!(ids(&res), ["teams-low-mos"]);
    // An offset other than Z is understood.
    let res = app
        .get_with(
            "/api/v1/calls?from=2026-03-01T02:00:00%2B01:00&to=2026-03-01T04:00:00%2B01:00",
            &a.cookie,
        )
        .await;
    assert_eq!(ids(&res), ["teams-low-mos", "inbound-busy"]);
    assert_eq!(res.json()["range"]["from"], "2026-03-01T01:00:00Z");
    assert_eq!(res.json()["range"]["to"], "2026-03-01T03:00:00Z");
}

#[tokio::test]
async fn pages_return_every_call_once_in_order_across_equal_start_times() {
    let app = TestApp::new().await;
    let a = customer(&app, "contoso", &[("Trunk A", 30)]).await;
    // 23 calls on 5 start times; ids in mixed case to exercise bytewise order.
    let names = ["b", "A", "a", "B", "c-1", "c-10", "c-2", "Z", "z"];
    let mut cdrs = Vec::new();
    for i in 0..23 {
        let mut c = Cdr::new(
            &format!("{}-{i:02}", names[i % names.len()]),
            BASE + (i as i64 % 5) * MIN,
        );
        if i % 3 == 0 {
            c.direction = "inbound";
        }
        cdrs.push(c);
    }
    ingest(&app, &a.org_id, &cdrs).await;

    for (filter, limit) in [("", 4), ("", 1), ("", 23), ("&direction=inbound", 2)] {
        let mut expected: Vec<(i64, String)> = cdrs
            .iter()
            .filter(|c| filter.is_empty() || c.direction == "inbound")
            .map(|c| (c.start, c.id.clone()))
            .collect();
        expected.sort_by(|x, y| y.cmp(x));
        let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();

        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut path = format!("/api/v1/calls?{DAY}{filter}&limit={limit}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let res = app.get_with(&path, &a.cookie).await;
            let page = ids(&res);
            assert!(page.len() <= limit, "{}", res.text());
            seen.extend(page);
            pages += 1;
            match res.json()["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
            assert!(pages <= expected.len(), "pagination does not end");
        }
        assert_eq!(seen, expected, "filter {filter:?}, limit {limit}");
        assert_eq!(pages, expected.len().div_ceil(limit), "no empty last page");
    }
    // The default page size is 50, the maximum 1000.
    let res = app
        .get_with(&format!("/api/v1/calls?{DAY}"), &a.cookie)
        .await;
    assert_eq!(ids(&res).len(), 23);
    let res = app
        .get_with(&format!("/api/v1/calls?{DAY}&limit=1000"), &a.cookie)
        .await;
    assert_eq!(ids(&res).len(), 23);
}

#[tokio::test]
async fn customers_see_only_their_own_calls() {
    let app = TestApp::new().await;
    let a = customer(&app, "contoso", &[("Trunk A", 30)]).await;
    let b = customer(&app, "fabrikam", &[("Trunk A", 30)]).await;
    let mut a_same = Cdr::new("same-id", BASE + HOUR);
    a_same.to = "+4930901821";
    let a_only = Cdr::new("call/1 a", BASE + 2 * HOUR);
    ingest(&app, &a.org_id, &[a_same, a_only]).await;

    // B has no calls yet: A's are neither listed nor reachable.
    let res = app
        .get_with(&format!("/api/v1/calls?{DAY}"), &b.cookie)
        .await;
    assert_eq!(ids(&res), Vec::<String>::new());
    for id in ["same-id", "call%2F1%20a"] {
        let res = app
            .get_with(&format!("/api/v1/calls/{id}"), &b.cookie)
            .await;
        assert_eq!(res.status, 404, "{}", res.text());
        assert_eq!(res.json()["error"]["code"], "not_found");
    }

    // With B's own call of the same id, B gets B's call, A gets A's.
    let mut b_same = Cdr::new("same-id", BASE + 3 * HOUR);
    b_same.to = "+4930901822";
    ingest(&app, &b.org_id, &[b_same]).await;
    let res = app.get_with("/api/v1/calls/same-id", &b.cookie).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["to"], "+4930901822");
    assert_eq!(res.json()["service_id"].as_str().unwrap(), b.trunk);
    let res = app.get_with("/api/v1/calls/same-id", &a.cookie).await;
    assert_eq!(res.json()["to"], "+4930901821");
    let res = app
        .get_with(&format!("/api/v1/calls?{DAY}"), &b.cookie)
        .await;
    assert_eq!(ids(&res), ["same-id"]);
    assert_eq!(res.json()["calls"][0]["to"], "+4930901822");
    // A's service id as a filter finds nothing for B.
    let res = app
        .get_with(
            &format!("/api/v1/calls?{DAY}&service={}", a.trunk),
            &b.cookie,
        )
        .await;
    assert_eq!(ids(&res), Vec::<String>::new());

    // A's URL-encoded id, through a read token; the detail equals the listed call.
    let read = api_token(&app, &a.cookie, "read").await;
    let res = get_bearer(&app, "/api/v1/calls/call%2F1%20a", &read).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let list = get_bearer(&app, &format!("/api/v1/calls?{DAY}"), &read).await;
    assert_eq!(ids(&list), ["call/1 a", "same-id"]);
    assert_eq!(res.json(), list.json()["calls"][0]);
    // B's token gets 404 for A's id, and never A's row for a shared id.
    let b_read = api_token(&app, &b.cookie, "read_write").await;
    let res = get_bearer(&app, "/api/v1/calls/call%2F1%20a", &b_read).await;
    assert_eq!(res.status, 404, "{}", res.text());
    let res = get_bearer(&app, "/api/v1/calls/same-id", &b_read).await;
    assert_eq!(res.json()["to"], "+4930901822");

    // A viewer reads; an ingest token reads nothing; no credentials: 401.
    create_user(&app.db.db, "contoso", "viewer@contoso.example", "viewer").await;
    let viewer = app
        .login("viewer@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let res = app.get_with(&format!("/api/v1/calls?{DAY}"), &viewer).await;
    assert_eq!(ids(&res), ["call/1 a", "same-id"]);
    let ingest_token = api_token(&app, &a.cookie, "ingest").await;
    let res = get_bearer(&app, "/api/v1/calls", &ingest_token).await;
    assert_eq!(res.status, 403, "{}", res.text());
    let res = get_bearer(&app, "/api/v1/calls/same-id", &ingest_token).await;
    assert_eq!(res.status, 403, "{}", res.text());
    let res = app.get("/api/v1/calls").await;
    assert_eq!(res.status, 401, "{}", res.text());
}

#[tokio::test]
async fn bad_parameters_are_422_naming_the_field() {
    let app = TestApp::new().await;
    let a = customer(&app, "contoso", &[("Trunk A", 30)]).await;
    ingest(&app, &a.org_id, &[Cdr::new("c1", BASE + HOUR)]).await;
    let cases = [
        ("from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "from"),
        ("from=yesterday", "from"),
        ("to=2026-03-01", "to"),
        ("from=2026-03-01T00:00:00", "from"),
        ("direction=sideways", "direction"),
        ("result=dropped", "result"),
        ("number=4930901820", "number"),
        ("number=%2B49", "number"),
        ("number=%2B4930abc", "number"),
        ("country=XX", "country"),
        ("country=DEU", "country"),
        ("min_mos=6", "min_mos"),
        ("min_mos=abc", "min_mos"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("cursor=garbage!", "cursor"),
        ("cursor=WzFd", "cursor"),
    ];
    for (query, field) in cases {
        let res = app
            .get_with(&format!("/api/v1/calls?{query}"), &a.cookie)
            .await;
        assert_eq!(res.status, 422, "{query}: {}", res.text());
        let v = res.json();
        assert_eq!(v["error"]["code"], "invalid_field", "{query}: {v}");
        assert_eq!(v["error"]["field"], field, "{query}: {v}");
    }
    // Pages hold at most 1000 calls (DESIGN), and the refusal says so.
    let res = app.get_with("/api/v1/calls?limit=1001", &a.cookie).await;
    assert_eq!(res.json()["error"]["message"], "limit must be 1 to 1000.");
    let res = app.get_with("/api/v1/calls?limit=1000", &a.cookie).await;
    assert_eq!(res.status, 200, "{}", res.text());
    // Equal from and to is an empty range, not an error.
    let res = app
        .get_with(
            "/api/v1/calls?from=2026-03-01T01:00:00Z&to=2026-03-01T01:00:00Z",
            &a.cookie,
        )
        .await;
    assert_eq!(ids(&res), Vec::<String>::new());
}
