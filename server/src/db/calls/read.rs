//! Reading calls: the list, one call, the CSV export's chunks. A filter is a plain value
//! ([`CallFilter`]); its conditions are SQL built here, bound with `db::Bind`.

use std::borrow::Cow;

use serde::Deserialize;
use sqlx::{any::AnyRow, Acquire, Any, Executor, Row};

use crate::db::{bind_all, Backend, Bind};

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
