//! Voice objects for tests: customers with their trunks, services, numbers, emergency
//! addresses and call records stored the way the portal stores them (the domain functions,
//! the CDR import, the API).

use axum::{body::Body, http::Request};
use serde_json::{json, Value};

use portal::{
    accounts::Actor,
    voice::{
        cdr::{Format, HEADER},
        ingest::{import, ImportOptions},
        services::{create_service, NewService, ServiceKind},
    },
};

use super::{api::sign_in, create_org, create_user, TestApp, TestResponse};

/// A customer as most API tests need one: its organisation, its signed-in admin and its
/// SIP trunks.
pub struct Customer {
    /// The organisation's id.
    pub org_id: String,
    /// The session cookie of its admin `admin@{slug}.example`.
    pub cookie: String,
    /// The first trunk's id (`trunks[0]`): most tests need only one.
    pub trunk: String,
    /// The trunks' ids, in the order they were asked for.
    pub trunks: Vec<String>,
}

/// Creates customer `slug`: the organisation, its admin `admin@{slug}.example` (password
/// [`super::PASSWORD`]), a SIP trunk in Great Britain for each `(name, channels)` of
/// `trunks` (at least one), and a session of the admin.
pub async fn customer(app: &TestApp, slug: &str, trunks: &[(&str, i64)]) -> Customer {
    let org_id = create_org(&app.db.db, slug).await;
    let email = format!("admin@{slug}.example");
    create_user(&app.db.db, slug, &email, "admin").await;
    let mut ids = Vec::new();
    for (name, channels) in trunks {
        ids.push(create_trunk(app, slug, name, *channels).await);
    }
    let cookie = sign_in(app, &email).await;
    Customer {
        org_id,
        cookie,
        trunk: ids[0].clone(),
        trunks: ids,
    }
}

/// A customer whose admin, engineer and viewer are all signed in.
pub struct CustomerWithRoles {
    /// The organisation's id.
    pub org_id: String,
    /// Its SIP trunk `Trunk A`.
    pub trunk: String,
    /// The session cookie of `admin@{slug}.example`.
    pub admin: String,
    /// The session cookie of `engineer@{slug}.example`.
    pub engineer: String,
    /// The session cookie of `viewer@{slug}.example`.
    pub viewer: String,
}

/// Creates customer `slug` with a 30-channel SIP trunk `Trunk A` and a signed-in user of
/// each role, `{role}@{slug}.example` (password [`super::PASSWORD`]).
pub async fn customer_with_roles(app: &TestApp, slug: &str) -> CustomerWithRoles {
    let org_id = create_org(&app.db.db, slug).await;
    let trunk = create_trunk(app, slug, "Trunk A", 30).await;
    let mut cookies = Vec::new();
    for role in ["admin", "engineer", "viewer"] {
        let email = format!("{role}@{slug}.example");
        create_user(&app.db.db, slug, &email, role).await;
        cookies.push(sign_in(app, &email).await);
    }
    let viewer = cookies.pop().unwrap();
    let engineer = cookies.pop().unwrap();
    let admin = cookies.pop().unwrap();
    CustomerWithRoles {
        org_id,
        trunk,
        admin,
        engineer,
        viewer,
    }
}

/// Creates a SIP trunk in Great Britain with `channels` channels; returns its id.
pub async fn create_trunk(app: &TestApp, org_slug: &str, name: &str, channels: i64) -> String {
    create_service(
        &app.db.db,
        Actor::CLI,
        NewService {
            org_slug,
            kind: ServiceKind::SipTrunk,
            name,
            country: "gb",
            channels,
        },
    )
    .await
    .unwrap()
    .id
}

/// Stores a geographic number directly (there is no API to create one).
pub async fn insert_number(app: &TestApp, org_id: &str, e164: &str, country: &str, status: &str) {
    sqlx::query(
        "INSERT INTO numbers (e164, org_id, number_type, country, status, created_at, updated_at) \
         VALUES ($1, $2, 'geographic', $3, $4, 1000, 1000)",
    )
    .bind(e164)
    .bind(org_id)
    .bind(country)
    .bind(status)
    .execute(app.db.db.pool())
    .await
    .unwrap();
}

/// `/api/v1/numbers/{e164}` with the `+` percent-encoded.
pub fn number_path(e164: &str) -> String {
    format!("/api/v1/numbers/{}", e164.replace('+', "%2B"))
}

/// A valid emergency-address request body labelled `label`.
pub fn address_body(label: &str) -> Value {
    json!({
        "label": label,
        "street": "Baker Street",
        "house_number": "221b",
        "postal_code": "NW1 6XE",
        "city": "London",
        "country": "gb",
    })
}

/// Creates an emergency address through the API as the engineer or admin behind `cookie`;
/// returns its id.
pub async fn create_address(app: &TestApp, cookie: &str, label: &str) -> String {
    let res = app
        .json(
            "POST",
            "/api/v1/emergency-addresses",
            Some(cookie),
            address_body(label),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()["id"].as_str().unwrap().to_string()
}

/// A CDR CSV file: the exchange format's header, then `rows`, each line ended by `\n`.
pub fn cdr_csv(rows: &[String]) -> Vec<u8> {
    let mut s = HEADER.join(",");
    for r in rows {
        s.push('\n');
        s.push_str(r);
    }
    s.push('\n');
    s.into_bytes()
}

/// Stores CSV call-record rows for an organisation through the import (the path the API
/// and the CLI take, rollups included); panics unless every row is stored.
pub async fn ingest_rows(app: &TestApp, org_id: &str, rows: &[String]) {
    let body = cdr_csv(rows);
    let report = import(
        &app.db.db,
        Actor::CLI,
        org_id,
        Format::Csv,
        std::io::Cursor::new(body),
        &ImportOptions::default(),
        |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(report.refused, 0, "{report:?}");
    assert_eq!(report.stored as usize, rows.len(), "{report:?}");
}

/// `POST /api/v1/ingest/calls` as a script sends it: the Bearer token, the body's
/// `Content-Type`, no cookie, no `Origin`.
pub async fn post_calls(
    app: &TestApp,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> TestResponse {
    app.send(
        Request::post("/api/v1/ingest/calls")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}
