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
//!
//! One test binary; the test reads as the list of its steps. Its modules: `fixtures` (the two
//! customers), `routes` (the route table), `probe` (sending as A, judging answers, B's state),
//! `table` (the table's checks and the controls) and `beyond_table` (the rest).

// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

// The shared helpers live beside the test binaries, not inside this one's folder.
#[path = "../support/mod.rs"]
mod support;

mod beyond_table;
mod fixtures;
mod probe;
mod routes;
mod table;

use support::{api::staff_session, TestApp};

#[tokio::test]
async fn no_route_shows_or_changes_another_customers_objects() {
    let app = TestApp::new().await;
    let (a, b) = fixtures::customers(&app).await;
    let staff = staff_session(&app).await;
    fixtures::assert_identifiers_apart(&a, &b);
    let before = probe::view_of(&app, &staff, &b).await;
    let mut failures: Vec<String> = Vec::new();

    failures.extend(table::objects_refused(&app, &a, &b).await);
    failures.extend(table::lists_clean(&app, &a, &b).await);
    failures.extend(beyond_table::references(&app, &a, &b).await);
    failures.extend(beyond_table::ingest(&app, &a, &b).await);
    failures.extend(beyond_table::creating_for_b(&app, &a, &b).await);
    failures.extend(beyond_table::provider_console(&app, &a, &b).await);
    failures.extend(beyond_table::own_organisation(&app, &a, &b).await);
    failures.extend(probe::b_unchanged(&app, &staff, &b, &before).await);
    failures.extend(table::controls(&app, &staff, &a, &b).await);

    assert!(
        failures.is_empty(),
        "{} isolation failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
