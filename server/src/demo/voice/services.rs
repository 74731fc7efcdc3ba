//! The demo services: their SBCs, their health and probe history, and their numbers.

use std::collections::HashSet;

use rand::{rngs::StdRng, Rng};

use crate::{
    accounts::Actor,
    db::{self, health_checks::HealthCheck, numbers::NewNumber, Db},
    voice::services::{self, NewService, ServiceKind},
};

use super::{catalog::ServiceSpec, random_digits, Created, DAY_MS};

/// A demo service as seeded: what the calls need of it, and every number it holds (the
/// porting orders pick from them).
pub(super) struct SeededService<'s> {
    /// The service, with its active numbers.
    pub(super) created: Created<'s>,
    /// All its numbers, whatever their status.
    pub(super) numbers: Vec<String>,
}

/// Creates the service `spec` describes (through the same path as `portal service create`),
/// gives it its SBC, its health and six hours of probes, and stores its numbers; `addresses`
/// are the emergency addresses seeded before: `(id, org slug, country)`.
pub(super) async fn seed_service<'s>(
    db: &Db,
    rng: &mut StdRng,
    spec: &'s ServiceSpec,
    addresses: &[(String, &str, &str)],
    now: i64,
) -> anyhow::Result<SeededService<'s>> {
    let service = services::create_service(
        db,
        Actor::CLI,
        NewService {
            org_slug: spec.org,
            kind: spec.kind,
            name: spec.name,
            country: spec.country,
            channels: spec.channels,
        },
    )
    .await?;
    let latency = (spec.health != "down").then_some(spec.latency_ms);
    if let Some((fqdn, port, transport)) = spec.sbc {
        db::services::set_sbc(db.pool(), &service.id, fqdn, port, transport).await?;
    }
    let latest = HealthCheck {
        health: spec.health.to_string(),
        checked_at: now - 30_000,
        latency_ms: latency,
        // The service row keeps no detail; the probes below do.
        detail: String::new(),
    };
    db::services::set_health(db.pool(), &service.id, &latest).await?;
    // A probe every 5 minutes over the last 6 hours.
    for i in 0..72i64 {
        let (health, latency_ms, detail) = probe(spec, i, rng);
        let check = HealthCheck {
            health: health.to_string(),
            checked_at: now - 30_000 - i * 5 * 60_000,
            latency_ms,
            detail,
        };
        db::health_checks::insert(db.pool(), &service.id, &check).await?;
    }

    let mut active = Vec::new();
    let mut all = Vec::new();
    let org_addresses: Vec<&String> = addresses
        .iter()
        .filter(|(_, org, country)| *org == spec.org && *country == spec.country)
        .map(|(id, _, _)| id)
        .collect();
    for &(number_type, prefix, digits, count) in spec.ranges {
        let mut used = HashSet::new();
        let mut made = 0;
        while made < count {
            let e164 = format!("{prefix}{}", random_digits(rng, digits));
            if !used.insert(e164.clone()) {
                continue;
            }
            made += 1;
            let roll: f64 = rng.gen();
            let status = if roll < 0.82 {
                "active"
            } else if roll < 0.93 {
                "reserved"
            } else if roll < 0.98 {
                "porting_in"
            } else {
                "porting_out"
            };
            let assignment =
                (status == "active" && rng.gen_bool(0.75)).then(|| assignment_for(spec, rng));
            // Most numbers that reach people may call emergency services; some still lack
            // the address that needs (the portal flags them).
            let address = (number_type != "toll_free"
                && status == "active"
                && !org_addresses.is_empty()
                && rng.gen_bool(0.8))
            .then(|| org_addresses[rng.gen_range(0..org_addresses.len())].clone());
            let number = NewNumber {
                e164: &e164,
                org_id: &service.org_id,
                number_type,
                country: spec.country,
                status,
                service_id: (status != "reserved").then_some(service.id.as_str()),
                assignment: assignment.as_deref(),
                emergency_address_id: address.as_deref(),
            };
            let created_at = now - rng.gen_range(100..400) * DAY_MS;
            db::numbers::insert(db.pool(), &number, created_at).await?;
            if status == "active" {
                active.push(e164.clone());
            }
            all.push(e164);
        }
    }
    Ok(SeededService {
        created: Created {
            spec,
            id: service.id,
            org_id: service.org_id,
            numbers: active,
        },
        numbers: all,
    })
}

fn assignment_for(spec: &ServiceSpec, rng: &mut StdRng) -> String {
    const PEOPLE: [&str; 12] = [
        "adele.vance",
        "megan.bowen",
        "lee.gu",
        "alex.wilber",
        "diego.siciliani",
        "grady.archie",
        "henrietta.mueller",
        "isaiah.langer",
        "johanna.lorenz",
        "joni.sherman",
        "lynne.robbins",
        "nestor.wilke",
    ];
    let domain = format!("{}.example", spec.org);
    match rng.gen_range(0..10) {
        0 => "Reception queue".to_string(),
        1 => "Support hunt group".to_string(),
        2 if spec.kind == ServiceKind::SipTrunk => format!("PBX ext {}", rng.gen_range(2000..2999)),
        _ => format!(
            "{}{}@{domain}",
            PEOPLE[rng.gen_range(0..PEOPLE.len())],
            rng.gen_range(1..40)
        ),
    }
}

/// One OPTIONS probe result: health, latency, what it saw.
fn probe(spec: &ServiceSpec, i: i64, rng: &mut StdRng) -> (&'static str, Option<i64>, String) {
    match spec.health {
        // Down for the last 40 minutes, fine before.
        "down" if i < 8 => (
            "down",
            None,
            "no response to OPTIONS (timeout after 5 s)".to_string(),
        ),
        "degraded" if rng.gen_bool(0.6) => (
            "degraded",
            Some(spec.latency_ms + rng.gen_range(0..60)),
            "SIP/2.0 200 OK (slow)".to_string(),
        ),
        _ => (
            "up",
            Some(spec.latency_ms.max(20) + rng.gen_range(-5..6)),
            "SIP/2.0 200 OK".to_string(),
        ),
    }
}
