//! The hourly rollups as stored, and as recomputed from the raw calls (counters by SQL, peak
//! channels by brute force), to assert that the two agree.

use std::collections::BTreeMap;

use portal::{db::Db, voice::ingest::HOUR_MS};
use sqlx::Row;

/// (calls, answered, busy, no_answer, failed, cancelled, answered_ms, mos_count), mos_sum, peak.
pub type Rollup = ([i64; 8], f64, i64);

/// The counter columns both rollups have.
const COUNTERS: &str =
    "calls, answered, busy, no_answer, failed, cancelled, answered_ms, mos_count, mos_sum";

/// A rollup row's counters, with the peak from column `peak` if the rollup has one.
fn rollup_of(row: &sqlx::any::AnyRow, peak: Option<&str>) -> Rollup {
    let ints = [
        "calls",
        "answered",
        "busy",
        "no_answer",
        "failed",
        "cancelled",
        "answered_ms",
        "mos_count",
    ]
    .map(|c| row.get::<i64, _>(c));
    (
        ints,
        row.get::<f64, _>("mos_sum"),
        peak.map_or(0, |p| row.get::<i64, _>(p)),
    )
}

/// The per-service rollup of an organisation, keyed by (service name, hour).
pub async fn service_rollup(db: &Db, org_id: &str) -> BTreeMap<(String, i64), Rollup> {
    sqlx::query(&format!(
        "SELECT s.name AS name, r.hour_at AS hour_at, {}, r.peak_channels AS peak_channels \
         FROM call_hourly_by_service r JOIN services s ON s.id = r.service_id WHERE r.org_id = $1",
        COUNTERS
            .split(", ")
            .map(|c| format!("r.{c} AS {c}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .bind(org_id)
    .fetch_all(db.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            (r.get("name"), r.get("hour_at")),
            rollup_of(r, Some("peak_channels")),
        )
    })
    .collect()
}

/// The per-country rollup of an organisation, keyed by (country, hour).
pub async fn country_rollup(db: &Db, org_id: &str) -> BTreeMap<(String, i64), Rollup> {
    sqlx::query(&format!(
        "SELECT country, hour_at, {COUNTERS} FROM call_hourly_by_country WHERE org_id = $1"
    ))
    .bind(org_id)
    .fetch_all(db.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| ((r.get("country"), r.get("hour_at")), rollup_of(r, None)))
    .collect()
}

/// The counters recomputed from the raw calls by SQL, grouped by `key` (a column of calls or
/// the service name) and the hour of the start.
async fn recomputed_counters(db: &Db, org_id: &str, key: &str) -> BTreeMap<(String, i64), Rollup> {
    let sum_if = |r: &str| {
        format!("CAST(SUM(CASE WHEN c.result = '{r}' THEN 1 ELSE 0 END) AS BIGINT) AS {r}")
    };
    let sql = format!(
        "SELECT {key} AS k, (c.started_at / {HOUR_MS}) * {HOUR_MS} AS hour_at, COUNT(*) AS calls, {}, {}, {}, {}, {}, \
         CAST(COALESCE(SUM(c.ended_at - c.answered_at), 0) AS BIGINT) AS answered_ms, \
         COUNT(c.mos) AS mos_count, CAST(COALESCE(SUM(c.mos), 0) AS DOUBLE PRECISION) AS mos_sum \
         FROM calls c JOIN services s ON s.id = c.service_id WHERE c.org_id = $1 \
         GROUP BY {key}, (c.started_at / {HOUR_MS}) * {HOUR_MS}",
        sum_if("answered"), sum_if("busy"), sum_if("no_answer"), sum_if("failed"), sum_if("cancelled"),
    );
    sqlx::query(&sql)
        .bind(org_id)
        .fetch_all(db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| ((r.get("k"), r.get("hour_at")), rollup_of(r, None)))
        .collect()
}

/// Peak channels by brute force: at the hour's start and at every call start within the hour,
/// count the calls with start ≤ t < end.
fn brute_force_peak(spans: &[(i64, i64)], hour: i64) -> i64 {
    let mut instants = vec![hour];
    instants.extend(
        spans
            .iter()
            .map(|s| s.0)
            .filter(|s| (hour..hour + HOUR_MS).contains(s)),
    );
    instants
        .iter()
        .map(|t| spans.iter().filter(|(s, e)| s <= t && t < e).count() as i64)
        .max()
        .unwrap_or(0)
}

/// Asserts that both rollups of the organisation equal a recomputation from its raw calls.
pub async fn assert_rollups_match_raw_calls(db: &Db, org_id: &str) {
    let stored = service_rollup(db, org_id).await;
    let counters = recomputed_counters(db, org_id, "s.name").await;
    let calls = sqlx::query(
        "SELECT s.name AS name, c.started_at AS s, c.ended_at AS e FROM calls c JOIN services s ON s.id = c.service_id WHERE c.org_id = $1",
    )
    .bind(org_id)
    .fetch_all(db.pool())
    .await
    .unwrap();
    let mut spans: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    for r in &calls {
        spans
            .entry(r.get("name"))
            .or_default()
            .push((r.get("s"), r.get("e")));
    }
    // Every service-hour a call overlaps, plus every hour with counters.
    let mut expected_keys: std::collections::BTreeSet<(String, i64)> =
        counters.keys().cloned().collect();
    for (name, list) in &spans {
        for (s, e) in list {
            let mut h = s.div_euclid(HOUR_MS) * HOUR_MS;
            while h < *e {
                expected_keys.insert((name.clone(), h));
                h += HOUR_MS;
            }
        }
    }
    assert_eq!(
        stored
            .keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        expected_keys
    );
    for (key, (ints, mos_sum, peak)) in &stored {
        let (want_ints, want_mos, _) = counters.get(key).copied().unwrap_or(([0; 8], 0.0, 0));
        assert_eq!(*ints, want_ints, "{key:?}");
        assert!(
            (mos_sum - want_mos).abs() < 1e-9,
            "{key:?}: {mos_sum} vs {want_mos}"
        );
        assert_eq!(
            *peak,
            brute_force_peak(&spans[&key.0], key.1),
            "peak of {key:?}"
        );
    }
    let stored = country_rollup(db, org_id).await;
    let counters = recomputed_counters(db, org_id, "c.country").await;
    assert_eq!(stored.len(), counters.len());
    for (key, (ints, mos_sum, _)) in &stored {
        let (want_ints, want_mos, _) = counters[key];
        assert_eq!(*ints, want_ints, "{key:?}");
        assert!((mos_sum - want_mos).abs() < 1e-9, "{key:?}");
    }
}
