//! What the portal accepts from the identity provider: every class of bad ID token is
//! refused (and creates nothing), and the signing keys follow the JWKS rules.

use serde_json::{json, Value};

use crate::harness::{linked_org, location, sso, CLIENT_ID};
use crate::support::session_cookie;
use portal::devidp::{TamperSigning, TokenTamper, CONTOSO_TENANT, FABRIKAM_TENANT};

#[tokio::test]
async fn every_bad_token_class_is_refused_and_creates_nothing() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    let authority = s.idp.config().base_url.clone();
    let other_issuer = format!("{authority}/{FABRIKAM_TENANT}/v2.0");
    type Edit = Box<dyn Fn(&mut Value, &mut Value) + Send + Sync>;
    let cases: Vec<(&str, TamperSigning, Edit, &str)> = vec![
        (
            "sts.windows.net issuer",
            TamperSigning::Rs256,
            Box::new(|_, c| c["iss"] = json!(format!("https://sts.windows.net/{CONTOSO_TENANT}/"))),
            "issuer",
        ),
        (
            "issuer with a trailing slash",
            TamperSigning::Rs256,
            Box::new(|_, c| {
                let i = c["iss"].as_str().unwrap().to_string();
                c["iss"] = json!(format!("{i}/"));
            }),
            "issuer",
        ),
        (
            "issuer of another tenant",
            TamperSigning::Rs256,
            Box::new(move |_, c| c["iss"] = json!(other_issuer.clone())),
            "issuer",
        ),
        (
            "tid not a GUID",
            TamperSigning::Rs256,
            Box::new(|_, c| c["tid"] = json!("contoso.onmicrosoft.com")),
            "tid_not_guid",
        ),
        (
            "ver 1.0",
            TamperSigning::Rs256,
            Box::new(|_, c| c["ver"] = json!("1.0")),
            "version",
        ),
        (
            "another audience",
            TamperSigning::Rs256,
            Box::new(|_, c| c["aud"] = json!("someone-else")),
            "audience",
        ),
        (
            "an extra audience",
            TamperSigning::Rs256,
            Box::new(|_, c| c["aud"] = json!([CLIENT_ID, "someone-else"])),
            "audience",
        ),
        (
            "expired",
            TamperSigning::Rs256,
            Box::new(|_, c| {
                let iat = c["iat"].as_i64().unwrap();
                c["exp"] = json!(iat - 3600);
            }),
            "expired",
        ),
        (
            "no iat",
            TamperSigning::Rs256,
            Box::new(|_, c| {
                c.as_object_mut().unwrap().remove("iat");
            }),
            "missing_claim",
        ),
        (
            "iat in the future",
            TamperSigning::Rs256,
            Box::new(|_, c| {
                let iat = c["iat"].as_i64().unwrap();
                c["iat"] = json!(iat + 3600);
                c["exp"] = json!(iat + 7200);
            }),
            "iat_future",
        ),
        (
            "nbf in the future",
            TamperSigning::Rs256,
            Box::new(|_, c| {
                let iat = c["iat"].as_i64().unwrap();
                c["nbf"] = json!(iat + 3600);
            }),
            "nbf_future",
        ),
        (
            "another nonce",
            TamperSigning::Rs256,
            Box::new(|_, c| c["nonce"] = json!("replayed-nonce")),
            "nonce",
        ),
        (
            "no oid",
            TamperSigning::Rs256,
            Box::new(|_, c| {
                c.as_object_mut().unwrap().remove("oid");
            }),
            "missing_claim",
        ),
        (
            "HS256 with the client secret",
            TamperSigning::Hs256WithClientSecret,
            Box::new(|_, _| {}),
            "algorithm",
        ),
        (
            "alg none",
            TamperSigning::Unsigned,
            Box::new(|_, _| {}),
            "algorithm",
        ),
        (
            "a key not in the JWKS",
            TamperSigning::ForeignKey,
            Box::new(|_, _| {}),
            "unknown_kid",
        ),
        (
            "a forged signature under a known kid",
            TamperSigning::ForeignKey,
            {
                let kid = s.idp.kid();
                Box::new(move |h, _| h["kid"] = json!(kid.clone()))
            },
            "signature",
        ),
        (
            "no id_token",
            TamperSigning::OmitIdToken,
            Box::new(|_, _| {}),
            "no_id_token",
        ),
    ];
    for (name, signing, edit, reason) in cases {
        s.idp.set_token_tamper(Some(TokenTamper { edit, signing }));
        let trip = s.sign_in_as("adele", "/").await;
        assert_eq!(
            trip.callback.status,
            303,
            "{name}: {}",
            trip.callback.text()
        );
        assert_eq!(
            location(&trip.callback),
            "/login?error=invalid_token",
            "{name}"
        );
        assert!(session_cookie(&trip.callback).is_none(), "{name}");
        assert_eq!(
            s.last_audit("auth.sso_failed").await["reason"],
            reason,
            "{name}"
        );
        assert_eq!(s.count("SELECT COUNT(*) FROM users").await, 0, "{name}");
        assert_eq!(s.count("SELECT COUNT(*) FROM sessions").await, 0, "{name}");
    }
    // And the untampered token still works: the refusals were the tampering.
    s.idp.set_token_tamper(None);
    assert!(session_cookie(&s.sign_in_as("adele", "/").await.callback).is_some());
}

#[tokio::test]
async fn the_signing_keys_follow_the_jwks_rules() {
    let s = sso().await;
    linked_org(&s, "contoso", CONTOSO_TENANT).await;
    // Unparseable and foreign key types in the JWKS are skipped, not fatal.
    s.idp.set_extra_jwks_keys(vec![
        json!({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "kid": "ec"}),
        json!({"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"}),
        json!("not even an object"),
    ]);
    assert!(session_cookie(&s.sign_in_as("adele", "/").await.callback).is_some());
    assert_eq!(s.idp.jwks_fetches(), 1);

    // A token without kid is tried against every signing key.
    s.tamper(TamperSigning::Rs256, |h, _| {
        h.as_object_mut().unwrap().remove("kid");
    });
    assert!(session_cookie(&s.sign_in_as("adele", "/").await.callback).is_some());

    // A key whose issuer property names another authority is refused.
    s.idp.set_token_tamper(None);
    s.idp.set_jwks_issuer(Some(
        "https://login.example.net/{tenantid}/v2.0".to_string(),
    ));
    s.idp.rotate_key().unwrap(); // a new kid forces a refetch that sees the new property
    let trip = s.sign_in_as("adele", "/").await;
    assert_eq!(location(&trip.callback), "/login?error=invalid_token");
    assert_eq!(
        s.last_audit("auth.sso_failed").await["reason"],
        "key_issuer"
    );
    s.idp.set_jwks_issuer(None);

    // A flood of unknown kids fetches the JWKS at most once a minute.
    s.app.clock.advance_secs(61);
    s.tamper(TamperSigning::ForeignKey, |_, _| {});
    let before = s.idp.jwks_fetches();
    for _ in 0..8 {
        let trip = s.sign_in_as("adele", "/").await;
        assert_eq!(location(&trip.callback), "/login?error=invalid_token");
    }
    assert_eq!(
        s.idp.jwks_fetches(),
        before + 1,
        "one refetch for the whole flood"
    );
    s.app.clock.advance_secs(61);
    s.sign_in_as("adele", "/").await;
    assert_eq!(s.idp.jwks_fetches(), before + 2, "one more a minute later");

    // Rotation: the new kid is fetched (the allowance is free again after a minute).
    s.idp.set_token_tamper(None);
    s.idp.rotate_key().unwrap();
    s.app.clock.advance_secs(61);
    assert!(session_cookie(&s.sign_in_as("adele", "/").await.callback).is_some());
}
