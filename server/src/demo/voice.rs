//! The demo customers' voice data: services in several countries, emergency addresses, a few
//! hundred numbers, incidents, porting orders, and `calls` CDRs over the last 90 days.
//!
//! Everything comes from one fixed seed, so two databases seeded with the same call count hold
//! the same services, numbers and per-service call counts (timestamps end at the moment of
//! seeding). Calls follow a daily and weekly rhythm in each service's local time (busy working
//! hours, quiet nights and weekends) and are stored through the CDR ingest
//! ([`crate::voice::ingest::store_batch_in_transaction`]) so the hourly rollups are right.

use std::time::Instant;

use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::json;

use crate::{
    accounts::Actor,
    db::{self, audit::NewAuditEntry, orgs::Organisation, Backend, Db},
    voice::{
        cdr::{CallRecord, CallResult, Direction},
        ingest::{self, HOUR_MS},
        services::{self, NewService, ServiceKind},
    },
};

/// Calls seeded when no count is given (`make run` seeds them in a few seconds).
pub const DEFAULT_CALLS: u64 = 20_000;

/// The seed of every random choice.
const SEED: u64 = 0x5EED_D3E0_2026;

/// Days of call history.
const DAYS: i64 = 90;

const DAY_MS: i64 = 24 * HOUR_MS;

/// CDRs per ingest transaction.
const BATCH_ROWS: usize = 50_000;

/// A demo service.
struct ServiceSpec {
    org: &'static str,
    kind: ServiceKind,
    name: &'static str,
    country: &'static str,
    channels: i64,
    /// `(fqdn, port, transport)` of the customer's SBC; none for Operator Connect.
    sbc: Option<(&'static str, i64, &'static str)>,
    health: &'static str,
    latency_ms: i64,
    /// Share of the seeded calls.
    share: f64,
    /// Local time minus UTC, hours (standard time).
    utc_offset_h: i64,
    /// The numbers it holds: `(number_type, prefix, digits after the prefix, how many)`.
    ranges: &'static [(&'static str, &'static str, usize, usize)],
}

const SERVICES: &[ServiceSpec] = &[
    ServiceSpec {
        org: "contoso",
        kind: ServiceKind::SipTrunk,
        name: "London SIP trunk",
        country: "GB",
        channels: 60,
        sbc: Some(("sbc-lon.contoso.example", 5061, "tls")),
        health: "up",
        latency_ms: 18,
        share: 0.30,
        utc_offset_h: 0,
        ranges: &[
            ("geographic", "+4420794", 6, 70),
            ("geographic", "+44161496", 4, 20),
            ("toll_free", "+44800", 7, 4),
        ],
    },
    ServiceSpec {
        org: "contoso",
        kind: ServiceKind::TeamsDirectRouting,
        name: "Teams Direct Routing Frankfurt",
        country: "DE",
        channels: 30,
        sbc: Some(("sbc-fra.contoso.example", 5061, "tls")),
        health: "degraded",
        latency_ms: 145,
        share: 0.17,
        utc_offset_h: 1,
        ranges: &[("geographic", "+49699", 7, 45), ("mobile", "+49151", 8, 6)],
    },
    ServiceSpec {
        org: "contoso",
        kind: ServiceKind::OperatorConnect,
        name: "Operator Connect Amsterdam",
        country: "NL",
        channels: 20,
        sbc: None,
        health: "up",
        latency_ms: 22,
        share: 0.08,
        utc_offset_h: 1,
        ranges: &[
            ("geographic", "+31205", 6, 30),
            ("toll_free", "+31800", 4, 2),
        ],
    },
    ServiceSpec {
        org: "fabrikam",
        kind: ServiceKind::TeamsDirectRouting,
        name: "Fabrikam US Direct Routing",
        country: "US",
        channels: 100,
        sbc: Some(("sbc1.fabrikam.example", 5061, "tls")),
        health: "up",
        latency_ms: 31,
        share: 0.28,
        utc_offset_h: -5,
        ranges: &[
            ("geographic", "+1425555", 4, 70),
            ("geographic", "+1206555", 4, 25),
            ("toll_free", "+1888555", 4, 5),
        ],
    },
    ServiceSpec {
        org: "fabrikam",
        kind: ServiceKind::SipTrunk,
        name: "Paris SIP trunk",
        country: "FR",
        channels: 24,
        sbc: Some(("pbx-par.fabrikam.example", 5060, "udp")),
        health: "down",
        latency_ms: 0,
        share: 0.10,
        utc_offset_h: 1,
        ranges: &[("geographic", "+33142", 6, 30)],
    },
    ServiceSpec {
        org: "fabrikam",
        kind: ServiceKind::OperatorConnect,
        name: "Operator Connect Toronto",
        country: "CA",
        channels: 20,
        sbc: None,
        health: "up",
        latency_ms: 27,
        share: 0.07,
        utc_offset_h: -5,
        ranges: &[("geographic", "+1416555", 4, 25)],
    },
];

/// Emergency addresses: `(org, label, street, house number, postal code, city, region, country)`.
type Address = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const ADDRESSES: &[Address] = &[
    (
        "contoso",
        "London HQ",
        "Victoria Street",
        "1",
        "SW1H 0ET",
        "London",
        "",
        "GB",
    ),
    (
        "contoso",
        "Manchester office",
        "Piccadilly Place",
        "3",
        "M1 3BN",
        "Manchester",
        "",
        "GB",
    ),
    (
        "contoso",
        "Frankfurt office",
        "Taunusanlage",
        "8",
        "60329",
        "Frankfurt am Main",
        "Hessen",
        "DE",
    ),
    (
        "contoso",
        "Amsterdam office",
        "Herengracht",
        "420",
        "1017 BZ",
        "Amsterdam",
        "",
        "NL",
    ),
    (
        "fabrikam",
        "Redmond campus",
        "NE 36th Street",
        "15010",
        "98052",
        "Redmond",
        "WA",
        "US",
    ),
    (
        "fabrikam",
        "Seattle office",
        "2nd Avenue",
        "1201",
        "98101",
        "Seattle",
        "WA",
        "US",
    ),
    (
        "fabrikam",
        "Paris office",
        "Rue de Rivoli",
        "99",
        "75001",
        "Paris",
        "",
        "FR",
    ),
    (
        "fabrikam",
        "Toronto office",
        "King Street West",
        "100",
        "M5X 1A9",
        "Toronto",
        "ON",
        "CA",
    ),
];

/// Far-end numbers: `(country, prefix, random digits after it)`.
const FAR_ENDS: &[(&str, &str, usize)] = &[
    ("GB", "+447", 9),
    ("GB", "+4420", 8),
    ("DE", "+4915", 9),
    ("DE", "+4930", 8),
    ("NL", "+316", 8),
    ("FR", "+336", 8),
    ("FR", "+331", 8),
    ("US", "+1212", 7),
    ("US", "+1415", 7),
    ("CA", "+1416", 7),
    ("IE", "+3538", 8),
    ("ES", "+346", 8),
    ("IT", "+393", 9),
    ("CH", "+417", 8),
    ("BE", "+324", 8),
    ("IN", "+919", 9),
    ("AU", "+614", 8),
    ("JP", "+8190", 8),
];

/// Relative call volume by local hour on a working day.
const HOUR_WEIGHTS: [f64; 24] = [
    0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.15, 0.50, 0.90, 1.00, 0.95, 0.60, 0.80, 0.95, 0.90,
    0.75, 0.40, 0.20, 0.12, 0.08, 0.06, 0.04, 0.03,
];

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
    let now = db::now_ms();
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
        sqlx::query(
            "INSERT INTO emergency_addresses (id, org_id, label, street, house_number, postal_code, \
             city, region, country, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(&id)
        .bind(org_id(org))
        .bind(label)
        .bind(street)
        .bind(house)
        .bind(postal)
        .bind(city)
        .bind(region)
        .bind(country)
        .bind(now - 120 * DAY_MS)
        .execute(db.pool())
        .await?;
        addresses.push((id, org, country));
    }
    seeded.addresses = addresses.len();

    // Services, their health and probe history, and their numbers.
    let mut created: Vec<Created> = Vec::new();
    let mut all_numbers: Vec<(String, String)> = Vec::new(); // (org id, e164) for porting
    for spec in SERVICES {
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
            sqlx::query(
                "UPDATE services SET sbc_fqdn = $1, sbc_port = $2, sbc_transport = $3 WHERE id = $4",
            )
            .bind(fqdn)
            .bind(port)
            .bind(transport)
            .bind(&service.id)
            .execute(db.pool())
            .await?;
        }
        sqlx::query(
            "UPDATE services SET health = $1, health_checked_at = $2, health_latency_ms = $3 WHERE id = $4",
        )
        .bind(spec.health)
        .bind(now - 30_000)
        .bind(latency.unwrap_or(0))
        .bind(&service.id)
        .execute(db.pool())
        .await?;
        if latency.is_none() {
            sqlx::query("UPDATE services SET health_latency_ms = NULL WHERE id = $1")
                .bind(&service.id)
                .execute(db.pool())
                .await?;
        }
        // A probe every 5 minutes over the last 6 hours.
        for i in 0..72i64 {
            let at = now - 30_000 - i * 5 * 60_000;
            let (health, latency, detail) = probe(spec, i, &mut rng);
            // A NULL latency is written literally (a NULL parameter's type differs by engine).
            let latency_sql = match latency {
                Some(ms) => ms.to_string(),
                None => "NULL".to_string(),
            };
            sqlx::query(&format!(
                "INSERT INTO service_health_checks (service_id, checked_at, health, latency_ms, detail) \
                 VALUES ($1, $2, $3, {latency_sql}, $4)"
            ))
            .bind(&service.id)
            .bind(at)
            .bind(health)
            .bind(detail)
            .execute(db.pool())
            .await?;
        }

        let mut active = Vec::new();
        let org_addresses: Vec<&String> = addresses
            .iter()
            .filter(|(_, org, country)| *org == spec.org && *country == spec.country)
            .map(|(id, _, _)| id)
            .collect();
        for &(number_type, prefix, digits, count) in spec.ranges {
            let mut used = std::collections::HashSet::new();
            let mut made = 0;
            while made < count {
                let e164 = format!("{prefix}{}", random_digits(&mut rng, digits));
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
                let assignment = (status == "active" && rng.gen_bool(0.75))
                    .then(|| assignment_for(spec, &mut rng));
                // Most numbers that reach people may call emergency services; some still lack
                // the address that needs (the portal flags them).
                let address = (number_type != "toll_free"
                    && status == "active"
                    && !org_addresses.is_empty()
                    && rng.gen_bool(0.8))
                .then(|| org_addresses[rng.gen_range(0..org_addresses.len())].clone());
                let service_id = (status != "reserved").then(|| service.id.clone());
                insert_number(
                    db,
                    &e164,
                    &service.org_id,
                    number_type,
                    spec.country,
                    status,
                    service_id.as_deref(),
                    assignment.as_deref(),
                    address.as_deref(),
                    now - rng.gen_range(100..400) * DAY_MS,
                )
                .await?;
                if status == "active" {
                    active.push(e164.clone());
                }
                all_numbers.push((service.org_id.clone(), e164));
                seeded.numbers += 1;
            }
        }
        created.push(Created {
            spec,
            id: service.id,
            org_id: service.org_id,
            numbers: active,
        });
        seeded.services += 1;
    }

    // Incidents (global rows: the carrier's) and porting orders.
    let frankfurt_incident = (now - 12 * DAY_MS - 5 * HOUR_MS, now - 12 * DAY_MS - HOUR_MS);
    seeded.incidents = seed_incidents(db, &mut rng, &created, now, frankfurt_incident).await?;
    seeded.port_orders = seed_port_orders(db, &mut rng, &all_numbers, now).await?;

    // Calls, service by service, in ingest batches.
    let sqlite = db.backend() == Backend::Sqlite;
    let mut conn = db.pool().acquire().await?;
    if sqlite {
        sqlx::query("PRAGMA cache_size = -262144")
            .execute(&mut *conn)
            .await?;
    }
    let total_share: f64 = SERVICES.iter().map(|s| s.share).sum();
    let mut assigned = 0u64;
    let mut stored = 0u64;
    for (i, service) in created.iter().enumerate() {
        let count = if i + 1 == created.len() {
            calls - assigned
        } else {
            ((calls as f64) * service.spec.share / total_share).floor() as u64
        };
        assigned += count;
        let slots = HourSlots::new(now, service.spec.utc_offset_h);
        // Day by day in time order, as a carrier's mediation delivers CDRs: each batch then
        // touches a few days of the calls' indexes instead of all 90 (10 M calls seed in
        // minutes, not hours).
        let mut batch: Vec<CallRecord> = Vec::with_capacity(BATCH_ROWS.min(count as usize));
        for (day, n) in slots.split_by_day(count).into_iter().enumerate() {
            let mut day_calls: Vec<CallRecord> = (0..n)
                .map(|_| {
                    let start = slots.draw_in_day(&mut rng, day);
                    make_call(&mut rng, service, start, now, frankfurt_incident)
                })
                .collect();
            day_calls.sort_by_key(|c| c.started_at);
            for call in day_calls {
                batch.push(call);
                if batch.len() >= BATCH_ROWS {
                    stored +=
                        ingest::store_batch_in_transaction(&mut conn, &service.org_id, &batch)
                            .await?
                            .stored;
                    batch.clear();
                }
            }
        }
        if !batch.is_empty() {
            stored += ingest::store_batch_in_transaction(&mut conn, &service.org_id, &batch)
                .await?
                .stored;
        }
    }
    if sqlite {
        sqlx::query("PRAGMA cache_size = -2000")
            .execute(&mut *conn)
            .await?;
    }
    drop(conn);
    seeded.calls = stored;
    for org in &orgs {
        db::audit::insert(
            db.pool(),
            db::now_ms(),
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
/// A UUIDv7-shaped call id: the call's start (ms) in the first 48 bits, then random bits, as
/// many SBCs make them. Time-ordered ids keep the ingest's id index appends mostly local.
fn det_uuid_v7(rng: &mut StdRng, start_ms: i64) -> String {
    let mut bytes: [u8; 16] = rng.gen();
    bytes[..6].copy_from_slice(&start_ms.to_be_bytes()[2..]);
    bytes[6] = 0x70 | (bytes[6] & 0x0f);
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    uuid::Uuid::from_bytes(bytes).to_string()
}

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

#[allow(clippy::too_many_arguments)]
async fn insert_number(
    db: &Db,
    e164: &str,
    org_id: &str,
    number_type: &str,
    country: &str,
    status: &str,
    service_id: Option<&str>,
    assignment: Option<&str>,
    address_id: Option<&str>,
    created_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO numbers (e164, org_id, number_type, country, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(e164)
    .bind(org_id)
    .bind(number_type)
    .bind(country)
    .bind(status)
    .bind(created_at)
    .execute(db.pool())
    .await?;
    if let Some(service_id) = service_id {
        sqlx::query("UPDATE numbers SET service_id = $1 WHERE e164 = $2")
            .bind(service_id)
            .bind(e164)
            .execute(db.pool())
            .await?;
    }
    if let Some(assignment) = assignment {
        sqlx::query("UPDATE numbers SET assignment = $1 WHERE e164 = $2")
            .bind(assignment)
            .bind(e164)
            .execute(db.pool())
            .await?;
    }
    if let Some(address_id) = address_id {
        sqlx::query(
            // TRUE: an integer in SQLite, a boolean in PostgreSQL.
            "UPDATE numbers SET emergency_calling = TRUE, emergency_address_id = $1 WHERE e164 = $2",
        )
        .bind(address_id)
        .bind(e164)
        .execute(db.pool())
        .await?;
    }
    Ok(())
}

/// The hours of the last [`DAYS`] days before `now`, weighted by the local daily and weekly
/// rhythm (and a slight growth), to draw call starts from.
struct HourSlots {
    first_hour: i64,
    cumulative: Vec<f64>,
}

impl HourSlots {
    fn new(now: i64, utc_offset_h: i64) -> HourSlots {
        let last_hour = ingest::hour_of(now) - HOUR_MS;
        let hours = DAYS * 24;
        let first_hour = last_hour - (hours - 1) * HOUR_MS;
        let mut cumulative = Vec::with_capacity(hours as usize);
        let mut total = 0.0;
        for h in 0..hours {
            let local = first_hour + h * HOUR_MS + utc_offset_h * HOUR_MS;
            let hour_of_day = local.div_euclid(HOUR_MS).rem_euclid(24) as usize;
            // 1970-01-01 was a Thursday: Monday is 0.
            let weekday = (local.div_euclid(DAY_MS) + 3).rem_euclid(7);
            let day_factor = match weekday {
                5 => 0.12,
                6 => 0.07,
                _ => 1.0,
            };
            let growth = 0.9 + 0.2 * (h as f64) / (hours as f64);
            total += HOUR_WEIGHTS[hour_of_day] * day_factor * growth;
            cumulative.push(total);
        }
        HourSlots {
            first_hour,
            cumulative,
        }
    }

    /// The weight of the slots `[from, to)`.
    fn weight(&self, from: usize, to: usize) -> f64 {
        let before = if from == 0 {
            0.0
        } else {
            self.cumulative[from - 1]
        };
        self.cumulative[to - 1] - before
    }

    /// `count` calls shared among the days (24 slots each) by their weights; the rounding
    /// remainder goes to the days with the largest fractions, so the counts add up exactly.
    fn split_by_day(&self, count: u64) -> Vec<u64> {
        let days = self.cumulative.len() / 24;
        let total = self.weight(0, days * 24);
        let exact: Vec<f64> = (0..days)
            .map(|d| count as f64 * self.weight(d * 24, d * 24 + 24) / total)
            .collect();
        let mut counts: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
        let mut order: Vec<usize> = (0..days).collect();
        order.sort_by(|a, b| {
            let fa = exact[*a] - exact[*a].floor();
            let fb = exact[*b] - exact[*b].floor();
            fb.total_cmp(&fa).then(a.cmp(b))
        });
        let short = count - counts.iter().sum::<u64>();
        for d in order.into_iter().cycle().take(short as usize) {
            counts[d] += 1;
        }
        counts
    }

    /// A start time within day `day` (slots `24·day ..`), by the slots' weights.
    fn draw_in_day(&self, rng: &mut StdRng, day: usize) -> i64 {
        let (from, to) = (day * 24, day * 24 + 24);
        let before = if from == 0 {
            0.0
        } else {
            self.cumulative[from - 1]
        };
        let u = before + rng.gen::<f64>() * self.weight(from, to);
        let slot = self.cumulative[from..to]
            .partition_point(|&c| c < u)
            .min(23)
            + from;
        self.first_hour + slot as i64 * HOUR_MS + rng.gen_range(0..HOUR_MS)
    }
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn far_end(rng: &mut StdRng, home: &str) -> (String, String) {
    // Most calls stay in the service's country.
    let pool: Vec<&(&str, &str, usize)> = if rng.gen_bool(0.7) {
        FAR_ENDS.iter().filter(|f| f.0 == home).collect()
    } else {
        FAR_ENDS.iter().collect()
    };
    let pool = if pool.is_empty() {
        FAR_ENDS.iter().collect()
    } else {
        pool
    };
    let &&(country, prefix, digits) = &pool[rng.gen_range(0..pool.len())];
    (
        country.to_string(),
        format!("{prefix}{}", random_digits(rng, digits)),
    )
}

fn make_call(
    rng: &mut StdRng,
    service: &Created,
    mut start: i64,
    now: i64,
    incident: (i64, i64),
) -> CallRecord {
    let spec = service.spec;
    let id = det_uuid_v7(rng, start);
    let direction = if rng.gen_bool(0.55) {
        Direction::Inbound
    } else {
        Direction::Outbound
    };
    let own = if service.numbers.is_empty() {
        format!("+{}", random_digits(rng, 11))
    } else {
        service.numbers[rng.gen_range(0..service.numbers.len())].clone()
    };
    let (country, other) = far_end(rng, spec.country);
    let (from, to) = match direction {
        Direction::Inbound => (other, own),
        Direction::Outbound => (own, other),
    };
    // Failures are likelier on the degraded service and during its incident.
    let in_incident = spec.health == "degraded" && start >= incident.0 && start < incident.1;
    let fail_boost = if in_incident {
        0.35
    } else if spec.health == "degraded" {
        0.02
    } else {
        0.0
    };
    let roll: f64 = rng.gen();
    let (result, sip_code, sip_reason) = if roll < fail_boost + 0.025 {
        if rng.gen_bool(0.85) {
            (CallResult::Failed, 503, "Service Unavailable")
        } else {
            (CallResult::Failed, 404, "Not Found")
        }
    } else if roll < fail_boost + 0.075 {
        (CallResult::Busy, 486, "Busy Here")
    } else if roll < fail_boost + 0.135 {
        (CallResult::NoAnswer, 480, "Temporarily Unavailable")
    } else if roll < fail_boost + 0.175 {
        (CallResult::Cancelled, 487, "Request Terminated")
    } else {
        (CallResult::Answered, 200, "OK")
    };
    let (answer_after, length) = match result {
        CallResult::Answered => {
            let ring = rng.gen_range(2_000..18_000);
            // Talk time: log-normal, median about 2.5 minutes, at most 2 hours.
            let talk = ((150.0f64).ln() + 1.0 * normal(rng))
                .exp()
                .clamp(3.0, 7200.0);
            (Some(ring), ring + (talk * 1000.0) as i64)
        }
        CallResult::Busy => (None, rng.gen_range(500..3_000)),
        CallResult::NoAnswer => (None, rng.gen_range(20_000..45_000)),
        CallResult::Cancelled => (None, rng.gen_range(3_000..25_000)),
        CallResult::Failed => (None, rng.gen_range(100..2_000)),
    };
    if start + length > now {
        start = now - length;
    }
    let (mos, jitter, loss) = if result == CallResult::Answered && rng.gen_bool(0.96) {
        let bad_chance = if in_incident {
            0.5
        } else if spec.health == "degraded" {
            0.12
        } else {
            0.04
        };
        if rng.gen_bool(bad_chance) {
            (
                round2(rng.gen_range(2.2..3.6)),
                round2(rng.gen_range(25.0..90.0)),
                round2(rng.gen_range(1.0..8.0)),
            )
        } else {
            (
                round2((4.25 + 0.12 * normal(rng)).clamp(3.7, 4.5)),
                round2(rng.gen_range(1.0..12.0)),
                round2(rng.gen_range(0.0..0.4)),
            )
        }
    } else {
        (f64::NAN, f64::NAN, f64::NAN)
    };
    let known = |x: f64| (!x.is_nan()).then_some(x);
    CallRecord {
        id,
        service_id: service.id.clone(),
        started_at: start,
        answered_at: answer_after.map(|a| start + a),
        ended_at: start + length,
        direction,
        from,
        to,
        result,
        sip_code,
        sip_reason: sip_reason.to_string(),
        mos: known(mos),
        jitter_ms: known(jitter),
        packet_loss_pct: known(loss),
        country,
    }
}

async fn seed_incidents(
    db: &Db,
    rng: &mut StdRng,
    created: &[Created<'_>],
    now: i64,
    frankfurt: (i64, i64),
) -> anyhow::Result<usize> {
    let service = |name: &str| {
        created
            .iter()
            .find(|c| c.spec.name == name)
            .map(|c| c.id.clone())
    };
    // (kind, scope, service, country, title, status, starts, ends, updates)
    type Updates = &'static [(i64, &'static str, &'static str)];
    type IncidentSpec = (
        &'static str,
        &'static str,
        Option<String>,
        Option<&'static str>,
        &'static str,
        &'static str,
        i64,
        Option<i64>,
        Updates,
    );
    let incidents: Vec<IncidentSpec> = vec![
        (
            "incident",
            "service",
            service("Teams Direct Routing Frankfurt"),
            None,
            "Call failures on Teams Direct Routing in Frankfurt",
            "resolved",
            frankfurt.0,
            Some(frankfurt.1),
            &[
                (10 * 60_000, "investigating", "We are investigating elevated call failures (SIP 503) for Direct Routing calls through Frankfurt."),
                (70 * 60_000, "identified", "A faulty media gateway in Frankfurt has been identified and taken out of service."),
                (4 * HOUR_MS, "resolved", "Calls have completed normally for an hour. This incident is resolved."),
            ],
        ),
        (
            "incident",
            "service",
            service("Paris SIP trunk"),
            None,
            "Paris SIP trunk not answering OPTIONS probes",
            "investigating",
            now - 40 * 60_000,
            None,
            &[(5 * 60_000, "investigating", "The customer SBC stopped answering our probes; we are checking the interconnect.")],
        ),
        (
            "incident",
            "country",
            None,
            Some("GB"),
            "Intermittent one-way audio to UK mobile numbers",
            "resolved",
            now - 41 * DAY_MS,
            Some(now - 41 * DAY_MS + 3 * HOUR_MS),
            &[
                (15 * 60_000, "investigating", "Some calls to UK mobiles have one-way audio."),
                (3 * HOUR_MS, "resolved", "A routing change by a transit partner was reverted."),
            ],
        ),
        (
            "maintenance",
            "global",
            None,
            None,
            "Core SBC software upgrade",
            "scheduled",
            (now / DAY_MS + 5) * DAY_MS + 2 * HOUR_MS,
            Some((now / DAY_MS + 5) * DAY_MS + 4 * HOUR_MS),
            &[(-3 * DAY_MS, "scheduled", "Calls in progress may drop once per SBC pair during the window; new calls are routed to the other site.")],
        ),
    ];
    let mut count = 0;
    for (kind, scope, service_id, country, title, status, starts, ends, updates) in incidents {
        let id = det_uuid(rng);
        let created_at = starts.min(now);
        sqlx::query(
            "INSERT INTO incidents (id, kind, scope, service_id, country, title, status, starts_at, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(&id)
        .bind(kind)
        .bind(scope)
        .bind(service_id)
        .bind(country)
        .bind(title)
        .bind(status)
        .bind(starts)
        .bind(created_at)
        .execute(db.pool())
        .await?;
        if let Some(ends) = ends {
            sqlx::query("UPDATE incidents SET ends_at = $1 WHERE id = $2")
                .bind(ends)
                .bind(&id)
                .execute(db.pool())
                .await?;
        }
        for &(after, status, body) in updates {
            let posted_at = if after < 0 {
                created_at
            } else {
                starts + after
            };
            sqlx::query(
                "INSERT INTO incident_updates (id, incident_id, posted_at, status, body) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(det_uuid(rng))
            .bind(&id)
            .bind(posted_at.min(now))
            .bind(status)
            .bind(body)
            .execute(db.pool())
            .await?;
        }
        count += 1;
    }
    Ok(count)
}

async fn seed_port_orders(
    db: &Db,
    rng: &mut StdRng,
    numbers: &[(String, String)],
    now: i64,
) -> anyhow::Result<usize> {
    let today = now.div_euclid(DAY_MS) * DAY_MS;
    let orgs: Vec<&String> = {
        let mut v: Vec<&String> = numbers.iter().map(|(o, _)| o).collect();
        v.dedup();
        v
    };
    // (org index, losing carrier, requested for, foc, status, events)
    type Events = &'static [(i64, &'static str, &'static str)];
    type OrderSpec = (usize, &'static str, i64, Option<i64>, &'static str, Events);
    let orders: [OrderSpec; 4] = [
        (
            0,
            "BT Wholesale",
            today - 30 * DAY_MS,
            Some(today - 30 * DAY_MS),
            "completed",
            &[
                (-45, "submitted", ""),
                (-40, "confirmed", "FOC confirmed by the losing carrier"),
                (-30, "completed", "numbers live on the London SIP trunk"),
            ],
        ),
        (
            0,
            "Deutsche Telekom",
            today + 9 * DAY_MS,
            Some(today + 9 * DAY_MS),
            "confirmed",
            &[(-6, "submitted", ""), (-2, "confirmed", "FOC confirmed")],
        ),
        (
            1,
            "Lumen",
            today + 14 * DAY_MS,
            None,
            "submitted",
            &[(-1, "submitted", "")],
        ),
        (
            1,
            "Orange Business",
            today - 3 * DAY_MS,
            None,
            "rejected",
            &[
                (-10, "submitted", ""),
                (
                    -7,
                    "rejected",
                    "account number does not match the losing carrier's records",
                ),
            ],
        ),
    ];
    let mut count = 0;
    for (org_index, carrier, requested, foc, status, events) in orders {
        let Some(org_id) = orgs.get(org_index) else {
            continue;
        };
        let id = det_uuid(rng);
        let created_at = today + events.first().map(|e| e.0).unwrap_or(-1) * DAY_MS;
        sqlx::query(
            "INSERT INTO port_orders (id, org_id, losing_carrier, requested_for, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(org_id.as_str())
        .bind(carrier)
        .bind(requested)
        .bind(status)
        .bind(created_at)
        .bind(today + events.last().map(|e| e.0).unwrap_or(-1) * DAY_MS)
        .execute(db.pool())
        .await?;
        if let Some(foc) = foc {
            sqlx::query("UPDATE port_orders SET foc_at = $1 WHERE id = $2")
                .bind(foc)
                .bind(&id)
                .execute(db.pool())
                .await?;
        }
        let theirs: Vec<&String> = numbers
            .iter()
            .filter(|(o, _)| o == *org_id)
            .map(|(_, e)| e)
            .collect();
        let take = rng.gen_range(3..8).min(theirs.len());
        let from = rng.gen_range(0..theirs.len().saturating_sub(take).max(1));
        for e164 in &theirs[from..from + take] {
            sqlx::query("INSERT INTO port_order_numbers (port_order_id, e164) VALUES ($1, $2)")
                .bind(&id)
                .bind(e164.as_str())
                .execute(db.pool())
                .await?;
        }
        for &(day, event_status, note) in events {
            sqlx::query(
                "INSERT INTO port_order_events (id, port_order_id, at, status, note, actor_label) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(det_uuid(rng))
            .bind(&id)
            .bind(today + day * DAY_MS + 10 * HOUR_MS)
            .bind(event_status)
            .bind(note)
            .bind(match (event_status, org_index) {
                ("submitted", 0) => "admin@contoso.example",
                ("submitted", _) => "admin@fabrikam.example",
                _ => "noc@carrier.example",
            })
            .execute(db.pool())
            .await?;
        }
        count += 1;
    }
    Ok(count)
}
