//! Queries of the `calls` table: the CDR ingest's writes (the calls and their hourly rollups)
//! and the reads of the calls list, of one call and of the CSV export.
//!
//! Bulk statements are multi-row: one `INSERT … VALUES (…), (…), …` per [`CHUNK_ROWS`] rows,
//! so a batch of 5,000 CDRs costs a handful of round trips. A full chunk always has the same
//! SQL text, so each connection prepares it once and reuses it from sqlx's statement cache.
//!
//! Placeholders are the one place these statements depend on the engine: PostgreSQL gets the
//! usual `$N` (the organisation id is the shared `$1` of every row), SQLite gets anonymous `?`
//! with the organisation id bound in every row. SQLite resolves a named parameter with a linear
//! scan of the statement's names (`sqlite3_bind_parameter_name`, which sqlx calls for every
//! parameter), so binding 15,000 `$N` parameters is quadratic: 0.7 s per 1,000-row chunk,
//! against milliseconds with `?`.

use std::{borrow::Cow, fmt::Write};

use serde::Deserialize;
use sqlx::{any::AnyRow, Acquire, Any, AnyConnection, Executor, Row};

use super::{bind_all, Backend, Bind};
use crate::voice::cdr::CallRecord;

/// Rows per multi-row statement: 15 parameters a call row keeps a statement at ~15,000
/// parameters, under SQLite's 32,766 and PostgreSQL's 65,535.
pub const CHUNK_ROWS: usize = 1000;

/// How a bulk statement writes its placeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placeholders {
    /// `($1, $2, …), ($1, $k, …)`: the organisation id is the shared `$1` (PostgreSQL).
    Numbered,
    /// `(?, ?, …), (?, ?, …)`: every row binds the organisation id itself (SQLite).
    Anonymous,
}

impl Placeholders {
    fn of(conn: &AnyConnection) -> Placeholders {
        if conn.backend_name().eq_ignore_ascii_case("sqlite") {
            Placeholders::Anonymous
        } else {
            Placeholders::Numbered
        }
    }

    /// `rows` tuples of the organisation id and `per_row` further values each, numbered (when
    /// numbered) in order of first use.
    fn values(self, rows: usize, per_row: usize) -> String {
        let mut sql = String::with_capacity(rows * (per_row + 1) * 6);
        let mut n = 2;
        for r in 0..rows {
            if r > 0 {
                sql.push_str(", ");
            }
            match self {
                Placeholders::Numbered => {
                    sql.push_str("($1");
                    for _ in 0..per_row {
                        let _ = write!(sql, ", ${n}");
                        n += 1;
                    }
                }
                Placeholders::Anonymous => {
                    sql.push_str("(?");
                    for _ in 0..per_row {
                        sql.push_str(", ?");
                    }
                }
            }
            sql.push(')');
        }
        sql
    }

    /// Binds the organisation id where this style needs it: once before all rows (numbered)
    /// or at the start of each row (anonymous).
    fn bind_org<'q>(
        self,
        q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
        org_id: &'q str,
        row_start: bool,
    ) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
        match (self, row_start) {
            (Placeholders::Numbered, false) | (Placeholders::Anonymous, true) => q.bind(org_id),
            _ => q,
        }
    }
}

/// A nullable `DOUBLE PRECISION` parameter whose type is the same whether or not it is NULL.
///
/// sqlx 0.8's `Any` driver sends `Option::<f64>::None` to PostgreSQL as a `float4` NULL (its
/// Real/Double mapping is swapped for NULLs), so a statement first prepared with a NULL in a
/// column refuses a later 8-byte value ("incorrect binary data format in bind parameter").
/// A NULL of `f32` comes out as `float8`, like `Some(f64)`. The PostgreSQL ingest tests import
/// NULLs before values and after them, so a change of that mapping fails them.
#[derive(Debug, Clone, Copy)]
struct NullableDouble(Option<f64>);

impl<'q> sqlx::Encode<'q, Any> for NullableDouble {
    fn encode_by_ref(
        &self,
        buf: &mut <Any as sqlx::Database>::ArgumentBuffer<'q>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        match self.0 {
            Some(x) => <f64 as sqlx::Encode<'q, Any>>::encode_by_ref(&x, buf),
            None => <Option<f32> as sqlx::Encode<'q, Any>>::encode_by_ref(&None, buf),
        }
    }
}

impl sqlx::Type<Any> for NullableDouble {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <f64 as sqlx::Type<Any>>::type_info()
    }
}

/// Inserts calls of one organisation, skipping ids it already has; returns, for each of
/// `calls` in order, whether it was inserted. `calls` must not repeat an id.
///
/// PostgreSQL inserts with `ON CONFLICT DO NOTHING RETURNING id`. On SQLite, `RETURNING`
/// is avoided: sqlx's SQLite worker hands every result row to the caller's thread one at a
/// time, which cost more than the insert's index work. A chunk's count of inserted rows tells
/// the usual cases (all new, all stored); otherwise its new rows are the ones with a rowid
/// above the previous chunk's last (SQLite gives a rowid table's new rows `max(rowid) + 1`;
/// the caller holds the write lock from its first statement, [`raise_longest_call`], so no
/// other writer interleaves).
pub async fn insert_new(
    conn: &mut AnyConnection,
    org_id: &str,
    calls: &[&CallRecord],
) -> Result<Vec<bool>, sqlx::Error> {
    let style = Placeholders::of(conn);
    if style == Placeholders::Anonymous {
        return insert_new_sqlite(conn, org_id, calls).await;
    }
    let mut inserted = std::collections::HashSet::with_capacity(calls.len());
    for chunk in calls.chunks(UNNEST_ROWS) {
        let q = sqlx::query::<Any>(UNNEST_INSERT).bind(org_id);
        for row in bind_columns(q, chunk).fetch_all(&mut *conn).await? {
            inserted.insert(row.try_get::<String, _>(0)?);
        }
    }
    Ok(calls.iter().map(|c| inserted.contains(&c.id)).collect())
}

/// Rows per PostgreSQL insert: one statement whatever the count, so the bigger the fewer
/// round trips, within a few MB of parameters.
const UNNEST_ROWS: usize = 10_000;

/// PostgreSQL: the calls as 15 arrays, one per column, unnested into rows. A multi-row
/// `VALUES` list costs PostgreSQL planning and executor set-up per value (15,000 parameters a
/// statement); the arrays cost one parse each. sqlx's `Any` driver cannot bind arrays, so each
/// is sent as PostgreSQL's array text (`{…}`) and cast (`$n::text[]` converts text by I/O).
const UNNEST_INSERT: &str = "INSERT INTO calls (org_id, id, service_id, started_at, answered_at, \
     ended_at, direction, from_number, to_number, result, sip_code, sip_reason, mos, jitter_ms, \
     packet_loss_pct, country) \
     SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::int8[], $5::int8[], $6::int8[], \
     $7::text[], $8::text[], $9::text[], $10::text[], $11::int8[], $12::text[], $13::float8[], \
     $14::float8[], $15::float8[], $16::text[]) \
     ON CONFLICT (org_id, id) DO NOTHING RETURNING id";

/// Binds the columns of `chunk` as PostgreSQL array literals, in [`UNNEST_INSERT`]'s order.
fn bind_columns<'q>(
    q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    chunk: &[&CallRecord],
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    let text = |f: &dyn Fn(&CallRecord) -> &str| {
        array_literal(chunk.iter().map(|c| Some(quote_element(f(c)))))
    };
    let int = |f: &dyn Fn(&CallRecord) -> Option<i64>| {
        array_literal(chunk.iter().map(|c| f(c).map(|v| v.to_string())))
    };
    let real = |f: &dyn Fn(&CallRecord) -> Option<f64>| {
        array_literal(chunk.iter().map(|c| f(c).map(|v| v.to_string())))
    };
    q.bind(text(&|c| c.id.as_str()))
        .bind(text(&|c| c.service_id.as_str()))
        .bind(int(&|c| Some(c.started_at)))
        .bind(int(&|c| c.answered_at))
        .bind(int(&|c| Some(c.ended_at)))
        .bind(text(&|c| c.direction.as_str()))
        .bind(text(&|c| c.from.as_str()))
        .bind(text(&|c| c.to.as_str()))
        .bind(text(&|c| c.result.as_str()))
        .bind(int(&|c| Some(c.sip_code)))
        .bind(text(&|c| c.sip_reason.as_str()))
        .bind(real(&|c| c.mos))
        .bind(real(&|c| c.jitter_ms))
        .bind(real(&|c| c.packet_loss_pct))
        .bind(text(&|c| c.country.as_str()))
}

/// `{a,b,NULL}` from elements already in array syntax (`None` is NULL).
fn array_literal(elements: impl Iterator<Item = Option<String>>) -> String {
    let mut out = String::from("{");
    for (i, e) in elements.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(e.as_deref().unwrap_or("NULL"));
    }
    out.push('}');
    out
}

/// A text element of a PostgreSQL array literal: always double-quoted (so `NULL`, commas,
/// braces and spaces stay text), with `"` and `\` escaped by a backslash.
fn quote_element(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        if ch == '"' || ch == '\\' {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('"');
    out
}

async fn insert_new_sqlite(
    conn: &mut AnyConnection,
    org_id: &str,
    calls: &[&CallRecord],
) -> Result<Vec<bool>, sqlx::Error> {
    let style = Placeholders::Anonymous;
    let mut inserted = Vec::with_capacity(calls.len());
    let mut last_rowid = max_rowid(&mut *conn).await?;
    for chunk in calls.chunks(CHUNK_ROWS) {
        let sql = insert_sql(style, chunk.len(), "");
        let done = bind_calls(style, &sql, org_id, chunk)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        if done == chunk.len() as u64 {
            inserted.extend(std::iter::repeat_n(true, chunk.len()));
        } else if done == 0 {
            inserted.extend(std::iter::repeat_n(false, chunk.len()));
        } else {
            // Some were stored already: the new rows are the ones after the previous chunk.
            let new: std::collections::HashSet<String> =
                sqlx::query("SELECT id FROM calls WHERE rowid > $1")
                    .bind(last_rowid)
                    .fetch_all(&mut *conn)
                    .await?
                    .iter()
                    .map(|r| r.try_get::<String, _>(0))
                    .collect::<Result<_, _>>()?;
            inserted.extend(chunk.iter().map(|c| new.contains(&c.id)));
        }
        last_rowid += done as i64;
    }
    Ok(inserted)
}

/// `INSERT INTO calls … VALUES` for `rows` rows, skipping stored ids, then `tail`.
fn insert_sql(style: Placeholders, rows: usize, tail: &str) -> String {
    format!(
        "INSERT INTO calls (org_id, id, service_id, started_at, answered_at, ended_at, direction, \
         from_number, to_number, result, sip_code, sip_reason, mos, jitter_ms, packet_loss_pct, country) \
         VALUES {} ON CONFLICT (org_id, id) DO NOTHING{tail}",
        style.values(rows, 15)
    )
}

/// Binds the values of `chunk` to [`insert_sql`]'s statement.
fn bind_calls<'q>(
    style: Placeholders,
    sql: &'q str,
    org_id: &'q str,
    chunk: &[&'q CallRecord],
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    let mut q = style.bind_org(sqlx::query::<Any>(sql), org_id, false);
    for c in chunk {
        q = style
            .bind_org(q, org_id, true)
            .bind(c.id.as_str())
            .bind(c.service_id.as_str())
            .bind(c.started_at)
            .bind(c.answered_at)
            .bind(c.ended_at)
            .bind(c.direction.as_str())
            .bind(c.from.as_str())
            .bind(c.to.as_str())
            .bind(c.result.as_str())
            .bind(c.sip_code)
            .bind(c.sip_reason.as_str())
            .bind(NullableDouble(c.mos))
            .bind(NullableDouble(c.jitter_ms))
            .bind(NullableDouble(c.packet_loss_pct))
            .bind(c.country.as_str());
    }
    q
}

/// SQLite: the largest `rowid` of `calls` (0 when empty). Rows inserted later have larger
/// ones, which lets [`spans_overlapping`] leave out the batch being stored.
pub async fn max_rowid(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COALESCE(MAX(rowid), 0) FROM calls")
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)
}

/// Raises the service's longest stored call to at least `longest_ms` and returns the value.
///
/// The ingest calls this first in each batch, for every service of the batch in id order: the
/// write takes the service row's lock (PostgreSQL) or the database's write lock (SQLite), so
/// two batches of one service never recompute its peaks from each other's unfinished view.
pub async fn raise_longest_call(
    conn: &mut AnyConnection,
    org_id: &str,
    service_id: &str,
    longest_ms: i64,
) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(
        "UPDATE services SET longest_call_ms = CASE WHEN longest_call_ms < $1 THEN $1 ELSE longest_call_ms END \
         WHERE id = $2 AND org_id = $3 RETURNING longest_call_ms",
    )
    .bind(longest_ms)
    .bind(service_id)
    .bind(org_id)
    .fetch_one(&mut *conn)
    .await?;
    row.try_get(0)
}

/// `[start, end)` of the service's stored calls that overlap `[from, to)`, given that no call
/// is longer than `longest_ms`; with `rowid_at_most` (SQLite), only calls stored before that
/// row, i.e. not the batch being stored (the caller has those in memory).
pub async fn spans_overlapping(
    conn: &mut AnyConnection,
    org_id: &str,
    service_id: &str,
    from: i64,
    to: i64,
    longest_ms: i64,
    rowid_at_most: Option<i64>,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    let before = if rowid_at_most.is_some() {
        " AND rowid <= $6"
    } else {
        ""
    };
    let sql = format!(
        "SELECT started_at, ended_at FROM calls \
         WHERE org_id = $1 AND service_id = $2 AND started_at >= $3 AND started_at < $4 AND ended_at > $5{before}"
    );
    let mut q = sqlx::query(&sql)
        .bind(org_id)
        .bind(service_id)
        .bind(from.saturating_sub(longest_ms))
        .bind(to)
        .bind(from);
    if let Some(rowid) = rowid_at_most {
        q = q.bind(rowid);
    }
    q.fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Counters of calls by the hour of their start.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HourCounters {
    /// Calls started in the hour.
    pub calls: i64,
    /// … answered.
    pub answered: i64,
    /// … busy.
    pub busy: i64,
    /// … not answered.
    pub no_answer: i64,
    /// … failed.
    pub failed: i64,
    /// … cancelled.
    pub cancelled: i64,
    /// Σ (end − answer) of the answered ones, ms.
    pub answered_ms: i64,
    /// Σ MOS of those with one.
    pub mos_sum: f64,
    /// How many had a MOS.
    pub mos_count: i64,
}

impl HourCounters {
    /// Counts one call.
    pub fn add(&mut self, c: &CallRecord) {
        use crate::voice::cdr::CallResult;
        self.calls += 1;
        match c.result {
            CallResult::Answered => {
                self.answered += 1;
                self.answered_ms += c.ended_at - c.answered_at.unwrap_or(c.ended_at);
            }
            CallResult::Busy => self.busy += 1,
            CallResult::NoAnswer => self.no_answer += 1,
            CallResult::Failed => self.failed += 1,
            CallResult::Cancelled => self.cancelled += 1,
        }
        if let Some(mos) = c.mos {
            self.mos_sum += mos;
            self.mos_count += 1;
        }
    }
}

const COUNTER_COLUMNS: &str =
    "calls, answered, busy, no_answer, failed, cancelled, answered_ms, mos_sum, mos_count";

fn add_counters(table: &str) -> String {
    COUNTER_COLUMNS
        .split(", ")
        .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

macro_rules! bind_counters {
    ($q:expr, $c:expr) => {
        $q.bind($c.calls)
            .bind($c.answered)
            .bind($c.busy)
            .bind($c.no_answer)
            .bind($c.failed)
            .bind($c.cancelled)
            .bind($c.answered_ms)
            .bind($c.mos_sum)
            .bind($c.mos_count)
    };
}

/// One row of the per-service rollup to merge: counters to add, and the hour's recomputed peak.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceHour<'a> {
    /// The service.
    pub service_id: &'a str,
    /// Start of the UTC hour, ms.
    pub hour_at: i64,
    /// Counters of the newly stored calls started in the hour.
    pub add: HourCounters,
    /// The hour's peak concurrent channels, recomputed from every stored call.
    pub peak_channels: i64,
}

/// Adds counters to the per-service hourly rollup and sets each hour's peak.
pub async fn merge_service_hours(
    conn: &mut AnyConnection,
    org_id: &str,
    rows: &[ServiceHour<'_>],
) -> Result<(), sqlx::Error> {
    let style = Placeholders::of(conn);
    for chunk in rows.chunks(CHUNK_ROWS) {
        let sql = format!(
            "INSERT INTO call_hourly_by_service (org_id, service_id, hour_at, {COUNTER_COLUMNS}, peak_channels) \
             VALUES {} ON CONFLICT (org_id, service_id, hour_at) DO UPDATE SET {}, peak_channels = excluded.peak_channels",
            style.values(chunk.len(), 12),
            add_counters("call_hourly_by_service"),
        );
        let mut q = style.bind_org(sqlx::query::<Any>(&sql), org_id, false);
        for r in chunk {
            q = style.bind_org(q, org_id, true);
            q = bind_counters!(q.bind(r.service_id).bind(r.hour_at), r.add).bind(r.peak_channels);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Adds counters to the per-country hourly rollup: `(country, hour_at, counters)`.
pub async fn merge_country_hours(
    conn: &mut AnyConnection,
    org_id: &str,
    rows: &[(&str, i64, HourCounters)],
) -> Result<(), sqlx::Error> {
    let style = Placeholders::of(conn);
    for chunk in rows.chunks(CHUNK_ROWS) {
        let sql = format!(
            "INSERT INTO call_hourly_by_country (org_id, country, hour_at, {COUNTER_COLUMNS}) \
             VALUES {} ON CONFLICT (org_id, country, hour_at) DO UPDATE SET {}",
            style.values(chunk.len(), 11),
            add_counters("call_hourly_by_country"),
        );
        let mut q = style.bind_org(sqlx::query::<Any>(&sql), org_id, false);
        for (country, hour_at, c) in chunk {
            q = style.bind_org(q, org_id, true);
            q = bind_counters!(q.bind(*country).bind(*hour_at), c);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

// Reading calls: the list, one call, the CSV export's chunks.

/// Which calls to read: one organisation's calls whose start lies in `[from, to)`, narrowed by
/// every filter that is set. The values are used as given (the API layer checks them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallFilter {
    /// Start of the range, inclusive, UTC ms.
    pub from: i64,
    /// End of the range, exclusive, UTC ms.
    pub to: i64,
    /// `inbound` or `outbound`.
    pub direction: Option<String>,
    /// One result (`answered`, `busy`, …).
    pub result: Option<String>,
    /// An E.164 number that is the call's `from` or `to`.
    pub number: Option<String>,
    /// A service id.
    pub service_id: Option<String>,
    /// The far end's ISO 3166-1 alpha-2 code, upper case.
    pub country: Option<String>,
    /// The least MOS (calls without one are left out).
    pub min_mos: Option<f64>,
}

/// A call's place in the newest-first order by (start, id): reads continue after one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallKey {
    /// The call's start, UTC ms.
    pub started_at: i64,
    /// The carrier's call id.
    pub id: String,
}

/// A call as stored, with its service's name.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCall {
    /// The carrier's call id (unique within the organisation).
    pub id: String,
    /// The service that carried the call.
    pub service_id: String,
    /// That service's name.
    pub service_name: String,
    /// Start, UTC ms.
    pub started_at: i64,
    /// Answer, UTC ms, when answered.
    pub answered_at: Option<i64>,
    /// End, UTC ms.
    pub ended_at: i64,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// Calling number (E.164).
    pub from_number: String,
    /// Called number (E.164).
    pub to_number: String,
    /// `answered`, `busy`, `no_answer`, `failed` or `cancelled`.
    pub result: String,
    /// The final SIP status.
    pub sip_code: i64,
    /// Its text (may be empty).
    pub sip_reason: String,
    /// Mean opinion score, when known.
    pub mos: Option<f64>,
    /// Jitter in milliseconds, when known.
    pub jitter_ms: Option<f64>,
    /// Packet loss in percent, when known.
    pub packet_loss_pct: Option<f64>,
    /// The far end's ISO 3166-1 alpha-2 code.
    pub country: String,
}

impl StoredCall {
    /// Where a read continues after this call.
    pub fn key(&self) -> CallKey {
        CallKey {
            started_at: self.started_at,
            id: self.id.clone(),
        }
    }
}

/// The columns of a [`StoredCall`], from [`CALLS_WITH_SERVICE`].
const CALL_COLUMNS: &str = "c.id, c.service_id, s.name AS service_name, c.started_at, \
     c.answered_at, c.ended_at, c.direction, c.from_number, c.to_number, c.result, c.sip_code, \
     c.sip_reason, c.mos, c.jitter_ms, c.packet_loss_pct, c.country";

/// The calls joined with their services.
const CALLS_WITH_SERVICE: &str = "calls c JOIN services s ON s.id = c.service_id";

fn stored_call(row: &AnyRow) -> Result<StoredCall, sqlx::Error> {
    Ok(StoredCall {
        id: row.try_get("id")?,
        service_id: row.try_get("service_id")?,
        service_name: row.try_get("service_name")?,
        started_at: row.try_get("started_at")?,
        answered_at: row.try_get("answered_at")?,
        ended_at: row.try_get("ended_at")?,
        direction: row.try_get("direction")?,
        from_number: row.try_get("from_number")?,
        to_number: row.try_get("to_number")?,
        result: row.try_get("result")?,
        sip_code: row.try_get("sip_code")?,
        sip_reason: row.try_get("sip_reason")?,
        mos: row.try_get("mos")?,
        jitter_ms: row.try_get("jitter_ms")?,
        packet_loss_pct: row.try_get("packet_loss_pct")?,
        country: row.try_get("country")?,
    })
}

/// The organisation's call with the carrier's id `id`.
pub async fn find<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    id: &str,
) -> Result<Option<StoredCall>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {CALL_COLUMNS} FROM {CALLS_WITH_SERVICE} WHERE c.org_id = $1 AND c.id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(db)
    .await?
    .as_ref()
    .map(stored_call)
    .transpose()
}

/// At most `limit` of the organisation's calls matching `filter`, newest first by (start, id),
/// after `after` when given. Each statement is one walk of the `calls_by_org_start` index (or
/// of the service or number indexes).
///
/// With the number filter, the range is read in windows of days, newest first: the newest day,
/// then the six before it, then the rest, until `limit` calls are found (see
/// [`list_statements`]). A customer's own number fills a page from its last day; a number seen
/// a few times in the range costs three short probes.
pub async fn list<'a, A: Acquire<'a, Database = Any>>(
    db: A,
    org_id: &str,
    filter: &CallFilter,
    after: Option<&CallKey>,
    limit: i64,
) -> Result<Vec<StoredCall>, sqlx::Error> {
    let conditions = Conditions::of(filter, after);
    let mut conn = db.acquire().await?;
    let mut rows = Vec::new();
    for sql in list_statements(&conditions) {
        let missing = limit - rows.len() as i64;
        if missing <= 0 {
            break;
        }
        rows.extend(
            bind_all(sqlx::query(&sql).bind(org_id), &conditions.binds)
                .bind(missing)
                .fetch_all(&mut *conn)
                .await?,
        );
    }
    rows.iter().map(stored_call).collect()
}

/// The statements of a [`list`] read, in order; each ends with `LIMIT` on its last placeholder.
/// Without the number filter, one. With it, one per window of days (the newest day, the six
/// before it, the rest; empty windows left out): the windows are disjoint in time and read
/// newest first, so the calls come in the order of a single statement.
fn list_statements(c: &Conditions) -> Vec<String> {
    let mut sql = c.select(CALL_COLUMNS, CALLS_WITH_SERVICE);
    sql.push_str(&format!(
        " ORDER BY c.started_at DESC, c.id DESC LIMIT ${}",
        c.binds.len() + 2
    ));
    let Some(days) = &c.number_days else {
        return vec![sql];
    };
    let all = days_sql(days);
    let newest_first: Vec<i64> = days.iter().rev().copied().collect();
    let (first, rest) = newest_first.split_at(1.min(newest_first.len()));
    let (week, rest) = rest.split_at(6.min(rest.len()));
    [first, week, rest]
        .into_iter()
        .filter(|window| !window.is_empty())
        .map(|window| sql.replace(&all, &days_sql(window)))
        .collect()
}

/// The columns of an export chunk's calls, in the order of [`ExportedCall`]'s fields.
const EXPORT_COLUMNS: &str = "c.id, c.service_id, c.started_at, c.answered_at, c.ended_at, \
     c.direction, c.from_number, c.to_number, c.result, c.sip_code, c.sip_reason, c.mos, \
     c.jitter_ms, c.packet_loss_pct, c.country";

/// The same columns as the outer query of [`export_chunk`] names them.
const EXPORT_FIELDS: &str = "id, service_id, started_at, answered_at, ended_at, direction, \
     from_number, to_number, result, sip_code, sip_reason, mos, jitter_ms, packet_loss_pct, \
     country";

/// One call as an [`export_chunk`] text holds it: a JSON array of the call's fields in this
/// order (the service by id; timestamps UTC ms).
#[derive(Debug, Deserialize)]
pub struct ExportedCall<'a> {
    /// The carrier's call id.
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// The service that carried the call.
    #[serde(borrow)]
    pub service_id: Cow<'a, str>,
    /// Start, UTC ms.
    pub started_at: i64,
    /// Answer, UTC ms, when answered.
    pub answered_at: Option<i64>,
    /// End, UTC ms.
    pub ended_at: i64,
    /// `inbound` or `outbound`.
    #[serde(borrow)]
    pub direction: Cow<'a, str>,
    /// Calling number.
    #[serde(borrow)]
    pub from: Cow<'a, str>,
    /// Called number.
    #[serde(borrow)]
    pub to: Cow<'a, str>,
    /// The result.
    #[serde(borrow)]
    pub result: Cow<'a, str>,
    /// The final SIP status.
    pub sip_code: i64,
    /// Its text.
    #[serde(borrow)]
    pub sip_reason: Cow<'a, str>,
    /// Mean opinion score, when known.
    pub mos: Option<f64>,
    /// Jitter in milliseconds, when known.
    pub jitter_ms: Option<f64>,
    /// Packet loss in percent, when known.
    pub packet_loss_pct: Option<f64>,
    /// The far end's country.
    #[serde(borrow)]
    pub country: Cow<'a, str>,
}

impl ExportedCall<'_> {
    /// Where the next chunk starts: after this call.
    pub fn key(&self) -> CallKey {
        CallKey {
            started_at: self.started_at,
            id: self.id.to_string(),
        }
    }
}

/// At most `limit` of the organisation's calls matching `filter`, newest first by (start, id)
/// after `after` when given, as one JSON text: an array of [`ExportedCall`] arrays, built by the
/// engine's JSON aggregate. Through sqlx's SQLite worker every row is a hand-over between
/// threads, and at a row per call those hand-overs cost more than everything else in an export
/// together; one row per chunk does not.
pub async fn export_chunk<'e, E: Executor<'e, Database = Any>>(
    db: E,
    backend: Backend,
    org_id: &str,
    filter: &CallFilter,
    after: Option<&CallKey>,
    limit: i64,
) -> Result<String, sqlx::Error> {
    let conditions = Conditions::of(filter, after);
    let sql = export_sql(backend, &conditions, limit);
    bind_all(sqlx::query(&sql).bind(org_id), &conditions.binds)
        .fetch_one(db)
        .await?
        .try_get(0)
}

/// The statement of [`export_chunk`].
fn export_sql(backend: Backend, c: &Conditions, limit: i64) -> String {
    let mut inner = c.select(EXPORT_COLUMNS, "calls c");
    inner.push_str(&format!(
        " ORDER BY c.started_at DESC, c.id DESC LIMIT {limit}"
    ));
    // The aggregate orders its input itself: a subquery's order is not promised to survive into
    // an aggregate.
    let order = "ORDER BY started_at DESC, id DESC";
    match backend {
        Backend::Sqlite => {
            format!("SELECT json_group_array(json_array({EXPORT_FIELDS}) {order}) FROM ({inner}) x")
        }
        Backend::Postgres => format!(
            "SELECT COALESCE(json_agg(json_build_array({EXPORT_FIELDS}) {order}), '[]')::text \
             FROM ({inner}) x"
        ),
    }
}

/// A [`CallFilter`] (and where to continue) as SQL conditions after the organisation's (`$1`).
#[derive(Debug, Clone, PartialEq)]
struct Conditions {
    /// The conditions, joined with `AND`; their placeholders are numbered from `$2`.
    sql: Vec<String>,
    /// The values of those placeholders, in order.
    binds: Vec<Bind>,
    /// With the number filter over at most [`MAX_NUMBER_DAYS`] days: the days its condition
    /// names (it probes the (day, number) indexes; see [`Conditions::org_column`]).
    number_days: Option<Vec<i64>>,
}

impl Conditions {
    fn of(f: &CallFilter, after: Option<&CallKey>) -> Conditions {
        let mut c = Conditions {
            sql: Vec::new(),
            binds: Vec::new(),
            number_days: None,
        };
        c.push(|n| format!("c.started_at >= ${n}"), Bind::Int(f.from));
        c.push(|n| format!("c.started_at < ${n}"), Bind::Int(f.to));
        if let Some(v) = &f.direction {
            c.push(|n| format!("c.direction = ${n}"), Bind::Text(v.clone()));
        }
        if let Some(v) = &f.result {
            c.push(|n| format!("c.result = ${n}"), Bind::Text(v.clone()));
        }
        if let Some(v) = &f.number {
            // The number indexes are keyed by (organisation, start day, number): naming the
            // range's days lets each engine probe both indexes once per day. Two placeholders,
            // so that each side of the OR has its own.
            let n = c.binds.len() + 2;
            let days = days_in(f.from, f.to);
            if days.is_some() {
                for s in c.sql.iter_mut().take(2) {
                    *s = s.replace("c.started_at", "+c.started_at");
                }
            }
            c.sql.push(match days.as_deref().map(days_sql) {
                Some(days) => format!(
                    "((c.started_at / 86400000 IN ({days}) AND c.from_number = ${n}) \
                     OR (c.started_at / 86400000 IN ({days}) AND c.to_number = ${}))",
                    n + 1
                ),
                None => format!("(c.from_number = ${n} OR c.to_number = ${})", n + 1),
            });
            c.number_days = days;
            c.binds.push(Bind::Text(v.clone()));
            c.binds.push(Bind::Text(v.clone()));
        }
        if let Some(v) = &f.service_id {
            c.push(|n| format!("c.service_id = ${n}"), Bind::Text(v.clone()));
        }
        if let Some(v) = &f.country {
            c.push(|n| format!("c.country = ${n}"), Bind::Text(v.clone()));
        }
        if let Some(mos) = f.min_mos {
            c.push(|n| format!("c.mos >= ${n}"), Bind::Real(mos));
        }
        if let Some(key) = after {
            c.after(key);
        }
        c
    }

    fn push(&mut self, sql: impl FnOnce(usize) -> String, value: Bind) {
        let n = self.binds.len() + 2;
        self.sql.push(sql(n));
        self.binds.push(value);
    }

    /// Continues after the call `key`: (start, id) < (key's start, key's id). The range's upper
    /// bound (`$3`) becomes the key's start + 1, so the index range starts at the key: with a
    /// second upper bound beside the range's, SQLite seeks by the range's and walks every row of
    /// the earlier pages again (an export slowed down page by page).
    fn after(&mut self, key: &CallKey) {
        if let Some(Bind::Int(to)) = self.binds.get_mut(1) {
            *to = (*to).min(key.started_at.saturating_add(1));
        }
        let n = self.binds.len() + 2;
        self.sql
            .push(format!("(c.started_at < ${n} OR c.id < ${})", n + 1));
        self.binds.push(Bind::Int(key.started_at));
        self.binds.push(Bind::Text(key.id.clone()));
    }

    /// The organisation's column as its condition names it. With the number filter probing
    /// days, the organisation and range conditions are written so that no index can serve them
    /// (`c.org_id || ''`, `+c.started_at`): otherwise SQLite walks the whole (organisation,
    /// start) index newest first, looking for a rare number among millions of calls, instead of
    /// probing the two (day, number) indexes and sorting the few calls they hold.
    fn org_column(&self) -> &'static str {
        if self.number_days.is_some() {
            "c.org_id || ''"
        } else {
            "c.org_id"
        }
    }

    /// `SELECT columns FROM tables WHERE` the organisation's condition and these.
    fn select(&self, columns: &str, tables: &str) -> String {
        let mut sql = format!(
            "SELECT {columns} FROM {tables} WHERE {} = $1",
            self.org_column()
        );
        for c in &self.sql {
            sql.push_str(" AND ");
            sql.push_str(c);
        }
        sql
    }
}

/// The longest range, in days, whose number filter probes the number indexes day by day.
const MAX_NUMBER_DAYS: i64 = 400;

/// The UTC days (`ms / 86,400,000`) that `[from, to)` touches, ascending; `None` beyond
/// [`MAX_NUMBER_DAYS`] (the filter then scans the range instead of probing).
fn days_in(from: i64, to: i64) -> Option<Vec<i64>> {
    const DAY_MS: i64 = 86_400_000;
    let (first, last) = (from.div_euclid(DAY_MS), (to - 1).div_euclid(DAY_MS));
    if to <= from || last - first >= MAX_NUMBER_DAYS {
        return None;
    }
    Some((first..=last).collect())
}

/// `days` as an SQL list of integers (`20512,20513`), ascending as given. A single day is
/// written twice: SQLite turns `IN (d)` into `= d`, factors it out of both sides of the OR and
/// then reads the whole day from one index (145 ms p50 at 10 M calls, against 1 ms).
fn days_sql(days: &[i64]) -> String {
    let mut list: Vec<String> = days.iter().map(|d| d.to_string()).collect();
    if let [day] = days {
        list.push(day.to_string());
    }
    list.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order_of_first_use() {
        assert_eq!(
            Placeholders::Numbered.values(2, 2),
            "($1, $2, $3), ($1, $4, $5)"
        );
        assert_eq!(Placeholders::Anonymous.values(2, 2), "(?, ?, ?), (?, ?, ?)");
    }

    /// 2026-03-01T00:00:00Z, UTC day 20513.
    const MARCH_1: i64 = 1_772_323_200_000;
    const DAY: i64 = 86_400_000;

    /// What follows `WHERE` in each statement of a list read.
    fn list_conditions(filter: &CallFilter, after: Option<&CallKey>) -> Vec<String> {
        list_statements(&Conditions::of(filter, after))
            .iter()
            .map(|s| s.split_once(" WHERE ").unwrap().1.to_string())
            .collect()
    }

    // The benchmarks (bench/RESULTS.md) measured these statements: a change of their text is a
    // change of the plans SQLite and PostgreSQL choose, to be measured again.
    #[test]
    fn the_number_filter_probes_the_day_indexes_newest_days_first() {
        let filter = CallFilter {
            from: MARCH_1,
            to: MARCH_1 + 10 * DAY,
            number: Some("+4930901820".into()),
            service_id: Some("s".into()),
            ..CallFilter::default()
        };
        let probe = |days: &str| {
            format!(
                "c.org_id || '' = $1 AND +c.started_at >= $2 AND +c.started_at < $3 AND \
                 ((c.started_at / 86400000 IN ({days}) AND c.from_number = $4) OR \
                 (c.started_at / 86400000 IN ({days}) AND c.to_number = $5)) AND \
                 c.service_id = $6 ORDER BY c.started_at DESC, c.id DESC LIMIT $7"
            )
        };
        assert_eq!(
            list_conditions(&filter, None),
            [
                // A single day is named twice (see `days_sql`).
                probe("20522,20522"),
                probe("20521,20520,20519,20518,20517,20516"),
                probe("20515,20514,20513"),
            ]
        );
        let c = Conditions::of(&filter, None);
        assert_eq!(
            c.binds,
            [
                Bind::Int(MARCH_1),
                Bind::Int(MARCH_1 + 10 * DAY),
                Bind::Text("+4930901820".into()),
                Bind::Text("+4930901820".into()),
                Bind::Text("s".into()),
            ]
        );
    }

    #[test]
    fn beyond_400_days_the_number_filter_walks_the_range() {
        let mut filter = CallFilter {
            from: MARCH_1 - 400 * DAY,
            to: MARCH_1,
            number: Some("+4930901820".into()),
            ..CallFilter::default()
        };
        assert_eq!(list_conditions(&filter, None).len(), 3);
        filter.from -= DAY;
        assert_eq!(
            list_conditions(&filter, None),
            [
                "c.org_id = $1 AND c.started_at >= $2 AND c.started_at < $3 AND \
              (c.from_number = $4 OR c.to_number = $5) \
              ORDER BY c.started_at DESC, c.id DESC LIMIT $6"
            ]
        );
    }

    #[test]
    fn a_read_continues_after_a_call_from_its_start() {
        let filter = CallFilter {
            from: MARCH_1,
            to: MARCH_1 + DAY,
            direction: Some("inbound".into()),
            ..CallFilter::default()
        };
        let key = CallKey {
            started_at: MARCH_1 + 5,
            id: "c9".into(),
        };
        assert_eq!(
            list_conditions(&filter, Some(&key)),
            [
                "c.org_id = $1 AND c.started_at >= $2 AND c.started_at < $3 AND \
              c.direction = $4 AND (c.started_at < $5 OR c.id < $6) \
              ORDER BY c.started_at DESC, c.id DESC LIMIT $7"
            ]
        );
        // The range's upper bound moves to the key, so the index walk starts there.
        assert_eq!(
            Conditions::of(&filter, Some(&key)).binds[1],
            Bind::Int(MARCH_1 + 6)
        );
    }
}
