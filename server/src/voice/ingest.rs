//! Storing CDRs: batched, idempotent by call id, with the hourly rollups kept in step.
//!
//! An import reads rows with [`CdrReader`], refuses invalid ones (reported by line, field and
//! reason) and stores valid ones in batches of [`ImportOptions::batch_rows`]. Each batch is one
//! transaction holding its calls and every rollup change they cause, so a crash leaves a batch
//! fully stored or not at all and re-running the same input completes it: rows already stored
//! are counted as duplicates and change nothing.
//!
//! A batch, in its transaction ([`store_batch`]):
//! 1. drops ids repeated within the batch (later ones are duplicates);
//! 2. raises each service's `longest_call_ms` (this also serialises concurrent batches of a
//!    service, see [`db::calls::raise_longest_call`]);
//! 3. inserts the calls with `ON CONFLICT DO NOTHING RETURNING id`, so it knows which rows
//!    are new;
//! 4. adds the new rows' counters to the per-service and per-country hourly rollups (by the
//!    hour of each call's start);
//! 5. recomputes the peak concurrent channels of every service-hour a new call overlaps, from
//!    the stored calls with a sweep ([`peak_channels`]), so the peak does not depend on the
//!    order in which calls arrive.
//!
//! `--strict` runs the whole input in one transaction and rolls it back when any row is
//! invalid, so either every valid row is stored or none is; the rest of the input is still
//! read so that every invalid row is reported.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;

use serde::Serialize;
use serde_json::json;
use sqlx::{Any, AnyConnection, Transaction};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::{
    accounts::Actor,
    db::{
        self,
        audit::NewAuditEntry,
        calls::{HourCounters, ServiceHour},
        orgs::Organisation,
        Backend, Db,
    },
};

use super::cdr::{CallRecord, CdrReader, Format, InputError, RowError, Rules, ServiceNames};

/// One UTC hour in ms.
pub const HOUR_MS: i64 = 3_600_000;

/// How an import behaves.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Refuse the whole input when any row is invalid.
    pub strict: bool,
    /// Valid rows per transaction (default 50,000). Larger batches amortise the index pages
    /// that every batch rewrites (the number indexes take keys in random order): 200,000 rows
    /// into SQLite took 7.4 s with 5,000-row batches and 4.9 s with 50,000. A batch holds
    /// SQLite's write lock for about a second.
    pub batch_rows: usize,
    /// How many refusals the report lists (all are counted).
    pub max_reported: usize,
    /// The longest call accepted, start to end, in seconds (`PORTAL_MAX_CALL_SECS`).
    pub max_call_secs: i64,
    /// The time the import's timestamp window is measured from (UTC ms); `None` for now.
    pub now_ms: Option<i64>,
    /// Cancelled when the process is asked to stop (SIGTERM): the import ends after the batch
    /// it is storing (strict mode: rolls back), reports `interrupted`, and a re-run of the same
    /// input completes it, the stored rows counting as duplicates.
    pub stop: CancellationToken,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            strict: false,
            batch_rows: 50_000,
            max_reported: 100,
            max_call_secs: super::cdr::DEFAULT_MAX_CALL_SECS,
            now_ms: None,
            stop: CancellationToken::new(),
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Rows stored.
    pub stored: u64,
    /// Rows whose id was already stored (or repeated in the input): nothing changed.
    pub duplicates: u64,
    /// Invalid rows.
    pub refused: u64,
    /// The first [`ImportOptions::max_reported`] refusals, in input order.
    pub refusals: Vec<RowError>,
    /// Strict mode refused the whole input (nothing was stored).
    pub rolled_back: bool,
    /// The import was stopped ([`ImportOptions::stop`]) before the end of the input: what
    /// was stored is whole batches; the rest was not read.
    pub interrupted: bool,
}

/// Why an import could not run or stopped.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// No such organisation.
    #[error("there is no organisation with the slug {0:?}; create it with `portal org create`")]
    UnknownOrg(String),
    /// The input as a whole is unusable (wrong header, unreadable). Batches stored before an
    /// unreadable part stay stored.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Anything the caller cannot fix.
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for IngestError {
    fn from(e: sqlx::Error) -> Self {
        IngestError::Internal(e.into())
    }
}

impl IngestError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            IngestError::UnknownOrg(_) => "unknown_org",
            IngestError::Input(InputError::WrongHeader { .. } | InputError::Empty) => {
                "invalid_header"
            }
            IngestError::Input(InputError::Read(_)) => "unreadable_input",
            IngestError::Internal(_) => "internal",
        }
    }
}

/// The organisation with this slug, or [`IngestError::UnknownOrg`].
pub async fn find_org(db: &Db, slug: &str) -> Result<Organisation, IngestError> {
    db::orgs::find_by_slug(db.pool(), slug)
        .await?
        .ok_or_else(|| IngestError::UnknownOrg(slug.to_string()))
}

/// The organisation's services by name, as CDRs refer to them.
pub async fn service_names(db: &Db, org_id: &str) -> Result<ServiceNames, sqlx::Error> {
    Ok(db::services::list_for_org(db.pool(), org_id)
        .await?
        .into_iter()
        .map(|s| (s.name, s.id))
        .collect())
}

/// Page cache of the SQLite connection while it imports (KiB, as `PRAGMA cache_size` takes a
/// negative size): the calls' indexes on numbers take keys in random order, and with SQLite's
/// default 2 MiB cache every batch re-reads their pages from the OS (four times slower at
/// 200,000 rows). The connection gets the default back afterwards.
pub(crate) const SQLITE_IMPORT_CACHE_KIB: i64 = 256 * 1024;
pub(crate) const SQLITE_DEFAULT_CACHE_KIB: i64 = 2000;

/// Imports every row of `input` (CSV with the DESIGN header, or NDJSON) into the organisation;
/// `progress` is called after each batch with the report so far and the input bytes consumed.
/// The import is audited once at the end (`calls.imported`, with the counts).
///
/// Reading and checking rows runs on a blocking thread of its own ([`tokio::task::spawn_blocking`])
/// and hands over whole batches through a channel of two, so the next batch is parsed while the
/// database stores the current one, and memory holds at most three batches whatever the input's
/// size. `input` may block (a file, or an HTTP body through `SyncIoBridge`). A wrong header ends
/// the import before anything is stored.
pub async fn import<R: Read + Send + 'static>(
    db: &Db,
    actor: Actor<'_>,
    org_id: &str,
    format: Format,
    input: R,
    options: &ImportOptions,
    progress: impl FnMut(&ImportReport, u64),
) -> Result<ImportReport, IngestError> {
    let services = service_names(db, org_id).await?;
    let now = options.now_ms.unwrap_or_else(crate::clock::system_now_ms);
    let rules = Rules::new(services, now, options.max_call_secs);
    let parsed = spawn_parser(format, input, rules, options);
    // One connection for the whole import, so its page cache can be sized for it.
    let mut conn = db.pool().acquire().await?;
    let sqlite = db.backend() == Backend::Sqlite;
    if sqlite {
        db::set_sqlite_cache_kib(&mut conn, SQLITE_IMPORT_CACHE_KIB).await?;
    }
    let result = import_on(&mut conn, org_id, parsed, options, progress).await;
    if sqlite
        && db::set_sqlite_cache_kib(&mut conn, SQLITE_DEFAULT_CACHE_KIB)
            .await
            .is_err()
    {
        conn.close_on_drop();
    }
    let report = result?;
    db::audit::insert(
        &mut *conn,
        crate::clock::system_now_ms(),
        &NewAuditEntry {
            actor_user_id: actor.user_id,
            actor_label: actor.label,
            org_id: Some(org_id),
            action: "calls.imported",
            details: json!({
                "stored": report.stored, "duplicates": report.duplicates,
                "refused": report.refused, "strict": options.strict,
                "rolled_back": report.rolled_back, "interrupted": report.interrupted,
            }),
            ..Default::default()
        },
    )
    .await?;
    drop(conn);
    if report.stored >= db::BULK_ROWS {
        // Statistics only: a failure here loses nothing and the rows are stored.
        if let Err(e) = db.refresh_call_statistics().await {
            tracing::warn!(error = %e, "refreshing the planner statistics after an import failed");
        }
    }
    Ok(report)
}

/// What the parser thread hands over: up to a batch of valid rows, and the rows refused since
/// the previous hand-over.
#[derive(Debug, Default)]
struct Parsed {
    records: Vec<CallRecord>,
    /// Refused rows, counted.
    refused: u64,
    /// The refusals to report (the thread stops collecting at [`ImportOptions::max_reported`]).
    refusals: Vec<RowError>,
    /// Input bytes consumed at the hand-over.
    bytes: u64,
}

/// Starts reading `input` on a blocking thread; the receiver yields batches in input order,
/// then closes. An unreadable input or a wrong header arrives as an `Err` and ends the stream.
fn spawn_parser<R: Read + Send + 'static>(
    format: Format,
    input: R,
    rules: Rules,
    options: &ImportOptions,
) -> mpsc::Receiver<Result<Parsed, InputError>> {
    let (tx, rx) = mpsc::channel(2);
    let batch_rows = options.batch_rows.max(1);
    let max_reported = options.max_reported;
    tokio::task::spawn_blocking(move || {
        let mut reader = match CdrReader::new(format, input) {
            Ok(reader) => reader,
            Err(e) => {
                // The receiver may be gone (the import was abandoned): nothing to do then.
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        let mut reported = 0;
        let mut parsed = Parsed {
            records: Vec::with_capacity(batch_rows),
            ..Parsed::default()
        };
        while let Some(row) = reader.next_row(&rules) {
            match row {
                Ok(Ok(record)) => parsed.records.push(record),
                Ok(Err(refusal)) => {
                    parsed.refused += 1;
                    if reported < max_reported {
                        reported += 1;
                        parsed.refusals.push(refusal);
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
            if parsed.records.len() >= batch_rows {
                parsed.bytes = reader.bytes_read();
                let next = Parsed {
                    records: Vec::with_capacity(batch_rows),
                    ..Parsed::default()
                };
                if tx
                    .blocking_send(Ok(std::mem::replace(&mut parsed, next)))
                    .is_err()
                {
                    return;
                }
            }
        }
        parsed.bytes = reader.bytes_read();
        let _ = tx.blocking_send(Ok(parsed));
    });
    rx
}

async fn import_on(
    conn: &mut AnyConnection,
    org_id: &str,
    mut parsed: mpsc::Receiver<Result<Parsed, InputError>>,
    options: &ImportOptions,
    mut progress: impl FnMut(&ImportReport, u64),
) -> Result<ImportReport, IngestError> {
    let mut report = ImportReport::default();
    // Strict mode: one transaction for everything, rolled back if any row is refused.
    let mut writer = if options.strict {
        Writer::Strict(db::begin_write_on(conn).await?)
    } else {
        Writer::PerBatch(conn)
    };
    let mut bytes = 0;
    loop {
        let batch = tokio::select! {
            // A stop wins over a batch that is ready: the batch is not stored.
            biased;
            () = options.stop.cancelled() => {
                report.interrupted = true;
                break;
            }
            batch = parsed.recv() => match batch {
                Some(batch) => batch?,
                None => break,
            },
        };
        report.refused += batch.refused;
        report.refusals.extend(batch.refusals);
        bytes = batch.bytes;
        // In strict mode, once a row is refused nothing more is written (and what was
        // written is rolled back below); the rest is still read to report every refusal.
        if batch.records.is_empty() || (options.strict && report.refused > 0) {
            continue;
        }
        report.add(writer.store(org_id, &batch.records).await?);
        progress(&report, bytes);
    }
    if let Writer::Strict(tx) = writer {
        if report.refused > 0 || report.interrupted {
            tx.rollback().await?;
            report.stored = 0;
            report.duplicates = 0;
            report.rolled_back = true;
        } else {
            tx.commit().await?;
        }
    }
    progress(&report, bytes);
    Ok(report)
}

/// Where batches go: one transaction for the whole input (strict), or one per batch.
enum Writer<'c> {
    Strict(Transaction<'c, Any>),
    PerBatch(&'c mut AnyConnection),
}

impl Writer<'_> {
    async fn store(
        &mut self,
        org_id: &str,
        batch: &[CallRecord],
    ) -> Result<BatchOutcome, sqlx::Error> {
        match self {
            Writer::Strict(tx) => store_batch(tx, org_id, batch).await,
            Writer::PerBatch(conn) => store_batch_in_transaction(conn, org_id, batch).await,
        }
    }
}

impl ImportReport {
    fn add(&mut self, outcome: BatchOutcome) {
        self.stored += outcome.stored;
        self.duplicates += outcome.duplicates;
    }
}

/// [`store_batch`] in a transaction of its own, committed.
pub async fn store_batch_in_transaction(
    conn: &mut AnyConnection,
    org_id: &str,
    batch: &[CallRecord],
) -> Result<BatchOutcome, sqlx::Error> {
    let mut tx = db::begin_write_on(conn).await?;
    let outcome = store_batch(&mut tx, org_id, batch).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Rows stored.
    pub stored: u64,
    /// Rows already stored, or repeated within the batch.
    pub duplicates: u64,
}

/// The UTC hour (its start, ms) that `t` falls in.
pub fn hour_of(t: i64) -> i64 {
    t.div_euclid(HOUR_MS) * HOUR_MS
}

/// Stores one batch of an organisation's calls and updates the rollups, on a connection the
/// caller has in a transaction. See the module documentation for the steps.
pub async fn store_batch(
    conn: &mut AnyConnection,
    org_id: &str,
    batch: &[CallRecord],
) -> Result<BatchOutcome, sqlx::Error> {
    // 1. One row per id within the batch.
    let mut seen = HashSet::with_capacity(batch.len());
    let unique: Vec<&CallRecord> = batch
        .iter()
        .filter(|c| seen.insert(c.id.as_str()))
        .collect();
    let repeated = (batch.len() - unique.len()) as u64;

    // 2. Longest call per service (in id order, so concurrent batches lock alike).
    let mut longest_in_batch: BTreeMap<&str, i64> = BTreeMap::new();
    for c in &unique {
        let longest = longest_in_batch.entry(c.service_id.as_str()).or_default();
        *longest = (*longest).max(c.ended_at - c.started_at);
    }
    let mut longest_stored: BTreeMap<&str, i64> = BTreeMap::new();
    for (service_id, longest) in longest_in_batch {
        let stored = db::calls::raise_longest_call(&mut *conn, org_id, service_id, longest).await?;
        longest_stored.insert(service_id, stored);
    }

    // 3. The calls, noting which were new. On SQLite, rows stored from here on have larger
    //    rowids, so step 5 reads only the calls stored before this batch.
    let rowid_before = if Backend::of(conn) == Backend::Sqlite {
        Some(db::calls::max_rowid(&mut *conn).await?)
    } else {
        None
    };
    let inserted = db::calls::insert_new(&mut *conn, org_id, &unique).await?;
    let new: Vec<&CallRecord> = unique
        .iter()
        .zip(&inserted)
        .filter_map(|(c, new)| new.then_some(*c))
        .collect();
    let stored = new.len() as u64;
    let outcome = BatchOutcome {
        stored,
        duplicates: repeated + (unique.len() as u64 - stored),
    };
    if stored == 0 {
        return Ok(outcome);
    }

    // 4. Counters of the new rows, by the hour of their start; and every service-hour a new
    //    call overlaps (a call is in progress on [start, end)).
    let mut by_service: BTreeMap<(&str, i64), HourCounters> = BTreeMap::new();
    let mut by_country: BTreeMap<(&str, i64), HourCounters> = BTreeMap::new();
    for c in &new {
        let hour = hour_of(c.started_at);
        by_service
            .entry((c.service_id.as_str(), hour))
            .or_default()
            .add(c);
        by_country
            .entry((c.country.as_str(), hour))
            .or_default()
            .add(c);
        let last = hour_of((c.ended_at - 1).max(c.started_at));
        let mut h = hour + HOUR_MS;
        while h <= last {
            by_service.entry((c.service_id.as_str(), h)).or_default();
            h += HOUR_MS;
        }
    }

    // 5. Peaks of those service-hours, recomputed from the stored calls, one query per run
    //    of consecutive hours of a service. Where the query leaves out this batch (SQLite),
    //    its new calls come from memory: by service, sorted by start.
    let mut new_spans: BTreeMap<&str, Vec<(i64, i64)>> = BTreeMap::new();
    if rowid_before.is_some() {
        for c in &new {
            new_spans
                .entry(c.service_id.as_str())
                .or_default()
                .push((c.started_at, c.ended_at));
        }
        for spans in new_spans.values_mut() {
            spans.sort_unstable();
        }
    }
    let keys: Vec<(&str, i64)> = by_service.keys().copied().collect();
    let mut peaks: Vec<i64> = Vec::with_capacity(keys.len());
    let mut i = 0;
    while i < keys.len() {
        let (service_id, first) = keys[i];
        let mut j = i + 1;
        while j < keys.len() && keys[j].0 == service_id && keys[j].1 == keys[j - 1].1 + HOUR_MS {
            j += 1;
        }
        let end = keys[j - 1].1 + HOUR_MS;
        let longest = longest_stored.get(service_id).copied().unwrap_or_default();
        let mut spans = db::calls::spans_overlapping(
            &mut *conn,
            org_id,
            service_id,
            first,
            end,
            longest,
            rowid_before,
        )
        .await?;
        if let Some(batch) = new_spans.get(service_id) {
            // Calls that may overlap [first, end) start in [first − longest, end).
            let lo = batch.partition_point(|s| s.0 < first.saturating_sub(longest));
            let hi = batch.partition_point(|s| s.0 < end);
            spans.extend(batch[lo..hi].iter().filter(|s| s.1 > first));
        }
        peaks.extend(peak_channels(&spans, keys[i..j].iter().map(|k| k.1)));
        i = j;
    }
    let service_rows: Vec<ServiceHour<'_>> = by_service
        .iter()
        .zip(peaks)
        .map(
            |(((service_id, hour_at), add), peak_channels)| ServiceHour {
                service_id,
                hour_at: *hour_at,
                add: *add,
                peak_channels,
            },
        )
        .collect();
    db::calls::merge_service_hours(&mut *conn, org_id, &service_rows).await?;
    let country_rows: Vec<(&str, i64, HourCounters)> = by_country
        .into_iter()
        .map(|((country, hour), c)| (country, hour, c))
        .collect();
    db::calls::merge_country_hours(&mut *conn, org_id, &country_rows).await?;
    Ok(outcome)
}

/// The peak number of calls in progress at one instant in each hour of `hours` (hour starts,
/// ascending), a call being in progress on `[start, end)`. `spans` must hold every call that
/// overlaps those hours (others are harmless); a zero-length call is never in progress.
pub fn peak_channels(spans: &[(i64, i64)], hours: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut events: Vec<(i64, i64)> = Vec::with_capacity(spans.len() * 2);
    for &(start, end) in spans {
        if end > start {
            events.push((start, 1));
            events.push((end, -1));
        }
    }
    events.sort_unstable();
    let mut next = 0;
    let mut in_progress = 0i64;
    let mut peaks = Vec::new();
    for hour in hours {
        let hour_end = hour + HOUR_MS;
        // Calls in progress at the hour's first instant: everything that changed up to it.
        while next < events.len() && events[next].0 <= hour {
            in_progress += events[next].1;
            next += 1;
        }
        let mut peak = in_progress;
        // Within the hour the count only changes at events; take it after all events of one
        // instant, so an end and a start at the same instant do not overlap.
        while next < events.len() && events[next].0 < hour_end {
            let t = events[next].0;
            while next < events.len() && events[next].0 == t {
                in_progress += events[next].1;
                next += 1;
            }
            peak = peak.max(in_progress);
        }
        peaks.push(peak);
    }
    peaks
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = HOUR_MS;

    #[test]
    fn peaks_count_calls_in_progress_on_start_to_end() {
        // Two calls back to back never overlap; a third spans three hours.
        let spans = [(10, 20), (20, 30), (H - 5, 3 * H - 5)];
        assert_eq!(
            peak_channels(&spans, [0, H, 2 * H, 3 * H]),
            vec![1, 1, 1, 0]
        );
        // Overlap inside the hour, and a call already in progress at the hour's start.
        let spans = [(H / 2, H + 18), (H + 5, H + 20), (H + 15, H + 16)];
        assert_eq!(peak_channels(&spans, [H]), vec![3]);
        // Zero-length calls are never in progress.
        assert_eq!(peak_channels(&[(5, 5), (5, 5)], [0]), vec![0]);
        // Order of the spans does not matter.
        let mut spans = vec![(0, 100), (50, 150), (99, 200), (150, 151)];
        let expect = peak_channels(&spans, [0]);
        spans.reverse();
        assert_eq!(peak_channels(&spans, [0]), expect);
        assert_eq!(expect, vec![3]);
    }

    #[test]
    fn hours_are_utc_floors() {
        assert_eq!(hour_of(0), 0);
        assert_eq!(hour_of(H - 1), 0);
        assert_eq!(hour_of(H), H);
        assert_eq!(hour_of(-1), -H);
    }
}
