//! `/api/v1/port-orders` over the real router: submitting an order (its numbers as
//! `porting_in` numbers, the first event, the audit entry, all or nothing), every refused
//! field, numbers held elsewhere or in another open order, who may submit (roles, token
//! scopes, staff with `?org=`), and isolation between customers through sessions and tokens.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{json, Value};
use sqlx::Row;

use support::{
    api::{api_token, bearer, get_bearer, staff_session},
    count,
    voice::{customer_with_roles, insert_number},
    TestApp, TestResponse,
};

/// `YYYY-MM-DD`, `days` from today (UTC).
fn day(days: i64) -> String {
    (time::OffsetDateTime::now_utc().date() + time::Duration::days(days)).to_string()
}

fn order(numbers: &[&str]) -> Value {
    json!({
        "numbers": numbers,
        "losing_carrier": "BT Wholesale",
        "requested_for": day(14),
        "country": "gb",
    })
}

async fn submit(app: &TestApp, cookie: &str, body: Value) -> TestResponse {
    app.json("POST", "/api/v1/port-orders", Some(cookie), body)
        .await
}

fn assert_error(res: &TestResponse, status: u16, code: &str, field: &str) {
    assert_eq!(res.status, status, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], code, "{}", res.text());
    assert_eq!(res.json()["error"]["field"], field, "{}", res.text());
}

fn order_ids(res: &TestResponse) -> Vec<String> {
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn an_engineer_submits_an_order_that_is_stored_whole() {
    let app = TestApp::new().await;
    let a = customer_with_roles(&app, "contoso").await;
    let mut body = order(&["+442079460002", "+442079460001"]);
    body["service_id"] = json!(a.trunk);
    body["losing_carrier"] = json!("  BT Wholesale ");
    let res = submit(&app, &a.engineer, body).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let created = res.json();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["status"], "submitted");
    assert_eq!(created["open"], true);
    assert_eq!(created["losing_carrier"], "BT Wholesale");
    assert_eq!(created["requested_for"], day(14));
    assert_eq!(created["foc_date"], Value::Null);
    assert_eq!(
        created["numbers"],
        json!(["+442079460001", "+442079460002"])
    );
    let events = created["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["status"], "submitted");
    assert_eq!(events[0]["actor"], "engineer@contoso.example");

    // The order reads back the same, alone and in the list.
    let res = app
        .get_with(&format!("/api/v1/port-orders/{id}"), &a.viewer)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json(), created);
    let res = app.get_with("/api/v1/port-orders", &a.viewer).await;
    assert_eq!(order_ids(&res), [id.as_str()]);
    assert_eq!(
        res.json()["orders"][0]["numbers"],
        json!(["+442079460001", "+442079460002"])
    );

    // The numbers are the organisation's, porting in over the chosen service.
    let res = app
        .get_with("/api/v1/numbers?status=porting_in", &a.viewer)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let numbers = res.json()["numbers"].as_array().unwrap().clone();
    assert_eq!(numbers.len(), 2);
    assert_eq!(numbers[0]["e164"], "+442079460001");
    assert_eq!(numbers[0]["country"], "GB");
    assert_eq!(numbers[0]["number_type"], "geographic");
    assert_eq!(numbers[0]["service_id"], a.trunk.as_str());

    // Audited with the order as stored.
    let row = sqlx::query(
        "SELECT actor_label, target, details FROM audit_log WHERE action = 'port_order.created'",
    )
    .fetch_one(app.db.db.pool())
    .await
    .unwrap();
    assert_eq!(
        row.try_get::<String, _>("actor_label").unwrap(),
        "engineer@contoso.example"
    );
    assert_eq!(row.try_get::<String, _>("target").unwrap(), id);
    let details: Value =
        serde_json::from_str(&row.try_get::<String, _>("details").unwrap()).unwrap();
    assert_eq!(details["before"], Value::Null);
    assert_eq!(details["after"]["numbers"], created["numbers"]);
    assert_eq!(details["after"]["losing_carrier"], "BT Wholesale");
    assert_eq!(details["after"]["service_id"], a.trunk.as_str());
    let _ = a.org_id;
}

#[tokio::test]
async fn every_bad_field_is_refused_by_name() {
    let app = TestApp::new().await;
    let a = customer_with_roles(&app, "contoso").await;
    let many: Vec<String> = (0..101).map(|i| format!("+4420794{i:05}")).collect();
    let cases: Vec<(Value, &str)> = vec![
        (json!({"numbers": []}), "numbers"),
        (json!({"numbers": many}), "numbers"),
        (json!({"numbers": ["02079460001"]}), "numbers"),
        (json!({"numbers": ["+44207"]}), "numbers"),
        (json!({"numbers": ["+4420794600011234567"]}), "numbers"),
        (json!({"numbers": ["+44 20 7946 0001"]}), "numbers"),
        (
            json!({"numbers": ["+442079460001", "+442079460001"]}),
            "numbers",
        ),
        (json!({"losing_carrier": "   "}), "losing_carrier"),
        (json!({"losing_carrier": "a".repeat(201)}), "losing_carrier"),
        (json!({"losing_carrier": "BT\nWholesale"}), "losing_carrier"),
        (json!({"requested_for": day(-1)}), "requested_for"),
        (json!({"requested_for": day(400)}), "requested_for"),
        (json!({"requested_for": "2026-13-01"}), "requested_for"),
        (json!({"requested_for": "next week"}), "requested_for"),
        (json!({"country": "UK"}), "country"),
        (json!({"country": ""}), "country"),
        (json!({"number_type": "landline"}), "number_type"),
    ];
    for (change, field) in cases {
        let mut body = order(&["+442079460001"]);
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let res = submit(&app, &a.engineer, body.clone()).await;
        assert_error(&res, 422, "invalid_field", field);
    }
    // Today is accepted.
    let mut body = order(&["+442079460009"]);
    body["requested_for"] = json!(day(0));
    assert_eq!(submit(&app, &a.engineer, body).await.status, 201);

    // Missing or unknown fields, and a body that is not JSON.
    let mut body = order(&["+442079460001"]);
    body.as_object_mut().unwrap().remove("losing_carrier");
    let res = submit(&app, &a.engineer, body).await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "invalid_body");
    let mut body = order(&["+442079460001"]);
    body["priority"] = json!("high");
    let res = submit(&app, &a.engineer, body).await;
    assert_eq!(res.json()["error"]["code"], "invalid_body");

    // Nothing of the refused requests was stored.
    assert_eq!(
        count(&app.db.db, "SELECT COUNT(*) FROM port_orders").await,
        1
    );
    assert_eq!(count(&app.db.db, "SELECT COUNT(*) FROM numbers").await, 1);
}

#[tokio::test]
async fn numbers_held_elsewhere_or_in_an_open_order_are_refused() {
    let app = TestApp::new().await;
    let a = customer_with_roles(&app, "contoso").await;
    let b = customer_with_roles(&app, "fabrikam").await;
    insert_number(&app, &b.org_id, "+442079460100", "GB", "active").await;
    insert_number(&app, &a.org_id, "+442079460101", "GB", "reserved").await;
    insert_number(&app, &b.org_id, "+442079460102", "GB", "released").await;

    // Another customer's active number, and one's own reserved number: held on our network.
    for n in ["+442079460100", "+442079460101"] {
        let res = submit(&app, &a.engineer, order(&["+442079460200", n])).await;
        assert_error(&res, 409, "number_in_use", "numbers");
        assert!(res.json()["error"]["message"].as_str().unwrap().contains(n));
        assert!(!res.text().contains("fabrikam"));
    }
    // All or nothing: the valid number of those requests was not stored either.
    assert_eq!(
        count(&app.db.db, "SELECT COUNT(*) FROM port_orders").await,
        0
    );
    assert_eq!(
        count(
            &app.db.db,
            "SELECT COUNT(*) FROM numbers WHERE e164 = '+442079460200'"
        )
        .await,
        0
    );

    // A released number (even another customer's) may be ported in: its row is taken over.
    let res = submit(
        &app,
        &a.engineer,
        order(&["+442079460102", "+442079460200"]),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let res = app
        .get_with("/api/v1/numbers?status=porting_in", &a.viewer)
        .await;
    assert_eq!(res.json()["numbers"].as_array().unwrap().len(), 2);
    let res = app.get_with("/api/v1/numbers", &b.viewer).await;
    assert!(!res.text().contains("+442079460102"), "{}", res.text());

    // Now in an open order, for anyone.
    let res = submit(&app, &b.engineer, order(&["+442079460200"])).await;
    assert_error(&res, 409, "number_in_open_order", "numbers");
    let res = submit(&app, &a.admin, order(&["+442079460300", "+442079460102"])).await;
    assert_error(&res, 409, "number_in_open_order", "numbers");
    assert_eq!(
        count(&app.db.db, "SELECT COUNT(*) FROM port_orders").await,
        1
    );

    // Once that order is rejected its numbers are no longer held by an open order, but still
    // porting in on our side until released.
    sqlx::query("UPDATE port_orders SET status = 'rejected'")
        .execute(app.db.db.pool())
        .await
        .unwrap();
    let res = submit(&app, &b.engineer, order(&["+442079460200"])).await;
    assert_error(&res, 409, "number_in_use", "numbers");
}

#[tokio::test]
async fn the_service_must_be_the_organisations() {
    let app = TestApp::new().await;
    let a = customer_with_roles(&app, "contoso").await;
    let b = customer_with_roles(&app, "fabrikam").await;
    for service in [b.trunk.as_str(), "no-such-service"] {
        let mut body = order(&["+442079460001"]);
        body["service_id"] = json!(service);
        let res = submit(&app, &a.engineer, body).await;
        assert_error(&res, 404, "not_found", "service_id");
    }
    assert_eq!(
        count(&app.db.db, "SELECT COUNT(*) FROM port_orders").await,
        0
    );
    assert_eq!(count(&app.db.db, "SELECT COUNT(*) FROM numbers").await, 0);
}

#[tokio::test]
async fn roles_token_scopes_and_staff_decide_who_submits() {
    let app = TestApp::new().await;
    let a = customer_with_roles(&app, "contoso").await;
    customer_with_roles(&app, "fabrikam").await;

    let res = submit(&app, &a.viewer, order(&["+442079460001"])).await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "forbidden");
    for scope in ["read", "ingest"] {
        let token = api_token(&app, &a.admin, scope).await;
        let res = bearer(
            &app,
            "POST",
            "/api/v1/port-orders",
            &token,
            Some(order(&["+442079460001"])),
        )
        .await;
        assert_eq!(res.status, 403, "{}", res.text());
        assert_eq!(res.json()["error"]["code"], "insufficient_scope");
    }
    assert_eq!(
        count(&app.db.db, "SELECT COUNT(*) FROM port_orders").await,
        0
    );

    let token = api_token(&app, &a.admin, "read_write").await;
    let res = bearer(
        &app,
        "POST",
        "/api/v1/port-orders",
        &token,
        Some(order(&["+442079460001"])),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert!(res.json()["events"][0]["actor"]
        .as_str()
        .unwrap()
        .starts_with("api-token:"));
    let res = submit(&app, &a.admin, order(&["+442079460002"])).await;
    assert_eq!(res.status, 201, "{}", res.text());

    // Staff act for a customer with ?org=.
    let staff = staff_session(&app).await;
    let res = app
        .json(
            "POST",
            "/api/v1/port-orders?org=fabrikam",
            Some(&staff),
            order(&["+442079460003"]),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["events"][0]["actor"], "noc@carrier.example");
    let res = app
        .get_with("/api/v1/port-orders?org=fabrikam", &staff)
        .await;
    assert_eq!(order_ids(&res).len(), 1);

    // Signed out: 401.
    let res = app.get("/api/v1/port-orders").await;
    assert_eq!(res.status, 401);
}

#[tokio::test]
async fn customers_never_see_each_others_orders() {
    let app = TestApp::new().await;
    let a = customer_with_roles(&app, "contoso").await;
    let b = customer_with_roles(&app, "fabrikam").await;
    let a_order = submit(&app, &a.engineer, order(&["+442079460001"]))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b_order = submit(&app, &b.engineer, order(&["+442079460002"]))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A second order of A, newer: lists are newest first.
    app.clock.advance_secs(60);
    let a_newer = submit(&app, &a.admin, order(&["+442079460003"]))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let a_token = api_token(&app, &a.admin, "read").await;
    let b_token = api_token(&app, &b.admin, "read").await;
    let res = app.get_with("/api/v1/port-orders", &a.viewer).await;
    assert_eq!(order_ids(&res), [a_newer.clone(), a_order.clone()]);
    assert!(!res.text().contains("+442079460002"));
    let res = get_bearer(&app, "/api/v1/port-orders", &a_token).await;
    assert_eq!(order_ids(&res), [a_newer, a_order.clone()]);
    let res = get_bearer(&app, "/api/v1/port-orders", &b_token).await;
    assert_eq!(order_ids(&res), [b_order.as_str()]);

    for (path, cookie, token) in [
        (
            format!("/api/v1/port-orders/{b_order}"),
            &a.viewer,
            &a_token,
        ),
        (
            format!("/api/v1/port-orders/{a_order}"),
            &b.viewer,
            &b_token,
        ),
        (
            "/api/v1/port-orders/no-such-order".to_string(),
            &a.viewer,
            &a_token,
        ),
    ] {
        let res = app.get_with(&path, cookie).await;
        assert_eq!(res.status, 404, "{}", res.text());
        assert_eq!(res.json()["error"]["code"], "not_found");
        let res = get_bearer(&app, &path, token).await;
        assert_eq!(res.status, 404, "{}", res.text());
    }
    let res = get_bearer(&app, &format!("/api/v1/port-orders/{a_order}"), &a_token).await;
    assert_eq!(res.status, 200, "{}", res.text());
}
