//! `GET /api/v1/incidents` over the real router: which incidents concern an organisation
//! (global, its services, countries where it has services or numbers), never another
//! customer's service incident (through a session or an API token), the timelines, the
//! filters, the order and limit, who may read, and 422 for bad parameters.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::Value;

use support::{
    api::{api_token, get_bearer, sign_in},
    create_user,
    voice::{customer, insert_number, Customer},
    TestApp, TestResponse,
};

/// 2026-03-01T00:00:00Z.
const BASE: i64 = 1_772_323_200_000;
const HOUR: i64 = 3_600_000;

/// Stores an incident the way the carrier's tooling does (there is no API to publish one).
#[expect(clippy::too_many_arguments)]
async fn incident(
    app: &TestApp,
    id: &str,
    kind: &str,
    scope: &str,
    service: Option<&str>,
    country: Option<&str>,
    status: &str,
    starts: i64,
    ends: Option<i64>,
) {
    sqlx::query(
        "INSERT INTO incidents (id, kind, scope, service_id, country, title, status, starts_at, \
         ends_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(id)
    .bind(kind)
    .bind(scope)
    .bind(service)
    .bind(country)
    .bind(format!("Title of {id}"))
    .bind(status)
    .bind(starts)
    .bind(ends)
    .bind(starts)
    .execute(app.db.db.pool())
    .await
    .unwrap();
}

async fn update(app: &TestApp, id: &str, incident: &str, at: i64, status: &str) {
    sqlx::query(
        "INSERT INTO incident_updates (id, incident_id, posted_at, status, body) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(incident)
    .bind(at)
    .bind(status)
    .bind(format!("Body of {id}"))
    .execute(app.db.db.pool())
    .await
    .unwrap();
}

fn ids(res: &TestResponse) -> Vec<String> {
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

fn assert_field(res: &TestResponse, field: &str) {
    assert_eq!(res.status, 422, "{}", res.text());
    assert_eq!(
        res.json()["error"]["code"],
        "invalid_field",
        "{}",
        res.text()
    );
    assert_eq!(res.json()["error"]["field"], field, "{}", res.text());
}

/// Two customers with GB trunks; `a` also holds a DE number and a released FR one.
async fn two_customers(app: &TestApp) -> (Customer, Customer) {
    let a = customer(app, "contoso", &[("Trunk A", 30)]).await;
    let b = customer(app, "fabrikam", &[("Trunk A", 30)]).await;
    insert_number(app, &a.org_id, "+4930901820", "DE", "active").await;
    insert_number(app, &a.org_id, "+33140000000", "FR", "released").await;
    // Newest first: starts descending.
    incident(
        app,
        "global-mw",
        "maintenance",
        "global",
        None,
        None,
        "scheduled",
        BASE + 48 * HOUR,
        Some(BASE + 50 * HOUR),
    )
    .await;
    incident(
        app,
        "a-svc",
        "incident",
        "service",
        Some(&a.trunk),
        None,
        "investigating",
        BASE + 10 * HOUR,
        None,
    )
    .await;
    incident(
        app,
        "b-svc",
        "incident",
        "service",
        Some(&b.trunk),
        None,
        "identified",
        BASE + 9 * HOUR,
        None,
    )
    .await;
    incident(
        app,
        "gb",
        "incident",
        "country",
        None,
        Some("GB"),
        "resolved",
        BASE + 5 * HOUR,
        Some(BASE + 6 * HOUR),
    )
    .await;
    incident(
        app,
        "de",
        "incident",
        "country",
        None,
        Some("DE"),
        "monitoring",
        BASE + 4 * HOUR,
        None,
    )
    .await;
    incident(
        app,
        "fr",
        "incident",
        "country",
        None,
        Some("FR"),
        "investigating",
        BASE + 3 * HOUR,
        None,
    )
    .await;
    incident(
        app,
        "us",
        "incident",
        "country",
        None,
        Some("US"),
        "investigating",
        BASE + 2 * HOUR,
        None,
    )
    .await;
    incident(
        app,
        "old-mw",
        "maintenance",
        "global",
        None,
        None,
        "completed",
        BASE - 48 * HOUR,
        Some(BASE - 47 * HOUR),
    )
    .await;
    update(app, "u2", "a-svc", BASE + 11 * HOUR, "investigating").await;
    update(app, "u1", "a-svc", BASE + 10 * HOUR, "investigating").await;
    update(app, "u3", "b-svc", BASE + 10 * HOUR, "identified").await;
    (a, b)
}

#[tokio::test]
async fn each_customer_sees_what_concerns_it_newest_first_with_timelines() {
    let app = TestApp::new().await;
    let (a, b) = two_customers(&app).await;

    let res = app.get_with("/api/v1/incidents", &a.cookie).await;
    assert_eq!(
        ids(&res),
        ["global-mw", "a-svc", "gb", "de", "old-mw"],
        "global, own service, GB (trunk) and DE (number); not B's service, FR (released) or US"
    );
    let body = res.json();
    let a_svc = &body["incidents"][1];
    assert_eq!(a_svc["scope"], "service");
    assert_eq!(a_svc["service_id"], a.trunk.as_str());
    assert_eq!(a_svc["service_name"], "Trunk A");
    assert_eq!(a_svc["open"], true);
    assert_eq!(a_svc["ends_at"], Value::Null);
    assert_eq!(a_svc["starts_at"], "2026-03-01T10:00:00Z");
    let updates: Vec<&str> = a_svc["updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(updates, ["u1", "u2"], "oldest first");
    assert_eq!(a_svc["updates"][0]["body"], "Body of u1");
    assert_eq!(body["incidents"][2]["open"], false);
    assert_eq!(body["incidents"][2]["country"], "GB");
    assert_eq!(body["incidents"][0]["updates"], Value::Array(vec![]));

    // B sees its own service incident (with its update), never A's.
    let res = app.get_with("/api/v1/incidents", &b.cookie).await;
    assert_eq!(ids(&res), ["global-mw", "b-svc", "gb", "old-mw"]);
    assert_eq!(res.json()["incidents"][1]["updates"][0]["id"], "u3");
    assert!(!res.text().contains(&a.trunk));

    // The same through an API token.
    let token = api_token(&app, &a.cookie, "read").await;
    let res = get_bearer(&app, "/api/v1/incidents", &token).await;
    assert_eq!(ids(&res), ["global-mw", "a-svc", "gb", "de", "old-mw"]);
    assert!(!res.text().contains("b-svc"));
    let token_b = api_token(&app, &b.cookie, "read_write").await;
    let res = get_bearer(&app, "/api/v1/incidents?status=open", &token_b).await;
    assert_eq!(ids(&res), ["global-mw", "b-svc"]);
}

#[tokio::test]
async fn filters_narrow_the_list() {
    let app = TestApp::new().await;
    let (a, _b) = two_customers(&app).await;
    let list = |q: &str| {
        let path = format!("/api/v1/incidents?{q}");
        let cookie = a.cookie.clone();
        let app = &app;
        async move { ids(&app.get_with(&path, &cookie).await) }
    };
    assert_eq!(list("status=open").await, ["global-mw", "a-svc", "de"]);
    assert_eq!(list("status=closed").await, ["gb", "old-mw"]);
    assert_eq!(list("status=resolved").await, ["gb"]);
    assert_eq!(list("status=scheduled").await, ["global-mw"]);
    assert_eq!(list("kind=maintenance").await, ["global-mw", "old-mw"]);
    assert_eq!(list("kind=incident&status=open").await, ["a-svc", "de"]);
    // Going on at or after `from`: the GB one ended at 06:00, the open-ended ones go on.
    assert_eq!(
        list("from=2026-03-01T07:00:00Z").await,
        ["global-mw", "a-svc", "de"]
    );
    assert_eq!(
        list("from=2026-03-01T06:00:00Z").await,
        ["global-mw", "a-svc", "gb", "de"]
    );
    // Starting before `to`.
    assert_eq!(list("to=2026-03-01T05:00:00Z").await, ["de", "old-mw"]);
    assert_eq!(
        list("from=2026-03-01T00:00:00Z&to=2026-03-01T10:00:00%2B01:00").await,
        ["gb", "de"]
    );
    assert_eq!(list("limit=2").await, ["global-mw", "a-svc"]);
}

#[tokio::test]
async fn bad_parameters_name_the_field() {
    let app = TestApp::new().await;
    let (a, _b) = two_customers(&app).await;
    for (q, field) in [
        ("status=open-ish", "status"),
        ("status=", "status"),
        ("kind=outage", "kind"),
        ("from=yesterday", "from"),
        ("to=2026-03-01", "to"),
        ("from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "from"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
    ] {
        let res = app
            .get_with(&format!("/api/v1/incidents?{q}"), &a.cookie)
            .await;
        assert_field(&res, field);
    }
}

#[tokio::test]
async fn who_may_read() {
    let app = TestApp::new().await;
    let (a, _b) = two_customers(&app).await;
    create_user(&app.db.db, "contoso", "viewer@contoso.example", "viewer").await;
    let viewer = sign_in(&app, "viewer@contoso.example").await;
    assert_eq!(
        ids(&app.get_with("/api/v1/incidents", &viewer).await).len(),
        5
    );
    let ingest = api_token(&app, &a.cookie, "ingest").await;
    let res = get_bearer(&app, "/api/v1/incidents", &ingest).await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "insufficient_scope");
    let res = app.get("/api/v1/incidents").await;
    assert_eq!(res.status, 401);
    assert_eq!(res.json()["error"]["code"], "unauthenticated");
    let _ = a.org_id;
}
