//! `GET /api/v1/provider/organisations` over the real router: the staff console's customer
//! search (by name, slug or linked tenant id, any case, wildcards taken literally), its
//! keyset pages (in order, without gaps or repeats, also between customers of the same
//! name), the match count, the refusals naming the parameter, and that only staff may ask.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::Value;

use portal::accounts::{self, Actor};
use support::{api::sign_in, create_user, enable_sso_with_tenant, TestApp, TestResponse};

const FABRIKAM_TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const LIST: &str = "/api/v1/provider/organisations";

async fn org(app: &TestApp, name: &str, slug: &str) {
    accounts::create_org(&app.db.db, Actor::CLI, name, slug)
        .await
        .unwrap();
}

/// A staff member's session cookie.
async fn staff(app: &TestApp) -> String {
    support::api::staff_session(app).await
}

/// The answer's slugs, in order (asserting a 200).
fn slugs(res: &TestResponse) -> Vec<String> {
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["organisations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].as_str().unwrap().to_string())
        .collect()
}

/// The customer `slug` in an answer.
fn find<'a>(body: &'a Value, slug: &str) -> &'a Value {
    body["organisations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["slug"] == slug)
        .unwrap_or_else(|| panic!("{slug} is not in {body}"))
}

/// Five customers: one with SSO on and a tenant, one with two users, and names holding the
/// `LIKE` wildcards.
async fn customers(app: &TestApp) {
    org(app, "Contoso Ltd", "contoso").await;
    org(app, "Fabrikam", "fabrikam").await;
    org(app, "Northwind 50% Off", "northwind").await;
    org(app, "Adatum", "adatum").await;
    org(app, "Woodgrove_Bank", "woodgrove").await;
    enable_sso_with_tenant(&app.db.db, "fabrikam", FABRIKAM_TENANT).await;
    create_user(&app.db.db, "contoso", "a@contoso.example", "admin").await;
    create_user(&app.db.db, "contoso", "b@contoso.example", "viewer").await;
}

#[tokio::test]
async fn staff_find_customers_by_name_slug_or_tenant_in_any_case() {
    let app = TestApp::new().await;
    customers(&app).await;
    let staff = staff(&app).await;

    // Without a search: everyone, by name, on one page, with their SSO state and users.
    let all = app.get_with(LIST, &staff).await;
    assert_eq!(
        slugs(&all),
        ["adatum", "contoso", "fabrikam", "northwind", "woodgrove"]
    );
    let body = all.json();
    assert_eq!(body["total"], 5);
    assert!(body.get("next_cursor").is_none(), "{body}");
    assert_eq!(find(&body, "contoso")["users"], 2);
    assert_eq!(find(&body, "fabrikam")["sso"]["enabled"], true);
    assert_eq!(
        find(&body, "fabrikam")["sso"]["tenants"][0]["tenant_id"],
        FABRIKAM_TENANT
    );
    assert_eq!(find(&body, "adatum")["sso"]["enabled"], false);

    for (q, expected) in [
        // Name, any case; slug; surrounding spaces ignored.
        ("CONTOSO%20l", vec!["contoso"]),
        ("brik", vec!["fabrikam"]),
        ("%20%20adatum%20", vec!["adatum"]),
        // A linked tenant's id, whole (upper case) or in part.
        ("72F988BF-86F1-41AF-91AB-2D7CD011DB47", vec!["fabrikam"]),
        ("2d7cd011", vec!["fabrikam"]),
        // `%` and `_` are characters to find, not wildcards.
        ("%25", vec!["northwind"]),
        ("_", vec!["woodgrove"]),
        ("o", vec!["contoso", "northwind", "woodgrove"]),
        ("nobody", vec![]),
    ] {
        let res = app.get_with(&format!("{LIST}?q={q}"), &staff).await;
        assert_eq!(slugs(&res), expected, "q={q}");
        assert_eq!(res.json()["total"], expected.len(), "q={q}");
    }
    // An empty search is no search.
    assert_eq!(
        slugs(&app.get_with(&format!("{LIST}?q="), &staff).await).len(),
        5
    );
}

#[tokio::test]
async fn pages_follow_each_other_in_order_without_gaps_or_repeats() {
    let app = TestApp::new().await;
    customers(&app).await;
    // Customers with the same name are told apart by their slug.
    for slug in ["same-c", "same-a", "same-b"] {
        org(&app, "Same Name", slug).await;
    }
    let staff = staff(&app).await;
    let everyone = slugs(&app.get_with(LIST, &staff).await);
    assert_eq!(everyone.len(), 8);

    for (q, limit, expected) in [
        ("", 3, everyone.clone()),
        ("", 1, everyone.clone()),
        (
            "same",
            2,
            vec!["same-a".into(), "same-b".into(), "same-c".into()],
        ),
    ] {
        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut path = format!("{LIST}?q={q}&limit={limit}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let res = app.get_with(&path, &staff).await;
            let page = slugs(&res);
            assert!(page.len() <= limit, "{path}");
            let body = res.json();
            assert_eq!(body["total"], expected.len(), "{path}");
            seen.extend(page);
            pages += 1;
            match body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
            assert!(pages <= expected.len(), "the pages never end: {path}");
        }
        assert_eq!(seen, expected, "q={q} limit={limit}");
        assert_eq!(pages, expected.len().div_ceil(limit), "q={q} limit={limit}");
    }
}

#[tokio::test]
async fn bad_search_parameters_are_refused_naming_the_parameter() {
    let app = TestApp::new().await;
    customers(&app).await;
    let staff = staff(&app).await;
    let long = "x".repeat(201);
    for (query, field) in [
        ("limit=0".to_string(), "limit"),
        ("limit=501".to_string(), "limit"),
        ("cursor=not-a-cursor".to_string(), "cursor"),
        (format!("q={long}"), "q"),
    ] {
        let res = app.get_with(&format!("{LIST}?{query}"), &staff).await;
        assert_eq!(res.status, 422, "{query}: {}", res.text());
        let body = res.json();
        assert_eq!(body["error"]["code"], "invalid_field", "{query}");
        assert_eq!(body["error"]["field"], field, "{query}");
        assert!(
            body["error"]["message"].as_str().unwrap().ends_with('.'),
            "{body}"
        );
    }
    // 200 characters are fine.
    let res = app
        .get_with(&format!("{LIST}?q={}", "x".repeat(200)), &staff)
        .await;
    assert_eq!(slugs(&res), Vec::<String>::new());
    let res = app.get_with(&format!("{LIST}?limit=many"), &staff).await;
    assert_eq!(res.status, 422);
    assert_eq!(res.json()["error"]["code"], "invalid_query");
}

#[tokio::test]
async fn only_staff_may_search_customers() {
    let app = TestApp::new().await;
    customers(&app).await;
    let admin = sign_in(&app, "a@contoso.example").await;
    let res = app.get_with(&format!("{LIST}?q=fabrikam"), &admin).await;
    assert_eq!(res.status, 403);
    assert_eq!(res.json()["error"]["code"], "forbidden");
    let res = app.get(&format!("{LIST}?q=fabrikam")).await;
    assert_eq!(res.status, 401);
    assert_eq!(res.json()["error"]["code"], "unauthenticated");
}

#[tokio::test]
async fn staff_read_one_customer_by_slug_for_the_switcher() {
    let app = TestApp::new().await;
    customers(&app).await;
    let cookie = staff(&app).await;

    let res = app.get_with(&format!("{LIST}/fabrikam"), &cookie).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let body = res.json();
    assert_eq!(body["name"], "Fabrikam");
    assert_eq!(body["sso"]["enabled"], true);
    assert_eq!(body["sso"]["tenants"][0]["tenant_id"], FABRIKAM_TENANT);
    assert_eq!(
        app.get_with(&format!("{LIST}/contoso"), &cookie)
            .await
            .json()["users"],
        2
    );

    // The same customer as the search shows it.
    let listed = app
        .get_with(&format!("{LIST}?q=fabrikam"), &cookie)
        .await
        .json();
    assert_eq!(find(&listed, "fabrikam"), &body);

    let res = app
        .get_with(&format!("{LIST}/no-such-customer"), &cookie)
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(res.json()["error"]["code"], "not_found");

    // Customers are refused, whether they ask for their own organisation or another.
    let admin = sign_in(&app, "a@contoso.example").await;
    for slug in ["contoso", "fabrikam"] {
        let res = app.get_with(&format!("{LIST}/{slug}"), &admin).await;
        assert_eq!(res.status, 403, "{slug}: {}", res.text());
    }
    assert_eq!(app.get(&format!("{LIST}/fabrikam")).await.status, 401);
}

#[tokio::test]
async fn staff_set_a_customers_mfa_evidence_policy_and_nobody_else_can() {
    let app = TestApp::new().await;
    org(&app, "Contoso", "contoso").await;
    let path = "/api/v1/provider/organisations/contoso/sso/mfa-evidence";
    let cookie = staff(&app).await;

    let res = app
        .json(
            "PUT",
            path,
            Some(&cookie),
            serde_json::json!({"mfa_evidence": "required", "auth_context": "c2"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["mfa_evidence"], "required");
    assert_eq!(res.json()["auth_context"], "c2");
    let one = app
        .get_with("/api/v1/provider/organisations/contoso", &cookie)
        .await
        .json();
    assert_eq!(one["sso"]["mfa_evidence"], "required");

    // Bad values: 422 naming the field, nothing changed.
    for (body, field) in [
        (
            serde_json::json!({"mfa_evidence": "strict"}),
            "mfa_evidence",
        ),
        (
            serde_json::json!({"mfa_evidence": "off", "auth_context": "c1x"}),
            "auth_context",
        ),
    ] {
        let res = app.json("PUT", path, Some(&cookie), body).await;
        assert_eq!(res.status, 422, "{}", res.text());
        assert_eq!(res.json()["error"]["field"], field);
    }
    let res = app
        .json(
            "PUT",
            "/api/v1/provider/organisations/nobody/sso/mfa-evidence",
            Some(&cookie),
            serde_json::json!({"mfa_evidence": "off"}),
        )
        .await;
    assert_eq!(res.status, 404);

    // A customer's own admin uses the Single sign-on page's API, not the console's.
    create_user(&app.db.db, "contoso", "boss@contoso.example", "admin").await;
    let admin = sign_in(&app, "boss@contoso.example").await;
    let res = app
        .json(
            "PUT",
            path,
            Some(&admin),
            serde_json::json!({"mfa_evidence": "off"}),
        )
        .await;
    assert_eq!(res.status, 403);
    let one = app
        .get_with("/api/v1/provider/organisations/contoso", &cookie)
        .await
        .json();
    assert_eq!(one["sso"]["mfa_evidence"], "required");
    assert_eq!(one["sso"]["auth_context"], "c2");
}
