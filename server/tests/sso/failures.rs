//! When things go wrong around a sign-in: the identity provider down, slow or naming another
//! issuer; cancelled, forged, crossed and expired callbacks; floods of starts and made-up
//! callbacks; and the cap on flows in flight. Each ends on a clear page, never a 500.

use std::time::Duration;

use crate::harness::{linked_org, location, set_cookie, sso, sso_with};
use crate::support::{session_cookie, ORIGIN};
use portal::devidp::{Failure, CONTOSO_TENANT};

#[tokio::test]
async fn identity_provider_errors_end_on_clear_pages_never_a_500() {
    // Down before the flow starts: discovery fails, a 502 page.
    let s = sso_with("1").await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    s.idp.set_failure(Some(Failure::ServerError));
    let res = s.app.get("/auth/microsoft/login").await;
    assert_eq!(res.status, 502);
    assert!(res.text().contains("Microsoft Entra ID is not answering"));
    assert!(res.header("content-type").unwrap().starts_with("text/html"));

    // Slow: the call times out (1 s here; 10 s by default), a 502 page.
    s.idp
        .set_failure(Some(Failure::Slow(Duration::from_secs(3))));
    let started = std::time::Instant::now();
    let res = s.app.get("/auth/microsoft/login").await;
    assert_eq!(res.status, 502);
    assert!(started.elapsed() < Duration::from_secs(3));

    // Down between the redirect and the code exchange.
    s.idp.set_failure(None);
    let res = s.app.get("/auth/microsoft/login").await;
    let oidc = set_cookie(&res, "__Host-portal_oidc").unwrap();
    let callback = s
        .submit_idp_form(&location(&res), &[("identity", "adele")])
        .await;
    s.idp.set_failure(Some(Failure::ServerError));
    let res = s.finish(&callback, &oidc, None).await;
    assert_eq!(res.status, 502);
    s.idp.set_failure(None);

    // The user cancels at the identity provider: error=access_denied.
    let res = s
        .app
        .get("/auth/microsoft/login?return_to=%2Fnumbers")
        .await;
    let oidc = set_cookie(&res, "__Host-portal_oidc").unwrap();
    let callback = s
        .submit_idp_form(&location(&res), &[("action", "cancel")])
        .await;
    assert!(callback.contains("error=access_denied"), "{callback}");
    let res = s.finish(&callback, &oidc, None).await;
    assert_eq!(
        location(&res),
        "/login?error=access_denied&return_to=/numbers"
    );
    assert_eq!(
        s.last_audit("auth.sso_failed").await["reason"],
        "access_denied"
    );

    // A callback without the transaction cookie (another browser): refused.
    let res = s.app.get("/auth/microsoft/login").await;
    let callback = s
        .submit_idp_form(&location(&res), &[("identity", "adele")])
        .await;
    let res = s.app.get(callback.strip_prefix(ORIGIN).unwrap()).await;
    assert_eq!(location(&res), "/login?error=expired");
    // With the cookie of one flow and the state of another: refused.
    let a = s.app.get("/auth/microsoft/login").await;
    let b = s.app.get("/auth/microsoft/login").await;
    let callback_b = s
        .submit_idp_form(&location(&b), &[("identity", "adele")])
        .await;
    let res = s
        .finish(
            &callback_b,
            &set_cookie(&a, "__Host-portal_oidc").unwrap(),
            None,
        )
        .await;
    assert_eq!(location(&res), "/login?error=state_mismatch");
    // An expired transaction.
    let res = s.app.get("/auth/microsoft/login").await;
    let oidc = set_cookie(&res, "__Host-portal_oidc").unwrap();
    let callback = s
        .submit_idp_form(&location(&res), &[("identity", "adele")])
        .await;
    s.app.clock.advance_secs(601);
    assert_eq!(
        location(&s.finish(&callback, &oidc, None).await),
        "/login?error=expired"
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM sessions").await, 0);
}

#[tokio::test]
async fn discovery_metadata_naming_another_issuer_is_refused() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    s.idp.set_metadata_issuer(Some(
        "https://login.evil.example/{tenantid}/v2.0".to_string(),
    ));
    let res = s.app.get("/auth/microsoft/login").await;
    assert_eq!(res.status, 502, "{}", res.text());
    assert!(res.text().contains("Microsoft Entra ID is not answering"));
    assert_eq!(s.count("SELECT COUNT(*) FROM oidc_transactions").await, 0);
    // The configured authority's own issuer again: sign-in works.
    s.idp.set_metadata_issuer(None);
    let trip = s.sign_in_as("adele", "/").await;
    assert!(session_cookie(&trip.callback).is_some());
}

#[tokio::test]
async fn floods_of_starts_and_made_up_callbacks_are_cut_off() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    // Made-up callbacks (no transaction, or a wrong state) from one client: 20, then 429.
    let mut statuses = Vec::new();
    for i in 0..30 {
        let path = if i % 2 == 0 {
            "/auth/microsoft/callback?code=x&state=forged".to_string()
        } else {
            format!("/auth/microsoft/consent/callback?admin_consent=True&tenant={CONTOSO_TENANT}&state=forged")
        };
        statuses.push(s.app.get(&path).await.status.as_u16());
    }
    assert!(statuses[..20].iter().all(|c| *c == 303), "{statuses:?}");
    assert!(statuses[20..].iter().all(|c| *c == 429), "{statuses:?}");
    let res = s.app.get("/auth/microsoft/callback?code=x&state=y").await;
    assert!(res.header("retry-after").is_some());
    assert!(
        res.text().contains("Too many sign-in attempts"),
        "{}",
        res.text()
    );

    // Starts from one client: each stores a transaction, so after 200 they are refused.
    for i in 0..200 {
        let res = s.app.get("/auth/microsoft/login").await;
        assert_eq!(res.status, 303, "start {i}: {}", res.text());
    }
    let res = s.app.get("/auth/microsoft/login").await;
    assert_eq!(res.status, 429);
    assert_eq!(s.count("SELECT COUNT(*) FROM oidc_transactions").await, 200);
}

#[tokio::test]
async fn the_flows_in_flight_are_capped() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    // Fill the table to its cap (as many clients would), then one more start waits.
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) \
         INSERT INTO oidc_transactions (cookie_hash, purpose, state, nonce, pkce_verifier, created_at, expires_at) \
         SELECT 'filler' || i, 'login', 's', 'n', 'v', 0, 9000000000000 FROM n",
    )
    .execute(s.app.db.db.pool())
    .await
    .unwrap();
    let res = s.app.get("/auth/microsoft/login").await;
    assert_eq!(res.status, 503, "{}", res.text());
    assert!(res.header("retry-after").is_some());
    // Expired transactions do not count.
    sqlx::query("UPDATE oidc_transactions SET expires_at = 1 WHERE cookie_hash LIKE 'filler%'")
        .execute(s.app.db.db.pool())
        .await
        .unwrap();
    assert_eq!(s.app.get("/auth/microsoft/login").await.status, 303);
}
