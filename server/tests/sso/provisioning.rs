//! Who becomes which user: identities keyed by tenant and object id (never by email),
//! provisioning without just-in-time users (only through an invitation, accepted from the
//! customer's own tenant), and a local user linking their Microsoft identity.

use serde_json::json;

use crate::harness::{linked_org, location, set_cookie, sso};
use crate::support::{self, session_cookie, PASSWORD};
use portal::devidp::{TamperSigning, CONTOSO_TENANT, FABRIKAM_TENANT};

#[tokio::test]
async fn users_are_keyed_by_tenant_and_object_id_never_by_email() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    linked_org(&s, "fabrikam", FABRIKAM_TENANT).await;
    // A local account at Contoso with a password.
    let local =
        support::create_user(&s.app.db.db, "contoso", "admin@contoso.example", "admin").await;

    // Someone in Fabrikam's tenant whose token carries that same email.
    let trip = s
        .sign_in_other(FABRIKAM_TENANT, "Mallory", "admin@contoso.example")
        .await;
    let me = s.me(&session_cookie(&trip.callback).unwrap()).await;
    assert_ne!(
        me["user"]["id"],
        json!(local.id),
        "nOAuth: an email never matches an account"
    );
    assert_eq!(me["organisation"]["slug"], "fabrikam");

    // The same oid in two tenants is two users.
    s.tamper(TamperSigning::Rs256, |_, c| {
        c["oid"] = json!("00000000-0000-0000-0000-00000000000a")
    });
    let a = s.sign_in_as("adele", "/").await;
    let b = s.sign_in_as("alex", "/").await;
    let me_a = s.me(&session_cookie(&a.callback).unwrap()).await;
    let me_b = s.me(&session_cookie(&b.callback).unwrap()).await;
    assert_ne!(me_a["user"]["id"], me_b["user"]["id"]);
    assert_eq!(me_a["organisation"]["slug"], "contoso");
    assert_eq!(me_b["organisation"]["slug"], "fabrikam");
}

#[tokio::test]
async fn without_just_in_time_provisioning_only_a_pending_invitation_lets_a_new_user_in() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    support::create_user(&s.app.db.db, "contoso", "boss@contoso.example", "admin").await;
    let (_, admin) = s.app.login("boss@contoso.example", PASSWORD).await;
    let admin = admin.unwrap();
    let res = s
        .app
        .json(
            "PUT",
            "/api/v1/organisation/sso",
            Some(&admin),
            json!({"jit_provisioning": false, "default_role": "engineer", "require_sso": false}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["jit_provisioning"], false);

    // Not invited: refused, nothing created.
    let users_before = s.count("SELECT COUNT(*) FROM users").await;
    let trip = s.sign_in_as("megan", "/").await;
    assert_eq!(
        location(&trip.callback),
        "/login?error=user_not_provisioned"
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM users").await, users_before);

    // Invited by address. Signing in with Microsoft is still refused: an invitation is never
    // matched by the address a token carries (any member of the tenant can carry any `email`).
    let before = support::outbox(&s.app).await.len();
    let res = s
        .app
        .json(
            "POST",
            "/api/v1/users/invitations",
            Some(&admin),
            json!({"email": "Megan.Bowen@contoso.example", "role": "engineer"}),
        )
        .await;
    assert!(res.status.is_success(), "{}", res.text());
    let invited_id = res.json()["user_id"].as_str().unwrap().to_string();
    let token = support::next_link_token(&s.app, before, "/invite/").await;
    let users_before = s.count("SELECT COUNT(*) FROM users").await;
    let trip = s.sign_in_as("megan", "/").await;
    assert_eq!(
        location(&trip.callback),
        "/login?error=user_not_provisioned"
    );
    let trip = s
        .sign_in_other(CONTOSO_TENANT, "Mallory", "megan.bowen@contoso.example")
        .await;
    assert_eq!(
        location(&trip.callback),
        "/login?error=user_not_provisioned"
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM users").await, users_before);

    // The invitation page offers "Accept with Microsoft"; its form binds the identity that
    // signs in to the invited account.
    let info = s
        .app
        .get(&format!("/api/v1/auth/invitations/{token}"))
        .await;
    assert_eq!(info.json()["microsoft"], true, "{}", info.text());
    let start = s.accept_invitation_with_microsoft(&token).await;
    assert_eq!(start.status, 303, "{}", start.text());
    let oidc = set_cookie(&start, "__Host-portal_oidc").unwrap();
    let back = s
        .submit_idp_form(&location(&start), &[("identity", "megan")])
        .await;
    let res = s.finish(&back, &oidc, None).await;
    assert_eq!(location(&res), "/");
    let me = s.me(&session_cookie(&res).expect("signed in")).await;
    assert_eq!(me["user"]["id"], json!(invited_id));
    assert_eq!(me["user"]["role"], "engineer");
    assert_eq!(me["user"]["auth_method"], "entra");
    assert_eq!(s.count("SELECT COUNT(*) FROM users").await, users_before);
    assert_eq!(
        s.count("SELECT COUNT(*) FROM user_tokens WHERE purpose = 'invite' AND used_at IS NULL")
            .await,
        0,
        "the invitation is used up"
    );
    // Megan signs in with one click from now on; the link does not work twice.
    let again = s.sign_in_as("megan", "/").await;
    assert_eq!(
        s.me(&session_cookie(&again.callback).unwrap()).await["user"]["id"],
        json!(invited_id)
    );
    let start = s.accept_invitation_with_microsoft(&token).await;
    assert_eq!(location(&start), "/login?error=invitation_invalid");
}

#[tokio::test]
async fn an_invitation_accepted_with_microsoft_must_come_from_the_customers_tenant() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    linked_org(&s, "fabrikam", FABRIKAM_TENANT).await;
    support::create_user(&s.app.db.db, "contoso", "boss@contoso.example", "admin").await;
    let admin = s
        .app
        .login("boss@contoso.example", PASSWORD)
        .await
        .1
        .unwrap();
    let before = support::outbox(&s.app).await.len();
    let res = s
        .app
        .json(
            "POST",
            "/api/v1/users/invitations",
            Some(&admin),
            json!({"email": "new@contoso.example", "role": "viewer"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let token = support::next_link_token(&s.app, before, "/invite/").await;
    // Someone of Fabrikam's (also linked) tenant holding the link: refused, the link unused.
    let start = s.accept_invitation_with_microsoft(&token).await;
    let oidc = set_cookie(&start, "__Host-portal_oidc").unwrap();
    let back = s
        .submit_idp_form(&location(&start), &[("identity", "alex")])
        .await;
    let res = s.finish(&back, &oidc, None).await;
    assert_eq!(location(&res), "/login?error=wrong_tenant");
    assert_eq!(
        s.count("SELECT COUNT(*) FROM user_tokens WHERE purpose = 'invite' AND used_at IS NULL")
            .await,
        1
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM user_identities").await, 0);
    // A made-up link starts nothing.
    let start = s.accept_invitation_with_microsoft("made-up").await;
    assert_eq!(location(&start), "/login?error=invitation_invalid");
}

#[tokio::test]
async fn a_local_user_links_their_microsoft_identity_on_the_security_page() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    let local =
        support::create_user(&s.app.db.db, "contoso", "lee@contoso.example", "engineer").await;
    let (_, cookie) = s.app.login("lee@contoso.example", PASSWORD).await;
    let cookie = cookie.unwrap();
    let ids = s
        .app
        .get_with("/api/v1/me/identities", &cookie)
        .await
        .json();
    assert_eq!(ids["can_link"], true);
    assert_eq!(ids["identities"], json!([]));

    // An identity of a tenant that is not the user's customer's: refused.
    let trip = s
        .trip(
            "/auth/microsoft/link",
            Some(&cookie),
            &[("identity", "alex")],
        )
        .await;
    assert_eq!(location(&trip.callback), "/security?error=wrong_tenant");

    let trip = s
        .trip(
            "/auth/microsoft/link",
            Some(&cookie),
            &[("identity", "lee")],
        )
        .await;
    assert_eq!(location(&trip.callback), "/security?linked=microsoft");
    let ids = s
        .app
        .get_with("/api/v1/me/identities", &cookie)
        .await
        .json();
    assert_eq!(ids["identities"][0]["tenant_id"], CONTOSO_TENANT);

    // Signing in with Microsoft is now that same user.
    let me = s
        .me(&session_cookie(&s.sign_in_as("lee", "/").await.callback).unwrap())
        .await;
    assert_eq!(me["user"]["id"], json!(local.id));
    assert_eq!(me["user"]["auth_method"], "entra");

    // Another local user cannot take the same identity.
    support::create_user(&s.app.db.db, "contoso", "other@contoso.example", "viewer").await;
    let (_, other) = s.app.login("other@contoso.example", PASSWORD).await;
    let trip = s
        .trip(
            "/auth/microsoft/link",
            other.as_deref(),
            &[("identity", "lee")],
        )
        .await;
    assert_eq!(location(&trip.callback), "/security?error=identity_taken");

    // Linking needs a signed-in session.
    let res = s.app.get("/auth/microsoft/link").await;
    assert_eq!(location(&res), "/login?return_to=%2Fsecurity");
}
