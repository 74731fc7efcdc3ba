//! Admin consent: the consent page, and the redirect that names the admin's tenant (only an
//! admin of the tenant the path names may accept).

use super::*;

#[tokio::test]
async fn admin_consent_returns_the_admins_tenant() {
    let idp = new_idp();
    let router = idp.router();
    let params = [
        ("client_id", CLIENT_ID),
        ("scope", "openid profile email"),
        ("redirect_uri", CONSENT_REDIRECT),
        ("state", "consent-state"),
    ];

    let page = get(
        &router,
        &format!("/organizations/v2.0/adminconsent?{}", encode(&params)),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Permissions requested"));
    assert!(page.body.contains("Voice Customer Portal"));
    assert!(page.body.contains(">Accept</button>"));
    assert!(page.body.contains(">Cancel</button>"));
    assert!(page.body.contains("value=\"adele\""));
    assert!(page.body.contains("value=\"alex\""));
    assert!(!page.body.contains("value=\"megan\""), "not an admin");
    assert!(page
        .header(header::CONTENT_SECURITY_POLICY)
        .contains("frame-ancestors 'none'"));

    let mut accept = params.to_vec();
    accept.extend([("identity", "alex"), ("action", "accept")]);
    let reply = post_form(&router, "/organizations/v2.0/adminconsent", &accept, None).await;
    assert!(reply.header(header::LOCATION).starts_with(CONSENT_REDIRECT));
    let query = reply.location_query();
    assert_eq!(query_value(&query, "admin_consent"), Some("True"));
    assert_eq!(query_value(&query, "tenant"), Some(FABRIKAM_TENANT));
    assert_eq!(query_value(&query, "state"), Some("consent-state"));
    assert_eq!(query_value(&query, "scope"), Some("openid profile email"));

    let mut cancel = params.to_vec();
    cancel.extend([("identity", "adele"), ("action", "cancel")]);
    let reply = post_form(&router, "/organizations/v2.0/adminconsent", &cancel, None).await;
    let query = reply.location_query();
    assert_eq!(query_value(&query, "error"), Some("access_denied"));
    assert_eq!(query_value(&query, "tenant"), None);
    assert_eq!(query_value(&query, "state"), Some("consent-state"));

    // Through a tenant path, only that tenant's admins may accept.
    let reply = post_form(
        &router,
        &format!("/{CONTOSO_TENANT}/v2.0/adminconsent"),
        &accept,
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.headers.get(header::LOCATION).is_none());

    let bad = [
        ("client_id", CLIENT_ID),
        ("scope", "openid"),
        ("redirect_uri", "https://evil.example/consent"),
        ("state", "s"),
    ];
    let reply = get(
        &router,
        &format!("/organizations/v2.0/adminconsent?{}", encode(&bad)),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.headers.get(header::LOCATION).is_none());
    assert!(reply.body.contains("AADSTS50011"));
}
