//! `/api/v1/users`: listing with sign-in facts, role changes, deactivation, the last-admin
//! rules, isolation between customers, and the audit trail.

// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{json, Value};
use sqlx::Row;
use support::{
    api::{sign_in, staff_session},
    create_org, create_user, TestApp, PASSWORD,
};

async fn patch_role(app: &TestApp, cookie: &str, id: &str, role: &str) -> support::TestResponse {
    app.json(
        "PATCH",
        &format!("/api/v1/users/{id}"),
        Some(cookie),
        json!({"role": role}),
    )
    .await
}

async fn deactivate(app: &TestApp, cookie: &str, id: &str) -> support::TestResponse {
    app.json(
        "POST",
        &format!("/api/v1/users/{id}/deactivate"),
        Some(cookie),
        json!({}),
    )
    .await
}

async fn audit(app: &TestApp, action: &str) -> Vec<(String, Option<String>, Value)> {
    sqlx::query("SELECT actor_label, target, details FROM audit_log WHERE action = $1 ORDER BY id")
        .bind(action)
        .fetch_all(app.db.db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let details: String = r.try_get("details").unwrap();
            (
                r.try_get("actor_label").unwrap(),
                r.try_get("target").unwrap(),
                serde_json::from_str(&details).unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_organisations_users_are_listed_with_their_sign_in_facts() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_org(&app.db.db, "fabrikam").await;
    let admin = create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    let engineer = create_user(&app.db.db, "contoso", "eng@contoso.example", "engineer").await;
    create_user(&app.db.db, "contoso", "viewer@contoso.example", "viewer").await;
    create_user(&app.db.db, "fabrikam", "admin@fabrikam.example", "admin").await;
    // An authenticator for the admin, a Microsoft identity for the engineer.
    sqlx::query("INSERT INTO user_totp (user_id, secret_sealed, confirmed_at, created_at) VALUES ($1, 'x', 1, 1)")
        .bind(&admin.id)
        .execute(app.db.db.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO user_identities (tenant_id, object_id, user_id, email, created_at) VALUES ('t', 'o', $1, '', 1)")
        .bind(&engineer.id)
        .execute(app.db.db.pool())
        .await
        .unwrap();

    // Any role reads the list.
    let viewer = sign_in(&app, "viewer@contoso.example").await;
    let res = app.get_with("/api/v1/users", &viewer).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let users = res.json()["users"].as_array().unwrap().clone();
    let emails: Vec<&str> = users.iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(
        emails,
        [
            "admin@contoso.example",
            "eng@contoso.example",
            "viewer@contoso.example"
        ]
    );
    assert_eq!(users[0]["role"], "admin");
    assert_eq!(users[0]["mfa_enabled"], true);
    assert_eq!(users[0]["sso_identity"], false);
    assert_eq!(users[1]["mfa_enabled"], false);
    assert_eq!(users[1]["sso_identity"], true);
    assert_eq!(users[2]["deactivated"], false);
    assert!(users[2]["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(users.iter().all(|u| u.get("password_hash").is_none()));

    // Signed out: 401.
    assert_eq!(app.get("/api/v1/users").await.status, 401);
}

#[tokio::test]
async fn an_admin_changes_roles_with_an_audited_before_and_after() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    let viewer = create_user(&app.db.db, "contoso", "viewer@contoso.example", "viewer").await;
    create_user(&app.db.db, "contoso", "eng@contoso.example", "engineer").await;
    let admin = sign_in(&app, "admin@contoso.example").await;
    let viewer_cookie = sign_in(&app, "viewer@contoso.example").await;
    // Warm the viewer's cached session, which holds the old role.
    assert_eq!(
        app.get_with("/api/v1/me", &viewer_cookie).await.json()["user"]["role"],
        "viewer"
    );

    let res = patch_role(&app, &admin, &viewer.id, "engineer").await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["role"], "engineer");
    // The new role applies to the user's existing session at once.
    assert_eq!(
        app.get_with("/api/v1/me", &viewer_cookie).await.json()["user"]["role"],
        "engineer"
    );
    let entries = audit(&app, "user.role_changed").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, "admin@contoso.example");
    assert_eq!(entries[0].1.as_deref(), Some(viewer.id.as_str()));
    assert_eq!(entries[0].2["before"]["role"], "viewer");
    assert_eq!(entries[0].2["after"]["role"], "engineer");

    // The same role again changes nothing and writes nothing.
    assert_eq!(
        patch_role(&app, &admin, &viewer.id, "engineer")
            .await
            .status,
        200
    );
    assert_eq!(audit(&app, "user.role_changed").await.len(), 1);

    let res = patch_role(&app, &admin, &viewer.id, "owner").await;
    assert_eq!(res.status, 422);
    assert_eq!(res.json()["error"]["field"], "role");

    // Only admins change roles.
    let eng = sign_in(&app, "eng@contoso.example").await;
    let res = patch_role(&app, &eng, &viewer.id, "admin").await;
    assert_eq!(res.status, 403);
    assert_eq!(res.json()["error"]["code"], "forbidden");
}

#[tokio::test]
async fn the_last_admin_can_be_neither_demoted_nor_deactivated() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    let first = create_user(&app.db.db, "contoso", "first@contoso.example", "admin").await;
    let admin = sign_in(&app, "first@contoso.example").await;

    let res = patch_role(&app, &admin, &first.id, "viewer").await;
    assert_eq!(res.status, 409, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "last_admin");
    let res = deactivate(&app, &admin, &first.id).await;
    assert_eq!(res.status, 409);
    assert_eq!(res.json()["error"]["code"], "cannot_deactivate_self");

    // A deactivated admin does not count.
    let second = create_user(&app.db.db, "contoso", "second@contoso.example", "admin").await;
    assert_eq!(deactivate(&app, &admin, &second.id).await.status, 200);
    let res = patch_role(&app, &admin, &first.id, "engineer").await;
    assert_eq!(res.json()["error"]["code"], "last_admin");
    let res = patch_role(&app, &admin, &second.id, "viewer").await;
    assert_eq!(res.status, 409);
    assert_eq!(res.json()["error"]["code"], "user_deactivated");

    // With another active admin, an admin may step down.
    let third = create_user(&app.db.db, "contoso", "third@contoso.example", "admin").await;
    let res = patch_role(&app, &admin, &first.id, "engineer").await;
    assert_eq!(res.status, 200, "{}", res.text());
    // Now third is the only admin: staff acting for the customer cannot remove them either.
    let staff = staff_session(&app).await;
    let res = app
        .json(
            "POST",
            &format!("/api/v1/users/{}/deactivate?org=contoso", third.id),
            Some(&staff),
            json!({}),
        )
        .await;
    assert_eq!(res.status, 409);
    assert_eq!(res.json()["error"]["code"], "last_admin");
    let res = app
        .json(
            "PATCH",
            &format!("/api/v1/users/{}?org=contoso", first.id),
            Some(&staff),
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let entries = audit(&app, "user.role_changed").await;
    assert_eq!(entries.last().unwrap().0, "noc@carrier.example");
}

#[tokio::test]
async fn deactivation_ends_the_users_sessions_at_once() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    let viewer = create_user(&app.db.db, "contoso", "viewer@contoso.example", "viewer").await;
    let admin = sign_in(&app, "admin@contoso.example").await;
    let first = sign_in(&app, "viewer@contoso.example").await;
    let second = sign_in(&app, "viewer@contoso.example").await;
    // Both sessions are in use (and cached).
    assert_eq!(app.get_with("/api/v1/me", &first).await.status, 200);
    assert_eq!(app.get_with("/api/v1/me", &second).await.status, 200);

    let res = deactivate(&app, &admin, &viewer.id).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["deactivated"], true);
    for cookie in [&first, &second] {
        let res = app.get_with("/api/v1/me", cookie).await;
        assert_eq!(res.status, 401);
    }
    let left: i64 =
        sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM sessions WHERE user_id = $1")
            .bind(&viewer.id)
            .fetch_one(app.db.db.pool())
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
    assert_eq!(left, 0);
    // They cannot sign in again.
    let (res, cookie) = app.login("viewer@contoso.example", PASSWORD).await;
    assert!(cookie.is_none(), "{}", res.text());
    // Listed as deactivated; a second deactivation is refused.
    let list = app.get_with("/api/v1/users", &admin).await.json();
    assert_eq!(list["users"][1]["deactivated"], true);
    assert_eq!(
        deactivate(&app, &admin, &viewer.id).await.json()["error"]["code"],
        "already_deactivated"
    );
    let entries = audit(&app, "user.deactivated").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, "admin@contoso.example");
    assert_eq!(entries[0].2["before"]["deactivated"], false);
    assert_eq!(entries[0].2["after"]["deactivated"], true);
    assert_eq!(entries[0].2["sessions_ended"], 2);

    // Only admins deactivate.
    let eng = create_user(&app.db.db, "contoso", "eng@contoso.example", "engineer").await;
    let eng_cookie = sign_in(&app, "eng@contoso.example").await;
    let res = deactivate(&app, &eng_cookie, &eng.id).await;
    assert_eq!(res.status, 403);
}

#[tokio::test]
async fn another_customers_users_are_not_found() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_org(&app.db.db, "fabrikam").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    let other = create_user(&app.db.db, "fabrikam", "viewer@fabrikam.example", "viewer").await;
    create_user(&app.db.db, "fabrikam", "admin@fabrikam.example", "admin").await;
    let a = sign_in(&app, "admin@contoso.example").await;

    let list = app.get_with("/api/v1/users", &a).await;
    assert!(!list.text().contains("fabrikam"));
    let res = app
        .get_with(&format!("/api/v1/users/{}", other.id), &a)
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(res.json()["error"]["code"], "not_found");
    assert_eq!(patch_role(&app, &a, &other.id, "admin").await.status, 404);
    assert_eq!(deactivate(&app, &a, &other.id).await.status, 404);
    assert_eq!(
        patch_role(&app, &a, "no-such-id", "admin").await.status,
        404
    );
    let res = app
        .json(
            "PATCH",
            &format!("/api/v1/users/{}?org=fabrikam", other.id),
            Some(&a),
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(res.status, 404);
    // Nothing changed on the other side.
    let b = sign_in(&app, "admin@fabrikam.example").await;
    let user = app
        .get_with(&format!("/api/v1/users/{}", other.id), &b)
        .await
        .json();
    assert_eq!(user["role"], "viewer");
    assert_eq!(user["deactivated"], false);
    assert!(audit(&app, "user.role_changed").await.is_empty());
    assert!(audit(&app, "user.deactivated").await.is_empty());
}

#[tokio::test]
async fn an_invited_user_appears_in_the_list() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    let admin = sign_in(&app, "admin@contoso.example").await;
    let res = app
        .json(
            "POST",
            "/api/v1/users/invitations",
            Some(&admin),
            json!({"email": "new@contoso.example", "role": "engineer"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let list = app.get_with("/api/v1/users", &admin).await.json();
    assert_eq!(list["users"][1]["email"], "new@contoso.example");
    assert_eq!(list["users"][1]["role"], "engineer");
}

#[tokio::test]
async fn staff_invite_for_the_customer_they_act_for_and_tokens_never_invite() {
    let app = TestApp::new().await;
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    let staff = staff_session(&app).await;
    let invite = |path: &'static str, email: &'static str| {
        let app = &app;
        let staff = staff.clone();
        async move {
            app.json(
                "POST",
                path,
                Some(&staff),
                json!({"email": email, "role": "viewer"}),
            )
            .await
        }
    };

    // Staff say which customer, as on every organisation route.
    let res = invite("/api/v1/users/invitations", "lost@contoso.example").await;
    assert_eq!(res.status, 400, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "org_required");
    let res = invite(
        "/api/v1/users/invitations?org=nobody",
        "lost@contoso.example",
    )
    .await;
    assert_eq!(res.status, 404, "{}", res.text());

    let res = invite(
        "/api/v1/users/invitations?org=contoso",
        "new@contoso.example",
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let list = app
        .get_with("/api/v1/users?org=contoso", &staff)
        .await
        .json();
    let emails: Vec<&str> = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["admin@contoso.example", "new@contoso.example"]);
    let invited = audit(&app, "user.invited").await;
    assert_eq!(invited.len(), 1);
    assert_eq!(invited[0].0, "noc@carrier.example");

    // An API token, even read_write, manages no users.
    let admin = sign_in(&app, "admin@contoso.example").await;
    let token = support::api::api_token(&app, &admin, "read_write").await;
    let res = support::api::bearer(
        &app,
        "POST",
        "/api/v1/users/invitations",
        &token,
        Some(json!({"email": "script@contoso.example", "role": "admin"})),
    )
    .await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "token_not_allowed");
    assert_eq!(audit(&app, "user.invited").await.len(), 1);
}
