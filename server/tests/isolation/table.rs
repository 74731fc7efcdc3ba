//! The route table's checks: every request aimed at one of B's objects is 404, every list
//! A receives holds A's objects and none of B's, and the controls that prove each probe can
//! fail (staff see B's objects through the same routes; A's own requests succeed).

use crate::fixtures::Customer;
use crate::probe::{excerpt, found, send_as, with_org};
use crate::routes::{list_probes, object_probes, Via};
use crate::support::TestApp;

/// Step 1: Every request aimed at one of B's objects: 404, whoever of A sends it.
pub async fn objects_refused(app: &TestApp, a: &Customer, b: &Customer) -> Vec<String> {
    let mut failures = Vec::new();
    for probe in object_probes(a, b) {
        for via in [Via::Session, Via::Token] {
            let res = send_as(app, a, via, probe.method, &probe.foreign, &probe.body).await;
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
    failures
}

/// Step 2: Every list, export and figure A receives: 200, A's own objects, none of B's.
pub async fn lists_clean(app: &TestApp, a: &Customer, b: &Customer) -> Vec<String> {
    let mut failures = Vec::new();
    for probe in list_probes(a) {
        for via in [Via::Session, Via::Token] {
            let res = send_as(app, a, via, "GET", &probe.path, &None).await;
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
                let res = send_as(app, a, via, "GET", &with_org(&probe.path, b.slug), &None).await;
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
    failures
}

/// Step 7: Controls. Staff acting for B see B's objects through the same routes, and A's own
/// requests through every object route succeed (run last: they change A).
pub async fn controls(app: &TestApp, staff: &str, a: &Customer, b: &Customer) -> Vec<String> {
    let mut failures = Vec::new();
    for probe in object_probes(b, a)
        .into_iter()
        .filter(|p| p.method == "GET")
    {
        let res = app.get_with(&with_org(&probe.own, b.slug), staff).await;
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
    for probe in list_probes(b).into_iter().filter(|p| p.org_param) {
        let res = app.get_with(&with_org(&probe.path, b.slug), staff).await;
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
    for probe in object_probes(a, b) {
        let res = send_as(app, a, Via::Session, probe.method, &probe.own, &probe.body).await;
        if !res.status.is_success() {
            failures.push(format!(
                "control: {} as A at A's own object: {} {}",
                probe.route,
                res.status,
                excerpt(&res)
            ));
        }
    }
    failures
}
