//! The call records the ingest tests import: deterministic generated calls with the awkward
//! cases (a call spanning hours, a zero-length call, calls back to back), written as the CSV
//! exchange format, and importing them for an organisation with two services.

use crate::support::create_org;
use portal::{
    accounts::Actor,
    db::Db,
    voice::{
        cdr::{Format, HEADER},
        ingest::{self, ImportOptions, ImportReport, HOUR_MS},
        services::{create_service, NewService, ServiceKind},
    },
};

/// 2026-03-01T00:00:00Z.
pub const BASE: i64 = 1_772_323_200_000;

/// A time in milliseconds as RFC 3339.
fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// One generated call.
#[derive(Debug, Clone)]
pub struct Cdr {
    /// The carrier's call id.
    pub id: String,
    /// The service's name.
    pub service: &'static str,
    /// When it started (ms).
    pub start: i64,
    /// When it was answered (ms), if it was.
    pub answer: Option<i64>,
    /// When it ended (ms).
    pub end: i64,
    /// How it ended.
    pub result: &'static str,
    /// Its MOS, if measured.
    pub mos: Option<f64>,
    /// The country it went to.
    pub country: &'static str,
}

impl Cdr {
    /// The call as one CSV row.
    pub fn csv(&self) -> String {
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

/// A CSV file of the calls, header first.
pub fn csv(calls: &[Cdr]) -> String {
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
pub fn generated_calls() -> Vec<Cdr> {
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
pub async fn org_with_services(db: &Db, slug: &str) -> String {
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

/// Imports CSV `input` for the organisation (panics when the import fails).
pub async fn import(db: &Db, org_id: &str, input: &str, options: ImportOptions) -> ImportReport {
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

/// The default import options with batches of `n` rows.
pub fn small_batches(n: usize) -> ImportOptions {
    ImportOptions {
        batch_rows: n,
        ..ImportOptions::default()
    }
}
