//! Reads of the hourly rollups (`call_hourly_by_service`, `call_hourly_by_country`) for the
//! analytics: their counters summed over a range, per service or per bucket. The CDR ingest
//! writes these tables in its own transaction, with the calls (`db::calls`).

use std::collections::BTreeMap;

use sqlx::{any::AnyRow, Any, Executor, Row};

/// Rollup counters summed over some hours.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Sums {
    /// Calls started.
    pub calls: i64,
    /// … answered.
    pub answered: i64,
    /// … busy.
    pub busy: i64,
    /// … not answered.
    pub no_answer: i64,
    /// Σ (end − answer) of the answered ones, ms.
    pub answered_ms: i64,
    /// Σ MOS of those with one.
    pub mos_sum: f64,
    /// How many had a MOS.
    pub mos_count: i64,
    /// The largest hourly peak of concurrent channels (per service only; 0 by country).
    pub peak: i64,
}

impl Sums {
    /// Adds `o`'s counters and keeps the larger peak.
    pub fn add(&mut self, o: &Sums) {
        self.calls += o.calls;
        self.answered += o.answered;
        self.busy += o.busy;
        self.no_answer += o.no_answer;
        self.answered_ms += o.answered_ms;
        self.mos_sum += o.mos_sum;
        self.mos_count += o.mos_count;
        self.peak = self.peak.max(o.peak);
    }
}

/// The summed counter columns (named like [`Sums`]' fields); `peak` only for services.
fn sums_sql(with_peak: bool) -> String {
    let peak = if with_peak {
        "CAST(MAX(r.peak_channels) AS BIGINT)"
    } else {
        "CAST(0 AS BIGINT)"
    };
    format!(
        "CAST(SUM(r.calls) AS BIGINT) AS calls, CAST(SUM(r.answered) AS BIGINT) AS answered, \
         CAST(SUM(r.busy) AS BIGINT) AS busy, CAST(SUM(r.no_answer) AS BIGINT) AS no_answer, \
         CAST(SUM(r.answered_ms) AS BIGINT) AS answered_ms, \
         CAST(SUM(r.mos_sum) AS DOUBLE PRECISION) AS mos_sum, \
         CAST(SUM(r.mos_count) AS BIGINT) AS mos_count, {peak} AS peak"
    )
}

fn sums(row: &AnyRow) -> Result<Sums, sqlx::Error> {
    Ok(Sums {
        calls: row.try_get("calls")?,
        answered: row.try_get("answered")?,
        busy: row.try_get("busy")?,
        no_answer: row.try_get("no_answer")?,
        answered_ms: row.try_get("answered_ms")?,
        mos_sum: row.try_get("mos_sum")?,
        mos_count: row.try_get("mos_count")?,
        peak: row.try_get("peak")?,
    })
}

/// The organisation's sums of the hours in `[from, to)` per service id (only the service
/// `only` when given); services without rollups in the range are absent.
pub async fn per_service<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    only: Option<&str>,
    from: i64,
    to: i64,
) -> Result<BTreeMap<String, Sums>, sqlx::Error> {
    let mut sql = format!(
        "SELECT r.service_id, {} FROM call_hourly_by_service r \
         WHERE r.org_id = $1 AND r.hour_at >= $2 AND r.hour_at < $3",
        sums_sql(true)
    );
    if only.is_some() {
        sql.push_str(" AND r.service_id = $4");
    }
    sql.push_str(" GROUP BY r.service_id");
    let mut query = sqlx::query(&sql).bind(org_id).bind(from).bind(to);
    if let Some(id) = only {
        query = query.bind(id);
    }
    query
        .fetch_all(db)
        .await?
        .iter()
        .map(|row| Ok((row.try_get::<String, _>("service_id")?, sums(row)?)))
        .collect()
}

/// What a series of [`buckets`] is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesBy {
    /// One series per service (`call_hourly_by_service`, with peaks).
    Service,
    /// One series per far-end country (`call_hourly_by_country`, no peaks).
    Country,
}

/// One series' sums in one bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketSums {
    /// The series: a service id or a country code.
    pub key: String,
    /// Its label: the service's name, or the country code.
    pub label: String,
    /// The service's channel limit (`None` by country).
    pub channel_limit: Option<i64>,
    /// The bucket's start, UTC ms (a multiple of its size).
    pub bucket_at: i64,
    /// The bucket's sums.
    pub sums: Sums,
}

/// The organisation's sums of the hours in `[from, to)` per series and bucket of `size_ms`
/// (an hour or a day); buckets without rollups are absent.
pub async fn buckets<'e, E: Executor<'e, Database = Any>>(
    db: E,
    org_id: &str,
    by: SeriesBy,
    size_ms: i64,
    from: i64,
    to: i64,
) -> Result<Vec<BucketSums>, sqlx::Error> {
    let size = size_ms;
    // Hours are non-negative, so integer division floors on both engines.
    let sql = match by {
        SeriesBy::Service => format!(
            "SELECT r.service_id AS k, s.name AS label, \
             CAST(s.channel_limit AS BIGINT) AS channel_limit, \
             (r.hour_at / {size}) * {size} AS b, {} \
             FROM call_hourly_by_service r \
             JOIN services s ON s.id = r.service_id AND s.org_id = r.org_id \
             WHERE r.org_id = $1 AND r.hour_at >= $2 AND r.hour_at < $3 \
             GROUP BY r.service_id, s.name, s.channel_limit, (r.hour_at / {size}) * {size}",
            sums_sql(true)
        ),
        SeriesBy::Country => format!(
            "SELECT r.country AS k, r.country AS label, CAST(NULL AS BIGINT) AS channel_limit, \
             (r.hour_at / {size}) * {size} AS b, {} \
             FROM call_hourly_by_country r \
             WHERE r.org_id = $1 AND r.hour_at >= $2 AND r.hour_at < $3 \
             GROUP BY r.country, (r.hour_at / {size}) * {size}",
            sums_sql(false)
        ),
    };
    sqlx::query(&sql)
        .bind(org_id)
        .bind(from)
        .bind(to)
        .fetch_all(db)
        .await?
        .iter()
        .map(|row| {
            Ok(BucketSums {
                key: row.try_get("k")?,
                label: row.try_get("label")?,
                channel_limit: row.try_get("channel_limit")?,
                bucket_at: row.try_get("b")?,
                sums: sums(row)?,
            })
        })
        .collect()
}
