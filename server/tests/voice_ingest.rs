//! CDR ingest over a real database: idempotent re-imports, per-organisation ids, rollups that
//! equal a recomputation from the raw rows whatever the arrival order, strict mode, a bad
//! header, and `portal calls import` / `portal service create` exit codes.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::process::{Command, Output, Stdio};

use portal::{
    accounts::Actor,
    db::Db,
    voice::{
        cdr::{CdrReader, Format, InputError, HEADER},
        ingest::{self, ImportOptions, ImportReport, IngestError, HOUR_MS},
        services::{create_service, NewService, ServiceKind},
    },
};
use sqlx::Row;
use support::{create_org, test_db};

/// 2026-03-01T00:00:00Z.
const BASE: i64 = 1_772_323_200_000;

fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// One generated call.
#[derive(Debug, Clone)]
struct Cdr {
    id: String,
    service: &'static str,
    start: i64,
    answer: Option<i64>,
    end: i64,
    result: &'static str,
    mos: Option<f64>,
    country: &'static str,
}

impl Cdr {
    fn csv(&self) -> String {
        format!(
            "{},{},{},{},{},outbound,+441134960000,+4930901820,{},{},,{},,,{}",
            self.id,
            self.service,
            rfc3339(self.start),
            self.answer.map(rfc3339).unwrap_or_default(),
            rfc3339(self.end),
            self.result,
            if self.result == "answered" { 200 } else { 486 },
            self.mos.map(|m| m.to_string()).unwrap_or_default(),
            self.country,
        )
    }
}

fn csv(calls: &[Cdr]) -> String {
    let mut s = HEADER.join(",");
    s.push('\n');
    for c in calls {
        s.push_str(&c.csv());
        s.push('\n');
    }
    s
}

/// Deterministic calls over about five hours on two services, with a call spanning three
/// hours, a zero-length call and calls ending exactly when others start.
fn generated_calls() -> Vec<Cdr> {
    let mut seed: u64 = 0x5eed;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let results = [
        "answered",
        "answered",
        "answered",
        "busy",
        "no_answer",
        "failed",
        "cancelled",
    ];
    let mut calls = Vec::new();
    for i in 0..80 {
        let start = BASE + next(5 * HOUR_MS as u64) as i64;
        let result = results[next(results.len() as u64) as usize];
        let length = next(40 * 60_000) as i64;
        let answer = (result == "answered").then(|| start + next(20_000) as i64);
        calls.push(Cdr {
            id: format!("call-{i:03}"),
            service: if i % 3 == 0 { "Trunk B" } else { "Trunk A" },
            start,
            answer,
            end: answer.unwrap_or(start) + length,
            result,
            mos: (result == "answered" && i % 4 != 0).then(|| 1.0 + (next(400) as f64) / 100.0),
            country: ["GB", "DE", "US"][i % 3],
        });
    }
    // 00:50 → 03:10: overlaps hours 0, 1, 2 and 3 (the hours it spans: four buckets).
    calls.push(Cdr {
        id: "long".into(),
        service: "Trunk A",
        start: BASE + 50 * 60_000,
        answer: Some(BASE + 51 * 60_000),
        end: BASE + 3 * HOUR_MS + 10 * 60_000,
        result: "answered",
        mos: Some(4.4),
        country: "GB",
    });
    // 01:30 → 03:50 on Trunk B: three hours.
    calls.push(Cdr {
        id: "three-hours".into(),
        service: "Trunk B",
        start: BASE + HOUR_MS + 30 * 60_000,
        answer: Some(BASE + HOUR_MS + 30 * 60_000),
        end: BASE + 3 * HOUR_MS + 50 * 60_000,
        result: "answered",
        mos: None,
        country: "DE",
    });
    calls.push(Cdr {
        id: "zero".into(),
        service: "Trunk B",
        start: BASE + 2 * HOUR_MS,
        answer: None,
        end: BASE + 2 * HOUR_MS,
        result: "failed",
        mos: None,
        country: "US",
    });
    // Back to back at exactly 04:00.
    for (id, s, e) in [
        ("b2b-1", 3 * HOUR_MS + 59 * 60_000, 4 * HOUR_MS),
        ("b2b-2", 4 * HOUR_MS, 4 * HOUR_MS + 60_000),
    ] {
        calls.push(Cdr {
            id: id.into(),
            service: "Trunk A",
            start: BASE + s,
            answer: None,
            end: BASE + e,
            result: "cancelled",
            mos: None,
            country: "GB",
        });
    }
    calls
}

/// An organisation with the services "Trunk A" and "Trunk B"; returns its id.
async fn org_with_services(db: &Db, slug: &str) -> String {
    let org_id = create_org(db, slug).await;
    for (name, channels) in [("Trunk A", 30), ("Trunk B", 10)] {
        create_service(
            db,
            Actor::CLI,
            NewService {
                org_slug: slug,
                kind: ServiceKind::SipTrunk,
                name,
                country: "GB",
                channels,
            },
        )
        .await
        .unwrap();
    }
    org_id
}

async fn import(db: &Db, org_id: &str, input: &str, options: ImportOptions) -> ImportReport {
    let input = std::io::Cursor::new(input.as_bytes().to_vec());
    ingest::import(
        db,
        Actor::CLI,
        org_id,
        Format::Csv,
        input,
        &options,
        |_, _| {},
    )
    .await
    .unwrap()
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(db.pool())
        .await
        .unwrap()
        .get::<i64, _>(0)
}

/// (calls, answered, busy, no_answer, failed, cancelled, answered_ms, mos_count), mos_sum, peak.
type Rollup = ([i64; 8], f64, i64);

const COUNTERS: &str =
    "calls, answered, busy, no_answer, failed, cancelled, answered_ms, mos_count, mos_sum";

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
async fn service_rollup(db: &Db, org_id: &str) -> BTreeMap<(String, i64), Rollup> {
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

async fn country_rollup(db: &Db, org_id: &str) -> BTreeMap<(String, i64), Rollup> {
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
async fn assert_rollups_match_raw_calls(db: &Db, org_id: &str) {
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

fn small_batches(n: usize) -> ImportOptions {
    ImportOptions {
        batch_rows: n,
        ..ImportOptions::default()
    }
}

#[tokio::test]
async fn rollups_equal_a_recomputation_whatever_the_arrival_order() {
    let t = test_db().await;
    let in_order = org_with_services(&t.db, "in-order").await;
    let shuffled = org_with_services(&t.db, "shuffled").await;
    let mut calls = generated_calls();
    calls.sort_by_key(|c| c.start);
    let report = import(&t.db, &in_order, &csv(&calls), ImportOptions::default()).await;
    assert_eq!(
        (report.stored, report.duplicates, report.refused),
        (calls.len() as u64, 0, 0)
    );

    // The same calls, newest first and interleaved, in batches of 7 over two imports.
    calls.reverse();
    let (odd, even): (Vec<_>, Vec<_>) = calls
        .iter()
        .cloned()
        .enumerate()
        .partition(|(i, _)| i % 2 == 1);
    let odd: Vec<Cdr> = odd.into_iter().map(|(_, c)| c).collect();
    let even: Vec<Cdr> = even.into_iter().map(|(_, c)| c).collect();
    assert_eq!(
        import(&t.db, &shuffled, &csv(&odd), small_batches(7))
            .await
            .stored,
        odd.len() as u64
    );
    assert_eq!(
        import(&t.db, &shuffled, &csv(&even), small_batches(7))
            .await
            .stored,
        even.len() as u64
    );

    assert_rollups_match_raw_calls(&t.db, &in_order).await;
    assert_rollups_match_raw_calls(&t.db, &shuffled).await;
    assert_eq!(
        service_rollup(&t.db, &in_order).await.len(),
        service_rollup(&t.db, &shuffled).await.len()
    );
    for ((key, a), b) in service_rollup(&t.db, &in_order)
        .await
        .iter()
        .zip(service_rollup(&t.db, &shuffled).await.values())
    {
        assert_eq!((a.0, a.2), (b.0, b.2), "{key:?}");
    }

    // The long calls count in every hour they overlap, with no calls started there.
    let rollup = service_rollup(&t.db, &in_order).await;
    let b = |h: i64| rollup[&("Trunk B".to_string(), BASE + h * HOUR_MS)].2;
    assert!(b(1) >= 1 && b(2) >= 1 && b(3) >= 1);
    let a = |h: i64| rollup[&("Trunk A".to_string(), BASE + h * HOUR_MS)].2;
    assert!(a(0) >= 1 && a(1) >= 1 && a(2) >= 1 && a(3) >= 1);
}

#[tokio::test]
async fn re_importing_a_file_changes_nothing() {
    let t = test_db().await;
    let org = org_with_services(&t.db, "contoso").await;
    let calls = generated_calls();
    let input = csv(&calls);
    let first = import(&t.db, &org, &input, small_batches(10)).await;
    assert_eq!((first.stored, first.duplicates), (calls.len() as u64, 0));
    let services = service_rollup(&t.db, &org).await;
    let countries = country_rollup(&t.db, &org).await;

    let again = import(&t.db, &org, &input, small_batches(10)).await;
    assert_eq!(
        (again.stored, again.duplicates, again.refused),
        (0, calls.len() as u64, 0)
    );
    assert_eq!(service_rollup(&t.db, &org).await, services);
    assert_eq!(country_rollup(&t.db, &org).await, countries);
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM calls").await,
        calls.len() as i64
    );

    // A file that overlaps what is stored (as after a crash mid-import) completes it; an id
    // repeated within one file is stored once.
    let mut more = calls[..5].to_vec();
    let mut extra = calls[0].clone();
    extra.id = "extra".into();
    more.push(extra.clone());
    more.push(extra);
    let report = import(&t.db, &org, &csv(&more), ImportOptions::default()).await;
    assert_eq!((report.stored, report.duplicates), (1, 6));
    assert_rollups_match_raw_calls(&t.db, &org).await;
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'calls.imported'"
        )
        .await,
        3
    );
}

#[tokio::test]
async fn stored_ids_in_the_middle_of_a_large_batch_are_duplicates() {
    // One 2,500-row batch is three insert statements (1,000 rows each); the middle one meets
    // 500 stored ids, so the ingest must tell exactly which of its rows were new.
    let t = test_db().await;
    let org = org_with_services(&t.db, "contoso").await;
    let call = |i: i64| Cdr {
        id: format!("big-{i:05}"),
        service: if i % 3 == 0 { "Trunk B" } else { "Trunk A" },
        start: BASE + i * 7_000,
        answer: Some(BASE + i * 7_000 + 2_000),
        end: BASE + i * 7_000 + 30_000 + (i % 11) * 60_000,
        result: "answered",
        mos: Some(4.0),
        country: "GB",
    };
    let stored_first: Vec<Cdr> = (1_250..1_750).map(call).collect();
    let first = import(&t.db, &org, &csv(&stored_first), ImportOptions::default()).await;
    assert_eq!(first.stored, 500);
    let all: Vec<Cdr> = (0..2_500).map(call).collect();
    let report = import(&t.db, &org, &csv(&all), ImportOptions::default()).await;
    assert_eq!((report.stored, report.duplicates), (2_000, 500));
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM calls").await, 2_500);
    assert_rollups_match_raw_calls(&t.db, &org).await;
}

#[tokio::test]
async fn text_with_quotes_commas_braces_and_backslashes_is_stored_as_sent() {
    // PostgreSQL receives the batch as array literals: quoting must not change a value.
    let t = test_db().await;
    let org = org_with_services(&t.db, "contoso").await;
    let reason = r#"Busy, "really" \ {here} NULL"#;
    let input = format!(
        "{}\nid \"1\",Trunk A,2026-03-01T09:00:00Z,,2026-03-01T09:00:05Z,inbound,+441134960000,+4930901820,busy,486,\"{}\",,,,DE\n",
        HEADER.join(","),
        reason.replace('"', "\"\"")
    );
    let report = import(&t.db, &org, &input, ImportOptions::default()).await;
    assert_eq!((report.stored, report.refused), (1, 0), "{report:?}");
    let row = sqlx::query("SELECT id, sip_reason, mos FROM calls")
        .fetch_one(t.db.pool())
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("id"), "id \"1\"");
    assert_eq!(row.get::<String, _>("sip_reason"), reason);
    assert_eq!(row.get::<Option<f64>, _>("mos"), None);
}

#[tokio::test]
async fn deleting_a_service_or_an_organisation_deletes_its_calls() {
    let t = test_db().await;
    let org = org_with_services(&t.db, "contoso").await;
    let other = org_with_services(&t.db, "fabrikam").await;
    let calls = generated_calls();
    import(&t.db, &org, &csv(&calls), ImportOptions::default()).await;
    import(&t.db, &other, &csv(&calls), ImportOptions::default()).await;
    let total = count(&t.db, "SELECT COUNT(*) FROM calls").await;
    let on_b: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM calls c JOIN services s ON s.id = c.service_id \
         WHERE s.org_id = $1 AND s.name = 'Trunk B'",
    )
    .bind(&org)
    .fetch_one(t.db.pool())
    .await
    .unwrap();
    assert!(on_b > 0);
    sqlx::query("DELETE FROM services WHERE org_id = $1 AND name = 'Trunk B'")
        .bind(&org)
        .execute(t.db.pool())
        .await
        .unwrap();
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM calls").await,
        total - on_b
    );
    sqlx::query("DELETE FROM organisations WHERE id = $1")
        .bind(&org)
        .execute(t.db.pool())
        .await
        .unwrap();
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM calls").await,
        calls.len() as i64
    );
}

#[tokio::test]
async fn the_same_id_in_two_organisations_is_two_calls() {
    let t = test_db().await;
    let a = org_with_services(&t.db, "org-a").await;
    let b = org_with_services(&t.db, "org-b").await;
    let calls = generated_calls()[..10].to_vec();
    assert_eq!(
        import(&t.db, &a, &csv(&calls), ImportOptions::default())
            .await
            .stored,
        10
    );
    let report = import(&t.db, &b, &csv(&calls), ImportOptions::default()).await;
    assert_eq!((report.stored, report.duplicates), (10, 0));
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM calls").await, 20);
    assert_eq!(
        service_rollup(&t.db, &a).await.len(),
        service_rollup(&t.db, &b).await.len()
    );
    assert_rollups_match_raw_calls(&t.db, &a).await;
    assert_rollups_match_raw_calls(&t.db, &b).await;
}

#[tokio::test]
async fn invalid_rows_are_refused_and_the_rest_stored() {
    let t = test_db().await;
    let org = org_with_services(&t.db, "contoso").await;
    let calls = generated_calls()[..4].to_vec();
    let mut input = csv(&calls);
    // Line 6: ends before it starts; line 7: a service of another organisation.
    let mut bad = calls[0].clone();
    bad.id = "bad-1".into();
    bad.end = bad.start - 1;
    bad.answer = None;
    bad.result = "failed";
    input.push_str(&bad.csv());
    input.push('\n');
    input.push_str(
        &calls[1]
            .csv()
            .replace("call-", "other-")
            .replace("Trunk A", "Nope")
            .replace("Trunk B", "Nope"),
    );
    input.push('\n');
    let report = import(&t.db, &org, &input, ImportOptions::default()).await;
    assert_eq!((report.stored, report.refused), (4, 2));
    let reasons: Vec<(u64, &str)> = report
        .refusals
        .iter()
        .map(|r| (r.line, r.field.as_str()))
        .collect();
    assert_eq!(reasons, vec![(6, "end"), (7, "service")]);
}

#[tokio::test]
async fn strict_mode_writes_nothing_when_a_row_is_invalid() {
    let t = test_db().await;
    let org = org_with_services(&t.db, "contoso").await;
    let calls = generated_calls();
    let mut input = csv(&calls);
    input.push_str(
        &calls[0]
            .csv()
            .replace("call-000", "late-bad")
            .replace(",+441134960000,", ",0044,"),
    );
    input.push('\n');
    let strict = ImportOptions {
        strict: true,
        batch_rows: 10,
        ..ImportOptions::default()
    };
    let report = import(&t.db, &org, &input, strict.clone()).await;
    assert!(report.rolled_back);
    assert_eq!((report.stored, report.refused), (0, 1));
    assert_eq!(report.refusals[0].field, "from");
    assert_eq!(report.refusals[0].line, calls.len() as u64 + 2);
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM calls").await, 0);
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM call_hourly_by_service").await,
        0
    );
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM call_hourly_by_country").await,
        0
    );

    // A clean file in strict mode is stored whole.
    let report = import(&t.db, &org, &csv(&calls), strict).await;
    assert!(!report.rolled_back);
    assert_eq!(report.stored, calls.len() as u64);
    assert_rollups_match_raw_calls(&t.db, &org).await;
}

#[tokio::test]
async fn a_wrong_header_or_unknown_org_is_refused() {
    let t = test_db().await;
    org_with_services(&t.db, "contoso").await;
    let input = csv(&generated_calls()[..3]).replacen("id,service", "call_id,service", 1);
    assert!(matches!(
        CdrReader::new(Format::Csv, input.as_bytes()),
        Err(InputError::WrongHeader { .. })
    ));
    let e = ingest::find_org(&t.db, "nobody").await.unwrap_err();
    assert!(matches!(e, IngestError::UnknownOrg(_)));
    assert_eq!(e.code(), "unknown_org");
}

#[tokio::test]
async fn ndjson_imports_like_csv() {
    let t = test_db().await;
    let org = org_with_services(&t.db, "contoso").await;
    let input = r#"{"id":"n-1","service":"Trunk A","start":"2026-03-01T09:00:00Z","answer":"2026-03-01T09:00:02.5+00:00","end":"2026-03-01T10:00:02Z","direction":"inbound","from":"+441134960000","to":"+4930901820","result":"answered","sip_code":200,"sip_reason":"OK","mos":4.1,"jitter_ms":2,"packet_loss_pct":0.5,"country":"GB"}
{"id":"n-2","service":"Trunk A","start":"2026-03-01T09:30:00Z","end":"2026-03-01T09:30:10Z","direction":"outbound","from":"+441134960000","to":"+4930901820","result":"busy","sip_code":486,"country":"DE"}
"#;
    let report = ingest::import(
        &t.db,
        Actor::CLI,
        &org,
        Format::Ndjson,
        input.as_bytes(),
        &ImportOptions::default(),
        |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!((report.stored, report.refused), (2, 0));
    let row = sqlx::query("SELECT answered_at, mos, sip_reason FROM calls WHERE id = 'n-1'")
        .fetch_one(t.db.pool())
        .await
        .unwrap();
    assert_eq!(row.get::<i64, _>("answered_at"), BASE + 9 * HOUR_MS + 2_500);
    assert_eq!(row.get::<f64, _>("mos"), 4.1);
    assert_rollups_match_raw_calls(&t.db, &org).await;
    let rollup = service_rollup(&t.db, &org).await;
    assert_eq!(rollup[&("Trunk A".to_string(), BASE + 9 * HOUR_MS)].2, 2);
    assert_eq!(rollup[&("Trunk A".to_string(), BASE + 10 * HOUR_MS)].2, 1);
}

// ---- the command line ----

fn portal(db_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .env_remove("PORTAL_ENV")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn cli_service_create_and_calls_import() {
    let t = test_db().await;
    create_org(&t.db, "contoso").await;
    let create = |name: &'static str, extra: &'static [&'static str]| {
        let mut args = vec![
            "service",
            "create",
            "--org",
            "contoso",
            "--kind",
            "sip_trunk",
            "--name",
            name,
        ];
        args.extend_from_slice(extra);
        args
    };
    let out = portal(
        &t.url,
        &create("Trunk A", &["--country", "gb", "--channels", "30"]),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Trunk A"));
    let out = portal(
        &t.url,
        &create("Trunk B", &["--country", "GB", "--channels", "10"]),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    for (args, message) in [
        (
            create("Trunk A", &["--country", "GB", "--channels", "5"]),
            "already has a service",
        ),
        (
            create("Trunk C", &["--country", "UK", "--channels", "5"]),
            "ISO 3166-1",
        ),
        (
            create("Trunk C", &["--country", "GB", "--channels", "0"]),
            "at least 1",
        ),
    ] {
        let out = portal(&t.url, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(text(&out.stderr).contains(message), "{}", text(&out.stderr));
    }
    let out = portal(
        &t.url,
        &[
            "service",
            "create",
            "--org",
            "nobody",
            "--kind",
            "operator_connect",
            "--name",
            "X",
            "--country",
            "GB",
            "--channels",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no organisation"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM services").await, 2);

    let dir = t.dir_path();
    let calls = generated_calls();
    let good = dir.join("good.csv");
    std::fs::write(&good, csv(&calls).replace('\n', "\r\n")).unwrap();
    let good = good.to_str().unwrap();
    let out = portal(&t.url, &["calls", "import", good, "--org", "contoso"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = format!("{} stored, 0 duplicates, 0 refused", calls.len());
    assert!(
        text(&out.stdout).contains(&summary),
        "{}",
        text(&out.stdout)
    );
    // Again: all duplicates, still success.
    let out = portal(&t.url, &["calls", "import", good, "--org", "contoso"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&format!("0 stored, {} duplicates", calls.len())));

    // A bad row: exit 1, the line and field named, the good rows stored.
    let mut more = generated_calls()[..2].to_vec();
    more[0].id = "new-1".into();
    more[1].id = "new-2".into();
    let mut input = csv(&more);
    input.push_str("new-3,Trunk A,2026-03-01T09:00:00Z,,2026-03-01T09:00:01Z,outbound,+441134960000,+4930901820,busy,486,,7.5,,,GB\n");
    let partial = dir.join("partial.csv");
    std::fs::write(&partial, &input).unwrap();
    let out = portal(
        &t.url,
        &[
            "calls",
            "import",
            partial.to_str().unwrap(),
            "--org",
            "contoso",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("line 4, mos"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("2 stored, 0 duplicates, 1 refused"),
        "{}",
        text(&out.stdout)
    );

    // Strict: exit 1 and nothing stored.
    let strict_input = input.replace("new-", "strict-");
    let strict = dir.join("strict.csv");
    std::fs::write(&strict, strict_input).unwrap();
    let out = portal(
        &t.url,
        &[
            "calls",
            "import",
            strict.to_str().unwrap(),
            "--org",
            "contoso",
            "--strict",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("nothing"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM calls WHERE id LIKE 'strict-%'").await,
        0
    );

    // A wrong header, a missing file, an unknown organisation.
    let header = dir.join("header.csv");
    std::fs::write(&header, "id;service;start\n").unwrap();
    for (args, message) in [
        (
            vec![
                "calls",
                "import",
                header.to_str().unwrap(),
                "--org",
                "contoso",
            ],
            "header",
        ),
        (
            vec![
                "calls",
                "import",
                "/nonexistent/calls.csv",
                "--org",
                "contoso",
            ],
            "could not open",
        ),
        (
            vec!["calls", "import", good, "--org", "nobody"],
            "no organisation",
        ),
    ] {
        let out = portal(&t.url, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            text(&out.stderr).contains(message),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM calls").await,
        calls.len() as i64 + 2
    );
}
