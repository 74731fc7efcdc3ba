//! Break-glass administrators over the real router: while an organisation requires single
//! sign-on, its named break-glass admins still sign in with password and authenticator code
//! (and nothing less), each use is audited and mailed to the other admins; who may be one is
//! limited (active admins with an authenticator app, three at most, even when named at once).
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;

use support::{
    api::{enrol_totp, sign_in, Enrolled},
    cli::portal,
    count, create_org, create_user, enable_sso_with_tenant, outbox, totp_code, TestApp,
    TestResponse, PASSWORD,
};

const TENANT: &str = "8f1c5d2e-0b7a-4c39-9e61-2a4d7b9c3f10";

async fn put_break_glass(app: &TestApp, cookie: &str, id: &str, on: bool) -> TestResponse {
    app.json(
        "PUT",
        &format!("/api/v1/users/{id}/break-glass"),
        Some(cookie),
        json!({"enabled": on}),
    )
    .await
}

async fn require_sso(app: &TestApp, admin: &str) {
    let res = app
        .json(
            "PUT",
            "/api/v1/organisation/sso",
            Some(admin),
            json!({"jit_provisioning": true, "default_role": "viewer", "require_sso": true}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
}

/// An org with two admins (the second has an authenticator), SSO on; returns the first admin's
/// cookie, the second's id and enrolment.
async fn setup(app: &TestApp) -> (String, String, Enrolled) {
    create_org(&app.db.db, "contoso").await;
    enable_sso_with_tenant(&app.db.db, "contoso", TENANT).await;
    create_user(&app.db.db, "contoso", "boss@contoso.example", "admin").await;
    let glass = create_user(&app.db.db, "contoso", "glass@contoso.example", "admin").await;
    let admin = sign_in(app, "boss@contoso.example").await;
    let cookie = sign_in(app, "glass@contoso.example").await;
    let enrolled = enrol_totp(app, &cookie).await;
    (admin, glass.id, enrolled)
}

fn code_of(res: &TestResponse) -> String {
    res.json()["error"]["code"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn a_break_glass_admin_signs_in_with_a_code_while_sso_is_required() {
    let app = TestApp::new().await;
    let (admin, glass_id, enrolled) = setup(&app).await;
    let res = put_break_glass(&app, &admin, &glass_id, true).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["break_glass"], true);
    require_sso(&app, &admin).await;

    // Everyone else is refused after a right password.
    let (res, _) = app.login("boss@contoso.example", PASSWORD).await;
    assert_eq!(res.status, 403);
    assert_eq!(code_of(&res), "sso_required");

    // The break-glass admin's password leads to the code step, which takes the app only.
    let (res, pending) = app.login("glass@contoso.example", PASSWORD).await;
    assert_eq!(res.json()["status"], "mfa_required", "{}", res.text());
    let pending = pending.unwrap();
    let mails_before = outbox(&app).await.len();
    let res = app
        .json(
            "POST",
            "/api/v1/auth/mfa",
            Some(&pending),
            json!({"code": totp_code(&enrolled.secret, &app.clock, 1)}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let full = support::session_cookie(&res).unwrap();
    let me = app.get_with("/api/v1/me", &full).await.json();
    assert_eq!(me["user"]["auth_method"], "break_glass+totp");
    assert_eq!(
        count(
            &app.db.db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'auth.break_glass_used'"
        )
        .await,
        1
    );
    // The other admin is told.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mails = outbox(&app).await;
        if mails.len() > mails_before {
            assert_eq!(mails[0].to, "boss@contoso.example");
            assert!(
                mails[0].subject.contains("Break-glass"),
                "{}",
                mails[0].subject
            );
            assert!(mails[0].body.contains("glass@contoso.example"));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no mail to the other admin"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // The authenticator cannot be turned off while they are break-glass.
    let res = app
        .json(
            "DELETE",
            "/api/v1/me/mfa/totp",
            Some(&full),
            json!({"password": PASSWORD, "code": totp_code(&enrolled.secret, &app.clock, 0)}),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(code_of(&res), "break_glass_needs_authenticator");

    // No longer break-glass (the admin's session from before SSO was required still works):
    // the password is refused like everyone's.
    let res = put_break_glass(&app, &admin, &glass_id, false).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let (res, _) = app.login("glass@contoso.example", PASSWORD).await;
    assert_eq!(code_of(&res), "sso_required");
}

#[tokio::test]
async fn only_a_few_active_admins_with_an_authenticator_can_be_break_glass() {
    let app = TestApp::new().await;
    let (admin, glass_id, _) = setup(&app).await;
    let viewer = create_user(&app.db.db, "contoso", "viewer@contoso.example", "viewer").await;
    let res = put_break_glass(&app, &admin, &viewer.id, true).await;
    assert_eq!(res.status, 409);
    assert_eq!(code_of(&res), "break_glass_needs_admin");
    let boss_id: String =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'boss@contoso.example'")
            .fetch_one(app.db.db.pool())
            .await
            .unwrap();
    let res = put_break_glass(&app, &admin, &boss_id, true).await;
    assert_eq!(code_of(&res), "break_glass_needs_authenticator");
    // A viewer cannot name anyone.
    let viewer_cookie = sign_in(&app, "viewer@contoso.example").await;
    let res = put_break_glass(&app, &viewer_cookie, &glass_id, true).await;
    assert_eq!(res.status, 403);

    // Four admins with authenticators named at once: three succeed.
    let mut ids = vec![glass_id.clone()];
    for n in 0..3 {
        let email = format!("admin{n}@contoso.example");
        let u = create_user(&app.db.db, "contoso", &email, "admin").await;
        let c = sign_in(&app, &email).await;
        enrol_totp(&app, &c).await;
        ids.push(u.id);
    }
    let results = futures_util::future::join_all(
        ids.iter().map(|id| put_break_glass(&app, &admin, id, true)),
    )
    .await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        ok,
        3,
        "{:?}",
        results.iter().map(TestResponse::text).collect::<Vec<_>>()
    );
    assert!(results.iter().any(|r| code_of(r) == "break_glass_limit"));
    assert_eq!(
        count(
            &app.db.db,
            "SELECT COUNT(*) FROM users WHERE break_glass = TRUE"
        )
        .await,
        3
    );

    // Demoting one takes the flag away with the role.
    let named: Vec<&String> = ids
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.status == 200)
        .map(|(id, _)| id)
        .collect();
    let res = app
        .json(
            "PATCH",
            &format!("/api/v1/users/{}", named[0]),
            Some(&admin),
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["break_glass"], false);
}

#[tokio::test]
async fn the_cli_names_a_break_glass_admin() {
    let app = TestApp::new().await;
    let (_, _, _) = setup(&app).await;
    let out = portal(
        &app.db.url,
        &[
            "user",
            "break-glass",
            "--email",
            "glass@contoso.example",
            "--enabled",
            "true",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = portal(
        &app.db.url,
        &[
            "user",
            "break-glass",
            "--email",
            "boss@contoso.example",
            "--enabled",
            "true",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("authenticator"));
    assert_eq!(
        count(
            &app.db.db,
            "SELECT COUNT(*) FROM users WHERE break_glass = TRUE"
        )
        .await,
        1
    );
}
