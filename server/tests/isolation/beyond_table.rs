//! Beyond the route table: B's ids inside A's own requests, ingest naming B's service or
//! reusing B's call id, creating "for B" with `?org=`, the staff-only provider console, and
//! the signed-in admin's own-organisation routes naming B.

use serde_json::json;

use crate::fixtures::{cdr_row, Customer, DAY};
use crate::probe::{excerpt, found, send_as, with_org};
use crate::routes::Via;
use crate::support::{
    voice::{address_body, cdr_csv, number_path, post_calls},
    TestApp, TestResponse,
};

/// Step 3: References to B's objects inside A's own requests are answered exactly as references
/// to objects that do not exist: nothing tells A that B's exist. And the calls and figures A
/// reads count A's calls only (the shared call id included once).
pub async fn references(app: &TestApp, a: &Customer, b: &Customer) -> Vec<String> {
    let mut failures = Vec::new();
    let missing = "00000000-0000-4000-8000-000000000000";
    let same_answer =
        |route: &str, via: Via, with_b: &TestResponse, with_missing: &TestResponse, b_ref: &str| {
            let normalised = with_b.text().replace(b_ref, missing);
            if with_b.status.is_success()
                || with_b.status != with_missing.status
                || normalised != with_missing.text()
            {
                Some(format!(
                    "{route} as A ({via:?}) naming B's {b_ref}: {} {} (a missing id: {} {})",
                    with_b.status,
                    excerpt(with_b),
                    with_missing.status,
                    excerpt(with_missing)
                ))
            } else {
                None
            }
        };
    for via in [Via::Session, Via::Token] {
        for (field, b_ref) in [
            ("service_id", &b.trunk),
            ("emergency_address_id", &b.address),
        ] {
            let route = format!("PATCH /numbers/{{e164}} {{{field}: B's}}");
            let path = number_path(&a.number);
            let with_b = send_as(app, a, via, "PATCH", &path, &Some(json!({ field: b_ref }))).await;
            let with_missing = send_as(
                app,
                a,
                via,
                "PATCH",
                &path,
                &Some(json!({ field: missing })),
            )
            .await;
            failures.extend(same_answer(&route, via, &with_b, &with_missing, b_ref));
        }
        for (route, path) in [
            (
                "GET /calls?service=",
                format!("/api/v1/calls?{DAY}&service="),
            ),
            (
                "GET /calls/export.csv?service=",
                format!("/api/v1/calls/export.csv?{DAY}&service="),
            ),
            (
                "GET /numbers?service=",
                "/api/v1/numbers?service=".to_string(),
            ),
            (
                "GET /numbers/export.csv?service=",
                "/api/v1/numbers/export.csv?service=".to_string(),
            ),
            (
                "GET /analytics/summary?service=",
                format!("/api/v1/analytics/summary?{DAY}&service="),
            ),
            (
                "GET /analytics/timeseries?service=",
                format!("/api/v1/analytics/timeseries?{DAY}&bucket=hour&by=service&service="),
            ),
        ] {
            let with_b = send_as(app, a, via, "GET", &format!("{path}{}", b.trunk), &None).await;
            let with_missing =
                send_as(app, a, via, "GET", &format!("{path}{missing}"), &None).await;
            // An empty 200 is a fine answer to a filter on someone else's service, as long
            // as it is exactly the answer to an unknown one.
            let with_b_ok = with_b.status.is_success()
                && with_b.text().replace(&b.trunk, missing) == with_missing.text();
            if !with_b_ok {
                failures.extend(same_answer(route, via, &with_b, &with_missing, &b.trunk));
            }
        }
        // A porting order routed over B's service.
        let order = |service_id: &str| {
            Some(json!({
                "numbers": ["+441134960555"],
                "losing_carrier": "Old Telco",
                "requested_for": "2099-01-15",
                "country": "GB",
                "number_type": "geographic",
                "service_id": service_id,
            }))
        };
        let with_b = send_as(app, a, via, "POST", "/api/v1/port-orders", &order(&b.trunk)).await;
        let with_missing =
            send_as(app, a, via, "POST", "/api/v1/port-orders", &order(missing)).await;
        failures.extend(same_answer(
            "POST /port-orders {service_id: B's}",
            via,
            &with_b,
            &with_missing,
            &b.trunk,
        ));
        // The calls list filtered by one of B's numbers holds none of B's calls.
        let res = send_as(
            app,
            a,
            via,
            "GET",
            &format!("/api/v1/calls?{DAY}&number=%2B{}", &b.number[1..]),
            &None,
        )
        .await;
        let leaked = found(&res, &b.needles)
            .into_iter()
            .filter(|n| *n != b.number)
            .collect::<Vec<_>>();
        if res.status != 200 || res.json()["calls"] != json!([]) || !leaked.is_empty() {
            failures.push(format!(
                "GET /calls?number=B's as A ({via:?}): {} {}",
                res.status,
                excerpt(&res)
            ));
        }
    }
    // The calls and figures A reads count A's calls only (the shared call id included once).
    let summary = app
        .get_with(&format!("/api/v1/analytics/summary?{DAY}"), &a.admin)
        .await;
    if summary.json()["current"]["calls"] != 3 {
        failures.push(format!(
            "GET /analytics/summary as A counts other calls: {}",
            excerpt(&summary)
        ));
    }
    let shared = app.get_with("/api/v1/calls/shared-call-id", &a.admin).await;
    if shared.status != 200 || shared.json()["from"] != a.number.as_str() {
        failures.push(format!(
            "GET /calls/shared-call-id as A: {} {}",
            shared.status,
            excerpt(&shared)
        ));
    }
    failures
}

/// Step 4: Ingest: a row naming B's service is refused as an unknown service would be, and a row
/// reusing B's call id is A's own new call.
pub async fn ingest(app: &TestApp, a: &Customer, b: &Customer) -> Vec<String> {
    let mut failures = Vec::new();
    let with_b = post_calls(
        app,
        &a.ingest_token,
        "text/csv",
        cdr_csv(&[cdr_row("ingest-x", &b.trunk_name, 12, &a.number)]),
    )
    .await;
    let with_missing = post_calls(
        app,
        &a.ingest_token,
        "text/csv",
        cdr_csv(&[cdr_row("ingest-x", "Nowhere Trunk", 12, &a.number)]),
    )
    .await;
    if with_b.status != 200
        || with_b.json()["stored"] != 0
        || with_b.text().replace(&b.trunk_name, "Nowhere Trunk") != with_missing.text()
    {
        failures.push(format!(
            "POST /ingest/calls naming B's service: {} {} (unknown service: {})",
            with_b.status,
            excerpt(&with_b),
            excerpt(&with_missing)
        ));
    }
    let reuse = post_calls(
        app,
        &a.ingest_token,
        "text/csv",
        cdr_csv(&[cdr_row(&b.call, &a.trunk_name, 13, &a.number)]),
    )
    .await;
    if reuse.status != 200 || reuse.json()["stored"] != 1 || reuse.json()["duplicates"] != 0 {
        failures.push(format!(
            "POST /ingest/calls reusing B's call id: {} {}",
            reuse.status,
            excerpt(&reuse)
        ));
    }
    failures
}

/// Step 4b: Creating "for B" by naming B's organisation: 404, nothing created there.
pub async fn creating_for_b(app: &TestApp, a: &Customer, b: &Customer) -> Vec<String> {
    let mut failures = Vec::new();
    for (via, route, path, body) in [
        (
            Via::Session,
            "POST /emergency-addresses",
            "/api/v1/emergency-addresses",
            address_body("Planted"),
        ),
        (
            Via::Token,
            "POST /emergency-addresses",
            "/api/v1/emergency-addresses",
            address_body("Planted"),
        ),
        (
            Via::Session,
            "POST /api-tokens",
            "/api/v1/api-tokens",
            json!({"name": "planted", "scope": "read_write", "expires_in_days": 30}),
        ),
        (
            Via::Session,
            "POST /port-orders",
            "/api/v1/port-orders",
            json!({"numbers": ["+441134960777"], "losing_carrier": "Old Telco",
                   "requested_for": "2099-01-15", "country": "GB"}),
        ),
        (
            Via::Token,
            "POST /port-orders",
            "/api/v1/port-orders",
            json!({"numbers": ["+441134960778"], "losing_carrier": "Old Telco",
                   "requested_for": "2099-01-15", "country": "GB"}),
        ),
    ] {
        let res = send_as(app, a, via, "POST", &with_org(path, b.slug), &Some(body)).await;
        if res.status != 404 {
            failures.push(format!(
                "{route}?org={} as A ({via:?}): {} {}",
                b.slug,
                res.status,
                excerpt(&res)
            ));
        }
    }
    let res = app
        .send(
            axum::http::Request::post(with_org("/api/v1/ingest/calls", b.slug))
                .header("authorization", format!("Bearer {}", a.ingest_token))
                .header("content-type", "text/csv")
                .body(axum::body::Body::from(cdr_csv(&[cdr_row(
                    "planted-call",
                    &b.trunk_name,
                    14,
                    &b.number,
                )])))
                .unwrap(),
        )
        .await;
    if res.status != 404 {
        failures.push(format!(
            "POST /ingest/calls?org={} with A's ingest token: {} {}",
            b.slug,
            res.status,
            excerpt(&res)
        ));
    }
    failures
}

/// Step 4c: The carrier's console is for staff: A is refused there whatever the customer.
pub async fn provider_console(app: &TestApp, a: &Customer, b: &Customer) -> Vec<String> {
    let mut failures = Vec::new();
    let provider = format!("/api/v1/provider/organisations/{}/sso", b.slug);
    let tenant = format!("{provider}/tenants/{}", b.tenant);
    for (method, path, body) in [
        ("GET", "/api/v1/provider/organisations".to_string(), None),
        ("PUT", provider.clone(), Some(json!({"enabled": false}))),
        (
            "POST",
            format!("{provider}/tenants"),
            Some(json!({"tenant_id": "3d2b1c4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"})),
        ),
        ("PUT", tenant.clone(), Some(json!({"disabled": true}))),
        ("DELETE", tenant.clone(), None),
    ] {
        for via in [Via::Session, Via::Token] {
            let res = send_as(app, a, via, method, &path, &body).await;
            let leaked = found(&res, &b.needles)
                .into_iter()
                .filter(|n| !path.to_lowercase().contains(&n.to_lowercase()))
                .collect::<Vec<_>>();
            if !matches!(res.status.as_u16(), 401 | 403 | 404) || !leaked.is_empty() {
                failures.push(format!(
                    "{method} {path} as A ({via:?}): {} {}",
                    res.status,
                    excerpt(&res)
                ));
            }
        }
    }
    failures
}

/// Step 5: Routes of the signed-in admin's own organisation take no id: naming B's there is
/// answered 404 like on every other route, and changes nothing of B's (nor of A's).
pub async fn own_organisation(app: &TestApp, a: &Customer, b: &Customer) -> Vec<String> {
    let mut failures = Vec::new();
    for (method, path, body) in [
        ("GET", "/api/v1/organisation/sso", json!(null)),
        (
            "PUT",
            "/api/v1/organisation/mfa-policy",
            json!({"required": true}),
        ),
        (
            "PUT",
            "/api/v1/organisation/sso",
            json!({"jit_provisioning": false, "default_role": "admin", "require_sso": true}),
        ),
        (
            "POST",
            "/api/v1/users/invitations",
            json!({"email": "newcomer@contoso.example", "role": "admin"}),
        ),
    ] {
        let res = app
            .json(method, &with_org(path, b.slug), Some(&a.admin), body)
            .await;
        let leaked = found(&res, &b.needles);
        if res.status != 404 || !leaked.is_empty() {
            failures.push(format!(
                "{method} {path}?org={} as A leaked {leaked:?}: {} {}",
                b.slug,
                res.status,
                excerpt(&res)
            ));
        }
    }
    failures
}
