//! The call-record (CDR) exchange format: CSV with the contract's header, or NDJSON with the
//! same field names, and the rules every row must pass (docs: DESIGN.md, "Call records (CDR)
//! exchange format").
//!
//! [`CdrReader`] reads one input row by row with flat memory. A problem with the input as a
//! whole (wrong header, unreadable bytes) is an [`InputError`] and stops the import; a bad row
//! is a [`RowError`] naming its line, field and reason, and the rows around it go on.

use std::{
    collections::{HashMap, VecDeque},
    fmt,
    io::{BufRead, BufReader, Read},
};

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

/// Reads CDR rows from CSV or NDJSON, one at a time.
pub struct CdrReader<R: Read> {
    inner: Inner<R>,
}

enum Inner<R: Read> {
    Csv {
        reader: csv::Reader<LineIndex<BufReader<R>>>,
        record: csv::ByteRecord,
    },
    Ndjson {
        reader: BufReader<R>,
        buf: Vec<u8>,
        line: u64,
        bytes: u64,
    },
}

/// Passes bytes through and remembers where the lines break, so a record's line number can be
/// told from its byte offset. The csv crate's own record positions do not count the blank
/// lines it skips, and DESIGN promises the line number in the file.
struct LineIndex<R> {
    inner: R,
    /// Bytes passed through so far.
    offset: u64,
    /// Newlines before the oldest offset in `ahead`.
    behind: u64,
    /// Offsets of the newlines read but not yet asked about (bounded by the parser's buffer).
    ahead: VecDeque<u64>,
}

impl<R: Read> Read for LineIndex<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, b) in buf[..n].iter().enumerate() {
            if *b == b'\n' {
                self.ahead.push_back(self.offset + i as u64);
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

impl<R> LineIndex<R> {
    /// The 1-based line of the byte at `offset`; offsets must be asked in ascending order.
    fn line_of(&mut self, offset: u64) -> u64 {
        while self.ahead.front().is_some_and(|nl| *nl < offset) {
            self.ahead.pop_front();
            self.behind += 1;
        }
        self.behind + 1
    }
}

impl<R: Read> fmt::Debug for CdrReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CdrReader").finish_non_exhaustive()
    }
}

/// Skips a UTF-8 byte-order mark at the start.
fn skip_bom<R: Read>(reader: &mut BufReader<R>) -> Result<(), InputError> {
    let start = reader
        .fill_buf()
        .map_err(|e| InputError::Read(e.to_string()))?;
    if start.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    Ok(())
}

impl<R: Read> CdrReader<R> {
    /// Starts reading; for CSV this reads and checks the header line.
    pub fn new(format: Format, input: R) -> Result<CdrReader<R>, InputError> {
        let mut reader = BufReader::with_capacity(256 * 1024, input);
        skip_bom(&mut reader)?;
        let inner = match format {
            Format::Csv => {
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .from_reader(LineIndex {
                        inner: reader,
                        offset: 0,
                        behind: 0,
                        ahead: VecDeque::new(),
                    });
                let mut record = csv::ByteRecord::new();
                if !reader
                    .read_byte_record(&mut record)
                    .map_err(|e| InputError::Read(e.to_string()))?
                {
                    return Err(InputError::Empty);
                }
                if record.iter().ne(HEADER.iter().map(|h| h.as_bytes())) {
                    let got: Vec<String> = record
                        .iter()
                        .map(|f| String::from_utf8_lossy(f).into_owned())
                        .collect();
                    let mut got = got.join(",");
                    if got.len() > 300 {
                        let cut = (0..=300).rev().find(|i| got.is_char_boundary(*i));
                        got.truncate(cut.unwrap_or(0));
                        got.push('…');
                    }
                    return Err(InputError::WrongHeader { got });
                }
                Inner::Csv { reader, record }
            }
            Format::Ndjson => Inner::Ndjson {
                reader,
                buf: Vec::new(),
                line: 0,
                bytes: 0,
            },
        };
        Ok(CdrReader { inner })
    }

    /// Bytes of input consumed so far (for progress).
    pub fn bytes_read(&self) -> u64 {
        match &self.inner {
            Inner::Csv { reader, .. } => reader.position().byte(),
            Inner::Ndjson { bytes, .. } => *bytes,
        }
    }

    /// The next row, validated against `rules`: `None` at the end, `Some(Err)` when the input
    /// cannot be read further.
    pub fn next_row(
        &mut self,
        rules: &Rules,
    ) -> Option<Result<Result<CallRecord, RowError>, InputError>> {
        match &mut self.inner {
            Inner::Csv { reader, record } => {
                match reader.read_byte_record(record) {
                    Ok(true) => {}
                    Ok(false) => return None,
                    Err(e) => return Some(Err(InputError::Read(e.to_string()))),
                }
                // The record's last byte (its terminator, or its last character at the end
                // of the input) is on its last line; quoted newlines put its start before.
                let end = reader.position().byte().saturating_sub(1);
                let last_line = reader.get_mut().line_of(end);
                let inner_newlines: usize = record
                    .iter()
                    .map(|f| f.iter().filter(|b| **b == b'\n').count())
                    .sum();
                let line = last_line.saturating_sub(inner_newlines as u64);
                Some(Ok(csv_row(record, line, rules)))
            }
            Inner::Ndjson {
                reader,
                buf,
                line,
                bytes,
            } => loop {
                buf.clear();
                match reader.read_until(b'\n', buf) {
                    Ok(0) => return None,
                    Ok(n) => *bytes += n as u64,
                    Err(e) => return Some(Err(InputError::Read(e.to_string()))),
                }
                *line += 1;
                if buf.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Some(Ok(ndjson_row(buf, *line, rules)));
            },
        }
    }
}

fn row_error(line: u64, field: &str, reason: impl Into<String>) -> RowError {
    RowError {
        line,
        field: field.to_string(),
        reason: reason.into(),
    }
}

fn csv_row(record: &csv::ByteRecord, line: u64, rules: &Rules) -> Result<CallRecord, RowError> {
    if record.len() != HEADER.len() {
        return Err(row_error(
            line,
            "row",
            format!("expected {} fields, found {}", HEADER.len(), record.len()),
        ));
    }
    let mut fields = [""; 15];
    for (i, raw) in record.iter().enumerate() {
        let text = std::str::from_utf8(raw)
            .map_err(|_| row_error(line, HEADER[i], "is not valid UTF-8"))?;
        // The portal's own CSV exports write the free-text fields spreadsheet-safe.
        fields[i] = if matches!(i, ID | SERVICE | SIP_REASON) {
            restore_cell(text)
        } else {
            text
        };
    }
    validate(&fields, rules).map_err(|(field, reason)| row_error(line, field, reason))
}

fn ndjson_row(buf: &[u8], line: u64, rules: &Rules) -> Result<CallRecord, RowError> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(buf)
        .map_err(|e| row_error(line, "row", format!("is not a JSON object: {e}")))?;
    let mut owned: [String; 15] = Default::default();
    for (key, value) in object {
        let i = HEADER
            .iter()
            .position(|h| *h == key)
            .ok_or_else(|| row_error(line, &key, "is not a CDR field"))?;
        owned[i] = match value {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err(row_error(line, HEADER[i], "must be a string or a number")),
        };
    }
    let fields: [&str; 15] = std::array::from_fn(|i| owned[i].as_str());
    validate(&fields, rules).map_err(|(field, reason)| row_error(line, field, reason))
}

type FieldError = (&'static str, String);

fn required<'a>(fields: &[&'a str; 15], i: usize) -> Result<&'a str, FieldError> {
    let v = fields[i];
    if v.is_empty() {
        Err((HEADER[i], "is required".to_string()))
    } else {
        Ok(v)
    }
}

fn number(
    fields: &[&str; 15],
    i: usize,
    range: std::ops::RangeInclusive<f64>,
    what: &str,
) -> Result<Option<f64>, FieldError> {
    let v = fields[i];
    if v.is_empty() {
        return Ok(None);
    }
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() && range.contains(&x) => Ok(Some(x)),
        Ok(_) => Err((HEADER[i], format!("{v:?} is out of range: {what}"))),
        Err(_) => Err((HEADER[i], format!("{v:?} is not a number"))),
    }
}

/// Checks one row's fields (in [`HEADER`] order) and builds the record; an error names the
/// field and the reason.
pub fn validate(fields: &[&str; 15], rules: &Rules) -> Result<CallRecord, FieldError> {
    let id = required(fields, ID)?;
    if id.len() > MAX_ID_BYTES {
        return Err(("id", format!("is longer than {MAX_ID_BYTES} bytes")));
    }
    if id.chars().any(char::is_control) {
        return Err(("id", "contains control characters".to_string()));
    }
    let service = required(fields, SERVICE)?;
    let service_id = rules.services.get(service).ok_or_else(|| {
        (
            "service",
            format!("no service named {service:?} in this organisation"),
        )
    })?;
    let timestamp = |i: usize| {
        let ms = parse_rfc3339_ms(fields[i])
            .map_err(|reason| (HEADER[i], format!("{:?} {reason}", fields[i])))?;
        if ms < rules.earliest_ms {
            return Err((
                HEADER[i],
                format!("{:?} is before 2000-01-01T00:00:00Z", fields[i]),
            ));
        }
        if ms > rules.latest_ms {
            return Err((
                HEADER[i],
                format!("{:?} is more than a day in the future", fields[i]),
            ));
        }
        Ok(ms)
    };
    required(fields, START)?;
    let started_at = timestamp(START)?;
    let answered_at = if fields[ANSWER].is_empty() {
        None
    } else {
        Some(timestamp(ANSWER)?)
    };
    required(fields, END)?;
    let ended_at = timestamp(END)?;
    if ended_at < started_at {
        return Err(("end", "is before start".to_string()));
    }
    if ended_at - started_at > rules.max_call_ms {
        return Err((
            "end",
            format!(
                "makes the call longer than the longest call accepted ({} s from start to end)",
                rules.max_call_ms / 1000
            ),
        ));
    }
    if let Some(answer) = answered_at {
        if answer < started_at {
            return Err(("answer", "is before start".to_string()));
        }
        if answer > ended_at {
            return Err(("answer", "is after end".to_string()));
        }
    }
    let direction = match required(fields, DIRECTION)? {
        "inbound" => Direction::Inbound,
        "outbound" => Direction::Outbound,
        other => {
            return Err((
                "direction",
                format!("{other:?} is not one of inbound, outbound"),
            ))
        }
    };
    let from = required(fields, FROM)?;
    if !is_e164(from) {
        return Err((
            "from",
            format!("{from:?} is not E.164 (+ and 8 to 15 digits)"),
        ));
    }
    let to = required(fields, TO)?;
    if !is_e164(to) {
        return Err(("to", format!("{to:?} is not E.164 (+ and 8 to 15 digits)")));
    }
    let result_text = required(fields, RESULT)?;
    let result = CallResult::parse(result_text).ok_or_else(|| {
        (
            "result",
            format!("{result_text:?} is not one of answered, busy, no_answer, failed, cancelled"),
        )
    })?;
    match (result, answered_at) {
        (CallResult::Answered, None) => {
            return Err(("answer", "is required when result is answered".to_string()))
        }
        (r, Some(_)) if r != CallResult::Answered => {
            return Err((
                "answer",
                format!("must be empty when result is {}", r.as_str()),
            ))
        }
        _ => {}
    }
    let code_text = required(fields, SIP_CODE)?;
    let sip_code = match code_text.parse::<i64>() {
        Ok(c) if (100..=699).contains(&c) && code_text.bytes().all(|b| b.is_ascii_digit()) => c,
        _ => {
            return Err((
                "sip_code",
                format!("{code_text:?} is not a SIP status code (100 to 699)"),
            ))
        }
    };
    let mos = number(fields, MOS, 1.0..=5.0, "MOS is 1.0 to 5.0")?;
    let jitter_ms = number(fields, JITTER, 0.0..=f64::MAX, "jitter is 0 or more")?;
    let packet_loss_pct = number(fields, LOSS, 0.0..=100.0, "packet loss is 0 to 100 %")?;
    let country_text = required(fields, COUNTRY)?;
    let country = country_text.to_ascii_uppercase();
    if !countries::is_assigned(&country) {
        return Err((
            "country",
            format!("{country_text:?} is not an assigned ISO 3166-1 alpha-2 code"),
        ));
    }
    Ok(CallRecord {
        id: id.to_string(),
        service_id: service_id.clone(),
        started_at,
        answered_at,
        ended_at,
        direction,
        from: from.to_string(),
        to: to.to_string(),
        result,
        sip_code,
        sip_reason: fields[SIP_REASON].to_string(),
        mos,
        jitter_ms,
        packet_loss_pct,
        country,
    })
}

/// E.164 as the CDR format means it: `+` and 8 to 15 digits.
pub fn is_e164(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Parses an RFC 3339 timestamp with `T` and an offset (`Z` or `±hh:mm`), whole or fractional
/// seconds, into UTC milliseconds (digits past the millisecond are dropped). The error says
/// what is wrong, to follow the quoted value.
pub fn parse_rfc3339_ms(s: &str) -> Result<i64, &'static str> {
    const SHAPE: &str = "is not an RFC 3339 timestamp with an offset (e.g. 2026-03-01T09:30:00Z or 2026-03-01T10:30:00.250+01:00)";
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| -> Result<i64, &'static str> {
        let part = b.get(from..from + n).ok_or(SHAPE)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return Err(SHAPE);
        }
        Ok(part
            .iter()
            .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
    };
    let at = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
    if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt") && at(13, b":") && at(16, b":")) {
        return Err(SHAPE);
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err("is not a calendar date");
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err("is not a time of day (00:00:00 to 23:59:59)");
    }
    let mut i = 19;
    let mut millis = 0i64;
    if at(i, b".") {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return Err(SHAPE);
        }
        for _ in (i - start)..3 {
            millis *= 10;
        }
    }
    let offset_minutes = match b.get(i) {
        Some(b'Z' | b'z') if b.len() == i + 1 => 0,
        Some(sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let (oh, om) = (digits(i + 1, 2)?, digits(i + 4, 2)?);
            if oh > 23 || om > 59 {
                return Err("has an offset out of range");
            }
            let m = oh * 60 + om;
            if *sign == b'-' {
                -m
            } else {
                m
            }
        }
        _ => return Err(SHAPE),
    };
    let days = days_from_civil(year, month, day);
    let seconds = ((days * 24 + hour) * 60 + minute - offset_minutes) * 60 + second;
    Ok(seconds * 1000 + millis)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const GOOD: [&str; 15] = [
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

    fn services() -> ServiceNames {
        HashMap::from([("Trunk A".to_string(), "svc-a".to_string())])
    }

    /// 2026-03-10T00:00:00Z: the GOOD row is from 9 days before.
    const NOW_MS: i64 = 1_773_100_800_000;

    fn rules() -> Rules {
        Rules::new(services(), NOW_MS, DEFAULT_MAX_CALL_SECS)
    }

    fn with(changes: &[(usize, &'static str)]) -> Result<CallRecord, FieldError> {
        let mut f = GOOD;
        for (i, v) in changes {
            f[*i] = v;
        }
        validate(&f, &rules())
    }

    fn refused(changes: &[(usize, &'static str)], field: &str) {
        match with(changes) {
            Err((f, reason)) => assert_eq!(f, field, "{changes:?}: {reason}"),
            Ok(r) => panic!("{changes:?} was accepted: {r:?}"),
        }
    }

    #[test]
    fn a_good_row_is_accepted() {
        let r = with(&[]).unwrap();
        assert_eq!(r.service_id, "svc-a");
        assert_eq!(r.started_at, 1_772_355_600_000);
        assert_eq!(r.answered_at, Some(1_772_355_605_000));
        assert_eq!(r.ended_at - r.started_at, 125_000);
        assert_eq!(r.result, CallResult::Answered);
        assert_eq!(r.mos, Some(4.2));
        assert_eq!(r.country, "DE");
        // Optional fields may be empty; the reason may be empty; a lower-case country is fine.
        let r = with(&[
            (MOS, ""),
            (JITTER, ""),
            (LOSS, ""),
            (SIP_REASON, ""),
            (COUNTRY, "gb"),
        ])
        .unwrap();
        assert_eq!((r.mos, r.jitter_ms, r.packet_loss_pct), (None, None, None));
        assert_eq!(r.country, "GB");
        let r = with(&[(RESULT, "busy"), (ANSWER, ""), (SIP_CODE, "486")]).unwrap();
        assert_eq!(r.answered_at, None);
    }

    #[test]
    fn the_id_is_required_short_and_printable() {
        refused(&[(ID, "")], "id");
        refused(&[(ID, "a\tb")], "id");
        let long: &'static str = Box::leak("x".repeat(129).into_boxed_str());
        refused(&[(ID, long)], "id");
    }

    #[test]
    fn the_service_must_be_one_of_the_organisations() {
        refused(&[(SERVICE, "")], "service");
        refused(&[(SERVICE, "Trunk B")], "service");
        refused(&[(SERVICE, "trunk a")], "service");
    }

    #[test]
    fn timestamps_are_rfc3339_with_an_offset() {
        refused(&[(START, "")], "start");
        refused(&[(START, "2026-03-01 09:00:00Z")], "start");
        refused(&[(START, "2026-03-01T09:00:00")], "start");
        refused(&[(START, "2026-02-30T09:00:00Z")], "start");
        refused(&[(START, "2026-03-01T24:00:00Z")], "start");
        refused(&[(END, "2026-03-01T09:02:05+0100")], "end");
        refused(&[(END, "1772355600")], "end");
        refused(&[(ANSWER, "yesterday")], "answer");
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339_ms("1970-01-01T01:00:00.5+01:00"), Ok(500));
        assert_eq!(parse_rfc3339_ms("1969-12-31T23:59:59.999999Z"), Ok(-1));
        assert_eq!(
            parse_rfc3339_ms("2024-02-29T12:00:00.123-02:30"),
            Ok(1_709_217_000_123)
        );
        assert!(parse_rfc3339_ms("2023-02-29T12:00:00Z").is_err());
        assert!(parse_rfc3339_ms("2026-03-01T09:00:00.Z").is_err());
        assert!(parse_rfc3339_ms("2026-03-01T09:00:00Z ").is_err());
    }

    #[test]
    fn timestamps_stay_in_a_sane_window_and_calls_are_bounded() {
        // Before 2000, and the whole 0000-9999 range a 24-hour bound would otherwise allow.
        refused(&[(START, "1999-12-31T23:59:59Z")], "start");
        refused(
            &[
                (START, "1950-01-01T00:00:00Z"),
                (ANSWER, "1950-01-01T00:00:01Z"),
                (END, "2049-01-01T00:00:00Z"),
            ],
            "start",
        );
        refused(&[(END, "9999-12-31T23:59:59Z")], "end");
        // More than a day after the import started.
        refused(
            &[
                (START, "2026-03-11T00:00:01Z"),
                (ANSWER, ""),
                (END, "2026-03-11T00:00:02Z"),
                (RESULT, "failed"),
            ],
            "start",
        );
        assert!(with(&[
            (START, "2026-03-10T23:00:00Z"),
            (ANSWER, ""),
            (END, "2026-03-10T23:00:05Z"),
            (RESULT, "failed"),
        ])
        .is_ok());
        // Longer than the longest call (24 h by default); exactly 24 h is accepted.
        refused(&[(END, "2026-03-02T09:00:00.001Z")], "end");
        assert!(with(&[(END, "2026-03-02T09:00:00Z")]).is_ok());
        let short = Rules::new(services(), NOW_MS, 60);
        let mut f = GOOD;
        f[END] = "2026-03-01T09:01:01Z";
        assert_eq!(validate(&f, &short).map_err(|e| e.0), Err("end"));
    }

    #[test]
    fn spreadsheet_cells_are_neutralised_and_restored() {
        for (text, safe) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'quoted", "''quoted"),
            ("''", "'''"),
            ("plain", "plain"),
            ("", ""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(spreadsheet_safe(text), safe, "{text:?}");
            assert_eq!(restore_cell(&spreadsheet_safe(text)), text, "{text:?}");
        }
        // Text from elsewhere that merely starts with an apostrophe is left alone.
        assert_eq!(restore_cell("'abc"), "'abc");
    }

    #[test]
    fn start_answer_end_are_in_order() {
        refused(&[(END, "2026-03-01T08:59:59Z")], "end");
        refused(&[(ANSWER, "2026-03-01T08:59:59Z")], "answer");
        refused(&[(ANSWER, "2026-03-01T09:02:06Z")], "answer");
        // Equal times are allowed, and an offset counts.
        assert!(with(&[
            (ANSWER, "2026-03-01T09:00:00Z"),
            (END, "2026-03-01T10:00:00+01:00")
        ])
        .is_ok());
    }

    #[test]
    fn answered_if_and_only_if_there_is_an_answer_time() {
        refused(&[(ANSWER, "")], "answer");
        refused(&[(RESULT, "failed"), (SIP_CODE, "503")], "answer");
        refused(&[(RESULT, "hung_up"), (ANSWER, "")], "result");
    }

    #[test]
    fn direction_is_inbound_or_outbound() {
        refused(&[(DIRECTION, "sideways")], "direction");
        refused(&[(DIRECTION, "Inbound")], "direction");
    }

    #[test]
    fn numbers_are_e164() {
        refused(&[(FROM, "441134960000")], "from");
        refused(&[(FROM, "+4411349600001234")], "from");
        refused(&[(TO, "+1234567")], "to");
        refused(&[(TO, "+44 113 496 0000")], "to");
        assert!(is_e164("+12345678") && is_e164("+123456789012345"));
    }

    #[test]
    fn sip_codes_are_100_to_699() {
        refused(&[(SIP_CODE, "99")], "sip_code");
        refused(&[(SIP_CODE, "700")], "sip_code");
        refused(&[(SIP_CODE, "+200")], "sip_code");
        refused(&[(SIP_CODE, "")], "sip_code");
    }

    #[test]
    fn quality_figures_are_in_range() {
        refused(&[(MOS, "0.9")], "mos");
        refused(&[(MOS, "5.01")], "mos");
        refused(&[(MOS, "NaN")], "mos");
        refused(&[(JITTER, "-1")], "jitter_ms");
        refused(&[(JITTER, "inf")], "jitter_ms");
        refused(&[(LOSS, "100.5")], "packet_loss_pct");
        refused(&[(LOSS, "-0.1")], "packet_loss_pct");
        refused(&[(LOSS, "lots")], "packet_loss_pct");
        assert!(with(&[(MOS, "1"), (LOSS, "100"), (JITTER, "0")]).is_ok());
    }

    #[test]
    fn the_country_is_an_assigned_code() {
        refused(&[(COUNTRY, "UK")], "country");
        refused(&[(COUNTRY, "DEU")], "country");
        refused(&[(COUNTRY, "")], "country");
    }

    fn read_all(
        format: Format,
        input: &str,
    ) -> Result<Vec<Result<CallRecord, RowError>>, InputError> {
        let mut reader = CdrReader::new(format, input.as_bytes())?;
        let mut rows = Vec::new();
        while let Some(row) = reader.next_row(&rules()) {
            rows.push(row?);
        }
        Ok(rows)
    }

    #[test]
    fn csv_with_bom_crlf_and_quoted_fields() {
        let input = format!(
            "\u{feff}{}\r\n{}\r\n\"c-2\",\"Trunk A\",2026-03-01T09:00:00Z,,2026-03-01T09:00:09Z,inbound,+441134960000,+4930901820,busy,486,\"Busy, \"\"here\"\"\nreally\",,,,GB\r\n",
            HEADER.join(","),
            GOOD.join(","),
        );
        let rows = read_all(Format::Csv, &input).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].as_ref().unwrap().id, "c-1");
        let busy = rows[1].as_ref().unwrap();
        assert_eq!(busy.sip_reason, "Busy, \"here\"\nreally");
        assert_eq!(busy.result, CallResult::Busy);
    }

    #[test]
    fn csv_row_errors_name_the_line_and_field() {
        let mut bad = GOOD;
        bad[MOS] = "7";
        let input = format!(
            "{}\n{}\n{}\nc-9,Trunk A\n{}\n",
            HEADER.join(","),
            GOOD.join(","),
            bad.join(","),
            GOOD.join(",").replace("c-1", "c-3"),
        );
        let rows = read_all(Format::Csv, &input).unwrap();
        assert_eq!(rows.len(), 4);
        let e = rows[1].as_ref().unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (3, "mos"));
        assert!(
            e.to_string()
                .starts_with("line 3, mos: \"7\" is out of range"),
            "{e}"
        );
        let e = rows[2].as_ref().unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (4, "row"));
        assert!(rows[3].is_ok());
        // Blank lines are skipped but still counted.
        let input = format!("{}\n\n{}\n", HEADER.join(","), bad.join(","));
        let rows = read_all(Format::Csv, &input).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].as_ref().unwrap_err().line, 3);
        // CRLF, a quoted newline before, and a last line without a terminator.
        let input = format!(
            "{}\r\n\r\n{}\r\n{}\r\n\r\n{}",
            HEADER.join(","),
            GOOD.join(",").replace("OK", "\"O\r\nK\""),
            bad.join(","),
            bad.join(","),
        );
        let rows = read_all(Format::Csv, &input).unwrap();
        let lines: Vec<u64> = rows
            .iter()
            .map(|r| r.as_ref().map_or_else(|e| e.line, |_| 0))
            .collect();
        assert_eq!(lines, vec![0, 5, 7]);
    }

    #[test]
    fn a_wrong_or_missing_header_refuses_the_input() {
        let swapped = HEADER.join(",").replace("start,answer", "answer,start");
        assert!(matches!(
            read_all(Format::Csv, &format!("{swapped}\n{}\n", GOOD.join(","))),
            Err(InputError::WrongHeader { .. })
        ));
        assert!(matches!(
            read_all(Format::Csv, &format!("{}\n", GOOD.join(","))),
            Err(InputError::WrongHeader { .. })
        ));
        assert!(matches!(read_all(Format::Csv, ""), Err(InputError::Empty)));
    }

    #[test]
    fn ndjson_uses_the_same_names() {
        let good = r#"{"id":"n-1","service":"Trunk A","start":"2026-03-01T09:00:00Z","answer":null,"end":"2026-03-01T09:00:10Z","direction":"inbound","from":"+441134960000","to":"+4930901820","result":"no_answer","sip_code":480,"sip_reason":"Temporarily Unavailable","mos":null,"jitter_ms":1.5,"country":"DE"}"#;
        let input = format!(
            "{good}\n\n{}\n{}\nnot json\n",
            good.replace("\"mos\":null", "\"mos\":9"),
            good.replace("\"country\"", "\"land\""),
        );
        let rows = read_all(Format::Ndjson, &input).unwrap();
        assert_eq!(rows.len(), 4);
        let r = rows[0].as_ref().unwrap();
        assert_eq!(
            (r.sip_code, r.jitter_ms, r.result),
            (480, Some(1.5), CallResult::NoAnswer)
        );
        let e = rows[1].as_ref().unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (3, "mos"));
        let e = rows[2].as_ref().unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (4, "land"));
        let e = rows[3].as_ref().unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (5, "row"));
    }
}
