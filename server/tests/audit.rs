//! `GET /api/v1/audit` and the MFA policy: who may read and change what.

// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::{create_org, create_user, TestApp, PASSWORD};

#[tokio::test]
async fn admins_read_their_organisation_only_and_viewers_not_at_all() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_org(&app.db.db, "fabrikam").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    create_user(&app.db.db, "contoso", "viewer@contoso.example", "viewer").await;
    create_user(&app.db.db, "fabrikam", "admin@fabrikam.example", "admin").await;
    // Some events in both organisations.
    app.login("admin@fabrikam.example", "wrong password here")
        .await;
    app.login("viewer@contoso.example", "wrong password here")
        .await;
    let admin = app
        .login("admin@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();

    let page = app.get_with("/api/v1/audit?limit=200", &admin).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let entries = page.json()["entries"].as_array().unwrap().clone();
    assert!(!entries.is_empty());
    let contoso_id = entries[0]["organisation_id"].as_str().unwrap().to_string();
    assert!(
        entries
            .iter()
            .all(|e| e["organisation_id"] == contoso_id.as_str()),
        "only contoso's entries"
    );
    assert!(!page.text().contains("fabrikam.example"));
    assert!(entries
        .iter()
        .any(|e| e["action"] == "auth.login_failed" && e["details"]["reason"] == "wrong_password"));
    // Newest first.
    let ids: Vec<i64> = entries.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]));

    let viewer = app
        .login("viewer@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    assert_eq!(app.get_with("/api/v1/audit", &viewer).await.status, 403);
}

#[tokio::test]
async fn filters_and_pages() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    for _ in 0..3 {
        app.login("admin@contoso.example", "wrong password here")
            .await;
    }
    let admin = app
        .login("admin@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let failed = app
        .get_with("/api/v1/audit?action=auth.login_f", &admin)
        .await
        .json();
    assert_eq!(failed["entries"].as_array().unwrap().len(), 3);
    let first = app
        .get_with("/api/v1/audit?action=auth.&limit=2", &admin)
        .await
        .json();
    assert_eq!(first["entries"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_i64().unwrap();
    let second = app
        .get_with(
            &format!("/api/v1/audit?action=auth.&limit=2&cursor={cursor}"),
            &admin,
        )
        .await
        .json();
    assert_eq!(second["entries"].as_array().unwrap().len(), 2);
    assert!(second["entries"][0]["id"].as_i64().unwrap() < cursor);
    // Three failures and one sign-in: the second page is the last.
    assert!(second["next_cursor"].is_null(), "{second}");
    let bad = app.get_with("/api/v1/audit?from=yesterday", &admin).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.json()["error"]["field"], "from");
    let bad = app.get_with("/api/v1/audit?cursor=abc", &admin).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.json()["error"]["code"], "invalid_query");
}

#[tokio::test]
async fn an_admin_sets_the_mfa_policy_and_it_is_audited() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    create_user(&app.db.db, "contoso", "viewer@contoso.example", "viewer").await;
    let viewer = app
        .login("viewer@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let res = app
        .json(
            "PUT",
            "/api/v1/organisation/mfa-policy",
            Some(&viewer),
            json!({"required": true}),
        )
        .await;
    assert_eq!(res.status, 403);
    let admin = app
        .login("admin@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let res = app
        .json(
            "PUT",
            "/api/v1/organisation/mfa-policy",
            Some(&admin),
            json!({"required": true}),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(
        app.login("viewer@contoso.example", PASSWORD).await.0.json()["status"],
        "mfa_enrolment_required"
    );
    let log = app
        .get_with("/api/v1/audit?action=org.mfa_policy_changed", &admin)
        .await
        .json();
    assert_eq!(log["entries"][0]["details"]["after"]["mfa_required"], true);
    assert_eq!(
        log["entries"][0]["details"]["before"]["mfa_required"],
        false
    );
}
