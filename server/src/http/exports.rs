//! CSV exports of the organisation's data, streamed: `GET /api/v1/numbers/export.csv` and
//! `GET /api/v1/calls/export.csv`. Any role may read, and API tokens of the `read` and
//! `read_write` scopes; an `ingest` token reads nothing (403).
//!
//! Each export takes the filters of its list endpoint, parsed by that endpoint's own code, so a
//! bad filter answers the same 422 before a byte of CSV is sent (`limit` is ignored: an export
//! holds every matching row). The rows are read in keyset chunks of [`CHUNK`] and each chunk is
//! written out before the next is read, so memory stays flat whatever the row count and no
//! database connection is held between chunks.
//!
//! The calls export writes exactly the DESIGN exchange-format columns (the service by name,
//! timestamps RFC 3339 UTC), newest first like the list, so `portal calls import` of an export
//! finds every row a duplicate.

use std::{future::Future, sync::Arc};

use axum::{
    body::{Body, Bytes},
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use sqlx::{AnyPool, Row};

use utoipa_axum::{router::OpenApiRouter, routes};

use app::api::{calls::CallsQuery, ErrorBody};

use crate::{
    auth::caller::{Caller, Role},
    clock::rfc3339_ms,
    voice::cdr::HEADER as CDR_HEADER,
};

use super::{
    calls::{self, Bind, CallsParams},
    error::ApiQuery,
    numbers::{self, ListQuery},
    ApiResult, AppState,
};

/// Routes under `/api/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_numbers))
        .routes(routes!(export_calls))
}

/// Rows read (and written out) at a time: each chunk is one query that seeks to the previous
/// chunk's last row, and no connection is held between chunks.
const CHUNK: i64 = 5000;

const NUMBERS_HEADER: [&str; 12] = [
    "e164",
    "number_type",
    "country",
    "status",
    "service_id",
    "service",
    "assignment",
    "emergency_calling",
    "emergency_address_id",
    "emergency_address",
    "created_at",
    "updated_at",
];

/// Where the stream stands.
enum Step<K> {
    /// The header is next; then the rows after the key.
    Header(Option<K>),
    /// The rows after the key (from the first one when `None`).
    Rows(Option<K>),
    Done,
}

/// A chunk of CSV and the key of its last row, `None` once the last chunk was read.
type Chunk<K> = (Vec<u8>, Option<K>);

/// CSV lines for `records`, quoted as RFC 4180 wants.
fn csv_lines<I, R>(records: I) -> Result<Vec<u8>, csv::Error>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator,
    R::Item: AsRef<[u8]>,
{
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in records {
        w.write_record(r)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// A response body that writes `header`, then asks `fetch` for chunk after chunk until it
/// reports the last one. An error mid-stream is logged and ends the body abruptly, so the
/// client sees a failed download rather than a short file that looks complete.
fn csv_body<K, F, Fut>(header: &'static [&'static str], fetch: F) -> Body
where
    K: Send + 'static,
    F: Fn(Option<K>) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<Chunk<K>>> + Send + 'static,
{
    let stream = futures_util::stream::unfold(
        (fetch, Step::Header(None)),
        move |(fetch, step)| async move {
            let (result, next) = match step {
                Step::Done => return None,
                Step::Header(after) => match csv_lines([header]) {
                    Ok(bytes) => (Ok(bytes), Step::Rows(after)),
                    Err(e) => (Err(anyhow::Error::from(e)), Step::Done),
                },
                Step::Rows(after) => match fetch(after).await {
                    Ok((bytes, Some(last))) => (Ok(bytes), Step::Rows(Some(last))),
                    Ok((bytes, None)) => (Ok(bytes), Step::Done),
                    Err(e) => (Err(e), Step::Done),
                },
            };
            let item = result.map(Bytes::from).map_err(|e| {
                tracing::error!(error = ?e, "CSV export failed mid-stream");
                std::io::Error::other("the export failed; see the server log")
            });
            Some((item, (fetch, next)))
        },
    );
    Body::from_stream(stream)
}

/// The streamed answer with its CSV headers.
fn csv_response(name: &str, now_ms: i64, body: Body) -> Response {
    let day = rfc3339_ms(now_ms).get(..10).unwrap_or("export").to_string();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}-{day}.csv\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

/// `GET /api/v1/numbers/export.csv`: the numbers of `GET /numbers` with the same filters, by
/// E.164.
#[utoipa::path(
    get,
    path = "/numbers/export.csv",
    tag = "numbers",
    operation_id = "export_numbers_csv",
    summary = "Export numbers as CSV",
    params(ListQuery, ("org" = Option<String>, Query, description = "Carrier staff only: the slug of the organisation acted for")),
    responses(
        (status = 200, description = "Every number matching the filters of `GET /numbers` (`limit` ignored), as CSV with a header line", content_type = "text/csv", body = String),
        (status = 400, description = "`org_required`: carrier staff must name the organisation with `?org=SLUG`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid session or API token; `invalid_token` or `token_expired`: the Bearer token is unknown, revoked or expired; `mfa_required`: a sign-in waits for its code", body = ErrorBody),
        (status = 403, description = "`insufficient_role` or `insufficient_scope`: the caller's role or token scope does not allow this", body = ErrorBody),
        (status = 404, description = "`not_found`: no such organisation (or one that is not the caller's)", body = ErrorBody),
        (status = 422, description = "`invalid_query`, or `invalid_field` (with `field`): a filter is not valid (checked before any CSV is sent)", body = ErrorBody),
        (status = 500, description = "`internal`: a failure on the portal's side; quote `request_id` to support", body = ErrorBody),
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn export_numbers(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Response> {
    caller.require(Role::Viewer)?;
    let (conditions, binds) = numbers::filters(&query)?;
    let pool: AnyPool = state.db.pool().clone();
    let org_id = caller.org_id.clone();
    let binds = Arc::new(binds);
    let fetch = move |after: Option<String>| {
        let (pool, org_id, binds) = (pool.clone(), org_id.clone(), binds.clone());
        let mut sql = format!("{}{conditions}", numbers::SELECT);
        if after.is_some() {
            sql.push_str(&format!(" AND n.e164 > ${}", binds.len() + 2));
        }
        sql.push_str(&format!(" ORDER BY n.e164 LIMIT {CHUNK}"));
        async move {
            let mut q = sqlx::query(&sql).bind(org_id.as_str());
            for b in binds.iter() {
                q = q.bind(b.as_str());
            }
            if let Some(after) = &after {
                q = q.bind(after.as_str());
            }
            let rows = q.fetch_all(&pool).await?;
            let mut records = Vec::with_capacity(rows.len());
            for row in &rows {
                let n = numbers::number_info(row)?;
                records.push([
                    n.e164,
                    n.number_type,
                    n.country,
                    n.status,
                    n.service_id.unwrap_or_default(),
                    n.service_name.unwrap_or_default(),
                    n.assignment.unwrap_or_default(),
                    n.emergency_calling.to_string(),
                    n.emergency_address_id.unwrap_or_default(),
                    n.emergency_address_label.unwrap_or_default(),
                    n.created_at,
                    n.updated_at,
                ]);
            }
            let last = (rows.len() as i64 == CHUNK)
                .then(|| records.last().map(|r| r[0].clone()))
                .flatten();
            anyhow::Ok((csv_lines(records)?, last))
        }
    };
    Ok(csv_response(
        "numbers",
        state.clock.now_ms(),
        csv_body(&NUMBERS_HEADER, fetch),
    ))
}

/// A number as the CDR format writes it: empty when unknown.
fn optional_number(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// `GET /api/v1/calls/export.csv`: the calls of `GET /calls` with the same filters and range,
/// newest first by (start, id), in the CDR exchange format.
#[utoipa::path(
    get,
    path = "/calls/export.csv",
    tag = "calls",
    operation_id = "export_calls_csv",
    summary = "Export calls as CSV (the CDR exchange format)",
    params(CallsQuery, ("org" = Option<String>, Query, description = "Carrier staff only: the slug of the organisation acted for")),
    responses(
        (status = 200, description = "Every call matching the filters and range of `GET /calls` (`limit` ignored), newest first, in the CDR exchange format", content_type = "text/csv", body = String),
        (status = 400, description = "`org_required`: carrier staff must name the organisation with `?org=SLUG`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no valid session or API token; `invalid_token` or `token_expired`: the Bearer token is unknown, revoked or expired; `mfa_required`: a sign-in waits for its code", body = ErrorBody),
        (status = 403, description = "`insufficient_role` or `insufficient_scope`: the caller's role or token scope does not allow this", body = ErrorBody),
        (status = 404, description = "`not_found`: no such organisation (or one that is not the caller's)", body = ErrorBody),
        (status = 422, description = "`invalid_query`, or `invalid_field` (with `field`): a filter is not valid (checked before any CSV is sent)", body = ErrorBody),
        (status = 500, description = "`internal`: a failure on the portal's side; quote `request_id` to support", body = ErrorBody),
    ),
    security(("session" = []), ("api_token" = [])),
)]
async fn export_calls(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<CallsParams>,
) -> ApiResult<Response> {
    caller.require(Role::Viewer)?;
    let now = state.clock.now_ms();
    let f = calls::filters(&q, now)?;
    let pool: AnyPool = state.db.pool().clone();
    let org_id = caller.org_id.clone();
    let filters = Arc::new(f);
    let fetch = move |after: Option<(i64, String)>| {
        let (pool, org_id) = (pool.clone(), org_id.clone());
        let mut f = (*filters).clone();
        if let Some((start, id)) = after {
            f.after(start, id);
        }
        let mut sql = f.select();
        for c in &f.conditions {
            sql.push_str(" AND ");
            sql.push_str(c);
        }
        sql.push_str(&format!(
            " ORDER BY c.started_at DESC, c.id DESC LIMIT {CHUNK}"
        ));
        let binds = f.binds;
        async move {
            let mut query = sqlx::query(&sql).bind(org_id.as_str());
            for b in binds.iter() {
                query = match b {
                    Bind::Int(v) => query.bind(v),
                    Bind::Text(v) => query.bind(v.as_str()),
                    Bind::Real(v) => query.bind(v),
                };
            }
            let rows = query.fetch_all(&pool).await?;
            let mut records = Vec::with_capacity(rows.len());
            let mut last = None;
            for row in &rows {
                last = Some((row.try_get::<i64, _>("started_at")?, row.try_get("id")?));
                let c = calls::call_info(row)?;
                records.push([
                    c.id,
                    c.service,
                    c.start,
                    c.answer.unwrap_or_default(),
                    c.end,
                    c.direction,
                    c.from,
                    c.to,
                    c.result,
                    c.sip_code.to_string(),
                    c.sip_reason,
                    optional_number(c.mos),
                    optional_number(c.jitter_ms),
                    optional_number(c.packet_loss_pct),
                    c.country,
                ]);
            }
            let last = if rows.len() as i64 == CHUNK {
                last
            } else {
                None
            };
            anyhow::Ok((csv_lines(records)?, last))
        }
    };
    Ok(csv_response("calls", now, csv_body(&CDR_HEADER, fetch)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_quote_what_needs_quoting() {
        let bytes = csv_lines([["a,b", "say \"hi\"", "plain", ""]]).unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            "\"a,b\",\"say \"\"hi\"\"\",plain,\n"
        );
    }
}
