//! Two portal instances on one database (as behind a load balancer): each its own pool,
//! session cache and clock. A session made on one works on the other; signing out, revoking a
//! session and deactivating a user on one take effect on the other within the session cache's
//! bound; wrong passwords count across both.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;

use portal::{auth::session_cache::TTL_MS, config::PortalEnv, db::Db};
use support::{create_org, create_user, test_db, TestApp, TestDb, PASSWORD};

/// Two apps over one fresh database.
async fn two_instances() -> (TestApp, TestApp) {
    let first = test_db().await;
    let url = first.url.clone();
    let second_db = Db::connect(&url).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let a = TestApp::over(first, PortalEnv::Development, &[]);
    let b = TestApp::over(
        TestDb::new(second_db, url, dir),
        PortalEnv::Development,
        &[],
    );
    create_org(&a.db.db, "contoso").await;
    create_user(&a.db.db, "contoso", "alice@contoso.example", "admin").await;
    create_user(&a.db.db, "contoso", "bob@contoso.example", "viewer").await;
    (a, b)
}

/// Lets `app`'s session cache forget what it holds (its entries live `TTL_MS`).
fn past_the_cache(app: &TestApp) {
    app.clock.advance_secs(TTL_MS / 1000 + 1);
}

/// The `id` of the first item of the JSON array `items` that `matches`.
fn id_where(items: &serde_json::Value, matches: impl Fn(&serde_json::Value) -> bool) -> String {
    let item = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| matches(i))
        .unwrap();
    item["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_session_made_on_one_instance_works_and_ends_on_the_other() {
    let (a, b) = two_instances().await;
    let cookie = a.login("alice@contoso.example", PASSWORD).await.1.unwrap();
    let me = b.get_with("/api/v1/me", &cookie).await;
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(me.json()["user"]["email"], "alice@contoso.example");

    // Signed out on A: B still has it cached for at most TTL_MS, then refuses it.
    let out = a
        .json("POST", "/api/v1/auth/logout", Some(&cookie), json!({}))
        .await;
    assert_eq!(out.status, 200);
    past_the_cache(&b);
    assert_eq!(b.get_with("/api/v1/me", &cookie).await.status, 401);
}

#[tokio::test]
async fn revoking_a_session_or_deactivating_a_user_on_one_instance_holds_on_the_other() {
    let (a, b) = two_instances().await;
    let alice = a.login("alice@contoso.example", PASSWORD).await.1.unwrap();
    let alice_on_phone = b.login("alice@contoso.example", PASSWORD).await.1.unwrap();
    let bob = b.login("bob@contoso.example", PASSWORD).await.1.unwrap();
    assert_eq!(b.get_with("/api/v1/me", &bob).await.status, 200);
    assert_eq!(b.get_with("/api/v1/me", &alice_on_phone).await.status, 200);

    // Alice, on A, ends her other session (made on B).
    let sessions = a.get_with("/api/v1/me/sessions", &alice).await.json();
    let other = id_where(&sessions["sessions"], |s| s["current"] == false);
    let res = a
        .json(
            "DELETE",
            &format!("/api/v1/me/sessions/{other}"),
            Some(&alice),
            json!({}),
        )
        .await;
    assert!(res.status.is_success(), "{}", res.text());

    // Alice, on A, deactivates Bob.
    let users = a.get_with("/api/v1/users", &alice).await.json();
    let bob_id = id_where(&users["users"], |u| u["email"] == "bob@contoso.example");
    let res = a
        .json(
            "POST",
            &format!("/api/v1/users/{bob_id}/deactivate"),
            Some(&alice),
            json!({}),
        )
        .await;
    assert!(res.status.is_success(), "{}", res.text());

    past_the_cache(&b);
    assert_eq!(b.get_with("/api/v1/me", &alice_on_phone).await.status, 401);
    assert_eq!(b.get_with("/api/v1/me", &bob).await.status, 401);
    assert_eq!(b.get_with("/api/v1/me", &alice).await.status, 200);
}

#[tokio::test]
async fn wrong_passwords_count_across_both_instances() {
    let (a, b) = two_instances().await;
    let limit = portal::auth::rate_limit::LOGIN_PER_ACCOUNT.max_failures;
    for i in 0..limit {
        let app = if i % 2 == 0 { &a } else { &b };
        let (res, _) = app.login("alice@contoso.example", "not the password").await;
        assert_eq!(res.status, 401, "attempt {i}: {}", res.text());
    }
    // The next attempt is refused on either, even with the right password.
    for app in [&a, &b] {
        let (res, cookie) = app.login("alice@contoso.example", PASSWORD).await;
        assert_eq!(res.status, 429, "{}", res.text());
        assert!(cookie.is_none());
    }
}
