//! The demo's calls: when they start (the local daily and weekly rhythm), who they reach, how
//! they end and how they sound, each from the seeded generator; stored through the CDR ingest.

use rand::{rngs::StdRng, Rng};

use crate::{
    db::{self, Backend, Db},
    voice::{
        cdr::{CallRecord, CallResult, Direction},
        ingest::{self, HOUR_MS},
    },
};

use super::{catalog::SERVICES, random_digits, Created, DAYS, DAY_MS};

/// CDRs per ingest transaction.
const BATCH_ROWS: usize = 50_000;

/// Stores `calls` calls over the last [`DAYS`] days, shared out between the `created`
/// services by their catalogue share, in ingest batches; `incident` is the Frankfurt outage's
/// window, which the calls on that service show. Returns how many calls were stored.
pub(super) async fn seed_calls(
    db: &Db,
    rng: &mut StdRng,
    created: &[Created<'_>],
    calls: u64,
    now: i64,
    incident: (i64, i64),
) -> anyhow::Result<u64> {
    let sqlite = db.backend() == Backend::Sqlite;
    let mut conn = db.pool().acquire().await?;
    if sqlite {
        // The import's page cache while millions of rows go in; set back below.
        db::set_sqlite_cache_kib(&mut conn, ingest::SQLITE_IMPORT_CACHE_KIB).await?;
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
                    let start = slots.draw_in_day(rng, day);
                    make_call(rng, service, start, now, incident)
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
        db::set_sqlite_cache_kib(&mut conn, ingest::SQLITE_DEFAULT_CACHE_KIB).await?;
    }
    Ok(stored)
}

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

/// A UUIDv7-shaped call id: the call's start (ms) in the first 48 bits, then random bits, as
/// many SBCs make them. Time-ordered ids keep the ingest's id index appends mostly local.
fn det_uuid_v7(rng: &mut StdRng, start_ms: i64) -> String {
    let mut bytes: [u8; 16] = rng.gen();
    bytes[..6].copy_from_slice(&start_ms.to_be_bytes()[2..]);
    bytes[6] = 0x70 | (bytes[6] & 0x0f);
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    uuid::Uuid::from_bytes(bytes).to_string()
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
