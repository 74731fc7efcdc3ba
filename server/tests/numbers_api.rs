//! `/api/v1/emergency-addresses` and `/api/v1/numbers` over the real router: address CRUD and
//! the in-use refusal, number filters, keyset pages, who may change what (roles and token
//! scopes), isolation between customers (404s, lists), and validation errors naming the field.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;

use serde_json::{json, Value};
use sqlx::Row;

use support::{
    api::{api_token, bearer},
    voice::{address_body, create_address, customer_with_roles, insert_number, number_path},
    TestApp, TestResponse,
};

/// Asserts a 422 naming `field`.
fn assert_field(res: &TestResponse, field: &str) {
    assert_eq!(res.status, 422, "{}", res.text());
    assert_eq!(res.json()["error"]["field"], field, "{}", res.text());
}

/// The E.164s of a numbers page.
fn e164s(res: &TestResponse) -> Vec<String> {
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["e164"].as_str().unwrap().to_string())
        .collect()
}

async fn audit_details(app: &TestApp, action: &str) -> Vec<Value> {
    sqlx::query("SELECT details FROM audit_log WHERE action = $1 ORDER BY id")
        .bind(action)
        .fetch_all(app.db.db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str(&r.try_get::<String, _>("details").unwrap()).unwrap())
        .collect()
}

#[tokio::test]
async fn addresses_are_created_updated_and_deleted_unless_in_use() {
    let app = TestApp::new().await;
    let c = customer_with_roles(&app, "contoso").await;
    insert_number(&app, &c.org_id, "+441134960001", "GB", "active").await;

    let id = create_address(&app, &c.engineer, "London HQ").await;
    let res = app.get_with("/api/v1/emergency-addresses", &c.viewer).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let list = res.json()["addresses"].clone();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["country"], "GB");
    assert_eq!(list[0]["numbers_count"], 0);

    let mut body = address_body("London HQ, 3rd floor");
    body["city"] = json!("Westminster");
    let res = app
        .json(
            "PUT",
            &format!("/api/v1/emergency-addresses/{id}"),
            Some(&c.admin),
            body,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["city"], "Westminster");
    assert_eq!(res.json()["label"], "London HQ, 3rd floor");

    // In use by a number: refused with the count, nothing deleted.
    let res = app
        .json(
            "PATCH",
            &number_path("+441134960001"),
            Some(&c.engineer),
            json!({"emergency_address_id": id}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json()["emergency_address_label"],
        "London HQ, 3rd floor"
    );
    let res = app.get_with("/api/v1/emergency-addresses", &c.viewer).await;
    assert_eq!(res.json()["addresses"][0]["numbers_count"], 1);
    let del = format!("/api/v1/emergency-addresses/{id}");
    let res = app.json("DELETE", &del, Some(&c.engineer), json!({})).await;
    assert_eq!(res.status, 409, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "address_in_use");
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("1 number"),
        "{}",
        res.text()
    );

    // Freed, it deletes.
    let res = app
        .json(
            "PATCH",
            &number_path("+441134960001"),
            Some(&c.engineer),
            json!({"emergency_address_id": null}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["emergency_address_id"], Value::Null);
    let res = app.json("DELETE", &del, Some(&c.engineer), json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = app.get_with("/api/v1/emergency-addresses", &c.viewer).await;
    assert_eq!(res.json()["addresses"], json!([]));
    let res = app.json("DELETE", &del, Some(&c.engineer), json!({})).await;
    assert_eq!(res.status, 404, "{}", res.text());

    // Audited with before and after.
    let created = audit_details(&app, "emergency_address.created").await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["before"], Value::Null);
    assert_eq!(created[0]["after"]["label"], "London HQ");
    let updated = audit_details(&app, "emergency_address.updated").await;
    assert_eq!(updated[0]["before"]["city"], "London");
    assert_eq!(updated[0]["after"]["city"], "Westminster");
    let deleted = audit_details(&app, "emergency_address.deleted").await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["after"], Value::Null);
    let numbers = audit_details(&app, "number.updated").await;
    assert_eq!(numbers.len(), 2);
    assert_eq!(numbers[0]["before"]["emergency_address_id"], Value::Null);
    assert_eq!(numbers[0]["after"]["emergency_address_id"], id);
    assert_eq!(numbers[1]["after"]["emergency_address_id"], Value::Null);
}

#[tokio::test]
async fn numbers_are_patched_and_filtered() {
    let app = TestApp::new().await;
    let c = customer_with_roles(&app, "contoso").await;
    insert_number(&app, &c.org_id, "+441134960001", "GB", "active").await;
    insert_number(&app, &c.org_id, "+441134960002", "GB", "reserved").await;
    insert_number(&app, &c.org_id, "+4930901820", "DE", "active").await;
    insert_number(&app, &c.org_id, "+4930901821", "DE", "porting_in").await;
    let addr = create_address(&app, &c.engineer, "HQ").await;

    let res = app
        .json(
            "PATCH",
            &number_path("+441134960001"),
            Some(&c.engineer),
            json!({"assignment": "  Alice.Smith@contoso.example ", "service_id": c.trunk}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let n = res.json();
    assert_eq!(n["assignment"], "Alice.Smith@contoso.example");
    assert_eq!(n["service_id"], c.trunk.as_str());
    assert_eq!(n["service_name"], "Trunk A");
    // A field left out is unchanged.
    let res = app
        .json(
            "PATCH",
            &number_path("+4930901820"),
            Some(&c.admin),
            json!({"emergency_address_id": addr, "assignment": "Queue 100%_"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = app
        .json(
            "PATCH",
            &number_path("+4930901820"),
            Some(&c.admin),
            json!({"service_id": c.trunk}),
        )
        .await;
    assert_eq!(res.json()["emergency_address_id"], addr.as_str());
    assert_eq!(res.json()["assignment"], "Queue 100%_");

    let list = |q: &str| {
        let path = format!("/api/v1/numbers?{q}");
        let cookie = c.viewer.clone();
        let app = &app;
        async move { e164s(&app.get_with(&path, &cookie).await) }
    };
    assert_eq!(list("").await.len(), 4);
    assert_eq!(list("q=alice").await, ["+441134960001"]);
    assert_eq!(list("q=4960").await, ["+441134960001", "+441134960002"]);
    assert_eq!(list("q=%2B4930").await, ["+4930901820", "+4930901821"]);
    // LIKE wildcards are literal.
    assert_eq!(list("q=100%25_").await, ["+4930901820"]);
    assert_eq!(list("q=0%25").await, ["+4930901820"]);
    assert_eq!(list("country=de").await, ["+4930901820", "+4930901821"]);
    assert_eq!(list("status=reserved").await, ["+441134960002"]);
    assert_eq!(
        list(&format!("service={}", c.trunk)).await,
        ["+441134960001", "+4930901820"]
    );
    assert_eq!(
        list("unassigned=true").await,
        ["+441134960002", "+4930901821"]
    );
    assert_eq!(
        list("missing_emergency_address=true&country=GB").await,
        ["+441134960001", "+441134960002"]
    );
    assert_eq!(
        list("unassigned=true&missing_emergency_address=true&status=porting_in").await,
        ["+4930901821"]
    );

    // Clearing with null.
    let res = app
        .json(
            "PATCH",
            &number_path("+441134960001"),
            Some(&c.engineer),
            json!({"assignment": null, "service_id": null}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["assignment"], Value::Null);
    assert_eq!(res.json()["service_id"], Value::Null);
    assert_eq!(list("unassigned=true").await.len(), 3);
}

#[tokio::test]
async fn keyset_pages_cover_every_number_once() {
    let app = TestApp::new().await;
    let a = customer_with_roles(&app, "contoso").await;
    let b = customer_with_roles(&app, "fabrikam").await;
    let mut mine = BTreeSet::new();
    for i in 0..137 {
        let e164 = format!("+44113496{i:04}");
        // Every third number is the other customer's, interleaved in E.164 order.
        if i % 3 == 0 {
            insert_number(&app, &b.org_id, &e164, "GB", "active").await;
        } else {
            insert_number(&app, &a.org_id, &e164, "GB", "active").await;
            mine.insert(e164);
        }
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/numbers?limit=10&cursor={c}"),
            None => "/api/v1/numbers?limit=10".to_string(),
        };
        let res = app.get_with(&path, &a.viewer).await;
        let page = e164s(&res);
        assert!(page.len() <= 10);
        seen.extend(page);
        pages += 1;
        match res.json()["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, mine.len().div_ceil(10));
    assert_eq!(seen.len(), mine.len());
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), mine);

    // The default page is 50; one page of 500 holds them all.
    let res = app.get_with("/api/v1/numbers", &a.viewer).await;
    assert_eq!(e164s(&res).len(), 50);
    let res = app.get_with("/api/v1/numbers?limit=500", &a.viewer).await;
    assert_eq!(e164s(&res).len(), mine.len());
    assert_eq!(res.json()["next_cursor"], Value::Null);
}

#[tokio::test]
async fn roles_and_token_scopes_decide_who_changes() {
    let app = TestApp::new().await;
    let c = customer_with_roles(&app, "contoso").await;
    insert_number(&app, &c.org_id, "+441134960001", "GB", "active").await;
    let id = create_address(&app, &c.admin, "HQ").await;
    let addr_path = format!("/api/v1/emergency-addresses/{id}");
    let num = number_path("+441134960001");

    // A viewer reads, changes nothing.
    assert_eq!(app.get_with("/api/v1/numbers", &c.viewer).await.status, 200);
    let writes = [
        ("POST", "/api/v1/emergency-addresses", address_body("X")),
        ("PUT", addr_path.as_str(), address_body("X")),
        ("DELETE", addr_path.as_str(), json!({})),
        ("PATCH", num.as_str(), json!({"assignment": "x"})),
    ];
    for (method, path, body) in &writes {
        let res = app.json(method, path, Some(&c.viewer), body.clone()).await;
        assert_eq!(res.status, 403, "{method} {path}: {}", res.text());
        assert_eq!(res.json()["error"]["code"], "forbidden");
    }

    // A read token reads, changes nothing; a read_write token changes.
    let read = api_token(&app, &c.admin, "read").await;
    let rw = api_token(&app, &c.admin, "read_write").await;
    for path in ["/api/v1/numbers", "/api/v1/emergency-addresses"] {
        assert_eq!(bearer(&app, "GET", path, &read, None).await.status, 200);
    }
    for (method, path, body) in &writes {
        let res = bearer(&app, method, path, &read, Some(body.clone())).await;
        assert_eq!(res.status, 403, "{method} {path}: {}", res.text());
        assert_eq!(res.json()["error"]["code"], "insufficient_scope");
    }
    let res = bearer(&app, "PATCH", &num, &rw, Some(json!({"assignment": "q1"}))).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = bearer(&app, "PUT", &addr_path, &rw, Some(address_body("HQ 2"))).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = bearer(&app, "DELETE", &addr_path, &rw, None).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let label: String =
        sqlx::query("SELECT actor_label FROM audit_log WHERE action = 'emergency_address.deleted'")
            .fetch_one(app.db.db.pool())
            .await
            .unwrap()
            .try_get("actor_label")
            .unwrap();
    assert!(label.starts_with("api-token:vcp_"), "{label}");
}

#[tokio::test]
async fn another_customers_rows_are_not_found_and_never_listed() {
    let app = TestApp::new().await;
    let a = customer_with_roles(&app, "contoso").await;
    let b = customer_with_roles(&app, "fabrikam").await;
    insert_number(&app, &a.org_id, "+441134960001", "GB", "active").await;
    insert_number(&app, &b.org_id, "+441134960002", "GB", "active").await;
    let a_addr = create_address(&app, &a.admin, "A HQ").await;
    let b_addr = create_address(&app, &b.admin, "B HQ").await;

    // Lists hold only the caller's rows, whatever the filter.
    for q in ["", "?q=4411", "?country=GB", "?unassigned=true"] {
        let res = app
            .get_with(&format!("/api/v1/numbers{q}"), &b.viewer)
            .await;
        assert_eq!(e164s(&res), ["+441134960002"], "{q}");
    }
    let b_token = api_token(&app, &b.admin, "read_write").await;
    let res = bearer(&app, "GET", "/api/v1/numbers", &b_token, None).await;
    assert_eq!(e164s(&res), ["+441134960002"]);
    let res = bearer(&app, "GET", "/api/v1/emergency-addresses", &b_token, None).await;
    let ids: Vec<Value> = res.json()["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    assert_eq!(ids, [json!(b_addr)]);

    // A's objects are 404 for B: admin, viewer (not 403) and token alike.
    let a_addr_path = format!("/api/v1/emergency-addresses/{a_addr}");
    let a_num = number_path("+441134960001");
    for cookie in [&b.admin, &b.viewer] {
        for (method, path, body) in [
            ("PUT", a_addr_path.as_str(), address_body("mine")),
            ("DELETE", a_addr_path.as_str(), json!({})),
            ("PATCH", a_num.as_str(), json!({"assignment": "mine"})),
        ] {
            let res = app.json(method, path, Some(cookie), body).await;
            assert_eq!(res.status, 404, "{method} {path}: {}", res.text());
        }
    }
    let res = bearer(&app, "DELETE", &a_addr_path, &b_token, None).await;
    assert_eq!(res.status, 404, "{}", res.text());
    let res = bearer(
        &app,
        "PATCH",
        &a_num,
        &b_token,
        Some(json!({"assignment": "x"})),
    )
    .await;
    assert_eq!(res.status, 404, "{}", res.text());

    // A's service or address cannot be given to B's number.
    let b_num = number_path("+441134960002");
    let res = app
        .json(
            "PATCH",
            &b_num,
            Some(&b.engineer),
            json!({"service_id": a.trunk}),
        )
        .await;
    assert_field(&res, "service_id");
    let res = app
        .json(
            "PATCH",
            &b_num,
            Some(&b.engineer),
            json!({"emergency_address_id": a_addr}),
        )
        .await;
    assert_field(&res, "emergency_address_id");

    // Nothing of A's changed.
    let res = app.get_with("/api/v1/emergency-addresses", &a.viewer).await;
    assert_eq!(res.json()["addresses"][0]["label"], "A HQ");
    let res = app.get_with("/api/v1/numbers", &a.viewer).await;
    assert_eq!(res.json()["numbers"][0]["assignment"], Value::Null);
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field() {
    let app = TestApp::new().await;
    let c = customer_with_roles(&app, "contoso").await;
    insert_number(&app, &c.org_id, "+441134960001", "GB", "active").await;
    let addr = create_address(&app, &c.engineer, "HQ").await;

    for (field, value) in [
        ("street", json!("  ")),
        ("house_number", json!("")),
        ("postal_code", json!("")),
        ("city", json!("")),
        ("country", json!("UK")),
        ("country", json!("")),
        ("country", json!("GBR")),
        ("label", json!("x".repeat(201))),
    ] {
        let mut body = address_body("HQ 2");
        body[field] = value.clone();
        let res = app
            .json(
                "POST",
                "/api/v1/emergency-addresses",
                Some(&c.engineer),
                body.clone(),
            )
            .await;
        assert_field(&res, field);
        let res = app
            .json(
                "PUT",
                &format!("/api/v1/emergency-addresses/{addr}"),
                Some(&c.engineer),
                body,
            )
            .await;
        assert_field(&res, field);
    }
    // A missing part is refused too, and nothing was stored or changed.
    let res = app
        .json(
            "POST",
            "/api/v1/emergency-addresses",
            Some(&c.engineer),
            json!({"street": "Baker Street", "city": "London", "country": "GB"}),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    let res = app.get_with("/api/v1/emergency-addresses", &c.viewer).await;
    let list = res.json()["addresses"].clone();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["label"], "HQ");

    let num = number_path("+441134960001");
    for (body, field) in [
        (json!({"assignment": ""}), "assignment"),
        (json!({"assignment": "a".repeat(257)}), "assignment"),
        (json!({"service_id": "no-such-service"}), "service_id"),
        (
            json!({"emergency_address_id": "nope"}),
            "emergency_address_id",
        ),
    ] {
        let res = app.json("PATCH", &num, Some(&c.engineer), body).await;
        assert_field(&res, field);
    }
    // A number that can place emergency calls keeps its address.
    sqlx::query(
        "UPDATE numbers SET emergency_calling = TRUE, emergency_address_id = $1 WHERE e164 = $2",
    )
    .bind(&addr)
    .bind("+441134960001")
    .execute(app.db.db.pool())
    .await
    .unwrap();
    let res = app
        .json(
            "PATCH",
            &num,
            Some(&c.engineer),
            json!({"emergency_address_id": null}),
        )
        .await;
    assert_field(&res, "emergency_address_id");
    let res = app.get_with("/api/v1/numbers", &c.viewer).await;
    assert_eq!(res.json()["numbers"][0]["emergency_calling"], true);
    assert_eq!(
        res.json()["numbers"][0]["emergency_address_id"],
        addr.as_str()
    );
    assert_eq!(audit_details(&app, "number.updated").await.len(), 0);

    for (q, field) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("status=lost", "status"),
        ("country=XX", "country"),
        ("cursor=%21%21", "cursor"),
    ] {
        let res = app
            .get_with(&format!("/api/v1/numbers?{q}"), &c.viewer)
            .await;
        assert_field(&res, field);
    }
    let res = app.get_with("/api/v1/numbers?limit=abc", &c.viewer).await;
    assert_eq!(res.status, 422, "{}", res.text());
}
