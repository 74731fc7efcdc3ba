//! The call-record (CDR) exchange format: CSV with the contract's header, or NDJSON with the
//! same field names, and the rules every row must pass (docs: DESIGN.md, "Call records (CDR)
//! exchange format").
//!
//! [`CdrReader`] reads one input row by row with flat memory. A problem with the input as a
//! whole (wrong header, unreadable bytes) is an [`InputError`] and stops the import; a bad row
//! is a [`RowError`] naming its line, field and reason, and the rows around it go on.

use std::{collections::HashMap, fmt};

use serde::Serialize;

use super::countries;

/// The CSV header, exactly; NDJSON objects use the same names.
pub const HEADER: [&str; 15] = [
    "id",
    "service",
    "start",
    "answer",
    "end",
    "direction",
    "from",
    "to",
    "result",
    "sip_code",
    "sip_reason",
    "mos",
    "jitter_ms",
    "packet_loss_pct",
    "country",
];

// Positions of the fields in HEADER.
const ID: usize = 0;
const SERVICE: usize = 1;
const START: usize = 2;
const ANSWER: usize = 3;
const END: usize = 4;
const DIRECTION: usize = 5;
const FROM: usize = 6;
const TO: usize = 7;
const RESULT: usize = 8;
const SIP_CODE: usize = 9;
const SIP_REASON: usize = 10;
const MOS: usize = 11;
const JITTER: usize = 12;
const LOSS: usize = 13;
const COUNTRY: usize = 14;

/// The longest carrier call id accepted, in bytes.
pub const MAX_ID_BYTES: usize = 128;

/// Which way a call went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Towards the customer.
    Inbound,
    /// From the customer.
    Outbound,
}

impl Direction {
    /// The stored and exchanged name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallResult {
    /// Answered (the only result with an answer time).
    Answered,
    /// The far end was busy.
    Busy,
    /// Nobody answered.
    NoAnswer,
    /// A network or protocol failure.
    Failed,
    /// The caller gave up before an answer.
    Cancelled,
}

impl CallResult {
    /// The stored and exchanged name.
    pub fn as_str(self) -> &'static str {
        match self {
            CallResult::Answered => "answered",
            CallResult::Busy => "busy",
            CallResult::NoAnswer => "no_answer",
            CallResult::Failed => "failed",
            CallResult::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Option<CallResult> {
        Some(match s {
            "answered" => CallResult::Answered,
            "busy" => CallResult::Busy,
            "no_answer" => CallResult::NoAnswer,
            "failed" => CallResult::Failed,
            "cancelled" => CallResult::Cancelled,
            _ => return None,
        })
    }
}

/// A validated call record, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    /// The carrier's call id (the idempotency key within the organisation).
    pub id: String,
    /// The id of the organisation's service the row named.
    pub service_id: String,
    /// Start, UTC ms.
    pub started_at: i64,
    /// Answer, UTC ms; only for answered calls.
    pub answered_at: Option<i64>,
    /// End, UTC ms.
    pub ended_at: i64,
    /// Inbound or outbound.
    pub direction: Direction,
    /// Calling number, E.164.
    pub from: String,
    /// Called number, E.164.
    pub to: String,
    /// How the call ended.
    pub result: CallResult,
    /// Final SIP status, 100–699.
    pub sip_code: i64,
    /// Its reason phrase, possibly empty.
    pub sip_reason: String,
    /// Mean opinion score, 1.0–5.0.
    pub mos: Option<f64>,
    /// Jitter in ms, ≥ 0.
    pub jitter_ms: Option<f64>,
    /// Packet loss in percent, 0–100.
    pub packet_loss_pct: Option<f64>,
    /// ISO 3166-1 alpha-2 of the far end, upper case.
    pub country: String,
}

/// A refused row: where, which field, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// Line number in the input (the CSV header is line 1).
    pub line: u64,
    /// The field at fault (a name from [`HEADER`]), or `row` for the row as a whole.
    pub field: String,
    /// What is wrong, for a person.
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, {}: {}", self.line, self.field, self.reason)
    }
}

/// A problem with the input as a whole: nothing after it can be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The first line is not the contract's header.
    #[error("the CSV header must be exactly `{expected}` (got `{got}`)", expected = HEADER.join(","))]
    WrongHeader {
        /// What the first line held.
        got: String,
    },
    /// No header at all.
    #[error("the input is empty; a CSV file starts with the header `{}`", HEADER.join(","))]
    Empty,
    /// Reading failed.
    #[error("could not read the input: {0}")]
    Read(String),
}

/// The input's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RFC 4180 CSV with [`HEADER`].
    Csv,
    /// One JSON object per line with the names of [`HEADER`].
    Ndjson,
}

/// The organisation's services by name (the `service` field), to their ids.
pub type ServiceNames = HashMap<String, String>;

/// The earliest timestamp a call record may carry: 2000-01-01T00:00:00Z, in UTC ms.
pub const EARLIEST_MS: i64 = 946_684_800_000;
/// How far past the import's start a timestamp may be: one day (clocks drift; calls do not
/// happen tomorrow).
pub const FUTURE_SLACK_MS: i64 = 24 * 3_600_000;
/// The default longest call, start to end: 24 hours (`PORTAL_MAX_CALL_SECS`).
pub const DEFAULT_MAX_CALL_SECS: i64 = 24 * 3600;

/// What a row is checked against besides its own fields.
#[derive(Debug, Clone)]
pub struct Rules {
    /// The organisation's services by name.
    pub services: ServiceNames,
    /// No timestamp before this (UTC ms).
    pub earliest_ms: i64,
    /// No timestamp after this (UTC ms).
    pub latest_ms: i64,
    /// No call longer than this from start to end (ms). The rollups hold an entry for every
    /// hour a call spans, so without a bound one row could hold the server for hours.
    pub max_call_ms: i64,
}

impl Rules {
    /// The rules of an import that starts at `now_ms` and accepts calls of up to
    /// `max_call_secs`.
    pub fn new(services: ServiceNames, now_ms: i64, max_call_secs: i64) -> Rules {
        Rules {
            services,
            earliest_ms: EARLIEST_MS,
            latest_ms: now_ms.saturating_add(FUTURE_SLACK_MS),
            max_call_ms: max_call_secs.max(1).saturating_mul(1000),
        }
    }
}

/// Characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell as a spreadsheet cannot run it: text starting like a formula (or with an
/// apostrophe) gets an apostrophe in front, which spreadsheets show as text. [`restore_cell`]
/// takes it off again, so an export reads back as the same values.
pub fn spreadsheet_safe(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some(c) if FORMULA_STARTS.contains(&c) || c == '\'' => format!("'{text}").into(),
        _ => text.into(),
    }
}

/// Undoes [`spreadsheet_safe`]: an apostrophe followed by a formula character or another
/// apostrophe is taken off. Any other text is unchanged.
pub fn restore_cell(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest)
            if rest
                .chars()
                .next()
                .is_some_and(|c| FORMULA_STARTS.contains(&c) || c == '\'') =>
        {
            rest
        }
        _ => text,
    }
}

mod reader;
mod validate;

pub use reader::CdrReader;
pub use validate::is_e164;

/// The rows and rules the tests of the reader and of the checks share.
#[cfg(test)]
mod fixtures {
    use std::collections::HashMap;

    use super::{Rules, ServiceNames, DEFAULT_MAX_CALL_SECS};

    pub(super) const GOOD: [&str; 15] = [
        "c-1",
        "Trunk A",
        "2026-03-01T09:00:00Z",
        "2026-03-01T09:00:05Z",
        "2026-03-01T09:02:05Z",
        "outbound",
        "+441134960000",
        "+4930901820",
        "answered",
        "200",
        "OK",
        "4.2",
        "3.5",
        "0.1",
        "DE",
    ];

    pub(super) fn services() -> ServiceNames {
        HashMap::from([("Trunk A".to_string(), "svc-a".to_string())])
    }

    /// 2026-03-10T00:00:00Z: the GOOD row is from 9 days before.
    pub(super) const NOW_MS: i64 = 1_773_100_800_000;

    pub(super) fn rules() -> Rules {
        Rules::new(services(), NOW_MS, DEFAULT_MAX_CALL_SECS)
    }
}
