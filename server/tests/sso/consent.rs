//! Admin consent: a customer's admin links their tenant only when the proof sign-in comes
//! from a member (not a guest) of the tenant the consent names, and the link waits for the
//! carrier's approval.

use serde_json::json;

use crate::harness::{linked_org, location, param, set_cookie, sso};
use crate::support::{self, session_cookie, ORIGIN, PASSWORD};
use portal::{
    accounts::Actor,
    devidp::{TamperSigning, CONTOSO_TENANT, FABRIKAM_TENANT},
};

#[tokio::test]
async fn admin_consent_links_the_tenant_only_when_the_proof_sign_in_matches() {
    let s = sso().await;
    support::create_org(&s.app.db.db, "fabrikam").await;
    support::create_user(&s.app.db.db, "fabrikam", "it@fabrikam.example", "admin").await;
    let (_, admin) = s.app.login("it@fabrikam.example", PASSWORD).await;
    let admin = admin.unwrap();

    // Not before the carrier enabled SSO.
    let res = s.app.get_with("/auth/microsoft/consent", &admin).await;
    assert_eq!(location(&res), "/sso?error=sso_disabled");
    portal::sso::set_enabled(&s.app.db.db, Actor::CLI, "fabrikam", true)
        .await
        .unwrap();

    // The admin declines at Microsoft.
    let res = s.app.get_with("/auth/microsoft/consent", &admin).await;
    let consent_url = location(&res);
    assert!(
        consent_url.contains("/organizations/v2.0/adminconsent?"),
        "{consent_url}"
    );
    let oidc = set_cookie(&res, "__Host-portal_oidc").unwrap();
    let back = s
        .submit_idp_form(&consent_url, &[("action", "cancel")])
        .await;
    let res = s.finish(&back, &oidc, Some(&admin)).await;
    assert_eq!(location(&res), "/sso?error=access_denied");

    // A forged callback: a state this browser never got.
    let res = s.app.get_with("/auth/microsoft/consent", &admin).await;
    let oidc = set_cookie(&res, "__Host-portal_oidc").unwrap();
    let forged = format!("{ORIGIN}/auth/microsoft/consent/callback?admin_consent=True&tenant={FABRIKAM_TENANT}&state=forged");
    let res = s.finish(&forged, &oidc, Some(&admin)).await;
    assert_eq!(location(&res), "/sso?error=state_mismatch");
    assert_eq!(
        s.last_audit("sso.consent_failed").await["reason"],
        "state_mismatch"
    );

    // Consent granted, but the proof sign-in comes from another tenant than the one claimed.
    let res = s.app.get_with("/auth/microsoft/consent", &admin).await;
    let oidc = set_cookie(&res, "__Host-portal_oidc").unwrap();
    let back = s
        .submit_idp_form(
            &location(&res),
            &[("identity", "alex"), ("action", "accept")],
        )
        .await;
    assert!(back.contains("admin_consent=True"), "{back}");
    assert_eq!(param(&back, "tenant").as_deref(), Some(FABRIKAM_TENANT));
    let proof_start = s.finish(&back, &oidc, Some(&admin)).await;
    assert_eq!(proof_start.status, 303, "{}", proof_start.text());
    let proof_url = location(&proof_start);
    assert!(
        proof_url.contains(&format!("/{FABRIKAM_TENANT}/oauth2/v2.0/authorize?")),
        "{proof_url}"
    );
    let proof_oidc = set_cookie(&proof_start, "__Host-portal_oidc").unwrap();
    let authority = s.idp.config().base_url.clone();
    s.tamper(TamperSigning::Rs256, move |_, c| {
        c["tid"] = json!(CONTOSO_TENANT);
        c["iss"] = json!(format!("{authority}/{CONTOSO_TENANT}/v2.0"));
    });
    let back = s.submit_idp_form(&proof_url, &[("identity", "alex")]).await;
    let res = s.finish(&back, &proof_oidc, Some(&admin)).await;
    assert_eq!(location(&res), "/sso?error=tenant_mismatch");
    assert_eq!(s.count("SELECT COUNT(*) FROM sso_tenants").await, 0);
    s.idp.set_token_tamper(None);

    // The real thing: consent, proof, linked; the admin's own session is unchanged.
    let res = s.app.get_with("/auth/microsoft/consent", &admin).await;
    let oidc = set_cookie(&res, "__Host-portal_oidc").unwrap();
    let back = s
        .submit_idp_form(
            &location(&res),
            &[("identity", "alex"), ("action", "accept")],
        )
        .await;
    let consent_callback = back.clone();
    let proof_start = s.finish(&back, &oidc, Some(&admin)).await;
    let proof_oidc = set_cookie(&proof_start, "__Host-portal_oidc").unwrap();
    let back = s
        .submit_idp_form(&location(&proof_start), &[("identity", "alex")])
        .await;
    let res = s.finish(&back, &proof_oidc, Some(&admin)).await;
    assert_eq!(
        location(&res),
        format!("/sso?linked={FABRIKAM_TENANT}&pending=1")
    );
    assert!(
        session_cookie(&res).is_none(),
        "the admin's session is left as it was"
    );
    assert_eq!(s.me(&admin).await["user"]["email"], "it@fabrikam.example");
    let settings = s
        .app
        .get_with("/api/v1/organisation/sso", &admin)
        .await
        .json();
    assert_eq!(settings["tenants"][0]["tenant_id"], FABRIKAM_TENANT);
    assert_eq!(settings["tenants"][0]["pending_approval"], true);
    assert_eq!(
        s.last_audit("sso.tenant_link_requested").await["how"],
        "admin_consent"
    );

    // Replaying the consent callback finds no transaction.
    let res = s.finish(&consent_callback, &oidc, Some(&admin)).await;
    assert_eq!(location(&res), "/sso?error=expired");

    // The link waits for the carrier: Alex is refused until staff approve it, and nothing is
    // created for him meanwhile.
    let users_before = s.count("SELECT COUNT(*) FROM users").await;
    let trip = s.sign_in_as("alex", "/").await;
    assert_eq!(location(&trip.callback), "/login?error=tenant_pending");
    assert_eq!(s.count("SELECT COUNT(*) FROM users").await, users_before);
    let staff = support::api::staff_session(&s.app).await;
    let approve =
        format!("/api/v1/provider/organisations/fabrikam/sso/tenants/{FABRIKAM_TENANT}/approve");
    // The customer's own admin cannot approve their link.
    let res = s.app.json("POST", &approve, Some(&admin), json!({})).await;
    assert_eq!(res.status, 403);
    let res = s.app.json("POST", &approve, Some(&staff), json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["tenants"][0]["pending_approval"], false);
    assert_eq!(
        s.last_audit("sso.tenant_approved").await["tid"],
        FABRIKAM_TENANT
    );

    // Alex can now sign in.
    assert!(session_cookie(&s.sign_in_as("alex", "/").await.callback).is_some());
}

#[tokio::test]
async fn a_guest_of_a_tenant_cannot_prove_it_for_admin_consent() {
    let s = sso().await;
    support::create_org(&s.app.db.db, "fabrikam").await;
    portal::sso::set_enabled(&s.app.db.db, Actor::CLI, "fabrikam", true)
        .await
        .unwrap();
    support::create_user(&s.app.db.db, "fabrikam", "it@fabrikam.example", "admin").await;
    let (_, admin) = s.app.login("it@fabrikam.example", PASSWORD).await;
    let admin = admin.unwrap();

    // Fabrikam's admin is a B2B guest in Contoso's tenant and tries to link Contoso's tenant
    // to Fabrikam: the consent redirect names Contoso, and the proof token does carry
    // Contoso's tid, but it comes from a guest.
    let res = s.app.get_with("/auth/microsoft/consent", &admin).await;
    let oidc = set_cookie(&res, "__Host-portal_oidc").unwrap();
    let forged_consent = format!(
        "{ORIGIN}/auth/microsoft/consent/callback?admin_consent=True&tenant={CONTOSO_TENANT}&state={}",
        param(&location(&res), "state").unwrap()
    );
    let proof_start = s.finish(&forged_consent, &oidc, Some(&admin)).await;
    assert_eq!(proof_start.status, 303, "{}", proof_start.text());
    let proof_oidc = set_cookie(&proof_start, "__Host-portal_oidc").unwrap();
    let back = s
        .submit_idp_form(
            &location(&proof_start),
            &[
                ("identity", "other"),
                ("other_tenant", CONTOSO_TENANT),
                ("other_name", "Fabrikam IT (guest)"),
                ("other_email", "it@fabrikam.example"),
                ("other_guest_of", FABRIKAM_TENANT),
            ],
        )
        .await;
    let res = s.finish(&back, &proof_oidc, Some(&admin)).await;
    assert_eq!(location(&res), "/sso?error=guest_account");
    assert_eq!(s.count("SELECT COUNT(*) FROM sso_tenants").await, 0);
    assert_eq!(
        s.last_audit("sso.consent_failed").await["reason"],
        "guest_account"
    );

    // A member of Contoso's tenant (not a guest) would be proof.
    let res = s.app.get_with("/auth/microsoft/consent", &admin).await;
    let oidc = set_cookie(&res, "__Host-portal_oidc").unwrap();
    let consent = format!(
        "{ORIGIN}/auth/microsoft/consent/callback?admin_consent=True&tenant={CONTOSO_TENANT}&state={}",
        param(&location(&res), "state").unwrap()
    );
    let proof_start = s.finish(&consent, &oidc, Some(&admin)).await;
    let proof_oidc = set_cookie(&proof_start, "__Host-portal_oidc").unwrap();
    let back = s
        .submit_idp_form(&location(&proof_start), &[("identity", "adele")])
        .await;
    let res = s.finish(&back, &proof_oidc, Some(&admin)).await;
    assert!(
        location(&res).starts_with("/sso?linked="),
        "{}",
        location(&res)
    );
}

#[tokio::test]
async fn consent_is_for_admins_of_a_customer_with_sso_enabled() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    support::create_user(&s.app.db.db, "contoso", "eng@contoso.example", "engineer").await;
    let (_, eng) = s.app.login("eng@contoso.example", PASSWORD).await;
    let res = s
        .app
        .get_with("/auth/microsoft/consent", &eng.unwrap())
        .await;
    assert_eq!(location(&res), "/sso?error=forbidden");
    let res = s.app.get("/auth/microsoft/consent").await;
    assert_eq!(location(&res), "/login?return_to=%2Fsso");
}
