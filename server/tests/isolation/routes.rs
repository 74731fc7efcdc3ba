//! The route table: every organisation-scoped request aimed at one object, and every list,
//! export and figures request, with whether API tokens may use it.

use serde_json::{json, Value};

use crate::fixtures::{Customer, DAY};
use crate::support::voice::{address_body, number_path};

/// Who sends a probe.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Via {
    /// A's admin, with the session cookie.
    Session,
    /// A's `read_write` API token.
    Token,
}

/// A request aimed at one object. The same request is sent at the other customer's object
/// (must be 404) and at the caller's own (must succeed: the route is mounted, the body valid).
pub struct ObjectProbe {
    /// `METHOD /route` for the report.
    pub route: &'static str,
    /// The request's method.
    pub method: &'static str,
    /// The path aimed at the other customer's object.
    pub foreign: String,
    /// The path aimed at the caller's own object.
    pub own: String,
    /// The JSON body, if the request has one.
    pub body: Option<Value>,
    /// Whether API tokens may use the route.
    pub tokens: bool,
}

/// A request answered with a list, export or figures: must be 200 and free of the other
/// customer's identifiers, and must show one of `marker` (the caller's own), which proves
/// it is not empty.
pub struct ListProbe {
    /// `METHOD /route` for the report.
    pub route: &'static str,
    /// The path, with its query.
    pub path: String,
    /// Whether API tokens may use the route.
    pub tokens: bool,
    /// Routes that take `?org=`: staff act with it and see that customer's objects; a
    /// customer naming another customer gets 404. (`/organisation/sso` answers a customer's
    /// foreign `?org=` with 404 too, but staff manage it in the provider console: step 5.)
    pub org_param: bool,
    /// The caller's own identifiers, one of which the answer must show (none: any answer).
    pub marker: Vec<String>,
}

/// The object probes of `owner` against `target`'s objects.
pub fn object_probes(owner: &Customer, target: &Customer) -> Vec<ObjectProbe> {
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
pub fn list_probes(owner: &Customer) -> Vec<ListProbe> {
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
