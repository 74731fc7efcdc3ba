//! Queries of the `calls` table: the CDR ingest's writes (the calls and their hourly rollups)
//! here, and the reads of the calls list, of one call and of the CSV export in `read`.
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

mod read;

pub use read::{export_chunk, find, list, CallFilter, CallKey, ExportedCall, StoredCall};

use std::fmt::Write;

use futures_util::TryStreamExt;
use sqlx::{Any, AnyConnection, Row};

use crate::db::Backend;
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
        match Backend::of(conn) {
            Backend::Sqlite => Placeholders::Anonymous,
            Backend::Postgres => Placeholders::Numbered,
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
    // Streamed into pairs rather than collected as rows: an hour can hold many thousands of
    // calls, and a row object costs several times its two numbers.
    let mut rows = q.fetch(&mut *conn);
    let mut spans = Vec::new();
    while let Some(r) = rows.try_next().await? {
        spans.push((r.try_get(0)?, r.try_get(1)?));
    }
    Ok(spans)
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
}
