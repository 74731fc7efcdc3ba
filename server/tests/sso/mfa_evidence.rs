//! Multi-factor evidence from Entra: a customer's policy for Microsoft sign-ins whose ID token
//! shows no second factor (`off`, `portal_factor`, `required`), the claims challenge for the
//! customer's authentication context, and the settings API that sets it.

use serde_json::{json, Value};

use crate::harness::{linked_org, location, param, sso, Sso};
use crate::support::{self, session_cookie, totp_code, PASSWORD};
use portal::{accounts::Actor, devidp::TamperSigning, devidp::CONTOSO_TENANT};

async fn set_policy(s: &Sso, policy: &str, context: Option<&str>) {
    portal::sso::set_mfa_evidence_of(&s.app.db.db, Actor::CLI, "contoso", policy, context)
        .await
        .unwrap();
}

/// A Microsoft sign-in of the demo identity `key`, picking "with a password only" when
/// `mfa` is false.
async fn sign_in(s: &Sso, key: &str, mfa: bool) -> crate::harness::Trip {
    s.trip(
        "/auth/microsoft/login?return_to=/calls",
        None,
        &[("identity", key), ("mfa", if mfa { "yes" } else { "no" })],
    )
    .await
}

#[tokio::test]
async fn by_default_a_sign_in_without_mfa_evidence_is_trusted_and_the_evidence_is_audited() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    let trip = sign_in(&s, "adele", false).await;
    assert_eq!(location(&trip.callback), "/calls");
    assert!(session_cookie(&trip.callback).is_some());
    assert_eq!(s.last_audit("auth.login").await["mfa_evidence"], "none");
    let trip = sign_in(&s, "adele", true).await;
    assert_eq!(location(&trip.callback), "/calls");
    assert_eq!(s.last_audit("auth.login").await["mfa_evidence"], "amr");
}

#[tokio::test]
async fn required_refuses_a_sign_in_without_evidence_and_admits_one_with_it() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    set_policy(&s, "required", None).await;

    let sessions = s.count("SELECT COUNT(*) FROM sessions").await;
    let trip = sign_in(&s, "megan", false).await;
    assert_eq!(
        location(&trip.callback),
        "/login?error=sso_mfa_required&return_to=/calls"
    );
    assert!(session_cookie(&trip.callback).is_none());
    assert_eq!(s.count("SELECT COUNT(*) FROM sessions").await, sessions);
    let failed = s.last_audit("auth.login_failed").await;
    assert_eq!(failed["reason"], "sso_mfa_required");
    assert_eq!(failed["policy"], "required");
    assert_eq!(failed["tid"], CONTOSO_TENANT);

    let trip = sign_in(&s, "megan", true).await;
    assert_eq!(location(&trip.callback), "/calls");
    let me = s.me(&session_cookie(&trip.callback).unwrap()).await;
    assert_eq!(me["user"]["auth_method"], "entra");

    // Another customer's policy is its own: Fabrikam (off) still trusts its tenant.
    assert_eq!(
        s.count("SELECT COUNT(*) FROM organisations WHERE sso_mfa_evidence = 'required'")
            .await,
        1
    );
}

#[tokio::test]
async fn with_an_authentication_context_the_tenant_is_challenged_once_for_it() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    set_policy(&s, "required", Some("c3")).await;
    // Only `acrs` counts here: the tokens lose their `amr`, as Entra's v2.0 ID tokens do.
    s.tamper(TamperSigning::Rs256, |_, c| {
        if let Some(map) = c.as_object_mut() {
            map.remove("amr");
        }
    });

    let trip = sign_in(&s, "lee", false).await;
    // Sent back to the user's own tenant with a claims challenge for c3.
    assert_eq!(trip.callback.status, 303, "{}", trip.callback.text());
    let challenge = location(&trip.callback);
    assert!(
        challenge.contains(&format!("/{CONTOSO_TENANT}/oauth2/v2.0/authorize?")),
        "{challenge}"
    );
    let claims: Value = serde_json::from_str(&param(&challenge, "claims").unwrap()).unwrap();
    assert_eq!(
        claims,
        json!({"id_token": {"acrs": {"essential": true, "value": "c3"}}})
    );
    assert!(session_cookie(&trip.callback).is_none());
    assert_eq!(
        s.last_audit("auth.sso_mfa_challenge").await["auth_context"],
        "c3"
    );
    let oidc = crate::harness::set_cookie(&trip.callback, "__Host-portal_oidc")
        .expect("the challenge's own transaction");

    // The person passes the second factor: `acrs` lists c3 and they are in.
    let back = s
        .submit_idp_form(&challenge, &[("identity", "lee"), ("mfa", "yes")])
        .await;
    let done = s.finish(&back, &oidc, None).await;
    assert_eq!(location(&done), "/calls");
    assert!(session_cookie(&done).is_some());
    assert_eq!(s.last_audit("auth.login").await["mfa_evidence"], "acrs");

    // A second trip that still shows nothing is refused, not challenged again (no loop).
    let trip = sign_in(&s, "lee", false).await;
    let challenge = location(&trip.callback);
    let oidc = crate::harness::set_cookie(&trip.callback, "__Host-portal_oidc").unwrap();
    let back = s
        .submit_idp_form(&challenge, &[("identity", "lee"), ("mfa", "no")])
        .await;
    let done = s.finish(&back, &oidc, None).await;
    assert_eq!(
        location(&done),
        "/login?error=sso_mfa_required&return_to=/calls"
    );
    assert!(session_cookie(&done).is_none());

    // A context the token names but the customer did not choose is no evidence.
    set_policy(&s, "required", Some("c4")).await;
    let trip = sign_in(&s, "lee", true).await;
    let challenge = location(&trip.callback);
    assert!(challenge.contains("authorize?"), "{challenge}");
}

#[tokio::test]
async fn portal_factor_asks_for_the_authenticator_code_and_keeps_the_session_bound_to_the_tenant() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    // Lee has a portal password and an authenticator, and links the Microsoft identity.
    support::create_user(&s.app.db.db, "contoso", "lee@contoso.example", "engineer").await;
    let (_, cookie) = s.app.login("lee@contoso.example", PASSWORD).await;
    let cookie = cookie.unwrap();
    let secret = support::api::enrol_totp(&s.app, &cookie).await.secret;
    let trip = s
        .trip(
            "/auth/microsoft/link",
            Some(&cookie),
            &[("identity", "lee")],
        )
        .await;
    assert_eq!(location(&trip.callback), "/security?linked=microsoft");
    set_policy(&s, "portal_factor", None).await;

    s.app.clock.advance_secs(60);
    let trip = sign_in(&s, "lee", false).await;
    assert_eq!(location(&trip.callback), "/login/mfa?return_to=/calls");
    let pending = session_cookie(&trip.callback).expect("a pending session");
    let me = s.app.get_with("/api/v1/me", &pending).await;
    assert_eq!(me.status, 401);
    assert_eq!(me.json()["error"]["code"], "mfa_required");
    assert_eq!(
        s.last_audit("auth.sso_accepted").await["next"],
        "mfa_pending"
    );

    let res = s
        .app
        .json(
            "POST",
            "/api/v1/auth/mfa",
            Some(&pending),
            json!({"code": totp_code(&secret, &s.app.clock, 0)}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let full = session_cookie(&res).unwrap();
    let me = s.me(&full).await;
    assert_eq!(me["user"]["auth_method"], "entra+totp");
    assert_eq!(
        s.count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE tenant_id = '{CONTOSO_TENANT}' AND state = 'full'"
        ))
        .await,
        1
    );
    // Unlinking the tenant ends that session like any other SSO session.
    portal::sso::unlink_tenant(&s.app.db.db, Actor::CLI, "contoso", CONTOSO_TENANT)
        .await
        .unwrap();
    // (Done here by the CLI, another process: this instance's session cache may trust the
    // session for its two seconds.)
    s.app.clock.advance_secs(3);
    assert_eq!(s.app.get_with("/api/v1/me", &full).await.status, 401);

    // Someone without an authenticator cannot use that way round: refused.
    linked_org(&s, "fabrikam", portal::devidp::FABRIKAM_TENANT).await;
    portal::sso::set_mfa_evidence_of(&s.app.db.db, Actor::CLI, "fabrikam", "portal_factor", None)
        .await
        .unwrap();
    let trip = sign_in(&s, "alex", false).await;
    assert_eq!(
        location(&trip.callback),
        "/login?error=sso_mfa_required&return_to=/calls"
    );
    assert_eq!(
        s.last_audit("auth.login_failed").await["portal_factor"],
        false
    );
}

#[tokio::test]
async fn the_settings_api_sets_the_policy_and_refuses_bad_values_changing_nothing() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    support::create_user(&s.app.db.db, "contoso", "boss@contoso.example", "admin").await;
    let (_, admin) = s.app.login("boss@contoso.example", PASSWORD).await;
    let admin = admin.unwrap();
    let put = |body: Value| {
        let admin = admin.clone();
        let app = &s.app;
        async move {
            app.json("PUT", "/api/v1/organisation/sso", Some(&admin), body)
                .await
        }
    };
    let base = json!({"jit_provisioning": true, "default_role": "viewer", "require_sso": false});

    let mut body = base.clone();
    body["mfa_evidence"] = json!("portal_factor");
    body["auth_context"] = json!(" C12 ");
    let res = put(body).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["mfa_evidence"], "portal_factor");
    assert_eq!(res.json()["auth_context"], "c12");

    // Left out: unchanged.
    let res = put(base.clone()).await;
    assert_eq!(res.json()["mfa_evidence"], "portal_factor");
    assert_eq!(res.json()["auth_context"], "c12");

    for (field, value, context) in [
        ("mfa_evidence", json!("sometimes"), json!(null)),
        ("auth_context", json!("required"), json!("c0")),
        ("auth_context", json!("required"), json!("c1; DROP TABLE")),
    ] {
        let mut body = base.clone();
        body["jit_provisioning"] = json!(false);
        body["mfa_evidence"] = value;
        body["auth_context"] = context;
        let res = put(body).await;
        assert_eq!(res.status, 422, "{}", res.text());
        assert_eq!(res.json()["error"]["code"], "invalid_field");
        assert_eq!(res.json()["error"]["field"], field);
        let now = s
            .app
            .get_with("/api/v1/organisation/sso", &admin)
            .await
            .json();
        assert_eq!(now["mfa_evidence"], "portal_factor");
        assert_eq!(now["auth_context"], "c12");
        assert_eq!(now["jit_provisioning"], true, "nothing half-saved");
    }

    let mut body = base.clone();
    body["mfa_evidence"] = json!("off");
    let res = put(body).await;
    assert_eq!(
        res.json()["auth_context"],
        Value::Null,
        "off with no context clears it"
    );
    let changed = s.last_audit("sso.settings_changed").await;
    assert_eq!(changed["before"]["mfa_evidence"], "portal_factor");
    assert_eq!(changed["after"]["mfa_evidence"], "off");
}

#[tokio::test]
async fn a_microsoft_session_steps_up_by_signing_in_with_microsoft_again() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    let first = sign_in(&s, "megan", true).await;
    let cookie = session_cookie(&first.callback).unwrap();
    sqlx::query("UPDATE users SET role = 'engineer' WHERE email = 'megan.bowen@contoso.example'")
        .execute(s.app.db.db.pool())
        .await
        .unwrap();
    s.app.clock.advance_secs(11 * 60);
    let res = s
        .app
        .json(
            "POST",
            "/api/v1/emergency-addresses",
            Some(&cookie),
            crate::support::voice::address_body("HQ"),
        )
        .await;
    assert_eq!(res.status, 401, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "step_up_required");
    assert_eq!(res.json()["error"]["field"], "microsoft");
    assert!(res.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Microsoft"));
    // No password or code stands in for it.
    let res = s
        .app
        .json(
            "POST",
            "/api/v1/auth/step-up",
            Some(&cookie),
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status, 409);
    assert_eq!(res.json()["error"]["code"], "sign_in_again");

    let again = sign_in(&s, "megan", true).await;
    let fresh = session_cookie(&again.callback).unwrap();
    let res = s
        .app
        .json(
            "POST",
            "/api/v1/emergency-addresses",
            Some(&fresh),
            crate::support::voice::address_body("HQ"),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
}
