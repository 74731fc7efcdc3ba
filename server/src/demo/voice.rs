//! The demo customers' voice data: services in several countries, emergency addresses, a few
//! hundred numbers, incidents, porting orders, and `calls` CDRs over the last 90 days.
//!
//! Everything comes from one fixed seed, so two databases seeded with the same call count hold
//! the same services, numbers and per-service call counts (timestamps end at the moment of
//! seeding). Calls follow a daily and weekly rhythm in each service's local time (busy working
//! hours, quiet nights and weekends) and are stored through the CDR ingest
//! ([`crate::voice::ingest::store_batch_in_transaction`]) so the hourly rollups are right.

//!
//! The catalogue (which services, numbers and addresses) is in `catalog`; `services`,
//! `calls`, `incidents` and `port_orders` seed each kind of row, through the `db` queries the
//! portal itself uses.

mod calls;
mod catalog;
mod incidents;
mod port_orders;
mod services;

use std::time::Instant;

use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::json;

use crate::{
    accounts::Actor,
    db::{self, audit::NewAuditEntry, emergency_addresses::AddressFields, orgs::Organisation, Db},
    voice::ingest::HOUR_MS,
};

use catalog::{ServiceSpec, ADDRESSES, SERVICES};

/// Calls seeded when no count is given (`make run` seeds them in a few seconds).
pub const DEFAULT_CALLS: u64 = 20_000;

/// The seed of every random choice.
const SEED: u64 = 0x5EED_D3E0_2026;

/// Days of call history.
const DAYS: i64 = 90;

const DAY_MS: i64 = 24 * HOUR_MS;

/// What was seeded, for the summary.
#[derive(Debug, Default)]
pub struct Seeded {
    pub services: usize,
    pub addresses: usize,
    pub numbers: usize,
    pub calls: u64,
    pub incidents: usize,
    pub port_orders: usize,
}

/// A service as created, with what calls need of it.
struct Created<'s> {
    spec: &'s ServiceSpec,
    id: String,
    org_id: String,
    /// Its active numbers (calls use them).
    numbers: Vec<String>,
}

/// Seeds the voice data of the demo organisations (which must exist and have no services).
pub async fn seed(db: &Db, calls: u64) -> anyhow::Result<String> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(SEED);
    let now = crate::clock::system_now_ms();
    let mut seeded = Seeded::default();
    let mut orgs: Vec<Organisation> = Vec::new();
    for slug in ["contoso", "fabrikam"] {
        orgs.push(
            db::orgs::find_by_slug(db.pool(), slug)
                .await?
                .ok_or_else(|| anyhow::anyhow!("the demo organisation {slug} is missing"))?,
        );
    }
    let org_id = |slug: &str| -> String {
        orgs.iter()
            .find(|o| o.slug == slug)
            .map(|o| o.id.clone())
            .unwrap_or_default()
    };

    // Emergency addresses.
    let mut addresses: Vec<(String, &str, &str)> = Vec::new(); // (id, org slug, country)
    for &(org, label, street, house, postal, city, region, country) in ADDRESSES {
        let id = det_uuid(&mut rng);
        let fields = AddressFields {
            label: label.to_string(),
            street: street.to_string(),
            house_number: house.to_string(),
            postal_code: postal.to_string(),
            city: city.to_string(),
            region: region.to_string(),
            country: country.to_string(),
        };
        db::emergency_addresses::insert(db.pool(), &id, &org_id(org), &fields, now - 120 * DAY_MS)
            .await?;
        addresses.push((id, org, country));
    }
    seeded.addresses = addresses.len();

    // Services, their health and probe history, and their numbers.
    let mut created: Vec<Created> = Vec::new();
    let mut all_numbers: Vec<(String, String)> = Vec::new(); // (org id, e164) for porting
    for spec in SERVICES {
        let service = services::seed_service(db, &mut rng, spec, &addresses, now).await?;
        seeded.numbers += service.numbers.len();
        let org_id = &service.created.org_id;
        all_numbers.extend(
            service
                .numbers
                .into_iter()
                .map(|e164| (org_id.clone(), e164)),
        );
        created.push(service.created);
        seeded.services += 1;
    }

    // Incidents (global rows: the carrier's) and porting orders.
    let frankfurt_incident = (now - 12 * DAY_MS - 5 * HOUR_MS, now - 12 * DAY_MS - HOUR_MS);
    seeded.incidents =
        incidents::seed_incidents(db, &mut rng, &created, now, frankfurt_incident).await?;
    seeded.port_orders = port_orders::seed_port_orders(db, &mut rng, &all_numbers, now).await?;

    // Calls, service by service, in ingest batches.
    seeded.calls =
        calls::seed_calls(db, &mut rng, &created, calls, now, frankfurt_incident).await?;
    for org in &orgs {
        db::audit::insert(
            db.pool(),
            crate::clock::system_now_ms(),
            &NewAuditEntry {
                actor_user_id: None,
                actor_label: Actor::CLI.label,
                org_id: Some(&org.id),
                action: "calls.imported",
                details: json!({"source": "seed-demo", "seed": SEED}),
                ..Default::default()
            },
        )
        .await?;
    }
    db.refresh_call_statistics().await?;

    Ok(format!(
        "- voice: {} services, {} emergency addresses, {} numbers, {} calls over {DAYS} days, \
         {} incidents, {} porting orders (seeded in {:.1} s)",
        seeded.services,
        seeded.addresses,
        seeded.numbers,
        seeded.calls,
        seeded.incidents,
        seeded.port_orders,
        started.elapsed().as_secs_f64()
    ))
}

/// A UUID from the seeded generator (deterministic, unlike `new_v4`).
fn det_uuid(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.gen())
        .into_uuid()
        .to_string()
}

fn random_digits(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}
