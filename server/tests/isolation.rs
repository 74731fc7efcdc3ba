//! Issue 5, systematically: for every organisation-scoped route under `/api/v1`, a user of
//! customer A gets 404 (never 403, never 200) for customer B's objects, B's objects are
//! unchanged afterwards, and no list, export or analytics answer A receives contains any of
//! B's identifiers — through the session and through A's API token where the route takes
//! tokens. Carrier staff acting with `?org=B` do see B's objects, and A sees its own through
//! the same routes: the controls proving that each probe can fail.
//!
//! Both customers hold the full set of objects: services, numbers (one assigned to a service
//! and an emergency address), emergency addresses, calls with their rollups (through the
//! import, with one carrier call id used by both), API tokens, users, a pending invitation, a
//! porting order, an incident about one of their services, a linked SSO tenant, sessions and
//! the audit entries all of that wrote. B's identifiers are distinct strings (ids, names,
//! numbers), so a leak shows up as a substring of a raw response body.
//!
//! Beyond the table: ids of B's objects inside A's own requests (a number's service or
//! address, a porting order's service, list and export filters, an ingested row's service)
//! get exactly the answer a missing id gets; creating with `?org=B` is 404; A's token on a
//! route tokens never use (user and token management, `/me`, the audit log, SSO settings)
//! is refused without being served; the staff-only provider console refuses A.
//!
//! Every probe runs and every failure is collected before the test fails, so one run names
//! each route that leaked (method, route, caller, status and what was found).

// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{json, Value};
use sqlx::Row;

use portal::accounts::Actor;
use support::{
    api::{bearer, create_api_token, sign_in, staff_session},
    create_org, create_user,
    voice::{
        address_body, cdr_csv, create_address, create_trunk, ingest_rows, insert_number,
        number_path, post_calls,
    },
    TestApp, TestResponse,
};

/// The day every call of the test falls on, as query parameters.
const DAY: &str = "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z";

/// 2026-03-01T00:00:00Z in milliseconds.
const BASE_MS: i64 = 1_772_323_200_000;

/// What one customer holds, and every identifier of it that another customer must never see.
struct Customer {
    slug: &'static str,
    org_id: String,
    /// The admin's session cookie.
    admin: String,
    /// A second session of the same admin (a session that may be ended).
    admin_second_session_id: String,
    admin_id: String,
    viewer_id: String,
    /// An engineer the probes may deactivate.
    spare_user_id: String,
    /// Secrets of a `read_write` and an `ingest` token.
    rw_token: String,
    ingest_token: String,
    /// A token the probes may revoke.
    spare_token_id: String,
    trunk: String,
    trunk_name: String,
    /// A number assigned to the trunk and the address.
    number: String,
    address: String,
    /// An address no number uses (one that may be deleted).
    spare_address: String,
    /// A call id only this customer has.
    call: String,
    port_order: String,
    incident: String,
    /// The Entra tenant linked to it.
    tenant: String,
    /// Everything of this customer a response may only show to this customer (and staff).
    needles: Vec<String>,
}

/// One call-record row on 2026-03-01 at `hour`, from `from` to a German number.
fn cdr_row(id: &str, service: &str, hour: u32, from: &str) -> String {
    format!(
        "{id},{service},2026-03-01T{hour:02}:00:00Z,2026-03-01T{hour:02}:00:05Z,2026-03-01T{hour:02}:02:05Z,\
         outbound,{from},+4930901820,answered,200,OK,4.3,,,DE"
    )
}

/// Creates customer `slug` (display name `name`) with the full set of objects. `digit`
/// makes its numbers its own; `tenant` is the Entra tenant linked to it.
async fn customer(
    app: &TestApp,
    slug: &'static str,
    name: &str,
    digit: u8,
    tenant: &str,
) -> Customer {
    let db = &app.db.db;
    let org_id = create_org(db, slug).await;
    let admin_email = format!("admin@{slug}.example");
    let admin_id = create_user(db, slug, &admin_email, "admin").await.id;
    let viewer_id = create_user(db, slug, &format!("viewer@{slug}.example"), "viewer")
        .await
        .id;
    let spare_user_id = create_user(db, slug, &format!("spare@{slug}.example"), "engineer")
        .await
        .id;
    let admin = sign_in(app, &admin_email).await;
    let second = sign_in(app, &admin_email).await;
    let sessions = app.get_with("/api/v1/me/sessions", &admin).await;
    assert_eq!(sessions.status, 200, "{}", sessions.text());
    let session_ids: Vec<String> = sessions.json()["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(session_ids.len(), 2, "{}", sessions.text());
    // The probes use `admin`; the session they may end is `second`, the one that
    // `second` itself reports as current.
    let current = app.get_with("/api/v1/me/sessions", &second).await.json();
    let admin_second_session_id = current["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .map(|s| s["id"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no current session in {current}"));

    let trunk_name = format!("{name} Trunk");
    let teams_name = format!("{name} Teams");
    let trunk = create_trunk(app, slug, &trunk_name, 30).await;
    let teams = create_trunk(app, slug, &teams_name, 10).await;

    let number = format!("+44113496{digit}01");
    let second_number = format!("+33140000{digit}02");
    insert_number(app, &org_id, &number, "GB", "active").await;
    insert_number(app, &org_id, &second_number, "FR", "active").await;
    let address = create_address(app, &admin, &format!("{name} HQ")).await;
    let spare_address = create_address(app, &admin, &format!("{name} Depot")).await;
    let res = app
        .json(
            "PATCH",
            &number_path(&number),
            Some(&admin),
            json!({"service_id": trunk, "emergency_address_id": address, "assignment": format!("{slug}-reception")}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());

    let call = format!("{slug}-call-1");
    ingest_rows(
        app,
        &org_id,
        &[
            cdr_row(&call, &trunk_name, 9, &number),
            cdr_row(&format!("{slug}-call-2"), &teams_name, 10, &number),
            // Both customers use this carrier call id (DESIGN: ids are unique per customer).
            cdr_row("shared-call-id", &trunk_name, 11, &number),
        ],
    )
    .await;

    let rw = create_api_token(app, &admin, &format!("{name} scripts"), "read_write", 30).await;
    let ingest = create_api_token(app, &admin, &format!("{name} feed"), "ingest", 30).await;
    let spare = create_api_token(app, &admin, &format!("{name} old"), "read", 30).await;

    let res = app
        .json(
            "POST",
            "/api/v1/users/invitations",
            Some(&admin),
            json!({"email": format!("invitee@{slug}.example"), "role": "viewer"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let invitee_id = res.json()["user_id"].as_str().unwrap().to_string();

    let port_order = uuid::Uuid::new_v4().to_string();
    let porting_number = format!("+44113496{digit}99");
    sqlx::query(
        "INSERT INTO port_orders (id, org_id, losing_carrier, requested_for, foc_at, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, NULL, 'submitted', $5, $5)",
    )
    .bind(&port_order)
    .bind(&org_id)
    .bind(format!("{name} Legacy Telco"))
    .bind(BASE_MS + 14 * 86_400_000)
    .bind(BASE_MS)
    .execute(db.pool())
    .await
    .unwrap();
    sqlx::query("INSERT INTO port_order_numbers (port_order_id, e164) VALUES ($1, $2)")
        .bind(&port_order)
        .bind(&porting_number)
        .execute(db.pool())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO port_order_events (id, port_order_id, at, status, note, actor_label) \
         VALUES ($1, $2, $3, 'submitted', $4, $5)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(&port_order)
    .bind(BASE_MS)
    .bind(format!("{name} asked for it"))
    .bind(&admin_email)
    .execute(db.pool())
    .await
    .unwrap();

    // An incident about this customer's trunk, open since the day of the calls.
    let incident = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO incidents (id, kind, scope, service_id, country, title, status, starts_at, ends_at, created_at, updated_at) \
         VALUES ($1, 'incident', 'service', $2, NULL, $3, 'investigating', $4, NULL, $4, $4)",
    )
    .bind(&incident)
    .bind(&trunk)
    .bind(format!("{name} trunk outage"))
    .bind(BASE_MS)
    .execute(db.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO incident_updates (id, incident_id, posted_at, status, body) \
         VALUES ($1, $2, $3, 'investigating', $4)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(&incident)
    .bind(BASE_MS)
    .bind(format!("{name} engineers are on it"))
    .execute(db.pool())
    .await
    .unwrap();

    portal::sso::set_enabled(db, Actor::CLI, slug, true)
        .await
        .unwrap();
    portal::sso::link_tenant(
        db,
        Actor::CLI,
        slug,
        tenant,
        portal::sso::LinkedBy::Carrier("test"),
    )
    .await
    .unwrap();

    let needles = vec![
        org_id.clone(),
        slug.to_string(),
        name.to_string(),
        admin_id.clone(),
        viewer_id.clone(),
        spare_user_id.clone(),
        invitee_id.clone(),
        session_ids[0].clone(),
        session_ids[1].clone(),
        rw["token"]["id"].as_str().unwrap().to_string(),
        rw["token"]["prefix"].as_str().unwrap().to_string(),
        ingest["token"]["id"].as_str().unwrap().to_string(),
        ingest["token"]["prefix"].as_str().unwrap().to_string(),
        spare["token"]["id"].as_str().unwrap().to_string(),
        trunk.clone(),
        teams.clone(),
        number.clone(),
        second_number,
        porting_number,
        address.clone(),
        spare_address.clone(),
        call.clone(),
        port_order.clone(),
        incident.clone(),
        tenant.to_string(),
    ];
    Customer {
        slug,
        org_id,
        admin,
        admin_second_session_id,
        admin_id,
        viewer_id,
        spare_user_id,
        rw_token: rw["secret"].as_str().unwrap().to_string(),
        ingest_token: ingest["secret"].as_str().unwrap().to_string(),
        spare_token_id: spare["token"]["id"].as_str().unwrap().to_string(),
        trunk,
        trunk_name,
        number,
        address,
        spare_address,
        call,
        port_order,
        incident,
        tenant: tenant.to_string(),
        needles,
    }
}

/// Who sends a probe.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Via {
    /// A's admin, with the session cookie.
    Session,
    /// A's `read_write` API token.
    Token,
}

/// A request aimed at one object. The same request is sent at the other customer's object
/// (must be 404) and at the caller's own (must succeed: the route is mounted, the body valid).
struct ObjectProbe {
    /// `METHOD /route` for the report.
    route: &'static str,
    method: &'static str,
    /// The path aimed at the other customer's object.
    foreign: String,
    /// The path aimed at the caller's own object.
    own: String,
    body: Option<Value>,
    /// Whether API tokens may use the route.
    tokens: bool,
}

/// A request answered with a list, export or figures: must be 200 and free of the other
/// customer's identifiers, and must show one of `marker` (the caller's own), which proves
/// it is not empty.
struct ListProbe {
    route: &'static str,
    path: String,
    tokens: bool,
    /// Routes that take `?org=`: staff act with it and see that customer's objects; a
    /// customer naming another customer gets 404. (`/organisation/sso` answers a customer's
    /// foreign `?org=` with 404 too, but staff manage it in the provider console: step 5.)
    org_param: bool,
    marker: Vec<String>,
}

/// The object probes of `owner` against `target`'s objects.
fn object_probes(owner: &Customer, target: &Customer) -> Vec<ObjectProbe> {
    let p =
        |route, method, foreign: String, own: String, body: Option<Value>, tokens| ObjectProbe {
            route,
            method,
            foreign,
            own,
            body,
            tokens,
        };
    vec![
        p(
            "GET /services/{id}",
            "GET",
            format!("/api/v1/services/{}", target.trunk),
            format!("/api/v1/services/{}", owner.trunk),
            None,
            true,
        ),
        p(
            "GET /calls/{id}",
            "GET",
            format!("/api/v1/calls/{}", target.call),
            format!("/api/v1/calls/{}", owner.call),
            None,
            true,
        ),
        p(
            "PATCH /numbers/{e164}",
            "PATCH",
            number_path(&target.number),
            number_path(&owner.number),
            Some(json!({"assignment": "hijacked"})),
            true,
        ),
        p(
            "PUT /emergency-addresses/{id}",
            "PUT",
            format!("/api/v1/emergency-addresses/{}", target.address),
            format!("/api/v1/emergency-addresses/{}", owner.address),
            Some(address_body("Hijacked")),
            true,
        ),
        p(
            "DELETE /emergency-addresses/{id}",
            "DELETE",
            format!("/api/v1/emergency-addresses/{}", target.spare_address),
            format!("/api/v1/emergency-addresses/{}", owner.spare_address),
            None,
            true,
        ),
        p(
            "GET /users/{id}",
            "GET",
            format!("/api/v1/users/{}", target.admin_id),
            format!("/api/v1/users/{}", owner.admin_id),
            None,
            true,
        ),
        p(
            "PATCH /users/{id}",
            "PATCH",
            format!("/api/v1/users/{}", target.viewer_id),
            format!("/api/v1/users/{}", owner.viewer_id),
            Some(json!({"role": "engineer"})),
            false,
        ),
        p(
            "POST /users/{id}/deactivate",
            "POST",
            format!("/api/v1/users/{}/deactivate", target.spare_user_id),
            format!("/api/v1/users/{}/deactivate", owner.spare_user_id),
            Some(json!({})),
            false,
        ),
        p(
            "DELETE /api-tokens/{id}",
            "DELETE",
            format!("/api/v1/api-tokens/{}", target.spare_token_id),
            format!("/api/v1/api-tokens/{}", owner.spare_token_id),
            None,
            false,
        ),
        p(
            "GET /port-orders/{id}",
            "GET",
            format!("/api/v1/port-orders/{}", target.port_order),
            format!("/api/v1/port-orders/{}", owner.port_order),
            None,
            true,
        ),
        p(
            "DELETE /me/sessions/{id}",
            "DELETE",
            format!("/api/v1/me/sessions/{}", target.admin_second_session_id),
            format!("/api/v1/me/sessions/{}", owner.admin_second_session_id),
            None,
            false,
        ),
    ]
}

/// The list, export and figures probes, `marker` taken from `owner` (whose view it is).
fn list_probes(owner: &Customer) -> Vec<ListProbe> {
    let p = |route, path: String, tokens, org_param, marker: Vec<&String>| ListProbe {
        route,
        path,
        tokens,
        org_param,
        marker: marker.into_iter().cloned().collect(),
    };
    vec![
        p(
            "GET /services",
            "/api/v1/services".into(),
            true,
            true,
            vec![&owner.trunk],
        ),
        p(
            "GET /numbers",
            "/api/v1/numbers".into(),
            true,
            true,
            vec![&owner.number],
        ),
        p(
            "GET /emergency-addresses",
            "/api/v1/emergency-addresses".into(),
            true,
            true,
            vec![&owner.address],
        ),
        p(
            "GET /calls",
            format!("/api/v1/calls?{DAY}"),
            true,
            true,
            vec![&owner.call],
        ),
        p(
            "GET /analytics/summary",
            format!("/api/v1/analytics/summary?{DAY}"),
            true,
            true,
            vec![&owner.trunk],
        ),
        p(
            "GET /analytics/timeseries (by service)",
            format!("/api/v1/analytics/timeseries?{DAY}&bucket=hour&by=service"),
            true,
            true,
            vec![&owner.trunk, &owner.trunk_name],
        ),
        p(
            "GET /analytics/timeseries (by country)",
            format!("/api/v1/analytics/timeseries?{DAY}&bucket=day&by=country"),
            true,
            true,
            vec![],
        ),
        p(
            "GET /numbers/export.csv",
            "/api/v1/numbers/export.csv".into(),
            true,
            true,
            vec![&owner.number],
        ),
        p(
            "GET /calls/export.csv",
            format!("/api/v1/calls/export.csv?{DAY}"),
            true,
            true,
            vec![&owner.call],
        ),
        p(
            "GET /port-orders",
            "/api/v1/port-orders".into(),
            true,
            true,
            vec![&owner.port_order],
        ),
        p(
            "GET /incidents",
            "/api/v1/incidents".into(),
            true,
            true,
            vec![&owner.incident],
        ),
        p(
            "GET /users",
            "/api/v1/users".into(),
            true,
            true,
            vec![&owner.admin_id],
        ),
        p(
            "GET /api-tokens",
            "/api/v1/api-tokens".into(),
            false,
            true,
            vec![&owner.spare_token_id],
        ),
        p(
            "GET /audit",
            "/api/v1/audit?limit=200".into(),
            false,
            true,
            vec![&owner.org_id],
        ),
        p(
            "GET /organisation/sso",
            "/api/v1/organisation/sso".into(),
            false,
            false,
            vec![&owner.tenant],
        ),
        p(
            "GET /me",
            "/api/v1/me".into(),
            false,
            false,
            vec![&owner.admin_id],
        ),
        p(
            "GET /me/sessions",
            "/api/v1/me/sessions".into(),
            false,
            false,
            vec![&owner.admin_second_session_id],
        ),
        p(
            "GET /me/identities",
            "/api/v1/me/identities".into(),
            false,
            false,
            vec![],
        ),
    ]
}

/// Adds `org=slug` to a path's query.
fn with_org(path: &str, slug: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}org={slug}")
}

/// Sends `method path` as A, by session or token.
async fn send_as(
    app: &TestApp,
    a: &Customer,
    via: Via,
    method: &str,
    path: &str,
    body: &Option<Value>,
) -> TestResponse {
    match via {
        Via::Session if method == "GET" => app.get_with(path, &a.admin).await,
        Via::Session => {
            app.json(
                method,
                path,
                Some(&a.admin),
                body.clone().unwrap_or(json!({})),
            )
            .await
        }
        Via::Token => bearer(app, method, path, &a.rw_token, body.clone()).await,
    }
}

/// The start of a response body, for a failure message.
fn excerpt(res: &TestResponse) -> String {
    let text = res.text();
    match text.char_indices().nth(400) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// The other customer's identifiers found in a response body (compared without case).
fn found(res: &TestResponse, needles: &[String]) -> Vec<String> {
    let body = res.text().to_lowercase();
    needles
        .iter()
        .filter(|n| body.contains(&n.to_lowercase()))
        .cloned()
        .collect()
}

/// How B looks to staff and in the database: compared before and after A's probes.
async fn view_of(app: &TestApp, staff: &str, b: &Customer) -> Vec<(String, String)> {
    let mut view = Vec::new();
    for path in [
        "/api/v1/services".to_string(),
        "/api/v1/numbers".to_string(),
        "/api/v1/emergency-addresses".to_string(),
        format!("/api/v1/calls?{DAY}"),
        format!("/api/v1/analytics/summary?{DAY}"),
        "/api/v1/users".to_string(),
        "/api/v1/api-tokens".to_string(),
        "/api/v1/audit?limit=200".to_string(),
        "/api/v1/port-orders".to_string(),
        "/api/v1/incidents".to_string(),
    ] {
        let res = app.get_with(&with_org(&path, b.slug), staff).await;
        assert_eq!(res.status, 200, "staff {path}: {}", res.text());
        view.push((path, res.text()));
    }
    // The row as one text. The flags are INTEGER in SQLite and BOOLEAN in PostgreSQL; a
    // CASE reads both the same way.
    let flag = |column: &str| format!("CASE WHEN {column} THEN '{column}' ELSE '-' END");
    let org = sqlx::query(&format!(
        "SELECT name || ' ' || slug || ' ' || sso_default_role || ' ' || {} || ' ' || {} || ' ' \
         || {} || ' ' || {} AS v FROM organisations WHERE id = $1",
        flag("mfa_required"),
        flag("sso_enabled"),
        flag("sso_jit"),
        flag("sso_required"),
    ))
    .bind(&b.org_id)
    .fetch_one(app.db.db.pool())
    .await
    .unwrap();
    view.push((
        "organisations row".into(),
        org.try_get::<String, _>("v").unwrap(),
    ));
    let count = |sql: &'static str| {
        let org_id = b.org_id.clone();
        async move {
            sqlx::query(sql)
                .bind(org_id)
                .fetch_one(app.db.db.pool())
                .await
                .unwrap()
                .try_get::<i64, _>("n")
                .unwrap()
        }
    };
    view.push((
        "B's sessions".into(),
        count("SELECT COUNT(*) AS n FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.org_id = $1")
            .await
            .to_string(),
    ));
    view.push((
        "B's calls".into(),
        count("SELECT COUNT(*) AS n FROM calls WHERE org_id = $1")
            .await
            .to_string(),
    ));
    view.push((
        "B's SSO tenants".into(),
        count("SELECT COUNT(*) AS n FROM sso_tenants WHERE org_id = $1 AND disabled_at IS NULL")
            .await
            .to_string(),
    ));
    view.push((
        "B's port orders".into(),
        count("SELECT COUNT(*) AS n FROM port_orders WHERE org_id = $1")
            .await
            .to_string(),
    ));
    view
}

#[tokio::test]
async fn no_route_shows_or_changes_another_customers_objects() {
    let app = TestApp::new().await;
    let a = customer(
        &app,
        "contoso",
        "Contoso",
        1,
        "2f4a9c1e-6b3d-4e8a-9f10-aa11bb22cc33",
    )
    .await;
    let b = customer(
        &app,
        "fabrikam",
        "Fabrikam",
        2,
        "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    )
    .await;
    // Carrier-wide maintenance concerns both customers: it is nobody's secret, and no
    // identifier of either is in it.
    sqlx::query(
        "INSERT INTO incidents (id, kind, scope, service_id, country, title, status, starts_at, ends_at, created_at, updated_at) \
         VALUES ('global-1', 'maintenance', 'global', NULL, NULL, 'Core upgrade', 'scheduled', $1, NULL, $1, $1)",
    )
    .bind(BASE_MS)
    .execute(app.db.db.pool())
    .await
    .unwrap();
    let staff = staff_session(&app).await;
    // Leaks are found by substring: none of B's identifiers may be part of one of A's, or
    // A's own objects would look like a leak.
    for n in &b.needles {
        assert!(
            !a.needles
                .iter()
                .any(|m| m.to_lowercase().contains(&n.to_lowercase())),
            "test setup: B's identifier {n} is part of one of A's"
        );
    }
    let before = view_of(&app, &staff, &b).await;
    let mut failures: Vec<String> = Vec::new();

    // 1. Every request aimed at one of B's objects: 404, whoever of A sends it.
    for probe in object_probes(&a, &b) {
        for via in [Via::Session, Via::Token] {
            let res = send_as(&app, &a, via, probe.method, &probe.foreign, &probe.body).await;
            let leaked = found(&res, &b.needles);
            let expected_refusal = via == Via::Token && !probe.tokens;
            let ok = if expected_refusal {
                // Tokens never use this route: refused before or after the lookup, never
                // served.
                matches!(res.status.as_u16(), 401 | 403 | 404)
            } else {
                res.status == 404
            };
            if !ok || !leaked.is_empty() {
                failures.push(format!(
                    "{} as A ({via:?}) at B's object {}: {} {} {}",
                    probe.route,
                    probe.foreign,
                    res.status,
                    if leaked.is_empty() {
                        String::new()
                    } else {
                        format!("leaked {leaked:?}")
                    },
                    excerpt(&res)
                ));
            }
        }
    }

    // 2. Every list, export and figure A receives: 200, A's own objects, none of B's.
    for probe in list_probes(&a) {
        for via in [Via::Session, Via::Token] {
            let res = send_as(&app, &a, via, "GET", &probe.path, &None).await;
            let leaked = found(&res, &b.needles);
            let refused_token = via == Via::Token && !probe.tokens;
            let status_ok = if refused_token {
                matches!(res.status.as_u16(), 401 | 403)
            } else {
                res.status == 200
            };
            let marker_ok =
                refused_token || probe.marker.is_empty() || !found(&res, &probe.marker).is_empty();
            if !status_ok || !marker_ok || !leaked.is_empty() {
                failures.push(format!(
                    "{} as A ({via:?}): {}{}{} {}",
                    probe.route,
                    res.status,
                    if marker_ok {
                        ""
                    } else {
                        " without A's own objects"
                    },
                    if leaked.is_empty() {
                        String::new()
                    } else {
                        format!(" leaked {leaked:?}")
                    },
                    excerpt(&res)
                ));
            }
            // Naming B's organisation is answered like any other customer's object.
            if probe.org_param && !refused_token {
                let res =
                    send_as(&app, &a, via, "GET", &with_org(&probe.path, b.slug), &None).await;
                let leaked = found(&res, &b.needles);
                if res.status != 404 || !leaked.is_empty() {
                    failures.push(format!(
                        "{} as A ({via:?}) with ?org={}: {} {}",
                        probe.route,
                        b.slug,
                        res.status,
                        excerpt(&res)
                    ));
                }
            }
        }
    }

    // 3. References to B's objects inside A's own requests are answered exactly as
    //    references to objects that do not exist: nothing tells A that B's exist.
    let missing = "00000000-0000-4000-8000-000000000000";
    let same_answer =
        |route: &str, via: Via, with_b: &TestResponse, with_missing: &TestResponse, b_ref: &str| {
            let normalised = with_b.text().replace(b_ref, missing);
            if with_b.status.is_success()
                || with_b.status != with_missing.status
                || normalised != with_missing.text()
            {
                Some(format!(
                    "{route} as A ({via:?}) naming B's {b_ref}: {} {} (a missing id: {} {})",
                    with_b.status,
                    excerpt(with_b),
                    with_missing.status,
                    excerpt(with_missing)
                ))
            } else {
                None
            }
        };
    for via in [Via::Session, Via::Token] {
        for (field, b_ref) in [
            ("service_id", &b.trunk),
            ("emergency_address_id", &b.address),
        ] {
            let route = format!("PATCH /numbers/{{e164}} {{{field}: B's}}");
            let path = number_path(&a.number);
            let with_b = send_as(
                &app,
                &a,
                via,
                "PATCH",
                &path,
                &Some(json!({ field: b_ref })),
            )
            .await;
            let with_missing = send_as(
                &app,
                &a,
                via,
                "PATCH",
                &path,
                &Some(json!({ field: missing })),
            )
            .await;
            failures.extend(same_answer(&route, via, &with_b, &with_missing, b_ref));
        }
        for (route, path) in [
            (
                "GET /calls?service=",
                format!("/api/v1/calls?{DAY}&service="),
            ),
            (
                "GET /calls/export.csv?service=",
                format!("/api/v1/calls/export.csv?{DAY}&service="),
            ),
            (
                "GET /numbers?service=",
                "/api/v1/numbers?service=".to_string(),
            ),
            (
                "GET /numbers/export.csv?service=",
                "/api/v1/numbers/export.csv?service=".to_string(),
            ),
            (
                "GET /analytics/summary?service=",
                format!("/api/v1/analytics/summary?{DAY}&service="),
            ),
            (
                "GET /analytics/timeseries?service=",
                format!("/api/v1/analytics/timeseries?{DAY}&bucket=hour&by=service&service="),
            ),
        ] {
            let with_b = send_as(&app, &a, via, "GET", &format!("{path}{}", b.trunk), &None).await;
            let with_missing =
                send_as(&app, &a, via, "GET", &format!("{path}{missing}"), &None).await;
            // An empty 200 is a fine answer to a filter on someone else's service, as long
            // as it is exactly the answer to an unknown one.
            let with_b_ok = with_b.status.is_success()
                && with_b.text().replace(&b.trunk, missing) == with_missing.text();
            if !with_b_ok {
                failures.extend(same_answer(route, via, &with_b, &with_missing, &b.trunk));
            }
        }
        // A porting order routed over B's service.
        let order = |service_id: &str| {
            Some(json!({
                "numbers": ["+441134960555"],
                "losing_carrier": "Old Telco",
                "requested_for": "2099-01-15",
                "country": "GB",
                "number_type": "geographic",
                "service_id": service_id,
            }))
        };
        let with_b = send_as(
            &app,
            &a,
            via,
            "POST",
            "/api/v1/port-orders",
            &order(&b.trunk),
        )
        .await;
        let with_missing = send_as(
            &app,
            &a,
            via,
            "POST",
            "/api/v1/port-orders",
            &order(missing),
        )
        .await;
        failures.extend(same_answer(
            "POST /port-orders {service_id: B's}",
            via,
            &with_b,
            &with_missing,
            &b.trunk,
        ));
        // The calls list filtered by one of B's numbers holds none of B's calls.
        let res = send_as(
            &app,
            &a,
            via,
            "GET",
            &format!("/api/v1/calls?{DAY}&number=%2B{}", &b.number[1..]),
            &None,
        )
        .await;
        let leaked = found(&res, &b.needles)
            .into_iter()
            .filter(|n| *n != b.number)
            .collect::<Vec<_>>();
        if res.status != 200 || res.json()["calls"] != json!([]) || !leaked.is_empty() {
            failures.push(format!(
                "GET /calls?number=B's as A ({via:?}): {} {}",
                res.status,
                excerpt(&res)
            ));
        }
    }
    // The calls and figures A reads count A's calls only (the shared call id included once).
    let summary = app
        .get_with(&format!("/api/v1/analytics/summary?{DAY}"), &a.admin)
        .await;
    if summary.json()["current"]["calls"] != 3 {
        failures.push(format!(
            "GET /analytics/summary as A counts other calls: {}",
            excerpt(&summary)
        ));
    }
    let shared = app.get_with("/api/v1/calls/shared-call-id", &a.admin).await;
    if shared.status != 200 || shared.json()["from"] != a.number.as_str() {
        failures.push(format!(
            "GET /calls/shared-call-id as A: {} {}",
            shared.status,
            excerpt(&shared)
        ));
    }

    // 4. Ingest: a row naming B's service is refused as an unknown service would be, and
    //    a row reusing B's call id is A's own new call.
    let with_b = post_calls(
        &app,
        &a.ingest_token,
        "text/csv",
        cdr_csv(&[cdr_row("ingest-x", &b.trunk_name, 12, &a.number)]),
    )
    .await;
    let with_missing = post_calls(
        &app,
        &a.ingest_token,
        "text/csv",
        cdr_csv(&[cdr_row("ingest-x", "Nowhere Trunk", 12, &a.number)]),
    )
    .await;
    if with_b.status != 200
        || with_b.json()["stored"] != 0
        || with_b.text().replace(&b.trunk_name, "Nowhere Trunk") != with_missing.text()
    {
        failures.push(format!(
            "POST /ingest/calls naming B's service: {} {} (unknown service: {})",
            with_b.status,
            excerpt(&with_b),
            excerpt(&with_missing)
        ));
    }
    let reuse = post_calls(
        &app,
        &a.ingest_token,
        "text/csv",
        cdr_csv(&[cdr_row(&b.call, &a.trunk_name, 13, &a.number)]),
    )
    .await;
    if reuse.status != 200 || reuse.json()["stored"] != 1 || reuse.json()["duplicates"] != 0 {
        failures.push(format!(
            "POST /ingest/calls reusing B's call id: {} {}",
            reuse.status,
            excerpt(&reuse)
        ));
    }

    // 4b. Creating "for B" by naming B's organisation: 404, nothing created there.
    for (via, route, path, body) in [
        (
            Via::Session,
            "POST /emergency-addresses",
            "/api/v1/emergency-addresses",
            address_body("Planted"),
        ),
        (
            Via::Token,
            "POST /emergency-addresses",
            "/api/v1/emergency-addresses",
            address_body("Planted"),
        ),
        (
            Via::Session,
            "POST /api-tokens",
            "/api/v1/api-tokens",
            json!({"name": "planted", "scope": "read_write", "expires_in_days": 30}),
        ),
        (
            Via::Session,
            "POST /port-orders",
            "/api/v1/port-orders",
            json!({"numbers": ["+441134960777"], "losing_carrier": "Old Telco",
                   "requested_for": "2099-01-15", "country": "GB"}),
        ),
        (
            Via::Token,
            "POST /port-orders",
            "/api/v1/port-orders",
            json!({"numbers": ["+441134960778"], "losing_carrier": "Old Telco",
                   "requested_for": "2099-01-15", "country": "GB"}),
        ),
    ] {
        let res = send_as(&app, &a, via, "POST", &with_org(path, b.slug), &Some(body)).await;
        if res.status != 404 {
            failures.push(format!(
                "{route}?org={} as A ({via:?}): {} {}",
                b.slug,
                res.status,
                excerpt(&res)
            ));
        }
    }
    let res = app
        .send(
            axum::http::Request::post(with_org("/api/v1/ingest/calls", b.slug))
                .header("authorization", format!("Bearer {}", a.ingest_token))
                .header("content-type", "text/csv")
                .body(axum::body::Body::from(cdr_csv(&[cdr_row(
                    "planted-call",
                    &b.trunk_name,
                    14,
                    &b.number,
                )])))
                .unwrap(),
        )
        .await;
    if res.status != 404 {
        failures.push(format!(
            "POST /ingest/calls?org={} with A's ingest token: {} {}",
            b.slug,
            res.status,
            excerpt(&res)
        ));
    }

    // 4c. The carrier's console is for staff: A is refused there whatever the customer.
    let provider = format!("/api/v1/provider/organisations/{}/sso", b.slug);
    let tenant = format!("{provider}/tenants/{}", b.tenant);
    for (method, path, body) in [
        ("GET", "/api/v1/provider/organisations".to_string(), None),
        ("PUT", provider.clone(), Some(json!({"enabled": false}))),
        (
            "POST",
            format!("{provider}/tenants"),
            Some(json!({"tenant_id": "3d2b1c4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"})),
        ),
        ("PUT", tenant.clone(), Some(json!({"disabled": true}))),
        ("DELETE", tenant.clone(), None),
    ] {
        for via in [Via::Session, Via::Token] {
            let res = send_as(&app, &a, via, method, &path, &body).await;
            let leaked = found(&res, &b.needles)
                .into_iter()
                .filter(|n| !path.to_lowercase().contains(&n.to_lowercase()))
                .collect::<Vec<_>>();
            if !matches!(res.status.as_u16(), 401 | 403 | 404) || !leaked.is_empty() {
                failures.push(format!(
                    "{method} {path} as A ({via:?}): {} {}",
                    res.status,
                    excerpt(&res)
                ));
            }
        }
    }

    // 5. Routes of the signed-in admin's own organisation take no id: naming B's there is
    //    answered 404 like on every other route, and changes nothing of B's (nor of A's).
    for (method, path, body) in [
        ("GET", "/api/v1/organisation/sso", json!(null)),
        (
            "PUT",
            "/api/v1/organisation/mfa-policy",
            json!({"required": true}),
        ),
        (
            "PUT",
            "/api/v1/organisation/sso",
            json!({"jit_provisioning": false, "default_role": "admin", "require_sso": true}),
        ),
        (
            "POST",
            "/api/v1/users/invitations",
            json!({"email": "newcomer@contoso.example", "role": "admin"}),
        ),
    ] {
        let res = app
            .json(method, &with_org(path, b.slug), Some(&a.admin), body)
            .await;
        let leaked = found(&res, &b.needles);
        if res.status != 404 || !leaked.is_empty() {
            failures.push(format!(
                "{method} {path}?org={} as A leaked {leaked:?}: {} {}",
                b.slug,
                res.status,
                excerpt(&res)
            ));
        }
    }

    // 6. B is exactly as it was.
    let after = view_of(&app, &staff, &b).await;
    for ((what, was), (_, is)) in before.iter().zip(&after) {
        if was != is {
            failures.push(format!("B changed: {what}\nbefore: {was}\nafter:  {is}"));
        }
    }
    let res = app.get_with("/api/v1/me", &b.admin).await;
    if res.status != 200 {
        failures.push(format!("B's admin session ended by A: {}", res.status));
    }

    // 7. Controls. Staff acting for B see B's objects through the same routes...
    for probe in object_probes(&b, &a)
        .into_iter()
        .filter(|p| p.method == "GET")
    {
        let res = app.get_with(&with_org(&probe.own, b.slug), &staff).await;
        if res.status != 200 {
            failures.push(format!(
                "control: staff ?org={} {}: {} {}",
                b.slug,
                probe.route,
                res.status,
                excerpt(&res)
            ));
        }
    }
    for probe in list_probes(&b).into_iter().filter(|p| p.org_param) {
        let res = app.get_with(&with_org(&probe.path, b.slug), &staff).await;
        if res.status != 200 || (!probe.marker.is_empty() && found(&res, &probe.marker).is_empty())
        {
            failures.push(format!(
                "control: staff ?org={} {} does not show B's objects: {} {}",
                b.slug,
                probe.route,
                res.status,
                excerpt(&res)
            ));
        }
    }
    // ...and A's own requests through every object route succeed (run last: they change A).
    for probe in object_probes(&a, &b) {
        let res = send_as(
            &app,
            &a,
            Via::Session,
            probe.method,
            &probe.own,
            &probe.body,
        )
        .await;
        if !res.status.is_success() {
            failures.push(format!(
                "control: {} as A at A's own object: {} {}",
                probe.route,
                res.status,
                excerpt(&res)
            ));
        }
    }

    assert!(
        failures.is_empty(),
        "{} isolation failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
