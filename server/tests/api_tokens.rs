//! `/api/v1/api-tokens` and Bearer authentication: secrets shown once and stored hashed,
//! scopes, expiry and revocation, never from a cookie, the CSRF exemption, isolation between
//! customers, staff acting with `?org=`, and the audit trail.

// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use axum::{body::Body, http::Request};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::Row;
use support::{
    api::{bearer, create_api_token, sign_in, staff_session},
    create_org, create_user, TestApp,
};

async fn audit_actions(app: &TestApp, action: &str) -> Vec<(String, Value)> {
    sqlx::query("SELECT actor_label, details FROM audit_log WHERE action = $1 ORDER BY id")
        .bind(action)
        .fetch_all(app.db.db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let details: String = r.try_get("details").unwrap();
            (
                r.try_get("actor_label").unwrap(),
                serde_json::from_str(&details).unwrap(),
            )
        })
        .collect()
}

async fn last_used(app: &TestApp, id: &str) -> Option<i64> {
    sqlx::query("SELECT last_used_at FROM api_tokens WHERE id = $1")
        .bind(id)
        .fetch_one(app.db.db.pool())
        .await
        .unwrap()
        .try_get("last_used_at")
        .unwrap()
}

#[tokio::test]
async fn a_token_is_shown_once_stored_hashed_and_reads_as_bearer() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    let admin = sign_in(&app, "admin@contoso.example").await;

    let created = create_api_token(&app, &admin, "Grafana", "read", 30).await;
    let secret = created["secret"].as_str().unwrap().to_string();
    let id = created["token"]["id"].as_str().unwrap().to_string();
    assert!(
        secret.starts_with("vcp_") && secret.len() == 4 + 43,
        "{secret}"
    );
    assert_eq!(created["token"]["prefix"], &secret[..12]);
    assert_eq!(created["token"]["scope"], "read");
    assert_eq!(created["token"]["status"], "active");
    assert_eq!(created["token"]["created_by"], "admin@contoso.example");

    // Listed without the secret, and the database holds only its SHA-256.
    let list = app.get_with("/api/v1/api-tokens", &admin).await;
    assert_eq!(list.status, 200, "{}", list.text());
    assert!(!list.text().contains(&secret));
    assert!(list.json()["tokens"][0].get("secret").is_none());
    assert_eq!(list.json()["tokens"][0]["last_used_at"], Value::Null);
    let row = sqlx::query("SELECT * FROM api_tokens")
        .fetch_one(app.db.db.pool())
        .await
        .unwrap();
    let stored: String = row.try_get("token_hash").unwrap();
    let expected: String = Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(stored, expected);
    for i in 0..row.len() {
        if let Ok(Some(text)) = row.try_get::<Option<String>, _>(i) {
            assert!(!text.contains(&secret[4..]), "a column holds the secret");
        }
    }

    // A script reads with it.
    let users = bearer(&app, "GET", "/api/v1/users", &secret, None).await;
    assert_eq!(users.status, 200, "{}", users.text());
    assert_eq!(users.json()["users"][0]["email"], "admin@contoso.example");
    let first_use = last_used(&app, &id).await.unwrap();
    // Last use is coarse: another read within the minute writes nothing.
    app.clock.advance_secs(30);
    bearer(&app, "GET", "/api/v1/users", &secret, None).await;
    assert_eq!(last_used(&app, &id).await, Some(first_use));
    app.clock.advance_secs(31);
    bearer(&app, "GET", "/api/v1/users", &secret, None).await;
    assert!(last_used(&app, &id).await.unwrap() > first_use);

    // Audited with what was created (and never the secret).
    let entries = audit_actions(&app, "api_token.created").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, "admin@contoso.example");
    assert_eq!(entries[0].1["after"]["name"], "Grafana");
    assert_eq!(entries[0].1["after"]["scope"], "read");
    assert!(!entries[0].1.to_string().contains(&secret[4..]));
}

#[tokio::test]
async fn scopes_limit_what_a_token_may_do_and_tokens_never_manage() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    let viewer = create_user(&app.db.db, "contoso", "viewer@contoso.example", "viewer").await;
    let admin = sign_in(&app, "admin@contoso.example").await;
    let read = create_api_token(&app, &admin, "read", "read", 30).await["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let rw = create_api_token(&app, &admin, "rw", "read_write", 30).await["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let ingest = create_api_token(&app, &admin, "cdr feed", "ingest", 365).await["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/users/{}", viewer.id);

    let res = bearer(&app, "PATCH", &path, &read, Some(json!({"role": "admin"}))).await;
    assert_eq!(res.status, 403);
    assert_eq!(res.json()["error"]["code"], "insufficient_scope");
    let res = bearer(&app, "PATCH", &path, &rw, Some(json!({"role": "admin"}))).await;
    assert_eq!(res.status, 403);
    assert_eq!(res.json()["error"]["code"], "token_not_allowed");
    let res = bearer(&app, "GET", "/api/v1/api-tokens", &rw, None).await;
    assert_eq!(res.json()["error"]["code"], "token_not_allowed");
    let res = bearer(
        &app,
        "POST",
        "/api/v1/api-tokens",
        &rw,
        Some(json!({"name": "x", "scope": "read_write", "expires_in_days": 1})),
    )
    .await;
    assert_eq!(res.status, 403);
    assert_eq!(res.json()["error"]["code"], "token_not_allowed");
    // An ingest token reads nothing.
    let res = bearer(&app, "GET", "/api/v1/users", &ingest, None).await;
    assert_eq!(res.status, 403);
    assert_eq!(res.json()["error"]["code"], "insufficient_scope");
    // The role did not change.
    let user = bearer(&app, "GET", &path, &rw, None).await;
    assert_eq!(user.json()["role"], "viewer");

    // A viewer's session may not create tokens.
    let viewer_cookie = sign_in(&app, "viewer@contoso.example").await;
    let res = app
        .json(
            "POST",
            "/api/v1/api-tokens",
            Some(&viewer_cookie),
            json!({"name": "mine", "scope": "read", "expires_in_days": 1}),
        )
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(res.json()["error"]["code"], "forbidden");
}

#[tokio::test]
async fn creation_requires_a_name_and_an_expiry_of_at_most_a_year() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    let admin = sign_in(&app, "admin@contoso.example").await;
    for (body, field) in [
        (
            json!({"name": "x", "scope": "read", "expires_in_days": 0}),
            "expires_in_days",
        ),
        (
            json!({"name": "x", "scope": "read", "expires_in_days": 366}),
            "expires_in_days",
        ),
        (
            json!({"name": "  ", "scope": "read", "expires_in_days": 5}),
            "name",
        ),
    ] {
        let res = app
            .json("POST", "/api/v1/api-tokens", Some(&admin), body)
            .await;
        assert_eq!(res.status, 422, "{}", res.text());
        assert_eq!(res.json()["error"]["field"], field);
    }
    for body in [
        json!({"name": "x", "scope": "read"}),
        json!({"name": "x", "scope": "admin", "expires_in_days": 5}),
    ] {
        let res = app
            .json("POST", "/api/v1/api-tokens", Some(&admin), body)
            .await;
        assert_eq!(res.status, 422, "{}", res.text());
        assert_eq!(res.json()["error"]["code"], "invalid_body");
    }
    let ok = create_api_token(&app, &admin, "max", "read", 365).await;
    assert_eq!(ok["token"]["status"], "active");
}

#[tokio::test]
async fn expired_revoked_and_unknown_tokens_are_refused() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    let admin = sign_in(&app, "admin@contoso.example").await;
    let short = create_api_token(&app, &admin, "short", "read", 1).await;
    let short_secret = short["secret"].as_str().unwrap();
    let long = create_api_token(&app, &admin, "long", "read", 30).await;
    let long_secret = long["secret"].as_str().unwrap();
    let long_id = long["token"]["id"].as_str().unwrap();
    assert_eq!(
        bearer(&app, "GET", "/api/v1/users", short_secret, None)
            .await
            .status,
        200
    );

    // Revoked: refused at once, and audited with before and after.
    let res = app
        .json(
            "DELETE",
            &format!("/api/v1/api-tokens/{long_id}"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["status"], "revoked");
    let res = bearer(&app, "GET", "/api/v1/users", long_secret, None).await;
    assert_eq!(res.status, 401);
    assert_eq!(res.json()["error"]["code"], "invalid_token");
    let entries = audit_actions(&app, "api_token.revoked").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].1["before"]["revoked"], false);
    assert_eq!(entries[0].1["after"]["revoked"], true);
    // Revoking again changes nothing.
    let again = app
        .json(
            "DELETE",
            &format!("/api/v1/api-tokens/{long_id}"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(audit_actions(&app, "api_token.revoked").await.len(), 1);

    // Expired.
    app.clock.advance_secs(86_400 + 1);
    let res = bearer(&app, "GET", "/api/v1/users", short_secret, None).await;
    assert_eq!(res.status, 401);
    assert_eq!(res.json()["error"]["code"], "token_expired");
    let admin = sign_in(&app, "admin@contoso.example").await;
    let list = app.get_with("/api/v1/api-tokens", &admin).await.json();
    // Both were created in the same millisecond, so their order is not part of the test.
    let mut statuses: Vec<&str> = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, ["expired", "revoked"]);

    // Unknown, malformed, or not a Bearer credential at all.
    let mut forged = short_secret.to_string();
    let last = forged.pop();
    forged.push(if last == Some('A') { 'B' } else { 'A' });
    for token in [forged.as_str(), "vcp_nope", "not-a-token"] {
        let res = bearer(&app, "GET", "/api/v1/users", token, None).await;
        assert_eq!(res.status, 401);
        assert_eq!(res.json()["error"]["code"], "invalid_token");
    }
    let res = app
        .send(
            Request::get("/api/v1/users")
                .header("authorization", "Basic YWRtaW46cGFzc3dvcmQ=")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, 401);
    assert_eq!(res.json()["error"]["code"], "invalid_token");
}

#[tokio::test]
async fn a_token_is_never_accepted_from_a_cookie() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    let admin = sign_in(&app, "admin@contoso.example").await;
    let secret = create_api_token(&app, &admin, "t", "read", 30).await["secret"]
        .as_str()
        .unwrap()
        .to_string();
    for cookie in [
        format!("__Host-portal_session={secret}"),
        format!("token={secret}"),
        format!("Authorization=Bearer {secret}"),
    ] {
        let res = app.get_with("/api/v1/users", &cookie).await;
        assert_eq!(res.status, 401, "{cookie}");
        assert_eq!(res.json()["error"]["code"], "unauthenticated");
    }
}

#[tokio::test]
async fn csrf_exempts_a_bearer_token_only_without_a_cookie() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    let viewer = create_user(&app.db.db, "contoso", "viewer@contoso.example", "viewer").await;
    let admin = sign_in(&app, "admin@contoso.example").await;
    let rw = create_api_token(&app, &admin, "rw", "read_write", 30).await["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/users/{}/deactivate", viewer.id);

    // No Origin, no cookie: past the CSRF rule, refused by the route for its own reason.
    let res = bearer(&app, "POST", &path, &rw, None).await;
    assert_eq!(res.status, 403);
    assert_eq!(res.json()["error"]["code"], "token_not_allowed");
    // The same with a cookie attached is a browser's request: the CSRF rule applies.
    let res = app
        .send(
            Request::post(&path)
                .header("authorization", format!("Bearer {rw}"))
                .header("cookie", admin.as_str())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(res.json()["error"]["code"], "csrf");
    // A session without a same-origin proof is refused too.
    let res = app
        .send(
            Request::post(&path)
                .header("cookie", admin.as_str())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.json()["error"]["code"], "csrf");
    assert_eq!(
        bearer(
            &app,
            "GET",
            &format!("/api/v1/users/{}", viewer.id),
            &rw,
            None
        )
        .await
        .json()["deactivated"],
        false
    );
}

#[tokio::test]
async fn one_customers_tokens_see_nothing_of_another() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_org(&app.db.db, "fabrikam").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    let b_admin = create_user(&app.db.db, "fabrikam", "admin@fabrikam.example", "admin").await;
    let a = sign_in(&app, "admin@contoso.example").await;
    let b = sign_in(&app, "admin@fabrikam.example").await;
    let a_rw = create_api_token(&app, &a, "a", "read_write", 30).await["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let b_token = create_api_token(&app, &b, "b", "read", 30).await;
    let b_id = b_token["token"]["id"].as_str().unwrap();
    let b_secret = b_token["secret"].as_str().unwrap();

    let users = bearer(&app, "GET", "/api/v1/users", &a_rw, None).await;
    assert_eq!(users.status, 200);
    assert!(!users.text().contains("fabrikam"));
    for (method, path, body) in [
        ("GET", format!("/api/v1/users/{}", b_admin.id), None),
        (
            "PATCH",
            format!("/api/v1/users/{}", b_admin.id),
            Some(json!({"role": "viewer"})),
        ),
        (
            "POST",
            format!("/api/v1/users/{}/deactivate", b_admin.id),
            None,
        ),
        ("DELETE", format!("/api/v1/api-tokens/{b_id}"), None),
        ("GET", "/api/v1/users?org=fabrikam".to_string(), None),
    ] {
        let res = bearer(&app, method, &path, &a_rw, body).await;
        assert_eq!(res.status, 404, "{method} {path}: {}", res.text());
    }
    // A's admin: B's tokens are not listed and cannot be revoked.
    let list = app.get_with("/api/v1/api-tokens", &a).await;
    assert_eq!(list.json()["tokens"].as_array().unwrap().len(), 1);
    assert!(!list.text().contains(b_id));
    let res = app
        .json(
            "DELETE",
            &format!("/api/v1/api-tokens/{b_id}"),
            Some(&a),
            json!({}),
        )
        .await;
    assert_eq!(res.status, 404);
    let res = app.get_with("/api/v1/api-tokens?org=fabrikam", &a).await;
    assert_eq!(res.status, 404);
    // B's token still works, and sees only B.
    let res = bearer(&app, "GET", "/api/v1/users", b_secret, None).await;
    assert_eq!(res.status, 200);
    assert!(!res.text().contains("contoso"));
}

#[tokio::test]
async fn staff_act_for_a_customer_with_the_org_parameter() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    let staff = staff_session(&app).await;
    let res = app.get_with("/api/v1/api-tokens", &staff).await;
    assert_eq!(res.status, 400);
    assert_eq!(res.json()["error"]["code"], "org_required");
    assert_eq!(
        app.get_with("/api/v1/api-tokens?org=nobody", &staff)
            .await
            .status,
        404
    );
    let res = app
        .json(
            "POST",
            "/api/v1/api-tokens?org=contoso",
            Some(&staff),
            json!({"name": "noc probe", "scope": "read", "expires_in_days": 7}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["token"]["created_by"], "noc@carrier.example");
    let admin = sign_in(&app, "admin@contoso.example").await;
    let list = app.get_with("/api/v1/api-tokens", &admin).await.json();
    assert_eq!(list["tokens"][0]["name"], "noc probe");
    let org_id: String =
        sqlx::query("SELECT org_id FROM audit_log WHERE action = 'api_token.created'")
            .fetch_one(app.db.db.pool())
            .await
            .unwrap()
            .try_get("org_id")
            .unwrap();
    let contoso: String = sqlx::query("SELECT id FROM organisations WHERE slug = 'contoso'")
        .fetch_one(app.db.db.pool())
        .await
        .unwrap()
        .try_get("id")
        .unwrap();
    assert_eq!(org_id, contoso);
}
