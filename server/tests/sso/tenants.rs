//! A customer's tenants and SSO settings: the tenant check at sign-in, requiring SSO for a
//! customer's password sign-ins, and disabling, unlinking and turning SSO off, which end the
//! tenant's sessions at once (with the provider console's rules).

use serde_json::json;

use crate::harness::{linked_org, location, sso};
use crate::support::{self, session_cookie, PASSWORD};
use portal::{
    accounts::Actor,
    devidp::{CONTOSO_TENANT, FABRIKAM_TENANT},
};

#[tokio::test]
async fn the_tenant_check_refuses_and_creates_nothing() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;

    // An unlinked tenant.
    let trip = s.sign_in_as("alex", "/").await;
    assert_eq!(location(&trip.callback), "/login?error=tenant_not_linked");
    let entry = s.last_audit("auth.sso_refused").await;
    assert_eq!(entry["tid"], FABRIKAM_TENANT);
    assert_eq!(entry["reason"], "tenant_not_linked");

    // The consumer tenant (personal accounts).
    let trip = s.sign_in_as("personal", "/").await;
    assert_eq!(location(&trip.callback), "/login?error=consumer_account");

    // A disabled tenant.
    portal::sso::set_tenant_disabled(&s.app.db.db, Actor::CLI, "contoso", CONTOSO_TENANT, true)
        .await
        .unwrap();
    let trip = s.sign_in_as("adele", "/").await;
    assert_eq!(location(&trip.callback), "/login?error=tenant_disabled");
    portal::sso::set_tenant_disabled(&s.app.db.db, Actor::CLI, "contoso", CONTOSO_TENANT, false)
        .await
        .unwrap();

    // SSO turned off for the customer.
    portal::sso::set_enabled(&s.app.db.db, Actor::CLI, "contoso", false)
        .await
        .unwrap();
    let trip = s.sign_in_as("adele", "/").await;
    assert_eq!(location(&trip.callback), "/login?error=sso_disabled");

    assert_eq!(s.count("SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(s.count("SELECT COUNT(*) FROM sessions").await, 0);
    assert_eq!(s.count("SELECT COUNT(*) FROM user_identities").await, 0);
}

#[tokio::test]
async fn require_sso_turns_password_sign_in_off_for_the_customer_but_not_for_staff() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    support::create_user(&s.app.db.db, "contoso", "boss@contoso.example", "admin").await;
    let (_, admin) = s.app.login("boss@contoso.example", PASSWORD).await;
    let res = s
        .app
        .json(
            "PUT",
            "/api/v1/organisation/sso",
            admin.as_deref(),
            json!({"jit_provisioning": true, "default_role": "viewer", "require_sso": true}),
        )
        .await;
    assert_eq!(res.status, 200);
    let (res, cookie) = s.app.login("boss@contoso.example", PASSWORD).await;
    assert_eq!(res.status, 403);
    assert_eq!(res.json()["error"]["code"], "sso_required");
    assert!(cookie.is_none());
    // A wrong password still says only "wrong": the SSO rule is told after the password.
    let (res, _) = s
        .app
        .login("boss@contoso.example", "wrong password entirely")
        .await;
    assert_eq!(res.status, 401);

    // Staff sign in with their password (and their authenticator) whatever a customer says.
    support::api::staff_session(&s.app).await;

    // Viewers cannot change the settings.
    support::create_user(&s.app.db.db, "contoso", "viewer@contoso.example", "viewer").await;
    let res = s
        .app
        .json(
            "PUT",
            "/api/v1/organisation/sso",
            admin.as_deref(),
            json!({"jit_provisioning": true, "default_role": "boss", "require_sso": false}),
        )
        .await;
    assert_eq!(res.status, 422);
}

#[tokio::test]
async fn disabling_or_unlinking_a_tenant_and_turning_sso_off_end_its_sessions_at_once() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    let staff = support::api::staff_session(&s.app).await;
    let sso_path = format!("/api/v1/provider/organisations/contoso/sso/tenants/{CONTOSO_TENANT}");

    let cookie = session_cookie(&s.sign_in_as("adele", "/").await.callback).unwrap();
    s.me(&cookie).await;
    let res = s
        .app
        .json("PUT", &sso_path, Some(&staff), json!({"disabled": true}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["tenants"][0]["disabled"], true);
    assert_eq!(s.app.get_with("/api/v1/me", &cookie).await.status, 401);
    assert_eq!(
        s.last_audit("sso.tenant_disabled").await["sessions_ended"],
        1
    );

    let res = s
        .app
        .json("PUT", &sso_path, Some(&staff), json!({"disabled": false}))
        .await;
    assert_eq!(res.status, 200);
    let cookie = session_cookie(&s.sign_in_as("adele", "/").await.callback).unwrap();
    let res = s
        .app
        .json(
            "PUT",
            "/api/v1/provider/organisations/contoso/sso",
            Some(&staff),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(s.app.get_with("/api/v1/me", &cookie).await.status, 401);

    s.app
        .json(
            "PUT",
            "/api/v1/provider/organisations/contoso/sso",
            Some(&staff),
            json!({"enabled": true}),
        )
        .await;
    let cookie = session_cookie(&s.sign_in_as("adele", "/").await.callback).unwrap();
    let res = s
        .app
        .json("DELETE", &sso_path, Some(&staff), json!({}))
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["tenants"], json!([]));
    assert_eq!(s.app.get_with("/api/v1/me", &cookie).await.status, 401);
    assert_eq!(
        location(&s.sign_in_as("adele", "/").await.callback),
        "/login?error=tenant_not_linked"
    );

    // The provider console's rules.
    let res = s
        .app
        .json(
            "POST",
            "/api/v1/provider/organisations/contoso/sso/tenants",
            Some(&staff),
            json!({"tenant_id": "9188040d-6c67-4c5b-b112-36a304b66dad"}),
        )
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(res.json()["error"]["field"], "tenant_id");
    let res = s
        .app
        .json(
            "POST",
            "/api/v1/provider/organisations/contoso/sso/tenants",
            Some(&staff),
            json!({"tenant_id": "organizations"}),
        )
        .await;
    assert_eq!(res.status, 422);
    support::create_org(&s.app.db.db, "other").await;
    portal::sso::set_enabled(&s.app.db.db, Actor::CLI, "other", true)
        .await
        .unwrap();
    s.app
        .json(
            "POST",
            "/api/v1/provider/organisations/contoso/sso/tenants",
            Some(&staff),
            json!({"tenant_id": CONTOSO_TENANT}),
        )
        .await;
    let res = s
        .app
        .json(
            "POST",
            "/api/v1/provider/organisations/other/sso/tenants",
            Some(&staff),
            json!({"tenant_id": CONTOSO_TENANT}),
        )
        .await;
    assert_eq!(res.status, 409);
    assert_eq!(res.json()["error"]["code"], "tenant_taken");
    let list = s
        .app
        .get_with("/api/v1/provider/organisations", &staff)
        .await
        .json();
    assert_eq!(list["organisations"].as_array().unwrap().len(), 2);

    // Customers cannot use it.
    support::create_user(&s.app.db.db, "contoso", "boss@contoso.example", "admin").await;
    let (_, admin) = s.app.login("boss@contoso.example", PASSWORD).await;
    let res = s
        .app
        .get_with("/api/v1/provider/organisations", &admin.unwrap())
        .await;
    assert_eq!(res.status, 403);
}
