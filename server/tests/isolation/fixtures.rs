//! The two customers of the isolation test, each holding the full set of objects, and the
//! identifiers of each that the other must never see.

use serde_json::json;

use crate::support::{
    api::{create_api_token, sign_in},
    create_org, create_user, enable_sso_with_tenant,
    voice::{create_address, create_trunk, ingest_rows, insert_number, number_path},
    TestApp,
};

/// The day every call of the test falls on, as query parameters.
pub const DAY: &str = "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z";

/// 2026-03-01T00:00:00Z in milliseconds.
pub const BASE_MS: i64 = 1_772_323_200_000;

/// What one customer holds, and every identifier of it that another customer must never see.
pub struct Customer {
    /// Its slug.
    pub slug: &'static str,
    /// Its organisation's id.
    pub org_id: String,
    /// The admin's session cookie.
    pub admin: String,
    /// A second session of the same admin (a session that may be ended).
    pub admin_second_session_id: String,
    /// The admin's user id.
    pub admin_id: String,
    /// A viewer's user id.
    pub viewer_id: String,
    /// An engineer the probes may deactivate.
    pub spare_user_id: String,
    /// The secret of a `read_write` API token.
    pub rw_token: String,
    /// The secret of an `ingest` API token.
    pub ingest_token: String,
    /// A token the probes may revoke.
    pub spare_token_id: String,
    /// The SIP trunk's id.
    pub trunk: String,
    /// The SIP trunk's name (what call records name).
    pub trunk_name: String,
    /// A number assigned to the trunk and the address.
    pub number: String,
    /// The emergency address that number uses.
    pub address: String,
    /// An address no number uses (one that may be deleted).
    pub spare_address: String,
    /// A call id only this customer has.
    pub call: String,
    /// A porting order's id.
    pub port_order: String,
    /// The id of an incident about the trunk.
    pub incident: String,
    /// The Entra tenant linked to it.
    pub tenant: String,
    /// Everything of this customer a response may only show to this customer (and staff).
    pub needles: Vec<String>,
}

/// One call-record row on 2026-03-01 at `hour`, from `from` to a German number.
pub fn cdr_row(id: &str, service: &str, hour: u32, from: &str) -> String {
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

    enable_sso_with_tenant(db, slug, tenant).await;

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

/// Contoso (A) and Fabrikam (B), each with the full set of objects, and carrier-wide
/// maintenance that concerns both.
pub async fn customers(app: &TestApp) -> (Customer, Customer) {
    let a = customer(
        app,
        "contoso",
        "Contoso",
        1,
        "2f4a9c1e-6b3d-4e8a-9f10-aa11bb22cc33",
    )
    .await;
    let b = customer(
        app,
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
    (a, b)
}

/// Leaks are found by substring: none of B's identifiers may be part of one of A's, or A's
/// own objects would look like a leak.
pub fn assert_identifiers_apart(a: &Customer, b: &Customer) {
    for n in &b.needles {
        assert!(
            !a.needles
                .iter()
                .any(|m| m.to_lowercase().contains(&n.to_lowercase())),
            "test setup: B's identifier {n} is part of one of A's"
        );
    }
}
